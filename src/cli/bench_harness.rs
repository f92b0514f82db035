//! `mapfold bench --set … -o DIR` (the benchmark harness,
//! [`crate::bench::harness`]) and `mapfold bench merge DIR… -o OUT` (shards
//! combined into the same outputs).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use serde_json::json;

use crate::bench::harness::maps::{MapSettings, ResolutionBin};
use crate::bench::harness::report::{write_outputs, RunInfo};
use crate::bench::harness::results::{read_csv, Row};
use crate::bench::harness::{self, HarnessOptions};
use crate::gpu::Backend;

#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Targets: test-hard, test-easy, test (both), real (maps with placed models) or all.
    #[arg(long, default_value = "all")]
    pub set: String,
    /// Resolution bins in Å; each simulated map's resolution is drawn within its bin.
    #[arg(long, value_delimiter = ',', default_value = "2-5,5-15")]
    pub resolution_bins: Vec<String>,
    /// Simulated maps per target and bin.
    #[arg(long, default_value_t = 1)]
    pub maps_per_target: usize,
    /// Signal-to-noise range of the simulated maps, LO-HI.
    #[arg(long, default_value = "4-10")]
    pub snr: String,
    /// Run every N-th target starting at I, as I/N (see the README for a Slurm array).
    #[arg(long, default_value = "0/1")]
    pub shard: String,
    /// At most this many targets per set (before sharding).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Only these targets (names as in results.csv, comma-separated), e.g. to rerun failures.
    #[arg(long, value_delimiter = ',')]
    pub targets: Option<Vec<String>>,
    /// Replica-exchange sweeps per run.
    #[arg(long, default_value_t = 60)]
    pub sweeps: usize,
    #[arg(long, default_value_t = 40)]
    pub replicas: usize,
    /// Seed of the maps and of every run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Template library [default: train + validation of the data set].
    #[arg(long)]
    pub library: Option<PathBuf>,
    /// Data directory [default: $MAPFOLD_DATA or ../shared/data].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Output directory: results.csv, table.md, plots; per-map runs under runs/.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Output directories of `mapfold bench` shards.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where the merged results.csv, table.md and plots go.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    #[arg(long)]
    pub json: bool,
}

/// `--shard I/N`.
pub fn parse_shard(s: &str) -> anyhow::Result<(usize, usize)> {
    s.split_once('/')
        .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
        .filter(|(a, b)| *b > 0 && a < b)
        .with_context(|| format!("--shard must be I/N with 0 ≤ I < N, got {s}"))
}

/// This machine in words, for the table's header.
pub fn machine(backend: Backend) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find(|l| l.starts_with("MemTotal"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
    });
    format!(
        "{cpu}, {cores} cores{}; device {}",
        mem.map_or(String::new(), |kb| format!(", {:.0} GiB", kb / 1048576.0)),
        backend.name()
    )
}

fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

