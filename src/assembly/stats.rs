//! Knowledge-based statistics of the reduced chain, learned from the train
//! split only: the stand-in for the I-TASSER potential (paper eq. 5,
//! E_I-TASSER; Supplementary Text 28 is not in our text, so the terms are ours).
//!
//! Every table is a potential of mean force, −ln(P_observed / P_reference)
//! with +1 pseudocounts, in units of kT (bins whose reference holds fewer than
//! 10 counts are a wall of 3 kT instead):
//! - Cα bond angle and Cα torsion by secondary structure (H, E, C, as DSSP
//!   assigns them from the native backbone) against a uniform reference;
//! - Cα–Cα distance by sequence separation (3, 4, 5–7, ≥8) and secondary-
//!   structure pair against all pairs at that separation: at separations 3–4
//!   this encodes the i→i+3/i+4 regularity of helical hydrogen bonds, at larger
//!   ones the 4.5–5.5 Å spacing of paired strands;
//! - side-chain centroid contacts (< 6.5 Å, |i−j| ≥ 3): quasi-chemical pair
//!   energies, observed against composition-expected counts;
//! - burial: the number of Cα within 10 Å by residue type against all residues;
//! - the side-chain centroid's mean offset in the local Cα frame by residue
//!   type and secondary structure ([`super::geometry`]);
//! - compactness: ln Rg = ln a + b ln L fitted over the chains.
//!
//! Stored as JSON in `weights/knowledge.json` (`mapfold assembly-stats`
//! rebuilds it) and bundled into the binary.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::geometry::{angle, dihedral, offset_in_frame, radius_of_gyration};
use crate::io::FileError;
use crate::sequence::index_or_unknown;
use crate::threading::{dssp, Ss};
use crate::Vec3;

pub const ANGLE_BIN: f64 = 5.0;
pub const ANGLE_BINS: usize = 36;
pub const TORSION_BIN: f64 = 10.0;
pub const TORSION_BINS: usize = 36;
pub const DIST_MIN: f64 = 3.0;
pub const DIST_BIN: f64 = 0.5;
pub const DIST_BINS: usize = 24;
pub const SEP_CLASSES: usize = 4;
pub const SS_PAIRS: usize = 6;
pub const CONTACT_CUTOFF: f64 = 6.5;
pub const BURIAL_RADIUS: f64 = 10.0;
pub const BURIAL_BIN: usize = 2;
pub const BURIAL_BINS: usize = 21;
/// Residue types: the 20 and X (which takes the all-residue averages).
pub const TYPES: usize = 21;
/// Consecutive Cα further apart than this (Å) mark a chain break.
const BREAK: f64 = 4.2;
const FORMAT_VERSION: u32 = 1;
/// Reference counts below this make a bin a wall of [`WALL`] kT.
const MIN_REFERENCE: f64 = 10.0;
const WALL: f32 = 3.0;

/// The tables (module doc); energies in kT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeStats {
    pub version: u32,
    /// Where the statistics came from (split, chain and residue counts).
    pub source: String,
    /// Indexed by secondary structure, then angle bin.
    pub angle: Vec<Vec<f32>>,
    /// Indexed by the secondary structure of the second residue, then torsion bin.
    pub torsion: Vec<Vec<f32>>,
    /// Indexed by separation class, secondary-structure pair, distance bin.
    pub pair: Vec<Vec<Vec<f32>>>,
    /// Indexed by residue type twice; types as in `sequence::AMINO_ACIDS` plus X.
    pub contact: Vec<Vec<f32>>,
    /// Indexed by residue type, then burial bin.
    pub burial: Vec<Vec<f32>>,
    /// Indexed by residue type, then secondary structure: offset of the
    /// side-chain centroid in the local frame (Å).
    pub centroid: Vec<Vec<[f64; 3]>>,
    /// Mean Cα–Cα bond length and its standard deviation (Å).
    pub bond: [f64; 2],
    /// Rg ≈ a · L^b (Å), and the standard deviation of ln Rg about the fit.
    pub rg: [f64; 3],
}

pub fn angle_bin(deg: f64) -> usize {
    ((deg / ANGLE_BIN) as usize).min(ANGLE_BINS - 1)
}

pub fn torsion_bin(deg: f64) -> usize {
    (((deg + 180.0) / TORSION_BIN) as usize).min(TORSION_BINS - 1)
}

/// Distance bin, `None` beyond the table (the potential is zero there).
pub fn dist_bin(d: f64) -> Option<usize> {
    if d < DIST_MIN {
        return Some(0);
    }
    let b = ((d - DIST_MIN) / DIST_BIN) as usize;
    (b < DIST_BINS).then_some(b)
}

