//! Networks with other unit types than binary: stochastic times smooth (STS) and the noisy
//! rectifier (Bengio, Léonard & Courville 2013, §2), and their own objectives.
//!
//! * STS: `p = σ(a)`, `b ~ Bern(√p)`, `h = b·√p`; the next layer sees the real value `b√p`.
//!   Its objective `E[f(h)]` is a finite sum over the binary draws `b` (enumerated, `Σ w ≤ 20`),
//!   and so is its exact gradient, by the product rule: `Σ_b P(b)·(f ∇log P(b) + ∇_path f)`, where
//!   the path runs through every `√p` (and through every `a` into the later layers).
//! * Noisy rectifier: `h = max(0, a + z)`, `z` logistic or Gaussian noise times a scale. Its
//!   objective is an integral: exact by one-dimensional quadratures for a single layer whose loss
//!   splits per unit (one unit with any loss, or the toy loss), Monte Carlo with standard errors
//!   otherwise (the pathwise gradient, plus the score term of any discrete units in the network).
//!
//! A network may mix unit types (layer by layer). The binary sigmoid belief network keeps the
//! engine's layer chain ([`crate::exact::solve`] dispatches here only when a layer is not binary; binary networks use [`crate::chain`]).

pub mod rectifier;

pub(crate) mod pass;

use crate::chain;
use crate::error::{Error, Reason, Result};
use crate::limits;
use crate::model::{Model, UnitKind};
use crate::rng::Stream;
use crate::solution::ExactSolution;
use crate::stats::{Batch, Method};
use pass::{sample_noise, Pass};

pub use crate::model::{Noise, NOISE_SCALE_RANGE};

/// Default Monte-Carlo draws of an objective that has no exact form.
pub const REFERENCE_SAMPLES: u64 = 1 << 15;
/// Draws per Monte-Carlo chunk of an objective (each chunk has its own stream).
const OBJECTIVE_CHUNK: u64 = 256;
/// The stream family of objective estimates.
const OBJECTIVE_KEY: &str = "objective";

/// How to estimate an objective that has no exact form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct McOptions {
    pub samples: u64,
    pub seed: u64,
}

impl Default for McOptions {
    fn default() -> Self {
        McOptions { samples: REFERENCE_SAMPLES, seed: 1 }
    }
}

/// A network's objective `E[f]` and its gradient, with how they were obtained.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// The network the objective is of.
    pub model: Model,
    /// `E[f]`, `∇θ E[f]`, and per discrete unit the analogue of Bengio's baseline
    /// `E[(b − P(b = 1))² f] / E[(b − P(b = 1))²]` (`E[f]` for rectifiers, whose second-moment
    /// entry is 0).
    pub solution: ExactSolution,
    /// `exact` (enumeration), `quadrature` or `monte-carlo`.
    pub method: Method,
    /// Monte Carlo: standard error of `E[f]`.
    pub loss_stderr: Option<f64>,
    /// Monte Carlo: standard error of each gradient entry.
    pub stderr: Option<Vec<f64>>,
    /// Monte Carlo: the number of draws.
    pub samples: Option<u64>,
    /// What the numbers are (and, for an estimator's own objective, what it is compared with).
    pub notes: Vec<String>,
}

/// The same network with every layer's units replaced by `kind` (layers already of that type —
/// for noisy rectifiers, with whatever noise they declare — are kept as they are).
pub fn convert(model: &Model, kind: UnitKind) -> Model {
    let mut m = model.clone();
    for l in &mut m.layers {
        if std::mem::discriminant(&l.unit) != std::mem::discriminant(&kind) {
            l.unit = kind;
        }
    }
    m
}

