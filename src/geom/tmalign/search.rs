//! The superposition search for a fixed alignment (`TMscore8_search`,
//! `score_fun8`, `get_score_fast`, `detailed_search`) and the iterative
//! refinement of the alignment by DP on the superposed chains (`DP_iter`).
//!
//! TM-score (Zhang & Skolnick 2004): TM = (1/L) Σ 1/(1 + (dᵢ/d0)²), maximised
//! over superpositions. The search seeds superpositions on fragments of the
//! aligned pairs (lengths L, L/2, … 4) and extends each by re-superposing the
//! pairs closer than d0_search ± 1 Å until the selection stops changing.

use super::dp::{self, Y2x};
use crate::geom::kabsch::{superpose, Transform};
use crate::Vec3;

/// Rotation of `mobile` onto `target` (TM-align's `Kabsch` in mode 1).
fn kabsch(mobile: &[Vec3], target: &[Vec3]) -> Transform {
    superpose(mobile, target).transform
}

/// Aligned pairs of `y2x` as two coordinate lists, in chain-2 order.
pub fn aligned_coords(x: &[Vec3], y: &[Vec3], y2x: &[Option<usize>]) -> (Vec<Vec3>, Vec<Vec3>) {
    let mut xa = Vec::new();
    let mut ya = Vec::new();
    for (j, i) in y2x.iter().enumerate() {
        if let Some(i) = *i {
            xa.push(x[i]);
            ya.push(y[j]);
        }
    }
    (xa, ya)
}

/// Settings of one TM-score search.
#[derive(Debug, Clone, Copy)]
pub struct Scoring {
    pub d0: f64,
    /// Distance cut-off scale for selecting pairs to superpose.
    pub d0_search: f64,
    /// With `Some(d8)`, only pairs closer than d8 count in the score (TM-align's
    /// `score_sum_method` 8, used during the search); `None` sums over all pairs.
    pub score_d8: Option<f64>,
    /// Normaliser of the score; `None` divides by the number of aligned pairs
    /// (the `_standard` variants).
    pub lnorm: Option<f64>,
}

/// `score_fun8`: the score of the superposed pairs and, in `sel`, the pairs
/// closer than `d` (relaxed by 0.5 Å steps until at least 3 are found).
fn score_fun8(xt: &[Vec3], y: &[Vec3], d: f64, sel: &mut Vec<usize>, s: &Scoring) -> f64 {
    let n = xt.len();
    let d02 = s.d0 * s.d0;
    let d8_cut = s.score_d8.map(|d8| d8 * d8);
    let mut d_tmp = d * d;
    let mut inc = 0;
    loop {
        sel.clear();
        let mut sum = 0.0;
        for k in 0..n {
            let di = (xt[k] - y[k]).norm_squared();
            if di < d_tmp {
                sel.push(k);
            }
            match d8_cut {
                Some(c) if di > c => {}
                _ => sum += 1.0 / (1.0 + di / d02),
            }
        }
        if sel.len() < 3 && n > 3 {
            inc += 1;
            let dinc = d + inc as f64 * 0.5;
            d_tmp = dinc * dinc;
        } else {
            let norm = s.lnorm.unwrap_or(n as f64);
            return if norm > 0.0 { sum / norm } else { 0.0 };
        }
    }
}

/// `TMscore8_search`: the best score over superpositions seeded on fragments of
/// the aligned pairs (`xtm[k]` with `ytm[k]`), and the transform achieving it.
/// Seeds start every `step` pairs (40 during the search, 1 for the final score).
pub fn tmscore8_search(xtm: &[Vec3], ytm: &[Vec3], step: usize, s: &Scoring) -> (f64, Transform) {
    let lali = xtm.len();
    const N_IT: usize = 20;
    const N_INIT_MAX: usize = 6;
    let l_ini_min = lali.min(4);
    let mut l_ini = Vec::with_capacity(N_INIT_MAX);
    let mut broke = false;
    for i in 0..N_INIT_MAX - 1 {
        let l = (lali as f64 / 2f64.powi(i as i32)) as usize;
        if l <= l_ini_min {
            l_ini.push(l_ini_min);
            broke = true;
            break;
        }
        l_ini.push(l);
    }
    if !broke {
        l_ini.push(l_ini_min);
    }

    let mut score_max = -1.0;
    let mut best = Transform::identity();
    let mut xt = vec![Vec3::zeros(); lali];
    let mut sel: Vec<usize> = Vec::with_capacity(lali);
    let mut prev: Vec<usize> = Vec::with_capacity(lali);
    let mut r1: Vec<Vec3> = Vec::with_capacity(lali);
    let mut r2: Vec<Vec3> = Vec::with_capacity(lali);
    let rotate = |t: &Transform, xt: &mut [Vec3]| {
        for (o, p) in xt.iter_mut().zip(xtm) {
            *o = t.apply(p);
        }
    };

    for &l_frag in &l_ini {
        let il_max = lali - l_frag;
        let mut i = 0;
        loop {
            let t = kabsch(&xtm[i..i + l_frag], &ytm[i..i + l_frag]);
            rotate(&t, &mut xt);
            let score = score_fun8(&xt, ytm, s.d0_search - 1.0, &mut sel, s);
            if score > score_max {
                score_max = score;
                best = t;
            }
            // Extend: superpose the selected pairs, reselect with a looser cut.
            let d = s.d0_search + 1.0;
            for _ in 0..N_IT {
                prev.clear();
                prev.extend_from_slice(&sel);
                r1.clear();
                r2.clear();
                for &m in &prev {
                    r1.push(xtm[m]);
                    r2.push(ytm[m]);
                }
                let t = kabsch(&r1, &r2);
                rotate(&t, &mut xt);
                let score = score_fun8(&xt, ytm, d, &mut sel, s);
                if score > score_max {
                    score_max = score;
                    best = t;
                }
                if sel == prev {
                    break;
                }
            }
            if i < il_max {
                i = (i + step).min(il_max);
            } else {
                break;
            }
        }
    }
    (score_max, best)
}

