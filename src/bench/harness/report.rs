//! `table.md` and the plots of a harness run, from its rows alone (so that
//! `mapfold bench merge` makes the same outputs from shards).
//!
//! The table follows the paper's Table 1: one section per set and resolution
//! bin, and per method the mean TM-score of model 1, the number of targets
//! above TM0 (0.9 for Easy targets at high resolution, ≤ 5 Å; 0.5 otherwise),
//! the mean RMSD, and the P value of a paired two-tailed t-test of mapfold's
//! TM-scores against the method's on the same maps. A second table follows
//! mapfold through its stages. The plots: mapfold's model 1 against each
//! baseline (one point per map, the paper's Fig. 2), the networks' CRscore
//! against greedy picking, TM-score against resolution, eTM against true TM.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::results::{Method, Row};
use super::stats::{mean, paired_t_test, pearson};
use crate::bench::plot::{colour, write_plot, Scatter, Series};
use crate::io::FileError;

/// One section of the table: a set and a resolution bin.
pub struct Section<'a> {
    pub set: String,
    pub bin: String,
    pub rows: Vec<&'a Row>,
}

impl Section<'_> {
    /// TM0 of the section (module doc).
    pub fn tm0(&self) -> f64 {
        let high_res = bin_hi(&self.bin).is_some_and(|h| h <= 5.0);
        if self.set == "test-easy" && high_res {
            0.9
        } else {
            0.5
        }
    }

    pub fn title(&self) -> String {
        let what = match self.set.as_str() {
            "test-hard" => "Hard targets, simulated maps",
            "test-easy" => "Easy targets, simulated maps",
            "real" => "Real maps",
            s => s,
        };
        format!("{what}, {} Å", self.bin.replace('-', "–"))
    }

    fn short(&self) -> String {
        let what = match self.set.as_str() {
            "test-hard" => "Hard",
            "test-easy" => "Easy",
            "real" => "real",
            s => s,
        };
        format!("{what} {} A", self.bin)
    }

    /// Model-1 TM-score of `m` by (target, map), successful rows only.
    fn values(
        &self,
        m: Method,
        f: impl Fn(&Row) -> Option<f64>,
    ) -> BTreeMap<(String, String), f64> {
        self.rows
            .iter()
            .filter(|r| r.method == m && r.ok())
            .filter_map(|r| Some(((r.target.clone(), r.map.clone()), f(r)?)))
            .collect()
    }
}

fn bin_hi(bin: &str) -> Option<f64> {
    bin.split_once('-').and_then(|(_, h)| h.parse().ok())
}

fn bin_lo(bin: &str) -> f64 {
    bin.split('-')
        .next()
        .and_then(|l| l.parse().ok())
        .unwrap_or(f64::INFINITY)
}

