//! `mapfold ca`: a map to an unordered Cα cloud (a PDB of CA atoms named UNK,
//! scores in the B-factor column). The paper's route is a 3D CNN giving P(Cα)
//! per voxel, then peak picking ([`crate::ca::peaks`]); `--probability-map`
//! takes P(Cα) from a file, `--baseline greedy` runs the naive baseline on the
//! raw density ([`crate::ca::greedy`]).

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use crate::ca::greedy::{pick_greedy, GreedyParams};
use crate::ca::peaks::{pick_peaks, PeakParams};
use crate::ca::CaCloud;
use crate::gpu::Backend;
use crate::map::DensityMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Baseline {
    /// Densest voxels at least 3.3 Å apart, L atoms.
    Greedy,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).multiple(true).args(["map", "probability_map"])))]
pub struct Args {
    /// Density map (MRC/CCP4).
    #[arg(long)]
    pub map: Option<PathBuf>,
    /// Sequence length L: at least L atoms are placed (up to 1.2·L from a probability map).
    #[arg(long)]
    pub length: usize,
    /// Output PDB (.gz compresses), written atomically.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Skip the CNN and run a baseline on the raw density of --map.
    #[arg(long, value_enum, conflicts_with = "probability_map", requires = "map")]
    pub baseline: Option<Baseline>,
    /// A ready P(Cα) map (values in [0, 1]) to pick peaks from, instead of running the CNN.
    #[arg(long)]
    pub probability_map: Option<PathBuf>,
    /// Map resolution in Å (an input of the CNN).
    #[arg(long)]
    pub resolution: Option<f64>,
    /// Minimum distance between atoms in Å.
    #[arg(long, default_value_t = 3.3)]
    pub min_distance: f64,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// P(Cα) per voxel from the 3D CNN. The weights are not part of the crate yet;
/// when they are, this is the only function that changes.
fn cnn_probability(
    _map: &DensityMap,
    _resolution: Option<f64>,
    _backend: Backend,
) -> anyhow::Result<DensityMap> {
    anyhow::bail!(
        "the CNN weights are not available yet: use --baseline greedy, or --probability-map P.mrc"
    )
}

pub fn run(args: &Args, global: &super::Global) -> anyhow::Result<()> {
    anyhow::ensure!(args.length > 0, "--length must be at least 1");
    anyhow::ensure!(
        args.min_distance.is_finite() && args.min_distance >= 0.0,
        "--min-distance must be a non-negative number of Å"
    );
    let read = |p: &PathBuf| crate::io::mrc::read_map(p);
    let start = Instant::now();
    let (cloud, device, method): (CaCloud, String, &str) =
        match (args.baseline, &args.probability_map) {
            (Some(Baseline::Greedy), _) => {
                let map = read(args.map.as_ref().expect("clap requires --map"))?;
                let params = GreedyParams {
                    min_distance: args.min_distance,
                    ..Default::default()
                };
                (
                    pick_greedy(&map, args.length, &params),
                    "cpu".into(),
                    "greedy",
                )
            }
            (None, Some(p)) => {
                let prob = read(p)?;
                (peaks(&prob, args)?, "cpu".into(), "peaks")
            }
            (None, None) => {
                let map = read(
                    args.map
                        .as_ref()
                        .expect("clap requires --map or --probability-map"),
                )?;
                let backend = Backend::select(global.device)?;
                let prob = cnn_probability(&map, args.resolution, backend)?;
                (peaks(&prob, args)?, backend.name(), "cnn")
            }
        };
    let seconds = start.elapsed().as_secs_f64();
    log::info!("{method}: {} atoms in {seconds:.3} s", cloud.len());
    if cloud.len() < args.length {
        log::warn!(
            "the map has room for only {} atoms {} Å apart, fewer than --length {}",
            cloud.len(),
            args.min_distance,
            args.length
        );
    }
    cloud.write_pdb(&args.output)?;
    if args.json {
        super::print_json(&json!({
            "output": args.output.display().to_string(),
            "method": method,
            "n_atoms": cloud.len(),
            "seconds": seconds,
            "device": device,
        }));
    } else {
        println!(
            "{}: {} Cα atoms ({method}, {seconds:.3} s on {device})",
            args.output.display(),
            cloud.len()
        );
    }
    Ok(())
}

fn peaks(prob: &DensityMap, args: &Args) -> anyhow::Result<CaCloud> {
    let params = PeakParams {
        min_distance: args.min_distance,
        ..Default::default()
    };
    Ok(pick_peaks(prob, args.length, &params))
}
