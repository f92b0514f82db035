//! `results.csv`: one row per target × map × method, the harness's raw
//! output and what `mapfold bench merge` reads back. Plain RFC 4180 CSV (a
//! field with a comma, quote or newline is quoted, quotes doubled); a value
//! that does not apply to a method (a baseline has no Cα cloud) is empty.

use std::path::Path;

use crate::io::FileError;

/// Who built the model of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// The whole pipeline.
    Mapfold,
    /// Threading and the same assembly with no map term and no Cα cloud (the
    /// paper's I-TASSER row).
    NoMap,
    /// Rigid fit of the top threading template into the map (a
    /// refinement-style baseline).
    RigidFit,
    /// The naive greedy Cα picking (a Cα-stage baseline: CRscore only).
    GreedyCa,
}

impl Method {
    pub const ALL: [Method; 4] = [
        Method::Mapfold,
        Method::NoMap,
        Method::RigidFit,
        Method::GreedyCa,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Mapfold => "mapfold",
            Method::NoMap => "no-map",
            Method::RigidFit => "rigid-fit",
            Method::GreedyCa => "greedy-ca",
        }
    }

    /// The name in tables and plots.
    pub fn title(self) -> &'static str {
        match self {
            Method::Mapfold => "mapfold",
            Method::NoMap => "threading + assembly, no map (I-TASSER row)",
            Method::RigidFit => "rigid fit of the top threading template",
            Method::GreedyCa => "greedy Cα picking",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// One row of `results.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// test-hard, test-easy or real.
    pub set: String,
    pub target: String,
    pub length: usize,
    /// Which map of the target: `sim0`, `sim1`, … or the real map's folder.
    pub map: String,
    /// The resolution bin, e.g. `2-5`.
    pub bin: String,
    pub resolution: f64,
    /// Signal-to-noise ratio of a simulated map.
    pub snr: Option<f64>,
    pub method: Method,
    /// Easy or Hard as threading labelled the target in this run.
    pub difficulty: String,
    pub crscore: Option<f64>,
    pub template_first_tm: Option<f64>,
    pub template_best_tm: Option<f64>,
    pub tm: Option<f64>,
    pub rmsd: Option<f64>,
    pub gdt_ts: Option<f64>,
    pub etm: Option<f64>,
    /// The best TM-score of the (up to five) models: how much ranking loses.
    pub best_model_tm: Option<f64>,
    pub seconds_ca: Option<f64>,
    pub seconds_templates: Option<f64>,
    pub seconds_assembly: Option<f64>,
    pub seconds_models: Option<f64>,
    /// Wall seconds of the method on this map.
    pub seconds: f64,
    /// Why the method failed on this map (the other fields then mean nothing).
    pub error: Option<String>,
}

impl Row {
    /// A row with only the identity filled in.
    pub fn new(set: &str, target: &str, length: usize, map: &str, method: Method) -> Row {
        Row {
            set: set.into(),
            target: target.into(),
            length,
            map: map.into(),
            bin: String::new(),
            resolution: f64::NAN,
            snr: None,
            method,
            difficulty: String::new(),
            crscore: None,
            template_first_tm: None,
            template_best_tm: None,
            tm: None,
            rmsd: None,
            gdt_ts: None,
            etm: None,
            best_model_tm: None,
            seconds_ca: None,
            seconds_templates: None,
            seconds_assembly: None,
            seconds_models: None,
            seconds: 0.0,
            error: None,
        }
    }

    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// What identifies a row across shards.
    pub fn key(&self) -> (String, String, String, Method) {
        (
            self.set.clone(),
            self.target.clone(),
            self.map.clone(),
            self.method,
        )
    }
}

const HEADER: [&str; 23] = [
    "set",
    "target",
    "length",
    "map",
    "bin",
    "resolution",
    "snr",
    "method",
    "difficulty",
    "crscore",
    "template_first_tm",
    "template_best_tm",
    "tm",
    "rmsd",
    "gdt_ts",
    "etm",
    "best_model_tm",
    "seconds_ca",
    "seconds_templates",
    "seconds_assembly",
    "seconds_models",
    "seconds",
    "error",
];

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map_or(String::new(), |v| format!("{v:.digits$}"))
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The rows as CSV text with a header line.
pub fn to_csv(rows: &[Row]) -> String {
    let mut out = HEADER.join(",");
    out.push('\n');
    for r in rows {
        let f = [
            quote(&r.set),
            quote(&r.target),
            r.length.to_string(),
            quote(&r.map),
            quote(&r.bin),
            format!("{:.3}", r.resolution),
            opt(r.snr, 2),
            r.method.as_str().into(),
            quote(&r.difficulty),
            opt(r.crscore, 4),
            opt(r.template_first_tm, 4),
            opt(r.template_best_tm, 4),
            opt(r.tm, 4),
            opt(r.rmsd, 3),
            opt(r.gdt_ts, 4),
            opt(r.etm, 4),
            opt(r.best_model_tm, 4),
            opt(r.seconds_ca, 2),
            opt(r.seconds_templates, 2),
            opt(r.seconds_assembly, 2),
            opt(r.seconds_models, 2),
            format!("{:.2}", r.seconds),
            quote(r.error.as_deref().unwrap_or("")),
        ];
        out.push_str(&f.join(","));
        out.push('\n');
    }
    out
}

