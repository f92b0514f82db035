//! The training loop (paper, Methods: weighted cross-entropy 1:50, Adam
//! 5e-4, dropout 0.2, early stopping on the validation CRscore).
//!
//! One sample per step (instance norm works per sample, so a batch would only
//! average gradients). Sample i is made from the train split with an RNG seeded
//! by (seed, i) alone, so a resumed run sees exactly the samples an
//! uninterrupted one would. Every `val_every` steps the network runs on a
//! fixed set of validation-split samples; peaks are picked with L = the number
//! of Cα in the box ([`pick_peaks`]) and scored by CRscore (eq. 1) against
//! those Cα. The best weights so far are kept (early stopping) and written,
//! with the checkpoint, after every validation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::adam::Adam;
use super::backward::{backward, dropout_scales, forward_train};
use super::checkpoint::save_checkpoint;
use super::dataset::{
    chains_for_split, make_sample, DatasetError, Degradation, Sample, SampleSpec,
};
use super::loss::weighted_cross_entropy;
use crate::ca::peaks::{pick_peaks, PeakParams};
use crate::cnn::{CaNetwork, NetworkMeta};
use crate::geom::crscore::crscore;
use crate::map::DensityMap;
use crate::structure::Structure;

/// What a training run is; stored in the checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub channels: usize,
    pub blocks: usize,
    pub box_size: usize,
    /// "clean" or "realistic" ([`Degradation`]).
    pub degradation: String,
    pub resolution_range: (f64, f64),
    pub seed: u64,
    pub lr: f64,
    /// Weight of the Cα class in the loss (paper: 50).
    pub pos_weight: f64,
    /// Channel-dropout rate (paper: 0.2).
    pub dropout: f64,
    pub val_samples: usize,
    /// Where the start weights came from, for a fine-tuning run.
    pub init: Option<String>,
}

impl TrainConfig {
    pub fn degradation(&self) -> Result<Degradation, DatasetError> {
        match self.degradation.as_str() {
            "clean" => Ok(Degradation::Clean),
            "realistic" => Ok(Degradation::Realistic),
            d => Err(DatasetError::BadSpec(format!("unknown degradation {d:?}"))),
        }
    }

    pub fn sample_spec(&self) -> Result<SampleSpec, DatasetError> {
        Ok(SampleSpec {
            resolution_range: self.resolution_range,
            voxel_size: 1.0,
            box_size: self.box_size,
            degradation: self.degradation()?,
            ..SampleSpec::default()
        })
    }
}

/// One validation: step, mean CRscore, and the mean training loss since the last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValPoint {
    pub step: u64,
    pub crscore: f64,
    pub train_loss: Option<f64>,
    /// Seconds of training in this sitting when measured.
    pub elapsed_s: f64,
}

/// The best weights seen by validation.
#[derive(Debug, Clone)]
pub struct Best {
    pub net: CaNetwork,
    pub crscore: f64,
    pub step: u64,
}

/// Everything a checkpoint holds.
#[derive(Debug, Clone)]
pub struct TrainState {
    pub config: TrainConfig,
    pub net: CaNetwork,
    pub adam: Adam,
    /// Steps done.
    pub step: u64,
    pub best: Option<Best>,
    pub history: Vec<ValPoint>,
}

impl TrainState {
    /// A fresh run: seeded Kaiming weights, or `init` (fine-tuning).
    pub fn new(config: TrainConfig, init: Option<CaNetwork>) -> Self {
        let net = init.unwrap_or_else(|| {
            let meta = NetworkMeta {
                channels: config.channels,
                blocks: config.blocks,
                ..NetworkMeta::paper(1.0)
            };
            CaNetwork::random(meta, config.seed)
        });
        let adam = Adam::new(&net, config.lr);
        TrainState {
            config,
            net,
            adam,
            step: 0,
            best: None,
            history: Vec::new(),
        }
    }
}

/// How long and where to write.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Stop at this many steps in all (a resumed run counts the earlier ones).
    pub steps: u64,
    /// Stop after this much wall time in this sitting.
    pub time_budget: Option<Duration>,
    pub val_every: u64,
    /// The shipped weights (best so far, metadata filled).
    pub out: PathBuf,
    pub checkpoint: PathBuf,
    pub progress: bool,
}

