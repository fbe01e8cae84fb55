//! `reinforce-ma`: REINFORCE centred by one shared moving-average baseline `b ← d·b + (1 − d)·f`.
//!
//! The running estimator (Monte Carlo) starts at `b = 0` and updates `b` *after* each use, so the
//! baseline never sees the sample it centres and the estimate stays unbiased. Its exact figures are
//! for the idealised estimator whose baseline is the exact `E[f]` (the moving average's limit).

use super::common::{centred, chain_params, JointEstimator};
use super::reinforce::ScoreRule;
use super::{Depth, Family, Hyper, HyperParams, Meta, Sampler};
use crate::error::Result;
use crate::model::Model;
use crate::rng::Stream;
use crate::solution::ExactSolution;
use crate::trace::Trace;

pub struct ReinforceMa;

pub(super) static META: Meta = Meta {
    key: "reinforce-ma",
    name: "REINFORCE, moving-average baseline",
    family: Family::ScoreFunction,
    unbiased: true,
    needs_loss_gradient: false,
    uses_tau: false,
    stateful: true,
    depth: Depth::Any,
    hyper: &[Hyper::Decay],
    evaluations: "1",
    formula: "ĝ_i = (h_i − σ(a_i)) · (f(h) − b),  b ← d·b + (1 − d)·f after use",
    formula_mathml: "<math><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mo>(</mo><msub><mi>h</mi><mi>i</mi></msub><mo>−</mo><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo><mo>)</mo><mo>·</mo><mo>(</mo><mi>f</mi><mo>(</mo><mi>h</mi><mo>)</mo><mo>−</mo><mi>b</mi><mo>)</mo><mo>,</mo><mspace width=\"1em\"/><mi>b</mi><mo>←</mo><mi>d</mi><mi>b</mi><mo>+</mo><mo>(</mo><mn>1</mn><mo>−</mo><mi>d</mi><mo>)</mo><mi>f</mi></math>",
    explanation: "REINFORCE with one baseline shared by all units: a moving average of past losses (the 'centering' of NVIL and MuProp). Subtracting a constant that does not depend on the current sample keeps the estimate unbiased; with b = E[f] a constant added to f no longer changes the estimate. The exact figures shown are for the idealised baseline b = E[f]; the sampled running estimator starts from b = 0.",
    citation: "A. Mnih, K. Gregor (2014), Neural Variational Inference and Learning in Belief Networks, ICML ('centering'); Y. Bengio, N. Léonard, A. Courville (2013), arXiv:1308.3432, Corollary 1 (any constant baseline).",
    recommended_tau: None,
};

struct Running<'a> {
    model: &'a Model,
    decay: f64,
    baseline: f64,
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
        for (u, g) in self.ga.iter_mut().enumerate() {
            *g = centred(&self.trace, u) * (f - self.baseline);
        }
        chain_params(self.model, &self.trace, &self.ga, out);
        self.baseline = self.decay * self.baseline + (1.0 - self.decay) * f;
    }
    fn state(&self) -> Vec<f64> {
        vec![self.baseline]
    }
    fn set_state(&mut self, state: &[f64]) {
        if let [b] = state {
            self.baseline = *b;
        }
    }
}

/// The idealised baseline vector: `E[f]` for every unit.
fn idealised(model: &Model, sol: &ExactSolution) -> Vec<f64> {
    vec![crate::exact::expected_f(model, sol); model.units()]
}

impl JointEstimator for ReinforceMa {
    const META: &'static Meta = &META;
    const IDEALISED: Option<&'static str> =
        Some("idealised: exact figures use the baseline b = E[f] exactly; the sampled running baseline starts at 0");
    type Rule<'a> = ScoreRule;
    fn rule(&self, model: &Model, _: &HyperParams, sol: &ExactSolution) -> Result<ScoreRule> {
        Ok(ScoreRule { baseline: idealised(model, sol) })
    }
    fn mc_sampler<'a>(&self, model: &'a Model, hp: &HyperParams, _: &ExactSolution) -> Result<Box<dyn Sampler + 'a>> {
        Ok(Box::new(Running {
            model,
            decay: hp.decay,
            baseline: 0.0,
            trace: Trace::new(model),
            ga: vec![0.0; model.units()],
        }))
    }
}
