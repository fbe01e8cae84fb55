//! The exact reference values of `shared/reference/estimators.md` §C.3 (computed there with mpmath
//! quadrature and enumeration), reproduced to the printed digits: a value printed as `0.0214602`
//! must agree to within half a unit of its last printed digit.

use stochgrad_core::estimators::{find, HyperParams};
use stochgrad_core::exact::{solve, ExactSolution};
use stochgrad_core::moments::{moments, MethodChoice, Report, Request};
use stochgrad_core::Model;

/// Half a unit in the last printed digit of `printed`.
fn printed_tolerance(printed: &str) -> f64 {
    let s = printed.trim_start_matches('-');
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().unwrap()),
        None => (s, 0),
    };
    let decimals = mantissa.find('.').map_or(0, |i| mantissa.len() - i - 1) as i32;
    0.5 * 10f64.powi(exp - decimals)
}

fn assert_printed(what: &str, actual: f64, printed: &str) {
    let expected: f64 = printed.parse().unwrap();
    let tol = printed_tolerance(printed) * (1.0 + 1e-9);
    assert!((actual - expected).abs() <= tol, "{what}: got {actual:.12}, reference {printed} (± {tol:e})");
}

fn single_unit(a: f64, t: f64) -> Model {
    Model::from_json_str(&format!(
        r#"{{"input": [], "layers": [{{"weights": [[]], "bias": [{a}]}}], "loss": {{"kind": "toy", "target": [{t}]}}}}"#
    ))
    .unwrap()
}

fn three_units(a: [f64; 3], w: [f64; 3], y: f64) -> Model {
    Model::from_json_str(&format!(
        r#"{{"layers": [{{"weights": [[],[],[]], "bias": [{}, {}, {}]}}],
            "loss": {{"kind": "readout", "weights": [{}, {}, {}], "bias": 0, "target": {y}}}}}"#,
        a[0], a[1], a[2], w[0], w[1], w[2]
    ))
    .unwrap()
}

fn run(model: &Model, sol: &ExactSolution, key: &str, tau: f64) -> Report {
    let req = Request {
        hp: HyperParams { tau, ..HyperParams::default() },
        method: MethodChoice::Exact,
        ..Request::default()
    };
    moments(model, sol, find(key).unwrap(), &req, &mut |_, _| true).unwrap()
}

#[test]
fn toy_t045_at_a0() {
    let m = single_unit(0.0, 0.45);
    let sol = solve(&m).unwrap();
    assert_printed("exact g", sol.gradient[0], "0.025");
    // (key, tau, mean, variance) from the C.3 table.
    let rows: &[(&str, f64, &str, &str)] = &[
        ("reinforce", 1.0, "0.025", "0.0159390625"),
        ("reinforce-ma", 1.0, "0.025", "0"),
        ("reinforce-loo", 1.0, "0.025", "0.000625"),
        ("arm", 1.0, "0.025", "0.000208333"),
        ("disarm", 1.0, "0.025", "0"),
        ("st", 1.0, "0.1", "1.0"),
        ("st-sigmoid", 1.0, "0.025", "0.0625"),
        ("st-tempered", 1.0, "0.025", "0.0625"),
        ("muprop", 1.0, "0.025", "0.015625"),
        ("concrete", 0.5, "0.0214602", "0.0142445"),
        ("concrete", 1.0, "0.0166667", "0.0048175"),
        ("st-gumbel", 0.5, "0.0214602", "0.0779337"),
        ("st-gumbel", 1.0, "0.0166667", "0.0333889"),
    ];
    for &(key, tau, mean, var) in rows {
        let r = run(&m, &sol, key, tau);
        assert_printed(&format!("{key} τ={tau} mean"), r.mean[0], mean);
        assert_printed(&format!("{key} τ={tau} variance"), r.variance[0], var);
    }
    // The optimal per-unit baseline makes a single unit's estimator constant (variance exactly 0).
    let r = run(&m, &sol, "reinforce-optimal", 1.0);
    assert!(r.variance[0].abs() < 1e-18 && (r.mean[0] - 0.025).abs() < 1e-15);
    let r = run(&m, &sol, "local-expectation", 1.0);
    assert!(r.variance[0].abs() < 1e-18 && (r.mean[0] - 0.025).abs() < 1e-15);
}

#[test]
fn toy_t0499_at_a0_and_a2() {
    let m = single_unit(0.0, 0.499);
    let sol = solve(&m).unwrap();
    assert_printed("exact g", sol.gradient[0], "0.0005");
    assert_printed("reinforce var", run(&m, &sol, "reinforce", 1.0).variance[0], "0.015625125");
    assert_printed("loo var", run(&m, &sol, "reinforce-loo", 1.0).variance[0], "2.5e-7");
    assert_printed("arm var", run(&m, &sol, "arm", 1.0).variance[0], "8.333e-8");
    assert_printed("disarm var", run(&m, &sol, "disarm", 1.0).variance[0], "0");
    let st = run(&m, &sol, "st-sigmoid", 1.0);
    assert_printed("st-sigmoid mean", st.mean[0], "0.0005");
    assert_printed("st-sigmoid var", st.variance[0], "0.0625");
    assert_printed("concrete τ=1 mean", run(&m, &sol, "concrete", 1.0).mean[0], "0.000333");

    let m = single_unit(2.0, 0.499);
    let sol = solve(&m).unwrap();
    assert_printed("exact g", sol.gradient[0], "2.09987e-4");
    assert_printed("reinforce var", run(&m, &sol, "reinforce", 1.0).variance[0], "0.0065222");
    assert_printed("loo var", run(&m, &sol, "reinforce-loo", 1.0).variance[0], "1.6589e-7");
    assert_printed("arm var", run(&m, &sol, "arm", 1.0).variance[0], "1.4199e-7");
    assert_printed("disarm var", run(&m, &sol, "disarm", 1.0).variance[0], "1.4086e-7");
    assert_printed("st mean", run(&m, &sol, "st", 1.0).mean[0], "0.7636");
    assert_printed("st-sigmoid mean", run(&m, &sol, "st-sigmoid", 1.0).mean[0], "0.0802");
}

