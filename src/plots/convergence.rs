//! Convergence of the running Monte-Carlo means of one gradient component.

use super::kit::{self, err, Axis, AxisLabels, Coord, Entry, Frame, Swatch, Theme};
use super::probe::{self, Probe};
use super::{csv_text, look, num, opt, slug, Marker, PlotData, Style};
use crate::format;
use crate::state::State;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// One estimator's running means of the focused parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvSeries {
    pub key: String,
    /// The estimator's exact expectation of this component (exact or quadrature), if known.
    pub exact_mean: Option<f64>,
    /// For a unit type (`sts`, `noisy-rectifier`): the exact gradient component of its own
    /// objective, which it is compared against instead of the binary network's.
    pub reference: Option<f64>,
    /// `(samples drawn, running mean, standard error)`, finite, `samples > 0`.
    pub points: Vec<(u64, f64, f64)>,
}

/// Running means of `∂E[f]/∂θ` against samples drawn, for the focused parameter θ.
#[derive(Clone, Debug, PartialEq)]
pub struct Convergence {
    pub param: usize,
    pub param_name: String,
    /// The parameter is the logit of the network's one unit (the axis says so).
    pub logit: bool,
    /// The estimator whose gap to the exact gradient the active story is about: an arrow from
    /// the exact gradient to its expectation, labelled "wrong sign" or "bias".
    pub annotate: Option<&'static str>,
    /// The exact gradient component.
    pub exact: Option<f64>,
    pub series: Vec<ConvSeries>,
}

impl Convergence {
    pub fn from_state(state: &State) -> Self {
        let param = state.page.param;
        let exact = state.exact.as_ref();
        let param_name = exact.and_then(|e| e.names.get(param).cloned()).unwrap_or_else(|| format!("θ{param}"));
        let series = state
            .applicable_rows()
            .filter_map(|(key, row)| {
                let exact_mean = row.exact.as_ref().and_then(|m| m.mean.get(param).copied()).filter(|v| v.is_finite());
                let reference = row
                    .best()
                    .and_then(|m| m.reference.as_ref())
                    .and_then(|r| r.get(param).copied())
                    .filter(|v| v.is_finite());
                let points: Vec<(u64, f64, f64)> = row
                    .history
                    .iter()
                    .filter_map(|h| {
                        let m = *h.mean.get(param)?;
                        let se = h.stderr.get(param).copied().unwrap_or(0.0);
                        let se = if se.is_finite() && se >= 0.0 { se } else { 0.0 };
                        (h.n > 0 && m.is_finite()).then_some((h.n, m, se))
                    })
                    .collect();
                (exact_mean.is_some() || !points.is_empty()).then(|| ConvSeries {
                    key: key.clone(),
                    exact_mean,
                    reference,
                    points,
                })
            })
            .collect();
        Convergence {
            param,
            logit: state.single_logit() && state.per_p().is_none(),
            annotate: crate::presets::active(&state.page).and_then(|p| p.annotate),
            param_name,
            exact: exact.and_then(|e| e.gradient.get(param).copied()).filter(|g| g.is_finite()),
            series,
        }
    }

    fn has_history(&self) -> bool {
        self.series.iter().any(|s| !s.points.is_empty())
    }

    fn y_label(&self) -> String {
        if self.logit {
            // One unit without inputs: its only parameter is its logit.
            format!("∂E[f]/∂a (a = {}, the logit)", self.param_name)
        } else {
            format!("∂E[f]/∂{}", self.param_name)
        }
    }
}

