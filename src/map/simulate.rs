//! Density of a model at a resolution, CR-I-TASSER eq. 2:
//!
//! ρ(y) = Σᵢ Aᵢ / √(2πσ²) · exp(−|y − xᵢ|² / 2σ²),  σ = R / (√2·π)
//!
//! with Aᵢ the atomic number of atom i and R the resolution in Å (σ ≈ 0.225 R,
//! the same factor as Chimera's `molmap`). Each Gaussian is cut off at
//! [`CUTOFF_SIGMAS`]·σ, where it has fallen to exp(−8) ≈ 3·10⁻⁴ of its peak, so
//! the work is proportional to the atom–voxel pairs within the cutoff.
//!
//! Both paths use the same cell list (atoms sorted into cells at least one
//! cutoff wide) and let each voxel gather from the 3×3×3 cells around it: the
//! GPU kernel (`shaders/density.wgsl`, f32) needs no atomics that way, and the
//! CPU twin (rayon over z planes, f64 sums) is the same algorithm.

use rayon::prelude::*;

use super::DensityMap;
use crate::gpu::{self, Backend, GpuContext};
use crate::structure::Atom;
use crate::Vec3;

/// Gaussians are truncated at this many σ.
pub const CUTOFF_SIGMAS: f64 = 4.0;

/// Largest cell list we build; very small cutoffs on big grids get wider cells.
const MAX_CELLS: usize = 1 << 24;

/// Why a density could not be simulated.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SimulateError {
    #[error("resolution must be a positive number of Å, got {0}")]
    BadResolution(f64),
    #[error("voxel size must be a positive number of Å, got {0}")]
    BadVoxel(f64),
    #[error("margin must be a non-negative number of Å, got {0}")]
    BadMargin(f64),
    #[error("the model has no atoms")]
    NoAtoms,
    #[error("grid {0:?} is too large: {1}")]
    GridTooLarge([usize; 3], String),
}

/// σ of eq. 2 for a resolution R in Å: R / (√2·π).
pub fn sigma_for_resolution(resolution: f64) -> f64 {
    resolution / (std::f64::consts::SQRT_2 * std::f64::consts::PI)
}

/// Radius in Å beyond which an atom adds nothing to the simulated map.
pub fn cutoff_radius(resolution: f64) -> f64 {
    CUTOFF_SIGMAS * sigma_for_resolution(resolution)
}

/// Position and atomic number of each atom, the inputs of eq. 2.
pub fn point_masses<'a>(atoms: impl IntoIterator<Item = &'a Atom>) -> Vec<(Vec3, f64)> {
    atoms
        .into_iter()
        .map(|a| (a.pos, a.atomic_number() as f64))
        .collect()
}

/// Simulated density of `atoms` on the grid of `template` (same dims, voxel size
/// and origin; its values are ignored).
pub fn simulate_like<'a>(
    atoms: impl IntoIterator<Item = &'a Atom>,
    resolution: f64,
    template: &DensityMap,
    backend: Backend,
) -> Result<DensityMap, SimulateError> {
    simulate_points_like(&point_masses(atoms), resolution, template, backend)
}

/// Simulated density of `atoms` on a new cubic-voxel grid that covers the model
/// plus `margin` Å on every side.
pub fn simulate_box<'a>(
    atoms: impl IntoIterator<Item = &'a Atom>,
    resolution: f64,
    voxel: f64,
    margin: f64,
    backend: Backend,
) -> Result<DensityMap, SimulateError> {
    let points = point_masses(atoms);
    let template = box_around(&points, voxel, margin)?;
    simulate_points_like(&points, resolution, &template, backend)
}

