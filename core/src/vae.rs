//! The discrete VAE on the binarised digits ([`crate::digits`]): training by any estimator of the
//! registry (or by the exact encoder gradient), with the exact `−ELBO` and the exact `log p(x)` at
//! every checkpoint.
//!
//! One step: a minibatch of training images (the same order for every estimator, from the seed);
//! the decoder's [`Table`] once; for each image one Gray-code walk ([`elbo::image_exact`]) gives
//! `q(h | x)` on every state and the image's exact figures; the **encoder** gradient is the
//! estimator's one-sample estimate of `∇E_q[g]` on the image's own model (a MODEL.json `elbo`
//! model: the same code as `stochgrad moments`) plus the exact `∇(−H(q))`, or with
//! [`Trainer::Exact`] the exact gradient; the **decoder and prior** always get their exact gradient
//! `E_q[∂g/∂θ]` by the enumeration (every `k ≤` [`elbo::MAX_LATENTS`]), the same for every
//! estimator. Adam on all parameters.

use crate::digits;
use crate::elbo::{self, Decoder, Table};
use crate::error::{Error, Reason, Result};
use crate::estimators::{Estimator, Family, HyperParams};
use crate::loss::Loss;
use crate::math;
use crate::model::{Layer, Model, UnitKind};
use crate::rng::{Draws, Stream};
use crate::solution::ExactSolution;
use std::sync::Arc;

/// Pixels of an image (the input size `D`).
pub const D: usize = digits::PIXELS;

/// What trains the encoder.
#[derive(Clone, Copy)]
pub enum Trainer {
    /// The exact encoder gradient (the ideal every estimator is measured against).
    Exact,
    /// One estimate per image from an estimator of the registry.
    Estimator(&'static dyn Estimator),
}

impl Trainer {
    /// `exact` or the estimator's key.
    pub fn key(&self) -> &'static str {
        match self {
            Trainer::Exact => "exact",
            Trainer::Estimator(e) => e.meta().key,
        }
    }

    /// `exact`, or any estimator of the registry by its key (the unit types too: [`Config::validate`]
    /// refuses them with the reason); `None` for an unknown key.
    pub fn from_key(key: &str) -> Option<Trainer> {
        if key == "exact" {
            return Some(Trainer::Exact);
        }
        crate::estimators::find(key).map(Trainer::Estimator)
    }

    /// Whether it trains binary latents: `exact` and every estimator but the unit types.
    pub fn trains_binary_latents(&self) -> bool {
        match self {
            Trainer::Exact => true,
            Trainer::Estimator(e) => e.meta().family != Family::UnitType,
        }
    }
}

/// The keys of every trainer of binary latents: `exact`, then every estimator of binary units in
/// the registry's order (`digits compare`'s default, the benchmarks', the page's choices).
pub fn trainer_keys() -> Vec<&'static str> {
    std::iter::once("exact")
        .chain(crate::estimators::catalogue().iter().filter(|m| m.family != Family::UnitType).map(|m| m.key))
        .collect()
}

/// A training run's settings (the CLI's `stochgrad digits train` flags).
#[derive(Clone)]
pub struct Config {
    pub trainer: Trainer,
    pub hp: HyperParams,
    pub latents: usize,
    pub steps: u64,
    pub batch: usize,
    pub lr: f64,
    pub seed: u64,
    pub eval_every: u64,
}

/// Allowed ranges of the training settings.
pub const LATENTS_RANGE: (usize, usize) = (1, elbo::MAX_LATENTS);
pub const BATCH_RANGE: (usize, usize) = (1, 1438);
pub const STEPS_MAX: u64 = 1_000_000;
pub const LR_RANGE: (f64, f64) = (1e-6, 1.0);

impl Default for Config {
    fn default() -> Self {
        Config {
            trainer: Trainer::Exact,
            hp: HyperParams::default(),
            latents: 8,
            steps: 1000,
            batch: 50,
            lr: 0.003,
            seed: 1,
            eval_every: 100,
        }
    }
}

