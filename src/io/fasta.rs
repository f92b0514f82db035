//! FASTA format: protein sequences, several records per file.
//!
//! Reading policy, so that every sequence comes out in the canonical alphabet of
//! [`crate::sequence`] (the 20 amino acids and X):
//!
//! - a record starts at a `>` line: the first word is the id, the rest the
//!   description; lines before the first `>` must be blank;
//! - lower case is accepted and upper-cased; whitespace, blank lines and Windows
//!   line endings are ignored;
//! - `X` (unknown) is kept as `X`;
//! - ambiguous and rare letters are replaced, with a warning that counts them:
//!   B (Asx) → D, Z (Glx) → E, J (Xle) → L, U (selenocysteine) → C,
//!   O (pyrrolysine) → K;
//! - `*` as the last character of a sequence is a stop codon and is dropped; a
//!   `*` anywhere else is an error;
//! - `-` and `.` (gaps of an aligned FASTA) are dropped, with a warning;
//! - digits and any other character are errors naming the record, line and column;
//! - an empty file, text before the first header, an empty header or a record
//!   without residues are errors.

use super::FileError;
use crate::sequence::{canonical_letter, SequenceRecord};
use std::collections::BTreeMap;
use std::path::Path;

/// Reads a FASTA file (gzip allowed), logging the policy's warnings.
pub fn read_fasta(path: &Path) -> Result<Vec<SequenceRecord>, FileError> {
    let text = super::read_text(path)?;
    let (records, warnings) = parse_fasta(&text).map_err(|m| FileError::format(path, m))?;
    for w in warnings {
        log::warn!("{}: {w}", path.display());
    }
    Ok(records)
}

/// A record being read, with what the policy did to it.
struct Open {
    rec: SequenceRecord,
    line: usize,
    substituted: BTreeMap<(char, char), usize>,
    gaps: usize,
    /// Where a `*` was seen, to reject one that is not at the very end.
    stop_at: Option<(usize, usize)>,
}

impl Open {
    fn label(&self) -> String {
        format!("record '{}' (line {})", self.rec.id, self.line)
    }

    fn close(self, warnings: &mut Vec<String>) -> Result<SequenceRecord, String> {
        if self.rec.residues.is_empty() {
            return Err(format!("{} has no sequence", self.label()));
        }
        if !self.substituted.is_empty() {
            let list: Vec<String> = self
                .substituted
                .iter()
                .map(|((from, to), n)| format!("{from}→{to} ×{n}"))
                .collect();
            warnings.push(format!(
                "{}: replaced non-standard letters by their canonical amino acid: {}",
                self.label(),
                list.join(", ")
            ));
        }
        if self.gaps > 0 {
            warnings.push(format!(
                "{}: dropped {} gap characters ('-' or '.'); the sequence was aligned",
                self.label(),
                self.gaps
            ));
        }
        Ok(self.rec)
    }
}

