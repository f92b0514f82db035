//! `mapfold rebuild`: a full-atom model from a Cα trace ([`crate::fullatom`]),
//! or, with `--build-stats`, the statistics file behind it from the data set's
//! train split.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use serde_json::json;

use crate::fullatom::{self, FullAtomStats};
use crate::io::{fasta, pdb, read_structure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A PDB/mmCIF file whose CA atoms, in order, are the trace.
    #[arg(long, required_unless_present = "build_stats")]
    pub ca: Option<PathBuf>,
    /// The chain of --ca to use (needed when the file has several).
    #[arg(long)]
    pub chain: Option<String>,
    /// FASTA whose first record is the sequence (one residue per CA); default:
    /// the residue names of --ca.
    #[arg(long)]
    pub seq: Option<PathBuf>,
    /// Statistics file to use instead of the bundled weights/fullatom.bin.
    #[arg(long)]
    pub stats: Option<PathBuf>,
    /// Build the statistics from DATA_DIR's train split and write them to -o.
    #[arg(long, value_name = "DATA_DIR", conflicts_with_all = ["ca", "seq", "stats", "chain"])]
    pub build_stats: Option<PathBuf>,
    /// Output: the full-atom PDB, or the statistics file with --build-stats.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &Args, _global: &super::Global) -> anyhow::Result<()> {
    let t0 = Instant::now();
    if let Some(data) = &args.build_stats {
        let stats = FullAtomStats::build(data)?;
        stats.write(&args.output)?;
        let n_rot: usize = stats.rotamers.iter().map(|s| s.rotamers.len()).sum();
        let bytes = stats.to_bytes().len();
        if args.json {
            super::print_json(&json!({
                "output": args.output,
                "train_chains": stats.n_chains,
                "rotamers": n_rot,
                "bytes": bytes,
                "seconds": t0.elapsed().as_secs_f64(),
            }));
        } else {
            println!(
                "{}: statistics from {} train chains, {n_rot} rotamers, {bytes} bytes",
                args.output.display(),
                stats.n_chains
            );
        }
        return Ok(());
    }
    let Some(ca_path) = &args.ca else {
        bail!("--ca or --build-stats is required");
    };
    let s = read_structure(ca_path)?;
    let chain = match &args.chain {
        Some(id) => s
            .chain(id)
            .with_context(|| format!("{}: no chain {id:?}", ca_path.display()))?,
        None => match s.chains.as_slice() {
            [c] => c,
            [] => bail!("{}: no protein chain", ca_path.display()),
            cs => bail!(
                "{}: {} chains ({}); pick one with --chain",
                ca_path.display(),
                cs.len(),
                cs.iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    };
    let ca = chain.ca_coords();
    if ca.is_empty() {
        bail!("{}: no CA atoms", ca_path.display());
    }
    let sequence = match &args.seq {
        Some(p) => {
            let recs = fasta::read_fasta(p)?;
            let Some(r) = recs.first() else {
                bail!("{}: no sequence", p.display());
            };
            if r.residues.chars().count() != ca.len() {
                bail!(
                    "{}: sequence has {} residues, {} has {} CA atoms",
                    p.display(),
                    r.residues.chars().count(),
                    ca_path.display(),
                    ca.len()
                );
            }
            r.residues.clone()
        }
        None => chain.ca_sequence(),
    };
    let stats = match &args.stats {
        Some(p) => FullAtomStats::read(p)?,
        None => fullatom::bundled().map_err(anyhow::Error::msg)?,
    };
    let model = fullatom::rebuild(&ca, &sequence, &stats)
        .map_err(|e| anyhow::anyhow!("{}: {e}", ca_path.display()))?;
    pdb::write_pdb(&args.output, &model)?;
    let n_atoms = model.atoms().count();
    if args.json {
        super::print_json(&json!({
            "output": args.output,
            "residues": ca.len(),
            "atoms": n_atoms,
            "seconds": t0.elapsed().as_secs_f64(),
        }));
    } else {
        println!(
            "{}: {} residues, {n_atoms} atoms",
            args.output.display(),
            ca.len()
        );
    }
    Ok(())
}
