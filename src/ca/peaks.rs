//! Peak picking: a Cα probability map (the 3D CNN's output) to a Cα cloud, as in
//! the paper's Methods: take the voxel of highest probability as the first Cα,
//! then repeatedly the voxel of highest probability at least 3.3 Å from every Cα
//! taken so far, until L (the sequence length) atoms are placed; then go on, up
//! to 1.2·L atoms, for as long as the next such voxel has probability > 0.9.
//!
//! Speed: voxels above a floor are sorted once (the rest only if the floor runs
//! out before L atoms), and the 3.3 Å exclusion test looks only at the picked
//! atoms in the 27 cells of a hash grid around the candidate.
//!
//! Each candidate is moved off the grid before the exclusion test by fitting a
//! parabola to the logarithm of the values at it and its two neighbours along
//! each axis (exact for a Gaussian blob; plain values when any is ≤ 0), the
//! shift clamped to half a voxel. The test is on the refined positions, so every
//! pair in the output is at least the minimum distance apart.

use rayon::prelude::*;

use super::CaCloud;
use crate::map::DensityMap;
use crate::Vec3;

/// Parameters of peak picking; [`Default`] gives the paper's values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeakParams {
    /// Minimum distance in Å between picked atoms (paper: 3.3).
    pub min_distance: f64,
    /// At most `overshoot`·L atoms are picked (paper: 1.2).
    pub overshoot: f64,
    /// Beyond L atoms, a pick needs a probability above this (paper: 0.9).
    pub threshold: f32,
    /// Voxels below this are sorted and considered only if fewer than L atoms
    /// were found above it; it changes speed, never the result.
    pub floor: f32,
    /// Sub-voxel refinement of each pick (log-parabola per axis).
    pub refine: bool,
}

impl Default for PeakParams {
    fn default() -> Self {
        PeakParams {
            min_distance: 3.3,
            overshoot: 1.2,
            threshold: 0.9,
            floor: 0.05,
            refine: true,
        }
    }
}

/// The paper's procedure on a probability map for a sequence of `length` residues.
pub fn pick_peaks(prob: &DensityMap, length: usize, params: &PeakParams) -> CaCloud {
    let max = ((params.overshoot * length as f64).floor() as usize).max(length);
    pick_with_exclusion(
        prob,
        &Selection {
            min_distance: params.min_distance,
            floor: params.floor,
            refine: params.refine,
            min_count: length,
            max_count: max,
            threshold: params.threshold,
        },
    )
}

/// What [`pick_with_exclusion`] takes: always `min_count` atoms (if the map has
/// room for them), then more up to `max_count` while values exceed `threshold`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Selection {
    pub min_distance: f64,
    pub floor: f32,
    pub refine: bool,
    pub min_count: usize,
    pub max_count: usize,
    pub threshold: f32,
}

/// Highest value first, each candidate at least `min_distance` from all taken.
pub(crate) fn pick_with_exclusion(map: &DensityMap, sel: &Selection) -> CaCloud {
    let mut cloud = CaCloud::default();
    if sel.max_count == 0 {
        return cloud;
    }
    let data = map.data();
    let by_value_desc = |a: &usize, b: &usize| data[*b].total_cmp(&data[*a]).then(a.cmp(b));
    // NaN voxels are never candidates.
    let (mut high, low): (Vec<usize>, Vec<usize>) = (0..data.len())
        .filter(|&i| !data[i].is_nan())
        .partition(|&i| data[i] >= sel.floor);
    high.par_sort_unstable_by(by_value_desc);
    let mut grid = ExclusionGrid::new(map, sel.min_distance);
    let mut scan = |order: &[usize], cloud: &mut CaCloud| -> bool {
        for &idx in order {
            let n = cloud.len();
            if n >= sel.max_count {
                return true;
            }
            let v = data[idx];
            if n >= sel.min_count && v <= sel.threshold {
                return true;
            }
            let p = position(map, idx, sel.refine);
            if grid.is_clear(p) {
                grid.insert(p, n);
                cloud.points.push(p);
                cloud.scores.push(v);
            }
        }
        false
    };
    let done = scan(&high, &mut cloud);
    if !done && cloud.len() < sel.min_count {
        let mut low = low;
        low.par_sort_unstable_by(by_value_desc);
        scan(&low, &mut cloud);
    }
    cloud
}

/// Position in Å of voxel `idx`, refined off the grid when asked.
fn position(map: &DensityMap, idx: usize, refine: bool) -> Vec3 {
    let [nx, ny, _] = map.dims();
    let ijk = [idx % nx, (idx / nx) % ny, idx / (nx * ny)];
    let p = map.voxel_position(ijk[0], ijk[1], ijk[2]);
    if !refine {
        return p;
    }
    let vs = map.voxel_size();
    let shift = subvoxel_shift(map, ijk);
    p + Vec3::new(shift[0] * vs[0], shift[1] * vs[1], shift[2] * vs[2])
}

