//! The control panel: playback, estimators, temperature, network, loss, seeds.

use super::widgets::{NumberInput, Select, Slider};
use super::PanelProps;
use crate::plots::look;
use crate::state::{limits, Action, State};
use stochgrad_core::estimators::{catalogue, find_meta, Meta};
use stochgrad_core::loss::Extension;
use stochgrad_core::model::Noise;
use stochgrad_core::settings::{bounds, LossKind, UnitChoice};
use stochgrad_core::{Error, Reason};
use web_sys::HtmlInputElement;
use yew::prelude::*;

fn dispatch<T: 'static>(state: &UseReducerDispatcher<State>, f: impl Fn(T) -> Action + 'static) -> Callback<T> {
    let s = state.clone();
    Callback::from(move |v: T| s.dispatch(f(v)))
}

/// A log-scale slider's props over the ladder of round values in `range` (one visible step per
/// key press, see `ladder.rs`): (value as an index, max index, onchange).
fn ladder_props(
    state: &UseReducerDispatcher<State>,
    range: (f64, f64),
    value: f64,
    action: fn(f64) -> Action,
) -> (f64, f64, Callback<f64>) {
    let steps = crate::ladder::ladder(range.0, range.1);
    let (index, max) = (crate::ladder::nearest(&steps, value) as f64, (steps.len() - 1) as f64);
    let on = dispatch(state, move |v: f64| action(steps[(v.round().max(0.0) as usize).min(steps.len() - 1)]));
    (index, max, on)
}

fn button(state: &UseReducerDispatcher<State>, action: fn() -> Action) -> Callback<MouseEvent> {
    let s = state.clone();
    Callback::from(move |_| s.dispatch(action()))
}

/// Play / pause / step / reset / new samples / new network, and the sampling pace.
#[function_component(Playback)]
pub fn playback(p: &PanelProps) -> Html {
    let (st, page) = (&p.dispatch, &*p.page);
    let playing = page.playing;
    let toggle = if playing { button(st, || Action::Pause) } else { button(st, || Action::Play) };
    let spf_log = (page.samples_per_frame as f64).log2();
    let random = page.network_is_random();
    let auto = [0u64, 1_000, 10_000, 100_000, 1_000_000];
    html! {
        <section class="panel playback" aria-labelledby="h-playback">
            <h2 id="h-playback">{ "Sampling" }</h2>
            <div class="buttons">
                <button id="play" class={classes!("primary", playing.then_some("active"))} aria-pressed={playing.to_string()}
                    onclick={toggle} title="Play / pause (space)">
                    { if playing { "❚❚ Pause" } else { "▶ Play" } }
                </button>
                <button id="step" onclick={button(st, || Action::Step)} title="Draw one frame, then pause (→)">{ "Step" }</button>
                <button id="reset" onclick={button(st, || Action::Reset)} title="Start over with the same seeds (r)">{ "Reset" }</button>
                <button id="new-samples" onclick={button(st, || Action::NewSamples)} title="Next sampling seed; the exact answer does not change (n)">{ "New samples" }</button>
                <button id="new-network" onclick={button(st, || Action::NewNetwork)} disabled={!random}
                    title={ if random { "Next network seed: new weights" } else { "This model has no random weights (weight scale 0, no inputs)" } }>
                    { "New network" }
                </button>
            </div>
            <label class="toggle" title="Step (→) draws exactly one sample per estimator, and the “One draw at a time” plot shows it; ▶ plays one draw per frame">
                <input type="checkbox" id="single" checked={page.single} onchange={ let s = st.clone(); Callback::from(move |_: Event| s.dispatch(Action::ToggleSingle)) } />
                { " One draw at a time (slow motion)" }
            </label>
            <Slider label="Samples per frame" id={Some(AttrValue::from("samples-per-frame"))}
                value={spf_log} min={8.0} max={16.0} step={1.0}
                value_text={format!("{} per estimator, 10 frames/s", crate::format::thousands(page.samples_per_frame))}
                onchange={dispatch(st, |v: f64| Action::SetSamplesPerFrame(2f64.powf(v.round()) as u64))} />
            <Select label="Pause automatically after" id={Some(AttrValue::from("max-samples"))}
                options={auto.iter().map(|n| (n.to_string(), if *n == 0 { "never".to_string() } else { format!("{} samples", crate::format::thousands(*n)) })).collect::<Vec<_>>()}
                value={page.max_samples.to_string()}
                onchange={dispatch(st, |v: String| Action::SetMaxSamples(v.parse().unwrap_or(0)))} />
        </section>
    }
}

