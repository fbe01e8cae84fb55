//! `st-sigmoid`: straight-through multiplied by the sigmoid's derivative (Raiko et al. 2015;
//! Bengio et al. 2013's variant).

use super::common::JointEstimator;
use super::st::{StModelRule, Surrogate};
use super::{Depth, Family, HyperParams, Meta};
use crate::error::Result;
use crate::model::Model;
use crate::solution::ExactSolution;

pub struct StSigmoid;

pub(super) static META: Meta = Meta {
    key: "st-sigmoid",
    name: "Straight-through × σ′(a)",
    family: Family::StraightThrough,
    unbiased: false,
    needs_loss_gradient: true,
    uses_tau: false,
    stateful: false,
    depth: Depth::Any,
    hyper: &[],
    evaluations: "1",
    formula: "ĝ_i = ∂f/∂h_i (h) · σ(a_i)(1 − σ(a_i))",
    formula_mathml: "<math><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mfrac><mrow><mo>∂</mo><mi>f</mi></mrow><mrow><mo>∂</mo><msub><mi>h</mi><mi>i</mi></msub></mrow></mfrac><mo>(</mo><mi>h</mi><mo>)</mo><mo>·</mo><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo><mo>(</mo><mn>1</mn><mo>−</mo><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo><mo>)</mo></math>",
    explanation: "Straight-through, but back-propagating through σ(a) instead of the identity: the derivative of the unit's expected value. It is unbiased (still noisy) for one stochastic layer when f's extension is affine in each unit — with the multilinear extension it is then exactly local expectation — and biased otherwise: for the toy (h − t)² with its curved extension its bias is σ′(a)(2σ(a) − 1), which vanishes only at p = ½, and its expectation 2σ′(a)(p − t) vanishes at p = t, where a biased optimiser stalls.",
    citation: "T. Raiko, M. Berglund, G. Alain, L. Dinh (2015), Techniques for Learning Binary Stochastic Feedforward Neural Networks, ICLR; Y. Bengio, N. Léonard, A. Courville (2013), arXiv:1308.3432, §4.",
    recommended_tau: None,
};

impl JointEstimator for StSigmoid {
    const META: &'static Meta = &META;
    type Rule<'a> = StModelRule<'a>;
    fn rule<'a>(&self, model: &'a Model, _: &HyperParams, _: &ExactSolution) -> Result<StModelRule<'a>> {
        Ok(StModelRule { model, surrogate: Surrogate::Sigmoid })
    }
}
