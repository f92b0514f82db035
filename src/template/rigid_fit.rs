//! Templates fitted into the map as rigid bodies, for targets whose two Cα
//! clouds disagree (paper, "Template reselection by Cα and density map
//! matching"): "we match each of the LOMETS templates directly with the
//! density maps using the BFGS algorithm followed by a short Metropolis Monte
//! Carlo simulation under the guidance of template-density correlation, with
//! movements including 2,000 rigid-body translations/rotations. The top 40
//! templates are then selected based on the correlation coefficients."
//!
//! Search score. The overlap Σ_y ρ_model(y)·ρ_map(y) of eq. 6, with ρ_model
//! the eq. 2 sum of Gaussians (σ = R/(√2·π)) on the template's Cα atoms, equals
//! Σ_i (G_σ ∗ ρ_map)(x_i): the map blurred once by the same Gaussian, read at
//! the atoms. Under a rigid move the model's own norm and mass do not change
//! (while it stays in the box), so maximising that sum maximises the
//! model-map covariance, i.e. the PCC over the grid. The blurred map (padded
//! with the map mean so the periodic FFT does not wrap, and so an atom that
//! leaves the box scores like background) is z-normalised, and the score is
//! the mean z at the atoms: scale-free, smooth, with an analytic gradient from
//! trilinear interpolation, and O(atoms) per evaluation. Two blurs are kept: a
//! coarse one ([`FitOptions::coarse_resolution`], default 10 Å) whose wide
//! basins the global search needs, and one at the map's resolution for the
//! refinement and the Monte Carlo.
//!
//! Ranking uses the true score: the PCC of the eq. 2 density of the fitted Cα
//! atoms (carbon amplitude) with the map, within
//! [`crate::map::correlate::mask_radius`] of the atoms ([`ca_density_pcc`]).
//!
//! Search. Each template is centred on the map's density centroid and on the
//! [`FitOptions::peaks`] highest peaks of the map blurred at σ = 8 Å (a map of
//! several subunits has its centroid between them), in each of
//! [`FitOptions::rotations`] quasi-uniform orientations (a super-Fibonacci
//! spiral of unit quaternions, Alexa 2022), plus its pose as given; BFGS
//! (hand-written, Armijo backtracking; parameters: rotation vector scaled by
//! the template's radius of gyration so that both halves are in Å, and the
//! translation in Å) runs from each on the coarse score; the best few are
//! refined on the fine score; then a Metropolis Monte Carlo of
//! [`FitOptions::mc_moves`] (2,000) small random rotations/translations runs
//! from the best. Its temperature starts where 100 trial moves from the
//! minimum (not applied) would be accepted at [`FitOptions::mc_acceptance`]
//! (40 %), and every 50 moves it is multiplied by exp(2·(target − rate)) so
//! that the run stays near that rate: the score's scale depends on the map,
//! and once the walk leaves the minimum, moves are no longer all uphill, so a
//! temperature fixed at the start drifts to a near-random walk (96 % accepted
//! on the EMD-2566 test). The best pose seen is polished by BFGS. The
//! RNG is ChaCha8 seeded from [`FitOptions::seed`], so the fit is deterministic.

