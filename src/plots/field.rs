//! The gradient field (`stochgrad_core::field`): over a grid of two parameters (the others fixed),
//! the exact `E[f]` as shaded cells, the exact −∇ as black arrows and each selected estimator's
//! expected −ĝ as arrows in its colour (one common length scale), and the trajectories of exact
//! descent (dashed) and of each estimator training only the two parameters, from the current
//! point. Rows are drawn as the worker sends them.

use super::kit::{self, err, Axis, AxisLabels, Coord, Entry, Frame, Swatch, Theme};
use super::probe::{self, Probe};
use super::{csv_text, look, num, PlotData, Style};
use crate::format;
use crate::page::Page;
use crate::state::{FieldView, State};
use plotters::coord::Shift;
use plotters::prelude::*;
use stochgrad_core::field::{Point, Trajectory};
use stochgrad_core::stats::Method;

/// The longest arrow on the grid spans this fraction of a grid cell.
pub const ARROW_CELLS: f64 = 0.9;
/// Trajectory points drawn (and probed) per trajectory at most.
const MAX_DRAWN: usize = 200;

/// The field as the page has it so far.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldPlot {
    pub x_name: String,
    pub y_name: String,
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    /// Row `j` (the `j`-th y), once arrived.
    pub rows: Vec<Option<Vec<Point>>>,
    /// The estimators whose means each point has (in order), with how they are obtained.
    pub estimators: Vec<(String, Method)>,
    /// Exact descent's (`exact`) and each estimator's.
    pub trajectories: Vec<Trajectory>,
    /// Why there is no field.
    pub error: Option<String>,
    /// The view is open (else the field is not computed).
    pub open: bool,
}

impl FieldPlot {
    pub fn from_state(state: &State) -> Self {
        FieldPlot::new(&state.page, &state.field)
    }

    pub fn new(page: &Page, f: &FieldView) -> Self {
        let (x_name, y_name) = page.field_axes();
        let estimators = f
            .estimators
            .iter()
            .filter(|e| e.skipped.is_none())
            .filter_map(|e| Some((e.key.clone(), e.method?)))
            .collect();
        FieldPlot {
            x_name,
            y_name,
            xs: f.xs.clone(),
            ys: f.ys.clone(),
            rows: f.rows.clone(),
            estimators,
            trajectories: f.trajectories.clone(),
            error: f.error.clone(),
            open: page.field_open,
        }
    }

    fn points(&self) -> impl Iterator<Item = &Point> {
        self.rows.iter().flatten().flatten()
    }

    /// The grid's spacing along each axis (the whole range for one point).
    fn cell(&self) -> (f64, f64) {
        let step = |v: &[f64]| match v {
            [a, b, ..] => (b - a).abs(),
            _ => 1.0,
        };
        (step(&self.xs), step(&self.ys))
    }

    /// The range of the exact `E[f]` over the arrived points.
    pub fn loss_range(&self) -> Option<(f64, f64)> {
        let vals = self.points().map(|p| p.expected_loss).filter(|v| v.is_finite());
        vals.fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
    }

    /// The largest magnitude of any arrow (exact or an estimator's mean), for the common scale.
    fn longest(&self) -> f64 {
        self.points()
            .flat_map(|p| std::iter::once(p.gradient).chain(p.means.iter().copied()))
            .map(|g| g[0].hypot(g[1]))
            .filter(|m| m.is_finite())
            .fold(0.0, f64::max)
    }

    /// The arrow for vector `g` at `p` (pointing along −g), in data coordinates.
    fn arrow(&self, at: (f64, f64), g: [f64; 2], longest: f64) -> Option<((f64, f64), (f64, f64))> {
        let (cx, cy) = self.cell();
        if !(longest > 0.0 && g[0].is_finite() && g[1].is_finite()) {
            return None;
        }
        let k = ARROW_CELLS / longest;
        Some((at, (at.0 - g[0] * k * cx, at.1 - g[1] * k * cy)))
    }

    /// The current point: the grid's centre (each range is the parameter's value ± the same span).
    pub fn current(&self) -> Option<(f64, f64)> {
        let mid = |v: &[f64]| Some((v.first()? + v.last()?) / 2.0);
        Some((mid(&self.xs)?, mid(&self.ys)?))
    }

