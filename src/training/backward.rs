//! Training forward pass (keeping every activation of one sample) and its
//! backward pass: gradients of the weighted cross-entropy ([`super::loss`])
//! with respect to every parameter of [`CaNetwork`].
//!
//! Layers and their gradients (g = upstream gradient):
//! - 3×3×3 conv (zero 'same' padding): the input gradient is the convolution of
//!   g with the kernel transposed (cin↔cout) and flipped in all three axes, run
//!   through the fast blocked [`conv3d_slabs`]; the weight gradient is the
//!   correlation Σ_p `g[co][p]·x[ci][p+t−h]` ([`conv_grad_weight`]); the bias
//!   gradient Σ_p `g[co][p]`.
//! - Instance norm (whole-volume statistics, biased variance, ε = 1e-5; affine):
//!   with x̂ = (x−μ)/σ, dβ = Σg, dγ = Σg·x̂, dx = (γ/σ)(g − dβ/N − x̂·dγ/N).
//! - ReLU: g where the output is > 0.
//! - Residual add: the gradient goes to both branches.
//! - Dropout (training only): channel dropout after the first ReLU of every
//!   residual block — a dropped channel is zero for the whole sample, a kept
//!   one is scaled by 1/(1−p). The paper gives the rate (0.2), not the place;
//!   channel (spatial) dropout is the usual choice for convolutional features
//!   because neighbouring voxels are strongly correlated, so voxel dropout
//!   hardly regularises.

use rayon::prelude::*;

use crate::cnn::conv::{conv3d_slabs, ChannelSums, PackedConv};
use crate::cnn::norm::EPS;
use crate::cnn::{CaNetwork, Conv3d, InstanceNorm};

/// Slab size for the training convolutions (boxes are small; see [`crate::cnn::infer`]).
const SLAB: usize = 4;

/// Per-channel (mean, 1/σ) of an instance norm's input.
type Stats = Vec<(f32, f32)>;

/// Every activation of one sample's forward pass.
#[derive(Debug, Clone)]
pub struct Tape {
    pub dims: [usize; 3],
    input: Vec<f32>,
    stem_pre: Vec<f32>,
    stem_stats: Stats,
    /// xs[0]: stem output; xs[b + 1]: output of block b.
    xs: Vec<Vec<f32>>,
    c1: Vec<Vec<f32>>,
    s1: Vec<Stats>,
    /// ReLU(IN(c1)) after dropout.
    d1: Vec<Vec<f32>>,
    c2: Vec<Vec<f32>>,
    s2: Vec<Stats>,
    /// Per block, per channel: 0 (dropped) or 1/(1−p) (kept).
    drop: Vec<Vec<f32>>,
    /// `[2][n]` head outputs.
    pub logits: Vec<f32>,
}

fn stats(sums: &ChannelSums, n: usize) -> Stats {
    sums.iter()
        .map(|&(s, s2)| {
            let mean = s / n as f64;
            let var = (s2 / n as f64 - mean * mean).max(0.0);
            (mean as f32, (1.0 / (var + EPS).sqrt()) as f32)
        })
        .collect()
}

/// y = ReLU(γ(x−μ)/σ + β [+ skip]) per channel.
fn norm_relu(
    x: &[f32],
    st: &Stats,
    norm: &InstanceNorm,
    skip: Option<&[f32]>,
    n: usize,
) -> Vec<f32> {
    let mut y = vec![0f32; x.len()];
    y.par_chunks_mut(n).enumerate().for_each(|(c, yc)| {
        let (m, inv) = st[c];
        let a = norm.gamma[c] * inv;
        let b = norm.beta[c] - m * a;
        let xc = &x[c * n..][..n];
        match skip {
            Some(s) => {
                let sc = &s[c * n..][..n];
                for ((y, &x), &s) in yc.iter_mut().zip(xc).zip(sc) {
                    *y = (a * x + b + s).max(0.0);
                }
            }
            None => {
                for (y, &x) in yc.iter_mut().zip(xc) {
                    *y = (a * x + b).max(0.0);
                }
            }
        }
    });
    y
}

