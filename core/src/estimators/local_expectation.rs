//! `local-expectation`: integrate each unit out exactly given the others (Titsias & Lázaro-Gredilla
//! 2015; the measure-valued derivative of a Bernoulli): `ĝ_i = σ′(a_i)·(f(h^{i←1}) − f(h^{i←0}))`.
//!
//! One stochastic layer: a function of the joint sample, exact by enumeration. Deeper networks: for a
//! unit of layer k both branches are propagated downstream with the *same* uniforms (common random
//! numbers), which keeps the estimate unbiased; moments by Monte Carlo.

use super::common::{chain_params, joint_plan, sample_with_uniforms, JointJob, JointRule, JointSampler, LossAccess};
use super::{Depth, Estimator, ExactJob, Family, HyperParams, Meta, Plan, Sampler};
use crate::error::{Error, Reason, Result};
use crate::model::Model;
use crate::rng::Stream;
use crate::solution::ExactSolution;
use crate::stats::Method;
use crate::trace::Trace;

pub struct LocalExpectation;

pub(super) static META: Meta = Meta {
    key: "local-expectation",
    name: "Local expectation (Rao-Blackwellised)",
    family: Family::RaoBlackwell,
    unbiased: true,
    needs_loss_gradient: false,
    uses_tau: false,
    stateful: false,
    depth: Depth::Any,
    hyper: &[],
    evaluations: "1 + number of units",
    formula: "ĝ_i = σ(a_i)(1 − σ(a_i)) · (f(h with h_i = 1) − f(h with h_i = 0))",
    formula_mathml: "<math><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo><mo>(</mo><mn>1</mn><mo>−</mo><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo><mo>)</mo><mo>·</mo><mo>(</mo><mi>f</mi><mo>(</mo><msup><mi>h</mi><mrow><mi>i</mi><mo>←</mo><mn>1</mn></mrow></msup><mo>)</mo><mo>−</mo><mi>f</mi><mo>(</mo><msup><mi>h</mi><mrow><mi>i</mi><mo>←</mo><mn>0</mn></mrow></msup><mo>)</mo><mo>)</mo></math>",
    explanation: "For each unit, evaluate the loss with the unit switched on and off while the other units keep their sampled values, and weight the difference by σ′(a). On one stochastic layer this is REINFORCE's estimate averaged over the unit's own draw given the others (a Rao-Blackwellisation): unbiased, and never noisier than REINFORCE with any constant baseline, at the price of one extra loss evaluation per unit. The other units' draws still add noise, and estimators that pair their draws can have less: on three units at a = 0 with f = (Σh − 1.5)², ARM and DisARM have zero variance and local expectation does not. With one unit and a loss of that unit only, its estimate is a constant (zero variance). In deeper networks both branches are propagated with the same downstream noise. On one layer it equals straight-through × σ′ taken with the loss's multilinear extension.",
    citation: "M. Titsias, M. Lázaro-Gredilla (2015), Local Expectation Gradients for Black Box Variational Inference, NeurIPS; S. Mohamed, M. Rosca, M. Figurnov, A. Mnih (2020), Monte Carlo Gradient Estimation in Machine Learning, JMLR 21, Table 1.",
    recommended_tau: None,
};

struct Rule;

impl JointRule for Rule {
    fn needs_df(&self) -> bool {
        false
    }
    fn unit_gradient(&self, t: &Trace, _f: f64, _df: &[f64], loss: &LossAccess, ga: &mut [f64]) {
        // Single stochastic layer: unit u is bit u of the last layer.
        let bits = t.bits[t.layers() - 1];
        for (u, g) in ga.iter_mut().enumerate() {
            let f1 = loss.f_bits(bits | 1 << u);
            let f0 = loss.f_bits(bits & !(1 << u));
            *g = t.p[u] * t.q[u] * (f1 - f0);
        }
    }
}

/// Deeper networks: common-random-number branches.
struct Deep<'a> {
    model: &'a Model,
    base: Trace,
    branch: Trace,
    u: Vec<f64>,
    ga: Vec<f64>,
}

impl Sampler for Deep<'_> {
    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]) {
        let model = self.model;
        let f_base = sample_with_uniforms(model, &mut self.base, &mut self.u, rng);
        for k in 0..model.layers.len() {
            let r = self.base.range(k);
            for (i, unit) in r.enumerate() {
                let on = self.base.bits[k] >> i & 1 == 1;
                self.branch.clone_from(&self.base);
                self.branch.set_bits(k, self.base.bits[k] ^ (1 << i));
                self.branch.propagate_with_uniforms(model, k + 1, &self.u);
                let f_flip = model.loss.value(self.branch.output());
                let (f1, f0) = if on { (f_base, f_flip) } else { (f_flip, f_base) };
                self.ga[unit] = self.base.p[unit] * self.base.q[unit] * (f1 - f0);
            }
        }
        chain_params(model, &self.base, &self.ga, out);
    }
}

impl Estimator for LocalExpectation {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn loss_evaluations(&self, model: &Model, _: &HyperParams) -> f64 {
        1.0 + model.units() as f64
    }
    fn plan(&self, model: &Model, _: &HyperParams) -> Plan {
        if model.layers.len() == 1 {
            joint_plan(model, None)
        } else {
            Plan {
                method: Method::MonteCarlo,
                note: Some("Monte Carlo: with several stochastic layers the flipped branches are propagated with common downstream noise, which is not a function of the discrete sample".into()),
            }
        }
    }
    fn exact_job<'a>(
        &'a self,
        model: &'a Model,
        _: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn ExactJob + 'a>> {
        if model.layers.len() > 1 {
            return Err(Error::NotApplicable(Reason::ExactOnOneLayer {
                what: "local-expectation has exact moments".into(),
            }));
        }
        Ok(Box::new(JointJob::new(Rule, model, "local-expectation's exact moments")?))
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        _: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        if model.layers.len() == 1 {
            return Ok(Box::new(JointSampler::new(Rule, model)));
        }
        Ok(Box::new(Deep {
            model,
            base: Trace::new(model),
            branch: Trace::new(model),
            u: vec![0.0; model.units()],
            ga: vec![0.0; model.units()],
        }))
    }
}
