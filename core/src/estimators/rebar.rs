//! `rebar`: REBAR (Tucker et al. 2017), in the form of the RELAX paper (Grathwohl et al. 2018;
//! estimators reference B.8), for one stochastic layer. Per unit, uniforms `u`, `v`:
//! `z = a + logit(u)`, `h = 1[z > 0]`, and `z̃ ~ p(z | h)` by the `v′` construction
//! (`v′ = v·σ(−a)` if `h = 0`, `v′ = v·σ(a) + σ(−a)` if `h = 1`, `z̃ = a + logit(v′)`). With the
//! control variate `c(z) = η f(σ_λ(z))`, `σ_λ(z) = σ(z/λ)` applied per unit,
//! `ĝ_i = [f(h) − c(z̃)]·(h_i − σ(a_i)) + ∂c(z)/∂a_i − ∂c(z̃)/∂a_i`, where
//! `∂c(z)/∂a_i = η ∂_i f(σ_λ(z))·φ_λ(z_i)` (`φ_λ = σ_λ(1 − σ_λ)/λ`, `∂z/∂a = 1`) and `∂z̃_i/∂a_i`
//! includes `v′`'s dependence on `σ(a_i)`: `vσ(a)/v′ = σ(a)(1 − e^{−z̃})` (h = 1) and
//! `(1 − v)σ(−a)/(1 − v′) = σ(−a)(1 − e^{z̃})` (h = 0). Unbiased for every η and λ; 3 loss
//! evaluations (`f(h)`, and `f` with its gradient at `σ_λ(z)` and `σ_λ(z̃)`).
//!
//! Moments for a single unit by quadrature: given `h`, `z` and `z̃` are independent and both
//! distributed as `p(z | h)`, and `ĝ = f(h)(h − σ(a)) + X(z) + Y(z̃)` with
//! `X = c′(z)`, `Y = −(h − σ(a))c(z̃) − c′(z̃)·∂z̃/∂a` (`c′` the chain through `σ_λ`), so
//! `E[ĝ | h]` and `Var[ĝ | h] = Var[X | h] + Var[Y | h]` are one-dimensional conditional integrals
//! (adaptive Gauss–Kronrod, split where `h` flips). Several units: Monte Carlo (the relaxed loss
//! couples all the units' noises). The same machinery serves RELAX's learned control variate.

use super::common::{centred, chain_params, single_layer_params};
use super::concrete::relaxed;
use super::gumbel_rao::conditional_noise;
use super::{Depth, Estimator, ExactJob, Family, Hyper, HyperParams, Meta, Plan, Sampler};
use crate::error::{Error, Reason, Result};
use crate::math;
use crate::model::Model;
use crate::quadrature::conditional_expectations;
use crate::rng::{Draws, Stream};
use crate::solution::ExactSolution;
use crate::stats::{Method, Weighted};
use crate::trace::Trace;
use std::ops::Range;

pub struct Rebar;

