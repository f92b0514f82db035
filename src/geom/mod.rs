//! Geometry and structure-comparison metrics.
//!
//! - [`kabsch`]: optimal rigid superposition and RMSD.
//! - [`tmscore`]: TM-score, RMSD and GDT-TS by residue correspondence, as the
//!   TM-score program computes them.
//! - [`tmalign`]: sequence-independent structural alignment (TM-align's algorithm).
//! - [`crscore`]: CRscore of an unordered Cα cloud against a chain (paper eq. 1).
//! - [`grid`]: a uniform grid for radius queries over a point set.

pub mod crscore;
pub mod grid;
pub mod kabsch;
pub mod tmalign;
pub mod tmscore;
