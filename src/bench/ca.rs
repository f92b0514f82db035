//! Cα-cloud benchmark (the paper's Supplementary Fig. 1: CRscore and r.m.s.d. of
//! Cα models per resolution, 3D CNN against the naive greedy baseline).
//!
//! For each chain and resolution R: simulate its map with eq. 2 on a grid of
//! [`SimOptions::voxel`] Å (1 Å by default, the voxel size the CNN works at, so
//! every method sees the same grid), optionally add noise, ask a picker for L
//! atoms (L = number of Cα in the chain), and score the cloud against the true
//! Cα: CRscore (eq. 1), r.m.s.d. of the CRscore pairs, number of atoms.
//!
//! Noise model: Gaussian white noise, independent per voxel, with standard
//! deviation std(map)/SNR, std over the whole simulated box; the generator is
//! ChaCha8 seeded from (seed, chain id, R), so a result does not depend on the
//! order in which threads run.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::Target;
use crate::ca::CaCloud;
use crate::gpu::Backend;
use crate::map::simulate::simulate_box;
use crate::map::DensityMap;
use crate::structure::Structure;

/// Anything that turns a map and a length into a Cα cloud: the greedy
/// baseline, peak picking behind a CNN.
pub type Picker<'a> = dyn Fn(&DensityMap, usize) -> CaCloud + Sync + 'a;

/// How benchmark maps are made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimOptions {
    /// Voxel size in Å.
    pub voxel: f64,
    /// Padding in Å around the chain.
    pub margin: f64,
    /// Signal-to-noise ratio (std of map / std of noise); `None` for a clean map.
    pub snr: Option<f64>,
    pub seed: u64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            voxel: 1.0,
            margin: 6.0,
            snr: None,
            seed: 0,
        }
    }
}

/// One (chain, resolution, method) row of the results.
#[derive(Debug, Clone, PartialEq)]
pub struct CaResult {
    pub target: String,
    pub split: String,
    pub resolution: f64,
    pub method: String,
    pub n_true: usize,
    pub n_picked: usize,
    pub crscore: f64,
    pub rmsd_paired: f64,
    /// Time the picker took (not the simulation).
    pub seconds: f64,
}

/// The benchmark map of `structure` at `resolution` (see the module doc);
/// `key` (the chain id) enters the noise seed.
pub fn benchmark_map(
    structure: &Structure,
    resolution: f64,
    opts: &SimOptions,
    backend: Backend,
    key: &str,
) -> anyhow::Result<DensityMap> {
    let mut map = simulate_box(
        structure.atoms(),
        resolution,
        opts.voxel,
        opts.margin,
        backend,
    )?;
    if let Some(snr) = opts.snr {
        anyhow::ensure!(
            snr.is_finite() && snr > 0.0,
            "SNR must be a positive number, got {snr}"
        );
        let sigma = map.stats().std / snr;
        let mut rng = ChaCha8Rng::seed_from_u64(noise_seed(opts.seed, key, resolution));
        for v in map.data_mut() {
            *v += (sigma * standard_normal(&mut rng)) as f32;
        }
    }
    Ok(map)
}

