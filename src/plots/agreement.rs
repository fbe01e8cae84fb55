//! Every gradient component: the estimator's mean against the exact gradient, with y = x.

use super::kit::{self, err, Axis, AxisLabels, Coord, Entry, Frame, Swatch, Theme};
use super::probe::{self, Probe};
use super::{csv_text, look, num, opt, Marker, PlotData, Style};
use crate::format;
use crate::state::State;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// One estimator's means of every component.
#[derive(Clone, Debug, PartialEq)]
pub struct AgreeSeries {
    pub key: String,
    /// "exact", "quadrature" or "monte-carlo".
    pub method: String,
    pub mean: Vec<f64>,
    /// Monte Carlo: standard errors of the means.
    pub stderr: Option<Vec<f64>>,
    /// For a unit type: its own objective's exact gradient, the x of its points instead of the
    /// binary network's gradient.
    pub reference: Option<Vec<f64>>,
}

impl AgreeSeries {
    pub fn is_mc(&self) -> bool {
        self.method == "monte-carlo"
    }
    /// `(parameter index, reference gradient, mean, standard error)` of the drawable components; the
    /// reference is the series' own (unit types) or else `gradient`.
    fn points<'a>(&'a self, gradient: &'a [f64]) -> impl Iterator<Item = (usize, f64, f64, f64)> + 'a {
        let reference = self.reference.as_deref().filter(|r| r.len() == gradient.len()).unwrap_or(gradient);
        self.mean.iter().zip(reference).enumerate().filter_map(move |(i, (&m, &g))| {
            let se = self.stderr.as_ref().and_then(|s| s.get(i).copied()).filter(|s| s.is_finite() && *s > 0.0);
            (m.is_finite() && g.is_finite()).then_some((i, g, m, se.unwrap_or(0.0)))
        })
    }
}

/// Estimated against exact gradient, every parameter, every selected estimator.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
    pub names: std::rc::Rc<Vec<String>>,
    /// The exact gradient (empty until it is known).
    pub gradient: Vec<f64>,
    pub series: Vec<AgreeSeries>,
    /// What the derivatives are with respect to ("θ" or "p").
    pub wrt: &'static str,
}

impl Agreement {
    pub fn from_state(state: &State) -> Self {
        let (names, gradient) = match &state.exact {
            Some(e) => (e.names.clone(), e.gradient.clone()),
            None => (Default::default(), Vec::new()),
        };
        let series = state
            .applicable_rows()
            .filter_map(|(key, row)| {
                let m = row.best()?;
                let mc = m.method == "monte-carlo";
                Some(AgreeSeries {
                    key: key.clone(),
                    method: m.method.clone(),
                    mean: m.mean.clone(),
                    stderr: if mc { m.stderr.clone() } else { None },
                    reference: m.reference.clone(),
                })
            })
            .collect();
        Agreement { names, gradient, series, wrt: state.wrt_symbol() }
    }

    fn name(&self, i: usize) -> String {
        self.names.get(i).cloned().unwrap_or_else(|| format!("θ{i}"))
    }
}

