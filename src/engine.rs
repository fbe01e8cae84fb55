//! The worker's job runner: turns a [`JobSpec`] into a stream of [`Out`] summaries using the core.
//!
//! It is written against a small [`Port`] trait (send, yield, wait) so the same code runs in the Web
//! Worker (see `reactor.rs`) and in native tests with a scripted port. Work is done in chunks; between
//! chunks the runner yields a macrotask and reads commands, so a new job cancels the stale one within
//! one chunk, and play / pause / step take effect at once.
//!
//! Order of work: the exact solution; each estimator's exact (or quadrature) moments; then Monte-Carlo
//! frames while playing, with the τ and width sweeps computed point by point in between.

use crate::port::Control;
pub use crate::port::{Port, Stop, PROGRESS_MS, SLICE_MS};
use crate::protocol::{Cmd, Fig, GatingSpec, JobSpec, MomentsView, Out, RaceSpec, Refusal, SweepKind, SweepPoint};
use crate::split::{self, Delegation};
use stochgrad_core::estimators::{find, Estimator, ExactJob, HyperParams, EXACT_CHUNK, MC_CHUNK};
use stochgrad_core::exact::{solve, ExactSolution};
use stochgrad_core::gating::{Task, Trainer};
use stochgrad_core::moments::mc_chunk;
use stochgrad_core::params;
use stochgrad_core::rng::Stream;
use stochgrad_core::stats::{Batch, Figure, Figures, McAccumulator, Method, Weighted};
use stochgrad_core::train::{Race, StepReport};
use stochgrad_core::{Error, Model};

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

/// Exact job in chunks with yields. `progress` names the phase for progress messages. A large job
/// that helpers can rebuild (`deleg`) is split across the pool's workers (`split.rs`), with the same
/// result.
async fn run_exact_chunked<P: Port>(
    job: &dyn ExactJob,
    ctl: &mut Control,
    port: &mut P,
    phase: Option<&str>,
    deleg: Option<Delegation<'_>>,
) -> Result<(Vec<f64>, Vec<f64>), Stop> {
    if let Some(d) = deleg {
        if split::worth_splitting(job, ctl.helpers) {
            return split::run_split(job, ctl, port, phase, d).await;
        }
    }
    let total = job.total();
    let mut acc = Weighted::new(job.dim());
    let mut start = 0;
    let mut last_progress = port.now_ms();
    while start < total {
        let end = (start + EXACT_CHUNK).min(total);
        acc.merge(&job.run(start..end));
        start = end;
        if let Some(phase) = phase {
            if port.now_ms() - last_progress > PROGRESS_MS {
                last_progress = port.now_ms();
                port.send(Out::Progress { id: ctl.id, phase: phase.to_string(), done: start, total }).await;
            }
        }
        ctl.checkpoint(port).await?;
    }
    Ok(job.finish(&acc))
}

fn finite(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}

/// Moments of one estimator: exact where the plan allows, else `samples` Monte-Carlo draws.
/// What one sweep point computes.
struct PointSpec<'a> {
    model: &'a Model,
    sol: &'a ExactSolution,
    est: &'a dyn Estimator,
    hp: &'a HyperParams,
    seed: u64,
    samples: u64,
}

