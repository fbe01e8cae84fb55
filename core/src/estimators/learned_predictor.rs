//! `learned-predictor`: an add-on to the unbiased estimator proposed in the abstract of Bengio (2013,
//! arXiv:1305.2982): approximate the unbiased but noisy estimator by *learning to predict it* with a
//! biased, less noisy one. (The paper's second approach is another: back-propagating an estimator
//! through units such as the noisy rectifier.) The abstract does not say how; the features and the
//! fit below are this project's design.
//!
//! Per unit `i`, the unbiased target is Bengio's estimate with the optimal baseline,
//! `y_i = (h_i − σ(a_i))·(f(h) − L̄_i)`, with `L̄_i` tracked exactly as by `reinforce-optimal`'s running
//! version (moving averages of `(h_i − σ_i)² f` and `(h_i − σ_i)²` with the `decay`, ratio used
//! before the update, 0 until the denominator is positive). The predictor is linear in the unit's
//! local features `x_i = (st_i, h_i − σ(a_i), 1)`, where `st_i` is the unit's straight-through
//! estimate (`∂f/∂h` back-propagated with derivative 1, as by `st`). The estimate is the prediction
//! `ĝ_i = w_iᵀ x_i` with the weights *before* this draw's update, chained to the parameters.
//!
//! **Training: recursive least squares**, one regressor per unit, no forgetting. With `w = 0` and
//! `P = 10⁴·I` at the start, after each draw (a-priori error `e = y − wᵀx`):
//! `k = P x / (1 + xᵀ P x)`, `w ← w + k e`, `P ← P − k (P x)ᵀ` (then symmetrised). So `w` is at every
//! step the exact ridge least-squares fit (penalty `10⁻⁴‖w‖²`) of all past targets on their features.
//! With the intercept in the features the fitted predictions match the targets' mean on the data
//! seen, but the estimate is biased in general (always in finite samples, and at the parameters
//! of deeper layers in the limit too), with much lower variance than the target.
//!
//! Monte Carlo only (the figures depend on the whole sequence of draws; the plan says so).

use super::common::{backprop, centred, chain_params, sample_trace, sampling_trace};
use super::{Depth, Estimator, ExactJob, Family, Hyper, HyperParams, Meta, Plan, Sampler};
use crate::error::{Error, Reason, Result};
use crate::model::Model;
use crate::rng::Stream;
use crate::solution::ExactSolution;
use crate::stats::Method;
use crate::trace::{transposed, Trace};

pub struct LearnedPredictor;

/// Initial `P = P0·I` of recursive least squares (a ridge penalty of `1/P0`).
pub const P0: f64 = 1e4;

pub(super) static META: Meta = Meta {
    key: "learned-predictor",
    name: "Learned predictor of the unbiased estimator (Bengio 2013)",
    family: Family::ScoreFunction,
    unbiased: false,
    needs_loss_gradient: true,
    uses_tau: false,
    stateful: true,
    depth: Depth::Any,
    hyper: &[Hyper::Decay],
    evaluations: "1 (and ∂f/∂h)",
    formula: "ĝ_i = w_iᵀ (st_i, h_i − σ(a_i), 1),  w_i ← recursive least squares on y_i = (h_i − σ(a_i))·(f(h) − L̄_i)",
    formula_mathml: "<math><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><msubsup><mi>w</mi><mi>i</mi><mi>T</mi></msubsup><mo>(</mo><msub><mi>st</mi><mi>i</mi></msub><mo>,</mo><msub><mi>h</mi><mi>i</mi></msub><mo>−</mo><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo><mo>,</mo><mn>1</mn><mo>)</mo><mo>,</mo><mspace width=\"1em\"/><msub><mi>w</mi><mi>i</mi></msub><mo>←</mo><mi>RLS</mi><mo>(</mo><msub><mi>y</mi><mi>i</mi></msub><mo>=</mo><mo>(</mo><msub><mi>h</mi><mi>i</mi></msub><mo>−</mo><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo><mo>)</mo><mo>(</mo><mi>f</mi><mo>−</mo><msub><mover><mi>L</mi><mo>‾</mo></mover><mi>i</mi></msub><mo>)</mo><mo>)</mo></math>",
    explanation: "The seed paper's abstract proposes 'approximating this unbiased but high-variance estimator by learning to predict it using a biased estimator' — an add-on to its unbiased estimator (the paper's second approach is different: back-propagating an estimator through units such as the noisy rectifier). How the predictor is built here is this project's design, not the paper's: each unit fits, online by recursive least squares, a linear function of quantities it has locally — its straight-through estimate, its own surprise h − σ(a), and a constant — to the unbiased estimate with the optimal baseline, and the prediction is used as the gradient. The predictions are less noisy than the target they are trained on, but biased: a linear function of those features cannot reproduce the target's mean in general, and it lags behind while the regressor learns.",
    citation: "Y. Bengio (2013), Estimating or Propagating Gradients Through Stochastic Neurons, arXiv:1305.2982 (abstract: “approximating this unbiased but high-variance estimator by learning to predict it using a biased estimator”); the features and the recursive least-squares fit are this project's design (RLS as in S. Haykin (2002), Adaptive Filter Theory, 4th ed., Prentice Hall).",
    recommended_tau: None,
};

/// One unit's recursive least-squares regressor on 3 features.
#[derive(Clone)]
struct Rls {
    w: [f64; 3],
    p: [[f64; 3]; 3],
}

