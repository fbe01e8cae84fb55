//! Training races: gradient descent on a network's parameters with one Monte-Carlo gradient
//! estimate per step (batch 1), reporting the *exact* expected loss and gradient norm at the
//! parameters after every step, and the loss evaluations spent so far (the fair x-axis).
//!
//! * Step `s` (counting from 0) draws its estimate with stream `s` of the family
//!   `(seed, estimator key)` ([`crate::rng::Stream`]), so a race is fixed by its seed, natively and
//!   in wasm, and two estimators raced with the same seed start from the same parameters.
//! * Stateful estimators (running baselines, RELAX's control variate, the learned predictor) keep
//!   their state across steps: the sampler is rebuilt for the new parameters and its state carried
//!   over ([`crate::estimators::Sampler::state`]).
//! * Unit-type estimators (`sts`, `noisy-rectifier`) train the same network with their own units,
//!   and the race reports *their own* objective ([`crate::estimators::Estimator::own_objective`]).
//! * Optimisers: plain SGD `θ ← θ − lr·ĝ`, or Adam (β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸, bias-corrected).
//!
//! The API is a stepper ([`Race::step`], or [`Race::advance`] and [`Race::evaluate`] separately) so
//! the CLI prints a row per step and the page's worker can run a few steps between yields.

use crate::error::{Error, Result};
use crate::estimators::{Estimator, Family, HyperParams};
use crate::exact::{self, ExactSolution};
use crate::math;
use crate::model::Model;
use crate::rng::Stream;
use crate::stats::Method;

/// Largest number of steps of one race the CLI accepts.
pub const MAX_STEPS: u64 = 10_000_000;
/// Allowed learning rates.
pub const LR_RANGE: (f64, f64) = (1e-9, 1e3);

/// The optimiser of a race.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Optimizer {
    Sgd,
    Adam,
}

impl Optimizer {
    pub fn key(self) -> &'static str {
        match self {
            Optimizer::Sgd => "sgd",
            Optimizer::Adam => "adam",
        }
    }
    pub fn from_key(s: &str) -> Option<Optimizer> {
        match s {
            "sgd" => Some(Optimizer::Sgd),
            "adam" => Some(Optimizer::Adam),
            _ => None,
        }
    }
}

/// The figures at the current parameters after `step` updates.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepReport {
    /// Updates made so far (0: the initial parameters).
    pub step: u64,
    /// `E[f]` at the current parameters (of the estimator's own objective for unit types).
    pub expected_loss: f64,
    /// `‖∇θ E[f]‖` at the current parameters.
    pub grad_norm: f64,
    /// Loss evaluations spent by the estimates so far.
    pub loss_evaluations: f64,
    /// For a network with one unit: `p = σ(a)`.
    pub p: Option<f64>,
    /// How `expected_loss` and `grad_norm` were obtained (exact, quadrature, or Monte Carlo for a
    /// unit type whose objective has no exact form).
    pub method: Method,
}

/// Flat parameters `[W_1 row-major, c_1, W_2, c_2, …]` of a model.
pub fn parameters(model: &Model) -> Vec<f64> {
    let mut v = Vec::with_capacity(model.num_params());
    for l in &model.layers {
        v.extend_from_slice(&l.weights);
        v.extend_from_slice(&l.bias);
    }
    v
}

/// Write flat parameters back into a model.
pub fn set_parameters(model: &mut Model, theta: &[f64]) {
    let mut off = 0;
    for l in &mut model.layers {
        let nw = l.weights.len();
        l.weights.copy_from_slice(&theta[off..off + nw]);
        off += nw;
        let nb = l.bias.len();
        l.bias.copy_from_slice(&theta[off..off + nb]);
        off += nb;
    }
}

/// `σ(a)` of a network's single unit, if it has exactly one.
pub fn single_unit_probability(model: &Model) -> Option<f64> {
    if model.units() != 1 {
        return None;
    }
    let mut a = [0.0];
    model.layers[0].preactivation(&model.input, &mut a);
    Some(math::sigmoid(a[0]))
}