/// Rows by set (in `SETS` order, others after) and bin (ascending).
pub fn sections(rows: &[Row]) -> Vec<Section<'_>> {
    let mut keys: Vec<(usize, String, f64, String)> = Vec::new();
    for r in rows {
        let so = super::SETS
            .iter()
            .position(|s| *s == r.set)
            .unwrap_or(usize::MAX);
        let k = (so, r.set.clone(), bin_lo(&r.bin), r.bin.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.sort_by(|a, b| {
        (a.0, &a.1)
            .cmp(&(b.0, &b.1))
            .then(a.2.total_cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    keys.into_iter()
        .map(|(_, set, _, bin)| Section {
            rows: rows
                .iter()
                .filter(|r| r.set == set && r.bin == bin)
                .collect(),
            set,
            bin,
        })
        .collect()
}

/// Paired values of two methods on the same maps.
fn paired(
    a: &BTreeMap<(String, String), f64>,
    b: &BTreeMap<(String, String), f64>,
) -> Vec<(f64, f64)> {
    a.iter()
        .filter_map(|(k, x)| Some((*x, *b.get(k)?)))
        .collect()
}

fn fmt_p(p: f64) -> String {
    if p >= 0.001 {
        format!("{p:.3}")
    } else {
        format!("{p:.1e}")
    }
}

fn fmt_mean(x: &[f64], digits: usize) -> String {
    mean(x).map_or("–".into(), |m| format!("{m:.digits$}"))
}

/// (eTM-score, true TM-score) of mapfold's model 1 on each map.
fn etm_tm_pairs<'a>(rows: impl Iterator<Item = &'a Row>) -> Vec<(f64, f64)> {
    rows.filter(|r| r.method == Method::Mapfold && r.ok())
        .filter_map(|r| Some((r.etm?, r.tm?)))
        .collect()
}

/// What the table's header says about the run.
pub struct RunInfo {
    pub command: String,
    pub machine: String,
    pub wall_seconds: f64,
}

/// The markdown table (module doc).
pub fn table_markdown(rows: &[Row], info: &RunInfo) -> String {
    let mut out = String::from("# mapfold benchmark\n\n");
    let _ = writeln!(out, "Command: `{}`  ", info.command);
    let _ = writeln!(out, "Machine: {}  ", info.machine);
    let targets: std::collections::BTreeSet<_> = rows.iter().map(|r| (&r.set, &r.target)).collect();
    let maps: std::collections::BTreeSet<_> =
        rows.iter().map(|r| (&r.set, &r.target, &r.map)).collect();
    let _ = writeln!(
        out,
        "Wall time: {:.0} s ({:.1} h); {} targets, {} maps, {} rows.\n",
        info.wall_seconds,
        info.wall_seconds / 3600.0,
        targets.len(),
        maps.len(),
        rows.len()
    );
    out.push_str("TM-score, RMSD and GDT-TS of model 1 against the native chain by residue index (normalised by the native's length). P: paired two-tailed t-test of mapfold's TM-scores against the method's on the same maps. The rigid fit's TM-score equals its template's (TM-score superposes).\n\n");
    let secs = sections(rows);
    for s in &secs {
        let tm0 = s.tm0();
        let mf = s.values(Method::Mapfold, |r| r.tm);
        let _ = writeln!(out, "## {} (TM0 = {tm0})\n", s.title());
        out.push_str("| Method | n | TM-score | N (TM > TM0) | RMSD (Å) | GDT-TS | P value |\n| --- | --- | --- | --- | --- | --- | --- |\n");
        for m in [Method::Mapfold, Method::NoMap, Method::RigidFit] {
            let ok: Vec<&&Row> = s
                .rows
                .iter()
                .filter(|r| r.method == m && r.ok() && r.tm.is_some())
                .collect();
            let tms: Vec<f64> = ok.iter().filter_map(|r| r.tm).collect();
            let rmsd: Vec<f64> = ok.iter().filter_map(|r| r.rmsd).collect();
            let gdt: Vec<f64> = ok.iter().filter_map(|r| r.gdt_ts).collect();
            let p = if m == Method::Mapfold {
                "–".to_string()
            } else {
                let xy = paired(&mf, &s.values(m, |r| r.tm));
                let (a, b): (Vec<f64>, Vec<f64>) = xy.into_iter().unzip();
                paired_t_test(&a, &b).map_or("–".into(), |t| {
                    format!(
                        "{} (Δ {:+.3}, n {})",
                        fmt_p(t.p),
                        t.mean_difference,
                        t.df + 1
                    )
                })
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                m.title(),
                tms.len(),
                fmt_mean(&tms, 3),
                tms.iter().filter(|t| **t > tm0).count(),
                fmt_mean(&rmsd, 1),
                fmt_mean(&gdt, 3),
                p
            );
        }
        out.push('\n');
    }

    out.push_str("## mapfold stage by stage\n\n");
    out.push_str("| Section | n | Cα CRscore: networks / greedy (P) | first template TM: threading → after Cα steps | best template TM | model 1 TM | best of 5 TM | eTM | eTM–TM Pearson | seconds: Cα / templates / assembly / models |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for s in &secs {
        let of = |m: Method, f: &dyn Fn(&Row) -> Option<f64>| -> Vec<f64> {
            s.rows
                .iter()
                .filter(|r| r.method == m && r.ok())
                .filter_map(|r| f(r))
                .collect()
        };
        let cr = s.values(Method::Mapfold, |r| r.crscore);
        let gr = s.values(Method::GreedyCa, |r| r.crscore);
        let (a, b): (Vec<f64>, Vec<f64>) = paired(&cr, &gr).into_iter().unzip();
        let p = paired_t_test(&a, &b).map_or("–".into(), |t| fmt_p(t.p));
        let etm_tm = etm_tm_pairs(s.rows.iter().copied());
        let _ = writeln!(
            out,
            "| {} | {} | {} / {} ({p}) | {} → {} | {} | {} | {} | {} | {} | {} / {} / {} / {} |",
            s.title(),
            of(Method::Mapfold, &|r| r.tm).len(),
            fmt_mean(&a, 3),
            fmt_mean(&b, 3),
            fmt_mean(&of(Method::NoMap, &|r| r.template_first_tm), 3),
            fmt_mean(&of(Method::Mapfold, &|r| r.template_first_tm), 3),
            fmt_mean(&of(Method::Mapfold, &|r| r.template_best_tm), 3),
            fmt_mean(&of(Method::Mapfold, &|r| r.tm), 3),
            fmt_mean(&of(Method::Mapfold, &|r| r.best_model_tm), 3),
            fmt_mean(&of(Method::Mapfold, &|r| r.etm), 3),
            pearson(&etm_tm).map_or("–".into(), |r| format!("{r:.2}")),
            fmt_mean(&of(Method::Mapfold, &|r| r.seconds_ca), 1),
            fmt_mean(&of(Method::Mapfold, &|r| r.seconds_templates), 1),
            fmt_mean(&of(Method::Mapfold, &|r| r.seconds_assembly), 1),
            fmt_mean(&of(Method::Mapfold, &|r| r.seconds_models), 1),
        );
    }
    let all = etm_tm_pairs(rows.iter());
    let _ = writeln!(
        out,
        "\neTM-score against true TM-score over all maps: Pearson {} (n = {}; the paper: 0.858).",
        pearson(&all).map_or("–".into(), |r| format!("{r:.3}")),
        all.len()
    );
    let failed: Vec<&Row> = rows.iter().filter(|r| !r.ok()).collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "\n## Failed ({} rows)\n", failed.len());
        for r in failed {
            let _ = writeln!(
                out,
                "- {} {} {}: {}",
                r.target,
                r.map,
                r.method.as_str(),
                r.error.as_deref().unwrap_or("").replace('\n', " ")
            );
        }
    }
    out
}

/// The plots (module doc) as `NAME.svg` and `NAME.png` in `dir`; returns the stems written.
pub fn write_plots(dir: &Path, rows: &[Row]) -> Result<Vec<PathBuf>, FileError> {
    let secs = sections(rows);
    let mut written = Vec::new();
    let versus = |name: &str, base: Method, what: &str, f: &dyn Fn(&Row) -> Option<f64>| {
        let mut series = Vec::new();
        let (mut n, mut above) = (0, 0);
        for (k, s) in secs.iter().enumerate() {
            let xy: Vec<(f64, f64)> = paired(&s.values(base, f), &s.values(Method::Mapfold, f));
            n += xy.len();
            above += xy.iter().filter(|(x, y)| y > x).count();
            if !xy.is_empty() {
                series.push(Series {
                    name: s.short(),
                    points: xy,
                    colour: colour(k),
                });
            }
        }
        let plot = Scatter {
            title: format!("{what}: mapfold against {}", base.as_str()),
            x_label: format!("{what}, {}", base.as_str()),
            y_label: format!("{what}, mapfold"),
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            series,
            diagonal: true,
            note: Some(format!("n = {n}; mapfold higher on {above}")),
        };
        let stem = dir.join(name);
        write_plot(&stem, &plot).map(|_| stem)
    };
    written.push(versus(
        "model1_vs_no_map",
        Method::NoMap,
        "model 1 TM-score",
        &|r| r.tm,
    )?);
    written.push(versus(
        "model1_vs_rigid_fit",
        Method::RigidFit,
        "model 1 TM-score",
        &|r| r.tm,
    )?);
    written.push(versus(
        "crscore_vs_greedy",
        Method::GreedyCa,
        "Ca CRscore",
        &|r| r.crscore,
    )?);

    let by_set = |f: &dyn Fn(&Row) -> Option<(f64, f64)>| -> Vec<Series> {
        super::SETS
            .iter()
            .enumerate()
            .filter_map(|(k, set)| {
                let points: Vec<(f64, f64)> = rows
                    .iter()
                    .filter(|r| r.set == *set && r.method == Method::Mapfold && r.ok())
                    .filter_map(f)
                    .collect();
                (!points.is_empty()).then(|| Series {
                    name: set.to_string(),
                    points,
                    colour: colour(k),
                })
            })
            .collect()
    };
    let max_res = rows
        .iter()
        .map(|r| r.resolution)
        .filter(|r| r.is_finite())
        .fold(5.0f64, f64::max)
        .ceil();
    let plot = Scatter {
        title: "model 1 TM-score against map resolution".into(),
        x_label: "resolution (A)".into(),
        y_label: "model 1 TM-score".into(),
        x_range: (0.0, max_res),
        y_range: (0.0, 1.0),
        series: by_set(&|r| Some((r.resolution, r.tm?))),
        diagonal: false,
        note: None,
    };
    let stem = dir.join("tm_vs_resolution");
    write_plot(&stem, &plot)?;
    written.push(stem);
    let series = by_set(&|r| Some((r.tm?, r.etm?)));
    let xy: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .collect();
    let plot = Scatter {
        title: "eTM-score of model 1 against its true TM-score".into(),
        x_label: "TM-score".into(),
        y_label: "eTM-score".into(),
        x_range: (0.0, 1.0),
        y_range: (0.0, 1.0),
        series,
        diagonal: true,
        note: Some(format!(
            "n = {}, Pearson {}",
            xy.len(),
            pearson(&xy).map_or("-".into(), |r| format!("{r:.3}"))
        )),
    };
    let stem = dir.join("etm_vs_tm");
    write_plot(&stem, &plot)?;
    written.push(stem);
    Ok(written)
}

/// Writes `results.csv`, `table.md` and the plots into `dir`.
pub fn write_outputs(dir: &Path, rows: &[Row], info: &RunInfo) -> Result<(), FileError> {
    crate::io::write_atomically(
        &dir.join("results.csv"),
        super::results::to_csv(rows).as_bytes(),
    )?;
    crate::io::write_atomically(&dir.join("table.md"), table_markdown(rows, info).as_bytes())?;
    write_plots(dir, rows)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(set: &str, target: &str, bin: &str, m: Method, tm: f64) -> Row {
        let mut r = Row::new(set, target, 100, "sim0", m);
        r.bin = bin.into();
        r.resolution = 3.0;
        r.tm = Some(tm);
        r.rmsd = Some(10.0 * (1.0 - tm));
        r
    }

    #[test]
    fn table_has_the_papers_sections_counts_and_paired_p_values() {
        let mut rows = Vec::new();
        // Easy at high resolution (TM0 0.9) listed before Hard on purpose:
        // sections come out in set order, Hard first.
        for (k, (a, b)) in [(0.95, 0.80), (0.92, 0.85), (0.85, 0.84)]
            .iter()
            .enumerate()
        {
            let t = format!("e{k}");
            rows.push(row("test-easy", &t, "2-5", Method::Mapfold, *a));
            rows.push(row("test-easy", &t, "2-5", Method::NoMap, *b));
        }
        for (k, (a, b)) in [(0.6, 0.3), (0.4, 0.35), (0.55, 0.2), (0.3, 0.31)]
            .iter()
            .enumerate()
        {
            let t = format!("h{k}");
            rows.push(row("test-hard", &t, "5-15", Method::Mapfold, *a));
            rows.push(row("test-hard", &t, "5-15", Method::NoMap, *b));
        }
        let mut failed = row("test-hard", "h9", "5-15", Method::Mapfold, 0.99);
        failed.error = Some("map.mrc: broken".into());
        rows.push(failed);
        let secs = sections(&rows);
        assert_eq!(secs.len(), 2);
        assert_eq!((secs[0].set.as_str(), secs[0].tm0()), ("test-hard", 0.5));
        assert_eq!((secs[1].set.as_str(), secs[1].tm0()), ("test-easy", 0.9));
        let info = RunInfo {
            command: "mapfold bench".into(),
            machine: "test".into(),
            wall_seconds: 60.0,
        };
        let md = table_markdown(&rows, &info);
        let hard = md
            .find("## Hard targets, simulated maps, 5–15 Å (TM0 = 0.5)")
            .unwrap();
        let easy = md
            .find("## Easy targets, simulated maps, 2–5 Å (TM0 = 0.9)")
            .unwrap();
        assert!(hard < easy, "{md}");
        // Hard mapfold: mean (0.6+0.4+0.55+0.3)/4 = 0.4625, two above 0.5; the
        // failed row counts nowhere but in the failures.
        assert!(md.contains("| mapfold | 4 | 0.463 | 2 |"), "{md}");
        // Easy mapfold: 0.95 and 0.92 above 0.9.
        assert!(md.contains("| mapfold | 3 | 0.907 | 2 |"), "{md}");
        let a = [0.6, 0.4, 0.55, 0.3];
        let b = [0.3, 0.35, 0.2, 0.31];
        let t = paired_t_test(&a, &b).unwrap();
        let line = format!(
            "| {} | 4 | 0.290 | 0 | 7.1 | – | {} (Δ {:+.3}, n 4) |",
            Method::NoMap.title(),
            fmt_p(t.p),
            t.mean_difference
        );
        assert!(md.contains(&line), "no '{line}' in\n{md}");
        assert!(
            md.contains("## Failed (1 rows)") && md.contains("h9 sim0 mapfold: map.mrc: broken")
        );
    }
}
