//! Monte Carlo moves of the reduced chain.
//!
//! Each move returns new positions for one contiguous run of residues
//! (`lo..hi`), so the energy change is local ([`super::energy`]):
//! - shift: 2–6 residues translated together (≤ 0.8 Å);
//! - crankshaft: 1–6 residues rotated about the axis through their two
//!   flanking Cα (bond lengths to the flanks kept);
//! - terminal: the first or last 1–8 residues of a chain rotated about the
//!   next Cα in;
//! - fragment: 3–7 residues replaced by the same residues of a template that
//!   covers them and their flanks, superposed on the current chain;
//! - rigid: the whole model turned (≤ 3°) and shifted (≤ 0.5 Å) as one body;
//!   with several chains ([`crate::topology`]), half the time one chain alone.

use nalgebra::{Rotation3, Unit};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::geometry::random_unit;
use crate::geom::kabsch::superpose;
use crate::template::TemplateModel;
use crate::topology::Topology;
use crate::Vec3;

/// Proposed positions for residues `lo..hi`.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    pub kind: MoveKind,
    pub lo: usize,
    pub hi: usize,
    pub new: Vec<Vec3>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MoveKind {
    Shift,
    Crankshaft,
    Terminal,
    Fragment,
    Rigid,
}

impl MoveKind {
    pub const ALL: [MoveKind; 5] = [
        MoveKind::Shift,
        MoveKind::Crankshaft,
        MoveKind::Terminal,
        MoveKind::Fragment,
        MoveKind::Rigid,
    ];

    pub fn index(self) -> usize {
        self as usize
    }
}

fn rotate_about(p: &Vec3, origin: &Vec3, axis: &Vec3, angle_deg: f64) -> Vec3 {
    let rot = Rotation3::from_axis_angle(&Unit::new_normalize(*axis), angle_deg.to_radians());
    origin + rot * (p - origin)
}

/// Template fragments usable for substitution: (template index, first, last)
/// runs of consecutive covered residues.
#[derive(Debug, Clone, Default)]
pub struct FragmentSource {
    models: Vec<Vec<Option<Vec3>>>,
}

impl FragmentSource {
    pub fn new(models: &[TemplateModel]) -> FragmentSource {
        FragmentSource {
            models: models.iter().map(|m| m.ca.clone()).collect(),
        }
    }

    fn propose(&self, ca: &[Vec3], rng: &mut ChaCha8Rng) -> Option<Move> {
        if self.models.is_empty() || ca.len() < 6 {
            return None;
        }
        let n = ca.len();
        let k = rng.random_range(3..=7usize).min(n - 2);
        let lo = rng.random_range(1..=n - 1 - k);
        let hi = lo + k;
        // Window lo−1..=hi must be fully covered by the template.
        let t = &self.models[rng.random_range(0..self.models.len())];
        let window: Option<Vec<Vec3>> = (lo - 1..=hi).map(|i| t[i]).collect();
        let window = window?;
        let current: Vec<Vec3> = ca[lo - 1..=hi].to_vec();
        let sup = superpose(&window, &current);
        let new = window[1..=k]
            .iter()
            .map(|p| sup.transform.apply(p))
            .collect();
        Some(Move {
            kind: MoveKind::Fragment,
            lo,
            hi,
            new,
        })
    }
}

/// Relative frequencies of the move kinds (shift, crankshaft, terminal,
/// fragment, rigid).
pub const DEFAULT_MIX: [f64; 5] = [0.3, 0.3, 0.1, 0.25, 0.05];

/// The first or last 1–8 residues of chain `r` (at least 3 residues)
/// rotated about the next Cα in.
fn terminal(ca: &[Vec3], r: std::ops::Range<usize>, kind: MoveKind, rng: &mut ChaCha8Rng) -> Move {
    let (s, e) = (r.start, r.end);
    let k = rng.random_range(1..=8usize).min(e - s - 2);
    let ang = rng.random_range(-30.0..30.0);
    let axis = random_unit(rng);
    if rng.random_bool(0.5) {
        Move {
            kind,
            lo: s,
            hi: s + k,
            new: ca[s..s + k]
                .iter()
                .map(|p| rotate_about(p, &ca[s + k], &axis, ang))
                .collect(),
        }
    } else {
        Move {
            kind,
            lo: e - k,
            hi: e,
            new: ca[e - k..e]
                .iter()
                .map(|p| rotate_about(p, &ca[e - k - 1], &axis, ang))
                .collect(),
        }
    }
}

