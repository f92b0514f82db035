//! Changing a [`DensityMap`]'s grid: resampling to another voxel size and
//! cutting out or padding to a box.
//!
//! Simulated density (eq. 2) and the experimental map must share one grid before
//! they are correlated (eq. 6); these are the operations that bring them there.
//! Resampling is trilinear and keeps the origin and the physical extent (no
//! low-pass filter first, so coarsening a map well below its resolution aliases).
//! Boxes are given in Å ([`DensityMap::crop_to_box`]) or as a [`GridRegion`].

use rayon::prelude::*;

use super::density::{DensityMap, MapError};
use crate::Vec3;

/// Refuse outputs beyond this many voxels (16 GiB of f32): a sign of a wrong unit.
const MAX_VOXELS: usize = 1 << 32;

/// A box of voxels on a map's grid: voxel `start` of the map becomes voxel
/// (0, 0, 0) of the result, which is `dims` voxels big. `start` may be negative
/// and the box may run past the grid; those voxels are padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridRegion {
    pub start: [i64; 3],
    pub dims: [usize; 3],
}

impl DensityMap {
    /// The map sampled on a grid of `voxel_size` Å that starts at the same origin
    /// and covers the same extent (as many whole new voxels as fit in it).
    pub fn resample(&self, voxel_size: [f64; 3]) -> Result<DensityMap, MapError> {
        if voxel_size.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(MapError::BadVoxel(voxel_size));
        }
        let (old_dims, old_vox) = (self.dims(), self.voxel_size());
        let mut dims = [0usize; 3];
        for a in 0..3 {
            let extent = (old_dims[a] - 1) as f64 * old_vox[a];
            // The tolerance keeps an exact multiple (e.g. 2 Å → 1 Å) from losing
            // its last plane to rounding.
            let n = (extent / voxel_size[a] + 1e-6).floor() + 1.0;
            if n > MAX_VOXELS as f64 {
                return Err(too_big(voxel_size));
            }
            dims[a] = n as usize;
        }
        check_size(dims)?;
        let ratio = [0, 1, 2].map(|a| voxel_size[a] / old_vox[a]);
        let plane = dims[0] * dims[1];
        let mut data = vec![0f32; plane * dims[2]];
        data.par_chunks_mut(plane).enumerate().for_each(|(k, out)| {
            for j in 0..dims[1] {
                for i in 0..dims[0] {
                    let g = [
                        i as f64 * ratio[0],
                        j as f64 * ratio[1],
                        k as f64 * ratio[2],
                    ];
                    out[i + dims[0] * j] = self.interpolate_grid(g);
                }
            }
        });
        DensityMap::new(dims, voxel_size, self.origin(), data)
    }

    /// The smallest region of this map's grid whose voxels cover the box from
    /// `min` to `max` (Å); it may reach outside the grid.
    pub fn region_for_box(&self, min: Vec3, max: Vec3) -> Result<GridRegion, MapError> {
        if !(0..3).all(|a| min[a].is_finite() && max[a].is_finite() && min[a] <= max[a]) {
            return Err(MapError::BadRegion(format!(
                "box from {:?} to {:?} Å is empty or not finite",
                min.as_slice(),
                max.as_slice()
            )));
        }
        let lo = self.grid_coords(min);
        let hi = self.grid_coords(max);
        let mut start = [0i64; 3];
        let mut dims = [0usize; 3];
        for a in 0..3 {
            // Tolerances so that a box edge on a voxel centre does not grow by one.
            let s = (lo[a] + 1e-6).floor();
            let e = (hi[a] - 1e-6).ceil().max(s);
            if s.abs() > 1e15 || e - s + 1.0 > MAX_VOXELS as f64 {
                return Err(too_big_box(min, max));
            }
            start[a] = s as i64;
            dims[a] = (e - s) as usize + 1;
        }
        check_size(dims).map_err(|_| too_big_box(min, max))?;
        Ok(GridRegion { start, dims })
    }

    /// The voxels of `region`, with `fill` where it lies outside this map.
    /// The result keeps the voxel size; its origin is the position of voxel
    /// `region.start`.
    pub fn extract(&self, region: &GridRegion, fill: f32) -> Result<DensityMap, MapError> {
        if region.dims.contains(&0) {
            return Err(MapError::EmptyGrid(region.dims));
        }
        check_size(region.dims)?;
        let src = self.dims();
        let vox = self.voxel_size();
        let dims = region.dims;
        let plane = dims[0] * dims[1];
        let mut data = vec![fill; plane * dims[2]];
        let inside = |a: usize, o: usize| -> Option<usize> {
            let s = region.start[a].checked_add(o as i64)?;
            (s >= 0 && (s as u64) < src[a] as u64).then_some(s as usize)
        };
        data.par_chunks_mut(plane).enumerate().for_each(|(k, out)| {
            let Some(sk) = inside(2, k) else { return };
            for j in 0..dims[1] {
                let Some(sj) = inside(1, j) else { continue };
                for i in 0..dims[0] {
                    if let Some(si) = inside(0, i) {
                        out[i + dims[0] * j] = self.at(si, sj, sk);
                    }
                }
            }
        });
        let origin = self.origin()
            + Vec3::new(
                region.start[0] as f64 * vox[0],
                region.start[1] as f64 * vox[1],
                region.start[2] as f64 * vox[2],
            );
        DensityMap::new(dims, vox, origin, data)
    }

    /// Crops (and where the box reaches outside, pads with `fill`) to the grid
    /// voxels covering the box from `min` to `max` in Å. The grid is not shifted:
    /// voxels keep their positions.
    pub fn crop_to_box(&self, min: Vec3, max: Vec3, fill: f32) -> Result<DensityMap, MapError> {
        self.extract(&self.region_for_box(min, max)?, fill)
    }

    /// Pads every side by at least `margin` Å of `fill` (a negative margin crops).
    pub fn pad(&self, margin: f64, fill: f32) -> Result<DensityMap, MapError> {
        let (lo, hi) = self.bounds();
        let m = Vec3::repeat(margin);
        self.crop_to_box(lo - m, hi + m, fill)
    }

    /// Positions in Å of the first and the last voxel.
    pub fn bounds(&self) -> (Vec3, Vec3) {
        let d = self.dims();
        (
            self.origin(),
            self.voxel_position(d[0] - 1, d[1] - 1, d[2] - 1),
        )
    }
}

