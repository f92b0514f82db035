//! `mapfold library`: the threading template library. `library build` reads
//! structure files (a directory, a list file, or splits of the shared data set)
//! and writes the binary library ([`crate::threading::library`]);
//! `library train-ssp` retrains the sequence → secondary-structure predictor
//! ([`crate::threading::ssp`]) on the data set's train split;
//! `library train-restype` retrains the residue-type predictor
//! ([`crate::template::residue_type`]) on simulated maps of train chains;
//! `library knowledge-stats` rebuilds the assembly force field's statistics
//! ([`crate::assembly::stats`]) from the train split.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use serde_json::json;

use crate::threading::library::{self, Library};
use crate::threading::ssp::{SsPredictor, TrainOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: LibraryCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LibraryCommand {
    /// Build a template library from structure files.
    Build(BuildArgs),
    /// Retrain the secondary-structure predictor (writes its weight file).
    TrainSsp(TrainSspArgs),
    /// Retrain the residue-type predictor on simulated maps (writes its weight file).
    TrainRestype(TrainRestypeArgs),
    /// Rebuild the assembly's knowledge-based statistics from the train split.
    KnowledgeStats(KnowledgeStatsArgs),
}

#[derive(Debug, clap::Args)]
pub struct TrainRestypeArgs {
    /// The data set directory (default ../shared/data).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Output weight file (the shipped one is weights/restype.bin).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Train chains to simulate maps of: the first N of the split (default: all).
    #[arg(long)]
    pub chains: Option<usize>,
    /// Validation chains scored after each epoch.
    #[arg(long, default_value_t = 50)]
    pub validation_chains: usize,
    /// A file of chain ids (one per line, `#` comments): these chains and
    /// every train chain in their 30 %-identity cluster are left out of
    /// training, so that tuning runs on train-homolog chains see a predictor
    /// that has not seen them or their homologs.
    #[arg(long)]
    pub exclude: Option<PathBuf>,
    /// Gaussian noise (Å per axis) added to the native Cα.
    #[arg(long, default_value_t = 0.35)]
    pub jitter: f64,
    /// Resolution range of the maps (Å), as LO-HI.
    #[arg(long, default_value = "2-5")]
    pub resolutions: String,
    /// Fraction of maps degraded like experimental ones
    /// (`training::residue_maps`); the rest are the harness's.
    #[arg(long, default_value_t = 0.5)]
    pub degraded: f64,
    /// Training epochs; the one with the best validation information is kept.
    /// (Every default here is the shipped weights' setting.)
    #[arg(long, default_value_t = 16)]
    pub epochs: usize,
    /// Hidden units.
    #[arg(long, default_value_t = 128)]
    pub hidden: usize,
    #[arg(long, default_value_t = 0.002)]
    pub learning_rate: f32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct KnowledgeStatsArgs {
    /// The data set directory (default ../shared/data).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Output JSON file (the shipped one is weights/knowledge.json).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// A directory of PDB/mmCIF files or a list file (one path per line); without
    /// it, the chains of --split from the data set.
    pub input: Option<PathBuf>,
    /// Output library file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Keep only chains of these splits of structures.tsv (default for the data
    /// set: train,validation; with INPUT: no filter).
    #[arg(long, value_delimiter = ',')]
    pub split: Option<Vec<String>>,
    /// The data set directory holding structures.tsv (default ../shared/data, or INPUT/.. ).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct TrainSspArgs {
    /// The data set directory (default ../shared/data).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Output weight file (the shipped one is weights/ssp.bin).
    #[arg(short, long)]
    pub output: PathBuf,
    #[arg(long, default_value_t = 12)]
    pub epochs: usize,
    #[arg(long, default_value_t = 64)]
    pub hidden: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 0.003)]
    pub learning_rate: f32,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &Args, _global: &super::Global) -> anyhow::Result<()> {
    match &args.command {
        LibraryCommand::Build(a) => run_build(a),
        LibraryCommand::TrainSsp(a) => run_train(a),
        LibraryCommand::TrainRestype(a) => run_train_restype(a),
        LibraryCommand::KnowledgeStats(a) => run_knowledge(a),
    }
}

