//! The Digits experiment: the discrete VAE of `stochgrad_core::vae` trained by each chosen
//! trainer in a worker of its own (`side.rs`); this component shows the reducer's state and
//! dispatches.

use super::plot::{Plot, PlotRef};
use super::widgets::{heads, Column, NumberInput, Select};
use crate::engine::{bar_images, bar_steps, grey, shown_images, DIGITS_BAR_SAMPLES, DIGITS_MAX_LATENTS};
use crate::format::{sig, thousands};
use crate::page::Page;
use crate::plots::{look, strip_svg, zero_floor, DigitsBars, DigitsRace};
use crate::protocol::DigitsBar;
use crate::state::{digits_trainer_keys, Action, DigitsRow, DigitsView, State};
use std::rc::Rc;
use stochgrad_core::estimators::find_meta;
use stochgrad_core::vae::Config;
use yew::prelude::*;

/// The Digits panel's part of the state.
#[derive(Properties, PartialEq)]
pub struct DigitsProps {
    pub page: Rc<Page>,
    pub digits: DigitsView,
    pub epoch: u32,
    pub dispatch: UseReducerDispatcher<State>,
}

/// The steps per trainer offered.
const STEPS: [u64; 6] = [100, 200, 500, 1000, 2000, 5000];

/// Pixels of the screen per image pixel.
const PX: u32 = 4;

fn act(state: &UseReducerDispatcher<State>, action: fn() -> Action) -> Callback<MouseEvent> {
    let s = state.clone();
    Callback::from(move |_| s.dispatch(action()))
}

fn name(key: &str) -> String {
    if key == "exact" {
        "exact gradient".into()
    } else {
        find_meta(key).map_or_else(|| key.to_string(), |m| m.name.to_string())
    }
}

fn strip(images: &[Vec<u8>], label: &str) -> Html {
    Html::from_html_unchecked(AttrValue::from(strip_svg(images, PX, label)))
}

