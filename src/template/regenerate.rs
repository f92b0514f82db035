//! New templates grown through the map's Cα cloud (paper, Methods, "Initial
//! Cα trace model generation from 3D-CNN Cα conformations", Supplementary
//! Fig. 14): Cα-trace connection, random tracing, and gapless sequence–trace
//! mapping ranked by contact-map and density correlation.
//!
//! 1. Connection ([`connect`]). Under each bond cutoff d_b = 3.8, 3.9, …,
//!    5.5 Å: connect every pair closer than d_b; connections touching an atom
//!    with n_conn ≤ 2 are "true"; the others (both ends over-connected) are
//!    removed, longest first, while they keep an end above 2; an atom still
//!    above 2 loses all its connections. Connections present under more than
//!    40 % of the cutoffs are kept (most frequent first, never a third one on
//!    an atom nor a cycle), which leaves paths: the fragments.
//! 2. Tracing ([`grow_trace`]). A trace starts from the fragment of a random
//!    atom and grows at its tail, then at its head, by joining a free end of
//!    an unused fragment within the 5.5 Å probing radius, until none is left.
//!    The paper picks "randomly"; we weight candidates by
//!    exp(−(d − 3.8)²/2σ²) beyond 3.8 Å (σ = [`RegenOptions::bond_sigma`]) so
//!    that a neighbour at Cα–Cα bond length is preferred over one across a
//!    helix turn, times (bond density / atom density)^[`RegenOptions::bond_density_power`]
//!    (the density 1/4, 1/2, 3/4 along a true bond is about twice that of a
//!    jump on EMD-2566), times [`RegenOptions::angle_penalty`] when the
//!    Cα–Cα–Cα angle would leave 75°–160°. Keep-tracing mode (the paper's Supplementary Text 23 is not
//!    available; this is our reading of "partially releasing some of the
//!    restraints"): when growth stops, the probing radius widens in 0.5 Å steps
//!    up to [`RegenOptions::max_probe_radius`], and if there is still no free
//!    end, the trace may break into the interior of an unused fragment within
//!    the probing radius, cutting one of that atom's two connections at random
//!    (the cut-off part stays a free fragment). Trace i uses its own ChaCha8
//!    stream (seed, i), so the traces do not depend on the thread count.
//! 3. Gapless threading. A trace of T atoms is put on the query of L residues
//!    in both directions at every register (T ≥ L: each window of L atoms;
//!    T < L: residues s..s+T for every s). Each placement is scored by the
//!    Pearson correlation of its contact map (Cα–Cα < 8 Å, 0/1) with the
//!    predicted contact probabilities over the residue pairs it covers with
//!    |i − j| ≥ [`RegenOptions::min_separation`] (6: closer pairs are in
//!    contact in any compact chain and say nothing about the register). The
//!    sums over the prediction come from 2D prefix sums, the sums over the
//!    trace from its contact list, so a placement costs O(contacts).
//! 4. Ranking. The best placement of each trace enters a list of the
//!    [`RegenOptions::n_top`] (paper: 300) best distinct placements (traces
//!    shorter than [`RegenOptions::min_coverage`]·L rank after the rest); those
//!    are re-ranked by the PCC of their Cα-only eq. 2 density with the map
//!    (cropped around the cloud) and the best `n_gen` become templates. With no
//!    contact map the register is unknown: traces are ranked by length, put in
//!    the middle of the sequence, and re-ranked by density alone.