impl Rls {
    fn new() -> Rls {
        Rls { w: [0.0; 3], p: [[P0, 0.0, 0.0], [0.0, P0, 0.0], [0.0, 0.0, P0]] }
    }
    fn predict(&self, x: &[f64; 3]) -> f64 {
        self.w[0] * x[0] + self.w[1] * x[1] + self.w[2] * x[2]
    }
    fn update(&mut self, x: &[f64; 3], y: f64) {
        let mut px = [0.0; 3];
        for (r, o) in px.iter_mut().enumerate() {
            *o = self.p[r][0] * x[0] + self.p[r][1] * x[1] + self.p[r][2] * x[2];
        }
        let denom = 1.0 + x[0] * px[0] + x[1] * px[1] + x[2] * px[2];
        if !(denom.is_finite() && denom > 0.0) {
            return;
        }
        let err = y - self.predict(x);
        let k = [px[0] / denom, px[1] / denom, px[2] / denom];
        let mut next = self.p;
        for r in 0..3 {
            for c in 0..3 {
                next[r][c] -= k[r] * px[c];
            }
        }
        for (r, c) in [(0, 1), (0, 2), (1, 2)] {
            let s = 0.5 * (next[r][c] + next[c][r]);
            next[r][c] = s;
            next[c][r] = s;
        }
        if next.iter().flatten().all(|v| v.is_finite()) && err.is_finite() {
            for (w, ki) in self.w.iter_mut().zip(k) {
                *w += ki * err;
            }
            self.p = next;
        }
    }
}

struct Running<'a> {
    model: &'a Model,
    decay: f64,
    numer: Vec<f64>,
    denom: Vec<f64>,
    rls: Vec<Rls>,
    trace: Trace,
    df: Vec<f64>,
    st: Vec<f64>,
    ga: Vec<f64>,
    /// For [`sample_trace`]: the transposed weights.
    wt: Vec<Vec<f64>>,
}

impl Sampler for Running<'_> {
    fn last_output(&self) -> Option<Vec<f64>> {
        Some(self.trace.output().to_vec())
    }

    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]) {
        let model = self.model;
        sample_trace(model, &mut self.trace, &self.wt, rng);
        let f = model.loss.value(self.trace.output());
        model.loss.gradient(self.trace.output(), &mut self.df);
        backprop(model, &self.trace, &self.df, |_, _| 1.0, &mut self.st);
        let d = self.decay;
        for u in 0..self.ga.len() {
            let c = centred(&self.trace, u);
            let x = [self.st[u], c, 1.0];
            self.ga[u] = self.rls[u].predict(&x);
            // Learn after use: the target with the running baseline, then the baseline's update.
            let baseline = if self.denom[u] > 0.0 { self.numer[u] / self.denom[u] } else { 0.0 };
            self.rls[u].update(&x, c * (f - baseline));
            self.numer[u] = d * self.numer[u] + (1.0 - d) * c * c * f;
            self.denom[u] = d * self.denom[u] + (1.0 - d) * c * c;
        }
        chain_params(model, &self.trace, &self.ga, out);
    }
    /// `[numer, denom, per unit (w, P row-major)]`.
    fn state(&self) -> Vec<f64> {
        let mut s = [self.numer.as_slice(), self.denom.as_slice()].concat();
        for r in &self.rls {
            s.extend_from_slice(&r.w);
            s.extend(r.p.iter().flatten());
        }
        s
    }
    fn set_state(&mut self, state: &[f64]) {
        let n = self.numer.len();
        if state.len() != 2 * n + 12 * n {
            return;
        }
        self.numer.copy_from_slice(&state[..n]);
        self.denom.copy_from_slice(&state[n..2 * n]);
        for (u, r) in self.rls.iter_mut().enumerate() {
            let s = &state[2 * n + 12 * u..2 * n + 12 * (u + 1)];
            r.w.copy_from_slice(&s[..3]);
            for (row, chunk) in r.p.iter_mut().zip(s[3..].chunks(3)) {
                row.copy_from_slice(chunk);
            }
        }
    }
}

impl Estimator for LearnedPredictor {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn loss_evaluations(&self, _: &Model, _: &HyperParams) -> f64 {
        1.0
    }
    fn plan(&self, _: &Model, _: &HyperParams) -> Plan {
        Plan {
            method: Method::MonteCarlo,
            note: Some(
                "Monte Carlo only: the predictor is learned while sampling, so the figures depend on the whole sequence of draws".into(),
            ),
        }
    }
    fn exact_job<'a>(
        &'a self,
        model: &'a Model,
        _: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn ExactJob + 'a>> {
        self.check(model)?;
        Err(Error::NotApplicable(Reason::LearnedWhileSampling {
            estimator: "learned-predictor".into(),
            learned: "predictor".into(),
        }))
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        self.check(model)?;
        let n = model.units();
        Ok(Box::new(Running {
            model,
            decay: hp.decay,
            numer: vec![0.0; n],
            denom: vec![0.0; n],
            rls: vec![Rls::new(); n],
            trace: sampling_trace(model),
            df: vec![0.0; model.output_width()],
            st: vec![0.0; n],
            ga: vec![0.0; n],
            wt: transposed(model),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Draws, Stream};

    #[test]
    fn rls_recovers_a_linear_fit() {
        let mut r = Rls::new();
        let mut s = Stream::new(1, "rls", 0);
        for _ in 0..2000 {
            let x = [s.normal(), s.normal(), 1.0];
            r.update(&x, 2.0 * x[0] - 0.5 * x[1] + 0.25);
        }
        for (w, e) in r.w.iter().zip([2.0, -0.5, 0.25]) {
            assert!((w - e).abs() < 1e-6, "{:?}", r.w);
        }
    }
}
