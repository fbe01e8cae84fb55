//! Every sentence a lecturer reads is true: the numbers and the claims about estimators' behaviour in
//! the page's stories (`presets.rs`), its help and notes (`texts.rs`), the estimators' cards (the
//! core's registry) and the README, computed from the engine.
//!
//! * **The table of claims** ([`claims`]): a text, a snippet of it with `{}` where a number stands,
//!   and how that number is computed. The snippet must be in the text, and the number in it must
//!   equal the computation to the digits printed (half a unit in the last place; an explicit
//!   tolerance where the text says "≈" or the figure is Monte Carlo). Claims without a number
//!   ("never larger", "biased at every other τ") are computations that must hold
//!   ([`Check::Holds`]), on the model the text is about or on a small grid of models.
//! * **No unchecked number** ([`every_number_is_a_checked_claim_or_a_declared_setting`]): every
//!   number in those texts is either covered by a claim or declared as a setting, a limit or a
//!   quotation ([`declared`]). A new number fails the test until it is one or the other.
//! * **Generated README blocks**: the blocks between `<!-- generated: … -->` and `<!-- end -->` are
//!   the engine's output, verbatim (`tests/docs.rs`; `make docs` rewrites them); the number scan
//!   skips them.
//! * **Quoted tables**: the README's table of the paper's results is `texts::PAPER_GATING`, the one
//!   the page shows (transcribed from arXiv:1308.3432v1, Figure 2).
#![cfg(not(target_arch = "wasm32"))]
// Pages are built as "the default, with these settings changed", as the stories are.
#![allow(clippy::field_reassign_with_default, clippy::needless_range_loop)]

use std::collections::BTreeMap;
use stochgrad_app::presets::{PRESETS, QUESTIONS};
use stochgrad_app::state::Page;
use stochgrad_app::texts;
use stochgrad_core::estimators::{catalogue, find, find_meta, HyperParams};
use stochgrad_core::exact::{solve, ExactSolution};
use stochgrad_core::loss::{Extension, Loss};
use stochgrad_core::math::sigmoid;
use stochgrad_core::model::{Layer, Model, UnitKind};
use stochgrad_core::moments::{moments, MethodChoice, Report, Request};
use stochgrad_core::settings::{LossKind, Settings};
use stochgrad_core::train::Race;

const README: &str = include_str!("../README.md");

// ------------------------------------------------------------------------------------------------
// The engine, as the page runs it
// ------------------------------------------------------------------------------------------------

fn preset(key: &str) -> Page {
    (PRESETS.iter().find(|p| p.key == key).unwrap_or_else(|| panic!("no preset {key}")).page)()
}

/// The hyper-parameters the page's worker uses (Gumbel-Rao's K travels separately from LOO's k).
fn hp_for(page: &Page, key: &str) -> HyperParams {
    let mut hp = page.hp();
    if key == "gumbel-rao" {
        hp.k = Some(page.rao_k);
    }
    hp
}

fn run(model: &Model, sol: &ExactSolution, key: &str, hp: HyperParams, method: MethodChoice, samples: u64) -> Report {
    let req = Request { hp, method, samples, seed: 1 };
    moments(model, sol, find(key).unwrap(), &req, &mut |_, _| true).unwrap_or_else(|e| panic!("{key}: {e}"))
}

/// An estimator's moments on a page's model: exact where the page's readout is exact.
fn on(page: &Page, key: &str) -> Report {
    on_with(page, key, |_| {})
}

fn on_with(page: &Page, key: &str, edit: impl FnOnce(&mut HyperParams)) -> Report {
    let model = page.model.to_model();
    let sol = solve(&model).unwrap();
    let mut hp = hp_for(page, key);
    edit(&mut hp);
    run(&model, &sol, key, hp, MethodChoice::Auto, 1 << 16)
}

fn at_tau(page: &Page, key: &str, tau: f64) -> Report {
    on_with(page, key, |h| h.tau = tau)
}

/// Monte Carlo with the page's sampling seed.
fn mc(page: &Page, key: &str, samples: u64) -> Report {
    let model = page.model.to_model();
    let sol = solve(&model).unwrap();
    let req = Request { hp: hp_for(page, key), method: MethodChoice::MonteCarlo, samples, seed: page.sampling_seed };
    moments(&model, &sol, find(key).unwrap(), &req, &mut |_, _| true).unwrap()
}

fn gradient(page: &Page) -> Vec<f64> {
    solve(&page.model.to_model()).unwrap().gradient
}

fn toy_at(a: f64) -> Page {
    let mut p = Page::default();
    p.model.logit = a;
    p
}

fn with_extension(mut page: Page, e: Extension) -> Page {
    page.model.extension = e;
    page
}

/// A figure is an exact zero when it is below the rounding of the loss's and the gradient's size.
fn is_zero(x: f64, scale: f64) -> bool {
    x.abs() <= (1e-12 * scale.max(1e-300)).powi(2).max(1e-30)
}

/// The models on which the general claims about an estimator's behaviour are checked: the toy at
/// a = −1 and a = 0 (t = 0.45), the baselines story's three-unit readout, and one-layer models with
/// inputs for each differentiable loss.
fn grid() -> Vec<(String, Page)> {
    let mut out = vec![
        ("toy a = −1".to_string(), toy_at(-1.0)),
        ("toy a = 0".to_string(), toy_at(0.0)),
        ("three-unit readout".to_string(), preset("baselines")),
    ];
    for loss in [LossKind::Toy, LossKind::Readout, LossKind::Softmax] {
        let mut p = Page::default();
        p.model = Settings {
            widths: vec![3],
            inputs: 2,
            loss,
            target: if loss == LossKind::Toy { 0.3 } else { 0.8 },
            logit: 0.4,
            weight_scale: 1.0,
            bias_spread: 0.7,
            network_seed: 5,
            ..Settings::default()
        };
        out.push((format!("one layer of 3, inputs 2, {} loss", loss.key()), p));
    }
    out
}

fn one_layer(page: &Page) -> bool {
    page.model.widths.len() == 1
}

/// The page's τ slider: 10^(−1.3 … 1) in steps of 0.01 (0.05 … 10).
fn slider_taus() -> Vec<f64> {
    (0..=230).map(|i| 10f64.powf(-1.3 + i as f64 * 0.01)).collect()
}

const TAU_GRID: [f64; 8] = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0];

// ------------------------------------------------------------------------------------------------
// Claims
// ------------------------------------------------------------------------------------------------

enum Check {
    /// The number at `{}` equals this to the digits printed.
    Value(fn() -> f64),
    /// The number at `{}` equals this within the relative tolerance given (Monte Carlo, "≈").
    Near(fn() -> f64, f64),
    /// A claim without a number: the computation must hold.
    Holds(fn() -> Result<(), String>),
}

struct Claim {
    /// The text's key (see [`all_texts`]).
    text: &'static str,
    /// A part of the text, with `{}` where the checked number stands (none for [`Check::Holds`]).
    snippet: &'static str,
    check: Check,
}

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