impl Config {
    /// Refuse values outside the ranges, and estimators that do not train binary units.
    pub fn validate(&self) -> Result<()> {
        self.hp.validate()?;
        let (lo, hi) = LATENTS_RANGE;
        if !(lo..=hi).contains(&self.latents) {
            return Err(Error::Hyper(format!(
                "latents must be in [{lo}, {hi}] (every exact figure enumerates the 2^k latent states), got {}",
                self.latents
            )));
        }
        if !(BATCH_RANGE.0..=BATCH_RANGE.1).contains(&self.batch) {
            return Err(Error::Hyper(format!(
                "batch must be in [{}, {}] (the training images), got {}",
                BATCH_RANGE.0, BATCH_RANGE.1, self.batch
            )));
        }
        if self.steps > STEPS_MAX {
            return Err(Error::Hyper(format!("steps must be at most {STEPS_MAX}, got {}", self.steps)));
        }
        if self.eval_every == 0 {
            return Err(Error::Hyper("eval-every must be at least 1".into()));
        }
        if !(self.lr.is_finite() && self.lr >= LR_RANGE.0 && self.lr <= LR_RANGE.1) {
            return Err(Error::Hyper(format!("lr must be in [{}, {}], got {}", LR_RANGE.0, LR_RANGE.1, self.lr)));
        }
        if !self.trainer.trains_binary_latents() {
            return Err(Error::NotApplicable(Reason::BinaryLatents { estimator: self.trainer.key().to_string() }));
        }
        Ok(())
    }
}

/// The model's parameters: encoder `W` (`k × D`), `c` (`k`); decoder `V` (`D × k`), `b`; prior `r`.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub encoder_weights: Vec<f64>,
    pub encoder_bias: Vec<f64>,
    pub decoder: Decoder,
}

impl Params {
    /// The initialisation from the seed: encoder and decoder weights normal with standard deviation
    /// 0.1, encoder biases 0, decoder bias = logit of the training pixel means (clamped to
    /// [0.001, 0.999]), prior logits 0 — step 0's decoder is the independent-pixel model.
    pub fn init(latents: usize, seed: u64) -> Params {
        let mut rng = Stream::new(seed, "digits-init", 0);
        let encoder_weights = (0..latents * D).map(|_| 0.1 * rng.normal()).collect();
        let weights = (0..D * latents).map(|_| 0.1 * rng.normal()).collect();
        let train = digits::train();
        let mut mean = [0.0; D];
        for &i in &train {
            for (m, &p) in mean.iter_mut().zip(digits::image(i).pixels.iter()) {
                *m += f64::from(p);
            }
        }
        let bias = mean.iter().map(|m| math::logit((m / train.len() as f64).clamp(0.001, 0.999))).collect();
        Params {
            encoder_weights,
            encoder_bias: vec![0.0; latents],
            decoder: Decoder { weights, bias, prior: vec![0.0; latents] },
        }
    }

    pub fn latents(&self) -> usize {
        self.encoder_bias.len()
    }

    /// Encoder logits `a = W x + c`.
    pub fn encode(&self, x: &[f64], a: &mut [f64]) {
        for (i, a) in a.iter_mut().enumerate() {
            let row = &self.encoder_weights[i * D..(i + 1) * D];
            *a = self.encoder_bias[i] + row.iter().zip(x).filter(|(_, &x)| x == 1.0).map(|(w, _)| w).sum::<f64>();
        }
    }

    fn flat(&self) -> Vec<f64> {
        let mut v = self.encoder_weights.clone();
        v.extend(&self.encoder_bias);
        v.extend(&self.decoder.weights);
        v.extend(&self.decoder.bias);
        v.extend(&self.decoder.prior);
        v
    }

    fn set_flat(&mut self, v: &[f64]) {
        let mut rest = v;
        for dst in [
            &mut self.encoder_weights,
            &mut self.encoder_bias,
            &mut self.decoder.weights,
            &mut self.decoder.bias,
            &mut self.decoder.prior,
        ] {
            let (head, tail) = rest.split_at(dst.len());
            dst.copy_from_slice(head);
            rest = tail;
        }
    }

    /// The MODEL.json `elbo` model of image `x` under these parameters.
    pub fn model(&self, x: &[f64]) -> Model {
        let decoder = Arc::new(self.decoder.clone());
        self.model_with(&decoder, x)
    }

