//! 3D Fourier transforms of density maps and what is built on them: radially
//! averaged spectra in 1/Å shells and radial (isotropic) filters.
//!
//! Eq. 2 of the paper convolves point atoms with a Gaussian of σ = R/(√2·π);
//! in Fourier space that is a product with exp(−2π²σ²k²) (k in cycles/Å), which
//! is what [`gaussian_lowpass`] applies and what [`super::resolution`] fits.
//!
//! The transform is complex-to-complex (rustfft), axis by axis, with rayon over
//! the lines of each axis; maps here are at most a few hundred voxels a side, so
//! the factor of two a real-to-complex transform would save does not matter.
//! Frequencies are in physical units, so non-cubic voxels are handled: the
//! frequency of index i on an axis of n voxels of size v is (i or i−n)/(n·v).

use rayon::prelude::*;
use rustfft::{num_complex::Complex64, FftDirection, FftPlanner};

use super::simulate::sigma_for_resolution;
use super::DensityMap;
use crate::Vec3;

/// The discrete Fourier transform of a map (unnormalised forward transform:
/// F(k) = Σ ρ(x) e^{−2πik·x}), with the grid it came from.
#[derive(Debug, Clone)]
pub struct Spectrum3 {
    dims: [usize; 3],
    voxel_size: [f64; 3],
    origin: Vec3,
    data: Vec<Complex64>,
}

/// A radially averaged spectrum: shell `i` holds the Fourier coefficients with
/// |k| in [i·dk, (i+1)·dk), `k[i]` is the mean |k| of those coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct RadialSpectrum {
    /// Shell width in 1/Å.
    pub dk: f64,
    /// Mean |k| of each shell, 1/Å.
    pub k: Vec<f64>,
    /// Mean |F| of each shell.
    pub amplitude: Vec<f64>,
    /// Mean |F|² of each shell.
    pub power: Vec<f64>,
    /// Number of coefficients in each shell.
    pub count: Vec<usize>,
}

/// Frequency in cycles/Å of index `i` on an axis of `n` voxels of `voxel` Å.
#[inline]
pub fn frequency(i: usize, n: usize, voxel: f64) -> f64 {
    let s = if i <= n / 2 {
        i as f64
    } else {
        i as f64 - n as f64
    };
    s / (n as f64 * voxel)
}

/// Transforms `data` (x fastest) in place along one axis, in parallel over lines.
fn transform_axis(data: &mut [Complex64], dims: [usize; 3], axis: usize, dir: FftDirection) {
    let n = dims[axis];
    if n == 1 {
        return;
    }
    let fft = FftPlanner::new().plan_fft(n, dir);
    let strides = [1, dims[0], dims[0] * dims[1]];
    if axis == 0 {
        data.par_chunks_mut(n).for_each(|line| fft.process(line));
        return;
    }
    // Gather the strided lines into contiguous ones, transform, scatter back;
    // both passes only read from the other buffer, so both run in parallel.
    let (b, c) = match axis {
        1 => (0, 2),
        _ => (0, 1),
    };
    let base = |l: usize| (l % dims[b]) * strides[b] + (l / dims[b]) * strides[c];
    let mut lines = vec![Complex64::default(); data.len()];
    {
        let src: &[Complex64] = data;
        lines.par_chunks_mut(n).enumerate().for_each(|(l, line)| {
            let b0 = base(l);
            for (m, v) in line.iter_mut().enumerate() {
                *v = src[b0 + m * strides[axis]];
            }
            fft.process(line);
        });
    }
    data.par_iter_mut().enumerate().for_each(|(idx, v)| {
        let ijk = [
            idx % dims[0],
            (idx / dims[0]) % dims[1],
            idx / (dims[0] * dims[1]),
        ];
        let l = ijk[b] + dims[b] * ijk[c];
        *v = lines[l * n + ijk[axis]];
    });
}

fn transform(data: &mut [Complex64], dims: [usize; 3], dir: FftDirection) {
    for axis in 0..3 {
        transform_axis(data, dims, axis, dir);
    }
}

/// Forward 3D FFT of a map.
pub fn forward(map: &DensityMap) -> Spectrum3 {
    let mut data: Vec<Complex64> = map
        .data()
        .par_iter()
        .map(|&v| Complex64::new(v as f64, 0.0))
        .collect();
    transform(&mut data, map.dims(), FftDirection::Forward);
    Spectrum3 {
        dims: map.dims(),
        voxel_size: map.voxel_size(),
        origin: map.origin(),
        data,
    }
}

