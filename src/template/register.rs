//! Register signals of gapless sequence–trace threading ([`super::regenerate`]):
//! two scores of a placement (which residue sits on which trace atom) that,
//! unlike the placement's Cα-only density, change with the register.
//!
//! 1. Side-chain density. At trace position p the side chain points away from
//!    the backbone along the mean side-chain centroid offset of the local Cα
//!    frame (`assembly::geometry::local_frame`; offset of the type-averaged
//!    residue X for the position's geometric secondary structure, from the
//!    bundled knowledge statistics). The map's density sampled along that
//!    direction (at 0.6, 1.0 and 1.5 times the centroid distance) makes a
//!    profile x_p, which is correlated (Pearson) with the side-chain sizes
//!    s_r (heavy atoms beyond Cα; Gly 0, Trp 10) of the residues the
//!    placement puts there: big side chains where there is density.
//! 2. Secondary structure. Each trace position gets a geometric state from its
//!    Cα distances (helix: d(p−1, p+2) or d(p, p+3) within 4.6–6.0 Å with
//!    d(p−1, p+1) < 6.0 Å; strand: d(p−1, p+1) within 6.2–7.4 Å; coil
//!    otherwise), compared with the predicted helix/strand/coil probabilities
//!    P_r of the residues: the Pearson correlation of the one-hot states with
//!    the probabilities over the 3m entries of the m covered positions,
//!    (N·ΣP_r(g_p) − m²) / √((N·m − m²)(N·ΣP² − m²)), N = 3m.
//!
//! Both sums over the residues and over the trace come from prefix sums; only
//! the cross term costs O(m) per register.

use super::residue_type::TYPES;
use crate::assembly::geometry::local_frame;
use crate::assembly::stats::KnowledgeStats;
use crate::map::DensityMap;
use crate::sequence::{index_or_unknown, UNKNOWN_INDEX};
use crate::threading::Ss;
use crate::Vec3;

/// Side-chain heavy atoms beyond Cα (Cβ included), in `sequence::AMINO_ACIDS`
/// order: A C D E F G H I K L M N P Q R S T V W Y.
const SIDE_CHAIN_ATOMS: [f64; 20] = [
    1.0, 2.0, 4.0, 5.0, 7.0, 0.0, 6.0, 4.0, 5.0, 4.0, 4.0, 4.0, 3.0, 5.0, 7.0, 2.0, 3.0, 3.0, 10.0,
    8.0,
];

/// Samples along the side-chain direction, as fractions of the centroid distance.
const PROBE_FRACTIONS: [f64; 3] = [0.6, 1.0, 1.5];

/// Side-chain size of a residue letter (unknown: the mean of the 20).
pub fn side_chain_size(c: char) -> f64 {
    match index_or_unknown(c) {
        UNKNOWN_INDEX => SIDE_CHAIN_ATOMS.iter().sum::<f64>() / 20.0,
        i => SIDE_CHAIN_ATOMS[i],
    }
}

/// Zero mean, unit SD (population); zeros when constant.
fn standardised(v: &[f64]) -> Vec<f64> {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    if sd > 1e-12 {
        v.iter().map(|x| (x - mean) / sd).collect()
    } else {
        vec![0.0; v.len()]
    }
}

/// Prefix sums: `p[k]` = sum of the first k values.
fn prefix(v: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut out = vec![0.0];
    let mut s = 0.0;
    for x in v {
        s += x;
        out.push(s);
    }
    out
}

/// The query's side-of-the-sequence signals, built once per regeneration.
pub struct SequenceProfile {
    /// Residue type indices (`sequence::AMINO_ACIDS`; 20: unknown).
    types: Vec<usize>,
    size: Vec<f64>,
    /// `size` standardised (zero mean, unit SD; zeros when constant).
    size_z: Vec<f64>,
    size1: Vec<f64>,
    size2: Vec<f64>,
    /// Predicted helix/strand/coil probabilities (None: no SS term).
    ss: Option<Vec<[f64; 3]>>,
    ss2: Vec<f64>,
}

impl SequenceProfile {
    /// `ss`: predicted probabilities per residue (`SsPredictor::predict`), of
    /// the sequence's length, or None.
    pub fn new(sequence: &str, ss: Option<&[[f32; 3]]>) -> SequenceProfile {
        let size: Vec<f64> = sequence.chars().map(side_chain_size).collect();
        let ss: Option<Vec<[f64; 3]>> = ss
            .filter(|p| p.len() == size.len())
            .map(|p| p.iter().map(|q| q.map(|x| x as f64)).collect());
        SequenceProfile {
            types: sequence.chars().map(index_or_unknown).collect(),
            size_z: standardised(&size),
            size1: prefix(size.iter().copied()),
            size2: prefix(size.iter().map(|x| x * x)),
            ss2: prefix(
                ss.iter()
                    .flatten()
                    .map(|q| q.iter().map(|x| x * x).sum::<f64>()),
            ),
            size,
            ss,
        }
    }

