//! The seed paper's conditional-computation experiment (Bengio, Léonard & Courville 2013, §5), in
//! miniature: a gater of `k ≤ 12` stochastic units decides which blocks of an expert layer are
//! active, on a small synthetic classification task, trained with different gate units and
//! gradient estimators, and compared on held-out loss and error.
//!
//! **Task** (generated deterministically from the seed): `d` inputs, `C` classes, `M` clusters.
//! Cluster `m` has a centre `μ_m ~ N(0, 3²I)` and its own linear rule `U_m` (`C × d`, standard
//! normal); an example picks a cluster uniformly, `x = μ_m + N(0, I)`, `y = argmax_c (U_m(x − μ_m))_c`.
//! One linear classifier cannot follow `M` different rules; experts selected by cluster can.
//!
//! **Network** (the paper's Fig. 1, shrunk): gater `a = W_g x + c_g` (`k` units) → gates `h`;
//! expert layer `H = W_e x + c_e` (`k·g` linear units, block `i` = units `i·g … i·g + g − 1`);
//! output `z = V (H ⊙ h_block) + b`, softmax cross-entropy. A sparsity penalty
//! `λ Σ_i KL(s ‖ π̄_i)` on each gate's firing probability `π_i(x)` averaged over the minibatch
//! (`σ(a)` binary, `√σ(a)` STS, `P(a + z > 0)` noisy rectifier, `σ(a)` sigmoid) keeps about a
//! fraction `s` of the gates on, as the paper's KL penalty does (the paper adapts λ; here it is
//! fixed, and the achieved rate is reported).
//!
//! **Gates** (the gater's gradient; the experts and the output layer always get back-propagation
//! given the sampled gates, and the penalty its exact gradient):
//! * `st` — binary `h ~ Bern(σ(a))`, straight-through `∂L/∂h`;
//! * `st-sigmoid` — binary, `∂L/∂h · σ′(a)`;
//! * `reinforce-optimal` — binary, `(h − σ(a))(L − L̄_i)` with Bengio's per-gate baseline tracked by
//!   moving averages (decay 0.9) of minibatch means of `(h − σ)²L` and `(h − σ)²` — no
//!   back-propagated signal into the gater at all, as in the paper's SBN run;
//! * `sts` — `h = b√p`, `b ~ Bern(√p)`, back-propagation through `√p`;
//! * `noisy-rectifier` — `h = max(0, a + z)`, logistic noise (scale 1), pathwise gradient;
//! * `sigmoid` — deterministic `h = σ(a)` (the paper's "baseline sigmoid");
//! * `dense` — every gate always on (no gater): what the experts alone achieve.
//!
//! **Optimisation**: Adam (lr 0.03 by default) on minibatches, one gate draw per example; every
//! gate type starts from the same initial parameters and sees the same minibatches.
//!
//! **Evaluation** on a held-out set: the expected loss and error over the gates — exact, by
//! enumerating all `2^k` gate states per example, for binary and STS gates; Monte Carlo with a
//! standard error for noisy rectifiers; plain for the deterministic rows — plus the error of the
//! deterministic test-time network (binary: `h = 1[σ(a) > ½]`; STS: `h = √p·1[√p > ½]`; noisy
//! rectifier: `h = max(0, a)`, the paper's test-time rule without its tuned threshold).
//!
//! The API is a stepper ([`Trainer::train`] a few steps at a time) so the page's worker can yield
//! between chunks; [`run`] does everything at once for the CLI and the tests.

use crate::error::{Error, Result};
use crate::math;
use crate::rng::{Draws, Rng, Stream};
use crate::stats::Method;
use serde::{Deserialize, Serialize};

/// Most gates: `2^12` gate states per held-out example are enumerated.
pub const MAX_GATES: usize = 12;
/// Draws per held-out example for the noisy rectifier's Monte-Carlo evaluation.
pub const EVAL_DRAWS: usize = 64;

/// The gate types, in table order.
pub const GATES: [&str; 7] = ["st", "st-sigmoid", "reinforce-optimal", "sts", "noisy-rectifier", "sigmoid", "dense"];

/// Settings of one experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GatingConfig {
    /// Gater units `k` (1..=12).
    pub gates: usize,
    /// Expert units per gate.
    pub group: usize,
    /// Input dimension `d`.
    pub inputs: usize,
    pub classes: usize,
    pub clusters: usize,
    pub train: usize,
    pub test: usize,
    /// Training steps (minibatches).
    pub steps: u64,
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Target fraction of gates on.
    pub sparsity: f64,
    /// Weight λ of the sparsity penalty.
    pub penalty: f64,
    pub seed: u64,
}

