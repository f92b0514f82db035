//! CRscore (paper eq. 1): similarity of an unordered Cα cloud (the 3D-CNN's
//! predicted Cα positions, without residue indices) to a reference chain.
//!
//! CRscore = (1/L) Σ_(i,j) 1/(1 + (d_ij/d0)²), with L the reference length,
//! d0 = 1.24·∛(L−15) − 1.8 (the TM-score scale, 0.5 Å at least) and the sum over
//! pairs (i in the cloud, j in the reference) chosen greedily: the closest pair
//! first, then the closest pair among atoms not yet used, and so on, so that each
//! atom is used at most once. Both sets are in the same (map) frame: there is no
//! superposition, and neither index order nor connectivity matters.

use crate::geom::tmscore::d0_final;
use crate::Vec3;
use std::collections::HashMap;

/// A CRscore with the pairing behind it.
#[derive(Debug, Clone)]
pub struct CrScore {
    /// The score, in [0, 1].
    pub score: f64,
    /// (cloud index, reference index) of each pair, closest first.
    pub pairs: Vec<(usize, usize)>,
    /// Root-mean-square distance (Å) of the paired atoms; 0 with no pairs.
    pub rmsd: f64,
    /// The d0 (Å) used.
    pub d0: f64,
}

impl CrScore {
    /// Median distance (Å) of the paired atoms, 0 with no pairs; `cloud` and
    /// `reference` are the sets the pairing was made on. The pairs come
    /// closest first, so no sort is needed.
    pub fn median_distance(&self, cloud: &[Vec3], reference: &[Vec3]) -> f64 {
        self.pairs
            .get(self.pairs.len() / 2)
            .map_or(0.0, |&(i, j)| (cloud[i] - reference[j]).norm())
    }
}

/// CRscore of `cloud` against `reference` (see the module doc).
pub fn crscore(cloud: &[Vec3], reference: &[Vec3]) -> f64 {
    crscore_pairs(cloud, reference).score
}

/// Pairs within this distance (Å) are found through a grid; the rest, which add
/// little to the score, by a plain scan of the atoms still unpaired.
const NEAR: f64 = 12.0;

/// CRscore with its greedy pairing and the RMSD of the paired atoms.
pub fn crscore_pairs(cloud: &[Vec3], reference: &[Vec3]) -> CrScore {
    let l = reference.len();
    let d0 = d0_final(l as f64);
    let mut used_c = vec![false; cloud.len()];
    let mut used_r = vec![false; reference.len()];
    let mut pairs = Vec::with_capacity(cloud.len().min(l));
    let mut sum_sq = 0.0;
    let mut score = 0.0;

    // Greedy in increasing distance. Every pair closer than NEAR comes before
    // every pair farther away, so taking the near ones first, then the far ones
    // among what is left, is the same greedy order over all pairs.
    let near = near_pairs(cloud, reference);
    let mut take = |cand: Vec<(f64, usize, usize)>,
                    used_c: &mut [bool],
                    used_r: &mut [bool],
                    pairs: &mut Vec<(usize, usize)>| {
        for (d2, i, j) in cand {
            if !used_c[i] && !used_r[j] {
                used_c[i] = true;
                used_r[j] = true;
                pairs.push((i, j));
                sum_sq += d2;
                score += 1.0 / (1.0 + d2 / (d0 * d0));
            }
        }
    };
    take(near, &mut used_c, &mut used_r, &mut pairs);
    if pairs.len() < cloud.len().min(l) {
        let mut far = Vec::new();
        for (i, c) in cloud.iter().enumerate().filter(|(i, _)| !used_c[*i]) {
            for (j, r) in reference.iter().enumerate().filter(|(j, _)| !used_r[*j]) {
                far.push(((c - r).norm_squared(), i, j));
            }
        }
        sort_pairs(&mut far);
        take(far, &mut used_c, &mut used_r, &mut pairs);
    }
    let n = pairs.len();
    CrScore {
        score: if l == 0 { 0.0 } else { score / l as f64 },
        rmsd: if n == 0 {
            0.0
        } else {
            (sum_sq / n as f64).sqrt()
        },
        pairs,
        d0,
    }
}

/// All (d², cloud index, reference index) with d < NEAR, sorted.
fn near_pairs(cloud: &[Vec3], reference: &[Vec3]) -> Vec<(f64, usize, usize)> {
    let cell = |p: &Vec3| {
        (
            (p.x / NEAR).floor() as i64,
            (p.y / NEAR).floor() as i64,
            (p.z / NEAR).floor() as i64,
        )
    };
    let mut grid: HashMap<(i64, i64, i64), Vec<usize>> = HashMap::new();
    for (j, r) in reference.iter().enumerate() {
        grid.entry(cell(r)).or_default().push(j);
    }
    let mut out = Vec::new();
    for (i, c) in cloud.iter().enumerate() {
        let (cx, cy, cz) = cell(c);
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    let Some(js) = grid.get(&(cx + dx, cy + dy, cz + dz)) else {
                        continue;
                    };
                    for &j in js {
                        let d2 = (c - reference[j]).norm_squared();
                        if d2 < NEAR * NEAR {
                            out.push((d2, i, j));
                        }
                    }
                }
            }
        }
    }
    sort_pairs(&mut out);
    out
}

