//! The hand-written command-line parser.
//!
//! Grammar: `stochgrad COMMAND [ARGS…]`, where flags are `--name VALUE` or `--name=VALUE`, may come
//! before or after the one positional argument (MODEL.json, or `-` for standard input), and `--`
//! ends the flags. `-h`/`--help` and `--version`/`-V` anywhere (before `--`) win over everything
//! else. Every mistake is reported as one line naming the flag or argument.

use stochgrad_core::estimators::K_RANGE;
use stochgrad_core::loss::Extension;
use stochgrad_core::model::Noise;
use stochgrad_core::moments::MethodChoice;
use stochgrad_core::train::Optimizer;

/// Output format of `exact` and `moments`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
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

fn parse_wrt(v: &str) -> Result<Wrt, String> {
    match v {
        "a" | "logit" | "theta" => Ok(Wrt::Parameters),
        "p" => Ok(Wrt::P),
        other => Err(format!("--wrt must be logit or p, got \"{}\"", shorten(other))),
    }
}

fn parse_extension(v: &str) -> Result<Extension, String> {
    Extension::from_key(v)
        .ok_or_else(|| format!("--extension must be one of: curved, multilinear, got \"{}\"", shorten(v)))
}

/// `stochgrad exact MODEL.json [--format json|csv] [--samples N] [--seed S] [--extension E]
/// [--wrt logit|p]` (the Monte-Carlo flags matter only for a network whose objective has no exact
/// form).
#[derive(Clone, Debug, PartialEq)]
pub struct ExactArgs {
    pub model: String,
    pub format: Format,
    pub samples: Option<u64>,
    pub seed: Option<u64>,
    /// Overrides the loss's `"extension"`.
    pub extension: Option<Extension>,
    pub wrt: Wrt,
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

/// `stochgrad train MODEL.json --estimator KEY [...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainArgs {
    pub model: String,
    pub estimator: String,
    pub hyper: HyperArgs,
    /// Overrides the loss's `"extension"`.
    pub extension: Option<Extension>,
    pub steps: u64,
    pub lr: f64,
    pub optimizer: Optimizer,
    pub seed: u64,
    /// Print every `every`-th step (and the last).
    pub every: u64,
}

/// Output format of `gating`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GatingFormat {
    Table,
    Json,
}

/// `stochgrad gating [--gates K] [--steps N] [--seed S] [--seeds N] [...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct GatingArgs {
    pub gates: Option<usize>,
    pub steps: Option<u64>,
    pub seed: Option<u64>,
    pub seeds: u64,
    pub lr: Option<f64>,
    pub sparsity: Option<f64>,
    pub penalty: Option<f64>,
    /// Gate types (all when empty).
    pub gate: Vec<String>,
    pub format: GatingFormat,
}

/// Defaults of `train`.
pub const TRAIN_STEPS: u64 = 1000;
pub const TRAIN_LR: f64 = 0.1;

/// `stochgrad moments MODEL.json --estimator KEY [...]`. Hyper-parameters left out are `None`
/// (the core's defaults apply — for `k`, the estimator's own default); knowing which were given
/// lets the output note the ignored ones.
#[derive(Clone, Debug, PartialEq)]
pub struct MomentsArgs {
    pub model: String,
    pub estimator: String,
    pub tau: Option<f64>,
    pub k: Option<u32>,
    pub decay: Option<f64>,
    pub gap: Option<f64>,
    pub eta: Option<f64>,
    pub lambda: Option<f64>,
    pub noise: Option<Noise>,
    pub noise_scale: Option<f64>,
    pub samples: Option<u64>,
    pub seed: Option<u64>,
    pub method: MethodChoice,
    pub format: Format,
    /// Overrides the loss's `"extension"`.
    pub extension: Option<Extension>,
    pub wrt: Wrt,
}

/// A parsed command line.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Help,
    Version,
    Estimators,
    Exact(ExactArgs),
    Moments(MomentsArgs),
    Train(TrainArgs),
    Gating(GatingArgs),
}

const COMMANDS: &str = "estimators, exact, moments, train, gating, help";
const EXACT_FLAGS: &[&str] = &["format", "samples", "seed", "extension", "wrt"];
const MOMENTS_FLAGS: &[&str] = &[
    "estimator",
    "tau",
    "k",
    "decay",
    "gap",
    "eta",
    "lambda",
    "noise",
    "noise-scale",
    "samples",
    "seed",
    "method",
    "format",
    "extension",
    "wrt",
];
const TRAIN_FLAGS: &[&str] = &[
    "estimator",
    "tau",
    "k",
    "decay",
    "gap",
    "eta",
    "lambda",
    "noise",
    "noise-scale",
    "steps",
    "lr",
    "optimizer",
    "seed",
    "every",
    "extension",
];
const GATING_FLAGS: &[&str] = &["gates", "steps", "seed", "seeds", "lr", "sparsity", "penalty", "gate", "format"];

