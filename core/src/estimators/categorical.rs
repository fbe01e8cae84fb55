//! The estimators' categorical forms: what each estimator computes on a network with categorical
//! layers (K-way units, [`crate::categorical`]), behind the same keys. [`super::registry`] routes a
//! model with a categorical layer here ([`Routed`]); the binary files stay the fast path.
//!
//! An estimator without a categorical form here answers "not applicable: binary units only".

use super::{Estimator, ExactJob, HyperParams, Meta, Plan, Sampler};
use crate::categorical::{shapes, softmax, Shape};
use crate::error::{Error, Reason, Result};
use crate::jobs::Visit;
use crate::limits::JOINT_LOG2;
use crate::math::{self, sigmoid};
use crate::model::{Model, UnitKind};
use crate::rng::{Draws, Stream};
use crate::solution::ExactSolution;
use crate::stats::{Method, Weighted};

/// The categorical form of an estimator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    Reinforce,
    ReinforceMa,
    ReinforceOptimal,
    ReinforceLoo,
    LocalExpectation,
    St,
    StSigmoid,
    StTempered,
    ReinMax,
    GappedSt,
    Concrete,
    StGumbel,
    GumbelRao,
}

const FORMS: [(&str, Form); 13] = [
    ("reinforce", Form::Reinforce),
    ("reinforce-ma", Form::ReinforceMa),
    ("reinforce-optimal", Form::ReinforceOptimal),
    ("reinforce-loo", Form::ReinforceLoo),
    ("local-expectation", Form::LocalExpectation),
    ("st", Form::St),
    ("st-sigmoid", Form::StSigmoid),
    ("st-tempered", Form::StTempered),
    ("reinmax", Form::ReinMax),
    ("gapped-st", Form::GappedSt),
    ("concrete", Form::Concrete),
    ("st-gumbel", Form::StGumbel),
    ("gumbel-rao", Form::GumbelRao),
];

/// The keys that have a categorical form.
pub const KEYS: [&str; 13] = [
    "reinforce",
    "reinforce-ma",
    "reinforce-optimal",
    "reinforce-loo",
    "local-expectation",
    "st",
    "st-sigmoid",
    "st-tempered",
    "reinmax",
    "gapped-st",
    "concrete",
    "st-gumbel",
    "gumbel-rao",
];

fn form(key: &str) -> Option<Form> {
    FORMS.iter().find(|(k, _)| *k == key).map(|&(_, f)| f)
}

impl Form {
    /// A function of the joint discrete sample: exact moments by enumerating the joint states.
    fn joint(self) -> bool {
        !matches!(self, Form::ReinforceLoo | Form::Concrete | Form::StGumbel | Form::GumbelRao)
    }
    fn idealised(self) -> Option<&'static str> {
        match self {
            Form::ReinforceMa => Some("idealised: exact figures use the baseline b = E[f] exactly; the sampled running baseline starts at 0"),
            Form::ReinforceOptimal => Some("idealised: exact figures use each unit's exact baseline E[‖h_i − π_i‖² f] / E[‖h_i − π_i‖²]; the sampled estimator tracks it by moving averages"),
            _ => None,
        }
    }
    fn monte_carlo_note(self) -> &'static str {
        match self {
            Form::ReinforceLoo => "Monte Carlo: on categorical units leave-one-out's k samples are drawn (no exact moments here)",
            Form::Concrete => "Monte Carlo: Gumbel-softmax's relaxed forward pass makes the estimate a function of every class's continuous Gumbel noise",
            Form::StGumbel => "Monte Carlo: straight-through Gumbel-softmax's backward pass depends on the Gumbel noise given the sample",
            _ => "Monte Carlo: Gumbel-Rao averages Jacobians at Gumbel noise drawn given the sample",
        }
    }
}

/// Whether `meta`'s estimator applies to `model`, which has a categorical layer.
pub fn check(meta: &Meta, model: &Model) -> Result<()> {
    match form(meta.key) {
        Some(Form::LocalExpectation) if model.layers.len() > 1 => {
            Err(Error::NotApplicable(Reason::SingleLayerEstimator {
                estimator: meta.key.into(),
                layers: model.layers.len(),
            }))
        }
        Some(_) => Ok(()),
        None => {
            let layer =
                model.layers.iter().position(|l| matches!(l.unit, UnitKind::Categorical { .. })).unwrap_or(0) + 1;
            Err(Error::NotApplicable(Reason::BinaryUnitsOnly { estimator: meta.key.into(), layer }))
        }
    }
}

fn applicable(meta: &Meta, model: &Model) -> Result<Form> {
    check(meta, model)?;
    if meta.needs_loss_gradient {
        if let Some(why) = model.loss.not_differentiable_reason() {
            return Err(Error::NotApplicable(Reason::NeedsLossGradient { estimator: meta.key.into(), why }));
        }
    }
    form(meta.key)
        .ok_or_else(|| Error::NotApplicable(Reason::MonteCarloOnly(format!("{}: no categorical form", meta.key))))
}