use nalgebra::{Matrix3, Quaternion, Rotation3, UnitQuaternion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::{Source, TemplateModel};
use crate::geom::kabsch::Transform;
use crate::gpu::Backend;
use crate::map::correlate::{self, VoxelMask};
use crate::map::density::MapError;
use crate::map::{fft, simulate, DensityMap};
use crate::Vec3;

/// Knobs of the search; the defaults follow the paper where it says anything.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Starting orientations of the global search.
    pub rotations: usize,
    /// Starting centres besides the density centroid: the highest peaks of
    /// the map blurred by [`FitOptions::peak_sigma`], at least 2σ apart.
    pub peaks: usize,
    /// σ (Å) of the blur whose peaks are the extra starting centres.
    pub peak_sigma: f64,
    /// Resolution (Å) of the coarse blur the global search runs on; the map's
    /// own resolution is used when it is coarser.
    pub coarse_resolution: f64,
    /// How many of the best coarse minima are refined at the map's resolution.
    pub refine_top: usize,
    /// Most BFGS iterations per run.
    pub bfgs_iterations: usize,
    /// Metropolis Monte Carlo moves (the paper's 2,000).
    pub mc_moves: usize,
    /// Target fraction of accepted moves; sets the temperature.
    pub mc_acceptance: f64,
    /// Standard deviation of a move's translation along each axis, Å.
    pub mc_step_translation: f64,
    /// Standard deviation of a move's rotation angle, degrees.
    pub mc_step_rotation_deg: f64,
    pub seed: u64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            rotations: 48,
            peaks: 6,
            peak_sigma: 8.0,
            coarse_resolution: 10.0,
            refine_top: 4,
            bfgs_iterations: 200,
            mc_moves: 2000,
            mc_acceptance: 0.4,
            mc_step_translation: 0.5,
            mc_step_rotation_deg: 3.0,
            seed: 1,
        }
    }
}

/// Why a fit could not start.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("resolution must be a positive number of Å, got {0}")]
    BadResolution(f64),
    #[error("coarse resolution must be a positive number of Å, got {0}")]
    BadCoarseResolution(f64),
    #[error("peak blur σ must be a positive number of Å, got {0}")]
    BadPeakSigma(f64),
    #[error(transparent)]
    Map(#[from] MapError),
}

/// Where the fit put a template and how well it sits there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RigidFit {
    /// Moves the template's input Cα atoms to their fitted positions.
    pub transform: Transform,
    /// Mean z-score of the map blurred at its resolution, at the fitted atoms.
    pub score: f64,
    /// [`ca_density_pcc`] at the fitted position.
    pub pcc: f64,
    /// Monte Carlo temperature (score units) and fraction of moves accepted.
    pub mc_temperature: f64,
    pub mc_accepted: f64,
}

/// A map prepared for fitting (its two blurs and its density centroid); build
/// once and fit many templates.
pub struct FitTarget<'a> {
    map: &'a DensityMap,
    resolution: f64,
    coarse: Field,
    fine: Field,
    centres: Vec<Vec3>,
}

impl<'a> FitTarget<'a> {
    pub fn new(
        map: &'a DensityMap,
        resolution: f64,
        opts: &FitOptions,
    ) -> Result<FitTarget<'a>, FitError> {
        if !(resolution.is_finite() && resolution > 0.0) {
            return Err(FitError::BadResolution(resolution));
        }
        let c = opts.coarse_resolution;
        if !(c.is_finite() && c > 0.0) {
            return Err(FitError::BadCoarseResolution(c));
        }
        let coarse = Field::blurred(map, resolution.max(c))?;
        let fine = Field::blurred(map, resolution)?;
        let mut centres = vec![density_centroid(map)];
        if opts.peaks > 0 {
            let ps = opts.peak_sigma;
            if !(ps.is_finite() && ps > 0.0) {
                return Err(FitError::BadPeakSigma(ps));
            }
            centres.extend(density_peaks(map, ps, opts.peaks)?);
        }
        Ok(FitTarget {
            map,
            resolution,
            coarse,
            fine,
            centres,
        })
    }

    /// Fits Cα positions `ca` (at least one) into the map.
    pub fn fit(&self, ca: &[Vec3], opts: &FitOptions) -> RigidFit {
        assert!(!ca.is_empty(), "fit: no atoms");
        let n = ca.len() as f64;
        let c = ca.iter().sum::<Vec3>() / n;
        let local: Vec<Vec3> = ca.iter().map(|p| p - c).collect();
        let rg = (local.iter().map(|p| p.norm_squared()).sum::<f64>() / n)
            .sqrt()
            .max(1.0);
        let coarse = Objective {
            field: &self.coarse,
            local: &local,
            rg,
        };
        let fine = Objective {
            field: &self.fine,
            local: &local,
            rg,
        };

        let rotations = super_fibonacci(opts.rotations);
        let mut starts: Vec<Pose> = self
            .centres
            .iter()
            .flat_map(|&centre| rotations.iter().map(move |&rot| Pose { rot, centre }))
            .collect();
        starts.push(Pose {
            rot: Matrix3::identity(),
            centre: c,
        });
        let mut minima: Vec<(f64, Pose)> = starts
            .par_iter()
            .map(|p| bfgs(&coarse, *p, opts.bfgs_iterations))
            .collect();
        minima.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (mut best_f, mut best) = minima
            .iter()
            .take(opts.refine_top.max(1))
            .collect::<Vec<_>>()
            .par_iter()
            .map(|(_, p)| bfgs(&fine, *p, opts.bfgs_iterations))
            .collect::<Vec<_>>()
            .into_iter()
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .expect("at least one start");

        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        let mc = metropolis(&fine, best, opts, &mut rng);
        if mc.best_f < best_f {
            (best_f, best) = bfgs(&fine, mc.best, opts.bfgs_iterations);
        }
        let transform = best.transform(c);
        let fitted: Vec<Vec3> = ca.iter().map(|p| transform.apply(p)).collect();
        RigidFit {
            transform,
            score: -best_f,
            pcc: ca_density_pcc(self.map, &fitted, self.resolution),
            mc_temperature: mc.temperature,
            mc_accepted: mc.accepted,
        }
    }

    /// [`fit`](Self::fit) on a template model: a copy moved into the map,
    /// source Fitted, density_pcc set. A model without Cα atoms comes back
    /// unmoved with no PCC.
    pub fn fit_model(&self, model: &TemplateModel, opts: &FitOptions) -> TemplateModel {
        let mut out = model.clone();
        out.source = Source::Fitted;
        let ca = model.aligned_ca();
        if ca.is_empty() {
            out.density_pcc = None;
            return out;
        }
        let fit = self.fit(&ca, opts);
        out.transform(&fit.transform);
        out.density_pcc = Some(fit.pcc);
        out
    }
}

