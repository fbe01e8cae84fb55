//! The sweep over a unit's firing probability (`stochgrad_core::sweep`): every point equals
//! `moments` of the model with that bias; the toy's optimum and straight-through's stationary point
//! equal their hand computations; bisection and interpolation on functions with known roots.
//!
//! Run: `cargo test -p stochgrad-core --test sweep` (a few seconds).

use stochgrad_core::estimators::{find, HyperParams};
use stochgrad_core::exact::{expected_f, solve};
use stochgrad_core::moments::{moments, MethodChoice, Request};
use stochgrad_core::settings::{LossKind, Settings};
use stochgrad_core::stats::Method;
use stochgrad_core::sweep::{self, grid, Bisection, Unit};
use stochgrad_core::Model;

fn sig(a: f64) -> f64 {
    1.0 / (1.0 + (-a).exp())
}

/// One unit, no inputs, the toy loss `(h − t)²` with the curved extension.
fn one_unit(t: f64) -> Model {
    Settings { widths: vec![1], inputs: 0, target: t, ..Settings::default() }.to_model()
}

fn two_layers() -> Model {
    Settings {
        widths: vec![2, 2],
        inputs: 2,
        loss: LossKind::Readout,
        target: 0.7,
        weight_scale: 1.5,
        bias_spread: 0.8,
        ..Settings::default()
    }
    .to_model()
}

#[test]
fn the_grid_has_exact_ends_and_even_steps() {
    let xs = grid(sweep::RANGE.0, sweep::RANGE.1, sweep::POINTS);
    assert_eq!(xs.len(), 41);
    assert_eq!((xs[0], xs[40]), (-6.0, 6.0));
    assert!((xs[20]).abs() < 1e-15);
    for w in xs.windows(2) {
        assert!((w[1] - w[0] - 0.3).abs() < 1e-12);
    }
}

#[test]
fn every_point_equals_moments_of_the_model_with_that_bias() {
    let model = two_layers();
    for unit in [Unit::default_for(&model), Unit { layer: 0, unit: 1 }] {
        assert!(!unit.is_logit(&model));
        for key in ["st", "reinforce", "arm", "concrete"] {
            let est = find(key).unwrap();
            let req = Request { samples: 4_096, seed: 7, ..Request::default() };
            for &x in &[-6.0, -1.5, 0.0, 2.4] {
                let p = sweep::point(&model, unit, x, est, &req).unwrap();
                let mut m = model.clone();
                m.layers[unit.layer].bias[unit.unit] = x;
                let sol = solve(&m).unwrap();
                let r = moments(&m, &sol, est, &req, &mut |_, _| true).unwrap();
                let k = unit.param_index(&m);
                assert_eq!(p.report.mean, r.mean, "{key} at {x}");
                assert_eq!(p.report.variance, r.variance, "{key} at {x}");
                assert_eq!(p.report.figures.bias_sq_norm.value, r.figures.bias_sq_norm.value);
                assert_eq!(p.report.figures.variance_trace.value, r.figures.variance_trace.value);
                assert_eq!(p.mean_slope, r.mean[k]);
                assert_eq!(p.exact_slope, sol.gradient[k]);
                assert_eq!(p.expected_loss, expected_f(&m, &sol));
                // The swept entry is the bias's: the other parameters are untouched.
                assert_eq!(m.layers[unit.layer].bias[unit.unit], x);
            }
        }
    }
    // A unit that is not in the network is a typed error, not a panic.
    assert!(sweep::point(&model, Unit { layer: 2, unit: 0 }, 0.0, find("st").unwrap(), &Request::default()).is_err());
    assert!(sweep::point(&model, Unit { layer: 1, unit: 2 }, 0.0, find("st").unwrap(), &Request::default()).is_err());
    assert_eq!(Unit { layer: 5, unit: 9 }.clamped(&model), Unit { layer: 1, unit: 1 });
}

