//! The twenty amino acids as the rebuild sees them: side-chain heavy atoms in
//! PDB order, the atoms that define χ1, χ2, ..., how each χ is binned into
//! rotamer states, and the atom pairs whose names are interchangeable.

/// How a χ angle is cut into rotamer states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChiKind {
    /// sp3–sp3 bond: three wells (g+, t, g-), bins centred on 60°, 180°, 300°.
    Staggered,
    /// A terminal planar group without symmetry (Asn, Gln amide, His, Trp rings):
    /// six 60° bins centred on 0°, 60°, ...
    Planar,
    /// A terminal planar group with a 2-fold flip (Phe, Tyr rings, Asp, Glu
    /// carboxylates): folded into [0°, 180°), three 60° bins.
    Symmetric,
}

impl ChiKind {
    pub fn n_bins(self) -> u32 {
        match self {
            ChiKind::Staggered | ChiKind::Symmetric => 3,
            ChiKind::Planar => 6,
        }
    }

    /// The bin of an angle in degrees (any range).
    pub fn bin(self, deg: f64) -> u32 {
        let d = deg.rem_euclid(360.0);
        let b = match self {
            ChiKind::Staggered => d / 120.0,
            ChiKind::Planar => (d + 30.0).rem_euclid(360.0) / 60.0,
            ChiKind::Symmetric => d.rem_euclid(180.0) / 60.0,
        };
        (b as u32).min(self.n_bins() - 1)
    }
}

/// One residue type.
#[derive(Debug)]
pub struct ResidueDef {
    pub code: char,
    pub name: &'static str,
    /// Side-chain heavy atoms, CB first (empty for Gly).
    pub side: &'static [&'static str],
    /// The last atom of χ1, χ2, ...: χk is the dihedral of atoms k..k+3 of
    /// N, CA, CB, `chi[0]`, `chi[1]`, ...
    pub chi: &'static [(&'static str, ChiKind)],
    /// Atom names that swap under the symmetric flip (equivalent by symmetry).
    pub swaps: &'static [(&'static str, &'static str)],
}

use ChiKind::{Planar as P, Staggered as S, Symmetric as Y};

