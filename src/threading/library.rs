//! The template library: every chain's sequence, backbone, secondary structure
//! (from [`super::dssp`]) and burial (from [`super::burial`]), built once from
//! structure files and stored in a compact binary file that loads in a fraction
//! of a second.
//!
//! File format (version 1), all integers and floats little-endian:
//!
//! ```text
//! magic      8 bytes  "MFTPLLIB"
//! version    u32      1
//! n_chains   u32
//! n_chains × chain record:
//!   id_len   u16, then id_len bytes of UTF-8 (the chain's id)
//!   n        u32      residues (those with a Cα)
//!   sequence n bytes  canonical one-letter codes (20 amino acids or X)
//!   ss       n bytes  'H', 'E' or 'C' (three-state DSSP)
//!   burial   n bytes  neighbour counts (u8)
//!   resnum   n × i32  author residue numbers
//!   backbone n × 12 f32: N, Cα, C, O (x, y, z in Å); NaN marks a missing
//!            atom (never the Cα)
//! trailer    8 bytes  "MFTPLEND"
//! ```

use crate::io::bytes::ByteReader as Reader;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::dssp::{self, Backbone};
use super::{burial, Ss};
use crate::io::FileError;
use crate::Vec3;

const MAGIC: &[u8; 8] = b"MFTPLLIB";
const TRAILER: &[u8; 8] = b"MFTPLEND";
const VERSION: u32 = 1;

/// One template chain.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateChain {
    pub id: String,
    /// Canonical one-letter sequence of the residues that have a Cα.
    pub sequence: String,
    pub residue_numbers: Vec<i32>,
    pub backbone: Vec<Backbone>,
    pub ss: Vec<Ss>,
    /// Neighbour counts ([`burial::burial`]).
    pub burial: Vec<u8>,
}

impl TemplateChain {
    /// Computes secondary structure and burial for a chain read from a file.
    pub fn from_chain(id: &str, chain: &crate::structure::Chain) -> TemplateChain {
        let backbone = dssp::chain_backbone(chain);
        let residue_numbers = chain.ca_residues().map(|r| r.seq_num).collect();
        TemplateChain {
            id: id.to_string(),
            sequence: crate::sequence::canonical_sequence(chain),
            residue_numbers,
            ss: dssp::assign(&backbone),
            burial: burial::burial(&backbone),
            backbone,
        }
    }

    pub fn len(&self) -> usize {
        self.sequence.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sequence.is_empty()
    }

    pub fn ca_coords(&self) -> Vec<Vec3> {
        self.backbone.iter().map(|b| b.ca).collect()
    }
}

/// A set of template chains.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Library {
    pub chains: Vec<TemplateChain>,
}

impl Library {
    /// Reads structure files in parallel; one chain per file ([`pick_chain`])
    /// becomes a template named after the file. Files that cannot be read, or hold no chain of at least 10 Cα
    /// residues, are errors naming the file.
    pub fn build(paths: &[PathBuf]) -> Result<Library, FileError> {
        let chains: Vec<Result<TemplateChain, FileError>> = paths
            .par_iter()
            .map(|p| {
                let s = crate::io::read_structure(p)?;
                let stem = file_stem(p);
                let chain = pick_chain(&s, &stem)
                    .filter(|c| c.ca_coords().len() >= 10)
                    .ok_or_else(|| {
                        FileError::format(p, "no protein chain of at least 10 residues")
                    })?;
                Ok(TemplateChain::from_chain(&stem, chain))
            })
            .collect();
        Ok(Library {
            chains: chains.into_iter().collect::<Result<_, _>>()?,
        })
    }

    pub fn len(&self) -> usize {
        self.chains.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chains.is_empty()
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.chains.iter().position(|c| c.id == id)
    }

