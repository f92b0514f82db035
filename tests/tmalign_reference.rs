//! TM-align against US-align on the 40 reference pairs of
//! `reference/tmalign_pairs.tsv` (shared data): TM-scores normalised by each
//! chain must agree within 0.01 on at least 38 pairs; aligned length and RMSD
//! agreement is printed.

use mapfold::geom::tmalign::tm_align;
use mapfold::io::read_structure;
use rayon::prelude::*;

struct Row {
    id1: String,
    id2: String,
    len1: usize,
    len2: usize,
    aligned: usize,
    rmsd: f64,
    seq_id: f64,
    tm1: f64,
    tm2: f64,
}

fn parse(text: &str) -> Vec<Row> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("empty tsv").split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("tmalign_pairs.tsv: no column {name}"))
    };
    let (c1, c2, cl1, cl2, cal, crm, cid, ct1, ct2) = (
        col("structure_1"),
        col("structure_2"),
        col("length_1"),
        col("length_2"),
        col("aligned_length"),
        col("rmsd"),
        col("seq_identity_norm_by_1"),
        col("tm_score_norm_by_1"),
        col("tm_score_norm_by_2"),
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let num = |c: usize| f[c].trim().parse::<f64>().expect("number");
            Row {
                id1: f[c1].to_string(),
                id2: f[c2].to_string(),
                len1: num(cl1) as usize,
                len2: num(cl2) as usize,
                aligned: num(cal) as usize,
                rmsd: num(crm),
                seq_id: num(cid),
                tm1: num(ct1),
                tm2: num(ct2),
            }
        })
        .collect()
}

#[test]
fn tmalign_reproduces_usalign_on_reference_pairs() {
    let Some(data) =
        mapfold::data::shared_data_for_test("tmalign_reproduces_usalign_on_reference_pairs")
    else {
        return;
    };
    let text = std::fs::read_to_string(data.join("reference/tmalign_pairs.tsv")).expect("read tsv");
    let rows = parse(&text);
    assert_eq!(rows.len(), 40, "expected 40 reference pairs");

    let start = std::time::Instant::now();
    let results: Vec<_> = rows
        .par_iter()
        .map(|r| {
            let load = |id: &str| {
                let s = read_structure(&data.join(format!("structures/{id}.pdb")))
                    .unwrap_or_else(|e| panic!("{e}"));
                let c = &s.chains[0];
                (c.ca_coords(), c.ca_sequence().into_bytes())
            };
            let (x, sx) = load(&r.id1);
            let (y, sy) = load(&r.id2);
            (x.len(), y.len(), tm_align(&x, &sx, &y, &sy))
        })
        .collect();
    let elapsed = start.elapsed();

    let mut within = 0;
    let (mut max_dtm, mut max_drmsd) = (0.0f64, 0.0f64);
    let (mut same_len, mut len_within_2, mut rmsd_within_01) = (0, 0, 0);
    println!(
        "pair\tL1\tL2\tTM1 ref/ours\tTM2 ref/ours\tLali ref/ours\tRMSD ref/ours\tID1 ref/ours"
    );
    for (r, (l1, l2, res)) in rows.iter().zip(&results) {
        let d1 = (res.tm_score_1 - r.tm1).abs();
        let d2 = (res.tm_score_2 - r.tm2).abs();
        let drm = (res.rmsd - r.rmsd).abs();
        if d1 <= 0.01 && d2 <= 0.01 {
            within += 1;
        }
        max_dtm = max_dtm.max(d1).max(d2);
        max_drmsd = max_drmsd.max(drm);
        same_len += (res.aligned_length == r.aligned) as usize;
        len_within_2 += (res.aligned_length.abs_diff(r.aligned) <= 2) as usize;
        rmsd_within_01 += (drm <= 0.1) as usize;
        let flag = if d1 > 0.01 || d2 > 0.01 {
            "  <-- TM off"
        } else {
            ""
        };
        let lens = if *l1 != r.len1 || *l2 != r.len2 {
            format!(" (reference lengths {} {})", r.len1, r.len2)
        } else {
            String::new()
        };
        println!(
            "{} {}\t{}\t{}\t{:.4}/{:.4} ({:+.4})\t{:.4}/{:.4} ({:+.4})\t{}/{}\t{:.2}/{:.2}\t{:.3}/{:.3}{}{}",
            r.id1,
            r.id2,
            l1,
            l2,
            r.tm1,
            res.tm_score_1,
            res.tm_score_1 - r.tm1,
            r.tm2,
            res.tm_score_2,
            res.tm_score_2 - r.tm2,
            r.aligned,
            res.aligned_length,
            r.rmsd,
            res.rmsd,
            r.seq_id,
            res.seq_identity,
            lens,
            flag
        );
    }
    println!(
        "TM-scores within 0.01 (both): {within}/40; max |ΔTM| {max_dtm:.4}; \
         aligned length equal {same_len}/40, within 2 {len_within_2}/40; \
         RMSD within 0.1 Å {rmsd_within_01}/40, max |ΔRMSD| {max_drmsd:.2}; time {elapsed:.2?}"
    );
    assert!(
        within >= 38,
        "only {within}/40 pairs within ±0.01 of US-align's TM-scores"
    );
}