/// One unit with target t: `E[f] = p(1 − t)² + (1 − p)t²`, linear in p, so `∂E[f]/∂c =
/// p(1 − p)(1 − 2t)` never changes sign and the optimum is at the edge of the range where p is
/// nearer to the side t is on (p → 0 for t < ½).
#[test]
fn the_toy_optimum_is_the_analytic_one_at_the_range_edge() {
    let xs = grid(-6.0, 6.0, 41);
    for (t, edge) in [(0.3, -6.0), (0.45, -6.0), (0.7, 6.0), (0.0, -6.0), (1.0, 6.0)] {
        let model = one_unit(t);
        let unit = Unit::default_for(&model);
        assert!(unit.is_logit(&model));
        for &x in &xs {
            let (l, s) = sweep::exact_at(&model, unit, x).unwrap();
            let p = sig(x);
            let want_l = p * (1.0 - t) * (1.0 - t) + (1.0 - p) * t * t;
            let want_s = p * (1.0 - p) * (1.0 - 2.0 * t);
            assert!((l - want_l).abs() < 1e-14, "E[f] at {x}, t = {t}: {l} vs {want_l}");
            assert!((s - want_s).abs() < 1e-14, "slope at {x}, t = {t}: {s} vs {want_s}");
        }
        let o = sweep::model_optimum(&model, unit, &xs).unwrap();
        assert_eq!(o.x, edge, "t = {t}");
        assert!(o.at_edge);
        let p = sig(edge);
        assert!((o.expected_loss - (p * (1.0 - t) * (1.0 - t) + (1.0 - p) * t * t)).abs() < 1e-14);
    }
}

/// `st` (identity surrogate) on one unit: `ĝ = ∂f/∂h = 2(h − t)`, so `E[ĝ] = 2(p − t)`, which
/// crosses zero, rising, at `p = t`, i.e. `c = logit(t)` — where the true gradient `p(1 − p)(1 − 2t)`
/// is not zero. (With the multilinear extension `∂f/∂h = 1 − 2t` is constant: no crossing.)
#[test]
fn straight_through_stationary_point_is_the_hand_computed_one() {
    let xs = grid(-6.0, 6.0, 41);
    let st = find("st").unwrap();
    let hp = HyperParams::default();
    for t in [0.3, 0.45, 0.8] {
        let model = one_unit(t);
        let unit = Unit::default_for(&model);
        let req = Request::default();
        let points: Vec<_> = xs.iter().map(|&x| sweep::point(&model, unit, x, st, &req).unwrap()).collect();
        for p in &points {
            assert_eq!(p.report.method, Method::Exact);
            assert!((p.mean_slope - 2.0 * (sig(p.x) - t)).abs() < 1e-14);
        }
        let s = sweep::stationary(&model, unit, st, &hp, &points).unwrap();
        assert_eq!(s.method, Method::Exact);
        assert_eq!(s.crossings.len(), 1, "t = {t}: {:?}", s.crossings);
        let want = (t / (1.0 - t)).ln();
        assert!((s.crossings[0].x - want).abs() < 1e-8, "t = {t}: {} vs {want}", s.crossings[0].x);
        assert!(s.crossings[0].rising);
        // An unbiased estimator's stationary points are the exact gradient's: none in the range.
        let r = find("reinforce").unwrap();
        let rp: Vec<_> = xs.iter().map(|&x| sweep::point(&model, unit, x, r, &req).unwrap()).collect();
        assert!(sweep::stationary(&model, unit, r, &hp, &rp).unwrap().crossings.is_empty());
    }
    let mut model = one_unit(0.3);
    if let stochgrad_core::loss::Loss::Toy { extension, .. } = &mut model.loss {
        *extension = stochgrad_core::loss::Extension::Multilinear;
    }
    let unit = Unit::default_for(&model);
    let points: Vec<_> = xs.iter().map(|&x| sweep::point(&model, unit, x, st, &Request::default()).unwrap()).collect();
    assert!(sweep::stationary(&model, unit, st, &hp, &points).unwrap().crossings.is_empty());
}

