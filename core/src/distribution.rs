//! The estimator as a random variable: the distribution of one parameter's estimate.
//!
//! * **Exact** wherever [`crate::moments::moments`] is exact by enumeration (every estimator that is
//!   a function of the joint sample, stateful ones idealised as in their exact moments, and ARM /
//!   DisARM over the `3^n` cells of one layer): the job's items ([`ExactJob::visit`]) are the
//!   distribution. An item whose estimate is fixed is an **atom** (probability, value); atoms whose
//!   values are equal within `1e-12 ×` the largest |value| are merged into one at their
//!   probability-weighted mean value. An item whose estimate is still linear in one uniform
//!   (AR's and ARM's noise inside a cell) is a **uniform piece** on `mean ± √(3·variance)`; pieces
//!   with the same ends (same tolerance) are merged, and a piece of zero width is an atom. An
//!   `elbo` model's exact `∇(−H(q))` ([`exact::exact_term`]) is added to every value, as `moments`
//!   adds it to the mean. The distribution's mean and variance are those of `moments`' exact method.
//! * **Monte Carlo** elsewhere (quadrature plans: the relaxations are continuous; moment
//!   expansions such as reinforce-loo's; estimators that learn while sampling; deeper ARM): a
//!   histogram of the draws `moments` itself would make with the same seed and sample count — the
//!   estimator's sampler on the stream of each chunk of [`MC_CHUNK`] draws, in chunk order — in
//!   equal-width bins between the smallest and largest draw; the number of bins is Rice's rule
//!   `⌈2·N^(1/3)⌉`, at most [`MAX_BINS`].

use crate::error::{Error, Reason, Result};
use crate::estimators::{Estimator, ExactJob, MC_CHUNK};
use crate::exact;
use crate::jobs::{Progress, Sampler, Shifted, EXACT_CHUNK};
use crate::model::Model;
use crate::moments::{MethodChoice, Request};
use crate::params;
use crate::rng::Stream;
use crate::solution::ExactSolution;
use crate::stats::Method;

/// Largest number of histogram bins.
pub const MAX_BINS: usize = 60;
/// Largest number of Monte-Carlo draws kept for a histogram (each is kept until the bins are known).
pub const MAX_DRAWS: u64 = 10_000_000;
/// Relative tolerance within which exact values (and pieces' ends) are merged.
pub const MERGE_TOLERANCE: f64 = 1e-12;

/// A uniform piece of an exact distribution: probability `probability` spread evenly on `[from, to]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Piece {
    pub from: f64,
    pub to: f64,
    pub probability: f64,
}

/// The shape of a distribution.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// Atoms (distinct values ascending, their probabilities) and uniform pieces (ascending);
    /// all probabilities sum to 1.
    Exact { values: Vec<f64>, probabilities: Vec<f64>, pieces: Vec<Piece> },
    /// A histogram of `samples` draws: `edges.len() = counts.len() + 1`, ascending.
    MonteCarlo { samples: u64, seed: u64, edges: Vec<f64>, counts: Vec<u64> },
}

/// The distribution of one parameter's estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct Distribution {
    pub estimator: &'static str,
    /// The parameter's name ([`params::name`]) and index.
    pub parameter: String,
    pub index: usize,
    pub method: Method,
    pub shape: Shape,
    /// The distribution's mean and variance (Monte Carlo: of the draws, the variance with `N − 1`).
    pub mean: f64,
    pub variance: f64,
    /// The exact gradient's entry (for a unit-type estimator, of its own objective).
    pub exact_gradient: f64,
    pub notes: Vec<String>,
}

