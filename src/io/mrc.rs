//! MRC2014 / CCP4 density maps (EMDB's map format), read into a [`DensityMap`].
//!
//! The map is the paper's experimental density ρ_exp that eq. 6 correlates with
//! the simulated ρ_sim; this module only moves it between disk and memory.
//!
//! Reading accepts modes 0 (int8), 1 (int16), 2 (float32), 6 (uint16) and 12
//! (float16), either byte order (machine stamp, or a guess from the header when
//! the stamp is zero or unknown, as in many real files), any axis order
//! (MAPC/MAPR/MAPS; data are brought to x fastest, then y, then z), extended
//! headers (skipped) and gzip. The map is placed at ORIGIN when that is non-zero
//! and otherwise at NSTART × voxel size: that is where deposited models line up.
//!
//! Writing always produces mode 2, little-endian, axes 1,2,3, NSTART 0 and the
//! position in ORIGIN, through [`write_atomically`] (so `.gz` compresses).

use std::path::Path;

use super::{read_bytes, write_atomically, FileError};
use crate::map::density::DensityMap;
use crate::Vec3;

const HEADER_LEN: usize = 1024;
/// Grids beyond this many voxels (16 GiB of f32) are taken as corrupt headers.
const MAX_VOXELS: usize = 1 << 32;

/// The header fields mapfold uses, as the file holds them. Fields named
/// "file order" follow the file's columns, rows, sections; the rest are x, y, z.
#[derive(Debug, Clone, PartialEq)]
pub struct MrcHeader {
    /// NX, NY, NZ: columns, rows, sections (file order).
    pub file_dims: [usize; 3],
    /// MODE: 0 int8, 1 int16, 2 float32, 6 uint16, 12 float16.
    pub mode: i32,
    /// MAPC, MAPR, MAPS: which axis (1 = x, 2 = y, 3 = z) the columns, rows and
    /// sections run along.
    pub axis_order: [usize; 3],
    /// NXSTART, NYSTART, NZSTART (file order).
    pub nstart: [i32; 3],
    /// MX, MY, MZ: grid sampling along x, y, z.
    pub sampling: [usize; 3],
    /// Cell lengths along x, y, z in Å.
    pub cell: [f64; 3],
    /// Voxel size along x, y, z in Å (cell / sampling).
    pub voxel_size: [f64; 3],
    /// ORIGIN (words 50-52), x, y, z in Å, as stored.
    pub origin_field: [f64; 3],
    /// DMIN, DMAX, DMEAN, RMS as stored (writers often leave them stale).
    pub header_stats: [f64; 4],
    /// ISPG (space group; 0 or 1 for single EM volumes).
    pub space_group: i32,
    /// NSYMBT: bytes of extended header after the main 1024.
    pub extended_header_len: usize,
    /// True when the file is big-endian.
    pub big_endian: bool,
    /// The text labels (NLABL of them), trailing blanks removed.
    pub labels: Vec<String>,
}

impl MrcHeader {
    /// Grid dimensions along x, y, z.
    pub fn dims_xyz(&self) -> [usize; 3] {
        let mut d = [0; 3];
        for f in 0..3 {
            d[self.axis_order[f] - 1] = self.file_dims[f];
        }
        d
    }

    /// NSTART brought to x, y, z order.
    pub fn nstart_xyz(&self) -> [i32; 3] {
        let mut s = [0; 3];
        for f in 0..3 {
            s[self.axis_order[f] - 1] = self.nstart[f];
        }
        s
    }

    /// Position in Å of the first voxel as mapfold places the map: ORIGIN when
    /// any of its components is non-zero, else NSTART × voxel size.
    pub fn placement(&self) -> Vec3 {
        if self.origin_field.iter().any(|&o| o != 0.0) {
            Vec3::new(
                self.origin_field[0],
                self.origin_field[1],
                self.origin_field[2],
            )
        } else {
            let s = self.nstart_xyz();
            Vec3::new(
                s[0] as f64 * self.voxel_size[0],
                s[1] as f64 * self.voxel_size[1],
                s[2] as f64 * self.voxel_size[2],
            )
        }
    }
}

/// Reads a map (gzip allowed).
pub fn read_map(path: &Path) -> Result<DensityMap, FileError> {
    read_map_with_header(path).map(|(_, m)| m)
}

/// Reads a map and the header it came with.
pub fn read_map_with_header(path: &Path) -> Result<(MrcHeader, DensityMap), FileError> {
    let bytes = read_bytes(path)?;
    parse(&bytes).map_err(|m| FileError::format(path, m))
}