impl Default for GatingConfig {
    fn default() -> Self {
        GatingConfig {
            gates: 8,
            group: 2,
            inputs: 4,
            classes: 3,
            clusters: 4,
            train: 1000,
            test: 1000,
            steps: 3000,
            batch: 16,
            lr: 0.03,
            sparsity: 0.25,
            penalty: 0.3,
            seed: 1,
        }
    }
}

impl GatingConfig {
    /// Refuse settings outside the supported ranges.
    pub fn validate(&self) -> Result<()> {
        let int = |name: &str, v: usize, lo: usize, hi: usize| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(Error::Hyper(format!("{name} must be in [{lo}, {hi}], got {v}")))
            }
        };
        int("gates", self.gates, 1, MAX_GATES)?;
        int("group", self.group, 1, 16)?;
        int("inputs", self.inputs, 1, 64)?;
        int("classes", self.classes, 2, 16)?;
        int("clusters", self.clusters, 1, 32)?;
        int("train", self.train, 1, 100_000)?;
        int("test", self.test, 1, 100_000)?;
        int("batch", self.batch, 1, 1024)?;
        if self.steps > 10_000_000 {
            return Err(Error::Hyper(format!("steps must be at most 10000000, got {}", self.steps)));
        }
        let real = |name: &str, v: f64, lo: f64, hi: f64| {
            if v.is_finite() && v >= lo && v <= hi {
                Ok(())
            } else {
                Err(Error::Hyper(format!("{name} must be in [{lo}, {hi}], got {v}")))
            }
        };
        real("lr", self.lr, 1e-6, 10.0)?;
        real("sparsity", self.sparsity, 0.01, 0.99)?;
        real("penalty", self.penalty, 0.0, 1000.0)?;
        Ok(())
    }
}

/// A labelled data set (row-major inputs).
#[derive(Clone, Debug, PartialEq)]
pub struct Data {
    pub x: Vec<f64>,
    pub y: Vec<usize>,
    pub d: usize,
}

impl Data {
    pub fn len(&self) -> usize {
        self.y.len()
    }
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
    pub fn row(&self, n: usize) -> &[f64] {
        &self.x[n * self.d..(n + 1) * self.d]
    }
}

/// The synthetic task: training and held-out sets from the same clusters.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub config: GatingConfig,
    pub train: Data,
    pub test: Data,
}

impl Task {
    pub fn new(config: &GatingConfig) -> Result<Task> {
        config.validate()?;
        let (d, c, m) = (config.inputs, config.classes, config.clusters);
        let mut rng = Stream::new(config.seed, "gating-task", 0);
        let centres: Vec<f64> = (0..m * d).map(|_| 3.0 * rng.normal()).collect();
        let rules: Vec<f64> = (0..m * c * d).map(|_| rng.normal()).collect();
        let sample = |n: usize, rng: &mut Stream| {
            let mut x = Vec::with_capacity(n * d);
            let mut y = Vec::with_capacity(n);
            for _ in 0..n {
                let k = (rng.next_u64() % m as u64) as usize;
                let local: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
                x.extend(local.iter().zip(&centres[k * d..(k + 1) * d]).map(|(l, mu)| l + mu));
                let scores: Vec<f64> = (0..c)
                    .map(|cl| {
                        local.iter().zip(&rules[(k * c + cl) * d..(k * c + cl + 1) * d]).map(|(a, b)| a * b).sum()
                    })
                    .collect();
                y.push(argmax(&scores));
            }
            Data { x, y, d }
        };
        let train = sample(config.train, &mut rng);
        let mut rng = Stream::new(config.seed, "gating-task", 1);
        let test = sample(config.test, &mut rng);
        Ok(Task { config: config.clone(), train, test })
    }
}

fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// The network's parameters, flat: `[W_g, c_g, W_e, c_e, V, b]`.
#[derive(Clone, Debug, PartialEq)]
struct Shape {
    k: usize,
    g: usize,
    d: usize,
    c: usize,
}

