//! `mapfold build`: every stage in order, from a map and a sequence to up to
//! five ranked full-atom models with global and local confidence.
//!
//! Stages and the files that mark them finished (in the output directory):
//! 1. inputs: map, sequence and resolution checked ([`checks`]); every FASTA
//!    record is a chain, modelled end to end with a break after each
//!    ([`crate::topology`]) and written as chains A, B, …;
//! 2. Cα cloud: the two networks and their consensus → `ca_cloud.pdb`;
//! 3. templates: threading, re-selection (on Easy targets with a sharp
//!    cloud the re-selected templates are then moved onto it residue by
//!    residue, [`crate::template::snap`]), regeneration (with a composite
//!    of the traces first, [`crate::template::composite`]) or rigid fits →
//!    `templates/template_NN.pdb`, `templates/templates.tsv`;
//! 4. assembly: replica exchange from the templates → `decoys.bin`; the map
//!    term uses eq. 2 at max(R, 4 Å): a chain of Cα and centroid beads cannot
//!    use finer detail, and the smoother field gives the moves wider basins;
//! 5. models: SPICKER clusters, a short refinement round from each cluster's
//!    lowest-energy decoy, Cα regularisation
//!    ([`crate::assembly::regularise`]), full atoms, eTM-score and local
//!    confidence →
//!    `model_N.pdb`, `.cif`, `report.json`; models are ranked by the
//!    calibrated eTM-score ([`crate::quality::etm::calibrated`]).
//!
//! Each stage goes on from its predecessors' files as written (not from their
//! in-memory results), so a resumed run and an uninterrupted one compute the
//! same thing. Each stage's marker (`.stages/NAME.json`) is written last and atomically,
//! so a run that stops resumes from the last finished stage when the same
//! command runs again; `.stages/inputs.json` records what the run was asked
//! to do, and a different request starts over.

pub mod checks;
pub mod files;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::assembly::em::EmField;
use crate::assembly::energy::{template_restraints, ForceField, Weights};
use crate::assembly::gapfill::{self, complete_guided, Guide};
use crate::assembly::moves::FragmentSource;
use crate::assembly::remc::{self, RemcOptions};
use crate::assembly::stats::KnowledgeStats;
use crate::ca::CaCloud;
use crate::gpu::Backend;
use crate::io::FileError;
use crate::map::DensityMap;
use crate::template::select::{select_templates, SelectInputs, SelectOptions};
use crate::template::TemplateModel;
use crate::threading::library::Library;
use crate::threading::search::{Difficulty, SearchOptions, SearchResult};
use crate::topology::Topology;
use crate::Vec3;

