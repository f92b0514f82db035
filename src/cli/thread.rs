//! `mapfold thread`: meta-threading of a query sequence against the template
//! library ([`crate::threading::search`]), optionally merged with HHsearch hits
//! from an `.hhr` file. Writes the ranked templates as TSV; prints the target's
//! Easy/Hard label and the first hits. Also `mapfold bench threading`'s runner.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use serde_json::json;

use crate::threading::hhr;
use crate::threading::library::{self, Library};
use crate::threading::scoring::LibraryStats;
use crate::threading::search::{aligned_strings, merge_hits, thread, Query, SearchOptions};
use crate::threading::ssp::SsPredictor;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The query sequence (FASTA; the first record is used).
    #[arg(long)]
    pub seq: PathBuf,
    /// Template library (`mapfold library build`); default $MAPFOLD_LIBRARY, else
    /// one built in memory from the data set's train and validation chains.
    #[arg(long)]
    pub library: Option<PathBuf>,
    /// Drop templates at or above this sequence identity to the query (0.3: the benchmark's Hard setting).
    #[arg(long)]
    pub exclude_identity: Option<f64>,
    /// Never use this template (repeatable), e.g. the query's own chain.
    #[arg(long)]
    pub exclude_id: Vec<String>,
    /// HHsearch results (.hhr) to merge as an extra threading source.
    #[arg(long)]
    pub hhr: Option<PathBuf>,
    /// Templates kept.
    #[arg(long, default_value_t = 300)]
    pub top: usize,
    /// Secondary-structure predictor weights (default: the bundled ones).
    #[arg(long)]
    pub ssp_weights: Option<PathBuf>,
    /// Output TSV of the ranked templates.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Template library; default: built in memory from train + validation.
    #[arg(long)]
    pub library: Option<PathBuf>,
    /// The data set directory (default ../shared/data).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Only the first N test chains.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Output directory for threading_results.tsv and threading_summary.md.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The library a command uses (see [`Args::library`]).
pub fn load_library(path: Option<&Path>) -> anyhow::Result<Library> {
    let env = std::env::var_os("MAPFOLD_LIBRARY").map(PathBuf::from);
    if let Some(p) = path.map(Path::to_path_buf).or(env) {
        let t0 = Instant::now();
        let lib = Library::read(&p)?;
        log::info!(
            "{}: {} templates loaded in {:.3} s",
            p.display(),
            lib.len(),
            t0.elapsed().as_secs_f64()
        );
        return Ok(lib);
    }
    let data = crate::data::shared_data_dir().context(
        "no template library: pass --library (make one with `mapfold library build`) or set MAPFOLD_LIBRARY",
    )?;
    library_from_data(&data)
}

/// The library of the train and validation chains of a data directory (the
/// test split never enters it).
pub fn library_from_data(data: &Path) -> anyhow::Result<Library> {
    log::warn!(
        "no --library: building one from {} (train, validation)",
        data.display()
    );
    let files = library::split_files(data, &["train".into(), "validation".into()])?;
    Ok(Library::build(&files)?)
}

fn predictor(path: Option<&Path>) -> anyhow::Result<SsPredictor> {
    match path {
        Some(p) => Ok(SsPredictor::read(p)?),
        None => SsPredictor::bundled().map_err(anyhow::Error::msg),
    }
}

