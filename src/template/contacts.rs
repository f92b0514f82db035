//! Predicted residue–residue contact maps, the restraint that picks the
//! sequence register of regenerated Cα traces (paper, Methods, "Initial Cα
//! trace model generation": the traces' "Cα–Cα contact map using a distance
//! cutoff d < 8 Å" is compared with "the predicted contact map from ResPRE").
//!
//! A [`ContactMap`] holds one probability per residue pair. Two sources: a
//! consensus of threading templates (the fraction of the top templates whose
//! Cα pair lies within [`CONTACT_CUTOFF`]), and a file in the CASP RR format
//! that contact predictors (ResPRE, CCMpred, …) write.

use std::path::Path;

use super::TemplateModel;
use crate::io::FileError;

/// Two residues are in contact when their Cα atoms are closer than this (Å).
pub const CONTACT_CUTOFF: f64 = 8.0;

/// Symmetric L×L contact probabilities in [0, 1]; the diagonal is 0.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactMap {
    len: usize,
    p: Vec<f32>,
}

impl ContactMap {
    /// All probabilities 0.
    pub fn new(len: usize) -> ContactMap {
        ContactMap {
            len,
            p: vec![0.0; len * len],
        }
    }

    /// Number of residues L.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Probability that residues `i` and `j` (0-based) are in contact.
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f32 {
        self.p[i * self.len + j]
    }

    /// Sets the probability of the pair in both orders.
    pub fn set(&mut self, i: usize, j: usize, p: f32) {
        self.p[i * self.len + j] = p;
        self.p[j * self.len + i] = p;
    }

    /// Contacts of one model: 1 for residue pairs whose Cα atoms are both
    /// present and closer than [`CONTACT_CUTOFF`], 0 otherwise.
    pub fn from_model(model: &TemplateModel) -> ContactMap {
        consensus_from_templates(std::slice::from_ref(model), model.query_len(), 1)
    }
}

/// The fraction of the first `top` templates (in the order given, e.g. by
/// threading Z-score or CRscore) that put the pair's Cα atoms within
/// [`CONTACT_CUTOFF`]. A template that lacks either residue counts as "no
/// contact", so pairs few templates cover get low probabilities.
pub fn consensus_from_templates(
    models: &[TemplateModel],
    query_len: usize,
    top: usize,
) -> ContactMap {
    let mut counts = vec![0u32; query_len * query_len];
    let used = &models[..top.min(models.len())];
    let c2 = CONTACT_CUTOFF * CONTACT_CUTOFF;
    for m in used {
        let pairs: Vec<_> = m
            .aligned_pairs()
            .into_iter()
            .filter(|&(i, _)| i < query_len)
            .collect();
        for (a, &(i, pi)) in pairs.iter().enumerate() {
            for &(j, pj) in &pairs[a + 1..] {
                if (pi - pj).norm_squared() < c2 {
                    counts[i * query_len + j] += 1;
                    counts[j * query_len + i] += 1;
                }
            }
        }
    }
    let n = used.len().max(1) as f32;
    ContactMap {
        len: query_len,
        p: counts.into_iter().map(|c| c as f32 / n).collect(),
    }
}

/// Reads a contact prediction in the CASP RR format for a query of
/// `query_len` residues: header records (PFRMAT, TARGET, AUTHOR, REMARK,
/// METHOD, MODEL, END), optional sequence lines (letters only), and one
/// contact per line as `i j d1 d2 p` or `i j p` (1-based residue numbers,
/// i ≠ j, 0 ≤ p ≤ 1). A pair listed twice keeps its highest probability.
/// Anything else is an error naming the file and the line.
pub fn read_rr(path: &Path, query_len: usize) -> Result<ContactMap, FileError> {
    let text = crate::io::read_text(path)?;
    parse_rr(&text, query_len).map_err(|m| FileError::format(path, m))
}

const RR_RECORDS: [&str; 7] = [
    "PFRMAT", "TARGET", "AUTHOR", "REMARK", "METHOD", "MODEL", "END",
];

fn parse_rr(text: &str, query_len: usize) -> Result<ContactMap, String> {
    let mut map = ContactMap::new(query_len);
    let mut n_contacts = 0usize;
    for (k, raw) in text.lines().enumerate() {
        let line_no = k + 1;
        let line = raw.trim();
        let first = line.split_whitespace().next().unwrap_or("");
        if line.is_empty() || RR_RECORDS.contains(&first) {
            continue;
        }
        if line.chars().all(|c| c.is_ascii_alphabetic()) {
            continue; // a line of the target sequence
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 3 && fields.len() != 5 {
            return Err(format!(
                "line {line_no}: expected `i j [d1 d2] p`, got {} fields: {raw:?}",
                fields.len()
            ));
        }
        let residue = |s: &str, what: &str| -> Result<usize, String> {
            let v: usize = s
                .parse()
                .map_err(|_| format!("line {line_no}: residue {what} {s:?} is not a number"))?;
            if v == 0 || v > query_len {
                return Err(format!(
                    "line {line_no}: residue {what} = {v} outside 1..={query_len}"
                ));
            }
            Ok(v - 1)
        };
        let i = residue(fields[0], "i")?;
        let j = residue(fields[1], "j")?;
        if i == j {
            return Err(format!(
                "line {line_no}: residue {} paired with itself",
                i + 1
            ));
        }
        if fields.len() == 5 {
            for d in &fields[2..4] {
                if !d.parse::<f64>().is_ok_and(|v| v.is_finite() && v >= 0.0) {
                    return Err(format!(
                        "line {line_no}: distance bound {d:?} is not a non-negative number"
                    ));
                }
            }
        }
        let p_str = fields[fields.len() - 1];
        let p: f32 = p_str
            .parse()
            .ok()
            .filter(|p: &f32| (0.0..=1.0).contains(p))
            .ok_or_else(|| {
                format!("line {line_no}: probability {p_str:?} is not a number in [0, 1]")
            })?;
        if p > map.get(i, j) {
            map.set(i, j, p);
        }
        n_contacts += 1;
    }
    if n_contacts == 0 {
        return Err("no contact lines".into());
    }
    Ok(map)
}
