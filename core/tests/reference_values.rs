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
    run_hp(model, sol, key, HyperParams { tau, ..HyperParams::default() })
}

fn run_hp(model: &Model, sol: &ExactSolution, key: &str, hp: HyperParams) -> Report {
    let req = Request { hp, method: MethodChoice::Exact, ..Request::default() };
    moments(model, sol, find(key).unwrap(), &req, &mut |_, _| true).unwrap()
}

/// The unbiased-exact-mean rule: `‖m − ∇‖ ≤ 1e−10·(‖∇‖ + √tr Var) + 1e−14`.
fn assert_unbiased(what: &str, r: &Report, grad: &[f64]) {
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let d: Vec<f64> = r.mean.iter().zip(grad).map(|(m, g)| m - g).collect();
    let tr: f64 = r.variance.iter().sum();
    let bound = 1e-10 * (norm(grad) + tr.sqrt()) + 1e-14;
    assert!(norm(&d) <= bound, "{what}: mean {:?} vs exact {grad:?} (bound {bound:e})", r.mean);
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
        ("ar", 1.0, "0.025", "0.0214604167"),
        ("darn", 1.0, "0.025", "0.0625"),
        ("reinmax", 1.0, "0.025", "0.0625"),
        ("gapped-st", 0.5, "0.0209987", "0.0440946"),
        ("gapped-st", 1.0, "0.0196612", "0.0386563"),
        ("gumbel-rao", 0.5, "0.0214602", ""),
        ("gumbel-rao", 1.0, "0.0166667", ""),
        ("rebar", 1.0, "0.025", "0.0226531"),
    ];
    for &(key, tau, mean, var) in rows {
        let r = run(&m, &sol, key, tau);
        assert_printed(&format!("{key} τ={tau} mean"), r.mean[0], mean);
        if !var.is_empty() {
            assert_printed(&format!("{key} τ={tau} variance"), r.variance[0], var);
        }
    }
    for key in ["ar", "rebar"] {
        assert_unbiased(key, &run(&m, &sol, key, 1.0), &sol.gradient);
    }
    // Gumbel-Rao with K conditional samples: Var = Var[E[ĝ|h]] + E[Var[ĝ|h]]/K, where ST-Gumbel is
    // the K = 1 case. The K → ∞ limit Var[E[ĝ|h]] from K = 10 and ST-Gumbel reproduces the table,
    // and K = 20 and K = 64 follow from the relation.
    for (tau, limit) in [(0.5, "0.0460539"), (1.0, "0.0277778")] {
        let st = run(&m, &sol, "st-gumbel", tau).variance[0];
        let gr = |k: u32| run_hp(&m, &sol, "gumbel-rao", HyperParams { tau, k: Some(k), ..HyperParams::default() });
        let g10 = gr(10);
        assert_eq!(g10.variance, run(&m, &sol, "gumbel-rao", tau).variance, "K defaults to 10");
        let v_inf = (10.0 * g10.variance[0] - st) / 9.0;
        assert_printed(&format!("gumbel-rao K→∞ τ={tau} variance"), v_inf, limit);
        for k in [20u32, 64] {
            let expected = v_inf + (st - v_inf) / k as f64;
            let got = gr(k).variance[0];
            assert!((got - expected).abs() <= 1e-12 * expected, "gumbel-rao K={k} τ={tau}: {got} vs {expected}");
        }
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
    let rebar = run(&m, &sol, "rebar", 1.0);
    assert_printed("rebar var", rebar.variance[0], "0.0222902");
    assert_unbiased("rebar", &rebar, &sol.gradient);

    let m = single_unit(2.0, 0.499);
    let sol = solve(&m).unwrap();
    assert_printed("exact g", sol.gradient[0], "2.09987e-4");
    assert_printed("reinforce var", run(&m, &sol, "reinforce", 1.0).variance[0], "0.0065222");
    assert_printed("loo var", run(&m, &sol, "reinforce-loo", 1.0).variance[0], "1.6589e-7");
    assert_printed("arm var", run(&m, &sol, "arm", 1.0).variance[0], "1.4199e-7");
    assert_printed("disarm var", run(&m, &sol, "disarm", 1.0).variance[0], "1.4086e-7");
    assert_printed("st mean", run(&m, &sol, "st", 1.0).mean[0], "0.7636");
    assert_printed("st-sigmoid mean", run(&m, &sol, "st-sigmoid", 1.0).mean[0], "0.0802");
    let darn = run(&m, &sol, "darn", 1.0);
    assert_unbiased("darn", &darn, &sol.gradient);
    assert_printed("darn var", darn.variance[0], "0.02617");
    assert_printed("reinmax τ=0.5 mean", run(&m, &sol, "reinmax", 0.5).mean[0], "-0.0838");
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
    // DARN / ReinMax(τ = 1) are exact for this quadratic f; REBAR and AR are unbiased.
    for key in ["darn", "reinmax", "rebar", "ar"] {
        assert_unbiased(key, &run(&m, &sol, key, 1.0), &sol.gradient);
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
    // DARN = ReinMax(τ = 1): exact mean (f is quadratic in each unit).
    for key in ["darn", "reinmax"] {
        let r = run(&m, &sol, key, 1.0);
        assert_unbiased(key, &r, &sol.gradient);
        assert_printed(&format!("{key} Σ var"), sum_var(&r), "5.0266");
    }
    let rm = run(&m, &sol, "reinmax", 2.0);
    for (i, v) in ["0.7331", "-1.2887", "1.6171"].iter().enumerate() {
        assert_printed(&format!("reinmax τ=2 mean[{i}]"), rm.mean[i], v);
    }
    assert_printed("reinmax τ=2 Σ var", sum_var(&rm), "7.7030");
    let gst = run_hp(&m, &sol, "gapped-st", HyperParams { tau: 0.5, gap: 1.0, ..HyperParams::default() });
    for (i, v) in ["0.6456", "-1.2913", "0.7135"].iter().enumerate() {
        assert_printed(&format!("gapped-st mean[{i}]"), gst.mean[i], v);
    }
    assert_printed("gapped-st Σ var", sum_var(&gst), "3.4035");
    assert_unbiased("ar", &run(&m, &sol, "ar", 1.0), &sol.gradient);
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
