//! Local orthonormal frames built from three points, and the Cα-trace geometry
//! (distances, virtual dihedrals) that keys the statistics tables.

use crate::Vec3;
use nalgebra::Matrix3;

/// A right-handed frame: `origin`, x towards `toward_x`, y in the plane of
/// `toward_y` (its component perpendicular to x), z = x × y.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub origin: Vec3,
    /// Columns are the x, y, z axes in global coordinates.
    pub axes: Matrix3<f64>,
}

impl Frame {
    /// The frame at `origin`; when the three points are (nearly) collinear, a
    /// fixed perpendicular stands in so that degenerate input never yields NaN.
    pub fn new(toward_y: Vec3, origin: Vec3, toward_x: Vec3) -> Frame {
        let x = unit_or(toward_x - origin, Vec3::x());
        let a = toward_y - origin;
        let mut y = a - x * a.dot(&x);
        if y.norm() < 1e-6 {
            let helper = if x.x.abs() < 0.9 {
                Vec3::x()
            } else {
                Vec3::y()
            };
            y = helper - x * helper.dot(&x);
        }
        let y = y.normalize();
        let z = x.cross(&y);
        Frame {
            origin,
            axes: Matrix3::from_columns(&[x, y, z]),
        }
    }

    pub fn to_local(&self, p: Vec3) -> Vec3 {
        self.axes.transpose() * (p - self.origin)
    }

    pub fn to_global(&self, p: Vec3) -> Vec3 {
        self.origin + self.axes * p
    }
}

fn unit_or(v: Vec3, fallback: Vec3) -> Vec3 {
    let n = v.norm();
    if n > 1e-9 && n.is_finite() {
        v / n
    } else {
        fallback
    }
}

/// Dihedral angle a-b-c-d in degrees, in [0, 360).
pub fn dihedral_deg(a: Vec3, b: Vec3, c: Vec3, d: Vec3) -> f64 {
    let deg = crate::assembly::geometry::dihedral(&a, &b, &c, &d);
    let deg = if deg.is_finite() { deg } else { 0.0 };
    deg.rem_euclid(360.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trip_and_dihedral_sign() {
        let f = Frame::new(
            Vec3::new(1.0, 2.0, 0.5),
            Vec3::new(0.3, -0.2, 0.1),
            Vec3::new(4.0, 0.0, 0.0),
        );
        let p = Vec3::new(-1.5, 3.0, 2.2);
        assert!((f.to_global(f.to_local(p)) - p).norm() < 1e-12);
        assert!((f.axes.determinant() - 1.0).abs() < 1e-12);
        // A right-handed (+60°) and a left-handed (-60° = 300°) turn.
        let (a, b, c) = (Vec3::new(1.0, 1.0, 0.0), Vec3::zeros(), Vec3::x());
        let d = |deg: f64| {
            let r = deg.to_radians();
            Vec3::new(1.0, r.cos(), r.sin())
        };
        assert!((dihedral_deg(a, b, c, d(60.0)) - 60.0).abs() < 1e-9);
        assert!((dihedral_deg(a, b, c, d(-60.0)) - 300.0).abs() < 1e-9);
    }
}
