//! Presets, the share/lecture panel, and the keyboard-shortcut help.

use super::PanelProps;
use crate::page::{Page, PANELS};
use crate::presets::PRESETS;
use crate::state::{Action, State};
use crate::texts;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Load a story, keeping the room's display choices (lecture mode, hidden panels).
fn load_story(st: &UseReducerDispatcher<State>, now: &Page, preset: &'static crate::presets::Preset) {
    let mut page = (preset.page)();
    (page.lecture, page.hide) = (now.lecture, now.hide.clone());
    st.dispatch(Action::Load(Box::new(page)));
}

/// "◀ 2 of 10 ▶": the stories as a sequence of slides (PageUp / PageDown do the same).
#[function_component(StoryNav)]
pub fn story_nav(p: &PanelProps) -> Html {
    let at = crate::presets::active(&p.page).and_then(|a| PRESETS.iter().position(|p| p.key == a.key));
    let go = |step: i32| {
        let (s, page) = (p.dispatch.clone(), p.page.clone());
        Callback::from(move |_| load_story(&s, &page, crate::presets::neighbour(&page, step)))
    };
    let where_ = match at {
        Some(i) => format!("story {} of {}", i + 1, PRESETS.len()),
        None => format!("{} stories", PRESETS.len()),
    };
    html! {
        <div class="story-nav" role="group" aria-label="Stories, one after another">
            <button class="small" id="story-prev" onclick={go(-1)} disabled={at == Some(0)}
                title="Previous story (Page Up)" aria-label="Previous story">{ "◀" }</button>
            <span class="story-where" id="story-where">{ where_ }</span>
            <button class="small" id="story-next" onclick={go(1)} disabled={at == Some(PRESETS.len() - 1)}
                title="Next story (Page Down)" aria-label="Next story">{ "▶" }</button>
        </div>
    }
}

/// The story panels' part of the state: the settings, and the answer to the story's question.
#[derive(Properties, PartialEq, Clone)]
pub struct StoryProps {
    pub page: std::rc::Rc<Page>,
    pub dispatch: UseReducerDispatcher<State>,
    pub answer: Option<(String, usize)>,
}

impl StoryProps {
    fn panel(&self) -> PanelProps {
        PanelProps { page: self.page.clone(), dispatch: self.dispatch.clone() }
    }
}

#[derive(Properties, PartialEq)]
struct AskProps {
    /// The story whose question it is.
    story: &'static str,
    /// The choice made, if the question was answered.
    chosen: Option<usize>,
    dispatch: UseReducerDispatcher<State>,
    /// Prefix of the element ids (the panel's and the lecture caption's copies differ).
    id: &'static str,
}

/// Predict, then reveal: the story's question, its choices (keys 1–4), and once answered the
/// verdict and why.
#[function_component(Ask)]
fn ask(p: &AskProps) -> Html {
    let Some(q) = crate::presets::question(p.story) else { return html! {} };
    let choices = q.choices.iter().enumerate().map(|(i, label)| {
        let (d, story) = (p.dispatch.clone(), q.story);
        let on = Callback::from(move |_| d.dispatch(Action::Answer(story.to_string(), i)));
        let class = classes!(
            "choice",
            (p.chosen == Some(i)).then_some("chosen"),
            (p.chosen.is_some() && i == q.answer).then_some("right")
        );
        html! {
            <li><button {class} id={format!("{}-choice-{}", p.id, i + 1)} onclick={on} disabled={p.chosen.is_some()}
                aria-pressed={(p.chosen == Some(i)).to_string()}>
                <kbd>{ (i + 1).to_string() }</kbd>{ " " }{ *label }
            </button></li>
        }
    });
    let verdict = match p.chosen {
        Some(c) if c == q.answer => "Right. ",
        Some(_) => "Not quite. ",
        None => "",
    };
    html! {
        <div class="question" id={p.id} role="group" aria-labelledby={format!("{}-prompt", p.id)}>
            <p class="question-prompt" id={format!("{}-prompt", p.id)}>{ "Predict: " }{ q.prompt }</p>
            <ol class="choices">{ for choices }</ol>
            if p.chosen.is_some() {
                <p class="why" id={format!("{}-why", p.id)} role="status"><strong>{ verdict }</strong>{ q.why }</p>
            } else {
                <p class="note">{ format!("Press 1–{} or click a choice: the plot appears once you commit.", q.choices.len()) }</p>
            }
        </div>
    }
}

