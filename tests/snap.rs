//! A placed template moved onto the map's Cα cloud residue by residue
//! (`template::snap`): 3J6B chain 9 distorted as a homologous template would
//! be (a rigid tilt, per-residue noise, a 6-residue alignment gap) comes back
//! to its own atoms on the cloud of its simulated 3 Å map; the clouds of the
//! real EMD-2566 map and of a 14 Å map, where the two networks' atoms lie
//! farther apart, are not snapped onto (on EMD-2566 it would gain nothing).

use std::path::{Path, PathBuf};

use mapfold::ca::detect::CaDetector;
use mapfold::geom::kabsch::Transform;
use mapfold::geom::tmscore::tm_score_paired;
use mapfold::gpu::Backend;
use mapfold::map::simulate::simulate_box;
use mapfold::template::snap::{snap_chain, snap_to_cloud, SnapOptions};
use mapfold::template::{Source, TemplateModel};
use mapfold::Vec3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn tm(ca: &[Option<Vec3>], native: &[Vec3]) -> f64 {
    let (m, r): (Vec<Vec3>, Vec<Vec3>) = ca
        .iter()
        .zip(native)
        .filter_map(|(p, q)| p.map(|p| (p, *q)))
        .unzip();
    tm_score_paired(&m, &r, native.len()).tm_score
}

/// Residues within 1 Å of their own native Cα.
fn on_target(ca: &[Option<Vec3>], native: &[Vec3]) -> usize {
    ca.iter()
        .zip(native)
        .filter(|(p, q)| p.is_some_and(|p| (p - *q).norm() < 1.0))
        .count()
}

/// The native distorted by a rigid tilt of `degrees` about an axis through
/// its centroid plus a small shift, then `noise` Å (uniform per axis) of
/// independent noise per residue; residues 40..46 left out as an alignment gap.
fn distorted(native: &[Vec3], degrees: f64, noise: f64, seed: u64) -> TemplateModel {
    let centre = native.iter().sum::<Vec3>() / native.len() as f64;
    let rot = nalgebra::Rotation3::from_axis_angle(
        &nalgebra::Unit::new_normalize(Vec3::new(1.0, 2.0, 0.5)),
        degrees.to_radians(),
    );
    let tilt = Transform {
        rotation: *rot.matrix(),
        translation: centre - rot * centre + Vec3::new(0.6, -0.5, 0.6),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut jitter = || (rng.random::<f64>() - 0.5) * 2.0 * noise;
    let ca = native
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let n = Vec3::new(jitter(), jitter(), jitter());
            (!(40..46).contains(&i)).then(|| tilt.apply(p) + n)
        })
        .collect();
    TemplateModel {
        source: Source::Reselected,
        template_id: format!("3j6b_9-{degrees}deg-{noise}A"),
        zscore: 0.0,
        ca,
        crscore: None,
        density_pcc: None,
    }
}

/// The bundled networks' detection on a map of 3J6B chain 9's length.
fn detect(map: &mapfold::map::DensityMap, l: usize) -> mapfold::ca::detect::Detection {
    let (a, b) = mapfold::cnn::bundled::networks().unwrap();
    CaDetector::new(a, b)
        .unwrap()
        .detect(map, l, Backend::Cpu)
        .unwrap()
}

/// (TM-score before, after, residues within 1 Å of their own Cα before,
/// after, gap residues filled) of snapping the distorted native.
fn snap_report(cloud: &[Vec3], native: &[Vec3], label: &str) -> (f64, f64, usize, usize, usize) {
    let template = distorted(native, 8.0, 2.5, 7);
    let (snapped, n) = snap_to_cloud(&template, cloud, &SnapOptions::default());
    let r = (
        tm(&template.ca, native),
        tm(&snapped.ca, native),
        on_target(&template.ca, native),
        on_target(&snapped.ca, native),
        (40..46).filter(|&i| snapped.ca[i].is_some()).count(),
    );
    eprintln!(
        "{label}: {n} of {} residues took a cloud atom; TM-score {:.3} -> {:.3}; within 1 Å of their own Cα {} -> {}; gap residues filled {}/6",
        native.len(),
        r.0,
        r.1,
        r.2,
        r.3,
        r.4
    );
    r
}

#[test]
fn a_distorted_template_moves_onto_a_sharp_cloud_and_not_onto_a_blurred_one() {
    let s = mapfold::io::read_structure(&fixture("3j6b_9.pdb")).unwrap();
    let native = s.ca_coords();
    let l = native.len();
    let opts = SnapOptions::default();

    // The chain's own map simulated at 3 Å (eq. 2): a sharp cloud.
    let sim = simulate_box(s.atoms(), 3.0, 1.0, 6.0, Backend::Cpu).unwrap();
    let found = detect(&sim, l);
    eprintln!("simulated 3 Å: networks' spread {:?} Å", found.spread);
    assert!(opts.applies_to(found.spread));
    let (before, after, hit0, hit1, filled) =
        snap_report(&found.cloud.points, &native, "simulated 3 Å");
    assert!(after > before + 0.05, "TM-score {before:.3} -> {after:.3}");
    assert!(hit1 > hit0 + l / 2, "{hit0} -> {hit1} within 1 Å");
    assert!(filled >= 4, "{filled} of 6 gap residues filled");

    // The whole-chain form used on the assembly's models: its gap residues
    // (placed 3 Å off) take atoms too.
    let template = distorted(&native, 8.0, 2.5, 7);
    let full: Vec<Vec3> = template
        .ca
        .iter()
        .zip(&native)
        .map(|(p, q)| p.unwrap_or(*q + Vec3::new(3.0, 0.0, 0.0)))
        .collect();
    let (moved, _) = snap_chain(&full, &found.cloud.points, &opts);
    let wrap = |v: Vec<Vec3>| -> Vec<Option<Vec3>> { v.into_iter().map(Some).collect() };
    let (t0, t1) = (tm(&wrap(full), &native), tm(&wrap(moved), &native));
    eprintln!("whole chain: TM-score {t0:.3} -> {t1:.3}");
    assert!(t1 > t0 + 0.05, "{t0:.3} -> {t1:.3}");

    // The real EMD-2566 cut-out: half the deposited Cα have no atom within
    // 1 Å; the spread says so, and snapping would gain nothing here.
    let real = mapfold::io::mrc::read_map(&fixture("emd2566_3j6b_9.mrc")).unwrap();
    let found = detect(&real, l);
    eprintln!("EMD-2566: networks' spread {:?} Å", found.spread);
    assert!(!opts.applies_to(found.spread));
    snap_report(
        &found.cloud.points,
        &native,
        "EMD-2566 (not applied in a build)",
    );

    // At 14 Å the networks' atoms lie too far apart to snap onto.
    let blurred = simulate_box(s.atoms(), 14.0, 1.0, 6.0, Backend::Cpu).unwrap();
    let found = detect(&blurred, l);
    eprintln!("simulated 14 Å: networks' spread {:?} Å", found.spread);
    assert!(!opts.applies_to(found.spread));
}
