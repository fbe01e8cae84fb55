//! The gradient field (`stochgrad_core::field`): at every grid point the exact `E[f]`, the two
//! gradient components and each estimator's mean equal `exact::solve` and `moments::moments` of the
//! model with those two parameters set (bit for bit), and the independent brute force of
//! `common` (to rounding); the trajectories train only the two parameters, as a race would (the
//! same streams), and exact descent follows the exact gradient.

mod common;

use common::*;
use stochgrad_core::estimators::{find, HyperParams};
use stochgrad_core::exact::solve;
use stochgrad_core::field::{self, Axis, Field, Spec};
use stochgrad_core::moments::{moments, MethodChoice, Request};
use stochgrad_core::rng::Stream;
use stochgrad_core::stats::Method;
use stochgrad_core::train::Optimizer;
use stochgrad_core::Error;

/// A two-layer network (2 inputs, widths 2 and 2, toy loss) and the field over `W1[1][0]` and `c2[0]`.
fn net() -> Net {
    let mut rng = XorShift::new(20_2026);
    Net::random(&mut rng, 2, &[2, 2], "toy")
}

fn close(a: f64, b: f64, scale: f64, what: &str) {
    assert!((a - b).abs() <= 1e-12 * scale.max(1.0), "{what}: {a} vs {b}");
}

#[test]
fn every_grid_point_equals_solve_and_moments_of_the_model_with_those_parameters() {
    let net = net();
    let model = net.model();
    let ix = stochgrad_core::params::find(&model, "W1[1][0]").unwrap();
    let iy = stochgrad_core::params::find(&model, "c2[0]").unwrap();
    assert_eq!((ix, iy), (net.w_idx(0, 1, 0), net.c_idx(1, 0)), "names are params::name's");
    let keys = ["reinforce", "reinforce-optimal", "st", "disarm", "concrete", "sts", "muprop"];
    let spec = Spec {
        x: Axis { index: ix, lo: -1.5, hi: 2.0 },
        y: Axis { index: iy, lo: -2.0, hi: 1.0 },
        grid: 4,
        estimators: keys.iter().map(|k| k.to_string()).collect(),
        samples: 4096,
        ..Spec::new(&model, ix, iy)
    };
    let f = Field::new(&model, spec.clone()).unwrap();
    // Another unit type and a single-layer estimator are left out, each with its reason.
    let skipped: Vec<&str> = f.estimators().iter().filter(|e| e.skipped.is_some()).map(|e| e.key.as_str()).collect();
    assert_eq!(skipped, ["sts", "muprop"]);
    let used: Vec<&str> = f.estimators().iter().filter(|e| e.skipped.is_none()).map(|e| e.key.as_str()).collect();
    assert_eq!(used, ["reinforce", "reinforce-optimal", "st", "disarm", "concrete"]);
    let method = |k: &str| f.estimators().iter().find(|e| e.key == k).unwrap().method;
    assert_eq!(method("reinforce"), Some(Method::Exact));
    assert_eq!(method("concrete"), Some(Method::MonteCarlo), "two layers: Concrete is sampled, and says so");
    let (xs, ys) = (f.xs(), f.ys());
    assert_eq!((xs[0], xs[3], ys[0], ys[3]), (-1.5, 2.0, -2.0, 1.0), "the grid includes both ends");
    let hp = HyperParams::default();
    let req = Request { hp, method: MethodChoice::Auto, samples: spec.samples, seed: spec.seed };
    let rows = f.rows().unwrap();
    assert_eq!(rows.len(), 4);
    for (j, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), 4);
        for (i, p) in row.iter().enumerate() {
            assert_eq!((p.x, p.y), (xs[i], ys[j]));
            let mut here = net.clone();
            let mut th = here.params();
            th[ix] = p.x;
            th[iy] = p.y;
            here.set_params(&th);
            let m = here.model();
            let sol = solve(&m).unwrap();
            assert_eq!(p.expected_loss, sol.expected_loss);
            assert_eq!(p.gradient, [sol.gradient[ix], sol.gradient[iy]]);
            // The independent brute force agrees to rounding.
            let bf = brute_exact(&here);
            close(p.expected_loss, bf.expected_loss, 1.0, "E[f]");
            close(p.gradient[0], bf.grad[ix], bf.abs[ix], "∂x");
            close(p.gradient[1], bf.grad[iy], bf.abs[iy], "∂y");
            assert_eq!(p.means.len(), used.len());
            for (k, key) in used.iter().enumerate() {
                let r = moments(&m, &sol, find(key).unwrap(), &req, &mut |_, _| true).unwrap();
                assert_eq!(p.means[k], [r.mean[ix], r.mean[iy]], "{key} at ({}, {})", p.x, p.y);
                assert_eq!(p.stderr[k], r.stderr.as_ref().map(|s| [s[ix], s[iy]]), "{key}");
                assert_eq!(
                    p.stderr[k].is_some(),
                    method(key) == Some(Method::MonteCarlo),
                    "{key}: the method says which"
                );
                if ["reinforce", "reinforce-optimal", "st"].contains(key) {
                    let b = joint_moments(&here, &bf, key, hp.tau, hp.gap);
                    let scale = b.var[ix].sqrt().max(b.var[iy].sqrt());
                    close(p.means[k][0], b.mean[ix], scale, key);
                    close(p.means[k][1], b.mean[iy], scale, key);
                }
            }
            // Unbiased estimators' arrows are the gradient's; straight-through's are not, somewhere.
            close(p.means[0][0], p.gradient[0], bf.abs[ix], "reinforce is unbiased");
        }
    }
    let st_off = rows.iter().flatten().any(|p| (p.means[2][0] - p.gradient[0]).abs() > 1e-3);
    assert!(st_off, "straight-through's mean differs from the gradient somewhere on the grid");
}