/// What `build` is asked to do.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub resolution: Option<f64>,
    /// A template library; `None`: the library built from `../shared/data`
    /// when present, else no templates.
    pub library: Option<Library>,
    pub library_label: String,
    /// A Cα cloud to use instead of running the networks.
    pub ca: Option<PathBuf>,
    pub contacts: Option<PathBuf>,
    pub hhr: Option<PathBuf>,
    pub search: SearchOptions,
    pub select: SelectOptions,
    pub replicas: usize,
    pub sweeps: usize,
    pub time_budget: Option<Duration>,
    pub n_models: usize,
    pub weights: Weights,
    pub seed: u64,
    pub backend: Backend,
    pub progress: bool,
    /// Stop after writing the templates (`mapfold templates`).
    pub templates_only: bool,
    /// Model from the sequence alone, as the paper's I-TASSER row: no Cα
    /// cloud, the top threading templates as they are, no map term in the
    /// assembly. The map is still read (and local PCC still measured against
    /// it) but guides nothing. `mapfold bench` runs it as a baseline.
    pub ignore_map: bool,
    /// The starting chains' terminal residues that almost no template
    /// places are walked through the Cα cloud's free atoms rather than at
    /// random
    /// ([`crate::assembly::gapfill::complete_guided`]).
    pub guided_termini: bool,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            resolution: None,
            library: None,
            library_label: "none".into(),
            ca: None,
            contacts: None,
            hhr: None,
            search: SearchOptions::default(),
            select: SelectOptions::default(),
            replicas: 40,
            sweeps: 60,
            time_budget: None,
            n_models: 5,
            weights: Weights::default(),
            seed: 1,
            backend: Backend::Cpu,
            progress: false,
            templates_only: false,
            ignore_map: false,
            guided_termini: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Input(#[from] checks::InputError),
    #[error("Cα detection: {0}")]
    Detect(#[from] crate::ca::detect::DetectError),
    #[error("templates: {0}")]
    Select(#[from] crate::template::select::SelectError),
    #[error("map term: {0}")]
    Em(#[from] crate::assembly::em::EmError),
    #[error("{0}")]
    Other(String),
}

/// Per-stage seconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Timings {
    pub ca: f64,
    pub templates: f64,
    pub assembly: f64,
    pub models: f64,
}

/// `.stages/ca.json`: what the Cα stage found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CaMarker {
    pub(crate) n_atoms: usize,
    pub(crate) agreement: Option<f64>,
    /// The two networks agree: eq. 7's term is on.
    pub(crate) consensus: bool,
    pub(crate) trusted: bool,
    /// Median distance of the two networks' paired atoms (Å; null when one
    /// network ran). Required: serde would read a missing `Option` as None,
    /// so `deserialize_with` makes a marker written before the field existed
    /// fail to parse; the stage then reruns and later stages see the spread
    /// instead of an unknown one.
    #[serde(deserialize_with = "Option::deserialize")]
    pub(crate) spread: Option<f64>,
    pub(crate) resolution: f64,
    pub(crate) resolution_estimated: bool,
    pub(crate) seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TemplatesMarker {
    n_templates: usize,
    easy: bool,
    /// Labelled Easy by threading, modelled as Hard (no template fits the
    /// cloud); absent in markers written before the rule.
    #[serde(default)]
    easy_overruled: bool,
    used_cloud: bool,
    n_reselected: usize,
    n_regenerated: usize,
    n_fitted: usize,
    seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AssemblyMarker {
    decoys: usize,
    sweeps: usize,
    moves: u64,
    acceptance: f64,
    moves_per_second: f64,
    seconds: f64,
}

/// One final model in `report.json`.
#[derive(Debug, Clone, Serialize)]
pub struct ModelReport {
    pub file: String,
    pub etm_score: f64,
    /// SPICKER's order of the model's cluster (1: the most neighbours).
    pub cluster: usize,
    pub cluster_size: usize,
    /// ⟨RMSD⟩ of the cluster's decoys to its centroid (Å), eq. 9.
    pub cluster_rmsd: f64,
    /// C_m of eq. 9.
    pub confidence: f64,
    /// TM-score of the model to its first template from threading (not a Cα
    /// trace), over the residues that template covers, normalised by the
    /// sequence length; `None` without such a template.
    pub template_agreement: Option<f64>,
    /// Mean log-odds (nats) of the model's residue types at its own Cα, read
    /// from the density by the residue-type predictor
    /// ([`crate::template::residue_type::ResidueTypePredictor::sequence_agreement`]);
    /// `None` on maps coarser than the predictor was fitted for.
    pub type_agreement: Option<f64>,
    /// Eq. 8 as the paper has it; `etm_score` is its calibration
    /// ([`crate::quality::etm::calibrated`]).
    pub etm_eq8: f64,
    pub crscore: f64,
    pub energy: f64,
    pub energy_terms: crate::assembly::energy::Terms,
    pub local_pcc: Vec<f64>,
    pub local_confidence: Vec<f64>,
}

/// A chain of the models: one FASTA record.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    /// Chain identifier in the model files.
    pub id: String,
    /// The record's FASTA identifier.
    pub record: String,
    pub residues: usize,
}

/// What `build` produced.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub map: String,
    /// The modelled sequence: every FASTA record, end to end.
    pub sequence: String,
    /// One entry per FASTA record, in order.
    pub chains: Vec<ChainReport>,
    pub resolution: f64,
    pub resolution_estimated: bool,
    pub ca_atoms: usize,
    pub networks_agree: Option<f64>,
    /// Threading's label (Easy: a template of high Z-score).
    pub difficulty: String,
    /// True when the target was labelled Easy but modelled as Hard because
    /// no threading template fits the Cα cloud
    /// ([`crate::template::select::SelectOptions::easy_min_crscore`]).
    pub easy_overruled: bool,
    pub templates: usize,
    pub template_path: String,
    pub models: Vec<ModelReport>,
    pub timings: Timings,
    pub device: String,
    pub seed: u64,
}

fn stage_path(out: &Path, name: &str) -> PathBuf {
    out.join(".stages").join(format!("{name}.json"))
}

pub(crate) fn read_marker<T: for<'de> Deserialize<'de>>(out: &Path, name: &str) -> Option<T> {
    let text = std::fs::read_to_string(stage_path(out, name)).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_marker<T: Serialize>(out: &Path, name: &str, v: &T) -> Result<(), FileError> {
    let p = stage_path(out, name);
    let text = serde_json::to_string_pretty(v).expect("markers serialise");
    crate::io::write_atomically(&p, text.as_bytes())
}

fn bar(progress: bool, len: u64, what: &str) -> indicatif::ProgressBar {
    let b = if progress {
        indicatif::ProgressBar::new(len)
    } else {
        indicatif::ProgressBar::hidden()
    };
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix:>10} {bar:30} {pos}/{len} {elapsed_precise} eta {eta} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    b.set_prefix(what.to_string());
    b
}

/// The density-weighted centre of the voxels above mean + 1σ (where a chain
/// with no template starts).
fn density_centre(map: &DensityMap) -> Vec3 {
    let s = map.stats();
    let t = (s.mean + s.std) as f32;
    let [nx, ny, _] = map.dims();
    let (mut sum, mut w) = (Vec3::zeros(), 0.0);
    for (idx, &v) in map.data().iter().enumerate() {
        if v > t {
            let (i, j, k) = (idx % nx, (idx / nx) % ny, idx / (nx * ny));
            sum += map.voxel_position(i, j, k) * v as f64;
            w += v as f64;
        }
    }
    if w > 0.0 {
        sum / w
    } else {
        map.voxel_position(map.dims()[0] / 2, map.dims()[1] / 2, map.dims()[2] / 2)
    }
}

/// The modelled sequence of FASTA records and its chains: every non-empty
/// record is a chain, modelled end to end with a break after each
/// ([`crate::topology`]).
pub fn query_of(records: &[crate::sequence::SequenceRecord]) -> (String, Topology) {
    let kept: Vec<&str> = records
        .iter()
        .map(|r| r.residues.as_str())
        .filter(|r| !r.is_empty())
        .collect();
    let lengths: Vec<usize> = kept.iter().map(|r| r.chars().count()).collect();
    (kept.concat(), Topology::from_lengths(&lengths))
}

/// Runs the whole job (module doc). `map_path` and `seq_path` name the inputs
/// in messages; `out` is created.
pub fn build(
    map_path: &Path,
    seq_path: &Path,
    out: &Path,
    opts: &BuildOptions,
) -> Result<BuildReport, BuildError> {
    // 1. Inputs, checked before anything long.
    let records = crate::io::fasta::read_fasta(seq_path)?;
    let records: Vec<_> = records
        .into_iter()
        .filter(|r| !r.residues.is_empty())
        .collect();
    let rec = records
        .first()
        .ok_or_else(|| checks::InputError::EmptySequence(seq_path.display().to_string()))?;
    let (sequence, topology) = query_of(&records);
    let lengths: Vec<usize> = topology.chains().map(|r| r.len()).collect();
    if records.len() > 1 {
        log::info!(
            "{}: {} records, modelled as chains {}–{} ({} residues in all) with no bond from one to the next",
            seq_path.display(),
            records.len(),
            Topology::chain_id(0),
            Topology::chain_id(records.len() - 1),
            topology.len()
        );
    }
    let l = sequence.chars().count();
    let map = crate::io::mrc::read_map(map_path)?;
    checks::check_map(map_path, &map, l)?;
    if let Some(r) = opts.resolution {
        if !(r.is_finite() && r > 0.0) {
            return Err(checks::InputError::BadResolution(r).into());
        }
    }
    std::fs::create_dir_all(out.join(".stages")).map_err(|e| FileError::io(out, e))?;
    let mut request = json!({
        "map": map_path.canonicalize().unwrap_or(map_path.to_path_buf()),
        "map_bytes": std::fs::metadata(map_path).map(|m| m.len()).unwrap_or(0),
        "sequence": sequence,
        "resolution": opts.resolution,
        "library": opts.library_label,
        "ca": opts.ca,
        "contacts": opts.contacts,
        "hhr": opts.hhr,
        "seed": opts.seed,
        "replicas": opts.replicas,
        "sweeps": opts.sweeps,
        "exclude_identity": opts.search.exclude_identity,
        "exclude_ids": opts.search.exclude_ids,
        "ignore_map": opts.ignore_map,
    });
    if topology.n_chains() > 1 {
        // Only then, so that single-chain runs of earlier versions resume.
        request["chains"] = json!(lengths);
    }
    let previous: Option<serde_json::Value> = read_marker(out, "inputs");
    if previous.as_ref() != Some(&request) {
        if previous.is_some() {
            log::warn!(
                "{}: a different request ran here before; starting over",
                out.display()
            );
        }
        let _ = std::fs::remove_dir_all(out.join(".stages"));
        std::fs::create_dir_all(out.join(".stages")).map_err(|e| FileError::io(out, e))?;
        write_marker(out, "inputs", &request)?;
    }
    let mut timings = Timings::default();
    // Threading and the assembly's secondary structure both use it.
    let predictor = crate::threading::ssp::SsPredictor::bundled().map_err(BuildError::Other)?;

    // 2. Cα cloud.
    // `mapfold templates` promises only template files in its directory.
    let ca_path = if opts.templates_only {
        out.join(".stages").join("ca_cloud.pdb")
    } else {
        out.join("ca_cloud.pdb")
    };
    let (cloud, ca_marker) = match read_marker::<CaMarker>(out, "ca") {
        Some(m) if m.n_atoms == 0 && opts.ignore_map => (empty_cloud(), m),
        Some(m) if ca_path.exists() => {
            log::info!("Cα cloud: resuming from {}", ca_path.display());
            (CaCloud::read(&ca_path)?, m)
        }
        _ => {
            let t0 = Instant::now();
            let (resolution, estimated) = match opts.resolution {
                Some(r) => (r, false),
                None => {
                    let est = crate::map::resolution::estimate_resolution(&map);
                    log::info!(
                        "resolution estimated from the map: {:.2} Å (fit rms {:.2})",
                        est.resolution,
                        est.fit_rms
                    );
                    (est.resolution, true)
                }
            };
            let (cloud, agreement, consensus, trusted, spread) = match &opts.ca {
                _ if opts.ignore_map => {
                    log::info!("Cα cloud: not used (modelling without the map)");
                    (empty_cloud(), None, false, false, None)
                }
                Some(p) => {
                    log::info!("Cα cloud: read from {}", p.display());
                    (CaCloud::read(p)?, None, false, true, None)
                }
                None => {
                    let (a, b) = crate::cnn::bundled::networks().map_err(BuildError::Other)?;
                    let det = crate::ca::detect::CaDetector::new(a, b)?;
                    let found = det.detect(&map, l, opts.backend)?;
                    let trusted = found.consensus || found.agreement.is_none();
                    (
                        found.cloud,
                        found.agreement,
                        found.consensus,
                        trusted,
                        found.spread,
                    )
                }
            };
            // Later stages use the cloud as written (PDB precision), so that a
            // resumed run sees exactly what an uninterrupted one does.
            let cloud = if opts.ignore_map {
                cloud
            } else {
                cloud.write_pdb(&ca_path)?;
                CaCloud::read(&ca_path)?
            };
            let m = CaMarker {
                n_atoms: cloud.len(),
                agreement,
                consensus,
                trusted,
                spread,
                resolution,
                resolution_estimated: estimated,
                seconds: t0.elapsed().as_secs_f64(),
            };
            log::info!(
                "Cα cloud: {} atoms in {:.1} s{}",
                cloud.len(),
                m.seconds,
                match agreement {
                    Some(a) => format!(", networks agree with CRscore {a:.3}"),
                    None => String::new(),
                }
            );
            write_marker(out, "ca", &m)?;
            (cloud, m)
        }
    };
    timings.ca = ca_marker.seconds;
    let resolution = ca_marker.resolution;

    // 3. Templates.
    let tdir = if opts.templates_only {
        out.to_path_buf()
    } else {
        out.join("templates")
    };
    let (templates, t_marker) = match read_marker::<TemplatesMarker>(out, "templates") {
        Some(m) if tdir.join("templates.tsv").exists() => {
            log::info!("templates: resuming from {}", tdir.display());
            (files::read_templates(&tdir, l)?, m)
        }
        _ => {
            let t0 = Instant::now();
            let lib = opts.library.clone().unwrap_or_default();
            let threading = thread(&sequence, &rec.id, &lib, &predictor, opts)?;
            log::info!(
                "threading: {} templates, target {}",
                threading.hits.len(),
                threading.difficulty.as_str()
            );
            let contacts = match &opts.contacts {
                Some(p) => Some(crate::template::contacts::read_rr(p, l)?),
                None => None,
            };
            // A no-map run (the benchmark's baseline) has no cloud to trust.
            if !ca_marker.trusted && !opts.ignore_map {
                log::warn!(
                    "the two networks' Cα clouds disagree (CRscore {:.3} ≤ 0.85): templates are fitted into the map instead of matched to the cloud",
                    ca_marker.agreement.unwrap_or(0.0)
                );
            }
            let mut sel_opts = opts.select.clone();
            sel_opts.regen.seed = opts.seed;
            sel_opts.fit.seed = opts.seed;
            let sel = if opts.ignore_map {
                threading_only(&threading, &lib, l, sel_opts.n_models)
            } else {
                select_templates(
                    &SelectInputs {
                        sequence: &sequence,
                        map: &map,
                        resolution,
                        cloud: &cloud,
                        cloud_trusted: ca_marker.trusted,
                        cloud_spread: ca_marker.spread,
                        threading: &threading,
                        library: &lib,
                        contacts: contacts.as_ref(),
                        predicted_ss: Some(&predictor.predict(&sequence)),
                        topology: &topology,
                    },
                    &sel_opts,
                )?
            };
            if sel.models.is_empty() {
                log::warn!("no templates: the assembly starts from random chains in the density");
            }
            files::write_templates(&tdir, &sel.models, &sequence)?;
            // As for the cloud: continue from what was written.
            let models = files::read_templates(&tdir, l)?;
            let m = TemplatesMarker {
                n_templates: sel.models.len(),
                easy: sel.difficulty == Difficulty::Easy,
                easy_overruled: sel.easy_overruled,
                used_cloud: sel.used_cloud,
                n_reselected: sel.n_reselected,
                n_regenerated: sel.n_regenerated,
                n_fitted: sel.n_fitted,
                seconds: t0.elapsed().as_secs_f64(),
            };
            write_marker(out, "templates", &m)?;
            (models, m)
        }
    };
    timings.templates = t_marker.seconds;
    let mut report = BuildReport {
        map: map_path.display().to_string(),
        sequence: sequence.clone(),
        chains: records
            .iter()
            .zip(topology.chains())
            .enumerate()
            .map(|(c, (r, range))| ChainReport {
                id: Topology::chain_id(c),
                record: r.id.clone(),
                residues: range.len(),
            })
            .collect(),
        resolution,
        resolution_estimated: ca_marker.resolution_estimated,
        ca_atoms: cloud.len(),
        networks_agree: ca_marker.agreement,
        difficulty: if t_marker.easy { "Easy" } else { "Hard" }.into(),
        easy_overruled: t_marker.easy_overruled,
        templates: templates.len(),
        template_path: tdir.display().to_string(),
        models: Vec::new(),
        timings: timings.clone(),
        device: opts.backend.name(),
        seed: opts.seed,
    };
    if opts.templates_only {
        return Ok(report);
    }

    // 4. Assembly.
    let ff = force_field(&sequence, &topology, &predictor, &templates, opts.weights);
    let em = if opts.ignore_map {
        None
    } else {
        Some(em_field(
            &map,
            resolution,
            ca_marker.consensus.then_some(&cloud.points[..]),
            opts.weights,
            opts.backend,
        )?)
    };
    let frags = FragmentSource::new(&templates);
    let decoy_path = out.join("decoys.bin");
    let (decoys, a_marker) = match read_marker::<AssemblyMarker>(out, "assembly") {
        Some(m) if decoy_path.exists() => {
            log::info!("assembly: resuming from {}", decoy_path.display());
            (files::read_decoys(&decoy_path)?, m)
        }
        _ => {
            let centre = density_centre(&map);
            let guide = if opts.guided_termini && !opts.ignore_map {
                Guide::new(&cloud.points, &templates, l)
            } else {
                Guide::default()
            };
            if !guide.atoms.is_empty() {
                log::info!(
                    "assembly: {} residues are placed by fewer than {:.0} % of the templates; those at the chain's ends start along the Cα cloud",
                    guide.orphan.iter().filter(|&&o| o).count(),
                    100.0 * gapfill::ORPHAN_BELOW
                );
            }
            let starts: Vec<Vec<Vec3>> = (0..opts.replicas.max(1))
                .map(|k| {
                    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed ^ (k as u64) << 20);
                    match templates.get(k % templates.len().max(1)) {
                        Some(t) => complete_guided(t, centre, &guide, &mut rng),
                        None => complete_guided(
                            &TemplateModel::new(
                                crate::template::Source::Regenerated,
                                "none",
                                vec![None; l],
                            ),
                            centre,
                            &guide,
                            &mut rng,
                        ),
                    }
                })
                .collect();
            let ropts = RemcOptions {
                sweeps: opts.sweeps,
                time_budget: opts.time_budget,
                seed: opts.seed,
                ..RemcOptions::default()
            };
            let b = bar(opts.progress, opts.sweeps as u64, "assembly");
            let res = remc::run(&ff, em.as_ref(), &frags, starts, &ropts, |done, _| {
                b.set_position(done as u64)
            });
            b.finish_and_clear();
            log::info!(
                "assembly: {} sweeps, {} moves ({:.0}/s, {:.0} % accepted), {} decoys, {:.1} s",
                res.sweeps,
                res.moves,
                res.moves_per_second(),
                100.0 * res.accepted as f64 / res.moves.max(1) as f64,
                res.decoys.len(),
                res.seconds
            );
            let decoys: Vec<(f64, Vec<Vec3>)> = res
                .decoys
                .iter()
                .map(|d| (d.energy, d.ca.clone()))
                .collect();
            files::write_decoys(&decoy_path, &decoys)?;
            let m = AssemblyMarker {
                decoys: decoys.len(),
                sweeps: res.sweeps,
                moves: res.moves,
                acceptance: res.accepted as f64 / res.moves.max(1) as f64,
                moves_per_second: res.moves_per_second(),
                seconds: res.seconds,
            };
            write_marker(out, "assembly", &m)?;
            (decoys, m)
        }
    };
    report.timings.assembly = a_marker.seconds;

    // 5. Models.
    let t0 = Instant::now();
    let models = finish_models(
        &ff,
        em.as_ref(),
        &frags,
        &map,
        resolution,
        &cloud,
        &sequence,
        &templates,
        &decoys,
        out,
        opts,
    )?;
    report.models = models;
    report.timings.models = t0.elapsed().as_secs_f64();
    let text = serde_json::to_string_pretty(&report).expect("report serialises");
    crate::io::write_atomically(&out.join("report.json"), text.as_bytes())?;
    write_marker(out, "models", &json!({"models": report.models.len()}))?;
    Ok(report)
}

