//! Categorical units against an independent brute force that shares no code with the engine: the
//! test reads its own MODEL.json (serde_json), computes softmax, the losses, their derivatives and
//! every estimator's estimate from the formulas (the shared reference `categorical.md`: REINFORCE's
//! `(f − β)(h − π)`, the straight-through family back-propagated with each unit's surrogate Jacobian
//! at the sampled state, local expectation's `J(π)·f_vec`), and enumerates every joint state.
//!
//! * `E[f]` and every entry of `∇θ E[f]` (against the score-function sum and central finite
//!   differences), and the per-unit baselines, on random networks: 1–2 categorical layers, K = 2…5,
//!   mixed with binary layers in both orders, the toy, readout, softmax and match losses;
//! * every joint-sample estimator's exact mean and variance per parameter;
//! * the Monte-Carlo estimators' means within 4 standard errors of what they estimate;
//! * MODEL.json refusals naming the field.
//!
//! Run: `cargo test -p stochgrad-core --test categorical`.

use serde_json::{json, Value};
use stochgrad_core::estimators::{find, HyperParams};
use stochgrad_core::exact::solve;
use stochgrad_core::moments::{moments, MethodChoice, Request};
use stochgrad_core::Model;

/// A small deterministic generator (xorshift64*), the test's own.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// A layer as the test sees it: `k` classes per unit (0: binary units).
#[derive(Clone, Debug)]
struct Lay {
    k: usize,
    units: usize,
    w: Vec<Vec<f64>>,
    c: Vec<f64>,
}

impl Lay {
    fn width(&self) -> usize {
        if self.k == 0 {
            self.units
        } else {
            self.units * self.k
        }
    }
    /// Choices per unit.
    fn radix(&self) -> usize {
        if self.k == 0 {
            2
        } else {
            self.k
        }
    }
}

#[derive(Clone, Debug)]
enum LossB {
    Toy(Vec<f64>),
    Readout(Vec<f64>, f64, f64),
    Softmax(Vec<Vec<f64>>, Vec<f64>, usize),
    Match(Vec<f64>),
}

#[derive(Clone, Debug)]
struct Net {
    x: Vec<f64>,
    layers: Vec<Lay>,
    loss: LossB,
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

impl Net {
    /// Read the test's own view of a MODEL.json.
    fn parse(text: &str) -> Net {
        let v: Value = serde_json::from_str(text).unwrap();
        let x = v.get("input").map_or(Vec::new(), nums);
        let layers = v["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let c = nums(&l["bias"]);
                let w = l["weights"].as_array().unwrap().iter().map(nums).collect();
                let k = if l.get("unit").and_then(Value::as_str) == Some("categorical") {
                    l["classes"].as_u64().unwrap() as usize
                } else {
                    0
                };
                let units = c.len().checked_div(k).unwrap_or(c.len());
                Lay { k, units, w, c }
            })
            .collect();
        let l = &v["loss"];
        let loss = match l["kind"].as_str().unwrap() {
            "toy" => LossB::Toy(nums(&l["target"])),
            "readout" => {
                LossB::Readout(nums(&l["weights"]), l["bias"].as_f64().unwrap(), l["target"].as_f64().unwrap())
            }
            "softmax" => LossB::Softmax(
                l["weights"].as_array().unwrap().iter().map(nums).collect(),
                nums(&l["bias"]),
                l["label"].as_u64().unwrap() as usize,
            ),
            "match" => LossB::Match(nums(&l["pattern"])),
            k => panic!("loss {k}"),
        };
        Net { x, layers, loss }
    }