/// log2 of the number of joint states `Π_k K_k^{n_k}`.
fn joint_log2(model: &Model) -> f64 {
    shapes(model).iter().map(Shape::states_log2).sum()
}

/// Loss evaluations per estimate.
pub fn loss_evaluations(meta: &Meta, model: &Model, hp: &HyperParams) -> f64 {
    match form(meta.key) {
        Some(Form::ReinforceLoo) => f64::from(hp.k_or(super::default_k("reinforce-loo").unwrap_or(2))),
        // f at the sample and at every other class of every unit.
        Some(Form::LocalExpectation) => {
            1.0 + shapes(model).iter().map(|s| (s.groups * (s.radix - 1)) as f64).sum::<f64>()
        }
        _ => 1.0,
    }
}

/// How the moments are obtained.
pub fn plan(meta: &Meta, model: &Model, _hp: &HyperParams) -> Plan {
    let Some(f) = form(meta.key) else {
        return Plan { method: Method::MonteCarlo, note: None };
    };
    if !f.joint() {
        return Plan { method: Method::MonteCarlo, note: Some(f.monte_carlo_note().into()) };
    }
    let log2 = joint_log2(model);
    if log2 <= JOINT_LOG2 as f64 + 1e-9 {
        Plan { method: Method::Exact, note: f.idealised().map(str::to_string) }
    } else {
        Plan {
            method: Method::MonteCarlo,
            note: Some(format!(
                "Monte Carlo: the network's about 2^{log2:.1} joint states exceed the exact joint-enumeration limit of 2^{JOINT_LOG2}"
            )),
        }
    }
}

/// The exact job of the categorical form: the joint states enumerated.
pub fn exact_job<'a>(
    meta: &'static Meta,
    model: &'a Model,
    hp: &'a HyperParams,
    sol: &'a ExactSolution,
) -> Result<Box<dyn ExactJob + 'a>> {
    let f = applicable(meta, model)?;
    if !f.joint() {
        return Err(Error::NotApplicable(Reason::MonteCarloOnly(f.monte_carlo_note().into())));
    }
    let log2 = joint_log2(model);
    if log2 > JOINT_LOG2 as f64 + 1e-9 {
        return Err(Error::Limit(format!(
            "{}'s exact moments enumerate about 2^{log2:.1} joint states of this categorical network; the limit is 2^{JOINT_LOG2}",
            meta.key
        )));
    }
    let counts: Vec<u64> = shapes(model).iter().map(|s| s.states().unwrap_or(0)).collect();
    let total = counts.iter().product();
    Ok(Box::new(JointStates { rule: Rule::new(f, model, hp, sol), counts, total }))
}

/// A sampler of the categorical form.
pub fn sampler<'a>(
    meta: &'static Meta,
    model: &'a Model,
    hp: &'a HyperParams,
    sol: &'a ExactSolution,
) -> Result<Box<dyn Sampler + 'a>> {
    let f = applicable(meta, model)?;
    let rule = Rule::new(f, model, hp, sol);
    Ok(Box::new(Draw { pass: Pass::new(model), scratch: Scratch::new(model), rule, baseline: 0.0 }))
}

/// One forward pass of a network with categorical (and binary) layers: per layer the
/// pre-activations, the groups' probabilities (`Shape::probabilities`), the outputs (0/1, or the
/// relaxed values of Gumbel-softmax) and each group's choice; `y` holds a relaxed value per output
/// where the backward pass needs one (ST-Gumbel's `softmax((a + G)/τ)`).
struct Pass {
    shapes: Vec<Shape>,
    a: Vec<Vec<f64>>,
    probs: Vec<Vec<f64>>,
    h: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
    choice: Vec<Vec<usize>>,
}

