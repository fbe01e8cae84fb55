//! The benchmark workloads, one function each, shared by the WebAssembly benchmarks
//! (`bench/wasm`) and the native `profile` example (`core/examples/profile.rs`), so that the two
//! time the same computation: `bench/browser.mjs` alternates them round by round to give
//! wasm-to-native ratios measured in the same seconds. Each returns a number computed from the
//! result, so that nothing is optimised away and the platforms' answers can be compared.

use crate::estimators::{find, HyperParams, MC_CHUNK};
use crate::exact::solve;
use crate::moments::{mc_chunk, run_exact};
use crate::Model;

/// Exact `E[f]` and `∇` (the layer chain); returns `E[f]`.
pub fn exact_gradient(m: &Model) -> f64 {
    solve(m).map(|s| s.expected_loss).unwrap_or(f64::NAN)
}

/// Exact moments of a joint-sample estimator (the solve included); returns the sum of the means.
pub fn exact_moments(m: &Model, key: &str) -> f64 {
    let Ok(sol) = solve(m) else { return f64::NAN };
    let hp = HyperParams::default();
    let Some(est) = find(key) else { return f64::NAN };
    let Ok(job) = est.exact_job(m, &hp, &sol) else { return f64::NAN };
    match run_exact(job.as_ref(), &mut |_, _| true) {
        Ok((mean, _)) => mean.iter().sum(),
        Err(_) => f64::NAN,
    }
}

/// `chunks` Monte-Carlo chunks of [`MC_CHUNK`] draws (the solve and the sampler included);
/// returns the sum of the last chunk's means.
pub fn mc_draws(m: &Model, key: &str, chunks: u32) -> f64 {
    let Ok(sol) = solve(m) else { return f64::NAN };
    let hp = HyperParams::default();
    let Some(est) = find(key) else { return f64::NAN };
    let Ok(mut s) = est.sampler(m, &hp, &sol) else { return f64::NAN };
    let mut last = 0.0;
    for c in 0..u64::from(chunks) {
        last = mc_chunk(s.as_mut(), 1, key, c, MC_CHUNK, m.num_params()).mean.iter().sum();
    }
    last
}

/// The discrete VAE's exact test-set evaluation (the 359 test images, `−ELBO` and `log p(x)` by
/// enumerating the `2^latents` states) at the initial parameters of seed 1; returns the test
/// `−log p(x)`.
pub fn digits_test_eval(latents: usize) -> f64 {
    let params = crate::vae::Params::init(latents, 1);
    crate::vae::evaluate(&params, &crate::digits::test()).neg_log_marginal
}

/// `steps` training steps of the discrete VAE (batch 50), the encoder trained by `key` (an
/// estimator, or `exact`), from a fresh run of seed 1 (its initialisation included, its
/// checkpoints not); returns the sum of the parameters' first entries (the encoder's first
/// weight plus the prior's first logit).
pub fn digits_steps(key: &str, latents: usize, steps: u64) -> f64 {
    use crate::vae::{Config, Run, Trainer};
    let Some(trainer) = Trainer::from_key(key) else { return f64::NAN };
    let Ok(mut run) = Run::new(Config { trainer, latents, steps, ..Config::default() }) else { return f64::NAN };
    for _ in 0..steps {
        if run.advance().is_err() {
            return f64::NAN;
        }
    }
    run.params.encoder_weights[0] + run.params.decoder.prior[0]
}

/// The trainers of the discrete VAE's benchmarks: [`crate::vae::trainer_keys`].
pub fn digits_trainers() -> Vec<&'static str> {
    crate::vae::trainer_keys()
}