/// Separation class of |i − j| ≥ 3.
pub fn sep_class(sep: usize) -> usize {
    match sep {
        0..=3 => 0,
        4 => 1,
        5..=7 => 2,
        _ => 3,
    }
}

/// Unordered secondary-structure pair: HH, HE, HC, EE, EC, CC.
pub fn ss_pair(a: Ss, b: Ss) -> usize {
    let (x, y) = if a.index() <= b.index() {
        (a.index(), b.index())
    } else {
        (b.index(), a.index())
    };
    match (x, y) {
        (0, 0) => 0,
        (0, 1) => 1,
        (0, _) => 2,
        (1, 1) => 3,
        (1, _) => 4,
        _ => 5,
    }
}

pub fn burial_bin(count: usize) -> usize {
    (count / BURIAL_BIN).min(BURIAL_BINS - 1)
}

/// One chain's residues as the statistics need them.
struct ChainData {
    ca: Vec<Vec3>,
    ss: Vec<Ss>,
    types: Vec<usize>,
    /// Side-chain heavy-atom centroid (the Cα for glycine), when complete enough.
    side: Vec<Option<Vec3>>,
}

fn chain_data(chain: &crate::structure::Chain) -> ChainData {
    let residues: Vec<_> = chain.ca_residues().collect();
    let bb = dssp::chain_backbone(chain);
    let ss = dssp::assign(&bb);
    let mut side = Vec::with_capacity(residues.len());
    for r in &residues {
        let pts: Vec<Vec3> = r
            .atoms
            .iter()
            .filter(|a| {
                !matches!(a.name.as_str(), "N" | "CA" | "C" | "O" | "OXT")
                    && a.element != "H"
                    && a.element != "D"
            })
            .map(|a| a.pos)
            .collect();
        let c = if r.one_letter() == 'G' {
            r.ca()
        } else if pts.is_empty() {
            None
        } else {
            Some(pts.iter().sum::<Vec3>() / pts.len() as f64)
        };
        side.push(c);
    }
    ChainData {
        ca: bb.iter().map(|b| b.ca).collect(),
        ss,
        types: residues
            .iter()
            .map(|r| index_or_unknown(r.one_letter()))
            .collect(),
        side,
    }
}

#[derive(Default)]
struct Counts {
    angle: Vec<Vec<f64>>,
    torsion: Vec<Vec<f64>>,
    pair: Vec<Vec<Vec<f64>>>,
    contact: Vec<Vec<f64>>,
    burial: Vec<Vec<f64>>,
    centroid_sum: Vec<Vec<[f64; 4]>>,
    bonds: Vec<f64>,
    rg: Vec<(f64, f64)>,
    residues: usize,
}

impl Counts {
    fn new() -> Counts {
        Counts {
            angle: vec![vec![0.0; ANGLE_BINS]; 3],
            torsion: vec![vec![0.0; TORSION_BINS]; 3],
            pair: vec![vec![vec![0.0; DIST_BINS]; SS_PAIRS]; SEP_CLASSES],
            contact: vec![vec![0.0; TYPES]; TYPES],
            burial: vec![vec![0.0; BURIAL_BINS]; TYPES],
            centroid_sum: vec![vec![[0.0; 4]; 3]; TYPES],
            ..Default::default()
        }
    }

