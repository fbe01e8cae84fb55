//! The training race (its own worker, `side.rs`): every selected estimator trains the same network
//! from the same start, a few steps per frame, with play / pause / step and a budget.

use super::{wait_apply, Port, Stop, FRAME_MS};
use crate::port::Control;
use crate::protocol::{Out, RaceSpec};
use stochgrad_core::estimators::find;
use stochgrad_core::train::{Race, StepReport};
use stochgrad_core::Model;

/// A race of any budget is drawn in about this many frames (10 a second) when the computation
/// keeps up: long enough to watch, short enough to wait for.
pub const RACE_FRAMES: u64 = 40;
/// A race computes the exact `E[f]` after every step; it refuses networks whose layer chain has more
/// than `2^RACE_CHAIN_LOG2` state pairs per step (a step would block its worker for too long).
pub const RACE_CHAIN_LOG2: usize = 16;

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
