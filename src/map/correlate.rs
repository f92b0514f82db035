//! How well a model fits a map: Pearson correlation (PCC) over the whole grid,
//! PCC inside a mask of voxels near the model, and the cross term of
//! CR-I-TASSER eq. 6,
//!
//! E_EM = −Σ_y ρ₀(y) ρ(y),
//!
//! with ρ₀ the experimental map and ρ the model's density from eq. 2
//! ([`super::simulate`]). The paper gives eq. 6 without normalisation, so
//! [`FitScores::cc`] is that raw negative sum (it scales with both maps; lower
//! is better); the PCCs are scale-free.
//!
//! The mask holds every voxel within [`mask_radius`] of an atom:
//! max(3 Å, R/2), i.e. the atoms' own volume at high resolution and the
//! blurred envelope at low resolution.
//!
//! Sums run in two passes (means, then centred products) so that PCC does not
//! suffer from cancellation. GPU (`shaders/correlate.wgsl`): per-workgroup
//! partial sums in f32 added in f64 on the host; CPU twin: rayon, f64.

use rayon::prelude::*;

use super::simulate::{self, SimulateError};
use super::DensityMap;
use crate::gpu::{self, Backend, GpuContext};
use crate::structure::Structure;
use crate::Vec3;

/// Why two maps could not be compared.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CorrelateError {
    #[error("maps are on different grids: {0:?} vs {1:?} voxels (or voxel size/origin differ)")]
    GridMismatch([usize; 3], [usize; 3]),
    #[error("mask has {0} voxels, map has {1}")]
    MaskMismatch(usize, usize),
    #[error(transparent)]
    Simulate(#[from] SimulateError),
}

/// Radius in Å around each atom that defines the masked PCC: max(3 Å, R/2).
pub fn mask_radius(resolution: f64) -> f64 {
    (0.5 * resolution).max(3.0)
}

/// One bit per voxel of a map, x fastest like [`DensityMap`] data.
#[derive(Debug, Clone, PartialEq)]
pub struct VoxelMask {
    words: Vec<u32>,
    len: usize,
}

impl VoxelMask {
    /// Every voxel of `map`'s grid within `radius` Å of one of `points`.
    pub fn around_points(map: &DensityMap, points: &[Vec3], radius: f64) -> Self {
        let dims = map.dims();
        let vs = map.voxel_size();
        let len = map.len();
        let mut words = vec![0u32; len.div_ceil(32)];
        let r2 = radius * radius;
        for p in points {
            let g = map.grid_coords(*p);
            let lo = [0, 1, 2].map(|a| ((g[a] - radius / vs[a]).ceil() as i64).max(0));
            let hi =
                [0, 1, 2].map(|a| ((g[a] + radius / vs[a]).floor() as i64).min(dims[a] as i64 - 1));
            for k in lo[2]..=hi[2] {
                let dz = (k as f64 - g[2]) * vs[2];
                for j in lo[1]..=hi[1] {
                    let dy = (j as f64 - g[1]) * vs[1];
                    for i in lo[0]..=hi[0] {
                        let dx = (i as f64 - g[0]) * vs[0];
                        if dx * dx + dy * dy + dz * dz <= r2 {
                            let idx = map.index(i as usize, j as usize, k as usize);
                            words[idx >> 5] |= 1 << (idx & 31);
                        }
                    }
                }
            }
        }
        VoxelMask { words, len }
    }

    /// Every voxel.
    pub fn all(len: usize) -> Self {
        let mut words = vec![u32::MAX; len.div_ceil(32)];
        if !len.is_multiple_of(32) {
            if let Some(last) = words.last_mut() {
                *last = (1u32 << (len % 32)) - 1;
            }
        }
        VoxelMask { words, len }
    }

    #[inline]
    pub fn contains(&self, i: usize) -> bool {
        (self.words[i >> 5] >> (i & 31)) & 1 == 1
    }

    /// Number of voxels in the mask.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Correlation of two maps on the same grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Correlation {
    /// PCC over all voxels (0 when either map is constant).
    pub pcc: f64,
    /// PCC over the masked voxels (0 when the mask is empty or a map is constant there).
    pub pcc_masked: f64,
    /// Σ x·y over all voxels.
    pub cross: f64,
    pub n: usize,
    pub n_masked: usize,
}

