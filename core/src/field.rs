//! The gradient field: two parameters of a network chosen by name, a grid of their values (every
//! other parameter fixed at its value), and at every grid point the exact `E[f]`, the two
//! components of the exact `∇θ E[f]`, and each estimator's expected estimate of those two
//! components — its mean from [`moments::moments`] (exact or quadrature where the estimator has
//! them, else Monte Carlo with standard errors, always with the same seed at every point so the
//! field is smooth; [`EstimatorField::method`] says which). Plus trajectories on the plane: each
//! estimator training only the two parameters from the current point ([`Race::freeze_all_but`]:
//! one estimate per step from stream `step` of `(seed, key)`, as the race), and exact gradient
//! descent with the same rule.
//!
//! The grid is computed a row at a time ([`Field::row`], one value of the second parameter), so
//! the page's worker streams rows and the CLI prints them all.

use crate::error::{Error, Reason, Result};
use crate::estimators::{self, Estimator, Family, HyperParams, MC_CHUNK};
use crate::exact;
use crate::limits;
use crate::model::Model;
use crate::moments::{self, MethodChoice, Request};
use crate::params;
use crate::stats::Method;
use crate::train::{self, Optimizer, Race, Update};

/// Points per axis: at least 2, at most 64 (a 64 × 64 grid is 4096 exact solutions).
pub const GRID_RANGE: (usize, usize) = (2, 64);
/// Points per axis by default.
pub const DEFAULT_GRID: usize = 20;
/// The default range of a parameter: its value ± this.
pub const DEFAULT_SPAN: f64 = 3.0;
/// The largest magnitude of a range's end (logits beyond saturate every σ).
pub const MAX_COORDINATE: f64 = 1e3;
/// Trajectory steps: at most this many.
pub const MAX_STEPS: u64 = 10_000;
/// Monte-Carlo draws per grid point for estimators without exact means, by default.
pub const DEFAULT_SAMPLES: u64 = 10_000;

/// One axis of the plane: a parameter (its index in parameter order) and its range.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Axis {
    pub index: usize,
    pub lo: f64,
    pub hi: f64,
}

/// What to compute.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Spec {
    pub x: Axis,
    pub y: Axis,
    /// Points per axis (both axes), in [`GRID_RANGE`].
    pub grid: usize,
    /// Estimator keys, in the order to report them.
    pub estimators: Vec<String>,
    pub hp: HyperParams,
    /// Monte-Carlo draws per grid point (estimators without exact or quadrature means).
    pub samples: u64,
    /// The seed of the Monte-Carlo means and of the trajectories' estimates.
    pub seed: u64,
    /// Trajectory steps (0: no trajectories).
    pub steps: u64,
    pub lr: f64,
    pub optimizer: Optimizer,
}

impl Spec {
    /// The defaults for the parameters `x` and `y` of `model`: each its current value ±
    /// [`DEFAULT_SPAN`], a [`DEFAULT_GRID`]² grid, no estimators, 100 SGD steps at lr 0.1, seed 1.
    pub fn new(model: &Model, x: usize, y: usize) -> Spec {
        let theta = train::parameters(model);
        let axis = |i: usize| {
            let v = theta.get(i).copied().unwrap_or(0.0);
            Axis { index: i, lo: v - DEFAULT_SPAN, hi: v + DEFAULT_SPAN }
        };
        Spec {
            x: axis(x),
            y: axis(y),
            grid: DEFAULT_GRID,
            estimators: Vec::new(),
            hp: HyperParams::default(),
            samples: DEFAULT_SAMPLES,
            seed: 1,
            steps: 100,
            lr: 0.1,
            optimizer: Optimizer::Sgd,
        }
    }
}

/// One estimator on the field: how its means are obtained, or why it is left out.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EstimatorField {
    pub key: String,
    /// How its mean is obtained at every grid point (`None`: skipped).
    pub method: Option<Method>,
    /// Why it is left out (it does not apply to the model, or it is another unit type).
    pub skipped: Option<String>,
    /// What its plan says (e.g. the idealised baseline), once.
    pub note: Option<String>,
}

/// One grid point.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    /// The exact `E[f]` there.
    pub expected_loss: f64,
    /// The exact `(∂E[f]/∂x, ∂E[f]/∂y)` there.
    pub gradient: [f64; 2],
    /// Per estimator that is not skipped (in the order of [`Field::estimators`]): its mean's two
    /// components there.
    pub means: Vec<[f64; 2]>,
    /// Per estimator: the standard errors of its mean (Monte Carlo only).
    pub stderr: Vec<Option<[f64; 2]>>,
}

/// A path on the plane: the two parameters after each step (the start first) and the exact
/// `E[f]` there.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Trajectory {
    /// An estimator's key, or `exact` for gradient descent on the exact gradient.
    pub key: String,
    pub points: Vec<[f64; 2]>,
    pub expected_loss: Vec<f64>,
}

