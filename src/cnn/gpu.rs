//! The Cα network's forward pass on the GPU (wgpu), the twin of
//! [`super::infer::forward`]: same layers, same slab-by-slab convolution, the
//! kernels in `shaders/conv3d.wgsl`, `shaders/instance_norm.wgsl` and
//! `shaders/cnn_elementwise.wgsl`.
//!
//! The whole-map activations live on the GPU (three buffers of C·N f32, as on
//! the CPU); a map whose C·N·4 bytes exceed the device's largest storage
//! binding is refused with [`CnnError::TooLargeForGpu`] and should go to the CPU
//! path. Instance-norm statistics are f32 partial sums per 4096 voxels added
//! with Kahan compensation (WGSL has no f64), so results agree with the CPU to
//! about 1e-4, not bit for bit.

use crate::gpu::{self, GpuContext, Shader};

use super::infer::{checked_input, probability_maps, CnnError, InferenceOptions};
use super::network::{CaNetwork, Conv3d, InstanceNorm};
use super::shaders::{CONV3D_WGSL, ELEMENTWISE_WGSL, INSTANCE_NORM_WGSL};
use crate::map::DensityMap;

const CONV3D_SHADER: Shader = Shader {
    name: "conv3d.wgsl",
    source: CONV3D_WGSL,
};
const NORM_SHADER: Shader = Shader {
    name: "instance_norm.wgsl",
    source: INSTANCE_NORM_WGSL,
};
const ELEMENTWISE_SHADER: Shader = Shader {
    name: "cnn_elementwise.wgsl",
    source: ELEMENTWISE_WGSL,
};

/// Output channels per invocation in `conv3d.wgsl` (one vec4 accumulator).
const LANES: usize = 4;
/// Voxels summed by one workgroup of `partial_sums`.
const NORM_CHUNK: usize = 4096;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ConvParams {
    nx: u32,
    ny: u32,
    nz: u32,
    cin: u32,
    cout: u32,
    k: u32,
    z0: u32,
    sz: u32,
    nblk: u32,
    pad: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct NormParams {
    n: u32,
    channels: u32,
    chunk: u32,
    nchunks: u32,
    eps: f32,
    pad: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct LenParams {
    len: u32,
    pad: [u32; 3],
}

/// GPU twin of [`super::predict_class_probabilities`]: `[P(no Cα), P(Cα)]` on
/// the input grid (`opts.f16_activations` is ignored: the GPU stores f32).
pub fn predict_class_probabilities_gpu(
    ctx: &GpuContext,
    net: &CaNetwork,
    map: &DensityMap,
    opts: &InferenceOptions,
) -> Result<[DensityMap; 2], CnnError> {
    let input = checked_input(net, map)?;
    let probs = forward_gpu(ctx, net, map.dims(), &input, opts.slab)?;
    Ok(probability_maps(map, probs))
}

/// The two head logits passed through softmax: `[P(no Cα) ; P(Cα)]`, each n
/// values, for a normalised single-channel input (see [`super::infer::normalised_input`]).
pub fn forward_gpu(
    ctx: &GpuContext,
    net: &CaNetwork,
    dims: [usize; 3],
    input: &[f32],
    slab: usize,
) -> Result<Vec<f32>, CnnError> {
    let n = dims.iter().product::<usize>();
    let c = net.meta.channels;
    let need = (c.max(2) * n * 4) as u64;
    let max = ctx.max_binding_bytes();
    if need > max {
        return Err(CnnError::TooLargeForGpu { need, max });
    }
    let run = Runner { ctx, dims, n, slab };
    let inp = gpu::storage_buffer(ctx, "cnn input", input);
    let x = gpu::output_buffer(ctx, "cnn x", c * n);
    let t1 = gpu::output_buffer(ctx, "cnn t1", c * n);
    let t2 = gpu::output_buffer(ctx, "cnn t2", c * n);
    let logits = gpu::output_buffer(ctx, "cnn logits", 2 * n);
    let probs = gpu::output_buffer(ctx, "cnn probs", 2 * n);

    let mut enc = ctx
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("cnn") });
    run.conv(&mut enc, &net.stem_conv, &inp, &x);
    run.norm(&mut enc, &net.stem_norm, &x, c);
    run.relu(&mut enc, &x, c * n);
    // Rotate buffers as the CPU does: block input, conv1 output, conv2 output.
    let (mut bx, b1, mut b2) = (&x, &t1, &t2);
    for b in &net.blocks {
        run.conv(&mut enc, &b.conv1, bx, b1);
        run.norm(&mut enc, &b.norm1, b1, c);
        run.relu(&mut enc, b1, c * n);
        run.conv(&mut enc, &b.conv2, b1, b2);
        run.norm(&mut enc, &b.norm2, b2, c);
        run.add_relu(&mut enc, bx, b2, c * n);
        std::mem::swap(&mut bx, &mut b2);
        // Each block is its own submission so a big map never queues one huge batch.
        ctx.queue.submit(Some(enc.finish()));
        enc = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("cnn") });
    }
    run.conv(&mut enc, &net.head, bx, &logits);
    let pl = ctx.pipeline(ELEMENTWISE_SHADER, "softmax2");
    let u = gpu::uniform_buffer(
        ctx,
        "softmax2",
        &LenParams {
            len: n as u32,
            pad: [0; 3],
        },
    );
    let bg = ctx.bind_buffers(&pl, &[&u, &logits, &probs]);
    ctx.dispatch(&mut enc, &pl, &bg, groups_2d(n));
    ctx.queue.submit(Some(enc.finish()));
    Ok(gpu::readback_f32(ctx, &probs, 2 * n))
}

