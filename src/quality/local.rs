//! Per-residue quality of a model: local PCC (eq. 10–11) and local confidence
//! (eq. 12–13) of CR-I-TASSER. Reconstructed from the PDF text:
//!
//! ```text
//!                     Σ_y [ρ_m(y,i) − E ρ_m(i)] · [ρ′_m(y,i) − E ρ′_m(i)]
//! (10) LPCC(m,i) = ─────────────────────────────────────────────────────────────
//!                  { Σ_y [ρ_m(y,i) − E ρ_m(i)]² · Σ_y [ρ′_m(y,i) − E ρ′_m(i)]² }^½
//!
//! (11) ρ′_m(y,i) = ρ₀(y) · ρ_m(y,i) / Σ_j ρ_m(y,j)
//! ```
//!
//! ρ_m(y,i) is the eq. 2 density ([`crate::map::simulate`]) of residue i of
//! model m alone, ρ₀ the experimental map and E the mean over the voxels y.
//! Why ρ′ and not ρ₀: ρ₀(y) holds the density of every residue near y, so the
//! map is shared out among the residues in proportion to the model's own
//! per-residue densities, and residue i is compared with its share only.
//! The paper sums over "grid y" without saying which voxels; we take the
//! voxels within [`mask_radius`] (max(3 Å, R/2), the radius of the project's
//! masked PCC) of residue i's atoms, the region where ρ_m(·,i) lives — over
//! the whole grid the many zeros far from the residue would dominate the PCC.
//! A residue with fewer than two such voxels, or a constant density on them,
//! gets 0 (as [`crate::map::correlate`] does).
//!
//! ```text
//!                      eTM_m · T(m,i)
//! (12) LC(m,i) = ────────────────────────
//!                 (1/L) Σ_j T(m,j)
//!
//!                  LPCC(m,i) + 1      N_model        eTM_n
//! (13) T(m,i) = ─────────────── ·    Σ      ──────────────────────
//!                   N_model          n=1     1 + (d_i(m,n)/d0)²
//! ```
//!
//! d_i(m,n) is the distance between residue i's Cα in models m and n after
//! superposing n onto m (the TM-score superposition; d_i(m,m) = 0), d0 the
//! TM-score scale of the length L ([`d0_final`]), N_model ≤ 5 the number of
//! final models. The PDF text of eq. 12 reads T(m,i)·eTM_m / Σ_j T(m,j),
//! without the 1/L; taken literally every residue's LC would be of order
//! eTM/L. We read the denominator as the mean over residues, so that the mean
//! LC of a model is its eTM-score and residues are ranked by T — the paper's
//! "integrating eTM score and local PCC". The two readings differ by the
//! factor L only, the same for every residue of a model. Likewise in eq. 13
//! the constant 1/N_model cancels in eq. 12.

use rayon::prelude::*;

use super::etm::{check_models, EtmError};
use crate::geom::tmscore::{d0_final, tm_score_paired};
use crate::gpu::Backend;
use crate::map::correlate::mask_radius;
use crate::map::simulate::{self, SimulateError, CUTOFF_SIGMAS};
use crate::map::DensityMap;
use crate::structure::{Residue, Structure};
use crate::Vec3;

