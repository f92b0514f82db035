//! 3D convolution (stride 1, zero 'same' padding) on the CPU, one z-slab at a time.
//!
//! `out[co][z][y][x] = b[co] + Σ_{ci,dz,dy,dx} w[co][ci][dz][dy][dx] · in[ci][z+dz−h][y+dy−h][x+dx−h]`,
//! `h = k/2` (cross-correlation, as PyTorch's Conv3d). This is >95 % of the
//! network's work, so the kernel is blocked: weights are reordered once to
//! `[co-block][ci][kz][ky][kx][COB]`, and each inner step loads XT contiguous
//! input values along x and updates a COB×XT register tile of accumulators
//! with FMAs (x innermost so the compiler vectorises it). The slab's input is
//! first copied into a zero-padded f32 buffer (halo of h planes/rows/columns,
//! rows rounded up to whole tiles) so that the inner loop has no bounds logic.

use rayon::prelude::*;

use super::network::Conv3d;

/// Output channels per register tile.
pub(crate) const COB: usize = 4;
/// x values per register tile (two AVX registers of f32). 16×4 measured best on
/// Zen 4 with AVX2+FMA (8×8, 16×6, 8×12 slower; 24×4 and 32×2 stop vectorising).
pub(crate) const XT: usize = 16;

/// Activation storage: f32, or f16 to halve the whole-map buffers.
pub trait Act: Copy + Send + Sync + Default + 'static {
    fn load(self) -> f32;
    fn store(v: f32) -> Self;
    /// The values' bytes in native order (activations kept in a temporary file).
    fn bytes(v: &[Self]) -> &[u8];
    fn bytes_mut(v: &mut [Self]) -> &mut [u8];
}
impl Act for f32 {
    #[inline(always)]
    fn load(self) -> f32 {
        self
    }
    #[inline(always)]
    fn store(v: f32) -> Self {
        v
    }
    fn bytes(v: &[Self]) -> &[u8] {
        bytemuck::cast_slice(v)
    }
    fn bytes_mut(v: &mut [Self]) -> &mut [u8] {
        bytemuck::cast_slice_mut(v)
    }
}
impl Act for half::f16 {
    #[inline(always)]
    fn load(self) -> f32 {
        self.to_f32()
    }
    #[inline(always)]
    fn store(v: f32) -> Self {
        half::f16::from_f32(v)
    }
    fn bytes(v: &[Self]) -> &[u8] {
        use half::slice::HalfFloatSliceExt;
        bytemuck::cast_slice(v.reinterpret_cast())
    }
    fn bytes_mut(v: &mut [Self]) -> &mut [u8] {
        use half::slice::HalfFloatSliceExt;
        bytemuck::cast_slice_mut(v.reinterpret_cast_mut())
    }
}

/// A convolution with its weights in the kernel's blocked order.
#[derive(Debug, Clone)]
pub struct PackedConv {
    pub cin: usize,
    pub cout: usize,
    pub k: usize,
    nblk: usize,
    /// `[blk][ci][kz][ky][kx][COB]`, zero for the padding channels of the last block.
    w: Vec<f32>,
    /// `[blk][COB]`.
    bias: Vec<f32>,
}

impl PackedConv {
    pub fn new(c: &Conv3d) -> Self {
        let (cin, cout, k) = (c.cin, c.cout, c.k);
        let nblk = cout.div_ceil(COB);
        let k3 = k * k * k;
        let mut w = vec![0f32; nblk * cin * k3 * COB];
        let mut bias = vec![0f32; nblk * COB];
        for co in 0..cout {
            let (blk, cb) = (co / COB, co % COB);
            bias[blk * COB + cb] = c.bias[co];
            for ci in 0..cin {
                for t in 0..k3 {
                    w[((blk * cin + ci) * k3 + t) * COB + cb] = c.weight[(co * cin + ci) * k3 + t];
                }
            }
        }
        PackedConv {
            cin,
            cout,
            k,
            nblk,
            w,
            bias,
        }
    }
}

