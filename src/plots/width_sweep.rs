//! Bias² and variance trace against the layer width (every layer set to that width).

use super::sweep::{self, SweepSeries};
use super::{PlotData, Style};
use crate::protocol::SweepKind;
use crate::state::State;
use plotters::coord::Shift;
use plotters::prelude::*;
use stochgrad_core::settings::bounds;

/// Bias² and variance trace against layer width (x linear, y log).
#[derive(Clone, Debug, PartialEq)]
pub struct WidthSweep {
    /// The current width of the first layer (marked).
    pub width: usize,
    /// Number of stochastic layers.
    pub layers: usize,
    pub series: Vec<SweepSeries>,
    /// Some estimator is selected (else the empty plot says so).
    pub any_selected: bool,
}

impl WidthSweep {
    pub fn from_state(state: &State) -> Self {
        WidthSweep {
            width: state.page.model.widths.first().copied().unwrap_or(1),
            layers: state.page.model.widths.len(),
            series: sweep::series(state, SweepKind::Width, false),
            any_selected: !state.page.estimators.is_empty(),
        }
    }

    fn empty_note(&self) -> &'static str {
        if self.any_selected {
            "computing…"
        } else {
            "no estimator selected"
        }
    }

    fn subtitle(&self) -> String {
        if self.layers > 1 {
            format!("each point sets all {} layers to that width; current width {} marked", self.layers, self.width)
        } else {
            format!("each point sets the layer to that width; current width {} marked", self.width)
        }
    }
}

impl PlotData for WidthSweep {
    fn title(&self) -> &'static str {
        "Bias² and variance against layer width"
    }

    fn file_stem(&self) -> String {
        "width-sweep".into()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> Result<(), String> {
        let (lo, hi) = (bounds::WIDTH.0 as f64, bounds::WIDTH.1 as f64);
        let data_hi = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.x)).fold(hi, f64::max);
        let data_lo = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.x)).fold(lo, f64::min);
        let ints = |v: &f64| {
            let r = v.round();
            if (v - r).abs() < 1e-9 {
                format!("{}", r as i64)
            } else {
                String::new()
            }
        };
        let subtitle = self.subtitle();
        let spec = sweep::Spec {
            log_x: false,
            x_desc: "width of every layer",
            wrt: "θ",
            x_range: Some((data_lo - 0.5, data_hi + 0.5)),
            current: Some((self.width as f64, format!("width = {}", self.width))),
            subtitle: Some(&subtitle),
            empty_note: self.empty_note(),
            x_fmt: Some(&ints),
            marks: &[],
        };
        sweep::draw(root, style, &self.series, &spec)
    }

    fn csv(&self) -> String {
        sweep::csv("width", &self.series)
    }

    fn describe(&self) -> String {
        if self.series.is_empty() {
            return format!("Sweep of bias² and variance against layer width: {}.", self.empty_note());
        }
        format!(
            "Plot of variance trace (solid) and bias² (dashed, log scale) against the width of every layer, current width {} marked: {}.",
            self.width,
            sweep::summary(&self.series)
        )
    }
}
