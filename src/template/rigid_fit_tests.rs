use std::path::PathBuf;
use std::time::Instant;

use super::*;
use crate::geom::kabsch::rmsd_in_place;
use crate::structure::Structure;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// EMD-2566 cut-out (about 3.2 Å) and the deposited chain 9 of 3J6B.
fn deposited() -> (DensityMap, Vec<Vec3>) {
    let map = crate::io::mrc::read_map(&fixture("emd2566_3j6b_9.mrc")).unwrap();
    let s = crate::io::read_structure(&fixture("3j6b_9.pdb")).unwrap();
    (map, s.ca_coords())
}

fn model_of(ca: &[Vec3]) -> TemplateModel {
    TemplateModel {
        source: Source::Threading,
        template_id: "test".into(),
        zscore: 0.0,
        ca: ca.iter().map(|p| Some(*p)).collect(),
        crscore: None,
        density_pcc: None,
    }
}

/// `ca` turned by `deg` about `axis` through its centroid and shifted by `shift`.
fn turned(ca: &[Vec3], axis: Vec3, deg: f64, shift: Vec3) -> Vec<Vec3> {
    let c = ca.iter().sum::<Vec3>() / ca.len() as f64;
    let r = Rotation3::new(axis.normalize() * deg.to_radians());
    ca.iter().map(|p| r * (p - c) + c + shift).collect()
}

fn fit_and_report(
    name: &str,
    map: &DensityMap,
    resolution: f64,
    start: &[Vec3],
    truth: &[Vec3],
) -> (RigidFit, f64) {
    let opts = FitOptions::default();
    let t0 = Instant::now();
    let target = FitTarget::new(map, resolution, &opts).unwrap();
    let prep = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let fit = target.fit(start, &opts);
    let secs = t1.elapsed().as_secs_f64();
    let fitted: Vec<Vec3> = start.iter().map(|p| fit.transform.apply(p)).collect();
    let rmsd = rmsd_in_place(&fitted, truth);
    eprintln!(
        "{name}: start RMSD {:.2} Å -> fitted {rmsd:.2} Å; PCC start {:.3}, fitted {:.3}, truth {:.3}; \
         score {:.3}; MC T {:.2e} accepted {:.0} %; map prep {prep:.2} s, fit {secs:.2} s",
        rmsd_in_place(start, truth),
        ca_density_pcc(map, start, resolution),
        fit.pcc,
        ca_density_pcc(map, truth, resolution),
        fit.score,
        fit.mc_temperature,
        100.0 * fit.mc_accepted,
    );
    (fit, rmsd)
}

/// The analytic gradient of the score in the six rigid parameters agrees
/// with central differences on the real map (away from zero rotation, where
/// the rotation-vector derivative is not the trivial one).
#[test]
fn gradient_matches_finite_differences() {
    let (map, ca) = deposited();
    let field = Field::blurred(&map, 6.0).unwrap();
    let c = ca.iter().sum::<Vec3>() / ca.len() as f64;
    let local: Vec<Vec3> = ca.iter().map(|p| p - c).collect();
    let obj = Objective {
        field: &field,
        local: &local,
        rg: 15.0,
    };
    let base = Pose {
        rot: Rotation3::new(Vec3::new(0.2, -0.1, 0.3)).into_inner(),
        centre: c + Vec3::new(1.0, -0.5, 0.7),
    };
    let x = [3.0, -2.0, 4.0, 0.3, -0.2, 0.1];
    let (_, g) = obj.value_grad(&base, &x);
    for i in 0..6 {
        let h = 1e-4;
        let (mut xp, mut xm) = (x, x);
        xp[i] += h;
        xm[i] -= h;
        let num = (obj.value_grad(&base, &xp).0 - obj.value_grad(&base, &xm).0) / (2.0 * h);
        assert!(
            (num - g[i]).abs() < 1e-3 * (1.0 + num.abs()),
            "parameter {i}: analytic {} numeric {num}",
            g[i]
        );
    }
}

