//! The template stage as a whole: from a sequence, a map and its Cα cloud to
//! the 40 starting conformations of the assembly (the paper's Methods, from
//! "Initial template identification by LOMETS" to "Initial Cα trace model
//! generation").
//!
//! 1. Threading ([`crate::threading::search`]) ranks the library's templates
//!    by Z-score (top 300) and labels the target Easy or Hard.
//! 2. When the two networks' clouds agree (CRscore > 0.85; or when only one
//!    network ran), every threading template is superposed onto the cloud and
//!    re-ranked by CRscore (eq. 3-4, [`super::reselect`]): up to 30 with
//!    CRscore > 0.5 (N_rank), each then moved onto the cloud residue by
//!    residue on Easy targets when the cloud is sharp ([`super::snap`]).
//!    In maps of 5 Å or finer an Easy label whose templates do not fit the
//!    cloud (best CRscore < [`EASY_MIN_CRSCORE`]) is overruled: the target is
//!    modelled as Hard from here on.
//!    In coarser maps an Easy target with no template re-selected goes to
//!    step 3 instead, the fits kept in threading's order: a 8–12 Å cloud
//!    that fits none of threading's templates carries no register for traces
//!    either.
//!    N_gen = 40 − N_rank Cα traces are grown from the cloud and threaded
//!    onto the sequence ([`super::regenerate`]; on Hard targets in maps of
//!    5 Å or finer, along likely paths and with gaps), the register chosen by
//!    a contact map (a user's RR file, else the consensus of the top threading
//!    templates), the side-chain density and the predicted secondary
//!    structure ([`super::register`]), then ranked with the density
//!    correlation.
//! 3. When the clouds disagree, the cloud is not trusted (or, above, an Easy
//!    target's templates do not fit a coarse cloud): the top threading
//!    templates are fitted into the map as rigid bodies ([`super::rigid_fit`])
//!    and the best 40 by density correlation kept.
//!
//! The kept models are ranked re-selected first (by CRscore; on Hard targets
//! in maps of 5 Å or finer after the regenerated traces, which are then led
//! by a composite of them, [`super::composite`]; on Easy targets in maps of
//! 5 Å or finer, led by a composite of the first re-selected template and
//! Hard-style traces that fill its gaps), then the others by the
//! correlation of their Cα density with the map; the paper ranks all 40
//! by that correlation, which puts well-filling but wrongly threaded traces
//! ahead of correct templates (see `select_templates`). If fewer than 40 come
//! out of step 2 (few traces, a short library), rigid fits of further threading
//! templates fill the set.

use std::time::Instant;

use super::composite::compose;
use super::contacts::{consensus_from_templates, ContactMap};
use super::extend::extend_along_paths;
use super::regenerate::{regenerate_from, RegenInputs, RegenOptions, RegenStats};
use super::reselect::{reselect, ReselectOptions};
use super::rigid_fit::{ca_density_pcc, fit_all, FitOptions};
use super::snap::{snap_to_cloud, SnapOptions};
use super::TemplateModel;
use crate::ca::CaCloud;
use crate::map::DensityMap;
use crate::threading::library::Library;
use crate::threading::search::{Difficulty, SearchResult};

/// The default of [`SelectOptions::easy_min_crscore`].
pub const EASY_MIN_CRSCORE: f64 = 0.6;

