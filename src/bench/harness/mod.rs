//! `mapfold bench`: the paper's Table 1 on our held-out data, with baselines.
//!
//! For each target of the chosen sets (test-hard and test-easy chains of
//! `structures.tsv`; the real maps with placed models) and each map of it
//! (simulated as a deposited map would look, [`maps`], within each resolution
//! bin; or the real map itself), four methods run on the same map and are
//! scored against the native chain:
//!
//! - `mapfold`: the whole pipeline ([`crate::pipeline::build`]); scored at
//!   every stage: CRscore (eq. 1) of the Cα cloud, TM-score of the first and
//!   best template, TM-score, RMSD and GDT-TS of model 1, its eTM-score, and
//!   seconds per stage;
//! - `no-map`: threading and the same assembly with no map term (the paper's
//!   I-TASSER row, [`BuildOptions::ignore_map`]);
//! - `rigid-fit`: the top threading template fitted into the map as a rigid
//!   body; TM-score superposes, so its TM-score is that template's: what a
//!   refinement program starting from it keeps of the fold;
//! - `greedy-ca`: the naive greedy Cα picking, against the networks' cloud
//!   (CRscore only).
//!
//! The template library is set as in the paper: the target's own chain is
//! always excluded, and for Hard targets and real maps also every template of
//! sequence identity ≥ 0.3 to it. Rows go to `results.csv` ([`results`]);
//! [`report`] turns them into `table.md` and the plots.

pub mod maps;
pub mod report;
pub mod results;
pub mod stats;

use std::path::{Path, PathBuf};
use std::time::Instant;

use self::maps::{MapSettings, ResolutionBin};
use self::results::{Method, Row};
use super::build::ca_tm;
use super::templates::{model_scores, model_tm};
use crate::geom::tmscore::TmScoreResult;
use crate::gpu::Backend;
use crate::map::DensityMap;
use crate::pipeline::{build, BuildOptions, BuildReport};
use crate::threading::library::Library;
use crate::Vec3;

/// Real maps with placed models in `../shared/data/maps`: (name, map, model,
/// resolution in Å from the literature; `None`: estimated from the map).
pub const REAL_MAPS: &[(&str, &str, &str, Option<f64>)] = &[
    (
        "EMD-2566/3J6B_9",
        "emd2566_3j6b/2566_3J6B_9.mrc",
        "emd2566_3j6b/3J6B_9.pdb",
        Some(3.2),
    ),
    (
        "EMD-5168/3MFP",
        "emd5168_3mfp/emd_5168_monomer.mrc",
        "emd5168_3mfp/3MFP.pdb",
        Some(6.6),
    ),
    (
        "EMD-5778/TRPV1_fragment",
        "emd5778_fragment/test_map.ccp4",
        "emd5778_fragment/test_model.pdb",
        Some(3.4),
    ),
    ("sim/1YFQ", "sim_1yfq/1yfq.mrc", "sim_1yfq/1yfq.pdb", None),
    ("sim/3FX2", "sim_3fx2/3FX2.mrc", "sim_3fx2/3FX2.pdb", None),
];

/// The sets `--set` can name.
pub const SETS: [&str; 3] = ["test-hard", "test-easy", "real"];

/// What `--set` stands for.
pub fn set_members(set: &str) -> Result<Vec<&'static str>, String> {
    match set {
        "all" => Ok(SETS.to_vec()),
        "test" => Ok(vec!["test-hard", "test-easy"]),
        s => SETS
            .iter()
            .find(|x| **x == s)
            .map(|x| vec![*x])
            .ok_or_else(|| format!("unknown set '{s}': test-hard, test-easy, test, real or all")),
    }
}