/// A phrase naming the unit types of a network ("STS units", "noisy-rectifier units (logistic
/// noise, scale 1)", "binary and STS units").
pub fn describe(model: &Model) -> String {
    let mut kinds: Vec<String> = Vec::new();
    for l in &model.layers {
        let d = match l.unit {
            UnitKind::Binary => "binary".to_string(),
            UnitKind::Sts => "STS".to_string(),
            UnitKind::Categorical { classes } => format!("categorical (K = {classes})"),
            UnitKind::NoisyRectifier { noise, scale } => {
                format!("noisy-rectifier ({} noise, scale {scale})", noise.key())
            }
        };
        if !kinds.contains(&d) {
            kinds.push(d);
        }
    }
    format!("{} units", kinds.join(" and "))
}

/// How [`objective`] would obtain the objective of `model`.
pub fn method(model: &Model) -> Method {
    if model.layers.iter().all(|l| l.unit.is_discrete()) {
        Method::Exact
    } else if rectifier::Separable::new(model).is_some() {
        Method::Quadrature
    } else {
        Method::MonteCarlo
    }
}

/// The objective exactly (enumeration or quadrature), or `Err(NotApplicable)` where only Monte
/// Carlo is available, or `Err(Limit)` past the enumeration limit. Binary networks go through the
/// layer chain.
pub fn solve(model: &Model) -> Result<ExactSolution> {
    if model.is_binary() {
        return chain::solve(model);
    }
    match method(model) {
        Method::Exact => enumerate(model),
        Method::Quadrature => quadrature(model),
        Method::MonteCarlo => Err(Error::NotApplicable(Reason::NoExactObjective { network: describe(model) })),
    }
}

/// The objective, exact where possible and Monte Carlo (with `mc`) otherwise.
pub fn objective(model: &Model, mc: &McOptions) -> Result<Objective> {
    let m = method(model);
    let (solution, loss_stderr, stderr, samples) = match m {
        Method::Exact if model.is_binary() => (chain::solve(model)?, None, None, None),
        Method::Exact => (enumerate(model)?, None, None, None),
        Method::Quadrature => (quadrature(model)?, None, None, None),
        Method::MonteCarlo => {
            let (sol, lse, se) = monte_carlo(model, mc)?;
            (sol, Some(lse), Some(se), Some(mc.samples))
        }
    };
    finite("the expected loss", &[solution.expected_loss])?;
    finite("the gradient", &solution.gradient)?;
    let note = match m {
        Method::Exact => format!("exact: enumeration over the binary draws of the {}", describe(model)),
        Method::Quadrature => format!("quadrature over the noise of the {}", describe(model)),
        Method::MonteCarlo => format!(
            "Monte Carlo ({} draws, seed {}): the objective of the {} has no exact form here; the gradient is the pathwise estimate{}",
            mc.samples,
            mc.seed,
            describe(model),
            if model.layers.iter().any(|l| l.unit.is_discrete()) { " plus the score term of the discrete units" } else { "" }
        ),
    };
    Ok(Objective { model: model.clone(), solution, method: m, loss_stderr, stderr, samples, notes: vec![note] })
}

fn finite(what: &str, v: &[f64]) -> Result<()> {
    if v.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(Error::Numerical(format!("{what} overflowed (the model's logits or loss values are too large)")))
    }
}

/// `∂f/∂h` at the output, or nothing (then zero: only a binary last layer has a loss without one).
fn output_gradient(model: &Model, h: &[f64], df: &mut [f64]) -> bool {
    model.loss.is_differentiable() && model.loss.gradient(h, df)
}

/// Per-layer vectors from a flat per-unit vector.
fn per_layer(model: &Model, flat: &[f64]) -> Vec<Vec<f64>> {
    let mut off = 0;
    model
        .layers
        .iter()
        .map(|l| {
            let v = flat[off..off + l.width()].to_vec();
            off += l.width();
            v
        })
        .collect()
}

/// Joint draws of the discrete units in enumeration order: unit `u` is bit `n − 1 − u` of the
/// index, so the last layer's draws vary fastest and most steps rerun only the last layer.
pub(crate) struct Enumeration {
    n: usize,
    offsets: Vec<usize>,
    prev: Option<u64>,
}

