//! Bias² and variance trace against a unit's firing probability (its bias swept over
//! `stochgrad_core::sweep`'s range), with the current value, the optimum of `E[f]` over the range
//! and each estimator's stationary points marked.

use super::sweep::{self, SweepSeries, XMark};
use super::{PlotData, Style};
use crate::format;
use crate::protocol::{LogitMark, SweepKind};
use crate::state::State;
use plotters::coord::Shift;
use plotters::prelude::*;
use stochgrad_core::math::sigmoid;
use stochgrad_core::sweep::{MAX_UNITS, RANGE};

/// The swept unit and the optimum of `E[f]` (the worker's first mark).
#[derive(Clone, Debug, PartialEq)]
pub struct Optimum {
    pub unit: String,
    pub current: f64,
    pub logit: bool,
    pub x: f64,
    pub expected_loss: f64,
    pub at_edge: bool,
}

/// One estimator's stationary points: `(x, rising)` in the swept bias, and how they were found.
#[derive(Clone, Debug, PartialEq)]
pub struct Stationary {
    pub key: String,
    pub crossings: Vec<(f64, bool)>,
    pub method: String,
}

/// Bias² and variance trace against the swept bias (shown as p = σ(bias) for one unit without
/// inputs), x linear, y log.
#[derive(Clone, Debug, PartialEq)]
pub struct LogitSweep {
    /// Series in the swept bias (converted for drawing).
    pub series: Vec<SweepSeries>,
    pub optimum: Option<Optimum>,
    pub stationary: Vec<Stationary>,
    /// Some estimator is selected (else the empty plot says so).
    pub any_selected: bool,
    /// The network has few enough units for the sweep.
    pub small: bool,
    /// The swept bias is one class's of a categorical unit (its probability is a softmax).
    pub categorical: bool,
}

impl LogitSweep {
    pub fn from_state(state: &State) -> Self {
        let mut optimum = None;
        let mut stationary = Vec::new();
        for m in &state.logit_marks {
            match m {
                LogitMark::Optimum { unit, current, logit, x, expected_loss, at_edge } => {
                    optimum = Some(Optimum {
                        unit: unit.clone(),
                        current: *current,
                        logit: *logit,
                        x: *x,
                        expected_loss: *expected_loss,
                        at_edge: *at_edge,
                    })
                }
                LogitMark::Stationary { key, crossings, method } if state.page.estimators.contains(key) => stationary
                    .push(Stationary { key: key.clone(), crossings: crossings.clone(), method: method.clone() }),
                LogitMark::Stationary { .. } => {}
            }
        }
        // In selection order.
        stationary.sort_by_key(|s| state.page.estimators.iter().position(|k| *k == s.key));
        let units: usize = state.page.model.widths.iter().sum();
        LogitSweep {
            series: sweep::series(state, SweepKind::Logit, false),
            optimum,
            stationary,
            any_selected: !state.page.estimators.is_empty(),
            small: units <= MAX_UNITS,
            categorical: state.page.model.unit == stochgrad_core::settings::UnitChoice::Categorical,
        }
    }

    /// The x shown: p = σ(b) when the bias is a logit, else the bias.
    fn is_p(&self) -> bool {
        self.optimum.as_ref().is_some_and(|o| o.logit)
    }

    fn shown_x(&self, b: f64) -> f64 {
        if self.is_p() {
            sigmoid(b)
        } else {
            b
        }
    }

    /// "p = 0.269" or "c2[0] = −1.00".
    fn at(&self, b: f64) -> String {
        match &self.optimum {
            Some(o) if o.logit => format!("p = {}", format::sig(sigmoid(b), 3)),
            Some(o) => format!("{} = {}", o.unit, format::sig(b, 3)),
            None => format!("bias = {}", format::sig(b, 3)),
        }
    }

    fn empty_note(&self) -> String {
        if !self.small {
            format!("the firing-probability sweep runs for networks of at most {MAX_UNITS} units")
        } else if self.any_selected {
            "computing…".into()
        } else {
            "no estimator selected".into()
        }
    }

    /// The optimum, in words.
    pub fn optimum_text(&self) -> Option<String> {
        let o = self.optimum.as_ref()?;
        Some(if o.at_edge {
            format!(
                "E[f] is lowest at {}, at the range's edge (E[f] = {})",
                self.at(o.x),
                format::sig(o.expected_loss, 4)
            )
        } else {
            format!("E[f] is lowest at {} (E[f] = {})", self.at(o.x), format::sig(o.expected_loss, 4))
        })
    }

