//! Threading a query against every template of a library, LOMETS-style.
//!
//! Each scheme of [`SCHEMES`] aligns the query to every template
//! ([`super::align::local_affine`]). A scheme's raw scores grow with template
//! length, so its Z-score is taken against a least-squares fit of raw score on
//! ln(template length) over the library, with a robust spread (1.4826 · median
//! absolute deviation) so that the few true homologs do not inflate it. As in
//! LOMETS, Zn = Z / Z0 with a per-scheme cutoff Z0; templates are ranked by
//! their mean Zn over schemes and carry the alignment of the scheme that scores
//! them best. The target is Easy when on average (over schemes) one or more
//! templates have Zn > 1, Hard otherwise (the paper's Methods).
//!
//! Optionally ([`SearchOptions::realign_offset`], off by default) the kept
//! hits of a Hard target are then realigned under their own scheme with a
//! constant added to every cell's score. The ranking, the label and the
//! identity keep the plain local alignment, which stops where the evidence
//! thins, on a Hard target soon: threading's first template covered 44 % of
//! the query on 24 Hard validation chains. With an offset of
//! [`REALIGN_OFFSET`] it covers 84 % and its TM-score to the native (by
//! residue index) rises from 0.190 to 0.264 (`examples/align_offset.rs`), and
//! whole builds at 9 Å gained 0.049; but the eTM-score, calibrated on the
//! short alignments, then overrates Hard models (Pearson with the true
//! TM-score 0.73 → 0.48 on those builds), and the test maps gained little
//! (BENCHMARKS.md). It stays off until the eTM-score is recalibrated with it.
//!
//! Sequence identity to the query (for `--exclude-identity`) is, for the best
//! of a template's alignments, identical pairs / max(aligned pairs, half the
//! shorter chain's length): short local alignments cannot pass for homology,
//! in the spirit of the data set's "30% identity over half the length" rule.

use rayon::prelude::*;

use super::align::{local_affine, Alignment};
use super::library::Library;
use super::scoring::{blosum62_table, environment, hydropathy, LibraryStats, Scheme, SCHEMES};
use super::ssp::SsPredictor;
use crate::sequence::index_or_unknown;

/// A query sequence and its predicted secondary structure.
#[derive(Debug, Clone)]
pub struct Query {
    pub id: String,
    /// Canonical sequence (20 letters and X).
    pub sequence: String,
    /// Predicted probabilities of helix, strand, coil per residue.
    pub ss_prob: Vec<[f32; 3]>,
}

impl Query {
    pub fn new(id: &str, sequence: &str, predictor: &SsPredictor) -> Query {
        Query {
            id: id.to_string(),
            sequence: sequence.to_string(),
            ss_prob: predictor.predict(sequence),
        }
    }
}

/// What to search and keep.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    /// Number of templates kept (the paper: 300).
    pub top: usize,
    /// Drop templates at or above this identity to the query (0.3 for Hard benchmarks).
    pub exclude_identity: Option<f64>,
    /// Template ids never used (the query's own chain in benchmarks).
    pub exclude_ids: Vec<String>,
    pub schemes: Vec<Scheme>,
    /// Score offset of the kept hits' second alignment (module doc); 0
    /// keeps the ranking alignments.
    pub realign_offset: f32,
    /// Realign the hits of Easy targets too, not only Hard ones.
    pub realign_easy: bool,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            top: 300,
            exclude_identity: None,
            exclude_ids: Vec::new(),
            schemes: SCHEMES.to_vec(),
            realign_offset: 0.0,
            realign_easy: false,
        }
    }
}

/// The [`SearchOptions::realign_offset`] tuned on Hard validation chains
/// (off by default: module doc).
pub const REALIGN_OFFSET: f32 = 2.0;

/// Easy (good templates found) or Hard, as the paper labels targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difficulty {
    Easy,
    Hard,
}

impl Difficulty {
    pub fn as_str(self) -> &'static str {
        match self {
            Difficulty::Easy => "Easy",
            Difficulty::Hard => "Hard",
        }
    }
}

/// One template with its alignment to the query.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Index into the library's chains.
    pub template: usize,
    pub template_id: String,
    /// The scheme whose alignment is kept, or "hhsearch".
    pub source: String,
    /// Ranking key: mean Zn over schemes (threading) or probability / 50 (HHsearch).
    pub zn: f64,
    /// Zn of each scheme, in the order of the options' schemes (empty for HHsearch hits).
    pub scheme_zn: Vec<f64>,
    /// Identity to the query (module doc).
    pub identity: f64,
    pub alignment: Alignment,
    /// HHsearch probability (%) and E-value, for hits from an .hhr file.
    pub hh_probability: Option<f64>,
    pub hh_evalue: Option<f64>,
}