/// One template fitted into `map` (resolution in Å).
pub fn fit_rigid(
    model: &TemplateModel,
    map: &DensityMap,
    resolution: f64,
    opts: &FitOptions,
) -> Result<TemplateModel, FitError> {
    Ok(FitTarget::new(map, resolution, opts)?.fit_model(model, opts))
}

/// Every template fitted into `map`, the `keep` best by PCC (paper: 40), best first.
pub fn fit_all(
    models: &[TemplateModel],
    map: &DensityMap,
    resolution: f64,
    keep: usize,
    opts: &FitOptions,
) -> Result<Vec<TemplateModel>, FitError> {
    let target = FitTarget::new(map, resolution, opts)?;
    let mut fitted: Vec<TemplateModel> = models
        .par_iter()
        .map(|m| target.fit_model(m, opts))
        .collect();
    fitted.sort_by(|a, b| {
        let key = |m: &TemplateModel| m.density_pcc.unwrap_or(f64::NEG_INFINITY);
        key(b).total_cmp(&key(a))
    });
    fitted.truncate(keep);
    Ok(fitted)
}

/// PCC of the eq. 2 density of Cα atoms (carbon amplitude) at `resolution`
/// with `map`, over the voxels within `mask_radius(resolution)` of an atom.
/// 0 when no such voxel lies in the map.
pub fn ca_density_pcc(map: &DensityMap, ca: &[Vec3], resolution: f64) -> f64 {
    if ca.is_empty() {
        return 0.0;
    }
    let r = correlate::mask_radius(resolution);
    let (map_lo, map_hi) = map.bounds();
    let mut lo = Vec3::repeat(f64::INFINITY);
    let mut hi = Vec3::repeat(f64::NEG_INFINITY);
    for p in ca {
        lo = lo.inf(p);
        hi = hi.sup(p);
    }
    let lo = (lo - Vec3::repeat(r)).sup(&map_lo);
    let hi = (hi + Vec3::repeat(r)).inf(&map_hi);
    if (0..3).any(|a| lo[a] > hi[a]) {
        return 0.0;
    }
    // Only voxels near the atoms count, so the box around them is enough.
    let Ok(sub) = map.crop_to_box(lo, hi, 0.0) else {
        return 0.0;
    };
    let points: Vec<(Vec3, f64)> = ca.iter().map(|p| (*p, 6.0)).collect();
    let Ok(sim) = simulate::simulate_points_like(&points, resolution, &sub, Backend::Cpu) else {
        return 0.0;
    };
    let mask = VoxelMask::around_points(&sub, ca, r);
    correlate::correlate(&sub, &sim, Some(&mask), Backend::Cpu)
        .map(|c| c.pcc_masked)
        .unwrap_or(0.0)
}

