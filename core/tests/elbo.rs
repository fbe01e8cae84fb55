//! Independent brute-force suite for the discrete VAE loss (`"kind": "elbo"`): the engine against
//! formulas written directly from the maths (`common/mod.rs`: `LossSpec::Elbo`, `brute_elbo`,
//! `encoder_entropy`, `neg_entropy_grad`), sharing no code with the engine beyond parsing
//! MODEL.json and calling its public API (`exact::solve`, `exact::elbo_figures`, `moments::moments`,
//! `Loss::value`/`gradient`).
//!
//! The model: binary input `x ∈ {0,1}^D`, one layer of k encoder units `q(h|x)`, `p_i = σ(W x + c)_i`;
//! `g(h) = −log p(x|h) − log p(h)` with `o = V h + b`; `H(q)` the factorised encoder's entropy;
//! `−ELBO = E_q[g] − H(q)`; `log p(x) = log Σ_h p(x|h) p(h)`.
//!
//! 1. `g` and `∂g/∂h` at binary and real h; `−ELBO`, `log p(x)` and every gradient (encoder W, c;
//!    decoder V, b; prior r) by enumeration of the 2^k latent states, against the engine; my
//!    enumeration against my closed forms (`E[g] − H`, `∇E[g] + ∇(−H)`, `σ(r) − p`) and against
//!    central finite differences of my `−ELBO` in every parameter.
//! 2. The bound `−ELBO ≥ −log p(x)`, its gap against `KL(q ‖ p(h|x))` by enumeration, and equality
//!    (with a vanishing encoder and prior gradient) when the decoder ignores h and q is the prior.
//! 3. Estimator moments on elbo models, reference mean = the estimator's brute-force mean on `f = g`
//!    plus my exact `∇(−H)`, reference variance = its brute-force variance:
//!    * exact, by joint enumeration (`joint_moments`): reinforce, reinforce-ma (idealised baseline
//!      `b = E_q[g]`), reinforce-optimal (`L̄_i` of g), local-expectation, muprop, st, st-sigmoid,
//!      st-tempered, darn, reinmax, gapped-st;
//!    * exact, by other integrations: reinforce-loo (all k-tuples, k = 2, 3), arm and disarm (the 3
//!      cells per unit), ar (the uniforms' cells);
//!    * quadrature: st-gumbel and gumbel-rao (factorised over the hard state), concrete and rebar
//!      (one latent unit, tensor quadrature);
//!    * Monte Carlo (fixed seed), mean only: reinforce, reinforce-loo, arm, st-sigmoid, relax.
//!
//!    Not covered: learned-predictor (biased by design, Monte Carlo only), and the unit types sts and
//!    noisy-rectifier (compared on their own objectives).
//! 4. Refusals: non-binary input, more than one layer, decoder rows ≠ D, decoder row length ≠ k,
//!    decoder bias length ≠ D, prior length ≠ k, missing prior or decoder, more than 16 latent units
//!    (16 accepted), non-binary latent units.
//!
//! Tolerances follow `brute_force.rs`: `1e−10` relative (plus `1e−13` × the sum's own rounding
//! scale, the sum of absolute terms) for enumerations, `1e−8` where either side integrates continuous
//! noise, with the same rounding floors `16ε·max|f|·|∂θ log q|` for estimators with O(max|f|)
//! baselines.
//!
//! Run: `cargo test -p stochgrad-core --test elbo`.

mod common;

use common::*;
use stochgrad_core::estimators::{find, registry, HyperParams};
use stochgrad_core::exact::{elbo_figures, solve, ElboFigures, ExactSolution};
use stochgrad_core::moments::{moments, MethodChoice, Report, Request};
use stochgrad_core::{Error, Model};

const MC_SAMPLES: u64 = 20_000;
const MC_SEED: u64 = 20_250_611;

/// (D, k) of the random models: D = 3–6, k = 1–4.
const SHAPES: [(usize, usize); 10] = [(3, 1), (4, 1), (6, 1), (3, 2), (5, 2), (6, 2), (4, 3), (6, 3), (3, 4), (5, 4)];

