//! One draw at a time: what a single sample shows that the bars cannot. For a one-unit network,
//! the loss's curve with the drawn h, f(h) on it, straight-through's tangent at h and the secant
//! from h = 0 to h = 1 (whose slope f(1) − f(0) is what the unbiased estimators see on average);
//! for every network, each estimator's estimate of the chosen parameter in this draw, dropped into
//! a running histogram of the draws so far, with the exact mean and ± one standard deviation
//! marked where they are known.

use super::kit::{self, err, Axis, AxisLabels, Coord, Frame, Theme};
use super::probe::{self, Probe};
use super::{csv_text, look, num, opt, Marker, PlotData, Style};
use crate::format;
use crate::state::State;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// One estimator's single draws of the chosen parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct DrawSeries {
    pub key: String,
    pub values: Vec<f64>,
    /// The exact mean and variance of the estimate (exact or quadrature), where known.
    pub exact: Option<(f64, f64)>,
}

/// The loss's curve around one drawn state of a one-unit network.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// `(h, f(h))` over [−0.25, 1.25], in the loss's extension.
    pub points: Vec<(f64, f64)>,
    pub f0: f64,
    pub f1: f64,
    /// The drawn state (binary for most estimators, relaxed for Concrete), whose draw, and the
    /// extension's slope there.
    pub h: Option<(f64, String, f64)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OneDraw {
    pub param_name: String,
    pub series: Vec<DrawSeries>,
    pub curve: Option<Curve>,
    /// The exact gradient of the chosen parameter.
    pub exact: Option<f64>,
}

impl OneDraw {
    pub fn from_state(state: &State) -> Self {
        let param = state.page.param;
        let series: Vec<DrawSeries> = state
            .page
            .estimators
            .iter()
            .filter_map(|key| {
                let row = state.rows.get(key)?;
                let values: Vec<f64> =
                    row.draws.iter().filter_map(|d| d.get(param).copied()).filter(|v| v.is_finite()).collect();
                if values.is_empty() {
                    return None;
                }
                let exact = row.exact.as_ref().and_then(|m| Some((*m.mean.get(param)?, *m.variance.get(param)?)));
                Some(DrawSeries { key: key.clone(), values, exact })
            })
            .collect();
        let binary = state.page.model.unit == stochgrad_core::settings::UnitChoice::Binary;
        let curve = (state.page.model.widths == [1] && binary).then(|| {
            let model = state.page.model.to_model();
            let f = |h: f64| model.loss.value(&[h]);
            let points = (0..=60).map(|i| -0.25 + 1.5 * i as f64 / 60.0).map(|h| (h, f(h))).collect();
            // Straight-through's draw if it is selected, else the first estimator that draws one state.
            let pick = ["st"]
                .iter()
                .map(|k| k.to_string())
                .chain(state.page.estimators.iter().cloned())
                .find_map(|k| state.rows.get(&k).and_then(|r| r.last_h.as_ref()).map(|h| (h[0], k)));
            let h = pick.filter(|(h, _)| h.is_finite()).map(|(h, k)| {
                let mut g = [0.0];
                let slope = if model.loss.gradient(&[h], &mut g) { g[0] } else { f64::NAN };
                (h, k, slope)
            });
            Curve { points, f0: f(0.0), f1: f(1.0), h }
        });
        let exact = state.exact.as_ref().and_then(|e| e.gradient.get(param).copied());
        let param_name = state.exact.as_ref().and_then(|e| e.names.get(param).cloned()).unwrap_or_default();
        OneDraw { param_name, series, curve, exact }
    }

    fn draws(&self) -> usize {
        self.series.iter().map(|s| s.values.len()).max().unwrap_or(0)
    }
}

impl PlotData for OneDraw {
    fn title(&self) -> &'static str {
        "One draw at a time"
    }

    fn file_stem(&self) -> String {
        "one-draw".into()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> Result<(), String> {
        let th = Theme::new(style);
        let n = self.draws();
        let subtitle = format!("draw {n}: each estimator's estimate of ∂E[f]/∂{}", self.param_name);
        let Some(area) = kit::layout(root, &th, Some(&subtitle), &[])? else {
            return Ok(());
        };
        if self.series.is_empty() {
            return kit::note(&area, &th, "no draws yet — press Step (→) to draw one sample per estimator");
        }
        let (w, _) = area.dim_in_pixel();
        let (left, right) = match &self.curve {
            Some(_) if w as i32 > th.px(520.0) => {
                let (l, r) = area.split_horizontally((w as f64 * 0.38) as u32);
                (Some(l), r)
            }
            _ => (None, area.clone()),
        };
        if let (Some(l), Some(c)) = (left, &self.curve) {
            draw_curve(&l, &th, c)?;
        }
        draw_histograms(&right, &th, self)
    }

    fn csv(&self) -> String {
        let header = ["estimator", "draw", "estimate", "exact_mean", "exact_variance"];
        let rows: Vec<Vec<String>> = self
            .series
            .iter()
            .flat_map(|s| {
                s.values.iter().enumerate().map(move |(i, v)| {
                    vec![
                        s.key.clone(),
                        (i + 1).to_string(),
                        num(*v),
                        opt(s.exact.map(|e| e.0)),
                        opt(s.exact.map(|e| e.1)),
                    ]
                })
            })
            .collect();
        csv_text(&header, &rows)
    }

    fn describe(&self) -> String {
        if self.series.is_empty() {
            return "One draw at a time: no draws yet.".into();
        }
        let parts: Vec<String> = self
            .series
            .iter()
            .map(|s| {
                let last = s.values.last().copied().unwrap_or(f64::NAN);
                format!("{} this draw {} ({} draws)", s.key, format::sig(last, 3), s.values.len())
            })
            .collect();
        let curve = match self.curve.as_ref().and_then(|c| c.h.as_ref()) {
            Some((h, key, slope)) => format!(
                " The drawn state of {key} is h = {}; the loss's slope there is {}.",
                format::sig(*h, 3),
                format::sig(*slope, 3)
            ),
            None => String::new(),
        };
        format!("One draw at a time, estimates of ∂E[f]/∂{}: {}.{curve}", self.param_name, parts.join("; "))
    }
}

