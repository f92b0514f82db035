//! One starting model pieced together from the Cα-trace templates.
//!
//! Not in the paper, whose 40 traces each stand alone. A random trace
//! through the Cα cloud stops where it has used up its neighbours, or runs
//! on across a contact into another part of the protein, and the gapped
//! alignment ([`super::regenerate`]) puts it on one stretch of the sequence:
//! the first trace covers a part of the chain and the others cover other
//! parts, often in register. On 24 validation chains at 3 Å the first trace
//! template put 56 % of the residues within 3 Å of their own native Cα, the
//! best of the 40 templates 67 %; pieced together as below, 68 %
//! (BENCHMARKS.md, "Composite of the Cα traces").
//!
//! The composite starts as the first template. Each next template, in rank
//! order, lends its runs of at least [`MIN_RUN`] consecutive residues that
//! the composite lacks, placed on cloud atoms that the composite does not
//! use (none of its Cα within [`SAME_ATOM`]), when both ends of the run lie
//! within reach of the composite's nearest residue on that side in the same
//! chain (3.8 Å per residue of separation, plus [`REACH_SLACK`]; no bond
//! spans a chain break, [`crate::topology`]). Short runs are where two traces
//! disagree on the register; a run out of reach of its neighbours is on the
//! wrong stretch of the sequence or the wrong part of the protein.
//!
//! On Easy targets the same piecing fills the first re-selected template's
//! gaps from traces grown as on Hard targets ([`super::select`]): on 10 of
//! 100 train homologs at 3 Å the first template rose from TM 0.711 to 0.785.

use super::{Source, TemplateModel};
use crate::structure::CA_CA;
use crate::topology::Topology;
use crate::Vec3;

/// Shortest run of residues a later template lends.
pub const MIN_RUN: usize = 5;
/// Cα closer than this (Å) to one of the composite's sit on the same cloud atom.
pub const SAME_ATOM: f64 = 2.0;
/// Slack (Å) on the chain's reach between a run's end and its neighbour.
pub const REACH_SLACK: f64 = 1.0;

/// The composite of `models` (module doc) for a query of chains `topology`,
/// or `None` when the later models add nothing to the first. Models of
/// another query length are skipped.
pub fn compose(models: &[TemplateModel], topology: &Topology) -> Option<TemplateModel> {
    let first = models.first()?;
    let l = first.query_len();
    let single = Topology::single(l);
    let topology = if topology.len() == l {
        topology
    } else {
        &single
    };
    let mut ca = first.ca.clone();
    let mut taken: Vec<Vec3> = first.aligned_ca();
    let mut added = 0;
    for m in models[1..].iter().filter(|m| m.query_len() == l) {
        let lends: Vec<bool> = (0..l)
            .map(|i| {
                ca[i].is_none()
                    && m.ca[i].is_some_and(|p| taken.iter().all(|a| (a - p).norm() > SAME_ATOM))
            })
            .collect();
        let mut i = 0;
        while i < l {
            if !lends[i] {
                i += 1;
                continue;
            }
            let start = i;
            while i < l && lends[i] {
                i += 1;
            }
            let run = start..i;
            if run.len() < MIN_RUN {
                continue;
            }
            let head = m.ca[start].expect("lends");
            let tail = m.ca[i - 1].expect("lends");
            // A run may span a break; each end looks within its own chain.
            let (before, after) = (topology.range_of(start), topology.range_of(i - 1));
            if within_reach(&ca, start, head, (before.start..start).rev())
                && within_reach(&ca, i - 1, tail, i..after.end)
            {
                for k in run {
                    ca[k] = m.ca[k];
                    taken.push(m.ca[k].expect("lends"));
                }
                added += i - start;
            }
        }
    }
    (added > 0).then(|| TemplateModel::new(Source::Regenerated, "composite", ca))
}

