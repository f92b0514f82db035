//! `mapfold bench templates` (the template stage on the test chains,
//! [`crate::bench::templates`]; writes `templates_results.tsv` and
//! `templates_summary.md`) and `mapfold bench build` (the whole pipeline,
//! [`crate::bench::build`]; `build_results.tsv`, `build_summary.md`).

use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;

use crate::bench::ca::SimOptions;
use crate::bench::templates::{rows_tsv, run, summary_markdown, TemplateBenchOptions};
use crate::gpu::Backend;
use crate::template::select::SelectOptions;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Template library (`mapfold library build`); default: train + validation of the data set.
    #[arg(long)]
    pub library: Option<PathBuf>,
    /// Data directory [default: $MAPFOLD_DATA or ../shared/data].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Map resolutions in Å.
    #[arg(long, value_delimiter = ',', default_value = "3,8")]
    pub resolutions: Vec<f64>,
    /// Only the first N targets.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Run every N-th target starting at I, as I/N (spread a run over machines).
    #[arg(long, default_value = "0/1")]
    pub shard: String,
    /// Random traces per target in regeneration.
    #[arg(long, default_value_t = 20_000)]
    pub traces: usize,
    /// Split to run: test (the benchmark) or validation (for tuning).
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Output directory.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

fn data_dir(given: &Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match given {
        Some(d) => Ok(d.clone()),
        None => crate::data::shared_data_dir().context(
            "the benchmark data are not here: ../shared/data not found (set MAPFOLD_DATA or --data)",
        ),
    }
}

pub fn run_bench(args: &Args, global: &super::Global) -> anyhow::Result<()> {
    let data = data_dir(&args.data)?;
    let (i, n) = super::bench_harness::parse_shard(&args.shard)?;
    let lib = super::thread::load_library(args.library.as_deref())?;
    anyhow::ensure!(
        args.split == "test" || args.split == "validation",
        "--split must be test or validation, got {}",
        args.split
    );
    let mut select = SelectOptions::default();
    select.regen.n_traces = args.traces;
    let opts = TemplateBenchOptions {
        split: args.split.clone(),
        resolutions: args.resolutions.clone(),
        limit: args.limit,
        stride: n,
        offset: i,
        hard_identity: 0.3,
        sim: SimOptions::default(),
        select,
    };
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("{}: cannot create", args.output.display()))?;
    let backend = Backend::select(global.device)?;
    let bar = if args.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    let t0 = std::time::Instant::now();
    let rows = run(&data, &lib, &opts, backend, |r| {
        bar.set_message(format!(
            "{} {} Å: first {:.3} → {:.3}",
            r.target, r.resolution, r.thread_first, r.final_first
        ));
        bar.tick();
        log::info!(
            "{} ({}, {}) {} Å: threading first {:.3} best {:.3}; after Cα steps first {:.3} best {:.3} ({} re-selected, {} regenerated, {} fitted)",
            r.target, r.split, r.label, r.resolution, r.thread_first, r.thread_best,
            r.final_first, r.final_best, r.n_reselected, r.n_regenerated, r.n_fitted
        );
    })?;
    bar.finish_and_clear();
    let tsv = args.output.join("templates_results.tsv");
    let md = args.output.join("templates_summary.md");
    crate::io::write_atomically(&tsv, rows_tsv(&rows).as_bytes())?;
    let summary = summary_markdown(&rows);
    crate::io::write_atomically(&md, summary.as_bytes())?;
    let seconds = t0.elapsed().as_secs_f64();
    if args.json {
        super::print_json(&json!({
            "rows": rows.len(),
            "results": tsv.display().to_string(),
            "summary": md.display().to_string(),
            "seconds": seconds,
        }));
    } else {
        print!("{summary}");
        println!("{} rows in {seconds:.0} s; {}", rows.len(), tsv.display());
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Template library (`mapfold library build`); default: train + validation of the data set.
    #[arg(long)]
    pub library: Option<PathBuf>,
    /// Data directory [default: $MAPFOLD_DATA or ../shared/data].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Map resolutions in Å.
    #[arg(long, value_delimiter = ',', default_value = "3,8")]
    pub resolutions: Vec<f64>,
    /// Only the first N targets (after sharding).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Run every N-th target starting at I, as I/N.
    #[arg(long, default_value = "0/1")]
    pub shard: String,
    /// Replica-exchange sweeps per target.
    #[arg(long, default_value_t = 60)]
    pub sweeps: usize,
    #[arg(long, default_value_t = 40)]
    pub replicas: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Split to run: test (the benchmark) or validation (for fitting weights).
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Force-field weights as JSON (the fields of `assembly::energy::Weights`).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Output directory (per-target runs go under OUTPUT/runs).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub fn run_build_bench(args: &BuildArgs, global: &super::Global) -> anyhow::Result<()> {
    let data = data_dir(&args.data)?;
    let (i, n) = super::bench_harness::parse_shard(&args.shard)?;
    let lib = super::thread::load_library(args.library.as_deref())?;
    let backend = Backend::select(global.device)?;
    anyhow::ensure!(
        args.split == "test" || args.split == "validation",
        "--split must be test or validation, got {}",
        args.split
    );
    let weights = match &args.weights {
        Some(p) => serde_json::from_str(&crate::io::read_text(p)?)
            .with_context(|| format!("{}: not a weights JSON", p.display()))?,
        None => crate::assembly::energy::Weights::default(),
    };
    let build = crate::pipeline::BuildOptions {
        weights,
        sweeps: args.sweeps,
        replicas: args.replicas,
        seed: args.seed,
        ..Default::default()
    };
    let opts = crate::bench::build::BuildBenchOptions {
        split: args.split.clone(),
        resolutions: args.resolutions.clone(),
        limit: args.limit,
        stride: n,
        offset: i,
        sim: SimOptions::default(),
        build,
    };
    let runs = args.output.join("runs");
    std::fs::create_dir_all(&runs).with_context(|| format!("{}: cannot create", runs.display()))?;
    let t0 = std::time::Instant::now();
    let rows = crate::bench::build::run(&data, &lib, &runs, &opts, backend, |r| {
        log::info!(
            "{} ({}, {}) {} Å: model 1 TM {:.3} RMSD {:.1} eTM {:.3}; best of 5 {:.3}; {:.0} s",
            r.target,
            r.split,
            r.label,
            r.resolution,
            r.tm,
            r.rmsd,
            r.etm,
            r.best_model_tm,
            r.seconds_ca + r.seconds_templates + r.seconds_assembly + r.seconds_models
        );
    })?;
    let tsv = args.output.join("build_results.tsv");
    let md = args.output.join("build_summary.md");
    crate::io::write_atomically(&tsv, crate::bench::build::rows_tsv(&rows).as_bytes())?;
    let summary = crate::bench::build::summary_markdown(&rows);
    crate::io::write_atomically(&md, summary.as_bytes())?;
    let seconds = t0.elapsed().as_secs_f64();
    if args.json {
        super::print_json(&json!({
            "rows": rows.len(),
            "results": tsv.display().to_string(),
            "summary": md.display().to_string(),
            "seconds": seconds,
        }));
    } else {
        print!("{summary}");
        println!("{} rows in {seconds:.0} s; {}", rows.len(), tsv.display());
    }
    Ok(())
}
