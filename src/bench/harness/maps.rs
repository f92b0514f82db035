//! Benchmark maps made to look like deposited ones: the resolution is drawn
//! within a bin (the paper's Table 1 bins 2–5 Å and 5–15 Å), the density is
//! eq. 2 at that resolution, and the map has what a deposited map has and a
//! clean simulation lacks: a cubic box with an even edge and the molecule off
//! centre, a voxel size that grows with the resolution (R/3, within
//! 0.8–2 Å, as EMDB entries are sampled), an origin on the grid (NSTART ×
//! voxel), and white Gaussian noise at a signal-to-noise ratio drawn from a
//! range (σ_noise = σ_protein / SNR, σ_protein over voxels within 3 Å of an
//! atom, as in the networks' training data).
//!
//! Every draw comes from ChaCha8 seeded by (seed, target, bin, map index), so
//! a map does not depend on which shard or in which order it is made.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::gpu::Backend;
use crate::map::simulate::{point_masses, simulate_points_like};
use crate::map::DensityMap;
use crate::structure::Structure;
use crate::Vec3;

/// A resolution bin in Å, `lo` ≤ R ≤ `hi`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResolutionBin {
    pub lo: f64,
    pub hi: f64,
}

impl ResolutionBin {
    /// Parses "2-5".
    pub fn parse(s: &str) -> Result<ResolutionBin, String> {
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| format!("resolution bin '{s}' is not LO-HI (e.g. 2-5)"))?;
        let (lo, hi) = (a.trim().parse::<f64>(), b.trim().parse::<f64>());
        match (lo, hi) {
            (Ok(lo), Ok(hi)) if lo.is_finite() && hi.is_finite() && 0.0 < lo && lo <= hi => {
                Ok(ResolutionBin { lo, hi })
            }
            _ => Err(format!(
                "resolution bin '{s}' must be LO-HI with 0 < LO ≤ HI in Å"
            )),
        }
    }

    pub fn label(&self) -> String {
        format!("{}-{}", self.lo, self.hi)
    }

    pub fn contains(&self, r: f64) -> bool {
        self.lo <= r && r <= self.hi
    }
}

/// How the maps are made.
#[derive(Debug, Clone, Copy)]
pub struct MapSettings {
    /// SNR drawn uniformly in this range.
    pub snr: (f64, f64),
    /// Padding drawn uniformly in this range (Å), per side, before the box is
    /// made cubic.
    pub margin: (f64, f64),
    pub seed: u64,
}

impl Default for MapSettings {
    fn default() -> Self {
        MapSettings {
            snr: (4.0, 10.0),
            margin: (8.0, 16.0),
            seed: 0,
        }
    }
}

/// A simulated benchmark map and what was drawn for it.
pub struct BenchMap {
    pub map: DensityMap,
    pub resolution: f64,
    pub snr: f64,
}

/// The `index`-th map of `structure` in `bin` (module doc); `key` (the
/// target's id) enters the seed.
pub fn simulate(
    structure: &Structure,
    key: &str,
    bin: ResolutionBin,
    index: usize,
    settings: &MapSettings,
    backend: Backend,
) -> anyhow::Result<BenchMap> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed_for(settings.seed, key, bin, index));
    let resolution = rng.random_range(bin.lo..=bin.hi);
    let snr = rng.random_range(settings.snr.0..=settings.snr.1);
    let voxel = (resolution / 3.0).clamp(0.8, 2.0);
    let points = point_masses(structure.atoms());
    anyhow::ensure!(!points.is_empty(), "{key}: no atoms to simulate");
    let mut lo = Vec3::repeat(f64::INFINITY);
    let mut hi = Vec3::repeat(f64::NEG_INFINITY);
    for (p, _) in &points {
        lo = lo.inf(p);
        hi = hi.sup(p);
    }
    let margin = rng.random_range(settings.margin.0..=settings.margin.1);
    let span = (hi - lo).max() + 2.0 * margin;
    let mut edge = (span / voxel).ceil() as usize;
    edge += edge % 2;
    let slack = Vec3::repeat(edge as f64 * voxel) - (hi - lo);
    // Off centre: the molecule sits anywhere the box's slack allows, keeping
    // a quarter of the margin free on each side.
    let keep = margin / 4.0;
    let origin = Vec3::from_fn(|a, _| {
        let free = (slack[a] - 2.0 * keep).max(0.0);
        let shift = keep + rng.random_range(0.0..=1.0) * free;
        ((lo[a] - shift) / voxel).floor() * voxel
    });
    let grid = DensityMap::zeros([edge; 3], [voxel; 3], origin)?;
    let mut map = simulate_points_like(&points, resolution, &grid, backend)?;
    let atoms: Vec<Vec3> = points.iter().map(|p| p.0).collect();
    let near = map.mask_near(&atoms, 3.0);
    let protein_sd = map
        .stats_masked(&near)
        .map(|s| s.std)
        .unwrap_or_else(|_| map.stats().std);
    let noise_sd = protein_sd / snr;
    for v in map.data_mut() {
        *v += (noise_sd * standard_normal(&mut rng)) as f32;
    }
    Ok(BenchMap {
        map,
        resolution,
        snr,
    })
}

