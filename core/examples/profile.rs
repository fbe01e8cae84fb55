//! The benchmark network, outside criterion: for whole-process timings and for profilers.
//!
//!   profile model 10,10,10          print the benchmark network's MODEL.json (bench/run.mjs times
//!                                   `stochgrad exact` on it)
//!   profile solve 10,10,10 [N]      solve it N times (default 1) and print E[f]; run under
//!                                   `valgrind --tool=callgrind` to count instructions repeatably
//!
//! The network is the one of `core/benches/engine.rs` and `bench/wasm` (4 inputs, readout loss).

use stochgrad_core::exact::solve;
use stochgrad_core::settings::{LossKind, Settings};
use stochgrad_core::Model;

fn network(widths: &str) -> Result<Model, String> {
    let widths: Vec<usize> = widths
        .split(',')
        .map(|w| w.trim().parse().map_err(|_| format!("not a width: {w:?}")))
        .collect::<Result<_, _>>()?;
    Ok(Settings {
        widths,
        inputs: 4,
        loss: LossKind::Readout,
        target: 1.0,
        logit: 0.0,
        weight_scale: 1.0,
        bias_spread: 1.0,
        ..Settings::default()
    }
    .to_model())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let run = || -> Result<(), String> {
        match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["model", w] => {
                println!("{}", network(w)?.to_json_pretty());
                Ok(())
            }
            ["solve", w, rest @ ..] => {
                let m = network(w)?;
                let n: usize = rest.first().map_or(Ok(1), |n| n.parse().map_err(|_| format!("not a count: {n:?}")))?;
                let mut last = f64::NAN;
                for _ in 0..n.max(1) {
                    last = solve(&m).map_err(|e| e.to_string())?.expected_loss;
                }
                println!("{last}");
                Ok(())
            }
            _ => Err("usage: profile model W1,W2,… | profile solve W1,W2,… [N]".into()),
        }
    };
    if let Err(e) = run() {
        eprintln!("{e}");
        std::process::exit(2);
    }
}
