//! The whole pipeline on held-out chains (issue 5's table; issue 6 grows it
//! into the full harness): for each test chain and resolution, a map simulated
//! from the chain ([`super::ca::benchmark_map`]) goes through
//! [`crate::pipeline::build`] with the library set as in the paper (the chain's
//! own entry excluded; test-hard chains also without templates of identity ≥
//! 0.3). Scored: TM-score, RMSD and GDT-TS of model 1 against the native (by
//! residue index, L = the native's length), the best template's TM-score, each
//! model's eTM-score against its true TM-score, seconds per stage.

use std::path::Path;

use crate::geom::tmscore::tm_score_paired;
use crate::gpu::Backend;
use crate::pipeline::{build, BuildOptions};
use crate::threading::library::Library;
use crate::Vec3;

#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildRow {
    pub target: String,
    pub split: String,
    pub resolution: f64,
    pub length: usize,
    pub label: String,
    pub tm: f64,
    pub rmsd: f64,
    pub gdt_ts: f64,
    pub etm: f64,
    /// (eTM-score, true TM-score) of every model.
    pub etm_vs_tm: Vec<(f64, f64)>,
    /// One `models.tsv` line per model: what the ranking could use, and the truth.
    pub model_lines: Vec<String>,
    pub best_model_tm: f64,
    pub seconds_ca: f64,
    pub seconds_templates: f64,
    pub seconds_assembly: f64,
    pub seconds_models: f64,
}

pub struct BuildBenchOptions {
    /// Split of `structures.tsv`: `test` for the benchmark, `validation` for
    /// fitting the force-field weights (never the test split for that).
    pub split: String,
    pub resolutions: Vec<f64>,
    pub limit: Option<usize>,
    pub stride: usize,
    pub offset: usize,
    pub sim: super::ca::SimOptions,
    pub build: BuildOptions,
    /// Exclude templates of at least this identity to a tuning chain
    /// (validation, train-homologs), e.g. to make train-homolog targets as
    /// hard as test-easy ones; test chains keep the paper's setting.
    pub exclude_identity: Option<f64>,
    /// Only the targets whose id contains one of these (none: all).
    pub only: Vec<String>,
    /// Maps as the harness makes them ([`super::harness::maps`]: noise,
    /// voxel R/3, an off-centre box) at exactly each resolution, instead of
    /// [`super::ca::benchmark_map`]: tuning maps that look like the test's.
    pub harness_maps: bool,
}

/// Model Cα against the native by residue index, normalised by the native's length.
pub fn ca_tm(model: &[Vec3], native: &[Vec3]) -> crate::geom::tmscore::TmScoreResult {
    let n = model.len().min(native.len());
    tm_score_paired(&model[..n], &native[..n], native.len())
}

/// Runs the benchmark in `work` (one directory per target and resolution).
pub fn run(
    data_dir: &Path,
    lib: &Library,
    work: &Path,
    opts: &BuildBenchOptions,
    backend: Backend,
    mut each: impl FnMut(&BuildRow),
) -> anyhow::Result<Vec<BuildRow>> {
    let targets =
        super::select_targets(data_dir, &opts.split, opts.stride, opts.offset, opts.limit)?;
    let targets = super::only_targets(targets, &opts.only)?;
    let mut rows = Vec::new();
    for t in &targets {
        let tc = super::TargetChain::load(data_dir, t)?;
        let native = &tc.native;
        let only = tc.structure();
        for &res in &opts.resolutions {
            let dir = work.join(format!("{}_{res}", t.id));
            std::fs::create_dir_all(&dir)?;
            let map_path = dir.join("map.mrc");
            let seq_path = dir.join("seq.fasta");
            let map = if opts.harness_maps {
                let bin = super::harness::maps::ResolutionBin { lo: res, hi: res };
                let settings = super::harness::maps::MapSettings::default();
                super::harness::maps::simulate(&only, &t.id, bin, 0, &settings, backend)?.map
            } else {
                super::ca::benchmark_map(&only, res, &opts.sim, backend, &t.id)?
            };
            crate::io::mrc::write_map(&map_path, &map)?;
            crate::io::write_atomically(&seq_path, tc.fasta(&t.id).as_bytes())?;
            let mut o = opts.build.clone();
            o.library = Some(lib.clone());
            o.library_label = "train+validation".into();
            o.resolution = Some(res);
            o.backend = backend;
            o.search.exclude_ids = vec![t.id.clone()];
            o.search.exclude_identity =
                super::exclusion_identity(&t.split, 0.3, opts.exclude_identity);
            let out = dir.join("out");
            let report = build(&map_path, &seq_path, &out, &o)?;
            let mut etm_vs_tm = Vec::new();
            let mut model_lines = Vec::new();
            let mut first = None;
            for (rank, m) in report.models.iter().enumerate() {
                let model = crate::io::read_structure(&out.join(&m.file))?;
                let r = ca_tm(&model.ca_coords(), native);
                etm_vs_tm.push((m.etm_score, r.tm_score));
                let lpcc = m.local_pcc.iter().sum::<f64>() / m.local_pcc.len().max(1) as f64;
                model_lines.push(format!(
                    "{}\t{}\t{res}\t{}\t{}\t{:.4}\t{:.4}\t{:.4}\t{}\t{}\t{:.3}\t{:.4}\t{:.4}\t{:.2}\t{lpcc:.4}\t{}\t{}",
                    t.id,
                    t.split,
                    report.difficulty,
                    rank + 1,
                    r.tm_score,
                    m.etm_score,
                    m.etm_eq8,
                    m.cluster,
                    m.cluster_size,
                    m.cluster_rmsd,
                    m.confidence,
                    m.crscore,
                    m.energy,
                    m.template_agreement.map_or("NA".into(), |a| format!("{a:.4}")),
                    m.type_agreement.map_or("NA".into(), |a| format!("{a:.4}")),
                ));
                first.get_or_insert((r, m.etm_score));
            }
            let (r1, etm) = first.ok_or_else(|| anyhow::anyhow!("{}: no model", t.id))?;
            let row = BuildRow {
                target: t.id.clone(),
                split: t.split.clone(),
                resolution: res,
                length: native.len(),
                label: report.difficulty.clone(),
                tm: r1.tm_score,
                rmsd: r1.rmsd,
                gdt_ts: r1.gdt_ts,
                etm,
                best_model_tm: etm_vs_tm.iter().map(|x| x.1).fold(0.0, f64::max),
                etm_vs_tm,
                model_lines,
                seconds_ca: report.timings.ca,
                seconds_templates: report.timings.templates,
                seconds_assembly: report.timings.assembly,
                seconds_models: report.timings.models,
            };
            each(&row);
            rows.push(row);
        }
    }
    Ok(rows)
}

