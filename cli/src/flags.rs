//! The one table of flags ([`FLAGS`]), in the manner of ripgrep's `flags/`: each flag's name, the
//! commands that take it, its value's placeholder, its meaning, range and default (from the core,
//! so the text cannot drift from the engine), and how it is parsed into [`Given`]. The parser
//! (`args.rs`), the help text (`stochgrad --help`) and the flag table of docs/cli.md
//! ([`markdown_table`], checked by `tests/claims.rs`) all read it; `moments` and `train` share
//! their estimator flags by listing both commands on one row.

use stochgrad_core::estimators::{self, Hyper, HyperParams, K_RANGE};
use stochgrad_core::field;
use stochgrad_core::gating::{self, GatingConfig, MAX_GATES};
use stochgrad_core::loss::Extension;
use stochgrad_core::model::Noise;
use stochgrad_core::moments::{MethodChoice, Request};
use stochgrad_core::train::Optimizer;
use stochgrad_core::vae;

/// The commands that take flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum On {
    Estimators,
    Exact,
    Moments,
    Distribution,
    Train,
    Gating,
    Digits,
    DigitsTrain,
    DigitsCompare,
    Field,
}

impl On {
    pub const ALL: [On; 10] = [
        On::Estimators,
        On::Exact,
        On::Moments,
        On::Distribution,
        On::Train,
        On::Field,
        On::Gating,
        On::Digits,
        On::DigitsTrain,
        On::DigitsCompare,
    ];

    pub fn name(self) -> &'static str {
        match self {
            On::Estimators => "estimators",
            On::Exact => "exact",
            On::Moments => "moments",
            On::Distribution => "distribution",
            On::Train => "train",
            On::Gating => "gating",
            On::Digits => "digits",
            On::DigitsTrain => "digits train",
            On::DigitsCompare => "digits compare",
            On::Field => "field",
        }
    }
}

/// Output format of `exact` and `moments`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// Output format of `gating`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GatingFormat {
    Table,
    Json,
}

/// Output format of `estimators`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ListFormat {
    #[default]
    Json,
    /// The README's table.
    Markdown,
}

/// What the derivatives are taken with respect to (`--wrt`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Wrt {
    /// The parameters θ (every weight and bias; for one unit without inputs, its logit a).
    #[default]
    Parameters,
    /// The firing probability p = σ(a) of a network's only unit (the convention of the REBAR and
    /// RELAX papers' toy): every derivative is the logit's divided by σ′(a).
    P,
}

/// The estimators' hyper-parameter flags, shared by `moments` and `train`. Left out: `None`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HyperArgs {
    pub tau: Option<f64>,
    pub k: Option<u32>,
    pub decay: Option<f64>,
    pub gap: Option<f64>,
    pub eta: Option<f64>,
    pub lambda: Option<f64>,
    pub noise: Option<Noise>,
    pub noise_scale: Option<f64>,
}

/// Every flag's value as given on the command line (`None`: left out); each command takes its own
/// from here and applies its defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Given {
    pub estimator: Option<String>,
    pub param: Option<String>,
    pub hyper: HyperArgs,
    pub samples: Option<u64>,
    pub seed: Option<u64>,
    pub method: Option<MethodChoice>,
    pub format: Option<Format>,
    pub gating_format: Option<GatingFormat>,
    pub list_format: Option<ListFormat>,
    pub extension: Option<Extension>,
    pub wrt: Option<Wrt>,
    pub steps: Option<u64>,
    pub lr: Option<f64>,
    pub optimizer: Option<Optimizer>,
    pub every: Option<u64>,
    pub gates: Option<usize>,
    pub seeds: Option<u64>,
    pub sparsity: Option<f64>,
    pub penalty: Option<f64>,
    pub gate: Option<Vec<String>>,
    pub latents: Option<usize>,
    pub batch: Option<usize>,
    pub eval_every: Option<u64>,
    pub save: Option<String>,
    pub estimators: Option<Vec<String>>,
    /// `field`: the two parameters' names, their ranges `[x0, x1, y0, y1]`, points per axis.
    pub x: Option<String>,
    pub y: Option<String>,
    pub range: Option<[f64; 4]>,
    pub grid: Option<usize>,
}

/// Defaults of `train`.
pub const TRAIN_STEPS: u64 = 1000;
pub const TRAIN_LR: f64 = 0.1;
pub const TRAIN_SEED: u64 = 1;
/// Trajectory steps of `field` by default.
pub const FIELD_STEPS: u64 = 100;