fn claims() -> Vec<Claim> {
    use Check::*;
    let c = |text, snippet, check| Claim { text, snippet, check };
    vec![
        // ---- Wrong sign (the default view) ----
        c("story:wrong-sign", "(p = {})", Value(|| sigmoid(-1.0))),
        c("story:wrong-sign", "The exact gradient is {}:", Value(|| gradient(&preset("wrong-sign"))[0])),
        c("story:wrong-sign", "Straight-through ({})", Value(|| on(&preset("wrong-sign"), "st").mean[0])),
        c("story:wrong-sign", "straight-through × σ′ ({})", Value(|| on(&preset("wrong-sign"), "st-sigmoid").mean[0])),
        c("story:wrong-sign", "Concrete (τ = 0.5: {})", Value(|| on(&preset("wrong-sign"), "concrete").mean[0])),
        c(
            "story:wrong-sign",
            "REINFORCE and Bengio's optimal-baseline estimator converge to it",
            Holds(|| {
                let p = preset("wrong-sign");
                let g = gradient(&p)[0];
                for k in ["reinforce", "reinforce-optimal"] {
                    let m = on(&p, k).mean[0];
                    ensure((m - g).abs() < 1e-14, || format!("{k}: mean {m} vs {g}"))?;
                }
                Ok(())
            }),
        ),
        c("story:wrong-sign", "that holds when f is affine in each unit", Holds(right_sign_when_affine)),
        // ---- The extension decides the sign ----
        c("story:extension", "exact gradient ({})", Value(|| gradient(&preset("extension"))[0])),
        c(
            "story:extension",
            "E[f] and the exact gradient",
            Holds(|| {
                let (a, b) = (
                    solve(&preset("extension").model.to_model()).unwrap(),
                    solve(&preset("wrong-sign").model.to_model()).unwrap(),
                );
                ensure(a.expected_loss == b.expected_loss && a.gradient == b.gradient, || {
                    "the extension changed E[f] or ∇".into()
                })
            }),
        ),
        c("story:extension", "right way ({},", Value(|| on(&preset("extension"), "st").mean[0])),
        c("story:extension", "from {}), straight-through", Value(|| on(&preset("wrong-sign"), "st").mean[0])),
        c(
            "story:extension",
            "straight-through × σ′ is exact — on one layer it is local expectation",
            Holds(|| {
                let p = preset("extension");
                let (g, s, l) = (gradient(&p)[0], on(&p, "st-sigmoid"), on(&p, "local-expectation"));
                ensure(
                    (s.mean[0] - g).abs() < 1e-15
                        && (s.mean[0] - l.mean[0]).abs() < 1e-15
                        && (s.variance[0] - l.variance[0]).abs() < 1e-15,
                    || format!("st-sigmoid {:?} vs local expectation {:?}, ∇ {g}", s.mean, l.mean),
                )
            }),
        ),
        c("story:extension", "moves from {} to", Value(|| on(&preset("wrong-sign"), "concrete").mean[0])),
        c("story:extension", "to {}. The wrong sign", Value(|| on(&preset("extension"), "concrete").mean[0])),
        c(
            "story:extension",
            "the estimators that never differentiate f are unchanged",
            Holds(|| {
                for k in ["reinforce", "local-expectation"] {
                    let (a, b) = (on(&preset("extension"), k), on(&preset("wrong-sign"), k));
                    ensure(a.mean == b.mean && a.variance == b.variance, || format!("{k} changed with the extension"))?;
                }
                Ok(())
            }),
        ),
        // ---- The t = 0.45 toy at p = ½ ----
        c(
            "story:toy-045",
            "The exact gradient is {} with respect to the logit",
            Value(|| gradient(&preset("toy-045"))[0]),
        ),
        c("story:toy-045", "({} = 1 − 2t with respect to p", Value(|| gradient(&preset("toy-045"))[0] / (0.25))),
        c(
            "story:toy-045",
            "leave-one-out has {}× less variance per evaluation",
            Value(|| {
                let p = preset("toy-045");
                let (r, l) = (on(&p, "reinforce").figures, on(&p, "reinforce-loo").figures);
                r.variance_x_evals.value / l.variance_x_evals.value
            }),
        ),
        c(
            "story:toy-045",
            "straight-through (identity) is {}× too large",
            Value(|| {
                let p = preset("toy-045");
                on(&p, "st").mean[0] / gradient(&p)[0]
            }),
        ),
        c("story:toy-045", "ST × σ′ happens to be exact at p = ½", Holds(|| exact_here("toy-045", "st-sigmoid"))),
        c(
            "story:toy-045",
            "Concrete and ST-Gumbel (τ = 0.5) are {} % low",
            Value(|| {
                let p = preset("toy-045");
                let g = gradient(&p)[0];
                let (c, s) = (on(&p, "concrete").mean[0], on(&p, "st-gumbel").mean[0]);
                assert!((c - s).abs() < 1e-12, "Concrete {c} and ST-Gumbel {s} should have the same mean at a = 0");
                100.0 * (1.0 - c / g)
            }),
        ),
        // ---- The hard toy ----
        c("story:toy-0499", "the exact gradient is only {},", Value(|| gradient(&preset("toy-0499"))[0])),
        c("story:toy-0499", "REINFORCE's variance is {} —", Value(|| on(&preset("toy-0499"), "reinforce").variance[0])),
        c(
            "story:toy-0499",
            "standard deviation is {} times the gradient",
            Value(|| {
                let p = preset("toy-0499");
                on(&p, "reinforce").variance[0].sqrt() / gradient(&p)[0]
            }),
        ),
        c(
            "story:toy-0499",
            "about {} samples before",
            Near(
                || {
                    let p = preset("toy-0499");
                    let ratio = on(&p, "reinforce").variance[0].sqrt() / gradient(&p)[0];
                    (2.0 * ratio).powi(2)
                },
                0.01,
            ),
        ),
        c(
            "story:toy-0499",
            "cut the variance by orders of magnitude",
            Holds(|| {
                let p = preset("toy-0499");
                let r = on(&p, "reinforce").variance[0];
                for k in ["reinforce-loo", "arm", "disarm"] {
                    let v = on(&p, k).variance[0];
                    ensure(v < r / 100.0, || format!("{k}: {v} vs REINFORCE's {r}"))?;
                }
                let d = on(&p, "disarm").variance[0];
                ensure(d == 0.0, || format!("DisARM's variance {d}"))
            }),
        ),
        c("story:toy-0499", "ST × σ′ happens to be exact at p = ½", Holds(|| exact_here("toy-0499", "st-sigmoid"))),
        c(
            "story:toy-0499",
            "Concrete (τ = 0.5) is {} % low",
            Value(|| {
                let p = preset("toy-0499");
                100.0 * (1.0 - on(&p, "concrete").mean[0] / gradient(&p)[0])
            }),
        ),
        // ---- What τ does ----
        c("story:tau", "({} at τ = 10, 0.136", Value(|| at_tau(&preset("tau"), "concrete", 10.0).variance[0])),
        c(
            "story:tau",
            "at τ = 10, {} at τ = 0.05), but",
            Value(|| at_tau(&preset("tau"), "concrete", 0.05).variance[0]),
        ),
        c(
            "story:tau",
            "largest near τ = 1 ({})",
            Value(|| at_tau(&preset("tau"), "concrete", 1.0).figures.bias_sq_norm.value),
        ),
        c(
            "story:tau",
            "smaller at both ends ({} at τ = 10",
            Value(|| at_tau(&preset("tau"), "concrete", 10.0).figures.bias_sq_norm.value),
        ),
        c(
            "story:tau",
            "at τ = 10, {} at τ = 0.05): going",
            Value(|| at_tau(&preset("tau"), "concrete", 0.05).figures.bias_sq_norm.value),
        ),
        c("story:tau", "its bias² is largest near τ = 1", Holds(concrete_bias_peaks_near_one)),
        c(
            "story:tau",
            "going from τ = 10 to τ = 1 makes both bias² and variance larger",
            Holds(concrete_one_worse_than_ten),
        ),
        c(
            "story:tau",
            "lowering τ raises the variance",
            Holds(|| variance_falls_with_tau(&[("toy a = −1".into(), preset("tau"))])),
        ),
        c("story:tau", "the squared gradient ({})", Value(|| gradient(&preset("tau"))[0].powi(2))),
        c(
            "story:tau",
            "its estimate goes to 0 and its bias² to the squared gradient",
            Holds(tempered_vanishes_away_from_zero),
        ),
        c(
            "story:tau",
            "ReinMax is exact at τ = 1 here and biased at the slider's other temperatures",
            Holds(|| reinmax_exact_only_at_one("tau")),
        ),
        c(
            "story:tau",
            "Gumbel-Rao has ST-Gumbel's bias with less variance",
            Holds(|| gumbel_rao_vs_st_gumbel(&grid())),
        ),
        // ---- Baselines ----
        c(
            "story:baselines",
            "All four are unbiased; the baselines only change the variance",
            Holds(|| {
                let p = preset("baselines");
                let g = gradient(&p);
                for k in ["reinforce", "reinforce-ma", "reinforce-optimal", "reinforce-loo"] {
                    let r = on(&p, k);
                    let d: f64 = r.mean.iter().zip(&g).map(|(a, b)| (a - b).abs()).sum();
                    ensure(d < 1e-12, || format!("{k}: mean off by {d}"))?;
                }
                ensure(p.var_x_evals, || "the story shows variance × evaluations".into())
            }),
        ),
        // ---- Antithetic ----
        c(
            "story:antithetic",
            "(here {} against",
            Value(|| on(&preset("antithetic"), "disarm").figures.variance_trace.value),
        ),
        c(
            "story:antithetic",
            "against ARM's {})",
            Value(|| on(&preset("antithetic"), "arm").figures.variance_trace.value),
        ),
        c(
            "story:antithetic",
            "on one stochastic layer DisARM's variance is never larger",
            Holds(|| disarm_never_above_arm(&grid())),
        ),
        c(
            "story:antithetic",
            "Same two evaluations, same expectation",
            Holds(|| {
                let p = preset("antithetic");
                let (a, d) = (on(&p, "arm"), on(&p, "disarm"));
                let diff: f64 = a.mean.iter().zip(&d.mean).map(|(x, y)| (x - y).abs()).sum();
                ensure(diff < 1e-12 && a.figures.loss_evaluations == 2.0 && d.figures.loss_evaluations == 2.0, || {
                    format!("means differ by {diff}")
                })
            }),
        ),
        // ---- Deeper ----
        c("story:deeper", "gives {} of the", Value(|| wrong_signs("deeper", "st-sigmoid") as f64)),
        c("story:deeper", "of the {} parameters", Value(|| gradient(&preset("deeper")).len() as f64)),
        c("story:deeper", "(straight-through: {} here", Value(|| wrong_signs("deeper", "st") as f64)),
        c(
            "story:deeper",
            "Bengio's estimator needs no back-propagation and stays unbiased at any depth",
            Holds(|| {
                let p = preset("deeper");
                let (g, r) = (gradient(&p), on(&p, "reinforce-optimal"));
                let d: f64 = r.mean.iter().zip(&g).map(|(a, b)| (a - b).abs()).sum();
                ensure(d < 1e-12, || format!("off by {d}"))
            }),
        ),
        // ---- Learned predictor (Monte Carlo with the page's sampling seed) ----
        c(
            "story:learned-predictor",
            "(bias² ≈ {})",
            Near(|| mc(&preset("learned-predictor"), "learned-predictor", 10_000).figures.bias_sq_norm.value, 0.15),
        ),
        c(
            "story:learned-predictor",
            "down to ≈ {},",
            Near(|| mc(&preset("learned-predictor"), "learned-predictor", 100_000).figures.bias_sq_norm.value, 0.5),
        ),
        c(
            "story:learned-predictor",
            "about an eighth of the unbiased target's",
            Holds(|| {
                let p = preset("learned-predictor");
                let (l, t) = (mc(&p, "learned-predictor", 100_000), mc(&p, "reinforce-optimal", 100_000));
                let r = l.figures.variance_trace.value / t.figures.variance_trace.value;
                ensure((1.0 / 10.0..1.0 / 6.5).contains(&r), || format!("ratio {r}"))
            }),
        ),
        c(
            "story:learned-predictor",
            "({} against",
            Near(|| mc(&preset("learned-predictor"), "learned-predictor", 100_000).figures.variance_trace.value, 0.05),
        ),
        c(
            "story:learned-predictor",
            "against {}). Straight-through",
            Near(|| mc(&preset("learned-predictor"), "reinforce-optimal", 100_000).figures.variance_trace.value, 0.01),
        ),
        c(
            "story:learned-predictor",
            "keeps a bias² of ≈ {}.",
            Value(|| on(&preset("learned-predictor"), "st").figures.bias_sq_norm.value),
        ),
        // ---- Reward only ----
        c(
            "story:reward-only",
            "straight-through and the relaxations do not apply",
            Holds(|| {
                let m = preset("reward-only").model.to_model();
                for k in ["st", "st-sigmoid", "concrete", "st-gumbel", "muprop", "rebar", "darn"] {
                    ensure(find(k).unwrap().check(&m).is_err(), || format!("{k} applies"))?;
                }
                for k in ["reinforce", "reinforce-optimal", "arm", "disarm", "local-expectation", "ar"] {
                    ensure(find(k).unwrap().check(&m).is_ok(), || format!("{k} does not apply"))?;
                }
                Ok(())
            }),
        ),
        // ---- Categorical units: K = 2 is the binary case ----
        c("story:two-classes", "σ(a) = {}, so", Value(|| class_probabilities(&preset("two-classes"))[0])),
        c(
            "story:two-classes",
            "softmax(a, 0)₀ = σ(a)",
            Holds(|| {
                let (p, q) =
                    (class_probabilities(&preset("two-classes"))[0], sigmoid(preset("two-classes").model.logit));
                ensure((p - q).abs() < 1e-15, || format!("{p} vs {q}"))
            }),
        ),
        c("story:two-classes", "twice the binary one: {} (binary", Value(|| gradient(&preset("two-classes"))[0])),
        c("story:two-classes", "(binary: {}); the second", Value(|| gradient(&toy_at(-1.0))[0])),
        c(
            "story:two-classes",
            "twice the binary toy, and the exact gradient with respect to a is twice",
            Holds(twice_binary),
        ),
        c(
            "story:two-classes",
            "the second logit's is its negative",
            Holds(|| {
                let g = gradient(&preset("two-classes"));
                ensure(g.len() == 2 && (g[0] + g[1]).abs() < 1e-15, || format!("{g:?}"))
            }),
        ),
        c(
            "story:two-classes",
            "doubles with it ({}; binary",
            Value(|| on(&preset("two-classes"), "st-sigmoid").mean[0]),
        ),
        c("story:two-classes", "binary: {}), but", Value(|| on(&toy_at(-1.0), "st-sigmoid").mean[0])),
        c("story:two-classes", "stays at {}: its", Value(|| on(&preset("two-classes"), "st").mean[0])),
        c(
            "story:two-classes",
            "Straight-through × the softmax Jacobian diag(π) − ππᵀ doubles with it",
            Holds(|| {
                let (c, b) =
                    (on(&preset("two-classes"), "st-sigmoid").mean[0], on(&toy_at(-1.0), "st-sigmoid").mean[0]);
                ensure((c - 2.0 * b).abs() < 1e-14, || format!("{c} vs 2 × {b}"))?;
                let (c, b) = (on(&preset("two-classes"), "st").mean[0], on(&toy_at(-1.0), "st").mean[0]);
                ensure((c - b).abs() < 1e-14, || format!("straight-through: {c} vs {b}"))
            }),
        ),
        c(
            "story:two-classes",
            "Both still point the wrong way",
            Holds(|| {
                let p = preset("two-classes");
                let g = gradient(&p)[0];
                for k in ["st", "st-sigmoid"] {
                    let m = on(&p, k).mean[0];
                    ensure(m * g < 0.0, || format!("{k}: {m} vs {g}"))?;
                }
                Ok(())
            }),
        ),
        c(
            "story:two-classes",
            "REINFORCE and ReinMax (τ = 1) are exact",
            Holds(|| exact_everywhere("two-classes", &["reinforce", "reinmax"])),
        ),
        // ---- Gumbel-softmax on the simplex ----
        c("story:gumbel-softmax", "π = ({}, 0.422", Value(|| class_probabilities(&preset("gumbel-softmax"))[0])),
        c("story:gumbel-softmax", "0.155, {}, 0.422)", Value(|| class_probabilities(&preset("gumbel-softmax"))[1])),
        c("story:gumbel-softmax", "0.422, {}), and", Value(|| class_probabilities(&preset("gumbel-softmax"))[2])),
        c("story:gumbel-softmax", "t = ({}, 0.275, 0.275)", Value(|| toy_target("gumbel-softmax")[0])),
        c("story:gumbel-softmax", "t = (0.45, {}, 0.275)", Value(|| toy_target("gumbel-softmax")[1])),
        c(
            "story:gumbel-softmax",
            "at τ = 0.5 they lie",
            Holds(|| ensure(preset("gumbel-softmax").tau == 0.5, || "the story's τ".into())),
        ),
        c("story:gumbel-softmax", "0.275, {}). The", Value(|| toy_target("gumbel-softmax")[2])),
        c("story:gumbel-softmax", "on average {} % of the way", Value(|| 100.0 * simplex_spread(0.5))),
        c("story:gumbel-softmax", "at τ = 0.1, {} % (nearly", Value(|| 100.0 * simplex_spread(0.1))),
        c("story:gumbel-softmax", "at τ = 10, {} % (near", Value(|| 100.0 * simplex_spread(10.0))),
        c(
            "story:gumbel-softmax",
            "its mean for the first logit is ≈ {} (Monte Carlo)",
            // 2^20 draws (s.e. ≈ 1.5·10⁻⁴): the figure the page's bar settles on.
            Near(|| mc(&preset("gumbel-softmax"), "concrete", 1 << 20).mean[0], 0.01),
        ),
        c("story:gumbel-softmax", "against the exact {}. ST", Value(|| gradient(&preset("gumbel-softmax"))[0])),
        c(
            "story:gumbel-softmax",
            "so it is biased",
            Holds(|| {
                let p = preset("gumbel-softmax");
                let (g, r) = (gradient(&p), mc(&p, "concrete", 1 << 16));
                let se = r.stderr.clone().unwrap();
                ensure((r.mean[0] - g[0]).abs() > 8.0 * se[0], || format!("{} ± {} vs {}", r.mean[0], se[0], g[0]))
            }),
        ),
        c("story:gumbel-softmax", "the same mean, less variance", Holds(gumbel_rao_vs_st_gumbel_categorical)),
        c(
            "story:gumbel-softmax",
            "(≈ {} at τ = 0.1, ≈",
            Near(|| gumbel_softmax_at("gumbel-softmax", 0.1).figures.variance_trace.value, 0.02),
        ),
        c(
            "story:gumbel-softmax",
            "≈ {} at τ = 1, below",
            Near(|| gumbel_softmax_at("gumbel-softmax", 1.0).figures.variance_trace.value, 0.02),
        ),
        c(
            "story:gumbel-softmax",
            "below 10⁻⁴ at τ = 10)",
            Holds(|| {
                let v = gumbel_softmax_at("gumbel-softmax", 10.0).figures.variance_trace.value;
                ensure(v < 1e-4, || format!("variance at τ = 10: {v}"))
            }),
        ),
        c(
            "story:gumbel-softmax",
            "Gumbel-softmax's variance falls as τ grows",
            Holds(|| {
                let v: Vec<f64> = TAU_GRID
                    .iter()
                    .map(|t| gumbel_softmax_at("gumbel-softmax", *t).figures.variance_trace.value)
                    .collect();
                ensure(v.windows(2).all(|w| w[1] < w[0]), || format!("{v:?}"))
            }),
        ),
        c(
            "story:gumbel-softmax",
            "at τ = 0.1 its bias² is within two standard errors of 0",
            Holds(|| {
                let b = gumbel_softmax_at("gumbel-softmax", 0.1).figures.bias_sq_norm;
                let se = b.stderr.unwrap_or(f64::INFINITY);
                ensure(b.value.abs() < 2.0 * se && se < 1e-3, || format!("bias² {} ± {se}", b.value))
            }),
        ),
        c(
            "story:gumbel-softmax",
            "its mean for the first logit is ≈ {}, a fifth",
            Near(|| gumbel_softmax_at("gumbel-softmax", 10.0).mean[0], 0.02),
        ),
        c(
            "story:gumbel-softmax",
            "a fifth of the gradient",
            Holds(|| {
                let (m, g) =
                    (gumbel_softmax_at("gumbel-softmax", 10.0).mean[0], gradient(&preset("gumbel-softmax"))[0]);
                ensure((m / g * 5.0).round() == 1.0, || format!("{m} / {g}"))
            }),
        ),
        c(
            "story:gumbel-softmax",
            "All three relaxations are Monte Carlo here",
            Holds(|| {
                let p = preset("gumbel-softmax");
                for k in ["concrete", "st-gumbel", "gumbel-rao"] {
                    let m = on(&p, k).method;
                    ensure(m == stochgrad_core::stats::Method::MonteCarlo, || format!("{k}: {m:?}"))?;
                }
                Ok(())
            }),
        ),
        // ---- ReinMax vs straight-through at K = 8 ----
        c(
            "story:reinmax-k8",
            "at τ = 1 it is exact here (bias² 0), and biased at the slider's other temperatures",
            Holds(|| reinmax_exact_only_at_one("reinmax-k8")),
        ),
        c("story:reinmax-k8", "its bias² {} is", Value(|| on(&preset("reinmax-k8"), "st").figures.bias_sq_norm.value)),
        c(
            "story:reinmax-k8",
            "is {} times the squared gradient",
            Value(|| {
                let p = preset("reinmax-k8");
                on(&p, "st").figures.bias_sq_norm.value / gradient(&p).iter().map(|x| x * x).sum::<f64>()
            }),
        ),
        c(
            "story:reinmax-k8",
            "the squared gradient ({})",
            Value(|| gradient(&preset("reinmax-k8")).iter().map(|x| x * x).sum()),
        ),
        c(
            "story:reinmax-k8",
            "{} % of the squared gradient",
            Value(|| {
                let p = preset("reinmax-k8");
                100.0 * on(&p, "st-sigmoid").figures.bias_sq_norm.value
                    / gradient(&p).iter().map(|x| x * x).sum::<f64>()
            }),
        ),
        c(
            "story:reinmax-k8",
            "much closer (bias² {},",
            Value(|| on(&preset("reinmax-k8"), "st-sigmoid").figures.bias_sq_norm.value),
        ),
        c(
            "story:reinmax-k8",
            "its variance ({}) is 34",
            Value(|| on(&preset("reinmax-k8"), "reinmax").figures.variance_trace.value),
        ),
        c(
            "story:reinmax-k8",
            "is {} times that of REINFORCE",
            Value(|| {
                let p = preset("reinmax-k8");
                on(&p, "reinmax").figures.variance_trace.value
                    / on(&p, "reinforce-optimal").figures.variance_trace.value
            }),
        ),
        c(
            "story:reinmax-k8",
            "per-unit baseline ({}), which",
            Value(|| on(&preset("reinmax-k8"), "reinforce-optimal").figures.variance_trace.value),
        ),
        c(
            "story:reinmax-k8",
            "which is exact too",
            Holds(|| exact_everywhere("reinmax-k8", &["reinforce-optimal", "reinmax"])),
        ),
        c(
            "story:reinmax-k8",
            "second-smallest variance here (≈ {}, after",
            Near(|| gumbel_softmax_at("reinmax-k8", 1.0).figures.variance_trace.value, 0.02),
        ),
        c(
            "story:reinmax-k8",
            "has the second-smallest variance here (≈ 0.036, after Bengio's)",
            Holds(|| {
                let p = preset("reinmax-k8");
                let v = gumbel_softmax_at("reinmax-k8", 1.0).figures.variance_trace.value;
                let below: Vec<&String> = p
                    .estimators
                    .iter()
                    .filter(|k| *k != "concrete" && on(&p, k).figures.variance_trace.value <= v)
                    .collect();
                ensure(below == ["reinforce-optimal"], || format!("below Gumbel-softmax's {v}: {below:?}"))
            }),
        ),
        c(
            "story:reinmax-k8",
            "a small bias: its mean for the first logit is ≈ {} against",
            Near(|| gumbel_softmax_at("reinmax-k8", 1.0).mean[0], 0.02),
        ),
        c("story:reinmax-k8", "against the exact {}.", Value(|| gradient(&preset("reinmax-k8"))[0])),
        c(
            "story:reinmax-k8",
            "and a small bias",
            Holds(|| {
                let r = gumbel_softmax_at("reinmax-k8", 1.0);
                let (g, se) = (gradient(&preset("reinmax-k8")), r.stderr.clone().unwrap());
                let g2: f64 = g.iter().map(|x| x * x).sum();
                ensure((r.mean[0] - g[0]).abs() > 8.0 * se[0] && r.figures.bias_sq_norm.value < 0.05 * g2, || {
                    format!("{} ± {} vs {}, bias² {}", r.mean[0], se[0], g[0], r.figures.bias_sq_norm.value)
                })
            }),
        ),
        c(
            "story:reinmax-k8",
            "plain REINFORCE's is {}.",
            Value(|| on(&preset("reinmax-k8"), "reinforce").figures.variance_trace.value),
        ),
        // ---- Predict, then reveal: the stories' questions (their answers: `every_question_is_answered_by_the_engine`) ----
        c("question:extension", "mean is now {},", Value(|| on(&preset("extension"), "st").mean[0])),
        c("question:extension", "from {}, and", Value(|| on(&preset("wrong-sign"), "st").mean[0])),
        c("question:extension", "still {}. The", Value(|| gradient(&preset("extension"))[0])),
        c(
            "question:extension",
            "the slope straight-through takes at the sampled h is the jump between them",
            Holds(|| {
                // Multilinear: ∂f/∂h = f(1) − f(0) at every h; one unit: ∂E[f]/∂a = (f(1) − f(0)) σ′(a).
                let p = preset("extension");
                let (t, a) = (p.model.target, p.model.logit);
                let jump = (1.0 - t) * (1.0 - t) - t * t;
                let (m, g) = (on(&p, "st").mean[0], gradient(&p)[0]);
                ensure((m - jump).abs() < 1e-15 && (jump * sigmoid(a) * sigmoid(-a) - g).abs() < 1e-15, || {
                    format!("st {m}, jump {jump}, ∇ {g}")
                })
            }),
        ),
        c("question:toy-045", "exact gradient, {}.", Value(|| gradient(&preset("toy-045"))[0])),
        c("question:toy-045", "so its mean is the exact gradient", Holds(|| exact_here("toy-045", "st-sigmoid"))),
        c(
            "question:toy-045",
            "(identity) is {}× too large",
            Value(|| {
                let p = preset("toy-045");
                on(&p, "st").mean[0] / gradient(&p)[0]
            }),
        ),
        c(
            "question:toy-045",
            "ST-Gumbel are {} % low",
            Value(|| {
                let p = preset("toy-045");
                let g = gradient(&p)[0];
                let (c, s) = (on(&p, "concrete").mean[0], on(&p, "st-gumbel").mean[0]);
                assert!((c - s).abs() < 1e-12, "Concrete {c} and ST-Gumbel {s} should have the same mean at a = 0");
                100.0 * (1.0 - c / g)
            }),
        ),
        c(
            "question:toy-0499",
            "every one of its estimates is the exact gradient",
            Holds(|| {
                let p = preset("toy-0499");
                let (d, g) = (on(&p, "disarm"), gradient(&p)[0]);
                ensure(d.variance[0] == 0.0 && (d.mean[0] - g).abs() < 1e-15, || {
                    format!("DisARM: mean {}, variance {}, ∇ {g}", d.mean[0], d.variance[0])
                })
            }),
        ),
        c("question:toy-0499", "REINFORCE's variance ({})", Value(|| on(&preset("toy-0499"), "reinforce").variance[0])),
        c(
            "question:toy-0499",
            "are all unbiased here; they differ only in variance",
            Holds(|| {
                let p = preset("toy-0499");
                let g = gradient(&p)[0];
                for k in ["reinforce", "reinforce-loo", "arm", "disarm"] {
                    let m = on(&p, k).mean[0];
                    ensure((m - g).abs() < 1e-15, || format!("{k}: mean {m} vs {g}"))?;
                }
                Ok(())
            }),
        ),
        c(
            "question:antithetic",
            "Same two evaluations, same expectation",
            Holds(|| {
                let p = preset("antithetic");
                let (a, d) = (on(&p, "arm"), on(&p, "disarm"));
                let diff: f64 = a.mean.iter().zip(&d.mean).map(|(x, y)| (x - y).abs()).sum();
                ensure(diff < 1e-12 && a.figures.loss_evaluations == 2.0 && d.figures.loss_evaluations == 2.0, || {
                    format!("means differ by {diff}")
                })
            }),
        ),
        c(
            "question:toy-0499",
            "by orders of magnitude",
            Holds(|| {
                let p = preset("toy-0499");
                let r = on(&p, "reinforce").variance[0];
                for k in ["reinforce-loo", "arm"] {
                    let v = on(&p, k).variance[0];
                    ensure(v < r / 100.0, || format!("{k}: {v} vs REINFORCE's {r}"))?;
                }
                Ok(())
            }),
        ),
        c(
            "question:antithetic",
            "DisARM ({} against",
            Value(|| on(&preset("antithetic"), "disarm").figures.variance_trace.value),
        ),
        c(
            "question:antithetic",
            "against ARM's {})",
            Value(|| on(&preset("antithetic"), "arm").figures.variance_trace.value),
        ),
        c(
            "question:antithetic",
            "with the same two evaluations and the same expectation",
            Holds(|| {
                let p = preset("antithetic");
                let (a, d) = (on(&p, "arm"), on(&p, "disarm"));
                let diff: f64 = a.mean.iter().zip(&d.mean).map(|(x, y)| (x - y).abs()).sum();
                ensure(diff < 1e-12 && a.figures.loss_evaluations == 2.0 && d.figures.loss_evaluations == 2.0, || {
                    format!("means differ by {diff}")
                })
            }),
        ),
        c(
            "question:deeper",
            "is unbiased at any depth",
            Holds(|| {
                let p = preset("deeper");
                let (g, r) = (gradient(&p), on(&p, "reinforce-optimal"));
                let d: f64 = r.mean.iter().zip(&g).map(|(a, b)| (a - b).abs()).sum();
                ensure(d < 1e-12, || format!("off by {d}"))
            }),
        ),
        c("question:deeper", "gives {} of the", Value(|| wrong_signs("deeper", "st-sigmoid") as f64)),
        c("question:deeper", "of the {} parameters", Value(|| gradient(&preset("deeper")).len() as f64)),
        c("question:two-classes", "had mean {}. —", Value(|| on(&toy_at(-1.0), "st").mean[0])),
        c("question:two-classes", "Twice the binary one: {} ·", Value(|| 2.0 * on(&toy_at(-1.0), "st").mean[0])),
        c("question:two-classes", "The binary one: {} ·", Value(|| on(&toy_at(-1.0), "st").mean[0])),
        c("question:two-classes", "The binary one, {}: its", Value(|| on(&preset("two-classes"), "st").mean[0])),
        c(
            "question:two-classes",
            "doubles with the loss ({})",
            Value(|| on(&preset("two-classes"), "st-sigmoid").mean[0]),
        ),
        c(
            "question:two-classes",
            "its estimate for a is ∂f/∂h₀ = 2(h₀ − 0.45), exactly the binary unit's",
            Holds(|| {
                // Straight-through's exact distribution for a: the values 2(h₀ − 0.45) at h₀ = 0 and
                // 1, with the binary unit's probabilities — the binary unit's distribution.
                let dist = |p: &Page| {
                    let m = p.model.to_model();
                    let sol = solve(&m).unwrap();
                    let req = Request { hp: p.hp(), method: MethodChoice::Exact, samples: 0, seed: 1 };
                    let st = find("st").unwrap();
                    let d =
                        stochgrad_core::distribution::distribution(&m, &sol, st, 0, &req, &mut |_, _| true).unwrap();
                    match d.shape {
                        stochgrad_core::distribution::Shape::Exact { values, probabilities, .. } => {
                            (values, probabilities)
                        }
                        other => panic!("{other:?}"),
                    }
                };
                let (c, b) = (dist(&preset("two-classes")), dist(&toy_at(-1.0)));
                let want = [2.0 * (0.0 - 0.45), 2.0 * (1.0 - 0.45)];
                ensure(c.0.len() == 2 && (0..2).all(|i| (c.0[i] - want[i]).abs() < 1e-15), || {
                    format!("values {:?}", c.0)
                })?;
                let same = c.0 == b.0 && c.1.iter().zip(&b.1).all(|(x, y)| (x - y).abs() < 1e-15);
                ensure(same, || format!("{c:?} vs the binary unit's {b:?}"))
            }),
        ),
        // ---- Help: the temperature sweep ----
        c("help:Temperature sweep", "lowering τ raises the variance", Holds(|| variance_falls_with_tau(&grid()[..3]))),
        c(
            "help:Temperature sweep",
            "the bias² is small at small τ but does not fall steadily",
            Holds(|| {
                for (name, p) in &grid()[..3] {
                    for k in ["concrete", "st-gumbel"] {
                        let (lo, one) = (
                            at_tau(p, k, 0.05).figures.bias_sq_norm.value,
                            at_tau(p, k, 1.0).figures.bias_sq_norm.value,
                        );
                        ensure(lo < one, || format!("{k} on {name}: bias² {lo} at τ = 0.05, {one} at τ = 1"))?;
                    }
                }
                concrete_bias_peaks_near_one()
            }),
        ),
        c("help:Temperature sweep", "its surrogate vanishes away from a = 0", Holds(tempered_vanishes_away_from_zero)),
        c("help:Temperature sweep", "ReinMax: unbiased at τ = 1 for one stochastic layer", Holds(reinmax_claims)),
        c("help:Temperature sweep", "at a = 0 it does not depend on τ", Holds(reinmax_claims)),
        // ---- Notes ----
        c("note:race", "so straight-through wanders around p ≈ 0.45", Holds(st_race_wanders_near_t)),
        c(
            "note:race",
            "the unbiased estimators drive p towards 0",
            Holds(|| {
                let p = Page::default();
                let rows = race(&p, "reinforce-optimal", 1000);
                let last = rows.last().unwrap().1;
                ensure(last < rows[0].1 / 2.0, || format!("p from {} to {last}", rows[0].1))
            }),
        ),
        c(
            "note:race",
            "Straight-through's expected estimate is 2(p − t)",
            Holds(|| {
                for a in [-2.0, -1.0, 0.0, 0.7] {
                    let p = toy_at(a);
                    let (pp, t) = (sigmoid(a), 0.45);
                    let (st, sts) = (on(&p, "st").mean[0], on(&p, "st-sigmoid").mean[0]);
                    ensure((st - 2.0 * (pp - t)).abs() < 1e-14, || format!("st at a = {a}: {st}"))?;
                    ensure((sts - 2.0 * pp * (1.0 - pp) * (pp - t)).abs() < 1e-14, || {
                        format!("st-sigmoid at a = {a}: {sts}")
                    })?;
                }
                Ok(())
            }),
        ),
        c("note:extension", "straight-through has the right sign on one layer", Holds(right_sign_when_affine)),
        c(
            "note:extension",
            "straight-through × σ′ is exactly local expectation",
            Holds(st_sigmoid_is_local_expectation),
        ),
        c(
            "note:match",
            "only the estimators that never differentiate f apply",
            Holds(|| {
                let m = preset("reward-only").model.to_model();
                for meta in catalogue() {
                    let applies = find(meta.key).unwrap().check(&m).is_ok();
                    ensure(applies != meta.needs_loss_gradient, || format!("{}: applies = {applies}", meta.key))?;
                }
                Ok(())
            }),
        ),
        // ---- The estimators' cards ----
        c(
            "explanation:local-expectation",
            "never noisier than REINFORCE with any constant baseline",
            Holds(|| {
                // The best constant baseline per unit is Bengio's L̄_i (reinforce-optimal, exact).
                for (name, p) in grid().iter().filter(|(_, p)| one_layer(p)) {
                    let (le, ro) = (on(p, "local-expectation"), on(p, "reinforce-optimal"));
                    for (i, (a, b)) in le.variance.iter().zip(&ro.variance).enumerate() {
                        ensure(*a <= b * (1.0 + 1e-12) + 1e-15, || format!("{name}, parameter {i}: {a} > {b}"))?;
                    }
                }
                Ok(())
            }),
        ),
        c(
            "explanation:local-expectation",
            "ARM and DisARM have zero variance and local expectation does not",
            Holds(|| {
                let m = Model {
                    input: vec![],
                    layers: vec![Layer { weights: vec![], bias: vec![0.0; 3], fan_in: 0, unit: UnitKind::Binary }],
                    loss: Loss::Readout { weights: vec![1.0; 3], bias: 0.0, target: 1.5, extension: Extension::Curved },
                };
                let sol = solve(&m).unwrap();
                let v = |k| {
                    run(&m, &sol, k, HyperParams::default(), MethodChoice::Auto, 1 << 16).figures.variance_trace.value
                };
                let (arm, disarm, le) = (v("arm"), v("disarm"), v("local-expectation"));
                ensure(arm.abs() < 1e-15 && disarm.abs() < 1e-15 && (le - 0.375).abs() < 1e-12, || {
                    format!("ARM {arm}, DisARM {disarm}, LE {le}")
                })
            }),
        ),
        c("explanation:local-expectation", "its estimate is a constant (zero variance)", Holds(one_unit_constants)),
        c(
            "explanation:local-expectation",
            "it equals straight-through × σ′ taken with the loss's multilinear extension",
            Holds(st_sigmoid_is_local_expectation),
        ),
        c(
            "explanation:reinforce-optimal",
            "the decay 0.9 used by default",
            Holds(|| ensure(HyperParams::default().decay == 0.9, || "default decay".into())),
        ),
        c(
            "explanation:reinforce-optimal",
            "the same constant for both values of h (zero variance)",
            Holds(one_unit_constants),
        ),
        c(
            "explanation:st",
            "not necessarily less noisy than the unbiased estimators",
            Holds(|| {
                let p = toy_at(0.0);
                let (s, r) = (on(&p, "st").variance[0], on(&p, "reinforce").variance[0]);
                ensure(s > r, || format!("st {s}, reinforce {r}"))
            }),
        ),
        c("explanation:st", "that holds when f's extension is affine in each unit", Holds(right_sign_when_affine)),
        c(
            "explanation:st",
            "its expectation can have the wrong sign",
            Holds(|| {
                let p = preset("wrong-sign");
                ensure(on(&p, "st").mean[0] * gradient(&p)[0] < 0.0, || "same sign".into())
            }),
        ),
        c(
            "explanation:st-sigmoid",
            "It is unbiased (still noisy) for one stochastic layer when f's extension is affine in each unit",
            Holds(st_sigmoid_is_local_expectation),
        ),
        c(
            "explanation:st-sigmoid",
            "its bias is σ′(a)(2σ(a) − 1)",
            Holds(|| {
                for a in [-2.0, -1.0, 0.0, 0.7] {
                    let p = toy_at(a);
                    let (pp, g) = (sigmoid(a), gradient(&toy_at(a))[0]);
                    let bias = on(&p, "st-sigmoid").mean[0] - g;
                    ensure((bias - pp * (1.0 - pp) * (2.0 * pp - 1.0)).abs() < 1e-14, || {
                        format!("a = {a}: bias {bias}")
                    })?;
                }
                Ok(())
            }),
        ),
        c(
            "explanation:st-tempered",
            "as τ → 0 the estimate goes to 0 away from a = 0 and grows like 1/τ at a = 0",
            Holds(tempered_vanishes_away_from_zero),
        ),
        c(
            "explanation:st-tempered",
            "No τ makes it unbiased in general",
            Holds(|| {
                let p = preset("tau");
                for tau in slider_taus() {
                    let b = at_tau(&p, "st-tempered", tau).figures.bias_sq_norm.value;
                    ensure(b > 1e-8, || format!("unbiased at τ = {tau}"))?;
                }
                Ok(())
            }),
        ),
        c(
            "explanation:concrete",
            "Lowering τ brings the relaxation closer to the binary sample",
            Holds(|| variance_falls_with_tau(&grid()[..3])),
        ),
        c(
            "explanation:concrete",
            "on the t = 0.45 toy at a = −1 it is largest near τ = 1",
            Holds(concrete_bias_peaks_near_one),
        ),
        c(
            "explanation:concrete",
            "where bias² and variance are both larger than at τ = 10",
            Holds(concrete_one_worse_than_ten),
        ),
        c("explanation:st-gumbel", "same mean, less variance", Holds(|| gumbel_rao_vs_st_gumbel(&grid()))),
        c(
            "explanation:ar",
            "never less noisy than REINFORCE",
            Holds(|| {
                for (name, p) in &grid() {
                    let (ar, r) = (on(p, "ar"), on(p, "reinforce"));
                    for (i, (a, b)) in ar.variance.iter().zip(&r.variance).enumerate() {
                        ensure(*a >= b * (1.0 - 1e-12), || format!("{name}, parameter {i}: AR {a} < REINFORCE {b}"))?;
                    }
                }
                Ok(())
            }),
        ),
        c("explanation:disarm", "its variance is never larger than ARM's", Holds(|| disarm_never_above_arm(&grid()))),
        c(
            "explanation:disarm",
            "for a single unit at a = 0 it is a constant (zero variance)",
            Holds(|| {
                for t in [0.45, 0.1, 2.0] {
                    let mut p = toy_at(0.0);
                    p.model.target = t;
                    let v = on(&p, "disarm").variance[0];
                    ensure(v == 0.0, || format!("t = {t}: variance {v}"))?;
                }
                Ok(())
            }),
        ),
        c(
            "explanation:darn",
            "its expectation is exactly the true gradient",
            Holds(|| {
                for (name, p) in grid().iter().filter(|(_, p)| one_layer(p) && p.model.loss != LossKind::Softmax) {
                    let (g, d) = (gradient(p), on(p, "darn"));
                    let b = d.figures.bias_sq_norm.value;
                    let scale: f64 = g.iter().map(|x| x * x).sum::<f64>().sqrt();
                    ensure(b <= (1e-12 * scale.max(1e-3)).powi(2) * 100.0, || format!("{name}: bias² {b}"))?;
                }
                Ok(())
            }),
        ),
        c(
            "explanation:reinmax",
            "it is unbiased for one stochastic layer when f's extension is at most quadratic in each unit",
            Holds(reinmax_claims),
        ),
        c("explanation:reinmax", "it does not depend on τ", Holds(reinmax_claims)),
        c(
            "explanation:reinmax",
            "Its authors recommend τ ≥ 1",
            Holds(|| {
                ensure(find_meta("reinmax").unwrap().recommended_tau == Some((1.0, 100.0)), || "recommended τ".into())
            }),
        ),
        c(
            "explanation:noisy-rectifier",
            "The noise is Gaussian with standard deviation 1 by default",
            Holds(|| {
                let h = HyperParams::default();
                ensure(h.noise == stochgrad_core::model::Noise::Gaussian && h.noise_scale == 1.0, || format!("{h:?}"))
            }),
        ),
        // ---- README ----
        c(
            "readme",
            "log sliders move over round values: τ 0.05, 0.06, 0.08, 0.1, 0.12, …, 8, 10",
            Holds(|| {
                let l = stochgrad_app::ladder::ladder(
                    stochgrad_app::state::limits::TAU.0,
                    stochgrad_app::state::limits::TAU.1,
                );
                ensure(l[..5] == [0.05, 0.06, 0.08, 0.1, 0.12] && l[l.len() - 2..] == [8.0, 10.0], || format!("{l:?}"))
            }),
        ),
        c("readme", "The exact gradient is `{}`", Value(|| gradient(&Page::default())[0])),
        c("readme", "the {} images of scikit-learn's digits", Value(|| stochgrad_core::digits::IMAGES as f64)),
        c("readme", "straight-through's expectation is `{}`", Value(|| on(&Page::default(), "st").mean[0])),
        c("readme", "`st` wanders around p ≈ t = 0.45", Holds(st_race_wanders_near_t)),
        c(
            "readme",
            "`reinforce-optimal` drives p towards 0",
            Holds(|| {
                let rows = race(&Page::default(), "reinforce-optimal", 1000);
                ensure(rows.last().unwrap().1 < 0.1, || format!("p = {}", rows.last().unwrap().1))
            }),
        ),
        c(
            "readme",
            "exact derivative of its own objective is {} and",
            Value(|| {
                let r = on(&Page::default(), "sts");
                r.objective.as_ref().unwrap().solution.gradient[0]
            }),
        ),
        c("readme", "STS's expectation {}, the wrong sign", Value(|| on(&Page::default(), "sts").mean[0])),
        c("readme", "(seeds 1–5: steps {}–", Value(|| *steps_below_a_tenth().iter().min().unwrap() as f64)),
        c("readme", "–{}; `tests/claims.rs` recomputes", Value(|| *steps_below_a_tenth().iter().max().unwrap() as f64)),
        c("readme", "changes sign at p* = {} (τ = 0.5)", Value(|| stationary_p("concrete", 0.5))),
        c("readme", "(τ = 0.5) and {} (τ = 1), and", Value(|| stationary_p("concrete", 1.0))),
        c("readme", "ST-Gumbel's p* = {} /", Value(|| stationary_p("st-gumbel", 0.5))),
        c("readme", "/ {}.", Value(|| stationary_p("st-gumbel", 1.0))),
        c("readme", "averages p ≈ {}–", Value(|| concrete_race_range().0)),
        c("readme", "–{} over its last quarter", Value(|| concrete_race_range().1)),
        c("readme", "converges to p = t² = {} exactly", Value(|| 0.45f64 * 0.45)),
        c("readme", "its own objective from {} to", Value(|| sts_objective(-1.0))),
        c("readme", "to {}, whose minimum", Value(|| sts_objective(stochgrad_core::math::logit(0.45 * 0.45)))),
        c(
            "readme",
            "whose minimum ({})",
            Value(|| {
                let s = 4.0 * 0.45 / 3.0;
                sts_objective(stochgrad_core::math::logit(s * s))
            }),
        ),
        c(
            "readme",
            "`sts` converges to p = t²",
            Holds(|| {
                let mut p = Page::default();
                p.race_lr = 0.1;
                let rows = race(&p, "sts", 5000);
                let last = rows.last().unwrap().1;
                ensure((last - 0.45f64.powi(2)).abs() < 1e-6, || format!("p = {last}"))
            }),
        ),
        c(
            "readme",
            "With the default Gaussian noise (σ = 1) that objective has its minimum at an interior p",
            Holds(|| {
                // Its own objective on a grid of logits: the smallest value is at a finite logit and
                // below t², the limit as a → −∞ (h → 0).
                let values: Vec<(f64, f64)> = (-60..=20)
                    .map(|i| i as f64 * 0.1)
                    .map(|a| (a, rectifier_objective(a, stochgrad_core::model::Noise::Gaussian)))
                    .collect();
                let (a, best) = values.iter().cloned().fold((0.0, f64::INFINITY), |m, v| if v.1 < m.1 { v } else { m });
                ensure(best < 0.45f64.powi(2) && a > -5.0 && a < 1.0, || format!("minimum {best} at a = {a}"))
            }),
        ),
        c(
            "readme",
            "with logistic noise (`--noise logistic`) its minimum is at h → 0",
            Holds(|| {
                let values: Vec<f64> = (-60..=20)
                    .map(|i| rectifier_objective(i as f64 * 0.1, stochgrad_core::model::Noise::Logistic))
                    .collect();
                ensure(values.windows(2).all(|w| w[1] > w[0]), || format!("not increasing in a: {values:?}"))
            }),
        ),
        c(
            "readme",
            "at most `K^n ≤ {}` states",
            Value(|| (1u64 << stochgrad_core::settings::bounds::CATEGORICAL_STATES_LOG2) as f64),
        ),
        c("readme", "at most {} outputs per layer", Value(|| stochgrad_core::json::MAX_CATEGORICAL_WIDTH as f64)),
        c("readme", "\"classes\": K` (2 to {}, at most", Value(|| stochgrad_core::json::MAX_CATEGORIES as f64)),
        c("readme", "**Classes K** slider (2–{}; URL", Value(|| stochgrad_core::settings::bounds::CATEGORIES.1 as f64)),
        c("readme", "(λ = {}) on each gate's", Value(|| stochgrad_core::gating::GatingConfig::default().penalty)),
        c("readme", "(Adam, lr {}, 3000 steps", Value(|| stochgrad_core::gating::GatingConfig::default().lr)),
        c("readme", "lr 0.03, {} steps of", Value(|| stochgrad_core::gating::GatingConfig::default().steps as f64)),
        c(
            "readme",
            "is {}th of 7 on test error",
            Value(|| {
                let bs: f64 =
                    texts::PAPER_GATING.iter().find(|r| r.0 == "Baseline Sigmoid").unwrap().3.parse().unwrap();
                1.0 + texts::PAPER_GATING.iter().filter(|r| r.3.parse::<f64>().unwrap() < bs).count() as f64
            }),
        ),
    ]
}

