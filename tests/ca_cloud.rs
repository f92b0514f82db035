//! Cα clouds from maps: peak picking on probability maps (paper Methods), the
//! greedy baseline on simulated and real density, and the `mapfold ca` /
//! `mapfold bench ca` commands.

use std::path::{Path, PathBuf};
use std::process::Command;

use mapfold::bench::ca::{benchmark_map, SimOptions};
use mapfold::ca::greedy::{pick_greedy, GreedyParams};
use mapfold::ca::peaks::{pick_peaks, PeakParams};
use mapfold::ca::CaCloud;
use mapfold::geom::crscore::crscore_pairs;
use mapfold::gpu::Backend;
use mapfold::map::DensityMap;
use mapfold::Vec3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A probability-like map: Gaussian blobs (centre, peak value) of width `sigma` Å
/// on a 1 Å grid from the origin.
fn blob_map(dims: [usize; 3], blobs: &[(Vec3, f32)], sigma: f64) -> DensityMap {
    let mut map = DensityMap::zeros(dims, [1.0; 3], Vec3::zeros()).unwrap();
    let mut values = Vec::with_capacity(map.len());
    for k in 0..dims[2] {
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                let p = map.voxel_position(i, j, k);
                let v: f64 = blobs
                    .iter()
                    .map(|(c, a)| {
                        *a as f64 * (-(p - c).norm_squared() / (2.0 * sigma * sigma)).exp()
                    })
                    .sum();
                values.push(v as f32);
            }
        }
    }
    map.data_mut().copy_from_slice(&values);
    map
}

/// `n` random points in [lo, hi)³ at least `gap` Å apart.
fn separated_points(n: usize, lo: f64, hi: f64, gap: f64, seed: u64) -> Vec<Vec3> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pts: Vec<Vec3> = Vec::new();
    while pts.len() < n {
        let p = Vec3::new(
            rng.random_range(lo..hi),
            rng.random_range(lo..hi),
            rng.random_range(lo..hi),
        );
        if pts.iter().all(|q| (p - q).norm() >= gap) {
            pts.push(p);
        }
    }
    pts
}

fn min_pair_distance(pts: &[Vec3]) -> f64 {
    let mut d = f64::INFINITY;
    for i in 0..pts.len() {
        for j in 0..i {
            d = d.min((pts[i] - pts[j]).norm());
        }
    }
    d
}

#[test]
fn peak_picking_recovers_known_blobs() {
    let truth = separated_points(40, 3.0, 27.0, 5.0, 11);
    let blobs: Vec<(Vec3, f32)> = truth.iter().map(|p| (*p, 1.0)).collect();
    let map = blob_map([30, 30, 30], &blobs, 0.8);
    let cloud = pick_peaks(&map, truth.len(), &PeakParams::default());
    // After the 40 blob maxima the best remaining voxels are blob tails well
    // below 0.9, so the overshoot adds nothing.
    assert_eq!(cloud.len(), 40);
    let mut worst = 0.0f64;
    for t in &truth {
        let nearest = cloud
            .points
            .iter()
            .map(|p| (p - t).norm())
            .fold(f64::INFINITY, f64::min);
        worst = worst.max(nearest);
    }
    assert!(worst < 0.1, "worst centre error {worst} Å (1 Å voxels)");
    // Every blob is found once: CRscore 1 within rounding.
    let s = crscore_pairs(&cloud.points, &truth);
    assert!(s.score > 0.999, "{}", s.score);
}

#[test]
fn exclusion_holds_for_every_output_pair() {
    // Random values: many near-ties and no blob structure, the hardest case for
    // the refined positions.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut map =
        DensityMap::zeros([36, 30, 33], [0.9, 1.1, 1.0], Vec3::new(-5.0, 2.0, 7.0)).unwrap();
    for v in map.data_mut() {
        *v = rng.random::<f32>();
    }
    let params = PeakParams::default();
    let cloud = pick_peaks(&map, 600, &params);
    assert!(cloud.len() >= 600, "{}", cloud.len());
    let d = min_pair_distance(&cloud.points);
    assert!(d >= 3.3 - 1e-9, "closest pair {d} Å");
    // The same holds for the greedy baseline, with and without refinement.
    for refine in [false, true] {
        let g = pick_greedy(
            &map,
            500,
            &GreedyParams {
                refine,
                ..Default::default()
            },
        );
        assert_eq!(g.len(), 500);
        assert!(min_pair_distance(&g.points) >= 3.3 - 1e-9);
    }
}

