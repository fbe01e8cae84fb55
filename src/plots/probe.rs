//! Probes: the data points a plot drew, for the values under the pointer (§ hover).
//!
//! While a plot draws on the page, every data point it draws is recorded as a [`Probe`] — series,
//! x, y, optional standard error and where it landed, in CSS pixels of the canvas. The plot
//! component draws inside [`recorded`] and shows the nearest probe's values in a tooltip (and,
//! under keyboard focus, steps through them). Exports draw outside `recorded`, so they record
//! nothing and are unchanged.
//!
//! Adding probes to a plot is one call per drawn point, after the chart's mesh (so that the
//! coordinates are final): `probe::point(pa, &fr, &th, Probe::new(series, x, y).se(se).names("τ", "variance"))`.
//! A point outside the plotting area, or not finite, is skipped (the tooltip never shows NaN).

use super::kit::{Frame, Plot, Theme};
use plotters::prelude::*;
use std::cell::RefCell;

/// One drawn data point.
#[derive(Clone, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub struct Probe {
    /// The series (an estimator's name and what its line is, e.g. "REINFORCE · running mean").
    pub series: String,
    pub x: f64,
    pub y: f64,
    /// The standard error of `y` (Monte Carlo).
    pub se: Option<f64>,
    /// What x and y are ("samples", "mean"); an empty `x_name` hides x (categorical axes).
    pub x_name: String,
    pub y_name: String,
    /// Where it is drawn, in CSS pixels from the canvas's top left corner.
    pub at: (f64, f64),
}

impl Probe {
    pub fn new(series: impl Into<String>, x: f64, y: f64) -> Probe {
        Probe { series: series.into(), x, y, se: None, x_name: "x".into(), y_name: "y".into(), at: (0.0, 0.0) }
    }
    /// With a standard error (ignored unless finite and positive).
    pub fn se(mut self, se: Option<f64>) -> Probe {
        self.se = se.filter(|s| s.is_finite() && *s > 0.0);
        self
    }
    pub fn names(mut self, x: &str, y: &str) -> Probe {
        (self.x_name, self.y_name) = (x.to_string(), y.to_string());
        self
    }

    /// "REINFORCE · running mean — samples = 1,000, mean = 0.0197 ± 0.0021": what the tooltip and
    /// the screen reader say (never NaN).
    pub fn text(&self) -> String {
        use crate::format::{sig, with_se};
        let x = if self.x_name.is_empty() {
            String::new()
        } else if ["samples", "step", "loss evaluations"].contains(&self.x_name.as_str()) {
            format!("{} = {}, ", self.x_name, crate::format::thousands(self.x.max(0.0).round() as u64))
        } else {
            format!("{} = {}, ", self.x_name, sig(self.x, 4))
        };
        format!("{} — {x}{} = {}", self.series, self.y_name, with_se(self.y, self.se))
    }
}

thread_local! {
    static RECORDING: RefCell<Option<Vec<Probe>>> = const { RefCell::new(None) };
}

/// Run `draw`, returning what it returns and the probes recorded while it ran.
pub fn recorded<R>(draw: impl FnOnce() -> R) -> (R, Vec<Probe>) {
    let before = RECORDING.with(|r| r.borrow_mut().replace(Vec::new()));
    let out = draw();
    let probes = RECORDING.with(|r| std::mem::replace(&mut *r.borrow_mut(), before)).unwrap_or_default();
    (out, probes)
}

/// Whether probes are being recorded (a plot may skip building their texts otherwise).
pub fn recording() -> bool {
    RECORDING.with(|r| r.borrow().is_some())
}

/// Record `p` at its data coordinates on the plotting area `pa` (if recording, finite and inside
/// the frame).
pub(crate) fn point<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    pa: &Plot<DB, X, Y>,
    fr: &Frame,
    th: &Theme,
    p: Probe,
) {
    if !(p.x.is_finite() && p.y.is_finite() && fr.contains((p.x, p.y))) {
        return;
    }
    let (px, py) = pa.map_coordinate(&(p.x, p.y));
    at_pixel(th, (px, py), p);
}

/// Record `p` drawn at the backend pixel `px` (for points placed by hand, like the bars' markers).
pub(crate) fn at_pixel(th: &Theme, px: (i32, i32), mut p: Probe) {
    if !(p.x.is_finite() && p.y.is_finite()) {
        return;
    }
    let s = if th.s > 0.0 { th.s } else { 1.0 };
    p.at = (px.0 as f64 / s, px.1 as f64 / s);
    RECORDING.with(|r| {
        if let Some(list) = r.borrow_mut().as_mut() {
            list.push(p);
        }
    });
}

/// An estimator's name for a probe's series (its key if unknown).
pub(crate) fn name(key: &str) -> String {
    stochgrad_core::estimators::find_meta(key).map_or_else(|| key.to_string(), |m| m.name.to_string())
}

/// Probes grouped by series (in the order each series was first drawn), left to right within one.
pub fn in_reading_order(probes: Vec<Probe>) -> Vec<Probe> {
    let mut order: Vec<&str> = Vec::new();
    for p in &probes {
        if !order.contains(&p.series.as_str()) {
            order.push(&p.series);
        }
    }
    let rank = |p: &Probe| order.iter().position(|s| *s == p.series).unwrap_or(0);
    let mut keyed: Vec<(usize, Probe)> = probes.iter().map(|p| (rank(p), p.clone())).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.at.0.total_cmp(&b.1.at.0)));
    keyed.into_iter().map(|(_, p)| p).collect()
}

/// The probe nearest to `at` within `radius` CSS pixels.
pub fn nearest(probes: &[Probe], at: (f64, f64), radius: f64) -> Option<usize> {
    let d = |p: &Probe| (p.at.0 - at.0).hypot(p.at.1 - at.1);
    probes.iter().enumerate().filter(|(_, p)| d(p) <= radius).min_by(|a, b| d(a.1).total_cmp(&d(b.1))).map(|(i, _)| i)
}

/// Keyboard steps between probes: Left/Right within a series, Up/Down to the previous/next series
/// (to its point nearest in x), Home/End to the first/last point of the series.
pub fn step(probes: &[Probe], from: Option<usize>, key: &str) -> Option<usize> {
    if probes.is_empty() {
        return None;
    }
    let Some(i) = from.filter(|i| *i < probes.len()) else { return Some(0) };
    let series = &probes[i].series;
    let same: Vec<usize> = (0..probes.len()).filter(|j| probes[*j].series == *series).collect();
    let k = same.iter().position(|j| *j == i).unwrap_or(0);
    match key {
        "ArrowLeft" => Some(same[k.saturating_sub(1)]),
        "ArrowRight" => Some(same[(k + 1).min(same.len() - 1)]),
        "Home" => Some(same[0]),
        "End" => Some(same[same.len() - 1]),
        "ArrowUp" | "ArrowDown" => {
            // The neighbouring series: the first probe before this series, or the first after it.
            let other = if key == "ArrowUp" {
                same[0].checked_sub(1).map(|j| probes[j].series.clone())
            } else {
                probes.get(same[same.len() - 1] + 1).map(|p| p.series.clone())
            };
            let Some(other) = other else { return Some(i) };
            let x = probes[i].at.0;
            (0..probes.len())
                .filter(|j| probes[*j].series == other)
                .min_by(|a, b| (probes[*a].at.0 - x).abs().total_cmp(&(probes[*b].at.0 - x).abs()))
        }
        _ => Some(i),
    }
}
