//! `relax`: RELAX (Grathwohl et al. 2018) for one stochastic layer: REBAR's estimator with a learned
//! control variate `c_φ` in place of `η f(σ_λ(z))`,
//! `ĝ_i = [f(h) − c_φ(z̃)]·(h_i − σ(a_i)) + ∂c_φ(z)/∂a_i − ∂c_φ(z̃)/∂a_i` (noise, `z̃` and `∂z̃/∂a` as in
//! `rebar`), unbiased for every φ.
//!
//! **The surrogate.** With `y = σ_λ(z)` (per unit, λ fixed by the hyper-parameter),
//! `c_φ(y) = η f(y) + κ + Σ_k α_k y_k + Σ_{k≤l} β_kl y_k y_l`: REBAR's term plus a constant (a shared
//! baseline), a linear and a quadratic surrogate in the relaxed state. `φ = (η, κ, α, β)` starts at
//! `η` = the `eta` hyper-parameter and zeros elsewhere (so the first draws are REBAR's).
//!
//! **Training.** `ĝ` is linear in φ, `ĝ_i = g⁰_i + Σ_m φ_m G_mi`, so the single-sample gradient of
//! RELAX's variance objective `∂Var/∂φ = E[∂‖ĝ‖²/∂φ]` is `2(‖x‖² + 1) Σ_i ĝ_i G_mi` (`‖ĝ_θ‖²` over
//! the weights `W_ij = ĝ_i x_j` and biases). After each draw is used, φ takes one Adam step
//! (learning rate [`LEARNING_RATE`], β₁ = 0.9, β₂ = 0.999, ε = 1e−8) on that gradient. φ depends only
//! on past draws, so every draw is unbiased given the past (the Monte-Carlo mean is unbiased and
//! its standard error valid); the draws are not independent.
//!
//! Monte Carlo only: the figures depend on the whole sequence of draws (the plan says so).

use super::common::chain_params;
use super::rebar::{estimate, ControlVariate, Noise};
use super::{Depth, Estimator, ExactJob, Family, Hyper, HyperParams, Meta, Plan, Sampler};
use crate::error::{Error, Reason, Result};
use crate::model::Model;
use crate::rng::Stream;
use crate::solution::ExactSolution;
use crate::stats::Method;
use crate::trace::Trace;

pub struct Relax;

/// Adam's step size for the surrogate's parameters.
pub const LEARNING_RATE: f64 = 0.01;

pub(super) static META: Meta = Meta {
    key: "relax",
    name: "RELAX (learned control variate)",
    family: Family::ControlVariate,
    unbiased: true,
    needs_loss_gradient: true,
    uses_tau: false,
    stateful: true,
    depth: Depth::SingleLayer,
    hyper: &[Hyper::Eta, Hyper::Lambda],
    evaluations: "3 (the surrogate contains η f(σ_λ(·)), evaluated with its gradient at σ_λ(z) and σ_λ(z̃))",
    formula: "ĝ = [f(h) − c_φ(z̃)]·(h − σ(a)) + ∂_a c_φ(z) − ∂_a c_φ(z̃),  c_φ(y) = η f(y) + κ + α·y + yᵀβy, y = σ_λ(z); φ ← Adam step on ∂‖ĝ‖²/∂φ",
    formula_mathml: "<math><mover><mi>g</mi><mo>^</mo></mover><mo>=</mo><mo>[</mo><mi>f</mi><mo>(</mo><mi>h</mi><mo>)</mo><mo>−</mo><msub><mi>c</mi><mi>φ</mi></msub><mo>(</mo><mover><mi>z</mi><mo>~</mo></mover><mo>)</mo><mo>]</mo><mo>(</mo><mi>h</mi><mo>−</mo><mi>σ</mi><mo>(</mo><mi>a</mi><mo>)</mo><mo>)</mo><mo>+</mo><msub><mo>∂</mo><mi>a</mi></msub><msub><mi>c</mi><mi>φ</mi></msub><mo>(</mo><mi>z</mi><mo>)</mo><mo>−</mo><msub><mo>∂</mo><mi>a</mi></msub><msub><mi>c</mi><mi>φ</mi></msub><mo>(</mo><mover><mi>z</mi><mo>~</mo></mover><mo>)</mo><mo>,</mo><mspace width=\"1em\"/><msub><mi>c</mi><mi>φ</mi></msub><mo>(</mo><mi>y</mi><mo>)</mo><mo>=</mo><mi>η</mi><mi>f</mi><mo>(</mo><mi>y</mi><mo>)</mo><mo>+</mo><mi>κ</mi><mo>+</mo><mi>α</mi><mo>·</mo><mi>y</mi><mo>+</mo><msup><mi>y</mi><mi>T</mi></msup><mi>β</mi><mi>y</mi><mo>,</mo><mspace width=\"0.5em\"/><mi>y</mi><mo>=</mo><msub><mi>σ</mi><mi>λ</mi></msub><mo>(</mo><mi>z</mi><mo>)</mo></math>",
    explanation: "REBAR with a control variate that learns: the scaled relaxed loss plus a small quadratic surrogate of the relaxed state, whose coefficients are trained while sampling to minimise the estimator's own variance, using the gradient of the squared estimate (which is available from each single draw). The estimate stays unbiased whatever the surrogate is, because its expectation is added back exactly; only the variance depends on how well it has been trained. It keeps state between draws, so its figures are Monte Carlo of the running estimator.",
    citation: "W. Grathwohl, D. Choi, Y. Wu, G. Roeder, D. Duvenaud (2018), Backpropagation through the Void: Optimizing control variates for black-box gradient estimation, ICLR.",
    recommended_tau: None,
};