    pub fn len(&self) -> usize {
        self.size.len()
    }

    pub fn is_empty(&self) -> bool {
        self.size.is_empty()
    }

    pub fn has_ss(&self) -> bool {
        self.ss.is_some()
    }
}

/// Side-chain directions in the local Cα frame, per geometric state.
pub struct Probe {
    /// Offsets (b, n, t components, Å) of the samples, per state.
    samples: [Vec<[f64; 3]>; 3],
}

impl Probe {
    /// From the bundled knowledge statistics' centroid offsets of residue X.
    pub fn bundled() -> Probe {
        let stats = KnowledgeStats::bundled();
        let x = &stats.centroid[UNKNOWN_INDEX];
        let samples = std::array::from_fn(|s| {
            PROBE_FRACTIONS
                .iter()
                .map(|f| x[s].map(|c| c * f))
                .collect()
        });
        Probe { samples }
    }
}

/// The trace's side of the signals: per trace position its density profile
/// value and geometric state.
pub struct TraceProfile {
    density: Vec<f64>,
    d1: Vec<f64>,
    d2: Vec<f64>,
    state: Vec<Ss>,
}

/// Geometric secondary structure of each position of a Cα trace (module doc).
pub fn geometric_ss(ca: &[Vec3]) -> Vec<Ss> {
    let n = ca.len();
    let d = |a: usize, b: usize| (ca[a] - ca[b]).norm();
    (0..n)
        .map(|p| {
            let d2 = (p >= 1 && p + 1 < n).then(|| d(p - 1, p + 1));
            let helix_pair = |a: Option<f64>| a.is_some_and(|x| (4.6..=6.0).contains(&x));
            let h1 = (p >= 1 && p + 2 < n).then(|| d(p - 1, p + 2));
            let h2 = (p + 3 < n).then(|| d(p, p + 3));
            if (helix_pair(h1) || helix_pair(h2)) && d2.is_none_or(|x| x < 6.0) {
                Ss::Helix
            } else if d2.is_some_and(|x| (6.2..=7.4).contains(&x)) {
                Ss::Strand
            } else {
                Ss::Coil
            }
        })
        .collect()
}

impl TraceProfile {
    /// `ca`: the trace's Cα in trace order.
    pub fn new(ca: &[Vec3], map: &DensityMap, probe: &Probe) -> TraceProfile {
        let n = ca.len();
        let state = geometric_ss(ca);
        let density: Vec<f64> = (0..n)
            .map(|p| {
                if n < 3 {
                    return 0.0;
                }
                let j = p.clamp(1, n - 2);
                let Some([b, nn, t]) = local_frame(&ca[j - 1], &ca[j], &ca[j + 1]) else {
                    return 0.0;
                };
                probe.samples[state[p] as usize]
                    .iter()
                    .map(|o| {
                        let x = ca[p] + b * o[0] + nn * o[1] + t * o[2];
                        map.value_at(x).unwrap_or(0.0) as f64
                    })
                    .sum::<f64>()
            })
            .collect();
        TraceProfile {
            d1: prefix(density.iter().copied()),
            d2: prefix(density.iter().map(|x| x * x)),
            density,
            state,
        }
    }

    pub fn len(&self) -> usize {
        self.density.len()
    }

    pub fn is_empty(&self) -> bool {
        self.density.is_empty()
    }
}

/// Pearson correlation from sums over n pairs; 0 when either side is constant.
fn pearson(n: f64, sx: f64, sxx: f64, sy: f64, syy: f64, sxy: f64) -> f64 {
    let den = ((n * sxx - sx * sx) * (n * syy - sy * sy)).max(0.0).sqrt();
    if den > 1e-12 {
        (n * sxy - sx * sy) / den
    } else {
        0.0
    }
}

