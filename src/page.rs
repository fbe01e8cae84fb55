//! The page's settings ([`Page`]), their bounds ([`limits`]) and the one table of them
//! ([`FIELDS`]), TensorFlow Playground style: each setting's URL key, how it is written and read,
//! its range (the default for a value that is not a number comes from [`Page::default`]) and what
//! it feeds — the worker's job, the training race, the gating run, or only the view. The URL
//! (`url.rs`), the clamping with notes (`State::sanitize`), the reducer's restarts (through
//! `State::job_spec` / `race_spec` / `gating_spec`) and the documented key table all read it: a new
//! setting is one row here plus its control.

use serde::{Deserialize, Serialize};
use stochgrad_core::estimators::HyperParams;
use stochgrad_core::gating::GatingConfig;
use stochgrad_core::loss::Extension;
use stochgrad_core::model::Noise;
use stochgrad_core::params::Slot;
use stochgrad_core::settings::{bounds, LossKind, Settings, UnitChoice};
use stochgrad_core::train::Optimizer;

/// The plots that can be focused, by URL name.
pub const PLOTS: [&str; 13] = [
    "convergence",
    "draw",
    "bars",
    "agreement",
    "dist",
    "tau",
    "logit",
    "width",
    "race",
    "digits-race",
    "digits-bars",
    "field",
    "simplex",
];
/// The control panels that can be hidden, by URL name.
pub const PANELS: [&str; 8] = ["presets", "sampling", "estimators", "hyper", "network", "loss", "seeds", "share"];

/// Bounds of the page's own controls.
pub mod limits {
    pub const TAU: (f64, f64) = (0.05, 10.0);
    pub const SAMPLES_PER_FRAME: (u64, u64) = (256, 65_536);
    pub const K: (u32, u32) = (2, 16);
    pub const RAO_K: (u32, u32) = (1, 100);
    pub const GAP: (f64, f64) = (0.0, 5.0);
    pub const ETA: (f64, f64) = (-2.0, 2.0);
    pub const LAMBDA: (f64, f64) = (0.05, 5.0);
    pub const DECAY: (f64, f64) = (0.0, 0.999);
    /// The noisy rectifier's noise scale (its slider is logarithmic).
    pub const NOISE_SCALE: (f64, f64) = (0.1, 10.0);
    /// A race's steps budget.
    pub const RACE_STEPS: (u64, u64) = (1, 10_000);
    /// A race's learning rate (its slider is logarithmic).
    pub const RACE_LR: (f64, f64) = (0.001, 10.0);
    /// Gating: training steps per gate type.
    pub const GATING_STEPS: (u64, u64) = (100, 10_000);
    /// Digits: latent units (the CLI's limit is higher: `vae::LATENTS_RANGE`).
    pub const DIGITS_LATENTS: (u64, u64) = (1, 12);
    /// Digits: training steps per trainer.
    pub const DIGITS_STEPS: (u64, u64) = (10, 5000);
}