// ---- Shared computations of the claims ----

/// The class probabilities `softmax(a)` of a page's first categorical unit (no inputs).
fn class_probabilities(page: &Page) -> Vec<f64> {
    let model = page.model.to_model();
    let k = page.model.categories;
    let mut a = vec![0.0; model.layers[0].width()];
    model.layers[0].preactivation(&model.input, &mut a);
    let z: f64 = a[..k].iter().map(|x| x.exp()).sum();
    a[..k].iter().map(|x| x.exp() / z).collect()
}

/// The two-class story's loss is twice the binary toy's at every state, and so are E[f] and the
/// exact gradient with respect to a.
fn twice_binary() -> Result<(), String> {
    let (c, b) = (preset("two-classes"), toy_at(-1.0));
    let (mc, mb) = (c.model.to_model(), b.model.to_model());
    for h0 in [0.0, 1.0] {
        let (fc, fb) = (mc.loss.value(&[h0, 1.0 - h0]), mb.loss.value(&[h0]));
        ensure((fc - 2.0 * fb).abs() < 1e-15, || format!("h₀ = {h0}: {fc} vs 2 × {fb}"))?;
    }
    let (sc, sb) = (solve(&mc).unwrap(), solve(&mb).unwrap());
    ensure((sc.expected_loss - 2.0 * sb.expected_loss).abs() < 1e-15, || "E[f]".into())?;
    ensure((sc.gradient[0] - 2.0 * sb.gradient[0]).abs() < 1e-15, || format!("{:?} vs {:?}", sc.gradient, sb.gradient))
}

