//! `st-sigmoid`: straight-through multiplied by the sigmoid's derivative (Raiko et al. 2015;
//! Bengio et al. 2013's variant).

use super::common::joint_plan;
use super::st::{st_exact_job, st_sampler, Surrogate};
use super::{Depth, Estimator, ExactJob, Family, HyperParams, Meta, Plan, Sampler};
use crate::error::Result;
use crate::exact::ExactSolution;
use crate::model::Model;

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
    explanation: "Straight-through, but back-propagating through σ(a) instead of the identity: the derivative of the unit's expected value. It is exact when the loss is multilinear in h (affine in each unit), and biased otherwise: for the toy (h − t)² its bias is σ′(a)(2σ(a) − 1), which vanishes only at p = ½, so a biased optimiser stalls at p = t.",
    citation: "T. Raiko, M. Berglund, G. Alain, L. Dinh (2015), Techniques for Learning Binary Stochastic Feedforward Neural Networks, ICLR; Y. Bengio et al. (2013), arXiv:1308.3432, §4.",
    recommended_tau: None,
};

impl Estimator for StSigmoid {
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
        st_exact_job(model, Surrogate::Sigmoid, "st-sigmoid's exact moments")
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        _: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        Ok(st_sampler(model, Surrogate::Sigmoid))
    }
}
