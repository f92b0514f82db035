//! Secondary structure predicted from sequence alone: a window network in the
//! spirit of PSIPRED's first stage (Jones 1999) but without profiles.
//!
//! Input: the residues at offsets −7..+7 around a position, each one-hot over
//! 22 symbols (20 amino acids, X, beyond the chain end). One hidden layer of
//! ReLU units, a softmax over helix, strand, coil. Trained by stochastic
//! gradient descent on cross-entropy against the three-state DSSP assignment
//! ([`super::dssp`]) of the train split; the epoch with the best validation Q3
//! is kept. The shipped weights are `weights/ssp.bin` (hidden 64, learning rate
//! 0.003, best validation Q3 0.647 at epoch 3, test Q3 0.653);
//! retrain them with
//! `mapfold library train-ssp --data ../shared/data -o weights/ssp.bin`.
//!
//! Weight file: magic "MFSSP001", u32 window half-width, u32 symbols, u32
//! hidden units, then f32 little-endian: w1 (positions·symbols × hidden), b1
//! (hidden), w2 (hidden × 3), b2 (3).

use std::path::Path;

use rand::{Rng, SeedableRng};

use super::Ss;
use crate::io::FileError;
use crate::sequence::index_or_unknown;

const MAGIC: &[u8; 8] = b"MFSSP001";
/// One-hot symbols per window position: 20 amino acids, X, beyond the chain end.
const SYMBOLS: usize = 22;
const OFF_END: usize = 21;

/// The trained predictor.
#[derive(Debug, Clone, PartialEq)]
pub struct SsPredictor {
    /// Window half-width (7: 15 positions).
    pub half_window: usize,
    pub hidden: usize,
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: [f32; 3],
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub half_window: usize,
    pub hidden: usize,
    pub epochs: usize,
    pub learning_rate: f32,
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            half_window: 7,
            hidden: 64,
            epochs: 12,
            learning_rate: 0.003,
            seed: 1,
        }
    }
}

/// Per-epoch validation Q3 and the kept epoch.
#[derive(Debug, Clone)]
pub struct TrainReport {
    pub validation_q3: Vec<f64>,
    pub best_epoch: usize,
}

/// Fraction of positions whose predicted state equals the true one.
pub fn q3(pred: &[Ss], truth: &[Ss]) -> f64 {
    let n = pred.len().min(truth.len());
    if n == 0 {
        return 0.0;
    }
    pred.iter().zip(truth).filter(|(a, b)| a == b).count() as f64 / n as f64
}

impl SsPredictor {
    /// The weights shipped in `weights/ssp.bin`.
    pub fn bundled() -> Result<SsPredictor, String> {
        SsPredictor::from_bytes(include_bytes!("../../weights/ssp.bin"))
            .map_err(|e| format!("bundled weights/ssp.bin: {e}"))
    }

    fn positions(&self) -> usize {
        2 * self.half_window + 1
    }

    /// Active input features of position `i` (one per window position).
    fn features(&self, seq: &[usize], i: usize, out: &mut Vec<usize>) {
        out.clear();
        let w = self.half_window as isize;
        for (p, off) in (-w..=w).enumerate() {
            let k = i as isize + off;
            let sym = if k < 0 || k as usize >= seq.len() {
                OFF_END
            } else {
                seq[k as usize].min(20)
            };
            out.push(p * SYMBOLS + sym);
        }
    }

    /// Hidden pre-activations and output probabilities for one position.
    fn forward(&self, feats: &[usize], hpre: &mut [f32], prob: &mut [f32; 3]) {
        let h = self.hidden;
        hpre.copy_from_slice(&self.b1);
        for &f in feats {
            for (a, w) in hpre.iter_mut().zip(&self.w1[f * h..(f + 1) * h]) {
                *a += w;
            }
        }
        let mut logit = self.b2;
        for (k, &a) in hpre.iter().enumerate() {
            if a > 0.0 {
                for (c, l) in logit.iter_mut().enumerate() {
                    *l += a * self.w2[k * 3 + c];
                }
            }
        }
        let mx = logit.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for c in 0..3 {
            prob[c] = (logit[c] - mx).exp();
            sum += prob[c];
        }
        for p in prob.iter_mut() {
            *p /= sum;
        }
    }

    /// Probabilities of helix, strand, coil for every residue of a canonical sequence.
    pub fn predict(&self, sequence: &str) -> Vec<[f32; 3]> {
        let seq: Vec<usize> = sequence.chars().map(index_or_unknown).collect();
        let mut feats = Vec::new();
        let mut hpre = vec![0.0; self.hidden];
        (0..seq.len())
            .map(|i| {
                self.features(&seq, i, &mut feats);
                let mut p = [0.0; 3];
                self.forward(&feats, &mut hpre, &mut p);
                p
            })
            .collect()
    }

    /// The most probable state of every residue.
    pub fn predict_states(&self, sequence: &str) -> Vec<Ss> {
        self.predict(sequence).iter().map(argmax).collect()
    }