/// Why a local score could not be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LocalError {
    #[error(transparent)]
    Simulate(#[from] SimulateError),
    #[error(transparent)]
    Models(#[from] EtmError),
    #[error("{what}: expected {expected} values, got {got}")]
    Shape {
        what: &'static str,
        expected: usize,
        got: usize,
    },
}

/// Eq. 10–11: the local PCC of every residue of `model` (all chains, in chain
/// order, one value per residue) against `map`, with densities simulated at
/// `resolution` Å. The whole-model density Σ_j ρ_m(y,j) is simulated once on
/// `backend`; each residue's own density is summed on the CPU over its few voxels.
pub fn local_pcc(
    map: &DensityMap,
    model: &Structure,
    resolution: f64,
    backend: Backend,
) -> Result<Vec<f64>, LocalError> {
    let total = simulate::simulate_like(model.atoms(), resolution, map, backend)?;
    let residues: Vec<&Residue> = model.chains.iter().flat_map(|c| &c.residues).collect();
    let sigma = simulate::sigma_for_resolution(resolution);
    let g = Gauss {
        norm: 1.0 / (2.0 * std::f64::consts::PI * sigma * sigma).sqrt(),
        inv_two_sigma2: 1.0 / (2.0 * sigma * sigma),
        cutoff2: (CUTOFF_SIGMAS * sigma).powi(2),
        radius: mask_radius(resolution),
    };
    Ok(residues
        .par_iter()
        .map(|r| residue_pcc(map, &total, r, &g))
        .collect())
}

/// Eq. 2's Gaussian and the voxel radius of eq. 10.
struct Gauss {
    norm: f64,
    inv_two_sigma2: f64,
    cutoff2: f64,
    radius: f64,
}

fn residue_pcc(map: &DensityMap, total: &DensityMap, residue: &Residue, g: &Gauss) -> f64 {
    let atoms = simulate::point_masses(&residue.atoms);
    if atoms.is_empty() {
        return 0.0;
    }
    let dims = map.dims();
    let vs = map.voxel_size();
    let r2 = g.radius * g.radius;
    // Voxel box around the residue's atoms, clipped to the grid.
    let mut lo = [i64::MAX; 3];
    let mut hi = [i64::MIN; 3];
    for (p, _) in &atoms {
        let c = map.grid_coords(*p);
        for a in 0..3 {
            lo[a] = lo[a].min((c[a] - g.radius / vs[a]).ceil() as i64);
            hi[a] = hi[a].max((c[a] + g.radius / vs[a]).floor() as i64);
        }
    }
    for a in 0..3 {
        lo[a] = lo[a].max(0);
        hi[a] = hi[a].min(dims[a] as i64 - 1);
        if lo[a] > hi[a] {
            return 0.0;
        }
    }
    let [lo, hi] = [lo, hi].map(|v| v.map(|x| x as usize));
    // (ρ_m(y,i), ρ′_m(y,i)) on the residue's voxels.
    let mut pairs: Vec<(f64, f64)> = Vec::new();
    for k in lo[2]..=hi[2] {
        for j in lo[1]..=hi[1] {
            for i in lo[0]..=hi[0] {
                let y = map.voxel_position(i, j, k);
                let mut near = false;
                let mut own = 0.0;
                for (p, amp) in &atoms {
                    let d2 = (y - p).norm_squared();
                    near |= d2 <= r2;
                    if d2 < g.cutoff2 {
                        own += amp * g.norm * (-d2 * g.inv_two_sigma2).exp();
                    }
                }
                if !near {
                    continue;
                }
                let idx = map.index(i, j, k);
                let all = total.data()[idx] as f64;
                // The whole-model density is f32: never let i's share exceed 1.
                let share = if all > 0.0 { (own / all).min(1.0) } else { 0.0 };
                pairs.push((own, map.data()[idx] as f64 * share));
            }
        }
    }
    pcc(&pairs)
}

/// Pearson correlation of the pairs, two-pass; 0 when undefined.
fn pcc(pairs: &[(f64, f64)]) -> f64 {
    if pairs.len() < 2 {
        return 0.0;
    }
    let n = pairs.len() as f64;
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        let (dx, dy) = (x - mx, y - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return 0.0;
    }
    sxy / (sxx * syy).sqrt()
}

/// Eq. 12–13: local confidence LC(m,i) of every residue of every final model.
/// `models[m]` is model m's Cα trace (all models of one sequence, paired by
/// index), `lpcc[m]` its local PCC per residue (eq. 10, one per Cα), `etm[m]`
/// its eTM-score (eq. 8).
pub fn local_confidence(
    lpcc: &[Vec<f64>],
    etm: &[f64],
    models: &[Vec<Vec3>],
) -> Result<Vec<Vec<f64>>, LocalError> {
    let n_model = models.len();
    let len = check_models(models)?;
    expect_len("eTM-scores", n_model, etm.len())?;
    expect_len("local PCC models", n_model, lpcc.len())?;
    for l in lpcc {
        expect_len("local PCC residues", len, l.len())?;
    }
    let d0 = d0_final(len as f64);
    // closeness[m][n][i] = 1 / (1 + (d_i(m,n)/d0)²), model n moved onto m.
    let closeness: Vec<Vec<Vec<f64>>> = (0..n_model)
        .map(|m| {
            (0..n_model)
                .map(|n| {
                    if n == m {
                        return vec![1.0; len];
                    }
                    let t = tm_score_paired(&models[n], &models[m], len).transform;
                    models[n]
                        .iter()
                        .zip(&models[m])
                        .map(|(a, b)| 1.0 / (1.0 + ((t.apply(a) - b).norm() / d0).powi(2)))
                        .collect()
                })
                .collect()
        })
        .collect();
    Ok((0..n_model)
        .map(|m| {
            let t: Vec<f64> = (0..len)
                .map(|i| {
                    let s: f64 = (0..n_model).map(|n| etm[n] * closeness[m][n][i]).sum();
                    (lpcc[m][i] + 1.0) / n_model as f64 * s
                })
                .collect();
            let mean = t.iter().sum::<f64>() / len.max(1) as f64;
            t.iter()
                .map(|&x| if mean > 0.0 { etm[m] * x / mean } else { 0.0 })
                .collect()
        })
        .collect())
}

fn expect_len(what: &'static str, expected: usize, got: usize) -> Result<(), LocalError> {
    if expected == got {
        Ok(())
    } else {
        Err(LocalError::Shape {
            what,
            expected,
            got,
        })
    }
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