use std::collections::{BTreeSet, HashSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::contacts::{ContactMap, CONTACT_CUTOFF};
use super::{Source, TemplateModel};
use crate::ca::CaCloud;
use crate::gpu::Backend;
use crate::map::correlate::{correlate, CorrelateError};
use crate::map::density::MapError;
use crate::map::simulate::{cutoff_radius, simulate_points_like, SimulateError};
use crate::map::DensityMap;
use crate::Vec3;

/// The paper's bond cutoffs d_b = 3.8, 3.9, …, 5.5 Å.
pub fn bond_cutoffs() -> [f64; 18] {
    std::array::from_fn(|k| 3.8 + 0.1 * k as f64)
}

/// A connection is kept when present under more than this fraction of the cutoffs.
pub const KEEP_FRACTION: f64 = 0.4;

/// Atomic number given to each Cα in the simulated density (carbon).
const CA_AMPLITUDE: f64 = 6.0;

const NONE: u32 = u32::MAX;

/// cos 160° and cos 75°: the range of Cα–Cα–Cα virtual bond angles.
const COS_160: f64 = -0.939_692_620_785_908_4;
const COS_75: f64 = 0.258_819_045_102_520_7;

/// Settings of [`regenerate`].
#[derive(Debug, Clone, Copy)]
pub struct RegenOptions {
    /// Random traces grown (paper: 1,000,000).
    pub n_traces: usize,
    /// Seed of the traces' random streams.
    pub seed: u64,
    /// Probing radius for joining fragments, Å (paper: 5.5).
    pub probe_radius: f64,
    /// Keep-tracing mode (see the module doc).
    pub keep_tracing: bool,
    /// Widest probing radius of keep-tracing mode, Å.
    pub max_probe_radius: f64,
    /// Width (Å) of the preference for joins at bond length; 0 picks uniformly.
    pub bond_sigma: f64,
    /// Factor on the weight of a join whose Cα–Cα–Cα angle at the trace's
    /// end is outside 75°–160° (1: no check).
    pub angle_penalty: f64,
    /// Exponent of the bond-density weight of joins (0: off; see [`Tracer::new`]).
    pub bond_density_power: f64,
    /// Smallest sequence separation |i − j| of the pairs the contact PCC uses.
    pub min_separation: usize,
    /// Placements kept after the contact ranking (paper: 300).
    pub n_top: usize,
    /// Traces covering fewer than this fraction of the query rank last.
    pub min_coverage: f64,
    /// Where the density simulation and correlation run.
    pub backend: Backend,
}

impl Default for RegenOptions {
    fn default() -> Self {
        RegenOptions {
            n_traces: 20_000,
            seed: 1,
            probe_radius: 5.5,
            keep_tracing: true,
            max_probe_radius: 7.5,
            bond_sigma: 0.75,
            bond_density_power: 2.0,
            angle_penalty: 0.05,
            min_separation: 6,
            n_top: 300,
            min_coverage: 0.5,
            backend: Backend::Cpu,
        }
    }
}

/// Why regeneration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegenError {
    #[error("contact map is for {0} residues, the query has {1}")]
    ContactLength(usize, usize),
    #[error("resolution must be a positive number of Å, got {0}")]
    BadResolution(f64),
    #[error("the Cα cloud lies outside the map: {0}")]
    Crop(MapError),
    #[error(transparent)]
    Correlate(#[from] CorrelateError),
    #[error(transparent)]
    Simulate(#[from] SimulateError),
}

/// Counts of a regeneration run, for logs and benchmarks.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct RegenStats {
    pub fragments: usize,
    /// Atoms in fragments of two or more.
    pub connected_atoms: usize,
    pub traces: usize,
    pub mean_trace_len: f64,
    /// Distinct placements that entered the density ranking.
    pub ranked: usize,
    pub seconds_tracing: f64,
    pub seconds_density: f64,
}

/// Fragments of the cloud: paths of atom indices (every atom is in exactly one,
/// unconnected atoms as paths of one), by step 1 of the module doc.
pub fn connect(points: &[Vec3]) -> Vec<Vec<usize>> {
    let cutoffs = bond_cutoffs();
    let pairs = pairs_within(points, cutoffs[cutoffs.len() - 1]);
    let mut count = vec![0u32; pairs.len()];
    for &db in &cutoffs {
        for e in connect_at(points.len(), &pairs, db) {
            count[e] += 1;
        }
    }
    let need = KEEP_FRACTION * cutoffs.len() as f64;
    let mut kept: Vec<usize> = (0..pairs.len())
        .filter(|&e| count[e] as f64 > need)
        .collect();
    kept.sort_by(|&a, &b| {
        count[b]
            .cmp(&count[a])
            .then(pairs[a].2.total_cmp(&pairs[b].2))
            .then(a.cmp(&b))
    });
    // Under each cutoff every atom has at most two connections, but their union
    // can have three, or a cycle: keep the most frequent, shortest first.
    let n = points.len();
    let mut links = vec![[NONE; 2]; n];
    let mut root: Vec<usize> = (0..n).collect();
    fn find(root: &mut [usize], mut a: usize) -> usize {
        while root[a] != a {
            root[a] = root[root[a]];
            a = root[a];
        }
        a
    }
    for e in kept {
        let (i, j, _) = pairs[e];
        if links[i][1] != NONE || links[j][1] != NONE {
            continue;
        }
        let (ri, rj) = (find(&mut root, i), find(&mut root, j));
        if ri == rj {
            continue;
        }
        root[ri] = rj;
        add_link(&mut links, i, j);
    }
    let mut seen = vec![false; n];
    let mut paths = Vec::new();
    for a in 0..n {
        if !seen[a] && links[a][1] == NONE {
            let path = walk(&links, a, |_| true);
            for &p in &path {
                seen[p] = true;
            }
            paths.push(path);
        }
    }
    paths
}

/// Pairs (i, j, d) with i < j closer than `cutoff`.
fn pairs_within(points: &[Vec3], cutoff: f64) -> Vec<(usize, usize, f64)> {
    let mut out = Vec::new();
    for i in 0..points.len() {
        for j in i + 1..points.len() {
            let d = (points[i] - points[j]).norm();
            if d < cutoff {
                out.push((i, j, d));
            }
        }
    }
    out
}

/// The connections (indices into `pairs`) that survive under one bond cutoff.
fn connect_at(n: usize, pairs: &[(usize, usize, f64)], db: f64) -> Vec<usize> {
    let edges: Vec<usize> = (0..pairs.len()).filter(|&e| pairs[e].2 < db).collect();
    let mut deg = vec![0u32; n];
    for &e in &edges {
        deg[pairs[e].0] += 1;
        deg[pairs[e].1] += 1;
    }
    let first = deg.clone();
    let (mut keep, mut contra): (Vec<usize>, Vec<usize>) = edges
        .into_iter()
        .partition(|&e| first[pairs[e].0] <= 2 || first[pairs[e].1] <= 2);
    contra.sort_by(|&a, &b| pairs[b].2.total_cmp(&pairs[a].2));
    for e in contra {
        let (i, j, _) = pairs[e];
        if deg[i] > 2 || deg[j] > 2 {
            deg[i] -= 1;
            deg[j] -= 1;
        } else {
            keep.push(e);
        }
    }
    keep.retain(|&e| deg[pairs[e].0] <= 2 && deg[pairs[e].1] <= 2);
    keep
}

fn add_link(links: &mut [[u32; 2]], i: usize, j: usize) {
    let slot = |l: &mut [u32; 2], v: usize| {
        if l[0] == NONE {
            l[0] = v as u32
        } else {
            l[1] = v as u32
        }
    };
    slot(&mut links[i], j);
    slot(&mut links[j], i);
}

/// The atoms of a path from the end `a`, along links to atoms `ok` accepts.
fn walk(links: &[[u32; 2]], a: usize, ok: impl Fn(usize) -> bool) -> Vec<usize> {
    let mut path = vec![a];
    let mut prev = NONE;
    let mut cur = a as u32;
    loop {
        let l = links[cur as usize];
        let next = if l[0] != prev && l[0] != NONE && ok(l[0] as usize) {
            l[0]
        } else if l[1] != prev && l[1] != NONE && ok(l[1] as usize) {
            l[1]
        } else {
            break;
        };
        path.push(next as usize);
        prev = cur;
        cur = next;
    }
    path
}

/// Everything tracing needs, built once per cloud.
pub struct Tracer<'a> {
    points: &'a [Vec3],
    /// Fragment links of each atom (NONE when absent).
    links: Vec<[u32; 2]>,
    /// Neighbours within the widest probing radius, nearest first, with
    /// distances and join weights.
    near: Vec<Vec<(u32, f32, f64)>>,
    opts: RegenOptions,
}