/// TM-score of `model` against `t` over the residues `t` covers, paired by
/// residue index and normalised by the whole sequence length.
fn template_tm(model: &[Vec3], t: &TemplateModel) -> f64 {
    let (a, b): (Vec<Vec3>, Vec<Vec3>) = model
        .iter()
        .zip(&t.ca)
        .filter_map(|(m, c)| c.map(|c| (*m, c)))
        .unzip();
    if a.len() < 3 {
        return 0.0;
    }
    crate::geom::tmscore::tm_score_paired(&a, &b, model.len()).tm_score
}

/// The assembly's force field (eq. 5 without the map term) for `sequence`
/// with restraints from `templates`.
pub fn force_field(
    sequence: &str,
    topology: &Topology,
    predictor: &crate::threading::ssp::SsPredictor,
    templates: &[TemplateModel],
    weights: Weights,
) -> ForceField {
    // Restraints from the top 10 templates, leaving out Cα-trace templates
    // when there are others: a trace in the wrong register restrains the chain
    // to the wrong fold. On 6 validation chains at 8 Å (20 sweeps) model 1
    // went from TM 0.216 to 0.289 (one chain 0.21 → 0.68, the rest within 0.02).
    let real: Vec<TemplateModel> = templates
        .iter()
        .filter(|t| t.source != crate::template::Source::Regenerated)
        .take(10)
        .cloned()
        .collect();
    let top: Vec<TemplateModel> = if real.is_empty() {
        templates.iter().take(10).cloned().collect()
    } else {
        real
    };
    let l = sequence.chars().count();
    // Secondary structure chain by chain: the predictor reads a window of
    // neighbours, and a chain's neighbours end at its break.
    let letters: Vec<char> = sequence.chars().collect();
    let ss = topology
        .chains()
        .flat_map(|r| predictor.predict_states(&letters[r].iter().collect::<String>()))
        .collect();
    ForceField::new(
        KnowledgeStats::bundled(),
        weights,
        sequence,
        ss,
        template_restraints(&top, l, 10.0),
    )
    .with_topology(topology.clone())
}

