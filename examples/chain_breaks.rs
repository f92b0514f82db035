//! How many chains of the data set are broken: per split, the chains with a
//! Cα–Cα step over 4.3 Å (the full-atom builder's and the benchmarks' break,
//! [`mapfold::fullatom::backbone::MAX_CA_STEP`]) and over 15 Å (two chains
//! under one letter rather than a missing loop). The benchmarks write such
//! chains as one FASTA record per unbroken stretch ([`TargetChain::fasta`]).
//! A diagnostic of the data: nothing is tuned on it.
//!
//! `cargo run --release --example chain_breaks` (needs `../shared/data` or
//! `$MAPFOLD_DATA`).

use mapfold::bench::{read_targets, TargetChain};
use mapfold::fullatom::backbone::MAX_CA_STEP;

fn main() -> anyhow::Result<()> {
    let dir = mapfold::data::shared_data_dir().ok_or_else(|| {
        anyhow::anyhow!("../shared/data not found (set MAPFOLD_DATA to its path)")
    })?;
    let (mut all, mut broken, mut long) = (0, 0, 0);
    println!(
        "| split | chains | step > {MAX_CA_STEP} Å | step > 15 Å |\n| --- | --- | --- | --- |"
    );
    for split in ["train", "validation", "test-hard", "test-easy"] {
        let (mut n, mut b, mut l) = (0, 0, 0);
        for t in read_targets(&dir, split)? {
            let ca = TargetChain::load(&dir, &t)?.native;
            let longest = ca
                .windows(2)
                .map(|w| (w[1] - w[0]).norm())
                .fold(0.0, f64::max);
            n += 1;
            b += usize::from(longest > MAX_CA_STEP);
            l += usize::from(longest > 15.0);
        }
        println!("| {split} | {n} | {b} | {l} |");
        (all, broken, long) = (all + n, broken + b, long + l);
    }
    println!("| all | {all} | {broken} | {long} |");
    Ok(())
}
