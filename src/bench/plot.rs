//! Scatter plots for `mapfold bench`: one point per target, e.g. mapfold's
//! TM-score against a baseline's with the y = x diagonal (the paper's Fig. 2),
//! TM-score against map resolution, or eTM-score against the true TM-score.
//!
//! Plots are written as SVG 1.1 (for reports) and as 8-bit RGB PNG (RFC 2083,
//! for quick looks), both drawn here without a plotting crate: the PNG is
//! rasterised into an RGB buffer with a built-in 5×7 bitmap font and encoded with
//! flate2's zlib stream and CRC-32. Both formats share one layout, so a point
//! lands at the same place in either.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use flate2::write::ZlibEncoder;
use flate2::{Compression, Crc};

use crate::io::FileError;

/// One set of points drawn in one colour, with its legend entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub colour: [u8; 3],
}

/// A scatter plot. Points outside `x_range` × `y_range` and points with a NaN
/// or infinite coordinate are not drawn (see [`Scatter::hidden_points`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Scatter {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    pub series: Vec<Series>,
    /// Draw y = x (dashed, grey) where it crosses the frame.
    pub diagonal: bool,
    /// One line under the title, e.g. "n = 60, mapfold better on 41".
    pub note: Option<String>,
}

impl Default for Scatter {
    fn default() -> Self {
        Scatter {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            series: Vec::new(),
            diagonal: false,
            note: None,
        }
    }
}

/// Default palette colour `k` (cycles after 8): the Okabe–Ito colours, which
/// stay distinguishable under the common colour-vision deficiencies.
pub fn colour(k: usize) -> [u8; 3] {
    const OKABE_ITO: [[u8; 3]; 8] = [
        [0, 114, 178],   // blue
        [213, 94, 0],    // vermillion
        [0, 158, 115],   // bluish green
        [204, 121, 167], // reddish purple
        [230, 159, 0],   // orange
        [86, 180, 233],  // sky blue
        [240, 228, 66],  // yellow
        [0, 0, 0],       // black
    ];
    OKABE_ITO[k % OKABE_ITO.len()]
}

/// A range with round ends (multiples of a 1-2-5 tick step) covering every
/// finite value, for axes whose extent is not known in advance (resolution);
/// (0, 1) when there is no finite value.
pub fn auto_range(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return (0.0, 1.0);
    }
    let (lo, hi) = sane_range((lo, hi));
    let step = tick_step(hi - lo);
    ((lo / step).floor() * step, (hi / step).ceil() * step)
}

/// Writes `stem.svg` and `stem.png` (640×480), each atomically.
pub fn write_plot(stem: &Path, plot: &Scatter) -> Result<(), FileError> {
    let with_ext = |ext: &str| {
        let mut s = stem.as_os_str().to_owned();
        s.push(ext);
        std::path::PathBuf::from(s)
    };
    crate::io::write_atomically(&with_ext(".svg"), plot.to_svg().as_bytes())?;
    crate::io::write_atomically(&with_ext(".png"), &plot.to_png(640, 480))
}

// Layout sizes in units of `Layout::u` (1 in the SVG, the integer text scale in the PNG).
const PAD: f64 = 8.0;
const SMALL_H: f64 = 7.0; // cap height of small text (tick labels, note, legend)
const SMALL_ADV: f64 = 6.0; // advance of one small character
const BIG_H: f64 = 14.0; // cap height of the title and axis labels
const TICK: f64 = 5.0;
const POINT_R: f64 = 3.0;
const LEGEND_ROW: f64 = 14.0;

const BACKGROUND: [u8; 3] = [255, 255, 255];
const INK: [u8; 3] = [34, 34, 34];
const DIAGONAL: [u8; 3] = [150, 150, 150];
const LEGEND_EDGE: [u8; 3] = [200, 200, 200];

/// One axis: its (sanitised) range, tick positions and tick label precision.
#[derive(Debug, Clone)]
struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    decimals: usize,
}

/// A usable range from any input: ends swapped if reversed, widened if empty,
/// (0, 1) if not finite — so drawing never divides by zero.
fn sane_range((a, b): (f64, f64)) -> (f64, f64) {
    if !a.is_finite() || !b.is_finite() {
        return (0.0, 1.0);
    }
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    if hi - lo > f64::EPSILON * lo.abs().max(1.0) * 16.0 {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    }
}

/// A 1-2-5 × 10^k step giving about five ticks over `span`.
fn tick_step(span: f64) -> f64 {
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let m = raw / mag;
    let nice = if m < 1.5 {
        1.0
    } else if m < 3.0 {
        2.0
    } else if m < 7.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

impl Axis {
    fn new(range: (f64, f64)) -> Axis {
        let (lo, hi) = sane_range(range);
        let step = tick_step(hi - lo);
        let decimals = (-(step.log10() + 1e-9).floor()).max(0.0) as usize;
        let first = (lo / step - 1e-9).ceil() as i64;
        let mut ticks = Vec::new();
        for i in first..first + 30 {
            let v = i as f64 * step;
            if v > hi + step * 1e-9 {
                break;
            }
            ticks.push(v);
        }
        Axis {
            lo,
            hi,
            ticks,
            decimals,
        }
    }

    fn label(&self, v: f64) -> String {
        let s = format!("{:.*}", self.decimals, v);
        // "-0.0" from rounding reads as a different tick from "0.0".
        if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
            s[1..].to_string()
        } else {
            s
        }
    }

    fn contains(&self, v: f64) -> bool {
        v.is_finite() && v >= self.lo && v <= self.hi
    }

    fn fraction(&self, v: f64) -> f64 {
        (v - self.lo) / (self.hi - self.lo)
    }
}

