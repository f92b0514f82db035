//! Replica-exchange Monte Carlo (the paper's "Density map-guided structural
//! assembly simulations").
//!
//! R replicas (40 in the paper), each started from one template, run on a
//! geometric temperature ladder. A step is batched across replicas, the shape
//! the design card asks for: (1) every replica proposes a move on the CPU and
//! computes the change of the force field's terms ([`super::energy`]) in
//! parallel; (2) the map term of every proposal is scored in one call to
//! [`EmField::bead_values`] (one GPU dispatch, or the CPU twin); (3) every
//! replica accepts or rejects by Metropolis. After each sweep (L steps,
//! L the chain length) neighbouring replicas try to swap conformations, even
//! and odd pairs alternately, and the energies are recomputed from scratch so
//! that rounding cannot drift.
//!
//! Every replica has its own ChaCha RNG seeded from (seed, replica), the swaps
//! another, so the same seed gives the same trajectories whatever the thread
//! count. Decoys are recorded from the lowest-temperature replicas for
//! clustering.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::em::EmField;
use super::energy::ForceField;
use super::moves::{propose, FragmentSource, Move, MoveKind, DEFAULT_MIX};
use crate::Vec3;

#[derive(Debug, Clone)]
pub struct RemcOptions {
    /// Temperatures (kT) of the coldest and the hottest replica.
    pub t_min: f64,
    pub t_max: f64,
    /// Sweeps to run (a sweep is L steps of every replica), unless the time
    /// budget ends the run first.
    pub sweeps: usize,
    pub time_budget: Option<Duration>,
    /// Record a decoy from each of the `record_replicas` coldest replicas
    /// every `record_every` sweeps.
    pub record_every: usize,
    pub record_replicas: usize,
    pub mix: [f64; 5],
    pub seed: u64,
}

impl Default for RemcOptions {
    fn default() -> Self {
        RemcOptions {
            t_min: 0.6,
            t_max: 6.0,
            sweeps: 100,
            time_budget: None,
            record_every: 1,
            record_replicas: 8,
            mix: DEFAULT_MIX,
            seed: 1,
        }
    }
}

/// A conformation recorded for clustering.
#[derive(Debug, Clone)]
pub struct Decoy {
    pub ca: Vec<Vec3>,
    pub energy: f64,
    pub replica: usize,
    pub sweep: usize,
}

#[derive(Debug, Clone)]
pub struct RemcResult {
    pub decoys: Vec<Decoy>,
    /// Final conformation and energy of each replica, coldest first.
    pub replicas: Vec<(Vec<Vec3>, f64)>,
    /// Lowest-energy conformation seen by any replica.
    pub best: (Vec<Vec3>, f64),
    pub sweeps: usize,
    pub moves: u64,
    pub accepted: u64,
    /// Proposals and acceptances per move kind ([`MoveKind::ALL`] order).
    pub by_kind: [(u64, u64); 5],
    pub swaps_tried: u64,
    pub swaps_accepted: u64,
    pub seconds: f64,
}

impl RemcResult {
    pub fn moves_per_second(&self) -> f64 {
        self.moves as f64 / self.seconds.max(1e-9)
    }
}

struct Replica {
    ca: Vec<Vec3>,
    cen: Vec<Vec3>,
    energy: f64,
    rng: ChaCha8Rng,
}

/// What a replica proposes in one step.
struct Proposal {
    mv: Move,
    new_cen: Vec<Vec3>,
    /// Window of residues whose centroid may move.
    wlo: usize,
    whi: usize,
    d_ff: f64,
    /// Beads: old then new positions, `n_beads` each.
    beads: Vec<Vec3>,
}

