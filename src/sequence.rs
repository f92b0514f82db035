//! Protein sequences: the alphabet of 20 amino acids plus X (unknown) that every
//! other module indexes by, and the record a FASTA file yields.
//!
//! Sequences in this crate are always canonical: upper case, one of the 20
//! letters in [`AMINO_ACIDS`] or `X`. [`canonical_letter`] is the one place that
//! decides how the ambiguous and rare IUPAC letters map onto them (B→D, Z→E, J→L,
//! U→C, O→K); the FASTA reader and [`canonical_sequence`] both use it.

use crate::structure::Chain;

/// The 20 standard amino acids in alphabetical order of their one-letter codes;
/// a residue's index into this array is its index in every per-residue table.
pub const AMINO_ACIDS: [char; 20] = [
    'A', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'K', 'L', 'M', 'N', 'P', 'Q', 'R', 'S', 'T', 'V', 'W',
    'Y',
];

/// Index given to `X` (unknown) by [`index_or_unknown`]: one past the 20.
pub const UNKNOWN_INDEX: usize = 20;

/// Index of a standard one-letter code in [`AMINO_ACIDS`] (upper case only).
pub fn aa_index(c: char) -> Option<usize> {
    AMINO_ACIDS.binary_search(&c).ok()
}

/// Index in [`AMINO_ACIDS`], or [`UNKNOWN_INDEX`] for anything else (`X`).
pub fn index_or_unknown(c: char) -> usize {
    aa_index(c).unwrap_or(UNKNOWN_INDEX)
}

/// The canonical letter for an upper-case IUPAC amino-acid code, `None` for a
/// character that is not one. The ambiguity codes take their most common member
/// (B Asx → D, Z Glx → E, J Xle → L); the rare genetically encoded amino acids
/// take their closest standard one (U selenocysteine → C, O pyrrolysine → K);
/// X stays X.
pub fn canonical_letter(c: char) -> Option<char> {
    match c {
        'B' => Some('D'),
        'Z' => Some('E'),
        'J' => Some('L'),
        'U' => Some('C'),
        'O' => Some('K'),
        'X' => Some('X'),
        _ => aa_index(c).map(|_| c),
    }
}

/// The chain's Cα sequence in canonical letters (modified residues such as MSE
/// already read as their parent; SEC → C, unknown residues → X).
pub fn canonical_sequence(chain: &Chain) -> String {
    chain
        .ca_sequence()
        .chars()
        .map(|c| canonical_letter(c).unwrap_or('X'))
        .collect()
}

/// One sequence of a FASTA file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceRecord {
    /// The header's first word (without the '>').
    pub id: String,
    /// The rest of the header line, trimmed.
    pub description: String,
    /// Canonical residues: the 20 letters of [`AMINO_ACIDS`] and `X`.
    pub residues: String,
}

impl SequenceRecord {
    pub fn len(&self) -> usize {
        self.residues.len()
    }

    pub fn is_empty(&self) -> bool {
        self.residues.is_empty()
    }

    /// Residue indices into [`AMINO_ACIDS`], `X` as [`UNKNOWN_INDEX`].
    pub fn indices(&self) -> Vec<usize> {
        self.residues.chars().map(index_or_unknown).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_is_sorted_and_complete() {
        assert!(AMINO_ACIDS.windows(2).all(|w| w[0] < w[1]));
        for (i, &c) in AMINO_ACIDS.iter().enumerate() {
            assert_eq!(aa_index(c), Some(i));
            assert_eq!(canonical_letter(c), Some(c));
        }
        assert_eq!(index_or_unknown('X'), UNKNOWN_INDEX);
        assert_eq!(aa_index('a'), None);
    }

    #[test]
    fn every_letter_has_a_policy() {
        // All 26 letters are IUPAC amino-acid codes; each maps into the alphabet.
        for c in 'A'..='Z' {
            let m = canonical_letter(c).unwrap();
            assert!(m == 'X' || aa_index(m).is_some(), "{c} -> {m}");
        }
        assert_eq!(canonical_letter('*'), None);
        assert_eq!(canonical_letter('-'), None);
    }

    #[test]
    fn record_indices() {
        let r = SequenceRecord {
            id: "a".into(),
            description: String::new(),
            residues: "ACXY".into(),
        };
        assert_eq!(r.indices(), vec![0, 1, 20, 19]);
        assert_eq!(r.len(), 4);
    }
}
