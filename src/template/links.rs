//! Which pairs of Cα-cloud atoms are chain neighbours: a fitted bond
//! likelihood and the most likely set of paths through the cloud (the
//! fragments that Cα tracing, `regenerate`, joins into traces).
//!
//! The paper connects atoms by counting, over bond cutoffs 3.8–5.5 Å, how
//! often a pair survives a degree ≤ 2 pruning (`regenerate::connect`). Between
//! neighbouring β-strands (4.4–5.5 Å apart) and across helix turns that keeps
//! wrong links: on validation clouds at 2–5 Å about one link in six joins atoms
//! that are not sequence neighbours, and the true chain is followed for 7–8
//! residues on average. Here each pair gets the log-odds of being a Cα–Cα bond
//! from its length and from the density along it (a bond runs through
//! backbone density, a jump between strands crosses a valley), and the paths
//! are the greedy maximum-likelihood path cover: pairs by decreasing log-odds,
//! each kept unless an atom would get a third link or a cycle would close.
//! [`BOND_LOGIT`] and the default threshold were fitted on validation chains;
//! the figures are in its doc and BENCHMARKS.md.

use crate::map::DensityMap;
use crate::Vec3;

/// Coefficients of the bond log-odds, logit = c0 + c1·o² + c2·u² + c3·ρ +
/// c4·o·ρ with o = max(0, d − 3.8 Å), u = max(0, 3.5 Å − d) and ρ the
/// [`DensityRatio::density_ratio`] clamped to [−0.2, 1.3]. Fitted by logistic regression
/// (IRLS, converged) on every pair closer than 7.5 Å in the bundled networks'
/// clouds of 25 validation chains in harness maps of 2–5 Å (23,077 pairs; a
/// pair is a bond when its atoms lie within 2 Å of native Cα i and i ± 1):
/// mean log-loss 0.0733. `examples/trace_links.rs` reproduces the fit.
pub const BOND_LOGIT: [f64; 5] = [-5.0573, -1.2183, -2.3496, 8.9688, -1.9716];

/// The coarsest map resolution the likely paths are used at, Å (the fit's
/// maps are 2–5 Å): on 8 Å validation maps the likely paths (with gapped
/// alignment) put the first trace template at TM 0.153 against 0.161 for the
/// paper's connection (BENCHMARKS.md), so coarser maps keep the paper's.
/// Up to 7 Å they gained on clean validation maps (5.5 Å: model 1 0.324 →
/// 0.391) but not on maps with the test's noise and sampling (6 Å: 0.295 →
/// 0.298, `bench build --harness-maps`), so the limit stays.
pub const FITTED_MAX_RESOLUTION: f64 = 5.0;

/// Whether a map of `resolution` Å is within the fit's range
/// ([`FITTED_MAX_RESOLUTION`]).
pub fn fitted_at(resolution: f64) -> bool {
    resolution <= FITTED_MAX_RESOLUTION
}

/// Pairs farther apart than this are never linked, Å (two bonds with the atom
/// between them missing reach 7 Å).
pub const MAX_LINK: f64 = 7.0;

/// Links with a log-odds below this are not made. On the other 25 validation
/// chains at 2–5 Å (BENCHMARKS.md): link precision 0.943 and 14.8 residues
/// per correctly followed run at −2, against 0.839 and 7.7 for
/// `regenerate::connect`; lower thresholds join more (−6: 0.884, 19.4),
/// higher ones fewer (0: 0.967, 10.9).
pub const DEFAULT_MIN_LOGIT: f64 = -2.0;

/// The bond log-odds of a pair `d` Å apart with density ratio `rho`.
pub fn bond_logit(d: f64, rho: f64) -> f64 {
    let c = BOND_LOGIT;
    let rho = rho.clamp(-0.2, 1.3);
    let over = (d - 3.8).max(0.0);
    let under = (3.5 - d).max(0.0);
    c[0] + c[1] * over * over + c[2] * under * under + c[3] * rho + c[4] * over * rho
}