/// Writes a map as mode-2 little-endian MRC2014 (gzip when the path ends in `.gz`).
pub fn write_map(path: &Path, map: &DensityMap) -> Result<(), FileError> {
    write_atomically(path, &to_bytes(map))
}

/// Reads only the header (no data conversion).
pub fn parse_header(bytes: &[u8]) -> Result<MrcHeader, String> {
    if bytes.len() < HEADER_LEN {
        return Err(format!(
            "file is {} bytes, shorter than the 1024-byte MRC header",
            bytes.len()
        ));
    }
    let big_endian = byte_order(bytes)?;
    let w = Words {
        bytes,
        big: big_endian,
    };

    let mut file_dims = [0usize; 3];
    for (a, d) in file_dims.iter_mut().enumerate() {
        let n = w.int(a);
        if n <= 0 {
            return Err(format!(
                "grid dimensions NX, NY, NZ must be positive, got {:?}",
                [w.int(0), w.int(1), w.int(2)]
            ));
        }
        *d = n as usize;
    }
    // Checked here so that later products of the dimensions cannot overflow.
    file_dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_VOXELS)
        .ok_or_else(|| format!("grid {file_dims:?} is absurdly large (corrupt header?)"))?;

    let mode = w.int(3);
    if value_size(mode).is_none() {
        return Err(format!(
            "unsupported data mode {mode} (supported: 0 int8, 1 int16, 2 float32, 6 uint16, 12 float16)"
        ));
    }

    let nstart = [w.int(4), w.int(5), w.int(6)];
    let mut sampling = [0usize; 3];
    for (a, m) in sampling.iter_mut().enumerate() {
        let v = w.int(7 + a);
        if v <= 0 {
            return Err(format!(
                "grid sampling MX, MY, MZ must be positive, got {:?}",
                [w.int(7), w.int(8), w.int(9)]
            ));
        }
        *m = v as usize;
    }
    let cell = [w.float(10), w.float(11), w.float(12)];

    let angles = [w.float(13), w.float(14), w.float(15)];
    if angles.iter().any(|&g| g != 0.0 && (g - 90.0).abs() > 0.01) {
        // EM maps are orthogonal; mapfold's grid is too, so a skewed cell is
        // read as if it were orthogonal.
        log::warn!("cell angles {angles:?} are not 90°; the map is treated as orthogonal");
    }
    let raw_order = [w.int(16), w.int(17), w.int(18)];
    // Some old writers leave MAPC/MAPR/MAPS at zero; they meant the default order.
    let axis_order = if raw_order == [0, 0, 0] {
        [1, 2, 3]
    } else {
        let mut seen = [false; 3];
        for &o in &raw_order {
            if !(1..=3).contains(&o) || seen[(o - 1) as usize] {
                return Err(format!(
                    "axis order MAPC, MAPR, MAPS = {raw_order:?} is not a permutation of 1, 2, 3"
                ));
            }
            seen[(o - 1) as usize] = true;
        }
        raw_order.map(|o| o as usize)
    };

    let mut voxel_size = [0.0; 3];
    for a in 0..3 {
        voxel_size[a] = cell[a] / sampling[a] as f64;
        if !(voxel_size[a].is_finite() && voxel_size[a] > 0.0) {
            return Err(format!(
                "cell lengths {cell:?} Å over sampling {sampling:?} give voxel size {voxel_size:?}: must be positive"
            ));
        }
    }

    let nsymbt = w.int(23);
    if nsymbt < 0 {
        return Err(format!(
            "extended header length NSYMBT is negative ({nsymbt})"
        ));
    }
    let extended_header_len = nsymbt as usize;

    let origin_field = [w.float(49), w.float(50), w.float(51)];
    if origin_field.iter().any(|o| !o.is_finite()) {
        return Err(format!("ORIGIN {origin_field:?} is not finite"));
    }

    let nlabl = w.int(55).clamp(0, 10) as usize;
    let labels = (0..nlabl)
        .map(|i| {
            let s = &bytes[224 + 80 * i..224 + 80 * (i + 1)];
            String::from_utf8_lossy(s)
                .trim_end_matches(['\0', ' '])
                .to_string()
        })
        .collect();

    Ok(MrcHeader {
        file_dims,
        mode,
        axis_order,
        nstart,
        sampling,
        cell,
        voxel_size,
        origin_field,
        header_stats: [w.float(19), w.float(20), w.float(21), w.float(54)],
        space_group: w.int(22),
        extended_header_len,
        big_endian,
        labels,
    })
}