impl Shape {
    fn new(cfg: &GatingConfig) -> Shape {
        Shape { k: cfg.gates, g: cfg.group, d: cfg.inputs, c: cfg.classes }
    }
    fn e(&self) -> usize {
        self.k * self.g
    }
    fn wg(&self) -> usize {
        0
    }
    fn cg(&self) -> usize {
        self.k * self.d
    }
    fn we(&self) -> usize {
        self.cg() + self.k
    }
    fn ce(&self) -> usize {
        self.we() + self.e() * self.d
    }
    fn v(&self) -> usize {
        self.ce() + self.e()
    }
    fn b(&self) -> usize {
        self.v() + self.c * self.e()
    }
    fn len(&self) -> usize {
        self.b() + self.c
    }
}

/// The kind of gate unit of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Binary,
    Sts,
    Rectifier,
    Sigmoid,
    Dense,
}

fn kind_of(key: &str) -> Option<Kind> {
    Some(match key {
        "st" | "st-sigmoid" | "reinforce-optimal" => Kind::Binary,
        "sts" => Kind::Sts,
        "noisy-rectifier" => Kind::Rectifier,
        "sigmoid" => Kind::Sigmoid,
        "dense" => Kind::Dense,
        _ => return None,
    })
}

/// A gate's firing probability `π(a)` and `dπ/da`.
fn firing(kind: Kind, a: f64) -> (f64, f64) {
    match kind {
        Kind::Binary | Kind::Sigmoid => (math::sigmoid(a), math::sigmoid_prime(a)),
        Kind::Sts => {
            let s = math::sqrt(math::sigmoid(a));
            (s, 0.5 * s * math::sigmoid(-a))
        }
        // Logistic noise of scale 1: P(a + z > 0) = σ(a).
        Kind::Rectifier => (math::sigmoid(a), math::sigmoid_prime(a)),
        Kind::Dense => (1.0, 0.0),
    }
}

/// One gate type training its own copy of the network.
pub struct Trainer {
    key: &'static str,
    kind: Kind,
    shape: Shape,
    theta: Vec<f64>,
    m: Vec<f64>,
    v: Vec<f64>,
    t: u64,
    cfg: GatingConfig,
    /// reinforce-optimal's moving averages per gate.
    numer: Vec<f64>,
    denom: Vec<f64>,
}

/// One row of the result table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GatingRow {
    pub gate: String,
    pub name: String,
    /// Held-out expected cross-entropy.
    pub test_loss: f64,
    pub test_loss_stderr: Option<f64>,
    /// Held-out expected 0/1 error.
    pub test_error: f64,
    pub test_error_stderr: Option<f64>,
    /// Held-out error of the deterministic test-time network.
    pub deterministic_error: f64,
    /// Training-set expected cross-entropy (same method as the held-out figure).
    pub train_loss: f64,
    /// Mean firing probability of the gates on the held-out set.
    pub gate_rate: f64,
    /// How the expectations over the gates were obtained.
    pub method: Method,
    pub steps: u64,
}

/// Everything one experiment reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GatingReport {
    pub config: GatingConfig,
    pub rows: Vec<GatingRow>,
    pub notes: Vec<String>,
}

fn name_of(key: &str) -> &'static str {
    match key {
        "st" => "binary gates, straight-through",
        "st-sigmoid" => "binary gates, straight-through × σ′",
        "reinforce-optimal" => "binary gates, REINFORCE with Bengio's baseline (no backprop into the gater)",
        "sts" => "stochastic times smooth gates",
        "noisy-rectifier" => "noisy rectifier gates (logistic noise, scale 1)",
        "sigmoid" => "deterministic sigmoid gates",
        _ => "no gating (every expert on)",
    }
}

impl Trainer {
    /// A trainer for gate type `key` (one of [`GATES`]), from the task's common initialisation.
    pub fn new(task: &Task, key: &str) -> Result<Trainer> {
        let kind = kind_of(key)
            .ok_or_else(|| Error::Hyper(format!("unknown gate \"{key}\" (known: {})", GATES.join(", "))))?;
        let key = GATES.iter().copied().find(|g| *g == key).expect("known");
        let cfg = task.config.clone();
        let shape = Shape::new(&cfg);
        let mut rng = Stream::new(cfg.seed, "gating-init", 0);
        let mut theta = vec![0.0; shape.len()];
        let (d, e) = (shape.d as f64, shape.e() as f64);
        for w in &mut theta[shape.wg()..shape.cg()] {
            *w = rng.normal() / d.sqrt();
        }
        for w in &mut theta[shape.we()..shape.ce()] {
            *w = rng.normal() / d.sqrt();
        }
        for w in &mut theta[shape.v()..shape.b()] {
            *w = rng.normal() / e.sqrt();
        }
        let n = shape.len();
        Ok(Trainer {
            key,
            kind,
            theta,
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
            numer: vec![0.0; shape.k],
            denom: vec![0.0; shape.k],
            shape,
            cfg,
        })
    }

