//! The in-memory model of a macromolecular structure: chains of residues of atoms.
//!
//! Readers in [`crate::io`] fill it; writers print it. Protein chains hold only
//! polymer residues; waters and ligands are set aside in [`Structure::waters`]
//! and [`Structure::ligands`] so that geometry code never trips over them.
//! Coordinates are in ångström.

use crate::Vec3;

/// Distance in Å between consecutive Cα of a trans peptide.
pub const CA_CA: f64 = 3.80;

/// One atom. `element` is the upper-case element symbol ("C", "FE").
#[derive(Debug, Clone, PartialEq)]
pub struct Atom {
    pub serial: i64,
    pub name: String,
    pub element: String,
    pub pos: Vec3,
    pub occupancy: f64,
    pub b_factor: f64,
}

impl Atom {
    /// Atomic number from the element symbol; 6 (carbon) when the symbol is unknown,
    /// which is the least surprising amplitude for density simulation (eq. 2).
    pub fn atomic_number(&self) -> u32 {
        atomic_number(&self.element).unwrap_or(6)
    }
}

/// One residue (or ligand, or water molecule).
#[derive(Debug, Clone, PartialEq)]
pub struct Residue {
    /// Three-letter (or longer, for mmCIF ligands) residue name, upper case.
    pub name: String,
    /// Author residue number (PDB resSeq, mmCIF auth_seq_id).
    pub seq_num: i32,
    /// Insertion code, if any.
    pub ins_code: Option<char>,
    pub atoms: Vec<Atom>,
}

impl Residue {
    pub fn atom(&self, name: &str) -> Option<&Atom> {
        self.atoms.iter().find(|a| a.name == name)
    }

    /// The Cα atom's position, if the residue has one.
    pub fn ca(&self) -> Option<Vec3> {
        self.atom("CA").map(|a| a.pos)
    }

    /// One-letter code of a standard (or common modified) amino acid; 'X' otherwise.
    pub fn one_letter(&self) -> char {
        one_letter_code(&self.name).unwrap_or('X')
    }
}

/// A polymer chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// Author chain id (PDB chainID, mmCIF auth_asym_id).
    pub id: String,
    pub residues: Vec<Residue>,
}

impl Chain {
    /// Residues that have a Cα atom, in chain order.
    pub fn ca_residues(&self) -> impl Iterator<Item = &Residue> {
        self.residues.iter().filter(|r| r.ca().is_some())
    }

    /// Cα coordinates of the residues that have one, in chain order.
    pub fn ca_coords(&self) -> Vec<Vec3> {
        self.residues.iter().filter_map(|r| r.ca()).collect()
    }

    /// One-letter sequence of the residues that have a Cα atom.
    pub fn ca_sequence(&self) -> String {
        self.ca_residues().map(|r| r.one_letter()).collect()
    }
}

/// A whole structure (one model of a PDB or mmCIF file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Structure {
    pub chains: Vec<Chain>,
    /// Water molecules, with the id of the chain they were listed under.
    pub waters: Vec<(String, Residue)>,
    /// Non-polymer residues (ligands, ions), with their chain id.
    pub ligands: Vec<(String, Residue)>,
}

impl Structure {
    /// Chain A of CA atoms only, one residue per `(number, name, position,
    /// B-factor)`, atoms numbered from 1: how Cα clouds and Cα templates are
    /// written.
    pub fn ca_only(residues: impl IntoIterator<Item = (i32, String, Vec3, f64)>) -> Structure {
        let residues = residues
            .into_iter()
            .enumerate()
            .map(|(k, (seq_num, name, pos, b_factor))| Residue {
                name,
                seq_num,
                ins_code: None,
                atoms: vec![Atom {
                    serial: k as i64 + 1,
                    name: "CA".into(),
                    element: "C".into(),
                    pos,
                    occupancy: 1.0,
                    b_factor,
                }],
            })
            .collect();
        Structure {
            chains: vec![Chain {
                id: "A".into(),
                residues,
            }],
            ..Default::default()
        }
    }

    /// Every atom of the protein chains (not waters or ligands).
    pub fn atoms(&self) -> impl Iterator<Item = &Atom> {
        self.chains
            .iter()
            .flat_map(|c| c.residues.iter())
            .flat_map(|r| r.atoms.iter())
    }

