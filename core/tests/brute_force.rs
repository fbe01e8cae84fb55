//! Independent brute-force reference suite: the fast engine against formulas written directly from
//! the maths (see `common/mod.rs`, which shares no code with the engine beyond parsing MODEL.json).
//!
//! * exact `E[f]`, `∇θ E[f]` and Bengio's `L̄_i` by joint enumeration, and `∇` against central finite
//!   differences of the brute-force `E[f]`;
//! * every estimator's exact (or quadrature) mean and variance, per parameter entry;
//! * Monte Carlo (fixed seeds) against the exact figures, with tolerances derived from the sampling
//!   distribution;
//! * identities (st-tempered at τ = 1 = st-sigmoid, ReinMax at τ = 1 = DARN, Gumbel-Rao's mean =
//!   ST-Gumbel's with the law of total variance in K, AR = REINFORCE + noise, DisARM = U2G,
//!   zero-variance optimal baseline), saturated logits and wide layers;
//! * the running estimators that learn (RELAX, the learned predictor): Monte-Carlo means against the
//!   exact gradient (RELAX) or determinism and self-consistent figures (the learned predictor).
//!
//! Tolerance rule for exact figures (engine vs brute force), both sums in floating point:
//! `‖m_engine − m_ref‖ ≤ tol·(‖m_ref‖ + √tr Var)`, `‖v_engine − v_ref‖ ≤ tol·E‖ĝ‖²`, with
//! `tol = 1e−10` for enumerations and `1e−8` where either side integrates continuous noise, plus
//! rounding floors of order ε·max|f| that only matter when the figures are many orders of
//! magnitude below the loss (saturated logits; see `check_moments`). Monte-Carlo tolerances are
//! derived from the exact sampling distribution (see `check_mc_mean`, `check_mc_variance`).
//!
//! Run: `cargo test -p stochgrad-core --test brute_force` (about 10 s on two cores in the test
//! profile).

mod common;

use common::*;
use stochgrad_core::estimators::{find, registry, HyperParams};
use stochgrad_core::exact::{solve, ExactSolution};
use stochgrad_core::moments::{moments, MethodChoice, Report, Request};
use stochgrad_core::{Error, Model};

const MC_SAMPLES: u64 = 40_000;
const MC_SEED: u64 = 20_240_531;

const WIDTHS: &[&[usize]] = &[&[1], &[2], &[3], &[1, 1], &[2, 2], &[2, 1, 2]];

/// The random models: every width pattern × every loss kind, non-empty inputs of length 1–3.
fn random_models() -> Vec<Net> {
    let mut out = Vec::new();
    for (wi, widths) in WIDTHS.iter().enumerate() {
        for (ki, kind) in LOSS_KINDS.iter().enumerate() {
            let mut rng = XorShift::new(7_919 * (wi as u64 + 1) + 104_729 * (ki as u64 + 1));
            out.push(Net::random(&mut rng, 1 + (wi + ki) % 3, widths, kind));
        }
    }
    out
}

/// Models with saturated logits (|a| = 30 exactly: zero weights into those units, bias ±30).
fn saturated_models() -> Vec<Net> {
    let mut out = Vec::new();
    for (ki, kind) in LOSS_KINDS.iter().enumerate() {
        // one layer of 3: a = (30, −30, moderate)
        let mut rng = XorShift::new(555 + ki as u64);
        let mut n = Net::random(&mut rng, 2, &[3], kind);
        n.w[0][0] = vec![0.0, 0.0];
        n.w[0][1] = vec![0.0, 0.0];
        n.c[0][0] = 30.0;
        n.c[0][1] = -30.0;
        out.push(n);
        // two layers (2, 2): layer 1 saturated at ±30; layer 2 unit 0 saturated given any input
        let mut n = Net::random(&mut rng, 1, &[2, 2], kind);
        n.w[0][0] = vec![0.0];
        n.w[0][1] = vec![0.0];
        n.c[0] = vec![-30.0, 30.0];
        n.w[1][0] = vec![0.0, 0.0];
        n.c[1][0] = 30.0;
        out.push(n);
        // single units at ±30 (for the relaxations' quadrature)
        for a in [30.0, -30.0] {
            let mut n = Net::random(&mut rng, 1, &[1], kind);
            n.w[0][0] = vec![0.0];
            n.c[0][0] = a;
            out.push(n);
        }
    }
    out
}

fn run(model: &Model, sol: &ExactSolution, key: &str, h: HyperParams, method: MethodChoice) -> Result<Report, Error> {
    let req = Request { hp: h, method, samples: MC_SAMPLES, seed: MC_SEED };
    moments(model, sol, find(key).unwrap(), &req, &mut |_, _| true)
}

const NEEDS_DF: [&str; 13] = [
    "muprop",
    "st",
    "st-sigmoid",
    "st-tempered",
    "concrete",
    "st-gumbel",
    "darn",
    "reinmax",
    "gapped-st",
    "gumbel-rao",
    "rebar",
    "relax",
    "learned-predictor",
];
const STATEFUL: [&str; 4] = ["reinforce-ma", "reinforce-optimal", "relax", "learned-predictor"];
/// Unit types (a different network, compared on its own objective): checked against their own
/// brute-force objectives in `units.rs`, not against the binary network's gradient here. Both need
/// ∂f/∂h; `noisy-rectifier` is unbiased for its own objective.
const UNIT_TYPES: [&str; 2] = ["sts", "noisy-rectifier"];

/// What the engine should do for (model, estimator), from the documented rules:
/// `None` = not applicable, else the method key of the best available computation.
fn expected_method(net: &Net, key: &str) -> Option<&'static str> {
    let (n, nl) = (net.units(), net.layers());
    if NEEDS_DF.contains(&key) && !net.loss.differentiable() {
        return None;
    }
    if matches!(key, "muprop" | "rebar" | "relax") && nl > 1 {
        return None;
    }
    let exact_if = |c: bool| if c { "exact" } else { "monte-carlo" };
    let quad_if = |c: bool| if c { "quadrature" } else { "monte-carlo" };
    Some(match key {
        "reinforce" | "reinforce-ma" | "reinforce-optimal" | "reinforce-loo" | "st" | "st-sigmoid" | "st-tempered"
        | "muprop" | "ar" | "darn" | "reinmax" | "gapped-st" => exact_if(n <= 20),
        "local-expectation" => exact_if(nl == 1 && n <= 20),
        "arm" | "disarm" => exact_if(nl == 1 && n <= 13),
        "concrete" => quad_if(n == 1),
        "st-gumbel" | "gumbel-rao" => quad_if(nl == 1 && n <= 20),
        "rebar" => quad_if(n == 1),
        "relax" | "learned-predictor" => "monte-carlo",
        _ => panic!("unknown estimator {key}"),
    })
}

