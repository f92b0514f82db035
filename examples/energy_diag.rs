//! Energies (eq. 5 terms plus the map term) and TM-scores to the native of a
//! finished run's templates, decoys and models: does the force field rank the
//! native-like structures first, or does the search fail to reach them?
//!
//! Usage: `cargo run --release --example energy_diag -- OUT NATIVE`
//! where OUT is a `mapfold build` output directory run with the bench layout
//! (`../map.mrc`, `../seq.fasta`) and NATIVE the reference chain, paired by
//! residue index. The terms use the default weights, whatever the run used.
//! The native's bond term also counts Cα–Cα pairs across the gaps of the
//! deposited chain, so compare the other terms.
use anyhow::Context;
use mapfold::assembly::energy::Weights;
use mapfold::geom::tmscore::tm_score_paired;
use mapfold::Vec3;
use std::path::Path;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(args.len() == 2, "usage: energy_diag OUT NATIVE");
    let out = Path::new(&args[0]);
    let native = mapfold::io::read_structure(Path::new(&args[1]))?;
    let nat = native.chains.first().context("no chain")?.ca_coords();
    let l = nat.len();
    let (seq, topology) =
        mapfold::pipeline::query_of(&mapfold::io::fasta::read_fasta(&out.join("../seq.fasta"))?);
    anyhow::ensure!(!seq.is_empty(), "empty FASTA");
    let map = mapfold::io::mrc::read_map(&out.join("../map.mrc"))?;
    let ca: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(".stages/ca.json"))?)?;
    let res = ca["resolution"].as_f64().context("resolution")?;
    let consensus = ca["consensus"].as_bool().unwrap_or(false);
    let cloud: Vec<Vec3> =
        mapfold::io::read_structure(&out.join("ca_cloud.pdb"))?.chains[0].ca_coords();
    let templates = mapfold::pipeline::files::read_templates(&out.join("templates"), l)?;
    let pred = mapfold::threading::ssp::SsPredictor::bundled().map_err(anyhow::Error::msg)?;
    let w = Weights::default();
    let ff = mapfold::pipeline::force_field(&seq, &topology, &pred, &templates, w);
    let em = mapfold::pipeline::em_field(
        &map,
        res,
        consensus.then_some(&cloud[..]),
        w,
        mapfold::gpu::Backend::Cpu,
    )?;
    let tm = |c: &[Vec3]| tm_score_paired(c, &nat, l).tm_score;
    let show = |name: &str, c: &[Vec3]| {
        let mut t = ff.terms(c);
        t.em = mapfold::assembly::remc::map_energy(&ff, &em, c, &ff.centroids(c));
        println!(
            "{name:>12} TM {:.3} E {:9.1} | bond {:7.1} ang {:6.1} tor {:6.1} pair {:6.1} cont {:6.1} bur {:6.1} rg {:6.1} clash {:6.1} temp {:7.1} em {:7.1}",
            tm(c), t.total(), t.bond, t.angle, t.torsion, t.pair, t.contact, t.burial, t.rg, t.clash, t.temp, t.em
        );
    };
    show("native", &nat);
    for (k, t) in templates.iter().enumerate().take(5) {
        if t.ca.iter().all(|p| p.is_some()) {
            let c: Vec<Vec3> = t.ca.iter().map(|p| p.unwrap()).collect();
            show(&format!("template {}", k + 1), &c);
        }
    }
    let decoys = mapfold::pipeline::files::read_decoys(&out.join("decoys.bin"))?;
    // Each decoy scored once, not once per comparison.
    let tms: Vec<f64> = decoys.iter().map(|d| tm(&d.1)).collect();
    let best = (0..decoys.len())
        .max_by(|&a, &b| tms[a].total_cmp(&tms[b]))
        .context("no decoys")?;
    show("best decoy", &decoys[best].1);
    let low = decoys
        .iter()
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .context("no decoys")?;
    show("lowest E", &low.1);
    for k in 1..=5 {
        let p = out.join(format!("model_{k}.pdb"));
        if p.exists() {
            let m = mapfold::io::read_structure(&p)?;
            show(&format!("model {k}"), &m.chains[0].ca_coords());
        }
    }
    Ok(())
}