/// The assembly's map term (eq. 6, and eq. 7 when `consensus_cloud` is given)
/// at max(R, 4 Å) (module doc).
pub fn em_field(
    map: &DensityMap,
    resolution: f64,
    consensus_cloud: Option<&[Vec3]>,
    weights: Weights,
    backend: Backend,
) -> Result<EmField, BuildError> {
    Ok(EmField::new(
        map,
        resolution.max(4.0),
        consensus_cloud,
        weights.em,
        weights.cnn,
        backend,
    )?)
}

fn empty_cloud() -> CaCloud {
    CaCloud {
        points: Vec::new(),
        scores: Vec::new(),
    }
}

/// The top threading templates as starting models, with no use of the map
/// ([`BuildOptions::ignore_map`]).
fn threading_only(
    threading: &SearchResult,
    lib: &Library,
    l: usize,
    n: usize,
) -> crate::template::select::Selection {
    let mut sel = crate::template::select::Selection::new(threading.difficulty);
    sel.models = threading
        .hits
        .iter()
        .take(n)
        .map(|h| TemplateModel::from_hit(h, lib, l))
        .collect();
    sel
}

/// Threading with the library (empty library: no hits, Hard) plus HHsearch hits.
fn thread(
    sequence: &str,
    id: &str,
    lib: &Library,
    predictor: &crate::threading::ssp::SsPredictor,
    opts: &BuildOptions,
) -> Result<SearchResult, BuildError> {
    let empty = SearchResult {
        hits: Vec::new(),
        difficulty: Difficulty::Hard,
        good_per_scheme: Vec::new(),
        searched: 0,
        excluded_by_id: 0,
        excluded_by_identity: 0,
    };
    if lib.is_empty() {
        log::warn!("no template library: modelling from the Cα cloud alone");
        return Ok(empty);
    }
    let query = crate::threading::search::Query::new(id, sequence, predictor);
    let stats = crate::threading::scoring::LibraryStats::of(lib);
    let mut res = crate::threading::search::thread(&query, lib, &stats, &opts.search);
    if let Some(p) = &opts.hhr {
        let file = crate::threading::hhr::read_hhr(p)?;
        let (hits, notes) = crate::threading::hhr::hits_from_hhr(&file, &query, lib, &opts.search);
        for n in notes {
            log::warn!("{}: {n}", p.display());
        }
        crate::threading::search::merge_hits(&mut res, hits, opts.search.top);
    }
    Ok(res)
}