/// Why training stopped and where it got to.
#[derive(Debug, Clone)]
pub struct TrainReport {
    pub steps: u64,
    pub seconds: f64,
    pub seconds_per_step: f64,
    pub best_crscore: Option<f64>,
    pub best_step: Option<u64>,
    pub history: Vec<ValPoint>,
    pub train_chains: usize,
    pub validation_chains: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    Dataset(#[from] DatasetError),
    #[error("{0}")]
    File(#[from] crate::io::FileError),
    #[error("split {0:?} has no chains")]
    EmptySplit(String),
    #[error("no usable sample after {0} tries (every chain failed)")]
    NoSample(usize),
}

/// The chains of one split, read on first use.
pub struct ChainPool {
    list: Vec<(String, PathBuf)>,
    cache: HashMap<usize, Structure>,
}

impl ChainPool {
    pub fn new(data: &Path, split: &str) -> Result<Self, TrainError> {
        let list = chains_for_split(data, split, true)?;
        if list.is_empty() {
            return Err(TrainError::EmptySplit(split.into()));
        }
        Ok(ChainPool {
            list,
            cache: HashMap::new(),
        })
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Sample number `index` of the stream `seed`: the chain and all the
    /// randomness of the sample come from an RNG seeded by (seed, index) only.
    /// A chain that fails (unreadable, no Cα) is logged and another drawn.
    pub fn sample(
        &mut self,
        spec: &SampleSpec,
        seed: u64,
        index: u64,
    ) -> Result<Sample, TrainError> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index);
        let tries = 20;
        for _ in 0..tries {
            let k = rng.random_range(0..self.list.len());
            if !self.cache.contains_key(&k) {
                match crate::io::read_structure(&self.list[k].1) {
                    Ok(s) => {
                        self.cache.insert(k, s);
                    }
                    Err(e) => {
                        log::warn!("skipping chain {}: {e}", self.list[k].0);
                        continue;
                    }
                }
            }
            match make_sample(&self.cache[&k], spec, &mut rng) {
                Ok(s) if !s.ca.is_empty() => return Ok(s),
                Ok(_) => {}
                Err(e) => log::warn!("skipping chain {}: {e}", self.list[k].0),
            }
        }
        Err(TrainError::NoSample(tries))
    }
}

/// Validation samples use their own stream, far from any training index.
const VAL_SEED_SALT: u64 = 0x5641_4c49_4441_5445;

/// The fixed validation set of a run.
pub fn validation_set(
    data: &Path,
    config: &TrainConfig,
) -> Result<(Vec<Sample>, usize), TrainError> {
    let mut pool = ChainPool::new(data, "validation")?;
    let spec = config.sample_spec()?;
    let set = (0..config.val_samples as u64)
        .map(|j| pool.sample(&spec, config.seed ^ VAL_SEED_SALT, j))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((set, pool.len()))
}

/// Mean CRscore of `net` over `samples`: forward pass, P(Cα), peaks with L =
/// the number of Cα in the box, CRscore against them.
pub fn validation_crscore(net: &CaNetwork, samples: &[Sample]) -> f64 {
    let params = PeakParams::default();
    let scores: Vec<f64> = samples
        .iter()
        .map(|s| {
            let logits = crate::cnn::infer::forward::<f32>(net, s.input.dims(), s.input.data(), 4);
            let n = s.input.len();
            let p: Vec<f32> = (0..n)
                .map(|i| 1.0 / (1.0 + (logits[i] - logits[n + i]).exp()))
                .collect();
            let prob = DensityMap::new(s.input.dims(), s.input.voxel_size(), s.input.origin(), p)
                .expect("same grid as the sample");
            let cloud = pick_peaks(&prob, s.ca.len(), &params);
            crscore(&cloud.points, &s.ca)
        })
        .collect();
    scores.iter().sum::<f64>() / scores.len().max(1) as f64
}

/// One optimisation step on `sample`; returns the loss before the update.
pub fn train_step(state: &mut TrainState, sample: &Sample, dropout_rng: &mut ChaCha8Rng) -> f64 {
    let drop = dropout_scales(&state.net, state.config.dropout, dropout_rng);
    let tape = forward_train(&state.net, sample.input.dims(), sample.input.data(), &drop);
    let (loss, dlogits) =
        weighted_cross_entropy(&tape.logits, &sample.labels, state.config.pos_weight);
    let mut grad = backward(&state.net, &tape, &dlogits);
    drop_tape(tape);
    state.adam.step(&mut state.net, &mut grad);
    loss
}

fn drop_tape(_t: super::backward::Tape) {}

/// The shipped network: best weights with the metadata filled.
pub fn shipped_network(
    state: &TrainState,
    train_chains: usize,
    val_chains: usize,
) -> Option<CaNetwork> {
    let best = state.best.as_ref()?;
    let c = &state.config;
    let mut net = best.net.clone();
    let start = match &c.init {
        Some(i) => format!("fine-tuned from {i}; "),
        None => String::new(),
    };
    net.meta.training_data = format!(
        "{start}simulated from ../shared/data/structures train split ({train_chains} chains), eq. 2, R {}-{} Å, {} degradation, {}³ boxes of 1 Å voxels, one sample per step; best of {} steps at step {} (lr {}, Cα weight {}, channel dropout {})",
        c.resolution_range.0, c.resolution_range.1, c.degradation, c.box_size, state.step, best.step, c.lr, c.pos_weight, c.dropout
    );
    net.meta.split = format!(
        "train: train split ({train_chains} chains); early stopping: {} fixed samples from the validation split ({val_chains} chains); test splits never used",
        c.val_samples
    );
    net.meta.epochs = (best.step / train_chains.max(1) as u64) as u32;
    net.meta.validation_crscore = Some(best.crscore);
    net.meta.voxel_size = 1.0;
    Some(net)
}

/// Runs (or continues) training until `opts.steps` or the time budget.
pub fn train(
    data: &Path,
    state: &mut TrainState,
    opts: &RunOptions,
) -> Result<TrainReport, TrainError> {
    let spec = state.config.sample_spec()?;
    let mut pool = ChainPool::new(data, "train")?;
    let (val, val_chains) = validation_set(data, &state.config)?;
    let train_chains = pool.len();
    let t0 = Instant::now();
    let start_step = state.step;
    let bar = if opts.progress {
        indicatif::ProgressBar::new(opts.steps)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} {elapsed_precise} eta {eta} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_position(state.step);

    let validate = |state: &mut TrainState, losses: &mut Vec<f64>| -> Result<(), TrainError> {
        let score = validation_crscore(&state.net, &val);
        let train_loss =
            (!losses.is_empty()).then(|| losses.iter().sum::<f64>() / losses.len() as f64);
        losses.clear();
        state.history.push(ValPoint {
            step: state.step,
            crscore: score,
            train_loss,
            elapsed_s: t0.elapsed().as_secs_f64(),
        });
        let better = state.best.as_ref().is_none_or(|b| score > b.crscore);
        log::info!(
            "step {}: validation CRscore {score:.4}{} (train loss {}), {:.0} s",
            state.step,
            if better { " (best)" } else { "" },
            train_loss.map(|l| format!("{l:.4}")).unwrap_or("-".into()),
            t0.elapsed().as_secs_f64()
        );
        if better {
            state.best = Some(Best {
                net: state.net.clone(),
                crscore: score,
                step: state.step,
            });
            if let Some(net) = shipped_network(state, train_chains, val_chains) {
                crate::cnn::save_weights(&net, &opts.out)?;
            }
        }
        save_checkpoint(state, &opts.checkpoint)?;
        Ok(())
    };

    let mut losses = Vec::new();
    let (mut sample_time, mut step_time) = (0f64, 0f64);
    if state.history.last().is_none_or(|h| h.step != state.step) {
        validate(state, &mut losses)?;
    }
    while state.step < opts.steps {
        if opts.time_budget.is_some_and(|b| t0.elapsed() >= b) {
            log::info!("time budget reached at step {}", state.step);
            break;
        }
        let ts = Instant::now();
        let sample = pool.sample(&spec, state.config.seed, state.step)?;
        sample_time += ts.elapsed().as_secs_f64();
        // Dropout masks are also a function of (seed, step) for exact resumption.
        let mut drng = ChaCha8Rng::seed_from_u64(state.config.seed ^ 0x4452_4f50);
        drng.set_stream(state.step);
        let ts = Instant::now();
        let loss = train_step(state, &sample, &mut drng);
        step_time += ts.elapsed().as_secs_f64();
        if !loss.is_finite() {
            log::warn!("step {}: non-finite loss", state.step);
        }
        losses.push(loss);
        state.step += 1;
        bar.set_position(state.step);
        bar.set_message(format!("loss {loss:.4}"));
        if state.step.is_multiple_of(opts.val_every.max(1)) {
            let done = (state.step - start_step) as f64;
            log::info!(
                "mean per step: sample {:.3} s, forward+backward+Adam {:.3} s",
                sample_time / done,
                step_time / done
            );
            validate(state, &mut losses)?;
        }
    }
    if state.history.last().is_none_or(|h| h.step != state.step) {
        validate(state, &mut losses)?;
    }
    bar.finish_and_clear();
    let seconds = t0.elapsed().as_secs_f64();
    let done = state.step - start_step;
    Ok(TrainReport {
        steps: state.step,
        seconds,
        seconds_per_step: if done > 0 { seconds / done as f64 } else { 0.0 },
        best_crscore: state.best.as_ref().map(|b| b.crscore),
        best_step: state.best.as_ref().map(|b| b.step),
        history: state.history.clone(),
        train_chains,
        validation_chains: val_chains,
    })
}