/// Where everything goes, in pixels (PNG) or user units (SVG) of a `w`×`h` canvas.
#[derive(Debug, Clone)]
struct Layout {
    w: f64,
    h: f64,
    u: f64,
    /// Frame edges: left, right, top, bottom (top < bottom).
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    x: Axis,
    y: Axis,
}

impl Layout {
    fn new(plot: &Scatter, w: f64, h: f64, u: f64) -> Layout {
        let x = Axis::new(plot.x_range);
        let y = Axis::new(plot.y_range);
        let y_label_chars = y.ticks.iter().map(|&t| y.label(t).len()).max();
        let x_last_chars = x.ticks.last().map_or(0, |&t| x.label(t).len());
        let note = if plot.note.is_some() {
            6.0 + SMALL_H
        } else {
            0.0
        };
        let left =
            u * (PAD + BIG_H + 10.0 + y_label_chars.unwrap_or(1) as f64 * SMALL_ADV + 4.0 + TICK);
        let right = w - u * (16f64).max(x_last_chars as f64 * SMALL_ADV / 2.0 + 6.0);
        let top = u * (PAD + BIG_H + note + 14.0);
        let bottom = h - u * (TICK + 4.0 + SMALL_H + 10.0 + BIG_H + PAD);
        Layout {
            w,
            h,
            u,
            left,
            right: right.max(left + 1.0),
            top,
            bottom: bottom.max(top + 1.0),
            x,
            y,
        }
    }

    fn px(&self, v: f64) -> f64 {
        self.left + self.x.fraction(v) * (self.right - self.left)
    }

    fn py(&self, v: f64) -> f64 {
        self.bottom - self.y.fraction(v) * (self.bottom - self.top)
    }

    /// The part of y = x inside both ranges, as data coordinates.
    fn diagonal(&self) -> Option<(f64, f64)> {
        let lo = self.x.lo.max(self.y.lo);
        let hi = self.x.hi.min(self.y.hi);
        (lo < hi).then_some((lo, hi))
    }

    fn visible<'a>(&'a self, s: &'a Series) -> impl Iterator<Item = (f64, f64)> + 'a {
        s.points
            .iter()
            .filter(|&&(x, y)| self.x.contains(x) && self.y.contains(y))
            .map(|&(x, y)| (self.px(x), self.py(y)))
    }

    /// Legend box (left, top, width, height), bottom-right inside the frame,
    /// where points of a plot with the diagonal are rarest; `adv` is the width of
    /// one character.
    fn legend_box(&self, plot: &Scatter, adv: f64) -> Option<(f64, f64, f64, f64)> {
        if plot.series.len() < 2 {
            return None;
        }
        let u = self.u;
        let chars = plot
            .series
            .iter()
            .map(|s| s.name.chars().count())
            .max()
            .unwrap_or(0);
        let width = u * 24.0 + chars as f64 * adv;
        let height = u * (plot.series.len() as f64 * LEGEND_ROW + 6.0);
        Some((
            self.right - width - u * 6.0,
            self.bottom - height - u * 6.0,
            width,
            height,
        ))
    }
}

impl Scatter {
    /// Points not drawn: outside the ranges, or with a NaN or infinite coordinate.
    pub fn hidden_points(&self) -> usize {
        let x = Axis::new(self.x_range);
        let y = Axis::new(self.y_range);
        self.series
            .iter()
            .flat_map(|s| &s.points)
            .filter(|&&(px, py)| !(x.contains(px) && y.contains(py)))
            .count()
    }

