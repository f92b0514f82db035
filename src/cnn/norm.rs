//! Instance normalisation (Ulyanov et al. 2016) over the whole map, fused with
//! ReLU and the residual add.
//!
//! y = γ·(x − μ_c)/√(σ²_c + ε) + β, with μ_c and σ²_c the mean and biased
//! variance of channel c over every voxel of the map (ε = 1e-5, as PyTorch's
//! InstanceNorm3d). The statistics come from f64 sums gathered slab by slab
//! ([`super::conv::conv3d_slabs`]), so they do not depend on the slab size.

use rayon::prelude::*;

use super::conv::{Act, ChannelSums};
use super::network::InstanceNorm;

pub const EPS: f64 = 1e-5;

/// Per-channel (scale, shift) so that y = scale·x + shift.
pub fn affine(sums: &ChannelSums, count: usize, norm: &InstanceNorm) -> Vec<(f32, f32)> {
    sums.iter()
        .enumerate()
        .map(|(c, &(s, s2))| {
            let n = count as f64;
            let mean = s / n;
            let var = (s2 / n - mean * mean).max(0.0);
            let scale = norm.gamma[c] as f64 / (var + EPS).sqrt();
            (scale as f32, (norm.beta[c] as f64 - mean * scale) as f32)
        })
        .collect()
}

/// In place: x ← ReLU(IN(x)). `buf` is `[c][n]`.
pub fn norm_relu<S: Act>(buf: &mut [S], n: usize, sums: &ChannelSums, norm: &InstanceNorm) {
    let ab = affine(sums, n, norm);
    buf.par_chunks_mut(n).zip(ab).for_each(|(ch, (a, b))| {
        for v in ch {
            *v = S::store((a * v.load() + b).max(0.0));
        }
    });
}

/// In place: x ← ReLU(IN(x) + skip), the end of a residual basic block.
pub fn norm_add_relu<S: Act>(
    buf: &mut [S],
    skip: &[S],
    n: usize,
    sums: &ChannelSums,
    norm: &InstanceNorm,
) {
    let ab = affine(sums, n, norm);
    buf.par_chunks_mut(n)
        .zip(skip.par_chunks(n))
        .zip(ab)
        .for_each(|((ch, sk), (a, b))| {
            for (v, s) in ch.iter_mut().zip(sk) {
                *v = S::store((a * v.load() + b + s.load()).max(0.0));
            }
        });
}