/// The estimator picker, grouped unbiased / biased; inapplicable ones greyed with the reason.
#[function_component(EstimatorPicker)]
pub fn estimator_picker(p: &PanelProps) -> Html {
    let (st, page) = (&p.dispatch, &*p.page);
    let model = use_memo(page.model.clone(), |s| s.clone().to_model());
    let item = |m: &&'static Meta| {
        let key = m.key.to_string();
        let checked = page.estimators.contains(&key);
        let na = m.check(&model).err();
        let on = {
            let s = st.clone();
            let key = key.clone();
            Callback::from(move |_: Event| s.dispatch(Action::ToggleEstimator(key.clone())))
        };
        let id = format!("est-{key}");
        let look = look(m.key);
        html! {
            <li class={classes!("estimator", na.is_some().then_some("na"))}>
                <input type="checkbox" id={id.clone()} checked={checked} onchange={on} data-key={key.clone()} />
                <label for={id} title={na.as_ref().map_or_else(|| m.formula.to_string(), |e| e.to_string())}>
                    <span class="swatch" style={format!("background:{}", look.css)} aria-hidden="true"></span>
                    <span class="name">{ m.name }</span>
                    if let Some(reason) = &na { <small class="reason">{ format!("not applicable: {}", short_reason(reason)) }</small> }
                </label>
            </li>
        }
    };
    let unbiased: Vec<&'static Meta> = catalogue().iter().copied().filter(|m| m.unbiased).collect();
    let biased: Vec<&'static Meta> = catalogue().iter().copied().filter(|m| !m.unbiased).collect();
    html! {
        <section class="panel" aria-labelledby="h-estimators">
            <h2 id="h-estimators">{ "Estimators" }</h2>
            <fieldset>
                <legend>{ "Unbiased" }</legend>
                <ul class="estimators">{ for unbiased.iter().map(item) }</ul>
            </fieldset>
            <fieldset>
                <legend>{ "Biased" }</legend>
                <ul class="estimators">{ for biased.iter().map(item) }</ul>
            </fieldset>
        </section>
    }
}

/// The picker's short label of why an estimator does not apply (the full sentence is its tooltip).
fn short_reason(err: &Error) -> String {
    match err {
        Error::NotApplicable(Reason::NeedsLossGradient { .. }) => "needs ∂f/∂h, which this loss does not have".into(),
        Error::NotApplicable(Reason::SingleLayerEstimator { .. }) => "single stochastic layer only".into(),
        Error::NotApplicable(Reason::NeedsBinaryUnits { layer, unit, .. }) => {
            format!("needs binary units (layer {layer} has {unit} units)")
        }
        Error::NotApplicable(Reason::BinaryUnitsOnly { .. }) => "binary units only (no categorical form)".into(),
        Error::NotApplicable(r) => r.to_string(),
        e => e.to_string(),
    }
}

