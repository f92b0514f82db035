//! Side chains: per residue type, a library of rotamers (whole heavy-atom sets
//! in the N, CA, C frame: the train-split conformation nearest the mean of its
//! χ-bin cluster) with counts per backbone class. The class is read from the
//! Cα trace around the residue (the virtual angle at i, as r13, and the virtual
//! dihedrals before and after it), a secondary-structure-like context that
//! shifts the χ1 preferences (e.g. g- is rare in helices). p(rotamer | class)
//! is smoothed towards the type's overall frequency.

use super::frame::{dihedral_deg, Frame};
use super::residues::{ChiKind, ResidueDef};
use crate::Vec3;

/// 3 r13 bins × 4 × 4 dihedral states (3 bins or "absent"), plus one class for
/// residues at a segment end.
pub const N_CLASS: usize = 49;
/// Pseudo-count pulling p(rotamer | class) towards p(rotamer).
const ALPHA: f64 = 4.0;

/// The backbone class of residue i of the segment [s, e).
pub fn bb_class(ca: &[Vec3], s: usize, e: usize, i: usize) -> usize {
    if i == s || i + 1 >= e {
        return N_CLASS - 1;
    }
    let r13 = (ca[i - 1] - ca[i + 1]).norm();
    let rb = if r13 < 5.7 {
        0
    } else if r13 < 6.5 {
        1
    } else {
        2
    };
    let dbin = |d: f64| (d / 120.0).clamp(0.0, 2.0) as usize;
    let dp = if i >= s + 2 {
        dbin(dihedral_deg(ca[i - 2], ca[i - 1], ca[i], ca[i + 1]))
    } else {
        3
    };
    let dn = if i + 2 < e {
        dbin(dihedral_deg(ca[i - 1], ca[i], ca[i + 1], ca[i + 2]))
    } else {
        3
    };
    rb * 16 + dp * 4 + dn
}

/// The local frame of a residue: origin CA, x towards C, y towards N.
pub fn side_frame(n: Vec3, ca: Vec3, c: Vec3) -> Frame {
    Frame::new(n, ca, c)
}

/// One rotamer: side-chain atoms in [`ResidueDef::side`] order, local frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Rotamer {
    /// χ bins, 3 bits each (χ1 lowest).
    pub key: u32,
    pub atoms: Vec<Vec3>,
}

/// The rotamers of one residue type and their counts per backbone class.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RotamerSet {
    pub rotamers: Vec<Rotamer>,
    /// `counts[class * rotamers.len() + r]`.
    pub counts: Vec<u32>,
}

impl RotamerSet {
    /// −ln p(rotamer | class) for every rotamer.
    pub fn costs(&self, class: usize) -> Vec<f64> {
        let n = self.rotamers.len();
        if n == 0 {
            return Vec::new();
        }
        let total: Vec<f64> = (0..n)
            .map(|r| {
                (0..N_CLASS)
                    .map(|c| self.counts[c * n + r] as f64)
                    .sum::<f64>()
                    + 1.0
            })
            .collect();
        let grand: f64 = total.iter().sum();
        let row = &self.counts[class * n..(class + 1) * n];
        let in_class: f64 = row.iter().map(|&c| c as f64).sum();
        (0..n)
            .map(|r| {
                let prior = total[r] / grand;
                -((row[r] as f64 + ALPHA * prior) / (in_class + ALPHA)).ln()
            })
            .collect()
    }
}

/// χ angles (degrees) from atom positions looked up by name; `None` when an
/// atom is missing.
pub fn chis(def: &ResidueDef, pos: &dyn Fn(&str) -> Option<Vec3>) -> Option<Vec<f64>> {
    let mut path = vec![pos("N")?, pos("CA")?];
    if !def.chi.is_empty() {
        path.push(pos("CB")?);
    }
    for (name, _) in def.chi {
        path.push(pos(name)?);
    }
    Some(
        (0..def.chi.len())
            .map(|k| dihedral_deg(path[k], path[k + 1], path[k + 2], path[k + 3]))
            .collect(),
    )
}

/// The rotamer key of a set of χ angles.
pub fn key_of(def: &ResidueDef, chis: &[f64]) -> u32 {
    def.chi
        .iter()
        .zip(chis)
        .enumerate()
        .map(|(k, ((_, kind), &x))| kind.bin(x) << (3 * k))
        .sum()
}

/// True when the χ that carries a 2-fold flip lies in [180°, 360°): the
/// builder then swaps the equivalent atom names so that all samples share one
/// convention.
pub fn needs_flip(def: &ResidueDef, chis: &[f64]) -> bool {
    def.chi
        .iter()
        .zip(chis)
        .any(|((_, kind), &x)| *kind == ChiKind::Symmetric && x.rem_euclid(360.0) >= 180.0)
}