/// What the harness is asked to do.
#[derive(Debug, Clone)]
pub struct HarnessOptions {
    pub sets: Vec<&'static str>,
    pub bins: Vec<ResolutionBin>,
    pub maps_per_target: usize,
    /// Every `stride`-th target starting at `offset` (a shard).
    pub stride: usize,
    pub offset: usize,
    /// At most this many targets per set (before sharding).
    pub limit: Option<usize>,
    /// Only these targets (names as in `results.csv`), e.g. to rerun failures.
    pub only: Option<Vec<String>>,
    pub maps: MapSettings,
    /// Templates of at least this identity are excluded for Hard targets and real maps.
    pub hard_identity: f64,
    /// The pipeline's settings (sweeps, replicas, seed, weights).
    pub build: BuildOptions,
}

/// One target of a run.
#[derive(Debug, Clone)]
pub struct Target {
    pub set: &'static str,
    pub name: String,
    /// Where the native chain is, and for real maps the map and its resolution.
    pub model: PathBuf,
    pub real_map: Option<(PathBuf, Option<f64>)>,
}

/// The targets of `opts.sets`, in set then file order, sharded.
pub fn targets(data_dir: &Path, opts: &HarnessOptions) -> anyhow::Result<Vec<Target>> {
    let mut all = Vec::new();
    for &set in &opts.sets {
        let mut these = Vec::new();
        if set == "real" {
            let maps = data_dir.join("maps");
            for &(name, map, model, res) in REAL_MAPS {
                these.push(Target {
                    set,
                    name: name.into(),
                    model: maps.join(model),
                    real_map: Some((maps.join(map), res)),
                });
            }
        } else {
            for t in super::read_targets(data_dir, set)? {
                these.push(Target {
                    set,
                    model: t.path(data_dir),
                    name: t.id,
                    real_map: None,
                });
            }
        }
        if let Some(only) = &opts.only {
            these.retain(|t| only.contains(&t.name));
        }
        if let Some(n) = opts.limit {
            these.truncate(n);
        }
        all.extend(these);
    }
    Ok(all
        .into_iter()
        .enumerate()
        .filter(|(k, _)| k % opts.stride.max(1) == opts.offset)
        .map(|(_, t)| t)
        .collect())
}

/// The number of maps each target gets (for the progress bar).
pub fn maps_of(t: &Target, opts: &HarnessOptions) -> usize {
    if t.real_map.is_some() {
        1
    } else {
        opts.bins.len() * opts.maps_per_target
    }
}

/// A target's native chain: the chain, its Cα and its sequence.
fn native_chain(t: &Target) -> anyhow::Result<super::TargetChain> {
    let s = crate::io::read_structure(&t.model)?;
    let stem = t.model.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let chain = crate::threading::library::pick_chain(&s, stem)
        .filter(|c| !c.ca_coords().is_empty())
        .ok_or_else(|| anyhow::anyhow!("{}: no protein chain", t.model.display()))?
        .clone();
    Ok(super::TargetChain {
        native: chain.ca_coords(),
        sequence: crate::sequence::canonical_sequence(&chain),
        chain,
    })
}

/// Directory-safe form of a target or map name.
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs every method on every map of every target (module doc). `work` holds
/// one directory per target and map; `each` sees each finished map's rows.
/// A failure is recorded in the rows and the run goes on.
pub fn run(
    data_dir: &Path,
    lib: &Library,
    work: &Path,
    opts: &HarnessOptions,
    backend: Backend,
    mut each: impl FnMut(&Target, &[Row]),
) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for t in targets(data_dir, opts)? {
        let native = native_chain(&t);
        let mut jobs: Vec<(String, MapSource)> = Vec::new();
        match &t.real_map {
            Some((path, res)) => {
                let name = path
                    .parent()
                    .and_then(|p| p.file_name())
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_default();
                jobs.push((name, MapSource::Real(path.clone(), *res)));
            }
            None => {
                for bin in &opts.bins {
                    for k in 0..opts.maps_per_target {
                        jobs.push((format!("sim{k}_{}", bin.label()), MapSource::Sim(*bin, k)));
                    }
                }
            }
        }
        for (map_name, src) in jobs {
            let dir = work.join(t.set).join(safe(&t.name)).join(safe(&map_name));
            let got = match &native {
                Ok(nc) => run_map(&t, nc, &map_name, &src, &dir, lib, opts, backend),
                Err(e) => Err(anyhow::anyhow!("{e:#}")),
            };
            let these = match got {
                Ok(r) => r,
                Err(e) => {
                    log::warn!("{} {map_name}: {e:#}", t.name);
                    let len = native.as_ref().map_or(0, |n| n.native.len());
                    Method::ALL
                        .iter()
                        .map(|&m| {
                            let mut r = Row::new(t.set, &t.name, len, &map_name, m);
                            r.error = Some(format!("{e:#}"));
                            if let MapSource::Sim(bin, _) = &src {
                                r.bin = bin.label();
                            }
                            r
                        })
                        .collect()
                }
            };
            each(&t, &these);
            rows.extend(these);
        }
    }
    Ok(rows)
}

