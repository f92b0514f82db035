//! Backbone N, C, O from the Cα trace, as PULCHRA does: each peptide i→i+1 is
//! placed from its four-Cα window i-1..i+2, whose shape is fixed (given the
//! ~3.8 Å virtual bonds) by r13 = |Cα(i-1)−Cα(i+1)|, r24 = |Cα(i)−Cα(i+2)| and
//! the virtual dihedral (PULCHRA's chirality-signed r14). C(i), O(i), N(i+1) sit
//! at the train-split mean positions for that shape, in the frame of
//! Cα(i-1), Cα(i), Cα(i+1). The table is a grid over (r13, r24, dihedral); a
//! window's atoms are the trilinear interpolation of the 8 surrounding grid
//! points, and the builder accumulates samples with the same weights, so that
//! learning and use agree. Chain ends (and ends at gaps in the trace) use
//! three-Cα tables keyed by r13 alone.

use super::frame::{dihedral_deg, Frame};
use crate::Vec3;

pub const R_LO: f64 = 4.5;
pub const R_STEP: f64 = 0.25;
pub const N_R: usize = 13;
pub const DIH_STEP: f64 = 15.0;
pub const N_DIH: usize = 24;
/// C(i), O(i), N(i+1).
pub const MID_ATOMS: usize = 3;
/// N(0), C(0), O(0), N(1).
pub const NTERM_ATOMS: usize = 4;
/// C(n-2), O(n-2), N(n-1), C(n-1), O(n-1).
pub const CTERM_ATOMS: usize = 5;
pub const N_MID_BINS: usize = N_R * N_R * N_DIH;
/// Consecutive Cα farther apart than this start a new segment (a gap in the trace).
pub const MAX_CA_STEP: f64 = 4.3;

/// Mean atom positions in the window frames; index `bin * atoms + atom`.
#[derive(Debug, Clone, PartialEq)]
pub struct BackboneTables {
    pub mid: Vec<Vec3>,
    pub nterm: Vec<Vec3>,
    pub cterm: Vec<Vec3>,
}

/// Grid bins and their interpolation weights.
pub type Corners<const K: usize> = [(usize, f64); K];

fn linear(t: f64, n: usize) -> [(usize, f64); 2] {
    let t = if t.is_finite() {
        t.clamp(0.0, (n - 1) as f64)
    } else {
        0.0
    };
    let i0 = (t.floor() as usize).min(n - 2);
    let f = t - i0 as f64;
    [(i0, 1.0 - f), (i0 + 1, f)]
}

fn periodic(t: f64, n: usize) -> [(usize, f64); 2] {
    let t = if t.is_finite() {
        t.rem_euclid(n as f64)
    } else {
        0.0
    };
    let i0 = (t.floor() as usize).min(n - 1);
    let f = t - i0 as f64;
    [(i0, 1.0 - f), ((i0 + 1) % n, f)]
}

fn r_coord(r: f64) -> f64 {
    (r - R_LO) / R_STEP
}

pub fn mid_corners(r13: f64, r24: f64, dih: f64) -> Corners<8> {
    let mut out = [(0, 0.0); 8];
    let mut k = 0;
    for (a, wa) in linear(r_coord(r13), N_R) {
        for (b, wb) in linear(r_coord(r24), N_R) {
            for (c, wc) in periodic(dih / DIH_STEP, N_DIH) {
                out[k] = ((a * N_R + b) * N_DIH + c, wa * wb * wc);
                k += 1;
            }
        }
    }
    out
}

pub fn end_corners(r13: f64) -> Corners<2> {
    linear(r_coord(r13), N_R)
}

/// The window of peptide i→i+1 (needs Cα i-1..=i+2).
pub fn mid_window(ca: &[Vec3], i: usize) -> (Frame, Corners<8>) {
    let (a, b, c, d) = (ca[i - 1], ca[i], ca[i + 1], ca[i + 2]);
    let f = Frame::new(a, b, c);
    (
        f,
        mid_corners((a - c).norm(), (b - d).norm(), dihedral_deg(a, b, c, d)),
    )
}

/// The window of a segment's first peptide (Cα s..=s+2).
pub fn nterm_window(ca: &[Vec3], s: usize) -> (Frame, Corners<2>) {
    let f = Frame::new(ca[s + 2], ca[s + 1], ca[s]);
    (f, end_corners((ca[s] - ca[s + 2]).norm()))
}

/// The window of a segment's last peptide (Cα e-3..e, `e` exclusive).
pub fn cterm_window(ca: &[Vec3], e: usize) -> (Frame, Corners<2>) {
    let f = Frame::new(ca[e - 3], ca[e - 2], ca[e - 1]);
    (f, end_corners((ca[e - 3] - ca[e - 1]).norm()))
}

/// Runs of consecutive Cα (half-open ranges) with no step longer than
/// [`MAX_CA_STEP`].
pub fn segments(ca: &[Vec3]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut s = 0;
    for i in 1..=ca.len() {
        if i == ca.len() || (ca[i] - ca[i - 1]).norm() > MAX_CA_STEP {
            if i > s {
                out.push((s, i));
            }
            s = i;
        }
    }
    out
}

