//! MRC2014 / CCP4 maps (TEMPORARY minimal version on the `gpu` branch so that
//! `simulate` and `fit` compile; the full reader from the MRC branch replaces it).
//!
//! Reads mode 2 (float32) little-endian maps with any axis order; writes mode 2
//! with x, y, z axis order and the origin in words 50–52.

use std::path::Path;

use super::FileError;
use crate::map::DensityMap;
use crate::Vec3;

fn word_i32(h: &[u8], w: usize) -> i32 {
    i32::from_le_bytes(h[4 * w..4 * w + 4].try_into().unwrap())
}

fn word_f32(h: &[u8], w: usize) -> f32 {
    f32::from_le_bytes(h[4 * w..4 * w + 4].try_into().unwrap())
}

/// Reads a float32 MRC/CCP4 map.
pub fn read_map(path: &Path) -> Result<DensityMap, FileError> {
    let bytes = super::read_bytes(path)?;
    if bytes.len() < 1024 {
        return Err(FileError::format(
            path,
            "shorter than the 1024-byte MRC header",
        ));
    }
    let h = &bytes[..1024];
    let n = [word_i32(h, 0), word_i32(h, 1), word_i32(h, 2)];
    let mode = word_i32(h, 3);
    if mode != 2 {
        return Err(FileError::format(
            path,
            format!("MRC mode {mode} not supported (only 2, float32)"),
        ));
    }
    if n.iter().any(|&v| v <= 0) {
        return Err(FileError::format(path, format!("bad grid size {n:?}")));
    }
    let start = [word_i32(h, 4), word_i32(h, 5), word_i32(h, 6)];
    let m = [word_i32(h, 7), word_i32(h, 8), word_i32(h, 9)];
    let cell = [word_f32(h, 10), word_f32(h, 11), word_f32(h, 12)];
    let axes = [word_i32(h, 16), word_i32(h, 17), word_i32(h, 18)];
    let nsymbt = word_i32(h, 23).max(0) as usize;
    let mut perm = [0usize; 3]; // perm[file axis] = spatial axis (0 = x)
    let mut seen = [false; 3];
    for (f, &a) in axes.iter().enumerate() {
        if !(1..=3).contains(&a) || seen[(a - 1) as usize] {
            return Err(FileError::format(path, format!("bad axis order {axes:?}")));
        }
        seen[(a - 1) as usize] = true;
        perm[f] = (a - 1) as usize;
    }
    let nf = n.map(|v| v as usize);
    let total = nf[0] * nf[1] * nf[2];
    let offset = 1024 + nsymbt;
    if bytes.len() < offset + 4 * total {
        return Err(FileError::format(path, "file ends before the map data"));
    }
    let mut dims = [0usize; 3];
    let mut nstart = [0i32; 3];
    for f in 0..3 {
        dims[perm[f]] = nf[f];
        nstart[perm[f]] = start[f];
    }
    let voxel = [0, 1, 2].map(|a| {
        if m[a] > 0 && cell[a] > 0.0 {
            cell[a] as f64 / m[a] as f64
        } else {
            1.0
        }
    });
    let o = [word_f32(h, 49), word_f32(h, 50), word_f32(h, 51)];
    let origin = if o.iter().any(|v| *v != 0.0) {
        Vec3::new(o[0] as f64, o[1] as f64, o[2] as f64)
    } else {
        Vec3::new(
            nstart[0] as f64 * voxel[0],
            nstart[1] as f64 * voxel[1],
            nstart[2] as f64 * voxel[2],
        )
    };
    let raw = &bytes[offset..offset + 4 * total];
    let mut data = vec![0f32; total];
    let mut idx = [0usize; 3];
    for (t, c) in raw.chunks_exact(4).enumerate() {
        idx[0] = t % nf[0];
        idx[1] = (t / nf[0]) % nf[1];
        idx[2] = t / (nf[0] * nf[1]);
        let mut xyz = [0usize; 3];
        for f in 0..3 {
            xyz[perm[f]] = idx[f];
        }
        data[xyz[0] + dims[0] * (xyz[1] + dims[1] * xyz[2])] =
            f32::from_le_bytes(c.try_into().unwrap());
    }
    DensityMap::new(dims, voxel, origin, data).map_err(|e| FileError::format(path, e.to_string()))
}

/// Writes a float32 MRC2014 map (x fastest, origin in the header).
#[allow(clippy::needless_range_loop)] // three axes, indexed in parallel arrays
pub fn write_map(path: &Path, map: &DensityMap) -> Result<(), FileError> {
    let d = map.dims();
    let v = map.voxel_size();
    let data = map.data();
    let mut h = vec![0u8; 1024];
    let put_i =
        |w: usize, x: i32, h: &mut Vec<u8>| h[4 * w..4 * w + 4].copy_from_slice(&x.to_le_bytes());
    for a in 0..3 {
        put_i(a, d[a] as i32, &mut h);
        put_i(7 + a, d[a] as i32, &mut h);
        put_i(16 + a, a as i32 + 1, &mut h);
    }
    put_i(3, 2, &mut h);
    put_i(22, 1, &mut h);
    let put_f =
        |w: usize, x: f32, h: &mut Vec<u8>| h[4 * w..4 * w + 4].copy_from_slice(&x.to_le_bytes());
    let (mut lo, mut hi, mut sum) = (f32::INFINITY, f32::NEG_INFINITY, 0f64);
    for &x in data {
        lo = lo.min(x);
        hi = hi.max(x);
        sum += x as f64;
    }
    let mean = sum / data.len() as f64;
    let rms =
        (data.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / data.len() as f64).sqrt();
    for a in 0..3 {
        put_f(10 + a, (d[a] as f64 * v[a]) as f32, &mut h);
        put_f(13 + a, 90.0, &mut h);
        put_f(49 + a, map.origin()[a] as f32, &mut h);
    }
    put_f(19, lo, &mut h);
    put_f(20, hi, &mut h);
    put_f(21, mean as f32, &mut h);
    put_f(54, rms as f32, &mut h);
    h[208..212].copy_from_slice(b"MAP ");
    h[212..216].copy_from_slice(&[0x44, 0x44, 0, 0]);
    h.reserve(4 * data.len());
    for &x in data {
        h.extend_from_slice(&x.to_le_bytes());
    }
    super::write_atomically(path, &h)
}
