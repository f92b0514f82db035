//! Full-length starting chains from partial template models.
//!
//! A replica starts from one of the 40 templates, but a template covers only
//! the query residues its alignment reaches. Gaps between two aligned residues
//! are bridged by a circular arc with 3.8 Å bonds (a straight line when the
//! anchors are already too far apart; the bond term then pulls them together);
//! unaligned termini grow as a persistent random walk.
//! Crude on purpose: the Monte Carlo rebuilds these regions, and the map and
//! knowledge terms decide their shape.

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

/// Grows `m` residues from `from` (the last placed one) away from `before`.
fn walk(from: Vec3, before: Option<Vec3>, m: usize, rng: &mut ChaCha8Rng) -> Vec<Vec3> {
    let mut dir = before
        .and_then(|b| (from - b).try_normalize(1e-9))
        .unwrap_or_else(|| random_unit(rng));
    let mut p = from;
    (0..m)
        .map(|_| {
            // Persistent walk: successive bonds about 70° apart on average,
            // near the Cα bond angle of real chains.
            dir = (dir + random_unit(rng) * 1.2).normalize();
            p += dir * BOND;
            p
        })
        .collect()
}

/// A full-length Cα chain from `model`: aligned residues kept, the rest
/// filled. A model with no residue at all becomes a random walk from `centre`.
pub fn complete(model: &TemplateModel, centre: Vec3, rng: &mut ChaCha8Rng) -> Vec<Vec3> {
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
    let (first, a0) = anchors[0];
    let before = anchors.get(1).map(|x| x.1);
    for (k, p) in walk(a0, before, first, rng).into_iter().enumerate() {
        out[first - 1 - k] = Some(p);
    }
    let (last, z0) = anchors[anchors.len() - 1];
    let before = (anchors.len() >= 2).then(|| anchors[anchors.len() - 2].1);
    for (k, p) in walk(z0, before, n - 1 - last, rng).into_iter().enumerate() {
        out[last + 1 + k] = Some(p);
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
}
