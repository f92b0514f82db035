//! Rebuilding deposited chains from their own Cα and comparing atom by atom.

use super::residues::{type_index, RESIDUES};
use super::*;
use crate::structure::Chain;

/// (backbone N/CA/C/O RMSD, all-heavy-atom RMSD, N/C/O RMSD, atoms compared) of a rebuilt
/// chain against the native residues it came from (same order). Atoms are
/// matched by name, over those present in both; for residues with
/// symmetry-equivalent names (Phe/Tyr ring, Asp/Glu carboxylate, Arg NH1/NH2)
/// the better of the two namings counts, as usual for side-chain RMSD.
/// The third number is the RMSD of the built backbone atoms N, C, O alone (Cα
/// are input and match exactly).
fn rmsd_vs_native(native: &[&Residue], model: &Chain) -> (f64, f64, f64, usize) {
    let (mut bb, mut nb, mut all, mut na) = (0.0, 0usize, 0.0, 0usize);
    let (mut nco, mut nn) = (0.0, 0usize);
    for (nr, mr) in native.iter().zip(&model.residues) {
        let pairs = |swap: bool| -> Vec<(String, f64)> {
            let def = type_index(nr.one_letter()).map(|t| &RESIDUES[t]);
            mr.atoms
                .iter()
                .filter_map(|a| {
                    let mut name = a.name.as_str();
                    if swap {
                        if let Some(d) = def {
                            for &(x, y) in d.swaps {
                                if name == x {
                                    name = y;
                                } else if a.name == y {
                                    name = x;
                                }
                            }
                        }
                    }
                    let n = nr.atom(name).filter(|n| n.element != "H")?;
                    Some((a.name.clone(), (n.pos - a.pos).norm_squared()))
                })
                .collect()
        };
        let (p0, p1) = (pairs(false), pairs(true));
        let sum = |p: &[(String, f64)]| p.iter().map(|x| x.1).sum::<f64>();
        let p = if sum(&p1) < sum(&p0) { p1 } else { p0 };
        for (name, d2) in p {
            if ["N", "CA", "C", "O"].contains(&name.as_str()) {
                bb += d2;
                nb += 1;
                if name != "CA" {
                    nco += d2;
                    nn += 1;
                }
            }
            all += d2;
            na += 1;
        }
    }
    let r = |s: f64, n: usize| (s / n.max(1) as f64).sqrt();
    (r(bb, nb), r(all, na), r(nco, nn), na)
}

fn rebuild_chain<'a>(chain: &'a Chain, stats: &FullAtomStats) -> (Vec<&'a Residue>, Structure) {
    let native: Vec<&Residue> = chain.ca_residues().collect();
    let model = rebuild(&chain.ca_coords(), &chain.ca_sequence(), stats).unwrap();
    (native, model)
}

#[test]
fn rebuilds_3j6b_chain_9_from_its_ca() {
    let stats = bundled().unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/3j6b_9.pdb");
    let s = crate::io::read_structure(&path).unwrap();
    let (native, model) = rebuild_chain(&s.chains[0], &stats);
    let (bb, heavy, nco, n) = rmsd_vs_native(&native, &model.chains[0]);
    println!("3j6b chain 9 ({} residues, {n} atoms): backbone RMSD {bb:.3} Å (N/C/O alone {nco:.3}), heavy-atom RMSD {heavy:.3} Å", native.len());
    assert!(
        bb <= 0.6 && heavy <= 1.8,
        "backbone {bb:.3}, heavy {heavy:.3}"
    );
    // The model goes through the PDB writer and reads back the same.
    let text = crate::io::pdb::to_pdb_string(&model);
    let back = crate::io::pdb::parse(&text).unwrap();
    assert_eq!(back.atoms().count(), model.atoms().count());
    assert_eq!(back.chains[0].residues[0].seq_num, 1);
}

