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