/// Everything the user sets (and, later, the URL holds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// The model: widths, inputs, loss, target, logit, weight scale, network seed.
    pub model: Settings,
    /// Selected estimator keys, in registry order.
    pub estimators: Vec<String>,
    /// Temperature τ.
    pub tau: f64,
    /// Samples of the leave-one-out estimator.
    pub k: u32,
    /// Gumbel-Rao's conditional samples K.
    pub rao_k: u32,
    /// Gapped straight-through's gap.
    pub gap: f64,
    /// REBAR's control-variate scale η (RELAX: its initial value).
    pub eta: f64,
    /// REBAR's relaxation temperature λ.
    pub lambda: f64,
    /// Decay of the running baselines.
    pub decay: f64,
    /// The noisy rectifier's noise: logistic or Gaussian.
    pub noise: Noise,
    /// The noisy rectifier's noise scale.
    pub noise_scale: f64,
    /// Monte-Carlo draws per estimator per frame (10 frames a second while playing).
    pub samples_per_frame: u64,
    /// Seed of the Monte-Carlo draws (separate from the network seed).
    pub sampling_seed: u64,
    /// Parameter shown in the convergence plot (index into the flat parameter vector).
    pub param: usize,
    pub playing: bool,
    /// Show variance × loss evaluations instead of variance in the bar plot.
    pub var_x_evals: bool,
    /// One draw at a time: Step (and each frame while playing) draws exactly one sample per
    /// estimator, and the "One draw" plot shows it.
    #[serde(default)]
    pub single: bool,
    /// Show derivatives with respect to the firing probability p = σ(a) instead of the logit, for a
    /// network whose only parameter is one unit's logit (see [`State::per_p`]).
    #[serde(default)]
    pub wrt_p: bool,
    /// Auto-pause after this many samples per estimator (0 = never).
    pub max_samples: u64,
    /// The enlarged plot (`""` for none; else one of [`PLOTS`]).
    pub focus: String,
    /// Lecture mode: large type and thick lines for a projector.
    pub lecture: bool,
    /// Control panels hidden (one of [`PANELS`] each), for lecture links.
    pub hide: Vec<String>,
    /// Gradient field: the two parameters by name (empty: [`Page::field_axes`]'s default).
    #[serde(default)]
    pub field_x: String,
    #[serde(default)]
    pub field_y: String,
    /// Gradient field: its view is open (it is computed only then).
    #[serde(default)]
    pub field_open: bool,
    /// Training race: steps budget per estimator.
    pub race_steps: u64,
    /// Training race: learning rate.
    pub race_lr: f64,
    pub race_optimizer: Optimizer,
    /// Training race: drawing (its own play/pause).
    pub race_playing: bool,
    /// Training race: plot against loss evaluations (the fair axis) instead of steps.
    pub race_by_evals: bool,
    /// Gating miniature: the seed of the synthetic task and of the training.
    pub gating_seed: u64,
    /// Gating miniature: training steps per gate type.
    pub gating_steps: u64,
    /// Digits: the trainers (`exact` and estimator keys of binary units), `exact` first, then in
    /// registry order.
    pub digits_trainers: Vec<String>,
    /// Digits: latent units k.
    pub digits_latents: u64,
    /// Digits: training steps per trainer.
    pub digits_steps: u64,
    /// Digits: the seed of the initial parameters, the minibatches and the estimates.
    pub digits_seed: u64,
    /// Digits: plot against loss evaluations instead of steps.
    pub digits_by_evals: bool,
    /// Digits: the checkpoint whose encoder-gradient bars are shown (`None`: the latest).
    pub digits_bar_step: Option<u64>,
}

/// The Digits trainers selected on first load.
pub const DEFAULT_DIGITS_TRAINERS: [&str; 4] = ["exact", "reinforce", "disarm", "st"];

/// The estimators selected on first load: straight-through visibly points the wrong way.
pub const DEFAULT_ESTIMATORS: [&str; 5] = ["reinforce", "reinforce-optimal", "st", "st-sigmoid", "concrete"];

impl Default for Page {
    fn default() -> Self {
        Page {
            model: Settings::default(),
            estimators: DEFAULT_ESTIMATORS.iter().map(|s| s.to_string()).collect(),
            tau: 0.5,
            k: 2,
            rao_k: 10,
            gap: 1.0,
            eta: 1.0,
            lambda: 0.5,
            decay: 0.9,
            noise: Noise::Gaussian,
            noise_scale: 1.0,
            samples_per_frame: 256,
            sampling_seed: 1,
            param: 0,
            playing: true,
            var_x_evals: false,
            wrt_p: false,
            single: false,
            max_samples: 0,
            focus: String::new(),
            lecture: false,
            hide: Vec::new(),
            field_x: String::new(),
            field_y: String::new(),
            field_open: false,
            race_steps: 1000,
            race_lr: 0.3,
            race_optimizer: Optimizer::Sgd,
            race_playing: true,
            race_by_evals: true,
            gating_seed: 1,
            gating_steps: GatingConfig::default().steps,
            digits_trainers: DEFAULT_DIGITS_TRAINERS.iter().map(|s| s.to_string()).collect(),
            digits_latents: 8,
            digits_steps: 1000,
            digits_seed: 1,
            digits_by_evals: false,
            digits_bar_step: None,
        }
    }
}