/// Parses FASTA text into records and the policy's warnings (see the module doc).
/// Errors name the record and the line and column; the caller adds the file name.
pub fn parse_fasta(text: &str) -> Result<(Vec<SequenceRecord>, Vec<String>), String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    let mut open: Option<Open> = None;
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = line.trim_end_matches('\r');
        if let Some(header) = line.trim_start().strip_prefix('>') {
            if let Some(o) = open.take() {
                records.push(o.close(&mut warnings)?);
            }
            let header = header.trim();
            let (id, description) = header
                .split_once(char::is_whitespace)
                .map_or((header, ""), |(a, b)| (a, b.trim()));
            if id.is_empty() {
                return Err(format!("line {lineno}: empty FASTA header '>'"));
            }
            open = Some(Open {
                rec: SequenceRecord {
                    id: id.to_string(),
                    description: description.to_string(),
                    residues: String::new(),
                },
                line: lineno,
                substituted: BTreeMap::new(),
                gaps: 0,
                stop_at: None,
            });
            continue;
        }
        let Some(o) = open.as_mut() else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(format!(
                "line {lineno}: sequence data before the first '>' header (not a FASTA file?)"
            ));
        };
        for (col0, c) in line.chars().enumerate() {
            let col = col0 + 1;
            if c.is_whitespace() {
                continue;
            }
            if let Some((sl, sc)) = o.stop_at {
                return Err(format!(
                    "{}: '*' (stop) at line {sl}, column {sc} is not at the end of the sequence",
                    o.label()
                ));
            }
            let up = c.to_ascii_uppercase();
            match up {
                '*' => o.stop_at = Some((lineno, col)),
                '-' | '.' => o.gaps += 1,
                _ => match canonical_letter(up) {
                    Some(m) => {
                        if m != up && up != 'X' {
                            *o.substituted.entry((up, m)).or_default() += 1;
                        }
                        o.rec.residues.push(m);
                    }
                    None => {
                        let what = if c.is_ascii_digit() {
                            "digit"
                        } else {
                            "character"
                        };
                        return Err(format!(
                            "{}: invalid {what} {c:?} at line {lineno}, column {col} (residue {})",
                            o.label(),
                            o.rec.residues.len() + 1
                        ));
                    }
                },
            }
        }
    }
    match open {
        Some(o) => records.push(o.close(&mut warnings)?),
        None => return Err("no FASTA records (no '>' header; empty file?)".into()),
    }
    Ok((records, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_records_case_blank_lines_crlf() {
        let text = "\r\n>sp|P1|A first protein\r\nacde\r\n\r\nFGH IK\r\n>B\n\nLMN\n";
        let (r, w) = parse_fasta(text).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].id, "sp|P1|A");
        assert_eq!(r[0].description, "first protein");
        assert_eq!(r[0].residues, "ACDEFGHIK");
        assert_eq!((r[1].id.as_str(), r[1].residues.as_str()), ("B", "LMN"));
        assert!(w.is_empty());
    }

    #[test]
    fn substitutions_are_applied_and_reported() {
        let (r, w) = parse_fasta(">a\nBZJUOXb\n").unwrap();
        assert_eq!(r[0].residues, "DELCKXD");
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("B→D ×2") && w[0].contains("U→C ×1"),
            "{}",
            w[0]
        );
        assert!(!w[0].contains('X'));
    }

    #[test]
    fn stop_and_gaps() {
        let (r, w) = parse_fasta(">a\nAC-D.E\nFG*\n\n>b\nKL*").unwrap();
        assert_eq!(r[0].residues, "ACDEFG");
        assert_eq!(r[1].residues, "KL");
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("2 gap"), "{}", w[0]);
        let e = parse_fasta(">a\nAC*D\n").unwrap_err();
        assert!(
            e.contains("record 'a'") && e.contains("line 2, column 3"),
            "{e}"
        );
        let e = parse_fasta(">a\nAC*\nD\n").unwrap_err();
        assert!(e.contains("not at the end"), "{e}");
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let e = parse_fasta(">a\nACD\n>b\nAC1D\n").unwrap_err();
        assert!(
            e.contains("record 'b' (line 3)") && e.contains("digit '1'"),
            "{e}"
        );
        assert!(e.contains("line 4, column 3"), "{e}");
        let e = parse_fasta(">a\nAC#D\n").unwrap_err();
        assert!(e.contains("character '#'"), "{e}");
        assert!(parse_fasta("").unwrap_err().contains("no FASTA records"));
        assert!(parse_fasta("\n \n")
            .unwrap_err()
            .contains("no FASTA records"));
        assert!(parse_fasta("ACDE\n")
            .unwrap_err()
            .contains("before the first '>'"));
        assert!(parse_fasta(">a\n>b\nAC\n")
            .unwrap_err()
            .contains("'a' (line 1) has no sequence"));
        assert!(parse_fasta(">a\nAC\n>b\n").unwrap_err().contains("'b'"));
        assert!(parse_fasta(">\nAC\n")
            .unwrap_err()
            .contains("empty FASTA header"));
        assert!(parse_fasta(">a\n*\n").unwrap_err().contains("no sequence"));
    }

    #[test]
    fn read_fasta_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.fasta.gz");
        crate::io::write_atomically(&p, b">q\nMKV\n").unwrap();
        assert_eq!(read_fasta(&p).unwrap()[0].residues, "MKV");
        let bad = dir.path().join("bad.fasta");
        crate::io::write_atomically(&bad, b">q\nMK7\n").unwrap();
        let e = read_fasta(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.fasta") && e.contains("'7'"), "{e}");
    }
}
