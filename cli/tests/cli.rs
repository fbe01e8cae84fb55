//! End-to-end tests of the `stochgrad` binary: outputs against independently computed values, the
//! CSV form, and one specific one-line error (exit code 2) for every class of bad input.

mod common;

use common::*;
use serde_json::Value;

/// The only bias of a single-unit model's layered vector.
fn bias0(v: &Value) -> f64 {
    v["layers"][0]["bias"][0].as_f64().unwrap()
}

#[test]
fn help_and_version() {
    for args in [&["help"][..], &["--help"], &["-h"], &["moments", "m.json", "--help"]] {
        let r = stochgrad(args, b"");
        assert_eq!(r.code, 0, "{args:?}");
        assert!(r.stdout.contains("USAGE") && r.stdout.contains("--estimator KEY"), "{args:?}");
        assert!(r.stderr.is_empty());
    }
    let r = stochgrad(&["--version"], b"");
    assert_eq!((r.code, r.stdout.trim()), (0, format!("stochgrad {}", env!("CARGO_PKG_VERSION")).as_str()));
}

#[test]
fn estimators_lists_the_registry_with_metadata() {
    let v = ok_json(&["estimators"], "");
    let list = v.as_array().unwrap();
    let keys: Vec<&str> = list.iter().map(|e| e["key"].as_str().unwrap()).collect();
    assert_eq!(keys, KEYS);
    let fields = [
        "key",
        "name",
        "family",
        "unbiased",
        "needs_loss_gradient",
        "uses_tau",
        "stateful",
        "depth",
        "hyper",
        "evaluations",
        "formula",
        "formula_mathml",
        "explanation",
        "citation",
        "recommended_tau",
    ];
    for e in list {
        let o = e.as_object().unwrap();
        for f in fields {
            assert!(o.contains_key(f), "{}: missing {f}", e["key"]);
        }
        assert_eq!(o.len(), fields.len(), "{}: unexpected fields", e["key"]);
        assert!(e["formula_mathml"].as_str().unwrap().starts_with("<math"));
        assert!(e["unbiased"].is_boolean() && e["hyper"].is_array());
    }
    let reinforce = &list[0];
    assert_eq!((reinforce["family"].as_str(), reinforce["unbiased"].as_bool()), (Some("score-function"), Some(true)));
}

/// `p = σ(−1)`, `E[f] = p(1−t)² + (1−p)t²`, `g = p(1−p)((1−t)² − t²)`, computed here independently.
fn toy_reference(t: f64) -> (f64, f64, f64) {
    let p = 1.0 / (1.0 + 1f64.exp());
    let ef = p * (1.0 - t) * (1.0 - t) + (1.0 - p) * t * t;
    let g = p * (1.0 - p) * ((1.0 - t).powi(2) - t * t);
    (p, ef, g)
}

#[test]
fn exact_on_the_toy() {
    let t = 0.45;
    let (_, ef, g) = toy_reference(t);
    close(g, 0.0196612, 5e-8, "reference gradient");
    let model = toy(-1.0, t);
    let v = ok_json(&["exact", "-"], &model);
    close(v["expected_loss"].as_f64().unwrap(), ef, 1e-12, "E[f]");
    close(bias0(&v["gradient"]), g, 1e-12, "∂E[f]/∂c");
    assert_eq!(v["gradient"]["layers"][0]["weights"], serde_json::json!([[]]));
    // Bengio's optimal baseline for one unit: E[(h−p)² f] / E[(h−p)²] = (1−p)·f(1) + p·f(0).
    let p = 1.0 / (1.0 + 1f64.exp());
    let lbar = (1.0 - p) * (1.0 - t) * (1.0 - t) + p * t * t;
    close(v["optimal_baseline"][0][0].as_f64().unwrap(), lbar, 1e-12, "optimal baseline");

    // The same model read from a file gives the same output.
    let path = std::env::temp_dir().join(format!("stochgrad-cli-test-{}-toy.json", std::process::id()));
    std::fs::write(&path, &model).unwrap();
    let from_file = stochgrad(&["exact", path.to_str().unwrap()], b"");
    let from_stdin = stochgrad(&["exact", "-"], model.as_bytes());
    let _ = std::fs::remove_file(&path);
    assert_eq!(from_file.code, 0);
    assert_eq!(from_file.stdout, from_stdin.stdout);
}

