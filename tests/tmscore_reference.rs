//! TM-score, RMSD, GDT-TS and common length against the Zhang lab TM-score
//! program's own output for 50 decoys (reference/tmscore_decoys.tsv).

use mapfold::geom::tmscore::{tm_score_chains, tm_score_structures};
use mapfold::io::read_structure;
use std::path::Path;

struct Row {
    model: String,
    native: String,
    tm_score: f64,
    rmsd: f64,
    gdt_ts: f64,
    n_common: usize,
}

fn read_rows(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).expect("read tmscore_decoys.tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    assert_eq!(
        header,
        [
            "model",
            "native",
            "tm_score",
            "rmsd_superposed",
            "gdt_ts",
            "n_common"
        ]
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Row {
                model: f[0].to_string(),
                native: f[1].to_string(),
                tm_score: f[2].parse().unwrap(),
                rmsd: f[3].parse().unwrap(),
                gdt_ts: f[4].parse().unwrap(),
                n_common: f[5].parse().unwrap(),
            }
        })
        .collect()
}

#[test]
fn reproduces_the_tm_score_program_on_50_decoys() {
    let Some(data) =
        mapfold::data::shared_data_for_test("reproduces_the_tm_score_program_on_50_decoys")
    else {
        return;
    };
    let refdir = data.join("reference");
    let rows = read_rows(&refdir.join("tmscore_decoys.tsv"));
    assert_eq!(rows.len(), 50);
    let (mut max_tm, mut max_rmsd, mut max_gdt) = (0.0f64, 0.0f64, 0.0f64);
    for row in &rows {
        let model = read_structure(&refdir.join("decoys").join(&row.model)).unwrap();
        let native =
            read_structure(&data.join("structures").join(format!("{}.pdb", row.native))).unwrap();
        // The program reads the first chain of each file.
        let r = tm_score_chains(&model.chains[0], &native.chains[0]);
        let (dt, dr, dg) = (
            (r.tm_score - row.tm_score).abs(),
            (r.rmsd - row.rmsd).abs(),
            (r.gdt_ts - row.gdt_ts).abs(),
        );
        eprintln!(
            "{:50} tm {:.4} ({:.4}) rmsd {:.3} ({:.3}) gdt {:.4} ({:.4}) n {} ({})",
            row.model,
            r.tm_score,
            row.tm_score,
            r.rmsd,
            row.rmsd,
            r.gdt_ts,
            row.gdt_ts,
            r.n_common,
            row.n_common
        );
        assert_eq!(r.n_common, row.n_common, "{}", row.model);
        max_tm = max_tm.max(dt);
        max_rmsd = max_rmsd.max(dr);
        max_gdt = max_gdt.max(dg);
    }
    eprintln!(
        "max |Δ| over 50 rows: TM-score {max_tm:.5}, RMSD {max_rmsd:.4} Å, GDT-TS {max_gdt:.5}"
    );
    // The table prints 4 decimals (3 for RMSD): agreement to its rounding.
    assert!(max_tm <= 0.0001, "TM-score off by {max_tm}");
    assert!(max_rmsd <= 0.001, "RMSD off by {max_rmsd}");
    assert!(max_gdt <= 0.0001, "GDT-TS off by {max_gdt}");
}

/// The two-chain native 5Y9J (chains A and C) and its two-chain decoy: the
/// structure-level rule pairs chain with chain, so every residue of both chains
/// is in common and the length is that of both chains.
#[test]
fn whole_structures_pair_chains_by_position() {
    let Some(data) =
        mapfold::data::shared_data_for_test("whole_structures_pair_chains_by_position")
    else {
        return;
    };
    let native =
        read_structure(&data.join("structures/0744_antibody_db55_5Y9J_l_b_A.pdb")).unwrap();
    let model =
        read_structure(&data.join("reference/decoys/0744_antibody_db55_5Y9J_l_b_A_noise0.7.pdb"))
            .unwrap();
    assert_eq!(native.chains.len(), 2);
    let n_ca: usize = native.chains.iter().map(|c| c.ca_coords().len()).sum();
    let whole = tm_score_structures(&model, &native);
    let first = tm_score_chains(&model.chains[0], &native.chains[0]);
    assert_eq!(whole.n_common, n_ca);
    assert_eq!(whole.l_ref, n_ca);
    assert!(first.n_common < whole.n_common);
    eprintln!(
        "two chains: TM {:.4} RMSD {:.3}; first chain: TM {:.4} RMSD {:.3}",
        whole.tm_score, whole.rmsd, first.tm_score, first.rmsd
    );
    // Both chains carry the same 0.7 Å noise: the same RMSD, and a higher
    // TM-score only through the larger d0 of the doubled length.
    assert!((whole.rmsd - first.rmsd).abs() < 0.05);
    assert!(whole.d0 > first.d0 && whole.tm_score > first.tm_score);
}

/// CRscore on real chains: a decoy's Cα atoms, placed on the native by the
/// TM-score superposition and stripped of their order, score lower as the
/// decoy's noise grows, and every native atom finds a partner.
#[test]
fn crscore_of_decoy_clouds_falls_with_noise() {
    use mapfold::geom::crscore::crscore_pairs;
    let Some(data) =
        mapfold::data::shared_data_for_test("crscore_of_decoy_clouds_falls_with_noise")
    else {
        return;
    };
    let native = read_structure(&data.join("structures/0232_old_homstrad_1axia_A.pdb")).unwrap();
    let reference = native.chains[0].ca_coords();
    let mut last = f64::INFINITY;
    for noise in ["0.7", "2.0", "4.0"] {
        let path = data.join(format!(
            "reference/decoys/0232_old_homstrad_1axia_A_noise{noise}.pdb"
        ));
        let model = read_structure(&path).unwrap();
        let tm = tm_score_chains(&model.chains[0], &native.chains[0]);
        let mut cloud: Vec<_> = model.chains[0]
            .ca_coords()
            .iter()
            .map(|p| tm.transform.apply(p))
            .collect();
        // Any order will do: sort by x to lose the chain's.
        cloud.sort_by(|a, b| a.x.total_cmp(&b.x));
        let s = crscore_pairs(&cloud, &reference);
        eprintln!(
            "noise {noise}: CRscore {:.4} (pair RMSD {:.3} Å), TM-score {:.4}",
            s.score, s.rmsd, tm.tm_score
        );
        assert_eq!(s.pairs.len(), reference.len());
        assert!(s.score < last);
        last = s.score;
    }
}
