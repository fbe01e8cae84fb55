//! The two experiments below the readout: the training race and the gating miniature. Each runs in
//! a worker of its own (`side.rs`); these components only show the reducer's state and dispatch.

use super::plot::{Plot, PlotRef};
use super::widgets::{heads, Column, NumberInput, Select, Slider};
use crate::format::{sig, thousands, with_se};
use crate::page::Page;
use crate::plots::{look, FieldPlot, RacePlot};
use crate::state::{limits, Action, FieldView, GatingView, RaceRow, RaceView, State};
use std::rc::Rc;
use stochgrad_core::estimators::{find_meta, Family};
use stochgrad_core::gating::GatingRow;
use stochgrad_core::train::Optimizer;
use yew::prelude::*;

/// The race panel's part of the state: the settings, the race's rows, the plots' redraw epoch.
#[derive(Properties, PartialEq)]
pub struct RaceProps {
    pub page: Rc<Page>,
    pub race: RaceView,
    pub epoch: u32,
    pub dispatch: UseReducerDispatcher<State>,
}

/// The gating panel's part: the settings and the run's rows.
#[derive(Properties, PartialEq)]
pub struct GatingProps {
    pub page: Rc<Page>,
    pub gating: GatingView,
    pub dispatch: UseReducerDispatcher<State>,
}

fn act(state: &UseReducerDispatcher<State>, action: fn() -> Action) -> Callback<MouseEvent> {
    let s = state.clone();
    Callback::from(move |_| s.dispatch(action()))
}

/// The steps budgets offered.
const RACE_BUDGETS: [u64; 5] = [100, 300, 1000, 3000, 10_000];