/// The scores `mapfold fit` reports.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FitScores {
    /// PCC of the map with the model's eq. 2 density over the whole grid.
    pub pcc: f64,
    /// PCC within [`mask_radius`] of the atoms.
    pub pcc_masked: f64,
    /// Eq. 6: −Σ ρ₀(y)ρ(y) over the whole grid.
    pub cc: f64,
    /// Voxels in the mask.
    pub mask_voxels: usize,
    /// Mask radius used, Å.
    pub mask_radius: f64,
}

/// Simulates `structure` at `resolution` on `map`'s grid and scores the fit.
pub fn fit_scores(
    map: &DensityMap,
    structure: &Structure,
    resolution: f64,
    backend: Backend,
) -> Result<FitScores, CorrelateError> {
    let sim = simulate::simulate_like(structure.atoms(), resolution, map, backend)?;
    let points: Vec<Vec3> = structure.atoms().map(|a| a.pos).collect();
    let radius = mask_radius(resolution);
    let mask = VoxelMask::around_points(map, &points, radius);
    let c = correlate(map, &sim, Some(&mask), backend)?;
    Ok(FitScores {
        pcc: c.pcc,
        pcc_masked: c.pcc_masked,
        cc: -c.cross,
        mask_voxels: c.n_masked,
        mask_radius: radius,
    })
}

/// PCC, masked PCC (all voxels when `mask` is None) and Σxy of two maps on the same grid.
pub fn correlate(
    x: &DensityMap,
    y: &DensityMap,
    mask: Option<&VoxelMask>,
    backend: Backend,
) -> Result<Correlation, CorrelateError> {
    if x.dims() != y.dims() || x.voxel_size() != y.voxel_size() || x.origin() != y.origin() {
        return Err(CorrelateError::GridMismatch(x.dims(), y.dims()));
    }
    let all;
    let mask = match mask {
        Some(m) if m.len() != x.len() => {
            return Err(CorrelateError::MaskMismatch(m.len(), x.len()))
        }
        Some(m) => m,
        None => {
            all = VoxelMask::all(x.len());
            &all
        }
    };
    let n = x.len();
    let n_masked = mask.count();
    let s = match backend {
        Backend::Cpu => sums_cpu(x.data(), y.data(), mask),
        Backend::Gpu(ctx) => {
            let per_chunk = (((ctx.max_binding_bytes() / 4) as usize) / 32 * 32).max(32);
            sums_gpu(ctx, x.data(), y.data(), mask, per_chunk)
        }
    };
    Ok(s.finish(n, n_masked))
}

/// Results of both passes: shifts used in pass 1 and the ten sums of pass 1.
struct Sums {
    shift: [f64; 4],
    s: [f64; 10],
}

impl Sums {
    fn finish(&self, n: usize, n_masked: usize) -> Correlation {
        let pcc = |s: &[f64], n: usize| -> f64 {
            if n == 0 {
                return 0.0;
            }
            let nf = n as f64;
            let sxy = s[2] - s[0] * s[1] / nf;
            let sxx = s[3] - s[0] * s[0] / nf;
            let syy = s[4] - s[1] * s[1] / nf;
            let d = (sxx * syy).sqrt();
            if d > 0.0 {
                (sxy / d).clamp(-1.0, 1.0)
            } else {
                0.0
            }
        };
        let [a, b, _, _] = self.shift;
        let s = &self.s;
        // Σxy = Σ(x−a)(y−b) + bΣ(x−a) + aΣ(y−b) + n·a·b
        let cross = s[2] + b * s[0] + a * s[1] + n as f64 * a * b;
        Correlation {
            pcc: pcc(&s[0..5], n),
            pcc_masked: pcc(&s[5..10], n_masked),
            cross,
            n,
            n_masked,
        }
    }
}

fn means(s0: [f64; 4], n: usize, n_masked: usize) -> [f64; 4] {
    let d = |v: f64, n: usize| if n > 0 { v / n as f64 } else { 0.0 };
    [
        d(s0[0], n),
        d(s0[1], n),
        d(s0[2], n_masked),
        d(s0[3], n_masked),
    ]
}

