//! Bias² and variance trace against the temperature τ.

use super::sweep::{self, SweepSeries};
use super::{PlotData, Style};
use crate::protocol::SweepKind;
use crate::state::State;
use plotters::coord::Shift;
use plotters::prelude::*;
use stochgrad_core::estimators::find_meta;

/// Bias² and variance trace against τ (log–log) for the selected estimators that use τ.
#[derive(Clone, Debug, PartialEq)]
pub struct TauSweep {
    /// The current τ (marked).
    pub tau: f64,
    pub series: Vec<SweepSeries>,
    /// Some selected estimator uses τ (else the empty plot says so).
    pub any_uses_tau: bool,
    /// What the derivatives are with respect to ("θ" or "p").
    pub wrt: &'static str,
}

impl TauSweep {
    pub fn from_state(state: &State) -> Self {
        TauSweep {
            tau: state.page.tau,
            series: sweep::series(state, SweepKind::Tau, true),
            any_uses_tau: state.page.estimators.iter().any(|k| find_meta(k).is_some_and(|m| m.uses_tau)),
            wrt: state.wrt_symbol(),
        }
    }

    fn empty_note(&self) -> &'static str {
        if self.any_uses_tau {
            "computing…"
        } else {
            "no selected estimator uses τ"
        }
    }
}

impl PlotData for TauSweep {
    fn title(&self) -> &'static str {
        "Bias² and variance against τ"
    }

    fn file_stem(&self) -> String {
        "tau-sweep".into()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> Result<(), String> {
        let current = (self.tau.is_finite() && self.tau > 0.0).then(|| (self.tau, format!("τ = {:.2}", self.tau)));
        let spec = sweep::Spec {
            log_x: true,
            x_desc: "temperature τ (log scale)",
            wrt: self.wrt,
            x_range: None,
            current,
            subtitle: None,
            empty_note: self.empty_note(),
            x_fmt: None,
            marks: &[],
        };
        sweep::draw(root, style, &self.series, &spec)
    }

    fn csv(&self) -> String {
        sweep::csv("tau", &self.series)
    }

    fn describe(&self) -> String {
        if self.series.is_empty() {
            return format!("Sweep of bias² and variance against τ: {}.", self.empty_note());
        }
        format!(
            "Log–log plot of variance trace (solid) and bias² (dashed) against τ, current τ = {:.2} marked: {}.",
            self.tau,
            sweep::summary(&self.series)
        )
    }
}
