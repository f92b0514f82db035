//! New templates grown through the map's Cα cloud (paper, Methods, "Initial
//! Cα trace model generation from 3D-CNN Cα conformations", Supplementary
//! Fig. 14): Cα-trace connection, random tracing, and gapless sequence–trace
//! mapping ranked by contact-map, side-chain density, secondary-structure and
//! density correlation.
//!
//! 1. Connection. The paper's ([`connect`]): under each bond cutoff d_b =
//!    3.8, 3.9, …, 5.5 Å, connect every pair closer than d_b; connections
//!    touching an atom with n_conn ≤ 2 are "true"; the others (both ends
//!    over-connected) are removed, longest first, while they keep an end above
//!    2; an atom still above 2 loses all its connections. Connections present
//!    under more than 40 % of the cutoffs are kept (most frequent first, never
//!    a third one on an atom nor a cycle), which leaves paths: the fragments.
//!    Ours by default in maps of 5 Å or finer ([`RegenOptions::link_threshold`]):
//!    the likely paths of [`super::links`], from a bond likelihood of length
//!    and density fitted on validation chains, which join wrong neighbours
//!    about a third as often.
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
//! 3. Threading. Gapless (the paper's): a trace of T atoms is put on the query of L residues
//!    in both directions at every register (T ≥ L: each window of L atoms;
//!    T < L: residues s..s+T for every s). Each placement gets a register
//!    score, a weighted sum of three Pearson correlations
//!    ([`RegenOptions::contact_weight`], [`RegenOptions::side_chain_weight`],
//!    [`RegenOptions::ss_weight`]): its contact map (Cα–Cα < 8 Å, 0/1) with
//!    the predicted contact probabilities over the residue pairs it covers with
//!    |i − j| ≥ [`RegenOptions::min_separation`] (6: closer pairs are in
//!    contact in any compact chain and say nothing about the register); the
//!    map's density along each position's side-chain direction with the
//!    residues' side-chain sizes; the trace's geometric secondary structure
//!    with the sequence's predicted one (the last two in [`super::register`]).
//!    The sums over the prediction come from 2D prefix sums, the sums over the
//!    trace from its contact list, so the contact term costs O(contacts); the
//!    other two cost O(m) for m covered positions. With gaps (the default
//!    when the sequence is known and the map is 5 Å or finer,
//!    [`RegenOptions::gapped`]): each distinct
//!    trace is aligned to the sequence in both directions by
//!    [`super::align`], which lets a step of the trace span two or three
//!    residues (a missing atom) and drops false atoms, and its alignment
//!    score picks the top placements; their register score is then the same
//!    three PCCs over the aligned pairs. At 5 Å or finer the residue types
//!    read from the density ([`super::residue_type`]) join both: their
//!    log-odds in each pair's emission, their mean log-odds over the aligned
//!    pairs in the register score ([`RegenOptions::residue_type_weight`]).
//! 4. Ranking. The best placement of each trace enters a list of the
//!    [`RegenOptions::n_top`] (paper: 300) best distinct placements (traces
//!    shorter than [`RegenOptions::min_coverage`]·L rank after the rest); those
//!    are re-ranked by register score + [`RegenOptions::density_weight`] × the
//!    PCC of their Cα-only eq. 2 density with the map (cropped around the
//!    cloud; the paper ranks by this PCC alone, which cannot see the register)
//!    and the best `n_gen` become templates. With no register signal at all
//!    (no contact map, no sequence) traces are ranked by length, put in the
//!    middle of the sequence, and re-ranked by density alone.