struct Runner<'a> {
    ctx: &'a GpuContext,
    dims: [usize; 3],
    n: usize,
    slab: usize,
}

impl Runner<'_> {
    fn conv(
        &self,
        enc: &mut wgpu::CommandEncoder,
        c: &Conv3d,
        src: &wgpu::Buffer,
        dst: &wgpu::Buffer,
    ) {
        let ctx = self.ctx;
        let [nx, ny, nz] = self.dims;
        let (w, b, nblk) = pack_vec4(c);
        let wb = gpu::storage_buffer(ctx, "conv weight", &w);
        let bb = gpu::storage_buffer(ctx, "conv bias", &b);
        let pl = ctx.pipeline(CONV3D_SHADER, "conv3d");
        let slab = self.slab.clamp(1, nz);
        for z0 in (0..nz).step_by(slab) {
            let sz = slab.min(nz - z0);
            let u = gpu::uniform_buffer(
                ctx,
                "conv params",
                &ConvParams {
                    nx: nx as u32,
                    ny: ny as u32,
                    nz: nz as u32,
                    cin: c.cin as u32,
                    cout: c.cout as u32,
                    k: c.k as u32,
                    z0: z0 as u32,
                    sz: sz as u32,
                    nblk: nblk as u32,
                    pad: [0; 3],
                },
            );
            let bg = ctx.bind_buffers(&pl, &[&u, src, &wb, &bb, dst]);
            let groups = [
                nx.div_ceil(8) as u32,
                ny.div_ceil(8) as u32,
                (sz * nblk) as u32,
            ];
            ctx.dispatch(enc, &pl, &bg, groups);
        }
    }

    /// In place: buf ← IN(buf) over `channels` channels of n voxels.
    fn norm(
        &self,
        enc: &mut wgpu::CommandEncoder,
        norm: &InstanceNorm,
        buf: &wgpu::Buffer,
        channels: usize,
    ) {
        let ctx = self.ctx;
        let nchunks = self.n.div_ceil(NORM_CHUNK);
        let params = NormParams {
            n: self.n as u32,
            channels: channels as u32,
            chunk: NORM_CHUNK as u32,
            nchunks: nchunks as u32,
            eps: super::norm::EPS as f32,
            pad: [0; 3],
        };
        let u = gpu::uniform_buffer(ctx, "norm params", &params);
        let partials = gpu::output_buffer(ctx, "norm partials", 2 * channels * nchunks);
        let gb: Vec<f32> = norm
            .gamma
            .iter()
            .zip(&norm.beta)
            .flat_map(|(g, b)| [*g, *b])
            .collect();
        let gbb = gpu::storage_buffer(ctx, "norm gamma beta", &gb);
        let affine = gpu::output_buffer(ctx, "norm affine", 2 * channels);
        let pl = ctx.pipeline(NORM_SHADER, "partial_sums");
        let bg = ctx.bind_buffers(&pl, &[&u, buf, &partials]);
        ctx.dispatch(enc, &pl, &bg, [nchunks as u32, channels as u32, 1]);
        let pl = ctx.pipeline(NORM_SHADER, "finalize");
        let bg = ctx.bind_buffers(&pl, &[&u, &partials, &gbb, &affine]);
        ctx.dispatch(enc, &pl, &bg, [channels.div_ceil(64) as u32, 1, 1]);
        let pl = ctx.pipeline(NORM_SHADER, "apply");
        let bg = ctx.bind_buffers(&pl, &[&u, &affine, buf]);
        ctx.dispatch(enc, &pl, &bg, groups_2d(channels * self.n));
    }

    fn relu(&self, enc: &mut wgpu::CommandEncoder, buf: &wgpu::Buffer, len: usize) {
        let pl = self.ctx.pipeline(ELEMENTWISE_SHADER, "relu");
        let u = len_uniform(self.ctx, len);
        let bg = self.ctx.bind_buffers(&pl, &[&u, buf]);
        self.ctx.dispatch(enc, &pl, &bg, groups_2d(len));
    }

    fn add_relu(
        &self,
        enc: &mut wgpu::CommandEncoder,
        skip: &wgpu::Buffer,
        buf: &wgpu::Buffer,
        len: usize,
    ) {
        let pl = self.ctx.pipeline(ELEMENTWISE_SHADER, "add_relu");
        let u = len_uniform(self.ctx, len);
        let bg = self.ctx.bind_buffers(&pl, &[&u, skip, buf]);
        self.ctx.dispatch(enc, &pl, &bg, groups_2d(len));
    }
}