/// Whether residue `end` at `p` can be bonded through the residues between
/// to the first residue of `ca` present along `side` (true when none is;
/// `side` stays within `end`'s chain).
fn within_reach(
    ca: &[Option<Vec3>],
    end: usize,
    p: Vec3,
    mut side: impl Iterator<Item = usize>,
) -> bool {
    match side.find_map(|k| ca[k].map(|q| (k, q))) {
        Some((k, q)) => (q - p).norm() <= CA_CA * end.abs_diff(k) as f64 + REACH_SLACK,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> Vec<Vec3> {
        let s = crate::io::read_structure(std::path::Path::new("tests/data/3j6b_9.pdb")).unwrap();
        s.chains[0].ca_coords()
    }

    fn model(ca: &[Vec3], keep: impl Fn(usize) -> bool) -> TemplateModel {
        TemplateModel::new(
            Source::Regenerated,
            "t",
            (0..ca.len()).map(|i| keep(i).then(|| ca[i])).collect(),
        )
    }

    #[test]
    fn later_traces_fill_what_the_first_lacks() {
        let ca = chain();
        let n = ca.len();
        let first = model(&ca, |i| (40..120).contains(&i));
        // Overlaps the first on 100..120 and goes on to the end.
        let second = model(&ca, |i| i >= 100);
        // The start of the chain on free atoms but in the wrong register:
        // residue i on the atom of residue i + 130, out of reach of residue 40.
        let mut shifted = model(&ca, |i| i < 40);
        for (i, c) in shifted.ca.iter_mut().enumerate().take(40) {
            *c = Some(ca[i + 130]);
        }
        assert!((ca[169] - ca[40]).norm() > CA_CA + REACH_SLACK);
        // Residues 0..40 on their own atoms, but in runs of 3.
        let choppy = model(&ca, |i| i < 40 && i % 4 != 3);
        let c = compose(
            &[first.clone(), shifted, second, choppy],
            &Topology::single(n),
        )
        .unwrap();
        assert_eq!(c.source, Source::Regenerated);
        for (i, a) in ca.iter().enumerate().skip(40) {
            assert_eq!(c.ca[i], Some(*a), "residue {i}");
        }
        for i in 0..40 {
            assert_eq!(c.ca[i], None, "residue {i}");
        }
        // Nothing to add: no composite.
        let one = Topology::single(n);
        assert!(compose(&[first.clone(), first.clone()], &one).is_none());
        assert!(compose(&[first], &one).is_none());
    }

    #[test]
    fn runs_on_taken_atoms_are_refused() {
        let ca = chain();
        let first = model(&ca, |i| (40..120).contains(&i));
        // Residues 0..40 placed on the first model's atoms 60..100: in reach
        // of residue 40, but every atom is taken.
        let mut onto = model(&ca, |i| i < 40);
        for (i, c) in onto.ca.iter_mut().enumerate().take(40) {
            *c = Some(ca[i + 60]);
        }
        let one = Topology::single(ca.len());
        assert!(compose(&[first.clone(), onto], &one).is_none());
        // The same residues on their own atoms are lent.
        let own = model(&ca, |i| i < 40);
        let c = compose(&[first, own], &one).unwrap();
        assert_eq!(c.aligned_len(), 120);
    }

    #[test]
    fn reach_stops_at_a_chain_break() {
        let ca = chain();
        let n = ca.len();
        let first = model(&ca, |i| (40..120).contains(&i));
        // Residues 0..40 on free atoms far from residue 40: refused as one
        // chain, lent when a break follows residue 39.
        let mut far = model(&ca, |i| i < 40);
        for (i, c) in far.ca.iter_mut().enumerate().take(40) {
            *c = Some(ca[i + 130]);
        }
        let pair = [first, far];
        assert!(compose(&pair, &Topology::single(n)).is_none());
        let broken = Topology::from_lengths(&[40, n - 40]);
        assert_eq!(compose(&pair, &broken).unwrap().aligned_len(), 120);
    }
}