impl Pass {
    fn new(model: &Model) -> Pass {
        let shapes = shapes(model);
        Pass {
            a: shapes.iter().map(|s| vec![0.0; s.width]).collect(),
            probs: shapes.iter().map(|s| vec![0.0; s.groups * s.radix]).collect(),
            h: shapes.iter().map(|s| vec![0.0; s.width]).collect(),
            y: shapes.iter().map(|s| vec![0.0; s.width]).collect(),
            choice: shapes.iter().map(|s| vec![0; s.groups]).collect(),
            shapes,
        }
    }
    fn input<'a>(&'a self, model: &'a Model, k: usize) -> &'a [f64] {
        if k == 0 {
            &model.input
        } else {
            &self.h[k - 1]
        }
    }
    /// Layer `k`'s pre-activations and probabilities from the layer below.
    fn compute(&mut self, model: &Model, k: usize) {
        let input: &[f64] = if k == 0 { &model.input } else { &self.h[k - 1] };
        model.layers[k].preactivation(input, &mut self.a[k]);
        self.shapes[k].probabilities(&self.a[k], &mut self.probs[k]);
    }
    /// Set layer `k` to its state `s`.
    fn set(&mut self, k: usize, s: u64) {
        self.shapes[k].choices(s, &mut self.choice[k]);
        self.shapes[k].output(s, &mut self.h[k]);
    }
    /// Set layer `k`'s outputs from its choices.
    fn set_from_choices(&mut self, k: usize) {
        let s = self.shapes[k].state(&self.choice[k]);
        self.shapes[k].output(s, &mut self.h[k]);
    }
    /// `P(state)`.
    fn probability(&self) -> f64 {
        let mut p = 1.0;
        for (k, s) in self.shapes.iter().enumerate() {
            for (g, &c) in self.choice[k].iter().enumerate() {
                p *= self.probs[k][g * s.radix + c];
            }
        }
        p
    }
    /// Sample every layer in order: one uniform per group, class by the inverse of its CDF (a
    /// binary unit fires when `u < σ(a)`, as in the binary engine).
    fn sample(&mut self, model: &Model, rng: &mut Stream) {
        for k in 0..self.shapes.len() {
            self.compute(model, k);
            let s = self.shapes[k];
            for g in 0..s.groups {
                let u = rng.uniform();
                let p = &self.probs[k][g * s.radix..(g + 1) * s.radix];
                self.choice[k][g] = if s.categorical { inverse_cdf(p, u) } else { usize::from(u < p[1]) };
            }
            self.set_from_choices(k);
        }
    }
    /// Sample by the Gumbel-max trick, keeping `y = softmax((a + G)/τ)` per group (binary units:
    /// `h = 1[a + L > 0]`, `y = σ((a + L)/τ)` with logistic `L`); `relaxed`: the next layer reads
    /// `y` instead of `h` (Gumbel-softmax's relaxed forward pass).
    fn sample_gumbel(&mut self, model: &Model, rng: &mut Stream, tau: f64, relaxed: bool, z: &mut [f64]) {
        for k in 0..self.shapes.len() {
            self.compute(model, k);
            let s = self.shapes[k];
            if s.categorical {
                let r = s.radix;
                for g in 0..s.groups {
                    let a = &self.a[k][g * r..(g + 1) * r];
                    let mut best = 0;
                    for c in 0..r {
                        z[c] = a[c] + gumbel(rng);
                        if z[c] > z[best] {
                            best = c;
                        }
                    }
                    for x in z.iter_mut().take(r) {
                        *x /= tau;
                    }
                    softmax(&z[..r], &mut self.y[k][g * r..(g + 1) * r]);
                    self.choice[k][g] = best;
                }
            } else {
                for g in 0..s.groups {
                    let v = self.a[k][g] + rng.logistic();
                    self.choice[k][g] = usize::from(v > 0.0);
                    self.y[k][g] = sigmoid(v / tau);
                }
            }
            self.set_from_choices(k);
            if relaxed {
                let (h, y) = (&mut self.h[k], &self.y[k]);
                h.copy_from_slice(y);
            }
        }
    }
}

/// The class whose cumulative probability first exceeds `u` (the last class with positive
/// probability if rounding leaves `u` above the total).
fn inverse_cdf(p: &[f64], u: f64) -> usize {
    let mut acc = 0.0;
    let mut last = 0;
    for (c, &pc) in p.iter().enumerate() {
        if pc > 0.0 {
            last = c;
        }
        acc += pc;
        if u < acc {
            return c;
        }
    }
    last
}

/// A standard Gumbel draw `−log(−log u)`.
fn gumbel(rng: &mut Stream) -> f64 {
    -math::ln(-math::ln(rng.uniform()))
}

/// `out = scale·J(p)·g = scale·p ⊙ (g − p·g)` (`J(p) = diag(p) − ppᵀ`, the softmax Jacobian).
fn jvp(p: &[f64], g: &[f64], scale: f64, out: &mut [f64]) {
    let pg: f64 = p.iter().zip(g).map(|(a, b)| a * b).sum();
    for ((o, &pc), &gc) in out.iter_mut().zip(p).zip(g) {
        *o += scale * pc * (gc - pg);
    }
}

/// Buffers of one estimate.
struct Scratch {
    /// Per layer, `∂ĝ/∂a` per output.
    ga: Vec<Vec<f64>>,
    /// The signal arriving at each layer's outputs in the backward pass.
    up: Vec<Vec<f64>>,
    df: Vec<f64>,
    z: Vec<f64>,
    t: Vec<f64>,
    u: Vec<f64>,
    /// Leave-one-out: each sample's `f` and chained score.
    fs: Vec<f64>,
    scores: Vec<Vec<f64>>,
}

impl Scratch {
    fn new(model: &Model) -> Scratch {
        let widths = model.widths();
        let max = widths.iter().copied().max().unwrap_or(0).max(model.input.len()).max(16);
        Scratch {
            ga: widths.iter().map(|&w| vec![0.0; w]).collect(),
            up: widths.iter().map(|&w| vec![0.0; w]).collect(),
            df: vec![0.0; model.output_width()],
            z: vec![0.0; max],
            t: vec![0.0; max],
            u: vec![0.0; max],
            fs: Vec::new(),
            scores: Vec::new(),
        }
    }
}