/// τ on a log slider, and the estimators' own hyper-parameters.
#[function_component(HyperControls)]
pub fn hyper_controls(p: &PanelProps) -> Html {
    let (st, page) = (&p.dispatch, &*p.page);
    let uses_tau = page.estimators.iter().filter_map(|k| find_meta(k)).any(|m| m.uses_tau);
    let recommendations: Vec<String> = page
        .estimators
        .iter()
        .filter_map(|k| find_meta(k))
        .filter_map(|m| {
            m.recommended_tau.filter(|(lo, hi)| page.tau < *lo || page.tau > *hi).map(|(lo, hi)| {
                format!("{}: its authors recommend τ ∈ [{lo}, {hi}]; computed at τ = {:.2} anyway", m.name, page.tau)
            })
        })
        .collect();
    let selected = |keys: &[&str]| page.estimators.iter().any(|k| keys.contains(&k.as_str()));
    let uses_k = selected(&["reinforce-loo"]);
    let uses_rao_k = selected(&["gumbel-rao"]);
    let uses_gap = selected(&["gapped-st"]);
    let uses_rebar = selected(&["rebar", "relax"]);
    let uses_decay = selected(&["reinforce-ma", "reinforce-optimal", "learned-predictor"]);
    let uses_noise = selected(&["noisy-rectifier"]);
    let noises = vec![
        ("logistic".to_string(), "logistic (P(h > 0) = σ(a) at scale 1)".to_string()),
        ("gaussian".to_string(), "Gaussian (the paper's experiments)".to_string()),
    ];
    let (tau_i, tau_max, on_tau) = ladder_props(st, limits::TAU, page.tau, Action::SetTau);
    let (lambda_i, lambda_max, on_lambda) = ladder_props(st, limits::LAMBDA, page.lambda, Action::SetLambda);
    let (scale_i, scale_max, on_scale) = ladder_props(st, limits::NOISE_SCALE, page.noise_scale, Action::SetNoiseScale);
    html! {
        <section class="panel" aria-labelledby="h-hyper">
            <h2 id="h-hyper">{ "Temperature and estimator settings" }</h2>
            <Slider label="Temperature τ (log scale)" id={Some(AttrValue::from("tau"))}
                value={tau_i} min={0.0} max={tau_max} step={1.0}
                value_text={format!("τ = {}", crate::format::sig(page.tau, 3))}
                hint={ if uses_tau { None } else { Some(AttrValue::from("no selected estimator uses τ")) } }
                onchange={on_tau} />
            { for recommendations.iter().map(|r| html! { <p class="note">{ r.clone() }</p> }) }
            if uses_k {
                <Slider label="Leave-one-out samples k" id={Some(AttrValue::from("loo-k"))}
                    value={page.k as f64} min={limits::K.0 as f64} max={limits::K.1 as f64} step={1.0}
                    value_text={format!("k = {}", page.k)}
                    onchange={dispatch(st, |v: f64| Action::SetK(v.round() as u32))} />
            }
            if uses_rao_k {
                <Slider label="Gumbel-Rao conditional samples K" id={Some(AttrValue::from("rao-k"))}
                    value={page.rao_k as f64} min={limits::RAO_K.0 as f64} max={limits::RAO_K.1 as f64} step={1.0}
                    value_text={format!("K = {}", page.rao_k)}
                    onchange={dispatch(st, |v: f64| Action::SetRaoK(v.round() as u32))} />
            }
            if uses_gap {
                <Slider label="Gapped-ST gap" id={Some(AttrValue::from("gap"))}
                    value={page.gap} min={limits::GAP.0} max={limits::GAP.1} step={0.1}
                    value_text={format!("gap = {:.1}", page.gap)}
                    onchange={dispatch(st, |v: f64| Action::SetGap((v * 10.0).round() / 10.0))} />
            }
            if uses_rebar {
                <Slider label="REBAR control-variate scale η" id={Some(AttrValue::from("eta"))}
                    value={page.eta} min={limits::ETA.0} max={limits::ETA.1} step={0.1}
                    value_text={format!("η = {:.1}", page.eta)}
                    onchange={dispatch(st, |v: f64| Action::SetEta((v * 10.0).round() / 10.0))} />
                <Slider label="REBAR relaxation temperature λ (log scale)" id={Some(AttrValue::from("lambda"))}
                    value={lambda_i} min={0.0} max={lambda_max} step={1.0}
                    value_text={format!("λ = {}", crate::format::sig(page.lambda, 3))}
                    onchange={on_lambda} />
            }
            if uses_decay {
                <Slider label="Running-baseline decay" id={Some(AttrValue::from("decay"))}
                    value={page.decay} min={0.0} max={0.99} step={0.01}
                    value_text={format!("decay = {:.2}", page.decay)}
                    onchange={dispatch(st, Action::SetDecay)} />
            }
            if uses_noise {
                <Select label="Noisy-rectifier noise z in h = max(0, a + z)" id={Some(AttrValue::from("noise"))}
                    options={noises} value={page.noise.key().to_string()}
                    onchange={dispatch(st, |v: String| Action::SetNoise(Noise::from_key(&v).unwrap_or_default()))} />
                <Slider label="Noisy-rectifier noise scale (log scale)" id={Some(AttrValue::from("noise-scale"))}
                    value={scale_i} min={0.0} max={scale_max} step={1.0}
                    value_text={format!("scale = {} (× standard {} noise)", crate::format::sig(page.noise_scale, 3), page.noise.key())}
                    onchange={on_scale} />
            }
        </section>
    }
}