    fn model_with(&self, decoder: &Arc<Decoder>, x: &[f64]) -> Model {
        Model {
            input: x.to_vec(),
            layers: vec![Layer {
                weights: self.encoder_weights.clone(),
                bias: self.encoder_bias.clone(),
                fan_in: D,
                unit: UnitKind::Binary,
            }],
            loss: Loss::Elbo { decoder: decoder.clone(), x: x.to_vec() },
        }
    }

    /// JSON: `{"latents", "encoder": {"weights", "bias"}, "decoder": {"weights", "bias"}, "prior"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let k = self.latents();
        let rows = |v: &[f64], n: usize| v.chunks(n).map(|r| serde_json::json!(r)).collect::<Vec<_>>();
        serde_json::json!({
            "latents": k,
            "encoder": {"weights": rows(&self.encoder_weights, D), "bias": self.encoder_bias},
            "decoder": {"weights": rows(&self.decoder.weights, k), "bias": self.decoder.bias},
            "prior": self.decoder.prior,
        })
    }
}

/// An image as `f64` pixels.
pub fn pixels(index: usize) -> Vec<f64> {
    digits::image(index).pixels.iter().map(|&p| f64::from(p)).collect()
}

/// Exact figures over a set of images, in nats per image.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bounds {
    pub neg_elbo: f64,
    pub neg_log_marginal: f64,
}

/// The exact mean `−ELBO` and `−log p(x)` over `images` (indices into [`digits`]).
pub fn evaluate(params: &Params, images: &[usize]) -> Bounds {
    let table = Table::new(&params.decoder, false);
    let k = params.latents();
    let parts = crate::parallel::map_chunks(images.len().div_ceil(64), (images.len() << k) as u64 * 8, |c| {
        let mut a = vec![0.0; k];
        let mut sum = (0.0, 0.0);
        for &i in &images[c * 64..((c + 1) * 64).min(images.len())] {
            let x = pixels(i);
            params.encode(&x, &mut a);
            let (neg_elbo, log_marginal) = elbo::image_bounds(&params.decoder, &table, &x, &a);
            sum.0 += neg_elbo;
            sum.1 -= log_marginal;
        }
        sum
    });
    let n = images.len() as f64;
    let (e, l) = parts.iter().fold((0.0, 0.0), |acc, p| (acc.0 + p.0, acc.1 + p.1));
    Bounds { neg_elbo: e / n, neg_log_marginal: l / n }
}

/// One checkpoint of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub step: u64,
    /// Loss evaluations `g(h)` spent on the encoder's estimates so far (over all images).
    pub loss_evaluations: f64,
    pub train: Bounds,
    pub test: Bounds,
}

/// A training run in progress.
pub struct Run {
    pub config: Config,
    pub params: Params,
    pub step: u64,
    pub evaluations: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    state: Vec<f64>,
    order: Order,
    train: Vec<usize>,
    test: Vec<usize>,
}

/// Step `step`'s minibatch (indices into [`digits`]) for a seed: the training images in a fresh
/// permutation per epoch (from the seed alone, so every trainer sees the same batches), read
/// `batch` at a time across epoch boundaries.
pub fn batch_order(seed: u64, step: u64, batch: usize) -> Vec<usize> {
    Order::new(seed, digits::train()).batch(step, batch)
}

/// [`batch_order`], keeping the current epoch's permutation.
struct Order {
    seed: u64,
    epoch: u64,
    images: Vec<usize>,
    perm: Vec<usize>,
}

impl Order {
    fn new(seed: u64, images: Vec<usize>) -> Order {
        let mut o = Order { seed, epoch: u64::MAX, perm: images.clone(), images };
        o.shuffle(0);
        o
    }
    fn shuffle(&mut self, epoch: u64) {
        let n = self.perm.len();
        self.perm = self.images.clone();
        let mut rng = Stream::new(self.seed, "digits-batches", epoch);
        for i in (1..n).rev() {
            let j = (rng.uniform() * (i + 1) as f64) as usize;
            self.perm.swap(i, j.min(i));
        }
        self.epoch = epoch;
    }
    /// Positions `[step·batch, (step + 1)·batch)` of the endless sequence of permutations.
    fn batch(&mut self, step: u64, batch: usize) -> Vec<usize> {
        let n = self.perm.len() as u64;
        (step * batch as u64..(step + 1) * batch as u64)
            .map(|pos| {
                if pos / n != self.epoch {
                    self.shuffle(pos / n);
                }
                self.perm[(pos % n) as usize]
            })
            .collect()
    }
}

