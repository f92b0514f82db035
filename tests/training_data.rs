//! Training samples for the Cα CNN (`training::dataset`): determinism, labels
//! that sit on the rotated Cα atoms, density that agrees with the labels,
//! coloured noise that follows the real-map profile, resolution that the
//! estimator recovers, and the test splits refused for training.

use std::path::Path;
use std::time::Instant;

use mapfold::io::{mrc, read_structure};
use mapfold::map::fft;
use mapfold::map::resolution::estimate_resolution;
use mapfold::structure::Structure;
use mapfold::training::dataset::{
    chains_for_split, make_sample, DatasetError, Degradation, SampleSpec,
};
use mapfold::training::noise::{
    coloured_noise, solvent_noise_amplitude, NOISE_PROFILE_DK, SOLVENT_NOISE_PROFILE,
};
use mapfold::Vec3;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn train_chain(data: &Path, i: usize) -> Structure {
    let chains = chains_for_split(data, "train", true).unwrap();
    read_structure(&chains[i].1).unwrap()
}

fn small_spec(degradation: Degradation) -> SampleSpec {
    SampleSpec {
        box_size: 32,
        degradation,
        ..SampleSpec::default()
    }
}

#[test]
fn same_seed_same_sample_different_seed_differs() {
    let Some(data) = mapfold::data::shared_data_for_test("same_seed") else {
        return;
    };
    let chain = train_chain(&data, 0);
    for deg in [Degradation::Clean, Degradation::Realistic] {
        let spec = small_spec(deg);
        let a = make_sample(&chain, &spec, &mut ChaCha8Rng::seed_from_u64(7)).unwrap();
        let b = make_sample(&chain, &spec, &mut ChaCha8Rng::seed_from_u64(7)).unwrap();
        let c = make_sample(&chain, &spec, &mut ChaCha8Rng::seed_from_u64(8)).unwrap();
        assert_eq!(a.input, b.input);
        assert_eq!(a.labels, b.labels);
        assert_eq!(a.resolution, b.resolution);
        assert_ne!(a.input.data(), c.input.data());
        assert_ne!(a.resolution, c.resolution);
        assert_eq!(a.input.dims(), [32; 3]);
        let s = a.input.stats();
        assert!(s.mean.abs() < 1e-4 && (s.std - 1.0).abs() < 1e-3);
    }
}

#[test]
fn labels_sit_on_rotated_ca_and_density_agrees() {
    let Some(data) = mapfold::data::shared_data_for_test("labels") else {
        return;
    };
    for (i, deg) in [
        (1, Degradation::Clean),
        (2, Degradation::Realistic),
        (3, Degradation::Clean),
    ] {
        let chain = train_chain(&data, i);
        let n_ca = chain.ca_coords().len();
        let spec = SampleSpec {
            resolution_range: (3.0, 4.0),
            snr_range: (5.0, 5.0),
            ..small_spec(deg)
        };
        let s = make_sample(&chain, &spec, &mut ChaCha8Rng::seed_from_u64(i as u64)).unwrap();
        let m = &s.input;
        // Cα positions are the rotated ones: same internal geometry, inside the box.
        assert!(!s.ca.is_empty() && s.ca.len() <= n_ca);
        let ones = s.labels.iter().filter(|&&l| l == 1).count();
        assert_eq!(ones, s.ca.len(), "one labelled voxel per Cα in the box");
        let half_diag = 3f64.sqrt() / 2.0 * m.voxel_size()[0] + 1e-9;
        let mut on_label = Vec::new();
        for (idx, _) in s.labels.iter().enumerate().filter(|(_, &l)| l == 1) {
            let d = m.dims();
            let p = m.voxel_position(idx % d[0], (idx / d[0]) % d[1], idx / (d[0] * d[1]));
            let near =
                s.ca.iter()
                    .map(|c| (c - p).norm())
                    .fold(f64::INFINITY, f64::min);
            assert!(near <= half_diag, "label {near} Å from the nearest Cα");
            on_label.push(m.data()[idx] as f64);
        }
        // The map is normalised (mean 0, std 1): density at Cα must stand out.
        let mean_on = on_label.iter().sum::<f64>() / on_label.len() as f64;
        println!(
            "{deg:?}: {} Cα in box, mean density at labels {mean_on:.2} σ",
            s.ca.len()
        );
        assert!(mean_on > 1.0, "{deg:?}: density at labels {mean_on}");
        // A rotation keeps Cα–Cα distances: consecutive ones stay near 3.8 Å.
        let close =
            s.ca.windows(2)
                .filter(|w| ((w[0] - w[1]).norm() - 3.8).abs() < 0.3)
                .count();
        assert!(
            close * 10 >= (s.ca.len() - 1) * 8,
            "{close} of {}",
            s.ca.len()
        );
    }
}