/// An unbiased estimator's exact mean against the brute-force gradient, by the same rule, with the
/// brute-force sum's own rounding floor (1e−13 × its scale Σ_s p|f ∂θ log p|, as in the gradient
/// test) and the baselines' rounding floor of `check_moments`.
fn check_unbiased(what: &str, mean: &[f64], var: &[f64], bf: &BruteExact, sc: &ScoreScales, tol: f64) {
    let grad = &bf.grad;
    let tr: f64 = var.iter().sum();
    let e = diff_norm(mean, grad);
    let floor = 1e-13 * norm(&bf.abs) + 16.0 * f64::EPSILON * sc.fmax * norm(&sc.abs_s);
    let bound = tol * (norm(grad) + tr.sqrt()) + floor + 1e-300;
    assert!(e <= bound, "{what}: exact mean differs from ∇ by {e:e} (bound {bound:e})\n mean {mean:?}\n grad {grad:?}");
}

// ================================================================================================
// 1. E[f], ∇ and L̄
// ================================================================================================

fn check_exact_solution(net: &Net) {
    let what = net.describe();
    let model = net.model();
    let sol = solve(&model).unwrap();
    let bf = brute_exact(net);
    // E[f]: both are sums of 2^n positive-weighted terms.
    let e = (sol.expected_loss - bf.expected_loss).abs();
    assert!(e <= 1e-12 * bf.expected_loss.abs() + 1e-300, "{what}: E[f] {} vs {}", sol.expected_loss, bf.expected_loss);
    // ∇: 1e−12 relative in norm, and per entry within 1e−10 relative plus 1e−13 × the entry's rounding
    // scale Σ_s p(s)|f(s) ∂θ log p(s)| (a sum of 2^n terms cannot be trusted beyond n·ε times that).
    let d = diff_norm(&sol.gradient, &bf.grad);
    assert!(
        d <= 1e-12 * norm(&bf.grad) + 1e-13 * norm(&bf.abs),
        "{what}: ‖∇ − ∇_bf‖ = {d:e}\n engine {:?}\n brute  {:?}",
        sol.gradient,
        bf.grad
    );
    for t in 0..bf.grad.len() {
        let e = (sol.gradient[t] - bf.grad[t]).abs();
        assert!(
            e <= 1e-10 * bf.grad[t].abs() + 1e-13 * bf.abs[t],
            "{what}: ∇[{t}] = {} vs brute force {} (scale {})",
            sol.gradient[t],
            bf.grad[t],
            bf.abs[t]
        );
    }
    // Bengio's L̄ and its denominator E[(h − σ)²].
    for k in 0..net.layers() {
        for i in 0..net.c[k].len() {
            let (le, lb) = (sol.optimal_baseline[k][i], bf.lbar[k][i]);
            assert!((le - lb).abs() <= 1e-11 * (lb.abs() + bf.expected_loss.abs()), "{what}: L̄[{k}][{i}] {le} vs {lb}");
            let (se, sb) = (sol.score_second_moment[k][i], bf.s2[k][i]);
            assert!((se - sb).abs() <= 1e-12 * sb, "{what}: E[(h−σ)²][{k}][{i}] {se} vs {sb}");
        }
    }
}

#[test]
fn exact_gradient_matches_brute_force_enumeration() {
    for net in random_models().iter().chain(&saturated_models()) {
        check_exact_solution(net);
    }
}

#[test]
fn brute_force_gradient_matches_finite_differences() {
    // Central differences of the brute-force E[f] with step 1e−5: truncation ≈ h²/6·|∂³E[f]| ≲ 1e−10
    // and rounding ≈ ε|E[f]|/h ≈ 2e−11·|E[f]|, so 1e−7 relative leaves a wide margin. The engine's
    // ∇ equals the enumerated one to 1e−12 (previous test), so this ties the engine to the definition
    // of the derivative, independently of the score-function identity.
    let h = 1e-5;
    for net in random_models() {
        let bf = brute_exact(&net);
        let sol = solve(&net.model()).unwrap();
        let th = net.params();
        let gmax = bf.grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        for t in 0..th.len() {
            let mut plus = net.clone();
            let mut p = th.clone();
            p[t] += h;
            plus.set_params(&p);
            let mut minus = net.clone();
            p[t] -= 2.0 * h;
            minus.set_params(&p);
            let fd = (brute_expected_loss(&plus) - brute_expected_loss(&minus)) / (2.0 * h);
            let tol = 1e-7 * gmax + 1e-9 * bf.expected_loss.abs();
            assert!(
                (fd - bf.grad[t]).abs() <= tol,
                "{}: ∂/∂θ[{t}] finite difference {fd} vs {}",
                net.describe(),
                bf.grad[t]
            );
            assert!(
                (fd - sol.gradient[t]).abs() <= tol,
                "{}: ∂/∂θ[{t}] finite difference {fd} vs engine {}",
                net.describe(),
                sol.gradient[t]
            );
        }
    }
}

// ================================================================================================
// 2. Applicability and methods
// ================================================================================================

#[test]
fn applicability_and_methods_follow_the_documented_rules() {
    // The registry's static descriptions.
    let keys: Vec<&str> = registry().iter().map(|e| e.meta().key).collect();
    assert_eq!(
        keys,
        [
            "reinforce",
            "reinforce-ma",
            "reinforce-optimal",
            "reinforce-loo",
            "arm",
            "disarm",
            "local-expectation",
            "muprop",
            "st",
            "st-sigmoid",
            "st-tempered",
            "concrete",
            "st-gumbel",
            "ar",
            "darn",
            "reinmax",
            "gapped-st",
            "gumbel-rao",
            "rebar",
            "relax",
            "learned-predictor",
            "sts",
            "noisy-rectifier"
        ]
    );
    for e in registry() {
        let m = e.meta();
        let unbiased = UNBIASED.contains(&m.key) || m.key == "noisy-rectifier";
        assert_eq!(m.unbiased, unbiased, "{}: unbiased flag", m.key);
        let needs_df = NEEDS_DF.contains(&m.key) || UNIT_TYPES.contains(&m.key);
        assert_eq!(m.needs_loss_gradient, needs_df, "{}: needs_loss_gradient flag", m.key);
        assert_eq!(m.stateful, STATEFUL.contains(&m.key), "{}: stateful flag", m.key);
    }
    let mut nets = random_models();
    nets.extend(saturated_models());
    let mut rng = XorShift::new(99);
    for w in [13usize, 14, 20, 21] {
        nets.push(Net::random(&mut rng, 1, &[w], "toy"));
        nets.push(Net::random(&mut rng, 1, &[w], "match"));
    }
    nets.push(Net::random(&mut rng, 2, &[10, 11], "readout"));
    for net in &nets {
        let model = net.model();
        let sol = solve(&model).unwrap();
        for e in registry().iter().filter(|e| !UNIT_TYPES.contains(&e.meta().key)) {
            let key = e.meta().key;
            let h = hp(0.5, 2);
            let what = format!("{key} on {}", net.describe());
            match expected_method(net, key) {
                None => {
                    for method in [MethodChoice::Auto, MethodChoice::Exact, MethodChoice::MonteCarlo] {
                        match run(&model, &sol, key, h, method) {
                            Err(Error::NotApplicable(_)) => {}
                            other => panic!("{what}: expected not applicable, got {:?}", other.map(|r| r.method)),
                        }
                    }
                }
                Some(m) => {
                    assert_eq!(e.plan(&model, &h).method.key(), m, "{what}: plan");
                    if m == "monte-carlo" {
                        match run(&model, &sol, key, h, MethodChoice::Exact) {
                            Err(Error::NotApplicable(_)) | Err(Error::Limit(_)) => {}
                            other => panic!("{what}: an exact request must fail, got {:?}", other.map(|r| r.method)),
                        }
                    } else if net.units() <= 16 {
                        let r = run(&model, &sol, key, h, MethodChoice::Exact)
                            .unwrap_or_else(|err| panic!("{what}: {err}"));
                        assert_eq!(r.method.key(), m, "{what}: report method");
                    }
                }
            }
        }
    }
}

