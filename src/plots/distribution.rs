//! The estimator as a random variable: the distribution of the estimate of the parameter the
//! convergence plot shows, every selected estimator overlaid in its colour. Exact atoms are stems
//! (height = probability), exact uniform pieces (AR's and ARM's noise inside a cell) rectangles
//! whose height is the piece's probability mass, Monte-Carlo histograms outlined bars whose height
//! is each bin's fraction of the draws (labelled "Monte Carlo, N draws"). The exact gradient is a
//! solid vertical line, each estimator's mean a dashed one in its colour: the spread is the
//! variance the bars show.

use super::kit::{self, err, Axis, AxisLabels, Coord, Entry, Frame, Swatch, Theme};
use super::probe::{self, Probe};
use super::{csv_text, look, num, PlotData, Style};
use crate::format;
use crate::protocol::DistView;
use crate::state::State;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One estimator's distribution.
#[derive(Clone, Debug, PartialEq)]
pub struct DistSeries {
    pub key: String,
    pub view: DistView,
}

impl DistSeries {
    pub fn is_mc(&self) -> bool {
        self.view.method == "monte-carlo"
    }

    /// What the estimator's shape is, for the legend.
    fn label(&self) -> String {
        if self.is_mc() {
            format!("{}: Monte Carlo, {} draws", self.key, format::thousands(self.view.samples))
        } else {
            format!("{}: exact", self.key)
        }
    }

    /// `(from, to, probability)` of every drawn element: atoms (`from = to`), pieces, bins.
    fn masses(&self) -> Vec<(f64, f64, f64)> {
        let v = &self.view;
        let mut out: Vec<(f64, f64, f64)> = v.values.iter().zip(&v.probabilities).map(|(&x, &p)| (x, x, p)).collect();
        out.extend(v.pieces.iter().copied());
        let n = v.counts.iter().sum::<u64>().max(1) as f64;
        out.extend(v.counts.iter().enumerate().filter_map(|(i, &c)| {
            let (a, b) = (*v.edges.get(i)?, *v.edges.get(i + 1)?);
            Some((a, b, c as f64 / n))
        }));
        out.retain(|m| m.0.is_finite() && m.1.is_finite() && m.2.is_finite());
        out
    }
}

/// The distributions of one parameter's estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct DistPlot {
    pub param_name: String,
    /// The exact gradient's entry (once known).
    pub gradient: Option<f64>,
    pub series: Vec<DistSeries>,
    /// Estimators with no distribution, and why.
    pub refused: Vec<(String, String)>,
    /// Selected estimators still to come.
    pub pending: usize,
}

impl DistPlot {
    pub fn from_state(state: &State) -> Self {
        let param = state.page.param;
        let exact = state.exact.as_ref();
        let param_name = exact.and_then(|e| e.names.get(param).cloned()).unwrap_or_else(|| format!("θ{param}"));
        let (mut series, mut refused) = (Vec::new(), Vec::new());
        for key in &state.page.estimators {
            match state.dist.iter().find(|(k, _)| k == key) {
                Some((_, Ok(v))) => series.push(DistSeries { key: key.clone(), view: (**v).clone() }),
                Some((_, Err(e))) => refused.push((key.clone(), e.clone())),
                None => {}
            }
        }
        let pending = state.page.estimators.len() - series.len() - refused.len();
        DistPlot {
            param_name,
            gradient: exact.and_then(|e| e.gradient.get(param).copied()).filter(|g| g.is_finite()),
            series,
            refused,
            pending,
        }
    }
}

