//! `st-gumbel`: straight-through Gumbel-sigmoid (Jang et al. 2017): hard forward sample
//! `h = 1[a + L > 0]`, backward through the relaxation, `ĝ = ∂f/∂h (h) · y(1 − y)/τ` with
//! `y = σ((a + L)/τ)`, back-propagated through every layer.
//!
//! Moments for one stochastic layer: given the hard sample `h`, the units' noises are independent,
//! so each parameter's conditional mean and variance need only `E[φ | h_i]` and `Var[φ | h_i]` of the
//! unit's factor `φ = y(1 − y)/τ` — one-dimensional integrals (quadrature) — and the `2^n` states are
//! enumerated. Deeper networks: Monte Carlo.

use super::common::{backprop, chain_params, LossTables};
use super::concrete::relaxed;
use super::{Depth, Estimator, ExactJob, Family, Hyper, HyperParams, Meta, Plan, Sampler};
use crate::error::{Error, Result};
use crate::exact::ExactSolution;
use crate::limits;
use crate::model::Model;
use crate::quadrature::conditional_expectations;
use crate::rng::Stream;
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
    explanation: "The forward pass keeps the hard binary sample (obtained by thresholding the noisy logit), the backward pass pretends it was the relaxed Concrete value. The loss is therefore evaluated at a real sample, but the gradient is still that of the relaxation, which is biased; the derivative of the relaxation is noisy, which adds variance compared with plain straight-through.",
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
        let x = &model.input;
        let fan_in = x.len();
        let np = model.num_params();
        let mut acc = Weighted::new(np);
        let mut mean = vec![0.0; np];
        let mut var = vec![0.0; np];
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
                let gm = df[u] * m;
                let gv = df[u] * df[u] * v;
                for j in 0..fan_in {
                    mean[u * fan_in + j] = gm * x[j];
                    var[u * fan_in + j] = gv * x[j] * x[j];
                }
                mean[n * fan_in + u] = gm;
                var[n * fan_in + u] = gv;
            }
            acc.add_with_variance(w, &mean, &var);
        }
        acc
    }
}

/// Hard forward, relaxed backward, at any depth.
struct Hard<'a> {
    model: &'a Model,
    tau: f64,
    trace: Trace,
    phi: Vec<f64>,
    df: Vec<f64>,
    ga: Vec<f64>,
}

impl Sampler for Hard<'_> {
    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]) {
        let model = self.model;
        for k in 0..model.layers.len() {
            self.trace.compute_layer(model, k);
            let r = self.trace.range(k);
            let mut bits = 0u64;
            for (i, u) in r.enumerate() {
                let z = self.trace.a[u] + rng.logistic();
                self.phi[u] = relaxed(z, self.tau).1;
                if z > 0.0 {
                    bits |= 1 << i;
                }
            }
            self.trace.set_bits(k, bits);
        }
        model.loss.gradient(self.trace.output(), &mut self.df);
        let phi = &self.phi;
        backprop(model, &self.trace, &self.df, |_, u| phi[u], &mut self.ga);
        chain_params(model, &self.trace, &self.ga, out);
    }
}

impl Estimator for StGumbel {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn loss_evaluations(&self, _: &Model, _: &HyperParams) -> f64 {
        1.0
    }
    fn plan(&self, model: &Model, _: &HyperParams) -> Plan {
        if model.layers.len() == 1 && model.units() <= limits::JOINT_LOG2 {
            Plan { method: Method::Quadrature, note: None }
        } else {
            Plan {
                method: Method::MonteCarlo,
                note: Some("Monte Carlo: quadrature moments are computed for a single stochastic layer".into()),
            }
        }
    }
    fn exact_job<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn ExactJob + 'a>> {
        self.check(model)?;
        if model.layers.len() != 1 {
            return Err(Error::NotApplicable(
                "st-gumbel has quadrature moments for a single stochastic layer only; use Monte Carlo".into(),
            ));
        }
        limits::check_joint(model, "st-gumbel's quadrature moments")?;
        Ok(Box::new(QuadJob::new(model, hp.tau, 1.0)))
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        self.check(model)?;
        Ok(Box::new(Hard {
            model,
            tau: hp.tau,
            trace: Trace::new(model),
            phi: vec![0.0; model.units()],
            df: vec![0.0; model.output_width()],
            ga: vec![0.0; model.units()],
        }))
    }
}
