//! The Cα network's CPU inference: convolution against a naive loop, instance
//! norm statistics, slab-size independence on a real map, weights I/O.

use std::collections::HashMap;
use std::path::Path;

use mapfold::cnn::conv::{conv3d_slabs, PackedConv};
use mapfold::cnn::norm::norm_relu;
use mapfold::cnn::{
    load_weights, predict_class_probabilities, save_weights, weights_to_bytes, CaNetwork, CnnError,
    Conv3d, InferenceOptions, NetworkMeta,
};
use mapfold::map::DensityMap;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_vec(n: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// The definition, written out: out[co][z][y][x] = b + Σ w·in, zero outside the grid.
fn naive_conv(c: &Conv3d, [nx, ny, nz]: [usize; 3], input: &[f32]) -> Vec<f32> {
    let n = nx * ny * nz;
    let k = c.k as isize;
    let h = k / 2;
    let mut out = vec![0f32; c.cout * n];
    for co in 0..c.cout {
        for z in 0..nz as isize {
            for y in 0..ny as isize {
                for x in 0..nx as isize {
                    let mut acc = c.bias[co] as f64;
                    for ci in 0..c.cin {
                        for dz in 0..k {
                            for dy in 0..k {
                                for dx in 0..k {
                                    let (zz, yy, xx) = (z + dz - h, y + dy - h, x + dx - h);
                                    if zz < 0
                                        || yy < 0
                                        || xx < 0
                                        || zz >= nz as isize
                                        || yy >= ny as isize
                                        || xx >= nx as isize
                                    {
                                        continue;
                                    }
                                    let wi =
                                        (((co * c.cin + ci) as isize * k + dz) * k + dy) * k + dx;
                                    let ii = ci * n
                                        + ((zz as usize * ny) + yy as usize) * nx
                                        + xx as usize;
                                    acc += c.weight[wi as usize] as f64 * input[ii] as f64;
                                }
                            }
                        }
                    }
                    out[co * n + ((z as usize * ny) + y as usize) * nx + x as usize] = acc as f32;
                }
            }
        }
    }
    out
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn conv3d_matches_naive_loop() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // Odd sizes: x not a whole number of tiles, cout not a whole number of channel blocks.
    let dims = [13, 9, 7];
    let n = 13 * 9 * 7;
    for (cin, cout, k) in [(3, 11, 3), (1, 8, 3), (5, 2, 1), (16, 17, 3)] {
        let conv = Conv3d {
            cin,
            cout,
            k,
            weight: random_vec(cout * cin * k * k * k, &mut rng),
            bias: random_vec(cout, &mut rng),
        };
        let input = random_vec(cin * n, &mut rng);
        let want = naive_conv(&conv, dims, &input);
        let packed = PackedConv::new(&conv);
        for slab in [1, 3, 7] {
            let mut got = vec![0f32; cout * n];
            let sums = conv3d_slabs(&packed, dims, &input, &mut got, slab);
            let d = max_abs_diff(&got, &want);
            assert!(
                d < 1e-4,
                "cin {cin} cout {cout} k {k} slab {slab}: max diff {d}"
            );
            // The returned statistics are the sums of what was written.
            for co in 0..cout {
                let ch = &got[co * n..(co + 1) * n];
                let s: f64 = ch.iter().map(|&v| v as f64).sum();
                let s2: f64 = ch.iter().map(|&v| (v as f64).powi(2)).sum();
                assert!(
                    (sums[co].0 - s).abs() < 1e-6 * (1.0 + s2),
                    "Σx channel {co}"
                );
                assert!(
                    (sums[co].1 - s2).abs() < 1e-6 * (1.0 + s2),
                    "Σx² channel {co}"
                );
            }
        }
    }
}

#[test]
fn instance_norm_gives_channel_mean_beta_and_std_gamma() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let n = 4000;
    // Channel 0: shifted and scaled uniform noise; channel 1: tiny variance (ε matters).
    let mut buf: Vec<f32> = (0..n).map(|_| 3.0 + 5.0 * rng.random::<f32>()).collect();
    buf.extend((0..n).map(|_| -2.0 + 1e-3 * rng.random::<f32>()));
    let sums: Vec<(f64, f64)> = buf
        .chunks(n)
        .map(|c| {
            (
                c.iter().map(|&v| v as f64).sum(),
                c.iter().map(|&v| (v as f64).powi(2)).sum(),
            )
        })
        .collect();
    let var1 = {
        let c = &buf[n..];
        let m = c.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        c.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / n as f64
    };
    // β large enough that ReLU never clips, so the moments are exactly IN's.
    let norm = mapfold::cnn::InstanceNorm {
        gamma: vec![2.0, 0.5],
        beta: vec![10.0, 4.0],
    };
    norm_relu(&mut buf, n, &sums, &norm);
    for (c, want_std) in [(0, 2.0), (1, 0.5 * (var1 / (var1 + 1e-5)).sqrt())] {
        let ch = &buf[c * n..(c + 1) * n];
        let m = ch.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let s = (ch.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!(
            (m - norm.beta[c] as f64).abs() < 1e-4,
            "channel {c} mean {m}"
        );
        assert!(
            (s - want_std).abs() < 1e-4 * want_std.max(1.0),
            "channel {c} std {s} vs {want_std}"
        );
    }
}

/// Minimal MRC reader for the test (mode 2, axes in x,y,z order): the crate's
/// reader lives in another branch.
fn read_mrc_mode2(path: &Path) -> DensityMap {
    let b = std::fs::read(path).unwrap();
    let i = |o: usize| i32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let f = |o: usize| f32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let (nx, ny, nz) = (i(0) as usize, i(4) as usize, i(8) as usize);
    assert_eq!(i(12), 2, "test reader handles mode 2 only");
    assert_eq!(
        (i(64), i(68), i(72)),
        (1, 2, 3),
        "test reader handles x,y,z order only"
    );
    let (mx, my, mz) = (i(28) as f64, i(32) as f64, i(36) as f64);
    let vs = [f(40) as f64 / mx, f(44) as f64 / my, f(48) as f64 / mz];
    let start = 1024 + i(92) as usize;
    let data: Vec<f32> = b[start..start + 4 * nx * ny * nz]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let origin = mapfold::Vec3::new(f(196) as f64, f(200) as f64, f(204) as f64);
    DensityMap::new([nx, ny, nz], vs, origin, data).unwrap()
}

fn small_net(voxel: f64, head_kernel: usize, seed: u64) -> CaNetwork {
    let meta = NetworkMeta {
        channels: 8,
        blocks: 2,
        head_kernel,
        voxel_size: voxel,
        training_data: "none (random test weights)".into(),
        split: "n/a".into(),
        epochs: 0,
        validation_crscore: None,
    };
    let mut net = CaNetwork::random(meta, seed);
    // Non-trivial biases and affine parameters, so every tensor matters.
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
    let mut jitter = |v: &mut Vec<f32>, base: f32| {
        for x in v.iter_mut() {
            *x = base + 0.2 * rng.random_range(-1.0f32..1.0);
        }
    };
    jitter(&mut net.stem_conv.bias, 0.0);
    jitter(&mut net.stem_norm.gamma, 1.0);
    jitter(&mut net.stem_norm.beta, 0.0);
    for b in &mut net.blocks {
        jitter(&mut b.conv1.bias, 0.0);
        jitter(&mut b.norm1.gamma, 1.0);
        jitter(&mut b.norm2.beta, 0.0);
    }
    jitter(&mut net.head.bias, 0.0);
    net
}

#[test]
fn network_on_real_map_is_slab_independent_and_gives_probabilities() {
    let Some(dir) = mapfold::data::shared_data_for_test("cnn network on real map") else {
        return;
    };
    let map = read_mrc_mode2(&dir.join("maps/emd2566_3j6b/2566_3J6B_9.mrc"));
    let net = small_net(map.voxel_size()[0], 1, 42);
    let n = map.len();
    let run = |slab, f16| {
        let opts = InferenceOptions {
            slab,
            f16_activations: f16,
            ..Default::default()
        };
        predict_class_probabilities(&net, &map, &opts).unwrap()
    };
    let [p0, p1] = run(map.dims()[2], false);
    assert_eq!(p1.dims(), map.dims());
    assert_eq!(p1.origin(), map.origin());
    for (a, b) in p0.data().iter().zip(p1.data()) {
        assert!((0.0..=1.0).contains(a) && (0.0..=1.0).contains(b));
        assert!((a + b - 1.0).abs() < 1e-6, "p0 + p1 = {}", a + b);
    }
    // Random weights still give a map that varies with the density, not a constant.
    let (lo, hi) = p1
        .data()
        .iter()
        .fold((1f32, 0f32), |(l, h), &v| (l.min(v), h.max(v)));
    eprintln!("P(Cα) range over {n} voxels: {lo:.4} .. {hi:.4}");
    assert!(hi - lo > 0.05, "output nearly constant: {lo}..{hi}");
    for slab in [4, 7] {
        let [_, q] = run(slab, false);
        let d = max_abs_diff(q.data(), p1.data());
        eprintln!("slab {slab} vs full: max |ΔP| = {d:e}");
        assert!(d < 1e-4, "slab {slab}: max diff {d}");
    }
    let [_, h] = run(7, true);
    let d = max_abs_diff(h.data(), p1.data());
    let mean = h
        .data()
        .iter()
        .zip(p1.data())
        .map(|(a, b)| (a - b).abs() as f64)
        .sum::<f64>()
        / n as f64;
    eprintln!("f16 activations vs f32: max |ΔP| = {d:e}, mean |ΔP| = {mean:e}");
    assert!(d < 2e-2, "f16 activations change P by {d}");
}

#[test]
fn wrong_voxel_size_and_constant_map_are_errors() {
    let net = small_net(1.0, 1, 1);
    let map = DensityMap::new([8, 8, 8], [1.5; 3], Default::default(), vec![1.0; 512]).unwrap();
    let e = predict_class_probabilities(&net, &map, &InferenceOptions::default()).unwrap_err();
    assert!(matches!(e, CnnError::VoxelSize { .. }), "{e}");
    let map = DensityMap::new([8, 8, 8], [1.0; 3], Default::default(), vec![1.0; 512]).unwrap();
    let e = predict_class_probabilities(&net, &map, &InferenceOptions::default()).unwrap_err();
    assert_eq!(e, CnnError::ConstantMap);
}

#[test]
fn weights_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    for head_kernel in [1, 3] {
        let mut net = small_net(1.2, head_kernel, 5);
        net.meta.validation_crscore = Some(0.8125);
        net.meta.epochs = 708;
        let path = dir.path().join(format!("net{head_kernel}.safetensors"));
        save_weights(&net, &path).unwrap();
        let back = load_weights(&path).unwrap();
        assert_eq!(back, net);
    }
}