/// Layers, widths, inputs, logits, weights.
#[function_component(NetworkControls)]
pub fn network_controls(p: &PanelProps) -> Html {
    let (st, page) = (&p.dispatch, &*p.page);
    let m = &page.model;
    let layers = m.widths.len();
    let categorical = m.unit == UnitChoice::Categorical;
    let k = if categorical { m.categories } else { 1 };
    let (min_width, max_width) = m.width_bounds();
    let units = vec![
        ("binary".to_string(), "binary (sigmoid belief network)".to_string()),
        ("categorical".to_string(), "categorical (K-way, one-hot)".to_string()),
    ];
    let width_text = move |w: usize| {
        let units = format!("{w} unit{}", if w == 1 { "" } else { "s" });
        if k > 1 {
            format!("{units} of {k} classes ({} states)", (k as u64).saturating_pow(w as u32))
        } else {
            units
        }
    };
    let logit_text = if categorical {
        let mut pi = vec![0.0; k];
        let mut a = vec![0.0; k];
        a[0] = m.logit;
        stochgrad_core::categorical::softmax(&a, &mut pi);
        format!("first class's bias a = {:.1} (the others 0): π₁ = {:.3}", m.logit, pi[0])
    } else {
        format!("a = {:.1}, σ(a) = {:.3}", m.logit, stochgrad_core::math::sigmoid(m.logit))
    };
    html! {
        <section class="panel" aria-labelledby="h-network">
            <h2 id="h-network">{ "Network" }</h2>
            <Select label="Units" id={Some(AttrValue::from("unit-type"))} options={units} value={m.unit.key().to_string()}
                onchange={dispatch(st, |v: String| Action::SetUnit(UnitChoice::from_key(&v).unwrap_or_default()))} />
            if categorical {
                <Slider label="Classes K per unit" id={Some(AttrValue::from("classes-k"))}
                    value={m.categories as f64} min={bounds::CATEGORIES.0 as f64} max={bounds::CATEGORIES.1 as f64} step={1.0}
                    value_text={format!("K = {} (at most {max_width} units per layer: K^n ≤ {} states)", m.categories, 1u64 << bounds::CATEGORICAL_STATES_LOG2)}
                    onchange={dispatch(st, |v: f64| Action::SetCategories(v.round() as usize))} />
            }
            <Select label="Stochastic layers" id={Some(AttrValue::from("layers"))}
                options={(bounds::LAYERS.0..=bounds::LAYERS.1).map(|n| (n.to_string(), n.to_string())).collect::<Vec<_>>()}
                value={layers.to_string()}
                onchange={dispatch(st, |v: String| Action::SetLayers(v.parse().unwrap_or(1)))} />
            { for m.widths.iter().enumerate().map(|(k, w)| html! {
                <Slider label={format!("Width of layer {}", k + 1)} id={Some(AttrValue::from(format!("width-{}", k + 1)))}
                    value={*w as f64} min={min_width as f64} max={max_width as f64} step={1.0}
                    value_text={width_text(*w)}
                    onchange={dispatch(st, move |v: f64| Action::SetWidth(k, v.round() as usize))} />
            }) }
            <Slider label="Inputs x" id={Some(AttrValue::from("inputs"))}
                value={m.inputs as f64} min={bounds::INPUTS.0 as f64} max={bounds::INPUTS.1 as f64} step={1.0}
                value_text={ if m.inputs == 0 { "none (logits = biases)".to_string() } else { format!("{} (random, from the network seed)", m.inputs) } }
                onchange={dispatch(st, |v: f64| Action::SetInputs(v.round() as usize))} />
            <Slider label="Logit a (every bias)" id={Some(AttrValue::from("logit"))}
                value={m.logit} min={-10.0} max={10.0} step={0.1}
                value_text={logit_text}
                onchange={dispatch(st, |v: f64| Action::SetLogit((v * 10.0).round() / 10.0))} />
            <Slider label="Weight scale" id={Some(AttrValue::from("weight-scale"))}
                value={m.weight_scale} min={0.0} max={3.0} step={0.1}
                value_text={ if m.weight_scale == 0.0 { "0 (no weights)".to_string() } else { format!("{:.1} / √fan-in", m.weight_scale) } }
                onchange={dispatch(st, |v: f64| Action::SetWeightScale((v * 10.0).round() / 10.0))} />
        </section>
    }
}

