//! `reinmax`: ReinMax (Liu et al. 2023), specialised to a Bernoulli logit (estimators reference
//! B.6): straight-through with the surrogate derivative `2s(1 − s) − ½σ(a)(1 − σ(a))`,
//! `s = (σ(a/τ) + h)/2`, at the sampled state, back-propagated through every layer.
//!
//! Without subtractions: `h = 1`: `2s(1 − s) = (1 + σ(a/τ))·σ(−a/τ)/2`; `h = 0`:
//! `2s(1 − s) = σ(a/τ)·(1 + σ(−a/τ))/2`. At τ = 1 this is exactly `darn` (`σ(−a)/2`, `σ(a)/2`).
//! A function of the joint sample: exact moments by joint enumeration at any depth.

use super::common::{backprop, JointEstimator, JointRule, LossAccess};
use super::{Depth, Estimator, Family, Hyper, HyperParams, Meta};
use crate::error::Result;
use crate::math;
use crate::model::Model;
use crate::solution::ExactSolution;
use crate::trace::Trace;

pub struct ReinMax;

pub(super) static META: Meta = Meta {
    key: "reinmax",
    name: "ReinMax",
    family: Family::StraightThrough,
    unbiased: false,
    needs_loss_gradient: true,
    uses_tau: true,
    stateful: false,
    depth: Depth::Any,
    hyper: &[Hyper::Tau],
    evaluations: "1",
    formula: "ĝ_i = ∂f/∂h_i (h) · [2s_i(1 − s_i) − ½σ(a_i)(1 − σ(a_i))],  s_i = (σ(a_i/τ) + h_i)/2",
    formula_mathml: "<math><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mfrac><mrow><mo>∂</mo><mi>f</mi></mrow><mrow><mo>∂</mo><msub><mi>h</mi><mi>i</mi></msub></mrow></mfrac><mo>(</mo><mi>h</mi><mo>)</mo><mo>·</mo><mo>[</mo><mn>2</mn><msub><mi>s</mi><mi>i</mi></msub><mo>(</mo><mn>1</mn><mo>−</mo><msub><mi>s</mi><mi>i</mi></msub><mo>)</mo><mo>−</mo><mfrac><mn>1</mn><mn>2</mn></mfrac><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo><mo>(</mo><mn>1</mn><mo>−</mo><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo><mo>)</mo><mo>]</mo><mo>,</mo><mspace width=\"1em\"/><msub><mi>s</mi><mi>i</mi></msub><mo>=</mo><mfrac><mrow><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>/</mo><mi>τ</mi><mo>)</mo><mo>+</mo><msub><mi>h</mi><mi>i</mi></msub></mrow><mn>2</mn></mfrac></math>",
    explanation: "A second-order straight-through estimator: instead of the sigmoid's slope at the logit it uses the slope at the midpoint between the (tempered) probability and the sample, corrected by half the sigmoid's slope — the trapezoidal rule for the integral the true gradient needs. At τ = 1, where on binary units it coincides with the DARN / ½ estimator, it is unbiased for one stochastic layer when f's extension is at most quadratic in each unit; at other τ it is biased in general (at a = 0, where σ(a/τ) = ½ for every τ, it does not depend on τ). Its authors recommend τ ≥ 1.",
    citation: "L. Liu, C. Dong, X. Liu, B. Yu, J. Gao (2023), Bridging Discrete and Backpropagation: Straight-Through and Beyond, NeurIPS (ReinMax); code microsoft/ReinMax.",
    recommended_tau: Some((1.0, 100.0)),
};

/// ReinMax's surrogate derivative of a unit with logit `a` and state `h` (`p = σ(a)`, `q = σ(−a)`).
#[inline]
fn surrogate(a: f64, p: f64, q: f64, h: bool, tau: f64) -> f64 {
    let (st, sq) = (math::sigmoid(a / tau), math::sigmoid(-a / tau));
    let two_s_one_minus_s = if h { 0.5 * (1.0 + st) * sq } else { 0.5 * st * (1.0 + sq) };
    two_s_one_minus_s - 0.5 * p * q
}

pub(super) struct Rule<'a> {
    model: &'a Model,
    tau: f64,
}

impl JointRule for Rule<'_> {
    fn needs_df(&self) -> bool {
        true
    }
    fn unit_gradient(&self, t: &Trace, _f: f64, df: &[f64], _loss: &LossAccess, ga: &mut [f64]) {
        let tau = self.tau;
        backprop(self.model, t, df, |t, u| surrogate(t.a[u], t.p[u], t.q[u], t.h[u] > 0.5, tau), ga);
    }
}

impl JointEstimator for ReinMax {
    const META: &'static Meta = &META;
    type Rule<'a> = Rule<'a>;
    fn rule<'a>(&self, model: &'a Model, hp: &HyperParams, _: &ExactSolution) -> Result<Rule<'a>> {
        self.check(model)?;
        Ok(Rule { model, tau: hp.tau })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tau_one_is_half_the_other_probability() {
        for a in [-30.0, -2.0, -0.3, 0.0, 1.0, 30.0] {
            let (p, q) = (math::sigmoid(a), math::sigmoid(-a));
            assert!((surrogate(a, p, q, true, 1.0) - 0.5 * q).abs() <= 1e-15 * q);
            assert!((surrogate(a, p, q, false, 1.0) - 0.5 * p).abs() <= 1e-15 * p);
        }
    }
}
