//! Local alignment with affine gaps (Smith-Waterman with Gotoh's three-state
//! recursion), the dynamic programming every threading scheme shares.
//!
//! H(i,j) = max(0, H(i−1,j−1) + s(i,j), E(i,j), F(i,j)),
//! E(i,j) = max(H(i,j−1) − (o + e), E(i,j−1) − e),
//! F(i,j) = max(H(i−1,j) − (o + e), F(i−1,j) − e),
//! so a gap of k residues costs o + k·e (BLAST's convention). Local alignment
//! suits threading because a template usually covers only a domain of the query.

/// An alignment: aligned (query, template) residue index pairs, increasing in both.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Alignment {
    pub score: f32,
    pub pairs: Vec<(usize, usize)>,
}

const STOP: u8 = 0;
const DIAG: u8 = 1;
const FROM_E: u8 = 2;
const FROM_F: u8 = 3;
/// Bit set when E(i,j) extends E(i,j−1) rather than opening from H(i,j−1).
const E_EXT: u8 = 4;
/// Bit set when F(i,j) extends F(i−1,j).
const F_EXT: u8 = 8;

/// Best local alignment of a query of `n` residues with a template of `m`
/// under `score(i, j)`. Empty (score 0) when no cell scores above zero.
pub fn local_affine(
    n: usize,
    m: usize,
    score: impl Fn(usize, usize) -> f32,
    gap_open: f32,
    gap_extend: f32,
) -> Alignment {
    if n == 0 || m == 0 {
        return Alignment::default();
    }
    let open = gap_open + gap_extend;
    let mut trace = vec![0u8; n * m];
    let mut h_prev = vec![0.0f32; m + 1];
    let mut h_cur = vec![0.0f32; m + 1];
    let mut f = vec![f32::NEG_INFINITY; m + 1];
    let (mut best, mut bi, mut bj) = (0.0f32, 0usize, 0usize);
    for i in 1..=n {
        let mut e = f32::NEG_INFINITY;
        h_cur[0] = 0.0;
        let row = &mut trace[(i - 1) * m..i * m];
        for j in 1..=m {
            let mut t = 0u8;
            let e_open = h_cur[j - 1] - open;
            let e_ext = e - gap_extend;
            e = if e_ext > e_open {
                t |= E_EXT;
                e_ext
            } else {
                e_open
            };
            let f_open = h_prev[j] - open;
            let f_ext = f[j] - gap_extend;
            f[j] = if f_ext > f_open {
                t |= F_EXT;
                f_ext
            } else {
                f_open
            };
            let d = h_prev[j - 1] + score(i - 1, j - 1);
            let mut h = 0.0;
            let mut src = STOP;
            if d > h {
                h = d;
                src = DIAG;
            }
            if e > h {
                h = e;
                src = FROM_E;
            }
            if f[j] > h {
                h = f[j];
                src = FROM_F;
            }
            h_cur[j] = h;
            row[j - 1] = t | src;
            if h > best {
                best = h;
                bi = i;
                bj = j;
            }
        }
        std::mem::swap(&mut h_prev, &mut h_cur);
    }
    let mut pairs = Vec::new();
    let (mut i, mut j) = (bi, bj);
    // State: 0 in H, 1 in E (gap in the query: template residue unmatched), 2 in F.
    let mut state = 0u8;
    while i > 0 && j > 0 {
        let t = trace[(i - 1) * m + (j - 1)];
        match state {
            0 => match t & 3 {
                DIAG => {
                    pairs.push((i - 1, j - 1));
                    i -= 1;
                    j -= 1;
                }
                FROM_E => state = 1,
                FROM_F => state = 2,
                _ => break,
            },
            1 => {
                if t & E_EXT == 0 {
                    state = 0;
                }
                j -= 1;
            }
            _ => {
                if t & F_EXT == 0 {
                    state = 0;
                }
                i -= 1;
            }
        }
    }
    pairs.reverse();
    Alignment { score: best, pairs }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(a: &str, b: &str) -> impl Fn(usize, usize) -> f32 {
        let (a, b) = (a.as_bytes().to_vec(), b.as_bytes().to_vec());
        move |i, j| if a[i] == b[j] { 2.0 } else { -3.0 }
    }

    #[test]
    fn finds_embedded_match_and_gap() {
        // The query's core ACDEFGHIK sits in the template with one insertion (W).
        let q = "PPPPACDEFGHIKPPPP";
        let t = "LLACDEFWGHIKLL";
        let a = local_affine(q.len(), t.len(), ident(q, t), 4.0, 1.0);
        // 9 matches × 2 − gap (4 + 1) = 13.
        assert_eq!(a.score, 13.0);
        assert_eq!(a.pairs.len(), 9);
        assert_eq!(a.pairs[0], (4, 2));
        assert_eq!(a.pairs[4], (8, 6));
        assert_eq!(a.pairs[5], (9, 8));
        assert_eq!(*a.pairs.last().unwrap(), (12, 11));
    }

    #[test]
    fn long_gap_is_affine() {
        // Three inserted template residues: open 4 + 3 × 1 = 7 < the 10 matches' 20... minus.
        let q = "ACDEFGHIKL";
        let t = "ACDEFWWWGHIKL";
        let a = local_affine(q.len(), t.len(), ident(q, t), 4.0, 1.0);
        assert_eq!(a.score, 20.0 - 7.0);
        assert_eq!(a.pairs.len(), 10);
    }
}