/// A chain cut in two where its Cα are 3.8 Å apart: no peptide bond joins the
/// pieces, each piece's backbone is what it would be alone, and the pieces
/// are written as chains A and B numbered from 1.
#[test]
fn a_chain_break_ends_the_backbone_and_starts_a_new_chain() {
    let stats = bundled().unwrap();
    let (seq, ca, _, _) = crate::assembly::test_stretch();
    let k = 30;
    let two = Topology::from_lengths(&[k, ca.len() - k]);
    let model = rebuild_chains(&ca, &seq, &two, &stats).unwrap();
    let ids: Vec<&str> = model.chains.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["A", "B"]);
    assert_eq!(model.chains[0].residues.len(), k);
    assert_eq!(model.chains[1].residues.len(), ca.len() - k);
    assert_eq!(model.chains[1].residues[0].seq_num, 1);
    let whole = rebuild(&ca, &seq, &stats).unwrap();
    let alone = rebuild(&ca[k..], &seq[k..], &stats).unwrap();
    let pos = |r: &Residue, n: &str| r.atom(n).unwrap().pos;
    for (a, b) in model.chains[1]
        .residues
        .iter()
        .zip(&alone.chains[0].residues)
    {
        for n in ["N", "CA", "C", "O"] {
            assert!((pos(a, n) - pos(b, n)).norm() < 1e-9, "{n}");
        }
    }
    // Unbroken, residue k's N sits 1.33 Å from residue k−1's C; broken, the
    // last C of chain A is placed as a C-terminus, not toward chain B.
    let c_end = pos(&model.chains[0].residues[k - 1], "C");
    let c_mid = pos(&whole.chains[0].residues[k - 1], "C");
    assert!((c_end - c_mid).norm() > 0.05);
}

#[test]
fn test_split_chains_rebuild_within_pulchra_like_rmsd() {
    let Some(dir) =
        crate::data::shared_data_for_test("test_split_chains_rebuild_within_pulchra_like_rmsd")
    else {
        return;
    };
    let stats = bundled().unwrap();
    let targets = crate::bench::read_targets(&dir, "test").unwrap();
    assert!(targets.len() >= 20);
    use rayon::prelude::*;
    let rows: Vec<(String, f64, f64, f64)> = targets
        .par_iter()
        .map(|t| {
            let s = crate::io::read_structure(&t.path(&dir)).unwrap();
            let (native, model) = rebuild_chain(&s.chains[0], &stats);
            let (bb, heavy, nco, _) = rmsd_vs_native(&native, &model.chains[0]);
            (t.id.clone(), bb, heavy, nco)
        })
        .collect();
    let n = rows.len() as f64;
    let mean_bb = rows.iter().map(|r| r.1).sum::<f64>() / n;
    let mean_heavy = rows.iter().map(|r| r.2).sum::<f64>() / n;
    let mean_nco = rows.iter().map(|r| r.3).sum::<f64>() / n;
    let worst = rows.iter().max_by(|a, b| a.2.total_cmp(&b.2)).unwrap();
    println!(
        "{} test chains: mean backbone RMSD {mean_bb:.3} Å (N/C/O alone {mean_nco:.3}), mean heavy-atom RMSD {mean_heavy:.3} Å (worst heavy: {} {:.3}/{:.3})",
        rows.len(), worst.0, worst.1, worst.2
    );
    assert!(mean_bb <= 0.6, "mean backbone RMSD {mean_bb:.3}");
    assert!(mean_heavy <= 1.8, "mean heavy-atom RMSD {mean_heavy:.3}");
}