    /// Every atom of the protein chains, mutably (for B-factors, transforms).
    pub fn atoms_mut(&mut self) -> impl Iterator<Item = &mut Atom> {
        self.chains
            .iter_mut()
            .flat_map(|c| c.residues.iter_mut())
            .flat_map(|r| r.atoms.iter_mut())
    }

    /// Cα coordinates of all chains, concatenated in chain order.
    pub fn ca_coords(&self) -> Vec<Vec3> {
        self.chains.iter().flat_map(|c| c.ca_coords()).collect()
    }

    pub fn chain(&self, id: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| c.id == id)
    }
}

/// One-letter code of an amino-acid residue name, mapping common modified residues
/// (MSE, SEP, ...) to their parent as the TM-score program does for MSE.
pub fn one_letter_code(name: &str) -> Option<char> {
    Some(match name {
        "ALA" => 'A',
        "ARG" => 'R',
        "ASN" => 'N',
        "ASP" => 'D',
        "CYS" => 'C',
        "GLN" => 'Q',
        "GLU" => 'E',
        "GLY" => 'G',
        "HIS" => 'H',
        "ILE" => 'I',
        "LEU" => 'L',
        "LYS" => 'K',
        "MET" => 'M',
        "PHE" => 'F',
        "PRO" => 'P',
        "SER" => 'S',
        "THR" => 'T',
        "TRP" => 'W',
        "TYR" => 'Y',
        "VAL" => 'V',
        "SEC" => 'U',
        "PYL" => 'O',
        "MSE" => 'M',
        "SEP" => 'S',
        "TPO" => 'T',
        "PTR" => 'Y',
        "HYP" => 'P',
        "MLY" => 'K',
        "CSO" => 'C',
        // Pyroglutamate, the cyclised N-terminal Gln/Glu of antibody chains; 'E'
        // as in the data set's sequences (structures.tsv).
        "PCA" => 'E',
        "ASX" => 'B',
        "GLX" => 'Z',
        _ => return None,
    })
}

/// Three-letter residue name of a one-letter amino-acid code ("UNK" for anything else).
pub fn three_letter_code(c: char) -> &'static str {
    match c.to_ascii_uppercase() {
        'A' => "ALA",
        'R' => "ARG",
        'N' => "ASN",
        'D' => "ASP",
        'C' => "CYS",
        'Q' => "GLN",
        'E' => "GLU",
        'G' => "GLY",
        'H' => "HIS",
        'I' => "ILE",
        'L' => "LEU",
        'K' => "LYS",
        'M' => "MET",
        'F' => "PHE",
        'P' => "PRO",
        'S' => "SER",
        'T' => "THR",
        'W' => "TRP",
        'Y' => "TYR",
        'V' => "VAL",
        'U' => "SEC",
        'O' => "PYL",
        _ => "UNK",
    }
}

/// Atomic number of an element symbol (case-insensitive); `None` if unknown.
pub fn atomic_number(symbol: &str) -> Option<u32> {
    const TABLE: [&str; 54] = [
        "H", "HE", "LI", "BE", "B", "C", "N", "O", "F", "NE", "NA", "MG", "AL", "SI", "P", "S",
        "CL", "AR", "K", "CA", "SC", "TI", "V", "CR", "MN", "FE", "CO", "NI", "CU", "ZN", "GA",
        "GE", "AS", "SE", "BR", "KR", "RB", "SR", "Y", "ZR", "NB", "MO", "TC", "RU", "RH", "PD",
        "AG", "CD", "IN", "SN", "SB", "TE", "I", "XE",
    ];
    let s = symbol.trim().to_ascii_uppercase();
    if s == "D" {
        return Some(1);
    }
    TABLE.iter().position(|&e| e == s).map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_numbers() {
        assert_eq!(atomic_number("C"), Some(6));
        assert_eq!(atomic_number("fe"), Some(26));
        assert_eq!(atomic_number("Se"), Some(34));
        assert_eq!(atomic_number("Q"), None);
    }

    #[test]
    fn residue_codes_round_trip() {
        for c in "ACDEFGHIKLMNPQRSTVWY".chars() {
            assert_eq!(one_letter_code(three_letter_code(c)), Some(c));
        }
        assert_eq!(three_letter_code('J'), "UNK");
    }
}