/// One random move of `ca`, whose chains are `topology`'s.
pub fn propose(
    ca: &[Vec3],
    topology: &Topology,
    fragments: &FragmentSource,
    mix: &[f64; 5],
    rng: &mut ChaCha8Rng,
) -> Move {
    let n = ca.len();
    loop {
        let total: f64 = mix.iter().sum();
        let mut x = rng.random_range(0.0..total);
        let mut kind = MoveKind::Shift;
        for (k, w) in MoveKind::ALL.iter().zip(mix) {
            if x < *w {
                kind = *k;
                break;
            }
            x -= w;
        }
        let m = match kind {
            MoveKind::Shift if n >= 2 => {
                let k = rng.random_range(2..=6usize).min(n);
                let lo = rng.random_range(0..=n - k);
                let d = random_unit(rng) * rng.random_range(0.0..0.8);
                Some(Move {
                    kind,
                    lo,
                    hi: lo + k,
                    new: ca[lo..lo + k].iter().map(|p| p + d).collect(),
                })
            }
            MoveKind::Crankshaft if n >= 3 => {
                let k = rng.random_range(1..=6usize).min(n - 2);
                let lo = rng.random_range(1..=n - 1 - k);
                let hi = lo + k;
                let axis = ca[hi] - ca[lo - 1];
                (axis.norm() > 1e-6).then(|| {
                    let ang = rng.random_range(-40.0..40.0);
                    Move {
                        kind,
                        lo,
                        hi,
                        new: ca[lo..hi]
                            .iter()
                            .map(|p| rotate_about(p, &ca[lo - 1], &axis, ang))
                            .collect(),
                    }
                })
            }
            MoveKind::Terminal if topology.n_chains() > 1 => {
                // Any chain's end. A chain of fewer than three residues has
                // no Cα to turn about but its own other end; the shift and
                // rigid moves move it.
                let chains: Vec<_> = topology.chains().filter(|r| r.len() >= 3).collect();
                (!chains.is_empty()).then(|| {
                    let r = chains[rng.random_range(0..chains.len())].clone();
                    terminal(ca, r, kind, rng)
                })
            }
            MoveKind::Terminal if n >= 3 => Some(terminal(ca, 0..n, kind, rng)),
            MoveKind::Fragment => fragments.propose(ca, rng),
            MoveKind::Rigid if n >= 1 => {
                // With several chains, half the rigid moves turn one chain
                // alone (picked in proportion to its length), so that a
                // chain placed apart can dock.
                let (lo, hi) = if topology.n_chains() > 1 && rng.random_bool(0.5) {
                    let r = topology.range_of(rng.random_range(0..n));
                    (r.start, r.end)
                } else {
                    (0, n)
                };
                let part = &ca[lo..hi];
                let c = part.iter().sum::<Vec3>() / part.len() as f64;
                let axis = random_unit(rng);
                let ang = rng.random_range(-3.0..3.0);
                let d = random_unit(rng) * rng.random_range(0.0..0.5);
                Some(Move {
                    kind,
                    lo,
                    hi,
                    new: part
                        .iter()
                        .map(|p| rotate_about(p, &c, &axis, ang) + d)
                        .collect(),
                })
            }
            _ => None,
        };
        if let Some(m) = m {
            return m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn crankshaft_keeps_flank_bonds_and_fragments_follow_the_template() {
        let s = crate::io::read_structure(std::path::Path::new("tests/data/3j6b_9.pdb")).unwrap();
        let ca = s.chains[0].ca_coords();
        let model = TemplateModel {
            source: crate::template::Source::Threading,
            template_id: "self".into(),
            zscore: 0.0,
            ca: ca
                .iter()
                .map(|p| Some(p + Vec3::new(30.0, 0.0, 0.0)))
                .collect(),
            crscore: None,
            density_pcc: None,
        };
        let frags = FragmentSource::new(&[model]);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut seen = [0usize; 5];
        for _ in 0..500 {
            let m = propose(
                &ca,
                &Topology::single(ca.len()),
                &frags,
                &DEFAULT_MIX,
                &mut rng,
            );
            seen[m.kind.index()] += 1;
            assert_eq!(m.new.len(), m.hi - m.lo);
            match m.kind {
                MoveKind::Crankshaft => {
                    let d0 = (ca[m.lo] - ca[m.lo - 1]).norm();
                    let d1 = (m.new[0] - ca[m.lo - 1]).norm();
                    assert!((d0 - d1).abs() < 1e-9);
                }
                MoveKind::Fragment => {
                    // The template is the native moved rigidly: substitution
                    // puts the atoms back where they were.
                    for (p, q) in m.new.iter().zip(&ca[m.lo..m.hi]) {
                        assert!((p - q).norm() < 1e-6);
                    }
                }
                _ => {}
            }
        }
        assert!(seen.iter().all(|&c| c > 0), "move kinds seen: {seen:?}");
    }

    /// With two chains, terminal moves reach the ends at the break and stay
    /// within one chain, and some rigid moves turn one chain alone.
    #[test]
    fn with_two_chains_the_inner_ends_move_and_one_chain_can_move_alone() {
        let s = crate::io::read_structure(std::path::Path::new("tests/data/3j6b_9.pdb")).unwrap();
        let ca = s.chains[0].ca_coords();
        let (n, k) = (ca.len(), 96);
        let two = Topology::from_lengths(&[k, n - k]);
        let frags = FragmentSource::new(&[]);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (mut inner_ends, mut one_chain) = (0, 0);
        for _ in 0..2000 {
            let m = propose(&ca, &two, &frags, &DEFAULT_MIX, &mut rng);
            match m.kind {
                MoveKind::Terminal => {
                    assert!(m.hi <= k || m.lo >= k, "{}..{}", m.lo, m.hi);
                    inner_ends += usize::from(m.hi == k || m.lo == k);
                }
                MoveKind::Rigid => {
                    assert!([(0, n), (0, k), (k, n)].contains(&(m.lo, m.hi)));
                    one_chain += usize::from(m.hi - m.lo < n);
                }
                _ => {}
            }
        }
        assert!(inner_ends > 20, "{inner_ends}");
        assert!(one_chain > 10, "{one_chain}");
    }
}