/// Weighted centroid of the voxels above mean + 1σ (the geometric centre of a
/// featureless map).
fn density_centroid(map: &DensityMap) -> Vec3 {
    let s = map.stats();
    let thr = s.mean + s.std;
    let [nx, ny, _] = map.dims();
    let (mut sum, mut w) = (Vec3::zeros(), 0.0);
    for (idx, &v) in map.data().iter().enumerate() {
        let v = v as f64;
        if v > thr {
            let (i, j, k) = (idx % nx, (idx / nx) % ny, idx / (nx * ny));
            sum += map.voxel_position(i, j, k) * (v - thr);
            w += v - thr;
        }
    }
    if w > 0.0 {
        sum / w
    } else {
        let (lo, hi) = map.bounds();
        (lo + hi) / 2.0
    }
}

/// Up to `n` local maxima of `map` blurred by σ = `sigma` Å, highest first,
/// each at least 2σ from those before it: where a template-sized blob of
/// density sits when the map holds several (a filament, a complex).
fn density_peaks(map: &DensityMap, sigma: f64, n: usize) -> Result<Vec<Vec3>, MapError> {
    let mean = map.stats().mean as f32;
    let padded = map.pad(3.0 * sigma, mean)?;
    let b = fft::gaussian_blur(&padded, sigma);
    let [nx, ny, nz] = b.dims();
    let (lo, hi) = map.bounds();
    let d = b.data();
    let mut maxima: Vec<(f32, Vec3)> = Vec::new();
    for k in 1..nz.saturating_sub(1) {
        for j in 1..ny.saturating_sub(1) {
            for i in 1..nx.saturating_sub(1) {
                let v = d[i + nx * (j + ny * k)];
                let p = b.voxel_position(i, j, k);
                if (0..3).any(|a| p[a] < lo[a] || p[a] > hi[a]) {
                    continue;
                }
                let is_max = (0..27).all(|o| {
                    let (di, dj, dk) = (o % 3, (o / 3) % 3, o / 9);
                    d[(i + di - 1) + nx * ((j + dj - 1) + ny * (k + dk - 1))] <= v
                });
                if is_max {
                    maxima.push((v, p));
                }
            }
        }
    }
    maxima.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<Vec3> = Vec::new();
    for (_, p) in maxima {
        if out.len() == n {
            break;
        }
        if out.iter().all(|q| (p - q).norm() >= 2.0 * sigma) {
            out.push(p);
        }
    }
    Ok(out)
}

/// The map blurred by eq. 2's Gaussian and z-normalised, with trilinear
/// value and gradient in Å.
struct Field {
    dims: [usize; 3],
    inv_voxel: [f64; 3],
    origin: Vec3,
    data: Vec<f32>,
}

impl Field {
    fn blurred(map: &DensityMap, resolution: f64) -> Result<Field, MapError> {
        let sigma = simulate::sigma_for_resolution(resolution);
        let mean = map.stats().mean as f32;
        // 3σ of mean-valued padding: the blur does not wrap around the box.
        let padded = map.pad(3.0 * sigma + map.voxel_size()[0], mean)?;
        let blurred = fft::gaussian_blur(&padded, sigma);
        let s = blurred.stats();
        let scale = if s.std > 0.0 { 1.0 / s.std } else { 1.0 };
        let vs = blurred.voxel_size();
        Ok(Field {
            dims: blurred.dims(),
            inv_voxel: vs.map(|v| 1.0 / v),
            origin: blurred.origin(),
            data: blurred
                .data()
                .iter()
                .map(|&v| ((v as f64 - s.mean) * scale) as f32)
                .collect(),
        })
    }