/// An update rule with its state: SGD `θ ← θ − lr·g`, or Adam (β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸,
/// bias-corrected), on every parameter or only on a chosen few ([`Update::free`]).
#[derive(Clone, Debug)]
pub struct Update {
    optimizer: Optimizer,
    lr: f64,
    /// Updates made so far.
    t: u64,
    /// Adam's moments.
    m: Vec<f64>,
    v: Vec<f64>,
    /// The parameters that move (`None`: all).
    free: Option<Vec<usize>>,
}

impl Update {
    /// A fresh rule for `params` parameters.
    pub fn new(optimizer: Optimizer, lr: f64, params: usize) -> Update {
        Update { optimizer, lr, t: 0, m: vec![0.0; params], v: vec![0.0; params], free: None }
    }

    /// Move only the parameters `free` (distinct indices below `params`).
    pub fn free(&mut self, free: &[usize], params: usize) -> Result<()> {
        for (k, &i) in free.iter().enumerate() {
            if i >= params || free[..k].contains(&i) {
                return Err(Error::Hyper(format!(
                    "the parameters to train must be distinct indices below {params}, got {free:?}"
                )));
            }
        }
        self.free = Some(free.to_vec());
        Ok(())
    }

    /// One update of `theta` by the gradient (or estimate) `g`.
    pub fn apply(&mut self, theta: &mut [f64], g: &[f64]) {
        self.t += 1;
        let all: Vec<usize>;
        let idx: &[usize] = match &self.free {
            Some(f) => f,
            None => {
                all = (0..theta.len()).collect();
                &all
            }
        };
        match self.optimizer {
            Optimizer::Sgd => {
                for &i in idx {
                    theta[i] -= self.lr * g[i];
                }
            }
            Optimizer::Adam => {
                let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
                let t = self.t as i32;
                let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
                for &i in idx {
                    let (m, v) = (&mut self.m[i], &mut self.v[i]);
                    *m = b1 * *m + (1.0 - b1) * g[i];
                    *v = b2 * *v + (1.0 - b2) * g[i] * g[i];
                    theta[i] -= self.lr * (*m / c1) / ((*v / c2).sqrt() + eps);
                }
            }
        }
    }
}

/// One race: an estimator training a copy of a network.
pub struct Race {
    model: Model,
    est: &'static dyn Estimator,
    hp: HyperParams,
    seed: u64,
    step: u64,
    evaluations: f64,
    /// The sampler's carried-over state.
    state: Vec<f64>,
    /// The update rule (and Adam's moments).
    update: Update,
    /// The exact solution at the current parameters, once computed.
    current: Option<(ExactSolution, Method)>,
    estimate: Vec<f64>,
}

impl Race {
    /// A race of `est` on a copy of `model`. Refuses an estimator that does not apply, invalid
    /// hyper-parameters and learning rates outside [`LR_RANGE`].
    pub fn new(
        model: Model,
        est: &'static dyn Estimator,
        hp: HyperParams,
        optimizer: Optimizer,
        lr: f64,
        seed: u64,
    ) -> Result<Race> {
        hp.validate()?;
        est.check(&model)?;
        if !(lr.is_finite() && lr >= LR_RANGE.0 && lr <= LR_RANGE.1) {
            return Err(Error::Hyper(format!("lr must be in [{}, {}], got {lr}", LR_RANGE.0, LR_RANGE.1)));
        }
        let np = model.num_params();
        Ok(Race {
            model,
            est,
            hp,
            seed,
            step: 0,
            evaluations: 0.0,
            state: Vec::new(),
            update: Update::new(optimizer, lr, np),
            current: None,
            estimate: vec![0.0; np],
        })
    }

