//! Whole-chain maps for training the residue-type predictor
//! (`template::residue_type`), in two kinds:
//!
//! - the benchmark harness's map (`bench::harness::maps`: eq. 2 at R in 2–5 Å,
//!   white noise at SNR 4–10), as the simulated test maps are made;
//! - a degraded map standing in for experimental ones, where side chains are
//!   weaker and blurrier than the backbone (higher B-factors, radiation damage
//!   of carboxylates) and the stated resolution flatters the map: backbone
//!   and Cβ simulated at R·g (g in 1–1.3), the atoms beyond Cβ at R·g·f (f in
//!   1–1.5) with their amplitudes scaled per residue by a factor in 0.3–1,
//!   plus coloured noise (real maps' solvent spectrum, `training::noise`) at
//!   SNR 3–10. The nominal R is what the predictor is told.
//!
//! Without the degraded kind the predictor reads simulated maps well but is
//! overconfident on real ones (weights/README.md).

use rand::Rng;

use super::noise;
use crate::gpu::Backend;
use crate::map::simulate::{box_around, simulate_points_like};
use crate::map::DensityMap;
use crate::structure::Structure;

/// Atoms simulated at the backbone's resolution.
const CORE_ATOMS: [&str; 5] = ["N", "CA", "C", "O", "CB"];

/// A degraded map of `structure` (module doc) at nominal resolution drawn in
/// `range`: the map and the nominal resolution.
pub fn degraded_map(
    structure: &Structure,
    range: (f64, f64),
    rng: &mut impl Rng,
) -> anyhow::Result<(DensityMap, f64)> {
    let nominal = rng.random_range(range.0..=range.1);
    let r_core = nominal * rng.random_range(1.0..=1.3);
    let r_side = r_core * rng.random_range(1.0..=1.5);
    let (mut core, mut side) = (Vec::new(), Vec::new());
    for chain in &structure.chains {
        for res in &chain.residues {
            let damp = rng.random_range(0.3..=1.0);
            for a in &res.atoms {
                let z = a.atomic_number() as f64;
                if CORE_ATOMS.contains(&a.name.as_str()) {
                    core.push((a.pos, z));
                } else {
                    side.push((a.pos, z * damp));
                }
            }
        }
    }
    anyhow::ensure!(!core.is_empty(), "no backbone atoms to simulate");
    let voxel = (nominal / 3.0).clamp(0.8, 2.0);
    let grid = box_around(&core, voxel, 10.0)?;
    let mut map = simulate_points_like(&core, r_core, &grid, Backend::Cpu)?;
    if !side.is_empty() {
        let s = simulate_points_like(&side, r_side, &grid, Backend::Cpu)?;
        for (x, y) in map.data_mut().iter_mut().zip(s.data()) {
            *x += y;
        }
    }
    let atoms: Vec<_> = core.iter().chain(&side).map(|p| p.0).collect();
    let near = map.mask_near(&atoms, 3.0);
    let protein_sd = map
        .stats_masked(&near)
        .map(|s| s.std)
        .unwrap_or_else(|_| map.stats().std);
    let noise_sd = protein_sd / rng.random_range(3.0..=10.0);
    let n = noise::coloured_noise(map.dims(), voxel, map.origin(), rng);
    for (x, e) in map.data_mut().iter_mut().zip(n.data()) {
        *x += (noise_sd * *e as f64) as f32;
    }
    Ok((map, nominal))
}
