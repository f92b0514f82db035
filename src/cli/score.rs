//! `mapfold score`: compare a model with a reference structure.
//!
//! Four modes: by residue number (TM-score, RMSD, GDT-TS as the TM-score program
//! computes them), the same with residues paired in order (`--by-order`), by
//! structural alignment (`--align`, TM-align's algorithm), and as an unordered
//! Cα cloud (`--crscore`, paper eq. 1).

use crate::geom::{crscore, tmalign, tmscore};
use crate::io::read_structure;
use crate::structure::{Chain, Structure};
use anyhow::bail;
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model to score (PDB or mmCIF).
    #[arg(long)]
    pub model: PathBuf,
    /// The reference (native) structure; scores are normalised by its length.
    #[arg(long)]
    pub reference: PathBuf,
    /// Sequence-independent structural alignment (TM-align's algorithm).
    #[arg(long, conflicts_with = "crscore")]
    pub align: bool,
    /// Pair the model's Cα with the reference's in order (all chains, first to
    /// last) instead of by residue number: for models built from a sequence
    /// numbered from 1 against a deposited chain numbered otherwise, as the
    /// bundled example's. The two must have the same number of Cα.
    #[arg(long, conflicts_with_all = ["align", "crscore"])]
    pub by_order: bool,
    /// Take the model's Cα atoms as an unordered cloud and report its CRscore (eq. 1).
    #[arg(long)]
    pub crscore: bool,
    /// Use only this chain of the model (default: every protein chain).
    #[arg(long)]
    pub model_chain: Option<String>,
    /// Use only this chain of the reference (default: every protein chain).
    #[arg(long)]
    pub reference_chain: Option<String>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The structure with only the chosen chain, or all chains; an error names the
/// file when the chain is missing or nothing has Cα atoms.
fn load(path: &Path, chain: Option<&str>) -> anyhow::Result<Structure> {
    let mut s = read_structure(path)?;
    if let Some(id) = chain {
        let ids: Vec<&str> = s.chains.iter().map(|c| c.id.as_str()).collect();
        let Some(c) = s.chain(id).cloned() else {
            bail!(
                "{}: no chain {id:?} (chains: {})",
                path.display(),
                ids.join(", ")
            );
        };
        s.chains = vec![c];
    }
    if s.ca_coords().is_empty() {
        bail!("{}: no protein residue with a CA atom", path.display());
    }
    Ok(s)
}

/// All chains as one, in order: what the alignment sees for a complex.
fn as_one_chain(s: &Structure) -> Chain {
    Chain {
        id: s.chains.first().map(|c| c.id.clone()).unwrap_or_default(),
        residues: s.chains.iter().flat_map(|c| c.residues.clone()).collect(),
    }
}

pub fn run(args: &Args, _global: &super::Global) -> anyhow::Result<()> {
    let model = load(&args.model, args.model_chain.as_deref())?;
    let reference = load(&args.reference, args.reference_chain.as_deref())?;
    let n_ref = reference.ca_coords().len();

    if args.crscore {
        let cloud = model.ca_coords();
        let r = crscore::crscore_pairs(&cloud, &reference.ca_coords());
        if args.json {
            super::print_json(&json!({
                "crscore": r.score,
                "n_cloud": cloud.len(),
                "n_reference": n_ref,
                "n_paired": r.pairs.len(),
                "rmsd_paired": r.rmsd,
            }));
        } else {
            println!("CRscore      {:.4}", r.score);
            println!("cloud atoms  {}", cloud.len());
            println!("reference    {n_ref} Cα");
            println!("paired       {} (RMSD {:.3} Å)", r.pairs.len(), r.rmsd);
        }
        return Ok(());
    }

    if args.align {
        let (m, t) = (as_one_chain(&model), as_one_chain(&reference));
        let (ca_m, ca_t) = (m.ca_coords(), t.ca_coords());
        let seq_m = m.ca_sequence();
        let seq_t = t.ca_sequence();
        let r = tmalign::tm_align(&ca_m, seq_m.as_bytes(), &ca_t, seq_t.as_bytes());
        if args.json {
            super::print_json(&json!({
                "tm_score": r.tm_score_2,
                "tm_score_model": r.tm_score_1,
                "rmsd": r.rmsd,
                "aligned_length": r.aligned_length,
                "seq_identity": r.seq_identity,
                "length_model": ca_m.len(),
                "length_reference": ca_t.len(),
            }));
        } else {
            println!(
                "TM-score (by reference, L={}) {:.4}",
                ca_t.len(),
                r.tm_score_2
            );
            println!(
                "TM-score (by model, L={})     {:.4}",
                ca_m.len(),
                r.tm_score_1
            );
            println!("aligned length               {}", r.aligned_length);
            println!("RMSD                         {:.3} Å", r.rmsd);
            println!("sequence identity            {:.3}", r.seq_identity);
        }
        return Ok(());
    }

    let r = if args.by_order {
        let (m, t) = (model.ca_coords(), reference.ca_coords());
        if m.len() != t.len() {
            bail!(
                "--by-order: {} has {} Cα and {} has {}; they pair in order only when the counts match",
                args.model.display(),
                m.len(),
                args.reference.display(),
                t.len()
            );
        }
        tmscore::tm_score_paired_lengths(&m, &t, m.len(), t.len())
    } else {
        tmscore::tm_score_structures(&model, &reference)
    };
    let l_model = model.ca_coords().len();
    if !args.by_order && l_model == n_ref && r.n_common < n_ref {
        eprintln!(
            "note: {} of {n_ref} residues share a number with the reference; if the model was built from the reference's sequence numbered from 1, pair them in order with --by-order",
            r.n_common
        );
    }
    if r.n_common == 0 {
        bail!(
            "{} and {}: no residue numbers in common; use --align for a sequence-independent comparison",
            args.model.display(),
            args.reference.display()
        );
    }
    if args.json {
        super::print_json(&json!({
            "tm_score": r.tm_score,
            "rmsd": r.rmsd,
            "gdt_ts": r.gdt_ts,
            "gdt_ha": r.gdt_ha,
            "n_common": r.n_common,
            "length_reference": n_ref,
        }));
    } else {
        println!("TM-score   {:.4} (L={n_ref}, d0={:.2} Å)", r.tm_score, r.d0);
        println!(
            "RMSD       {:.3} Å over {} common residues",
            r.rmsd, r.n_common
        );
        println!("GDT-TS     {:.4}", r.gdt_ts);
        println!("GDT-HA     {:.4}", r.gdt_ha);
    }
    Ok(())
}
