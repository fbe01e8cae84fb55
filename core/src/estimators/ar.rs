//! `ar`: Augment-REINFORCE (Yin & Zhou 2019, the estimator ARM merges; estimators reference B.9):
//! each unit's sample is `h_i = 1[u_i < σ(a_i)]` with its own uniform `u_i`, and
//! `ĝ_i = f(h)·(1 − 2u_i)` — one loss evaluation, no merge.
//!
//! Exact moments at any depth, by joint enumeration. Given the joint state, each `u_i` is uniform on
//! its cell — `[0, p_i)` if `h_i = 1`, `[p_i, 1)` if `h_i = 0` — independently of everything else
//! (downstream units use their own uniforms). On a cell of length `ℓ` the factor `1 − 2u` has mean
//! `1 − p_i = σ(−a_i)` (h = 1) or `−p_i` (h = 0), i.e. `h_i − σ(a_i)`, and variance `ℓ²/3`. So
//! `E[ĝ_i | state] = f·(h_i − σ(a_i))` (REINFORCE's estimate: AR is unbiased at any depth) and
//! `Var[ĝ_i | state] = f²·ℓ_i²/3`; the enumeration adds these conditional variances.

use super::common::{centred, chain_params, sample_with_uniforms, JointEstimator, JointRule, LossAccess};
use super::{Depth, Family, HyperParams, Meta, Sampler};
use crate::error::Result;
use crate::model::Model;
use crate::rng::Stream;
use crate::solution::ExactSolution;
use crate::trace::Trace;

pub struct Ar;

pub(super) static META: Meta = Meta {
    key: "ar",
    name: "AR (augment-REINFORCE)",
    family: Family::ScoreFunction,
    unbiased: true,
    needs_loss_gradient: false,
    uses_tau: false,
    stateful: false,
    depth: Depth::Any,
    hyper: &[],
    evaluations: "1",
    formula: "ĝ_i = f(1[u < σ(a)]) · (1 − 2u_i),  u ~ U(0,1)^n",
    formula_mathml: "<math><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mi>f</mi><mo>(</mo><mn>1</mn><mo>[</mo><mi>u</mi><mo>&lt;</mo><mi>σ</mi><mo>(</mo><mi>a</mi><mo>)</mo><mo>]</mo><mo>)</mo><mo>·</mo><mo>(</mo><mn>1</mn><mo>−</mo><mn>2</mn><msub><mi>u</mi><mi>i</mi></msub><mo>)</mo></math>",
    explanation: "The score function written in terms of the uniform noise that generates the sample instead of the sample itself: the loss times (1 − 2u). Averaging (1 − 2u) over the uniforms that give the same sample returns exactly h − σ(a), so AR is REINFORCE with extra noise added — unbiased, one loss evaluation, and never less noisy than REINFORCE. It is the starting point of ARM, which pairs it with its antithetic twin to cancel much of that noise.",
    citation: "M. Yin, M. Zhou (2019), ARM: Augment-REINFORCE-Merge Gradient for Stochastic Binary Networks, ICLR (the AR estimator).",
    recommended_tau: None,
};

/// Conditional mean `f·(h − σ(a))` and variance `f²ℓ²/3` given the joint state.
pub(super) struct Rule;

impl JointRule for Rule {
    fn needs_df(&self) -> bool {
        false
    }
    fn unit_gradient(&self, t: &Trace, f: f64, _df: &[f64], _loss: &LossAccess, ga: &mut [f64]) {
        for (u, g) in ga.iter_mut().enumerate() {
            *g = f * centred(t, u);
        }
    }
    fn unit_variance(&self, t: &Trace, f: f64, gv: &mut [f64]) -> bool {
        for (u, v) in gv.iter_mut().enumerate() {
            let len = if t.h[u] > 0.5 { t.p[u] } else { t.q[u] };
            *v = f * f * len * len / 3.0;
        }
        true
    }
}

/// One uniform per unit (layer-major), `h = 1[u < σ(a)]`, `ĝ_i = f(h)(1 − 2u_i)`.
struct Draw<'a> {
    model: &'a Model,
    trace: Trace,
    u: Vec<f64>,
    ga: Vec<f64>,
}

impl Sampler for Draw<'_> {
    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]) {
        let f = sample_with_uniforms(self.model, &mut self.trace, &mut self.u, rng);
        for (g, u) in self.ga.iter_mut().zip(&self.u) {
            *g = f * (1.0 - 2.0 * u);
        }
        chain_params(self.model, &self.trace, &self.ga, out);
    }
}

impl JointEstimator for Ar {
    const META: &'static Meta = &META;
    type Rule<'a> = Rule;
    fn rule(&self, _: &Model, _: &HyperParams, _: &ExactSolution) -> Result<Rule> {
        Ok(Rule)
    }
    fn mc_sampler<'a>(&self, model: &'a Model, _: &HyperParams, _: &ExactSolution) -> Result<Box<dyn Sampler + 'a>> {
        let n = model.units();
        Ok(Box::new(Draw { model, trace: Trace::new(model), u: vec![0.0; n], ga: vec![0.0; n] }))
    }
}
