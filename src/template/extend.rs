//! A placed template's unaligned stretches filled from the Cα cloud: from the
//! cloud atom a template residue sits on, the chain is followed along the
//! cloud's likely paths ([`super::links::likely_paths`]) into the residues the
//! alignment left out, one atom per residue, until the path ends or reaches
//! an atom the template already holds.
//!
//! Why: a homologous template often covers only part of the query (test-easy
//! 1I71 at 2.3 Å: residues 1–63 of 83; 2B24 chain C: 27–381 of 440). The
//! assembly started those residues as random walks ([`crate::assembly::gapfill`];
//! now walks through the cloud where no other template places them)
//! and in the runs the map term did not pull them back into the density:
//! model 1 had 23–30 % of its Cα more than 3 Å from every cloud atom on
//! these maps, against under 10 % on most Easy maps. In a sharp cloud the
//! likely paths follow the true chain for 15 residues on average with a link
//! precision of 0.94 (validation, 2–5 Å; `links`), so walking them from a
//! template's end continues the chain where it really goes. The paper has no
//! such step: its REMC is left to find these residues.
//!
//! Off by default ([`super::select::SelectOptions::extend`]): on 24 train
//! chains with homologs (identity < 0.5) at 3 Å it changed model 1 by +0.002
//! (6 up, 2 down, 1AG6 0.888 → 0.705, which gained two residues), too little
//! to tell from the Monte Carlo's noise; those chains' templates leave few
//! residues out. On `d1jl7a` with a 3 Å cloud, 62 of 100 filled residues land
//! within 2 Å of their own native Cα (`tests/template_reselect.rs`).
//!
//! Each stretch is walked from its ends inward: from the residue before it
//! forwards and from the residue after it backwards, each walk stepping to
//! the path neighbour of its current atom that it did not come from. A walk
//! starts only from a residue that sits on a cloud atom (within
//! [`ON_ATOM`]); its first step goes to the neighbour farther from the
//! residue's other chain neighbour, so that it leaves the template rather
//! than running back along it.

use std::collections::HashMap;

use super::TemplateModel;
use crate::Vec3;

/// A template residue counts as sitting on a cloud atom within this, Å
/// (snapped templates sit exactly on theirs).
pub const ON_ATOM: f64 = 1.0;

/// Each atom's neighbours along `paths` (at most two).
fn neighbours(n_atoms: usize, paths: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut nb = vec![Vec::new(); n_atoms];
    for p in paths {
        for w in p.windows(2) {
            nb[w[0]].push(w[1]);
            nb[w[1]].push(w[0]);
        }
    }
    nb
}

