//! Where a finished run loses TM-score on the way from its decoys to model 1:
//! the best decoy, SPICKER's clusters (centroid and the member closest to it)
//! and the final model, each scored against the native chain by residue
//! index; also the lowest-energy decoy, and the centroid and lowest-energy
//! member of the cluster model 1 came from.
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
    let mut names: Vec<&str> = Vec::new();
    let mut sums: Vec<f64> = Vec::new();
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
        anyhow::ensure!(
            decoys.first().is_some_and(|d| d.1.len() == l),
            "{}: decoys and native differ in length",
            out.display()
        );
        let lowest = decoys
            .iter()
            .enumerate()
            .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
            .map_or(0, |(k, _)| k);
        let tm = |c: &[Vec3]| tm_score_paired(c, &nat, l).tm_score;
        let all: Vec<f64> = decoys.iter().map(|d| tm(&d.1)).collect();
        let cas: Vec<Vec<Vec3>> = decoys.iter().map(|d| d.1.clone()).collect();
        let params = SpickerParams {
            max_clusters: 5,
            ..SpickerParams::default()
        };
        let cl = spicker(&cas, &params)?;
        let model = mapfold::io::read_structure(&out.join("model_1.pdb"))?;
        // The cluster model 1 was refined from (`report.json`, 1-based).
        let report: serde_json::Value =
            serde_json::from_str(&mapfold::io::read_text(&out.join("report.json"))?)?;
        let k1 = report["models"][0]["cluster"]
            .as_u64()
            .and_then(|k| cl.clusters.get((k as usize).checked_sub(1)?))
            .context("report.json: model 1 has no cluster of the redone clustering")?;
        let row = [
            ("best decoy", all.iter().cloned().fold(0.0, f64::max)),
            ("cluster 1 centroid", tm(&cl.clusters[0].centroid)),
            (
                "best centroid",
                cl.clusters
                    .iter()
                    .map(|c| tm(&c.centroid))
                    .fold(0.0, f64::max),
            ),
            (
                "best closest member",
                cl.clusters
                    .iter()
                    .map(|c| all[c.closest])
                    .fold(0.0, f64::max),
            ),
            ("model 1's cluster: centroid", tm(&k1.centroid)),
            (
                "its lowest-energy member",
                all[mapfold::pipeline::refinement_start(k1, &decoys)],
            ),
            ("model 1", tm(&model.chains[0].ca_coords())),
            ("lowest-energy decoy", all[lowest]),
        ];
        let text: Vec<String> = row.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
        println!("{}: {}", out.display(), text.join("; "));
        if sums.is_empty() {
            names = row.iter().map(|r| r.0).collect();
            sums = vec![0.0; row.len()];
        }
        for (s, (_, v)) in sums.iter_mut().zip(row) {
            *s += v;
        }
        n += 1;
    }
    let text: Vec<String> = names
        .iter()
        .zip(&sums)
        .map(|(k, s)| format!("{k} {:.3}", s / n as f64))
        .collect();
    println!("mean over {n} runs: {}", text.join("; "));
    Ok(())
}
