//! Moments of an estimator against the exact gradient: exact (or quadrature) where the engine can,
//! Monte Carlo otherwise, always in fixed-size chunks merged in chunk order (so a job can report
//! progress, be cancelled between chunks, and be split across workers with the same result).

use crate::error::{Error, Reason, Result};
use crate::estimators::{Estimator, Hyper, HyperParams, Sampler, MC_CHUNK};
use crate::exact;
use crate::jobs::Shifted;
use crate::limits;
use crate::model::Model;
use crate::parallel;
use crate::solution::ExactSolution;
use crate::stats::{Figures, McAccumulator, Method};
use crate::units::Objective;

/// Which method the caller wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodChoice {
    /// Exact or quadrature where available, else Monte Carlo.
    Auto,
    /// Exact or quadrature only (an error where not available).
    Exact,
    /// Monte Carlo even where exact figures exist.
    MonteCarlo,
}

/// What to compute.
#[derive(Clone, Debug)]
pub struct Request {
    pub hp: HyperParams,
    pub method: MethodChoice,
    /// Monte-Carlo draws.
    pub samples: u64,
    /// Sampling seed (the stream is per (seed, estimator key)).
    pub seed: u64,
}

impl Default for Request {
    fn default() -> Self {
        Request { hp: HyperParams::default(), method: MethodChoice::Auto, samples: 100_000, seed: 1 }
    }
}

/// An estimator's moments and figures.
#[derive(Clone, Debug)]
pub struct Report {
    pub estimator: &'static str,
    pub method: Method,
    pub mean: Vec<f64>,
    pub variance: Vec<f64>,
    /// Standard error of each mean entry (Monte Carlo only).
    pub stderr: Option<Vec<f64>>,
    pub samples: Option<u64>,
    pub figures: Figures,
    pub notes: Vec<String>,
    /// For a unit-type estimator: the objective it was compared on (the figures are against its
    /// gradient, not the `sol` passed in). `None` for estimators of binary units.
    pub objective: Option<Objective>,
}

pub use crate::jobs::{mc_chunk, run_exact, run_monte_carlo, Progress};

/// [`run_monte_carlo`] for a sampler with no state between draws ([`crate::estimators::Meta::stateful`]
/// false), natively on every core: each thread draws whole chunks with its own sampler from
/// `make`, waves of chunks are merged in chunk order, and each chunk has its own stream, so the
/// answer equals [`run_monte_carlo`] with one sampler for any number of threads. Progress and
/// cancellation are checked between waves (a few milliseconds each).
pub fn run_monte_carlo_independent<'a>(
    make: &(dyn Fn() -> Result<Box<dyn Sampler + 'a>> + Sync),
    seed: u64,
    key: &str,
    samples: u64,
    dim: usize,
    progress: Progress,
) -> Result<McAccumulator> {
    /// Chunks each thread draws per wave.
    const PER_THREAD: u64 = 16;
    let threads = parallel::threads() as u64;
    let chunks = samples.div_ceil(MC_CHUNK);
    if threads <= 1 || chunks < 2 * threads {
        return run_monte_carlo(make()?.as_mut(), seed, key, samples, dim, progress);
    }
    let samplers = (0..threads).map(|_| make().map(std::sync::Mutex::new)).collect::<Result<Vec<_>>>()?;
    let mut acc = McAccumulator::new(dim);
    let mut c = 0;
    while c < chunks {
        let end = (c + PER_THREAD * threads).min(chunks);
        let per = (end - c).div_ceil(threads);
        let work = (end - c) * MC_CHUNK * dim as u64;
        let parts = parallel::map_chunks(threads as usize, work, |g| {
            let mut s = samplers[g].lock().unwrap_or_else(|e| e.into_inner());
            let first = c + g as u64 * per;
            (first..(first + per).min(end))
                .map(|k| mc_chunk(s.as_mut(), seed, key, k, (samples - k * MC_CHUNK).min(MC_CHUNK), dim))
                .collect::<Vec<_>>()
        });
        for part in parts.iter().flatten() {
            acc.push_chunk(part);
        }
        c = end;
        if !progress((c * MC_CHUNK).min(samples), samples) {
            return Err(Error::Cancelled);
        }
    }
    Ok(acc)
}

fn finite(what: &str, v: &[f64]) -> Result<()> {
    if v.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(Error::Numerical(format!(
            "{what} overflowed (the model's logits or loss values are too large to represent)"
        )))
    }
}