#[test]
fn overshoot_stops_at_the_threshold_and_the_cap() {
    let centres = separated_points(20, 3.0, 27.0, 6.0, 5)
        .into_iter()
        .map(|p| p.map(f64::round)) // on grid: the peak voxel holds the amplitude
        .collect::<Vec<_>>();
    let run = |amps: &[f32]| {
        let blobs: Vec<(Vec3, f32)> = centres.iter().copied().zip(amps.iter().copied()).collect();
        pick_peaks(
            &blob_map([30, 30, 30], &blobs, 0.8),
            10,
            &PeakParams::default(),
        )
    };
    let mut amps = vec![1.0f32; 10];
    // Ten extra blobs above 0.9: stop at the cap, 1.2·L = 12.
    amps.extend([0.95; 10]);
    let c = run(&amps);
    assert_eq!(c.len(), 12);
    assert!(c.scores[10..].iter().all(|&s| s > 0.9));
    // One extra above 0.9, the rest below: 11.
    amps[11..].fill(0.6);
    assert_eq!(run(&amps).len(), 11);
    // None above 0.9: exactly L, though ten more blobs are there.
    amps[10..].fill(0.85);
    let c = run(&amps);
    assert_eq!(c.len(), 10);
    assert!(c.scores.iter().all(|&s| s > 0.99));
}

#[test]
fn greedy_on_a_simulated_map_of_3j6b_chain_9() {
    let s = mapfold::io::read_structure(&fixture("3j6b_9.pdb")).unwrap();
    let truth = s.ca_coords();
    let map = benchmark_map(&s, 3.0, &SimOptions::default(), Backend::Cpu, "3j6b_9").unwrap();
    let cloud = pick_greedy(&map, truth.len(), &GreedyParams::default());
    assert_eq!(cloud.len(), truth.len());
    let score = crscore_pairs(&cloud.points, &truth);
    eprintln!(
        "3J6B chain 9, simulated 3 Å: greedy CRscore {:.4}, RMSD {:.2} Å",
        score.score, score.rmsd
    );
    // Measured 0.740 (RMSD 8.8 Å over all 195 pairs); a drop below this floor
    // means the picker or the simulation regressed.
    assert!(score.score > 0.70, "{}", score.score);
}

#[test]
fn greedy_on_the_real_emd2566_map() {
    let s = mapfold::io::read_structure(&fixture("3j6b_9.pdb")).unwrap();
    let truth = s.ca_coords();
    let map = mapfold::io::mrc::read_map(&fixture("emd2566_3j6b_9.mrc")).unwrap();
    let cloud = pick_greedy(&map, truth.len(), &GreedyParams::default());
    let score = crscore_pairs(&cloud.points, &truth);
    eprintln!(
        "EMD-2566: greedy CRscore {:.4}, RMSD {:.2} Å",
        score.score, score.rmsd
    );
    // Measured 0.684 (RMSD 16.1 Å: the pairs left at the end are far apart).
    assert!(score.score > 0.64, "{}", score.score);
}

fn mapfold() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mapfold"))
}

