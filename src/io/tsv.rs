//! Tab-separated tables whose first line names the columns (`structures.tsv`,
//! the benchmarks' `models.tsv`): columns are found by name, so a reader
//! survives added or reordered columns, and a missing one is an error naming
//! the file.

use std::path::Path;

use super::FileError;

/// The header line of a table, for looking columns up by name.
pub struct Header<'a> {
    path: &'a Path,
    names: Vec<&'a str>,
}

impl Header<'_> {
    /// The index of column `name`.
    pub fn col(&self, name: &str) -> Result<usize, FileError> {
        self.names
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| FileError::format(self.path, format!("no '{name}' column")))
    }
}

/// Splits `text` (read from `path`) into its header and the remaining lines.
pub fn header<'a>(
    path: &'a Path,
    text: &'a str,
) -> Result<(Header<'a>, std::str::Lines<'a>), FileError> {
    let mut lines = text.lines();
    let names = lines
        .next()
        .ok_or_else(|| FileError::format(path, "empty file"))?
        .split('\t')
        .collect();
    Ok((Header { path, names }, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_by_name_and_a_clear_error() {
        let p = Path::new("t.tsv");
        let (h, mut rest) = header(p, "id\tsplit\na\ttrain\n").unwrap();
        assert_eq!(h.col("split").unwrap(), 1);
        assert_eq!(rest.next(), Some("a\ttrain"));
        let e = h.col("length").unwrap_err().to_string();
        assert!(e.contains("t.tsv") && e.contains("length"), "{e}");
        assert!(header(p, "").is_err());
    }
}
