//! The CPU forward pass with its whole-map activations in temporary files, for
//! maps whose activations do not fit the memory budget
//! ([`super::infer::InferenceOptions::max_memory_bytes`]).
//!
//! Instance norm (y = γ·(x − μ_c)/√(σ²_c + ε) + β, statistics over the whole
//! map) is why a layer's output must exist for the whole map before the next
//! layer can start. Tiling the map with halos would need the receptive field of
//! all 21 convolutions (±21 voxels) around each tile, recomputed per tile, and
//! still two passes per norm layer to make the statistics tiling-independent.
//! Here instead the layer-by-layer slab computation of [`super::infer::forward`]
//! is kept as it is, with the same per-slab convolution and scatter
//! (`conv::SlabConv`) and the same f64 statistics, so the output is
//! bit-identical to the in-RAM pass for the same slab size; only where the
//! whole-map tensors live changes. Each tensor is a `[C][nz][ny][nx]` file read
//! and written with positioned IO, a z-slab plus its halo planes at a time.
//! Instance norm + ReLU of a conv output is applied lazily, when the next conv
//! reads it (its statistics are complete only after the last slab is written),
//! which saves a read and a write of the tensor; the residual block's
//! ReLU(IN(x) + skip) is one elementwise pass over the files.
//!
//! RAM: O(C·slab·nx·ny) for the slab buffers, plus the single-channel input and
//! output maps (O(N), a few N·4 bytes). Disk: 3·C·N·s bytes (s = 4, or 2 with
//! f16 activations). Files are created with unique names and unlinked as soon
//! as they are open, so nothing is left behind on return, on error, or if the
//! process is killed; the OS page cache holds them while memory is free and
//! writes them out under pressure (that cache is reclaimable, unlike the heap).

use std::fs::File;
use std::io;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::conv::{add_sums, Act, ChannelSums, PackedConv, SlabConv};
use super::infer::CnnError;
use super::network::CaNetwork;
use super::norm::affine;

/// The head logits `[2][n]`, as [`super::infer::forward`], with the activations
/// in temporary files under `dir`. `input` is dropped after the first layer.
pub fn forward_spilled<S: Act>(
    net: &CaNetwork,
    dims: [usize; 3],
    input: Vec<f32>,
    slab: usize,
    dir: &Path,
) -> Result<Vec<f32>, CnnError> {
    let n = dims.iter().product::<usize>();
    assert_eq!(input.len(), n, "network input size");
    let c = net.meta.channels;
    let slab = slab.clamp(1, dims[2].max(1));
    let mut x = SpillTensor::<S>::create(dir, c, dims)?;
    let stem = PackedConv::new(&net.stem_conv);
    let sums = conv_streamed(&stem, dims, slab, Source::Ram(&input), Sink::File(&mut x))?;
    drop(input);
    x.pending = Some(affine(&sums, n, &net.stem_norm));
    let mut t1 = SpillTensor::<S>::create(dir, c, dims)?;
    let mut t2 = SpillTensor::<S>::create(dir, c, dims)?;
    for b in &net.blocks {
        let conv1 = PackedConv::new(&b.conv1);
        let sums = conv_streamed(&conv1, dims, slab, Source::File(&x), Sink::File(&mut t1))?;
        t1.pending = Some(affine(&sums, n, &b.norm1));
        let conv2 = PackedConv::new(&b.conv2);
        let sums = conv_streamed(&conv2, dims, slab, Source::File(&t1), Sink::File(&mut t2))?;
        residual(&mut t2, &x, &affine(&sums, n, &b.norm2), slab)?;
        std::mem::swap(&mut x, &mut t2);
    }
    drop((t1, t2));
    let mut logits = vec![0f32; 2 * n];
    let head = PackedConv::new(&net.head);
    conv_streamed(&head, dims, slab, Source::File(&x), Sink::Ram(&mut logits))?;
    Ok(logits)
}

