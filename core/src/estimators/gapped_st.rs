//! `gapped-st`: Gapped Straight-Through (Fan et al. 2022), specialised to a Bernoulli logit
//! (estimators reference B.7): the sampled logit is moved up to at least the gap and the other one
//! pushed down, so the perturbed logit difference is `max(a, gap)` if `h = 1` and `min(a, −gap)` if
//! `h = 0`; the backward pass uses the tempered sigmoid's slope there,
//! `ĝ = ∂f/∂h (h) · y(1 − y)/τ`, `y = σ(x/τ)`, back-propagated through every layer.
//!
//! Deterministic given the sample (no extra noise): exact moments by joint enumeration at any depth.

use super::common::{backprop, JointEstimator, JointRule, LossAccess};
use super::{Depth, Estimator, Family, Hyper, HyperParams, Meta};
use crate::error::Result;
use crate::math;
use crate::model::Model;
use crate::solution::ExactSolution;
use crate::trace::Trace;

pub struct GappedSt;

pub(super) static META: Meta = Meta {
    key: "gapped-st",
    name: "Gapped straight-through",
    family: Family::StraightThrough,
    unbiased: false,
    needs_loss_gradient: true,
    uses_tau: true,
    stateful: false,
    depth: Depth::Any,
    hyper: &[Hyper::Tau, Hyper::Gap],
    evaluations: "1",
    formula: "ĝ_i = ∂f/∂h_i (h) · y_i(1 − y_i)/τ,  y_i = σ(max(a_i, gap)/τ) if h_i = 1, σ(min(a_i, −gap)/τ) if h_i = 0",
    formula_mathml: "<math><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mfrac><mrow><mo>∂</mo><mi>f</mi></mrow><mrow><mo>∂</mo><msub><mi>h</mi><mi>i</mi></msub></mrow></mfrac><mo>(</mo><mi>h</mi><mo>)</mo><mo>·</mo><mfrac><mrow><msub><mi>y</mi><mi>i</mi></msub><mo>(</mo><mn>1</mn><mo>−</mo><msub><mi>y</mi><mi>i</mi></msub><mo>)</mo></mrow><mi>τ</mi></mfrac><mo>,</mo><mspace width=\"1em\"/><msub><mi>y</mi><mi>i</mi></msub><mo>=</mo><mrow><mo>{</mo><mtable><mtr><mtd><mi>σ</mi><mo>(</mo><mi>max</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>,</mo><mi>gap</mi><mo>)</mo><mo>/</mo><mi>τ</mi><mo>)</mo></mtd><mtd><msub><mi>h</mi><mi>i</mi></msub><mo>=</mo><mn>1</mn></mtd></mtr><mtr><mtd><mi>σ</mi><mo>(</mo><mi>min</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>,</mo><mo>−</mo><mi>gap</mi><mo>)</mo><mo>/</mo><mi>τ</mi><mo>)</mo></mtd><mtd><msub><mi>h</mi><mi>i</mi></msub><mo>=</mo><mn>0</mn></mtd></mtr></mtable></mrow></math>",
    explanation: "A cheap, noise-free stand-in for the Rao-Blackwellised straight-through Gumbel estimator. Instead of averaging the relaxation's slope over the Gumbel noise that is consistent with the sample, it moves the logits deterministically so that the sampled value wins by at least a gap, and takes the tempered sigmoid's slope there. It costs one loss evaluation and adds no noise beyond the sample's own, but it is biased, and the bias depends on τ and the gap.",
    citation: "T.-H. Fan, T.-C. Chi, A. I. Rudnicky, P. J. Ramadge (2022), Training Discrete Deep Generative Models via Gapped Straight-Through Estimator, ICML; code chijames/GST.",
    recommended_tau: None,
};

/// The unit's surrogate derivative: `φ(x) = σ(x/τ)σ(−x/τ)/τ` at the gapped logit difference.
#[inline]
fn surrogate(a: f64, h: bool, tau: f64, gap: f64) -> f64 {
    let x = if h { a.max(gap) } else { a.min(-gap) } / tau;
    math::sigmoid(x) * math::sigmoid(-x) / tau
}

pub(super) struct Rule<'a> {
    model: &'a Model,
    tau: f64,
    gap: f64,
}

impl JointRule for Rule<'_> {
    fn needs_df(&self) -> bool {
        true
    }
    fn unit_gradient(&self, t: &Trace, _f: f64, df: &[f64], _loss: &LossAccess, ga: &mut [f64]) {
        let (tau, gap) = (self.tau, self.gap);
        backprop(self.model, t, df, |t, u| surrogate(t.a[u], t.h[u] > 0.5, tau, gap), ga);
    }
}

impl JointEstimator for GappedSt {
    const META: &'static Meta = &META;
    type Rule<'a> = Rule<'a>;
    fn rule<'a>(&self, model: &'a Model, hp: &HyperParams, _: &ExactSolution) -> Result<Rule<'a>> {
        self.check(model)?;
        Ok(Rule { model, tau: hp.tau, gap: hp.gap })
    }
}