fn run_knowledge(a: &KnowledgeStatsArgs) -> anyhow::Result<()> {
    let data = data_dir(a.data.as_deref())?;
    let t0 = Instant::now();
    // Train split only: the force field must not see validation or test chains.
    let files = library::split_files(&data, &["train".into()])?;
    let stats = crate::assembly::stats::KnowledgeStats::build(&files, "train split")?;
    stats.write(&a.output)?;
    let seconds = t0.elapsed().as_secs_f64();
    if a.json {
        super::print_json(&json!({
            "output": a.output,
            "source": stats.source,
            "seconds": seconds,
        }));
    } else {
        println!("{}: {} ({seconds:.1} s)", a.output.display(), stats.source);
    }
    Ok(())
}

fn data_dir(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    match given {
        Some(d) => {
            anyhow::ensure!(d.is_dir(), "{}: not a directory", d.display());
            Ok(d.to_path_buf())
        }
        None => crate::data::shared_data_dir().context(
            "the data set is not here: ../shared/data not found (set MAPFOLD_DATA or --data)",
        ),
    }
}

/// The structure files `build` reads.
fn build_paths(args: &BuildArgs) -> anyhow::Result<Vec<PathBuf>> {
    let Some(input) = &args.input else {
        let data = data_dir(args.data.as_deref())?;
        let splits = args
            .split
            .clone()
            .unwrap_or_else(|| vec!["train".into(), "validation".into()]);
        return Ok(library::split_files(&data, &splits)?);
    };
    let mut paths = if input.is_dir() {
        library::structure_files(input)?
    } else if input.is_file() {
        library::list_file(input)?
    } else {
        bail!("{}: no such file or directory", input.display());
    };
    if let Some(splits) = &args.split {
        let data = match &args.data {
            Some(d) => d.clone(),
            None => input
                .parent()
                .filter(|p| p.join("structures.tsv").is_file())
                .map(Path::to_path_buf)
                .or_else(crate::data::shared_data_dir)
                .context("--split needs structures.tsv: pass --data DIR")?,
        };
        let mut keep = std::collections::HashSet::new();
        for s in splits {
            for t in crate::bench::read_targets(&data, s)? {
                keep.insert(t.id);
            }
        }
        paths.retain(|p| keep.contains(&library::id_of_path(p)));
    }
    Ok(paths)
}

fn run_build(args: &BuildArgs) -> anyhow::Result<()> {
    let paths = build_paths(args)?;
    anyhow::ensure!(
        !paths.is_empty(),
        "no structure files to build a library from"
    );
    let t0 = Instant::now();
    let lib = Library::build(&paths)?;
    let build_s = t0.elapsed().as_secs_f64();
    lib.write(&args.output)?;
    let bytes = std::fs::metadata(&args.output)
        .map(|m| m.len())
        .unwrap_or(0);
    let residues: usize = lib.chains.iter().map(|c| c.len()).sum();
    log::info!("built {} chains in {build_s:.2} s", lib.len());
    if args.json {
        super::print_json(&json!({
            "output": args.output,
            "files": paths.len(),
            "chains": lib.len(),
            "residues": residues,
            "bytes": bytes,
            "build_seconds": build_s,
        }));
    } else {
        println!(
            "{}: {} chains, {} residues, {} bytes (built from {} files in {:.2} s)",
            args.output.display(),
            lib.len(),
            residues,
            bytes,
            paths.len(),
            build_s
        );
    }
    Ok(())
}

fn run_train(args: &TrainSspArgs) -> anyhow::Result<()> {
    let data = data_dir(args.data.as_deref())?;
    let load = |split: &str| -> anyhow::Result<Vec<(String, Vec<crate::threading::Ss>)>> {
        let lib = Library::build(&library::split_files(&data, &[split.to_string()])?)?;
        Ok(lib.chains.into_iter().map(|c| (c.sequence, c.ss)).collect())
    };
    let t0 = Instant::now();
    let (train, valid, test) = (load("train")?, load("validation")?, load("test")?);
    let opts = TrainOptions {
        epochs: args.epochs,
        hidden: args.hidden,
        seed: args.seed,
        learning_rate: args.learning_rate,
        ..TrainOptions::default()
    };
    let (net, report) = SsPredictor::train(&train, &valid, &opts);
    let q3_test = net.q3_on(&test);
    let q3_train = net.q3_on(&train);
    net.write(&args.output)?;
    let secs = t0.elapsed().as_secs_f64();
    let best_valid = report.validation_q3[report.best_epoch.saturating_sub(1)];
    if args.json {
        super::print_json(&json!({
            "output": args.output,
            "train_chains": train.len(),
            "best_epoch": report.best_epoch,
            "validation_q3_per_epoch": report.validation_q3,
            "q3_train": q3_train,
            "q3_validation": best_valid,
            "q3_test": q3_test,
            "seconds": secs,
        }));
    } else {
        println!(
            "{}: epoch {} of {}; Q3 train {:.4}, validation {:.4}, test {:.4} ({:.1} s)",
            args.output.display(),
            report.best_epoch,
            args.epochs,
            q3_train,
            best_valid,
            q3_test,
            secs
        );
    }
    Ok(())
}

