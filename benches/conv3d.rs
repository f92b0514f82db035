//! The network's hot spot: one 32→32-channel 3×3×3 convolution on a 48³ map
//! (FLOPs = 2·27·Cin·Cout·N), plus a whole C=32, B=10 forward pass on 48³.
//! GFLOP/s = 2·27·32·32·48³ / time; criterion prints the time and the element
//! rate (voxels/s) — multiply by 55 296 FLOP/voxel for the convolution.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mapfold::cnn::conv::{conv3d_slabs, PackedConv};
use mapfold::cnn::infer::forward;
use mapfold::cnn::{CaNetwork, Conv3d, NetworkMeta};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let dims = [48, 48, 48];
    let n = 48 * 48 * 48;
    let ch = 32;
    let conv = Conv3d::kaiming(ch, ch, 3, &mut rng);
    let packed = PackedConv::new(&conv);
    let input: Vec<f32> = (0..ch * n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut out = vec![0f32; ch * n];
    let flops = 2.0 * 27.0 * (ch * ch) as f64 * n as f64;

    let mut g = c.benchmark_group("conv3d");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("32to32_48cubed_slab4", |b| {
        b.iter(|| conv3d_slabs(&packed, dims, &input, &mut out, 4))
    });
    g.finish();
    // A direct figure, since criterion has no FLOP/s unit; also per CPU-second of
    // this process, since other jobs on a shared machine steal wall time.
    let reps = 20;
    let cpu0 = process_cpu_seconds();
    let t = std::time::Instant::now();
    for _ in 0..reps {
        std::hint::black_box(conv3d_slabs(&packed, dims, &input, &mut out, 4));
    }
    let s = t.elapsed().as_secs_f64() / reps as f64;
    let cpu = cpu0.and_then(|c0| process_cpu_seconds().map(|c1| (c1 - c0) / reps as f64));
    eprintln!(
        "conv3d 32->32 on 48^3: {:.1} ms wall, {:.1} GFLOP/s ({} threads)",
        s * 1e3,
        flops / s / 1e9,
        rayon::current_num_threads()
    );
    if let Some(cpu) = cpu {
        eprintln!(
            "  CPU time {:.1} ms/call: {:.1} GFLOP/s per busy core",
            cpu * 1e3,
            flops / cpu / 1e9
        );
    }

    let net = CaNetwork::random(NetworkMeta::paper(1.0), 2);
    let x: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut g = c.benchmark_group("network");
    g.sample_size(10);
    g.bench_function("paper_c32_b10_48cubed_f32", |b| {
        b.iter(|| forward::<f32>(&net, dims, &x, 4))
    });
    g.bench_function("paper_c32_b10_48cubed_f16", |b| {
        b.iter(|| forward::<half::f16>(&net, dims, &x, 4))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

/// utime + stime of this process from /proc (Linux; `None` elsewhere).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