    /// The same race moving only the parameters `free` (indices in parameter order; the others
    /// stay at their values): the estimates are drawn as before, only their `free` components are
    /// used. The gradient field's trajectories train two parameters this way.
    pub fn freeze_all_but(mut self, free: &[usize]) -> Result<Race> {
        self.update.free(free, self.model.num_params())?;
        Ok(self)
    }

    /// The network with the current parameters.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Updates made so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// The estimator being raced.
    pub fn estimator(&self) -> &'static dyn Estimator {
        self.est
    }

    /// The last gradient estimate used (zeros before the first step).
    pub fn last_estimate(&self) -> &[f64] {
        &self.estimate
    }

    /// The exact solution (of the estimator's own objective, for unit types) at the current
    /// parameters, computed once per parameter value.
    fn solution(&mut self) -> Result<&(ExactSolution, Method)> {
        if self.current.is_none() {
            let sol = match self.est.own_objective(&self.model, &self.hp) {
                Some(own) => {
                    let own = own?;
                    (own.solution, own.method)
                }
                None => (exact::solve(&self.model)?, Method::Exact),
            };
            if !sol.0.expected_loss.is_finite() || sol.0.gradient.iter().any(|g| !g.is_finite()) {
                return Err(Error::Numerical("the exact gradient overflowed during training".into()));
            }
            self.current = Some(sol);
        }
        Ok(self.current.as_ref().expect("just set"))
    }

    /// The figures at the current parameters.
    pub fn evaluate(&mut self) -> Result<StepReport> {
        let (step, evaluations, p) = (self.step, self.evaluations, single_unit_probability(&self.model));
        let (sol, method) = self.solution()?;
        Ok(StepReport {
            step,
            expected_loss: sol.expected_loss,
            grad_norm: sol.gradient.iter().map(|g| g * g).sum::<f64>().sqrt(),
            loss_evaluations: evaluations,
            p,
            method: *method,
        })
    }

    /// One update from one gradient estimate, without evaluating the new parameters.
    pub fn advance(&mut self) -> Result<()> {
        let key = self.est.meta().key;
        // Unit-type samplers read only the model; the others get the exact solution they may use.
        let placeholder = ExactSolution {
            expected_loss: 0.0,
            gradient: Vec::new(),
            optimal_baseline: Vec::new(),
            score_second_moment: Vec::new(),
        };
        if self.est.meta().family != Family::UnitType {
            self.solution()?;
        }
        let sol: &ExactSolution = match &self.current {
            Some((s, _)) => s,
            None => &placeholder,
        };
        let est = self.est;
        let mut sampler = est.sampler(&self.model, &self.hp, sol)?;
        if !self.state.is_empty() {
            sampler.set_state(&self.state);
        }
        let mut rng = Stream::new(self.seed, key, self.step);
        sampler.draw(&mut rng, &mut self.estimate);
        self.state = sampler.state();
        drop(sampler);
        // An `elbo` model's −H(q) is not estimated: its exact gradient is added.
        if let Some(term) = exact::exact_term(&self.model) {
            for (g, t) in self.estimate.iter_mut().zip(&term.gradient) {
                *g += t;
            }
        }
        if self.estimate.iter().any(|g| !g.is_finite()) {
            return Err(Error::Numerical(format!("{key}'s gradient estimate overflowed at step {}", self.step + 1)));
        }
        self.evaluations += est.loss_evaluations(&self.model, &self.hp);
        let mut theta = parameters(&self.model);
        self.step += 1;
        self.update.apply(&mut theta, &self.estimate);
        if theta.iter().any(|t| !t.is_finite()) {
            return Err(Error::Numerical(format!("the parameters overflowed at step {}", self.step)));
        }
        set_parameters(&mut self.model, &theta);
        self.current = None;
        Ok(())
    }

    /// One update, then the figures at the new parameters.
    pub fn step(&mut self) -> Result<StepReport> {
        self.advance()?;
        self.evaluate()
    }
}
