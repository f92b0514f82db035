//! Choosing model 1 and calibrating the eTM-score (eq. 8) on tuning runs
//! (`mapfold bench rank`): reads the `models.tsv` of `mapfold bench build`
//! runs on the validation or train-homologs split (never the test split),
//! reports the mean true TM-score of the model each ranking rule would put
//! first, and fits [`crate::quality::etm::CALIBRATION`]: true TM-score ≈
//! a + b·eq. 8 + c·A_m by least squares over every model, with a two-fold
//! check by target (fit on one half of the targets, Pearson on the other).

use std::collections::BTreeMap;
use std::path::Path;

use crate::io::FileError;

/// One model line of `models.tsv`.
#[derive(Debug, Clone)]
pub struct ModelLine {
    pub target: String,
    pub resolution: f64,
    pub label: String,
    pub tm: f64,
    pub etm: f64,
    pub etm_eq8: f64,
    pub cluster: usize,
    pub crscore: f64,
    pub energy: f64,
    /// A_m, 0 when the run had no threading template.
    pub agreement: f64,
    /// The residue types' fit to the density (nats); `None` on coarser maps
    /// and in files written before the column existed.
    pub types: Option<f64>,
}

/// Reads a `models.tsv` written by `mapfold bench build`.
pub fn read_models(path: &Path) -> Result<Vec<ModelLine>, FileError> {
    let text = crate::io::read_text(path)?;
    let (header, lines) = crate::io::tsv::header(path, &text)?;
    let col = |name: &str| header.col(name);
    let c = [
        col("target")?,
        col("resolution")?,
        col("label")?,
        col("tm")?,
        col("etm")?,
        col("etm_eq8")?,
        col("cluster")?,
        col("crscore")?,
        col("energy")?,
        col("template_agreement")?,
    ];
    let c_types = header.col("type_agreement").ok();
    let mut out = Vec::new();
    for (n, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let bad = || FileError::format(path, format!("line {}: malformed", n + 2));
        let field = |k: usize| f.get(c[k]).copied().ok_or_else(bad);
        let num = |k: usize| -> Result<f64, FileError> {
            let s = field(k)?;
            if s == "NA" {
                return Ok(0.0);
            }
            s.parse().map_err(|_| bad())
        };
        out.push(ModelLine {
            target: field(0)?.to_string(),
            resolution: num(1)?,
            label: field(2)?.to_string(),
            tm: num(3)?,
            etm: num(4)?,
            etm_eq8: num(5)?,
            cluster: field(6)?.parse().map_err(|_| bad())?,
            crscore: num(7)?,
            energy: num(8)?,
            agreement: num(9)?,
            types: match c_types.and_then(|c| f.get(c)) {
                None | Some(&"NA") => None,
                Some(v) => Some(v.parse().map_err(|_| bad())?),
            },
        });
    }
    Ok(out)
}

/// The models of one run (target × resolution).
pub fn runs(models: &[ModelLine]) -> Vec<Vec<&ModelLine>> {
    let mut by: BTreeMap<(String, u64), Vec<&ModelLine>> = BTreeMap::new();
    for m in models {
        by.entry((m.target.clone(), m.resolution.to_bits()))
            .or_default()
            .push(m);
    }
    by.into_values().collect()
}

/// Mean true TM-score of the model `key` ranks first in each run.
pub fn first_by(runs: &[Vec<&ModelLine>], key: impl Fn(&ModelLine) -> f64) -> f64 {
    let picks: Vec<f64> = runs
        .iter()
        .filter_map(|r| {
            r.iter()
                .max_by(|a, b| key(a).total_cmp(&key(b)))
                .map(|m| m.tm)
        })
        .collect();
    picks.iter().sum::<f64>() / picks.len().max(1) as f64
}

/// Least-squares coefficients (intercept first) of `y` on the rows of `x`.
pub fn least_squares(x: &[Vec<f64>], y: &[f64]) -> Option<Vec<f64>> {
    let k = x.first()?.len() + 1;
    let a = nalgebra::DMatrix::from_fn(x.len(), k, |i, j| if j == 0 { 1.0 } else { x[i][j - 1] });
    let b = nalgebra::DVector::from_column_slice(y);
    let sol = a.svd(true, true).solve(&b, 1e-12).ok()?;
    Some(sol.iter().copied().collect())
}

/// The calibration fit: coefficients on all models, and the held-out
/// Pearson of eq. 8 alone and of the calibrated line (two folds by target).
pub struct Calibration {
    pub coefficients: Vec<f64>,
    pub pearson_eq8: f64,
    pub pearson_heldout: f64,
    pub n: usize,
}

/// [`crate::quality::etm::CALIBRATION`]'s fit: eq. 8 and A_m, over the
/// models that have no residue types (maps coarser than 5 Å, older files).
pub fn calibrate(models: &[ModelLine]) -> Option<Calibration> {
    let rows: Vec<&ModelLine> = models.iter().filter(|m| m.types.is_none()).collect();
    fit(&rows, |m| vec![m.etm_eq8, m.agreement])
}

/// [`crate::quality::etm::CALIBRATION_TYPES`]'s fit: eq. 8, A_m and the
/// residue types' fit, over the models that have the last.
pub fn calibrate_types(models: &[ModelLine]) -> Option<Calibration> {
    let rows: Vec<&ModelLine> = models.iter().filter(|m| m.types.is_some()).collect();
    fit(&rows, |m| {
        vec![m.etm_eq8, m.agreement, m.types.unwrap_or(0.0)]
    })
}

