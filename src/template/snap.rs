//! A placed template moved onto the map's Cα cloud residue by residue: each
//! query residue takes the cloud atom that agrees with its template position
//! and with a Cα–Cα bond to its neighbours, found by dynamic programming along
//! the sequence (a Viterbi path).
//!
//! Why: re-selection (eq. 3-4) and rigid fitting move a template as one rigid
//! body, so a homologous template of TM-score 0.8 stays 1–3 Å off the true Cα
//! in its core and leaves its alignment gaps empty. At 3 Å the cloud holds
//! nine in ten true Cα within 1 Å (validation split), so a residue whose
//! template position lies near its own atom can take that atom, and a residue
//! in a short gap can take the cloud atoms that continue a bonded path from
//! its neighbours. The paper has no such step: its REMC pulls the chain into
//! the density with E_EM (eq. 6), which on our runs does not move an Easy
//! model closer to the native than its starting template.
//!
//! The path maximises Σ emission + Σ bond:
//! - emission of residue r on atom p: 1 − |x_r − p|² / 2σ² where the template
//!   places r at x_r (σ = [`SnapOptions::sigma`]); 0 for a residue in a gap
//!   (any atom within reach of its anchors); 0 for "no atom";
//! - bond between consecutive residues on atoms p, q: +1 when |p − q| is
//!   within [`SnapOptions::bond_tolerance`] of 3.8 Å, falling linearly to −2
//!   at three times the tolerance and staying there (a jump across a helix
//!   turn, 5.4 Å, is a −2); 0 when either residue has no atom.
//!
//! An atom taken by two residues goes to the one with the higher emission;
//! the other keeps its template position. A residue without an atom keeps its
//! template position (or stays empty in a gap).
//!
//! Only a sharp cloud is worth snapping onto. The two networks' paired atoms
//! lie a median 0.2–0.4 Å apart on 2–5 Å maps and 0.6–0.9 Å at 10–15 Å; the
//! median distance to the true Cα is about 2–3 times that
//! (`examples/snap_gate.rs`). On whole runs of 8 train chains with homologs
//! (`mapfold bench build --split train-homologs --exclude-identity 0.5`, 30
//! sweeps), snapping the re-selected templates raised model 1 from 0.554 to
//! 0.586 at 3 Å (spread about 0.2 Å; all four Easy targets gained, +0.003 to
//! +0.039) but not at 8 Å (0.546 against 0.540; spread 0.35–0.45 Å), hence
//! [`SnapOptions::max_spread`] = 0.3. On 8 Hard validation chains at 3 Å it
//! lost 0.007 (one chain −0.08), so `select` snaps only on Easy targets.
//! Snapping the assembly's final models as well gained nothing (0.554 → 0.557
//! at 3 Å, 0.546 → 0.537 at 8 Å): where the REMC model is right, the map
//! term has already pulled it into the density.

use super::TemplateModel;
use crate::Vec3;

/// Settings of [`snap_to_cloud`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SnapOptions {
    /// Width in Å of the template-position term.
    pub sigma: f64,
    /// Atoms farther than this (Å) from a residue's template position are not
    /// candidates for it.
    pub radius: f64,
    /// At most this many nearest atoms per residue.
    pub max_candidates: usize,
    /// |d − 3.8 Å| within which a pair counts as a bond.
    pub bond_tolerance: f64,
    /// A residue the template leaves out may take a cloud atom when an aligned
    /// residue lies at most this many positions away (in a gap or at an end);
    /// deeper into a long gap there are too many ways through the cloud.
    pub max_gap: usize,
    /// Snap only onto a cloud whose two networks' paired atoms lie at most
    /// this far apart (median, Å; [`crate::ca::detect::Detection::spread`]).
    pub max_spread: f64,
}

impl SnapOptions {
    /// Whether a cloud of this spread is sharp enough to snap onto; a cloud of
    /// unknown spread (read from a file, one network) is taken as it is.
    pub fn applies_to(&self, spread: Option<f64>) -> bool {
        spread.is_none_or(|s| s <= self.max_spread)
    }
}

impl Default for SnapOptions {
    fn default() -> Self {
        SnapOptions {
            sigma: 2.0,
            radius: 5.0,
            max_candidates: 12,
            bond_tolerance: 0.5,
            max_gap: 6,
            max_spread: 0.3,
        }
    }
}

