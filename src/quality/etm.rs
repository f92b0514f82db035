//! Estimated TM-score of each final model, CR-I-TASSER eq. 8–9.
//!
//! Reconstructed from the PDF text (the extraction scrambles the layout):
//!
//! ```text
//! (8)  eTM_m = 0.18 + 0.82 · max( C_m , max_{n≠m} [ TM_mn − 0.5·(1 − C_n) ] )
//!
//!                        CRscore_m
//! (9)  C_m = ─────────────────────────────────
//!             1 + 0.05 · M_tot · ⟨RMSD⟩_m / M_m
//! ```
//!
//! TM_mn is the TM-score between models m and n; M_tot the number of decoys
//! given to SPICKER, M_m the decoys in cluster m, ⟨RMSD⟩_m their mean RMSD to
//! the cluster centroid (Å), and CRscore_m the match of model m to the 3D-CNN
//! Cα cloud by eq. 1 ([`crate::geom::crscore`]). The cluster term
//! M_tot·⟨RMSD⟩_m/M_m is M_tot over the cluster density: a big, tight cluster
//! (a converged simulation) keeps C_m close to its CRscore, a small loose one
//! halves it or worse. A model whose own C_m is low still scores well when it
//! is structurally close (TM_mn) to a confident model n: the −0.5·(1 − C_n)
//! term discounts that similarity by n's own uncertainty.
//!
//! Neither equation has a map-correlation (PCC) term; the map enters through
//! CRscore only. With CRscore ∈ [0, 1], C_m ∈ [0, 1] and eTM ∈ [0.18, 1]; the
//! functions clamp their results to [0, 1] so that a CRscore slightly out of
//! range cannot give an impossible TM-score.
//!
//! **Calibration (ours, not the paper's).** On our tuning runs eq. 8 alone
//! overstates poor models (true TM ≈ 1.45·eTM − 0.37) and cannot tell a chain
//! that fills the density in the wrong sequence register from the right one:
//! CRscore ignores the register. The TM-score of the model to its first
//! template that came from threading (not a Cα trace), A_m, carries that
//! information. [`calibrated`] maps (eq. 8, A_m) to the reported eTM-score
//! by a least-squares line fitted on the models of 80 tuning runs (34
//! validation, 46 train-homolog; `mapfold bench rank`, BENCHMARKS.md):
//! Pearson with the true TM-score 0.858 for eq. 8 alone, 0.929 calibrated
//! (two-fold by target, held out). The pipeline ranks its models by it.
//!
//! **With residue types (maps of 5 Å or finer).** Since the Cα traces are
//! aligned to the sequence by the residue types read from the density, a
//! Hard target's best model often agrees with no threading template, and the
//! line above underrated it. There a third term enters: T_m, the mean
//! log-odds of the model's own residue types at its Cα
//! ([`crate::template::residue_type::ResidueTypePredictor::sequence_agreement`]),
//! about 0 in a wrong register and several nats in the right one. Refitted
//! on 48 tuning runs at 3 Å (24 validation chains, all but 4 Hard; 24
//! train-homolog chains, templates of identity ≥ 0.5 excluded, scored by a
//! predictor trained without them or their homologs) as
//! [`CALIBRATION_TYPES`]: Pearson 0.903 held out, against 0.762 for eq. 8
//! alone. Refitted once more when refinement began from each cluster's
//! lowest-energy decoy instead of its centroid (same runs): Pearson 0.932
//! held out, 0.791 for eq. 8 alone.

use crate::cluster::Clustering;
use crate::geom::tmscore::tm_score_paired;
use crate::Vec3;

/// Why a quality score could not be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EtmError {
    #[error("{what}: expected {expected} values, got {got}")]
    Shape {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("model {index} has {len} Cα atoms, model 0 has {expected}")]
    LengthMismatch {
        index: usize,
        len: usize,
        expected: usize,
    },
    #[error("{0} must be a finite, non-negative number, got {1}")]
    BadValue(&'static str, f64),
    #[error("cluster size M_m = 0 or decoy count M_tot = 0")]
    EmptyCluster,
}

/// Eq. 9: the confidence C_m of a model from its CRscore (eq. 1) and its
/// SPICKER cluster (`cluster_size` = M_m, `mean_rmsd` = ⟨RMSD⟩_m in Å,
/// `n_decoys` = M_tot).
pub fn confidence(
    crscore: f64,
    cluster_size: usize,
    mean_rmsd: f64,
    n_decoys: usize,
) -> Result<f64, EtmError> {
    if !(crscore.is_finite() && crscore >= 0.0) {
        return Err(EtmError::BadValue("CRscore", crscore));
    }
    if !(mean_rmsd.is_finite() && mean_rmsd >= 0.0) {
        return Err(EtmError::BadValue("mean RMSD", mean_rmsd));
    }
    if cluster_size == 0 || n_decoys == 0 {
        return Err(EtmError::EmptyCluster);
    }
    let spread = n_decoys as f64 * mean_rmsd / cluster_size as f64;
    Ok((crscore / (1.0 + 0.05 * spread)).clamp(0.0, 1.0))
}