    /// Trains on (sequence, DSSP states) pairs, keeping the epoch with the best Q3 on `validation`.
    pub fn train(
        train: &[(String, Vec<Ss>)],
        validation: &[(String, Vec<Ss>)],
        opts: &TrainOptions,
    ) -> (SsPredictor, TrainReport) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(opts.seed);
        let n_in = (2 * opts.half_window + 1) * SYMBOLS;
        let h = opts.hidden;
        let mut net = SsPredictor {
            half_window: opts.half_window,
            hidden: h,
            w1: (0..n_in * h).map(|_| rng.random_range(-0.1..0.1)).collect(),
            b1: vec![0.05; h],
            w2: (0..h * 3).map(|_| rng.random_range(-0.3..0.3)).collect(),
            b2: [0.0; 3],
        };
        let seqs: Vec<Vec<usize>> = train
            .iter()
            .map(|(s, _)| s.chars().map(index_or_unknown).collect())
            .collect();
        let mut samples: Vec<(u32, u32)> = train
            .iter()
            .enumerate()
            .flat_map(|(c, (s, _))| (0..s.len()).map(move |i| (c as u32, i as u32)))
            .collect();
        let mut best = (net.clone(), -1.0f64, 0usize);
        let mut report = TrainReport {
            validation_q3: Vec::new(),
            best_epoch: 0,
        };
        let mut feats = Vec::new();
        let mut hpre = vec![0.0f32; h];
        let mut gh = vec![0.0f32; h];
        for epoch in 0..opts.epochs {
            // Fisher-Yates shuffle.
            for k in (1..samples.len()).rev() {
                let j = rng.random_range(0..=k);
                samples.swap(k, j);
            }
            let lr = opts.learning_rate * 0.85f32.powi(epoch as i32);
            for &(c, i) in &samples {
                let (c, i) = (c as usize, i as usize);
                let y = train[c].1[i].index();
                net.features(&seqs[c], i, &mut feats);
                let mut p = [0.0; 3];
                net.forward(&feats, &mut hpre, &mut p);
                let mut g = p;
                g[y] -= 1.0;
                for k in 0..h {
                    let a = hpre[k];
                    if a > 0.0 {
                        let w = &mut net.w2[k * 3..k * 3 + 3];
                        gh[k] = g[0] * w[0] + g[1] * w[1] + g[2] * w[2];
                        for cc in 0..3 {
                            w[cc] -= lr * a * g[cc];
                        }
                    } else {
                        gh[k] = 0.0;
                    }
                }
                for (b, gc) in net.b2.iter_mut().zip(&g) {
                    *b -= lr * gc;
                }
                for &f in &feats {
                    for (w, gk) in net.w1[f * h..(f + 1) * h].iter_mut().zip(&gh) {
                        *w -= lr * gk;
                    }
                }
                for (b, gk) in net.b1.iter_mut().zip(&gh) {
                    *b -= lr * gk;
                }
            }
            let q = net.q3_on(validation);
            log::info!("ssp epoch {}: validation Q3 {:.4}", epoch + 1, q);
            report.validation_q3.push(q);
            if q > best.1 {
                best = (net.clone(), q, epoch + 1);
            }
        }
        report.best_epoch = best.2;
        (best.0, report)
    }

    /// Q3 over all residues of a set of chains.
    pub fn q3_on(&self, chains: &[(String, Vec<Ss>)]) -> f64 {
        let (mut ok, mut n) = (0usize, 0usize);
        for (s, truth) in chains {
            let pred = self.predict_states(s);
            ok += pred.iter().zip(truth).filter(|(a, b)| a == b).count();
            n += truth.len();
        }
        ok as f64 / n.max(1) as f64
    }

    /// The weight file's bytes (see the module doc).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        for v in [self.half_window as u32, SYMBOLS as u32, self.hidden as u32] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for v in self
            .w1
            .iter()
            .chain(&self.b1)
            .chain(&self.w2)
            .chain(&self.b2)
        {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b
    }

    pub fn from_bytes(b: &[u8]) -> Result<SsPredictor, String> {
        if b.len() < 20 || &b[..8] != MAGIC {
            return Err("not a mapfold secondary-structure weight file".into());
        }
        let u =
            |k: usize| u32::from_le_bytes(b[8 + 4 * k..12 + 4 * k].try_into().unwrap()) as usize;
        let (half_window, symbols, hidden) = (u(0), u(1), u(2));
        if symbols != SYMBOLS || half_window > 50 || hidden == 0 || hidden > 4096 {
            return Err(format!(
                "unsupported shape: window ±{half_window}, {symbols} symbols, {hidden} hidden"
            ));
        }
        let n_in = (2 * half_window + 1) * SYMBOLS;
        let n = n_in * hidden + hidden + hidden * 3 + 3;
        if b.len() != 20 + 4 * n {
            return Err(format!("expected {} bytes, found {}", 20 + 4 * n, b.len()));
        }
        let f: Vec<f32> = b[20..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        if f.iter().any(|v| !v.is_finite()) {
            return Err("non-finite weight".into());
        }
        let (w1, rest) = f.split_at(n_in * hidden);
        let (b1, rest) = rest.split_at(hidden);
        let (w2, b2) = rest.split_at(hidden * 3);
        let net = SsPredictor {
            half_window,
            hidden,
            w1: w1.to_vec(),
            b1: b1.to_vec(),
            w2: w2.to_vec(),
            b2: [b2[0], b2[1], b2[2]],
        };
        debug_assert_eq!(net.positions() * SYMBOLS, n_in);
        Ok(net)
    }

    pub fn read(path: &Path) -> Result<SsPredictor, FileError> {
        let b = crate::io::read_bytes(path)?;
        SsPredictor::from_bytes(&b).map_err(|m| FileError::format(path, m))
    }

    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        crate::io::write_atomically(path, &self.to_bytes())
    }
}

fn argmax(p: &[f32; 3]) -> Ss {
    let mut k = 0;
    for c in 1..3 {
        if p[c] > p[k] {
            k = c;
        }
    }
    Ss::ALL[k]
}
