//! The sweep over a unit's firing probability: the unit's bias (its logit when nothing feeds it) set
//! to each point of a range, and at every point the model's exact answer ([`exact::solve`]) and an
//! estimator's figures ([`moments`]) — exact where the estimator's moments are, else Monte Carlo
//! with standard errors. Along the sweep: where `E[f]` is lowest (the optimum over the range, an
//! edge when `E[f]` is monotone there) and where an estimator's expected gradient with respect to
//! the swept bias crosses zero (its stationary points), found by bisection on the exact mean.
//!
//! One point is a function of the model, the unit, the bias and the request, so a caller (the CLI,
//! the page's worker) may compute the points in any order and get the same bits.

use crate::error::{Error, Result};
use crate::estimators::{Estimator, HyperParams};
use crate::exact::{self, solve};
use crate::model::Model;
use crate::moments::{moments, MethodChoice, Report, Request};
use crate::stats::Method;

/// The default range of the swept bias (logits: firing probabilities from about 0.0025 to 0.9975).
pub const RANGE: (f64, f64) = (-6.0, 6.0);
/// The default number of points (a step of 0.3 in the logit over [`RANGE`]).
pub const POINTS: usize = 41;
/// The page's sweep runs for networks of at most this many units (each point is a new exact
/// solution and exact moments, besides the bisection steps).
pub const MAX_UNITS: usize = 12;
/// Bisection stops when the bracket is this narrow (in the bias).
pub const TOLERANCE: f64 = 1e-9;
/// At most this many bisection steps (a bracket of width 12 reaches [`TOLERANCE`] in 34).
pub const MAX_STEPS: usize = 60;

/// `n ≥ 2` evenly spaced points from `lo` to `hi`, both ends exact.
pub fn grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let n = n.max(2);
    (0..n).map(|i| if i + 1 == n { hi } else { lo + (hi - lo) * (i as f64) / ((n - 1) as f64) }).collect()
}

/// Which unit's bias is swept: its layer and its index in the layer (both 0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Unit {
    pub layer: usize,
    pub unit: usize,
}

impl Unit {
    /// The default: the first unit of the last layer.
    pub fn default_for(model: &Model) -> Unit {
        Unit { layer: model.layers.len().saturating_sub(1), unit: 0 }
    }

    /// The unit moved into the network (layer and index clamped to exist).
    pub fn clamped(self, model: &Model) -> Unit {
        let layer = self.layer.min(model.layers.len().saturating_sub(1));
        let width = model.layers.get(layer).map_or(1, |l| l.width());
        Unit { layer, unit: self.unit.min(width.saturating_sub(1)) }
    }

    /// An error unless the unit exists.
    pub fn check(self, model: &Model) -> Result<()> {
        match model.layers.get(self.layer) {
            Some(l) if self.unit < l.width() => Ok(()),
            _ => Err(Error::Hyper(format!(
                "the swept unit c{}[{}] is not in the network (widths {:?})",
                self.layer + 1,
                self.unit,
                model.widths()
            ))),
        }
    }

    /// The index of the unit's bias in the flat parameter vector.
    pub fn param_index(self, model: &Model) -> usize {
        model.param_offset(self.layer) + model.layers[self.layer].weights.len() + self.unit
    }

    /// The bias's current value.
    pub fn bias(self, model: &Model) -> f64 {
        model.layers[self.layer].bias[self.unit]
    }

    /// Whether the swept bias is the logit of the firing probability: one unit, nothing feeding it.
    pub fn is_logit(self, model: &Model) -> bool {
        model.units() == 1 && model.layers[0].fan_in == 0
    }
}

/// The model with the unit's bias set to `b` (the unit must exist: see [`Unit::check`]).
pub fn with_bias(model: &Model, unit: Unit, b: f64) -> Model {
    let mut m = model.clone();
    m.layers[unit.layer].bias[unit.unit] = b;
    m
}

