//! Sequence–trace alignment with gaps: which residue sits on which atom of a
//! Cα trace when the trace misses atoms (two residues per step) or holds
//! false ones (an atom with no residue).
//!
//! Gapless threading (`regenerate`, the paper's) shifts the register by one at
//! every missing or extra atom; at 3 Å about one cloud atom in ten is either,
//! so a gapless trace stays in register for a few turns at most. Here a local
//! alignment (Smith–Waterman: it may start and end anywhere on both sides, so
//! the badly joined ends of a trace drop out) scores
//! - each pair (trace position p, residue r) by the emission of
//!   `register::emission_table` (side-chain density against side-chain size,
//!   geometric against predicted secondary structure, and at 5 Å or finer
//!   the centred log-odds of r's type read from the density at p,
//!   `residue_type`) minus
//!   [`AlignParams::offset`], so that random pairs drift negative;
//! - each step from (p′, r′) to (p, r), p − p′ ∈ {1, 2}, r − r′ = k ∈ {1, 2,
//!   3}, by how well the atoms' distance d fits k residues: k = 1 wants a
//!   Cα–Cα bond (3.8 Å), k = 2 and 3 the span of two or three bonds
//!   (Cα i → i+2: 5.0–7.4 Å, i → i+3: 4.5–10.5 Å), each extra residue costs
//!   [`AlignParams::missing_residue`] and a skipped atom
//!   [`AlignParams::false_atom`].
//!
//! The distance windows are the ranges of Cα–Cα distances in proteins. The
//! offset was chosen on the 50 validation chains at 3 Å (BENCHMARKS.md,
//! "Likely paths and gapped alignment"): offset 0 made the first trace
//! template TM 0.327 (24.9 % of its residues in register), 0.2 0.303
//! (23.5 %), 0.4 0.291 (25.2 %); gapless threading 0.288 (16.1 %). The other
//! costs were set by hand and not tuned.

use crate::Vec3;

/// Costs of the alignment.
#[derive(Debug, Clone, Copy)]
pub struct AlignParams {
    /// Subtracted from every pair's emission (0: the emission alone, whose
    /// random expectation is about 0, and the step costs keep alignments local).
    pub offset: f64,
    /// Cost of each residue with no atom.
    pub missing_residue: f64,
    /// Cost of a trace atom with no residue.
    pub false_atom: f64,
    /// Cost per Å² outside a step's distance window.
    pub off_window: f64,
}

impl Default for AlignParams {
    fn default() -> Self {
        AlignParams {
            offset: 0.0,
            missing_residue: 1.0,
            false_atom: 1.5,
            off_window: 4.0,
        }
    }
}

/// Distance windows (Å) for steps of 1, 2 and 3 residues.
const WINDOWS: [(f64, f64); 3] = [(3.3, 4.3), (5.0, 7.4), (4.5, 10.5)];

/// A local alignment: `pairs` (residue, trace position), both increasing.
#[derive(Debug, Clone, Default)]
pub struct Alignment {
    pub score: f64,
    pub pairs: Vec<(usize, usize)>,
}

/// The score of a step of `k` residues across `d` Å.
fn step_score(d: f64, k: usize, prm: &AlignParams) -> f64 {
    let (lo, hi) = WINDOWS[k - 1];
    let out = if d < lo {
        lo - d
    } else if d > hi {
        d - hi
    } else {
        0.0
    };
    -((k - 1) as f64) * prm.missing_residue - prm.off_window * out * out
}

