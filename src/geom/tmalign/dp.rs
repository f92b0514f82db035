//! TM-align's dynamic programming (`NWDP_TM`): a Needleman–Wunsch variant in
//! which a gap costs `gap_open` only when it follows an aligned pair, and gap
//! extension is free. The tie rules (diagonal first, then the move that keeps
//! chain 2's index) decide the alignment among equal scores, so they follow
//! the original exactly.
//!
//! An alignment is `y2x`: for each residue `j` of chain 2, the aligned residue
//! of chain 1 or `None`.

use crate::geom::kabsch::Transform;
use crate::Vec3;

/// Alignment of chain 2 onto chain 1: `y2x[j] = Some(i)` pairs y_j with x_i.
pub type Y2x = Vec<Option<usize>>;

/// The generic recursion with `score(i, j)` for 0-based residues.
fn nwdp(
    len1: usize,
    len2: usize,
    gap_open: f64,
    mut score: impl FnMut(usize, usize) -> f64,
) -> Y2x {
    let w = len2 + 1;
    let mut val = vec![0.0f64; (len1 + 1) * w];
    // `path` is true where the cell was reached by the diagonal (an aligned pair).
    let mut path = vec![false; (len1 + 1) * w];
    for i in 1..=len1 {
        for j in 1..=len2 {
            let d = val[(i - 1) * w + j - 1] + score(i - 1, j - 1);
            let mut h = val[(i - 1) * w + j];
            if path[(i - 1) * w + j] {
                h += gap_open;
            }
            let mut v = val[i * w + j - 1];
            if path[i * w + j - 1] {
                v += gap_open;
            }
            let c = i * w + j;
            if d >= h && d >= v {
                path[c] = true;
                val[c] = d;
            } else {
                val[c] = if v >= h { v } else { h };
            }
        }
    }
    let mut y2x = vec![None; len2];
    let (mut i, mut j) = (len1, len2);
    while i > 0 && j > 0 {
        if path[i * w + j] {
            y2x[j - 1] = Some(i - 1);
            i -= 1;
            j -= 1;
        } else {
            let mut h = val[(i - 1) * w + j];
            if path[(i - 1) * w + j] {
                h += gap_open;
            }
            let mut v = val[i * w + j - 1];
            if path[i * w + j - 1] {
                v += gap_open;
            }
            if v >= h {
                j -= 1;
            } else {
                i -= 1;
            }
        }
    }
    y2x
}

/// DP on an explicit score table `score[i * ylen + j]`.
pub fn by_table(score: &[f64], xlen: usize, ylen: usize, gap_open: f64) -> Y2x {
    nwdp(xlen, ylen, gap_open, |i, j| score[i * ylen + j])
}

/// DP on the TM-score terms 1/(1 + d²/d0²) of chain 1 moved by `t` against chain 2.
pub fn by_superposition(x: &[Vec3], y: &[Vec3], t: &Transform, d02: f64, gap_open: f64) -> Y2x {
    let xt: Vec<Vec3> = x.iter().map(|p| t.apply(p)).collect();
    nwdp(x.len(), y.len(), gap_open, |i, j| {
        1.0 / (1.0 + (xt[i] - y[j]).norm_squared() / d02)
    })
}

/// DP scoring 1 for equal secondary-structure codes and 0 otherwise.
pub fn by_secondary_structure(secx: &[u8], secy: &[u8], gap_open: f64) -> Y2x {
    nwdp(secx.len(), secy.len(), gap_open, |i, j| {
        if secx[i] == secy[j] {
            1.0
        } else {
            0.0
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_strings_align_diagonally_and_end_gaps_are_free() {
        let a = b"HHHHCCEEEE";
        assert_eq!(
            by_secondary_structure(a, a, -1.0),
            (0..10).map(Some).collect::<Vec<_>>()
        );
        // Chain 2 lacks the leading coil: it aligns in place at no cost.
        let y = by_secondary_structure(b"CCCHHHHHEEEE", b"HHHHHEEEE", -1.0);
        assert_eq!(y, (3..12).map(Some).collect::<Vec<_>>());
    }
}