/// A zero map with cubic voxels covering `points` plus `margin` Å on every side.
pub fn box_around(
    points: &[(Vec3, f64)],
    voxel: f64,
    margin: f64,
) -> Result<DensityMap, SimulateError> {
    if !(voxel.is_finite() && voxel > 0.0) {
        return Err(SimulateError::BadVoxel(voxel));
    }
    if !(margin.is_finite() && margin >= 0.0) {
        return Err(SimulateError::BadMargin(margin));
    }
    if points.is_empty() {
        return Err(SimulateError::NoAtoms);
    }
    let mut lo = Vec3::repeat(f64::INFINITY);
    let mut hi = Vec3::repeat(f64::NEG_INFINITY);
    for (p, _) in points {
        lo = lo.inf(p);
        hi = hi.sup(p);
    }
    let origin = lo - Vec3::repeat(margin);
    let span = hi - lo + Vec3::repeat(2.0 * margin);
    let dims = [0, 1, 2].map(|a| (span[a] / voxel).ceil() as usize + 1);
    let n = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if n.is_none_or(|n| n > 1 << 31) {
        return Err(SimulateError::GridTooLarge(
            dims,
            "more than 2³¹ voxels; use a coarser voxel".into(),
        ));
    }
    DensityMap::zeros(dims, [voxel; 3], origin)
        .map_err(|e| SimulateError::GridTooLarge(dims, e.to_string()))
}

/// Eq. 2 for explicit (position, amplitude Aᵢ) pairs, e.g. Cα-only models.
pub fn simulate_points_like(
    points: &[(Vec3, f64)],
    resolution: f64,
    template: &DensityMap,
    backend: Backend,
) -> Result<DensityMap, SimulateError> {
    if !(resolution.is_finite() && resolution > 0.0) {
        return Err(SimulateError::BadResolution(resolution));
    }
    let cells = CellList::new(points, resolution, template);
    let data = match backend {
        Backend::Cpu => simulate_cpu(&cells, template),
        Backend::Gpu(ctx) => simulate_gpu(
            ctx,
            &cells,
            template,
            (ctx.max_binding_bytes() / 4) as usize,
        )?,
    };
    Ok(DensityMap::new(
        template.dims(),
        template.voxel_size(),
        template.origin(),
        data,
    )
    .expect("same dims as the template"))
}

/// Number of (atom, voxel) pairs closer than the cutoff on `map`'s grid: the
/// Gaussian evaluations eq. 2 needs (the unit of the density benchmark).
pub fn pairs_within_cutoff(points: &[(Vec3, f64)], resolution: f64, map: &DensityMap) -> u64 {
    CellList::new(points, resolution, map).pairs_within_cutoff(map)
}

/// Atoms sorted into a uniform grid of cells, positions relative to the map origin.
struct CellList {
    /// Corner of cell (0, 0, 0) relative to the map origin, in Å.
    origin: [f64; 3],
    /// Cell width in Å, at least the cutoff radius.
    width: f64,
    n: [usize; 3],
    /// Atoms of cell c are `atoms[start[c]..start[c + 1]]`.
    start: Vec<u32>,
    /// x, y, z relative to the map origin and amplitude Aᵢ/√(2πσ²), in the f32
    /// the GPU sees, so that both paths start from identical inputs.
    atoms: Vec<[f32; 4]>,
    inv_two_sigma2: f64,
    cutoff2: f64,
}

