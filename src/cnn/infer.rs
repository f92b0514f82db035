//! Forward pass over a whole map on the CPU, layer by layer, each convolution
//! computed in z-slabs (see [`super::conv`]).
//!
//! Memory in RAM: three whole-map activation buffers of C channels (block
//! input, the first conv's output, the second conv's output that becomes the
//! next block input), so the peak is ≈ 3·C·N·s bytes for N voxels with s = 4
//! (f32) or 2 (f16 activations), plus the slab buffers ≈ 2·C·(slab + 2)·ny·nx·4
//! bytes and the single-channel maps (input, logits/probabilities, output:
//! ≈ 5·N·4 bytes). Instance norm needs statistics over the whole map before any
//! voxel can go on to the next layer, so one whole-map buffer per live tensor
//! is the minimum without recomputation.
//!
//! Measured peak RSS, C = 32, B = 10, 96³ map (N = 884 736): 384 MB with f32
//! activations (3·C·N·4 = 340 MB predicted for the activations alone), 218 MB
//! with f16 (170 MB predicted): ≈ 430 and 250 bytes per voxel. Shipped network
//! (C = 16, B = 4), f32: 1612 MiB on 200³, 5199 MiB on 300³.
//!
//! Bounded memory: when that estimate ([`memory_estimate`]) exceeds the budget
//! ([`InferenceOptions::max_memory_bytes`]), the three C-channel tensors go to
//! temporary files instead ([`super::spill`]) and RAM holds only slab buffers
//! (O(C·slab·nx·ny)) and the single-channel maps. The result is bit-identical
//! to the in-RAM pass for the same slab size (same slabs, same arithmetic,
//! same f64 norm statistics), and independent of the slab size to rounding
//! (bit-identical on EMD-2566 for slabs 3, 4, 7: the f64 sums of f32 row sums
//! are exact there). Measured peak RSS of the whole `bench cnn` process with
//! the activations in files (f32): shipped network 101 / 183 / 432 MiB on
//! 100³ / 200³ / 300³, C = 32, B = 10: 118 / 216 MiB on 100³ / 200³ (in RAM:
//! 278 / 1612 / 5199 and 470 / 3104 MiB). Time: 31 vs 33 s (shipped, 200³),
//! 385 vs 353 s (C = 32, 200³), 147 vs 104 s (shipped, 300³) on 2 shared cores
//! under load: the page cache absorbs most of the file traffic while memory
//! is free.

use super::conv::{conv3d_slabs, Act, PackedConv};
use super::network::{CaNetwork, InstanceNorm};
use super::norm::{norm_add_relu, norm_relu};
use crate::map::DensityMap;

/// How to run the CPU forward pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InferenceOptions {
    /// z-planes per slab (bounds the slab buffers; the result does not depend on
    /// it). 4 is the default because the padded input slab then stays in cache:
    /// measured 32→32 conv on 96³, slab 2/4/8/16: 123/122/119/94 GFLOP/s; on
    /// 160³, slab 2/4: 107/96 GFLOP/s (2 Zen 4 cores).
    pub slab: usize,
    /// Store the whole-map activations as f16 (half the memory; convolutions
    /// still accumulate in f32). On EMD-2566 with a random C = 8, B = 2 network
    /// P(Cα) moved by at most 3.4e-3 (mean 1.3e-4) against f32.
    pub f16_activations: bool,
    /// Memory budget of the CPU pass in bytes: when the in-RAM estimate
    /// ([`memory_estimate`]) is above it, the whole-map activations are kept in
    /// temporary files (same result, slower by the file traffic). `None`: half
    /// of `MemAvailable` in /proc/meminfo (what the machine can give without
    /// swapping, with room left for the rest of the pipeline and other
    /// processes), or 2 GiB where that cannot be read ([`default_budget`]).
    /// Spilling changes only speed, never the result, so a budget that depends
    /// on the machine's state is safe.
    pub max_memory_bytes: Option<u64>,
    /// Directory for those files; `None`: [`std::env::temp_dir`] ($TMPDIR, else /tmp).
    pub spill_dir: Option<std::path::PathBuf>,
}

impl Default for InferenceOptions {
    fn default() -> Self {
        InferenceOptions {
            slab: 4,
            f16_activations: false,
            max_memory_bytes: None,
            spill_dir: None,
        }
    }
}