/// Beads whose map term a move changes: moved Cα and the centroids in the
/// window (glycine's centroid is its Cα).
fn move_beads(ff: &ForceField, r: &Replica, p: &Proposal, trial_ca: &[Vec3]) -> Vec<Vec3> {
    let mut old = Vec::new();
    let mut new = Vec::new();
    old.extend_from_slice(&r.ca[p.mv.lo..p.mv.hi]);
    new.extend_from_slice(&trial_ca[p.mv.lo..p.mv.hi]);
    for i in p.wlo..p.whi {
        if ff.types[i] != 5 {
            // 5 = G in sequence::AMINO_ACIDS
            old.push(r.cen[i]);
            new.push(p.new_cen[i - p.wlo]);
        }
    }
    old.extend(new);
    old
}

fn all_beads(ff: &ForceField, ca: &[Vec3], cen: &[Vec3]) -> Vec<Vec3> {
    let mut b = ca.to_vec();
    b.extend(
        cen.iter()
            .enumerate()
            .filter(|(i, _)| ff.types[*i] != 5)
            .map(|(_, p)| *p),
    );
    b
}

/// The map terms (eq. 6-7, weights folded into the field) of a conformation
/// whose centroids are `cen`, over the same beads the moves score.
pub fn map_energy(ff: &ForceField, em: &EmField, ca: &[Vec3], cen: &[Vec3]) -> f64 {
    -em.bead_values(&all_beads(ff, ca, cen)).iter().sum::<f64>()
}

fn full_energy(ff: &ForceField, em: Option<&EmField>, ca: &[Vec3], cen: &[Vec3]) -> f64 {
    ff.terms(ca).total() + em.map_or(0.0, |em| map_energy(ff, em, ca, cen))
}

/// Temperatures of a geometric ladder.
pub fn ladder(n: usize, t_min: f64, t_max: f64) -> Vec<f64> {
    if n <= 1 {
        return vec![t_min; n];
    }
    (0..n)
        .map(|k| t_min * (t_max / t_min).powf(k as f64 / (n - 1) as f64))
        .collect()
}

/// Runs the replica exchange from `starts` (one per replica, full length).
pub fn run(
    ff: &ForceField,
    em: Option<&EmField>,
    fragments: &FragmentSource,
    starts: Vec<Vec<Vec3>>,
    opts: &RemcOptions,
    mut progress: impl FnMut(usize, usize),
) -> RemcResult {
    let t0 = Instant::now();
    let n = ff.len();
    let temps = ladder(starts.len(), opts.t_min, opts.t_max);
    let mut reps: Vec<Replica> = starts
        .into_iter()
        .enumerate()
        .map(|(k, ca)| {
            assert_eq!(ca.len(), n, "start {k} has the wrong length");
            let cen = ff.centroids(&ca);
            let energy = full_energy(ff, em, &ca, &cen);
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&opts.seed.to_le_bytes());
            seed[8..16].copy_from_slice(&(k as u64).to_le_bytes());
            Replica {
                ca,
                cen,
                energy,
                rng: ChaCha8Rng::from_seed(seed),
            }
        })
        .collect();
    let mut swap_rng = ChaCha8Rng::seed_from_u64(opts.seed ^ 0x05ee_d5a9);
    let mut res = RemcResult {
        decoys: Vec::new(),
        replicas: Vec::new(),
        best: (Vec::new(), f64::INFINITY),
        sweeps: 0,
        moves: 0,
        accepted: 0,
        by_kind: [(0, 0); 5],
        swaps_tried: 0,
        swaps_accepted: 0,
        seconds: 0.0,
    };
    for r in &reps {
        if r.energy < res.best.1 {
            res.best = (r.ca.clone(), r.energy);
        }
    }
    for sweep in 0..opts.sweeps {
        // At least one sweep, so that a tight budget still yields decoys.
        if sweep > 0 && opts.time_budget.is_some_and(|b| t0.elapsed() > b) {
            log::info!("assembly: time budget reached after {sweep} sweeps");
            break;
        }
        for _ in 0..n.max(1) {
            step(ff, em, fragments, &mut reps, &temps, opts, &mut res);
        }
        // Exact energies once per sweep.
        reps.par_iter_mut().for_each(|r| {
            r.energy = full_energy(ff, em, &r.ca, &r.cen);
        });
        let parity = sweep % 2;
        for k in (parity..reps.len().saturating_sub(1)).step_by(2) {
            res.swaps_tried += 1;
            let (bi, bj) = (1.0 / temps[k], 1.0 / temps[k + 1]);
            let x = (bi - bj) * (reps[k].energy - reps[k + 1].energy);
            if x >= 0.0 || swap_rng.random::<f64>() < x.exp() {
                res.swaps_accepted += 1;
                let (a, b) = reps.split_at_mut(k + 1);
                std::mem::swap(&mut a[k].ca, &mut b[0].ca);
                std::mem::swap(&mut a[k].cen, &mut b[0].cen);
                std::mem::swap(&mut a[k].energy, &mut b[0].energy);
            }
        }
        for (k, r) in reps.iter().enumerate() {
            if r.energy < res.best.1 {
                res.best = (r.ca.clone(), r.energy);
            }
            if k < opts.record_replicas && (sweep + 1) % opts.record_every.max(1) == 0 {
                res.decoys.push(Decoy {
                    ca: r.ca.clone(),
                    energy: r.energy,
                    replica: k,
                    sweep,
                });
            }
        }
        res.sweeps = sweep + 1;
        progress(sweep + 1, opts.sweeps);
    }
    res.replicas = reps.into_iter().map(|r| (r.ca, r.energy)).collect();
    res.seconds = t0.elapsed().as_secs_f64();
    res
}

