//! Which amino acid sits at a Cα trace atom, from the density around it: a
//! per-residue register signal for the gapped trace–sequence alignment
//! ([`super::align`]) far stronger than the side-chain size alone
//! ([`super::register`]). Not in the paper, whose threading of Cα traces uses
//! no side-chain density at all; ModelAngelo and DeepMainmast read residue
//! types from the map in the same spirit.
//!
//! Input: the map sampled (trilinear) on a 7 × 5 × 5 grid in the local Cα
//! frame (`assembly::geometry::local_frame` of the atom and its two trace
//! neighbours: b along the bisector, away from the chain, where side chains
//! point; n the normal, whose sign knows the trace's direction and so the
//! handedness of Cβ; t along the chain), b from −1.5 to 7.5 Å and n, t from
//! −3 to 3 Å in steps of 1.5 Å, each value divided by the map's mean density
//! at the trace atoms (so the scale of the map does not matter), plus the
//! resolution. One hidden layer of ReLU units, a softmax over the 20 amino
//! acids. The emission of residue type a at an atom is the log-odds
//! log P(a | density) − log P(a), P(a) the type's frequency in the training
//! samples: zero where the density tells nothing, summable along an alignment.
//! The alignment uses them [`centred`] per atom over the query's composition,
//! so that a residue drawn at random from the query scores 0 on average even
//! where the map's side chains are weaker than the predictor learnt (real
//! maps: on EMD-2566 the true type's mean log-odds is negative).
//!
//! Trained by `mapfold library train-restype` on 2–5 Å maps of train-split
//! chains, half simulated as the benchmark harness makes them
//! (`bench::harness::maps`, SNR 4–10), half degraded like experimental maps
//! (`training::residue_maps`), at the native Cα moved by Gaussian noise of
//! 0.35 Å per axis (a cloud atom is not exactly a Cα); the epoch with the best
//! validation information is kept. Shipped weights: `weights/restype.bin`
//! (figures in `weights/README.md`).
//!
//! Weight file: magic "MFRTY001", u32 inputs, u32 hidden units, then f32
//! little-endian: w1 (inputs × hidden), b1 (hidden), w2 (hidden × 20), b2 (20),
//! log background frequencies (20).

use std::path::Path;

use rand::{Rng, SeedableRng};

use crate::assembly::geometry::local_frame;
use crate::io::bytes::ByteReader;
use crate::io::FileError;
use crate::map::DensityMap;
use crate::Vec3;

const MAGIC: &[u8; 8] = b"MFRTY001";
/// Amino-acid types (`sequence::AMINO_ACIDS` order).
pub const TYPES: usize = 20;
/// Grid along b, n and t (Å).
const GRID_B: [f64; 7] = [-1.5, 0.0, 1.5, 3.0, 4.5, 6.0, 7.5];
const GRID_NT: [f64; 5] = [-3.0, -1.5, 0.0, 1.5, 3.0];
/// Density samples plus the resolution.
pub const INPUTS: usize = GRID_B.len() * GRID_NT.len() * GRID_NT.len() + 1;
/// Density ratios are clamped to this range (noise spikes, map edges).
const RATIO_RANGE: (f64, f64) = (-1.0, 3.0);
/// The shipped predictor was fitted on 2–5 Å maps. One fitted on 5–8 Å maps
/// helped little at 8 Å on validation (BENCHMARKS.md) and is not shipped.
pub const FITTED_MAX_RESOLUTION: f64 = 5.0;

/// The map's mean density at `points` (the scale features are divided by);
/// None when it is not positive.
pub fn density_scale(map: &DensityMap, points: &[Vec3]) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0usize);
    for v in points.iter().filter_map(|&p| map.value_at(p)) {
        sum += v as f64;
        n += 1;
    }
    let mean = sum / n.max(1) as f64;
    (mean > 0.0 && mean.is_finite()).then_some(mean)
}

/// The input of one atom `cur` with trace neighbours `prev` and `next`; None
/// when the three are collinear or coincide.
pub fn features(
    map: &DensityMap,
    prev: &Vec3,
    cur: &Vec3,
    next: &Vec3,
    scale: f64,
    resolution: f64,
) -> Option<[f32; INPUTS]> {
    let frame = local_frame(prev, cur, next)?;
    Some(sample_frame(map, cur, &frame, scale, resolution))
}