/// The toy of `exact_on_the_toy` typed as an expression gives the same figures; bad expressions
/// are one line with exit code 2, naming the column or the state.
#[test]
fn exact_with_an_expression_loss() {
    let t = 0.45;
    let (_, ef, g) = toy_reference(t);
    let typed =
        toy(-1.0, t).replace(r#""kind": "toy", "target": [0.45]"#, r#""kind": "expression", "f": "(h1 - 0.45)^2""#);
    assert!(typed.contains("expression"), "{typed}");
    let v = ok_json(&["exact", "-"], &typed);
    close(v["expected_loss"].as_f64().unwrap(), ef, 1e-12, "E[f]");
    close(bias0(&v["gradient"]), g, 1e-12, "∂E[f]/∂c");
    let v = ok_json(&["moments", "-", "--estimator", "st", "--method", "exact"], &typed);
    assert!(v["mean"].to_string().len() > 2, "{v}");
    let with = |f: &str| typed.replace("(h1 - 0.45)^2", f);
    err(&["exact", "-"], &with("(h1 - 0.45^2"), &["stochgrad: invalid model: loss.f: column 13: expected ')'"]);
    err(
        &["exact", "-"],
        &with("h2 * h1"),
        &["loss.f: column 1: h2 is not a unit of the last layer: the only variable is h1"],
    );
    err(&["exact", "-"], &with("log(h1)"), &["loss.f: not finite at h = (0) (f = -inf)"]);
    err(&["exact", "-"], &with("1 +* h1"), &["loss.f: column 4:"]);
    err(
        &["moments", "-", "--estimator", "st"],
        &with("sqrt(h1)"),
        &["not applicable: st needs ∂f/∂h, but f = sqrt(h1) has no derivative at h = (0) (sqrt at 0)"],
    );
    ok_json(&["moments", "-", "--estimator", "st", "--extension", "multilinear"], &with("sqrt(h1)"));
}

#[test]
fn exact_layout_of_a_two_layer_model() {
    let v = ok_json(&["exact", "-"], SOFTMAX2);
    let layers = v["gradient"]["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    for l in layers {
        assert_eq!(l["weights"].as_array().unwrap().len(), 2);
        assert_eq!(l["weights"][0].as_array().unwrap().len(), 2);
        assert_eq!(l["bias"].as_array().unwrap().len(), 2);
    }
    assert_eq!(v["optimal_baseline"].as_array().unwrap().len(), 2);
    let e = v["expected_loss"].as_f64().unwrap();
    assert!(e > 0.0 && e.is_finite());
}

#[test]
fn moments_exact_for_reinforce_on_the_toy() {
    let t = 0.45;
    let (p, ef, g) = toy_reference(t);
    // ĝ = (h − p) f(h): h = 1 w.p. p gives (1−p)(1−t)², h = 0 gives −p t².
    let second = p * ((1.0 - p) * (1.0 - t).powi(2)).powi(2) + (1.0 - p) * (p * t * t).powi(2);
    let var = second - g * g;
    let v = ok_json(&["moments", "-", "--estimator", "reinforce"], &toy(-1.0, t));
    assert_eq!(v["estimator"], "reinforce");
    assert_eq!(v["method"], "exact");
    close(bias0(&v["mean"]), g, 1e-12, "mean");
    close(bias0(&v["variance"]), var, 1e-12, "variance");
    close(bias0(&v["exact_gradient"]), g, 1e-12, "exact gradient");
    close(v["expected_loss"].as_f64().unwrap(), ef, 1e-12, "E[f]");
    close(v["bias_sq_norm"].as_f64().unwrap(), 0.0, 1e-20, "bias²");
    close(v["variance_trace"].as_f64().unwrap(), var, 1e-12, "tr Var");
    close(v["mse"].as_f64().unwrap(), var, 1e-12, "MSE");
    close(v["cosine"].as_f64().unwrap(), 1.0, 1e-12, "cosine");
    close(v["loss_evaluations"].as_f64().unwrap(), 1.0, 0.0, "evaluations");
    close(v["variance_x_evals"].as_f64().unwrap(), var, 1e-12, "var × evals");
    assert!(v["notes"].as_array().unwrap().is_empty());
    for absent in ["stderr", "samples", "figure_stderr"] {
        assert!(v.get(absent).is_none(), "{absent} must be absent for exact moments");
    }
}

#[test]
fn moments_monte_carlo_has_standard_errors() {
    let t = 0.45;
    let (_, _, g) = toy_reference(t);
    let model = toy(-1.0, t);
    let args =
        ["moments", "-", "--estimator", "reinforce", "--method", "monte-carlo", "--samples", "20000", "--seed", "7"];
    let v = ok_json(&args, &model);
    assert_eq!(v["method"], "monte-carlo");
    assert_eq!(v["samples"], 20000);
    assert_eq!(v["seed"], 7);
    let se = bias0(&v["stderr"]);
    assert!(se > 0.0 && se < 0.01, "stderr {se}");
    close(bias0(&v["mean"]), g, 6.0 * se, "Monte-Carlo mean within 6 standard errors");
    for f in ["bias_sq_norm", "variance_trace", "mse", "cosine", "variance_x_evals"] {
        assert!(v["figure_stderr"][f].as_f64().is_some_and(|x| x >= 0.0), "figure_stderr.{f}");
    }
    // Same seed, same output; another seed, another sample.
    let first = stochgrad(&args, model.as_bytes());
    let again = stochgrad(&args, model.as_bytes());
    assert_eq!(first.stdout, again.stdout);
    assert_eq!(serde_json::from_str::<Value>(&first.stdout).unwrap(), v);
    let mut other = args;
    other[9] = "8";
    assert_ne!(stochgrad(&other, model.as_bytes()).stdout, again.stdout);
}

#[test]
fn every_estimator_runs_on_a_small_model() {
    for key in KEYS {
        let v = ok_json(&["moments", "-", "--estimator", key, "--samples", "2048"], READOUT3);
        assert_eq!(v["estimator"], key);
        let method = v["method"].as_str().unwrap();
        assert!(["exact", "quadrature", "monte-carlo"].contains(&method), "{key}: {method}");
        assert_eq!(v.get("stderr").is_some(), method == "monte-carlo", "{key}");
    }
    // Deeper and with an input: every estimator that applies runs; muprop, rebar and relax are
    // single-layer only.
    for key in KEYS {
        let args = ["moments", "-", "--estimator", key, "--samples", "1024"];
        if ["muprop", "rebar", "relax"].contains(&key) {
            err(&args, SOFTMAX2, &["not applicable", "single stochastic layer"]);
        } else {
            ok_json(&args, SOFTMAX2);
        }
    }
}

#[test]
fn cosine_is_null_when_the_gradient_is_zero() {
    // t = ½: f(0) = f(1), so the exact gradient is exactly 0.
    let model = toy(0.3, 0.5);
    let v = ok_json(&["moments", "-", "--estimator", "reinforce"], &model);
    assert!(v["cosine"].is_null());
    let v =
        ok_json(&["moments", "-", "--estimator", "reinforce", "--method", "monte-carlo", "--samples", "1024"], &model);
    assert!(v["cosine"].is_null() && v["figure_stderr"]["cosine"].is_null());
}

#[test]
fn notes_name_ignored_flags() {
    let v = ok_json(&["moments", "-", "--estimator", "reinforce", "--tau", "2", "--samples", "1000"], &toy(-1.0, 0.45));
    let notes: Vec<&str> = v["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    assert!(notes.iter().any(|n| n.contains("--tau is ignored")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("--samples and --seed are ignored")), "{notes:?}");
    let v = ok_json(&["moments", "-", "--estimator", "reinforce-ma", "--samples", "1024"], &toy(-1.0, 0.45));
    assert!(!v["notes"].as_array().unwrap().is_empty(), "reinforce-ma's exact figures are idealised: {v}");
    let v = ok_json(
        &["moments", "-", "--estimator", "reinforce", "--gap", "2", "--eta", "0", "--lambda", "1"],
        &toy(0.0, 0.45),
    );
    let notes: Vec<&str> = v["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    for flag in ["--gap", "--eta", "--lambda"] {
        assert!(notes.iter().any(|n| n.contains(&format!("{flag} is ignored"))), "{notes:?}");
    }
    let v = ok_json(&["moments", "-", "--estimator", "gapped-st", "--gap", "2"], &toy(0.0, 0.45));
    assert!(v["notes"].as_array().unwrap().is_empty(), "{v}");
}

#[test]
fn k_defaults_per_estimator() {
    // Without --k each estimator uses its own default: 2 for reinforce-loo, 10 for gumbel-rao.
    let m = toy(0.0, 0.45);
    let var = |args: &[&str]| ok_json(args, &m)["variance"]["layers"][0]["bias"][0].as_f64().unwrap();
    let loo = var(&["moments", "-", "--estimator", "reinforce-loo"]);
    assert_eq!(loo, var(&["moments", "-", "--estimator", "reinforce-loo", "--k", "2"]));
    assert!((loo - 0.000625).abs() < 1e-15, "{loo}");
    let gr = var(&["moments", "-", "--estimator", "gumbel-rao"]);
    assert_eq!(gr, var(&["moments", "-", "--estimator", "gumbel-rao", "--k", "10"]));
    assert_ne!(gr, var(&["moments", "-", "--estimator", "gumbel-rao", "--k", "2"]));
    let v = ok_json(&["moments", "-", "--estimator", "reinforce-loo"], &m);
    assert_eq!(v["loss_evaluations"].as_f64(), Some(2.0));
}

#[test]
fn csv_has_a_header_and_one_row_per_parameter() {
    // TOY2: W1 2×3, c1 2, W2 1×2, c2 1 = 11 parameters.
    let names = [
        "W1[0][0]", "W1[0][1]", "W1[0][2]", "W1[1][0]", "W1[1][1]", "W1[1][2]", "c1[0]", "c1[1]", "W2[0][0]",
        "W2[0][1]", "c2[0]",
    ];
    let exact_json = ok_json(&["exact", "-"], TOY2);
    let r = stochgrad(&["exact", "-", "--format", "csv"], TOY2.as_bytes());
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "parameter,exact_gradient");
    assert_eq!(lines.len(), 1 + names.len());
    let mut flat = Vec::new();
    for l in exact_json["gradient"]["layers"].as_array().unwrap() {
        for row in l["weights"].as_array().unwrap() {
            flat.extend(row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()));
        }
        flat.extend(l["bias"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()));
    }
    for ((line, name), g) in lines[1..].iter().zip(names).zip(&flat) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), 2, "{line}");
        assert_eq!(cells[0], name);
        // serde_json's default float parser may be one ulp off the printed (shortest round-trip) text.
        close(cells[1].parse::<f64>().unwrap(), *g, 4.0 * f64::EPSILON * g.abs(), name);
    }

    for (method, has_stderr) in [("exact", false), ("monte-carlo", true)] {
        let r = stochgrad(
            &["moments", "-", "--estimator", "arm", "--method", method, "--samples", "1024", "--format", "csv"],
            TOY2.as_bytes(),
        );
        if method == "exact" {
            // ARM's closed form is for one layer only.
            assert_one_line_error(&r, "arm exact on two layers");
            continue;
        }
        assert_eq!(r.code, 0, "{r:?}");
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(lines[0], "parameter,exact_gradient,mean,variance,stderr");
        assert_eq!(lines.len(), 1 + names.len());
        for (line, name) in lines[1..].iter().zip(names) {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), 5, "{line}");
            assert_eq!(cells[0], name);
            for c in &cells[1..4] {
                assert!(c.parse::<f64>().unwrap().is_finite());
            }
            assert_eq!(!cells[4].is_empty(), has_stderr, "{line}");
        }
    }
    let r = stochgrad(&["moments", "-", "--estimator", "reinforce", "--format=csv"], TOY2.as_bytes());
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 12, "{r:?}");
    assert!(lines[1..].iter().all(|l| l.ends_with(',')), "stderr is empty for exact moments");
}