use std::collections::{BTreeSet, HashSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::align::{align, AlignParams, Alignment};
use super::contacts::{ContactMap, CONTACT_CUTOFF};
use super::links::DensityRatio;
use super::register::{
    emission_table, pair_register_scores, pair_type_score, register_scores, Probe, SequenceProfile,
    TraceProfile,
};
use super::residue_type::{composition, density_scale, ResidueTypePredictor, TYPES};
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
    /// Weight of the contact-map PCC in a placement's register score. The
    /// defaults (all four weights 1) were chosen on validation chains
    /// (`mapfold bench templates --split validation`; residues of the first
    /// Cα-trace template on their own register at 3 Å, 12 chains): 11.4 %,
    /// against 7.2 % without the contact term, 10.2 % without the density
    /// PCC, 9.1 % with the side-chain weight 2, 6.0 % for contacts alone
    /// (the former ranking); on 24 chains 10.1 % against 6.1 % when the final
    /// ranking is by density PCC alone.
    pub contact_weight: f64,
    /// Weight of the side-chain density PCC ([`super::register`]).
    pub side_chain_weight: f64,
    /// Weight of the secondary-structure PCC ([`super::register`]).
    pub ss_weight: f64,
    /// Weight of the residue types read from the density
    /// ([`super::residue_type`]; gapped alignment only, maps of
    /// [`super::residue_type::FITTED_MAX_RESOLUTION`] or finer): of their
    /// log-odds in each pair's emission and of their mean log-odds over the
    /// aligned pairs in the register score.
    pub residue_type_weight: f64,
    /// Weight of the placement's Cα-only density PCC in the final ranking,
    /// added to the register score (0: no density simulation at all).
    pub density_weight: f64,
    /// Where the density simulation and correlation run.
    pub backend: Backend,
    /// `Some(t)`: in maps of [`super::links::FITTED_MAX_RESOLUTION`] or
    /// finer, the fragments are the likely paths of [`super::links`] (links
    /// of bond log-odds ≥ t); `None`, or coarser maps: the paper's connection
    /// ([`connect`]).
    pub link_threshold: Option<f64>,
    /// `Some`: in maps of [`super::links::FITTED_MAX_RESOLUTION`] or finer,
    /// traces are aligned to the sequence with gaps ([`super::align`])
    /// instead of gapless threading (needs the sequence; without it, gapless).
    pub gapped: Option<AlignParams>,
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
            contact_weight: 1.0,
            side_chain_weight: 1.0,
            ss_weight: 1.0,
            residue_type_weight: 1.0,
            density_weight: 1.0,
            backend: Backend::Cpu,
            link_threshold: Some(super::links::DEFAULT_MIN_LOGIT),
            gapped: Some(AlignParams::default()),
        }
    }
}

/// Why regeneration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegenError {
    #[error("contact map is for {0} residues, the query has {1}")]
    ContactLength(usize, usize),
    #[error("sequence has {0} residues, the query {1}")]
    SequenceLength(usize, usize),
    #[error("predicted secondary structure is for {0} residues, the query has {1}")]
    SsLength(usize, usize),
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
    /// Distinct traces among them (all of them under gapless threading,
    /// which does not look for repeats).
    pub distinct_traces: usize,
    /// Over the scored traces.
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

/// The density along a candidate bond relative to the density at the atoms
/// ([`DensityRatio`]): a Cα–Cα bond runs through backbone density, a jump
/// between strands or helix turns crosses weaker density.
struct BondDensity<'m> {
    /// None when the atoms are no denser than the map's mean.
    ratio: Option<DensityRatio<'m>>,
    power: f64,
}

impl<'m> BondDensity<'m> {
    fn new(map: &'m DensityMap, points: &[Vec3], power: f64) -> Self {
        BondDensity {
            ratio: DensityRatio::new(map, points),
            power,
        }
    }

    /// (the density ratio clamped to [0, 1]) ^ power, floored so that a join
    /// is never impossible.
    fn weight(&self, a: Vec3, b: Vec3) -> f64 {
        self.ratio.as_ref().map_or(1.0, |r| {
            r.density_ratio(a, b)
                .clamp(0.0, 1.0)
                .powf(self.power)
                .max(1e-4)
        })
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
    let n = trace.len();
    let mut pairs: Vec<(usize, usize)> = (0..n)
        .filter_map(|p| residue_of(p, n, reverse, shift, l).map(|r| (r, trace[p])))
        .collect();
    pairs.sort_unstable();
    pairs_key(&pairs)
}

/// What scores a placement: the contact map's prefix sums, the register
/// signals of [`super::register`], and their weights.
struct Scorer<'a> {
    l: usize,
    contacts: Option<ContactSums<'a>>,
    sequence: Option<SequenceProfile>,
    /// Residue types from the density (gapped alignment only).
    types: Option<TypeSignal>,
    probe: Probe,
    map: &'a DensityMap,
    points: &'a [Vec3],
    near8: Vec<Vec<u32>>,
    opts: RegenOptions,
}

/// The residue-type predictor and what its inputs need of the map.
struct TypeSignal {
    net: ResidueTypePredictor,
    scale: f64,
    resolution: f64,
    /// The query's amino-acid composition (unknown residues left out).
    composition: [f32; TYPES],
}