/// Grid sizes of one slab's padded input buffer.
#[derive(Debug, Clone, Copy)]
struct Pad {
    h: usize,
    px: usize,
    py: usize,
    pz: usize,
}

impl Pad {
    fn new(k: usize, nx: usize, ny: usize, sz: usize) -> Self {
        let h = k / 2;
        Pad {
            h,
            px: nx.div_ceil(XT) * XT + 2 * h,
            py: ny + 2 * h,
            pz: sz + 2 * h,
        }
    }
    fn channel_len(&self) -> usize {
        self.px * self.py * self.pz
    }
}

/// Per-channel Σx and Σx² (f64, so the sums do not depend on how the map was cut into slabs).
pub type ChannelSums = Vec<(f64, f64)>;

/// Convolves a whole map, `slab` z-planes at a time: `input` is `[cin][nz][ny][nx]`,
/// `output` is `[cout][nz][ny][nx]`. Returns each output channel's Σx and Σx²
/// (for instance norm). Peak extra memory: one padded input slab and one output
/// slab, ≈ (cin + cout)·(slab + 2h)·ny·nx·4 bytes.
pub fn conv3d_slabs<I: Act, O: Act>(
    conv: &PackedConv,
    dims: [usize; 3],
    input: &[I],
    output: &mut [O],
    slab: usize,
) -> ChannelSums {
    let [nx, ny, nz] = dims;
    let n = nx * ny * nz;
    assert_eq!(input.len(), conv.cin * n, "conv input size");
    assert_eq!(output.len(), conv.cout * n, "conv output size");
    let slab = slab.clamp(1, nz);
    let plane = nx * ny;
    let mut sums = vec![(0f64, 0f64); conv.cout];
    let mut work = SlabConv::default();
    for z0 in (0..nz).step_by(slab) {
        let sz = slab.min(nz - z0);
        work.convolve(conv, input, dims, z0, sz);
        let dsts = output
            .par_chunks_mut(n)
            .map(|ch| &mut ch[z0 * plane..][..sz * plane]);
        add_sums(&mut sums, work.scatter(conv, dsts));
    }
    sums
}

/// Adds one slab's per-channel sums to the running totals.
pub(crate) fn add_sums(total: &mut ChannelSums, slab: ChannelSums) {
    for (t, s) in total.iter_mut().zip(slab) {
        t.0 += s.0;
        t.1 += s.1;
    }
}

/// One slab of a convolution, split into the convolution proper and the
/// scatter of its result, so that the whole-map pass ([`conv3d_slabs`]) and the
/// pass over activations kept on disk (`super::spill`) run the same arithmetic
/// and give bit-identical outputs. Holds the padded input slab and the output
/// slab between calls, so buffers are reused from slab to slab.
#[derive(Debug, Default)]
pub(crate) struct SlabConv {
    pad_buf: Vec<f32>,
    out_buf: Vec<f32>,
    dims: [usize; 2],
    sz: usize,
}

impl SlabConv {
    /// Convolves output planes `z0 .. z0 + sz` of a map whose planes are
    /// given by `input` = `[cin][nz][ny][nx]` with `dims` = `[nx, ny, nz]`
    /// (`input` may hold only a window of the map's planes: then `z0` and `nz`
    /// are relative to that window, which must include the halo that exists).
    pub(crate) fn convolve<I: Act>(
        &mut self,
        conv: &PackedConv,
        input: &[I],
        dims: [usize; 3],
        z0: usize,
        sz: usize,
    ) {
        let [nx, ny, _] = dims;
        let pad = Pad::new(conv.k, nx, ny, sz);
        gather_slab(input, conv.cin, dims, z0, pad, &mut self.pad_buf);
        let tile = COB * ny * nx;
        self.out_buf.resize(conv.nblk * sz * tile, 0f32);
        let isa = Isa::detect();
        let pad_buf = &self.pad_buf;
        self.out_buf[..conv.nblk * sz * tile]
            .par_chunks_mut(tile)
            .enumerate()
            .for_each(|(i, out)| {
                let (blk, z) = (i / sz, i % sz);
                conv_plane(isa, conv, blk, pad_buf, pad, z, ny, nx, out);
            });
        self.dims = [nx, ny];
        self.sz = sz;
    }