    fn to_json(&self) -> String {
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|l| {
                if l.k == 0 {
                    json!({"weights": l.w, "bias": l.c})
                } else {
                    json!({"unit": "categorical", "classes": l.k, "weights": l.w, "bias": l.c})
                }
            })
            .collect();
        let loss = match &self.loss {
            LossB::Toy(t) => json!({"kind": "toy", "target": t}),
            LossB::Readout(v, b, y) => json!({"kind": "readout", "weights": v, "bias": b, "target": y}),
            LossB::Softmax(v, b, label) => json!({"kind": "softmax", "weights": v, "bias": b, "label": label}),
            LossB::Match(p) => json!({"kind": "match", "pattern": p.iter().map(|&x| x as u8).collect::<Vec<_>>()}),
        };
        json!({"input": self.x, "layers": layers, "loss": loss}).to_string()
    }

    /// A random network: `spec` lists (classes or 0 for binary, units) per layer.
    fn random(rng: &mut XorShift, inputs: usize, spec: &[(usize, usize)], loss: &str) -> Net {
        let x: Vec<f64> = (0..inputs).map(|_| rng.normal()).collect();
        let mut fan_in = inputs;
        let mut layers = Vec::new();
        for &(k, units) in spec {
            let width = if k == 0 { units } else { units * k };
            let w = (0..width).map(|_| (0..fan_in).map(|_| 1.2 * rng.normal()).collect()).collect();
            let c = (0..width).map(|_| rng.normal()).collect();
            layers.push(Lay { k, units, w, c });
            fan_in = width;
        }
        let loss = match loss {
            "toy" => LossB::Toy((0..fan_in).map(|_| rng.uniform()).collect()),
            "readout" => LossB::Readout((0..fan_in).map(|_| rng.normal()).collect(), 0.3, 0.7),
            "softmax" => LossB::Softmax(
                (0..3).map(|_| (0..fan_in).map(|_| 1.5 * rng.normal()).collect()).collect(),
                vec![0.1, -0.2, 0.0],
                1,
            ),
            _ => LossB::Match((0..fan_in).map(|i| (i % 2) as f64).collect()),
        };
        Net { x, layers, loss }
    }

    fn f(&self, h: &[f64]) -> f64 {
        match &self.loss {
            LossB::Toy(t) => h.iter().zip(t).map(|(a, b)| (a - b) * (a - b)).sum(),
            LossB::Readout(v, b, y) => {
                let r: f64 = v.iter().zip(h).map(|(a, b)| a * b).sum::<f64>() + b - y;
                r * r
            }
            LossB::Softmax(v, b, label) => {
                let z: Vec<f64> =
                    v.iter().zip(b).map(|(row, bb)| row.iter().zip(h).map(|(a, x)| a * x).sum::<f64>() + bb).collect();
                let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = m + z.iter().map(|t| (t - m).exp()).sum::<f64>().ln();
                lse - z[*label]
            }
            LossB::Match(p) => {
                if h.iter().zip(p).all(|(a, b)| a == b) {
                    0.0
                } else {
                    1.0
                }
            }
        }
    }

    /// `∂f/∂h` (the curved extension).
    fn df(&self, h: &[f64]) -> Vec<f64> {
        match &self.loss {
            LossB::Toy(t) => h.iter().zip(t).map(|(a, b)| 2.0 * (a - b)).collect(),
            LossB::Readout(v, b, y) => {
                let r: f64 = v.iter().zip(h).map(|(a, b)| a * b).sum::<f64>() + b - y;
                v.iter().map(|vi| 2.0 * r * vi).collect()
            }
            LossB::Softmax(v, b, label) => {
                let z: Vec<f64> =
                    v.iter().zip(b).map(|(row, bb)| row.iter().zip(h).map(|(a, x)| a * x).sum::<f64>() + bb).collect();
                let s = softmax(&z);
                (0..h.len())
                    .map(|j| (0..z.len()).map(|c| (s[c] - f64::from(u8::from(c == *label))) * v[c][j]).sum())
                    .collect()
            }
            LossB::Match(_) => panic!("no derivative"),
        }
    }

    fn params(&self) -> Vec<f64> {
        let mut p = Vec::new();
        for l in &self.layers {
            for row in &l.w {
                p.extend(row);
            }
            p.extend(&l.c);
        }
        p
    }

    fn with_params(&self, p: &[f64]) -> Net {
        let mut n = self.clone();
        let mut i = 0;
        for l in &mut n.layers {
            for row in &mut l.w {
                for x in row.iter_mut() {
                    *x = p[i];
                    i += 1;
                }
            }
            for x in &mut l.c {
                *x = p[i];
                i += 1;
            }
        }
        n
    }
}

fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|t| (t - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

fn sig(a: f64) -> f64 {
    1.0 / (1.0 + (-a).exp())
}

/// One joint state: probability and, per layer, the input, pre-activations, per-unit choice
/// probabilities, choices and outputs.
#[derive(Clone, Debug)]
struct State {
    p: f64,
    input: Vec<Vec<f64>>,
    a: Vec<Vec<f64>>,
    probs: Vec<Vec<Vec<f64>>>,
    choice: Vec<Vec<usize>>,
    h: Vec<Vec<f64>>,
}

/// Every joint state, by recursion over the layers and, within a layer, over its units' choices.
fn states(net: &Net) -> Vec<State> {
    let mut out = Vec::new();
    let empty = State { p: 1.0, input: vec![], a: vec![], probs: vec![], choice: vec![], h: vec![] };
    expand(net, 0, net.x.clone(), empty, &mut out);
    out
}

fn expand(net: &Net, k: usize, input: Vec<f64>, st: State, out: &mut Vec<State>) {
    if k == net.layers.len() {
        out.push(st);
        return;
    }
    let l = &net.layers[k];
    let a: Vec<f64> =
        l.w.iter().zip(&l.c).map(|(row, c)| row.iter().zip(&input).map(|(w, x)| w * x).sum::<f64>() + c).collect();
    let probs: Vec<Vec<f64>> = (0..l.units)
        .map(|u| if l.k == 0 { vec![1.0 - sig(a[u]), sig(a[u])] } else { softmax(&a[u * l.k..(u + 1) * l.k]) })
        .collect();
    let total = l.radix().pow(l.units as u32);
    for s in 0..total {
        let mut rest = s;
        let mut choice = vec![0; l.units];
        let mut h = vec![0.0; l.width()];
        let mut p = st.p;
        for u in 0..l.units {
            let c = rest % l.radix();
            rest /= l.radix();
            choice[u] = c;
            p *= probs[u][c];
            if l.k == 0 {
                h[u] = c as f64;
            } else {
                h[u * l.k + c] = 1.0;
            }
        }
        let mut next = st.clone();
        next.p = p;
        next.input.push(input.clone());
        next.a.push(a.clone());
        next.probs.push(probs.clone());
        next.choice.push(choice);
        next.h.push(h.clone());
        expand(net, k + 1, h, next, out);
    }
}

fn expected_f(net: &Net) -> f64 {
    states(net).iter().map(|s| s.p * net.f(s.h.last().unwrap())).sum()
}

/// Per layer, `∂ĝ/∂a` per output → the parameter vector (`W ← δ ⊗ input`, `c ← δ`).
fn to_params(st: &State, delta: &[Vec<f64>]) -> Vec<f64> {
    let mut out = Vec::new();
    for (k, d) in delta.iter().enumerate() {
        for &di in d {
            out.extend(st.input[k].iter().map(|x| di * x));
        }
        out.extend(d);
    }
    out
}

/// `h − π` per output of layer `k`.
fn score(net: &Net, st: &State, k: usize) -> Vec<f64> {
    let l = &net.layers[k];
    let mut s = vec![0.0; l.width()];
    for u in 0..l.units {
        if l.k == 0 {
            s[u] = st.choice[k][u] as f64 - st.probs[k][u][1];
        } else {
            for c in 0..l.k {
                s[u * l.k + c] = f64::from(u8::from(st.choice[k][u] == c)) - st.probs[k][u][c];
            }
        }
    }
    s
}

/// `J(p) g = p ⊙ (g − p·g)`.
fn jac(p: &[f64], g: &[f64]) -> Vec<f64> {
    let pg: f64 = p.iter().zip(g).map(|(a, b)| a * b).sum();
    p.iter().zip(g).map(|(pc, gc)| pc * (gc - pg)).collect()
}

/// The surrogate's `δ` for one categorical unit (`a` its logits, `c` its class, `g` the signal).
fn surrogate_cat(key: &str, a: &[f64], p: &[f64], c: usize, g: &[f64], tau: f64, gap: f64) -> Vec<f64> {
    let scaled = |z: &[f64]| softmax(&z.iter().map(|x| x / tau).collect::<Vec<_>>());
    match key {
        "st" => g.to_vec(),
        "st-sigmoid" => jac(p, g),
        "st-tempered" => jac(&scaled(a), g).iter().map(|x| x / tau).collect(),
        "reinmax" => {
            let s: Vec<f64> =
                scaled(a).iter().enumerate().map(|(j, x)| 0.5 * (x + f64::from(u8::from(j == c)))).collect();
            jac(&s, g).iter().zip(jac(p, g)).map(|(x, y)| 2.0 * x - 0.5 * y).collect()
        }
        "gapped-st" => {
            let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let d: Vec<f64> = (0..a.len()).map(|j| if j == c { m } else { a[j].min(m - gap) }).collect();
            jac(&scaled(&d), g).iter().map(|x| x / tau).collect()
        }
        _ => unreachable!(),
    }
}

/// The Bernoulli surrogate derivative of a binary unit.
fn surrogate_bin(key: &str, a: f64, h: f64, tau: f64, gap: f64) -> f64 {
    let d = |x: f64| sig(x) * (1.0 - sig(x));
    match key {
        "st" => 1.0,
        "st-sigmoid" => d(a),
        "st-tempered" => d(a / tau) / tau,
        "reinmax" => {
            let s = 0.5 * (sig(a / tau) + h);
            2.0 * s * (1.0 - s) - 0.5 * d(a)
        }
        "gapped-st" => d(if h == 1.0 { a.max(gap) } else { a.min(-gap) } / tau) / tau,
        _ => unreachable!(),
    }
}

/// One estimator's estimate at a joint state (parameter vector).
fn estimate(net: &Net, st: &State, key: &str, hp: &HyperParams, ef: f64, baselines: &[Vec<f64>]) -> Vec<f64> {
    let nl = net.layers.len();
    let hl = st.h.last().unwrap();
    let f = net.f(hl);
    let mut delta: Vec<Vec<f64>> = net.layers.iter().map(|l| vec![0.0; l.width()]).collect();
    match key {
        "reinforce" | "reinforce-ma" | "reinforce-optimal" => {
            for k in 0..nl {
                let l = &net.layers[k];
                let s = score(net, st, k);
                for (u, &optimal) in baselines[k].iter().enumerate().take(l.units) {
                    let b = match key {
                        "reinforce" => 0.0,
                        "reinforce-ma" => ef,
                        _ => optimal,
                    };
                    let per = if l.k == 0 { 1 } else { l.k };
                    for j in u * per..(u + 1) * per {
                        delta[k][j] = (f - b) * s[j];
                    }
                }
            }
        }
        "local-expectation" => {
            let l = &net.layers[0];
            for u in 0..l.units {
                let fvec: Vec<f64> = (0..l.radix())
                    .map(|c| {
                        let mut h = hl.clone();
                        if l.k == 0 {
                            h[u] = c as f64;
                        } else {
                            for j in 0..l.k {
                                h[u * l.k + j] = f64::from(u8::from(j == c));
                            }
                        }
                        net.f(&h)
                    })
                    .collect();
                let p = &st.probs[0][u];
                if l.k == 0 {
                    delta[0][u] = p[0] * p[1] * (fvec[1] - fvec[0]);
                } else {
                    delta[0][u * l.k..(u + 1) * l.k].copy_from_slice(&jac(p, &fvec));
                }
            }
        }
        _ => {
            let mut g = net.df(hl);
            for k in (0..nl).rev() {
                let l = &net.layers[k];
                for u in 0..l.units {
                    if l.k == 0 {
                        delta[k][u] = g[u] * surrogate_bin(key, st.a[k][u], st.h[k][u], hp.tau, hp.gap);
                    } else {
                        let r = u * l.k..(u + 1) * l.k;
                        let d = surrogate_cat(
                            key,
                            &st.a[k][r.clone()],
                            &st.probs[k][u],
                            st.choice[k][u],
                            &g[r.clone()],
                            hp.tau,
                            hp.gap,
                        );
                        delta[k][r].copy_from_slice(&d);
                    }
                }
                if k > 0 {
                    g = (0..net.layers[k - 1].width())
                        .map(|j| (0..l.width()).map(|i| l.w[i][j] * delta[k][i]).sum())
                        .collect();
                }
            }
        }
    }
    to_params(st, &delta)
}

/// Per layer, per unit: `E[‖h_i − π_i‖² f] / E[‖h_i − π_i‖²]` (binary: `(h_i − σ)²`).
fn baselines(net: &Net, all: &[State]) -> Vec<Vec<f64>> {
    net.layers
        .iter()
        .enumerate()
        .map(|(k, l)| {
            (0..l.units)
                .map(|u| {
                    let (mut num, mut den) = (0.0, 0.0);
                    for st in all {
                        let s = score(net, st, k);
                        let per = if l.k == 0 { 1 } else { l.k };
                        let sq: f64 = s[u * per..(u + 1) * per].iter().map(|x| x * x).sum();
                        num += st.p * sq * net.f(st.h.last().unwrap());
                        den += st.p * sq;
                    }
                    num / den
                })
                .collect()
        })
        .collect()
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!((a - b).abs() <= tol, "{what}: engine {a} vs brute force {b} (tolerance {tol:e})");
}

/// The networks: (spec, inputs), each with every loss.
const SPECS: &[(&[(usize, usize)], usize)] = &[
    (&[(3, 1)], 0),
    (&[(3, 2)], 2),
    (&[(2, 2)], 1),
    (&[(5, 1)], 3),
    (&[(4, 1), (3, 1)], 1),
    (&[(3, 2), (2, 1)], 2),
    (&[(0, 2), (3, 1)], 2),
    (&[(3, 1), (0, 2)], 1),
    (&[(2, 1), (0, 1), (3, 1)], 1),
];
const LOSSES: [&str; 4] = ["toy", "readout", "softmax", "match"];

fn nets() -> Vec<Net> {
    let mut out = Vec::new();
    for (i, (spec, inputs)) in SPECS.iter().enumerate() {
        for (j, loss) in LOSSES.iter().enumerate() {
            let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ (1000 * i as u64 + j as u64 + 1));
            out.push(Net::random(&mut rng, *inputs, spec, loss));
        }
    }
    out
}

