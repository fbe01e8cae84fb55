//! `sts`: stochastic times smooth (Bengio, Léonard & Courville 2013, §2.2) — a unit type, not an
//! estimator for binary units. The same network with its units replaced by STS units,
//! `p = σ(a)`, `b ~ Bern(√p)`, `h = b·√p`, trained by back-propagation through `√p` with `b` held
//! fixed: per unit `ĝ_i = ∂f/∂h_i · b_i · σ′(a_i)/(2√p_i) = ∂f/∂h_i · b_i·√p_i·σ(−a_i)/2`,
//! chained through the real-valued `h` of every layer.
//!
//! It is compared on its own objective `E_b[f(b√p)]` (see [`crate::units`]): exact by enumeration
//! over the binary draws, with its exact gradient by the product rule. STS drops the score term of
//! `P(b)` (for one unit the true derivative is `(d√p/da)·[f(√p) − f(0) + √p f′(√p)]`, STS's
//! expectation `(d√p/da)·√p f′(√p)`), so it is biased for its own objective too. Exact moments by
//! enumeration (`Σ w ≤ 20`), Monte Carlo beyond.

use super::{Depth, Estimator, ExactJob, Family, HyperParams, Meta, Plan, Sampler};
use crate::error::Result;
use crate::limits;
use crate::model::{Model, UnitKind};
use crate::solution::ExactSolution;
use crate::stats::Method;
use crate::units::{self, McOptions, Objective, PathJob, PathSampler};

pub struct Sts;

pub(super) static META: Meta = Meta {
    key: "sts",
    name: "Stochastic times smooth (STS units, own objective)",
    family: Family::UnitType,
    unbiased: false,
    needs_loss_gradient: true,
    uses_tau: false,
    stateful: false,
    depth: Depth::Any,
    hyper: &[],
    evaluations: "1",
    formula: "h_i = b_i·√σ(a_i),  b_i ~ Bern(√σ(a_i));  ĝ_i = ∂f/∂h_i · b_i · σ′(a_i)/(2√σ(a_i)),  back-propagated with b fixed",
    formula_mathml: "<math><msub><mi>h</mi><mi>i</mi></msub><mo>=</mo><msub><mi>b</mi><mi>i</mi></msub><msqrt><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo></msqrt><mo>,</mo><mspace width=\"1em\"/><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mfrac><mrow><mo>∂</mo><mi>f</mi></mrow><mrow><mo>∂</mo><msub><mi>h</mi><mi>i</mi></msub></mrow></mfrac><mo>·</mo><msub><mi>b</mi><mi>i</mi></msub><mo>·</mo><mfrac><mrow><msup><mi>σ</mi><mo>′</mo></msup><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo></mrow><mrow><mn>2</mn><msqrt><mi>σ</mi><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo></msqrt></mrow></mfrac></math>",
    explanation: "A different unit, compared on its own objective: the seed paper's 'stochastic times smooth' unit multiplies a binary draw b ~ Bern(√σ(a)) by the smooth factor √σ(a), so the next layer sees b·√σ(a) and E[h] = σ(a). It is trained by ordinary back-propagation through the smooth factor with b held fixed. The figures compare it with the exact gradient of the STS network's own expected loss (enumerated over the binary draws), not with the binary network's: STS drops the term for which branch b took, so it is biased for its own objective as well, the more so the more f(√p) and f(0) differ.",
    citation: "Y. Bengio, N. Léonard, A. Courville (2013), Estimating or Propagating Gradients Through Stochastic Neurons for Conditional Computation, arXiv:1308.3432, §2.2 (Eq. 2, Proposition 2).",
    recommended_tau: None,
};

fn note(model: &Model) -> String {
    if model.layers.iter().all(|l| l.unit == UnitKind::Sts) {
        "compared with the exact gradient of its own objective (this network's STS units)".to_string()
    } else {
        format!(
            "a different unit: the same network with its {} replaced by STS units (h = b·√σ(a), b ~ Bern(√σ(a))), trained by its own gradient and compared with the exact gradient of its own objective (STS units), not the binary network's",
            units::describe(model)
        )
    }
}

impl Estimator for Sts {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn loss_evaluations(&self, _: &Model, _: &HyperParams) -> f64 {
        1.0
    }
    fn plan(&self, model: &Model, _: &HyperParams) -> Plan {
        if model.units() <= limits::JOINT_LOG2 {
            Plan { method: Method::Exact, note: None }
        } else {
            Plan {
                method: Method::MonteCarlo,
                note: Some(format!(
                    "Monte Carlo: {} STS units exceed the exact joint-enumeration limit of {}",
                    model.units(),
                    limits::JOINT_LOG2
                )),
            }
        }
    }
    fn exact_job<'a>(
        &'a self,
        model: &'a Model,
        _: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn ExactJob + 'a>> {
        self.check(model)?;
        limits::check_joint(model, "sts's exact moments")?;
        Ok(Box::new(PathJob { model: units::convert(model, UnitKind::Sts) }))
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        _: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        self.check(model)?;
        Ok(Box::new(PathSampler::new(units::convert(model, UnitKind::Sts))))
    }
    fn own_objective(&self, model: &Model, _: &HyperParams) -> Option<Result<Objective>> {
        let converted = units::convert(model, UnitKind::Sts);
        Some(units::objective(&converted, &McOptions::default()).map(|mut o| {
            o.notes.insert(0, note(model));
            o
        }))
    }
}