/// One flag of one or more commands.
pub struct Flag {
    pub name: &'static str,
    /// The value's placeholder in the synopsis (`KEY`, `json|csv`).
    pub value: &'static str,
    pub on: &'static [On],
    /// Required (the synopsis shows it without brackets).
    pub required: bool,
    /// What it means (a sentence or two; may name the estimators that use it).
    pub meaning: fn() -> String,
    /// Its range or choices ("" if any value of its type).
    pub range: fn() -> String,
    /// Its default ("required" for a required flag).
    pub default: fn() -> String,
    /// Parse a value into [`Given`].
    pub set: fn(&str, &mut Given) -> Result<(), String>,
}

/// The estimators that use a hyper-parameter, from the registry.
fn users(h: Hyper) -> String {
    let keys: Vec<String> = estimators::registry()
        .iter()
        .map(|e| e.meta())
        .filter(|m| m.hyper.contains(&h))
        .map(|m| format!("`{}`", m.key))
        .collect();
    keys.join(", ")
}

fn interval<T: std::fmt::Display>((lo, hi): (T, T)) -> String {
    format!("[{lo}, {hi}]")
}

fn hp() -> HyperParams {
    HyperParams::default()
}

/// Every flag. Rows with the same name are the same flag on different commands, with a meaning of
/// its own on each (`--seed` of `moments` is the Monte-Carlo seed, of `gating` the task's).
pub static FLAGS: &[Flag] = &[
    Flag {
        name: "estimator",
        value: "KEY",
        on: &[On::Moments, On::Distribution, On::Train],
        required: true,
        meaning: || "the estimator (its key: `stochgrad estimators`)".into(),
        range: || "".into(),
        default: || "required".into(),
        set: |v, g| {
            g.estimator = Some(v.to_string());
            Ok(())
        },
    },
    Flag {
        name: "x",
        value: "NAME",
        on: &[On::Field],
        required: true,
        meaning: || {
            "the parameter on the horizontal axis, named as in the output of `exact --format csv` (`W1[0][2]`, `c1[0]`)"
                .into()
        },
        range: || "".into(),
        default: || "required".into(),
        set: |v, g| {
            g.x = Some(v.to_string());
            Ok(())
        },
    },
    Flag {
        name: "y",
        value: "NAME",
        on: &[On::Field],
        required: true,
        meaning: || "the parameter on the vertical axis (another one)".into(),
        range: || "".into(),
        default: || "required".into(),
        set: |v, g| {
            g.y = Some(v.to_string());
            Ok(())
        },
    },
    Flag {
        name: "range",
        value: "X0,X1,Y0,Y1",
        on: &[On::Field],
        required: false,
        meaning: || "the two parameters' ranges (ends included in the grid)".into(),
        range: || format!("each end within ±{}, X0 < X1, Y0 < Y1", field::MAX_COORDINATE),
        default: || format!("each parameter's value ± {}", field::DEFAULT_SPAN),
        set: |v, g| {
            let parts: Vec<&str> = v.split(',').map(str::trim).collect();
            if parts.len() != 4 {
                return Err(format!("--range expects four numbers X0,X1,Y0,Y1, got \"{}\"", shorten(v)));
            }
            let mut r = [0.0; 4];
            for (x, p) in r.iter_mut().zip(&parts) {
                *x = finite("range", p)?;
            }
            g.range = Some(r);
            Ok(())
        },
    },
    Flag {
        name: "grid",
        value: "N",
        on: &[On::Field],
        required: false,
        meaning: || "grid points per axis (N × N exact solutions and estimator means)".into(),
        range: || interval(field::GRID_RANGE),
        default: || field::DEFAULT_GRID.to_string(),
        set: |v, g| {
            let n = integer("grid", v)?;
            let (lo, hi) = field::GRID_RANGE;
            if n < lo as u64 || n > hi as u64 {
                return Err(format!("--grid must be in [{lo}, {hi}], got {n}"));
            }
            g.grid = Some(n as usize);
            Ok(())
        },
    },
    Flag {
        name: "estimators",
        value: "KEY,KEY,…",
        on: &[On::Field],
        required: false,
        meaning: || {
            "the estimators whose mean (arrows) and trajectory are drawn; those that do not apply are listed as skipped, with the reason".into()
        },
        range: || "".into(),
        default: || "none (the exact field and exact descent only)".into(),
        set: |v, g| {
            g.estimators = Some(v.split(',').map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect());
            Ok(())
        },
    },
    Flag {
        name: "param",
        value: "NAME",
        on: &[On::Distribution],
        required: true,
        meaning: || {
            "the parameter whose estimate's distribution is shown (`W1[0][2]`, `c1[0]`: the names of `moments --format csv`)".into()
        },
        range: || "".into(),
        default: || "required".into(),
        set: |v, g| {
            g.param = Some(v.to_string());
            Ok(())
        },
    },
    Flag {
        name: "tau",
        value: "T",
        on: &[On::Moments, On::Distribution, On::Train, On::Field, On::DigitsTrain, On::DigitsCompare],
        required: false,
        meaning: || format!("temperature of {}", users(Hyper::Tau)),
        range: || interval(estimators::TAU_RANGE),
        default: || hp().tau.to_string(),
        set: |v, g| {
            g.hyper.tau = Some(finite("tau", v)?);
            Ok(())
        },
    },
    Flag {
        name: "k",
        value: "K",
        on: &[On::Moments, On::Distribution, On::Train, On::Field, On::DigitsTrain, On::DigitsCompare],
        required: false,
        meaning: || format!("number of samples: {}", users(Hyper::K)),
        range: || interval(K_RANGE),
        default: || {
            let per: Vec<String> = estimators::registry()
                .iter()
                .filter_map(|e| estimators::default_k(e.meta().key).map(|k| format!("{k} (`{}`)", e.meta().key)))
                .collect();
            format!("per estimator: {}", per.join(", "))
        },
        set: |v, g| {
            let k = integer("k", v)?;
            // Above the range here (it must fit a u32); below it, the core's check names it.
            if k > u64::from(K_RANGE.1) {
                return Err(format!("--k must be in [{}, {}], got {k}", K_RANGE.0, K_RANGE.1));
            }
            g.hyper.k = Some(k as u32);
            Ok(())
        },
    },
    Flag {
        name: "decay",
        value: "D",
        on: &[On::Moments, On::Distribution, On::Train, On::Field, On::DigitsTrain, On::DigitsCompare],
        required: false,
        meaning: || format!("decay of the running averages of {}", users(Hyper::Decay)),
        range: || "[0, 1)".into(),
        default: || hp().decay.to_string(),
        set: |v, g| {
            g.hyper.decay = Some(finite("decay", v)?);
            Ok(())
        },
    },
    Flag {
        name: "gap",
        value: "G",
        on: &[On::Moments, On::Distribution, On::Train, On::Field, On::DigitsTrain, On::DigitsCompare],
        required: false,
        meaning: || format!("gap of {}, in logit units", users(Hyper::Gap)),
        range: || interval(estimators::GAP_RANGE),
        default: || hp().gap.to_string(),
        set: |v, g| {
            g.hyper.gap = Some(finite("gap", v)?);
            Ok(())
        },
    },
    Flag {
        name: "eta",
        value: "E",
        on: &[On::Moments, On::Distribution, On::Train, On::Field, On::DigitsTrain, On::DigitsCompare],
        required: false,
        meaning: || {
            format!("scale η of the control variate η f(σ_λ(z)) of {} (relax: its initial η)", users(Hyper::Eta))
        },
        range: || interval(estimators::ETA_RANGE),
        default: || hp().eta.to_string(),
        set: |v, g| {
            g.hyper.eta = Some(finite("eta", v)?);
            Ok(())
        },
    },
    Flag {
        name: "lambda",
        value: "L",
        on: &[On::Moments, On::Distribution, On::Train, On::Field, On::DigitsTrain, On::DigitsCompare],
        required: false,
        meaning: || format!("temperature λ of the relaxation σ_λ(z) = σ(z/λ) of {}", users(Hyper::Lambda)),
        range: || interval(estimators::LAMBDA_RANGE),
        default: || hp().lambda.to_string(),
        set: |v, g| {
            g.hyper.lambda = Some(finite("lambda", v)?);
            Ok(())
        },
    },
    Flag {
        name: "noise",
        value: "gaussian|logistic",
        on: &[On::Moments, On::Distribution, On::Train],
        required: false,
        meaning: || {
            format!(
                "noise z of {} in h = max(0, a + z): gaussian (the paper's experiments, appendix A.4) or logistic (Proposition 1: P(h > 0) = σ(a))",
                users(Hyper::Noise)
            )
        },
        range: || "".into(),
        default: || format!("`{}`", hp().noise.key()),
        set: |v, g| {
            g.hyper.noise = Some(
                Noise::from_key(v)
                    .ok_or_else(|| format!("--noise must be one of: logistic, gaussian, got \"{}\"", shorten(v)))?,
            );
            Ok(())
        },
    },
    Flag {
        name: "noise-scale",
        value: "S",
        on: &[On::Moments, On::Distribution, On::Train],
        required: false,
        meaning: || format!("scale of that noise (z = S·ε) for {}", users(Hyper::NoiseScale)),
        range: || interval(estimators::NOISE_SCALE_RANGE),
        default: || hp().noise_scale.to_string(),
        set: |v, g| {
            g.hyper.noise_scale = Some(finite("noise-scale", v)?);
            Ok(())
        },
    },
    Flag {
        name: "samples",
        value: "N",
        on: &[On::Exact, On::Moments, On::Distribution],
        required: false,
        meaning: || {
            "Monte-Carlo draws (exact: only for a network of other units whose objective has no exact form)".into()
        },
        range: || {
            format!(
                "[{}, {}] (distribution: at most {}, kept for the histogram)",
                2 * estimators::MC_CHUNK,
                stochgrad_core::limits::MAX_SAMPLES,
                stochgrad_core::distribution::MAX_DRAWS
            )
        },
        default: || {
            format!("{} (exact: {})", Request::default().samples, stochgrad_core::units::McOptions::default().samples)
        },
        set: |v, g| {
            g.samples = Some(integer("samples", v)?);
            Ok(())
        },
    },
    Flag {
        name: "seed",
        value: "S",
        on: &[On::Exact, On::Moments, On::Distribution],
        required: false,
        meaning: || "Monte-Carlo seed: the draws depend only on (seed, estimator key)".into(),
        range: || "0 to 2^64 − 1".into(),
        default: || Request::default().seed.to_string(),
        set: |v, g| {
            g.seed = Some(integer("seed", v)?);
            Ok(())
        },
    },
    Flag {
        name: "method",
        value: "auto|exact|monte-carlo",
        on: &[On::Moments, On::Distribution],
        required: false,
        meaning: || {
            "auto: exact or quadrature where available, else Monte Carlo; exact: exact or quadrature, or an error; monte-carlo: always sample".into()
        },
        range: || "".into(),
        default: || "`auto`".into(),
        set: |v, g| {
            g.method = Some(match v {
                "auto" => MethodChoice::Auto,
                "exact" => MethodChoice::Exact,
                "monte-carlo" => MethodChoice::MonteCarlo,
                other => {
                    return Err(format!(
                        "--method must be one of: auto, exact, monte-carlo, got \"{}\"",
                        shorten(other)
                    ))
                }
            });
            Ok(())
        },
    },
    Flag {
        name: "format",
        value: "json|csv",
        on: &[On::Exact, On::Moments, On::Distribution],
        required: false,
        meaning: || {
            "output: JSON, or CSV (a header row, then one row per parameter; distribution: one per value, piece or bin)"
                .into()
        },
        range: || "".into(),
        default: || "`json`".into(),
        set: |v, g| {
            g.format = Some(match v {
                "json" => Format::Json,
                "csv" => Format::Csv,
                other => return Err(format!("--format must be json or csv, got \"{}\"", shorten(other))),
            });
            Ok(())
        },
    },
    Flag {
        name: "extension",
        value: "curved|multilinear",
        on: &[On::Exact, On::Moments, On::Distribution, On::Train, On::Field],
        required: false,
        meaning: || "the loss's real-valued extension (what ∂f/∂h means), overriding the model's loss.extension".into(),
        range: || "".into(),
        default: || "the model's".into(),
        set: |v, g| {
            g.extension =
                Some(Extension::from_key(v).ok_or_else(|| {
                    format!("--extension must be one of: curved, multilinear, got \"{}\"", shorten(v))
                })?);
            Ok(())
        },
    },
    Flag {
        name: "wrt",
        value: "logit|p",
        on: &[On::Exact, On::Moments],
        required: false,
        meaning: || {
            "derivatives with respect to the parameters (logit), or to p = σ(a) of a network whose only parameter is one unit's logit (p)".into()
        },
        range: || "".into(),
        default: || "`logit`".into(),
        set: |v, g| {
            g.wrt = Some(match v {
                "a" | "logit" | "theta" => Wrt::Parameters,
                "p" => Wrt::P,
                other => return Err(format!("--wrt must be logit or p, got \"{}\"", shorten(other))),
            });
            Ok(())
        },
    },
    Flag {
        name: "steps",
        value: "N",
        on: &[On::Train],
        required: false,
        meaning: || "updates, each from one Monte-Carlo estimate".into(),
        range: || "".into(),
        default: || TRAIN_STEPS.to_string(),
        set: |v, g| {
            g.steps = Some(integer("steps", v)?);
            Ok(())
        },
    },
    Flag {
        name: "lr",
        value: "LR",
        on: &[On::Train],
        required: false,
        meaning: || "learning rate".into(),
        range: || "".into(),
        default: || TRAIN_LR.to_string(),
        set: |v, g| {
            g.lr = Some(finite("lr", v)?);
            Ok(())
        },
    },
    Flag {
        name: "optimizer",
        value: "sgd|adam",
        on: &[On::Train],
        required: false,
        meaning: || "the update rule".into(),
        range: || "".into(),
        default: || "`sgd`".into(),
        set: |v, g| {
            g.optimizer = Some(
                Optimizer::from_key(v)
                    .ok_or_else(|| format!("--optimizer must be sgd or adam, got \"{}\"", shorten(v)))?,
            );
            Ok(())
        },
    },
    Flag {
        name: "seed",
        value: "S",
        on: &[On::Train],
        required: false,
        meaning: || "seed of the estimates (step s draws from stream s)".into(),
        range: || "0 to 2^64 − 1".into(),
        default: || TRAIN_SEED.to_string(),
        set: |v, g| {
            g.seed = Some(integer("seed", v)?);
            Ok(())
        },
    },
    Flag {
        name: "every",
        value: "N",
        on: &[On::Train],
        required: false,
        meaning: || "print every N-th step (and the last)".into(),
        range: || "≥ 1".into(),
        default: || "1".into(),
        set: |v, g| {
            let n = integer("every", v)?;
            if n == 0 {
                return Err("--every must be at least 1".into());
            }
            g.every = Some(n);
            Ok(())
        },
    },
    Flag {
        name: "gates",
        value: "K",
        on: &[On::Gating],
        required: false,
        meaning: || "gater units (exact expectations over 2^K gate states)".into(),
        range: || format!("1–{MAX_GATES}"),
        default: || GatingConfig::default().gates.to_string(),
        set: |v, g| {
            g.gates = Some(integer("gates", v)?.min(1 << 20) as usize);
            Ok(())
        },
    },
    Flag {
        name: "steps",
        value: "N",
        on: &[On::Gating],
        required: false,
        meaning: || "training minibatches".into(),
        range: || "".into(),
        default: || GatingConfig::default().steps.to_string(),
        set: |v, g| {
            g.steps = Some(integer("steps", v)?);
            Ok(())
        },
    },
    Flag {
        name: "seed",
        value: "S",
        on: &[On::Gating],
        required: false,
        meaning: || "seed of the task, the initialisation and the draws".into(),
        range: || "0 to 2^64 − 1".into(),
        default: || GatingConfig::default().seed.to_string(),
        set: |v, g| {
            g.seed = Some(integer("seed", v)?);
            Ok(())
        },
    },
    Flag {
        name: "seeds",
        value: "N",
        on: &[On::Gating],
        required: false,
        meaning: || "run seeds S..S+N−1 and report mean ± standard error".into(),
        range: || "≥ 1".into(),
        default: || "1".into(),
        set: |v, g| {
            g.seeds = Some(integer("seeds", v)?);
            Ok(())
        },
    },
    Flag {
        name: "gate",
        value: "KEY,KEY…",
        on: &[On::Gating],
        required: false,
        meaning: || "the gate types to train".into(),
        range: || gating::GATES.iter().map(|g| format!("`{g}`")).collect::<Vec<_>>().join(", "),
        default: || "all".into(),
        set: |v, g| {
            g.gate = Some(v.split(',').map(|s| s.trim().to_string()).collect());
            Ok(())
        },
    },
    Flag {
        name: "lr",
        value: "LR",
        on: &[On::Gating],
        required: false,
        meaning: || "Adam's learning rate".into(),
        range: || "".into(),
        default: || GatingConfig::default().lr.to_string(),
        set: |v, g| {
            g.lr = Some(finite("lr", v)?);
            Ok(())
        },
    },
    Flag {
        name: "sparsity",
        value: "S",
        on: &[On::Gating],
        required: false,
        meaning: || "target fraction of gates on".into(),
        range: || "".into(),
        default: || GatingConfig::default().sparsity.to_string(),
        set: |v, g| {
            g.sparsity = Some(finite("sparsity", v)?);
            Ok(())
        },
    },
    Flag {
        name: "penalty",
        value: "L",
        on: &[On::Gating],
        required: false,
        meaning: || "weight λ of the sparsity penalty".into(),
        range: || "".into(),
        default: || GatingConfig::default().penalty.to_string(),
        set: |v, g| {
            g.penalty = Some(finite("penalty", v)?);
            Ok(())
        },
    },
    Flag {
        name: "format",
        value: "table|json",
        on: &[On::Gating],
        required: false,
        meaning: || "output: a Markdown table, or JSON".into(),
        range: || "".into(),
        default: || "`table`".into(),
        set: |v, g| {
            g.gating_format = Some(match v {
                "table" => GatingFormat::Table,
                "json" => GatingFormat::Json,
                other => return Err(format!("--format must be table or json, got \"{}\"", shorten(other))),
            });
            Ok(())
        },
    },
    Flag {
        name: "format",
        value: "json|markdown",
        on: &[On::Estimators],
        required: false,
        meaning: || "output: a JSON array, or the README's Markdown table".into(),
        range: || "".into(),
        default: || "`json`".into(),
        set: |v, g| {
            g.list_format = Some(match v {
                "json" => ListFormat::Json,
                "markdown" => ListFormat::Markdown,
                other => return Err(format!("--format must be json or markdown, got \"{}\"", shorten(other))),
            });
            Ok(())
        },
    },
    Flag {
        name: "estimator",
        value: "KEY|exact",
        on: &[On::DigitsTrain],
        required: true,
        meaning: || {
            "what trains the encoder: an estimator's key (`stochgrad estimators`), or `exact` for the exact gradient"
                .into()
        },
        range: || "".into(),
        default: || "required".into(),
        set: |v, g| {
            g.estimator = Some(v.to_string());
            Ok(())
        },
    },
    Flag {
        name: "estimators",
        value: "KEY,KEY,…",
        on: &[On::DigitsCompare],
        required: false,
        meaning: || "the estimators compared (and `exact`)".into(),
        range: || "".into(),
        default: || "every estimator of binary units, and `exact`".into(),
        set: |v, g| {
            g.estimators = Some(v.split(',').map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect());
            Ok(())
        },
    },
    Flag {
        name: "latents",
        value: "K",
        on: &[On::DigitsTrain, On::DigitsCompare],
        required: false,
        meaning: || "latent units k (every exact figure enumerates the 2^k states)".into(),
        range: || interval(vae::LATENTS_RANGE),
        default: || vae::Config::default().latents.to_string(),
        set: |v, g| {
            g.latents = Some(integer("latents", v)?.min(1 << 20) as usize);
            Ok(())
        },
    },
    Flag {
        name: "steps",
        value: "N",
        on: &[On::DigitsTrain, On::DigitsCompare],
        required: false,
        meaning: || {
            "Adam steps (compare: of an estimator with one loss evaluation per image; one with E evaluations gets N/E steps)".into()
        },
        range: || format!("[0, {}]", vae::STEPS_MAX),
        default: || vae::Config::default().steps.to_string(),
        set: |v, g| {
            g.steps = Some(integer("steps", v)?);
            Ok(())
        },
    },
    Flag {
        name: "batch",
        value: "B",
        on: &[On::DigitsTrain, On::DigitsCompare],
        required: false,
        meaning: || "training images per step".into(),
        range: || interval(vae::BATCH_RANGE),
        default: || vae::Config::default().batch.to_string(),
        set: |v, g| {
            g.batch = Some(integer("batch", v)?.min(1 << 20) as usize);
            Ok(())
        },
    },
    Flag {
        name: "lr",
        value: "LR",
        on: &[On::DigitsTrain, On::DigitsCompare],
        required: false,
        meaning: || "Adam's learning rate".into(),
        range: || interval(vae::LR_RANGE),
        default: || vae::Config::default().lr.to_string(),
        set: |v, g| {
            g.lr = Some(finite("lr", v)?);
            Ok(())
        },
    },
    Flag {
        name: "seed",
        value: "S",
        on: &[On::DigitsTrain, On::DigitsCompare],
        required: false,
        meaning: || {
            "seed of the initialisation, the minibatch order (both the same for every estimator) and the estimates (compare: the first of the seeds)".into()
        },
        range: || "0 to 2^64 − 1".into(),
        default: || vae::Config::default().seed.to_string(),
        set: |v, g| {
            g.seed = Some(integer("seed", v)?);
            Ok(())
        },
    },
    Flag {
        name: "eval-every",
        value: "M",
        on: &[On::DigitsTrain],
        required: false,
        meaning: || "a checkpoint row every M steps (and at step 0 and the last)".into(),
        range: || "≥ 1".into(),
        default: || vae::Config::default().eval_every.to_string(),
        set: |v, g| {
            let n = integer("eval-every", v)?;
            if n == 0 {
                return Err("--eval-every must be at least 1".into());
            }
            g.eval_every = Some(n);
            Ok(())
        },
    },
    Flag {
        name: "save",
        value: "PARAMS.json",
        on: &[On::DigitsTrain],
        required: false,
        meaning: || "write the trained parameters (encoder, decoder, prior) as JSON to this file".into(),
        range: || "".into(),
        default: || "not written".into(),
        set: |v, g| {
            g.save = Some(v.to_string());
            Ok(())
        },
    },
    Flag {
        name: "seeds",
        value: "N",
        on: &[On::DigitsCompare],
        required: false,
        meaning: || "seeds S..S+N−1 per estimator; the table shows mean ± standard error".into(),
        range: || "[1, 100]".into(),
        default: || "10".into(),
        set: |v, g| {
            let n = integer("seeds", v)?;
            if !(1..=100).contains(&n) {
                return Err(format!("--seeds must be in [1, 100], got {n}"));
            }
            g.seeds = Some(n);
            Ok(())
        },
    },
    Flag {
        name: "samples",
        value: "N",
        on: &[On::Field],
        required: false,
        meaning: || {
            "Monte-Carlo draws per grid point, for estimators without an exact or quadrature mean (the same seed at every point)".into()
        },
        range: || format!("[{}, {}]", 2 * estimators::MC_CHUNK, stochgrad_core::limits::MAX_SAMPLES),
        default: || field::DEFAULT_SAMPLES.to_string(),
        set: |v, g| {
            g.samples = Some(integer("samples", v)?);
            Ok(())
        },
    },
    Flag {
        name: "steps",
        value: "N",
        on: &[On::Field],
        required: false,
        meaning: || "trajectory updates of the two parameters from their current values (0: no trajectories)".into(),
        range: || format!("[0, {}]", field::MAX_STEPS),
        default: || FIELD_STEPS.to_string(),
        set: |v, g| {
            g.steps = Some(integer("steps", v)?);
            Ok(())
        },
    },
    Flag {
        name: "lr",
        value: "LR",
        on: &[On::Field],
        required: false,
        meaning: || "the trajectories' learning rate".into(),
        range: || format!("[{:e}, {}]", stochgrad_core::train::LR_RANGE.0, stochgrad_core::train::LR_RANGE.1),
        default: || TRAIN_LR.to_string(),
        set: |v, g| {
            g.lr = Some(finite("lr", v)?);
            Ok(())
        },
    },
    Flag {
        name: "optimizer",
        value: "sgd|adam",
        on: &[On::Field],
        required: false,
        meaning: || "the trajectories' update rule".into(),
        range: || "".into(),
        default: || "`sgd`".into(),
        set: |v, g| {
            g.optimizer = Some(
                Optimizer::from_key(v)
                    .ok_or_else(|| format!("--optimizer must be sgd or adam, got \"{}\"", shorten(v)))?,
            );
            Ok(())
        },
    },
    Flag {
        name: "seed",
        value: "S",
        on: &[On::Field],
        required: false,
        meaning: || {
            "seed of the trajectories' estimates (step s draws from stream s, as `train`) and of the Monte-Carlo means"
                .into()
        },
        range: || "0 to 2^64 − 1".into(),
        default: || TRAIN_SEED.to_string(),
        set: |v, g| {
            g.seed = Some(integer("seed", v)?);
            Ok(())
        },
    },
    Flag {
        name: "format",
        value: "json|csv",
        on: &[On::Field],
        required: false,
        meaning: || {
            "output: JSON (grid, estimators, trajectories), or CSV (a header row, then one row per grid point; no trajectories)".into()
        },
        range: || "".into(),
        default: || "`json`".into(),
        set: |v, g| {
            g.format = Some(match v {
                "json" => Format::Json,
                "csv" => Format::Csv,
                other => return Err(format!("--format must be json or csv, got \"{}\"", shorten(other))),
            });
            Ok(())
        },
    },
];

