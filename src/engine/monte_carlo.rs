//! The Monte-Carlo phase of a job: frames of draws while playing (ten a second), one draw at a
//! time when asked, auto-pause at a limit, and a sweep point between frames.

use super::exact::{Applicable, Setup};
use super::{mc_view, sweeps, Port, Stop, FRAME_MS};
use crate::port::Control;
use crate::protocol::{JobSpec, Out};
use stochgrad_core::estimators::MC_CHUNK;
use stochgrad_core::exact::ExactSolution;
use stochgrad_core::moments::mc_chunk;
use stochgrad_core::rng::Stream;
use stochgrad_core::stats::{Batch, McAccumulator};

/// Frames of every applicable estimator's draws and the sweeps' points, until the job ends.
pub(super) async fn run<P: Port>(
    spec: &JobSpec,
    setup: &Setup,
    applicable: &[Applicable<'_>],
    ctl: &mut Control,
    port: &mut P,
) -> Result<(), Stop> {
    let (id, model, sol) = (spec.id, &setup.model, &setup.sol);
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
    for a in applicable {
        let (est, hp, own) = (a.est, a.hp, &a.own);
        let reference = own.as_ref().unwrap_or(sol);
        if let Ok(sampler) = est.sampler(model, hp, reference) {
            mcs.push(Mc {
                key: est.meta().key,
                sampler,
                acc: McAccumulator::new(dim),
                next_chunk: 0,
                open: None,
                last: vec![0.0; dim],
                evals: est.loss_evaluations(model, hp),
                reference,
                own: own.is_some(),
            });
        }
    }

    let mut sweeps = sweeps::tasks(spec, setup, applicable);

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
        sweeps::step(&mut sweeps, spec, setup, ctl, port).await?;
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