/// Residue-type samples of the first `limit` chains of `split`: one map in
/// `bin` per chain (seeded by `seed`), degraded with probability `degraded`,
/// else the harness's; the chain's Cα jittered.
#[allow(clippy::too_many_arguments)]
fn restype_samples(
    data: &Path,
    bin: crate::bench::harness::maps::ResolutionBin,
    split: &str,
    limit: usize,
    exclude: &std::collections::HashSet<String>,
    jitter: f64,
    degraded: f64,
    seed: u64,
) -> anyhow::Result<Vec<crate::template::residue_type::Sample>> {
    use crate::bench::harness::maps::{simulate, MapSettings};
    use crate::bench::{read_targets, TargetChain};
    use rand::{Rng, SeedableRng};
    use rayon::prelude::*;
    let targets: Vec<_> = read_targets(data, split)?
        .into_iter()
        .filter(|t| !exclude.contains(&t.id))
        .take(limit)
        .collect();
    let settings = MapSettings {
        seed,
        ..MapSettings::default()
    };
    let per_chain: Vec<Vec<_>> = targets
        .par_iter()
        .enumerate()
        .map(|(k, t)| -> anyhow::Result<Vec<_>> {
            let tc = TargetChain::load(data, t)?;
            let types: Vec<usize> = tc
                .sequence
                .chars()
                .map(crate::sequence::index_or_unknown)
                .collect();
            if types.len() != tc.native.len() {
                log::warn!("{}: sequence and Cα differ in length; skipped", t.id);
                return Ok(Vec::new());
            }
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ (k as u64) << 20);
            let (map, resolution) = if rng.random::<f64>() < degraded {
                crate::training::residue_maps::degraded_map(
                    &tc.structure(),
                    (bin.lo, bin.hi),
                    &mut rng,
                )?
            } else {
                let bm = simulate(
                    &tc.structure(),
                    &t.id,
                    bin,
                    0,
                    &settings,
                    crate::gpu::Backend::Cpu,
                )?;
                (bm.map, bm.resolution)
            };
            Ok(crate::template::residue_type::chain_samples(
                &map, &tc.native, &types, resolution, jitter, &mut rng,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(per_chain.into_iter().flatten().collect())
}

/// The chains named in `list` (one id per line, `#` comments) and every
/// chain sharing a 30 %-identity cluster with one of them, per
/// `structures.tsv`. An id the table lacks is an error naming both files.
fn excluded_chains(data: &Path, list: &Path) -> anyhow::Result<std::collections::HashSet<String>> {
    let ids: Vec<String> = crate::io::read_text(list)?
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    anyhow::ensure!(!ids.is_empty(), "{}: no chain ids", list.display());
    let table = data.join("structures.tsv");
    let text = crate::io::read_text(&table)?;
    let (header, lines) = crate::io::tsv::header(&table, &text)?;
    let (c_id, c_cluster) = (header.col("id")?, header.col("cluster30")?);
    let rows: Vec<(String, String)> = lines
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Some((f.get(c_id)?.to_string(), f.get(c_cluster)?.to_string()))
        })
        .collect();
    let mut clusters = std::collections::HashSet::new();
    for id in &ids {
        let (_, c) = rows.iter().find(|(i, _)| i == id).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: chain {id} is not in {}",
                list.display(),
                table.display()
            )
        })?;
        clusters.insert(c.clone());
    }
    let out: std::collections::HashSet<String> = rows
        .into_iter()
        .filter(|(_, c)| clusters.contains(c))
        .map(|(i, _)| i)
        .collect();
    log::info!(
        "residue types: {} chains in {} clusters left out ({})",
        out.len(),
        clusters.len(),
        list.display()
    );
    Ok(out)
}

