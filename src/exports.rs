//! What an exported figure says about itself: a caption under every exported PNG and SVG (the
//! plot's title, the network and its loss, τ, the seeds, the samples drawn and the link that
//! reopens the page as it was), the same settings as comment lines at the top of every CSV, and
//! file names that are unique per configuration and never repeat a word.

use crate::page::Page;
use crate::state::State;
use stochgrad_core::loss::Extension;
use stochgrad_core::settings::LossKind;

/// A configuration's description for exports.
#[derive(Clone, Debug, PartialEq)]
pub struct Export {
    /// Caption lines after the plot's title (which the plot adds).
    pub lines: Vec<String>,
    /// The link that reopens this configuration.
    pub link: String,
    /// The part of file names that names the configuration.
    pub config: String,
}

/// FNV-1a, 32 bits: a short, stable fingerprint of the settings for file names.
fn fingerprint(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// The export description of the page's figures (the main job's samples); `base` is the page's
/// address without its `#…`.
pub fn describe(state: &State, base: &str) -> Export {
    let derivative = match state.per_p() {
        Some(pp) => format!(" Derivatives w.r.t. p = σ(a) = {}.", crate::format::sig(pp.p, 4)),
        None => String::new(),
    };
    let drawn =
        format!("{} samples per estimator drawn.{derivative}", crate::format::thousands(state.samples_per_estimator()));
    describe_with(&state.page, &drawn, base)
}

/// The export description of the training race's plot: its optimiser, learning rate and steps,
/// not the main job's samples.
pub fn describe_race(page: &Page, steps_done: u64, base: &str) -> Export {
    let race = format!(
        "training race: {} at learning rate {}, {} of {} steps.",
        page.race_optimizer.key(),
        page.race_lr,
        crate::format::thousands(steps_done),
        crate::format::thousands(page.race_steps),
    );
    describe_with(page, &race, base)
}

fn describe_with(p: &Page, what: &str, base: &str) -> Export {
    let m = &p.model;
    let hash = crate::url::to_hash(p);
    let widths: Vec<String> = m.widths.iter().map(|w| w.to_string()).collect();
    let units: usize = m.widths.iter().sum();
    let loss = match m.loss {
        LossKind::Toy => format!("toy loss Σ(h − t)², t = {}", m.target),
        LossKind::Readout => format!("readout loss (v·h − y)², y = {}", m.target),
        LossKind::Softmax => format!("softmax loss, {} classes, label {}", m.classes, m.label),
        LossKind::Match => "match (reward-only) loss".to_string(),
        LossKind::Expression => format!("expression loss f(h) = {}", m.expression),
    };
    let extension = match (m.loss, m.extension) {
        (LossKind::Match, _) | (_, Extension::Curved) => String::new(),
        (_, Extension::Multilinear) => ", multilinear extension".to_string(),
    };
    let network = format!(
        "Network: {} layer{} of widths {} ({} binary unit{}), {} input{}, logit a = {}, weight scale {}; {loss}{extension}.",
        m.widths.len(),
        if m.widths.len() == 1 { "" } else { "s" },
        widths.join("×"),
        units,
        if units == 1 { "" } else { "s" },
        m.inputs,
        if m.inputs == 1 { "" } else { "s" },
        m.logit,
        m.weight_scale,
    );
    let sampling = format!("τ = {}; network seed {}, sampling seed {}; {what}", p.tau, m.network_seed, p.sampling_seed);
    let link = format!("{base}#{hash}");
    let logit = format!("{}", m.logit).replace('-', "m");
    let config = format!(
        "{}-w{}-a{logit}-ns{}-ss{}-{:08x}",
        m.loss.key(),
        widths.join("x"),
        m.network_seed,
        p.sampling_seed,
        fingerprint(&hash)
    );
    Export { lines: vec![network, sampling, format!("stochgrad — {link}")], link, config }
}

/// `stochgrad-{what}-{config}.{ext}`, every word (between hyphens) once.
pub fn file_name(what: &str, config: &str, ext: &str) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for word in "stochgrad".split('-').chain(what.split('-')).chain(config.split('-')) {
        if !word.is_empty() && !seen.contains(&word) {
            seen.push(word);
        }
    }
    format!("{}.{ext}", seen.join("-"))
}

/// A CSV with the configuration as comment lines (`# …`) before its header row.
pub fn csv_with_header(title: &str, export: &Export, csv: &str) -> String {
    let mut out = format!("# stochgrad: {title}\n");
    for line in &export.lines {
        out.push_str(&format!("# {line}\n"));
    }
    out.push_str(csv);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Action;

    #[test]
    fn the_race_plot_says_what_the_race_did_not_what_the_main_job_sampled() {
        let s = State::default();
        let e = describe_race(&s.page, 120, "http://127.0.0.1:8080/");
        let want = format!(
            "training race: {} at learning rate {}, 120 of {} steps.",
            s.page.race_optimizer.key(),
            s.page.race_lr,
            crate::format::thousands(s.page.race_steps)
        );
        assert!(e.lines[1].ends_with(&want), "{:?}", e.lines);
        assert!(!e.lines[1].contains("samples"), "{:?}", e.lines);
        assert_eq!(e.lines[0], describe(&s, "http://127.0.0.1:8080/").lines[0]);
    }

    #[test]
    fn names_are_unique_per_configuration_and_never_repeat_a_word() {
        let s = State::default();
        let e = describe(&s, "http://127.0.0.1:8080/");
        assert!(e.link.starts_with("http://127.0.0.1:8080/#est="), "{}", e.link);
        assert!(e.lines[0].contains("1 layer of widths 1 (1 binary unit), 0 inputs, logit a = -1"), "{:?}", e.lines);
        assert!(e.lines[1].contains("τ = 0.5; network seed 1, sampling seed 1"), "{:?}", e.lines);
        assert!(e.lines[2].ends_with(&e.link));
        let name = file_name("convergence-c1_0", &e.config, "png");
        assert!(name.starts_with("stochgrad-convergence-c1_0-toy-w1-am1-ns1-ss1-") && name.ends_with(".png"), "{name}");
        // The readout loss and a plot named readout: the word once.
        let mut r = State::default().reduce(Action::SetLoss(LossKind::Readout));
        let er = describe(&r, "");
        let n = file_name("readout", &er.config, "csv");
        assert_eq!(n.matches("readout").count(), 1, "{n}");
        // Any setting that changes the picture changes the name.
        r = r.reduce(Action::SetTau(2.0));
        assert_ne!(describe(&r, "").config, er.config);
        let t = State::default().reduce(Action::SetTarget(0.3));
        assert_ne!(describe(&t, "").config, e.config);
        // The CSV's comment lines come before its header row.
        let csv = csv_with_header("Convergence", &e, "a,b\n1,2\n");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "# stochgrad: Convergence");
        assert!(lines[1..4].iter().all(|l| l.starts_with("# ")) && lines[4] == "a,b", "{csv}");
        assert!(csv.contains(&e.link));
    }
}
