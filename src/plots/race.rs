//! The training race: each estimator's exact `E[f]` at its current parameters against loss
//! evaluations spent (the fair axis) or training steps.

use super::kit::{self, err, Axis, AxisLabels, Coord, Entry, Frame, Swatch, Theme};
use super::probe::{self, Probe};
use super::{csv_text, look, num, opt, PlotData, Style};
use crate::format;
use crate::page::Page;
use crate::state::{RaceView, State};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::rc::Rc;
use stochgrad_core::estimators::{find_meta, Family};
use stochgrad_core::stats::Method;
use stochgrad_core::train::StepReport;

/// Most points of one line actually drawn (more are thinned evenly, keeping the last).
const MAX_DRAWN: usize = 1200;

/// One estimator's race.
#[derive(Clone, Debug, PartialEq)]
pub struct RaceSeries {
    pub key: String,
    /// A unit type: its E[f] is that of its own objective (a different network).
    pub own: bool,
    /// Step 0 and every step since.
    pub reports: Rc<Vec<StepReport>>,
}

impl RaceSeries {
    fn point(&self, r: &StepReport, by_evals: bool) -> (f64, f64) {
        (if by_evals { r.loss_evaluations } else { r.step as f64 }, r.expected_loss)
    }

    /// Loss evaluations per step (from the latest report), if known.
    fn evals_per_step(&self) -> Option<f64> {
        let r = self.reports.last()?;
        (r.step > 0 && r.loss_evaluations.is_finite()).then(|| r.loss_evaluations / r.step as f64)
    }

    fn monte_carlo(&self) -> bool {
        self.reports.iter().any(|r| r.method == Method::MonteCarlo)
    }
}

/// Exact E[f] against steps or loss evaluations for every racing estimator.
#[derive(Clone, Debug, PartialEq)]
pub struct RacePlot {
    pub by_evals: bool,
    /// The steps budget (the x range on the steps axis).
    pub budget: u64,
    pub series: Vec<RaceSeries>,
    /// Why the race cannot run, if so.
    pub failure: Option<String>,
}

impl RacePlot {
    pub fn from_state(state: &State) -> Self {
        RacePlot::new(&state.page, &state.race)
    }

    /// The race's plot from the settings and the race's rows (all the race panel is given).
    pub fn new(page: &Page, race: &RaceView) -> Self {
        let series = page
            .estimators
            .iter()
            .filter_map(|key| {
                let row = race.rows.get(key)?;
                (!row.reports.is_empty()).then(|| RaceSeries {
                    key: key.clone(),
                    own: find_meta(key).is_some_and(|m| m.family == Family::UnitType),
                    reports: row.reports.clone(),
                })
            })
            .collect();
        RacePlot { by_evals: page.race_by_evals, budget: page.race_steps, series, failure: race.failure.clone() }
    }

    fn x_desc(&self) -> &'static str {
        if self.by_evals {
            "loss evaluations spent (the fair axis)"
        } else {
            "training steps (one estimate each)"
        }
    }

    /// The x range: the whole budget, so the axis stays put while the race runs.
    pub(crate) fn x_range(&self) -> (f64, f64) {
        let budget = self.budget.max(1) as f64;
        let hi = if self.by_evals {
            let per_step = self.series.iter().filter_map(|s| s.evals_per_step()).fold(0.0f64, f64::max);
            let seen = self
                .series
                .iter()
                .flat_map(|s| s.reports.iter().map(|r| r.loss_evaluations))
                .filter(|v| v.is_finite())
                .fold(0.0f64, f64::max);
            (per_step * budget).max(seen)
        } else {
            budget
        };
        (0.0, if hi > 0.0 { hi } else { budget })
    }
}

