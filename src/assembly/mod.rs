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
pub mod remc;
pub mod stats;