/// The best local alignment of `trace` (Cα in trace order) to `l` residues,
/// with `emission[p * l + r]` the pair score before the offset.
pub fn align(trace: &[Vec3], emission: &[f32], l: usize, prm: &AlignParams) -> Alignment {
    let t = trace.len();
    if t == 0 || l == 0 {
        return Alignment::default();
    }
    debug_assert_eq!(emission.len(), t * l);
    // score[p][r]: best alignment ending with atom p on residue r; `from`
    // packs the predecessor step (atom step 1|2, residue step 1..3), 0 = start.
    let mut score = vec![f64::NEG_INFINITY; t * l];
    let mut from = vec![0u8; t * l];
    // Step scores depend on the atom pair and k only.
    let steps: Vec<[[f64; 3]; 2]> = (0..t)
        .map(|p| {
            std::array::from_fn(|a| {
                std::array::from_fn(|k| {
                    if p > a {
                        let d = (trace[p] - trace[p - a - 1]).norm();
                        step_score(d, k + 1, prm) - a as f64 * prm.false_atom
                    } else {
                        f64::NEG_INFINITY
                    }
                })
            })
        })
        .collect();
    let (mut best, mut best_at) = (0.0, None);
    for p in 0..t {
        for r in 0..l {
            let e = emission[p * l + r] as f64 - prm.offset;
            let (mut s, mut f) = (e, 0u8);
            for a in 0..2 {
                if p <= a {
                    break;
                }
                for k in 0..3 {
                    if r <= k {
                        break;
                    }
                    let prev = score[(p - a - 1) * l + r - k - 1];
                    let c = prev + steps[p][a][k] + e;
                    if c > s {
                        s = c;
                        f = (1 + a * 3 + k) as u8;
                    }
                }
            }
            score[p * l + r] = s;
            from[p * l + r] = f;
            if s > best {
                best = s;
                best_at = Some((p, r));
            }
        }
    }
    let mut pairs = Vec::new();
    let mut at = best_at;
    while let Some((p, r)) = at {
        pairs.push((r, p));
        let f = from[p * l + r];
        at = (f != 0).then(|| {
            let a = (f as usize - 1) / 3;
            let k = (f as usize - 1) % 3;
            (p - a - 1, r - k - 1)
        });
    }
    pairs.reverse();
    Alignment { score: best, pairs }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ideal trace with 3.8 Å bonds along a zig-zag, residues 0..n.
    fn zigzag(n: usize) -> Vec<Vec3> {
        (0..n)
            .map(|i| Vec3::new(3.3 * i as f64, if i % 2 == 0 { 0.0 } else { 1.9 }, 0.0))
            .collect()
    }

    /// Emission rewarding pairs whose residue equals `truth(p)`.
    fn emission(t: usize, l: usize, truth: impl Fn(usize) -> Option<usize>) -> Vec<f32> {
        let mut e = vec![-0.3f32; t * l];
        for p in 0..t {
            if let Some(r) = truth(p) {
                e[p * l + r] = 1.0;
            }
        }
        e
    }

    #[test]
    fn a_missing_atom_becomes_a_two_residue_step() {
        // Residues 0..30 with the atom of residue 12 missing, placed at 40.
        let full = zigzag(30);
        let trace: Vec<Vec3> = full
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 12)
            .map(|(_, p)| *p)
            .collect();
        let l = 80;
        let e = emission(trace.len(), l, |p| {
            Some(40 + if p < 12 { p } else { p + 1 })
        });
        let a = align(&trace, &e, l, &AlignParams::default());
        assert_eq!(a.pairs.len(), 29);
        for &(r, p) in &a.pairs {
            assert_eq!(r, 40 + if p < 12 { p } else { p + 1 });
        }
    }

    #[test]
    fn a_false_atom_is_skipped() {
        // A false atom 1 Å off the bond between residues 9 and 10.
        let mut trace = zigzag(20);
        let extra = (trace[9] + trace[10]) * 0.5 + Vec3::new(0.0, 0.0, 1.0);
        trace.insert(10, extra);
        let l = 50;
        let e = emission(trace.len(), l, |p| match p {
            10 => None,
            p if p < 10 => Some(5 + p),
            p => Some(5 + p - 1),
        });
        let a = align(&trace, &e, l, &AlignParams::default());
        assert!(a.pairs.iter().all(|&(_, p)| p != 10), "{:?}", a.pairs);
        assert_eq!(a.pairs.len(), 20);
    }

    #[test]
    fn an_empty_trace_aligns_nothing() {
        let a = align(&[], &[], 10, &AlignParams::default());
        assert!(a.pairs.is_empty());
    }
}
