//! The `mapfold` commands as a user runs them: JSON on stdout is exactly one
//! object with the documented keys, errors exit non-zero and name the file, and
//! a failed command leaves no output file behind. Inputs are the committed
//! fixtures (real EMD-2566 cut-out and PDB 3J6B chain 9), so this runs on a
//! fresh clone.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn mapfold(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mapfold"))
        .args(args)
        .env("MAPFOLD_DATA", "/nonexistent") // fresh-clone conditions
        .output()
        .expect("run mapfold")
}

/// Parses stdout as exactly one JSON object (nothing before or after it).
fn json_object(out: &Output) -> serde_json::Map<String, serde_json::Value> {
    assert!(
        out.status.success(),
        "mapfold failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {text}"));
    v.as_object().expect("a JSON object").clone()
}

fn keys(o: &serde_json::Map<String, serde_json::Value>, want: &[&str]) {
    for k in want {
        assert!(o.contains_key(*k), "missing key {k} in {o:?}");
    }
}

fn failure_names(out: &Output, what: &str) {
    assert!(!out.status.success(), "expected failure");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(what), "stderr does not name {what}: {err}");
    assert!(out.stdout.is_empty() || !String::from_utf8_lossy(&out.stdout).contains('{'));
}

#[test]
fn simulate_then_fit_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let out_map = dir.path().join("sim.mrc");
    let model = fixture("3j6b_9.pdb");
    let o = json_object(&mapfold(&[
        "simulate",
        "--model",
        model.to_str().unwrap(),
        "--resolution",
        "4",
        "--voxel",
        "1.5",
        "-o",
        out_map.to_str().unwrap(),
        "--json",
        "--device",
        "cpu",
    ]));
    keys(
        &o,
        &[
            "output",
            "dims",
            "voxel_size",
            "origin",
            "n_atoms",
            "seconds",
            "device",
        ],
    );
    assert_eq!(o["n_atoms"], 2865);
    assert!(out_map.exists());

    // The model fits its own simulated map perfectly; the deposited map less so.
    let fit = |map: &Path, r: &str| {
        json_object(&mapfold(&[
            "fit",
            "--model",
            model.to_str().unwrap(),
            "--map",
            map.to_str().unwrap(),
            "--resolution",
            r,
            "--json",
        ]))
    };
    let own = fit(&out_map, "4");
    keys(&own, &["pcc", "pcc_masked", "cc"]);
    assert!(own["pcc"].as_f64().unwrap() > 0.999);
    let real = fit(&fixture("emd2566_3j6b_9.mrc"), "3.2");
    let pcc = real["pcc"].as_f64().unwrap();
    assert!((0.5..0.9).contains(&pcc), "deposited model PCC {pcc}");
    assert!(real["cc"].as_f64().unwrap() < 0.0);

    // --like puts the simulation on the map's own grid.
    let like = dir.path().join("like.mrc.gz");
    json_object(&mapfold(&[
        "simulate",
        "--model",
        model.to_str().unwrap(),
        "--resolution",
        "3.2",
        "--like",
        fixture("emd2566_3j6b_9.mrc").to_str().unwrap(),
        "-o",
        like.to_str().unwrap(),
        "--json",
    ]));
    let info = json_object(&mapfold(&["map-info", like.to_str().unwrap(), "--json"]));
    assert_eq!(info["file_dims"], serde_json::json!([35, 52, 47]));
    let o = info["origin"].as_array().unwrap();
    assert!((o[0].as_f64().unwrap() - 356.44).abs() < 1e-3);
}