impl<'a> Tracer<'a> {
    /// `map` (the density the cloud came from) enables the bond-density weight
    /// of [`RegenOptions::bond_density_power`].
    pub fn new(
        points: &'a [Vec3],
        fragments: &[Vec<usize>],
        map: Option<&DensityMap>,
        opts: &RegenOptions,
    ) -> Self {
        let n = points.len();
        let mut links = vec![[NONE; 2]; n];
        for f in fragments {
            for w in f.windows(2) {
                add_link(&mut links, w[0], w[1]);
            }
        }
        let radius = if opts.keep_tracing {
            opts.max_probe_radius.max(opts.probe_radius)
        } else {
            opts.probe_radius
        };
        let density = map
            .filter(|_| opts.bond_density_power > 0.0)
            .map(|m| BondDensity::new(m, points, opts.bond_density_power));
        let mut near = vec![Vec::new(); n];
        for (i, j, d) in pairs_within(points, radius) {
            let mut w = weight(d, opts.bond_sigma);
            if let Some(bd) = &density {
                w *= bd.weight(points[i], points[j]);
            }
            near[i].push((j as u32, d as f32, w));
            near[j].push((i as u32, d as f32, w));
        }
        for l in &mut near {
            l.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        }
        Tracer {
            points,
            links,
            near,
            opts: *opts,
        }
    }

