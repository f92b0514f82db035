//! The template stage on held-out chains: for each test chain and resolution,
//! a map simulated from the chain (eq. 2, [`super::ca::benchmark_map`]), its
//! Cα cloud from the bundled networks, threading through the library (the
//! chain's own entry excluded; test-hard chains also with identity ≥ 0.3
//! excluded, the paper's Hard setting), then the whole template stage
//! ([`crate::template::select`]). Reported per target: TM-score (normalised by
//! the chain's length, superposition found by the TM-score search) of the first
//! template and the best of 40, for threading alone (Z-score order) and for the
//! stage's output, and seconds per step.

use std::path::Path;
use std::time::Instant;

use crate::ca::detect::CaDetector;
use crate::geom::tmscore::{tm_score_paired, TmScoreResult};
use crate::gpu::Backend;
use crate::template::select::{select_templates, SelectInputs, SelectOptions};
use crate::template::TemplateModel;
use crate::threading::library::Library;
use crate::threading::scoring::LibraryStats;
use crate::threading::search::{thread, Query, SearchOptions};
use crate::threading::ssp::SsPredictor;
use crate::Vec3;

/// One (target, resolution) row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TemplateRow {
    pub target: String,
    pub split: String,
    pub resolution: f64,
    pub length: usize,
    pub label: String,
    pub cloud_trusted: bool,
    pub thread_first: f64,
    pub thread_best: f64,
    pub final_first: f64,
    pub final_best: f64,
    /// TM-score of the first regenerated (Cα-trace) template (0: none).
    pub regen_first: f64,
    /// Fraction of that template's residues within 3 Å of their own native Cα
    /// (how often its register is right where its trace is).
    pub regen_register: f64,
    /// The same in the best register and direction ([`best_register_match`]).
    pub regen_register_best: f64,
    pub n_reselected: usize,
    pub n_regenerated: usize,
    pub n_fitted: usize,
    pub seconds_ca: f64,
    pub seconds_threading: f64,
    pub seconds_select: f64,
}

pub struct TemplateBenchOptions {
    /// Split of `structures.tsv`: `test` for the benchmark, `validation` for
    /// tuning (validation chains are in the library: treated as test-hard).
    pub split: String,
    pub resolutions: Vec<f64>,
    pub limit: Option<usize>,
    /// Every n-th target (with `offset`), to spread a run over machines.
    pub stride: usize,
    pub offset: usize,
    pub hard_identity: f64,
    /// Identity cut-off for the templates of tuning chains (validation,
    /// train-homologs), overriding `hard_identity` there; test chains ignore it.
    pub tuning_identity: Option<f64>,
    pub sim: super::ca::SimOptions,
    pub select: SelectOptions,
}

/// TM-score, RMSD and GDT-TS of a partial model against the native Cα (query
/// order), by residue index, normalised by the native's length; `None` with
/// fewer than 3 residues placed.
pub fn model_scores(model: &TemplateModel, native: &[Vec3]) -> Option<TmScoreResult> {
    let (m, r): (Vec<Vec3>, Vec<Vec3>) = model
        .aligned_pairs()
        .into_iter()
        .filter(|(i, _)| *i < native.len())
        .map(|(i, p)| (p, native[i]))
        .unzip();
    (m.len() >= 3).then(|| tm_score_paired(&m, &r, native.len()))
}

/// [`model_scores`]' TM-score (0 with fewer than 3 residues placed).
pub fn model_tm(model: &TemplateModel, native: &[Vec3]) -> f64 {
    model_scores(model, native).map_or(0.0, |s| s.tm_score)
}

/// Fraction of a model's residues whose Cα lies within 3 Å of the native Cα
/// of the same residue.
pub fn register_match(model: &TemplateModel, native: &[Vec3]) -> f64 {
    let pairs = model.aligned_pairs();
    let ok = pairs
        .iter()
        .filter(|(i, p)| native.get(*i).is_some_and(|n| (n - p).norm() < 3.0))
        .count();
    ok as f64 / pairs.len().max(1) as f64
}

/// The best [`register_match`] over every register and direction of the
/// model's residues onto the native (residue i on native c ± i): how much of
/// the trace follows the chain at all, whatever the threading chose.
pub fn best_register_match(model: &TemplateModel, native: &[Vec3]) -> f64 {
    let pairs = model.aligned_pairs();
    let n = native.len() as i64;
    let mut best = 0;
    for reverse in [false, true] {
        for c in -n..2 * n {
            let ok = pairs
                .iter()
                .filter(|(i, p)| {
                    let j = if reverse {
                        c - *i as i64
                    } else {
                        c + *i as i64 - n
                    };
                    (0..n).contains(&j) && (native[j as usize] - p).norm() < 3.0
                })
                .count();
            best = best.max(ok);
        }
    }
    best as f64 / pairs.len().max(1) as f64
}

