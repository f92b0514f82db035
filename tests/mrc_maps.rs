//! The MRC/CCP4 reader against real maps: header fields and data statistics as
//! the mrcfile library reports them (reference/map_headers.tsv), the axis-permuted
//! EMD-5778 fragment, other modes and byte orders built from real values,
//! write/read round trips, and corrupt input that must fail without panicking.

use std::path::{Path, PathBuf};

use mapfold::io::mrc::{parse, read_map, read_map_with_header, write_map};
use mapfold::map::DensityMap;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/emd5778_fragment.ccp4")
}

fn fixture_bytes() -> Vec<u8> {
    std::fs::read(fixture()).unwrap()
}

/// Relative closeness with a small absolute floor for values printed as 0.
fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs() + 1e-6
}

/// The fragment's floats in file order (columns z, rows y, sections x), read
/// straight from the bytes.
fn raw_file_order(bytes: &[u8]) -> Vec<f32> {
    bytes[1024..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn fixture_in_repo_matches_mrcfile() {
    // Values from reference/map_headers.tsv (mrcfile) for this file.
    let (h, m) = read_map_with_header(&fixture()).unwrap();
    assert_eq!(h.file_dims, [20, 34, 27]);
    assert_eq!(h.mode, 2);
    assert_eq!(h.axis_order, [3, 2, 1]);
    assert_eq!(h.nstart, [0, 0, 0]);
    assert!(!h.big_endian);
    for v in h.voxel_size {
        assert!(close(v, 1.2156, 1e-5), "voxel {v}");
    }
    assert_eq!(m.dims(), [27, 34, 20]);
    let s = m.stats();
    assert!(close(s.min, -0.423817, 1e-5));
    assert!(close(s.max, 0.987034, 1e-5));
    assert!(close(s.mean, 0.0881788, 1e-5));
    assert!(close(s.std, 0.178717, 1e-5));
}

#[test]
fn axis_permuted_fragment_is_x_fastest() {
    // MAPC=3, MAPR=2, MAPS=1: file voxel (c, r, s) is x = s, y = r, z = c.
    let bytes = fixture_bytes();
    let raw = raw_file_order(&bytes);
    let m = read_map(&fixture()).unwrap();
    let [nx, ny, _] = m.dims();
    let (nc, nr, ns) = (20, 34, 27);
    assert_eq!(raw.len(), nc * nr * ns);
    for s in 0..ns {
        for r in 0..nr {
            for c in 0..nc {
                let file = raw[c + nc * (r + nr * s)];
                let (x, y, z) = (s, r, c);
                assert_eq!(file.to_bits(), m.data()[x + nx * (y + ny * z)].to_bits());
            }
        }
    }
    // And through the Å lookup at one voxel off every axis' start.
    let p = m.voxel_position(5, 7, 3);
    let want = raw[3 + nc * (7 + nr * 5)];
    assert!((m.value_at(p).unwrap() - want).abs() < 1e-6);
}

#[test]
fn shared_maps_match_reference_headers() {
    let Some(dir) = mapfold::data::shared_data_for_test("shared_maps_match_reference_headers")
    else {
        return;
    };
    let table = std::fs::read_to_string(dir.join("reference/map_headers.tsv")).unwrap();
    let mut lines = table.lines();
    let cols: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let mut n = 0;
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let get = |name: &str| -> f64 {
            let i = cols.iter().position(|c| *c == name).unwrap();
            f[i].parse().unwrap()
        };
        let path = dir.join("maps").join(f[0]);
        let (h, m) = read_map_with_header(&path).unwrap();
        let ctx = f[0];
        let file_dims = ["nx", "ny", "nz"].map(|c| get(c) as usize);
        assert_eq!(h.file_dims, file_dims, "{ctx}");
        assert_eq!(h.mode, get("mode") as i32, "{ctx}");
        let order = ["mapc", "mapr", "maps"].map(|c| get(c) as usize);
        assert_eq!(h.axis_order, order, "{ctx}");
        let nstart = ["nxstart", "nystart", "nzstart"].map(|c| get(c) as i32);
        assert_eq!(h.nstart, nstart, "{ctx}");
        let voxel = ["voxel_x", "voxel_y", "voxel_z"].map(get);
        let origin = ["origin_x", "origin_y", "origin_z"].map(get);
        for a in 0..3 {
            assert!(close(h.voxel_size[a], voxel[a], 1e-4), "{ctx} voxel");
            assert!(close(h.origin_field[a], origin[a], 1e-4), "{ctx} origin");
            assert_eq!(m.voxel_size()[a], h.voxel_size[a]);
        }
        // Placement: ORIGIN when non-zero, else NSTART (file order → x, y, z) × voxel.
        let mut want = origin;
        if origin == [0.0; 3] {
            for i in 0..3 {
                want[order[i] - 1] = nstart[i] as f64 * voxel[order[i] - 1];
            }
        }
        for (a, w) in want.iter().enumerate() {
            assert!((m.origin()[a] - w).abs() < 1e-3, "{ctx} placement");
        }
        let mut dims = [0; 3];
        for i in 0..3 {
            dims[order[i] - 1] = file_dims[i];
        }
        assert_eq!(m.dims(), dims, "{ctx}");
        let s = m.stats();
        assert!(close(s.min, get("data_min"), 1e-4), "{ctx} min {}", s.min);
        assert!(close(s.max, get("data_max"), 1e-4), "{ctx} max {}", s.max);
        assert!(
            close(s.mean, get("data_mean"), 1e-4),
            "{ctx} mean {}",
            s.mean
        );
        assert!(close(s.std, get("data_std"), 1e-4), "{ctx} std {}", s.std);
        n += 1;
    }
    assert_eq!(n, 9, "map_headers.tsv rows");
}

fn assert_same_map(a: &DensityMap, b: &DensityMap, ctx: &str) {
    assert_eq!(a.dims(), b.dims(), "{ctx}");
    for k in 0..3 {
        assert!(close(a.voxel_size()[k], b.voxel_size()[k], 1e-6), "{ctx}");
        assert!((a.origin()[k] - b.origin()[k]).abs() < 1e-4, "{ctx}");
    }
    assert_eq!(a.len(), b.len());
    let differ = a
        .data()
        .iter()
        .zip(b.data())
        .filter(|(x, y)| x.to_bits() != y.to_bits())
        .count();
    assert_eq!(differ, 0, "{ctx}: {differ} values differ");
}

#[test]
fn write_read_round_trips_are_bit_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let mut maps = vec![fixture()];
    if let Some(dir) = mapfold::data::shared_data_for_test("write_read_round_trips_are_bit_exact") {
        for entry in std::fs::read_dir(dir.join("maps")).unwrap() {
            for f in std::fs::read_dir(entry.unwrap().path()).unwrap() {
                let p = f.unwrap().path();
                let ext = p.extension().unwrap().to_string_lossy().to_string();
                if ["mrc", "map", "ccp4"].contains(&ext.as_str()) {
                    maps.push(p);
                }
            }
        }
    }
    for (i, p) in maps.iter().enumerate() {
        let m = read_map(p).unwrap();
        for name in [format!("{i}.mrc"), format!("{i}.mrc.gz")] {
            let out = tmp.path().join(&name);
            write_map(&out, &m).unwrap();
            let (h, back) = read_map_with_header(&out).unwrap();
            assert_same_map(&m, &back, &p.display().to_string());
            assert_eq!((h.mode, h.axis_order, h.nstart), (2, [1, 2, 3], [0; 3]));
            // Header statistics are those of the data.
            let s = m.stats();
            assert!(close(h.header_stats[0], s.min, 1e-6));
            assert!(close(h.header_stats[1], s.max, 1e-6));
            assert!(close(h.header_stats[2], s.mean, 1e-6));
            assert!(close(h.header_stats[3], s.std, 1e-6));
        }
        let raw = std::fs::read(tmp.path().join(format!("{i}.mrc"))).unwrap();
        assert_eq!(&raw[208..212], b"MAP ");
        assert_eq!(&raw[212..214], &[0x44, 0x41]);
        assert_eq!(raw.len(), 1024 + 4 * m.len());
    }
}