pub fn run(args: &Args, _global: &super::Global) -> anyhow::Result<()> {
    if let Some(x) = args.exclude_identity {
        anyhow::ensure!(
            (0.0..=1.0).contains(&x),
            "--exclude-identity must be in [0, 1], got {x}"
        );
    }
    let records = crate::io::fasta::read_fasta(&args.seq)?;
    let rec = records
        .first()
        .with_context(|| format!("{}: no sequence", args.seq.display()))?;
    if records.len() > 1 {
        log::warn!(
            "{}: {} records, threading the first ({})",
            args.seq.display(),
            records.len(),
            rec.id
        );
    }
    let lib = load_library(args.library.as_deref())?;
    anyhow::ensure!(!lib.is_empty(), "the template library is empty");
    let net = predictor(args.ssp_weights.as_deref())?;
    let t0 = Instant::now();
    let query = Query::new(&rec.id, &rec.residues, &net);
    let stats = LibraryStats::of(&lib);
    let opts = SearchOptions {
        top: args.top,
        exclude_identity: args.exclude_identity,
        exclude_ids: args.exclude_id.clone(),
        ..SearchOptions::default()
    };
    let mut res = thread(&query, &lib, &stats, &opts);
    let mut hh_used = 0;
    if let Some(p) = &args.hhr {
        let file = hhr::read_hhr(p)?;
        let (hits, notes) = hhr::hits_from_hhr(&file, &query, &lib, &opts);
        for n in notes {
            log::warn!("{}: {n}", p.display());
        }
        hh_used = hits.len();
        merge_hits(&mut res, hits, args.top);
    }
    let secs = t0.elapsed().as_secs_f64();
    let mut tsv = String::from(
        "rank\ttemplate\tsource\tzn\tidentity\tcoverage\taligned\tq_start\tq_end\tt_start\tt_end\tscheme_zn\tquery_aligned\ttemplate_aligned\n",
    );
    for (k, h) in res.hits.iter().enumerate() {
        let p = &h.alignment.pairs;
        let (qa, ta) = aligned_strings(
            &query.sequence,
            &lib.chains[h.template].sequence,
            &h.alignment,
        );
        let zs: Vec<String> = h.scheme_zn.iter().map(|z| format!("{z:.3}")).collect();
        tsv.push_str(&format!(
            "{}\t{}\t{}\t{:.3}\t{:.3}\t{:.3}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            k + 1,
            h.template_id,
            h.source,
            h.zn,
            h.identity,
            h.coverage(query.sequence.len()),
            p.len(),
            p.first().map_or(0, |x| x.0 + 1),
            p.last().map_or(0, |x| x.0 + 1),
            p.first().map_or(0, |x| x.1 + 1),
            p.last().map_or(0, |x| x.1 + 1),
            if zs.is_empty() {
                "-".to_string()
            } else {
                zs.join(",")
            },
            qa,
            ta
        ));
    }
    crate::io::write_atomically(&args.output, tsv.as_bytes())?;
    let ss: String = net
        .predict_states(&query.sequence)
        .iter()
        .map(|s| s.letter())
        .collect();
    if args.json {
        super::print_json(&json!({
            "query": query.id,
            "length": query.sequence.len(),
            "label": res.difficulty.as_str(),
            "predicted_ss": ss,
            "good_templates_per_scheme": res.good_per_scheme.iter().map(|(n, g)| json!({"scheme": n, "zn_above_1": g})).collect::<Vec<_>>(),
            "templates_searched": res.searched,
            "excluded_by_id": res.excluded_by_id,
            "excluded_by_identity": res.excluded_by_identity,
            "hhsearch_hits": hh_used,
            "seconds": secs,
            "output": args.output,
            "hits": res.hits.iter().take(20).map(|h| json!({
                "template": h.template_id, "source": h.source, "zn": h.zn,
                "identity": h.identity, "aligned": h.alignment.pairs.len(),
            })).collect::<Vec<_>>(),
        }));
    } else {
        println!(
            "{} ({} aa): {} target; {} templates searched ({} excluded by id, {} by identity) in {:.2} s",
            query.id,
            query.sequence.len(),
            res.difficulty.as_str(),
            res.searched,
            res.excluded_by_id,
            res.excluded_by_identity,
            secs
        );
        for (n, g) in &res.good_per_scheme {
            println!("  scheme {n}: {g} templates with Zn > 1");
        }
        println!("rank  template                                  source    Zn     id    aligned");
        for (k, h) in res.hits.iter().take(10).enumerate() {
            println!(
                "{:>4}  {:<40}  {:<8} {:>6.2} {:>5.2} {:>6}",
                k + 1,
                h.template_id,
                h.source,
                h.zn,
                h.identity,
                h.alignment.pairs.len()
            );
        }
        println!(
            "{} templates written to {}",
            res.hits.len(),
            args.output.display()
        );
    }
    Ok(())
}

/// `mapfold bench threading`.
pub fn run_bench(args: &BenchArgs) -> anyhow::Result<()> {
    use crate::threading::bench;
    let data = match &args.data {
        Some(d) => d.clone(),
        None => crate::data::shared_data_dir()
            .context("the benchmark data are not here: ../shared/data not found (set MAPFOLD_DATA or --data)")?,
    };
    let lib = load_library(args.library.as_deref())?;
    let net = SsPredictor::bundled().map_err(anyhow::Error::msg)?;
    let t0 = Instant::now();
    let opts = bench::BenchOptions {
        limit: args.limit,
        ..Default::default()
    };
    let rows = bench::run(&data, &lib, &net, &opts)?;
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("{}: cannot create directory", args.output.display()))?;
    let summary = bench::summary_markdown(&rows);
    crate::io::write_atomically(
        &args.output.join("threading_results.tsv"),
        bench::rows_tsv(&rows).as_bytes(),
    )?;
    crate::io::write_atomically(
        &args.output.join("threading_summary.md"),
        summary.as_bytes(),
    )?;
    let secs = t0.elapsed().as_secs_f64();
    if args.json {
        let mean = |split: &str, f: fn(&bench::BenchRow) -> f64| {
            let r: Vec<f64> = rows.iter().filter(|r| r.split == split).map(f).collect();
            r.iter().sum::<f64>() / r.len().max(1) as f64
        };
        super::print_json(&json!({
            "targets": rows.len(),
            "hard_first_tm": mean("test-hard", |r| r.top1_tm),
            "hard_best_tm": mean("test-hard", |r| r.best_tm),
            "easy_first_tm": mean("test-easy", |r| r.top1_tm),
            "easy_best_tm": mean("test-easy", |r| r.best_tm),
            "seconds": secs,
            "output": args.output,
        }));
    } else {
        print!("{summary}");
        println!(
            "({} targets in {:.1} s; rows in {})",
            rows.len(),
            secs,
            args.output.join("threading_results.tsv").display()
        );
    }
    Ok(())
}
