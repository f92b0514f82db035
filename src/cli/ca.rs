//! `mapfold ca`: a map to an unordered Cα cloud (a PDB of CA atoms named UNK,
//! scores in the B-factor column). The paper's route is a 3D CNN giving P(Cα)
//! per voxel, then peak picking ([`crate::ca::peaks`]); `--probability-map`
//! takes P(Cα) from a file, `--baseline greedy` runs the naive baseline on the
//! raw density ([`crate::ca::greedy`]).

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use crate::ca::detect::CaDetector;
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
    /// Map resolution in Å; when absent it is estimated from the map and reported.
    #[arg(long)]
    pub resolution: Option<f64>,
    /// Weights of network A (safetensors) instead of the bundled ones.
    #[arg(long)]
    pub weights_a: Option<PathBuf>,
    /// Weights of network B instead of the bundled ones (with --weights-a only A runs unless this is given too).
    #[arg(long, requires = "weights_a")]
    pub weights_b: Option<PathBuf>,
    /// Also write network A's P(Cα) map (MRC) here.
    #[arg(long)]
    pub save_probability: Option<PathBuf>,
    /// Minimum distance between atoms in Å.
    #[arg(long, default_value_t = 3.3)]
    pub min_distance: f64,
    /// Memory budget of the CPU network pass in MiB: above it the activations go
    /// to temporary files (same result, slower) [default: half the available memory].
    #[arg(long, value_name = "MIB")]
    pub max_memory: Option<u64>,
    /// Directory for those temporary files [default: $TMPDIR or /tmp].
    #[arg(long)]
    pub spill_dir: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The two networks: from --weights-a/--weights-b, else the bundled ones.
pub fn load_detector(args: &Args) -> anyhow::Result<CaDetector> {
    let (a, b) = match &args.weights_a {
        Some(pa) => {
            let a = crate::cnn::load_weights(pa)?;
            let b = match &args.weights_b {
                Some(pb) => Some(crate::cnn::load_weights(pb)?),
                None => None,
            };
            (a, b)
        }
        None => crate::cnn::bundled::networks().map_err(|e| anyhow::anyhow!(e))?,
    };
    let mut det = CaDetector::new(a, b)?;
    det.peaks.min_distance = args.min_distance;
    det.inference.max_memory_bytes = args.max_memory.map(|m| m.saturating_mul(1 << 20));
    det.inference.spill_dir = args.spill_dir.clone();
    Ok(det)
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
                let det = load_detector(args)?;
                let found = det.detect(&map, args.length, backend)?;
                if let Some(p) = &args.save_probability {
                    crate::io::mrc::write_map(p, &found.probability)?;
                }
                if let Some(score) = found.agreement {
                    log::info!(
                        "networks A and B agree with CRscore {score:.3}: {}",
                        if found.consensus {
                            "clouds averaged"
                        } else {
                            "using A's cloud"
                        }
                    );
                }
                (found.cloud, found.device, "cnn")
            }
        };
    let seconds = start.elapsed().as_secs_f64();
    // The networks do not need the resolution, but users and later stages do:
    // report the given one, or an estimate from the map's spectrum.
    let (resolution, estimated) = match (args.resolution, &args.map) {
        (Some(r), _) => (Some(r), false),
        (None, Some(p)) => {
            let est = crate::map::resolution::estimate_resolution(&read(p)?);
            log::info!(
                "estimated resolution {:.2} Å (fit rms {:.2})",
                est.resolution,
                est.fit_rms
            );
            (Some(est.resolution), true)
        }
        (None, None) => (None, false),
    };
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
            "resolution": resolution,
            "resolution_estimated": estimated,
        }));
    } else {
        println!(
            "{}: {} Cα atoms ({method}, {seconds:.3} s on {device})",
            args.output.display(),
            cloud.len()
        );
        if let Some(r) = resolution {
            let how = if estimated {
                "estimated from the map"
            } else {
                "given"
            };
            println!("resolution {r:.2} Å ({how})");
        }
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