    pub fn key(&self) -> &'static str {
        self.key
    }

    /// Training steps taken so far.
    pub fn steps(&self) -> u64 {
        self.t
    }

    fn logits_into(&self, x: &[f64], h: &[f64], expert: &mut [f64], z: &mut [f64]) {
        let s = &self.shape;
        let th = &self.theta;
        for (j, o) in expert.iter_mut().enumerate() {
            let row = &th[s.we() + j * s.d..s.we() + (j + 1) * s.d];
            *o = th[s.ce() + j] + row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
        }
        for (c, o) in z.iter_mut().enumerate() {
            let row = &th[s.v() + c * s.e()..s.v() + (c + 1) * s.e()];
            *o = th[s.b() + c] + (0..s.e()).map(|j| row[j] * expert[j] * h[j / s.g]).sum::<f64>();
        }
    }

    fn gater(&self, x: &[f64], a: &mut [f64]) {
        let s = &self.shape;
        for (i, o) in a.iter_mut().enumerate() {
            let row = &self.theta[s.wg() + i * s.d..s.wg() + (i + 1) * s.d];
            *o = self.theta[s.cg() + i] + row.iter().zip(x).map(|(p, q)| p * q).sum::<f64>();
        }
    }

    /// Train `steps` more minibatches.
    pub fn train(&mut self, task: &Task, steps: u64) -> Result<()> {
        let s = self.shape.clone();
        let (k, c, e) = (s.k, s.c, s.e());
        let n_train = task.train.len();
        let batch = self.cfg.batch;
        let mut grad = vec![0.0; s.len()];
        let (mut a, mut h, mut dh_da, mut score) = (vec![0.0; k], vec![0.0; k], vec![0.0; k], vec![0.0; k]);
        let (mut expert, mut z, mut dz) = (vec![0.0; e], vec![0.0; c], vec![0.0; c]);
        let mut dl_dh = vec![0.0; k];
        let mut pi = vec![0.0; k];
        let mut ga = vec![0.0; k];
        // Per example of the batch: firing probabilities and their derivatives (for the penalty).
        let mut pis = vec![0.0; batch * k];
        let mut dpis = vec![0.0; batch * k];
        let mut xs: Vec<usize> = vec![0; batch];
        for _ in 0..steps {
            let mut rng = Stream::new(self.cfg.seed, &format!("gating-train/{}", self.key), self.t);
            // The minibatch: the same examples for every gate type (their own stream).
            let mut pick = Stream::new(self.cfg.seed, "gating-batches", self.t);
            for slot in xs.iter_mut() {
                *slot = (pick.next_u64() % n_train as u64) as usize;
            }
            grad.iter_mut().for_each(|g| *g = 0.0);
            let (mut bn, mut bd) = (vec![0.0; k], vec![0.0; k]);
            let baseline: Vec<f64> =
                (0..k).map(|i| if self.denom[i] > 0.0 { self.numer[i] / self.denom[i] } else { 0.0 }).collect();
            for (bi, &n) in xs.iter().enumerate() {
                let x = task.train.row(n);
                let y = task.train.y[n];
                self.gater(x, &mut a);
                for i in 0..k {
                    let ai = a[i];
                    let (p, dp) = firing(self.kind, ai);
                    pi[i] = p;
                    pis[bi * k + i] = p;
                    dpis[bi * k + i] = dp;
                    match self.kind {
                        Kind::Binary => {
                            let on = rng.uniform() < math::sigmoid(ai);
                            h[i] = if on { 1.0 } else { 0.0 };
                            score[i] = if on { math::sigmoid(-ai) } else { -math::sigmoid(ai) };
                            dh_da[i] = if self.key == "st-sigmoid" { math::sigmoid_prime(ai) } else { 1.0 };
                        }
                        Kind::Sts => {
                            let sp = math::sqrt(math::sigmoid(ai));
                            let on = rng.uniform() < sp;
                            h[i] = if on { sp } else { 0.0 };
                            dh_da[i] = if on { 0.5 * sp * math::sigmoid(-ai) } else { 0.0 };
                        }
                        Kind::Rectifier => {
                            let y = ai + rng.logistic();
                            h[i] = y.max(0.0);
                            dh_da[i] = if y > 0.0 { 1.0 } else { 0.0 };
                        }
                        Kind::Sigmoid => {
                            h[i] = math::sigmoid(ai);
                            dh_da[i] = math::sigmoid_prime(ai);
                        }
                        Kind::Dense => {
                            h[i] = 1.0;
                            dh_da[i] = 0.0;
                        }
                    }
                }
                self.logits_into(x, &h, &mut expert, &mut z);
                let lse = math::log_sum_exp(&z);
                let loss = lse - z[y];
                for cl in 0..c {
                    dz[cl] = math::exp(z[cl] - lse) - if cl == y { 1.0 } else { 0.0 };
                }
                // Output layer and experts: back-propagation given the gates.
                dl_dh.iter_mut().for_each(|v| *v = 0.0);
                for cl in 0..c {
                    grad[s.b() + cl] += dz[cl];
                    for j in 0..e {
                        let vj = self.theta[s.v() + cl * e + j];
                        grad[s.v() + cl * e + j] += dz[cl] * expert[j] * h[j / s.g];
                        let d_expert = dz[cl] * vj * h[j / s.g];
                        grad[s.ce() + j] += d_expert;
                        for (q, xq) in x.iter().enumerate() {
                            grad[s.we() + j * s.d + q] += d_expert * xq;
                        }
                        dl_dh[j / s.g] += dz[cl] * vj * expert[j];
                    }
                }
                // The gater.
                for i in 0..k {
                    ga[i] = match (self.kind, self.key) {
                        (Kind::Binary, "reinforce-optimal") => score[i] * (loss - baseline[i]),
                        (Kind::Dense, _) => 0.0,
                        _ => dl_dh[i] * dh_da[i],
                    };
                    if self.key == "reinforce-optimal" {
                        bn[i] += score[i] * score[i] * loss;
                        bd[i] += score[i] * score[i];
                    }
                }
                for i in 0..k {
                    grad[s.cg() + i] += ga[i];
                    for (q, xq) in x.iter().enumerate() {
                        grad[s.wg() + i * s.d + q] += ga[i] * xq;
                    }
                }
            }
            let bf = batch as f64;
            // Sparsity penalty λ Σ_i KL(s ‖ π̄_i), π̄_i the batch mean: exact gradient.
            if self.kind != Kind::Dense && self.cfg.penalty > 0.0 {
                let sp = self.cfg.sparsity;
                for i in 0..k {
                    let pbar = ((0..batch).map(|b| pis[b * k + i]).sum::<f64>() / bf).clamp(1e-12, 1.0 - 1e-12);
                    let dkl = self.cfg.penalty * (-sp / pbar + (1.0 - sp) / (1.0 - pbar));
                    for (b, &n) in xs.iter().enumerate() {
                        let g = dkl * dpis[b * k + i];
                        let x = task.train.row(n);
                        grad[s.cg() + i] += g;
                        for (q, xq) in x.iter().enumerate() {
                            grad[s.wg() + i * s.d + q] += g * xq;
                        }
                    }
                }
            }
            if self.key == "reinforce-optimal" {
                for i in 0..k {
                    self.numer[i] = 0.9 * self.numer[i] + 0.1 * bn[i] / bf;
                    self.denom[i] = 0.9 * self.denom[i] + 0.1 * bd[i] / bf;
                }
            }
            // Adam on the minibatch mean.
            self.t += 1;
            let (b1, b2) = (0.9f64, 0.999f64);
            let (c1, c2) = (1.0 - b1.powi(self.t.min(100_000) as i32), 1.0 - b2.powi(self.t.min(100_000) as i32));
            let lr = self.cfg.lr;
            for (((th, m), v), g) in self.theta.iter_mut().zip(&mut self.m).zip(&mut self.v).zip(&grad) {
                let g = g / bf;
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                *th -= lr * (*m / c1) / ((*v / c2).sqrt() + 1e-8);
            }
            if self.theta.iter().any(|v| !v.is_finite()) {
                return Err(Error::Numerical(format!("{}: the parameters overflowed at step {}", self.key, self.t)));
            }
        }
        Ok(())
    }

    /// `(expected loss, its s.e., expected error, its s.e., deterministic error, gate rate, method)`
    /// on a data set.
    fn expectations(&self, data: &Data, seed_key: &str) -> (f64, Option<f64>, f64, Option<f64>, f64, f64, Method) {
        let s = &self.shape;
        let (k, c, e) = (s.k, s.c, s.e());
        let (mut a, mut h) = (vec![0.0; k], vec![0.0; k]);
        let (mut expert, mut z) = (vec![0.0; e], vec![0.0; c]);
        let n = data.len() as f64;
        let (mut loss, mut err, mut det_err, mut rate) = (0.0, 0.0, 0.0, 0.0);
        let (mut loss_var, mut err_var) = (0.0, 0.0);
        // Per gate, its contribution to the logits when fully on: u_i = Σ_{j ∈ block i} V_:j H_j.
        let mut u = vec![0.0; k * c];
        let mut rng = Stream::new(self.cfg.seed, seed_key, 0);
        for row in 0..data.len() {
            let x = data.row(row);
            let y = data.y[row];
            self.gater(x, &mut a);
            let on = vec![1.0; k];
            self.logits_into(x, &on, &mut expert, &mut z);
            for i in 0..k {
                for cl in 0..c {
                    u[i * c + cl] =
                        (i * s.g..(i + 1) * s.g).map(|j| self.theta[s.v() + cl * e + j] * expert[j]).sum::<f64>();
                }
            }
            let bias: Vec<f64> = (0..c).map(|cl| self.theta[s.b() + cl]).collect();
            let eval = |h: &[f64], zz: &mut [f64]| {
                for cl in 0..c {
                    zz[cl] = bias[cl] + (0..k).map(|i| h[i] * u[i * c + cl]).sum::<f64>();
                }
                let l = math::log_sum_exp(zz) - zz[y];
                (l, if argmax(zz) == y { 0.0 } else { 1.0 })
            };
            rate += a.iter().map(|&ai| firing(self.kind, ai).0).sum::<f64>();
            // Deterministic test-time gates.
            for i in 0..k {
                h[i] = match self.kind {
                    Kind::Binary => f64::from(u8::from(a[i] > 0.0)),
                    Kind::Sts => {
                        let sp = math::sqrt(math::sigmoid(a[i]));
                        if sp > 0.5 {
                            sp
                        } else {
                            0.0
                        }
                    }
                    Kind::Rectifier => a[i].max(0.0),
                    Kind::Sigmoid => math::sigmoid(a[i]),
                    Kind::Dense => 1.0,
                };
            }
            det_err += eval(&h, &mut z).1 / n;
            match self.kind {
                Kind::Binary | Kind::Sts => {
                    // Exact: every gate state, by depth-first enumeration of the gates.
                    let probs: Vec<(f64, f64, f64)> = (0..k)
                        .map(|i| {
                            let (p1, value) = if self.kind == Kind::Sts {
                                let sp = math::sqrt(math::sigmoid(a[i]));
                                (sp, sp)
                            } else {
                                (math::sigmoid(a[i]), 1.0)
                            };
                            let p0 = if self.kind == Kind::Sts {
                                math::sigmoid(-a[i]) / (1.0 + p1)
                            } else {
                                math::sigmoid(-a[i])
                            };
                            (p0, p1, value)
                        })
                        .collect();
                    // Depth first over the gates, carrying the partial logits z and e^{z − m}
                    // (m bounds every z, so no exponential overflows; each leaf costs one log).
                    let m = (0..c)
                        .map(|cl| bias[cl] + (0..k).map(|i| (probs[i].2 * u[i * c + cl]).max(0.0)).sum::<f64>())
                        .fold(f64::NEG_INFINITY, f64::max);
                    let mut enumerate = Enumerate {
                        k,
                        c,
                        y,
                        m,
                        probs: &probs,
                        u: &u,
                        eu: (0..k * c).map(|j| math::exp(probs[j / c].2 * u[j])).collect(),
                        zs: vec![0.0; (k + 1) * c],
                        es: vec![0.0; (k + 1) * c],
                        loss: 0.0,
                        err: 0.0,
                    };
                    for (cl, &b) in bias.iter().enumerate() {
                        enumerate.zs[cl] = b;
                        enumerate.es[cl] = math::exp(b - m);
                    }
                    enumerate.visit(0, 1.0);
                    let (el, ee) = (enumerate.loss, enumerate.err);
                    loss += el / n;
                    err += ee / n;
                }
                Kind::Rectifier => {
                    let (mut s1, mut s2, mut e1, mut e2) = (0.0, 0.0, 0.0, 0.0);
                    for _ in 0..EVAL_DRAWS {
                        for i in 0..k {
                            h[i] = (a[i] + rng.logistic()).max(0.0);
                        }
                        let (l, wrong) = eval(&h, &mut z);
                        s1 += l;
                        s2 += l * l;
                        e1 += wrong;
                        e2 += wrong * wrong;
                    }
                    let m = EVAL_DRAWS as f64;
                    let (ml, me) = (s1 / m, e1 / m);
                    loss += ml / n;
                    err += me / n;
                    // Variance of the per-example mean of m draws.
                    loss_var += ((s2 / m - ml * ml) * m / (m - 1.0)).max(0.0) / m / (n * n);
                    err_var += ((e2 / m - me * me) * m / (m - 1.0)).max(0.0) / m / (n * n);
                }
                Kind::Sigmoid | Kind::Dense => {
                    for i in 0..k {
                        h[i] = if self.kind == Kind::Dense { 1.0 } else { math::sigmoid(a[i]) };
                    }
                    let (l, wrong) = eval(&h, &mut z);
                    loss += l / n;
                    err += wrong / n;
                }
            }
        }
        let (method, lse, ese) = match self.kind {
            Kind::Rectifier => (Method::MonteCarlo, Some(loss_var.sqrt()), Some(err_var.sqrt())),
            _ => (Method::Exact, None, None),
        };
        (loss, lse, err, ese, det_err, rate / (n * k as f64), method)
    }

    /// The figures of the current parameters.
    pub fn evaluate(&self, task: &Task) -> GatingRow {
        let (test_loss, test_loss_stderr, test_error, test_error_stderr, deterministic_error, gate_rate, method) =
            self.expectations(&task.test, "gating-eval/test");
        let train_loss = self.expectations(&task.train, "gating-eval/train").0;
        GatingRow {
            gate: self.key.to_string(),
            name: name_of(self.key).to_string(),
            test_loss,
            test_loss_stderr,
            test_error,
            test_error_stderr,
            deterministic_error,
            train_loss,
            gate_rate,
            method,
            steps: self.t,
        }
    }
}