/// Where a convolution reads its input.
enum Source<'a, S> {
    /// A single-channel map in RAM (the network input).
    Ram(&'a [f32]),
    /// A tensor file, with its pending norm applied as it is read.
    File(&'a SpillTensor<S>),
}

/// Where a convolution writes its output.
enum Sink<'a, S> {
    File(&'a mut SpillTensor<S>),
    /// `[cout][n]` in RAM (the two head logits).
    Ram(&'a mut [f32]),
}

/// One convolution over the whole map, slab by slab, as
/// [`super::conv::conv3d_slabs`]: same slabs, same arithmetic, same sums.
fn conv_streamed<S: Act>(
    conv: &PackedConv,
    dims: [usize; 3],
    slab: usize,
    src: Source<'_, S>,
    mut sink: Sink<'_, S>,
) -> Result<ChannelSums, CnnError> {
    let [nx, ny, nz] = dims;
    let (plane, n, h) = (nx * ny, nx * ny * nz, conv.k / 2);
    if let Sink::File(t) = &mut sink {
        t.pending = None;
    }
    let mut work = SlabConv::default();
    let mut window: Vec<S> = Vec::new();
    let mut out: Vec<S> = Vec::new();
    let mut sums = vec![(0f64, 0f64); conv.cout];
    for z0 in (0..nz).step_by(slab) {
        let sz = slab.min(nz - z0);
        // The planes this slab's outputs see: the slab and its halo, clipped to the map.
        let (zlo, zhi) = (z0.saturating_sub(h), (z0 + sz + h).min(nz));
        let wdims = [nx, ny, zhi - zlo];
        match &src {
            Source::Ram(inp) => {
                assert_eq!(conv.cin, 1, "RAM source is single-channel");
                work.convolve(conv, &inp[zlo * plane..zhi * plane], wdims, z0 - zlo, sz);
            }
            Source::File(t) => {
                t.read_planes(zlo, zhi - zlo, true, &mut window)?;
                work.convolve(conv, &window, wdims, z0 - zlo, sz);
            }
        }
        let slab_sums = match &mut sink {
            Sink::File(t) => {
                out.clear();
                out.resize(conv.cout * sz * plane, S::default());
                let s = work.scatter(conv, out.par_chunks_mut(sz * plane));
                t.write_planes(z0, sz, &out)?;
                s
            }
            Sink::Ram(o) => work.scatter(
                conv,
                o.par_chunks_mut(n)
                    .map(|ch| &mut ch[z0 * plane..][..sz * plane]),
            ),
        };
        add_sums(&mut sums, slab_sums);
    }
    Ok(sums)
}

/// The end of a residual block, in place: t ← ReLU(IN(t) + x), with IN as the
/// per-channel affine `ab` (the expression of [`super::norm::norm_add_relu`]).
fn residual<S: Act>(
    t: &mut SpillTensor<S>,
    x: &SpillTensor<S>,
    ab: &[(f32, f32)],
    slab: usize,
) -> Result<(), CnnError> {
    let nz = t.dims[2];
    let plane = t.dims[0] * t.dims[1];
    t.pending = None;
    let (mut tb, mut xb) = (Vec::new(), Vec::new());
    for z0 in (0..nz).step_by(slab) {
        let sz = slab.min(nz - z0);
        t.read_planes(z0, sz, false, &mut tb)?;
        x.read_planes(z0, sz, true, &mut xb)?;
        tb.par_chunks_mut(sz * plane)
            .zip(xb.par_chunks(sz * plane))
            .zip(ab)
            .for_each(|((ch, sk), &(a, b))| {
                for (v, s) in ch.iter_mut().zip(sk) {
                    *v = S::store((a * v.load() + b + s.load()).max(0.0));
                }
            });
        t.write_planes(z0, sz, &tb)?;
    }
    Ok(())
}

/// Names temporary files uniquely within the process (the pid covers other processes).
static FILE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A `[c][nz][ny][nx]` activation tensor in a temporary file.
struct SpillTensor<S> {
    file: File,
    dir: PathBuf,
    /// The file's name while it still exists (only if unlinking it at once failed).
    path: Option<PathBuf>,
    dims: [usize; 3],
    c: usize,
    /// Per-channel (scale, shift) of an instance norm whose ReLU(scale·x + shift)
    /// is still to be applied to the stored values, when they are read.
    pending: Option<Vec<(f32, f32)>>,
    _s: PhantomData<S>,
}

impl<S: Act> SpillTensor<S> {
    fn create(dir: &Path, c: usize, dims: [usize; 3]) -> Result<Self, CnnError> {
        let name = format!(
            "mapfold-activations-{}-{}.tmp",
            std::process::id(),
            FILE_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = dir.join(name);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| spill_error(dir, "creating a temporary activation file", e))?;
        // Unlinked while open: the data live until the handle is closed, and no
        // file is left behind whatever happens to the process.
        let path = std::fs::remove_file(&path).err().map(|_| path);
        let t = SpillTensor {
            file,
            dir: dir.to_path_buf(),
            path,
            dims,
            c,
            pending: None,
            _s: PhantomData,
        };
        let bytes = (c * dims.iter().product::<usize>() * std::mem::size_of::<S>()) as u64;
        t.file
            .set_len(bytes)
            .map_err(|e| spill_error(dir, "sizing a temporary activation file", e))?;
        Ok(t)
    }

    fn n(&self) -> usize {
        self.dims.iter().product()
    }

    /// Byte offset of plane `z` of channel `ci`.
    fn offset(&self, ci: usize, z: usize) -> u64 {
        ((ci * self.n() + z * self.dims[0] * self.dims[1]) * std::mem::size_of::<S>()) as u64
    }

    /// Planes `z0 .. z0 + m` of every channel into `out` = `[c][m][ny][nx]`,
    /// with the pending norm applied when `apply` (bit for bit the values the
    /// in-RAM pass stores after its norm).
    fn read_planes(
        &self,
        z0: usize,
        m: usize,
        apply: bool,
        out: &mut Vec<S>,
    ) -> Result<(), CnnError> {
        let len = m * self.dims[0] * self.dims[1];
        out.clear();
        out.resize(self.c * len, S::default());
        let pending = self.pending.as_deref().filter(|_| apply);
        out.par_chunks_mut(len)
            .enumerate()
            .try_for_each(|(ci, dst)| {
                read_exact_at(&self.file, S::bytes_mut(dst), self.offset(ci, z0))?;
                if let Some(ab) = pending {
                    let (a, b) = ab[ci];
                    for v in dst {
                        *v = S::store((a * v.load() + b).max(0.0));
                    }
                }
                Ok(())
            })
            .map_err(|e| spill_error(&self.dir, "reading temporary activations", e))
    }

    /// `data` = `[c][sz][ny][nx]` into planes `z0 .. z0 + sz`.
    fn write_planes(&self, z0: usize, sz: usize, data: &[S]) -> Result<(), CnnError> {
        let len = sz * self.dims[0] * self.dims[1];
        assert_eq!(data.len(), self.c * len, "slab size");
        data.par_chunks(len)
            .enumerate()
            .try_for_each(|(ci, src)| write_all_at(&self.file, S::bytes(src), self.offset(ci, z0)))
            .map_err(|e| spill_error(&self.dir, "writing temporary activations", e))
    }
}

impl<S> Drop for SpillTensor<S> {
    fn drop(&mut self) {
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(unix)]
fn read_exact_at(f: &File, buf: &mut [u8], off: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, off)
}

#[cfg(unix)]
fn write_all_at(f: &File, buf: &[u8], off: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, buf, off)
}

#[cfg(not(unix))]
fn read_exact_at(_: &File, _: &mut [u8], _: u64) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "activation files need positioned IO (Unix only); raise the memory budget",
    ))
}

