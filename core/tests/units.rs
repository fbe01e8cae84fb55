//! STS and noisy-rectifier units against independent computations written here: enumeration over
//! the binary draws with finite differences (STS), closed forms (Bengio et al. 2013, Propositions 1
//! and 2, and the one-unit STS bias of the estimators reference, A.7), composite Simpson quadrature
//! split at the rectifier's kink, and finite differences of those quadratures (noisy rectifier).
//! Nothing here calls the engine except to parse a model written here and to ask for its figures.

use stochgrad_core::error::{Error, Reason};
use stochgrad_core::estimators::{find, HyperParams};
use stochgrad_core::exact::solve;
use stochgrad_core::model::{Noise, UnitKind};
use stochgrad_core::moments::{moments, MethodChoice, Report, Request};
use stochgrad_core::stats::Method;
use stochgrad_core::units::{self, McOptions};
use stochgrad_core::Model;

// ------------------------------------------------------------------------------------------------
// Independent reference code
// ------------------------------------------------------------------------------------------------

fn sig(a: f64) -> f64 {
    1.0 / (1.0 + (-a).exp())
}

/// One layer: its unit fields as JSON (`""` for binary), the rows of `W`, and `c`.
type LayerSpec = (&'static str, Vec<Vec<f64>>, Vec<f64>);

/// A small network written out here: per layer `(unit, rows of W, c)`, a loss on the last layer.
#[derive(Clone)]
struct Net {
    input: Vec<f64>,
    layers: Vec<LayerSpec>,
    loss: Loss,
}

#[derive(Clone)]
enum Loss {
    Toy(Vec<f64>),
    Readout(Vec<f64>, f64, f64),
}

impl Loss {
    fn value(&self, h: &[f64]) -> f64 {
        match self {
            Loss::Toy(t) => h.iter().zip(t).map(|(x, t)| (x - t) * (x - t)).sum(),
            Loss::Readout(v, c, y) => {
                let r: f64 = v.iter().zip(h).map(|(v, x)| v * x).sum::<f64>() + c - y;
                r * r
            }
        }
    }
    fn json(&self) -> String {
        match self {
            Loss::Toy(t) => format!(r#"{{"kind": "toy", "target": {t:?}}}"#),
            Loss::Readout(v, c, y) => format!(r#"{{"kind": "readout", "weights": {v:?}, "bias": {c}, "target": {y}}}"#),
        }
    }
}

impl Net {
    fn json(&self) -> String {
        let layers: Vec<String> =
            self.layers.iter().map(|(unit, w, c)| format!(r#"{{"weights": {w:?}, "bias": {c:?}{unit}}}"#)).collect();
        format!(r#"{{"input": {:?}, "layers": [{}], "loss": {}}}"#, self.input, layers.join(", "), self.loss.json())
    }
    fn model(&self) -> Model {
        Model::from_json_str(&self.json()).unwrap_or_else(|e| panic!("{e}: {}", self.json()))
    }
    /// Flat parameters in the documented order `[W_1 row-major, c_1, W_2, c_2, …]`.
    fn params(&self) -> Vec<f64> {
        let mut v = Vec::new();
        for (_, w, c) in &self.layers {
            for r in w {
                v.extend(r);
            }
            v.extend(c);
        }
        v
    }
    fn with_params(&self, th: &[f64]) -> Net {
        let mut n = self.clone();
        let mut o = 0;
        for (_, w, c) in &mut n.layers {
            for r in w.iter_mut() {
                for x in r.iter_mut() {
                    *x = th[o];
                    o += 1;
                }
            }
            for x in c.iter_mut() {
                *x = th[o];
                o += 1;
            }
        }
        n
    }
    fn units(&self) -> usize {
        self.layers.iter().map(|l| l.2.len()).sum()
    }
    /// Pre-activations of layer `k` for input `x`.
    fn pre(&self, k: usize, x: &[f64]) -> Vec<f64> {
        let (_, w, c) = &self.layers[k];
        w.iter().zip(c).map(|(r, c)| c + r.iter().zip(x).map(|(a, b)| a * b).sum::<f64>()).collect()
    }
    /// Discrete units only: `(P(b), f(h(b)))` for the joint draw `b` (flat, in unit order).
    fn discrete(&self, b: &[bool]) -> (f64, f64) {
        let mut x = self.input.clone();
        let mut prob = 1.0;
        let mut u = 0;
        for k in 0..self.layers.len() {
            let a = self.pre(k, &x);
            let sts = self.layers[k].0.contains("sts");
            x = a
                .iter()
                .map(|&a| {
                    let on = b[u];
                    u += 1;
                    let p1 = if sts { sig(a).sqrt() } else { sig(a) };
                    prob *= if on { p1 } else { 1.0 - p1 };
                    match (on, sts) {
                        (false, _) => 0.0,
                        (true, true) => sig(a).sqrt(),
                        (true, false) => 1.0,
                    }
                })
                .collect();
        }
        (prob, self.loss.value(&x))
    }
    fn for_each_draw(&self, mut visit: impl FnMut(&[bool])) {
        let n = self.units();
        for idx in 0..(1u32 << n) {
            let b: Vec<bool> = (0..n).map(|u| idx >> u & 1 == 1).collect();
            visit(&b);
        }
    }
    /// `E[f]` by enumeration.
    fn expected(&self) -> f64 {
        let mut e = 0.0;
        self.for_each_draw(|b| {
            let (p, f) = self.discrete(b);
            e += p * f;
        });
        e
    }
}

/// Central finite differences of `g` at `th`.
fn fd(th: &[f64], g: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    (0..th.len())
        .map(|i| {
            let e = 1e-5 * (1.0 + th[i].abs());
            let mut p = th.to_vec();
            let mut m = th.to_vec();
            p[i] += e;
            m[i] -= e;
            (g(&p) - g(&m)) / (2.0 * e)
        })
        .collect()
}

/// STS's estimator by brute force: for each draw, the derivative of `f(h(b; θ))` with `b` held
/// fixed (finite differences), weighted by `P(b)`: `(mean, variance)` per parameter.
fn sts_moments(net: &Net) -> (Vec<f64>, Vec<f64>) {
    let th = net.params();
    let np = th.len();
    let (mut m1, mut m2) = (vec![0.0; np], vec![0.0; np]);
    net.for_each_draw(|b| {
        let (p, _) = net.discrete(b);
        let g = fd(&th, |t| net.with_params(t).discrete(b).1);
        for i in 0..np {
            m1[i] += p * g[i];
            m2[i] += p * g[i] * g[i];
        }
    });
    let var = (0..np).map(|i| m2[i] - m1[i] * m1[i]).collect();
    (m1, var)
}

fn assert_close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{what}[{i}]: {x} vs {y} (tol {tol:e})\n{a:?}\n{b:?}");
    }
}

fn exact_report(model: &Model, key: &str, hp: HyperParams) -> Report {
    let sol = solve_binary_or_own(model);
    let req = Request { hp, method: MethodChoice::Exact, ..Request::default() };
    moments(model, &sol, find(key).unwrap(), &req, &mut |_, _| true).unwrap()
}

fn mc_report(model: &Model, key: &str, hp: HyperParams, samples: u64, seed: u64) -> Report {
    let sol = solve_binary_or_own(model);
    let req = Request { hp, method: MethodChoice::MonteCarlo, samples, seed };
    moments(model, &sol, find(key).unwrap(), &req, &mut |_, _| true).unwrap()
}

/// What the CLI passes as `sol` (unused by the unit types, which use their own objective).
fn solve_binary_or_own(model: &Model) -> stochgrad_core::exact::ExactSolution {
    units::objective(model, &McOptions::default()).unwrap().solution
}

/// Each entry within 4 standard errors.
fn assert_within_se(what: &str, r: &Report, target: &[f64]) {
    let se = r.stderr.as_ref().unwrap();
    for i in 0..target.len() {
        let tol = 4.0 * se[i] + 1e-12;
        assert!((r.mean[i] - target[i]).abs() <= tol, "{what}[{i}]: {} vs {} (s.e. {})", r.mean[i], target[i], se[i]);
    }
}

// ------------------------------------------------------------------------------------------------
// STS
// ------------------------------------------------------------------------------------------------

fn one_unit(unit: &'static str, a: f64, t: f64) -> Net {
    Net { input: vec![], layers: vec![(unit, vec![vec![]], vec![a])], loss: Loss::Toy(vec![t]) }
}

#[test]
fn sts_one_unit_matches_the_closed_form_of_a7() {
    // E[f] = √p f(√p) + (1 − √p) f(0); true derivative (d√p/da)[f(√p) − f(0) + √p f′(√p)];
    // STS's mean (d√p/da)·√p f′(√p); its second moment √p (f′(√p) d√p/da)².
    for (a, t) in [(-1.0, 0.45), (0.0, 0.45), (2.0, 0.499), (-3.0, 0.1)] {
        let net = one_unit(r#", "unit": "sts""#, a, t);
        let s = sig(a).sqrt();
        let ds = s * sig(-a) / 2.0;
        let f = |h: f64| (h - t) * (h - t);
        let df = |h: f64| 2.0 * (h - t);
        let expected = s * f(s) + (1.0 - s) * f(0.0);
        let truth = ds * (f(s) - f(0.0) + s * df(s));
        let sts_mean = ds * s * df(s);
        let sts_var = s * (df(s) * ds).powi(2) - sts_mean * sts_mean;
        // The model declares STS units: `exact` is its own objective.
        let sol = solve(&net.model()).unwrap();
        assert!((sol.expected_loss - expected).abs() < 1e-14, "a={a}: E[f] {} vs {expected}", sol.expected_loss);
        assert!((sol.gradient[0] - truth).abs() < 1e-14, "a={a}: ∇ {} vs {truth}", sol.gradient[0]);
        // The sts estimator on the binary network with the same parameters.
        let binary = one_unit("", a, t).model();
        let r = exact_report(&binary, "sts", HyperParams::default());
        assert_eq!(r.method, Method::Exact);
        assert!((r.mean[0] - sts_mean).abs() < 1e-14, "a={a}: STS mean {} vs {sts_mean}", r.mean[0]);
        assert!((r.variance[0] - sts_var).abs() < 1e-14, "a={a}: STS var {} vs {sts_var}", r.variance[0]);
        let own = r.objective.as_ref().expect("compared on its own objective");
        assert!((own.solution.gradient[0] - truth).abs() < 1e-14);
        let bias = (sts_mean - truth).powi(2);
        assert!((r.figures.bias_sq_norm.value - bias).abs() < 1e-14, "a={a}: bias² against its own objective");
        assert!(r.notes[0].contains("own objective (STS units), not the binary network's"), "{:?}", r.notes);
        // The dropped term is (f(√p) − f(0))·d√p/da: STS is biased for its own objective.
        assert!((truth - sts_mean - ds * (f(s) - f(0.0))).abs() < 1e-15);
    }
}

fn random_sts_net(seed: u64, input: usize, widths: &[usize], kinds: &[&'static str], readout: bool) -> Net {
    let mut s = seed;
    let mut next = || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 3.0 - 1.5
    };
    let x: Vec<f64> = (0..input).map(|_| next()).collect();
    let mut fan = input;
    let mut layers = Vec::new();
    for (k, &w) in widths.iter().enumerate() {
        let rows = (0..w).map(|_| (0..fan).map(|_| next()).collect()).collect();
        let c = (0..w).map(|_| next()).collect();
        layers.push((kinds[k], rows, c));
        fan = w;
    }
    let loss = if readout {
        Loss::Readout((0..fan).map(|_| next()).collect(), next(), next())
    } else {
        Loss::Toy((0..fan).map(|_| next() / 3.0 + 0.5).collect())
    };
    Net { input: x, layers, loss }
}

const STS: &str = r#", "unit": "sts""#;

#[test]
fn sts_networks_match_enumeration_and_finite_differences() {
    let cases = [
        random_sts_net(1, 2, &[2, 2], &[STS, STS], false),
        random_sts_net(2, 3, &[3, 1], &[STS, STS], true),
        random_sts_net(3, 1, &[2, 2, 1], &[STS, STS, STS], true),
        // Mixed: binary units feeding STS units, and STS units feeding binary units.
        random_sts_net(4, 2, &[2, 2], &["", STS], false),
        random_sts_net(5, 2, &[2, 2], &[STS, ""], true),
    ];
    for (c, net) in cases.iter().enumerate() {
        let model = net.model();
        let th = net.params();
        let sol = solve(&model).unwrap();
        let e = net.expected();
        assert!((sol.expected_loss - e).abs() < 1e-13 * (1.0 + e.abs()), "case {c}: E[f] {} vs {e}", sol.expected_loss);
        let g = fd(&th, |t| net.with_params(t).expected());
        assert_close(&format!("case {c}: ∇E[f] vs finite differences"), &sol.gradient, &g, 1e-8);
    }
    // The sts estimator's exact moments on the all-STS networks (given as the binary network).
    for (c, net) in cases.iter().take(3).enumerate() {
        let mut binary = net.clone();
        for l in &mut binary.layers {
            l.0 = "";
        }
        let r = exact_report(&binary.model(), "sts", HyperParams::default());
        let (m, v) = sts_moments(net);
        assert_close(&format!("case {c}: STS mean"), &r.mean, &m, 1e-8);
        assert_close(&format!("case {c}: STS variance"), &r.variance, &v, 1e-7);
        let own = r.objective.as_ref().unwrap();
        assert_close(
            &format!("case {c}: own objective"),
            &own.solution.gradient,
            &solve(&net.model()).unwrap().gradient,
            1e-15,
        );
        // Monte Carlo agrees with the exact mean.
        let mc = mc_report(&binary.model(), "sts", HyperParams::default(), 40_000, 3);
        assert_within_se(&format!("case {c}: STS Monte Carlo"), &mc, &m);
    }
}

#[test]
fn binary_estimators_refuse_other_units_and_unit_types_apply() {
    let net = random_sts_net(1, 2, &[2, 2], &[STS, STS], false);
    let model = net.model();
    for key in ["reinforce", "st", "arm", "concrete", "rebar"] {
        match find(key).unwrap().check(&model) {
            Err(Error::NotApplicable(m @ Reason::NeedsBinaryUnits { .. })) => {
                assert!(
                    m.to_string().starts_with(&format!("{key} needs binary units, but layer 1 has sts units")),
                    "{m}"
                )
            }
            other => panic!("{key}: {other:?}"),
        }
    }
    assert!(find("sts").unwrap().check(&model).is_ok());
    assert!(find("noisy-rectifier").unwrap().check(&model).is_ok());
    // The match loss has no ∂f/∂h: refused for a non-binary last layer, and by the unit types.
    let bad =
        r#"{"layers": [{"weights": [[]], "bias": [0], "unit": "sts"}], "loss": {"kind": "match", "pattern": [1]}}"#;
    assert!(Model::from_json_str(bad).unwrap_err().to_string().contains("needs a differentiable loss"));
    let m = Model::from_json_str(
        r#"{"layers": [{"weights": [[]], "bias": [0]}], "loss": {"kind": "match", "pattern": [1]}}"#,
    )
    .unwrap();
    assert!(find("sts").unwrap().check(&m).is_err());
}

#[test]
fn unit_fields_parse_default_and_round_trip() {
    let text = r#"{"layers": [{"weights": [[]], "bias": [0.5], "unit": "noisy-rectifier"},
                              {"weights": [[1.5]], "bias": [-1], "unit": "noisy-rectifier", "noise": "gaussian", "noise_scale": 0.25},
                              {"weights": [[2]], "bias": [0], "unit": "sts"}],
                   "loss": {"kind": "toy", "target": [0.3]}}"#;
    let m = Model::from_json_str(text).unwrap();
    // The default noise is Gaussian with scale 1, as in the paper's experiments.
    assert_eq!(m.layers[0].unit, UnitKind::NoisyRectifier { noise: Noise::Gaussian, scale: 1.0 });
    assert_eq!(m.layers[1].unit, UnitKind::NoisyRectifier { noise: Noise::Gaussian, scale: 0.25 });
    assert_eq!(m.layers[2].unit, UnitKind::Sts);
    assert!(!m.is_binary());
    let again = Model::from_value(&m.to_value()).unwrap();
    assert_eq!(again, m);
    // Converting keeps a layer's declared noise.
    let c = units::convert(&m, UnitKind::NoisyRectifier { noise: Noise::Logistic, scale: 3.0 });
    assert_eq!(c.layers[1].unit, m.layers[1].unit);
    assert_eq!(c.layers[2].unit, UnitKind::NoisyRectifier { noise: Noise::Logistic, scale: 3.0 });
}

// ------------------------------------------------------------------------------------------------
// Noisy rectifier
// ------------------------------------------------------------------------------------------------

fn density(noise: Noise, s: f64, z: f64) -> f64 {
    let x = z / s;
    match noise {
        Noise::Logistic => sig(x) * sig(-x) / s,
        Noise::Gaussian => (-0.5 * x * x).exp() / (s * (2.0 * std::f64::consts::PI).sqrt()),
    }
}

/// Composite Simpson on `[lo, hi]` with `n` (even) panels.
fn simpson(g: &dyn Fn(f64) -> f64, lo: f64, hi: f64, n: usize) -> f64 {
    let h = (hi - lo) / n as f64;
    let mut s = g(lo) + g(hi);
    for i in 1..n {
        s += g(lo + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

/// `E[g(max(0, a + z))]` by Simpson on each side of the kink `z = −a`, over `|z| ≤ 50 s`.
fn rect_expect(noise: Noise, s: f64, a: f64, g: &dyn Fn(f64) -> f64) -> f64 {
    rect_expect_n(noise, s, a, g(0.0), g, 20_000)
}

/// `off · P(a + z ≤ 0) + E[on(a + z) 1[a + z > 0]]` (`on` evaluated on the closed side, so the
/// rule's end point at the kink sees the right-hand limit).
fn rect_expect_n(noise: Noise, s: f64, a: f64, off: f64, on: &dyn Fn(f64) -> f64, n: usize) -> f64 {
    let (lo, hi) = (-50.0 * s, 50.0 * s);
    let kink = (-a).clamp(lo, hi);
    let p_off = simpson(&|z| off * density(noise, s, z), lo, kink, n);
    let p_on = simpson(&|z| on((a + z).max(0.0)) * density(noise, s, z), kink, hi, n);
    p_off + p_on
}

/// `E[g(h) 1[h > 0]]`.
fn rect_on(noise: Noise, s: f64, a: f64, g: &dyn Fn(f64) -> f64) -> f64 {
    rect_expect_n(noise, s, a, 0.0, g, 20_000)
}

fn rect_net(unit: &'static str, input: Vec<f64>, w: Vec<Vec<f64>>, c: Vec<f64>, loss: Loss) -> Net {
    Net { input, layers: vec![(unit, w, c)], loss }
}

#[test]
fn noisy_rectifier_proposition_1() {
    // Logistic noise, scale 1: P(h > 0) = σ(a), E[h] = softplus(a). With the toy loss,
    // E[(h − t)²] = E[h²] − 2t E[h] + t², so E[h] = (E_0 − E_1 + 1)/2 and, since
    // ∂E_t/∂a = 2E[(h − t)1[h > 0]], P(h > 0) = (∂E_0/∂a − ∂E_1/∂a)/2.
    for a in [-6.0, -2.0, -0.5, 0.0, 0.7, 3.0, 9.0] {
        let unit = r#", "unit": "noisy-rectifier", "noise": "logistic""#;
        let e0 = solve(&one_unit(unit, a, 0.0).model()).unwrap();
        let e1 = solve(&one_unit(unit, a, 1.0).model()).unwrap();
        let mean_h = (e0.expected_loss - e1.expected_loss + 1.0) / 2.0;
        let softplus = (1.0 + f64::exp(a)).ln();
        assert!((mean_h - softplus).abs() < 1e-11 * (1.0 + softplus), "a={a}: E[h] {mean_h} vs softplus {softplus}");
        let p_on = (e0.gradient[0] - e1.gradient[0]) / 2.0;
        assert!((p_on - sig(a)).abs() < 1e-11, "a={a}: P(h > 0) {p_on} vs σ(a) {}", sig(a));
    }
}

#[test]
fn noisy_rectifier_quadrature_matches_independent_quadrature() {
    let cases: Vec<(Noise, f64, Net)> = vec![
        (Noise::Logistic, 1.0, rect_net("", vec![0.5, -1.0], vec![vec![0.8, 0.3]], vec![-0.2], Loss::Toy(vec![0.45]))),
        (
            Noise::Gaussian,
            0.7,
            rect_net("", vec![1.0, 2.0], vec![vec![-0.4, 0.1]], vec![0.3], Loss::Readout(vec![1.5], -0.2, 0.8)),
        ),
        (Noise::Logistic, 2.5, rect_net("", vec![], vec![vec![]; 1], vec![-1.5], Loss::Readout(vec![-2.0], 1.0, 0.5))),
        (
            Noise::Gaussian,
            1.0,
            rect_net(
                "",
                vec![0.3],
                vec![vec![1.0], vec![-2.0], vec![0.5]],
                vec![0.1, 0.4, -1.0],
                Loss::Toy(vec![0.2, 1.3, 0.7]),
            ),
        ),
    ];
    for (c, (noise, s, net)) in cases.iter().enumerate() {
        let hp = HyperParams { noise: *noise, noise_scale: *s, ..HyperParams::default() };
        let model = net.model();
        // Independent figures: per unit (the toy loss splits; readout has one unit).
        let th = net.params();
        let objective = |t: &[f64]| {
            let n = net.with_params(t);
            let a = n.pre(0, &n.input);
            match &n.loss {
                Loss::Toy(tg) => {
                    a.iter().zip(tg).map(|(&a, &t)| rect_expect(*noise, *s, a, &|h| (h - t) * (h - t))).sum()
                }
                l => rect_expect(*noise, *s, a[0], &|h| l.value(&[h])),
            }
        };
        let g_fd = fd(&th, objective);
        let a = net.pre(0, &net.input);
        let df = |i: usize, h: f64| match &net.loss {
            Loss::Toy(tg) => 2.0 * (h - tg[i]),
            Loss::Readout(v, c0, y) => 2.0 * (v[0] * h + c0 - y) * v[0],
        };
        // The pathwise estimate of ∂/∂c_i is df_i(h)·1[h > 0]: its mean and second moment.
        let m: Vec<f64> = (0..a.len()).map(|i| rect_on(*noise, *s, a[i], &|h| df(i, h))).collect();
        let m2: Vec<f64> = (0..a.len()).map(|i| rect_on(*noise, *s, a[i], &|h| df(i, h).powi(2))).collect();
        let fan = net.input.len();
        let mut mean = vec![0.0; th.len()];
        let mut var = vec![0.0; th.len()];
        for i in 0..a.len() {
            for j in 0..fan {
                mean[i * fan + j] = m[i] * net.input[j];
                var[i * fan + j] = (m2[i] - m[i] * m[i]) * net.input[j].powi(2);
            }
            mean[a.len() * fan + i] = m[i];
            var[a.len() * fan + i] = m2[i] - m[i] * m[i];
        }
        assert_close(&format!("case {c}: pathwise mean vs finite differences"), &mean, &g_fd, 1e-6);
        let r = exact_report(&model, "noisy-rectifier", hp);
        assert_eq!(r.method, Method::Quadrature, "case {c}");
        assert_close(&format!("case {c}: engine mean"), &r.mean, &mean, 1e-9);
        assert_close(&format!("case {c}: engine variance"), &r.variance, &var, 1e-9);
        let own = r.objective.as_ref().unwrap();
        assert_eq!(own.method, Method::Quadrature);
        assert!((own.solution.expected_loss - objective(&th)).abs() < 1e-9, "case {c}: E[f]");
        assert_close(&format!("case {c}: own gradient"), &own.solution.gradient, &mean, 1e-9);
        // Unbiased for its own objective: bias² ≈ 0.
        assert!(r.figures.bias_sq_norm.value < 1e-20, "case {c}: bias² {}", r.figures.bias_sq_norm.value);
        // Monte Carlo of the pathwise estimate, within 4 s.e. of the quadrature gradient.
        let mc = mc_report(&model, "noisy-rectifier", hp, 40_000, 11);
        assert_within_se(&format!("case {c}: Monte Carlo"), &mc, &mean);
    }
}

/// Two noisy rectifiers in a chain (1 → 1): `E[f(h_2)]` by nested Simpson quadrature.
fn chain2(noise: Noise, s: f64, th: &[f64], t: f64) -> f64 {
    // th = [W1 (x), c1, W2, c2]; input x = 1.
    let a1 = th[0] + th[1];
    let f2 = |h1: f64| {
        let a2 = th[2] * h1 + th[3];
        rect_expect_n(noise, s, a2, t * t, &|h| (h - t) * (h - t), 1000)
    };
    let off = f2(0.0) * simpson(&|z| density(noise, s, z), -40.0 * s, -a1, 4000);
    let on = simpson(&|z| f2(a1 + z) * density(noise, s, z), -a1, 40.0 * s, 400);
    off + on
}

#[test]
fn deep_noisy_rectifiers_are_monte_carlo_and_unbiased() {
    let noise = Noise::Logistic;
    let th = [0.4, 0.3, 0.9, -0.6];
    let t = 0.7;
    let text = format!(
        r#"{{"input": [1], "layers": [{{"weights": [[{}]], "bias": [{}], "unit": "noisy-rectifier", "noise": "logistic"}},
             {{"weights": [[{}]], "bias": [{}], "unit": "noisy-rectifier", "noise": "logistic"}}], "loss": {{"kind": "toy", "target": [{t}]}}}}"#,
        th[0], th[1], th[2], th[3]
    );
    let model = Model::from_json_str(&text).unwrap();
    let expected = chain2(noise, 1.0, &th, t);
    let grad = fd(&th, |p| chain2(noise, 1.0, p, t));
    // `exact` refuses (no exact form); the objective is Monte Carlo with standard errors.
    assert!(matches!(solve(&model), Err(Error::NotApplicable(_))));
    let obj = units::objective(&model, &McOptions { samples: 200_000, seed: 5 }).unwrap();
    assert_eq!(obj.method, Method::MonteCarlo);
    let lse = obj.loss_stderr.unwrap();
    assert!(
        (obj.solution.expected_loss - expected).abs() < 4.0 * lse,
        "E[f] {} vs {expected} ± {lse}",
        obj.solution.expected_loss
    );
    let se = obj.stderr.unwrap();
    for i in 0..4 {
        assert!(
            (obj.solution.gradient[i] - grad[i]).abs() < 4.0 * se[i] + 1e-6,
            "∇[{i}] {} vs {}",
            obj.solution.gradient[i],
            grad[i]
        );
    }
    // The estimator's own Monte Carlo mean (an independent stream) agrees with the quadrature.
    let r = mc_report(&model, "noisy-rectifier", HyperParams::default(), 100_000, 9);
    assert_within_se("deep noisy rectifier", &r, &grad);
    assert!(r.notes.iter().any(|n| n.contains("Monte-Carlo estimate")), "{:?}", r.notes);
}