// ================================================================================================
// 3. Exact moments of every estimator
// ================================================================================================

/// The independent reference moments for an exact/quadrature figure of the engine.
fn exact_reference(net: &Net, bf: &BruteExact, key: &str, h: HyperParams) -> Moments {
    match key {
        "reinforce-loo" => loo_moments(net, h.k.unwrap() as usize),
        "arm" | "disarm" => cell_moments(net, key),
        "ar" => uniform_moments(net, "ar"),
        "gumbel-rao" => gumbel_rao_moments(net, h.tau, h.k.unwrap_or(10) as usize),
        // 2-D tensor quadrature over both noises (12-point panels, of width ≤ 4λ near the flip in L_u)
        "rebar" => rebar_moments_tensor(net, h.eta, h.lambda, (4.0 * h.lambda).min(2.0), 12),
        "concrete" => relaxation_moments_tensor(net, h.tau, false, (4.0 * h.tau).min(2.0), 16),
        // (the factorised form is checked against full tensor quadrature in
        // st_gumbel_tensor_quadrature_agrees_with_factorised_form)
        "st-gumbel" => st_gumbel_factorised(net, h.tau),
        _ => joint_moments(net, bf, key, h.tau, h.gap),
    }
}

fn check_all_exact_moments(net: &Net) {
    let model = net.model();
    let sol = solve(&model).unwrap();
    let bf = brute_exact(net);
    let sc = score_scales(net);
    for e in registry().iter().filter(|e| !UNIT_TYPES.contains(&e.meta().key)) {
        let key = e.meta().key;
        let Some(method) = expected_method(net, key) else { continue };
        if method == "monte-carlo" {
            continue;
        }
        let mut settings = vec![hp(0.5, 2)];
        match key {
            "st-tempered" => settings.push(hp(2.0, 2)),
            "concrete" | "st-gumbel" => settings.extend([hp(1.0, 2), hp(0.25, 2)]),
            "reinmax" => settings.extend([hp(1.0, 2), hp(2.0, 2)]),
            "gapped-st" => settings.extend([
                HyperParams { tau: 2.0, gap: 0.25, ..hp(0.5, 2) },
                HyperParams { tau: 0.25, gap: 3.0, ..hp(0.5, 2) },
                HyperParams { gap: 0.0, ..hp(0.5, 2) },
            ]),
            "gumbel-rao" => {
                settings = vec![HyperParams { k: None, ..hp(0.5, 2) }, hp(1.0, 3), hp(0.25, 64)];
            }
            "rebar" => settings.extend([
                HyperParams { eta: 0.3, lambda: 1.0, ..hp(0.5, 2) },
                HyperParams { eta: -0.7, lambda: 0.25, ..hp(0.5, 2) },
            ]),
            "reinforce-loo" => {
                if net.units() <= 5 {
                    settings.push(hp(0.5, 3));
                }
                if net.units() <= 3 {
                    settings.push(hp(0.5, 4));
                }
            }
            _ => {}
        }
        for h in settings {
            let what = format!("{key} ({}) on {}", show(&h), net.describe());
            let rep = run(&model, &sol, key, h, MethodChoice::Exact).unwrap_or_else(|err| panic!("{what}: {err}"));
            assert_eq!(rep.method.key(), method, "{what}");
            let reference = exact_reference(net, &bf, key, h);
            let tol = if method == "quadrature" { QUAD_TOL } else { EXACT_TOL };
            check_moments(&what, &rep, &reference, tol, &sc);
            if UNBIASED.contains(&key) {
                check_unbiased(&what, &rep.mean, &rep.variance, &bf, &sc, EXACT_TOL);
                // and the reference itself (my formulas are unbiased too)
                check_unbiased(&format!("{what} [reference]"), &reference.mean, &reference.var, &bf, &sc, EXACT_TOL);
            }
        }
    }
}

#[test]
fn exact_moments_of_every_estimator_match_brute_force() {
    for net in random_models() {
        check_all_exact_moments(&net);
    }
}

/// Models whose loss takes the multilinear extension (toy, readout, softmax; one and two layers).
fn multilinear_models() -> Vec<Net> {
    let mut out = Vec::new();
    for (wi, widths) in [&[1][..], &[3], &[2, 2]].iter().enumerate() {
        for (ki, kind) in ["toy", "readout", "softmax"].iter().enumerate() {
            let mut rng = XorShift::new(31_337 * (wi as u64 + 1) + 7 * (ki as u64 + 1));
            let mut net = Net::random(&mut rng, 1 + (wi + ki) % 2, widths, kind);
            net.loss = LossSpec::Multilinear(Box::new(net.loss));
            out.push(net);
        }
    }
    out
}

