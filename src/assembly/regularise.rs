//! Cα regularisation of a finished model: every Cα–Cα step pulled to 3.80 Å,
//! Cα of residues three or more apart pushed to at least 4 Å (the force
//! field's clash distance), and every Cα held near where the Monte Carlo left
//! it.
//!
//! Why a separate step: the assembly samples best with a soft bond (the
//! final-TM scan in BENCHMARKS.md, "The weights inside E_knowledge"), which
//! leaves its models with bonds spread well beyond the deposited 3.80 ± 0.06
//! Å, some past the 4.3 Å at which the full-atom rebuild breaks the chain.
//! A few cold Monte Carlo sweeps at a stiff bond do not undo that spread; a
//! direct minimisation does, and moves each Cα by a fraction of an ångström,
//! too little to change where the model lies in the map.
//!
//! The minimised function (not an equation of the paper):
//! Σ_bonds (d − 3.80)² + Σ_{|i−j|≥3} max(0, 4.0 − d)² + k Σ_i |r_i − r_i⁰|²,
//! by gradient descent with a fixed step that is stable for this function
//! (its curvature is at most about 2·4 per coordinate from the chain terms).

use super::energy::CA_CLASH;
use crate::Vec3;

/// The ideal Cα–Cα distance of a trans peptide.
pub const CA_BOND: f64 = 3.80;

/// How the regularisation trades geometry against staying put.
#[derive(Clone, Copy, Debug)]
pub struct RegulariseParams {
    /// k of the positional restraint; at 0.05 a bond's residual error is
    /// about 2-3 % of what it was.
    pub hold: f64,
    pub max_iter: usize,
    /// Stop when no coordinate's gradient exceeds this.
    pub tolerance: f64,
}

impl Default for RegulariseParams {
    fn default() -> Self {
        Self {
            hold: 0.05,
            max_iter: 2000,
            tolerance: 1e-4,
        }
    }
}

/// Pairs that could clash during the minimisation: residues three or more
/// apart whose Cα start within the clash distance plus a margin for the
/// movement allowed. Found once, on a grid, so long chains stay linear.
fn near_pairs(ca: &[Vec3], reach: f64) -> Vec<(usize, usize)> {
    use std::collections::HashMap;
    let key = |p: &Vec3| {
        (
            (p.x / reach).floor() as i64,
            (p.y / reach).floor() as i64,
            (p.z / reach).floor() as i64,
        )
    };
    let mut cells: HashMap<(i64, i64, i64), Vec<usize>> = HashMap::new();
    for (i, p) in ca.iter().enumerate() {
        cells.entry(key(p)).or_default().push(i);
    }
    let mut out = Vec::new();
    for (i, p) in ca.iter().enumerate() {
        let (x, y, z) = key(p);
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    let Some(cell) = cells.get(&(x + dx, y + dy, z + dz)) else {
                        continue;
                    };
                    for &j in cell {
                        if j >= i + 3 && (ca[j] - p).norm() < reach {
                            out.push((i, j));
                        }
                    }
                }
            }
        }
    }
    out.sort_unstable();
    out
}

/// Gradient of the regularisation function at `x`, and its largest component.
fn gradient(x: &[Vec3], start: &[Vec3], pairs: &[(usize, usize)], hold: f64) -> (Vec<Vec3>, f64) {
    let mut g: Vec<Vec3> = x
        .iter()
        .zip(start)
        .map(|(p, p0)| (p - p0) * (2.0 * hold))
        .collect();
    let mut spring = |i: usize, j: usize, excess: f64, d: f64| {
        // d/dr_i of excess² where excess = d − target (or target − d).
        let u = (x[i] - x[j]) / d;
        g[i] += u * (2.0 * excess);
        g[j] -= u * (2.0 * excess);
    };
    for i in 1..x.len() {
        let d = (x[i] - x[i - 1]).norm();
        if d > 1e-9 {
            spring(i, i - 1, d - CA_BOND, d);
        }
    }
    for &(i, j) in pairs {
        let d = (x[i] - x[j]).norm();
        if d < CA_CLASH && d > 1e-9 {
            spring(i, j, d - CA_CLASH, d);
        }
    }
    let worst = g
        .iter()
        .flat_map(|v| v.iter().map(|c| c.abs()))
        .fold(0.0, f64::max);
    (g, worst)
}

/// The root-mean-square deviation of a chain's Cα–Cα steps from 3.80 Å.
pub fn bond_spread(ca: &[Vec3]) -> f64 {
    if ca.len() < 2 {
        return 0.0;
    }
    let ss: f64 = ca
        .windows(2)
        .map(|w| ((w[1] - w[0]).norm() - CA_BOND).powi(2))
        .sum();
    (ss / (ca.len() - 1) as f64).sqrt()
}

