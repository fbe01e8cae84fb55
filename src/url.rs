//! Every setting in the URL hash, TensorFlow-Playground style: `#est=reinforce,st&tau=0.5&w=1&…`,
//! written and read through the one table of settings ([`crate::page::FIELDS`]; its keys are
//! documented in `docs/url.md`, generated from the table and checked by a test).
//!
//! [`to_hash`] writes every field in the table's order; [`from_hash`] reads a hash back, ignoring
//! unknown keys and unparsable values with a note each. Range checks (a hand-edited width of 40, a τ
//! of −3) are not done here but by `State::sanitize`, which clamps and reports, so a link can never
//! freeze or break the tab. Same seeds + same URL = the same pictures.

use crate::page::{field, Page, FIELDS};

/// The hash (without `#`) for a page.
pub fn to_hash(p: &Page) -> String {
    FIELDS
        .iter()
        .filter_map(|f| {
            let v = (f.get)(p);
            (!f.optional || !v.is_empty()).then(|| format!("{}={v}", f.key))
        })
        .collect::<Vec<_>>()
        .join("&")
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
    for pair in hash.trim_start_matches('#').split('&').filter(|s| !s.is_empty()) {
        let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode(raw);
        let v = value.trim();
        match field(key) {
            Some(f) => {
                // A value that does not parse leaves the field as it was (the default).
                let mut trial = p.clone();
                match (f.set)(&mut trial, v) {
                    Ok(()) => p = trial,
                    Err(what) if key == "hide" => {
                        // The known panels of a list are kept.
                        p = trial;
                        notes.push(format!("link: {key}={v} is not {what}"));
                    }
                    Err(what) => notes.push(format!("link: {key}={v} is not {what}; ignored")),
                }
            }
            None => notes.push(format!("link: unknown setting \"{key}\" ignored")),
        }
    }
    (p, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::limits;
    use crate::state::{Action, State};
    use stochgrad_core::loss::Extension;
    use stochgrad_core::model::Noise;
    use stochgrad_core::settings::LossKind;
    use stochgrad_core::train::Optimizer;

    /// One table, one edit path: changing any setting of `page::FIELDS` (through the URL's path,
    /// `Action::Set`) survives the address bar and restarts what its row says it feeds — the job
    /// (and the race if it computes from the same input), only the race, only the gating run, or
    /// nothing — so a new row cannot forget its restart or claim one it does not get.
    #[test]
    fn every_field_restarts_what_its_row_says_it_feeds() {
        use crate::page::{Range, Scope, FIELDS, PANELS, PLOTS};
        let mut base = Page::default();
        base.model.widths = vec![3, 2];
        base.model.inputs = 2;
        let fresh = State::new(base.clone());
        // An estimator key first, so that `est` changes to a selection that stays (not to one that
        // sanitising empties).
        let mut candidates: Vec<String> = [
            "reinforce",
            "0",
            "1",
            "2",
            "3",
            "7",
            "0.3",
            "true",
            "false",
            "gaussian",
            "logistic",
            "readout",
            "softmax",
            "match",
            "toy",
            "multilinear",
            "curved",
            "adam",
            "sgd",
            "evals",
            "steps",
            "p",
            "logit",
            "binary",
            "categorical",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(PLOTS.iter().chain(PANELS.iter()).map(|s| s.to_string()))
        .collect();
        candidates.push("4,4".into());
        for f in FIELDS.iter() {
            let written = (f.get)(&fresh.page);
            let mut tries = candidates.clone();
            match f.range {
                Range::Real(lo, hi) => tries.extend([lo.to_string(), hi.to_string()]),
                Range::Whole(lo, hi) => tries.extend([lo.to_string(), hi.to_string()]),
                _ => {}
            }
            // The first value the field accepts that survives clamping as a different setting.
            let changed = tries.iter().find_map(|v| {
                let mut probe = fresh.page.clone();
                (f.set)(&mut probe, v).ok()?;
                let after = fresh.clone().reduce(Action::Set(f.key, v.clone()));
                ((f.get)(&after.page) != written).then_some(after)
            });
            let after =
                changed.unwrap_or_else(|| panic!("no candidate value changes `{}`: add one to the test", f.key));
            // The changed value survives the address bar: written, read back, the same.
            let (back, notes) = from_hash(&to_hash(&after.page));
            assert_eq!((f.get)(&back), (f.get)(&after.page), "`{}` round-trips through the URL ({notes:?})", f.key);
            let (job, race, gating, digits) = (
                after.job_id != fresh.job_id,
                after.race_id != fresh.race_id,
                after.gating_id != fresh.gating_id,
                after.digits_id != fresh.digits_id,
            );
            match f.scope {
                Scope::Job => assert!(job && !gating && !digits, "`{}` feeds the job", f.key),
                Scope::Race => assert!(!job && race && !gating && !digits, "`{}` feeds the race only", f.key),
                Scope::Gating => assert!(!job && !race && gating && !digits, "`{}` feeds the gating run only", f.key),
                Scope::Digits => assert!(!job && !race && !gating && digits, "`{}` feeds the Digits run only", f.key),
                Scope::View => assert!(!job && !race && !gating && !digits, "`{}` only changes the view", f.key),
            }
        }
    }

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
        p.digits_trainers = vec!["exact".into(), "disarm".into()];
        p.digits_latents = 4;
        p.digits_steps = 200;
        p.digits_seed = 3;
        p.digits_by_evals = true;
        p.digits_bar_step = Some(100);
        p.field_x = "W1[0][1]".into();
        p.field_y = "c1[1]".into();
        p.field_open = true;
        let (back, notes) = from_hash(&to_hash(&p));
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(back, p);
        // Through the reducer too: a clean page needs no corrections.
        let s = State::new(back);
        assert!(s.notes.is_empty(), "{:?}", s.notes);
        assert_eq!(s.page, p);
    }

    /// An expression with spaces, `^`, `(`, `,`, `+`, `&`-free but `%`-prone text survives the
    /// address bar (percent-escaped), through the reducer too; one that does not parse for the
    /// widths gets the default and a note naming the column.
    #[test]
    fn the_expression_round_trips_through_the_url() {
        let mut p = Page::default();
        p.model.widths = vec![2, 3];
        p.model.loss = LossKind::Expression;
        p.model.expression = "max(h1, h2) + (h3 - 0.45)^2 / 2 + -h1^2 * abs(h2 + h3 - 1) + sigmoid(h1)".into();
        let hash = to_hash(&p);
        let fx = hash.split('&').find(|kv| kv.starts_with("fx=")).unwrap();
        assert!(!fx.contains(' ') && !fx.contains('+') && fx.contains("%20%2B%20"), "{fx}");
        let (back, notes) = from_hash(&hash);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(back, p);
        let s = State::new(back);
        assert!(s.notes.is_empty(), "{:?}", s.notes);
        assert_eq!(s.page.model.to_model().loss.kind(), "expression");
        // Spaces written as `+` by hand (form encoding) read back as spaces.
        let (back, _) = from_hash(&hash.replace("%20", "+"));
        assert_eq!(back.model.expression, p.model.expression);
        // h4 is not a unit of a last layer of 3: the default, with a note naming the column.
        let (bad, _) = from_hash(&format!("{}&fx=h1%20*%20h4", hash));
        let s = State::new(bad);
        assert_eq!(s.page.model.expression, stochgrad_core::settings::DEFAULT_EXPRESSION);
        assert!(s.notes.iter().any(|n| n.contains("column 6") && n.contains("h4")), "{:?}", s.notes);
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
        assert_eq!(s.page.noise_scale, limits::NOISE_SCALE.1);
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
        assert_eq!(s.page.race_lr, limits::RACE_LR.1);
        assert_eq!(s.page.gating_steps, limits::GATING_STEPS.0);
        assert_eq!(s.notes.len(), 2, "{:?}", s.notes);
    }

    #[test]
    fn digits_settings_are_checked() {
        let (p, notes) = from_hash("#dtr=exact,sts,bogus,reinforce&dk=40&dsteps=0&dx=time&dbar=x");
        // time and x do not parse; 40 and 0 are clamped; sts and bogus are not trainers.
        assert_eq!(notes.len(), 2, "{notes:?}");
        let s = State::new(p);
        assert_eq!(s.page.digits_trainers, vec!["exact".to_string(), "reinforce".to_string()]);
        assert_eq!(s.page.digits_latents, limits::DIGITS_LATENTS.1);
        assert_eq!(s.page.digits_steps, limits::DIGITS_STEPS.0);
        assert!(!s.page.digits_by_evals && s.page.digits_bar_step.is_none());
        assert_eq!(s.notes.len(), 4, "{:?}", s.notes);
        let spec = s.digits_spec();
        assert_eq!((spec.latents, spec.steps), (12, 10));
    }
}