impl TypeSignal {
    /// Per position of the directed trace `ca`, the log-odds of each type
    /// less their mean over the query's composition: a residue drawn at
    /// random from the query scores 0 on average at every position, as the
    /// alignment's other emissions do. Uncentred, a map whose side chains
    /// are weaker than the predictor learnt (the real EMD-2566 map: the true
    /// type's mean log-odds is negative there) makes every pair negative and
    /// the local alignments short.
    fn log_odds(&self, map: &DensityMap, ca: &[Vec3]) -> Vec<Option<[f32; TYPES]>> {
        self.net
            .trace_log_odds(map, ca, self.scale, self.resolution, &self.composition)
    }
}

impl<'a> Scorer<'a> {
    /// Terms with weight 0 are left out (no cost). The residue types need
    /// the gapped alignment, the sequence, a map of
    /// [`super::residue_type::FITTED_MAX_RESOLUTION`] or finer, and density
    /// at the cloud.
    #[allow(clippy::too_many_arguments)]
    fn new(
        l: usize,
        contacts: Option<&'a ContactMap>,
        sequence: Option<&str>,
        predicted_ss: Option<&[[f32; 3]]>,
        map: &'a DensityMap,
        resolution: f64,
        points: &'a [Vec3],
        opts: &RegenOptions,
    ) -> Self {
        let types = sequence
            .filter(|_| {
                opts.gapped.is_some()
                    && opts.residue_type_weight != 0.0
                    && resolution <= super::residue_type::FITTED_MAX_RESOLUTION
            })
            .and_then(|seq| Some((seq, density_scale(map, points)?)))
            .and_then(|(seq, scale)| match ResidueTypePredictor::bundled() {
                Ok(net) => Some(TypeSignal {
                    net,
                    scale,
                    resolution,
                    composition: composition(seq),
                }),
                Err(e) => {
                    log::warn!("{e}; residue types left out");
                    None
                }
            });
        let mut near8 = vec![Vec::new(); points.len()];
        for (i, j, _) in pairs_within(points, CONTACT_CUTOFF) {
            near8[i].push(j as u32);
            near8[j].push(i as u32);
        }
        Scorer {
            l,
            contacts: contacts
                .filter(|_| opts.contact_weight != 0.0)
                .map(|c| ContactSums::new(c, opts.min_separation)),
            sequence: sequence
                .filter(|_| opts.side_chain_weight != 0.0 || opts.ss_weight != 0.0)
                .map(|s| SequenceProfile::new(s, predicted_ss.filter(|_| opts.ss_weight != 0.0))),
            types,
            probe: Probe::bundled(),
            map,
            points,
            near8,
            opts: *opts,
        }
    }

    /// Whether any score depends on the register.
    fn knows_register(&self) -> bool {
        self.contacts.is_some() || self.sequence.is_some()
    }
}