    fn method_text(m: Method) -> &'static str {
        match m {
            Method::MonteCarlo => "Monte-Carlo mean",
            _ => "exact mean",
        }
    }

    fn empty_note(&self) -> String {
        if let Some(e) = &self.error {
            format!("no field: {}", e)
        } else if !self.open {
            "the field is computed only while this view is open".into()
        } else {
            "computing…".into()
        }
    }

    /// The colour scale and arrow scale, in words (shown under the plot).
    pub fn caption(&self) -> String {
        let (done, total) = (self.rows.iter().filter(|r| r.is_some()).count(), self.rows.len());
        let mut parts = Vec::new();
        if let Some((lo, hi)) = self.loss_range() {
            parts.push(format!(
                "shading: the exact E[f] from {} (light) to {} (dark)",
                format::sig(lo, 4),
                format::sig(hi, 4)
            ));
        }
        parts.push(format!(
            "arrows: −∇ (exact, black) and each estimator's −E[ĝ], on one scale: the longest spans {ARROW_CELLS} of a grid cell"
        ));
        for (k, m) in &self.estimators {
            parts.push(format!("{k}: {}", Self::method_text(*m)));
        }
        if total > 0 && done < total {
            parts.push(format!("{done} of {total} rows"));
        }
        parts.join("; ")
    }

    fn shade(th: &Theme, t: f64) -> RGBAColor {
        // From the background (low E[f]) to a blue (high), translucent so arrows stay visible.
        let t = t.clamp(0.0, 1.0);
        let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
        let (r, g, b) = (mix(th.bg.0, 0x2C), mix(th.bg.1, 0x7F), mix(th.bg.2, 0xB8));
        RGBColor(r, g, b).mix(0.55)
    }
}