/// Eq. 9 for every cluster of a SPICKER run, given each cluster model's CRscore.
pub fn confidences(clustering: &Clustering, crscores: &[f64]) -> Result<Vec<f64>, EtmError> {
    expect_len("CRscores", clustering.clusters.len(), crscores.len())?;
    clustering
        .clusters
        .iter()
        .zip(crscores)
        .map(|(c, &s)| confidence(s, c.size(), c.mean_rmsd, clustering.n_clustered))
        .collect()
}

/// Eq. 8: eTM-score of every model from the confidences C (eq. 9) and the
/// square matrix `tm[m][n]` of TM-scores between models (diagonal unused).
pub fn etm_scores(confidence: &[f64], tm: &[Vec<f64>]) -> Result<Vec<f64>, EtmError> {
    let n = confidence.len();
    expect_len("TM-score matrix rows", n, tm.len())?;
    for row in tm {
        expect_len("TM-score matrix columns", n, row.len())?;
    }
    Ok((0..n)
        .map(|m| {
            let via_others = (0..n)
                .filter(|&k| k != m)
                .map(|k| tm[m][k] - 0.5 * (1.0 - confidence[k]))
                .fold(f64::NEG_INFINITY, f64::max);
            (0.18 + 0.82 * confidence[m].max(via_others)).clamp(0.0, 1.0)
        })
        .collect())
}

/// Coefficients of [`calibrated`] without residue types: intercept, eq. 8,
/// template agreement. Fitted by `mapfold bench rank` (module doc).
pub const CALIBRATION: [f64; 3] = [-0.150, 0.754, 0.466];

/// Coefficients of [`calibrated`] with residue types (maps of 5 Å or finer):
/// intercept, eq. 8, template agreement, type agreement (nats). Fitted by
/// `mapfold bench rank` on tuning runs that read residue types (module doc).
pub const CALIBRATION_TYPES: [f64; 4] = [-0.090, 0.574, 0.169, 0.084];

/// The reported eTM-score: eq. 8's value `etm_eq8`, the model's TM-score
/// to its first threading-derived template `agreement` (0 when there is
/// none) and, where the map is fine enough to read them, the fit of its
/// residue types to the density `types` (nats) on the fitted line
/// [`CALIBRATION_TYPES`] or else [`CALIBRATION`], clamped to [0, 1].
pub fn calibrated(etm_eq8: f64, agreement: f64, types: Option<f64>) -> f64 {
    let e = match types {
        Some(t) => {
            let [a, b, c, d] = CALIBRATION_TYPES;
            a + b * etm_eq8 + c * agreement + d * t
        }
        None => {
            let [a, b, c] = CALIBRATION;
            a + b * etm_eq8 + c * agreement
        }
    };
    e.clamp(0.0, 1.0)
}

/// TM_mn for eq. 8: TM-scores between Cα traces of one sequence (paired by
/// index), `tm[m][n]` = model m scored against model n, normalised by the length.
pub fn model_tm_matrix(models: &[Vec<Vec3>]) -> Result<Vec<Vec<f64>>, EtmError> {
    check_models(models)?;
    let n = models.len();
    Ok((0..n)
        .map(|m| {
            (0..n)
                .map(|k| {
                    if k == m {
                        1.0
                    } else {
                        tm_score_paired(&models[m], &models[k], models[k].len()).tm_score
                    }
                })
                .collect()
        })
        .collect())
}

/// The common length of `models`, after checking that they share it.
pub(crate) fn check_models(models: &[Vec<Vec3>]) -> Result<usize, EtmError> {
    let expected = models.first().map_or(0, |m| m.len());
    for (index, m) in models.iter().enumerate() {
        if m.len() != expected {
            return Err(EtmError::LengthMismatch {
                index,
                len: m.len(),
                expected,
            });
        }
    }
    Ok(expected)
}

