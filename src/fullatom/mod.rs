//! Full-atom models from a Cα trace, in the manner of PULCHRA (Rotkiewicz &
//! Skolnick 2008): the step from the pipeline's reduced (Cα) models to the
//! atomic models of its last stage (paper Fig. 1). No paper equation applies;
//! the statistics replace PULCHRA's own tables.
//!
//! 1. Backbone ([`backbone`]): N, C, O of each peptide from its four-Cα window,
//!    at train-split mean positions for the window's shape (r13, r24, virtual
//!    dihedral).
//! 2. Side chains ([`sidechain`]): for each residue, the most probable rotamer
//!    of its type given a Cα-derived backbone class, placed in the N, CA, C frame.
//! 3. Clash relief ([`clash`]): residues re-choose among their rotamers by
//!    probability plus an overlap penalty against all other atoms.
//!
//! The statistics ([`stats::FullAtomStats`]) come from the train split only;
//! the shipped file is `weights/fullatom.bin` ([`bundled`]), rebuilt with
//! `mapfold rebuild --build-stats DATA_DIR -o weights/fullatom.bin`.

pub mod backbone;
pub mod clash;
pub mod frame;
pub mod residues;
pub mod sidechain;
pub mod stats;

pub use stats::FullAtomStats;

use crate::structure::{three_letter_code, Atom, Chain, Residue, Structure};
use crate::topology::Topology;
use crate::Vec3;
use residues::{element_of, type_index, RESIDUES};

const BUNDLED: &[u8] = include_bytes!("../../weights/fullatom.bin");

/// Rotamers less probable than this fraction of the best one are not tried.
const MIN_RELATIVE_P: f64 = 0.01;

/// The statistics shipped in the binary (`weights/fullatom.bin`).
pub fn bundled() -> Result<FullAtomStats, String> {
    FullAtomStats::from_bytes(BUNDLED).map_err(|e| format!("bundled full-atom statistics: {e}"))
}

/// A one-chain full-atom model (chain "A", residues numbered from 1) of the Cα
/// trace `ca`, whose residue types are `sequence` (one letter per Cα;
/// non-standard letters give UNK residues with backbone atoms only). Errors
/// when the lengths differ or a coordinate is not finite.
pub fn rebuild(ca: &[Vec3], sequence: &str, stats: &FullAtomStats) -> Result<Structure, String> {
    rebuild_chains(ca, sequence, &Topology::single(ca.len()), stats)
}

/// As [`rebuild`], for a trace of the chains of `topology`: no peptide bond
/// is built across a chain break, and each chain is written as its own
/// (A, B, …; residues numbered from 1 in each).
pub fn rebuild_chains(
    ca: &[Vec3],
    sequence: &str,
    topology: &Topology,
    stats: &FullAtomStats,
) -> Result<Structure, String> {
    let seq: Vec<char> = sequence.chars().collect();
    if seq.len() != ca.len() {
        return Err(format!(
            "sequence has {} residues but the Cα trace has {}",
            seq.len(),
            ca.len()
        ));
    }
    if let Some(i) = ca.iter().position(|p| !p.iter().all(|x| x.is_finite())) {
        return Err(format!("Cα {} has a non-finite coordinate", i + 1));
    }
    if topology.len() != ca.len() {
        return Err(format!(
            "the chains hold {} residues but the Cα trace has {}",
            topology.len(),
            ca.len()
        ));
    }
    // Gaps in the trace and chain breaks both end a segment.
    let segs: Vec<(usize, usize)> = backbone::segments(ca)
        .into_iter()
        .flat_map(|(s, e)| {
            let mut cuts: Vec<usize> = (s..e - 1).filter(|&i| !topology.bonded(i)).collect();
            cuts.push(e - 1);
            cuts.into_iter().scan(s, |start, last| {
                let r = (*start, last + 1);
                *start = last + 1;
                Some(r)
            })
        })
        .collect();
    let nco = stats.backbone.place_in(ca, &segs);
    let bb: Vec<clash::Backbone> = (0..ca.len())
        .map(|i| [nco[i][0], ca[i], nco[i][1], nco[i][2]])
        .collect();
    let mut class = vec![0; ca.len()];
    for &(s, e) in &segs {
        for (i, c) in class.iter_mut().enumerate().take(e).skip(s) {
            *c = sidechain::bb_class(ca, s, e, i);
        }
    }
    let types: Vec<Option<usize>> = seq.iter().map(|&c| type_index(c)).collect();
    let cands: Vec<Vec<clash::Candidate>> = (0..ca.len())
        .map(|i| {
            let Some(t) = types[i] else {
                return Vec::new();
            };
            let Some(set) = stats.rotamers.get(t) else {
                return Vec::new();
            };
            let def = &RESIDUES[t];
            let costs = set.costs(class[i]);
            let best = costs.iter().copied().fold(f64::INFINITY, f64::min);
            let f = sidechain::side_frame(bb[i][0], bb[i][1], bb[i][2]);
            let polar: Vec<bool> = def.side.iter().map(|n| element_of(n) != "C").collect();
            set.rotamers
                .iter()
                .zip(&costs)
                .filter(|(_, &c)| c <= best - MIN_RELATIVE_P.ln())
                .map(|(r, &cost)| clash::Candidate {
                    atoms: r.atoms.iter().map(|&p| f.to_global(p)).collect(),
                    polar: polar.clone(),
                    cost,
                })
                .collect()
        })
        .collect();
    let pro: Vec<bool> = seq.iter().map(|&c| c.eq_ignore_ascii_case(&'P')).collect();
    let chosen = clash::relieve(&bb, &cands, &pro);

    let mut serial = 0;
    let mut atom = |name: &str, pos: Vec3| {
        serial += 1;
        Atom {
            serial,
            name: name.to_string(),
            element: element_of(name).to_string(),
            pos,
            occupancy: 1.0,
            b_factor: 0.0,
        }
    };
    let mut residues: Vec<Residue> = (0..ca.len())
        .map(|i| {
            let mut atoms = vec![
                atom("N", bb[i][0]),
                atom("CA", bb[i][1]),
                atom("C", bb[i][2]),
                atom("O", bb[i][3]),
            ];
            if let (Some(t), Some(c)) = (types[i], cands[i].get(chosen[i])) {
                for (name, &p) in RESIDUES[t].side.iter().zip(&c.atoms) {
                    atoms.push(atom(name, p));
                }
            }
            Residue {
                name: three_letter_code(seq[i]).to_string(),
                seq_num: i as i32 + 1,
                ins_code: None,
                atoms,
            }
        })
        .collect();
    let mut chains = Vec::new();
    for (c, r) in topology.chains().enumerate() {
        let mut part: Vec<Residue> = residues.drain(..r.len()).collect();
        for (k, res) in part.iter_mut().enumerate() {
            res.seq_num = k as i32 + 1;
        }
        chains.push(Chain {
            id: Topology::chain_id(c),
            residues: part,
        });
    }
    Ok(Structure {
        chains,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests;