/// On a story's model, ReinMax's exact bias² is zero at τ = 1 and positive at every other τ of the
/// page's slider.
fn reinmax_exact_only_at_one(story: &str) -> Result<(), String> {
    let p = preset(story);
    let g2: f64 = gradient(&p).iter().map(|x| x * x).sum();
    for tau in slider_taus() {
        let b = at_tau(&p, "reinmax", tau).figures.bias_sq_norm.value;
        if (tau - 1.0).abs() < 1e-9 {
            ensure(is_zero(b, g2.sqrt()), || format!("ReinMax at τ = 1: bias² {b}"))?;
        } else {
            ensure(b > 1e-10 * g2, || format!("ReinMax at τ = {tau}: bias² {b}"))?;
        }
    }
    Ok(())
}

/// Each estimator's exact mean is the exact gradient in every parameter.
fn exact_everywhere(story: &str, keys: &[&str]) -> Result<(), String> {
    let p = preset(story);
    let g = gradient(&p);
    for k in keys {
        let r = on(&p, k);
        ensure(r.method == stochgrad_core::stats::Method::Exact, || format!("{k}: {:?}", r.method))?;
        let d: f64 = r.mean.iter().zip(&g).map(|(a, b)| (a - b).abs()).sum();
        ensure(d < 1e-14, || format!("{k}: {:?} vs {g:?}", r.mean))?;
    }
    Ok(())
}