/// Depth-first enumeration of the gate states of one example: `probs[i] = (P(off), P(on), value
/// when on)`, `u[i·c + cl]` gate `i`'s contribution to logit `cl` at value 1.
struct Enumerate<'a> {
    k: usize,
    c: usize,
    y: usize,
    m: f64,
    probs: &'a [(f64, f64, f64)],
    u: &'a [f64],
    /// `e^{value_i · u_i}`.
    eu: Vec<f64>,
    /// Per depth: the partial logits and `e^{z − m}`.
    zs: Vec<f64>,
    es: Vec<f64>,
    loss: f64,
    err: f64,
}

impl Enumerate<'_> {
    fn visit(&mut self, i: usize, p: f64) {
        let c = self.c;
        if p == 0.0 {
            return;
        }
        if i == self.k {
            let z = &self.zs[i * c..(i + 1) * c];
            let sum: f64 = self.es[i * c..(i + 1) * c].iter().sum();
            let l = if sum.is_finite() && sum > 1e-250 {
                math::ln(sum) + self.m - z[self.y]
            } else {
                math::log_sum_exp(z) - z[self.y]
            };
            self.loss += p * l;
            if argmax(z) != self.y {
                self.err += p;
            }
            return;
        }
        let (p0, p1, value) = self.probs[i];
        // Off: copy the partials down.
        let (lo, hi) = self.zs.split_at_mut((i + 1) * c);
        hi[..c].copy_from_slice(&lo[i * c..]);
        let (lo, hi) = self.es.split_at_mut((i + 1) * c);
        hi[..c].copy_from_slice(&lo[i * c..]);
        self.visit(i + 1, p * p0);
        // On: add the gate's contribution.
        for cl in 0..c {
            self.zs[(i + 1) * c + cl] = self.zs[i * c + cl] + value * self.u[i * c + cl];
            self.es[(i + 1) * c + cl] = self.es[i * c + cl] * self.eu[i * c + cl];
        }
        self.visit(i + 1, p * p1);
    }
}

