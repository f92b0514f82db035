//! How good a template could the library give a Hard target? For every N-th
//! test-hard chain (default every 6th), TM-align against each train and
//! validation chain of the library, and the best TM-score normalised by the
//! target's length: the fold analog that a perfect fold recognition would
//! find. Test-hard chains share < 30 % identity with every other chain of the
//! data set, so every library chain is allowed (the benchmark's Hard setting).
//! A diagnostic of the data, not of the pipeline: nothing is tuned on it.
//!
//! `cargo run --release --example library_oracle [N]` (needs `../shared/data`
//! or `$MAPFOLD_DATA`).

use mapfold::bench::{read_targets, TargetChain};
use mapfold::geom::tmalign::tm_align;
use mapfold::threading::library::{split_files, Library};
use mapfold::Vec3;
use rayon::prelude::*;

fn main() -> anyhow::Result<()> {
    let stride: usize = match std::env::args().nth(1) {
        Some(s) => s.parse()?,
        None => 6,
    };
    anyhow::ensure!(stride > 0, "N must be at least 1");
    let dir = mapfold::data::shared_data_dir().ok_or_else(|| {
        anyhow::anyhow!("../shared/data not found (set MAPFOLD_DATA to its path)")
    })?;
    let files = split_files(&dir, &["train".into(), "validation".into()])?;
    // Cα and sequence of each template once, not once per target.
    let lib: Vec<(String, Vec<Vec3>, Vec<u8>)> = Library::build(&files)?
        .chains
        .into_iter()
        .map(|c| {
            let ca = c.ca_coords();
            (c.id, ca, c.sequence.into_bytes())
        })
        .collect();
    let t0 = std::time::Instant::now();
    let (mut sum, mut n, mut above) = (0.0, 0usize, 0usize);
    for t in read_targets(&dir, "test-hard")?.iter().step_by(stride) {
        let tc = TargetChain::load(&dir, t)?;
        let seq = tc.sequence.as_bytes();
        let (best, who) = lib
            .par_iter()
            .map(|(id, ca, s)| (tm_align(&tc.native, seq, ca, s).tm_score_1, id))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .ok_or_else(|| anyhow::anyhow!("empty library"))?;
        println!(
            "{} (L {}): best library template TM {best:.3} ({who})",
            t.id,
            tc.native.len()
        );
        sum += best;
        n += 1;
        above += usize::from(best > 0.5);
    }
    println!(
        "{n} test-hard chains against {} library chains: best template TM {:.3} on average, {above} above 0.5 ({:.0} s)",
        lib.len(),
        sum / n.max(1) as f64,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
