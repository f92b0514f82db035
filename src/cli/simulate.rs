//! `mapfold simulate`: the density of a model at a resolution (paper eq. 2),
//! either on the grid of an existing map (`--like`) or on a new grid around the
//! model (`--voxel`, `--margin`), written as an MRC file.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use serde_json::json;

use crate::gpu::Backend;
use crate::map::simulate;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("grid").required(true).args(["like", "voxel"])))]
pub struct Args {
    /// Model (PDB or mmCIF, .gz allowed); protein atoms only.
    #[arg(long)]
    pub model: PathBuf,
    /// Resolution R in Å; the Gaussian width is σ = R/(√2·π).
    #[arg(long)]
    pub resolution: f64,
    /// Simulate on this map's grid (dims, voxel size, origin).
    #[arg(long, conflicts_with = "margin")]
    pub like: Option<PathBuf>,
    /// Voxel size in Å of a new grid around the model.
    #[arg(long)]
    pub voxel: Option<f64>,
    /// Padding in Å around the model for a new grid [default: 5].
    #[arg(long, requires = "voxel")]
    pub margin: Option<f64>,
    /// Output map (.mrc; .gz compresses).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &Args, global: &super::Global) -> anyhow::Result<()> {
    let structure = crate::io::read_structure(&args.model)?;
    let n_atoms = structure.atoms().count();
    let backend = Backend::select(global.device)?;
    let start = Instant::now();
    let map = match (&args.like, args.voxel) {
        (Some(like), _) => {
            let template = crate::io::mrc::read_map(like)?;
            simulate::simulate_like(structure.atoms(), args.resolution, &template, backend)
        }
        (None, Some(voxel)) => simulate::simulate_box(
            structure.atoms(),
            args.resolution,
            voxel,
            args.margin.unwrap_or(5.0),
            backend,
        ),
        (None, None) => anyhow::bail!("give --like MAP or --voxel SIZE"),
    }
    .with_context(|| format!("simulating {}", args.model.display()))?;
    let seconds = start.elapsed().as_secs_f64();
    crate::io::mrc::write_map(&args.output, &map)?;
    let origin = map.origin();
    if args.json {
        super::print_json(&json!({
            "output": args.output.display().to_string(),
            "dims": map.dims(),
            "voxel_size": map.voxel_size(),
            "origin": [origin.x, origin.y, origin.z],
            "n_atoms": n_atoms,
            "seconds": seconds,
            "device": backend.name(),
        }));
    } else {
        println!(
            "{}: {} atoms at {} Å on a {:?} grid ({:.3} s on {})",
            args.output.display(),
            n_atoms,
            args.resolution,
            map.dims(),
            seconds,
            backend.name()
        );
    }
    Ok(())
}
