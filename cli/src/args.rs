//! The hand-written command-line parser, driven by the one table of flags (`flags.rs`).
//!
//! Grammar: `stochgrad COMMAND [ARGS…]`, where flags are `--name VALUE` or `--name=VALUE`, may come
//! before or after the one positional argument (MODEL.json, or `-` for standard input), and `--`
//! ends the flags. `-h`/`--help` and `--version`/`-V` anywhere (before `--`) win over everything
//! else. Every mistake is reported as one line naming the flag or argument.

use crate::flags::{shorten as short, Given, On, FLAGS};
pub use crate::flags::{
    Format, GatingFormat, HyperArgs, ListFormat, Wrt, FIELD_STEPS, TRAIN_LR, TRAIN_SEED, TRAIN_STEPS,
};
use stochgrad_core::loss::Extension;
use stochgrad_core::moments::MethodChoice;
use stochgrad_core::train::Optimizer;

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

/// `stochgrad field MODEL.json --x NAME --y NAME [--range X0,X1,Y0,Y1] [--grid N] [...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldArgs {
    pub model: String,
    pub x: String,
    pub y: String,
    pub range: Option<[f64; 4]>,
    pub grid: Option<usize>,
    pub estimators: Vec<String>,
    pub hyper: HyperArgs,
    /// Overrides the loss's `"extension"`.
    pub extension: Option<Extension>,
    pub samples: Option<u64>,
    pub steps: u64,
    pub lr: f64,
    pub optimizer: Optimizer,
    pub seed: u64,
    pub format: Format,
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

/// `stochgrad moments MODEL.json --estimator KEY [...]`. Hyper-parameters left out are `None`
/// (the core's defaults apply — for `k`, the estimator's own default); knowing which were given
/// lets the output note the ignored ones.
#[derive(Clone, Debug, PartialEq)]
pub struct MomentsArgs {
    pub model: String,
    pub estimator: String,
    pub hyper: HyperArgs,
    pub samples: Option<u64>,
    pub seed: Option<u64>,
    pub method: MethodChoice,
    pub format: Format,
    /// Overrides the loss's `"extension"`.
    pub extension: Option<Extension>,
    pub wrt: Wrt,
}

/// `stochgrad distribution MODEL.json --estimator KEY --param NAME [...]`: the distribution of one
/// parameter's estimate (flags as for `moments`, without `--wrt`).
#[derive(Clone, Debug, PartialEq)]
pub struct DistributionArgs {
    pub model: String,
    pub estimator: String,
    pub param: String,
    pub hyper: HyperArgs,
    pub samples: Option<u64>,
    pub seed: Option<u64>,
    pub method: MethodChoice,
    pub format: Format,
    /// Overrides the loss's `"extension"`.
    pub extension: Option<Extension>,
}

/// A parsed command line.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Help,
    Version,
    Estimators(ListFormat),
    Exact(ExactArgs),
    Moments(MomentsArgs),
    Distribution(DistributionArgs),
    Train(TrainArgs),
    Field(FieldArgs),
    Gating(GatingArgs),
    Digits(DigitsCommand),
}

/// What `stochgrad digits` does.
#[derive(Clone, Debug, PartialEq)]
pub enum DigitsCommand {
    /// The data set's sizes and its fraction of 1-pixels.
    Info,
    /// Train the discrete VAE: CSV, one row per checkpoint.
    Train(DigitsTrainArgs),
    /// Train every estimator over several seeds at equal loss evaluations: the README's table.
    Compare(DigitsCompareArgs),
}

/// `stochgrad digits train --estimator KEY|exact [--latents K] [...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct DigitsTrainArgs {
    pub estimator: String,
    pub hyper: HyperArgs,
    pub latents: Option<usize>,
    pub steps: Option<u64>,
    pub batch: Option<usize>,
    pub lr: Option<f64>,
    pub seed: Option<u64>,
    pub eval_every: Option<u64>,
    pub save: Option<String>,
}

/// `stochgrad digits compare [--estimators K,K] [--latents K] [--seeds N] [...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct DigitsCompareArgs {
    pub estimators: Option<Vec<String>>,
    pub hyper: HyperArgs,
    pub latents: Option<usize>,
    pub steps: Option<u64>,
    pub batch: Option<usize>,
    pub lr: Option<f64>,
    pub seed: Option<u64>,
    pub seeds: u64,
}

const DIGITS: &str = "info, train, compare";