fn fit(models: &[&ModelLine], feats: impl Fn(&ModelLine) -> Vec<f64>) -> Option<Calibration> {
    let mut targets: Vec<&str> = models.iter().map(|m| m.target.as_str()).collect();
    targets.sort();
    targets.dedup();
    let fold = |m: &ModelLine| targets.binary_search(&m.target.as_str()).unwrap_or(0) % 2;
    let line = |c: &[f64], m: &ModelLine| {
        c[0] + feats(m)
            .iter()
            .zip(&c[1..])
            .map(|(x, w)| x * w)
            .sum::<f64>()
    };
    let mut pred = vec![0.0; models.len()];
    for k in 0..2 {
        let train: Vec<&ModelLine> = models.iter().copied().filter(|m| fold(m) != k).collect();
        let c = least_squares(
            &train.iter().map(|m| feats(m)).collect::<Vec<_>>(),
            &train.iter().map(|m| m.tm).collect::<Vec<_>>(),
        )?;
        for (p, m) in pred.iter_mut().zip(models) {
            if fold(m) == k {
                *p = line(&c, m);
            }
        }
    }
    let coefficients = least_squares(
        &models.iter().map(|m| feats(m)).collect::<Vec<_>>(),
        &models.iter().map(|m| m.tm).collect::<Vec<_>>(),
    )?;
    let pearson = |xy: Vec<(f64, f64)>| super::harness::stats::pearson(&xy).unwrap_or(0.0);
    Some(Calibration {
        coefficients,
        pearson_eq8: pearson(models.iter().map(|m| (m.etm_eq8, m.tm)).collect()),
        pearson_heldout: pearson(pred.iter().zip(models).map(|(&p, m)| (p, m.tm)).collect()),
        n: models.len(),
    })
}

/// The report `mapfold bench rank` prints: per group (label × resolution) the
/// mean TM-score of model 1 under each rule, then the calibration.
pub fn report(models: &[ModelLine]) -> String {
    let mut out = String::from(
        "| runs | n | oracle (best of 5) | SPICKER order | eq. 8 eTM | calibrated eTM | CRscore | lowest energy |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let all = runs(models);
    let mut groups: BTreeMap<String, Vec<Vec<&ModelLine>>> = BTreeMap::new();
    for r in &all {
        let m = r[0];
        let res = if m.resolution <= 5.0 {
            "≤ 5 Å"
        } else {
            "> 5 Å"
        };
        groups
            .entry(format!("{}, {res}", m.label))
            .or_default()
            .push(r.clone());
    }
    groups.insert("all".into(), all);
    for (name, rs) in &groups {
        out.push_str(&format!(
            "| {name} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |\n",
            rs.len(),
            first_by(rs, |m| m.tm),
            first_by(rs, |m| -(m.cluster as f64)),
            first_by(rs, |m| m.etm_eq8),
            first_by(rs, |m| {
                crate::quality::etm::calibrated(m.etm_eq8, m.agreement, m.types)
            }),
            first_by(rs, |m| m.crscore),
            first_by(rs, |m| -m.energy),
        ));
    }
    for (c, what) in [
        (calibrate(models), "without residue types"),
        (calibrate_types(models), "with residue types"),
    ] {
        let Some(c) = c else { continue };
        let mut line = format!("{:.3}", c.coefficients[0]);
        for (w, name) in c.coefficients[1..].iter().zip(["eq8", "A", "T"]) {
            line.push_str(&format!(" + {w:.3}·{name}"));
        }
        out.push_str(&format!(
            "\nCalibration {what}, over {} models: TM ≈ {line}; Pearson with the true TM-score: eq. 8 {:.3}, calibrated {:.3} (held out, two folds by target).\n",
            c.n, c.pearson_eq8, c.pearson_heldout
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(target: &str, cluster: usize, tm: f64, eq8: f64, a: f64) -> ModelLine {
        ModelLine {
            target: target.into(),
            resolution: 3.0,
            label: "Hard".into(),
            tm,
            etm: 0.0,
            etm_eq8: eq8,
            cluster,
            crscore: eq8,
            energy: 0.0,
            agreement: a,
            types: None,
        }
    }

    #[test]
    fn least_squares_recovers_a_plane() {
        let x: Vec<Vec<f64>> = (0..20)
            .map(|i| vec![i as f64 / 20.0, ((i * 7) % 11) as f64 / 11.0])
            .collect();
        let y: Vec<f64> = x.iter().map(|v| 0.1 + 0.5 * v[0] + 0.3 * v[1]).collect();
        let c = least_squares(&x, &y).unwrap();
        for (got, want) in c.iter().zip([0.1, 0.5, 0.3]) {
            assert!((got - want).abs() < 1e-9, "{c:?}");
        }
    }

    #[test]
    fn rules_pick_their_own_first_model() {
        // Cluster 1 is right, eq. 8 prefers the wrong cluster 2.
        let ms = vec![
            line("a", 1, 0.8, 0.5, 0.8),
            line("a", 2, 0.3, 0.7, 0.2),
            line("b", 1, 0.6, 0.4, 0.6),
            line("b", 2, 0.5, 0.3, 0.5),
        ];
        let rs = runs(&ms);
        assert_eq!(rs.len(), 2);
        assert!((first_by(&rs, |m| -(m.cluster as f64)) - 0.7).abs() < 1e-12);
        assert!((first_by(&rs, |m| m.etm_eq8) - 0.45).abs() < 1e-12);
        assert!((first_by(&rs, |m| m.tm) - 0.7).abs() < 1e-12);
        assert!(report(&ms).contains("| all | 2 |"));
    }
}