#[function_component(DigitsPanel)]
pub fn digits_panel(p: &DigitsProps) -> Html {
    let (st, page, d) = (&p.dispatch, &*p.page, &p.digits);
    let defaults = Config::default();
    let running = d.running();
    let k = page.digits_latents;
    let on_k = {
        let s = st.clone();
        Callback::from(move |v: String| s.dispatch(Action::SetDigitsLatents(v.parse().unwrap_or(8))))
    };
    let on_steps = {
        let s = st.clone();
        Callback::from(move |v: String| s.dispatch(Action::SetDigitsSteps(v.parse().unwrap_or(1000))))
    };
    let on_seed = {
        let s = st.clone();
        Callback::from(move |v: u64| s.dispatch(Action::SetDigitsSeed(v)))
    };
    let on_axis = {
        let s = st.clone();
        Callback::from(move |v: String| s.dispatch(Action::SetDigitsByEvals(v == "evals")))
    };
    let mut steps_options: Vec<u64> = STEPS.to_vec();
    if !steps_options.contains(&page.digits_steps) {
        steps_options.push(page.digits_steps);
        steps_options.sort_unstable();
    }
    let k_options: Vec<(String, String)> = (1..=DIGITS_MAX_LATENTS as u64)
        .map(|k| (k.to_string(), format!("k = {k} ({} latent states)", thousands(1u64 << k))))
        .collect();
    let trainers = digits_trainer_keys().into_iter().map(|key| {
        let checked = page.digits_trainers.iter().any(|t| t == key);
        let on = {
            let s = st.clone();
            Callback::from(move |_: Event| s.dispatch(Action::ToggleDigitsTrainer(key.to_string())))
        };
        let id = format!("digits-tr-{key}");
        let title =
            find_meta(key).map_or("the exact encoder gradient, by enumerating every latent state", |m| m.formula);
        html! {
            <li>
                <input type="checkbox" id={id.clone()} checked={checked} onchange={on} data-key={key} />
                <label for={id} {title}>
                    <span class="swatch" style={format!("background:{}", look(key).css)} aria-hidden="true"></span>
                    { name(key) }
                </label>
            </li>
        }
    });
    let none = page.digits_trainers.is_empty();
    let status = match (&d.failure, &d.progress) {
        (Some(f), _) => html! { <p class="failure" role="alert">{ format!("Cannot train: {f}") }</p> },
        (None, Some((key, done, total))) => html! {
            <>
                <p class="race-status" id="digits-status">
                    <progress max={total.to_string()} value={done.to_string()} aria-label="Digits training progress"></progress>
                    { format!(" Training with {}: {} of {} steps (all trainers)", name(key), thousands(*done), thousands(*total)) }
                </p>
                <p class="sr-only" role="status">{ "Training the Digits model." }</p>
            </>
        },
        (None, None) if d.done => html! {
            <p class="race-status" id="digits-status" role="status">{ format!("Done: {} trainers, {} steps each.", d.rows.len(), thousands(page.digits_steps)) }</p>
        },
        (None, None) if d.cancelled => html! {
            <p class="race-status" id="digits-status" role="status">{ "Stopped. What was computed stays; ▶ Train starts over." }</p>
        },
        (None, None) if running => {
            html! { <p class="race-status" id="digits-status" role="status">{ "Starting…" }</p> }
        }
        _ => html! {
            <p class="race-status" id="digits-status">{ if none { "Choose at least one trainer." } else { "Press ▶ Train (it runs in a worker; the page stays responsive)." } }</p>
        },
    };
    let focused = |name: &str| page.focus == name;
    let on_focus = |name: &'static str| {
        let s = st.clone();
        let f = focused(name);
        Callback::from(move |_| s.dispatch(Action::SetFocus(if f { String::new() } else { name.into() })))
    };
    // The bars' checkpoint: chosen, or the latest with figures.
    let checkpoints = bar_steps(page.digits_steps);
    let n_bar = bar_images(k as usize);
    let bars = DigitsBars::new(page, d, page.digits_bar_step, n_bar);
    let on_bar_step = {
        let s = st.clone();
        Callback::from(move |v: String| s.dispatch(Action::SetDigitsBarStep(v.parse().ok())))
    };
    let mut bar_options = vec![(String::new(), "the latest computed".to_string())];
    bar_options.extend(checkpoints.iter().map(|s| (s.to_string(), format!("step {}", thousands(*s)))));
    let shown = shown_images();
    let originals: Vec<Vec<u8>> =
        shown.iter().map(|&i| stochgrad_core::vae::pixels(i).into_iter().map(grey).collect()).collect();
    let rows = page.digits_trainers.iter().filter_map(|key| d.rows.get(key).map(|r| (key, r)));
    let table_rows: Vec<Html> = rows.clone().map(|(key, r)| table_row(key, r)).collect();
    let image_rows: Vec<Html> = rows
        .clone()
        .filter_map(|(key, r)| {
            let im = r.images.as_ref()?;
            Some(html! {
                <tr data-key={key.clone()} data-step={im.step.to_string()}>
                    <th scope="row"><span class="swatch" style={format!("background:{}", look(key).css)} aria-hidden="true"></span>{ name(key) }<br /><small>{ format!("step {}", thousands(im.step)) }</small></th>
                    <td class="recon">{ strip(&im.reconstructions, &format!("{}: reconstructions of the test images at step {}", name(key), im.step)) }</td>
                    <td class="samples">{ strip(&im.samples, &format!("{}: samples from the model at step {}", name(key), im.step)) }</td>
                </tr>
            })
        })
        .collect();
    let bar_rows: Vec<Html> = rows
        .filter(|(k, _)| *k != "exact")
        .map(|(key, r)| bar_row(key, &r.bars, &checkpoints, running && r.stopped.is_none()))
        .collect();
    html! {
        <section class="digits" aria-labelledby="h-digits" id="digits">
            <h2 id="h-digits">{ "Digits: a discrete VAE on handwritten digits" }</h2>
            <p class="legend-note">{ format!(
                "A variational auto-encoder with k binary latent units on the binarised 8×8 digits ({} training and {} test images): the encoder q(h | x) = Π_i Bernoulli(h_i; σ(Wx + c)_i), the decoder p(x | h) = Π_j Bernoulli(x_j; σ(Vh + b)_j), the prior p(h) = Π_i Bernoulli(h_i; σ(r_i)). Only the encoder's gradient is estimated (one estimate per image); the decoder and the prior always get their exact gradients. Every trainer starts from the same parameters and sees the same minibatches (Adam, lr {}, {} images per step). Test −log p(x) and −ELBO are exact: every one of the 2^k latent states is enumerated.",
                stochgrad_core::digits::train().len(), stochgrad_core::digits::test().len(), defaults.lr, defaults.batch
            ) }</p>
            <fieldset class="digits-trainers">
                <legend>{ "Trainers of the encoder" }</legend>
                <ul>{ for trainers }</ul>
            </fieldset>
            <div class="race-controls">
                <Select label={format!("Latent units (up to {DIGITS_MAX_LATENTS} here; the CLI goes to {})", stochgrad_core::vae::LATENTS_RANGE.1)} id={Some(AttrValue::from("digits-k"))}
                    options={k_options} value={k.to_string()} onchange={on_k} />
                <Select label="Training steps per trainer" id={Some(AttrValue::from("digits-steps"))}
                    options={steps_options.iter().map(|n| (n.to_string(), format!("{} steps", thousands(*n)))).collect::<Vec<_>>()}
                    value={page.digits_steps.to_string()} onchange={on_steps} />
                <NumberInput label="Seed (initial parameters, minibatches, estimates)" id={Some(AttrValue::from("digits-seed"))} value={page.digits_seed} onchange={on_seed} />
                <div class="buttons">
                    <button id="digits-train" class="primary" onclick={act(st, || Action::RunDigits)} disabled={running || none}>
                        { if running { "Training…" } else { "▶ Train" } }
                    </button>
                    <button id="digits-skip" onclick={act(st, || Action::SkipDigits)} disabled={!running}
                        title="Stop training the current trainer and go on with the next">{ "Skip" }</button>
                    <button id="digits-stop" onclick={act(st, || Action::StopDigits)} disabled={!running}
                        title="Stop the run; what was computed stays">{ "■ Stop" }</button>
                </div>
            </div>
            { status }
            <div class="race-controls">
                <Select label="x-axis" id={Some(AttrValue::from("digits-x"))}
                    options={vec![("steps".to_string(), "training steps".to_string()), ("evals".to_string(), "loss evaluations".to_string())]}
                    value={if page.digits_by_evals { "evals" } else { "steps" }.to_string()} onchange={on_axis} />
            </div>
            <Plot id="plot-digits-race" data={PlotRef::new(DigitsRace::new(page, d))} epoch={p.epoch} lecture={page.lecture}
                focused={focused("digits-race")} onfocus={on_focus("digits-race")} />
            <div class="table-wrap">
            <table id="digits-table">
                <thead><tr>{ heads(&COLUMNS) }</tr></thead>
                <tbody>{ for table_rows }</tbody>
            </table>
            </div>
            <h3>{ "Reconstructions and samples" }</h3>
            <p class="legend-note">{ "Reconstructions: the mean of p(x | h) under q(h | x) of each test image (exact, over every latent state). Samples: h drawn from the prior, then the decoder's mean σ(Vh + b). Black is 1; both at each trainer's latest checkpoint." }</p>
            <div class="table-wrap">
            <table id="digits-images" class="digit-grid">
                <thead><tr><th scope="col">{ "trainer" }</th><th scope="col">{ "test images → reconstructions" }</th><th scope="col">{ "samples from the model" }</th></tr></thead>
                <tbody>
                    <tr class="originals">
                        <th scope="row">{ "the test images" }</th>
                        <td>{ strip(&originals, "the test images") }</td>
                        <td></td>
                    </tr>
                    { for image_rows }
                </tbody>
            </table>
            </div>
            <h3>{ "The encoder gradient's bias² and variance" }</h3>
            <p class="legend-note">{ format!(
                "Each estimator's minibatch estimate of the encoder gradient (one estimate per image, as in training) on a fixed minibatch ({}), at the parameters its own training reached, against the exact gradient there: exact where the estimator's moments can be enumerated (ARM and DisARM: 3^k cells per image), else Monte Carlo with {} draws per image (bias² debiased, no error bars). Computed at step 0, a third, two thirds and the end of each run.",
                if n_bar == 1 { "the first test image".to_string() } else { format!("the first {n_bar} test images") },
                thousands(DIGITS_BAR_SAMPLES)
            ) }</p>
            <div class="race-controls">
                <Select label="Checkpoint" id={Some(AttrValue::from("digits-bar-step"))} options={bar_options}
                    value={page.digits_bar_step.map(|s| s.to_string()).unwrap_or_default()} onchange={on_bar_step} />
            </div>
            <Plot id="plot-digits-bars" data={PlotRef::new(bars.clone())} epoch={p.epoch} lecture={page.lecture}
                focused={focused("digits-bars")} onfocus={on_focus("digits-bars")} />
            if !bars.missing.is_empty() {
                <ul class="notes">{ for bars.missing.iter().map(|(k, why)| html! { <li>{ format!("{}: {why}", name(k)) }</li> }) }</ul>
            }
            <div class="table-wrap">
            <table id="digits-bars-table">
                <caption>{ "bias² ‖E[ĝ] − ∇‖² over the encoder's parameters, and below it the variance tr Var[ĝ], at each checkpoint" }</caption>
                <thead><tr>
                    <th scope="col">{ "estimator" }</th>
                    { for checkpoints.iter().map(|s| html! { <th scope="col">{ format!("step {}", thousands(*s)) }</th> }) }
                    <th scope="col">{ "how obtained" }</th>
                </tr></thead>
                <tbody>{ for bar_rows }</tbody>
            </table>
            </div>
        </section>
    }
}

