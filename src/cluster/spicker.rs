//! SPICKER clustering of Cα decoys (Zhang & Skolnick 2004), as CR-I-TASSER
//! uses it to pick its models (Methods, "Final model selection"):
//!
//! 1. All decoys are Cα traces of one sequence (equal length, paired by index).
//!    More than [`SpickerParams::max_decoys`] are thinned to that many, evenly
//!    spaced along the input order (SPICKER does the same to bound the O(N²)
//!    matrix); the others take no part and belong to no cluster.
//! 2. The all-to-all Kabsch RMSD matrix is computed (rayon).
//! 3. Two decoys are neighbours when their RMSD is ≤ R_cut. R_cut is chosen
//!    self-adaptively, in the spirit of SPICKER (which moves its cutoff between
//!    bounds until the first cluster holds a set share of the decoys). Our rule:
//!    with f(R) = (largest neighbour count at cutoff R, the decoy itself
//!    included) / N, which never decreases with R,
//!    R_cut = the largest R in [`rmsd_min`, `rmsd_max`] with f(R) ≤ `max_fraction`
//!    (found by bisection to 0.01 Å); `rmsd_max` when f(`rmsd_max`) ≤ `max_fraction`,
//!    `rmsd_min` when even f(`rmsd_min`) exceeds it. So a converged simulation
//!    gets a tight cutoff (its biggest cluster stops at `max_fraction` of the
//!    decoys), a diverse one the widest cutoff allowed.
//! 4. The decoy with the most neighbours is the first cluster's centre; its
//!    neighbours (and itself) are the members and leave the pool. The next
//!    cluster is found the same way among the decoys left, with the same R_cut,
//!    up to [`SpickerParams::max_clusters`] clusters. Ties go to the lower index,
//!    and nothing is random: the result is a function of the input.
//! 5. Per cluster: the centroid, the average of the members superposed onto it
//!    (first onto the centre decoy, then iterated onto the running average until
//!    it moves less than 10⁻³ Å); the member closest to the centroid (SPICKER's
//!    "closc" model); ⟨RMSD⟩ of the members to the centroid; and the density
//!    M_m / ⟨RMSD⟩_m, whose relation to the decoy count M_tot is the cluster
//!    term of eq. 9.
//!
//! [`rmsd_min`]: SpickerParams::rmsd_min
//! [`rmsd_max`]: SpickerParams::rmsd_max
//! [`max_fraction`]: SpickerParams::max_fraction

use rayon::prelude::*;

use crate::geom::kabsch::superpose;
use crate::Vec3;

/// Knobs of [`spicker`]; the defaults are CR-I-TASSER's five clusters.
#[derive(Debug, Clone, PartialEq)]
pub struct SpickerParams {
    /// At most this many decoys are clustered (evenly thinned beyond it).
    pub max_decoys: usize,
    /// At most this many clusters are returned.
    pub max_clusters: usize,
    /// Lower bound of the neighbour cutoff R_cut, Å.
    pub rmsd_min: f64,
    /// Upper bound of R_cut, Å.
    pub rmsd_max: f64,
    /// Largest share of the decoys that the biggest neighbourhood may hold at R_cut.
    pub max_fraction: f64,
    /// Most refinement rounds of each centroid.
    pub centroid_iterations: usize,
}

impl Default for SpickerParams {
    fn default() -> Self {
        SpickerParams {
            max_decoys: 2000,
            max_clusters: 5,
            rmsd_min: 3.5,
            rmsd_max: 8.0,
            max_fraction: 0.7,
            centroid_iterations: 20,
        }
    }
}

/// Why decoys could not be clustered.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClusterError {
    #[error("no decoys to cluster")]
    NoDecoys,
    #[error("decoy {index} has {len} Cα atoms, decoy 0 has {expected}: decoys must be traces of one sequence")]
    LengthMismatch {
        index: usize,
        len: usize,
        expected: usize,
    },
    #[error("decoys have {0} Cα atoms; at least 3 are needed for a superposition")]
    TooShort(usize),
    #[error("decoy {0} has a non-finite coordinate")]
    NonFinite(usize),
    #[error("bad SPICKER parameters: {0}")]
    BadParams(String),
}

