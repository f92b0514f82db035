//! Optimal rigid superposition (Kabsch 1976) and RMSD.
//!
//! [`superpose`] returns the rotation and translation that move `mobile` onto
//! `target` with least squared deviation, optionally weighted. Reflections are
//! excluded (the determinant correction), as in the TM-score program's `u3b`.

use crate::Vec3;
use nalgebra::Matrix3;

/// A proper rigid transform `x ↦ R·x + t`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transform {
    pub rotation: Matrix3<f64>,
    pub translation: Vec3,
}

impl Transform {
    pub fn identity() -> Self {
        Transform {
            rotation: Matrix3::identity(),
            translation: Vec3::zeros(),
        }
    }
    #[inline]
    pub fn apply(&self, p: &Vec3) -> Vec3 {
        self.rotation * p + self.translation
    }
}

/// The best superposition of `mobile` onto `target` and its RMSD.
#[derive(Debug, Clone, Copy)]
pub struct Superposition {
    pub transform: Transform,
    pub rmsd: f64,
}

/// Least-squares superposition of `mobile` onto `target` (same length, paired by index).
/// Fewer than one pair gives the identity with RMSD 0.
pub fn superpose(mobile: &[Vec3], target: &[Vec3]) -> Superposition {
    superpose_weighted(mobile, target, None)
}

/// As [`superpose`], with a non-negative weight per pair.
pub fn superpose_weighted(
    mobile: &[Vec3],
    target: &[Vec3],
    weights: Option<&[f64]>,
) -> Superposition {
    assert_eq!(mobile.len(), target.len(), "superpose: unpaired point sets");
    let n = mobile.len();
    let w = |i: usize| weights.map_or(1.0, |w| w[i]);
    let wsum: f64 = (0..n).map(w).sum();
    if n == 0 || wsum <= 0.0 {
        return Superposition {
            transform: Transform::identity(),
            rmsd: 0.0,
        };
    }
    let mut cm = Vec3::zeros();
    let mut ct = Vec3::zeros();
    for i in 0..n {
        cm += mobile[i] * w(i);
        ct += target[i] * w(i);
    }
    cm /= wsum;
    ct /= wsum;
    let mut h = Matrix3::zeros();
    for i in 0..n {
        h += (mobile[i] - cm) * (target[i] - ct).transpose() * w(i);
    }
    let svd = h.svd(true, true);
    let (u, v_t) = (svd.u.unwrap(), svd.v_t.unwrap());
    let mut d = Matrix3::identity();
    if (v_t.transpose() * u.transpose()).determinant() < 0.0 {
        d[(2, 2)] = -1.0;
    }
    let rotation = v_t.transpose() * d * u.transpose();
    let translation = ct - rotation * cm;
    let transform = Transform {
        rotation,
        translation,
    };
    let mut sq = 0.0;
    for i in 0..n {
        sq += w(i) * (transform.apply(&mobile[i]) - target[i]).norm_squared();
    }
    Superposition {
        transform,
        rmsd: (sq / wsum).sqrt(),
    }
}

/// RMSD of paired points without superposition.
pub fn rmsd_in_place(a: &[Vec3], b: &[Vec3]) -> f64 {
    assert_eq!(a.len(), b.len());
    if a.is_empty() {
        return 0.0;
    }
    let s: f64 = a.iter().zip(b).map(|(p, q)| (p - q).norm_squared()).sum();
    (s / a.len() as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Rotation3;

    #[test]
    fn recovers_a_rigid_motion() {
        let pts: Vec<Vec3> = (0..20)
            .map(|i| {
                let t = i as f64;
                Vec3::new(t.sin() * 5.0, t.cos() * 3.0, t * 1.5)
            })
            .collect();
        let r = Rotation3::from_euler_angles(0.3, -1.1, 2.0);
        let t = Vec3::new(10.0, -4.0, 7.5);
        let moved: Vec<Vec3> = pts.iter().map(|p| r * p + t).collect();
        let s = superpose(&pts, &moved);
        assert!(s.rmsd < 1e-9, "rmsd {}", s.rmsd);
        assert!((s.transform.rotation - r.matrix()).norm() < 1e-9);
        // Mirror images cannot be superposed exactly: no reflection is allowed.
        let mirrored: Vec<Vec3> = pts.iter().map(|p| Vec3::new(-p.x, p.y, p.z)).collect();
        let s = superpose(&pts, &mirrored);
        assert!(s.rmsd > 0.5);
        assert!((s.transform.rotation.determinant() - 1.0).abs() < 1e-9);
    }
}