/// Runs the benchmark; `each` sees every row as it is made (progress, logs).
pub fn run(
    data_dir: &Path,
    lib: &Library,
    opts: &TemplateBenchOptions,
    backend: Backend,
    mut each: impl FnMut(&TemplateRow),
) -> anyhow::Result<Vec<TemplateRow>> {
    let predictor = SsPredictor::bundled().map_err(anyhow::Error::msg)?;
    let stats = LibraryStats::of(lib);
    let (a, b) = crate::cnn::bundled::networks().map_err(anyhow::Error::msg)?;
    let detector = CaDetector::new(a, b)?;
    let targets =
        super::select_targets(data_dir, &opts.split, opts.stride, opts.offset, opts.limit)?;
    let mut rows = Vec::new();
    for t in &targets {
        let tc = super::TargetChain::load(data_dir, t)?;
        let (native, seq) = (&tc.native, &tc.sequence);
        let t0 = Instant::now();
        let query = Query::new(&t.id, seq, &predictor);
        let search = SearchOptions {
            exclude_ids: vec![t.id.clone()],
            exclude_identity: super::exclusion_identity(
                &t.split,
                opts.hard_identity,
                opts.tuning_identity,
            ),
            ..SearchOptions::default()
        };
        let threading = thread(&query, lib, &stats, &search);
        let seconds_threading = t0.elapsed().as_secs_f64();
        let thread_models: Vec<TemplateModel> = threading
            .hits
            .iter()
            .map(|h| TemplateModel::from_hit(h, lib, seq.len()))
            .collect();
        let tms: Vec<f64> = thread_models
            .iter()
            .take(opts.select.n_models)
            .map(|m| model_tm(m, native))
            .collect();
        let only = tc.structure();
        let predicted_ss = predictor.predict(seq);
        for &res in &opts.resolutions {
            let map = super::ca::benchmark_map(&only, res, &opts.sim, backend, &t.id)?;
            let t1 = Instant::now();
            let found = detector.detect(&map, seq.len(), backend)?;
            let seconds_ca = t1.elapsed().as_secs_f64();
            let trusted = found.consensus || found.agreement.is_none();
            let t2 = Instant::now();
            let sel = select_templates(
                &SelectInputs {
                    sequence: seq,
                    map: &map,
                    resolution: res,
                    cloud: &found.cloud,
                    cloud_trusted: trusted,
                    cloud_spread: found.spread,
                    threading: &threading,
                    library: lib,
                    contacts: None,
                    predicted_ss: Some(&predicted_ss),
                    topology: &crate::topology::Topology::single(seq.chars().count()),
                },
                &opts.select,
            )?;
            let seconds_select = t2.elapsed().as_secs_f64();
            let ftms: Vec<f64> = sel.models.iter().map(|m| model_tm(m, native)).collect();
            let regen = sel
                .models
                .iter()
                .find(|m| m.source == crate::template::Source::Regenerated);
            let row = TemplateRow {
                target: t.id.clone(),
                split: t.split.clone(),
                resolution: res,
                length: native.len(),
                label: threading.difficulty.as_str().to_string(),
                cloud_trusted: trusted,
                thread_first: tms.first().copied().unwrap_or(0.0),
                thread_best: tms.iter().copied().fold(0.0, f64::max),
                final_first: ftms.first().copied().unwrap_or(0.0),
                final_best: ftms.iter().copied().fold(0.0, f64::max),
                regen_first: regen.map_or(0.0, |m| model_tm(m, native)),
                regen_register: regen.map_or(0.0, |m| register_match(m, native)),
                regen_register_best: regen.map_or(0.0, |m| best_register_match(m, native)),
                n_reselected: sel.n_reselected,
                n_regenerated: sel.n_regenerated,
                n_fitted: sel.n_fitted,
                seconds_ca,
                seconds_threading,
                seconds_select,
            };
            each(&row);
            rows.push(row);
        }
    }
    Ok(rows)
}

/// Rows as TSV (header first).
pub fn rows_tsv(rows: &[TemplateRow]) -> String {
    let mut s = String::from("target\tsplit\tresolution\tlength\tlabel\tcloud_trusted\tthread_first\tthread_best\tfinal_first\tfinal_best\tregen_first\tregen_register\tregen_register_best\tn_reselected\tn_regenerated\tn_fitted\tseconds_ca\tseconds_threading\tseconds_select\n");
    for r in rows {
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{}\t{}\t{}\t{:.2}\t{:.2}\t{:.2}\n",
            r.target,
            r.split,
            r.resolution,
            r.length,
            r.label,
            r.cloud_trusted,
            r.thread_first,
            r.thread_best,
            r.final_first,
            r.final_best,
            r.regen_first,
            r.regen_register,
            r.regen_register_best,
            r.n_reselected,
            r.n_regenerated,
            r.n_fitted,
            r.seconds_ca,
            r.seconds_threading,
            r.seconds_select
        ));
    }
    s
}

/// Markdown summary: means by split and resolution.
pub fn summary_markdown(rows: &[TemplateRow]) -> String {
    let mut out = String::from("| split | resolution | n | threading first | threading best of 40 | after Cα steps first | after Cα steps best of 40 | cloud trusted | seconds (Cα + threading + templates) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (split, r, sel) in super::groups(
        rows,
        &["test-hard", "test-easy", "validation", "train"],
        |x| &x.split,
        |x| x.resolution,
    ) {
        let n = sel.len() as f64;
        let mean = |f: &dyn Fn(&TemplateRow) -> f64| sel.iter().map(|x| f(x)).sum::<f64>() / n;
        out.push_str(&format!(
            "| {split} | {r} Å | {} | {:.3} | {:.3} | {:.3} | {:.3} | {}/{} | {:.1} |\n",
            sel.len(),
            mean(&|x| x.thread_first),
            mean(&|x| x.thread_best),
            mean(&|x| x.final_first),
            mean(&|x| x.final_best),
            sel.iter().filter(|x| x.cloud_trusted).count(),
            sel.len(),
            mean(&|x| x.seconds_ca + x.seconds_threading + x.seconds_select),
        ));
    }
    out
}