/// `c_φ(y) = η f(y) + κ + α·y + Σ_{k≤l} β_kl y_k y_l`, parameters flat as `[η, κ, α…, β (upper
/// triangle, row by row)…]`.
pub(crate) struct Surrogate<'a> {
    pub model: &'a Model,
    pub phi: Vec<f64>,
    n: usize,
}

impl<'a> Surrogate<'a> {
    pub(crate) fn new(model: &'a Model, eta: f64) -> Self {
        let n = model.units();
        let mut phi = vec![0.0; 2 + n + n * (n + 1) / 2];
        phi[0] = eta;
        Surrogate { model, phi, n }
    }
    fn alpha(&self) -> &[f64] {
        &self.phi[2..2 + self.n]
    }
    /// Index of `β_kl` (`k ≤ l`) in `phi`.
    #[inline]
    fn beta(&self, k: usize, l: usize) -> usize {
        let (k, l) = if k <= l { (k, l) } else { (l, k) };
        2 + self.n + k * self.n - k * (k + 1) / 2 + l
    }
    /// The part without `η f`: `κ + α·y + Σ β_kl y_k y_l`.
    fn quadratic(&self, y: &[f64]) -> f64 {
        let mut v = self.phi[1];
        for (a, yk) in self.alpha().iter().zip(y) {
            v += a * yk;
        }
        for k in 0..self.n {
            for l in k..self.n {
                v += self.phi[self.beta(k, l)] * y[k] * y[l];
            }
        }
        v
    }
}

impl ControlVariate for Surrogate<'_> {
    fn value(&self, y: &[f64]) -> f64 {
        self.phi[0] * self.model.loss.value(y) + self.quadratic(y)
    }
    fn gradient(&self, y: &[f64], out: &mut [f64]) {
        self.model.loss.gradient(y, out);
        let eta = self.phi[0];
        for (i, o) in out.iter_mut().enumerate().take(self.n) {
            let mut g = eta * *o + self.phi[2 + i];
            for (l, yl) in y.iter().enumerate() {
                // ∂(y_i y_l)/∂y_i = y_l, and for l = i (β_ii y_i²) 2 y_i.
                let w = if l == i { 2.0 } else { 1.0 };
                g += w * self.phi[self.beta(i, l)] * yl;
            }
            *o = g;
        }
    }
}

