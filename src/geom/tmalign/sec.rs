//! TM-align's secondary-structure assignment from Cα positions alone
//! (`make_sec`/`sec_str`): each residue is classed by the six Cα–Cα distances
//! of the 5-residue window centred on it, compared with ideal helix and strand
//! values. US-align uses this unsmoothed form for proteins.

use crate::Vec3;

/// Coil, helix, turn and strand codes as TM-align writes them.
pub const COIL: u8 = b'C';
pub const HELIX: u8 = b'H';
pub const STRAND: u8 = b'E';
pub const TURN: u8 = b'T';

fn class(d13: f64, d14: f64, d15: f64, d24: f64, d25: f64, d35: f64) -> u8 {
    let near = |d: f64, ideal: f64, delta: f64| (d - ideal).abs() < delta;
    let delta = 2.1;
    if near(d15, 6.37, delta)
        && near(d14, 5.18, delta)
        && near(d25, 5.18, delta)
        && near(d13, 5.45, delta)
        && near(d24, 5.45, delta)
        && near(d35, 5.45, delta)
    {
        return HELIX;
    }
    let delta = 1.42;
    if near(d15, 13.0, delta)
        && near(d14, 10.4, delta)
        && near(d25, 10.4, delta)
        && near(d13, 6.1, delta)
        && near(d24, 6.1, delta)
        && near(d35, 6.1, delta)
    {
        return STRAND;
    }
    if d15 < 8.0 {
        TURN
    } else {
        COIL
    }
}

/// One code per residue; the two residues at each end are coil.
pub fn assign(ca: &[Vec3]) -> Vec<u8> {
    let n = ca.len();
    (0..n)
        .map(|i| {
            if i < 2 || i + 2 >= n {
                return COIL;
            }
            let d = |a: usize, b: usize| (ca[a] - ca[b]).norm();
            let (j1, j2, j3, j4, j5) = (i - 2, i - 1, i, i + 1, i + 2);
            class(
                d(j1, j3),
                d(j1, j4),
                d(j1, j5),
                d(j2, j4),
                d(j2, j5),
                d(j3, j5),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ideal α-helix: 1.5 Å rise and 100° turn per residue on a 2.3 Å radius.
    fn helix(n: usize) -> Vec<Vec3> {
        (0..n)
            .map(|i| {
                let a = (i as f64) * 100f64.to_radians();
                Vec3::new(2.3 * a.cos(), 2.3 * a.sin(), 1.5 * i as f64)
            })
            .collect()
    }

    #[test]
    fn ideal_helix_and_extended_chain() {
        let s = assign(&helix(12));
        assert_eq!(&s[..2], b"CC");
        assert!(s[2..10].iter().all(|&c| c == HELIX), "{:?}", s);
        // A β-strand: 3.3 Å per residue along x with a 1 Å zig-zag.
        let strand: Vec<Vec3> = (0..10)
            .map(|i| Vec3::new(3.3 * i as f64, if i % 2 == 0 { 0.0 } else { 1.0 }, 0.0))
            .collect();
        let s = assign(&strand);
        assert!(s[2..8].iter().all(|&c| c == STRAND), "{:?}", s);
    }
}
