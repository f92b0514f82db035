//! [`DensityMap`]: a 3D grid of density values that knows where it sits in space.
//!
//! Memory layout is x fastest, then y, then z, whatever axis order the file used.
//! `origin` is the position in Å of voxel (0, 0, 0); voxel (i, j, k) sits at
//! `origin + (i·vx, j·vy, k·vz)`. Grid indices stay inside this module and the
//! kernels: public lookups take positions in Å.

use crate::Vec3;

#[derive(Debug, Clone, PartialEq)]
pub struct DensityMap {
    dims: [usize; 3],
    voxel_size: [f64; 3],
    origin: Vec3,
    data: Vec<f32>,
}

/// Why a [`DensityMap`] could not be made.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MapError {
    #[error("grid {dims:?} needs {expected} values, got {got}")]
    WrongLength {
        dims: [usize; 3],
        expected: usize,
        got: usize,
    },
    #[error("voxel size must be positive and finite, got {0:?}")]
    BadVoxel([f64; 3]),
    #[error("grid dimensions must be positive, got {0:?}")]
    EmptyGrid([usize; 3]),
}

impl DensityMap {
    /// A map from values in x-fastest order.
    pub fn new(
        dims: [usize; 3],
        voxel_size: [f64; 3],
        origin: Vec3,
        data: Vec<f32>,
    ) -> Result<Self, MapError> {
        if dims.contains(&0) {
            return Err(MapError::EmptyGrid(dims));
        }
        if voxel_size.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(MapError::BadVoxel(voxel_size));
        }
        let expected = dims[0] * dims[1] * dims[2];
        if data.len() != expected {
            return Err(MapError::WrongLength {
                dims,
                expected,
                got: data.len(),
            });
        }
        Ok(DensityMap {
            dims,
            voxel_size,
            origin,
            data,
        })
    }

    /// A map of zeros.
    pub fn zeros(dims: [usize; 3], voxel_size: [f64; 3], origin: Vec3) -> Result<Self, MapError> {
        let n = dims[0].saturating_mul(dims[1]).saturating_mul(dims[2]);
        Self::new(dims, voxel_size, origin, vec![0.0; n])
    }

    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }
    pub fn voxel_size(&self) -> [f64; 3] {
        self.voxel_size
    }
    /// Position in Å of voxel (0, 0, 0).
    pub fn origin(&self) -> Vec3 {
        self.origin
    }
    pub fn set_origin(&mut self, origin: Vec3) {
        self.origin = origin;
    }
    /// Values in x-fastest order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Linear index of voxel (i, j, k).
    #[inline]
    pub(crate) fn index(&self, i: usize, j: usize, k: usize) -> usize {
        i + self.dims[0] * (j + self.dims[1] * k)
    }

    /// Value of voxel (i, j, k).
    #[inline]
    pub(crate) fn at(&self, i: usize, j: usize, k: usize) -> f32 {
        self.data[self.index(i, j, k)]
    }

    /// Position in Å of voxel (i, j, k).
    #[inline]
    pub fn voxel_position(&self, i: usize, j: usize, k: usize) -> Vec3 {
        self.origin
            + Vec3::new(
                i as f64 * self.voxel_size[0],
                j as f64 * self.voxel_size[1],
                k as f64 * self.voxel_size[2],
            )
    }

    /// Fractional grid coordinates of a point in Å (voxel centres at integers).
    #[inline]
    pub(crate) fn grid_coords(&self, p: Vec3) -> [f64; 3] {
        let d = p - self.origin;
        [
            d.x / self.voxel_size[0],
            d.y / self.voxel_size[1],
            d.z / self.voxel_size[2],
        ]
    }

    /// Density at a point in Å by trilinear interpolation; `None` outside the grid.
    pub fn value_at(&self, p: Vec3) -> Option<f32> {
        let g = self.grid_coords(p);
        let mut base = [0usize; 3];
        let mut frac = [0f64; 3];
        for a in 0..3 {
            let n = self.dims[a];
            if !(g[a] >= 0.0 && g[a] <= (n - 1) as f64) {
                return None;
            }
            let f = g[a].floor();
            // Keep the upper neighbour inside the grid on the last plane.
            let b = (f as usize).min(n.saturating_sub(2));
            base[a] = b;
            frac[a] = g[a] - b as f64;
        }
        let mut v = 0.0f64;
        for dz in 0..2 {
            for dy in 0..2 {
                for dx in 0..2 {
                    let (i, j, k) = (
                        (base[0] + dx).min(self.dims[0] - 1),
                        (base[1] + dy).min(self.dims[1] - 1),
                        (base[2] + dz).min(self.dims[2] - 1),
                    );
                    let w = (if dx == 1 { frac[0] } else { 1.0 - frac[0] })
                        * (if dy == 1 { frac[1] } else { 1.0 - frac[1] })
                        * (if dz == 1 { frac[2] } else { 1.0 - frac[2] });
                    v += w * self.at(i, j, k) as f64;
                }
            }
        }
        Some(v as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn construction_checks() {
        assert!(DensityMap::new([2, 2, 2], [1.0; 3], Vec3::zeros(), vec![0.0; 7]).is_err());
        assert!(DensityMap::new([2, 0, 2], [1.0; 3], Vec3::zeros(), vec![]).is_err());
        assert!(DensityMap::new([1, 1, 1], [0.0, 1.0, 1.0], Vec3::zeros(), vec![0.0]).is_err());
    }

    #[test]
    fn trilinear_lookup_in_angstrom() {
        // f = x + 10 y + 100 z in voxel units, voxel 2 Å, origin (1, 1, 1) Å.
        let dims = [3, 3, 3];
        let mut data = vec![0.0; 27];
        for k in 0..3 {
            for j in 0..3 {
                for i in 0..3 {
                    data[i + 3 * (j + 3 * k)] = (i + 10 * j + 100 * k) as f32;
                }
            }
        }
        let m = DensityMap::new(dims, [2.0; 3], Vec3::new(1.0, 1.0, 1.0), data).unwrap();
        assert_eq!(m.value_at(Vec3::new(1.0, 1.0, 1.0)), Some(0.0));
        let v = m.value_at(Vec3::new(2.0, 4.0, 5.0)).unwrap();
        assert!((v - (0.5 + 15.0 + 200.0)).abs() < 1e-4);
        assert_eq!(m.value_at(Vec3::new(5.0, 5.0, 5.0)), Some(222.0));
        assert_eq!(m.value_at(Vec3::new(0.9, 1.0, 1.0)), None);
    }
}