/// What one estimate is: the form, its hyper-parameters and the exact figures it uses.
struct Rule<'a> {
    form: Form,
    model: &'a Model,
    hp: &'a HyperParams,
    /// Per layer, per unit: REINFORCE's baseline (0, `E[f]`, or the optimal one).
    baselines: Vec<Vec<f64>>,
}

impl<'a> Rule<'a> {
    fn new(form: Form, model: &'a Model, hp: &'a HyperParams, sol: &ExactSolution) -> Rule<'a> {
        let baselines = model
            .layers
            .iter()
            .enumerate()
            .map(|(k, l)| {
                (0..l.units())
                    .map(|g| match form {
                        Form::ReinforceMa => sol.expected_loss,
                        Form::ReinforceOptimal => {
                            sol.optimal_baseline.get(k).and_then(|b| b.get(g)).copied().unwrap_or(0.0)
                        }
                        _ => 0.0,
                    })
                    .collect()
            })
            .collect();
        Rule { form, model, hp, baselines }
    }

    /// `∂ĝ/∂a` of the score-function estimators into `sc.ga`: per unit `(f − β_i)(h_i − π_i)`,
    /// `h_i − π_i` without a subtraction (`Σ_{c'≠c} π_c'` at the chosen class, `−π_c` elsewhere).
    fn score(&self, pass: &Pass, f: f64, baselines: Option<&[Vec<f64>]>, ga: &mut [Vec<f64>]) {
        for (k, s) in pass.shapes.iter().enumerate() {
            let r = s.radix;
            for g in 0..s.groups {
                let c = pass.choice[k][g];
                let p = &pass.probs[k][g * r..(g + 1) * r];
                let w = f - baselines.map_or(0.0, |b| b[k][g]);
                if s.categorical {
                    for j in 0..r {
                        let centred = if j == c { others(p, c) } else { -p[j] };
                        ga[k][g * r + j] = w * centred;
                    }
                } else {
                    ga[k][g] = w * if c == 1 { p[0] } else { -p[1] };
                }
            }
        }
    }

    /// Back-propagate `df` (`∂f/∂h` at the last layer) through every layer with each unit's
    /// surrogate Jacobian at the sampled state, into `sc.ga`.
    fn backprop(&self, pass: &Pass, sc: &mut Scratch, rng: Option<&mut Stream>) {
        let model = self.model;
        let (tau, gap) = (self.hp.tau, self.hp.gap);
        let mut rng = rng;
        let nl = pass.shapes.len();
        sc.up[nl - 1].copy_from_slice(&sc.df);
        for k in (0..nl).rev() {
            let s = pass.shapes[k];
            let r = s.radix;
            sc.ga[k].fill(0.0);
            for g in 0..s.groups {
                let c = pass.choice[k][g];
                if s.categorical {
                    let o = g * r..(g + 1) * r;
                    let (a, p, up) = (&pass.a[k][o.clone()], &pass.probs[k][o.clone()], &sc.up[k][o.clone()]);
                    let out = &mut sc.ga[k][o.clone()];
                    let t = &mut sc.t[..r];
                    match self.form {
                        Form::St => out.copy_from_slice(up),
                        Form::StSigmoid => jvp(p, up, 1.0, out),
                        Form::StTempered => {
                            scaled_softmax(a, tau, t);
                            jvp(t, up, 1.0 / tau, out);
                        }
                        Form::ReinMax => {
                            // 2·J(s)·g − ½·J(π)·g, s = ½(softmax(a/τ) + h).
                            scaled_softmax(a, tau, t);
                            for (j, x) in t.iter_mut().enumerate() {
                                *x = 0.5 * (*x + if j == c { 1.0 } else { 0.0 });
                            }
                            jvp(t, up, 2.0, out);
                            jvp(p, up, -0.5, out);
                        }
                        Form::GappedSt => {
                            // d_c = max_j a_j; d_i = min(a_i, max_j a_j − gap) for i ≠ c.
                            let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                            let z = &mut sc.z[..r];
                            for (j, x) in z.iter_mut().enumerate() {
                                *x = if j == c { m } else { a[j].min(m - gap) };
                            }
                            scaled_softmax(z, tau, t);
                            jvp(t, up, 1.0 / tau, out);
                        }
                        Form::Concrete | Form::StGumbel => jvp(&pass.y[k][o.clone()], up, 1.0 / tau, out),
                        Form::GumbelRao => {
                            let m = self.hp.k_or(super::default_k("gumbel-rao").unwrap_or(10));
                            let rng = rng.as_deref_mut().expect("gumbel-rao draws its conditional noise");
                            let z = &mut sc.z[..r];
                            for _ in 0..m {
                                conditional_gumbel(a, c, rng, z);
                                for x in z.iter_mut() {
                                    *x /= tau;
                                }
                                softmax(z, t);
                                jvp(t, up, 1.0 / (tau * f64::from(m)), out);
                            }
                        }
                        _ => unreachable!("not a straight-through form"),
                    }
                } else {
                    // A binary unit: the Bernoulli form (the K = 2 reduction with logits (a, 0)).
                    let (a, p) = (pass.a[k][g], &pass.probs[k][2 * g..2 * g + 2]);
                    let on = c == 1;
                    let factor = match self.form {
                        Form::St => 1.0,
                        Form::StSigmoid => p[0] * p[1],
                        Form::StTempered => sigmoid(a / tau) * sigmoid(-a / tau) / tau,
                        Form::ReinMax => {
                            // 2 s(1 − s) − ½ σ(a)(1 − σ(a)), s = ½(σ(a/τ) + h).
                            let (s1, s0) = if on {
                                (0.5 * (sigmoid(a / tau) + 1.0), 0.5 * sigmoid(-a / tau))
                            } else {
                                (0.5 * sigmoid(a / tau), 0.5 * (sigmoid(-a / tau) + 1.0))
                            };
                            2.0 * s1 * s0 - 0.5 * p[0] * p[1]
                        }
                        Form::GappedSt => {
                            let x = if on { a.max(gap) } else { a.min(-gap) } / tau;
                            sigmoid(x) * sigmoid(-x) / tau
                        }
                        Form::Concrete | Form::StGumbel => {
                            let y = pass.y[k][g];
                            y * (1.0 - y) / tau
                        }
                        Form::GumbelRao => {
                            let m = self.hp.k_or(super::default_k("gumbel-rao").unwrap_or(10));
                            let rng = rng.as_deref_mut().expect("gumbel-rao draws its conditional noise");
                            let mut acc = 0.0;
                            for _ in 0..m {
                                // a + L given its sign: L = logit(v), v uniform on (σ(−a), 1) or (0, σ(−a)).
                                let u = rng.uniform();
                                let v = if on { p[0] + u * p[1] } else { u * p[0] };
                                let x = (a + math::logit(v)) / tau;
                                acc += sigmoid(x) * sigmoid(-x);
                            }
                            acc / (f64::from(m) * tau)
                        }
                        _ => unreachable!("not a straight-through form"),
                    };
                    sc.ga[k][g] = factor * sc.up[k][g];
                }
            }
            if k > 0 {
                let layer = &model.layers[k];
                let (below, here) = sc.up.split_at_mut(k);
                let _ = here;
                let prev = &mut below[k - 1];
                prev.fill(0.0);
                for (i, &d) in sc.ga[k].iter().enumerate() {
                    if d != 0.0 {
                        for (x, w) in prev.iter_mut().zip(layer.row(i)) {
                            *x += w * d;
                        }
                    }
                }
            }
        }
    }

    /// Local expectation on one layer: per unit `J(π_i)·f_vec`, `f_vec[c] = f(unit i = c, the
    /// others as sampled)`.
    fn local_expectation(&self, pass: &mut Pass, sc: &mut Scratch) {
        let s = pass.shapes[0];
        let r = s.radix;
        for g in 0..s.groups {
            let c0 = pass.choice[0][g];
            for c in 0..r {
                pass.choice[0][g] = c;
                pass.set_from_choices(0);
                sc.t[c] = self.model.loss.value(&pass.h[0]);
            }
            pass.choice[0][g] = c0;
            pass.set_from_choices(0);
            let p = &pass.probs[0][g * r..(g + 1) * r];
            let out = &mut sc.ga[0][g * r..(g + 1) * r];
            out.fill(0.0);
            if s.categorical {
                jvp(p, &sc.t[..r], 1.0, out);
            } else {
                out[0] = p[0] * p[1] * (sc.t[1] - sc.t[0]);
            }
        }
    }

    /// The estimate at the pass's (sampled or enumerated) joint state, for the joint forms.
    fn joint_estimate(
        &self,
        pass: &mut Pass,
        sc: &mut Scratch,
        baselines: Option<&[Vec<f64>]>,
        out: &mut [f64],
    ) -> f64 {
        let model = self.model;
        let f = model.loss.value(&pass.h[pass.shapes.len() - 1]);
        match self.form {
            Form::Reinforce => self.score(pass, f, None, &mut sc.ga),
            Form::ReinforceMa | Form::ReinforceOptimal => {
                self.score(pass, f, baselines.or(Some(&self.baselines)), &mut sc.ga)
            }
            Form::LocalExpectation => self.local_expectation(pass, sc),
            _ => {
                model.loss.gradient(&pass.h[pass.shapes.len() - 1], &mut sc.df);
                self.backprop(pass, sc, None);
            }
        }
        chain(model, pass, &sc.ga, out);
        f
    }
}

