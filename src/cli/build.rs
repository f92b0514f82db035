//! `mapfold build` (the whole job: map + sequence → ranked full-atom models)
//! and `mapfold templates` (the same run stopped after the template stage).
//! Both call [`crate::pipeline::build`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde_json::json;

use crate::gpu::Backend;
use crate::pipeline::{build, BuildOptions};
use crate::threading::library::{self, Library};

/// Inputs shared by `build` and `templates`.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// The cryo-EM map (MRC/CCP4, `.gz` allowed).
    #[arg(long)]
    pub map: PathBuf,
    /// The protein's sequence (FASTA). Each record is a chain of the models (A,
    /// B, …): the chains of a complex, or the pieces of a chain whose linking
    /// residues are not in the sequence. No bond joins one record to the next.
    #[arg(long)]
    pub seq: PathBuf,
    /// Output directory (created; an interrupted run resumes from it).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Map resolution in Å; estimated from the map's spectrum when absent.
    #[arg(long)]
    pub resolution: Option<f64>,
    /// Template library (`mapfold library build`); default: $MAPFOLD_LIBRARY, else
    /// one built from ../shared/data (train, validation) when present, else none.
    #[arg(long)]
    pub library: Option<PathBuf>,
    /// Use this Cα cloud (PDB of CA atoms, e.g. from `mapfold ca`) instead of running the networks.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Predicted contacts in CASP RR format (default: consensus of the top templates).
    #[arg(long)]
    pub contacts: Option<PathBuf>,
    /// Extra templates and alignments from an HHsearch .hhr file.
    #[arg(long)]
    pub hhr: Option<PathBuf>,
    /// Drop templates at or above this sequence identity to the query (benchmarks: 0.3).
    #[arg(long)]
    pub exclude_identity: Option<f64>,
    /// Template ids never used (repeatable).
    #[arg(long)]
    pub exclude_id: Vec<String>,
    /// Seed of every random choice; the same seed gives the same models.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub common: Common,
    /// Replica-exchange sweeps (each: L moves of every replica).
    #[arg(long, default_value_t = 60)]
    pub sweeps: usize,
    /// Stop the assembly after this many minutes, whatever --sweeps says.
    #[arg(long, value_name = "MINUTES")]
    pub time_budget: Option<f64>,
    /// Replicas of the replica exchange (the paper: 40).
    #[arg(long, default_value_t = 40)]
    pub replicas: usize,
}

#[derive(Debug, clap::Args)]
pub struct TemplatesArgs {
    #[command(flatten)]
    pub common: Common,
}

/// The template library a run uses (see [`Common::library`]).
pub fn library_for_run(path: Option<&Path>) -> anyhow::Result<(Option<Library>, String)> {
    let env = std::env::var_os("MAPFOLD_LIBRARY").map(PathBuf::from);
    if let Some(p) = path.map(Path::to_path_buf).or(env) {
        let lib = Library::read(&p)?;
        log::info!("{}: {} templates", p.display(), lib.len());
        return Ok((Some(lib), p.display().to_string()));
    }
    match crate::data::shared_data_dir() {
        Some(data) => {
            log::warn!(
                "no --library: building one from {} (train, validation); `mapfold library build` saves it for next time",
                data.display()
            );
            let files = library::split_files(&data, &["train".into(), "validation".into()])?;
            Ok((
                Some(Library::build(&files)?),
                format!("{} (train, validation)", data.display()),
            ))
        }
        None => {
            log::warn!("no template library (no --library, no $MAPFOLD_LIBRARY, no ../shared/data): modelling from the Cα cloud alone");
            Ok((None, "none".into()))
        }
    }
}

fn options(c: &Common, global: &super::Global) -> anyhow::Result<BuildOptions> {
    if let Some(x) = c.exclude_identity {
        anyhow::ensure!(
            (0.0..=1.0).contains(&x),
            "--exclude-identity must be in [0, 1], got {x}"
        );
    }
    let (library, library_label) = library_for_run(c.library.as_deref())?;
    let mut o = BuildOptions {
        resolution: c.resolution,
        library,
        library_label,
        ca: c.ca.clone(),
        contacts: c.contacts.clone(),
        hhr: c.hhr.clone(),
        seed: c.seed,
        backend: Backend::select(global.device)?,
        progress: !c.json,
        ..BuildOptions::default()
    };
    o.search.exclude_identity = c.exclude_identity;
    o.search.exclude_ids = c.exclude_id.clone();
    Ok(o)
}

pub fn run_build(args: &BuildArgs, global: &super::Global) -> anyhow::Result<()> {
    let c = &args.common;
    anyhow::ensure!(args.replicas >= 2, "--replicas must be at least 2");
    anyhow::ensure!(args.sweeps >= 1, "--sweeps must be at least 1");
    if let Some(m) = args.time_budget {
        anyhow::ensure!(
            m.is_finite() && m > 0.0,
            "--time-budget must be a positive number of minutes"
        );
    }
    let mut o = options(c, global)?;
    o.sweeps = args.sweeps;
    o.replicas = args.replicas;
    o.time_budget = args.time_budget.map(|m| Duration::from_secs_f64(m * 60.0));
    let report = build(&c.map, &c.seq, &c.output, &o).with_context(|| {
        format!(
            "building a model of {} in {}",
            c.seq.display(),
            c.map.display()
        )
    })?;
    let report_path = c.output.join("report.json");
    let first = report.models.first().map(|m| m.etm_score);
    if c.json {
        super::print_json(&json!({
            "report": report_path.display().to_string(),
            "etm_score": first,
            "models": report.models.len(),
        }));
    } else {
        for m in &report.models {
            println!(
                "{}: eTM-score {:.3}, cluster of {} decoys",
                c.output.join(&m.file).display(),
                m.etm_score,
                m.cluster_size
            );
        }
        println!("{}", report_path.display());
    }
    Ok(())
}

pub fn run_templates(args: &TemplatesArgs, global: &super::Global) -> anyhow::Result<()> {
    let c = &args.common;
    let mut o = options(c, global)?;
    o.templates_only = true;
    let t0 = std::time::Instant::now();
    let report = build(&c.map, &c.seq, &c.output, &o).with_context(|| {
        format!(
            "finding templates for {} in {}",
            c.seq.display(),
            c.map.display()
        )
    })?;
    let seconds = t0.elapsed().as_secs_f64();
    if c.json {
        super::print_json(&json!({
            "n_templates": report.templates,
            "easy": report.difficulty == "Easy",
            "seconds": seconds,
            "output": c.output.display().to_string(),
        }));
    } else {
        println!(
            "{}: {} templates (target {}), {seconds:.1} s",
            c.output.display(),
            report.templates,
            report.difficulty
        );
    }
    Ok(())
}
