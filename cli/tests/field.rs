//! `stochgrad field`: the gradient field of one unit with one input, `a = w·x + c`, on the toy
//! `f(h) = (h − t)²`, against its closed form at every grid point: `E[f] = t² + p(1 − 2t)`,
//! `∂E/∂c = σ′(a)(1 − 2t)`, `∂E/∂w = x·∂E/∂c`; REINFORCE's mean is the gradient and
//! straight-through's is `2(p − t)·(x, 1)`. The CSV holds the JSON's numbers; mistakes are one line.

mod common;

use common::*;
use serde_json::Value;

const X: f64 = 0.5;
const T: f64 = 0.45;

fn model(w: f64, c: f64) -> String {
    format!(
        r#"{{"input": [{X:?}], "layers": [{{"weights": [[{w:?}]], "bias": [{c:?}]}}], "loss": {{"kind": "toy", "target": [{T:?}]}}}}"#
    )
}

fn sig(a: f64) -> f64 {
    1.0 / (1.0 + (-a).exp())
}

fn grid(v: &Value, key: &str) -> Vec<Vec<f64>> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect())
        .collect()
}

#[test]
fn the_field_of_one_unit_is_its_closed_form() {
    let m = model(0.75, -0.5);
    let args = [
        "field",
        "-",
        "--x",
        "W1[0][0]",
        "--y",
        "c1[0]",
        "--range",
        "-2,2,-3,1",
        "--grid",
        "5",
        "--estimators",
        "reinforce,st,sts",
        "--steps",
        "4",
        "--lr",
        "0.5",
    ];
    let v = ok_json(&args, &m);
    let xs: Vec<f64> = v["x"]["values"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    let ys: Vec<f64> = v["y"]["values"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert_eq!(xs, [-2.0, -1.0, 0.0, 1.0, 2.0]);
    assert_eq!(ys, [-3.0, -2.0, -1.0, 0.0, 1.0]);
    assert_eq!((v["x"]["value"].as_f64(), v["y"]["value"].as_f64()), (Some(0.75), Some(-0.5)));
    let (ef, gx, gy) = (grid(&v, "expected_loss"), grid(&v, "gradient_x"), grid(&v, "gradient_y"));
    let est = v["estimators"].as_array().unwrap();
    assert_eq!(est.len(), 3);
    assert_eq!((est[0]["key"].as_str(), est[0]["method"].as_str()), (Some("reinforce"), Some("exact")));
    assert_eq!((est[1]["key"].as_str(), est[1]["method"].as_str()), (Some("st"), Some("exact")));
    assert!(est[2]["skipped"].as_str().unwrap().contains("another unit type"));
    assert!(est[2].get("mean_x").is_none() && est[2].get("trajectory").is_none());
    let (rx, ry) = (grid(&est[0], "mean_x"), grid(&est[0], "mean_y"));
    let (sx, sy) = (grid(&est[1], "mean_x"), grid(&est[1], "mean_y"));
    for (j, &c) in ys.iter().enumerate() {
        for (i, &w) in xs.iter().enumerate() {
            let a = w * X + c;
            let p = sig(a);
            let dc = p * sig(-a) * (1.0 - 2.0 * T);
            close(ef[j][i], T * T + p * (1.0 - 2.0 * T), 1e-15, "E[f]");
            close(gy[j][i], dc, 1e-15, "∂E/∂c");
            close(gx[j][i], X * dc, 1e-15, "∂E/∂w");
            close(rx[j][i], X * dc, 1e-15, "reinforce's mean, w");
            close(ry[j][i], dc, 1e-15, "reinforce's mean, c");
            close(sx[j][i], X * 2.0 * (p - T), 1e-15, "st's mean, w");
            close(sy[j][i], 2.0 * (p - T), 1e-15, "st's mean, c");
        }
    }
    // Exact descent: (w, c) ← (w, c) − 0.5 ∇, from the model's values.
    let path = &v["exact_descent"]["points"];
    assert_eq!(path.as_array().unwrap().len(), 5);
    let (mut w, mut c) = (0.75, -0.5);
    for s in 0..5 {
        close(path[s][0].as_f64().unwrap(), w, 1e-15, "descent w");
        close(path[s][1].as_f64().unwrap(), c, 1e-15, "descent c");
        let a = w * X + c;
        let dc = sig(a) * sig(-a) * (1.0 - 2.0 * T);
        (w, c) = (w - 0.5 * X * dc, c - 0.5 * dc);
    }
    for e in &est[..2] {
        let t = e["trajectory"]["points"].as_array().unwrap();
        assert_eq!(t.len(), 5);
        assert_eq!((t[0][0].as_f64(), t[0][1].as_f64()), (Some(0.75), Some(-0.5)));
    }
    // The CSV holds the same numbers, one row per grid point (x fastest).
    let csv = ok(&args.iter().copied().chain(["--format", "csv"]).collect::<Vec<_>>(), &m);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "x,y,expected_loss,gradient_x,gradient_y,reinforce_mean_x,reinforce_mean_y,st_mean_x,st_mean_y"
    );
    assert_eq!(lines.len(), 26);
    let row: Vec<f64> = lines[1 + 5 + 3].split(',').map(|x| x.parse().unwrap()).collect();
    assert_eq!(row, [xs[3], ys[1], ef[1][3], gx[1][3], gy[1][3], rx[1][3], ry[1][3], sx[1][3], sy[1][3]]);
}

#[test]
fn monte_carlo_means_say_so_and_default_ranges_are_the_value_plus_minus_three() {
    let m = TOY2;
    let v = ok_json(
        &["field", "-", "--x", "c1[0]", "--y", "c1[1]", "--grid", "2", "--estimators", "concrete", "--samples", "2048"],
        m,
    );
    let e = &v["estimators"][0];
    assert_eq!(e["method"], "monte-carlo");
    assert!(e["stderr_x"].is_array() && e["stderr_y"].is_array());
    assert_eq!(v["samples"], 2048);
    let notes = v["notes"].to_string();
    assert!(notes.contains("2048 draws per grid point"), "{notes}");
    let x = &v["x"];
    let val = x["value"].as_f64().unwrap();
    assert_eq!(x["range"][0].as_f64().unwrap(), val - 3.0);
    assert_eq!(x["range"][1].as_f64().unwrap(), val + 3.0);
}

#[test]
fn field_mistakes_are_one_line() {
    let m = model(0.75, -0.5);
    let base = ["field", "-", "--x", "W1[0][0]", "--y", "c1[0]"];
    let with = |extra: &[&'static str]| base.iter().copied().chain(extra.iter().copied()).collect::<Vec<&str>>();
    err(&["field", "-", "--y", "c1[0]"], &m, &["field needs --x NAME"]);
    err(&["field", "-", "--x", "c1[0]", "--y", "c1[0]"], &m, &["must differ"]);
    err(&["field", "-", "--x", "c2[0]", "--y", "c1[0]"], &m, &["no parameter named \"c2[0]\"", "W1[0][0], c1[0]"]);
    err(&with(&["--grid", "1"]), &m, &["--grid must be in [2, 64]"]);
    err(&with(&["--grid", "x"]), &m, &["--grid expects a non-negative integer"]);
    err(&with(&["--range", "1,2,3"]), &m, &["--range expects four numbers"]);
    err(&with(&["--range", "2,1,0,1"]), &m, &["range must be finite"]);
    err(&with(&["--range", "0,1,0,nan"]), &m, &["--range expects a finite number"]);
    err(&with(&["--estimators", "nope"]), &m, &["unknown estimator \"nope\""]);
    err(&with(&["--steps", "10001"]), &m, &["steps must be at most 10000"]);
    err(&with(&["--lr", "0"]), &m, &["lr must be in"]);
    err(
        &["field", "-", "--x", "c1[0]", "--y", "c1[1]", "--estimators", "concrete", "--samples", "3"],
        TOY2,
        &["samples must be in"],
    );
    err(&with(&["--tau", "0"]), &m, &["tau must be in"]);
}