/// FNV-1a over the seed, the key, the bin and the index.
fn seed_for(seed: u64, key: &str, bin: ResolutionBin, index: usize) -> u64 {
    let mut h = 0xcbf29ce484222325u64;
    let bytes = seed
        .to_le_bytes()
        .into_iter()
        .chain(key.bytes())
        .chain(bin.lo.to_bits().to_le_bytes())
        .chain(bin.hi.to_bits().to_le_bytes())
        .chain((index as u64).to_le_bytes());
    for b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Box–Muller (rand 0.9 without rand_distr has no normal distribution).
fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_parse_and_reject_nonsense() {
        assert_eq!(
            ResolutionBin::parse("2-5").unwrap(),
            ResolutionBin { lo: 2.0, hi: 5.0 }
        );
        for bad in ["5", "5-2", "a-b", "0-3", "-1-3"] {
            assert!(ResolutionBin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn maps_look_deposited_and_are_reproducible() {
        let s = crate::io::read_structure(std::path::Path::new("tests/data/3j6b_9.pdb")).unwrap();
        let bin = ResolutionBin::parse("5-15").unwrap();
        let set = MapSettings::default();
        let a = simulate(&s, "3j6b_9", bin, 0, &set, Backend::Cpu).unwrap();
        let b = simulate(&s, "3j6b_9", bin, 0, &set, Backend::Cpu).unwrap();
        let c = simulate(&s, "3j6b_9", bin, 1, &set, Backend::Cpu).unwrap();
        assert_eq!(a.map.data(), b.map.data());
        assert_ne!(a.resolution, c.resolution);
        assert!(bin.contains(a.resolution) && bin.contains(c.resolution));
        // A bin of one value gives that resolution (`bench build --harness-maps`).
        let one = ResolutionBin { lo: 6.0, hi: 6.0 };
        let d = simulate(&s, "3j6b_9", one, 0, &set, Backend::Cpu).unwrap();
        assert_eq!(d.resolution, 6.0);
        assert!((d.map.voxel_size()[0] - 2.0).abs() < 1e-12);
        assert!((set.snr.0..=set.snr.1).contains(&a.snr));
        let [nx, ny, nz] = a.map.dims();
        assert!(nx == ny && ny == nz && nx % 2 == 0, "{:?}", a.map.dims());
        let v = a.map.voxel_size()[0];
        assert!((v - (a.resolution / 3.0).clamp(0.8, 2.0)).abs() < 1e-12);
        // Origin on the grid, every atom inside the box.
        for o in a.map.origin().iter() {
            assert!((o / v - (o / v).round()).abs() < 1e-6);
        }
        let (lo, hi) = a.map.bounds();
        assert!(s
            .atoms()
            .all(|at| (0..3).all(|k| lo[k] <= at.pos[k] && at.pos[k] <= hi[k])));
        // The noise is there: voxels far from every atom are not all zero,
        // and density at the atoms still stands out.
        let far = a.map.mask_near(&s.ca_coords(), 8.0);
        let bg: Vec<f32> = a
            .map
            .data()
            .iter()
            .zip(&far)
            .filter(|x| !*x.1)
            .map(|x| *x.0)
            .collect();
        let sd = (bg.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / bg.len() as f64).sqrt();
        assert!(sd > 0.0);
        let at_ca: f64 = s
            .ca_coords()
            .iter()
            .map(|p| a.map.value_at(*p).unwrap() as f64)
            .sum::<f64>()
            / s.ca_coords().len() as f64;
        assert!(
            at_ca > 3.0 * sd,
            "density at Cα {at_ca} vs background sd {sd}"
        );
    }
}