/// Parse one hyper-parameter flag into `h`; `Ok(false)` if `name` is not one.
fn hyper_flag(name: &str, value: &str, h: &mut HyperArgs) -> Result<bool, String> {
    match name {
        "tau" => h.tau = Some(parse_finite("tau", value)?),
        "decay" => h.decay = Some(parse_finite("decay", value)?),
        "gap" => h.gap = Some(parse_finite("gap", value)?),
        "eta" => h.eta = Some(parse_finite("eta", value)?),
        "lambda" => h.lambda = Some(parse_finite("lambda", value)?),
        "noise-scale" => h.noise_scale = Some(parse_finite("noise-scale", value)?),
        "noise" => {
            h.noise = Some(
                Noise::from_key(value)
                    .ok_or_else(|| format!("--noise must be one of: logistic, gaussian, got \"{}\"", shorten(value)))?,
            )
        }
        "k" => {
            let k = parse_integer("k", value)?;
            if k > u64::from(K_RANGE.1) {
                return Err(format!("--k must be in [{}, {}], got {k}", K_RANGE.0, K_RANGE.1));
            }
            // In range of u32 by the check above.
            h.k = Some(k as u32);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Parse the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, String> {
    for a in args.iter().take_while(|a| a.as_str() != "--") {
        match a.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            _ => {}
        }
    }
    let Some(first) = args.first() else {
        return Err(format!("no command given (expected one of: {COMMANDS})"));
    };
    let rest = &args[1..];
    match first.as_str() {
        "help" => Ok(Command::Help),
        "version" => Ok(Command::Version),
        "estimators" => {
            let (pos, flags) = scan("estimators", rest, &[])?;
            debug_assert!(flags.is_empty());
            if let Some(p) = pos.first() {
                return Err(format!("estimators takes no arguments, got \"{p}\""));
            }
            Ok(Command::Estimators)
        }
        "exact" => {
            let (pos, flags) = scan("exact", rest, EXACT_FLAGS)?;
            let model = one_model("exact", pos)?;
            let mut e = ExactArgs {
                model,
                format: Format::Json,
                samples: None,
                seed: None,
                extension: None,
                wrt: Wrt::default(),
            };
            for (name, value) in flags {
                match name {
                    "format" => e.format = parse_format(&value)?,
                    "extension" => e.extension = Some(parse_extension(&value)?),
                    "wrt" => e.wrt = parse_wrt(&value)?,
                    "samples" => e.samples = Some(parse_integer("samples", &value)?),
                    "seed" => e.seed = Some(parse_integer("seed", &value)?),
                    _ => {}
                }
            }
            Ok(Command::Exact(e))
        }
        "moments" => {
            let (pos, flags) = scan("moments", rest, MOMENTS_FLAGS)?;
            let model = one_model("moments", pos)?;
            let mut m = MomentsArgs {
                model,
                estimator: String::new(),
                tau: None,
                k: None,
                decay: None,
                gap: None,
                eta: None,
                lambda: None,
                noise: None,
                noise_scale: None,
                samples: None,
                seed: None,
                method: MethodChoice::Auto,
                format: Format::Json,
                extension: None,
                wrt: Wrt::default(),
            };
            let mut have_estimator = false;
            let mut h = HyperArgs::default();
            for (name, value) in flags {
                if hyper_flag(name, &value, &mut h)? {
                    continue;
                }
                match name {
                    "estimator" => {
                        m.estimator = value;
                        have_estimator = true;
                    }
                    "samples" => m.samples = Some(parse_integer("samples", &value)?),
                    "seed" => m.seed = Some(parse_integer("seed", &value)?),
                    "method" => {
                        m.method = match value.as_str() {
                            "auto" => MethodChoice::Auto,
                            "exact" => MethodChoice::Exact,
                            "monte-carlo" => MethodChoice::MonteCarlo,
                            other => {
                                return Err(format!(
                                    "--method must be one of: auto, exact, monte-carlo, got \"{}\"",
                                    shorten(other)
                                ))
                            }
                        }
                    }
                    "format" => m.format = parse_format(&value)?,
                    "extension" => m.extension = Some(parse_extension(&value)?),
                    "wrt" => m.wrt = parse_wrt(&value)?,
                    _ => {}
                }
            }
            if !have_estimator {
                return Err("moments needs --estimator KEY (run `stochgrad estimators` for the keys)".into());
            }
            (m.tau, m.k, m.decay, m.gap, m.eta, m.lambda, m.noise, m.noise_scale) =
                (h.tau, h.k, h.decay, h.gap, h.eta, h.lambda, h.noise, h.noise_scale);
            Ok(Command::Moments(m))
        }
        "train" => {
            let (pos, flags) = scan("train", rest, TRAIN_FLAGS)?;
            let model = one_model("train", pos)?;
            let mut t = TrainArgs {
                model,
                estimator: String::new(),
                hyper: HyperArgs::default(),
                extension: None,
                steps: TRAIN_STEPS,
                lr: TRAIN_LR,
                optimizer: Optimizer::Sgd,
                seed: 1,
                every: 1,
            };
            let mut have_estimator = false;
            for (name, value) in flags {
                if hyper_flag(name, &value, &mut t.hyper)? {
                    continue;
                }
                match name {
                    "estimator" => {
                        t.estimator = value;
                        have_estimator = true;
                    }
                    "steps" => t.steps = parse_integer("steps", &value)?,
                    "extension" => t.extension = Some(parse_extension(&value)?),
                    "lr" => t.lr = parse_finite("lr", &value)?,
                    "seed" => t.seed = parse_integer("seed", &value)?,
                    "every" => {
                        t.every = parse_integer("every", &value)?;
                        if t.every == 0 {
                            return Err("--every must be at least 1".into());
                        }
                    }
                    "optimizer" => {
                        t.optimizer = Optimizer::from_key(&value)
                            .ok_or_else(|| format!("--optimizer must be sgd or adam, got \"{}\"", shorten(&value)))?
                    }
                    _ => {}
                }
            }
            if !have_estimator {
                return Err("train needs --estimator KEY (run `stochgrad estimators` for the keys)".into());
            }
            Ok(Command::Train(t))
        }
        "gating" => {
            let (pos, flags) = scan("gating", rest, GATING_FLAGS)?;
            if let Some(p) = pos.first() {
                return Err(format!("gating takes no MODEL.json (it generates its own task), got \"{}\"", shorten(p)));
            }
            let mut g = GatingArgs {
                gates: None,
                steps: None,
                seed: None,
                seeds: 1,
                lr: None,
                sparsity: None,
                penalty: None,
                gate: Vec::new(),
                format: GatingFormat::Table,
            };
            for (name, value) in flags {
                match name {
                    "gates" => g.gates = Some(parse_integer("gates", &value)?.min(1 << 20) as usize),
                    "steps" => g.steps = Some(parse_integer("steps", &value)?),
                    "seed" => g.seed = Some(parse_integer("seed", &value)?),
                    "seeds" => g.seeds = parse_integer("seeds", &value)?,
                    "lr" => g.lr = Some(parse_finite("lr", &value)?),
                    "sparsity" => g.sparsity = Some(parse_finite("sparsity", &value)?),
                    "penalty" => g.penalty = Some(parse_finite("penalty", &value)?),
                    "gate" => g.gate = value.split(',').map(|s| s.trim().to_string()).collect(),
                    "format" => {
                        g.format = match value.as_str() {
                            "table" => GatingFormat::Table,
                            "json" => GatingFormat::Json,
                            other => return Err(format!("--format must be table or json, got \"{}\"", shorten(other))),
                        }
                    }
                    _ => {}
                }
            }
            Ok(Command::Gating(g))
        }
        other if other.starts_with('-') => {
            Err(format!("unknown option \"{}\" (expected a command first: {COMMANDS})", shorten(other)))
        }
        other => Err(format!("unknown command \"{}\" (expected one of: {COMMANDS})", shorten(other))),
    }
}

/// `(flag name, value)` pairs in command-line order.
type Flags<'f> = Vec<(&'f str, String)>;

/// Split `args` into positionals and `(flag, value)` pairs, refusing unknown, repeated and
/// value-less flags.
fn scan<'f>(command: &str, args: &[String], known: &[&'f str]) -> Result<(Vec<String>, Flags<'f>), String> {
    let mut positionals = Vec::new();
    let mut flags: Flags<'f> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            positionals.extend(args[i..].iter().cloned());
            break;
        }
        if a == "-" || !a.starts_with('-') {
            positionals.push(a.clone());
            continue;
        }
        let body = a.strip_prefix("--").unwrap_or(a);
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let Some(&flag) = known.iter().find(|k| **k == name) else {
            let expected = if known.is_empty() {
                "it takes no flags".to_string()
            } else {
                format!("expected one of: {}", known.iter().map(|k| format!("--{k}")).collect::<Vec<_>>().join(", "))
            };
            return Err(format!("unknown flag \"{}\" for {command} ({expected})", shorten(a)));
        };
        if flags.iter().any(|(n, _)| *n == flag) {
            return Err(format!("--{flag} is given more than once"));
        }
        let value = match inline {
            Some(v) => v,
            None => match args.get(i) {
                Some(v) if !v.starts_with("--") => {
                    i += 1;
                    v.clone()
                }
                _ => return Err(format!("--{flag} needs a value")),
            },
        };
        if value.is_empty() {
            return Err(format!("--{flag} needs a value (got an empty string)"));
        }
        flags.push((flag, value));
    }
    Ok((positionals, flags))
}