#[test]
fn trajectories_move_only_the_two_parameters_with_the_race_streams() {
    let net = net();
    let model = net.model();
    let (ix, iy) = (net.c_idx(0, 1), net.w_idx(1, 0, 1));
    let spec = Spec {
        estimators: vec!["st".into(), "reinforce".into()],
        steps: 25,
        lr: 0.3,
        seed: 7,
        grid: 2,
        ..Spec::new(&model, ix, iy)
    };
    let f = Field::new(&model, spec.clone()).unwrap();
    let ts = f.trajectories().unwrap();
    let keys: Vec<&str> = ts.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys, ["exact", "st", "reinforce"]);
    let start = net.params();
    for t in &ts {
        assert_eq!(t.points.len(), 26);
        assert_eq!(t.points[0], [start[ix], start[iy]], "{}: starts at the current point", t.key);
        // Replay: the other parameters never move; each step is lr × the exact gradient (exact) or
        // the estimator's draw from stream `step` of (seed, key), on the two parameters only.
        let mut th = start.clone();
        for s in 0..25 {
            let mut here = net.clone();
            here.set_params(&th);
            let m = here.model();
            let sol = solve(&m).unwrap();
            assert_eq!(t.expected_loss[s], sol.expected_loss, "{} step {s}", t.key);
            close(t.expected_loss[s], brute_expected_loss(&here), 1.0, "E[f] on the path");
            let g = if t.key == "exact" {
                sol.gradient.clone()
            } else {
                let est = find(&t.key).unwrap();
                let hp = HyperParams::default();
                let mut sampler = est.sampler(&m, &hp, &sol).unwrap();
                let mut g = vec![0.0; m.num_params()];
                sampler.draw(&mut Stream::new(7, &t.key, s as u64), &mut g);
                g
            };
            th[ix] -= 0.3 * g[ix];
            th[iy] -= 0.3 * g[iy];
            assert_eq!(t.points[s + 1], [th[ix], th[iy]], "{} step {}", t.key, s + 1);
        }
    }
    // Exact descent lowers E[f] at this small rate.
    let exact = &ts[0];
    assert!(exact.expected_loss[25] < exact.expected_loss[0]);
    // Adam moves the two parameters too, and no others (a field with Adam runs).
    let adam = Field::new(&model, Spec { optimizer: Optimizer::Adam, ..spec }).unwrap();
    let t = adam.trajectory("st").unwrap();
    assert_ne!(t.points[25], t.points[0]);
}

