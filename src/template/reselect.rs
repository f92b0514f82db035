//! Template re-selection against the map's Cα cloud (paper, Methods, "Template
//! reselection by Cα and density map matching", eq. 3-4): each threading
//! template is superposed onto the unordered Cα cloud, scored by CRscore (eq. 1)
//! and the templates are re-ranked by it.
//!
//! The cloud has no residue indices, so the atoms of template and cloud are
//! first paired by their environments:
//!
//! 1. Fingerprints: for each atom, the ascending distances to its 20 nearest
//!    neighbours in its own set. Fscore(i, j) = |F_temp(i) − F_Cα(j)|² (eq. 3);
//!    pairs are taken in ascending Fscore, each atom once.
//! 2. Refinement by the weighted matching score (eq. 4):
//!    S(i, j) = Σ_(ii,jj) W(i, ii)·g(d(i, ii) − d(j, jj)), g(x) = 1 for |x| ≤ 1 Å,
//!    else 1/x², over the other current pairs (ii, jj), with W(i, ii) = w(i)·w(ii).
//!    The weight update is the paper's Supplementary Fig. 12, which we do not
//!    have. Ours: w(i) ← Σ_ii w(ii)·g(…) / max, i.e. S(i, j)/w(i) normalised,
//!    repeated until the weights settle: power iteration on the pair-consistency
//!    matrix A (spectral matching, Leordeanu & Hebert 2005). w converges to A's
//!    leading eigenvector, which is large on the biggest group of mutually
//!    consistent pairs (correct pairs agree with each other on all their
//!    distances, wrong ones only by chance). We tried w(i) ← S(i, j)/max S first
//!    (replicator dynamics); it collapses onto small perfect cliques (a few
//!    helix residues) and lost most correct pairs.
//! 3. The pairs with S > S0 are kept, S0 from two-means clustering of the S
//!    values; Kabsch superposition of those pairs (template onto cloud).
//! 4. Re-pairing after superposition: greedy by increasing distance, each atom
//!    once, only pairs closer than 10 Å (the paper's d_ij < 10 Å condition); the
//!    new pairs go through 2-3 again. Repeated until the kept pairs no longer
//!    change (at most [`FitOptions::max_iterations`] rounds); the round whose
//!    superposition overlaps the cloud best (CRscore terms of the < 10 Å pairs)
//!    is kept.
//!
//! Alternative starts. Fingerprints change when an atom's neighbours are
//! missing (a partial template, a cloud with missed or extra atoms, a cloud of a
//! larger complex), and then the global fingerprint pairing fails: a template
//! of 60% of 3J6B chain 9 against a 90% cloud of the whole chain was placed
//! 37 Å off. So besides that start we try local ones: template atoms spread
//! along the chain ([`FitOptions::anchors`]), each with its lowest-Fscore cloud
//! partners ([`FitOptions::partners_per_anchor`]); a seed (i, j) taken as
//! correct, any three of i's four nearest template atoms are matched to cloud
//! atoms at the same distances from j and from each other (within 1.2 Å), and
//! each four-atom match that superposes within 1 Å RMSD is a candidate. All
//! candidates are ranked by a quick overlap (each template atom's nearest cloud
//! atom within 4 Å); the best few distinct ones ([`FitOptions::refined_starts`])
//! go through steps 2-4, and the result with the best CRscore wins.
//!
//! CRscore normalisation: eq. 1 divides by the target length; [`reselect`]
//! uses the query length of each model, [`fit_to_cloud`] (which does not know
//! it) the number of cloud atoms. CRscore ignores residue order, so it cannot
//! tell a template in the right place from one whose shape merely covers the
//! cloud (a mirror image of the native chain scores 0.62 against its own cloud,
//! above a correctly placed 60% fragment at 0.54).

use rayon::prelude::*;

