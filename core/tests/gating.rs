//! The conditional-computation miniature: it runs, is deterministic, and its figures are finite and
//! in range (small size, fixed seed, so the test takes well under a second).

use stochgrad_core::gating::{run, run_seeds, GatingConfig, Task, Trainer, GATES};
use stochgrad_core::stats::Method;

fn small() -> GatingConfig {
    GatingConfig { gates: 4, train: 200, test: 150, steps: 150, seed: 3, ..GatingConfig::default() }
}

#[test]
fn the_gating_miniature_runs_deterministically_with_finite_figures() {
    let cfg = small();
    let a = run(&cfg, &[]).unwrap();
    let b = run(&cfg, &[]).unwrap();
    assert_eq!(a, b, "same seed, same report");
    assert_eq!(a.rows.iter().map(|r| r.gate.as_str()).collect::<Vec<_>>(), GATES);
    for r in &a.rows {
        let figures = [r.test_loss, r.test_error, r.deterministic_error, r.train_loss, r.gate_rate];
        assert!(figures.iter().all(|v| v.is_finite()), "{}: {figures:?}", r.gate);
        assert!(r.test_loss > 0.0 && r.train_loss > 0.0, "{}", r.gate);
        for p in [r.test_error, r.deterministic_error, r.gate_rate] {
            assert!((0.0..=1.0).contains(&p), "{}: {p}", r.gate);
        }
        assert_eq!(r.steps, cfg.steps);
        match r.gate.as_str() {
            "noisy-rectifier" => {
                assert_eq!(r.method, Method::MonteCarlo);
                assert!(r.test_error_stderr.unwrap().is_finite() && r.test_loss_stderr.unwrap() > 0.0);
            }
            _ => assert_eq!(r.method, Method::Exact),
        }
    }
    let dense = a.rows.iter().find(|r| r.gate == "dense").unwrap();
    assert_eq!(dense.gate_rate, 1.0);
    // A different seed is a different task and run.
    let c = run(&small_with_seed(4), &[]).unwrap();
    assert_ne!(a.rows[0].test_loss, c.rows[0].test_loss);
    // Training in chunks (as the page's worker does) equals one call.
    let task = Task::new(&cfg).unwrap();
    let mut t = Trainer::new(&task, "sts").unwrap();
    for _ in 0..3 {
        t.train(&task, 50).unwrap();
    }
    assert_eq!(t.evaluate(&task), a.rows.iter().find(|r| r.gate == "sts").unwrap().clone());
    // Several seeds: means with standard errors.
    let s = run_seeds(&GatingConfig { steps: 50, ..cfg.clone() }, &["st", "noisy-rectifier"], 2).unwrap();
    assert_eq!(s.seeds, vec![3, 4]);
    assert!(s.rows.iter().all(|r| r.test_error.stderr.is_some() && r.test_error_per_seed.len() == 2));
    // Unknown gates and out-of-range settings are refused.
    assert!(Trainer::new(&task, "arm").is_err());
    assert!(run(&GatingConfig { gates: 13, ..cfg }, &[]).is_err());
}

fn small_with_seed(seed: u64) -> GatingConfig {
    GatingConfig { seed, ..small() }
}
