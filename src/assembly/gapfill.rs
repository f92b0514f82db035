//! Full-length starting chains from partial template models.
//!
//! A replica starts from one of the 40 templates, but a template covers only
//! the query residues its alignment reaches. Gaps between two aligned residues
//! are bridged by a circular arc with 3.8 Å bonds (a straight line when the
//! anchors are already too far apart; the bond term then pulls them together);
//! unaligned termini grow as a walk. Crude on purpose: the Monte Carlo
//! rebuilds these regions, and the map and knowledge terms decide their shape.
//!
//! Where the walk goes matters, though. A persistent random walk of 40
//! residues leaves the protein by 30 Å or more, where the map is flat and the
//! map term cannot pull it back in a few dozen sweeps: on train chains whose
//! templates leave a terminal domain out (1H0P at 3 Å), model 1 kept that
//! domain outside the density. With a Cα cloud ([`complete_guided`]) the
//! terminal residues that almost no starting template places (orphans,
//! [`Guide`]) step from one free cloud atom (one no residue of this template
//! sits on) to the next, and head for the nearest free atom when none is a
//! bond away, so they start in their density, though not in register.
//! Residues that other templates place keep the random walk: when every
//! terminal residue was guided, train chain 1JVW lost 0.17 of model 1's
//! TM-score, its N-terminus filling the density of the C-terminal domain
//! (24 train homologs at 3 Å: +0.002; orphans only: +0.005, 6 up, 2 down;
//! 24 validation chains: +0.007, 8 up, 2 down; BENCHMARKS.md). The pipeline
//! guides them at every resolution (10 Å train homologs +0.006; the 5–15 Å
//! test bin, rerun after the choice, Hard +0.008, Easy ±0.000).

use rand_chacha::ChaCha8Rng;

use super::geometry::random_unit;
use crate::structure::CA_CA as BOND;
use crate::template::TemplateModel;
use crate::Vec3;