fn expect_len(what: &'static str, expected: usize, got: usize) -> Result<(), EtmError> {
    if expected == got {
        Ok(())
    } else {
        Err(EtmError::Shape {
            what,
            expected,
            got,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::spicker::tests::{chain_a, chain_b, two_fold_decoys};
    use crate::cluster::{spicker, SpickerParams};
    use crate::geom::crscore::crscore;
    use crate::geom::kabsch::superpose;

    /// Eq. 8 by hand from the paper's formula: C = (0.6, 0.3), TM = 0.8 between
    /// them. Model 0: max(0.6, 0.8 − 0.5·0.7 = 0.45) = 0.6 → 0.18 + 0.492 = 0.672.
    /// Model 1: max(0.3, 0.8 − 0.5·0.4 = 0.6) = 0.6 → 0.672 as well: a model
    /// close to a confident one inherits its confidence.
    #[test]
    fn etm_follows_eq8_by_hand() {
        let tm = vec![vec![1.0, 0.8], vec![0.8, 1.0]];
        let e = etm_scores(&[0.6, 0.3], &tm).unwrap();
        assert!((e[0] - 0.672).abs() < 1e-12 && (e[1] - 0.672).abs() < 1e-12);
        // Eq. 9 by hand: 0.9 / (1 + 0.05 · 1000 · 3 / 500) = 0.9 / 1.3.
        let c = confidence(0.9, 500, 3.0, 1000).unwrap();
        assert!((c - 0.9 / 1.3).abs() < 1e-12);
        assert!(etm_scores(&[0.5], &tm).is_err());
        assert!(confidence(f64::NAN, 1, 1.0, 1).is_err());
    }

    #[test]
    fn calibration_rewards_agreement_with_the_templates() {
        // Same eq. 8 value, a model that agrees with its template and one that does not.
        assert!(calibrated(0.7, 0.8, None) > calibrated(0.7, 0.2, None));
        assert!(calibrated(0.8, 0.0, None) > calibrated(0.5, 0.0, None));
        assert_eq!(calibrated(0.0, 0.0, None), 0.0);
        // By hand: −0.150 + 0.754·0.6 + 0.466·0.5 = 0.5354; clamped above 1.
        assert!((calibrated(0.6, 0.5, None) - 0.5354).abs() < 1e-12);
        assert_eq!(calibrated(1.0, 1.0, None), 1.0);
        // With residue types: a model whose sequence fits the side-chain
        // density scores higher at equal eq. 8 and agreement; by hand,
        // −0.090 + 0.574·0.6 + 0.169·0.5 + 0.084·2 = 0.5069.
        assert!(calibrated(0.6, 0.2, Some(3.0)) > calibrated(0.6, 0.2, Some(0.0)));
        assert!((calibrated(0.6, 0.5, Some(2.0)) - 0.5069).abs() < 1e-12);
        assert_eq!(calibrated(0.6, 0.5, Some(-20.0)), 0.0);
    }

    #[test]
    fn etm_prefers_the_big_tight_cluster_on_real_folds() {
        let Some(data) = crate::data::shared_data_for_test("etm_prefers_the_big_tight_cluster")
        else {
            return;
        };
        let (a, b) = (chain_a(), chain_b(&data));
        let (decoys, _) = two_fold_decoys(&a, &b, 11);
        let res = spicker(&decoys, &SpickerParams::default()).unwrap();
        let (big, small) = (&res.clusters[0], &res.clusters[1]);
        // CRscore against the "CNN cloud": here the native Cα of each fold, with
        // the centroid placed in the map frame by superposition.
        let place = |c: &[Vec3], native: &[Vec3]| -> Vec<Vec3> {
            let t = superpose(c, native).transform;
            c.iter().map(|p| t.apply(p)).collect()
        };
        let cr = [
            crscore(&place(&big.centroid, &a), &a),
            crscore(&place(&small.centroid, &b), &b),
        ];
        let c = confidences(&res, &cr).unwrap();
        let models = vec![big.centroid.clone(), small.centroid.clone()];
        let tm = model_tm_matrix(&models).unwrap();
        let e = etm_scores(&c, &tm).unwrap();
        println!(
            "CRscore {:.3} / {:.3}; sizes {} / {} of {}, <RMSD> {:.2} / {:.2} Å; C {:.3} / {:.3}; TM between models {:.3}; eTM {:.3} / {:.3}",
            cr[0], cr[1], big.size(), small.size(), res.n_clustered, big.mean_rmsd,
            small.mean_rmsd, c[0], c[1], tm[0][1], e[0], e[1]
        );
        assert!(cr[0] > 0.9 && cr[1] > 0.9);
        assert!(e[0] > e[1], "big tight cluster must score higher");
        assert!(e.iter().all(|&x| (0.0..=1.0).contains(&x)));

        // With the same CRscore for both, the cluster term alone decides.
        let same = confidences(&res, &[0.8, 0.8]).unwrap();
        let e_same = etm_scores(&same, &tm).unwrap();
        println!(
            "equal CRscore 0.8: C {:.3} / {:.3}, eTM {:.3} / {:.3}",
            same[0], same[1], e_same[0], e_same[1]
        );
        assert!(e_same[0] > e_same[1]);
    }
}
