//! `reinforce-optimal`: REINFORCE with Bengio's variance-minimising per-unit baseline
//! `L̄_i = E[(h_i − σ_i)² f] / E[(h_i − σ_i)²]` (Bengio et al. 2013, Corollary 1, Eq. 10).
//!
//! The running estimator keeps two moving averages per unit, of `(h_i − σ_i)² f` and of
//! `(h_i − σ_i)²` (decay 0.9 as in Léonard's code), and uses their ratio (0 until the denominator
//! is positive) *before* updating them with the current sample. Its exact figures are for the
//! idealised estimator with the exact `L̄_i`, which the layer chain computes alongside the gradient.

use super::common::{centred, chain_params, JointEstimator};
use super::reinforce::ScoreRule;
use super::{Depth, Family, Hyper, HyperParams, Meta, Sampler};
use crate::error::Result;
use crate::model::Model;
use crate::rng::Stream;
use crate::solution::ExactSolution;
use crate::trace::Trace;

pub struct ReinforceOptimal;

pub(super) static META: Meta = Meta {
    key: "reinforce-optimal",
    name: "REINFORCE, optimal per-unit baseline (Bengio)",
    family: Family::ScoreFunction,
    unbiased: true,
    needs_loss_gradient: false,
    uses_tau: false,
    stateful: true,
    depth: Depth::Any,
    hyper: &[Hyper::Decay],
    evaluations: "1",
    formula: "ĝ_i = (h_i − σ(a_i)) · (f(h) − L̄_i),  L̄_i = E[(h_i − σ_i)² f] / E[(h_i − σ_i)²]",
    formula_mathml: "<math><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mo>(</mo><msub><mi>h</mi><mi>i</mi></msub><mo>−</mo><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo><mo>)</mo><mo>·</mo><mo>(</mo><mi>f</mi><mo>−</mo><msub><mover><mi>L</mi><mo>‾</mo></mover><mi>i</mi></msub><mo>)</mo><mo>,</mo><mspace width=\"1em\"/><msub><mover><mi>L</mi><mo>‾</mo></mover><mi>i</mi></msub><mo>=</mo><mfrac><mrow><mi>E</mi><mo>[</mo><msup><mrow><mo>(</mo><msub><mi>h</mi><mi>i</mi></msub><mo>−</mo><msub><mi>σ</mi><mi>i</mi></msub><mo>)</mo></mrow><mn>2</mn></msup><mi>f</mi><mo>]</mo></mrow><mrow><mi>E</mi><mo>[</mo><msup><mrow><mo>(</mo><msub><mi>h</mi><mi>i</mi></msub><mo>−</mo><msub><mi>σ</mi><mi>i</mi></msub><mo>)</mo></mrow><mn>2</mn></msup><mo>]</mo></mrow></mfrac></math>",
    explanation: "Bengio's unbiased estimator with the baseline that minimises each unit's variance among constant baselines: a weighted average of the loss whose weights, (h_i − σ_i)², differ per unit. For a Bernoulli unit it weights E[f | h_i = 1] by 1 − p and E[f | h_i = 0] by p — the reverse of E[f]. The paper keeps 'two numbers (running or moving averages) for each stochastic neuron'; the decay 0.9 used by default is a setting of the authors' experiment code (mean_loss_coeff in nicholas-leonard/delicious), not of the paper. Exact figures use the exact L̄_i, and then a network of one unit whose loss depends only on that unit is degenerate: the estimate is the same constant for both values of h (zero variance).",
    citation: "Y. Bengio, N. Léonard, A. Courville (2013), Estimating or Propagating Gradients Through Stochastic Neurons for Conditional Computation, arXiv:1308.3432, Corollary 1 (Eq. 10); decay 0.9: the authors' experiment code (nicholas-leonard/delicious, final_experiment2/launch_comparison.sql, mean_loss_coeff); L. Weaver, N. Tao (2001), The Optimal Reward Baseline for Gradient-Based Reinforcement Learning, UAI; I. Goodfellow, Y. Bengio, A. Courville (2016), Deep Learning, MIT Press, eq. 20.68.",
    recommended_tau: None,
};

struct Running<'a> {
    model: &'a Model,
    decay: f64,
    numer: Vec<f64>,
    denom: Vec<f64>,
    trace: Trace,
    ga: Vec<f64>,
}

impl Sampler for Running<'_> {
    fn last_output(&self) -> Option<Vec<f64>> {
        Some(self.trace.output().to_vec())
    }

    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]) {
        self.trace.sample(self.model, rng);
        let f = self.model.loss.value(self.trace.output());
        let d = self.decay;
        for u in 0..self.ga.len() {
            let c = centred(&self.trace, u);
            let baseline = if self.denom[u] > 0.0 { self.numer[u] / self.denom[u] } else { 0.0 };
            self.ga[u] = c * (f - baseline);
            // Update after use: the baseline never sees the sample it centres.
            self.numer[u] = d * self.numer[u] + (1.0 - d) * c * c * f;
            self.denom[u] = d * self.denom[u] + (1.0 - d) * c * c;
        }
        chain_params(self.model, &self.trace, &self.ga, out);
    }
    fn state(&self) -> Vec<f64> {
        [self.numer.as_slice(), self.denom.as_slice()].concat()
    }
    fn set_state(&mut self, state: &[f64]) {
        let n = self.numer.len();
        if state.len() == 2 * n {
            self.numer.copy_from_slice(&state[..n]);
            self.denom.copy_from_slice(&state[n..]);
        }
    }
}

impl JointEstimator for ReinforceOptimal {
    const META: &'static Meta = &META;
    const IDEALISED: Option<&'static str> = Some("idealised: exact figures use the exact per-unit baselines L̄_i; the sampled running estimator tracks them with moving averages");
    type Rule<'a> = ScoreRule;
    fn rule(&self, _: &Model, _: &HyperParams, sol: &ExactSolution) -> Result<ScoreRule> {
        Ok(ScoreRule { baseline: sol.optimal_baseline.iter().flatten().copied().collect() })
    }
    fn mc_sampler<'a>(&self, model: &'a Model, hp: &HyperParams, _: &ExactSolution) -> Result<Box<dyn Sampler + 'a>> {
        let n = model.units();
        Ok(Box::new(Running {
            model,
            decay: hp.decay,
            numer: vec![0.0; n],
            denom: vec![0.0; n],
            trace: Trace::new(model),
            ga: vec![0.0; n],
        }))
    }
}