#[test]
fn expected_loss_gradient_and_baselines_equal_the_brute_force() {
    for net in nets() {
        let text = net.to_json();
        let model = Model::from_json_str(&text).unwrap();
        let sol = solve(&model).unwrap();
        let all = states(&net);
        let total: f64 = all.iter().map(|s| s.p).sum();
        close(total, 1.0, 1e-12, "probabilities");
        let ef = expected_f(&net);
        let scale = 1.0 + ef.abs();
        close(sol.expected_loss, ef, 1e-12 * scale, &format!("E[f] of {text}"));
        // ∇ by the score-function sum over the joint states.
        let mut grad = vec![0.0; net.params().len()];
        for st in &all {
            let f = net.f(st.h.last().unwrap());
            let delta: Vec<Vec<f64>> =
                (0..net.layers.len()).map(|k| score(&net, st, k).iter().map(|s| f * s).collect()).collect();
            for (g, x) in grad.iter_mut().zip(to_params(st, &delta)) {
                *g += st.p * x;
            }
        }
        assert_eq!(sol.gradient.len(), grad.len());
        for (i, (a, b)) in sol.gradient.iter().zip(&grad).enumerate() {
            close(*a, *b, 1e-12 * scale, &format!("∇[{i}] of {text}"));
        }
        // And by central finite differences of the brute-force E[f].
        let p = net.params();
        let h = 1e-5;
        for i in 0..p.len() {
            let (mut up, mut down) = (p.clone(), p.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (expected_f(&net.with_params(&up)) - expected_f(&net.with_params(&down))) / (2.0 * h);
            close(sol.gradient[i], fd, 1e-7 * scale, &format!("∇[{i}] vs finite differences, {text}"));
        }
        let b = baselines(&net, &all);
        for (k, layer) in b.iter().enumerate() {
            for (u, x) in layer.iter().enumerate() {
                close(sol.optimal_baseline[k][u], *x, 1e-11 * scale, &format!("baseline {k}/{u} of {text}"));
            }
        }
    }
}

#[test]
fn joint_sample_estimators_exact_moments_equal_the_brute_force() {
    let keys = [
        "reinforce",
        "reinforce-ma",
        "reinforce-optimal",
        "local-expectation",
        "st",
        "st-sigmoid",
        "st-tempered",
        "reinmax",
        "gapped-st",
    ];
    for net in nets() {
        let text = net.to_json();
        let model = Model::from_json_str(&text).unwrap();
        let sol = solve(&model).unwrap();
        let all = states(&net);
        let ef = expected_f(&net);
        let b = baselines(&net, &all);
        for (n, key) in keys.iter().enumerate() {
            let hp = HyperParams { tau: [0.5, 1.0, 2.5][n % 3], gap: 0.7, ..HyperParams::default() };
            let est = find(key).unwrap();
            let one_layer_only = *key == "local-expectation" && net.layers.len() > 1;
            let no_gradient = matches!(net.loss, LossB::Match(_)) && est.meta().needs_loss_gradient;
            if one_layer_only || no_gradient {
                assert!(est.check(&model).is_err(), "{key} must be refused on {text}");
                continue;
            }
            let req = Request { hp, method: MethodChoice::Exact, ..Request::default() };
            let report = moments(&model, &sol, est, &req, &mut |_, _| true).unwrap();
            let dim = net.params().len();
            let (mut mean, mut sq) = (vec![0.0; dim], vec![0.0; dim]);
            for st in &all {
                let e = estimate(&net, st, key, &hp, ef, &b);
                for i in 0..dim {
                    mean[i] += st.p * e[i];
                    sq[i] += st.p * e[i] * e[i];
                }
            }
            let m2: f64 = sq.iter().sum();
            for i in 0..dim {
                let var = sq[i] - mean[i] * mean[i];
                let tol = 1e-11 * (1.0 + m2);
                close(report.mean[i], mean[i], tol, &format!("{key} mean[{i}] of {text}"));
                close(report.variance[i], var, tol, &format!("{key} variance[{i}] of {text}"));
            }
        }
    }
}

#[test]
fn monte_carlo_estimators_means_within_four_standard_errors() {
    // Leave-one-out is unbiased: its mean is the exact gradient. Gumbel-Rao's mean equals
    // ST-Gumbel's (it averages the same Jacobian over the noise given the sample). Gumbel-softmax
    // (concrete) against the test's own Monte Carlo of the relaxed objective's pathwise gradient.
    let net = Net::parse(
        r#"{"input":[0.5],"layers":[{"unit":"categorical","classes":3,"weights":[[0.4],[-0.3],[0.2]],"bias":[0.5,-0.2,0.1]}],
            "loss":{"kind":"toy","target":[0.2,0.5,0.3]}}"#,
    );
    let model = Model::from_json_str(&net.to_json()).unwrap();
    let sol = solve(&model).unwrap();
    let mc = |key: &str, tau: f64, samples: u64, k: u32| {
        let req = Request {
            hp: HyperParams { tau, k: Some(k), ..HyperParams::default() },
            method: MethodChoice::MonteCarlo,
            samples,
            seed: 11,
        };
        let r = moments(&model, &sol, find(key).unwrap(), &req, &mut |_, _| true).unwrap();
        (r.mean, r.stderr.unwrap())
    };
    // k: leave-one-out's samples, Gumbel-Rao's conditional draws.
    let (m, se) = mc("reinforce-loo", 1.0, 200_000, 3);
    for i in 0..m.len() {
        assert!(
            (m[i] - sol.gradient[i]).abs() <= 4.0 * se[i],
            "reinforce-loo[{i}]: {} ± {} vs {}",
            m[i],
            se[i],
            sol.gradient[i]
        );
    }
    // ST-Gumbel's and Gumbel-Rao's common expectation E[J(y)·∂f/∂h(h)/τ], y = softmax((a + G)/τ),
    // h = onehot(argmax(a + G)), by the test's own draws (unconditional Gumbels).
    let tau = 0.7;
    let (x, l) = (net.x[0], &net.layers[0]);
    let t = match &net.loss {
        LossB::Toy(t) => t.clone(),
        _ => unreachable!(),
    };
    let a: Vec<f64> = (0..3).map(|c| l.w[c][0] * x + l.c[c]).collect();
    let own = |relaxed: bool, seed: u64, n: usize| {
        let mut rng = XorShift(seed);
        let (mut sum, mut sq) = (vec![0.0; 6], vec![0.0; 6]);
        for _ in 0..n {
            let z: Vec<f64> = a.iter().map(|ai| ai - (-rng.uniform().ln()).ln()).collect();
            let y = softmax(&z.iter().map(|v| v / tau).collect::<Vec<_>>());
            let best = (0..3).fold(0, |b, c| if z[c] > z[b] { c } else { b });
            let at: Vec<f64> =
                if relaxed { y.clone() } else { (0..3).map(|c| f64::from(u8::from(c == best))).collect() };
            let g: Vec<f64> = at.iter().zip(&t).map(|(v, ti)| 2.0 * (v - ti)).collect();
            let d: Vec<f64> = jac(&y, &g).iter().map(|v| v / tau).collect();
            let e = [d[0] * x, d[1] * x, d[2] * x, d[0], d[1], d[2]];
            for i in 0..6 {
                sum[i] += e[i];
                sq[i] += e[i] * e[i];
            }
        }
        let mean: Vec<f64> = sum.iter().map(|v| v / n as f64).collect();
        let se: Vec<f64> = (0..6).map(|i| ((sq[i] / n as f64 - mean[i] * mean[i]) / n as f64).sqrt()).collect();
        (mean, se)
    };
    let (expect, se_own) = own(false, 77, 3_000_000);
    for (key, samples, k) in [("st-gumbel", 400_000, 2), ("gumbel-rao", 400_000, 16)] {
        let (m, se) = mc(key, tau, samples, k);
        for i in 0..6 {
            let s = (se[i] * se[i] + se_own[i] * se_own[i]).sqrt();
            assert!((m[i] - expect[i]).abs() <= 4.0 * s, "{key}[{i}]: {} vs the test's {} (± {s})", m[i], expect[i]);
        }
    }
    // The relaxed objective's pathwise gradient (Gumbel-softmax), f at y: J(y)·2(y − t)/τ.
    let (relaxed, se_relaxed) = own(true, 78, 400_000);
    let (c, sc) = mc("concrete", tau, 200_000, 2);
    for i in 0..6 {
        let s = (se_relaxed[i] * se_relaxed[i] + sc[i] * sc[i]).sqrt();
        assert!((c[i] - relaxed[i]).abs() <= 4.0 * s, "concrete[{i}]: {} vs the test's {} (± {s})", c[i], relaxed[i]);
    }
}

