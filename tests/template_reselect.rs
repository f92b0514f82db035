//! Template re-selection (eq. 3-4): superposing ordered template Cα onto an
//! unordered Cα cloud, on the real 3J6B chain 9 and its EMD-2566 map, and
//! re-ranking threading templates of the shared data set by CRscore.

use std::path::{Path, PathBuf};
use std::time::Instant;

use mapfold::ca::detect::CaDetector;
use mapfold::geom::crscore::crscore;
use mapfold::geom::kabsch::rmsd_in_place;
use mapfold::geom::tmscore::tm_score_paired;
use mapfold::gpu::Backend;
use mapfold::template::reselect::{fit_to_cloud, reselect, superpose_all, ReselectOptions};
use mapfold::template::{Source, TemplateModel};
use mapfold::threading::library::{self, Library};
use mapfold::threading::scoring::LibraryStats;
use mapfold::threading::search::{thread, Query, SearchOptions};
use mapfold::threading::ssp::SsPredictor;
use mapfold::Vec3;
use nalgebra::Rotation3;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn chain_3j6b_9() -> Vec<Vec3> {
    mapfold::io::read_structure(&fixture("3j6b_9.pdb"))
        .unwrap()
        .ca_coords()
}

fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller; rand 0.9 has no normal distribution without rand_distr.
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// A pseudo-cloud from true Cα: a fraction dropped, order shuffled, Gaussian
/// noise of `sigma` Å per coordinate.
fn noisy_cloud(ca: &[Vec3], keep: f64, sigma: f64, seed: u64) -> Vec<Vec3> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out: Vec<Vec3> = ca
        .iter()
        .filter(|_| rng.random_range(0.0..1.0) < keep)
        .copied()
        .collect();
    out.shuffle(&mut rng);
    for p in &mut out {
        *p += Vec3::new(gaussian(&mut rng), gaussian(&mut rng), gaussian(&mut rng)) * sigma;
    }
    out
}

fn moved(ca: &[Vec3], rot: Rotation3<f64>, shift: Vec3) -> Vec<Vec3> {
    ca.iter().map(|p| rot * p + shift).collect()
}

/// (a) The chain far from its own noisy, incomplete, shuffled cloud: the fit
/// must bring it back onto its original place.
#[test]
fn fit_recovers_the_frame_of_a_moved_chain() {
    let native = chain_3j6b_9();
    let cloud = noisy_cloud(&native, 0.8, 0.5, 7);
    let mut worst: f64 = 0.0;
    for (k, (angles, shift)) in [
        ((0.7, -1.9, 2.4), Vec3::new(40.0, -25.0, 60.0)),
        ((2.9, 0.4, -0.8), Vec3::new(-300.0, 12.0, 5.0)),
        ((-1.2, 1.3, 3.0), Vec3::zeros()),
    ]
    .into_iter()
    .enumerate()
    {
        let rot = Rotation3::from_euler_angles(angles.0, angles.1, angles.2);
        let template = moved(&native, rot, shift);
        let t0 = Instant::now();
        let fit = fit_to_cloud(&template, &cloud).expect("a fit");
        let back: Vec<Vec3> = template.iter().map(|p| fit.transform.apply(p)).collect();
        let rmsd = rmsd_in_place(&back, &native);
        eprintln!(
            "case {k}: {} template Cα vs {} cloud atoms: RMSD to the original {rmsd:.3} Å, CRscore {:.3}, {} pairs, pair RMSD {:.2} Å, {:.3} s",
            template.len(),
            cloud.len(),
            fit.crscore,
            fit.pairs.len(),
            fit.rmsd,
            t0.elapsed().as_secs_f64()
        );
        assert!(rmsd < 1.0, "case {k}: RMSD {rmsd}");
        // Most kept pairs are true correspondences (the same atom).
        let true_pairs = fit
            .pairs
            .iter()
            .filter(|&&(i, j)| (native[i] - cloud[j]).norm() < 2.5)
            .count();
        assert!(
            true_pairs * 10 >= fit.pairs.len() * 9,
            "{true_pairs} of {}",
            fit.pairs.len()
        );
        worst = worst.max(rmsd);
    }
    eprintln!("worst RMSD {worst:.3} Å");
}

