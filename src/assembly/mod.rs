//! Assembly of full-length models: the reduced chain, its force field (eq.
//! 5-7) and replica-exchange Monte Carlo (the paper's "Density map-guided
//! structural assembly simulations").
//!
//! The chain is Cα only, each residue's side chain a centroid bead placed from
//! the local Cα frame ([`geometry`]); the force field is knowledge-based
//! statistics from the train split ([`stats`], [`energy`]) plus template
//! restraints and the map terms ([`em`]); [`remc`] samples it from starting
//! chains that [`gapfill`] completes from the templates, with the moves of
//! [`moves`].

pub mod em;
pub mod energy;
pub mod gapfill;
pub mod geometry;
pub mod moves;
pub mod regularise;
pub mod remc;
pub mod stats;

/// The tests' real chain: the longest unbroken stretch (64 residues) of the
/// deposited 3J6B chain 9 (`tests/data/3j6b_9.pdb`); the assembly's chains
/// have no breaks, the deposited one does.
#[cfg(test)]
pub(crate) fn test_stretch() -> (
    String,
    Vec<crate::Vec3>,
    Vec<crate::threading::Ss>,
    Vec<crate::structure::Residue>,
) {
    let s = crate::io::read_structure(std::path::Path::new("tests/data/3j6b_9.pdb")).unwrap();
    let chain = &s.chains[0];
    let bb = crate::threading::dssp::chain_backbone(chain);
    let ss = crate::threading::dssp::assign(&bb);
    let ca = chain.ca_coords();
    let residues: Vec<_> = chain.ca_residues().cloned().collect();
    let seq: Vec<char> = chain.ca_sequence().chars().collect();
    let (mut best, mut start) = ((0, 0), 0);
    for i in 1..=ca.len() {
        if i == ca.len() || (ca[i] - ca[i - 1]).norm() > 4.2 {
            if i - start > best.1 - best.0 {
                best = (start, i);
            }
            start = i;
        }
    }
    let (a, b) = best;
    (
        seq[a..b].iter().collect(),
        ca[a..b].to_vec(),
        ss[a..b].to_vec(),
        residues[a..b].to_vec(),
    )
}
