//! Density maps in memory and what is computed on them.
//!
//! - [`density`]: [`DensityMap`] (grid, voxel size, origin in Å), statistics,
//!   normalisation and point lookup.
//! - [`regrid`]: resampling to another voxel size, cropping and padding.
//! - [`simulate`]: density of a model at a resolution (paper eq. 2), GPU and CPU.
//! - [`fft`]: 3D FFT, radially averaged spectra, Gaussian and radial filters.
//! - [`resolution`]: resolution of a map estimated from its spectrum alone.
//! - [`correlate`]: map-model correlation (PCC, masked PCC, the CC of eq. 6), GPU and CPU.

pub mod correlate;
pub mod density;
pub mod fft;
pub mod regrid;
pub mod resolution;
pub mod simulate;

pub use density::{DensityMap, MapStats};
pub use regrid::GridRegion;
