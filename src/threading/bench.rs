//! Threading alone on the benchmark's test chains: for each chain, thread its
//! sequence against the library (its own chain excluded; Hard targets also
//! without templates of ≥ 30% identity), turn each of the top templates into a
//! partial model (template Cα placed on the query residues the alignment
//! pairs them with) and score it by TM-score against the native, normalised by
//! the query length. Reports the first template and the best of the top K, as
//! the paper's comparison of LOMETS templates (first-template TM-score 0.283 on
//! its Hard targets).

use std::path::Path;

use super::library::Library;
use super::scoring::LibraryStats;
use super::search::{thread, Difficulty, Hit, Query, SearchOptions};
use super::ssp::SsPredictor;
use crate::io::FileError;
use crate::Vec3;

/// One benchmark target's result.
#[derive(Debug, Clone)]
pub struct BenchRow {
    pub id: String,
    pub split: String,
    pub length: usize,
    pub label: Difficulty,
    pub top1_template: String,
    pub top1_zn: f64,
    pub top1_identity: f64,
    pub top1_coverage: f64,
    pub top1_tm: f64,
    pub best_tm: f64,
    pub n_hits: usize,
}

/// Benchmark settings.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Templates considered for "best of top K".
    pub top_k: usize,
    /// Identity cutoff applied to test-hard targets.
    pub hard_identity: f64,
    pub limit: Option<usize>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            top_k: 10,
            hard_identity: 0.3,
            limit: None,
        }
    }
}

/// TM-score of a hit's partial model against the native Cα (query order),
/// normalised by the native's length.
pub fn hit_tm_score(hit: &Hit, lib: &Library, native_ca: &[Vec3]) -> f64 {
    let model = crate::template::TemplateModel::from_hit(hit, lib, native_ca.len());
    crate::bench::templates::model_tm(&model, native_ca)
}

/// Runs the benchmark over the test chains of `data_dir` (test-hard, test-easy).
pub fn run(
    data_dir: &Path,
    lib: &Library,
    predictor: &SsPredictor,
    opts: &BenchOptions,
) -> Result<Vec<BenchRow>, FileError> {
    let stats = LibraryStats::of(lib);
    let targets = crate::bench::select_targets(data_dir, "test", 1, 0, opts.limit)?;
    let mut rows = Vec::new();
    for t in &targets {
        let crate::bench::TargetChain {
            native,
            sequence: seq,
            ..
        } = crate::bench::TargetChain::load(data_dir, t)?;
        let query = Query::new(&t.id, &seq, predictor);
        let search = SearchOptions {
            exclude_ids: vec![t.id.clone()],
            exclude_identity: (t.split == "test-hard").then_some(opts.hard_identity),
            ..SearchOptions::default()
        };
        let res = thread(&query, lib, &stats, &search);
        let tms: Vec<f64> = res
            .hits
            .iter()
            .take(opts.top_k)
            .map(|h| hit_tm_score(h, lib, &native))
            .collect();
        let first = res.hits.first();
        let row = BenchRow {
            id: t.id.clone(),
            split: t.split.clone(),
            length: native.len(),
            label: res.difficulty,
            top1_template: first.map(|h| h.template_id.clone()).unwrap_or_default(),
            top1_zn: first.map_or(0.0, |h| h.zn),
            top1_identity: first.map_or(0.0, |h| h.identity),
            top1_coverage: first.map_or(0.0, |h| h.coverage(native.len())),
            top1_tm: tms.first().copied().unwrap_or(0.0),
            best_tm: tms.iter().cloned().fold(0.0, f64::max),
            n_hits: res.hits.len(),
        };
        log::info!(
            "{} ({}): {} first {:.3} best {:.3} via {}",
            row.id,
            row.split,
            row.label.as_str(),
            row.top1_tm,
            row.best_tm,
            row.top1_template
        );
        rows.push(row);
    }
    Ok(rows)
}

/// A markdown table of means per split (test-hard, test-easy, all) plus how
/// often the Easy/Hard label agrees with the split.
pub fn summary_markdown(rows: &[BenchRow]) -> String {
    let mut out = String::from(
        "| split | targets | first-template TM | best-of-top-10 TM | labelled Easy |\n| --- | --- | --- | --- | --- |\n",
    );
    for split in ["test-hard", "test-easy", "all"] {
        let r: Vec<&BenchRow> = rows
            .iter()
            .filter(|r| split == "all" || r.split == split)
            .collect();
        if r.is_empty() {
            continue;
        }
        let n = r.len() as f64;
        let first = r.iter().map(|x| x.top1_tm).sum::<f64>() / n;
        let best = r.iter().map(|x| x.best_tm).sum::<f64>() / n;
        let easy = r.iter().filter(|x| x.label == Difficulty::Easy).count();
        out.push_str(&format!(
            "| {split} | {} | {first:.3} | {best:.3} | {easy} |\n",
            r.len()
        ));
    }
    out
}

/// Tab-separated rows with a header.
pub fn rows_tsv(rows: &[BenchRow]) -> String {
    let mut out = String::from(
        "id\tsplit\tlength\tlabel\ttop1_template\ttop1_zn\ttop1_identity\ttop1_coverage\ttop1_tm\tbest_tm\tn_hits\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{:.3}\t{:.3}\t{:.3}\t{:.4}\t{:.4}\t{}\n",
            r.id,
            r.split,
            r.length,
            r.label.as_str(),
            r.top1_template,
            r.top1_zn,
            r.top1_identity,
            r.top1_coverage,
            r.top1_tm,
            r.best_tm,
            r.n_hits
        ));
    }
    out
}