/// `detailed_search`: [`tmscore8_search`] on the aligned pairs of `y2x`.
pub fn detailed_search(
    x: &[Vec3],
    y: &[Vec3],
    y2x: &[Option<usize>],
    step: usize,
    s: &Scoring,
) -> (f64, Transform) {
    let (xtm, ytm) = aligned_coords(x, y, y2x);
    tmscore8_search(&xtm, &ytm, step, s)
}

/// `get_score_fast`: a quick TM-score-like estimate of an alignment from three
/// rounds of superposition (all pairs, then pairs within d0_search, then within
/// d0_search + 1 Å). Only used to rank initial alignments.
pub fn get_score_fast(
    x: &[Vec3],
    y: &[Vec3],
    y2x: &[Option<usize>],
    d0: f64,
    d0_search: f64,
) -> f64 {
    let (xtm, ytm) = aligned_coords(x, y, y2x);
    let n = xtm.len();
    if n == 0 {
        return 0.0;
    }
    let d02 = d0 * d0;
    let d002 = d0_search * d0_search;
    let score_all = |t: &Transform, dis: &mut [f64]| -> f64 {
        let mut s = 0.0;
        for k in 0..n {
            let di = (t.apply(&xtm[k]) - ytm[k]).norm_squared();
            dis[k] = di;
            s += 1.0 / (1.0 + di / d02);
        }
        s
    };
    // Pairs within the cut-off, raised to the third-smallest distance and then
    // in 0.5 Å² steps until at least three pairs are kept.
    let select = |dis: &[f64], base: f64, r1: &mut Vec<Vec3>, r2: &mut Vec<Vec3>| {
        let mut sorted = dis.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mut cut = base;
        let third = sorted[2.min(n - 1)];
        if cut < third {
            cut = third;
        }
        loop {
            r1.clear();
            r2.clear();
            for k in 0..n {
                if dis[k] <= cut {
                    r1.push(xtm[k]);
                    r2.push(ytm[k]);
                }
            }
            if r1.len() < 3 && n > 3 {
                cut += 0.5;
            } else {
                break;
            }
        }
    };

    let mut dis = vec![0.0; n];
    let t = kabsch(&xtm, &ytm);
    let tm0 = score_all(&t, &mut dis);
    let (mut r1, mut r2) = (Vec::with_capacity(n), Vec::with_capacity(n));
    select(&dis, d002, &mut r1, &mut r2);
    let (tm1, tm2) = if r1.len() != n {
        let t = kabsch(&r1, &r2);
        let tm1 = score_all(&t, &mut dis);
        select(&dis, d002 + 1.0, &mut r1, &mut r2);
        let t = kabsch(&r1, &r2);
        let mut scratch = vec![0.0; n];
        let tm2 = score_all(&t, &mut scratch);
        (tm1, tm2)
    } else {
        (tm0, tm0)
    };
    let mut tm = tm0;
    if tm1 >= tm {
        tm = tm1;
    }
    if tm2 >= tm {
        tm = tm2;
    }
    tm
}

/// `DP_iter`: alternate DP on the superposed chains (gap opening −0.6, then 0,
/// for gap indices `g1..g2`) with a TM-score search on the new alignment, until
/// the score stops changing. Returns the best score and its alignment.
#[allow(clippy::too_many_arguments)]
pub fn dp_iter(
    x: &[Vec3],
    y: &[Vec3],
    mut t: Transform,
    g1: usize,
    g2: usize,
    iteration_max: usize,
    s: &Scoring,
) -> (f64, Y2x) {
    const GAP_OPEN: [f64; 2] = [-0.6, 0.0];
    let d02 = s.d0 * s.d0;
    let mut tm_max = -1.0;
    let mut best: Y2x = vec![None; y.len()];
    let mut tm_old = 0.0;
    for &gap in &GAP_OPEN[g1..g2] {
        for iteration in 0..iteration_max {
            let y2x = dp::by_superposition(x, y, &t, d02, gap);
            let (tm, tt) = detailed_search(x, y, &y2x, 40, s);
            t = tt;
            if tm > tm_max {
                tm_max = tm;
                best = y2x;
            }
            if iteration > 0 && (tm_old - tm).abs() < 1e-6 {
                break;
            }
            tm_old = tm;
        }
    }
    (tm_max, best)
}