impl Page {
    /// The gradient field's two parameters: the chosen names, else the defaults — the first two
    /// units' biases when the network has two units or more, else its first weight and the bias.
    pub fn field_axes(&self) -> (String, String) {
        let model = &self.model;
        let widths = model.output_widths();
        let n = widths.iter().sum::<usize>();
        let names: Vec<Slot> = (0..).map_while(|i| Slot::of(&widths, model.inputs, i)).collect();
        let biases: Vec<String> = names.iter().filter(|s| s.from.is_none()).map(|s| s.name()).collect();
        let (dx, dy) = if n >= 2 && biases.len() >= 2 {
            (biases[0].clone(), biases[1].clone())
        } else {
            // One unit: its first weight and its bias (no second parameter: none).
            let name = |i: usize| names.get(i).map(|s| s.name()).unwrap_or_default();
            (name(0), if names.len() >= 2 { name(names.len() - 1) } else { String::new() })
        };
        let pick = |chosen: &str, d: String| if chosen.is_empty() { d } else { chosen.to_string() };
        (pick(&self.field_x, dx), pick(&self.field_y, dy))
    }

    /// The gating miniature's configuration from its two settings.
    pub fn gating_config(&self) -> GatingConfig {
        GatingConfig { seed: self.gating_seed, steps: self.gating_steps, ..GatingConfig::default() }
    }

    /// Whether the current model has any random part that a new network seed would change.
    pub fn network_is_random(&self) -> bool {
        let m = &self.model;
        let has_weights = m.inputs > 0 || m.widths.len() > 1;
        m.inputs > 0
            || (m.weight_scale > 0.0 && has_weights)
            || m.bias_spread > 0.0
            || matches!(m.loss, LossKind::Readout | LossKind::Softmax)
    }

    /// The shared hyper-parameters (k is leave-one-out's; Gumbel-Rao's K travels in `JobSpec::rao_k`).
    pub fn hp(&self) -> HyperParams {
        HyperParams {
            tau: self.tau,
            k: Some(self.k),
            decay: self.decay,
            gap: self.gap,
            eta: self.eta,
            lambda: self.lambda,
            noise: self.noise,
            noise_scale: self.noise_scale,
        }
    }
}

/// A setting's range, checked (with a note) when a page is loaded or edited.
#[derive(Clone, Copy, Debug)]
pub enum Range {
    /// A real number in `[lo, hi]`; not a number: the default.
    Real(f64, f64),
    /// A whole number in `lo..=hi`.
    Whole(u64, u64),
    /// A network setting, clamped (with a note) by the core's `Settings::sanitize` to the range
    /// this gives in words (from `settings::bounds`).
    Model(fn() -> String),
    /// Any value (a list, a choice, a seed); what does not parse is ignored with a note.
    Free,
}

/// What a setting feeds; the reducer restarts what it feeds when it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The worker's job (exact answers and sampling).
    Job,
    /// The training race.
    Race,
    /// The gating miniature.
    Gating,
    /// The Digits experiment.
    Digits,
    /// Only what the page shows.
    View,
}

/// One setting: its URL property and everything the page does with it.
pub struct Field {
    /// The URL key.
    pub key: &'static str,
    /// What it is, in notes ("τ 12 is outside …") and in the documented table.
    pub label: &'static str,
    pub range: Range,
    pub scope: Scope,
    /// The value as the URL writes it.
    pub get: fn(&Page) -> String,
    /// Read a URL value into the page (no range check); `Err` names what was expected.
    pub set: fn(&mut Page, &str) -> Result<(), String>,
    /// Written only when it differs from the default (the enlarged plot, hidden panels).
    pub optional: bool,
}

fn parse<T: std::str::FromStr>(v: &str, what: &str) -> Result<T, String> {
    v.parse().map_err(|_| what.to_string())
}

/// A free text for the URL hash: every character but letters, digits and `.,()*^_-/` percent-escaped
/// (UTF-8 bytes), so `&`, `=`, `#`, `+`, `%` and spaces survive the address bar.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b".,()*^_-/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn bool01(v: &str) -> Result<bool, String> {
    match v {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err("0 or 1".into()),
    }
}

