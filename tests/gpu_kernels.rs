//! GPU kernels against their CPU twins on real inputs (density simulation,
//! eq. 2; correlation sums, eq. 6), and CPU-path checks on real data that need
//! no GPU. GPU tests print "SKIPPED" without an adapter unless
//! MAPFOLD_REQUIRE_GPU=1 (then they fail); software adapters (lavapipe) count.

use std::path::PathBuf;

use mapfold::gpu::{gpu_for_test, Backend, DeviceChoice};
use mapfold::map::correlate::{correlate, fit_scores, mask_radius, VoxelMask};
use mapfold::map::simulate::{simulate_box, simulate_like};
use mapfold::map::DensityMap;
use mapfold::structure::Structure;
use mapfold::Vec3;

fn emd2566(test: &str) -> Option<(DensityMap, Structure)> {
    let dir: PathBuf = mapfold::data::shared_data_for_test(test)?.join("maps/emd2566_3j6b");
    let map = mapfold::io::mrc::read_map(&dir.join("2566_3J6B_9.mrc")).unwrap();
    let model = mapfold::io::read_structure(&dir.join("3J6B_9.pdb")).unwrap();
    Some((map, model))
}

fn fragment(test: &str) -> Option<Structure> {
    let dir = mapfold::data::shared_data_for_test(test)?.join("maps/emd5778_fragment");
    Some(mapfold::io::read_structure(&dir.join("test_model.pdb")).unwrap())
}

/// Largest |a − b| relative to the largest |b|.
fn max_rel_diff(a: &DensityMap, b: &DensityMap) -> f64 {
    let scale = b.data().iter().fold(0f32, |m, v| m.max(v.abs())) as f64;
    let diff = a
        .data()
        .iter()
        .zip(b.data())
        .fold(0f64, |m, (x, y)| m.max((*x as f64 - *y as f64).abs()));
    diff / scale
}

#[test]
fn density_gpu_matches_cpu_on_emd2566_grid() {
    let Some(ctx) = gpu_for_test("density_gpu_matches_cpu_on_emd2566_grid") else {
        return;
    };
    let Some((map, model)) = emd2566("density_gpu_matches_cpu_on_emd2566_grid") else {
        return;
    };
    for resolution in [3.2, 6.0] {
        let cpu = simulate_like(model.atoms(), resolution, &map, Backend::Cpu).unwrap();
        let gpu = simulate_like(model.atoms(), resolution, &map, Backend::Gpu(ctx)).unwrap();
        let d = max_rel_diff(&gpu, &cpu);
        eprintln!(
            "R {resolution}: max |gpu - cpu| / max = {d:.2e} over {} voxels",
            cpu.len()
        );
        assert!(d < 1e-4, "R {resolution}: {d}");
        assert!(cpu.data().iter().filter(|v| **v > 0.0).count() > cpu.len() / 10);
    }
}

#[test]
fn density_gpu_matches_cpu_on_new_box() {
    let Some(ctx) = gpu_for_test("density_gpu_matches_cpu_on_new_box") else {
        return;
    };
    let Some(model) = fragment("density_gpu_matches_cpu_on_new_box") else {
        return;
    };
    // A voxel size whose grid edges fall inside workgroups.
    let cpu = simulate_box(model.atoms(), 4.0, 0.7, 5.0, Backend::Cpu).unwrap();
    let gpu = simulate_box(model.atoms(), 4.0, 0.7, 5.0, Backend::Gpu(ctx)).unwrap();
    assert_eq!(cpu.dims(), gpu.dims());
    let d = max_rel_diff(&gpu, &cpu);
    eprintln!("box {:?}: max rel diff {d:.2e}", cpu.dims());
    assert!(d < 1e-4, "{d}");
}