/// Adam state.
struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    fn step(&mut self, lr: f64, grad: &[f64], x: &mut [f64]) {
        const B1: f64 = 0.9;
        const B2: f64 = 0.999;
        self.t = self.t.saturating_add(1);
        let c1 = 1.0 - libm::pow(B1, self.t as f64);
        let c2 = 1.0 - libm::pow(B2, self.t as f64);
        for i in 0..x.len() {
            self.m[i] = B1 * self.m[i] + (1.0 - B1) * grad[i];
            self.v[i] = B2 * self.v[i] + (1.0 - B2) * grad[i] * grad[i];
            let (mh, vh) = (self.m[i] / c1, self.v[i] / c2);
            x[i] -= lr * mh / (vh.sqrt() + 1e-8);
        }
    }
}

/// The running estimator.
pub(crate) struct Running<'a> {
    model: &'a Model,
    lambda: f64,
    pub(crate) lr: f64,
    pub(crate) cv: Surrogate<'a>,
    adam: Adam,
    trace: Trace,
    noise: Noise,
    gy: Vec<f64>,
    gyt: Vec<f64>,
    ga: Vec<f64>,
    grad: Vec<f64>,
}

impl<'a> Running<'a> {
    pub(crate) fn new(model: &'a Model, eta: f64, lambda: f64) -> Self {
        let n = model.units();
        let cv = Surrogate::new(model, eta);
        let m = cv.phi.len();
        let mut trace = Trace::new(model);
        trace.compute_layer(model, 0);
        Running {
            model,
            lambda,
            lr: LEARNING_RATE,
            cv,
            adam: Adam { m: vec![0.0; m], v: vec![0.0; m], t: 0 },
            trace,
            noise: Noise::new(n),
            gy: vec![0.0; n],
            gyt: vec![0.0; n],
            ga: vec![0.0; n],
            grad: vec![0.0; m],
        }
    }

    /// `Σ_i ĝ_i G_mi` for every parameter m (see the module header), into `self.grad`, scaled by
    /// `2(‖x‖² + 1)`.
    fn variance_gradient(&mut self) {
        let n = self.ga.len();
        let (nz, cv) = (&self.noise, &self.cv);
        let g = &self.ga;
        let s: Vec<f64> = (0..n).map(|i| super::common::centred(&self.trace, i)).collect();
        let r: f64 = g.iter().zip(&s).map(|(a, b)| a * b).sum();
        // e_i = ĝ_i φ_i, ẽ_i = ĝ_i φ̃_i ∂z̃_i/∂a.
        let e: Vec<f64> = (0..n).map(|i| g[i] * nz.phi[i]).collect();
        let et: Vec<f64> = (0..n).map(|i| g[i] * nz.phit[i] * nz.dzt[i]).collect();
        // η: −f(ỹ)R + Σ_i (e_i ∂_i f(y) − ẽ_i ∂_i f(ỹ)).
        let model = self.model;
        let mut dfy = vec![0.0; n];
        let mut dfyt = vec![0.0; n];
        model.loss.gradient(&nz.y, &mut dfy);
        model.loss.gradient(&nz.yt, &mut dfyt);
        let mut gr = vec![0.0; cv.phi.len()];
        gr[0] = -model.loss.value(&nz.yt) * r + (0..n).map(|i| e[i] * dfy[i] - et[i] * dfyt[i]).sum::<f64>();
        gr[1] = -r;
        for k in 0..n {
            gr[2 + k] = -nz.yt[k] * r + e[k] - et[k];
            for l in k..n {
                let v = if k == l {
                    -nz.yt[k] * nz.yt[k] * r + 2.0 * (e[k] * nz.y[k] - et[k] * nz.yt[k])
                } else {
                    -nz.yt[k] * nz.yt[l] * r + e[k] * nz.y[l] - et[k] * nz.yt[l] + e[l] * nz.y[k] - et[l] * nz.yt[k]
                };
                gr[cv.beta(k, l)] = v;
            }
        }
        let scale = 2.0 * (model.input.iter().map(|x| x * x).sum::<f64>() + 1.0);
        for (o, v) in self.grad.iter_mut().zip(&gr) {
            *o = scale * v;
        }
    }
}