/// Monte Carlo: the crossing interpolated between the grid's means is within the sampling error.
/// At t = 0.3 the mean 2(p − t) has slope 2p(1 − p) = 0.42 in c at the root, ĝ's variance is
/// 4p(1 − p) = 0.84, so with 20 000 draws a mean's s.e. is 0.0065 and the root's about 0.015 in c;
/// interpolating the curved mean over steps of 0.3 adds under 0.01. Tolerance: 5 s.e. + 0.01.
#[test]
fn monte_carlo_crossings_are_interpolated_within_the_sampling_error() {
    let t = 0.3;
    let model = one_unit(t);
    let unit = Unit::default_for(&model);
    let st = find("st").unwrap();
    let req = Request { method: MethodChoice::MonteCarlo, samples: 20_000, seed: 2026, ..Request::default() };
    let xs = grid(-6.0, 6.0, 41);
    let points: Vec<_> = xs.iter().map(|&x| sweep::point(&model, unit, x, st, &req).unwrap()).collect();
    assert!(points.iter().all(|p| p.report.method == Method::MonteCarlo && p.mean_slope_stderr.is_some()));
    let s = sweep::stationary(&model, unit, st, &HyperParams::default(), &points).unwrap();
    assert_eq!(s.method, Method::MonteCarlo);
    assert_eq!(s.crossings.len(), 1, "{:?}", s.crossings);
    let want = (t / (1.0 - t)).ln();
    assert!((s.crossings[0].x - want).abs() < 5.0 * 0.015 + 0.01, "{} vs {want}", s.crossings[0].x);
}

#[test]
fn bisection_and_optimum_on_known_functions() {
    // A parabola's interior minimum: (x − 1)², slope 2(x − 1).
    let xs = grid(-6.0, 6.0, 41);
    let loss: Vec<f64> = xs.iter().map(|x| (x - 1.0) * (x - 1.0)).collect();
    let slope: Vec<f64> = xs.iter().map(|x| 2.0 * (x - 1.0)).collect();
    let o = sweep::optimum(&xs, &loss, &slope, |x| Ok(2.0 * (x - 1.0)), |x| Ok((x - 1.0) * (x - 1.0))).unwrap();
    assert!(!o.at_edge);
    assert!((o.x - 1.0).abs() < 1e-9, "{}", o.x);
    // A maximum inside is not an optimum: −(x − 1)² has its lowest value at the far edge.
    let neg: Vec<f64> = loss.iter().map(|l| -l).collect();
    let nslope: Vec<f64> = slope.iter().map(|s| -s).collect();
    let o = sweep::optimum(&xs, &neg, &nslope, |x| Ok(-2.0 * (x - 1.0)), |x| Ok(-(x - 1.0) * (x - 1.0))).unwrap();
    assert!(o.at_edge);
    assert_eq!(o.x, -6.0);
    // Roots of sin(x) on the grid (±2π lie outside it): −π, 0 (a grid point), π.
    let ys: Vec<f64> = xs.iter().map(|x| x.sin()).collect();
    let r = sweep::roots(&xs, &ys, |x| Ok(x.sin())).unwrap();
    let pi = std::f64::consts::PI;
    let want = [-pi, 0.0, pi];
    assert_eq!(r.len(), 3, "{r:?}");
    for (c, w) in r.iter().zip(want) {
        assert!((c.x - w).abs() < 1e-8, "{} vs {w}", c.x);
    }
    assert_eq!(r.iter().map(|c| c.rising).collect::<Vec<_>>(), [false, true, false]);
    // The state machine stops within the tolerance and the step limit.
    let mut b = Bisection::new(0.0, 3.0, -1.0);
    let mut steps = 0;
    while let Some(x) = b.next() {
        b.update(x, x * x - 2.0);
        steps += 1;
    }
    assert!(steps <= sweep::MAX_STEPS);
    assert!((b.root() - 2f64.sqrt()).abs() < 1e-9);
    // Linear interpolation is exact on a line.
    let line: Vec<f64> = xs.iter().map(|x| 0.5 * x - 0.4).collect();
    let r = sweep::interpolated_roots(&xs, &line);
    assert_eq!(r.len(), 1);
    assert!((r[0].x - 0.8).abs() < 1e-12 && r[0].rising);
}
