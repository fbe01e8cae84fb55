//! # stochgrad-app
//!
//! The page: a thin Yew shell over `stochgrad-core`.
//!
//! * [`state`] — all page state in one pure reducer;
//! * [`protocol`] — messages to and from the Web Worker (summaries only);
//! * [`engine`] — the worker's job runner (chunks, yields, play/pause/step), tested natively;
//! * [`split`] — the largest exact jobs split across the pool's workers, merged in chunk order;
//! * [`plots`] — each plot a pure function from state to a drawing, generic over the backend;
//! * [`format`] — how numbers are printed;
//! * `components` / `reactor` / `pool` / `side` — the browser-only parts (Yew components, the
//!   worker registration, the pool of workers, the race's and the gating run's own workers).

pub mod engine;
pub mod exports;
pub mod format;
pub mod ladder;
pub mod page;
pub mod per_p;
pub mod plots;
pub mod port;
pub mod presets;
pub mod protocol;
pub mod readout;
pub mod split;
pub mod state;
pub mod texts;
pub mod url;

#[cfg(target_arch = "wasm32")]
pub mod pool;
#[cfg(target_arch = "wasm32")]
pub mod reactor;
#[cfg(target_arch = "wasm32")]
pub mod side;

#[cfg(target_arch = "wasm32")]
pub mod components;
