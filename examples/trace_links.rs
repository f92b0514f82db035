//! The fit of `template::links::BOND_LOGIT` and the paths it gives, against
//! the paper's cutoff connection (`regenerate::connect`).
//!
//! For the first N validation chains (default 50), one harness map of 2–5 Å
//! (`bench::harness::maps`, seed 0) and the bundled networks' cloud; a cloud
//! atom is residue i when native Cα i is its nearest, within 2 Å. The first
//! half fits the bond log-odds by logistic regression (IRLS) over every pair
//! closer than 7.5 Å (a bond: residues i and i ± 1); the second half measures
//! the paths: the fraction of links between sequence neighbours, and the
//! residue-weighted mean length of the runs that follow the chain (steps of
//! +1 or +2 residues, or −1 or −2, in one direction). Last, for the likely
//! paths of 6+ atoms: the residues in register if each path were placed at
//! its own best register, and how often the register signals find it: the
//! side-chain density and SS PCC of `template::register`, the residue types
//! of `template::residue_type` (summed centred log-odds), and both.
//!
//! `cargo run --release --example trace_links [N]` (needs `../shared/data` or
//! `$MAPFOLD_DATA`).

use std::collections::HashMap;

use mapfold::bench::harness::maps::{simulate, MapSettings, ResolutionBin};
use mapfold::bench::{read_targets, TargetChain};
use mapfold::ca::detect::CaDetector;
use mapfold::gpu::Backend;
use mapfold::map::DensityMap;
use mapfold::sequence::index_or_unknown;
use mapfold::template::links::{likely_paths, DensityRatio, BOND_LOGIT};
use mapfold::template::regenerate::connect;
use mapfold::template::register::{register_scores, Probe, SequenceProfile, TraceProfile};
use mapfold::template::residue_type::{composition, density_scale, ResidueTypePredictor};
use mapfold::threading::ssp::SsPredictor;
use mapfold::Vec3;
use nalgebra::{DMatrix, DVector};

struct Case {
    map: DensityMap,
    cloud: Vec<Vec3>,
    label: Vec<Option<usize>>,
    sequence: String,
    resolution: f64,
}

fn features(d: f64, rho: f64) -> [f64; 5] {
    let rho = rho.clamp(-0.2, 1.3);
    let over = (d - 3.8).max(0.0);
    let under = (3.5 - d).max(0.0);
    [1.0, over * over, under * under, rho, over * rho]
}

/// Logistic regression by iteratively reweighted least squares.
fn irls(x: &[[f64; 5]], y: &[f64]) -> ([f64; 5], f64) {
    let mut w = DVector::<f64>::zeros(5);
    let mut loss = 0.0;
    for _ in 0..25 {
        let mut h = DMatrix::<f64>::identity(5, 5) * 1e-6;
        let mut g = DVector::<f64>::zeros(5);
        loss = 0.0;
        for (xi, &yi) in x.iter().zip(y) {
            let v = DVector::from_row_slice(xi);
            let p = 1.0 / (1.0 + (-w.dot(&v)).exp());
            loss -= if yi > 0.5 { p } else { 1.0 - p }.max(1e-15).ln();
            g += &v * (yi - p);
            h += &v * v.transpose() * (p * (1.0 - p));
        }
        let Some(step) = h.lu().solve(&g) else { break };
        w += &step;
        if step.norm() < 1e-8 {
            break;
        }
    }
    (std::array::from_fn(|k| w[k]), loss / x.len() as f64)
}

/// (links between sequence neighbours, links, residue-weighted run length).
fn measure(c: &Case, paths: &[Vec<usize>]) -> (usize, usize, f64) {
    let step = |a: usize, b: usize| Some(c.label[b]? as i64 - c.label[a]? as i64);
    let (mut good, mut links, mut weighted) = (0, 0, 0.0);
    for p in paths {
        let (mut run, mut dir) = (1usize, 0i64);
        for w in p.windows(2) {
            links += 1;
            let s = step(w[0], w[1]);
            good += matches!(s, Some(1) | Some(-1)) as usize;
            let sign = match s {
                Some(1) | Some(2) => 1,
                Some(-1) | Some(-2) => -1,
                _ => 0,
            };
            if sign != 0 && (dir == 0 || sign == dir) {
                run += 1;
            } else {
                weighted += (run * run) as f64;
                run = 1;
            }
            dir = sign;
        }
        weighted += (run * run) as f64;
    }
    (good, links, weighted / c.cloud.len() as f64)
}