fn b(x: bool) -> String {
    if x { "1" } else { "0" }.to_string()
}

macro_rules! field {
    ($key:literal, $label:literal, $range:expr, $scope:ident, |$p:ident| $get:expr, |$q:ident, $v:ident| $set:expr) => {
        Field {
            key: $key,
            label: $label,
            range: $range,
            scope: Scope::$scope,
            get: |$p: &Page| $get,
            set: |$q: &mut Page, $v: &str| {
                $set;
                Ok(())
            },
            optional: false,
        }
    };
}

/// Every setting, in the order the URL writes them.
pub static FIELDS: [Field; 52] = [
    field!("est", "selected estimators", Range::Free, Job, |p| p.estimators.join(","), |p, v| p.estimators =
        v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()),
    field!("tau", "τ", Range::Real(limits::TAU.0, limits::TAU.1), Job, |p| p.tau.to_string(), |p, v| p.tau =
        parse(v, "a number")?),
    field!("k", "k", Range::Whole(limits::K.0 as u64, limits::K.1 as u64), Job, |p| p.k.to_string(), |p, v| p.k =
        parse(v, "a whole number")?),
    field!("decay", "decay", Range::Real(limits::DECAY.0, limits::DECAY.1), Job, |p| p.decay.to_string(), |p, v| p
        .decay =
        parse(v, "a number")?),
    field!(
        "kgr",
        "Gumbel-Rao K",
        Range::Whole(limits::RAO_K.0 as u64, limits::RAO_K.1 as u64),
        Job,
        |p| p.rao_k.to_string(),
        |p, v| p.rao_k = parse(v, "a whole number")?
    ),
    field!("gap", "gap", Range::Real(limits::GAP.0, limits::GAP.1), Job, |p| p.gap.to_string(), |p, v| p.gap =
        parse(v, "a number")?),
    field!("eta", "η", Range::Real(limits::ETA.0, limits::ETA.1), Job, |p| p.eta.to_string(), |p, v| p.eta =
        parse(v, "a number")?),
    field!("lambda", "λ", Range::Real(limits::LAMBDA.0, limits::LAMBDA.1), Job, |p| p.lambda.to_string(), |p, v| p
        .lambda =
        parse(v, "a number")?),
    field!(
        "noise",
        "the noisy rectifier's noise (gaussian, logistic)",
        Range::Free,
        Job,
        |p| p.noise.key().to_string(),
        |p, v| p.noise = Noise::from_key(v).ok_or("a noise (logistic, gaussian)")?
    ),
    field!(
        "nscale",
        "noise scale",
        Range::Real(limits::NOISE_SCALE.0, limits::NOISE_SCALE.1),
        Job,
        |p| p.noise_scale.to_string(),
        |p, v| p.noise_scale = parse(v, "a number")?
    ),
    field!(
        "w",
        "widths of the stochastic layers (their number is the depth)",
        Range::Model(|| format!(
            "{}–{} layers of {}–{} units",
            bounds::LAYERS.0,
            bounds::LAYERS.1,
            bounds::WIDTH.0,
            bounds::WIDTH.1
        )),
        Job,
        |p| p.model.widths.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(","),
        |p, v| {
            let ws: Vec<usize> = v
                .split(',')
                .map(|s| s.trim().parse::<usize>())
                .collect::<Result<_, _>>()
                .map_err(|_| "a list of widths")?;
            if ws.is_empty() {
                return Err("a list of widths".into());
            }
            p.model.widths = ws
        }
    ),
    field!(
        "unit",
        "unit type of every layer (binary, categorical)",
        Range::Free,
        Job,
        |p| p.model.unit.key().to_string(),
        |p, v| p.model.unit = UnitChoice::from_key(v).ok_or("a unit type (binary, categorical)")?
    ),
    field!(
        "kc",
        "classes K of each categorical unit",
        Range::Model(|| format!("{}–{}", bounds::CATEGORIES.0, bounds::CATEGORIES.1)),
        Job,
        |p| p.model.categories.to_string(),
        |p, v| p.model.categories = parse(v, "a whole number")?
    ),
    field!(
        "in",
        "inputs",
        Range::Model(|| format!("{}–{}", bounds::INPUTS.0, bounds::INPUTS.1)),
        Job,
        |p| p.model.inputs.to_string(),
        |p, v| p.model.inputs = parse(v, "a whole number")?
    ),
    field!(
        "loss",
        "loss kind (toy, readout, softmax, match, expression)",
        Range::Free,
        Job,
        |p| p.model.loss.key().to_string(),
        |p, v| p.model.loss = LossKind::from_key(v).ok_or("a loss (toy, readout, softmax, match, expression)")?
    ),
    field!(
        "t",
        "target (toy t, readout y)",
        Range::Model(|| format!("[{}, {}]", bounds::TARGET.0, bounds::TARGET.1)),
        Job,
        |p| p.model.target.to_string(),
        |p, v| p.model.target = parse(v, "a number")?
    ),
    field!(
        "ext",
        "the loss's real-valued extension (curved, multilinear)",
        Range::Free,
        Job,
        |p| p.model.extension.key().to_string(),
        |p, v| p.model.extension = Extension::from_key(v).ok_or("an extension (curved, multilinear)")?
    ),
    field!(
        "a",
        "logit (every bias)",
        Range::Model(|| format!("[{}, {}]", bounds::LOGIT.0, bounds::LOGIT.1)),
        Job,
        |p| p.model.logit.to_string(),
        |p, v| p.model.logit = parse(v, "a number")?
    ),
    field!(
        "ws",
        "weight scale",
        Range::Model(|| format!("[{}, {}]", bounds::SCALE.0, bounds::SCALE.1)),
        Job,
        |p| p.model.weight_scale.to_string(),
        |p, v| p.model.weight_scale = parse(v, "a number")?
    ),
    field!(
        "bs",
        "bias spread",
        Range::Model(|| format!("[{}, {}]", bounds::SCALE.0, bounds::SCALE.1)),
        Job,
        |p| p.model.bias_spread.to_string(),
        |p, v| p.model.bias_spread = parse(v, "a number")?
    ),
    field!(
        "classes",
        "softmax classes",
        Range::Model(|| format!("{}–{}", bounds::CLASSES.0, bounds::CLASSES.1)),
        Job,
        |p| p.model.classes.to_string(),
        |p, v| p.model.classes = parse(v, "a whole number")?
    ),
    field!(
        "label",
        "softmax label",
        Range::Model(|| "0 to classes − 1".into()),
        Job,
        |p| p.model.label.to_string(),
        |p, v| p.model.label = parse(v, "a whole number")?
    ),
    field!("pattern", "match pattern (bit i = unit i)", Range::Free, Job, |p| p.model.pattern.to_string(), |p, v| p
        .model
        .pattern =
        parse(v, "a whole number")?),
    field!(
        "fx",
        "the expression loss's f in h1 … hn (percent-escaped; one that does not parse: the default, with a note)",
        Range::Free,
        Job,
        |p| escape(&p.model.expression),
        |p, v| p.model.expression = v.to_string()
    ),
    field!("ns", "network seed", Range::Free, Job, |p| p.model.network_seed.to_string(), |p, v| p.model.network_seed =
        parse(v, "a seed (whole number)")?),
    field!("ss", "sampling seed", Range::Free, Job, |p| p.sampling_seed.to_string(), |p, v| p.sampling_seed =
        parse(v, "a seed (whole number)")?),
    field!(
        "spf",
        "samples per frame",
        Range::Whole(limits::SAMPLES_PER_FRAME.0, limits::SAMPLES_PER_FRAME.1),
        Job,
        |p| p.samples_per_frame.to_string(),
        |p, v| p.samples_per_frame = parse(v, "a whole number")?
    ),
    field!("max", "auto-pause after (samples; 0 = never)", Range::Free, Job, |p| p.max_samples.to_string(), |p, v| p
        .max_samples =
        parse(v, "a whole number")?),
    field!("p", "parameter shown in the convergence plot", Range::Free, View, |p| p.param.to_string(), |p, v| p
        .param =
        parse(v, "a parameter index")?),
    field!("play", "playing (0/1)", Range::Free, View, |p| b(p.playing), |p, v| p.playing = bool01(v)?),
    field!("vxe", "variance × evaluations (0/1)", Range::Free, View, |p| b(p.var_x_evals), |p, v| p.var_x_evals =
        bool01(v)?),
    field!(
        "wrt",
        "derivatives w.r.t. the logit (a) or p = σ(a) (p; one unit)",
        Range::Free,
        View,
        |p| if p.wrt_p { "p" } else { "a" }.to_string(),
        |p, v| p.wrt_p = match v {
            "p" => true,
            "a" => false,
            _ => return Err("a derivative convention (a, p)".into()),
        }
    ),
    field!("single", "one draw at a time (0/1)", Range::Free, Job, |p| b(p.single), |p, v| p.single = bool01(v)?),
    field!("lecture", "lecture mode (0/1)", Range::Free, View, |p| b(p.lecture), |p, v| p.lecture = bool01(v)?),
    field!(
        "rsteps",
        "race steps",
        Range::Whole(limits::RACE_STEPS.0, limits::RACE_STEPS.1),
        Race,
        |p| p.race_steps.to_string(),
        |p, v| p.race_steps = parse(v, "a whole number")?
    ),
    field!(
        "rlr",
        "race learning rate",
        Range::Real(limits::RACE_LR.0, limits::RACE_LR.1),
        Race,
        |p| p.race_lr.to_string(),
        |p, v| p.race_lr = parse(v, "a number")?
    ),
    field!("ropt", "race optimizer (sgd, adam)", Range::Free, Race, |p| p.race_optimizer.key().to_string(), |p, v| p
        .race_optimizer =
        Optimizer::from_key(v).ok_or("an optimizer (sgd, adam)")?),
    field!(
        "fieldx",
        "gradient field: the first parameter (c1[0], W1[0][1]; empty: the default)",
        Range::Free,
        View,
        |p| escape(&p.field_x),
        |p, v| p.field_x = v.to_string()
    ),
    field!("fieldy", "gradient field: the second parameter", Range::Free, View, |p| escape(&p.field_y), |p, v| p
        .field_y =
        v.to_string()),
    field!("field", "gradient field view open (0/1)", Range::Free, View, |p| b(p.field_open), |p, v| p.field_open =
        bool01(v)?),
    field!("rplay", "race playing (0/1)", Range::Free, View, |p| b(p.race_playing), |p, v| p.race_playing = bool01(v)?),
    field!(
        "rx",
        "race x-axis (evals, steps)",
        Range::Free,
        View,
        |p| if p.race_by_evals { "evals" } else { "steps" }.to_string(),
        |p, v| p.race_by_evals = match v {
            "evals" => true,
            "steps" => false,
            _ => return Err("an x-axis (evals, steps)".into()),
        }
    ),
    field!("gseed", "gating seed", Range::Free, Gating, |p| p.gating_seed.to_string(), |p, v| p.gating_seed =
        parse(v, "a seed (whole number)")?),
    field!(
        "gsteps",
        "gating steps",
        Range::Whole(limits::GATING_STEPS.0, limits::GATING_STEPS.1),
        Gating,
        |p| p.gating_steps.to_string(),
        |p, v| p.gating_steps = parse(v, "a whole number")?
    ),
    field!(
        "dtr",
        "Digits trainers (exact and estimator keys)",
        Range::Free,
        Digits,
        |p| p.digits_trainers.join(","),
        |p, v| p.digits_trainers = v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
    ),
    field!(
        "dk",
        "Digits latent units k",
        Range::Whole(limits::DIGITS_LATENTS.0, limits::DIGITS_LATENTS.1),
        Digits,
        |p| p.digits_latents.to_string(),
        |p, v| p.digits_latents = parse(v, "a whole number")?
    ),
    field!(
        "dsteps",
        "Digits steps per trainer",
        Range::Whole(limits::DIGITS_STEPS.0, limits::DIGITS_STEPS.1),
        Digits,
        |p| p.digits_steps.to_string(),
        |p, v| p.digits_steps = parse(v, "a whole number")?
    ),
    field!("dseed", "Digits seed", Range::Free, Digits, |p| p.digits_seed.to_string(), |p, v| p.digits_seed =
        parse(v, "a seed (whole number)")?),
    field!(
        "dx",
        "Digits x-axis (evals, steps)",
        Range::Free,
        View,
        |p| if p.digits_by_evals { "evals" } else { "steps" }.to_string(),
        |p, v| p.digits_by_evals = match v {
            "evals" => true,
            "steps" => false,
            _ => return Err("an x-axis (evals, steps)".into()),
        }
    ),
    Field {
        optional: true,
        ..field!(
            "dbar",
            "Digits checkpoint of the bars (a step; none: the latest)",
            Range::Free,
            View,
            |p| p.digits_bar_step.map(|s| s.to_string()).unwrap_or_default(),
            |p, v| p.digits_bar_step = if v.is_empty() { None } else { Some(parse(v, "a step (whole number)")?) }
        )
    },
    Field {
        optional: true,
        ..field!("focus", "the enlarged plot", Range::Free, View, |p| p.focus.clone(), |p, v| {
            if !(v.is_empty() || PLOTS.contains(&v)) {
                return Err(format!("a plot ({})", PLOTS.join(", ")));
            }
            p.focus = v.to_string()
        })
    },
    Field {
        optional: true,
        ..field!("hide", "control panels hidden (lecture links)", Range::Free, View, |p| p.hide.join(","), |p, v| {
            let (known, unknown): (Vec<&str>, Vec<&str>) =
                v.split(',').map(str::trim).filter(|s| !s.is_empty()).partition(|h| PANELS.contains(h));
            p.hide = known.into_iter().map(String::from).collect();
            if let Some(u) = unknown.first() {
                return Err(format!("a list of panels ({}); \"{u}\" ignored", PANELS.join(", ")));
            }
        })
    },
];