/// `Σ_{c' ≠ c} p_c'` (= 1 − p_c, without the subtraction).
fn others(p: &[f64], c: usize) -> f64 {
    p.iter().enumerate().filter(|&(j, _)| j != c).map(|(_, &x)| x).sum()
}

/// `softmax(a/τ)`.
fn scaled_softmax(a: &[f64], tau: f64, out: &mut [f64]) {
    let mut z = [0.0; crate::json::MAX_CATEGORIES];
    for (x, &v) in z.iter_mut().zip(a) {
        *x = v / tau;
    }
    softmax(&z[..a.len()], out);
}

/// `z = a + G` given `argmax z = c` (top-down: `z_c = logsumexp(a) − log E_c`, the others
/// Gumbels truncated below `z_c`: `z_i = −log(e^{−z_c} + e^{−a_i} E_i)`), with `E ~ Exp(1)`.
fn conditional_gumbel(a: &[f64], c: usize, rng: &mut Stream, z: &mut [f64]) {
    let zc = math::log_sum_exp(a) - math::ln(-math::ln(rng.uniform()));
    for (i, x) in z.iter_mut().enumerate() {
        if i == c {
            *x = zc;
        } else {
            let e = -math::ln(rng.uniform());
            // −log(e^{−z_c} + e^{−a_i}·E), stably.
            let (u, v) = (-zc, -a[i] + math::ln(e));
            let m = u.max(v);
            *x = -(m + math::ln(math::exp(u - m) + math::exp(v - m)));
        }
    }
}