    /// Trace number `index`: atom indices in chain order.
    pub fn trace(&self, index: u64) -> Vec<usize> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.opts.seed);
        rng.set_stream(index);
        grow_trace(self, &mut rng)
    }
}

/// One random trace (step 2 of the module doc).
pub fn grow_trace(t: &Tracer, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let n = t.points.len();
    if n == 0 {
        return Vec::new();
    }
    let mut links = t.links.clone();
    let mut used = vec![false; n];
    let start = rng.random_range(0..n);
    // Walk to one end of the start atom's fragment, then take it whole.
    let end = walk(&links, start, |_| true)
        .last()
        .copied()
        .unwrap_or(start);
    let mut trace = walk(&links, end, |_| true);
    if rng.random_bool(0.5) {
        trace.reverse();
    }
    for &a in &trace {
        used[a] = true;
    }
    let mut cand: Vec<(usize, f64)> = Vec::new();
    for side in 0..2 {
        if side == 1 {
            trace.reverse();
        }
        loop {
            let tail = *trace.last().unwrap();
            let prev = (trace.len() >= 2).then(|| trace[trace.len() - 2]);
            let Some(next) = pick_join(t, &mut links, &used, tail, prev, rng, &mut cand) else {
                break;
            };
            let piece = walk(&links, next, |a| !used[a]);
            for &a in &piece {
                used[a] = true;
            }
            trace.extend(piece);
        }
    }
    trace
}

/// The atom the trace ending at `tail` joins next: a free fragment end within
/// the probing radius (wider ones and fragment interiors in keep-tracing mode).
fn pick_join(
    t: &Tracer,
    links: &mut [[u32; 2]],
    used: &[bool],
    tail: usize,
    prev: Option<usize>,
    rng: &mut ChaCha8Rng,
    cand: &mut Vec<(usize, f64)>,
) -> Option<usize> {
    let o = &t.opts;
    let bend = |b: usize| match prev {
        Some(p) if o.angle_penalty < 1.0 => {
            let u = t.points[p] - t.points[tail];
            let v = t.points[b] - t.points[tail];
            let cos = u.dot(&v) / (u.norm() * v.norm()).max(1e-9);
            // Virtual Cα bond angles lie between about 75° and 160°.
            if (COS_160..=COS_75).contains(&cos) {
                1.0
            } else {
                o.angle_penalty
            }
        }
        _ => 1.0,
    };
    let free_links = |a: usize| {
        links[a]
            .iter()
            .filter(|&&l| l != NONE && !used[l as usize])
            .count()
    };
    let mut radius = o.probe_radius;
    loop {
        cand.clear();
        for &(b, d, w) in &t.near[tail] {
            let b = b as usize;
            if (d as f64) >= radius {
                break;
            }
            if !used[b] && free_links(b) < 2 {
                cand.push((b, w * bend(b)));
            }
        }
        if let Some(b) = choose(cand, rng) {
            return Some(b);
        }
        if !o.keep_tracing || radius >= o.max_probe_radius {
            break;
        }
        radius = (radius + 0.5).min(o.max_probe_radius);
    }
    if !o.keep_tracing {
        return None;
    }
    cand.clear();
    for &(b, d, w) in &t.near[tail] {
        let b = b as usize;
        if (d as f64) >= o.probe_radius {
            break;
        }
        if !used[b] {
            cand.push((b, w * bend(b)));
        }
    }
    let b = choose(cand, rng)?;
    // b is inside a fragment: cut one of its links so that it becomes an end.
    let k = rng.random_range(0..2usize);
    let other = links[b][k];
    if other != NONE {
        links[b][k] = NONE;
        let o = &mut links[other as usize];
        if o[0] == b as u32 {
            o[0] = NONE;
        } else if o[1] == b as u32 {
            o[1] = NONE;
        }
    }
    Some(b)
}

