//! Plots: each a pure function from the page [`State`](crate::state::State) to a drawing.
//!
//! Every plot is a small value type extracted from the state (`from_state`), so that the page can
//! compare it with the previous one (`PartialEq`) and redraw only on change. Drawing is generic over
//! the plotters [`DrawingBackend`], so the same code draws on a `<canvas>` (plotters-canvas) and to
//! SVG ([`to_svg`], for export and the native tests); [`PlotData::csv`] gives the data behind it.
//!
//! Conventions shared by all plots:
//! * an estimator is identified by colour **and** marker ([`look`]), never by colour alone;
//! * exact (or quadrature) figures are drawn solid / with filled markers, Monte-Carlo figures
//!   lighter or hatched / with hollow markers and ±2 standard-error bars;
//! * NaN and ∞ are never drawn; log axes only ever see positive values, snapped to whole decades;
//! * everything is clipped to the plotting area by hand (plotters does not clip);
//! * every data point drawn is also recorded as a [`Probe`] (series, x, y, ± s.e., where it is
//!   drawn), so the page can show the values under the pointer and step through them with the
//!   keyboard: one call per point after the mesh, `probe::point(pa, &fr, &th, Probe::new(series,
//!   x, y).se(se).names("samples", "mean"))` (or `probe::at_pixel` for a point placed in pixels).
//!   Probes are recorded only inside [`recorded`] (the page's canvas); exports draw outside it and
//!   are unchanged. A new plot adds its probes and a line to `every_plot_records_its_points_for_the_hover`.

use plotters::coord::Shift;
use plotters::prelude::*;
use stochgrad_core::estimators::catalogue;

mod agreement;
mod backend;
mod bars;
mod convergence;
mod digits;
mod distribution;
mod draw;
mod field;
mod kit;
mod logit_sweep;
pub mod probe;
mod race;
mod simplex;
mod sweep;
mod tau_sweep;
mod width_sweep;

#[cfg(test)]
mod tests;

pub use agreement::{AgreeSeries, Agreement};
pub use backend::PlotBackend;
pub use bars::{BarGroup, Bars};
pub use convergence::{ConvSeries, Convergence};
pub use digits::{strip_svg, zero_floor, DigitsBars, DigitsRace, DigitsSeries};
pub use distribution::{DistPlot, DistSeries};
pub use draw::{Curve, DrawSeries, OneDraw};
pub use field::FieldPlot;
pub use logit_sweep::LogitSweep;
pub use probe::{recorded, Probe};
pub use race::{RacePlot, RaceSeries};
pub use simplex::Simplex;
pub use sweep::SweepSeries;
pub use tau_sweep::TauSweep;
pub use width_sweep::WidthSweep;

/// How to draw: device pixel ratio, colour scheme, lecture mode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Style {
    /// Device pixel ratio: multiplies font sizes, line widths, marker sizes and margins.
    pub scale: f64,
    /// Light text and axes on a dark background.
    pub dark: bool,
    /// Larger type (× 1.4) and thicker lines (3 px instead of 2).
    pub lecture: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style { scale: 1.0, dark: false, lecture: false }
    }
}

/// Marker shapes (all drawn as polygons, so each has a filled and a hollow form).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
    Plus,
    TriangleDown,
    Star,
}

impl Marker {
    /// Every shape.
    pub const ALL: [Marker; 8] = [
        Marker::Circle,
        Marker::Square,
        Marker::Triangle,
        Marker::Diamond,
        Marker::Cross,
        Marker::Plus,
        Marker::TriangleDown,
        Marker::Star,
    ];