/// The best placement of one trace by the weighted register score (step 3).
fn best_placement(
    trace: &[usize],
    index: u64,
    sc: &Scorer,
    pos_of: &mut [u32],
    min_len: usize,
) -> Placement {
    let l = sc.l;
    let t = trace.len();
    let (lo, hi) = if t >= l {
        (l as i64 - t as i64, 0)
    } else {
        (0, (l - t) as i64)
    };
    let m = t.min(l);
    if !sc.knows_register() {
        // Register unknown: the trace in the middle of the sequence, longest first.
        let shift = (l as i64 - t as i64).div_euclid(2);
        return Placement {
            long: true,
            score: m as f64,
            key: placement_key(trace, false, shift, l),
            trace: index,
            reverse: false,
            shift,
        };
    }
    // Trace contacts (a < b positions) with enough separation.
    let mut contacts: Vec<(usize, usize)> = Vec::new();
    if let Some(sums) = &sc.contacts {
        for (p, &a) in trace.iter().enumerate() {
            pos_of[a] = p as u32;
        }
        for (pa, &a) in trace.iter().enumerate() {
            for &b in &sc.near8[a] {
                let pb = pos_of[b as usize];
                if pb != NONE && pb as usize >= pa + sums.sep {
                    contacts.push((pa, pb as usize));
                }
            }
        }
        for &a in trace {
            pos_of[a] = NONE;
        }
    }
    let profile = sc.sequence.as_ref().map(|_| {
        let ca: Vec<Vec3> = trace.iter().map(|&a| sc.points[a]).collect();
        TraceProfile::new(&ca, sc.map, &sc.probe)
    });
    let mut best: Option<(f64, bool, i64)> = None;
    for reverse in [false, true] {
        for shift in lo..=hi {
            let score = placement_score(sc, &contacts, profile.as_ref(), t, m, reverse, shift);
            if best.is_none_or(|b| score > b.0) {
                best = Some((score, reverse, shift));
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

/// The weighted register score of one placement of a trace of `t` atoms
/// covering `m` residues: contact PCC, side-chain density PCC, SS PCC.
fn placement_score(
    sc: &Scorer,
    contacts: &[(usize, usize)],
    profile: Option<&TraceProfile>,
    t: usize,
    m: usize,
    reverse: bool,
    shift: i64,
) -> f64 {
    let l = sc.l;
    let mut score = 0.0;
    if let Some(sums) = &sc.contacts {
        let n = sums.n_pairs(m);
        let (r0, r1) = if shift >= 0 {
            (shift as usize, shift as usize + m)
        } else {
            (0, l)
        };
        let (sy, syy) = sums.block(r0, r1);
        let (mut sx, mut sxy) = (0.0, 0.0);
        for &(a, b) in contacts {
            if let (Some(i), Some(j)) = (
                residue_of(a, t, reverse, shift, l),
                residue_of(b, t, reverse, shift, l),
            ) {
                sx += 1.0;
                sxy += sums.map.get(i, j) as f64;
            }
        }
        let den = ((n * sx - sx * sx) * (n * syy - sy * sy)).sqrt();
        if den > 0.0 {
            score += sc.opts.contact_weight * (n * sxy - sx * sy) / den;
        }
    }
    if let (Some(tp), Some(sp)) = (profile, &sc.sequence) {
        let (side, ss) = register_scores(tp, sp, reverse, shift);
        score += sc.opts.side_chain_weight * side + sc.opts.ss_weight * ss;
    }
    score
}

/// FNV-1a over 64-bit values: stable across runs and platforms.
fn fnv(values: impl IntoIterator<Item = u64>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in values {
        for b in v.to_le_bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Hash of a trace's atoms, the same in either direction.
fn trace_key(trace: &[usize]) -> u64 {
    let atoms = trace.iter().map(|&a| a as u64);
    if trace.first() <= trace.last() {
        fnv(atoms)
    } else {
        fnv(atoms.rev())
    }
}

/// The directed trace's register signals: its profile and, with residue
/// types, their log-odds per position.
struct DirectedSignals {
    profile: TraceProfile,
    types: Option<Vec<Option<[f32; TYPES]>>>,
}

/// The trace's local alignment in the direction `reverse` picks
/// ([`super::align`]; pairs of residue and position in the directed trace),
/// the directed trace (cloud atom of each position) and its signals.
fn aligned(
    trace: &[usize],
    reverse: bool,
    sc: &Scorer,
    prm: &AlignParams,
) -> (Alignment, Vec<usize>, DirectedSignals) {
    let directed: Vec<usize> = if reverse {
        trace.iter().rev().copied().collect()
    } else {
        trace.to_vec()
    };
    let ca: Vec<Vec3> = directed.iter().map(|&a| sc.points[a]).collect();
    let profile = TraceProfile::new(&ca, sc.map, &sc.probe);
    let types = sc.types.as_ref().map(|t| t.log_odds(sc.map, &ca));
    let sp = sc
        .sequence
        .as_ref()
        .expect("gapped alignment needs the sequence");
    let em = emission_table(
        &profile,
        sp,
        sc.opts.side_chain_weight,
        sc.opts.ss_weight,
        types.as_deref().map(|t| (t, sc.opts.residue_type_weight)),
    );
    let signals = DirectedSignals { profile, types };
    (align(&ca, &em, sc.l, prm), directed, signals)
}

/// The better direction of one trace, scored by its alignment score.
fn best_alignment(
    trace: &[usize],
    index: u64,
    sc: &Scorer,
    prm: &AlignParams,
    min_len: usize,
) -> Placement {
    let place = |reverse: bool| {
        let (a, directed, _) = aligned(trace, reverse, sc, prm);
        let atoms: Vec<(usize, usize)> = a.pairs.iter().map(|&(r, p)| (r, directed[p])).collect();
        Placement {
            long: atoms.len() >= min_len,
            score: a.score,
            key: pairs_key(&atoms),
            trace: index,
            reverse,
            shift: 0,
        }
    };
    let (fwd, rev) = (place(false), place(true));
    if rev.score > fwd.score {
        rev
    } else {
        fwd
    }
}

/// Hash of (residue, atom) pairs in residue order.
fn pairs_key(pairs: &[(usize, usize)]) -> u64 {
    fnv(pairs.iter().flat_map(|&(r, a)| [r as u64, a as u64]))
}

/// The weighted register score of an alignment ((residue, position) pairs
/// on the `directed` trace with signals `sig`): contact PCC over the covered
/// residue pairs, side-chain density and SS PCC and the residue types' mean
/// log-odds over the aligned pairs; the gapped counterpart of
/// [`placement_score`].
fn pairs_score(
    sc: &Scorer,
    pairs: &[(usize, usize)],
    directed: &[usize],
    sig: &DirectedSignals,
) -> f64 {
    let mut score = 0.0;
    if let Some(sums) = &sc.contacts {
        let (mut n, mut sx, mut sy, mut syy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (x, &(i, pa)) in pairs.iter().enumerate() {
            let a = sc.points[directed[pa]];
            for &(j, pb) in &pairs[x + 1..] {
                if j < i + sums.sep {
                    continue;
                }
                let p = sums.map.get(i, j) as f64;
                n += 1.0;
                sy += p;
                syy += p * p;
                if (a - sc.points[directed[pb]]).norm() < CONTACT_CUTOFF {
                    sx += 1.0;
                    sxy += p;
                }
            }
        }
        let den = ((n * sx - sx * sx) * (n * syy - sy * sy)).sqrt();
        if den > 0.0 {
            score += sc.opts.contact_weight * (n * sxy - sx * sy) / den;
        }
    }
    if let Some(sp) = &sc.sequence {
        let (side, ss) = pair_register_scores(&sig.profile, sp, pairs);
        score += sc.opts.side_chain_weight * side + sc.opts.ss_weight * ss;
        if let Some(t) = &sig.types {
            score += sc.opts.residue_type_weight * pair_type_score(t, sp, pairs);
        }
    }
    score
}

/// The inputs of [`regenerate_from`].
pub struct RegenInputs<'a> {
    pub cloud: &'a CaCloud,
    pub query_len: usize,
    /// The query sequence (of `query_len` letters): enables the side-chain
    /// density term of the register score.
    pub sequence: Option<&'a str>,
    /// Predicted helix/strand/coil probabilities per residue
    /// (`SsPredictor::predict`): enables the secondary-structure term.
    pub predicted_ss: Option<&'a [[f32; 3]]>,
    /// Predicted contact probabilities: enables the contact term.
    pub contacts: Option<&'a ContactMap>,
    pub map: &'a DensityMap,
    pub resolution: f64,
}

/// Step 1–4 of the module doc: up to `n_gen` regenerated templates, best
/// first, each with its density PCC (on the map cropped around the cloud).
/// Without the sequence, the register is scored by the contact map alone.
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
    let inp = RegenInputs {
        cloud,
        query_len,
        sequence: None,
        predicted_ss: None,
        contacts,
        map,
        resolution,
    };
    regenerate_from(&inp, n_gen, opts)
}

/// Step 1–4 of the module doc with every register signal the inputs allow.
pub fn regenerate_from(
    inp: &RegenInputs,
    n_gen: usize,
    opts: &RegenOptions,
) -> Result<(Vec<TemplateModel>, RegenStats), RegenError> {
    let query_len = inp.query_len;
    let resolution = inp.resolution;
    if let Some(c) = inp.contacts {
        if c.len() != query_len {
            return Err(RegenError::ContactLength(c.len(), query_len));
        }
    }
    if let Some(s) = inp.sequence {
        if s.chars().count() != query_len {
            return Err(RegenError::SequenceLength(s.chars().count(), query_len));
        }
    }
    if let Some(p) = inp.predicted_ss {
        if p.len() != query_len {
            return Err(RegenError::SsLength(p.len(), query_len));
        }
    }
    if !(resolution.is_finite() && resolution > 0.0) {
        return Err(RegenError::BadResolution(resolution));
    }
    let mut stats = RegenStats::default();
    let points = &inp.cloud.points;
    if points.is_empty() || query_len == 0 || n_gen == 0 {
        return Ok((Vec::new(), stats));
    }
    let start = std::time::Instant::now();
    // The bond likelihood was fitted on 2–5 Å maps; on 8 Å validation maps
    // neither it nor the gapped alignment gained (BENCHMARKS.md), so coarser
    // maps keep the paper's connection and gapless threading.
    let fitted = super::links::fitted_at(resolution);
    let link_threshold = opts.link_threshold.filter(|_| fitted);
    let fragments = match link_threshold {
        Some(t) => super::links::likely_paths(points, inp.map, t),
        None => connect(points),
    };
    stats.fragments = fragments.len();
    stats.connected_atoms = fragments.iter().filter(|f| f.len() > 1).map(Vec::len).sum();
    let crop = crop_around(inp.map, points, resolution)?;
    let tracer = Tracer::new(points, &fragments, Some(&crop), opts);
    let scorer = Scorer::new(
        query_len,
        inp.contacts,
        inp.sequence,
        inp.predicted_ss,
        &crop,
        resolution,
        points,
        opts,
    );
    let min_len = (opts.min_coverage * query_len as f64).ceil() as usize;
    let gapped = opts.gapped.filter(|_| fitted && scorer.sequence.is_some());
    // Many random traces coincide once the fragments are long: align each
    // distinct one once (the first index that grew it stands for it).
    let distinct: Vec<u64> = if gapped.is_some() {
        let keys: Vec<u64> = (0..opts.n_traces as u64)
            .into_par_iter()
            .map(|index| trace_key(&tracer.trace(index)))
            .collect();
        let mut seen = HashSet::new();
        (0..opts.n_traces as u64)
            .filter(|&i| seen.insert(keys[i as usize]))
            .collect()
    } else {
        (0..opts.n_traces as u64).collect()
    };
    stats.distinct_traces = distinct.len();
    let (top, total_len) = distinct
        .par_iter()
        .fold(
            || (TopK::new(opts.n_top), 0usize, vec![NONE; points.len()]),
            |(mut top, total, mut pos_of), &index| {
                let trace = tracer.trace(index);
                let p = match &gapped {
                    Some(prm) => best_alignment(&trace, index, &scorer, prm, min_len),
                    None => best_placement(&trace, index, &scorer, &mut pos_of, min_len),
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
    stats.mean_trace_len = total_len as f64 / distinct.len().max(1) as f64;
    stats.ranked = top.set.len();
    stats.seconds_tracing = start.elapsed().as_secs_f64();

    // Without a register signal the placement score is only the covered
    // length: the density alone ranks them, as before.
    let (register_weight, density_weight) = if scorer.knows_register() {
        (1.0, opts.density_weight)
    } else {
        (0.0, 1.0)
    };
    let start = std::time::Instant::now();
    struct Ranked {
        long: bool,
        total: f64,
        rank: usize,
        pcc: Option<f64>,
        ca: Vec<Option<Vec3>>,
    }
    let mut scored: Vec<Ranked> = Vec::new();
    for (rank, p) in top.set.iter().enumerate() {
        let trace = tracer.trace(p.trace);
        let mut ca = vec![None; query_len];
        let mut register = p.score;
        match &gapped {
            Some(prm) => {
                let (a, directed, sig) = aligned(&trace, p.reverse, &scorer, prm);
                let pairs = a.pairs;
                register = pairs_score(&scorer, &pairs, &directed, &sig);
                for &(r, q) in &pairs {
                    ca[r] = Some(points[directed[q]]);
                }
            }
            None => {
                for (pos, &a) in trace.iter().enumerate() {
                    if let Some(r) = residue_of(pos, trace.len(), p.reverse, p.shift, query_len) {
                        ca[r] = Some(points[a]);
                    }
                }
            }
        }
        let pcc = if density_weight != 0.0 {
            let masses: Vec<(Vec3, f64)> =
                ca.iter().flatten().map(|&x| (x, CA_AMPLITUDE)).collect();
            let sim = simulate_points_like(&masses, resolution, &crop, opts.backend)?;
            Some(correlate(&crop, &sim, None, opts.backend)?.pcc)
        } else {
            None
        };
        let total = register_weight * register + density_weight * pcc.unwrap_or(0.0);
        scored.push(Ranked {
            long: p.long,
            total,
            rank,
            pcc,
            ca,
        });
    }
    scored.sort_by(|a, b| {
        b.long
            .cmp(&a.long)
            .then(b.total.total_cmp(&a.total))
            .then(a.rank.cmp(&b.rank))
    });
    stats.seconds_density = start.elapsed().as_secs_f64();
    log::info!(
        "regeneration: {} fragments ({} atoms connected), {} traces ({} scored) of mean length {:.1} in {:.2} s, {} placements ranked in {:.2} s",
        stats.fragments,
        stats.connected_atoms,
        stats.traces,
        stats.distinct_traces,
        stats.mean_trace_len,
        stats.seconds_tracing,
        stats.ranked,
        stats.seconds_density
    );
    let models = scored
        .into_iter()
        .take(n_gen)
        .enumerate()
        .map(|(k, Ranked { pcc, ca, .. })| TemplateModel {
            source: Source::Regenerated,
            template_id: format!("trace_{:04}", k + 1),
            zscore: 0.0,
            ca,
            crscore: None,
            density_pcc: pcc,
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

    /// A real map type that no placement touches (the contact-only tests).
    fn empty_map() -> DensityMap {
        DensityMap::zeros([2, 2, 2], [1.0; 3], Vec3::zeros()).unwrap()
    }

    /// A piece of the native chain, given backwards, is put back on its own
    /// residues by the contact PCC of gapless threading (T < L).
    #[test]
    fn threading_recovers_register_and_direction_of_a_native_piece() {
        let ca = native();
        let l = ca.len();
        let map = contacts_of(&ca);
        let dm = empty_map();
        let opts = RegenOptions::default();
        let sc = Scorer::new(l, Some(&map), None, None, &dm, 3.0, &ca, &opts);
        let trace: Vec<usize> = (20..170).rev().collect();
        let mut pos_of = vec![NONE; l];
        let p = best_placement(&trace, 0, &sc, &mut pos_of, 1);
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
        let dm = empty_map();
        let opts = RegenOptions::default();
        let sc = Scorer::new(l, Some(&map), None, None, &dm, 3.0, &ca, &opts);
        let trace: Vec<usize> = (0..ca.len()).collect();
        let mut pos_of = vec![NONE; ca.len()];
        let p = best_placement(&trace, 0, &sc, &mut pos_of, 1);
        assert!(!p.reverse && p.shift == -40, "{p:?}");
        assert!((p.score - 1.0).abs() < 1e-9, "{p:?}");
    }

    /// On the real 3.2 Å EMD-2566 map, with no contact map, the side-chain
    /// density and secondary-structure scores alone put a backwards native
    /// piece back on its own residues, and the full native chain in its own
    /// direction; shifted registers score lower.
    #[test]
    fn register_score_alone_recovers_register_and_direction_on_emd2566() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/3j6b_9.pdb");
        let s = crate::io::read_structure(std::path::Path::new(path)).unwrap();
        let seq = crate::sequence::canonical_sequence(&s.chains[0]);
        let ca = s.chains[0].ca_coords();
        let l = ca.len();
        let mrc = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/emd2566_3j6b_9.mrc");
        let map = crate::io::mrc::read_map(std::path::Path::new(mrc)).unwrap();
        let ss = crate::threading::ssp::SsPredictor::bundled()
            .unwrap()
            .predict(&seq);
        let opts = RegenOptions::default();
        let sc = Scorer::new(l, None, Some(&seq), Some(&ss), &map, 3.2, &ca, &opts);
        let mut pos_of = vec![NONE; l];
        let trace: Vec<usize> = (20..170).rev().collect();
        let p = best_placement(&trace, 0, &sc, &mut pos_of, 1);
        eprintln!("native residues 20..170 backwards: {p:?}");
        assert!(p.reverse && p.shift == 20, "{p:?}");
        let whole: Vec<usize> = (0..l).collect();
        let q = best_placement(&whole, 0, &sc, &mut pos_of, 1);
        assert!(!q.reverse && q.shift == 0, "{q:?}");
        let ordered: Vec<Vec3> = trace.iter().map(|&a| ca[a]).collect();
        let tp = TraceProfile::new(&ordered, &map, &sc.probe);
        let at =
            |shift| placement_score(&sc, &[], Some(&tp), trace.len(), trace.len(), true, shift);
        for d in [1, 2, 3, 5] {
            assert!(at(20) > at(20 + d) && at(20) > at(20 - d), "shift ±{d}");
        }
    }

    #[test]
    fn bond_cutoffs_are_the_papers() {
        let c = bond_cutoffs();
        assert!((c[0] - 3.8).abs() < 1e-12 && (c[17] - 5.5).abs() < 1e-12);
    }
}