/// `m` points strictly between `a` and `b`, `BOND` apart, on a circular arc
/// through both that bulges along `u` (perpendicular to b − a): points equally
/// spaced in angle on a circle are equally spaced in distance, so every bond
/// comes out at the ideal length. Anchors already too far apart give a
/// straight, evenly spaced line instead.
fn bridge_arc(a: Vec3, b: Vec3, m: usize, u: Vec3) -> Vec<Vec3> {
    let d = (b - a).norm();
    let steps = (m + 1) as f64;
    if d >= steps * BOND || d < 1e-9 {
        return (1..=m).map(|k| a + (b - a) * (k as f64 / steps)).collect();
    }
    // Chord of one step for a total arc angle θ: D·sin(θ/2(m+1)) / sin(θ/2);
    // it grows from D/(m+1) at θ → 0 without bound as θ → 2π.
    let chord = |theta: f64| d * (theta / (2.0 * steps)).sin() / (theta / 2.0).sin();
    let (mut lo, mut hi) = (1e-9, 2.0 * std::f64::consts::PI - 1e-9);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if chord(mid) < BOND {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let theta = 0.5 * (lo + hi);
    let r = d / (2.0 * (theta / 2.0).sin());
    let centre = (a + b) * 0.5 - u * (r * (theta / 2.0).cos());
    let va = a - centre;
    let axis = (b - a).cross(&u).normalize();
    let point = |n: &Vec3, phi: f64| centre + va * phi.cos() + n.cross(&va) * phi.sin();
    let n = if (point(&axis, theta) - b).norm() < (point(&-axis, theta) - b).norm() {
        axis
    } else {
        -axis
    };
    (1..=m)
        .map(|k| point(&n, theta * k as f64 / steps))
        .collect()
}

/// Bridges `m` missing residues between anchors `a` and `b`.
fn bridge(a: Vec3, b: Vec3, m: usize, rng: &mut ChaCha8Rng) -> Vec<Vec3> {
    let axis = (b - a)
        .try_normalize(1e-9)
        .unwrap_or_else(|| random_unit(rng));
    let u = random_unit(rng);
    let u = (u - axis * u.dot(&axis))
        .try_normalize(1e-6)
        .unwrap_or_else(|| axis.cross(&Vec3::x()).normalize());
    bridge_arc(a, b, m, u)
}

/// The direction a walk from `from` leaves in: away from `before`, or at
/// random.
fn first_direction(from: Vec3, before: Option<Vec3>, rng: &mut ChaCha8Rng) -> Vec3 {
    before
        .and_then(|b| (from - b).try_normalize(1e-9))
        .unwrap_or_else(|| random_unit(rng))
}

/// The next bond direction of a persistent walk: successive bonds about 70°
/// apart on average, near the Cα bond angle of real chains.
fn turn(dir: Vec3, rng: &mut ChaCha8Rng) -> Vec3 {
    (dir + random_unit(rng) * 1.2).normalize()
}

/// Grows `m` residues from `from` (the last placed one) away from `before`.
fn walk(from: Vec3, before: Option<Vec3>, m: usize, rng: &mut ChaCha8Rng) -> Vec<Vec3> {
    let mut dir = first_direction(from, before, rng);
    let mut p = from;
    (0..m)
        .map(|_| {
            dir = turn(dir, rng);
            p += dir * BOND;
            p
        })
        .collect()
}

/// A cloud atom counts as taken by a template residue within this, Å.
pub const TAKEN_WITHIN: f64 = 3.0;

/// Bond lengths a guided step accepts, Å (Cα–Cα 3.8 Å, cloud atoms off by
/// up to about 0.8 Å).
const STEP: (f64, f64) = (3.0, 4.6);

/// A guided walk heads for free cloud atoms at most this far away, Å; beyond,
/// it walks at random.
const HOMING: f64 = 15.0;

/// A residue is an orphan when fewer than this fraction of the starting
/// templates place it.
pub const ORPHAN_BELOW: f64 = 0.1;

/// What guides the termini walks: the Cα cloud and the residues that no
/// template restrains (orphans). Only orphans are walked through the cloud:
/// a residue that other templates place gets its position from their
/// restraints, and filling the free density with it takes that density from
/// the residues it belongs to (train chain 1JVW at 3 Å: model 1 0.603 →
/// 0.431 when every terminal residue was guided).
#[derive(Debug, Clone, Default)]
pub struct Guide {
    pub atoms: Vec<Vec3>,
    pub orphan: Vec<bool>,
}

impl Guide {
    /// The orphans of a query of `len` residues among `templates`.
    pub fn new(atoms: &[Vec3], templates: &[TemplateModel], len: usize) -> Guide {
        let mut placed = vec![0usize; len];
        for t in templates {
            for (r, _) in t.aligned_pairs() {
                if r < len {
                    placed[r] += 1;
                }
            }
        }
        let floor = ORPHAN_BELOW * templates.len() as f64;
        Guide {
            atoms: atoms.to_vec(),
            orphan: placed.iter().map(|&c| (c as f64) < floor).collect(),
        }
    }

    fn guides(&self, r: usize) -> bool {
        self.orphan.get(r).copied().unwrap_or(false)
    }
}

/// Free cloud atoms: `guide` atoms farther than [`TAKEN_WITHIN`] from every
/// placed residue of `model`.
fn free_atoms(model: &TemplateModel, guide: &[Vec3]) -> Vec<Vec3> {
    let placed = model.aligned_ca();
    guide
        .iter()
        .filter(|g| {
            placed
                .iter()
                .all(|p| (*p - **g).norm_squared() > TAKEN_WITHIN * TAKEN_WITHIN)
        })
        .copied()
        .collect()
}

/// Grows residues from `from` away from `before`, one per entry of
/// `guided`. A guided residue goes through the free atoms `free` (those in
/// `used` are taken): a step to a free atom a bond away, preferring one at a
/// chain-like bond angle (80–150°); with none, a bond towards the nearest
/// free atom within [`HOMING`]. Other residues, and guided ones with no free
/// atom in reach, take a persistent random step as in `walk`.
fn guided_walk(
    from: Vec3,
    before: Option<Vec3>,
    guided: &[bool],
    free: &[Vec3],
    used: &mut [bool],
    rng: &mut ChaCha8Rng,
) -> Vec<Vec3> {
    use rand::Rng;
    let mut dir = first_direction(from, before, rng);
    let mut p = from;
    let mut out = Vec::with_capacity(guided.len());
    for &g in guided {
        if !g {
            dir = turn(dir, rng);
            p += dir * BOND;
            out.push(p);
            continue;
        }
        let steps: Vec<usize> = (0..free.len())
            .filter(|&a| {
                !used[a] && {
                    let d = (free[a] - p).norm();
                    (STEP.0..=STEP.1).contains(&d)
                }
            })
            .collect();
        let chain_like: Vec<usize> = steps
            .iter()
            .copied()
            .filter(|&a| {
                // The angle at p between the bond behind and the next one.
                let c = (-dir).dot(&(free[a] - p).normalize());
                (-0.866..=0.174).contains(&c)
            })
            .collect();
        let pick = if chain_like.is_empty() {
            &steps
        } else {
            &chain_like
        };
        let next = if pick.is_empty() {
            let nearest = (0..free.len())
                .filter(|&a| !used[a])
                .map(|a| (a, (free[a] - p).norm()))
                .filter(|&(_, d)| d <= HOMING)
                .min_by(|a, b| a.1.total_cmp(&b.1));
            match nearest {
                Some((a, d)) if d <= STEP.1 => {
                    used[a] = true;
                    free[a]
                }
                Some((a, _)) => p + (free[a] - p).normalize() * BOND,
                None => p + turn(dir, rng) * BOND,
            }
        } else {
            let a = pick[rng.random_range(0..pick.len())];
            used[a] = true;
            free[a]
        };
        dir = (next - p).try_normalize(1e-9).unwrap_or(dir);
        p = next;
        out.push(p);
    }
    out
}

/// A full-length Cα chain from `model`: aligned residues kept, the rest
/// filled. A model with no residue at all becomes a random walk from `centre`.
pub fn complete(model: &TemplateModel, centre: Vec3, rng: &mut ChaCha8Rng) -> Vec<Vec3> {
    complete_guided(model, centre, &Guide::default(), rng)
}

/// As [`complete`], the orphan residues of the termini walked through the
/// atoms of the Cα cloud that the model leaves free (module doc); an empty
/// [`Guide`] gives [`complete`]'s random walks.
pub fn complete_guided(
    model: &TemplateModel,
    centre: Vec3,
    guide: &Guide,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec3> {
    let n = model.query_len();
    let anchors = model.aligned_pairs();
    let mut out: Vec<Option<Vec3>> = model.ca.clone();
    if anchors.is_empty() {
        let mut pts = vec![centre];
        pts.extend(walk(centre, None, n.saturating_sub(1), rng));
        return pts;
    }
    for w in anchors.windows(2) {
        let ((i, a), (j, b)) = (w[0], w[1]);
        if j > i + 1 {
            for (k, p) in bridge(a, b, j - i - 1, rng).into_iter().enumerate() {
                out[i + 1 + k] = Some(p);
            }
        }
    }
    let free = free_atoms(model, &guide.atoms);
    let mut used = vec![false; free.len()];
    // Residues in walking order, outwards from the anchor.
    let mut grow = |from: Vec3, before: Option<Vec3>, residues: &[usize], rng: &mut ChaCha8Rng| {
        let guided: Vec<bool> = residues.iter().map(|&r| guide.guides(r)).collect();
        if free.is_empty() || !guided.contains(&true) {
            walk(from, before, residues.len(), rng)
        } else {
            guided_walk(from, before, &guided, &free, &mut used, rng)
        }
    };
    let (first, a0) = anchors[0];
    let before = anchors.get(1).map(|x| x.1);
    let residues: Vec<usize> = (0..first).rev().collect();
    for (r, p) in residues.iter().zip(grow(a0, before, &residues, rng)) {
        out[*r] = Some(p);
    }
    let (last, z0) = anchors[anchors.len() - 1];
    let before = (anchors.len() >= 2).then(|| anchors[anchors.len() - 2].1);
    let residues: Vec<usize> = (last + 1..n).collect();
    for (r, p) in residues.iter().zip(grow(z0, before, &residues, rng)) {
        out[*r] = Some(p);
    }
    out.into_iter()
        .map(|p| p.expect("every residue filled"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Source;
    use rand::SeedableRng;

    #[test]
    fn gaps_and_termini_get_bond_length_steps() {
        let s = crate::io::read_structure(std::path::Path::new("tests/data/3j6b_9.pdb")).unwrap();
        let ca = s.chains[0].ca_coords();
        let n = ca.len();
        // Keep residues 10..40 and 60..n-15: gaps inside and at both ends.
        let model = TemplateModel {
            source: Source::Threading,
            template_id: "3j6b_9".into(),
            zscore: 0.0,
            ca: (0..n)
                .map(|i| ((10..40).contains(&i) || (60..n - 15).contains(&i)).then(|| ca[i]))
                .collect(),
            crscore: None,
            density_pcc: None,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let full = complete(&model, Vec3::zeros(), &mut rng);
        assert_eq!(full.len(), n);
        for i in (10..40).chain(60..n - 15) {
            assert_eq!(full[i], ca[i]);
        }
        // Bonds that touch a filled residue (the deposited chain has breaks of its own).
        let filled = |i: usize| model.ca[i].is_none();
        let bonds: Vec<f64> = (1..n)
            .filter(|&i| filled(i) || filled(i - 1))
            .map(|i| (full[i] - full[i - 1]).norm())
            .collect();
        let bad = bonds.iter().filter(|b| (**b - 3.8).abs() > 0.3).count();
        assert!(bad == 0, "{bad} bonds far from 3.8 Å: {bonds:?}");
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        assert_eq!(complete(&model, Vec3::zeros(), &mut rng), full);
    }

    #[test]
    fn guided_termini_stay_in_the_cloud() {
        let s = crate::io::read_structure(std::path::Path::new("tests/data/3j6b_9.pdb")).unwrap();
        let ca = s.chains[0].ca_coords();
        let n = ca.len();
        // The template lacks the last 40 residues; the cloud holds every Cα.
        let model = TemplateModel::new(
            Source::Threading,
            "3j6b_9",
            (0..n).map(|i| (i < n - 40).then(|| ca[i])).collect(),
        );
        let on_cloud = |full: &[Vec3]| {
            full[n - 40..]
                .iter()
                .filter(|p| ca.iter().any(|c| (*c - **p).norm() < 1e-9))
                .count()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        // The last 40 residues are orphans: no other template places them.
        let guide = Guide::new(&ca, std::slice::from_ref(&model), n);
        assert_eq!(guide.orphan.iter().filter(|&&o| o).count(), 40);
        let guided = complete_guided(&model, Vec3::zeros(), &guide, &mut rng);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let random = complete(&model, Vec3::zeros(), &mut rng);
        // Every step lands on a free atom; the random walk on none.
        assert!(
            on_cloud(&guided) >= 36,
            "{} of 40 on the cloud",
            on_cloud(&guided)
        );
        assert_eq!(on_cloud(&random), 0);
        // No atom is used twice, none the template holds.
        for (i, p) in guided[n - 40..].iter().enumerate() {
            assert!(guided[..n - 40 + i].iter().all(|q| (q - p).norm() > 1e-6));
        }
        // The walk ends near where it started: inside the protein, unlike a
        // random walk.
        let spread = |full: &[Vec3]| (full[n - 1] - full[n - 41]).norm();
        assert!(
            spread(&guided) < spread(&random),
            "{} vs {}",
            spread(&guided),
            spread(&random)
        );
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        assert_eq!(
            complete_guided(&model, Vec3::zeros(), &guide, &mut rng),
            guided
        );
        // Residues that other templates place are left to their restraints.
        let full = TemplateModel::new(
            Source::Threading,
            "full",
            ca.iter().map(|&c| Some(c)).collect(),
        );
        let guide = Guide::new(&ca, &[model.clone(), full], n);
        assert!(guide.orphan.iter().all(|&o| !o));
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        assert_eq!(
            complete_guided(&model, Vec3::zeros(), &guide, &mut rng),
            random
        );
    }
}
