//! The Digits experiment (its own worker, `side.rs`): the discrete VAE of `stochgrad_core::vae`
//! trained by each trainer in turn, from the same initial parameters and minibatches, streaming
//! exact checkpoints on the test images, images, and the encoder gradient's figures at a few
//! checkpoints.

use super::{wait_apply, Port, Stop, PROGRESS_MS};
use crate::port::Control;
use crate::protocol::{DigitsBar, DigitsFigures, DigitsImages, DigitsPoint, DigitsSpec, Out};
use stochgrad_core::estimators::Estimator;
use stochgrad_core::stats::Method;
use stochgrad_core::vae::{self, Config, Params, Run, Trainer};

/// Checkpoints per trainer (besides step 0): the race plot's points.
pub const DIGITS_CHECKPOINTS: u64 = 20;
/// Checkpoints (besides step 0) at which the encoder gradient's figures are computed.
pub const DIGITS_BAR_CHECKPOINTS: u64 = 3;
/// The fixed minibatch of the encoder gradient's figures: the first test images, ten of them up to
/// k = 10, fewer above (ARM's and DisARM's exact figures cost 3^k per image: at k = 12 one image
/// takes about half a second natively).
pub fn bar_images(latents: usize) -> usize {
    match latents {
        0..=10 => 10,
        11 => 3,
        _ => 1,
    }
}
/// Test images shown with their reconstructions, and samples drawn from each model.
pub const DIGITS_SHOWN: usize = 8;
/// Latent units the page offers (the CLI goes to `vae::LATENTS_RANGE.1`).
pub const DIGITS_MAX_LATENTS: usize = crate::page::limits::DIGITS_LATENTS.1 as usize;
/// Monte-Carlo draws per image for the figures of an estimator without exact moments.
pub const DIGITS_BAR_SAMPLES: u64 = 1000;

/// Whether `key` can train the Digits model: `exact`, or an estimator of binary units.
pub fn digits_trainer(key: &str) -> Option<Trainer> {
    Trainer::from_key(key).filter(Trainer::trains_binary_latents)
}

/// The steps at which a run of `steps` steps reports a checkpoint: 0, every `steps / 20` (at least
/// 1) and the last.
pub fn is_checkpoint(step: u64, steps: u64) -> bool {
    step == 0 || step == steps || step % steps.div_ceil(DIGITS_CHECKPOINTS).max(1) == 0
}

/// The steps at which the encoder gradient's figures are computed: 0, a third, two thirds, the end.
pub fn bar_steps(steps: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..=DIGITS_BAR_CHECKPOINTS).map(|j| steps * j / DIGITS_BAR_CHECKPOINTS).collect();
    v.dedup();
    v
}

/// The test images shown (indices into the digits).
pub fn shown_images() -> Vec<usize> {
    stochgrad_core::digits::test().into_iter().take(DIGITS_SHOWN).collect()
}

/// A pixel mean as a grey level (0 = white, 255 = black); not a number: mid-grey.
pub fn grey(p: f64) -> u8 {
    if p.is_finite() {
        (p.clamp(0.0, 1.0) * 255.0).round() as u8
    } else {
        128
    }
}

fn images(params: &Params, shown: &[usize], seed: u64, step: u64) -> DigitsImages {
    let to_u8 = |v: Vec<f64>| v.into_iter().map(grey).collect::<Vec<u8>>();
    DigitsImages {
        step,
        reconstructions: vae::reconstructions(params, &shown.iter().map(|&i| vae::pixels(i)).collect::<Vec<_>>())
            .into_iter()
            .map(to_u8)
            .collect(),
        samples: vae::samples(params, DIGITS_SHOWN, seed).into_iter().map(to_u8).collect(),
    }
}

fn figures(params: &Params, est: &dyn Estimator, spec: &DigitsSpec, batch: &[usize]) -> Result<DigitsFigures, String> {
    let f =
        vae::encoder_figures(params, batch, est, &spec.hp, DIGITS_BAR_SAMPLES, spec.seed).map_err(|e| e.to_string())?;
    if ![f.bias_sq, f.variance, f.gradient_sq].iter().all(|v| v.is_finite()) {
        return Err("a figure overflowed".into());
    }
    // Monte Carlo: the bias² of the mean of N draws includes their noise, tr Var / N; debiased as
    // the page's other bars are (so an unbiased estimator's noise never shows as bias).
    let mc = f.method == Method::MonteCarlo;
    Ok(DigitsFigures {
        bias_sq: if mc { (f.bias_sq - f.variance / DIGITS_BAR_SAMPLES as f64).max(0.0) } else { f.bias_sq },
        variance: f.variance,
        gradient_sq: f.gradient_sq,
        method: f.method.key().to_string(),
    })
}

