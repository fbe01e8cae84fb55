//! What the τ and width sweeps share: bias² (dashed) and variance trace (solid) against x, log y.

use super::kit::{self, err, Axis, AxisLabels, Coord, Entry, Frame, Swatch, Theme};
use super::probe::{self, Probe};
use super::{csv_text, look, num, opt, Marker, Style};
use crate::format;
use crate::protocol::{Fig, SweepKind, SweepPoint};
use crate::state::State;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// One estimator's sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSeries {
    pub key: String,
    /// Points with a finite x (positive on a log axis), in x order.
    pub points: Vec<SweepPoint>,
}

/// The selected estimators' sweeps of one kind (points with drawable x only).
pub(crate) fn series(state: &State, kind: SweepKind, log_x: bool) -> Vec<SweepSeries> {
    state
        .sweep(kind)
        .into_iter()
        .map(|(key, points)| {
            let mut points: Vec<SweepPoint> =
                points.iter().filter(|p| p.x.is_finite() && (!log_x || p.x > 0.0)).cloned().collect();
            points.sort_by(|a, b| a.x.total_cmp(&b.x));
            SweepSeries { key: key.to_string(), points }
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

fn is_mc(p: &SweepPoint) -> bool {
    p.method == "monte-carlo"
}

fn se(f: &Fig) -> f64 {
    f.stderr.filter(|s| s.is_finite() && *s > 0.0).unwrap_or(0.0)
}

/// How a sweep is drawn.
pub(crate) struct Spec<'a> {
    pub log_x: bool,
    pub x_desc: &'a str,
    /// What the derivatives are with respect to: "θ" or "p".
    pub wrt: &'a str,
    /// Fixed x range (otherwise from the data).
    pub x_range: Option<(f64, f64)>,
    /// The current setting: x and its label ("τ = 0.50").
    pub current: Option<(f64, String)>,
    pub subtitle: Option<&'a str>,
    /// Shown when there is nothing to draw.
    pub empty_note: &'a str,
    /// Tick labels on a linear x axis.
    pub x_fmt: Option<&'a dyn Fn(&f64) -> String>,
    /// Further marked places on the x axis (the logit sweep's optimum and stationary points).
    pub marks: &'a [XMark],
}

/// A marked place on a sweep's x axis: a dotted vertical line in an estimator's colour (`key`, with
/// its hollow marker on the floor; the legend says what it is) or the foreground's (the legend
/// names it with `label`).
#[derive(Clone, Debug, PartialEq)]
pub struct XMark {
    pub x: f64,
    pub label: String,
    pub key: Option<String>,
}

/// A figure at or below this is an exact zero (a log axis cannot show it).
const ZERO: f64 = 1e-30;

/// Below this an exact figure of the series is rounding noise of an exact zero: a bias² whose
/// square root is 10⁻¹² of the series' largest standard deviation (the points are different
/// networks, so there is no single gradient to scale by).
fn floor(series: &[SweepSeries]) -> f64 {
    let largest = series
        .iter()
        .flat_map(|s| s.points.iter())
        .flat_map(|p| [p.variance_trace.value, p.bias_sq.value])
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    (1e-24 * largest).max(ZERO)
}

/// The value drawn: an exact figure at rounding level is 0 (which the log axis shows as "= 0").
fn shown(f: &Fig, floor: f64) -> f64 {
    if f.stderr.is_none() && f.value.abs() <= floor {
        0.0
    } else {
        f.value
    }
}

pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    style: &Style,
    series: &[SweepSeries],
    spec: &Spec,
) -> Result<(), String> {
    let th = Theme::new(style);
    let any_mc = series.iter().any(|s| s.points.iter().any(is_mc));
    let zero = floor(series);
    let mut entries: Vec<Entry> = series
        .iter()
        .map(|s| {
            let l = look(&s.key);
            // A bias² of exactly zero cannot be drawn on the log axis: say so in the legend.
            let zero_bias = s.points.iter().all(|p| shown(&p.bias_sq, zero) <= ZERO);
            let label = if zero_bias { format!("{} (bias² = 0)", s.key) } else { s.key.clone() };
            Entry::new(
                Swatch::Line { color: l.color, dashed: false, width: th.line, marker: Some((l.marker, true)) },
                label,
            )
        })
        .collect();
    if !series.is_empty() {
        entries.push(Entry::new(
            Swatch::Line { color: th.fg, dashed: false, width: th.line, marker: None },
            "variance (trace)",
        ));
        entries.push(Entry::new(Swatch::Line { color: th.fg, dashed: true, width: th.line, marker: None }, "bias²"));
    }
    if any_mc {
        entries.push(Entry::new(Swatch::ErrorBar { color: th.fg, marker: Marker::Circle }, "Monte Carlo ± 2 s.e."));
    }
    // The marks are named in the legend (labels inside the plot would cross the curves).
    for m in spec.marks.iter().filter(|m| m.key.is_none()) {
        entries.push(Entry::new(
            Swatch::Line { color: th.fg, dashed: true, width: th.thin * 2, marker: None },
            m.label.clone(),
        ));
    }
    if spec.marks.iter().any(|m| m.key.is_some()) {
        entries.push(Entry::new(
            Swatch::Line { color: th.muted, dashed: true, width: th.thin * 2, marker: Some((Marker::Circle, false)) },
            "E[ĝ] = 0 (estimator's colour)",
        ));
    }
    let Some(area) = kit::layout(root, &th, spec.subtitle, &entries)? else {
        return Ok(());
    };

    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.x)).chain(spec.current.as_ref().map(|c| c.0));
    let (x0, x1) = match spec.x_range {
        Some(r) => r,
        None if spec.log_x => kit::log_range_loose(xs, (0.1, 10.0)),
        None => kit::lin_range(xs, (0.0, 1.0)),
    };
    let mut ys = Vec::new();
    for p in series.iter().flat_map(|s| s.points.iter()) {
        // (Zeros sit on the floor, whatever it is: they do not set the range.)
        for f in [&p.bias_sq, &p.variance_trace].into_iter().filter(|f| shown(f, zero) > ZERO) {
            ys.push(f.value);
            let s = se(f);
            if is_mc(p) && s > 0.0 {
                ys.extend([f.value - 2.0 * s, f.value + 2.0 * s]);
            }
        }
    }
    let (y0, y1) = kit::log_range(ys, 12.0, (1e-4, 1.0));
    let yfmt = kit::log_fmt(y0, y1);
    let log_xfmt = kit::log_fmt(x0, x1);
    let lin_xfmt = kit::lin_fmt(x0, x1);
    let xfmt: &dyn Fn(&f64) -> String = match (spec.x_fmt, spec.log_x) {
        (Some(f), _) => f,
        (None, true) => &log_xfmt,
        (None, false) => &lin_xfmt,
    };
    let ylw = kit::y_label_width(&area, &th, &[yfmt(&y0), yfmt(&y1)])?;
    let xlh = kit::x_label_height(&th);
    let x_axis = if spec.log_x { Axis::log(x0, x1) } else { Axis::lin(x0, x1) };
    let fr = Frame { x: x_axis, y: Axis::log(y0, y1) };
    let x_coord = if spec.log_x { Coord::log(x0..x1) } else { Coord::lin(x0..x1) };
    let mut chart = kit::builder(&area, &th, xlh, ylw).build_cartesian_2d(x_coord, Coord::log(y0..y1)).map_err(err)?;
    let (pw, ph) = chart.plotting_area().dim_in_pixel();
    let x_labels = if spec.log_x {
        AxisLabels { desc: spec.x_desc, fmt: xfmt, n: kit::n_labels(pw, &th, 4.0), log: Some((x0, x1)) }
    } else {
        AxisLabels { desc: spec.x_desc, fmt: xfmt, n: kit::n_labels(pw, &th, 3.0).clamp(6, 12), log: None }
    };
    kit::mesh(
        &mut chart,
        &th,
        x_labels,
        AxisLabels {
            desc: &format!("bias²  /  variance (trace), of ∂/∂{}", spec.wrt),
            fmt: &yfmt,
            n: kit::n_labels(ph, &th, 2.5),
            log: Some((y0, y1)),
        },
    )?;
    content(chart.plotting_area(), &fr, &th, series, spec, zero)
}

