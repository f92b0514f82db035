//! The statistics behind the rebuild, learned from the data set's train split
//! only: the backbone tables ([`super::backbone`]) and the rotamer libraries
//! ([`super::sidechain`]). Also their file format (`weights/fullatom.bin`):
//!
//! ```text
//! "MFFULLAT", version u32 = 1, N_R u32, N_DIH u32, N_CLASS u32, chains u32
//! mid, nterm, cterm tables: i16 x, y, z in milli-Å, bin-major
//! 20 × { n_rot u32, n_rot × { key u32, side atoms × i16 xyz }, N_CLASS × n_rot × u32 counts }
//! ```
//! Little-endian; the file must end exactly after the last count.

use crate::io::bytes::ByteReader as Reader;
use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;

use super::backbone::{self, BackboneTables, N_DIH, N_MID_BINS, N_R};
use super::residues::{type_index, RESIDUES};
use super::sidechain::{self, Rotamer, RotamerSet, N_CLASS};
use crate::io::FileError;
use crate::structure::Chain;
use crate::Vec3;

const MAGIC: &[u8; 8] = b"MFFULLAT";
const VERSION: u32 = 1;
/// Grid points with less total interpolation weight than this take the value
/// of the nearest better-sampled point.
const MIN_WEIGHT: f64 = 2.0;
/// Rotamer clusters with fewer train members than this are dropped.
const MIN_MEMBERS: usize = 5;

/// Everything [`super::rebuild`] needs.
#[derive(Debug, Clone, PartialEq)]
pub struct FullAtomStats {
    pub backbone: BackboneTables,
    /// One set per residue type, in [`super::residues::CODES`] order.
    pub rotamers: Vec<RotamerSet>,
    /// How many train chains the statistics came from.
    pub n_chains: u32,
}

#[derive(Default)]
struct Samples {
    mid: Vec<(backbone::Corners<8>, Vec<Vec3>)>,
    nterm: Vec<(backbone::Corners<2>, Vec<Vec3>)>,
    cterm: Vec<(backbone::Corners<2>, Vec<Vec3>)>,
    /// (type, class, key, local side-chain atoms).
    rot: Vec<(usize, usize, u32, Vec<Vec3>)>,
}

/// Local coordinates of named atoms of residues (by index) in a frame; `None`
/// when one is missing.
fn local(
    chain: &[&crate::structure::Residue],
    f: &super::frame::Frame,
    want: &[(usize, &str)],
) -> Option<Vec<Vec3>> {
    want.iter()
        .map(|&(i, name)| chain[i].atom(name).map(|a| f.to_local(a.pos)))
        .collect()
}

fn chain_samples(chain: &Chain) -> Samples {
    let res: Vec<_> = chain.ca_residues().collect();
    let ca: Vec<Vec3> = res.iter().map(|r| r.ca().unwrap()).collect();
    let linked = |i: usize| match (res[i].atom("C"), res[i + 1].atom("N")) {
        (Some(c), Some(n)) => (c.pos - n.pos).norm() < 2.0,
        _ => false,
    };
    let mut out = Samples::default();
    for (s, e) in backbone::segments(&ca) {
        if e - s < 3 || !(s..e - 1).all(linked) {
            continue;
        }
        let (f, c) = backbone::nterm_window(&ca, s);
        if let Some(p) = local(&res, &f, &[(s, "N"), (s, "C"), (s, "O"), (s + 1, "N")]) {
            out.nterm.push((c, p));
        }
        let (f, c) = backbone::cterm_window(&ca, e);
        let want = [
            (e - 2, "C"),
            (e - 2, "O"),
            (e - 1, "N"),
            (e - 1, "C"),
            (e - 1, "O"),
        ];
        if let Some(p) = local(&res, &f, &want) {
            out.cterm.push((c, p));
        }
        for i in s + 1..e.saturating_sub(2) {
            let (f, c) = backbone::mid_window(&ca, i);
            if let Some(p) = local(&res, &f, &[(i, "C"), (i, "O"), (i + 1, "N")]) {
                out.mid.push((c, p));
            }
        }
        for i in s..e {
            let r = res[i];
            let Some(t) = type_index(r.one_letter()) else {
                continue;
            };
            let def = &RESIDUES[t];
            if r.name != def.name || def.side.is_empty() {
                continue;
            }
            let (Some(n), Some(c)) = (r.atom("N"), r.atom("C")) else {
                continue;
            };
            let pos = |name: &str| r.atom(name).map(|a| a.pos);
            let Some(chis) = sidechain::chis(def, &pos) else {
                continue;
            };
            let flip = sidechain::needs_flip(def, &chis);
            let f = sidechain::side_frame(n.pos, ca[i], c.pos);
            let atoms: Option<Vec<Vec3>> = def
                .side
                .iter()
                .map(|&name| {
                    let swapped = def
                        .swaps
                        .iter()
                        .find_map(|&(a, b)| (name == a).then_some(b).or((name == b).then_some(a)))
                        .filter(|_| flip)
                        .unwrap_or(name);
                    pos(swapped).map(|p| f.to_local(p))
                })
                .collect();
            if let Some(atoms) = atoms {
                let class = sidechain::bb_class(&ca, s, e, i);
                out.rot
                    .push((t, class, sidechain::key_of(def, &chis), atoms));
            }
        }
    }
    out
}

