//! Local geometry of a Cα trace: bond angles, torsions, and the side-chain
//! centroid placed from the three Cα around a residue.
//!
//! The reduced chain is Cα only; each residue's side chain is a centroid bead
//! whose position follows from Cα(i−1), Cα(i), Cα(i+1) through a per-residue-
//! type offset in a local frame (learned from the train split, [`super::stats`]).
//! I-TASSER carries the centroid as its own degree of freedom; deriving it from
//! the trace keeps a move's effect local and the state small, at the price of
//! side-chain flexibility that the full-atom stage restores.

use rand::Rng;

use crate::Vec3;

/// A uniformly random unit vector (rejection sampling in the unit ball).
pub fn random_unit(rng: &mut impl Rng) -> Vec3 {
    loop {
        let v = Vec3::new(
            rng.random_range(-1.0..1.0),
            rng.random_range(-1.0..1.0),
            rng.random_range(-1.0..1.0),
        );
        let n = v.norm();
        if n > 0.1 && n <= 1.0 {
            return v / n;
        }
    }
}

/// Angle at `b` (degrees) between `a` and `c`.
pub fn angle(a: &Vec3, b: &Vec3, c: &Vec3) -> f64 {
    let u = a - b;
    let v = c - b;
    let cos = u.dot(&v) / (u.norm() * v.norm()).max(1e-12);
    cos.clamp(-1.0, 1.0).acos().to_degrees()
}

/// Torsion (degrees, −180..180) of `a`-`b`-`c`-`d`.
pub fn dihedral(a: &Vec3, b: &Vec3, c: &Vec3, d: &Vec3) -> f64 {
    let b1 = b - a;
    let b2 = c - b;
    let b3 = d - c;
    let n1 = b1.cross(&b2);
    let n2 = b2.cross(&b3);
    let m = n1.cross(&b2.normalize());
    let x = n1.dot(&n2);
    let y = m.dot(&n2);
    (-y).atan2(x).to_degrees()
}

/// The local frame at residue `i` from its Cα neighbours: `b` along the
/// outward bisector, `n` normal to the Cα plane, `t = b × n`. `None` at chain
/// ends and for degenerate (straight) triples.
pub fn local_frame(prev: &Vec3, cur: &Vec3, next: &Vec3) -> Option<[Vec3; 3]> {
    let u = (cur - prev).try_normalize(1e-9)?;
    let v = (cur - next).try_normalize(1e-9)?;
    let b = (u + v).try_normalize(1e-6)?;
    let n = (next - cur).cross(&(prev - cur)).try_normalize(1e-6)?;
    let t = b.cross(&n);
    Some([b, n, t])
}

/// Side-chain centroid of residue `i` of `ca` from its offset in the local
/// frame; at the chain ends (no frame) the end residue borrows the frame of
/// its neighbour.
pub fn centroid(ca: &[Vec3], i: usize, offset: &[f64; 3]) -> Vec3 {
    let n = ca.len();
    let frame = if n < 3 {
        None
    } else {
        let j = i.clamp(1, n - 2);
        local_frame(&ca[j - 1], &ca[j], &ca[j + 1])
    };
    match frame {
        Some([b, nn, t]) => ca[i] + b * offset[0] + nn * offset[1] + t * offset[2],
        None => ca[i],
    }
}

/// Offset of `point` from `cur` in the local frame, the inverse of [`centroid`].
pub fn offset_in_frame(prev: &Vec3, cur: &Vec3, next: &Vec3, point: &Vec3) -> Option<[f64; 3]> {
    let [b, n, t] = local_frame(prev, cur, next)?;
    let d = point - cur;
    Some([d.dot(&b), d.dot(&n), d.dot(&t)])
}

/// Radius of gyration (Å).
pub fn radius_of_gyration(ca: &[Vec3]) -> f64 {
    if ca.is_empty() {
        return 0.0;
    }
    let c = ca.iter().sum::<Vec3>() / ca.len() as f64;
    (ca.iter().map(|p| (p - c).norm_squared()).sum::<f64>() / ca.len() as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torsion_signs_follow_the_iupac_convention() {
        // A right-handed α-helix has Cα torsions near +50°.
        let helix: Vec<Vec3> = (0..6)
            .map(|k| {
                let t = (k as f64 * 100.0).to_radians();
                Vec3::new(2.3 * t.cos(), 2.3 * t.sin(), 1.5 * k as f64)
            })
            .collect();
        let d = dihedral(&helix[0], &helix[1], &helix[2], &helix[3]);
        assert!(d > 30.0 && d < 70.0, "helix Cα torsion {d}");
        let a = angle(&helix[0], &helix[1], &helix[2]);
        assert!(a > 80.0 && a < 100.0, "helix Cα angle {a}");
    }

    #[test]
    fn centroid_round_trips_through_the_frame() {
        let ca = [
            Vec3::new(0.0, 0.0, 0.0),
            Vec3::new(3.8, 0.0, 0.0),
            Vec3::new(5.0, 3.6, 0.5),
        ];
        let p = Vec3::new(4.0, -1.5, 1.2);
        let off = offset_in_frame(&ca[0], &ca[1], &ca[2], &p).unwrap();
        let back = centroid(&ca, 1, &off);
        assert!((back - p).norm() < 1e-9);
    }
}
