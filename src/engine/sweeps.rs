//! The τ and width sweeps: one point at a time between Monte-Carlo frames, each exact where the
//! estimator has exact moments at that point, else from a fixed number of draws.

use super::exact::{reference, run_exact_chunked, Applicable, Setup};
use super::{finite, mc_view, tau_grid, view, Port, Stop, SWEEP_MAX_WIDTH, SWEEP_SAMPLES};
use crate::port::Control;
use crate::protocol::{JobSpec, MomentsView, Out, SweepKind, SweepPoint};
use stochgrad_core::estimators::{find, Estimator, HyperParams, MC_CHUNK};
use stochgrad_core::exact::{solve, ExactSolution};
use stochgrad_core::moments::mc_chunk;
use stochgrad_core::stats::{Figures, McAccumulator, Method};
use stochgrad_core::Model;

/// A pending sweep series.
pub(super) struct SweepTask {
    kind: SweepKind,
    key: String,
    xs: Vec<f64>,
    points: Vec<SweepPoint>,
}

/// The job's sweeps: τ for every applicable estimator that uses it, width for every one.
pub(super) fn tasks(spec: &JobSpec, applicable: &[Applicable<'_>]) -> Vec<SweepTask> {
    let mut sweeps: Vec<SweepTask> = Vec::new();
    if spec.sweeps {
        for a in applicable {
            if a.est.meta().uses_tau {
                sweeps.push(SweepTask {
                    kind: SweepKind::Tau,
                    key: a.est.meta().key.into(),
                    xs: tau_grid(),
                    points: Vec::new(),
                });
            }
        }
        for a in applicable {
            let xs = (1..=SWEEP_MAX_WIDTH).map(|w| w as f64).collect();
            sweeps.push(SweepTask { kind: SweepKind::Width, key: a.est.meta().key.into(), xs, points: Vec::new() });
        }
    }
    sweeps
}

/// Compute the next point of the first pending sweep (and send the sweep when it is complete).
pub(super) async fn step<P: Port>(
    sweeps: &mut Vec<SweepTask>,
    spec: &JobSpec,
    setup: &Setup,
    ctl: &mut Control,
    port: &mut P,
) -> Result<(), Stop> {
    let (id, model, sol, settings) = (spec.id, &setup.model, &setup.sol, &setup.settings);
    if let Some(task) = sweeps.first_mut() {
        let x = task.xs[task.points.len()];
        let est = find(&task.key).expect("key from the registry");
        let est_hp = spec.hp_for(&task.key);
        let (m, s, h);
        let (model_ref, sol_ref, hp_ref): (&Model, &ExactSolution, &HyperParams) = match task.kind {
            SweepKind::Tau => {
                h = HyperParams { tau: x, ..est_hp };
                (model, sol, &h)
            }
            SweepKind::Width => {
                let mut st = settings.clone();
                st.widths = vec![x as usize; st.widths.len()];
                m = st.to_model();
                s = solve(&m);
                match &s {
                    Ok(sol_w) => (&m, sol_w, &est_hp),
                    Err(_) => (model, sol, &est_hp),
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
            task.points.push(SweepPoint { x, method: v.method, bias_sq: v.bias_sq, variance_trace: v.variance_trace });
        } else {
            task.xs.remove(task.points.len());
        }
        if task.points.len() == task.xs.len() {
            let done = sweeps.remove(0);
            port.send(Out::Sweep { id, kind: done.kind, key: done.key, points: done.points }).await;
        }
        ctl.force_yield(port).await?;
    }
    Ok(())
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
