//! Cα regularisation of a finished model: every Cα–Cα step pulled to 3.80 Å,
//! every virtual bond angle (Cα i−1, i, i+1) into 80–150°, Cα of residues
//! three or more apart pushed to at least 4 Å (the force field's clash
//! distance), and every Cα held near where the Monte Carlo left it.
//!
//! Why a separate step: the assembly samples best with a soft bond (the
//! final-TM scan in BENCHMARKS.md, "The weights inside E_knowledge"), which
//! leaves its models with bonds spread well beyond the deposited 3.80 ± 0.06
//! Å, some past the 4.3 Å at which the full-atom rebuild breaks the chain.
//! A few cold Monte Carlo sweeps at a stiff bond do not undo that spread; a
//! direct minimisation does. The models also hold a few collapsed virtual
//! angles (some under 20°, Cα i−1 and i+1 within 1.3 Å of each other),
//! which the angle statistics of the force field do not forbid outright.
//! On model 1 of 48 tuning runs at bond 0.25 (BENCHMARKS.md) the median Cα
//! moves 0.13 Å, 4 % of them more than 1 Å and none more than 3.9 Å.
//!
//! The minimised function (not an equation of the paper), lengths in Å and
//! angles in radians, k = [`RegulariseParams::hold`]:
//!
//! ```text
//! Σ_bonds (d − 3.80)²  +  20 Σ_i flat(θ_i)  +  Σ_{|i−j|≥3} max(0, 4.0 − d)²  +  k Σ_i |r_i − r_i⁰|²
//! ```
//!
//! flat() is zero for virtual angles within 80–150° and the squared distance
//! to that range outside it: deposited chains have 0.2 % of their virtual
//! angles under 80° and 0.2 % over 150° (200 train chains), our models
//! about 6 % and 2 %. Minimised by gradient descent with momentum at a fixed
//! step of 0.03, which reaches a largest gradient component under 1e-4 in
//! 460 steps (median; at most 2,945) on those 48 models.

use super::energy::CA_CLASH;
use crate::geom::grid::Grid;
use crate::structure::CA_CA as CA_BOND;
use crate::topology::Topology;
use crate::Vec3;

/// The virtual bond angles the regulariser allows, in degrees.
pub const ANGLE_RANGE: (f64, f64) = (80.0, 150.0);

/// Weight (per rad²) of a virtual angle's distance outside the range.
/// Straightening a 170° angle to 150° moves its Cα about 0.7 Å, which the
/// positional hold charges for; at 20 the angle wins to within 2°.
const ANGLE_WEIGHT: f64 = 20.0;

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
            max_iter: 4000,
            tolerance: 1e-4,
        }
    }
}

/// Pairs that could clash during the minimisation: residues three or more
/// apart whose Cα start within the clash distance plus a 2 Å margin. Found
/// once, on a grid, so long chains stay linear. A Cα that moves further
/// than the margin (the apex of a collapsed angle can) may meet one that is
/// not on the list: over model 1 of the 95 test maps at 2–5 Å, 10 non-local
/// pairs end under 3.8 Å.
fn near_pairs(ca: &[Vec3], chain: &[u32], reach: f64) -> Vec<(usize, usize)> {
    let grid = Grid::new(ca, reach);
    let mut out = Vec::new();
    for (i, p) in ca.iter().enumerate() {
        grid.for_each_within(ca, p, reach, |j, _| {
            if j >= i + 3 || (j > i && chain[j] != chain[i]) {
                out.push((i, j));
            }
        });
    }
    out.sort_unstable();
    out
}

/// Adds the gradient of excess² for the pair (i, j) at distance d, where
/// excess = d − target.
fn spring(g: &mut [Vec3], x: &[Vec3], (i, j): (usize, usize), excess: f64, d: f64) {
    let u = (x[i] - x[j]) / d;
    g[i] += u * (2.0 * excess);
    g[j] -= u * (2.0 * excess);
}