/// Rebuilds a weights file with one tensor dropped or replaced and metadata edited.
fn tampered(
    net: &CaNetwork,
    drop: Option<&str>,
    replace: Option<(&str, Vec<usize>)>,
    meta_edit: Option<(&str, &str)>,
) -> Vec<u8> {
    use safetensors::tensor::{Dtype, TensorView};
    let bytes = weights_to_bytes(net).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut meta: HashMap<String, String> = header.metadata().clone().unwrap();
    if let Some((k, v)) = meta_edit {
        meta.insert(k.into(), v.into());
    }
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, t) in st.tensors() {
        if Some(name.as_str()) == drop {
            continue;
        }
        match &replace {
            Some((r, shape)) if *r == name => {
                let len: usize = shape.iter().product();
                owned.push((name, shape.clone(), vec![0u8; 4 * len]));
            }
            _ => owned.push((name, t.shape().to_vec(), t.data().to_vec())),
        }
    }
    let views: Vec<_> = owned
        .iter()
        .map(|(n, s, d)| {
            (
                n.clone(),
                TensorView::new(Dtype::F32, s.clone(), d).unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, Some(meta)).unwrap()
}

#[test]
fn malformed_weights_give_errors_naming_the_problem() {
    let net = small_net(1.0, 1, 3);
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<u8>, &[&str])> = vec![
        (
            tampered(&net, Some("blocks.1.conv2.weight"), None, None),
            &["blocks.1.conv2.weight", "missing"],
        ),
        (
            tampered(&net, None, Some(("blocks.0.norm1.bias", vec![7])), None),
            &["blocks.0.norm1.bias", "[7]", "[8]"],
        ),
        (
            tampered(
                &net,
                None,
                Some(("head.conv.weight", vec![2, 8, 2, 2, 2])),
                None,
            ),
            &["head.conv.weight", "[2, 8, 2, 2, 2]"],
        ),
        (
            tampered(&net, None, None, Some(("channels", "16"))),
            &["head.conv.weight", "[2, 8, 1, 1, 1]", "channels=16"],
        ),
        (
            tampered(&net, None, None, Some(("blocks", "1"))),
            &["unexpected tensors", "blocks.1.conv1.weight"],
        ),
        (
            tampered(&net, None, None, Some(("architecture", "unet"))),
            &["architecture", "unet"],
        ),
        (
            tampered(&net, None, None, Some(("voxel_size", "-1"))),
            &["voxel_size", "-1"],
        ),
        (
            b"not a weights file at all".to_vec(),
            &["not a safetensors file"],
        ),
    ];
    for (i, (bytes, needles)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.safetensors"));
        std::fs::write(&path, bytes).unwrap();
        let msg = load_weights(&path).unwrap_err().to_string();
        assert!(
            msg.contains(&*path.to_string_lossy()),
            "case {i}: no file name in '{msg}'"
        );
        for n in needles {
            assert!(msg.contains(n), "case {i}: '{n}' not in '{msg}'");
        }
    }
}