enum MapSource {
    Sim(ResolutionBin, usize),
    Real(PathBuf, Option<f64>),
}

fn score_file(path: &Path, native: &[Vec3]) -> anyhow::Result<TmScoreResult> {
    Ok(ca_tm(&crate::io::read_structure(path)?.ca_coords(), native))
}

/// (first, best) template TM-score of a run's templates.
fn template_tms(dir: &Path, native: &[Vec3]) -> anyhow::Result<(Option<f64>, Option<f64>)> {
    let ts = crate::pipeline::files::read_templates(dir, native.len())?;
    let tms: Vec<f64> = ts.iter().map(|t| model_tm(t, native)).collect();
    Ok((tms.first().copied(), tms.iter().copied().reduce(f64::max)))
}

#[allow(clippy::too_many_arguments)]
fn run_map(
    t: &Target,
    nc: &super::TargetChain,
    map_name: &str,
    src: &MapSource,
    dir: &Path,
    lib: &Library,
    opts: &HarnessOptions,
    backend: Backend,
) -> anyhow::Result<Vec<Row>> {
    std::fs::create_dir_all(dir)?;
    let native = &nc.native;
    let (map, map_path, resolution, bin, snr): (DensityMap, PathBuf, Option<f64>, String, _) =
        match src {
            MapSource::Sim(bin, k) => {
                let m = maps::simulate(&nc.structure(), &t.name, *bin, *k, &opts.maps, backend)?;
                let p = dir.join("map.mrc");
                crate::io::mrc::write_map(&p, &m.map)?;
                (m.map, p, Some(m.resolution), bin.label(), Some(m.snr))
            }
            MapSource::Real(p, res) => {
                let m = crate::io::mrc::read_map(p)?;
                let r = res
                    .unwrap_or_else(|| crate::map::resolution::estimate_resolution(&m).resolution);
                let bin = opts
                    .bins
                    .iter()
                    .find(|b| b.contains(r))
                    .map_or_else(|| format!("{r:.1}"), |b| b.label());
                (m, p.clone(), Some(r), bin, None)
            }
        };
    let seq_path = dir.join("seq.fasta");
    crate::io::write_atomically(&seq_path, nc.fasta(&safe(&t.name)).as_bytes())?;
    let mut bopts = opts.build.clone();
    bopts.library = Some(lib.clone());
    bopts.library_label = "bench".into();
    bopts.resolution = resolution;
    bopts.backend = backend;
    bopts.progress = false;
    bopts.search.exclude_ids = vec![t.name.clone()];
    bopts.search.exclude_identity = (t.set != "test-easy").then_some(opts.hard_identity);
    let row = |m: Method| {
        let mut r = Row::new(t.set, &t.name, native.len(), map_name, m);
        r.bin = bin.clone();
        r.resolution = resolution.unwrap_or(f64::NAN);
        r.snr = snr;
        r
    };
    let mut rows = Vec::new();

    // mapfold.
    let mut r = row(Method::Mapfold);
    let t0 = Instant::now();
    let out = dir.join("mapfold");
    match build(&map_path, &seq_path, &out, &bopts)
        .map_err(anyhow::Error::from)
        .and_then(|rep| score_run(&rep, &out, native, &mut r).map(|_| rep))
    {
        Ok(rep) => {
            r.etm = rep.models.first().map(|m| m.etm_score);
            r.seconds_ca = Some(rep.timings.ca);
            match crate::ca::CaCloud::read(&out.join("ca_cloud.pdb")) {
                Ok(c) => r.crscore = Some(crate::geom::crscore::crscore(&c.points, native)),
                Err(e) => r.error = Some(format!("{e:#}")),
            }
        }
        Err(e) => r.error = Some(format!("{e:#}")),
    }
    r.seconds = t0.elapsed().as_secs_f64();
    rows.push(r);

    // No map: threading and assembly alone.
    let mut r = row(Method::NoMap);
    let t0 = Instant::now();
    let out = dir.join("no_map");
    let mut nomap = bopts.clone();
    nomap.ignore_map = true;
    let nomap_report = build(&map_path, &seq_path, &out, &nomap)
        .map_err(anyhow::Error::from)
        .and_then(|rep| score_run(&rep, &out, native, &mut r).map(|_| rep));
    if let Err(e) = &nomap_report {
        r.error = Some(format!("{e:#}"));
    }
    r.seconds = t0.elapsed().as_secs_f64();
    rows.push(r);

    // Rigid fit of the top threading template (the no-map run's first).
    let mut r = row(Method::RigidFit);
    let t0 = Instant::now();
    let fitted = nomap_report
        .as_ref()
        .map_err(|e| anyhow::anyhow!("threading failed: {e:#}"))
        .and_then(|rep| {
            let ts = crate::pipeline::files::read_templates(&out.join("templates"), native.len())?;
            let top = ts
                .first()
                .ok_or_else(|| anyhow::anyhow!("no threading template"))?;
            let fo = crate::template::rigid_fit::FitOptions::default();
            let f = crate::template::rigid_fit::fit_rigid(top, &map, rep.resolution, &fo)?;
            r.difficulty = rep.difficulty.clone();
            r.seconds_templates = Some(rep.timings.templates);
            Ok(f)
        });
    match fitted {
        Ok(f) => match model_scores(&f, native) {
            Some(s) => {
                (r.tm, r.rmsd, r.gdt_ts) = (Some(s.tm_score), Some(s.rmsd), Some(s.gdt_ts));
                r.template_first_tm = r.tm;
            }
            None => r.error = Some("the top template places fewer than 3 residues".into()),
        },
        Err(e) => r.error = Some(format!("{e:#}")),
    }
    r.seconds = t0.elapsed().as_secs_f64() + r.seconds_templates.unwrap_or(0.0);
    rows.push(r);

    // Greedy Cα picking on the same map.
    let mut r = row(Method::GreedyCa);
    let t0 = Instant::now();
    let cloud = crate::ca::greedy::pick_greedy(&map, native.len(), &Default::default());
    r.crscore = Some(crate::geom::crscore::crscore(&cloud.points, native));
    r.seconds = t0.elapsed().as_secs_f64();
    r.seconds_ca = Some(r.seconds);
    rows.push(r);
    Ok(rows)
}

/// Fills a row from a finished pipeline run: difficulty, templates, model 1, timings.
fn score_run(rep: &BuildReport, out: &Path, native: &[Vec3], r: &mut Row) -> anyhow::Result<()> {
    r.difficulty = rep.difficulty.clone();
    let (first, best) = template_tms(&out.join("templates"), native)?;
    (r.template_first_tm, r.template_best_tm) = (first, best);
    let m1 = rep
        .models
        .first()
        .ok_or_else(|| anyhow::anyhow!("no model"))?;
    let s = score_file(&out.join(&m1.file), native)?;
    (r.tm, r.rmsd, r.gdt_ts) = (Some(s.tm_score), Some(s.rmsd), Some(s.gdt_ts));
    let mut best = s.tm_score;
    for m in &rep.models[1..] {
        best = best.max(score_file(&out.join(&m.file), native)?.tm_score);
    }
    r.best_model_tm = Some(best);
    r.seconds_templates = Some(rep.timings.templates);
    r.seconds_assembly = Some(rep.timings.assembly);
    r.seconds_models = Some(rep.timings.models);
    Ok(())
}