fn run_train_restype(args: &TrainRestypeArgs) -> anyhow::Result<()> {
    use crate::template::residue_type::{ResidueTypePredictor, TrainOptions};
    // Arguments first: a bad one fails before maps are simulated.
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.degraded),
        "--degraded must be a fraction in 0..1, got {}",
        args.degraded
    );
    anyhow::ensure!(
        args.jitter.is_finite() && args.jitter >= 0.0,
        "--jitter must be a distance of 0 Å or more, got {}",
        args.jitter
    );
    anyhow::ensure!(args.epochs >= 1, "--epochs must be at least 1");
    anyhow::ensure!(
        (1..=4096).contains(&args.hidden),
        "--hidden must be 1 to 4096 units (the weight file's limit), got {}",
        args.hidden
    );
    anyhow::ensure!(
        args.learning_rate.is_finite() && args.learning_rate > 0.0,
        "--learning-rate must be positive, got {}",
        args.learning_rate
    );
    let bin = crate::bench::harness::maps::ResolutionBin::parse(&args.resolutions)
        .map_err(|e| anyhow::anyhow!("--resolutions: {e}"))?;
    let data = data_dir(args.data.as_deref())?;
    let excluded = match &args.exclude {
        Some(f) => excluded_chains(&data, f)?,
        None => Default::default(),
    };
    let t0 = Instant::now();
    let train = restype_samples(
        &data,
        bin,
        "train",
        args.chains.unwrap_or(usize::MAX),
        &excluded,
        args.jitter,
        args.degraded,
        args.seed,
    )?;
    // Validation chains twice: on the harness's maps (as the simulated test
    // maps) and on degraded ones; epochs are chosen on both together.
    let valid_maps = |degraded: f64| {
        restype_samples(
            &data,
            bin,
            "validation",
            args.validation_chains,
            &Default::default(),
            args.jitter,
            degraded,
            args.seed + 1,
        )
    };
    let (valid_harness, valid_degraded) = (valid_maps(0.0)?, valid_maps(1.0)?);
    let valid: Vec<_> = valid_harness
        .iter()
        .chain(&valid_degraded)
        .cloned()
        .collect();
    anyhow::ensure!(
        !train.is_empty() && !valid.is_empty(),
        "{}: no training or validation samples",
        data.display()
    );
    log::info!(
        "residue types: {} train and {} validation samples in {:.1} s",
        train.len(),
        valid.len(),
        t0.elapsed().as_secs_f64()
    );
    let opts = TrainOptions {
        hidden: args.hidden,
        epochs: args.epochs,
        learning_rate: args.learning_rate,
        seed: args.seed,
    };
    let (net, report) = ResidueTypePredictor::train(&train, &valid, &opts);
    let on_train = net.score(&train);
    let on_valid = report.validation[report.best_epoch.saturating_sub(1)];
    let (on_harness, on_degraded) = (net.score(&valid_harness), net.score(&valid_degraded));
    net.write(&args.output)?;
    let secs = t0.elapsed().as_secs_f64();
    if args.json {
        super::print_json(&json!({
            "output": args.output,
            "train_samples": train.len(),
            "best_epoch": report.best_epoch,
            "validation_per_epoch": report.validation,
            "train": on_train,
            "validation": on_valid,
            "validation_harness_maps": on_harness,
            "validation_degraded_maps": on_degraded,
            "seconds": secs,
        }));
    } else {
        println!(
            "{}: epoch {} of {}; top-1 train {:.4}, validation {:.4} (harness maps {:.4}, degraded {:.4}); \
             information train {:.4}, validation {:.4} (harness maps {:.4}, degraded {:.4}) nats ({:.1} s)",
            args.output.display(),
            report.best_epoch,
            args.epochs,
            on_train.top1,
            on_valid.top1,
            on_harness.top1,
            on_degraded.top1,
            on_train.information,
            on_valid.information,
            on_harness.information,
            on_degraded.information,
            secs
        );
    }
    Ok(())
}