/// The regularised chain. A chain of fewer than two residues is returned as is.
pub fn regularise(ca: &[Vec3], p: &RegulariseParams) -> Vec<Vec3> {
    let mut x = ca.to_vec();
    if x.len() < 2 {
        return x;
    }
    let pairs = near_pairs(ca, CA_CLASH + 2.0);
    // Curvature: at most 2 per spring and 4 springs' worth per coordinate
    // in practice, plus 2k; a step of 0.1 stays below 2 / that.
    let step = 0.1;
    for _ in 0..p.max_iter {
        let (g, worst) = gradient(&x, ca, &pairs, p.hold);
        if worst < p.tolerance {
            break;
        }
        for (xi, gi) in x.iter_mut().zip(&g) {
            *xi -= gi * step;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn bonds(ca: &[Vec3]) -> Vec<f64> {
        ca.windows(2).map(|w| (w[1] - w[0]).norm()).collect()
    }

    /// The deposited chain (64 residues of 3J6B chain 9), every Cα jittered
    /// by up to 0.3 Å per axis as a soft-bond model would be.
    fn jittered() -> (Vec<Vec3>, Vec<Vec3>) {
        let (_, native, _, _) = crate::assembly::test_stretch();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let noisy = native
            .iter()
            .map(|p| {
                p + Vec3::new(
                    rng.random_range(-0.3..0.3),
                    rng.random_range(-0.3..0.3),
                    rng.random_range(-0.3..0.3),
                )
            })
            .collect();
        (native, noisy)
    }

    #[test]
    fn bonds_come_back_to_the_ideal_length_and_atoms_stay_near() {
        let (native, noisy) = jittered();
        let out = regularise(&noisy, &RegulariseParams::default());
        let after = bonds(&out);
        let sd_before = bond_spread(&noisy);
        let sd_after = bond_spread(&out);
        assert!(sd_before > 0.15, "jitter too small to test: {sd_before}");
        assert!(
            sd_after < 0.02,
            "bond spread {sd_before:.3} -> {sd_after:.3} Å"
        );
        assert!(after.iter().all(|&d| (3.7..=3.9).contains(&d)));
        // No Cα moves far, and the chain ends no further from the native
        // than it started (the jitter is mostly along the bonds).
        let moved = out
            .iter()
            .zip(&noisy)
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        assert!(moved < 0.5, "a Cα moved {moved:.2} Å");
        let rmsd = |a: &[Vec3]| {
            (a.iter()
                .zip(&native)
                .map(|(p, q)| (p - q).norm_squared())
                .sum::<f64>()
                / a.len() as f64)
                .sqrt()
        };
        assert!(
            rmsd(&out) <= rmsd(&noisy) + 0.02,
            "{} vs {}",
            rmsd(&out),
            rmsd(&noisy)
        );
    }

    #[test]
    fn a_regular_chain_is_left_almost_unchanged() {
        let (native, _) = jittered();
        let out = regularise(&native, &RegulariseParams::default());
        let moved = out
            .iter()
            .zip(&native)
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        // The deposited bonds spread by 0.06 Å; closing that moves little.
        assert!(moved < 0.15, "a Cα moved {moved:.2} Å");
    }

    #[test]
    fn close_non_neighbours_are_pushed_apart() {
        // A hairpin whose two arms run 3 Å apart, closer than the clash
        // distance the force field allows for residues three or more apart.
        let mut ca: Vec<Vec3> = (0..6)
            .map(|i| Vec3::new(3.8 * i as f64, 0.0, 0.0))
            .collect();
        ca.extend((0..6).rev().map(|i| Vec3::new(3.8 * i as f64, 3.0, 0.0)));
        // Turn bond from (19,0) to (19,3) is 3 Å: let the bond term fix it too.
        let out = regularise(&ca, &RegulariseParams::default());
        let closest = near_pairs(&out, 10.0)
            .iter()
            .map(|&(i, j)| (out[i] - out[j]).norm())
            .fold(f64::INFINITY, f64::min);
        assert!(
            closest > CA_CLASH - 0.15,
            "closest non-neighbours {closest:.2} Å"
        );
    }

    #[test]
    fn near_pairs_matches_the_all_pairs_search() {
        let (_, noisy) = jittered();
        let mut all = Vec::new();
        for i in 0..noisy.len() {
            for j in i + 3..noisy.len() {
                if (noisy[i] - noisy[j]).norm() < 6.0 {
                    all.push((i, j));
                }
            }
        }
        assert!(!all.is_empty());
        assert_eq!(near_pairs(&noisy, 6.0), all);
    }
}