#[test]
fn exact_moments_with_the_multilinear_extension_match_brute_force() {
    // The extension changes every estimator that differentiates f or evaluates it at a relaxed y;
    // the brute force computes it from its definition (a sum over states), the engine in closed form.
    for net in multilinear_models() {
        let (model, curved) = (net.model(), Net { loss: LossSpec::Toy { target: vec![] }, ..net.clone() });
        assert_eq!(model.loss.extension(), Some(stochgrad_core::loss::Extension::Multilinear));
        // E[f] and ∇ only see the binary states: the same as with the curved extension.
        let LossSpec::Multilinear(base) = &net.loss else { unreachable!() };
        let plain = Net { loss: (**base).clone(), ..curved };
        let (a, b) = (solve(&model).unwrap(), solve(&plain.model()).unwrap());
        assert_eq!(a.expected_loss.to_bits(), b.expected_loss.to_bits(), "{}", net.describe());
        assert_eq!(a.gradient, b.gradient, "{}", net.describe());
        check_all_exact_moments(&net);
    }
}

#[test]
fn st_sigmoid_with_the_multilinear_extension_is_local_expectation_on_one_layer() {
    // With the extension affine in each unit, ∂f̃/∂h_i at a binary h is f(h_i = 1) − f(h_i = 0), so
    // ST × σ′ computes local expectation's estimate draw by draw: equal means and variances.
    for net in multilinear_models().into_iter().filter(|n| n.layers() == 1) {
        let model = net.model();
        let sol = solve(&model).unwrap();
        let st = run(&model, &sol, "st-sigmoid", hp(0.5, 2), MethodChoice::Exact).unwrap();
        let le = run(&model, &sol, "local-expectation", hp(0.5, 2), MethodChoice::Exact).unwrap();
        for t in 0..st.mean.len() {
            let s = le.mean[t].abs() + le.variance[t].sqrt() + 1e-300;
            assert!(
                (st.mean[t] - le.mean[t]).abs() <= 1e-13 * s,
                "{}: {} vs {}",
                net.describe(),
                st.mean[t],
                le.mean[t]
            );
            assert!((st.variance[t] - le.variance[t]).abs() <= 1e-13 * s * s, "{}", net.describe());
        }
        // With the curved extension of the same loss they differ (the toy's bias is σ′(a)(2σ(a) − 1)).
        let LossSpec::Multilinear(base) = &net.loss else { unreachable!() };
        let plain = Net { loss: (**base).clone(), ..net.clone() }.model();
        let curved = run(&plain, &sol, "st-sigmoid", hp(0.5, 2), MethodChoice::Exact).unwrap();
        let gap: f64 = curved.mean.iter().zip(&le.mean).map(|(a, b)| (a - b).abs()).sum();
        assert!(gap > 1e-6, "{}: the curved extension should differ", net.describe());
    }
}

#[test]
fn own_quadrature_is_exact_where_it_must_be() {
    // m-point Gauss–Legendre integrates degree 2m − 1 exactly.
    for m in [3usize, 8, 12, 16] {
        let gl = gauss_legendre(m);
        for d in 0..2 * m {
            let v: f64 = gl.iter().map(|(x, w)| w * x.powi(d as i32)).sum();
            let exact = if d % 2 == 1 { 0.0 } else { 2.0 / (d as f64 + 1.0) };
            assert!((v - exact).abs() < 1e-14, "GL{m}: ∫x^{d} = {v}, not {exact}");
        }
    }
    // The logistic rule: total mass 1, E[L] = 0, E[L²] = π²/3, E[1[L > −a]] = σ(a) (a jump).
    for (step, m) in [(0.25, 12), (2.0, 16), (2.0, 8)] {
        let r = logistic_rule(&[-0.7], step, m);
        let mass: f64 = r.iter().map(|(_, w)| w).sum();
        let mean: f64 = r.iter().map(|(l, w)| w * l).sum();
        let sq: f64 = r.iter().map(|(l, w)| w * l * l).sum();
        let upper: f64 = r.iter().filter(|(l, _)| *l > -0.7).map(|(_, w)| w).sum();
        let tol = if m == 8 { 1e-8 } else { 1e-13 };
        assert!((mass - 1.0).abs() < tol && mean.abs() < tol, "{step}/{m}: {mass} {mean}");
        assert!((sq - std::f64::consts::PI.powi(2) / 3.0).abs() < 10.0 * tol, "{step}/{m}: {sq}");
        assert!((upper - sig(0.7)).abs() < tol, "{step}/{m}: {upper}");
    }
}

#[test]
fn single_layer_arm_cells_agree_with_generic_uniform_integration() {
    // Two independent integrations of mine: the 3 cells per unit of the reference, and the generic
    // cell decomposition used for deep networks.
    for net in random_models().into_iter().filter(|n| n.layers() == 1) {
        for kind in ["arm", "disarm"] {
            let a = cell_moments(&net, kind);
            let b = uniform_moments(&net, kind);
            for t in 0..a.mean.len() {
                assert!((a.mean[t] - b.mean[t]).abs() <= 1e-13 * (a.mean[t].abs() + a.var[t].sqrt()) + 1e-300);
                assert!((a.var[t] - b.var[t]).abs() <= 1e-12 * (a.var[t] + a.mean[t] * a.mean[t]) + 1e-300);
                assert!((a.m4[t] - b.m4[t]).abs() <= 1e-10 * (a.m4[t] + a.var[t] * a.var[t]) + 1e-300);
            }
        }
        let le = uniform_moments(&net, "local-expectation");
        let bf = brute_exact(&net);
        let joint = joint_moments(&net, &bf, "local-expectation", 1.0, 1.0);
        for t in 0..le.mean.len() {
            assert!((le.mean[t] - joint.mean[t]).abs() <= 1e-13 * (joint.mean[t].abs() + joint.var[t].sqrt()) + 1e-300);
            assert!((le.var[t] - joint.var[t]).abs() <= 1e-12 * (joint.var[t] + joint.mean[t].powi(2)) + 1e-300);
        }
    }
}

#[test]
fn st_gumbel_tensor_quadrature_agrees_with_factorised_form() {
    // Two independent integrations of mine for one layer of ≤ 2 units.
    for net in random_models().into_iter().filter(|n| n.layers() == 1 && n.units() <= 2 && n.loss.differentiable()) {
        let taus: &[f64] = if net.units() == 1 { &[0.25, 0.5, 1.0, 2.0] } else { &[0.5] };
        for &tau in taus {
            let a = relaxation_moments_tensor(&net, tau, true, (4.0 * tau).min(2.0), 16);
            let b = st_gumbel_factorised(&net, tau);
            for t in 0..a.mean.len() {
                let s = a.mean[t].abs() + a.var[t].sqrt();
                assert!((a.mean[t] - b.mean[t]).abs() <= 1e-10 * s, "{}: {a:?} vs {b:?}", net.describe());
                assert!((a.var[t] - b.var[t]).abs() <= 1e-10 * s * s, "{}: {a:?} vs {b:?}", net.describe());
            }
        }
    }
}

// ================================================================================================
// 4. Identities
// ================================================================================================