impl PlotData for FieldPlot {
    fn title(&self) -> &'static str {
        "Gradient field"
    }

    fn file_stem(&self) -> String {
        "gradient-field".into()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> Result<(), String> {
        let th = Theme::new(style);
        let mut entries = vec![Entry::new(
            Swatch::Line { color: th.exact, dashed: false, width: th.thick, marker: None },
            "exact −∇ (descent: dashed)",
        )];
        for (k, m) in &self.estimators {
            let l = look(k);
            let label = format!("{k} −E[ĝ]{}", if *m == Method::MonteCarlo { " (Monte Carlo)" } else { "" });
            entries.push(Entry::new(
                Swatch::Line { color: l.color, dashed: false, width: th.line, marker: Some((l.marker, true)) },
                label,
            ));
        }
        let Some(area) = kit::layout(root, &th, None, &entries)? else {
            return Ok(());
        };
        let (cx, cy) = self.cell();
        let lo_hi = |v: &[f64], c: f64| match (v.first(), v.last()) {
            (Some(a), Some(b)) if a < b => (a - c / 2.0, b + c / 2.0),
            _ => (-1.0, 1.0),
        };
        let (x0, x1) = lo_hi(&self.xs, cx);
        let (y0, y1) = lo_hi(&self.ys, cy);
        let xfmt = kit::lin_fmt(x0, x1);
        let yfmt = kit::lin_fmt(y0, y1);
        let ylw = kit::y_label_width(&area, &th, &[yfmt(&y0), yfmt(&y1), yfmt(&((y0 + y1) / 2.0))])?;
        let mut chart = kit::builder(&area, &th, kit::x_label_height(&th), ylw)
            .build_cartesian_2d(Coord::lin(x0..x1), Coord::lin(y0..y1))
            .map_err(err)?;
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        kit::mesh(
            &mut chart,
            &th,
            AxisLabels { desc: &self.x_name, fmt: &xfmt, n: kit::n_labels(pw, &th, 4.0), log: None },
            AxisLabels { desc: &self.y_name, fmt: &yfmt, n: kit::n_labels(ph, &th, 2.5), log: None },
        )?;
        let fr = Frame { x: Axis::lin(x0, x1), y: Axis::lin(y0, y1) };
        let pa = chart.plotting_area();
        // The cells, shaded by E[f].
        if let Some((lo, hi)) = self.loss_range() {
            let span = if hi > lo { hi - lo } else { 1.0 };
            for p in self.points().filter(|p| p.expected_loss.is_finite()) {
                let (a, b) = (p.x - cx / 2.0, p.y - cy / 2.0);
                let cell = [(a, b), (a + cx, b), (a + cx, b + cy), (a, b + cy)];
                kit::polygon(pa, &fr, &cell, Self::shade(&th, (p.expected_loss - lo) / span))?;
            }
        }
        // The arrows: exact, then each estimator's.
        let longest = self.longest();
        let head = |(t, h): ((f64, f64), (f64, f64))| -> Vec<Vec<(f64, f64)>> {
            // Two barbs at the tip, a third of the arrow long, in cell units so they look alike.
            let (dx, dy) = ((h.0 - t.0) / cx, (h.1 - t.1) / cy);
            let barb = |c: f64, s: f64| {
                let (bx, by) = (-(dx * c - dy * s) / 3.0, -(dx * s + dy * c) / 3.0);
                (h.0 + bx * cx, h.1 + by * cy)
            };
            let (c, s) = (0.5f64.cos(), 0.5f64.sin());
            vec![vec![t, h], vec![barb(c, s), h, barb(c, -s)]]
        };
        for p in self.points() {
            // The estimators' first, the exact one on top (thicker).
            for ((k, _), g) in self.estimators.iter().zip(&p.means) {
                if let Some(a) = self.arrow((p.x, p.y), *g, longest) {
                    for piece in head(a) {
                        kit::polyline(pa, &fr, &piece, look(k).color.stroke_width(th.thin.max(1)), None)?;
                    }
                }
            }
            if let Some(a) = self.arrow((p.x, p.y), p.gradient, longest) {
                for piece in head(a) {
                    kit::polyline(pa, &fr, &piece, th.exact.stroke_width(th.line.max(1)), None)?;
                }
            }
            let g = p.gradient;
            let series = format!(
                "grid point · E[f] = {}, −∇ = ({}, {})",
                format::sig(p.expected_loss, 4),
                format::sig(-g[0], 3),
                format::sig(-g[1], 3)
            );
            probe::point(pa, &fr, &th, Probe::new(series, p.x, p.y).names(&self.x_name, &self.y_name));
        }
        // The trajectories.
        for t in &self.trajectories {
            let exact = t.key == "exact";
            let (color, marker) =
                if exact { (th.exact, super::Marker::Circle) } else { (look(&t.key).color, look(&t.key).marker) };
            let n = t.points.len();
            let stride = n.div_ceil(MAX_DRAWN).max(1);
            let idx: Vec<usize> = (0..n).filter(|i| i % stride == 0 || i + 1 == n).collect();
            let pts: Vec<(f64, f64)> = idx.iter().map(|&i| (t.points[i][0], t.points[i][1])).collect();
            let dash = exact.then_some((th.px(6.0), th.px(4.0)));
            kit::polyline(pa, &fr, &pts, color.stroke_width(th.line), dash)?;
            kit::markers(pa, &fr, &pts.last().copied().into_iter().collect::<Vec<_>>(), marker, color, true, &th)?;
            let name = if exact { "exact descent".to_string() } else { probe::name(&t.key) };
            for &i in &idx {
                let [x, y] = t.points[i];
                let e = t.expected_loss.get(i).copied().unwrap_or(f64::NAN);
                let series = format!("{name} · step {i}, E[f] = {}", format::sig(e, 4));
                probe::point(pa, &fr, &th, Probe::new(series, x, y).names(&self.x_name, &self.y_name));
            }
        }
        // The current point.
        if let Some(c) = self.current().filter(|_| self.points().next().is_some()) {
            kit::markers(pa, &fr, &[c], super::Marker::Square, th.exact, false, &th)?;
        }
        if self.points().next().is_none() {
            kit::note(&pa.strip_coord_spec(), &th, &self.empty_note())?;
        }
        Ok(())
    }

    fn csv(&self) -> String {
        let header = ["kind", "key", "step", "x", "y", "expected_loss", "gx", "gy", "se_x", "se_y", "method"];
        let mut rows: Vec<Vec<String>> = Vec::new();
        for p in self.points() {
            rows.push(vec![
                "grid".into(),
                "exact".into(),
                String::new(),
                num(p.x),
                num(p.y),
                num(p.expected_loss),
                num(p.gradient[0]),
                num(p.gradient[1]),
                String::new(),
                String::new(),
                "exact".into(),
            ]);
            for (i, (k, m)) in self.estimators.iter().enumerate() {
                let (Some(g), se) = (p.means.get(i), p.stderr.get(i).copied().flatten()) else { continue };
                rows.push(vec![
                    "grid".into(),
                    k.clone(),
                    String::new(),
                    num(p.x),
                    num(p.y),
                    String::new(),
                    num(g[0]),
                    num(g[1]),
                    se.map_or(String::new(), |s| num(s[0])),
                    se.map_or(String::new(), |s| num(s[1])),
                    m.key().into(),
                ]);
            }
        }
        for t in &self.trajectories {
            for (i, (q, e)) in t.points.iter().zip(&t.expected_loss).enumerate() {
                rows.push(vec![
                    "trajectory".into(),
                    t.key.clone(),
                    i.to_string(),
                    num(q[0]),
                    num(q[1]),
                    num(*e),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]);
            }
        }
        csv_text(&header, &rows)
    }

    fn describe(&self) -> String {
        if self.points().next().is_none() {
            return format!("Gradient field over {} and {}: {}.", self.x_name, self.y_name, self.empty_note());
        }
        format!(
            "Gradient field over {} (horizontal) and {} (vertical), current point marked: {}; trajectories of {}.",
            self.x_name,
            self.y_name,
            self.caption(),
            if self.trajectories.is_empty() {
                "none yet".to_string()
            } else {
                self.trajectories.iter().map(|t| t.key.clone()).collect::<Vec<_>>().join(", ")
            }
        )
    }
}