/// Per model, its sequence's fit to the side-chain density
/// (`ModelReport::type_agreement`): `None` for every model on maps coarser
/// than [`crate::template::residue_type::FITTED_MAX_RESOLUTION`], or when the
/// predictor cannot be loaded. The density is scaled at the Cα cloud, as in
/// regeneration (at the first model when there is no cloud).
fn type_agreements(
    map: &DensityMap,
    resolution: f64,
    cloud: &CaCloud,
    sequence: &str,
    models: &[Vec<Vec3>],
) -> Vec<Option<f64>> {
    use crate::template::residue_type::{
        density_scale, ResidueTypePredictor, FITTED_MAX_RESOLUTION,
    };
    let none = vec![None; models.len()];
    if resolution > FITTED_MAX_RESOLUTION || models.is_empty() {
        return none;
    }
    let net = match ResidueTypePredictor::bundled() {
        Ok(n) => n,
        Err(e) => {
            log::warn!("{e}; the eTM-score goes without residue types");
            return none;
        }
    };
    let at = if cloud.is_empty() {
        &models[0]
    } else {
        &cloud.points
    };
    let Some(scale) = density_scale(map, at) else {
        return none;
    };
    models
        .iter()
        .map(|ca| net.sequence_agreement(map, ca, sequence, scale, resolution))
        .collect()
}