    /// Each estimator's stationary points, in words.
    fn stationary_text(&self) -> Vec<String> {
        self.stationary
            .iter()
            .map(|s| {
                let how = if s.method == "monte-carlo" {
                    "interpolated between Monte-Carlo means"
                } else {
                    "exact, by bisection"
                };
                if s.crossings.is_empty() {
                    format!("{}'s expected gradient does not cross zero in the range", s.key)
                } else {
                    let at: Vec<String> = s
                        .crossings
                        .iter()
                        .map(|&(x, rising)| format!("{}{}", self.at(x), if rising { "" } else { " (unstable)" }))
                        .collect();
                    format!("{}'s expected gradient crosses zero at {} ({how})", s.key, at.join(", "))
                }
            })
            .collect()
    }

    /// The optimum and the stationary points in words (shown under the plot).
    pub fn caption(&self) -> String {
        let mut parts: Vec<String> = self.optimum_text().into_iter().collect();
        parts.extend(self.stationary_text());
        parts.join("; ")
    }

    fn marks(&self) -> Vec<XMark> {
        let mut marks = Vec::new();
        if let Some(o) = &self.optimum {
            let edge = if o.at_edge { " (edge of the range)" } else { "" };
            marks.push(XMark { x: self.shown_x(o.x), label: format!("optimum of E[f]{edge}"), key: None });
        }
        for s in &self.stationary {
            for &(x, _) in &s.crossings {
                marks.push(XMark {
                    x: self.shown_x(x),
                    label: format!("{}: E[ĝ] = 0", s.key),
                    key: Some(s.key.clone()),
                });
            }
        }
        marks
    }
}

impl PlotData for LogitSweep {
    fn title(&self) -> &'static str {
        "Bias² and variance against the firing probability"
    }

    fn file_stem(&self) -> String {
        "firing-probability-sweep".into()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> Result<(), String> {
        let series: Vec<SweepSeries> = self
            .series
            .iter()
            .map(|s| {
                let mut points = s.points.clone();
                for p in &mut points {
                    p.x = self.shown_x(p.x);
                }
                SweepSeries { key: s.key.clone(), points }
            })
            .collect();
        let range = (self.shown_x(RANGE.0), self.shown_x(RANGE.1));
        let (desc, current) = match &self.optimum {
            Some(o) if o.logit => ("firing probability p = σ(c)", Some((sigmoid(o.current), self.at(o.current)))),
            Some(o) => ("the swept unit's bias", Some((o.current, self.at(o.current)))),
            None => ("the swept unit's bias", None),
        };
        let x_desc = match &self.optimum {
            Some(o) if !o.logit && self.categorical => {
                format!(
                    "bias {} (one class's logit; the class's probability is the softmax of its unit's logits)",
                    o.unit
                )
            }
            Some(o) if !o.logit => format!("bias {} (the unit's firing probability is σ of its logit)", o.unit),
            _ => desc.to_string(),
        };
        let subtitle = self.optimum.as_ref().map(|o| {
            format!(
                "bias {} swept over logits {} to {}; exact where the moments are, else Monte Carlo",
                o.unit,
                format::sig(RANGE.0, 2),
                format::sig(RANGE.1, 2)
            )
        });
        let marks = self.marks();
        let note = self.empty_note();
        let spec = sweep::Spec {
            log_x: false,
            x_desc: &x_desc,
            wrt: "θ",
            x_range: Some(range),
            current,
            subtitle: subtitle.as_deref(),
            empty_note: &note,
            x_fmt: None,
            marks: &marks,
        };
        sweep::draw(root, style, &series, &spec)
    }

    fn csv(&self) -> String {
        sweep::csv("bias", &self.series)
    }

    fn describe(&self) -> String {
        if self.series.is_empty() {
            return format!("Sweep of bias² and variance against the firing probability: {}.", self.empty_note());
        }
        let mut parts = vec![format!(
            "Plot of variance trace (solid) and bias² (dashed, log scale) against {}, current value marked: {}",
            if self.is_p() { "the firing probability p" } else { "the swept unit's bias" },
            sweep::summary(&self.series)
        )];
        parts.push(self.caption());
        format!("{}.", parts.join(". "))
    }
}