/// The distribution of parameter `index`'s estimate by `est` (exact where its moments are exact by
/// enumeration, else a Monte-Carlo histogram; `req.method` as in [`crate::moments::moments`]).
pub fn distribution(
    model: &Model,
    sol: &ExactSolution,
    est: &dyn Estimator,
    index: usize,
    req: &Request,
    progress: Progress,
) -> Result<Distribution> {
    req.hp.validate()?;
    est.check(model)?;
    if index >= model.num_params() {
        return Err(Error::Hyper(format!("parameter {index} out of range (the model has {})", model.num_params())));
    }
    let mut notes = Vec::new();
    let own = match est.own_objective(model, &req.hp) {
        Some(own) => {
            let own = own?;
            notes.extend(own.notes.iter().cloned());
            Some(own)
        }
        None => None,
    };
    let sol = own.as_ref().map_or(sol, |o| &o.solution);
    let meta = est.meta();
    let plan = est.plan(model, &req.hp);
    let offset = exact::exact_term(model).map_or(0.0, |t| t.gradient[index]);
    let exact_wanted = req.method != MethodChoice::MonteCarlo && plan.method == Method::Exact;
    if exact_wanted {
        let job = est.exact_job(model, &req.hp, sol)?;
        if job.visits() {
            if let Some(n) = plan.note {
                notes.push(n);
            }
            let (shape, mean, variance) = exact_shape(job.as_ref(), index, offset, progress)?;
            return Ok(Distribution {
                estimator: meta.key,
                parameter: params::name(model, index),
                index,
                method: Method::Exact,
                shape,
                mean,
                variance,
                exact_gradient: sol.gradient[index],
                notes,
            });
        }
    }
    if req.method == MethodChoice::Exact {
        if plan.method == Method::MonteCarlo {
            est.exact_job(model, &req.hp, sol)?;
        }
        let why = match plan.method {
            Method::Quadrature => format!("{}'s estimate has a continuous distribution here (its moments are by quadrature); its distribution is a Monte-Carlo histogram", meta.key),
            Method::Exact => format!("{}'s exact moments are a moment expansion, not an enumeration of its values; its distribution is a Monte-Carlo histogram", meta.key),
            Method::MonteCarlo => plan.note.clone().unwrap_or_else(|| "no exact computation".into()),
        };
        return Err(Error::NotApplicable(Reason::MonteCarloOnly(why)));
    }
    if req.samples < 2 * MC_CHUNK || req.samples > MAX_DRAWS {
        return Err(Error::Hyper(format!(
            "samples must be in [{}, {}] for a Monte-Carlo histogram, got {}",
            2 * MC_CHUNK,
            MAX_DRAWS,
            req.samples
        )));
    }
    if req.method == MethodChoice::Auto {
        match plan.method {
            Method::Exact => notes
                .push("Monte Carlo: the exact moments are a moment expansion, not an enumeration of the values".into()),
            Method::Quadrature => notes
                .push("Monte Carlo: the estimate has a continuous distribution (its moments are by quadrature)".into()),
            Method::MonteCarlo => notes.extend(plan.note),
        }
    }
    if meta.stateful {
        notes.push("running estimator, as sampled; its draws are not independent".into());
    }
    let inner = est.sampler(model, &req.hp, sol)?;
    let mut sampler: Box<dyn Sampler + '_> = match exact::exact_term(model) {
        Some(t) => Box::new(Shifted { inner, offset: t.gradient }),
        None => inner,
    };
    let draws = draw_values(sampler.as_mut(), req.seed, meta.key, req.samples, model.num_params(), index, progress)?;
    let (mean, variance) = sample_moments(&draws);
    if !mean.is_finite() || !variance.is_finite() {
        return Err(Error::Numerical(
            "the Monte-Carlo draws overflowed (the model's logits or loss values are too large to represent)".into(),
        ));
    }
    let (edges, counts) = histogram(&draws);
    Ok(Distribution {
        estimator: meta.key,
        parameter: params::name(model, index),
        index,
        method: Method::MonteCarlo,
        shape: Shape::MonteCarlo { samples: req.samples, seed: req.seed, edges, counts },
        mean,
        variance,
        exact_gradient: sol.gradient[index],
        notes,
    })
}