/// Parses a whole file's bytes (already decompressed).
pub fn parse(bytes: &[u8]) -> Result<(MrcHeader, DensityMap), String> {
    let header = parse_header(bytes)?;
    let [nc, nr, ns] = header.file_dims;
    let n = nc * nr * ns;
    let size = value_size(header.mode).expect("mode checked in parse_header");
    let start = HEADER_LEN
        .checked_add(header.extended_header_len)
        .filter(|&s| s <= bytes.len())
        .ok_or_else(|| {
            format!(
                "extended header of {} bytes runs past the end of the {}-byte file",
                header.extended_header_len,
                bytes.len()
            )
        })?;
    let need = n * size;
    let have = bytes.len() - start;
    if have < need {
        return Err(format!(
            "data section is {have} bytes but grid {:?} in mode {} needs {need} (file truncated?)",
            header.file_dims, header.mode
        ));
    }
    if have > need {
        log::debug!("{} bytes after the map data ignored", have - need);
    }
    let values = decode(&bytes[start..start + need], header.mode, header.big_endian);

    let dims = header.dims_xyz();
    let data = if header.axis_order == [1, 2, 3] {
        values
    } else {
        // Stride in the x-fastest output of one step along each file axis.
        let strides_xyz = [1, dims[0], dims[0] * dims[1]];
        let [sc, sr, ss] = header.axis_order.map(|a| strides_xyz[a - 1]);
        let mut out = vec![0f32; n];
        let mut src = values.iter();
        for s in 0..ns {
            for r in 0..nr {
                let base = s * ss + r * sr;
                for c in 0..nc {
                    out[base + c * sc] = *src.next().expect("n values decoded");
                }
            }
        }
        out
    };
    let map = DensityMap::new(dims, header.voxel_size, header.placement(), data)
        .map_err(|e| e.to_string())?;
    Ok((header, map))
}

/// The bytes of a mode-2 little-endian MRC2014 file holding `map`.
pub fn to_bytes(map: &DensityMap) -> Vec<u8> {
    let dims = map.dims();
    let vox = map.voxel_size();
    let origin = map.origin();
    let stats = map.stats();

    let mut h = vec![0u8; HEADER_LEN];
    let mut put_i =
        |word: usize, v: i32| h[4 * word..4 * word + 4].copy_from_slice(&v.to_le_bytes());
    for (a, &d) in dims.iter().enumerate() {
        put_i(a, d as i32);
        put_i(7 + a, d as i32);
        put_i(16 + a, a as i32 + 1);
    }
    put_i(3, 2);
    put_i(22, 1);
    put_i(27, 20140);
    put_i(55, 1);
    let mut put_f =
        |word: usize, v: f64| h[4 * word..4 * word + 4].copy_from_slice(&(v as f32).to_le_bytes());
    for a in 0..3 {
        put_f(10 + a, dims[a] as f64 * vox[a]);
        put_f(13 + a, 90.0);
    }
    put_f(19, stats.min);
    put_f(20, stats.max);
    put_f(21, stats.mean);
    put_f(54, stats.std);
    put_f(49, origin.x);
    put_f(50, origin.y);
    put_f(51, origin.z);
    h[208..212].copy_from_slice(b"MAP ");
    h[212..216].copy_from_slice(&[0x44, 0x41, 0, 0]);
    let label = b"mapfold";
    h[224..224 + label.len()].copy_from_slice(label);
    h[224 + label.len()..304].fill(b' ');

    let mut out = h;
    out.reserve(4 * map.len());
    for v in map.data() {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Bytes per value of a supported mode.
fn value_size(mode: i32) -> Option<usize> {
    match mode {
        0 => Some(1),
        1 | 6 | 12 => Some(2),
        2 => Some(4),
        _ => None,
    }
}

fn decode(raw: &[u8], mode: i32, big: bool) -> Vec<f32> {
    macro_rules! conv {
        ($n:literal, $f:expr) => {
            raw.chunks_exact($n)
                .map(|c| {
                    let b: [u8; $n] = c.try_into().expect("chunk length");
                    $f(b)
                })
                .collect()
        };
    }
    match (mode, big) {
        (0, _) => raw.iter().map(|&b| b as i8 as f32).collect(),
        (1, false) => conv!(2, |b| i16::from_le_bytes(b) as f32),
        (1, true) => conv!(2, |b| i16::from_be_bytes(b) as f32),
        (6, false) => conv!(2, |b| u16::from_le_bytes(b) as f32),
        (6, true) => conv!(2, |b| u16::from_be_bytes(b) as f32),
        (12, false) => conv!(2, |b| half::f16::from_le_bytes(b).to_f32()),
        (12, true) => conv!(2, |b| half::f16::from_be_bytes(b).to_f32()),
        (2, false) => conv!(4, f32::from_le_bytes),
        (2, true) => conv!(4, f32::from_be_bytes),
        _ => unreachable!("mode checked in parse_header"),
    }
}

/// Header words (1-based in the MRC2014 text; 0-based here) in one byte order.
struct Words<'a> {
    bytes: &'a [u8],
    big: bool,
}

impl Words<'_> {
    fn raw(&self, word: usize) -> [u8; 4] {
        self.bytes[4 * word..4 * word + 4]
            .try_into()
            .expect("header is 1024 bytes")
    }
    fn int(&self, word: usize) -> i32 {
        let b = self.raw(word);
        if self.big {
            i32::from_be_bytes(b)
        } else {
            i32::from_le_bytes(b)
        }
    }
    /// A header float widened through its shortest decimal form, so that an
    /// ORIGIN of 7.644 reads as 7.644 and not 7.644000053…; it narrows back to
    /// the same f32.
    fn float(&self, word: usize) -> f64 {
        let b = self.raw(word);
        let v = if self.big {
            f32::from_be_bytes(b)
        } else {
            f32::from_le_bytes(b)
        };
        v.to_string().parse().unwrap_or(v as f64)
    }
}

