//! Bias² and variance trace per estimator, as grouped bars on a log scale.

use super::kit::{self, err, Axis, AxisLabels, Coord, Entry, Frame, Swatch, Theme};
use super::probe::{self, Probe};
use super::{csv_text, look, num, opt, PlotData, Style};
use crate::format;
use crate::protocol::Fig;
use crate::state::State;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use stochgrad_core::estimators::find_meta;

/// Bias² below this counts as exactly zero (an unbiased estimator's exact moments).
const ZERO: f64 = 1e-30;

/// One estimator's pair of bars.
#[derive(Clone, Debug, PartialEq)]
pub struct BarGroup {
    pub key: String,
    /// The estimator is unbiased by construction (registry).
    pub unbiased: bool,
    /// "exact", "quadrature" or "monte-carlo".
    pub method: String,
    pub samples: Option<u64>,
    pub bias_sq: Fig,
    /// Variance trace, or variance × loss evaluations.
    pub variance: Fig,
}

impl BarGroup {
    pub fn is_mc(&self) -> bool {
        self.method == "monte-carlo"
    }
}

/// Bias² and variance (trace, or × loss evaluations) of every selected estimator.
#[derive(Clone, Debug, PartialEq)]
pub struct Bars {
    pub var_x_evals: bool,
    /// What the derivatives are with respect to ("θ" or "p").
    pub wrt: &'static str,
    /// Below this an exact squared figure is an exact zero (`ExactView::rounding_floor`).
    pub floor: f64,
    pub groups: Vec<BarGroup>,
    /// The legend's label of Monte-Carlo bars.
    pub mc_label: &'static str,
}

impl Bars {
    pub fn from_state(state: &State) -> Self {
        let var_x_evals = state.page.var_x_evals;
        let groups = state
            .applicable_rows()
            .filter_map(|(key, row)| {
                let m = row.best()?;
                Some(BarGroup {
                    key: key.clone(),
                    unbiased: find_meta(key).is_some_and(|m| m.unbiased),
                    method: m.method.clone(),
                    samples: m.samples,
                    bias_sq: m.bias_sq,
                    variance: if var_x_evals { m.variance_x_evals } else { m.variance_trace },
                })
            })
            .collect();
        let floor = state.exact.as_ref().map_or(0.0, |e| e.rounding_floor());
        Bars { var_x_evals, wrt: state.wrt_symbol(), floor, groups, mc_label: "Monte Carlo ± 2 s.e." }
    }

    fn variance_name(&self) -> &'static str {
        if self.var_x_evals {
            "variance × loss evaluations"
        } else {
            "variance (trace)"
        }
    }
}

fn se(f: &Fig) -> f64 {
    f.stderr.filter(|s| s.is_finite() && *s > 0.0).unwrap_or(0.0)
}

