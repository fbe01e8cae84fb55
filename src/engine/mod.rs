//! The worker's job runner: turns a [`JobSpec`] into a stream of [`Out`] summaries using the core.
//! One file per phase: `exact.rs` (the exact solution and each estimator's exact moments),
//! `monte_carlo.rs` (the frames), `sweeps.rs` (the τ and width sweeps between frames); the
//! training race (`race.rs`), the gating miniature (`gating.rs`) and the Digits experiment
//! (`digits.rs`) run in workers of their own.
//!
//! It is written against a small [`Port`] trait (send, yield, wait) so the same code runs in the Web
//! Worker (see `reactor.rs`) and in native tests with a scripted port. Work is done in chunks; between
//! chunks the runner yields a macrotask and reads commands, so a new job cancels the stale one within
//! one chunk, and play / pause / step take effect at once.
//!
//! Order of work: the exact solution; each estimator's exact (or quadrature) moments; then Monte-Carlo
//! frames while playing, with the τ and width sweeps computed point by point in between.

mod digits;
mod distribution;
mod exact;
mod field;
mod gating;
mod monte_carlo;
mod race;
mod sweeps;

use crate::port::Control;
pub use crate::port::{Port, Stop, PROGRESS_MS, SLICE_MS};
use crate::protocol::{Cmd, Fig, JobSpec, MomentsView, Out};
use crate::split;
pub use digits::{
    bar_images, bar_steps, digits_trainer, grey, is_checkpoint, run_digits, shown_images, DIGITS_BAR_CHECKPOINTS,
    DIGITS_BAR_SAMPLES, DIGITS_CHECKPOINTS, DIGITS_MAX_LATENTS, DIGITS_SHOWN,
};
pub use distribution::{run_distribution, DIST_SAMPLES};
pub use field::{field_of, run_field};
pub use gating::{run_gating, GATING_CHUNK};
pub use race::{race_too_large, run_race, RACE_CHAIN_LOG2, RACE_FRAMES};
use stochgrad_core::estimators::{HyperParams, MC_CHUNK};
use stochgrad_core::exact::ExactSolution;
use stochgrad_core::stats::{Figure, Figures, McAccumulator};

/// Frames per second while playing (each frame draws `samples_per_frame` per estimator).
pub const FRAME_MS: f64 = 100.0;
/// Draws per Monte-Carlo sweep point (where no exact figure exists).
pub const SWEEP_SAMPLES: u64 = 8 * MC_CHUNK;
/// The τ grid of the temperature sweep.
pub fn tau_grid() -> Vec<f64> {
    let n = 17;
    (0..n).map(|i| 0.05 * (200f64).powf(i as f64 / (n - 1) as f64)).collect()
}
/// Largest width of the width sweep.
pub const SWEEP_MAX_WIDTH: usize = 12;

/// Serve commands until the page goes away.
pub async fn serve<P: Port>(port: &mut P) {
    let mut next: Option<Cmd> = None;
    // Helper workers the page's pool has besides this one; and, when this worker is a helper,
    // what it keeps between tasks.
    let mut helpers = 0u32;
    let mut helper = split::Helper::default();
    loop {
        let cmd = match next.take() {
            Some(c) => c,
            None => match port.wait().await {
                Some(c) => c,
                None => return,
            },
        };
        match cmd {
            Cmd::Start(spec) => match run_job_with(*spec, port, &mut helpers).await {
                Stop::Next(c) => next = Some(c),
                Stop::Closed => return,
                Stop::Cancelled => {}
            },
            Cmd::Race(spec) => match run_race(*spec, port).await {
                Stop::Next(c) => next = Some(c),
                Stop::Closed => return,
                Stop::Cancelled => {}
            },
            Cmd::Gating(spec) => match run_gating(*spec, port).await {
                Stop::Next(c) => next = Some(c),
                Stop::Closed => return,
                Stop::Cancelled => {}
            },
            Cmd::Distribution(spec) => match run_distribution(*spec, port).await {
                Stop::Next(c) => next = Some(c),
                Stop::Closed => return,
                Stop::Cancelled => {}
            },
            Cmd::Field(spec) => match run_field(*spec, port).await {
                Stop::Next(c) => next = Some(c),
                Stop::Closed => return,
                Stop::Cancelled => {}
            },
            Cmd::Digits(spec) => match run_digits(*spec, port).await {
                Stop::Next(c) => next = Some(c),
                Stop::Closed => return,
                Stop::Cancelled => {}
            },
            Cmd::Ping(x) => port.send(Out::Pong(x)).await,
            Cmd::Helpers(n) => helpers = n,
            Cmd::Chunk(task) => {
                port.send(Out::ChunkDone(Box::new(helper.compute(&task)))).await;
                // Yield so the answer is posted now, not after the queued tasks.
                match port.yield_now().await {
                    Some(Some(c)) => next = Some(c),
                    Some(None) => return,
                    None => {}
                }
            }
            // Play/pause/step of a job that is no longer running: nothing to do.
            _ => {}
        }
    }
}

