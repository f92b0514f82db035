//! `mapfold fit`: how well a model fits a map. Simulates the model on the
//! map's grid (eq. 2) and reports the PCC over the grid, the PCC within
//! max(3 Å, R/2) of the atoms, and the eq. 6 cross term −Σρ₀ρ.

use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;

use crate::gpu::Backend;
use crate::map::correlate;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model (PDB or mmCIF, .gz allowed); protein atoms only.
    #[arg(long)]
    pub model: PathBuf,
    /// Map (MRC/CCP4).
    #[arg(long)]
    pub map: PathBuf,
    /// Resolution R in Å used to simulate the model's density.
    #[arg(long)]
    pub resolution: f64,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &Args, global: &super::Global) -> anyhow::Result<()> {
    let structure = crate::io::read_structure(&args.model)?;
    let map = crate::io::mrc::read_map(&args.map)?;
    let backend = Backend::select(global.device)?;
    let s =
        correlate::fit_scores(&map, &structure, args.resolution, backend).with_context(|| {
            format!(
                "fitting {} into {}",
                args.model.display(),
                args.map.display()
            )
        })?;
    if args.json {
        super::print_json(&json!({
            "pcc": s.pcc,
            "pcc_masked": s.pcc_masked,
            "cc": s.cc,
            "mask_voxels": s.mask_voxels,
            "mask_radius": s.mask_radius,
            "device": backend.name(),
        }));
    } else {
        println!("PCC         {:.4}", s.pcc);
        println!(
            "PCC (mask)  {:.4}  ({} voxels within {} Å of an atom)",
            s.pcc_masked, s.mask_voxels, s.mask_radius
        );
        println!("CC (eq. 6)  {:.6e}", s.cc);
        println!("device      {}", backend.name());
    }
    Ok(())
}