/// The density along a candidate bond relative to the density at the atoms:
/// a Cα–Cα bond runs through backbone density, a jump between strands or
/// helix turns crosses weaker density.
struct BondDensity<'m> {
    map: &'m DensityMap,
    mean: f64,
    /// Median density at the cloud's atoms above the map mean.
    reference: f64,
    power: f64,
}

impl<'m> BondDensity<'m> {
    fn new(map: &'m DensityMap, points: &[Vec3], power: f64) -> Self {
        let mean = map.stats().mean;
        let mut at: Vec<f64> = points
            .iter()
            .filter_map(|p| map.value_at(*p))
            .map(|v| v as f64 - mean)
            .collect();
        at.sort_by(f64::total_cmp);
        let reference = at.get(at.len() / 2).copied().unwrap_or(0.0);
        BondDensity {
            map,
            mean,
            reference,
            power,
        }
    }

    /// (lowest density at 1/4, 1/2, 3/4 of the bond above the mean, over the
    /// reference, clamped to [0, 1]) ^ power, floored so that a join is never
    /// impossible.
    fn weight(&self, a: Vec3, b: Vec3) -> f64 {
        if self.reference <= 0.0 {
            return 1.0;
        }
        let low = [0.25, 0.5, 0.75]
            .iter()
            .map(|&t| {
                self.map
                    .value_at(a + (b - a) * t)
                    .map_or(self.mean, |v| v as f64)
            })
            .fold(f64::INFINITY, f64::min);
        (((low - self.mean) / self.reference).clamp(0.0, 1.0))
            .powf(self.power)
            .max(1e-4)
    }
}

fn weight(d: f64, sigma: f64) -> f64 {
    if sigma <= 0.0 || d <= 3.8 {
        1.0
    } else {
        (-(d - 3.8).powi(2) / (2.0 * sigma * sigma)).exp().max(1e-6)
    }
}

fn choose(cand: &[(usize, f64)], rng: &mut ChaCha8Rng) -> Option<usize> {
    let total: f64 = cand.iter().map(|c| c.1).sum();
    if cand.is_empty() || total <= 0.0 {
        return None;
    }
    let mut r = rng.random::<f64>() * total;
    for &(b, w) in cand {
        if r < w {
            return Some(b);
        }
        r -= w;
    }
    cand.last().map(|c| c.0)
}

/// A trace placed on the query: residue = (position in the directed trace) + shift.
#[derive(Debug, Clone, Copy)]
struct Placement {
    /// Meets the minimum coverage.
    long: bool,
    score: f64,
    /// Hash of the residue → atom assignment (equal placements, equal keys).
    key: u64,
    trace: u64,
    reverse: bool,
    shift: i64,
}

impl PartialEq for Placement {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o).is_eq()
    }
}
impl Eq for Placement {}
impl PartialOrd for Placement {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Placement {
    /// Best first.
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.long
            .cmp(&self.long)
            .then(o.score.total_cmp(&self.score))
            .then(self.key.cmp(&o.key))
    }
}

/// The best `k` placements with distinct keys. Exact under any split of the
/// traces into chunks, so the result does not depend on the thread count.
struct TopK {
    k: usize,
    set: BTreeSet<Placement>,
    keys: HashSet<u64>,
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            set: BTreeSet::new(),
            keys: HashSet::new(),
        }
    }

    fn push(&mut self, p: Placement) {
        if self.k == 0 || self.keys.contains(&p.key) {
            return;
        }
        if self.set.len() >= self.k {
            let worst = *self.set.last().unwrap();
            if p >= worst {
                return;
            }
            self.set.remove(&worst);
            self.keys.remove(&worst.key);
        }
        self.keys.insert(p.key);
        self.set.insert(p);
    }

    fn merge(mut self, other: TopK) -> TopK {
        for p in other.set {
            self.push(p);
        }
        self
    }
}

/// Prefix sums of the predicted probabilities and their squares over the pairs
/// i < j with j − i ≥ min_separation, so that any diagonal block sums in O(1).
struct ContactSums<'a> {
    map: &'a ContactMap,
    l: usize,
    s1: Vec<f64>,
    s2: Vec<f64>,
    sep: usize,
}