#[test]
fn label_radius_marks_a_sphere() {
    let Some(data) = mapfold::data::shared_data_for_test("label_radius") else {
        return;
    };
    let chain = train_chain(&data, 4);
    let spec = SampleSpec {
        label_radius: 1.5,
        ..small_spec(Degradation::Clean)
    };
    let s = make_sample(&chain, &spec, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
    let ones = s.labels.iter().filter(|&&l| l == 1).count();
    // A 1.5 Å sphere holds 19 voxels of 1 Å (fewer where spheres overlap or clip).
    assert!(
        ones > 10 * s.ca.len() && ones <= 19 * s.ca.len(),
        "{ones} for {}",
        s.ca.len()
    );
}

#[test]
fn coloured_noise_follows_the_real_map_profile() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let n = coloured_noise([64; 3], 1.0, Vec3::zeros(), &mut rng);
    let spec = fft::radial_spectrum(&n);
    // Amplitude ratio observed/target, normalised over the band, per shell.
    let ratios: Vec<f64> = spec
        .k
        .iter()
        .zip(&spec.amplitude)
        .filter(|(&k, _)| k > 0.03 && k < 0.48)
        .map(|(&k, &a)| a / solvent_noise_amplitude(k))
        .collect();
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    let worst = ratios
        .iter()
        .map(|r| (r / mean - 1.0).abs())
        .fold(0.0, f64::max);
    println!("{} shells, worst deviation {:.3}", ratios.len(), worst);
    assert!(worst < 0.15, "worst shell off by {worst}");
    // And the profile is not white (else the check above proves nothing).
    let (lo, hi) = (SOLVENT_NOISE_PROFILE[2], SOLVENT_NOISE_PROFILE[20]);
    assert!(lo / hi > 2.0, "profile {lo} .. {hi}");
}

#[test]
fn estimated_resolution_tracks_sample_resolution() {
    let Some(data) = mapfold::data::shared_data_for_test("sample_resolution") else {
        return;
    };
    let chain = train_chain(&data, 5);
    println!("R_eff  R_est");
    let mut pairs = Vec::new();
    for (i, r) in [3.0, 5.0, 8.0].into_iter().enumerate() {
        let spec = SampleSpec {
            resolution_range: (r, r),
            blur_range: (0.0, 0.0),
            snr_range: (8.0, 8.0),
            box_size: 40,
            ..SampleSpec::default()
        };
        let s = make_sample(&chain, &spec, &mut ChaCha8Rng::seed_from_u64(i as u64)).unwrap();
        let e = estimate_resolution(&s.input).resolution;
        println!("{:5.2}  {e:5.2}", s.effective_resolution);
        pairs.push((s.effective_resolution, e));
    }
    for (t, e) in &pairs {
        assert!((e / t - 1.0).abs() < 0.35, "estimate {e} for {t}");
    }
    assert!(pairs[0].1 < pairs[1].1 && pairs[1].1 < pairs[2].1);
}

#[test]
fn test_splits_are_refused_for_training() {
    let Some(data) = mapfold::data::shared_data_for_test("test_splits") else {
        return;
    };
    for split in ["test-hard", "test-easy"] {
        assert!(matches!(
            chains_for_split(&data, split, true),
            Err(DatasetError::TestSplitForTraining(_))
        ));
        // Evaluation may list them.
        assert!(!chains_for_split(&data, split, false).unwrap().is_empty());
    }
    assert_eq!(chains_for_split(&data, "train", true).unwrap().len(), 786);
    assert_eq!(
        chains_for_split(&data, "validation", true).unwrap().len(),
        50
    );
    assert!(matches!(
        chains_for_split(&data, "trian", true),
        Err(DatasetError::UnknownSplit(_))
    ));
    let missing = chains_for_split(Path::new("/nonexistent"), "train", true).unwrap_err();
    assert!(missing.to_string().contains("structures.tsv"), "{missing}");
}

