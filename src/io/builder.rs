//! Assembles a [`Structure`] from a stream of atom records, shared by the PDB and
//! mmCIF readers so that both apply one policy:
//!
//! - consecutive records with the same chain, residue number, insertion code and
//!   residue name form one residue (insertion codes make separate residues);
//! - of alternate locations the first listed copy of each atom is kept, and when
//!   alternate conformers carry different residue names (microheterogeneity) the
//!   first residue name wins;
//! - waters go to [`Structure::waters`]; a residue is a polymer residue, kept in
//!   its chain, when any of its records is ATOM, when its name is a known amino
//!   acid (MSE, SEP, ...), or when it has the backbone atoms N, CA and C (modified
//!   amino acids missing from our table, such as PCA in antibody chains); other
//!   residues go to [`Structure::ligands`]. A chain interrupted by ligands or
//!   waters and resumed stays one chain.

use crate::structure::{Atom, Chain, Residue, Structure};

/// Residue names of water molecules.
pub fn is_water(name: &str) -> bool {
    matches!(name, "HOH" | "WAT" | "DOD" | "H2O" | "D2O" | "TIP" | "TIP3")
}

#[derive(Clone, PartialEq)]
struct Key {
    chain: String,
    seq: i32,
    icode: Option<char>,
    name: String,
}

/// Collects atoms residue by residue; see the module doc for the policy.
#[derive(Default)]
pub struct Builder {
    s: Structure,
    key: Option<Key>,
    residue: Option<Residue>,
    /// Whether a record of the open residue said it is a polymer residue.
    polymer: bool,
    n_atoms: usize,
}

/// One atom record as a reader found it.
pub struct Record<'a> {
    pub chain: &'a str,
    pub seq: i32,
    pub icode: Option<char>,
    pub res_name: &'a str,
    /// An ATOM record (mmCIF group_PDB ATOM), or a known amino-acid name.
    pub polymer: bool,
    /// Alternate location indicator; `None` when blank.
    pub alt: Option<char>,
    pub atom: Atom,
}

impl Builder {
    /// Number of atoms kept so far.
    pub fn n_atoms(&self) -> usize {
        self.n_atoms
    }

    pub fn add(&mut self, rec: Record) {
        let same_place = |k: &Key| k.chain == rec.chain && k.seq == rec.seq && k.icode == rec.icode;
        match &self.key {
            Some(k) if same_place(k) && k.name == rec.res_name => {}
            // A second conformer under another residue name: keep the first.
            Some(k) if same_place(k) && rec.alt.is_some() => return,
            _ => {
                self.flush();
                self.key = Some(Key {
                    chain: rec.chain.to_string(),
                    seq: rec.seq,
                    icode: rec.icode,
                    name: rec.res_name.to_string(),
                });
                self.polymer = false;
                self.residue = Some(Residue {
                    name: rec.res_name.to_string(),
                    seq_num: rec.seq,
                    ins_code: rec.icode,
                    atoms: Vec::new(),
                });
            }
        }
        self.polymer |= rec.polymer;
        let r = self.residue.as_mut().expect("residue opened above");
        // Alternate locations: keep the first listed copy of each atom name. A
        // blank-altloc duplicate is kept, as in the file, since nothing says which
        // copy is right.
        if rec.alt.is_some() && r.atoms.iter().any(|a| a.name == rec.atom.name) {
            return;
        }
        r.atoms.push(rec.atom);
        self.n_atoms += 1;
    }

    fn flush(&mut self) {
        let (Some(key), Some(r)) = (self.key.take(), self.residue.take()) else {
            return;
        };
        let s = &mut self.s;
        if is_water(&key.name) {
            s.waters.push((key.chain, r));
        } else if !(self.polymer || ["N", "CA", "C"].iter().all(|n| r.atom(n).is_some())) {
            s.ligands.push((key.chain, r));
        } else {
            match s.chains.iter_mut().rev().find(|c| c.id == key.chain) {
                Some(c) => c.residues.push(r),
                None => s.chains.push(Chain {
                    id: key.chain,
                    residues: vec![r],
                }),
            }
        }
    }

    /// The structure; an error when no atom was read.
    pub fn finish(mut self) -> Result<Structure, String> {
        self.flush();
        if self.n_atoms == 0 {
            return Err("no atom records".into());
        }
        Ok(self.s)
    }
}
