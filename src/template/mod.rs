//! Starting conformations for the assembly: templates placed against the map.
//!
//! The paper's Methods, "Template reselection by Cα and density map matching"
//! and "Initial Cα trace model generation". Threading ([`crate::threading`])
//! gives templates aligned to the query sequence but in their own frames; this
//! module turns them into [`TemplateModel`]s (one optional Cα per query
//! residue), re-selects them against the map's Cα cloud (eq. 3-4,
//! `reselect`), grows new Cα-trace templates from the cloud itself
//! (`regenerate`) and pieces them together (`composite`), or fits them into
//! the map as rigid bodies when the two networks' clouds disagree
//! (`rigid_fit`).

pub mod align;
pub mod composite;
pub mod contacts;
pub mod extend;
pub mod links;
pub mod regenerate;
pub mod register;
pub mod reselect;
pub mod residue_type;
pub mod rigid_fit;
pub mod select;
pub mod snap;

use crate::geom::kabsch::Transform;
use crate::structure::Structure;
use crate::threading::library::Library;
use crate::threading::search::Hit;
use crate::Vec3;

/// Where a starting model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A threading template as aligned, in the template's own frame.
    Threading,
    /// A threading template superposed onto the Cα cloud (eq. 3-4).
    Reselected,
    /// A Cα trace grown through the cloud and threaded gaplessly.
    Regenerated,
    /// A threading template fitted into the map as a rigid body.
    Fitted,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Threading => "threading",
            Source::Reselected => "re-selected",
            Source::Regenerated => "regenerated",
            Source::Fitted => "fitted",
        }
    }
}

/// A partial model of the query: a Cα position (Å) for each query residue the
/// template covers, `None` for the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateModel {
    pub source: Source,
    /// Library id of the template chain, or a made-up id for regenerated traces.
    pub template_id: String,
    /// Threading Zn (mean over schemes) of the template, 0 for regenerated traces.
    pub zscore: f64,
    /// One entry per query residue.
    pub ca: Vec<Option<Vec3>>,
    /// CRscore (eq. 1) of the model's Cα atoms against the map's Cα cloud, once known.
    pub crscore: Option<f64>,
    /// Pearson correlation of the model's simulated density with the map, once known.
    pub density_pcc: Option<f64>,
}

impl TemplateModel {
    /// The query residues a threading hit covers, with the template's Cα
    /// coordinates (template frame).
    pub fn from_hit(hit: &Hit, lib: &Library, query_len: usize) -> TemplateModel {
        let t = &lib.chains[hit.template];
        let mut ca = vec![None; query_len];
        for &(i, j) in &hit.alignment.pairs {
            if i < query_len && j < t.len() {
                ca[i] = Some(t.backbone[j].ca);
            }
        }
        TemplateModel {
            source: Source::Threading,
            template_id: hit.template_id.clone(),
            zscore: hit.zn,
            ca,
            crscore: None,
            density_pcc: None,
        }
    }

    /// A model of `source` with no Z-score, CRscore or density PCC yet.
    pub fn new(source: Source, template_id: impl Into<String>, ca: Vec<Option<Vec3>>) -> Self {
        TemplateModel {
            source,
            template_id: template_id.into(),
            zscore: 0.0,
            ca,
            crscore: None,
            density_pcc: None,
        }
    }

    pub fn query_len(&self) -> usize {
        self.ca.len()
    }

    /// Number of query residues with a Cα.
    pub fn aligned_len(&self) -> usize {
        self.ca.iter().filter(|c| c.is_some()).count()
    }

    /// Fraction of query residues with a Cα.
    pub fn coverage(&self) -> f64 {
        self.aligned_len() as f64 / self.query_len().max(1) as f64
    }

    /// The Cα atoms present, in query order.
    pub fn aligned_ca(&self) -> Vec<Vec3> {
        self.ca.iter().flatten().copied().collect()
    }

    /// (query index, Cα) of the residues present.
    pub fn aligned_pairs(&self) -> Vec<(usize, Vec3)> {
        self.ca
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.map(|p| (i, p)))
            .collect()
    }

    /// Moves every Cα by `t`.
    pub fn transform(&mut self, t: &Transform) {
        for p in self.ca.iter_mut().flatten() {
            *p = t.apply(p);
        }
    }

    /// A CA-only structure of the residues present, named from `sequence`
    /// (the query, one letter per residue) and numbered from 1 in query order,
    /// chain A.
    pub fn to_structure(&self, sequence: &str) -> Structure {
        let letters: Vec<char> = sequence.chars().collect();
        Structure::ca_only(self.aligned_pairs().into_iter().map(|(i, p)| {
            let c = letters.get(i).copied().unwrap_or('X');
            let name = crate::structure::three_letter_code(c).to_string();
            (i as i32 + 1, name, p, 0.0)
        }))
    }
}