/// Weighted means per grid point, then gaps filled from the nearest
/// well-sampled point (grid distance; the last axis is periodic when `dims`
/// says so).
fn table<const K: usize>(
    samples: &[(backbone::Corners<K>, Vec<Vec3>)],
    bins: usize,
    atoms: usize,
    dims: &[(usize, bool)],
) -> Vec<Vec3> {
    let mut sum = vec![Vec3::zeros(); bins * atoms];
    let mut w = vec![0.0; bins];
    for (corners, p) in samples {
        for &(b, wt) in corners {
            w[b] += wt;
            for a in 0..atoms {
                sum[b * atoms + a] += p[a] * wt;
            }
        }
    }
    let coords = |mut b: usize| {
        let mut c = vec![0usize; dims.len()];
        for k in (0..dims.len()).rev() {
            c[k] = b % dims[k].0;
            b /= dims[k].0;
        }
        c
    };
    let good: Vec<usize> = (0..bins).filter(|&b| w[b] >= MIN_WEIGHT).collect();
    let mut out = vec![Vec3::zeros(); bins * atoms];
    for b in 0..bins {
        let src = if w[b] >= MIN_WEIGHT {
            b
        } else {
            let cb = coords(b);
            let dist = |g: usize| -> usize {
                coords(g)
                    .iter()
                    .zip(&cb)
                    .zip(dims)
                    .map(|((&x, &y), &(n, periodic))| {
                        let d = x.abs_diff(y);
                        let d = if periodic { d.min(n - d) } else { d };
                        d * d
                    })
                    .sum()
            };
            match good.iter().copied().min_by_key(|&g| (dist(g), g)) {
                Some(g) => g,
                None => continue,
            }
        };
        for a in 0..atoms {
            out[b * atoms + a] = sum[src * atoms + a] / w[src];
        }
    }
    out
}

/// Members of one rotamer cluster: (backbone class, local side-chain atoms).
type Members = Vec<(usize, Vec<Vec3>)>;

fn rotamer_sets(samples: Vec<(usize, usize, u32, Vec<Vec3>)>) -> Vec<RotamerSet> {
    let mut groups: HashMap<(usize, u32), Members> = HashMap::new();
    for (t, class, key, atoms) in samples {
        groups.entry((t, key)).or_default().push((class, atoms));
    }
    let mut sets = vec![RotamerSet::default(); RESIDUES.len()];
    let mut per_type: Vec<Vec<(u32, Members)>> = vec![Vec::new(); RESIDUES.len()];
    for ((t, key), members) in groups {
        if members.len() >= MIN_MEMBERS {
            per_type[t].push((key, members));
        }
    }
    for (t, mut groups) in per_type.into_iter().enumerate() {
        groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        let n = groups.len();
        let mut counts = vec![0u32; N_CLASS * n];
        let mut rotamers = Vec::with_capacity(n);
        for (r, (key, members)) in groups.iter().enumerate() {
            let m = members[0].1.len();
            let mean: Vec<Vec3> = (0..m)
                .map(|a| members.iter().map(|x| x.1[a]).sum::<Vec3>() / members.len() as f64)
                .collect();
            let d2 = |x: &[Vec3]| -> f64 {
                x.iter()
                    .zip(&mean)
                    .map(|(p, q)| (p - q).norm_squared())
                    .sum()
            };
            let medoid = members
                .iter()
                .min_by(|a, b| d2(&a.1).total_cmp(&d2(&b.1)))
                .map(|x| x.1.clone())
                .unwrap_or(mean.clone());
            rotamers.push(Rotamer {
                key: *key,
                atoms: medoid,
            });
            for (class, _) in members {
                counts[class * n + r] += 1;
            }
        }
        sets[t] = RotamerSet { rotamers, counts };
    }
    sets
}