impl Enumeration {
    pub fn new(model: &Model, pass: &Pass) -> Enumeration {
        Enumeration { n: model.units(), offsets: pass.offsets.clone(), prev: None }
    }

    /// Set `pass` to joint draw `idx`, rerunning only what changed since the previous index.
    pub fn set(&mut self, model: &Model, pass: &mut Pass, idx: u64) {
        let n = self.n;
        let mut draw = |u: usize, _: UnitKind, _: f64| f64::from(u8::from(idx >> (n - 1 - u) & 1 == 1));
        match self.prev {
            None => pass.forward(model, &mut draw),
            Some(p) => {
                let diff = p ^ idx;
                if diff != 0 {
                    let first_unit = n - 1 - (63 - diff.leading_zeros() as usize);
                    let k = self.offsets.partition_point(|&o| o <= first_unit) - 1;
                    if k == 0 {
                        pass.redraw_first(model, &mut draw);
                    } else {
                        pass.forward_from(model, k, &mut draw);
                    }
                }
            }
        }
        self.prev = Some(idx);
    }
}

/// Exact objective of a network of discrete (binary and STS) units: every joint draw `b`.
fn enumerate(model: &Model) -> Result<ExactSolution> {
    limits::check_joint(model, "the exact objective of a network with STS units")?;
    let n = model.units();
    let np = model.num_params();
    let mut pass = Pass::new(model);
    let mut states = Enumeration::new(model, &pass);
    let mut ga = vec![0.0; n];
    let mut out = vec![0.0; np];
    let mut df = vec![0.0; model.output_width()];
    let mut expected_loss = 0.0;
    let mut gradient = vec![0.0; np];
    let mut numer = vec![0.0; n];
    let mut denom = vec![0.0; n];
    // W_1's gradient is (Σ P·∂S/∂a_1) ⊗ x: accumulate the per-unit factor only.
    let first = &model.layers[0];
    let w1 = first.weights.len();
    let mut ga_first = vec![0.0; first.width()];
    for idx in 0..(1u64 << n) {
        states.set(model, &mut pass, idx);
        let w = pass.prob;
        if w == 0.0 {
            continue;
        }
        let f = model.loss.value(pass.output());
        if !output_gradient(model, pass.output(), &mut df) {
            df.iter_mut().for_each(|v| *v = 0.0);
        }
        pass.backward_into(model, &df, f, &mut ga, &mut out, false);
        expected_loss += w * f;
        for (g, o) in gradient[w1..].iter_mut().zip(&out[w1..]) {
            *g += w * o;
        }
        for (g, o) in ga_first.iter_mut().zip(&ga) {
            *g += w * o;
        }
        for u in 0..n {
            numer[u] += w * pass.centred_sq[u] * f;
            denom[u] += w * pass.centred_sq[u];
        }
    }
    for (i, g) in ga_first.iter().enumerate() {
        for (j, x) in model.input.iter().enumerate() {
            gradient[i * first.fan_in + j] = g * x;
        }
    }
    let baseline: Vec<f64> = (0..n).map(|u| if denom[u] > 0.0 { numer[u] / denom[u] } else { expected_loss }).collect();
    Ok(ExactSolution {
        expected_loss,
        gradient,
        optimal_baseline: per_layer(model, &baseline),
        score_second_moment: per_layer(model, &denom),
    })
}

/// Exact objective of a single separable layer of noisy rectifiers, by quadrature.
fn quadrature(model: &Model) -> Result<ExactSolution> {
    let sep = rectifier::Separable::new(model).ok_or(Error::NotApplicable(Reason::RectifierQuadrature))?;
    let layer = &model.layers[0];
    let w = layer.width();
    let mut expected_loss = 0.0;
    let mut gradient = vec![0.0; model.num_params()];
    for i in 0..w {
        expected_loss += sep.expected(i);
        let g = sep.gradient(i);
        for (j, x) in model.input.iter().enumerate() {
            gradient[i * layer.fan_in + j] = g * x;
        }
        gradient[layer.weights.len() + i] = g;
    }
    Ok(ExactSolution {
        expected_loss,
        gradient,
        optimal_baseline: vec![vec![expected_loss; w]],
        score_second_moment: vec![vec![0.0; w]],
    })
}

