//! `st-tempered`: straight-through with a tempered sigmoid surrogate (Paulus et al. 2021, eq. 5):
//! the forward sample is unchanged; the backward pass uses `σ(a/τ)(1 − σ(a/τ))/τ`. τ = 1 is `st-sigmoid`.

use super::common::JointEstimator;
use super::st::{StModelRule, Surrogate};
use super::{Depth, Family, Hyper, HyperParams, Meta};
use crate::error::Result;
use crate::model::Model;
use crate::solution::ExactSolution;

pub struct StTempered;

pub(super) static META: Meta = Meta {
    key: "st-tempered",
    name: "Straight-through, tempered sigmoid",
    family: Family::StraightThrough,
    unbiased: false,
    needs_loss_gradient: true,
    uses_tau: true,
    stateful: false,
    depth: Depth::Any,
    hyper: &[Hyper::Tau],
    evaluations: "1",
    formula: "ĝ_i = ∂f/∂h_i (h) · σ(a_i/τ)(1 − σ(a_i/τ))/τ",
    formula_mathml: "<math><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mfrac><mrow><mo>∂</mo><mi>f</mi></mrow><mrow><mo>∂</mo><msub><mi>h</mi><mi>i</mi></msub></mrow></mfrac><mo>(</mo><mi>h</mi><mo>)</mo><mo>·</mo><mfrac><mrow><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>/</mo><mi>τ</mi><mo>)</mo><mo>(</mo><mn>1</mn><mo>−</mo><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>/</mo><mi>τ</mi><mo>)</mo><mo>)</mo></mrow><mi>τ</mi></mfrac></math>",
    explanation: "Straight-through whose backward pass uses a sigmoid of slope 1/τ while the forward sample keeps P(h = 1) = σ(a). Small τ sharpens the surrogate towards the step function's derivative: large near a = 0, vanishing elsewhere, so as τ → 0 the estimate goes to 0 away from a = 0 and grows like 1/τ at a = 0. Large τ flattens it. τ = 1 recovers st-sigmoid. No τ makes it unbiased in general.",
    citation: "M. B. Paulus, C. J. Maddison, A. Krause (2021), Rao-Blackwellizing the Straight-Through Gumbel-Softmax Gradient Estimator, ICLR, eq. 5; J. Chung, S. Ahn, Y. Bengio (2017), Hierarchical Multiscale Recurrent Neural Networks, ICLR (slope annealing).",
    recommended_tau: None,
};

impl JointEstimator for StTempered {
    const META: &'static Meta = &META;
    type Rule<'a> = StModelRule<'a>;
    fn rule<'a>(&self, model: &'a Model, hp: &HyperParams, _: &ExactSolution) -> Result<StModelRule<'a>> {
        Ok(StModelRule { model, surrogate: Surrogate::Tempered(hp.tau) })
    }
}