/// One SPICKER cluster. Decoy indices refer to the input slice.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Member decoys, ascending (the centre among them).
    pub members: Vec<usize>,
    /// The decoy with the most neighbours, around which the cluster was cut.
    pub centre: usize,
    /// Average of the members superposed onto each other (see the module doc);
    /// in the centre decoy's frame, up to the small drift of the iterations.
    pub centroid: Vec<Vec3>,
    /// The member with the lowest RMSD to the centroid.
    pub closest: usize,
    /// Mean RMSD (Å) of the members to the centroid: ⟨r.m.s.d.⟩_m of eq. 9.
    pub mean_rmsd: f64,
    /// Cluster density: members / `mean_rmsd` (with `mean_rmsd` floored at 0.01 Å).
    pub density: f64,
}

impl Cluster {
    /// M_m of eq. 9.
    pub fn size(&self) -> usize {
        self.members.len()
    }
}

/// The result of [`spicker`].
#[derive(Debug, Clone)]
pub struct Clustering {
    /// Clusters in the order found, i.e. by non-increasing size.
    pub clusters: Vec<Cluster>,
    /// The neighbour cutoff used, Å.
    pub rmsd_cutoff: f64,
    /// Number of decoys given.
    pub n_decoys: usize,
    /// Decoys actually clustered: M_tot of eq. 9.
    pub n_clustered: usize,
}

/// Symmetric matrix of pairwise RMSDs (Å), stored as the strict upper triangle.
#[derive(Debug, Clone)]
pub struct RmsdMatrix {
    n: usize,
    upper: Vec<f32>,
}

impl RmsdMatrix {
    /// Kabsch RMSD of every pair of `decoys` (equal lengths; see [`spicker`] for checks).
    pub fn compute(decoys: &[&[Vec3]]) -> Self {
        let n = decoys.len();
        // One row per rayon task: row i holds (i, j) for j > i.
        let rows: Vec<Vec<f32>> = (0..n)
            .into_par_iter()
            .map(|i| {
                ((i + 1)..n)
                    .map(|j| superpose(decoys[j], decoys[i]).rmsd as f32)
                    .collect()
            })
            .collect();
        RmsdMatrix {
            n,
            upper: rows.concat(),
        }
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// RMSD of decoys `i` and `j` (0 on the diagonal).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        use std::cmp::Ordering::*;
        let (a, b) = match i.cmp(&j) {
            Equal => return 0.0,
            Less => (i, j),
            Greater => (j, i),
        };
        // Rows 0..a hold n-1, n-2, …, n-a entries.
        let row_start = a * (2 * self.n - a - 1) / 2;
        self.upper[row_start + (b - a - 1)] as f64
    }

    /// For each decoy in `pool`, how many decoys of `pool` (itself included) lie within `cutoff`.
    fn neighbour_counts(&self, pool: &[usize], cutoff: f64) -> Vec<usize> {
        pool.par_iter()
            .map(|&i| pool.iter().filter(|&&j| self.get(i, j) <= cutoff).count())
            .collect()
    }
}

/// Clusters Cα decoys with SPICKER (see the module doc).
pub fn spicker(decoys: &[Vec<Vec3>], params: &SpickerParams) -> Result<Clustering, ClusterError> {
    check_params(params)?;
    let len = check_decoys(decoys)?;
    if len < 3 {
        return Err(ClusterError::TooShort(len));
    }
    let sampled = thin(decoys.len(), params.max_decoys);
    let traces: Vec<&[Vec3]> = sampled.iter().map(|&i| decoys[i].as_slice()).collect();
    let matrix = RmsdMatrix::compute(&traces);
    let n = matrix.len();
    let all: Vec<usize> = (0..n).collect();
    let rmsd_cutoff = choose_cutoff(&matrix, &all, params);

    let mut pool = all;
    let mut clusters = Vec::new();
    while !pool.is_empty() && clusters.len() < params.max_clusters {
        let counts = matrix.neighbour_counts(&pool, rmsd_cutoff);
        // First maximum: ties go to the lower index.
        let (best, _) =
            counts
                .iter()
                .enumerate()
                .fold((0, 0), |acc, (k, &c)| if c > acc.1 { (k, c) } else { acc });
        let centre = pool[best];
        let (members, rest): (Vec<usize>, Vec<usize>) = pool
            .iter()
            .partition(|&&j| matrix.get(centre, j) <= rmsd_cutoff);
        pool = rest;
        let member_traces: Vec<&[Vec3]> = members.iter().map(|&k| traces[k]).collect();
        let centroid = centroid(&member_traces, best_in(&members, centre), params);
        let rmsds: Vec<f64> = member_traces
            .iter()
            .map(|t| superpose(t, &centroid).rmsd)
            .collect();
        let mean_rmsd = rmsds.iter().sum::<f64>() / rmsds.len() as f64;
        let closest = rmsds
            .iter()
            .enumerate()
            .fold(0, |b, (k, &r)| if r < rmsds[b] { k } else { b });
        clusters.push(Cluster {
            members: members.iter().map(|&k| sampled[k]).collect(),
            centre: sampled[centre],
            centroid,
            closest: sampled[members[closest]],
            mean_rmsd,
            density: members.len() as f64 / mean_rmsd.max(0.01),
        });
    }
    Ok(Clustering {
        clusters,
        rmsd_cutoff,
        n_decoys: decoys.len(),
        n_clustered: n,
    })
}