impl Hit {
    /// Fraction of query residues the alignment covers.
    pub fn coverage(&self, query_len: usize) -> f64 {
        self.alignment.pairs.len() as f64 / query_len.max(1) as f64
    }
}

/// The ranked templates and the target's label.
#[derive(Debug, Clone)]
pub struct SearchResult {
    pub hits: Vec<Hit>,
    pub difficulty: Difficulty,
    /// Per scheme: its name and the number of templates with Zn > 1.
    pub good_per_scheme: Vec<(String, usize)>,
    /// Templates scored (after exclusions).
    pub searched: usize,
    pub excluded_by_id: usize,
    pub excluded_by_identity: usize,
}

/// Identity of an alignment (module doc).
pub fn identity(query: &[u8], template: &[u8], aln: &Alignment) -> f64 {
    let same = aln
        .pairs
        .iter()
        .filter(|&&(i, j)| query[i] == template[j] && query[i] != b'X')
        .count();
    let half = query.len().min(template.len()) as f64 / 2.0;
    same as f64 / (aln.pairs.len() as f64).max(half).max(1.0)
}

/// Aligns the query to template `t` under one scheme.
pub fn align_scheme(
    query: &Query,
    lib: &Library,
    stats: &LibraryStats,
    t: usize,
    scheme: &Scheme,
) -> Alignment {
    align_scheme_offset(query, lib, stats, t, scheme, 0.0)
}

/// [`align_scheme`] with `offset` added to every cell's score: a positive
/// offset lengthens the local alignment.
pub fn align_scheme_offset(
    query: &Query,
    lib: &Library,
    stats: &LibraryStats,
    t: usize,
    scheme: &Scheme,
    offset: f32,
) -> Alignment {
    let b62 = blosum62_table();
    let qa: Vec<usize> = query.sequence.chars().map(index_or_unknown).collect();
    let qss: Vec<[f32; 3]> = query
        .ss_prob
        .iter()
        .map(|p| [2.0 * p[0] - 1.0, 2.0 * p[1] - 1.0, 2.0 * p[2] - 1.0])
        .collect();
    let qh: Vec<f32> = qa.iter().map(|&a| hydropathy(a)).collect();
    let c = &lib.chains[t];
    let ta: Vec<usize> = c.sequence.chars().map(index_or_unknown).collect();
    let ts: Vec<usize> = c.ss.iter().map(|s| s.index()).collect();
    let tb: Vec<f32> = c.burial.iter().map(|&b| stats.burial_z(b)).collect();
    let te: Vec<usize> =
        c.ss.iter()
            .zip(&c.burial)
            .map(|(&s, &b)| environment(s, b))
            .collect();
    let s = *scheme;
    local_affine(
        qa.len(),
        ta.len(),
        |i, j| {
            let a = qa[i];
            s.w_seq * b62[a][ta[j]]
                + s.w_ss * qss[i][ts[j]]
                + s.w_hyd * qh[i] * tb[j]
                + s.w_env * stats.env[te[j]][a]
                + offset
        },
        s.gap_open,
        s.gap_extend,
    )
}

/// `hit` aligned again under the scheme that ranked it, with `offset` added
/// to every cell (module doc); `None` for a hit of no threading scheme
/// (HHsearch) or when nothing aligns.
pub fn realigned(
    query: &Query,
    lib: &Library,
    stats: &LibraryStats,
    schemes: &[Scheme],
    hit: &Hit,
    offset: f32,
) -> Option<Alignment> {
    let s = schemes.iter().find(|s| s.name == hit.source)?;
    let a = align_scheme_offset(query, lib, stats, hit.template, s, offset);
    (!a.pairs.is_empty()).then_some(a)
}

