//! The expression loss (`{"kind": "expression", "f": "…"}`): when the expression spells a built-in
//! loss (toy, readout) the exact `E[f]`, `∇θ E[f]` and the estimators' moments equal the built-in
//! loss's; its derivative equals finite differences; bad expressions and models are refused with
//! one line (a column, a state); the parser survives thousands of generated and mutated strings.

use std::sync::Arc;
use std::time::{Duration, Instant};
use stochgrad_core::estimators::{find, HyperParams};
use stochgrad_core::exact;
use stochgrad_core::expr::{self, Formula};
use stochgrad_core::loss::{Extension, Loss};
use stochgrad_core::moments::{moments, MethodChoice, Request};
use stochgrad_core::settings::{LossKind, Settings};
use stochgrad_core::{Error, Model, Reason};

/// A small xorshift generator (fixed seeds).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The same model with the loss replaced by the expression `f`.
fn with_expression(model: &Model, f: &str, extension: Extension) -> Model {
    let width = model.output_width();
    let formula = Formula::new(f, width).unwrap_or_else(|e| panic!("{f}: {e}"));
    Model { loss: Loss::Expression { formula: Arc::new(formula), extension }, ..model.clone() }
}

/// The expression that spells a toy or readout loss (Rust prints each f64 so that it parses back
/// to the same bits).
fn spell(loss: &Loss) -> String {
    match loss {
        Loss::Toy { target, .. } => {
            let terms: Vec<String> = target.iter().enumerate().map(|(i, t)| format!("(h{} - {t})^2", i + 1)).collect();
            terms.join(" + ")
        }
        Loss::Readout { weights, bias, target, .. } => {
            let terms: Vec<String> = weights.iter().enumerate().map(|(i, v)| format!("{v}*h{}", i + 1)).collect();
            format!("({} + {bias} - {target})^2", terms.join(" + "))
        }
        other => panic!("no spelling for {other:?}"),
    }
}

fn close(what: &str, a: &[f64], b: &[f64], rel: f64) {
    close_at(what, a, b, rel, 0.0)
}

/// `‖a − b‖ ≤ rel · (‖b‖ + scale)`.
fn close_at(what: &str, a: &[f64], b: &[f64], rel: f64, scale: f64) {
    let norm = b.iter().map(|x| x * x).sum::<f64>().sqrt() + scale;
    let diff = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt();
    assert_eq!(a.len(), b.len(), "{what}: dimension");
    assert!(diff <= rel * norm + 1e-300, "{what}: differs by {diff:e} (norm {norm:e})\n {a:?}\n {b:?}");
}

fn random_models() -> Vec<Model> {
    let mut rng = Rng(0x5eed_0020);
    let mut out = Vec::new();
    for widths in [vec![1], vec![3], vec![5], vec![2, 3], vec![3, 2], vec![2, 4]] {
        for loss in [LossKind::Toy, LossKind::Readout] {
            let s = Settings {
                widths: widths.clone(),
                inputs: rng.below(3),
                loss,
                target: (rng.unit() * 2.0 - 0.5),
                logit: rng.unit() * 2.0 - 1.0,
                weight_scale: 1.5,
                bias_spread: 1.0,
                network_seed: rng.next() % 1000,
                ..Settings::default()
            };
            out.push(s.to_model());
        }
    }
    out
}

#[test]
fn exact_answers_equal_the_built_in_losses_they_spell() {
    for model in random_models() {
        for ext in Extension::ALL {
            let built_in = Model { loss: model.loss.clone().with_extension(ext), ..model.clone() };
            let f = spell(&model.loss);
            let typed = with_expression(&model, &f, ext);
            let (a, b) = (exact::solve(&typed).unwrap(), exact::solve(&built_in).unwrap());
            let what = format!("{f} ({})", ext.key());
            close(&format!("{what}: E[f]"), &[a.expected_loss], &[b.expected_loss], 1e-12);
            close(&format!("{what}: gradient"), &a.gradient, &b.gradient, 1e-12);
            for (x, y) in a.optimal_baseline.iter().flatten().zip(b.optimal_baseline.iter().flatten()) {
                close(&format!("{what}: optimal baseline"), &[*x], &[*y], 1e-12);
            }
            // The model file round trip keeps the expression.
            let back = Model::from_json_str(&typed.to_json_pretty()).unwrap();
            assert_eq!(back.loss, typed.loss, "{what}");
        }
    }
}

