//! The probability simplex of one categorical unit of K = 3 classes (the picture of the
//! Gumbel-softmax papers): the triangle of distributions over the three classes, the unit's
//! `π = softmax(a)`, its one-hot samples at the corners, and Gumbel-softmax samples
//! `y = softmax((a + G)/τ)` at the current τ — near the corners for small τ, drawn to the centre
//! as τ grows.
//!
//! The samples are drawn here from a fixed stream (the page's sampling seed, key "simplex"):
//! [`SAMPLES`] of them, three Gumbel draws `−ln(−ln U)` each — 900 draws, so on the page's thread
//! like the plots' other arithmetic.

use super::kit::{self, err, Entry, Swatch, Theme};
use super::probe;
use super::{Marker, PlotData, Probe, Style};
use crate::format;
use crate::state::State;
use plotters::coord::Shift;
use plotters::prelude::*;
use stochgrad_core::categorical::softmax;
use stochgrad_core::math;
use stochgrad_core::rng::{Draws, Stream};
use stochgrad_core::settings::UnitChoice;

/// Gumbel-softmax samples drawn.
pub const SAMPLES: usize = 300;

/// The simplex of one categorical unit of three classes.
#[derive(Clone, Debug, PartialEq)]
pub struct Simplex {
    /// The unit's logits `a` (`None`: the page is not one categorical unit of K = 3).
    pub logits: Option<[f64; 3]>,
    pub tau: f64,
    pub seed: u64,
}

/// The corners (classes 0, 1, 2) in the plot's coordinates: an equilateral triangle.
const CORNERS: [(f64, f64); 3] = [(0.0, 0.0), (1.0, 0.0), (0.5, 0.866_025_403_784_438_6)];

/// A point of the simplex in the plot's coordinates.
fn at(y: &[f64]) -> (f64, f64) {
    let x = y[0] * CORNERS[0].0 + y[1] * CORNERS[1].0 + y[2] * CORNERS[2].0;
    let v = y[0] * CORNERS[0].1 + y[1] * CORNERS[1].1 + y[2] * CORNERS[2].1;
    (x, v)
}

impl Simplex {
    pub fn from_state(state: &State) -> Self {
        let m = &state.page.model;
        let one_unit = m.unit == UnitChoice::Categorical && m.categories == 3 && m.widths == [1];
        let logits = one_unit.then(|| {
            let model = m.to_model();
            let layer = &model.layers[0];
            let mut a = [0.0; 3];
            layer.preactivation(&model.input, &mut a);
            a
        });
        Simplex { logits, tau: state.page.tau, seed: state.page.sampling_seed }
    }

    /// Whether there is a picture to draw (one categorical unit of three classes).
    pub fn applies(&self) -> bool {
        self.logits.is_some()
    }

    /// `π = softmax(a)`.
    fn pi(&self) -> [f64; 3] {
        let mut p = [0.0; 3];
        if let Some(a) = self.logits {
            softmax(&a, &mut p);
        }
        p
    }

    /// The samples: each `(y, argmax(a + G))` with `y = softmax((a + G)/τ)`.
    pub fn samples(&self) -> Vec<([f64; 3], usize)> {
        let Some(a) = self.logits else { return Vec::new() };
        let mut rng = Stream::new(self.seed, "simplex", 0);
        (0..SAMPLES)
            .map(|_| {
                let mut z = [0.0; 3];
                for (zc, ac) in z.iter_mut().zip(a) {
                    *zc = ac - math::ln(-math::ln(rng.uniform()));
                }
                let hard = (0..3).fold(0, |b, c| if z[c] > z[b] { c } else { b });
                for zc in &mut z {
                    *zc /= self.tau;
                }
                let mut y = [0.0; 3];
                softmax(&z, &mut y);
                (y, hard)
            })
            .collect()
    }

    /// The samples' mean distance to the centre relative to a corner's (0: all at the centre, 1: all
    /// at the corners), which the caption states.
    pub fn spread(&self) -> f64 {
        let s = self.samples();
        if s.is_empty() {
            return 0.0;
        }
        let c = at(&[1.0 / 3.0; 3]);
        let corner = ((CORNERS[0].0 - c.0).powi(2) + (CORNERS[0].1 - c.1).powi(2)).sqrt();
        s.iter().map(|(y, _)| at(y)).map(|p| ((p.0 - c.0).powi(2) + (p.1 - c.1).powi(2)).sqrt()).sum::<f64>()
            / (s.len() as f64 * corner)
    }

    /// The caption under the plot.
    pub fn caption(&self) -> String {
        if !self.applies() {
            return "The simplex is drawn for one categorical unit of K = 3 classes (one layer of width 1).".into();
        }
        let p = self.pi();
        format!(
            "π = softmax(a) = ({}, {}, {}). {SAMPLES} Gumbel-softmax samples y = softmax((a + G)/τ) at τ = {} (Gumbel noise G from sampling seed {}), each coloured by the class of its one-hot sample argmax(a + G): on average {}% of the way from the centre to a corner — near the corners as τ → 0 (the discrete samples), drawn to the centre as τ grows.",
            format::sig(p[0], 3),
            format::sig(p[1], 3),
            format::sig(p[2], 3),
            format::sig(self.tau, 3),
            self.seed,
            (100.0 * self.spread()).round()
        )
    }
}

/// Record a probe drawn at the simplex point `p` (plot coordinates).
fn mark<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    pa: &kit::Plot<DB, X, Y>,
    th: &Theme,
    p: (f64, f64),
    probe: Probe,
) {
    probe::at_pixel(th, pa.map_coordinate(&p), probe);
}