fn one_model(command: &str, mut pos: Vec<String>) -> Result<String, String> {
    match pos.len() {
        0 => Err(format!("{command} needs a MODEL.json argument (a path, or - for standard input)")),
        1 => Ok(pos.remove(0)),
        _ => Err(format!("{command} takes one MODEL.json argument, got an extra argument \"{}\"", shorten(&pos[1]))),
    }
}

fn parse_format(v: &str) -> Result<Format, String> {
    match v {
        "json" => Ok(Format::Json),
        "csv" => Ok(Format::Csv),
        other => Err(format!("--format must be json or csv, got \"{}\"", shorten(other))),
    }
}

fn parse_finite(name: &str, v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(format!("--{name} expects a finite number, got \"{}\"", shorten(v))),
    }
}

fn parse_integer(name: &str, v: &str) -> Result<u64, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn flags_in_any_order_and_with_equals() {
        let c = parse(&args(&["moments", "--tau=0.25", "m.json", "--estimator", "concrete", "--k", "4"])).unwrap();
        let Command::Moments(m) = c else { panic!("{c:?}") };
        assert_eq!((m.model.as_str(), m.estimator.as_str(), m.tau, m.k), ("m.json", "concrete", Some(0.25), Some(4)));
        assert_eq!((m.gap, m.eta, m.lambda), (None, None, None));
        let c = parse(&args(&["moments", "m.json", "--estimator=rebar", "--eta", "-0.5", "--lambda=2", "--gap", "3"]));
        let Command::Moments(m) = c.unwrap() else { panic!() };
        assert_eq!((m.gap, m.eta, m.lambda, m.k), (Some(3.0), Some(-0.5), Some(2.0), None));
        assert_eq!(m.method, MethodChoice::Auto);
        assert_eq!(
            parse(&args(&["exact", "-", "--format", "csv"])).unwrap(),
            Command::Exact(ExactArgs {
                model: "-".into(),
                format: Format::Csv,
                samples: None,
                seed: None,
                extension: None,
                wrt: Wrt::Parameters
            })
        );
        assert_eq!(
            parse(&args(&["exact", "--", "--odd-name"])).unwrap(),
            Command::Exact(ExactArgs {
                model: "--odd-name".into(),
                format: Format::Json,
                samples: None,
                seed: None,
                extension: None,
                wrt: Wrt::Parameters
            })
        );
    }

    #[test]
    fn mistakes_are_named() {
        let err = |s: &[&str]| parse(&args(s)).unwrap_err();
        assert!(err(&[]).contains("no command"));
        assert!(err(&["frobnicate"]).contains("unknown command"));
        assert!(err(&["exact", "m.json", "--tau", "1"]).contains("unknown flag \"--tau\" for exact"));
        assert!(err(&["moments", "m.json", "--estimator"]).contains("--estimator needs a value"));
        assert!(
            err(&["moments", "m.json", "--estimator", "st", "--tau", "abc"]).contains("--tau expects a finite number")
        );
        assert!(
            err(&["moments", "m.json", "--estimator", "st", "--tau", "NaN"]).contains("--tau expects a finite number")
        );
        assert!(err(&["moments", "m.json", "--estimator", "st", "--k", "-3"])
            .contains("--k expects a non-negative integer"));
        assert!(err(&["moments", "m.json", "--estimator", "st", "--k", "99999999999"]).contains("--k must be in"));
        assert!(
            err(&["moments", "m.json", "--estimator", "st", "--seed", "99999999999999999999999"]).contains("too large")
        );
        assert!(err(&["moments", "m.json"]).contains("needs --estimator"));
        assert!(err(&["moments", "m.json", "--estimator", "st", "--estimator", "st"]).contains("more than once"));
        assert!(err(&["exact"]).contains("needs a MODEL.json"));
        assert!(err(&["exact", "a", "b"]).contains("extra argument"));
        assert!(err(&["estimators", "x"]).contains("takes no arguments"));
        assert!(err(&["estimators", "--format", "json"]).contains("it takes no flags"));
    }

    #[test]
    fn help_and_version_win() {
        assert_eq!(parse(&args(&["moments", "--bogus", "-h"])).unwrap(), Command::Help);
        assert_eq!(parse(&args(&["help", "moments"])).unwrap(), Command::Help);
        assert_eq!(parse(&args(&["--version"])).unwrap(), Command::Version);
    }
}
