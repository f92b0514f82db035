//! Template library, DSSP, secondary-structure prediction, threading and .hhr
//! parsing on the real data set (../shared/data) and real files in tests/data.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use mapfold::threading::hhr;
use mapfold::threading::library::{self, Library};
use mapfold::threading::scoring::LibraryStats;
use mapfold::threading::search::{thread, Difficulty, Query, SearchOptions};
use mapfold::threading::ssp::SsPredictor;
use mapfold::threading::{dssp, Ss};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// structures.tsv rows: id → (split, cluster30, sequence).
fn table(data: &Path) -> HashMap<String, (String, String, String)> {
    let text = std::fs::read_to_string(data.join("structures.tsv")).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let (ci, cs, cc, cq) = (col("id"), col("split"), col("cluster30"), col("sequence"));
    lines
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .map(|f| {
            (
                f[ci].to_string(),
                (f[cs].to_string(), f[cc].to_string(), f[cq].to_string()),
            )
        })
        .collect()
}

/// The train + validation library, built once per test binary.
fn train_val(data: &Path) -> &'static Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    LIB.get_or_init(|| {
        let files =
            library::split_files(data, &["train".to_string(), "validation".to_string()]).unwrap();
        Library::build(&files).unwrap()
    })
}

#[test]
fn library_file_round_trip() {
    let Some(data) = mapfold::data::shared_data_for_test("library_file_round_trip_loads_fast")
    else {
        return;
    };
    let t0 = Instant::now();
    let lib = train_val(&data);
    let build_s = t0.elapsed().as_secs_f64();
    assert_eq!(lib.len(), 836, "786 train + 50 validation chains");
    // The library's sequences are those of structures.tsv (read independently).
    let tab = table(&data);
    let same = lib
        .chains
        .iter()
        .filter(|c| tab[&c.id].2 == c.sequence)
        .count();
    // Residues without a Cα are in the table's sequence but not in a template.
    assert!(
        same >= 820,
        "{same} of 836 sequences equal structures.tsv's"
    );
    for c in &lib.chains {
        let t = tab[&c.id].2.len();
        assert!(
            c.len() <= t && c.len() * 100 >= t * 97,
            "{}: {} vs {t}",
            c.id,
            c.len()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tv.lib");
    lib.write(&path).unwrap();
    let bytes = std::fs::metadata(&path).unwrap().len();
    let t1 = Instant::now();
    let back = Library::read(&path).unwrap();
    let load_s = t1.elapsed().as_secs_f64();
    eprintln!(
        "library: {} chains, {} residues, {bytes} bytes; built in {build_s:.2} s (or less, if another test built it), loaded in {load_s:.3} s; {same}/836 sequences as in structures.tsv",
        lib.len(),
        lib.chains.iter().map(|c| c.len()).sum::<usize>()
    );
    assert_eq!(back.len(), lib.len());
    for (a, b) in lib.chains.iter().zip(&back.chains) {
        assert_eq!(a.id, b.id);
        assert_eq!(a.sequence, b.sequence);
        assert_eq!(a.ss, b.ss);
        assert_eq!(a.burial, b.burial);
        assert_eq!(a.residue_numbers, b.residue_numbers);
        for (x, y) in a.backbone.iter().zip(&b.backbone) {
            assert!((x.ca - y.ca).norm() < 1e-3);
            assert_eq!(x.o.is_some(), y.o.is_some());
        }
    }
}

#[test]
fn corrupt_library_is_an_error_naming_the_file() {
    let Some(data) = mapfold::data::shared_data_for_test("corrupt_library_is_an_error") else {
        return;
    };
    let files = library::split_files(&data, &["validation".to_string()]).unwrap();
    let lib = Library::build(&files[..3]).unwrap();
    let bytes = lib.to_bytes();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.lib");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = Library::read(&cut).unwrap_err().to_string();
    assert!(e.contains("cut.lib") && e.contains("truncated"), "{e}");
    let mut bad = bytes.clone();
    bad[0] = b'X';
    let badp = dir.path().join("bad.lib");
    std::fs::write(&badp, &bad).unwrap();
    let e = Library::read(&badp).unwrap_err().to_string();
    assert!(e.contains("bad.lib") && e.contains("magic"), "{e}");
    // A residue's secondary-structure byte out of the alphabet.
    let mut bad = bytes;
    let n = lib.chains[0].len();
    let ss_at = 8 + 4 + 4 + 2 + lib.chains[0].id.len() + 4 + n;
    bad[ss_at] = b'Q';
    std::fs::write(&badp, &bad).unwrap();
    let e = Library::read(&badp).unwrap_err().to_string();
    assert!(e.contains("secondary structure"), "{e}");
}

/// Three-state DSSP against mdtraj's compute_dssp (a port of the original DSSP
/// program) on 12 validation chains; the reference strings are in tests/data.
#[test]
fn dssp_agrees_with_mdtraj() {
    let Some(data) = mapfold::data::shared_data_for_test("dssp_agrees_with_mdtraj") else {
        return;
    };
    let text = std::fs::read_to_string(fixture("dssp_mdtraj_validation12.tsv")).unwrap();
    let (mut same, mut total) = (0usize, 0usize);
    let mut per_state = [[0usize; 3]; 3];
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (id, reference) = line.split_once('\t').unwrap();
        let s = mapfold::io::read_structure(&data.join(format!("structures/{id}.pdb"))).unwrap();
        let ours = dssp::assign(&dssp::chain_backbone(&s.chains[0]));
        let theirs: Vec<Ss> = reference
            .chars()
            .map(|c| Ss::from_letter(c).unwrap())
            .collect();
        assert_eq!(ours.len(), theirs.len(), "{id}");
        let agree = ours.iter().zip(&theirs).filter(|(a, b)| a == b).count();
        for (a, b) in ours.iter().zip(&theirs) {
            per_state[b.index()][a.index()] += 1;
        }
        eprintln!(
            "{id}: {:.3} agreement over {} residues",
            agree as f64 / ours.len() as f64,
            ours.len()
        );
        assert!(agree as f64 >= 0.85 * ours.len() as f64, "{id}");
        same += agree;
        total += ours.len();
    }
    let frac = same as f64 / total as f64;
    eprintln!("DSSP vs mdtraj: {frac:.4} of {total} residues; rows mdtraj H/E/C, columns ours: {per_state:?}");
    assert!(frac >= 0.93, "{frac}");
}

#[test]
fn bundled_ssp_q3_on_test_split() {
    let Some(data) = mapfold::data::shared_data_for_test("bundled_ssp_q3_on_test_split") else {
        return;
    };
    let net = SsPredictor::bundled().unwrap();
    let files = library::split_files(&data, &["test".to_string()]).unwrap();
    let test = Library::build(&files).unwrap();
    let chains: Vec<(String, Vec<Ss>)> = test
        .chains
        .iter()
        .map(|c| (c.sequence.clone(), c.ss.clone()))
        .collect();
    let q3 = net.q3_on(&chains);
    // Always predicting the commonest state (coil) is the floor to beat.
    let n: usize = chains.iter().map(|c| c.1.len()).sum();
    let coil = chains
        .iter()
        .flat_map(|c| &c.1)
        .filter(|s| **s == Ss::Coil)
        .count() as f64
        / n as f64;
    eprintln!(
        "SS predictor Q3 on {} test chains ({n} residues): {q3:.4} (all-coil baseline {coil:.4})",
        chains.len()
    );
    assert!(q3 > 0.6 && q3 > coil + 0.15, "Q3 {q3}");
}

#[test]
fn threading_finds_its_own_chain_and_obeys_exclusions() {
    let Some(data) = mapfold::data::shared_data_for_test("threading_exclusions") else {
        return;
    };
    let lib = train_val(&data);
    let stats = LibraryStats::of(lib);
    let net = SsPredictor::bundled().unwrap();
    let own = lib
        .chains
        .iter()
        .find(|c| c.id.starts_with("0013_"))
        .unwrap();
    let q = Query::new(&own.id, &own.sequence, &net);
    let res = thread(&q, lib, &stats, &SearchOptions::default());
    assert_eq!(res.hits[0].template_id, own.id);
    assert!(res.hits[0].identity > 0.99);
    assert_eq!(res.hits[0].alignment.pairs.len(), own.len());
    assert_eq!(res.difficulty, Difficulty::Easy);
    assert_eq!(res.hits.len(), 300);
    let opts = SearchOptions {
        exclude_ids: vec![own.id.clone()],
        exclude_identity: Some(0.3),
        ..SearchOptions::default()
    };
    let res = thread(&q, lib, &stats, &opts);
    assert!(res
        .hits
        .iter()
        .all(|h| h.template_id != own.id && h.identity < 0.3));
    assert_eq!(res.excluded_by_id, 1);
    eprintln!(
        "{}: {} excluded at ≥30% identity; top hit after exclusion {} (Zn {:.2}, identity {:.2}); label {}",
        own.id,
        res.excluded_by_identity,
        res.hits[0].template_id,
        res.hits[0].zn,
        res.hits[0].identity,
        res.difficulty.as_str()
    );
}

/// Test-easy chains have homologs in train (same cluster30); threading should
/// rank one first for most of them.
#[test]
fn easy_targets_rank_a_homolog_first() {
    let Some(data) = mapfold::data::shared_data_for_test("easy_targets_rank_a_homolog_first")
    else {
        return;
    };
    let lib = train_val(&data);
    let stats = LibraryStats::of(lib);
    let net = SsPredictor::bundled().unwrap();
    let tab = table(&data);
    let easy: Vec<_> = tab
        .iter()
        .filter(|(_, v)| v.0 == "test-easy")
        .take(8)
        .collect();
    let mut homolog_first = 0;
    let mut labelled_easy = 0;
    for (id, (_, cluster, seq)) in &easy {
        let q = Query::new(id, seq, &net);
        let opts = SearchOptions {
            exclude_ids: vec![id.to_string()],
            ..SearchOptions::default()
        };
        let res = thread(&q, lib, &stats, &opts);
        let top = &res.hits[0];
        let same = tab[&top.template_id].1 == *cluster;
        homolog_first += same as usize;
        labelled_easy += (res.difficulty == Difficulty::Easy) as usize;
        eprintln!(
            "{id}: top {} (Zn {:.2}, same cluster {same}), {}",
            top.template_id,
            top.zn,
            res.difficulty.as_str()
        );
    }
    eprintln!(
        "homolog first for {homolog_first}/{}, labelled Easy {labelled_easy}",
        easy.len()
    );
    assert!(
        homolog_first * 4 >= easy.len() * 3,
        "{homolog_first}/{}",
        easy.len()
    );
}

#[test]
fn hhr_file_parses() {
    let path = fixture("hhsearch_dna_ligase.hhr");
    let f = hhr::read_hhr(&path).unwrap();
    assert!(f.query.starts_with("NP_877456#7"));
    assert_eq!(f.match_columns, Some(46));
    assert_eq!(f.hits.len(), 3);
    let h = &f.hits[0];
    assert_eq!(h.name, "1A0I_A");
    assert_eq!(h.probability, 93.03);
    assert_eq!(h.evalue, 0.018);
    assert_eq!(h.score, 37.92);
    assert_eq!(h.aligned_cols, 43);
    assert_eq!(h.identities, Some(47.0));
    assert_eq!((h.query_start, h.query_end), (1, 42));
    assert_eq!((h.template_start, h.template_end), (240, 282));
    assert_eq!(h.template_length, Some(348));
    // 43 columns, one of them a gap in the query.
    let p = h.pairs();
    assert_eq!(p.len(), 42);
    assert_eq!(p[0], (0, 239));
    assert_eq!(p[17], (17, 256));
    assert_eq!(p[18], (18, 258));
    // Hit 2: three gaps in each row, at different columns.
    assert_eq!(f.hits[1].pairs().len(), 41);
    assert_eq!(f.hits[2].name, "4D05_B");
    // A damaged row is an error naming the file.
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "PENEADGIIQGLVWGTKGLANEGKVIGFEVLLESGRLVNATNI",
        "PENEADGIIQGLVWGTKGLANEGKVIGFEVLLESGRLVNAT",
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.hhr");
    std::fs::write(&bad, text).unwrap();
    let e = hhr::read_hhr(&bad).unwrap_err().to_string();
    assert!(e.contains("bad.hhr") && e.contains("1A0I_A"), "{e}");
}

/// A Hard target's local alignments cover little of it (44 % for threading's
/// first template on 24 validation chains); with `realign_offset` (off by
/// default) the kept hits are realigned with a score offset, which lengthens
/// them without changing the ranking or the label. On Hard validation chains
/// the realigned first template must sit closer to the native (TM-score by
/// residue index) on average and cover more.
#[test]
fn hard_hits_are_realigned_longer_and_closer_to_the_native() {
    let Some(data) = mapfold::data::shared_data_for_test("hard_hits_are_realigned") else {
        return;
    };
    let lib = train_val(&data);
    let stats = LibraryStats::of(lib);
    let net = SsPredictor::bundled().unwrap();
    let targets = mapfold::bench::select_targets(&data, "validation", 4, 0, Some(8)).unwrap();
    let (mut tm_rank, mut tm_real, mut cov_rank, mut cov_real, mut n) = (0.0, 0.0, 0.0, 0.0, 0);
    for t in &targets {
        let tc = mapfold::bench::TargetChain::load(&data, t).unwrap();
        let q = Query::new(&t.id, &tc.sequence, &net);
        let ranking = SearchOptions {
            exclude_ids: vec![t.id.clone()],
            exclude_identity: Some(0.3),
            ..SearchOptions::default()
        };
        assert_eq!(ranking.realign_offset, 0.0, "realignment is off by default");
        let base = SearchOptions {
            realign_offset: mapfold::threading::search::REALIGN_OFFSET,
            ..ranking.clone()
        };
        let (a, b) = (
            thread(&q, lib, &stats, &ranking),
            thread(&q, lib, &stats, &base),
        );
        assert_eq!(a.difficulty, b.difficulty);
        let ids = |r: &mapfold::threading::search::SearchResult| -> Vec<String> {
            r.hits.iter().map(|h| h.template_id.clone()).collect()
        };
        assert_eq!(ids(&a), ids(&b), "{}: realigning changed the ranking", t.id);
        if b.difficulty != Difficulty::Hard {
            continue;
        }
        let l = tc.sequence.len();
        let model = |r: &mapfold::threading::search::SearchResult| {
            mapfold::template::TemplateModel::from_hit(&r.hits[0], lib, l)
        };
        let (ma, mb) = (model(&a), model(&b));
        tm_rank += mapfold::bench::templates::model_tm(&ma, &tc.native);
        tm_real += mapfold::bench::templates::model_tm(&mb, &tc.native);
        cov_rank += ma.coverage();
        cov_real += mb.coverage();
        n += 1;
    }
    let d = n as f64;
    eprintln!(
        "{n} Hard validation chains, first template: TM {:.3} → {:.3}, coverage {:.2} → {:.2}",
        tm_rank / d,
        tm_real / d,
        cov_rank / d,
        cov_real / d
    );
    assert!(n >= 4, "only {n} of {} chains labelled Hard", targets.len());
    assert!(cov_real > cov_rank, "realigned hits cover no more");
    assert!(
        tm_real > tm_rank + 0.02 * d,
        "TM {tm_rank:.3} → {tm_real:.3} (sums)"
    );
}