    /// A standalone SVG 1.1 document, 640×480 user units.
    pub fn to_svg(&self) -> String {
        let l = Layout::new(self, 640.0, 480.0, 1.0);
        let (small, big) = (11.0, 16.0);
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>"#
        );
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif">"#,
            w = l.w,
            h = l.h
        );
        let _ = writeln!(
            s,
            r#"<rect x="0" y="0" width="{}" height="{}" fill="{}"/>"#,
            l.w,
            l.h,
            hex(BACKGROUND)
        );
        let text = |s: &mut String,
                    x: f64,
                    baseline: f64,
                    size: f64,
                    anchor: &str,
                    t: &str,
                    extra: &str| {
            let _ = writeln!(
                s,
                r#"<text x="{x:.1}" y="{baseline:.1}" font-size="{size}" text-anchor="{anchor}" fill="{}"{extra}>{}</text>"#,
                hex(INK),
                escape(t)
            );
        };
        text(
            &mut s,
            l.w / 2.0,
            PAD + BIG_H,
            big,
            "middle",
            &self.title,
            "",
        );
        if let Some(note) = &self.note {
            text(
                &mut s,
                l.w / 2.0,
                PAD + BIG_H + 6.0 + SMALL_H + 1.0,
                small,
                "middle",
                note,
                "",
            );
        }
        if let Some((lo, hi)) = l.diagonal().filter(|_| self.diagonal) {
            let _ = writeln!(
                s,
                r#"<line x1="{:.2}" y1="{:.2}" x2="{:.2}" y2="{:.2}" stroke="{}" stroke-width="1" stroke-dasharray="6,4"/>"#,
                l.px(lo),
                l.py(lo),
                l.px(hi),
                l.py(hi),
                hex(DIAGONAL)
            );
        }
        let _ = writeln!(
            s,
            r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="none" stroke="{}" stroke-width="1"/>"#,
            l.left,
            l.top,
            l.right - l.left,
            l.bottom - l.top,
            hex(INK)
        );
        for &t in &l.x.ticks {
            let x = l.px(t);
            let _ = writeln!(
                s,
                r#"<line x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{:.2}" stroke="{}" stroke-width="1"/>"#,
                l.bottom,
                l.bottom + TICK,
                hex(INK)
            );
            text(
                &mut s,
                x,
                l.bottom + TICK + 4.0 + SMALL_H + 1.0,
                small,
                "middle",
                &l.x.label(t),
                "",
            );
        }
        for &t in &l.y.ticks {
            let y = l.py(t);
            let _ = writeln!(
                s,
                r#"<line x1="{:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="{}" stroke-width="1"/>"#,
                l.left - TICK,
                l.left,
                hex(INK)
            );
            text(
                &mut s,
                l.left - TICK - 4.0,
                y + SMALL_H / 2.0 + 0.5,
                small,
                "end",
                &l.y.label(t),
                "",
            );
        }
        let cx = (l.left + l.right) / 2.0;
        text(&mut s, cx, l.h - PAD, big, "middle", &self.x_label, "");
        let (yx, yy) = (PAD + BIG_H, (l.top + l.bottom) / 2.0);
        let rotate = format!(r#" transform="rotate(-90 {yx:.1} {yy:.1})""#);
        text(&mut s, yx, yy, big, "middle", &self.y_label, &rotate);
        for series in &self.series {
            let _ = writeln!(s, r#"<g fill="{}">"#, hex(series.colour));
            for (x, y) in l.visible(series) {
                let _ = writeln!(s, r#"<circle cx="{x:.2}" cy="{y:.2}" r="{POINT_R}"/>"#);
            }
            let _ = writeln!(s, "</g>");
        }
        if let Some((x, y, w, h)) = l.legend_box(self, small * 0.6) {
            let _ = writeln!(
                s,
                r#"<rect x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}" fill="{}" fill-opacity="0.9" stroke="{}"/>"#,
                hex(BACKGROUND),
                hex(LEGEND_EDGE)
            );
            for (i, series) in self.series.iter().enumerate() {
                let row = y + 6.0 + i as f64 * LEGEND_ROW;
                let _ = writeln!(
                    s,
                    r#"<rect x="{:.2}" y="{:.2}" width="7" height="7" fill="{}"/>"#,
                    x + 8.0,
                    row,
                    hex(series.colour)
                );
                text(
                    &mut s,
                    x + 20.0,
                    row + SMALL_H,
                    small,
                    "start",
                    &series.name,
                    "",
                );
            }
        }
        s.push_str("</svg>\n");
        s
    }

    /// An 8-bit RGB PNG of `width`×`height` pixels (at least 1×1); text and
    /// margins scale with the image in whole multiples of 640×480.
    pub fn to_png(&self, width: u32, height: u32) -> Vec<u8> {
        let (width, height) = (width.max(1), height.max(1));
        let scale = (width / 640).min(height / 480).max(1) as i64;
        let u = scale as f64;
        let l = Layout::new(self, width as f64, height as f64, u);
        let mut c = Canvas::new(width as usize, height as usize);
        if self.diagonal {
            if let Some((lo, hi)) = l.diagonal() {
                let (a, b) = ((l.px(lo), l.py(lo)), (l.px(hi), l.py(hi)));
                c.line(a, b, scale, Some((6.0 * u, 4.0 * u)), DIAGONAL);
            }
        }
        let (x0, x1) = (l.left.round() as i64, l.right.round() as i64);
        let (y0, y1) = (l.top.round() as i64, l.bottom.round() as i64);
        c.fill_rect(x0, y0, x1 + scale, y0 + scale, INK);
        c.fill_rect(x0, y1, x1 + scale, y1 + scale, INK);
        c.fill_rect(x0, y0, x0 + scale, y1 + scale, INK);
        c.fill_rect(x1, y0, x1 + scale, y1 + scale, INK);
        let small_w = |t: &str| t.chars().count() as f64 * SMALL_ADV * u;
        for &t in &l.x.ticks {
            let x = l.px(t).round() as i64;
            c.fill_rect(x, y1, x + scale, y1 + ((TICK + 1.0) * u) as i64, INK);
            let label = l.x.label(t);
            let left = l.px(t) - small_w(&label) / 2.0;
            c.text(&label, left, l.bottom + (TICK + 4.0) * u, scale, false, INK);
        }
        for &t in &l.y.ticks {
            let y = l.py(t).round() as i64;
            c.fill_rect(x0 - (TICK * u) as i64, y, x0, y + scale, INK);
            let label = l.y.label(t);
            let left = l.left - (TICK + 4.0) * u - small_w(&label);
            c.text(&label, left, l.py(t) - SMALL_H * u / 2.0, scale, false, INK);
        }
        // Titles and axis labels at twice the small size, unless that does not fit.
        let big = |t: &str, room: f64| {
            if t.chars().count() as f64 * SMALL_ADV * u * 2.0 <= room {
                2 * scale
            } else {
                scale
            }
        };
        let centred = |c: &mut Canvas, t: &str, cx: f64, top: f64, room: f64| {
            let s = big(t, room);
            let w = t.chars().count() as f64 * SMALL_ADV * s as f64;
            c.text(t, cx - w / 2.0, top, s, false, INK);
        };
        centred(&mut c, &self.title, l.w / 2.0, PAD * u, l.w - 2.0 * PAD * u);
        if let Some(note) = &self.note {
            let w = small_w(note);
            c.text(
                note,
                (l.w - w) / 2.0,
                (PAD + BIG_H + 6.0) * u,
                scale,
                false,
                INK,
            );
        }
        let label_top = l.h - (PAD + BIG_H) * u;
        centred(
            &mut c,
            &self.x_label,
            (l.left + l.right) / 2.0,
            label_top,
            l.w,
        );
        let s = big(&self.y_label, l.h);
        let len = self.y_label.chars().count() as f64 * SMALL_ADV * s as f64;
        let bottom = (l.top + l.bottom) / 2.0 + len / 2.0;
        c.text(&self.y_label, PAD * u, bottom, s, true, INK);
        let r = (POINT_R * u).round() as i64;
        for series in &self.series {
            for (x, y) in l.visible(series) {
                c.disc(x, y, r, series.colour);
            }
        }
        if let Some((x, y, w, h)) = l.legend_box(self, SMALL_ADV * u) {
            let (xa, ya) = (x.round() as i64, y.round() as i64);
            let (xb, yb) = ((x + w).round() as i64, (y + h).round() as i64);
            c.fill_rect(xa, ya, xb, yb, LEGEND_EDGE);
            c.fill_rect(xa + scale, ya + scale, xb - scale, yb - scale, BACKGROUND);
            for (i, series) in self.series.iter().enumerate() {
                let row = y + (6.0 + i as f64 * LEGEND_ROW) * u;
                let (mx, my) = ((x + 8.0 * u).round() as i64, row.round() as i64);
                c.fill_rect(mx, my, mx + 7 * scale, my + 7 * scale, series.colour);
                c.text(&series.name, x + 20.0 * u, row, scale, false, INK);
            }
        }
        c.encode_png()
    }
}

fn hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Text content and attribute values made safe for XML.
fn escape(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for ch in t.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab/newline are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// An RGB8 raster, row-major from the top-left.
struct Canvas {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Canvas {
        let mut rgb = Vec::with_capacity(w * h * 3);
        for _ in 0..w * h {
            rgb.extend_from_slice(&BACKGROUND);
        }
        Canvas { w, h, rgb }
    }

    fn set(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as usize) < self.w && (y as usize) < self.h {
            let i = (y as usize * self.w + x as usize) * 3;
            self.rgb[i..i + 3].copy_from_slice(&c);
        }
    }

    /// Fills [x0, x1) × [y0, y1), clipped to the canvas.
    fn fill_rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3]) {
        let (x0, x1) = (x0.max(0), x1.min(self.w as i64));
        let (y0, y1) = (y0.max(0), y1.min(self.h as i64));
        for y in y0..y1 {
            for x in x0..x1 {
                self.set(x, y, c);
            }
        }
    }

    /// A line `thick` pixels wide; `dash` = (on, off) lengths in pixels.
    fn line(
        &mut self,
        a: (f64, f64),
        b: (f64, f64),
        thick: i64,
        dash: Option<(f64, f64)>,
        c: [u8; 3],
    ) {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt();
        let steps = dx.abs().max(dy.abs()).ceil().max(1.0) as i64;
        for i in 0..=steps {
            let t = i as f64 / steps as f64;
            if let Some((on, off)) = dash {
                if (t * len) % (on + off) >= on {
                    continue;
                }
            }
            let (x, y) = ((a.0 + t * dx).round() as i64, (a.1 + t * dy).round() as i64);
            self.fill_rect(x, y, x + thick, y + thick, c);
        }
    }

    fn disc(&mut self, cx: f64, cy: f64, r: i64, c: [u8; 3]) {
        let (cx, cy) = (cx.round() as i64, cy.round() as i64);
        for dy in -r..=r {
            for dx in -r..=r {
                // r² + r rounds the disc's edge instead of leaving single-pixel tips.
                if dx * dx + dy * dy <= r * r + r {
                    self.set(cx + dx, cy + dy, c);
                }
            }
        }
    }

    /// Draws `t` with the top-left of its first glyph at (x, y); `up` runs the
    /// text bottom-to-top from (x, y) as its bottom-left corner instead.
    fn text(&mut self, t: &str, x: f64, y: f64, scale: i64, up: bool, c: [u8; 3]) {
        let (x, y) = (x.round() as i64, y.round() as i64);
        for (k, ch) in t.chars().enumerate() {
            let g = glyph(ch);
            for (row, bits) in g.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0b10000 >> col) == 0 {
                        continue;
                    }
                    let gx = (k as i64 * 6 + col) * scale;
                    let gy = row as i64 * scale;
                    let (px, py) = if up {
                        (x + gy, y - gx - scale)
                    } else {
                        (x + gx, y + gy)
                    };
                    self.fill_rect(px, py, px + scale, py + scale, c);
                }
            }
        }
    }

    /// PNG file bytes: signature, IHDR, one IDAT (zlib stream of rows, each with
    /// filter type 0), IEND (RFC 2083 §§3, 4.1).
    fn encode_png(&self) -> Vec<u8> {
        let mut out = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
        let mut ihdr = Vec::with_capacity(13);
        ihdr.extend_from_slice(&(self.w as u32).to_be_bytes());
        ihdr.extend_from_slice(&(self.h as u32).to_be_bytes());
        // bit depth 8, colour type 2 (RGB), compression 0, filter 0, no interlace
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(&mut out, b"IHDR", &ihdr);
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        let row = self.w * 3;
        for y in 0..self.h {
            // Writing into a Vec cannot fail.
            let _ = z.write_all(&[0]);
            let _ = z.write_all(&self.rgb[y * row..(y + 1) * row]);
        }
        let idat = z.finish().unwrap_or_default();
        chunk(&mut out, b"IDAT", &idat);
        chunk(&mut out, b"IEND", &[]);
        out
    }
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// The glyph for `ch`: printable ASCII as itself, common accented Latin letters
/// and a few symbols as their closest ASCII character, anything else as '?'.
fn glyph(ch: char) -> &'static [u8; 8] {
    let ascii = match ch {
        ' '..='~' => ch,
        'À'..='Å' | '\u{212B}' => 'A',
        'à'..='å' | 'α' => 'a',
        'Ç' => 'C',
        'ç' => 'c',
        'È'..='Ë' => 'E',
        'è'..='ë' => 'e',
        'Ì'..='Ï' => 'I',
        'ì'..='ï' => 'i',
        'Ñ' => 'N',
        'ñ' => 'n',
        'Ò'..='Ö' | 'Ø' => 'O',
        'ò'..='ö' | 'ø' => 'o',
        'Ù'..='Ü' => 'U',
        'ù'..='ü' => 'u',
        'Ý' => 'Y',
        'ý' | 'ÿ' => 'y',
        'σ' | 'ß' => 's',
        '×' => 'x',
        '–' | '—' | '−' => '-',
        '‘' | '’' => '\'',
        '“' | '”' => '"',
        '·' | '•' => '.',
        '≤' => '<',
        '≥' => '>',
        '\t' => ' ',
        _ => '?',
    };
    &FONT[ascii as usize - 0x20]
}