/// Every selected estimator trains the same network from the same start with the same seed.
#[function_component(RacePanel)]
pub fn race_panel(p: &RaceProps) -> Html {
    let (st, page, race) = (&p.dispatch, &*p.page, &p.race);
    let playing = page.race_playing;
    let toggle = if playing { act(st, || Action::RacePause) } else { act(st, || Action::RacePlay) };
    let on_steps = {
        let s = st.clone();
        Callback::from(move |v: String| s.dispatch(Action::SetRaceSteps(v.parse().unwrap_or(1000))))
    };
    // One round value per step (see `ladder.rs`).
    let lrs = crate::ladder::ladder(limits::RACE_LR.0, limits::RACE_LR.1);
    let (lr_i, lr_max) = (crate::ladder::nearest(&lrs, page.race_lr) as f64, (lrs.len() - 1) as f64);
    let on_lr = {
        let s = st.clone();
        Callback::from(move |v: f64| {
            s.dispatch(Action::SetRaceLr(lrs[(v.round().max(0.0) as usize).min(lrs.len() - 1)]))
        })
    };
    let on_opt = {
        let s = st.clone();
        Callback::from(move |v: String| {
            s.dispatch(Action::SetRaceOptimizer(Optimizer::from_key(&v).unwrap_or(Optimizer::Sgd)))
        })
    };
    let on_axis = {
        let s = st.clone();
        let by_evals = page.race_by_evals;
        Callback::from(move |v: String| {
            if (v == "evals") != by_evals {
                s.dispatch(Action::ToggleRaceAxis)
            }
        })
    };
    let focused = page.focus == "race";
    let on_focus = {
        let s = st.clone();
        Callback::from(move |_| s.dispatch(Action::SetFocus(if focused { String::new() } else { "race".into() })))
    };
    let budget = page.race_steps;
    let done = race.rows.values().filter_map(|r| r.reports.last()).map(|r| r.step).max().unwrap_or(0);
    let status = if let Some(f) = &race.failure {
        format!("Cannot race: {f}")
    } else if race.rows.is_empty() {
        "Starting the race…".to_string()
    } else if race.finished {
        format!("Finished: {} steps per estimator.", thousands(budget))
    } else if playing {
        format!("Racing: step {} of {}…", thousands(done), thousands(budget))
    } else {
        format!("Paused at step {} of {}. Press ▶ Race to go on.", thousands(done), thousands(budget))
    };
    // What screen readers hear: the milestones, not every step (the visible line changes ten
    // times a second while racing).
    let spoken = if let Some(f) = &race.failure {
        format!("Cannot race: {f}")
    } else if race.finished {
        format!("Race finished: {} steps per estimator.", thousands(budget))
    } else if playing {
        format!("Racing to {} steps.", thousands(budget))
    } else if race.rows.is_empty() {
        String::new()
    } else {
        format!("Race paused at step {}.", thousands(done))
    };
    let one_unit = race.rows.values().any(|r| r.reports.first().is_some_and(|r| r.p.is_some()));
    let rows = page.estimators.iter().map(|key| race_row(key, race.rows.get(key), one_unit));
    html! {
        <section class="race" aria-labelledby="h-race" id="race">
            <h2 id="h-race">{ "Training race" }</h2>
            <p class="legend-note">{ "Every selected estimator trains the same network from the same initial parameters with the same seed (the sampling seed): one gradient estimate per step, then the exact E[f] at the new parameters. Loss evaluations are the fair x-axis: an estimator that spends more evaluations per step should be compared at equal cost." }</p>
            <div class="race-controls">
                <div class="buttons">
                    <button id="race-play" class={classes!("primary", playing.then_some("active"))} aria-pressed={playing.to_string()}
                        onclick={toggle} title="Train / pause the race">
                        { if playing { "❚❚ Pause" } else { "▶ Race" } }
                    </button>
                    <button id="race-step" onclick={act(st, || Action::RaceStep)} title="One step of every estimator, then pause">{ "Step" }</button>
                    <button id="race-reset" onclick={act(st, || Action::RaceReset)} title="Start the race over from the same parameters and seed">{ "Restart" }</button>
                </div>
                <Select label="Steps budget" id={Some(AttrValue::from("race-steps"))}
                    options={budget_options(budget)} value={budget.to_string()} onchange={on_steps} />
                <Slider label="Learning rate (log scale)" id={Some(AttrValue::from("race-lr"))}
                    value={lr_i} min={0.0} max={lr_max} step={1.0}
                    value_text={format!("lr = {}", sig(page.race_lr, 2))} onchange={on_lr} />
                <Select label="Optimizer" id={Some(AttrValue::from("race-optimizer"))}
                    options={vec![("sgd".to_string(), "SGD: θ ← θ − lr·ĝ".to_string()), ("adam".to_string(), "Adam (β₁ 0.9, β₂ 0.999)".to_string())]}
                    value={page.race_optimizer.key().to_string()} onchange={on_opt} />
                <Select label="x-axis" id={Some(AttrValue::from("race-x"))}
                    options={vec![("evals".to_string(), "loss evaluations (fair)".to_string()), ("steps".to_string(), "training steps".to_string())]}
                    value={if page.race_by_evals { "evals" } else { "steps" }.to_string()} onchange={on_axis} />
            </div>
            <p class="race-status" id="race-status">{ status }</p>
            <p class="sr-only" role="status">{ spoken }</p>
            <Plot id="plot-race" data={PlotRef::new(RacePlot::new(page, race))} epoch={p.epoch} lecture={page.lecture}
                export={Some(Rc::new(crate::exports::describe_race(page, done, &super::page_base())))}
                {focused} onfocus={on_focus} />
            <div class="table-wrap">
            <table id="race-table">
                <thead><tr>
                    { heads(&RACE_COLUMNS) }
                    if one_unit { { heads(&RACE_P_COLUMNS) } }
                    { heads(&RACE_LAST_COLUMN) }
                </tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
            </div>
            <p class="legend-note">{ crate::texts::RACE_NOTE }</p>
        </section>
    }
}

fn budget_options(current: u64) -> Vec<(String, String)> {
    let mut v: Vec<u64> = RACE_BUDGETS.to_vec();
    if !v.contains(&current) {
        v.push(current);
        v.sort_unstable();
    }
    v.into_iter().map(|n| (n.to_string(), format!("{} steps", thousands(n)))).collect()
}