#[test]
fn estimators_moments_equal_the_built_in_losses_they_spell() {
    let keys = ["reinforce", "local-expectation", "arm", "disarm", "muprop", "st", "st-sigmoid", "concrete", "rebar"];
    let mut compared = std::collections::BTreeMap::new();
    for model in random_models() {
        for ext in Extension::ALL {
            let built_in = Model { loss: model.loss.clone().with_extension(ext), ..model.clone() };
            let typed = with_expression(&model, &spell(&model.loss), ext);
            let (sa, sb) = (exact::solve(&typed).unwrap(), exact::solve(&built_in).unwrap());
            for key in keys {
                let req = Request { hp: HyperParams::default(), method: MethodChoice::Exact, samples: 1, seed: 1 };
                let est = find(key).unwrap();
                let (a, b) = (
                    moments(&typed, &sa, est, &req, &mut |_, _| true),
                    moments(&built_in, &sb, est, &req, &mut |_, _| true),
                );
                match (a, b) {
                    (Ok(a), Ok(b)) => {
                        let what =
                            format!("{key} on {} ({}), widths {:?}", spell(&model.loss), ext.key(), model.widths());
                        assert_eq!(a.method, b.method, "{what}");
                        close(&format!("{what}: mean"), &a.mean, &b.mean, 1e-12);
                        // The variance against the second moment's scale (a zero variance comes out
                        // as rounding noise of the mean's square).
                        let second: f64 = b.mean.iter().map(|m| m * m).sum();
                        close_at(&format!("{what}: variance"), &a.variance, &b.variance, 1e-12, second);
                        *compared.entry(key).or_insert(0) += 1;
                    }
                    // Exact moments that do not exist for this network (concrete and rebar on
                    // one unit only, …) are refused alike.
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                    (a, b) => panic!("{key}: {:?} vs {:?}", a.map(|r| r.mean), b.map(|r| r.mean)),
                }
            }
        }
    }
    // Every estimator compared on every one-unit model (both losses, both extensions) at least.
    assert!(keys.iter().all(|k| compared.get(k).copied().unwrap_or(0) >= 4), "{compared:?}");
    assert!(compared.values().sum::<usize>() >= 120, "{compared:?}");
}

#[test]
fn the_derivative_equals_finite_differences_at_real_points() {
    let exprs = [
        "(h1 - 0.45)^2 + h2*h3",
        "sigmoid(2*h1 - h2) * exp(-h3)",
        "log(1 + h1^2) / (2 + h2) - sqrt(1 + h3)",
        "abs(h1 - h2) + max(h1, h2, h3)^3 - min(h1, 0.2*h3)",
        "h1^h2 + 2^(h3 - h1) - -h2^2",
        "(h1*h2 - h3/(1 + h1))^2 * pi + e",
    ];
    let mut rng = Rng(20);
    for f in exprs {
        let e = expr::parse(f, 3).unwrap();
        for _ in 0..200 {
            let h: Vec<f64> = (0..3).map(|_| 0.05 + 0.9 * rng.unit()).collect();
            let mut g = [0.0; 3];
            let (value, kink) = e.gradient(&h, &mut g);
            assert_eq!(value, e.eval(&h));
            if kink.is_some() {
                continue;
            }
            for i in 0..3 {
                let step = 1e-6;
                let (mut hp, mut hm) = (h.clone(), h.clone());
                hp[i] += step;
                hm[i] -= step;
                let fd = (e.eval(&hp) - e.eval(&hm)) / (2.0 * step);
                assert!((g[i] - fd).abs() <= 1e-6 * (1.0 + fd.abs()), "{f} at {h:?}: ∂{i} = {} vs {fd}", g[i]);
            }
        }
    }
    // The multilinear extension's derivative, through the loss, at real points.
    let model = Model::from_json_str(
        r#"{"layers": [{"weights": [[], [], []], "bias": [0, 0, 0]}], "loss": {"kind": "expression", "f": "abs(h1 + h2 - 1) * exp(h3)", "extension": "multilinear"}}"#,
    )
    .unwrap();
    for _ in 0..50 {
        let h: Vec<f64> = (0..3).map(|_| rng.unit()).collect();
        let mut g = [0.0; 3];
        assert!(model.loss.gradient(&h, &mut g));
        for i in 0..3 {
            let (mut hp, mut hm) = (h.clone(), h.clone());
            hp[i] += 1e-6;
            hm[i] -= 1e-6;
            let fd = (model.loss.value(&hp) - model.loss.value(&hm)) / 2e-6;
            assert!((g[i] - fd).abs() <= 1e-7 * (1.0 + fd.abs()), "multilinear at {h:?}: {g:?} vs {fd}");
        }
    }
}