/// Writes the gradient of the regularisation function at `x` into `g` (one
/// buffer for the whole descent) and returns its largest component.
fn gradient(
    x: &[Vec3],
    chain: &[u32],
    start: &[Vec3],
    pairs: &[(usize, usize)],
    hold: f64,
    g: &mut [Vec3],
) -> f64 {
    for ((gi, p), p0) in g.iter_mut().zip(x).zip(start) {
        *gi = (p - p0) * (2.0 * hold);
    }
    for i in 1..x.len() {
        if chain[i] != chain[i - 1] {
            continue;
        }
        let d = (x[i] - x[i - 1]).norm();
        if d > 1e-9 {
            spring(g, x, (i, i - 1), d - CA_BOND, d);
        }
    }
    let (lo, hi) = (ANGLE_RANGE.0.to_radians(), ANGLE_RANGE.1.to_radians());
    for i in 1..x.len().saturating_sub(1) {
        if chain[i - 1] != chain[i + 1] {
            continue;
        }
        let (a, b) = (x[i - 1] - x[i], x[i + 1] - x[i]);
        let (la, lb) = (a.norm(), b.norm());
        if la < 1e-9 || lb < 1e-9 {
            continue;
        }
        let (ua, ub) = (a / la, b / lb);
        let cos = ua.dot(&ub).clamp(-1.0, 1.0);
        let theta = cos.acos();
        let excess = if theta < lo {
            theta - lo
        } else if theta > hi {
            theta - hi
        } else {
            continue;
        };
        // dθ/dr of the end atoms: −(the other bond's direction with its
        // component along this bond removed, normalised) / this bond's
        // length; the apex takes minus their sum. The unnormalised vector's
        // length is sin θ, so normalising keeps it finite at 180°.
        let (na, nb) = (ub - ua * cos, ua - ub * cos);
        let (sa, sb) = (na.norm(), nb.norm());
        if sa < 1e-12 || sb < 1e-12 {
            continue;
        }
        let ga = -na / (sa * la);
        let gb = -nb / (sb * lb);
        let f = 2.0 * ANGLE_WEIGHT * excess;
        g[i - 1] += ga * f;
        g[i + 1] += gb * f;
        g[i] -= (ga + gb) * f;
    }
    for &(i, j) in pairs {
        let d = (x[i] - x[j]).norm();
        if d < CA_CLASH && d > 1e-9 {
            spring(g, x, (i, j), d - CA_CLASH, d);
        }
    }
    g.iter()
        .flat_map(|v| v.iter().map(|c| c.abs()))
        .fold(0.0, f64::max)
}

/// The root-mean-square deviation of a chain's Cα–Cα bonds (steps within
/// a chain of `topology`) from 3.80 Å.
pub fn bond_spread(ca: &[Vec3], topology: &Topology) -> f64 {
    let (ss, n) = (0..ca.len().saturating_sub(1))
        .filter(|&i| topology.bonded(i))
        .map(|i| ((ca[i + 1] - ca[i]).norm() - CA_BOND).powi(2))
        .fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 {
        0.0
    } else {
        (ss / n as f64).sqrt()
    }
}

/// The largest distance between paired points of two chains: how far
/// regularisation moved any Cα.
pub fn largest_move(a: &[Vec3], b: &[Vec3]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(p, q)| (p - q).norm())
        .fold(0.0, f64::max)
}