/// How far the simplex plot's Gumbel-softmax samples sit from the centre at τ (the Gumbel-softmax
/// story's settings and sampling seed), as its caption says.
fn simplex_spread(tau: f64) -> f64 {
    let mut page = preset("gumbel-softmax");
    page.tau = tau;
    stochgrad_app::plots::Simplex::from_state(&stochgrad_app::state::State::new(page)).spread()
}

/// The toy loss's targets of a story's model (what the engine uses, not the page's setting).
fn toy_target(story: &str) -> Vec<f64> {
    match preset(story).model.to_model().loss {
        Loss::Toy { target, .. } => target,
        other => panic!("{story}: not the toy loss: {other:?}"),
    }
}

/// Gumbel-softmax (`concrete`) on a story's model at τ, by Monte Carlo with the page's sampling
/// seed (2^16 draws).
fn gumbel_softmax_at(story: &str, tau: f64) -> Report {
    let mut p = preset(story);
    p.tau = tau;
    mc(&p, "concrete", 1 << 16)
}

/// On the Gumbel-softmax story: Gumbel-Rao's Monte-Carlo mean equals ST Gumbel-softmax's within 4
/// combined standard errors in every parameter, and its variance is lower.
fn gumbel_rao_vs_st_gumbel_categorical() -> Result<(), String> {
    let p = preset("gumbel-softmax");
    let (s, g) = (mc(&p, "st-gumbel", 1 << 16), mc(&p, "gumbel-rao", 1 << 16));
    let (ss, gs) = (s.stderr.clone().unwrap(), g.stderr.clone().unwrap());
    for i in 0..s.mean.len() {
        let tol = 4.0 * (ss[i] * ss[i] + gs[i] * gs[i]).sqrt();
        ensure((s.mean[i] - g.mean[i]).abs() < tol, || format!("{i}: {} vs {} (4 s.e. {tol})", s.mean[i], g.mean[i]))?;
    }
    let (vs, vg) = (s.figures.variance_trace.value, g.figures.variance_trace.value);
    ensure(vg < 0.8 * vs, || format!("variance {vg} vs {vs}"))
}

