//! Benchmarks over the shared data set (`../shared/data`, see [`crate::data`]):
//! which chains a split holds, and per-stage evaluations that write TSV results
//! and markdown summaries.
//!
//! - [`mod@build`]: the whole pipeline, model 1 TM-score and eTM-score against the truth.
//! - [`ca`]: Cα clouds from simulated maps, scored by CRscore (eq. 1).
//! - [`cnn`]: seconds and memory of the Cα network on N³ maps.
//! - [`templates`]: first and best template TM-scores before and after the Cα-based steps.
//! - [`harness`]: `mapfold bench`, the paper's Table 1 with baselines, plots and shards.
//! - [`plot`]: SVG and PNG scatter plots of the results.
//! - [`rank`]: choosing model 1 and calibrating the eTM-score on tuning runs.
//! - [`weights`]: fitting eq. 5's weights on the decoys of tuning runs.

pub mod build;
pub mod ca;
pub mod cnn;
pub mod harness;
pub mod plot;
pub mod rank;
pub mod templates;
pub mod weights;

use std::path::{Path, PathBuf};

use crate::io::FileError;

/// One chain of `structures.tsv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub id: String,
    pub length: usize,
    pub split: String,
}

impl Target {
    /// The chain's PDB file under the data directory.
    pub fn path(&self, data_dir: &Path) -> PathBuf {
        data_dir.join("structures").join(format!("{}.pdb", self.id))
    }
}

/// Splits a `--split` name stands for: `test` is test-hard plus test-easy,
/// `all` every split, `train-homologs` the train chains ([`TRAIN_HOMOLOGS`]);
/// anything else names one split.
pub fn split_members(split: &str) -> Vec<&str> {
    match split {
        "test" => vec!["test-hard", "test-easy"],
        "all" => vec!["train", "validation", "test-hard", "test-easy"],
        TRAIN_HOMOLOGS => vec!["train"],
        s => vec![s],
    }
}

/// Train chains whose 30 %-identity cluster has other members: targets with
/// homologous templates, the tuning set for the Easy setting. Every validation
/// chain is alone in its cluster, so validation alone cannot stand in for
/// test-easy. (The Cα network and the force-field statistics were fitted on
/// train, so these chains flatter the Cα stage a little.)
pub const TRAIN_HOMOLOGS: &str = "train-homologs";

