//! TM-score, RMSD and GDT-TS of a model against a reference by residue
//! correspondence, computed as the Zhang lab TM-score program does (Zhang &
//! Skolnick, Proteins 2004; the C++ `TMscore` of 2019 and later, which US-align's
//! `-TMscore 1` mode shares).
//!
//! TM-score = max over superpositions of (1/L) Σ 1/(1 + (dᵢ/d0)²), with L the
//! number of Cα residues of the reference and d0 = 1.24·∛(L−15) − 1.8 (0.5 when
//! L ≤ 21 or when the formula gives less). The maximum is searched as the program
//! does: seed fragments of n, n/2, n/4, … down to 4 consecutive common residues,
//! at every start position; each seed is superposed, then the pairs closer than
//! d0_search ± 1 Å are re-superposed up to 20 times. Model and reference
//! residues are paired by residue number and insertion code.
//!
//! The program runs this search twice: first with its "search" parameters
//! (d0 + 0.8, sum limited to pairs within score_d8, normalised by the
//! common length), then with the final d0 normalised by L. The TM-score is the
//! second search's; GDT-TS counts (pairs under 1, 2, 4 and 8 Å) are the maxima
//! seen over the first search's superpositions and the second search's seeds,
//! which is where the program records them. RMSD is that of all common residues
//! after their own least-squares superposition.

use crate::geom::kabsch::{superpose, Transform};
use crate::structure::{Chain, Structure};
use crate::Vec3;
use std::collections::HashMap;

/// Scores of a model against a reference (see the module doc).
#[derive(Debug, Clone, Copy)]
pub struct TmScoreResult {
    /// TM-score normalised by the reference length `l_ref`.
    pub tm_score: f64,
    /// RMSD (Å) of the common residues after their least-squares superposition.
    pub rmsd: f64,
    /// GDT-TS: mean of the fractions of the reference's residues within 1, 2, 4, 8 Å.
    pub gdt_ts: f64,
    /// GDT-HA: the same with 0.5, 1, 2, 4 Å.
    pub gdt_ha: f64,
    /// Number of residues in common (paired).
    pub n_common: usize,
    /// The normalising length: Cα residues of the reference.
    pub l_ref: usize,
    /// The d0 (Å) of the TM-score.
    pub d0: f64,
    /// Moves the model onto the reference with the best TM-score.
    pub transform: Transform,
}

impl TmScoreResult {
    fn empty(l_ref: usize) -> Self {
        TmScoreResult {
            tm_score: 0.0,
            rmsd: 0.0,
            gdt_ts: 0.0,
            gdt_ha: 0.0,
            n_common: 0,
            l_ref,
            d0: d0_final(l_ref as f64),
            transform: Transform::identity(),
        }
    }
}

/// The TM-score d0 (Å) for normalising length `l` (the program's `parameter_set4final`).
pub fn d0_final(l: f64) -> f64 {
    let d0 = if l <= 21.0 {
        0.5
    } else {
        1.24 * (l - 15.0).cbrt() - 1.8
    };
    d0.max(0.5)
}

/// TM-score of paired coordinates: `model[i]` corresponds to `reference[i]`,
/// normalised by `l_ref` (the reference's full Cα count, ≥ the number of pairs).
pub fn tm_score_paired(model: &[Vec3], reference: &[Vec3], l_ref: usize) -> TmScoreResult {
    tm_score_paired_lengths(model, reference, l_ref, l_ref)
}

/// As [`tm_score_paired`], also given the model's Cα count `l_model`: the
/// program's first search normalises by min(l_model, l_ref), which shifts
/// GDT-TS slightly when the model is shorter than the reference.
pub fn tm_score_paired_lengths(
    model: &[Vec3],
    reference: &[Vec3],
    l_model: usize,
    l_ref: usize,
) -> TmScoreResult {
    assert_eq!(
        model.len(),
        reference.len(),
        "tm_score: unpaired coordinates"
    );
    let n = model.len();
    if n == 0 || l_ref == 0 {
        return TmScoreResult::empty(l_ref);
    }
    let mut gdt = [0usize; 5];
    let mut search = Search::new(model, reference);

    // First pass, the program's "detailed_search_standard": search parameters.
    let l_min = l_model.min(l_ref).max(1) as f64;
    let d0_s = if l_min <= 19.0 {
        0.168
    } else {
        1.24 * (l_min - 15.0).cbrt() - 1.8
    } + 0.8;
    search.run(
        &Params {
            d0: d0_s,
            d0_search: d0_s.clamp(4.5, 8.0),
            lnorm: n as f64,
            score_d8: Some(1.5 * l_min.powf(0.3) + 3.5),
            gdt_in_iterations: true,
        },
        &mut gdt,
    );

    // Least-squares superposition of every common residue, for the RMSD.
    let rmsd = superpose(model, reference).rmsd;

    // Second pass, the program's final TMscore8_search: d0 of the reference length.
    let l = l_ref as f64;
    let d0 = d0_final(l);
    let (tm_score, transform) = search.run(
        &Params {
            d0,
            d0_search: d0.clamp(4.5, 8.0),
            lnorm: l,
            score_d8: None,
            gdt_in_iterations: false,
        },
        &mut gdt,
    );

    let frac = |c: usize| c as f64 / l;
    TmScoreResult {
        tm_score,
        rmsd,
        gdt_ts: (frac(gdt[1]) + frac(gdt[2]) + frac(gdt[3]) + frac(gdt[4])) / 4.0,
        gdt_ha: (frac(gdt[0]) + frac(gdt[1]) + frac(gdt[2]) + frac(gdt[3])) / 4.0,
        n_common: n,
        l_ref,
        d0,
        transform,
    }
}

