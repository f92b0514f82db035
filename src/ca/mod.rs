//! Cα clouds: the unordered Cα positions that CR-I-TASSER derives from a map
//! (paper, Methods, "Following the 3D-CNN model, a quick procedure...").
//!
//! A map becomes a cloud in two steps: a per-voxel Cα probability (the 3D CNN,
//! elsewhere) and peak picking on it ([`peaks`]). The paper's naive baseline
//! ([`greedy`]) runs the same exclusion procedure on the raw density. Clouds are
//! scored against a native chain by CRscore (eq. 1, [`crate::geom::crscore`]).
//!
//! On disk a cloud is a PDB file of CA atoms in residues named UNK (chain A,
//! numbered from 1) with each atom's score in the B-factor column; the atoms
//! carry no sequence order.

pub mod detect;
pub mod greedy;
pub mod peaks;

use std::path::Path;

use crate::io::FileError;
use crate::structure::Structure;
use crate::Vec3;

/// An unordered set of predicted Cα positions (Å, map frame), each with the
/// value that ranked it (probability for peak picking, density for greedy).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaCloud {
    pub points: Vec<Vec3>,
    pub scores: Vec<f32>,
}

impl CaCloud {
    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// One CA atom per residue, residues named UNK in chain A numbered from 1,
    /// element C, the score in the B-factor column.
    pub fn to_structure(&self) -> Structure {
        Structure::ca_only(
            self.points
                .iter()
                .zip(&self.scores)
                .enumerate()
                .map(|(i, (p, s))| (i as i32 + 1, "UNK".to_string(), *p, *s as f64)),
        )
    }

    /// Every CA atom of the structure's chains, in file order, scores from the
    /// B-factor column.
    pub fn from_structure(s: &Structure) -> CaCloud {
        let (points, scores) = s
            .atoms()
            .filter(|a| a.name == "CA")
            .map(|a| (a.pos, a.b_factor as f32))
            .unzip();
        CaCloud { points, scores }
    }

    /// Writes the cloud as PDB (see the module doc), atomically.
    pub fn write_pdb(&self, path: &Path) -> Result<(), FileError> {
        crate::io::pdb::write_pdb(path, &self.to_structure())
    }

    /// Reads a cloud from a PDB or mmCIF file: all CA atoms. A file with none is
    /// an error naming it.
    pub fn read(path: &Path) -> Result<CaCloud, FileError> {
        let cloud = CaCloud::from_structure(&crate::io::read_structure(path)?);
        if cloud.is_empty() {
            return Err(FileError::format(path, "no CA atoms"));
        }
        Ok(cloud)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdb_round_trip_keeps_positions_and_scores() {
        let cloud = CaCloud {
            points: vec![Vec3::new(1.5, -2.25, 3.0), Vec3::new(10.0, 0.125, -7.5)],
            scores: vec![0.97, 0.5],
        };
        let text = crate::io::pdb::to_pdb_string(&cloud.to_structure());
        assert!(text.lines().next().unwrap().starts_with("ATOM"));
        assert!(text.contains(" CA  UNK A   1"), "{text}");
        let back = CaCloud::from_structure(&crate::io::pdb::parse(&text).unwrap());
        assert_eq!(back.len(), 2);
        for (a, b) in back.points.iter().zip(&cloud.points) {
            assert!((a - b).norm() < 1e-3);
        }
        for (a, b) in back.scores.iter().zip(&cloud.scores) {
            assert!((a - b).abs() < 1e-2);
        }
    }
}
