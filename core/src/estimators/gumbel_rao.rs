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

use super::common::{backprop, chain_params};
use super::concrete::relaxed;
use super::st_gumbel::QuadJob;
use super::{Depth, Estimator, ExactJob, Family, Hyper, HyperParams, Meta, Plan, Sampler};
use crate::error::{Error, Result};
use crate::exact::ExactSolution;
use crate::limits;
use crate::math;
use crate::model::Model;
use crate::rng::Stream;
use crate::stats::Method;
use crate::trace::Trace;

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
    explanation: "Straight-through Gumbel takes the relaxation's slope at the one noise value that produced the sample; that slope is itself random. Gumbel-Rao averages it over K fresh noise values drawn conditionally on the same sample, which approximates its conditional expectation (a Rao-Blackwellisation): the mean is exactly ST-Gumbel's, so the bias is unchanged, but the variance due to the noise shrinks like 1/K. It still needs only one loss gradient.",
    citation: "M. B. Paulus, C. J. Maddison, A. Krause (2021), Rao-Blackwellizing the Straight-Through Gumbel-Softmax Gradient Estimator, ICLR; conditional sampling as in W. Grathwohl et al. (2018), RELAX, ICLR, appendix.",
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

/// Hard forward sample, K conditional relaxation slopes per unit, at any depth.
struct Draw<'a> {
    model: &'a Model,
    tau: f64,
    k: u32,
    trace: Trace,
    phi: Vec<f64>,
    df: Vec<f64>,
    ga: Vec<f64>,
}

impl Sampler for Draw<'_> {
    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]) {
        let model = self.model;
        for layer in 0..model.layers.len() {
            self.trace.compute_layer(model, layer);
            let mut bits = 0u64;
            for (i, u) in self.trace.range(layer).enumerate() {
                let (a, p, q) = (self.trace.a[u], self.trace.p[u], self.trace.q[u]);
                let h = rng.uniform() < p;
                let mut sum = 0.0;
                for _ in 0..self.k {
                    let (z, _) = conditional_noise(a, p, q, h, rng.uniform());
                    sum += relaxed(z, self.tau).1;
                }
                self.phi[u] = sum / self.k as f64;
                if h {
                    bits |= 1 << i;
                }
            }
            self.trace.set_bits(layer, bits);
        }
        model.loss.gradient(self.trace.output(), &mut self.df);
        let phi = &self.phi;
        backprop(model, &self.trace, &self.df, |_, u| phi[u], &mut self.ga);
        chain_params(model, &self.trace, &self.ga, out);
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
                "gumbel-rao has quadrature moments for a single stochastic layer only; use Monte Carlo".into(),
            ));
        }
        limits::check_joint(model, "gumbel-rao's quadrature moments")?;
        Ok(Box::new(QuadJob::new(model, hp.tau, hp.k_or(DEFAULT_K) as f64)))
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        self.check(model)?;
        Ok(Box::new(Draw {
            model,
            tau: hp.tau,
            k: hp.k_or(DEFAULT_K),
            trace: Trace::new(model),
            phi: vec![0.0; model.units()],
            df: vec![0.0; model.output_width()],
            ga: vec![0.0; model.units()],
        }))
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