fn len_uniform(ctx: &GpuContext, len: usize) -> wgpu::Buffer {
    gpu::uniform_buffer(
        ctx,
        "len",
        &LenParams {
            len: len as u32,
            pad: [0; 3],
        },
    )
}

/// Workgroups of 256 for `len` values, folded into 2D (65535 per dimension).
fn groups_2d(len: usize) -> [u32; 3] {
    let g = len.div_ceil(256).max(1);
    let x = g.min(65535);
    [x as u32, g.div_ceil(x) as u32, 1]
}

/// Weights as `[blk][ci][kz][ky][kx]` vec4 (lane = co mod 4), bias as `[blk]` vec4.
fn pack_vec4(c: &Conv3d) -> (Vec<f32>, Vec<f32>, usize) {
    let nblk = c.cout.div_ceil(LANES);
    let k3 = c.k * c.k * c.k;
    let mut w = vec![0f32; nblk * c.cin * k3 * LANES];
    let mut b = vec![0f32; nblk * LANES];
    for co in 0..c.cout {
        let (blk, lane) = (co / LANES, co % LANES);
        b[blk * LANES + lane] = c.bias[co];
        for ci in 0..c.cin {
            for t in 0..k3 {
                w[((blk * c.cin + ci) * k3 + t) * LANES + lane] =
                    c.weight[(co * c.cin + ci) * k3 + t];
            }
        }
    }
    (w, b, nblk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cnn::infer::forward;
    use crate::cnn::NetworkMeta;

    /// GPU and CPU forward passes agree on a small network with random weights
    /// (any adapter, software ones included).
    #[test]
    fn gpu_forward_matches_cpu() {
        let Some(ctx) = gpu::gpu_for_test("cnn gpu_forward_matches_cpu") else {
            return;
        };
        let mut meta = NetworkMeta::paper(1.0);
        meta.channels = 6;
        meta.blocks = 2;
        meta.head_kernel = 3;
        let net = CaNetwork::random(meta, 9);
        let dims = [19, 13, 11];
        let n = 19 * 13 * 11;
        // A smooth blob plus a ramp: structure at several scales, not noise.
        let input: Vec<f32> = (0..n)
            .map(|i| {
                let (x, y, z) = (
                    (i % 19) as f32,
                    ((i / 19) % 13) as f32,
                    (i / (19 * 13)) as f32,
                );
                let r2 = (x - 9.0).powi(2) + (y - 6.0).powi(2) + (z - 5.0).powi(2);
                (-r2 / 12.0).exp() + 0.05 * x - 0.5
            })
            .collect();
        let logits = forward::<f32>(&net, dims, &input, 4);
        let mut cpu = vec![0f32; 2 * n];
        for i in 0..n {
            let (a, b) = (logits[i], logits[n + i]);
            let m = a.max(b);
            let (e0, e1) = ((a - m).exp(), (b - m).exp());
            cpu[i] = e0 / (e0 + e1);
            cpu[n + i] = e1 / (e0 + e1);
        }
        let gpu_p = forward_gpu(ctx, &net, dims, &input, 5).unwrap();
        let d = max_diff(&cpu, &gpu_p);
        eprintln!("GPU ({}) vs CPU: max |ΔP| = {d:e}", ctx.describe());
        assert!(d < 1e-3, "GPU and CPU differ by {d}");
        let mid = gpu_p.iter().filter(|p| (0.01..0.99).contains(*p)).count();
        assert!(mid > n / 10, "only {mid} of {} values unsaturated", 2 * n);
    }

    /// The same on the real EMD-2566 map (C = 8, B = 2, 1×1×1 head), through the
    /// public entry points.
    #[test]
    fn gpu_matches_cpu_on_real_map() {
        let Some(ctx) = gpu::gpu_for_test("cnn gpu_matches_cpu_on_real_map") else {
            return;
        };
        let Some(dir) = crate::data::shared_data_for_test("cnn gpu_matches_cpu_on_real_map") else {
            return;
        };
        let map = crate::io::mrc::read_map(&dir.join("maps/emd2566_3j6b/2566_3J6B_9.mrc")).unwrap();
        let mut meta = NetworkMeta::paper(map.voxel_size()[0]);
        meta.channels = 8;
        meta.blocks = 2;
        let net = CaNetwork::random(meta, 4);
        let opts = InferenceOptions::default();
        let [_, cpu] = crate::cnn::predict_class_probabilities(&net, &map, &opts).unwrap();
        let [_, gpu_p] = predict_class_probabilities_gpu(ctx, &net, &map, &opts).unwrap();
        let d = max_diff(cpu.data(), gpu_p.data());
        eprintln!(
            "real map, GPU ({}) vs CPU: max |ΔP| = {d:e}",
            ctx.describe()
        );
        assert!(d < 1e-3, "GPU and CPU differ by {d}");
    }

    fn max_diff(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max)
    }
}