/// Why the network could not run on a map.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CnnError {
    #[error("map voxel size {map:?} Å differs from the network's {net} Å; resample the map first")]
    VoxelSize { map: [f64; 3], net: f64 },
    #[error("map is constant (standard deviation 0); the network input cannot be normalised")]
    ConstantMap,
    #[error("map contains non-finite values")]
    NonFinite,
    #[error(
        "map needs {need} bytes per activation buffer, the GPU binds at most {max}; use the CPU"
    )]
    TooLargeForGpu { need: u64, max: u64 },
    #[error("temporary activation file in {dir}: {message}")]
    Spill {
        dir: std::path::PathBuf,
        message: String,
    },
}

/// Estimated peak bytes of the CPU pass: `(in RAM, with the activations in files)`.
pub fn memory_estimate(net: &CaNetwork, dims: [usize; 3], opts: &InferenceOptions) -> (u64, u64) {
    let [nx, ny, nz] = dims.map(|d| d as u64);
    let (n, c) = (nx * ny * nz, net.meta.channels.max(2) as u64);
    let s = if opts.f16_activations { 2 } else { 4 };
    let slab = (opts.slab as u64).clamp(1, nz.max(1));
    let padded_plane = (nx.div_ceil(16) * 16 + 2) * (ny + 2);
    // Padded input slab and the blocked output slab (f32).
    let slab_bufs = c * (slab + 2) * padded_plane * 4 + c * slab * nx * ny * 4;
    // Input, the [2][n] logits turned into probabilities, the returned map.
    let maps = 5 * n * 4;
    let in_ram = 3 * c * n * s + slab_bufs + maps;
    // Read window, scatter slab, and the two slabs of the residual pass.
    let spilled = slab_bufs + c * (slab + 2) * nx * ny * s + 3 * c * slab * nx * ny * s + maps;
    (in_ram, spilled)
}

/// Whether the CPU pass on a `dims` map keeps its activations in files
/// (its in-RAM estimate is over the budget).
pub fn spills(net: &CaNetwork, dims: [usize; 3], opts: &InferenceOptions) -> bool {
    memory_estimate(net, dims, opts).0 > budget(opts).0
}

/// The budget in bytes, and where it came from.
fn budget(opts: &InferenceOptions) -> (u64, &'static str) {
    match opts.max_memory_bytes {
        Some(b) => (b, "given"),
        None => default_budget_and_source(),
    }
}

/// The budget when none is given: half of `MemAvailable` (/proc/meminfo), else 2 GiB.
pub fn default_budget() -> u64 {
    default_budget_and_source().0
}