#[test]
fn bad_categorical_layers_are_refused_naming_the_field() {
    let layer = |extra: &str, rows: usize| {
        format!(
            r#"{{"layers":[{{"unit":"categorical"{extra},"weights":[{}],"bias":[{}]}}],"loss":{{"kind":"toy","target":[{}]}}}}"#,
            vec!["[]"; rows].join(","),
            vec!["0"; rows].join(","),
            vec!["0.5"; rows].join(",")
        )
    };
    let err = |text: String, needles: &[&str]| {
        let e = Model::from_json_str(&text).unwrap_err().to_string();
        for n in needles {
            assert!(e.contains(n), "{e:?} should contain {n:?}");
        }
    };
    err(layer("", 3), &["layers[0].classes", "missing"]);
    err(layer(r#","classes":3.0"#, 3), &["layers[0].classes", "integer"]);
    err(layer(r#","classes":1"#, 2), &["layers[0].classes"]);
    err(layer(r#","classes":17"#, 17), &["layers[0].classes"]);
    err(layer(r#","classes":3"#, 5), &["layers[0].bias", "multiple"]);
    err(layer(r#","classes":8"#, 56), &["layers[0].bias", "at most 48"]);
    let mixed = r#"{"layers":[{"unit":"categorical","classes":2,"weights":[[],[]],"bias":[0,0]},
        {"unit":"noisy-rectifier","weights":[[1,0]],"bias":[0]}],"loss":{"kind":"toy","target":[0.5]}}"#;
    err(mixed.to_string(), &["layers[1].unit", "only with binary layers"]);
    // A valid one reads back what it was given.
    let ok = Model::from_json_str(&layer(r#","classes":3"#, 6)).unwrap();
    assert_eq!((ok.layers[0].width(), ok.layers[0].units()), (6, 2));
}