impl Run {
    pub fn new(config: Config) -> Result<Run> {
        config.validate()?;
        let params = Params::init(config.latents, config.seed);
        let dim = params.flat().len();
        let train = digits::train();
        Ok(Run {
            order: Order::new(config.seed, train.clone()),
            params,
            step: 0,
            evaluations: 0.0,
            m: vec![0.0; dim],
            v: vec![0.0; dim],
            state: Vec::new(),
            train,
            test: digits::test(),
            config,
        })
    }

    /// The exact figures at the current parameters.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            step: self.step,
            loss_evaluations: self.evaluations,
            train: evaluate(&self.params, &self.train),
            test: evaluate(&self.params, &self.test),
        }
    }

    /// The minibatch gradient (flat, in [`Params`]'s order: encoder W, c, decoder V, b, prior r)
    /// at the current parameters on `batch` (indices into [`digits`]); the encoder's estimate for
    /// the image at position `n` of step `step`'s batch draws from stream `step·batch + n` of the
    /// family (seed, estimator key), so images could be split across threads without changing a
    /// bit. Adds the loss evaluations spent.
    pub fn gradient(&mut self, batch: &[usize], step: u64) -> Result<Vec<f64>> {
        let k = self.params.latents();
        let dec = Arc::new(self.params.decoder.clone());
        let table = Table::new(&dec, true);
        let stream = |n: usize| step * batch.len() as u64 + n as u64;
        // Each image's part is computed alone (natively on every core when the encoder's trainer
        // keeps no state between draws) and the parts are summed in batch order below: the same
        // bits for any number of threads.
        let stateful = matches!(self.config.trainer, Trainer::Estimator(e) if e.meta().stateful);
        let parts: Vec<ImagePart> = if stateful {
            let mut state = std::mem::take(&mut self.state);
            let parts = batch
                .iter()
                .enumerate()
                .map(|(n, &i)| self.image_part(&dec, &table, i, stream(n), &mut state))
                .collect::<Result<Vec<_>>>();
            self.state = state;
            parts?
        } else {
            let work = (batch.len() << k) as u64 * (k as u64 + 8);
            crate::parallel::map_chunks(batch.len(), work, |n| {
                self.image_part(&dec, &table, batch[n], stream(n), &mut Vec::new())
            })
            .into_iter()
            .collect::<Result<Vec<_>>>()?
        };
        let p = &self.params;
        let mut grad = vec![0.0; k * D + k + D * k + D + k];
        let (enc, rest) = grad.split_at_mut(k * D + k);
        let (dec_w, rest) = rest.split_at_mut(D * k);
        let (dec_b, prior) = rest.split_at_mut(D);
        let mut q_sum = vec![0.0; 1 << k];
        let inv = 1.0 / batch.len() as f64;
        for part in &parts {
            for (s, &qs) in q_sum.iter_mut().zip(&part.q) {
                *s += qs;
            }
            self.evaluations += part.evaluations;
            for (g, e) in enc.iter_mut().zip(&part.estimate) {
                *g += inv * e;
            }
            // Prior: σ(r_l) − p_l; decoder's x-part: −x_j p_l and −x_j.
            let pl: Vec<f64> = part.a.iter().map(|&a| math::sigmoid(a)).collect();
            for ((g, &r), &pl) in prior.iter_mut().zip(&p.decoder.prior).zip(&pl) {
                *g += inv * (math::sigmoid(r) - pl);
            }
            for (j, _) in part.x.iter().enumerate().filter(|(_, &x)| x == 1.0) {
                dec_b[j] -= inv;
                for (g, &pl) in dec_w[j * k..(j + 1) * k].iter_mut().zip(&pl) {
                    *g -= inv * pl;
                }
            }
        }
        // The decoder's σ-part: Σ_s Q(s) σ(o_j(s)) [h_l(s)], Q = Σ_n q_n / B.
        q_sum.iter_mut().for_each(|q| *q *= inv);
        let (sig_b, sig_w) = table.sigmoid_moments(&q_sum);
        for (g, s) in dec_b.iter_mut().zip(&sig_b) {
            *g += s;
        }
        for (g, s) in dec_w.iter_mut().zip(&sig_w) {
            *g += s;
        }
        if grad.iter().any(|g| !g.is_finite()) {
            return Err(Error::Numerical(format!("the gradient overflowed at step {}", self.step + 1)));
        }
        Ok(grad)
    }

    /// One image's share of the minibatch gradient: `q(h | x)` on every state, the encoder's
    /// gradient (exact, or the estimator's draw from `stream` plus the exact `∇(−H)`), and the
    /// loss evaluations spent. `state` carries a stateful estimator's learned state.
    fn image_part(
        &self,
        dec: &Arc<Decoder>,
        table: &Table,
        i: usize,
        stream: u64,
        state: &mut Vec<f64>,
    ) -> Result<ImagePart> {
        let p = &self.params;
        let k = p.latents();
        let x = pixels(i);
        let mut a = vec![0.0; k];
        p.encode(&x, &mut a);
        let mut q = vec![0.0; 1 << k];
        let ex = elbo::image_exact(dec, table, &x, &a, Some(&mut q), false);
        let mut estimate = vec![0.0; k * D + k];
        let mut evaluations = 0.0;
        // Encoder: ∂/∂a_l, then times x for W.
        let d: Vec<f64> = match self.config.trainer {
            Trainer::Exact => (0..k).map(|l| ex.d_expected_g[l] + ex.d_neg_entropy[l]).collect(),
            Trainer::Estimator(est) => {
                let model = p.model_with(dec, &x);
                let sol = image_solution(&ex, &a, &x);
                let mut sampler = est.sampler(&model, &self.config.hp, &sol)?;
                if !state.is_empty() {
                    sampler.set_state(state);
                }
                let mut rng = Stream::new(self.config.seed, est.meta().key, stream);
                sampler.draw(&mut rng, &mut estimate);
                *state = sampler.state();
                evaluations = est.loss_evaluations(&model, &self.config.hp);
                ex.d_neg_entropy.clone()
            }
        };
        for l in 0..k {
            estimate[k * D + l] += d[l];
            for (e, &x) in estimate[l * D..(l + 1) * D].iter_mut().zip(&x) {
                *e += d[l] * x;
            }
        }
        Ok(ImagePart { x, a, q, estimate, evaluations })
    }

    /// Step `step`'s minibatch ([`batch_order`]).
    pub fn batch_at(&mut self, step: u64) -> Vec<usize> {
        self.order.batch(step, self.config.batch)
    }

    /// One Adam step on the next minibatch.
    pub fn advance(&mut self) -> Result<()> {
        let batch = self.order.batch(self.step, self.config.batch);
        let grad = self.gradient(&batch, self.step)?;
        self.step += 1;
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
        let t = self.step.min(i32::MAX as u64) as i32;
        let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        let mut theta = self.params.flat();
        for (((th, m), v), &g) in theta.iter_mut().zip(&mut self.m).zip(&mut self.v).zip(&grad) {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *th -= self.config.lr * (*m / c1) / ((*v / c2).sqrt() + eps);
        }
        if theta.iter().any(|t| !t.is_finite()) {
            return Err(Error::Numerical(format!("the parameters overflowed at step {}", self.step)));
        }
        self.params.set_flat(&theta);
        Ok(())
    }

    /// Train to the end, calling `on_checkpoint` at step 0, every `eval_every` steps and at the
    /// last step; stops early (with the checkpoints so far) when it returns `false`.
    pub fn train(&mut self, on_checkpoint: &mut dyn FnMut(&Checkpoint) -> bool) -> Result<()> {
        if !on_checkpoint(&self.checkpoint()) {
            return Ok(());
        }
        while self.step < self.config.steps {
            self.advance()?;
            if (self.step % self.config.eval_every == 0 || self.step == self.config.steps)
                && !on_checkpoint(&self.checkpoint())
            {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// One image's share of a minibatch gradient ([`Run::gradient`]).
struct ImagePart {
    x: Vec<f64>,
    a: Vec<f64>,
    q: Vec<f64>,
    estimate: Vec<f64>,
    evaluations: f64,
}

/// The image's exact solution for `g` (what the estimators' samplers may read: `E_q[g]`'s
/// gradient, Bengio's optimal baselines `L̄_i = σ(−a_i) E[g | h_i = 1] + σ(a_i) E[g | h_i = 0]` and
/// `E[(h_i − σ(a_i))²]`), with `expected_loss` and `gradient` of the whole `−ELBO` as
/// [`crate::exact::solve`] gives them.
fn image_solution(ex: &elbo::ImageExact, a: &[f64], x: &[f64]) -> ExactSolution {
    let k = a.len();
    let mut gradient = vec![0.0; k * D + k];
    for l in 0..k {
        let d = ex.d_expected_g[l] + ex.d_neg_entropy[l];
        gradient[k * D + l] = d;
        for (g, &x) in gradient[l * D..(l + 1) * D].iter_mut().zip(x) {
            *g = d * x;
        }
    }
    let (mut baseline, mut second) = (vec![0.0; k], vec![0.0; k]);
    for l in 0..k {
        let (p, q) = (math::sigmoid(a[l]), math::sigmoid(-a[l]));
        baseline[l] = q * ex.given_on[l] + p * ex.given_off[l];
        second[l] = p * q;
    }
    ExactSolution {
        expected_loss: ex.neg_elbo,
        gradient,
        optimal_baseline: vec![baseline],
        score_second_moment: vec![second],
    }
}

/// One row of [`compare`]: a trainer's final exact figures over the seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareRow {
    pub key: &'static str,
    pub steps: u64,
    /// Loss evaluations per image per step (`None` for the exact gradient).
    pub evaluations_per_image: Option<f64>,
    /// Per seed, the last checkpoint.
    pub finals: Vec<Checkpoint>,
}

/// A mean and its standard error over seeds (`None` for one seed).
pub fn mean_se(v: &[f64]) -> (f64, Option<f64>) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return (mean, None);
    }
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    (mean, Some((var / n).sqrt()))
}