#[test]
fn correlation_gpu_matches_cpu_on_emd2566() {
    let Some(ctx) = gpu_for_test("correlation_gpu_matches_cpu_on_emd2566") else {
        return;
    };
    let Some((map, model)) = emd2566("correlation_gpu_matches_cpu_on_emd2566") else {
        return;
    };
    let sim = simulate_like(model.atoms(), 3.2, &map, Backend::Cpu).unwrap();
    let points: Vec<Vec3> = model.atoms().map(|a| a.pos).collect();
    let mask = VoxelMask::around_points(&map, &points, mask_radius(3.2));
    let c = correlate(&map, &sim, Some(&mask), Backend::Cpu).unwrap();
    let g = correlate(&map, &sim, Some(&mask), Backend::Gpu(ctx)).unwrap();
    eprintln!("cpu {c:?}\ngpu {g:?}");
    assert!((c.pcc - g.pcc).abs() < 1e-4);
    assert!((c.pcc_masked - g.pcc_masked).abs() < 1e-4);
    assert!((c.cross - g.cross).abs() < 1e-4 * c.cross.abs());
    assert_eq!(c.n_masked, g.n_masked);
    // The map with itself on the GPU.
    let s = correlate(&map, &map, None, Backend::Gpu(ctx)).unwrap();
    assert!((s.pcc - 1.0).abs() < 1e-5 && (s.pcc_masked - 1.0).abs() < 1e-5);
}

#[test]
fn fit_scores_gpu_matches_cpu() {
    let Some(ctx) = gpu_for_test("fit_scores_gpu_matches_cpu") else {
        return;
    };
    let Some((map, model)) = emd2566("fit_scores_gpu_matches_cpu") else {
        return;
    };
    let c = fit_scores(&map, &model, 3.2, Backend::Cpu).unwrap();
    let g = fit_scores(&map, &model, 3.2, Backend::Gpu(ctx)).unwrap();
    eprintln!("cpu {c:?}\ngpu {g:?}");
    assert!((c.pcc - g.pcc).abs() < 1e-4);
    assert!((c.pcc_masked - g.pcc_masked).abs() < 1e-4);
    assert!((c.cc - g.cc).abs() < 1e-4 * c.cc.abs());
}

/// `auto` never picks a software adapter; `gpu` takes whatever adapter exists.
#[test]
fn auto_skips_software_adapters() {
    let Some(ctx) = gpu_for_test("auto_skips_software_adapters") else {
        return;
    };
    let auto = Backend::select(DeviceChoice::Auto).unwrap();
    assert_eq!(matches!(auto, Backend::Cpu), ctx.is_software());
    assert!(matches!(
        Backend::select(DeviceChoice::Gpu).unwrap(),
        Backend::Gpu(_)
    ));
}

/// The deposited model fits the EMD-2566 map far better than the same model
/// shifted by 3 Å, by every score (CPU path).
#[test]
fn deposited_model_fits_better_than_shifted() {
    let Some((map, model)) = emd2566("deposited_model_fits_better_than_shifted") else {
        return;
    };
    let good = fit_scores(&map, &model, 3.2, Backend::Cpu).unwrap();
    let mut shifted = model.clone();
    for a in shifted.atoms_mut() {
        a.pos += Vec3::new(3.0, 0.0, 0.0);
    }
    let bad = fit_scores(&map, &shifted, 3.2, Backend::Cpu).unwrap();
    eprintln!("deposited {good:?}\nshifted   {bad:?}");
    assert!(good.pcc > 0.5, "{good:?}");
    assert!(good.pcc > bad.pcc + 0.2);
    assert!(good.pcc_masked > bad.pcc_masked + 0.2);
    assert!(good.cc < bad.cc);
}

/// PCC of the real map with itself is 1, with its negative −1 (CPU path).
#[test]
fn real_map_self_correlation() {
    let Some((map, _)) = emd2566("real_map_self_correlation") else {
        return;
    };
    let c = correlate(&map, &map, None, Backend::Cpu).unwrap();
    assert!((c.pcc - 1.0).abs() < 1e-12);
    let neg = DensityMap::new(
        map.dims(),
        map.voxel_size(),
        map.origin(),
        map.data().iter().map(|v| -v).collect(),
    )
    .unwrap();
    let c = correlate(&map, &neg, None, Backend::Cpu).unwrap();
    assert!((c.pcc + 1.0).abs() < 1e-12);
}
