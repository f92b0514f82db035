//! Random fields for training maps: white noise, smooth fields (for solvent
//! background and local-resolution blending) and coloured noise whose radial
//! amplitude spectrum follows the solvent noise of real cryo-EM maps.

use rand::Rng;

use crate::map::{fft, DensityMap};
use crate::Vec3;

/// Spacing in 1/Å of [`SOLVENT_NOISE_PROFILE`].
pub const NOISE_PROFILE_DK: f64 = 0.02;

/// Relative amplitude of solvent noise in real maps at k = 0.01, 0.03, …, 0.49
/// 1/Å (bin centres, mean power 1 over the table, flat beyond its end).
/// Measured by the ignored test `measure_solvent_noise_profile` in
/// tests/training_data.rs: for the three real maps with a placed model
/// (EMD-2566/3J6B chain 9, EMD-5168 monomer/3MFP, EMD-5778 fragment), the map
/// minus its solvent mean times a solvent mask (voxels over 4 Å from any atom,
/// softened by a 1 Å Gaussian), radially averaged amplitude, normalised per
/// map, then the geometric mean across maps; shells beyond a map's Nyquist
/// take that map's last value. Real solvent noise is far from white: it falls
/// with k like the signal does, because maps are low-pass filtered at their
/// resolution and the noise with them. Caveat: these are cut-outs, so their
/// "solvent" also holds unmodelled neighbouring density; the profile is
/// the spectrum of everything a model does not explain, which is what the
/// network must learn to ignore. The coarsest map (1.742 Å voxels) has no
/// shells beyond 0.29 1/Å, hence the flat tail.
#[rustfmt::skip]
pub const SOLVENT_NOISE_PROFILE: [f64; 25] = [
    2.078, 3.150, 1.795, 1.300, 1.308, 0.957, 0.838, 0.731, 0.625, 0.575,
    0.487, 0.438, 0.397, 0.355, 0.327, 0.285, 0.244, 0.218, 0.201, 0.188,
    0.188, 0.188, 0.188, 0.188, 0.188,
];

/// Amplitude of the solvent noise profile at |k| (1/Å), linearly interpolated.
pub fn solvent_noise_amplitude(k: f64) -> f64 {
    let t = SOLVENT_NOISE_PROFILE;
    let x = (k / NOISE_PROFILE_DK - 0.5).max(0.0);
    let i = x.floor() as usize;
    if i + 1 >= t.len() {
        return t[t.len() - 1];
    }
    let f = x - i as f64;
    t[i] * (1.0 - f) + t[i + 1] * f
}

/// A standard normal deviate (Box–Muller; rand_distr is not a dependency).
pub fn normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A cubic-voxel map of independent standard normal values.
pub fn white_noise(dims: [usize; 3], voxel: f64, origin: Vec3, rng: &mut impl Rng) -> DensityMap {
    let n = dims.iter().product();
    let data = (0..n).map(|_| normal(rng) as f32).collect();
    DensityMap::new(dims, [voxel; 3], origin, data).expect("dims and voxel checked by callers")
}

/// White noise blurred by a Gaussian of `sigma` Å, rescaled to zero mean and
/// unit standard deviation: a smooth random field.
pub fn smooth_field(
    dims: [usize; 3],
    voxel: f64,
    origin: Vec3,
    sigma: f64,
    rng: &mut impl Rng,
) -> DensityMap {
    let mut f = fft::gaussian_blur(&white_noise(dims, voxel, origin, rng), sigma);
    f.normalise();
    f
}

/// Noise with the radial amplitude spectrum of [`SOLVENT_NOISE_PROFILE`],
/// zero mean, unit standard deviation.
pub fn coloured_noise(
    dims: [usize; 3],
    voxel: f64,
    origin: Vec3,
    rng: &mut impl Rng,
) -> DensityMap {
    let mut f = fft::filter_radial(
        &white_noise(dims, voxel, origin, rng),
        solvent_noise_amplitude,
    );
    f.normalise();
    f
}