/// The fragment file with every header number and data value byte-swapped.
fn big_endian_copy(bytes: &[u8], stamp: [u8; 4]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    // Words 1-52 and 55-56 are numbers; 53 is "MAP ", 54 the stamp, then labels.
    for w in (0..52).chain(54..56) {
        b[4 * w..4 * w + 4].reverse();
    }
    b[212..216].copy_from_slice(&stamp);
    for c in b[1024..].chunks_exact_mut(4) {
        c.reverse();
    }
    b
}

#[test]
fn big_endian_and_zero_stamp_read_the_same() {
    let bytes = fixture_bytes();
    let (_, little) = parse(&bytes).unwrap();
    let cases = [
        (
            "big-endian, stamp 0x11 0x11",
            big_endian_copy(&bytes, [0x11, 0x11, 0, 0]),
        ),
        ("big-endian, zero stamp", big_endian_copy(&bytes, [0; 4])),
        ("little-endian, zero stamp", {
            let mut b = bytes.clone();
            b[212..216].fill(0);
            b
        }),
    ];
    for (what, b) in cases {
        let (h, m) = parse(&b).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(h.big_endian, what.starts_with("big"), "{what}");
        assert_eq!(h.axis_order, [3, 2, 1], "{what}");
        assert_same_map(&little, &m, what);
    }
}

