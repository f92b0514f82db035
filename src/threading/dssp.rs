//! Secondary structure from backbone coordinates by DSSP's hydrogen-bond method
//! (Kabsch & Sander, Biopolymers 1983), reduced to three states.
//!
//! A backbone N-H…O=C hydrogen bond is the electrostatic energy
//! E = 0.084 · 332 · (1/r(ON) + 1/r(CH) − 1/r(OH) − 1/r(CN)) kcal/mol below
//! −0.5 kcal/mol, with the amide H placed 1 Å from N opposite the previous
//! residue's C=O. From the bonds: an n-turn at i is a bond CO(i)→NH(i+n); two
//! consecutive n-turns at i−1 and i make residues i..i+n−1 a helix (n = 4: H,
//! 3: G, 5: I); a bridge pairs i and j by the parallel or antiparallel bond
//! patterns; two or more consecutive bridges form a ladder (E), a lone bridge is
//! B. Priority H > E > B > G > I. Simplifications against DSSP: every bond
//! under the cutoff counts (DSSP keeps the two best per donor and acceptor) and
//! β-bulges do not join ladders. Three states: H, G, I → helix; E, B → strand.

use super::Ss;
use crate::Vec3;

/// One residue's backbone; the Cα is always present, the other atoms may be missing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backbone {
    pub n: Option<Vec3>,
    pub ca: Vec3,
    pub c: Option<Vec3>,
    pub o: Option<Vec3>,
}

/// Energy cutoff (kcal/mol) of a hydrogen bond, DSSP's.
const HBOND_CUTOFF: f64 = -0.5;
/// Cα pairs further apart than this (Å) cannot hold a backbone hydrogen bond.
const CA_CONTACT: f64 = 9.0;
/// Consecutive Cα further apart than this (Å) mark a chain break.
const CA_BREAK: f64 = 4.2;

/// DSSP eight-state letters for each residue ('H', 'G', 'I', 'E', 'B' or '-'
/// for the rest: turns and bends are not assigned).
pub fn dssp_letters(bb: &[Backbone]) -> Vec<char> {
    let n = bb.len();
    let hb = hbond_matrix(bb);
    let bond = |acc: isize, don: isize| -> bool {
        acc >= 0
            && don >= 0
            && (acc as usize) < n
            && (don as usize) < n
            && hb[acc as usize * n + don as usize]
    };
    let broken: Vec<bool> = (0..n)
        .map(|i| i + 1 < n && (bb[i + 1].ca - bb[i].ca).norm() > CA_BREAK)
        .collect();
    // No break between residues a..=b (indices clamped to the chain).
    let continuous = |a: isize, b: isize| -> bool {
        let a = a.max(0) as usize;
        let b = (b.max(0) as usize).min(n.saturating_sub(1));
        (a..b).all(|k| !broken[k])
    };
    let mut out = vec!['-'; n];
    // Helices, lowest priority first so that higher ones overwrite.
    for (turn, letter) in [(5isize, 'I'), (3, 'G')] {
        mark_helix(&mut out, n, turn, letter, &bond, &continuous);
    }
    // Bridges.
    let mut partner = vec![Vec::<(usize, bool)>::new(); n];
    for i in 1..n.saturating_sub(1) {
        for j in (i + 3)..n.saturating_sub(1) {
            if (bb[i].ca - bb[j].ca).norm() > CA_CONTACT + 2.0 {
                continue;
            }
            let (ii, jj) = (i as isize, j as isize);
            if !continuous(ii - 1, ii + 1) || !continuous(jj - 1, jj + 1) {
                continue;
            }
            let parallel =
                (bond(ii - 1, jj) && bond(jj, ii + 1)) || (bond(jj - 1, ii) && bond(ii, jj + 1));
            let anti =
                (bond(ii, jj) && bond(jj, ii)) || (bond(ii - 1, jj + 1) && bond(jj - 1, ii + 1));
            if parallel || anti {
                partner[i].push((j, anti));
                partner[j].push((i, anti));
            }
        }
    }
    for i in 0..n {
        for &(j, anti) in &partner[i] {
            // A ladder: the next residue along i bridges the neighbour of j in
            // the same sense (j+1 parallel, j−1 antiparallel), or the previous one.
            let next_j = if anti { j.checked_sub(1) } else { Some(j + 1) };
            let prev_j = if anti { Some(j + 1) } else { j.checked_sub(1) };
            let linked = |k: Option<usize>, jk: Option<usize>| match (k, jk) {
                (Some(k), Some(jk)) if k < n => {
                    partner[k].iter().any(|&(p, a)| p == jk && a == anti)
                }
                _ => false,
            };
            let ladder = linked(Some(i + 1), next_j) || linked(i.checked_sub(1), prev_j);
            if ladder {
                out[i] = 'E';
            } else if out[i] != 'E' {
                out[i] = 'B';
            }
        }
    }
    mark_helix(&mut out, n, 4, 'H', &bond, &continuous);
    out
}