/// Channel-dropout scales for every block: each channel kept with probability
/// 1 − `rate` (scaled by 1/(1 − rate)) or dropped. Rate 0 keeps everything.
pub fn dropout_scales(net: &CaNetwork, rate: f64, rng: &mut impl rand::Rng) -> Vec<Vec<f32>> {
    let c = net.meta.channels;
    net.blocks
        .iter()
        .map(|_| {
            (0..c)
                .map(|_| {
                    if rate <= 0.0 {
                        1.0
                    } else if rng.random::<f64>() < rate {
                        0.0
                    } else {
                        (1.0 / (1.0 - rate)) as f32
                    }
                })
                .collect()
        })
        .collect()
}

/// The forward pass on a normalised single-channel `input` (x fastest),
/// keeping what the backward pass needs. `drop` comes from [`dropout_scales`].
pub fn forward_train(net: &CaNetwork, dims: [usize; 3], input: &[f32], drop: &[Vec<f32>]) -> Tape {
    let n: usize = dims.iter().product();
    let c = net.meta.channels;
    assert_eq!(input.len(), n, "input size");
    assert_eq!(drop.len(), net.blocks.len(), "one dropout vector per block");
    let conv = |cv: &Conv3d, x: &[f32], cout: usize| {
        let mut out = vec![0f32; cout * n];
        let sums = conv3d_slabs(&PackedConv::new(cv), dims, x, &mut out, SLAB);
        (out, stats(&sums, n))
    };
    let (stem_pre, stem_stats) = conv(&net.stem_conv, input, c);
    let mut xs = vec![norm_relu(&stem_pre, &stem_stats, &net.stem_norm, None, n)];
    let (mut c1s, mut s1s, mut d1s, mut c2s, mut s2s) = (vec![], vec![], vec![], vec![], vec![]);
    for (b, blk) in net.blocks.iter().enumerate() {
        let x = xs.last().unwrap();
        let (c1, s1) = conv(&blk.conv1, x, c);
        let mut d1 = norm_relu(&c1, &s1, &blk.norm1, None, n);
        d1.par_chunks_mut(n).zip(&drop[b]).for_each(|(ch, &s)| {
            if s != 1.0 {
                ch.iter_mut().for_each(|v| *v *= s);
            }
        });
        let (c2, s2) = conv(&blk.conv2, &d1, c);
        let out = norm_relu(&c2, &s2, &blk.norm2, Some(x), n);
        c1s.push(c1);
        s1s.push(s1);
        d1s.push(d1);
        c2s.push(c2);
        s2s.push(s2);
        xs.push(out);
    }
    let mut logits = vec![0f32; 2 * n];
    conv3d_slabs(
        &PackedConv::new(&net.head),
        dims,
        xs.last().unwrap(),
        &mut logits,
        SLAB,
    );
    Tape {
        dims,
        input: input.to_vec(),
        stem_pre,
        stem_stats,
        xs,
        c1: c1s,
        s1: s1s,
        d1: d1s,
        c2: c2s,
        s2: s2s,
        drop: drop.to_vec(),
        logits,
    }
}

