//! Training data for the Cα-probability 3D CNN (issue 3).
//!
//! - [`dataset`]: seeded samples (simulated density box + Cα labels) from the
//!   chains of a split; test splits are refused for training.
//! - [`noise`]: white, smooth and coloured (real-map-like) random fields.

pub mod dataset;
pub mod noise;