impl Spectrum3 {
    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }
    pub fn voxel_size(&self) -> [f64; 3] {
        self.voxel_size
    }
    /// Coefficients, x-fastest, in FFT order (zero frequency first).
    pub fn data(&self) -> &[Complex64] {
        &self.data
    }
    pub fn data_mut(&mut self) -> &mut [Complex64] {
        &mut self.data
    }

    /// |k| in cycles/Å of coefficient `idx` (x-fastest index).
    #[inline]
    pub fn k_of(&self, idx: usize) -> f64 {
        let d = self.dims;
        let i = idx % d[0];
        let j = (idx / d[0]) % d[1];
        let l = idx / (d[0] * d[1]);
        let fx = frequency(i, d[0], self.voxel_size[0]);
        let fy = frequency(j, d[1], self.voxel_size[1]);
        let fz = frequency(l, d[2], self.voxel_size[2]);
        (fx * fx + fy * fy + fz * fz).sqrt()
    }

    /// The highest |k| (1/Å) sampled in every direction: Nyquist of the coarsest axis.
    pub fn k_nyquist(&self) -> f64 {
        self.voxel_size
            .iter()
            .map(|v| 0.5 / v)
            .fold(f64::INFINITY, f64::min)
    }

    /// Multiplies each coefficient by `profile(|k|)` (|k| in cycles/Å).
    pub fn apply_radial(&mut self, profile: impl Fn(f64) -> f64 + Sync) {
        let this = &*self;
        let factors: Vec<f64> = (0..this.data.len())
            .into_par_iter()
            .map(|idx| profile(this.k_of(idx)))
            .collect();
        self.data
            .par_iter_mut()
            .zip(factors)
            .for_each(|(c, f)| *c *= f);
    }

    /// Inverse transform (normalised by 1/N) back to a map on the original grid;
    /// the imaginary part, which is rounding noise for a real filter, is dropped.
    pub fn inverse(&self) -> DensityMap {
        let mut data = self.data.clone();
        transform(&mut data, self.dims, FftDirection::Inverse);
        let scale = 1.0 / data.len() as f64;
        let values = data.par_iter().map(|c| (c.re * scale) as f32).collect();
        DensityMap::new(self.dims, self.voxel_size, self.origin, values)
            .expect("same grid as the forward transform")
    }

    /// Radially averaged amplitude and power in shells of width `dk` (1/Å) up
    /// to [`k_nyquist`](Self::k_nyquist); `None` picks the finest spacing of the
    /// grid, 1/(largest box edge in Å).
    pub fn radial(&self, dk: Option<f64>) -> RadialSpectrum {
        let dk = dk.unwrap_or_else(|| {
            let edge = (0..3)
                .map(|a| self.dims[a] as f64 * self.voxel_size[a])
                .fold(0.0, f64::max);
            1.0 / edge
        });
        let kmax = self.k_nyquist();
        let nshell = ((kmax / dk).floor() as usize).max(1);
        let mut ksum = vec![0.0; nshell];
        let mut asum = vec![0.0; nshell];
        let mut psum = vec![0.0; nshell];
        let mut count = vec![0usize; nshell];
        for (idx, c) in self.data.iter().enumerate() {
            let k = self.k_of(idx);
            let s = (k / dk) as usize;
            if s < nshell {
                let p = c.norm_sqr();
                ksum[s] += k;
                asum[s] += p.sqrt();
                psum[s] += p;
                count[s] += 1;
            }
        }
        let mean = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .zip(&count)
                .map(|(s, &n)| if n > 0 { s / n as f64 } else { 0.0 })
                .collect()
        };
        RadialSpectrum {
            dk,
            k: (0..nshell)
                .map(|s| {
                    if count[s] > 0 {
                        ksum[s] / count[s] as f64
                    } else {
                        (s as f64 + 0.5) * dk
                    }
                })
                .collect(),
            amplitude: mean(&asum),
            power: mean(&psum),
            count,
        }
    }
}

/// Radially averaged spectrum of a map (shells of the grid's finest spacing).
pub fn radial_spectrum(map: &DensityMap) -> RadialSpectrum {
    forward(map).radial(None)
}

/// The map with each Fourier coefficient multiplied by `profile(|k|)`.
pub fn filter_radial(map: &DensityMap, profile: impl Fn(f64) -> f64 + Sync) -> DensityMap {
    let mut f = forward(map);
    f.apply_radial(profile);
    f.inverse()
}

/// Convolution with a normalised 3D Gaussian of standard deviation `sigma` Å
/// (periodic boundaries): multiplies F(k) by exp(−2π²σ²k²).
pub fn gaussian_blur(map: &DensityMap, sigma: f64) -> DensityMap {
    let c = 2.0 * std::f64::consts::PI.powi(2) * sigma * sigma;
    filter_radial(map, move |k| (-c * k * k).exp())
}