/// (side-chain density PCC, SS PCC) of a placement: directed trace position q
/// (q = p, or T−1−p when `reverse`) on residue q + `shift`; the covered
/// positions are those with a residue. The SS PCC is 0 without predicted SS.
pub fn register_scores(
    tp: &TraceProfile,
    sp: &SequenceProfile,
    reverse: bool,
    shift: i64,
) -> (f64, f64) {
    let t = tp.len() as i64;
    let l = sp.len() as i64;
    let q0 = (-shift).max(0);
    let q1 = (l - shift).min(t);
    if q1 - q0 < 2 {
        return (0.0, 0.0);
    }
    let m = (q1 - q0) as usize;
    let r0 = (q0 + shift) as usize;
    // Trace positions covered: a contiguous range either way.
    let (p0, p1) = if reverse {
        ((t - q1) as usize, (t - q0) as usize)
    } else {
        (q0 as usize, q1 as usize)
    };
    let pos = |k: usize| if reverse { p1 - 1 - k } else { p0 + k };
    let (sx, sxx) = (tp.d1[p1] - tp.d1[p0], tp.d2[p1] - tp.d2[p0]);
    let (sy, syy) = (
        sp.size1[r0 + m] - sp.size1[r0],
        sp.size2[r0 + m] - sp.size2[r0],
    );
    let mut sxy = 0.0;
    for k in 0..m {
        sxy += tp.density[pos(k)] * sp.size[r0 + k];
    }
    let side = pearson(m as f64, sx, sxx, sy, syy, sxy);
    let ss = match &sp.ss {
        None => 0.0,
        Some(prob) => {
            let mut agree = 0.0;
            for k in 0..m {
                agree += prob[r0 + k][tp.state[pos(k)] as usize];
            }
            let n = 3.0 * m as f64;
            let mf = m as f64;
            pearson(n, mf, mf, mf, sp.ss2[r0 + m] - sp.ss2[r0], agree)
        }
    };
    (side, ss)
}

/// Per-pair emission of the gapped alignment (`super::align`), row-major over
/// (trace position, residue): the side-chain term as the product of the
/// standardised trace density and the standardised side-chain size (the
/// summand of the Pearson numerator), plus the SS term 3·P_r(g_p) − 1 (0 for
/// a random state, 2 for a certain match), each with its weight. Zero terms
/// without a sequence side (no SS prediction, constant sizes). With
/// `types` (per position the log-odds of each residue type,
/// `super::residue_type`, and its weight), the log-odds of the residue's type
/// is added (0 for unknown residues and positions without a frame).
pub fn emission_table(
    tp: &TraceProfile,
    sp: &SequenceProfile,
    side_w: f64,
    ss_w: f64,
    types: Option<(&[Option<[f32; TYPES]>], f64)>,
) -> Vec<f32> {
    let zx = standardised(&tp.density);
    let zs = &sp.size_z;
    let l = sp.len();
    let mut out = vec![0.0f32; tp.len() * l];
    for p in 0..tp.len() {
        let row = &mut out[p * l..(p + 1) * l];
        let g = tp.state[p] as usize;
        let odds = types.and_then(|(t, w)| t[p].map(|o| (o, w as f32)));
        for (r, e) in row.iter_mut().enumerate() {
            let ss = sp.ss.as_ref().map_or(0.0, |prob| 3.0 * prob[r][g] - 1.0);
            *e = (side_w * zx[p] * zs[r] + ss_w * ss) as f32;
            if let Some((o, w)) = odds {
                if let Some(&v) = o.get(sp.types[r]) {
                    *e += w * v;
                }
            }
        }
    }
    out
}

