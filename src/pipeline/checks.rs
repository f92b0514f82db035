//! Checks on the inputs of `mapfold build`, made before any long computation
//! so that a bad map or sequence fails in a second with a clear message.

use std::path::Path;

use crate::map::DensityMap;

/// Mean volume of one residue in a folded protein (Å³): 1.21 Å³/Da (protein
/// density 1.37 g/cm³) times 110 Da.
pub const RESIDUE_VOLUME: f64 = 133.0;

/// Why the inputs cannot make a model.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InputError {
    #[error("{0}: the FASTA file holds no sequence")]
    EmptySequence(String),
    #[error("{path}: the map is constant (no density anywhere)")]
    FlatMap { path: String },
    #[error(
        "{path}: the sequence has {residues} residues, which need about {need:.0} Å³, but only {have:.0} Å³ of the map is above mean + 1σ (a chain this long shows at least {least:.0} Å³ there); is this the right map, or a sub-box of it?"
    )]
    TooLong {
        path: String,
        residues: usize,
        need: f64,
        least: f64,
        have: f64,
    },
    #[error(
        "{path}: voxel sizes differ by axis ({x:.3}, {y:.3}, {z:.3} Å); resample the map to cubic voxels first (e.g. `relion_image_handler --rescale_angpix` or ChimeraX `volume resample`)"
    )]
    Anisotropic {
        path: String,
        x: f64,
        y: f64,
        z: f64,
    },
    #[error("resolution must be a positive number of Å, got {0}")]
    BadResolution(f64),
}

/// The map has density and room for the chain, and its voxels are cubic.
///
/// "Room": the volume above the map's mean + 1σ must be at least a sixth of
/// the chain's volume. Real and simulated maps pass with margin (the EMD-2566
/// cut-out holds 1.7× its chain's volume there; a map simulated at 2.3 Å in an
/// EMDB-like box about 1/3, the sharpest case), while a box that holds a
/// fragment of the protein does not. (A factor of 1/3 rejected such 2.3 Å maps
/// of 90- and 113-residue chains in the benchmark.)
pub fn check_map(path: &Path, map: &DensityMap, residues: usize) -> Result<(), InputError> {
    let name = path.display().to_string();
    let v = map.voxel_size();
    if (v[0] - v[1]).abs() > 1e-3 * v[0] || (v[0] - v[2]).abs() > 1e-3 * v[0] {
        return Err(InputError::Anisotropic {
            path: name,
            x: v[0],
            y: v[1],
            z: v[2],
        });
    }
    let s = map.stats();
    if s.std.is_nan() || s.std <= 0.0 {
        return Err(InputError::FlatMap { path: name });
    }
    let threshold = (s.mean + s.std) as f32;
    let above = map.data().iter().filter(|&&x| x > threshold).count();
    let have = above as f64 * v[0] * v[1] * v[2];
    let need = residues as f64 * RESIDUE_VOLUME;
    let least = need / 6.0;
    if have < least {
        return Err(InputError::TooLong {
            path: name,
            residues,
            need,
            least,
            have,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_map_passes_and_impossible_inputs_fail() {
        let path = Path::new("tests/data/emd2566_3j6b_9.mrc");
        let map = crate::io::mrc::read_map(path).unwrap();
        check_map(path, &map, 195).unwrap();
        let err = check_map(path, &map, 20_000).unwrap_err();
        assert!(
            matches!(err, InputError::TooLong { .. }) && err.to_string().contains("emd2566"),
            "{err}"
        );
        // A sharp map of a small chain in a roomy box passes.
        let s = crate::io::read_structure(Path::new("tests/data/3j6b_9.pdb")).unwrap();
        let bin = crate::bench::harness::maps::ResolutionBin { lo: 2.0, hi: 2.0 };
        let set = crate::bench::harness::maps::MapSettings {
            margin: (16.0, 16.0),
            ..Default::default()
        };
        let sim = crate::bench::harness::maps::simulate(
            &s,
            "3j6b_9",
            bin,
            0,
            &set,
            crate::gpu::Backend::Cpu,
        )
        .unwrap();
        check_map(path, &sim.map, 195).unwrap();
        let flat = DensityMap::zeros(map.dims(), map.voxel_size(), map.origin()).unwrap();
        assert!(matches!(
            check_map(path, &flat, 10),
            Err(InputError::FlatMap { .. })
        ));
    }
}