const COMMANDS: &str = "estimators, exact, moments, distribution, train, field, gating, digits, help";

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
    let on = match first.as_str() {
        "help" => return Ok(Command::Help),
        "version" => return Ok(Command::Version),
        "estimators" => On::Estimators,
        "exact" => On::Exact,
        "moments" => On::Moments,
        "distribution" => On::Distribution,
        "train" => On::Train,
        "field" => On::Field,
        "gating" => On::Gating,
        "digits" => match rest.first().map(String::as_str) {
            Some("train") => On::DigitsTrain,
            Some("compare") => On::DigitsCompare,
            _ => On::Digits,
        },
        other if other.starts_with('-') => {
            return Err(format!("unknown option \"{}\" (expected a command first: {COMMANDS})", short(other)))
        }
        other => return Err(format!("unknown command \"{}\" (expected one of: {COMMANDS})", short(other))),
    };
    let rest = if matches!(on, On::DigitsTrain | On::DigitsCompare) { &rest[1..] } else { rest };
    let (pos, g) = scan(on, rest)?;
    let need_estimator = |g: &Given| {
        g.estimator
            .clone()
            .ok_or_else(|| format!("{} needs --estimator KEY (run `stochgrad estimators` for the keys)", on.name()))
    };
    Ok(match on {
        On::Estimators => {
            if let Some(p) = pos.first() {
                return Err(format!("estimators takes no arguments, got \"{}\"", short(p)));
            }
            Command::Estimators(g.list_format.unwrap_or_default())
        }
        On::Exact => Command::Exact(ExactArgs {
            model: one_model("exact", pos)?,
            format: g.format.unwrap_or(Format::Json),
            samples: g.samples,
            seed: g.seed,
            extension: g.extension,
            wrt: g.wrt.unwrap_or_default(),
        }),
        On::Moments => {
            let model = one_model("moments", pos)?;
            Command::Moments(MomentsArgs {
                model,
                estimator: need_estimator(&g)?,
                hyper: g.hyper,
                samples: g.samples,
                seed: g.seed,
                method: g.method.unwrap_or(MethodChoice::Auto),
                format: g.format.unwrap_or(Format::Json),
                extension: g.extension,
                wrt: g.wrt.unwrap_or_default(),
            })
        }
        On::Distribution => {
            let model = one_model("distribution", pos)?;
            Command::Distribution(DistributionArgs {
                model,
                estimator: need_estimator(&g)?,
                param: g.param.clone().ok_or_else(|| {
                    "distribution needs --param NAME (W1[0][2], c1[0]: the names of `moments --format csv`)".to_string()
                })?,
                hyper: g.hyper,
                samples: g.samples,
                seed: g.seed,
                method: g.method.unwrap_or(MethodChoice::Auto),
                format: g.format.unwrap_or(Format::Json),
                extension: g.extension,
            })
        }
        On::Train => {
            let model = one_model("train", pos)?;
            Command::Train(TrainArgs {
                model,
                estimator: need_estimator(&g)?,
                hyper: g.hyper,
                extension: g.extension,
                steps: g.steps.unwrap_or(TRAIN_STEPS),
                lr: g.lr.unwrap_or(TRAIN_LR),
                optimizer: g.optimizer.unwrap_or(Optimizer::Sgd),
                seed: g.seed.unwrap_or(TRAIN_SEED),
                every: g.every.unwrap_or(1),
            })
        }
        On::Field => {
            let model = one_model("field", pos)?;
            let need = |v: Option<String>, flag: &str| {
                v.ok_or_else(|| format!("field needs --{flag} NAME (a parameter's name: W1[0][2], c1[0], …)"))
            };
            Command::Field(FieldArgs {
                model,
                x: need(g.x, "x")?,
                y: need(g.y, "y")?,
                range: g.range,
                grid: g.grid,
                estimators: g.estimators.unwrap_or_default(),
                hyper: g.hyper,
                extension: g.extension,
                samples: g.samples,
                steps: g.steps.unwrap_or(FIELD_STEPS),
                lr: g.lr.unwrap_or(TRAIN_LR),
                optimizer: g.optimizer.unwrap_or(Optimizer::Sgd),
                seed: g.seed.unwrap_or(TRAIN_SEED),
                format: g.format.unwrap_or(Format::Json),
            })
        }
        On::Gating => {
            if let Some(p) = pos.first() {
                return Err(format!("gating takes no MODEL.json (it generates its own task), got \"{}\"", short(p)));
            }
            Command::Gating(GatingArgs {
                gates: g.gates,
                steps: g.steps,
                seed: g.seed,
                seeds: g.seeds.unwrap_or(1),
                lr: g.lr,
                sparsity: g.sparsity,
                penalty: g.penalty,
                gate: g.gate.unwrap_or_default(),
                format: g.gating_format.unwrap_or(GatingFormat::Table),
            })
        }
        On::Digits => match pos.as_slice() {
            [what] if what == "info" => Command::Digits(DigitsCommand::Info),
            [] => return Err(format!("digits needs a subcommand (expected: {DIGITS})")),
            [what, extra, ..] if what == "info" => {
                return Err(format!("digits info takes no other arguments, got \"{}\"", short(extra)))
            }
            [what, ..] => return Err(format!("unknown digits subcommand \"{}\" (expected: {DIGITS})", short(what))),
        },
        On::DigitsTrain => {
            if let Some(p) = pos.first() {
                return Err(format!("digits train takes no other arguments, got \"{}\"", short(p)));
            }
            Command::Digits(DigitsCommand::Train(DigitsTrainArgs {
                estimator: g.estimator.clone().ok_or_else(|| {
                    "digits train needs --estimator KEY (a key of `stochgrad estimators`, or exact)".to_string()
                })?,
                hyper: g.hyper,
                latents: g.latents,
                steps: g.steps,
                batch: g.batch,
                lr: g.lr,
                seed: g.seed,
                eval_every: g.eval_every,
                save: g.save,
            }))
        }
        On::DigitsCompare => {
            if let Some(p) = pos.first() {
                return Err(format!("digits compare takes no other arguments, got \"{}\"", short(p)));
            }
            Command::Digits(DigitsCommand::Compare(DigitsCompareArgs {
                estimators: g.estimators,
                hyper: g.hyper,
                latents: g.latents,
                steps: g.steps,
                batch: g.batch,
                lr: g.lr,
                seed: g.seed,
                seeds: g.seeds.unwrap_or(10),
            }))
        }
    })
}