/// The map on the grid of `frame` (b, n, t) centred on `centre`.
fn sample_frame(
    map: &DensityMap,
    centre: &Vec3,
    [b, n, t]: &[Vec3; 3],
    scale: f64,
    resolution: f64,
) -> [f32; INPUTS] {
    let mut out = [0.0f32; INPUTS];
    let mut k = 0;
    for &x in &GRID_B {
        for &y in &GRID_NT {
            for &z in &GRID_NT {
                let p = centre + b * x + n * y + t * z;
                let v = map.value_at(p).unwrap_or(0.0) as f64 / scale;
                out[k] = v.clamp(RATIO_RANGE.0, RATIO_RANGE.1) as f32;
                k += 1;
            }
        }
    }
    out[k] = ((resolution - 3.5) / 1.5) as f32;
    out
}

/// Inputs of every position of a directed trace (`ca` in trace order); the
/// end atoms borrow their neighbour's frame. None where there is no frame.
pub fn trace_features(
    map: &DensityMap,
    ca: &[Vec3],
    scale: f64,
    resolution: f64,
) -> Vec<Option<[f32; INPUTS]>> {
    let n = ca.len();
    (0..n)
        .map(|p| {
            if n < 3 {
                return None;
            }
            let j = p.clamp(1, n - 2);
            let frame = local_frame(&ca[j - 1], &ca[j], &ca[j + 1])?;
            Some(sample_frame(map, &ca[p], &frame, scale, resolution))
        })
        .collect()
}

/// Fractions of the 20 amino acids in `sequence` (uniform when it has none).
pub fn composition(sequence: &str) -> [f32; TYPES] {
    let mut c = [0.0f32; TYPES];
    for t in sequence.chars().map(crate::sequence::index_or_unknown) {
        if let Some(x) = c.get_mut(t) {
            *x += 1.0;
        }
    }
    let n: f32 = c.iter().sum();
    if n > 0.0 {
        c.map(|x| x / n)
    } else {
        [1.0 / TYPES as f32; TYPES]
    }
}

/// Log-odds less their mean over `composition`: a residue drawn at random
/// from that composition scores 0 on average.
pub fn centred(log_odds: [f32; TYPES], composition: &[f32; TYPES]) -> [f32; TYPES] {
    let mean: f32 = log_odds.iter().zip(composition).map(|(a, f)| a * f).sum();
    log_odds.map(|v| v - mean)
}

/// The trained predictor.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidueTypePredictor {
    pub hidden: usize,
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: Vec<f32>,
    log_background: Vec<f32>,
}

/// One training sample: the input and the true type.
#[derive(Debug, Clone)]
pub struct Sample {
    pub x: [f32; INPUTS],
    pub y: u8,
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub hidden: usize,
    pub epochs: usize,
    pub learning_rate: f32,
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            hidden: 128,
            epochs: 16,
            learning_rate: 0.002,
            seed: 1,
        }
    }
}

/// What one set of samples says of a predictor.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Scores {
    pub samples: usize,
    /// Fraction of samples whose most likely type is the true one.
    pub top1: f64,
    /// Mean log-odds of the true type (nats; 0: the background alone).
    pub information: f64,
}

/// Per-epoch validation scores and the kept epoch.
#[derive(Debug, Clone)]
pub struct TrainReport {
    pub validation: Vec<Scores>,
    pub best_epoch: usize,
}

impl ResidueTypePredictor {
    /// The weights shipped in `weights/restype.bin` (2–5 Å).
    pub fn bundled() -> Result<ResidueTypePredictor, String> {
        ResidueTypePredictor::from_bytes(include_bytes!("../../weights/restype.bin"))
            .map_err(|e| format!("bundled weights/restype.bin: {e}"))
    }