/// Monte-Carlo objective: `(solution, s.e. of E[f], s.e. of each gradient entry)`.
fn monte_carlo(model: &Model, mc: &McOptions) -> Result<(ExactSolution, f64, Vec<f64>)> {
    if mc.samples < 2 || mc.samples > limits::MAX_SAMPLES {
        return Err(Error::Hyper(format!(
            "samples must be in [2, {}] for a Monte-Carlo objective, got {}",
            limits::MAX_SAMPLES,
            mc.samples
        )));
    }
    let n = model.units();
    let np = model.num_params();
    let mut pass = Pass::new(model);
    let mut ga = vec![0.0; n];
    let mut row = vec![0.0; np + 1];
    let mut df = vec![0.0; model.output_width()];
    let mut total = Batch::new(np + 1);
    // The score term of discrete units is centred by the mean loss of the draws before this chunk
    // (a baseline independent of the current draw: still unbiased).
    let mut baseline = 0.0;
    let chunks = mc.samples.div_ceil(OBJECTIVE_CHUNK);
    for c in 0..chunks {
        let draws = (mc.samples - c * OBJECTIVE_CHUNK).min(OBJECTIVE_CHUNK);
        let mut rng = Stream::new(mc.seed, OBJECTIVE_KEY, c);
        let mut batch = Batch::new(np + 1);
        for _ in 0..draws {
            pass.forward(model, &mut |_, kind, a| sample_noise(kind, a, &mut rng));
            let f = model.loss.value(pass.output());
            if !output_gradient(model, pass.output(), &mut df) {
                df.iter_mut().for_each(|v| *v = 0.0);
            }
            pass.backward(model, &df, f - baseline, &mut ga, &mut row[..np]);
            row[np] = f;
            batch.add(&row);
        }
        total.merge(&batch);
        baseline = total.mean[np];
    }
    let var = total.variance();
    let nf = total.n as f64;
    let se: Vec<f64> = var.iter().map(|v| (v / nf).sqrt()).collect();
    let expected_loss = total.mean[np];
    let widths = model.widths();
    Ok((
        ExactSolution {
            expected_loss,
            gradient: total.mean[..np].to_vec(),
            optimal_baseline: widths.iter().map(|&w| vec![expected_loss; w]).collect(),
            score_second_moment: widths.iter().map(|&w| vec![0.0; w]).collect(),
        },
        se[np],
        se[..np].to_vec(),
    ))
}

/// Exact moments of the pathwise (back-propagation with the draws fixed) estimate in a network of
/// discrete units: every joint draw `b`, weighted by `P(b)`. The STS estimator's exact job.
pub(crate) struct PathJob {
    pub model: Model,
}

impl PathJob {
    /// Entries of `W_1` (not accumulated: each is `c_1[i] · x_j` with `x` fixed).
    fn first_weights(&self) -> usize {
        self.model.layers[0].weights.len()
    }
}