#[test]
fn cli_ca_greedy_writes_l_unk_ca_atoms() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ca.pdb");
    let o = mapfold()
        .args([
            "ca",
            "--baseline",
            "greedy",
            "--length",
            "195",
            "--json",
            "--map",
        ])
        .arg(fixture("emd2566_3j6b_9.mrc"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["n_atoms"], 195);
    assert!(j["seconds"].as_f64().unwrap() >= 0.0);
    assert!(j["device"].is_string());
    let s = mapfold::io::read_structure(&out).unwrap();
    assert_eq!(s.chains.len(), 1);
    assert_eq!(s.chains[0].id, "A");
    let res = &s.chains[0].residues;
    assert_eq!(res.len(), 195);
    for (i, r) in res.iter().enumerate() {
        assert_eq!(r.name, "UNK");
        assert_eq!(r.seq_num, i as i32 + 1);
        assert_eq!(r.atoms.len(), 1);
        assert_eq!(r.atoms[0].name, "CA");
        assert_eq!(r.atoms[0].element, "C");
    }
    assert_eq!(CaCloud::read(&out).unwrap().len(), 195);
}

#[test]
fn cli_ca_bad_map_path_fails_naming_it_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ca.pdb");
    let missing = dir.path().join("no_such_map.mrc");
    let o = mapfold()
        .args(["ca", "--baseline", "greedy", "--length", "10", "--map"])
        .arg(&missing)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no_such_map.mrc"), "{err}");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temp file left"
    );
}

