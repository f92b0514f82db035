//! The spread of the two networks' clouds against the cloud's own error and
//! against what snapping a model onto the cloud gains: background to
//! `template::snap::SnapOptions::max_spread` (itself set from whole runs; see
//! the `template::snap` module doc).
//!
//! For the first N validation chains (default 10), one harness-style map per
//! resolution bin (2–5 Å and 5–15 Å: noise at SNR 4–10, voxel R/3, off-centre
//! box; `bench::harness::maps`), the bundled networks' cloud, and the native
//! Cα moved by up to ±2.5 Å per axis (seeded), snapped with `snap_chain`.
//!
//! `cargo run --release --example snap_gate [N]` (needs `../shared/data` or
//! `$MAPFOLD_DATA`).

use mapfold::bench::harness::maps::{simulate, MapSettings, ResolutionBin};
use mapfold::bench::{read_targets, TargetChain};
use mapfold::ca::detect::CaDetector;
use mapfold::geom::crscore::crscore_pairs;
use mapfold::geom::tmscore::tm_score_paired;
use mapfold::gpu::Backend;
use mapfold::template::snap::{snap_chain, SnapOptions};
use mapfold::Vec3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() -> anyhow::Result<()> {
    let n: usize = match std::env::args().nth(1) {
        Some(s) => s.parse()?,
        None => 10,
    };
    let dir = mapfold::data::shared_data_dir().ok_or_else(|| {
        anyhow::anyhow!(
            "../shared/data not found (set MAPFOLD_DATA to its path); this example needs it"
        )
    })?;
    let (a, b) = mapfold::cnn::bundled::networks().map_err(anyhow::Error::msg)?;
    let det = CaDetector::new(a, b)?;
    println!("| chain | bin | R (Å) | SNR | spread (Å) | cloud to native, median (Å) | native Cα with an atom within 1 Å | TM before | TM after snapping |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for t in read_targets(&dir, "validation")?.iter().take(n) {
        let tc = TargetChain::load(&dir, t)?;
        let native = &tc.native;
        for bin in ["2-5", "5-15"] {
            let bin = ResolutionBin::parse(bin).map_err(anyhow::Error::msg)?;
            let bm = simulate(
                &tc.structure(),
                &t.id,
                bin,
                0,
                &MapSettings::default(),
                Backend::Cpu,
            )?;
            let found = det.detect(&bm.map, native.len(), Backend::Cpu)?;
            let to_native = crscore_pairs(&found.cloud.points, native)
                .median_distance(&found.cloud.points, native);
            let recall = native
                .iter()
                .filter(|q| found.cloud.points.iter().any(|p| (p - *q).norm() < 1.0))
                .count() as f64
                / native.len() as f64;
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            let mut jitter = || (rng.random::<f64>() - 0.5) * 5.0;
            let model: Vec<Vec3> = native
                .iter()
                .map(|p| p + Vec3::new(jitter(), jitter(), jitter()))
                .collect();
            let (moved, _) = snap_chain(&model, &found.cloud.points, &SnapOptions::default());
            let tm = |m: &[Vec3]| tm_score_paired(m, native, native.len()).tm_score;
            println!(
                "| {} | {} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {:.3} | {:.3} |",
                t.id,
                bin.label(),
                bm.resolution,
                bm.snr,
                found.spread.unwrap_or(f64::NAN),
                to_native,
                recall,
                tm(&model),
                tm(&moved)
            );
        }
    }
    Ok(())
}