/// The chains of `split` (see [`split_members`]) in file order, from
/// `data_dir/structures.tsv`. An unknown split or a malformed table is an error
/// naming the file.
pub fn read_targets(data_dir: &Path, split: &str) -> Result<Vec<Target>, FileError> {
    let path = data_dir.join("structures.tsv");
    let text = crate::io::read_text(&path)?;
    let (header, lines) = crate::io::tsv::header(&path, &text)?;
    let col = |name: &str| header.col(name);
    let (c_id, c_len, c_split) = (col("id")?, col("length")?, col("split")?);
    // Only `train-homologs` needs the cluster size; other splits read tables without it.
    let c_cluster = if split == TRAIN_HOMOLOGS {
        Some(col("cluster30_size")?)
    } else {
        None
    };
    let wanted = split_members(split);
    let mut known = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (n, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let field = |c: usize| {
            f.get(c)
                .copied()
                .ok_or_else(|| FileError::format(&path, format!("line {}: too few columns", n + 2)))
        };
        let s = field(c_split)?;
        known.insert(s.to_string());
        let in_cluster = match c_cluster {
            Some(c) => field(c)?.parse::<usize>().unwrap_or(1) > 1,
            None => true,
        };
        if wanted.contains(&s) && in_cluster {
            let length = field(c_len)?
                .parse()
                .map_err(|_| FileError::format(&path, format!("line {}: bad length", n + 2)))?;
            out.push(Target {
                id: field(c_id)?.to_string(),
                length,
                split: s.to_string(),
            });
        }
    }
    if out.is_empty() {
        return Err(FileError::format(
            &path,
            format!(
                "no chains in split '{split}' (splits: {}, or test, all, {TRAIN_HOMOLOGS})",
                known.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok(out)
}

/// Every `stride`-th target of `split` starting at `offset` (a shard of a run
/// spread over machines), at most `limit` of them.
pub fn select_targets(
    data_dir: &Path,
    split: &str,
    stride: usize,
    offset: usize,
    limit: Option<usize>,
) -> Result<Vec<Target>, FileError> {
    let mut out: Vec<Target> = read_targets(data_dir, split)?
        .into_iter()
        .enumerate()
        .filter(|(k, _)| k % stride.max(1) == offset)
        .map(|(_, t)| t)
        .collect();
    if let Some(n) = limit {
        out.truncate(n);
    }
    Ok(out)
}

/// Sequence identity from which templates are excluded for a target of
/// `split`: test-hard chains `hard` (the paper's Hard setting, 0.3), test-easy
/// chains none; tuning chains (validation, train) their run's own cut
/// `tuning` when given, else validation chains `hard` (they are in the
/// library) and train chains none.
pub fn exclusion_identity(split: &str, hard: f64, tuning: Option<f64>) -> Option<f64> {
    match split {
        "test-hard" => Some(hard),
        "test-easy" => None,
        "validation" => tuning.or(Some(hard)),
        _ => tuning,
    }
}

/// The targets whose id contains one of `needles` (case-insensitive), in
/// their order; all of them when `needles` is empty. A needle that matches
/// none is an error, so that a typo does not silently run nothing.
pub fn only_targets(targets: Vec<Target>, needles: &[String]) -> anyhow::Result<Vec<Target>> {
    if needles.is_empty() {
        return Ok(targets);
    }
    let hit = |t: &Target, n: &str| t.id.to_lowercase().contains(&n.to_lowercase());
    if let Some(n) = needles.iter().find(|n| !targets.iter().any(|t| hit(t, n))) {
        anyhow::bail!("--targets: no target id contains '{n}' in this split and shard");
    }
    Ok(targets
        .into_iter()
        .filter(|t| needles.iter().any(|n| hit(t, n)))
        .collect())
}

/// A target's chain as the benchmarks use it: the chain, its Cα in order, and
/// its canonical sequence (one letter per Cα).
pub struct TargetChain {
    pub chain: crate::structure::Chain,
    pub native: Vec<crate::Vec3>,
    pub sequence: String,
}

impl TargetChain {
    pub fn load(data_dir: &Path, t: &Target) -> Result<TargetChain, FileError> {
        let path = t.path(data_dir);
        let s = crate::io::read_structure(&path)?;
        let chain = crate::threading::library::pick_chain(&s, &t.id)
            .ok_or_else(|| FileError::format(&path, "no protein chain"))?
            .clone();
        Ok(TargetChain {
            native: chain.ca_coords(),
            sequence: crate::sequence::canonical_sequence(&chain),
            chain,
        })
    }

    /// The FASTA file a benchmark run reads: the sequence cut into one
    /// record per unbroken stretch of the deposited chain (no Cα–Cα step
    /// over [`crate::fullatom::backbone::MAX_CA_STEP`]), named `name_1`,
    /// `name_2`, …; a chain with no break is one record named `name`. The
    /// residues missing at a break are not in the sequence, so joining the
    /// stretches end to end would ask the model for bonds that no protein
    /// has: a user's sequence would hold the missing residues, or the
    /// chains of a complex as records of their own.
    pub fn fasta(&self, name: &str) -> String {
        let letters: Vec<char> = self.sequence.chars().collect();
        let mut cuts = vec![0];
        cuts.extend((1..self.native.len()).filter(|&i| {
            (self.native[i] - self.native[i - 1]).norm() > crate::fullatom::backbone::MAX_CA_STEP
        }));
        cuts.push(letters.len());
        if cuts.len() == 2 || letters.len() != self.native.len() {
            return format!(">{name}\n{}\n", self.sequence);
        }
        cuts.windows(2)
            .enumerate()
            .map(|(k, w)| {
                let part: String = letters[w[0]..w[1]].iter().collect();
                format!(">{name}_{}\n{part}\n", k + 1)
            })
            .collect()
    }

    /// The chain alone as a structure (for density simulation).
    pub fn structure(&self) -> crate::structure::Structure {
        crate::structure::Structure {
            chains: vec![self.chain.clone()],
            ..Default::default()
        }
    }
}

/// Rows grouped for a summary table: for each split of `splits` and each
/// resolution present, in ascending order, the rows of that split and
/// resolution (empty groups left out).
pub fn groups<'a, R>(
    rows: &'a [R],
    splits: &[&'static str],
    split_of: impl Fn(&R) -> &str,
    resolution_of: impl Fn(&R) -> f64,
) -> Vec<(&'static str, f64, Vec<&'a R>)> {
    let mut res: Vec<f64> = rows.iter().map(&resolution_of).collect();
    res.sort_by(f64::total_cmp);
    res.dedup();
    let mut out = Vec::new();
    for &split in splits {
        for &r in &res {
            let sel: Vec<&R> = rows
                .iter()
                .filter(|x| split_of(x) == split && resolution_of(x) == r)
                .collect();
            if !sel.is_empty() {
                out.push((split, r, sel));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_chains_keep_the_papers_exclusion_and_tuning_chains_their_runs() {
        assert_eq!(exclusion_identity("test-hard", 0.3, Some(0.5)), Some(0.3));
        assert_eq!(exclusion_identity("test-easy", 0.3, Some(0.5)), None);
        assert_eq!(exclusion_identity("validation", 0.3, None), Some(0.3));
        assert_eq!(exclusion_identity("validation", 0.3, Some(0.5)), Some(0.5));
        assert_eq!(exclusion_identity("train", 0.3, None), None);
        assert_eq!(exclusion_identity("train", 0.3, Some(0.5)), Some(0.5));
    }

    #[test]
    fn targets_are_picked_by_part_of_their_id() {
        let t = |id: &str| Target {
            id: id.into(),
            length: 10,
            split: "train".into(),
        };
        let all = vec![
            t("0224_old_homstrad_1fngb_A"),
            t("0135_old_psicov_1bdo_A"),
            t("x"),
        ];
        let ids = |v: Vec<Target>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();
        assert_eq!(ids(only_targets(all.clone(), &[]).unwrap()).len(), 3);
        let picked = only_targets(all.clone(), &["1BDO".into(), "1fngb".into()]).unwrap();
        assert_eq!(
            ids(picked),
            ["0224_old_homstrad_1fngb_A", "0135_old_psicov_1bdo_A"]
        );
        let err = only_targets(all, &["1fngb".into(), "2xyz".into()]).unwrap_err();
        assert!(err.to_string().contains("'2xyz'"), "{err}");
    }

    /// 3J6B chain 9 has four breaks (2, 13, 1 and 2 residues missing): five
    /// records, whose residues together are the chain's.
    #[test]
    fn a_broken_chain_is_written_as_one_record_per_stretch() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/3j6b_9.pdb");
        let s = crate::io::read_structure(&p).unwrap();
        let chain = s.chains[0].clone();
        let tc = TargetChain {
            native: chain.ca_coords(),
            sequence: crate::sequence::canonical_sequence(&chain),
            chain,
        };
        let text = tc.fasta("t");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t.fasta");
        std::fs::write(&f, &text).unwrap();
        let recs = crate::io::fasta::read_fasta(&f).unwrap();
        let ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["t_1", "t_2", "t_3", "t_4", "t_5"]);
        let lens: Vec<usize> = recs.iter().map(|r| r.residues.len()).collect();
        assert_eq!(lens, [32, 64, 42, 42, 15]);
        let (seq, topology) = crate::pipeline::query_of(&recs);
        assert_eq!(seq, tc.sequence);
        assert_eq!(topology.n_chains(), 5);
    }

    #[test]
    fn test_split_is_the_ninety_benchmark_chains() {
        let Some(dir) =
            crate::data::shared_data_for_test("test_split_is_the_ninety_benchmark_chains")
        else {
            return;
        };
        let t = read_targets(&dir, "test").unwrap();
        assert_eq!(t.len(), 90);
        assert_eq!(t.iter().filter(|t| t.split == "test-hard").count(), 60);
        assert!(t.iter().all(|t| t.path(&dir).is_file()));
        let e = read_targets(&dir, "tset").unwrap_err().to_string();
        assert!(
            e.contains("structures.tsv") && e.contains("test-hard"),
            "{e}"
        );
    }
}
