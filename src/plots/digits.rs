//! The Digits experiment: the race of the trainers (exact test `−log p(x)` and `−ELBO` against
//! steps or loss evaluations), the encoder gradient's bias² and variance at one checkpoint (the
//! bars of [`Bars`]), and the images as small greyscale SVG strips.

use super::kit::{self, err, Axis, AxisLabels, Coord, Entry, Frame, Swatch, Theme};
use super::probe::{self, Probe};
use super::{csv_text, look, num, BarGroup, Bars, PlotData, Style};
use crate::format;
use crate::page::Page;
use crate::protocol::{DigitsFigures, DigitsPoint, Fig};
use crate::state::DigitsView;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::rc::Rc;
use stochgrad_core::estimators::find_meta;

/// One trainer's checkpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct DigitsSeries {
    pub key: String,
    pub points: Rc<Vec<DigitsPoint>>,
}

impl DigitsSeries {
    /// The exact encoder gradient: it spends no loss evaluations on estimates.
    fn exact(&self) -> bool {
        self.key == "exact"
    }
}

/// Exact test `−log p(x)` (solid) and `−ELBO` (dashed) per trainer while training.
#[derive(Clone, Debug, PartialEq)]
pub struct DigitsRace {
    pub by_evals: bool,
    /// Steps per trainer (the x range on the steps axis).
    pub steps: u64,
    /// Images per minibatch (for the axis label).
    pub batch: usize,
    pub series: Vec<DigitsSeries>,
}

impl DigitsRace {
    pub fn new(page: &Page, digits: &DigitsView) -> Self {
        let series = page
            .digits_trainers
            .iter()
            .filter_map(|key| {
                let row = digits.rows.get(key)?;
                (!row.points.is_empty()).then(|| DigitsSeries { key: key.clone(), points: row.points.clone() })
            })
            .collect();
        DigitsRace {
            by_evals: page.digits_by_evals,
            steps: page.digits_steps,
            batch: stochgrad_core::vae::Config::default().batch,
            series,
        }
    }

    fn x_desc(&self) -> String {
        if self.by_evals {
            "loss evaluations spent by the encoder's estimates (all images)".into()
        } else {
            format!("training steps (minibatches of {} images)", self.batch)
        }
    }

    fn x(&self, p: &DigitsPoint) -> f64 {
        if self.by_evals {
            p.evaluations
        } else {
            p.step as f64
        }
    }

    /// The x range: the whole run, so the axis stays put while it trains.
    pub fn x_range(&self) -> (f64, f64) {
        let steps = self.steps.max(1) as f64;
        if !self.by_evals {
            return (0.0, steps);
        }
        let per_step = self
            .series
            .iter()
            .filter_map(|s| s.points.last().filter(|p| p.step > 0).map(|p| p.evaluations / p.step as f64))
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        let hi = per_step * steps;
        (0.0, if hi > 0.0 { hi } else { steps })
    }
}