impl PlotData for RacePlot {
    fn title(&self) -> &'static str {
        "Training race: exact E[f] while training"
    }

    fn file_stem(&self) -> String {
        format!("race-{}", if self.by_evals { "evals" } else { "steps" })
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> Result<(), String> {
        let th = Theme::new(style);
        let entries: Vec<Entry> = self
            .series
            .iter()
            .map(|s| {
                let l = look(&s.key);
                let mut label = s.key.clone();
                if s.own {
                    label.push_str(" (own objective: a different unit)");
                }
                if s.monte_carlo() {
                    label.push_str(" (E[f] by Monte Carlo)");
                }
                Entry::new(
                    Swatch::Line { color: l.color, dashed: false, width: th.line, marker: Some((l.marker, true)) },
                    label,
                )
            })
            .collect();
        let Some(area) = kit::layout(root, &th, None, &entries)? else {
            return Ok(());
        };
        let (x0, x1) = self.x_range();
        let ys = self.series.iter().flat_map(|s| s.reports.iter().map(|r| r.expected_loss));
        let (y0, y1) = kit::lin_range(ys, (0.0, 1.0));
        let xfmt = |v: &f64| if *v == 0.0 { "0".to_string() } else { kit::si(*v) };
        let yfmt = kit::lin_fmt(y0, y1);
        let ylw = kit::y_label_width(&area, &th, &[yfmt(&y0), yfmt(&y1), yfmt(&((y0 + y1) / 2.0))])?;
        let mut chart = kit::builder(&area, &th, kit::x_label_height(&th), ylw)
            .build_cartesian_2d(Coord::lin(x0..x1), Coord::lin(y0..y1))
            .map_err(err)?;
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let y_desc = if self.series.iter().any(|s| s.own) {
            "exact E[f] (unit types: their own objective)"
        } else {
            "exact E[f] at the current parameters"
        };
        kit::mesh(
            &mut chart,
            &th,
            AxisLabels { desc: self.x_desc(), fmt: &xfmt, n: kit::n_labels(pw, &th, 4.0), log: None },
            AxisLabels { desc: y_desc, fmt: &yfmt, n: kit::n_labels(ph, &th, 2.5), log: None },
        )?;
        let fr = Frame { x: Axis::lin(x0, x1), y: Axis::lin(y0, y1) };
        let pa = chart.plotting_area();
        for (i, s) in self.series.iter().enumerate() {
            let l = look(&s.key);
            let n = s.reports.len();
            let stride = n.div_ceil(MAX_DRAWN).max(1);
            let pts: Vec<(f64, f64)> = s
                .reports
                .iter()
                .enumerate()
                .filter(|(j, _)| j % stride == 0 || j + 1 == n)
                .map(|(_, r)| s.point(r, self.by_evals))
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            kit::polyline(pa, &fr, &pts, l.color.stroke_width(th.line), None)?;
            // A few markers along the line (staggered between estimators) and one at its end.
            let marks = 6;
            let mut marked: Vec<(f64, f64)> = (0..marks)
                .filter_map(|m| {
                    let frac = (m as f64 + 0.5 + 0.12 * (i % 5) as f64) / marks as f64;
                    pts.get(((pts.len() as f64 * frac) as usize).min(pts.len().saturating_sub(1))).copied()
                })
                .collect();
            marked.extend(pts.last().copied());
            kit::markers(pa, &fr, &marked, l.marker, l.color, !s.monte_carlo(), &th)?;
            let series = probe::name(&s.key);
            let x_name = if self.by_evals { "loss evaluations" } else { "step" };
            for &(x, y) in &pts {
                probe::point(pa, &fr, &th, Probe::new(series.clone(), x, y).names(x_name, "E[f]"));
            }
        }
        if let Some(f) = &self.failure {
            kit::note(&pa.strip_coord_spec(), &th, &format!("cannot race: {}", first_clause(f)))?;
        } else if self.series.is_empty() {
            kit::note(&pa.strip_coord_spec(), &th, "waiting for the race…")?;
        }
        Ok(())
    }

    fn csv(&self) -> String {
        let header =
            ["estimator", "step", "loss_evaluations", "expected_loss", "grad_norm", "p", "method", "objective"];
        let rows: Vec<Vec<String>> = self
            .series
            .iter()
            .flat_map(|s| {
                s.reports.iter().map(move |r| {
                    vec![
                        s.key.clone(),
                        r.step.to_string(),
                        num(r.loss_evaluations),
                        num(r.expected_loss),
                        num(r.grad_norm),
                        opt(r.p),
                        r.method.key().to_string(),
                        if s.own { "own (a different unit)".to_string() } else { "binary network".to_string() },
                    ]
                })
            })
            .collect();
        csv_text(&header, &rows)
    }

    fn describe(&self) -> String {
        if let Some(f) = &self.failure {
            return format!("Training race: cannot race: {f}.");
        }
        if self.series.is_empty() {
            return "Training race: waiting for the first figures.".into();
        }
        let parts: Vec<String> = self
            .series
            .iter()
            .filter_map(|s| {
                let r = s.reports.last()?;
                let p = r.p.map(|p| format!(", p = {}", format::sig(p, 3))).unwrap_or_default();
                let own = if s.own { " (its own objective)" } else { "" };
                Some(format!(
                    "{} E[f] = {}{own} after {} steps and {} loss evaluations{p}",
                    s.key,
                    format::sig(r.expected_loss, 4),
                    r.step,
                    format::sig(r.loss_evaluations, 4)
                ))
            })
            .collect();
        format!("Line plot of the exact expected loss while training, against {}: {}.", self.x_desc(), parts.join("; "))
    }
}

/// The first clause of a long message (up to the first " — " or "; "), for a note inside a plot.
fn first_clause(s: &str) -> &str {
    let end = [s.find(" — "), s.find("; ")].into_iter().flatten().min().unwrap_or(s.len());
    &s[..end]
}