/// Gradients of the loss for every parameter (a network-shaped holder), from
/// the gradient of the loss with respect to the logits.
pub fn backward(net: &CaNetwork, tape: &Tape, dlogits: &[f32]) -> CaNetwork {
    let dims = tape.dims;
    let n: usize = dims.iter().product();
    let mut grad = super::params::zeros_like(net);
    let nb = net.blocks.len();

    let (dw, db, g) = conv_backward(&net.head, dims, &tape.xs[nb], dlogits, true);
    grad.head.weight = dw;
    grad.head.bias = db;
    let mut g = g.expect("input gradient requested");
    for b in (0..nb).rev() {
        let blk = &net.blocks[b];
        let out = &tape.xs[b + 1];
        // ReLU at the block output.
        g.par_iter_mut().zip(out.par_iter()).for_each(|(g, &y)| {
            if y <= 0.0 {
                *g = 0.0
            }
        });
        let (dc2, dg2, dbeta2) = norm_backward(&tape.c2[b], &tape.s2[b], &blk.norm2, &g, n);
        grad.blocks[b].norm2 = InstanceNorm {
            gamma: dg2,
            beta: dbeta2,
        };
        let (dw2, db2, dd1) = conv_backward(&blk.conv2, dims, &tape.d1[b], &dc2, true);
        grad.blocks[b].conv2.weight = dw2;
        grad.blocks[b].conv2.bias = db2;
        let mut dh1 = dd1.unwrap();
        // Dropout then ReLU: d1 = s·ReLU(h); d1 > 0 exactly where both pass.
        let d1 = &tape.d1[b];
        let drop = &tape.drop[b];
        dh1.par_chunks_mut(n).enumerate().for_each(|(ch, gc)| {
            let s = drop[ch];
            let yc = &d1[ch * n..][..n];
            for (g, &y) in gc.iter_mut().zip(yc) {
                *g = if y > 0.0 { *g * s } else { 0.0 };
            }
        });
        let (dc1, dg1, dbeta1) = norm_backward(&tape.c1[b], &tape.s1[b], &blk.norm1, &dh1, n);
        grad.blocks[b].norm1 = InstanceNorm {
            gamma: dg1,
            beta: dbeta1,
        };
        let (dw1, db1, dx) = conv_backward(&blk.conv1, dims, &tape.xs[b], &dc1, true);
        grad.blocks[b].conv1.weight = dw1;
        grad.blocks[b].conv1.bias = db1;
        // Residual: the skip path carries g unchanged.
        let mut dx = dx.unwrap();
        dx.par_iter_mut()
            .zip(g.par_iter())
            .for_each(|(a, &b)| *a += b);
        g = dx;
    }
    g.par_iter_mut()
        .zip(tape.xs[0].par_iter())
        .for_each(|(g, &y)| {
            if y <= 0.0 {
                *g = 0.0
            }
        });
    let (ds, dgs, dbs) = norm_backward(&tape.stem_pre, &tape.stem_stats, &net.stem_norm, &g, n);
    grad.stem_norm = InstanceNorm {
        gamma: dgs,
        beta: dbs,
    };
    let (dw, db, _) = conv_backward(&net.stem_conv, dims, &tape.input, &ds, false);
    grad.stem_conv.weight = dw;
    grad.stem_conv.bias = db;
    grad
}

/// Instance-norm backward: (dx, dγ, dβ).
fn norm_backward(
    x: &[f32],
    st: &Stats,
    norm: &InstanceNorm,
    g: &[f32],
    n: usize,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut dx = vec![0f32; x.len()];
    let per: Vec<(f32, f32)> = dx
        .par_chunks_mut(n)
        .enumerate()
        .map(|(c, dxc)| {
            let (m, inv) = st[c];
            let xc = &x[c * n..][..n];
            let gc = &g[c * n..][..n];
            let (mut sg, mut sgx) = (0f64, 0f64);
            for (row_x, row_g) in xc.chunks(64).zip(gc.chunks(64)) {
                let (mut a, mut b) = (0f32, 0f32);
                for (&x, &g) in row_x.iter().zip(row_g) {
                    a += g;
                    b += g * (x - m) * inv;
                }
                sg += a as f64;
                sgx += b as f64;
            }
            let k = norm.gamma[c] * inv;
            let (mg, mgx) = ((sg / n as f64) as f32, (sgx / n as f64) as f32);
            for ((d, &x), &g) in dxc.iter_mut().zip(xc).zip(gc) {
                *d = k * (g - mg - (x - m) * inv * mgx);
            }
            (sgx as f32, sg as f32)
        })
        .collect();
    let (dgamma, dbeta) = per.into_iter().unzip();
    (dx, dgamma, dbeta)
}