// The computations as plain functions: the async runner below only sends, yields and decides.
fn new_run(trainer: Trainer, spec: &DigitsSpec) -> stochgrad_core::Result<Run> {
    Run::new(Config {
        trainer,
        hp: spec.hp,
        latents: spec.latents,
        steps: spec.steps,
        seed: spec.seed,
        ..Config::default()
    })
}

fn advance(run: &mut Run) -> stochgrad_core::Result<()> {
    run.advance()
}

fn evaluate(run: &Run, test: &[usize]) -> DigitsPoint {
    let b = vae::evaluate(&run.params, test);
    DigitsPoint {
        step: run.step,
        evaluations: run.evaluations,
        neg_elbo: b.neg_elbo,
        neg_log_marginal: b.neg_log_marginal,
    }
}

/// Train every trainer of a Digits run in turn, streaming checkpoints; then wait.
pub async fn run_digits<P: Port>(spec: DigitsSpec, port: &mut P) -> Stop {
    let mut ctl = Control::new(spec.id, true, 0, port);
    let result = match run_digits_inner(&spec, &mut ctl, port).await {
        Ok(()) => loop {
            if let Err(stop) = wait_apply(&mut ctl, port).await {
                break stop;
            }
        },
        Err(stop) => stop,
    };
    result
}

async fn run_digits_inner<P: Port>(spec: &DigitsSpec, ctl: &mut Control, port: &mut P) -> Result<(), Stop> {
    let id = spec.id;
    if spec.latents == 0 || spec.latents > DIGITS_MAX_LATENTS || spec.trainers.is_empty() {
        let message = format!("choose 1 to {DIGITS_MAX_LATENTS} latent units and at least one trainer");
        port.send(Out::DigitsFailed { id, message }).await;
        return Ok(());
    }
    let test = stochgrad_core::digits::test();
    let shown = shown_images();
    let bar_batch: Vec<usize> = test.iter().copied().take(bar_images(spec.latents)).collect();
    let bars = bar_steps(spec.steps);
    let total = spec.steps * spec.trainers.len() as u64;
    let mut last_progress = f64::NEG_INFINITY;
    for (t, key) in spec.trainers.iter().enumerate() {
        let stopped = |error: String| Out::DigitsStopped { id, key: key.clone(), error: Some(error) };
        let Some(trainer) = digits_trainer(key) else {
            port.send(stopped("not a trainer of binary latent units".into())).await;
            continue;
        };
        let mut run = match new_run(trainer, spec) {
            Ok(r) => r,
            Err(e) => {
                port.send(stopped(e.to_string())).await;
                continue;
            }
        };
        ctl.skip = false;
        loop {
            let step = run.step;
            if is_checkpoint(step, spec.steps) {
                let point = evaluate(&run, &test);
                if !(point.neg_elbo.is_finite() && point.neg_log_marginal.is_finite()) {
                    port.send(stopped(format!("the bounds overflowed at step {step}"))).await;
                    break;
                }
                let images = Some(images(&run.params, &shown, spec.seed, step));
                port.send(Out::DigitsPoints { id, key: key.clone(), points: vec![point], images }).await;
                ctl.checkpoint(port).await?;
            }
            if let (Trainer::Estimator(est), true) = (trainer, bars.contains(&step)) {
                let bar = DigitsBar { step, figures: figures(&run.params, est, spec, &bar_batch) };
                port.send(Out::DigitsBar { id, key: key.clone(), bar }).await;
                ctl.force_yield(port).await?;
            }
            if step >= spec.steps {
                break;
            }
            if ctl.skip {
                port.send(Out::DigitsStopped { id, key: key.clone(), error: None }).await;
                break;
            }
            if step == 0 || port.now_ms() - last_progress > PROGRESS_MS {
                last_progress = port.now_ms();
                port.send(Out::DigitsProgress { id, key: key.clone(), done: t as u64 * spec.steps + step, total })
                    .await;
            }
            if let Err(e) = advance(&mut run) {
                port.send(stopped(e.to_string())).await;
                break;
            }
            ctl.checkpoint(port).await?;
        }
        ctl.skip = false;
        ctl.force_yield(port).await?;
    }
    port.send(Out::DigitsDone { id }).await;
    Ok(())
}
