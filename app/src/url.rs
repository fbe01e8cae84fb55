//! Every setting in the URL hash, TensorFlow-Playground style: `#est=reinforce,st&tau=0.5&w=1&…`.
//!
//! [`to_hash`] writes every field of [`Page`] in a fixed order; [`from_hash`] reads a hash back,
//! ignoring unknown keys and unparsable values with a note each. Range checks (a hand-edited width
//! of 40, a τ of −3) are not done here but by `State::sanitize`, which clamps and reports, so a link
//! can never freeze or break the tab. Same seeds + same URL = the same pictures.
//!
//! | key | field | example |
//! |---|---|---|
//! | `est` | selected estimators | `reinforce,st` |
//! | `tau`, `k`, `decay` | τ, leave-one-out k, running-baseline decay | `0.5` |
//! | `kgr`, `gap`, `eta`, `lambda` | Gumbel-Rao K, gapped-ST gap, REBAR η and λ | `10`, `1` |
//! | `noise`, `nscale` | the noisy rectifier's noise (logistic, gaussian) and its scale | `logistic`, `1` |
//! | `w` | widths of the stochastic layers (their number is the depth) | `3,2` |
//! | `in` | inputs | `2` |
//! | `loss`, `t` | loss kind, target (toy t / readout y) | `toy`, `0.45` |
//! | `ext` | the loss's real-valued extension (`curved`, `multilinear`) | `curved` |
//! | `a`, `ws`, `bs` | logit (every bias), weight scale, bias spread | `-1` |
//! | `classes`, `label`, `pattern` | softmax classes and label, match pattern (bits) | |
//! | `ns`, `ss` | network seed, sampling seed | `1` |
//! | `spf`, `max` | samples per frame, auto-pause after | `256`, `0` |
//! | `p` | parameter shown in the convergence plot | `0` |
//! | `play`, `vxe`, `lecture` | playing, variance × evaluations, lecture mode (0/1) | `1` |
//! | `wrt` | derivatives shown with respect to the logit (`a`) or to p = σ(a) (`p`, one unit) | `a` |
//! | `single` | one draw at a time (0/1) | `0` |
//! | `focus` | the enlarged plot | `convergence`, `bars`, `agreement`, `tau`, `width` |
//! | `hide` | control panels hidden (lecture links) | `seeds,network` |
//! | `rsteps`, `rlr`, `ropt` | training race: steps budget, learning rate, optimizer (`sgd`, `adam`) | `1000`, `0.3`, `sgd` |
//! | `rplay`, `rx` | training race: playing (0/1), x-axis (`evals`: loss evaluations, `steps`) | `1`, `evals` |
//! | `gseed`, `gsteps` | gating miniature: seed of the task and training, steps per gate type | `1`, `3000` |

use crate::state::Page;
use stochgrad_core::loss::Extension;
use stochgrad_core::model::Noise;
use stochgrad_core::settings::LossKind;
use stochgrad_core::train::Optimizer;

/// The plots that can be focused, by URL name.
pub const PLOTS: [&str; 7] = ["convergence", "draw", "bars", "agreement", "tau", "width", "race"];
/// The control panels that can be hidden, by URL name.
pub const PANELS: [&str; 8] = ["presets", "sampling", "estimators", "hyper", "network", "loss", "seeds", "share"];

fn b(x: bool) -> &'static str {
    if x {
        "1"
    } else {
        "0"
    }
}

/// The hash (without `#`) for a page.
pub fn to_hash(p: &Page) -> String {
    let m = &p.model;
    let widths: Vec<String> = m.widths.iter().map(|w| w.to_string()).collect();
    let mut parts = vec![
        format!("est={}", p.estimators.join(",")),
        format!("tau={}", p.tau),
        format!("k={}", p.k),
        format!("decay={}", p.decay),
        format!("kgr={}", p.rao_k),
        format!("gap={}", p.gap),
        format!("eta={}", p.eta),
        format!("lambda={}", p.lambda),
        format!("noise={}", p.noise.key()),
        format!("nscale={}", p.noise_scale),
        format!("w={}", widths.join(",")),
        format!("in={}", m.inputs),
        format!("loss={}", m.loss.key()),
        format!("t={}", m.target),
        format!("ext={}", m.extension.key()),
        format!("a={}", m.logit),
        format!("ws={}", m.weight_scale),
        format!("bs={}", m.bias_spread),
        format!("classes={}", m.classes),
        format!("label={}", m.label),
        format!("pattern={}", m.pattern),
        format!("ns={}", m.network_seed),
        format!("ss={}", p.sampling_seed),
        format!("spf={}", p.samples_per_frame),
        format!("max={}", p.max_samples),
        format!("p={}", p.param),
        format!("play={}", b(p.playing)),
        format!("vxe={}", b(p.var_x_evals)),
        format!("wrt={}", if p.wrt_p { "p" } else { "a" }),
        format!("single={}", b(p.single)),
        format!("lecture={}", b(p.lecture)),
        format!("rsteps={}", p.race_steps),
        format!("rlr={}", p.race_lr),
        format!("ropt={}", p.race_optimizer.key()),
        format!("rplay={}", b(p.race_playing)),
        format!("rx={}", if p.race_by_evals { "evals" } else { "steps" }),
        format!("gseed={}", p.gating_seed),
        format!("gsteps={}", p.gating_steps),
    ];
    if !p.focus.is_empty() {
        parts.push(format!("focus={}", p.focus));
    }
    if !p.hide.is_empty() {
        parts.push(format!("hide={}", p.hide.join(",")));
    }
    parts.join("&")
}

