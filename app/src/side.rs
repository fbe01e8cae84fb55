//! Side workers (browser only): the training race and the gating miniature each run in a worker of
//! their own, beside the pool (`pool.rs`), so that neither interrupts the page's Monte-Carlo
//! sampling nor each other. Both are the same engine worker (`worker.js`, [`EngineReactor`]) serving
//! [`Cmd::Race`] or [`Cmd::Gating`]; their messages carry their own id sequences and go straight to
//! the reducer (a race sends about ten frames a second).

use crate::protocol::{Cmd, Out};
use crate::reactor::EngineReactor;
use crate::state::{Action, State};
use futures::channel::mpsc::{unbounded, UnboundedSender};
use futures::{SinkExt, StreamExt};
use yew::prelude::*;
use yew_agent::reactor::ReactorSpawner;

/// The worker URL, resolved against the document's `<base>` (so a sub-path deployment works).
fn worker_url() -> Option<String> {
    let doc = web_sys::window()?.document()?;
    let base = doc.base_uri().ok()??;
    web_sys::Url::new_with_base("worker.js", &base).ok().map(|u| u.href())
}

/// Spawn one side worker; its messages go to the reducer. `None` if the worker script cannot be
/// located.
pub fn spawn(dispatch: UseReducerDispatcher<State>) -> Option<UnboundedSender<Cmd>> {
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
            let out: Out = out;
            dispatch.dispatch(Action::Worker(Box::new(out)));
        }
    });
    Some(tx)
}
