//! The exact answer for any model: the layer chain ([`crate::chain`]) for binary networks, its
//! categorical form ([`crate::categorical`]) for networks with categorical layers, the
//! unit types' own objective ([`crate::units`]) for networks with STS or noisy-rectifier layers.
//! For an `elbo` model ([`crate::loss::Loss::Elbo`]) the chain gives `E_q[g]` and its gradient,
//! and [`exact_term`] (the exact `−H(q)`) is added: the solution is of `−ELBO`.

use crate::elbo::{self, Table};
use crate::error::Result;
use crate::loss::Loss;
use crate::model::Model;
pub use crate::solution::ExactSolution;

/// `E[f]`, `∇θ E[f]` and the optimal per-unit baselines, exactly: by the layer chain for a binary
/// network (refused past [`crate::limits::CHAIN_LOG2`]), else the network's own objective
/// (exact where it has an exact form; see [`crate::units::solve`]). For an `elbo` model,
/// `expected_loss` and `gradient` are of `−ELBO = E_q[g] − H(q)`; the optimal baselines are for
/// `g`, the part the estimators estimate.
pub fn solve(model: &Model) -> Result<ExactSolution> {
    if model.has_categorical() {
        return crate::categorical::solve(model);
    }
    if model.is_binary() {
        let mut sol = crate::chain::solve(model)?;
        if let Some(term) = exact_term(model) {
            sol.expected_loss += term.value;
            for (g, t) in sol.gradient.iter_mut().zip(&term.gradient) {
                *g += t;
            }
        }
        Ok(sol)
    } else {
        crate::units::solve(model)
    }
}

/// The part of a model's objective that is added exactly rather than estimated: for an `elbo`
/// model, `−H(q)` of the encoder and its gradient in the encoder's parameters (`a_i σ(a_i) σ(−a_i)`
/// times `x` for `W`, once for `c`). Every estimator's estimate of `∇E_q[g]` gets this gradient
/// added ([`crate::moments`], [`crate::train`]), so its figures are of `∇(−ELBO)`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExactTerm {
    pub value: f64,
    /// Flat, in the model's parameter order.
    pub gradient: Vec<f64>,
}

/// [`ExactTerm`] of an `elbo` model; `None` for every other loss.
pub fn exact_term(model: &Model) -> Option<ExactTerm> {
    let Loss::Elbo { .. } = model.loss else { return None };
    let layer = &model.layers[0];
    let mut a = vec![0.0; layer.width()];
    layer.preactivation(&model.input, &mut a);
    let mut da = vec![0.0; a.len()];
    let value = elbo::neg_entropy(&a, &mut da);
    let mut gradient = Vec::with_capacity(model.num_params());
    for &d in &da {
        gradient.extend(model.input.iter().map(|x| d * x));
    }
    gradient.extend_from_slice(&da);
    Some(ExactTerm { value, gradient })
}

/// `E[f]`, the part of `sol.expected_loss` that the estimators estimate: `E_q[g]` for an `elbo`
/// model (its −H(q) taken off), `expected_loss` itself otherwise. The idealised baselines use it.
pub fn expected_f(model: &Model, sol: &ExactSolution) -> f64 {
    exact_term(model).map_or(sol.expected_loss, |t| sol.expected_loss - t.value)
}

/// An `elbo` model's exact figures beyond [`solve`]'s (one Gray-code walk over the `2^k` states).
#[derive(Clone, Debug, PartialEq)]
pub struct ElboFigures {
    /// `−ELBO(x) = E_q[g] − H(q)` (the same value as [`solve`]'s `expected_loss`).
    pub neg_elbo: f64,
    /// `log p(x) = log Σ_h p(x | h) p(h)`.
    pub log_marginal: f64,
    /// `∂(−ELBO)/∂V` (pixels × latents, row-major like the MODEL.json rows).
    pub decoder_weights: Vec<f64>,
    /// `∂(−ELBO)/∂b`.
    pub decoder_bias: Vec<f64>,
    /// `∂(−ELBO)/∂r`.
    pub prior: Vec<f64>,
}

/// [`ElboFigures`] of an `elbo` model; `None` for every other loss.
pub fn elbo_figures(model: &Model) -> Option<ElboFigures> {
    let Loss::Elbo { decoder, x } = &model.loss else { return None };
    let (k, d) = (decoder.latents(), decoder.pixels());
    let layer = &model.layers[0];
    let mut a = vec![0.0; k];
    layer.preactivation(&model.input, &mut a);
    let table = Table::new(decoder, true);
    let mut q = vec![0.0; 1 << k];
    let ex = elbo::image_exact(decoder, &table, x, &a, Some(&mut q), true);
    // E_q[(σ(o_j) − x_j) h_l] and E_q[σ(o_j) − x_j]: Σ_s q(s) σ(o_j(s)) [h_l(s)] − x_j [p_l].
    let (mut decoder_bias, mut decoder_weights) = table.sigmoid_moments(&q);
    let p: Vec<f64> = a.iter().map(|&a| crate::math::sigmoid(a)).collect();
    for j in 0..d {
        if x[j] == 1.0 {
            decoder_bias[j] -= 1.0;
            for l in 0..k {
                decoder_weights[j * k + l] -= p[l];
            }
        }
    }
    // ∂/∂r_i of E_q[softplus(r_i) − r_i h_i] = σ(r_i) − p_i.
    let prior = decoder.prior.iter().zip(&p).map(|(&r, &p)| crate::math::sigmoid(r) - p).collect();
    Some(ElboFigures { neg_elbo: ex.neg_elbo, log_marginal: ex.log_marginal, decoder_weights, decoder_bias, prior })
}