fn model_json(width: usize, f: &str, extra: &str) -> String {
    let rows = vec!["[]"; width].join(", ");
    let bias = vec!["-0.5"; width].join(", ");
    format!(
        r#"{{"layers": [{{"weights": [{rows}], "bias": [{bias}]}}], "loss": {{"kind": "expression", "f": {f:?}{extra}}}}}"#
    )
}

#[test]
fn bad_expressions_and_models_are_refused_in_one_line() {
    let err = |w: usize, f: &str| Model::from_json_str(&model_json(w, f, "")).unwrap_err().to_string();
    assert_eq!(err(2, "h1 + h3"), "loss.f: column 6: h3 is not a unit of the last layer: the variables are h1 … h2");
    assert_eq!(err(2, "h0"), "loss.f: column 1: h0 is not a unit of the last layer: the variables are h1 … h2");
    assert_eq!(err(1, "(h1 - 0.45^2"), "loss.f: column 13: expected ')'");
    assert_eq!(err(2, "log(h1) + h2"), "loss.f: not finite at h = (0, 0) (f = -inf)");
    assert_eq!(err(2, "1/(h2 - h1)"), "loss.f: not finite at h = (0, 0) (f = inf)");
    let text = r#"{"layers": [{"weights": [[]], "bias": [0]}], "loss": {"kind": "expression"}}"#;
    assert_eq!(Model::from_json_str(text).unwrap_err().to_string(), "loss.f: missing");
    let text = r#"{"layers": [{"weights": [[]], "bias": [0]}], "loss": {"kind": "expression", "f": 3}}"#;
    assert!(Model::from_json_str(text).unwrap_err().to_string().starts_with("loss.f: expected a string"));
    let text = r#"{"layers": [{"weights": [[]], "bias": [0]}], "loss": {"kind": "expression", "f": "h1", "g": 1}}"#;
    assert!(Model::from_json_str(text).is_err());
    let wide = Model::from_json_str(&model_json(17, "h1", "")).unwrap_err().to_string();
    assert!(wide.contains("at most 16 units"), "{wide}");
    let wide = Model::from_json_str(&model_json(13, "h1", r#", "extension": "multilinear""#)).unwrap_err();
    assert_eq!(wide.path, "loss.extension");
    let sts =
        r#"{"layers": [{"weights": [[]], "bias": [0], "unit": "sts"}], "loss": {"kind": "expression", "f": "h1"}}"#;
    assert!(Model::from_json_str(sts).unwrap_err().to_string().contains("binary states"));

    // No derivative at a binary state: the estimators that need ∂f/∂h are refused naming the
    // state; those that never differentiate f, and the multilinear extension, are not.
    let model = Model::from_json_str(&model_json(2, "abs(h1 + h2 - 1)", "")).unwrap();
    let sol = exact::solve(&model).unwrap();
    let req = Request { hp: HyperParams::default(), method: MethodChoice::Auto, samples: 1000, seed: 1 };
    match moments(&model, &sol, find("st").unwrap(), &req, &mut |_, _| true) {
        Err(Error::NotApplicable(r @ Reason::NeedsLossGradient { .. })) => assert_eq!(
            r.to_string(),
            "st needs ∂f/∂h, but f = abs(h1 + h2 - 1) has no derivative at h = (1, 0) (abs at 0); the multilinear extension has one"
        ),
        other => panic!("{:?}", other.map(|r| r.mean)),
    }
    assert!(moments(&model, &sol, find("reinforce").unwrap(), &req, &mut |_, _| true).is_ok());
    let multi = Model { loss: model.loss.clone().with_extension(Extension::Multilinear), ..model.clone() };
    let r = moments(&multi, &sol, find("st").unwrap(), &req, &mut |_, _| true).unwrap();
    assert!(r.mean.iter().all(|m| m.is_finite()));
    // max ties at (0, 0) and (1, 1); sqrt at 0.
    let m = Model::from_json_str(&model_json(2, "max(h1, h2)", "")).unwrap();
    assert!(m.loss.not_differentiable_reason().unwrap().contains("h = (0, 0) (a tie in max)"));
    let m = Model::from_json_str(&model_json(1, "sqrt(h1)", "")).unwrap();
    assert!(m.loss.not_differentiable_reason().unwrap().contains("h = (0) (sqrt at 0)"));
    assert!(Model::from_json_str(&model_json(1, "(h1 - 0.45)^2", ""))
        .unwrap()
        .loss
        .not_differentiable_reason()
        .is_none());
}

#[test]
fn settings_map_the_expression_and_sanitize_a_bad_one() {
    let mut s =
        Settings { widths: vec![2], loss: LossKind::Expression, expression: "h1 * h2".into(), ..Settings::default() };
    assert!(s.sanitize().is_empty());
    let m = s.to_model();
    assert_eq!(m.loss.kind(), "expression");
    let p = 1.0 / (1.0 + 1.0f64.exp());
    let e = exact::solve(&m).unwrap().expected_loss;
    assert!((e - p * p).abs() < 1e-15, "{e} vs {}", p * p);
    s.expression = "h1 * h3".into();
    let notes = s.sanitize();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("column 6"), "{notes:?}");
    assert_eq!(s.expression, "(h1 - 0.45)^2");
}

/// Random strings from the grammar, then mutated: no panic, an answer within a generous time, an
/// error's column inside the text (or one past its end).
#[test]
fn fuzzed_expressions_never_panic_and_errors_point_into_the_text() {
    let atoms = ["h1", "h2", "h3", "h0", "h9", "0.45", "2", "1e3", ".5", "pi", "e", "x", "1e999", "h"];
    let funcs = ["abs", "exp", "log", "sqrt", "sigmoid", "min", "max", "foo"];
    let ops = [" + ", " - ", "*", "/", "^", " ^ -", ","];
    fn gen(rng: &mut Rng, depth: usize, atoms: &[&str], funcs: &[&str], ops: &[&str]) -> String {
        if depth == 0 || rng.below(3) == 0 {
            return atoms[rng.below(atoms.len())].to_string();
        }
        let a = gen(rng, depth - 1, atoms, funcs, ops);
        let b = gen(rng, depth - 1, atoms, funcs, ops);
        match rng.below(5) {
            0 => format!("({a})"),
            1 => format!("-{a}"),
            2 => format!("{}({a}, {b})", funcs[rng.below(funcs.len())]),
            3 => format!("{}({a})", funcs[rng.below(funcs.len())]),
            _ => format!("{a}{}{b}", ops[rng.below(ops.len())]),
        }
    }
    let noise: Vec<char> = "()+-*/^,. eh1234567890πx−\u{0}".chars().collect();
    let mut rng = Rng(0xf022);
    let start = Instant::now();
    let (mut ok, mut bad) = (0, 0);
    for round in 0..6000 {
        let mut s: Vec<char> = gen(&mut rng, 1 + round % 7, &atoms, &funcs, &ops).chars().collect();
        for _ in 0..rng.below(4) {
            let at = rng.below(s.len() + 1);
            match rng.below(3) {
                0 if at < s.len() => {
                    s.remove(at);
                }
                1 if at < s.len() => s[at] = noise[rng.below(noise.len())],
                _ => s.insert(at, noise[rng.below(noise.len())]),
            }
        }
        if round % 500 == 0 {
            // Deep nesting and long texts.
            let n = 50 + rng.below(3000);
            s = ["(".repeat(n), "h1".into(), ")".repeat(n)].concat().chars().collect();
        }
        let text: String = s.iter().collect();
        match Formula::new(&text, 3) {
            Ok(f) => {
                ok += 1;
                assert!((0..8).all(|b| f.value_bits(b).is_finite()));
            }
            Err(m) => {
                bad += 1;
                if let Err(e) = expr::parse(&text, 3) {
                    assert!(e.column >= 1 && e.column <= s.len() + 1, "{text:?}: {e}");
                    assert_eq!(m, e.to_string());
                    assert!(!m.contains('\n'));
                } else {
                    assert!(m.starts_with("not finite at h = ("), "{text:?}: {m}");
                }
            }
        }
    }
    assert!(ok > 300 && bad > 300, "ok {ok}, bad {bad}");
    assert!(start.elapsed() < Duration::from_secs(20), "{:?}", start.elapsed());
}
