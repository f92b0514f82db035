//! The map terms of the assembly energy: E_EM (eq. 6) and E_EM^CNN (eq. 7).
//!
//! Both are −Σ_y ρ0(y) ρ(y) with ρ the model's density from eq. 2. Because ρ
//! is a sum of one Gaussian per bead, the sum splits into one term per bead,
//! f(x) = Σ_y ρ0(y) g(y − x), and because eq. 6 and 7 are linear in ρ0, the
//! two maps combine into one effective map ρ_eff = W_EM ρ0 + W_CNN ρ0^CNN
//! (each normalised to mean 0, σ 1 over the grid; ρ0^CNN is eq. 2 of the
//! CNN's Cα cloud). So a move's ΔE is −Σ over its moved beads of f(new) −
//! f(old), computed over the voxels within the 4σ cutoff of those beads only
//! (the paper's "local segment" remark). f is divided by the Gaussian's full
//! sum K so that a bead in density n σ above the mean scores about −n.
//!
//! Beads are the Cα and the side-chain centroid of each residue (glycine's
//! centroid is its Cα and is not counted twice).
//!
//! The GPU path (`shaders/em_delta.wgsl`) evaluates f for a whole batch of
//! beads in one dispatch: the Monte Carlo gathers every replica's proposal
//! and scores them together. The CPU twin computes the same sum per bead, with
//! the Gaussian split into per-axis factors.

use crate::gpu::{self, Backend, GpuContext};
use crate::map::simulate::{cutoff_radius, sigma_for_resolution, simulate_points_like};
use crate::map::DensityMap;
use crate::Vec3;

/// The effective map and its Gaussian, ready for per-bead sums.
pub struct EmField {
    map: DensityMap,
    sigma: f64,
    cutoff: f64,
    inv_k: f64,
    gpu: Option<GpuField>,
}

struct GpuField {
    ctx: &'static GpuContext,
    map: wgpu::Buffer,
}

