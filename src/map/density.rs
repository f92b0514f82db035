//! [`DensityMap`]: a 3D grid of density values that knows where it sits in space.
//!
//! Memory layout is x fastest, then y, then z, whatever axis order the file used.
//! `origin` is the position in Å of voxel (0, 0, 0); voxel (i, j, k) sits at
//! `origin + (i·vx, j·vy, k·vz)`. Grid indices stay inside this module and the
//! kernels: public lookups take positions in Å.
//!
//! Also here: summary statistics and normalisation to zero mean and unit
//! standard deviation (over the whole grid or a mask), which put experimental
//! and simulated density on one scale before the correlations of eq. 6.
//! Resampling, cropping and padding live in [`super::regrid`].

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
    #[error("mask has {got} entries but the map has {expected} voxels")]
    MaskLength { expected: usize, got: usize },
    #[error("mask selects no voxel")]
    EmptyMask,
    #[error("{0}")]
    BadRegion(String),
}

/// Summary statistics of density values (std is the population standard
/// deviation, as numpy and mrcfile report it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapStats {
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub std: f64,
}

impl MapStats {
    /// Statistics of the values the iterator yields; `None` when it is empty.
    pub fn of(values: impl Iterator<Item = f32>) -> Option<MapStats> {
        let (mut n, mut sum, mut sum2) = (0usize, 0.0f64, 0.0f64);
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            let v = v as f64;
            n += 1;
            sum += v;
            sum2 += v * v;
            min = min.min(v);
            max = max.max(v);
        }
        if n == 0 {
            return None;
        }
        let mean = sum / n as f64;
        // One pass in f64 loses nothing that matters for f32 data of any size
        // mapfold handles; clamp the rounding residue of a constant map.
        let var = (sum2 / n as f64 - mean * mean).max(0.0);
        Some(MapStats {
            min,
            max,
            mean,
            std: var.sqrt(),
        })
    }
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
        let inside = g
            .iter()
            .zip(self.dims)
            .all(|(&g, n)| g >= 0.0 && g <= (n - 1) as f64);
        inside.then(|| self.interpolate_grid(g))
    }

    /// Trilinear interpolation at fractional grid coordinates, clamped onto the
    /// grid (callers that need "outside" check first).
    pub(crate) fn interpolate_grid(&self, g: [f64; 3]) -> f32 {
        let mut base = [0usize; 3];
        let mut frac = [0f64; 3];
        for a in 0..3 {
            let n = self.dims[a];
            let g = g[a].clamp(0.0, (n - 1) as f64);
            let f = g.floor();
            // Keep the upper neighbour inside the grid on the last plane.
            let b = (f as usize).min(n.saturating_sub(2));
            base[a] = b;
            frac[a] = g - b as f64;
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
        v as f32
    }

    /// Minimum, maximum, mean and standard deviation of all voxels.
    pub fn stats(&self) -> MapStats {
        MapStats::of(self.data.iter().copied()).expect("a map has at least one voxel")
    }

    /// Statistics of the voxels where `mask` (x-fastest, one entry per voxel) is true.
    pub fn stats_masked(&self, mask: &[bool]) -> Result<MapStats, MapError> {
        self.check_mask(mask)?;
        MapStats::of(
            self.data
                .iter()
                .zip(mask)
                .filter(|(_, &m)| m)
                .map(|(&v, _)| v),
        )
        .ok_or(MapError::EmptyMask)
    }

    /// Shifts and scales every voxel to zero mean and unit standard deviation;
    /// returns the statistics before. A constant map becomes all zeros.
    pub fn normalise(&mut self) -> MapStats {
        let s = self.stats();
        self.shift_scale(s);
        s
    }

    /// Like [`normalise`](Self::normalise), but the mean and standard deviation
    /// are taken over the masked voxels only (e.g. around a model) and then
    /// applied to the whole grid.
    pub fn normalise_masked(&mut self, mask: &[bool]) -> Result<MapStats, MapError> {
        let s = self.stats_masked(mask)?;
        self.shift_scale(s);
        Ok(s)
    }

    /// A mask (x-fastest, one entry per voxel) of the voxels whose centres lie
    /// within `radius` Å of any of `points`.
    pub fn mask_near(&self, points: &[Vec3], radius: f64) -> Vec<bool> {
        let mut mask = vec![false; self.data.len()];
        let r2 = radius * radius;
        for p in points {
            let lo = self.grid_coords(p - Vec3::repeat(radius));
            let hi = self.grid_coords(p + Vec3::repeat(radius));
            let mut range = [(0usize, 0usize); 3];
            let mut empty = false;
            for a in 0..3 {
                let l = lo[a].ceil().max(0.0);
                let h = hi[a].floor().min((self.dims[a] - 1) as f64);
                // Also false for NaN (a non-finite point or radius).
                if l.partial_cmp(&h).is_none_or(|o| o.is_gt()) {
                    empty = true;
                    break;
                }
                range[a] = (l as usize, h as usize);
            }
            if empty {
                continue;
            }
            for k in range[2].0..=range[2].1 {
                for j in range[1].0..=range[1].1 {
                    for i in range[0].0..=range[0].1 {
                        if (self.voxel_position(i, j, k) - p).norm_squared() <= r2 {
                            let idx = self.index(i, j, k);
                            mask[idx] = true;
                        }
                    }
                }
            }
        }
        mask
    }

    fn check_mask(&self, mask: &[bool]) -> Result<(), MapError> {
        if mask.len() != self.data.len() {
            return Err(MapError::MaskLength {
                expected: self.data.len(),
                got: mask.len(),
            });
        }
        Ok(())
    }

    fn shift_scale(&mut self, s: MapStats) {
        let scale = if s.std > 0.0 { 1.0 / s.std } else { 1.0 };
        for v in &mut self.data {
            *v = ((*v as f64 - s.mean) * scale) as f32;
        }
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

    fn ramp() -> DensityMap {
        // Values 0..24 on a 2×3×4 grid: mean 11.5, population variance (24²-1)/12.
        let data = (0..24).map(|v| v as f32).collect();
        DensityMap::new([2, 3, 4], [1.0, 2.0, 3.0], Vec3::zeros(), data).unwrap()
    }

    #[test]
    fn statistics() {
        let s = ramp().stats();
        assert_eq!((s.min, s.max, s.mean), (0.0, 23.0, 11.5));
        assert!((s.std - (575.0f64 / 12.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn normalise_whole_and_masked() {
        let mut m = ramp();
        let before = m.normalise();
        assert_eq!(before.mean, 11.5);
        let after = m.stats();
        assert!(after.mean.abs() < 1e-6 && (after.std - 1.0).abs() < 1e-6);

        // Mask: the first 4 voxels (values 0, 1, 2, 3: mean 1.5, std √1.25).
        let mut m = ramp();
        let mask: Vec<bool> = (0..24).map(|i| i < 4).collect();
        m.normalise_masked(&mask).unwrap();
        let inside = m.stats_masked(&mask).unwrap();
        assert!(inside.mean.abs() < 1e-6 && (inside.std - 1.0).abs() < 1e-6);
        assert!((m.data()[23] as f64 - (23.0 - 1.5) / 1.25f64.sqrt()).abs() < 1e-5);

        assert_eq!(
            m.normalise_masked(&[true; 3]),
            Err(MapError::MaskLength {
                expected: 24,
                got: 3
            })
        );
        assert_eq!(m.stats_masked(&[false; 24]), Err(MapError::EmptyMask));

        let mut flat = DensityMap::new([2, 1, 1], [1.0; 3], Vec3::zeros(), vec![5.0; 2]).unwrap();
        flat.normalise();
        assert_eq!(flat.data(), &[0.0, 0.0]);
    }

    #[test]
    fn mask_near_points() {
        let m = ramp();
        // Voxel (1, 1, 1) sits at (1, 2, 3) Å; radius 1.5 Å also reaches (0, 1, 1)
        // at distance 1 and (1, 0, 1) at 2 (not), (1, 1, 0) at 3 (not).
        let mask = m.mask_near(&[Vec3::new(1.0, 2.0, 3.0)], 1.5);
        let on: Vec<usize> = (0..24).filter(|&i| mask[i]).collect();
        assert_eq!(on, vec![2 + 6, 3 + 6]);
        assert!(m
            .mask_near(&[Vec3::new(100.0, 0.0, 0.0)], 1.0)
            .iter()
            .all(|&b| !b));
    }
}