fn main() -> anyhow::Result<()> {
    let n: usize = match std::env::args().nth(1) {
        Some(s) => s.parse()?,
        None => 50,
    };
    let dir = mapfold::data::shared_data_dir().ok_or_else(|| {
        anyhow::anyhow!(
            "../shared/data not found (set MAPFOLD_DATA to its path); this example needs it"
        )
    })?;
    let (a, b) = mapfold::cnn::bundled::networks().map_err(anyhow::Error::msg)?;
    let det = CaDetector::new(a, b)?;
    let bin = ResolutionBin::parse("2-5").map_err(anyhow::Error::msg)?;
    let mut cases = Vec::new();
    for t in read_targets(&dir, "validation")?.iter().take(n) {
        let tc = TargetChain::load(&dir, t)?;
        let bm = simulate(
            &tc.structure(),
            &t.id,
            bin,
            0,
            &MapSettings::default(),
            Backend::Cpu,
        )?;
        let cloud = det
            .detect(&bm.map, tc.native.len(), Backend::Cpu)?
            .cloud
            .points;
        let label = cloud
            .iter()
            .map(|p| {
                let (i, d) = tc
                    .native
                    .iter()
                    .enumerate()
                    .map(|(i, q)| (i, (p - q).norm()))
                    .min_by(|a, b| a.1.total_cmp(&b.1))?;
                (d < 2.0).then_some(i)
            })
            .collect();
        cases.push(Case {
            resolution: bm.resolution,
            map: bm.map,
            cloud,
            label,
            sequence: tc.sequence.clone(),
        });
    }
    let half = cases.len() / 2;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for c in &cases[..half] {
        let Some(ratio) = DensityRatio::new(&c.map, &c.cloud) else {
            continue;
        };
        for i in 0..c.cloud.len() {
            for j in i + 1..c.cloud.len() {
                let d = (c.cloud[i] - c.cloud[j]).norm();
                if d < 7.5 {
                    x.push(features(d, ratio.density_ratio(c.cloud[i], c.cloud[j])));
                    let bond = matches!((c.label[i], c.label[j]), (Some(a), Some(b)) if a.abs_diff(b) == 1);
                    y.push(if bond { 1.0 } else { 0.0 });
                }
            }
        }
    }
    let (w, loss) = irls(&x, &y);
    println!(
        "fit on {half} chains, {} pairs: coefficients {w:.4?}, mean log-loss {loss:.4} (shipped: {BOND_LOGIT:?})",
        x.len()
    );
    println!("\n| paths, {} held-out chains | links between sequence neighbours | residue-weighted run length | paths of 2+ atoms per chain |", cases.len() - half);
    println!("| --- | --- | --- | --- |");
    // None: the paper's connection; Some(t): likely paths at threshold t.
    let arms = [None, Some(-6.0), Some(-4.0), Some(-2.0), Some(0.0)];
    for arm in arms {
        let name = match arm {
            None => "cutoff connection (paper)".to_string(),
            Some(t) => format!("likely paths, log-odds ≥ {t}"),
        };
        let (mut good, mut links, mut runs, mut multi) = (0, 0, 0.0, 0);
        for c in &cases[half..] {
            let paths = match arm {
                None => connect(&c.cloud),
                Some(t) => likely_paths(&c.cloud, &c.map, t),
            };
            let (g, l, r) = measure(c, &paths);
            good += g;
            links += l;
            runs += r;
            multi += paths.iter().filter(|p| p.len() > 1).count();
        }
        let k = (cases.len() - half).max(1) as f64;
        println!(
            "| {name} | {:.3} | {:.1} | {:.1} |",
            good as f64 / links.max(1) as f64,
            runs / k,
            multi as f64 / k
        );
    }
    segment_registers(&cases[half..]);
    Ok(())
}