impl std::fmt::Debug for EmField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "EmField(dims {:?}, σ {:.2} Å, {})",
            self.map.dims(),
            self.sigma,
            if self.gpu.is_some() { "GPU" } else { "CPU" }
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmError {
    #[error("the map is constant; it cannot guide the assembly")]
    ConstantMap,
    #[error("map of {0} bytes exceeds the GPU's binding limit of {1} bytes")]
    TooLargeForGpu(u64, u64),
    #[error(transparent)]
    Simulate(#[from] crate::map::simulate::SimulateError),
}

fn normalised(map: &DensityMap) -> Result<Vec<f64>, EmError> {
    let s = map.stats();
    if s.std.is_nan() || s.std <= 0.0 {
        return Err(EmError::ConstantMap);
    }
    Ok(map
        .data()
        .iter()
        .map(|&v| (v as f64 - s.mean) / s.std)
        .collect())
}

impl EmField {
    /// ρ_eff from the map and, when the networks agree, the CNN cloud;
    /// `resolution` sets σ of eq. 2.
    pub fn new(
        map: &DensityMap,
        resolution: f64,
        cnn_cloud: Option<&[Vec3]>,
        w_em: f64,
        w_cnn: f64,
        backend: Backend,
    ) -> Result<EmField, EmError> {
        let mut eff: Vec<f64> = normalised(map)?.into_iter().map(|v| w_em * v).collect();
        if let Some(cloud) = cnn_cloud.filter(|c| !c.is_empty() && w_cnn != 0.0) {
            let pts: Vec<(Vec3, f64)> = cloud.iter().map(|p| (*p, 1.0)).collect();
            let sim = simulate_points_like(&pts, resolution, map, Backend::Cpu)?;
            if let Ok(n) = normalised(&sim) {
                for (e, v) in eff.iter_mut().zip(n) {
                    *e += w_cnn * v;
                }
            }
        }
        let data: Vec<f32> = eff.iter().map(|&v| v as f32).collect();
        let field = DensityMap::new(map.dims(), map.voxel_size(), map.origin(), data)
            .expect("same grid as the map");
        let sigma = sigma_for_resolution(resolution);
        let v = map.voxel_size();
        let k = (2.0 * std::f64::consts::PI).powf(1.5) * sigma.powi(3) / (v[0] * v[1] * v[2]);
        let gpu = match backend {
            Backend::Cpu => None,
            Backend::Gpu(ctx) => {
                let bytes = field.data().len() as u64 * 4;
                if bytes > ctx.max_binding_bytes() {
                    return Err(EmError::TooLargeForGpu(bytes, ctx.max_binding_bytes()));
                }
                Some(GpuField {
                    ctx,
                    map: gpu::storage_buffer(ctx, "em map", field.data()),
                })
            }
        };
        Ok(EmField {
            map: field,
            sigma,
            cutoff: cutoff_radius(resolution),
            inv_k: 1.0 / k,
            gpu,
        })
    }

    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    pub fn on_gpu(&self) -> bool {
        self.gpu.is_some()
    }

    /// f(x) of every bead (module doc), on the field's device.
    pub fn bead_values(&self, beads: &[Vec3]) -> Vec<f64> {
        match &self.gpu {
            Some(g) if !beads.is_empty() => self.bead_values_gpu(g, beads),
            _ => self.bead_values_cpu(beads),
        }
    }

    /// The CPU twin of `em_delta.wgsl`.
    pub fn bead_values_cpu(&self, beads: &[Vec3]) -> Vec<f64> {
        beads.iter().map(|p| self.bead_value(p)).collect()
    }

    fn bead_value(&self, p: &Vec3) -> f64 {
        let [nx, ny, nz] = self.map.dims();
        let v = self.map.voxel_size();
        let rel = p - self.map.origin();
        let inv2s2 = 1.0 / (2.0 * self.sigma * self.sigma);
        let cut2 = self.cutoff * self.cutoff;
        let range = |x: f64, vs: f64, n: usize| -> Option<(usize, usize)> {
            let lo = ((x - self.cutoff) / vs).ceil().max(0.0);
            let hi = ((x + self.cutoff) / vs).floor().min(n as f64 - 1.0);
            (hi >= lo).then_some((lo as usize, hi as usize))
        };
        let (Some((x0, x1)), Some((y0, y1)), Some((z0, z1))) = (
            range(rel.x, v[0], nx),
            range(rel.y, v[1], ny),
            range(rel.z, v[2], nz),
        ) else {
            return 0.0;
        };
        let axis = |lo: usize, hi: usize, x: f64, vs: f64| -> Vec<(f64, f64)> {
            (lo..=hi)
                .map(|i| {
                    let d = i as f64 * vs - x;
                    (d * d, (-d * d * inv2s2).exp())
                })
                .collect()
        };
        let gx = axis(x0, x1, rel.x, v[0]);
        let gy = axis(y0, y1, rel.y, v[1]);
        let gz = axis(z0, z1, rel.z, v[2]);
        let data = self.map.data();
        let mut sum = 0.0;
        for (kz, &(dz2, ez)) in gz.iter().enumerate() {
            for (ky, &(dy2, ey)) in gy.iter().enumerate() {
                let r2yz = dz2 + dy2;
                if r2yz >= cut2 {
                    continue;
                }
                let eyz = ey * ez;
                let row = ((z0 + kz) * ny + y0 + ky) * nx;
                for (kx, &(dx2, ex)) in gx.iter().enumerate() {
                    if r2yz + dx2 < cut2 {
                        sum += data[row + x0 + kx] as f64 * ex * eyz;
                    }
                }
            }
        }
        sum * self.inv_k
    }

    fn bead_values_gpu(&self, g: &GpuField, beads: &[Vec3]) -> Vec<f64> {
        #[repr(C)]
        #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
        struct Params {
            dims: [u32; 4],
            voxel: [f32; 4],
            gauss: [f32; 4],
        }
        let ctx = g.ctx;
        let [nx, ny, nz] = self.map.dims();
        let v = self.map.voxel_size();
        let origin = self.map.origin();
        let pts: Vec<[f32; 4]> = beads
            .iter()
            .map(|p| {
                let r = p - origin;
                [r.x as f32, r.y as f32, r.z as f32, 0.0]
            })
            .collect();
        let row = beads.len().min(65_535) as u32;
        let rows = (beads.len() as u32).div_ceil(row);
        let params = Params {
            dims: [nx as u32, ny as u32, nz as u32, beads.len() as u32],
            voxel: [
                v[0] as f32,
                v[1] as f32,
                v[2] as f32,
                (1.0 / (2.0 * self.sigma * self.sigma)) as f32,
            ],
            gauss: [self.cutoff as f32, self.inv_k as f32, row as f32, 0.0],
        };
        let uniform = gpu::uniform_buffer(ctx, "em params", &params);
        let bead_buf = gpu::storage_buffer(ctx, "em beads", &pts);
        let out = gpu::output_buffer(ctx, "em bead values", beads.len());
        let pipeline = ctx.pipeline(gpu::EM_DELTA_SHADER, "bead_values");
        let bind = ctx.bind_buffers(&pipeline, &[&uniform, &g.map, &bead_buf, &out]);
        let mut enc = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        ctx.dispatch(&mut enc, &pipeline, &bind, [row, rows, 1]);
        let readback = gpu::Readback::new(ctx, beads.len() as u64 * 4);
        readback.copy_from(&mut enc, &out);
        ctx.queue.submit(Some(enc.finish()));
        readback
            .read_f32(ctx)
            .into_iter()
            .map(|x| x as f64)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{mrc::read_map, read_structure};
    use std::path::Path;

    fn fixture() -> (DensityMap, Vec<Vec3>) {
        let map = read_map(Path::new("tests/data/emd2566_3j6b_9.mrc")).unwrap();
        let s = read_structure(Path::new("tests/data/3j6b_9.pdb")).unwrap();
        (map, s.chains[0].ca_coords())
    }

    #[test]
    fn deposited_ca_sit_in_density_and_shifted_ones_do_not() {
        let (map, ca) = fixture();
        let f = EmField::new(&map, 6.0, None, 1.0, 0.0, Backend::Cpu).unwrap();
        let mean = |pts: &[Vec3]| f.bead_values_cpu(pts).iter().sum::<f64>() / pts.len() as f64;
        let placed = mean(&ca);
        let shifted: Vec<Vec3> = ca.iter().map(|p| p + Vec3::new(7.0, 0.0, 0.0)).collect();
        let moved = mean(&shifted);
        eprintln!("mean f: deposited {placed:.3}, shifted 7 Å {moved:.3}");
        assert!(placed > 1.0 && moved < 0.5 * placed);
    }

    #[test]
    fn gpu_bead_values_match_cpu() {
        let Some(ctx) = gpu::gpu_for_test("gpu_bead_values_match_cpu") else {
            return;
        };
        let (map, ca) = fixture();
        let f = EmField::new(&map, 6.0, Some(&ca), 1.0, 0.5, Backend::Gpu(ctx)).unwrap();
        let mut beads = ca.clone();
        beads.push(Vec3::new(-1e3, 0.0, 0.0)); // outside: 0
        let g = f.bead_values(&beads);
        let c = f.bead_values_cpu(&beads);
        let worst = g
            .iter()
            .zip(&c)
            .map(|(a, b)| (a - b).abs() / b.abs().max(1.0))
            .fold(0.0, f64::max);
        assert!(worst < 1e-4, "GPU vs CPU worst relative difference {worst}");
        assert_eq!(g.last().copied(), Some(0.0));
    }
}
