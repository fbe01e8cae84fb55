//! The `stochgrad` command line, as a library: [`run`] takes the arguments and standard input
//! and returns the text for standard output or one [`CliError`]. `main.rs` only prints and exits,
//! so the tests can run the whole command line in-process (and fuzz it quickly).
//!
//! Commands (see `docs/cli.md` and [`usage`]):
//! * `stochgrad estimators` — the registry with metadata, as JSON;
//! * `stochgrad exact MODEL.json` — `E[f]`, `∇θ E[f]` and the optimal per-unit baselines;
//! * `stochgrad moments MODEL.json --estimator KEY …` — an estimator's mean and variance against the
//!   exact gradient, with bias², variance trace, MSE and cosine;
//! * `stochgrad distribution MODEL.json --estimator KEY --param NAME …` — the distribution of one
//!   parameter's estimate: exact (values and probabilities) or a Monte-Carlo histogram;
//! * `stochgrad train MODEL.json --estimator KEY …` — a training race, one CSV row per step with the
//!   exact expected loss and gradient norm at the current parameters;
//! * `stochgrad gating …` — the seed paper's conditional-computation comparison in miniature.
//!
//! Nothing non-finite is ever printed: every number is checked before it is written, and a
//! non-finite one turns the whole answer into a `numerical problem` error.

pub mod args;
pub mod flags;
mod pretty;

use args::{
    Command, DigitsCommand, DigitsCompareArgs, DigitsTrainArgs, DistributionArgs, ExactArgs, FieldArgs, Format,
    GatingArgs, GatingFormat, HyperArgs, ListFormat, MomentsArgs, TrainArgs, Wrt,
};
use flags::On;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::io::Read;
use stochgrad_core::estimators::{self, Hyper, HyperParams};
use stochgrad_core::exact::{self, ExactSolution};
use stochgrad_core::field;
use stochgrad_core::gating::{self, GatingConfig};
use stochgrad_core::loss::Extension;
use stochgrad_core::model::ModelError;
use stochgrad_core::moments::{self, Request};
use stochgrad_core::stats::{Figure, Method};
use stochgrad_core::train::{self, Race};
use stochgrad_core::units::{self, McOptions};
use stochgrad_core::{math, params, vae, Error as CoreError, Model};

/// Exit code of a successful run.
pub const EXIT_OK: i32 = 0;
/// Exit code of every reported error (usage, unreadable or invalid model, limits, not applicable, …).
pub const EXIT_ERROR: i32 = 2;

/// A model file larger than this is refused before parsing (a valid model is at most a few MB).
pub const MAX_MODEL_BYTES: u64 = 64 << 20;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The help text: the synopses and the FLAGS sections come from the one table of flags
/// (`flags.rs`), whose meanings, ranges and defaults come from the core and the registry, so the
/// text cannot drift from the parser or the engine.
pub fn usage() -> String {
    let usage: String = synopses().lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "\
stochgrad {VERSION} — exact gradients and gradient-estimator moments for small stochastic binary networks

USAGE:
{usage}
COMMANDS:
    estimators   List the gradient estimators with their metadata (JSON array, or the README's
                 Markdown table).
    exact        Exact expected loss E[f], its gradient and the optimal per-unit baselines.
                 For STS / noisy-rectifier layers, their own objective (Monte Carlo where it
                 has no exact form; --samples, --seed).
    moments      Mean and variance of one estimator's gradient estimate, against the exact
                 gradient: bias², variance trace, MSE, cosine, variance × loss evaluations.
                 The unit types sts and noisy-rectifier are a different network compared on
                 its own objective (the output says so).
    distribution The distribution of one parameter's estimate (--param): exact where the
                 moments are exact by enumeration (distinct values and their probabilities,
                 and uniform pieces for AR's and ARM's noise), else a Monte-Carlo histogram.
    field        The gradient field over two parameters (the others fixed): on a grid, the exact
                 E[f], the exact gradient's two components and each estimator's mean (exact or
                 quadrature, else Monte Carlo, labelled); trajectories of each estimator and of
                 exact descent training only the two parameters.
    train        A training race: one gradient estimate per step; CSV per step of the exact
                 E[f] and ‖∇‖ at the current parameters and the loss evaluations spent
                 (and p = σ(a) for a one-unit network).
    gating       The seed paper's conditional-computation comparison in miniature: held-out
                 loss and error of a gated network trained with each kind of gate.
    digits info  The binarised 8×8 digits (the discrete VAE's data): images, pixels,
                 train / test split sizes and the fraction of 1-pixels (JSON).
    digits train The discrete VAE on the digits, its encoder trained by one estimator (or
                 the exact gradient), the decoder and prior by their exact gradient: CSV, one
                 row per checkpoint, of the exact −ELBO and −log p(x) (nats per image).
    digits compare
                 Every estimator over several seeds at equal loss evaluations: a Markdown
                 table of the final test −log p(x) and −ELBO, mean ± standard error.

ARGUMENTS:
    MODEL.json   The network and its loss (see docs/cli.md); `-` reads standard input.
{}
Flags may be written `--name VALUE` or `--name=VALUE`, before or after MODEL.json.
Output goes to standard output. Errors are one line on standard error, exit code 2.
",
        flags::help_sections(),
    )
}

/// Every command's synopsis, from the table of flags (the help's USAGE, docs/cli.md's Commands).
pub fn synopses() -> String {
    let mut out = String::new();
    for on in On::ALL {
        let model = match on {
            On::Estimators | On::Gating => "",
            On::Digits => " info",
            On::DigitsTrain | On::DigitsCompare => "",
            _ => " MODEL.json",
        };
        out.push_str(&flags_wrap(&format!("stochgrad {}{model}", on.name()), &flags::synopsis(on)));
    }
    out.push_str("stochgrad help | --help | -h\nstochgrad --version\n");
    out
}

