//! The page's pool of engine workers (browser only): one main worker runs the jobs as before; the
//! others — one per `navigator.hardwareConcurrency`, at most [`MAX_WORKERS`] in all — are helpers
//! that compute chunks of the largest exact jobs (see `split.rs`). The page relays between them:
//! the main worker's [`Out::Delegate`] goes to a helper as [`Cmd::Chunk`], the helper's
//! [`Out::ChunkDone`] back to the main worker as [`Cmd::ChunkDone`]. Everything else the main worker
//! says goes to the page's reducer, as with one worker.
//!
//! The main worker's messages reach the reducer in batches, at most one batch per animation frame:
//! a job's burst of answers (the exact gradient, then each estimator's moments) costs the page one
//! render instead of one per message.
//!
//! `?workers=N` in the page's address (before the `#`) sets the number of workers (1 = no helpers),
//! for benchmarks and comparisons.

use crate::protocol::{Cmd, Out};
use crate::reactor::EngineReactor;
use crate::state::{Action, State};
use futures::channel::mpsc::{unbounded, UnboundedSender};
use futures::{SinkExt, StreamExt};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;
use yew_agent::reactor::ReactorSpawner;

/// Most workers in a pool (the main one included).
pub const MAX_WORKERS: usize = 4;

/// The script every worker runs: a module that imports the page's own WebAssembly glue
/// (`app-<hash>.js`) and instantiates the page's own `.wasm` — the page and its workers are one
/// module, whose `main` serves the engine when it finds itself in a worker. Trunk lists both files
/// in `<link rel="modulepreload">` / `<link rel="preload">`; their `href` properties are absolute,
/// so a sub-path deployment works. A `blob:` URL, made once per page.
pub(crate) fn worker_url() -> Option<String> {
    thread_local! {
        static URL: Option<String> = make_worker_url();
    }
    URL.with(Clone::clone)
}