/// The density along a segment against the density at the cloud's atoms.
pub struct DensityRatio<'m> {
    map: &'m DensityMap,
    mean: f64,
    /// Median density above the map mean at the cloud's atoms.
    reference: f64,
}

impl<'m> DensityRatio<'m> {
    /// `None` when the atoms are no denser than the map's mean: then the
    /// density says nothing about bonds.
    pub fn new(map: &'m DensityMap, points: &[Vec3]) -> Option<Self> {
        let mean = map.stats().mean;
        let mut at: Vec<f64> = points
            .iter()
            .filter_map(|p| map.value_at(*p))
            .map(|v| v as f64 - mean)
            .collect();
        at.sort_by(f64::total_cmp);
        let reference = at.get(at.len() / 2).copied()?;
        (reference > 0.0).then_some(DensityRatio {
            map,
            mean,
            reference,
        })
    }

    /// The lowest density at 1/4, 1/2 and 3/4 of the way from `a` to `b`,
    /// above the map mean, over the reference (about 1 along a bond, 0 across
    /// solvent; outside the map counts as the mean).
    pub fn density_ratio(&self, a: Vec3, b: Vec3) -> f64 {
        let low = [0.25, 0.5, 0.75]
            .iter()
            .map(|&t| {
                self.map
                    .value_at(a + (b - a) * t)
                    .map_or(self.mean, |v| v as f64)
            })
            .fold(f64::INFINITY, f64::min);
        (low - self.mean) / self.reference
    }
}

/// Every pair closer than [`MAX_LINK`] with its bond log-odds, most likely
/// first (ties by index, so the order is deterministic).
pub fn scored_pairs(points: &[Vec3], map: &DensityMap) -> Vec<(f64, usize, usize)> {
    let ratio = DensityRatio::new(map, points);
    let mut out = Vec::new();
    for i in 0..points.len() {
        for j in i + 1..points.len() {
            let d = (points[i] - points[j]).norm();
            if d < MAX_LINK {
                // Without a usable density, rate every pair as if along a bond:
                // length alone decides.
                let rho = ratio
                    .as_ref()
                    .map_or(1.0, |r| r.density_ratio(points[i], points[j]));
                out.push((bond_logit(d, rho), i, j));
            }
        }
    }
    out.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    out
}

/// The greedy maximum-likelihood path cover of the cloud: paths of atom
/// indices (every atom in exactly one; unlinked atoms as paths of one).
pub fn likely_paths(points: &[Vec3], map: &DensityMap, min_logit: f64) -> Vec<Vec<usize>> {
    let n = points.len();
    let mut links: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut root: Vec<usize> = (0..n).collect();
    fn find(root: &mut [usize], mut a: usize) -> usize {
        while root[a] != a {
            root[a] = root[root[a]];
            a = root[a];
        }
        a
    }
    for (z, i, j) in scored_pairs(points, map) {
        if z < min_logit {
            break;
        }
        if links[i].len() >= 2 || links[j].len() >= 2 {
            continue;
        }
        let (ri, rj) = (find(&mut root, i), find(&mut root, j));
        if ri == rj {
            continue;
        }
        root[ri] = rj;
        links[i].push(j);
        links[j].push(i);
    }
    let mut seen = vec![false; n];
    let mut paths = Vec::new();
    for a in 0..n {
        // Acyclic, so every path has an end of degree < 2.
        if seen[a] || links[a].len() == 2 {
            continue;
        }
        let mut path = vec![a];
        seen[a] = true;
        let mut cur = a;
        while let Some(&next) = links[cur].iter().find(|&&x| !seen[x]) {
            path.push(next);
            seen[next] = true;
            cur = next;
        }
        paths.push(path);
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logit_prefers_bond_length_and_density() {
        assert!(bond_logit(3.8, 1.0) > 2.0);
        assert!(bond_logit(3.8, 1.0) > bond_logit(4.8, 1.0));
        assert!(bond_logit(3.8, 1.0) > bond_logit(3.8, 0.2));
        assert!(bond_logit(4.8, 0.1) < DEFAULT_MIN_LOGIT);
        assert!(bond_logit(2.5, 1.0) < bond_logit(3.6, 1.0));
    }
}
