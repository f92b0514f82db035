//! Resolution of a density map estimated from the map alone (for `--resolution`
//! when the user gives none).
//!
//! Method: a map made by eq. 2 is point atoms convolved with a Gaussian of
//! σ = R/(√2·π), so its radially averaged power is
//!
//!   P(k) = S · W(k) · exp(−4π²σ²k²) + N
//!
//! with W(k) the power profile of point-atom protein density (Wilson
//! statistics: flat at high k, with the secondary-structure bumps below 1/4 Å),
//! S a scale and N a white noise floor. W is a table ([`PROTEIN_POWER_PROFILE`])
//! measured once on train-split chains (see the table's doc). For each candidate
//! R on a fine grid, S and N ≥ 0 are solved by least squares on relative
//! residuals and the R with the smallest log-power residual wins; a parabola
//! through the best three grid points refines it. The fit uses the shells from
//! [`K_MIN`] to Nyquist, so the noise floor, not a guessed cut-off, decides
//! which shells carry the decay.
//!
//! The map is mean-subtracted and apodised (cosine taper at the box edges)
//! before the transform so that density cut at a box face does not add the
//! 1/k² streaks of a discontinuity. Experimental maps are usually sharpened
//! (their high-k power boosted), which makes them look sharper than their
//! FSC resolution: the estimate is the eq.-2 resolution that best matches the
//! map's decay, which is what simulated maps compared against it should use.

use super::fft;
use super::simulate::sigma_for_resolution;
use super::DensityMap;

/// Lowest spatial frequency (1/Å) in the fit: below it the molecular envelope
/// and the box dominate the spectrum, not the resolution.
pub const K_MIN: f64 = 0.04;

/// Candidate resolutions, Å.
const R_MIN: f64 = 1.0;
const R_MAX: f64 = 25.0;
const R_STEP: f64 = 0.05;

/// Spacing of [`PROTEIN_POWER_PROFILE`] in 1/Å.
pub const PROFILE_DK: f64 = 0.01;

/// ln W(k) at k = 0, 0.01, …, 0.50 1/Å (flat beyond): the mean over train-split
/// chains of ln[P(k) / exp(−4π²σ²k²)] for eq.-2 maps at R = 1.5 Å, 1 Å voxels,
/// 8 Å margin, shifted to mean 0 over 0.05–0.5 1/Å. Measured by the ignored test
/// `calibrate_protein_power_profile` in tests/resolution_estimate.rs on the
/// first 40 train chains (the last entry, a corner-only shell, is set to its
/// neighbour). Note the dip near 1/7 Å and the bump near 1/4.7 Å, the
/// familiar shape of protein Wilson plots.
#[rustfmt::skip]
pub const PROTEIN_POWER_PROFILE: [f64; 51] = [
    4.569, 5.929, 4.865, 2.767, 2.215, 1.840, 1.325, 1.114, 0.941, 0.782,
    0.568, 0.323, 0.150, 0.051, -0.041, -0.081, -0.075, -0.015, 0.076, 0.201,
    0.335, 0.395, 0.378, 0.315, 0.262, 0.233, 0.197, 0.164, 0.118, 0.067,
    0.007, -0.035, -0.061, -0.082, -0.085, -0.093, -0.078, -0.068, -0.057, -0.031,
    0.002, 0.033, 0.076, 0.117, 0.150, 0.188, 0.217, 0.247, 0.266, 0.289,
    0.289,
];

/// What [`estimate_resolution`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolutionEstimate {
    /// Resolution in Å in the sense of eq. 2 (σ = R/(√2·π)).
    pub resolution: f64,
    /// The Gaussian width that goes with it, Å.
    pub sigma: f64,
    /// Frequency (1/Å) where the fitted signal power falls to the noise floor
    /// (Nyquist when the signal stays above it).
    pub k_signal: f64,
    /// Fraction of the fitted power in the fitted band that is noise.
    pub noise_fraction: f64,
    /// RMS of ln(observed/fitted power) over the fitted shells: large values
    /// mean the map does not look like eq.-2 density (trust the number less).
    pub fit_rms: f64,
    /// Number of shells fitted.
    pub shells: usize,
    /// True when the best R is at the edge of the searched range.
    pub at_bound: bool,
}

/// ln W(k), linearly interpolated in the table, flat beyond it.
pub fn protein_log_profile(k: f64) -> f64 {
    let t = PROTEIN_POWER_PROFILE;
    let x = (k / PROFILE_DK).max(0.0);
    let i = x.floor() as usize;
    if i + 1 >= t.len() {
        return t[t.len() - 1];
    }
    let f = x - i as f64;
    t[i] * (1.0 - f) + t[i + 1] * f
}

/// The map minus its mean, multiplied by a cosine taper over the outer
/// `frac` of each axis.
pub fn apodised(map: &DensityMap, frac: f64) -> DensityMap {
    let dims = map.dims();
    let mean = map.stats().mean;
    let taper = |n: usize| -> Vec<f64> {
        let w = ((n as f64 * frac).round() as usize).max(1);
        (0..n)
            .map(|i| {
                let d = i.min(n - 1 - i);
                if d >= w {
                    1.0
                } else {
                    0.5 - 0.5 * (std::f64::consts::PI * (d as f64 + 0.5) / w as f64).cos()
                }
            })
            .collect()
    };
    let (tx, ty, tz) = (taper(dims[0]), taper(dims[1]), taper(dims[2]));
    let mut out = map.clone();
    for (idx, v) in out.data_mut().iter_mut().enumerate() {
        let i = idx % dims[0];
        let j = (idx / dims[0]) % dims[1];
        let k = idx / (dims[0] * dims[1]);
        *v = ((*v as f64 - mean) * tx[i] * ty[j] * tz[k]) as f32;
    }
    out
}

