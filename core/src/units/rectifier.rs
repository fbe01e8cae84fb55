//! The noisy rectifier's noise, and its one-dimensional quadratures.
//!
//! `h = max(0, a + z)` with `z = s·ε`, `ε` standard logistic or standard normal. For a function `g`
//! of `h`: `E[g(h)] = g(0)·P(a + z ≤ 0) + ∫_0^∞ g(y) p(y − a) dy`, where `p` is the density of `z`.
//! The integral is taken over `y ∈ [0, max(a, 0) + 60 s]` (the logistic tail beyond is below
//! `e^{−60}` of the mass; the Gaussian's far below) with break points at the noise's scales around
//! `y = a`, by adaptive Gauss–Kronrod ([`crate::quadrature`]).

use crate::math;
use crate::model::{Model, Noise, UnitKind};
use crate::quadrature;
use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// Density of `z = scale · ε` at `z`.
pub fn density(noise: Noise, scale: f64, z: f64) -> f64 {
    let x = z / scale;
    match noise {
        Noise::Logistic => math::exp(math::log_sigmoid(x) + math::log_sigmoid(-x)) / scale,
        Noise::Gaussian => math::exp(-0.5 * x * x) / (scale * (2.0 * PI).sqrt()),
    }
}

/// `P(a + z ≤ 0)`: the probability that the unit is off.
pub fn prob_off(noise: Noise, scale: f64, a: f64) -> f64 {
    match noise {
        Noise::Logistic => math::sigmoid(-a / scale),
        // Φ(−a/s) = ½ erfc(a / (s√2)).
        Noise::Gaussian => 0.5 * libm::erfc(a / scale * FRAC_1_SQRT_2),
    }
}

/// `P(a + z > 0)`: the probability that the unit is on.
pub fn prob_on(noise: Noise, scale: f64, a: f64) -> f64 {
    prob_off(noise, scale, -a)
}

/// `∫_0^∞ g(y) p(y − a) dy = E[g(h)·1[h > 0]]`.
pub fn integral_on(noise: Noise, scale: f64, a: f64, g: &dyn Fn(f64) -> f64) -> f64 {
    let end = a.max(0.0) + 60.0 * scale;
    let mut pts = vec![0.0, end];
    for d in [-16.0, -4.0, -1.0, 0.0, 1.0, 4.0, 16.0] {
        let y = a + d * scale;
        if y > 0.0 && y < end {
            pts.push(y);
        }
    }
    crate::quadrature::sort_points(&mut pts);
    pts.dedup();
    let mass = prob_on(noise, scale, a);
    let tol = 1e-13 * mass.max(1e-300);
    let f = |y: f64| {
        let d = density(noise, scale, y - a);
        if d == 0.0 {
            0.0
        } else {
            g(y) * d
        }
    };
    quadrature::integrate_pieces(&f, &pts, tol)
}

/// A single layer of noisy rectifiers whose loss splits into one function per unit,
/// `f(h) = Σ_i f_i(h_i)` (one unit with any loss, or the toy loss `Σ (h_i − t_i)²`): then every
/// figure is a sum of one-dimensional quadratures. `None` otherwise.
pub(crate) struct Separable<'a> {
    model: &'a Model,
    pub noise: Noise,
    pub scale: f64,
    /// Pre-activations of the units.
    pub a: Vec<f64>,
}

impl<'a> Separable<'a> {
    pub fn new(model: &'a Model) -> Option<Separable<'a>> {
        if model.layers.len() != 1 {
            return None;
        }
        let layer = &model.layers[0];
        let UnitKind::NoisyRectifier { noise, scale } = layer.unit else { return None };
        let split = layer.width() == 1 || matches!(model.loss, crate::loss::Loss::Toy { .. });
        if !split {
            return None;
        }
        let mut a = vec![0.0; layer.width()];
        layer.preactivation(&model.input, &mut a);
        Some(Separable { model, noise, scale, a })
    }

    /// `f_i(y)`: unit `i`'s share of the loss at `h_i = y`.
    pub fn f(&self, i: usize, y: f64) -> f64 {
        let loss = &self.model.loss;
        loss.toy_unit(i, y).map_or_else(|| loss.value(&[y]), |(f, _)| f)
    }

    /// `∂f/∂h_i` at `h_i = y`.
    pub fn df(&self, i: usize, y: f64) -> f64 {
        let loss = &self.model.loss;
        loss.toy_unit(i, y).map_or_else(
            || {
                let mut g = [0.0];
                loss.gradient(&[y], &mut g);
                g[0]
            },
            |(_, d)| d,
        )
    }

    /// `E[f_i(h_i)]`.
    pub fn expected(&self, i: usize) -> f64 {
        let a = self.a[i];
        self.f(i, 0.0) * prob_off(self.noise, self.scale, a) + integral_on(self.noise, self.scale, a, &|y| self.f(i, y))
    }

    /// `∂E[f]/∂a_i = E[∂f/∂h_i · 1[h_i > 0]]` (the boundary terms at `y = 0` cancel: `h` is
    /// continuous in `a`).
    pub fn gradient(&self, i: usize) -> f64 {
        integral_on(self.noise, self.scale, self.a[i], &|y| self.df(i, y))
    }

    /// `E[(∂f/∂h_i · 1[h_i > 0])²]`: the second moment of the pathwise estimate of `∂E[f]/∂a_i`.
    pub fn second_moment(&self, i: usize) -> f64 {
        integral_on(self.noise, self.scale, self.a[i], &|y| {
            let d = self.df(i, y);
            d * d
        })
    }
}