#[test]
fn integer_and_half_modes_read_back_their_values() {
    let bytes = fixture_bytes();
    let raw = raw_file_order(&bytes);
    // Each mode: a quantisation of the real values, its encoding (little- and
    // big-endian) and the value a reader must give back.
    type Enc = fn(f32, bool) -> (Vec<u8>, f32);
    let modes: [(i32, Enc); 4] = [
        (0, |v, _| {
            let q = (v * 120.0).round().clamp(-128.0, 127.0) as i8;
            (vec![q as u8], q as f32)
        }),
        (1, |v, big| {
            let q = (v * 30000.0).round() as i16;
            let b = if big {
                q.to_be_bytes()
            } else {
                q.to_le_bytes()
            };
            (b.to_vec(), q as f32)
        }),
        (6, |v, big| {
            let q = ((v + 0.5) * 40000.0).round() as u16;
            let b = if big {
                q.to_be_bytes()
            } else {
                q.to_le_bytes()
            };
            (b.to_vec(), q as f32)
        }),
        (12, |v, big| {
            let q = half::f16::from_f32(v);
            let b = if big {
                q.to_be_bytes()
            } else {
                q.to_le_bytes()
            };
            (b.to_vec(), q.to_f32())
        }),
    ];
    for (mode, enc) in modes {
        for big in [false, true] {
            let mut b = if big {
                big_endian_copy(&bytes, [0x11, 0x11, 0, 0])[..1024].to_vec()
            } else {
                bytes[..1024].to_vec()
            };
            let m = if big {
                mode.to_be_bytes()
            } else {
                mode.to_le_bytes()
            };
            b[12..16].copy_from_slice(&m);
            let mut want_file_order = Vec::with_capacity(raw.len());
            for &v in &raw {
                let (e, w) = enc(v, big);
                b.extend_from_slice(&e);
                want_file_order.push(w);
            }
            let ctx = format!("mode {mode}, big-endian {big}");
            let (h, got) = parse(&b).unwrap_or_else(|e| panic!("{ctx}: {e}"));
            assert_eq!(h.mode, mode, "{ctx}");
            // Same permutation as the float map: compare through it.
            let [nx, ny, _] = got.dims();
            for s in 0..27 {
                for r in 0..34 {
                    for c in 0..20 {
                        let w = want_file_order[c + 20 * (r + 34 * s)];
                        assert_eq!(got.data()[s + nx * (r + ny * c)], w, "{ctx}");
                    }
                }
            }
        }
    }
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = fixture_bytes();
    for n in 0..bytes.len() {
        assert!(parse(&bytes[..n]).is_err(), "truncated at {n} bytes");
    }
    assert!(parse(&bytes).is_ok());
}

#[test]
fn random_bytes_and_mutations_never_panic() {
    let bytes = fixture_bytes();
    let mut rng = ChaCha8Rng::seed_from_u64(5778);
    for _ in 0..500 {
        let len = rng.random_range(0..6000);
        let junk: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        assert!(parse(&junk).is_err());
    }
    let (mut ok, mut err) = (0, 0);
    for _ in 0..3000 {
        let mut b = bytes.clone();
        for _ in 0..rng.random_range(1..6) {
            // Mostly the header, where the structure lives.
            let at = if rng.random_bool(0.8) {
                rng.random_range(0..1024)
            } else {
                rng.random_range(0..b.len())
            };
            b[at] = rng.random();
        }
        match parse(&b) {
            Ok((_, m)) => {
                ok += 1;
                assert_eq!(m.len(), m.dims().iter().product::<usize>());
            }
            Err(_) => err += 1,
        }
    }
    // Both outcomes occur: the mutations reach fields that matter and ones that do not.
    assert!(ok > 0 && err > 0, "ok {ok}, err {err}");
}