/// Conv backward: (dW, db, dx if `need_input`).
fn conv_backward(
    conv: &Conv3d,
    dims: [usize; 3],
    x: &[f32],
    g: &[f32],
    need_input: bool,
) -> (Vec<f32>, Vec<f32>, Option<Vec<f32>>) {
    let n: usize = dims.iter().product();
    let db: Vec<f32> = g
        .par_chunks(n)
        .map(|c| c.iter().map(|&v| v as f64).sum::<f64>() as f32)
        .collect();
    let dw = conv_grad_weight(conv.cin, conv.cout, conv.k, dims, x, g);
    let dx = need_input.then(|| {
        let t = transposed_flipped(conv);
        let mut dx = vec![0f32; conv.cin * n];
        conv3d_slabs(&PackedConv::new(&t), dims, g, &mut dx, SLAB);
        dx
    });
    (dw, db, dx)
}

/// The convolution whose output is the input gradient of `conv`: weights
/// `w'[ci][co][t] = w[co][ci][k³−1−t]` (cin↔cout, all three axes flipped), no bias.
pub fn transposed_flipped(conv: &Conv3d) -> Conv3d {
    let k3 = conv.k * conv.k * conv.k;
    let mut w = vec![0f32; conv.weight.len()];
    for co in 0..conv.cout {
        for ci in 0..conv.cin {
            for t in 0..k3 {
                w[(ci * conv.cout + co) * k3 + t] =
                    conv.weight[(co * conv.cin + ci) * k3 + (k3 - 1 - t)];
            }
        }
    }
    Conv3d {
        cin: conv.cout,
        cout: conv.cin,
        k: conv.k,
        weight: w,
        bias: vec![0.0; conv.cin],
    }
}

/// Output channels and x lanes of the weight-gradient register tile: for one
/// (ci, kz, ky) the tile holds GB×k accumulators of XL lanes, each input
/// vector loaded once feeds GB FMAs and each gradient vector k FMAs.
const GB: usize = 4;
const XL: usize = 8;

/// `dW[co][ci][kz][ky][kx] = Σ_{z,y,x} g[co][z][y][x]·x[ci][z+kz−h][y+ky−h][x+kx−h]`
/// (zero outside the box). Both tensors are first copied into zero-padded
/// buffers (x rounded up to whole XL-lane vectors, the input with a halo of h)
/// so the inner loop has no bounds logic; each job (co-block, ci, kz, ky)
/// keeps its accumulators in registers over the whole box and reduces them in
/// f64 once per z-plane.
pub fn conv_grad_weight(
    cin: usize,
    cout: usize,
    k: usize,
    dims: [usize; 3],
    x: &[f32],
    g: &[f32],
) -> Vec<f32> {
    let [nx, ny, nz] = dims;
    let n = nx * ny * nz;
    let h = k / 2;
    let nxr = nx.div_ceil(XL) * XL;
    let (px, py, pz) = (nxr + 2 * h, ny + 2 * h, nz + 2 * h);
    let pl = px * py * pz;
    let mut xp = vec![0f32; cin * pl];
    xp.par_chunks_mut(pl).enumerate().for_each(|(ci, d)| {
        for z in 0..nz {
            for y in 0..ny {
                let s = &x[ci * n + (z * ny + y) * nx..][..nx];
                d[((z + h) * py + y + h) * px + h..][..nx].copy_from_slice(s);
            }
        }
    });
    // Gradients padded along x to whole vectors, channels padded to whole blocks.
    let nblk = cout.div_ceil(GB);
    let gl = nxr * ny * nz;
    let mut gp = vec![0f32; nblk * GB * gl];
    gp.par_chunks_mut(gl)
        .enumerate()
        .take(cout)
        .for_each(|(co, d)| {
            for r in 0..ny * nz {
                d[r * nxr..][..nx].copy_from_slice(&g[co * n + r * nx..][..nx]);
            }
        });
    let k3 = k * k * k;
    let geo = Geo {
        k,
        nxr,
        ny,
        nz,
        px,
        py,
        pl,
        gl,
    };
    let isa_avx = cfg!(target_arch = "x86_64") && avx2_fma();
    let jobs: Vec<[f64; GB * 3]> = (0..nblk * cin * k * k)
        .into_par_iter()
        .map(|job| {
            let (blk, rest) = (job / (cin * k * k), job % (cin * k * k));
            let (ci, kzy) = (rest / (k * k), rest % (k * k));
            let (kz, ky) = (kzy / k, kzy % k);
            let mut out = [0f64; GB * 3];
            grad_tile(isa_avx, &geo, &xp, &gp, blk, ci, kz, ky, &mut out);
            out
        })
        .collect();
    let mut dw = vec![0f32; cout * cin * k3];
    for (job, tot) in jobs.iter().enumerate() {
        let (blk, rest) = (job / (cin * k * k), job % (cin * k * k));
        let (ci, kzy) = (rest / (k * k), rest % (k * k));
        for j in 0..GB {
            let co = blk * GB + j;
            if co >= cout {
                break;
            }
            for kx in 0..k {
                dw[(co * cin + ci) * k3 + kzy * k + kx] = tot[j * 3 + kx] as f32;
            }
        }
    }
    dw
}

