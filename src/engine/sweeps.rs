//! The τ, width and firing-probability sweeps: one point at a time between Monte-Carlo frames, each
//! exact where the estimator has exact moments at that point, else from a fixed number of draws.
//! The firing-probability (logit) sweep sets the swept unit's bias to each point of
//! `stochgrad_core::sweep`'s grid; its optimum is sent first, and after an estimator's last point
//! its stationary points, found one bisection step at a time on the exact mean.

use super::exact::{reference, run_exact_chunked, Applicable, Setup};
use super::{finite, mc_view, tau_grid, view, Port, Stop, SWEEP_MAX_WIDTH, SWEEP_SAMPLES};
use crate::port::Control;
use crate::protocol::{JobSpec, LogitMark, MomentsView, Out, SweepKind, SweepPoint};
use stochgrad_core::estimators::{find, Estimator, HyperParams, MC_CHUNK};
use stochgrad_core::exact::{solve, ExactSolution};
use stochgrad_core::moments::mc_chunk;
use stochgrad_core::stats::{Figures, McAccumulator, Method};
use stochgrad_core::sweep::{self as logit, Bisection, Bracket, Unit};
use stochgrad_core::Model;

use stochgrad_core::sweep::MAX_UNITS as LOGIT_MAX_UNITS;

/// What a logit sweep series keeps besides its points.
#[derive(Default)]
struct LogitState {
    unit: Unit,
    /// The estimator's mean along the swept bias and the exact slope, per point.
    means: Vec<f64>,
    slopes: Vec<f64>,
    /// Some point's figures are Monte Carlo.
    mc: bool,
    /// The crossings found, and the brackets still to bisect (with their direction).
    found: Vec<(f64, bool)>,
    pending: Vec<(Bisection, bool)>,
    /// The brackets were set up (the points are complete).
    searching: bool,
}

/// A pending sweep series.
pub(super) struct SweepTask {
    kind: SweepKind,
    key: String,
    xs: Vec<f64>,
    points: Vec<SweepPoint>,
    logit: Option<LogitState>,
}

