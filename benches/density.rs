//! Density simulation (paper eq. 2) throughput, CPU and GPU paths.
//!
//! Unit: Gaussian evaluations, i.e. (atom, voxel) pairs closer than the cutoff
//! (4σ) — the work eq. 2 needs; criterion reports them as elements per second.
//! Input: the deposited 3J6B chain 9 model (2,865 atoms) on a 1 Å box with a
//! 5 Å margin at R = 4 Å, and on a 0.5 Å box at R = 3 Å. The GPU path runs on
//! whatever adapter exists (software ones too); without one it is skipped.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mapfold::gpu::Backend;
use mapfold::map::simulate::{box_around, pairs_within_cutoff, point_masses, simulate_points_like};

fn bench(c: &mut Criterion) {
    // The committed fixture, so the bench runs on a fresh clone.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/3j6b_9.pdb");
    let model = mapfold::io::read_structure(&path).unwrap();
    let points = point_masses(model.atoms());
    let mut backends = vec![("cpu", Backend::Cpu)];
    match mapfold::gpu::context() {
        Ok(ctx) => backends.push(("gpu", Backend::Gpu(ctx))),
        Err(e) => eprintln!("density bench: GPU part skipped: {e}"),
    }
    let mut group = c.benchmark_group("density");
    group.sample_size(10);
    for (resolution, voxel) in [(4.0, 1.0), (3.0, 0.5)] {
        let grid = box_around(&points, voxel, 5.0).unwrap();
        let pairs = pairs_within_cutoff(&points, resolution, &grid);
        eprintln!(
            "R {resolution} Å, voxel {voxel} Å: {:?} grid, {} atoms, {pairs} atom-voxel pairs within cutoff",
            grid.dims(),
            points.len()
        );
        group.throughput(Throughput::Elements(pairs));
        for (name, backend) in &backends {
            group.bench_function(format!("{name}/R{resolution}_voxel{voxel}"), |b| {
                b.iter(|| simulate_points_like(&points, resolution, &grid, *backend).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