#[test]
fn bad_headers_give_errors_naming_file_and_problem() {
    let bytes = fixture_bytes();
    let tmp = tempfile::tempdir().unwrap();
    let set = |word: usize, vals: &[i32]| {
        let mut b = bytes.clone();
        for (i, v) in vals.iter().enumerate() {
            b[4 * (word + i)..4 * (word + i) + 4].copy_from_slice(&v.to_le_bytes());
        }
        b
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("mode4.mrc", set(3, &[4]), "mode 4"),
        ("mode-1.mrc", set(3, &[-1]), "mode -1"),
        ("zero.mrc", set(0, &[0]), "positive"),
        ("negative.mrc", set(1, &[-34]), "positive"),
        (
            "absurd.mrc",
            set(0, &[1 << 30, 1 << 30, 1 << 30]),
            "absurdly large",
        ),
        ("big.mrc", set(0, &[1000, 1000, 1000]), "data section"),
        ("axes.mrc", set(16, &[1, 1, 3]), "permutation"),
        ("axes4.mrc", set(16, &[1, 2, 4]), "permutation"),
        ("ext.mrc", set(23, &[1 << 30]), "extended header"),
        ("short.mrc", bytes[..2000].to_vec(), "data section"),
        ("tiny.mrc", bytes[..100].to_vec(), "1024"),
        ("cell.mrc", set(10, &[0]), "voxel size"),
    ];
    for (name, b, needle) in cases {
        let p = tmp.path().join(name);
        std::fs::write(&p, &b).unwrap();
        let e = read_map(&p).unwrap_err().to_string();
        assert!(e.contains(name) && e.contains(needle), "{name}: {e}");
    }
    assert!(read_map(&tmp.path().join("absent.mrc")).is_err());
}

#[test]
fn map_info_cli_json() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mapfold"))
        .args(["map-info", "--json"])
        .arg(fixture())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["file_dims"], serde_json::json!([20, 34, 27]));
    assert_eq!(v["axis_order"], serde_json::json!([3, 2, 1]));
    assert_eq!(v["mode"], 2);
    assert_eq!(v["origin"], serde_json::json!([0.0, 0.0, 0.0]));
    assert!(close(v["voxel_size"][2].as_f64().unwrap(), 1.2156, 1e-5));
    assert!(close(v["std"].as_f64().unwrap(), 0.178717, 1e-5));
    for key in ["min", "max", "mean"] {
        assert!(v[key].is_f64(), "{key}");
    }

    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_mapfold"))
        .args(["map-info", "/no/such/map.mrc"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/no/such/map.mrc"));
}

#[test]
fn resample_and_crop_a_real_map() {
    let m = read_map(&fixture()).unwrap();
    // Half the voxel size: every old voxel centre is a new one, with its value.
    let v = m.voxel_size();
    let fine = m.resample([v[0] / 2.0, v[1] / 2.0, v[2] / 2.0]).unwrap();
    let d = m.dims();
    assert_eq!(fine.dims(), [2 * d[0] - 1, 2 * d[1] - 1, 2 * d[2] - 1]);
    let [fx, fy, _] = fine.dims();
    for (i, j, k) in [(0, 0, 0), (5, 7, 3), (d[0] - 1, d[1] - 1, d[2] - 1)] {
        let old = m.data()[i + d[0] * (j + d[1] * k)];
        let new = fine.data()[2 * i + fx * (2 * j + fy * 2 * k)];
        assert!((old - new).abs() < 1e-5, "{old} vs {new}");
    }
    // Cropping to a box and padding back around it keeps values in place.
    let (lo, hi) = m.bounds();
    let mid = (lo + hi) / 2.0;
    let c = m
        .crop_to_box(
            mid - nalgebra::Vector3::repeat(5.0),
            mid + nalgebra::Vector3::repeat(5.0),
            0.0,
        )
        .unwrap();
    let p = c.voxel_position(2, 3, 4);
    assert_eq!(c.value_at(p), m.value_at(p));
    let mut n = m.clone();
    n.normalise();
    let s = n.stats();
    assert!(s.mean.abs() < 1e-6 && (s.std - 1.0).abs() < 1e-5);
}