impl<'a> ContactSums<'a> {
    fn new(map: &'a ContactMap, sep: usize) -> Self {
        let l = map.len();
        let w = l + 1;
        let mut s1 = vec![0.0; w * w];
        let mut s2 = vec![0.0; w * w];
        for i in 0..l {
            for j in 0..l {
                let p = if j >= i + sep {
                    map.get(i, j) as f64
                } else {
                    0.0
                };
                let at = (i + 1) * w + j + 1;
                s1[at] = p + s1[i * w + j + 1] + s1[(i + 1) * w + j] - s1[i * w + j];
                s2[at] = p * p + s2[i * w + j + 1] + s2[(i + 1) * w + j] - s2[i * w + j];
            }
        }
        ContactSums {
            map,
            l,
            s1,
            s2,
            sep,
        }
    }

    /// (Σp, Σp²) over the pairs inside residues r0..r1.
    fn block(&self, r0: usize, r1: usize) -> (f64, f64) {
        let w = self.l + 1;
        let rect = |s: &[f64]| s[r1 * w + r1] - s[r0 * w + r1] - s[r1 * w + r0] + s[r0 * w + r0];
        (rect(&self.s1), rect(&self.s2))
    }

    /// Pairs with enough separation among m consecutive residues.
    fn n_pairs(&self, m: usize) -> f64 {
        if m <= self.sep {
            0.0
        } else {
            ((m - self.sep) * (m - self.sep + 1) / 2) as f64
        }
    }
}

/// Residue index of each trace position for a placement (None outside the query).
fn residue_of(pos: usize, len: usize, reverse: bool, shift: i64, l: usize) -> Option<usize> {
    let p = if reverse { len - 1 - pos } else { pos } as i64;
    let r = p + shift;
    (r >= 0 && (r as usize) < l).then_some(r as usize)
}

fn placement_key(trace: &[usize], reverse: bool, shift: i64, l: usize) -> u64 {
    // FNV-1a over (residue, atom) pairs in residue order: stable across runs.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |v: u64| {
        for b in v.to_le_bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    let n = trace.len();
    let mut pairs: Vec<(usize, usize)> = (0..n)
        .filter_map(|p| residue_of(p, n, reverse, shift, l).map(|r| (r, trace[p])))
        .collect();
    pairs.sort_unstable();
    for (r, a) in pairs {
        eat(r as u64);
        eat(a as u64);
    }
    h
}

/// The best placement of one trace by contact PCC (step 3).
fn best_placement(
    trace: &[usize],
    index: u64,
    sums: &ContactSums,
    near8: &[Vec<u32>],
    pos_of: &mut [u32],
    min_len: usize,
) -> Placement {
    let l = sums.l;
    let t = trace.len();
    for (p, &a) in trace.iter().enumerate() {
        pos_of[a] = p as u32;
    }
    // Trace contacts (a < b positions) with enough separation.
    let mut contacts: Vec<(usize, usize)> = Vec::new();
    for (pa, &a) in trace.iter().enumerate() {
        for &b in &near8[a] {
            let pb = pos_of[b as usize];
            if pb != NONE && pb as usize >= pa + sums.sep {
                contacts.push((pa, pb as usize));
            }
        }
    }
    for &a in trace {
        pos_of[a] = NONE;
    }
    let (lo, hi) = if t >= l {
        (l as i64 - t as i64, 0)
    } else {
        (0, (l - t) as i64)
    };
    let m = t.min(l);
    let n = sums.n_pairs(m);
    let mut best: Option<(f64, bool, i64)> = None;
    for reverse in [false, true] {
        for shift in lo..=hi {
            let (r0, r1) = if shift >= 0 {
                (shift as usize, shift as usize + m)
            } else {
                (0, l)
            };
            let (sy, syy) = sums.block(r0, r1);
            let (mut sx, mut sxy) = (0.0, 0.0);
            for &(a, b) in &contacts {
                if let (Some(i), Some(j)) = (
                    residue_of(a, t, reverse, shift, l),
                    residue_of(b, t, reverse, shift, l),
                ) {
                    sx += 1.0;
                    sxy += sums.map.get(i, j) as f64;
                }
            }
            let den = ((n * sx - sx * sx) * (n * syy - sy * sy)).sqrt();
            let pcc = if den > 0.0 {
                (n * sxy - sx * sy) / den
            } else {
                0.0
            };
            if best.is_none_or(|b| pcc > b.0) {
                best = Some((pcc, reverse, shift));
            }
        }
    }
    let (score, reverse, shift) = best.unwrap_or((0.0, false, 0));
    Placement {
        long: m >= min_len,
        score,
        key: placement_key(trace, reverse, shift, l),
        trace: index,
        reverse,
        shift,
    }
}