/// The regularised chain; no bond or angle spans a break of `topology`. A
/// chain of fewer than two residues is returned as is.
pub fn regularise(ca: &[Vec3], topology: &Topology, p: &RegulariseParams) -> Vec<Vec3> {
    let mut x = ca.to_vec();
    if x.len() < 2 {
        return x;
    }
    let chain = topology.chain_index();
    let pairs = near_pairs(ca, &chain, CA_CLASH + 2.0);
    // Gradient descent with momentum (heavy ball). At this step it converged
    // on every test chain and on the 48 tuning models (module docs).
    let (step, momentum) = (0.03, 0.9);
    let mut v = vec![Vec3::zeros(); x.len()];
    let mut g = vec![Vec3::zeros(); x.len()];
    for _ in 0..p.max_iter {
        let worst = gradient(&x, &chain, ca, &pairs, p.hold, &mut g);
        if worst < p.tolerance {
            break;
        }
        for ((xi, vi), gi) in x.iter_mut().zip(&mut v).zip(&g) {
            *vi = *vi * momentum - gi * step;
            *xi += *vi;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::geometry::angle;
    use crate::geom::kabsch::rmsd_in_place;
    use rand::{Rng, SeedableRng};

    fn bonds(ca: &[Vec3]) -> Vec<f64> {
        ca.windows(2).map(|w| (w[1] - w[0]).norm()).collect()
    }

    /// The deposited chain (64 residues of 3J6B chain 9), every Cα jittered
    /// by up to 0.3 Å per axis as a soft-bond model would be.
    fn jittered() -> (Vec<Vec3>, Vec<Vec3>) {
        let (_, native, _, _) = crate::assembly::test_stretch();
        let noisy = jitter(&native, 0.3, 5);
        (native, noisy)
    }

    /// Every point moved by up to `amp` Å per axis, uniformly at random.
    fn jitter(points: &[Vec3], amp: f64, seed: u64) -> Vec<Vec3> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        points
            .iter()
            .map(|p| {
                p + Vec3::new(
                    rng.random_range(-amp..amp),
                    rng.random_range(-amp..amp),
                    rng.random_range(-amp..amp),
                )
            })
            .collect()
    }

    #[test]
    fn bonds_come_back_to_the_ideal_length_and_atoms_stay_near() {
        let (native, noisy) = jittered();
        let out = regularise(
            &noisy,
            &Topology::single(noisy.len()),
            &RegulariseParams::default(),
        );
        let after = bonds(&out);
        let sd_before = bond_spread(&noisy, &Topology::single(noisy.len()));
        let sd_after = bond_spread(&out, &Topology::single(out.len()));
        assert!(sd_before > 0.15, "jitter too small to test: {sd_before}");
        assert!(
            sd_after < 0.02,
            "bond spread {sd_before:.3} -> {sd_after:.3} Å"
        );
        assert!(after.iter().all(|&d| (3.7..=3.9).contains(&d)));
        // No Cα moves far, and the chain ends no further from the native
        // than it started (the jitter is mostly along the bonds).
        let moved = largest_move(&out, &noisy);
        assert!(moved < 0.5, "a Cα moved {moved:.2} Å");
        let rmsd = |a: &[Vec3]| rmsd_in_place(a, &native);
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
        let out = regularise(
            &native,
            &Topology::single(native.len()),
            &RegulariseParams::default(),
        );
        let moved = largest_move(&out, &native);
        // The deposited bonds spread by 0.06 Å; closing that moves little.
        assert!(moved < 0.15, "a Cα moved {moved:.2} Å");
    }

    /// The minimised function itself, written from the module docs, to check
    /// the hand-derived gradient against finite differences.
    fn objective(x: &[Vec3], start: &[Vec3], pairs: &[(usize, usize)], hold: f64) -> f64 {
        let (lo, hi) = (ANGLE_RANGE.0.to_radians(), ANGLE_RANGE.1.to_radians());
        let mut e: f64 = x
            .iter()
            .zip(start)
            .map(|(p, q)| hold * (p - q).norm_squared())
            .sum();
        e += x
            .windows(2)
            .map(|w| ((w[1] - w[0]).norm() - CA_BOND).powi(2))
            .sum::<f64>();
        for t in angles(x) {
            let t = t.to_radians();
            e += ANGLE_WEIGHT * ((lo - t).max(0.0) + (t - hi).max(0.0)).powi(2);
        }
        for &(i, j) in pairs {
            e += (CA_CLASH - (x[i] - x[j]).norm()).max(0.0).powi(2);
        }
        e
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        // The kinked chain jittered by up to 0.2 Å, with Cα 50 moved to 3 Å
        // from Cα 10, so that bonds, both angle bounds and a clash are all
        // active.
        let (native, _) = jittered();
        let mut x = jitter(&kinked(), 0.2, 9);
        x[50] = x[10] + Vec3::new(3.0, 0.0, 0.0);
        let a = angles(&x);
        assert!(a.iter().any(|&t| t < ANGLE_RANGE.0) && a.iter().any(|&t| t > ANGLE_RANGE.1));
        let pairs = near_pairs(&x, &vec![0; x.len()], CA_CLASH + 2.0);
        assert!(pairs.iter().any(|&(i, j)| (x[i] - x[j]).norm() < CA_CLASH));
        let mut g = vec![Vec3::zeros(); x.len()];
        gradient(&x, &vec![0; x.len()], &native, &pairs, 0.05, &mut g);
        let h = 1e-6;
        for i in 0..x.len() {
            for c in 0..3 {
                let (mut xp, mut xm) = (x.clone(), x.clone());
                xp[i][c] += h;
                xm[i][c] -= h;
                let fd = (objective(&xp, &native, &pairs, 0.05)
                    - objective(&xm, &native, &pairs, 0.05))
                    / (2.0 * h);
                assert!(
                    (fd - g[i][c]).abs() < 1e-5 * (1.0 + fd.abs()),
                    "atom {i} axis {c}: {fd} vs {}",
                    g[i][c]
                );
            }
        }
    }

    fn angles(ca: &[Vec3]) -> Vec<f64> {
        ca.windows(3).map(|w| angle(&w[0], &w[1], &w[2])).collect()
    }

    /// The deposited stretch with the angle at residue 20 closed to 60° and
    /// the one at residue 40 opened to 170°, each by moving its Cα along the
    /// bisector (the two bonds stay equal).
    fn kinked() -> Vec<Vec3> {
        let (mut ca, _) = jittered();
        for (i, target) in [(20usize, 60.0f64), (40, 170.0)] {
            let mid = (ca[i - 1] + ca[i + 1]) / 2.0;
            let half = (ca[i + 1] - ca[i - 1]).norm() / 2.0;
            let out = (ca[i] - mid).normalize();
            ca[i] = mid + out * (half / (target.to_radians() / 2.0).tan());
        }
        ca
    }

    #[test]
    fn sharp_and_straight_virtual_angles_are_brought_into_range() {
        let ca = kinked();
        let before = angles(&ca);
        assert!(
            before[19] < 70.0 && before[39] > 160.0,
            "{} {}",
            before[19],
            before[39]
        );
        let after = angles(&regularise(
            &ca,
            &Topology::single(ca.len()),
            &RegulariseParams::default(),
        ));
        for (k, a) in after.iter().enumerate() {
            assert!(
                (ANGLE_RANGE.0 - 2.0..=ANGLE_RANGE.1 + 2.0).contains(a),
                "angle at residue {}: {a:.1}° (was {:.1}°)",
                k + 1,
                before[k]
            );
        }
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
        let out = regularise(
            &ca,
            &Topology::single(ca.len()),
            &RegulariseParams::default(),
        );
        let closest = near_pairs(&out, &vec![0; out.len()], 10.0)
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
                if (noisy[i] - noisy[j]).norm() <= 6.0 {
                    all.push((i, j));
                }
            }
        }
        assert!(!all.is_empty());
        assert_eq!(near_pairs(&noisy, &vec![0; noisy.len()], 6.0), all);
    }

    /// A break leaves the two chains where they are: no bond pulls the 12 Å
    /// gap shut, and the spread counts only bonds within a chain.
    #[test]
    fn a_chain_break_is_not_pulled_shut() {
        let (native, _) = jittered();
        let k = native.len() / 2;
        let mut ca = native.clone();
        for p in &mut ca[k..] {
            *p += Vec3::new(12.0, 0.0, 0.0);
        }
        let two = Topology::from_lengths(&[k, ca.len() - k]);
        let out = regularise(&ca, &two, &RegulariseParams::default());
        assert!(largest_move(&out, &ca) < 0.5, "{}", largest_move(&out, &ca));
        assert!(bond_spread(&ca, &two) < 0.1);
        assert!(bond_spread(&ca, &Topology::single(ca.len())) > 1.0);
        let pulled = regularise(
            &ca,
            &Topology::single(ca.len()),
            &RegulariseParams::default(),
        );
        assert!(largest_move(&pulled, &ca) > 2.0);
    }
}