fn check_size(dims: [usize; 3]) -> Result<(), MapError> {
    let n = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_VOXELS);
    match n {
        Some(_) => Ok(()),
        None => Err(MapError::BadRegion(format!(
            "grid {dims:?} would be too large"
        ))),
    }
}

fn too_big(voxel_size: [f64; 3]) -> MapError {
    MapError::BadRegion(format!(
        "resampling to {voxel_size:?} Å voxels gives too large a grid"
    ))
}

fn too_big_box(min: Vec3, max: Vec3) -> MapError {
    MapError::BadRegion(format!(
        "box from {:?} to {:?} Å gives too large a grid",
        min.as_slice(),
        max.as_slice()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f = 1 + 2x - 0.5y + 3z (Å), exactly reproduced by trilinear interpolation.
    fn linear(dims: [usize; 3], vox: [f64; 3], origin: Vec3) -> DensityMap {
        let f = |p: Vec3| (1.0 + 2.0 * p.x - 0.5 * p.y + 3.0 * p.z) as f32;
        let mut m = DensityMap::zeros(dims, vox, origin).unwrap();
        let mut data = Vec::with_capacity(m.len());
        for k in 0..dims[2] {
            for j in 0..dims[1] {
                for i in 0..dims[0] {
                    data.push(f(m.voxel_position(i, j, k)));
                }
            }
        }
        m.data_mut().copy_from_slice(&data);
        m
    }

    #[test]
    fn resample_keeps_extent_and_linear_field() {
        let origin = Vec3::new(-3.0, 2.0, 10.5);
        let m = linear([11, 7, 5], [1.0, 1.5, 2.0], origin);
        // Extents 10, 9, 8 Å; at 0.7 Å voxels: floor(10/0.7)+1 = 15, 13, 12.
        let r = m.resample([0.7; 3]).unwrap();
        assert_eq!(r.dims(), [15, 13, 12]);
        assert_eq!(r.origin(), origin);
        let want = linear([15, 13, 12], [0.7; 3], origin);
        for (a, b) in r.data().iter().zip(want.data()) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
        // An exact multiple keeps the last plane: 10 Å / 2 Å → 6 voxels.
        assert_eq!(m.resample([2.0, 1.5, 0.5]).unwrap().dims(), [6, 7, 17]);
        assert!(m.resample([0.0, 1.0, 1.0]).is_err());
        assert!(m.resample([1e-12; 3]).is_err());
    }

    #[test]
    fn crop_and_pad_in_angstrom() {
        let m = linear([10, 10, 10], [2.0; 3], Vec3::new(0.0, 0.0, 0.0));
        // Box 3..7 Å in x covers voxels at 2, 4, 6, 8 Å (indices 1..=4).
        let c = m
            .crop_to_box(Vec3::new(3.0, 0.0, 4.0), Vec3::new(7.0, 18.0, 4.0), 0.0)
            .unwrap();
        assert_eq!(c.dims(), [4, 10, 1]);
        assert_eq!(c.origin(), Vec3::new(2.0, 0.0, 4.0));
        for p in [Vec3::new(2.0, 0.0, 4.0), Vec3::new(8.0, 18.0, 4.0)] {
            assert_eq!(c.value_at(p), m.value_at(p));
        }

        let p = m.pad(3.0, -100.0).unwrap();
        // 3 Å of 2 Å voxels → 2 voxels each side.
        assert_eq!(p.dims(), [14, 14, 14]);
        assert_eq!(p.origin(), Vec3::new(-4.0, -4.0, -4.0));
        assert_eq!(p.value_at(Vec3::new(-4.0, 0.0, 0.0)), Some(-100.0));
        assert_eq!(
            p.value_at(Vec3::new(6.0, 8.0, 10.0)),
            m.value_at(Vec3::new(6.0, 8.0, 10.0))
        );
        let s = p.stats();
        assert_eq!(s.min, -100.0);
        // Padding and cropping back gives the original map.
        assert_eq!(p.pad(-4.0, 0.0).unwrap(), m);

        let region = GridRegion {
            start: [-1, 8, 9],
            dims: [2, 3, 2],
        };
        let e = m.extract(&region, 5.0).unwrap();
        assert_eq!(e.data().iter().filter(|&&v| v == 5.0).count(), 12 - 2);
        assert!(m
            .crop_to_box(Vec3::new(1.0, 0.0, 0.0), Vec3::new(0.0, 1.0, 1.0), 0.0)
            .is_err());
        assert!(m.pad(1e12, 0.0).is_err());
    }
}
