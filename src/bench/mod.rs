//! Benchmarks over the shared data set (`../shared/data`, see [`crate::data`]):
//! which chains a split holds, and per-stage evaluations that write TSV results
//! and markdown summaries.
//!
//! - [`mod@build`]: the whole pipeline, model 1 TM-score and eTM-score against the truth.
//! - [`ca`]: Cα clouds from simulated maps, scored by CRscore (eq. 1).
//! - [`cnn`]: seconds and memory of the Cα network on N³ maps.
//! - [`templates`]: first and best template TM-scores before and after the Cα-based steps.

pub mod build;
pub mod ca;
pub mod cnn;
pub mod templates;

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
/// `all` every split; anything else names one split.
pub fn split_members(split: &str) -> Vec<&str> {
    match split {
        "test" => vec!["test-hard", "test-easy"],
        "all" => vec!["train", "validation", "test-hard", "test-easy"],
        s => vec![s],
    }
}

/// The chains of `split` (see [`split_members`]) in file order, from
/// `data_dir/structures.tsv`. An unknown split or a malformed table is an error
/// naming the file.
pub fn read_targets(data_dir: &Path, split: &str) -> Result<Vec<Target>, FileError> {
    let path = data_dir.join("structures.tsv");
    let text = crate::io::read_text(&path)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| FileError::format(&path, "empty file"))?
        .split('\t')
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| FileError::format(&path, format!("no '{name}' column")))
    };
    let (c_id, c_len, c_split) = (col("id")?, col("length")?, col("split")?);
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
        if wanted.contains(&s) {
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
                "no chains in split '{split}' (splits: {}, or test, all)",
                known.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