/// Train every trainer from `base` (its trainer ignored) over seeds `base.seed ..` at equal loss
/// evaluations: an estimator that spends `E` evaluations of `g` per image gets `steps / E` steps
/// (at least 1); the exact gradient gets `steps`.
pub fn compare(base: &Config, trainers: &[Trainer], seeds: u64) -> Result<Vec<CompareRow>> {
    let mut rows = Vec::new();
    for &trainer in trainers {
        let per = match trainer {
            Trainer::Exact => None,
            Trainer::Estimator(e) => {
                let p = Params::init(base.latents, base.seed);
                Some(e.loss_evaluations(&p.model(&pixels(0)), &base.hp))
            }
        };
        let steps = per.map_or(base.steps, |e| ((base.steps as f64 / e.max(1.0)).floor() as u64).max(1));
        let mut finals = Vec::new();
        for s in 0..seeds {
            let config =
                Config { trainer, steps, seed: base.seed.wrapping_add(s), eval_every: steps.max(1), ..base.clone() };
            let mut run = Run::new(config)?;
            while run.step < steps {
                run.advance()?;
            }
            finals.push(run.checkpoint());
        }
        rows.push(CompareRow { key: trainer.key(), steps, evaluations_per_image: per, finals });
    }
    Ok(rows)
}