/// Settings of the stage.
#[derive(Debug, Clone)]
pub struct SelectOptions {
    /// Starting conformations wanted (the paper's 40 replicas).
    pub n_models: usize,
    /// Most re-selected templates kept (paper: 30) and their CRscore floor (0.5).
    pub reselect: ReselectOptions,
    pub regen: RegenOptions,
    pub fit: FitOptions,
    /// Threading templates fitted as rigid bodies when the clouds disagree
    /// (or to fill the set), best Z-score first.
    pub fit_candidates: usize,
    /// Threading templates whose contacts make the consensus contact map.
    pub contact_templates: usize,
    /// On Easy targets, re-selected templates are moved onto a sharp cloud
    /// residue by residue ([`super::snap`]); `None` keeps them rigid.
    pub snap: Option<SnapOptions>,
    /// On Hard targets in maps of 5 Å or finer, the regenerated traces go
    /// before the re-selected templates (see `select_templates`).
    pub traces_first_on_hard: bool,
    /// An Easy-labelled target whose best re-selected template has a CRscore
    /// below this (or that has none) is modelled as Hard: the threading hit
    /// that made it Easy does not fit the map (see `select_templates`).
    /// `None` trusts threading's label.
    pub easy_min_crscore: Option<f64>,
    /// On Easy targets in maps coarser than 5 Å with no threading template
    /// re-selected, fit threading's templates into the map as rigid bodies
    /// instead of growing 40 Cα traces from the cloud (see `select_templates`).
    pub coarse_easy_fit: bool,
    /// On Easy targets whose templates are snapped, in maps of 5 Å or finer,
    /// fill the templates' unaligned residues along the cloud's likely paths
    /// ([`super::extend`]). Off: on 24 train homologs at 3 Å it changed
    /// model 1 by +0.002 (6 up, 2 down, 1AG6 −0.18; BENCHMARKS.md).
    pub extend: bool,
    /// Where the traces go first (Hard targets, maps of 5 Å or finer),
    /// put a composite of them ahead of them ([`super::composite`]).
    pub composite: bool,
    /// On Easy targets whose first template is re-selected, in maps of 5 Å
    /// or finer, put ahead of it a composite of it and this many Cα traces
    /// grown and aligned as on Hard targets ([`super::composite`]): the
    /// traces lend the residues the template leaves out. 0: off.
    pub easy_composite_traces: usize,
}

impl Default for SelectOptions {
    fn default() -> Self {
        SelectOptions {
            n_models: 40,
            reselect: ReselectOptions::default(),
            regen: RegenOptions::default(),
            fit: FitOptions::default(),
            fit_candidates: 60,
            contact_templates: 10,
            snap: Some(SnapOptions::default()),
            traces_first_on_hard: true,
            easy_min_crscore: Some(EASY_MIN_CRSCORE),
            coarse_easy_fit: true,
            extend: false,
            composite: true,
            easy_composite_traces: 20,
        }
    }
}

/// What the stage decided, for logs and `templates.tsv`.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The starting models, best first.
    pub models: Vec<TemplateModel>,
    pub difficulty: Difficulty,
    /// True when the cloud-based path ran (the clouds agreed).
    pub used_cloud: bool,
    pub n_reselected: usize,
    pub n_regenerated: usize,
    pub n_fitted: usize,
    /// True when the target was labelled Easy by threading but modelled as
    /// Hard, no threading template fitting the Cα cloud.
    pub easy_overruled: bool,
    pub regen_stats: Option<RegenStats>,
    pub seconds: f64,
}

impl Selection {
    /// No models yet; nothing done.
    pub fn new(difficulty: Difficulty) -> Selection {
        Selection {
            models: Vec::new(),
            difficulty,
            used_cloud: false,
            n_reselected: 0,
            n_regenerated: 0,
            n_fitted: 0,
            easy_overruled: false,
            regen_stats: None,
            seconds: 0.0,
        }
    }
}

/// The stage's inputs.
pub struct SelectInputs<'a> {
    pub sequence: &'a str,
    pub map: &'a DensityMap,
    pub resolution: f64,
    pub cloud: &'a CaCloud,
    /// Whether the cloud can be trusted (the networks agreed, or only one ran).
    pub cloud_trusted: bool,
    /// The cloud's [`crate::ca::detect::Detection::spread`].
    pub cloud_spread: Option<f64>,
    pub threading: &'a SearchResult,
    pub library: &'a Library,
    /// A user's contact prediction (CASP RR); the template consensus otherwise.
    pub contacts: Option<&'a ContactMap>,
    /// Predicted secondary structure (H, E, C probabilities per residue), for
    /// the register score of regenerated traces; `None` leaves that term out.
    pub predicted_ss: Option<&'a [[f32; 3]]>,
    /// The query's chains (its FASTA records).
    pub topology: &'a crate::topology::Topology,
}

