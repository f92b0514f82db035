//! `mapfold bench`: benchmarks over the shared data set. `bench ca` scores Cα
//! clouds from simulated maps of a split's chains (see [`crate::bench::ca`]) and
//! writes `ca_results.tsv` and `ca_summary.md` into the output directory.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use serde_json::json;

use crate::bench::ca::{self, Picker, SimOptions};
use crate::ca::greedy::{pick_greedy, GreedyParams};
use crate::gpu::Backend;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<BenchCommand>,
    /// With no subcommand: the whole benchmark (Table 1 with baselines and plots).
    #[command(flatten)]
    pub run: super::bench_harness::RunArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Combine the output directories of `mapfold bench --shard I/N` runs into one results.csv, table.md and plots.
    Merge(super::bench_harness::MergeArgs),
    /// Cα clouds from simulated maps: CRscore (eq. 1) and paired RMSD per resolution.
    Ca(CaArgs),
    /// Seconds and peak memory of the Cα network on N³ maps.
    Cnn(CnnArgs),
    /// Threading alone on the test chains: TM-score of the first and best of the top 10 templates.
    Threading(super::thread::BenchArgs),
    /// The template stage on the test chains: first and best template TM-score before and after the Cα-based steps.
    Templates(super::bench_stages::Args),
    /// The whole pipeline on the test chains: model 1 TM-score, RMSD, eTM-score against the truth, seconds per stage.
    Build(super::bench_stages::BuildArgs),
    /// Fit the force-field weights (eq. 5) on the decoys of `bench build` tuning runs.
    Weights(super::bench_stages::WeightsArgs),
    /// Compare rules for choosing model 1 and fit the eTM-score calibration on `models.tsv` of tuning runs.
    Rank(super::bench_stages::RankArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// Naive baseline: densest voxel centres 3.3 Å apart.
    Greedy,
    /// The greedy baseline with sub-voxel (log-parabola) refinement.
    GreedyRefined,
    /// The paper's route: networks A and B, peak picking, consensus (as `mapfold ca`).
    Cnn,
    /// Network A alone (trained on clean simulated maps) + peak picking.
    CnnA,
    /// Network B alone (fine-tuned on degraded maps) + peak picking.
    CnnB,
}