fn content<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    pa: &kit::Plot<DB, X, Y>,
    fr: &Frame,
    th: &Theme,
    series: &[SweepSeries],
    spec: &Spec,
    zero: f64,
) -> Result<(), String> {
    if let Some((x, label)) = &spec.current {
        if fr.x.contains(*x) {
            kit::polyline(pa, fr, &[(*x, fr.y.lo), (*x, fr.y.hi)], th.muted.stroke_width(th.thin * 2), None)?;
            let style = th.text(th.small, th.fg).pos(kit::anchor(HPos::Left, VPos::Top));
            kit::label_at(pa, (*x, fr.y.hi), (th.px(4.0), th.px(3.0)), label, style)?;
        }
    }
    for m in spec.marks {
        if fr.x.contains(m.x) {
            let color = m.key.as_deref().map_or(th.fg, |k| look(k).color);
            let dots = Some((th.px(2.0), th.px(3.0)));
            kit::polyline(pa, fr, &[(m.x, fr.y.lo), (m.x, fr.y.hi)], color.stroke_width(th.thin * 2), dots)?;
            if let Some(k) = &m.key {
                kit::markers(pa, fr, &[(m.x, fr.y.lo)], look(k).marker, color, false, th)?;
            }
        }
    }
    for s in series {
        let l = look(&s.key);
        let var: Vec<(f64, f64)> = s.points.iter().map(|p| (p.x, shown(&p.variance_trace, zero))).collect();
        let bias: Vec<(f64, f64)> = s.points.iter().map(|p| (p.x, shown(&p.bias_sq, zero))).collect();
        for p in s.points.iter().filter(|p| is_mc(p)) {
            for f in [&p.bias_sq, &p.variance_trace] {
                let e = se(f);
                if e > 0.0 {
                    kit::error_bar(pa, fr, p.x, f.value - 2.0 * e, f.value + 2.0 * e, l.color, th)?;
                }
            }
        }
        for (pts, dash) in [(&var, None), (&bias, Some((th.px(7.0), th.px(4.0))))] {
            // A figure of exactly 0 has no place on the log axis: the line stops there (instead of
            // plunging to the axis floor) and the point is a hollow marker on the floor, labelled.
            for run in pts.split(|q| q.1 <= ZERO) {
                kit::polyline(pa, fr, run, l.color.stroke_width(th.line), dash)?;
            }
            // A series that is 0 at every point says so once, in the legend, not at each point.
            let all_zero = pts.iter().all(|q| q.1 <= ZERO);
            let what = if dash.is_none() { "variance" } else { "bias²" };
            for (p, q) in s.points.iter().zip(pts.iter()) {
                let f = if dash.is_none() { &p.variance_trace } else { &p.bias_sq };
                let at = if q.1 <= ZERO { (q.0, fr.y.lo) } else { *q };
                let series = format!("{} · {what}", probe::name(&s.key));
                let probe = Probe::new(series, p.x, f.value)
                    .se(is_mc(p).then(|| se(f)))
                    .names(spec.x_desc.split(" (").next().unwrap_or(""), what);
                if fr.contains(at) {
                    probe::at_pixel(th, pa.map_coordinate(&at), probe);
                }
                if q.1 <= ZERO {
                    if fr.x.contains(q.0) {
                        kit::markers(pa, fr, &[(q.0, fr.y.lo)], l.marker, l.color, false, th)?;
                        if !all_zero {
                            let style = th.text(th.small, l.color).pos(kit::anchor(HPos::Center, VPos::Bottom));
                            kit::label_at(pa, (q.0, fr.y.lo), (0, -th.px(7.0)), "= 0", style)?;
                        }
                    }
                } else {
                    kit::markers(pa, fr, &[*q], l.marker, l.color, !is_mc(p), th)?;
                }
            }
        }
    }
    if series.is_empty() {
        kit::note(&pa.strip_coord_spec(), th, spec.empty_note)?;
    }
    Ok(())
}

