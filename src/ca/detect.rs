//! From a density map to the Cα cloud the later stages use: the paper's two
//! networks, peak picking, and their consensus (Methods, "Initial Cα trace model
//! generation": "If the two conformations are close, that is, with the CRscore
//! between them >0.85 … we will take the average for each Cα atom pair").
//!
//! Steps: resample the map to the networks' voxel size; P(Cα) from network A
//! (trained on clean simulated maps) and, when present, network B (fine-tuned
//! on realistically degraded maps); peaks from each ([`super::peaks`]); CRscore
//! (eq. 1) of B's cloud against A's. Above [`CONSENSUS_CRSCORE`] the clouds are
//! averaged pair by pair (the pairs of the CRscore's greedy pairing; A's
//! unpaired atoms are kept as they are); below it A's cloud is used and the
//! result says the clouds disagree, which tells the template stage to fit
//! threading templates rigidly instead of trusting the cloud.

use super::peaks::{pick_peaks, PeakParams};
use super::CaCloud;
use crate::cnn::{infer::InferenceOptions, CaNetwork, CnnError};
use crate::geom::crscore::crscore_pairs;
use crate::gpu::Backend;
use crate::map::DensityMap;

/// CRscore above which the two networks' clouds are averaged (paper: 0.85).
pub const CONSENSUS_CRSCORE: f64 = 0.85;

/// Why detection failed.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("resampling the map to the network's {0} Å voxels: {1}")]
    Resample(f64, crate::map::density::MapError),
    #[error(transparent)]
    Cnn(#[from] CnnError),
    #[error("networks A and B expect different voxel sizes ({0} and {1} Å)")]
    VoxelMismatch(f64, f64),
}

/// What detection found.
#[derive(Debug, Clone)]
pub struct Detection {
    /// The cloud to use downstream.
    pub cloud: CaCloud,
    /// Network A's cloud.
    pub cloud_a: CaCloud,
    /// Network B's cloud, when B ran.
    pub cloud_b: Option<CaCloud>,
    /// CRscore of B's cloud against A's, when B ran.
    pub agreement: Option<f64>,
    /// True when the two clouds agree (CRscore > 0.85) and were averaged.
    pub consensus: bool,
    /// Median distance in Å between paired atoms of the two clouds, when B
    /// ran: how sharply the networks place atoms (on clean validation maps
    /// about 0.2 Å at 3 Å resolution and 0.35–0.45 Å at 8 Å; 0.46 Å on the
    /// real EMD-2566; the median distance to the true Cα is about 2–3 times
    /// this).
    pub spread: Option<f64>,
    /// P(Cα) of network A on the resampled grid.
    pub probability: DensityMap,
    /// Which device ran the networks.
    pub device: String,
}

/// The networks and settings of detection.
pub struct CaDetector {
    pub net_a: CaNetwork,
    pub net_b: Option<CaNetwork>,
    pub peaks: PeakParams,
    pub inference: InferenceOptions,
}

impl CaDetector {
    pub fn new(net_a: CaNetwork, net_b: Option<CaNetwork>) -> Result<Self, DetectError> {
        if let Some(b) = &net_b {
            let (va, vb) = (net_a.meta.voxel_size, b.meta.voxel_size);
            if (va - vb).abs() > 1e-6 * va {
                return Err(DetectError::VoxelMismatch(va, vb));
            }
        }
        Ok(CaDetector {
            net_a,
            net_b,
            peaks: PeakParams::default(),
            inference: InferenceOptions::default(),
        })
    }

    /// The map on the networks' voxel grid (unchanged when it already is).
    pub fn network_grid(&self, map: &DensityMap) -> Result<DensityMap, DetectError> {
        let v = self.net_a.meta.voxel_size;
        if map.voxel_size().iter().all(|&m| (m - v).abs() <= 0.01 * v) {
            return Ok(map.clone());
        }
        log::info!(
            "resampling the map from {:?} Å to the network's {v} Å voxels",
            map.voxel_size()
        );
        map.resample([v; 3])
            .map_err(|e| DetectError::Resample(v, e))
    }