/// Split `args` into positionals and flags, each flag parsed by its row of the table into
/// [`Given`]; unknown, repeated and value-less flags are refused.
fn scan(on: On, args: &[String]) -> Result<(Vec<String>, Given), String> {
    let command = on.name();
    let mut positionals = Vec::new();
    let mut given = Given::default();
    let mut seen: Vec<&str> = Vec::new();
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
        let Some(flag) = FLAGS.iter().find(|f| f.name == name && f.on.contains(&on)) else {
            let known: Vec<String> = crate::flags::of(on).map(|f| format!("--{}", f.name)).collect();
            let expected = if known.is_empty() {
                "it takes no flags".to_string()
            } else {
                format!("expected one of: {}", known.join(", "))
            };
            return Err(format!("unknown flag \"{}\" for {command} ({expected})", short(a)));
        };
        if seen.contains(&flag.name) {
            return Err(format!("--{} is given more than once", flag.name));
        }
        seen.push(flag.name);
        let value = match inline {
            Some(v) => v,
            None => match args.get(i) {
                Some(v) if !v.starts_with("--") => {
                    i += 1;
                    v.clone()
                }
                _ => return Err(format!("--{} needs a value", flag.name)),
            },
        };
        if value.is_empty() {
            return Err(format!("--{} needs a value (got an empty string)", flag.name));
        }
        (flag.set)(&value, &mut given)?;
    }
    Ok((positionals, given))
}

fn one_model(command: &str, mut pos: Vec<String>) -> Result<String, String> {
    match pos.len() {
        0 => Err(format!("{command} needs a MODEL.json argument (a path, or - for standard input)")),
        1 => Ok(pos.remove(0)),
        _ => Err(format!("{command} takes one MODEL.json argument, got an extra argument \"{}\"", short(&pos[1]))),
    }
}

/// Quote user text safely on one line: control characters escaped, long text cut.
pub fn shorten(s: &str) -> String {
    short(s)
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
        assert_eq!(
            (m.model.as_str(), m.estimator.as_str(), m.hyper.tau, m.hyper.k),
            ("m.json", "concrete", Some(0.25), Some(4))
        );
        assert_eq!((m.hyper.gap, m.hyper.eta, m.hyper.lambda), (None, None, None));
        let c = parse(&args(&["moments", "m.json", "--estimator=rebar", "--eta", "-0.5", "--lambda=2", "--gap", "3"]));
        let Command::Moments(m) = c.unwrap() else { panic!() };
        assert_eq!((m.hyper.gap, m.hyper.eta, m.hyper.lambda, m.hyper.k), (Some(3.0), Some(-0.5), Some(2.0), None));
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
        assert!(err(&["estimators", "--samples", "3"])
            .contains("unknown flag \"--samples\" for estimators (expected one of: --format)"));
        assert!(err(&["estimators", "--format", "yaml"]).contains("--format must be json or markdown"));
    }

    #[test]
    fn help_and_version_win() {
        assert_eq!(parse(&args(&["moments", "--bogus", "-h"])).unwrap(), Command::Help);
        assert_eq!(parse(&args(&["help", "moments"])).unwrap(), Command::Help);
        assert_eq!(parse(&args(&["--version"])).unwrap(), Command::Version);
    }
}