fn exact_here(story: &str, key: &str) -> Result<(), String> {
    let p = preset(story);
    let (g, m) = (gradient(&p)[0], on(&p, key).mean[0]);
    ensure((g - m).abs() < 1e-16, || format!("{key}: {m} vs {g}"))
}

fn wrong_signs(story: &str, key: &str) -> usize {
    let p = preset(story);
    let (g, m) = (gradient(&p), on(&p, key).mean);
    g.iter().zip(&m).filter(|(g, m)| **g * **m < 0.0).count()
}

/// Straight-through's mean has the sign of the gradient for every parameter, on one layer, when f's
/// extension is affine in each unit (the multilinear one): Bengio et al.'s "right sign".
fn right_sign_when_affine() -> Result<(), String> {
    for (name, p) in grid().into_iter().filter(|(_, p)| one_layer(p)) {
        let p = with_extension(p, Extension::Multilinear);
        let (g, m) = (gradient(&p), on(&p, "st").mean);
        for (i, (g, m)) in g.iter().zip(&m).enumerate() {
            ensure(g * m >= 0.0 && (g == &0.0) == (m == &0.0), || format!("{name}, parameter {i}: ∇ {g}, st {m}"))?;
        }
    }
    Ok(())
}

fn st_sigmoid_is_local_expectation() -> Result<(), String> {
    for (name, p) in grid().into_iter().filter(|(_, p)| one_layer(p)) {
        let p = with_extension(p, Extension::Multilinear);
        let (g, s, l) = (gradient(&p), on(&p, "st-sigmoid"), on(&p, "local-expectation"));
        for i in 0..g.len() {
            let scale = g[i].abs() + l.variance[i].sqrt() + 1e-300;
            ensure((s.mean[i] - g[i]).abs() <= 1e-12 * scale, || format!("{name}: st-sigmoid biased at {i}"))?;
            ensure((s.mean[i] - l.mean[i]).abs() <= 1e-12 * scale, || format!("{name}: means differ at {i}"))?;
            ensure((s.variance[i] - l.variance[i]).abs() <= 1e-12 * scale * scale, || {
                format!("{name}: variances differ at {i}")
            })?;
        }
    }
    Ok(())
}

fn one_unit_constants() -> Result<(), String> {
    for a in [-1.0, 0.0, 2.5] {
        for key in ["reinforce-optimal", "local-expectation"] {
            let v = on(&toy_at(a), key).variance[0];
            ensure(v.abs() < 1e-30, || format!("{key} at a = {a}: variance {v}"))?;
        }
    }
    Ok(())
}

fn concrete_bias_peaks_near_one() -> Result<(), String> {
    let p = preset("tau");
    let (mut best, mut at) = (0.0, 0.0);
    for tau in slider_taus() {
        let b = at_tau(&p, "concrete", tau).figures.bias_sq_norm.value;
        if b > best {
            (best, at) = (b, tau);
        }
    }
    ensure((0.5..=1.5).contains(&at), || format!("Concrete's bias² peaks at τ = {at}"))
}

fn concrete_one_worse_than_ten() -> Result<(), String> {
    let p = preset("tau");
    let (one, ten) = (at_tau(&p, "concrete", 1.0).figures, at_tau(&p, "concrete", 10.0).figures);
    ensure(
        one.bias_sq_norm.value > ten.bias_sq_norm.value && one.variance_trace.value > ten.variance_trace.value,
        || format!("τ = 1: {one:?}; τ = 10: {ten:?}"),
    )
}

fn variance_falls_with_tau(models: &[(String, Page)]) -> Result<(), String> {
    for (name, p) in models {
        for key in ["concrete", "st-gumbel", "gumbel-rao"] {
            let v: Vec<f64> = TAU_GRID.iter().map(|t| at_tau(p, key, *t).figures.variance_trace.value).collect();
            ensure(v.windows(2).all(|w| w[1] < w[0]), || {
                format!("{key} on {name}: variances {v:?} over τ {TAU_GRID:?}")
            })?;
        }
    }
    Ok(())
}

fn tempered_vanishes_away_from_zero() -> Result<(), String> {
    // Away from a = 0: the estimate → 0, bias² → ‖∇‖².
    for (name, p) in [("toy a = −1".to_string(), toy_at(-1.0)), ("three-unit readout".to_string(), preset("baselines"))]
    {
        let g2: f64 = gradient(&p).iter().map(|x| x * x).sum();
        let r = at_tau(&p, "st-tempered", 0.05);
        let m: f64 = r.mean.iter().map(|x| x.abs()).sum();
        ensure(m < 1e-3 * g2.sqrt() && (r.figures.bias_sq_norm.value / g2 - 1.0).abs() < 1e-2, || {
            format!("{name} at τ = 0.05: mean {:?}, bias² {} vs ‖∇‖² {g2}", r.mean, r.figures.bias_sq_norm.value)
        })?;
    }
    // At a = 0: the variance grows like 1/τ² (the estimate like 1/τ): 1/(16τ²) on the toy.
    for tau in TAU_GRID {
        let v = at_tau(&toy_at(0.0), "st-tempered", tau).variance[0];
        ensure((v * 16.0 * tau * tau - 1.0).abs() < 1e-12, || format!("a = 0, τ = {tau}: variance {v}"))?;
    }
    Ok(())
}

fn reinmax_claims() -> Result<(), String> {
    for (name, p) in grid().into_iter().filter(|(_, p)| one_layer(p) && p.model.loss != LossKind::Softmax) {
        let g2: f64 = gradient(&p).iter().map(|x| x * x).sum();
        let b = at_tau(&p, "reinmax", 1.0).figures.bias_sq_norm.value;
        ensure(b <= 1e-20 * g2.max(1e-6), || format!("{name}: ReinMax at τ = 1 has bias² {b}"))?;
        if name != "toy a = 0" {
            for tau in [0.5, 2.0] {
                let b = at_tau(&p, "reinmax", tau).figures.bias_sq_norm.value;
                ensure(b > 1e-8 * g2, || format!("{name}: ReinMax unbiased at τ = {tau}"))?;
            }
        }
    }
    let p = toy_at(0.0);
    let first = at_tau(&p, "reinmax", 0.05);
    for tau in TAU_GRID {
        let r = at_tau(&p, "reinmax", tau);
        ensure(r.mean == first.mean && r.variance == first.variance, || format!("a = 0: depends on τ at {tau}"))?;
    }
    Ok(())
}

fn gumbel_rao_vs_st_gumbel(models: &[(String, Page)]) -> Result<(), String> {
    for (name, p) in models.iter().filter(|(_, p)| one_layer(p)) {
        for tau in [0.1, 0.5, 2.0] {
            let (s, g) = (at_tau(p, "st-gumbel", tau), at_tau(p, "gumbel-rao", tau));
            let d: f64 = s.mean.iter().zip(&g.mean).map(|(a, b)| (a - b).abs()).sum();
            let scale: f64 = s.mean.iter().map(|x| x.abs()).sum::<f64>() + 1e-300;
            ensure(d <= 1e-9 * scale, || format!("{name}, τ = {tau}: means differ by {d}"))?;
            ensure(g.figures.variance_trace.value < s.figures.variance_trace.value, || {
                format!("{name}, τ = {tau}: variance")
            })?;
        }
    }
    Ok(())
}

fn disarm_never_above_arm(models: &[(String, Page)]) -> Result<(), String> {
    for (name, p) in models
        .iter()
        .filter(|(_, p)| one_layer(p))
        .chain(std::iter::once(&("antithetic story".to_string(), preset("antithetic"))))
    {
        let (a, d) = (on(p, "arm"), on(p, "disarm"));
        for (i, (x, y)) in d.variance.iter().zip(&a.variance).enumerate() {
            ensure(*x <= y * (1.0 + 1e-12) + 1e-15, || format!("{name}, parameter {i}: DisARM {x} > ARM {y}"))?;
        }
    }
    Ok(())
}