/// Splits CSV text into records of fields (RFC 4180 quoting).
fn records(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut out = Vec::new();
    let mut rec = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => rec.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                rec.push(std::mem::take(&mut field));
                out.push(std::mem::take(&mut rec));
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    if !field.is_empty() || !rec.is_empty() {
        rec.push(field);
        out.push(rec);
    }
    Ok(out)
}

/// Reads `results.csv` as written by [`to_csv`]; errors name the file and line.
pub fn read_csv(path: &Path) -> Result<Vec<Row>, FileError> {
    let text = crate::io::read_text(path)?;
    let recs = records(&text).map_err(|e| FileError::format(path, e))?;
    let mut it = recs.into_iter();
    let header = it
        .next()
        .ok_or_else(|| FileError::format(path, "empty file"))?;
    if header != HEADER {
        return Err(FileError::format(
            path,
            "not a mapfold bench results.csv (unexpected header)",
        ));
    }
    let mut rows = Vec::new();
    for (k, f) in it.enumerate() {
        let line = k + 2;
        let bad = |what: &str| FileError::format(path, format!("line {line}: {what}"));
        if f.len() != HEADER.len() {
            return Err(bad(&format!(
                "{} fields, expected {}",
                f.len(),
                HEADER.len()
            )));
        }
        let num = |i: usize| -> Result<Option<f64>, FileError> {
            if f[i].is_empty() {
                Ok(None)
            } else {
                f[i].parse::<f64>()
                    .map(Some)
                    .map_err(|_| bad(&format!("{}: '{}' is not a number", HEADER[i], f[i])))
            }
        };
        let method =
            Method::parse(&f[7]).ok_or_else(|| bad(&format!("unknown method '{}'", f[7])))?;
        rows.push(Row {
            set: f[0].clone(),
            target: f[1].clone(),
            length: f[2]
                .parse()
                .map_err(|_| bad(&format!("length '{}' is not a count", f[2])))?,
            map: f[3].clone(),
            bin: f[4].clone(),
            resolution: num(5)?.unwrap_or(f64::NAN),
            snr: num(6)?,
            method,
            difficulty: f[8].clone(),
            crscore: num(9)?,
            template_first_tm: num(10)?,
            template_best_tm: num(11)?,
            tm: num(12)?,
            rmsd: num(13)?,
            gdt_ts: num(14)?,
            etm: num(15)?,
            best_model_tm: num(16)?,
            seconds_ca: num(17)?,
            seconds_templates: num(18)?,
            seconds_assembly: num(19)?,
            seconds_models: num(20)?,
            seconds: num(21)?.unwrap_or(0.0),
            error: (!f[22].is_empty()).then(|| f[22].clone()),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trips_with_awkward_errors_and_rejects_bad_files() {
        let mut a = Row::new("test-hard", "1abc_A", 120, "sim0", Method::Mapfold);
        a.bin = "2-5".into();
        a.resolution = 3.25;
        a.snr = Some(6.5);
        a.difficulty = "Hard".into();
        a.tm = Some(0.4321);
        a.crscore = Some(0.9);
        a.seconds = 12.5;
        let mut b = Row::new("real", "EMD-2566/3J6B_9", 195, "emd2566", Method::NoMap);
        b.bin = "2-5".into();
        b.resolution = 3.2;
        b.error = Some("map.mrc: bad header, \"MODE 7\"\nsecond line".into());
        let text = to_csv(&[a.clone(), b.clone()]);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("results.csv");
        std::fs::write(&p, &text).unwrap();
        let back = read_csv(&p).unwrap();
        assert_eq!(back, vec![a, b]);

        std::fs::write(&p, text.replace("0.4321", "zero")).unwrap();
        let e = read_csv(&p).unwrap_err().to_string();
        assert!(
            e.contains("results.csv") && e.contains("line 2") && e.contains("tm"),
            "{e}"
        );
        std::fs::write(&p, "target,tm\nx,1\n").unwrap();
        assert!(read_csv(&p).unwrap_err().to_string().contains("header"));
    }
}