/// One point of the sweep.
#[derive(Clone, Debug)]
pub struct Point {
    /// The swept bias.
    pub x: f64,
    /// The exact `E[f]` there.
    pub expected_loss: f64,
    /// The exact `∂E[f]/∂b` of the swept bias `b`.
    pub exact_slope: f64,
    /// The estimator's mean along the swept bias (exact, or Monte Carlo: see `report.method`).
    pub mean_slope: f64,
    /// Its standard error when Monte Carlo.
    pub mean_slope_stderr: Option<f64>,
    /// The estimator's figures at this point, exactly as [`moments`] gives them for the modified model.
    pub report: Report,
}

/// One point: the model with the unit's bias at `x`, solved exactly, and the estimator's moments.
pub fn point(model: &Model, unit: Unit, x: f64, est: &dyn Estimator, req: &Request) -> Result<Point> {
    unit.check(model)?;
    let m = with_bias(model, unit, x);
    let sol = solve(&m)?;
    let k = unit.param_index(&m);
    let report = moments(&m, &sol, est, req, &mut |_, _| true)?;
    // A unit type is compared on its own objective: its slope is that objective's.
    let (expected_loss, exact_slope) = match &report.objective {
        Some(own) => (own.solution.expected_loss, own.solution.gradient.get(k).copied().unwrap_or(sol.gradient[k])),
        None => (exact::expected_f(&m, &sol), sol.gradient[k]),
    };
    Ok(Point {
        x,
        expected_loss,
        exact_slope,
        mean_slope: report.mean[k],
        mean_slope_stderr: report.stderr.as_ref().map(|s| s[k]),
        report,
    })
}

/// The exact `(E[f], ∂E[f]/∂b)` at bias `x`.
pub fn exact_at(model: &Model, unit: Unit, x: f64) -> Result<(f64, f64)> {
    unit.check(model)?;
    let m = with_bias(model, unit, x);
    let sol = solve(&m)?;
    Ok((exact::expected_f(&m, &sol), sol.gradient[unit.param_index(&m)]))
}

/// The estimator's exact mean along the swept bias at `x` (an error where its moments are Monte
/// Carlo only).
pub fn exact_mean_at(model: &Model, unit: Unit, x: f64, est: &dyn Estimator, hp: &HyperParams) -> Result<f64> {
    unit.check(model)?;
    let m = with_bias(model, unit, x);
    let sol = solve(&m)?;
    let req = Request { hp: *hp, method: MethodChoice::Exact, ..Request::default() };
    let report = moments(&m, &sol, est, &req, &mut |_, _| true)?;
    Ok(report.mean[unit.param_index(&m)])
}

/// Bisection as a state machine, so that a caller that must yield between evaluations (the page's
/// worker) drives the same steps as [`roots`]: ask [`Bisection::next`] where to evaluate, give the
/// value to [`Bisection::update`], until `next` is `None`; then [`Bisection::root`].
#[derive(Clone, Copy, Debug)]
pub struct Bisection {
    lo: f64,
    hi: f64,
    lo_negative: bool,
    steps: usize,
    exact: Option<f64>,
}

impl Bisection {
    /// A bracket `[lo, hi]` whose ends have values of opposite signs (`f_lo` gives the sign at `lo`).
    pub fn new(lo: f64, hi: f64, f_lo: f64) -> Bisection {
        Bisection { lo, hi, lo_negative: f_lo < 0.0, steps: 0, exact: None }
    }

    /// Where to evaluate next, or `None` when done.
    pub fn next(&self) -> Option<f64> {
        if self.exact.is_some() || self.steps >= MAX_STEPS || self.hi - self.lo <= TOLERANCE {
            return None;
        }
        let mid = 0.5 * (self.lo + self.hi);
        // The bracket cannot narrow further in floating point.
        if mid <= self.lo || mid >= self.hi {
            return None;
        }
        Some(mid)
    }