/// [`compare`]'s rows as the README's Markdown table (nats per image, exact; mean ± s.e. over seeds).
pub fn markdown(base: &Config, seeds: u64, rows: &[CompareRow]) -> String {
    let fmt = |v: Vec<f64>| match mean_se(&v) {
        (m, Some(se)) => format!("{m:.3} ± {se:.3}"),
        (m, None) => format!("{m:.3}"),
    };
    let mut out = format!(
        "k = {} latents, batch {}, Adam lr {}, {} seed{} from {}; nats per image, exact (enumeration over the 2^{} states), mean ± s.e. over seeds\n\n",
        base.latents,
        base.batch,
        base.lr,
        seeds,
        if seeds == 1 { "" } else { "s" },
        base.seed,
        base.latents
    );
    out.push_str(
        "| encoder gradient | steps | evaluations of g per image | test −log p(x) | test −ELBO | train −ELBO |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|\n");
    for r in rows {
        let evals = r.evaluations_per_image.map_or("exact (2^k)".to_string(), |e| format!("{e}"));
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            r.key,
            r.steps,
            evals,
            fmt(r.finals.iter().map(|c| c.test.neg_log_marginal).collect()),
            fmt(r.finals.iter().map(|c| c.test.neg_elbo).collect()),
            fmt(r.finals.iter().map(|c| c.train.neg_elbo).collect()),
        ));
    }
    out
}