impl PlotData for Bars {
    fn title(&self) -> &'static str {
        "Bias² and variance"
    }

    fn file_stem(&self) -> String {
        if self.var_x_evals {
            "bias-variance-x-evals".into()
        } else {
            "bias-variance".into()
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> Result<(), String> {
        let th = Theme::new(style);
        let any_mc = self.groups.iter().any(|g| g.is_mc());
        let mut entries = vec![
            Entry::new(Swatch::Bar { color: th.muted, light: true, hatched: false }, "bias² (left)"),
            Entry::new(
                Swatch::Bar { color: th.muted, light: false, hatched: false },
                format!("{} (right)", self.variance_name()),
            ),
        ];
        if any_mc {
            entries.push(Entry::new(Swatch::Bar { color: th.muted, light: false, hatched: true }, self.mc_label));
        }
        let Some(area) = kit::layout(root, &th, None, &entries)? else {
            return Ok(());
        };

        // y: whole decades around every positive figure (and MC interval ends), at most 12.
        let mut vals = Vec::new();
        for g in &self.groups {
            for f in [&g.bias_sq, &g.variance] {
                if f.value > ZERO {
                    vals.push(f.value);
                }
                let s = se(f);
                if g.is_mc() && s > 0.0 {
                    vals.extend([f.value + 2.0 * s, f.value - 2.0 * s].into_iter().filter(|v| *v > ZERO));
                }
            }
        }
        let (y0, y1) = kit::log_range(vals, 12.0, (1e-4, 1.0));
        let n = self.groups.len().max(1);
        let (x0, x1) = (0.0, n as f64);

        // x labels: the keys, horizontal if they fit under their group, else rotated.
        let yfmt = kit::log_fmt(y0, y1);
        let ylw = kit::y_label_width(&area, &th, &[yfmt(&y0), yfmt(&y1)])?;
        let label_font = th.text(th.small, th.fg);
        let mut key_w = 0u32;
        for g in &self.groups {
            key_w = key_w.max(kit::text_width(&area, &g.key, &label_font)? as u32);
        }
        let (aw, ah) = area.dim_in_pixel();
        let group_px = (aw.saturating_sub(ylw + th.px(20.0) as u32)) / n as u32;
        let rotated = key_w + th.px(6.0) as u32 > group_px;
        let marker_h = (th.marker * 2.6).round() as u32 + th.px(4.0) as u32;
        let x_label = if rotated {
            (marker_h + key_w + th.px(8.0) as u32).min(ah * 2 / 5)
        } else {
            marker_h + (th.small * 1.5).round() as u32 + th.px(6.0) as u32
        };
        let mut chart = kit::builder(&area, &th, x_label, ylw)
            .build_cartesian_2d(Coord::lin(x0..x1), Coord::log(y0..y1))
            .map_err(err)?;
        let (_, ph) = chart.plotting_area().dim_in_pixel();
        let y_desc = if self.var_x_evals {
            format!("bias²  /  variance × loss evaluations, of ∂/∂{}", self.wrt)
        } else {
            format!("bias²  /  variance (trace), of ∂/∂{}", self.wrt)
        };
        let none = |_: &f64| String::new();
        kit::mesh(
            &mut chart,
            &th,
            AxisLabels { desc: "", fmt: &none, n: 0, log: None },
            AxisLabels { desc: &y_desc, fmt: &yfmt, n: kit::n_labels(ph, &th, 2.5), log: Some((y0, y1)) },
        )?;
        let fr = Frame { x: Axis::lin(x0, x1), y: Axis::log(y0, y1) };
        let pa = chart.plotting_area();
        // Pixel drawing on the whole chart area (labels go below the plotting area, where
        // plotters would clamp anything drawn on the plotting area itself).
        let px_area = &area;
        let base = area.get_base_pixel();
        let to_px = |x: f64, y: f64| {
            let p = pa.map_coordinate(&(x, y));
            (p.0 - base.0, p.1 - base.1)
        };
        let floor_px = to_px(0.0, y0).1;

        if self.groups.is_empty() {
            kit::note(&pa.strip_coord_spec(), &th, "no results yet")?;
            return Ok(());
        }
        for (i, g) in self.groups.iter().enumerate() {
            let l = look(&g.key);
            let mc = g.is_mc();
            for (j, f) in [&g.bias_sq, &g.variance].into_iter().enumerate() {
                let (bx0, bx1) = (i as f64 + 0.1 + 0.42 * j as f64, i as f64 + 0.48 + 0.42 * j as f64);
                let (left, right) = (to_px(bx0, y0).0, to_px(bx1, y0).0);
                let xc = (bx0 + bx1) / 2.0;
                let light = j == 0;
                let v = f.value;
                if v.is_finite() && v >= y0 {
                    let top = to_px(bx0, v.min(y1)).1;
                    kit::bar_px(px_area, &th, (left, top, right, floor_px), l.color, light, mc)?;
                } else {
                    // At (or below) the floor: a stub on the axis and a word for it.
                    px_area
                        .draw(&PathElement::new(
                            vec![(left, floor_px - 1), (right, floor_px - 1)],
                            l.color.stroke_width(th.line),
                        ))
                        .map_err(err)?;
                    let text = if !v.is_finite() {
                        "—".to_string()
                    } else if v <= ZERO && !mc {
                        "0".to_string()
                    } else if v <= ZERO {
                        "≈0".to_string()
                    } else {
                        format!("<{}", kit::pow10_label(y0.log10().round() as i32, kit::plain_decades(y0, y1)))
                    };
                    let cx = (left + right) / 2;
                    let bottom_text = th.text(th.small, th.fg).pos(kit::anchor(HPos::Center, VPos::Bottom));
                    px_area.draw(&Text::new(text.clone(), (cx, floor_px - th.px(3.0)), bottom_text)).map_err(err)?;
                    if light && text == "0" {
                        let up = th
                            .text(th.small, th.muted)
                            .transform(FontTransform::Rotate270)
                            .pos(kit::anchor(HPos::Left, VPos::Center));
                        let y = floor_px - th.px(6.0) - (th.small * 1.1).round() as i32;
                        // "unbiased" only for an estimator that is by construction; a biased one
                        // whose bias vanishes on this model (ReinMax at τ = 1 on one layer with a
                        // quadratic f) is "exact here".
                        let word = if g.unbiased { "unbiased" } else { "exact here" };
                        px_area.draw(&Text::new(word, (cx, y), up)).map_err(err)?;
                    }
                }
                if v.is_finite() {
                    // The value under the pointer: at the bar's top (or on the floor).
                    let what = if j == 0 {
                        "bias²"
                    } else if self.var_x_evals {
                        "variance × evaluations"
                    } else {
                        "variance"
                    };
                    let top = pa.map_coordinate(&(xc, fr.y.clamp(v)));
                    let p = Probe::new(probe::name(&g.key), xc, v).se(mc.then(|| se(f))).names("", what);
                    probe::at_pixel(&th, top, p);
                }
                if mc {
                    let s = se(f);
                    if s > 0.0 && v.is_finite() {
                        kit::error_bar(pa, &fr, xc, v - 2.0 * s, v + 2.0 * s, th.fg, &th)?;
                    }
                }
            }
            // Under the group: the estimator's marker and key.
            let cx = to_px(i as f64 + 0.5, y0).0;
            let my = floor_px + th.px(4.0) + (th.marker * 1.3).round() as i32;
            px_area.draw(&kit::marker_el((cx, my), l.marker, th.marker, l.color, !mc, &th)).map_err(err)?;
            let ty = my + (th.marker * 1.3).round() as i32 + th.px(4.0);
            let text = if rotated {
                label_font.transform(FontTransform::Rotate270).pos(kit::anchor(HPos::Right, VPos::Center))
            } else {
                label_font.pos(kit::anchor(HPos::Center, VPos::Top))
            };
            px_area.draw(&Text::new(g.key.clone(), (cx, ty), text)).map_err(err)?;
        }
        Ok(())
    }

    fn csv(&self) -> String {
        let v = if self.var_x_evals { "variance_x_evals" } else { "variance_trace" };
        let vse = format!("{v}_stderr");
        let header = ["estimator", "method", "samples", "bias_sq", "bias_sq_stderr", v, &vse, "unbiased"];
        let rows: Vec<Vec<String>> = self
            .groups
            .iter()
            .map(|g| {
                vec![
                    g.key.clone(),
                    g.method.clone(),
                    g.samples.map(|n| n.to_string()).unwrap_or_default(),
                    num(g.bias_sq.value),
                    opt(g.bias_sq.stderr),
                    num(g.variance.value),
                    opt(g.variance.stderr),
                    g.unbiased.to_string(),
                ]
            })
            .collect();
        csv_text(&header, &rows)
    }

    fn describe(&self) -> String {
        if self.groups.is_empty() {
            return "Bar chart of bias² and variance: no results yet.".into();
        }
        let parts: Vec<String> = self
            .groups
            .iter()
            .map(|g| {
                format!(
                    "{}: bias² {}, {} {} ({})",
                    g.key,
                    format::squared(g.bias_sq.value, g.bias_sq.stderr, self.floor),
                    self.variance_name(),
                    format::squared(g.variance.value, g.variance.stderr, self.floor),
                    format::method(&g.method, g.samples)
                )
            })
            .collect();
        format!("Bar chart, log scale, of bias² and {} per estimator — {}.", self.variance_name(), parts.join("; "))
    }
}