/// Marks n-turn helices: residues i..i+turn−1 when turns start at i−1 and i.
fn mark_helix(
    out: &mut [char],
    n: usize,
    turn: isize,
    letter: char,
    bond: &impl Fn(isize, isize) -> bool,
    continuous: &impl Fn(isize, isize) -> bool,
) {
    let is_turn = |i: isize| bond(i, i + turn) && continuous(i, i + turn);
    for i in 1..n as isize {
        if is_turn(i - 1) && is_turn(i) {
            for k in i..(i + turn).min(n as isize) {
                let c = &mut out[k as usize];
                // H overwrites everything; G and I only coil.
                if letter == 'H' || *c == '-' {
                    *c = letter;
                }
            }
        }
    }
}

/// Three-state secondary structure of a chain (see the module doc).
pub fn assign(bb: &[Backbone]) -> Vec<Ss> {
    dssp_letters(bb)
        .into_iter()
        .map(|c| Ss::from_letter(c).unwrap_or(Ss::Coil))
        .collect()
}

/// `hb[acceptor * n + donor]`: CO of `acceptor` bonds to NH of `donor`.
fn hbond_matrix(bb: &[Backbone]) -> Vec<bool> {
    let n = bb.len();
    let mut hb = vec![false; n * n];
    // The amide H of residue i: N + unit(C(i−1) − O(i−1)), only when residue
    // i−1 is bonded to i (no break) and has its C and O.
    let h: Vec<Option<Vec3>> = (0..n)
        .map(|i| {
            let prev = bb.get(i.checked_sub(1)?)?;
            let (nn, c, o) = (bb[i].n?, prev.c?, prev.o?);
            if (nn - c).norm() > 2.5 {
                return None;
            }
            let d = c - o;
            Some(nn + d / d.norm())
        })
        .collect();
    for don in 0..n {
        let (Some(hpos), Some(npos)) = (h[don], bb[don].n) else {
            continue;
        };
        for acc in 0..n {
            if acc.abs_diff(don) < 2 || (bb[acc].ca - bb[don].ca).norm() > CA_CONTACT {
                continue;
            }
            let (Some(c), Some(o)) = (bb[acc].c, bb[acc].o) else {
                continue;
            };
            let r_on = (o - npos).norm();
            let r_ch = (c - hpos).norm();
            let r_oh = (o - hpos).norm();
            let r_cn = (c - npos).norm();
            if r_on < 0.5 || r_ch < 0.5 || r_oh < 0.5 || r_cn < 0.5 {
                continue;
            }
            let e = 0.084 * 332.0 * (1.0 / r_on + 1.0 / r_ch - 1.0 / r_oh - 1.0 / r_cn);
            if e < HBOND_CUTOFF {
                hb[acc * n + don] = true;
            }
        }
    }
    hb
}

/// Backbones of the residues of a chain that have a Cα, in chain order.
pub fn chain_backbone(chain: &crate::structure::Chain) -> Vec<Backbone> {
    chain
        .residues
        .iter()
        .filter_map(|r| {
            Some(Backbone {
                ca: r.ca()?,
                n: r.atom("N").map(|a| a.pos),
                c: r.atom("C").map(|a| a.pos),
                o: r.atom("O").map(|a| a.pos),
            })
        })
        .collect()
}
