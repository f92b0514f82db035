//! Which residues of the modelled sequence are bonded to the next.
//!
//! mapfold models one trace of residues. A FASTA file with several records
//! (the chains of a complex, or the pieces of a chain whose linking residues
//! are not in the sequence) is modelled as the records' concatenation, with a
//! chain break after each record: no Cα–Cα bond, virtual angle or torsion
//! spans a break, residues on either side count as far apart in sequence,
//! each piece has its own termini, and the models are written with one chain
//! per record. Without a break the force field would have to join pieces that
//! sit tens of ångströms apart in the map, and gives up whole domains to do
//! so (BENCHMARKS.md, "Chain breaks").

use std::ops::Range;

/// The chains of the modelled sequence, as consecutive index ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// Exclusive end of each chain, increasing; the last is the length.
    ends: Vec<usize>,
}

/// Chain identifiers of written models, in record order.
const CHAIN_IDS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl Topology {
    /// One unbroken chain of `len` residues.
    pub fn single(len: usize) -> Topology {
        Topology { ends: vec![len] }
    }

    /// Chains of the given lengths, in order; empty chains are dropped.
    pub fn from_lengths(lengths: &[usize]) -> Topology {
        let mut ends = Vec::new();
        let mut at = 0;
        for &l in lengths {
            if l > 0 {
                at += l;
                ends.push(at);
            }
        }
        if ends.is_empty() {
            ends.push(0);
        }
        Topology { ends }
    }

    /// Number of residues over all chains.
    pub fn len(&self) -> usize {
        *self.ends.last().unwrap_or(&0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn n_chains(&self) -> usize {
        self.ends.len()
    }

    /// The index ranges of the chains, in order.
    pub fn chains(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.ends
            .iter()
            .scan(0, |start, &end| {
                let r = *start..end;
                *start = end;
                Some(r)
            })
            .filter(|r| !r.is_empty())
    }

    /// The chain that residue `i` belongs to (the last one for `i` past the end).
    pub fn chain_of(&self, i: usize) -> usize {
        self.ends
            .partition_point(|&e| e <= i)
            .min(self.ends.len() - 1)
    }

    /// The index range of the chain holding residue `i`.
    pub fn range_of(&self, i: usize) -> Range<usize> {
        let c = self.chain_of(i);
        let start = if c == 0 { 0 } else { self.ends[c - 1] };
        start..self.ends[c]
    }

    /// Whether residue `i` is bonded to residue `i + 1`.
    pub fn bonded(&self, i: usize) -> bool {
        i + 1 < self.len() && self.chain_of(i) == self.chain_of(i + 1)
    }

    /// The chain index of every residue.
    pub fn chain_index(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.len());
        for (c, r) in self.chains().enumerate() {
            out.extend(std::iter::repeat_n(c as u32, r.len()));
        }
        out
    }

    /// Identifier of chain `c` in written models: A–Z, a–z, 0–9, then A again
    /// (a PDB file has one character for it; past 62 chains ids repeat).
    pub fn chain_id(c: usize) -> String {
        let ids = CHAIN_IDS.as_bytes();
        (ids[c % ids.len()] as char).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_bonds_and_chain_lookup_agree() {
        let t = Topology::from_lengths(&[3, 0, 2, 4]);
        assert_eq!(t.len(), 9);
        assert_eq!(t.n_chains(), 3);
        assert_eq!(t.chains().collect::<Vec<_>>(), vec![0..3, 3..5, 5..9]);
        let bonded: Vec<bool> = (0..9).map(|i| t.bonded(i)).collect();
        assert_eq!(
            bonded,
            [true, true, false, true, false, true, true, true, false]
        );
        assert_eq!(t.chain_index(), [0, 0, 0, 1, 1, 2, 2, 2, 2]);
        assert_eq!(t.range_of(4), 3..5);
        assert_eq!(t.range_of(8), 5..9);
        assert_eq!(Topology::chain_id(1), "B");
    }

    #[test]
    fn a_single_chain_is_bonded_throughout() {
        let t = Topology::single(5);
        assert_eq!(t.n_chains(), 1);
        assert!((0..4).all(|i| t.bonded(i)));
        assert!(!t.bonded(4));
        assert_eq!(t.range_of(2), 0..5);
        assert_eq!(Topology::from_lengths(&[]).len(), 0);
    }
}