fn random_models() -> Vec<Net> {
    SHAPES
        .iter()
        .enumerate()
        .map(|(i, &(d, k))| Net::random_elbo(&mut XorShift::new(6_007 * (i as u64 + 1) + 17), d, k))
        .collect()
}

/// Saturated encoder logits (zero weights, bias ±30) and a strongly saturated decoder pixel: the
/// entropy's `p log p` at `p ≈ 9.4e−14` and `log σ(±30)` must keep their digits.
fn saturated_models() -> Vec<Net> {
    let mut out = Vec::new();
    let mut rng = XorShift::new(90_001);
    // a = (30, −30, moderate)
    let mut n = Net::random_elbo(&mut rng, 4, 3);
    n.w[0][0] = vec![0.0; 4];
    n.w[0][1] = vec![0.0; 4];
    n.c[0][0] = 30.0;
    n.c[0][1] = -30.0;
    out.push(n);
    // one unit at −30, a decoder bias of 25 on a pixel that is 0 and −25 on one that is 1
    let mut n = Net::random_elbo(&mut rng, 3, 1);
    n.w[0][0] = vec![0.0; 3];
    n.c[0][0] = -30.0;
    if let LossSpec::Elbo { x, b, .. } = &mut n.loss {
        let zero = x.iter().position(|&v| v == 0.0).unwrap();
        let one = x.iter().position(|&v| v == 1.0).unwrap();
        b[zero] = 25.0;
        b[one] = -25.0;
    }
    out.push(n);
    out
}

fn all_models() -> Vec<Net> {
    random_models().into_iter().chain(saturated_models()).collect()
}

/// The engine's figures, with the model checked to be the one written here.
fn engine(net: &Net) -> (Model, ExactSolution, ElboFigures) {
    let model = net.model();
    let sol = solve(&model).unwrap_or_else(|e| panic!("{}: solve failed: {e}", net.describe()));
    let fig = elbo_figures(&model).unwrap_or_else(|| panic!("{}: no elbo figures", net.describe()));
    (model, sol, fig)
}

/// `|e − b| ≤ 1e−10·|b| + 1e−13·scale` (scale: the sum of absolute terms behind `b`).
fn close(what: &str, e: f64, b: f64, scale: f64) {
    assert!(e.is_finite(), "{what}: engine value {e}");
    let tol = EXACT_TOL * b.abs() + 1e-13 * scale + 1e-300;
    assert!(
        (e - b).abs() <= tol,
        "{what}: engine {e} vs brute force {b} (differs by {:e}, tol {tol:e})",
        (e - b).abs()
    );
}

fn close_vec(what: &str, e: &[f64], b: &[f64], scale: &[f64]) {
    assert_eq!(e.len(), b.len(), "{what}: length {} vs {}", e.len(), b.len());
    for t in 0..b.len() {
        close(&format!("{what}[{t}]"), e[t], b[t], scale[t]);
    }
}

// ================================================================================================
// 1. Values and gradients
// ================================================================================================