/// The twenty standard residues in the order of [`CODES`].
pub static RESIDUES: [ResidueDef; 20] = [
    ResidueDef {
        code: 'A',
        name: "ALA",
        side: &["CB"],
        chi: &[],
        swaps: &[],
    },
    ResidueDef {
        code: 'R',
        name: "ARG",
        side: &["CB", "CG", "CD", "NE", "CZ", "NH1", "NH2"],
        chi: &[("CG", S), ("CD", S), ("NE", S), ("CZ", S)],
        swaps: &[("NH1", "NH2")],
    },
    ResidueDef {
        code: 'N',
        name: "ASN",
        side: &["CB", "CG", "OD1", "ND2"],
        chi: &[("CG", S), ("OD1", P)],
        swaps: &[],
    },
    ResidueDef {
        code: 'D',
        name: "ASP",
        side: &["CB", "CG", "OD1", "OD2"],
        chi: &[("CG", S), ("OD1", Y)],
        swaps: &[("OD1", "OD2")],
    },
    ResidueDef {
        code: 'C',
        name: "CYS",
        side: &["CB", "SG"],
        chi: &[("SG", S)],
        swaps: &[],
    },
    ResidueDef {
        code: 'Q',
        name: "GLN",
        side: &["CB", "CG", "CD", "OE1", "NE2"],
        chi: &[("CG", S), ("CD", S), ("OE1", P)],
        swaps: &[],
    },
    ResidueDef {
        code: 'E',
        name: "GLU",
        side: &["CB", "CG", "CD", "OE1", "OE2"],
        chi: &[("CG", S), ("CD", S), ("OE1", Y)],
        swaps: &[("OE1", "OE2")],
    },
    ResidueDef {
        code: 'G',
        name: "GLY",
        side: &[],
        chi: &[],
        swaps: &[],
    },
    ResidueDef {
        code: 'H',
        name: "HIS",
        side: &["CB", "CG", "ND1", "CD2", "CE1", "NE2"],
        chi: &[("CG", S), ("ND1", P)],
        swaps: &[],
    },
    ResidueDef {
        code: 'I',
        name: "ILE",
        side: &["CB", "CG1", "CG2", "CD1"],
        chi: &[("CG1", S), ("CD1", S)],
        swaps: &[],
    },
    ResidueDef {
        code: 'L',
        name: "LEU",
        side: &["CB", "CG", "CD1", "CD2"],
        chi: &[("CG", S), ("CD1", S)],
        swaps: &[],
    },
    ResidueDef {
        code: 'K',
        name: "LYS",
        side: &["CB", "CG", "CD", "CE", "NZ"],
        chi: &[("CG", S), ("CD", S), ("CE", S), ("NZ", S)],
        swaps: &[],
    },
    ResidueDef {
        code: 'M',
        name: "MET",
        side: &["CB", "CG", "SD", "CE"],
        chi: &[("CG", S), ("SD", S), ("CE", S)],
        swaps: &[],
    },
    ResidueDef {
        code: 'F',
        name: "PHE",
        side: &["CB", "CG", "CD1", "CD2", "CE1", "CE2", "CZ"],
        chi: &[("CG", S), ("CD1", Y)],
        swaps: &[("CD1", "CD2"), ("CE1", "CE2")],
    },
    ResidueDef {
        code: 'P',
        name: "PRO",
        side: &["CB", "CG", "CD"],
        chi: &[("CG", S), ("CD", S)],
        swaps: &[],
    },
    ResidueDef {
        code: 'S',
        name: "SER",
        side: &["CB", "OG"],
        chi: &[("OG", S)],
        swaps: &[],
    },
    ResidueDef {
        code: 'T',
        name: "THR",
        side: &["CB", "OG1", "CG2"],
        chi: &[("OG1", S)],
        swaps: &[],
    },
    ResidueDef {
        code: 'W',
        name: "TRP",
        side: &[
            "CB", "CG", "CD1", "CD2", "NE1", "CE2", "CE3", "CZ2", "CZ3", "CH2",
        ],
        chi: &[("CG", S), ("CD1", P)],
        swaps: &[],
    },
    ResidueDef {
        code: 'Y',
        name: "TYR",
        side: &["CB", "CG", "CD1", "CD2", "CE1", "CE2", "CZ", "OH"],
        chi: &[("CG", S), ("CD1", Y)],
        swaps: &[("CD1", "CD2"), ("CE1", "CE2")],
    },
    ResidueDef {
        code: 'V',
        name: "VAL",
        side: &["CB", "CG1", "CG2"],
        chi: &[("CG1", S)],
        swaps: &[],
    },
];

/// One-letter codes in the order of [`RESIDUES`].
pub const CODES: &str = "ARNDCQEGHILKMFPSTWYV";

/// Index into [`RESIDUES`] of a one-letter code; `None` for non-standard codes.
pub fn type_index(code: char) -> Option<usize> {
    CODES.find(code.to_ascii_uppercase())
}

/// Element symbol of a heavy atom from its PDB name (first letter suffices for
/// the atoms the rebuild writes: C, N, O, S).
pub fn element_of(name: &str) -> &'static str {
    match name.as_bytes().first() {
        Some(b'N') => "N",
        Some(b'O') => "O",
        Some(b'S') => "S",
        _ => "C",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_codes_and_chi_bins_wrap() {
        for (i, r) in RESIDUES.iter().enumerate() {
            assert_eq!(CODES.chars().nth(i), Some(r.code));
            assert_eq!(crate::structure::three_letter_code(r.code), r.name);
            for (a, _) in r.chi {
                assert!(r.side.contains(a), "{} {a}", r.name);
            }
        }
        assert_eq!(ChiKind::Staggered.bin(-60.0), 2);
        assert_eq!(ChiKind::Planar.bin(-20.0), 0);
        assert_eq!(ChiKind::Symmetric.bin(-90.0), 1);
        assert_eq!(ChiKind::Symmetric.bin(90.0), 1);
    }
}