impl PlotData for Convergence {
    fn title(&self) -> &'static str {
        "Convergence of the running means"
    }

    fn file_stem(&self) -> String {
        let s = slug(&self.param_name);
        format!("convergence-{}", if s.is_empty() { self.param.to_string() } else { s })
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> Result<(), String> {
        let th = Theme::new(style);
        let has_hist = self.has_history();
        // Wide enough: each line is named at its right end, and the legend keeps only what the
        // line styles mean (a plot that carries its message by itself). Narrow: the legend names them.
        let (rw, _) = root.dim_in_pixel();
        let end_labels = rw as i32 >= th.px(560.0);
        let mut entries: Vec<Entry> = if end_labels {
            Vec::new()
        } else {
            self.series
                .iter()
                .map(|s| {
                    let l = look(&s.key);
                    Entry::new(
                        Swatch::Line {
                            color: l.color,
                            dashed: false,
                            width: th.line,
                            marker: Some((l.marker, !has_hist)),
                        },
                        s.key.clone(),
                    )
                })
                .collect()
        };
        if has_hist {
            entries.push(Entry::new(
                Swatch::Band { color: th.muted, marker: Some(Marker::Circle) },
                "running mean ± 2 s.e. (Monte Carlo)",
            ));
        }
        if self.series.iter().any(|s| s.exact_mean.is_some()) {
            entries.push(Entry::new(
                Swatch::Line { color: th.muted, dashed: true, width: th.line, marker: Some((Marker::Circle, true)) },
                "estimator's exact E[ĝ]",
            ));
        }
        if self.exact.is_some() {
            entries.push(Entry::new(
                Swatch::Line { color: th.exact, dashed: false, width: th.thick, marker: None },
                "exact ∇",
            ));
        }
        for s in self.series.iter().filter(|s| s.reference.is_some()) {
            entries.push(Entry::new(
                Swatch::Line { color: look(&s.key).color, dashed: false, width: th.thick, marker: None },
                format!("{}: own objective's ∇ (a different unit)", s.key),
            ));
        }
        let Some(area) = kit::layout(root, &th, None, &entries)? else {
            return Ok(());
        };

        // Ranges: x over the samples drawn; y a window around the exact values and the latest
        // means ± 4 s.e. (the first noisy points are clipped, never stretch the scale).
        let (x0, x1) = if has_hist {
            let (lo, hi) =
                kit::log_range(self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0 as f64)), 12.0, (1e2, 1e5));
            // Samples are counted from 1: no axis below one sample.
            (lo.max(1.0), hi)
        } else {
            (1e2, 1e5)
        };
        let mut ys: Vec<f64> = Vec::new();
        ys.extend(self.exact);
        for s in &self.series {
            ys.extend(s.exact_mean);
            ys.extend(s.reference);
            if let Some(&(_, m, se)) = s.points.last() {
                ys.extend([m - 4.0 * se, m + 4.0 * se]);
            }
        }
        let (y0, y1) = kit::lin_range(ys, (-1.0, 1.0));

        let xfmt = kit::count_fmt(x0, x1);
        let yfmt = kit::lin_fmt(y0, y1);
        let ylw = kit::y_label_width(&area, &th, &[yfmt(&y0), yfmt(&y1), yfmt(&((y0 + y1) / 2.0))])?;
        // The end labels: (value, text, colour), and the gutter they need on the right.
        let label_font = th.text(th.small, th.fg);
        let mut labels: Vec<(f64, String, RGBColor)> = Vec::new();
        if end_labels {
            if let Some(g) = self.exact {
                labels.push((g, format!("exact ∇ {}", format::sig(g, 3)), th.exact));
            }
            for s in &self.series {
                let l = look(&s.key);
                if let Some(e) = s.exact_mean.or(s.points.last().map(|p| p.1)) {
                    labels.push((e, format!("{} {}", s.key, format::sig(e, 3)), l.color));
                }
                if let Some(r) = s.reference {
                    labels.push((r, format!("{}: own ∇", s.key), l.color));
                }
            }
        }
        let mut gutter = 0;
        for (_, t, _) in &labels {
            gutter = gutter.max(kit::text_width(&area, t, &label_font)? + th.px(10.0));
        }
        let gutter = gutter.min(area.dim_in_pixel().0 as i32 / 3);
        let mut builder = kit::builder(&area, &th, kit::x_label_height(&th), ylw);
        if gutter > 0 {
            builder.margin_right(gutter as u32);
        }
        let mut chart = builder.build_cartesian_2d(Coord::log(x0..x1), Coord::lin(y0..y1)).map_err(err)?;
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let y_desc = self.y_label();
        kit::mesh(
            &mut chart,
            &th,
            AxisLabels {
                desc: "samples drawn (log scale)",
                fmt: &xfmt,
                n: kit::n_labels(pw, &th, 4.0),
                log: Some((x0, x1)),
            },
            AxisLabels { desc: &y_desc, fmt: &yfmt, n: kit::n_labels(ph, &th, 2.5), log: None },
        )?;
        let fr = Frame { x: Axis::log(x0, x1), y: Axis::lin(y0, y1) };
        let pa = chart.plotting_area();

        // Zero, emphasised: which side of it a line is on is the sign of the gradient.
        if y0 < 0.0 && y1 > 0.0 {
            kit::polyline(pa, &fr, &[(x0, 0.0), (x1, 0.0)], th.fg.stroke_width(th.thin * 2 + 1), None)?;
        }
        // ±2 s.e. bands, under everything.
        for s in self.series.iter().filter(|s| s.points.len() > 1) {
            let l = look(&s.key);
            let mut poly: Vec<(f64, f64)> = s.points.iter().map(|&(n, m, se)| (n as f64, m + 2.0 * se)).collect();
            poly.extend(s.points.iter().rev().map(|&(n, m, se)| (n as f64, m - 2.0 * se)));
            kit::polygon(pa, &fr, &poly, l.color.mix(0.14))?;
        }
        // The exact gradient.
        if let Some(g) = self.exact {
            kit::polyline(pa, &fr, &[(x0, g), (x1, g)], th.exact.stroke_width(th.thick), None)?;
            let xg = 10f64.powf(0.5 * (x0.log10() + x1.log10()));
            probe::point(pa, &fr, &th, Probe::new("exact gradient", xg, g).names("", "∇"));
            if !end_labels {
                let style = th.text(th.small, th.fg).pos(kit::anchor(HPos::Right, VPos::Bottom));
                kit::label_at(pa, (x1, g), (-th.px(4.0), -(th.thick as i32) - th.px(2.0)), "exact ∇", style)?;
            }
        }
        // A unit type's own reference: thick, in its colour (it is a different network's gradient;
        // the legend says so).
        for s in &self.series {
            let Some(r) = s.reference else { continue };
            let l = look(&s.key);
            kit::polyline(pa, &fr, &[(x0, r), (x1, r)], l.color.stroke_width(th.thick), None)?;
        }
        // Running means, with hollow markers (Monte Carlo) at a few points and the latest.
        for (i, s) in self.series.iter().enumerate() {
            let l = look(&s.key);
            let pts: Vec<(f64, f64)> = s.points.iter().map(|&(n, m, _)| (n as f64, m)).collect();
            kit::polyline(pa, &fr, &pts, l.color.stroke_width(th.line), None)?;
            let step = (pts.len() / 6).max(1);
            let marked: Vec<(f64, f64)> = pts
                .iter()
                .enumerate()
                .filter(|(j, _)| (j + i) % step == 0 || *j + 1 == pts.len())
                .map(|(_, p)| *p)
                .collect();
            kit::markers(pa, &fr, &marked, l.marker, l.color, false, &th)?;
            if probe::recording() {
                let series = format!("{} · running mean", probe::name(&s.key));
                for &(n, m, se) in &s.points {
                    let p = Probe::new(series.clone(), n as f64, m).se(Some(se)).names("samples", "mean");
                    probe::point(pa, &fr, &th, p);
                }
            }
        }
        // Each estimator's exact expectation: dashed, on top of the exact gradient, with a filled
        // marker near the right end (staggered so that coinciding lines stay identifiable).
        let (lx0, lx1) = (x0.log10(), x1.log10());
        for (i, s) in self.series.iter().enumerate() {
            let Some(e) = s.exact_mean else { continue };
            let l = look(&s.key);
            kit::polyline(pa, &fr, &[(x0, e), (x1, e)], l.color.stroke_width(th.line), Some((th.px(7.0), th.px(5.0))))?;
            let frac = 0.95 - 0.045 * (i % 12) as f64;
            let xm = 10f64.powf(lx0 + frac * (lx1 - lx0));
            kit::markers(pa, &fr, &[(xm, e)], l.marker, l.color, true, &th)?;
            let series = format!("{} · exact expectation", probe::name(&s.key));
            probe::point(pa, &fr, &th, Probe::new(series, xm, e).names("", "E[ĝ]"));
        }
        // The story's point: an arrow from the exact gradient to the estimator's expectation.
        if let (Some(key), Some(g)) = (self.annotate, self.exact) {
            if let Some(e) = self.series.iter().find(|s| s.key == key).and_then(|s| s.exact_mean) {
                let xa = 10f64.powf(lx0 + 0.62 * (lx1 - lx0));
                let color = look(key).color;
                kit::polyline(pa, &fr, &[(xa, g), (xa, e)], color.stroke_width(th.line + 1), None)?;
                let head = if e < g { Marker::TriangleDown } else { Marker::Triangle };
                kit::markers(pa, &fr, &[(xa, e)], head, color, true, &th)?;
                let text = if e * g < 0.0 { "wrong sign" } else { "bias" };
                let style = th.text(th.small * 1.15, color).pos(kit::anchor(HPos::Left, VPos::Center));
                kit::label_at(pa, (xa, 0.5 * (g + e)), (th.px(8.0), 0), text, style)?;
            }
        }
        if !has_hist {
            kit::note_at(&pa.strip_coord_spec(), &th, "no samples yet — press play", 0.25)?;
        }
        // End labels, in the gutter, pushed apart where lines are close; colours as the lines.
        if !labels.is_empty() {
            let (px0, py0) = pa.get_base_pixel();
            let (pw, ph) = pa.dim_in_pixel();
            let (ax0, ay0) = area.get_base_pixel();
            let step = (th.small * 1.25).ceil() as i32;
            let mut placed: Vec<(i32, String, RGBColor)> = labels
                .into_iter()
                .filter(|(v, _, _)| v.is_finite() && *v >= y0 && *v <= y1)
                .map(|(v, t, c)| (pa.map_coordinate(&(x1, v)).1, t, c))
                .collect();
            placed.sort_by_key(|l| l.0);
            let (top, bottom) = (py0 + step / 2, py0 + ph as i32 - step / 2);
            for i in 0..placed.len() {
                let min = if i == 0 { top } else { placed[i - 1].0 + step };
                placed[i].0 = placed[i].0.max(min);
            }
            // Back up from the bottom if the stack ran past it.
            for i in (0..placed.len()).rev() {
                let max = if i + 1 == placed.len() { bottom } else { placed[i + 1].0 - step };
                placed[i].0 = placed[i].0.min(max);
            }
            for (y, text, color) in placed {
                let style = th.text(th.small, color).pos(kit::anchor(HPos::Left, VPos::Center));
                area.draw_text(&text, &style, (px0 + pw as i32 + th.px(6.0) - ax0, y - ay0)).map_err(err)?;
            }
        }
        Ok(())
    }

    fn csv(&self) -> String {
        let header = [
            "estimator",
            "parameter",
            "samples",
            "running_mean",
            "stderr",
            "exact_mean_of_estimator",
            "exact_gradient",
            "own_objective_gradient",
        ];
        let rows: Vec<Vec<String>> = self
            .series
            .iter()
            .flat_map(|s| {
                s.points.iter().map(move |&(n, m, se)| {
                    vec![
                        s.key.clone(),
                        self.param_name.clone(),
                        n.to_string(),
                        num(m),
                        num(se),
                        opt(s.exact_mean),
                        opt(self.exact),
                        opt(s.reference),
                    ]
                })
            })
            .collect();
        csv_text(&header, &rows)
    }

    fn describe(&self) -> String {
        let what = self.y_label();
        let exact = match self.exact {
            Some(g) => format!("; the exact gradient is {}", format::sig(g, 4)),
            None => String::new(),
        };
        if !self.has_history() {
            let own: String = self
                .series
                .iter()
                .filter_map(|s| {
                    s.reference.map(|r| {
                        format!(
                            "; {} is compared with its own objective's gradient {} (a different unit)",
                            s.key,
                            format::sig(r, 4)
                        )
                    })
                })
                .collect();
            return format!("Convergence plot of {what}: no samples drawn yet{exact}{own}.");
        }
        let parts: Vec<String> = self
            .series
            .iter()
            .map(|s| {
                let latest = match s.points.last() {
                    Some(&(n, m, se)) => {
                        format!("{} after {} samples", format::with_se(m, Some(se)), format::thousands(n))
                    }
                    None => "no samples yet".into(),
                };
                let own = match s.reference {
                    Some(r) => {
                        format!(", compared with its own objective's gradient {} (a different unit)", format::sig(r, 4))
                    }
                    None => String::new(),
                };
                match s.exact_mean {
                    Some(e) => format!("{} {latest} (its exact expectation {}{own})", s.key, format::sig(e, 4)),
                    None if own.is_empty() => format!("{} {latest}", s.key),
                    None => format!("{} {latest} ({})", s.key, own.trim_start_matches(", ")),
                }
            })
            .collect();
        format!(
            "Running means of the estimates of {what} against samples drawn (log scale), with ±2 standard-error bands: {}{exact}.",
            parts.join("; ")
        )
    }
}