/// The field of one model and spec: validated, computed row by row.
pub struct Field {
    model: Model,
    spec: Spec,
    used: Vec<&'static dyn Estimator>,
    estimators: Vec<EstimatorField>,
}

impl Field {
    /// Check the spec against the model: binary or categorical units, two distinct parameters, finite ranges
    /// with `lo < hi`, the grid, samples, steps and learning rate in range, known estimators
    /// (those that do not apply are kept as skipped, with the reason).
    pub fn new(model: &Model, spec: Spec) -> Result<Field> {
        use crate::model::UnitKind;
        let exact_kind = |u: &UnitKind| matches!(u, UnitKind::Binary | UnitKind::Categorical { .. });
        if let Some((k, l)) = model.layers.iter().enumerate().find(|(_, l)| !exact_kind(&l.unit)) {
            return Err(Error::NotApplicable(Reason::MonteCarloOnly(format!(
                "the gradient field is drawn for networks of binary or categorical units (layer {} has {} units)",
                k + 1,
                l.unit.key()
            ))));
        }
        let n = model.num_params();
        for (name, a) in [("x", spec.x), ("y", spec.y)] {
            if a.index >= n {
                return Err(Error::Hyper(format!("{name}: no parameter {} (the network has {n})", a.index)));
            }
            let ok = |v: f64| v.is_finite() && v.abs() <= MAX_COORDINATE;
            if !(ok(a.lo) && ok(a.hi) && a.lo < a.hi) {
                return Err(Error::Hyper(format!(
                    "{name}'s range must be finite, within ±{MAX_COORDINATE}, with its start below its end, got [{}, {}]",
                    a.lo, a.hi
                )));
            }
        }
        if spec.x.index == spec.y.index {
            return Err(Error::Hyper(format!(
                "the two parameters must differ (both are {})",
                params::name(model, spec.x.index)
            )));
        }
        if spec.grid < GRID_RANGE.0 || spec.grid > GRID_RANGE.1 {
            return Err(Error::Hyper(format!(
                "grid must be in [{}, {}] points per axis, got {}",
                GRID_RANGE.0, GRID_RANGE.1, spec.grid
            )));
        }
        if spec.steps > MAX_STEPS {
            return Err(Error::Hyper(format!("steps must be at most {MAX_STEPS}, got {}", spec.steps)));
        }
        let (lo, hi) = train::LR_RANGE;
        if !(spec.lr.is_finite() && spec.lr >= lo && spec.lr <= hi) {
            return Err(Error::Hyper(format!("lr must be in [{lo}, {hi}], got {}", spec.lr)));
        }
        spec.hp.validate()?;
        let mut used = Vec::new();
        let mut estimators = Vec::new();
        let mut monte_carlo = false;
        for key in &spec.estimators {
            let est = estimators::find(key).ok_or_else(|| {
                Error::Hyper(format!(
                    "unknown estimator \"{}\" (known: {})",
                    key.chars().take(40).collect::<String>(),
                    estimators::keys().join(", ")
                ))
            })?;
            if estimators.iter().any(|e: &EstimatorField| &e.key == key) {
                continue;
            }
            let meta = est.meta();
            let skip = if meta.family == Family::UnitType {
                Some(format!(
                    "{key} trains another unit type and is compared on its own objective, not on this network's field"
                ))
            } else {
                est.check(model).err().map(|e| e.to_string())
            };
            let plan = est.plan(model, &spec.hp);
            let method = match (&skip, plan.method) {
                (Some(_), _) => None,
                (None, Method::MonteCarlo) => Some(Method::MonteCarlo),
                (None, m) => Some(m),
            };
            monte_carlo |= method == Some(Method::MonteCarlo);
            if skip.is_none() {
                used.push(est);
            }
            estimators.push(EstimatorField { key: meta.key.to_string(), method, skipped: skip, note: plan.note });
        }
        if monte_carlo && (spec.samples < 2 * MC_CHUNK || spec.samples > limits::MAX_SAMPLES) {
            return Err(Error::Hyper(format!(
                "samples must be in [{}, {}] for Monte Carlo, got {}",
                2 * MC_CHUNK,
                limits::MAX_SAMPLES,
                spec.samples
            )));
        }
        Ok(Field { model: model.clone(), spec, used, estimators })
    }

    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// Every estimator asked for, in order, with its method or why it is skipped.
    pub fn estimators(&self) -> &[EstimatorField] {
        &self.estimators
    }