/// The default route: the bundled networks on the real EMD-2566 cut-out must
/// find the deposited chain's Cα better than the naive greedy baseline.
#[test]
fn cli_ca_bundled_networks_beat_greedy_on_emd2566() {
    let dir = tempfile::tempdir().unwrap();
    let model = mapfold::io::read_structure(&fixture("3j6b_9.pdb")).unwrap();
    let truth = model.ca_coords();
    let run = |extra: &[&str], out: &Path| {
        let o = mapfold()
            .args(["ca", "--length", "195", "--resolution", "3.2", "--map"])
            .arg(fixture("emd2566_3j6b_9.mrc"))
            .arg("-o")
            .arg(out)
            .args(extra)
            .args(["--device", "cpu", "--json"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let cloud = CaCloud::read(out).unwrap();
        crscore_pairs(&cloud.points, &truth).score
    };
    let cnn = run(&[], &dir.path().join("cnn.pdb"));
    let greedy = run(&["--baseline", "greedy"], &dir.path().join("greedy.pdb"));
    eprintln!("EMD-2566 / 3J6B chain 9: CNN CRscore {cnn:.3}, greedy {greedy:.3}");
    assert!(cnn > greedy, "CNN {cnn} vs greedy {greedy}");
}

#[test]
fn cli_ca_picks_peaks_from_a_probability_map_file() {
    let dir = tempfile::tempdir().unwrap();
    let truth = separated_points(12, 3.0, 17.0, 5.0, 21);
    let blobs: Vec<(Vec3, f32)> = truth.iter().map(|p| (*p, 0.98)).collect();
    let prob = dir.path().join("p.mrc");
    mapfold::io::mrc::write_map(&prob, &blob_map([20, 20, 20], &blobs, 0.8)).unwrap();
    let out = dir.path().join("ca.pdb");
    let o = mapfold()
        .args(["ca", "--length", "12", "--probability-map"])
        .arg(&prob)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cloud = CaCloud::read(&out).unwrap();
    assert_eq!(cloud.len(), 12);
    // PDB keeps three decimals; the refinement is far better than a voxel.
    assert!(crscore_pairs(&cloud.points, &truth).rmsd < 0.1);
}

#[test]
fn cli_bench_ca_on_two_test_chains() {
    let Some(data) = mapfold::data::shared_data_for_test("cli_bench_ca_on_two_test_chains") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let o = mapfold()
        .args([
            "bench",
            "ca",
            "--split",
            "test-easy",
            "--limit",
            "2",
            "--resolutions",
            "4,8",
            "--json",
        ])
        .arg("--data")
        .arg(&data)
        .arg("-o")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["chains"], 2);
    let tsv = std::fs::read_to_string(dir.path().join("ca_results.tsv")).unwrap();
    let lines: Vec<&str> = tsv.lines().collect();
    assert_eq!(
        lines[0],
        "target\tsplit\tresolution\tmethod\tn_true\tn_picked\tcrscore\trmsd_paired\tseconds"
    );
    assert_eq!(lines.len(), 1 + 2 * 2);
    for l in &lines[1..] {
        let f: Vec<&str> = l.split('\t').collect();
        assert_eq!(f[1], "test-easy");
        assert_eq!(f[3], "greedy");
        assert_eq!(f[4], f[5], "greedy picks exactly L");
        let cr: f64 = f[6].parse().unwrap();
        assert!(cr > 0.3 && cr <= 1.0, "{l}");
    }
    let md = std::fs::read_to_string(dir.path().join("ca_summary.md")).unwrap();
    assert!(md.contains("| greedy | 4 | 2 |"), "{md}");
}

#[test]
fn cli_bench_ca_without_data_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let o = mapfold()
        .env("MAPFOLD_DATA", dir.path().join("absent"))
        .args(["bench", "ca", "-o"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("shared/data not found"), "{err}");
}

/// The CNN route end to end with weights from files (seeded random weights: this
/// checks the plumbing — resampling, both networks, consensus, output — not
/// accuracy, which the bundled weights' tests and BENCHMARKS.md cover).
#[test]
fn cli_ca_cnn_route_with_weight_files() {
    use mapfold::cnn::{save_weights, CaNetwork, NetworkMeta};
    let dir = tempfile::tempdir().unwrap();
    let mut meta = NetworkMeta::paper(1.0);
    meta.channels = 4;
    meta.blocks = 1;
    let (wa, wb) = (
        dir.path().join("a.safetensors"),
        dir.path().join("b.safetensors"),
    );
    save_weights(&CaNetwork::random(meta.clone(), 1), &wa).unwrap();
    save_weights(&CaNetwork::random(meta, 2), &wb).unwrap();
    let out = dir.path().join("ca.pdb");
    let prob = dir.path().join("p.mrc");
    let map = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/emd2566_3j6b_9.mrc");
    let o = Command::new(env!("CARGO_BIN_EXE_mapfold"))
        .args(["ca", "--map", map.to_str().unwrap(), "--length", "50", "-o"])
        .arg(&out)
        .args([
            "--weights-a",
            wa.to_str().unwrap(),
            "--weights-b",
            wb.to_str().unwrap(),
        ])
        .args([
            "--save-probability",
            prob.to_str().unwrap(),
            "--json",
            "--device",
            "cpu",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["method"], "cnn");
    assert!(v["n_atoms"].as_u64().unwrap() >= 50);
    // No --resolution: it was estimated from the map (EMD-2566 is about 3.2 Å).
    assert_eq!(v["resolution_estimated"], true);
    let r = v["resolution"].as_f64().unwrap();
    assert!((2.0..6.0).contains(&r), "estimated resolution {r}");
    // The probability map is on the network's 1 Å grid, covering the input map.
    let p = mapfold::io::mrc::read_map(&prob).unwrap();
    assert_eq!(p.voxel_size(), [1.0; 3]);
    assert_eq!(p.dims(), [46, 69, 62]);
    assert!(p.data().iter().all(|&x| (0.0..=1.0).contains(&x)));
    let cloud = mapfold::ca::CaCloud::read(&out).unwrap();
    assert_eq!(cloud.len() as u64, v["n_atoms"].as_u64().unwrap());
}

#[test]
fn cli_bench_ca_on_the_real_maps() {
    let Some(data) = mapfold::data::shared_data_for_test("cli_bench_ca_on_the_real_maps") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let o = mapfold()
        .args([
            "bench", "ca", "--split", "real", "--method", "greedy", "--data",
        ])
        .arg(&data)
        .arg("-o")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let tsv = std::fs::read_to_string(dir.path().join("ca_results.tsv")).unwrap();
    let rows: Vec<Vec<&str>> = tsv
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 3, "{tsv}");
    for r in &rows {
        assert_eq!(r[1], "real");
        // The whole placed chain lies in the cut-outs: L is the model's Cα count.
        let expected = match r[0] {
            "EMD-2566/3J6B_9" => "195",
            "EMD-5168/3MFP_monomer" => "369",
            "EMD-5778_fragment" => "28",
            other => panic!("unexpected map {other}"),
        };
        assert_eq!(r[4], expected);
    }
}