    /// Value and gradient at `p` (Å). Outside the grid the value is that of
    /// the nearest border point and the gradient across the border is zero.
    fn value_grad(&self, p: &Vec3) -> (f64, Vec3) {
        let mut base = [0usize; 3];
        let mut f = [0f64; 3];
        let mut live = [true; 3];
        for a in 0..3 {
            let n = self.dims[a];
            let g = (p[a] - self.origin[a]) * self.inv_voxel[a];
            let top = (n - 1) as f64;
            let gc = g.clamp(0.0, top);
            live[a] = g == gc && n > 1;
            let b = (gc.floor() as usize).min(n.saturating_sub(2));
            base[a] = b;
            f[a] = (gc - b as f64).min(1.0);
        }
        let [nx, ny, _] = self.dims;
        let step = |a: usize| usize::from(self.dims[a] > 1);
        let i0 = base[0] + nx * (base[1] + ny * base[2]);
        let (sx, sy, sz) = (step(0), nx * step(1), nx * ny * step(2));
        let v = |o: usize| self.data[i0 + o] as f64;
        let (c000, c100, c010, c110) = (v(0), v(sx), v(sy), v(sx + sy));
        let (c001, c101, c011, c111) = (v(sz), v(sx + sz), v(sy + sz), v(sx + sy + sz));
        let [fx, fy, fz] = f;
        // Along x, then y, then z; the partial derivatives follow the same tree.
        let c00 = c000 + fx * (c100 - c000);
        let c10 = c010 + fx * (c110 - c010);
        let c01 = c001 + fx * (c101 - c001);
        let c11 = c011 + fx * (c111 - c011);
        let c0 = c00 + fy * (c10 - c00);
        let c1 = c01 + fy * (c11 - c01);
        let value = c0 + fz * (c1 - c0);
        let dx0 = (c100 - c000) + fy * ((c110 - c010) - (c100 - c000));
        let dx1 = (c101 - c001) + fy * ((c111 - c011) - (c101 - c001));
        let dx = dx0 + fz * (dx1 - dx0);
        let dy = (c10 - c00) + fz * ((c11 - c01) - (c10 - c00));
        let dz = c1 - c0;
        let g = Vec3::new(
            if live[0] { dx * self.inv_voxel[0] } else { 0.0 },
            if live[1] { dy * self.inv_voxel[1] } else { 0.0 },
            if live[2] { dz * self.inv_voxel[2] } else { 0.0 },
        );
        (value, g)
    }
}

/// A rigid placement: x ↦ rot·(x − c) + centre for the template centroid c.
#[derive(Debug, Clone, Copy)]
struct Pose {
    rot: Matrix3<f64>,
    centre: Vec3,
}

impl Pose {
    fn transform(&self, c: Vec3) -> Transform {
        Transform {
            rotation: self.rot,
            translation: self.centre - self.rot * c,
        }
    }

    /// The pose moved by local parameters [rotation vector · rg, translation].
    fn moved(&self, x: &[f64; 6], rg: f64) -> Pose {
        let w = Vec3::new(x[0], x[1], x[2]) / rg;
        Pose {
            rot: Rotation3::new(w).into_inner() * self.rot,
            centre: self.centre + Vec3::new(x[3], x[4], x[5]),
        }
    }
}

/// Minus the mean field value at the template's atoms under a pose.
struct Objective<'a> {
    field: &'a Field,
    /// Template Cα atoms relative to their centroid.
    local: &'a [Vec3],
    rg: f64,
}