#[test]
fn loss_value_and_derivative_match_the_formula() {
    // g(h) and ∂g/∂h as the engine's loss computes them, at every binary state and at real h in
    // (0, 1) (what straight-through and relaxation estimators evaluate).
    let mut rng = XorShift::new(3);
    for net in all_models() {
        let model = net.model();
        assert_eq!(model.loss.kind(), "elbo");
        let k = net.units();
        let mut points: Vec<Vec<f64>> =
            (0..1usize << k).map(|s| (0..k).map(|i| (s >> i & 1) as f64).collect()).collect();
        for _ in 0..8 {
            points.push((0..k).map(|_| rng.unit()).collect());
        }
        for h in points {
            let what = format!("{} at h = {h:?}", net.describe());
            let (e, b) = (model.loss.value(&h), net.f(&h));
            assert!((e - b).abs() <= 1e-13 * (b.abs() + 1.0), "{what}: g {e} vs {b}");
            let mut out = vec![f64::NAN; k];
            assert!(model.loss.gradient(&h, &mut out), "{what}: the elbo loss must be differentiable");
            let db = net.loss.grad(&h).unwrap();
            for l in 0..k {
                assert!(
                    (out[l] - db[l]).abs() <= 1e-13 * (db[l].abs() + 1.0),
                    "{what}: ∂g/∂h[{l}] {} vs {}",
                    out[l],
                    db[l]
                );
            }
            // and mine against central differences of my g
            let step = 1e-6;
            for l in 0..k {
                let (mut up, mut dn) = (h.clone(), h.clone());
                up[l] += step;
                dn[l] -= step;
                let fd = (net.f(&up) - net.f(&dn)) / (2.0 * step);
                assert!((fd - db[l]).abs() <= 1e-7 * (db[l].abs() + net.f(&h).abs() + 1.0), "{what}: my ∂g/∂h[{l}]");
            }
        }
    }
}

#[test]
fn neg_elbo_log_marginal_and_every_gradient_match_enumeration() {
    for net in all_models() {
        let what = net.describe();
        let (_, sol, fig) = engine(&net);
        let bf = brute_elbo(&net);
        close(&format!("{what}: solve's expected loss (−ELBO)"), sol.expected_loss, bf.neg_elbo, bf.neg_elbo_abs);
        close(&format!("{what}: neg_elbo"), fig.neg_elbo, bf.neg_elbo, bf.neg_elbo_abs);
        close(
            &format!("{what}: log p(x)"),
            fig.log_marginal,
            bf.log_marginal,
            bf.log_marginal.abs() + bf.expected_g.abs(),
        );
        close_vec(&format!("{what}: ∂(−ELBO)/∂(W, c)"), &sol.gradient, &bf.encoder, &bf.encoder_abs);
        close_vec(&format!("{what}: ∂(−ELBO)/∂V"), &fig.decoder_weights, &bf.decoder_weights, &bf.decoder_weights_abs);
        close_vec(&format!("{what}: ∂(−ELBO)/∂b"), &fig.decoder_bias, &bf.decoder_bias, &bf.decoder_bias_abs);
        close_vec(&format!("{what}: ∂(−ELBO)/∂r"), &fig.prior, &bf.prior, &bf.prior_abs);
    }
}

#[test]
fn elbo_figures_are_none_for_other_losses() {
    let mut rng = XorShift::new(12);
    for kind in LOSS_KINDS {
        let net = Net::random(&mut rng, 2, &[2], kind);
        assert!(elbo_figures(&net.model()).is_none(), "{kind}: elbo figures for a non-elbo loss");
    }
}

#[test]
fn my_enumeration_agrees_with_my_closed_forms() {
    // Two routes of mine to each figure: −ELBO as Σ q (g + log q) against E[g] − H by H's formula;
    // the encoder gradient as Σ q (g + log q) ∇log q against ∇E[g] (score function on g alone) plus
    // the closed form ∇(−H) = a p (1 − p) [x, 1]; the prior gradient against σ(r) − p; the posterior
    // KL against −ELBO + log p(x).
    for net in all_models() {
        let what = net.describe();
        let bf = brute_elbo(&net);
        let h = encoder_entropy(&net);
        let e = (bf.neg_elbo - (bf.expected_g - h)).abs();
        assert!(
            e <= 1e-13 * (bf.neg_elbo_abs + h),
            "{what}: Σ q(g + log q) {} vs E[g] − H {}",
            bf.neg_elbo,
            bf.expected_g - h
        );
        let g = brute_exact(&net);
        let ent = neg_entropy_grad(&net);
        for (t, et) in ent.iter().enumerate() {
            let alt = g.grad[t] + et;
            let e = (bf.encoder[t] - alt).abs();
            assert!(
                e <= 1e-13 * (bf.encoder_abs[t] + g.abs[t]) + 1e-300,
                "{what}: encoder[{t}] {} vs {alt}",
                bf.encoder[t]
            );
        }
        let (_, _, r) = net.elbo_parts();
        let a = net.preact(0, &net.x);
        for l in 0..net.units() {
            // σ(r) − σ(a), formed without cancellation where both are near 1
            let closed = sig(-a[l]) - sig(-r[l]);
            assert!((bf.prior[l] - closed).abs() <= 1e-14 * bf.prior_abs[l] + 1e-300, "{what}: prior[{l}]");
        }
        let kl = bf.neg_elbo + bf.log_marginal;
        assert!(
            (bf.kl_posterior - kl).abs() <= 1e-13 * (bf.neg_elbo_abs + bf.log_marginal.abs()),
            "{what}: KL {} vs −ELBO + log p(x) {kl}",
            bf.kl_posterior
        );
    }
}