/// The flags of one command, in table order.
pub fn of(command: On) -> impl Iterator<Item = &'static Flag> {
    FLAGS.iter().filter(move |f| f.on.contains(&command))
}

/// One command's synopsis, one item per flag: `--estimator KEY`, `[--tau T]`, ….
pub fn synopsis(command: On) -> Vec<String> {
    of(command)
        .map(|f| if f.required { format!("--{} {}", f.name, f.value) } else { format!("[--{} {}]", f.name, f.value) })
        .collect()
}

/// The help's FLAGS sections: the rows grouped by the commands they belong to, each row once.
pub fn help_sections() -> String {
    let mut out = String::new();
    let mut groups: Vec<&'static [On]> = Vec::new();
    for f in FLAGS {
        if !groups.contains(&f.on) {
            groups.push(f.on);
        }
    }
    for on in groups {
        let names: Vec<&str> = on.iter().map(|c| c.name()).collect();
        out.push_str(&format!("\nFLAGS ({}):\n", names.join(", ")));
        for f in FLAGS.iter().filter(|f| f.on == on) {
            let head = format!("--{} {}", f.name, f.value);
            let mut text = capitalised(&(f.meaning)());
            text.push('.');
            let range = (f.range)();
            if !range.is_empty() {
                text.push_str(&format!(" Range {range}."));
            }
            if f.required {
                text.push_str(" Required.");
            } else {
                text.push_str(&format!(" Default {}.", (f.default)()));
            }
            let text = text.replace('`', "");
            // The text beside the flag, or under it when the flag is long.
            if head.chars().count() < 22 {
                out.push_str(&wrap(&format!("    {head:<22} "), &text, 100));
            } else {
                out.push_str(&format!("    {head}\n"));
                out.push_str(&wrap(&" ".repeat(27), &text, 100));
            }
        }
    }
    out
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// docs/cli.md's table of flags.
pub fn markdown_table() -> String {
    let mut out = String::from("| flag | commands | meaning | range | default |\n|---|---|---|---|---|\n");
    for f in FLAGS {
        let on: Vec<&str> = f.on.iter().map(|c| c.name()).collect();
        let range = (f.range)();
        let range = if range.is_empty() { "—".to_string() } else { range };
        let default = if f.required { "required".to_string() } else { (f.default)() };
        out.push_str(&format!(
            "| `--{} {}` | {} | {} | {range} | {} |\n",
            f.name,
            f.value.replace('|', "\\|"),
            on.join(", "),
            (f.meaning)().replace('|', "\\|"),
            default
        ));
    }
    out
}

/// `text` after `head`, wrapped at `width` columns with continuation lines aligned under the text.
fn wrap(head: &str, text: &str, width: usize) -> String {
    let indent = head.chars().count();
    let mut out = String::new();
    let mut line = head.to_string();
    let mut len = indent;
    let mut first = true;
    for word in text.split_whitespace() {
        let w = word.chars().count();
        if !first && len + 1 + w > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(indent);
            len = indent;
            first = true;
        }
        if !first {
            line.push(' ');
            len += 1;
        }
        line.push_str(word);
        len += w;
        first = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

pub(crate) fn finite(name: &str, v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(format!("--{name} expects a finite number, got \"{}\"", shorten(v))),
    }
}

pub(crate) fn integer(name: &str, v: &str) -> Result<u64, String> {
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(x) = v.parse::<u64>() {
            return Ok(x);
        }
        return Err(format!("--{name} is too large: \"{}\"", shorten(v)));
    }
    Err(format!("--{name} expects a non-negative integer, got \"{}\"", shorten(v)))
}

/// Quote user text safely on one line: control characters escaped, long text cut.
pub fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(60).flat_map(char::escape_debug).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}
