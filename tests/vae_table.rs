//! The README's discrete-VAE tables (the checked-in output of `stochgrad digits compare` at k = 8
//! and k = 12, 10 seeds: half an hour of computing, so CI does not recompute them;
//! `cli/tests/cli.rs` re-checks one row's computation) and the sentences written about them: every
//! comparison the prose makes ("ends behind", "within two standard errors", …) must hold in both
//! tables, so that a table regenerated with other numbers cannot leave a false sentence behind.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;
use stochgrad_core::estimators::find_meta;

const README: &str = include_str!("../README.md");

/// A row's final test −log p(x): mean and standard error.
#[derive(Clone, Copy, Debug)]
struct Cell {
    mean: f64,
    se: f64,
}

/// The tables, by k: estimator key → test −log p(x).
fn tables() -> BTreeMap<usize, BTreeMap<String, Cell>> {
    let mut out = BTreeMap::new();
    let mut current: Option<usize> = None;
    for line in README.lines() {
        if let Some(rest) = line.strip_prefix("k = ") {
            if let Some((k, tail)) = rest.split_once(' ') {
                if tail.starts_with("latents, batch") {
                    current = k.parse().ok();
                    out.insert(current.unwrap(), BTreeMap::new());
                }
            }
            continue;
        }
        if line.trim().is_empty() && current.is_some_and(|k| !out[&k].is_empty()) {
            current = None; // the table ended
        }
        let (Some(k), Some(row)) = (current, line.strip_prefix("| `")) else { continue };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let key = cells[0].trim_end_matches('`').to_string();
        let (mean, se) = cells[3].split_once(" ± ").expect("mean ± s.e.");
        out.get_mut(&k).unwrap().insert(key, Cell { mean: mean.parse().unwrap(), se: se.parse().unwrap() });
    }
    out
}

fn within(a: Cell, b: Cell, standard_errors: f64) -> bool {
    (a.mean - b.mean).abs() <= standard_errors * (a.se * a.se + b.se * b.se).sqrt()
}

#[test]
fn the_sentences_about_the_tables_hold_in_both() {
    let tables = tables();
    assert_eq!(tables.keys().copied().collect::<Vec<_>>(), [8, 12], "two tables, k = 8 and k = 12");
    for (k, t) in &tables {
        assert_eq!(t.len(), 22, "k = {k}: exact and the 21 estimators of binary units");
        let at = |key: &str| *t.get(key).unwrap_or_else(|| panic!("k = {k}: no row {key}"));
        let with_baseline_or_second_sample = [
            "reinforce-ma",
            "reinforce-optimal",
            "reinforce-loo",
            "arm",
            "disarm",
            "muprop",
            "rebar",
            "relax",
            "learned-predictor",
        ];
        // "Plain REINFORCE ends behind every estimator with a baseline or a second sample."
        for key in with_baseline_or_second_sample {
            assert!(at("reinforce").mean > at(key).mean, "k = {k}: reinforce vs {key}");
        }
        // "`st` ends behind every estimator except local expectation."
        for (key, c) in t {
            if key != "st" && key != "local-expectation" {
                assert!(at("st").mean > c.mean, "k = {k}: st vs {key}");
            }
        }
        assert!(at("local-expectation").mean > at("st").mean);
        // "ST-Gumbel ends behind Concrete and Gumbel-Rao, which are within about one standard error."
        assert!(at("st-gumbel").mean > at("concrete").mean && at("st-gumbel").mean > at("gumbel-rao").mean);
        assert!(within(at("concrete"), at("gumbel-rao"), 1.0), "k = {k}");
        // "REBAR and RELAX end behind every other estimator with a baseline or a second sample."
        for key in with_baseline_or_second_sample.iter().filter(|k| !["rebar", "relax"].contains(k)) {
            for slow in ["rebar", "relax"] {
                assert!(at(slow).mean > at(key).mean, "k = {k}: {slow} vs {key}");
            }
        }
        // "DARN, Gumbel-Rao, Concrete, ST × σ′ end ahead of every unbiased one."
        let worst_biased =
            ["darn", "gumbel-rao", "concrete", "st-sigmoid"].iter().map(|k| at(k).mean).fold(f64::MIN, f64::max);
        for (key, c) in t.iter().filter(|(key, _)| key.as_str() != "exact") {
            let meta = find_meta(key).unwrap_or_else(|| panic!("{key} is not in the registry"));
            if meta.unbiased {
                assert!(c.mean > worst_biased, "k = {k}: {key} ({}) vs the biased four ({worst_biased})", c.mean);
            }
        }
        // "DisARM, ARM and leave-one-out end within two standard errors of each other."
        for (a, b) in [("disarm", "arm"), ("disarm", "reinforce-loo"), ("arm", "reinforce-loo")] {
            assert!(within(at(a), at(b), 2.0), "k = {k}: {a} vs {b}");
        }
        // The exact gradient is the ideal: no estimator ends ahead of it.
        for (key, c) in t {
            assert!(c.mean >= at("exact").mean, "k = {k}: {key} ahead of the exact gradient");
        }
    }
}