#[test]
fn st_tempered_at_tau_one_is_st_sigmoid() {
    for net in random_models().into_iter().filter(|n| n.loss.differentiable()) {
        let model = net.model();
        let sol = solve(&model).unwrap();
        let a = run(&model, &sol, "st-tempered", hp(1.0, 2), MethodChoice::Exact).unwrap();
        let b = run(&model, &sol, "st-sigmoid", hp(1.0, 2), MethodChoice::Exact).unwrap();
        // Equal up to rounding: the two code paths form σ(−a) as e/(1+e) and as e·(1/(1+e)), so the
        // per-state values agree to ~2 ulps, and the accumulated figures to a few ε·E|ĝ|
        // (E|ĝ| ≤ |mean| + sd). Not bit-identical (measured: up to 1.4e−14 relative to a mean).
        for t in 0..a.mean.len() {
            let s = a.mean[t].abs() + a.variance[t].sqrt();
            assert!((a.mean[t] - b.mean[t]).abs() <= 1e-15 * s, "{}: {} vs {}", net.describe(), a.mean[t], b.mean[t]);
            assert!((a.variance[t] - b.variance[t]).abs() <= 1e-15 * s * s, "{}", net.describe());
        }
    }
}

#[test]
fn reinmax_at_tau_one_is_darn() {
    // On Bernoulli units ReinMax's 2s(1 − s) − ½p(1 − p) at τ = 1 is (1 − p)/2 (h = 1) or p/2 (h = 0):
    // DARN's surrogate. Joint enumeration, every parameter, at every depth (saturated logits too).
    // The two are computed by different formulas ((1 + p)q/2 − pq/2 against q/2), so equal to a few
    // ulps per state, and the accumulated figures to a few ε·E|ĝ|.
    let nets = random_models().into_iter().chain(saturated_models()).filter(|n| n.loss.differentiable());
    for net in nets {
        let model = net.model();
        let sol = solve(&model).unwrap();
        let a = run(&model, &sol, "reinmax", hp(1.0, 2), MethodChoice::Exact).unwrap();
        let b = run(&model, &sol, "darn", hp(1.0, 2), MethodChoice::Exact).unwrap();
        assert_eq!((a.method.key(), b.method.key()), ("exact", "exact"));
        for t in 0..a.mean.len() {
            let s = a.mean[t].abs() + a.variance[t].sqrt();
            assert!((a.mean[t] - b.mean[t]).abs() <= 1e-14 * s, "{}: {} vs {}", net.describe(), a.mean[t], b.mean[t]);
            assert!((a.variance[t] - b.variance[t]).abs() <= 1e-14 * s * s, "{}", net.describe());
        }
    }
}

#[test]
fn gumbel_rao_has_st_gumbels_mean_and_total_variance_law() {
    // Single layer (quadrature): the same mean as ST-Gumbel for every K, and
    // Var(K) = Var[E[ĝ|h]] + E[Var[ĝ|h]]/K with ST-Gumbel as K = 1, per parameter.
    for net in random_models().into_iter().filter(|n| n.layers() == 1 && n.loss.differentiable()) {
        let model = net.model();
        let sol = solve(&model).unwrap();
        for tau in [0.25, 1.0] {
            let st = run(&model, &sol, "st-gumbel", hp(tau, 2), MethodChoice::Exact).unwrap();
            let gr = |k: u32| run(&model, &sol, "gumbel-rao", hp(tau, k), MethodChoice::Exact).unwrap();
            let (g2, g64) = (gr(2), gr(64));
            for t in 0..st.mean.len() {
                let s = st.mean[t].abs() + st.variance[t].sqrt();
                for g in [&g2, &g64] {
                    assert!((g.mean[t] - st.mean[t]).abs() <= 1e-14 * s, "{}: mean", net.describe());
                }
                // E[Var | h] from K = 2, then K = 64 predicted.
                let within = 2.0 * (st.variance[t] - g2.variance[t]);
                let expected = st.variance[t] - within * (1.0 - 1.0 / 64.0);
                assert!(within >= -1e-14 * s * s, "{}: negative within-state variance", net.describe());
                assert!((g64.variance[t] - expected).abs() <= 1e-12 * s * s, "{}: Var(64)", net.describe());
            }
        }
    }
}

#[test]
fn ar_is_reinforce_plus_noise() {
    // E[1 − 2u | h] = h − σ(a): AR's exact mean is REINFORCE's (the exact gradient) at every depth,
    // and its variance is REINFORCE's plus E[f²ℓ²/3]·x² ≥ it.
    for net in random_models() {
        let model = net.model();
        let sol = solve(&model).unwrap();
        let ar = run(&model, &sol, "ar", hp(0.5, 2), MethodChoice::Exact).unwrap();
        let re = run(&model, &sol, "reinforce", hp(0.5, 2), MethodChoice::Exact).unwrap();
        for t in 0..ar.mean.len() {
            let s = re.mean[t].abs() + re.variance[t].sqrt();
            assert!((ar.mean[t] - re.mean[t]).abs() <= 1e-13 * s + 1e-300, "{}", net.describe());
            assert!(ar.variance[t] >= re.variance[t] * (1.0 - 1e-12), "{}", net.describe());
        }
    }
}

#[test]
fn disarm_is_u2g_and_the_conditional_expectation_of_arm() {
    // The engine's DisARM exact moments against U2G written independently,
    // G = (f(E1) − f(E2))(E1 − E2) max(σ, 1 − σ)/2, E1 = 1[u > σ(−a)], E2 = 1[u < σ(a)]
    // (cell_moments), and its mean against E[ARM] (the cells' conditional expectations of ARM
    // integrate to the same mean as ARM itself), on single-layer models including saturated ones
    // and a = 0 exactly (where DisARM has zero variance for one unit).
    let mut nets: Vec<Net> =
        random_models().into_iter().chain(saturated_models()).filter(|n| n.layers() == 1).collect();
    for kind in LOSS_KINDS {
        let mut rng = XorShift::new(4242);
        let mut n = Net::random(&mut rng, 1, &[1], kind);
        n.w[0][0] = vec![0.0];
        n.c[0][0] = 0.0;
        nets.push(n);
    }
    for net in &nets {
        let model = net.model();
        let sol = solve(&model).unwrap();
        let dis = run(&model, &sol, "disarm", hp(0.5, 2), MethodChoice::Exact).unwrap();
        let arm = run(&model, &sol, "arm", hp(0.5, 2), MethodChoice::Exact).unwrap();
        let u2g = cell_moments(net, "disarm");
        check_moments(&format!("disarm vs U2G on {}", net.describe()), &dis, &u2g, EXACT_TOL, &score_scales(net));
        let sc = score_scales(net);
        let e = diff_norm(&dis.mean, &arm.mean);
        let bound = EXACT_TOL * (norm(&arm.mean) + arm.variance.iter().sum::<f64>().sqrt())
            + 16.0 * f64::EPSILON * sc.fmax * norm(&sc.abs_s);
        assert!(e <= bound, "disarm vs arm mean on {}: {e:e} > {bound:e}", net.describe());
        // Rao-Blackwellisation never increases the variance.
        for t in 0..dis.variance.len() {
            assert!(dis.variance[t] <= arm.variance[t] * (1.0 + 1e-12) + 1e-300, "{}", net.describe());
        }
        if net.units() == 1 && net.c[0][0] == 0.0 {
            assert!(
                dis.variance.iter().all(|v| *v <= 1e-30),
                "{}: DisARM at a = 0 must have zero variance",
                net.describe()
            );
        }
    }
}