use super::{Source, TemplateModel};
use crate::geom::crscore::crscore_pairs;
use crate::geom::grid::Grid;
use crate::geom::kabsch::{superpose, Transform};
use crate::geom::tmscore::d0_final;
use crate::Vec3;

/// Neighbours per fingerprint (eq. 3).
pub const FINGERPRINT_LEN: usize = 20;

/// A template superposed onto a cloud.
#[derive(Debug, Clone)]
pub struct CloudFit {
    /// Moves the template's Cα onto the cloud (map frame).
    pub transform: Transform,
    /// (template index, cloud index) of the pairs the final superposition used.
    pub pairs: Vec<(usize, usize)>,
    /// CRscore (eq. 1) of the moved template against the cloud, normalised by
    /// the number of cloud atoms.
    pub crscore: f64,
    /// RMSD (Å) of `pairs` after the superposition.
    pub rmsd: f64,
}

/// Settings of the matching.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// Template atoms (spread along the template) tried as local seeds.
    pub anchors: usize,
    /// Cloud partners tried per anchor: its lowest-Fscore candidates.
    pub partners_per_anchor: usize,
    /// Starts (best first by their initial overlap) refined to convergence.
    pub refined_starts: usize,
    /// Cap on pairing/superposition rounds per refined start.
    pub max_iterations: usize,
    /// Re-pairing distance after superposition (Å; the paper: 10).
    pub pair_cutoff: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            anchors: 24,
            partners_per_anchor: 8,
            refined_starts: 4,
            max_iterations: 12,
            pair_cutoff: 10.0,
        }
    }
}

/// Settings of [`reselect`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReselectOptions {
    /// Templates kept (the paper: up to 30).
    pub max_keep: usize,
    /// Templates need a CRscore above this (the paper: 0.5, a "good" template).
    pub min_crscore: f64,
    pub fit: FitOptions,
}

impl Default for ReselectOptions {
    fn default() -> Self {
        ReselectOptions {
            max_keep: 30,
            min_crscore: 0.5,
            fit: FitOptions::default(),
        }
    }
}

/// A cloud with what every fit against it needs: fingerprints and a grid.
pub struct PreparedCloud {
    pub points: Vec<Vec3>,
    fingerprints: Vec<Fingerprint>,
    grid: Grid,
    /// A finer grid for the quick overlap of candidate superpositions.
    fine: Grid,
}

impl PreparedCloud {
    pub fn new(points: &[Vec3]) -> PreparedCloud {
        PreparedCloud {
            points: points.to_vec(),
            fingerprints: fingerprints(points),
            grid: Grid::new(points, 10.0),
            fine: Grid::new(points, QUICK_RADIUS),
        }
    }
}

/// Superposes `template_ca` (ordered Cα, any frame) onto the unordered `cloud`
/// with the default [`FitOptions`]; `None` when fewer than three atoms could be
/// paired.
pub fn fit_to_cloud(template_ca: &[Vec3], cloud: &[Vec3]) -> Option<CloudFit> {
    fit_prepared(
        template_ca,
        &PreparedCloud::new(cloud),
        &FitOptions::default(),
    )
}