impl CellList {
    fn new(points: &[(Vec3, f64)], resolution: f64, map: &DensityMap) -> Self {
        let sigma = sigma_for_resolution(resolution);
        let cutoff = CUTOFF_SIGMAS * sigma;
        let norm = 1.0 / (2.0 * std::f64::consts::PI * sigma * sigma).sqrt();
        let dims = map.dims();
        let vs = map.voxel_size();
        let extent = [0, 1, 2].map(|a| (dims[a] - 1) as f64 * vs[a] + 2.0 * cutoff);
        let mut width = cutoff;
        let mut n;
        loop {
            n = extent.map(|e| (e / width).floor() as usize + 1);
            if n[0].saturating_mul(n[1]).saturating_mul(n[2]) <= MAX_CELLS {
                break;
            }
            width *= 1.5;
        }
        let origin = [-cutoff; 3];
        let map_origin = map.origin();
        // Cell of each atom, or None when it is farther than the cutoff from the grid.
        let cell_of = |p: &Vec3| -> Option<usize> {
            let rel = p - map_origin;
            let mut c = [0usize; 3];
            for a in 0..3 {
                let f = ((rel[a] - origin[a]) / width).floor();
                if !(f >= 0.0 && f < n[a] as f64) {
                    return None;
                }
                c[a] = f as usize;
            }
            Some(c[0] + n[0] * (c[1] + n[1] * c[2]))
        };
        let ncell = n[0] * n[1] * n[2];
        let mut count = vec![0u32; ncell + 1];
        let owner: Vec<Option<usize>> = points.iter().map(|(p, _)| cell_of(p)).collect();
        for c in owner.iter().flatten() {
            count[c + 1] += 1;
        }
        for c in 0..ncell {
            count[c + 1] += count[c];
        }
        let start = count.clone();
        let mut fill = count;
        let mut atoms = vec![[0f32; 4]; start[ncell] as usize];
        for ((p, amp), c) in points.iter().zip(&owner) {
            if let Some(c) = c {
                let rel = p - map_origin;
                atoms[fill[*c] as usize] = [
                    rel.x as f32,
                    rel.y as f32,
                    rel.z as f32,
                    (amp * norm) as f32,
                ];
                fill[*c] += 1;
            }
        }
        CellList {
            origin,
            width,
            n,
            start,
            atoms,
            inv_two_sigma2: 1.0 / (2.0 * sigma * sigma),
            cutoff2: cutoff * cutoff,
        }
    }

    fn pairs_within_cutoff(&self, map: &DensityMap) -> u64 {
        let vs = map.voxel_size();
        let dims = map.dims();
        self.atoms
            .par_iter()
            .map(|a| {
                let r = self.cutoff2.sqrt();
                let mut lo = [0i64; 3];
                let mut hi = [0i64; 3];
                for ax in 0..3 {
                    let c = a[ax] as f64;
                    lo[ax] = (((c - r) / vs[ax]).ceil() as i64).max(0);
                    hi[ax] = (((c + r) / vs[ax]).floor() as i64).min(dims[ax] as i64 - 1);
                }
                let mut n = 0u64;
                for k in lo[2]..=hi[2] {
                    for j in lo[1]..=hi[1] {
                        for i in lo[0]..=hi[0] {
                            let d = [
                                i as f64 * vs[0] - a[0] as f64,
                                j as f64 * vs[1] - a[1] as f64,
                                k as f64 * vs[2] - a[2] as f64,
                            ];
                            if d[0] * d[0] + d[1] * d[1] + d[2] * d[2] < self.cutoff2 {
                                n += 1;
                            }
                        }
                    }
                }
                n
            })
            .sum()
    }
}

/// The CPU twin of `density.wgsl`: the same gather, one rayon task per z plane.
fn simulate_cpu(cells: &CellList, map: &DensityMap) -> Vec<f32> {
    let [nx, ny, nz] = map.dims();
    let vs = map.voxel_size();
    let n = cells.n;
    let mut out = vec![0f32; nx * ny * nz];
    out.par_chunks_mut(nx * ny)
        .enumerate()
        .for_each(|(k, plane)| {
            let z = k as f64 * vs[2];
            let cz = cell_index(z, cells.origin[2], cells.width, n[2]);
            for j in 0..ny {
                let y = j as f64 * vs[1];
                let cy = cell_index(y, cells.origin[1], cells.width, n[1]);
                for i in 0..nx {
                    let x = i as f64 * vs[0];
                    let cx = cell_index(x, cells.origin[0], cells.width, n[0]);
                    let mut sum = 0f64;
                    for zz in cz.saturating_sub(1)..=(cz + 1).min(n[2] - 1) {
                        for yy in cy.saturating_sub(1)..=(cy + 1).min(n[1] - 1) {
                            let row = (yy + n[1] * zz) * n[0];
                            let lo = cells.start[row + cx.saturating_sub(1)] as usize;
                            let hi = cells.start[row + (cx + 1).min(n[0] - 1) + 1] as usize;
                            for a in &cells.atoms[lo..hi] {
                                let d = [x - a[0] as f64, y - a[1] as f64, z - a[2] as f64];
                                let d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                                if d2 < cells.cutoff2 {
                                    sum += a[3] as f64 * (-d2 * cells.inv_two_sigma2).exp();
                                }
                            }
                        }
                    }
                    plane[i + nx * j] = sum as f32;
                }
            }
        });
    out
}