/// The story's text: until its question is answered, only its setting (the text gives the answer).
fn story_text(p: &StoryProps, pr: &'static crate::presets::Preset) -> &'static str {
    match crate::presets::question(pr.key) {
        Some(q) if p.answer.as_ref().is_none_or(|(s, _)| s != q.story) => q.setup,
        _ => pr.story,
    }
}

/// The active story's question, if it asks one.
fn question_of(p: &StoryProps, id: &'static str) -> Html {
    match crate::presets::active_question(&p.page) {
        Some(q) => {
            let chosen = p.answer.as_ref().filter(|(s, _)| s == q.story).map(|(_, c)| *c);
            html! { <Ask story={q.story} {chosen} dispatch={p.dispatch.clone()} {id} /> }
        }
        None => html! {},
    }
}

/// The active story as the lecture's large caption, beside or under the main plot.
#[function_component(LectureCaption)]
pub fn lecture_caption(p: &StoryProps) -> Html {
    html! {
        <aside class="lecture-caption" aria-label="The story">
            <StoryNav ..p.panel() />
            {
                match crate::presets::active(&p.page) {
                    Some(pr) => html! { <><h2 class="story-title">{ pr.title }</h2><p class="story lecture-story" id="lecture-story">{ story_text(p, pr) }</p></> },
                    None => html! { <p class="story lecture-story muted" id="lecture-story">{ "No story: the settings are your own. Page Down for the first story." }</p> },
                }
            }
            { question_of(p, "lecture-question") }
        </aside>
    }
}

/// One-click stories.
#[function_component(Presets)]
pub fn presets(p: &StoryProps) -> Html {
    let active = crate::presets::active(&p.page);
    html! {
        <section class="panel presets" aria-labelledby="h-presets">
            <h2 id="h-presets">{ "Stories" }</h2>
            <div class="preset-buttons">
                { for PRESETS.iter().map(|pr| {
                    let (s, page) = (p.dispatch.clone(), p.page.clone());
                    let on = Callback::from(move |_| load_story(&s, &page, pr));
                    let is_active = active.is_some_and(|a| a.key == pr.key);
                    html! {
                        <button class={classes!("preset", is_active.then_some("active"))} id={format!("preset-{}", pr.key)}
                            aria-pressed={is_active.to_string()} onclick={on}>{ pr.title }</button>
                    }
                }) }
            </div>
            <StoryNav ..p.panel() />
            if let Some(pr) = active {
                <p class="story" id="story">{ story_text(p, pr) }</p>
            }
            { question_of(p, "question") }
        </section>
    }
}

/// Copy link, lecture mode, and which panels a lecture link hides.
#[function_component(Share)]
pub fn share(p: &PanelProps) -> Html {
    let (st, page) = (&p.dispatch, &*p.page);
    let copied = use_state(|| false);
    let copy = {
        let copied = copied.clone();
        // From the state, not the address bar: that is written a moment later during a drag.
        let hash = crate::url::to_hash(page);
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
                <input type="checkbox" id="lecture" checked={page.lecture} onchange={lecture} />
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
                            <li><input type="checkbox" id={id.clone()} checked={page.hide.iter().any(|h| h == panel)} onchange={on} />
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

/// The keyboard-shortcut help (`?`): a modal dialog that takes the focus when it opens, keeps it
/// (Tab cycles inside it) until it is closed, and gives it back to where it was.
#[function_component(Shortcuts)]
pub fn shortcuts(p: &ShortcutsProps) -> Html {
    let close_button = use_node_ref();
    {
        let close_button = close_button.clone();
        use_effect_with(p.open, move |open| {
            let doc = web_sys::window().and_then(|w| w.document());
            let before = doc.as_ref().and_then(|d| d.active_element());
            if *open {
                if let Some(b) = close_button.cast::<web_sys::HtmlElement>() {
                    let _ = b.focus();
                }
            }
            let open = *open;
            move || {
                // Closing: the focus goes back to what had it before the dialog opened.
                if open {
                    if let Some(el) = before.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                        let _ = el.focus();
                    }
                }
            }
        });
    }
    if !p.open {
        return html! {};
    }
    let close = {
        let c = p.onclose.clone();
        Callback::from(move |_| c.emit(()))
    };
    // Tab and Shift+Tab stay on the dialog's one control.
    let trap = {
        let close_button = close_button.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Tab" {
                e.prevent_default();
                if let Some(b) = close_button.cast::<web_sys::HtmlElement>() {
                    let _ = b.focus();
                }
            }
        })
    };
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="h-keys" id="shortcuts" onkeydown={trap}>
            <div class="dialog">
                <h2 id="h-keys">{ "Keyboard shortcuts" }</h2>
                { Html::from_html_unchecked(AttrValue::Static(texts::SHORTCUTS_HTML)) }
                <button id="close-shortcuts" ref={close_button} onclick={close}>{ "Close" }</button>
            </div>
        </div>
    }
}