#[test]
fn brute_force_gradients_match_finite_differences() {
    // Central differences of my −ELBO (step 1e−5: truncation ≈ h²/6·|∂³| ≲ 1e−10, rounding
    // ≈ ε|−ELBO|/h) in every parameter: encoder W, c, decoder V, b, prior r. Also against the
    // engine's figures, tying them to the definition of the derivative.
    let step = 1e-5;
    for net in random_models() {
        let what = net.describe();
        let bf = brute_elbo(&net);
        let (_, sol, fig) = engine(&net);
        let mine: Vec<f64> = [&bf.encoder[..], &bf.decoder_weights, &bf.decoder_bias, &bf.prior]
            .into_iter()
            .flatten()
            .copied()
            .collect();
        let theirs: Vec<f64> = [&sol.gradient[..], &fig.decoder_weights, &fig.decoder_bias, &fig.prior]
            .into_iter()
            .flatten()
            .copied()
            .collect();
        let th = net.elbo_params();
        assert_eq!(th.len(), mine.len());
        let gmax = mine.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        let tol = 1e-7 * gmax + 1e-9 * bf.neg_elbo.abs();
        for t in 0..th.len() {
            let mut p = th.clone();
            p[t] += step;
            let up = brute_neg_elbo(&net.with_elbo_params(&p));
            p[t] -= 2.0 * step;
            let dn = brute_neg_elbo(&net.with_elbo_params(&p));
            let fd = (up - dn) / (2.0 * step);
            assert!((fd - mine[t]).abs() <= tol, "{what}: parameter {t}: finite difference {fd} vs mine {}", mine[t]);
            assert!(
                (fd - theirs[t]).abs() <= tol,
                "{what}: parameter {t}: finite difference {fd} vs engine {}",
                theirs[t]
            );
        }
    }
}

// ================================================================================================
// 2. The bound
// ================================================================================================

#[test]
fn neg_elbo_bounds_neg_log_marginal_by_the_posterior_kl() {
    for net in all_models() {
        let what = net.describe();
        let (_, _, fig) = engine(&net);
        let bf = brute_elbo(&net);
        let scale = bf.neg_elbo_abs + bf.log_marginal.abs();
        assert!(bf.kl_posterior >= -1e-13 * scale, "{what}: my KL(q ‖ p(h|x)) = {} < 0", bf.kl_posterior);
        let gap = fig.neg_elbo + fig.log_marginal;
        assert!(gap >= -1e-12 * scale, "{what}: −ELBO {} < −log p(x) {}", fig.neg_elbo, -fig.log_marginal);
        assert!(
            (gap - bf.kl_posterior).abs() <= EXACT_TOL * bf.kl_posterior.abs() + 1e-13 * scale,
            "{what}: −ELBO − (−log p(x)) = {gap} vs KL(q ‖ p(h|x)) = {}",
            bf.kl_posterior
        );
    }
}