/// Where an estimator's exact mean on the toy (t = 0.45) changes sign, in p (bisection on the logit).
fn stationary_p(key: &str, tau: f64) -> f64 {
    let mean = |a: f64| at_tau(&toy_at(a), key, tau).mean[0];
    let (mut lo, mut hi) = (-3.0, 0.0);
    assert!(mean(lo) < 0.0 && mean(hi) > 0.0, "{key}: no sign change");
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if mean(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    sigmoid(0.5 * (lo + hi))
}

/// 20,000-step Concrete races (SGD, lr 0.1) on the toy, seeds 1–5, τ = 0.5 and 1: the smallest and
/// largest mean p over the last quarter.
fn concrete_race_range() -> (f64, f64) {
    let mut means = Vec::new();
    for tau in [0.5, 1.0] {
        for seed in 1..=5 {
            let mut p = Page::default();
            (p.tau, p.race_lr, p.sampling_seed) = (tau, 0.1, seed);
            let rows = race(&p, "concrete", 20_000);
            let tail = &rows[15_000..];
            means.push(tail.iter().map(|r| r.1).sum::<f64>() / tail.len() as f64);
        }
    }
    (means.iter().cloned().fold(f64::INFINITY, f64::min), means.iter().cloned().fold(0.0, f64::max))
}

/// STS's own objective on the toy at logit a.
fn sts_objective(a: f64) -> f64 {
    on(&toy_at(a), "sts").objective.unwrap().solution.expected_loss
}

/// The noisy rectifier's own objective on the toy at logit a (quadrature).
fn rectifier_objective(a: f64, noise: stochgrad_core::model::Noise) -> f64 {
    on_with(&toy_at(a), "noisy-rectifier", |h| h.noise = noise).objective.unwrap().solution.expected_loss
}

/// A race on a page's network: (step, p) for every step.
fn race(page: &Page, key: &str, steps: u64) -> Vec<(u64, f64)> {
    let model = page.model.to_model();
    let mut r =
        Race::new(model, find(key).unwrap(), page.hp(), page.race_optimizer, page.race_lr, page.sampling_seed).unwrap();
    let mut out = vec![(0, r.evaluate().unwrap().p.unwrap())];
    for s in 1..=steps {
        r.advance().unwrap();
        out.push((s, r.evaluate().unwrap().p.unwrap()));
    }
    out
}

/// The page's default race (SGD, lr 0.3, 1000 steps): straight-through's last quarter averages
/// p within 0.1 of t = 0.45.
fn st_race_wanders_near_t() -> Result<(), String> {
    let rows = race(&Page::default(), "st", 1000);
    let tail: Vec<f64> = rows[750..].iter().map(|r| r.1).collect();
    let mean = tail.iter().sum::<f64>() / tail.len() as f64;
    ensure((mean - 0.45).abs() < 0.1, || format!("last quarter averages p = {mean}"))
}

/// README: the step at which `reinforce-optimal` (SGD, lr 1) first has p < 0.1, seeds 1–5.
fn steps_below_a_tenth() -> Vec<u64> {
    (1..=5)
        .map(|seed| {
            let mut p = Page::default();
            p.sampling_seed = seed;
            p.race_lr = 1.0;
            race(&p, "reinforce-optimal", 150).iter().find(|r| r.1 < 0.1).map_or(u64::MAX, |r| r.0)
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------
// Texts
// ------------------------------------------------------------------------------------------------

/// Every text the checks cover, by key.
fn all_texts() -> BTreeMap<String, String> {
    let mut t = BTreeMap::new();
    for p in &PRESETS {
        t.insert(format!("story:{}", p.key), format!("{} — {}", p.title, p.story));
    }
    for q in &QUESTIONS {
        let text = format!("{} — {} — {} — {}", q.setup, q.prompt, q.choices.join(" · "), q.why);
        t.insert(format!("question:{}", q.story), text);
    }
    for (term, text) in texts::HOW_TO_READ {
        t.insert(format!("help:{term}"), text.to_string());
    }
    t.insert("note:readout".into(), texts::READOUT_NOTE.into());
    t.insert("note:race".into(), texts::RACE_NOTE.into());
    t.insert("note:match".into(), texts::MATCH_NOTE.into());
    t.insert("note:extension".into(), texts::EXTENSION_NOTE.into());
    t.insert("note:wrt-p".into(), texts::WRT_P.into());
    t.insert("caption:paper-gating".into(), texts::PAPER_GATING_CAPTION.into());
    t.insert("note:paper-gating".into(), texts::PAPER_GATING_SETUP.into());
    for m in catalogue() {
        t.insert(format!("explanation:{}", m.key), m.explanation.to_string());
    }
    // Lines joined: a snippet may span a line break.
    t.insert("readme".into(), readme_prose().split_whitespace().collect::<Vec<_>>().join(" "));
    t
}

/// The README without its code blocks and generated blocks (checked verbatim elsewhere) and without
/// the estimators' formula table.
fn readme_prose() -> String {
    let mut out = String::new();
    let (mut code, mut generated) = (false, false);
    for line in README.lines() {
        let l = line.trim_start();
        if l.starts_with("<!-- generated:") {
            generated = true;
            continue;
        }
        if l.starts_with("<!-- end -->") {
            generated = false;
            continue;
        }
        if l.starts_with("```") {
            code = !code;
            continue;
        }
        let skip = code || generated;
        // The estimators' formula table, and the paper's table (checked row by row against
        // `texts::PAPER_GATING` below).
        let paper_row = texts::PAPER_GATING.iter().any(|r| l.starts_with(&format!("| {} |", r.0)));
        if skip || paper_row || l.starts_with("| `") || l.starts_with("|---") || l.starts_with("| key |") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Numbers a text may state without a computation: the settings it describes, limits, constants of
/// the design and quotations.
fn declared(text: &str) -> Vec<&'static str> {
    let mut d: Vec<&'static str> = match text {
        "story:wrong-sign" => vec!["0.45", "−1", "0.5", "2013"],
        "story:extension" => vec!["0.5"],
        "story:toy-045" => vec!["0.45", "0.5"],
        "question:toy-045" => vec!["0.45", "0.5"],
        "question:toy-0499" => vec!["0.499"],
        "story:toy-0499" => vec!["0.499", "0.5"],
        "story:tau" => vec!["−1", "0.05", "10"],
        "story:two-classes" | "question:two-classes" => vec!["−1", "0.45", "0.55", "0"],
        "story:gumbel-softmax" => vec!["−1", "0.45", "0.5", "0.1", "10", "0", "1", "10⁻⁴"],
        "story:reinmax-k8" => vec!["−1", "0", "8"],
        "story:learned-predictor" => vec!["2013", "10,000", "100,000"],
        "help:Temperature sweep" => vec!["−1"],
        "help:Convergence" => vec!["−1"],
        "note:race" => vec!["0.45"],
        "explanation:local-expectation" => vec!["1.5"],
        "explanation:reinforce-optimal" => vec!["0.9"],
        "explanation:concrete" => vec!["0.45", "−1", "10"],
        "explanation:st" => vec!["2013"],
        "explanation:gumbel-rao" => vec![],
        "explanation:noisy-rectifier" => vec![],
        // The paper's setup, quoted.
        "note:paper-gating" => vec!["400", "2000", "10%", "200"],
        "readme" => README_DECLARED.to_vec(),
        _ => vec![],
    };
    d.sort();
    d
}

/// The README's numbers that are not engine output: versions, limits, settings of the examples and
/// the gating miniature, tolerances of the tests, quotations of the paper.
const README_DECLARED: &[&str] = &[
    // the categorical brute force's random networks (core/tests/categorical.rs)
    "36",
    // versions (trunk 0.21.14, binaryen 132) and timings of the setup; PNG export at 2×
    "0.21",
    "132",
    "15",
    "2×", // the default toy and its settings
    "0.45",
    "−1",
    "0.499",
    "0.3",
    "1000",
    "0.5",
    // size limits and the page's ranges (core/src/limits.rs, settings::bounds)
    "24",
    "20",
    "13",
    "12",
    "2¹⁵",
    "10⁴",
    "10⁻⁴", // training-race examples: settings
    "150",
    "0.1",
    "0.2125",
    "2000",
    "20,000", // the gating miniature's configuration
    "0.7",
    "1000",
    "16",
    "3000",
    "0.03",
    "25 %",
    "10 %",
    "64",
    "10", // quotations of the paper (Figure 2)
    "2013",
    "400",
    "200",
    "2000",
    "10%",
    "1.87",
    "1.96",
    "1.89 %",
    "0.1",
    "100",
    "0.001",
    // the digits data: 8×8 pixels, its issue number, the scikit-learn version it is taken from,
    // the split (core/tests/digits.rs checks it)
    "8×",
    "18",
    "1.9",
    "359",
    "1438",
    // the discrete VAE: digits train's defaults, the tests' draws and margins (core/tests/vae.rs)
    "50",
    "0.003",
    "4000",
    "2.5",
    "600",
    // quotations beside it: MNIST's size; RELAX's Table 1 (2018), Gumbel-Rao's table (2021),
    // MuProp's Table 3 (2016), DisARM's paper (2020), and the spread of RELAX's linear row (−112.5 to −111.20)
    "28×",
    "28",
    "784",
    "2018",
    "2021",
    "2016",
    "2020",
    "−102.2",
    "−101.5",
    "−101.1",
    "−81.01",
    "−78.13",
    "−111.3",
    "−112.5",
    "−111.7",
    "−111.6",
    "−111.20",
    "98.2",
    "202.6",
    "105.5",
    "100.7",
    "100.5",
    "99.7",
    "100.4",
    "119.9",
    "103.5",
    "1.3",
    // tests' tolerances
    "1e-12", // the τ slider's steps (checked against src/ladder.rs by a claim)
    "0.05",
    "0.06",
    "0.08",
    "0.12",
];

// ------------------------------------------------------------------------------------------------
// Numbers in text
// ------------------------------------------------------------------------------------------------

/// A number as written in the texts: `0.0197`, `+0.1`, `−0.362`, `10,000`, `7·10⁻⁴`, `10⁻⁵`, `4×`,
/// `14 %`. Returns the value, half a unit in its last printed place, and its length in bytes.
fn parse_number(s: &str) -> Option<(f64, f64, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut sign = 1.0;
    if let Some(rest) = s.strip_prefix('−') {
        sign = -1.0;
        i = s.len() - rest.len();
    } else if b.first() == Some(&b'-') {
        sign = -1.0;
        i = 1;
    } else if b.first() == Some(&b'+') {
        i = 1;
    }
    let start = i;
    let mut digits = String::new();
    while i < b.len() && b[i].is_ascii_digit() {
        digits.push(b[i] as char);
        i += 1;
        // Thousands separators: a comma followed by exactly three digits.
        let three = b.len() >= i + 4
            && b[i + 1..i + 4].iter().all(u8::is_ascii_digit)
            && b.get(i + 4).is_none_or(|c| !c.is_ascii_digit());
        if b.get(i) == Some(&b',') && three {
            i += 1;
        }
    }
    if i == start {
        return None;
    }
    let mut decimals = 0i32;
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        digits.push('.');
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            digits.push(b[i] as char);
            decimals += 1;
            i += 1;
        }
    }
    let mut value: f64 = digits.parse().ok()?;
    let mut exponent = 0i32;
    // `·10⁻⁴` after a mantissa, or a bare `10⁻⁵`.
    let rest = &s[i..];
    let sup = |r: &str| -> Option<(i32, usize)> {
        let mut neg = false;
        let mut n = 0i32;
        let mut used = 0;
        let mut any = false;
        for ch in r.chars() {
            let d = match ch {
                '⁻' if !any && !neg => {
                    neg = true;
                    used += ch.len_utf8();
                    continue;
                }
                '⁰' => 0,
                '¹' => 1,
                '²' => 2,
                '³' => 3,
                '⁴' => 4,
                '⁵' => 5,
                '⁶' => 6,
                '⁷' => 7,
                '⁸' => 8,
                '⁹' => 9,
                _ => break,
            };
            n = n * 10 + d;
            any = true;
            used += ch.len_utf8();
        }
        any.then_some((if neg { -n } else { n }, used))
    };
    if let Some(r) = rest.strip_prefix("·10") {
        let (e, used) = sup(r)?;
        exponent = e;
        i += "·10".len() + used;
    } else if digits == "10" {
        if let Some((e, used)) = sup(rest) {
            value = 1.0;
            exponent = e;
            i += used;
        }
    } else if let Some((e, used)) = sup(rest) {
        // `2¹⁵`: a power of another base.
        value = value.powi(e);
        i += used;
        return Some((sign * value, 0.0, i));
    }
    let scale = 10f64.powi(exponent);
    let half = 0.5 * 10f64.powi(-decimals) * scale;
    // A trailing percent sign or "×" belongs to the number.
    let rest = &s[i..];
    for suffix in [" %", "%", "×"] {
        if rest.starts_with(suffix) {
            i += suffix.len();
            break;
        }
    }
    Some((sign * value * scale, half, i))
}

/// Every number token in a text: (byte offset, token). Single digits (formula constants such as the
/// 2 of 2(p − t)) are left out unless a × or % follows; so are numbers inside names (`c1[0]`, `W1`,
/// `h_i`), after `§`, and equation, section, table and figure numbers.
fn numbers(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let ch = rest.chars().next().unwrap();
        let prev = text[..i].chars().next_back();
        let starts = ch.is_ascii_digit()
            || ((ch == '−' || ch == '+' || ch == '-')
                && rest[ch.len_utf8()..].starts_with(|c: char| c.is_ascii_digit()));
        let name_before = prev.is_some_and(|p| {
            p.is_alphanumeric()
                || matches!(p, '_' | '[' | '.' | '^' | '/' | '§' | '·')
                || (ch == '-' || ch == '+') && p.is_alphanumeric()
        });
        if starts && !name_before {
            if let Some((_, _, len)) = parse_number(rest) {
                let tok = &rest[..len];
                let before = &text[..i];
                let reference = [
                    "Eq. ",
                    "eq. ",
                    "eqs. ",
                    "Table ",
                    "Figure ",
                    "Fig. ",
                    "arXiv:",
                    "lecture ",
                    "Proposition ",
                    "Corollary ",
                    "Theorem ",
                    "appendix A.",
                    "§",
                ]
                .iter()
                .any(|r| before.ends_with(r));
                let single = tok.len() == 1;
                if !reference && !single {
                    out.push((i, tok.to_string()));
                }
                i += len;
                continue;
            }
        }
        i += ch.len_utf8();
    }
    out
}

// ------------------------------------------------------------------------------------------------
// Tests
// ------------------------------------------------------------------------------------------------

/// Where a claim's snippet is in its text, and the number at its `{}`.
/// Where a snippet starts, and the number at its `{}`: (value, half a unit in its last place, byte
/// offset, length).
type Located = (usize, Option<(f64, f64, usize, usize)>);

fn locate(text: &str, snippet: &str) -> Result<Located, String> {
    match snippet.split_once("{}") {
        None => text.find(snippet).map(|at| (at, None)).ok_or_else(|| "snippet not found".to_string()),
        Some((pre, post)) => {
            let mut from = 0;
            while let Some(off) = text[from..].find(pre) {
                let at = from + off;
                let num_at = at + pre.len();
                if let Some((v, half, len)) = parse_number(&text[num_at..]) {
                    // A "×" or "%" the number took belongs to the snippet's text as well.
                    let tok = &text[num_at..num_at + len];
                    let post = match (tok.ends_with('×'), tok.ends_with('%')) {
                        (true, _) => post.strip_prefix('×').unwrap_or(post),
                        (_, true) => post.strip_prefix(" %").or(post.strip_prefix('%')).unwrap_or(post),
                        _ => post,
                    };
                    if text[num_at + len..].starts_with(post) {
                        return Ok((at, Some((v, half, num_at, len))));
                    }
                }
                // On past the prefix (or, for an empty one, past one character, not into it).
                from = at + pre.len().max(text[at..].chars().next().map_or(1, char::len_utf8));
            }
            Err("snippet with a number not found".to_string())
        }
    }
}

#[test]
fn every_claim_is_in_its_text_and_true() {
    let texts = all_texts();
    let mut failures = Vec::new();
    for claim in claims() {
        let Some(text) = texts.get(claim.text) else {
            failures.push(format!("{}: no such text", claim.text));
            continue;
        };
        let found = match locate(text, claim.snippet) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{}: {e}: {:?}", claim.text, claim.snippet));
                continue;
            }
        };
        let shown = found.1.map(|(v, half, at, len)| (v, half, text[at..at + len].to_string()));
        let outcome = match (&claim.check, shown) {
            (Check::Value(f), Some((v, half, tok))) => {
                let x = f();
                let ok = (x - v).abs() <= half * (1.0 + 1e-9) + 1e-12 * x.abs();
                ensure(ok, || format!("the text says {tok}, the engine gives {x}"))
            }
            (Check::Near(f, rel), Some((v, half, tok))) => {
                let x = f();
                let ok = (x - v).abs() <= half.max(rel * v.abs());
                ensure(ok, || format!("the text says {tok}, the engine gives {x} (tolerance {rel} relative)"))
            }
            (Check::Holds(f), None) => f(),
            _ => Err("a number check needs a {} in its snippet, a Holds check none".into()),
        };
        if let Err(e) = outcome {
            failures.push(format!("{} — {:?}: {e}", claim.text, claim.snippet));
        }
    }
    assert!(failures.is_empty(), "{} claim(s) fail:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_number_is_a_checked_claim_or_a_declared_setting() {
    let claims = claims();
    let mut failures = Vec::new();
    for (key, text) in all_texts() {
        // The spans of the numbers the claims check.
        let checked: Vec<(usize, usize)> = claims
            .iter()
            .filter(|c| c.text == key)
            .filter_map(|c| locate(&text, c.snippet).ok().and_then(|(_, n)| n.map(|(_, _, at, len)| (at, at + len))))
            .collect();
        let declared = declared(&key);
        for (at, tok) in numbers(&text) {
            let covered = checked.iter().any(|(a, b)| at >= *a && at < *b);
            let year = tok.len() == 4 && (1990..=2030).contains(&tok.parse::<u32>().unwrap_or(0));
            let allowed = covered || declared.contains(&tok.as_str()) || (year && key != "readme");
            if !allowed {
                let from = (0..=at.saturating_sub(40)).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
                let context: String = text[from..].chars().take(80).collect();
                failures.push(format!("{key}: {tok} is neither a checked claim nor declared — …{context}…"));
            }
        }
    }
    assert!(failures.is_empty(), "{} unchecked number(s):\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_number_reader_reads_what_the_texts_write() {
    fn p(s: &str) -> Option<(f64, f64, &str)> {
        parse_number(s).map(|(v, h, l)| (v, h, &s[..l]))
    }
    assert_eq!(p("+0.0197: x"), Some((0.0197, 0.00005, "+0.0197")));
    assert_eq!(p("−0.362)"), Some((-0.362, 0.0005, "−0.362")));
    assert_eq!(p("10,000 samples"), Some((10000.0, 0.5, "10,000")));
    assert_eq!(p("250,000 samples").map(|x| x.0), Some(250000.0));
    let (v, h, t) = p("7·10⁻⁴)").unwrap();
    assert!((v - 7e-4).abs() < 1e-18 && (h - 0.5e-4).abs() < 1e-18 && t == "7·10⁻⁴");
    let (v, _, t) = p("10⁻⁵,").unwrap();
    assert!((v - 1e-5).abs() < 1e-20 && t == "10⁻⁵");
    assert_eq!(p("4× too").map(|x| (x.0, x.2)), Some((4.0, "4×")));
    assert_eq!(p("14 % low").map(|x| (x.0, x.2)), Some((14.0, "14 %")));
    assert_eq!(p("1, 2").map(|x| x.2), Some("1"));
    let found: Vec<String> =
        numbers("c1[0] W1 h_2 §4 Eq. 13 a = −1, p = 0.27 and 2(p − t), 4× and 0.1.").into_iter().map(|n| n.1).collect();
    assert_eq!(found, vec!["−1", "0.27", "4×", "0.1"]);
}

/// The one choice of `keys` (estimators, in the question's order) for which `pick` holds, or an error
/// if none or several do.
fn the_one(story: &str, keys: &[&str], pick: impl Fn(&Page, &str) -> bool) -> Result<usize, String> {
    let p = preset(story);
    if let Some(k) = keys.iter().find(|k| !p.estimators.iter().any(|e| e == *k)) {
        return Err(format!("{story}: the question asks about {k}, which the story does not show"));
    }
    let hits: Vec<usize> = (0..keys.len()).filter(|i| pick(&p, keys[*i])).collect();
    match hits[..] {
        [i] => Ok(i),
        _ => Err(format!("{story}: the choices {hits:?} of {keys:?} qualify, not exactly one")),
    }
}

/// Predict, then reveal: each story's question has the answer the engine gives on the story's own
/// settings (the page keeps its plots hidden until the student commits, then says this answer is
/// right).
#[test]
fn every_question_is_answered_by_the_engine() {
    let unbiased = |p: &Page, k: &str| {
        let (g, m) = (gradient(p), on(p, k).mean);
        g.iter().zip(&m).map(|(a, b)| (a - b).abs()).sum::<f64>() < 1e-12
    };
    let mut failures = Vec::new();
    for q in &QUESTIONS {
        let engine: Result<usize, String> = match q.story {
            // The same way as the gradient, the other way, or zero.
            "extension" => {
                let p = preset(q.story);
                let (g, m) = (gradient(&p)[0], on(&p, "st").mean[0]);
                Ok(if m == 0.0 {
                    2
                } else if m * g > 0.0 {
                    0
                } else {
                    1
                })
            }
            "toy-045" => the_one(q.story, &["st", "st-sigmoid", "concrete", "st-gumbel"], unbiased),
            "toy-0499" => {
                let keys = ["reinforce", "reinforce-loo", "arm", "disarm"];
                let p = preset(q.story);
                let v: Vec<f64> = keys.iter().map(|k| on(&p, k).figures.variance_trace.value).collect();
                let min = v.iter().cloned().fold(f64::INFINITY, f64::min);
                the_one(q.story, &keys, |_, k| v[keys.iter().position(|x| *x == k).unwrap()] == min)
            }
            // ARM, DisARM, or the same.
            "antithetic" => {
                let p = preset(q.story);
                let (a, d) =
                    (on(&p, "arm").figures.variance_trace.value, on(&p, "disarm").figures.variance_trace.value);
                Ok(if (a - d).abs() <= 1e-12 * a.abs() {
                    2
                } else if a < d {
                    0
                } else {
                    1
                })
            }
            "deeper" => the_one(q.story, &["reinforce-optimal", "st", "st-sigmoid"], unbiased),
            // Twice the binary mean, the binary mean, or the exact gradient.
            "two-classes" => {
                let p = preset(q.story);
                let (m, b, g) = (on(&p, "st").mean[0], on(&toy_at(-1.0), "st").mean[0], gradient(&p)[0]);
                let hits: Vec<usize> = [2.0 * b, b, g]
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| (*x - m).abs() < 1e-12)
                    .map(|(i, _)| i)
                    .collect();
                match hits[..] {
                    [i] => Ok(i),
                    _ => Err(format!("two-classes: choices {hits:?} qualify")),
                }
            }
            other => Err(format!("{other}: no computation of this question's answer")),
        };
        match engine {
            Ok(i) if i == q.answer => {}
            Ok(i) => failures.push(format!("{}: the page says choice {}, the engine {}", q.story, q.answer + 1, i + 1)),
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_readme_quotes_the_papers_table_as_the_page_does() {
    for (name, train, valid, test) in texts::PAPER_GATING {
        let row = format!("| {name} | {train} | {valid} | {test} |");
        assert!(README.contains(&row), "README lacks the paper's row {row}");
    }
}

/// The one-unit note says which estimators are constants (zero variance): true for each it names,
/// on binary units and on categorical units of 2 to 5 classes, and the estimator it leaves out for
/// K > 2 (Bengio's) does vary.
#[test]
fn the_one_unit_note_names_exactly_the_constant_estimators() {
    use stochgrad_app::state::State;
    use stochgrad_core::settings::UnitChoice;
    let mut pages = vec![Page::default()];
    for k in 2..=5 {
        let mut p = Page::default();
        p.model.unit = UnitChoice::Categorical;
        p.model.categories = k;
        pages.push(p);
    }
    for mut p in pages {
        p.estimators = vec!["reinforce-optimal".into(), "local-expectation".into()];
        let note = texts::degenerate_note(&State::new(p.clone())).expect("one unit: a note");
        for (key, name) in [("reinforce-optimal", "Bengio's estimator"), ("local-expectation", "local expectation")] {
            let v = on(&p, key).figures.variance_trace.value;
            let named = note.contains(name);
            let what = format!("{} K = {}: {key} variance {v}, note: {note}", p.model.unit.key(), p.model.categories);
            assert!(if named { v < 1e-20 } else { v > 1e-6 }, "{what}");
        }
    }
}