/// Compute an estimator's moments and figures for a model whose exact solution is `sol`. A
/// unit-type estimator ([`Estimator::own_objective`]) is compared on its own objective instead, which
/// the report carries (with its notes first).
pub fn moments(
    model: &Model,
    sol: &ExactSolution,
    est: &dyn Estimator,
    req: &Request,
    progress: Progress,
) -> Result<Report> {
    req.hp.validate()?;
    est.check(model)?;
    if let Some(own) = est.own_objective(model, &req.hp) {
        let own = own?;
        let mut report = moments_against(model, &own.solution, est, req, progress)?;
        let mut notes = own.notes.clone();
        if own.method == Method::MonteCarlo {
            notes.push(
                "the reference gradient is a Monte-Carlo estimate: bias² includes its own sampling error".to_string(),
            );
        }
        notes.append(&mut report.notes);
        report.notes = notes;
        report.objective = Some(own);
        return Ok(report);
    }
    moments_against(model, sol, est, req, progress)
}

/// [`moments`] against the reference gradient `sol.gradient`.
fn moments_against(
    model: &Model,
    sol: &ExactSolution,
    est: &dyn Estimator,
    req: &Request,
    progress: Progress,
) -> Result<Report> {
    let meta = est.meta();
    let plan = est.plan(model, &req.hp);
    let evals = est.loss_evaluations(model, &req.hp);
    let mut notes: Vec<String> = Vec::new();
    let use_exact = match req.method {
        MethodChoice::Exact => {
            if plan.method == Method::MonteCarlo {
                // Give the precise reason (limit or construction) from the job itself.
                est.exact_job(model, &req.hp, sol)?;
                return Err(Error::NotApplicable(Reason::MonteCarloOnly(
                    plan.note.unwrap_or_else(|| "no exact computation".into()),
                )));
            }
            true
        }
        MethodChoice::Auto => plan.method != Method::MonteCarlo,
        MethodChoice::MonteCarlo => false,
    };
    if let Some((lo, hi)) = meta.recommended_tau {
        if meta.uses_tau && (req.hp.tau < lo || req.hp.tau > hi) {
            notes.push(format!("{}'s authors recommend τ in [{lo}, {hi}]; computed at τ = {}", meta.key, req.hp.tau));
        }
    }
    if use_exact {
        let job = est.exact_job(model, &req.hp, sol)?;
        let method = job.method();
        let (mut mean, variance) = run_exact(job.as_ref(), progress)?;
        if let Some(term) = exact::exact_term(model) {
            for (m, t) in mean.iter_mut().zip(&term.gradient) {
                *m += t;
            }
        }
        finite("the exact mean", &mean)?;
        finite("the exact variance", &variance)?;
        if let Some(n) = plan.note {
            notes.push(n);
        }
        let figures = Figures::from_exact(method, &mean, &variance, &sol.gradient, evals);
        return Ok(Report {
            estimator: meta.key,
            method,
            mean,
            variance,
            stderr: None,
            samples: None,
            figures,
            notes,
            objective: None,
        });
    }
    if req.samples < 2 * MC_CHUNK || req.samples > limits::MAX_SAMPLES {
        return Err(Error::Hyper(format!(
            "samples must be in [{}, {}] for Monte Carlo, got {}",
            2 * MC_CHUNK,
            limits::MAX_SAMPLES,
            req.samples
        )));
    }
    if req.method == MethodChoice::Auto {
        if let Some(n) = plan.note {
            notes.push(n);
        }
    }
    if meta.stateful {
        notes.push(if meta.hyper.contains(&Hyper::Decay) {
            format!("running estimator (decay {}), as sampled; its draws are not independent", req.hp.decay)
        } else {
            "running estimator (learned while sampling), as sampled; its draws are not independent".to_string()
        });
    }
    let dim = model.num_params();
    // An `elbo` model's exact −H(q) gradient is added to every draw (it changes no variance).
    let offset = exact::exact_term(model).map(|t| t.gradient);
    let sampler = || -> Result<Box<dyn Sampler + '_>> {
        let inner = est.sampler(model, &req.hp, sol)?;
        Ok(match &offset {
            Some(o) => Box::new(Shifted { inner, offset: o.clone() }),
            None => inner,
        })
    };
    let acc = if meta.stateful {
        let mut sampler = sampler()?;
        run_monte_carlo(sampler.as_mut(), req.seed, meta.key, req.samples, dim, progress)?
    } else {
        run_monte_carlo_independent(&sampler, req.seed, meta.key, req.samples, dim, progress)?
    };
    let total = acc.total();
    let variance = total.variance();
    let n = total.n as f64;
    let stderr: Vec<f64> = variance.iter().map(|v| (v / n).sqrt()).collect();
    finite("the Monte-Carlo mean", &total.mean)?;
    finite("the Monte-Carlo variance", &variance)?;
    let figures = Figures::from_monte_carlo(&acc, &sol.gradient, evals);
    Ok(Report {
        estimator: meta.key,
        method: Method::MonteCarlo,
        mean: total.mean,
        variance,
        stderr: Some(stderr),
        samples: Some(total.n),
        figures,
        notes,
        objective: None,
    })
}