/// A model whose decoder ignores h (V = 0) and whose prior is q: `r = a = W x + c` exactly (dyadic
/// numbers and a binary x: the sums are exact).
fn tight_model(seed: u64, d: usize, k: usize) -> Net {
    let mut net = Net::random_elbo(&mut XorShift::new(seed), d, k);
    let a = net.preact(0, &net.x);
    if let LossSpec::Elbo { v, prior, .. } = &mut net.loss {
        v.iter_mut().for_each(|row| row.iter_mut().for_each(|w| *w = 0.0));
        *prior = a;
    }
    net
}

#[test]
fn the_bound_is_tight_when_q_is_the_posterior() {
    // With V = 0, p(h|x) = p(h) = q: −ELBO = −log p(x) = Σ_j softplus-terms of b alone, the encoder
    // gradient vanishes (q minimises KL(q ‖ p(h))), the prior gradient σ(r) − p vanishes, and the
    // decoder gradients are E_q[σ(b_j) − x_j] h_l = (σ(b_j) − x_j) p_l.
    for (i, &(d, k)) in SHAPES.iter().enumerate() {
        let net = tight_model(41 + i as u64, d, k);
        let what = net.describe();
        let (_, sol, fig) = engine(&net);
        let (_, b, _) = net.elbo_parts();
        let log_px: f64 = (0..d).map(|j| net.x[j] * log_sig(b[j]) + (1.0 - net.x[j]) * log_sig(-b[j])).sum();
        let s = log_px.abs().max(1.0);
        assert!(
            (fig.neg_elbo + fig.log_marginal).abs() <= 1e-12 * s,
            "{what}: −ELBO {} vs −log p(x) {}",
            fig.neg_elbo,
            -fig.log_marginal
        );
        assert!((fig.log_marginal - log_px).abs() <= 1e-12 * s, "{what}: log p(x) {} vs {log_px}", fig.log_marginal);
        assert!((sol.expected_loss + log_px).abs() <= 1e-12 * s, "{what}: −ELBO {} vs {}", sol.expected_loss, -log_px);
        let bf = brute_elbo(&net);
        assert!(bf.kl_posterior.abs() <= 1e-12 * s && (bf.neg_elbo + log_px).abs() <= 1e-12 * s, "{what}: my bound");
        // The gradient at the minimum: zero up to the rounding of sums of O(|g| + |log q|) terms.
        let zero = 1e-13 * (bf.neg_elbo_abs + 1.0);
        for (t, g) in sol.gradient.iter().enumerate() {
            assert!(g.abs() <= zero, "{what}: ∂(−ELBO)/∂θ[{t}] = {g} at q = p(h|x)");
        }
        for (l, g) in fig.prior.iter().enumerate() {
            assert!(g.abs() <= 1e-14, "{what}: ∂(−ELBO)/∂r[{l}] = {g} at r = a");
        }
        let a = net.preact(0, &net.x);
        for (j, bj) in b.iter().enumerate() {
            let e = sig(*bj) - net.x[j];
            assert!((fig.decoder_bias[j] - e).abs() <= 1e-14, "{what}: ∂/∂b[{j}] {} vs {e}", fig.decoder_bias[j]);
            for (l, al) in a.iter().enumerate() {
                let want = e * sig(*al);
                let got = fig.decoder_weights[j * k + l];
                assert!((got - want).abs() <= 1e-14, "{what}: ∂/∂V[{j}][{l}] {got} vs {want}");
            }
        }
    }
}

// ================================================================================================
// 3. Estimator moments
// ================================================================================================

fn run(model: &Model, sol: &ExactSolution, key: &str, h: HyperParams, method: MethodChoice) -> Result<Report, Error> {
    let req = Request { hp: h, method, samples: MC_SAMPLES, seed: MC_SEED };
    moments(model, sol, find(key).unwrap(), &req, &mut |_, _| true)
}