#[derive(Debug, clap::Args)]
pub struct CnnArgs {
    /// Map edges in voxels (1 Å), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100,200")]
    pub sizes: Vec<usize>,
    /// Network weights to time [default: the bundled network A].
    #[arg(long, conflicts_with = "paper_size")]
    pub weights: Option<PathBuf>,
    /// Time the paper's size (32 channels, 10 blocks) with random weights instead.
    #[arg(long)]
    pub paper_size: bool,
    /// Store activations as f16 (half the memory).
    #[arg(long)]
    pub f16: bool,
    /// Memory budget of the CPU pass in MiB (0: always keep activations in temporary files)
    /// [default: half the available memory].
    #[arg(long, value_name = "MIB")]
    pub max_memory: Option<u64>,
    /// Directory for those temporary files [default: $TMPDIR or /tmp].
    #[arg(long)]
    pub spill_dir: Option<PathBuf>,
    /// Data directory [default: $MAPFOLD_DATA or ../shared/data].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

fn run_cnn(args: &CnnArgs, global: &super::Global) -> anyhow::Result<()> {
    let data = match &args.data {
        Some(d) => d.clone(),
        None => crate::data::shared_data_dir().context(
            "the benchmark data are not here: ../shared/data not found (set MAPFOLD_DATA or --data)",
        )?,
    };
    let net = if args.paper_size {
        crate::cnn::CaNetwork::random(crate::cnn::NetworkMeta::paper(1.0), 0)
    } else if let Some(w) = &args.weights {
        crate::cnn::load_weights(w)?
    } else {
        crate::cnn::bundled::networks()
            .map_err(|e| anyhow::anyhow!(e))?
            .0
    };
    let backend = Backend::select(global.device)?;
    let opts = crate::cnn::infer::InferenceOptions {
        f16_activations: args.f16,
        max_memory_bytes: args.max_memory.map(|m| m.saturating_mul(1 << 20)),
        spill_dir: args.spill_dir.clone(),
        ..Default::default()
    };
    let rows = crate::bench::cnn::measure(&data, &net, &args.sizes, backend, &opts)?;
    let label = format!(
        "{} channels, {} blocks, {} activations",
        net.meta.channels,
        net.meta.blocks,
        if args.f16 { "f16" } else { "f32" }
    );
    if args.json {
        super::print_json(&json!({ "network": label, "results": rows }));
    } else {
        println!("network: {label}");
        println!(
            "| edge | voxels | seconds | GFLOP | GFLOP/s | peak RSS (MiB) | device | activations |"
        );
        println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
        for r in rows {
            println!(
                "| {}³ | {} | {:.2} | {:.0} | {:.1} | {} | {} | {} |",
                r.edge,
                r.voxels,
                r.seconds,
                r.gflop,
                r.gflops_per_s,
                r.peak_rss_mib.map_or("-".into(), |m| format!("{m:.0}")),
                r.device,
                match r.spilled {
                    Some(true) => "files",
                    Some(false) => "RAM",
                    None => "GPU",
                }
            );
        }
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct CaArgs {
    /// Split of structures.tsv: test (test-hard + test-easy), test-hard, test-easy, validation, train, all;
    /// or `real`: the real maps with placed models in ../shared/data/maps.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Resolutions in Å, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "2,3,4,5,6,8,10")]
    pub resolutions: Vec<f64>,
    /// Methods, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "greedy")]
    pub method: Vec<Method>,
    /// Only the first N chains of the split.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Seed of the noise generator.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Add Gaussian white noise with std = std(map)/SNR; clean maps without it.
    #[arg(long)]
    pub snr: Option<f64>,
    /// Voxel size of the simulated maps in Å.
    #[arg(long, default_value_t = 1.0)]
    pub voxel: f64,
    /// Weights of network A instead of the bundled ones.
    #[arg(long)]
    pub weights_a: Option<PathBuf>,
    /// Weights of network B instead of the bundled ones.
    #[arg(long, requires = "weights_a")]
    pub weights_b: Option<PathBuf>,
    /// Data directory [default: $MAPFOLD_DATA or ../shared/data].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Output directory (created if needed).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &Args, global: &super::Global) -> anyhow::Result<()> {
    match &args.command {
        None => super::bench_harness::run(&args.run, global),
        Some(BenchCommand::Merge(a)) => super::bench_harness::merge(a, global),
        Some(BenchCommand::Ca(a)) => run_ca(a, global),
        Some(BenchCommand::Threading(a)) => super::thread::run_bench(a),
        Some(BenchCommand::Cnn(a)) => run_cnn(a, global),
        Some(BenchCommand::Templates(a)) => super::bench_stages::run_bench(a, global),
        Some(BenchCommand::Build(a)) => super::bench_stages::run_build_bench(a, global),
        Some(BenchCommand::Weights(a)) => super::bench_stages::run_weights(a),
        Some(BenchCommand::Rank(a)) => super::bench_stages::run_rank(a),
    }
}

fn run_ca(args: &CaArgs, global: &super::Global) -> anyhow::Result<()> {
    let data = match &args.data {
        Some(d) => {
            anyhow::ensure!(d.is_dir(), "{}: not a directory", d.display());
            d.clone()
        }
        None => crate::data::shared_data_dir().context(
            "the benchmark data are not here: ../shared/data not found (set MAPFOLD_DATA or --data)",
        )?,
    };
    anyhow::ensure!(!args.resolutions.is_empty(), "no --resolutions given");
    for &r in &args.resolutions {
        anyhow::ensure!(r.is_finite() && r > 0.0, "bad resolution {r}");
    }
    let uses_cnn = args
        .method
        .iter()
        .any(|m| matches!(m, Method::Cnn | Method::CnnA | Method::CnnB));
    let detector = if uses_cnn {
        let (a, b) = match &args.weights_a {
            Some(pa) => (
                crate::cnn::load_weights(pa)?,
                args.weights_b
                    .as_ref()
                    .map(|pb| crate::cnn::load_weights(pb))
                    .transpose()?,
            ),
            None => crate::cnn::bundled::networks().map_err(|e| anyhow::anyhow!(e))?,
        };
        let needs_b = args.method.contains(&Method::CnnB);
        anyhow::ensure!(
            !needs_b || b.is_some(),
            "--method cnn-b needs network B (--weights-b)"
        );
        Some(crate::ca::detect::CaDetector::new(a, b)?)
    } else {
        None
    };
    let real = args.split == "real";
    let mut targets = if real {
        Vec::new()
    } else {
        crate::bench::read_targets(&data, &args.split)?
    };
    if let Some(n) = args.limit {
        targets.truncate(n);
    }
    let opts = SimOptions {
        voxel: args.voxel,
        snr: args.snr,
        seed: args.seed,
        ..Default::default()
    };
    let backend = Backend::select(global.device)?;
    log::info!(
        "bench ca: {} chains of split '{}' from {}, resolutions {:?} Å, methods {:?}, voxel {} Å, margin {} Å, {}",
        targets.len(),
        args.split,
        data.display(),
        args.resolutions,
        args.method,
        opts.voxel,
        opts.margin,
        match opts.snr {
            Some(s) => format!("white noise at SNR {s} (seed {})", opts.seed),
            None => "no noise".into(),
        }
    );
    let greedy = |m: &crate::map::DensityMap, l: usize| pick_greedy(m, l, &GreedyParams::default());
    let refined = |m: &crate::map::DensityMap, l: usize| {
        pick_greedy(
            m,
            l,
            &GreedyParams {
                refine: true,
                ..Default::default()
            },
        )
    };
    // The networks run on the CPU inside the per-chain rayon tasks; the GPU
    // context is not shared across threads here.
    let cnn = |m: &crate::map::DensityMap, l: usize| {
        let det = detector.as_ref().expect("loaded above");
        det.detect(m, l, Backend::Cpu)
            .map(|d| d.cloud)
            .unwrap_or_else(|e| {
                log::warn!("CNN failed on a map: {e}");
                crate::ca::CaCloud::default()
            })
    };
    let single = |m: &crate::map::DensityMap, l: usize, use_b: bool| {
        let det = detector.as_ref().expect("loaded above");
        let net = if use_b {
            det.net_b.as_ref().expect("checked above")
        } else {
            &det.net_a
        };
        match det
            .network_grid(m)
            .and_then(|g| det.probability(net, &g, Backend::Cpu))
        {
            Ok(p) => crate::ca::peaks::pick_peaks(&p, l, &det.peaks),
            Err(e) => {
                log::warn!("CNN failed on a map: {e}");
                crate::ca::CaCloud::default()
            }
        }
    };
    let cnn_a = |m: &crate::map::DensityMap, l: usize| single(m, l, false);
    let cnn_b = |m: &crate::map::DensityMap, l: usize| single(m, l, true);
    let methods: Vec<(&str, &Picker<'_>)> = args
        .method
        .iter()
        .map(|m| -> (&str, &Picker<'_>) {
            match m {
                Method::Greedy => ("greedy", &greedy),
                Method::GreedyRefined => ("greedy-refined", &refined),
                Method::Cnn => ("cnn", &cnn),
                Method::CnnA => ("cnn-a", &cnn_a),
                Method::CnnB => ("cnn-b", &cnn_b),
            }
        })
        .collect();
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("{}: cannot create directory", args.output.display()))?;
    let bar = indicatif::ProgressBar::new(targets.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} chains, {elapsed} (eta {eta})",
        )
        .expect("valid template"),
    );
    let start = Instant::now();
    let (rows, failed) = if real {
        ca::run_real(&data, &methods)
    } else {
        ca::run_benchmark(
            &data,
            &targets,
            &args.resolutions,
            &methods,
            &opts,
            backend,
            &|| bar.inc(1),
        )
    };
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    for (id, why) in &failed {
        log::warn!("{id} failed: {why}");
    }
    let tsv = args.output.join("ca_results.tsv");
    let md = args.output.join("ca_summary.md");
    crate::io::write_atomically(&tsv, ca::results_tsv(&rows).as_bytes())?;
    let summary = ca::summary_markdown(&rows);
    let header = if real {
        format!(
            "Cα clouds from the real maps with placed models ({} maps); truth and L = the model's Cα inside the map box; resolutions from the literature.\n\n",
            ca::REAL_MAPS.len()
        )
    } else {
        format!(
        "Cα clouds from maps simulated (eq. 2) at {} Å voxels, {}; split {}, {} chains ({} failed); L = number of Cα.\n\n",
        opts.voxel,
        match opts.snr {
            Some(s) => format!("white noise at SNR {s}, seed {}", opts.seed),
            None => "no noise".into(),
        },
        args.split,
        targets.len() - failed.len(),
        failed.len()
    )
    };
    crate::io::write_atomically(&md, format!("{header}{summary}").as_bytes())?;
    if args.json {
        let means: Vec<_> = ca::summarise(&rows)
            .into_iter()
            .map(|s| {
                json!({
                    "method": s.method, "resolution": s.resolution, "chains": s.n,
                    "crscore": s.crscore, "rmsd_paired": s.rmsd_paired,
                    "picked_fraction": s.picked_fraction, "seconds": s.seconds,
                })
            })
            .collect();
        super::print_json(&json!({
            "results": tsv.display().to_string(),
            "summary": md.display().to_string(),
            "chains": targets.len(),
            "failed": failed.iter().map(|(id, why)| json!({"id": id, "error": why})).collect::<Vec<_>>(),
            "means": means,
            "seconds": seconds,
            "device": backend.name(),
        }));
    } else {
        print!("{header}{summary}");
        println!(
            "{} and {} written in {seconds:.1} s",
            tsv.display(),
            md.display()
        );
    }
    anyhow::ensure!(!rows.is_empty() || targets.is_empty(), "every chain failed");
    Ok(())
}