/// How far separately placed paths could go, and how often today's register
/// signals find their register: for each likely path (log-odds ≥ −2) of 6+
/// atoms, its true register (the direction and offset most of its labelled
/// atoms agree on) and the rank of that register among all gapless ones by
/// side-chain density + SS PCC (`template::register`).
fn segment_registers(cases: &[Case]) {
    let ssp = SsPredictor::bundled().expect("bundled SS predictor");
    let probe = Probe::bundled();
    let net = ResidueTypePredictor::bundled().expect("bundled residue-type predictor");
    let (mut in_register, mut residues, mut paths, mut first) = (0, 0, 0, 0);
    let (mut first_types, mut first_both) = (0, 0);
    for c in cases {
        let ss = ssp.predict(&c.sequence);
        let sp = SequenceProfile::new(&c.sequence, Some(&ss));
        let comp = composition(&c.sequence);
        let types: Vec<usize> = c.sequence.chars().map(index_or_unknown).collect();
        let Some(scale) = density_scale(&c.map, &c.cloud) else {
            continue;
        };
        let l = sp.len() as i64;
        residues += sp.len();
        for path in likely_paths(&c.cloud, &c.map, -2.0) {
            let t = path.len() as i64;
            if t < 6 || t > l {
                continue;
            }
            let mut votes: HashMap<(bool, i64), usize> = HashMap::new();
            for (q, &a) in path.iter().enumerate() {
                if let Some(r) = c.label[a] {
                    *votes.entry((false, r as i64 - q as i64)).or_default() += 1;
                    *votes
                        .entry((true, r as i64 - (t - 1 - q as i64)))
                        .or_default() += 1;
                }
            }
            let Some((&truth, &n)) = votes.iter().max_by_key(|(k, v)| (**v, k.1, k.0)) else {
                continue;
            };
            in_register += n;
            let ca: Vec<Vec3> = path.iter().map(|&a| c.cloud[a]).collect();
            let tp = TraceProfile::new(&ca, &c.map, &probe);
            let score = |reverse: bool, shift: i64| {
                let (side, ss) = register_scores(&tp, &sp, reverse, shift);
                side + ss
            };
            // Residue types: centred log-odds on the trace in each direction.
            let odds = |reverse: bool| {
                let mut d = ca.clone();
                if reverse {
                    d.reverse();
                }
                net.trace_log_odds(&c.map, &d, scale, c.resolution, &comp)
            };
            let (fwd, rev) = (odds(false), odds(true));
            let type_score = |reverse: bool, shift: i64| -> f64 {
                let o = if reverse { &rev } else { &fwd };
                o.iter()
                    .enumerate()
                    .filter_map(|(q, x)| {
                        // A true register may hang over a chain end.
                        let r = usize::try_from(q as i64 + shift).ok()?;
                        Some(*x.as_ref()?.get(*types.get(r)?)? as f64)
                    })
                    .sum()
            };
            let ranks_first = |f: &dyn Fn(bool, i64) -> f64| {
                let true_score = f(truth.0, truth.1);
                ![false, true]
                    .into_iter()
                    .flat_map(|rev| (0..=l - t).map(move |s| (rev, s)))
                    .any(|(rev, s)| (rev, s) != truth && f(rev, s) > true_score)
            };
            paths += 1;
            first += usize::from(ranks_first(&score));
            first_types += usize::from(ranks_first(&type_score));
            first_both += usize::from(ranks_first(&|rev, s| score(rev, s) + type_score(rev, s)));
        }
    }
    let pct = |k: usize| 100.0 * k as f64 / paths.max(1) as f64;
    println!(
        "\nlikely paths (log-odds ≥ −2) of 6+ atoms, {} held-out chains: {paths} paths; each at its own best register would put {:.1} % of native residues in register; the true register ranks first for {first} ({:.1} %) by side-chain density + SS PCC, {first_types} ({:.1} %) by residue types, {first_both} ({:.1} %) by both",
        cases.len(),
        100.0 * in_register as f64 / residues.max(1) as f64,
        pct(first),
        pct(first_types),
        pct(first_both),
    );
}
