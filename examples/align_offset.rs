//! Diagnostic behind `SearchOptions::realign_offset`: does a positive score
//! offset in the threading DP (longer local alignments) give template models
//! closer to the native? For every N-th chain of SPLIT with threading's label
//! LABEL: threading's top K hits (ranked as always) realigned with each offset
//! under the hit's own scheme; mean TM-score (by residue index) of the first
//! hit and the best of the K, and the first hit's mean coverage. Tuning
//! splits only.
//!
//! `cargo run --release --example align_offset -- LIBRARY [N] [K] [OFFSETS] [SPLIT] [IDENTITY] [LABEL]`
//! (defaults: every 2nd chain, K 10, offsets 0,0.5,1,1.5,2,3, validation,
//! identity cut 0.3, Hard; `trainval.lib` from `mapfold library build`).

use mapfold::bench::templates::model_tm;
use mapfold::bench::{exclusion_identity, select_targets, TargetChain};
use mapfold::template::TemplateModel;
use mapfold::threading::library::Library;
use mapfold::threading::scoring::{LibraryStats, SCHEMES};
use mapfold::threading::search::{realigned, thread, Query, SearchOptions};
use mapfold::threading::ssp::SsPredictor;
use rayon::prelude::*;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .ok_or_else(|| anyhow::anyhow!("usage: align_offset LIBRARY …"))?;
    let lib = Library::read(std::path::Path::new(path))?;
    let stride: usize = args.get(2).map_or(Ok(2), |s| s.parse())?;
    let k: usize = args.get(3).map_or(Ok(10), |s| s.parse())?;
    let offsets: Vec<f32> = args
        .get(4)
        .map_or("0,0.5,1,1.5,2".to_string(), |s| s.clone())
        .split(',')
        .map(|s| s.parse())
        .collect::<Result<_, _>>()?;
    let split = args.get(5).map_or("validation", |s| s.as_str());
    let tuning: Option<f64> = args.get(6).map(|s| s.parse()).transpose()?;
    let want = args.get(7).map_or("Hard", |s| s.as_str());
    let dir = mapfold::data::shared_data_dir().ok_or_else(|| anyhow::anyhow!("no data"))?;
    let stats = LibraryStats::of(&lib);
    let predictor = SsPredictor::bundled().map_err(anyhow::Error::msg)?;
    let n_off = offsets.len();
    let (mut first, mut best, mut cov) = (vec![0.0; n_off], vec![0.0; n_off], vec![0.0; n_off]);
    let mut n = 0;
    for t in select_targets(&dir, split, stride, 0, None)? {
        let tc = TargetChain::load(&dir, &t)?;
        let (native, seq) = (&tc.native, &tc.sequence);
        let query = Query::new(&t.id, seq, &predictor);
        let search = SearchOptions {
            exclude_ids: vec![t.id.clone()],
            exclude_identity: exclusion_identity(&t.split, 0.3, tuning),
            ..SearchOptions::default()
        };
        let res = thread(&query, &lib, &stats, &search);
        if res.difficulty.as_str() != want {
            continue;
        }
        let per: Vec<(Vec<f64>, Vec<f64>)> = offsets
            .par_iter()
            .map(|&o| {
                res.hits
                    .iter()
                    .take(k)
                    .map(|h| {
                        let mut h2 = h.clone();
                        if let Some(a) = realigned(&query, &lib, &stats, &SCHEMES, h, o) {
                            h2.alignment = a;
                        }
                        let m = TemplateModel::from_hit(&h2, &lib, seq.len());
                        (model_tm(&m, native), m.coverage())
                    })
                    .unzip()
            })
            .collect();
        let line: Vec<String> = per
            .iter()
            .enumerate()
            .map(|(i, (tm, c))| {
                first[i] += tm[0];
                best[i] += tm.iter().copied().fold(0.0, f64::max);
                cov[i] += c[0];
                format!("{:.3}/{:.2}", tm[0], c[0])
            })
            .collect();
        n += 1;
        println!("{} L{} {}", t.id, native.len(), line.join(" "));
    }
    for (i, o) in offsets.iter().enumerate() {
        let d = n.max(1) as f64;
        println!(
            "offset {o}: first {:.3} best of {k} {:.3} coverage of first {:.2} (n {n})",
            first[i] / d,
            best[i] / d,
            cov[i] / d
        );
    }
    Ok(())
}