#[test]
fn optimal_baseline_has_zero_variance_for_one_unit() {
    // With one unit, (h − σ)(f(h) − L̄) = σ(1−σ)(f(1) − f(0)) for both h: the idealised estimator is
    // a constant, at any logit.
    for kind in LOSS_KINDS {
        for a in [-30.0, -7.5, -1.0, 0.0, 0.375, 2.0, 12.0, 30.0] {
            let mut rng = XorShift::new(31);
            let mut net = Net::random(&mut rng, 2, &[1], kind);
            net.w[0][0] = vec![0.5, -0.25];
            net.c[0][0] = a - (0.5 * net.x[0] - 0.25 * net.x[1]);
            let model = net.model();
            let sol = solve(&model).unwrap();
            let r = run(&model, &sol, "reinforce-optimal", hp(0.5, 2), MethodChoice::Exact).unwrap();
            let bf = brute_exact(&net);
            // Up to rounding: f − L̄ carries an absolute error ≈ ε·max|f|, so the two values of
            // (h − σ)(f − L̄) may differ by a few ε·max|f|·|∂θ a|, and the standard deviation is at
            // most that times √(σ(1−σ)) (= √E[(h − σ)²]).
            let fmax = net.f(&[0.0]).abs().max(net.f(&[1.0]).abs());
            let s2 = bf.s2[0][0];
            for t in 0..r.mean.len() {
                let da = if t < 2 { net.x[t].abs() } else { 1.0 };
                let floor = 8.0 * f64::EPSILON * fmax * da * s2.sqrt();
                assert!(
                    r.variance[t].sqrt() <= 1e-12 * r.mean[t].abs() + floor,
                    "{kind}, a = {a}: variance {:?}, mean {:?}",
                    r.variance,
                    r.mean
                );
                assert!((r.mean[t] - bf.grad[t]).abs() <= 1e-12 * bf.grad[t].abs() + 1e-300, "{kind}, a = {a}");
            }
        }
    }
}

// ================================================================================================
// 5. Saturated logits and wide layers
// ================================================================================================

#[test]
fn saturated_logits_give_finite_correct_figures() {
    for net in saturated_models() {
        // (the exact gradient and L̄ are checked in exact_gradient_matches_brute_force_enumeration)
        check_all_exact_moments(&net);
        // a tiny gradient entry is still accurate relative to itself: ∂E/∂c of a unit at ±30 is
        // σ(30)σ(−30)(E[f|1] − E[f|0]) ≈ 9.4e−14·Δ
        let sol = solve(&net.model()).unwrap();
        let bf = brute_exact(&net);
        for k in 0..net.layers() {
            for i in 0..net.c[k].len() {
                let t = net.c_idx(k, i);
                // (only where the value is well above the rounding floor of sums of O(f) terms;
                // e.g. with the match loss E[f|1] − E[f|0] can be ~1e−26, below any f64 resolution)
                if bf.grad[t].abs() < 1e-10 && bf.grad[t].abs() > 1e-6 * bf.abs[t] {
                    assert!(
                        (sol.gradient[t] - bf.grad[t]).abs() <= 1e-9 * bf.grad[t].abs(),
                        "{}: ∂/∂c[{k}][{i}]",
                        net.describe()
                    );
                }
            }
        }
    }
}

#[test]
fn wide_layers_match_brute_force() {
    let mut rng = XorShift::new(1_000_003);
    for (w, kind) in [(16usize, "toy"), (16, "softmax"), (14, "match"), (11, "readout")] {
        let net = Net::random(&mut rng, 2, &[w], kind);
        let model = net.model();
        let sol = solve(&model).unwrap();
        check_exact_solution(&net);
        let bf = brute_exact(&net);
        let sc = score_scales(&net);
        let mut keys = vec!["reinforce", "reinforce-optimal", "local-expectation"];
        if net.loss.differentiable() {
            keys.extend(["st-sigmoid", "muprop", "reinmax"]);
        }
        if w <= 13 {
            keys.extend(["arm", "disarm"]);
        }
        for key in keys {
            let what = format!("{key} on {}", net.describe());
            let rep = run(&model, &sol, key, hp(0.5, 2), MethodChoice::Exact).unwrap();
            let reference = exact_reference(&net, &bf, key, hp(0.5, 2));
            check_moments(&what, &rep, &reference, EXACT_TOL, &sc);
        }
    }
}

// ================================================================================================
// 6. Monte Carlo
// ================================================================================================

/// Reference for a Monte-Carlo run: the mean it must approach and, where available, the exact
/// variance and fourth central moment of one draw.
struct McReference {
    mean: Vec<f64>,
    moments: Option<Moments>,
}

