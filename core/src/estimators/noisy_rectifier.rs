//! `noisy-rectifier`: the noisy rectifier (Bengio, Léonard & Courville 2013, §2.1) — a unit type,
//! not an estimator for binary units. The same network with its units replaced by
//! `h = max(0, a + z)`, `z` logistic or Gaussian noise times a scale (`--noise`, `--noise-scale`;
//! defaults logistic, 1), trained by the pathwise gradient `∂h/∂a = 1[a + z > 0]`,
//! back-propagated through every layer with the noise fixed.
//!
//! It is compared on its own objective `E_z[f(h)]`, for which the pathwise gradient is unbiased:
//! exact by quadrature for a single layer with one unit or the toy loss (also its variance), Monte
//! Carlo otherwise — and then the reference gradient is itself a Monte-Carlo estimate, and says so.

use super::{Depth, Estimator, ExactJob, Family, Hyper, HyperParams, Meta, Plan, Sampler};
use crate::error::Result;
use crate::model::{Model, UnitKind};
use crate::solution::ExactSolution;
use crate::stats::Method;
use crate::units::{self, rectifier::Separable, McOptions, Objective, PathSampler, RectifierJob};

pub struct NoisyRectifier;

pub(super) static META: Meta = Meta {
    key: "noisy-rectifier",
    name: "Noisy rectifier (noisy-rectifier units, own objective)",
    family: Family::UnitType,
    unbiased: true,
    needs_loss_gradient: true,
    uses_tau: false,
    stateful: false,
    depth: Depth::Any,
    hyper: &[Hyper::Noise, Hyper::NoiseScale],
    evaluations: "1",
    formula: "h_i = max(0, a_i + z_i),  z_i ~ logistic or normal × scale;  ĝ_i = ∂f/∂h_i · 1[a_i + z_i > 0],  back-propagated",
    formula_mathml: "<math><msub><mi>h</mi><mi>i</mi></msub><mo>=</mo><mi>max</mi><mo>(</mo><mn>0</mn><mo>,</mo><msub><mi>a</mi><mi>i</mi></msub><mo>+</mo><msub><mi>z</mi><mi>i</mi></msub><mo>)</mo><mo>,</mo><mspace width=\"1em\"/><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mfrac><mrow><mo>∂</mo><mi>f</mi></mrow><mrow><mo>∂</mo><msub><mi>h</mi><mi>i</mi></msub></mrow></mfrac><mo>·</mo><mn>1</mn><mo>[</mo><msub><mi>a</mi><mi>i</mi></msub><mo>+</mo><msub><mi>z</mi><mi>i</mi></msub><mo>&gt;</mo><mn>0</mn><mo>]</mo></math>",
    explanation: "A different unit, compared on its own objective: the seed paper's noisy rectifier adds zero-mean noise to the pre-activation and rectifies, h = max(0, a + z). The noise is Gaussian with standard deviation 1 by default, the setting of the paper's experiments (appendix A.4); with logistic noise instead (the noise settings) it is on with probability σ(a), like a binary unit, and E[h] = softplus(a) (Proposition 1). Its real-valued output can be back-propagated through directly (the pathwise or reparameterisation gradient), which is unbiased for the noisy rectifier's own expected loss — not for the binary network's. The figures compare it with the gradient of its own objective (quadrature for one layer with one unit or the toy loss, Monte Carlo otherwise), and the notes name the noise used.",
    citation: "Y. Bengio, N. Léonard, A. Courville (2013), Estimating or Propagating Gradients Through Stochastic Neurons for Conditional Computation, arXiv:1308.3432, §2.1 (Proposition 1) and appendix A.4 (Gaussian noise of standard deviation 1.0).",
    recommended_tau: None,
};

fn unit(hp: &HyperParams) -> UnitKind {
    UnitKind::NoisyRectifier { noise: hp.noise, scale: hp.noise_scale }
}

impl Estimator for NoisyRectifier {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn loss_evaluations(&self, _: &Model, _: &HyperParams) -> f64 {
        1.0
    }
    fn plan(&self, model: &Model, hp: &HyperParams) -> Plan {
        if Separable::new(&units::convert(model, unit(hp))).is_some() {
            Plan { method: Method::Quadrature, note: None }
        } else {
            Plan {
                method: Method::MonteCarlo,
                note: Some("Monte Carlo: the noisy rectifier's moments are exact (quadrature) for a single layer with one unit or the toy loss only".into()),
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
        Ok(Box::new(RectifierJob::new(&units::convert(model, unit(hp)))?))
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        self.check(model)?;
        Ok(Box::new(PathSampler::new(units::convert(model, unit(hp)))))
    }
    fn own_objective(&self, model: &Model, hp: &HyperParams) -> Option<Result<Objective>> {
        let converted = units::convert(model, unit(hp));
        let described = units::describe(&converted);
        let same = model.layers.iter().all(|l| matches!(l.unit, UnitKind::NoisyRectifier { .. }));
        Some(units::objective(&converted, &McOptions::default()).map(|mut o| {
            let what = if o.method == Method::MonteCarlo {
                "a Monte-Carlo estimate of the gradient of its own objective"
            } else {
                "the exact gradient of its own objective"
            };
            let n = if same {
                format!("compared with {what} (this network's {described})")
            } else {
                format!(
                    "a different unit: the same network with its {} replaced by {described} (h = max(0, a + z)), trained by its own gradient and compared with {what}, not the binary network's",
                    units::describe(model)
                )
            };
            o.notes.insert(0, n);
            o
        }))
    }
}