#[test]
fn toy_t045_at_a_minus1_wrong_sign() {
    let m = single_unit(-1.0, 0.45);
    let sol = solve(&m).unwrap();
    assert_printed("exact g", sol.gradient[0], "0.0196612");
    assert_printed("st mean", run(&m, &sol, "st", 1.0).mean[0], "-0.3621");
    assert_printed("st-sigmoid mean", run(&m, &sol, "st-sigmoid", 1.0).mean[0], "-0.0712");
    assert_printed("concrete τ=1 mean", run(&m, &sol, "concrete", 1.0).mean[0], "-0.0145");
    assert_printed("st-gumbel τ=1 mean", run(&m, &sol, "st-gumbel", 1.0).mean[0], "-0.0381");
    for key in ["muprop", "reinforce", "arm", "disarm"] {
        let r = run(&m, &sol, key, 1.0);
        assert!((r.mean[0] - sol.gradient[0]).abs() < 1e-15, "{key} must be unbiased");
    }
}

#[test]
fn closed_form_grid_t045() {
    // a, p, exact g, Var REINFORCE, Var LOO2, Var ARM, Var DisARM, Var ST-σ'.
    let grid = [
        ["-4", "0.0179862", "0.00176627", "0.00159709", "8.51938e-5", "8.36151e-5", "8.36054e-5", "2.2041e-5"],
        ["-2", "0.119203", "0.0104994", "0.0088653", "0.000414731", "0.000354977", "0.000352154", "0.00462965"],
        ["0", "0.5", "0.025", "0.0159391", "0.000625", "0.000208333", "0.0", "0.0625"],
        ["2", "0.880797", "0.0104994", "0.00482719", "0.000414731", "0.000354977", "0.000352154", "0.00462965"],
        ["4", "0.982014", "0.00176627", "0.000737205", "8.51938e-5", "8.36151e-5", "8.36054e-5", "2.2041e-5"],
    ];
    for row in grid {
        let a: f64 = row[0].parse().unwrap();
        let m = single_unit(a, 0.45);
        let sol = solve(&m).unwrap();
        assert_printed(&format!("p at a={a}"), stochgrad_core::math::sigmoid(a), row[1]);
        assert_printed(&format!("g at a={a}"), sol.gradient[0], row[2]);
        for (key, col) in [("reinforce", 3), ("reinforce-loo", 4), ("arm", 5), ("disarm", 6), ("st-sigmoid", 7)] {
            assert_printed(&format!("{key} var at a={a}"), run(&m, &sol, key, 1.0).variance[0], row[col]);
        }
    }
}

#[test]
fn three_unit_example() {
    let m = three_units([0.5, -1.0, 1.5], [1.0, -2.0, 3.0], 1.0);
    let sol = solve(&m).unwrap();
    assert_printed("E[f]", sol.expected_loss, "4.727060549");
    for (i, g) in ["0.6649855797", "-0.845575044", "0.5231250553"].iter().enumerate() {
        assert_printed(&format!("∇[{i}]"), sol.gradient[i], g);
    }
    let sum_var = |r: &Report| r.variance.iter().sum::<f64>();
    let unbiased = [
        ("reinforce", "11.0247"),
        ("reinforce-ma", "6.4228"),
        ("reinforce-optimal", "4.7931"),
        ("reinforce-loo", "7.8693"),
        ("arm", "6.0351"),
        ("disarm", "4.5879"),
        ("local-expectation", "2.2638"),
    ];
    for (key, var) in unbiased {
        let r = run(&m, &sol, key, 1.0);
        assert_printed(&format!("{key} Σ var"), sum_var(&r), var);
        for i in 0..3 {
            assert!((r.mean[i] - sol.gradient[i]).abs() < 1e-12, "{key} mean[{i}]");
        }
    }
    let st = run(&m, &sol, "st", 1.0);
    for (i, v) in ["3.07", "-6.15", "9.22"].iter().enumerate() {
        assert_printed(&format!("st mean[{i}]"), st.mean[i], v);
    }
    assert_printed("st Σ var", sum_var(&st), "132.37");
    let sts = run(&m, &sol, "st-sigmoid", 1.0);
    for (i, v) in ["0.7225", "-1.2090", "1.3757"].iter().enumerate() {
        assert_printed(&format!("st-sigmoid mean[{i}]"), sts.mean[i], v);
    }
    assert_printed("st-sigmoid Σ var", sum_var(&sts), "3.8771");
}

#[test]
fn symmetric_case_has_zero_gradient() {
    let m = three_units([0.0; 3], [1.0; 3], 1.5);
    let sol = solve(&m).unwrap();
    for g in &sol.gradient {
        assert!(g.abs() < 1e-15);
    }
    let sum_var = |key: &str| run(&m, &sol, key, 1.0).variance.iter().sum::<f64>();
    assert!(sum_var("arm") < 1e-15);
    assert!(sum_var("disarm") < 1e-15);
    assert_printed("reinforce Σ var", sum_var("reinforce"), "0.984");
    assert_printed("local-expectation Σ var", sum_var("local-expectation"), "0.375");
}