/// The job's sweeps: τ for every applicable estimator that uses it, the firing probability (for
/// networks of at most [`LOGIT_MAX_UNITS`] units; not for the unit types, which have their own
/// objective) and width for every one. The logit sweep's first task (empty key) is its optimum.
pub(super) fn tasks(spec: &JobSpec, setup: &Setup, applicable: &[Applicable<'_>]) -> Vec<SweepTask> {
    let mut sweeps: Vec<SweepTask> = Vec::new();
    if spec.sweeps {
        for a in applicable {
            if a.est.meta().uses_tau {
                sweeps.push(SweepTask {
                    kind: SweepKind::Tau,
                    key: a.est.meta().key.into(),
                    xs: tau_grid(),
                    points: Vec::new(),
                    logit: None,
                });
            }
        }
        if setup.model.units() <= LOGIT_MAX_UNITS {
            let unit = Unit::default_for(&setup.model);
            let xs = logit::grid(logit::RANGE.0, logit::RANGE.1, logit::POINTS);
            let state = || Some(LogitState { unit, ..LogitState::default() });
            sweeps.push(SweepTask {
                kind: SweepKind::Logit,
                key: String::new(),
                xs: xs.clone(),
                points: Vec::new(),
                logit: state(),
            });
            for a in applicable.iter().filter(|a| a.own.is_none()) {
                let key = a.est.meta().key.into();
                sweeps.push(SweepTask {
                    kind: SweepKind::Logit,
                    key,
                    xs: xs.clone(),
                    points: Vec::new(),
                    logit: state(),
                });
            }
        }
        // The widths the page offers (for categorical units fewer: K^n states at most 4096).
        let max_width = setup.settings.width_bounds().1.min(SWEEP_MAX_WIDTH);
        for a in applicable {
            let xs = (1..=max_width).map(|w| w as f64).collect();
            sweeps.push(SweepTask {
                kind: SweepKind::Width,
                key: a.est.meta().key.into(),
                xs,
                points: Vec::new(),
                logit: None,
            });
        }
    }
    sweeps
}

/// The logit sweep's optimum: the exact `E[f]` and slope at every grid point, bisection on the
/// slope (each a small exact solution: the network has at most [`LOGIT_MAX_UNITS`] units).
fn optimum_mark(model: &Model, unit: Unit, xs: &[f64]) -> Option<LogitMark> {
    let o = logit::model_optimum(model, unit, xs).ok()?;
    let name = stochgrad_core::params::Slot { layer: unit.layer, unit: unit.unit, from: None }.name();
    Some(LogitMark::Optimum {
        unit: name,
        current: unit.bias(model),
        logit: unit.is_logit(model),
        x: o.x,
        expected_loss: o.expected_loss,
        at_edge: o.at_edge,
    })
}

/// One step of a logit series whose points are complete: set up the brackets, or one bisection
/// step on the exact mean, or (when nothing is left) the stationary points' mark.
async fn search_step<P: Port>(
    task: &mut SweepTask,
    spec: &JobSpec,
    setup: &Setup,
    ctl: &mut Control,
    port: &mut P,
) -> Result<Option<LogitMark>, Stop> {
    let est = find(&task.key).expect("key from the registry");
    let xs: Vec<f64> = task.points.iter().map(|p| p.x).collect();
    let st = task.logit.as_mut().expect("a logit task");
    let unit = st.unit;
    if !st.searching {
        st.searching = true;
        let unbiased = est.meta().unbiased;
        if st.mc && !unbiased {
            st.found = logit::interpolated_roots(&xs, &st.means).into_iter().map(|c| (c.x, c.rising)).collect();
        } else {
            // An unbiased estimator's stationary points are the exact gradient's.
            let ys = if unbiased { &st.slopes } else { &st.means };
            for bracket in logit::brackets(&xs, ys) {
                match bracket {
                    Bracket::At(c) => st.found.push((c.x, c.rising)),
                    Bracket::Between(b, rising) => st.pending.push((b, rising)),
                }
            }
        }
        return Ok(None);
    }
    if let Some((b, rising)) = st.pending.first_mut() {
        match b.next() {
            Some(x) => {
                let v = if est.meta().unbiased {
                    logit::exact_at(&setup.model, unit, x).map(|r| r.1).ok()
                } else {
                    let m = logit::with_bias(&setup.model, unit, x);
                    match solve(&m) {
                        Ok(sol) => {
                            let hp = spec.hp_for(&task.key);
                            let ps = PointSpec {
                                model: &m,
                                sol: &sol,
                                est,
                                hp: &hp,
                                seed: spec.sampling_seed,
                                samples: SWEEP_SAMPLES,
                            };
                            point(ps, ctl, port).await?.ok().map(|v| v.mean[unit.param_index(&m)])
                        }
                        Err(_) => None,
                    }
                };
                match v {
                    Some(v) if v.is_finite() => b.update(x, v),
                    // A failed evaluation ends this bracket at its middle.
                    _ => {
                        let r = (b.root(), *rising);
                        st.pending.remove(0);
                        st.found.push(r);
                    }
                }
            }
            None => {
                let r = (b.root(), *rising);
                st.pending.remove(0);
                st.found.push(r);
            }
        }
        return Ok(None);
    }
    st.found.sort_by(|a, b| a.0.total_cmp(&b.0));
    let method = if st.mc && !est.meta().unbiased { "monte-carlo" } else { "exact" };
    Ok(Some(LogitMark::Stationary { key: task.key.clone(), crossings: st.found.clone(), method: method.into() }))
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
        if task.kind == SweepKind::Logit && (task.key.is_empty() || task.points.len() == task.xs.len()) {
            let mark = if task.key.is_empty() {
                let unit = task.logit.as_ref().map_or_else(|| Unit::default_for(model), |l| l.unit);
                Some(optimum_mark(model, unit, &task.xs))
            } else {
                search_step(task, spec, setup, ctl, port).await?.map(Some)
            };
            if let Some(mark) = mark {
                sweeps.remove(0);
                if let Some(mark) = mark {
                    port.send(Out::LogitMark { id, mark }).await;
                }
            }
            ctl.force_yield(port).await?;
            return Ok(());
        }
        let x = task.xs[task.points.len()];
        let est = find(&task.key).expect("key from the registry");
        let est_hp = spec.hp_for(&task.key);
        let (m, s, h);
        let mut unsolved = false;
        let mut slope: Option<f64> = None;
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
                    // Dropped below (never the current network's figures under another width).
                    Err(_) => {
                        unsolved = true;
                        (model, sol, &est_hp)
                    }
                }
            }
            SweepKind::Logit => {
                let unit = task.logit.as_ref().map_or_else(|| Unit::default_for(model), |l| l.unit);
                m = logit::with_bias(model, unit, x);
                s = solve(&m);
                match &s {
                    Ok(sol_x) => {
                        slope = Some(sol_x.gradient[unit.param_index(&m)]);
                        (&m, sol_x, &est_hp)
                    }
                    // A point whose model cannot be solved is dropped (as a refused point is).
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
        let r = if (task.kind == SweepKind::Logit && slope.is_none()) || unsolved {
            Err(String::new())
        } else {
            point(ps, ctl, port).await?
        };
        if let Ok(v) = r {
            if let (Some(st), Some(slope)) = (task.logit.as_mut(), slope) {
                st.means.push(v.mean[st.unit.param_index(model_ref)]);
                st.slopes.push(slope);
                st.mc |= v.method == "monte-carlo";
            }
            task.points.push(SweepPoint { x, method: v.method, bias_sq: v.bias_sq, variance_trace: v.variance_trace });
        } else {
            task.xs.remove(task.points.len());
        }
        if task.points.len() == task.xs.len() {
            if task.kind == SweepKind::Logit {
                // The series now; its stationary points after their search (the next steps).
                let points = task.points.clone();
                port.send(Out::Sweep { id, kind: task.kind, key: task.key.clone(), points }).await;
            } else {
                let done = sweeps.remove(0);
                port.send(Out::Sweep { id, kind: done.kind, key: done.key, points: done.points }).await;
            }
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
