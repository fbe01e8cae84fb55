//! `st-gumbel`: straight-through Gumbel-sigmoid (Jang et al. 2017): hard forward sample
//! `h = 1[a + L > 0]`, backward through the relaxation, `ĝ = ∂f/∂h (h) · y(1 − y)/τ` with
//! `y = σ((a + L)/τ)`, back-propagated through every layer.
//!
//! Moments for one stochastic layer: given the hard sample `h`, the units' noises are independent,
//! so each parameter's conditional mean and variance need only `E[φ | h_i]` and `Var[φ | h_i]` of the
//! unit's factor `φ = y(1 − y)/τ` — one-dimensional integrals (quadrature) — and the `2^n` states are
//! enumerated. Deeper networks: Monte Carlo.

use super::common::{single_layer_params, FactorSampler, LossTables};
use super::concrete::relaxed;
use super::{Depth, Estimator, ExactJob, Family, Hyper, HyperParams, Meta, Plan, Sampler};
use crate::error::{Error, Reason, Result};
use crate::limits;
use crate::model::Model;
use crate::quadrature::conditional_expectations;
use crate::rng::Draws;
use crate::solution::ExactSolution;
use crate::stats::{Method, Weighted};
use crate::trace::Trace;
use std::ops::Range;

pub struct StGumbel;

pub(super) static META: Meta = Meta {
    key: "st-gumbel",
    name: "Straight-through Gumbel-sigmoid",
    family: Family::Relaxation,
    unbiased: false,
    needs_loss_gradient: true,
    uses_tau: true,
    stateful: false,
    depth: Depth::Any,
    hyper: &[Hyper::Tau],
    evaluations: "1",
    formula: "h = 1[a + L > 0],  ĝ = ∂f/∂h (h) · y(1 − y)/τ,  y = σ((a + L)/τ)",
    formula_mathml: "<math><mi>h</mi><mo>=</mo><mn>1</mn><mo>[</mo><mi>a</mi><mo>+</mo><mi>L</mi><mo>&gt;</mo><mn>0</mn><mo>]</mo><mo>,</mo><mspace width=\"1em\"/><mover><mi>g</mi><mo>^</mo></mover><mo>=</mo><mfrac><mrow><mo>∂</mo><mi>f</mi></mrow><mrow><mo>∂</mo><mi>h</mi></mrow></mfrac><mo>(</mo><mi>h</mi><mo>)</mo><mo>·</mo><mfrac><mrow><mi>y</mi><mo>(</mo><mn>1</mn><mo>−</mo><mi>y</mi><mo>)</mo></mrow><mi>τ</mi></mfrac><mo>,</mo><mspace width=\"1em\"/><mi>y</mi><mo>=</mo><mi>σ</mi><mo>(</mo><mo>(</mo><mi>a</mi><mo>+</mo><mi>L</mi><mo>)</mo><mo>/</mo><mi>τ</mi><mo>)</mo></math>",
    explanation: "The forward pass keeps the hard binary sample (obtained by thresholding the noisy logit), the backward pass pretends it was the relaxed Concrete value. The loss is therefore evaluated at a real sample, but the gradient is still that of the relaxation, which is biased. Its backward factor is the relaxation's slope at the one noise value that produced the sample, which is random given the sample: that extra noise is what Gumbel-Rao averages away (same mean, less variance).",
    citation: "E. Jang, S. Gu, B. Poole (2017), Categorical Reparameterization with Gumbel-Softmax, ICLR (straight-through variant).",
    recommended_tau: None,
};

/// Single layer: per unit, `E[φ | h]` and `Var[φ | h]` by quadrature, then the `2^n` hard states.
/// With `samples = K`, each unit's factor is the mean of K conditionally independent copies
/// (gumbel-rao): the same conditional mean, and the conditional variance divided by K.
pub(crate) struct QuadJob<'a> {
    model: &'a Model,
    tables: LossTables,
    /// `[unit][h] -> (mean, variance)` of the relaxation factor.
    factor: Vec<[(f64, f64); 2]>,
    p: Vec<f64>,
    q: Vec<f64>,
}

