//! SPICKER on decoys made from two real chains by Gaussian noise and random
//! rigid motions; shared with the eTM-score tests in `quality`.

use super::*;
use crate::geom::kabsch::superpose;
use nalgebra::{Rotation3, Unit};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

/// Residues compared: the fixture chain's length.
pub(crate) const LEN: usize = 195;

/// Cα trace of 3J6B chain 9 (the committed fixture, 195 residues).
pub(crate) fn chain_a() -> Vec<Vec3> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/3j6b_9.pdb");
    let s = crate::io::read_structure(&path).expect("fixture 3j6b_9.pdb");
    let ca = s.ca_coords();
    assert_eq!(ca.len(), LEN);
    ca
}

/// First 195 Cα of 1DIX chain A (208 residues) from the shared data set: a
/// different fold of the same length as [`chain_a`].
pub(crate) fn chain_b(data: &Path) -> Vec<Vec3> {
    let path = data.join("structures/0021_old_psicov_1dix_A.pdb");
    let s = crate::io::read_structure(&path).expect("shared structure 1dix_A");
    s.ca_coords()[..LEN].to_vec()
}

fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller; 1 − u keeps the logarithm finite.
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random::<f64>();
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// `native` with N(0, σ²) noise on every coordinate, then a random rotation
/// and a translation of up to 20 Å, so that clustering must superpose.
pub(crate) fn perturbed(native: &[Vec3], sigma: f64, rng: &mut ChaCha8Rng) -> Vec<Vec3> {
    let axis = Unit::new_normalize(Vec3::new(gaussian(rng), gaussian(rng), gaussian(rng)));
    let rot = Rotation3::from_axis_angle(&axis, rng.random::<f64>() * std::f64::consts::TAU);
    let shift = Vec3::new(
        rng.random::<f64>() * 40.0 - 20.0,
        rng.random::<f64>() * 40.0 - 20.0,
        rng.random::<f64>() * 40.0 - 20.0,
    );
    native
        .iter()
        .map(|p| {
            let noisy = p + sigma * Vec3::new(gaussian(rng), gaussian(rng), gaussian(rng));
            rot * noisy + shift
        })
        .collect()
}

/// 150 decoys in shuffled order: 90 from chain A with σ = 1.0 Å per coordinate
/// (1.7 Å RMS displacement) and 60 from chain B with σ = 1.5 Å (2.6 Å).
/// Returns the decoys and, for each, whether it came from A.
pub(crate) fn two_fold_decoys(a: &[Vec3], b: &[Vec3], seed: u64) -> (Vec<Vec<Vec3>>, Vec<bool>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut labels: Vec<bool> = (0..150).map(|k| k < 90).collect();
    // Fisher–Yates, so that cluster membership cannot follow input order.
    for k in (1..labels.len()).rev() {
        let j = rng.random_range(0..=k);
        labels.swap(k, j);
    }
    let decoys = labels
        .iter()
        .map(|&from_a| {
            if from_a {
                perturbed(a, 1.0, &mut rng)
            } else {
                perturbed(b, 1.5, &mut rng)
            }
        })
        .collect();
    (decoys, labels)
}

#[test]
fn spicker_separates_two_real_folds() {
    let Some(data) = crate::data::shared_data_for_test("spicker_separates_two_real_folds") else {
        return;
    };
    let (a, b) = (chain_a(), chain_b(&data));
    let native_ab = superpose(&b, &a).rmsd;
    let (decoys, from_a) = two_fold_decoys(&a, &b, 11);
    let t = std::time::Instant::now();
    let res = spicker(&decoys, &SpickerParams::default()).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "A–B native RMSD {native_ab:.2} Å; R_cut {:.2} Å; {} clusters; {:.3} s for 150 decoys",
        res.rmsd_cutoff,
        res.clusters.len(),
        secs
    );
    for (k, c) in res.clusters.iter().enumerate() {
        let n_a = c.members.iter().filter(|&&m| from_a[m]).count();
        println!(
            "cluster {k}: size {} ({} from A), <RMSD> to centroid {:.3} Å, density {:.2}, centre {}, closest {}",
            c.size(),
            n_a,
            c.mean_rmsd,
            c.density,
            c.centre,
            c.closest
        );
    }
    assert_eq!(res.n_clustered, 150);
    assert!(res.clusters.len() >= 2);
    let (c0, c1) = (&res.clusters[0], &res.clusters[1]);
    // The first cluster is all of A, the second all of B, nothing else left.
    assert_eq!(c0.size(), 90);
    assert!(c0.members.iter().all(|&m| from_a[m]));
    assert_eq!(c1.size(), 60);
    assert!(c1.members.iter().all(|&m| !from_a[m]));
    assert_eq!(res.clusters.len(), 2, "no decoy should be left over");
    assert!(c0.members.contains(&c0.centre) && c0.members.contains(&c0.closest));
    assert!(c0.mean_rmsd < c1.mean_rmsd, "A's noise is smaller");

    // The centroids recover the unperturbed chains far better than any decoy.
    let ra = superpose(&c0.centroid, &a).rmsd;
    let rb = superpose(&c1.centroid, &b).rmsd;
    let closest_a = superpose(&decoys[c0.closest], &a).rmsd;
    println!(
        "centroid RMSD to native: A {ra:.3} Å, B {rb:.3} Å (closest decoy of A: {closest_a:.3} Å)"
    );
    assert!(ra < 0.5 && rb < 0.5);
    assert!(closest_a > 1.0);

    // Deterministic: a second run gives identical clusters and coordinates.
    let again = spicker(&decoys, &SpickerParams::default()).unwrap();
    assert_eq!(again.rmsd_cutoff, res.rmsd_cutoff);
    for (x, y) in res.clusters.iter().zip(&again.clusters) {
        assert_eq!(x.members, y.members);
        assert_eq!(x.centre, y.centre);
        assert_eq!(x.closest, y.closest);
        assert_eq!(x.centroid, y.centroid);
    }
}