#[cfg(not(unix))]
fn write_all_at(_: &File, _: &[u8], _: u64) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "activation files need positioned IO (Unix only); raise the memory budget",
    ))
}

/// An IO error on the activation files, naming the directory (and saying what
/// to do when the disk is full).
fn spill_error(dir: &Path, what: &str, e: io::Error) -> CnnError {
    let hint = if e.kind() == io::ErrorKind::StorageFull {
        " (the disk is full: free space there, point TMPDIR or --spill-dir elsewhere, or raise --max-memory)"
    } else {
        ""
    };
    CnnError::Spill {
        dir: dir.to_path_buf(),
        message: format!("{what}: {e}{hint}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cnn::infer::{memory_estimate, predict_class_probabilities, InferenceOptions};

    /// The real EMD-2566 cut-out on the shipped network's 1 Å grid (resampled
    /// as the detector does), with the shipped network A.
    fn real_case() -> (CaNetwork, crate::map::DensityMap) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/emd2566_3j6b_9.mrc");
        let map = crate::io::mrc::read_map(Path::new(path)).unwrap();
        let (a, _) = crate::cnn::bundled::networks().unwrap();
        let det = crate::ca::detect::CaDetector::new(a, None).unwrap();
        let grid = det.network_grid(&map).unwrap();
        (det.net_a, grid)
    }

    fn opts(slab: usize, f16: bool, budget: u64, dir: &Path) -> InferenceOptions {
        InferenceOptions {
            slab,
            f16_activations: f16,
            max_memory_bytes: Some(budget),
            spill_dir: Some(dir.to_path_buf()),
        }
    }

    fn max_diff(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max)
    }

    fn entries(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    /// Spilled and in-RAM passes agree: bit for bit at the same slab size (f32
    /// and f16 activations), within 1e-4 at other slab sizes; the temporary
    /// files are gone afterwards.
    #[test]
    fn spilled_forward_matches_in_ram_on_real_map() {
        let (net, grid) = real_case();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let (in_ram, spilled) = memory_estimate(&net, grid.dims(), &opts(4, false, 0, dir));
        eprintln!(
            "{:?} grid: estimate {in_ram} B in RAM, {spilled} B spilled",
            grid.dims()
        );
        assert!(spilled < in_ram / 2, "{spilled} vs {in_ram}");
        for f16 in [false, true] {
            let [r0, r1] =
                predict_class_probabilities(&net, &grid, &opts(4, f16, u64::MAX, dir)).unwrap();
            // A map with protein: both classes occur, so equality is not vacuous.
            let (hi, lo) = (
                r1.data().iter().filter(|p| **p > 0.5).count(),
                r1.data().iter().filter(|p| **p < 0.5).count(),
            );
            assert!(hi > 100 && lo > 100, "P(Cα) > 0.5 at {hi}, < 0.5 at {lo}");
            for slab in [4, 3, 7] {
                let [s0, s1] =
                    predict_class_probabilities(&net, &grid, &opts(slab, f16, 0, dir)).unwrap();
                assert_eq!(entries(dir), 0, "temporary files left in {dir:?}");
                let d = max_diff(r1.data(), s1.data()).max(max_diff(r0.data(), s0.data()));
                eprintln!("f16 {f16}, slab {slab}: max |ΔP| spilled vs in RAM (slab 4) = {d:e}");
                if slab == 4 {
                    assert_eq!(d, 0.0, "same slab size must be bit-identical");
                } else {
                    assert!(d <= 1e-4, "slab {slab}: {d}");
                }
            }
        }
    }

    /// A spill directory that cannot hold files is an error naming it, not a panic.
    #[test]
    fn unusable_spill_dir_is_an_error() {
        let (net, grid) = real_case();
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("no-such-dir");
        let file = tmp.path().join("a-file");
        std::fs::write(&file, b"x").unwrap();
        for dir in [missing, file] {
            let err = predict_class_probabilities(&net, &grid, &opts(4, false, 0, &dir))
                .expect_err("spilling into a non-directory");
            let msg = err.to_string();
            eprintln!("{msg}");
            assert!(matches!(&err, CnnError::Spill { dir: d, .. } if *d == dir));
            assert!(msg.contains(&dir.display().to_string()), "{msg}");
        }
        assert_eq!(entries(tmp.path()), 1, "only the test's own file remains");
    }
}