    /// Hidden activations (after ReLU) and log-probabilities of one input.
    fn forward(&self, x: &[f32; INPUTS], h: &mut [f32], logp: &mut [f32; TYPES]) {
        let nh = self.hidden;
        h.copy_from_slice(&self.b1);
        for (i, &xi) in x.iter().enumerate() {
            if xi != 0.0 {
                for (a, w) in h.iter_mut().zip(&self.w1[i * nh..(i + 1) * nh]) {
                    *a += xi * w;
                }
            }
        }
        for a in h.iter_mut() {
            *a = a.max(0.0);
        }
        logp.copy_from_slice(&self.b2);
        for (k, &a) in h.iter().enumerate() {
            if a > 0.0 {
                for (o, w) in logp.iter_mut().zip(&self.w2[k * TYPES..(k + 1) * TYPES]) {
                    *o += a * w;
                }
            }
        }
        let m = logp.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let z = logp.iter().map(|v| (v - m).exp()).sum::<f32>().ln() + m;
        for o in logp.iter_mut() {
            *o -= z;
        }
    }

    /// log P(a | x) − log P(a) for each type a.
    pub fn log_odds(&self, x: &[f32; INPUTS]) -> [f32; TYPES] {
        let mut h = vec![0.0; self.hidden];
        let mut lp = [0.0; TYPES];
        self.forward(x, &mut h, &mut lp);
        for (o, b) in lp.iter_mut().zip(&self.log_background) {
            *o -= b;
        }
        lp
    }

    /// Per position of the directed trace `ca` ([`trace_features`]), the
    /// log-odds of each type [`centred`] over `composition`.
    pub fn trace_log_odds(
        &self,
        map: &DensityMap,
        ca: &[Vec3],
        scale: f64,
        resolution: f64,
        composition: &[f32; TYPES],
    ) -> Vec<Option<[f32; TYPES]>> {
        trace_features(map, ca, scale, resolution)
            .into_iter()
            .map(|x| x.map(|x| centred(self.log_odds(&x), composition)))
            .collect()
    }

    /// How well a model's sequence fits the side-chain density at its own
    /// Cα: the mean over residues of the [`centred`] log-odds (nats) of the
    /// residue's type, `sequence[i]` at `ca[i]`. About 0 for a chain in a
    /// wrong register (or a random sequence), positive when the register is
    /// right, which neither CRscore nor the map PCC can see.
    /// `None` when no residue can be read (no Cα inside the map with
    /// neighbours on both sides, or no standard residues); `scale` as for
    /// [`trace_features`].
    pub fn sequence_agreement(
        &self,
        map: &DensityMap,
        ca: &[Vec3],
        sequence: &str,
        scale: f64,
        resolution: f64,
    ) -> Option<f64> {
        let comp = composition(sequence);
        let lo = self.trace_log_odds(map, ca, scale, resolution, &comp);
        let (mut sum, mut n) = (0.0f64, 0usize);
        let types = sequence.chars().map(crate::sequence::index_or_unknown);
        for ((t, o), p) in types.zip(&lo).zip(ca) {
            // Outside the box the features are all empty density: nothing read.
            if let (Some(o), true, Some(_)) = (o, t < TYPES, map.value_at(*p)) {
                sum += o[t] as f64;
                n += 1;
            }
        }
        (n > 0).then(|| sum / n as f64)
    }

    /// Top-1 accuracy and mean information of the true type over `samples`.
    pub fn score(&self, samples: &[Sample]) -> Scores {
        let (mut ok, mut info) = (0usize, 0.0f64);
        for s in samples {
            let lo = self.log_odds(&s.x);
            // The most likely type: log-odds plus log background.
            let lp = |a: usize| lo[a] + self.log_background[a];
            let best = (0..TYPES)
                .max_by(|&a, &b| lp(a).total_cmp(&lp(b)))
                .unwrap_or(0);
            ok += (best == s.y as usize) as usize;
            info += lo[s.y as usize] as f64;
        }
        let n = samples.len().max(1) as f64;
        Scores {
            samples: samples.len(),
            top1: ok as f64 / n,
            information: info / n,
        }
    }