impl PlotData for Agreement {
    fn title(&self) -> &'static str {
        "Estimated against exact gradient"
    }

    fn file_stem(&self) -> String {
        "agreement".into()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> Result<(), String> {
        let th = Theme::new(style);
        let mut entries: Vec<Entry> = self
            .series
            .iter()
            .map(|s| {
                let l = look(&s.key);
                let swatch = if s.is_mc() {
                    Swatch::ErrorBar { color: l.color, marker: l.marker }
                } else {
                    Swatch::Line { color: l.color, dashed: false, width: 0, marker: Some((l.marker, true)) }
                };
                let label = if s.reference.is_some() {
                    format!("{} (x: own objective's ∇, a different unit)", s.key)
                } else {
                    s.key.clone()
                };
                Entry::new(swatch, label)
            })
            .collect();
        let any_mc = self.series.iter().any(|s| s.is_mc());
        let any_exact = self.series.iter().any(|s| !s.is_mc());
        if any_exact {
            entries.push(Entry::new(
                Swatch::Line { color: th.fg, dashed: false, width: 0, marker: Some((Marker::Circle, true)) },
                "exact E[ĝ]",
            ));
        }
        if any_mc {
            entries.push(Entry::new(
                Swatch::ErrorBar { color: th.fg, marker: Marker::Circle },
                "Monte Carlo mean ± 2 s.e.",
            ));
        }
        entries.push(Entry::new(
            Swatch::Line { color: th.muted, dashed: true, width: th.thin * 2, marker: None },
            "y = x",
        ));
        let Some(area) = kit::layout(root, &th, None, &entries)? else {
            return Ok(());
        };

        // One range for both axes, so that the diagonal runs corner to corner: the exact gradient
        // and the means (error bars are clipped, never stretch the scale).
        let mut vals: Vec<f64> = self.gradient.to_vec();
        for s in &self.series {
            vals.extend(s.points(&self.gradient).flat_map(|p| [p.1, p.2]));
        }
        let (lo, hi) = kit::lin_range(vals, (-1.0, 1.0));
        let x_desc = if self.series.iter().any(|s| s.reference.is_some()) {
            format!("exact ∂E[f]/∂{} (unit types: of their own objective)", self.wrt)
        } else {
            format!("exact ∂E[f]/∂{}", self.wrt)
        };
        let y_desc = format!("estimated E[ĝ] of ∂/∂{}", self.wrt);
        let fmt = kit::lin_fmt(lo, hi);
        let ylw = kit::y_label_width(&area, &th, &[fmt(&lo), fmt(&hi), fmt(&((lo + hi) / 2.0))])?;
        let mut chart = kit::builder(&area, &th, kit::x_label_height(&th), ylw)
            .build_cartesian_2d(Coord::lin(lo..hi), Coord::lin(lo..hi))
            .map_err(err)?;
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        kit::mesh(
            &mut chart,
            &th,
            AxisLabels { desc: &x_desc, fmt: &fmt, n: kit::n_labels(pw, &th, 5.0), log: None },
            AxisLabels { desc: &y_desc, fmt: &fmt, n: kit::n_labels(ph, &th, 2.5), log: None },
        )?;
        let fr = Frame { x: Axis::lin(lo, hi), y: Axis::lin(lo, hi) };
        let pa = chart.plotting_area();
        if lo < 0.0 && hi > 0.0 {
            let zero = th.grid.stroke_width(th.thin * 2);
            kit::polyline(pa, &fr, &[(lo, 0.0), (hi, 0.0)], zero, None)?;
            kit::polyline(pa, &fr, &[(0.0, lo), (0.0, hi)], zero, None)?;
        }
        kit::polyline(
            pa,
            &fr,
            &[(lo, lo), (hi, hi)],
            th.muted.stroke_width(th.thin * 2),
            Some((th.px(6.0), th.px(4.0))),
        )?;
        let style_label = th.text(th.small, th.muted).pos(kit::anchor(HPos::Right, VPos::Bottom));
        // In the padding of the top right corner, above the line (no data there).
        let at = lo + 0.965 * (hi - lo);
        kit::label_at(pa, (at, at), (-th.px(6.0), -th.px(2.0)), "y = x", style_label)?;

        for s in self.series.iter().filter(|s| s.is_mc()) {
            let l = look(&s.key);
            for (_, g, m, se) in s.points(&self.gradient) {
                if se > 0.0 {
                    kit::error_bar(pa, &fr, g, m - 2.0 * se, m + 2.0 * se, l.color, &th)?;
                }
            }
        }
        for s in &self.series {
            let l = look(&s.key);
            let pts: Vec<(f64, f64)> = s.points(&self.gradient).map(|(_, g, m, _)| (g, m)).collect();
            kit::markers(pa, &fr, &pts, l.marker, l.color, !s.is_mc(), &th)?;
            if probe::recording() {
                let series = probe::name(&s.key);
                for (i, g, m, se) in s.points(&self.gradient) {
                    let name = self.names.get(i).map_or(String::new(), |n| format!(" · {n}"));
                    let p = Probe::new(format!("{series}{name}"), g, m).se(Some(se)).names("exact ∇", "E[ĝ]");
                    probe::point(pa, &fr, &th, p);
                }
            }
        }
        if self.gradient.is_empty() {
            kit::note(&pa.strip_coord_spec(), &th, "waiting for the exact gradient…")?;
        } else if self.series.is_empty() {
            kit::note(&pa.strip_coord_spec(), &th, "no estimates yet")?;
        }
        Ok(())
    }

    fn csv(&self) -> String {
        let header = ["estimator", "parameter", "exact_gradient", "method", "mean", "stderr", "own_objective_gradient"];
        let rows: Vec<Vec<String>> = self
            .series
            .iter()
            .flat_map(|s| {
                s.mean.iter().zip(&self.gradient).enumerate().map(move |(i, (&m, &g))| {
                    vec![
                        s.key.clone(),
                        self.name(i),
                        num(g),
                        s.method.clone(),
                        num(m),
                        opt(s.stderr.as_ref().and_then(|v| v.get(i).copied())),
                        opt(s.reference.as_ref().and_then(|v| v.get(i).copied())),
                    ]
                })
            })
            .collect();
        csv_text(&header, &rows)
    }

    fn describe(&self) -> String {
        if self.gradient.is_empty() {
            return "Scatter plot of estimated against exact gradient: waiting for the exact gradient.".into();
        }
        if self.series.is_empty() {
            return format!(
                "Scatter plot of estimated against exact gradient for {}: no estimates yet.",
                format::count(self.gradient.len(), "parameter")
            );
        }
        let parts: Vec<String> = self
            .series
            .iter()
            .map(|s| {
                let (mut worst, mut at) = (0.0f64, None);
                for (i, g, m, _) in s.points(&self.gradient) {
                    if (m - g).abs() >= worst {
                        worst = (m - g).abs();
                        at = Some(i);
                    }
                }
                let what = match (s.is_mc(), s.reference.is_some()) {
                    (true, false) => "Monte-Carlo means",
                    (false, false) => "exact means",
                    (true, true) => "Monte-Carlo means against its own objective's gradient, a different unit",
                    (false, true) => "exact means against its own objective's gradient, a different unit",
                };
                match at {
                    Some(i) => format!("{} ({what}, largest gap {} at {})", s.key, format::sig(worst, 3), self.name(i)),
                    None => format!("{} ({what})", s.key),
                }
            })
            .collect();
        format!(
            "Scatter plot of each estimator's mean against the exact gradient for {}, with the line y = x: {}.",
            format::count(self.gradient.len(), "parameter"),
            parts.join("; ")
        )
    }
}