fn decode(s: &str) -> String {
    // Percent-decoding of what a browser may escape in a hash (commas, minus signs are kept as is).
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Read a hash (with or without the leading `#`) over the defaults. Returns the page and one note
/// per ignored key or value. Values are not range-checked here (see `State::sanitize`).
pub fn from_hash(hash: &str) -> (Page, Vec<String>) {
    let mut p = Page::default();
    let mut notes = Vec::new();
    let hash = hash.trim_start_matches('#');
    if hash.is_empty() {
        return (p, notes);
    }
    for pair in hash.split('&').filter(|s| !s.is_empty()) {
        let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode(raw);
        let v = value.trim();
        let mut bad = |what: &str| notes.push(format!("link: {key}={v} is not {what}; ignored"));
        macro_rules! num {
            ($t:ty, $field:expr, $what:expr) => {
                match v.parse::<$t>() {
                    Ok(x) => $field = x,
                    Err(_) => bad($what),
                }
            };
        }
        match key {
            "est" => p.estimators = v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
            "tau" => num!(f64, p.tau, "a number"),
            "k" => num!(u32, p.k, "a whole number"),
            "decay" => num!(f64, p.decay, "a number"),
            "kgr" => num!(u32, p.rao_k, "a whole number"),
            "gap" => num!(f64, p.gap, "a number"),
            "eta" => num!(f64, p.eta, "a number"),
            "lambda" => num!(f64, p.lambda, "a number"),
            "noise" => match Noise::from_key(v) {
                Some(n) => p.noise = n,
                None => bad("a noise (logistic, gaussian)"),
            },
            "nscale" => num!(f64, p.noise_scale, "a number"),
            "w" => {
                let ws: Result<Vec<usize>, _> = v.split(',').map(|s| s.trim().parse::<usize>()).collect();
                match ws {
                    Ok(ws) if !ws.is_empty() => p.model.widths = ws,
                    _ => bad("a list of widths"),
                }
            }
            "in" => num!(usize, p.model.inputs, "a whole number"),
            "loss" => match LossKind::from_key(v) {
                Some(l) => p.model.loss = l,
                None => bad("a loss (toy, readout, softmax, match)"),
            },
            "t" => num!(f64, p.model.target, "a number"),
            "ext" => match Extension::from_key(v) {
                Some(e) => p.model.extension = e,
                None => bad("an extension (curved, multilinear)"),
            },
            "wrt" => match v {
                "p" => p.wrt_p = true,
                "a" => p.wrt_p = false,
                _ => bad("a derivative convention (a, p)"),
            },
            "a" => num!(f64, p.model.logit, "a number"),
            "ws" => num!(f64, p.model.weight_scale, "a number"),
            "bs" => num!(f64, p.model.bias_spread, "a number"),
            "classes" => num!(usize, p.model.classes, "a whole number"),
            "label" => num!(usize, p.model.label, "a whole number"),
            "pattern" => num!(u64, p.model.pattern, "a whole number"),
            "ns" => num!(u64, p.model.network_seed, "a seed (whole number)"),
            "ss" => num!(u64, p.sampling_seed, "a seed (whole number)"),
            "spf" => num!(u64, p.samples_per_frame, "a whole number"),
            "max" => num!(u64, p.max_samples, "a whole number"),
            "p" => num!(usize, p.param, "a parameter index"),
            "rsteps" => num!(u64, p.race_steps, "a whole number"),
            "rlr" => num!(f64, p.race_lr, "a number"),
            "ropt" => match Optimizer::from_key(v) {
                Some(o) => p.race_optimizer = o,
                None => bad("an optimizer (sgd, adam)"),
            },
            "rx" => match v {
                "evals" => p.race_by_evals = true,
                "steps" => p.race_by_evals = false,
                _ => bad("an x-axis (evals, steps)"),
            },
            "gseed" => num!(u64, p.gating_seed, "a seed (whole number)"),
            "gsteps" => num!(u64, p.gating_steps, "a whole number"),
            "play" | "vxe" | "lecture" | "rplay" | "single" => {
                let x = match v {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    _ => {
                        bad("0 or 1");
                        continue;
                    }
                };
                match key {
                    "play" => p.playing = x,
                    "vxe" => p.var_x_evals = x,
                    "rplay" => p.race_playing = x,
                    "single" => p.single = x,
                    _ => p.lecture = x,
                }
            }
            "focus" => {
                if v.is_empty() || PLOTS.contains(&v) {
                    p.focus = v.to_string();
                } else {
                    bad(&format!("a plot ({})", PLOTS.join(", ")));
                }
            }
            "hide" => {
                let mut hide = Vec::new();
                for h in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    if PANELS.contains(&h) {
                        hide.push(h.to_string());
                    } else {
                        notes.push(format!("link: unknown panel \"{h}\" in hide; ignored"));
                    }
                }
                p.hide = hide;
            }
            other => notes.push(format!("link: unknown setting \"{other}\" ignored")),
        }
    }
    (p, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::State;

    #[test]
    fn round_trip_of_every_field() {
        let mut p = Page {
            estimators: vec!["reinforce".into(), "arm".into(), "st".into()],
            tau: 1.25,
            k: 3,
            rao_k: 20,
            gap: 0.5,
            eta: 0.7,
            lambda: 0.25,
            decay: 0.8,
            noise: Noise::Gaussian,
            noise_scale: 0.5,
            ..Page::default()
        };
        p.model.widths = vec![3, 2];
        p.model.inputs = 2;
        p.model.loss = LossKind::Readout;
        p.model.target = -0.5;
        p.model.logit = 0.3;
        p.model.weight_scale = 1.5;
        p.model.bias_spread = 0.25;
        p.model.network_seed = 42;
        p.model.extension = Extension::Multilinear;
        p.wrt_p = true;
        p.single = true;
        p.sampling_seed = 7;
        p.samples_per_frame = 1024;
        p.max_samples = 10_000;
        p.param = 4;
        p.playing = false;
        p.var_x_evals = true;
        p.lecture = true;
        p.focus = "bars".into();
        p.hide = vec!["seeds".into(), "network".into()];
        p.race_steps = 300;
        p.race_lr = 0.05;
        p.race_optimizer = Optimizer::Adam;
        p.race_playing = false;
        p.race_by_evals = false;
        p.gating_seed = 9;
        p.gating_steps = 500;
        let (back, notes) = from_hash(&to_hash(&p));
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(back, p);
        // Through the reducer too: a clean page needs no corrections.
        let s = State::new(back);
        assert!(s.notes.is_empty(), "{:?}", s.notes);
        assert_eq!(s.page, p);
    }

    #[test]
    fn bad_and_unknown_values_are_reported_and_clamped() {
        let (page, notes) =
            from_hash("#w=40&tau=-3&est=reinforce,bogus&zzz=1&ss=abc&focus=nowhere&hide=seeds,moon&play=2");
        assert_eq!(notes.len(), 5, "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("zzz")));
        assert!(notes.iter().any(|n| n.contains("ss=abc")));
        let s = State::new(page);
        assert_eq!(s.page.model.widths, vec![12]);
        assert_eq!(s.page.tau, 0.05);
        assert_eq!(s.page.estimators, vec!["reinforce".to_string()]);
        assert_eq!(s.page.hide, vec!["seeds".to_string()]);
        assert!(s.page.playing, "an invalid play value keeps the default");
        // width 40, τ −3, unknown estimator: three corrections.
        assert_eq!(s.notes.len(), 3, "{:?}", s.notes);
    }

    #[test]
    fn empty_and_escaped_hashes() {
        let (p, notes) = from_hash("");
        assert_eq!(p, Page::default());
        assert!(notes.is_empty());
        let (p, _) = from_hash("#a=%2D2.5&est=st%2Creinforce");
        assert_eq!(p.model.logit, -2.5);
        assert_eq!(p.estimators, vec!["st".to_string(), "reinforce".to_string()]);
        // Huge numbers do not parse (and are reported), they never reach the engine.
        let (p, notes) = from_hash("#w=99999999999999999999999");
        assert_eq!(p.model.widths, vec![1]);
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn noise_settings_are_read_checked_and_clamped() {
        let (p, notes) = from_hash("#noise=uniform&nscale=50");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("noise=uniform"));
        assert_eq!(p.noise, Noise::Gaussian, "the default");
        let s = State::new(p);
        assert_eq!(s.page.noise_scale, crate::state::limits::NOISE_SCALE.1);
        assert!(s.notes.iter().any(|n| n.contains("noise scale 50")), "{:?}", s.notes);
        let (p, notes) = from_hash("#noise=logistic&nscale=0.5");
        assert!(notes.is_empty());
        let hp = State::new(p).job_spec().hp;
        assert_eq!((hp.noise, hp.noise_scale), (Noise::Logistic, 0.5), "the worker gets the page's noise");
    }

    #[test]
    fn race_and_gating_settings_are_checked() {
        let (p, notes) = from_hash("#ropt=rmsprop&rx=time&rsteps=-1&rlr=100&gsteps=5");
        // rmsprop, time and -1 do not parse; 100 and 5 parse and are clamped by the reducer.
        assert_eq!(notes.len(), 3, "{notes:?}");
        let s = State::new(p);
        assert_eq!(s.page.race_optimizer, Optimizer::Sgd);
        assert_eq!(s.page.race_lr, crate::state::limits::RACE_LR.1);
        assert_eq!(s.page.gating_steps, crate::state::limits::GATING_STEPS.0);
        assert_eq!(s.notes.len(), 2, "{:?}", s.notes);
    }
}