    /// The grid's values of the parameter `a`: `lo + (hi − lo)·i/(n − 1)`, ends included.
    pub fn values(&self, a: Axis) -> Vec<f64> {
        let n = self.spec.grid;
        (0..n).map(|i| if i + 1 == n { a.hi } else { a.lo + (a.hi - a.lo) * (i as f64 / (n - 1) as f64) }).collect()
    }

    /// The grid's x values.
    pub fn xs(&self) -> Vec<f64> {
        self.values(self.spec.x)
    }

    /// The grid's y values.
    pub fn ys(&self) -> Vec<f64> {
        self.values(self.spec.y)
    }

    /// The model with the two parameters set to `(x, y)`.
    pub fn model_at(&self, x: f64, y: f64) -> Model {
        let mut theta = train::parameters(&self.model);
        theta[self.spec.x.index] = x;
        theta[self.spec.y.index] = y;
        let mut m = self.model.clone();
        train::set_parameters(&mut m, &theta);
        m
    }

    /// One grid point.
    pub fn point(&self, x: f64, y: f64) -> Result<Point> {
        let (ix, iy) = (self.spec.x.index, self.spec.y.index);
        let model = self.model_at(x, y);
        let sol = exact::solve(&model)?;
        let two = |v: &[f64]| [v[ix], v[iy]];
        let gradient = two(&sol.gradient);
        if !(sol.expected_loss.is_finite() && gradient.iter().all(|g| g.is_finite())) {
            return Err(Error::Numerical(format!("the exact gradient overflowed at ({x}, {y})")));
        }
        let req =
            Request { hp: self.spec.hp, method: MethodChoice::Auto, samples: self.spec.samples, seed: self.spec.seed };
        let mut means = Vec::with_capacity(self.used.len());
        let mut stderr = Vec::with_capacity(self.used.len());
        for est in &self.used {
            let r = moments::moments(&model, &sol, *est, &req, &mut |_, _| true)?;
            means.push(two(&r.mean));
            stderr.push(r.stderr.as_deref().map(two));
        }
        Ok(Point { x, y, expected_loss: sol.expected_loss, gradient, means, stderr })
    }

    /// Row `j` of the grid (the `j`-th y value, every x value in order).
    pub fn row(&self, j: usize) -> Result<Vec<Point>> {
        let y = self.ys()[j];
        self.xs().into_iter().map(|x| self.point(x, y)).collect()
    }

    /// Every row, in order.
    pub fn rows(&self) -> Result<Vec<Vec<Point>>> {
        (0..self.spec.grid).map(|j| self.row(j)).collect()
    }

    /// The trajectory of `key` (an estimator not skipped, or `exact`) from the model's current
    /// parameters: [`Spec::steps`] updates of only the two parameters.
    pub fn trajectory(&self, key: &str) -> Result<Trajectory> {
        let (ix, iy) = (self.spec.x.index, self.spec.y.index);
        let s = &self.spec;
        let mut points = Vec::with_capacity(s.steps as usize + 1);
        let mut losses = Vec::with_capacity(s.steps as usize + 1);
        if key == "exact" {
            let mut model = self.model.clone();
            let mut theta = train::parameters(&model);
            let mut update = Update::new(s.optimizer, s.lr, theta.len());
            update.free(&[ix, iy], theta.len())?;
            for step in 0..=s.steps {
                let sol = exact::solve(&model)?;
                points.push([theta[ix], theta[iy]]);
                losses.push(sol.expected_loss);
                if step == s.steps {
                    break;
                }
                update.apply(&mut theta, &sol.gradient);
                if !(theta[ix].is_finite() && theta[iy].is_finite()) {
                    return Err(Error::Numerical(format!("exact descent overflowed at step {}", step + 1)));
                }
                train::set_parameters(&mut model, &theta);
            }
        } else {
            let est = self
                .used
                .iter()
                .find(|e| e.meta().key == key)
                .ok_or_else(|| Error::Hyper(format!("{key} is not one of the field's applicable estimators")))?;
            let mut race =
                Race::new(self.model.clone(), *est, s.hp, s.optimizer, s.lr, s.seed)?.freeze_all_but(&[ix, iy])?;
            for step in 0..=s.steps {
                let theta = train::parameters(race.model());
                let r = race.evaluate()?;
                points.push([theta[ix], theta[iy]]);
                losses.push(r.expected_loss);
                if step < s.steps {
                    race.advance()?;
                }
            }
        }
        Ok(Trajectory { key: key.to_string(), points, expected_loss: losses })
    }

    /// Exact descent's trajectory, then each applicable estimator's (none when steps is 0).
    pub fn trajectories(&self) -> Result<Vec<Trajectory>> {
        if self.spec.steps == 0 {
            return Ok(Vec::new());
        }
        let mut keys = vec!["exact"];
        keys.extend(self.used.iter().map(|e| e.meta().key));
        keys.into_iter().map(|k| self.trajectory(k)).collect()
    }
}