/// f over h, the two binary points, the secant, the drawn h and straight-through's tangent there.
fn draw_curve<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, th: &Theme, c: &Curve) -> Result<(), String> {
    let ys = c.points.iter().map(|p| p.1).chain([c.f0, c.f1]);
    let (y0, y1) = kit::lin_range(ys, (0.0, 1.0));
    let yfmt = kit::lin_fmt(y0, y1);
    let xfmt = kit::lin_fmt(-0.25, 1.25);
    let ylw = kit::y_label_width(area, th, &[yfmt(&y0), yfmt(&y1)])?;
    let mut chart = kit::builder(area, th, kit::x_label_height(th), ylw)
        .build_cartesian_2d(Coord::lin(-0.25..1.25), Coord::lin(y0..y1))
        .map_err(err)?;
    let (pw, ph) = chart.plotting_area().dim_in_pixel();
    kit::mesh(
        &mut chart,
        th,
        AxisLabels { desc: "h", fmt: &xfmt, n: kit::n_labels(pw, th, 3.0).min(7), log: None },
        AxisLabels { desc: "f(h)", fmt: &yfmt, n: kit::n_labels(ph, th, 2.5), log: None },
    )?;
    let fr = Frame { x: Axis::lin(-0.25, 1.25), y: Axis::lin(y0, y1) };
    let pa = chart.plotting_area();
    kit::polyline(pa, &fr, &c.points, th.fg.stroke_width(th.line), None)?;
    // The secant: what an unbiased estimator sees on average (its slope f(1) − f(0)).
    let secant = |h: f64| c.f0 + (c.f1 - c.f0) * h;
    kit::polyline(
        pa,
        &fr,
        &[(-0.25, secant(-0.25)), (1.25, secant(1.25))],
        th.exact.stroke_width(th.thick),
        Some((th.px(6.0), th.px(4.0))),
    )?;
    kit::markers(pa, &fr, &[(0.0, c.f0), (1.0, c.f1)], Marker::Circle, th.exact, true, th)?;
    for (h, f) in [(0.0, c.f0), (1.0, c.f1)] {
        probe::point(pa, &fr, th, Probe::new("f at a binary h", h, f).names("h", "f(h)"));
    }
    let small = th.text(th.small, th.fg).pos(kit::anchor(HPos::Left, VPos::Top));
    kit::label_at(
        pa,
        (-0.25, y1),
        (th.px(4.0), th.px(2.0)),
        &format!("secant: f(1) − f(0) = {}", format::sig(c.f1 - c.f0, 3)),
        small,
    )?;
    if let Some((h, key, slope)) = &c.h {
        let color = look(key).color;
        let fh = c.points.iter().min_by(|a, b| (a.0 - h).abs().total_cmp(&(b.0 - h).abs())).map_or(c.f0, |p| p.1);
        let fh = if *h == 0.0 {
            c.f0
        } else if *h == 1.0 {
            c.f1
        } else {
            fh
        };
        if slope.is_finite() {
            let tangent = |x: f64| fh + slope * (x - h);
            kit::polyline(
                pa,
                &fr,
                &[(h - 0.35, tangent(h - 0.35)), (h + 0.35, tangent(h + 0.35))],
                color.stroke_width(th.thick),
                None,
            )?;
        }
        kit::markers(pa, &fr, &[(*h, fh)], look(key).marker, color, true, th)?;
        probe::point(pa, &fr, th, Probe::new(format!("{} · drawn h", probe::name(key)), *h, fh).names("h", "f(h)"));
        let style = th.text(th.small, color).pos(kit::anchor(HPos::Left, VPos::Top));
        kit::label_at(
            pa,
            (-0.25, y1),
            (th.px(4.0), th.px(4.0) + (th.small * 1.3) as i32),
            &format!("{key} drew h = {}: its slope f′(h) = {}", format::sig(*h, 3), format::sig(*slope, 3)),
            style,
        )?;
    }
    Ok(())
}