/// 5×7 glyphs for ' '..='~', one row per byte (bit 4 = leftmost column); the
/// eighth row holds descenders.
#[rustfmt::skip]
const FONT: [[u8; 8]; 95] = [
    [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // ' '
    [0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00000, 0b00100, 0b00000], // !
    [0b01010, 0b01010, 0b01010, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // "
    [0b01010, 0b01010, 0b11111, 0b01010, 0b11111, 0b01010, 0b01010, 0b00000], // #
    [0b00100, 0b01111, 0b10100, 0b01110, 0b00101, 0b11110, 0b00100, 0b00000], // $
    [0b11000, 0b11001, 0b00010, 0b00100, 0b01000, 0b10011, 0b00011, 0b00000], // %
    [0b01100, 0b10010, 0b10100, 0b01000, 0b10101, 0b10010, 0b01101, 0b00000], // &
    [0b00100, 0b00100, 0b01000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // '
    [0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010, 0b00000], // (
    [0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000, 0b00000], // )
    [0b00000, 0b00100, 0b10101, 0b01110, 0b10101, 0b00100, 0b00000, 0b00000], // *
    [0b00000, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0b00000, 0b00000], // +
    [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b00100, 0b01000], // ,
    [0b00000, 0b00000, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000, 0b00000], // -
    [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b01100, 0b00000], // .
    [0b00001, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b10000, 0b00000], // /
    [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110, 0b00000], // 0
    [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110, 0b00000], // 1
    [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111, 0b00000], // 2
    [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110, 0b00000], // 3
    [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010, 0b00000], // 4
    [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110, 0b00000], // 5
    [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110, 0b00000], // 6
    [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00000], // 7
    [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110, 0b00000], // 8
    [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100, 0b00000], // 9
    [0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b01100, 0b00000, 0b00000], // :
    [0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b00100, 0b01000, 0b00000], // ;
    [0b00010, 0b00100, 0b01000, 0b10000, 0b01000, 0b00100, 0b00010, 0b00000], // <
    [0b00000, 0b00000, 0b11111, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000], // =
    [0b01000, 0b00100, 0b00010, 0b00001, 0b00010, 0b00100, 0b01000, 0b00000], // >
    [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b00000, 0b00100, 0b00000], // ?
    [0b01110, 0b10001, 0b00001, 0b01101, 0b10101, 0b10101, 0b01110, 0b00000], // @
    [0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001, 0b00000], // A
    [0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110, 0b00000], // B
    [0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110, 0b00000], // C
    [0b11100, 0b10010, 0b10001, 0b10001, 0b10001, 0b10010, 0b11100, 0b00000], // D
    [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111, 0b00000], // E
    [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000, 0b00000], // F
    [0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111, 0b00000], // G
    [0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001, 0b00000], // H
    [0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110, 0b00000], // I
    [0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100, 0b00000], // J
    [0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001, 0b00000], // K
    [0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111, 0b00000], // L
    [0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001, 0b00000], // M
    [0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001, 0b00000], // N
    [0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110, 0b00000], // O
    [0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000, 0b00000], // P
    [0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101, 0b00000], // Q
    [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001, 0b00000], // R
    [0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110, 0b00000], // S
    [0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00000], // T
    [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110, 0b00000], // U
    [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00000], // V
    [0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010, 0b00000], // W
    [0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001, 0b00000], // X
    [0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100, 0b00000], // Y
    [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111, 0b00000], // Z
    [0b01110, 0b01000, 0b01000, 0b01000, 0b01000, 0b01000, 0b01110, 0b00000], // [
    [0b10000, 0b10000, 0b01000, 0b00100, 0b00010, 0b00001, 0b00001, 0b00000], // \
    [0b01110, 0b00010, 0b00010, 0b00010, 0b00010, 0b00010, 0b01110, 0b00000], // ]
    [0b00100, 0b01010, 0b10001, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // ^
    [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b11111], // _
    [0b01000, 0b00100, 0b00010, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // `
    [0b00000, 0b00000, 0b01110, 0b00001, 0b01111, 0b10001, 0b01111, 0b00000], // a
    [0b10000, 0b10000, 0b10110, 0b11001, 0b10001, 0b10001, 0b11110, 0b00000], // b
    [0b00000, 0b00000, 0b01110, 0b10000, 0b10000, 0b10001, 0b01110, 0b00000], // c
    [0b00001, 0b00001, 0b01101, 0b10011, 0b10001, 0b10001, 0b01111, 0b00000], // d
    [0b00000, 0b00000, 0b01110, 0b10001, 0b11111, 0b10000, 0b01110, 0b00000], // e
    [0b00110, 0b01001, 0b01000, 0b11100, 0b01000, 0b01000, 0b01000, 0b00000], // f
    [0b00000, 0b00000, 0b01111, 0b10001, 0b10001, 0b01111, 0b00001, 0b01110], // g
    [0b10000, 0b10000, 0b10110, 0b11001, 0b10001, 0b10001, 0b10001, 0b00000], // h
    [0b00100, 0b00000, 0b01100, 0b00100, 0b00100, 0b00100, 0b01110, 0b00000], // i
    [0b00010, 0b00000, 0b00110, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100], // j
    [0b10000, 0b10000, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b00000], // k
    [0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110, 0b00000], // l
    [0b00000, 0b00000, 0b11010, 0b10101, 0b10101, 0b10001, 0b10001, 0b00000], // m
    [0b00000, 0b00000, 0b10110, 0b11001, 0b10001, 0b10001, 0b10001, 0b00000], // n
    [0b00000, 0b00000, 0b01110, 0b10001, 0b10001, 0b10001, 0b01110, 0b00000], // o
    [0b00000, 0b00000, 0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000], // p
    [0b00000, 0b00000, 0b01111, 0b10001, 0b10001, 0b01111, 0b00001, 0b00001], // q
    [0b00000, 0b00000, 0b10110, 0b11001, 0b10000, 0b10000, 0b10000, 0b00000], // r
    [0b00000, 0b00000, 0b01111, 0b10000, 0b01110, 0b00001, 0b11110, 0b00000], // s
    [0b01000, 0b01000, 0b11100, 0b01000, 0b01000, 0b01001, 0b00110, 0b00000], // t
    [0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b10011, 0b01101, 0b00000], // u
    [0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00000], // v
    [0b00000, 0b00000, 0b10001, 0b10001, 0b10101, 0b10101, 0b01010, 0b00000], // w
    [0b00000, 0b00000, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b00000], // x
    [0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b01111, 0b00001, 0b01110], // y
    [0b00000, 0b00000, 0b11111, 0b00010, 0b00100, 0b01000, 0b11111, 0b00000], // z
    [0b00010, 0b00100, 0b00100, 0b01000, 0b00100, 0b00100, 0b00010, 0b00000], // {
    [0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00000], // |
    [0b01000, 0b00100, 0b00100, 0b00010, 0b00100, 0b00100, 0b01000, 0b00000], // }
    [0b00000, 0b00000, 0b01000, 0b10101, 0b00010, 0b00000, 0b00000, 0b00000], // ~
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    /// Bitwise CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320), written
    /// independently of flate2 to check the chunk CRCs.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// Decodes a PNG written by `to_png`, checking its structure on the way:
    /// returns (width, height, RGB rows without filter bytes).
    fn decode(png: &[u8]) -> (usize, usize, Vec<u8>) {
        assert_eq!(&png[..8], &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]);
        let mut pos = 8;
        let mut kinds = Vec::new();
        let (mut w, mut h) = (0, 0);
        let mut idat = Vec::new();
        while pos < png.len() {
            let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
            let kind = &png[pos + 4..pos + 8];
            let data = &png[pos + 8..pos + 8 + len];
            let stored = u32::from_be_bytes(png[pos + 8 + len..pos + 12 + len].try_into().unwrap());
            assert_eq!(
                crc32(&png[pos + 4..pos + 8 + len]),
                stored,
                "CRC of {kind:?}"
            );
            match kind {
                b"IHDR" => {
                    assert_eq!(len, 13);
                    w = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                    h = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                    assert_eq!(&data[8..13], &[8, 2, 0, 0, 0], "8-bit RGB, no interlace");
                }
                b"IDAT" => idat.extend_from_slice(data),
                _ => {}
            }
            kinds.push(kind.to_vec());
            pos += 12 + len;
        }
        assert_eq!(pos, png.len());
        assert_eq!(kinds.first().map(Vec::as_slice), Some(&b"IHDR"[..]));
        assert_eq!(kinds.last().map(Vec::as_slice), Some(&b"IEND"[..]));
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&idat[..])
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw.len(), h * (1 + 3 * w));
        let mut rgb = Vec::with_capacity(w * h * 3);
        for row in raw.chunks(1 + 3 * w) {
            assert_eq!(row[0], 0, "filter type 0");
            rgb.extend_from_slice(&row[1..]);
        }
        (w, h, rgb)
    }

    fn pixel(img: &(usize, usize, Vec<u8>), x: f64, y: f64) -> [u8; 3] {
        let i = (y.round() as usize * img.0 + x.round() as usize) * 3;
        [img.2[i], img.2[i + 1], img.2[i + 2]]
    }

    fn tm_plot() -> Scatter {
        Scatter {
            title: "Model 1 TM-score, mapfold vs baseline".into(),
            x_label: "baseline TM-score".into(),
            y_label: "mapfold TM-score".into(),
            series: vec![
                Series {
                    name: "test-hard".into(),
                    points: vec![(0.3, 0.5), (0.6, 0.55), (f64::NAN, 0.2), (1.5, 0.5)],
                    colour: colour(0),
                },
                Series {
                    name: "test-easy".into(),
                    points: vec![(0.8, 0.9), (0.7, f64::INFINITY)],
                    colour: colour(1),
                },
            ],
            diagonal: true,
            note: Some("n = 3, mapfold better on 2".into()),
            ..Scatter::default()
        }
    }

    #[test]
    fn crc32_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn png_decodes_structurally() {
        // Odd, non-square size so that swapped or rounded dimensions show.
        let img = decode(&tm_plot().to_png(333, 211));
        assert_eq!((img.0, img.1), (333, 211));
        let img = decode(&tm_plot().to_png(1280, 960));
        assert_eq!((img.0, img.1), (1280, 960));
    }

    #[test]
    fn point_lands_on_its_pixel() {
        let red = [200, 30, 40];
        let plot = Scatter {
            x_range: (0.0, 1.0),
            y_range: (0.0, 2.0),
            series: vec![Series {
                name: "one".into(),
                points: vec![(0.25, 1.5)],
                colour: red,
            }],
            diagonal: true,
            ..Scatter::default()
        };
        let img = decode(&plot.to_png(640, 480));
        let l = Layout::new(&plot, 640.0, 480.0, 1.0);
        // The frame is drawn where the layout says (dark left and bottom edges).
        assert_eq!(pixel(&img, l.left, (l.top + l.bottom) / 2.0), INK);
        assert_eq!(pixel(&img, (l.left + l.right) / 2.0, l.bottom), INK);
        // x = 0.25 of [0, 1] is a quarter across; y = 1.5 of [0, 2] three quarters up.
        let at = |fx: f64, fy: f64| {
            let x = l.left + fx * (l.right - l.left);
            let y = l.bottom - fy * (l.bottom - l.top);
            pixel(&img, x, y)
        };
        assert_eq!(at(0.25, 0.75), red);
        // Two pixels off the centre is still inside the disc of radius 3.
        assert_eq!(
            pixel(
                &img,
                l.left + 0.25 * (l.right - l.left) + 2.0,
                l.bottom - 0.75 * (l.bottom - l.top)
            ),
            red
        );
        // The mirrored position (axes swapped) and a far corner stay background.
        assert_eq!(at(0.75, 0.25), BACKGROUND);
        assert_eq!(at(0.9, 0.1), BACKGROUND);
        assert!(
            !img.2.chunks(3).any(|p| p == [0, 114, 178]),
            "no default colour"
        );
    }

    #[test]
    fn svg_has_one_circle_per_visible_point_and_escapes_text() {
        let mut plot = tm_plot();
        plot.title = "a < b & c".into();
        let svg = plot.to_svg();
        // 3 finite in-range points; NaN, inf and x = 1.5 are not drawn.
        assert_eq!(svg.matches("<circle").count(), 3);
        assert_eq!(plot.hidden_points(), 3);
        assert!(svg.contains(">a &lt; b &amp; c</text>"));
        assert!(!svg.contains("a < b"));
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains(r#"version="1.1""#));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        assert_eq!(svg.matches("<g ").count(), svg.matches("</g>").count());
        // Legend entries for both series, the diagonal, round tick labels.
        assert!(svg.contains(">test-hard</text>") && svg.contains(">test-easy</text>"));
        assert!(svg.contains("stroke-dasharray"));
        for t in ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"] {
            assert!(svg.contains(&format!(">{t}</text>")), "tick {t}");
        }
    }

    #[test]
    fn ticks_are_round_numbers() {
        let ticks = |r| {
            let a = Axis::new(r);
            a.ticks.iter().map(|&t| a.label(t)).collect::<Vec<_>>()
        };
        assert_eq!(
            ticks((0.0, 1.0)),
            ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
        );
        assert_eq!(ticks((2.0, 10.0)), ["2", "4", "6", "8", "10"]);
        assert_eq!(
            ticks((-0.3, 0.3)),
            ["-0.3", "-0.2", "-0.1", "0.0", "0.1", "0.2", "0.3"]
        );
        assert_eq!(ticks((3.2, 7.9)), ["4", "5", "6", "7"]);
        assert_eq!(auto_range([3.2, 7.9, f64::NAN]), (3.0, 8.0));
        assert_eq!(auto_range([]), (0.0, 1.0));
    }

    #[test]
    fn nan_empty_and_odd_ranges_do_not_panic() {
        let plots = [
            Scatter::default(),
            Scatter {
                x_range: (f64::NAN, 1.0),
                y_range: (1.0, 1.0),
                series: vec![
                    Series {
                        name: String::new(),
                        points: vec![],
                        colour: colour(2),
                    },
                    Series {
                        name: "nan".into(),
                        points: vec![(f64::NAN, f64::NAN)],
                        colour: colour(3),
                    },
                ],
                diagonal: true,
                ..Scatter::default()
            },
            Scatter {
                x_range: (5.0, -5.0),
                y_range: (f64::NEG_INFINITY, f64::INFINITY),
                series: vec![Series {
                    name: "x".into(),
                    points: vec![(0.0, 0.5)],
                    colour: colour(9),
                }],
                diagonal: true,
                ..Scatter::default()
            },
        ];
        for plot in &plots {
            assert!(plot.to_svg().contains("</svg>"));
            for (w, h) in [(0, 0), (1, 1), (17, 9), (640, 480)] {
                let img = decode(&plot.to_png(w, h));
                assert_eq!((img.0, img.1), (w.max(1) as usize, h.max(1) as usize));
            }
        }
        assert_eq!(plots[1].hidden_points(), 1);
    }

    #[test]
    fn non_ascii_falls_back_to_close_glyphs() {
        assert_eq!(glyph('Å'), glyph('A'));
        assert_eq!(glyph('\u{212B}'), glyph('A'));
        assert_eq!(glyph('é'), glyph('e'));
        assert_eq!(glyph('中'), glyph('?'));
        assert_ne!(glyph('A'), glyph('?'));
        // Every printable ASCII glyph except space has ink.
        assert!(('!'..='~').all(|c| glyph(c).iter().any(|&r| r != 0)));
    }

    #[test]
    fn write_plot_writes_svg_and_png() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("fig2.tm");
        write_plot(&stem, &tm_plot()).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("fig2.tm.svg")).unwrap();
        assert_eq!(svg, tm_plot().to_svg());
        let png = std::fs::read(dir.path().join("fig2.tm.png")).unwrap();
        let img = decode(&png);
        assert_eq!((img.0, img.1), (640, 480));
        let missing = dir.path().join("no/such/dir/fig");
        let err = write_plot(&missing, &tm_plot()).unwrap_err().to_string();
        assert!(err.contains("no/such/dir/fig.svg"), "{err}");
    }
}