/// Cα pairs of two chains with the same residue number and insertion code, in
/// the reference's order. A residue number repeated in the model pairs with its
/// first occurrence (the program walks both chains in step, assuming ascending
/// numbering; for such chains the two rules agree).
pub fn common_residues(model: &Chain, reference: &Chain) -> (Vec<Vec3>, Vec<Vec3>) {
    let mut by_number: HashMap<(i32, Option<char>), Vec3> = HashMap::new();
    for r in &model.residues {
        if let Some(ca) = r.ca() {
            by_number.entry((r.seq_num, r.ins_code)).or_insert(ca);
        }
    }
    let mut m = Vec::new();
    let mut t = Vec::new();
    for r in &reference.residues {
        if let (Some(ca), Some(mc)) = (r.ca(), by_number.remove(&(r.seq_num, r.ins_code))) {
            m.push(mc);
            t.push(ca);
        }
    }
    (m, t)
}

/// TM-score of one chain against another, exactly as the TM-score program
/// compares two single-chain files (it reads only the first chain of each).
pub fn tm_score_chains(model: &Chain, reference: &Chain) -> TmScoreResult {
    let (m, t) = common_residues(model, reference);
    tm_score_paired_lengths(
        &m,
        &t,
        model.ca_residues().count(),
        reference.ca_residues().count(),
    )
}

/// TM-score of whole structures. Chains are paired by position (first with
/// first, second with second, …; ids may differ), residues within paired chains
/// by number and insertion code; L counts the Cα residues of every reference
/// chain, and one superposition serves all chains. For single-chain files this
/// is [`tm_score_chains`] of the first chains, i.e. the program's result; for
/// complexes the program itself scores only the first chain.
pub fn tm_score_structures(model: &Structure, reference: &Structure) -> TmScoreResult {
    let mut m = Vec::new();
    let mut t = Vec::new();
    for (mc, rc) in model.chains.iter().zip(&reference.chains) {
        let (a, b) = common_residues(mc, rc);
        m.extend(a);
        t.extend(b);
    }
    let l_ref = reference
        .chains
        .iter()
        .map(|c| c.ca_residues().count())
        .sum();
    let l_model = model.chains.iter().map(|c| c.ca_residues().count()).sum();
    tm_score_paired_lengths(&m, &t, l_model, l_ref)
}

struct Params {
    d0: f64,
    d0_search: f64,
    lnorm: f64,
    /// Sum only pairs within this distance (the program's score_sum_method 8).
    score_d8: Option<f64>,
    /// Record GDT counts after every iteration, not only after each seed.
    gdt_in_iterations: bool,
}

/// Scratch space for the superposition search over `n` pairs.
struct Search<'a> {
    x: &'a [Vec3],
    y: &'a [Vec3],
    r1: Vec<Vec3>,
    r2: Vec<Vec3>,
    i_ali: Vec<usize>,
    k_ali: Vec<usize>,
    dist2: Vec<f64>,
}

impl<'a> Search<'a> {
    fn new(x: &'a [Vec3], y: &'a [Vec3]) -> Self {
        let n = x.len();
        Search {
            x,
            y,
            r1: Vec::with_capacity(n),
            r2: Vec::with_capacity(n),
            i_ali: Vec::with_capacity(n),
            k_ali: Vec::with_capacity(n),
            dist2: vec![0.0; n],
        }
    }