    /// Writes the last slab's output channel `co` into the `co`-th destination
    /// (`sz` planes of `ny·nx`, stored as `O`) and returns each channel's Σx and
    /// Σx² of the stored values.
    pub(crate) fn scatter<'a, O: Act>(
        &self,
        conv: &PackedConv,
        dsts: impl IndexedParallelIterator<Item = &'a mut [O]>,
    ) -> ChannelSums {
        let ([nx, ny], sz) = (self.dims, self.sz);
        let plane = nx * ny;
        let out_buf = &self.out_buf;
        dsts.enumerate()
            .map(|(co, dst)| {
                assert!(
                    co < conv.cout && dst.len() == sz * plane,
                    "scatter destination"
                );
                let (blk, cb) = (co / COB, co % COB);
                let (mut s, mut s2) = (0f64, 0f64);
                for z in 0..sz {
                    let src = &out_buf[((blk * sz + z) * COB + cb) * plane..][..plane];
                    let d = &mut dst[z * plane..][..plane];
                    // f32 partial sums per row keep the f64 work small; a row is short.
                    for (row_s, row_d) in src.chunks(nx).zip(d.chunks_mut(nx)) {
                        let (mut rs, mut rs2) = (0f32, 0f32);
                        for (a, b) in row_s.iter().zip(row_d.iter_mut()) {
                            let v = O::store(*a).load();
                            *b = O::store(*a);
                            rs += v;
                            rs2 += v * v;
                        }
                        s += rs as f64;
                        s2 += rs2 as f64;
                    }
                }
                (s, s2)
            })
            .collect()
    }
}

/// Copies planes z0−h .. z0+sz+h of `input` into the zero-padded slab buffer.
fn gather_slab<I: Act>(
    input: &[I],
    cin: usize,
    [nx, ny, nz]: [usize; 3],
    z0: usize,
    pad: Pad,
    buf: &mut Vec<f32>,
) {
    let cl = pad.channel_len();
    buf.clear();
    buf.resize(cin * cl, 0.0);
    let n = nx * ny * nz;
    buf.par_chunks_mut(cl).enumerate().for_each(|(ci, dst)| {
        let src = &input[ci * n..][..n];
        for pz in 0..pad.pz {
            let Some(z) = (z0 + pz).checked_sub(pad.h).filter(|&z| z < nz) else {
                continue;
            };
            for y in 0..ny {
                let s = &src[(z * ny + y) * nx..][..nx];
                let d = &mut dst[(pz * pad.py + y + pad.h) * pad.px + pad.h..][..nx];
                for (a, b) in s.iter().zip(d.iter_mut()) {
                    *b = a.load();
                }
            }
        }
    });
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isa {
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
    Generic,
}

impl Isa {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Isa::Avx2Fma;
        }
        Isa::Generic
    }
}

