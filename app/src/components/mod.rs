//! The Yew components (browser only). `App` owns the reducer and the worker bridge; everything
//! below it is a view of the state.

mod controls;
mod plot;
mod results;
mod widgets;

use crate::protocol::Cmd;
use crate::reactor::EngineReactor;
use crate::state::{Action, State};
use controls::{EstimatorPicker, HyperControls, LossControls, NetworkControls, Playback, SeedControls};
use futures::channel::mpsc::{unbounded, UnboundedSender};
use futures::{SinkExt, StreamExt};
use results::Results;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;
use yew_agent::reactor::ReactorSpawner;

impl Reducible for State {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new(Rc::unwrap_or_clone(self).reduce(action))
    }
}

/// The worker URL, resolved against the document's `<base>` (so a sub-path deployment works).
fn worker_url() -> Option<String> {
    let doc = web_sys::window()?.document()?;
    let base = doc.base_uri().ok()??;
    web_sys::Url::new_with_base("worker.js", &base).ok().map(|u| u.href())
}

/// Spawn the engine worker; commands go through the returned sender, outputs to `dispatch`.
fn spawn_engine(dispatch: UseReducerDispatcher<State>) -> Option<UnboundedSender<Cmd>> {
    let url = worker_url()?;
    let bridge = ReactorSpawner::<EngineReactor>::new().spawn(&url);
    let (mut sink, mut stream) = bridge.split();
    let (tx, mut rx) = unbounded::<Cmd>();
    wasm_bindgen_futures::spawn_local(async move {
        while let Some(cmd) = rx.next().await {
            if sink.send(cmd).await.is_err() {
                break;
            }
        }
    });
    wasm_bindgen_futures::spawn_local(async move {
        while let Some(out) = stream.next().await {
            dispatch.dispatch(Action::Worker(Box::new(out)));
        }
    });
    Some(tx)
}

fn send(tx: &Rc<RefCell<Option<UnboundedSender<Cmd>>>>, cmd: Cmd) {
    if let Some(t) = tx.borrow().as_ref() {
        let _ = t.unbounded_send(cmd);
    }
}

/// Download `text` as a file.
pub fn download(name: &str, mime: &str, text: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let bag = web_sys::BlobPropertyBag::new();
    bag.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &bag) else { return };
    download_blob(&doc, name, &blob);
}

/// Download a blob (PNG exports use it too).
pub fn download_blob(doc: &web_sys::Document, name: &str, blob: &web_sys::Blob) {
    let Ok(url) = web_sys::Url::create_object_url_with_blob(blob) else { return };
    if let Ok(a) = doc.create_element("a") {
        if let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>() {
            a.set_href(&url);
            a.set_download(name);
            a.click();
        }
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// A file name describing the current model, e.g. `toy-w1-a-1.0-t0.450-seed1`.
pub fn model_stem(state: &State) -> String {
    let m = &state.page.model;
    let widths: Vec<String> = m.widths.iter().map(|w| w.to_string()).collect();
    format!("{}-w{}-a{:.1}-seed{}", m.loss.key(), widths.join("x"), m.logit, m.network_seed)
}

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(State::default);
    let tx: Rc<RefCell<Option<UnboundedSender<Cmd>>>> = use_mut_ref(|| None);
    let worker_ok = use_state(|| true);

    // Spawn the worker once, and check that it answers.
    {
        let tx = tx.clone();
        let dispatcher = state.dispatcher();
        let worker_ok = worker_ok.clone();
        use_effect_with((), move |_| {
            *tx.borrow_mut() = spawn_engine(dispatcher);
            if tx.borrow().is_none() {
                worker_ok.set(false);
            }
            || ()
        });
    }
    // A new job whenever the job id changes.
    {
        let tx = tx.clone();
        let spec = state.job_spec();
        use_effect_with(state.job_id, move |_| {
            send(&tx, Cmd::Start(Box::new(spec)));
            || ()
        });
    }
    // Play / pause.
    {
        let tx = tx.clone();
        let id = state.job_id;
        use_effect_with(state.page.playing, move |playing| {
            send(&tx, if *playing { Cmd::Play { id } } else { Cmd::Pause { id } });
            || ()
        });
    }
    // Step.
    {
        let tx = tx.clone();
        let id = state.job_id;
        use_effect_with(state.step_counter, move |n| {
            if *n > 0 {
                send(&tx, Cmd::Step { id });
            }
            || ()
        });
    }
    // Redraw plots when the window is resized.
    let epoch = use_state(|| 0u32);
    {
        let epoch = epoch.clone();
        use_effect_with((), move |_| {
            let counter = std::cell::Cell::new(0u32);
            let cb = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
                counter.set(counter.get().wrapping_add(1));
                epoch.set(counter.get());
            });
            if let Some(w) = web_sys::window() {
                let _ = w.add_event_listener_with_callback("resize", cb.as_ref().unchecked_ref());
            }
            cb.forget();
            || ()
        });
    }

    let export = {
        let state = state.clone();
        Callback::from(move |_| {
            let model = state.page.model.clone().to_model();
            download(
                &format!("stochgrad-model-{}.json", model_stem(&state)),
                "application/json",
                &model.to_json_pretty(),
            );
        })
    };
    let status = status_text(&state);
    html! {
        <>
        <header class="top">
            <div class="title">
                <h1>{ "stochgrad" }</h1>
                <p class="tagline">{ "Gradient estimators for stochastic binary neurons, against the exact gradient (computed by enumerating every binary configuration)." }</p>
            </div>
            <div class="status" role="status" aria-live="polite">{ status }</div>
            <button id="export-model" onclick={export} title="Download MODEL.json: reproduce any figure with `stochgrad moments MODEL.json --estimator KEY`">{ "Export model" }</button>
        </header>
        if !*worker_ok {
            <p class="failure" role="alert">{ "The computation worker could not be started (worker.js not found next to this page)." }</p>
        }
        <main class="layout">
            <aside class="controls" aria-label="Controls">
                <Playback state={state.clone()} />
                <EstimatorPicker state={state.clone()} />
                <HyperControls state={state.clone()} />
                <NetworkControls state={state.clone()} />
                <LossControls state={state.clone()} />
                <SeedControls state={state.clone()} />
            </aside>
            <Results state={state.clone()} epoch={*epoch} />
        </main>
        </>
    }
}

/// One polite status line: what the worker is doing.
fn status_text(state: &State) -> String {
    if let Some(f) = &state.failure {
        return format!("Cannot compute: {f}");
    }
    if let Some((phase, done, total)) = &state.progress {
        let pct = if *total > 0 { 100.0 * *done as f64 / *total as f64 } else { 0.0 };
        return format!("Computing {phase}… {pct:.0}%");
    }
    if state.exact.is_none() {
        return "Computing the exact gradient…".into();
    }
    let n = state.rows.values().filter_map(|r| r.mc.as_ref().and_then(|m| m.samples)).max().unwrap_or(0);
    match (state.page.playing, n) {
        (true, 0) => "Sampling…".into(),
        (true, n) => format!("Sampling: {} samples per estimator", crate::format::thousands(n)),
        (false, 0) => "Paused. Press ▶ Play to draw samples.".into(),
        (false, n) => match &state.paused_reason {
            Some(r) => format!("Paused ({r}): {} samples per estimator", crate::format::thousands(n)),
            None => format!("Paused: {} samples per estimator", crate::format::thousands(n)),
        },
    }
}