    /// P(Cα) of one network on a map already on the network grid. The GPU path
    /// falls back to the CPU when the map is too large for one GPU binding.
    pub fn probability(
        &self,
        net: &CaNetwork,
        grid: &DensityMap,
        backend: Backend,
    ) -> Result<DensityMap, DetectError> {
        if let Backend::Gpu(ctx) = backend {
            match crate::cnn::gpu::predict_class_probabilities_gpu(ctx, net, grid, &self.inference)
            {
                Ok([_, ca]) => return Ok(ca),
                Err(CnnError::TooLargeForGpu { need, max }) => log::warn!(
                    "map needs {need} bytes per GPU buffer, more than the {max} the adapter binds: running the network on the CPU"
                ),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(crate::cnn::infer::predict_ca_probability(
            net,
            grid,
            &self.inference,
        )?)
    }

    /// The Cα cloud of a map for a sequence of `length` residues.
    pub fn detect(
        &self,
        map: &DensityMap,
        length: usize,
        backend: Backend,
    ) -> Result<Detection, DetectError> {
        let grid = self.network_grid(map)?;
        let prob_a = self.probability(&self.net_a, &grid, backend)?;
        let cloud_a = pick_peaks(&prob_a, length, &self.peaks);
        let mut out = Detection {
            cloud: cloud_a.clone(),
            cloud_a,
            cloud_b: None,
            agreement: None,
            consensus: false,
            spread: None,
            probability: prob_a,
            device: backend.name(),
        };
        let Some(net_b) = &self.net_b else {
            return Ok(out);
        };
        let prob_b = self.probability(net_b, &grid, backend)?;
        let cloud_b = pick_peaks(&prob_b, length, &self.peaks);
        let Consensus {
            cloud,
            crscore: agreement,
            spread,
        } = consensus(&out.cloud_a, &cloud_b);
        log::info!(
            "Cα clouds of networks A ({}) and B ({}): CRscore {agreement:.3}, paired atoms {spread:.2} Å apart (median), {}",
            out.cloud_a.len(),
            cloud_b.len(),
            if cloud.is_some() {
                "averaged"
            } else {
                "they disagree: keeping A's cloud"
            }
        );
        out.agreement = Some(agreement);
        out.spread = Some(spread);
        out.consensus = cloud.is_some();
        if let Some(c) = cloud {
            out.cloud = c;
        }
        out.cloud_b = Some(cloud_b);
        Ok(out)
    }
}

/// What [`consensus`] found.
#[derive(Debug, Clone)]
pub struct Consensus {
    /// The pairwise average, when the clouds agree.
    pub cloud: Option<CaCloud>,
    /// CRscore of B against A.
    pub crscore: f64,
    /// Median distance in Å between the paired atoms (0 with no pairs).
    pub spread: f64,
}

/// The paper's consensus of two clouds: their CRscore (B against A), and the
/// pairwise average when that is above [`CONSENSUS_CRSCORE`].
pub fn consensus(a: &CaCloud, b: &CaCloud) -> Consensus {
    let pairing = crscore_pairs(&b.points, &a.points);
    let spread = pairing.median_distance(&b.points, &a.points);
    let cloud = (pairing.score > CONSENSUS_CRSCORE).then(|| {
        let mut avg = a.clone();
        for &(ib, ia) in &pairing.pairs {
            avg.points[ia] = (a.points[ia] + b.points[ib]) / 2.0;
            avg.scores[ia] = (a.scores[ia] + b.scores[ib]) / 2.0;
        }
        avg
    });
    Consensus {
        cloud,
        crscore: pairing.score,
        spread,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Vec3;

    fn cloud(points: Vec<Vec3>) -> CaCloud {
        let n = points.len();
        CaCloud {
            points,
            scores: vec![1.0; n],
        }
    }

    #[test]
    fn close_clouds_are_averaged_pair_by_pair() {
        let a: Vec<Vec3> = (0..60)
            .map(|i| Vec3::new(3.8 * i as f64, (i % 7) as f64, 0.0))
            .collect();
        // B: A moved by 0.4 Å along z, in reverse order (clouds are unordered).
        let b: Vec<Vec3> = a
            .iter()
            .rev()
            .map(|p| p + Vec3::new(0.0, 0.0, 0.4))
            .collect();
        let c = consensus(&cloud(a.clone()), &cloud(b));
        assert!(c.crscore > 0.95, "{}", c.crscore);
        assert!((c.spread - 0.4).abs() < 1e-9, "{}", c.spread);
        let avg = c.cloud.expect("averaged");
        for (p, q) in avg.points.iter().zip(&a) {
            assert!((p - (q + Vec3::new(0.0, 0.0, 0.2))).norm() < 1e-9);
        }
    }

    #[test]
    fn distant_clouds_are_not_averaged() {
        let a: Vec<Vec3> = (0..60)
            .map(|i| Vec3::new(3.8 * i as f64, 0.0, 0.0))
            .collect();
        let b: Vec<Vec3> = a.iter().map(|p| p + Vec3::new(0.0, 3.0, 0.0)).collect();
        let c = consensus(&cloud(a), &cloud(b));
        assert!(c.cloud.is_none());
        assert!(c.crscore < CONSENSUS_CRSCORE);
    }
}
