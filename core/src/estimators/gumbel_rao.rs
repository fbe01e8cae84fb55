//! `gumbel-rao`: the Rao-Blackwellised straight-through Gumbel estimator (Paulus et al. 2021) in its
//! fixed-noise form (estimators reference B.3, "Caution": the conditional noise is detached, as in
//! the reference code `chijames/GST:rao_gumbel`). The hard sample `h` is drawn as usual; given it,
//! K logistic noises are drawn from `p(z | h)` by the `v′` construction (RELAX appendix):
//! `v′ = v·σ(−a)` if `h = 0`, `v′ = v·σ(a) + σ(−a)` if `h = 1`, `z̃ = a + log(v′/(1 − v′))`, and the
//! backward pass uses the average relaxation slope, `ĝ = ∂f/∂h (h) · (1/K) Σ_k y_k(1 − y_k)/τ`,
//! `y_k = σ(z̃_k/τ)`, back-propagated through every layer.
//!
//! Given the joint hard state, the factor's K-average has the conditional mean `E[φ | h]` of
//! ST-Gumbel's factor and variance `Var[φ | h]/K`: the same mean as `st-gumbel`, and for one
//! stochastic layer the same quadrature job with the conditional variances divided by K (so
//! `Var = Var[E[ĝ | h]] + E[Var[ĝ | h]]/K`). Deeper networks: Monte Carlo.

use super::common::FactorSampler;
use super::concrete::relaxed;
use super::st_gumbel::{quad_job, quad_plan};
use super::{Depth, Estimator, ExactJob, Family, Hyper, HyperParams, Meta, Plan, Sampler};
use crate::error::Result;
use crate::math;
use crate::model::Model;
use crate::rng::Draws;
use crate::solution::ExactSolution;

pub struct GumbelRao;

/// K when [`HyperParams::k`] is unset.
pub const DEFAULT_K: u32 = 10;

pub(super) static META: Meta = Meta {
    key: "gumbel-rao",
    name: "Gumbel-Rao (Rao-Blackwellised ST-Gumbel, K samples)",
    family: Family::RaoBlackwell,
    unbiased: false,
    needs_loss_gradient: true,
    uses_tau: true,
    stateful: false,
    depth: Depth::Any,
    hyper: &[Hyper::Tau, Hyper::K],
    evaluations: "1 (plus K conditional noise draws per unit)",
    formula: "ĝ = ∂f/∂h (h) · (1/K) Σ_k y_k(1 − y_k)/τ,  y_k = σ(z̃_k/τ),  z̃_k ~ p(z | h)",
    formula_mathml: "<math><mover><mi>g</mi><mo>^</mo></mover><mo>=</mo><mfrac><mrow><mo>∂</mo><mi>f</mi></mrow><mrow><mo>∂</mo><mi>h</mi></mrow></mfrac><mo>(</mo><mi>h</mi><mo>)</mo><mo>·</mo><mfrac><mn>1</mn><mi>K</mi></mfrac><munderover><mo>∑</mo><mrow><mi>k</mi><mo>=</mo><mn>1</mn></mrow><mi>K</mi></munderover><mfrac><mrow><msub><mi>y</mi><mi>k</mi></msub><mo>(</mo><mn>1</mn><mo>−</mo><msub><mi>y</mi><mi>k</mi></msub><mo>)</mo></mrow><mi>τ</mi></mfrac><mo>,</mo><mspace width=\"1em\"/><msub><mi>y</mi><mi>k</mi></msub><mo>=</mo><mi>σ</mi><mo>(</mo><msub><mover><mi>z</mi><mo>~</mo></mover><mi>k</mi></msub><mo>/</mo><mi>τ</mi><mo>)</mo><mo>,</mo><mspace width=\"1em\"/><msub><mover><mi>z</mi><mo>~</mo></mover><mi>k</mi></msub><mo>∼</mo><mi>p</mi><mo>(</mo><mi>z</mi><mo>∣</mo><mi>h</mi><mo>)</mo></math>",
    explanation: "Straight-through Gumbel takes the relaxation's slope at the one noise value that produced the sample; that slope is itself random. Gumbel-Rao averages it over K fresh noise values drawn conditionally on the same sample, which approximates its conditional expectation (a Rao-Blackwellisation): the mean is exactly ST-Gumbel's, so the bias is unchanged, and the variance due to the noise shrinks like 1/K. This is the fixed-noise ('detached') form of the authors' reference code (chijames/GST, rao_gumbel): the conditional noises are held fixed when differentiating, which gives E[J | D] of the paper's eq. 7; differentiating through their reparameterisation as well, as the paper's text describes, gives a different estimator for binary units. It still needs only one loss gradient.",
    citation: "M. B. Paulus, C. J. Maddison, A. Krause (2021), Rao-Blackwellizing the Straight-Through Gumbel-Softmax Gradient Estimator, ICLR, eqs. 7–9; fixed-noise form of the reference code chijames/GST (model/basic.py, rao_gumbel); conditional sampling as in W. Grathwohl, D. Choi, Y. Wu, G. Roeder, D. Duvenaud (2018), RELAX, ICLR, appendix.",
    recommended_tau: None,
};