/// Low-pass at resolution R in the sense of eq. 2: blur with σ = R/(√2·π).
pub fn gaussian_lowpass(map: &DensityMap, resolution: f64) -> DensityMap {
    gaussian_blur(map, sigma_for_resolution(resolution))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random_map(dims: [usize; 3], voxel: [f64; 3], seed: u64) -> DensityMap {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n = dims.iter().product();
        let data = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        DensityMap::new(dims, voxel, Vec3::new(1.0, 2.0, 3.0), data).unwrap()
    }

    #[test]
    fn forward_inverse_identity_and_parseval() {
        let m = random_map([12, 9, 7], [1.0, 1.3, 0.8], 1);
        let f = forward(&m);
        // Parseval for the unnormalised DFT: Σ|F|² = N Σ|ρ|².
        let e_real: f64 = m.data().iter().map(|&v| (v as f64).powi(2)).sum();
        let e_freq: f64 = f.data().iter().map(|c| c.norm_sqr()).sum();
        let n = m.len() as f64;
        assert!(
            (e_freq / (n * e_real) - 1.0).abs() < 1e-10,
            "{e_freq} {e_real}"
        );
        let back = f.inverse();
        assert_eq!(back.dims(), m.dims());
        assert_eq!(back.origin(), m.origin());
        let err = back
            .data()
            .iter()
            .zip(m.data())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-5, "max error {err}");
    }

    #[test]
    fn single_plane_wave_lands_on_its_frequency() {
        // cos(2π·3x/(n·v)) along y only: all power at k = 3/(n_y·v_y).
        let dims = [4, 16, 5];
        let v = [1.0, 1.5, 2.0];
        let mut data = vec![0.0f32; 4 * 16 * 5];
        for k in 0..5 {
            for j in 0..16 {
                for i in 0..4 {
                    data[i + 4 * (j + 16 * k)] =
                        (2.0 * std::f64::consts::PI * 3.0 * j as f64 / 16.0).cos() as f32;
                }
            }
        }
        let m = DensityMap::new(dims, v, Vec3::zeros(), data).unwrap();
        let f = forward(&m);
        let (idx, _) = f
            .data()
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.norm().total_cmp(&b.1.norm()))
            .unwrap();
        assert!((f.k_of(idx) - 3.0 / (16.0 * 1.5)).abs() < 1e-12);
    }

    /// A Gaussian blob of width s has |F(k)| ∝ exp(−2π²s²k²): the slope of
    /// ln A against k² must be −2π²s², with non-cubic voxels too.
    #[test]
    fn gaussian_spectrum_is_gaussian_with_predicted_width() {
        for (voxel, s) in [([1.0, 1.0, 1.0], 1.5), ([0.9, 1.2, 1.05], 2.0)] {
            let dims = [64, 48, 56];
            let centre = Vec3::new(
                32.0 * voxel[0] + 0.3,
                24.0 * voxel[1] - 0.2,
                28.0 * voxel[2] + 0.1,
            );
            let mut m = DensityMap::zeros(dims, voxel, Vec3::zeros()).unwrap();
            let mut data = vec![0.0f32; m.len()];
            for k in 0..dims[2] {
                for j in 0..dims[1] {
                    for i in 0..dims[0] {
                        let d2 = (m.voxel_position(i, j, k) - centre).norm_squared();
                        data[i + dims[0] * (j + dims[1] * k)] = (-d2 / (2.0 * s * s)).exp() as f32;
                    }
                }
            }
            m.data_mut().copy_from_slice(&data);
            let r = radial_spectrum(&m);
            // Fit over the shells where the amplitude is well above f32 rounding.
            let pts: Vec<(f64, f64)> =
                r.k.iter()
                    .zip(&r.amplitude)
                    .zip(&r.count)
                    .filter(|((&k, &a), &n)| n > 0 && k > 0.0 && a > 1e-3 * r.amplitude[0])
                    .map(|((&k, &a), _)| (k * k, a.ln()))
                    .collect();
            assert!(pts.len() > 5);
            let n = pts.len() as f64;
            let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
            let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
            let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
            let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
            let slope = sxy / sxx;
            let expected = -2.0 * std::f64::consts::PI.powi(2) * s * s;
            assert!(
                (slope / expected - 1.0).abs() < 0.05,
                "voxel {voxel:?}: slope {slope}, expected {expected}"
            );
        }
    }

    #[test]
    fn lowpass_of_a_point_matches_eq2_shape() {
        // A delta blurred to resolution R must be a Gaussian of σ = R/(√2π).
        let dims = [40, 40, 40];
        let mut m = DensityMap::zeros(dims, [1.0; 3], Vec3::zeros()).unwrap();
        let c = 20 + 40 * (20 + 40 * 20);
        m.data_mut()[c] = 1.0;
        let r = 6.0;
        let g = gaussian_lowpass(&m, r);
        let sigma = sigma_for_resolution(r);
        let peak = g.data()[c] as f64;
        for d in [1usize, 2, 3, 4] {
            let v = g.data()[c + d] as f64;
            let want = (-((d * d) as f64) / (2.0 * sigma * sigma)).exp();
            assert!(
                (v / peak - want).abs() < 2e-3,
                "d {d}: {} vs {want}",
                v / peak
            );
        }
        // Normalised Gaussian: the total is preserved.
        let total: f64 = g.data().iter().map(|&v| v as f64).sum();
        assert!((total - 1.0).abs() < 1e-4);
    }
}
