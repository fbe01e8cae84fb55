//! Categorical models through the command: `exact` on one K-way unit against its closed form, the
//! estimators without a categorical form refused with exit 2, and bad `classes` or widths refused
//! with one line naming the field.

mod common;

use common::*;

/// One unit of K = 3 classes, logits `a`, the toy loss with target `t` (the worked example of the
/// shared categorical reference: a = (0.5, −0.2, 0.1), t = (0.2, 0.5, 0.3)).
fn one_unit(a: [f64; 3], t: [f64; 3]) -> String {
    format!(
        r#"{{"layers":[{{"unit":"categorical","classes":3,"weights":[[],[],[]],"bias":[{},{},{}]}}],"loss":{{"kind":"toy","target":[{},{},{}]}}}}"#,
        a[0], a[1], a[2], t[0], t[1], t[2]
    )
}

#[test]
fn exact_on_one_unit_is_the_softmax_closed_form() {
    let (a, t) = ([0.5, -0.2, 0.1], [0.2, 0.5, 0.3]);
    let v = ok_json(&["exact", "-"], &one_unit(a, t));
    // π = softmax(a); f(e_c) = ‖e_c − t‖²; E[f] = Σ π_c f_c; ∂E[f]/∂a_c = π_c (f_c − E[f]).
    let z: f64 = a.iter().map(|x| x.exp()).sum();
    let pi: Vec<f64> = a.iter().map(|x| x.exp() / z).collect();
    let f: Vec<f64> = (0..3).map(|c| (0..3).map(|j| (f64::from(u8::from(j == c)) - t[j]).powi(2)).sum()).collect();
    let e: f64 = (0..3).map(|c| pi[c] * f[c]).sum();
    close(v["expected_loss"].as_f64().unwrap(), e, 1e-14, "E[f]");
    let bias = v["gradient"]["layers"][0]["bias"].as_array().unwrap();
    for c in 0..3 {
        close(bias[c].as_f64().unwrap(), pi[c] * (f[c] - e), 1e-14, "∂E[f]/∂a");
    }
    // The reference's printed digits.
    close(bias[0].as_f64().unwrap(), 0.0920066324, 1e-10, "reference ∂/∂a_1");
    close(bias[1].as_f64().unwrap(), -0.0918116415, 1e-10, "reference ∂/∂a_2");
    // One baseline per unit (not per class).
    assert_eq!(v["optimal_baseline"][0].as_array().unwrap().len(), 1);
}

#[test]
fn two_categorical_layers_round_trip_and_solve() {
    // 2 units of K = 2, then 1 unit of K = 3 reading the 4 one-hot outputs; readout loss.
    let model = r#"{"input":[1.0,-0.5],"layers":[
        {"unit":"categorical","classes":2,"weights":[[0.3,0.1],[0,0],[-0.2,0.4],[0,0]],"bias":[0.1,0,-0.3,0]},
        {"unit":"categorical","classes":3,"weights":[[1,0,-1,0.5],[0.2,0.2,0.2,0.2],[-0.5,1,0,0]],"bias":[0,0.1,-0.1]}],
        "loss":{"kind":"readout","weights":[1,-2,0.5],"bias":0,"target":0.5}}"#;
    let v = ok_json(&["exact", "-"], model);
    assert!(v["expected_loss"].as_f64().unwrap().is_finite());
    assert_eq!(v["gradient"]["layers"][1]["weights"].as_array().unwrap().len(), 3);
    assert_eq!(v["optimal_baseline"][0].as_array().unwrap().len(), 2);
    assert_eq!(v["optimal_baseline"][1].as_array().unwrap().len(), 1);
}

#[test]
fn binary_only_estimators_are_refused_with_exit_2() {
    let model = one_unit([0.5, -0.2, 0.1], [0.2, 0.5, 0.3]);
    for key in ["arm", "disarm", "ar"] {
        let e = err(&["moments", "-", "--estimator", key], &model, &["not applicable", "binary units only", key]);
        assert!(e.contains("layer 1 is categorical"), "{e}");
    }
}

#[test]
fn bad_classes_and_widths_name_the_field() {
    let layer = |extra: &str, rows: usize| {
        let weights = vec!["[]"; rows].join(",");
        let bias = vec!["0"; rows].join(",");
        format!(
            r#"{{"layers":[{{"unit":"categorical"{extra},"weights":[{weights}],"bias":[{bias}]}}],"loss":{{"kind":"toy","target":[{}]}}}}"#,
            vec!["0.5"; rows].join(",")
        )
    };
    err(&["exact", "-"], &layer("", 3), &["layers[0].classes", "missing"]);
    err(&["exact", "-"], &layer(r#","classes":2.5"#, 4), &["layers[0].classes", "integer"]);
    err(&["exact", "-"], &layer(r#","classes":1"#, 3), &["layers[0].classes", "from 2 to 16"]);
    err(&["exact", "-"], &layer(r#","classes":17"#, 17), &["layers[0].classes", "from 2 to 16"]);
    err(&["exact", "-"], &layer(r#","classes":"3""#, 3), &["layers[0].classes"]);
    err(&["exact", "-"], &layer(r#","classes":3"#, 4), &["layers[0].bias", "not a multiple of the 3 classes"]);
    // classes on a binary layer, and categorical mixed with STS.
    let binary = r#"{"layers":[{"classes":3,"weights":[[]],"bias":[0]}],"loss":{"kind":"toy","target":[0.5]}}"#;
    err(&["exact", "-"], binary, &["layers[0].classes", "categorical"]);
    let mixed = r#"{"layers":[{"unit":"sts","weights":[[]],"bias":[0]},
        {"unit":"categorical","classes":2,"weights":[[1],[0]],"bias":[0,0]}],"loss":{"kind":"toy","target":[0.5,0.5]}}"#;
    err(&["exact", "-"], mixed, &["layers[0].unit", "only with binary layers"]);
}