impl PlotData for DistPlot {
    fn title(&self) -> &'static str {
        "Distribution of the estimate"
    }

    fn file_stem(&self) -> String {
        let s = super::slug(&self.param_name);
        format!("distribution-{}", if s.is_empty() { "theta".to_string() } else { s })
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> Result<(), String> {
        let th = Theme::new(style);
        let mut entries: Vec<Entry> = self
            .series
            .iter()
            .map(|s| {
                let l = look(&s.key);
                let swatch = if s.is_mc() {
                    Swatch::Bar { color: l.color, light: true, hatched: true }
                } else {
                    Swatch::Line { color: l.color, dashed: false, width: 0, marker: Some((l.marker, true)) }
                };
                Entry::new(swatch, s.label())
            })
            .collect();
        entries.push(Entry::new(
            Swatch::Line { color: th.exact, dashed: false, width: th.thick, marker: None },
            format!("exact ∂E[f]/∂{}", self.param_name),
        ));
        if !self.series.is_empty() {
            entries
                .push(Entry::new(Swatch::Line { color: th.muted, dashed: true, width: 0, marker: None }, "mean E[ĝ]"));
        }
        let subtitle =
            "stems: probability of each value; rectangles: probability of a uniform piece or a histogram bin";
        let Some(area) = kit::layout(root, &th, Some(subtitle), &entries)? else {
            return Ok(());
        };
        let mut xs: Vec<f64> = self.gradient.into_iter().collect();
        let mut top = 0.0f64;
        for s in &self.series {
            for (a, b, p) in s.masses() {
                xs.extend([a, b]);
                top = top.max(p);
            }
            if s.view.mean.is_finite() {
                xs.push(s.view.mean);
            }
        }
        let (lo, hi) = kit::lin_range(xs, (-1.0, 1.0));
        let (ylo, yhi) = (0.0, if top > 0.0 { top * 1.08 } else { 1.0 });
        let x_desc = format!("estimate ĝ of ∂E[f]/∂{}", self.param_name);
        let xfmt = kit::lin_fmt(lo, hi);
        let yfmt = kit::lin_fmt(ylo, yhi);
        let ylw = kit::y_label_width(&area, &th, &[yfmt(&ylo), yfmt(&yhi), yfmt(&(yhi / 2.0))])?;
        let mut chart = kit::builder(&area, &th, kit::x_label_height(&th), ylw)
            .build_cartesian_2d(Coord::lin(lo..hi), Coord::lin(ylo..yhi))
            .map_err(err)?;
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        kit::mesh(
            &mut chart,
            &th,
            AxisLabels { desc: &x_desc, fmt: &xfmt, n: kit::n_labels(pw, &th, 5.0), log: None },
            AxisLabels { desc: "probability", fmt: &yfmt, n: kit::n_labels(ph, &th, 2.5), log: None },
        )?;
        let fr = Frame { x: Axis::lin(lo, hi), y: Axis::lin(ylo, yhi) };
        let pa = chart.plotting_area();
        // Histograms and pieces first (outlined rectangles, lightly filled), then stems on top.
        for s in &self.series {
            let l = look(&s.key);
            for (a, b, p) in s.masses().into_iter().filter(|m| m.1 > m.0) {
                let rect = [(a, 0.0), (a, p), (b, p), (b, 0.0)];
                kit::polygon(pa, &fr, &rect, l.color.mix(0.18))?;
                kit::polyline(pa, &fr, &rect, l.color.stroke_width(th.thin * 2), None)?;
                let what = if s.is_mc() { "bin" } else { "piece" };
                let series = format!("{} · {what} {} to {}", probe::name(&s.key), format::sig(a, 4), format::sig(b, 4));
                probe::point(pa, &fr, &th, Probe::new(series, (a + b) / 2.0, p).names("", "probability"));
            }
        }
        for s in &self.series {
            let l = look(&s.key);
            let tops: Vec<(f64, f64)> = s.masses().into_iter().filter(|m| m.1 == m.0).map(|m| (m.0, m.2)).collect();
            for &(x, p) in &tops {
                kit::polyline(pa, &fr, &[(x, 0.0), (x, p)], l.color.stroke_width(th.line), None)?;
            }
            kit::markers(pa, &fr, &tops, l.marker, l.color, true, &th)?;
            for &(x, p) in &tops {
                probe::point(pa, &fr, &th, Probe::new(probe::name(&s.key), x, p).names("value", "probability"));
            }
        }
        if let Some(g) = self.gradient {
            kit::polyline(pa, &fr, &[(g, ylo), (g, yhi)], th.exact.stroke_width(th.thick), None)?;
            let mid = (ylo + yhi) / 2.0;
            if fr.contains((g, mid)) {
                probe::at_pixel(
                    &th,
                    pa.map_coordinate(&(g, mid)),
                    Probe::new("exact gradient", g, g).names("", "value"),
                );
            }
        }
        for s in &self.series {
            let m = s.view.mean;
            if m.is_finite() {
                let l = look(&s.key);
                kit::polyline(
                    pa,
                    &fr,
                    &[(m, ylo), (m, yhi)],
                    l.color.stroke_width(th.line),
                    Some((th.px(6.0), th.px(4.0))),
                )?;
                let at = (m, ylo + (yhi - ylo) * 0.4);
                if fr.contains(at) {
                    let p = Probe::new(format!("{} · mean", probe::name(&s.key)), m, m).names("", "value");
                    probe::at_pixel(&th, pa.map_coordinate(&at), p);
                }
            }
        }
        if self.series.is_empty() {
            let msg = if self.pending > 0 { "computing…" } else { "no distribution for the selected estimators" };
            kit::note(&pa.strip_coord_spec(), &th, msg)?;
        }
        Ok(())
    }

    fn csv(&self) -> String {
        let header = [
            "estimator",
            "parameter",
            "method",
            "kind",
            "from",
            "to",
            "probability",
            "mean",
            "variance",
            "exact_gradient",
        ];
        let rows: Vec<Vec<String>> = self
            .series
            .iter()
            .flat_map(|s| {
                let v = &s.view;
                let mc = s.is_mc();
                s.masses().into_iter().map(move |(a, b, p)| {
                    let kind = if mc {
                        "bin"
                    } else if a == b {
                        "value"
                    } else {
                        "uniform"
                    };
                    vec![
                        s.key.clone(),
                        self.param_name.clone(),
                        v.method.clone(),
                        kind.to_string(),
                        num(a),
                        num(b),
                        num(p),
                        num(v.mean),
                        num(v.variance),
                        num(v.exact_gradient),
                    ]
                })
            })
            .collect();
        csv_text(&header, &rows)
    }

    fn describe(&self) -> String {
        if self.series.is_empty() {
            return format!("Distribution of the estimate of ∂E[f]/∂{}: computing.", self.param_name);
        }
        let parts: Vec<String> = self
            .series
            .iter()
            .map(|s| {
                let v = &s.view;
                let shape = if s.is_mc() {
                    format!("a histogram of {} Monte-Carlo draws", format::thousands(v.samples))
                } else {
                    let n = v.values.len();
                    let pieces = if v.pieces.is_empty() {
                        String::new()
                    } else {
                        format!(" and {}", format::count(v.pieces.len(), "uniform piece"))
                    };
                    format!("exact, {}{pieces}", format::count(n, "value"))
                };
                format!("{} ({shape}, mean {}, variance {})", s.key, format::sig(v.mean, 3), format::sig(v.variance, 3))
            })
            .collect();
        let g = self.gradient.map_or("unknown".to_string(), |g| format::sig(g, 3));
        format!(
            "Distribution of each estimator's estimate of ∂E[f]/∂{} (exact gradient {g}): {}.",
            self.param_name,
            parts.join("; ")
        )
    }
}