/// One row per estimator: a histogram of its draws, the latest one marked, the exact mean (tick)
/// and ± one standard deviation (band) where known, and the exact gradient (a line through all).
fn draw_histograms<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, th: &Theme, d: &OneDraw) -> Result<(), String> {
    let mut xs: Vec<f64> = d.series.iter().flat_map(|s| s.values.iter().copied()).collect();
    for s in &d.series {
        if let Some((m, v)) = s.exact {
            let sd = v.max(0.0).sqrt();
            xs.extend([m - sd, m + sd]);
        }
    }
    xs.extend(d.exact);
    let (x0, x1) = kit::lin_range(xs, (-1.0, 1.0));
    let rows = d.series.len() as f64;
    let xfmt = kit::lin_fmt(x0, x1);
    let label_font = th.text(th.small, th.fg);
    let mut lw = 0;
    for s in &d.series {
        lw = lw.max(kit::text_width(area, &format!("{} ({})", s.key, s.values.len()), &label_font)?);
    }
    let mut chart = kit::builder(area, th, kit::x_label_height(th), (lw + th.px(8.0)) as u32)
        .build_cartesian_2d(Coord::lin(x0..x1), Coord::lin(0.0..rows))
        .map_err(err)?;
    let (pw, _) = chart.plotting_area().dim_in_pixel();
    let none = |_: &f64| String::new();
    kit::mesh(
        &mut chart,
        th,
        AxisLabels {
            desc: &format!("estimate of ∂E[f]/∂{}", d.param_name),
            fmt: &xfmt,
            n: kit::n_labels(pw, th, 4.0),
            log: None,
        },
        AxisLabels { desc: "", fmt: &none, n: 0, log: None },
    )?;
    let fr = Frame { x: Axis::lin(x0, x1), y: Axis::lin(0.0, rows) };
    let pa = chart.plotting_area();
    let bins = 40usize;
    let width = (x1 - x0) / bins as f64;
    for (r, s) in d.series.iter().enumerate() {
        let l = look(&s.key);
        // Rows from the top, in selection order.
        let base = rows - 1.0 - r as f64;
        let top = base + 0.82;
        if let Some((m, v)) = s.exact {
            let sd = v.max(0.0).sqrt();
            let band = [(m - sd, base), (m + sd, base), (m + sd, top), (m - sd, top)];
            kit::polygon(pa, &fr, &band, l.color.mix(0.12))?;
            if fr.x.contains(m) {
                let p = Probe::new(format!("{} · exact mean", probe::name(&s.key)), m, m).names("", "E[ĝ]");
                probe::at_pixel(th, pa.map_coordinate(&(m, base + 0.41)), p);
            }
            kit::polyline(
                pa,
                &fr,
                &[(m, base), (m, top)],
                l.color.stroke_width(th.line),
                Some((th.px(4.0), th.px(3.0))),
            )?;
        }
        let mut counts = vec![0usize; bins];
        for v in &s.values {
            let b = (((v - x0) / width).floor() as isize).clamp(0, bins as isize - 1) as usize;
            counts[b] += 1;
        }
        let most = *counts.iter().max().unwrap_or(&1) as f64;
        for (b, c) in counts.iter().enumerate().filter(|(_, c)| **c > 0) {
            let (a, z) = (x0 + b as f64 * width, x0 + (b as f64 + 0.92) * width);
            let h = base + 0.75 * (*c as f64 / most);
            kit::polygon(pa, &fr, &[(a, base), (z, base), (z, h), (a, h)], l.color.mix(0.55))?;
        }
        if let Some(last) = s.values.last() {
            kit::markers(pa, &fr, &[(*last, base + 0.78)], Marker::TriangleDown, l.color, true, th)?;
            if fr.x.contains(*last) {
                let p =
                    Probe::new(format!("{} · latest draw", probe::name(&s.key)), *last, *last).names("", "estimate");
                probe::at_pixel(th, pa.map_coordinate(&(*last, base + 0.78)), p);
            }
        }
        let (px, py) = pa.map_coordinate(&(x0, base + 0.4));
        let (ax, ay) = area.get_base_pixel();
        let style = th.text(th.small, l.color).pos(kit::anchor(HPos::Right, VPos::Center));
        area.draw_text(&format!("{} ({})", s.key, s.values.len()), &style, (px - ax - th.px(6.0), py - ay))
            .map_err(err)?;
    }
    if let Some(g) = d.exact {
        kit::polyline(pa, &fr, &[(g, 0.0), (g, rows)], th.exact.stroke_width(th.thick), None)?;
        let style = th.text(th.small, th.fg).pos(kit::anchor(HPos::Left, VPos::Top));
        kit::label_at(pa, (g, rows), (th.px(4.0), th.px(2.0)), "exact ∇", style)?;
    }
    Ok(())
}