pub(crate) fn csv(x_name: &str, series: &[SweepSeries]) -> String {
    let header =
        [x_name, "estimator", "method", "bias_sq", "bias_sq_stderr", "variance_trace", "variance_trace_stderr"];
    let rows: Vec<Vec<String>> = series
        .iter()
        .flat_map(|s| {
            s.points.iter().map(move |p| {
                vec![
                    num(p.x),
                    s.key.clone(),
                    p.method.clone(),
                    num(p.bias_sq.value),
                    opt(p.bias_sq.stderr),
                    num(p.variance_trace.value),
                    opt(p.variance_trace.stderr),
                ]
            })
        })
        .collect();
    csv_text(&header, &rows)
}

/// "reinforce: 7 points, variance 0.1–0.5, bias² 0–0.02".
pub(crate) fn summary(series: &[SweepSeries]) -> String {
    let zero = floor(series);
    series
        .iter()
        .map(|s| {
            let range = |f: &dyn Fn(&SweepPoint) -> f64| {
                let v: Vec<f64> = s.points.iter().map(f).filter(|v| v.is_finite()).collect();
                let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if v.is_empty() {
                    "—".to_string()
                } else {
                    format!("{} to {}", format::sig(lo, 3), format::sig(hi, 3))
                }
            };
            format!(
                "{} ({} points; variance {}, bias² {})",
                s.key,
                s.points.len(),
                range(&|p| shown(&p.variance_trace, zero)),
                range(&|p| shown(&p.bias_sq, zero))
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