/// Visit every item of `job` in chunks, keep parameter `index`'s atoms and pieces, merge them.
fn exact_shape(job: &dyn ExactJob, index: usize, offset: f64, progress: Progress) -> Result<(Shape, f64, f64)> {
    let total = job.total();
    let chunks = total.div_ceil(EXACT_CHUNK);
    let mut atoms: Vec<(f64, f64)> = Vec::new();
    // (centre, half-width, probability)
    let mut pieces: Vec<(f64, f64, f64)> = Vec::new();
    for c in 0..chunks {
        job.visit(c * EXACT_CHUNK..((c + 1) * EXACT_CHUNK).min(total), &mut |w, mean, var| {
            let m = mean[index] + offset;
            let half = var.map_or(0.0, |v| (3.0 * v[index]).sqrt());
            if half > 0.0 {
                pieces.push((m, half, w));
            } else {
                atoms.push((m, w));
            }
        });
        if !progress(((c + 1) * EXACT_CHUNK).min(total), total) {
            return Err(Error::Cancelled);
        }
    }
    let weight: f64 = atoms.iter().map(|a| a.1).chain(pieces.iter().map(|p| p.2)).sum();
    if weight.is_nan()
        || weight <= 0.0
        || atoms.iter().any(|a| !a.0.is_finite())
        || pieces.iter().any(|p| !(p.0 - p.1).is_finite() || !(p.0 + p.1).is_finite())
    {
        return Err(Error::Numerical(
            "the exact distribution overflowed (the model's logits or loss values are too large to represent)".into(),
        ));
    }
    let scale = atoms.iter().map(|a| a.0.abs()).chain(pieces.iter().map(|p| p.0.abs() + p.1)).fold(0.0, f64::max);
    let tol = MERGE_TOLERANCE * scale;
    // Moments first, from the unmerged items (merging keeps the mean, and moves values by ≤ tol).
    let mean = atoms.iter().map(|a| a.1 * a.0).chain(pieces.iter().map(|p| p.2 * p.0)).sum::<f64>() / weight;
    let variance = (atoms.iter().map(|a| a.1 * (a.0 - mean) * (a.0 - mean)).sum::<f64>()
        + pieces.iter().map(|p| p.2 * ((p.0 - mean) * (p.0 - mean) + p.1 * p.1 / 3.0)).sum::<f64>())
        / weight;
    atoms.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut values, mut probabilities) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < atoms.len() {
        let start = atoms[i].0;
        let (mut w, mut wv) = (0.0, 0.0);
        while i < atoms.len() && atoms[i].0 - start <= tol {
            w += atoms[i].1;
            wv += atoms[i].1 * atoms[i].0;
            i += 1;
        }
        values.push((wv / w).clamp(start, atoms[i - 1].0));
        probabilities.push(w / weight);
    }
    pieces.sort_by(|a, b| (a.0 - a.1).total_cmp(&(b.0 - b.1)).then((a.0 + a.1).total_cmp(&(b.0 + b.1))));
    let mut merged: Vec<Piece> = Vec::new();
    for &(c, h, w) in &pieces {
        let (from, to) = (c - h, c + h);
        match merged.last_mut() {
            Some(last) if (from - last.from).abs() <= tol && (to - last.to).abs() <= tol => {
                last.probability += w / weight
            }
            _ => merged.push(Piece { from, to, probability: w / weight }),
        }
    }
    Ok((Shape::Exact { values, probabilities, pieces: merged }, mean, variance))
}

/// Parameter `index` of `samples` draws, chunk by chunk on `moments`' streams.
fn draw_values(
    sampler: &mut dyn Sampler,
    seed: u64,
    key: &str,
    samples: u64,
    dim: usize,
    index: usize,
    progress: Progress,
) -> Result<Vec<f64>> {
    let mut values = Vec::with_capacity(samples as usize);
    let mut out = vec![0.0; dim];
    let chunks = samples.div_ceil(MC_CHUNK);
    for c in 0..chunks {
        let mut rng = Stream::new(seed, key, c);
        for _ in 0..(samples - c * MC_CHUNK).min(MC_CHUNK) {
            sampler.draw(&mut rng, &mut out);
            values.push(out[index]);
        }
        if !progress(((c + 1) * MC_CHUNK).min(samples), samples) {
            return Err(Error::Cancelled);
        }
    }
    Ok(values)
}

/// Mean and variance (with `N − 1`) of draws.
fn sample_moments(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let variance = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, variance)
}

/// Equal-width bins from the smallest to the largest draw (Rice's rule, at most [`MAX_BINS`]); one
/// bin of zero width when every draw is the same.
pub fn histogram(x: &[f64]) -> (Vec<f64>, Vec<u64>) {
    let lo = x.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if x.is_empty() {
        return (Vec::new(), Vec::new());
    }
    if hi <= lo {
        return (vec![lo, hi], vec![x.len() as u64]);
    }
    let bins = ((2.0 * (x.len() as f64).cbrt()).ceil() as usize).clamp(1, MAX_BINS);
    let width = (hi - lo) / bins as f64;
    let edges: Vec<f64> = (0..=bins).map(|i| if i == bins { hi } else { lo + width * i as f64 }).collect();
    let mut counts = vec![0u64; bins];
    for &v in x {
        let b = (((v - lo) / width) as usize).min(bins - 1);
        counts[b] += 1;
    }
    (edges, counts)
}