/// (b) The real cloud of the 3D CNN on the EMD-2566 cut-out against the
/// deposited chain placed 50 Å away and rotated: after the fit the chain lies
/// where it was deposited.
#[test]
fn fit_places_the_deposited_chain_into_the_cnn_cloud_of_emd2566() {
    let native = chain_3j6b_9();
    let map = mapfold::io::mrc::read_map(&fixture("emd2566_3j6b_9.mrc")).unwrap();
    let (net_a, _) = mapfold::cnn::bundled::networks().unwrap();
    // Network A alone keeps the test quick; the fit does not care which
    // network drew the cloud.
    let det = CaDetector::new(net_a, None).unwrap();
    let t0 = Instant::now();
    let cloud = det
        .detect(&map, native.len(), Backend::Cpu)
        .unwrap()
        .cloud
        .points;
    let cnn_s = t0.elapsed().as_secs_f64();
    let deposited = crscore(&native, &cloud);
    let rot = Rotation3::from_euler_angles(-2.2, 0.9, 1.7);
    let template = moved(&native, rot, Vec3::new(50.0, 0.0, 0.0));
    let t1 = Instant::now();
    let fit = fit_to_cloud(&template, &cloud).expect("a fit");
    let fit_s = t1.elapsed().as_secs_f64();
    let placed: Vec<Vec3> = template.iter().map(|p| fit.transform.apply(p)).collect();
    let rmsd = rmsd_in_place(&placed, &native);
    let placed_cr = crscore(&placed, &cloud);
    eprintln!(
        "EMD-2566: {} cloud atoms (CNN {cnn_s:.1} s); deposited chain CRscore {deposited:.3}; after the fit {placed_cr:.3}, Cα RMSD to the deposited placement {rmsd:.3} Å ({} pairs, {fit_s:.3} s)",
        cloud.len(),
        fit.pairs.len()
    );
    assert!(rmsd < 2.0, "RMSD {rmsd}");
    assert!(placed_cr > deposited - 0.03, "{placed_cr} vs {deposited}");
    assert!((fit.crscore - placed_cr).abs() < 1e-9);
}