/// Every model of every run with its ranking features and true TM-score.
pub fn models_tsv(rows: &[BuildRow]) -> String {
    let mut s = String::from("target\tsplit\tresolution\tlabel\trank\ttm\tetm\tetm_eq8\tcluster\tcluster_size\tcluster_rmsd\tconfidence\tcrscore\tenergy\tlocal_pcc\ttemplate_agreement\ttype_agreement\n");
    for r in rows {
        for l in &r.model_lines {
            s.push_str(l);
            s.push('\n');
        }
    }
    s
}

pub fn rows_tsv(rows: &[BuildRow]) -> String {
    let mut s = String::from("target\tsplit\tresolution\tlength\tlabel\ttm\trmsd\tgdt_ts\tetm\tbest_model_tm\tseconds_ca\tseconds_templates\tseconds_assembly\tseconds_models\n");
    for r in rows {
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{:.4}\t{:.3}\t{:.4}\t{:.4}\t{:.4}\t{:.2}\t{:.2}\t{:.2}\t{:.2}\n",
            r.target,
            r.split,
            r.resolution,
            r.length,
            r.label,
            r.tm,
            r.rmsd,
            r.gdt_ts,
            r.etm,
            r.best_model_tm,
            r.seconds_ca,
            r.seconds_templates,
            r.seconds_assembly,
            r.seconds_models
        ));
    }
    s
}

pub fn summary_markdown(rows: &[BuildRow]) -> String {
    let mut out = String::from("| split | resolution | n | model 1 TM-score | TM > 0.5 | RMSD (Å) | best of 5 TM | seconds: Cα / templates / assembly / models |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    let splits = ["test-hard", "test-easy", "validation", "train"];
    for (split, r, sel) in super::groups(rows, &splits, |x| &x.split, |x| x.resolution) {
        let n = sel.len() as f64;
        let mean = |f: &dyn Fn(&BuildRow) -> f64| sel.iter().map(|x| f(x)).sum::<f64>() / n;
        out.push_str(&format!(
            "| {split} | {r} Å | {} | {:.3} | {} | {:.1} | {:.3} | {:.1} / {:.1} / {:.1} / {:.1} |\n",
            sel.len(),
            mean(&|x| x.tm),
            sel.iter().filter(|x| x.tm > 0.5).count(),
            mean(&|x| x.rmsd),
            mean(&|x| x.best_model_tm),
            mean(&|x| x.seconds_ca),
            mean(&|x| x.seconds_templates),
            mean(&|x| x.seconds_assembly),
            mean(&|x| x.seconds_models),
        ));
    }
    let all: Vec<(f64, f64)> = rows
        .iter()
        .flat_map(|r| r.etm_vs_tm.iter().copied())
        .collect();
    let firsts: Vec<(f64, f64)> = rows.iter().map(|r| (r.etm, r.tm)).collect();
    out.push_str(&format!(
        "\neTM-score vs true TM-score: Pearson {:.3} over model 1 of each run ({} runs), {:.3} over all models ({}).\n",
        super::harness::stats::pearson(&firsts).unwrap_or(0.0),
        firsts.len(),
        super::harness::stats::pearson(&all).unwrap_or(0.0),
        all.len()
    ));
    out
}