fn mc_reference(net: &Net, bf: &BruteExact, key: &str, h: HyperParams) -> Option<McReference> {
    let unbiased = UNBIASED.contains(&key);
    let with = |m: Moments| {
        if unbiased {
            let sc = score_scales(net);
            check_unbiased(&format!("{key} reference on {}", net.describe()), &m.mean, &m.var, bf, &sc, EXACT_TOL);
        }
        Some(McReference { mean: if unbiased { bf.grad.clone() } else { m.mean.clone() }, moments: Some(m) })
    };
    match key {
        // Running estimators: unbiased, and their draws are uncorrelated (the baseline is a
        // function of past draws and E[s_t | past] = 0, so E[ĝ_t ĝ_t'] = ∇∇ for t ≠ t'), so the
        // report's s.e. is valid for the mean. Their variance is not the idealised one: reinforce-ma's
        // is predicted exactly below; reinforce-optimal's running ratio of moving averages has no
        // closed form, so only its mean is checked.
        // RELAX likewise: its surrogate is a function of past draws and the estimate is unbiased
        // for every surrogate, so E[ĝ_t | past] = ∇; its variance depends on the training path.
        "reinforce-ma" | "reinforce-optimal" | "relax" => Some(McReference { mean: bf.grad.clone(), moments: None }),
        "reinforce-loo" => with(loo_moments(net, h.k.unwrap() as usize)),
        // AR at any depth: the generic cell decomposition of the uniforms (exact for its entries,
        // which are linear in the unit's own uniform within a cell).
        "ar" => with(uniform_moments(net, "ar")),
        // Gumbel-Rao: one layer by the law of total variance (no fourth moment: mean only); deeper,
        // its mean is ST-Gumbel's (the K-average has the same conditional mean).
        "gumbel-rao" if net.layers() == 1 => {
            Some(McReference { mean: gumbel_rao_moments(net, h.tau, h.k.unwrap_or(10) as usize).mean, moments: None })
        }
        "gumbel-rao" => Some(McReference { mean: st_gumbel_mean_any_depth(net, h.tau), moments: None }),
        // REBAR: one unit by 2-D tensor quadrature (12-point panels, as for the exact check: the
        // reference's mean is itself checked against ∇ to 1e−10); several units: the exact
        // gradient (unbiased), mean only.
        "rebar" if net.units() == 1 => with(rebar_moments_tensor(net, h.eta, h.lambda, (4.0 * h.lambda).min(2.0), 12)),
        "rebar" => Some(McReference { mean: bf.grad.clone(), moments: None }),
        "arm" | "disarm" if net.layers() == 1 => with(cell_moments(net, key)),
        "arm" | "disarm" | "local-expectation" if net.layers() > 1 => with(uniform_moments(net, key)),
        // Tensor quadrature over both noises with 8-point panels of width ≤ 4τ: the integrands'
        // nearest complex singularities are at distance πτ from the real line, so the panel rule
        // converges like 3.4^(−16) ≈ 3e−9 — far below the Monte-Carlo standard errors.
        "concrete" if net.units() <= 2 => with(relaxation_moments_tensor(net, h.tau, false, (4.0 * h.tau).min(2.0), 8)),
        "concrete" => None,
        "st-gumbel" if net.units() <= 2 && net.layers() > 1 => {
            with(relaxation_moments_tensor(net, h.tau, true, (4.0 * h.tau).min(2.0), 8))
        }
        "st-gumbel" if net.layers() == 1 => with(st_gumbel_factorised(net, h.tau)),
        "st-gumbel" => Some(McReference { mean: st_gumbel_mean_any_depth(net, h.tau), moments: None }),
        _ => with(joint_moments(net, bf, key, h.tau, h.gap)),
    }
}

/// Per entry: `|m̂ − m| ≤ 4·se` with the report's own standard error (plus rounding slack for
/// zero-variance estimators).
fn check_mc_mean(what: &str, rep: &Report, target: &[f64]) {
    let se = rep.stderr.as_ref().expect("Monte Carlo reports standard errors");
    let n = rep.samples.unwrap() as f64;
    for t in 0..target.len() {
        assert!(rep.mean[t].is_finite() && se[t].is_finite(), "{what}: non-finite");
        assert!((se[t] - (rep.variance[t] / n).sqrt()).abs() <= 1e-12 * se[t] + 1e-300, "{what}: stderr ≠ sd/√n");
        let tol = 4.0 * se[t] + 1e-12 * (target[t].abs() + rep.mean[t].abs()) + 1e-300;
        assert!(
            (rep.mean[t] - target[t]).abs() <= tol,
            "{what}: entry {t}: MC mean {} vs {} ({:.2} standard errors)",
            rep.mean[t],
            target[t],
            (rep.mean[t] - target[t]).abs() / se[t]
        );
    }
}

/// Per entry: the unbiased sample variance s² of n i.i.d. draws has
/// `Var(s²) = (μ4 − σ⁴)/n + 2σ⁴/(n(n−1))` (μ4 the fourth central moment, computed exactly by the
/// reference). With n = 40 000 the sampling distribution of s² is close to normal unless μ4/σ⁴ is
/// extreme, so `|s² − σ²| ≤ 5·sd(s²)` fails by chance with probability ≈ 6e−7 per entry. For
/// typical kurtoses (3–30) this is a relative band of 4–14 % of σ² at n = 40 000.
fn check_mc_variance(what: &str, rep: &Report, m: &Moments) {
    let n = rep.samples.unwrap() as f64;
    for t in 0..m.var.len() {
        let s4 = m.var[t] * m.var[t];
        let sd = (((m.m4[t] - s4).max(0.0)) / n + 2.0 * s4 / (n * (n - 1.0))).sqrt();
        let tol = 5.0 * sd + 1e-12 * (m.var[t] + m.mean[t] * m.mean[t]) + 1e-300;
        assert!(
            (rep.variance[t] - m.var[t]).abs() <= tol,
            "{what}: entry {t}: MC variance {} vs exact {} ({:.2} sd)",
            rep.variance[t],
            m.var[t],
            (rep.variance[t] - m.var[t]).abs() / sd
        );
    }
}

/// `reinforce-ma` as sampled: `ĝ_t = s(f_t − b_t)`, `b_0 = 0`, `b_{t+1} = d b_t + (1 − d) f_t`. The
/// baseline is independent of the current draw, so `E[ĝ_t] = ∇` and
/// `E[ĝ_t²] = E[s²(f − μ)²] + 2E[s²(f − μ)]E[μ − b_t] + E[s²]E[(μ − b_t)²]`, `μ = E[f]`, with
/// `E[μ − b_t] = d^t μ` and `E[(μ − b_t)²] = (1−d)/(1+d)(1 − d^{2t}) Var f + d^{2t} μ²`.
/// Averaging over t = 0..n−1 gives the expected sample variance (up to O(Var/n)).
fn reinforce_ma_expected_variance(net: &Net, bf: &BruteExact, decay: f64, n: f64) -> Vec<f64> {
    let np = net.num_params();
    let mu = bf.expected_loss;
    let mut var_f = 0.0;
    let mut es2 = vec![0.0; np];
    let mut es2f = vec![0.0; np];
    let mut es2ff = vec![0.0; np];
    for_each_state(net, |st| {
        let f = net.f(st.out());
        var_f += st.prob * (f - mu) * (f - mu);
        let s = chain(net, &st.inputs(net), &st.score());
        for t in 0..np {
            es2[t] += st.prob * s[t] * s[t];
            es2f[t] += st.prob * s[t] * s[t] * (f - mu);
            es2ff[t] += st.prob * s[t] * s[t] * (f - mu) * (f - mu);
        }
    });
    let d = decay;
    let geo = |r: f64| (1.0 - r.powf(n)) / ((1.0 - r) * n); // (1/n) Σ_{t<n} r^t
    let e1 = mu * geo(d);
    let e2 = (1.0 - d) / (1.0 + d) * var_f * (1.0 - geo(d * d)) + mu * mu * geo(d * d);
    (0..np).map(|t| es2ff[t] + 2.0 * es2f[t] * e1 + es2[t] * e2 - bf.grad[t] * bf.grad[t]).collect()
}

