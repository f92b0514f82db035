//! `mapfold bench` (the Table 1 harness) and `mapfold bench merge` as a user
//! runs them: bad arguments fail before any work, and two shards of a short
//! run on the real maps merge into the same outputs one run would make. Short
//! runs (2 sweeps): these check the harness's contract, not accuracy, which
//! `BENCHMARKS.md` records from a full run.

use std::path::Path;
use std::process::{Command, Output};

fn mapfold(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mapfold"))
        .args(args)
        .env("MAPFOLD_DATA", "/nonexistent")
        .env_remove("MAPFOLD_LIBRARY")
        .output()
        .expect("run mapfold")
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("one JSON object on stdout")
}

#[test]
fn bad_arguments_fail_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    let out = out.to_str().unwrap();
    for (args, says) in [
        (
            vec!["bench", "--set", "tset-hard", "-o", out],
            "unknown set",
        ),
        (
            vec!["bench", "--resolution-bins", "5-2", "-o", out],
            "LO-HI",
        ),
        (vec!["bench", "--shard", "2/2", "-o", out], "--shard"),
        (vec!["bench", "--snr", "ten", "-o", out], "--snr"),
        (vec!["bench", "--set", "real"], "-o DIR"),
        (
            vec!["bench", "--set", "real", "-o", out],
            "../shared/data not found",
        ),
    ] {
        let o = mapfold(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert!(!Path::new(out).exists(), "a failed start wrote {out}");
    let o = mapfold(&["bench", "merge", dir.path().to_str().unwrap(), "-o", out]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("results.csv"), "{err}");
}

#[test]
fn shards_of_a_real_map_run_merge_into_one_table_and_plots() {
    let Some(data) = mapfold::data::shared_data_for_test("shards_merge") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let shard = |i: usize| {
        let out = dir.path().join(format!("shard{i}"));
        let s = format!("{i}/2");
        let o = mapfold(&[
            "bench",
            "--set",
            "real",
            "--limit",
            "2",
            "--shard",
            &s,
            "--sweeps",
            "2",
            "--replicas",
            "4",
            "--data",
            data.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--json",
        ]);
        let v = json(&o);
        // Four methods on one map, none failed.
        assert_eq!(v["rows"], 4, "{v}");
        assert_eq!(v["failed"], 0, "{v}");
        out
    };
    let (a, b) = (shard(0), shard(1));
    let csv_a = std::fs::read_to_string(a.join("results.csv")).unwrap();
    let csv_b = std::fs::read_to_string(b.join("results.csv")).unwrap();
    assert!(csv_a.contains("EMD-2566/3J6B_9") && !csv_a.contains("3MFP"));
    assert!(csv_b.contains("EMD-5168/3MFP") && !csv_b.contains("3J6B"));

    let merged = dir.path().join("merged");
    let m = merged.to_str().unwrap();
    // The same shard twice counts once.
    let v = json(&mapfold(&[
        "bench",
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        a.to_str().unwrap(),
        "-o",
        m,
        "--json",
    ]));
    assert_eq!(v["rows"], 8, "{v}");
    let table = std::fs::read_to_string(merged.join("table.md")).unwrap();
    // EMD-2566 is at 3.2 Å, EMD-5168 at 6.6 Å: one section per bin, every
    // model-building method in each, the mapfold stage table after.
    for s in [
        "## Real maps, 2–5 Å (TM0 = 0.5)",
        "## Real maps, 5–15 Å (TM0 = 0.5)",
        "| mapfold | 1 |",
        "| threading + assembly, no map (I-TASSER row) | 1 |",
        "| rigid fit of the top threading template | 1 |",
        "## mapfold stage by stage",
    ] {
        assert!(table.contains(s), "no '{s}' in\n{table}");
    }
    let merged_csv = std::fs::read_to_string(merged.join("results.csv")).unwrap();
    assert_eq!(merged_csv.lines().count(), 9);
    for stem in [
        "model1_vs_no_map",
        "model1_vs_rigid_fit",
        "crscore_vs_greedy",
        "tm_vs_resolution",
        "etm_vs_tm",
    ] {
        let png = std::fs::read(merged.join(format!("{stem}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{stem}.png");
        let svg = std::fs::read_to_string(merged.join(format!("{stem}.svg"))).unwrap();
        assert!(
            svg.contains("<svg") && svg.contains("<circle"),
            "{stem}.svg"
        );
    }
}