/// The loss and its target.
#[function_component(LossControls)]
pub fn loss_controls(p: &PanelProps) -> Html {
    let (st, page) = (&p.dispatch, &*p.page);
    let m = &page.model;
    let options = vec![
        ("toy".to_string(), "toy: Σ (h − t)²".to_string()),
        ("readout".to_string(), "readout: (v·h + c − y)²".to_string()),
        ("softmax".to_string(), "softmax cross-entropy".to_string()),
        ("match".to_string(), "match / reward: 1 − 1[h = pattern]".to_string()),
        ("expression".to_string(), "your own f: an expression in h1 … hn".to_string()),
    ];
    html! {
        <section class="panel" aria-labelledby="h-loss">
            <h2 id="h-loss">{ "Loss" }</h2>
            <Select label="Loss f(h)" id={Some(AttrValue::from("loss"))} options={options} value={m.loss.key().to_string()}
                onchange={dispatch(st, |v: String| Action::SetLoss(LossKind::from_key(&v).unwrap_or(LossKind::Toy)))} />
            {
                match m.loss {
                    LossKind::Toy => html! {
                        <Slider label="Target t" id={Some(AttrValue::from("target"))} value={m.target} min={0.0} max={1.0} step={0.001}
                            value_text={format!("t = {:.3}", m.target)}
                            onchange={dispatch(st, |v: f64| Action::SetTarget((v * 1000.0).round() / 1000.0))} />
                    },
                    LossKind::Readout => html! {
                        <Slider label="Target y" id={Some(AttrValue::from("target"))} value={m.target} min={-3.0} max={3.0} step={0.1}
                            value_text={format!("y = {:.1} (v random from the network seed)", m.target)}
                            onchange={dispatch(st, |v: f64| Action::SetTarget((v * 10.0).round() / 10.0))} />
                    },
                    LossKind::Softmax => html! {
                        <p class="note">{ format!("{} classes, label {}, class weights V random from the network seed.", m.classes, m.label) }</p>
                    },
                    LossKind::Match => html! {
                        <p class="note">{ crate::texts::MATCH_NOTE }</p>
                    },
                    LossKind::Expression => html! {
                        <ExpressionInput value={m.expression.clone()} width={m.output_widths().last().copied().unwrap_or(1)}
                            onchange={dispatch(st, |v: String| Action::Set("fx", v))} />
                    },
                }
            }
            if m.loss != LossKind::Match {
                <Select label="Extension of f to real h (what ∂f/∂h means)" id={Some(AttrValue::from("extension"))}
                    options={vec![
                        ("curved".to_string(), "curved: the formula as written".to_string()),
                        ("multilinear".to_string(), "multilinear: affine in each unit".to_string()),
                    ]}
                    value={m.extension.key().to_string()}
                    onchange={dispatch(st, |v: String| Action::SetExtension(Extension::from_key(&v).unwrap_or_default()))} />
                <p class="note">{ crate::texts::EXTENSION_NOTE }</p>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct ExpressionProps {
    /// The committed expression (the page's).
    pub value: String,
    /// The last layer's width: the variables are h1 … h{width}.
    pub width: usize,
    pub onchange: Callback<String>,
}

/// The expression loss's text field: checked as it is typed (the core's parser, on every binary
/// state), committed on change only when valid; otherwise the draft stays with the one-line error.
#[function_component(ExpressionInput)]
pub fn expression_input(p: &ExpressionProps) -> Html {
    let draft = use_state(|| None::<(String, Option<String>)>);
    let check = {
        let width = p.width;
        move |text: &str| stochgrad_core::expr::Formula::new(text, width).err()
    };
    let oninput = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let text = input.value();
            let error = check(&text);
            draft.set(Some((text, error)));
        })
    };
    let onchange = {
        let (draft, emit) = (draft.clone(), p.onchange.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let text = input.value();
            match check(&text) {
                None => {
                    draft.set(None);
                    emit.emit(text.trim().to_string());
                }
                Some(error) => draft.set(Some((text, Some(error)))),
            }
        })
    };
    let (value, error) = match &*draft {
        Some((text, error)) => (text.clone(), error.clone()),
        None => (p.value.clone(), None),
    };
    let vars = if p.width == 1 { "h1".to_string() } else { format!("h1 … h{}", p.width) };
    html! {
        <div class="control text">
            <label for="expression">{ format!("f({vars}) =") }</label>
            <input type="text" id="expression" value={value} oninput={oninput} onchange={onchange}
                spellcheck="false" autocomplete="off" aria-invalid={error.is_some().then_some("true")}
                aria-describedby="expression-help" />
            if let Some(e) = error {
                <p class="note error" id="expression-error" role="alert">{ format!("f: {e}") }</p>
            }
            <p class="note" id="expression-help">{ crate::texts::EXPRESSION_NOTE }</p>
        </div>
    }
}

