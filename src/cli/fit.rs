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

/// A model that does not sit in the map gives meaningless scores: say so
/// instead (no atom inside is an error, fewer than half a warning).
fn check_overlap(
    model_path: &std::path::Path,
    structure: &crate::structure::Structure,
    map_path: &std::path::Path,
    map: &crate::map::DensityMap,
) -> anyhow::Result<()> {
    let (lo, hi) = map.bounds();
    let inside = |p: &crate::Vec3| (0..3).all(|a| p[a] >= lo[a] && p[a] <= hi[a]);
    let total = structure.atoms().count();
    let n_in = structure.atoms().filter(|a| inside(&a.pos)).count();
    if total == 0 {
        anyhow::bail!("{}: the model has no protein atoms", model_path.display());
    }
    if n_in == 0 {
        anyhow::bail!(
            "{} lies entirely outside the box of {} ({:.1}..{:.1}, {:.1}..{:.1}, {:.1}..{:.1} Å): is it placed in this map?",
            model_path.display(),
            map_path.display(),
            lo.x, hi.x, lo.y, hi.y, lo.z, hi.z
        );
    }
    if n_in * 2 < total {
        log::warn!(
            "only {n_in} of {total} atoms of {} lie inside the box of {}",
            model_path.display(),
            map_path.display()
        );
    }
    Ok(())
}

pub fn run(args: &Args, global: &super::Global) -> anyhow::Result<()> {
    let structure = crate::io::read_structure(&args.model)?;
    let map = crate::io::mrc::read_map(&args.map)?;
    check_overlap(&args.model, &structure, &args.map, &map)?;
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