#[derive(Clone, Copy)]
struct Geo {
    k: usize,
    nxr: usize,
    ny: usize,
    nz: usize,
    px: usize,
    py: usize,
    pl: usize,
    gl: usize,
}

fn avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[allow(clippy::too_many_arguments)]
fn grad_tile(
    avx: bool,
    geo: &Geo,
    xp: &[f32],
    gp: &[f32],
    blk: usize,
    ci: usize,
    kz: usize,
    ky: usize,
    out: &mut [f64; GB * 3],
) {
    #[cfg(target_arch = "x86_64")]
    if avx {
        // SAFETY: only called after runtime detection of avx2 and fma.
        unsafe { grad_tile_avx2(geo, xp, gp, blk, ci, kz, ky, out) };
        return;
    }
    let _ = avx;
    grad_tile_impl(geo, xp, gp, blk, ci, kz, ky, out, |a, b, c| a * b + c)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn grad_tile_avx2(
    geo: &Geo,
    xp: &[f32],
    gp: &[f32],
    blk: usize,
    ci: usize,
    kz: usize,
    ky: usize,
    out: &mut [f64; GB * 3],
) {
    grad_tile_impl(
        geo,
        xp,
        gp,
        blk,
        ci,
        kz,
        ky,
        out,
        |a: f32, b: f32, c: f32| a.mul_add(b, c),
    )
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn grad_tile_impl(
    geo: &Geo,
    xp: &[f32],
    gp: &[f32],
    blk: usize,
    ci: usize,
    kz: usize,
    ky: usize,
    out: &mut [f64; GB * 3],
    madd: impl Fn(f32, f32, f32) -> f32 + Copy,
) {
    let k = geo.k;
    let xc = &xp[ci * geo.pl..][..geo.pl];
    let gb = &gp[blk * GB * geo.gl..][..GB * geo.gl];
    for z in 0..geo.nz {
        // k ≤ 3 kx taps; unused ones stay zero.
        let mut acc = [[[0f32; XL]; 3]; GB];
        for y in 0..geo.ny {
            let xrow = &xc[((z + kz) * geo.py + y + ky) * geo.px..][..geo.px];
            let grow = (z * geo.ny + y) * geo.nxr;
            for x0 in (0..geo.nxr).step_by(XL) {
                let mut gv = [[0f32; XL]; GB];
                for (j, v) in gv.iter_mut().enumerate() {
                    *v = gb[j * geo.gl + grow + x0..][..XL].try_into().unwrap();
                }
                for kx in 0..k {
                    let xv: &[f32; XL] = xrow[x0 + kx..][..XL].try_into().unwrap();
                    for j in 0..GB {
                        for l in 0..XL {
                            acc[j][kx][l] = madd(gv[j][l], xv[l], acc[j][kx][l]);
                        }
                    }
                }
            }
        }
        for j in 0..GB {
            for kx in 0..k {
                out[j * 3 + kx] += acc[j][kx].iter().map(|&v| v as f64).sum::<f64>();
            }
        }
    }
}