#[test]
fn spicker_thins_and_adapts_the_cutoff_on_one_real_fold() {
    // One fold only: the widest cutoff would put every decoy in one cluster,
    // so R_cut must shrink until the biggest cluster holds ≤ 70 % of them.
    let a = chain_a();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let decoys: Vec<Vec<Vec3>> = (0..120).map(|_| perturbed(&a, 1.5, &mut rng)).collect();
    let res = spicker(&decoys, &SpickerParams::default()).unwrap();
    let first = res.clusters[0].size() as f64 / 120.0;
    println!(
        "one fold: R_cut {:.2} Å, first cluster {:.2} of the decoys, {} clusters of sizes {:?}",
        res.rmsd_cutoff,
        first,
        res.clusters.len(),
        res.clusters.iter().map(|c| c.size()).collect::<Vec<_>>()
    );
    assert!(first <= 0.7 && first > 0.3);
    assert!(res.rmsd_cutoff < SpickerParams::default().rmsd_max);
    let sizes: Vec<usize> = res.clusters.iter().map(|c| c.size()).collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]));

    // Thinning: 120 decoys clustered as 40, evenly spaced.
    let p = SpickerParams {
        max_decoys: 40,
        ..SpickerParams::default()
    };
    let thin = spicker(&decoys, &p).unwrap();
    assert_eq!(thin.n_clustered, 40);
    assert!(thin
        .clusters
        .iter()
        .flat_map(|c| &c.members)
        .all(|m| m % 3 == 0));
}

#[test]
fn spicker_rejects_bad_decoys() {
    let a = chain_a();
    assert_eq!(
        spicker(&[], &SpickerParams::default()).unwrap_err(),
        ClusterError::NoDecoys
    );
    let short = a[..100].to_vec();
    let e = spicker(&[a.clone(), short], &SpickerParams::default()).unwrap_err();
    assert!(e.to_string().contains("decoy 1 has 100"), "{e}");
    let mut nan = a.clone();
    nan[3].y = f64::NAN;
    assert_eq!(
        spicker(&[a, nan], &SpickerParams::default()).unwrap_err(),
        ClusterError::NonFinite(1)
    );
}

/// Cost at SPICKER's scale: 2500 decoys of 195 residues, thinned to 2000
/// (about 2·10⁶ superpositions). `cargo test --release -- --ignored spicker_at_scale`.
#[test]
#[ignore]
fn spicker_at_scale() {
    let a = chain_a();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let decoys: Vec<Vec<Vec3>> = (0..2500).map(|_| perturbed(&a, 1.5, &mut rng)).collect();
    let t = std::time::Instant::now();
    let res = spicker(&decoys, &SpickerParams::default()).unwrap();
    println!(
        "2500 decoys → {} clustered, R_cut {:.2} Å, sizes {:?}: {:.1} s on {} threads",
        res.n_clustered,
        res.rmsd_cutoff,
        res.clusters.iter().map(|c| c.size()).collect::<Vec<_>>(),
        t.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
    assert_eq!(res.n_clustered, 2000);
    // The cutoff rule: either the biggest cluster holds ≤ 70 %, or R_cut is at its floor.
    assert!(
        res.clusters[0].size() as f64 <= 0.7 * 2000.0
            || res.rmsd_cutoff == SpickerParams::default().rmsd_min
    );
}