/// Run the experiment for the given gate types (all of [`GATES`] when empty).
pub fn run(config: &GatingConfig, gates: &[&str]) -> Result<GatingReport> {
    let task = Task::new(config)?;
    let keys: Vec<&str> = if gates.is_empty() { GATES.to_vec() } else { gates.to_vec() };
    let mut rows = Vec::with_capacity(keys.len());
    for key in keys {
        let mut t = Trainer::new(&task, key)?;
        t.train(&task, config.steps)?;
        let row = t.evaluate(&task);
        let all = [row.test_loss, row.test_error, row.deterministic_error, row.train_loss, row.gate_rate];
        if all.iter().any(|v| !v.is_finite()) {
            return Err(Error::Numerical(format!("{key}: a held-out figure overflowed")));
        }
        rows.push(row);
    }
    let notes = vec![
        format!(
            "synthetic task: {} clusters with their own linear rules, {} inputs, {} classes; {} training and {} held-out examples (seed {})",
            config.clusters, config.inputs, config.classes, config.train, config.test, config.seed
        ),
        format!(
            "{} gates, each switching {} expert units; sparsity target {} (KL penalty λ = {}); Adam lr {}, {} steps of {} examples",
            config.gates, config.group, config.sparsity, config.penalty, config.lr, config.steps, config.batch
        ),
        format!(
            "binary and STS gates: exact expectations over all 2^{} gate states per example; noisy rectifier: {} draws per example (standard errors given)",
            config.gates, EVAL_DRAWS
        ),
    ];
    Ok(GatingReport { config: config.clone(), rows, notes })
}