impl FullAtomStats {
    /// Statistics from the chains of split `train` of `data_dir/structures.tsv`.
    pub fn build(data_dir: &Path) -> Result<FullAtomStats, FileError> {
        let targets = crate::bench::read_targets(data_dir, "train")?;
        let per_chain: Vec<Samples> = targets
            .par_iter()
            .map(|t| {
                let s = crate::io::read_structure(&t.path(data_dir))?;
                Ok(s.chains
                    .iter()
                    .map(chain_samples)
                    .fold(Samples::default(), |mut a, b| {
                        a.mid.extend(b.mid);
                        a.nterm.extend(b.nterm);
                        a.cterm.extend(b.cterm);
                        a.rot.extend(b.rot);
                        a
                    }))
            })
            .collect::<Result<_, FileError>>()?;
        let mut all = Samples::default();
        for s in per_chain {
            all.mid.extend(s.mid);
            all.nterm.extend(s.nterm);
            all.cterm.extend(s.cterm);
            all.rot.extend(s.rot);
        }
        log::info!(
            "fullatom stats: {} chains, {} peptide windows, {} side chains",
            targets.len(),
            all.mid.len(),
            all.rot.len()
        );
        let backbone = BackboneTables {
            mid: table(
                &all.mid,
                N_MID_BINS,
                backbone::MID_ATOMS,
                &[(N_R, false), (N_R, false), (N_DIH, true)],
            ),
            nterm: table(&all.nterm, N_R, backbone::NTERM_ATOMS, &[(N_R, false)]),
            cterm: table(&all.cterm, N_R, backbone::CTERM_ATOMS, &[(N_R, false)]),
        };
        Ok(FullAtomStats {
            backbone,
            rotamers: rotamer_sets(all.rot),
            n_chains: targets.len() as u32,
        })
    }

    /// The file's bytes (see the module doc).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        for v in [
            VERSION,
            N_R as u32,
            N_DIH as u32,
            N_CLASS as u32,
            self.n_chains,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        let put = |b: &mut Vec<u8>, p: &Vec3| {
            for x in p.iter() {
                let m = (x * 1000.0).round().clamp(i16::MIN as f64, i16::MAX as f64) as i16;
                b.extend_from_slice(&m.to_le_bytes());
            }
        };
        for p in self
            .backbone
            .mid
            .iter()
            .chain(&self.backbone.nterm)
            .chain(&self.backbone.cterm)
        {
            put(&mut b, p);
        }
        for set in &self.rotamers {
            b.extend_from_slice(&(set.rotamers.len() as u32).to_le_bytes());
            for r in &set.rotamers {
                b.extend_from_slice(&r.key.to_le_bytes());
                for p in &r.atoms {
                    put(&mut b, p);
                }
            }
            for c in &set.counts {
                b.extend_from_slice(&c.to_le_bytes());
            }
        }
        b
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<FullAtomStats, String> {
        let mut r = Reader::new(bytes);
        if r.take(8, "magic")? != MAGIC {
            return Err("not a mapfold full-atom statistics file".into());
        }
        let version = r.u32("version")?;
        if version != VERSION {
            return Err(format!(
                "full-atom statistics version {version}, this mapfold reads version {VERSION}"
            ));
        }
        let shape = [r.u32("N_R")?, r.u32("N_DIH")?, r.u32("N_CLASS")?];
        if shape != [N_R as u32, N_DIH as u32, N_CLASS as u32] {
            return Err(format!(
                "table shape {shape:?}, expected [{N_R}, {N_DIH}, {N_CLASS}]"
            ));
        }
        let n_chains = r.u32("chain count")?;
        let backbone = BackboneTables {
            mid: read_points(&mut r, N_MID_BINS * backbone::MID_ATOMS, "mid table")?,
            nterm: read_points(&mut r, N_R * backbone::NTERM_ATOMS, "N-terminal table")?,
            cterm: read_points(&mut r, N_R * backbone::CTERM_ATOMS, "C-terminal table")?,
        };
        let mut rotamers = Vec::with_capacity(RESIDUES.len());
        for def in &RESIDUES {
            let n = r.u32("rotamer count")? as usize;
            if n > 4096 {
                return Err(format!("{}: {n} rotamers, at most 4096 expected", def.name));
            }
            let mut rots = Vec::with_capacity(n);
            for _ in 0..n {
                let key = r.u32("rotamer key")?;
                let atoms = read_points(&mut r, def.side.len(), "rotamer atoms")?;
                rots.push(Rotamer { key, atoms });
            }
            let counts = (0..n * N_CLASS)
                .map(|_| r.u32("rotamer counts"))
                .collect::<Result<Vec<u32>, String>>()?;
            rotamers.push(RotamerSet {
                rotamers: rots,
                counts,
            });
        }
        if r.pos != bytes.len() {
            return Err(format!(
                "{} trailing bytes after the rotamer tables",
                bytes.len() - r.pos
            ));
        }
        Ok(FullAtomStats {
            backbone,
            rotamers,
            n_chains,
        })
    }

    pub fn read(path: &Path) -> Result<FullAtomStats, FileError> {
        let b = crate::io::read_bytes(path)?;
        FullAtomStats::from_bytes(&b).map_err(|m| FileError::format(path, m))
    }

    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        crate::io::write_atomically(path, &self.to_bytes())
    }
}

/// `n` points stored as i16 thousandths of an ångström.
fn read_points(r: &mut Reader, n: usize, what: &str) -> Result<Vec<Vec3>, String> {
    let raw = r.take(n * 6, what)?;
    Ok(raw
        .chunks_exact(6)
        .map(|c| {
            let v = |k: usize| i16::from_le_bytes([c[2 * k], c[2 * k + 1]]) as f64 / 1000.0;
            Vec3::new(v(0), v(1), v(2))
        })
        .collect())
}