    /// The value at the point [`Bisection::next`] gave.
    pub fn update(&mut self, x: f64, fx: f64) {
        self.steps += 1;
        if fx == 0.0 {
            self.exact = Some(x);
        } else if (fx < 0.0) == self.lo_negative {
            self.lo = x;
        } else {
            self.hi = x;
        }
    }

    /// The root: the exact zero if one was hit, else the bracket's middle.
    pub fn root(&self) -> f64 {
        self.exact.unwrap_or(0.5 * (self.lo + self.hi))
    }
}

/// A point where a function of the swept bias crosses zero.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Crossing {
    pub x: f64,
    /// The function goes from negative to positive (for a gradient: gradient descent on the bias
    /// converges there; the other way it moves away).
    pub rising: bool,
}

/// A sign change of sampled values: a zero at a grid point, or a bracket to refine.
#[derive(Clone, Copy, Debug)]
pub enum Bracket {
    /// The value is exactly 0 at this grid point (a run of zeros counts once, at its first point).
    At(Crossing),
    /// The values at `xs[i]` and `xs[i + 1]` have opposite signs: [`Bisection`] refines it.
    Between(Bisection, bool),
}

/// The sign changes of `ys` over `xs`, in order.
pub fn brackets(xs: &[f64], ys: &[f64]) -> Vec<Bracket> {
    let n = xs.len().min(ys.len());
    let mut out = Vec::new();
    for i in 0..n {
        if ys[i] == 0.0 {
            if i == 0 || ys[i - 1] != 0.0 {
                let before = ys[..i].iter().rev().copied().find(|&y| y != 0.0);
                let after = ys[i + 1..n].iter().copied().find(|&y| y != 0.0);
                let rising = match (before, after) {
                    (Some(b), _) => b < 0.0,
                    (None, Some(a)) => a > 0.0,
                    (None, None) => false,
                };
                out.push(Bracket::At(Crossing { x: xs[i], rising }));
            }
        } else if i + 1 < n && ys[i + 1] != 0.0 && (ys[i] < 0.0) != (ys[i + 1] < 0.0) {
            out.push(Bracket::Between(Bisection::new(xs[i], xs[i + 1], ys[i]), ys[i] < 0.0));
        }
    }
    out
}

/// Every zero crossing of `f` over the grid `xs` whose values are `ys = f(xs)`, each refined by
/// bisection on `f` to [`TOLERANCE`].
pub fn roots(xs: &[f64], ys: &[f64], mut f: impl FnMut(f64) -> Result<f64>) -> Result<Vec<Crossing>> {
    let mut out = Vec::new();
    for bracket in brackets(xs, ys) {
        match bracket {
            Bracket::At(c) => out.push(c),
            Bracket::Between(mut b, rising) => {
                while let Some(x) = b.next() {
                    let v = f(x)?;
                    b.update(x, v);
                }
                out.push(Crossing { x: b.root(), rising });
            }
        }
    }
    Ok(out)
}

/// The zero crossings of `ys` over `xs` by linear interpolation between grid points (for Monte-Carlo
/// means, where bisection on a noisy function would not be meaningful).
pub fn interpolated_roots(xs: &[f64], ys: &[f64]) -> Vec<Crossing> {
    let mut out = Vec::new();
    for i in 0..xs.len().min(ys.len()) {
        let (y0, y1) = (ys[i], ys.get(i + 1).copied().unwrap_or(0.0));
        if y0 != 0.0 && y1 != 0.0 && (y0 < 0.0) != (y1 < 0.0) {
            out.push(Crossing { x: xs[i] + (xs[i + 1] - xs[i]) * (y0 / (y0 - y1)), rising: y0 < 0.0 });
        }
    }
    for b in brackets(xs, ys) {
        if let Bracket::At(c) = b {
            out.push(c);
        }
    }
    out.sort_by(|a, b| a.x.total_cmp(&b.x));
    out
}