    /// The outline of the marker of "radius" `r` centred at the origin (y down, pixels).
    pub fn outline(self, r: f64) -> Vec<(f64, f64)> {
        use std::f64::consts::PI;
        let polar = |n: usize, radius: &dyn Fn(usize) -> f64, phase: f64| -> Vec<(f64, f64)> {
            (0..n)
                .map(|i| {
                    let a = phase + 2.0 * PI * i as f64 / n as f64;
                    let rr = radius(i);
                    (rr * a.cos(), rr * a.sin())
                })
                .collect()
        };
        match self {
            Marker::Circle => polar(16, &|_| r, 0.0),
            Marker::Square => {
                let s = 0.85 * r;
                vec![(-s, -s), (s, -s), (s, s), (-s, s)]
            }
            Marker::Triangle => vec![(0.0, -1.15 * r), (r, 0.6 * r), (-r, 0.6 * r)],
            Marker::TriangleDown => vec![(0.0, 1.15 * r), (-r, -0.6 * r), (r, -0.6 * r)],
            Marker::Diamond => vec![(0.0, -1.2 * r), (0.85 * r, 0.0), (0.0, 1.2 * r), (-0.85 * r, 0.0)],
            Marker::Plus | Marker::Cross => {
                let (w, l) = (0.38 * r, 1.1 * r);
                let plus = vec![
                    (-w, -l),
                    (w, -l),
                    (w, -w),
                    (l, -w),
                    (l, w),
                    (w, w),
                    (w, l),
                    (-w, l),
                    (-w, w),
                    (-l, w),
                    (-l, -w),
                    (-w, -w),
                ];
                if self == Marker::Plus {
                    plus
                } else {
                    let c = std::f64::consts::FRAC_1_SQRT_2;
                    plus.into_iter().map(|(x, y)| (c * (x - y), c * (x + y))).collect()
                }
            }
            Marker::Star => polar(10, &|i| if i % 2 == 0 { 1.3 * r } else { 0.55 * r }, -PI / 2.0),
        }
    }

    /// An SVG `points` attribute of the outline centred at (`cx`, `cy`).
    fn svg_points(self, cx: f64, cy: f64, r: f64) -> String {
        self.outline(r).iter().map(|(x, y)| format!("{:.2},{:.2}", cx + x, cy + y)).collect::<Vec<_>>().join(" ")
    }
}

/// Colour, marker and line pattern of an estimator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Look {
    pub color: RGBColor,
    /// The same colour as a CSS hex string, for the page's legend swatches.
    pub css: &'static str,
    pub marker: Marker,
    /// The estimator's own line pattern, for places where a line stands for the estimator alone
    /// (the page's legend swatches). Inside the plots, solid/dashed encodes *what* a line is
    /// (running mean vs exact expectation, variance vs bias²), so identity there rests on colour
    /// and marker.
    pub dashed: bool,
}

impl Look {
    /// A small standalone inline SVG swatch (a short line with the marker) for the page's legend,
    /// `px` CSS pixels high and twice as wide.
    pub fn swatch_svg(&self, px: u32) -> String {
        let (w, h) = (2.0 * px as f64, px as f64);
        let dash = if self.dashed { r#" stroke-dasharray="4 2""# } else { "" };
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" aria-hidden="true"><line x1="1" y1="{y}" x2="{x2}" y2="{y}" stroke="{c}" stroke-width="2"{dash}/><polygon points="{p}" fill="{c}"/></svg>"#,
            y = h / 2.0,
            x2 = w - 1.0,
            c = self.css,
            p = self.marker.svg_points(w / 2.0, h / 2.0, h * 0.28),
        )
    }
}

