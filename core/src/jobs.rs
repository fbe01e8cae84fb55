//! The units of work every estimator (and every unit type) hands to the moments engine: an exact
//! job over a fixed list of items, processed in chunks, and a Monte-Carlo sampler; and the plan
//! that says which an estimator will use; and how a job and a sampler are run, in chunks. Below both the estimators and the unit types, so that
//! neither imports the other to implement them.

use crate::error::{Error, Result};
use crate::parallel;
use crate::rng::Stream;
use crate::stats::{Batch, McAccumulator, Method, Weighted};
use std::ops::Range;

/// How an estimator's moments will be obtained for a model.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The best available method.
    pub method: Method,
    /// Why this method (e.g. "Monte Carlo: exact moments need a single stochastic layer"), or what
    /// the exact figure means ("idealised: baseline = exact E[f]").
    pub note: Option<String>,
}

/// A unit of exact work: items `0..total` (joint states, cells, …), processed in chunks of
/// [`EXACT_CHUNK`] and merged in chunk order.
pub trait ExactJob: Send + Sync {
    fn method(&self) -> Method;
    fn total(&self) -> u64;
    /// Dimension of the accumulator.
    fn dim(&self) -> usize;
    fn run(&self, range: Range<u64>) -> Weighted;
    /// Per-parameter `(mean, variance)` from the merged accumulator.
    fn finish(&self, acc: &Weighted) -> (Vec<f64>, Vec<f64>) {
        acc.finish()
    }
    /// Whether [`ExactJob::visit`] shows the items (the job's moments are those of a distribution
    /// over its items: joint states, ARM's cells), so that the exact distribution of an estimate
    /// follows ([`crate::distribution`]). `false` by default (moment expansions, quadrature).
    fn visits(&self) -> bool {
        false
    }
    /// Call `visit` on each item of `range` with non-zero probability, in order, with the same
    /// numbers [`ExactJob::run`] accumulates: see [`Visit`]. Does nothing unless
    /// [`ExactJob::visits`].
    fn visit(&self, _range: Range<u64>, _visit: Visit) {}
}

/// What [`ExactJob::visit`] calls per item: `(probability, estimate, conditional variance)`. The
/// estimate is a vector over the parameters; where the estimate still varies within the item (AR's
/// and ARM's uniform inside its cell) it is the conditional mean, and the conditional variance is
/// given: each parameter's estimate is then **uniform** over the item, on
/// `mean ± √(3·variance)` (it is linear in one uniform: the jobs that pass a variance guarantee
/// this). A trait object: one copy of each job's loop serves `run` and `visit`.
pub type Visit<'a> = &'a mut dyn FnMut(f64, &[f64], Option<&[f64]>);

/// Items per exact chunk. Fixed: chunking never depends on the number of workers.
pub const EXACT_CHUNK: u64 = 4096;
/// Draws per Monte-Carlo chunk (each chunk has its own random stream).
pub const MC_CHUNK: u64 = 256;

/// Draws one estimate at a time. A stateful sampler (running baseline) must see its draws in order.
pub trait Sampler: Send {
    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]);

    /// A stateful sampler's learned state (running baselines, a learned control variate, a learned
    /// predictor), flat; empty for a stateless one. Training races ([`crate::train`]) build a new
    /// sampler for each step's parameters and carry the state over with [`Sampler::set_state`].
    fn state(&self) -> Vec<f64> {
        Vec::new()
    }

    /// Restore a state from [`Sampler::state`] of a sampler of the same estimator on a model of the
    /// same shape (anything else is ignored).
    fn set_state(&mut self, _state: &[f64]) {}

    /// The last layer's state `h` of the last draw, for a sampler that draws one (the page's "one
    /// draw at a time" shows it); `None` for samplers of several samples or coupled pairs.
    fn last_output(&self) -> Option<Vec<f64>> {
        None
    }
}

/// A sampler whose every draw gets a fixed vector added: the exact part of an objective
/// ([`crate::exact::ExactTerm`], an `elbo` model's `∇(−H(q))`) on top of an estimate of the rest.
/// It adds nothing to the variance.
pub struct Shifted<'a> {
    pub inner: Box<dyn Sampler + 'a>,
    pub offset: Vec<f64>,
}

impl Sampler for Shifted<'_> {
    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]) {
        self.inner.draw(rng, out);
        for (o, t) in out.iter_mut().zip(&self.offset) {
            *o += t;
        }
    }
    fn state(&self) -> Vec<f64> {
        self.inner.state()
    }
    fn set_state(&mut self, state: &[f64]) {
        self.inner.set_state(state)
    }
    fn last_output(&self) -> Option<Vec<f64>> {
        self.inner.last_output()
    }
}

/// Progress callback: `(done, total)`; return `false` to cancel.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64) -> bool;

/// Run an exact job over all its items, chunk by chunk (natively on every core, a few chunks per
/// thread at a time), merging the chunks in order: the same answer for any number of threads.
pub fn run_exact(job: &dyn ExactJob, progress: Progress) -> Result<(Vec<f64>, Vec<f64>)> {
    let total = job.total();
    let chunks = total.div_ceil(EXACT_CHUNK);
    let mut acc = Weighted::new(job.dim());
    let wave = 4 * parallel::threads() as u64;
    let mut c = 0;
    while c < chunks {
        let end = (c + wave).min(chunks);
        let work = (end - c) * EXACT_CHUNK * job.dim() as u64;
        let parts = parallel::map_chunks((end - c) as usize, work, |i| {
            let k = c + i as u64;
            job.run(k * EXACT_CHUNK..((k + 1) * EXACT_CHUNK).min(total))
        });
        for part in &parts {
            acc.merge(part);
        }
        c = end;
        if !progress((c * EXACT_CHUNK).min(total), total) {
            return Err(Error::Cancelled);
        }
    }
    Ok(job.finish(&acc))
}

/// Draw Monte-Carlo chunk `chunk` (draws `[chunk·MC_CHUNK, …)`, `draws ≤ MC_CHUNK` of them) with its own stream.
pub fn mc_chunk(sampler: &mut dyn Sampler, seed: u64, key: &str, chunk: u64, draws: u64, dim: usize) -> Batch {
    let mut rng = Stream::new(seed, key, chunk);
    let mut batch = Batch::new(dim);
    let mut out = vec![0.0; dim];
    for _ in 0..draws {
        sampler.draw(&mut rng, &mut out);
        batch.add(&out);
    }
    batch
}

/// Run `samples` Monte-Carlo draws in chunks.
pub fn run_monte_carlo(
    sampler: &mut dyn Sampler,
    seed: u64,
    key: &str,
    samples: u64,
    dim: usize,
    progress: Progress,
) -> Result<McAccumulator> {
    let mut acc = McAccumulator::new(dim);
    let chunks = samples.div_ceil(MC_CHUNK);
    for c in 0..chunks {
        let draws = (samples - c * MC_CHUNK).min(MC_CHUNK);
        acc.push_chunk(&mc_chunk(sampler, seed, key, c, draws, dim));
        if !progress(((c + 1) * MC_CHUNK).min(samples), samples) {
            return Err(Error::Cancelled);
        }
    }
    Ok(acc)
}