/// `out[θ]`: `W_k[i][j] ← ga_k[i]·input_k[j]`, `c_k[i] ← ga_k[i]`.
fn chain(model: &Model, pass: &Pass, ga: &[Vec<f64>], out: &mut [f64]) {
    let mut off = 0;
    for (k, layer) in model.layers.iter().enumerate() {
        let input = pass.input(model, k);
        let fan_in = layer.fan_in;
        for (i, &g) in ga[k].iter().enumerate() {
            for (o, &x) in out[off + i * fan_in..off + (i + 1) * fan_in].iter_mut().zip(input) {
                *o = g * x;
            }
        }
        off += layer.weights.len();
        out[off..off + ga[k].len()].copy_from_slice(&ga[k]);
        off += ga[k].len();
    }
}

/// Exact moments of a joint form: every joint state (the last layer's state fastest), its
/// probability and its estimate.
struct JointStates<'a> {
    rule: Rule<'a>,
    counts: Vec<u64>,
    total: u64,
}

impl JointStates<'_> {
    fn walk(&self, range: std::ops::Range<u64>, visit: Visit) {
        let model = self.rule.model;
        let nl = self.counts.len();
        let mut pass = Pass::new(model);
        let mut sc = Scratch::new(model);
        let mut out = vec![0.0; model.num_params()];
        let mut states = vec![0u64; nl];
        let mut prev: Option<Vec<u64>> = None;
        for idx in range {
            let mut rest = idx;
            for k in (0..nl).rev() {
                states[k] = rest % self.counts[k];
                rest /= self.counts[k];
            }
            let from = prev.as_ref().map_or(0, |p| (0..nl).find(|&k| p[k] != states[k]).unwrap_or(nl));
            for (k, &state) in states.iter().enumerate().skip(from) {
                pass.compute(model, k);
                pass.set(k, state);
            }
            prev = Some(states.clone());
            let w = pass.probability();
            if w == 0.0 {
                continue;
            }
            self.rule.joint_estimate(&mut pass, &mut sc, None, &mut out);
            visit(w, &out, None);
        }
    }
}

impl ExactJob for JointStates<'_> {
    fn method(&self) -> Method {
        Method::Exact
    }
    fn total(&self) -> u64 {
        self.total
    }
    fn dim(&self) -> usize {
        self.rule.model.num_params()
    }
    fn run(&self, range: std::ops::Range<u64>) -> Weighted {
        let mut acc = Weighted::new(self.dim());
        self.walk(range, &mut |w, x, _| acc.add(w, x));
        acc
    }
    fn visits(&self) -> bool {
        true
    }
    fn visit(&self, range: std::ops::Range<u64>, visit: Visit) {
        self.walk(range, visit)
    }
}

/// The Monte-Carlo sampler of every categorical form.
struct Draw<'a> {
    pass: Pass,
    scratch: Scratch,
    rule: Rule<'a>,
    /// `reinforce-ma`'s running baseline (from 0, updated after use).
    baseline: f64,
}