impl crate::jobs::ExactJob for PathJob {
    fn method(&self) -> Method {
        Method::Exact
    }
    fn total(&self) -> u64 {
        1u64 << self.model.units()
    }
    /// The accumulator holds every parameter but `W_1` (expanded in `finish`).
    fn dim(&self) -> usize {
        self.model.num_params() - self.first_weights()
    }
    fn run(&self, range: std::ops::Range<u64>) -> crate::stats::Weighted {
        let model = &self.model;
        let w1 = self.first_weights();
        let mut acc = crate::stats::Weighted::new(self.dim());
        let mut pass = Pass::new(model);
        let mut states = Enumeration::new(model, &pass);
        let mut ga = vec![0.0; model.units()];
        let mut out = vec![0.0; model.num_params()];
        let mut df = vec![0.0; model.output_width()];
        for idx in range {
            states.set(model, &mut pass, idx);
            if pass.prob == 0.0 {
                continue;
            }
            if !output_gradient(model, pass.output(), &mut df) {
                df.iter_mut().for_each(|v| *v = 0.0);
            }
            pass.backward_into(model, &df, 0.0, &mut ga, &mut out, false);
            acc.add(pass.prob, &out[w1..]);
        }
        acc
    }
    fn finish(&self, acc: &crate::stats::Weighted) -> (Vec<f64>, Vec<f64>) {
        let (m, v) = acc.finish();
        let first = &self.model.layers[0];
        let w1 = self.first_weights();
        let (mut mean, mut var) = (vec![0.0; w1], vec![0.0; w1]);
        for i in 0..first.width() {
            for (j, x) in self.model.input.iter().enumerate() {
                mean[i * first.fan_in + j] = m[i] * x;
                var[i * first.fan_in + j] = v[i] * x * x;
            }
        }
        mean.extend(m);
        var.extend(v);
        (mean, var)
    }
}

/// Exact moments of the noisy rectifier's pathwise estimate for a separable single layer, by
/// quadrature: per unit the mean `E[∂f/∂h_i 1[h_i > 0]]` and the variance from its second moment
/// (each unit's estimate depends only on its own noise), chained to `W` and `c`.
pub(crate) struct RectifierJob {
    mean: Vec<f64>,
    var: Vec<f64>,
}

impl RectifierJob {
    pub fn new(model: &Model) -> Result<RectifierJob> {
        let sep = rectifier::Separable::new(model).ok_or(Error::NotApplicable(Reason::RectifierQuadrature))?;
        let layer = &model.layers[0];
        let np = model.num_params();
        let (mut mean, mut var) = (vec![0.0; np], vec![0.0; np]);
        for i in 0..layer.width() {
            let m = sep.gradient(i);
            let v = (sep.second_moment(i) - m * m).max(0.0);
            for (j, x) in model.input.iter().enumerate() {
                mean[i * layer.fan_in + j] = m * x;
                var[i * layer.fan_in + j] = v * x * x;
            }
            mean[layer.weights.len() + i] = m;
            var[layer.weights.len() + i] = v;
        }
        Ok(RectifierJob { mean, var })
    }
}

impl crate::jobs::ExactJob for RectifierJob {
    fn method(&self) -> Method {
        Method::Quadrature
    }
    fn total(&self) -> u64 {
        1
    }
    fn dim(&self) -> usize {
        self.mean.len()
    }
    fn run(&self, range: std::ops::Range<u64>) -> crate::stats::Weighted {
        let mut acc = crate::stats::Weighted::new(self.mean.len());
        if !range.is_empty() {
            acc.add_with_variance(1.0, &self.mean, &self.var);
        }
        acc
    }
}

/// Monte-Carlo sampler of the pathwise estimate: draw every unit's noise, run the network,
/// back-propagate `∂f/∂h` with the noise fixed (STS: through `√p` with `b` fixed; noisy
/// rectifier: through `max(0, a + z)`).
pub(crate) struct PathSampler {
    pub model: Model,
    pass: Pass,
    ga: Vec<f64>,
    df: Vec<f64>,
}

impl PathSampler {
    pub fn new(model: Model) -> PathSampler {
        let pass = Pass::new(&model);
        let ga = vec![0.0; model.units()];
        let df = vec![0.0; model.output_width()];
        PathSampler { model, pass, ga, df }
    }
}

impl crate::jobs::Sampler for PathSampler {
    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]) {
        let model = &self.model;
        self.pass.forward(model, &mut |_, kind, a| sample_noise(kind, a, rng));
        if !output_gradient(model, self.pass.output(), &mut self.df) {
            self.df.iter_mut().for_each(|v| *v = 0.0);
        }
        self.pass.backward(model, &self.df, 0.0, &mut self.ga, out);
    }
}