/// The method the engine should use for an exact request on a one-layer model of `n` units, or
/// `None` where only Monte Carlo exists (or the key is not covered here).
fn exact_method(key: &str, n: usize) -> Option<&'static str> {
    match key {
        k if JOINT_KEYS.contains(&k) => Some("exact"),
        "reinforce-loo" | "ar" => Some("exact"),
        "arm" | "disarm" if n <= 13 => Some("exact"),
        "st-gumbel" | "gumbel-rao" => Some("quadrature"),
        "concrete" | "rebar" if n == 1 => Some("quadrature"),
        _ => None,
    }
}

fn settings(key: &str, n: usize) -> Vec<HyperParams> {
    let base = hp(0.5, 2);
    match key {
        "st-tempered" => vec![base, hp(2.0, 2)],
        "reinmax" => vec![base, hp(1.0, 2), hp(2.0, 2)],
        "gapped-st" => {
            vec![base, HyperParams { tau: 2.0, gap: 0.25, ..base }, HyperParams { tau: 0.25, gap: 3.0, ..base }]
        }
        "concrete" | "st-gumbel" => vec![base, hp(1.0, 2)],
        "gumbel-rao" => vec![HyperParams { k: None, ..base }, hp(1.0, 3)],
        "rebar" => vec![HyperParams::default(), HyperParams { eta: -0.7, lambda: 0.25, ..base }],
        "reinforce-loo" if n <= 3 => vec![base, hp(0.5, 3)],
        _ => vec![base],
    }
}

/// My reference for the encoder part of an estimator on an elbo model: its moments on `f = g` with
/// my exact `∇(−H)` added to the mean (the entropy part adds no variance).
fn reference(net: &Net, bf_g: &BruteExact, key: &str, h: HyperParams) -> Moments {
    let mut m = match key {
        k if JOINT_KEYS.contains(&k) => joint_moments(net, bf_g, key, h.tau, h.gap),
        "reinforce-loo" => loo_moments(net, h.k.unwrap() as usize),
        "arm" | "disarm" => cell_moments(net, key),
        "ar" => uniform_moments(net, "ar"),
        "st-gumbel" => st_gumbel_factorised(net, h.tau),
        "gumbel-rao" => gumbel_rao_moments(net, h.tau, h.k.unwrap_or(10) as usize),
        "concrete" => relaxation_moments_tensor(net, h.tau, false, (4.0 * h.tau).min(2.0), 16),
        "rebar" => rebar_moments_tensor(net, h.eta, h.lambda, (4.0 * h.lambda).min(2.0), 12),
        _ => panic!("no reference for {key}"),
    };
    for (mt, e) in m.mean.iter_mut().zip(neg_entropy_grad(net)) {
        *mt += e;
    }
    m
}

/// An unbiased estimator's mean against `∇(−ELBO)` (mine), with the enumeration's rounding floor.
fn check_unbiased(what: &str, mean: &[f64], var: &[f64], bf: &BruteElbo, sc: &ScoreScales) {
    let tr: f64 = var.iter().sum();
    let e = diff_norm(mean, &bf.encoder);
    let floor = 1e-13 * norm(&bf.encoder_abs) + 16.0 * f64::EPSILON * sc.fmax * norm(&sc.abs_s);
    let bound = EXACT_TOL * (norm(&bf.encoder) + tr.sqrt()) + floor + 1e-300;
    assert!(
        e <= bound,
        "{what}: mean differs from ∇(−ELBO) by {e:e} (bound {bound:e})\n mean {mean:?}\n grad {:?}",
        bf.encoder
    );
}

