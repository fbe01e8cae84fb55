//! `reinforce`: the score-function estimator with no baseline (Bengio 2013, Theorem 1; Williams 1992).

use super::common::{centred, JointEstimator, JointRule, LossAccess};
use super::{Depth, Family, HyperParams, Meta};
use crate::error::Result;
use crate::model::Model;
use crate::solution::ExactSolution;
use crate::trace::Trace;

pub struct Reinforce;

pub(super) static META: Meta = Meta {
    key: "reinforce",
    name: "REINFORCE (no baseline)",
    family: Family::ScoreFunction,
    unbiased: true,
    needs_loss_gradient: false,
    uses_tau: false,
    stateful: false,
    depth: Depth::Any,
    hyper: &[],
    evaluations: "1",
    formula: "ĝ_i = (h_i − σ(a_i)) · f(h)",
    formula_mathml: "<math><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mo>(</mo><msub><mi>h</mi><mi>i</mi></msub><mo>−</mo><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo><mo>)</mo><mo>·</mo><mi>f</mi><mo>(</mo><mi>h</mi><mo>)</mo></math>",
    explanation: "Each unit multiplies its own surprise, h − σ(a), by the loss broadcast to every unit. Because E[h − σ(a)] = 0 given the unit's input, the estimate is unbiased for any loss, even a non-differentiable reward, and needs no back-propagation. Nothing is subtracted from the loss, so adding a constant to f leaves the expectation alone but changes the variance: that is what the baselines below address.",
    citation: "Y. Bengio, N. Léonard, A. Courville (2013), Estimating or Propagating Gradients Through Stochastic Neurons for Conditional Computation, arXiv:1308.3432, Theorem 1; R. J. Williams (1992), Simple Statistical Gradient-Following Algorithms for Connectionist Reinforcement Learning, Machine Learning 8.",
    recommended_tau: None,
};

/// The rule: `(h − σ(a))·(f − b_i)` with per-unit baselines `b` (all 0 here).
pub(crate) struct ScoreRule {
    /// Baseline per unit (flat), or empty for none.
    pub baseline: Vec<f64>,
}

impl JointRule for ScoreRule {
    fn needs_df(&self) -> bool {
        false
    }
    fn unit_gradient(&self, t: &Trace, f: f64, _df: &[f64], _loss: &LossAccess, ga: &mut [f64]) {
        for (u, g) in ga.iter_mut().enumerate() {
            let b = self.baseline.get(u).copied().unwrap_or(0.0);
            *g = centred(t, u) * (f - b);
        }
    }
}

impl JointEstimator for Reinforce {
    const META: &'static Meta = &META;
    type Rule<'a> = ScoreRule;
    fn rule(&self, _: &Model, _: &HyperParams, _: &ExactSolution) -> Result<ScoreRule> {
        Ok(ScoreRule { baseline: Vec::new() })
    }
}