pub(super) static META: Meta = Meta {
    key: "rebar",
    name: "REBAR",
    family: Family::ControlVariate,
    unbiased: true,
    needs_loss_gradient: true,
    uses_tau: false,
    stateful: false,
    depth: Depth::SingleLayer,
    hyper: &[Hyper::Eta, Hyper::Lambda],
    evaluations: "3",
    formula: "ĝ = [f(h) − η f(σ_λ(z̃))]·(h − σ(a)) + η ∂_a f(σ_λ(z)) − η ∂_a f(σ_λ(z̃)),  z = a + logit(u), h = 1[z > 0], z̃ ~ p(z | h)",
    formula_mathml: "<math><mover><mi>g</mi><mo>^</mo></mover><mo>=</mo><mo>[</mo><mi>f</mi><mo>(</mo><mi>h</mi><mo>)</mo><mo>−</mo><mi>η</mi><mi>f</mi><mo>(</mo><msub><mi>σ</mi><mi>λ</mi></msub><mo>(</mo><mover><mi>z</mi><mo>~</mo></mover><mo>)</mo><mo>)</mo><mo>]</mo><mo>(</mo><mi>h</mi><mo>−</mo><mi>σ</mi><mo>(</mo><mi>a</mi><mo>)</mo><mo>)</mo><mo>+</mo><mi>η</mi><msub><mo>∂</mo><mi>a</mi></msub><mi>f</mi><mo>(</mo><msub><mi>σ</mi><mi>λ</mi></msub><mo>(</mo><mi>z</mi><mo>)</mo><mo>)</mo><mo>−</mo><mi>η</mi><msub><mo>∂</mo><mi>a</mi></msub><mi>f</mi><mo>(</mo><msub><mi>σ</mi><mi>λ</mi></msub><mo>(</mo><mover><mi>z</mi><mo>~</mo></mover><mo>)</mo><mo>)</mo><mo>,</mo><mspace width=\"1em\"/><mi>z</mi><mo>=</mo><mi>a</mi><mo>+</mo><mi>logit</mi><mo>(</mo><mi>u</mi><mo>)</mo><mo>,</mo><mspace width=\"0.5em\"/><mi>h</mi><mo>=</mo><mn>1</mn><mo>[</mo><mi>z</mi><mo>&gt;</mo><mn>0</mn><mo>]</mo><mo>,</mo><mspace width=\"0.5em\"/><mover><mi>z</mi><mo>~</mo></mover><mo>∼</mo><mi>p</mi><mo>(</mo><mi>z</mi><mo>∣</mo><mi>h</mi><mo>)</mo></math>",
    explanation: "REINFORCE with the Concrete relaxation as its control variate. The relaxed loss at the noise that produced the sample is subtracted — evaluated at a second noise drawn conditionally on the sample, so that its expectation can be added back exactly through two reparameterised gradients. The result is unbiased for any scale η and temperature λ, and the variance is low when the relaxed loss tracks the real one; with a poor η it can be worse than plain REINFORCE. Costs three loss evaluations (two of them with gradients). Defined here for one stochastic layer.",
    citation: "G. Tucker, A. Mnih, C. J. Maddison, D. Lawson, J. Sohl-Dickstein (2017), REBAR: Low-variance, unbiased gradient estimates for discrete latent variable models, NeurIPS; in the form of W. Grathwohl, D. Choi, Y. Wu, G. Roeder, D. Duvenaud (2018), Backpropagation through the Void, ICLR.",
    recommended_tau: None,
};

/// A control variate of the relaxed state `y = σ_λ(z)` of the single layer: `c(y)` and `∇_y c`.
pub(crate) trait ControlVariate {
    fn value(&self, y: &[f64]) -> f64;
    fn gradient(&self, y: &[f64], out: &mut [f64]);
}

/// REBAR's `c(y) = η f(y)`.
pub(crate) struct ScaledLoss<'a> {
    pub model: &'a Model,
    pub eta: f64,
}

impl ControlVariate for ScaledLoss<'_> {
    fn value(&self, y: &[f64]) -> f64 {
        self.eta * self.model.loss.value(y)
    }
    fn gradient(&self, y: &[f64], out: &mut [f64]) {
        self.model.loss.gradient(y, out);
        for o in out.iter_mut() {
            *o *= self.eta;
        }
    }
}

/// The noise of one REBAR/RELAX draw for the single layer, and the relaxed quantities built on it.
pub(crate) struct Noise {
    /// `σ_λ(z)` and `φ_λ(z) = σ_λ(z)(1 − σ_λ(z))/λ` per unit.
    pub y: Vec<f64>,
    pub phi: Vec<f64>,
    /// The same at `z̃`, and `∂z̃/∂a`.
    pub yt: Vec<f64>,
    pub phit: Vec<f64>,
    pub dzt: Vec<f64>,
    u: Vec<f64>,
}

impl Noise {
    pub(crate) fn new(n: usize) -> Noise {
        Noise {
            y: vec![0.0; n],
            phi: vec![0.0; n],
            yt: vec![0.0; n],
            phit: vec![0.0; n],
            dzt: vec![0.0; n],
            u: vec![0.0; n],
        }
    }