fn fig(f: Figure) -> Fig {
    Fig { value: f.value, stderr: f.stderr }
}

/// Convert core figures and moments to the message form.
pub fn view(
    figures: &Figures,
    mean: Vec<f64>,
    variance: Vec<f64>,
    stderr: Option<Vec<f64>>,
    samples: Option<u64>,
    notes: Vec<String>,
) -> MomentsView {
    MomentsView {
        method: figures.method.key().to_string(),
        mean,
        variance,
        stderr,
        samples,
        bias_sq: fig(figures.bias_sq_norm),
        variance_trace: fig(figures.variance_trace),
        mse: fig(figures.mse),
        cosine: figures.cosine.map(fig),
        loss_evaluations: figures.loss_evaluations,
        variance_x_evals: fig(figures.variance_x_evals),
        notes,
        reference: None,
    }
}

/// The Monte-Carlo figures of an accumulator against the exact solution, or why they cannot be shown.
fn mc_view(acc: &McAccumulator, sol: &ExactSolution, evals: f64) -> Result<MomentsView, String> {
    let total = acc.total();
    let var = total.variance();
    let n = total.n.max(1) as f64;
    let se: Vec<f64> = var.iter().map(|v| (v / n).sqrt()).collect();
    if !finite(&total.mean) || !finite(&var) {
        return Err("a Monte-Carlo figure overflowed".into());
    }
    let figures = Figures::from_monte_carlo(acc, &sol.gradient, evals);
    Ok(view(&figures, total.mean, var, Some(se), Some(total.n), Vec::new()))
}

fn finite(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}

/// Run one job until it is replaced, cancelled or the page goes away.
pub async fn run_job<P: Port>(spec: JobSpec, port: &mut P) -> Stop {
    run_job_with(spec, port, &mut 0).await
}

/// [`run_job`] with `helpers` helper workers (updated if the pool reports a change meanwhile).
async fn run_job_with<P: Port>(spec: JobSpec, port: &mut P, helpers: &mut u32) -> Stop {
    let mut ctl = Control::new(spec.id, spec.playing, *helpers, port);
    let stop = match run_job_inner(&spec, &mut ctl, port).await {
        Ok(()) => Stop::Cancelled,
        Err(stop) => stop,
    };
    *helpers = ctl.helpers;
    stop
}

/// Report a failure, then take commands until the job is replaced (the returned stop).
async fn fail_and_wait<P: Port>(ctl: &mut Control, port: &mut P, message: String) -> Stop {
    port.send(Out::Failed { id: ctl.id, message }).await;
    loop {
        if let Err(stop) = wait_apply(ctl, port).await {
            return stop;
        }
    }
}

/// Wait for the next command and apply it.
async fn wait_apply<P: Port>(ctl: &mut Control, port: &mut P) -> Result<(), Stop> {
    match port.wait().await {
        None => Err(Stop::Closed),
        Some(cmd) => {
            ctl.apply(cmd, port).await?;
            ctl.last_yield = port.now_ms();
            Ok(())
        }
    }
}

/// The exact solution, each estimator's exact moments, then Monte-Carlo frames and sweep points.
async fn run_job_inner<P: Port>(spec: &JobSpec, ctl: &mut Control, port: &mut P) -> Result<(), Stop> {
    let setup = exact::solve_and_send(spec, ctl, port).await?;
    let hps: Vec<HyperParams> = spec.estimators.iter().map(|k| spec.hp_for(k)).collect();
    let applicable = exact::estimators_phase(spec, &setup, &hps, ctl, port).await?;
    monte_carlo::run(spec, &setup, &applicable, ctl, port).await
}