async fn point<P: Port>(
    spec: PointSpec<'_>,
    ctl: &mut Control,
    port: &mut P,
) -> Result<Result<MomentsView, String>, Stop> {
    let PointSpec { model, sol, est, hp, seed, samples } = spec;
    if let Err(e) = est.check(model) {
        return Ok(Err(e.to_string()));
    }
    // Unit types (sts, noisy-rectifier) are compared on their own objective.
    let own = match reference(est, model, hp, sol) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let sol = own.as_ref().map_or(sol, |o| &o.0);
    let evals = est.loss_evaluations(model, hp);
    let plan = est.plan(model, hp);
    if plan.method != Method::MonteCarlo {
        let job = match est.exact_job(model, hp, sol) {
            Ok(j) => j,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let (mean, var) = run_exact_chunked(job.as_ref(), ctl, port, None, None).await?;
        if !finite(&mean) || !finite(&var) {
            return Ok(Err("a figure overflowed".into()));
        }
        let figures = Figures::from_exact(job.method(), &mean, &var, &sol.gradient, evals);
        return Ok(Ok(view(&figures, mean, var, None, None, Vec::new())));
    }
    let mut sampler = match est.sampler(model, hp, sol) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let dim = model.num_params();
    let mut acc = McAccumulator::new(dim);
    for c in 0..samples.div_ceil(MC_CHUNK) {
        acc.push_chunk(&mc_chunk(sampler.as_mut(), seed, est.meta().key, c, MC_CHUNK, dim));
        ctl.checkpoint(port).await?;
    }
    Ok(mc_view(&acc, sol, evals))
}

/// For a unit-type estimator, the solution of its own objective (the reference of its figures,
/// instead of the binary network's `sol`) and the note saying so; `None` for the others.
type Own = Option<(ExactSolution, String)>;

fn reference(est: &dyn Estimator, model: &Model, hp: &HyperParams, sol: &ExactSolution) -> Result<Own, Refusal> {
    match est.own_objective(model, hp) {
        None => Ok(None),
        Some(Err(e)) => Err(Refusal::from_error(e)),
        Some(Ok(o)) if o.solution.gradient.len() == sol.gradient.len() && finite(&o.solution.gradient) => {
            let note = o.notes.join("; ");
            Ok(Some((o.solution, note)))
        }
        Some(Ok(_)) => Err(Refusal::Failed("the estimator's own objective overflowed".into())),
    }
}

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

/// A pending sweep series.
struct SweepTask {
    kind: SweepKind,
    key: String,
    xs: Vec<f64>,
    points: Vec<SweepPoint>,
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

async fn fail_and_wait<P: Port>(ctl: &mut Control, port: &mut P, message: String) -> Result<(), Stop> {
    port.send(Out::Failed { id: ctl.id, message }).await;
    loop {
        match port.wait().await {
            None => return Err(Stop::Closed),
            Some(cmd) => ctl.apply(cmd, port).await?,
        }
    }
}

async fn run_job_inner<P: Port>(spec: &JobSpec, ctl: &mut Control, port: &mut P) -> Result<(), Stop> {
    let id = spec.id;
    if let Err(e) = spec.hp.validate() {
        return fail_and_wait(ctl, port, e.to_string()).await;
    }
    let mut settings = spec.settings.clone();
    let _ = settings.sanitize();
    let model = settings.to_model();
    let t0 = port.now_ms();
    let sol = match solve(&model) {
        Ok(s) => s,
        Err(e) => return fail_and_wait(ctl, port, e.to_string()).await,
    };
    if !sol.expected_loss.is_finite() || !finite(&sol.gradient) {
        return fail_and_wait(ctl, port, Error::Numerical("the exact gradient overflowed".into()).to_string()).await;
    }
    let names = (0..model.num_params()).map(|i| params::name(&model, i)).collect();
    port.send(Out::Exact {
        id,
        expected_loss: sol.expected_loss,
        gradient: sol.gradient.clone(),
        param_names: names,
        millis: port.now_ms() - t0,
    })
    .await;
    ctl.force_yield(port).await?;

    // Exact (or quadrature) moments of each estimator, each with its own hyper-parameters.
    let ests: Vec<&'static dyn Estimator> = spec.estimators.iter().filter_map(|k| find(k)).collect();
    let hps: Vec<HyperParams> = ests.iter().map(|e| spec.hp_for(e.meta().key)).collect();
    let mut applicable: Vec<(&'static dyn Estimator, &HyperParams)> = Vec::new();
    // Per applicable estimator: the solution its figures are against (its own objective's for the
    // unit types sts and noisy-rectifier, else the binary network's).
    let mut references: Vec<Option<ExactSolution>> = Vec::new();
    for (&est, hp) in ests.iter().zip(&hps) {
        let key = est.meta().key.to_string();
        if let Err(e) = est.check(&model) {
            port.send(Out::EstimatorExact { id, key, result: Err(Refusal::from_error(e)), note: None }).await;
            continue;
        }
        let own = match reference(est, &model, hp, &sol) {
            Ok(r) => r,
            Err(e) => {
                port.send(Out::EstimatorExact { id, key, result: Err(e), note: None }).await;
                continue;
            }
        };
        let own_note = own.as_ref().map(|o| o.1.clone());
        let sol = own.as_ref().map_or(&sol, |o| &o.0);
        applicable.push((est, hp));
        references.push(own.as_ref().map(|o| o.0.clone()));
        let plan = est.plan(&model, hp);
        if plan.method == Method::MonteCarlo {
            let why = plan.note.clone().unwrap_or_else(|| "Monte Carlo only".into());
            port.send(Out::EstimatorExact { id, key, result: Err(Refusal::MonteCarloOnly(why)), note: own_note }).await;
            continue;
        }
        let job = match est.exact_job(&model, hp, sol) {
            Ok(j) => j,
            Err(e) => {
                let why = Refusal::MonteCarloOnly(e.to_string());
                port.send(Out::EstimatorExact { id, key, result: Err(why), note: None }).await;
                continue;
            }
        };
        let phase = format!("exact moments of {key}");
        // Split across the pool's workers when large (not for unit types: helpers rebuild the
        // binary network's solution only).
        let deleg = own.is_none().then_some(Delegation { settings: &settings, key: &key, hp: *hp });
        let (mean, var) = run_exact_chunked(job.as_ref(), ctl, port, Some(&phase), deleg).await?;
        let evals = est.loss_evaluations(&model, hp);
        let result = if finite(&mean) && finite(&var) {
            let figures = Figures::from_exact(job.method(), &mean, &var, &sol.gradient, evals);
            let mut v = view(&figures, mean, var, None, None, own_note.iter().chain(&plan.note).cloned().collect());
            v.reference = own.as_ref().map(|o| o.0.gradient.clone());
            Ok(v)
        } else {
            Err(Refusal::Failed("a figure overflowed".to_string()))
        };
        let note = own_note.or(plan.note.clone());
        port.send(Out::EstimatorExact { id, key, result, note }).await;
        ctl.checkpoint(port).await?;
    }

    // Monte-Carlo state per applicable estimator.
    let dim = model.num_params();
    struct Mc<'a> {
        key: &'static str,
        sampler: Box<dyn stochgrad_core::estimators::Sampler + 'a>,
        acc: McAccumulator,
        next_chunk: u64,
        /// The chunk being drawn, when a frame ended inside it (one draw at a time, the first
        /// frames' few draws): its stream and its draws so far. Drawing goes on from there, so
        /// the sequence of draws, and every full chunk, is the one whole-chunk frames draw.
        open: Option<(Stream, Batch)>,
        /// The last draw's estimate.
        last: Vec<f64>,
        evals: f64,
        reference: &'a ExactSolution,
        /// The reference is the estimator's own objective (a unit type).
        own: bool,
    }
    let mut mcs: Vec<Mc> = Vec::new();
    for (&(est, hp), own) in applicable.iter().zip(&references) {
        let reference = own.as_ref().unwrap_or(&sol);
        if let Ok(sampler) = est.sampler(&model, hp, reference) {
            mcs.push(Mc {
                key: est.meta().key,
                sampler,
                acc: McAccumulator::new(dim),
                next_chunk: 0,
                open: None,
                last: vec![0.0; dim],
                evals: est.loss_evaluations(&model, hp),
                reference,
                own: own.is_some(),
            });
        }
    }

    // Sweeps.
    let mut sweeps: Vec<SweepTask> = Vec::new();
    if spec.sweeps {
        for &(est, _) in &applicable {
            if est.meta().uses_tau {
                sweeps.push(SweepTask {
                    kind: SweepKind::Tau,
                    key: est.meta().key.into(),
                    xs: tau_grid(),
                    points: Vec::new(),
                });
            }
        }
        for &(est, _) in &applicable {
            let xs = (1..=SWEEP_MAX_WIDTH).map(|w| w as f64).collect();
            sweeps.push(SweepTask { kind: SweepKind::Width, key: est.meta().key.into(), xs, points: Vec::new() });
        }
    }

    let full_frame = spec.samples_per_frame.max(1).div_ceil(MC_CHUNK) * MC_CHUNK;
    let mut frames = 0u32;
    loop {
        let frame_start = port.now_ms();
        let drawing = (ctl.playing || ctl.step) && !mcs.is_empty();
        if drawing {
            // One draw at a time; otherwise the first frames start from one draw and double, so
            // that the noisy beginning is seen, up to the frame size.
            let mut draws = if spec.single { 1 } else { full_frame.min(1u64 << frames.min(40)) };
            frames = frames.saturating_add(1);
            // Auto-pause at exactly the limit.
            let drawn =
                mcs.iter().map(|m| m.acc.samples() + m.open.as_ref().map_or(0, |(_, b)| b.n)).min().unwrap_or(0);
            if spec.max_samples > 0 {
                draws = draws.min(spec.max_samples.saturating_sub(drawn)).max(1);
            }
            let mut views = Vec::with_capacity(mcs.len());
            for mc in mcs.iter_mut() {
                let mut left = draws;
                while left > 0 {
                    if mc.open.is_none() && left >= MC_CHUNK {
                        let batch =
                            mc_chunk(mc.sampler.as_mut(), spec.sampling_seed, mc.key, mc.next_chunk, MC_CHUNK, dim);
                        mc.acc.push_chunk(&batch);
                        mc.next_chunk += 1;
                        left -= MC_CHUNK;
                    } else {
                        let (seed, key, chunk) = (spec.sampling_seed, mc.key, mc.next_chunk);
                        let (rng, batch) =
                            mc.open.get_or_insert_with(|| (Stream::new(seed, key, chunk), Batch::new(dim)));
                        let take = left.min(MC_CHUNK - batch.n);
                        for _ in 0..take {
                            mc.sampler.draw(rng, &mut mc.last);
                            batch.add(&mc.last);
                        }
                        left -= take;
                        if batch.n == MC_CHUNK {
                            if let Some((_, full)) = mc.open.take() {
                                mc.acc.push_chunk(&full);
                            }
                            mc.next_chunk += 1;
                        }
                    }
                    ctl.checkpoint(port).await?;
                }
                // The summary includes the open chunk's draws (a copy, for the view only).
                let shown = match &mc.open {
                    Some((_, partial)) if partial.n > 0 => {
                        let mut acc = mc.acc.clone();
                        acc.push_chunk(partial);
                        std::borrow::Cow::Owned(acc)
                    }
                    _ => std::borrow::Cow::Borrowed(&mc.acc),
                };
                match mc_view(&shown, mc.reference, mc.evals) {
                    Ok(mut view) => {
                        view.reference = mc.own.then(|| mc.reference.gradient.clone());
                        views.push((mc.key.to_string(), view))
                    }
                    Err(e) => port.send(Out::Failed { id, message: format!("{}: {e}", mc.key) }).await,
                }
            }
            port.send(Out::Frame { id, views }).await;
            if spec.single {
                let draws = mcs.iter().map(|m| (m.key.to_string(), m.last.clone(), m.sampler.last_output())).collect();
                port.send(Out::Draws { id, draws }).await;
            }
            let samples =
                mcs.iter().map(|m| m.acc.samples() + m.open.as_ref().map_or(0, |(_, b)| b.n)).min().unwrap_or(0);
            if ctl.step {
                ctl.step = false;
                port.send(Out::Paused { id, samples, reason: "step".into() }).await;
            } else if spec.max_samples > 0 && samples >= spec.max_samples {
                ctl.playing = false;
                port.send(Out::Paused { id, samples, reason: format!("reached {} samples", spec.max_samples) }).await;
            }
        }
        // One sweep point between frames.
        if let Some(task) = sweeps.first_mut() {
            let x = task.xs[task.points.len()];
            let est = find(&task.key).expect("key from the registry");
            let est_hp = spec.hp_for(&task.key);
            let (m, s, h);
            let (model_ref, sol_ref, hp_ref): (&Model, &ExactSolution, &HyperParams) = match task.kind {
                SweepKind::Tau => {
                    h = HyperParams { tau: x, ..est_hp };
                    (&model, &sol, &h)
                }
                SweepKind::Width => {
                    let mut st = settings.clone();
                    st.widths = vec![x as usize; st.widths.len()];
                    m = st.to_model();
                    s = solve(&m);
                    match &s {
                        Ok(sol_w) => (&m, sol_w, &est_hp),
                        Err(_) => (&model, &sol, &est_hp),
                    }
                }
            };
            let ps = PointSpec {
                model: model_ref,
                sol: sol_ref,
                est,
                hp: hp_ref,
                seed: spec.sampling_seed,
                samples: SWEEP_SAMPLES,
            };
            let r = point(ps, ctl, port).await?;
            if let Ok(v) = r {
                task.points.push(SweepPoint {
                    x,
                    method: v.method,
                    bias_sq: v.bias_sq,
                    variance_trace: v.variance_trace,
                });
            } else {
                task.xs.remove(task.points.len());
            }
            if task.points.len() == task.xs.len() {
                let done = sweeps.remove(0);
                port.send(Out::Sweep { id, kind: done.kind, key: done.key, points: done.points }).await;
            }
            ctl.force_yield(port).await?;
        }
        if ctl.playing && !mcs.is_empty() {
            // Pace the frames.
            let rest = FRAME_MS - (port.now_ms() - frame_start);
            if rest > 0.0 && sweeps.is_empty() {
                match port.idle(rest).await {
                    None => {}
                    Some(None) => return Err(Stop::Closed),
                    Some(Some(cmd)) => ctl.apply(cmd, port).await?,
                }
                ctl.last_yield = port.now_ms();
            }
        } else if sweeps.is_empty() && !ctl.step {
            port.send(Out::Idle { id }).await;
            match port.wait().await {
                None => return Err(Stop::Closed),
                Some(cmd) => ctl.apply(cmd, port).await?,
            }
            ctl.last_yield = port.now_ms();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Training races and the gating miniature (each in its own worker, see `side.rs`).

/// A race of any budget is drawn in about this many frames (10 a second) when the computation
/// keeps up: long enough to watch, short enough to wait for.
pub const RACE_FRAMES: u64 = 40;
/// A race computes the exact `E[f]` after every step; it refuses networks whose layer chain has more
/// than `2^RACE_CHAIN_LOG2` state pairs per step (a step would block its worker for too long).
pub const RACE_CHAIN_LOG2: usize = 16;
/// Gating: training steps between two yields.
pub const GATING_CHUNK: u64 = 25;

/// Why a network is too large to race on the page, if it is.
pub fn race_too_large(model: &Model) -> Option<String> {
    let worst = stochgrad_core::limits::chain_log2(model);
    (worst > RACE_CHAIN_LOG2).then(|| {
        format!(
            "a race computes the exact E[f] after every step, and this network's layer chain has 2^{worst} states per step; the page races networks up to 2^{RACE_CHAIN_LOG2} (e.g. two layers of 8) — make the layers narrower, or use `stochgrad train`"
        )
    })
}

/// Run one race until it is replaced, cancelled or the page goes away.
pub async fn run_race<P: Port>(spec: RaceSpec, port: &mut P) -> Stop {
    let mut ctl = Control::new(spec.id, spec.playing, 0, port);
    match run_race_inner(&spec, &mut ctl, port).await {
        Ok(()) => Stop::Cancelled,
        Err(stop) => stop,
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

async fn run_race_inner<P: Port>(spec: &RaceSpec, ctl: &mut Control, port: &mut P) -> Result<(), Stop> {
    let id = spec.id;
    let mut settings = spec.settings.clone();
    let _ = settings.sanitize();
    let model = settings.to_model();
    if let Some(why) = race_too_large(&model) {
        port.send(Out::RaceFailed { id, key: None, message: why }).await;
        loop {
            wait_apply(ctl, port).await?;
        }
    }
    let mut races: Vec<(String, Race)> = Vec::new();
    let mut rows = Vec::new();
    for key in &spec.estimators {
        let Some(est) = find(key) else { continue };
        let started = Race::new(model.clone(), est, spec.hp_for(key), spec.optimizer, spec.lr, spec.seed)
            .and_then(|mut race| race.evaluate().map(|report| (race, report)));
        match started {
            Ok((race, report)) => {
                rows.push((key.clone(), Ok(report)));
                races.push((key.clone(), race));
            }
            Err(e) => rows.push((key.clone(), Err(e.to_string()))),
        }
        ctl.checkpoint(port).await?;
    }
    port.send(Out::RaceStart { id, rows }).await;
    let per_frame = spec.steps.div_ceil(RACE_FRAMES).max(1);
    let mut stopped = vec![false; races.len()];
    loop {
        let running = races.iter().zip(&stopped).any(|((_, r), s)| !s && r.steps() < spec.steps);
        if !running {
            if ctl.playing || ctl.step {
                ctl.playing = false;
                ctl.step = false;
                port.send(Out::RacePaused { id, reason: format!("reached {} steps", spec.steps) }).await;
            }
            wait_apply(ctl, port).await?;
            continue;
        }
        if !(ctl.playing || ctl.step) {
            wait_apply(ctl, port).await?;
            continue;
        }
        let frame_start = port.now_ms();
        let rounds = if ctl.step { 1 } else { per_frame };
        let mut reports: Vec<Vec<StepReport>> = vec![Vec::new(); races.len()];
        for _ in 0..rounds {
            for (i, (key, race)) in races.iter_mut().enumerate() {
                if stopped[i] || race.steps() >= spec.steps {
                    continue;
                }
                match race.step() {
                    Ok(r) => reports[i].push(r),
                    Err(e) => {
                        stopped[i] = true;
                        port.send(Out::RaceFailed { id, key: Some(key.clone()), message: e.to_string() }).await;
                    }
                }
            }
            ctl.checkpoint(port).await?;
            if !(ctl.playing || ctl.step) || port.now_ms() - frame_start > FRAME_MS {
                break;
            }
        }
        let reports: Vec<(String, Vec<StepReport>)> =
            races.iter().map(|(k, _)| k.clone()).zip(reports).filter(|(_, r)| !r.is_empty()).collect();
        if !reports.is_empty() {
            port.send(Out::RaceFrame { id, reports }).await;
        }
        if ctl.step {
            ctl.step = false;
            port.send(Out::RacePaused { id, reason: "step".into() }).await;
        } else if ctl.playing {
            // Pace the frames.
            let rest = FRAME_MS - (port.now_ms() - frame_start);
            if rest > 0.0 {
                match port.idle(rest).await {
                    None => {}
                    Some(None) => return Err(Stop::Closed),
                    Some(Some(cmd)) => ctl.apply(cmd, port).await?,
                }
                ctl.last_yield = port.now_ms();
            }
        }
    }
}

/// Train and evaluate every gate type of a gating run, with progress; then wait.
pub async fn run_gating<P: Port>(spec: GatingSpec, port: &mut P) -> Stop {
    let mut ctl = Control::new(spec.id, true, 0, port);
    let result = run_gating_inner(&spec, &mut ctl, port).await;
    let result = match result {
        Ok(()) => loop {
            if let Err(stop) = wait_apply(&mut ctl, port).await {
                break stop;
            }
        },
        Err(stop) => stop,
    };
    result
}

async fn run_gating_inner<P: Port>(spec: &GatingSpec, ctl: &mut Control, port: &mut P) -> Result<(), Stop> {
    let id = spec.id;
    let fail = |message: String| Out::GatingFailed { id, message };
    let task = match spec.config.validate().and_then(|()| Task::new(&spec.config)) {
        Ok(t) => t,
        Err(e) => {
            port.send(fail(e.to_string())).await;
            return Ok(());
        }
    };
    let steps = spec.config.steps;
    let total = steps * spec.gates.len() as u64;
    let mut last_progress = f64::NEG_INFINITY;
    for (g, gate) in spec.gates.iter().enumerate() {
        let mut trainer = match Trainer::new(&task, gate) {
            Ok(t) => t,
            Err(e) => {
                port.send(fail(format!("{gate}: {e}"))).await;
                return Ok(());
            }
        };
        while trainer.steps() < steps {
            // At each gate type's start, then at most every PROGRESS_MS.
            if trainer.steps() == 0 || port.now_ms() - last_progress > PROGRESS_MS {
                last_progress = port.now_ms();
                let done = g as u64 * steps + trainer.steps();
                port.send(Out::GatingProgress { id, gate: gate.clone(), done, total }).await;
            }
            if let Err(e) = trainer.train(&task, GATING_CHUNK.min(steps - trainer.steps())) {
                port.send(fail(format!("{gate}: {e}"))).await;
                return Ok(());
            }
            ctl.checkpoint(port).await?;
        }
        let row = trainer.evaluate(&task);
        let all = [row.test_loss, row.test_error, row.deterministic_error, row.train_loss, row.gate_rate];
        if all.iter().any(|v| !v.is_finite()) {
            port.send(fail(format!("{gate}: a held-out figure overflowed"))).await;
            return Ok(());
        }
        port.send(Out::GatingRow { id, row: Box::new(row) }).await;
        ctl.force_yield(port).await?;
    }
    port.send(Out::GatingDone { id }).await;
    Ok(())
}