fn check_params(p: &SpickerParams) -> Result<(), ClusterError> {
    let bad = |m: &str| Err(ClusterError::BadParams(m.to_string()));
    if p.max_decoys < 1 || p.max_clusters < 1 {
        return bad("max_decoys and max_clusters must be at least 1");
    }
    if !(p.rmsd_min.is_finite() && p.rmsd_max.is_finite() && 0.0 < p.rmsd_min)
        || p.rmsd_min > p.rmsd_max
    {
        return bad("need 0 < rmsd_min ≤ rmsd_max (Å)");
    }
    if !(p.max_fraction > 0.0 && p.max_fraction <= 1.0) {
        return bad("max_fraction must lie in (0, 1]");
    }
    Ok(())
}

/// The common trace length, after checking every decoy.
fn check_decoys(decoys: &[Vec<Vec3>]) -> Result<usize, ClusterError> {
    let first = decoys.first().ok_or(ClusterError::NoDecoys)?;
    let expected = first.len();
    for (index, d) in decoys.iter().enumerate() {
        if d.len() != expected {
            return Err(ClusterError::LengthMismatch {
                index,
                len: d.len(),
                expected,
            });
        }
        if d.iter().any(|p| !p.iter().all(|c| c.is_finite())) {
            return Err(ClusterError::NonFinite(index));
        }
    }
    Ok(expected)
}

/// `max` indices spread evenly over 0..n (all of them when n ≤ max).
fn thin(n: usize, max: usize) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    (0..max).map(|k| k * n / max).collect()
}

/// R_cut by the rule of the module doc.
fn choose_cutoff(matrix: &RmsdMatrix, pool: &[usize], p: &SpickerParams) -> f64 {
    let n = pool.len() as f64;
    let frac = |r: f64| {
        let c = matrix.neighbour_counts(pool, r);
        *c.iter().max().unwrap_or(&0) as f64 / n
    };
    if frac(p.rmsd_max) <= p.max_fraction {
        return p.rmsd_max;
    }
    if frac(p.rmsd_min) > p.max_fraction {
        return p.rmsd_min;
    }
    // Invariant: frac(lo) ≤ max_fraction < frac(hi).
    let (mut lo, mut hi) = (p.rmsd_min, p.rmsd_max);
    while hi - lo > 0.01 {
        let mid = 0.5 * (lo + hi);
        if frac(mid) <= p.max_fraction {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Position of `centre` in `members`.
fn best_in(members: &[usize], centre: usize) -> usize {
    members.iter().position(|&m| m == centre).unwrap_or(0)
}

/// Average of `members` superposed onto the running average, starting from
/// member `start` (the centre), until it moves less than 10⁻³ Å RMS.
fn centroid(members: &[&[Vec3]], start: usize, p: &SpickerParams) -> Vec<Vec3> {
    let mut reference: Vec<Vec3> = members[start].to_vec();
    for _ in 0..p.centroid_iterations.max(1) {
        // Superpose in parallel, add in member order: the sum, hence the
        // centroid, does not depend on how rayon splits the work.
        let moved_members: Vec<Vec<Vec3>> = members
            .par_iter()
            .map(|m| {
                let t = superpose(m, &reference).transform;
                m.iter().map(|x| t.apply(x)).collect()
            })
            .collect();
        let mut sums = vec![Vec3::zeros(); reference.len()];
        for m in &moved_members {
            sums.iter_mut().zip(m).for_each(|(s, x)| *s += x);
        }
        let next: Vec<Vec3> = sums.iter().map(|s| s / members.len() as f64).collect();
        let moved = crate::geom::kabsch::rmsd_in_place(&next, &reference);
        reference = next;
        if moved < 1e-3 {
            break;
        }
    }
    reference
}

#[cfg(test)]
#[path = "tests.rs"]
pub(crate) mod tests;