    /// The file's bytes (see the module doc).
    pub fn to_bytes(&self) -> Vec<u8> {
        let n_res: usize = self.chains.iter().map(|c| c.len()).sum();
        let mut b = Vec::with_capacity(16 + self.chains.len() * 40 + n_res * 55);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&VERSION.to_le_bytes());
        b.extend_from_slice(&(self.chains.len() as u32).to_le_bytes());
        for c in &self.chains {
            let id = c.id.as_bytes();
            b.extend_from_slice(&(id.len().min(u16::MAX as usize) as u16).to_le_bytes());
            b.extend_from_slice(&id[..id.len().min(u16::MAX as usize)]);
            b.extend_from_slice(&(c.len() as u32).to_le_bytes());
            b.extend_from_slice(c.sequence.as_bytes());
            b.extend(c.ss.iter().map(|s| s.letter() as u8));
            b.extend_from_slice(&c.burial);
            for r in &c.residue_numbers {
                b.extend_from_slice(&r.to_le_bytes());
            }
            for bb in &c.backbone {
                for atom in [bb.n, Some(bb.ca), bb.c, bb.o] {
                    let v = atom.unwrap_or(Vec3::repeat(f64::NAN));
                    for k in 0..3 {
                        b.extend_from_slice(&(v[k] as f32).to_le_bytes());
                    }
                }
            }
        }
        b.extend_from_slice(TRAILER);
        b
    }

    /// Writes the library file atomically.
    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        crate::io::write_atomically(path, &self.to_bytes())
    }

    /// Reads a library file (gzip allowed); corruption is an error naming the file.
    pub fn read(path: &Path) -> Result<Library, FileError> {
        let bytes = crate::io::read_bytes(path)?;
        Library::from_bytes(&bytes).map_err(|m| FileError::format(path, m))
    }

    /// Parses a library file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Library, String> {
        let mut r = Reader::new(bytes);
        if r.take(8, "magic")? != MAGIC {
            return Err("not a mapfold template library (bad magic bytes)".into());
        }
        let version = r.u32("version")?;
        if version != VERSION {
            return Err(format!(
                "template library version {version}, this mapfold reads version {VERSION}"
            ));
        }
        let n_chains = r.u32("chain count")? as usize;
        let mut chains = Vec::with_capacity(n_chains.min(1 << 20));
        for k in 0..n_chains {
            let what = |f: &str| format!("chain {} {f}", k + 1);
            let id_len = u16::from_le_bytes(r.take(2, &what("id length"))?.try_into().unwrap());
            let id = std::str::from_utf8(r.take(id_len as usize, &what("id"))?)
                .map_err(|_| format!("chain {}: id is not UTF-8", k + 1))?
                .to_string();
            let n = r.u32(&what("length"))? as usize;
            let sequence = std::str::from_utf8(r.take(n, &what("sequence"))?)
                .ok()
                .filter(|s| {
                    s.chars()
                        .all(|c| c == 'X' || crate::sequence::aa_index(c).is_some())
                })
                .ok_or_else(|| format!("chain {} ({id}): invalid sequence", k + 1))?
                .to_string();
            let ss = r
                .take(n, &what("secondary structure"))?
                .iter()
                .map(|&c| match c {
                    b'H' => Ok(Ss::Helix),
                    b'E' => Ok(Ss::Strand),
                    b'C' => Ok(Ss::Coil),
                    _ => Err(format!(
                        "chain {} ({id}): invalid secondary structure",
                        k + 1
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let burial = r.take(n, &what("burial"))?.to_vec();
            let residue_numbers = r
                .take(n * 4, &what("residue numbers"))?
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            let raw = r.take(n * 48, &what("coordinates"))?;
            let mut backbone = Vec::with_capacity(n);
            for (i, rec) in raw.chunks_exact(48).enumerate() {
                let atom = |a: usize| {
                    let f = |k: usize| {
                        f32::from_le_bytes(
                            rec[a * 12 + k * 4..a * 12 + k * 4 + 4].try_into().unwrap(),
                        ) as f64
                    };
                    let v = Vec3::new(f(0), f(1), f(2));
                    v.iter().all(|x| x.is_finite()).then_some(v)
                };
                let ca = atom(1).ok_or_else(|| {
                    format!(
                        "chain {} ({id}) residue {}: no Cα coordinates",
                        k + 1,
                        i + 1
                    )
                })?;
                backbone.push(Backbone {
                    n: atom(0),
                    ca,
                    c: atom(2),
                    o: atom(3),
                });
            }
            chains.push(TemplateChain {
                id,
                sequence,
                residue_numbers,
                backbone,
                ss,
                burial,
            });
        }
        if r.take(8, "trailer")? != TRAILER {
            return Err("bad trailer: the file is corrupt".into());
        }
        if r.pos != bytes.len() {
            return Err(format!(
                "{} unexpected bytes after the trailer",
                bytes.len() - r.pos
            ));
        }
        Ok(Library { chains })
    }
}

fn file_stem(p: &Path) -> String {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    for ext in [".pdb", ".ent", ".cif", ".mmcif"] {
        if let Some(s) = name.strip_suffix(ext) {
            return s.to_string();
        }
    }
    name.to_string()
}

/// Structure files of a directory (`.pdb`, `.ent`, `.cif`, optionally `.gz`), sorted.
pub fn structure_files(dir: &Path) -> Result<Vec<PathBuf>, FileError> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| FileError::io(dir, e))? {
        let p = e.map_err(|e| FileError::io(dir, e))?.path();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name).to_string();
        if p.is_file()
            && [".pdb", ".ent", ".cif", ".mmcif"]
                .iter()
                .any(|x| name.ends_with(x))
        {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// The paths a list file names, one per line (`#` comments and blank lines
/// skipped), relative to the list's directory.
pub fn list_file(list: &Path) -> Result<Vec<PathBuf>, FileError> {
    let text = crate::io::read_text(list)?;
    let base = list.parent().unwrap_or(Path::new("."));
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| base.join(l))
        .collect())
}

/// The structure files of the given splits of the shared data set
/// (`data_dir/structures.tsv`, files in `data_dir/structures/`).
pub fn split_files(data_dir: &Path, splits: &[String]) -> Result<Vec<PathBuf>, FileError> {
    let mut out = Vec::new();
    for s in splits {
        for t in crate::bench::read_targets(data_dir, s)? {
            out.push(t.path(data_dir));
        }
    }
    Ok(out)
}

/// The file stem a template id is made from (used to filter a directory by split).
pub fn id_of_path(p: &Path) -> String {
    file_stem(p)
}

/// The chain a file stands for: the one whose id ends the file name after an
/// underscore (`…_4GAM_r_b_B` → chain B, as the data set names its files),
/// else the first chain (as the TM-score program reads a file).
pub fn pick_chain<'a>(
    s: &'a crate::structure::Structure,
    stem: &str,
) -> Option<&'a crate::structure::Chain> {
    stem.rsplit_once('_')
        .and_then(|(_, id)| s.chain(id))
        .or_else(|| s.chains.first())
}