/// Per-axis vertex of the parabola through the voxel and its two neighbours, in
/// voxels, on log values (a Gaussian's log is a parabola, so a Gaussian blob's
/// centre comes out exactly), clamped to ±0.5; 0 on an edge or where the
/// values are not concave.
pub fn subvoxel_shift(map: &DensityMap, ijk: [usize; 3]) -> [f64; 3] {
    let dims = map.dims();
    let mut shift = [0.0; 3];
    for a in 0..3 {
        if ijk[a] == 0 || ijk[a] + 1 >= dims[a] {
            continue;
        }
        let mut lo = ijk;
        let mut hi = ijk;
        lo[a] -= 1;
        hi[a] += 1;
        let v = [lo, ijk, hi].map(|c| map.at(c[0], c[1], c[2]) as f64);
        let f = if v.iter().all(|&x| x > 0.0) {
            v.map(f64::ln)
        } else {
            v
        };
        let curvature = f[0] - 2.0 * f[1] + f[2];
        if curvature < 0.0 {
            shift[a] = (0.5 * (f[0] - f[2]) / curvature).clamp(-0.5, 0.5);
        }
    }
    shift
}

/// Picked atoms binned into cubic cells at least `min_distance` wide, so that
/// the atoms within `min_distance` of a point lie in its 27 neighbouring cells.
struct ExclusionGrid {
    origin: Vec3,
    width: f64,
    n: [usize; 3],
    cells: Vec<Vec<(Vec3, usize)>>,
    min_d2: f64,
}

impl ExclusionGrid {
    fn new(map: &DensityMap, min_distance: f64) -> Self {
        let vs = map.voxel_size();
        let dims = map.dims();
        // Refined points may sit half a voxel outside the grid.
        let pad = Vec3::new(vs[0], vs[1], vs[2]);
        let origin = map.origin() - pad;
        let extent = [0, 1, 2].map(|a| (dims[a] + 1) as f64 * vs[a]);
        let longest = extent.iter().cloned().fold(0.0, f64::max);
        // No more than 128 cells a side however small the distance.
        let width = min_distance.max(longest / 128.0).max(1e-6);
        let n = extent.map(|e| (e / width).floor() as usize + 1);
        ExclusionGrid {
            origin,
            width,
            n,
            cells: vec![Vec::new(); n[0] * n[1] * n[2]],
            min_d2: if min_distance > 0.0 {
                min_distance * min_distance
            } else {
                0.0
            },
        }
    }

    fn cell(&self, p: Vec3) -> [usize; 3] {
        let r = p - self.origin;
        [0, 1, 2].map(|a| ((r[a] / self.width).floor().max(0.0) as usize).min(self.n[a] - 1))
    }

    fn is_clear(&self, p: Vec3) -> bool {
        if self.min_d2 == 0.0 {
            return true;
        }
        let c = self.cell(p);
        let range = |a: usize| c[a].saturating_sub(1)..=(c[a] + 1).min(self.n[a] - 1);
        for k in range(2) {
            for j in range(1) {
                for i in range(0) {
                    let cell = &self.cells[i + self.n[0] * (j + self.n[1] * k)];
                    if cell
                        .iter()
                        .any(|(q, _)| (q - p).norm_squared() < self.min_d2)
                    {
                        return false;
                    }
                }
            }
        }
        true
    }

    fn insert(&mut self, p: Vec3, id: usize) {
        let c = self.cell(p);
        self.cells[c[0] + self.n[0] * (c[1] + self.n[1] * c[2])].push((p, id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map of Gaussian blobs (centre, amplitude) with width `sigma` Å.
    fn blobs(dims: [usize; 3], voxel: f64, centres: &[(Vec3, f32)], sigma: f64) -> DensityMap {
        let mut map = DensityMap::zeros(dims, [voxel; 3], Vec3::zeros()).unwrap();
        let mut data = vec![0f32; map.len()];
        for k in 0..dims[2] {
            for j in 0..dims[1] {
                for i in 0..dims[0] {
                    let p = map.voxel_position(i, j, k);
                    let v: f64 = centres
                        .iter()
                        .map(|(c, a)| {
                            *a as f64 * (-(p - c).norm_squared() / (2.0 * sigma * sigma)).exp()
                        })
                        .sum();
                    data[i + dims[0] * (j + dims[1] * k)] = v as f32;
                }
            }
        }
        map.data_mut().copy_from_slice(&data);
        map
    }

    #[test]
    fn log_parabola_recovers_an_off_grid_gaussian_centre() {
        let voxel = 0.7;
        let centre = Vec3::new(10.37, 9.81, 10.55) * voxel;
        let map = blobs([20, 20, 20], voxel, &[(centre, 1.0)], 1.1 * voxel);
        let cloud = pick_peaks(&map, 1, &PeakParams::default());
        assert_eq!(cloud.len(), 1);
        let err = (cloud.points[0] - centre).norm() / voxel;
        assert!(err < 0.1, "error {err} voxel");
        // Without refinement the nearest voxel is up to √3/2 voxel away.
        let raw = pick_peaks(
            &map,
            1,
            &PeakParams {
                refine: false,
                ..Default::default()
            },
        );
        assert!((raw.points[0] - centre).norm() / voxel > 0.3);
    }

    #[test]
    fn below_floor_voxels_are_used_when_the_floor_runs_out() {
        let c = [(Vec3::new(5.0, 5.0, 5.0), 1.0f32)];
        let map = blobs([16, 16, 16], 1.0, &c, 1.0);
        let cloud = pick_peaks(&map, 6, &PeakParams::default());
        assert_eq!(cloud.len(), 6);
        assert!((cloud.points[0] - c[0].0).norm() < 1e-3);
        assert!(cloud.scores[5] < PeakParams::default().floor);
    }

    #[test]
    fn zero_length_gives_an_empty_cloud() {
        let map = blobs([8, 8, 8], 1.0, &[(Vec3::repeat(4.0), 1.0)], 1.0);
        assert!(pick_peaks(&map, 0, &PeakParams::default()).is_empty());
    }
}
