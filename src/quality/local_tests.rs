//! Local PCC and local confidence of PDB 3J6B chain 9 in its map (EMD-2566,
//! about 3.2 Å), deposited and with residues 50–70 moved out of their density.

use super::*;
use std::path::PathBuf;

const RESOLUTION: f64 = 3.2;
/// Residues moved, as 0-based positions in the chain.
const MOVED: std::ops::RangeInclusive<usize> = 50..=70;

fn fixture() -> (DensityMap, Structure) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let map = crate::io::mrc::read_map(&dir.join("emd2566_3j6b_9.mrc")).expect("fixture map");
    let model = crate::io::read_structure(&dir.join("3j6b_9.pdb")).expect("fixture model");
    (map, model)
}

/// The model with residues at `MOVED` shifted by 4 Å along x.
fn shifted(model: &Structure) -> Structure {
    let mut s = model.clone();
    for r in &mut s.chains[0].residues[MOVED] {
        for a in &mut r.atoms {
            a.pos.x += 4.0;
        }
    }
    s
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0), |(s, n), x| (s + x, n + 1));
    s / n.max(1) as f64
}

#[test]
fn local_pcc_drops_where_residues_leave_their_density() {
    let (map, model) = fixture();
    let before = local_pcc(&map, &model, RESOLUTION, Backend::Cpu).unwrap();
    let moved_model = shifted(&model);
    let after = local_pcc(&map, &moved_model, RESOLUTION, Backend::Cpu).unwrap();
    assert_eq!(before.len(), 195);
    let is_moved = |i: &usize| MOVED.contains(i);
    let moved_before = mean(MOVED.map(|i| before[i]));
    let moved_after = mean(MOVED.map(|i| after[i]));
    let others = || (0..before.len()).filter(|i| !is_moved(i));
    let others_before = mean(others().map(|i| before[i]));
    let others_after = mean(others().map(|i| after[i]));
    let others_change = mean(others().map(|i| (after[i] - before[i]).abs()));
    let others_max = others()
        .map(|i| (after[i] - before[i]).abs())
        .fold(0.0, f64::max);
    let changed = others()
        .filter(|&i| (after[i] - before[i]).abs() > 1e-6)
        .count();
    println!(
        "deposited 3j6b_9: mean local PCC {:.3} over 195 residues (min {:.3}, max {:.3})",
        mean(before.iter().copied()),
        before.iter().copied().fold(f64::INFINITY, f64::min),
        before.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    );
    println!(
        "residues 50-70 shifted 4 Å: their mean {moved_before:.3} → {moved_after:.3}; \
         others {others_before:.3} → {others_after:.3}, mean |Δ| {others_change:.4}, \
         max |Δ| {others_max:.3}, {changed} of 174 changed at all"
    );
    // The deposited model fits its map: residues correlate clearly with their share.
    assert!(mean(before.iter().copied()) > 0.5);
    // Moved residues lose much of their fit; the rest of the chain barely notices
    // (only neighbours of the moved segment see the shared density change).
    assert!(moved_before - moved_after > 0.2);
    assert!(others_change < 0.02);
    assert!(changed < 174 / 2);
}

#[test]
fn local_pcc_gpu_total_density_matches_cpu() {
    let Some(ctx) = crate::gpu::gpu_for_test("local_pcc_gpu_total_density_matches_cpu") else {
        return;
    };
    let (map, model) = fixture();
    let cpu = local_pcc(&map, &model, RESOLUTION, Backend::Cpu).unwrap();
    let gpu = local_pcc(&map, &model, RESOLUTION, Backend::Gpu(ctx)).unwrap();
    let max = cpu
        .iter()
        .zip(&gpu)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!("local PCC, GPU vs CPU total density: max |Δ| {max:.2e}");
    assert!(max < 1e-3);
}

#[test]
fn local_confidence_marks_the_moved_segment() {
    let (map, model) = fixture();
    let moved_model = shifted(&model);
    let lpcc = vec![
        local_pcc(&map, &model, RESOLUTION, Backend::Cpu).unwrap(),
        local_pcc(&map, &moved_model, RESOLUTION, Backend::Cpu).unwrap(),
    ];
    let models = vec![model.ca_coords(), moved_model.ca_coords()];
    let etm = [0.8, 0.7];
    let lc = local_confidence(&lpcc, &etm, &models).unwrap();
    for (m, row) in lc.iter().enumerate() {
        let moved = mean(MOVED.map(|i| row[i]));
        let rest = mean(
            (0..row.len())
                .filter(|i| !MOVED.contains(i))
                .map(|i| row[i]),
        );
        println!(
            "model {m} (eTM {}): mean LC {:.3}, residues 50-70 {moved:.3}, others {rest:.3}",
            etm[m],
            mean(row.iter().copied())
        );
    }
    // Eq. 12 as read here: the mean LC of a model is its eTM-score.
    for (row, e) in lc.iter().zip(etm) {
        assert!((mean(row.iter().copied()) - e).abs() < 1e-9);
    }
    // In the moved model the segment is worse both in the map (LPCC) and in
    // consensus (it sits 4 Å from the other model): its LC falls below the rest.
    let row = &lc[1];
    let moved = mean(MOVED.map(|i| row[i]));
    let rest = mean(
        (0..row.len())
            .filter(|i| !MOVED.contains(i))
            .map(|i| row[i]),
    );
    assert!(moved < 0.8 * rest);
    // Shape errors are reported, not panicked on.
    assert!(local_confidence(&lpcc, &etm[..1], &models).is_err());
}