impl PlotData for DigitsRace {
    fn title(&self) -> &'static str {
        "Digits: exact test bounds while training"
    }

    fn file_stem(&self) -> String {
        format!("digits-race-{}", if self.by_evals { "evals" } else { "steps" })
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> Result<(), String> {
        let th = Theme::new(style);
        let mut entries: Vec<Entry> = self
            .series
            .iter()
            .map(|s| {
                let l = look(&s.key);
                let label = if s.exact() && self.by_evals {
                    "exact gradient (no estimates: its latest values, across)".to_string()
                } else if s.exact() {
                    "exact gradient".to_string()
                } else {
                    s.key.clone()
                };
                Entry::new(
                    Swatch::Line { color: l.color, dashed: false, width: th.line, marker: Some((l.marker, true)) },
                    label,
                )
            })
            .collect();
        entries.push(Entry::new(
            Swatch::Line { color: th.muted, dashed: false, width: th.line, marker: None },
            "−log p(x) (solid)",
        ));
        entries.push(Entry::new(
            Swatch::Line { color: th.muted, dashed: true, width: th.line, marker: None },
            "−ELBO (dashed)",
        ));
        let Some(area) = kit::layout(root, &th, None, &entries)? else {
            return Ok(());
        };
        let (x0, x1) = self.x_range();
        let ys = self.series.iter().flat_map(|s| s.points.iter().flat_map(|p| [p.neg_elbo, p.neg_log_marginal]));
        let (y0, y1) = kit::lin_range(ys, (0.0, 1.0));
        let xfmt = |v: &f64| if *v == 0.0 { "0".to_string() } else { kit::si(*v) };
        let yfmt = kit::lin_fmt(y0, y1);
        let ylw = kit::y_label_width(&area, &th, &[yfmt(&y0), yfmt(&y1), yfmt(&((y0 + y1) / 2.0))])?;
        let mut chart = kit::builder(&area, &th, kit::x_label_height(&th), ylw)
            .build_cartesian_2d(Coord::lin(x0..x1), Coord::lin(y0..y1))
            .map_err(err)?;
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let x_desc = self.x_desc();
        kit::mesh(
            &mut chart,
            &th,
            AxisLabels { desc: &x_desc, fmt: &xfmt, n: kit::n_labels(pw, &th, 4.0), log: None },
            AxisLabels {
                desc: "test set, nats per image (exact)",
                fmt: &yfmt,
                n: kit::n_labels(ph, &th, 2.5),
                log: None,
            },
        )?;
        let fr = Frame { x: Axis::lin(x0, x1), y: Axis::lin(y0, y1) };
        let pa = chart.plotting_area();
        let dash = Some((th.px(6.0), th.px(4.0)));
        for s in &self.series {
            let l = look(&s.key);
            let stroke = l.color.stroke_width(th.line);
            for (elbo, dashed) in [(false, None), (true, dash)] {
                let y = |p: &DigitsPoint| if elbo { p.neg_elbo } else { p.neg_log_marginal };
                let pts: Vec<(f64, f64)> = if s.exact() && self.by_evals {
                    s.points.last().map(|p| vec![(x0, y(p)), (x1, y(p))]).unwrap_or_default()
                } else {
                    s.points.iter().map(|p| (self.x(p), y(p))).collect()
                };
                let pts: Vec<(f64, f64)> = pts.into_iter().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
                kit::polyline(pa, &fr, &pts, stroke, dashed)?;
                if probe::recording() && !(s.exact() && self.by_evals) {
                    let what = if elbo { "−ELBO" } else { "−log p(x)" };
                    let x_name = if self.by_evals { "loss evaluations" } else { "step" };
                    let series = format!("{} · {what}", probe::name(&s.key));
                    for &(x, v) in &pts {
                        probe::point(pa, &fr, &th, Probe::new(series.clone(), x, v).names(x_name, what));
                    }
                }
                if !elbo {
                    let last: Vec<(f64, f64)> = pts.last().copied().into_iter().collect();
                    kit::markers(pa, &fr, &last, l.marker, l.color, true, &th)?;
                }
            }
        }
        if self.series.is_empty() {
            kit::note(&pa.strip_coord_spec(), &th, "press ▶ Train")?;
        }
        Ok(())
    }

    fn csv(&self) -> String {
        let header = ["trainer", "step", "loss_evaluations", "test_neg_log_marginal", "test_neg_elbo", "method"];
        let rows: Vec<Vec<String>> = self
            .series
            .iter()
            .flat_map(|s| {
                s.points.iter().map(move |p| {
                    vec![
                        s.key.clone(),
                        p.step.to_string(),
                        num(p.evaluations),
                        num(p.neg_log_marginal),
                        num(p.neg_elbo),
                        "exact".to_string(),
                    ]
                })
            })
            .collect();
        csv_text(&header, &rows)
    }

    fn describe(&self) -> String {
        if self.series.is_empty() {
            return "Digits race: not trained yet.".into();
        }
        let parts: Vec<String> = self
            .series
            .iter()
            .filter_map(|s| {
                let p = s.points.last()?;
                Some(format!(
                    "{}: −log p(x) = {}, −ELBO = {} nats per image after {} steps",
                    s.key,
                    format::sig(p.neg_log_marginal, 4),
                    format::sig(p.neg_elbo, 4),
                    p.step
                ))
            })
            .collect();
        format!("Line plot of the exact test bounds while training, against {}: {}.", self.x_desc(), parts.join("; "))
    }
}

