//! `reinforce`: the score-function estimator with no baseline (Bengio 2013, Theorem 1; Williams 1992).

use super::common::{centred, joint_plan, JointJob, JointRule, JointSampler, LossAccess};
use super::{Depth, Estimator, ExactJob, Family, HyperParams, Meta, Plan, Sampler};
use crate::error::Result;
use crate::exact::ExactSolution;
use crate::model::Model;
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
    explanation: "Each unit multiplies its own surprise, h − σ(a), by the loss broadcast to every unit. Because E[h − σ(a)] = 0 given the unit's input, the estimate is unbiased for any loss, even a non-differentiable reward, and needs no back-propagation. Its variance grows with the size of f: nothing is subtracted from the loss.",
    citation: "Y. Bengio, N. Léonard, A. Courville (2013), Estimating or Propagating Gradients Through Stochastic Neurons for Conditional Computation, arXiv:1308.3432, Theorem 1; R. J. Williams (1992), Machine Learning 8.",
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

impl Estimator for Reinforce {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn loss_evaluations(&self, _: &Model, _: &HyperParams) -> f64 {
        1.0
    }
    fn plan(&self, model: &Model, _: &HyperParams) -> Plan {
        joint_plan(model, None)
    }
    fn exact_job<'a>(
        &'a self,
        model: &'a Model,
        _: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn ExactJob + 'a>> {
        Ok(Box::new(JointJob::new(ScoreRule { baseline: Vec::new() }, model, "reinforce's exact moments")?))
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        _: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        Ok(Box::new(JointSampler::new(ScoreRule { baseline: Vec::new() }, model)))
    }
}