/// Mean log-odds of the aligned residues' types (`types` as in
/// [`emission_table`]) over the pairs `(r, p)` that have both; 0 without any.
pub fn pair_type_score(
    types: &[Option<[f32; TYPES]>],
    sp: &SequenceProfile,
    pairs: &[(usize, usize)],
) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for &(r, p) in pairs {
        if let Some(&v) = types[p].as_ref().and_then(|o| o.get(sp.types[r])) {
            sum += v as f64;
            n += 1;
        }
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

/// (side-chain density PCC, SS PCC) over any residue ↔ trace position pairs
/// `(r, p)`: [`register_scores`] for alignments with gaps.
pub fn pair_register_scores(
    tp: &TraceProfile,
    sp: &SequenceProfile,
    pairs: &[(usize, usize)],
) -> (f64, f64) {
    let m = pairs.len();
    if m < 2 {
        return (0.0, 0.0);
    }
    let (mut sx, mut sxx, mut sy, mut syy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut agree = 0.0;
    let mut ss2 = 0.0;
    for &(r, p) in pairs {
        let (x, y) = (tp.density[p], sp.size[r]);
        sx += x;
        sxx += x * x;
        sy += y;
        syy += y * y;
        sxy += x * y;
        if let Some(prob) = &sp.ss {
            agree += prob[r][tp.state[p] as usize];
            ss2 += prob[r].iter().map(|q| q * q).sum::<f64>();
        }
    }
    let side = pearson(m as f64, sx, sxx, sy, syy, sxy);
    let ss = if sp.ss.is_some() {
        let mf = m as f64;
        pearson(3.0 * mf, mf, mf, mf, ss2, agree)
    } else {
        0.0
    };
    (side, ss)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::threading::ssp::SsPredictor;

    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name)
    }

    /// Native Cα and canonical sequence of 3J6B chain 9, and the real EMD-2566 cut-out.
    pub(crate) fn native() -> (Vec<Vec3>, String, DensityMap) {
        let s = crate::io::read_structure(&fixture("3j6b_9.pdb")).unwrap();
        let chain = &s.chains[0];
        let ca = chain.ca_coords();
        let seq = crate::sequence::canonical_sequence(chain);
        assert_eq!(ca.len(), seq.chars().count());
        let map = crate::io::mrc::read_map(&fixture("emd2566_3j6b_9.mrc")).unwrap();
        (ca, seq, map)
    }

    /// Scores of every register of a native piece (residues 20..170), in
    /// either direction: (reverse, shift, side, ss).
    fn all_registers(ca: &[Vec3], seq: &str, map: &DensityMap) -> Vec<(bool, i64, f64, f64)> {
        let ss = SsPredictor::bundled().unwrap().predict(seq);
        let sp = SequenceProfile::new(seq, Some(&ss));
        let tp = TraceProfile::new(&ca[20..170], map, &Probe::bundled());
        let l = seq.chars().count() as i64;
        let mut out = Vec::new();
        for reverse in [false, true] {
            for shift in 0..=l - 150 {
                let (a, b) = register_scores(&tp, &sp, reverse, shift);
                out.push((reverse, shift, a, b));
            }
        }
        out
    }

    /// On the real 3.2 Å EMD-2566 map, each signal alone ranks the true
    /// register of a native piece above the shifted ones (by a margin in
    /// standard deviations of all registers' scores).
    #[test]
    fn each_signal_prefers_the_true_register_on_emd2566() {
        let (ca, seq, map) = native();
        let all = all_registers(&ca, &seq, &map);
        for (name, f) in [
            (
                "side-chain density",
                (|x: &(bool, i64, f64, f64)| x.2) as fn(&_) -> f64,
            ),
            ("secondary structure", |x| x.3),
        ] {
            let v: Vec<f64> = all.iter().map(f).collect();
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
            let truth = all.iter().find(|x| !x.0 && x.1 == 20).map(f).unwrap();
            let better = v.iter().filter(|&&x| x > truth).count();
            eprintln!(
                "{name}: true register {truth:.3}, all {} registers {mean:.3} ± {sd:.3} (z = {:.1}), {better} better",
                v.len(),
                (truth - mean) / sd
            );
            assert!((truth - mean) / sd > 2.0, "{name}");
            for d in [1, 2, 3] {
                let shifted = all.iter().find(|x| !x.0 && x.1 == 20 + d).map(f).unwrap();
                assert!(truth > shifted, "{name}: shift +{d}");
            }
        }
    }

    /// Over the pairs of a gapless placement, the pairwise scores equal the
    /// prefix-sum ones, in either direction.
    #[test]
    fn pair_scores_match_gapless_scores() {
        let (ca, seq, map) = native();
        let ss = SsPredictor::bundled().unwrap().predict(&seq);
        let sp = SequenceProfile::new(&seq, Some(&ss));
        let tp = TraceProfile::new(&ca[20..170], &map, &Probe::bundled());
        for (reverse, shift) in [(false, 20), (false, 3), (true, 31)] {
            let t = tp.len();
            let pairs: Vec<(usize, usize)> = (0..t)
                .map(|q| {
                    let p = if reverse { t - 1 - q } else { q };
                    ((q as i64 + shift) as usize, p)
                })
                .collect();
            let a = register_scores(&tp, &sp, reverse, shift);
            let b = pair_register_scores(&tp, &sp, &pairs);
            assert!(
                (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9,
                "{a:?} {b:?}"
            );
        }
    }

    #[test]
    fn geometric_ss_of_the_native_agrees_with_dssp() {
        let (ca, seq, _) = native();
        let g = geometric_ss(&ca);
        let s = crate::io::read_structure(&fixture("3j6b_9.pdb")).unwrap();
        let dssp =
            crate::threading::dssp::assign(&crate::threading::dssp::chain_backbone(&s.chains[0]));
        assert_eq!(dssp.len(), seq.chars().count());
        let q3 = crate::threading::ssp::q3(&g, &dssp);
        let count = |s: Ss| g.iter().filter(|&&x| x == s).count();
        eprintln!(
            "geometric SS of 3J6B chain 9: {} H, {} E, {} C; agreement with DSSP {q3:.3}",
            count(Ss::Helix),
            count(Ss::Strand),
            count(Ss::Coil)
        );
        assert!(q3 > 0.5, "{q3}");
    }
}