pub fn run(args: &RunArgs, global: &super::Global) -> anyhow::Result<()> {
    let out = args
        .output
        .clone()
        .context("mapfold bench needs -o DIR (or a subcommand: mapfold bench --help)")?;
    let sets = harness::set_members(&args.set).map_err(anyhow::Error::msg)?;
    let bins = args
        .resolution_bins
        .iter()
        .map(|b| ResolutionBin::parse(b))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    anyhow::ensure!(!bins.is_empty(), "no --resolution-bins given");
    anyhow::ensure!(
        args.maps_per_target > 0,
        "--maps-per-target must be at least 1"
    );
    let snr = ResolutionBin::parse(&args.snr)
        .map_err(|_| anyhow::anyhow!("--snr must be LO-HI with 0 < LO ≤ HI, got {}", args.snr))?;
    let (i, n) = parse_shard(&args.shard)?;
    let data = match &args.data {
        Some(d) => d.clone(),
        None => crate::data::shared_data_dir().context(
            "the benchmark data are not here: ../shared/data not found (set MAPFOLD_DATA or --data)",
        )?,
    };
    let backend = Backend::select(global.device)?;
    let lib = match &args.library {
        Some(p) => super::thread::load_library(Some(p))?,
        None => super::thread::library_from_data(&data)?,
    };
    let opts = HarnessOptions {
        sets,
        bins,
        maps_per_target: args.maps_per_target,
        stride: n,
        offset: i,
        limit: args.limit,
        only: args.targets.clone(),
        maps: MapSettings {
            snr: (snr.lo, snr.hi),
            seed: args.seed,
            ..MapSettings::default()
        },
        hard_identity: 0.3,
        build: crate::pipeline::BuildOptions {
            sweeps: args.sweeps,
            replicas: args.replicas,
            seed: args.seed,
            ..Default::default()
        },
    };
    let runs = out.join("runs");
    std::fs::create_dir_all(&runs).with_context(|| format!("{}: cannot create", runs.display()))?;
    let targets = harness::targets(&data, &opts)?;
    anyhow::ensure!(
        !targets.is_empty(),
        "no targets: --set {}{}{} selects none",
        args.set,
        args.targets
            .as_ref()
            .map_or(String::new(), |t| format!(" --targets {}", t.join(","))),
        if n > 1 {
            format!(" in shard {i}/{n}")
        } else {
            String::new()
        }
    );
    let total: usize = targets.iter().map(|t| harness::maps_of(t, &opts)).sum();
    log::info!(
        "{} targets, {total} maps, shard {i}/{n}, {} sweeps × {} replicas",
        targets.len(),
        args.sweeps,
        args.replicas
    );
    let bar = if args.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(total as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "bench {bar:30} {pos}/{len} maps {elapsed_precise} eta {eta} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let t0 = Instant::now();
    let info = |t0: &Instant| RunInfo {
        command: command_line(),
        machine: machine(backend),
        wall_seconds: t0.elapsed().as_secs_f64(),
    };
    let mut so_far: Vec<Row> = Vec::new();
    let mut failed = 0;
    let rows = harness::run(&data, &lib, &runs, &opts, backend, |t, rows| {
        for r in rows {
            match &r.error {
                Some(e) => log::warn!("{} {} {}: failed: {e}", t.name, r.map, r.method.as_str()),
                None => log::info!(
                    "{} {} ({:.1} Å) {}: TM {} CRscore {} ({:.0} s)",
                    t.name,
                    r.map,
                    r.resolution,
                    r.method.as_str(),
                    r.tm.map_or("-".into(), |x| format!("{x:.3}")),
                    r.crscore.map_or("-".into(), |x| format!("{x:.3}")),
                    r.seconds
                ),
            }
        }
        failed += rows.iter().filter(|r| !r.ok()).count();
        so_far.extend(rows.iter().cloned());
        // Rewritten after every map, so an interrupted run keeps what it did.
        if let Err(e) = crate::io::write_atomically(
            &out.join("results.csv"),
            crate::bench::harness::results::to_csv(&so_far).as_bytes(),
        ) {
            log::warn!("{e}");
        }
        bar.set_message(format!(
            "{} {}",
            t.name,
            rows.first().map_or("", |r| &r.map)
        ));
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    write_outputs(&out, &rows, &info(&t0))?;
    summary(args.json, &out, &rows, t0.elapsed().as_secs_f64())
}

fn summary(json: bool, out: &std::path::Path, rows: &[Row], seconds: f64) -> anyhow::Result<()> {
    let failed = rows.iter().filter(|r| !r.ok()).count();
    if json {
        super::print_json(&json!({
            "rows": rows.len(),
            "failed": failed,
            "results": out.join("results.csv").display().to_string(),
            "table": out.join("table.md").display().to_string(),
            "seconds": seconds,
        }));
    } else {
        print!("{}", crate::io::read_text(&out.join("table.md"))?);
        println!(
            "{} rows ({failed} failed) in {seconds:.0} s; {}",
            rows.len(),
            out.display()
        );
    }
    Ok(())
}

pub fn merge(args: &MergeArgs, global: &super::Global) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let mut rows: Vec<Row> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for d in &args.dirs {
        let path = d.join("results.csv");
        for r in read_csv(&path)? {
            match seen.get(&r.key()) {
                None => {
                    seen.insert(r.key(), rows.len());
                    rows.push(r);
                }
                // A rerun of a failure (`--targets`) replaces it.
                Some(&k) if !rows[k].ok() && r.ok() => rows[k] = r,
                Some(_) => log::warn!(
                    "{}: {} {} {} is also in an earlier directory; keeping the first",
                    path.display(),
                    r.target,
                    r.map,
                    r.method.as_str()
                ),
            }
        }
    }
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("{}: cannot create", args.output.display()))?;
    // Sum of the shards' per-map seconds: the work done, whatever the machines.
    let work: f64 = rows.iter().map(|r| r.seconds).sum();
    let info = RunInfo {
        command: format!(
            "{} (merged from {} shards; wall time below is the sum of per-method seconds)",
            command_line(),
            args.dirs.len()
        ),
        machine: machine(Backend::select(global.device).unwrap_or(Backend::Cpu)),
        wall_seconds: work,
    };
    write_outputs(&args.output, &rows, &info)?;
    summary(args.json, &args.output, &rows, t0.elapsed().as_secs_f64())
}
