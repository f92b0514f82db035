//! Where a finished run loses TM-score on the way from its decoys to model 1:
//! the best decoy, SPICKER's clusters (centroid and the member closest to it)
//! and the final model, each scored against the native chain by residue
//! index, and the lowest-energy decoy.
//!
//! Usage: `cargo run --release --example decoy_diag -- OUT NATIVE [OUT NATIVE …]`
//! where OUT is a `mapfold build` output directory (with `decoys.bin` and
//! `model_1.pdb`) and NATIVE the reference chain, whose Cα are paired with
//! the model's in order. The clustering is redone with `build`'s settings
//! (five clusters).
use anyhow::Context;
use mapfold::cluster::spicker::{spicker, SpickerParams};
use mapfold::geom::tmscore::tm_score_paired;
use mapfold::Vec3;
use std::path::Path;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(
        !args.is_empty() && args.len().is_multiple_of(2),
        "usage: decoy_diag OUT NATIVE [OUT NATIVE …]"
    );
    let mut sums = [0.0f64; 6];
    let mut n = 0usize;
    for pair in args.chunks(2) {
        let out = Path::new(&pair[0]);
        let native = mapfold::io::read_structure(Path::new(&pair[1]))?;
        let nat = native
            .chains
            .first()
            .context("native has no chain")?
            .ca_coords();
        let l = nat.len();
        let decoys = mapfold::pipeline::files::read_decoys(&out.join("decoys.bin"))?;
        let lowest = decoys
            .iter()
            .enumerate()
            .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
            .map_or(0, |(k, _)| k);
        let cas: Vec<Vec<Vec3>> = decoys.into_iter().map(|d| d.1).collect();
        anyhow::ensure!(
            cas.first().is_some_and(|c| c.len() == l),
            "{}: decoys and native differ in length",
            out.display()
        );
        let tm = |c: &[Vec3]| tm_score_paired(c, &nat, l).tm_score;
        let all: Vec<f64> = cas.iter().map(|c| tm(c)).collect();
        let params = SpickerParams {
            max_clusters: 5,
            ..SpickerParams::default()
        };
        let cl = spicker(&cas, &params)?;
        let model = mapfold::io::read_structure(&out.join("model_1.pdb"))?;
        let m1 = tm(&model.chains[0].ca_coords());
        let row = [
            all.iter().cloned().fold(0.0, f64::max),
            tm(&cl.clusters[0].centroid),
            cl.clusters
                .iter()
                .map(|c| tm(&c.centroid))
                .fold(0.0, f64::max),
            cl.clusters
                .iter()
                .map(|c| all[c.closest])
                .fold(0.0, f64::max),
            m1,
            all[lowest],
        ];
        println!(
            "{}: best decoy {:.3}; cluster 1 centroid {:.3}; best centroid {:.3}; best closest member {:.3}; model 1 {:.3}; lowest-energy decoy {:.3}",
            out.display(),
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5]
        );
        for (s, v) in sums.iter_mut().zip(row) {
            *s += v;
        }
        n += 1;
    }
    let m = |k: usize| sums[k] / n as f64;
    println!(
        "mean over {n} runs: best decoy {:.3}; cluster 1 centroid {:.3}; best centroid {:.3}; best closest member {:.3}; model 1 {:.3}; lowest-energy decoy {:.3}",
        m(0),
        m(1),
        m(2),
        m(3),
        m(4),
        m(5)
    );
    Ok(())
}