/// (c) Threading templates of a few test targets re-ranked by CRscore against
/// a pseudo-cloud of the native (85% of its Cα, shuffled, 1 Å noise): the
/// first template by CRscore is on average at least as good (TM-score to the
/// native) as the first by Zn.
#[test]
fn reranking_by_crscore_picks_better_first_templates() {
    let Some(data) = mapfold::data::shared_data_for_test("reranking_by_crscore") else {
        return;
    };
    let t0 = Instant::now();
    let files = library::split_files(&data, &["train".into(), "validation".into()]).unwrap();
    let lib = Library::build(&files).unwrap();
    let stats = LibraryStats::of(&lib);
    let ssp = SsPredictor::bundled().unwrap();
    let targets = mapfold::bench::read_targets(&data, "test-hard").unwrap();
    let build_s = t0.elapsed().as_secs_f64();
    let top = 40;
    let (mut sum_zn, mut sum_cr, mut sum_best, mut n) = (0.0, 0.0, 0.0, 0);
    let mut fit_s = 0.0;
    for t in targets.iter().step_by(12).take(5) {
        let s = mapfold::io::read_structure(&t.path(&data)).unwrap();
        let chain = library::pick_chain(&s, &t.id).unwrap();
        let native = chain.ca_coords();
        let seq = mapfold::sequence::canonical_sequence(chain);
        let query = Query::new(&t.id, &seq, &ssp);
        let opts = SearchOptions {
            top,
            exclude_ids: vec![t.id.clone()],
            exclude_identity: Some(0.3),
            ..SearchOptions::default()
        };
        let res = thread(&query, &lib, &stats, &opts);
        let models: Vec<TemplateModel> = res
            .hits
            .iter()
            .map(|h| TemplateModel::from_hit(h, &lib, native.len()))
            .collect();
        if models.is_empty() {
            continue;
        }
        let cloud = noisy_cloud(&native, 0.85, 1.0 / 3f64.sqrt(), 11);
        let t1 = Instant::now();
        let placed = superpose_all(&models, &cloud, &ReselectOptions::default().fit);
        fit_s += t1.elapsed().as_secs_f64();
        let tm = |m: &TemplateModel| {
            let (a, b): (Vec<Vec3>, Vec<Vec3>) = m
                .aligned_pairs()
                .into_iter()
                .map(|(i, p)| (p, native[i]))
                .unzip();
            if a.len() < 3 {
                0.0
            } else {
                tm_score_paired(&a, &b, native.len()).tm_score
            }
        };
        let tm_zn = tm(&models[0]);
        let best_cr = placed
            .iter()
            .flatten()
            .max_by(|a, b| a.crscore.unwrap().total_cmp(&b.crscore.unwrap()))
            .unwrap();
        let tm_cr = tm(best_cr);
        let tm_best = models.iter().map(tm).fold(0.0, f64::max);
        // After the fit the template sits on the native: its Cα are close to
        // the native Cα of the same residues when the template is good.
        let in_place = best_cr
            .aligned_pairs()
            .iter()
            .filter(|(i, p)| (p - native[*i]).norm() < 5.0)
            .count();
        eprintln!(
            "{} (L {}): first by Zn TM {tm_zn:.3} (Zn {:.2}); first by CRscore TM {tm_cr:.3} (CRscore {:.3}, {} Cα within 5 Å of their native residue, {}); best of top {top} TM {tm_best:.3}",
            t.id,
            native.len(),
            models[0].zscore,
            best_cr.crscore.unwrap(),
            in_place,
            best_cr.template_id
        );
        assert_eq!(best_cr.source, Source::Reselected);
        sum_zn += tm_zn;
        sum_cr += tm_cr;
        sum_best += tm_best;
        n += 1;
    }
    assert!(n >= 3, "only {n} targets threaded");
    let nf = n as f64;
    eprintln!(
        "{n} test-hard targets, top {top} templates: mean first-template TM by Zn {:.3}, by CRscore {:.3}, best {:.3}; library {build_s:.1} s, fitting {fit_s:.2} s",
        sum_zn / nf,
        sum_cr / nf,
        sum_best / nf
    );
    assert!(
        sum_cr >= sum_zn,
        "CRscore ranking {sum_cr} < Zn ranking {sum_zn}"
    );
}