#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    #[error("re-selection: {0}")]
    Reselect(String),
    #[error(transparent)]
    Regenerate(#[from] super::regenerate::RegenError),
    #[error(transparent)]
    Fit(#[from] super::rigid_fit::FitError),
}

/// Runs the stage (module doc).
pub fn select_templates(
    inp: &SelectInputs,
    opts: &SelectOptions,
) -> Result<Selection, SelectError> {
    let t0 = Instant::now();
    let l = inp.sequence.chars().count();
    let threading: Vec<TemplateModel> = inp
        .threading
        .hits
        .iter()
        .map(|h| TemplateModel::from_hit(h, inp.library, l))
        .collect();
    let mut out = Selection::new(inp.threading.difficulty);
    let mut hard = inp.threading.difficulty == Difficulty::Hard;
    let mut models = Vec::new();
    let coarse_easy = opts.coarse_easy_fit && !hard && !super::links::fitted_at(inp.resolution);
    let mut by_fit = false;
    let mut easy_composite = None;
    if inp.cloud_trusted && !inp.cloud.is_empty() {
        out.used_cloud = true;
        let mut chosen = reselect(&threading, &inp.cloud.points, &opts.reselect);
        chosen.truncate(opts.n_models);
        out.n_reselected = chosen.len();
        log::info!(
            "templates: {} of {} threading templates match the Cα cloud (CRscore > {})",
            chosen.len(),
            threading.len(),
            opts.reselect.min_crscore
        );
        // Threading's Easy label rests on a Z-score. On validation chains at
        // 3 Å three of the four Easy-labelled chains had no threading
        // template that fits the cloud (best CRscore 0.50 or none) and ended
        // at TM 0.18–0.31 on the Easy path, whose traces are threaded without
        // the residue types; modelled as Hard they reach 0.57–0.93 (24 chains:
        // model 1 0.676 → 0.741; 24 train-homolog chains 0.795 → 0.824, 2 up,
        // 1 down). A floor of 0.7 scored 0.010 below 0.6 on the train
        // homologs (BENCHMARKS.md). Coarser maps take the same path
        // whatever the label, so the rule applies at 5 Å or finer only.
        let best_fit = chosen
            .iter()
            .filter_map(|m| m.crscore)
            .fold(f64::NEG_INFINITY, f64::max);
        if let Some(floor) = opts
            .easy_min_crscore
            .filter(|&f| !hard && best_fit < f && super::links::fitted_at(inp.resolution))
        {
            hard = true;
            out.easy_overruled = true;
            log::info!(
                "templates: threading labelled the target Easy, but no template fits the Cα cloud with CRscore ≥ {floor} (best {}): modelling it as Hard",
                if best_fit.is_finite() { format!("{best_fit:.3}") } else { "none".into() }
            );
        }
        // In coarser maps the cloud still decides the Easy path while the
        // networks agree, but when not one threading template fits a 8–12 Å
        // cloud, the 40 starting models would all be Cα traces grown from
        // it, and such a cloud carries no register. Threading's Easy label
        // is then the better guide: its templates are fitted into the map.
        // On the 6 train-homolog maps (identity < 0.5, 8 and 12 Å) where
        // this happened, model 1 rose from 0.201 to 0.407 on average (1AWD
        // 0.287 → 0.562, 1BDO 0.170 → 0.173; BENCHMARKS.md). It came up on
        // test-easy 3TNP and 1SK6 (11–12 Å), whose traces gave model 1 0.19
        // and 0.17; with the rule (seen after the choice) 0.42 and 0.33.
        if coarse_easy && chosen.is_empty() && !threading.is_empty() {
            log::info!(
                "templates: Easy target in a {:.1} Å map and no threading template fits the Cα cloud: fitting threading's templates into the map instead of growing traces from the cloud",
                inp.resolution
            );
            by_fit = true;
        }
        // Snapping trusts the template's placement residue by residue. On
        // Hard targets the re-selected templates are mostly wrong, and on
        // Hard validation chains snapping them lost 0.007 at 3 Å (module doc
        // of `snap`).
        let snap = opts.snap.as_ref().filter(|_| !chosen.is_empty() && !hard);
        match snap {
            Some(so) if so.applies_to(inp.cloud_spread) => {
                let mut atoms = 0;
                for m in &mut chosen {
                    let (snapped, n) = snap_to_cloud(m, &inp.cloud.points, so);
                    *m = snapped;
                    atoms += n;
                }
                // Likely paths are fitted on maps of 5 Å or finer (`links`).
                if opts.extend && super::links::fitted_at(inp.resolution) {
                    let paths = super::links::likely_paths(
                        &inp.cloud.points,
                        inp.map,
                        super::links::DEFAULT_MIN_LOGIT,
                    );
                    let mut added = 0;
                    for m in &mut chosen {
                        let (longer, n) = extend_along_paths(m, &inp.cloud.points, &paths);
                        *m = longer;
                        added += n;
                    }
                    log::info!(
                        "templates: unaligned residues placed along the cloud's likely paths, {:.1} per template on average",
                        added as f64 / chosen.len() as f64
                    );
                }
                log::info!(
                    "templates: re-selected templates moved onto the cloud{}, {:.0} residues each on average",
                    match inp.cloud_spread {
                        Some(d) => format!(" (the networks' atoms lie {d:.2} Å apart)"),
                        None => String::new(),
                    },
                    atoms as f64 / chosen.len() as f64
                );
            }
            Some(so) => log::info!(
                "templates: the networks' atoms lie {:.2} Å apart (> {}): re-selected templates stay rigid",
                inp.cloud_spread.unwrap_or(f64::NAN),
                so.max_spread
            ),
            None => {}
        }
        let n_gen = opts.n_models.saturating_sub(chosen.len());
        // A re-selected template leaves out what its alignment does not
        // cover (on test-easy 2V3B, 4.2 Å: a C-terminal domain of 106
        // residues), and the assembly rarely finds such a stretch's place.
        // Traces grown and aligned as on Hard targets lend it, as in the Hard
        // composite. On 100 train homologs at 3 Å the composite changed the
        // first template of 10, all up (0.711 → 0.785 on those). Whole builds
        // on the 10: model 1 0.777 → 0.807 (9 up, 1 down) with the composite
        // labelled re-selected so that the restraints come from it, 0.796
        // when it only starts a replica (BENCHMARKS.md).
        let easy_fill = opts.easy_composite_traces > 0
            && !hard
            && !by_fit
            && super::links::fitted_at(inp.resolution)
            && chosen
                .first()
                .is_some_and(|m| m.source == super::Source::Reselected);
        let own;
        let contacts = match inp.contacts {
            Some(c) => Some(c),
            None if !threading.is_empty() && !by_fit && (n_gen > 0 || easy_fill) => {
                own = consensus_from_templates(&threading, l, opts.contact_templates);
                Some(&own)
            }
            None => None,
        };
        let regen_inputs = RegenInputs {
            cloud: inp.cloud,
            query_len: l,
            sequence: Some(inp.sequence),
            predicted_ss: inp.predicted_ss,
            contacts,
            map: inp.map,
            resolution: inp.resolution,
        };
        if easy_fill {
            let (traces, _) =
                regenerate_from(&regen_inputs, opts.easy_composite_traces, &opts.regen)?;
            let mut parts = vec![chosen[0].clone()];
            parts.extend(traces);
            if let Some(mut c) = compose(&parts, inp.topology) {
                log::info!(
                    "templates: Cα traces fill the first template's gaps: {} residues against {}",
                    c.aligned_len(),
                    chosen[0].aligned_len()
                );
                c.source = super::Source::Reselected;
                easy_composite = Some(c);
            }
        }
        if n_gen > 0 && !by_fit {
            // Likely paths and gapped alignment were chosen on validation
            // chains, which are all Hard; on Easy targets they did not help
            // (test-easy 2–5 Å: model 1 0.794 → 0.742, n.s., seen on test
            // after the choice; BENCHMARKS.md), so Easy targets keep the
            // paper's connection and gapless threading.
            let mut regen = opts.regen;
            if !hard {
                regen.link_threshold = None;
                regen.gapped = None;
            }
            let (traces, stats) = regenerate_from(&regen_inputs, n_gen, &regen)?;
            log::info!(
                "templates: {} Cα-trace templates from {} traces of {} fragments",
                traces.len(),
                stats.traces,
                stats.fragments
            );
            out.n_regenerated = traces.len();
            out.regen_stats = Some(stats);
            chosen.extend(traces);
        }
        models = chosen;
    } else {
        log::info!(
            "templates: the Cα clouds disagree; fitting threading templates into the map as rigid bodies"
        );
    }
    if models.len() < opts.n_models && !threading.is_empty() {
        let used: std::collections::HashSet<String> =
            models.iter().map(|m| m.template_id.clone()).collect();
        let candidates: Vec<TemplateModel> = threading
            .iter()
            .filter(|m| !used.contains(&m.template_id) && m.aligned_len() >= 3)
            .take(opts.fit_candidates)
            .cloned()
            .collect();
        let fitted = fit_all(
            &candidates,
            inp.map,
            inp.resolution,
            opts.n_models - models.len(),
            &opts.fit,
        )?;
        out.n_fitted = fitted.len();
        log::info!(
            "templates: {} threading templates fitted as rigid bodies",
            fitted.len()
        );
        models.extend(fitted);
    }
    for m in &mut models {
        if m.density_pcc.is_none() {
            m.density_pcc = Some(ca_density_pcc(inp.map, &m.aligned_ca(), inp.resolution));
        }
    }
    // Re-selected templates first (by CRscore, the order `reselect` gave),
    // then the regenerated traces in the order regeneration ranked them (by
    // their register score, which the density PCC cannot see), then the rest
    // by density PCC. The paper re-ranks all 40 by density PCC, but a
    // full-length Cα trace fills the density better than a partial template
    // that is right: on test-easy 1A6M (3 Å) that puts a trace of TM-score
    // 0.18 first, ahead of the re-selected template of 0.88, and the
    // assembly's restraints come from the top of this list. On Hard targets
    // the re-selected templates are mostly wrong and, where the traces are
    // grown along likely paths and aligned with gaps (maps of 5 Å or finer),
    // the traces go first: on the 21 of 50 validation chains (all Hard, 3 Å)
    // with both, the first trace scored TM 0.414 on average against 0.342 for the first
    // re-selected template, better on 13 (BENCHMARKS.md, "Likely paths and
    // gapped alignment").
    let traces_first = opts.traces_first_on_hard && hard && super::links::fitted_at(inp.resolution);
    let group = |m: &TemplateModel| match m.source {
        super::Source::Reselected => usize::from(traces_first),
        super::Source::Regenerated => usize::from(!traces_first),
        _ => 2,
    };
    // Where an Easy label overrode a coarse cloud (`by_fit`), the fits keep
    // threading's order: on the 7 such train-homolog maps at 8 and 12 Å the
    // template first by density PCC scored TM 0.323 on average, threading's
    // first 0.413, better or equal on all 7 (1AWD 0.088 against 0.536).
    let threading_rank: std::collections::HashMap<&str, usize> = if by_fit {
        // Reversed, so that a template threaded twice keeps its first rank.
        threading
            .iter()
            .enumerate()
            .rev()
            .map(|(i, m)| (m.template_id.as_str(), i))
            .collect()
    } else {
        Default::default()
    };
    let rank = |m: &TemplateModel| {
        threading_rank
            .get(m.template_id.as_str())
            .copied()
            .unwrap_or(usize::MAX)
    };
    models.sort_by(|a, b| {
        let k = |m: &TemplateModel| m.density_pcc.unwrap_or(f64::NEG_INFINITY);
        group(a).cmp(&group(b)).then_with(|| match a.source {
            super::Source::Reselected => b
                .crscore
                .unwrap_or(0.0)
                .total_cmp(&a.crscore.unwrap_or(0.0)),
            super::Source::Regenerated => std::cmp::Ordering::Equal,
            _ if by_fit => rank(a).cmp(&rank(b)),
            _ => k(b).total_cmp(&k(a)),
        })
    });
    // On Hard targets the traces lead here (the sort above puts them first),
    // and the composite of them leads the traces: it holds the first trace
    // and what the later ones add in reach of it. On Easy targets the
    // composite made above leads (never both).
    let lead = if opts.composite && traces_first {
        let n_traces = models
            .iter()
            .take_while(|m| m.source == super::Source::Regenerated)
            .count();
        compose(&models[..n_traces], inp.topology).inspect(|c| {
            log::info!(
                "templates: a composite of the Cα traces goes first: {} residues, the first trace {}",
                c.aligned_len(),
                models[0].aligned_len()
            )
        })
    } else {
        easy_composite
    };
    if let Some(mut c) = lead {
        c.density_pcc = Some(ca_density_pcc(inp.map, &c.aligned_ca(), inp.resolution));
        models.insert(0, c);
    }
    models.truncate(opts.n_models);
    out.models = models;
    out.seconds = t0.elapsed().as_secs_f64();
    Ok(out)
}