/// Whether the header makes sense read in this byte order: sane dimensions, a
/// known mode and an axis order made of 0..=3.
fn plausible(bytes: &[u8], big: bool) -> bool {
    let w = Words { bytes, big };
    (0..3).all(|a| (1..=1 << 20).contains(&w.int(a)))
        && (0..=16).contains(&w.int(3))
        && (16..19).all(|a| (0..=3).contains(&w.int(a)))
}

/// True for big-endian: the machine stamp (bytes 213-216; 0x44 little, 0x11
/// big) when set, else (zero stamps are common) the order in which the header
/// makes sense.
fn byte_order(bytes: &[u8]) -> Result<bool, String> {
    let stamp = match bytes[212] {
        0x44 => Some(false),
        0x11 => Some(true),
        _ => None,
    };
    match stamp {
        // A stamp is trusted unless only the other order gives a sane header
        // (some writers stamp the wrong order).
        Some(order) => Ok(if !plausible(bytes, order) && plausible(bytes, !order) {
            !order
        } else {
            order
        }),
        None if plausible(bytes, false) => Ok(false),
        None if plausible(bytes, true) => Ok(true),
        None => Err(format!(
            "not an MRC/CCP4 map: no machine stamp and the header makes no sense in either byte order (NX, NY, NZ, MODE read as {:?})",
            [0, 1, 2, 3].map(|a| Words { bytes, big: false }.int(a))
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_map() -> DensityMap {
        let data = (0..2 * 3 * 4).map(|i| i as f32 * 0.5 - 3.0).collect();
        DensityMap::new([2, 3, 4], [1.0, 1.5, 2.0], Vec3::new(-4.0, 5.5, 10.0), data).unwrap()
    }

    #[test]
    fn write_parse_round_trip_non_cubic() {
        let m = small_map();
        let (h, back) = parse(&to_bytes(&m)).unwrap();
        assert_eq!(back, m);
        assert_eq!(h.file_dims, [2, 3, 4]);
        assert_eq!(h.mode, 2);
        assert_eq!(h.labels, vec!["mapfold".to_string()]);
        // DMIN/DMAX from the data: -3 and 0.5·23 - 3 = 8.5.
        assert_eq!(h.header_stats[0], -3.0);
        assert_eq!(h.header_stats[1], 8.5);
    }

    #[test]
    fn rejects_bad_headers() {
        let good = to_bytes(&small_map());
        let set = |word: usize, v: i32| {
            let mut b = good.clone();
            b[4 * word..4 * word + 4].copy_from_slice(&v.to_le_bytes());
            parse(&b).unwrap_err()
        };
        assert!(set(3, 3).contains("mode 3"));
        assert!(set(16, 2).contains("permutation"));
        assert!(set(23, 8).contains("data section"));
        assert!(set(23, -4).contains("negative"));
        assert!(parse(&good[..500]).unwrap_err().contains("1024"));
    }
}