/// As [`fit_to_cloud`], against a cloud prepared once for many templates.
pub fn fit_prepared(
    template_ca: &[Vec3],
    cloud: &PreparedCloud,
    opts: &FitOptions,
) -> Option<CloudFit> {
    if template_ca.len() < 3 || cloud.points.len() < 3 {
        return None;
    }
    let m = Matcher {
        t: template_ca,
        c: &cloud.points,
        grid: &cloud.grid,
        fine: &cloud.fine,
        d0: d0_final(cloud.points.len() as f64),
        opts,
    };
    let tf = fingerprints(template_ca);
    let cand = candidates(&tf, &cloud.fingerprints);
    let mut starts: Vec<Start> = Vec::new();
    let global = m.refine(&greedy_unique(&cand));
    if let Some(st) = m.start_from_pairs(global) {
        starts.push(st);
    }
    for i in anchors(template_ca.len(), opts.anchors) {
        let partners = cand
            .iter()
            .filter(|c| c.1 == i)
            .take(opts.partners_per_anchor);
        for &(_, _, j) in partners {
            starts.extend(m.local_starts(i, j));
        }
    }
    starts.sort_by(|a, b| b.overlap.total_cmp(&a.overlap));
    // Starts whose superpositions nearly coincide lead to the same result.
    let mut chosen: Vec<Start> = Vec::new();
    for st in starts {
        if chosen.len() >= opts.refined_starts {
            break;
        }
        if chosen
            .iter()
            .all(|c| transform_distance(&c.transform, &st.transform, template_ca) > 2.0)
        {
            chosen.push(st);
        }
    }
    let mut best: Option<CloudFit> = None;
    for st in chosen {
        let r = m.run(st);
        let moved: Vec<Vec3> = template_ca.iter().map(|p| r.transform.apply(p)).collect();
        let crscore = crscore_pairs(&moved, &cloud.points).score;
        if best.as_ref().is_none_or(|b| crscore > b.crscore) {
            let rmsd = (r
                .pairs
                .iter()
                .map(|&(i, j)| (moved[i] - cloud.points[j]).norm_squared())
                .sum::<f64>()
                / r.pairs.len().max(1) as f64)
                .sqrt();
            best = Some(CloudFit {
                transform: r.transform,
                pairs: r.pairs,
                crscore,
                rmsd,
            });
        }
    }
    best
}

/// Largest displacement (Å) between two placements of `pts`, checked on a
/// few atoms.
fn transform_distance(a: &Transform, b: &Transform, pts: &[Vec3]) -> f64 {
    let step = (pts.len() / 16).max(1);
    pts.iter()
        .step_by(step)
        .map(|p| (a.apply(p) - b.apply(p)).norm())
        .fold(0.0, f64::max)
}

/// `n` template indices spread evenly over `len`.
fn anchors(len: usize, n: usize) -> Vec<usize> {
    let n = n.min(len);
    (0..n).map(|k| (2 * k + 1) * len / (2 * n)).collect()
}

/// Every model superposed onto the cloud (source [`Source::Reselected`],
/// CRscore against the cloud normalised by the model's query length), in input
/// order; `None` for models that could not be fitted (under three Cα).
pub fn superpose_all(
    models: &[TemplateModel],
    cloud: &[Vec3],
    opts: &FitOptions,
) -> Vec<Option<TemplateModel>> {
    let prepared = PreparedCloud::new(cloud);
    models
        .par_iter()
        .map(|model| {
            let ca = model.aligned_ca();
            let fit = fit_prepared(&ca, &prepared, opts)?;
            let mut out = model.clone();
            out.transform(&fit.transform);
            out.source = Source::Reselected;
            out.crscore = Some(crscore_with_length(
                &out.aligned_ca(),
                cloud,
                model.query_len(),
            ));
            Some(out)
        })
        .collect()
}

/// The paper's template re-selection: all models superposed onto the cloud
/// ([`superpose_all`]), ranked by CRscore (highest first), those above
/// `min_crscore`, at most `max_keep` of them.
pub fn reselect(
    models: &[TemplateModel],
    cloud: &[Vec3],
    opts: &ReselectOptions,
) -> Vec<TemplateModel> {
    let mut out: Vec<TemplateModel> = superpose_all(models, cloud, &opts.fit)
        .into_iter()
        .flatten()
        .filter(|m| m.crscore.unwrap_or(0.0) > opts.min_crscore)
        .collect();
    // Stable sort: equal CRscores keep the threading order.
    out.sort_by(|a, b| {
        b.crscore
            .unwrap_or(0.0)
            .total_cmp(&a.crscore.unwrap_or(0.0))
    });
    out.truncate(opts.max_keep);
    out
}

