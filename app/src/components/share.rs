//! Presets, the share/lecture panel, and the keyboard-shortcut help.

use crate::presets::PRESETS;
use crate::state::{Action, Page, State};
use crate::url::PANELS;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct PanelProps {
    pub state: UseReducerHandle<State>,
}

/// Whether the current settings are a preset's (ignoring what does not change the pictures' story).
fn same_story(a: &Page, b: &Page) -> bool {
    let strip =
        |p: &Page| Page { playing: true, param: 0, lecture: false, hide: vec![], focus: String::new(), ..p.clone() };
    strip(a) == strip(b)
}

/// One-click stories.
#[function_component(Presets)]
pub fn presets(p: &PanelProps) -> Html {
    let st = &p.state;
    let active = PRESETS.iter().find(|pr| same_story(&(pr.page)(), &st.page));
    html! {
        <section class="panel presets" aria-labelledby="h-presets">
            <h2 id="h-presets">{ "Stories" }</h2>
            <div class="preset-buttons">
                { for PRESETS.iter().map(|pr| {
                    let s = st.clone();
                    let page = pr.page;
                    let lecture = st.page.lecture;
                    let hide = st.page.hide.clone();
                    let on = Callback::from(move |_| {
                        let mut page = page();
                        // Keep the room's display choices when switching stories.
                        page.lecture = lecture;
                        page.hide = hide.clone();
                        s.dispatch(Action::Load(Box::new(page)));
                    });
                    let is_active = active.is_some_and(|a| a.key == pr.key);
                    html! {
                        <button class={classes!("preset", is_active.then_some("active"))} id={format!("preset-{}", pr.key)}
                            aria-pressed={is_active.to_string()} onclick={on}>{ pr.title }</button>
                    }
                }) }
            </div>
            if let Some(pr) = active {
                <p class="story" id="story">{ pr.story }</p>
            }
        </section>
    }
}

/// Copy link, lecture mode, and which panels a lecture link hides.
#[function_component(Share)]
pub fn share(p: &PanelProps) -> Html {
    let st = &p.state;
    let copied = use_state(|| false);
    let copy = {
        let copied = copied.clone();
        // From the state, not the address bar: that is written a moment later during a drag.
        let hash = crate::url::to_hash(&st.page);
        Callback::from(move |_| {
            if let Some(w) = web_sys::window() {
                if let Ok(href) = w.location().href() {
                    let link = format!("{}#{hash}", href.split('#').next().unwrap_or_default());
                    let _ = w.navigator().clipboard().write_text(&link);
                    copied.set(true);
                }
            }
        })
    };
    let lecture = {
        let s = st.clone();
        Callback::from(move |_| s.dispatch(Action::ToggleLecture))
    };
    html! {
        <section class="panel share" aria-labelledby="h-share">
            <h2 id="h-share">{ "Share and lecture" }</h2>
            <div class="buttons">
                <button id="copy-link" onclick={copy} title="Every setting is in the address bar; this copies it">{ "Copy link" }</button>
                if *copied { <span class="note" role="status">{ "Link copied." }</span> }
            </div>
            <label class="toggle">
                <input type="checkbox" id="lecture" checked={st.page.lecture} onchange={lecture} />
                { " Lecture mode (large type, thick lines)" }
            </label>
            <details>
                <summary>{ "Hide panels (for a lecture link)" }</summary>
                <ul class="hide-list">
                    { for PANELS.iter().filter(|p| **p != "share").map(|panel| {
                        let s = st.clone();
                        let key = panel.to_string();
                        let on = Callback::from(move |_: Event| s.dispatch(Action::TogglePanel(key.clone())));
                        let id = format!("hide-{panel}");
                        html! {
                            <li><input type="checkbox" id={id.clone()} checked={st.page.hide.iter().any(|h| h == panel)} onchange={on} />
                            <label for={id}>{ format!(" {panel}") }</label></li>
                        }
                    }) }
                </ul>
                <p class="note">{ "Hidden panels stay hidden for anyone opening the link; the keyboard shortcuts still work. Press “h” to show everything again." }</p>
            </details>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct ShortcutsProps {
    pub open: bool,
    pub onclose: Callback<()>,
}

/// The keyboard-shortcut help (`?`).
#[function_component(Shortcuts)]
pub fn shortcuts(p: &ShortcutsProps) -> Html {
    if !p.open {
        return html! {};
    }
    let close = {
        let c = p.onclose.clone();
        Callback::from(move |_| c.emit(()))
    };
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="h-keys" id="shortcuts">
            <div class="dialog">
                <h2 id="h-keys">{ "Keyboard shortcuts" }</h2>
                <table>
                    <tbody>
                        <tr><th scope="row"><kbd>{ "Space" }</kbd></th><td>{ "play / pause" }</td></tr>
                        <tr><th scope="row"><kbd>{ "→" }</kbd></th><td>{ "step: draw one frame, then pause" }</td></tr>
                        <tr><th scope="row"><kbd>{ "r" }</kbd></th><td>{ "reset (same seeds)" }</td></tr>
                        <tr><th scope="row"><kbd>{ "n" }</kbd></th><td>{ "new samples (next sampling seed)" }</td></tr>
                        <tr><th scope="row"><kbd>{ "l" }</kbd></th><td>{ "lecture mode on / off" }</td></tr>
                        <tr><th scope="row"><kbd>{ "h" }</kbd></th><td>{ "show every hidden panel" }</td></tr>
                        <tr><th scope="row"><kbd>{ "?" }</kbd></th><td>{ "this help" }</td></tr>
                        <tr><th scope="row"><kbd>{ "Esc" }</kbd></th><td>{ "close this help" }</td></tr>
                    </tbody>
                </table>
                <p class="note">{ "Shortcuts are off while typing in a field. Sliders also move with the arrow keys, Page Up/Down, Home and End when focused." }</p>
                <button id="close-shortcuts" onclick={close}>{ "Close" }</button>
            </div>
        </div>
    }
}
