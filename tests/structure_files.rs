//! Structure and sequence files on the shared data: every chain of the data set
//! reads and agrees with structures.tsv, the map folders' models and FASTA files
//! read, PDB and mmCIF writers round-trip, and damaged input never panics.

use mapfold::io::{fasta, mmcif, pdb, read_structure};
use mapfold::structure::{Residue, Structure};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

struct Row {
    id: String,
    length: usize,
    sequence: String,
}

fn table(data: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(data.join("structures.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (id, len, seq) = (col("id"), col("length"), col("sequence"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Row {
                id: f[id].to_string(),
                length: f[len].parse().unwrap(),
                sequence: f[seq].to_string(),
            }
        })
        .collect()
}

fn map_files(data: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(data.join("maps")).unwrap() {
        let dir = dir.unwrap().path();
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == ext) {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_chain_of_the_data_set_matches_its_table_row() {
    let Some(data) = mapfold::data::shared_data_for_test("every_chain_of_the_data_set") else {
        return;
    };
    let rows = table(&data);
    let n_files = std::fs::read_dir(data.join("structures"))
        .unwrap()
        .filter(|f| {
            f.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|e| e == "pdb")
        })
        .count();
    assert_eq!(rows.len(), n_files, "table rows vs PDB files");
    // Two facts about the table, found by reading the files (see the report):
    // its `length` and `sequence` count every residue of the chain, including
    // the few that lack a CA atom; and 11 files hold a whole complex, of which the
    // row describes the chain named by the id's last field ("..._l_b_A" is A).
    let results: Vec<Result<(usize, usize, bool), String>> = rows
        .par_iter()
        .map(|row| {
            let path = data.join("structures").join(format!("{}.pdb", row.id));
            let s = read_structure(&path).map_err(|e| format!("{}: {e}", row.id))?;
            let named = row.id.rsplit('_').next().unwrap();
            let chain = match (s.chains.len(), s.chain(named)) {
                (1, _) => &s.chains[0],
                (_, Some(c)) => c,
                (n, None) => return Err(format!("{}: {n} chains, none named {named}", row.id)),
            };
            let all: String = chain.residues.iter().map(|r| r.one_letter()).collect();
            // The table's sequence with the residues that lack a CA left out.
            let expect_ca: String = row
                .sequence
                .chars()
                .zip(&chain.residues)
                .filter(|(_, r)| r.ca().is_some())
                .map(|(c, _)| c)
                .collect();
            let ca = chain.ca_sequence();
            let mut p = Vec::new();
            if all.len() != row.length {
                p.push(format!("{} residues, table says {}", all.len(), row.length));
            }
            if all != row.sequence {
                p.push(format!("sequence {all} != table {}", row.sequence));
            }
            if ca != expect_ca {
                p.push(format!(
                    "CA sequence {ca} != table's CA residues {expect_ca}"
                ));
            }
            if !p.is_empty() {
                return Err(format!("{}: {}", row.id, p.join("; ")));
            }
            Ok((
                row.length - ca.len(),
                s.chains.len(),
                ca.len() == row.length,
            ))
        })
        .collect();
    let problems: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let ok: Vec<&(usize, usize, bool)> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    eprintln!(
        "{} chains agree with structures.tsv; {} have CA count == length; {} chains ({} residues) \
         have residues without CA; {} files hold more than one chain",
        ok.len(),
        ok.iter().filter(|r| r.2).count(),
        ok.iter().filter(|r| r.0 > 0).count(),
        ok.iter().map(|r| r.0).sum::<usize>(),
        ok.iter().filter(|r| r.1 > 1).count()
    );
    for p in &problems {
        eprintln!("{p}");
    }
    assert!(
        problems.is_empty(),
        "{} of {} chains disagree with structures.tsv",
        problems.len(),
        rows.len()
    );
}

#[test]
fn map_folder_models_read() {
    let Some(data) = mapfold::data::shared_data_for_test("map_folder_models_read") else {
        return;
    };
    let files = map_files(&data, "pdb");
    assert_eq!(files.len(), 8);
    for f in &files {
        let s = read_structure(f).unwrap();
        let n: Vec<usize> = s.chains.iter().map(|c| c.ca_coords().len()).collect();
        eprintln!(
            "{}: chains {:?}, CA per chain {n:?}, {} ligands, {} waters",
            f.display(),
            s.chains.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            s.ligands.len(),
            s.waters.len()
        );
        assert!(!s.chains.is_empty());
    }
    // Counts from the data README.
    let read = |p: &str| read_structure(&data.join("maps").join(p)).unwrap();
    assert_eq!(read("emd1997_1oel/1oel.pdb").chains.len(), 7);
    let j6b = read("emd2566_3j6b/3J6B_9.pdb");
    assert_eq!(j6b.chains[0].id, "9");
    assert_eq!(j6b.ca_coords().len(), 195);
    assert_eq!(read("emd5168_3mfp/3MFP.pdb").ca_coords().len(), 369);
    assert_eq!(
        read("emd5778_fragment/test_model.pdb").ca_coords().len(),
        28
    );
    assert_eq!(read("sim_1yfq/1yfq.pdb").ca_coords().len(), 342);
}

#[test]
fn map_folder_fasta_files_read() {
    let Some(data) = mapfold::data::shared_data_for_test("map_folder_fasta_files_read") else {
        return;
    };
    let files = map_files(&data, "fasta");
    assert_eq!(files.len(), 2);
    for f in &files {
        let recs = fasta::read_fasta(f).unwrap();
        for r in &recs {
            eprintln!("{}: >{} {} residues", f.display(), r.id, r.len());
        }
        assert!(recs.iter().all(|r| r
            .residues
            .chars()
            .all(|c| c == 'X' || mapfold::sequence::aa_index(c).is_some())));
    }
    let recs = fasta::read_fasta(&data.join("maps/emd2513/emd_2513.fasta")).unwrap();
    let ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["2513A", "2513B", "2513C"]);
    // The AlphaFold models beside the FASTA files: EMD-2513's is one chain made
    // of the three records end to end; EMD-1461's three records are one
    // sequence (a homotrimer) and the model is one copy of it.
    let model_seq = |p: &str| -> String {
        let s = read_structure(&data.join("maps").join(p)).unwrap();
        s.chains.iter().map(|c| c.ca_sequence()).collect()
    };
    let all: String = recs.iter().map(|r| r.residues.as_str()).collect();
    assert_eq!(model_seq("emd2513/emd_2513_af2.pdb"), all);
    let r1461 = fasta::read_fasta(&data.join("maps/emd1461/emd_1461.fasta")).unwrap();
    assert_eq!(r1461.len(), 3);
    assert!(r1461.iter().all(|r| r.residues == r1461[0].residues));
    assert_eq!(model_seq("emd1461/emd_1461_af2.pdb"), r1461[0].residues);
}