/// Where `E[f]` is lowest over the range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Optimum {
    pub x: f64,
    pub expected_loss: f64,
    /// At an end of the range (`E[f]` still falls beyond it, or is flat): "at the range's edge".
    pub at_edge: bool,
}

/// The optimum over the range of `xs` from the exact values `(E[f], ∂E[f]/∂b)` at the grid points:
/// the lowest of the two ends and the interior points where the slope rises through zero (refined
/// by bisection on the exact slope, `slope_at`, and evaluated by `loss_at`).
pub fn optimum(
    xs: &[f64],
    losses: &[f64],
    slopes: &[f64],
    mut slope_at: impl FnMut(f64) -> Result<f64>,
    mut loss_at: impl FnMut(f64) -> Result<f64>,
) -> Result<Optimum> {
    let n = xs.len().min(losses.len());
    if n == 0 {
        return Err(Error::Hyper("the sweep has no points".into()));
    }
    let mut best = Optimum { x: xs[0], expected_loss: losses[0], at_edge: true };
    if losses[n - 1] < best.expected_loss {
        best = Optimum { x: xs[n - 1], expected_loss: losses[n - 1], at_edge: true };
    }
    for c in roots(&xs[..n], &slopes[..n], &mut slope_at)? {
        if c.rising {
            let l = loss_at(c.x)?;
            if l < best.expected_loss {
                best = Optimum { x: c.x, expected_loss: l, at_edge: false };
            }
        }
    }
    Ok(best)
}

/// [`optimum`] of a model's exact `E[f]` over the swept bias, evaluated at the grid `xs`.
pub fn model_optimum(model: &Model, unit: Unit, xs: &[f64]) -> Result<Optimum> {
    let mut losses = Vec::with_capacity(xs.len());
    let mut slopes = Vec::with_capacity(xs.len());
    for &x in xs {
        let (l, s) = exact_at(model, unit, x)?;
        losses.push(l);
        slopes.push(s);
    }
    optimum(xs, &losses, &slopes, |x| Ok(exact_at(model, unit, x)?.1), |x| Ok(exact_at(model, unit, x)?.0))
}

/// An estimator's stationary points over the sweep: where its expected gradient along the swept
/// bias crosses zero, and how they were found.
#[derive(Clone, Debug, PartialEq)]
pub struct Stationary {
    pub crossings: Vec<Crossing>,
    /// `Exact` (bisection on the exact mean; for an unbiased estimator the exact gradient's),
    /// `Quadrature` likewise, `MonteCarlo` (interpolated between the grid's Monte-Carlo means).
    pub method: Method,
}

/// The stationary points of `est` over the grid `xs` whose points were computed by [`point`].
pub fn stationary(
    model: &Model,
    unit: Unit,
    est: &dyn Estimator,
    hp: &HyperParams,
    points: &[Point],
) -> Result<Stationary> {
    let xs: Vec<f64> = points.iter().map(|p| p.x).collect();
    let means: Vec<f64> = points.iter().map(|p| p.mean_slope).collect();
    let method = points
        .iter()
        .map(|p| p.report.method)
        .find(|&m| m == Method::MonteCarlo)
        .unwrap_or(points.first().map_or(Method::Exact, |p| p.report.method));
    // An unbiased estimator's mean is the exact gradient: its stationary points are the exact ones
    // (found on the exact slope, so rounding in the estimator's moments cannot add a crossing).
    let own = points.iter().any(|p| p.report.objective.is_some());
    if est.meta().unbiased && !own {
        let slopes: Vec<f64> = points.iter().map(|p| p.exact_slope).collect();
        let crossings = roots(&xs, &slopes, |x| Ok(exact_at(model, unit, x)?.1))?;
        return Ok(Stationary { crossings, method: Method::Exact });
    }
    if method == Method::MonteCarlo {
        return Ok(Stationary { crossings: interpolated_roots(&xs, &means), method });
    }
    let crossings = roots(&xs, &means, |x| exact_mean_at(model, unit, x, est, hp))?;
    Ok(Stationary { crossings, method })
}