impl Sampler for Draw<'_> {
    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]) {
        let model = self.rule.model;
        let (pass, sc) = (&mut self.pass, &mut self.scratch);
        let last = pass.shapes.len() - 1;
        match self.rule.form {
            Form::ReinforceMa => {
                pass.sample(model, rng);
                let b: Vec<Vec<f64>> = self.rule.baselines.iter().map(|l| vec![self.baseline; l.len()]).collect();
                let f = self.rule.joint_estimate(pass, sc, Some(&b), out);
                self.baseline = self.rule.hp.decay * self.baseline + (1.0 - self.rule.hp.decay) * f;
            }
            Form::ReinforceLoo => {
                let k = self.rule.hp.k_or(super::default_k("reinforce-loo").unwrap_or(2)) as usize;
                sc.fs.clear();
                sc.scores.resize_with(k, || vec![0.0; out.len()]);
                for i in 0..k {
                    pass.sample(model, rng);
                    let f = model.loss.value(&pass.h[last]);
                    self.rule.score(pass, 1.0, None, &mut sc.ga);
                    chain(model, pass, &sc.ga, &mut sc.scores[i]);
                    sc.fs.push(f);
                }
                // (1/(k − 1)) Σ_i (f_i − f̄)·∇ log p(h_i).
                let mean = sc.fs.iter().sum::<f64>() / k as f64;
                out.fill(0.0);
                for i in 0..k {
                    let w = (sc.fs[i] - mean) / (k - 1) as f64;
                    for (o, s) in out.iter_mut().zip(&sc.scores[i]) {
                        *o += w * s;
                    }
                }
            }
            Form::Concrete | Form::StGumbel => {
                let relaxed = self.rule.form == Form::Concrete;
                pass.sample_gumbel(model, rng, self.rule.hp.tau, relaxed, &mut sc.u);
                model.loss.gradient(&pass.h[last], &mut sc.df);
                self.rule.backprop(pass, sc, None);
                chain(model, pass, &sc.ga, out);
            }
            Form::GumbelRao => {
                pass.sample(model, rng);
                model.loss.gradient(&pass.h[last], &mut sc.df);
                self.rule.backprop(pass, sc, Some(rng));
                chain(model, pass, &sc.ga, out);
            }
            _ => {
                pass.sample(model, rng);
                self.rule.joint_estimate(pass, sc, None, out);
            }
        }
    }
    fn state(&self) -> Vec<f64> {
        if self.rule.form == Form::ReinforceMa {
            vec![self.baseline]
        } else {
            Vec::new()
        }
    }
    fn set_state(&mut self, state: &[f64]) {
        if let (Form::ReinforceMa, [b]) = (self.rule.form, state) {
            self.baseline = *b;
        }
    }
    fn last_output(&self) -> Option<Vec<f64>> {
        match self.rule.form {
            Form::ReinforceLoo => None,
            _ => Some(self.pass.h[self.pass.shapes.len() - 1].clone()),
        }
    }
}