/// CRscore (eq. 1) of `points` against `cloud` with L = `length` (the target
/// length): the greedy pairing of [`crscore_pairs`], d0 and normalisation from L.
pub fn crscore_with_length(points: &[Vec3], cloud: &[Vec3], length: usize) -> f64 {
    if length == 0 {
        return 0.0;
    }
    let d0 = d0_final(length as f64);
    let s = crscore_pairs(points, cloud);
    s.pairs
        .iter()
        .map(|&(i, j)| 1.0 / (1.0 + (points[i] - cloud[j]).norm_squared() / (d0 * d0)))
        .sum::<f64>()
        / length as f64
}

/// Ascending distances to the nearest [`FINGERPRINT_LEN`] atoms of the same set
/// (fewer when the set is small).
#[derive(Debug, Clone, Copy)]
struct Fingerprint {
    d: [f64; FINGERPRINT_LEN],
    n: usize,
}

/// Fscore (eq. 3) over the neighbours both fingerprints have.
fn fscore(a: &Fingerprint, b: &Fingerprint) -> f64 {
    let n = a.n.min(b.n);
    (0..n).map(|k| (a.d[k] - b.d[k]).powi(2)).sum()
}

fn fingerprints(points: &[Vec3]) -> Vec<Fingerprint> {
    // All-pairs is fine for the few thousand atoms of a cloud and cheaper than
    // a spatial index for the few hundred of a template.
    points
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let mut d: Vec<f64> = points
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != i)
                .map(|(_, q)| (p - q).norm())
                .collect();
            let n = d.len().min(FINGERPRINT_LEN);
            if n < d.len() {
                d.select_nth_unstable_by(n, f64::total_cmp);
            }
            d.truncate(n);
            d.sort_unstable_by(f64::total_cmp);
            let mut f = Fingerprint {
                d: [0.0; FINGERPRINT_LEN],
                n,
            };
            f.d[..n].copy_from_slice(&d);
            f
        })
        .collect()
}

/// Cloud candidates kept per template atom for the Fscore pairing: enough for
/// the greedy one-to-one pairing to find partners, far fewer than L·M.
const CANDIDATES_PER_ATOM: usize = 12;

/// (Fscore, template index, cloud index) of each template atom's best cloud
/// candidates, sorted by Fscore.
fn candidates(t: &[Fingerprint], c: &[Fingerprint]) -> Vec<(f64, usize, usize)> {
    let k = CANDIDATES_PER_ATOM.min(c.len());
    let mut out = Vec::with_capacity(t.len() * k);
    let mut row: Vec<(f64, usize)> = Vec::with_capacity(c.len());
    for (i, ft) in t.iter().enumerate() {
        row.clear();
        row.extend(c.iter().enumerate().map(|(j, fc)| (fscore(ft, fc), j)));
        if k < row.len() {
            row.select_nth_unstable_by(k, |a, b| a.0.total_cmp(&b.0));
        }
        out.extend(row[..k].iter().map(|&(s, j)| (s, i, j)));
    }
    out.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    out
}

/// Pairs in the given order, each atom once.
fn greedy_unique(sorted: &[(f64, usize, usize)]) -> Vec<(usize, usize)> {
    let nt = sorted.iter().map(|x| x.1 + 1).max().unwrap_or(0);
    let nc = sorted.iter().map(|x| x.2 + 1).max().unwrap_or(0);
    let (mut ut, mut uc) = (vec![false; nt], vec![false; nc]);
    let mut out = Vec::new();
    for &(_, i, j) in sorted {
        if !ut[i] && !uc[j] {
            ut[i] = true;
            uc[j] = true;
            out.push((i, j));
        }
    }
    out
}

/// A superposition to refine, with the pairs behind it and its overlap with
/// the cloud (CRscore terms of the re-paired atoms).
struct Start {
    transform: Transform,
    pairs: Vec<(usize, usize)>,
    overlap: f64,
}

