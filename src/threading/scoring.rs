//! Query-template residue scores for threading, one scheme per "program" of
//! the meta-threading (LOMETS runs several programs; see [`super`]):
//!
//! - sequence: BLOSUM62 (Henikoff & Henikoff 1992), half-bit units;
//! - secondary structure: 2·P_query(s_template) − 1, the predicted probability
//!   of the template's DSSP state (from [`super::ssp`]) mapped to [−1, 1];
//! - hydrophobicity against burial: h(a_query) · b(template), the Kyte-Doolittle
//!   hydropathy scaled to [−1, 1] times the template residue's neighbour count
//!   standardised over the library and clipped to ±2 (hydrophobic on buried or
//!   polar on exposed scores positive);
//! - environment: a 3D-1D profile (Bowie, Lüthy & Eisenberg 1991): the log-odds
//!   (half bits) of amino acid a in environment e = (three-state SS × burial
//!   class) over the library, ln(P(a|e)/P(a)).
//!
//! A [`Scheme`] weights these terms; each scheme is its own alignment and its
//! own Z-score ([`super::search`]).

use super::burial::burial_class;
use super::library::Library;
use super::Ss;
use crate::sequence::{index_or_unknown, AMINO_ACIDS};

/// BLOSUM62 in the order ARNDCQEGHILKMFPSTWYV.
const B62_ORDER: &str = "ARNDCQEGHILKMFPSTWYV";
#[rustfmt::skip]
const B62: [[i8; 20]; 20] = [
    [ 4,-1,-2,-2, 0,-1,-1, 0,-2,-1,-1,-1,-1,-2,-1, 1, 0,-3,-2, 0],
    [-1, 5, 0,-2,-3, 1, 0,-2, 0,-3,-2, 2,-1,-3,-2,-1,-1,-3,-2,-3],
    [-2, 0, 6, 1,-3, 0, 0, 0, 1,-3,-3, 0,-2,-3,-2, 1, 0,-4,-2,-3],
    [-2,-2, 1, 6,-3, 0, 2,-1,-1,-3,-4,-1,-3,-3,-1, 0,-1,-4,-3,-3],
    [ 0,-3,-3,-3, 9,-3,-4,-3,-3,-1,-1,-3,-1,-2,-3,-1,-1,-2,-2,-1],
    [-1, 1, 0, 0,-3, 5, 2,-2, 0,-3,-2, 1, 0,-3,-1, 0,-1,-2,-1,-2],
    [-1, 0, 0, 2,-4, 2, 5,-2, 0,-3,-3, 1,-2,-3,-1, 0,-1,-3,-2,-2],
    [ 0,-2, 0,-1,-3,-2,-2, 6,-2,-4,-4,-2,-3,-3,-2, 0,-2,-2,-3,-3],
    [-2, 0, 1,-1,-3, 0, 0,-2, 8,-3,-3,-1,-2,-1,-2,-1,-2,-2, 2,-3],
    [-1,-3,-3,-3,-1,-3,-3,-4,-3, 4, 2,-3, 1, 0,-3,-2,-1,-3,-1, 3],
    [-1,-2,-3,-4,-1,-2,-3,-4,-3, 2, 4,-2, 2, 0,-3,-2,-1,-2,-1, 1],
    [-1, 2, 0,-1,-3, 1, 1,-2,-1,-3,-2, 5,-1,-3,-1, 0,-1,-3,-2,-2],
    [-1,-1,-2,-3,-1, 0,-2,-3,-2, 1, 2,-1, 5, 0,-2,-1,-1,-1,-1, 1],
    [-2,-3,-3,-3,-2,-3,-3,-3,-1, 0, 0,-3, 0, 6,-4,-2,-2, 1, 3,-1],
    [-1,-2,-2,-1,-3,-1,-1,-2,-2,-3,-3,-1,-2,-4, 7,-1,-1,-4,-3,-2],
    [ 1,-1, 1, 0,-1, 0, 0, 0,-1,-2,-2, 0,-1,-2,-1, 4, 1,-3,-2,-2],
    [ 0,-1, 0,-1,-1,-1,-1,-2,-2,-1,-1,-1,-1,-2,-1, 1, 5,-2,-2, 0],
    [-3,-3,-4,-4,-2,-2,-3,-2,-2,-3,-2,-3,-1, 1,-4,-3,-2,11, 2,-3],
    [-2,-2,-2,-3,-2,-1,-2,-3, 2,-1,-1,-2,-1, 3,-3,-2,-2, 2, 7,-1],
    [ 0,-3,-3,-3,-1,-2,-2,-3,-3, 3, 1,-2, 1,-1,-2,-2, 0,-3,-1, 4],
];

/// Kyte-Doolittle hydropathy, in the order of [`AMINO_ACIDS`] (alphabetical).
const KYTE_DOOLITTLE: [f32; 20] = [
    1.8, 2.5, -3.5, -3.5, 2.8, -0.4, -3.2, 4.5, -3.9, 3.8, 1.9, -3.5, -1.6, -3.5, -4.5, -0.8, -0.7,
    4.2, -0.9, -1.3,
];