/// A registry entry: the estimator itself on networks without categorical layers, its categorical
/// form (this file) on networks with one.
pub struct Routed(pub &'static dyn Estimator);

impl Estimator for Routed {
    fn meta(&self) -> &'static Meta {
        self.0.meta()
    }
    fn check(&self, model: &Model) -> Result<()> {
        self.0.check(model)
    }
    fn loss_evaluations(&self, model: &Model, hp: &HyperParams) -> f64 {
        if model.has_categorical() {
            loss_evaluations(self.0.meta(), model, hp)
        } else {
            self.0.loss_evaluations(model, hp)
        }
    }
    fn plan(&self, model: &Model, hp: &HyperParams) -> Plan {
        if model.has_categorical() {
            plan(self.0.meta(), model, hp)
        } else {
            self.0.plan(model, hp)
        }
    }
    fn exact_job<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        sol: &'a ExactSolution,
    ) -> Result<Box<dyn ExactJob + 'a>> {
        if model.has_categorical() {
            exact_job(self.0.meta(), model, hp, sol)
        } else {
            self.0.exact_job(model, hp, sol)
        }
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        sol: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        if model.has_categorical() {
            sampler(self.0.meta(), model, hp, sol)
        } else {
            self.0.sampler(model, hp, sol)
        }
    }
    fn own_objective(&self, model: &Model, hp: &HyperParams) -> Option<Result<crate::units::Objective>> {
        if model.has_categorical() {
            None
        } else {
            self.0.own_objective(model, hp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::find;
    use super::*;
    use crate::jobs::run_exact;

    /// The shared categorical reference's worked example: one unit, K = 3, a = (0.5, −0.2, 0.1),
    /// f = ‖h − t‖², t = (0.2, 0.5, 0.3).
    fn worked() -> Model {
        Model::from_json_str(
            r#"{"layers":[{"unit":"categorical","classes":3,"weights":[[],[],[]],"bias":[0.5,-0.2,0.1]}],
               "loss":{"kind":"toy","target":[0.2,0.5,0.3]}}"#,
        )
        .unwrap()
    }

    fn exact(key: &str, model: &Model, hp: &HyperParams) -> (Vec<f64>, Vec<f64>) {
        let sol = crate::exact::solve(model).unwrap();
        let est = find(key).unwrap();
        let job = est.exact_job(model, hp, &sol).unwrap();
        run_exact(job.as_ref(), &mut |_, _| true).unwrap()
    }

    #[test]
    fn the_worked_example_to_the_reference_digits() {
        let m = worked();
        let hp = |tau: f64| HyperParams { tau, ..HyperParams::default() };
        let grad = [0.0920066324, -0.0918116415, -0.0001949909];
        // (key, τ, mean, tr Var if printed)
        let rows: [(&str, f64, [f64; 3], Option<f64>); 9] = [
            ("reinforce", 1.0, grad, Some(0.3469425471)),
            ("reinforce-ma", 1.0, grad, Some(0.0243526292)),
            ("st", 1.0, [0.5229752468, -0.5416640567, 0.0186888099], Some(2.5552690134)),
            ("st-sigmoid", 1.0, [0.1845855508, -0.1523187579, -0.0322667929], Some(0.2903965229)),
            ("st-tempered", 2.0, [0.0913299877, -0.0842960398, -0.0070339480], None),
            ("reinmax", 1.0, grad, Some(0.6021867804)),
            ("reinmax", 2.0, [0.1573764663, -0.1562836047, -0.0010928616], Some(0.6362556910)),
            ("gapped-st", 1.0, [0.1737072552, -0.1698429923, -0.0038642629], None),
            ("local-expectation", 1.0, grad, Some(0.0)),
        ];
        for (key, tau, mean, trvar) in rows {
            let (mu, var) = exact(key, &m, &hp(tau));
            for c in 0..3 {
                assert!((mu[c] - mean[c]).abs() < 6e-11, "{key} τ = {tau}: mean[{c}] {} vs {}", mu[c], mean[c]);
            }
            if let Some(tv) = trvar {
                let t: f64 = var.iter().sum();
                assert!((t - tv).abs() < 6e-11, "{key} τ = {tau}: tr Var {t} vs {tv}");
            }
        }
    }

    #[test]
    fn gumbel_straight_through_and_gumbel_rao_match_the_reference_monte_carlo() {
        // The reference: ST-GS and Gumbel-Rao at τ = 1 have mean (0.11533, −0.10656, −0.00877)
        // (2·10⁷ draws, ±1e−4). Here 2·10⁵ draws: within 4 standard errors plus the reference's 1e−4.
        let m = worked();
        let hp = HyperParams { tau: 1.0, k: Some(4), ..HyperParams::default() };
        let sol = crate::exact::solve(&m).unwrap();
        let reference = [0.11533, -0.10656, -0.00877];
        for key in ["st-gumbel", "gumbel-rao"] {
            let mut s = find(key).unwrap().sampler(&m, &hp, &sol).unwrap();
            let mut rng = Stream::new(7, key, 0);
            let n = 200_000;
            let (mut sum, mut sq) = ([0.0; 3], [0.0; 3]);
            let mut out = [0.0; 3];
            for _ in 0..n {
                s.draw(&mut rng, &mut out);
                for c in 0..3 {
                    sum[c] += out[c];
                    sq[c] += out[c] * out[c];
                }
            }
            for c in 0..3 {
                let mean = sum[c] / n as f64;
                let se = ((sq[c] / n as f64 - mean * mean) / n as f64).sqrt();
                assert!((mean - reference[c]).abs() < 4.0 * se + 1e-4, "{key}[{c}]: {mean} ± {se} vs {}", reference[c]);
            }
        }
    }

    #[test]
    fn binary_only_estimators_say_so_and_deep_local_expectation_is_refused() {
        let m = worked();
        for key in ["arm", "disarm", "ar", "muprop", "rebar", "relax", "darn", "learned-predictor", "sts"] {
            let e = find(key).unwrap().check(&m).unwrap_err().to_string();
            assert!(e.contains("binary units only") && e.contains(key), "{e}");
        }
        let deep = crate::settings::Settings::benchmark_spec("c3/1,1").unwrap().to_model();
        let e = find("local-expectation").unwrap().check(&deep).unwrap_err().to_string();
        assert!(e.contains("single stochastic layer"), "{e}");
    }

    #[test]
    fn k2_with_silent_second_classes_gives_the_binary_estimators_moments() {
        use crate::categorical::{as_k2, k2_index};
        use crate::settings::{LossKind, Settings};
        let keys = [
            "reinforce",
            "reinforce-ma",
            "reinforce-optimal",
            "st",
            "st-sigmoid",
            "st-tempered",
            "reinmax",
            "gapped-st",
        ];
        let hp = HyperParams { tau: 0.7, gap: 0.8, ..HyperParams::default() };
        for (widths, loss, inputs) in
            [(vec![3], LossKind::Readout, 2), (vec![2, 2], LossKind::Softmax, 1), (vec![2, 3], LossKind::Readout, 0)]
        {
            let s = Settings {
                widths,
                inputs,
                loss,
                weight_scale: 1.5,
                bias_spread: 1.0,
                logit: 0.3,
                ..Settings::default()
            };
            let b = s.to_model();
            let c = as_k2(&b);
            let mut keys = keys.to_vec();
            if b.layers.len() == 1 {
                keys.push("local-expectation");
            }
            for key in keys {
                let (mb, vb) = exact(key, &b, &hp);
                let (mc, vc) = exact(key, &c, &hp);
                for i in 0..b.num_params() {
                    let j = k2_index(&b, i);
                    let tol = 1e-12 * (1.0 + mb[i].abs() + vb[i].abs());
                    assert!((mb[i] - mc[j]).abs() < tol, "{key} {:?}: mean {i} {} vs {}", b.widths(), mb[i], mc[j]);
                    assert!((vb[i] - vc[j]).abs() < tol, "{key} {:?}: variance {i} {} vs {}", b.widths(), vb[i], vc[j]);
                }
            }
        }
    }
}