fn check_monte_carlo(net: &Net, keys: &[&str]) {
    let model = net.model();
    let sol = solve(&model).unwrap();
    let bf = brute_exact(net);
    for &key in keys {
        if expected_method(net, key).is_none() {
            continue;
        }
        let settings: Vec<HyperParams> = match key {
            "reinforce-loo" => vec![hp(0.5, 2), hp(0.5, 3)],
            "st-tempered" => vec![hp(2.0, 2)],
            "concrete" | "st-gumbel" if net.units() == 1 => vec![hp(0.5, 2), hp(1.0, 2)],
            "reinmax" => vec![hp(2.0, 2)],
            "gapped-st" => vec![hp(0.5, 2), HyperParams { tau: 2.0, gap: 0.25, ..hp(0.5, 2) }],
            "gumbel-rao" => vec![HyperParams { k: None, ..hp(0.5, 2) }, hp(1.0, 3)],
            "rebar" => vec![HyperParams::default(), HyperParams { eta: -0.5, lambda: 1.5, ..HyperParams::default() }],
            "relax" => vec![HyperParams::default()],
            _ => vec![hp(0.5, 2)],
        };
        for h in settings {
            let what = format!("{key} ({}) Monte Carlo on {}", show(&h), net.describe());
            let rep = run(&model, &sol, key, h, MethodChoice::MonteCarlo).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(rep.method.key(), "monte-carlo");
            assert_eq!(rep.samples, Some(MC_SAMPLES));
            assert!(rep.mean.iter().chain(&rep.variance).all(|v| v.is_finite()), "{what}: non-finite");
            let Some(reference) = mc_reference(net, &bf, key, h) else { continue };
            check_mc_mean(&what, &rep, &reference.mean);
            if let Some(m) = &reference.moments {
                check_mc_variance(&what, &rep, m);
            }
            if key == "reinforce-ma" {
                // Compare the variance trace with the expectation derived above. Its draws are
                // correlated through the baseline (correlation time ~1/(1 − d²) ≈ 5 draws), so the
                // i.i.d. formula does not apply; the report's delete-one-batch jackknife over 64
                // batches of ≥ 600 draws is valid for such short-range dependence.
                let expected: f64 = reinforce_ma_expected_variance(net, &bf, h.decay, MC_SAMPLES as f64).iter().sum();
                let fig = rep.figures.variance_trace;
                let se = fig.stderr.expect("jackknife standard error");
                assert!(
                    (fig.value - expected).abs() <= 5.0 * se,
                    "{what}: variance trace {} vs expected {expected} (jackknife se {se})",
                    fig.value
                );
            }
        }
    }
}

#[test]
fn monte_carlo_score_function_estimators() {
    for net in random_models() {
        check_monte_carlo(&net, &["reinforce", "reinforce-ma", "reinforce-optimal", "reinforce-loo"]);
    }
}

#[test]
fn monte_carlo_antithetic_and_local_expectation() {
    for net in random_models() {
        check_monte_carlo(&net, &["arm", "disarm", "local-expectation"]);
    }
}

#[test]
fn monte_carlo_straight_through_and_muprop() {
    for net in random_models() {
        check_monte_carlo(&net, &["muprop", "st", "st-sigmoid", "st-tempered"]);
    }
}

#[test]
fn monte_carlo_relaxations() {
    for net in random_models() {
        check_monte_carlo(&net, &["concrete", "st-gumbel"]);
    }
}

#[test]
fn monte_carlo_ar_and_straight_through_variants() {
    for net in random_models() {
        check_monte_carlo(&net, &["ar", "darn", "reinmax", "gapped-st", "gumbel-rao"]);
    }
}

#[test]
fn monte_carlo_rebar_and_relax() {
    // (both are defined for one stochastic layer; deeper models are refused as not applicable,
    // checked in applicability_and_methods_follow_the_documented_rules)
    for net in random_models() {
        check_monte_carlo(&net, &["rebar", "relax"]);
    }
}

#[test]
fn learned_predictor_is_deterministic_finite_and_reports_its_bias() {
    // Biased by design (it predicts the unbiased estimate from local features), so there is no
    // exact target: check that a fixed seed gives identical figures, that they are finite, and that
    // the reported bias² is the debiased ‖m̂ − ∇‖² − tr(V̂)/N of its own Monte-Carlo mean.
    for net in random_models().into_iter().filter(|n| n.loss.differentiable()) {
        let model = net.model();
        let sol = solve(&model).unwrap();
        let what = format!("learned-predictor on {}", net.describe());
        let h = HyperParams::default();
        let a = run(&model, &sol, "learned-predictor", h, MethodChoice::Auto).unwrap_or_else(|e| panic!("{what}: {e}"));
        let b = run(&model, &sol, "learned-predictor", h, MethodChoice::Auto).unwrap();
        assert_eq!(a.method.key(), "monte-carlo", "{what}");
        assert_eq!((&a.mean, &a.variance, &a.figures), (&b.mean, &b.variance, &b.figures), "{what}: not deterministic");
        let figs = [a.figures.bias_sq_norm.value, a.figures.variance_trace.value, a.figures.mse.value];
        assert!(a.mean.iter().chain(&a.variance).chain(&figs).all(|v| v.is_finite()), "{what}: non-finite");
        let n = a.samples.unwrap() as f64;
        let raw: f64 = a.mean.iter().zip(&sol.gradient).map(|(m, g)| (m - g).powi(2)).sum();
        let tr: f64 = a.variance.iter().sum();
        let debiased = raw - tr / n;
        let bias = a.figures.bias_sq_norm.value;
        assert!(
            (bias - debiased).abs() <= 1e-9 * (raw + tr / n) + 1e-300,
            "{what}: reported bias² {bias} vs ‖m̂ − ∇‖² − tr/N = {debiased}"
        );
        assert!((a.figures.variance_trace.value - tr).abs() <= 1e-9 * tr + 1e-300, "{what}");
        // A different seed gives different draws.
        let req = Request { hp: h, method: MethodChoice::MonteCarlo, samples: MC_SAMPLES, seed: MC_SEED + 1 };
        let c = moments(&model, &sol, find("learned-predictor").unwrap(), &req, &mut |_, _| true).unwrap();
        assert_ne!(a.mean, c.mean, "{what}: the seed must matter");
    }
}