fn sums_cpu(x: &[f32], y: &[f32], mask: &VoxelMask) -> Sums {
    let n = x.len();
    let chunk = 1 << 16;
    let s0 = (0..n.div_ceil(chunk))
        .into_par_iter()
        .map(|c| {
            let mut s = [0f64; 4];
            for i in c * chunk..((c + 1) * chunk).min(n) {
                let (xi, yi) = (x[i] as f64, y[i] as f64);
                s[0] += xi;
                s[1] += yi;
                if mask.contains(i) {
                    s[2] += xi;
                    s[3] += yi;
                }
            }
            s
        })
        .reduce(|| [0.0; 4], |a, b| [0, 1, 2, 3].map(|t| a[t] + b[t]));
    let shift = means(s0, n, mask.count());
    let s = (0..n.div_ceil(chunk))
        .into_par_iter()
        .map(|c| {
            let mut s = [0f64; 10];
            for i in c * chunk..((c + 1) * chunk).min(n) {
                let (xi, yi) = (x[i] as f64, y[i] as f64);
                let (dx, dy) = (xi - shift[0], yi - shift[1]);
                s[0] += dx;
                s[1] += dy;
                s[2] += dx * dy;
                s[3] += dx * dx;
                s[4] += dy * dy;
                if mask.contains(i) {
                    let (mx, my) = (xi - shift[2], yi - shift[3]);
                    s[5] += mx;
                    s[6] += my;
                    s[7] += mx * my;
                    s[8] += mx * mx;
                    s[9] += my * my;
                }
            }
            s
        })
        .reduce(|| [0.0; 10], |a, b| std::array::from_fn(|t| a[t] + b[t]));
    Sums { shift, s }
}

/// Uniform block of `correlate.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct CorrelateParams {
    n: [u32; 4],
    shift: [f32; 4],
}

const SLOTS: usize = 10;
const WG: usize = 256;
/// Workgroups per dispatch: enough to fill any GPU, few enough that the host's
/// f64 pass over the partial sums costs nothing.
const MAX_GROUPS: usize = 1024;

/// One chunk of the maps resident on the GPU (chunks keep each binding under
/// the device's storage-binding limit; they start on 32-voxel mask words).
struct Chunk {
    n: usize,
    groups: usize,
    x: wgpu::Buffer,
    y: wgpu::Buffer,
    mask: wgpu::Buffer,
    partial: wgpu::Buffer,
}