fn make_worker_url() -> Option<String> {
    let doc = web_sys::window()?.document()?;
    let href = |selector: &str| {
        let links = doc.query_selector_all(selector).ok()?;
        (0..links.length())
            .filter_map(|i| links.item(i)?.dyn_into::<web_sys::HtmlLinkElement>().ok())
            .map(|l| l.href())
            .find(|h| h.rsplit('/').next().is_some_and(|f| f.starts_with("app")))
    };
    let glue = href(r#"link[rel="modulepreload"][href$=".js"]"#)?;
    let wasm = href(r#"link[rel="preload"][href$=".wasm"]"#)?;
    let script = format!("import init from {glue:?};\nawait init({{ module_or_path: {wasm:?} }});\n");
    let parts = js_sys::Array::of1(&script.into());
    let bag = web_sys::BlobPropertyBag::new();
    bag.set_type("text/javascript");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &bag).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// Workers to start: `?workers=N` if given, else `min(hardwareConcurrency, MAX_WORKERS)`.
pub fn worker_count() -> usize {
    let window = web_sys::window();
    let asked = window.as_ref().and_then(|w| w.location().search().ok()).and_then(|q| {
        q.trim_start_matches('?').split('&').find_map(|kv| kv.strip_prefix("workers=").and_then(|v| v.parse().ok()))
    });
    let cores = window.map_or(1.0, |w| w.navigator().hardware_concurrency()) as usize;
    asked.unwrap_or(cores).clamp(1, MAX_WORKERS)
}

/// Messages for the reducer, delivered together at most once per [`BATCH_MS`], each batch in a
/// task of its own (a timer). Not in an animation-frame callback: the page's render of a batch
/// would then share one task with the frame's style, layout and paint (measured: 24 ms of render
/// plus 21 ms of frame in one 45 ms task at 12 + 12 units), and the Long Tasks budget is per task.
struct Batch {
    queue: RefCell<Vec<Out>>,
    scheduled: Cell<bool>,
    /// When the last batch was delivered (`performance.now()`, ms).
    last: Cell<f64>,
    dispatch: UseReducerDispatcher<State>,
    flush: RefCell<Option<Closure<dyn FnMut()>>>,
}

/// The shortest interval between two batches: about one display frame.
const BATCH_MS: f64 = 16.0;

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

impl Batch {
    fn new(dispatch: UseReducerDispatcher<State>) -> Rc<Batch> {
        let batch = Rc::new(Batch {
            queue: RefCell::new(Vec::new()),
            scheduled: Cell::new(false),
            last: Cell::new(f64::NEG_INFINITY),
            dispatch,
            flush: RefCell::new(None),
        });
        let weak = Rc::downgrade(&batch);
        let flush = Closure::<dyn FnMut()>::new(move || {
            if let Some(b) = weak.upgrade() {
                b.flush();
            }
        });
        *batch.flush.borrow_mut() = Some(flush);
        batch
    }

    fn push(&self, out: Out) {
        self.queue.borrow_mut().push(out);
        if self.scheduled.replace(true) {
            return;
        }
        let scheduled = web_sys::window()
            .zip(self.flush.borrow().as_ref().map(|f| f.as_ref().unchecked_ref::<js_sys::Function>().clone()));
        match scheduled {
            Some((w, f)) => {
                let wait = (self.last.get() + BATCH_MS - now_ms()).clamp(0.0, BATCH_MS);
                let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&f, wait.round() as i32);
            }
            None => self.flush(),
        }
    }

    fn flush(&self) {
        if !self.scheduled.replace(false) {
            return;
        }
        self.last.set(now_ms());
        let outs = std::mem::take(&mut *self.queue.borrow_mut());
        for out in outs {
            self.dispatch.dispatch(Action::Worker(Box::new(out)));
        }
    }
}

/// Spawn one worker; commands go through the returned sender, outputs to `on_out`.
pub(crate) fn spawn_one(url: &str, on_out: impl Fn(Out) + 'static) -> UnboundedSender<Cmd> {
    // A module worker running `worker_url()`'s script as it is (yew-agent's own loader would let
    // the glue look for an unhashed `app_bg.wasm`).
    let bridge = ReactorSpawner::<EngineReactor>::new()
        .encoding::<crate::reactor::Wire>()
        .as_module(true)
        .with_loader(true)
        .spawn(url);
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
            on_out(out);
        }
    });
    tx
}

/// Spawn the pool; the page's commands go through the returned sender (to the main worker), the main
/// worker's outputs to `dispatch`. `None` if the worker script cannot be located.
pub fn spawn(dispatch: UseReducerDispatcher<State>) -> Option<UnboundedSender<Cmd>> {
    let url = worker_url()?;
    let n = worker_count();
    // Helpers answer to the main worker; the main worker's delegations go to the helpers in turn.
    let main_slot: Rc<Cell<Option<UnboundedSender<Cmd>>>> = Rc::new(Cell::new(None));
    let mut helpers = Vec::with_capacity(n - 1);
    for _ in 1..n {
        let main_slot = main_slot.clone();
        helpers.push(spawn_one(&url, move |out| {
            if let Out::ChunkDone(r) = out {
                if let Some(main) = main_slot.take() {
                    let _ = main.unbounded_send(Cmd::ChunkDone(r));
                    main_slot.set(Some(main));
                }
            }
        }));
    }
    let turn = Cell::new(0usize);
    let to_helpers = helpers.clone();
    let batch = Batch::new(dispatch);
    let main = spawn_one(&url, move |out| match out {
        Out::Delegate(task) if !to_helpers.is_empty() => {
            let i = turn.get() % to_helpers.len();
            turn.set(i + 1);
            let _ = to_helpers[i].unbounded_send(Cmd::Chunk(task));
        }
        out => batch.push(out),
    });
    let _ = main.unbounded_send(Cmd::Helpers(helpers.len() as u32));
    main_slot.set(Some(main.clone()));
    Some(main)
}