/// The two seeds, kept separate: the network seed changes the exact answer, the sampling seed does not.
#[function_component(SeedControls)]
pub fn seed_controls(p: &PanelProps) -> Html {
    let (st, page) = (&p.dispatch, &*p.page);
    let failed = use_state(|| None::<String>);
    // A seed from the browser's crypto source (getrandom), dispatched like a typed one: shown in
    // the field and written into the link, so a shared link reproduces the picture.
    let random = |action: fn(u64) -> Action| {
        let (s, failed) = (st.clone(), failed.clone());
        Some(Callback::from(move |_: MouseEvent| match random_seed() {
            Ok(seed) => {
                failed.set(None);
                s.dispatch(action(seed));
            }
            Err(e) => failed
                .set(Some(format!("No random seed: the browser's crypto source failed ({e}). Type a seed instead."))),
        }))
    };
    html! {
        <section class="panel" aria-labelledby="h-seeds">
            <h2 id="h-seeds">{ "Seeds" }</h2>
            <NumberInput label="Network seed (weights, inputs)" id={Some(AttrValue::from("network-seed"))}
                value={page.model.network_seed} onchange={dispatch(st, Action::SetNetworkSeed)}
                random={random(Action::SetNetworkSeed)} />
            <NumberInput label="Sampling seed (Monte Carlo)" id={Some(AttrValue::from("sampling-seed"))}
                value={page.sampling_seed} onchange={dispatch(st, Action::SetSamplingSeed)}
                random={random(Action::SetSamplingSeed)} />
            if let Some(f) = &*failed { <p class="note" role="alert">{ f.clone() }</p> }
        </section>
    }
}

/// A seed of at most six digits (easy to read out and type) from the browser's crypto source.
fn random_seed() -> Result<u64, getrandom::Error> {
    Ok(1 + u64::from(getrandom::u32()?) % 999_999)
}
