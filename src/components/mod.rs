//! The Yew components (browser only). `App` owns the reducer and the worker bridge; everything
//! below it is a view of the state.

mod controls;
mod digits;
mod experiments;
mod outbox;
mod plot;
mod results;
mod share;
mod widgets;

use crate::page::Page;
use crate::protocol::Cmd;
use crate::state::{Action, State};
use controls::{EstimatorPicker, HyperControls, LossControls, NetworkControls, Playback, SeedControls};
use futures::channel::mpsc::UnboundedSender;
use gloo_events::{EventListener, EventListenerOptions};
use gloo_timers::callback::Timeout;
use results::Results;
use share::{Presets, Share, Shortcuts};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

impl Reducible for State {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let next = Rc::new(Rc::unwrap_or_clone(self).reduce(action));
        // A new job leaves now, before the page renders the change (see `outbox.rs`).
        outbox::observe(&next);
        next
    }
}

/// What a settings panel is given: the settings and the reducer's dispatcher. A worker frame
/// changes neither, so it does not re-render the panel.
#[derive(Properties, PartialEq, Clone)]
pub struct PanelProps {
    pub page: Rc<Page>,
    pub dispatch: UseReducerDispatcher<State>,
}

fn send(tx: &Rc<RefCell<Option<UnboundedSender<Cmd>>>>, cmd: Cmd) {
    outbox::send(tx.borrow().as_ref(), cmd);
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

/// The page's address without its `#…` (for the links in exported captions).
pub fn page_base() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .map(|h| h.split('#').next().unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// Writes the settings into the address bar with `history.replaceState`, [`AddressBar::QUIET_MS`]
/// after the last change (the latest settings win). Each replaceState costs the main thread several
/// milliseconds (measured in Chromium: ≈ 10 ms on the 2-vCPU development VM), so it is kept out of
/// a slider move's critical path — the move's render and the answers that follow — and a drag,
/// which fires dozens of input events a second, writes once, when it stops.
struct AddressBar {
    /// The pending write (dropping it cancels it).
    timer: RefCell<Option<Timeout>>,
}

impl AddressBar {
    const QUIET_MS: u32 = 250;

    fn new() -> AddressBar {
        AddressBar { timer: RefCell::new(None) }
    }

    fn write(&self, url: String) {
        let timer = Timeout::new(Self::QUIET_MS, move || {
            let Some(w) = web_sys::window() else { return };
            // Nothing to write when the address already says it (a pasted link, a hash typed by
            // hand): replaceState would cost as much as a real change.
            if w.location().hash().ok().as_deref() == Some(url.as_str()) {
                return;
            }
            if let Ok(h) = w.history() {
                let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
            }
        });
        // The previous write, if still pending, is cancelled: the latest settings win.
        *self.timer.borrow_mut() = Some(timer);
    }
}

fn prefers_reduced_motion() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-reduced-motion: reduce)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// The state on load: from the URL hash if there is one (clamped, with notes), else the default
/// lecture view (paused when the reader prefers reduced motion).
fn initial_state() -> State {
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    let (mut page, link_notes) = crate::url::from_hash(&hash);
    if hash.trim_start_matches('#').is_empty() && prefers_reduced_motion() {
        page.playing = false;
    }
    let mut state = State::new(page);
    let mut notes = link_notes;
    notes.append(&mut state.notes);
    state.notes = notes;
    state
}

/// Whether a key belongs to the focused element rather than to the page's shortcuts: typing in a
/// text field or a list (`<select>`), and the keys that move a focused slider. Everywhere else —
/// a button or a checkbox just clicked included — the shortcuts act the same: space plays or
/// pauses (it does not click the focused button again or toggle the checkbox); Enter still
/// activates the focused control.
fn key_belongs_to_focus(e: &web_sys::KeyboardEvent, key: &str) -> bool {
    let Some(el) = e.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return false };
    let tag = el.tag_name().to_ascii_lowercase();
    let kind = el.get_attribute("type").unwrap_or_default().to_ascii_lowercase();
    match tag.as_str() {
        "textarea" | "select" => true,
        // A focused plot steps through its values with the arrow keys (and Home, End, Esc).
        "canvas" => matches!(key, "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown" | "Home" | "End" | "Escape"),
        "input" => match kind.as_str() {
            "range" => matches!(
                key,
                "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown" | "PageUp" | "PageDown" | "Home" | "End"
            ),
            "checkbox" | "radio" | "button" | "submit" | "reset" => false,
            _ => true,
        },
        _ => el.get_attribute("contenteditable").is_some_and(|v| v != "false"),
    }
}

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(initial_state);
    let tx: Rc<RefCell<Option<UnboundedSender<Cmd>>>> = use_mut_ref(|| None);
    // The training race's and the gating run's own workers (`side.rs`).
    let race_tx: Rc<RefCell<Option<UnboundedSender<Cmd>>>> = use_mut_ref(|| None);
    let gating_tx: Rc<RefCell<Option<UnboundedSender<Cmd>>>> = use_mut_ref(|| None);
    let digits_tx: Rc<RefCell<Option<UnboundedSender<Cmd>>>> = use_mut_ref(|| None);
    let dist_tx: Rc<RefCell<Option<UnboundedSender<Cmd>>>> = use_mut_ref(|| None);
    let field_tx: Rc<RefCell<Option<UnboundedSender<Cmd>>>> = use_mut_ref(|| None);
    let worker_ok = use_state(|| true);
    let help = use_state(|| false);
    let controls_open = use_state(|| false);

    // Spawn the worker once.
    {
        let tx = tx.clone();
        let dispatcher = state.dispatcher();
        let worker_ok = worker_ok.clone();
        let race_tx = race_tx.clone();
        let gating_tx = gating_tx.clone();
        let digits_tx = digits_tx.clone();
        let dist_tx = dist_tx.clone();
        let first = state.clone();
        use_effect_with((), move |_| {
            *race_tx.borrow_mut() = crate::side::spawn(dispatcher.clone());
            *gating_tx.borrow_mut() = crate::side::spawn(dispatcher.clone());
            *digits_tx.borrow_mut() = crate::side::spawn(dispatcher.clone());
            *dist_tx.borrow_mut() = crate::side::spawn(dispatcher.clone());
            *tx.borrow_mut() = crate::pool::spawn(dispatcher);
            if tx.borrow().is_none() {
                worker_ok.set(false);
            }
            // New jobs and races are sent from the reducer from now on, this state's at once.
            outbox::connect(tx.borrow().clone(), race_tx.borrow().clone(), Rc::new((*first).clone()));
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
    // The race's own play / pause / step (a new race is sent by the outbox).
    {
        let tx = race_tx.clone();
        let id = state.race_id;
        use_effect_with(state.page.race_playing, move |playing| {
            send(&tx, if *playing { Cmd::Play { id } } else { Cmd::Pause { id } });
            || ()
        });
    }
    {
        let tx = race_tx.clone();
        let id = state.race_id;
        use_effect_with(state.race_step_counter, move |n| {
            if *n > 0 {
                send(&tx, Cmd::Step { id });
            }
            || ()
        });
    }
    // Gating: run when asked for, cancel when the settings change.
    {
        let tx = gating_tx.clone();
        let spec = state.gating_spec();
        let requested = state.gating.requested;
        use_effect_with(state.gating_id, move |_| {
            send(&tx, if requested { Cmd::Gating(Box::new(spec)) } else { Cmd::Cancel });
            || ()
        });
    }
    // The distributions of the estimate: a new run whenever what they are computed from changes
    // (after the spawn effect above, so the first run finds its worker).
    {
        let tx = dist_tx.clone();
        let spec = state.dist_spec();
        use_effect_with(state.dist_id, move |_| {
            send(&tx, Cmd::Distribution(Box::new(spec)));
            || ()
        });
    }
    // The gradient field: computed while its view is open, afresh when what it computes changes.
    {
        // Its worker is spawned when the view is first opened (a closed view costs nothing).
        let tx = field_tx.clone();
        let spec = state.field_spec();
        let open = state.page.field_open;
        let dispatcher = state.dispatcher();
        use_effect_with((state.field_id, open), move |_| {
            if open && tx.borrow().is_none() {
                *tx.borrow_mut() = crate::side::spawn(dispatcher);
            }
            send(&tx, if open { Cmd::Field(Box::new(spec)) } else { Cmd::Cancel });
            || ()
        });
    }
    // Digits: train when asked for, cancel when the settings change; skip and stop.
    {
        let tx = digits_tx.clone();
        let spec = state.digits_spec();
        let requested = state.digits.requested;
        use_effect_with(state.digits_id, move |_| {
            send(&tx, if requested { Cmd::Digits(Box::new(spec)) } else { Cmd::Cancel });
            || ()
        });
    }
    {
        let tx = digits_tx.clone();
        let id = state.digits_id;
        use_effect_with(state.digits_skips, move |n| {
            if *n > 0 {
                send(&tx, Cmd::Skip { id });
            }
            || ()
        });
    }
    {
        let tx = digits_tx.clone();
        use_effect_with(state.digits_stops, move |n| {
            if *n > 0 {
                send(&tx, Cmd::Cancel);
            }
            || ()
        });
    }
    // Every setting in the address bar (replaceState: no history entry per slider move).
    let address = use_memo((), |_| AddressBar::new());
    use_effect_with(state.page.clone(), move |page| {
        address.write(format!("#{}", crate::url::to_hash(page)));
        || ()
    });
    // A hand-edited link (hashchange) reloads every setting; keyboard shortcuts; resize redraws.
    let epoch = use_state(|| 0u32);
    // The latest settings, for the key handler (set up once, so it cannot capture them).
    let latest: Rc<RefCell<crate::state::Page>> = use_mut_ref(|| state.page.clone());
    *latest.borrow_mut() = state.page.clone();
    let help_open: Rc<RefCell<bool>> = use_mut_ref(|| false);
    *help_open.borrow_mut() = *help;
    {
        let latest = latest.clone();
        let help_open = help_open.clone();
        let dispatcher = state.dispatcher();
        let help = help.clone();
        let epoch = epoch.clone();
        use_effect_with((), move |_| {
            let window = web_sys::window().expect("a window");
            let d = dispatcher.clone();
            let on_hash = EventListener::new(&window, "hashchange", move |_| {
                let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
                let (page, notes) = crate::url::from_hash(&hash);
                d.dispatch(Action::LoadWithNotes(Box::new(page), notes));
            });
            let d = dispatcher.clone();
            // Not passive: a shortcut's key must not also scroll the page or click the focused button.
            let active = EventListenerOptions::enable_prevent_default();
            let on_key = EventListener::new_with_options(&window, "keydown", active, move |e| {
                let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else { return };
                let key = e.key();
                if e.ctrl_key() || e.meta_key() || e.alt_key() || key_belongs_to_focus(e, &key) {
                    return;
                }
                let story = |step: i32| {
                    let page = latest.borrow();
                    let mut next = (crate::presets::neighbour(&page, step).page)();
                    // The room's display choices stay when the story changes.
                    (next.lecture, next.hide) = (page.lecture, page.hide.clone());
                    Some(Action::Load(Box::new(next)))
                };
                let action = match key.as_str() {
                    " " => Some(Action::TogglePlay),
                    "ArrowRight" => Some(Action::Step),
                    // What presentation clickers send: the previous / next story, as slides.
                    "PageDown" => story(1),
                    "PageUp" => story(-1),
                    "r" => Some(Action::Reset),
                    "n" => Some(Action::NewSamples),
                    "l" => Some(Action::ToggleLecture),
                    // Predict, then reveal: answer the story's question.
                    "1" | "2" | "3" | "4" => {
                        let i = key.parse::<usize>().unwrap_or(1) - 1;
                        match crate::presets::active_question(&latest.borrow()) {
                            Some(q) if i < q.choices.len() => Some(Action::Answer(q.story.to_string(), i)),
                            _ => return,
                        }
                    }
                    "h" => Some(Action::ShowAllPanels),
                    "?" => {
                        help.set(true);
                        None
                    }
                    "Escape" => {
                        // Close the help if it is open, else leave the enlarged plot.
                        if *help_open.borrow() {
                            help.set(false);
                            None
                        } else if !latest.borrow().focus.is_empty() {
                            Some(Action::SetFocus(String::new()))
                        } else {
                            return;
                        }
                    }
                    _ => return,
                };
                e.prevent_default();
                if let Some(a) = action {
                    d.dispatch(a);
                }
            });
            let counter = std::cell::Cell::new(0u32);
            let on_resize = EventListener::new(&window, "resize", move |_| {
                counter.set(counter.get().wrapping_add(1));
                epoch.set(counter.get());
            });
            // The listeners live as long as the page (dropped, they are removed).
            move || drop((on_hash, on_key, on_resize))
        });
    }

    let export = {
        let state = state.clone();
        Callback::from(move |_| {
            let model = state.page.model.clone().to_model();
            let export = crate::exports::describe(&state, &page_base());
            download(
                &crate::exports::file_name("model", &export.config, "json"),
                "application/json",
                &model.to_json_pretty(),
            );
        })
    };
    let close_help = {
        let help = help.clone();
        Callback::from(move |_| help.set(false))
    };
    let open_help = {
        let help = help.clone();
        Callback::from(move |_| help.set(true))
    };
    let show_all = {
        let s = state.clone();
        Callback::from(move |_| s.dispatch(Action::ShowAllPanels))
    };
    let hidden = |panel: &str| state.page.hide.iter().any(|h| h == panel);
    // The settings, shared by every panel (a new Rc only when they change).
    let panel = PanelProps { page: use_memo(state.page.clone(), |p| p.clone()), dispatch: state.dispatcher() };
    let lecture = state.page.lecture;
    // In lecture mode the controls are hidden unless asked for (the header's "Controls").
    let all_hidden = crate::page::PANELS.iter().all(|p| hidden(p)) || (lecture && !*controls_open);
    let toggle_controls = {
        let open = controls_open.clone();
        Callback::from(move |_| open.set(!*open))
    };
    html! {
        <div class={classes!("app", lecture.then_some("lecture"))}>
        <a class="skip-link" href="#results">{ "Skip to the plots" }</a>
        <header class="top">
            <div class="title">
                <h1>{ "stochgrad" }</h1>
                <p class="tagline">{ "Gradient estimators for stochastic binary and categorical neurons, against the exact gradient (computed by enumerating every discrete configuration)." }</p>
            </div>
            <div class="status" id="status">{ state.status_line() }</div>
            <div class="sr-only" role="status" aria-live="polite">{ announcement(&state) }</div>
            <div class="header-buttons">
                if lecture {
                    <button id="toggle-controls" onclick={toggle_controls} aria-expanded={(*controls_open).to_string()}
                        title="Show or hide the controls (lecture mode hides them)">{ if *controls_open { "Hide controls" } else { "Controls" } }</button>
                }
                if !state.page.hide.is_empty() {
                    <button id="show-all" onclick={show_all} title="Show the hidden panels (h)">{ "Show hidden panels" }</button>
                }
                <button id="help" onclick={open_help} title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts">{ "?" }</button>
                <button id="export-model" onclick={export} title="Download MODEL.json: reproduce any figure with `stochgrad moments MODEL.json --estimator KEY`">{ "Export model" }</button>
            </div>
        </header>
        if !*worker_ok {
            <p class="failure" role="alert">{ "The computation workers could not be started (the page's module script was not found)." }</p>
        }
        <main class={classes!("layout", all_hidden.then_some("no-controls"))}>
            if !all_hidden {
                <aside class="controls" aria-label="Controls">
                    if !hidden("presets") { <Presets page={panel.page.clone()} dispatch={panel.dispatch.clone()} answer={state.answer.clone()} /> }
                    if !hidden("sampling") { <Playback ..panel.clone() /> }
                    if !hidden("estimators") { <EstimatorPicker ..panel.clone() /> }
                    if !hidden("hyper") { <HyperControls ..panel.clone() /> }
                    if !hidden("network") { <NetworkControls ..panel.clone() /> }
                    if !hidden("loss") { <LossControls ..panel.clone() /> }
                    if !hidden("seeds") { <SeedControls ..panel.clone() /> }
                    if !hidden("share") { <Share ..panel.clone() /> }
                </aside>
            }
            <Results state={state.clone()} page={panel.page.clone()} epoch={*epoch} />
        </main>
        <Shortcuts open={*help} onclose={close_help} />
        </div>
    }
}

/// What screen readers hear: milestones only (the exact answer, pausing), never every frame.
fn announcement(state: &State) -> String {
    if let Some(f) = &state.failure {
        return format!("Cannot compute: {f}");
    }
    let Some(e) = &state.exact else { return String::new() };
    let exact = format!(
        "Exact gradient computed: E[f] = {}, gradient norm {}.",
        crate::format::sig(e.expected_loss, 4),
        crate::format::sig(e.gradient_norm(), 4)
    );
    if state.page.playing {
        return format!("{exact} Sampling.");
    }
    format!("{exact} Paused after {} samples.", crate::format::thousands(state.samples_per_estimator()))
}