#[test]
fn bond_lengths_are_near_ideal() {
    let Some(dir) = crate::data::shared_data_for_test("bond_lengths_are_near_ideal") else {
        return;
    };
    let stats = bundled().unwrap();
    let targets = crate::bench::read_targets(&dir, "test-hard").unwrap();
    let (mut ok, mut total) = (0usize, 0usize);
    // Engh & Huber ideal lengths.
    let (n_ca, ca_c, c_n) = (1.458, 1.525, 1.329); // not backbone::N_CA etc.: the test restates them
    for t in targets.iter().take(20) {
        let s = crate::io::read_structure(&t.path(&dir)).unwrap();
        let ca = s.chains[0].ca_coords();
        let model = rebuild(&ca, &s.chains[0].ca_sequence(), &stats).unwrap();
        let res = &model.chains[0].residues;
        for i in 0..res.len() {
            let p = |r: &Residue, n: &str| r.atom(n).unwrap().pos;
            let mut good = ((p(&res[i], "N") - p(&res[i], "CA")).norm() - n_ca).abs() < 0.1
                && ((p(&res[i], "CA") - p(&res[i], "C")).norm() - ca_c).abs() < 0.1;
            // Across a gap in the trace there is no peptide bond to check.
            if i + 1 < res.len() && (ca[i + 1] - ca[i]).norm() <= backbone::MAX_CA_STEP {
                good &= ((p(&res[i], "C") - p(&res[i + 1], "N")).norm() - c_n).abs() < 0.1;
            }
            ok += good as usize;
            total += 1;
        }
    }
    let frac = ok as f64 / total as f64;
    println!(
        "bond lengths N-CA, CA-C, C-N within 0.1 Å of ideal: {ok}/{total} residues ({:.1}%)",
        100.0 * frac
    );
    assert!(frac > 0.95, "{frac}");
}

#[test]
fn corrupted_stats_are_errors() {
    let good = BUNDLED.to_vec();
    assert!(FullAtomStats::from_bytes(&good).is_ok());
    assert_eq!(FullAtomStats::from_bytes(&good).unwrap().to_bytes(), good);
    let mut bad_magic = good.clone();
    bad_magic[0] ^= 0xff;
    let mut bad_version = good.clone();
    bad_version[8] = 99;
    let mut trailing = good.clone();
    trailing.push(0);
    // A huge rotamer count where the first type's count sits.
    let first_rot = 8 + 5 * 4 + 6 * (backbone::N_MID_BINS * 3 + backbone::N_R * 9);
    let mut bad_count = good.clone();
    bad_count[first_rot..first_rot + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let cases: Vec<(&str, &[u8])> = vec![
        ("empty", &[]),
        ("magic", &bad_magic),
        ("version", &bad_version),
        ("truncated", &good[..good.len() / 2]),
        ("truncated tail", &good[..good.len() - 1]),
        ("trailing", &trailing),
        ("count", &bad_count),
    ];
    for (what, bytes) in cases {
        let e = FullAtomStats::from_bytes(bytes).expect_err(what);
        assert!(!e.is_empty(), "{what}");
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.bin");
    std::fs::write(&p, &good[..100]).unwrap();
    let e = FullAtomStats::read(&p).unwrap_err().to_string();
    assert!(e.contains("bad.bin") && e.contains("truncated"), "{e}");
}

#[test]
fn odd_input_is_an_error_or_a_model_never_a_panic() {
    let stats = bundled().unwrap();
    let ca = vec![Vec3::new(0.0, 0.0, 0.0), Vec3::new(3.8, 0.0, 0.0)];
    assert!(rebuild(&ca, "A", &stats).is_err());
    assert!(rebuild(&[Vec3::new(f64::NAN, 0.0, 0.0)], "A", &stats).is_err());
    // One residue, two residues, a gap, an unknown letter, collinear points.
    for (ca, seq) in [
        (vec![Vec3::zeros()], "W"),
        (ca.clone(), "RX"),
        (
            (0..6)
                .map(|i| Vec3::new(3.8 * i as f64 + if i > 2 { 10.0 } else { 0.0 }, 0.0, 0.0))
                .collect(),
            "GAVLKE",
        ),
    ] {
        let m = rebuild(&ca, seq, &stats).unwrap();
        assert_eq!(m.chains[0].residues.len(), ca.len());
        assert!(m.atoms().all(|a| a.pos.iter().all(|x| x.is_finite())));
    }
}