    fn add(&mut self, c: &ChainData) {
        let n = c.ca.len();
        let linked = |i: usize| (c.ca[i + 1] - c.ca[i]).norm() < BREAK;
        self.residues += n;
        for i in 0..n.saturating_sub(1) {
            if linked(i) {
                self.bonds.push((c.ca[i + 1] - c.ca[i]).norm());
            }
        }
        for i in 1..n.saturating_sub(1) {
            if !(linked(i - 1) && linked(i)) {
                continue;
            }
            let a = angle(&c.ca[i - 1], &c.ca[i], &c.ca[i + 1]);
            self.angle[c.ss[i].index()][angle_bin(a)] += 1.0;
            if let Some(p) = c.side[i] {
                if let Some(off) = offset_in_frame(&c.ca[i - 1], &c.ca[i], &c.ca[i + 1], &p) {
                    let s = &mut self.centroid_sum[c.types[i]][c.ss[i].index()];
                    for k in 0..3 {
                        s[k] += off[k];
                    }
                    s[3] += 1.0;
                }
            }
            if i + 2 < n && linked(i + 1) {
                let t = dihedral(&c.ca[i - 1], &c.ca[i], &c.ca[i + 1], &c.ca[i + 2]);
                self.torsion[c.ss[i].index()][torsion_bin(t)] += 1.0;
            }
        }
        // Side-chain centroids as the model will see them (from the Cα frame),
        // so that contact statistics match what the energy computes.
        for i in 0..n {
            let mut count = 0;
            for j in 0..n {
                if i == j {
                    continue;
                }
                let d = (c.ca[i] - c.ca[j]).norm();
                if d < BURIAL_RADIUS {
                    count += 1;
                }
                if j > i + 2 {
                    if let Some(b) = dist_bin(d) {
                        self.pair[sep_class(j - i)][ss_pair(c.ss[i], c.ss[j])][b] += 1.0;
                    }
                    if let (Some(p), Some(q)) = (c.side[i], c.side[j]) {
                        if (p - q).norm() < CONTACT_CUTOFF {
                            self.contact[c.types[i]][c.types[j]] += 1.0;
                            if c.types[i] != c.types[j] {
                                self.contact[c.types[j]][c.types[i]] += 1.0;
                            }
                        }
                    }
                }
            }
            self.burial[c.types[i]][burial_bin(count)] += 1.0;
        }
        if n >= 20 {
            self.rg.push((n as f64, radius_of_gyration(&c.ca)));
        }
    }

    fn finish(self, source: String) -> KnowledgeStats {
        // −ln(P_obs / P_ref) with +1 pseudocounts; where the reference itself is
        // nearly empty the ratio means nothing, and the bin gets a wall instead.
        let pmf = |obs: &[f64], reference: &[f64]| -> Vec<f32> {
            let no: f64 = obs.iter().sum::<f64>() + obs.len() as f64;
            let nr: f64 = reference.iter().sum::<f64>() + reference.len() as f64;
            obs.iter()
                .zip(reference)
                .map(|(o, r)| {
                    if *r < MIN_REFERENCE {
                        WALL
                    } else {
                        (-(((o + 1.0) / no) / ((r + 1.0) / nr)).ln()) as f32
                    }
                })
                .collect()
        };
        // Against a uniform reference: rare angles are costly whatever the
        // secondary structure.
        let absolute = |obs: &[f64]| -> Vec<f32> {
            let no: f64 = obs.iter().sum::<f64>() + obs.len() as f64;
            let uniform = 1.0 / obs.len() as f64;
            obs.iter()
                .map(|o| (-(((o + 1.0) / no) / uniform).ln()) as f32)
                .collect()
        };
        let sum_rows = |rows: &[Vec<f64>]| -> Vec<f64> {
            (0..rows[0].len())
                .map(|b| rows.iter().map(|r| r[b]).sum())
                .collect()
        };
        let angle = self.angle.iter().map(|r| absolute(r)).collect();
        let torsion = self.torsion.iter().map(|r| absolute(r)).collect();
        let pair = self
            .pair
            .iter()
            .map(|by_ss| {
                let all = sum_rows(by_ss);
                by_ss.iter().map(|r| pmf(r, &all)).collect()
            })
            .collect();
        // Quasi-chemical contacts: expected count of (a, b) from the share of
        // each type among contact partners.
        let total: f64 = self.contact.iter().flatten().sum();
        let share: Vec<f64> = self
            .contact
            .iter()
            .map(|r| r.iter().sum::<f64>() / total.max(1.0))
            .collect();
        let mut contact = vec![vec![0.0f32; TYPES]; TYPES];
        for a in 0..20 {
            for b in 0..20 {
                let expected = total * share[a] * share[b];
                contact[a][b] = (-((self.contact[a][b] + 1.0) / (expected + 1.0)).ln()) as f32;
            }
        }
        let all_burial = sum_rows(&self.burial[..20]);
        let mut burial: Vec<Vec<f32>> = self.burial[..20]
            .iter()
            .map(|r| pmf(r, &all_burial))
            .collect();
        burial.push(vec![0.0; BURIAL_BINS]);
        // Mean centroid offsets; X takes the average of all types.
        let mut centroid = vec![vec![[0.0; 3]; 3]; TYPES];
        let mean = |s: [f64; 4]| [s[0] / s[3], s[1] / s[3], s[2] / s[3]];
        let mut all = [[0.0; 4]; 3];
        for (t, by_ss) in self.centroid_sum.iter().take(20).enumerate() {
            for (ss, s) in by_ss.iter().enumerate() {
                for k in 0..4 {
                    all[ss][k] += s[k];
                }
                if s[3] > 0.0 {
                    centroid[t][ss] = mean(*s);
                }
            }
        }
        for (ss, a) in all.iter().enumerate() {
            if a[3] > 0.0 {
                centroid[20][ss] = mean(*a);
            }
        }
        let nb = self.bonds.len().max(1) as f64;
        let mean = self.bonds.iter().sum::<f64>() / nb;
        let sd = (self.bonds.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / nb).sqrt();
        KnowledgeStats {
            version: FORMAT_VERSION,
            source,
            angle,
            torsion,
            pair,
            contact,
            burial,
            centroid,
            bond: [mean, sd],
            rg: fit_rg(&self.rg),
        }
    }
}

