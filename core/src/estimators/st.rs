//! `st`: straight-through with the identity surrogate (Hinton 2012; Bengio et al. 2013, Eq. 13):
//! back-propagate through the hard threshold as if it were the identity.

use super::common::{backprop, JointEstimator, JointRule, LossAccess};
use super::{Depth, Family, HyperParams, Meta};
use crate::error::Result;
use crate::math;
use crate::model::Model;
use crate::solution::ExactSolution;
use crate::trace::Trace;

pub struct St;

pub(super) static META: Meta = Meta {
    key: "st",
    name: "Straight-through (identity)",
    family: Family::StraightThrough,
    unbiased: false,
    needs_loss_gradient: true,
    uses_tau: false,
    stateful: false,
    depth: Depth::Any,
    hyper: &[],
    evaluations: "1",
    formula: "ĝ_i = ∂f/∂h_i (h),  back-propagated through every layer with derivative 1",
    formula_mathml: "<math><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mfrac><mrow><mo>∂</mo><mi>f</mi></mrow><mrow><mo>∂</mo><msub><mi>h</mi><mi>i</mi></msub></mrow></mfrac><mo>(</mo><mi>h</mi><mo>)</mo></math>",
    explanation: "Sample the binary units as usual, then back-propagate as if the threshold were the identity function. Cheap — one loss gradient, no baseline — but biased, and not necessarily less noisy than the unbiased estimators. Bengio et al. (2013, §4) note that for a single layer it 'has the right sign': that holds when f's extension is affine in each unit (then ∂f/∂h_i = f(h_i = 1) − f(h_i = 0), and straight-through is off only by the positive factor 1/(σ(a)(1 − σ(a)))). When the extension curves, as (h − t)² does, its expectation can have the wrong sign. Bengio et al. report it worked best without the sigmoid derivative.",
    citation: "G. Hinton (2012), Neural Networks for Machine Learning (Coursera), lecture 15b, as cited by Bengio et al.; Y. Bengio, N. Léonard, A. Courville (2013), Estimating or Propagating Gradients Through Stochastic Neurons for Conditional Computation, arXiv:1308.3432, §4 and Eq. 13.",
    recommended_tau: None,
};

/// The straight-through surrogate derivative of a unit.
#[derive(Clone, Copy)]
pub(crate) enum Surrogate {
    Identity,
    Sigmoid,
    Tempered(f64),
}

impl Surrogate {
    #[inline]
    pub(crate) fn derivative(self, t: &Trace, u: usize) -> f64 {
        match self {
            Surrogate::Identity => 1.0,
            Surrogate::Sigmoid => t.p[u] * t.q[u],
            Surrogate::Tempered(tau) => {
                let x = t.a[u] / tau;
                math::sigmoid(x) * math::sigmoid(-x) / tau
            }
        }
    }
}

/// The rule with access to the model's weights.
pub(crate) struct StModelRule<'a> {
    pub model: &'a Model,
    pub surrogate: Surrogate,
}

impl JointRule for StModelRule<'_> {
    fn needs_df(&self) -> bool {
        true
    }
    fn unit_gradient(&self, t: &Trace, _f: f64, df: &[f64], _loss: &LossAccess, ga: &mut [f64]) {
        let s = self.surrogate;
        backprop(self.model, t, df, |t, u| s.derivative(t, u), ga);
    }
}

impl JointEstimator for St {
    const META: &'static Meta = &META;
    type Rule<'a> = StModelRule<'a>;
    fn rule<'a>(&self, model: &'a Model, _: &HyperParams, _: &ExactSolution) -> Result<StModelRule<'a>> {
        Ok(StModelRule { model, surrogate: Surrogate::Identity })
    }
}