/// The encoder gradient's bias² and variance of every estimator at one checkpoint, on the fixed
/// minibatch (the bars of [`Bars`], under their own title).
#[derive(Clone, Debug, PartialEq)]
pub struct DigitsBars {
    /// The checkpoint's step.
    pub step: u64,
    /// Test images in the fixed minibatch.
    pub images: usize,
    pub bars: Bars,
    /// Estimators without figures at this checkpoint, and why.
    pub missing: Vec<(String, String)>,
}

impl DigitsBars {
    /// The bars at `step` (the latest checkpoint any trainer has reached with figures, if `None`).
    pub fn new(page: &Page, digits: &DigitsView, step: Option<u64>, images: usize) -> Self {
        let latest = digits.rows.values().flat_map(|r| r.bars.iter().map(|b| b.step)).max().unwrap_or(0);
        let step = step.unwrap_or(latest);
        let mut groups = Vec::new();
        let mut missing = Vec::new();
        for key in page.digits_trainers.iter().filter(|k| *k != "exact") {
            let Some(bar) = digits.rows.get(key).and_then(|r| r.bars.iter().find(|b| b.step == step)) else { continue };
            match &bar.figures {
                Ok(f) => groups.push(BarGroup {
                    key: key.clone(),
                    unbiased: find_meta(key).is_some_and(|m| m.unbiased),
                    method: f.method.clone(),
                    samples: (f.method == "monte-carlo").then_some(crate::engine::DIGITS_BAR_SAMPLES),
                    // Rounding noise of an exact zero (an unbiased estimator's exact bias²) is 0.
                    bias_sq: Fig {
                        value: if f.method == "monte-carlo" || f.bias_sq > f.gradient_sq * 1e-26 {
                            f.bias_sq
                        } else {
                            0.0
                        },
                        stderr: None,
                    },
                    variance: Fig { value: f.variance, stderr: None },
                }),
                Err(why) => missing.push((key.clone(), why.clone())),
            }
        }
        let floor = 0.0;
        let bars = Bars {
            var_x_evals: false,
            wrt: "φ (encoder)",
            floor,
            groups,
            mc_label: "Monte Carlo (debiased; no error bars)",
        };
        DigitsBars { step, images, bars, missing }
    }
}

impl PlotData for DigitsBars {
    fn title(&self) -> &'static str {
        "Digits: encoder gradient, bias² and variance"
    }

    fn file_stem(&self) -> String {
        format!("digits-bias-variance-step{}", self.step)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> Result<(), String> {
        self.bars.draw(root, style)
    }

    fn csv(&self) -> String {
        self.bars.csv()
    }

    fn describe(&self) -> String {
        format!("At step {}, on the first {} test images: {}", self.step, self.images, self.bars.describe())
    }
}

/// Squared figures of `f` at or below this are the rounding noise of an exact zero (a few ulps of
/// the gradient, squared): exact figures only.
pub fn zero_floor(f: &DigitsFigures) -> f64 {
    if f.method == "monte-carlo" {
        0.0
    } else {
        f.gradient_sq * 1e-26
    }
}

/// A strip of 8×8 images as an inline SVG: one grey square per pixel (`grey` 0 white, 255 black),
/// `px` CSS pixels per image pixel, a gap between images.
pub fn strip_svg(images: &[Vec<u8>], px: u32, label: &str) -> String {
    let side = 8u32;
    let gap = 1u32;
    let n = images.len() as u32;
    let w = n * side + n.saturating_sub(1) * gap;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"digit-strip\" viewBox=\"0 0 {w} {side}\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"{}\" shape-rendering=\"crispEdges\">",
        w * px,
        side * px,
        escape(label)
    );
    for (i, img) in images.iter().enumerate() {
        let x0 = i as u32 * (side + gap);
        out.push_str(&format!(
            "<rect x=\"{x0}\" y=\"0\" width=\"{side}\" height=\"{side}\" fill=\"#fff\" stroke=\"none\"/>"
        ));
        for (j, &g) in img.iter().take(64).enumerate() {
            if g < 4 {
                continue;
            }
            let v = 255 - g;
            out.push_str(&format!(
                "<rect x=\"{}\" y=\"{}\" width=\"1\" height=\"1\" fill=\"rgb({v},{v},{v})\"/>",
                x0 + j as u32 % side,
                j as u32 / side
            ));
        }
    }
    out.push_str("</svg>");
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;")
}