    /// Draw `u` (all units), then `v` (all units); set the trace's hard state `h = 1[z > 0]`
    /// (`t` must have layer 0 computed).
    pub(crate) fn draw(&mut self, t: &mut Trace, lambda: f64, rng: &mut Stream) {
        let n = self.u.len();
        for x in self.u.iter_mut() {
            *x = rng.uniform();
        }
        let mut bits = 0u64;
        for i in 0..n {
            let z = t.a[i] + math::logit(self.u[i]);
            (self.y[i], self.phi[i]) = relaxed(z, lambda);
            if z > 0.0 {
                bits |= 1 << i;
            }
        }
        for i in 0..n {
            let h = bits >> i & 1 == 1;
            let (zt, d) = conditional_noise(t.a[i], t.p[i], t.q[i], h, rng.uniform());
            (self.yt[i], self.phit[i]) = relaxed(zt, lambda);
            self.dzt[i] = d;
        }
        t.set_bits(0, bits);
    }
}

/// `ĝ_i = [f(h) − c(ỹ)](h_i − σ(a_i)) + ∂_i c(y)·φ_i − ∂_i c(ỹ)·φ̃_i·∂z̃_i/∂a_i` into `ga`, with scratch
/// `gy`, `gyt` for the control variate's gradients (which stay there for the caller). Returns
/// `(f(h), c(ỹ))`.
pub(crate) fn estimate<C: ControlVariate>(
    model: &Model,
    t: &Trace,
    noise: &Noise,
    cv: &C,
    gy: &mut [f64],
    gyt: &mut [f64],
    ga: &mut [f64],
) -> (f64, f64) {
    let f = model.loss.value(t.output());
    let ct = cv.value(&noise.yt);
    cv.gradient(&noise.y, gy);
    cv.gradient(&noise.yt, gyt);
    for (i, g) in ga.iter_mut().enumerate() {
        *g = (f - ct) * centred(t, i) + gy[i] * noise.phi[i] - gyt[i] * noise.phit[i] * noise.dzt[i];
    }
    (f, ct)
}

/// One unit: per side `h`, `(E[ĝ_a | h], Var[ĝ_a | h])` by quadrature, for a control variate of one
/// relaxed value given as `c(y)` and `c′(y) = dc/dy`.
pub(crate) fn single_unit_conditional(
    a: f64,
    f: [f64; 2],
    lambda: f64,
    c: &dyn Fn(f64) -> f64,
    dc: &dyn Fn(f64) -> f64,
) -> [(f64, f64); 2] {
    let (p, q) = (math::sigmoid(a), math::sigmoid(-a));
    let mut out = [(0.0, 0.0); 2];
    for (side, slot) in [false, true].into_iter().zip(out.iter_mut()) {
        let s = if side { q } else { -p };
        // ∂z̃/∂a as a function of z̃ on this side (see the module header).
        let dz = move |z: f64| if side { -p * libm::expm1(-z) } else { -q * libm::expm1(z) };
        let x = |z: f64| {
            let (y, phi) = relaxed(z, lambda);
            dc(y) * phi
        };
        let yfun = |z: f64| {
            let (y, phi) = relaxed(z, lambda);
            -s * c(y) - dc(y) * phi * dz(z)
        };
        let m = conditional_expectations(a, side, lambda, &[&x, &yfun]);
        let (mx, my) = (m[0], m[1]);
        let vx = |z: f64| (x(z) - mx).powi(2);
        let vy = |z: f64| (yfun(z) - my).powi(2);
        let v = conditional_expectations(a, side, lambda, &[&vx, &vy]);
        *slot = (f[side as usize] * s + mx + my, v[0] + v[1]);
    }
    out
}

/// Quadrature moments of a single unit: two items (h = 0, 1) with their conditional moments.
pub(crate) struct SingleUnitJob<'a> {
    model: &'a Model,
    p: f64,
    q: f64,
    cond: [(f64, f64); 2],
}

