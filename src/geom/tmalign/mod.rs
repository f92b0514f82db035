//! Sequence-independent structural alignment of two Cα chains by TM-align's
//! algorithm (Zhang & Skolnick 2005, NAR 33:2302), ported function by function
//! from US-align's `TMalign_main` (protein, default options).
//!
//! The alignment maximises TM-score = (1/L) Σ 1/(1 + (dᵢ/d0)²) with
//! d0 = 1.24·∛(L − 15) − 1.8 (0.5 Å for L ≤ 21, and never below 0.5 Å).
//! Five initial alignments (`initial`) are each refined by alternating DP on
//! the superposed chains and TM-score superposition search (`search`); the
//! best alignment is then superposed once more, pairs farther apart than
//! score_d8 = 1.5·L_min^0.3 + 3.5 Å are dropped, and TM-score is computed on
//! the rest normalised by either chain's length.
//!
//! Superpositions use [`crate::geom::kabsch::superpose`] (SVD) instead of the
//! program's `u3b`; both give the least-squares rotation, so results agree to
//! rounding.

mod dp;
mod initial;
mod search;
pub mod sec;

use crate::geom::kabsch::{superpose, Transform};
use crate::Vec3;
use search::{detailed_search, dp_iter, tmscore8_search, Scoring};

/// Result of [`tm_align`]; chain 1 is the first argument, chain 2 the second.
#[derive(Debug, Clone)]
pub struct TmAlignResult {
    /// TM-score normalised by the length of chain 1.
    pub tm_score_1: f64,
    /// TM-score normalised by the length of chain 2.
    pub tm_score_2: f64,
    /// RMSD (Å) of the `alignment` pairs after their own optimal superposition.
    pub rmsd: f64,
    /// Number of `alignment` pairs (TM-align's "Aligned length").
    pub aligned_length: usize,
    /// Identical residues among the `alignment` pairs divided by the length of
    /// chain 1 (US-align's tabular `ID1`).
    pub seq_identity: f64,
    /// The aligned pairs `(index in chain 1, index in chain 2)`, increasing,
    /// restricted, as TM-align reports them, to pairs within score_d8
    /// (1.5·L_min^0.3 + 3.5 Å) after the final superposition.
    pub alignment: Vec<(usize, usize)>,
    /// The superposition that moves chain 1 onto chain 2 (the one that
    /// maximises the TM-score normalised by chain 2, as TM-align outputs).
    pub transform: Transform,
}

impl TmAlignResult {
    fn empty() -> Self {
        TmAlignResult {
            tm_score_1: 0.0,
            tm_score_2: 0.0,
            rmsd: 0.0,
            aligned_length: 0,
            seq_identity: 0.0,
            alignment: Vec::new(),
            transform: Transform::identity(),
        }
    }
}

/// d0 and d0_search of the final score for normalising length `len`
/// (`parameter_set4final`, protein).
fn final_d0(len: f64) -> (f64, f64) {
    const D0_MIN: f64 = 0.5;
    let d0 = if len <= 21.0 {
        0.5
    } else {
        1.24 * (len - 15.0).cbrt() - 1.8
    }
    .max(D0_MIN);
    (d0, d0.clamp(4.5, 8.0))
}