impl Sampler for Running<'_> {
    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]) {
        self.noise.draw(&mut self.trace, self.lambda, rng);
        estimate(self.model, &self.trace, &self.noise, &self.cv, &mut self.gy, &mut self.gyt, &mut self.ga);
        chain_params(self.model, &self.trace, &self.ga, out);
        // Learn after use: the next draw's φ depends only on draws up to this one.
        if self.lr > 0.0 {
            self.variance_gradient();
            let grad = std::mem::take(&mut self.grad);
            if grad.iter().all(|g| g.is_finite()) {
                self.adam.step(self.lr, &grad, &mut self.cv.phi);
            }
            self.grad = grad;
        }
    }
    /// `[φ, Adam's m, Adam's v, Adam's t]`.
    fn state(&self) -> Vec<f64> {
        let mut s = [self.cv.phi.as_slice(), self.adam.m.as_slice(), self.adam.v.as_slice()].concat();
        s.push(f64::from(self.adam.t));
        s
    }
    fn set_state(&mut self, state: &[f64]) {
        let m = self.cv.phi.len();
        if state.len() != 3 * m + 1 {
            return;
        }
        self.cv.phi.copy_from_slice(&state[..m]);
        self.adam.m.copy_from_slice(&state[m..2 * m]);
        self.adam.v.copy_from_slice(&state[2 * m..3 * m]);
        self.adam.t = state[3 * m] as i32;
    }
}

