//! `muprop`: REINFORCE with MuProp's control variate, the first-order Taylor expansion of `f`
//! around the mean-field point `h̄ = σ(a)` (Gu, Levine, Sutskever & Mnih 2016, eq. 3), specialised to
//! one stochastic layer:
//! `ĝ_i = [f(h) − f(h̄) − ∇f(h̄)·(h − h̄)]·(h_i − σ_i) + ∂_i f(h̄)·σ′(a_i)`.

use super::common::{centred, JointEstimator, JointRule, LossAccess};
use super::{Depth, Estimator, Family, HyperParams, Meta};
use crate::error::Result;
use crate::model::Model;
use crate::solution::ExactSolution;
use crate::trace::Trace;

pub struct Muprop;

pub(super) static META: Meta = Meta {
    key: "muprop",
    name: "MuProp",
    family: Family::ControlVariate,
    unbiased: true,
    needs_loss_gradient: true,
    uses_tau: false,
    stateful: false,
    depth: Depth::SingleLayer,
    hyper: &[],
    evaluations: "2 (plus ∇f at the mean-field point)",
    formula: "ĝ_i = [f(h) − f(h̄) − ∇f(h̄)·(h − h̄)]·(h_i − σ(a_i)) + ∂f/∂h_i(h̄)·σ′(a_i),  h̄ = σ(a)",
    formula_mathml: "<math><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mo>[</mo><mi>f</mi><mo>(</mo><mi>h</mi><mo>)</mo><mo>−</mo><mi>f</mi><mo>(</mo><mover><mi>h</mi><mo>‾</mo></mover><mo>)</mo><mo>−</mo><mo>∇</mo><mi>f</mi><mo>(</mo><mover><mi>h</mi><mo>‾</mo></mover><mo>)</mo><mo>·</mo><mo>(</mo><mi>h</mi><mo>−</mo><mover><mi>h</mi><mo>‾</mo></mover><mo>)</mo><mo>]</mo><mo>(</mo><msub><mi>h</mi><mi>i</mi></msub><mo>−</mo><msub><mi>σ</mi><mi>i</mi></msub><mo>)</mo><mo>+</mo><mfrac><mrow><mo>∂</mo><mi>f</mi></mrow><mrow><mo>∂</mo><msub><mi>h</mi><mi>i</mi></msub></mrow></mfrac><mo>(</mo><mover><mi>h</mi><mo>‾</mo></mover><mo>)</mo><msup><mi>σ</mi><mo>′</mo></msup><mo>(</mo><msub><mi>a</mi><mi>i</mi></msub><mo>)</mo></math>",
    explanation: "REINFORCE with a control variate: the loss's first-order Taylor expansion around the mean-field point h̄ = σ(a) is subtracted inside the score term and its expectation, which is known in closed form, is added back analytically. The result is unbiased for any loss with a derivative, and its variance is small when f is close to linear. Here it is defined for a single stochastic layer.",
    citation: "S. Gu, S. Levine, I. Sutskever, A. Mnih (2016), MuProp: Unbiased Backpropagation for Stochastic Neural Networks, ICLR, eq. 3.",
    recommended_tau: None,
};

/// The rule with `f(h̄)` and `∇f(h̄)` precomputed (single layer: `h̄` is fixed by the input).
pub(super) struct Rule {
    f_bar: f64,
    df_bar: Vec<f64>,
}

impl Rule {
    fn new(model: &Model) -> Rule {
        let mut t = Trace::new(model);
        t.compute_layer(model, 0);
        let h_bar = t.p.clone();
        let f_bar = model.loss.value(&h_bar);
        let mut df_bar = vec![0.0; h_bar.len()];
        model.loss.gradient(&h_bar, &mut df_bar);
        Rule { f_bar, df_bar }
    }
}

impl JointRule for Rule {
    fn needs_df(&self) -> bool {
        false
    }
    fn unit_gradient(&self, t: &Trace, f: f64, _df: &[f64], _loss: &LossAccess, ga: &mut [f64]) {
        let n = ga.len();
        let mut linear = 0.0;
        for u in 0..n {
            linear += self.df_bar[u] * centred(t, u);
        }
        let signal = f - self.f_bar - linear;
        for (u, g) in ga.iter_mut().enumerate() {
            *g = signal * centred(t, u) + self.df_bar[u] * t.p[u] * t.q[u];
        }
    }
}

impl JointEstimator for Muprop {
    const META: &'static Meta = &META;
    const EVALUATIONS: f64 = 2.0;
    type Rule<'a> = Rule;
    fn rule(&self, model: &Model, _: &HyperParams, _: &ExactSolution) -> Result<Rule> {
        self.check(model)?;
        Ok(Rule::new(model))
    }
}