/// A figure over several seeds: the mean and its standard error across seeds (for one seed, the
/// run's own Monte-Carlo standard error, if any).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    pub mean: f64,
    pub stderr: Option<f64>,
}

impl Stat {
    fn of(values: &[f64], own: Option<f64>) -> Stat {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        if values.len() < 2 {
            return Stat { mean, stderr: own };
        }
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
        Stat { mean, stderr: Some((var / n).sqrt()) }
    }
}

/// One gate type over several seeds (a new task, initialisation and draws per seed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub gate: String,
    pub name: String,
    pub test_loss: Stat,
    pub test_error: Stat,
    pub deterministic_error: Stat,
    pub train_loss: Stat,
    pub gate_rate: Stat,
    /// How the expectations over the gates were obtained (per seed).
    pub method: Method,
    /// Held-out error of each seed.
    pub test_error_per_seed: Vec<f64>,
}

/// The experiment over seeds `seed, seed + 1, …, seed + seeds − 1`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GatingSummary {
    pub config: GatingConfig,
    pub seeds: Vec<u64>,
    pub rows: Vec<SummaryRow>,
    pub notes: Vec<String>,
}

/// Run [`run`] for `seeds` consecutive seeds and summarise each gate type across them.
pub fn run_seeds(config: &GatingConfig, gates: &[&str], seeds: u64) -> Result<GatingSummary> {
    if !(1..=100).contains(&seeds) {
        return Err(Error::Hyper(format!("seeds must be in [1, 100], got {seeds}")));
    }
    let list: Vec<u64> = (0..seeds).map(|i| config.seed.wrapping_add(i)).collect();
    let mut reports = Vec::with_capacity(list.len());
    for &s in &list {
        reports.push(run(&GatingConfig { seed: s, ..config.clone() }, gates)?);
    }
    let first = &reports[0];
    let rows = (0..first.rows.len())
        .map(|i| {
            let col = |f: &dyn Fn(&GatingRow) -> f64| reports.iter().map(|r| f(&r.rows[i])).collect::<Vec<f64>>();
            let one = &first.rows[i];
            SummaryRow {
                gate: one.gate.clone(),
                name: one.name.clone(),
                test_loss: Stat::of(&col(&|r| r.test_loss), one.test_loss_stderr),
                test_error: Stat::of(&col(&|r| r.test_error), one.test_error_stderr),
                deterministic_error: Stat::of(&col(&|r| r.deterministic_error), None),
                train_loss: Stat::of(&col(&|r| r.train_loss), None),
                gate_rate: Stat::of(&col(&|r| r.gate_rate), None),
                method: one.method,
                test_error_per_seed: col(&|r| r.test_error),
            }
        })
        .collect();
    let mut notes = first.notes.clone();
    notes[0] = notes[0].replace(&format!(" (seed {})", config.seed), "");
    if seeds > 1 {
        notes.push(format!(
            "mean ± standard error over {seeds} seeds ({}–{}): each seed draws a new task, initialisation and samples",
            list[0],
            list[list.len() - 1]
        ));
    }
    Ok(GatingSummary { config: config.clone(), seeds: list, rows, notes })
}
