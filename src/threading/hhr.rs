//! HHsearch result files (`.hhr`, HH-suite 3) as an extra threading source for
//! users who have HH-suite and its databases.
//!
//! The parser reads the header (`Query`, `Match_columns`) and each hit's
//! detailed section: `No N`, the `>name description` line, the
//! `Probab=… E-value=… Score=… Aligned_cols=… Identities=…%` line and the
//! alignment blocks, whose `Q name start SEQ end (len)` and `T name start SEQ
//! end (len)` rows give the aligned query and template residues (rows named
//! `Consensus`, `ss_pred`, `ss_conf`, `ss_dssp` are annotations and skipped).
//! Hits are then mapped onto library templates by name and verified residue by
//! residue ([`super::search`] turns them into hits with Zn = probability / 50,
//! so that HHsearch's usual 50% threshold sits at LOMETS' Zn = 1).

use std::path::Path;

use crate::io::FileError;

/// One hit of an .hhr file. Residue numbers are 1-based as in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct HhrHit {
    pub number: usize,
    pub name: String,
    pub description: String,
    /// Probability of a true hit, in percent.
    pub probability: f64,
    pub evalue: f64,
    pub score: f64,
    pub aligned_cols: usize,
    /// Percent identity as reported, if present.
    pub identities: Option<f64>,
    pub query_start: usize,
    pub query_end: usize,
    pub template_start: usize,
    pub template_end: usize,
    /// The template's length, from the `(len)` at the end of its rows.
    pub template_length: Option<usize>,
    /// Aligned rows, gaps as '-'.
    pub query_aligned: String,
    pub template_aligned: String,
}

impl HhrHit {
    /// Aligned residue pairs as 0-based (query, template) indices.
    pub fn pairs(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let (mut i, mut j) = (
            self.query_start.saturating_sub(1),
            self.template_start.saturating_sub(1),
        );
        for (a, b) in self
            .query_aligned
            .chars()
            .zip(self.template_aligned.chars())
        {
            let (qa, ta) = (!is_gap(a), !is_gap(b));
            if qa && ta {
                out.push((i, j));
            }
            if qa {
                i += 1;
            }
            if ta {
                j += 1;
            }
        }
        out
    }

    /// The template residues of the alignment, without gaps.
    pub fn template_residues(&self) -> String {
        self.template_aligned
            .chars()
            .filter(|&c| !is_gap(c))
            .collect()
    }

    /// The query residues of the alignment, without gaps.
    pub fn query_residues(&self) -> String {
        self.query_aligned.chars().filter(|&c| !is_gap(c)).collect()
    }
}

fn is_gap(c: char) -> bool {
    c == '-' || c == '.'
}

/// A parsed .hhr file.
#[derive(Debug, Clone, PartialEq)]
pub struct HhrFile {
    pub query: String,
    pub match_columns: Option<usize>,
    pub hits: Vec<HhrHit>,
}

pub fn read_hhr(path: &Path) -> Result<HhrFile, FileError> {
    let text = crate::io::read_text(path)?;
    parse_hhr(&text).map_err(|m| FileError::format(path, m))
}

