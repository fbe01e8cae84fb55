//! `darn`: MuProp's "1/2" estimator (Gu et al. 2016, eqs. 5–6, after DARN, Gregor et al. 2014), in
//! its per-unit form: each unit keeps only its own term of the Taylor expansion around `h = ½`,
//! `ĝ_i = (h_i − σ(a_i))·(h_i − ½)·∂f/∂h_i (h)` (no cross terms `∂f/∂h_j (h_j − ½)` of the other
//! units), which for a Bernoulli logit is straight-through with the surrogate derivative
//! `(h(1 − σ(a)) + (1 − h)σ(a))/2` at the sampled state — `σ(−a)/2` if `h = 1`, `σ(a)/2` if
//! `h = 0` — back-propagated through every layer like the ST family.
//!
//! A function of the joint sample: exact moments by joint enumeration at any depth. Its mean is
//! exact when the loss's real extension has degree ≤ 2 in each coordinate (e.g. `(v·h − y)²`) on a
//! single layer. Identical to ReinMax at τ = 1 on Bernoulli units.

use super::common::{backprop, JointEstimator, JointRule, LossAccess};
use super::{Depth, Estimator, Family, HyperParams, Meta};
use crate::error::Result;
use crate::model::Model;
use crate::solution::ExactSolution;
use crate::trace::Trace;

pub struct Darn;

pub(super) static META: Meta = Meta {
    key: "darn",
    name: "DARN / MuProp's ½ estimator",
    family: Family::StraightThrough,
    unbiased: false,
    needs_loss_gradient: true,
    uses_tau: false,
    stateful: false,
    depth: Depth::Any,
    hyper: &[],
    evaluations: "1",
    formula: "ĝ_i = ∂f/∂h_i (h) · (h_i(1 − σ(a_i)) + (1 − h_i)σ(a_i))/2,  back-propagated through every layer",
    formula_mathml: "<math><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mfrac><mrow><mo>∂</mo><mi>f</mi></mrow><mrow><mo>∂</mo><msub><mi>h</mi><mi>i</mi></msub></mrow></mfrac><mo>(</mo><mi>h</mi><mo>)</mo><mo>·</mo><mfrac><mrow><msub><mi>h</mi><mi>i</mi></msub><mo>(</mo><mn>1</mn><mo>−</mo><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo><mo>)</mo><mo>+</mo><mo>(</mo><mn>1</mn><mo>−</mo><msub><mi>h</mi><mi>i</mi></msub><mo>)</mo><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo></mrow><mn>2</mn></mfrac></math>",
    explanation: "A straight-through estimator whose surrogate derivative depends on the sample: half the probability of the value the unit did not take. It comes from a first-order Taylor expansion of the loss around h = ½ inside the score function, so it needs one loss gradient and no baseline. When f's extension is at most quadratic in each unit (a squared readout, say) and there is one layer, its expectation is exactly the true gradient; otherwise it is biased in general, deeper networks included.",
    citation: "S. Gu, S. Levine, I. Sutskever, A. Mnih (2016), MuProp, ICLR, eqs. 5–6 (the “1/2” estimator); K. Gregor, I. Danihelka, A. Mnih, C. Blundell, D. Wierstra (2014), Deep AutoRegressive Networks, ICML.",
    recommended_tau: None,
};

/// Back-propagation with the surrogate `σ(−a)/2` (h = 1) or `σ(a)/2` (h = 0).
pub(super) struct Rule<'a> {
    model: &'a Model,
}

impl JointRule for Rule<'_> {
    fn needs_df(&self) -> bool {
        true
    }
    fn unit_gradient(&self, t: &Trace, _f: f64, df: &[f64], _loss: &LossAccess, ga: &mut [f64]) {
        backprop(self.model, t, df, |t, u| 0.5 * if t.h[u] > 0.5 { t.q[u] } else { t.p[u] }, ga);
    }
}

impl JointEstimator for Darn {
    const META: &'static Meta = &META;
    type Rule<'a> = Rule<'a>;
    fn rule<'a>(&self, model: &'a Model, _: &HyperParams, _: &ExactSolution) -> Result<Rule<'a>> {
        self.check(model)?;
        Ok(Rule { model })
    }
}