#[test]
fn score_modes() {
    let model = fixture("3j6b_9.pdb");
    let m = model.to_str().unwrap();
    let s = json_object(&mapfold(&[
        "score",
        "--model",
        m,
        "--reference",
        m,
        "--json",
    ]));
    keys(&s, &["tm_score", "rmsd", "gdt_ts", "n_common"]);
    assert!((s["tm_score"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    assert_eq!(s["n_common"], 195);
    let a = json_object(&mapfold(&[
        "score",
        "--model",
        m,
        "--reference",
        m,
        "--align",
        "--json",
    ]));
    keys(
        &a,
        &["tm_score", "tm_score_model", "rmsd", "aligned_length"],
    );
    assert_eq!(a["aligned_length"], 195);
    let c = json_object(&mapfold(&[
        "score",
        "--model",
        m,
        "--reference",
        m,
        "--crscore",
        "--json",
    ]));
    assert!((c["crscore"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    let bad = mapfold(&[
        "score",
        "--model",
        m,
        "--reference",
        m,
        "--reference-chain",
        "Q",
    ]);
    failure_names(&bad, "no chain \"Q\"");

    // The deposited chain renumbered from 1, as a model built from its
    // sequence is: by number most residues pair with the wrong partner, in
    // order all pair right.
    let dir = tempfile::tempdir().unwrap();
    let mut s1 = mapfold::io::read_structure(&model).unwrap();
    for (k, r) in s1.chains[0].residues.iter_mut().enumerate() {
        r.seq_num = k as i32 + 1;
    }
    let renumbered = dir.path().join("from1.pdb");
    mapfold::io::pdb::write_pdb(&renumbered, &s1).unwrap();
    let r = renumbered.to_str().unwrap();
    let by_number = mapfold(&["score", "--model", r, "--reference", m, "--json"]);
    assert!(String::from_utf8_lossy(&by_number.stderr).contains("--by-order"));
    let by_number = json_object(&by_number);
    assert!(by_number["tm_score"].as_f64().unwrap() < 0.9);
    let in_order = json_object(&mapfold(&[
        "score",
        "--model",
        r,
        "--reference",
        m,
        "--by-order",
        "--json",
    ]));
    assert!((in_order["tm_score"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    assert_eq!(in_order["n_common"], 195);
    s1.chains[0].residues.pop();
    let short = dir.path().join("short.pdb");
    mapfold::io::pdb::write_pdb(&short, &s1).unwrap();
    let bad = mapfold(&[
        "score",
        "--model",
        short.to_str().unwrap(),
        "--reference",
        m,
        "--by-order",
    ]);
    failure_names(&bad, "194 Cα");
}

#[test]
fn errors_name_the_file_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out_map = dir.path().join("never.mrc");
    // A structure file that is not one.
    let junk = dir.path().join("junk.pdb");
    std::fs::write(&junk, "this is not a PDB file\n").unwrap();
    let o = mapfold(&[
        "simulate",
        "--model",
        junk.to_str().unwrap(),
        "--resolution",
        "4",
        "--voxel",
        "1",
        "-o",
        out_map.to_str().unwrap(),
    ]);
    failure_names(&o, "junk.pdb");
    // A map that is not one.
    let o = mapfold(&[
        "fit",
        "--model",
        fixture("3j6b_9.pdb").to_str().unwrap(),
        "--map",
        junk.to_str().unwrap(),
        "--resolution",
        "4",
    ]);
    failure_names(&o, "junk.pdb");
    // A model that is not placed in the map.
    let o = mapfold(&[
        "fit",
        "--model",
        fixture("3j6b_9.pdb").to_str().unwrap(),
        "--map",
        fixture("emd5778_fragment.ccp4").to_str().unwrap(),
        "--resolution",
        "4",
    ]);
    failure_names(&o, "outside the box");
    // A nonsense resolution.
    let o = mapfold(&[
        "simulate",
        "--model",
        fixture("3j6b_9.pdb").to_str().unwrap(),
        "--resolution",
        "-3",
        "--voxel",
        "1",
        "-o",
        out_map.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    // No output and no temporary files were left.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "junk.pdb")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// `library train-restype` refuses bad settings before simulating any map,
/// and writes nothing.
#[test]
fn train_restype_refuses_bad_arguments_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("restype.bin");
    let out = out.to_str().unwrap();
    for (extra, says) in [
        (vec!["--degraded", "1.5"], "--degraded"),
        (vec!["--jitter=-1"], "--jitter"),
        (vec!["--epochs", "0"], "--epochs"),
        (vec!["--hidden", "0"], "--hidden"),
        (vec!["--resolutions", "5-2"], "--resolutions"),
    ] {
        let mut args = vec!["library", "train-restype", "-o", out];
        args.extend(extra);
        let o = mapfold(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert!(!Path::new(out).exists());
}

/// `train-restype --exclude` names its file when the file lists no chains
/// or a chain the data set's table lacks, before any map is simulated.
#[test]
fn train_restype_exclude_list_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("structures.tsv"),
        "id\tlength\tsplit\tcluster30\tcluster30_size\tsequence\n\
         a\t3\ttrain\tc1\t2\tMKV\nb\t3\ttrain\tc1\t2\tMKL\nc\t3\ttrain\tc2\t1\tMKI\n",
    )
    .unwrap();
    let out = dir.path().join("restype.bin");
    for (list, says) in [
        ("# none\n\n", "no chain ids"),
        ("a\nzz\n", "chain zz is not in"),
    ] {
        let f = dir.path().join("exclude.txt");
        std::fs::write(&f, list).unwrap();
        let o = mapfold(&[
            "library",
            "train-restype",
            "--data",
            dir.path().to_str().unwrap(),
            "--exclude",
            f.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{list:?} succeeded");
        assert!(
            err.contains(says) && err.contains("exclude.txt"),
            "{list:?}: {err}"
        );
    }
    assert!(!out.exists());
}

#[test]
fn every_command_has_an_example_in_its_help() {
    for cmd in [
        "map-info", "simulate", "score", "fit", "ca", "train", "library", "thread",
    ] {
        let o = mapfold(&[cmd, "--help"]);
        assert!(o.status.success());
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("Example"), "{cmd} --help has no example");
        assert!(
            text.contains(&format!("mapfold {cmd}")),
            "{cmd} --help example"
        );
    }
}

/// Output into a pipe whose reader has gone (`mapfold score … | head -1`)
/// ends quietly with SIGPIPE's status, not with a panic and a backtrace.
#[test]
fn a_closed_pipe_is_no_panic() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let reference = fixture("3j6b_9.pdb");
    let reference = reference.to_str().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mapfold"))
        .args(["score", "--model", reference, "--reference", reference])
        .stdout(writer)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.code(), Some(141), "{err}");
}
