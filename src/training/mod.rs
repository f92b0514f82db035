//! Training data and training of the Cα-probability 3D CNN (issue 3).
//!
//! - [`dataset`]: seeded samples (simulated density box + Cα labels) from the
//!   chains of a split; test splits are refused for training.
//! - [`noise`]: white, smooth and coloured (real-map-like) random fields.
//! - [`params`]: the parameter tensors as a named list.
//! - [`loss`]: weighted cross-entropy (1:50).
//! - [`backward`]: training forward pass with stored activations, and gradients.
//! - [`adam`]: the optimiser.
//! - [`checkpoint`]: resumable training state in a safetensors file.
//! - [`trainer`]: the loop: samples, steps, validation CRscore, early stopping.

pub mod adam;
pub mod backward;
pub mod checkpoint;
pub mod dataset;
pub mod loss;
pub mod noise;
pub mod params;
pub mod residue_maps;
pub mod trainer;

#[cfg(test)]
mod gradcheck;
#[cfg(test)]
mod train_tests;