/// `per_chunk`: voxels per chunk, a multiple of 32 within one storage binding.
fn sums_gpu(ctx: &GpuContext, x: &[f32], y: &[f32], mask: &VoxelMask, per_chunk: usize) -> Sums {
    let n = x.len();
    let chunks: Vec<Chunk> = (0..n.div_ceil(per_chunk))
        .map(|c| {
            let lo = c * per_chunk;
            let hi = ((c + 1) * per_chunk).min(n);
            let groups = (hi - lo).div_ceil(WG).clamp(1, MAX_GROUPS);
            Chunk {
                n: hi - lo,
                groups,
                x: gpu::storage_buffer(ctx, "x", &x[lo..hi]),
                y: gpu::storage_buffer(ctx, "y", &y[lo..hi]),
                mask: gpu::storage_buffer(ctx, "mask", &mask.words[lo / 32..hi.div_ceil(32)]),
                partial: gpu::output_buffer(ctx, "partial sums", groups * SLOTS),
            }
        })
        .collect();
    let pipeline = ctx.pipeline(gpu::CORRELATE_SHADER, "sums");
    let run_pass = |step: u32, shift: [f64; 4]| -> [f64; SLOTS] {
        let mut total = [0f64; SLOTS];
        for ch in &chunks {
            let params = CorrelateParams {
                n: [ch.n as u32, step, ch.groups as u32, 0],
                shift: shift.map(|v| v as f32),
            };
            let uniform = gpu::uniform_buffer(ctx, "correlate params", &params);
            let bind =
                ctx.bind_buffers(&pipeline, &[&uniform, &ch.x, &ch.y, &ch.mask, &ch.partial]);
            let readback = gpu::Readback::new(ctx, (ch.groups * SLOTS * 4) as u64);
            let mut encoder = ctx
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("correlate"),
                });
            ctx.dispatch(&mut encoder, &pipeline, &bind, [ch.groups as u32, 1, 1]);
            readback.copy_from(&mut encoder, &ch.partial);
            ctx.queue.submit(Some(encoder.finish()));
            for group in readback.read_f32(ctx).chunks_exact(SLOTS) {
                for t in 0..SLOTS {
                    total[t] += group[t] as f64;
                }
            }
        }
        total
    };
    let s0 = run_pass(0, [0.0; 4]);
    let shift = means([s0[0], s0[1], s0[2], s0[3]], n, mask.count());
    // The kernel subtracts the f32-rounded shift; the host formulas must use the same.
    let shift = shift.map(|v| v as f32 as f64);
    let s = run_pass(1, shift);
    Sums { shift, s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_from(data: Vec<f32>) -> DensityMap {
        let n = data.len();
        DensityMap::new([n, 1, 1], [1.0; 3], Vec3::zeros(), data).unwrap()
    }

    #[test]
    fn pcc_of_a_map_with_itself_is_one_and_with_its_negative_minus_one() {
        let data: Vec<f32> = (0..1000)
            .map(|i| ((i * 37 % 101) as f32).sin() + 5.0)
            .collect();
        let a = map_from(data.clone());
        let neg = map_from(data.iter().map(|v| 10.0 - v).collect());
        let c = correlate(&a, &a, None, Backend::Cpu).unwrap();
        assert!((c.pcc - 1.0).abs() < 1e-12);
        assert!((c.pcc_masked - 1.0).abs() < 1e-12);
        let expect: f64 = data.iter().map(|v| (*v as f64) * (*v as f64)).sum();
        assert!((c.cross - expect).abs() < 1e-9 * expect);
        let c = correlate(&a, &neg, None, Backend::Cpu).unwrap();
        assert!((c.pcc + 1.0).abs() < 1e-12);
    }

    /// The masked PCC only sees masked voxels: two maps that agree inside the
    /// mask and disagree outside give 1 inside and less than 1 overall.
    #[test]
    fn mask_restricts_the_pcc() {
        let x: Vec<f32> = (0..64).map(|i| i as f32).collect();
        let mut y = x.clone();
        for v in y.iter_mut().skip(40) {
            *v = -*v;
        }
        let (a, b) = (map_from(x), map_from(y));
        let mask = VoxelMask::around_points(&a, &[Vec3::new(10.0, 0.0, 0.0)], 10.0);
        assert_eq!(mask.count(), 21);
        let c = correlate(&a, &b, Some(&mask), Backend::Cpu).unwrap();
        assert!((c.pcc_masked - 1.0).abs() < 1e-12);
        assert!(c.pcc < 0.5);
        assert_eq!(c.n_masked, 21);
    }

    /// Maps larger than one storage binding are summed in chunks: force
    /// 320-voxel chunks (the last one partial) and compare with the CPU.
    #[test]
    fn gpu_chunks_match_cpu() {
        let Some(ctx) = gpu::gpu_for_test("gpu_chunks_match_cpu") else {
            return;
        };
        let x: Vec<f32> = (0..2000)
            .map(|i| ((i * 7919 % 613) as f32 * 0.01).sin() + 1.0)
            .collect();
        let y: Vec<f32> = x
            .iter()
            .enumerate()
            .map(|(i, v)| v * 0.5 + ((i % 17) as f32) * 0.01)
            .collect();
        let a = map_from(x.clone());
        let mask = VoxelMask::around_points(&a, &[Vec3::new(700.0, 0.0, 0.0)], 500.0);
        let c = sums_cpu(&x, &y, &mask).finish(x.len(), mask.count());
        let g = sums_gpu(ctx, &x, &y, &mask, 320).finish(x.len(), mask.count());
        assert!((c.pcc - g.pcc).abs() < 1e-5, "{c:?} {g:?}");
        assert!((c.pcc_masked - g.pcc_masked).abs() < 1e-5, "{c:?} {g:?}");
        assert!((c.cross - g.cross).abs() < 1e-5 * c.cross, "{c:?} {g:?}");
        assert!(c.pcc > 0.9 && c.pcc < 1.0);
    }

    #[test]
    fn grid_mismatch_is_an_error() {
        let a = map_from(vec![1.0; 8]);
        let b = map_from(vec![1.0; 9]);
        assert!(matches!(
            correlate(&a, &b, None, Backend::Cpu),
            Err(CorrelateError::GridMismatch(..))
        ));
    }

    #[test]
    fn full_mask_counts_every_voxel() {
        for n in [1, 31, 32, 33, 100] {
            assert_eq!(VoxelMask::all(n).count(), n);
        }
    }
}