fn race_row(key: &str, row: Option<&RaceRow>, one_unit: bool) -> Html {
    let Some(m) = find_meta(key) else { return html! {} };
    let l = look(key);
    let name = html! {
        <th scope="row"><span class="swatch" style={format!("background:{}", l.css)} aria-hidden="true"></span>{ m.name }</th>
    };
    let cols = if one_unit { 8 } else { 6 };
    let Some(row) = row else {
        return html! { <tr data-key={key.to_string()}>{ name }<td colspan={cols.to_string()} class="pending">{ "starting…" }</td></tr> };
    };
    let Some(sum) = row.summary() else {
        let why = row.error.clone().unwrap_or_else(|| "starting…".into());
        return html! { <tr class="na" data-key={key.to_string()}>{ name }<td colspan={cols.to_string()}>{ why }</td></tr> };
    };
    let r = &sum.last;
    let own = m.family == Family::UnitType;
    let mut how = crate::format::method(r.method.key(), None);
    if own {
        how.push_str(" · own objective: a different unit");
    }
    if let Some(e) = &row.error {
        how.push_str(&format!(" · stopped: {e}"));
    }
    let p_cell = |p: Option<f64>| p.map_or("—".to_string(), |p| sig(p, 3));
    html! {
        <tr data-key={key.to_string()} data-steps={r.step.to_string()} data-loss={r.expected_loss.to_string()}
            data-tail-loss={sum.tail_loss.to_string()}
            data-p={r.p.map(|p| p.to_string()).unwrap_or_default()}
            data-tail-p={sum.tail_p.map(|p| p.to_string()).unwrap_or_default()}>
            { name }
            <td class="num">{ thousands(r.step) }</td>
            <td class="num">{ sig(r.loss_evaluations, 4) }</td>
            <td class="num">{ sig(r.expected_loss, 5) }</td>
            <td class="num">{ sig(sum.tail_loss, 5) }</td>
            <td class="num">{ sig(r.grad_norm, 3) }</td>
            if one_unit {
                <td class="num">{ p_cell(r.p) }</td>
                <td class="num">{ p_cell(sum.tail_p) }</td>
            }
            <td>{ how }</td>
        </tr>
    }
}

/// The steps per gate type offered.
const GATING_STEPS: [u64; 3] = [1000, 3000, 10_000];