/// The classes' colours (the estimators' palette is for estimators; these are the corners').
const CLASS_COLORS: [RGBColor; 3] =
    [RGBColor(0x1f, 0x77, 0xb4), RGBColor(0xd6, 0x27, 0x28), RGBColor(0x2c, 0xa0, 0x2c)];

impl PlotData for Simplex {
    fn title(&self) -> &'static str {
        "The probability simplex (one categorical unit, K = 3)"
    }

    fn file_stem(&self) -> String {
        format!("simplex-tau{}", format::sig(self.tau, 3).replace('.', "_"))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> Result<(), String> {
        let th = Theme::new(style);
        let mut entries: Vec<Entry> = (0..3)
            .map(|c| {
                Entry::new(
                    Swatch::Line {
                        color: CLASS_COLORS[c],
                        dashed: false,
                        width: 0,
                        marker: Some((Marker::Circle, true)),
                    },
                    format!("y whose sample is class {c}"),
                )
            })
            .collect();
        entries.push(Entry::new(
            Swatch::Line { color: th.exact, dashed: false, width: 0, marker: Some((Marker::Diamond, true)) },
            "π = softmax(a)",
        ));
        entries.push(Entry::new(
            Swatch::Line { color: th.muted, dashed: false, width: 0, marker: Some((Marker::Circle, false)) },
            "centre: the uniform (⅓, ⅓, ⅓)",
        ));
        let subtitle =
            format!("Gumbel-softmax samples at τ = {}; corners: the one-hot samples", format::sig(self.tau, 3));
        let Some(area) = kit::layout(root, &th, Some(&subtitle), &entries)? else {
            return Ok(());
        };
        if !self.applies() {
            return kit::note(&area, &th, "set one categorical unit of K = 3 classes (one layer, width 1)");
        }
        let (pw, ph) = area.dim_in_pixel();
        // Keep the triangle equilateral: the x range follows the area's aspect.
        let (ylo, yhi) = (-0.12, 0.96);
        let half = 0.5 * (yhi - ylo) * f64::from(pw.max(1)) / f64::from(ph.max(1));
        let (xlo, xhi) = (0.5 - half.max(0.62), 0.5 + half.max(0.62));
        let chart = ChartBuilder::on(&area).margin(th.px(6.0)).build_cartesian_2d(xlo..xhi, ylo..yhi).map_err(err)?;
        let pa = chart.plotting_area();
        let fr = kit::Frame { x: kit::Axis::lin(xlo, xhi), y: kit::Axis::lin(ylo, yhi) };
        let tri = [CORNERS[0], CORNERS[1], CORNERS[2], CORNERS[0]];
        kit::polygon(pa, &fr, &CORNERS, th.grid_light.to_rgba())?;
        kit::polyline(pa, &fr, &tri, th.muted.stroke_width(th.thin * 2), None)?;
        let centre = at(&[1.0 / 3.0; 3]);
        kit::markers(pa, &fr, &[centre], Marker::Circle, th.muted, false, &th)?;
        let pi = self.pi();
        for (y, hard) in self.samples() {
            let p = at(&y);
            pa.draw(&Circle::new(p, th.px(2.2), CLASS_COLORS[hard].mix(0.55).filled())).map_err(err)?;
            let top = y.iter().cloned().fold(0.0, f64::max);
            let what = format!(
                "Gumbel-softmax sample y = ({}, {}, {}), one-hot sample: class {hard}",
                format::sig(y[0], 3),
                format::sig(y[1], 3),
                format::sig(y[2], 3)
            );
            mark(pa, &th, p, Probe::new(what, 0.0, top).names("", "largest y_c"));
        }
        for c in 0..3 {
            // The one-hot sample at the corner, its radius growing with its probability π_c.
            let r = th.px(3.0 + 12.0 * pi[c].sqrt());
            pa.draw(&Circle::new(CORNERS[c], r, CLASS_COLORS[c].stroke_width(th.line))).map_err(err)?;
            let (dx, dy) = match c {
                0 => (-th.px(8.0), th.px(16.0)),
                1 => (-th.px(60.0), th.px(16.0)),
                _ => (th.px(14.0), -th.px(6.0)),
            };
            kit::label_at(
                pa,
                CORNERS[c],
                (dx, dy),
                &format!("class {c}: π = {}", format::sig(pi[c], 3)),
                th.text(th.small, th.fg),
            )?;
            mark(
                pa,
                &th,
                CORNERS[c],
                Probe::new(format!("one-hot sample: class {c}"), 0.0, pi[c]).names("", "probability π_c"),
            );
        }
        let p = at(&pi);
        pa.draw(&super::kit::marker_el(p, Marker::Diamond, th.marker * 1.6, th.exact, true, &th)).map_err(err)?;
        let what = format!(
            "π = softmax(a) = ({}, {}, {})",
            format::sig(pi[0], 3),
            format::sig(pi[1], 3),
            format::sig(pi[2], 3)
        );
        mark(pa, &th, p, Probe::new(what, 0.0, pi.iter().cloned().fold(0.0, f64::max)).names("", "largest π_c"));
        Ok(())
    }

    fn csv(&self) -> String {
        let mut out = String::from("kind,class,y0,y1,y2\n");
        let pi = self.pi();
        if self.applies() {
            out.push_str(&format!("pi,,{},{},{}\n", pi[0], pi[1], pi[2]));
        }
        for (y, hard) in self.samples() {
            out.push_str(&format!("sample,{hard},{},{},{}\n", y[0], y[1], y[2]));
        }
        out
    }

    fn describe(&self) -> String {
        if self.applies() {
            format!(
                "The probability simplex of one unit of three classes with {SAMPLES} Gumbel-softmax samples at τ = {}.",
                format::sig(self.tau, 3)
            )
        } else {
            "The probability simplex, drawn for one categorical unit of three classes.".into()
        }
    }
}