    /// Stochastic gradient descent on cross-entropy, one sample at a time,
    /// with a learning rate decaying by 0.85 per epoch; the epoch with the
    /// best validation information is kept.
    pub fn train(
        train: &[Sample],
        validation: &[Sample],
        opts: &TrainOptions,
    ) -> (ResidueTypePredictor, TrainReport) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(opts.seed);
        let nh = opts.hidden;
        let mut counts = [1.0f64; TYPES];
        for s in train {
            counts[s.y as usize] += 1.0;
        }
        let total: f64 = counts.iter().sum();
        let log_background: Vec<f32> = counts.iter().map(|c| (c / total).ln() as f32).collect();
        let s1 = (2.0 / INPUTS as f32).sqrt();
        let s2 = (2.0 / nh as f32).sqrt();
        let mut net = ResidueTypePredictor {
            hidden: nh,
            w1: (0..INPUTS * nh)
                .map(|_| rng.random_range(-s1..s1))
                .collect(),
            b1: vec![0.01; nh],
            w2: (0..nh * TYPES).map(|_| rng.random_range(-s2..s2)).collect(),
            b2: log_background.clone(),
            log_background,
        };
        let mut order: Vec<u32> = (0..train.len() as u32).collect();
        let mut best: Option<(ResidueTypePredictor, f64, usize)> = None;
        let mut report = TrainReport {
            validation: Vec::new(),
            best_epoch: 0,
        };
        let mut h = vec![0.0f32; nh];
        let mut gh = vec![0.0f32; nh];
        let mut lp = [0.0f32; TYPES];
        for epoch in 0..opts.epochs {
            for k in (1..order.len()).rev() {
                let j = rng.random_range(0..=k);
                order.swap(k, j);
            }
            let lr = opts.learning_rate * 0.85f32.powi(epoch as i32);
            for &i in &order {
                let s = &train[i as usize];
                net.forward(&s.x, &mut h, &mut lp);
                let mut g = lp.map(f32::exp);
                g[s.y as usize] -= 1.0;
                for k in 0..nh {
                    let w = &mut net.w2[k * TYPES..(k + 1) * TYPES];
                    if h[k] > 0.0 {
                        gh[k] = w.iter().zip(&g).map(|(a, b)| a * b).sum();
                        for (wc, gc) in w.iter_mut().zip(&g) {
                            *wc -= lr * h[k] * gc;
                        }
                    } else {
                        gh[k] = 0.0;
                    }
                }
                for (b, gc) in net.b2.iter_mut().zip(&g) {
                    *b -= lr * gc;
                }
                for (f, &xf) in s.x.iter().enumerate() {
                    if xf != 0.0 {
                        for (w, gk) in net.w1[f * nh..(f + 1) * nh].iter_mut().zip(&gh) {
                            *w -= lr * xf * gk;
                        }
                    }
                }
                for (b, gk) in net.b1.iter_mut().zip(&gh) {
                    *b -= lr * gk;
                }
            }
            let v = net.score(validation);
            log::info!(
                "residue types, epoch {}: validation top-1 {:.4}, information {:.4} nats",
                epoch + 1,
                v.top1,
                v.information
            );
            report.validation.push(v);
            if best.as_ref().is_none_or(|b| v.information > b.1) {
                best = Some((net.clone(), v.information, epoch + 1));
            }
        }
        let (net, _, epoch) = best.unwrap_or((net, 0.0, 0));
        report.best_epoch = epoch;
        (net, report)
    }

    /// The weight file's bytes (module doc).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        for v in [INPUTS as u32, self.hidden as u32] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for v in self
            .w1
            .iter()
            .chain(&self.b1)
            .chain(&self.w2)
            .chain(&self.b2)
            .chain(&self.log_background)
        {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b
    }

    pub fn from_bytes(b: &[u8]) -> Result<ResidueTypePredictor, String> {
        let mut r = ByteReader::new(b);
        if r.take(8, "magic").ok() != Some(MAGIC.as_slice()) {
            return Err("not a mapfold residue-type weight file".into());
        }
        let inputs = r.u32("input count")? as usize;
        let hidden = r.u32("hidden units")? as usize;
        if inputs != INPUTS || hidden == 0 || hidden > 4096 {
            return Err(format!(
                "unsupported shape: {inputs} inputs (expected {INPUTS}), {hidden} hidden"
            ));
        }
        let mut floats = |n: usize, what: &str| -> Result<Vec<f32>, String> {
            let v: Vec<f32> = r
                .take(4 * n, what)?
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect();
            if v.iter().all(|x| x.is_finite()) {
                Ok(v)
            } else {
                Err(format!("non-finite weight in {what}"))
            }
        };
        let net = ResidueTypePredictor {
            hidden,
            w1: floats(INPUTS * hidden, "w1")?,
            b1: floats(hidden, "b1")?,
            w2: floats(hidden * TYPES, "w2")?,
            b2: floats(TYPES, "b2")?,
            log_background: floats(TYPES, "log background")?,
        };
        r.finish()?;
        Ok(net)
    }

    pub fn read(path: &Path) -> Result<ResidueTypePredictor, FileError> {
        let b = crate::io::read_bytes(path)?;
        ResidueTypePredictor::from_bytes(&b).map_err(|m| FileError::format(path, m))
    }

    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        crate::io::write_atomically(path, &self.to_bytes())
    }
}

