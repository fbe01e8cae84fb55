//! Side workers (browser only): the training race and the gating miniature each run in a worker of
//! their own, beside the pool (`pool.rs`), so that neither interrupts the page's Monte-Carlo
//! sampling nor each other. Both are the same engine worker (this page's own module, [`EngineReactor`]) serving
//! [`Cmd::Race`] or [`Cmd::Gating`]; their messages carry their own id sequences and go straight to
//! the reducer (a race sends about ten frames a second).

use crate::protocol::{Cmd, Out};
use crate::state::{Action, State};
use futures::channel::mpsc::UnboundedSender;
use yew::prelude::*;

/// Spawn one side worker (the pool's [`spawn_one`](crate::pool::spawn_one)); its messages go to
/// the reducer. `None` if the worker script cannot be located.
pub fn spawn(dispatch: UseReducerDispatcher<State>) -> Option<UnboundedSender<Cmd>> {
    let url = crate::pool::worker_url()?;
    Some(crate::pool::spawn_one(&url, move |out: Out| dispatch.dispatch(Action::Worker(Box::new(out)))))
}
