//! The exact phase of a job: the network's exact solution, then each estimator's exact (or
//! quadrature) moments, split across the pool's workers when large.

use super::{fail_and_wait, finite, view, Port, Stop, PROGRESS_MS};
use crate::port::Control;
use crate::protocol::{JobSpec, Out, Refusal};
use crate::split::{self, Delegation};
use stochgrad_core::estimators::{find, Estimator, ExactJob, HyperParams, EXACT_CHUNK};
use stochgrad_core::exact::{solve, ExactSolution};
use stochgrad_core::params;
use stochgrad_core::settings::Settings;
use stochgrad_core::stats::{Figures, Method, Weighted};
use stochgrad_core::{Error, Model};

/// What every phase of a job works on.
pub(super) struct Setup {
    pub settings: Settings,
    pub model: Model,
    pub sol: ExactSolution,
}

/// An estimator that applies, with its hyper-parameters and, for a unit type, the solution of its
/// own objective (the reference of its figures instead of the binary network's).
pub(super) struct Applicable<'h> {
    pub est: &'static dyn Estimator,
    pub hp: &'h HyperParams,
    pub own: Option<ExactSolution>,
}

/// Build the model, solve it exactly and send the answer (or report why not and wait).
pub(super) async fn solve_and_send<P: Port>(spec: &JobSpec, ctl: &mut Control, port: &mut P) -> Result<Setup, Stop> {
    let id = spec.id;
    if let Err(e) = spec.hp.validate() {
        return Err(fail_and_wait(ctl, port, e.to_string()).await);
    }
    let mut settings = spec.settings.clone();
    let _ = settings.sanitize();
    let model = settings.to_model();
    let t0 = port.now_ms();
    let sol = match solve(&model) {
        Ok(s) => s,
        Err(e) => return Err(fail_and_wait(ctl, port, e.to_string()).await),
    };
    if !sol.expected_loss.is_finite() || !finite(&sol.gradient) {
        let e = Error::Numerical("the exact gradient overflowed".into());
        return Err(fail_and_wait(ctl, port, e.to_string()).await);
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
    Ok(Setup { settings, model, sol })
}

/// Each selected estimator's exact (or quadrature) moments, or why there are none; returns the
/// estimators that apply (for the Monte-Carlo phase). `hps[i]` are estimator `i`'s parameters.
pub(super) async fn estimators_phase<'h, P: Port>(
    spec: &JobSpec,
    setup: &Setup,
    hps: &'h [HyperParams],
    ctl: &mut Control,
    port: &mut P,
) -> Result<Vec<Applicable<'h>>, Stop> {
    let Setup { settings, model, sol } = setup;
    let (id, model, sol) = (spec.id, model, sol);
    let mut applicable = Vec::new();
    for (key, hp) in spec.estimators.iter().zip(hps) {
        let Some(est) = find(key) else { continue };
        let key = est.meta().key.to_string();
        if let Err(e) = est.check(model) {
            port.send(Out::EstimatorExact { id, key, result: Err(Refusal::from_error(e)), note: None }).await;
            continue;
        }
        let own = match reference(est, model, hp, sol) {
            Ok(r) => r,
            Err(e) => {
                port.send(Out::EstimatorExact { id, key, result: Err(e), note: None }).await;
                continue;
            }
        };
        let own_note = own.as_ref().map(|o| o.1.clone());
        let sol = own.as_ref().map_or(sol, |o| &o.0);
        applicable.push(Applicable { est, hp, own: own.as_ref().map(|o| o.0.clone()) });
        let plan = est.plan(model, hp);
        if plan.method == Method::MonteCarlo {
            let why = plan.note.clone().unwrap_or_else(|| "Monte Carlo only".into());
            port.send(Out::EstimatorExact { id, key, result: Err(Refusal::MonteCarloOnly(why)), note: own_note }).await;
            continue;
        }
        let job = match est.exact_job(model, hp, sol) {
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
        let deleg = own.is_none().then_some(Delegation { settings, key: &key, hp: *hp });
        let (mean, var) = run_exact_chunked(job.as_ref(), ctl, port, Some(&phase), deleg).await?;
        let evals = est.loss_evaluations(model, hp);
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
    Ok(applicable)
}

/// Exact job in chunks with yields. `progress` names the phase for progress messages. A large job
/// that helpers can rebuild (`deleg`) is split across the pool's workers (`split.rs`), with the same
/// result.
pub(super) async fn run_exact_chunked<P: Port>(
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

/// For a unit-type estimator, the solution of its own objective (the reference of its figures,
/// instead of the binary network's `sol`) and the note saying so; `None` for the others.
pub(super) type Own = Option<(ExactSolution, String)>;

pub(super) fn reference(
    est: &dyn Estimator,
    model: &Model,
    hp: &HyperParams,
    sol: &ExactSolution,
) -> Result<Own, Refusal> {
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
