//! # stochgrad-app
//!
//! The page: a thin Yew shell over `stochgrad-core`.
//!
//! * [`state`] — all page state in one pure reducer;
//! * [`protocol`] — messages to and from the Web Worker (summaries only);
//! * [`engine`] — the worker's job runner (chunks, yields, play/pause/step), tested natively;
//! * [`plots`] — each plot a pure function from state to a drawing, generic over the backend;
//! * [`format`] — how numbers are printed;
//! * `components` / `reactor` — the browser-only parts (Yew components, the worker registration).

pub mod engine;
pub mod format;
pub mod plots;
pub mod presets;
pub mod protocol;
pub mod readout;
pub mod state;
pub mod url;

#[cfg(target_arch = "wasm32")]
pub mod reactor;

#[cfg(target_arch = "wasm32")]
pub mod components;
