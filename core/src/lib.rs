//! # stochgrad-core
//!
//! The pure engine of stochgrad (no web crates; compiles natively and to `wasm32`):
//!
//! * [`model`] / [`loss`] — the sigmoid belief network, its losses and MODEL.json;
//! * [`exact`] — exact `E[f]` and `∇θ E[f]` by the layer chain;
//! * [`estimators`] — every gradient estimator, one file each, behind one trait and one registry;
//! * [`moments`] — each estimator's mean and variance (exact, quadrature or Monte Carlo) and the
//!   figures derived from them ([`stats`]);
//! * [`settings`] — the deterministic `Settings → Model` map shared by the page and the CLI;
//! * [`rng`] — seeded streams fixed by their algorithm, identical natively and in wasm
//!   ([`chacha`]: ChaCha8 with `simd128` lanes for the browser);
//! * [`units`] — networks of other unit types (STS, noisy rectifier) and their own objectives;
//! * [`train`] — training races: one Monte-Carlo gradient estimate per step, exact figures per step;
//! * [`field`] — the gradient field over two parameters: exact `E[f]`, `∇` and estimator means on a grid;
//! * [`gating`] — the seed paper's conditional-computation experiment in miniature;
//! * [`sweep`] — the sweep over a unit's firing probability: figures, optimum, stationary points.

pub mod benchmark;
pub mod categorical;
pub mod chacha;
pub mod chain;
pub mod digits;
pub mod distribution;
pub mod elbo;
pub mod error;
pub mod estimators;
pub mod exact;
pub mod expr;
pub mod field;
pub mod gating;
pub mod jobs;
pub mod json;
mod kernels;
pub mod limits;
pub mod loss;
pub mod math;
pub mod model;
pub mod moments;
pub mod parallel;
pub mod params;
pub mod quadrature;
pub mod rng;
pub mod seed;
pub mod settings;
pub mod solution;
pub mod stats;
pub mod sweep;
pub mod trace;
pub mod train;
pub mod units;
pub mod vae;

pub use error::{Error, Reason, Result};
pub use kernels::narrow_simd_requested;
pub use model::Model;