#[test]
fn malformed_models_each_get_their_own_error() {
    let valid = toy(-1.0, 0.45);
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("empty file", String::new(), vec!["invalid model: the file is empty"]),
        ("not JSON", "{layers: 1}".into(), vec!["invalid model: not valid JSON (key must be a string"]),
        ("truncated", valid[..valid.len() / 2].to_string(), vec!["invalid model: the JSON ends early (truncated file?)"]),
        ("trailing garbage", format!("{valid} x"), vec!["not valid JSON (trailing characters"]),
        ("top level not an object", "[1, 2]".into(), vec!["invalid model: the model must be a JSON object"]),
        ("missing layers", r#"{"loss": {"kind": "toy", "target": []}}"#.into(), vec!["invalid model: layers: missing"]),
        ("layers not an array", r#"{"layers": {}, "loss": {}}"#.into(), vec!["layers: expected an array of layers"]),
        ("empty layers", r#"{"layers": [], "loss": {"kind": "toy", "target": []}}"#.into(), vec!["layers: at least one layer is needed"]),
        ("missing loss", r#"{"layers": [{"weights": [[]], "bias": [0]}]}"#.into(), vec!["invalid model: loss: missing"]),
        (
            "wrong row count",
            r#"{"layers": [{"weights": [[]], "bias": [0, 1]}], "loss": {"kind": "toy", "target": [0, 0]}}"#.into(),
            vec!["layers[0].weights: has 1 rows but the layer has 2 units"],
        ),
        (
            "wrong row length",
            r#"{"input": [1], "layers": [{"weights": [[1], [2], [3]], "bias": [0, 0, 0]},
               {"weights": [[1, 2]], "bias": [0]}], "loss": {"kind": "toy", "target": [0]}}"#
                .into(),
            vec!["stochgrad: invalid model: layers[1].weights[0]: has 2 entries but the previous layer's width is 3"],
        ),
        (
            "row length vs input",
            r#"{"input": [1, 2], "layers": [{"weights": [[1]], "bias": [0]}], "loss": {"kind": "toy", "target": [0]}}"#.into(),
            vec!["layers[0].weights[0]: has 1 entries but the input length is 2"],
        ),
        ("string NaN", valid.replace("[-1.0]", r#"["NaN"]"#), vec!["layers[0].bias[0]: expected a finite number"]),
        ("null number", valid.replace("[0.45]", "[null]"), vec!["loss.target[0]: expected a finite number"]),
        ("overflowing literal", valid.replace("-1.0", "1e999"), vec!["not valid JSON (number out of range"]),
        ("bare NaN token", valid.replace("-1.0", "NaN"), vec!["not valid JSON (expected value"]),
        ("input not numbers", valid.replace(r#""input": []"#, r#""input": "x""#), vec!["input: expected an array of numbers"]),
        ("unknown loss kind", valid.replace(r#""toy""#, r#""hinge""#), vec![r#"loss.kind: unknown loss "hinge" (one of: toy, readout, softmax, match, elbo, expression)"#]),
        ("missing loss kind", valid.replace(r#""kind": "toy", "#, ""), vec!["loss.kind: missing"]),
        (
            "softmax label out of range",
            r#"{"layers": [{"weights": [[]], "bias": [0]}], "loss": {"kind": "softmax", "weights": [[1], [2]], "label": 5}}"#.into(),
            vec!["loss.label: 5 is not a class (there are 2: 0..1)"],
        ),
        (
            "softmax label negative",
            r#"{"layers": [{"weights": [[]], "bias": [0]}], "loss": {"kind": "softmax", "weights": [[1], [2]], "label": -1}}"#.into(),
            vec!["loss.label: expected a non-negative integer class index"],
        ),
        (
            "softmax one class",
            r#"{"layers": [{"weights": [[]], "bias": [0]}], "loss": {"kind": "softmax", "weights": [[1]], "label": 0}}"#.into(),
            vec!["loss.weights: softmax needs at least 2 classes"],
        ),
        ("match pattern entry not 0/1", MATCH2.replace("[1, 0]", "[1, 2]"), vec!["loss.pattern[1]: expected 0 or 1"]),
        ("match pattern wrong length", MATCH2.replace("[1, 0]", "[1, 0, 1]"), vec!["loss.pattern: has 3 entries but the last layer has 2 units"]),
        ("toy target wrong length", valid.replace("[0.45]", "[0.45, 0.5]"), vec!["loss.target: has 2 entries but the last layer has 1 units"]),
        ("readout missing target", READOUT3.replace(r#", "target": 1.0"#, ""), vec!["loss.target: missing"]),
        ("unknown field", valid.replace(r#""bias""#, r#""bais""#), vec!["layers[0].bais: unknown field (expected one of: weights, bias, unit, noise, noise_scale, classes)"]),
        ("unknown top-level field", valid.replacen('{', r#"{"lossy": 1, "#, 1), vec!["lossy: unknown field (expected one of: input, layers, loss)"]),
        ("unknown loss field", valid.replace(r#""target""#, r#""targets""#), vec!["loss.targets: unknown field"]),
        (
            "noise on a binary layer",
            valid.replace(r#""bias": [-1.0]"#, r#""bias": [-1.0], "noise": "gaussian""#),
            vec![r#"layers[0].noise: only a layer with "unit": "noisy-rectifier" has noise"#],
        ),
        (
            "unknown noise",
            valid.replace(r#""bias": [-1.0]"#, r#""bias": [-1.0], "unit": "noisy-rectifier", "noise": "cauchy""#),
            vec![r#"layers[0].noise: unknown noise (known: "logistic", "gaussian")"#],
        ),
        (
            "noise scale out of range",
            valid.replace(r#""bias": [-1.0]"#, r#""bias": [-1.0], "unit": "noisy-rectifier", "noise_scale": 0"#),
            vec!["layers[0].noise_scale: must be in [0.01, 100], got 0"],
        ),
        ("unknown unit", valid.replace(r#""bias": [-1.0]"#, r#""bias": [-1.0], "unit": "relu""#), vec![r#"layers[0].unit: unknown unit type "relu""#]),
        ("too many units in a layer", wide(31), vec!["layers[0].bias: 31 units; at most 30 per layer are supported"]),
        ("layer with no units", r#"{"layers": [{"weights": [], "bias": []}], "loss": {"kind": "toy", "target": []}}"#.into(), vec!["layers[0].bias: a layer needs at least one unit"]),
    ];
    let mut seen = std::collections::HashSet::new();
    for (what, text, needles) in &cases {
        let line = err(&["exact", "-"], text, needles);
        assert!(line.starts_with("stochgrad: invalid model: "), "{what}: {line}");
        assert!(seen.insert(line.clone()), "{what}: the same message as another class: {line}");
    }
    // Not UTF-8.
    let r = stochgrad(&["exact", "-"], b"{\"layers\": \xff}");
    assert!(assert_one_line_error(&r, "not UTF-8").contains("not UTF-8 text (invalid byte at offset 11)"));
    // The same checks apply to `moments`.
    err(&["moments", "-", "--estimator", "reinforce"], &cases[10].1, &["layers[1].weights[0]"]);
}

#[test]
fn sizes_past_the_limits_are_refused() {
    err(
        &["exact", "-"],
        &wide(30),
        &["too large: the exact gradient enumerates 2^30 states of layer 1; the limit is 2^24"],
    );
    err(
        &["moments", "-", "--estimator", "reinforce", "--method", "exact"],
        &wide(21),
        &["too large:", "2^21 joint states", "limit is 2^20"],
    );
    err(&["moments", "-", "--estimator", "arm", "--method", "exact"], &wide(14), &["too large:", "3^14 cells"]);
    // A deep chain: 13 + 12 units in adjacent layers exceed w_(k-1) + w_k <= 24.
    let rows13 = ["[]"; 13].join(",");
    let rows12 = vec![format!("[{}]", ["0"; 13].join(",")); 12].join(",");
    let deep = format!(
        r#"{{"layers": [{{"weights": [{rows13}], "bias": [{}]}}, {{"weights": [{rows12}], "bias": [{}]}}], "loss": {{"kind": "toy", "target": [{}]}}}}"#,
        ["0"; 13].join(","),
        ["0"; 12].join(","),
        ["0"; 12].join(",")
    );
    err(&["exact", "-"], &deep, &["too large:", "2^(13+12) state pairs between layers 1 and 2"]);
}

#[test]
fn numerical_overflow_is_an_error_not_a_nan() {
    let huge = READOUT3.replace("[1.0, -2.0, 3.0]", "[1e300, -2.0, 3.0]");
    err(&["exact", "-"], &huge, &["numerical problem"]);
    err(&["moments", "-", "--estimator", "reinforce"], &huge, &["numerical problem"]);
}

#[test]
fn command_line_mistakes() {
    let m = toy(-1.0, 0.45);
    let usage = "(see `stochgrad --help`)";
    err(&[], "", &["no command given", usage]);
    err(&["frobnicate"], "", &["unknown command \"frobnicate\""]);
    err(&["--tau"], "", &["unknown option"]);
    err(&["exact"], "", &["exact needs a MODEL.json argument"]);
    err(&["exact", "-", "extra"], "", &["extra argument \"extra\""]);
    err(&["exact", "-", "--format", "xml"], &m, &["--format must be json or csv, got \"xml\""]);
    err(
        &["exact", "-", "--estimator", "st"],
        &m,
        &["unknown flag \"--estimator\" for exact (expected one of: --samples, --seed, --format, --extension, --wrt)"],
    );
    err(&["estimators", "--tau", "1"], "", &["unknown flag"]);
    err(&["moments", "-"], &m, &["moments needs --estimator KEY"]);
    err(
        &["moments", "-", "--estimator", "reinforce", "--foo", "1"],
        &m,
        &["unknown flag \"--foo\" for moments", "--estimator, --tau"],
    );
    err(&["moments", "-", "-x", "--estimator", "reinforce"], &m, &["unknown flag \"-x\""]);
    err(&["moments", "-", "--estimator", "concrete", "--tau"], &m, &["--tau needs a value"]);
    err(&["moments", "-", "--estimator", "concrete", "--tau", "--k", "3"], &m, &["--tau needs a value"]);
    err(
        &["moments", "-", "--estimator", "concrete", "--tau", "abc"],
        &m,
        &["--tau expects a finite number, got \"abc\""],
    );
    err(&["moments", "-", "--estimator", "concrete", "--tau", "inf"], &m, &["--tau expects a finite number"]);
    err(&["moments", "-", "--estimator", "concrete", "--tau="], &m, &["--tau needs a value"]);
    err(
        &["moments", "-", "--estimator", "reinforce-loo", "--k", "two"],
        &m,
        &["--k expects a non-negative integer, got \"two\""],
    );
    err(
        &["moments", "-", "--estimator", "reinforce", "--samples", "1e5"],
        &m,
        &["--samples expects a non-negative integer"],
    );
    err(&["moments", "-", "--estimator", "reinforce", "--seed", "-4"], &m, &["--seed expects a non-negative integer"]);
    err(
        &["moments", "-", "--estimator", "reinforce", "--method", "mc"],
        &m,
        &["--method must be one of: auto, exact, monte-carlo"],
    );
    err(
        &["moments", "-", "--estimator", "reinforce", "--seed", "1", "--seed", "2"],
        &m,
        &["--seed is given more than once"],
    );
    let line = err(&["moments", "-", "--estimator", "bogus"], &m, &["unknown estimator \"bogus\" (known: "]);
    for k in KEYS {
        assert!(line.contains(k), "the known keys are listed: {line}");
    }
    // Settings out of range (the core's messages).
    err(
        &["moments", "-", "--estimator", "concrete", "--tau", "0"],
        &m,
        &["invalid setting: tau must be in [0.01, 100], got 0"],
    );
    err(
        &["moments", "-", "--estimator", "reinforce-loo", "--k", "1"],
        &m,
        &["invalid setting: k must be in [2, 64], got 1"],
    );
    err(&["moments", "-", "--estimator", "reinforce-loo", "--k", "65"], &m, &["k must be in [2, 64], got 65"]);
    err(
        &["moments", "-", "--estimator", "reinforce-ma", "--decay", "1"],
        &m,
        &["invalid setting: decay must be in [0, 1), got 1"],
    );
    err(
        &["moments", "-", "--estimator", "gapped-st", "--gap", "-1"],
        &m,
        &["invalid setting: gap must be in [0, 100], got -1"],
    );
    err(
        &["moments", "-", "--estimator", "rebar", "--eta", "11"],
        &m,
        &["invalid setting: eta must be in [-10, 10], got 11"],
    );
    err(
        &["moments", "-", "--estimator", "rebar", "--lambda", "0"],
        &m,
        &["invalid setting: lambda must be in [0.01, 100], got 0"],
    );
    err(&["moments", "-", "--estimator", "rebar", "--eta", "nan"], &m, &["--eta expects a finite number"]);
    err(
        &["moments", "-", "--estimator", "reinforce", "--method", "monte-carlo", "--samples", "10"],
        &m,
        &["invalid setting: samples must be in [512,"],
    );
    // A missing file names the path.
    err(
        &["exact", "/nonexistent/stochgrad/model.json"],
        "",
        &["cannot read model file \"/nonexistent/stochgrad/model.json\""],
    );
    err(&["exact", "/"], "", &["cannot read model file \"/\""]);
}

#[test]
fn estimators_that_do_not_apply_say_why() {
    // Every estimator that needs ∂f/∂h refuses the match loss with the "not applicable" reason.
    let list = ok_json(&["estimators"], "");
    for e in list.as_array().unwrap() {
        let key = e["key"].as_str().unwrap();
        let args = ["moments", "-", "--estimator", key, "--samples", "1024"];
        if e["needs_loss_gradient"].as_bool().unwrap() {
            err(&args, MATCH2, &["not applicable:", key, "needs ∂f/∂h", "match loss"]);
        } else {
            let v = ok_json(&args, MATCH2);
            assert_eq!(v["estimator"], key);
        }
    }
    // Exact figures that do not exist for this model: an error with --method exact, Monte Carlo with auto.
    err(
        &["moments", "-", "--estimator", "concrete", "--method", "exact"],
        READOUT3,
        &["not applicable:", "single stochastic unit"],
    );
    let v = ok_json(&["moments", "-", "--estimator", "concrete", "--samples", "1024"], READOUT3);
    assert_eq!(v["method"], "monte-carlo");
    assert!(v["notes"][0].as_str().unwrap().starts_with("Monte Carlo:"), "{}", v["notes"]);
}

#[test]
fn the_extension_and_derivatives_with_respect_to_p() {
    let curved = toy(-1.0, 0.45);
    let multilinear = curved.replace(r#""target": [0.45]"#, r#""target": [0.45], "extension": "multilinear""#);
    assert_ne!(curved, multilinear);
    // E[f] and ∇ only see the binary states.
    let (a, b) = (ok_json(&["exact", "-"], &curved), ok_json(&["exact", "-"], &multilinear));
    assert_eq!(a, b);
    assert_eq!(ok_json(&["exact", "-", "--extension", "multilinear"], &curved), a);
    // Straight-through: 2(p − t) with the curved extension, 1 − 2t with the multilinear one.
    let p = 1.0 / (1.0 + 1f64.exp());
    let st = |m: &str, extra: &[&str]| {
        let mut args = vec!["moments", "-", "--estimator", "st"];
        args.extend_from_slice(extra);
        ok_json(&args, m)["mean"]["layers"][0]["bias"][0].as_f64().unwrap()
    };
    close(st(&curved, &[]), 2.0 * (p - 0.45), 1e-15, "curved st");
    close(st(&multilinear, &[]), 0.1, 1e-15, "multilinear st");
    close(st(&curved, &["--extension", "multilinear"]), 0.1, 1e-15, "--extension multilinear");
    close(st(&multilinear, &["--extension", "curved"]), 2.0 * (p - 0.45), 1e-15, "--extension curved");
    // w.r.t. p: ∂E[f]/∂p = 1 − 2t; the estimator's mean and variance divided by σ′(a) and σ′(a)².
    let slope = p * (1.0 - p);
    let e = ok_json(&["exact", "-", "--wrt", "p"], &curved);
    close(e["gradient"]["p"].as_f64().unwrap(), 0.1, 1e-15, "∂E[f]/∂p");
    close(e["p"].as_f64().unwrap(), p, 1e-16, "p");
    assert_eq!(e["wrt"], "p");
    let logit = ok_json(&["moments", "-", "--estimator", "st"], &curved);
    let per_p = ok_json(&["moments", "-", "--estimator", "st", "--wrt", "p"], &curved);
    let g = |v: &Value, k: &str| v[k]["layers"][0]["bias"][0].as_f64().unwrap();
    close(per_p["mean"]["p"].as_f64().unwrap(), g(&logit, "mean") / slope, 1e-14, "mean");
    close(per_p["variance"]["p"].as_f64().unwrap(), g(&logit, "variance") / (slope * slope), 1e-12, "variance");
    for f in ["bias_sq_norm", "variance_trace", "mse", "variance_x_evals"] {
        close(per_p[f].as_f64().unwrap(), logit[f].as_f64().unwrap() / (slope * slope), 1e-12, f);
    }
    assert_eq!(per_p["cosine"], logit["cosine"]);
    let csv = ok(
        &[
            "moments",
            "-",
            "--estimator",
            "reinforce",
            "--wrt",
            "p",
            "--method",
            "monte-carlo",
            "--samples",
            "1024",
            "--format",
            "csv",
        ],
        &curved,
    );
    assert!(csv.lines().nth(1).unwrap().starts_with("p,"), "{csv}");
    // Refused: --wrt p on a network with more than its one logit, --extension on the match loss,
    // an unknown extension.
    err(&["exact", "-", "--wrt", "p"], TOY2, &["--wrt p needs a network whose only parameter is one unit's logit"]);
    err(&["exact", "-", "--wrt", "q"], &curved, &["--wrt must be logit or p"]);
    let matching = r#"{"layers": [{"weights": [[]], "bias": [0.0]}], "loss": {"kind": "match", "pattern": [1]}}"#;
    err(
        &["moments", "-", "--estimator", "reinforce", "--extension", "multilinear"],
        matching,
        &["--extension does not apply"],
    );
    err(&["exact", "-", "--extension", "wavy"], &curved, &["--extension must be one of: curved, multilinear"]);
    let bad = curved.replace(r#""target": [0.45]"#, r#""target": [0.45], "extension": 1"#);
    err(&["exact", "-"], &bad, &["loss.extension: expected a string"]);
}

/// `stochgrad digits info` against the packed file read here: its length, the split by index and
/// the 1-bits of the eight row bytes of every 9-byte record (scripts/digits.py's format).
#[test]
fn digits_info_describes_the_packed_data() {
    let r = stochgrad(&["digits", "info"], b"");
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/data/digits.bin")).unwrap();
    let images = bytes.len() / 9;
    let ones: u32 = bytes.chunks(9).map(|rec| rec[..8].iter().map(|b| b.count_ones()).sum::<u32>()).sum();
    let test = (0..images).filter(|i| i % 5 == 4).count();
    assert_eq!(v["images"], images);
    assert_eq!(v["pixels"], 64);
    assert_eq!((v["train"].as_u64().unwrap() as usize, v["test"].as_u64().unwrap() as usize), (images - test, test));
    assert_eq!(v["ones_fraction"].as_f64().unwrap(), f64::from(ones) / (images * 64) as f64);
    for (args, error) in [
        (&["digits"][..], "digits needs a subcommand (expected: info, train, compare)"),
        (&["digits", "draw"], "unknown digits subcommand \"draw\" (expected: info, train, compare)"),
        (&["digits", "info", "x"], "digits info takes no other arguments, got \"x\""),
        (&["digits", "draw", "info"], "unknown digits subcommand \"draw\" (expected: info, train, compare)"),
    ] {
        let r = stochgrad(args, b"");
        assert_eq!(r.code, 2, "{args:?}");
        assert!(r.stderr.contains(error) && r.stderr.lines().count() == 1, "{args:?}: {}", r.stderr);
    }
}

/// `stochgrad digits train`: the CSV's header and checkpoint rows (step 0, every M steps, the last),
/// the bound −ELBO ≥ −log p(x) on every row, the loss evaluations (DisARM: 2 per image), the saved
/// parameters' shapes, and one-line errors for bad input.
#[test]
fn digits_train_prints_checkpoints_and_refuses_bad_input() {
    let dir = std::env::temp_dir().join(format!("stochgrad-digits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let save = dir.join("params.json");
    let save_s = save.to_str().unwrap();
    let args = ["digits", "train", "--estimator", "disarm", "--latents", "3", "--steps", "25", "--eval-every", "10"];
    let r = stochgrad(&[&args[..], &["--batch", "20", "--save", save_s]].concat(), b"");
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let mut lines = r.stdout.lines();
    assert_eq!(
        lines.next().unwrap(),
        "step,loss_evaluations,train_neg_elbo,train_neg_log_marginal,test_neg_elbo,test_neg_log_marginal"
    );
    let rows: Vec<Vec<f64>> = lines.map(|l| l.split(',').map(|x| x.parse().unwrap()).collect()).collect();
    assert_eq!(rows.iter().map(|r| r[0]).collect::<Vec<_>>(), [0.0, 10.0, 20.0, 25.0]);
    for r in &rows {
        assert_eq!(r[1], r[0] * 20.0 * 2.0, "DisARM: two evaluations per image");
        assert!(r[2] >= r[3] && r[4] >= r[5], "{r:?}");
    }
    let params: Value = serde_json::from_str(&std::fs::read_to_string(&save).unwrap()).unwrap();
    assert_eq!(params["latents"], 3);
    assert_eq!(params["encoder"]["weights"].as_array().unwrap().len(), 3);
    assert_eq!(params["encoder"]["weights"][0].as_array().unwrap().len(), 64);
    assert_eq!(params["decoder"]["weights"].as_array().unwrap().len(), 64);
    assert_eq!(params["decoder"]["weights"][0].as_array().unwrap().len(), 3);
    assert_eq!(params["prior"].as_array().unwrap().len(), 3);
    std::fs::remove_dir_all(&dir).ok();

    // `--estimator exact` spends no loss evaluations; the same seed gives the same step 0.
    let e = stochgrad(&["digits", "train", "--estimator", "exact", "--latents", "3", "--steps", "1"], b"");
    assert_eq!(e.code, 0, "{}", e.stderr);
    assert_eq!(e.stdout.lines().nth(1), r.stdout.lines().nth(1));

    for (args, error) in [
        (&["digits", "train"][..], "digits train needs --estimator KEY"),
        (&["digits", "train", "--estimator", "nope"], "unknown estimator \"nope\""),
        (&["digits", "train", "--estimator", "st", "--latents", "17"], "latents must be in [1, 16]"),
        (&["digits", "train", "--estimator", "st", "--latents", "x"], "--latents"),
        (&["digits", "train", "--estimator", "st", "--lr", "fast"], "--lr"),
        (&["digits", "train", "--estimator", "sts"], "the discrete VAE's latents are binary"),
        (&["digits", "train", "--estimator", "st", "--eval-every", "0"], "--eval-every must be at least 1"),
        (&["digits", "train", "--estimator", "st", "model.json"], "digits train takes no other arguments"),
        (&["digits", "compare", "--seeds", "0"], "--seeds must be in [1, 100]"),
        (&["digits", "compare", "--estimators", "disarm,nope"], "unknown estimator \"nope\""),
    ] {
        let r = stochgrad(args, b"");
        let line = assert_one_line_error(&r, &format!("{args:?}"));
        assert!(line.contains(error), "{args:?}: {line}");
    }
}

/// One row of the README's table at k = 8, one seed, 200 steps (the table itself, 10 seeds and
/// 1000 steps, is not recomputed here): `digits compare` gives DisARM 100 steps (two evaluations
/// per image) and prints the same final figures as `digits train` with those steps.
#[test]
fn digits_compare_row_is_digits_train_at_equal_loss_evaluations() {
    let r = stochgrad(
        &["digits", "compare", "--estimators", "disarm", "--latents", "8", "--seeds", "1", "--steps", "200"],
        b"",
    );
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let row = r.stdout.lines().find(|l| l.starts_with("| `disarm`")).expect("a disarm row");
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!((cells[2], cells[3]), ("100", "2"));
    let t = stochgrad(
        &["digits", "train", "--estimator", "disarm", "--latents", "8", "--steps", "100", "--eval-every", "100"],
        b"",
    );
    assert_eq!(t.code, 0, "{}", t.stderr);
    let last: Vec<f64> = t.stdout.lines().last().unwrap().split(',').map(|x| x.parse().unwrap()).collect();
    assert_eq!(cells[4], format!("{:.3}", last[5]), "test −log p(x)");
    assert_eq!(cells[5], format!("{:.3}", last[4]), "test −ELBO");
    assert_eq!(cells[6], format!("{:.3}", last[2]), "train −ELBO");
}

/// `stochgrad exact` on an `elbo` model: `log_marginal` below `−expected_loss` (the bound), the
/// decoder's and prior's gradient in MODEL.json's shapes; `--extension curved` is the loss as
/// written, `multilinear` and malformed models are one-line errors.
#[test]
fn exact_on_an_elbo_model_prints_log_p_and_the_decoders_gradient() {
    let model = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/examples/elbo.json")).unwrap();
    let r = stochgrad(&["exact", "-"], &model);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let (neg_elbo, log_p) = (v["expected_loss"].as_f64().unwrap(), v["log_marginal"].as_f64().unwrap());
    assert!(log_p < 0.0 && -log_p <= neg_elbo, "{log_p} vs {neg_elbo}");
    let g = &v["loss_gradient"];
    assert_eq!(g["decoder"]["weights"].as_array().unwrap().len(), 4);
    assert_eq!(g["decoder"]["weights"][0].as_array().unwrap().len(), 2);
    assert_eq!(g["decoder"]["bias"].as_array().unwrap().len(), 4);
    assert_eq!(g["prior"].as_array().unwrap().len(), 2);
    let curved = stochgrad(&["exact", "-", "--extension", "curved"], &model);
    assert_eq!(curved.stdout, r.stdout);
    let line = assert_one_line_error(&stochgrad(&["exact", "-", "--extension", "multilinear"], &model), "multilinear");
    assert!(line.contains("loss.extension") && line.contains("used as written"), "{line}");
    let text = String::from_utf8(model).unwrap();
    for (bad, want) in [
        (text.replace("\"input\": [1, 0, 1, 1]", "\"input\": [1, 0, 0.5, 1]"), "input[2]"),
        (text.replace(",\n    \"prior\": [0.5, -0.5]", ""), "loss.prior: missing"),
        (text.replace("\"bias\": [0.1, -0.2, 0.3, -0.5]", "\"bias\": [0.1, -0.2, 0.3]"), "loss.decoder.bias"),
    ] {
        assert_ne!(bad, text, "the replacement applies");
        let line = assert_one_line_error(&stochgrad(&["exact", "-"], bad.as_bytes()), want);
        assert!(line.contains(want), "{line}");
    }
}