/// Parses .hhr text; errors give the line number.
pub fn parse_hhr(text: &str) -> Result<HhrFile, String> {
    let mut query = String::new();
    let mut match_columns = None;
    let mut hits: Vec<HhrHit> = Vec::new();
    let mut cur: Option<HhrHit> = None;
    for (ln, line) in text.lines().enumerate() {
        let ln = ln + 1;
        let err = |m: &str| format!("line {ln}: {m}");
        if let Some(rest) = line.strip_prefix("Query ") {
            if cur.is_none() && hits.is_empty() {
                query = rest.trim().to_string();
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("Match_columns ") {
            match_columns = rest.trim().parse().ok();
            continue;
        }
        if let Some(rest) = line.strip_prefix("No ") {
            if let Ok(num) = rest.trim().parse::<usize>() {
                if let Some(h) = cur.take() {
                    hits.push(finish(h)?);
                }
                cur = Some(HhrHit {
                    number: num,
                    name: String::new(),
                    description: String::new(),
                    probability: f64::NAN,
                    evalue: f64::NAN,
                    score: f64::NAN,
                    aligned_cols: 0,
                    identities: None,
                    query_start: 0,
                    query_end: 0,
                    template_start: 0,
                    template_end: 0,
                    template_length: None,
                    query_aligned: String::new(),
                    template_aligned: String::new(),
                });
                continue;
            }
        }
        let Some(h) = cur.as_mut() else { continue };
        if let Some(rest) = line.strip_prefix('>') {
            let mut it = rest.splitn(2, char::is_whitespace);
            h.name = it.next().unwrap_or("").to_string();
            h.description = it.next().unwrap_or("").trim().to_string();
        } else if line.starts_with("Probab=") {
            for field in line.split_whitespace() {
                let Some((k, v)) = field.split_once('=') else {
                    continue;
                };
                let num = |v: &str| {
                    v.trim_end_matches('%')
                        .parse::<f64>()
                        .map_err(|_| err(&format!("bad {k} value '{v}'")))
                };
                match k {
                    "Probab" => h.probability = num(v)?,
                    "E-value" => h.evalue = num(v)?,
                    "Score" => h.score = num(v)?,
                    "Aligned_cols" => h.aligned_cols = num(v)? as usize,
                    "Identities" => h.identities = Some(num(v)?),
                    _ => {}
                }
            }
        } else if line.starts_with("Q ") || line.starts_with("T ") {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 5 || matches!(f[1], "Consensus" | "ss_pred" | "ss_conf" | "ss_dssp") {
                continue;
            }
            let (Ok(start), Ok(end)) = (f[2].parse::<usize>(), f[4].parse::<usize>()) else {
                continue;
            };
            let seq = f[3];
            let len = f
                .get(5)
                .and_then(|s| s.trim_start_matches('(').trim_end_matches(')').parse().ok());
            if line.starts_with('Q') {
                if h.query_aligned.is_empty() {
                    h.query_start = start;
                }
                h.query_end = end;
                h.query_aligned.push_str(seq);
            } else {
                if h.template_aligned.is_empty() {
                    h.template_start = start;
                }
                h.template_end = end;
                h.template_aligned.push_str(seq);
                h.template_length = len.or(h.template_length);
            }
        }
    }
    if let Some(h) = cur.take() {
        hits.push(finish(h)?);
    }
    Ok(HhrFile {
        query,
        match_columns,
        hits,
    })
}

fn finish(h: HhrHit) -> Result<HhrHit, String> {
    let label = format!("hit {} ({})", h.number, h.name);
    if h.name.is_empty() {
        return Err(format!("hit {}: no '>' name line", h.number));
    }
    if h.probability.is_nan() {
        return Err(format!("{label}: no Probab= line"));
    }
    if h.query_aligned.len() != h.template_aligned.len() || h.query_aligned.is_empty() {
        return Err(format!(
            "{label}: query and template alignment rows differ in length ({} vs {})",
            h.query_aligned.len(),
            h.template_aligned.len()
        ));
    }
    let nq = h.query_residues().len();
    let nt = h.template_residues().len();
    if h.query_start + nq != h.query_end + 1 || h.template_start + nt != h.template_end + 1 {
        return Err(format!(
            "{label}: aligned residues do not match the rows' start and end numbers"
        ));
    }
    Ok(h)
}

/// Where a hit's template residues sit in a library chain's sequence: the
/// 0-based index of the hit's first template residue, when the hit's residue
/// numbering matches the chain (at least 90% identical letters) or the
/// ungapped template segment occurs in the chain's sequence.
pub fn locate_in_chain(hit: &HhrHit, chain_seq: &str) -> Option<usize> {
    let seg = hit.template_residues().to_ascii_uppercase();
    let cs = chain_seq.as_bytes();
    let agree = |off: usize| {
        let same = seg
            .bytes()
            .enumerate()
            .filter(|&(k, c)| cs.get(off + k) == Some(&c))
            .count();
        same as f64 >= 0.9 * seg.len() as f64
    };
    let numbered = hit.template_start.saturating_sub(1);
    if numbered + seg.len() <= cs.len() && agree(numbered) {
        return Some(numbered);
    }
    chain_seq.find(&seg)
}

/// The library chain an .hhr template name refers to: the same id, or an id
/// ending in `_<name>` (the data set's ids end in the PDB code and chain).
pub fn find_template(lib: &super::library::Library, name: &str) -> Option<usize> {
    let lower = name.to_ascii_lowercase();
    lib.index_of(name)
        .or_else(|| {
            lib.chains
                .iter()
                .position(|c| c.id.eq_ignore_ascii_case(name))
        })
        .or_else(|| {
            let suffix = format!("_{lower}");
            lib.chains
                .iter()
                .position(|c| c.id.to_ascii_lowercase().ends_with(&suffix))
        })
}

/// Turns an .hhr file's hits into threading hits on library templates. Hits
/// whose template is not in the library, whose residues do not match it, or
/// that the options exclude are left out, each with a line in the returned notes.
pub fn hits_from_hhr(
    file: &HhrFile,
    query: &super::search::Query,
    lib: &super::library::Library,
    opts: &super::search::SearchOptions,
) -> (Vec<super::search::Hit>, Vec<String>) {
    let mut hits = Vec::new();
    let mut notes = Vec::new();
    let qseq = query.sequence.as_bytes();
    for h in &file.hits {
        let Some(t) = find_template(lib, &h.name) else {
            notes.push(format!(
                "hit {} ({}): not in the template library",
                h.number, h.name
            ));
            continue;
        };
        let chain = &lib.chains[t];
        if opts.exclude_ids.contains(&chain.id) {
            continue;
        }
        let Some(offset) = locate_in_chain(h, &chain.sequence) else {
            notes.push(format!(
                "hit {} ({}): its template residues do not match library chain {}",
                h.number, h.name, chain.id
            ));
            continue;
        };
        let shift = offset as isize - (h.template_start as isize - 1);
        let pairs: Vec<(usize, usize)> = h
            .pairs()
            .into_iter()
            .map(|(i, j)| (i, (j as isize + shift) as usize))
            .filter(|&(i, j)| i < qseq.len() && j < chain.len())
            .collect();
        let qres = h.query_residues().to_ascii_uppercase();
        let q0 = h.query_start.saturating_sub(1);
        let q_same = qres
            .bytes()
            .enumerate()
            .filter(|&(k, c)| qseq.get(q0 + k) == Some(&c))
            .count();
        if pairs.is_empty() || h.query_end > qseq.len() || (q_same as f64) < 0.9 * qres.len() as f64
        {
            notes.push(format!(
                "hit {} ({}): its query residues {}-{} do not match the query sequence ({} residues)",
                h.number,
                h.name,
                h.query_start,
                h.query_end,
                qseq.len()
            ));
            continue;
        }
        let alignment = super::align::Alignment {
            score: h.score as f32,
            pairs,
        };
        let identity = super::search::identity(qseq, chain.sequence.as_bytes(), &alignment);
        if opts.exclude_identity.is_some_and(|cut| identity >= cut) {
            continue;
        }
        hits.push(super::search::Hit {
            template: t,
            template_id: chain.id.clone(),
            source: "hhsearch".into(),
            zn: h.probability / 50.0,
            scheme_zn: Vec::new(),
            identity,
            alignment,
            hh_probability: Some(h.probability),
            hh_evalue: Some(h.evalue),
        });
    }
    (hits, notes)
}
