//! TM-align's five kinds of initial alignment, each later refined by
//! [`super::search::dp_iter`]:
//!
//! 1. `get_initial`: gapless threading of one chain along the other;
//! 2. `get_initial_ss`: DP on secondary-structure codes;
//! 3. `get_initial5`: DP after superposing pairs of local fragments;
//! 4. `get_initial_ssplus`: DP on the TM-score terms of the best alignment so
//!    far plus a bonus for equal secondary structure;
//! 5. `get_initial_fgt`: gapless threading of the longest continuous fragment.

use super::dp::{self, Y2x};
use super::search::{aligned_coords, get_score_fast};
use crate::geom::kabsch::superpose;
use crate::Vec3;

/// Gapless alignment with chain 1 shifted by `k` against chain 2.
fn shifted(xlen: usize, ylen: usize, k: i64) -> Y2x {
    (0..ylen as i64)
        .map(|j| {
            let i = j + k;
            (i >= 0 && i < xlen as i64).then_some(i as usize)
        })
        .collect()
}

/// `get_initial`: the best gapless threading, overlap at least half the shorter chain.
pub fn gapless(x: &[Vec3], y: &[Vec3], d0: f64, d0_search: f64) -> Y2x {
    let (xlen, ylen) = (x.len(), y.len());
    let min_ali = (xlen.min(ylen) / 2).max(5) as i64;
    let n1 = -(ylen as i64) + min_ali;
    let n2 = xlen as i64 - min_ali;
    let mut best_k = n1;
    let mut best = -1.0;
    for k in n1..=n2 {
        let s = get_score_fast(x, y, &shifted(xlen, ylen, k), d0, d0_search);
        if s >= best {
            best = s;
            best_k = k;
        }
    }
    shifted(xlen, ylen, best_k)
}

/// `get_initial_ss`: DP on secondary-structure codes with gap opening −1.
pub fn secondary_structure(secx: &[u8], secy: &[u8]) -> Y2x {
    dp::by_secondary_structure(secx, secy, -1.0)
}

fn jump(len: usize) -> usize {
    let j = match len {
        l if l > 250 => 45,
        l if l > 200 => 35,
        l if l > 150 => 25,
        _ => 15,
    };
    j.min(len / 3).max(1)
}

/// `get_initial5`: superpose every pair of local fragments (20 and 100 residues,
/// at most a third and a half of the shorter chain, starts spaced 15–45
/// residues), align by DP with free gaps, keep the best by the fast score.
/// `None` when no fragment pair gives a positive score.
pub fn local_superposition(
    x: &[Vec3],
    y: &[Vec3],
    d0: f64,
    d0_search: f64,
    d0_min: f64,
) -> Option<Y2x> {
    let (xlen, ylen) = (x.len(), y.len());
    let d01 = (d0 + 1.5).max(d0_min);
    let d02 = d01 * d01;
    let al = xlen.min(ylen);
    let (jump1, jump2) = (jump(xlen), jump(ylen));
    let n_frag = [20.min(al / 3), 100.min(al / 2)];
    let mut gl_max = 0.0;
    let mut best = None;
    for &nf in &n_frag {
        if nf == 0 {
            continue;
        }
        let m1 = xlen - nf + 1;
        let m2 = ylen - nf + 1;
        for i in (0..m1).step_by(jump1) {
            for j in (0..m2).step_by(jump2) {
                let t = superpose(&x[i..i + nf], &y[j..j + nf]).transform;
                let y2x = dp::by_superposition(x, y, &t, d02, 0.0);
                let gl = get_score_fast(x, y, &y2x, d0, d0_search);
                if gl > gl_max {
                    gl_max = gl;
                    best = Some(y2x);
                }
            }
        }
    }
    best
}

/// `get_initial_ssplus` (with `score_matrix_rmsd_sec`): superpose by the
/// alignment `y2x0`, then DP (gap opening −1) on 1/(1 + d²/d01²), plus 0.5
/// where the secondary-structure codes agree.
#[allow(clippy::too_many_arguments)]
pub fn secondary_structure_plus(
    x: &[Vec3],
    y: &[Vec3],
    secx: &[u8],
    secy: &[u8],
    y2x0: &[Option<usize>],
    d0_min: f64,
    d0: f64,
) -> Y2x {
    let d01 = (d0 + 1.5).max(d0_min);
    let d02 = d01 * d01;
    let (xa, ya) = aligned_coords(x, y, y2x0);
    let t = superpose(&xa, &ya).transform;
    let (xlen, ylen) = (x.len(), y.len());
    let mut score = vec![0.0; xlen * ylen];
    for i in 0..xlen {
        let xx = t.apply(&x[i]);
        for j in 0..ylen {
            let dij = (xx - y[j]).norm_squared();
            let bonus = if secx[i] == secy[j] { 0.5 } else { 0.0 };
            score[i * ylen + j] = 1.0 / (1.0 + dij / d02) + bonus;
        }
    }
    dp::by_table(&score, xlen, ylen, -1.0)
}