impl Estimator for Relax {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn loss_evaluations(&self, _: &Model, _: &HyperParams) -> f64 {
        3.0
    }
    fn plan(&self, _: &Model, _: &HyperParams) -> Plan {
        Plan {
            method: Method::MonteCarlo,
            note: Some(
                "Monte Carlo only: the control variate is learned while sampling, so the figures depend on the whole sequence of draws".into(),
            ),
        }
    }
    fn exact_job<'a>(
        &'a self,
        model: &'a Model,
        _: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn ExactJob + 'a>> {
        self.check(model)?;
        Err(Error::NotApplicable(Reason::LearnedWhileSampling {
            estimator: "relax".into(),
            learned: "control variate".into(),
        }))
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        self.check(model)?;
        Ok(Box::new(Running::new(model, hp.eta, hp.lambda)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::rebar::SingleUnitJob;
    use super::*;
    use crate::exact::solve;
    use crate::jobs::{run_exact, run_monte_carlo};
    use crate::rng::{Draws, Stream};

    fn unit(a: f64, t: f64) -> Model {
        Model::from_json_str(&format!(
            r#"{{"input": [0.75], "layers": [{{"weights": [[0.5]], "bias": [{a}]}}], "loss": {{"kind": "toy", "target": [{t}]}}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn unbiased_for_every_surrogate_by_quadrature() {
        // One unit: c_φ(y) = η f(y) + κ + αy + βy² with arbitrary coefficients; the exact mean
        // (quadrature over both noises) equals the gradient.
        for (a, t) in [(0.0, 0.45), (-1.3, 0.499), (2.5, 0.2)] {
            let model = unit(a, t);
            let sol = solve(&model).unwrap();
            for phi in [[1.0, 0.0, 0.0, 0.0], [0.3, -0.7, 1.9, -2.5], [-1.5, 3.0, -0.4, 0.8]] {
                let mut cv = Surrogate::new(&model, phi[0]);
                cv.phi.copy_from_slice(&phi);
                let c = |y: f64| cv.value(&[y]);
                let dc = |y: f64| {
                    let mut d = [0.0];
                    cv.gradient(&[y], &mut d);
                    d[0]
                };
                let job = SingleUnitJob::new(&model, 0.5, &c, &dc);
                let (mean, var) = run_exact(&job, &mut |_, _| true).unwrap();
                let tr: f64 = var.iter().sum();
                for (m, g) in mean.iter().zip(&sol.gradient) {
                    assert!((m - g).abs() <= 1e-10 * (g.abs() + tr.sqrt()) + 1e-14, "a={a} φ={phi:?}: {m} vs {g}");
                }
            }
        }
    }

    #[test]
    fn variance_gradient_matches_finite_differences() {
        // For fixed noise, ∂‖ĝ_θ‖²/∂φ_m (analytic, through G) against central differences in φ.
        let model = Model::from_json_str(
            r#"{"input": [0.5, -1.0], "layers": [{"weights": [[1.0, 0.5], [-0.5, 0.25], [0.0, 1.5]], "bias": [0.5, -1.0, 1.5]}],
                "loss": {"kind": "softmax", "weights": [[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]], "bias": [0.1, -0.2], "label": 1}}"#,
        )
        .unwrap();
        let mut s = Running::new(&model, 0.8, 0.7);
        let mut rng = Stream::new(11, "test", 0);
        for p in s.cv.phi.iter_mut() {
            *p = 2.0 * rng.uniform() - 1.0;
        }
        for _ in 0..5 {
            s.noise.draw(&mut s.trace, s.lambda, &mut rng);
            estimate(&model, &s.trace, &s.noise, &s.cv, &mut s.gy, &mut s.gyt, &mut s.ga);
            s.variance_gradient();
            let scale = 1.0 + model.input.iter().map(|x| x * x).sum::<f64>();
            let loss = |phi: &[f64]| {
                let mut cv = Surrogate::new(&model, 0.0);
                cv.phi.copy_from_slice(phi);
                let n = model.units();
                let (mut gy, mut gyt, mut ga) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
                estimate(&model, &s.trace, &s.noise, &cv, &mut gy, &mut gyt, &mut ga);
                scale * ga.iter().map(|g| g * g).sum::<f64>()
            };
            for m in 0..s.cv.phi.len() {
                let (mut plus, mut minus) = (s.cv.phi.clone(), s.cv.phi.clone());
                plus[m] += 1e-6;
                minus[m] -= 1e-6;
                let fd = (loss(&plus) - loss(&minus)) / 2e-6;
                assert!((fd - s.grad[m]).abs() <= 1e-6 * (1.0 + fd.abs()), "φ[{m}]: {fd} vs {}", s.grad[m]);
            }
        }
    }

    #[test]
    fn frozen_surrogate_sampler_is_unbiased_and_learning_reduces_variance() {
        // Three units with a quadratic readout: the sampler with random frozen φ has the exact mean
        // within 4 standard errors; with learning on, the variance falls below REBAR's (η = 1).
        let model = Model::from_json_str(
            r#"{"input": [0.5, -1.0], "layers": [{"weights": [[1.0, 0.5], [-0.5, 0.25], [0.0, 1.5]], "bias": [0.5, -1.0, 1.5]}],
                "loss": {"kind": "readout", "weights": [1.0, -2.0, 3.0], "bias": 0, "target": 1.0}}"#,
        )
        .unwrap();
        let sol = solve(&model).unwrap();
        let dim = model.num_params();
        let mut frozen = Running::new(&model, 1.0, 0.5);
        frozen.lr = 0.0;
        let mut rng = Stream::new(5, "test", 0);
        for p in frozen.cv.phi.iter_mut() {
            *p = 2.0 * rng.uniform() - 1.0;
        }
        let acc = run_monte_carlo(&mut frozen, 3, "relax", 40_000, dim, &mut |_, _| true).unwrap();
        let total = acc.total();
        let var = total.variance();
        for (t, (m, g)) in total.mean.iter().zip(&sol.gradient).enumerate() {
            let se = (var[t] / total.n as f64).sqrt();
            assert!((m - g).abs() <= 4.0 * se, "{t}: {m} vs {g}");
        }
        let trace = |lr: f64| {
            let mut s = Running::new(&model, 1.0, 0.5);
            s.lr = lr;
            // Train, then measure the variance of the last 20 000 draws.
            run_monte_carlo(&mut s, 9, "relax", 20_000, dim, &mut |_, _| true).unwrap();
            let acc = run_monte_carlo(&mut s, 10, "relax", 20_000, dim, &mut |_, _| true).unwrap();
            acc.total().variance().iter().sum::<f64>()
        };
        let (rebar, learned) = (trace(0.0), trace(LEARNING_RATE));
        assert!(learned < 0.9 * rebar, "learned {learned} vs rebar {rebar}");
    }
}
