//! Inference cost of the Cα network on maps of a given edge (the issue's "100³
//! and 200³ map on the CPU path"): seconds and the process's peak resident
//! memory.
//!
//! The input is real density: the GroEL 14-mer half (PDB 1OEL, 7 chains,
//! `../shared/data/maps/emd1997_1oel/1oel.pdb`) simulated with eq. 2 at 4 Å on
//! the network's 1 Å grid, then cropped or padded to N³ about the centre of
//! chain A, so every size sees protein. Peak memory is the kernel's VmHWM, read after each
//! size; sizes run smallest first, so each figure is that size's peak. On the
//! CPU the memory budget (`--max-memory`) decides whether the activations stay
//! in RAM or go to temporary files; each row says which (`spilled`).

use std::path::Path;
use std::time::Instant;

use crate::cnn::{infer::InferenceOptions, CaNetwork};
use crate::gpu::Backend;
use crate::map::simulate::simulate_box;
use crate::map::DensityMap;

/// One measurement.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CnnCost {
    pub edge: usize,
    pub voxels: usize,
    pub seconds: f64,
    /// GFLOP of the convolutions (2 per multiply-add).
    pub gflop: f64,
    pub gflops_per_s: f64,
    /// Peak resident memory of the process so far, MiB (Linux only).
    pub peak_rss_mib: Option<f64>,
    pub device: String,
    /// CPU only: whether the activations were kept in temporary files
    /// (the in-RAM estimate was over the memory budget).
    pub spilled: Option<bool>,
}

/// The N³ test map around the 1OEL model (see the module doc).
pub fn test_map(data_dir: &Path, edge: usize) -> anyhow::Result<DensityMap> {
    let model = crate::io::read_structure(&data_dir.join("maps/emd1997_1oel/1oel.pdb"))?;
    let sim = simulate_box(model.atoms(), 4.0, 1.0, 2.0, Backend::Cpu)?;
    // Centre on chain A, not on the box: GroEL is a ring with an empty middle.
    let ca = model.chains[0].ca_coords();
    anyhow::ensure!(!ca.is_empty(), "1oel.pdb: first chain has no Cα");
    let centre = ca.iter().sum::<crate::Vec3>() / ca.len() as f64;
    let g = (centre - sim.origin()) / 1.0;
    let start = [0, 1, 2].map(|a| g[a].round() as i64 - edge as i64 / 2);
    let region = crate::map::GridRegion {
        start,
        dims: [edge; 3],
    };
    Ok(sim.extract(&region, 0.0)?)
}

/// Peak resident set size of this process in MiB, from /proc (None elsewhere).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Runs `net` once on each size's map (smallest first).
pub fn measure(
    data_dir: &Path,
    net: &CaNetwork,
    edges: &[usize],
    backend: Backend,
    opts: &InferenceOptions,
) -> anyhow::Result<Vec<CnnCost>> {
    let mut edges = edges.to_vec();
    edges.sort_unstable();
    let mut out = Vec::new();
    for edge in edges {
        let map = test_map(data_dir, edge)?;
        let voxels = map.len();
        let spilled = match backend {
            Backend::Cpu => Some(crate::cnn::infer::spills(net, map.dims(), opts)),
            Backend::Gpu(_) => None,
        };
        let start = Instant::now();
        let prob = match backend {
            Backend::Gpu(ctx) => {
                crate::cnn::gpu::predict_class_probabilities_gpu(ctx, net, &map, opts)?[1].clone()
            }
            Backend::Cpu => crate::cnn::infer::predict_ca_probability(net, &map, opts)?,
        };
        let seconds = start.elapsed().as_secs_f64();
        anyhow::ensure!(prob.len() == voxels, "output grid differs from input");
        let gflop = net.flops_per_voxel() * voxels as f64 / 1e9;
        out.push(CnnCost {
            edge,
            voxels,
            seconds,
            gflop,
            gflops_per_s: gflop / seconds,
            peak_rss_mib: peak_rss_mib(),
            device: backend.name(),
            spilled,
        });
        log::info!("{edge}³: {seconds:.2} s");
    }
    Ok(out)
}