/// BLOSUM62 of two residue indices ([`crate::sequence`] order, 20 = X → −1).
pub fn blosum62(a: usize, b: usize) -> i32 {
    if a >= 20 || b >= 20 {
        return -1;
    }
    let pos = |k: usize| B62_ORDER.find(AMINO_ACIDS[k]).expect("standard amino acid");
    B62[pos(a)][pos(b)] as i32
}

/// BLOSUM62 as a 21×21 table in [`crate::sequence`] order (X row and column −1).
pub fn blosum62_table() -> [[f32; 21]; 21] {
    let mut t = [[-1.0; 21]; 21];
    for (a, row) in t.iter_mut().enumerate().take(20) {
        for (b, v) in row.iter_mut().enumerate().take(20) {
            *v = blosum62(a, b) as f32;
        }
    }
    t
}

/// Hydropathy scaled to [−1, 1] (X: 0).
pub fn hydropathy(a: usize) -> f32 {
    if a < 20 {
        KYTE_DOOLITTLE[a] / 4.5
    } else {
        0.0
    }
}

/// Weights of one threading scheme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scheme {
    pub name: &'static str,
    pub w_seq: f32,
    pub w_ss: f32,
    pub w_hyd: f32,
    pub w_env: f32,
    /// Affine gap: a gap of k residues costs `gap_open + k · gap_extend`.
    pub gap_open: f32,
    pub gap_extend: f32,
    /// Zn = Z / z0; a template with Zn > 1 is a "good" one for this scheme.
    pub z0: f64,
}

/// The four schemes of the meta-threading.
pub const SCHEMES: [Scheme; 4] = [
    Scheme {
        name: "seq",
        w_seq: 1.0,
        w_ss: 0.0,
        w_hyd: 0.0,
        w_env: 0.0,
        gap_open: 11.0,
        gap_extend: 1.0,
        z0: 6.0,
    },
    Scheme {
        name: "ss",
        w_seq: 0.6,
        w_ss: 3.0,
        w_hyd: 0.0,
        w_env: 0.0,
        gap_open: 9.0,
        gap_extend: 1.0,
        z0: 6.0,
    },
    Scheme {
        name: "burial",
        w_seq: 0.6,
        w_ss: 1.5,
        w_hyd: 2.0,
        w_env: 0.0,
        gap_open: 9.0,
        gap_extend: 1.0,
        z0: 6.0,
    },
    Scheme {
        name: "env",
        w_seq: 0.6,
        w_ss: 1.5,
        w_hyd: 0.0,
        w_env: 1.0,
        gap_open: 9.0,
        gap_extend: 1.0,
        z0: 6.0,
    },
];

/// Library-wide statistics the scores need: burial mean and spread, and the
/// 3D-1D environment table.
#[derive(Debug, Clone)]
pub struct LibraryStats {
    pub burial_mean: f32,
    pub burial_sd: f32,
    /// `env[environment][aa]`, environment = ss · 3 + burial class; half bits.
    pub env: [[f32; 21]; 9],
}

impl LibraryStats {
    pub fn of(lib: &Library) -> LibraryStats {
        let mut counts = [[1.0f64; 20]; 9];
        let (mut s, mut s2, mut n) = (0.0f64, 0.0f64, 0.0f64);
        for c in &lib.chains {
            for (k, ch) in c.sequence.chars().enumerate() {
                let b = c.burial[k] as f64;
                s += b;
                s2 += b * b;
                n += 1.0;
                let a = index_or_unknown(ch);
                if a < 20 {
                    counts[environment(c.ss[k], c.burial[k])][a] += 1.0;
                }
            }
        }
        let n = n.max(1.0);
        let mean = s / n;
        let sd = (s2 / n - mean * mean).max(1e-6).sqrt();
        let mut total = [0.0f64; 20];
        for row in &counts {
            for a in 0..20 {
                total[a] += row[a];
            }
        }
        let grand: f64 = total.iter().sum();
        let mut env = [[0.0f32; 21]; 9];
        for (e, row) in counts.iter().enumerate() {
            let row_sum: f64 = row.iter().sum();
            for a in 0..20 {
                let p_ae = row[a] / row_sum;
                let p_a = total[a] / grand;
                env[e][a] = (2.0 * (p_ae / p_a).log2()) as f32;
            }
        }
        LibraryStats {
            burial_mean: mean as f32,
            burial_sd: sd as f32,
            env,
        }
    }

    /// Standardised burial, clipped to ±2.
    pub fn burial_z(&self, count: u8) -> f32 {
        ((count as f32 - self.burial_mean) / self.burial_sd).clamp(-2.0, 2.0)
    }
}

/// The 3D-1D environment index of a template residue.
pub fn environment(ss: Ss, burial: u8) -> usize {
    ss.index() * 3 + burial_class(burial)
}