/// The paper's selection rule on the real chain: templates are kept only above
/// CRscore 0.5, best first, at most max_keep.
#[test]
fn reselect_keeps_good_templates_best_first() {
    let native = chain_3j6b_9();
    let cloud = noisy_cloud(&native, 0.9, 0.5, 3);
    let model = |ca: Vec<Option<Vec3>>, id: &str| TemplateModel {
        source: Source::Threading,
        template_id: id.into(),
        zscore: 1.0,
        ca,
        crscore: None,
        density_pcc: None,
    };
    let rot = Rotation3::from_euler_angles(0.3, 2.0, -1.0);
    let full: Vec<Option<Vec3>> = moved(&native, rot, Vec3::new(0.0, 80.0, 0.0))
        .into_iter()
        .map(Some)
        .collect();
    // The first 60% of the chain only, the rest absent.
    let mut part = full.clone();
    for p in part.iter_mut().skip(native.len() * 6 / 10) {
        *p = None;
    }
    // The chain's mirror image: the same intra-distances (so the same
    // fingerprints) but no proper rotation puts it on the cloud.
    let mirror: Vec<Option<Vec3>> = full
        .iter()
        .map(|p| p.map(|q| Vec3::new(-q.x, q.y, q.z)))
        .collect();
    let two = vec![Some(native[0]), Some(native[1])]
        .into_iter()
        .chain(std::iter::repeat_n(None, native.len() - 2))
        .collect();
    let models = vec![
        model(part, "part"),
        model(mirror, "mirror"),
        model(full, "full"),
        model(two, "two"),
    ];
    let all = superpose_all(&models, &cloud, &ReselectOptions::default().fit);
    assert!(all[3].is_none(), "two atoms cannot be fitted");
    let scores: Vec<f64> = all.iter().flatten().map(|m| m.crscore.unwrap()).collect();
    eprintln!("CRscores part, mirror, full: {scores:.3?}");
    // CRscore ignores residue order, so the mirror image, whose shape is close
    // to the native's over much of the chain, can outscore a correct partial
    // template; the complete correct chain must still come first.
    assert!(scores[2] > scores[1] && scores[2] > scores[0]);
    let kept = reselect(&models, &cloud, &ReselectOptions::default());
    let ids: Vec<&str> = kept.iter().map(|m| m.template_id.as_str()).collect();
    assert_eq!(ids[0], "full", "{ids:?}");
    assert!(ids.contains(&"part"), "{ids:?}");
    assert!(kept
        .iter()
        .all(|m| m.crscore.unwrap() > 0.5 && m.source == Source::Reselected));
    assert!(kept.windows(2).all(|w| w[0].crscore >= w[1].crscore));
    // The partial template sits where its residues are in the native.
    let part = kept.iter().find(|m| m.template_id == "part").unwrap();
    let (a, b): (Vec<Vec3>, Vec<Vec3>) = part
        .aligned_pairs()
        .into_iter()
        .map(|(i, p)| (p, native[i]))
        .unzip();
    assert!(rmsd_in_place(&a, &b) < 1.0);
    let one = reselect(
        &models,
        &cloud,
        &ReselectOptions {
            max_keep: 1,
            ..ReselectOptions::default()
        },
    );
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].template_id, "full");
    // The kept full chain sits where the native does.
    let placed: Vec<Vec3> = one[0].ca.iter().map(|p| p.unwrap()).collect();
    assert!(rmsd_in_place(&placed, &native) < 1.0);
}

/// Threading templates cover part of the query: the first 80%, 60% and 40% of
/// the chain, moved away, must still land on their place in a cloud of 90% of
/// the chain's Cα (shuffled, 0.5 Å noise).
#[test]
fn fit_places_partial_chains() {
    let native = chain_3j6b_9();
    let cloud = noisy_cloud(&native, 0.9, 0.5, 3);
    let rot = Rotation3::from_euler_angles(1.1, -0.4, 2.6);
    for frac in [8, 6, 4] {
        let part = &native[..native.len() * frac / 10];
        let template = moved(part, rot, Vec3::new(-20.0, 35.0, 10.0));
        let fit = fit_to_cloud(&template, &cloud).expect("a fit");
        let back: Vec<Vec3> = template.iter().map(|p| fit.transform.apply(p)).collect();
        let rmsd = rmsd_in_place(&back, part);
        eprintln!(
            "first {}0% ({} Cα): RMSD to the original {rmsd:.3} Å, CRscore {:.3} (per cloud atom)",
            frac,
            part.len(),
            fit.crscore
        );
        assert!(rmsd < 1.0, "{frac}0%: RMSD {rmsd}");
    }
}

