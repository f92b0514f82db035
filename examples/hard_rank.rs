//! Which of threading's templates would serve a Hard target in a coarse map,
//! and could the map tell? For every N-th validation chain (mostly Hard), one
//! map as the test harness makes it (noise, voxel R/3, off-centre box) at
//! resolution R, the Cα cloud, threading (identity < 30 %), and then for each
//! of threading's hits: its rank and Z-score, its aligned length, its CRscore
//! against the cloud (eq. 3–4), the PCC of its rigid fit into the map (the top
//! K hits only), its TM-score against the native by residue index (what the
//! assembly gets from it), and the TM-align score of its whole chain against
//! the native (is the fold right, whatever the alignment). One TSV row per
//! hit on stdout. A diagnostic on tuning chains: nothing is tuned on test.
//!
//! `cargo run --release --example hard_rank -- LIBRARY R [N] [OFFSET] [LIMIT] [K]`
//! (needs `../shared/data` or `$MAPFOLD_DATA`).

use mapfold::bench::harness::maps::{simulate, MapSettings, ResolutionBin};
use mapfold::bench::templates::model_tm;
use mapfold::bench::{exclusion_identity, select_targets, TargetChain};
use mapfold::ca::detect::CaDetector;
use mapfold::geom::tmalign::tm_align;
use mapfold::gpu::Backend;
use mapfold::template::reselect::{reselect, ReselectOptions};
use mapfold::template::rigid_fit::{fit_all, FitOptions};
use mapfold::template::TemplateModel;
use mapfold::threading::library::Library;
use mapfold::threading::scoring::LibraryStats;
use mapfold::threading::search::{thread, Query, SearchOptions};
use mapfold::threading::ssp::SsPredictor;
use rayon::prelude::*;

/// Argument `i`, or `default` when absent; an argument that does not parse
/// is an error naming it.
fn arg<T: std::str::FromStr>(i: usize, default: T) -> anyhow::Result<T> {
    match std::env::args().nth(i) {
        None => Ok(default),
        Some(s) => s
            .parse()
            .map_err(|_| anyhow::anyhow!("argument {i}: cannot read {s:?}")),
    }
}

fn main() -> anyhow::Result<()> {
    let lib_path: String = arg(1, String::new())?;
    anyhow::ensure!(
        !lib_path.is_empty(),
        "usage: hard_rank LIBRARY R [N] [OFFSET] [LIMIT] [K]"
    );
    let res: f64 = arg(2, 10.0)?;
    let (stride, offset, limit, k): (usize, usize, usize, usize) =
        (arg(3, 4)?, arg(4, 0)?, arg(5, 8)?, arg(6, 60)?);
    let dir = mapfold::data::shared_data_dir().ok_or_else(|| {
        anyhow::anyhow!("../shared/data not found (set MAPFOLD_DATA to its path)")
    })?;
    let lib = Library::read(std::path::Path::new(&lib_path))?;
    let stats = LibraryStats::of(&lib);
    let predictor = SsPredictor::bundled().map_err(anyhow::Error::msg)?;
    let (a, b) = mapfold::cnn::bundled::networks().map_err(anyhow::Error::msg)?;
    let detector = CaDetector::new(a, b)?;
    println!(
        "target\tlength\tlabel\trank\ttemplate\tzn\tidentity\taligned\tcrscore\tpcc\ttm\ttmalign"
    );
    for t in select_targets(&dir, "validation", stride, offset, Some(limit))? {
        let tc = TargetChain::load(&dir, &t)?;
        let (native, seq) = (&tc.native, &tc.sequence);
        let bin = ResolutionBin { lo: res, hi: res };
        let map = simulate(
            &tc.structure(),
            &t.id,
            bin,
            0,
            &MapSettings::default(),
            Backend::Cpu,
        )?
        .map;
        let found = detector.detect(&map, seq.len(), Backend::Cpu)?;
        let search = SearchOptions {
            exclude_ids: vec![t.id.clone()],
            exclude_identity: exclusion_identity(&t.split, 0.3, None),
            ..SearchOptions::default()
        };
        let threading = thread(&Query::new(&t.id, seq, &predictor), &lib, &stats, &search);
        let models: Vec<TemplateModel> = threading
            .hits
            .iter()
            .map(|h| TemplateModel::from_hit(h, &lib, seq.len()))
            .collect();
        let all = ReselectOptions {
            max_keep: usize::MAX,
            min_crscore: f64::NEG_INFINITY,
            ..ReselectOptions::default()
        };
        let cr: std::collections::HashMap<String, f64> =
            reselect(&models, &found.cloud.points, &all)
                .into_iter()
                .map(|m| (m.template_id.clone(), m.crscore.unwrap_or(0.0)))
                .collect();
        let top: Vec<TemplateModel> = models.iter().take(k).cloned().collect();
        let pcc: std::collections::HashMap<String, f64> =
            fit_all(&top, &map, res, usize::MAX, &FitOptions::default())?
                .into_iter()
                .map(|m| (m.template_id.clone(), m.density_pcc.unwrap_or(0.0)))
                .collect();
        let rows: Vec<String> = threading
            .hits
            .par_iter()
            .zip(models.par_iter())
            .enumerate()
            .map(|(i, (h, m))| {
                let c = &lib.chains[h.template];
                let tma = tm_align(
                    native,
                    seq.as_bytes(),
                    &c.ca_coords(),
                    c.sequence.as_bytes(),
                )
                .tm_score_1;
                format!(
                    "{}\t{}\t{}\t{}\t{}\t{:.3}\t{:.3}\t{}\t{:.4}\t{}\t{:.4}\t{:.4}",
                    t.id,
                    native.len(),
                    threading.difficulty.as_str(),
                    i,
                    h.template_id,
                    h.zn,
                    h.identity,
                    m.aligned_len(),
                    cr.get(&h.template_id).copied().unwrap_or(f64::NAN),
                    pcc.get(&h.template_id)
                        .map_or("nan".to_string(), |p| format!("{p:.4}")),
                    model_tm(m, native),
                    tma
                )
            })
            .collect();
        for r in rows {
            println!("{r}");
        }
        eprintln!("{} done", t.id);
    }
    Ok(())
}