/// A synopsis line: `head` then the flags, wrapped at 96 columns under the first flag.
fn flags_wrap(head: &str, items: &[String]) -> String {
    let indent = " ".repeat(head.chars().count() + 1);
    let mut out = String::new();
    let mut line = head.to_string();
    for item in items {
        if line.chars().count() + 1 + item.chars().count() > 96 && line.len() > indent.len() {
            out.push_str(&line);
            out.push('\n');
            line = indent.clone() + item;
        } else {
            line.push(' ');
            line.push_str(item);
        }
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// Everything that makes the command line fail; each renders as one line.
#[derive(Debug)]
pub enum CliError {
    /// A mistake on the command line.
    Usage(String),
    /// The model file could not be read (missing, unreadable, too big, not UTF-8).
    Read(String),
    /// An error of the core: invalid model, size limit, not applicable, setting out of range,
    /// numerical overflow.
    Core(CoreError),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) => write!(f, "{m} (see `stochgrad --help`)"),
            CliError::Read(m) => write!(f, "{m}"),
            CliError::Core(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CliError {}

impl From<CoreError> for CliError {
    fn from(e: CoreError) -> Self {
        CliError::Core(e)
    }
}

impl CliError {
    /// The line printed on standard error: `stochgrad: …`, guaranteed to be a single line.
    pub fn line(&self) -> String {
        one_line(&format!("stochgrad: {self}"))
    }
}

/// Collapse any line breaks so a message is always one line.
pub fn one_line(s: &str) -> String {
    s.split(['\n', '\r']).map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Run the command line `args` (without the program name); `stdin` is read only for `-`.
/// Returns the complete standard output (ending in a newline).
pub fn run(args: &[String], stdin: &mut dyn Read) -> Result<String, CliError> {
    match args::parse(args).map_err(CliError::Usage)? {
        Command::Help => Ok(usage()),
        Command::Version => Ok(format!("stochgrad {VERSION}\n")),
        Command::Estimators(ListFormat::Json) => estimators_json(),
        Command::Estimators(ListFormat::Markdown) => Ok(estimators_markdown()),
        Command::Exact(a) => exact_command(&a, stdin),
        Command::Moments(a) => moments_command(&a, stdin),
        Command::Distribution(a) => distribution_command(&a, stdin),
        Command::Train(a) => train_command(&a, stdin),
        Command::Field(a) => field_command(&a, stdin),
        Command::Gating(a) => gating_command(&a),
        Command::Digits(DigitsCommand::Info) => digits_info(),
        Command::Digits(DigitsCommand::Train(a)) => digits_train(&a),
        Command::Digits(DigitsCommand::Compare(a)) => digits_compare(&a),
    }
}

/// `exact` or an estimator of the registry (an unknown key: `find_estimator`'s message).
fn trainer(key: &str) -> Result<vae::Trainer, CliError> {
    vae::Trainer::from_key(key).map_or_else(|| find_estimator(key).map(vae::Trainer::Estimator), Ok)
}

fn vae_config(
    trainer: vae::Trainer,
    hyper: &HyperArgs,
    latents: Option<usize>,
    steps: Option<u64>,
    batch: Option<usize>,
    lr: Option<f64>,
    seed: Option<u64>,
) -> Result<vae::Config, CliError> {
    let d = vae::Config::default();
    let config = vae::Config {
        trainer,
        hp: hyper_params(hyper),
        latents: latents.unwrap_or(d.latents),
        steps: steps.unwrap_or(d.steps),
        batch: batch.unwrap_or(d.batch),
        lr: lr.unwrap_or(d.lr),
        seed: seed.unwrap_or(d.seed),
        eval_every: d.eval_every,
    };
    config.validate()?;
    Ok(config)
}

/// `stochgrad digits train`: CSV, one row per checkpoint (step 0, every M steps, the last).
fn digits_train(a: &DigitsTrainArgs) -> Result<String, CliError> {
    let mut config = vae_config(trainer(&a.estimator)?, &a.hyper, a.latents, a.steps, a.batch, a.lr, a.seed)?;
    config.eval_every = a.eval_every.unwrap_or(config.eval_every);
    let mut run = vae::Run::new(config)?;
    let mut out = String::from(
        "step,loss_evaluations,train_neg_elbo,train_neg_log_marginal,test_neg_elbo,test_neg_log_marginal\n",
    );
    let mut failed = None;
    run.train(&mut |c| {
        let row = [c.train.neg_elbo, c.train.neg_log_marginal, c.test.neg_elbo, c.test.neg_log_marginal];
        if row.iter().any(|v| !v.is_finite()) {
            failed = Some(c.step);
            return false;
        }
        out.push_str(&format!("{},{}", c.step, num(c.loss_evaluations)));
        for v in row {
            out.push_str(&format!(",{}", num(v)));
        }
        out.push('\n');
        true
    })?;
    if let Some(step) = failed {
        return Err(CoreError::Numerical(format!("the exact bounds overflowed at step {step}")).into());
    }
    if let Some(path) = &a.save {
        let text = serde_json::to_string_pretty(&run.params.to_json()).map_err(|e| CliError::Read(e.to_string()))?;
        std::fs::write(path, text + "\n").map_err(|e| CliError::Read(format!("{path}: cannot write ({e})")))?;
    }
    Ok(out)
}

/// `stochgrad digits compare`: the README's table, one row per estimator.
fn digits_compare(a: &DigitsCompareArgs) -> Result<String, CliError> {
    let keys: Vec<String> = match &a.estimators {
        Some(k) => k.clone(),
        None => vae::trainer_keys().into_iter().map(String::from).collect(),
    };
    let trainers = keys.iter().map(|k| trainer(k)).collect::<Result<Vec<_>, _>>()?;
    let base = vae_config(vae::Trainer::Exact, &a.hyper, a.latents, a.steps, a.batch, a.lr, a.seed)?;
    let rows = vae::compare(&base, &trainers, a.seeds)?;
    Ok(vae::markdown(&base, a.seeds, &rows))
}

/// `stochgrad digits info`: the discrete VAE's data (core/data/digits.bin, see docs/cli.md).
fn digits_info() -> Result<String, CliError> {
    use stochgrad_core::digits;
    #[derive(Serialize)]
    struct Info {
        images: usize,
        pixels: usize,
        train: usize,
        test: usize,
        ones_fraction: f64,
    }
    to_json(&Info {
        images: digits::IMAGES,
        pixels: digits::PIXELS,
        train: digits::train().len(),
        test: digits::test().len(),
        ones_fraction: digits::ones_fraction(),
    })
}

/// The hyper-parameters from the flags (defaults for those left out).
fn hyper_params(h: &HyperArgs) -> HyperParams {
    let d = HyperParams::default();
    HyperParams {
        tau: h.tau.unwrap_or(d.tau),
        // None: the estimator's own default.
        k: h.k.or(d.k),
        decay: h.decay.unwrap_or(d.decay),
        gap: h.gap.unwrap_or(d.gap),
        eta: h.eta.unwrap_or(d.eta),
        lambda: h.lambda.unwrap_or(d.lambda),
        noise: h.noise.unwrap_or(d.noise),
        noise_scale: h.noise_scale.unwrap_or(d.noise_scale),
    }
}

/// Notes for hyper-parameter flags the estimator does not use.
fn ignored_flags(meta: &estimators::Meta, h: &HyperArgs) -> Vec<String> {
    let mut notes = Vec::new();
    for (given, hyper, flag) in [
        (h.tau.is_some(), Hyper::Tau, "--tau"),
        (h.k.is_some(), Hyper::K, "--k"),
        (h.decay.is_some(), Hyper::Decay, "--decay"),
        (h.gap.is_some(), Hyper::Gap, "--gap"),
        (h.eta.is_some(), Hyper::Eta, "--eta"),
        (h.lambda.is_some(), Hyper::Lambda, "--lambda"),
        (h.noise.is_some(), Hyper::Noise, "--noise"),
        (h.noise_scale.is_some(), Hyper::NoiseScale, "--noise-scale"),
    ] {
        if given && !meta.hyper.contains(&hyper) {
            notes.push(format!("{flag} is ignored: {} does not use it", meta.key));
        }
    }
    notes
}

fn find_estimator(key: &str) -> Result<&'static dyn estimators::Estimator, CliError> {
    estimators::find(key).ok_or_else(|| {
        CliError::Usage(format!(
            "unknown estimator \"{}\" (known: {})",
            args::shorten(key),
            estimators::keys().join(", ")
        ))
    })
}

/// `stochgrad estimators --format markdown`: the README's table of the estimators, from the registry.
pub fn estimators_markdown() -> String {
    let mut out = String::from(
        "| key | name | unbiased | needs ∂f/∂h | uses τ | loss evaluations | categorical units | formula (per unit, gradient w.r.t. the logit) |\n|---|---|---|---|---|---|---|---|\n",
    );
    let yes = |b: bool| if b { "yes" } else { "no" };
    // Whether the estimator has a categorical form: asked of one categorical unit (K = 3).
    let categorical = Model::from_json_str(
        r#"{"layers":[{"unit":"categorical","classes":3,"weights":[[],[],[]],"bias":[0,0,0]}],"loss":{"kind":"toy","target":[0.5,0.5,0.5]}}"#,
    )
    .ok();
    for m in estimators::registry().iter().map(|e| e.meta()) {
        let cat = categorical.as_ref().is_some_and(|c| estimators::categorical::check(m, c).is_ok());
        let own = m.family == estimators::Family::UnitType;
        let name = if own { format!("{} — **a different unit**", m.name) } else { m.name.to_string() };
        let unbiased = match (own, m.unbiased) {
            (true, true) => "yes, for its own objective",
            (true, false) => "no (not even for its own objective)",
            (false, b) => yes(b),
        };
        let tau = match (m.uses_tau, m.recommended_tau) {
            (true, Some((lo, hi))) => format!("yes (authors: τ ∈ [{lo}, {hi}])"),
            (true, None) => "yes".to_string(),
            (false, _) if m.hyper.contains(&Hyper::Lambda) => "no (λ)".to_string(),
            (false, _) => "no".to_string(),
        };
        out.push_str(&format!(
            "| `{}` | {name} | {unbiased} | {} | {tau} | {} | {} | {} |\n",
            m.key,
            yes(m.needs_loss_gradient),
            m.evaluations,
            yes(cat),
            m.formula.replace('|', "\\|")
        ));
    }
    out
}

/// `stochgrad estimators`.
fn estimators_json() -> Result<String, CliError> {
    let metas: Vec<&estimators::Meta> = estimators::registry().iter().map(|e| e.meta()).collect();
    for m in &metas {
        if let Some((lo, hi)) = m.recommended_tau {
            finite(&format!("{}'s recommended τ", m.key), &[lo, hi])?;
        }
    }
    to_json(&metas)
}

#[derive(Serialize)]
struct ExactOut {
    expected_loss: f64,
    /// `--wrt p`: "p", and p's value; the gradient is then `{"p": ∂E[f]/∂p}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    wrt: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p: Option<f64>,
    gradient: Value,
    optimal_baseline: Vec<Vec<f64>>,
    /// `elbo` models only: `log p(x)`, exact.
    #[serde(skip_serializing_if = "Option::is_none")]
    log_marginal: Option<f64>,
    /// `elbo` models only: `{"decoder": {"weights", "bias"}, "prior"}`, the exact gradient of −ELBO.
    #[serde(skip_serializing_if = "Option::is_none")]
    loss_gradient: Option<Value>,
    /// Non-binary units only: how the objective was obtained.
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_loss_stderr: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stderr: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    samples: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

/// `stochgrad exact`.
fn exact_command(a: &ExactArgs, stdin: &mut dyn Read) -> Result<String, CliError> {
    let model = with_extension(load_model(&a.model, stdin)?, a.extension)?;
    let per_p = wrt_p(&model, a.wrt)?;
    let defaults = McOptions::default();
    let mc = McOptions { samples: a.samples.unwrap_or(defaults.samples), seed: a.seed.unwrap_or(defaults.seed) };
    let (sol, objective) = if model.is_binary() || model.has_categorical() {
        (solve(&model)?, None)
    } else {
        let o = units::objective(&model, &mc)?;
        (checked(o.solution.clone())?, Some(o))
    };
    let mut notes = objective.as_ref().map_or_else(Vec::new, |o| o.notes.clone());
    let is_mc = objective.as_ref().is_some_and(|o| o.method == Method::MonteCarlo);
    if !is_mc && (a.samples.is_some() || a.seed.is_some()) {
        notes.push("--samples and --seed are ignored: the objective is computed exactly".to_string());
    }
    let mut stderr = objective.as_ref().and_then(|o| o.stderr.clone());
    let mut gradient = sol.gradient.clone();
    if let Some(p) = &per_p {
        gradient = p.scale(&gradient, 1);
        stderr = stderr.map(|se| p.scale(&se, 1));
        notes.push(p.note());
    }
    finite("the gradient", &gradient)?;
    if let Some(se) = &stderr {
        finite("the standard error of the gradient", se)?;
    }
    let names = |i: usize| if per_p.is_some() { "p".to_string() } else { params::name(&model, i) };
    let layered = |v: &[f64]| match &per_p {
        Some(_) => serde_json::json!({ "p": v[0] }),
        None => params::layered(&model, v),
    };
    let elbo = exact::elbo_figures(&model);
    if let Some(e) = &elbo {
        finite("log p(x)", &[e.log_marginal])?;
        finite("the decoder's gradient", &e.decoder_weights)?;
        finite("the decoder's gradient", &e.decoder_bias)?;
        finite("the prior's gradient", &e.prior)?;
        notes.push(
            "elbo: expected_loss is −ELBO = E_q[g] − H(q) (nats), the gradient is of −ELBO (H(q) exact); log_marginal = log p(x), exact".to_string(),
        );
    }
    match a.format {
        Format::Json => to_json(&ExactOut {
            expected_loss: sol.expected_loss,
            log_marginal: elbo.as_ref().map(|e| e.log_marginal),
            loss_gradient: elbo.as_ref().map(|e| {
                let k = e.prior.len();
                let rows: Vec<&[f64]> = e.decoder_weights.chunks(k.max(1)).collect();
                serde_json::json!({"decoder": {"weights": rows, "bias": e.decoder_bias}, "prior": e.prior})
            }),
            wrt: per_p.as_ref().map(|_| "p"),
            p: per_p.as_ref().map(|p| p.p),
            gradient: layered(&gradient),
            optimal_baseline: sol.optimal_baseline.clone(),
            method: objective.as_ref().map(|o| o.method.key()),
            expected_loss_stderr: objective.as_ref().and_then(|o| o.loss_stderr),
            stderr: stderr.as_ref().map(|se| layered(se)),
            samples: if is_mc { Some(mc.samples) } else { None },
            seed: if is_mc { Some(mc.seed) } else { None },
            notes,
        }),
        Format::Csv => {
            let mut out =
                String::from(if is_mc { "parameter,gradient,stderr\n" } else { "parameter,exact_gradient\n" });
            for (i, g) in gradient.iter().enumerate() {
                match &stderr {
                    Some(se) => out.push_str(&format!("{},{},{}\n", names(i), num(*g), num(se[i]))),
                    None => out.push_str(&format!("{},{}\n", names(i), num(*g))),
                }
            }
            Ok(out)
        }
    }
}

/// The model with its loss's extension replaced (`--extension`), validated again as MODEL.json
/// (the multilinear softmax has a width limit; `match` has no extension).
fn with_extension(model: Model, e: Option<Extension>) -> Result<Model, CliError> {
    let Some(e) = e else { return Ok(model) };
    if model.loss.extension().is_none() {
        return Err(CliError::Usage(
            "--extension does not apply: the match loss is a 0/1 reward used without any real-valued extension".into(),
        ));
    }
    let mut v = model.to_value();
    v["loss"]["extension"] = Value::from(e.key());
    Model::from_value(&v).map_err(|err| CliError::Core(err.into()))
}

/// `--wrt p`: derivatives with respect to the firing probability `p = σ(a)` of a network whose only
/// parameter is one unit's logit `a`: `∂/∂p = ∂/∂a ÷ σ′(a)`.
struct PerP {
    p: f64,
    /// `σ′(a) = σ(a)σ(−a)`.
    slope: f64,
}

impl PerP {
    /// `v` (a derivative to the power `power`: 1 for means and gradients, 2 for variances and
    /// squared figures) with respect to p instead of a.
    fn scale(&self, v: &[f64], power: i32) -> Vec<f64> {
        v.iter().map(|x| x / self.slope.powi(power)).collect()
    }
    fn note(&self) -> String {
        format!(
            "--wrt p: derivatives with respect to p = σ(a) = {}, each the logit's divided by σ′(a) = {}",
            num(self.p),
            num(self.slope)
        )
    }
}

fn wrt_p(model: &Model, wrt: Wrt) -> Result<Option<PerP>, CliError> {
    if wrt == Wrt::Parameters {
        return Ok(None);
    }
    if model.num_params() != 1 {
        return Err(CliError::Usage(format!(
            "--wrt p needs a network whose only parameter is one unit's logit (one layer of one unit, no input); this one has {} parameters",
            model.num_params()
        )));
    }
    let a = model.layers[0].bias[0];
    let slope = math::sigmoid(a) * math::sigmoid(-a);
    if slope <= 0.0 || slope.is_nan() {
        return Err(CoreError::Numerical(format!(
            "--wrt p: σ′(a) underflows to 0 at a = {a}, so ∂/∂p = ∂/∂a ÷ σ′(a) is not finite"
        ))
        .into());
    }
    Ok(Some(PerP { p: math::sigmoid(a), slope }))
}

#[derive(Serialize)]
struct FigureStderr {
    bias_sq_norm: f64,
    variance_trace: f64,
    mse: f64,
    cosine: Option<f64>,
    variance_x_evals: f64,
}

#[derive(Serialize)]
struct MomentsOut {
    estimator: &'static str,
    method: &'static str,
    /// `--wrt p`: "p", and p's value; every derivative and figure is then with respect to p.
    #[serde(skip_serializing_if = "Option::is_none")]
    wrt: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p: Option<f64>,
    mean: Value,
    variance: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    stderr: Option<Value>,
    exact_gradient: Value,
    expected_loss: f64,
    /// Unit types: the objective the figures are against (`exact_gradient` and `expected_loss` are its).
    #[serde(skip_serializing_if = "Option::is_none")]
    objective: Option<ObjectiveOut>,
    bias_sq_norm: f64,
    variance_trace: f64,
    mse: f64,
    cosine: Option<f64>,
    loss_evaluations: f64,
    variance_x_evals: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    samples: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    figure_stderr: Option<FigureStderr>,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct ObjectiveOut {
    units: String,
    method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_loss_stderr: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gradient_stderr: Option<Value>,
}

/// `stochgrad moments`.
fn moments_command(a: &MomentsArgs, stdin: &mut dyn Read) -> Result<String, CliError> {
    // Everything that can be checked without the model is checked before reading it.
    let est = find_estimator(&a.estimator)?;
    let flags = a.hyper.clone();
    let req = request(&flags, a.method, a.samples, a.seed)?;
    let model = with_extension(load_model(&a.model, stdin)?, a.extension)?;
    let per_p = wrt_p(&model, a.wrt)?;
    est.check(&model)?;
    let sol = reference_solution(&model)?;
    let report = moments::moments(&model, &sol, est, &req, &mut |_, _| true)?;
    // The reference the figures are against: the estimator's own objective for the unit types.
    let (reference, objective) = match &report.objective {
        Some(o) => (checked(o.solution.clone())?, Some(o)),
        None => (sol, None),
    };

    let meta = est.meta();
    let mut notes = report.notes.clone();
    notes.extend(ignored_flags(meta, &flags));
    let mc = report.method == Method::MonteCarlo;
    if !mc && (a.samples.is_some() || a.seed.is_some()) {
        notes.push(format!("--samples and --seed are ignored: the moments are {}", report.method.key()));
    }

    let np = model.num_params();
    if report.mean.len() != np || report.variance.len() != np {
        return Err(CoreError::Numerical("the estimator returned moments of the wrong dimension".into()).into());
    }
    // `--wrt p`: every derivative divided by σ′(a), every squared figure by σ′(a)² (the cosine and
    // the loss evaluations are unchanged).
    let (mut mean, mut variance, mut gradient, mut fig) =
        (report.mean.clone(), report.variance.clone(), reference.gradient.clone(), report.figures);
    let mut se_mean = report.stderr.clone();
    if let Some(p) = &per_p {
        (mean, variance, gradient) = (p.scale(&mean, 1), p.scale(&variance, 2), p.scale(&gradient, 1));
        se_mean = se_mean.map(|se| p.scale(&se, 1));
        let s2 = p.slope * p.slope;
        let sq = |f: Figure| Figure { value: f.value / s2, stderr: f.stderr.map(|s| s / s2) };
        fig.bias_sq_norm = sq(fig.bias_sq_norm);
        fig.variance_trace = sq(fig.variance_trace);
        fig.mse = sq(fig.mse);
        fig.variance_x_evals = sq(fig.variance_x_evals);
        notes.push(p.note());
    }
    finite("the mean", &mean)?;
    finite("the variance", &variance)?;
    finite("the exact gradient", &gradient)?;
    let fig = &fig;
    let figures = [
        ("bias_sq_norm", fig.bias_sq_norm),
        ("variance_trace", fig.variance_trace),
        ("mse", fig.mse),
        ("variance_x_evals", fig.variance_x_evals),
    ];
    for (name, f) in figures {
        finite(name, &[f.value])?;
    }
    if let Some(c) = fig.cosine {
        finite("cosine", &[c.value])?;
    }
    finite("loss_evaluations", &[fig.loss_evaluations])?;

    let (stderr, figure_stderr) = if mc {
        let se = se_mean.clone().unwrap_or_default();
        if se.len() != np {
            return Err(CoreError::Numerical("the Monte-Carlo standard errors are missing".into()).into());
        }
        finite("the standard error of the mean", &se)?;
        let need = |name: &str, f: Figure| -> Result<f64, CliError> {
            match f.stderr {
                Some(s) if s.is_finite() => Ok(s),
                _ => Err(CoreError::Numerical(format!(
                    "the standard error of {name} overflowed or could not be estimated"
                ))
                .into()),
            }
        };
        let fs = FigureStderr {
            bias_sq_norm: need("bias_sq_norm", fig.bias_sq_norm)?,
            variance_trace: need("variance_trace", fig.variance_trace)?,
            mse: need("mse", fig.mse)?,
            cosine: match fig.cosine {
                Some(c) => Some(need("cosine", c)?),
                None => None,
            },
            variance_x_evals: need("variance_x_evals", fig.variance_x_evals)?,
        };
        (Some(se), Some(fs))
    } else {
        (None, None)
    };

    let layered = |v: &[f64]| match &per_p {
        Some(_) => serde_json::json!({ "p": v[0] }),
        None => params::layered(&model, v),
    };
    match a.format {
        Format::Json => to_json(&MomentsOut {
            estimator: report.estimator,
            method: report.method.key(),
            wrt: per_p.as_ref().map(|_| "p"),
            p: per_p.as_ref().map(|p| p.p),
            mean: layered(&mean),
            variance: layered(&variance),
            stderr: stderr.as_ref().map(|se| layered(se)),
            exact_gradient: layered(&gradient),
            expected_loss: reference.expected_loss,
            objective: objective.map(|o| ObjectiveOut {
                units: units::describe(&o.model),
                method: o.method.key(),
                expected_loss_stderr: o.loss_stderr,
                gradient_stderr: o.stderr.as_ref().map(|se| match &per_p {
                    Some(p) => layered(&p.scale(se, 1)),
                    None => layered(se),
                }),
            }),
            bias_sq_norm: fig.bias_sq_norm.value,
            variance_trace: fig.variance_trace.value,
            mse: fig.mse.value,
            cosine: fig.cosine.map(|c| c.value),
            loss_evaluations: fig.loss_evaluations,
            variance_x_evals: fig.variance_x_evals.value,
            samples: if mc { report.samples } else { None },
            seed: if mc { Some(req.seed) } else { None },
            figure_stderr,
            notes,
        }),
        Format::Csv => {
            let mut out = String::from("parameter,exact_gradient,mean,variance,stderr\n");
            for i in 0..np {
                let se = stderr.as_ref().map_or(String::new(), |s| num(s[i]));
                out.push_str(&format!(
                    "{},{},{},{},{}\n",
                    if per_p.is_some() { "p".to_string() } else { params::name(&model, i) },
                    num(gradient[i]),
                    num(mean[i]),
                    num(variance[i]),
                    se
                ));
            }
            Ok(out)
        }
    }
}

#[derive(Serialize)]
struct PieceOut {
    from: f64,
    to: f64,
    probability: f64,
}

#[derive(Serialize)]
struct BinsOut {
    edges: Vec<f64>,
    counts: Vec<u64>,
}

#[derive(Serialize)]
struct DistributionOut {
    estimator: &'static str,
    parameter: String,
    method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    values: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    probabilities: Option<Vec<f64>>,
    /// Exact: uniform pieces (AR's and ARM's noise inside a cell), each `probability` spread evenly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pieces: Option<Vec<PieceOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bins: Option<BinsOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    samples: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    mean: f64,
    variance: f64,
    exact_gradient: f64,
    notes: Vec<String>,
}

/// `stochgrad distribution`.
fn distribution_command(a: &DistributionArgs, stdin: &mut dyn Read) -> Result<String, CliError> {
    let est = find_estimator(&a.estimator)?;
    let req = request(&a.hyper, a.method, a.samples, a.seed)?;
    let model = with_extension(load_model(&a.model, stdin)?, a.extension)?;
    let index = stochgrad_core::params::find(&model, &a.param)?;
    est.check(&model)?;
    let sol = reference_solution(&model)?;
    let d = stochgrad_core::distribution::distribution(&model, &sol, est, index, &req, &mut |_, _| true)?;
    let mut notes = d.notes.clone();
    notes.extend(ignored_flags(est.meta(), &a.hyper));
    let mc = d.method == Method::MonteCarlo;
    if !mc && (a.samples.is_some() || a.seed.is_some()) {
        notes.push(format!("--samples and --seed are ignored: the distribution is {}", d.method.key()));
    }
    finite("the distribution's moments", &[d.mean, d.variance, d.exact_gradient])?;
    use stochgrad_core::distribution::Shape;
    let mut out = DistributionOut {
        estimator: d.estimator,
        parameter: d.parameter.clone(),
        method: d.method.key(),
        values: None,
        probabilities: None,
        pieces: None,
        bins: None,
        samples: None,
        seed: None,
        mean: d.mean,
        variance: d.variance,
        exact_gradient: d.exact_gradient,
        notes,
    };
    let mut csv = String::from("kind,from,to,probability,count\n");
    match &d.shape {
        Shape::Exact { values, probabilities, pieces } => {
            finite("a value", values)?;
            for (v, p) in values.iter().zip(probabilities) {
                csv.push_str(&format!("value,{},{},{},\n", num(*v), num(*v), num(*p)));
            }
            for p in pieces {
                finite("a piece", &[p.from, p.to])?;
                csv.push_str(&format!("uniform,{},{},{},\n", num(p.from), num(p.to), num(p.probability)));
            }
            out.values = Some(values.clone());
            out.probabilities = Some(probabilities.clone());
            out.pieces =
                Some(pieces.iter().map(|p| PieceOut { from: p.from, to: p.to, probability: p.probability }).collect());
        }
        Shape::MonteCarlo { samples, seed, edges, counts } => {
            finite("a bin edge", edges)?;
            for (i, c) in counts.iter().enumerate() {
                csv.push_str(&format!("bin,{},{},,{c}\n", num(edges[i]), num(edges[i + 1])));
            }
            out.bins = Some(BinsOut { edges: edges.clone(), counts: counts.clone() });
            out.samples = Some(*samples);
            out.seed = Some(*seed);
        }
    }
    match a.format {
        Format::Json => to_json(&out),
        Format::Csv => Ok(csv),
    }
}

/// The exact solution, refused if any of it is non-finite.
fn solve(model: &Model) -> Result<ExactSolution, CliError> {
    checked(exact::solve(model)?)
}

/// A solution, refused if any of it is non-finite.
fn checked(sol: ExactSolution) -> Result<ExactSolution, CliError> {
    finite("the expected loss", &[sol.expected_loss])?;
    finite("the exact gradient", &sol.gradient)?;
    for b in &sol.optimal_baseline {
        finite("the optimal baseline", b)?;
    }
    Ok(sol)
}

/// `stochgrad train`: CSV, one row per printed step.
fn train_command(a: &TrainArgs, stdin: &mut dyn Read) -> Result<String, CliError> {
    let est = find_estimator(&a.estimator)?;
    let hp = hyper_params(&a.hyper);
    hp.validate()?;
    if a.steps > train::MAX_STEPS {
        return Err(CliError::Usage(format!("--steps must be at most {}, got {}", train::MAX_STEPS, a.steps)));
    }
    let (lo, hi) = train::LR_RANGE;
    if !(a.lr >= lo && a.lr <= hi) {
        return Err(CliError::Usage(format!("--lr must be in [{lo}, {hi}], got {}", a.lr)));
    }
    let model = with_extension(load_model(&a.model, stdin)?, a.extension)?;
    let one_unit = model.units() == 1;
    let mut race = Race::new(model, est, hp, a.optimizer, a.lr, a.seed)?;
    let first = race.evaluate()?;
    let mc = first.method == Method::MonteCarlo;
    let mut out = String::from("step,expected_loss,grad_norm,loss_evaluations");
    if one_unit {
        out.push_str(",p");
    }
    if mc {
        out.push_str(",method");
    }
    out.push('\n');
    let mut row = |r: &train::StepReport| -> Result<(), CliError> {
        finite("the expected loss", &[r.expected_loss, r.grad_norm, r.loss_evaluations])?;
        out.push_str(&format!("{},{},{},{}", r.step, num(r.expected_loss), num(r.grad_norm), num(r.loss_evaluations)));
        if let Some(p) = r.p {
            out.push_str(&format!(",{}", num(p)));
        }
        if mc {
            out.push_str(&format!(",{}", r.method.key()));
        }
        out.push('\n');
        Ok(())
    };
    row(&first)?;
    for s in 1..=a.steps {
        race.advance()?;
        if s % a.every == 0 || s == a.steps {
            row(&race.evaluate()?)?;
        }
    }
    Ok(out)
}

#[derive(Serialize)]
struct AxisOut {
    parameter: String,
    /// The parameter's value in the model (where the trajectories start).
    value: f64,
    range: [f64; 2],
    values: Vec<f64>,
}

#[derive(Serialize)]
struct PathOut {
    points: Vec<[f64; 2]>,
    expected_loss: Vec<f64>,
}

#[derive(Serialize)]
struct FieldEstimatorOut {
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mean_x: Option<Vec<Vec<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mean_y: Option<Vec<Vec<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stderr_x: Option<Vec<Vec<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stderr_y: Option<Vec<Vec<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trajectory: Option<PathOut>,
}

#[derive(Serialize)]
struct FieldOut {
    x: AxisOut,
    y: AxisOut,
    grid: usize,
    /// Rows: the y values in order; columns: the x values.
    expected_loss: Vec<Vec<f64>>,
    gradient_x: Vec<Vec<f64>>,
    gradient_y: Vec<Vec<f64>>,
    estimators: Vec<FieldEstimatorOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exact_descent: Option<PathOut>,
    steps: u64,
    lr: f64,
    optimizer: &'static str,
    seed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    samples: Option<u64>,
    notes: Vec<String>,
}

/// `stochgrad field`.
fn field_command(a: &FieldArgs, stdin: &mut dyn Read) -> Result<String, CliError> {
    for key in &a.estimators {
        find_estimator(key)?;
    }
    let hp = hyper_params(&a.hyper);
    hp.validate()?;
    let model = with_extension(load_model(&a.model, stdin)?, a.extension)?;
    let ix = stochgrad_core::params::find(&model, &a.x)?;
    let iy = stochgrad_core::params::find(&model, &a.y)?;
    let mut spec = field::Spec::new(&model, ix, iy);
    if let Some([x0, x1, y0, y1]) = a.range {
        (spec.x.lo, spec.x.hi, spec.y.lo, spec.y.hi) = (x0, x1, y0, y1);
    }
    spec.grid = a.grid.unwrap_or(spec.grid);
    spec.estimators = a.estimators.clone();
    spec.hp = hp;
    spec.samples = a.samples.unwrap_or(spec.samples);
    spec.seed = a.seed;
    spec.steps = a.steps;
    spec.lr = a.lr;
    spec.optimizer = a.optimizer;
    let f = field::Field::new(&model, spec)?;
    let rows = f.rows()?;
    let paths = f.trajectories()?;
    let grid = |get: &dyn Fn(&field::Point) -> f64| -> Result<Vec<Vec<f64>>, CliError> {
        let g: Vec<Vec<f64>> = rows.iter().map(|r| r.iter().map(get).collect()).collect();
        for r in &g {
            finite("the field", r)?;
        }
        Ok(g)
    };
    let mut notes = vec![format!(
        "rows are the {} values, columns the {} values; E[f] and the gradient (∂E[f]/∂x, ∂E[f]/∂y) are exact (enumeration) at every point; descent moves along −gradient",
        a.y, a.x
    )];
    let mc = f.estimators().iter().any(|e| e.method == Some(Method::MonteCarlo));
    let mut outs = Vec::new();
    let mut k = 0;
    for e in f.estimators() {
        let meta = estimators::find(&e.key).map(|est| est.meta());
        if let Some(meta) = meta {
            for n in ignored_flags(meta, &a.hyper) {
                notes.push(n);
            }
        }
        let mut out = FieldEstimatorOut {
            key: e.key.clone(),
            method: e.method.map(Method::key),
            skipped: e.skipped.clone(),
            note: e.note.clone(),
            mean_x: None,
            mean_y: None,
            stderr_x: None,
            stderr_y: None,
            trajectory: None,
        };
        if e.skipped.is_none() {
            out.mean_x = Some(grid(&|p| p.means[k][0])?);
            out.mean_y = Some(grid(&|p| p.means[k][1])?);
            if e.method == Some(Method::MonteCarlo) {
                out.stderr_x = Some(grid(&|p| p.stderr[k].map_or(0.0, |s| s[0]))?);
                out.stderr_y = Some(grid(&|p| p.stderr[k].map_or(0.0, |s| s[1]))?);
            }
            out.trajectory = paths
                .iter()
                .find(|t| t.key == e.key)
                .map(|t| PathOut { points: t.points.clone(), expected_loss: t.expected_loss.clone() });
            k += 1;
        }
        outs.push(out);
    }
    if mc {
        notes.push(format!(
            "monte-carlo means: {} draws per grid point with seed {} at every point (stderr_x, stderr_y)",
            f.spec().samples,
            a.seed
        ));
    } else if a.samples.is_some() {
        notes.push("--samples is ignored: every mean is exact or quadrature".to_string());
    }
    for t in &paths {
        for p in &t.points {
            finite("a trajectory", p)?;
        }
        finite("a trajectory's E[f]", &t.expected_loss)?;
    }
    let (xs, ys) = (f.xs(), f.ys());
    let theta = stochgrad_core::train::parameters(&model);
    let spec = f.spec();
    match a.format {
        Format::Json => to_json(&FieldOut {
            x: AxisOut { parameter: a.x.clone(), value: theta[ix], range: [spec.x.lo, spec.x.hi], values: xs },
            y: AxisOut { parameter: a.y.clone(), value: theta[iy], range: [spec.y.lo, spec.y.hi], values: ys },
            grid: spec.grid,
            expected_loss: grid(&|p| p.expected_loss)?,
            gradient_x: grid(&|p| p.gradient[0])?,
            gradient_y: grid(&|p| p.gradient[1])?,
            estimators: outs,
            exact_descent: paths
                .iter()
                .find(|t| t.key == "exact")
                .map(|t| PathOut { points: t.points.clone(), expected_loss: t.expected_loss.clone() }),
            steps: spec.steps,
            lr: spec.lr,
            optimizer: spec.optimizer.key(),
            seed: spec.seed,
            samples: if mc { Some(spec.samples) } else { None },
            notes,
        }),
        Format::Csv => {
            let used: Vec<&field::EstimatorField> = f.estimators().iter().filter(|e| e.skipped.is_none()).collect();
            let mut out = String::from("x,y,expected_loss,gradient_x,gradient_y");
            for e in &used {
                out.push_str(&format!(",{0}_mean_x,{0}_mean_y", e.key));
                if e.method == Some(Method::MonteCarlo) {
                    out.push_str(&format!(",{0}_stderr_x,{0}_stderr_y", e.key));
                }
            }
            out.push('\n');
            for p in rows.iter().flatten() {
                finite("the field", &[p.x, p.y, p.expected_loss, p.gradient[0], p.gradient[1]])?;
                out.push_str(&format!(
                    "{},{},{},{},{}",
                    num(p.x),
                    num(p.y),
                    num(p.expected_loss),
                    num(p.gradient[0]),
                    num(p.gradient[1])
                ));
                for (k, e) in used.iter().enumerate() {
                    finite("an estimator's mean", &p.means[k])?;
                    out.push_str(&format!(",{},{}", num(p.means[k][0]), num(p.means[k][1])));
                    if e.method == Some(Method::MonteCarlo) {
                        let se = p.stderr[k].unwrap_or([0.0, 0.0]);
                        finite("a standard error", &se)?;
                        out.push_str(&format!(",{},{}", num(se[0]), num(se[1])));
                    }
                }
                out.push('\n');
            }
            Ok(out)
        }
    }
}

/// `stochgrad gating`.
fn gating_command(a: &GatingArgs) -> Result<String, CliError> {
    let d = GatingConfig::default();
    let cfg = GatingConfig {
        gates: a.gates.unwrap_or(d.gates),
        steps: a.steps.unwrap_or(d.steps),
        seed: a.seed.unwrap_or(d.seed),
        lr: a.lr.unwrap_or(d.lr),
        sparsity: a.sparsity.unwrap_or(d.sparsity),
        penalty: a.penalty.unwrap_or(d.penalty),
        ..d
    };
    cfg.validate()?;
    for g in &a.gate {
        if !gating::GATES.contains(&g.as_str()) {
            return Err(CliError::Usage(format!(
                "unknown gate \"{}\" (known: {})",
                args::shorten(g),
                gating::GATES.join(", ")
            )));
        }
    }
    let gates: Vec<&str> = a.gate.iter().map(String::as_str).collect();
    let summary = gating::run_seeds(&cfg, &gates, a.seeds)?;
    match a.format {
        GatingFormat::Json => to_json(&summary),
        GatingFormat::Table => {
            let pm = |s: gating::Stat, scale: f64, digits: usize| match s.stderr {
                Some(se) => format!("{:.*} ± {:.*}", digits, s.mean * scale, digits, se * scale),
                None => format!("{:.*}", digits, s.mean * scale),
            };
            let mut out = String::from(
                "| gate | held-out error % | held-out loss | deterministic error % | training loss | gates on | expectation over gates |\n|---|---|---|---|---|---|---|\n",
            );
            for r in &summary.rows {
                out.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} | {} | {} |\n",
                    r.gate,
                    pm(r.test_error, 100.0, 2),
                    pm(r.test_loss, 1.0, 4),
                    pm(r.deterministic_error, 100.0, 2),
                    pm(r.train_loss, 1.0, 4),
                    pm(r.gate_rate, 1.0, 3),
                    r.method.key()
                ));
            }
            out.push('\n');
            for n in &summary.notes {
                out.push_str(&format!("* {n}\n"));
            }
            Ok(out)
        }
    }
}

/// Read and validate MODEL.json from a path or (`-`) from `stdin`.
pub fn load_model(path: &str, stdin: &mut dyn Read) -> Result<Model, CliError> {
    let what =
        if path == "-" { "standard input".to_string() } else { format!("model file \"{}\"", args::shorten(path)) };
    let mut bytes = Vec::new();
    let read = if path == "-" {
        stdin.take(MAX_MODEL_BYTES + 1).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_MODEL_BYTES + 1).read_to_end(&mut bytes))
    };
    read.map_err(|e| CliError::Read(format!("cannot read {what}: {e}")))?;
    if bytes.len() as u64 > MAX_MODEL_BYTES {
        return Err(CliError::Read(format!(
            "{what} is larger than {} MiB; a model file is at most a few MB",
            MAX_MODEL_BYTES >> 20
        )));
    }
    parse_model(&bytes)
}

