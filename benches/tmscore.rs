//! TM-score pairs per second (`cargo bench --bench tmscore`): the full program
//! search (both passes) on real decoy/native pairs from ../shared/data, or on a
//! synthetic perturbed chain when the data are absent. Also CRscore of a
//! shuffled cloud against its chain.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mapfold::geom::crscore::crscore;
use mapfold::geom::tmscore::{tm_score_chains, tm_score_paired};
use mapfold::io::read_structure;
use mapfold::structure::Chain;
use mapfold::Vec3;
use std::hint::black_box;

/// (model, native) first chains of every row of tmscore_decoys.tsv.
fn decoy_pairs() -> Option<Vec<(Chain, Chain)>> {
    let data = mapfold::data::shared_data_dir()?;
    let refdir = data.join("reference");
    let text = std::fs::read_to_string(refdir.join("tmscore_decoys.tsv")).ok()?;
    let mut out = Vec::new();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let model = read_structure(&refdir.join("decoys").join(f[0])).ok()?;
        let native = read_structure(&data.join("structures").join(format!("{}.pdb", f[1]))).ok()?;
        out.push((model.chains[0].clone(), native.chains[0].clone()));
    }
    Some(out)
}

/// A 200-residue helix-like chain and a copy with a deterministic 2 Å wobble.
fn synthetic() -> (Vec<Vec3>, Vec<Vec3>) {
    let y: Vec<Vec3> = (0..200)
        .map(|i| {
            let t = i as f64 * 100f64.to_radians();
            Vec3::new(
                2.3 * t.cos() + 8.0 * (i as f64 / 30.0).sin(),
                2.3 * t.sin(),
                1.5 * i as f64 / 3.0,
            )
        })
        .collect();
    let x = y
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let k = i as f64;
            p + Vec3::new((k * 1.3).sin(), (k * 2.1).cos(), (k * 0.7).sin()) * 2.0
        })
        .collect();
    (x, y)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("tmscore");
    match decoy_pairs() {
        Some(pairs) => {
            let mean_len = pairs.iter().map(|p| p.1.ca_coords().len()).sum::<usize>() / pairs.len();
            eprintln!("{} decoy/native pairs, mean length {mean_len}", pairs.len());
            g.throughput(Throughput::Elements(pairs.len() as u64));
            // One iteration scores all 50 pairs (about a second): few samples suffice.
            g.sample_size(10);
            g.bench_function("decoys_50_pairs", |b| {
                b.iter(|| {
                    for (m, n) in &pairs {
                        black_box(tm_score_chains(m, n));
                    }
                })
            });
            let cloud: Vec<Vec3> = {
                let mut v = pairs[0].1.ca_coords();
                v.reverse();
                v
            };
            let reference = pairs[0].1.ca_coords();
            g.throughput(Throughput::Elements(1));
            g.sample_size(100);
            g.bench_function(format!("crscore_{}", reference.len()), |b| {
                b.iter(|| black_box(crscore(&cloud, &reference)))
            });
        }
        None => {
            eprintln!("../shared/data not found (set MAPFOLD_DATA): benchmarking a synthetic 200-residue chain");
            let (x, y) = synthetic();
            g.throughput(Throughput::Elements(1));
            g.bench_function("synthetic_200", |b| {
                b.iter(|| black_box(tm_score_paired(&x, &y, y.len())))
            });
            g.bench_function("crscore_synthetic_200", |b| {
                b.iter(|| black_box(crscore(&x, &y)))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