impl<'a> QuadJob<'a> {
    pub(crate) fn new(model: &'a Model, tau: f64, samples: f64) -> Self {
        let mut t = Trace::new(model);
        t.compute_layer(model, 0);
        let factor = (0..model.units())
            .map(|u| {
                let a = t.a[u];
                let mut out = [(0.0, 0.0); 2];
                for (side, slot) in [false, true].into_iter().zip(out.iter_mut()) {
                    let phi = |z: f64| relaxed(z, tau).1;
                    let m = conditional_expectations(a, side, tau, &[&phi])[0];
                    let centred = |z: f64| {
                        let v = relaxed(z, tau).1 - m;
                        v * v
                    };
                    let v = conditional_expectations(a, side, tau, &[&centred])[0];
                    *slot = (m, v / samples);
                }
                out
            })
            .collect();
        QuadJob { model, tables: LossTables::new(model, true), factor, p: t.p.clone(), q: t.q.clone() }
    }
}

impl ExactJob for QuadJob<'_> {
    fn method(&self) -> Method {
        Method::Quadrature
    }
    fn total(&self) -> u64 {
        1u64 << self.model.units()
    }
    fn dim(&self) -> usize {
        self.model.num_params()
    }
    fn run(&self, range: Range<u64>) -> Weighted {
        let model = self.model;
        let n = model.units();
        let np = model.num_params();
        let mut acc = Weighted::new(np);
        let (mut mean, mut var) = (vec![0.0; np], vec![0.0; np]);
        let (mut gm, mut gv) = (vec![0.0; n], vec![0.0; n]);
        for bits in range {
            let mut w = 1.0;
            for u in 0..n {
                w *= if bits >> u & 1 == 1 { self.p[u] } else { self.q[u] };
            }
            if w == 0.0 {
                continue;
            }
            let df = self.tables.df(bits);
            for u in 0..n {
                let (m, v) = self.factor[u][(bits >> u & 1) as usize];
                gm[u] = df[u] * m;
                gv[u] = df[u] * df[u] * v;
            }
            single_layer_params(&model.input, &gm, &gv, &mut mean, &mut var);
            acc.add_with_variance(w, &mean, &var);
        }
        acc
    }
}

/// The plan shared with gumbel-rao: quadrature for one layer within the joint limit, else Monte Carlo.
pub(crate) fn quad_plan(model: &Model) -> Plan {
    if model.layers.len() == 1 && model.units() <= limits::JOINT_LOG2 {
        Plan { method: Method::Quadrature, note: None }
    } else {
        Plan {
            method: Method::MonteCarlo,
            note: Some("Monte Carlo: quadrature moments are computed for a single stochastic layer".into()),
        }
    }
}

/// The exact job shared with gumbel-rao (`samples` = K): [`QuadJob`] for a single stochastic layer.
pub(crate) fn quad_job<'a>(model: &'a Model, key: &str, tau: f64, samples: f64) -> Result<Box<dyn ExactJob + 'a>> {
    if model.layers.len() != 1 {
        return Err(Error::NotApplicable(Reason::ExactOnOneLayer { what: format!("{key} has quadrature moments") }));
    }
    limits::check_joint(model, &format!("{key}'s quadrature moments"))?;
    Ok(Box::new(QuadJob::new(model, tau, samples)))
}

impl Estimator for StGumbel {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn loss_evaluations(&self, _: &Model, _: &HyperParams) -> f64 {
        1.0
    }
    fn plan(&self, model: &Model, _: &HyperParams) -> Plan {
        quad_plan(model)
    }
    fn exact_job<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn ExactJob + 'a>> {
        self.check(model)?;
        quad_job(model, META.key, hp.tau, 1.0)
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        self.check(model)?;
        // Hard forward, relaxed backward, at any depth.
        let tau = hp.tau;
        Ok(Box::new(FactorSampler::new(model, move |t, k, rng, phi| {
            let mut bits = 0u64;
            for (i, u) in t.range(k).enumerate() {
                let z = t.a[u] + rng.logistic();
                phi[u] = relaxed(z, tau).1;
                if z > 0.0 {
                    bits |= 1 << i;
                }
            }
            t.set_bits(k, bits);
        })))
    }
}
