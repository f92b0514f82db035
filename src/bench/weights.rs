//! Fitting the weights of eq. 5 (W_temp, W_EM, W_CNN and the weights inside
//! E_knowledge) on the decoys of tuning runs (`mapfold bench weights`).
//!
//! The paper fits them "by maximizing the average TM score of the final
//! models". One trial of that costs a whole assembly per target, far beyond
//! a coordinate search on 2 cores. Here each trial re-scores decoys that the
//! assemblies of `mapfold bench build` (validation or train-homologs runs)
//! already made: the energy is linear in the weights (eq. 5, and every term of
//! [`Weights`] multiplies one raw sum), so each decoy's raw terms are computed
//! once and a weight set scores a run as the mean true TM-score of its `top`
//! lowest-energy decoys, the ones the clustering and refinement would build
//! on. The search moves one weight at a time by factors of 2, then √2, then
//! 2^¼, keeping a move when the mean over runs rises. The local geometry
//! weights (bond, angle, torsion, clash) stay fixed: they keep chains
//! protein-like rather than choose among folds, and fixing them also fixes the
//! energy's scale, which the ranking by energy alone cannot see.
//!
//! The result is a candidate, not a verdict: decoys from one weight set say
//! little about the basins another would reach, so the fitted set must then win
//! in whole assemblies (`mapfold bench build --weights`) on the same tuning
//! chains before it becomes the default.

use std::path::Path;

use anyhow::Context;

use crate::assembly::energy::Weights;

/// The raw terms, in this order (eq. 5: E_knowledge's terms, E_temp, E_EM, E_EM^CNN).
pub const TERMS: [&str; 11] = [
    "bond", "angle", "torsion", "pair", "contact", "burial", "rg", "clash", "temp", "em", "cnn",
];

/// Terms the fit may change by default (see the module doc).
pub const FITTED: [&str; 7] = ["pair", "contact", "burial", "rg", "temp", "em", "cnn"];

pub type Features = [f64; 11];

/// One tuning run's decoys: raw terms and true TM-score of each.
#[derive(Debug, Clone)]
pub struct RunDecoys {
    /// The run directory's name (target and resolution).
    pub name: String,
    /// Easy or Hard, as threading found.
    pub label: String,
    pub features: Vec<Features>,
    pub tm: Vec<f64>,
}

/// `term` names a weight of [`TERMS`].
pub fn is_term(term: &str) -> bool {
    TERMS.contains(&term)
}

/// The weight of `term` (a name from [`TERMS`]).
fn field<'a>(w: &'a mut Weights, term: &str) -> &'a mut f64 {
    match term {
        "bond" => &mut w.bond,
        "angle" => &mut w.angle,
        "torsion" => &mut w.torsion,
        "pair" => &mut w.pair,
        "contact" => &mut w.contact,
        "burial" => &mut w.burial,
        "rg" => &mut w.rg,
        "clash" => &mut w.clash,
        "temp" => &mut w.temp,
        "em" => &mut w.em,
        "cnn" => &mut w.cnn,
        _ => unreachable!("unknown term {term}"),
    }
}

fn get(w: &Weights, term: &str) -> f64 {
    *field(&mut w.clone(), term)
}

fn set(w: &mut Weights, term: &str, v: f64) {
    *field(w, term) = v;
}

/// The weights as a vector in [`TERMS`] order.
pub fn as_vector(w: &Weights) -> Features {
    let mut v = [0.0; 11];
    for (k, t) in TERMS.iter().enumerate() {
        v[k] = get(w, t);
    }
    v
}

/// Every weight 1: the force field then reports raw terms.
fn unit() -> Weights {
    let mut w = Weights::default();
    for t in TERMS {
        set(&mut w, t, 1.0);
    }
    w
}

