//! The page's requests to its pool and its race worker, sent from the reducer (the shell's
//! `Reducible::reduce` calls [`observe`] after every action) rather than from effects: effects run
//! after the page has rendered, so a slider move's new job would wait for the whole render (some
//! 20 ms of the main thread) before the workers could start on it.
//!
//! What is due is [`State::outgoing`]'s decision (pure, tested natively): a new job at once, a new
//! race once the job's exact answers are in, or after a wait ([`crate::state::race_wait_for`]; then
//! after the next paint, so that those answers are on screen first). This module only holds the
//! senders, what was sent, and the timers.

use crate::protocol::Cmd;
use crate::state::{Sent, State};
use futures::channel::mpsc::UnboundedSender;
use gloo_render::AnimationFrame;
use gloo_timers::callback::Timeout;
use std::cell::RefCell;
use std::rc::Rc;

/// [`crate::state::race_wait_for`] on this machine and pool.
fn race_wait_ms() -> u32 {
    let cores = web_sys::window().map_or(1.0, |w| w.navigator().hardware_concurrency()) as usize;
    crate::state::race_wait_for(crate::pool::worker_count(), cores).max(0) as u32
}

#[derive(Default)]
struct Outbox {
    /// The workers are spawned (before, nothing is marked as sent).
    connected: bool,
    pool: Option<UnboundedSender<Cmd>>,
    race: Option<UnboundedSender<Cmd>>,
    sent: Sent,
    /// The state after the last action (the race timer sends from it).
    latest: Option<Rc<State>>,
    /// The race id the latest timer is set for, and the one whose wait is over.
    timer_for: u64,
    overdue: u64,
    /// A race due, to be sent after the next paint.
    pending_race: Option<u64>,
    /// The race's wait (a new one replaces, and so cancels, the old).
    race_timer: Option<Timeout>,
    /// The animation frame, then the timeout after it, that sends the pending race.
    paint: Option<AnimationFrame>,
    after: Option<Timeout>,
}

thread_local! {
    static OUTBOX: RefCell<Outbox> = RefCell::new(Outbox::default());
}

/// Send `cmd` on `tx`, if there is one (a worker that could not start gets nothing).
pub(super) fn send(tx: Option<&UnboundedSender<Cmd>>, cmd: Cmd) {
    if let Some(t) = tx {
        let _ = t.unbounded_send(cmd);
    }
}

/// The workers are up: requests go to them from now on, starting with what is due in the latest
/// state (`first`, the page's first, unless an action has come since).
pub fn connect(pool: Option<UnboundedSender<Cmd>>, race: Option<UnboundedSender<Cmd>>, first: Rc<State>) {
    let state = OUTBOX.with(|o| {
        let mut o = o.borrow_mut();
        o.connected = true;
        o.pool = pool;
        o.race = race;
        o.latest.clone().unwrap_or(first)
    });
    observe(&state);
}

/// Send what `state` makes due (after every action).
pub fn observe(state: &Rc<State>) {
    OUTBOX.with(|cell| {
        let mut guard = cell.borrow_mut();
        let o = &mut *guard;
        o.latest = Some(state.clone());
        if !o.connected {
            return;
        }
        let out = state.outgoing(&mut o.sent, o.overdue == state.race_id);
        if let Some(job) = out.job {
            send(o.pool.as_ref(), Cmd::Start(Box::new(job)));
        }
        if let Some(race) = out.race {
            // After the next paint: the exact answers that made it due are on screen first.
            if o.pending_race.replace(race.id).is_none() {
                o.paint = Some(after_paint(send_pending_race));
            }
        } else if o.sent.race != state.race_id && o.timer_for != state.race_id {
            let id = state.race_id;
            o.timer_for = id;
            o.race_timer = Some(Timeout::new(race_wait_ms(), move || race_overdue(id)));
        }
    });
}

/// Race `id`'s wait is over (nothing happens if it has been sent or replaced meanwhile).
fn race_overdue(id: u64) {
    let latest = OUTBOX.with(|cell| {
        let mut o = cell.borrow_mut();
        o.overdue = id;
        o.latest.clone()
    });
    if let Some(state) = latest {
        observe(&state);
    }
}

/// Run `f` once the next frame has been painted (a timeout set from an animation frame). The
/// outbox owns both: dropping the returned frame cancels it.
fn after_paint(f: fn()) -> AnimationFrame {
    gloo_render::request_animation_frame(move |_| {
        let timeout = Timeout::new(0, f);
        OUTBOX.with(|cell| cell.borrow_mut().after = Some(timeout));
    })
}

/// Send the race that became due, as the latest state has it (its play state may have changed).
fn send_pending_race() {
    OUTBOX.with(|cell| {
        let mut o = cell.borrow_mut();
        if let (Some(id), Some(state)) = (o.pending_race.take(), o.latest.clone()) {
            if state.race_id == id {
                send(o.race.as_ref(), Cmd::Race(Box::new(state.race_spec())));
            }
        }
    });
}
