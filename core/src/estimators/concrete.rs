//! `concrete`: the binary Concrete / Gumbel-sigmoid relaxation (Maddison et al. 2017; Jang et al.
//! 2017). The forward pass is relaxed, `y = σ((a + L)/τ)` with logistic `L`, and the loss is evaluated
//! at the relaxed `y`; the gradient is the pathwise derivative `ĝ = ∂f/∂y · y(1 − y)/τ`, back-propagated
//! through every relaxed layer. Unbiased for the relaxed objective, biased for `E[f(h)]`.
//!
//! Moments: for a single stochastic unit by quadrature over `L` (split where the hard sample would
//! flip); otherwise Monte Carlo.

use super::common::{single_layer_params, FactorSampler};
use super::{Depth, Estimator, ExactJob, Family, Hyper, HyperParams, Meta, Plan, Sampler};
use crate::error::{Error, Reason, Result};
use crate::math;
use crate::model::Model;
use crate::quadrature::conditional_expectations;
use crate::rng::Draws;
use crate::solution::ExactSolution;
use crate::stats::{Method, Weighted};
use crate::trace::Trace;
use std::ops::Range;

pub struct Concrete;

pub(super) static META: Meta = Meta {
    key: "concrete",
    name: "Concrete / Gumbel-sigmoid (relaxed)",
    family: Family::Relaxation,
    unbiased: false,
    needs_loss_gradient: true,
    uses_tau: true,
    stateful: false,
    depth: Depth::Any,
    hyper: &[Hyper::Tau],
    evaluations: "1 (at the relaxed sample)",
    formula: "y = σ((a + L)/τ),  L = log u − log(1 − u);  ĝ = ∂f/∂y (y) · y(1 − y)/τ",
    formula_mathml: "<math><mi>y</mi><mo>=</mo><mi>σ</mi><mo>(</mo><mo>(</mo><mi>a</mi><mo>+</mo><mi>L</mi><mo>)</mo><mo>/</mo><mi>τ</mi><mo>)</mo><mo>,</mo><mspace width=\"1em\"/><mover><mi>g</mi><mo>^</mo></mover><mo>=</mo><mfrac><mrow><mo>∂</mo><mi>f</mi></mrow><mrow><mo>∂</mo><mi>y</mi></mrow></mfrac><mo>(</mo><mi>y</mi><mo>)</mo><mo>·</mo><mfrac><mrow><mi>y</mi><mo>(</mo><mn>1</mn><mo>−</mo><mi>y</mi><mo>)</mo></mrow><mi>τ</mi></mfrac></math>",
    explanation: "Replace the hard sample by a continuous relaxation: add logistic noise to the logit and squash it with a sigmoid of temperature τ, then differentiate through. The loss is evaluated at the relaxed value (through f's real-valued extension), so the estimate is unbiased for a different, relaxed objective and biased for the real one. Lowering τ brings the relaxation closer to the binary sample and raises the variance; the bias² is small at small τ but need not fall steadily as τ falls (on the t = 0.45 toy at a = −1 it is largest near τ = 1, where bias² and variance are both larger than at τ = 10).",
    citation: "C. J. Maddison, A. Mnih, Y. W. Teh (2017), The Concrete Distribution, ICLR (BinConcrete, appendix); E. Jang, S. Gu, B. Poole (2017), Categorical Reparameterization with Gumbel-Softmax, ICLR.",
    recommended_tau: None,
};

/// `(y, y(1 − y)/τ)` for a relaxed logit `z/τ`, without cancellation.
#[inline]
pub(crate) fn relaxed(z: f64, tau: f64) -> (f64, f64) {
    let x = z / tau;
    let y = math::sigmoid(x);
    (y, y * math::sigmoid(-x) / tau)
}

/// Single stochastic unit: `E[ĝ_a]` and `Var[ĝ_a]` by quadrature, then chained to `W` and `c`.
struct QuadJob<'a> {
    model: &'a Model,
    mean: f64,
    var: f64,
}

impl<'a> QuadJob<'a> {
    fn new(model: &'a Model, tau: f64) -> Self {
        let mut t = Trace::new(model);
        t.compute_layer(model, 0);
        let (a, p, q) = (t.a[0], t.p[0], t.q[0]);
        let loss = &model.loss;
        let g = move |z: f64| {
            let (y, phi) = relaxed(z, tau);
            let mut d = [0.0];
            loss.gradient(&[y], &mut d);
            d[0] * phi
        };
        let m1 = conditional_expectations(a, true, tau, &[&g]);
        let m0 = conditional_expectations(a, false, tau, &[&g]);
        let mean = p * m1[0] + q * m0[0];
        let centred = move |z: f64| {
            let v = g(z) - mean;
            v * v
        };
        let v1 = conditional_expectations(a, true, tau, &[&centred]);
        let v0 = conditional_expectations(a, false, tau, &[&centred]);
        QuadJob { model, mean, var: p * v1[0] + q * v0[0] }
    }
}

impl ExactJob for QuadJob<'_> {
    fn method(&self) -> Method {
        Method::Quadrature
    }
    fn total(&self) -> u64 {
        1
    }
    fn dim(&self) -> usize {
        self.model.num_params()
    }
    fn run(&self, range: Range<u64>) -> Weighted {
        let mut acc = Weighted::new(self.dim());
        if range.is_empty() {
            return acc;
        }
        let (mut mean, mut var) = (vec![0.0; self.dim()], vec![0.0; self.dim()]);
        single_layer_params(&self.model.input, &[self.mean], &[self.var], &mut mean, &mut var);
        acc.add_with_variance(1.0, &mean, &var);
        acc
    }
}

impl Estimator for Concrete {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn loss_evaluations(&self, _: &Model, _: &HyperParams) -> f64 {
        1.0
    }
    fn plan(&self, model: &Model, _: &HyperParams) -> Plan {
        if model.units() == 1 {
            Plan { method: Method::Quadrature, note: None }
        } else {
            Plan {
                method: Method::MonteCarlo,
                note: Some("Monte Carlo: the relaxed forward pass makes the loss a function of every unit's continuous noise; quadrature is used for a single unit only".into()),
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
        if model.units() != 1 {
            return Err(Error::NotApplicable(Reason::ExactOnOneUnit {
                what: "concrete has quadrature moments".into(),
            }));
        }
        Ok(Box::new(QuadJob::new(model, hp.tau)))
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        self.check(model)?;
        // Relaxed forward pass (`h ← y`) and back-propagation, at any depth.
        let tau = hp.tau;
        Ok(Box::new(FactorSampler::new(model, move |t, k, rng, phi| {
            for u in t.range(k) {
                let z = t.a[u] + rng.logistic();
                (t.h[u], phi[u]) = relaxed(z, tau);
            }
        })))
    }
}
