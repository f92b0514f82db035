//! The paper's naive baseline for Cα positions (Supplementary Fig. 1, "a naïve
//! greedy procedure that picks Cα atom positions of the highest density values
//! not in an excluded volume"): the exclusion procedure of [`super::peaks`] run on
//! the raw density instead of a Cα probability, stopping at exactly L atoms (raw
//! density has no probability scale for the 0.9 overshoot rule).

use super::peaks::{pick_with_exclusion, Selection};
use super::CaCloud;
use crate::map::DensityMap;

/// Parameters of the greedy baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GreedyParams {
    /// Minimum distance in Å between picked atoms (the paper's 3.3).
    pub min_distance: f64,
    /// Sub-voxel refinement of each pick; off by default, so that the baseline
    /// stays the naive one (voxel centres).
    pub refine: bool,
}

impl Default for GreedyParams {
    fn default() -> Self {
        GreedyParams {
            min_distance: 3.3,
            refine: false,
        }
    }
}

/// L atoms at the densest voxels, each at least `min_distance` from the others.
pub fn pick_greedy(map: &DensityMap, length: usize, params: &GreedyParams) -> CaCloud {
    // Sorting only voxels above the mean is a speed-up: the picker falls back to
    // the rest if they cannot hold L atoms.
    let floor = map.stats().mean as f32;
    pick_with_exclusion(
        map,
        &Selection {
            min_distance: params.min_distance,
            floor,
            refine: params.refine,
            min_count: length,
            max_count: length,
            threshold: f32::INFINITY,
        },
    )
}