#[test]
fn bad_specs_are_typed_one_line_errors() {
    let model = net().model();
    let base = Spec::new(&model, 0, 1);
    let err = |s: Spec| match Field::new(&model, s) {
        Err(e) => {
            let text = e.to_string();
            assert!(!text.contains('\n'), "{text}");
            (e, text)
        }
        Ok(_) => panic!("accepted"),
    };
    assert!(err(Spec { y: Axis { index: 0, ..base.y }, ..base.clone() }).1.contains("must differ"));
    assert!(err(Spec { x: Axis { index: 99, ..base.x }, ..base.clone() }).1.contains("no parameter 99"));
    assert!(err(Spec { x: Axis { lo: 1.0, hi: 1.0, ..base.x }, ..base.clone() }).1.contains("range"));
    assert!(err(Spec { x: Axis { lo: f64::NAN, ..base.x }, ..base.clone() }).1.contains("range"));
    assert!(err(Spec { grid: 1, ..base.clone() }).1.contains("grid must be in [2, 64]"));
    assert!(err(Spec { grid: 65, ..base.clone() }).1.contains("grid must be in [2, 64]"));
    assert!(err(Spec { steps: field::MAX_STEPS + 1, ..base.clone() }).1.contains("steps"));
    assert!(err(Spec { lr: 0.0, ..base.clone() }).1.contains("lr must be"));
    assert!(err(Spec { estimators: vec!["nope".into()], ..base.clone() }).1.contains("unknown estimator"));
    let (e, _) = err(Spec { estimators: vec!["concrete".into()], samples: 5, ..base.clone() });
    assert!(matches!(e, Error::Hyper(_)));
    let e = stochgrad_core::params::find(&model, "W9[0][0]").unwrap_err().to_string();
    assert!(e.contains("no parameter named \"W9[0][0]\"") && e.contains("c1[0]"), "{e}");
    // A network of other units has no exact field here.
    let sts = stochgrad_core::Model::from_json_str(
        r#"{"input": [], "layers": [{"weights": [[], []], "bias": [0.5, -1], "unit": "sts"}], "loss": {"kind": "toy", "target": [0.4, 0.6]}}"#,
    )
    .unwrap();
    assert!(matches!(Field::new(&sts, Spec::new(&sts, 0, 1)), Err(Error::NotApplicable(_))));
}

/// A network with a categorical layer (2 inputs → one unit of 3 classes → 2 binary units, toy
/// loss): the field's exact gradient is the central difference of its exact `E[f]` along each axis,
/// REINFORCE's exact mean is the gradient, the binary-only estimators are left out with their
/// reason, the relaxations are sampled, and exact descent lowers `E[f]`.
#[test]
fn a_categorical_network_has_a_field_too() {
    let model = stochgrad_core::Model::from_json_str(
        r#"{"input": [0.5, -1.0], "layers": [
            {"unit": "categorical", "classes": 3, "weights": [[0.4, -0.3], [-0.8, 0.2], [0.1, 0.9]], "bias": [0.3, -0.5, 0.0]},
            {"weights": [[1.2, -0.7, 0.3], [-0.4, 0.9, -1.1]], "bias": [0.2, -0.3]}],
          "loss": {"kind": "toy", "target": [0.3, 0.7]}}"#,
    )
    .unwrap();
    let ix = stochgrad_core::params::find(&model, "W1[2][1]").unwrap();
    let iy = stochgrad_core::params::find(&model, "c1[0]").unwrap();
    let keys = ["reinforce", "arm", "st", "concrete"];
    let spec = Spec {
        grid: 3,
        estimators: keys.iter().map(|k| k.to_string()).collect(),
        samples: 2048,
        steps: 20,
        lr: 0.5,
        ..Spec::new(&model, ix, iy)
    };
    let f = Field::new(&model, spec.clone()).unwrap();
    let skipped: Vec<(&str, &str)> =
        f.estimators().iter().filter_map(|e| e.skipped.as_deref().map(|s| (e.key.as_str(), s))).collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].0 == "arm" && skipped[0].1.contains("binary units only"), "{skipped:?}");
    let method = |k: &str| f.estimators().iter().find(|e| e.key == k).unwrap().method;
    assert_eq!((method("reinforce"), method("st")), (Some(Method::Exact), Some(Method::Exact)));
    assert_eq!(method("concrete"), Some(Method::MonteCarlo));
    let e = |x: f64, y: f64| solve(&f.model_at(x, y)).unwrap().expected_loss;
    let h = 1e-5;
    for p in f.rows().unwrap().iter().flatten() {
        let dx = (e(p.x + h, p.y) - e(p.x - h, p.y)) / (2.0 * h);
        let dy = (e(p.x, p.y + h) - e(p.x, p.y - h)) / (2.0 * h);
        assert!(
            (p.gradient[0] - dx).abs() < 1e-8 && (p.gradient[1] - dy).abs() < 1e-8,
            "{:?} vs ({dx}, {dy})",
            p.gradient
        );
        assert_eq!(p.expected_loss, e(p.x, p.y));
        close(p.means[0][0], p.gradient[0], 1.0, "reinforce is unbiased (x)");
        close(p.means[0][1], p.gradient[1], 1.0, "reinforce is unbiased (y)");
        assert!(p.means.iter().flatten().all(|v| v.is_finite()));
    }
    let ts = f.trajectories().unwrap();
    assert_eq!(ts.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(), ["exact", "reinforce", "st", "concrete"]);
    assert!(ts[0].expected_loss[20] < ts[0].expected_loss[0], "exact descent lowers E[f]");
}