/// The palette, by registry index: the Okabe–Ito colours first (its black is kept for the exact
/// gradient, its yellow is too faint on white), then further colours that stay apart from them and
/// read on both light and dark backgrounds. The estimators selected on first load (reinforce,
/// reinforce-optimal, st, st-sigmoid, concrete) get the most distinct colours and shapes.
const PALETTE: [(RGBColor, &str, Marker, bool); 23] = [
    (RGBColor(0x00, 0x72, 0xB2), "#0072B2", Marker::Circle, false), // reinforce: blue
    (RGBColor(0x56, 0xB4, 0xE9), "#56B4E9", Marker::Square, true),  // reinforce-ma: sky blue
    (RGBColor(0x00, 0x9E, 0x73), "#009E73", Marker::Triangle, false), // reinforce-optimal: bluish green
    (RGBColor(0x75, 0x70, 0xB3), "#7570B3", Marker::Diamond, true), // reinforce-loo: violet
    (RGBColor(0x99, 0x77, 0x00), "#997700", Marker::TriangleDown, false), // arm: ochre
    (RGBColor(0xE7, 0x29, 0x8A), "#E7298A", Marker::Plus, true),    // disarm: magenta
    (RGBColor(0x66, 0xA6, 0x1E), "#66A61E", Marker::Star, false),   // local-expectation: leaf green
    (RGBColor(0x8C, 0x56, 0x4B), "#8C564B", Marker::Cross, true),   // muprop: brown
    (RGBColor(0xD5, 0x5E, 0x00), "#D55E00", Marker::Square, false), // st: vermillion
    (RGBColor(0xCC, 0x79, 0xA7), "#CC79A7", Marker::Diamond, true), // st-sigmoid: reddish purple
    (RGBColor(0x7F, 0x7F, 0x7F), "#7F7F7F", Marker::Star, false),   // st-tempered: grey
    (RGBColor(0xE6, 0x9F, 0x00), "#E69F00", Marker::TriangleDown, true), // concrete: orange
    (RGBColor(0xB2, 0x18, 0x2B), "#B2182B", Marker::Triangle, false), // st-gumbel: crimson
    (RGBColor(0x17, 0xBE, 0xCF), "#17BECF", Marker::Circle, true),  // ar: cyan
    (RGBColor(0xBC, 0xBD, 0x22), "#BCBD22", Marker::Triangle, true), // darn: olive
    (RGBColor(0xE3, 0x77, 0xC2), "#E377C2", Marker::Star, true),    // reinmax: pink
    (RGBColor(0x35, 0x97, 0x8F), "#35978F", Marker::Diamond, false), // gapped-st: teal
    (RGBColor(0x8E, 0x01, 0x52), "#8E0152", Marker::Plus, false),   // gumbel-rao: wine
    (RGBColor(0xF4, 0x6D, 0x43), "#F46D43", Marker::Cross, false),  // rebar: coral
    (RGBColor(0x5E, 0x4F, 0xA2), "#5E4FA2", Marker::Triangle, true), // relax: indigo
    (RGBColor(0xA6, 0x76, 0x1D), "#A6761D", Marker::Square, true),  // learned-predictor: bronze
    (RGBColor(0x32, 0x88, 0xBD), "#3288BD", Marker::Cross, true),   // sts (unit type): steel blue
    (RGBColor(0xB3, 0x58, 0x06), "#B35806", Marker::Plus, true),    // noisy-rectifier (unit type): burnt orange
];

/// Colour, marker and dash of an estimator, by its registry index (an unknown key gets a neutral
/// grey circle).
pub fn look(key: &str) -> Look {
    match catalogue().iter().position(|m| m.key == key) {
        Some(i) => {
            let (color, css, marker, dashed) = PALETTE[i % PALETTE.len()];
            Look { color, css, marker, dashed }
        }
        None => Look { color: RGBColor(0x99, 0x99, 0x99), css: "#999999", marker: Marker::Circle, dashed: false },
    }
}

/// One plot: the data it needs, and how to draw and export it.
pub trait PlotData: PartialEq + Clone + 'static {
    fn title(&self) -> &'static str;
    /// Short file-name stem for exports, e.g. "convergence-c1_0".
    fn file_stem(&self) -> String;
    /// Draw on `root` (which the plot fills with its background first).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> Result<(), String>;
    /// The data behind the plot as CSV (header row, then one row per point).
    fn csv(&self) -> String;
    /// One sentence on what is drawn, for screen readers (aria-label of the canvas).
    fn describe(&self) -> String;
}