/// Loads a `mapfold bench build` run directory (`RUN/map.mrc`, `RUN/seq.fasta`,
/// `RUN/out/…`) and the native chain `target` from `data_dir`, and computes
/// the raw terms and true TM-score of every decoy in `RUN/out/decoys.bin`.
pub fn load_run(data_dir: &Path, run: &Path, target: &str) -> anyhow::Result<RunDecoys> {
    let out = run.join("out");
    let t = super::Target {
        id: target.to_string(),
        length: 0,
        split: String::new(),
    };
    let native = super::TargetChain::load(data_dir, &t)?.native;
    let (seq, topology) =
        crate::pipeline::query_of(&crate::io::fasta::read_fasta(&run.join("seq.fasta"))?);
    anyhow::ensure!(!seq.is_empty(), "{}: empty FASTA", run.display());
    let l = seq.chars().count();
    let map = crate::io::mrc::read_map(&run.join("map.mrc"))?;
    let ca: crate::pipeline::CaMarker = crate::pipeline::read_marker(&out, "ca")
        .with_context(|| format!("{}: no finished Cα stage", out.display()))?;
    let cloud = crate::ca::CaCloud::read(&out.join("ca_cloud.pdb"))?;
    let templates = crate::pipeline::files::read_templates(&out.join("templates"), l)?;
    let decoys = crate::pipeline::files::read_decoys(&out.join("decoys.bin"))?;
    let label = std::fs::read_to_string(out.join("report.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .and_then(|v| v["difficulty"].as_str().map(String::from))
        .unwrap_or_else(|| "?".into());
    let predictor = crate::threading::ssp::SsPredictor::bundled().map_err(anyhow::Error::msg)?;
    let ff = crate::pipeline::force_field(&seq, &topology, &predictor, &templates, unit());
    let backend = crate::gpu::Backend::Cpu;
    let only = |em: f64, cnn: f64| Weights { em, cnn, ..unit() };
    let em = crate::pipeline::em_field(&map, ca.resolution, None, only(1.0, 0.0), backend)?;
    let cnn = if ca.consensus {
        Some(crate::pipeline::em_field(
            &map,
            ca.resolution,
            Some(&cloud.points[..]),
            only(0.0, 1.0),
            backend,
        )?)
    } else {
        None
    };
    use rayon::prelude::*;
    let rows: Vec<(Features, f64)> = decoys
        .par_iter()
        .map(|(_, x)| {
            let cen = ff.centroids(x);
            let t = ff.terms(x);
            let e_em = crate::assembly::remc::map_energy(&ff, &em, x, &cen);
            let e_cnn = cnn
                .as_ref()
                .map_or(0.0, |c| crate::assembly::remc::map_energy(&ff, c, x, &cen));
            let f = [
                t.bond, t.angle, t.torsion, t.pair, t.contact, t.burial, t.rg, t.clash, t.temp,
                e_em, e_cnn,
            ];
            (f, super::build::ca_tm(x, &native).tm_score)
        })
        .collect();
    let name = run
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(RunDecoys {
        name,
        label,
        features: rows.iter().map(|r| r.0).collect(),
        tm: rows.iter().map(|r| r.1).collect(),
    })
}

/// Mean true TM-score of the `top` lowest-energy decoys of `run` under `w`.
pub fn run_score(run: &RunDecoys, w: &Features, top: usize) -> f64 {
    let mut e: Vec<(f64, f64)> = run
        .features
        .iter()
        .zip(&run.tm)
        .map(|(f, &tm)| (f.iter().zip(w).map(|(a, b)| a * b).sum::<f64>(), tm))
        .collect();
    e.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = top.min(e.len()).max(1);
    e.iter().take(n).map(|x| x.1).sum::<f64>() / n as f64
}

/// Mean of [`run_score`] over `runs` (0 for none).
pub fn objective(runs: &[&RunDecoys], w: &Features, top: usize) -> f64 {
    if runs.is_empty() {
        return 0.0;
    }
    runs.iter().map(|r| run_score(r, w, top)).sum::<f64>() / runs.len() as f64
}

/// Coordinate search from `start` on the weights of `terms` (names from
/// [`TERMS`]; module doc).
pub fn fit(runs: &[&RunDecoys], start: &Weights, terms: &[&str], top: usize) -> Weights {
    let mut w = *start;
    let mut best = objective(runs, &as_vector(&w), top);
    for step in [2.0f64, 2f64.sqrt(), 2f64.powf(0.25)] {
        loop {
            let mut improved = false;
            for &t in terms {
                for f in [step, 1.0 / step] {
                    let mut trial = w;
                    set(&mut trial, t, get(&w, t) * f);
                    let s = objective(runs, &as_vector(&trial), top);
                    if s > best + 1e-4 {
                        best = s;
                        w = trial;
                        improved = true;
                    }
                }
            }
            if !improved {
                break;
            }
        }
    }
    w
}

/// The force field's terms of `ca` in [`TERMS`] order, map terms left at 0.
#[cfg(test)]
fn raw_terms(ff: &crate::assembly::energy::ForceField, ca: &[crate::Vec3]) -> Features {
    let t = ff.terms(ca);
    [
        t.bond, t.angle, t.torsion, t.pair, t.contact, t.burial, t.rg, t.clash, t.temp, 0.0, 0.0,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Vec3;

    fn fixture_chain() -> (String, Vec<Vec3>) {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/3j6b_9.pdb");
        let s = crate::io::read_structure(&p).unwrap();
        let c = &s.chains[0];
        (crate::sequence::canonical_sequence(c), c.ca_coords())
    }

    /// The fit rests on this: every weight multiplies one raw term.
    #[test]
    fn energy_is_linear_in_the_weights() {
        let (seq, ca) = fixture_chain();
        let one = crate::topology::Topology::single(ca.len());
        let predictor = crate::threading::ssp::SsPredictor::bundled().unwrap();
        let w = Weights::default();
        let raw = raw_terms(
            &crate::pipeline::force_field(&seq, &one, &predictor, &[], unit()),
            &ca,
        );
        let weighted = raw_terms(
            &crate::pipeline::force_field(&seq, &one, &predictor, &[], w),
            &ca,
        );
        let v = as_vector(&w);
        for k in 0..9 {
            let expect = raw[k] * v[k];
            assert!(
                (weighted[k] - expect).abs() <= 1e-9 * expect.abs().max(1.0),
                "{}: {} vs {}",
                TERMS[k],
                weighted[k],
                expect
            );
        }
        assert!(raw.iter().take(9).any(|&x| x != 0.0));
    }

    #[test]
    fn the_fit_finds_the_term_that_ranks_decoys() {
        // Two runs whose decoys' TM-score follows the contact term only:
        // the fit must raise W_contact against the terms that say otherwise.
        let mk = |seed: u64| {
            let mut features = Vec::new();
            let mut tm = Vec::new();
            for k in 0..40u64 {
                let x = ((k * 7919 + seed * 104729) % 97) as f64 / 97.0;
                let noise = ((k * 31 + seed) % 13) as f64 / 13.0;
                let mut f = [0.0; 11];
                f[4] = -x; // contact: lower for better decoys
                f[5] = noise * 0.5 - x * 0.1; // burial: weakly informative
                f[3] = noise; // pair: pure noise
                features.push(f);
                tm.push(x);
            }
            RunDecoys {
                name: format!("r{seed}"),
                label: "Hard".into(),
                features,
                tm,
            }
        };
        let (a, b) = (mk(1), mk(2));
        let runs = [&a, &b];
        let start = Weights::default();
        let before = objective(&runs, &as_vector(&start), 3);
        let w = fit(&runs, &start, &FITTED, 3);
        let after = objective(&runs, &as_vector(&w), 3);
        assert!(after > before, "{before} → {after}");
        assert!(w.contact / w.pair > start.contact / start.pair);
        assert_eq!(w.bond, start.bond, "local geometry weights stay fixed");
    }
}
