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
    /// Split to run: test (the benchmark), validation or train-homologs (for tuning).
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Exclude templates of at least this sequence identity to a tuning
    /// target (validation: 0.3 unless given; train-homologs: none unless
    /// given); ignored for test chains.
    #[arg(long)]
    pub exclude_identity: Option<f64>,
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
        ["test", "validation", crate::bench::TRAIN_HOMOLOGS].contains(&args.split.as_str()),
        "--split must be test, validation or train-homologs, got {}",
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
        tuning_identity: args.exclude_identity,
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
    /// Exclude templates of at least this sequence identity to a tuning
    /// target (validation, train-homologs); ignored for test chains.
    #[arg(long)]
    pub exclude_identity: Option<f64>,
    /// Only the targets whose id contains one of these (comma-separated,
    /// case-insensitive), e.g. `--targets 1fngb,1bdo`.
    #[arg(long, value_delimiter = ',')]
    pub targets: Vec<String>,
    /// Simulate the maps as `mapfold bench` does (noise at SNR 4–10, voxel
    /// R/3, a cubic box with the molecule off centre) at each given
    /// resolution, instead of clean maps on a 1 Å grid.
    #[arg(long)]
    pub harness_maps: bool,
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
        ["test", "validation", crate::bench::TRAIN_HOMOLOGS].contains(&args.split.as_str()),
        "--split must be test, validation or train-homologs, got {}",
        args.split
    );
    let weights = load_weights(args.weights.as_deref())?;
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
        exclude_identity: args.exclude_identity,
        only: args.targets.clone(),
        harness_maps: args.harness_maps,
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
    crate::io::write_atomically(
        &args.output.join("models.tsv"),
        crate::bench::build::models_tsv(&rows).as_bytes(),
    )?;
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

#[derive(Debug, clap::Args)]
pub struct WeightsArgs {
    /// Output directories of `mapfold bench build --split validation|train-homologs`.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Data directory [default: $MAPFOLD_DATA or ../shared/data].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Starting weights as JSON [default: the built-in defaults].
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// A run scores a weight set by the mean TM-score of its TOP lowest-energy decoys.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// The weights to fit (bond, angle, torsion, pair, contact, burial, rg, clash, temp, em, cnn).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "pair,contact,burial,rg,temp,em,cnn"
    )]
    pub fit: Vec<String>,
    /// Where the fitted weights go (JSON for `--weights`).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
}

/// `mapfold bench weights`: fits eq. 5's weights on the decoys of tuning runs
/// ([`crate::bench::weights`]), with a two-fold check by target.
pub fn run_weights(args: &WeightsArgs) -> anyhow::Result<()> {
    use crate::bench::weights::{as_vector, fit, is_term, load_run, objective, RunDecoys};
    let data = data_dir(&args.data)?;
    if let Some(bad) = args.fit.iter().find(|t| !is_term(t)) {
        anyhow::bail!("--fit: no weight named '{bad}'");
    }
    let terms: Vec<&str> = args.fit.iter().map(|s| s.as_str()).collect();
    let start = load_weights(args.weights.as_deref())?;
    let mut runs: Vec<RunDecoys> = Vec::new();
    let mut targets: Vec<String> = Vec::new();
    for dir in &args.runs {
        let rd = dir.join("runs");
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&rd)
            .with_context(|| {
                format!(
                    "{}: cannot read (not a `bench build` output?)",
                    rd.display()
                )
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("out/decoys.bin").exists())
            .collect();
        entries.sort();
        for run in entries {
            let name = run
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            // `bench build` names a run TARGET_RESOLUTION.
            let target = name
                .rsplit_once('_')
                .map_or(name.as_str(), |x| x.0)
                .to_string();
            let r = load_run(&data, &run, &target)
                .with_context(|| format!("{}: cannot load the run", run.display()))?;
            log::info!("{}: {} decoys ({})", r.name, r.tm.len(), r.label);
            runs.push(r);
            targets.push(target);
        }
    }
    anyhow::ensure!(
        !runs.is_empty(),
        "no finished runs under the given directories"
    );
    let top = args.top;
    let all: Vec<&RunDecoys> = runs.iter().collect();
    let fitted = fit(&all, &start, &terms, top);
    // Two-fold check: fit on half the targets, score on the other half.
    let mut uniq: Vec<&String> = targets.iter().collect();
    uniq.sort();
    uniq.dedup();
    let fold = |k: usize| -> Vec<&RunDecoys> {
        runs.iter()
            .zip(&targets)
            .filter(|(_, t)| uniq.iter().position(|u| u == t).unwrap_or(0) % 2 == k)
            .map(|(r, _)| r)
            .collect()
    };
    let (f0, f1) = (fold(0), fold(1));
    let w0 = fit(&f0, &start, &terms, top);
    let w1 = fit(&f1, &start, &terms, top);
    let held_start = (objective(&f1, &as_vector(&start), top) * f1.len() as f64
        + objective(&f0, &as_vector(&start), top) * f0.len() as f64)
        / runs.len() as f64;
    let held_fit = (objective(&f1, &as_vector(&w0), top) * f1.len() as f64
        + objective(&f0, &as_vector(&w1), top) * f0.len() as f64)
        / runs.len() as f64;
    let mut lines = vec![format!(
        "runs {} ({} targets); mean TM of the {top} lowest-energy decoys: start {:.4}, fitted {:.4}; held-out halves: start {:.4}, fitted {:.4}",
        runs.len(),
        uniq.len(),
        objective(&all, &as_vector(&start), top),
        objective(&all, &as_vector(&fitted), top),
        held_start,
        held_fit
    )];
    for label in ["Easy", "Hard"] {
        let sub: Vec<&RunDecoys> = runs.iter().filter(|r| r.label == label).collect();
        if !sub.is_empty() {
            lines.push(format!(
                "{label} ({} runs): start {:.4}, fitted {:.4}",
                sub.len(),
                objective(&sub, &as_vector(&start), top),
                objective(&sub, &as_vector(&fitted), top)
            ));
        }
    }
    lines.push(format!(
        "fitted weights: {}",
        serde_json::to_string(&fitted)?
    ));
    lines.push(format!("half 0 fit: {}", serde_json::to_string(&w0)?));
    lines.push(format!("half 1 fit: {}", serde_json::to_string(&w1)?));
    for l in &lines {
        println!("{l}");
    }
    crate::io::write_atomically(
        &args.output,
        serde_json::to_string_pretty(&fitted)?.as_bytes(),
    )?;
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct RankArgs {
    /// `models.tsv` files of `mapfold bench build` runs (validation or train-homologs).
    #[arg(required = true)]
    pub models: Vec<PathBuf>,
}

/// `mapfold bench rank`: prints [`crate::bench::rank::report`] for the pooled models.
pub fn run_rank(args: &RankArgs) -> anyhow::Result<()> {
    let mut all = Vec::new();
    for p in &args.models {
        all.extend(crate::bench::rank::read_models(p)?);
    }
    anyhow::ensure!(!all.is_empty(), "no models in the given files");
    print!("{}", crate::bench::rank::report(&all));
    Ok(())
}

/// Force-field weights from a JSON file (the fields of
/// `assembly::energy::Weights`), or the defaults without one.
fn load_weights(
    path: Option<&std::path::Path>,
) -> anyhow::Result<crate::assembly::energy::Weights> {
    match path {
        Some(p) => serde_json::from_str(&crate::io::read_text(p)?)
            .with_context(|| format!("{}: not a weights JSON", p.display())),
        None => Ok(crate::assembly::energy::Weights::default()),
    }
}