/// Step 1–4 of the module doc: up to `n_gen` regenerated templates, best
/// first, each with its density PCC (on the map cropped around the cloud).
pub fn regenerate(
    cloud: &CaCloud,
    query_len: usize,
    contacts: Option<&ContactMap>,
    map: &DensityMap,
    resolution: f64,
    n_gen: usize,
    opts: &RegenOptions,
) -> Result<Vec<TemplateModel>, RegenError> {
    regenerate_with_stats(cloud, query_len, contacts, map, resolution, n_gen, opts).map(|r| r.0)
}

/// As [`regenerate`], with the run's counts.
pub fn regenerate_with_stats(
    cloud: &CaCloud,
    query_len: usize,
    contacts: Option<&ContactMap>,
    map: &DensityMap,
    resolution: f64,
    n_gen: usize,
    opts: &RegenOptions,
) -> Result<(Vec<TemplateModel>, RegenStats), RegenError> {
    if let Some(c) = contacts {
        if c.len() != query_len {
            return Err(RegenError::ContactLength(c.len(), query_len));
        }
    }
    if !(resolution.is_finite() && resolution > 0.0) {
        return Err(RegenError::BadResolution(resolution));
    }
    let mut stats = RegenStats::default();
    let points = &cloud.points;
    if points.is_empty() || query_len == 0 || n_gen == 0 {
        return Ok((Vec::new(), stats));
    }
    let start = std::time::Instant::now();
    let fragments = connect(points);
    stats.fragments = fragments.len();
    stats.connected_atoms = fragments.iter().filter(|f| f.len() > 1).map(Vec::len).sum();
    let crop = crop_around(map, points, resolution)?;
    let tracer = Tracer::new(points, &fragments, Some(&crop), opts);
    let mut near8 = vec![Vec::new(); points.len()];
    for (i, j, _) in pairs_within(points, CONTACT_CUTOFF) {
        near8[i].push(j as u32);
        near8[j].push(i as u32);
    }
    let sums = contacts.map(|c| ContactSums::new(c, opts.min_separation));
    let min_len = (opts.min_coverage * query_len as f64).ceil() as usize;
    let (top, total_len) = (0..opts.n_traces as u64)
        .into_par_iter()
        .fold(
            || (TopK::new(opts.n_top), 0usize, vec![NONE; points.len()]),
            |(mut top, total, mut pos_of), index| {
                let trace = tracer.trace(index);
                let p = match &sums {
                    Some(s) => best_placement(&trace, index, s, &near8, &mut pos_of, min_len),
                    None => {
                        let t = trace.len() as i64;
                        let shift = (query_len as i64 - t).div_euclid(2);
                        Placement {
                            long: true,
                            score: t.min(query_len as i64) as f64,
                            key: placement_key(&trace, false, shift, query_len),
                            trace: index,
                            reverse: false,
                            shift,
                        }
                    }
                };
                top.push(p);
                (top, total + trace.len(), pos_of)
            },
        )
        .map(|(top, total, _)| (top, total))
        .reduce(
            || (TopK::new(opts.n_top), 0),
            |a, b| (a.0.merge(b.0), a.1 + b.1),
        );
    stats.traces = opts.n_traces;
    stats.mean_trace_len = total_len as f64 / opts.n_traces.max(1) as f64;
    stats.ranked = top.set.len();
    stats.seconds_tracing = start.elapsed().as_secs_f64();

    let start = std::time::Instant::now();
    let mut scored: Vec<(f64, usize, Vec<Option<Vec3>>)> = Vec::new();
    for (rank, p) in top.set.iter().enumerate() {
        let trace = tracer.trace(p.trace);
        let mut ca = vec![None; query_len];
        for (pos, &a) in trace.iter().enumerate() {
            if let Some(r) = residue_of(pos, trace.len(), p.reverse, p.shift, query_len) {
                ca[r] = Some(points[a]);
            }
        }
        let masses: Vec<(Vec3, f64)> = ca.iter().flatten().map(|&x| (x, CA_AMPLITUDE)).collect();
        let sim = simulate_points_like(&masses, resolution, &crop, opts.backend)?;
        let pcc = correlate(&crop, &sim, None, opts.backend)?.pcc;
        scored.push((pcc, rank, ca));
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    stats.seconds_density = start.elapsed().as_secs_f64();
    log::info!(
        "regeneration: {} fragments ({} atoms connected), {} traces of mean length {:.1} in {:.2} s, {} placements ranked by density in {:.2} s",
        stats.fragments,
        stats.connected_atoms,
        stats.traces,
        stats.mean_trace_len,
        stats.seconds_tracing,
        stats.ranked,
        stats.seconds_density
    );
    let models = scored
        .into_iter()
        .take(n_gen)
        .enumerate()
        .map(|(k, (pcc, _, ca))| TemplateModel {
            source: Source::Regenerated,
            template_id: format!("trace_{:04}", k + 1),
            zscore: 0.0,
            ca,
            crscore: None,
            density_pcc: Some(pcc),
        })
        .collect();
    Ok((models, stats))
}

/// The map around the cloud (plus the density's cutoff radius and 2 Å), within
/// the map's own bounds: the density PCC needs no more, and 300 simulations on
/// a whole large map would dominate the run.
fn crop_around(
    map: &DensityMap,
    points: &[Vec3],
    resolution: f64,
) -> Result<DensityMap, RegenError> {
    let margin = Vec3::repeat(cutoff_radius(resolution) + 2.0);
    let (mut lo, mut hi) = (points[0], points[0]);
    for p in points {
        lo = lo.inf(p);
        hi = hi.sup(p);
    }
    let (mlo, mhi) = map.bounds();
    let lo = (lo - margin).sup(&mlo);
    let hi = (hi + margin).inf(&mhi);
    map.crop_to_box(lo, hi, 0.0).map_err(RegenError::Crop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn native() -> Vec<Vec3> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/3j6b_9.pdb");
        crate::io::read_structure(std::path::Path::new(path))
            .unwrap()
            .ca_coords()
    }

    fn contacts_of(ca: &[Vec3]) -> ContactMap {
        let model = TemplateModel {
            source: Source::Threading,
            template_id: String::new(),
            zscore: 0.0,
            ca: ca.iter().map(|&p| Some(p)).collect(),
            crscore: None,
            density_pcc: None,
        };
        ContactMap::from_model(&model)
    }

    fn near8(points: &[Vec3]) -> Vec<Vec<u32>> {
        let mut near = vec![Vec::new(); points.len()];
        for (i, j, _) in pairs_within(points, CONTACT_CUTOFF) {
            near[i].push(j as u32);
            near[j].push(i as u32);
        }
        near
    }

    /// A piece of the native chain, given backwards, is put back on its own
    /// residues by the contact PCC of gapless threading (T < L).
    #[test]
    fn threading_recovers_register_and_direction_of_a_native_piece() {
        let ca = native();
        let l = ca.len();
        let map = contacts_of(&ca);
        let sums = ContactSums::new(&map, 6);
        let trace: Vec<usize> = (20..170).rev().collect();
        let mut pos_of = vec![NONE; l];
        let p = best_placement(&trace, 0, &sums, &near8(&ca), &mut pos_of, 1);
        assert!(p.reverse, "{p:?}");
        assert_eq!(p.shift, 20, "{p:?}");
        assert!((p.score - 1.0).abs() < 1e-9, "{p:?}");
        let t = trace.len();
        for (pos, &a) in trace.iter().enumerate() {
            assert_eq!(residue_of(pos, t, p.reverse, p.shift, l), Some(a));
        }
    }

    /// A trace longer than the query (T > L): the right window is found.
    #[test]
    fn threading_picks_the_window_of_a_longer_trace() {
        let ca = native();
        let l = 120;
        let map = contacts_of(&ca[40..40 + l]);
        let sums = ContactSums::new(&map, 6);
        let trace: Vec<usize> = (0..ca.len()).collect();
        let mut pos_of = vec![NONE; ca.len()];
        let p = best_placement(&trace, 0, &sums, &near8(&ca), &mut pos_of, 1);
        assert!(!p.reverse && p.shift == -40, "{p:?}");
        assert!((p.score - 1.0).abs() < 1e-9, "{p:?}");
    }

    #[test]
    fn bond_cutoffs_are_the_papers() {
        let c = bond_cutoffs();
        assert!((c[0] - 3.8).abs() < 1e-12 && (c[17] - 5.5).abs() < 1e-12);
    }
}