impl<'a> SingleUnitJob<'a> {
    pub(crate) fn new(
        model: &'a Model,
        lambda: f64,
        c: &dyn Fn(f64) -> f64,
        dc: &dyn Fn(f64) -> f64,
    ) -> SingleUnitJob<'a> {
        let mut t = Trace::new(model);
        t.compute_layer(model, 0);
        let a = t.a[0];
        let f = [model.loss.value(&[0.0]), model.loss.value(&[1.0])];
        SingleUnitJob { model, p: t.p[0], q: t.q[0], cond: single_unit_conditional(a, f, lambda, c, dc) }
    }
}

impl ExactJob for SingleUnitJob<'_> {
    fn method(&self) -> Method {
        Method::Quadrature
    }
    fn total(&self) -> u64 {
        2
    }
    fn dim(&self) -> usize {
        self.model.num_params()
    }
    fn run(&self, range: Range<u64>) -> Weighted {
        let mut acc = Weighted::new(self.dim());
        let x = &self.model.input;
        let (mut mean, mut var) = (vec![0.0; self.dim()], vec![0.0; self.dim()]);
        for side in range {
            let (m, v) = self.cond[side as usize];
            let w = if side == 1 { self.p } else { self.q };
            single_layer_params(x, &[m], &[v], &mut mean, &mut var);
            acc.add_with_variance(w, &mean, &var);
        }
        acc
    }
}

/// The plan shared by REBAR: quadrature for one unit, Monte Carlo for several.
fn plan(model: &Model) -> Plan {
    if model.units() == 1 {
        Plan { method: Method::Quadrature, note: None }
    } else {
        Plan {
            method: Method::MonteCarlo,
            note: Some(
                "Monte Carlo: the relaxed loss couples every unit's noise; quadrature is used for a single unit only"
                    .into(),
            ),
        }
    }
}

struct Draw<'a> {
    model: &'a Model,
    eta: f64,
    lambda: f64,
    trace: Trace,
    noise: Noise,
    gy: Vec<f64>,
    gyt: Vec<f64>,
    ga: Vec<f64>,
}

impl Sampler for Draw<'_> {
    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]) {
        self.noise.draw(&mut self.trace, self.lambda, rng);
        let cv = ScaledLoss { model: self.model, eta: self.eta };
        estimate(self.model, &self.trace, &self.noise, &cv, &mut self.gy, &mut self.gyt, &mut self.ga);
        chain_params(self.model, &self.trace, &self.ga, out);
    }
}

impl Estimator for Rebar {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn loss_evaluations(&self, _: &Model, _: &HyperParams) -> f64 {
        3.0
    }
    fn plan(&self, model: &Model, _: &HyperParams) -> Plan {
        plan(model)
    }
    fn exact_job<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn ExactJob + 'a>> {
        self.check(model)?;
        if model.units() != 1 {
            return Err(Error::NotApplicable(Reason::ExactOnOneUnit { what: "rebar has quadrature moments".into() }));
        }
        let eta = hp.eta;
        let loss = &model.loss;
        let c = move |y: f64| eta * loss.value(&[y]);
        let dc = move |y: f64| {
            let mut d = [0.0];
            loss.gradient(&[y], &mut d);
            eta * d[0]
        };
        Ok(Box::new(SingleUnitJob::new(model, hp.lambda, &c, &dc)))
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        self.check(model)?;
        Ok(Box::new(Draw::new(model, hp.eta, hp.lambda)))
    }
}

impl<'a> Draw<'a> {
    fn new(model: &'a Model, eta: f64, lambda: f64) -> Draw<'a> {
        let n = model.units();
        let mut trace = Trace::new(model);
        trace.compute_layer(model, 0);
        Draw { model, eta, lambda, trace, noise: Noise::new(n), gy: vec![0.0; n], gyt: vec![0.0; n], ga: vec![0.0; n] }
    }
}
