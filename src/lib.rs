//! mapfold: protein structure models from a cryo-EM density map and a sequence.
//!
//! The method is CR-I-TASSER (Zhang lab, Nature Methods 2022). This crate is the
//! library behind the `mapfold` binary; every stage is usable on its own:
//!
//! - [`io`]: file formats (MRC/CCP4 maps, PDB and mmCIF structures, FASTA).
//! - [`map`]: [`map::DensityMap`], resampling, density simulation (eq. 2) and
//!   map-model correlation (eq. 6).
//! - [`gpu`]: the one wgpu context and the GPU-or-CPU [`gpu::Backend`] choice.
//! - [`geom`]: superposition, RMSD, GDT-TS, TM-score, TM-align, CRscore (eq. 1).
//! - [`structure`]: the in-memory model of chains, residues and atoms.
//! - [`topology`]: which residues of the modelled sequence are bonded (one
//!   chain per FASTA record, breaks between them).
//! - [`cnn`]: the Cα-detection 3D CNN (network, weights, CPU and WGSL inference).
//! - [`ca`]: Cα clouds from maps: the two networks and their consensus, peak
//!   picking on P(Cα), the greedy baseline.
//! - [`mod@bench`]: benchmarks over the shared data set (Cα clouds by CRscore).
//! - [`training`]: training the Cα 3D CNN on simulated maps.
//! - [`threading`]: the template library and LOMETS-style meta-threading.
//! - [`template`]: starting models: re-selection against the Cα cloud (eq.
//!   3-4), Cα-trace regeneration and the traces' composite, rigid fits into the
//!   map, the whole stage.
//! - [`assembly`]: the reduced chain, its force field (eq. 5-7) and
//!   replica-exchange Monte Carlo.
//! - [`cluster`]: SPICKER clustering of decoys.
//! - [`mod@fullatom`]: backbone and side chains from a Cα trace.
//! - [`quality`]: eTM-score, local PCC and local confidence (eq. 8-13).
//! - [`pipeline`]: `mapfold build`, every stage in order, resumable.
//!
//! Data flow: map → [`io::mrc`] → [`map::DensityMap`] → [`cnn`] (P(Cα)) →
//! [`ca::peaks`] → [`ca::CaCloud`]; sequence → [`io::fasta`] → [`threading`]
//! (templates by Z-score); both → [`template::select`] (40 starting models) →
//! [`assembly::remc`] (decoys) → [`mod@cluster::spicker`] → refinement →
//! [`mod@fullatom`] → [`quality`] → models and `report.json` ([`pipeline`]).

pub mod assembly;
pub mod bench;
pub mod ca;
pub mod cli;
pub mod cluster;
pub mod cnn;
pub mod data;
pub mod fullatom;
pub mod geom;
pub mod gpu;
pub mod io;
pub mod map;
pub mod pipeline;
pub mod quality;
pub mod sequence;
pub mod structure;
pub mod template;
pub mod threading;
pub mod topology;
pub mod training;

/// A point or displacement in ångström, in the map's (and the model's) Cartesian frame.
pub type Vec3 = nalgebra::Vector3<f64>;