/// FNV-1a over the seed, the key and the resolution's bits.
fn noise_seed(seed: u64, key: &str, resolution: f64) -> u64 {
    let mut h = 0xcbf29ce484222325u64;
    for b in seed
        .to_le_bytes()
        .iter()
        .chain(key.as_bytes())
        .chain(&resolution.to_bits().to_le_bytes())
    {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Box–Muller (rand 0.9 without rand_distr has no normal distribution).
fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Scores a cloud against the true Cα positions.
pub fn score_cloud(cloud: &CaCloud, truth: &[crate::Vec3]) -> (f64, f64) {
    let s = crate::geom::crscore::crscore_pairs(&cloud.points, truth);
    (s.score, s.rmsd)
}

/// Every method at every resolution on one chain.
pub fn evaluate_chain(
    target: &Target,
    structure: &Structure,
    resolutions: &[f64],
    methods: &[(&str, &Picker<'_>)],
    opts: &SimOptions,
    backend: Backend,
) -> anyhow::Result<Vec<CaResult>> {
    let truth = structure.ca_coords();
    anyhow::ensure!(!truth.is_empty(), "{}: no CA atoms", target.id);
    let mut out = Vec::new();
    for &r in resolutions {
        let map = benchmark_map(structure, r, opts, backend, &target.id)
            .with_context(|| format!("{} at {r} Å", target.id))?;
        for (name, pick) in methods {
            let start = Instant::now();
            let cloud = pick(&map, truth.len());
            let seconds = start.elapsed().as_secs_f64();
            let (crscore, rmsd) = score_cloud(&cloud, &truth);
            out.push(CaResult {
                target: target.id.clone(),
                split: target.split.clone(),
                resolution: r,
                method: name.to_string(),
                n_true: truth.len(),
                n_picked: cloud.len(),
                crscore,
                rmsd_paired: rmsd,
                seconds,
            });
        }
    }
    Ok(out)
}

/// [`evaluate_chain`] over targets in parallel (rayon), reading each chain from
/// `data_dir/structures/<id>.pdb`. Returns the rows (target order) and the
/// chains that failed with why; `done` is called after each chain.
pub fn run_benchmark(
    data_dir: &Path,
    targets: &[Target],
    resolutions: &[f64],
    methods: &[(&str, &Picker<'_>)],
    opts: &SimOptions,
    backend: Backend,
    done: &(dyn Fn() + Sync),
) -> (Vec<CaResult>, Vec<(String, String)>) {
    let per_target: Vec<Result<Vec<CaResult>, (String, String)>> = targets
        .par_iter()
        .map(|t| {
            // A few data-set files hold a whole complex: the target is the
            // chain the file is named after.
            let r = crate::io::read_structure(&t.path(data_dir))
                .map_err(anyhow::Error::from)
                .and_then(|s| {
                    let chain = crate::threading::library::pick_chain(&s, &t.id)
                        .ok_or_else(|| anyhow::anyhow!("{}: no protein chain", t.id))?;
                    let one = Structure {
                        chains: vec![chain.clone()],
                        ..Default::default()
                    };
                    evaluate_chain(t, &one, resolutions, methods, opts, backend)
                });
            done();
            r.map_err(|e| (t.id.clone(), format!("{e:#}")))
        })
        .collect();
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for r in per_target {
        match r {
            Ok(v) => rows.extend(v),
            Err(e) => failed.push(e),
        }
    }
    (rows, failed)
}

/// The real maps of `../shared/data/maps` that have a placed model: (name,
/// map, model, resolution in Å from the literature — the headers do not store it).
pub const REAL_MAPS: &[(&str, &str, &str, f64)] = &[
    (
        "EMD-2566/3J6B_9",
        "emd2566_3j6b/2566_3J6B_9.mrc",
        "emd2566_3j6b/3J6B_9.pdb",
        3.2,
    ),
    (
        "EMD-5168/3MFP_monomer",
        "emd5168_3mfp/emd_5168_monomer.mrc",
        "emd5168_3mfp/3MFP.pdb",
        6.6,
    ),
    (
        "EMD-5778_fragment",
        "emd5778_fragment/test_map.ccp4",
        "emd5778_fragment/test_model.pdb",
        3.4,
    ),
];

/// Every method on the real maps with placed models: L and the truth are the
/// model's Cα atoms inside the map's box; the maps are used as they are (each
/// picker resamples if it needs to).
pub fn run_real(
    data_dir: &Path,
    methods: &[(&str, &Picker<'_>)],
) -> (Vec<CaResult>, Vec<(String, String)>) {
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for &(name, map_rel, model_rel, resolution) in REAL_MAPS {
        let maps = data_dir.join("maps");
        let loaded = crate::io::mrc::read_map(&maps.join(map_rel))
            .map_err(anyhow::Error::from)
            .and_then(|m| Ok((m, crate::io::read_structure(&maps.join(model_rel))?)));
        let (map, model) = match loaded {
            Ok(x) => x,
            Err(e) => {
                failed.push((name.to_string(), format!("{e:#}")));
                continue;
            }
        };
        let (lo, hi) = map.bounds();
        let truth: Vec<crate::Vec3> = model
            .ca_coords()
            .into_iter()
            .filter(|p| (0..3).all(|a| p[a] >= lo[a] && p[a] <= hi[a]))
            .collect();
        for (method, pick) in methods {
            let start = Instant::now();
            let cloud = pick(&map, truth.len());
            let seconds = start.elapsed().as_secs_f64();
            let (crscore, rmsd) = score_cloud(&cloud, &truth);
            rows.push(CaResult {
                target: name.to_string(),
                split: "real".into(),
                resolution,
                method: method.to_string(),
                n_true: truth.len(),
                n_picked: cloud.len(),
                crscore,
                rmsd_paired: rmsd,
                seconds,
            });
        }
    }
    (rows, failed)
}

/// Tab-separated rows with a header line.
pub fn results_tsv(rows: &[CaResult]) -> String {
    let mut s = String::from(
        "target\tsplit\tresolution\tmethod\tn_true\tn_picked\tcrscore\trmsd_paired\tseconds\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{}\t{}\t{}\t{}\t{}\t{}\t{:.4}\t{:.3}\t{:.4}",
            r.target,
            r.split,
            r.resolution,
            r.method,
            r.n_true,
            r.n_picked,
            r.crscore,
            r.rmsd_paired,
            r.seconds
        );
    }
    s
}

/// Mean values per (method, resolution) in first-seen order.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub method: String,
    pub resolution: f64,
    pub n: usize,
    pub crscore: f64,
    pub rmsd_paired: f64,
    pub picked_fraction: f64,
    pub seconds: f64,
}

pub fn summarise(rows: &[CaResult]) -> Vec<SummaryRow> {
    let mut out: Vec<SummaryRow> = Vec::new();
    for r in rows {
        let i = match out
            .iter()
            .position(|s| s.method == r.method && s.resolution == r.resolution)
        {
            Some(i) => i,
            None => {
                out.push(SummaryRow {
                    method: r.method.clone(),
                    resolution: r.resolution,
                    n: 0,
                    crscore: 0.0,
                    rmsd_paired: 0.0,
                    picked_fraction: 0.0,
                    seconds: 0.0,
                });
                out.len() - 1
            }
        };
        let s = &mut out[i];
        s.n += 1;
        s.crscore += r.crscore;
        s.rmsd_paired += r.rmsd_paired;
        s.picked_fraction += r.n_picked as f64 / r.n_true as f64;
        s.seconds += r.seconds;
    }
    for s in &mut out {
        let n = s.n as f64;
        s.crscore /= n;
        s.rmsd_paired /= n;
        s.picked_fraction /= n;
        s.seconds /= n;
    }
    out.sort_by(|a, b| {
        a.method
            .cmp(&b.method)
            .then(a.resolution.total_cmp(&b.resolution))
    });
    out
}

/// The summary as a markdown table.
pub fn summary_markdown(rows: &[CaResult]) -> String {
    let mut s = String::from(
        "| method | resolution (Å) | chains | mean CRscore | mean RMSD paired (Å) | picked / L | mean s |\n| --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in summarise(rows) {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.3} | {:.2} | {:.2} | {:.3} |",
            r.method, r.resolution, r.n, r.crscore, r.rmsd_paired, r.picked_fraction, r.seconds
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_has_the_stated_snr_and_is_reproducible() {
        let s = crate::io::read_structure(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/3j6b_9.pdb"
        )))
        .unwrap();
        let clean = benchmark_map(&s, 4.0, &SimOptions::default(), Backend::Cpu, "x").unwrap();
        let opts = SimOptions {
            snr: Some(2.0),
            seed: 7,
            ..Default::default()
        };
        let a = benchmark_map(&s, 4.0, &opts, Backend::Cpu, "x").unwrap();
        let b = benchmark_map(&s, 4.0, &opts, Backend::Cpu, "x").unwrap();
        assert_eq!(a.data(), b.data());
        let noise: Vec<f64> = a
            .data()
            .iter()
            .zip(clean.data())
            .map(|(x, y)| (x - y) as f64)
            .collect();
        let n = noise.len() as f64;
        let mean = noise.iter().sum::<f64>() / n;
        let std = (noise.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        let want = clean.stats().std / 2.0;
        assert!(mean.abs() < 0.02 * want, "noise mean {mean}");
        assert!(
            (std / want - 1.0).abs() < 0.02,
            "noise std {std} want {want}"
        );
        let c = benchmark_map(&s, 4.0, &opts, Backend::Cpu, "y").unwrap();
        assert_ne!(a.data(), c.data());
    }
}