impl Objective<'_> {
    fn value(&self, pose: &Pose) -> f64 {
        let s: f64 = self
            .local
            .iter()
            .map(|p| self.field.value_grad(&(pose.rot * p + pose.centre)).0)
            .sum();
        -s / self.local.len() as f64
    }

    /// Value and gradient in the local parameters of [`Pose::moved`] at `x`.
    fn value_grad(&self, base: &Pose, x: &[f64; 6]) -> (f64, [f64; 6]) {
        let w = Vec3::new(x[0], x[1], x[2]) / self.rg;
        let r = Rotation3::new(w).into_inner();
        let rot = r * base.rot;
        let centre = base.centre + Vec3::new(x[3], x[4], x[5]);
        let (mut s, mut gt, mut m) = (0.0, Vec3::zeros(), Vec3::zeros());
        for p in self.local {
            let u = rot * p;
            let (v, g) = self.field.value_grad(&(u + centre));
            s += v;
            gt += g;
            m += u.cross(&g);
        }
        // d(R(w)u)/dw_i (Gallego & Yezzi 2015): g·that = [w_i (w·M) + (w × (I−R)e_i)·M]/|w|²
        // with M = Σ u × g; at w = 0 it is M_i.
        let theta2 = w.norm_squared();
        let gw = if theta2 < 1e-16 {
            m
        } else {
            let ir = Matrix3::identity() - r;
            Vec3::from_fn(|i, _| {
                let wi = w.cross(&ir.column(i).into_owned());
                (w[i] * w.dot(&m) + wi.dot(&m)) / theta2
            })
        };
        let k = -1.0 / self.local.len() as f64;
        let gw = gw * (k / self.rg);
        let gt = gt * k;
        (s * k, [gw.x, gw.y, gw.z, gt.x, gt.y, gt.z])
    }
}