/// Parse MODEL.json bytes, distinguishing an empty file, a truncated file, text that is not UTF-8
/// and text that is not JSON before the core validates the structure.
pub fn parse_model(bytes: &[u8]) -> Result<Model, CliError> {
    let invalid = |m: String| CliError::Core(CoreError::Model(ModelError::new("", m)));
    let text = std::str::from_utf8(bytes)
        .map_err(|e| invalid(format!("the file is not UTF-8 text (invalid byte at offset {})", e.valid_up_to())))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(invalid("the file is empty (expected a JSON object with \"layers\" and \"loss\")".into()));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            invalid(format!("the JSON ends early (truncated file?): {e}"))
        } else {
            invalid(format!("not valid JSON ({e})"))
        }
    })?;
    Model::from_value(&value).map_err(|e| CliError::Core(e.into()))
}

/// Refuse non-finite numbers before anything is printed.
fn finite(what: &str, v: &[f64]) -> Result<(), CliError> {
    if v.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(CoreError::Numerical(format!(
            "{what} is not finite (the model's logits or loss values are too large to represent)"
        ))
        .into())
    }
}

/// A finite number as JSON writes it (shortest round-trip form), for the CSV.
fn num(x: f64) -> String {
    serde_json::to_string(&x).unwrap_or_default()
}