/// The cloud atom nearest `x` if within [`ON_ATOM`].
fn atom_at(x: Vec3, cloud: &[Vec3]) -> Option<usize> {
    cloud
        .iter()
        .enumerate()
        .map(|(i, p)| (i, (p - x).norm_squared()))
        .filter(|&(_, d2)| d2 <= ON_ATOM * ON_ATOM)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// `model` with its empty residues filled along `paths` through `cloud`
/// (module doc), and how many residues were filled.
pub fn extend_along_paths(
    model: &TemplateModel,
    cloud: &[Vec3],
    paths: &[Vec<usize>],
) -> (TemplateModel, usize) {
    let l = model.ca.len();
    let nb = neighbours(cloud.len(), paths);
    let mut out = model.clone();
    // Atoms the model holds: a walk stops where it meets the template again.
    let mut held: HashMap<usize, usize> = HashMap::new();
    let mut on: Vec<Option<usize>> = vec![None; l];
    for (r, x) in model.aligned_pairs() {
        if let Some(a) = atom_at(x, cloud) {
            held.entry(a).or_insert(r);
            on[r] = Some(a);
        }
    }
    let mut filled = 0;
    // Walks forwards (step +1) from the last residue before each empty
    // stretch, then backwards (−1) from the first residue after it.
    for step in [1isize, -1] {
        let mut r = 0usize;
        while r < l {
            let next = r as isize + step;
            let starts_walk = out.ca[r].is_some()
                && (0..l as isize).contains(&next)
                && out.ca[next as usize].is_none();
            let Some(a0) = on[r].filter(|_| starts_walk) else {
                r += 1;
                continue;
            };
            // The first step leaves the template: away from the residue on
            // the other side of r, when that one is placed.
            let behind = r as isize - step;
            let away_from = (0..l as isize)
                .contains(&behind)
                .then(|| out.ca[behind as usize])
                .flatten();
            let mut prev: Option<usize> = None;
            let mut cur = a0;
            let mut k = next;
            while (0..l as isize).contains(&k) && out.ca[k as usize].is_none() {
                let options: Vec<usize> = nb[cur]
                    .iter()
                    .copied()
                    .filter(|&b| Some(b) != prev && !held.contains_key(&b))
                    .collect();
                let choice = match prev {
                    Some(_) => options.first().copied(),
                    // The first step must leave the template: to the
                    // neighbour farther from the chain behind it, and only
                    // if that leads away. With nothing placed behind, there
                    // is no telling which way the chain runs.
                    None => away_from.and_then(|x| {
                        let here = (cloud[cur] - x).norm();
                        options
                            .iter()
                            .copied()
                            .map(|b| (b, (cloud[b] - x).norm()))
                            .filter(|&(_, d)| d > here)
                            .max_by(|a, b| a.1.total_cmp(&b.1))
                            .map(|(b, _)| b)
                    }),
                };
                let Some(b) = choice else { break };
                out.ca[k as usize] = Some(cloud[b]);
                held.insert(b, k as usize);
                on[k as usize] = Some(b);
                filled += 1;
                prev = Some(cur);
                cur = b;
                k += step;
            }
            r += 1;
        }
    }
    (out, filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Source;

    fn model(ca: Vec<Option<Vec3>>) -> TemplateModel {
        TemplateModel::new(Source::Reselected, "t", ca)
    }

    /// A zig-zag chain of `n` atoms 3.8 Å apart.
    fn chain(n: usize) -> Vec<Vec3> {
        (0..n)
            .map(|i| Vec3::new(3.3 * i as f64, if i % 2 == 0 { 0.0 } else { 1.9 }, 0.0))
            .collect()
    }

    #[test]
    fn ends_follow_the_path_and_stop_at_its_end() {
        let cloud = chain(12);
        let paths = vec![(0..12).collect::<Vec<_>>()];
        // Residues 3..6 placed on atoms 3..6; a query of 14 residues.
        let mut ca = vec![None; 14];
        for (slot, p) in ca.iter_mut().zip(&cloud).take(7).skip(3) {
            *slot = Some(*p);
        }
        let (out, n) = extend_along_paths(&model(ca), &cloud, &paths);
        // 3 residues before (atoms 2, 1, 0), 5 after (atoms 7..11); residues
        // 12 and 13 have no atom left.
        assert_eq!(n, 8);
        for (r, (x, p)) in out.ca.iter().zip(&cloud).enumerate() {
            assert_eq!(*x, Some(*p), "residue {r}");
        }
        assert_eq!(out.ca[12], None);
    }

    #[test]
    fn walks_stop_at_held_atoms_and_need_a_direction() {
        let cloud = chain(10);
        let paths = vec![(0..10).collect::<Vec<_>>()];
        // Residues 0..3 on atoms 0..3; residue 8 alone on atom 5.
        let mut ca = vec![None; 10];
        for (slot, p) in ca.iter_mut().zip(&cloud).take(4) {
            *slot = Some(*p);
        }
        ca[8] = Some(cloud[5]);
        let (out, n) = extend_along_paths(&model(ca), &cloud, &paths);
        // Forwards from residue 3: atom 4, then atom 5 is held. Residue 8 has
        // no placed neighbour to tell its way, so it starts no walk (atom 6
        // would run the wrong way).
        assert_eq!(n, 1);
        assert_eq!(out.ca[4], Some(cloud[4]));
        assert!((5..8).all(|r| out.ca[r].is_none()));
        assert_eq!(out.ca[9], None);
    }

    #[test]
    fn a_residue_off_the_cloud_starts_no_walk() {
        let cloud = chain(8);
        let paths = vec![(0..8).collect::<Vec<_>>()];
        let mut ca = vec![None; 8];
        ca[3] = Some(cloud[3] + Vec3::new(0.0, 0.0, 2.0));
        ca[4] = Some(cloud[4] + Vec3::new(0.0, 0.0, 2.0));
        let (out, n) = extend_along_paths(&model(ca.clone()), &cloud, &paths);
        assert_eq!(n, 0);
        assert_eq!(out.ca, ca);
    }
}