/// `find_max_frag`: first and last index of the longest run of consecutive Cα
/// closer than `dcu0` (the cut grows by 10 % until the run reaches
/// min(4, len/3) residues).
fn find_max_frag(x: &[Vec3], dcu0: f64) -> (usize, usize) {
    let len = x.len();
    const FRA_MIN: usize = 4;
    let r_min = ((len as f64 / 3.0) as usize).min(FRA_MIN);
    let mut dcu_cut = dcu0 * dcu0;
    let mut inc = 0;
    let (mut start_max, mut end_max) = (0, 0);
    let mut lfr_max = 0;
    while lfr_max < r_min {
        lfr_max = 0;
        let mut j = 1;
        let mut start = 0;
        for i in 1..len {
            if (x[i - 1] - x[i]).norm_squared() < dcu_cut {
                j += 1;
                if i == len - 1 {
                    if j > lfr_max {
                        lfr_max = j;
                        start_max = start;
                        end_max = i;
                    }
                    j = 1;
                }
            } else {
                if j > lfr_max {
                    lfr_max = j;
                    start_max = start;
                    end_max = i - 1;
                }
                j = 1;
                start = i;
            }
        }
        if lfr_max < r_min {
            inc += 1;
            let dinc = 1.1f64.powi(inc) * dcu0;
            dcu_cut = dinc * dinc;
        }
    }
    (start_max, end_max)
}

/// Drops the first 10 % and last 11 % of a fragment that spans a whole chain
/// of length `l0`, so that threading it differs from `get_initial`.
fn trim_if_whole(ifr: &mut Vec<usize>, l0: usize) {
    if ifr.len() == l0 {
        let n1 = (l0 as f64 * 0.1) as usize;
        let n2 = (l0 as f64 * 0.89) as usize;
        *ifr = ifr[n1..=n2].to_vec();
    }
}

/// Thread fragment `ifr` of chain 1 gaplessly along chain 2 (`step` apart).
fn thread_x_fragment(
    x: &[Vec3],
    y: &[Vec3],
    ifr: &[usize],
    step: usize,
    d0: f64,
    d0_search: f64,
    best: &mut (f64, Y2x),
) {
    const FRA_MIN1: usize = 3;
    let ylen = y.len();
    let l1 = ifr.len();
    let min_ali = (((l1.min(ylen)) as f64 / 2.5) as usize).max(FRA_MIN1) as i64;
    let n1 = -(ylen as i64) + min_ali;
    let n2 = l1 as i64 - min_ali;
    let mut k = n1;
    while k <= n2 {
        let y2x: Y2x = (0..ylen as i64)
            .map(|j| {
                let i = j + k;
                (i >= 0 && i < l1 as i64).then(|| ifr[i as usize])
            })
            .collect();
        let s = get_score_fast(x, y, &y2x, d0, d0_search);
        if s >= best.0 {
            *best = (s, y2x);
        }
        k += step as i64;
    }
}

/// Thread fragment `ifr` of chain 2 gaplessly along chain 1.
fn thread_y_fragment(
    x: &[Vec3],
    y: &[Vec3],
    ifr: &[usize],
    d0: f64,
    d0_search: f64,
    best: &mut (f64, Y2x),
) {
    const FRA_MIN1: usize = 3;
    let xlen = x.len();
    let l2 = ifr.len();
    let min_ali = (((xlen.min(l2)) as f64 / 2.5) as usize).max(FRA_MIN1) as i64;
    let n1 = -(l2 as i64) + min_ali;
    let n2 = xlen as i64 - min_ali;
    for k in n1..=n2 {
        let mut y2x: Y2x = vec![None; y.len()];
        for (j, &fj) in ifr.iter().enumerate() {
            let i = j as i64 + k;
            if i >= 0 && i < xlen as i64 {
                y2x[fj] = Some(i as usize);
            }
        }
        let s = get_score_fast(x, y, &y2x, d0, d0_search);
        if s >= best.0 {
            *best = (s, y2x);
        }
    }
}

/// `get_initial_fgt`: gapless threading of the longest continuous fragment of
/// the chain whose fragment is shorter along the other chain.
pub fn fragment_threading(x: &[Vec3], y: &[Vec3], d0: f64, d0_search: f64, dcu0: f64) -> Y2x {
    let (xlen, ylen) = (x.len(), y.len());
    let (xstart, xend) = find_max_frag(x, dcu0);
    let (ystart, yend) = find_max_frag(y, dcu0);
    let lx = xend - xstart + 1;
    let ly = yend - ystart + 1;
    let l_fr = lx.min(ly);
    let mut best: (f64, Y2x) = (-1.0, vec![None; ylen]);

    if lx == ly && xlen == ylen {
        // Both candidates tried, so that swapping the chains gives the same result.
        let l0 = xlen;
        let mut ifr: Vec<usize> = (xstart..xstart + l_fr).collect();
        trim_if_whole(&mut ifr, l0);
        thread_x_fragment(x, y, &ifr, 1, d0, d0_search, &mut best);
        let mut ifr: Vec<usize> = (ystart..ystart + ly).collect();
        trim_if_whole(&mut ifr, l0);
        thread_y_fragment(x, y, &ifr, d0, d0_search, &mut best);
        return best.1;
    }

    let use_x = lx < ly || (lx == ly && xlen < ylen);
    let mut ifr: Vec<usize> = if use_x {
        (xstart..xstart + l_fr).collect()
    } else {
        (ystart..ystart + l_fr).collect()
    };
    trim_if_whole(&mut ifr, xlen.min(ylen));
    if use_x {
        thread_x_fragment(x, y, &ifr, 1, d0, d0_search, &mut best);
    } else {
        thread_y_fragment(x, y, &ifr, d0, d0_search, &mut best);
    }
    best.1
}