/// The seed paper's conditional-computation experiment in miniature, with the paper's numbers
/// beside it (quoted, not reproduced).
#[function_component(GatingPanel)]
pub fn gating_panel(p: &GatingProps) -> Html {
    let (st, g) = (&p.dispatch, &p.gating);
    let cfg = p.page.gating_config();
    let running = g.requested && !g.done && g.failure.is_none();
    let on_seed = {
        let s = st.clone();
        Callback::from(move |v: u64| s.dispatch(Action::SetGatingSeed(v)))
    };
    let on_steps = {
        let s = st.clone();
        Callback::from(move |v: String| s.dispatch(Action::SetGatingSteps(v.parse().unwrap_or(3000))))
    };
    let mut steps_options: Vec<u64> = GATING_STEPS.to_vec();
    if !steps_options.contains(&cfg.steps) {
        steps_options.push(cfg.steps);
        steps_options.sort_unstable();
    }
    let status = match (&g.failure, &g.progress) {
        (Some(f), _) => html! { <p class="failure" role="alert">{ format!("Cannot run: {f}") }</p> },
        (None, Some((gate, done, total))) => html! {
            <>
                <p class="race-status">
                    <progress max={total.to_string()} value={done.to_string()} aria-label="gating progress"></progress>
                    { format!(" Training the {gate} gater: {} of {} steps (all gate types)", thousands(*done), thousands(*total)) }
                </p>
                <p class="sr-only" role="status">{ "Training the gaters." }</p>
            </>
        },
        (None, None) if g.done => {
            html! { <p class="race-status" role="status">{ format!("Done: {} gate types, seed {}.", g.rows.len(), cfg.seed) }</p> }
        }
        (None, None) if running => html! { <p class="race-status" role="status">{ "Generating the task…" }</p> },
        _ => html! { <p class="race-status">{ "Press “Train the gaters” (a few seconds, in a worker)." }</p> },
    };
    let rows = g.rows.iter().map(gating_row);
    html! {
        <section class="gating" aria-labelledby="h-gating" id="gating">
            <h2 id="h-gating">{ "Conditional computation in miniature (the seed paper's §5)" }</h2>
            <p class="legend-note">{ format!(
                "A gater of k = {} stochastic units switches {} blocks of {} linear expert units; a softmax reads the gated experts. Synthetic task from the seed: {} clusters with their own linear {}-class rules in {} dimensions ({} training, {} held-out examples). Every gate type starts from the same parameters and sees the same minibatches (Adam, lr {}, {} steps of {}); a KL penalty (λ = {}) keeps about {:.0} % of the gates on.",
                cfg.gates, cfg.gates, cfg.group, cfg.clusters, cfg.classes, cfg.inputs, cfg.train, cfg.test, cfg.lr, cfg.steps, cfg.batch, cfg.penalty, 100.0 * cfg.sparsity
            ) }</p>
            <div class="race-controls">
                <NumberInput label="Seed (task and training)" id={Some(AttrValue::from("gating-seed"))} value={cfg.seed} onchange={on_seed} />
                <Select label="Training steps per gate type" id={Some(AttrValue::from("gating-steps"))}
                    options={steps_options.iter().map(|n| (n.to_string(), format!("{} steps", thousands(*n)))).collect::<Vec<_>>()}
                    value={cfg.steps.to_string()} onchange={on_steps} />
                <div class="buttons">
                    <button id="gating-run" class="primary" onclick={act(st, || Action::RunGating)} disabled={running}>
                        { if running { "Training…" } else { "Train the gaters" } }
                    </button>
                </div>
            </div>
            { status }
            <div class="gating-tables">
            <div class="table-wrap">
            <table id="gating-table">
                <caption>{ format!("Ours (seed {}; one run)", cfg.seed) }</caption>
                <thead><tr>{ heads(&GATING_COLUMNS) }</tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
            </div>
            <div class="table-wrap">
            <table id="gating-theirs">
                <caption>{ crate::texts::PAPER_GATING_CAPTION }</caption>
                <thead><tr>{ heads(&PAPER_COLUMNS) }</tr></thead>
                <tbody>
                    { for crate::texts::PAPER_GATING.iter().map(|(name, train, valid, test)| html! {
                        <tr><th scope="row">{ *name }</th><td class="num">{ *train }</td><td class="num">{ *valid }</td><td class="num">{ *test }</td></tr>
                    }) }
                </tbody>
            </table>
            </div>
            </div>
            <p class="legend-note">{ crate::texts::PAPER_GATING_SETUP }</p>
            <p class="legend-note">{ "Binary and STS gates: exact expectations over all 2^k gate states per example; noisy rectifiers: Monte Carlo (64 draws per example, ± one standard error). One seed is one task: differences between gate types within a run are not significant unless they persist over seeds (`stochgrad gating --seeds 10` gives means ± s.e. over seeds; see the README). The miniature shows how the estimators behave on this task; it is not evidence about MNIST." }</p>
        </section>
    }
}

fn gating_row(r: &GatingRow) -> Html {
    let pct = |v: f64, se: Option<f64>| with_se(100.0 * v, se.map(|s| 100.0 * s));
    let how = match (r.gate.as_str(), r.method.key(), r.test_error_stderr) {
        ("sigmoid" | "dense", _, None) => "deterministic gates: exact",
        (_, "monte-carlo", _) | (_, _, Some(_)) => "Monte Carlo over the gates, ± s.e.",
        _ => "exact over all gate states",
    };
    html! {
        <tr data-gate={r.gate.clone()} data-error={r.test_error.to_string()} data-loss={r.test_loss.to_string()}>
            <th scope="row" title={r.name.clone()}><code>{ r.gate.clone() }</code></th>
            <td class="num">{ pct(r.test_error, r.test_error_stderr) }</td>
            <td class="num">{ with_se(r.test_loss, r.test_loss_stderr) }</td>
            <td class="num">{ pct(r.deterministic_error, None) }</td>
            <td class="num">{ sig(r.gate_rate, 3) }</td>
            <td>{ how }</td>
        </tr>
    }
}

/// The race table's columns: label and tooltip.
const RACE_COLUMNS: [Column; 6] = [
    ("estimator", ""),
    ("steps", "updates made so far"),
    ("loss evals", "loss evaluations spent by the estimates so far"),
    ("E[f] now", "exact E[f] at the current parameters (unit types: their own objective)"),
    ("E[f], last quarter", "mean exact E[f] over the last quarter of the steps: where the estimator stalls"),
    ("‖∇‖ now", "‖∇θ E[f]‖ at the current parameters"),
];

/// Its columns for a one-unit network.
const RACE_P_COLUMNS: [Column; 2] = [
    ("p = σ(a) now", "p = σ(a) of the network's one unit"),
    ("p, last quarter", "mean p over the last quarter of the steps"),
];

