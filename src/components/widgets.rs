//! Small reusable, labelled, keyboard-operable controls (native inputs only).

use std::sync::atomic::{AtomicUsize, Ordering};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// A unique DOM id for `<label for>`.
pub fn next_id(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

#[derive(Properties, PartialEq)]
pub struct SliderProps {
    pub label: AttrValue,
    /// Current value (in the slider's own units).
    pub value: f64,
    pub min: f64,
    pub max: f64,
    pub step: f64,
    /// Text shown next to the label and read by screen readers, e.g. "τ = 0.50".
    pub value_text: AttrValue,
    pub onchange: Callback<f64>,
    #[prop_or_default]
    pub hint: Option<AttrValue>,
    #[prop_or_default]
    pub id: Option<AttrValue>,
    #[prop_or_default]
    pub disabled: bool,
}

/// `<input type=range>` with a `<label>`, a live value and `aria-valuetext`. Reports on `input`
/// (while dragging) so the readout follows the thumb.
#[function_component(Slider)]
pub fn slider(p: &SliderProps) -> Html {
    let id = use_memo((), |_| next_id("slider"));
    let id: String = p.id.as_ref().map(|s| s.to_string()).unwrap_or_else(|| (*id).clone());
    let onchange = p.onchange.clone();
    let oninput = Callback::from(move |e: InputEvent| {
        let input: HtmlInputElement = e.target_unchecked_into();
        if let Ok(v) = input.value().parse::<f64>() {
            onchange.emit(v);
        }
    });
    html! {
        <div class="control slider">
            <label for={id.clone()}>
                <span class="label-text">{ p.label.clone() }</span>
                <output for={id.clone()} class="value">{ p.value_text.clone() }</output>
            </label>
            <input type="range" id={id} min={p.min.to_string()} max={p.max.to_string()} step={p.step.to_string()}
                value={p.value.to_string()} aria-valuetext={p.value_text.clone()} {oninput} disabled={p.disabled} />
            if let Some(h) = &p.hint { <small class="hint">{ h.clone() }</small> }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SelectProps {
    pub label: AttrValue,
    /// (value, text) pairs.
    pub options: Vec<(String, String)>,
    pub value: String,
    pub onchange: Callback<String>,
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

/// A labelled `<select>`.
#[function_component(Select)]
pub fn select(p: &SelectProps) -> Html {
    let id = use_memo((), |_| next_id("select"));
    let id: String = p.id.as_ref().map(|s| s.to_string()).unwrap_or_else(|| (*id).clone());
    let onchange = p.onchange.clone();
    let on = Callback::from(move |e: Event| {
        let s: HtmlSelectElement = e.target_unchecked_into();
        onchange.emit(s.value());
    });
    html! {
        <div class="control select">
            <label for={id.clone()}>{ p.label.clone() }</label>
            <select id={id} onchange={on}>
                { for p.options.iter().map(|(v, t)| html! {
                    <option value={v.clone()} selected={*v == p.value}>{ t.clone() }</option>
                }) }
            </select>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct NumberProps {
    pub label: AttrValue,
    pub value: u64,
    pub onchange: Callback<u64>,
    #[prop_or_default]
    pub id: Option<AttrValue>,
    /// A "Random" button beside the field (a seed drawn from the browser's crypto source).
    #[prop_or_default]
    pub random: Option<Callback<MouseEvent>>,
}

/// A labelled integer input (seeds). Invalid text is ignored until it parses.
#[function_component(NumberInput)]
pub fn number_input(p: &NumberProps) -> Html {
    let id = use_memo((), |_| next_id("number"));
    let id: String = p.id.as_ref().map(|s| s.to_string()).unwrap_or_else(|| (*id).clone());
    // What the user is typing, until it is committed (change): the page re-renders many times a
    // second while it samples or races, and each render would otherwise put the committed value
    // back into the field under the user's fingers.
    let draft = use_state(|| None::<String>);
    let oninput = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            draft.set(Some(input.value()));
        })
    };
    let onchange = p.onchange.clone();
    let on = {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Ok(v) = input.value().trim().parse::<u64>() {
                onchange.emit(v);
            }
            draft.set(None);
        })
    };
    let value = (*draft).clone().unwrap_or_else(|| p.value.to_string());
    html! {
        <div class="control number">
            <label for={id.clone()}>{ p.label.clone() }</label>
            <div class="number-row">
                <input type="number" id={id.clone()} min="0" step="1" value={value} oninput={oninput} onchange={on} inputmode="numeric" />
                if let Some(random) = p.random.clone() {
                    <button class="small" id={format!("{id}-random")} onclick={random}
                        title="Draw a new seed from the browser's crypto source; it is shown here and written into the link">{ "Random" }</button>
                }
            </div>
        </div>
    }
}

/// A table column: its head's label and tooltip (`""`: none).
pub type Column = (&'static str, &'static str);

/// A table's column heads, from a table of columns (one copy of the markup's code for every table).
pub fn heads(columns: &[Column]) -> Html {
    columns
        .iter()
        .map(|&(label, title)| html! { <th scope="col" title={(!title.is_empty()).then_some(title)}>{ label }</th> })
        .collect()
}
