//! Every real map with a placed model: the density at the model's Cα atoms is
//! well above the map mean. This is what proves that the map's position in
//! space (ORIGIN or NSTART × voxel, axis order) is read right: a map misplaced
//! by even a few Å puts most Cα atoms on solvent.

use mapfold::io::{mrc, read_structure};
use mapfold::map::DensityMap;
use std::path::Path;

/// (map, model) pairs of ../shared/data/maps whose model sits in the map.
const PLACED: &[(&str, &str)] = &[
    ("emd2566_3j6b/2566_3J6B_9.mrc", "emd2566_3j6b/3J6B_9.pdb"),
    ("emd5168_3mfp/emd_5168.map", "emd5168_3mfp/3MFP.pdb"),
    ("emd5168_3mfp/emd_5168_monomer.mrc", "emd5168_3mfp/3MFP.pdb"),
    (
        "emd5778_fragment/test_map.ccp4",
        "emd5778_fragment/test_model.pdb",
    ),
    ("sim_1yfq/1yfq.mrc", "sim_1yfq/1yfq.pdb"),
    ("sim_3fx2/3FX2.mrc", "sim_3fx2/3FX2.pdb"),
];

struct CaDensity {
    inside: usize,
    total: usize,
    /// Mean density at the Cα atoms inside the box, in map standard deviations above the map mean.
    z_mean: f64,
    /// Fraction of the Cα atoms inside the box whose density is above the map mean.
    above_mean: f64,
}

fn ca_density(map: &DensityMap, cas: &[mapfold::Vec3]) -> CaDensity {
    let d = map.data();
    let n = d.len() as f64;
    let mean = d.iter().map(|&v| v as f64).sum::<f64>() / n;
    let std = (d.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
    let vals: Vec<f64> = cas
        .iter()
        .filter_map(|p| map.value_at(*p))
        .map(|v| v as f64)
        .collect();
    let k = vals.len().max(1) as f64;
    CaDensity {
        inside: vals.len(),
        total: cas.len(),
        z_mean: vals.iter().map(|v| (v - mean) / std).sum::<f64>() / k,
        above_mean: vals.iter().filter(|&&v| v > mean).count() as f64 / k,
    }
}

fn check(map_path: &Path, model_path: &Path) -> CaDensity {
    let map = mrc::read_map(map_path).unwrap();
    let model = read_structure(model_path).unwrap();
    ca_density(&map, &model.ca_coords())
}

#[test]
fn placed_models_sit_in_density() {
    let Some(data) = mapfold::data::shared_data_for_test("placed_models_sit_in_density") else {
        return;
    };
    for (map, model) in PLACED {
        let c = check(&data.join("maps").join(map), &data.join("maps").join(model));
        eprintln!(
            "{map}: {}/{} Cα inside the box, mean density {:.2} σ above the map mean, {:.0}% above the mean",
            c.inside,
            c.total,
            c.z_mean,
            100.0 * c.above_mean
        );
        // The cut-outs hold part of the model only; the rest must be mostly inside.
        assert!(
            c.inside * 2 >= c.total.min(60),
            "{map}: only {} Cα inside",
            c.inside
        );
        assert!(
            c.z_mean > 1.0,
            "{map}: Cα density only {:.2} σ above mean",
            c.z_mean
        );
        assert!(
            c.above_mean > 0.8,
            "{map}: {:.2} of Cα above mean",
            c.above_mean
        );
    }
}

#[test]
fn shifted_model_falls_off_the_density() {
    // The same check must fail for a model moved by 5 Å, or it proves nothing.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let map = mrc::read_map(&dir.join("emd2566_3j6b_9.mrc")).unwrap();
    let cas = read_structure(&dir.join("3j6b_9.pdb")).unwrap().ca_coords();
    let placed = ca_density(&map, &cas);
    let shifted: Vec<_> = cas
        .iter()
        .map(|p| p + mapfold::Vec3::new(5.0, -5.0, 0.0))
        .collect();
    let off = ca_density(&map, &shifted);
    eprintln!("placed {:.2} σ, shifted {:.2} σ", placed.z_mean, off.z_mean);
    assert!(placed.z_mean > 2.0 * off.z_mean.max(0.25));
}
