//! The results side: the exact answer, the plots, the readout table and the estimator cards.

use super::digits::DigitsPanel;
use super::experiments::{FieldPanel, GatingPanel, RacePanel};
use super::plot::{Plot, PlotRef};
use super::widgets::{heads, Column, Select};
use crate::format::{cell, method, sig, squared};
use crate::page::Page;
use crate::plots::{look, Agreement, Bars, Convergence, DistPlot, LogitSweep, OneDraw, TauSweep, WidthSweep};
use crate::protocol::{Fig, MomentsView};
use crate::state::{Action, Row, State};
use std::rc::Rc;
use stochgrad_core::estimators::find_meta;
use stochgrad_core::params::Slot;
use yew::prelude::*;

/// The results show the whole state (they change with every worker frame); `page` is the same
/// settings the panels are given, shared.
#[derive(Properties, PartialEq)]
pub struct ResultsProps {
    pub state: UseReducerHandle<State>,
    pub page: Rc<Page>,
    pub epoch: u32,
}

fn fig(f: &Fig) -> String {
    cell(f.value, f.stderr)
}

/// A squared figure as the page shows it everywhere (see `format::squared`).
fn fig_floor(f: &Fig, floor: f64) -> String {
    squared(f.value, f.stderr, floor)
}

#[function_component(Results)]
pub fn results(p: &ResultsProps) -> Html {
    let st = &p.state;
    let (page, dispatch) = (&p.page, st.dispatcher());
    // What the views draw: derivatives w.r.t. the logit, or w.r.t. p when asked (see `per_p`).
    let shown = st.shown();
    let view: &State = &shown;
    let epoch = p.epoch;
    let exact = view.exact.as_ref();
    let summary = match exact {
        None => html! { <p class="summary">{ "Computing the exact gradient…" }</p> },
        Some(e) => html! {
            <p class="summary" id="exact-summary">
                { "Exact (enumeration): " }
                <span>{ "E[f] = " }<strong id="expected-loss" data-value={e.expected_loss.to_string()}>{ sig(e.expected_loss, 6) }</strong></span>
                { " · " }
                <span>{ "‖∇‖ = " }<strong id="grad-norm" data-value={e.gradient_norm().to_string()}>{ sig(e.gradient_norm(), 6) }</strong></span>
                { format!(" · {} · computed in {:.0} ms", crate::format::count(e.gradient.len(), "parameter"), e.millis) }
            </p>
        },
    };
    // The picker is drawn from the settings, so it stays put while new answers are computed.
    let param_select = {
        let s = st.clone();
        let m = &st.page.model;
        let param = st.page.param;
        let slot = Slot::of(&m.output_widths(), m.inputs, param);
        let name = slot.map_or(String::new(), |s| s.name());
        let value = exact.and_then(|e| e.gradient.get(param)).map_or("…".to_string(), |g| sig(*g, 6));
        let per_p = view.per_p();
        let label = match per_p {
            Some(pp) => format!("∂E[f]/∂p = {value} (p = σ(a) = {})", sig(pp.p, 4)),
            None if st.single_logit() => format!("∂E[f]/∂a = {value} (a = {name}, the logit)"),
            None => format!("∂E[f]/∂{name} = {value}"),
        };
        let wrt = {
            let s = st.clone();
            Callback::from(move |_| s.dispatch(Action::ToggleWrtP))
        };
        html! {
            <div class="param-row">
                <ParamPicker widths={m.output_widths()} per_unit={m.outputs_per_unit()} inputs={m.inputs} value={param}
                    onchange={Callback::from(move |i: usize| s.dispatch(Action::SetParam(i)))} />
                <span class="param-gradient" id="param-gradient">{ label }</span>
                if st.single_logit() {
                    <label class="toggle" title={crate::texts::WRT_P}>
                        <input type="checkbox" id="wrt-p" checked={st.page.wrt_p} onchange={wrt} />
                        { " derivatives w.r.t. p = σ(a) (the REBAR/RELAX papers' convention)" }
                    </label>
                }
            </div>
        }
    };
    let toggle = {
        let s = st.clone();
        Callback::from(move |_| s.dispatch(Action::ToggleVarXEvals))
    };
    let all_notes: Vec<String> = st.notes.iter().cloned().chain(crate::texts::degenerate_note(st)).collect();
    let has_notes = !all_notes.is_empty();
    let notes = all_notes.into_iter().map(|n| html! { <li>{ n }</li> });
    let lecture = st.page.lecture;
    let focus = st.page.focus.clone();
    let on_focus = |name: &'static str| {
        let s = st.clone();
        let focused = focus == name;
        Callback::from(move |_| s.dispatch(Action::SetFocus(if focused { String::new() } else { name.to_string() })))
    };
    // After a settings change the plots of the exact answers keep their last picture until the
    // new answers are in (see `Plot::hold`).
    let hold = !st.exact_phase_done();
    // What exports say about this configuration (captions, CSV headers, file names).
    let export = std::rc::Rc::new(crate::exports::describe(view, &super::page_base()));
    // The focused plot (or the convergence plot) comes first, full width.
    let first = if focus.is_empty() { "convergence" } else { focus.as_str() };
    let logit = LogitSweep::from_state(view);
    let mut plots: Vec<(&str, Html)> = vec![
        (
            "convergence",
            html! {
                <>
                    { param_select }
                    <Plot id="plot-convergence" data={PlotRef::new(Convergence::from_state(view))} {epoch} {lecture} {hold} export={Some(export.clone())}
                        focused={focus == "convergence"} onfocus={on_focus("convergence")} />
                </>
            },
        ),
        (
            "bars",
            html! {
                <>
                    <label class="toggle">
                        <input type="checkbox" id="var-x-evals" checked={st.page.var_x_evals} onchange={toggle} />
                        { " show variance × loss evaluations (the cost-fair comparison)" }
                    </label>
                    <Plot id="plot-bars" data={PlotRef::new(Bars::from_state(view))} {epoch} {lecture} {hold} export={Some(export.clone())}
                        focused={focus == "bars"} onfocus={on_focus("bars")} />
                </>
            },
        ),
        (
            "agreement",
            html! {
                <Plot id="plot-agreement" data={PlotRef::new(Agreement::from_state(view))} {epoch} {lecture} {hold} export={Some(export.clone())}
                    focused={focus == "agreement"} onfocus={on_focus("agreement")} />
            },
        ),
        (
            "dist",
            html! {
                <Plot id="plot-dist" data={PlotRef::new(DistPlot::from_state(st))} {epoch} {lecture} export={Some(export.clone())}
                    focused={focus == "dist"} onfocus={on_focus("dist")} />
            },
        ),
        (
            "tau",
            html! {
                <Plot id="plot-tau" data={PlotRef::new(TauSweep::from_state(view))} {epoch} {lecture} export={Some(export.clone())}
                    focused={focus == "tau"} onfocus={on_focus("tau")} />
            },
        ),
        (
            "logit",
            html! {
                <>
                    <Plot id="plot-logit" data={PlotRef::new(logit.clone())} {epoch} {lecture} export={Some(export.clone())}
                        focused={focus == "logit"} onfocus={on_focus("logit")} />
                    <p class="note" id="logit-caption">{logit.caption()}</p>
                </>
            },
        ),
        (
            "width",
            html! {
                <Plot id="plot-width" data={PlotRef::new(WidthSweep::from_state(view))} {epoch} {lecture} export={Some(export.clone())}
                    focused={focus == "width"} onfocus={on_focus("width")} />
            },
        ),
    ];
    // One draw at a time: its plot after the convergence plot.
    if st.page.single {
        plots.insert(
            1,
            (
                "draw",
                html! {
                    <Plot id="plot-draw" data={PlotRef::new(OneDraw::from_state(view))} {epoch} {lecture} export={Some(export.clone())}
                        focused={focus == "draw"} onfocus={on_focus("draw")} />
                },
            ),
        );
    }
    // Categorical units: the probability simplex of one unit of three classes (a note says how to
    // get it otherwise).
    if st.page.model.unit == stochgrad_core::settings::UnitChoice::Categorical {
        let simplex = crate::plots::Simplex::from_state(view);
        plots.push((
            "simplex",
            html! {
                <>
                    <Plot id="plot-simplex" data={PlotRef::new(simplex.clone())} {epoch} {lecture} export={Some(export.clone())}
                        focused={focus == "simplex"} onfocus={on_focus("simplex")} />
                    <p class="note" id="simplex-caption">{simplex.caption()}</p>
                </>
            },
        ));
    }
    if let Some(i) = plots.iter().position(|(n, _)| *n == first) {
        let p = plots.remove(i);
        plots.insert(0, p);
    }
    // Predict, then reveal: the plots that answer the story's question stay hidden until the
    // student commits to a choice, then animate in.
    let asked = crate::presets::active_question(page);
    let answered = asked.is_some_and(|q| st.answered(q.story).is_some());
    let plots = plots.into_iter().map(|(name, h)| {
        if !asked.is_some_and(|q| q.hides.contains(&name)) {
            (name, h)
        } else if answered {
            (name, html! { <div class="reveal" id={format!("revealed-{name}")}>{ h }</div> })
        } else {
            let hint = "Commit to an answer to see the plot";
            (name, html! { <div class="plot-hidden" id={format!("hidden-{name}")} role="note">{ hint }</div> })
        }
    });
    // Lecture mode: the first plot fills the screen, the story a large caption beside it.
    let plots = plots.enumerate().map(|(i, (name, h))| {
        if i == 0 && lecture {
            html! {
                <div class="cell wide stage" key={name}>
                    <super::share::LectureCaption page={page.clone()} dispatch={dispatch.clone()} answer={st.answer.clone()} />
                    <div class="stage-plot">{ h }</div>
                </div>
            }
        } else {
            html! { <div class={classes!("cell", (i == 0).then_some("wide"))} key={name}>{ h }</div> }
        }
    });
    html! {
        <section class="results" id="results" tabindex="-1" aria-label="Results">
            { summary }
            if has_notes {
                <ul class="notes" role="note">{ for notes }</ul>
            }
            if let Some((note, label, _)) = st.degenerate() {
                <p class="notes degenerate" id="degenerate" role="note">
                    { note }{ " " }
                    // The fix of the state at the click (an action is sent once, so it is made again per click).
                    <button class="small" id="degenerate-fix" onclick={ let s = st.clone(); Callback::from(move |_| if let Some((_, _, fix)) = s.degenerate() { s.dispatch(fix) }) }>{ label }</button>
                </p>
            }
            if let Some(f) = &st.failure {
                <p class="failure" role="alert">{ f.clone() }</p>
            }
            <div class="plot-grid">{ for plots }</div>
            <Readout state={st.clone()} />
            <RacePanel page={page.clone()} race={st.race.clone()} {epoch} dispatch={dispatch.clone()} />
            <FieldPanel page={page.clone()} field={st.field.clone()} {epoch} dispatch={dispatch.clone()} />
            <GatingPanel page={page.clone()} gating={st.gating.clone()} dispatch={dispatch.clone()} />
            <DigitsPanel page={page.clone()} digits={st.digits.clone()} {epoch} dispatch={dispatch.clone()} />
            <Cards ..CardsProps::of(st) />
            <HowToRead />
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct ParamPickerProps {
    pub widths: Vec<usize>,
    pub inputs: usize,
    /// The parameter's index in the model's order.
    pub value: usize,
    /// Outputs per unit: K for categorical units (then an output is "unit u, class c"), else 1.
    #[prop_or(1)]
    pub per_unit: usize,
    pub onchange: Callback<usize>,
}

/// The parameter shown in the convergence plot, as layer, unit and input (or bias): three short
/// lists instead of one option per parameter. A `<select>` of 216 options (12 + 12 units) cost
/// ≈ 15 ms of the main thread each time the network changed — inserting the options, then shaping
/// every label to size the box.
#[function_component(ParamPicker)]
pub fn param_picker(p: &ParamPickerProps) -> Html {
    let (widths, inputs) = (p.widths.clone(), p.inputs);
    let slot = Slot::of(&widths, inputs, p.value).unwrap_or(Slot { layer: 0, unit: 0, from: None });
    let fan_in = if slot.layer == 0 { inputs } else { widths[slot.layer - 1] };
    // A change of one list: the new place, clamped into the network, as an index.
    let change = |edit: fn(Slot, &str) -> Slot| {
        let (widths, onchange) = (widths.clone(), p.onchange.clone());
        Callback::from(move |v: String| onchange.emit(edit(slot, &v).clamped(&widths, inputs).index(&widths, inputs)))
    };
    // Layers are numbered from 1 on the page (W1, c1), in the option values too.
    let layers: Vec<(String, String)> = (1..=widths.len()).map(|k| (k.to_string(), k.to_string())).collect();
    let k = p.per_unit.max(1);
    let class = |i: usize| if k > 1 { format!("{i} (unit {}, class {})", i / k, i % k) } else { i.to_string() };
    let units: Vec<(String, String)> = (0..widths[slot.layer]).map(|i| (i.to_string(), class(i))).collect();
    let source =
        |j: usize| if slot.layer == 0 { format!("input x[{j}]") } else { format!("h{}[{}]", slot.layer, class(j)) };
    let mut sources: Vec<(String, String)> =
        (0..fan_in).map(|j| (j.to_string(), format!("weight from {}", source(j)))).collect();
    sources.push(("bias".to_string(), "bias".to_string()));
    let from = slot.from.map_or("bias".to_string(), |j| j.to_string());
    html! {
        <fieldset class="param-picker">
            <legend>{ "Parameter shown in the convergence plot" }</legend>
            <Select label="layer" id={Some(AttrValue::from("param-layer"))} options={layers} value={(slot.layer + 1).to_string()}
                onchange={change(|s, v| Slot { layer: v.parse::<usize>().unwrap_or(1).saturating_sub(1), ..s })} />
            <Select label={if k > 1 { "output" } else { "unit" }} id={Some(AttrValue::from("param-unit"))} options={units} value={slot.unit.to_string()}
                onchange={change(|s, v| Slot { unit: v.parse().unwrap_or(0), ..s })} />
            <Select label="parameter" id={Some(AttrValue::from("param-from"))} options={sources} value={from}
                onchange={change(|s, v| Slot { from: v.parse().ok(), ..s })} />
        </fieldset>
    }
}

#[derive(Properties, PartialEq)]
pub struct StateProps {
    pub state: UseReducerHandle<State>,
}

/// One row's cells from its best figures.
fn figure_cells(v: &MomentsView, floor: f64) -> Html {
    let cos = v.cosine.as_ref().map_or("—".to_string(), fig);
    html! {
        <>
            <td class="num bias">{ fig_floor(&v.bias_sq, floor) }</td>
            <td class="num var">{ fig_floor(&v.variance_trace, floor) }</td>
            <td class="num mse">{ fig_floor(&v.mse, floor) }</td>
            <td class="num cos">{ cos }</td>
            <td class="num evals">{ sig(v.loss_evaluations, 3) }</td>
            <td class="num vxe">{ fig_floor(&v.variance_x_evals, floor) }</td>
        </>
    }
}

/// The readout table: each estimator's bias², variance, MSE, cosine and how they were obtained.
#[function_component(Readout)]
pub fn readout(p: &StateProps) -> Html {
    let handle = &p.state;
    let shown = handle.shown();
    let st: &State = &shown;
    let floor = st.exact.as_ref().map_or(0.0, |e| e.rounding_floor());
    let rows = st.page.estimators.iter().map(|key| {
        let Some(m) = find_meta(key) else { return html! {} };
        let row: Row = st.rows.get(key).cloned().unwrap_or_default();
        let look = look(key);
        let name = html! {
            <th scope="row"><span class="swatch" style={format!("background:{}", look.css)} aria-hidden="true"></span>{ m.name }</th>
        };
        if let Some(reason) = &row.not_applicable {
            return html! { <tr class="na" data-key={key.clone()}>{ name }<td colspan="8">{ reason.to_string() }</td></tr> };
        }
        match row.best() {
            None if row.mc_only.is_some() => {
                let why = if st.page.playing { "Monte Carlo only: sampling…" } else { "Monte Carlo only: press ▶ Play to sample" };
                html! { <tr data-key={key.clone()}>{ name }<td colspan="8" class="pending" title={row.mc_only.clone().unwrap_or_default()}>{ why }</td></tr> }
            }
            None => html! { <tr data-key={key.clone()}>{ name }<td colspan="8" class="pending">{ "computing…" }</td></tr> },
            Some(v) => {
                let label = method(&v.method, None);
                // Every row that has drawn samples says how many (the convergence plot's).
                let drawn = row.mc.as_ref().and_then(|mc| mc.samples).map_or(String::new(), crate::format::thousands);
                let idealised = if m.stateful && row.exact.is_some() { " · idealised baseline" } else { "" };
                let own = if v.reference.is_some() { " · vs own objective (a different unit)" } else { "" };
                // Why a figure is Monte Carlo (past an enumeration limit, common downstream noise,
                // learned while sampling), on the page and not only in the CSV.
                let why = (v.method == "monte-carlo").then(|| row.mc_only.clone().or_else(|| v.notes.first().cloned())).flatten();
                html! {
                    <tr data-key={key.clone()} data-method={v.method.clone()}
                        data-bias={v.bias_sq.value.to_string()} data-variance={v.variance_trace.value.to_string()}
                        data-mean={format!("{:?}", v.mean)}>
                        { name }
                        <td class="method" title={v.notes.join("; ")}>
                            { format!("{label}{idealised}{own}") }
                            if let Some(why) = why { <small class="why">{ why }</small> }
                        </td>
                        { figure_cells(v, floor) }
                        <td class="num drawn">{ drawn }</td>
                    </tr>
                }
            }
        }
    });
    let csv = {
        let s = st.clone();
        Callback::from(move |_| {
            let export = crate::exports::describe(&s, &super::page_base());
            let name = crate::exports::file_name("figures", &export.config, "csv");
            let text = crate::exports::csv_with_header(
                "Readout (each estimator's figures)",
                &export,
                &crate::readout::readout_csv(&s),
            );
            super::download(&name, "text/csv", &text);
        })
    };
    html! {
        <section class="readout" aria-labelledby="h-readout">
            <h2 id="h-readout">
                { "Readout" }
                <button class="small" id="readout-csv" onclick={csv} title="Download this table as CSV">{ "CSV" }</button>
            </h2>
            <div class="table-wrap">
            <table id="readout">
                <thead><tr>{ heads(&READOUT_COLUMNS) }</tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
            </div>
            <p class="legend-note" id="readout-convention">{ crate::texts::convention(st) }</p>
            <p class="legend-note">{ crate::texts::READOUT_NOTE }</p>
            <p class="legend-note">{ crate::texts::DEBIASED_NOTE }</p>
        </section>
    }
}

/// The cards' part of the state: each selected estimator's key and why it has no exact moments.
#[derive(Properties, PartialEq)]
pub struct CardsProps {
    pub cards: Vec<(String, Option<String>)>,
}

impl CardsProps {
    pub fn of(st: &State) -> CardsProps {
        let why = |k: &String| {
            let row = st.rows.get(k)?;
            row.not_applicable.as_ref().map(|r| r.to_string()).or(row.mc_only.clone())
        };
        CardsProps { cards: st.page.estimators.iter().map(|k| (k.clone(), why(k))).collect() }
    }
}

/// Each selected estimator's formula (MathML), explanation and citation.
#[function_component(Cards)]
pub fn cards(p: &CardsProps) -> Html {
    let cards = p.cards.iter().filter_map(|(k, note)| Some((find_meta(k)?, note))).map(|(m, note)| {
        let look = look(m.key);
        html! {
            <article class="card" id={format!("card-{}", m.key)}>
                <h3>
                    <span class="swatch" style={format!("background:{}", look.css)} aria-hidden="true"></span>
                    { m.name }
                    <span class={classes!("badge", if m.unbiased { "unbiased" } else { "biased" })}>{ if m.unbiased { "unbiased" } else { "biased" } }</span>
                </h3>
                <div class="formula">{ Html::from_html_unchecked(AttrValue::from(m.formula_mathml)) }</div>
                <p>{ m.explanation }</p>
                <p class="meta">{ format!("Loss evaluations: {}. Needs ∂f/∂h: {}. ", m.evaluations, if m.needs_loss_gradient { "yes" } else { "no" }) }</p>
                if let Some(n) = note { <p class="meta">{ n }</p> }
                <p class="cite">{ m.citation }</p>
            </article>
        }
    });
    html! {
        <section class="cards" aria-labelledby="h-cards">
            <h2 id="h-cards">{ "The estimators" }</h2>
            <div class="card-grid">{ for cards }</div>
        </section>
    }
}

#[function_component(HowToRead)]
pub fn how_to_read() -> Html {
    let items = crate::texts::HOW_TO_READ.iter().map(|(term, text)| {
        html! { <><dt>{ *term }</dt><dd>{ *text }</dd></> }
    });
    html! {
        <section class="how" aria-labelledby="h-how">
            <h2 id="h-how">{ "How to read the plots" }</h2>
            <dl>{ for items }</dl>
        </section>
    }
}

/// The readout's columns: label and tooltip.
const READOUT_COLUMNS: [Column; 9] = [
    ("estimator", ""),
    ("method", ""),
    ("bias²", "‖E[ĝ] − ∇‖²; Monte Carlo: debiased, ± standard error"),
    ("variance", "tr Var[ĝ], the sum of the parameters' variances"),
    ("MSE", "bias² + variance"),
    ("cosine", "cos(E[ĝ], ∇): 1 = right direction, −1 = opposite"),
    ("evals", "loss evaluations per estimate"),
    ("var × evals", "variance × loss evaluations"),
    ("samples", "Monte-Carlo samples drawn so far (for the convergence plot)"),
];