/// Generation speed (run with `--ignored --nocapture`).
#[test]
#[ignore]
fn generation_speed() {
    let Some(data) = mapfold::data::shared_data_for_test("speed") else {
        return;
    };
    let chains: Vec<Structure> = (0..8).map(|i| train_chain(&data, i)).collect();
    for b in [48, 64] {
        for deg in [Degradation::Clean, Degradation::Realistic] {
            let spec = SampleSpec {
                box_size: b,
                degradation: deg,
                ..SampleSpec::default()
            };
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let t = Instant::now();
            let n = 16;
            for i in 0..n {
                make_sample(&chains[i % chains.len()], &spec, &mut rng).unwrap();
            }
            let dt = t.elapsed().as_secs_f64();
            println!("{b}³ {deg:?}: {:.2} samples/s", n as f64 / dt);
        }
    }
}

/// Measures `SOLVENT_NOISE_PROFILE` (run with `--ignored --nocapture`, paste
/// the printed table); see the constant's doc for the procedure.
#[test]
#[ignore]
fn measure_solvent_noise_profile() {
    let Some(data) = mapfold::data::shared_data_for_test("noise_profile") else {
        return;
    };
    let maps = [
        ("emd2566_3j6b/2566_3J6B_9.mrc", "emd2566_3j6b/3J6B_9.pdb"),
        ("emd5168_3mfp/emd_5168_monomer.mrc", "emd5168_3mfp/3MFP.pdb"),
        (
            "emd5778_fragment/test_map.ccp4",
            "emd5778_fragment/test_model.pdb",
        ),
    ];
    let nbin = SOLVENT_NOISE_PROFILE.len();
    let mut sum = vec![0.0; nbin];
    for (mf, pf) in maps {
        let m = mrc::read_map(&data.join("maps").join(mf)).unwrap();
        let s = read_structure(&data.join("maps").join(pf)).unwrap();
        let atoms: Vec<Vec3> = s.atoms().map(|a| a.pos).collect();
        let protein = m.mask_near(&atoms, 4.0);
        let mut mask = m.clone();
        for (v, &p) in mask.data_mut().iter_mut().zip(&protein) {
            *v = if p { 0.0 } else { 1.0 };
        }
        let mask = fft::gaussian_blur(&mask, 1.0);
        let solvent: Vec<bool> = protein.iter().map(|p| !p).collect();
        let mean = m.stats_masked(&solvent).unwrap().mean;
        let mut x = m.clone();
        for (v, &w) in x.data_mut().iter_mut().zip(mask.data()) {
            *v = ((*v as f64 - mean) * (w as f64).clamp(0.0, 1.0)) as f32;
        }
        let spec = fft::forward(&x).radial(Some(NOISE_PROFILE_DK));
        let mut prof: Vec<f64> = spec.amplitude.iter().map(|a| a.ln()).collect();
        let last = *prof.last().unwrap();
        prof.resize(nbin, last);
        prof.truncate(nbin);
        let mean: f64 = prof.iter().map(|p| (2.0 * p).exp()).sum::<f64>() / nbin as f64;
        let shift = 0.5 * mean.ln();
        println!(
            "{mf}: {} solvent voxels of {}",
            solvent.iter().filter(|&&b| b).count(),
            m.len()
        );
        for i in 0..nbin {
            sum[i] += prof[i] - shift;
        }
    }
    let geo: Vec<f64> = sum.iter().map(|s| (s / maps.len() as f64).exp()).collect();
    let norm = (geo.iter().map(|g| g * g).sum::<f64>() / nbin as f64).sqrt();
    let out: Vec<String> = geo.iter().map(|g| format!("{:.3}", g / norm)).collect();
    println!("[{}]", out.join(", "));
}