use crate::structure::CA_CA as BOND;
/// Slack in Å on how far a gap residue may lie from its anchors.
const REACH_SLACK: f64 = 1.0;
/// Most candidates of a gap residue.
const MAX_GAP_CANDIDATES: usize = 48;

fn bond_score(d: f64, tol: f64) -> f64 {
    let dev = (d - BOND).abs();
    if dev <= tol {
        1.0
    } else if dev >= 3.0 * tol {
        -2.0
    } else {
        1.0 - 3.0 * (dev - tol) / (2.0 * tol)
    }
}

/// Candidates of each residue: (atom, emission).
fn candidates(model: &TemplateModel, cloud: &[Vec3], opts: &SnapOptions) -> Vec<Vec<(usize, f64)>> {
    let l = model.ca.len();
    let anchors: Vec<usize> = (0..l).filter(|&r| model.ca[r].is_some()).collect();
    let mut out = vec![Vec::new(); l];
    for (r, slot) in out.iter_mut().enumerate() {
        match model.ca[r] {
            Some(x) => {
                let mut c: Vec<(usize, f64)> = cloud
                    .iter()
                    .enumerate()
                    .filter_map(|(i, p)| {
                        let d2 = (p - x).norm_squared();
                        (d2 <= opts.radius * opts.radius)
                            .then(|| (i, 1.0 - d2 / (2.0 * opts.sigma * opts.sigma)))
                    })
                    .collect();
                c.sort_by(|a, b| b.1.total_cmp(&a.1));
                c.truncate(opts.max_candidates);
                *slot = c;
            }
            None => {
                // Nearest anchors on either side; a gap residue must be reachable
                // from each by a chain of bonds.
                let before = anchors.iter().rev().find(|&&a| a < r).copied();
                let after = anchors.iter().find(|&&a| a > r).copied();
                let reach: Vec<(Vec3, f64)> = [before, after]
                    .into_iter()
                    .flatten()
                    .filter(|&a| a.abs_diff(r) <= opts.max_gap)
                    .map(|a| {
                        let x = model.ca[a].unwrap_or_default();
                        (x, BOND * a.abs_diff(r) as f64 + opts.radius + REACH_SLACK)
                    })
                    .collect();
                if reach.is_empty() {
                    // Deep in a long gap: too many ways through the cloud.
                    continue;
                }
                let mut c: Vec<(usize, f64, f64)> = cloud
                    .iter()
                    .enumerate()
                    .filter_map(|(i, p)| {
                        let mut worst: f64 = 0.0;
                        for (x, lim) in &reach {
                            let d = (p - x).norm();
                            if d > *lim {
                                return None;
                            }
                            worst = worst.max(d / lim);
                        }
                        Some((i, 0.0, worst))
                    })
                    .collect();
                c.sort_by(|a, b| a.2.total_cmp(&b.2));
                c.truncate(MAX_GAP_CANDIDATES);
                *slot = c.into_iter().map(|(i, e, _)| (i, e)).collect();
            }
        }
    }
    out
}