fn default_budget_and_source() -> (u64, &'static str) {
    let avail = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        let line = m.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    });
    match avail {
        Some(a) => (a / 2, "default: half the available memory"),
        None => (2 << 30, "default: 2 GiB, /proc/meminfo unreadable"),
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// P(Cα) at every voxel of `map`, on the same grid. The map must already be on
/// the network's voxel size ([`CaNetwork::meta`]`.voxel_size`, within 1 %).
pub fn predict_ca_probability(
    net: &CaNetwork,
    map: &DensityMap,
    opts: &InferenceOptions,
) -> Result<DensityMap, CnnError> {
    let [_, ca] = predict_class_probabilities(net, map, opts)?;
    Ok(ca)
}

/// Both softmax outputs: `[P(no Cα), P(Cα)]`, each on the input grid.
pub fn predict_class_probabilities(
    net: &CaNetwork,
    map: &DensityMap,
    opts: &InferenceOptions,
) -> Result<[DensityMap; 2], CnnError> {
    let input = checked_input(net, map)?;
    let dims = map.dims();
    let (in_ram, spilled) = memory_estimate(net, dims, opts);
    let (budget, why) = budget(opts);
    let mut probs = if in_ram <= budget {
        log::info!(
            "CPU inference in RAM: about {:.0} MiB, within the {:.0} MiB budget ({why})",
            in_ram as f64 / MIB,
            budget as f64 / MIB
        );
        if opts.f16_activations {
            forward::<half::f16>(net, dims, &input, opts.slab)
        } else {
            forward::<f32>(net, dims, &input, opts.slab)
        }
    } else {
        let dir = opts.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
        let s = if opts.f16_activations { 2 } else { 4 };
        log::info!(
            "CPU inference would need about {:.0} MiB in RAM, over the {:.0} MiB budget ({why}): \
             keeping the activations in temporary files in {} ({:.0} MiB on disk, about {:.0} MiB in RAM)",
            in_ram as f64 / MIB,
            budget as f64 / MIB,
            dir.display(),
            (3 * net.meta.channels * map.len() * s) as f64 / MIB,
            spilled as f64 / MIB
        );
        if spilled > budget {
            log::warn!(
                "even with the activations on disk the CPU pass needs about {:.0} MiB, over the budget",
                spilled as f64 / MIB
            );
        }
        if opts.f16_activations {
            super::spill::forward_spilled::<half::f16>(net, dims, input, opts.slab, &dir)?
        } else {
            super::spill::forward_spilled::<f32>(net, dims, input, opts.slab, &dir)?
        }
    };
    // The logits become probabilities in place: [2][n] either way.
    let n = map.len();
    let (p0, p1) = probs.split_at_mut(n);
    for (a, b) in p0.iter_mut().zip(p1.iter_mut()) {
        // Softmax over two classes, shifted by the max so exp never overflows.
        let m = a.max(*b);
        let (e0, e1) = ((*a - m).exp(), (*b - m).exp());
        *a = e0 / (e0 + e1);
        *b = e1 / (e0 + e1);
    }
    Ok(probability_maps(map, probs))
}

/// The network input for `map`: checks the voxel size against the network's
/// (within 1 %) and normalises ([`normalised_input`]).
pub fn checked_input(net: &CaNetwork, map: &DensityMap) -> Result<Vec<f32>, CnnError> {
    let vs = map.voxel_size();
    let want = net.meta.voxel_size;
    if vs.iter().any(|v| ((v - want) / want).abs() > 0.01) {
        return Err(CnnError::VoxelSize { map: vs, net: want });
    }
    normalised_input(map.data())
}

/// `[2][n]` softmax outputs as two maps on `map`'s grid.
pub fn probability_maps(map: &DensityMap, mut probs: Vec<f32>) -> [DensityMap; 2] {
    let n = map.len();
    let p1 = probs.split_off(n);
    let vs = map.voxel_size();
    let mk = |d| DensityMap::new(map.dims(), vs, map.origin(), d).expect("same grid as the input");
    [mk(probs), mk(p1)]
}

/// Zero mean, unit standard deviation over the whole map: maps come in
/// arbitrary density units and thresholds, and this makes the network see the
/// same scale whatever the source (the statistics include solvent voxels, so a
/// map boxed tightly or loosely shifts them a little).
pub fn normalised_input(data: &[f32]) -> Result<Vec<f32>, CnnError> {
    if data.iter().any(|v| !v.is_finite()) {
        return Err(CnnError::NonFinite);
    }
    let n = data.len() as f64;
    let mean = data.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = data.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    if var <= 0.0 {
        return Err(CnnError::ConstantMap);
    }
    let inv = 1.0 / var.sqrt();
    Ok(data
        .iter()
        .map(|&v| ((v as f64 - mean) * inv) as f32)
        .collect())
}

/// The two head logits `[2][n]` for a normalised single-channel input.
pub fn forward<S: Act>(net: &CaNetwork, dims: [usize; 3], input: &[f32], slab: usize) -> Vec<f32> {
    let n = dims.iter().product::<usize>();
    let c = net.meta.channels;
    let conv_norm_relu = |conv: &PackedConv, norm: &InstanceNorm, inp: &[S], out: &mut [S]| {
        let sums = conv3d_slabs(conv, dims, inp, out, slab);
        norm_relu(out, n, &sums, norm);
    };
    let mut x = vec![S::default(); c * n];
    {
        let sums = conv3d_slabs(&PackedConv::new(&net.stem_conv), dims, input, &mut x, slab);
        norm_relu(&mut x, n, &sums, &net.stem_norm);
    }
    let mut t1 = vec![S::default(); c * n];
    let mut t2 = vec![S::default(); c * n];
    for b in &net.blocks {
        conv_norm_relu(&PackedConv::new(&b.conv1), &b.norm1, &x, &mut t1);
        let sums = conv3d_slabs(&PackedConv::new(&b.conv2), dims, &t1, &mut t2, slab);
        norm_add_relu(&mut t2, &x, n, &sums, &b.norm2);
        std::mem::swap(&mut x, &mut t2);
    }
    drop((t1, t2));
    let mut logits = vec![0f32; 2 * n];
    conv3d_slabs(&PackedConv::new(&net.head), dims, &x, &mut logits, slab);
    logits
}