/// Caption lines wrapped to about `chars` characters (at spaces; a longer word stays whole).
fn wrap(lines: &[String], chars: usize) -> Vec<String> {
    let mut out = Vec::new();
    for line in lines {
        let mut cur = String::new();
        for word in line.split(' ') {
            if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > chars {
                out.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
        out.push(cur);
    }
    out
}

/// The height in pixels of a caption of `lines` (wrapped to the width) under a plot `width` wide.
pub fn caption_height(width: u32, style: &Style, lines: &[String]) -> u32 {
    let th = kit::Theme::new(style);
    let chars = ((width as f64) / (0.56 * th.small)).max(20.0) as usize;
    let n = 1 + wrap(lines, chars).len();
    ((n as f64 + 0.8) * th.small * 1.35).ceil() as u32
}

/// Draw a plot with a caption under it: its title, then `lines` (the settings and the link).
pub fn draw_captioned<D: PlotData, DB: DrawingBackend>(
    data: &D,
    root: &DrawingArea<DB, Shift>,
    style: &Style,
    lines: &[String],
) -> Result<(), String> {
    // The caption's code once per backend, not once per plot type.
    captioned(root, style, lines, data.title(), &|top| data.draw(top, style))
}

type DrawOn<'a, DB> = &'a dyn Fn(&DrawingArea<DB, Shift>) -> Result<(), String>;
type DrawOnSvg<'a> = dyn for<'b> Fn(&DrawingArea<PlotBackend<'b>, Shift>) -> Result<(), String> + 'a;

fn captioned<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    style: &Style,
    lines: &[String],
    title: &str,
    draw: DrawOn<'_, DB>,
) -> Result<(), String> {
    let th = kit::Theme::new(style);
    let (w, h) = root.dim_in_pixel();
    let cap = caption_height(w, style, lines).min(h / 2);
    let (top, bottom) = root.split_vertically(h - cap);
    draw(&top)?;
    bottom.fill(&th.bg).map_err(|e| e.to_string())?;
    let chars = ((w as f64) / (0.56 * th.small)).max(20.0) as usize;
    let step = (th.small * 1.35).round() as i32;
    let x = th.px(8.0);
    let mut y = (th.small * 0.5).round() as i32;
    bottom.draw(&Text::new(title.to_string(), (x, y), th.text(th.small * 1.1, th.fg))).map_err(|e| e.to_string())?;
    for line in wrap(lines, chars) {
        y += step;
        bottom.draw(&Text::new(line, (x, y), th.text(th.small, th.muted))).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Render to an SVG string with a caption under the plot (for export): `height` is the plot's,
/// the caption is added below it.
pub fn to_svg_captioned<D: PlotData>(data: &D, width: u32, height: u32, style: &Style, lines: &[String]) -> String {
    svg_captioned(width, height, style, lines, data.title(), &|top| data.draw(top, style))
}

fn svg_captioned(
    width: u32,
    height: u32,
    style: &Style,
    lines: &[String],
    title: &str,
    draw: &DrawOnSvg<'_>,
) -> String {
    let (width, height) = (width.max(1), height.max(1));
    let total = height + caption_height(width, style, lines);
    let mut out = String::new();
    {
        let root = PlotBackend::Svg(SVGBackend::with_string(&mut out, (width, total))).into_drawing_area();
        let result = captioned(&root, style, lines, title, &|top| draw(top))
            .and_then(|()| root.present().map_err(|e| e.to_string()));
        if let Err(message) = result {
            let th = kit::Theme::new(style);
            let _ = root.draw(&Text::new(format!("plot error: {message}"), (10, 20), th.text(th.font, th.fg)));
            let _ = root.present();
        }
    }
    fix_svg_font_sizes(&out)
}

/// Render to an SVG string (for export and tests). A drawing error is shown as text in the SVG.
pub fn to_svg<D: PlotData>(data: &D, width: u32, height: u32, style: &Style) -> String {
    let (width, height) = (width.max(1), height.max(1));
    let mut out = String::new();
    {
        let root = PlotBackend::Svg(SVGBackend::with_string(&mut out, (width, height))).into_drawing_area();
        let result = data.draw(&root, style).and_then(|()| root.present().map_err(|e| e.to_string()));
        if let Err(message) = result {
            let th = kit::Theme::new(style);
            let _ = root.draw(&Text::new(format!("plot error: {message}"), (10, 20), th.text(th.font, th.fg)));
            let _ = root.present();
        }
    }
    fix_svg_font_sizes(&out)
}

/// The plotters SVG backend writes `font-size = size / 1.24` while the canvas backend uses `size`
/// pixels; undo the factor so an exported SVG has the same type size as the page's canvas.
fn fix_svg_font_sizes(svg: &str) -> String {
    const KEY: &str = "font-size=\"";
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(i) = rest.find(KEY) {
        out.push_str(&rest[..i + KEY.len()]);
        rest = &rest[i + KEY.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        match rest[..end].parse::<f64>() {
            Ok(v) => out.push_str(&format!("{:.2}", v * 1.24)),
            Err(_) => out.push_str(&rest[..end]),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// CSV text from a header and rows (fields quoted where needed).
pub(crate) fn csv_text(header: &[&str], rows: &[Vec<String>]) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut out = header.iter().map(|h| field(h)).collect::<Vec<_>>().join(",");
    out.push('\n');
    for r in rows {
        out.push_str(&r.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// A number for CSV: full precision, empty if not finite.
pub(crate) fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

/// An optional number for CSV.
pub(crate) fn opt(x: Option<f64>) -> String {
    x.map(num).unwrap_or_default()
}

/// `c1[0]` → `c1_0`: a parameter name fit for a file name.
pub(crate) fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}
