//! The README's discrete-VAE tables (the checked-in output of `stochgrad digits compare` at k = 8
//! and k = 12, 10 seeds: about half an hour of computing, so CI does not recompute them;
//! `cli/tests/cli.rs` re-checks one row's computation) and the sentences written about them: every
//! comparison the prose makes ("ends behind", "within two standard errors", …) must hold in both
//! tables, so that a table regenerated with other numbers cannot leave a false sentence behind.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;
use stochgrad_core::estimators::find_meta;

const README: &str = include_str!("../README.md");

/// A figure of a row: mean and standard error over the seeds.
#[derive(Clone, Copy, Debug)]
struct Cell {
    mean: f64,
    se: f64,
}

/// The tables' columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Column {
    TestNegLogMarginal = 3,
    TestNegElbo = 4,
    TrainNegElbo = 5,
}
const COLUMNS: [Column; 3] = [Column::TestNegLogMarginal, Column::TestNegElbo, Column::TrainNegElbo];

/// The tables, by (k, column): estimator key → figure.
fn tables() -> BTreeMap<(usize, Column), BTreeMap<String, Cell>> {
    let mut out = BTreeMap::new();
    let mut current: Option<usize> = None;
    for line in README.lines() {
        if let Some(rest) = line.strip_prefix("k = ") {
            if let Some((k, tail)) = rest.split_once(' ') {
                if tail.starts_with("latents, batch") {
                    current = k.parse().ok();
                    for c in COLUMNS {
                        out.insert((current.unwrap(), c), BTreeMap::new());
                    }
                }
            }
            continue;
        }
        if line.trim().is_empty() && current.is_some_and(|k| !out[&(k, COLUMNS[0])].is_empty()) {
            current = None; // the table ended
        }
        let (Some(k), Some(row)) = (current, line.strip_prefix("| `")) else { continue };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let key = cells[0].trim_end_matches('`').to_string();
        for c in COLUMNS {
            let (mean, se) = cells[c as usize].split_once(" ± ").expect("mean ± s.e.");
            out.get_mut(&(k, c))
                .unwrap()
                .insert(key.clone(), Cell { mean: mean.parse().unwrap(), se: se.parse().unwrap() });
        }
    }
    out
}

fn within(a: Cell, b: Cell, standard_errors: f64) -> bool {
    (a.mean - b.mean).abs() <= standard_errors * (a.se * a.se + b.se * b.se).sqrt()
}

#[test]
fn the_sentences_about_the_tables_hold_in_both() {
    let tables = tables();
    let ks: std::collections::BTreeSet<usize> = tables.keys().map(|(k, _)| *k).collect();
    assert_eq!(ks.into_iter().collect::<Vec<_>>(), [8, 12], "two tables, k = 8 and k = 12");
    for ((k, column), t) in &tables {
        let k = format!("{k}, {column:?}");
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
        // "Plain REINFORCE ends behind every estimator with a baseline or a second sample except
        // local expectation" (every column).
        for key in with_baseline_or_second_sample {
            assert!(at("reinforce").mean > at(key).mean, "k = {k}: reinforce vs {key}");
        }
        assert!(at("local-expectation").mean > at("reinforce").mean, "k = {k}");
        // "On test −log p(x), `st` ends behind every estimator except local expectation; on −ELBO,
        // behind every one."
        for (key, c) in t {
            let exempt = *column == Column::TestNegLogMarginal && key == "local-expectation";
            if key != "st" && !exempt {
                assert!(at("st").mean > c.mean, "k = {k}: st vs {key}");
            }
        }
        if *column == Column::TestNegLogMarginal {
            assert!(at("local-expectation").mean > at("st").mean, "k = {k}");
        }
        // "ST-Gumbel ends behind Concrete and Gumbel-Rao, which are within about one standard error."
        assert!(at("st-gumbel").mean > at("concrete").mean && at("st-gumbel").mean > at("gumbel-rao").mean);
        assert!(within(at("concrete"), at("gumbel-rao"), 1.0), "k = {k}");
        // "REBAR and RELAX end behind every other estimator with a baseline or a second sample
        // except local expectation."
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
        // "On test −log p(x), DisARM, ARM and leave-one-out end within two standard errors of each
        // other; on −ELBO at k = 12, DisARM is ahead of ARM by more than two."
        let pairs = [("disarm", "arm"), ("disarm", "reinforce-loo"), ("arm", "reinforce-loo")];
        match column {
            Column::TestNegLogMarginal => {
                for (a, b) in pairs {
                    assert!(within(at(a), at(b), 2.0), "k = {k}: {a} vs {b}");
                }
            }
            _ if k.starts_with("12,") => {
                assert!(at("arm").mean > at("disarm").mean && !within(at("disarm"), at("arm"), 2.0), "k = {k}")
            }
            _ => {}
        }
        // The exact gradient is the ideal: no estimator ends ahead of it.
        for (key, c) in t {
            assert!(c.mean >= at("exact").mean, "k = {k}: {key} ahead of the exact gradient");
        }
    }
}