/// TM-align of chain 1 (`ca1`, one-letter `seq1`) onto chain 2 (`ca2`, `seq2`).
///
/// Chains with fewer than 3 residues (which TM-align refuses) give a result of
/// zeros with an empty alignment. `seq1`/`seq2` are only used for the sequence
/// identity; when shorter than their chains the missing residues count as
/// non-identical.
pub fn tm_align(ca1: &[Vec3], seq1: &[u8], ca2: &[Vec3], seq2: &[u8]) -> TmAlignResult {
    let (x, y) = (ca1, ca2);
    let (xlen, ylen) = (x.len(), y.len());
    if xlen.min(ylen) < 3 {
        return TmAlignResult::empty();
    }

    // parameter_set4search: a larger d0 than the final one during the search.
    let lnorm = xlen.min(ylen) as f64;
    let d0_raw = if lnorm <= 19.0 {
        0.168
    } else {
        1.24 * (lnorm - 15.0).cbrt() - 1.8
    };
    let d0_min = d0_raw + 0.8;
    let d0 = d0_min;
    let d0_search = d0.clamp(4.5, 8.0);
    let score_d8 = 1.5 * lnorm.powf(0.3) + 3.5;
    let dcu0 = 4.25;
    let scoring = Scoring {
        d0,
        d0_search,
        score_d8: Some(score_d8),
        lnorm: Some(lnorm),
    };
    let ddcc = if lnorm <= 40.0 { 0.1 } else { 0.4 };
    let secx = sec::assign(x);
    let secy = sec::assign(y);

    let mut tm_max = -1.0;
    let mut best: Vec<Option<usize>> = vec![None; ylen];
    // Keeps the alignment with the highest search score (strictly higher wins).
    fn consider(tm: f64, y2x: &[Option<usize>], tm_max: &mut f64, best: &mut [Option<usize>]) {
        if tm > *tm_max {
            *tm_max = tm;
            best.copy_from_slice(y2x);
        }
    }

    // 1. Gapless threading.
    let y2x = initial::gapless(x, y, d0, d0_search);
    let (tm, t) = detailed_search(x, y, &y2x, 40, &scoring);
    consider(tm, &y2x, &mut tm_max, &mut best);
    let (tm, y2x) = dp_iter(x, y, t, 0, 2, 30, &scoring);
    consider(tm, &y2x, &mut tm_max, &mut best);

    // 2. Secondary structure.
    let y2x = initial::secondary_structure(&secx, &secy);
    let (tm, t) = detailed_search(x, y, &y2x, 40, &scoring);
    consider(tm, &y2x, &mut tm_max, &mut best);
    if tm > tm_max * 0.2 {
        let (tm, y2x) = dp_iter(x, y, t, 0, 2, 30, &scoring);
        consider(tm, &y2x, &mut tm_max, &mut best);
    }

    // 3. Local superposition.
    if let Some(y2x) = initial::local_superposition(x, y, d0, d0_search, d0_min) {
        let (tm, t) = detailed_search(x, y, &y2x, 40, &scoring);
        consider(tm, &y2x, &mut tm_max, &mut best);
        if tm > tm_max * ddcc {
            let (tm, y2x) = dp_iter(x, y, t, 0, 2, 2, &scoring);
            consider(tm, &y2x, &mut tm_max, &mut best);
        }
    }

    // 4. Secondary structure plus the best superposition so far.
    let best_so_far = best.clone();
    let y2x = initial::secondary_structure_plus(x, y, &secx, &secy, &best_so_far, d0_min, d0);
    let (tm, t) = detailed_search(x, y, &y2x, 40, &scoring);
    consider(tm, &y2x, &mut tm_max, &mut best);
    if tm > tm_max * ddcc {
        let (tm, y2x) = dp_iter(x, y, t, 0, 2, 30, &scoring);
        consider(tm, &y2x, &mut tm_max, &mut best);
    }

    // 5. Fragment gapless threading (refined with free gaps only).
    let y2x = initial::fragment_threading(x, y, d0, d0_search, dcu0);
    let (tm, t) = detailed_search(x, y, &y2x, 40, &scoring);
    consider(tm, &y2x, &mut tm_max, &mut best);
    if tm > tm_max * ddcc {
        let (tm, y2x) = dp_iter(x, y, t, 1, 2, 2, &scoring);
        consider(tm, &y2x, &mut tm_max, &mut best);
    }

    if best.iter().all(Option::is_none) {
        return TmAlignResult::empty();
    }

    // Final superposition of the best alignment (all seeds, score averaged
    // over the aligned pairs), then keep the pairs within score_d8.
    let standard = Scoring {
        lnorm: None,
        ..scoring
    };
    let (_, t) = detailed_search(x, y, &best, 1, &standard);
    let mut alignment = Vec::new();
    let (mut xtm, mut ytm, mut r1) = (Vec::new(), Vec::new(), Vec::new());
    for (j, i) in best.iter().enumerate() {
        if let Some(i) = *i {
            let xi = t.apply(&x[i]);
            if (xi - y[j]).norm() <= score_d8 {
                alignment.push((i, j));
                xtm.push(x[i]);
                ytm.push(y[j]);
                r1.push(xi);
            }
        }
    }
    let rmsd = superpose(&r1, &ytm).rmsd;

    let final_score = |len: usize| {
        let (d0, d0_search) = final_d0(len as f64);
        let s = Scoring {
            d0,
            d0_search,
            score_d8: None,
            lnorm: Some(len as f64),
        };
        tmscore8_search(&xtm, &ytm, 1, &s)
    };
    let (tm_score_2, transform) = final_score(ylen);
    let (tm_score_1, _) = final_score(xlen);

    let identical = alignment
        .iter()
        .filter(|&&(i, j)| matches!((seq1.get(i), seq2.get(j)), (Some(a), Some(b)) if a == b))
        .count();
    TmAlignResult {
        tm_score_1,
        tm_score_2,
        rmsd,
        aligned_length: alignment.len(),
        seq_identity: identical as f64 / xlen as f64,
        alignment,
        transform,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_d0_follows_the_program() {
        assert_eq!(final_d0(10.0), (0.5, 4.5));
        assert_eq!(final_d0(21.0), (0.5, 4.5));
        let (d0, _) = final_d0(100.0);
        assert!((d0 - (1.24 * 85f64.cbrt() - 1.8)).abs() < 1e-12);
        // 1.24·∛(22 − 15) − 1.8 ≈ 0.57: above the 0.5 Å floor.
        assert!(final_d0(22.0).0 > 0.5);
    }

    #[test]
    fn chains_shorter_than_three_give_an_empty_result() {
        let a = [Vec3::zeros(), Vec3::new(3.8, 0.0, 0.0)];
        let b: Vec<Vec3> = (0..10)
            .map(|i| Vec3::new(3.8 * i as f64, 0.0, 0.0))
            .collect();
        let r = tm_align(&a, b"AA", &b, b"AAAAAAAAAA");
        assert_eq!(
            (r.tm_score_1, r.tm_score_2, r.aligned_length),
            (0.0, 0.0, 0)
        );
        assert!(r.alignment.is_empty());
    }
}