/// The decoy a cluster's refinement starts from: its lowest-energy member,
/// not its centroid. A centroid averages decoys in several registers or hinge
/// positions; the smeared chain (short bonds, a compressed core) is not
/// mended by a few cold sweeps. On 48 tuning runs at 3 Å model 1 rose from
/// 0.626 to 0.676 (validation, 11 up, 1 down) and from 0.765 to 0.786 (train
/// homologs); at 8 Å (30 older runs) by 0.002 and 0.016 (BENCHMARKS.md).
pub fn refinement_start(
    c: &crate::cluster::spicker::Cluster,
    decoys: &[(f64, Vec<Vec3>)],
) -> usize {
    c.members
        .iter()
        .copied()
        .min_by(|&a, &b| decoys[a].0.total_cmp(&decoys[b].0))
        .unwrap_or(c.closest)
}

/// Clusters, refines, rebuilds atoms, scores and writes the final models.
#[allow(clippy::too_many_arguments)]
fn finish_models(
    ff: &ForceField,
    em: Option<&EmField>,
    frags: &FragmentSource,
    map: &DensityMap,
    resolution: f64,
    cloud: &CaCloud,
    sequence: &str,
    templates: &[TemplateModel],
    decoys: &[(f64, Vec<Vec3>)],
    out: &Path,
    opts: &BuildOptions,
) -> Result<Vec<ModelReport>, BuildError> {
    use crate::assembly::regularise::{bond_spread, largest_move, regularise, RegulariseParams};
    use crate::cluster::spicker::{spicker, SpickerParams};
    let cas: Vec<Vec<Vec3>> = decoys.iter().map(|d| d.1.clone()).collect();
    let params = SpickerParams {
        max_clusters: opts.n_models,
        ..SpickerParams::default()
    };
    let clustering =
        spicker(&cas, &params).map_err(|e| BuildError::Other(format!("clustering: {e}")))?;
    log::info!(
        "clustering: {} clusters at RMSD cutoff {:.2} Å, sizes {:?}",
        clustering.clusters.len(),
        clustering.rmsd_cutoff,
        clustering
            .clusters
            .iter()
            .map(|c| c.size())
            .collect::<Vec<_>>()
    );
    // Refinement: a short, cold replica exchange from each cluster.
    let b = bar(
        opts.progress,
        clustering.clusters.len() as u64,
        "refinement",
    );
    let mut refined = Vec::new();
    for (k, c) in clustering.clusters.iter().enumerate() {
        let ropts = RemcOptions {
            t_min: 0.3,
            t_max: 1.5,
            sweeps: (opts.sweeps / 10).max(3),
            seed: opts.seed.wrapping_add(1000 + k as u64),
            record_replicas: 0,
            ..RemcOptions::default()
        };
        let starts = vec![cas[refinement_start(c, decoys)].clone(); 8];
        let res = remc::run(ff, em, frags, starts, &ropts, |_, _| {});
        // The assembly leaves the chain irregular (a soft bond, a few
        // collapsed virtual angles); regularise the Cα before anything is
        // scored or built on it.
        let ca = regularise(&res.best.0, ff.topology(), &RegulariseParams::default());
        log::info!(
            "refinement {}: Cα-Cα RMS off 3.80 Å {:.3} -> {:.3}, largest Cα move {:.2} Å",
            k + 1,
            bond_spread(&res.best.0, ff.topology()),
            bond_spread(&ca, ff.topology()),
            largest_move(&ca, &res.best.0)
        );
        refined.push(ca);
        b.inc(1);
    }
    b.finish_and_clear();
    let crscores: Vec<f64> = refined
        .iter()
        .map(|ca| {
            if cloud.is_empty() {
                0.0
            } else {
                crate::geom::crscore::crscore(&cloud.points, ca)
            }
        })
        .collect();
    let conf = crate::quality::etm::confidences(&clustering, &crscores)
        .map_err(|e| BuildError::Other(format!("eTM-score: {e}")))?;
    let tm = crate::quality::etm::model_tm_matrix(&refined)
        .map_err(|e| BuildError::Other(format!("eTM-score: {e}")))?;
    let etm_eq8 = crate::quality::etm::etm_scores(&conf, &tm)
        .map_err(|e| BuildError::Other(format!("eTM-score: {e}")))?;
    let first_threaded = templates
        .iter()
        .find(|t| t.source != crate::template::Source::Regenerated);
    let agreement: Vec<Option<f64>> = refined
        .iter()
        .map(|ca| first_threaded.map(|t| template_tm(ca, t)))
        .collect();
    // Without the map (the benchmark's no-map row) the density is not read.
    let types = if opts.ignore_map {
        vec![None; refined.len()]
    } else {
        type_agreements(map, resolution, cloud, sequence, &refined)
    };
    let etm: Vec<f64> = (0..refined.len())
        .map(|k| crate::quality::etm::calibrated(etm_eq8[k], agreement[k].unwrap_or(0.0), types[k]))
        .collect();
    let stats = crate::fullatom::bundled().map_err(BuildError::Other)?;
    let mut structures = Vec::new();
    let mut lpcc = Vec::new();
    for ca in &refined {
        let s = crate::fullatom::rebuild_chains(ca, sequence, ff.topology(), &stats)
            .map_err(BuildError::Other)?;
        let l = crate::quality::local::local_pcc(map, &s, resolution, opts.backend)
            .map_err(|e| BuildError::Other(format!("local PCC: {e}")))?;
        lpcc.push(l);
        structures.push(s);
    }
    let lconf = crate::quality::local::local_confidence(&lpcc, &etm, &refined)
        .map_err(|e| BuildError::Other(format!("local confidence: {e}")))?;
    // Rank by the calibrated eTM-score. Chosen on 80 tuning runs (34
    // validation, 46 train-homolog, 26 of them with templates of identity
    // ≥ 0.5 excluded): mean model 1 TM 0.583, against 0.575 in SPICKER's order
    // and 0.569 by eq. 8 alone (BENCHMARKS.md). Eq. 8 alone prefers chains that
    // fill the density in the wrong register; the template agreement in the
    // calibration holds them back. On maps of 5 Å or finer the residue
    // types' fit joins them: on 48 tuning runs at 3 Å model 1 averaged 0.731
    // ranked so, against 0.701 in SPICKER's order, 0.693 by eq. 8 alone and
    // 0.739 for the best of five (`bench rank`; refinement from each
    // cluster's lowest-energy decoy).
    let mut order: Vec<usize> = (0..refined.len()).collect();
    order.sort_by(|&a, &b| etm[b].total_cmp(&etm[a]));
    let mut reports = Vec::new();
    for (rank, &k) in order.iter().enumerate() {
        let mut s = structures[k].clone();
        // Local confidence × 100 in the B-factor column, as pLDDT-style viewers expect.
        let residues = s.chains.iter_mut().flat_map(|c| c.residues.iter_mut());
        for (r, res) in residues.enumerate() {
            let v = lconf[k].get(r).copied().unwrap_or(0.0) * 100.0;
            for a in &mut res.atoms {
                a.b_factor = v;
            }
        }
        let stem = format!("model_{}", rank + 1);
        crate::io::pdb::write_pdb(&out.join(format!("{stem}.pdb")), &s)?;
        crate::io::mmcif::write_mmcif(&out.join(format!("{stem}.cif")), &s)?;
        let mut terms = ff.terms(&refined[k]);
        terms.em = em.map_or(0.0, |em| {
            remc::map_energy(ff, em, &refined[k], &ff.centroids(&refined[k]))
        });
        reports.push(ModelReport {
            file: format!("{stem}.pdb"),
            etm_score: etm[k],
            cluster: k + 1,
            cluster_size: clustering.clusters[k].size(),
            cluster_rmsd: clustering.clusters[k].mean_rmsd,
            confidence: conf[k],
            template_agreement: agreement[k],
            type_agreement: types[k],
            etm_eq8: etm_eq8[k],
            crscore: crscores[k],
            energy: terms.total(),
            energy_terms: terms,
            local_pcc: lpcc[k].clone(),
            local_confidence: lconf[k].clone(),
        });
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run resumes only when its request reads back equal. Resolutions
    /// drawn by `mapfold bench` (7.3113220324076345 Å) came back one ulp off
    /// before serde_json's `float_roundtrip`, and such runs started over.
    #[test]
    fn a_request_reads_back_equal() {
        let dir = std::env::temp_dir().join(format!("mapfold_marker_{}", std::process::id()));
        std::fs::create_dir_all(dir.join(".stages")).unwrap();
        for r in [7.3113220324076345f64, 11.625553804224895, 3.2] {
            let request = json!({"resolution": r, "seed": 1});
            write_marker(&dir, "inputs", &request).unwrap();
            let back: Option<serde_json::Value> = read_marker(&dir, "inputs");
            assert_eq!(back.as_ref(), Some(&request), "{r}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Refinement starts from the cluster's own lowest-energy member, never
    /// from a lower-energy decoy of another cluster.
    #[test]
    fn refinement_starts_from_the_clusters_lowest_energy_member() {
        let decoys: Vec<(f64, Vec<Vec3>)> = [-5.0, -1.0, -9.0, -3.0]
            .into_iter()
            .map(|e| (e, Vec::new()))
            .collect();
        let c = crate::cluster::spicker::Cluster {
            members: vec![0, 1, 3],
            centre: 1,
            centroid: Vec::new(),
            closest: 1,
            mean_rmsd: 1.0,
            density: 3.0,
        };
        assert_eq!(refinement_start(&c, &decoys), 0);
    }

    /// A Cα marker from before the spread existed does not parse (the stage
    /// reruns); one with a null spread (one network) does.
    #[test]
    fn a_ca_marker_needs_its_spread() {
        let old = r#"{"n_atoms": 151, "agreement": 0.87, "consensus": true, "trusted": true,
            "resolution": 7.3, "resolution_estimated": false, "seconds": 2.8}"#;
        assert!(serde_json::from_str::<CaMarker>(old).is_err());
        let one = old.replace("\"seconds\"", "\"spread\": null, \"seconds\"");
        let m: CaMarker = serde_json::from_str(&one).unwrap();
        assert_eq!(m.spread, None);
        let two = old.replace("\"seconds\"", "\"spread\": 0.21, \"seconds\"");
        assert_eq!(
            serde_json::from_str::<CaMarker>(&two).unwrap().spread,
            Some(0.21)
        );
    }
}
