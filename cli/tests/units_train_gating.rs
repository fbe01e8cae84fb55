//! The command line for the unit types (STS, noisy rectifier), training races and the gating
//! miniature: outputs against values computed here, and one-line errors.

mod common;

use common::*;

fn sig(a: f64) -> f64 {
    1.0 / (1.0 + (-a).exp())
}

/// The one-unit STS network's objective and its exact derivative (estimators reference, A.7).
fn sts_reference(a: f64, t: f64) -> (f64, f64, f64) {
    let s = sig(a).sqrt();
    let ds = s * sig(-a) / 2.0;
    let f = |h: f64| (h - t) * (h - t);
    let truth = ds * (f(s) - f(0.0) + s * 2.0 * (s - t));
    (s * f(s) + (1.0 - s) * f(0.0), truth, ds * s * 2.0 * (s - t))
}

#[test]
fn exact_computes_a_declared_sts_network_and_noisy_rectifier_networks() {
    let sts = toy(-1.0, 0.45).replace(r#""bias": [-1.0]"#, r#""bias": [-1.0], "unit": "sts""#);
    let v = ok_json(&["exact", "-"], &sts);
    let (e, g, _) = sts_reference(-1.0, 0.45);
    close(v["expected_loss"].as_f64().unwrap(), e, 1e-14, "E[f]");
    close(v["gradient"]["layers"][0]["bias"][0].as_f64().unwrap(), g, 1e-14, "∇");
    assert_eq!(v["method"], "exact");
    // One noisy rectifier, logistic noise: E[(h − 0)²] − E[(h − 1)²] = 2E[h] − 1 = 2 softplus(a) − 1.
    let rect = |t: f64| {
        toy(0.3, t).replace(r#""bias": [0.3]"#, r#""bias": [0.3], "unit": "noisy-rectifier", "noise": "logistic""#)
    };
    let e0 = ok_json(&["exact", "-"], &rect(0.0))["expected_loss"].as_f64().unwrap();
    let e1 = ok_json(&["exact", "-"], &rect(1.0))["expected_loss"].as_f64().unwrap();
    close((e0 - e1 + 1.0) / 2.0, (1.0 + 0.3f64.exp()).ln(), 1e-10, "E[h] = softplus(a)");
    // Two layers of noisy rectifiers: Monte Carlo, with standard errors, the draws and seed.
    let deep = TOY2
        .replace(r#""bias": [0.1, -0.1]}"#, r#""bias": [0.1, -0.1], "unit": "noisy-rectifier", "noise": "gaussian"}"#)
        .replace(r#""bias": [0.25]}"#, r#""bias": [0.25], "unit": "noisy-rectifier"}"#);
    let v = ok_json(&["exact", "-", "--samples", "4096", "--seed", "3"], &deep);
    assert_eq!(
        (v["method"].as_str(), v["samples"].as_u64(), v["seed"].as_u64()),
        (Some("monte-carlo"), Some(4096), Some(3))
    );
    assert!(v["expected_loss_stderr"].as_f64().unwrap() > 0.0);
    assert!(v["stderr"]["layers"][1]["bias"][0].as_f64().unwrap() > 0.0);
    let csv = ok(&["exact", "-", "--format", "csv", "--samples", "1024"], &deep);
    assert!(csv.starts_with("parameter,gradient,stderr\n"));
    // The binary estimators refuse other units.
    err(
        &["moments", "-", "--estimator", "st"],
        &sts,
        &["not applicable: st needs binary units", "layer 1 has sts units"],
    );
}

#[test]
fn unit_type_estimators_say_they_are_compared_on_their_own_objective() {
    let v = ok_json(&["moments", "-", "--estimator", "sts"], &toy(-1.0, 0.45));
    let (e, g, mean) = sts_reference(-1.0, 0.45);
    assert_eq!(v["method"], "exact");
    close(v["expected_loss"].as_f64().unwrap(), e, 1e-14, "own E[f]");
    close(v["exact_gradient"]["layers"][0]["bias"][0].as_f64().unwrap(), g, 1e-14, "own ∇");
    close(v["mean"]["layers"][0]["bias"][0].as_f64().unwrap(), mean, 1e-14, "STS mean");
    close(v["bias_sq_norm"].as_f64().unwrap(), (mean - g).powi(2), 1e-14, "bias²");
    assert_eq!(v["objective"]["units"], "STS units");
    let note = v["notes"][0].as_str().unwrap();
    assert!(note.contains("a different unit") && note.contains("not the binary network's"), "{note}");
    // The noisy rectifier with Gaussian noise: quadrature, unbiased for its own objective.
    let v = ok_json(
        &["moments", "-", "--estimator", "noisy-rectifier", "--noise", "gaussian", "--noise-scale", "0.5"],
        &toy(-1.0, 0.45),
    );
    assert_eq!(v["method"], "quadrature");
    assert!(v["bias_sq_norm"].as_f64().unwrap() < 1e-20);
    assert!(v["objective"]["units"].as_str().unwrap().contains("gaussian noise, scale 0.5"));
    let v = ok_json(&["moments", "-", "--estimator", "st", "--noise", "gaussian"], &toy(-1.0, 0.45));
    assert!(v["notes"].as_array().unwrap().iter().any(|n| n == "--noise is ignored: st does not use it"));
    err(
        &["moments", "-", "--estimator", "noisy-rectifier", "--noise", "cauchy"],
        "",
        &["--noise must be one of: logistic, gaussian"],
    );
    err(
        &["moments", "-", "--estimator", "noisy-rectifier", "--noise-scale", "0"],
        &toy(0.0, 0.5),
        &["noise_scale must be in [0.01, 100]"],
    );
}

#[test]
fn train_prints_the_exact_loss_per_step() {
    let model = toy(-1.0, 0.45);
    let out = ok(&["train", "-", "--estimator", "reinforce-optimal", "--steps", "150", "--lr", "1"], &model);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("step,expected_loss,grad_norm,loss_evaluations,p"));
    let rows: Vec<Vec<f64>> = lines.map(|l| l.split(',').map(|c| c.parse().unwrap()).collect()).collect();
    assert_eq!(rows.len(), 151);
    for (i, r) in rows.iter().enumerate() {
        let p = r[4];
        assert_eq!((r[0], r[3]), (i as f64, i as f64));
        close(r[1], 0.45 * 0.45 + p * 0.1, 1e-15, "exact E[f] = t² + p(1 − 2t)");
        close(r[2], p * (1.0 - p) * 0.1, 1e-15, "exact ‖∇‖");
    }
    close(rows[0][4], sig(-1.0), 1e-15, "initial p");
    assert!(rows.iter().any(|r| r[4] < 0.1), "REINFORCE with the optimal baseline reaches p < 0.1 within 150 steps");
    // Same seed, same race; --every thins the rows (keeping the last).
    assert_eq!(ok(&["train", "-", "--estimator", "reinforce-optimal", "--steps", "150", "--lr", "1"], &model), out);
    let thin =
        ok(&["train", "-", "--estimator", "st", "--steps", "25", "--every", "10", "--optimizer", "adam"], &model);
    let steps: Vec<&str> = thin.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(steps, ["0", "10", "20", "25"]);
    // No p column beyond one unit; evaluations count per estimate.
    let out = ok(&["train", "-", "--estimator", "disarm", "--steps", "3"], READOUT3);
    assert!(out.starts_with("step,expected_loss,grad_norm,loss_evaluations\n"));
    let evals: f64 = out.lines().last().unwrap().split(',').nth(3).unwrap().parse().unwrap();
    assert_eq!(evals, 6.0, "DisARM: 2 evaluations per estimate");
    // Mistakes.
    err(&["train", "-", "--steps", "3"], &model, &["train needs --estimator KEY"]);
    err(&["train", "-", "--estimator", "nope"], &model, &["unknown estimator \"nope\""]);
    err(&["train", "-", "--estimator", "st", "--optimizer", "rmsprop"], &model, &["--optimizer must be sgd or adam"]);
    err(&["train", "-", "--estimator", "st", "--lr", "0"], &model, &["--lr must be in"]);
    err(&["train", "-", "--estimator", "st", "--every", "0"], &model, &["--every must be at least 1"]);
    err(&["train", "-", "--estimator", "st"], MATCH2, &["not applicable:", "needs ∂f/∂h"]);
}

#[test]
fn gating_prints_a_table_or_json() {
    let args = ["gating", "--gates", "3", "--steps", "40", "--seed", "2"];
    let table = ok(&args, "");
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("| gate | held-out error % | held-out loss |"), "{table}");
    for g in ["st", "st-sigmoid", "reinforce-optimal", "sts", "noisy-rectifier", "sigmoid", "dense"] {
        assert!(lines.iter().any(|l| l.starts_with(&format!("| `{g}` |"))), "{g} row in {table}");
    }
    assert_eq!(ok(&args, ""), table, "deterministic");
    let v = ok_json(
        &[
            "gating",
            "--gates",
            "2",
            "--steps",
            "20",
            "--gate",
            "st,noisy-rectifier",
            "--seeds",
            "2",
            "--format",
            "json",
        ],
        "",
    );
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(v["seeds"], serde_json::json!([1, 2]));
    assert!(rows[0]["test_error"]["stderr"].as_f64().is_some());
    err(&["gating", "--gates", "13"], "", &["gates must be in [1, 12]"]);
    err(&["gating", "--gate", "arm"], "", &["unknown gate \"arm\""]);
    err(&["gating", "model.json"], "", &["gating takes no MODEL.json"]);
}
