//! Density maps in memory and what is computed on them.
//!
//! - [`density`]: [`DensityMap`] (grid, voxel size, origin in Å) and its resampling,
//!   normalisation, cropping and point lookup.
//! - [`simulate`]: density of a model at a resolution (paper eq. 2), GPU and CPU.
//! - [`correlate`]: map-model correlation (PCC, masked PCC, the CC of eq. 6), GPU and CPU.

pub mod correlate;
pub mod density;
pub mod simulate;

pub use density::DensityMap;