fn table_row(key: &str, r: &DigitsRow) -> Html {
    let l = look(key);
    let head = html! {
        <th scope="row"><span class="swatch" style={format!("background:{}", l.css)} aria-hidden="true"></span>{ name(key) }</th>
    };
    let stopped = match &r.stopped {
        Some(None) => " · skipped".to_string(),
        Some(Some(e)) => format!(" · stopped: {e}"),
        None => String::new(),
    };
    let Some(p) = r.points.last() else {
        return html! { <tr data-key={key.to_string()}>{ head }<td colspan="5">{ format!("waiting{stopped}") }</td></tr> };
    };
    let evals = if key == "exact" {
        "— (no estimates)".to_string()
    } else if p.evaluations.is_finite() && p.evaluations >= 0.0 && p.evaluations < 1e15 {
        thousands(p.evaluations.round() as u64)
    } else {
        sig(p.evaluations, 4)
    };
    html! {
        <tr data-key={key.to_string()} data-step={p.step.to_string()} data-nll={p.neg_log_marginal.to_string()} data-elbo={p.neg_elbo.to_string()}>
            { head }
            <td class="num">{ thousands(p.step) }</td>
            <td class="num">{ evals }</td>
            <td class="num">{ sig(p.neg_log_marginal, 5) }</td>
            <td class="num">{ sig(p.neg_elbo, 5) }</td>
            <td>{ format!("exact (every latent state){stopped}") }</td>
        </tr>
    }
}