/// Threading's Easy label rests on a Z-score; the template stage overrules it
/// when no threading template fits the Cα cloud. Validation chain 2QXV (352
/// aa), labelled Easy here whatever threading says: none of its templates
/// (library train + validation, homologs of identity ≥ 0.3 excluded, as `bench
/// build` runs validation chains) fits a cloud of its own Cα, so the stage
/// models it as Hard and the Cα traces go first. A chain with a fitting
/// template (d1jl7a, 147 aa) stays on the Easy path, and with the rule off
/// 2QXV does too. In a 10 Å map the label stands, and 2QXV's starting models
/// are threading's templates fitted into the map, not traces.
#[test]
fn an_easy_label_with_no_template_fitting_the_cloud_is_modelled_as_hard() {
    use mapfold::ca::CaCloud;
    use mapfold::template::select::{select_templates, SelectInputs, SelectOptions};
    use mapfold::threading::search::Difficulty;
    let Some(data) = mapfold::data::shared_data_for_test("easy_label_overruled") else {
        return;
    };
    let files = library::split_files(&data, &["train".into(), "validation".into()]).unwrap();
    let lib = Library::build(&files).unwrap();
    let stats = LibraryStats::of(&lib);
    let ssp = SsPredictor::bundled().unwrap();
    let targets = mapfold::bench::read_targets(&data, "validation").unwrap();
    // Threading, map and cloud of a chain, labelled Easy.
    struct Prepared {
        resolution: f64,
        native: Vec<Vec3>,
        sequence: String,
        threading: mapfold::threading::search::SearchResult,
        map: mapfold::map::DensityMap,
        cloud: CaCloud,
        ss: Vec<[f32; 3]>,
    }
    let inputs = |id: &str, resolution: f64| {
        let t = targets.iter().find(|t| t.id == id).unwrap();
        let tc = mapfold::bench::TargetChain::load(&data, t).unwrap();
        let query = Query::new(id, &tc.sequence, &ssp);
        let search = SearchOptions {
            exclude_ids: vec![id.to_string()],
            exclude_identity: Some(0.3),
            ..SearchOptions::default()
        };
        let mut threading = thread(&query, &lib, &stats, &search);
        threading.difficulty = Difficulty::Easy;
        let map = mapfold::map::simulate::simulate_box(
            tc.structure().atoms(),
            resolution,
            resolution / 3.0,
            8.0,
            Backend::Cpu,
        )
        .unwrap();
        let points = noisy_cloud(&tc.native, 0.9, 0.3, 5);
        let cloud = CaCloud {
            scores: vec![1.0; points.len()],
            points,
        };
        Prepared {
            resolution,
            native: tc.native.clone(),
            ss: ssp.predict(&tc.sequence),
            sequence: tc.sequence,
            threading,
            map,
            cloud,
        }
    };
    let run = |id: &str, p: &Prepared, opts: &SelectOptions| {
        let sel = select_templates(
            &SelectInputs {
                sequence: &p.sequence,
                map: &p.map,
                resolution: p.resolution,
                cloud: &p.cloud,
                cloud_trusted: true,
                cloud_spread: Some(0.2),
                threading: &p.threading,
                library: &lib,
                contacts: None,
                predicted_ss: Some(&p.ss),
                topology: &mapfold::topology::Topology::single(p.sequence.chars().count()),
            },
            opts,
        )
        .unwrap();
        let best_fit = sel
            .models
            .iter()
            .filter_map(|m| m.crscore)
            .fold(0.0, f64::max);
        eprintln!(
            "{id}: {} re-selected (best CRscore {best_fit:.3}), overruled {}, first model {:?}",
            sel.n_reselected, sel.easy_overruled, sel.models[0].source
        );
        sel
    };
    let qxv = inputs("0269_pesto_2QXV_A_A", 3.0);
    let jl7 = inputs("0194_old_foldseek_d1jl7a__A", 3.0);
    let opts = SelectOptions::default();
    let sel = run("2QXV", &qxv, &opts);
    assert!(sel.easy_overruled);
    assert_eq!(
        sel.difficulty,
        Difficulty::Easy,
        "the label is reported as threading gave it"
    );
    assert_eq!(sel.models[0].source, Source::Regenerated);
    let sel = run("d1jl7a", &jl7, &opts);
    assert!(!sel.easy_overruled);
    assert_eq!(sel.models[0].source, Source::Reselected);
    // The first re-selected template's gaps are filled by Hard-style traces:
    // the composite leads, holds the template's residues where the template
    // has them, and adds residues, mostly on their own native Cα. To make a
    // gap, every threading alignment starts at residue 26 of 147 (and the
    // label stands, though the shorter templates fit the cloud less well).
    let mut cut = inputs("0194_old_foldseek_d1jl7a__A", 3.0);
    for h in &mut cut.threading.hits {
        h.alignment.pairs.retain(|&(q, _)| q >= 25);
    }
    let easy = SelectOptions {
        easy_min_crscore: None,
        ..SelectOptions::default()
    };
    let sel = run("d1jl7a, cut", &cut, &easy);
    let plain = run(
        "d1jl7a, cut, no composite",
        &cut,
        &SelectOptions {
            easy_composite_traces: 0,
            ..easy
        },
    );
    assert_ne!(plain.models[0].template_id, "composite");
    assert_eq!(sel.models[0].template_id, "composite");
    assert_eq!(sel.models[1].template_id, plain.models[0].template_id);
    let (mut lent, mut right) = (0, 0);
    for (r, (c, t)) in sel.models[0].ca.iter().zip(&plain.models[0].ca).enumerate() {
        match (c, t) {
            (Some(c), Some(t)) => assert_eq!(c, t, "residue {r} moved"),
            (None, Some(_)) => panic!("residue {r} lost"),
            (Some(c), None) => {
                lent += 1;
                right += usize::from((c - jl7.native[r]).norm() < 3.0);
            }
            (None, None) => {}
        }
    }
    eprintln!(
        "d1jl7a, cut: the traces lend {lent} residues, {right} within 3 Å of their own native Cα"
    );
    assert!(lent >= 5);
    assert!(right as f64 >= 0.5 * lent as f64);
    let sel = run(
        "d1jl7a",
        &jl7,
        &SelectOptions {
            easy_composite_traces: 0,
            ..SelectOptions::default()
        },
    );
    // With `extend`, the re-selected templates' unaligned residues are filled
    // along the cloud's likely paths, mostly where the native chain has them.
    let longer = run(
        "d1jl7a, extended",
        &jl7,
        &SelectOptions {
            extend: true,
            easy_composite_traces: 0,
            ..SelectOptions::default()
        },
    );
    let (mut added, mut right) = (0, 0);
    for (a, b) in longer.models.iter().zip(&sel.models) {
        assert_eq!(a.template_id, b.template_id);
        for (r, (x, y)) in a.ca.iter().zip(&b.ca).enumerate() {
            match (x, y) {
                (Some(x), None) => {
                    added += 1;
                    right += usize::from((x - jl7.native[r]).norm() < 2.0);
                }
                (None, Some(_)) => panic!("residue {r} lost"),
                _ => {}
            }
        }
    }
    eprintln!("d1jl7a: {added} residues added, {right} within 2 Å of their own native Cα");
    assert!(added > 0);
    assert!(right as f64 >= 0.5 * added as f64);

    let off = SelectOptions {
        easy_min_crscore: None,
        ..SelectOptions::default()
    };
    let sel = run("2QXV", &qxv, &off);
    assert!(!sel.easy_overruled);

    // In a 10 Å map the label stands. With no threading template fitting
    // the cloud, threading's templates are fitted into the map rather than
    // 40 Cα traces grown from a cloud with no register, in threading's
    // order; with the rule off they are traces.
    let coarse = inputs("0269_pesto_2QXV_A_A", 10.0);
    let sel = run("2QXV at 10 Å", &coarse, &opts);
    assert!(!sel.easy_overruled);
    assert_eq!(sel.n_reselected, 0);
    assert_eq!((sel.n_regenerated, sel.n_fitted), (0, 40));
    assert!(sel.models.iter().all(|m| m.source == Source::Fitted));
    assert_eq!(
        sel.models[0].template_id, coarse.threading.hits[0].template_id,
        "the fits keep threading's order"
    );
    let traces = SelectOptions {
        coarse_easy_fit: false,
        ..SelectOptions::default()
    };
    let sel = run("2QXV at 10 Å, rule off", &coarse, &traces);
    assert!(sel.n_regenerated > 0);
    assert_eq!(sel.models[0].source, Source::Regenerated);
}