fn to_json<T: Serialize + ?Sized>(v: &T) -> Result<String, CliError> {
    let compact = serde_json::to_string(v)
        .map_err(|e| CliError::Core(CoreError::Numerical(format!("cannot write the JSON output: {e}"))))?;
    Ok(pretty::layout(&compact).unwrap_or_else(|| compact + "\n"))
}

/// The moments request of `moments` and `distribution`: the hyper-parameter flags (validated
/// before the model is read), the method, and the Monte-Carlo draws and seed or their defaults.
fn request(
    hyper: &HyperArgs,
    method: stochgrad_core::moments::MethodChoice,
    samples: Option<u64>,
    seed: Option<u64>,
) -> Result<Request, CliError> {
    let defaults = Request::default();
    let hp = hyper_params(hyper);
    hp.validate()?;
    Ok(Request { hp, method, samples: samples.unwrap_or(defaults.samples), seed: seed.unwrap_or(defaults.seed) })
}

/// The exact solution the estimators are measured against: the binary (or categorical) network's; for a network of
/// STS / noisy-rectifier layers only the unit-type estimators apply, and they are compared on their
/// own objective (which `moments` computes), so a zero placeholder of the right size.
fn reference_solution(model: &Model) -> Result<ExactSolution, CliError> {
    if model.is_binary() || model.has_categorical() {
        return solve(model);
    }
    Ok(ExactSolution {
        expected_loss: 0.0,
        gradient: vec![0.0; model.num_params()],
        optimal_baseline: Vec::new(),
        score_second_moment: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_joins_lines() {
        assert_eq!(one_line("a\nb\r\n  c\n"), "a b c");
    }

    #[test]
    fn parse_model_classifies_failures() {
        let msg = |b: &[u8]| parse_model(b).unwrap_err().to_string();
        assert!(msg(b"").contains("empty"));
        assert!(msg(b"{\"layers\": [").contains("truncated"));
        assert!(msg(b"{layers}").contains("not valid JSON"));
        assert!(msg(b"\xff\xfe").contains("not UTF-8"));
        assert!(msg(b"[]").contains("must be a JSON object"));
    }
}