/// The template moved onto the cloud (module doc). Returns the new model and
/// how many residues took a cloud atom. A model with no Cα, or an empty
/// cloud, comes back unchanged.
pub fn snap_to_cloud(
    model: &TemplateModel,
    cloud: &[Vec3],
    opts: &SnapOptions,
) -> (TemplateModel, usize) {
    let l = model.ca.len();
    if l == 0 || cloud.is_empty() || model.aligned_len() == 0 {
        return (model.clone(), 0);
    }
    let cand = candidates(model, cloud, opts);
    // State k < cand[r].len(): atom cand[r][k]; state cand[r].len(): no atom.
    let mut score: Vec<Vec<f64>> = Vec::with_capacity(l);
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(l);
    for r in 0..l {
        let n = cand[r].len();
        let mut s = vec![f64::NEG_INFINITY; n + 1];
        let mut b = vec![0usize; n + 1];
        for k in 0..=n {
            let emit = if k < n { cand[r][k].1 } else { 0.0 };
            if r == 0 {
                s[k] = emit;
                continue;
            }
            let prev = &score[r - 1];
            let m = cand[r - 1].len();
            let (mut best, mut arg) = (f64::NEG_INFINITY, m);
            for (j, &ps) in prev.iter().enumerate() {
                let t = if j < m && k < n {
                    bond_score(
                        (cloud[cand[r - 1][j].0] - cloud[cand[r][k].0]).norm(),
                        opts.bond_tolerance,
                    )
                } else {
                    0.0
                };
                if ps + t > best {
                    best = ps + t;
                    arg = j;
                }
            }
            s[k] = best + emit;
            b[k] = arg;
        }
        score.push(s);
        back.push(b);
    }
    let mut state = vec![0usize; l];
    let last = &score[l - 1];
    state[l - 1] = (0..last.len())
        .max_by(|&a, &b| last[a].total_cmp(&last[b]))
        .unwrap_or(0);
    for r in (1..l).rev() {
        state[r - 1] = back[r][state[r]];
    }
    let mut taken: Vec<Option<(usize, f64)>> = vec![None; cloud.len()];
    let mut atom: Vec<Option<usize>> = vec![None; l];
    for r in 0..l {
        let Some(&(i, e)) = cand[r].get(state[r]) else {
            continue;
        };
        match taken[i] {
            Some((_, e_other)) if e_other >= e => continue,
            Some((other, _)) => atom[other] = None,
            None => {}
        }
        taken[i] = Some((r, e));
        atom[r] = Some(i);
    }
    let mut out = model.clone();
    let mut n = 0;
    for (slot, a) in out.ca.iter_mut().zip(&atom) {
        if let Some(i) = *a {
            *slot = Some(cloud[i]);
            n += 1;
        }
    }
    (out, n)
}

/// [`snap_to_cloud`] for a whole chain (one Cα per residue): returns the
/// moved chain and how many residues took an atom.
pub fn snap_chain(ca: &[Vec3], cloud: &[Vec3], opts: &SnapOptions) -> (Vec<Vec3>, usize) {
    let model = TemplateModel::new(
        super::Source::Reselected,
        "",
        ca.iter().copied().map(Some).collect(),
    );
    let (out, n) = snap_to_cloud(&model, cloud, opts);
    let moved = out
        .ca
        .iter()
        .zip(ca)
        .map(|(p, q)| p.unwrap_or(*q))
        .collect();
    (moved, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Source;

    fn helixish(n: usize) -> Vec<Vec3> {
        // A Cα helix: 2.3 Å radius, 100° per residue, 1.5 Å rise.
        (0..n)
            .map(|i| {
                let t = (i as f64 * 100.0).to_radians();
                Vec3::new(2.3 * t.cos(), 2.3 * t.sin(), 1.5 * i as f64)
            })
            .collect()
    }

    fn model(ca: Vec<Option<Vec3>>) -> TemplateModel {
        TemplateModel::new(Source::Reselected, "t", ca)
    }

    #[test]
    fn a_shifted_template_lands_on_its_own_atoms_and_fills_its_gap() {
        let native = helixish(30);
        let shift = Vec3::new(1.2, -0.8, 0.6);
        let ca: Vec<Option<Vec3>> = native
            .iter()
            .enumerate()
            .map(|(i, p)| (!(12..15).contains(&i)).then_some(p + shift))
            .collect();
        let mut cloud = native.clone();
        cloud.reverse();
        let (out, n) = snap_to_cloud(&model(ca), &cloud, &SnapOptions::default());
        assert_eq!(n, 30);
        for (p, q) in out.ca.iter().zip(&native) {
            assert!((p.unwrap() - q).norm() < 1e-9);
        }
    }

    #[test]
    fn a_missing_atom_leaves_the_template_position() {
        let native = helixish(20);
        let shift = Vec3::new(0.5, 0.5, 0.0);
        let ca: Vec<Option<Vec3>> = native.iter().map(|p| Some(p + shift)).collect();
        let cloud: Vec<Vec3> = native
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 7)
            .map(|(_, p)| *p)
            .collect();
        let (out, n) = snap_to_cloud(&model(ca), &cloud, &SnapOptions::default());
        assert_eq!(n, 19);
        assert!((out.ca[7].unwrap() - (native[7] + shift)).norm() < 1e-9);
        assert!((out.ca[8].unwrap() - native[8]).norm() < 1e-9);
    }

    #[test]
    fn an_empty_cloud_changes_nothing() {
        let m = model(helixish(5).into_iter().map(Some).collect());
        let (out, n) = snap_to_cloud(&m, &[], &SnapOptions::default());
        assert_eq!((out, n), (m, 0));
    }
}