fn check_exact_moments(net: &Net) {
    let (model, sol, _) = engine(net);
    let bf_g = brute_exact(net);
    let bf = brute_elbo(net);
    let sc = score_scales(net);
    let n = net.units();
    let mut covered = 0;
    for e in registry() {
        let key = e.meta().key;
        let Some(method) = exact_method(key, n) else { continue };
        for h in settings(key, n) {
            let what = format!("{key} ({}) on {}", show(&h), net.describe());
            let rep = run(&model, &sol, key, h, MethodChoice::Exact).unwrap_or_else(|err| panic!("{what}: {err}"));
            assert_eq!(rep.method.key(), method, "{what}: method");
            let reference = reference(net, &bf_g, key, h);
            let tol = if method == "quadrature" { QUAD_TOL } else { EXACT_TOL };
            check_moments(&what, &rep, &reference, tol, &sc);
            if UNBIASED.contains(&key) {
                check_unbiased(&what, &rep.mean, &rep.variance, &bf, &sc);
                check_unbiased(&format!("{what} [reference]"), &reference.mean, &reference.var, &bf, &sc);
            }
            covered += 1;
        }
    }
    assert!(covered >= 20, "{}: only {covered} estimator settings covered", net.describe());
}

#[test]
fn exact_moments_of_the_estimators_match_brute_force() {
    for net in random_models() {
        check_exact_moments(&net);
    }
}

#[test]
fn exact_moments_at_saturated_logits_match_brute_force() {
    for net in saturated_models() {
        check_exact_moments(&net);
    }
}

#[test]
fn monte_carlo_means_include_the_entropy_gradient() {
    // The sampled path: every draw's encoder gradient is its estimate of ∇E[g] plus the exact
    // ∇(−H), so the Monte-Carlo mean must approach my reference mean (within 4.5 of the report's own
    // standard errors per entry; fixed seed).
    // one model per k = 1, 2, 3, 4
    let nets: Vec<Net> =
        random_models().into_iter().enumerate().filter(|(i, _)| [0, 3, 6, 8].contains(i)).map(|(_, n)| n).collect();
    for net in nets {
        let (model, sol, _) = engine(&net);
        let bf_g = brute_exact(&net);
        let bf = brute_elbo(&net);
        for key in ["reinforce", "reinforce-loo", "arm", "st-sigmoid", "relax"] {
            let h = if key == "relax" { HyperParams::default() } else { hp(0.5, 2) };
            let what = format!("{key} Monte Carlo on {}", net.describe());
            let rep = run(&model, &sol, key, h, MethodChoice::MonteCarlo).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(rep.method.key(), "monte-carlo", "{what}");
            let target = if key == "relax" { bf.encoder.clone() } else { reference(&net, &bf_g, key, h).mean };
            let se = rep.stderr.as_ref().expect("Monte Carlo reports standard errors");
            for t in 0..target.len() {
                assert!(rep.mean[t].is_finite() && se[t].is_finite(), "{what}: non-finite");
                let tol = 4.5 * se[t] + 1e-12 * (target[t].abs() + rep.mean[t].abs()) + 1e-300;
                assert!(
                    (rep.mean[t] - target[t]).abs() <= tol,
                    "{what}: entry {t}: MC mean {} vs {} ({:.2} standard errors)",
                    rep.mean[t],
                    target[t],
                    (rep.mean[t] - target[t]).abs() / se[t]
                );
            }
        }
    }
}

// ================================================================================================
// 4. Refusals
// ================================================================================================

fn nums(v: &[f64]) -> String {
    format!("[{}]", v.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>().join(", "))
}

fn rows(n: usize, len: usize, val: f64) -> String {
    format!("[{}]", vec![nums(&vec![val; len]); n].join(", "))
}