/// Everything but the serials, which writers renumber.
fn without_serials(mut s: Structure) -> Structure {
    let residues = s
        .chains
        .iter_mut()
        .flat_map(|c| c.residues.iter_mut())
        .chain(s.ligands.iter_mut().map(|(_, r)| r))
        .chain(s.waters.iter_mut().map(|(_, r)| r));
    residues
        .flat_map(|r: &mut Residue| r.atoms.iter_mut())
        .for_each(|a| a.serial = 0);
    s
}

/// All PDB files of the data set (structures and map folders).
fn all_pdb_files(data: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data.join("structures"))
        .unwrap()
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pdb"))
        .collect();
    files.sort();
    files.extend(map_files(data, "pdb"));
    files
}

#[test]
fn pdb_and_mmcif_round_trips_are_exact() {
    let Some(data) = mapfold::data::shared_data_for_test("round_trips") else {
        return;
    };
    let files = all_pdb_files(&data);
    let failures: Vec<String> = files
        .par_iter()
        .filter_map(|f| {
            let mut s = read_structure(f).unwrap();
            // Caller-set B-factors with the two decimals both formats print.
            for (i, a) in s.atoms_mut().enumerate() {
                a.b_factor = ((i * 37) % 20000) as f64 / 100.0;
            }
            let want = without_serials(s.clone());
            let via_pdb = pdb::parse(&pdb::to_pdb_string(&s)).map(without_serials);
            let via_cif = mmcif::parse(&mmcif::to_mmcif_string(&s)).map(without_serials);
            let mut bad = Vec::new();
            if via_pdb.as_ref() != Ok(&want) {
                bad.push("PDB");
            }
            if via_cif.as_ref() != Ok(&want) {
                bad.push("mmCIF");
            }
            (!bad.is_empty()).then(|| format!("{}: {bad:?}", f.display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} files do not round-trip: {failures:#?}",
        failures.len(),
        files.len()
    );
    eprintln!("{} files round-trip through PDB and mmCIF", files.len());
}

#[test]
fn written_files_read_back_through_read_structure() {
    let Some(data) = mapfold::data::shared_data_for_test("written_files_read_back") else {
        return;
    };
    let src = data.join("maps/emd1997_1oel/1oel.pdb");
    let s = read_structure(&src).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let want = without_serials(s.clone());
    for name in ["out.pdb", "out.pdb.gz", "out.cif", "out.cif.gz"] {
        let p = dir.path().join(name);
        if name.contains(".cif") {
            mmcif::write_mmcif(&p, &s).unwrap();
        } else {
            pdb::write_pdb(&p, &s).unwrap();
        }
        assert_eq!(without_serials(read_structure(&p).unwrap()), want, "{name}");
    }
    assert_eq!(s.chains.len(), 7);
    assert!(!s.waters.is_empty() || !s.ligands.is_empty());
}

fn parse_all(text: &str) {
    let _ = pdb::parse(text);
    let _ = mmcif::parse(text);
    let _ = fasta::parse_fasta(text);
}

#[test]
fn damaged_input_gives_errors_or_structures_never_panics() {
    let Some(data) = mapfold::data::shared_data_for_test("damaged_input") else {
        return;
    };
    let pdb_text =
        std::fs::read_to_string(data.join("maps/emd5778_fragment/test_model.pdb")).unwrap();
    let full = pdb::parse(&pdb_text).unwrap();
    let cif_text = mmcif::to_mmcif_string(&full);
    let fasta_text = std::fs::read_to_string(data.join("maps/emd2513/emd_2513.fasta")).unwrap();
    // Every truncation of each file.
    for (text, kind) in [(&pdb_text, 0), (&cif_text, 1), (&fasta_text, 2)] {
        let cuts: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        let n_ok: usize = cuts
            .par_iter()
            .map(|&i| {
                let t = &text[..i];
                let ok = match kind {
                    0 => match pdb::parse(t) {
                        Ok(s) => {
                            // Cut at a line end: exactly the complete records are read.
                            if t.ends_with('\n') {
                                let lines = t
                                    .lines()
                                    .filter(|l| l.starts_with("ATOM") || l.starts_with("HETATM"))
                                    .count();
                                let atoms = s.atoms().count()
                                    + s.ligands
                                        .iter()
                                        .chain(&s.waters)
                                        .map(|(_, r)| r.atoms.len())
                                        .sum::<usize>();
                                assert_eq!(atoms, lines, "cut at byte {i}");
                            }
                            true
                        }
                        Err(_) => false,
                    },
                    1 => mmcif::parse(t)
                        .map(|s| s.atoms().count() > 0)
                        .unwrap_or(false),
                    _ => fasta::parse_fasta(t).is_ok(),
                };
                parse_all(t);
                ok as usize
            })
            .sum();
        eprintln!("kind {kind}: {} truncations, {n_ok} parse", cuts.len());
        assert!(n_ok > 0 && n_ok < cuts.len());
    }
    // Seeded random bytes and random damage to the real files.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2024);
    let alphabet = b" \n\r\t'\";#_.?*->ATOMHETDLWXYZ0123456789abcloop_data_\x00\xff";
    for round in 0..3000 {
        let bytes: Vec<u8> = if round % 3 == 0 {
            let n = rng.random_range(0..400);
            (0..n).map(|_| rng.random()).collect()
        } else {
            let base = [&pdb_text, &cif_text, &fasta_text][rng.random_range(0..3)];
            let mut b = base.as_bytes().to_vec();
            for _ in 0..rng.random_range(1..20) {
                let i = rng.random_range(0..b.len());
                match rng.random_range(0..3) {
                    0 => b[i] = alphabet[rng.random_range(0..alphabet.len())],
                    1 => {
                        b.remove(i);
                    }
                    _ => b.insert(i, alphabet[rng.random_range(0..alphabet.len())]),
                }
            }
            b
        };
        parse_all(&String::from_utf8_lossy(&bytes));
    }
}