/// Threads the query against the library (module doc).
pub fn thread(
    query: &Query,
    lib: &Library,
    stats: &LibraryStats,
    opts: &SearchOptions,
) -> SearchResult {
    let q = query.sequence.as_bytes();
    let candidates: Vec<usize> = (0..lib.len())
        .filter(|&t| !opts.exclude_ids.contains(&lib.chains[t].id))
        .collect();
    let excluded_by_id = lib.len() - candidates.len();
    // (template, alignments per scheme, identity)
    let aligned: Vec<(usize, Vec<Alignment>, f64)> = candidates
        .par_iter()
        .map(|&t| {
            let alns: Vec<Alignment> = opts
                .schemes
                .iter()
                .map(|s| align_scheme(query, lib, stats, t, s))
                .collect();
            let tseq = lib.chains[t].sequence.as_bytes();
            let id = alns
                .iter()
                .map(|a| identity(q, tseq, a))
                .fold(0.0, f64::max);
            (t, alns, id)
        })
        .collect();
    let before = aligned.len();
    let aligned: Vec<_> = aligned
        .into_iter()
        .filter(|(_, _, id)| opts.exclude_identity.is_none_or(|cut| *id < cut))
        .collect();
    let excluded_by_identity = before - aligned.len();
    let ln_len: Vec<f64> = aligned
        .iter()
        .map(|(t, _, _)| (lib.chains[*t].len().max(1) as f64).ln())
        .collect();
    let mut zn = vec![vec![0.0; opts.schemes.len()]; aligned.len()];
    let mut good_per_scheme = Vec::new();
    for (k, s) in opts.schemes.iter().enumerate() {
        let raw: Vec<f64> = aligned.iter().map(|(_, a, _)| a[k].score as f64).collect();
        let z = robust_z(&ln_len, &raw);
        let mut good = 0;
        for (row, zk) in zn.iter_mut().zip(&z) {
            row[k] = zk / s.z0;
            if row[k] > 1.0 {
                good += 1;
            }
        }
        good_per_scheme.push((s.name.to_string(), good));
    }
    let mean_good = good_per_scheme.iter().map(|g| g.1 as f64).sum::<f64>()
        / good_per_scheme.len().max(1) as f64;
    let difficulty = if mean_good >= 1.0 {
        Difficulty::Easy
    } else {
        Difficulty::Hard
    };
    let mut hits: Vec<Hit> = aligned
        .into_iter()
        .zip(zn)
        .map(|((t, alns, id), z)| {
            let best = (0..z.len())
                .max_by(|&a, &b| z[a].total_cmp(&z[b]))
                .unwrap_or(0);
            let mean = z.iter().sum::<f64>() / z.len().max(1) as f64;
            Hit {
                template: t,
                template_id: lib.chains[t].id.clone(),
                source: opts.schemes[best].name.to_string(),
                zn: mean,
                scheme_zn: z,
                identity: id,
                alignment: alns.into_iter().nth(best).unwrap_or_default(),
                hh_probability: None,
                hh_evalue: None,
            }
        })
        .collect();
    hits.sort_by(|a, b| b.zn.total_cmp(&a.zn));
    let searched = hits.len();
    hits.truncate(opts.top);
    if opts.realign_offset != 0.0 && (difficulty == Difficulty::Hard || opts.realign_easy) {
        hits.par_iter_mut().for_each(|h| {
            if let Some(a) = realigned(query, lib, stats, &opts.schemes, h, opts.realign_offset) {
                h.alignment = a;
            }
        });
    }
    SearchResult {
        hits,
        difficulty,
        good_per_scheme,
        searched,
        excluded_by_id,
        excluded_by_identity,
    }
}

/// Adds hits from another source (HHsearch), keeping the ranking by Zn and the top N.
pub fn merge_hits(result: &mut SearchResult, extra: Vec<Hit>, top: usize) {
    result.hits.extend(extra);
    result.hits.sort_by(|a, b| b.zn.total_cmp(&a.zn));
    result.hits.truncate(top);
}

/// Z-scores of `y` against a least-squares line in `x`, centred on the
/// residuals' median and scaled by their MAD (module doc).
pub fn robust_z(x: &[f64], y: &[f64]) -> Vec<f64> {
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let sxx: f64 = x.iter().map(|v| (v - mx) * (v - mx)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let slope = if sxx > 1e-12 { sxy / sxx } else { 0.0 };
    let r: Vec<f64> = x
        .iter()
        .zip(y)
        .map(|(a, b)| b - (my + slope * (a - mx)))
        .collect();
    let med = median(r.clone());
    let mad = median(r.iter().map(|v| (v - med).abs()).collect());
    let mut sigma = 1.4826 * mad;
    if sigma < 1e-9 {
        sigma = (r.iter().map(|v| v * v).sum::<f64>() / n as f64)
            .sqrt()
            .max(1e-9);
    }
    r.iter().map(|v| (v - med) / sigma).collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Gapped query and template strings of an alignment (from the first to the
/// last aligned pair), for output files.
pub fn aligned_strings(query: &str, template: &str, aln: &Alignment) -> (String, String) {
    let (q, t) = (query.as_bytes(), template.as_bytes());
    let (mut qs, mut ts) = (String::new(), String::new());
    let mut prev: Option<(usize, usize)> = None;
    for &(i, j) in &aln.pairs {
        if let Some((pi, pj)) = prev {
            for &c in &q[pi + 1..i] {
                qs.push(c as char);
                ts.push('-');
            }
            for &c in &t[pj + 1..j] {
                qs.push('-');
                ts.push(c as char);
            }
        }
        qs.push(q[i] as char);
        ts.push(t[j] as char);
        prev = Some((i, j));
    }
    (qs, ts)
}