/// The mean of `p(x | h)` under `q(h | x)` for each image: `Σ_s q(s) σ(o(s))`, per pixel (the
/// reconstructions the page draws); the decoder's table is built once for all of them.
pub fn reconstructions(params: &Params, images: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let k = params.latents();
    let table = Table::new(&params.decoder, true);
    let mut a = vec![0.0; k];
    let mut q = vec![0.0; 1 << k];
    images
        .iter()
        .map(|x| {
            params.encode(x, &mut a);
            elbo::image_exact(&params.decoder, &table, x, &a, Some(&mut q), false);
            table.sigmoid_moments(&q).0
        })
        .collect()
}

/// `n` samples from the model: `h ~ p(h)`, then the decoder's mean `σ(V h + b)` per pixel (drawn
/// from stream 0 of the family `(seed, "digits-samples")`).
pub fn samples(params: &Params, n: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = Stream::new(seed, "digits-samples", 0);
    let k = params.latents();
    (0..n)
        .map(|_| {
            let h: Vec<f64> = (0..k)
                .map(|i| if rng.uniform() < math::sigmoid(params.decoder.prior[i]) { 1.0 } else { 0.0 })
                .collect();
            let mut o = vec![0.0; D];
            params.decoder.logits(&h, &mut o);
            o.iter().map(|&o| math::sigmoid(o)).collect()
        })
        .collect()
}

/// An estimator's encoder gradient on a fixed minibatch, against the exact one: the minibatch
/// estimate is the mean of independent per-image estimates, so its mean is the mean of the
/// per-image means and its variance `1/B²` times the sum of the per-image variances.
#[derive(Clone, Debug, PartialEq)]
pub struct EncoderFigures {
    /// `‖E[ĝ] − ∇‖²` over the encoder's parameters (Monte Carlo: not debiased, with the s.e.'s
    /// contribution `tr V̂ / N` included).
    pub bias_sq: f64,
    /// `tr Var[ĝ]`.
    pub variance: f64,
    /// `‖∇‖²` of the exact encoder gradient (for scale).
    pub gradient_sq: f64,
    /// The least exact method used over the images.
    pub method: crate::stats::Method,
}

/// [`EncoderFigures`] of `est` at `params` on `batch`, each image's moments by
/// [`crate::moments::moments`] (exact or quadrature where available; else Monte Carlo with
/// `samples` draws from `seed`).
pub fn encoder_figures(
    params: &Params,
    batch: &[usize],
    est: &dyn Estimator,
    hp: &HyperParams,
    samples: u64,
    seed: u64,
) -> Result<EncoderFigures> {
    use crate::moments::{moments, MethodChoice, Request};
    use crate::stats::Method;
    let dim = params.latents() * (D + 1);
    let (mut mean, mut exact, mut variance) = (vec![0.0; dim], vec![0.0; dim], 0.0);
    let mut method = Method::Exact;
    let b = batch.len() as f64;
    let decoder = Arc::new(params.decoder.clone());
    for &i in batch {
        let model = params.model_with(&decoder, &pixels(i));
        let sol = crate::exact::solve(&model)?;
        let req = Request { hp: *hp, method: MethodChoice::Auto, samples, seed };
        let r = moments(&model, &sol, est, &req, &mut |_, _| true)?;
        for t in 0..dim {
            mean[t] += r.mean[t] / b;
            exact[t] += sol.gradient[t] / b;
        }
        variance += r.variance.iter().sum::<f64>() / (b * b);
        method = match (method, r.method) {
            (_, Method::MonteCarlo) | (Method::MonteCarlo, _) => Method::MonteCarlo,
            (_, Method::Quadrature) | (Method::Quadrature, _) => Method::Quadrature,
            _ => Method::Exact,
        };
    }
    let bias_sq = mean.iter().zip(&exact).map(|(m, g)| (m - g) * (m - g)).sum();
    Ok(EncoderFigures { bias_sq, variance, gradient_sq: exact.iter().map(|g| g * g).sum(), method })
}