fn dot6(a: &[f64; 6], b: &[f64; 6]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// BFGS from `start` with an Armijo backtracking line search; steps are
/// capped at 2 Å (in the rg-scaled parameters) so one step cannot jump basins.
fn bfgs(obj: &Objective, start: Pose, max_iter: usize) -> (f64, Pose) {
    const MAX_STEP: f64 = 2.0;
    let mut x = [0f64; 6];
    let (mut f, mut g) = obj.value_grad(&start, &x);
    let mut h = [[0f64; 6]; 6];
    for (i, row) in h.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for iter in 0..max_iter {
        let gnorm = dot6(&g, &g).sqrt();
        if gnorm < 1e-7 {
            break;
        }
        let mut d: [f64; 6] = std::array::from_fn(|i| -dot6(&h[i], &g));
        if dot6(&d, &g) >= 0.0 {
            // Not a descent direction (curvature noise of the piecewise-linear
            // gradient): restart from steepest descent.
            d = g.map(|v| -v);
            h = [[0f64; 6]; 6];
            for (i, row) in h.iter_mut().enumerate() {
                row[i] = 1.0;
            }
        }
        let dn = dot6(&d, &d).sqrt();
        let mut alpha = if dn > MAX_STEP { MAX_STEP / dn } else { 1.0 };
        let slope = dot6(&d, &g);
        let mut accepted = None;
        for _ in 0..30 {
            let xn: [f64; 6] = std::array::from_fn(|i| x[i] + alpha * d[i]);
            let (fnew, gnew) = obj.value_grad(&start, &xn);
            if fnew <= f + 1e-4 * alpha * slope {
                accepted = Some((xn, fnew, gnew));
                break;
            }
            alpha *= 0.5;
        }
        let Some((xn, fnew, gnew)) = accepted else {
            break;
        };
        let s: [f64; 6] = std::array::from_fn(|i| xn[i] - x[i]);
        let y: [f64; 6] = std::array::from_fn(|i| gnew[i] - g[i]);
        let sy = dot6(&s, &y);
        let done = f - fnew < 1e-10 * (1.0 + f.abs());
        (x, f, g) = (xn, fnew, gnew);
        if done {
            break;
        }
        if sy > 1e-12 {
            if iter == 0 {
                // Shanno-Phua scaling of the first inverse Hessian.
                let scale = sy / dot6(&y, &y);
                for (i, row) in h.iter_mut().enumerate() {
                    *row = [0.0; 6];
                    row[i] = scale;
                }
            }
            let rho = 1.0 / sy;
            let hy: [f64; 6] = std::array::from_fn(|i| dot6(&h[i], &y));
            let yhy = dot6(&y, &hy);
            for i in 0..6 {
                for j in 0..6 {
                    h[i][j] += -rho * (hy[i] * s[j] + s[i] * hy[j])
                        + (rho * rho * yhy + rho) * s[i] * s[j];
                }
            }
        }
    }
    (f, start.moved(&x, obj.rg))
}

struct McResult {
    best: Pose,
    best_f: f64,
    temperature: f64,
    accepted: f64,
}

fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A random rigid move: rotation about the template centroid by a normal
/// angle about a uniform axis, and a normal translation.
fn random_move(pose: &Pose, opts: &FitOptions, rng: &mut ChaCha8Rng) -> Pose {
    let axis = loop {
        let v = Vec3::new(gaussian(rng), gaussian(rng), gaussian(rng));
        if v.norm() > 1e-9 {
            break v.normalize();
        }
    };
    let angle = gaussian(rng) * opts.mc_step_rotation_deg.to_radians();
    let t = Vec3::new(gaussian(rng), gaussian(rng), gaussian(rng)) * opts.mc_step_translation;
    Pose {
        rot: Rotation3::new(axis * angle).into_inner() * pose.rot,
        centre: pose.centre + t,
    }
}

/// Temperature at which the mean Metropolis acceptance of the score changes
/// `deltas` equals `target` (bisection on log T).
fn temperature_for(deltas: &[f64], target: f64) -> f64 {
    let rate =
        |t: f64| deltas.iter().map(|&d| (-d / t).exp().min(1.0)).sum::<f64>() / deltas.len() as f64;
    let (mut lo, mut hi) = (1e-9f64.ln(), 1e3f64.ln());
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if rate(mid.exp()) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// Moves between temperature adjustments of the Monte Carlo.
const MC_WINDOW: usize = 50;

fn metropolis(obj: &Objective, start: Pose, opts: &FitOptions, rng: &mut ChaCha8Rng) -> McResult {
    let f0 = obj.value(&start);
    let deltas: Vec<f64> = (0..100)
        .map(|_| obj.value(&random_move(&start, opts, rng)) - f0)
        .collect();
    let target = opts.mc_acceptance.clamp(0.01, 0.99);
    let mut temperature = temperature_for(&deltas, target);
    let (mut cur, mut f) = (start, f0);
    let (mut best, mut best_f) = (start, f0);
    let (mut accepted, mut window) = (0usize, 0usize);
    for k in 1..=opts.mc_moves {
        let trial = random_move(&cur, opts, rng);
        let ft = obj.value(&trial);
        if ft <= f || rng.random::<f64>() < (-(ft - f) / temperature).exp() {
            (cur, f) = (trial, ft);
            accepted += 1;
            window += 1;
            if f < best_f {
                (best, best_f) = (cur, f);
            }
        }
        if k % MC_WINDOW == 0 {
            let rate = window as f64 / MC_WINDOW as f64;
            temperature *= (2.0 * (target - rate)).exp();
            window = 0;
        }
    }
    McResult {
        best,
        best_f,
        temperature,
        accepted: accepted as f64 / opts.mc_moves.max(1) as f64,
    }
}

/// `n` rotations spread uniformly over SO(3): the super-Fibonacci spiral of
/// unit quaternions (Alexa, CVPR 2022).
fn super_fibonacci(n: usize) -> Vec<Matrix3<f64>> {
    const PHI: f64 = std::f64::consts::SQRT_2;
    const PSI: f64 = 1.533_751_168_755_204_3;
    let tau = 2.0 * std::f64::consts::PI;
    (0..n)
        .map(|i| {
            let s = i as f64 + 0.5;
            let r = (s / n as f64).sqrt();
            let big_r = (1.0 - s / n as f64).sqrt();
            let (a, b) = (tau * s / PHI, tau * s / PSI);
            let q = Quaternion::new(big_r * b.cos(), r * a.sin(), r * a.cos(), big_r * b.sin());
            UnitQuaternion::from_quaternion(q)
                .to_rotation_matrix()
                .into_inner()
        })
        .collect()
}

#[cfg(test)]
#[path = "rigid_fit_tests.rs"]
mod tests;