fn interpolate<const K: usize>(
    table: &[Vec3],
    atoms: usize,
    f: &Frame,
    corners: &Corners<K>,
) -> Vec<Vec3> {
    (0..atoms)
        .map(|a| {
            let local = corners.iter().fold(Vec3::zeros(), |acc, &(bin, w)| {
                acc + table[bin * atoms + a] * w
            });
            f.to_global(local)
        })
        .collect()
}

impl BackboneTables {
    /// N, C, O of every residue of a Cα trace, segment by segment.
    pub fn place(&self, ca: &[Vec3]) -> Vec<[Vec3; 3]> {
        self.place_in(ca, &segments(ca))
    }

    /// N, C, O of every residue of a Cα trace cut into the given segments
    /// (half-open, covering the trace, in order).
    pub fn place_in(&self, ca: &[Vec3], segs: &[(usize, usize)]) -> Vec<[Vec3; 3]> {
        let mut out = vec![[Vec3::zeros(); 3]; ca.len()];
        for &(s, e) in segs {
            let mut placed = self.place_segment(&padded(&ca[s..e]));
            placed.truncate(e - s);
            regularise(&ca[s..e], &mut placed);
            out[s..e].copy_from_slice(&placed);
        }
        out
    }

    /// A segment of at least three Cα.
    fn place_segment(&self, ca: &[Vec3]) -> Vec<[Vec3; 3]> {
        let n = ca.len();
        let mut out = vec![[Vec3::zeros(); 3]; n];
        let (f, c) = nterm_window(ca, 0);
        let p = interpolate(&self.nterm, NTERM_ATOMS, &f, &c);
        out[0] = [p[0], p[1], p[2]];
        out[1][0] = p[3];
        for i in 1..n.saturating_sub(2) {
            let (f, c) = mid_window(ca, i);
            let p = interpolate(&self.mid, MID_ATOMS, &f, &c);
            out[i][1] = p[0];
            out[i][2] = p[1];
            out[i + 1][0] = p[2];
        }
        let (f, c) = cterm_window(ca, n);
        let p = interpolate(&self.cterm, CTERM_ATOMS, &f, &c);
        out[n - 2][1] = p[0];
        out[n - 2][2] = p[1];
        out[n - 1] = [p[2], p[3], p[4]];
        out
    }
}

/// Engh & Huber bond lengths (Å).
pub const N_CA: f64 = 1.458;
pub const CA_C: f64 = 1.525;
pub const C_N: f64 = 1.329;
pub const C_O: f64 = 1.231;

/// Bonds within this much of ideal are left alone: the learned positions are
/// closer to the native ones than a fully idealised backbone.
const BOND_SLACK: f64 = 0.04;

/// Mean positions are averages over many windows and so sit a little off the
/// ideal bond lengths; a few rounds of moving N and C (Cα fixed) along their
/// bonds bring N-CA, CA-C, C-N(next) and C=O within [`BOND_SLACK`] of ideal, with O carried along with C.
fn regularise(ca: &[Vec3], nco: &mut [[Vec3; 3]]) {
    fn pull(from: Vec3, to: Vec3, len: f64) -> Vec3 {
        let d = to - from;
        let n = d.norm();
        if n > 1e-6 {
            d * ((n.clamp(len - BOND_SLACK, len + BOND_SLACK) - n) / n)
        } else {
            Vec3::zeros()
        }
    }
    let n = nco.len();
    for _ in 0..20 {
        for i in 0..n {
            let dn = pull(ca[i], nco[i][0], N_CA);
            nco[i][0] += dn;
            let dc = pull(ca[i], nco[i][1], CA_C);
            nco[i][1] += dc;
            nco[i][2] += dc;
            if i + 1 < n {
                let d = pull(nco[i][1], nco[i + 1][0], C_N) * 0.5;
                nco[i + 1][0] += d;
                nco[i][1] -= d;
                nco[i][2] -= d;
            }
            let dox = pull(nco[i][1], nco[i][2], C_O);
            nco[i][2] += dox;
        }
    }
}

/// Segments shorter than three Cα get virtual neighbours (3.8 Å steps at a
/// 120° virtual angle) so that the end tables apply; their atoms are dropped.
fn padded(ca: &[Vec3]) -> Vec<Vec3> {
    let mut v = ca.to_vec();
    if v.len() == 1 {
        v.push(v[0] + Vec3::new(3.8, 0.0, 0.0));
    }
    if v.len() == 2 {
        let d = (v[1] - v[0]).try_normalize(1e-9).unwrap_or(Vec3::x());
        let helper = if d.x.abs() < 0.9 {
            Vec3::x()
        } else {
            Vec3::y()
        };
        let u = (helper - d * helper.dot(&d)).normalize();
        v.push(v[1] + (d * 0.5 + u * 0.75f64.sqrt()) * 3.8);
    }
    v
}