/// Least squares of ln Rg on ln L: [a, b, sd of the residual].
fn fit_rg(pts: &[(f64, f64)]) -> [f64; 3] {
    let n = pts.len() as f64;
    if pts.len() < 2 {
        return [2.2, 0.38, 0.1];
    }
    let xs: Vec<f64> = pts.iter().map(|p| p.0.ln()).collect();
    let ys: Vec<f64> = pts.iter().map(|p| p.1.ln()).collect();
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let b = sxy / sxx.max(1e-12);
    let a = my - b * mx;
    let sd = (xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| (y - a - b * x).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    [a.exp(), b, sd]
}

impl KnowledgeStats {
    /// Statistics over the first protein chain of each file (the data set's
    /// convention, [`crate::threading::library::pick_chain`]).
    pub fn build(paths: &[PathBuf], split_label: &str) -> Result<KnowledgeStats, FileError> {
        use rayon::prelude::*;
        let chains: Vec<ChainData> = paths
            .par_iter()
            .map(|p| -> Result<Option<ChainData>, FileError> {
                let s = crate::io::read_structure(p)?;
                let stem = crate::threading::library::id_of_path(p);
                Ok(crate::threading::library::pick_chain(&s, &stem).map(chain_data))
            })
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect();
        let mut counts = Counts::new();
        for c in &chains {
            counts.add(c);
        }
        let source = format!(
            "{split_label}: {} chains, {} residues",
            chains.len(),
            counts.residues
        );
        Ok(counts.finish(source))
    }

    /// The statistics shipped in `weights/knowledge.json`.
    pub fn bundled() -> KnowledgeStats {
        // Checked by a test; a broken bundled file is a build defect, not user input.
        Self::from_json(include_str!("../../weights/knowledge.json"))
            .expect("bundled weights/knowledge.json is valid")
    }

    pub fn from_json(text: &str) -> Result<KnowledgeStats, String> {
        let s: KnowledgeStats = serde_json::from_str(text).map_err(|e| e.to_string())?;
        s.check()?;
        Ok(s)
    }

    pub fn read(path: &Path) -> Result<KnowledgeStats, FileError> {
        let text = crate::io::read_text(path)?;
        Self::from_json(&text).map_err(|e| FileError::format(path, e))
    }

    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        let text = serde_json::to_string(self).expect("statistics serialise");
        crate::io::write_atomically(path, text.as_bytes())
    }

    fn check(&self) -> Result<(), String> {
        let shape_ok = self.version == FORMAT_VERSION
            && self.angle.len() == 3
            && self.angle.iter().all(|r| r.len() == ANGLE_BINS)
            && self.torsion.len() == 3
            && self.torsion.iter().all(|r| r.len() == TORSION_BINS)
            && self.pair.len() == SEP_CLASSES
            && self
                .pair
                .iter()
                .all(|s| s.len() == SS_PAIRS && s.iter().all(|r| r.len() == DIST_BINS))
            && self.contact.len() == TYPES
            && self.contact.iter().all(|r| r.len() == TYPES)
            && self.burial.len() == TYPES
            && self.burial.iter().all(|r| r.len() == BURIAL_BINS)
            && self.centroid.len() == TYPES
            && self.centroid.iter().all(|r| r.len() == 3);
        if !shape_ok {
            return Err(format!(
                "knowledge statistics: wrong version or table shapes (expected version {FORMAT_VERSION})"
            ));
        }
        let finite = self
            .angle
            .iter()
            .chain(&self.torsion)
            .chain(&self.contact)
            .chain(&self.burial)
            .flatten()
            .chain(self.pair.iter().flatten().flatten())
            .all(|v| v.is_finite());
        if !finite {
            return Err("knowledge statistics: non-finite values".into());
        }
        Ok(())
    }
}
