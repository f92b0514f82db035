//! Per-residue burial: how many residues crowd around a residue's side chain.
//!
//! The count of virtual Cβ atoms within 10 Å of the residue's own virtual Cβ
//! (placed from N, Cα, C with ideal geometry; the Cα stands in where N or C is
//! missing). Buried residues of globular proteins see about 25-40 neighbours,
//! exposed ones under 15. Threading scores a query residue's hydrophobicity
//! against this count (see [`super::scoring`]).

use super::dssp::Backbone;
use crate::Vec3;

/// Neighbour radius (Å).
pub const RADIUS: f64 = 10.0;

/// The virtual Cβ of a residue (ideal tetrahedral geometry, as in trRosetta).
pub fn virtual_cb(bb: &Backbone) -> Vec3 {
    match (bb.n, bb.c) {
        (Some(n), Some(c)) => {
            let b = bb.ca - n;
            let cc = c - bb.ca;
            let a = b.cross(&cc);
            -0.58273431 * a + 0.56802827 * b - 0.54067466 * cc + bb.ca
        }
        _ => bb.ca,
    }
}

/// Neighbour counts (saturating at 255) of every residue of a chain.
pub fn burial(bb: &[Backbone]) -> Vec<u8> {
    let cb: Vec<Vec3> = bb.iter().map(virtual_cb).collect();
    let r2 = RADIUS * RADIUS;
    cb.iter()
        .enumerate()
        .map(|(i, p)| {
            let count = cb
                .iter()
                .enumerate()
                .filter(|&(j, q)| j != i && (q - p).norm_squared() <= r2)
                .count();
            count.min(255) as u8
        })
        .collect()
}

/// Burial class for environment tables: 0 exposed (< 16), 1 intermediate, 2 buried (≥ 26).
pub fn burial_class(count: u8) -> usize {
    match count {
        0..=15 => 0,
        16..=25 => 1,
        _ => 2,
    }
}