/// The field of a URL key.
pub fn field(key: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.key == key)
}

/// Clamp the fields with a range into it, one note per correction (a value that is not a number
/// gets the default of [`Page::default`]).
pub fn clamp(page: &mut Page, notes: &mut Vec<String>) {
    let defaults = Page::default();
    for f in &FIELDS {
        let now = (f.get)(page);
        let fixed = match f.range {
            Range::Free | Range::Model(_) => continue,
            Range::Real(lo, hi) => match now.parse::<f64>() {
                Ok(v) if !v.is_finite() => {
                    let d = (f.get)(&defaults);
                    notes.push(format!("{} is not a number; using {d}", f.label));
                    d
                }
                Ok(v) if v < lo || v > hi => {
                    let c = v.clamp(lo, hi);
                    notes.push(format!("{} {v} is outside [{lo}, {hi}]; using {c}", f.label));
                    c.to_string()
                }
                _ => continue,
            },
            Range::Whole(lo, hi) => match now.parse::<u64>() {
                Ok(v) if v < lo || v > hi => {
                    let c = v.clamp(lo, hi);
                    notes.push(format!("{} {v} is outside {lo}–{hi}; using {c}", f.label));
                    c.to_string()
                }
                _ => continue,
            },
        };
        // A value the field wrote itself parses back.
        let _ = (f.set)(page, &fixed);
    }
}

/// The documented table of URL keys (generated; `docs/url.md` is checked against it).
pub fn key_table() -> String {
    let defaults = Page::default();
    let mut out = String::from("| key | setting | feeds | range | default |\n|---|---|---|---|---|\n");
    for f in &FIELDS {
        let range = match f.range {
            Range::Real(lo, hi) => format!("[{lo}, {hi}]"),
            Range::Whole(lo, hi) => format!("{lo}–{hi}"),
            Range::Model(text) => text(),
            Range::Free => String::new(),
        };
        let scope = match f.scope {
            Scope::Job => "job",
            Scope::Race => "race",
            Scope::Gating => "gating",
            Scope::Digits => "digits",
            Scope::View => "view",
        };
        let default = (f.get)(&defaults);
        let default = if default.is_empty() { "(none)".to_string() } else { format!("`{default}`") };
        out.push_str(&format!("| `{}` | {} | {scope} | {range} | {default} |\n", f.key, f.label));
    }
    out
}