/// Its last column.
const RACE_LAST_COLUMN: [Column; 1] = [("how E[f] is obtained", "")];

/// The gating table's columns (ours).
const GATING_COLUMNS: [Column; 6] = [
    ("gate", ""),
    ("held-out error %", "expected 0/1 error on the held-out examples"),
    ("held-out loss", "expected cross-entropy on the held-out examples (nats)"),
    ("deterministic error %", "held-out error of the test-time network with thresholded gates"),
    ("gates on", "mean firing probability of the gates on the held-out set"),
    ("how obtained", ""),
];

/// The paper's gating table's columns.
const PAPER_COLUMNS: [Column; 4] = [
    ("gater", ""),
    ("train crit.", "training criterion"),
    ("valid %", "validation error %"),
    ("test %", "test error %"),
];

/// The gradient field's part: the settings (its two parameters) and what its worker sent.
#[derive(Properties, PartialEq)]
pub struct FieldProps {
    pub page: Rc<Page>,
    pub field: FieldView,
    pub epoch: u32,
    pub dispatch: UseReducerDispatcher<State>,
}

/// The gradient field: two parameter pickers, and the plot drawn row by row. Computed (in its own
/// worker) only while open.
#[function_component(FieldPanel)]
pub fn field_panel(p: &FieldProps) -> Html {
    let (st, page, f) = (&p.dispatch, &p.page, &p.field);
    let open = page.field_open;
    let m = &page.model;
    let names: Vec<(String, String)> = (0..)
        .map_while(|i| stochgrad_core::params::Slot::of(&m.output_widths(), m.inputs, i))
        .map(|s| (s.name(), s.name()))
        .collect();
    let (x, y) = page.field_axes();
    let on_x = {
        let s = st.clone();
        Callback::from(move |v: String| s.dispatch(Action::SetFieldX(v)))
    };
    let on_y = {
        let s = st.clone();
        Callback::from(move |v: String| s.dispatch(Action::SetFieldY(v)))
    };
    let toggle = {
        let s = st.clone();
        Callback::from(move |_| s.dispatch(Action::SetFieldOpen(!open)))
    };
    let (done, total) = f.progress();
    let status = if !open {
        "Closed: the field (a grid of exact solutions) is computed only while this view is open.".to_string()
    } else if let Some(e) = &f.error {
        format!("No field: {e}")
    } else if f.done {
        format!("Done: {total} of {total} rows and {} trajectories.", f.trajectories.len())
    } else {
        format!("Computing: {done} of {total} rows…")
    };
    let focused = page.focus == "field";
    let on_focus = {
        let s = st.clone();
        Callback::from(move |_| s.dispatch(Action::SetFocus(if focused { String::new() } else { "field".into() })))
    };
    html! {
        <section class="field" aria-labelledby="h-field" id="field">
            <h2 id="h-field">{ "Gradient field" }</h2>
            <p class="legend-note">{ "Two parameters of the network on a grid (the others fixed): the exact E[f] shaded, the exact −∇ and each selected estimator's expected −ĝ as arrows, and the trajectories of exact descent and of each estimator training only these two parameters from the current point, with the race's seed, learning rate, optimizer and steps." }</p>
            <div class="race-controls">
                <div class="buttons">
                    <button id="field-open" class={classes!("primary", open.then_some("active"))} aria-expanded={open.to_string()}
                        onclick={toggle}>{ if open { "Hide the field" } else { "Show the field" } }</button>
                </div>
                if open {
                    <Select label="Horizontal parameter" id={Some(AttrValue::from("field-x"))}
                        options={names.clone()} value={x} onchange={on_x} />
                    <Select label="Vertical parameter" id={Some(AttrValue::from("field-y"))}
                        options={names} value={y} onchange={on_y} />
                }
            </div>
            <p class="race-status" id="field-status" role="status">{ status }</p>
            if open {
                <Plot id="plot-field" data={PlotRef::new(FieldPlot::new(page, f))} epoch={p.epoch} lecture={page.lecture}
                    {focused} onfocus={on_focus} />
                <p class="legend-note" id="field-caption">{ FieldPlot::new(page, f).caption() }</p>
            }
        </section>
    }
}