/// One batched step of every replica (module doc).
fn step(
    ff: &ForceField,
    em: Option<&EmField>,
    fragments: &FragmentSource,
    reps: &mut [Replica],
    temps: &[f64],
    opts: &RemcOptions,
    res: &mut RemcResult,
) {
    // (1) Proposals and force-field ΔE, in parallel.
    let props: Vec<Proposal> = reps
        .par_iter_mut()
        .map(|r| {
            let mv = propose(&r.ca, ff.topology(), fragments, &opts.mix, &mut r.rng);
            let mut trial = r.ca.clone();
            trial[mv.lo..mv.hi].copy_from_slice(&mv.new);
            let (wlo, whi) = if mv.kind == MoveKind::Rigid {
                (0, trial.len())
            } else {
                ff.window(mv.lo, mv.hi)
            };
            let new_cen: Vec<Vec3> = (wlo..whi).map(|i| ff.centroid(&trial, i)).collect();
            let mut trial_cen = r.cen.clone();
            trial_cen[wlo..whi].copy_from_slice(&new_cen);
            let d_ff = if mv.kind == MoveKind::Rigid {
                // Internal geometry and restraints are unchanged by a rigid move.
                0.0
            } else {
                let set = ff.burial_set(&r.ca, &trial, mv.lo, mv.hi);
                ff.local_terms(&trial, &trial_cen, wlo, whi, &set).total() + ff.rg_energy(&trial)
                    - ff.local_terms(&r.ca, &r.cen, wlo, whi, &set).total()
                    - ff.rg_energy(&r.ca)
            };
            let mut p = Proposal {
                mv,
                new_cen,
                wlo,
                whi,
                d_ff,
                beads: Vec::new(),
            };
            if em.is_some() {
                p.beads = move_beads(ff, r, &p, &trial);
            }
            p
        })
        .collect();
    // (2) Map terms of every proposal: one batch.
    let d_em: Vec<f64> = match em {
        None => vec![0.0; props.len()],
        Some(em) if em.on_gpu() => {
            let all: Vec<Vec3> = props.iter().flat_map(|p| p.beads.iter().copied()).collect();
            let vals = em.bead_values(&all);
            let mut out = Vec::with_capacity(props.len());
            let mut at = 0;
            for p in &props {
                let h = p.beads.len() / 2;
                let v = &vals[at..at + 2 * h];
                out.push(-(v[h..].iter().sum::<f64>() - v[..h].iter().sum::<f64>()));
                at += 2 * h;
            }
            out
        }
        Some(em) => props
            .par_iter()
            .map(|p| {
                let v = em.bead_values_cpu(&p.beads);
                let h = v.len() / 2;
                -(v[h..].iter().sum::<f64>() - v[..h].iter().sum::<f64>())
            })
            .collect(),
    };
    // (3) Metropolis.
    let accepted: Vec<(MoveKind, bool)> = reps
        .par_iter_mut()
        .zip(props)
        .zip(d_em)
        .zip(temps)
        .map(|(((r, p), de), &t)| {
            let d = p.d_ff + de;
            let ok = d <= 0.0 || r.rng.random::<f64>() < (-d / t).exp();
            if ok {
                r.ca[p.mv.lo..p.mv.hi].copy_from_slice(&p.mv.new);
                r.cen[p.wlo..p.whi].copy_from_slice(&p.new_cen);
                r.energy += d;
            }
            (p.mv.kind, ok)
        })
        .collect();
    for (kind, ok) in accepted {
        res.moves += 1;
        res.by_kind[kind.index()].0 += 1;
        if ok {
            res.accepted += 1;
            res.by_kind[kind.index()].1 += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::energy::{template_restraints, Weights};
    use crate::assembly::gapfill::complete;
    use crate::assembly::stats::KnowledgeStats;
    use crate::geom::tmscore::tm_score_paired;
    use crate::gpu::Backend;
    use crate::template::{Source, TemplateModel};

    /// The longest unbroken stretch of the deposited chain and its density
    /// simulated at 5 Å (the real map also holds the rest of the chain, which
    /// a 64-residue stretch would be free to wander into).
    fn fixture() -> (String, Vec<Vec3>, crate::map::DensityMap) {
        let (seq, ca, _, residues) = crate::assembly::test_stretch();
        let atoms = residues.iter().flat_map(|r| r.atoms.iter());
        let map = crate::map::simulate::simulate_box(atoms, 5.0, 1.5, 8.0, Backend::Cpu).unwrap();
        (seq, ca, map)
    }

    #[test]
    fn assembly_from_a_template_missing_a_third_lowers_the_energy_and_keeps_the_fold() {
        let (seq, native, map) = fixture();
        let n = native.len();
        let ss = crate::threading::ssp::SsPredictor::bundled()
            .unwrap()
            .predict_states(&seq);
        // A template that lacks the middle third.
        let model = TemplateModel {
            source: Source::Threading,
            template_id: "partial".into(),
            zscore: 1.0,
            ca: (0..n)
                .map(|i| (i < n / 3 || i >= 2 * n / 3).then(|| native[i]))
                .collect(),
            crscore: Some(0.8),
            density_pcc: None,
        };
        let restraints = template_restraints(std::slice::from_ref(&model), n, 10.0);
        let weights = Weights::default();
        let ff = ForceField::new(KnowledgeStats::bundled(), weights, &seq, ss, restraints);
        let em = EmField::new(&map, 5.0, None, weights.em, weights.cnn, Backend::Cpu).unwrap();
        let starts: Vec<Vec<Vec3>> = (0..8)
            .map(|k| {
                let mut rng = ChaCha8Rng::seed_from_u64(k);
                complete(&model, Vec3::zeros(), &mut rng)
            })
            .collect();
        let tm = |ca: &[Vec3]| tm_score_paired(ca, &native, n).tm_score;
        let tm_start = starts.iter().map(|s| tm(s)).fold(0.0, f64::max);
        let opts = RemcOptions {
            sweeps: 30,
            seed: 7,
            ..RemcOptions::default()
        };
        let frags = FragmentSource::new(std::slice::from_ref(&model));
        let res = run(&ff, Some(&em), &frags, starts.clone(), &opts, |_, _| {});
        for (name, ca) in [
            ("native", &native),
            ("start", &starts[0]),
            ("best", &res.best.0),
        ] {
            let cen = ff.centroids(ca);
            let e_em = -em
                .bead_values(&all_beads(&ff, ca, &cen))
                .iter()
                .sum::<f64>();
            eprintln!("{name}: EM {e_em:.1}, {:?}", ff.terms(ca));
        }
        let tm_best = tm(&res.best.0);
        let tm_cold = tm(&res.replicas[0].0);
        eprintln!(
            "{n} residues: start TM {tm_start:.3}, lowest-energy TM {tm_best:.3}, coldest replica TM {tm_cold:.3}; {} moves, {:.0}/s, acceptance {:.2}, swaps {}/{}",
            res.moves,
            res.moves_per_second(),
            res.accepted as f64 / res.moves as f64,
            res.swaps_accepted,
            res.swaps_tried
        );
        // The simulation lowers the energy and keeps the template's fold (the
        // missing third is rebuilt in the density; TM-score at L = 64 is
        // harsh on a loop placed 3 Å off).
        let start_e = starts
            .iter()
            .map(|s| full_energy(&ff, Some(&em), s, &ff.centroids(s)))
            .fold(f64::INFINITY, f64::min);
        assert!(
            res.best.1 < start_e,
            "energy {start_e:.1} → {:.1}",
            res.best.1
        );
        assert!(tm_best > 0.6, "TM {tm_start:.3} → {tm_best:.3}");
        assert!(!res.decoys.is_empty());
        // Same seed, same trajectory.
        let again = run(&ff, Some(&em), &frags, starts, &opts, |_, _| {});
        assert_eq!(again.best.0, res.best.0);
    }
}

#[cfg(test)]
mod gpu_tests {
    use super::*;
    use crate::assembly::energy::Weights;
    use crate::assembly::stats::KnowledgeStats;
    use crate::gpu::{self, Backend};

    /// The batched GPU path (one `em_delta.wgsl` dispatch per step for all
    /// replicas) runs the same simulation as the CPU path: every replica's
    /// bookkept energy matches a CPU recomputation of its final conformation.
    #[test]
    fn gpu_batched_steps_keep_energies_consistent_with_the_cpu() {
        let Some(ctx) =
            gpu::gpu_for_test("gpu_batched_steps_keep_energies_consistent_with_the_cpu")
        else {
            return;
        };
        let path = std::path::Path::new("tests/data/3j6b_9.pdb");
        let s = crate::io::read_structure(path).unwrap();
        let chain = &s.chains[0];
        let ca: Vec<Vec3> = chain.ca_coords()[..40].to_vec();
        let seq: String = chain.ca_sequence().chars().take(40).collect();
        let ss = crate::threading::ssp::SsPredictor::bundled()
            .unwrap()
            .predict_states(&seq);
        let ff = ForceField::new(
            KnowledgeStats::bundled(),
            Weights::default(),
            &seq,
            ss,
            Vec::new(),
        );
        let map = crate::io::mrc::read_map(std::path::Path::new("tests/data/emd2566_3j6b_9.mrc"))
            .unwrap();
        let em_gpu = EmField::new(&map, 5.0, None, 1.0, 0.0, Backend::Gpu(ctx)).unwrap();
        let em_cpu = EmField::new(&map, 5.0, None, 1.0, 0.0, Backend::Cpu).unwrap();
        let opts = RemcOptions {
            sweeps: 2,
            seed: 3,
            ..RemcOptions::default()
        };
        let starts = vec![ca.clone(); 4];
        let res = run(
            &ff,
            Some(&em_gpu),
            &FragmentSource::default(),
            starts,
            &opts,
            |_, _| {},
        );
        eprintln!(
            "GPU path ({}): {} moves, {:.0} moves/s",
            ctx.describe(),
            res.moves,
            res.moves_per_second()
        );
        assert_eq!(res.moves, 2 * 40 * 4);
        for (conf, e) in &res.replicas {
            let cen = ff.centroids(conf);
            let cpu = full_energy(&ff, Some(&em_cpu), conf, &cen);
            assert!(
                (cpu - e).abs() < 1e-3 * cpu.abs().max(1.0),
                "GPU-path energy {e}, CPU {cpu}"
            );
        }
    }
}
