//! `mapfold train`: trains the Cα network on simulated maps of the shared data
//! set's train split (see [`crate::training::trainer`]), resumable from a
//! checkpoint, and writes the best weights (by validation CRscore).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde_json::json;

use crate::training::checkpoint::load_checkpoint;
use crate::training::trainer::{train, RunOptions, TrainConfig, TrainState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DegradationArg {
    Clean,
    Realistic,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shipped weights file: best weights so far, rewritten at every improvement.
    #[arg(long)]
    pub out: PathBuf,
    /// Training state (weights, Adam moments, best weights, history), rewritten at every validation.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Continue from --checkpoint (its config wins over the architecture/data flags).
    #[arg(long)]
    pub resume: bool,
    /// Start weights (fine-tuning); channels and blocks come from this file.
    #[arg(long, conflicts_with = "resume")]
    pub init: Option<PathBuf>,
    #[arg(long, default_value_t = 32)]
    pub channels: usize,
    #[arg(long, default_value_t = 10)]
    pub blocks: usize,
    /// Edge of the training boxes, voxels of 1 Å.
    #[arg(long = "box", default_value_t = 40)]
    pub box_size: usize,
    /// Total steps (one sample each), counting the steps of a resumed run.
    #[arg(long, default_value_t = 100_000)]
    pub steps: u64,
    /// Stop after this many minutes in this sitting.
    #[arg(long)]
    pub time_budget: Option<f64>,
    #[arg(long, value_enum, default_value_t = DegradationArg::Clean)]
    pub degradation: DegradationArg,
    /// Range of eq. 2's resolution R in Å, "low,high".
    #[arg(long, value_delimiter = ',', default_values_t = [2.0, 10.0])]
    pub resolution_range: Vec<f64>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 5e-4)]
    pub lr: f64,
    /// Validate (and checkpoint) every K steps.
    #[arg(long, default_value_t = 100)]
    pub val_every: u64,
    /// Number of fixed validation samples.
    #[arg(long, default_value_t = 16)]
    pub val_samples: usize,
    /// Channel-dropout rate after the first ReLU of each block (paper: 0.2).
    #[arg(long, default_value_t = 0.2)]
    pub dropout: f64,
    /// Data directory [default: $MAPFOLD_DATA or ../shared/data].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &Args, _global: &super::Global) -> anyhow::Result<()> {
    let data = match &args.data {
        Some(d) => {
            anyhow::ensure!(d.is_dir(), "{}: not a directory", d.display());
            d.clone()
        }
        None => crate::data::shared_data_dir().context(
            "the training data are not here: ../shared/data not found (set MAPFOLD_DATA or --data)",
        )?,
    };
    let mut state = if args.resume {
        let s = load_checkpoint(&args.checkpoint)?;
        log::info!(
            "resuming {} at step {} (best CRscore {:?})",
            args.checkpoint.display(),
            s.step,
            s.best.as_ref().map(|b| b.crscore)
        );
        s
    } else {
        let [lo, hi] = args.resolution_range[..] else {
            anyhow::bail!("--resolution-range takes two values, low,high (e.g. 2,10)");
        };
        anyhow::ensure!(lo > 0.0 && hi >= lo, "bad --resolution-range {lo},{hi}");
        anyhow::ensure!(args.val_samples > 0, "--val-samples must be at least 1");
        anyhow::ensure!(
            (0.0..1.0).contains(&args.dropout),
            "--dropout must be in [0, 1)"
        );
        let init = match &args.init {
            Some(p) => Some(crate::cnn::load_weights(p)?),
            None => None,
        };
        let (channels, blocks) = init
            .as_ref()
            .map(|n| (n.meta.channels, n.meta.blocks))
            .unwrap_or((args.channels, args.blocks));
        let config = TrainConfig {
            channels,
            blocks,
            box_size: args.box_size,
            degradation: match args.degradation {
                DegradationArg::Clean => "clean".into(),
                DegradationArg::Realistic => "realistic".into(),
            },
            resolution_range: (lo, hi),
            seed: args.seed,
            lr: args.lr,
            pos_weight: 50.0,
            dropout: args.dropout,
            val_samples: args.val_samples,
            init: args.init.as_ref().map(|p| {
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            }),
        };
        TrainState::new(config, init)
    };
    let opts = RunOptions {
        steps: args.steps,
        time_budget: args.time_budget.map(|m| Duration::from_secs_f64(m * 60.0)),
        val_every: args.val_every,
        out: args.out.clone(),
        checkpoint: args.checkpoint.clone(),
        progress: !args.json,
    };
    let report = train(&data, &mut state, &opts)?;
    let curve: Vec<_> = report
        .history
        .iter()
        .map(|h| json!({"step": h.step, "crscore": h.crscore, "train_loss": h.train_loss}))
        .collect();
    if args.json {
        super::print_json(&json!({
            "steps": report.steps,
            "seconds": report.seconds,
            "seconds_per_step": report.seconds_per_step,
            "best_crscore": report.best_crscore,
            "best_step": report.best_step,
            "train_chains": report.train_chains,
            "validation_chains": report.validation_chains,
            "out": args.out,
            "checkpoint": args.checkpoint,
            "history": curve,
        }));
    } else {
        println!(
            "{} steps ({:.2} s/step this sitting); best validation CRscore {} at step {}; weights {}",
            report.steps,
            report.seconds_per_step,
            report.best_crscore.map(|v| format!("{v:.4}")).unwrap_or("-".into()),
            report.best_step.map(|v| v.to_string()).unwrap_or("-".into()),
            args.out.display()
        );
        for h in &report.history {
            println!("  step {:>7}  CRscore {:.4}", h.step, h.crscore);
        }
    }
    Ok(())
}