#[inline]
fn cell_index(x: f64, origin: f64, width: f64, n: usize) -> usize {
    (((x - origin) / width).floor().max(0.0) as usize).min(n - 1)
}

/// Uniform block of `density.wgsl` (five vec4s, std140-compatible).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct DensityParams {
    dims: [u32; 4],
    cells: [u32; 4],
    voxel: [f32; 4],
    cell_origin: [f32; 4],
    gauss: [f32; 4],
}

/// `max_values`: most f32 values one binding may hold; the output is computed
/// in chunks of whole z planes under it.
fn simulate_gpu(
    ctx: &GpuContext,
    cells: &CellList,
    map: &DensityMap,
    max_values: usize,
) -> Result<Vec<f32>, SimulateError> {
    let dims = map.dims();
    let [nx, ny, nz] = dims;
    let vs = map.voxel_size();
    let plane = nx * ny;
    if plane > max_values || cells.start.len() > max_values || cells.atoms.len() * 4 > max_values {
        return Err(SimulateError::GridTooLarge(
            dims,
            format!(
                "one z plane, the cell list or the atoms exceed the GPU's {} MiB storage binding",
                ctx.max_binding_bytes() >> 20
            ),
        ));
    }
    let wg_limit = ctx.limits.max_compute_workgroups_per_dimension as usize;
    let planes_per_chunk = (max_values / plane).min(nz).min(wg_limit * 4);
    if nx.div_ceil(4) > wg_limit || ny.div_ceil(4) > wg_limit {
        return Err(SimulateError::GridTooLarge(
            dims,
            "too many workgroups per dimension".into(),
        ));
    }
    let pipeline = ctx.pipeline(gpu::DENSITY_SHADER, "simulate");
    let atoms = gpu::storage_buffer(ctx, "atoms", &cells.atoms);
    let starts = gpu::storage_buffer(ctx, "cell_start", &cells.start);
    let out_buf = gpu::output_buffer(ctx, "density", plane * planes_per_chunk);
    let mut data = Vec::with_capacity(nx * ny * nz);
    let mut z0 = 0;
    while z0 < nz {
        let nzc = planes_per_chunk.min(nz - z0);
        let params = DensityParams {
            dims: [nx as u32, ny as u32, nzc as u32, z0 as u32],
            cells: [cells.n[0] as u32, cells.n[1] as u32, cells.n[2] as u32, 0],
            voxel: [vs[0] as f32, vs[1] as f32, vs[2] as f32, 0.0],
            cell_origin: [
                cells.origin[0] as f32,
                cells.origin[1] as f32,
                cells.origin[2] as f32,
                cells.width as f32,
            ],
            gauss: [cells.inv_two_sigma2 as f32, cells.cutoff2 as f32, 0.0, 0.0],
        };
        let uniform = gpu::uniform_buffer(ctx, "density params", &params);
        let bind = ctx.bind_buffers(&pipeline, &[&uniform, &atoms, &starts, &out_buf]);
        let readback = gpu::Readback::new(ctx, (plane * nzc * 4) as u64);
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("density"),
            });
        ctx.dispatch(
            &mut encoder,
            &pipeline,
            &bind,
            [
                nx.div_ceil(4) as u32,
                ny.div_ceil(4) as u32,
                nzc.div_ceil(4) as u32,
            ],
        );
        readback.copy_from(&mut encoder, &out_buf);
        ctx.queue.submit(Some(encoder.finish()));
        data.extend_from_slice(&readback.read_f32(ctx));
        z0 += nzc;
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One carbon atom: the peak sits at the atom, equals A/√(2πσ²) there, and
    /// the profile along x is the Gaussian of σ = R/(√2π).
    #[test]
    fn single_atom_peak_and_width() {
        let r = 4.0;
        let sigma = sigma_for_resolution(r);
        let atom = Vec3::new(10.0, 10.0, 10.0);
        let map = DensityMap::zeros([21, 21, 21], [1.0; 3], Vec3::zeros()).unwrap();
        let sim = simulate_points_like(&[(atom, 6.0)], r, &map, Backend::Cpu).unwrap();
        let (imax, &vmax) = sim
            .data()
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap();
        assert_eq!(imax, 10 + 21 * (10 + 21 * 10));
        let peak = 6.0 / (2.0 * std::f64::consts::PI * sigma * sigma).sqrt();
        assert!((vmax as f64 - peak).abs() < 1e-5 * peak);
        for dx in 1..4 {
            let v = sim.value_at(atom + Vec3::new(dx as f64, 0.0, 0.0)).unwrap() as f64;
            let expect = peak * (-(dx * dx) as f64 / (2.0 * sigma * sigma)).exp();
            assert!((v - expect).abs() < 1e-5 * peak, "dx {dx}: {v} vs {expect}");
        }
        // Beyond the cutoff nothing is added.
        let far = sim
            .value_at(atom + Vec3::new(cutoff_radius(r) + 0.5, 0.0, 0.0))
            .unwrap();
        assert_eq!(far, 0.0);
    }

    /// Grids larger than one storage binding are simulated in z chunks: force
    /// 3-plane chunks (the last one partial) on a small grid and compare.
    #[test]
    fn gpu_z_chunks_match_cpu() {
        let Some(ctx) = gpu::gpu_for_test("gpu_z_chunks_match_cpu") else {
            return;
        };
        let points: Vec<(Vec3, f64)> = (0..40)
            .map(|i| {
                let t = i as f64 * 0.7;
                (
                    Vec3::new(5.0 + 3.0 * t.cos(), 5.0 + 3.0 * t.sin(), 1.0 + 0.3 * t),
                    6.0 + (i % 3) as f64,
                )
            })
            .collect();
        let map = box_around(&points, 0.8, 3.0).unwrap();
        let [nx, ny, nz] = map.dims();
        assert!(nz % 3 != 0 && nz > 6, "{nz}");
        let cells = CellList::new(&points, 3.0, &map);
        let cpu = simulate_cpu(&cells, &map);
        let gpu = simulate_gpu(ctx, &cells, &map, nx * ny * 3).unwrap();
        let scale = cpu.iter().fold(0f32, |m, v| m.max(*v));
        let diff = cpu
            .iter()
            .zip(&gpu)
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(diff < 1e-4 * scale, "{diff} vs {scale}");
    }

    #[test]
    fn bad_inputs_are_errors() {
        let map = DensityMap::zeros([4, 4, 4], [1.0; 3], Vec3::zeros()).unwrap();
        let p = [(Vec3::zeros(), 6.0)];
        assert_eq!(
            simulate_points_like(&p, 0.0, &map, Backend::Cpu).unwrap_err(),
            SimulateError::BadResolution(0.0)
        );
        assert_eq!(
            box_around(&[], 1.0, 2.0).unwrap_err(),
            SimulateError::NoAtoms
        );
        assert_eq!(
            box_around(&p, -1.0, 2.0).unwrap_err(),
            SimulateError::BadVoxel(-1.0)
        );
    }

    /// Atoms outside the grid but within the cutoff still contribute; the box
    /// grid covers the model plus the margin.
    #[test]
    fn box_covers_model_and_margin() {
        let p = [
            (Vec3::new(0.0, 0.0, 0.0), 6.0),
            (Vec3::new(10.0, 5.0, 2.0), 8.0),
        ];
        let m = box_around(&p, 1.5, 3.0).unwrap();
        let o = m.origin();
        assert_eq!(o, Vec3::new(-3.0, -3.0, -3.0));
        for (a, span) in [16.0, 11.0, 8.0].iter().enumerate() {
            assert!((m.dims()[a] - 1) as f64 * 1.5 >= *span);
        }
        let sim = simulate_points_like(&p, 3.0, &m, Backend::Cpu).unwrap();
        assert!(sim.value_at(Vec3::new(10.0, 5.0, 2.0)).unwrap() > 1.0);
    }
}