    /// The program's TMscore8_search with simplify_step 1: returns the best score
    /// and its transform, raising `gdt` (counts under 0.5, 1, 2, 4, 8 Å) to the
    /// largest counts met where the program records them.
    fn run(&mut self, p: &Params, gdt: &mut [usize; 5]) -> (f64, Transform) {
        let n = self.x.len();
        let l_min = n.min(4);
        let mut l_ini = Vec::with_capacity(6);
        for i in 0..6 {
            let l = if i == 5 { l_min } else { n >> i };
            if l <= l_min {
                l_ini.push(l_min);
                break;
            }
            l_ini.push(l);
        }
        let mut best = (-1.0f64, Transform::identity());
        for &l_frag in &l_ini {
            for start in 0..=(n - l_frag) {
                self.k_ali.clear();
                self.k_ali.extend(start..start + l_frag);
                let tr = self.superpose_selected();
                let score = self.score(&tr, p.d0_search - 1.0, p, gdt, true);
                if score > best.0 {
                    best = (score, tr);
                }
                for _ in 0..20 {
                    std::mem::swap(&mut self.k_ali, &mut self.i_ali);
                    let tr = self.superpose_selected();
                    let score = self.score(&tr, p.d0_search + 1.0, p, gdt, p.gdt_in_iterations);
                    if score > best.0 {
                        best = (score, tr);
                    }
                    if self.i_ali == self.k_ali {
                        break;
                    }
                }
            }
        }
        best
    }

    /// Superposes the pairs listed in `k_ali`.
    fn superpose_selected(&mut self) -> Transform {
        self.r1.clear();
        self.r2.clear();
        for &k in &self.k_ali {
            self.r1.push(self.x[k]);
            self.r2.push(self.y[k]);
        }
        superpose(&self.r1, &self.r2).transform
    }

    /// The program's score_fun8: fills `i_ali` with the pairs closer than `d`
    /// (relaxed by 0.5 Å steps until at least 3 are found) and returns the score.
    fn score(
        &mut self,
        tr: &Transform,
        d: f64,
        p: &Params,
        gdt: &mut [usize; 5],
        record: bool,
    ) -> f64 {
        let d02 = p.d0 * p.d0;
        let d8_2 = p.score_d8.map(|d8| d8 * d8);
        let mut sum = 0.0;
        let mut counts = [0usize; 5];
        for k in 0..self.x.len() {
            let di = (tr.apply(&self.x[k]) - self.y[k]).norm_squared();
            self.dist2[k] = di;
            if d8_2.is_none_or(|c| di <= c) {
                sum += 1.0 / (1.0 + di / d02);
            }
            for (c, cut2) in counts.iter_mut().zip([0.25, 1.0, 4.0, 16.0, 64.0]) {
                if di < cut2 {
                    *c += 1;
                }
            }
        }
        if record {
            for (g, c) in gdt.iter_mut().zip(counts) {
                *g = (*g).max(c);
            }
        }
        let n = self.x.len();
        let mut inc = 0;
        loop {
            let dd = d + inc as f64 * 0.5;
            let cut = dd * dd;
            self.i_ali.clear();
            self.i_ali.extend((0..n).filter(|&k| self.dist2[k] < cut));
            if self.i_ali.len() < 3 && n > 3 {
                inc += 1;
            } else {
                break;
            }
        }
        sum / p.lnorm
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Rotation3;

    fn helix(n: usize) -> Vec<Vec3> {
        (0..n)
            .map(|i| {
                let t = i as f64 * 100f64.to_radians();
                Vec3::new(2.3 * t.cos(), 2.3 * t.sin(), 1.5 * i as f64)
            })
            .collect()
    }

    #[test]
    fn d0_follows_the_program() {
        // 1.24·∛(100−15) − 1.8, and the 0.5 floor for short chains.
        assert!((d0_final(100.0) - (1.24 * 85f64.cbrt() - 1.8)).abs() < 1e-12);
        assert_eq!(d0_final(10.0), 0.5);
        assert_eq!(d0_final(21.0), 0.5);
        assert!(d0_final(22.0) > 0.5);
    }

    #[test]
    fn a_moved_copy_scores_one() {
        let y = helix(60);
        let r = Rotation3::from_euler_angles(0.4, 1.2, -2.0);
        let x: Vec<Vec3> = y
            .iter()
            .map(|p| r * p + Vec3::new(5.0, -3.0, 8.0))
            .collect();
        let s = tm_score_paired(&x, &y, y.len());
        assert!((s.tm_score - 1.0).abs() < 1e-9, "{}", s.tm_score);
        assert!(s.rmsd < 1e-9);
        assert!((s.gdt_ts - 1.0).abs() < 1e-12);
        assert_eq!(s.n_common, 60);
        let back = s.transform.apply(&x[7]);
        assert!((back - y[7]).norm() < 1e-9);
    }

    #[test]
    fn missing_residues_count_against_the_reference_length() {
        // Half the reference modelled perfectly: TM-score and GDT-TS are 1/2.
        let y = helix(80);
        let s = tm_score_paired(&y[..40], &y[..40], 80);
        assert!((s.tm_score - 0.5).abs() < 1e-9);
        assert!((s.gdt_ts - 0.5).abs() < 1e-12);
    }

    #[test]
    fn no_common_residues_scores_zero() {
        let s = tm_score_paired(&[], &[], 50);
        assert_eq!(s.tm_score, 0.0);
        assert_eq!(s.n_common, 0);
    }
}
