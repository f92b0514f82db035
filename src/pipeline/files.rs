//! The files a build leaves in its output directory besides the models:
//! templates (`template_NN.pdb` and `templates.tsv`) and the assembly's decoys
//! (`decoys.bin`), written so that an interrupted run can resume from them.

use std::path::Path;

use crate::io::FileError;
use crate::template::{Source, TemplateModel};
use crate::Vec3;

/// `DIR/template_01.pdb` … in rank order (CA atoms numbered by query residue,
/// named from the query sequence) and `DIR/templates.tsv` (the scores).
pub fn write_templates(
    dir: &Path,
    models: &[TemplateModel],
    sequence: &str,
) -> Result<(), FileError> {
    std::fs::create_dir_all(dir).map_err(|e| FileError::io(dir, e))?;
    let mut tsv =
        String::from("rank\tfile\tsource\ttemplate\tzscore\tcrscore\tdensity_pcc\tcoverage\n");
    for (k, m) in models.iter().enumerate() {
        let file = format!("template_{:02}.pdb", k + 1);
        crate::io::pdb::write_pdb(&dir.join(&file), &m.to_structure(sequence))?;
        let opt = |x: Option<f64>| x.map(|v| format!("{v:.4}")).unwrap_or_else(|| "NA".into());
        tsv.push_str(&format!(
            "{}\t{file}\t{}\t{}\t{:.3}\t{}\t{}\t{:.3}\n",
            k + 1,
            m.source.as_str(),
            m.template_id,
            m.zscore,
            opt(m.crscore),
            opt(m.density_pcc),
            m.coverage()
        ));
    }
    crate::io::write_atomically(&dir.join("templates.tsv"), tsv.as_bytes())
}

/// Reads back what [`write_templates`] wrote, for a query of `len` residues.
pub fn read_templates(dir: &Path, len: usize) -> Result<Vec<TemplateModel>, FileError> {
    let path = dir.join("templates.tsv");
    let text = crate::io::read_text(&path)?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 8 {
            return Err(FileError::format(
                &path,
                format!("line {}: expected 8 fields", n + 1),
            ));
        }
        let num = |s: &str| s.parse::<f64>().ok();
        let source = match f[2] {
            "threading" => Source::Threading,
            "re-selected" => Source::Reselected,
            "regenerated" => Source::Regenerated,
            "fitted" => Source::Fitted,
            other => {
                return Err(FileError::format(
                    &path,
                    format!("line {}: unknown source {other}", n + 1),
                ))
            }
        };
        let s = crate::io::read_structure(&dir.join(f[1]))?;
        let mut ca = vec![None; len];
        for r in s.chains.iter().flat_map(|c| c.residues.iter()) {
            if let (Some(p), Ok(i)) = (r.ca(), usize::try_from(r.seq_num - 1)) {
                if i < len {
                    ca[i] = Some(p);
                }
            }
        }
        out.push(TemplateModel {
            source,
            template_id: f[3].to_string(),
            zscore: num(f[4]).unwrap_or(0.0),
            ca,
            crscore: num(f[5]),
            density_pcc: num(f[6]),
        });
    }
    Ok(out)
}

const MAGIC: &[u8; 8] = b"MFDECOY2";

/// Decoys as (energy, Cα) in a binary file, f64 so that a resumed run clusters
/// exactly the coordinates the first run would have.
pub fn write_decoys(path: &Path, decoys: &[(f64, Vec<Vec3>)]) -> Result<(), FileError> {
    let len = decoys.first().map_or(0, |d| d.1.len());
    let mut b = Vec::with_capacity(16 + decoys.len() * (8 + len * 24));
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&(decoys.len() as u32).to_le_bytes());
    b.extend_from_slice(&(len as u32).to_le_bytes());
    for (e, ca) in decoys {
        b.extend_from_slice(&e.to_le_bytes());
        for p in ca {
            for k in 0..3 {
                b.extend_from_slice(&p[k].to_le_bytes());
            }
        }
    }
    crate::io::write_atomically(path, &b)
}

pub fn read_decoys(path: &Path) -> Result<Vec<(f64, Vec<Vec3>)>, FileError> {
    let b = crate::io::read_bytes(path)?;
    let bad = |m: &str| FileError::format(path, m.to_string());
    if b.len() < 16 || &b[..8] != MAGIC {
        return Err(bad("not a mapfold decoy file"));
    }
    let n = u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize;
    let len = u32::from_le_bytes(b[12..16].try_into().unwrap()) as usize;
    if b.len() != 16 + n * (8 + len * 24) {
        return Err(bad("truncated decoy file"));
    }
    let mut at = 16;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let e = f64::from_le_bytes(b[at..at + 8].try_into().unwrap());
        at += 8;
        let mut ca = Vec::with_capacity(len);
        for _ in 0..len {
            let f =
                |k: usize| f64::from_le_bytes(b[at + 8 * k..at + 8 * k + 8].try_into().unwrap());
            ca.push(Vec3::new(f(0), f(1), f(2)));
            at += 24;
        }
        out.push((e, ca));
    }
    Ok(out)
}