/// A MODEL.json text: input, one encoder layer of width `k` (over `input.len()` inputs) unless
/// `layers` is given, and the loss object.
fn text(input: &[f64], layers: Option<String>, loss: &str) -> String {
    let layers = layers.unwrap_or_else(|| {
        let k = 2;
        format!(r#"[{{"weights": {}, "bias": {}}}]"#, rows(k, input.len(), 0.25), nums(&vec![-0.5; k]))
    });
    format!(r#"{{"input": {}, "layers": {layers}, "loss": {loss}}}"#, nums(input))
}

fn elbo_loss(d: usize, row_len: usize, bias_len: usize, prior_len: Option<usize>) -> String {
    let prior = prior_len.map_or(String::new(), |l| format!(r#", "prior": {}"#, nums(&vec![0.125; l])));
    format!(
        r#"{{"kind": "elbo", "decoder": {{"weights": {}, "bias": {}}}{prior}}}"#,
        rows(d, row_len, 0.5),
        nums(&vec![-0.25; bias_len])
    )
}

fn refused(what: &str, json: &str, names: &[&str]) {
    match Model::from_json_str(json) {
        Ok(_) => panic!("{what}: accepted\n{json}"),
        Err(e) => {
            let msg = e.to_string();
            assert!(names.iter().all(|n| msg.contains(n)), "{what}: the message {msg:?} does not name {names:?}");
        }
    }
}

#[test]
fn malformed_elbo_models_are_refused_naming_the_field() {
    let x = [1.0, 0.0, 1.0];
    let ok = text(&x, None, &elbo_loss(3, 2, 3, Some(2)));
    Model::from_json_str(&ok).unwrap_or_else(|e| panic!("the base model must parse: {e}\n{ok}"));
    for bad in [[0.5, 0.0, 1.0], [2.0, 0.0, 1.0], [-1.0, 0.0, 1.0]] {
        refused(&format!("input {bad:?}"), &text(&bad, None, &elbo_loss(3, 2, 3, Some(2))), &["input"]);
    }
    let two_layers = format!(
        r#"[{{"weights": {}, "bias": [0.0, 0.0]}}, {{"weights": {}, "bias": [0.0, 0.0]}}]"#,
        rows(2, 3, 0.25),
        rows(2, 2, 0.25)
    );
    refused("two layers", &text(&x, Some(two_layers), &elbo_loss(3, 2, 3, Some(2))), &["layers"]);
    refused("2 decoder rows for 3 inputs", &text(&x, None, &elbo_loss(2, 2, 3, Some(2))), &["decoder", "weights"]);
    refused("4 decoder rows for 3 inputs", &text(&x, None, &elbo_loss(4, 2, 3, Some(2))), &["decoder", "weights"]);
    refused("decoder rows of 3 for 2 units", &text(&x, None, &elbo_loss(3, 3, 3, Some(2))), &["decoder", "weights"]);
    refused("decoder rows of 1 for 2 units", &text(&x, None, &elbo_loss(3, 1, 3, Some(2))), &["decoder", "weights"]);
    refused("decoder bias of 2 for 3 inputs", &text(&x, None, &elbo_loss(3, 2, 2, Some(2))), &["decoder", "bias"]);
    refused("decoder bias of 4 for 3 inputs", &text(&x, None, &elbo_loss(3, 2, 4, Some(2))), &["decoder", "bias"]);
    refused("prior of 3 for 2 units", &text(&x, None, &elbo_loss(3, 2, 3, Some(3))), &["prior"]);
    refused("prior of 1 for 2 units", &text(&x, None, &elbo_loss(3, 2, 3, Some(1))), &["prior"]);
    refused("missing prior", &text(&x, None, &elbo_loss(3, 2, 3, None)), &["prior"]);
    refused("missing decoder", &text(&x, None, r#"{"kind": "elbo", "prior": [0.0, 0.0]}"#), &["decoder"]);
    // 16 latent units are accepted, 17 refused.
    let wide = |k: usize| {
        let layer = format!(r#"[{{"weights": {}, "bias": {}}}]"#, rows(k, 3, 0.25), nums(&vec![0.0; k]));
        text(&x, Some(layer), &elbo_loss(3, k, 3, Some(k)))
    };
    Model::from_json_str(&wide(16)).unwrap_or_else(|e| panic!("16 latent units must parse: {e}"));
    refused("17 latent units", &wide(17), &["layers", "16"]);
    // The encoder's units must be binary.
    let sts = format!(r#"[{{"weights": {}, "bias": [0.0, 0.0], "unit": "sts"}}]"#, rows(2, 3, 0.25));
    refused("sts latent units", &text(&x, Some(sts), &elbo_loss(3, 2, 3, Some(2))), &["unit"]);
}