/// Increasing distance; ties by index so that the pairing is reproducible.
fn sort_pairs(v: &mut [(f64, usize, usize)]) {
    v.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A compact random-walk chain with 3.8 Å steps.
    fn chain(n: usize, seed: u64) -> Vec<Vec3> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut p = Vec3::zeros();
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(p);
            let v = Vec3::new(
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
            );
            // A weak pull to the origin keeps the walk globular.
            p += v.normalize() * 3.8 - p * 0.05;
        }
        out
    }

    fn jitter(pts: &[Vec3], sigma: f64, seed: u64) -> Vec<Vec3> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        pts.iter()
            .map(|p| {
                p + Vec3::new(
                    rng.random_range(-1.0..1.0),
                    rng.random_range(-1.0..1.0),
                    rng.random_range(-1.0..1.0),
                ) * sigma
            })
            .collect()
    }

    #[test]
    fn identical_and_permuted_clouds_score_one() {
        let r = chain(120, 1);
        let s = crscore_pairs(&r, &r);
        assert!((s.score - 1.0).abs() < 1e-12);
        assert_eq!(s.rmsd, 0.0);
        let mut shuffled: Vec<Vec3> = r.clone();
        shuffled.reverse();
        shuffled.swap(3, 77);
        assert!((crscore(&shuffled, &r) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn noise_lowers_the_score_monotonically() {
        let r = chain(150, 2);
        let mut last = 1.0 + 1e-12;
        for (k, sigma) in [0.3, 0.8, 1.5, 3.0, 6.0].into_iter().enumerate() {
            let s = crscore(&jitter(&r, sigma, 10 + k as u64), &r);
            assert!(s < last, "sigma {sigma}: {s} !< {last}");
            last = s;
        }
        assert!(last < 0.8);
    }

    #[test]
    fn empty_or_distant_clouds_score_near_zero() {
        let r = chain(80, 3);
        assert_eq!(crscore(&[], &r), 0.0);
        assert_eq!(crscore(&r, &[]), 0.0);
        let far: Vec<Vec3> = r.iter().map(|p| p + Vec3::new(500.0, 0.0, 0.0)).collect();
        let s = crscore_pairs(&far, &r);
        assert!(s.score < 1e-3, "{}", s.score);
        assert_eq!(s.pairs.len(), 80, "far atoms are still paired, one to one");
    }

    #[test]
    fn each_atom_is_used_once() {
        // Two cloud atoms crowd one reference atom: only the closer gets it, the
        // other must take the far reference atom.
        let r = [Vec3::zeros(), Vec3::new(20.0, 0.0, 0.0)];
        let c = [Vec3::new(0.1, 0.0, 0.0), Vec3::new(0.0, 0.2, 0.0)];
        let s = crscore_pairs(&c, &r);
        assert_eq!(s.pairs, vec![(0, 0), (1, 1)]);
        let d0 = d0_final(2.0);
        let far = (r[1] - c[1]).norm();
        let expect = (1.0 / (1.0 + 0.01 / (d0 * d0)) + 1.0 / (1.0 + (far / d0).powi(2))) / 2.0;
        assert!((s.score - expect).abs() < 1e-12);
        assert!(s.score < 0.51);
    }

    #[test]
    fn pairing_is_greedy_not_optimal() {
        // Greedy takes c0–r0 (0.9 Å) first and leaves c1 the far r1 (3 Å), where
        // the assignment with least total distance would be c0–r1, c1–r0.
        let r = [Vec3::zeros(), Vec3::new(2.0, 0.0, 0.0)];
        let c = [Vec3::new(0.9, 0.0, 0.0), Vec3::new(-1.0, 0.0, 0.0)];
        let s = crscore_pairs(&c, &r);
        assert_eq!(s.pairs, vec![(0, 0), (1, 1)]);
        assert!((s.rmsd - ((0.81 + 9.0) / 2.0f64).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn grid_and_full_scan_agree() {
        // Pairs beyond the grid's reach go through the fallback scan; the result
        // must equal a brute-force greedy over all pairs.
        let r = chain(60, 4);
        let mut c = jitter(&r, 9.0, 5);
        c.truncate(50);
        c.extend(jitter(&r[..15], 30.0, 6));
        let s = crscore_pairs(&c, &r);
        let mut all = Vec::new();
        for (i, a) in c.iter().enumerate() {
            for (j, b) in r.iter().enumerate() {
                all.push(((a - b).norm_squared(), i, j));
            }
        }
        sort_pairs(&mut all);
        let (mut uc, mut ur) = (vec![false; c.len()], vec![false; r.len()]);
        let mut brute = Vec::new();
        for (_, i, j) in all {
            if !uc[i] && !ur[j] {
                uc[i] = true;
                ur[j] = true;
                brute.push((i, j));
            }
        }
        assert_eq!(s.pairs, brute);
        assert!(s.pairs.iter().any(|&(i, j)| (c[i] - r[j]).norm() >= NEAR));
    }
}
