//! A uniform grid over a point set for radius queries: the neighbour search
//! behind template re-selection (eq. 3-4) and the Cα regulariser. Exact: a
//! query returns the same points as a scan of all of them.

use crate::Vec3;

/// Cells of a [`Grid`] at most.
const MAX_CELLS: usize = 1 << 22;

/// A uniform grid over a point set for radius queries.
pub struct Grid {
    origin: Vec3,
    cell: f64,
    dims: [usize; 3],
    /// Points of cell k: items[start[k]..start[k + 1]].
    start: Vec<u32>,
    items: Vec<u32>,
}

impl Grid {
    pub fn new(points: &[Vec3], cell: f64) -> Grid {
        let mut lo = Vec3::repeat(f64::INFINITY);
        let mut hi = Vec3::repeat(f64::NEG_INFINITY);
        for p in points {
            lo = lo.inf(p);
            hi = hi.sup(p);
        }
        if points.is_empty() {
            lo = Vec3::zeros();
            hi = Vec3::zeros();
        }
        let mut cell = cell;
        let mut dims = [0, 1, 2].map(|k| ((hi[k] - lo[k]) / cell).floor() as usize + 1);
        // A sparse cloud spread over a huge box would need too many cells;
        // coarser cells keep the queries exact, only slower.
        while dims.iter().product::<usize>() > MAX_CELLS {
            cell *= 2.0;
            dims = [0, 1, 2].map(|k| ((hi[k] - lo[k]) / cell).floor() as usize + 1);
        }
        let mut g = Grid {
            origin: lo,
            cell,
            dims,
            start: Vec::new(),
            items: Vec::new(),
        };
        let ncell = dims[0] * dims[1] * dims[2];
        let keys: Vec<usize> = points.iter().map(|p| g.key(g.coords(p))).collect();
        let mut count = vec![0u32; ncell + 1];
        for &k in &keys {
            count[k + 1] += 1;
        }
        for k in 0..ncell {
            count[k + 1] += count[k];
        }
        let mut fill = count.clone();
        g.items = vec![0; points.len()];
        for (i, &k) in keys.iter().enumerate() {
            g.items[fill[k] as usize] = i as u32;
            fill[k] += 1;
        }
        g.start = count;
        g
    }

    fn coords(&self, p: &Vec3) -> [usize; 3] {
        [0, 1, 2].map(|k| {
            (((p[k] - self.origin[k]) / self.cell).floor().max(0.0) as usize).min(self.dims[k] - 1)
        })
    }

    fn key(&self, c: [usize; 3]) -> usize {
        (c[2] * self.dims[1] + c[1]) * self.dims[0] + c[0]
    }

    /// Calls `f(index, distance)` for every point within `r` of `x`.
    pub fn for_each_within(
        &self,
        points: &[Vec3],
        x: &Vec3,
        r: f64,
        mut f: impl FnMut(usize, f64),
    ) {
        let lo = [0, 1, 2].map(|k| ((x[k] - r - self.origin[k]) / self.cell).floor());
        let hi = [0, 1, 2].map(|k| ((x[k] + r - self.origin[k]) / self.cell).floor());
        if (0..3).any(|k| hi[k] < 0.0 || lo[k] > (self.dims[k] - 1) as f64) {
            return;
        }
        let clamp = |v: f64, k: usize| (v.max(0.0) as usize).min(self.dims[k] - 1);
        for cz in clamp(lo[2], 2)..=clamp(hi[2], 2) {
            for cy in clamp(lo[1], 1)..=clamp(hi[1], 1) {
                for cx in clamp(lo[0], 0)..=clamp(hi[0], 0) {
                    let k = self.key([cx, cy, cz]);
                    for &i in &self.items[self.start[k] as usize..self.start[k + 1] as usize] {
                        let d = (points[i as usize] - x).norm();
                        if d <= r {
                            f(i as usize, d);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_finds_exactly_the_points_within_the_radius() {
        let pts: Vec<Vec3> = (0..400)
            .map(|k| {
                let t = k as f64;
                Vec3::new((t * 0.37).sin() * 30.0, (t * 0.11).cos() * 25.0, t * 0.1)
            })
            .collect();
        let g = Grid::new(&pts, 10.0);
        for x in [
            pts[0],
            pts[123],
            Vec3::new(100.0, 0.0, 0.0),
            Vec3::new(5.0, 5.0, 20.0),
        ] {
            for r in [3.0, 10.0, 17.5] {
                let mut got = Vec::new();
                g.for_each_within(&pts, &x, r, |i, _| got.push(i));
                got.sort_unstable();
                let want: Vec<usize> = (0..pts.len())
                    .filter(|&i| (pts[i] - x).norm() <= r)
                    .collect();
                assert_eq!(got, want);
            }
        }
        // Far-flung points get coarser cells, with the same answers.
        let spread = vec![
            Vec3::zeros(),
            Vec3::new(1e5, 1e5, 1e5),
            Vec3::new(3.0, 0.0, 0.0),
        ];
        let g = Grid::new(&spread, 4.0);
        assert!(g.start.len() <= MAX_CELLS + 1);
        let mut got = Vec::new();
        g.for_each_within(&spread, &Vec3::zeros(), 4.0, |i, _| got.push(i));
        got.sort_unstable();
        assert_eq!(got, vec![0, 2]);
    }
}