/// (a) The deposited chain turned by 30° and shifted by 5 Å goes back: Cα
/// RMSD to the deposited position under 2 Å and the PCC back to within 0.02
/// of the deposited chain's.
#[test]
fn turned_30_degrees_and_shifted_5_returns_to_the_deposit() {
    let (map, ca) = deposited();
    let start = turned(
        &ca,
        Vec3::new(1.0, 2.0, -1.0),
        30.0,
        Vec3::new(3.0, -4.0, 0.0),
    );
    let (fit, rmsd) = fit_and_report("30°+5 Å", &map, 3.2, &start, &ca);
    let deposit_pcc = ca_density_pcc(&map, &ca, 3.2);
    assert!(rmsd < 2.0, "RMSD {rmsd}");
    assert!(fit.pcc > deposit_pcc - 0.02, "{} vs {deposit_pcc}", fit.pcc);
    assert!(ca_density_pcc(&map, &start, 3.2) < deposit_pcc - 0.1);
    assert!(
        (0.2..=0.6).contains(&fit.mc_accepted),
        "acceptance {}",
        fit.mc_accepted
    );
}

/// (b) From a 120° turn the local basin is gone; the global search over
/// starting orientations still finds the deposited pose.
#[test]
fn turned_120_degrees_is_found_by_the_global_search() {
    let (map, ca) = deposited();
    let start = turned(
        &ca,
        Vec3::new(-0.3, 1.0, 0.5),
        120.0,
        Vec3::new(-6.0, 2.0, 5.0),
    );
    let (_, rmsd) = fit_and_report("120°", &map, 3.2, &start, &ca);
    assert!(rmsd < 2.0, "RMSD {rmsd}");
}

/// (c) A test-split chain of the shared data, its full-atom eq. 2 map at 6 Å,
/// and its Cα trace randomly rotated and shifted: the fit puts it back.
#[test]
fn simulated_map_of_a_test_chain_refits_a_random_placement() {
    let Some(dir) = crate::data::shared_data_for_test(
        "simulated_map_of_a_test_chain_refits_a_random_placement",
    ) else {
        return;
    };
    let chains = crate::training::dataset::chains_for_split(&dir, "test-easy", false).unwrap();
    let (id, s): (String, Structure) = chains
        .iter()
        .find_map(|(id, path)| {
            let s = crate::io::read_structure(path).ok()?;
            let n = s.ca_coords().len();
            (80..=200).contains(&n).then(|| (id.clone(), s))
        })
        .expect("a test-easy chain of 80-200 residues");
    let map = simulate::simulate_box(s.atoms(), 6.0, 2.0, 10.0, Backend::Cpu).unwrap();
    let ca = s.ca_coords();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let axis = Vec3::new(gaussian(&mut rng), gaussian(&mut rng), gaussian(&mut rng));
    let deg = rng.random_range(60.0..180.0);
    let shift = Vec3::from_fn(|_, _| rng.random_range(-8.0..8.0));
    let start = turned(&ca, axis, deg, shift);
    eprintln!("{id}: {} residues, turned {deg:.0}°", ca.len());
    let (_, rmsd) = fit_and_report(&id, &map, 6.0, &start, &ca);
    assert!(rmsd < 2.0, "RMSD {rmsd}");
}

/// (d) The same seed gives the same pose, bit for bit.
#[test]
fn same_seed_same_fit() {
    let (map, ca) = deposited();
    let start = turned(
        &ca,
        Vec3::new(0.0, 0.0, 1.0),
        45.0,
        Vec3::new(2.0, 2.0, 2.0),
    );
    let opts = FitOptions {
        seed: 42,
        ..FitOptions::default()
    };
    let model = model_of(&start);
    let a = fit_rigid(&model, &map, 3.2, &opts).unwrap();
    let b = fit_rigid(&model, &map, 3.2, &opts).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.source, Source::Fitted);
    assert!(a.density_pcc.is_some());
}