/// Result of one refined start.
struct Run {
    transform: Transform,
    pairs: Vec<(usize, usize)>,
}

struct Matcher<'a> {
    t: &'a [Vec3],
    c: &'a [Vec3],
    grid: &'a Grid,
    fine: &'a Grid,
    /// d0 of the CRscore terms that rank superpositions.
    d0: f64,
    opts: &'a FitOptions,
}

/// Neighbours of a seed must be at the same distance from it within this (Å).
const LOCAL_TOLERANCE: f64 = 1.2;
/// Largest RMSD (Å) of a seed's four-atom match.
const LOCAL_RMSD: f64 = 1.0;
/// Nearest template atoms of a seed whose triples are matched.
const LOCAL_NEIGHBOURS: usize = 4;
/// Reach (Å) of the quick overlap.
const QUICK_RADIUS: f64 = 4.0;

impl Matcher<'_> {
    /// Kabsch superposition of `pairs`, scored; `None` under three pairs.
    fn start_from_pairs(&self, pairs: Vec<(usize, usize)>) -> Option<Start> {
        if pairs.len() < 3 {
            return None;
        }
        let (a, b): (Vec<Vec3>, Vec<Vec3>) =
            pairs.iter().map(|&(i, j)| (self.t[i], self.c[j])).unzip();
        let transform = superpose(&a, &b).transform;
        let overlap = self.quick_overlap(&transform);
        Some(Start {
            transform,
            pairs,
            overlap,
        })
    }

    /// Local starts around the seed (i, j), taken as a correct pair: i's three
    /// nearest template atoms are matched to cloud atoms at the same distances
    /// from j and from each other (within [`LOCAL_TOLERANCE`]), and each
    /// four-atom match that superposes within [`LOCAL_RMSD`] gives a start.
    /// Four atoms that are not coplanar fix the handedness, so mirror-image
    /// matches fail the RMSD test.
    fn local_starts(&self, i: usize, j: usize) -> Vec<Start> {
        let mut nb: Vec<(f64, usize)> = self
            .t
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != i)
            .map(|(k, p)| ((p - self.t[i]).norm(), k))
            .collect();
        if nb.len() < 3 {
            return Vec::new();
        }
        let k = LOCAL_NEIGHBOURS.min(nb.len());
        if k < nb.len() {
            nb.select_nth_unstable_by(k, |a, b| a.0.total_cmp(&b.0));
        }
        nb.truncate(k);
        nb.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let reach = nb[k - 1].0 + LOCAL_TOLERANCE;
        let mut near = Vec::new();
        self.grid
            .for_each_within(self.c, &self.c[j], reach, |q, d| {
                if q != j {
                    near.push((q, d));
                }
            });
        // Cloud atoms at the right distance from j for each neighbour of i.
        let options: Vec<Vec<usize>> = nb
            .iter()
            .map(|&(dt, _)| {
                near.iter()
                    .filter(|&&(_, d)| (d - dt).abs() <= LOCAL_TOLERANCE)
                    .map(|&(q, _)| q)
                    .collect()
            })
            .collect();
        let dt = |a: usize, b: usize| (self.t[a] - self.t[b]).norm();
        let dc = |a: usize, b: usize| (self.c[a] - self.c[b]).norm();
        let ok = |ta: usize, tb: usize, ca: usize, cb: usize| {
            (dt(ta, tb) - dc(ca, cb)).abs() <= LOCAL_TOLERANCE
        };
        let mut out = Vec::new();
        // Any three of the nearest neighbours, so that one missing from the
        // cloud does not lose the seed.
        for x in 0..k {
            for y in x + 1..k {
                for z in y + 1..k {
                    let (t0, t1, t2) = (nb[x].1, nb[y].1, nb[z].1);
                    for &a in &options[x] {
                        for &b in options[y].iter().filter(|&&b| b != a && ok(t0, t1, a, b)) {
                            for &c in options[z].iter().filter(|&&c| {
                                c != a && c != b && ok(t0, t2, a, c) && ok(t1, t2, b, c)
                            }) {
                                let pairs = vec![(i, j), (t0, a), (t1, b), (t2, c)];
                                let (p, q): (Vec<Vec3>, Vec<Vec3>) =
                                    pairs.iter().map(|&(u, v)| (self.t[u], self.c[v])).unzip();
                                let sp = superpose(&p, &q);
                                if sp.rmsd > LOCAL_RMSD {
                                    continue;
                                }
                                out.push(Start {
                                    overlap: self.quick_overlap(&sp.transform),
                                    transform: sp.transform,
                                    pairs,
                                });
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// Re-pairing, refinement (eq. 4) and superposition from a start until the
    /// kept pairs settle; the round with the best overlap.
    fn run(&self, start: Start) -> Run {
        let mut best = (
            self.repair(&start.transform).1,
            start.transform,
            start.pairs,
        );
        let mut pairs = self.repair(&start.transform).0;
        let mut last: Vec<(usize, usize)> = Vec::new();
        for _ in 0..self.opts.max_iterations {
            let mut kept = self.refine(&pairs);
            if kept.len() < 3 {
                break;
            }
            kept.sort_unstable();
            if kept == last {
                break;
            }
            let (a, b): (Vec<Vec3>, Vec<Vec3>) =
                kept.iter().map(|&(i, j)| (self.t[i], self.c[j])).unzip();
            let transform = superpose(&a, &b).transform;
            let (next, overlap) = self.repair(&transform);
            if overlap > best.0 {
                best = (overlap, transform, kept.clone());
            }
            last = kept;
            pairs = next;
        }
        Run {
            transform: best.1,
            pairs: best.2,
        }
    }

    /// Eq. 4 with the iterated weights (module doc), then the two-means cut.
    fn refine(&self, pairs: &[(usize, usize)]) -> Vec<(usize, usize)> {
        let n = pairs.len();
        if n < 3 {
            return Vec::new();
        }
        // Pair-consistency matrix A(p, q) = g(d(i_p, i_q) − d(j_p, j_q)).
        let mut a = vec![0f32; n * n];
        for p in 0..n {
            let (ip, jp) = pairs[p];
            for q in p + 1..n {
                let (iq, jq) = pairs[q];
                let x = (self.t[ip] - self.t[iq]).norm() - (self.c[jp] - self.c[jq]).norm();
                let g = if x.abs() <= 1.0 { 1.0 } else { 1.0 / (x * x) };
                a[p * n + q] = g as f32;
                a[q * n + p] = g as f32;
            }
        }
        let mut w = vec![1f32; n];
        let mut aw = vec![0f32; n];
        for _ in 0..50 {
            for p in 0..n {
                let row = &a[p * n..(p + 1) * n];
                aw[p] = row.iter().zip(&w).map(|(x, y)| x * y).sum();
            }
            let max = aw.iter().cloned().fold(0f32, f32::max);
            if max <= 0.0 {
                return Vec::new();
            }
            let mut change = 0f32;
            for p in 0..n {
                let nw = aw[p] / max;
                change = change.max((nw - w[p]).abs());
                w[p] = nw;
            }
            if change < 1e-3 {
                break;
            }
        }
        // Eq. 4 with W(i, ii) = w(i)·w(ii).
        let s: Vec<f32> = (0..n)
            .map(|p| {
                let row = &a[p * n..(p + 1) * n];
                w[p] * row.iter().zip(&w).map(|(x, y)| x * y).sum::<f32>()
            })
            .collect();
        let s0 = two_means_threshold(&s);
        pairs
            .iter()
            .zip(&s)
            .filter(|&(_, &v)| v > s0)
            .map(|(&pq, _)| pq)
            .collect()
    }

    /// A cheap overlap to rank candidate superpositions: CRscore terms of each
    /// template atom's nearest cloud atom within [`QUICK_RADIUS`], not one to one.
    fn quick_overlap(&self, tr: &Transform) -> f64 {
        let mut sum = 0.0;
        for p in self.t {
            let x = tr.apply(p);
            let mut best = f64::INFINITY;
            self.fine
                .for_each_within(self.c, &x, QUICK_RADIUS, |_, d| best = best.min(d));
            if best.is_finite() {
                sum += 1.0 / (1.0 + (best / self.d0).powi(2));
            }
        }
        sum
    }

    /// Greedy pairs by increasing distance under the cutoff after `tr`, and
    /// their CRscore terms (the overlap a round is judged by).
    fn repair(&self, tr: &Transform) -> (Vec<(usize, usize)>, f64) {
        let cut = self.opts.pair_cutoff;
        let mut cand = Vec::new();
        for (i, p) in self.t.iter().enumerate() {
            let x = tr.apply(p);
            self.grid.for_each_within(self.c, &x, cut, |j, d| {
                if d < cut {
                    cand.push((d, i, j));
                }
            });
        }
        cand.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let (mut ut, mut uc) = (vec![false; self.t.len()], vec![false; self.c.len()]);
        let mut pairs = Vec::new();
        let mut overlap = 0.0;
        for (d, i, j) in cand {
            if !ut[i] && !uc[j] {
                ut[i] = true;
                uc[j] = true;
                pairs.push((i, j));
                overlap += 1.0 / (1.0 + (d / self.d0).powi(2));
            }
        }
        (pairs, overlap)
    }
}

/// The midpoint of the two centres of a 1-D two-means clustering; below the
/// minimum when all values are equal (then everything is kept).
fn two_means_threshold(v: &[f32]) -> f32 {
    let lo = v.iter().cloned().fold(f32::INFINITY, f32::min);
    let hi = v.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    if hi.is_nan() || hi <= lo {
        return lo - 1.0;
    }
    let (mut c1, mut c2) = (lo, hi);
    for _ in 0..100 {
        let mid = 0.5 * (c1 + c2);
        let (mut s1, mut n1, mut s2, mut n2) = (0f64, 0usize, 0f64, 0usize);
        for &x in v {
            if x <= mid {
                s1 += x as f64;
                n1 += 1;
            } else {
                s2 += x as f64;
                n2 += 1;
            }
        }
        let (m1, m2) = (
            (s1 / n1.max(1) as f64) as f32,
            (s2 / n2.max(1) as f64) as f32,
        );
        if m1 == c1 && m2 == c2 {
            break;
        }
        c1 = m1;
        c2 = m2;
    }
    0.5 * (c1 + c2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_means_splits_two_groups() {
        let v = [1.0, 1.2, 0.9, 10.0, 11.0, 9.5];
        let t = two_means_threshold(&v);
        assert!(t > 1.2 && t < 9.5, "{t}");
        assert!(two_means_threshold(&[3.0, 3.0]) < 3.0);
    }

    #[test]
    fn fingerprints_are_ascending_nearest_distances() {
        let pts: Vec<Vec3> = (0..30)
            .map(|k| Vec3::new(k as f64 * 3.8, 0.0, 0.0))
            .collect();
        let f = fingerprints(&pts);
        assert_eq!(f[0].n, 20);
        assert!((f[0].d[0] - 3.8).abs() < 1e-12 && (f[0].d[19] - 76.0).abs() < 1e-9);
        // The middle atom has two neighbours at each distance.
        assert!((f[15].d[0] - 3.8).abs() < 1e-12 && (f[15].d[1] - 3.8).abs() < 1e-12);
        assert!(f[15].d.windows(2).all(|w| w[0] <= w[1]));
        let few = fingerprints(&pts[..5]);
        assert_eq!(few[2].n, 4);
        assert_eq!(fscore(&f[0], &f[0]), 0.0);
    }
}