/// A logistic noise drawn from `p(z | h)` for a unit with logit `a` (`p = σ(a)`, `q = σ(−a)`) from
/// a uniform `v`, by the `v′` construction, with `v′` and `1 − v′` formed without cancellation:
/// `h = 1`: `v′ = vp + q`, `1 − v′ = (1 − v)p`; `h = 0`: `v′ = vq`, `1 − v′ = p + (1 − v)q`.
/// Returns `z̃ = a + ln v′ − ln(1 − v′)` and `∂z̃/∂a` with `v` held fixed (through `v′`'s dependence
/// on `p`): `vp/v′` (h = 1), `(1 − v)q/(1 − v′)` (h = 0), both in (0, 1).
#[inline]
pub(crate) fn conditional_noise(a: f64, p: f64, q: f64, h: bool, v: f64) -> (f64, f64) {
    let w = 1.0 - v;
    if h {
        let (vp, one_minus) = (v * p + q, w * p);
        (a + math::ln(vp) - math::ln(one_minus), v * p / vp)
    } else {
        let (vp, one_minus) = (v * q, p + w * q);
        (a + math::ln(vp) - math::ln(one_minus), w * q / one_minus)
    }
}

impl Estimator for GumbelRao {
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
        quad_job(model, META.key, hp.tau, hp.k_or(DEFAULT_K) as f64)
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        self.check(model)?;
        // Hard forward sample, K conditional relaxation slopes per unit, at any depth.
        let (tau, k) = (hp.tau, hp.k_or(DEFAULT_K));
        Ok(Box::new(FactorSampler::new(model, move |t, layer, rng, phi| {
            let mut bits = 0u64;
            for (i, u) in t.range(layer).enumerate() {
                let (a, p, q) = (t.a[u], t.p[u], t.q[u]);
                let h = rng.uniform() < p;
                let mut sum = 0.0;
                for _ in 0..k {
                    let (z, _) = conditional_noise(a, p, q, h, rng.uniform());
                    sum += relaxed(z, tau).1;
                }
                phi[u] = sum / k as f64;
                if h {
                    bits |= 1 << i;
                }
            }
            t.set_bits(layer, bits);
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditional_noise_lands_on_the_right_side_with_the_right_distribution() {
        // P(z̃ ≤ c | h) for the conditional logistic: with F(z) = σ(z − a), z̃ = a + logit(v′) has
        // CDF (F(z) − F(0))/(1 − F(0)) on z > 0 (h = 1), so v′ is uniform on (q, 1): check a few
        // quantiles, and ∂z̃/∂a against a central difference.
        for a in [-30.0, -1.5, 0.0, 0.7, 30.0] {
            let (p, q) = (math::sigmoid(a), math::sigmoid(-a));
            for v in [1e-9, 0.1, 0.5, 0.9, 1.0 - 1e-9] {
                let (z1, d1) = conditional_noise(a, p, q, true, v);
                let (z0, d0) = conditional_noise(a, p, q, false, v);
                assert!(z1 > 0.0 && z0 < 0.0, "a={a} v={v}: {z1} {z0}");
                // v′ recovered from z̃: σ(z̃ − a)
                assert!((math::sigmoid(z1 - a) - (v * p + q)).abs() < 1e-12);
                assert!((math::sigmoid(z0 - a) - v * q).abs() <= 1e-12 * (v * q));
                if a.abs() < 10.0 {
                    let e = 1e-6;
                    let num = |h: bool| {
                        let at = |b: f64| conditional_noise(b, math::sigmoid(b), math::sigmoid(-b), h, v).0;
                        (at(a + e) - at(a - e)) / (2.0 * e)
                    };
                    assert!((num(true) - d1).abs() < 1e-7, "a={a} v={v}: {} vs {d1}", num(true));
                    assert!((num(false) - d0).abs() < 1e-7, "a={a} v={v}: {} vs {d0}", num(false));
                }
            }
        }
    }
}