/// `fit_all` ranks by PCC: the true chain (turned) beats its mirror image,
/// which has the same Cα distances but the wrong hand and cannot fit as well;
/// a model without Cα atoms has no PCC and is dropped by `keep`.
#[test]
fn fit_all_ranks_the_true_chain_above_its_mirror() {
    let (map, ca) = deposited();
    let start = turned(
        &ca,
        Vec3::new(1.0, 0.0, 0.0),
        20.0,
        Vec3::new(0.0, 3.0, 0.0),
    );
    let mut true_model = model_of(&start);
    true_model.template_id = "true".into();
    let c = ca.iter().sum::<Vec3>() / ca.len() as f64;
    let mirrored: Vec<Vec3> = ca
        .iter()
        .map(|p| Vec3::new(2.0 * c.x - p.x, p.y, p.z))
        .collect();
    let mut mirror = model_of(&mirrored);
    mirror.template_id = "mirror".into();
    let mut empty = model_of(&[]);
    empty.ca = vec![None; 10];
    empty.template_id = "empty".into();
    let t0 = Instant::now();
    let out = fit_all(
        &[mirror, empty, true_model],
        &map,
        3.2,
        2,
        &FitOptions::default(),
    )
    .unwrap();
    let ids: Vec<&str> = out.iter().map(|m| m.template_id.as_str()).collect();
    let pccs: Vec<f64> = out.iter().map(|m| m.density_pcc.unwrap()).collect();
    eprintln!(
        "fit_all: {ids:?} PCC {pccs:?}, {:.2} s for 3 templates",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(ids, ["true", "mirror"]);
    assert!(pccs[0] > pccs[1]);
}

#[test]
fn bad_resolution_is_an_error() {
    let (map, ca) = deposited();
    for r in [0.0, -3.0, f64::NAN] {
        assert!(matches!(
            fit_rigid(&model_of(&ca), &map, r, &FitOptions::default()),
            Err(FitError::BadResolution(_))
        ));
    }
}

#[test]
fn super_fibonacci_rotations_are_proper_and_spread() {
    let rots = super_fibonacci(48);
    for r in &rots {
        assert!((r.determinant() - 1.0).abs() < 1e-9);
        assert!((r * r.transpose() - Matrix3::identity()).norm() < 1e-9);
    }
    // Any orientation lies within 70° of one of the 48 rotations (a uniform
    // covering of SO(3) by 48 balls needs a radius of about 60°).
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..500 {
        let q = UnitQuaternion::from_quaternion(Quaternion::new(
            gaussian(&mut rng),
            gaussian(&mut rng),
            gaussian(&mut rng),
            gaussian(&mut rng),
        ))
        .to_rotation_matrix()
        .into_inner();
        let nearest = rots
            .iter()
            .map(|r| {
                let c = ((r.transpose() * q).trace() - 1.0) / 2.0;
                c.clamp(-1.0, 1.0).acos().to_degrees()
            })
            .fold(f64::INFINITY, f64::min);
        assert!(nearest < 70.0, "{nearest}");
    }
}

/// 3MFP (369 residues) in the F-actin maps of EMD-5168 (about 6.6 Å), from a
/// 100° turn: in the one-monomer cut-out the fit finds the deposited pose; in
/// the full 100³ filament map, where several monomers compete, it finds a
/// monomer at least as well-fitting as the deposited one.
#[test]
fn actin_chain_in_the_emd5168_monomer_and_filament_maps() {
    let Some(dir) =
        crate::data::shared_data_for_test("actin_chain_in_the_emd5168_monomer_and_filament_maps")
    else {
        return;
    };
    let d = dir.join("maps/emd5168_3mfp");
    let s = crate::io::read_structure(&d.join("3MFP.pdb")).unwrap();
    let ca = s.ca_coords();
    let start = turned(
        &ca,
        Vec3::new(0.4, -1.0, 0.2),
        100.0,
        Vec3::new(4.0, 0.0, -4.0),
    );
    let mono = crate::io::mrc::read_map(&d.join("emd_5168_monomer.mrc")).unwrap();
    let (_, rmsd) = fit_and_report("EMD-5168 monomer", &mono, 6.6, &start, &ca);
    assert!(rmsd < 2.0, "RMSD {rmsd}");
    let full = crate::io::mrc::read_map(&d.join("emd_5168.map")).unwrap();
    let (fit, _) = fit_and_report("EMD-5168 filament", &full, 6.6, &start, &ca);
    let deposit = ca_density_pcc(&full, &ca, 6.6);
    assert!(fit.pcc > deposit - 0.02, "{} vs {deposit}", fit.pcc);
}