/// Training samples of one chain in a simulated map: each residue with both
/// neighbours, at its Cα and its neighbours' moved by Gaussian noise of
/// `jitter` Å per axis; `types` the residues' indices (20: unknown, skipped).
pub fn chain_samples(
    map: &DensityMap,
    ca: &[Vec3],
    types: &[usize],
    resolution: f64,
    jitter: f64,
    rng: &mut impl Rng,
) -> Vec<Sample> {
    let moved: Vec<Vec3> = ca
        .iter()
        .map(|p| p + Vec3::from_fn(|_, _| jitter * crate::training::noise::normal(rng)))
        .collect();
    let Some(scale) = density_scale(map, &moved) else {
        return Vec::new();
    };
    (1..ca.len().saturating_sub(1))
        .filter(|&i| types[i] < TYPES)
        .filter_map(|i| {
            let x = features(
                map,
                &moved[i - 1],
                &moved[i],
                &moved[i + 1],
                scale,
                resolution,
            )?;
            Some(Sample {
                x,
                y: types[i] as u8,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sequence::index_or_unknown;

    /// On the real 3.2 Å EMD-2566 map (never seen in training, which used
    /// simulated maps of train chains), the shipped predictor reads the
    /// residue types of 3J6B chain 9 from the density at its native Cα: the
    /// true type is the most likely one far more often than the most frequent
    /// type is right, and the summed log-odds put a native piece (residues
    /// 20..170) on its own register, far above every other shift.
    #[test]
    fn shipped_predictor_reads_residue_types_on_emd2566() {
        let (ca, sequence, map) = crate::template::register::tests::native();
        let seq: Vec<usize> = sequence.chars().map(index_or_unknown).collect();
        let net = ResidueTypePredictor::bundled().unwrap();
        let scale = density_scale(&map, &ca).unwrap();
        let feats = trace_features(&map, &ca, scale, 3.2);
        let samples: Vec<Sample> = seq
            .iter()
            .zip(&feats)
            .filter_map(|(&y, x)| {
                Some(Sample {
                    x: (*x)?,
                    y: (y < TYPES).then_some(y as u8)?,
                })
            })
            .collect();
        let sc = net.score(&samples);
        let mut counts = [0usize; TYPES];
        for s in &samples {
            counts[s.y as usize] += 1;
        }
        let majority = *counts.iter().max().unwrap() as f64 / samples.len() as f64;
        // Register: piece 20..170 at every shift, in its own direction (every
        // shift covers the same positions, so centring moves all alike).
        let comp = composition(&sequence);
        let odds = net.trace_log_odds(&map, &ca[20..170], scale, 3.2, &comp);
        let scores: Vec<f64> = (0..=seq.len() - odds.len())
            .map(|shift| {
                odds.iter()
                    .enumerate()
                    .filter_map(|(p, o)| Some(*o.as_ref()?.get(seq[p + shift])? as f64))
                    .sum()
            })
            .collect();
        let n = scores.len() as f64;
        let mean = scores.iter().sum::<f64>() / n;
        let sd = (scores.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        let runner_up = scores
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != 20)
            .map(|(_, &x)| x)
            .fold(f64::NEG_INFINITY, f64::max);
        eprintln!(
            "EMD-2566, {} residues: top-1 {:.3} (most frequent type {:.3}), information {:.3} nats; \
             piece 20..170: true register {:.1}, next best {:.1}, all {} shifts {:.1} ± {:.1}",
            sc.samples, sc.top1, majority, sc.information, scores[20], runner_up, scores.len(), mean, sd
        );
        assert!(sc.samples > 180);
        assert!(sc.top1 > 1.5 * majority, "{sc:?}");
        assert!(scores[20] > runner_up && (scores[20] - mean) / sd > 4.0);
    }

    /// A model's sequence agreement on the real EMD-2566 map: the native
    /// chain in its own register scores well above the same Cα carrying
    /// the sequence shifted by 3 to 40 residues (a register error; native
    /// 4.8 nats, shifted 0.6 at most), and the shifted ones sit near 0, as
    /// centring means them to.
    #[test]
    fn sequence_agreement_tells_the_register_on_emd2566() {
        let (ca, sequence, map) = crate::template::register::tests::native();
        let net = ResidueTypePredictor::bundled().unwrap();
        let scale = density_scale(&map, &ca).unwrap();
        let at = |seq: &str| net.sequence_agreement(&map, &ca, seq, scale, 3.2).unwrap();
        let native = at(&sequence);
        let shifted: Vec<f64> = [3usize, 7, 15, 40]
            .iter()
            .map(|&k| at(&format!("{}{}", &sequence[k..], &sequence[..k])))
            .collect();
        eprintln!("EMD-2566 type agreement: native {native:.3}, shifted {shifted:.3?}");
        assert!(native > 2.0, "{native}");
        for s in &shifted {
            assert!(native - s > 2.0 && s.abs() < 1.0, "{native} vs {shifted:?}");
        }
        // Nothing to read: a chain outside the box.
        let far: Vec<Vec3> = ca.iter().map(|p| p + Vec3::new(1e4, 0.0, 0.0)).collect();
        assert_eq!(
            net.sequence_agreement(&map, &far, &sequence, scale, 3.2),
            None
        );
    }

    /// The trainer learns a type that one input decides, and the kept epoch
    /// is the best on validation.
    #[test]
    fn training_learns_a_separable_rule() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut make = |n: usize| -> Vec<Sample> {
            (0..n)
                .map(|_| {
                    let mut x = [0.0f32; INPUTS];
                    for v in x.iter_mut() {
                        *v = rng.random_range(-1.0..1.0);
                    }
                    let y = if x[40] > 0.0 { 3 } else { 17 };
                    Sample { x, y }
                })
                .collect()
        };
        let (train, valid) = (make(5000), make(500));
        let opts = TrainOptions {
            hidden: 16,
            epochs: 8,
            ..TrainOptions::default()
        };
        let (net, report) = ResidueTypePredictor::train(&train, &valid, &opts);
        let sc = net.score(&valid);
        let best = report.validation[report.best_epoch - 1];
        assert!(sc.top1 > 0.95, "{sc:?}");
        assert!((sc.information - best.information).abs() < 1e-9);
        assert!(report
            .validation
            .iter()
            .all(|v| v.information <= best.information));
        // Two types of frequency about ½ (the other 18 have a pseudo-count
        // each): a certain answer is worth about ln 2 nats.
        assert!(sc.information > 0.5 && sc.information < 0.71, "{sc:?}");
    }

    /// Centred log-odds average 0 over the composition.
    #[test]
    fn centred_log_odds_average_zero_over_the_composition() {
        let comp = composition("MKVLAAGGHW");
        assert!((comp.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let lo: [f32; TYPES] = std::array::from_fn(|a| a as f32 * 0.3 - 2.0);
        let c = centred(lo, &comp);
        let mean: f32 = c.iter().zip(&comp).map(|(a, f)| a * f).sum();
        assert!(mean.abs() < 1e-5);
        assert_eq!(composition("")[0], 1.0 / TYPES as f32);
    }

    #[test]
    fn weight_file_round_trips_and_bad_files_are_refused() {
        let net = ResidueTypePredictor::bundled().unwrap();
        let b = net.to_bytes();
        assert_eq!(ResidueTypePredictor::from_bytes(&b).unwrap(), net);
        assert!(ResidueTypePredictor::from_bytes(&b[..b.len() - 4]).is_err());
        assert!(ResidueTypePredictor::from_bytes(b"MFSSP001xxxxxxxx").is_err());
        let mut nan = b.clone();
        let k = nan.len() - 4;
        nan[k..].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(ResidueTypePredictor::from_bytes(&nan).is_err());
    }
}
