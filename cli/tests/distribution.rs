//! `stochgrad distribution`: the exact distribution on the toy against its closed form, the JSON
//! fields of both methods, the CSV form, every estimator on small models, and its one-line errors.

mod common;

use common::*;

fn sig(a: f64) -> f64 {
    1.0 / (1.0 + (-a).exp())
}

#[test]
fn reinforce_on_the_toy_is_two_values() {
    // One unit, logit a = −1, f(h) = (h − t)²: ĝ = f(1)(1 − p) w.p. p, −f(0)p w.p. 1 − p.
    let (a, t) = (-1.0, 0.45);
    let v = ok_json(&["distribution", "-", "--estimator", "reinforce", "--param", "c1[0]"], &toy(a, t));
    assert_eq!(v["estimator"], "reinforce");
    assert_eq!(v["parameter"], "c1[0]");
    assert_eq!(v["method"], "exact");
    let p = sig(a);
    let (f1, f0) = ((1.0 - t) * (1.0 - t), t * t);
    let values: Vec<f64> = v["values"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    let probs: Vec<f64> = v["probabilities"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert_eq!(values.len(), 2);
    close(values[0], -f0 * p, 1e-14, "value 0");
    close(values[1], f1 * (1.0 - p), 1e-14, "value 1");
    close(probs[0], 1.0 - p, 1e-14, "probability 0");
    close(probs[1], p, 1e-14, "probability 1");
    let mean = values[0] * probs[0] + values[1] * probs[1];
    close(v["mean"].as_f64().unwrap(), mean, 1e-14, "mean");
    close(v["exact_gradient"].as_f64().unwrap(), p * (1.0 - p) * (f1 - f0), 1e-14, "gradient");
    assert!(v["pieces"].as_array().unwrap().is_empty());
    assert!(v.get("bins").is_none());
    // The same distribution as moments' exact variance.
    let m = ok_json(&["moments", "-", "--estimator", "reinforce"], &toy(a, t));
    let var = m["variance"]["layers"][0]["bias"][0].as_f64().unwrap();
    close(v["variance"].as_f64().unwrap(), var, 1e-14, "variance");
}

#[test]
fn arm_has_uniform_pieces_and_monte_carlo_has_bins() {
    let v = ok_json(&["distribution", "-", "--estimator", "arm", "--param", "c1[1]"], READOUT3);
    assert_eq!(v["method"], "exact");
    let pieces = v["pieces"].as_array().unwrap();
    assert!(!pieces.is_empty());
    let total: f64 = v["probabilities"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).sum::<f64>()
        + pieces.iter().map(|p| p["probability"].as_f64().unwrap()).sum::<f64>();
    close(total, 1.0, 1e-12, "total probability");
    let v = ok_json(
        &["distribution", "-", "--estimator", "concrete", "--param", "c1[0]", "--samples", "1024", "--seed", "3"],
        READOUT3,
    );
    assert_eq!(v["method"], "monte-carlo");
    assert_eq!(v["samples"], 1024);
    assert_eq!(v["seed"], 3);
    let counts: u64 = v["bins"]["counts"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).sum();
    assert_eq!(counts, 1024);
    assert_eq!(v["bins"]["edges"].as_array().unwrap().len(), v["bins"]["counts"].as_array().unwrap().len() + 1);
    assert!(v.get("values").is_none());
    assert!(v["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("continuous")));
}

#[test]
fn csv_rows_are_values_pieces_or_bins() {
    let out = ok(&["distribution", "-", "--estimator", "ar", "--param", "c1[0]", "--format", "csv"], &toy(-1.0, 0.45));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "kind,from,to,probability,count");
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[1..].iter().all(|l| l.starts_with("uniform,") && l.ends_with(',')), "{out}");
    let out = ok(
        &["distribution", "-", "--estimator", "reinforce-loo", "--param", "c1[0]", "--samples", "1000", "--format=csv"],
        &toy(-1.0, 0.45),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1 + 20, "{out}"); // ⌈2·1000^(1/3)⌉ bins
    assert!(lines[1..].iter().all(|l| l.starts_with("bin,")));
}

#[test]
fn every_estimator_runs_on_a_small_model() {
    for key in KEYS {
        let v = ok_json(&["distribution", "-", "--estimator", key, "--param", "c1[2]", "--samples", "1024"], READOUT3);
        assert_eq!(v["estimator"], key);
        assert_no_stray_null(&v, key);
    }
}

#[test]
fn mistakes_are_one_line() {
    let m = toy(-1.0, 0.45);
    err(&["distribution", "-", "--estimator", "reinforce"], &m, &["distribution needs --param NAME"]);
    err(&["distribution", "-", "--param", "c1[0]"], &m, &["distribution needs --estimator KEY"]);
    err(
        &["distribution", "-", "--estimator", "reinforce", "--param", "W1[0][0]"],
        &m,
        &["no parameter named \"W1[0][0]\""],
    );
    err(
        &["distribution", "-", "--estimator", "concrete", "--param", "c1[0]", "--method", "exact"],
        &m,
        &["not applicable", "Monte-Carlo histogram"],
    );
    err(
        &["distribution", "-", "--estimator", "concrete", "--param", "c1[0]", "--samples", "20000000"],
        &m,
        &["samples must be in [512, 10000000]"],
    );
    err(
        &["distribution", "-", "--estimator", "reinforce", "--param", "c1[0]", "--wrt", "p"],
        &m,
        &["unknown flag \"--wrt\""],
    );
    let huge = READOUT3.replace("[1.0, -2.0, 3.0]", "[1e300, -2.0, 3.0]");
    err(&["distribution", "-", "--estimator", "reinforce", "--param", "c1[0]"], &huge, &["numerical problem"]);
}