trait Madd {
    fn madd(a: f32, b: f32, c: f32) -> f32;
}
/// Fused multiply-add; only used where the CPU has FMA (else `mul_add` is a libm call).
struct Fused;
impl Madd for Fused {
    #[inline(always)]
    fn madd(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}
struct Plain;
impl Madd for Plain {
    #[inline(always)]
    fn madd(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

#[allow(clippy::too_many_arguments)]
fn conv_plane(
    isa: Isa,
    conv: &PackedConv,
    blk: usize,
    inp: &[f32],
    pad: Pad,
    z: usize,
    ny: usize,
    nx: usize,
    out: &mut [f32],
) {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: Isa::Avx2Fma is only chosen after runtime detection of avx2 and fma.
        Isa::Avx2Fma => unsafe { conv_plane_avx2(conv, blk, inp, pad, z, ny, nx, out) },
        Isa::Generic => conv_plane_impl::<Plain>(conv, blk, inp, pad, z, ny, nx, out),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn conv_plane_avx2(
    conv: &PackedConv,
    blk: usize,
    inp: &[f32],
    pad: Pad,
    z: usize,
    ny: usize,
    nx: usize,
    out: &mut [f32],
) {
    conv_plane_impl::<Fused>(conv, blk, inp, pad, z, ny, nx, out)
}

/// One output z-plane of one block of COB output channels into `out` = `[COB][ny][nx]`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn conv_plane_impl<M: Madd>(
    conv: &PackedConv,
    blk: usize,
    inp: &[f32],
    pad: Pad,
    z: usize,
    ny: usize,
    nx: usize,
    out: &mut [f32],
) {
    let k = conv.k;
    let k3 = k * k * k;
    let w = &conv.w[blk * conv.cin * k3 * COB..][..conv.cin * k3 * COB];
    let bias: &[f32; COB] = conv.bias[blk * COB..][..COB].try_into().unwrap();
    let plane = pad.py * pad.px;
    let cl = pad.channel_len();
    for y in 0..ny {
        for x0 in (0..nx).step_by(XT) {
            let mut acc = [[0f32; XT]; COB];
            for (a, b) in acc.iter_mut().zip(bias) {
                *a = [*b; XT];
            }
            let mut wi = 0;
            for ci in 0..conv.cin {
                for kz in 0..k {
                    for ky in 0..k {
                        let base = ci * cl + (z + kz) * plane + (y + ky) * pad.px + x0;
                        let row = &inp[base..base + XT + k - 1];
                        for kx in 0..k {
                            let v: &[f32; XT] = row[kx..kx + XT].try_into().unwrap();
                            let wv: &[f32; COB] = w[wi..wi + COB].try_into().unwrap();
                            wi += COB;
                            for cb in 0..COB {
                                for l in 0..XT {
                                    acc[cb][l] = M::madd(wv[cb], v[l], acc[cb][l]);
                                }
                            }
                        }
                    }
                }
            }
            let m = XT.min(nx - x0);
            for (cb, a) in acc.iter().enumerate() {
                out[(cb * ny + y) * nx + x0..][..m].copy_from_slice(&a[..m]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The portable kernel (used where AVX2/FMA are missing) gives what the
    /// detected one gives, so the fallback is tested on machines that never run it.
    #[test]
    fn generic_kernel_matches_detected_kernel() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let (cin, cout, k) = (5, 7, 3);
        let conv = Conv3d {
            cin,
            cout,
            k,
            weight: (0..cout * cin * 27)
                .map(|_| rng.random_range(-1.0..1.0))
                .collect(),
            bias: (0..cout).map(|_| rng.random_range(-1.0..1.0)).collect(),
        };
        let packed = PackedConv::new(&conv);
        let (nx, ny, sz) = (21, 6, 3);
        let pad = Pad::new(k, nx, ny, sz);
        let inp: Vec<f32> = (0..cin * pad.channel_len())
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let tile = COB * ny * nx;
        for blk in 0..packed.nblk {
            for z in 0..sz {
                let mut a = vec![0f32; tile];
                let mut b = vec![0f32; tile];
                conv_plane(Isa::Generic, &packed, blk, &inp, pad, z, ny, nx, &mut a);
                conv_plane(Isa::detect(), &packed, blk, &inp, pad, z, ny, nx, &mut b);
                let d = a
                    .iter()
                    .zip(&b)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0f32, f32::max);
                assert!(d < 1e-4, "block {blk} z {z}: {d}");
                assert!(a.iter().any(|v| *v != 0.0));
            }
        }
    }
}