/// Least-squares S, N ≥ 0 for P ≈ S·g + N on relative residuals; returns
/// (S, N, Σ ln² residual).
fn fit_scale_noise(g: &[f64], p: &[f64]) -> (f64, f64, f64) {
    // Minimise Σ ((S g + N − P)/P)²: normal equations in (S, N).
    let (mut a11, mut a12, mut a22, mut b1, mut b2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (&g, &p) in g.iter().zip(p) {
        let (x, y) = (g / p, 1.0 / p);
        a11 += x * x;
        a12 += x * y;
        a22 += y * y;
        b1 += x;
        b2 += y;
    }
    let det = a11 * a22 - a12 * a12;
    let (mut s, mut n) = if det.abs() > 1e-300 {
        ((b1 * a22 - b2 * a12) / det, (a11 * b2 - a12 * b1) / det)
    } else {
        (0.0, -1.0)
    };
    if n < 0.0 || s < 0.0 || !s.is_finite() || !n.is_finite() {
        // One of them is not supported by the data: fit the other alone.
        let s_only = (b1 / a11).max(0.0);
        let n_only = (b2 / a22).max(0.0);
        let cost = |s: f64, n: f64| -> f64 {
            g.iter()
                .zip(p)
                .map(|(&g, &p)| ((s * g + n).max(1e-300) / p).ln().powi(2))
                .sum()
        };
        return if cost(s_only, 0.0) <= cost(0.0, n_only) {
            (s_only, 0.0, cost(s_only, 0.0))
        } else {
            (0.0, n_only, cost(0.0, n_only))
        };
    }
    let cost = g
        .iter()
        .zip(p)
        .map(|(&g, &p)| ((s * g + n).max(1e-300) / p).ln().powi(2))
        .sum();
    s = s.max(0.0);
    n = n.max(0.0);
    (s, n, cost)
}

/// Estimates the eq.-2 resolution of a map from its radially averaged power
/// spectrum (see the module doc). Works on any voxel size; a map too small to
/// have shells above [`K_MIN`] gets the coarsest candidate with `at_bound`.
pub fn estimate_resolution(map: &DensityMap) -> ResolutionEstimate {
    let spec = fft::forward(&apodised(map, 0.1)).radial(None);
    let (ks, ps): (Vec<f64>, Vec<f64>) = spec
        .k
        .iter()
        .zip(&spec.power)
        .zip(&spec.count)
        .filter(|((&k, &p), &n)| n > 0 && k >= K_MIN && p > 0.0)
        .map(|((&k, &p), _)| (k, p))
        .unzip();
    let four_pi2 = 4.0 * std::f64::consts::PI.powi(2);
    let w: Vec<f64> = ks.iter().map(|&k| protein_log_profile(k).exp()).collect();
    let eval = |r: f64| -> (f64, f64, f64) {
        let s2 = sigma_for_resolution(r).powi(2);
        let g: Vec<f64> = ks
            .iter()
            .zip(&w)
            .map(|(&k, &w)| w * (-four_pi2 * s2 * k * k).exp())
            .collect();
        fit_scale_noise(&g, &ps)
    };
    let steps = ((R_MAX - R_MIN) / R_STEP).round() as usize;
    let grid: Vec<f64> = (0..=steps).map(|i| R_MIN + i as f64 * R_STEP).collect();
    let costs: Vec<f64> = if ks.len() >= 3 {
        grid.iter().map(|&r| eval(r).2).collect()
    } else {
        vec![0.0; grid.len()]
    };
    let best = if ks.len() >= 3 {
        costs
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .unwrap_or(0)
    } else {
        grid.len() - 1
    };
    let at_bound = best == 0 || best == grid.len() - 1;
    let mut r = grid[best];
    if !at_bound {
        let (c0, c1, c2) = (costs[best - 1], costs[best], costs[best + 1]);
        let den = c0 - 2.0 * c1 + c2;
        if den > 0.0 {
            r += 0.5 * R_STEP * (c0 - c2) / den;
        }
    }
    let (s, n, cost) = if ks.len() >= 3 {
        eval(r)
    } else {
        (0.0, 0.0, 0.0)
    };
    let s2 = sigma_for_resolution(r).powi(2);
    let signal: Vec<f64> = ks
        .iter()
        .zip(&w)
        .map(|(&k, &w)| s * w * (-four_pi2 * s2 * k * k).exp())
        .collect();
    let k_signal = ks
        .iter()
        .zip(&signal)
        .find(|(_, &sig)| sig < n)
        .map(|(&k, _)| k)
        .unwrap_or(spec.k.last().copied().unwrap_or(0.0));
    let total: f64 = signal.iter().sum::<f64>() + n * ks.len() as f64;
    ResolutionEstimate {
        resolution: r,
        sigma: sigma_for_resolution(r),
        k_signal,
        noise_fraction: if total > 0.0 {
            n * ks.len() as f64 / total
        } else {
            0.0
        },
        fit_rms: if ks.is_empty() {
            0.0
        } else {
            (cost / ks.len() as f64).sqrt()
        },
        shells: ks.len(),
        at_bound,
    }
}
