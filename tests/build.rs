//! `mapfold build` and `mapfold templates` as a user runs them, on the bundled
//! example (the real EMD-2566 cut-out and the sequence of PDB 3J6B chain 9),
//! under fresh-clone conditions (no `../shared/data`, so no template library:
//! the run goes on from the Cα cloud alone). Short runs: these check the
//! product's contract (files, JSON, errors, determinism, resume), not its
//! accuracy, which `BENCHMARKS.md` measures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

fn mapfold(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mapfold"))
        .args(args)
        .env("MAPFOLD_DATA", "/nonexistent")
        .env_remove("MAPFOLD_LIBRARY")
        .env("RUST_LOG", "info")
        .output()
        .expect("run mapfold")
}

fn build_args<'a>(out: &'a str, extra: &[&'a str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "build",
        "--map",
        example("emd2566_3j6b_9.mrc").to_str().unwrap(),
        "--seq",
        example("3j6b_9.fasta").to_str().unwrap(),
        "-o",
        out,
        "--sweeps",
        "3",
        "--replicas",
        "6",
        "--json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn run(args: &[String]) -> Output {
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    mapfold(&a)
}

#[test]
fn build_writes_ranked_models_with_confidence_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out_s = out.to_str().unwrap();
    let o = run(&build_args(out_s, &[]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("no template library"),
        "says it has no library: {stderr}"
    );
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let report = PathBuf::from(j["report"].as_str().unwrap());
    let etm = j["etm_score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&etm));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let models = r["models"].as_array().unwrap();
    assert!(!models.is_empty() && models.len() <= 5);
    // Ranked by eTM-score, one local confidence per residue, in the B-factor column.
    let etms: Vec<f64> = models
        .iter()
        .map(|m| m["etm_score"].as_f64().unwrap())
        .collect();
    assert!(etms.windows(2).all(|w| w[0] >= w[1]), "{etms:?}");
    assert!(etms.iter().all(|e| (0.0..=1.0).contains(e)));
    let mut clusters: Vec<u64> = models
        .iter()
        .map(|m| m["cluster"].as_u64().unwrap())
        .collect();
    clusters.sort();
    assert_eq!(clusters, (1..=models.len() as u64).collect::<Vec<_>>());
    let s = mapfold::io::read_structure(&out.join("model_1.pdb")).unwrap();
    assert_eq!(s.chains[0].residues.len(), 195);
    let lc = models[0]["local_confidence"].as_array().unwrap();
    assert_eq!(lc.len(), 195);
    for (res, c) in s.chains[0].residues.iter().zip(lc) {
        let want = c.as_f64().unwrap() * 100.0;
        assert!((res.atoms[0].b_factor - want).abs() < 0.01);
    }
    assert!(s.chains[0]
        .residues
        .iter()
        .all(|r| r.atom("N").is_some() && r.atom("O").is_some()));
    assert!(out.join("model_1.cif").exists());
    assert!(out.join("templates").join("templates.tsv").exists());
    let model1 = std::fs::read(out.join("model_1.pdb")).unwrap();

    // The same command again resumes from the finished stages and gives the same models.
    let again = run(&build_args(out_s, &[]));
    assert!(again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("resuming"), "{err}");
    assert!(
        std::fs::read(out.join("model_1.pdb")).unwrap() == model1,
        "resumed run differs"
    );

    // A fresh run with the same seed gives the same models.
    let out2 = dir.path().join("run2");
    let o2 = run(&build_args(out2.to_str().unwrap(), &[]));
    assert!(o2.status.success());
    assert!(
        std::fs::read(out2.join("model_1.pdb")).unwrap() == model1,
        "same seed, different model"
    );
}

/// A FASTA of several records models one chain per record: the example's
/// sequence cut where 13 residues of the deposited chain are missing.
#[test]
fn each_fasta_record_becomes_a_chain_of_the_models() {
    let dir = tempfile::tempdir().unwrap();
    let recs = mapfold::io::fasta::read_fasta(&example("3j6b_9.fasta")).unwrap();
    let seq = &recs[0].residues;
    let fasta = dir.path().join("two.fasta");
    std::fs::write(
        &fasta,
        format!(">first\n{}\n>second\n{}\n", &seq[..96], &seq[96..]),
    )
    .unwrap();
    let out = dir.path().join("run");
    let mut args = build_args(out.to_str().unwrap(), &[]);
    let at = args.iter().position(|a| a == "--seq").unwrap() + 1;
    args[at] = fasta.to_str().unwrap().to_string();
    let o = run(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("2 records, modelled as chains A–B"),
        "{stderr}"
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let chains: Vec<(String, String, u64)> = r["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["record"].as_str().unwrap().to_string(),
                c["residues"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        chains,
        [
            ("A".to_string(), "first".to_string(), 96),
            ("B".to_string(), "second".to_string(), 99)
        ]
    );
    for file in ["model_1.pdb", "model_1.cif"] {
        let s = mapfold::io::read_structure(&out.join(file)).unwrap();
        let shape: Vec<(&str, usize, i32)> = s
            .chains
            .iter()
            .map(|c| (c.id.as_str(), c.residues.len(), c.residues[0].seq_num))
            .collect();
        assert_eq!(shape, [("A", 96, 1), ("B", 99, 1)], "{file}");
        assert_eq!(s.ca_coords().len(), 195);
    }
    // One local confidence per residue over both chains, in the B-factor column.
    let s = mapfold::io::read_structure(&out.join("model_1.pdb")).unwrap();
    let lc = r["models"][0]["local_confidence"].as_array().unwrap();
    assert_eq!(lc.len(), 195);
    let residues = s.chains.iter().flat_map(|c| &c.residues);
    for (res, c) in residues.zip(lc) {
        assert!((res.atoms[0].b_factor - c.as_f64().unwrap() * 100.0).abs() < 0.01);
    }
}

#[test]
fn bad_inputs_fail_fast_with_a_clear_message_and_no_models() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.fasta");
    std::fs::write(&empty, ">nothing\n").unwrap();
    let long = dir.path().join("long.fasta");
    std::fs::write(&long, format!(">long\n{}\n", "A".repeat(20_000))).unwrap();
    for (seq, want) in [(&empty, "no sequence"), (&long, "20000 residues")] {
        let out = dir.path().join("out");
        let o = mapfold(&[
            "build",
            "--map",
            example("emd2566_3j6b_9.mrc").to_str().unwrap(),
            "--seq",
            seq.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{err}");
        assert!(!out.join("model_1.pdb").exists());
    }
    let missing = mapfold(&[
        "build",
        "--map",
        "/nonexistent/map.mrc",
        "--seq",
        example("3j6b_9.fasta").to_str().unwrap(),
        "-o",
        dir.path().join("o").to_str().unwrap(),
    ]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/map.mrc"));
}

#[test]
fn templates_command_writes_only_template_files_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    let o = mapfold(&[
        "templates",
        "--map",
        example("emd2566_3j6b_9.mrc").to_str().unwrap(),
        "--seq",
        example("3j6b_9.fasta").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let n = j["n_templates"].as_u64().unwrap() as usize;
    assert!(n > 0 && n <= 40);
    assert!(j["easy"].is_boolean() && j["seconds"].as_f64().unwrap() > 0.0);
    let pdbs: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".pdb"))
        .collect();
    assert_eq!(pdbs.len(), n, "{pdbs:?}");
    assert!(pdbs.iter().all(|f| f.starts_with("template_")));
    let tsv = std::fs::read_to_string(out.join("templates.tsv")).unwrap();
    assert_eq!(tsv.lines().count(), n + 1);
}
