//! TM-align against US-align on the 40 reference pairs of
//! `reference/tmalign_pairs.tsv` (shared data): TM-scores normalised by each
//! chain must agree within 0.01 on at least 38 pairs, and so must aligned
//! length (±2) and RMSD (±0.1 Å); every row's deviations are printed. Also
//! sanity checks on a real chain: self-alignment, a rigidly moved copy, a
//! truncated and a circularly permuted copy.

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
    // The same alignment gives the same pairs within score_d8 and their RMSD.
    assert!(
        len_within_2 >= 38,
        "aligned length off by > 2 on {} pairs",
        40 - len_within_2
    );
    assert!(
        rmsd_within_01 >= 38,
        "RMSD off by > 0.1 Å on {} pairs",
        40 - rmsd_within_01
    );
}

/// Cα trace and sequence of the first chain of a shared structure.
fn chain(test: &str, id: &str) -> Option<(Vec<mapfold::Vec3>, Vec<u8>)> {
    let data = mapfold::data::shared_data_for_test(test)?;
    let s = read_structure(&data.join(format!("structures/{id}.pdb")))
        .unwrap_or_else(|e| panic!("{e}"));
    let c = &s.chains[0];
    Some((c.ca_coords(), c.ca_sequence().into_bytes()))
}

const CHAIN: &str = "0243_old_homstrad_1ewqa_A";

#[test]
fn self_alignment_and_rigid_copy_are_perfect() {
    let Some((x, s)) = chain("self_alignment_and_rigid_copy_are_perfect", CHAIN) else {
        return;
    };
    let n = x.len();
    let r = tm_align(&x, &s, &x, &s);
    println!(
        "self: TM {} {} RMSD {} Lali {}",
        r.tm_score_1, r.tm_score_2, r.rmsd, r.aligned_length
    );
    assert!((r.tm_score_1 - 1.0).abs() < 1e-9 && (r.tm_score_2 - 1.0).abs() < 1e-9);
    assert!(r.rmsd < 1e-6);
    assert_eq!(r.aligned_length, n);
    assert_eq!(r.alignment, (0..n).map(|i| (i, i)).collect::<Vec<_>>());
    assert!((r.seq_identity - 1.0).abs() < 1e-12);

    let rot = nalgebra::Rotation3::from_euler_angles(0.7, -1.9, 2.4);
    let shift = mapfold::Vec3::new(31.0, -12.5, 8.0);
    let y: Vec<_> = x.iter().map(|p| rot * p + shift).collect();
    let r = tm_align(&x, &s, &y, &s);
    println!(
        "rigid copy: TM {} {} RMSD {}",
        r.tm_score_1, r.tm_score_2, r.rmsd
    );
    assert!((r.tm_score_1 - 1.0).abs() < 1e-9 && (r.tm_score_2 - 1.0).abs() < 1e-9);
    assert!(r.rmsd < 1e-6 && r.aligned_length == n);
    let worst = x
        .iter()
        .zip(&y)
        .map(|(p, q)| (r.transform.apply(p) - q).norm())
        .fold(0.0, f64::max);
    assert!(worst < 1e-6, "transform misses the copy by {worst} Å");
}

#[test]
fn truncated_chain_aligns_in_place() {
    let Some((x, s)) = chain("truncated_chain_aligns_in_place", CHAIN) else {
        return;
    };
    let (a, b) = (20, 80);
    let r = tm_align(&x, &s, &x[a..b], &s[a..b]);
    println!(
        "truncated: TM {} {} RMSD {} Lali {}",
        r.tm_score_1, r.tm_score_2, r.rmsd, r.aligned_length
    );
    // Every fragment residue sits on its original: TM by the fragment is 1 and
    // TM by the full chain is exactly the covered fraction.
    assert_eq!(r.alignment, (a..b).map(|i| (i, i - a)).collect::<Vec<_>>());
    assert!((r.tm_score_2 - 1.0).abs() < 1e-9);
    assert!((r.tm_score_1 - (b - a) as f64 / x.len() as f64).abs() < 1e-9);
    assert!(r.rmsd < 1e-6);
}

#[test]
fn circular_permutation_aligns_the_longer_part() {
    let Some((x, s)) = chain("circular_permutation_aligns_the_longer_part", CHAIN) else {
        return;
    };
    let n = x.len();
    let k = n / 3;
    let y: Vec<_> = x[k..].iter().chain(&x[..k]).copied().collect();
    let sy: Vec<u8> = s[k..].iter().chain(&s[..k]).copied().collect();
    let r = tm_align(&x, &s, &y, &sy);
    println!(
        "permuted at {k}: TM {} {} RMSD {} Lali {}",
        r.tm_score_1, r.tm_score_2, r.rmsd, r.aligned_length
    );
    // TM-align keeps sequence order, so only one of the two segments can be
    // matched: the longer one, exactly, giving TM ≥ (n − k)/n but well below 1.
    let frac = (n - k) as f64 / n as f64;
    assert!(
        r.tm_score_1 >= frac - 1e-6 && r.tm_score_1 < frac + 0.1,
        "{}",
        r.tm_score_1
    );
    let exact = r
        .alignment
        .iter()
        .filter(|&&(i, j)| i >= k && j == i - k)
        .count();
    assert!(
        exact >= n - k - 2,
        "only {exact} of {} residues matched in place",
        n - k
    );
}