/// One estimator's figures at every checkpoint: bias² over variance per cell.
fn bar_row(key: &str, bars: &[DigitsBar], checkpoints: &[u64], waiting: bool) -> Html {
    let cells = checkpoints.iter().map(|step| match bars.iter().find(|b| b.step == *step).map(|b| &b.figures) {
        None => html! { <td class="num pending">{ if waiting { "…" } else { "—" } }</td> },
        Some(Err(why)) => html! { <td data-step={step.to_string()} title={why.clone()}>{ "—" }</td> },
        Some(Ok(f)) => {
            let mc = f.method == "monte-carlo";
            let bias = match crate::format::squared(f.bias_sq, None, zero_floor(f)) {
                z if mc && f.bias_sq == 0.0 => format!("≈ {z}"),
                b => b,
            };
            html! {
                <td class="num" data-step={step.to_string()} data-bias={f.bias_sq.to_string()} data-variance={f.variance.to_string()}
                    data-method={f.method.clone()} title={format!("‖∇‖² = {} (the exact encoder gradient)", sig(f.gradient_sq, 3))}>
                    { bias }<br /><span class="var">{ crate::format::squared(f.variance, None, zero_floor(f)) }</span>
                </td>
            }
        }
    });
    let how = match bars.iter().find_map(|b| b.figures.as_ref().ok()) {
        Some(f) if f.method == "monte-carlo" => {
            format!("Monte Carlo, {} draws per image (bias² debiased)", thousands(DIGITS_BAR_SAMPLES))
        }
        Some(f) => f.method.clone(),
        None => bars.iter().find_map(|b| b.figures.as_ref().err().cloned()).unwrap_or_default(),
    };
    html! {
        <tr data-key={key.to_string()}>
            <th scope="row"><span class="swatch" style={format!("background:{}", look(key).css)} aria-hidden="true"></span>{ name(key) }</th>
            { for cells }
            <td>{ how }</td>
        </tr>
    }
}

/// The race table's columns.
const COLUMNS: [Column; 6] = [
    ("trainer", ""),
    ("steps", "updates made so far"),
    ("loss evals", "loss evaluations g(h) spent by the encoder's estimates so far, over all images"),
    ("test −log p(x)", "mean −log p(x) over the test images, nats per image (exact)"),
    ("test −ELBO", "mean −ELBO over the test images, nats per image (exact); −ELBO − (−log p(x)) is KL(q ‖ p(h | x))"),
    ("how obtained", ""),
];
