//! The worker's job runner, driven natively through a scripted port.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::over_the_wire;
use std::cell::Cell;
use std::collections::VecDeque;
use stochgrad_app::engine::{serve, Port};
use stochgrad_app::protocol::{Cmd, JobSpec, LogitMark, Out, SweepKind, SweepPoint};
use stochgrad_app::state::{Page, State};

/// Commands are delivered in order; `after` says how many yields must pass before each.
struct Script {
    cmds: VecDeque<(u32, Cmd)>,
    yields: u32,
    clock: Cell<f64>,
    out: Vec<Out>,
}

impl Script {
    fn new(cmds: Vec<(u32, Cmd)>) -> Script {
        Script { cmds: cmds.into(), yields: 0, clock: Cell::new(0.0), out: Vec::new() }
    }
    fn due(&mut self) -> Option<Cmd> {
        match self.cmds.front() {
            Some((after, _)) if *after <= self.yields => self.cmds.pop_front().map(|(_, c)| over_the_wire(c)),
            _ => None,
        }
    }
}

impl Port for Script {
    async fn send(&mut self, out: Out) {
        self.out.push(over_the_wire(out));
    }
    async fn yield_now(&mut self) -> Option<Option<Cmd>> {
        self.yields += 1;
        self.due().map(Some)
    }
    async fn idle(&mut self, ms: f64) -> Option<Option<Cmd>> {
        self.clock.set(self.clock.get() + ms);
        self.yields += 1;
        self.due().map(Some)
    }
    async fn wait(&mut self) -> Option<Cmd> {
        self.cmds.pop_front().map(|(_, c)| over_the_wire(c))
    }
    fn now_ms(&self) -> f64 {
        // Every call advances simulated time by 1 ms, so slices end and yields happen.
        let t = self.clock.get() + 1.0;
        self.clock.set(t);
        t
    }
}

fn spec(playing: bool, sweeps: bool, max_samples: u64) -> JobSpec {
    let mut s = State::new(Page::default()).job_spec();
    s.playing = playing;
    s.sweeps = sweeps;
    s.max_samples = max_samples;
    s
}

fn run(cmds: Vec<(u32, Cmd)>) -> Vec<Out> {
    let mut port = Script::new(cmds);
    futures::executor::block_on(serve(&mut port));
    port.out
}

#[test]
fn a_paused_job_sends_the_exact_answers_then_idles() {
    let out = run(vec![(0, Cmd::Start(Box::new(spec(false, false, 0))))]);
    let exact = out.iter().find_map(|o| match o {
        Out::Exact { gradient, expected_loss, .. } => Some((gradient.clone(), *expected_loss)),
        _ => None,
    });
    let (g, ef) = exact.expect("exact answer");
    // p = σ(−1), E[f] = p(1−t)² + (1−p)t², dE/da = p(1−p)((1−t)² − t²).
    let p = 1.0 / (1.0 + 1f64.exp());
    assert!((ef - (p * 0.55f64.powi(2) + (1.0 - p) * 0.45f64.powi(2))).abs() < 1e-15);
    assert!((g[0] - p * (1.0 - p) * (0.55f64.powi(2) - 0.45f64.powi(2))).abs() < 1e-15);
    let mut exact_keys = vec![];
    for o in &out {
        if let Out::EstimatorExact { key, result, .. } = o {
            let v = result.as_ref().expect("all default estimators have exact/quadrature moments here");
            exact_keys.push((key.clone(), v.method.clone(), v.mean[0]));
        }
    }
    let keys: Vec<&str> = exact_keys.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(keys, vec!["reinforce", "reinforce-optimal", "st", "st-sigmoid", "concrete"]);
    let concrete = &exact_keys[4];
    assert_eq!(concrete.1, "quadrature");
    assert!((exact_keys[0].2 - g[0]).abs() < 1e-15, "reinforce is unbiased");
    assert!(exact_keys[2].2 < 0.0, "st points the wrong way at a = −1");
    assert!(matches!(out.last(), Some(Out::Idle { .. })));
    assert!(!out.iter().any(|o| matches!(o, Out::Frame { .. })), "paused: no Monte Carlo");
}

#[test]
fn playing_streams_summaries_and_auto_pauses_deterministically() {
    let cmds = || vec![(0, Cmd::Start(Box::new(spec(true, false, 1024))))];
    let a = run(cmds());
    let b = run(cmds());
    assert_eq!(a, b, "same seeds, same messages");
    let mcs: Vec<(String, u64)> = a
        .iter()
        .filter_map(|o| match o {
            Out::Frame { views, .. } => {
                Some(views.iter().map(|(k, v)| (k.clone(), v.samples.unwrap())).collect::<Vec<_>>())
            }
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(mcs.iter().filter(|(k, _)| k == "reinforce").map(|(_, n)| *n).max(), Some(1024));
    assert!(a.iter().any(|o| matches!(o, Out::Paused { reason, .. } if reason.contains("1024"))));
}

#[test]
fn step_draws_one_frame() {
    let s = spec(false, false, 0);
    let id = s.id;
    let out = run(vec![(0, Cmd::Start(Box::new(s))), (0, Cmd::Step { id })]);
    let frames = out.iter().filter(|o| matches!(o, Out::Frame { .. })).count();
    assert_eq!(frames, 1);
    assert!(out.iter().any(|o| matches!(o, Out::Paused { reason, .. } if reason == "step")));
}

#[test]
fn the_first_frames_start_from_one_draw_and_double() {
    let out = run(vec![(0, Cmd::Start(Box::new(spec(true, false, 1024))))]);
    let counts: Vec<u64> = out
        .iter()
        .filter_map(|o| match o {
            Out::Frame { views, .. } => views.iter().find(|(k, _)| k == "reinforce").and_then(|(_, v)| v.samples),
            _ => None,
        })
        .collect();
    assert_eq!(&counts[..10], &[1, 3, 7, 15, 31, 63, 127, 255, 511, 767], "1, 2, 4, … draws per frame, then 256");
    assert_eq!(*counts.last().unwrap(), 1024, "auto-pause at exactly the limit");
}

#[test]
fn one_draw_at_a_time_draws_the_same_sequence() {
    use stochgrad_core::estimators::find;
    use stochgrad_core::exact::solve;
    use stochgrad_core::moments::mc_chunk;
    let mut s = spec(false, false, 0);
    s.single = true;
    let id = s.id;
    let mut cmds = vec![(0, Cmd::Start(Box::new(s.clone())))];
    // Each Step is taken when the worker waits, idle (never during a yield): one at a time.
    cmds.extend((0..256).map(|_| (u32::MAX, Cmd::Step { id })));
    let out = run(cmds);
    // Every Step: one draw per estimator, reported with the state it drew.
    let draws: Vec<&Vec<stochgrad_app::protocol::Draw>> = out
        .iter()
        .filter_map(|o| match o {
            Out::Draws { draws, .. } => Some(draws),
            _ => None,
        })
        .collect();
    assert_eq!(draws.len(), 256);
    let reinforce: Vec<(f64, f64)> = draws
        .iter()
        .map(|d| {
            let (_, g, h) = d.iter().find(|(k, _, _)| k == "reinforce").unwrap();
            (g[0], h.as_ref().expect("REINFORCE draws one state")[0])
        })
        .collect();
    // REINFORCE on the toy: ĝ = (h − p)·(h − t)², so h and ĝ agree.
    let p = 1.0 / (1.0 + 1f64.exp());
    for (g, h) in &reinforce {
        assert!(*h == 0.0 || *h == 1.0);
        assert!((g - (h - p) * (h - 0.45) * (h - 0.45)).abs() < 1e-15, "{g} for h = {h}");
    }
    // 256 single draws are the first chunk of whole-chunk Monte Carlo, bit for bit.
    let model = s.settings.to_model();
    let sol = solve(&model).unwrap();
    let est = find("reinforce").unwrap();
    let mut sampler = est.sampler(&model, &s.hp, &sol).unwrap();
    let chunk = mc_chunk(sampler.as_mut(), s.sampling_seed, "reinforce", 0, 256, 1);
    let last = out
        .iter()
        .rev()
        .find_map(|o| match o {
            Out::Frame { views, .. } => views.iter().find(|(k, _)| k == "reinforce").map(|(_, v)| v.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(last.samples, Some(256));
    assert_eq!(last.mean[0].to_bits(), chunk.mean[0].to_bits());
}

#[test]
fn a_new_start_replaces_the_running_job() {
    let first = spec(true, true, 0);
    let mut second = spec(false, false, 0);
    second.id = first.id + 1;
    second.hp.tau = 1.0;
    let out = run(vec![(0, Cmd::Start(Box::new(first))), (40, Cmd::Start(Box::new(second.clone())))]);
    let last_exact = out.iter().rposition(|o| matches!(o, Out::Exact { id, .. } if *id == second.id));
    assert!(last_exact.is_some(), "the second job ran");
    // After the second job started, nothing of the first is sent.
    let after = &out[last_exact.unwrap()..];
    assert!(after.iter().all(|o| !matches!(o, Out::Frame { id, .. } | Out::Sweep { id, .. } if *id != second.id)));
    assert!(matches!(out.last(), Some(Out::Idle { id }) if *id == second.id));
}

#[test]
fn sweeps_cover_tau_and_width() {
    let out = run(vec![(0, Cmd::Start(Box::new(spec(false, true, 0))))]);
    let tau: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Out::Sweep { kind: SweepKind::Tau, key, points, .. } => Some((key.clone(), points.len())),
            _ => None,
        })
        .collect();
    assert_eq!(tau, vec![("concrete".to_string(), stochgrad_app::engine::tau_grid().len())]);
    let width: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Out::Sweep { kind: SweepKind::Width, key, points, .. } => Some((key.clone(), points.len())),
            _ => None,
        })
        .collect();
    assert_eq!(width.len(), 5);
    for (key, n) in &width {
        assert_eq!(*n, stochgrad_app::engine::SWEEP_MAX_WIDTH, "{key}");
    }
}

/// Categorical units of K = 10 classes: the width sweep covers the widths the page offers (K^n ≤
/// 4096 states: 1 to 3 units), each point computed on the network of that width (REINFORCE's exact
/// bias² is 0 and its variance that network's).
#[test]
fn the_width_sweep_of_categorical_units_stays_within_their_widths() {
    let mut page = Page::default();
    page.model.unit = stochgrad_core::settings::UnitChoice::Categorical;
    page.model.categories = 10;
    page.estimators = vec!["reinforce".into(), "st".into()];
    let mut s = State::new(page.clone()).job_spec();
    s.playing = false;
    s.sweeps = true;
    s.max_samples = 0;
    let out = run(vec![(0, Cmd::Start(Box::new(s)))]);
    let width: Vec<(String, Vec<SweepPoint>)> = out
        .iter()
        .filter_map(|o| match o {
            Out::Sweep { kind: SweepKind::Width, key, points, .. } => Some((key.clone(), points.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(width.iter().map(|w| w.0.as_str()).collect::<Vec<_>>(), ["reinforce", "st"]);
    let max = stochgrad_core::settings::bounds::categorical_width(10);
    assert_eq!(max, 3);
    for (key, points) in &width {
        assert_eq!(points.iter().map(|p| p.x).collect::<Vec<_>>(), [1.0, 2.0, 3.0], "{key}");
    }
    for p in &width[0].1 {
        let mut at = page.model.clone();
        at.widths = vec![p.x as usize];
        let m = at.to_model();
        let sol = stochgrad_core::exact::solve(&m).unwrap();
        let req = stochgrad_core::moments::Request {
            hp: page.hp(),
            method: stochgrad_core::moments::MethodChoice::Auto,
            samples: 1 << 12,
            seed: 1,
        };
        let r = stochgrad_core::moments::moments(
            &m,
            &sol,
            stochgrad_core::estimators::find("reinforce").unwrap(),
            &req,
            &mut |_, _| true,
        )
        .unwrap();
        assert_eq!(p.method, "exact");
        assert!(
            (p.variance_trace.value - r.figures.variance_trace.value).abs() <= 1e-12 * r.figures.variance_trace.value,
            "width {}",
            p.x
        );
        assert!(p.bias_sq.value.abs() < 1e-20, "width {}: bias² {:?}", p.x, p.bias_sq);
    }
}

/// The firing-probability sweep on the default page (one unit, toy target t = 0.45, a = −1): every
/// point equals the core's `sweep::point` (the same bits); the optimum is the range's low edge
/// (E[f] = p(1 − t)² + (1 − p)t² rises with p for t < ½); `st`'s stationary point is at
/// c = logit(t) (E[ĝ] = 2(p − t)), REINFORCE's (unbiased) are the exact gradient's: none.
#[test]
fn the_logit_sweep_matches_the_core_and_marks_the_hand_computed_points() {
    use stochgrad_core::estimators::find;
    use stochgrad_core::moments::Request;
    use stochgrad_core::sweep::{self, Unit};
    let spec = spec(false, true, 0);
    let model = spec.settings.to_model();
    let out = run(vec![(0, Cmd::Start(Box::new(spec.clone())))]);
    let series: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Out::Sweep { kind: SweepKind::Logit, key, points, .. } => Some((key.clone(), points.clone())),
            _ => None,
        })
        .collect();
    let keys: Vec<&str> = series.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["reinforce", "reinforce-optimal", "st", "st-sigmoid", "concrete"]);
    let unit = Unit::default_for(&model);
    for (key, points) in &series {
        assert_eq!(points.len(), sweep::POINTS, "{key}");
        let est = find(key).unwrap();
        let req = Request { hp: spec.hp_for(key), ..Request::default() };
        for p in points.iter().step_by(8) {
            let want = sweep::point(&model, unit, p.x, est, &req).unwrap();
            assert_eq!(p.method, want.report.method.key(), "{key} at {}", p.x);
            assert_eq!(p.bias_sq.value, want.report.figures.bias_sq_norm.value, "{key} at {}", p.x);
            assert_eq!(p.variance_trace.value, want.report.figures.variance_trace.value, "{key} at {}", p.x);
        }
    }
    let marks: Vec<&LogitMark> = out
        .iter()
        .filter_map(|o| match o {
            Out::LogitMark { mark, .. } => Some(mark),
            _ => None,
        })
        .collect();
    match marks[0] {
        LogitMark::Optimum { unit, current, logit, x, at_edge, .. } => {
            assert_eq!((unit.as_str(), *current, *logit, *x, *at_edge), ("c1[0]", -1.0, true, -6.0, true));
        }
        m => panic!("the optimum comes first, got {m:?}"),
    }
    let stationary = |k: &str| {
        marks.iter().find_map(|m| match m {
            LogitMark::Stationary { key, crossings, method } if key == k => Some((crossings.clone(), method.clone())),
            _ => None,
        })
    };
    let (st, method) = stationary("st").expect("st's stationary points");
    assert_eq!(method, "exact");
    assert_eq!(st.len(), 1);
    let t: f64 = 0.45;
    assert!((st[0].0 - (t / (1.0 - t)).ln()).abs() < 1e-8, "{st:?}");
    assert!(st[0].1, "rising: gradient descent settles there");
    assert_eq!(stationary("reinforce").expect("reinforce's").0, vec![]);
    assert!(matches!(out.last(), Some(Out::Idle { .. })));
}

#[test]
fn unit_types_carry_their_own_objectives_gradient_as_reference() {
    let mut s = spec(true, false, 512);
    s.estimators = vec!["reinforce".into(), "sts".into(), "noisy-rectifier".into()];
    let model = s.settings.to_model();
    let out = run(vec![(0, Cmd::Start(Box::new(s.clone())))]);
    let binary = out
        .iter()
        .find_map(|o| match o {
            Out::Exact { gradient, .. } => Some(gradient.clone()),
            _ => None,
        })
        .unwrap();
    for key in ["sts", "noisy-rectifier"] {
        let est = stochgrad_core::estimators::find(key).unwrap();
        let own = est.own_objective(&model, &s.hp_for(key)).unwrap().unwrap().solution.gradient;
        assert!((own[0] - binary[0]).abs() > 1e-3, "{key}: its own objective differs from the binary network's");
        let exact = out.iter().find_map(|o| match o {
            Out::EstimatorExact { key: k, result: Ok(v), .. } if k == key => Some(v.clone()),
            _ => None,
        });
        let frame = out.iter().rev().find_map(|o| match o {
            Out::Frame { views, .. } => views.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()),
            _ => None,
        });
        let frame = frame.expect("a Monte-Carlo frame");
        assert_eq!(frame.reference.as_ref(), Some(&own), "{key}: Monte-Carlo view");
        if key == "sts" {
            assert!(exact.is_some(), "one STS unit has exact moments");
        }
        if let Some(v) = exact {
            assert_eq!(v.reference.as_ref(), Some(&own), "{key}: exact view");
        }
    }
    for o in &out {
        if let Out::EstimatorExact { key, result: Ok(v), .. } = o {
            if key == "reinforce" {
                assert_eq!(v.reference, None, "binary estimators are compared with the binary network");
            }
        }
    }
}

fn race_spec(steps: u64) -> stochgrad_app::protocol::RaceSpec {
    let mut s = State::new(Page::default()).race_spec();
    s.steps = steps;
    s
}

/// Every report of every estimator, in arrival order (step 0 first).
fn race_reports(out: &[Out]) -> Vec<(String, Vec<stochgrad_core::train::StepReport>)> {
    let mut rows: Vec<(String, Vec<stochgrad_core::train::StepReport>)> = Vec::new();
    for o in out {
        match o {
            Out::RaceStart { rows: start, .. } => {
                for (k, r) in start {
                    rows.push((k.clone(), vec![r.clone().expect("every default estimator races on the toy")]));
                }
            }
            Out::RaceFrame { reports, .. } => {
                for (k, new) in reports {
                    rows.iter_mut().find(|(key, _)| key == k).expect("started").1.extend(new.iter().cloned());
                }
            }
            _ => {}
        }
    }
    rows
}

#[test]
fn a_race_streams_frames_equal_to_the_core_race_and_pauses_at_its_budget() {
    let spec = race_spec(120);
    let out = run(vec![(0, Cmd::Race(Box::new(spec.clone())))]);
    let frames = out.iter().filter(|o| matches!(o, Out::RaceFrame { .. })).count();
    assert!(frames > 1, "the race arrives in several frames ({frames})");
    assert!(out.iter().any(|o| matches!(o, Out::RacePaused { reason, .. } if reason == "reached 120 steps")));
    let rows = race_reports(&out);
    assert_eq!(rows.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), spec.estimators);
    let model = spec.settings.to_model();
    for (key, reports) in &rows {
        assert_eq!(reports.len(), 121, "{key}: step 0 and 120 steps");
        let est = stochgrad_core::estimators::find(key).unwrap();
        let mut race =
            stochgrad_core::train::Race::new(model.clone(), est, spec.hp_for(key), spec.optimizer, spec.lr, spec.seed)
                .unwrap();
        let mut direct = vec![race.evaluate().unwrap()];
        for _ in 0..120 {
            direct.push(race.step().unwrap());
        }
        assert_eq!(reports, &direct, "{key}: the worker's race is train::Race's");
    }
    // Deterministic: the same spec gives the same messages.
    assert_eq!(run(vec![(0, Cmd::Race(Box::new(spec)))]), out);
}

#[test]
fn race_step_pause_and_replacement() {
    let mut spec = race_spec(1000);
    spec.playing = false;
    let id = spec.id;
    // Paused: only the start; one step: one report per estimator.
    let out = run(vec![(0, Cmd::Race(Box::new(spec.clone()))), (0, Cmd::Step { id })]);
    let new: usize = out
        .iter()
        .filter_map(|o| match o {
            Out::RaceFrame { reports, .. } => Some(reports.iter().map(|(_, r)| r.len()).sum::<usize>()),
            _ => None,
        })
        .sum();
    assert_eq!(new, spec.estimators.len(), "one step of each estimator");
    assert!(out.iter().any(|o| matches!(o, Out::RacePaused { reason, .. } if reason == "step")));
    // A new race replaces a running one: nothing more of the old one after the new one starts.
    let mut second = race_spec(50);
    second.id = id + 1;
    let out = run(vec![(0, Cmd::Race(Box::new(race_spec(1000)))), (5, Cmd::Race(Box::new(second.clone())))]);
    let start = out.iter().position(|o| matches!(o, Out::RaceStart { id, .. } if *id == second.id)).unwrap();
    assert!(out[start..].iter().all(|o| !matches!(o, Out::RaceFrame { id: i, .. } if *i != second.id)));
    assert!(out
        .iter()
        .any(|o| matches!(o, Out::RacePaused { id, reason } if *id == second.id && reason == "reached 50 steps")));
}

#[test]
fn a_network_too_large_to_race_is_refused_with_a_reason() {
    let mut spec = race_spec(10);
    spec.settings.widths = vec![9, 9];
    let out = run(vec![(0, Cmd::Race(Box::new(spec)))]);
    let msg = out.iter().find_map(|o| match o {
        Out::RaceFailed { key: None, message, .. } => Some(message.clone()),
        _ => None,
    });
    assert!(msg.expect("refused").contains("2^18"));
    assert!(!out.iter().any(|o| matches!(o, Out::RaceFrame { .. })));
}

#[test]
fn gating_trains_every_gate_type_with_progress_and_equals_the_core() {
    use stochgrad_core::gating::{run as gating_run, GatingConfig};
    let config = GatingConfig { steps: 200, train: 200, test: 200, gates: 4, ..GatingConfig::default() };
    let gates: Vec<String> = ["st", "reinforce-optimal", "sts", "noisy-rectifier", "dense"].map(String::from).to_vec();
    let spec = stochgrad_app::protocol::GatingSpec { id: 3, config: config.clone(), gates: gates.clone() };
    let out = run(vec![(0, Cmd::Gating(Box::new(spec)))]);
    let progress: Vec<(String, u64)> = out
        .iter()
        .filter_map(|o| match o {
            Out::GatingProgress { gate, done, total, .. } if *total == 1000 => Some((gate.clone(), *done)),
            _ => None,
        })
        .collect();
    let mut announced: Vec<String> = progress.iter().map(|(g, _)| g.clone()).collect();
    announced.dedup();
    assert_eq!(announced, gates, "progress names each gate type as it trains");
    assert!(progress.windows(2).all(|w| w[0].1 <= w[1].1), "{progress:?}");
    let rows: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Out::GatingRow { row, .. } => Some((**row).clone()),
            _ => None,
        })
        .collect();
    assert!(matches!(out.last(), Some(Out::GatingDone { id: 3 })));
    let keys: Vec<&str> = gates.iter().map(String::as_str).collect();
    let direct = gating_run(&config, &keys).unwrap();
    assert_eq!(rows, direct.rows, "trained in chunks with yields = trained in one go");
}

fn digits_spec(trainers: &[&str], latents: usize, steps: u64) -> stochgrad_app::protocol::DigitsSpec {
    stochgrad_app::protocol::DigitsSpec {
        id: 5,
        trainers: trainers.iter().map(|s| s.to_string()).collect(),
        latents,
        steps,
        seed: 2,
        hp: stochgrad_core::estimators::HyperParams::default(),
    }
}

#[test]
fn digits_trains_each_trainer_in_turn_and_its_checkpoints_equal_the_core_run() {
    use stochgrad_app::engine::{bar_images, bar_steps, is_checkpoint, DIGITS_SHOWN};
    use stochgrad_core::vae::{self, Config, Run, Trainer};
    let spec = digits_spec(&["exact", "sts", "disarm", "reinforce"], 3, 40);
    let out = run(vec![(0, Cmd::Digits(Box::new(spec.clone())))]);
    assert!(matches!(out.last(), Some(Out::DigitsDone { id: 5 })));
    // A unit type cannot train binary latents: it says why and the run goes on.
    assert!(out.iter().any(|o| matches!(o, Out::DigitsStopped { key, error: Some(_), .. } if key == "sts")));
    let progress: Vec<u64> = out
        .iter()
        .filter_map(|o| match o {
            Out::DigitsProgress { done, total: 160, .. } => Some(*done),
            _ => None,
        })
        .collect();
    assert!(!progress.is_empty() && progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    let test = stochgrad_core::digits::test();
    for key in ["exact", "disarm", "reinforce"] {
        let points: Vec<_> = out
            .iter()
            .filter_map(|o| match o {
                Out::DigitsPoints { key: k, points, images, .. } if k == key => Some((points[0], images.clone())),
                _ => None,
            })
            .collect();
        let steps: Vec<u64> = points.iter().map(|p| p.0.step).collect();
        assert_eq!(steps, (0..=40).filter(|&s| is_checkpoint(s, 40)).collect::<Vec<_>>(), "{key}");
        // The same run trained directly: the same exact figures at every checkpoint.
        let trainer = stochgrad_app::engine::digits_trainer(key).unwrap();
        let mut direct = Run::new(Config { trainer, latents: 3, steps: 40, seed: 2, ..Config::default() }).unwrap();
        for (p, images) in &points {
            while direct.step < p.step {
                direct.advance().unwrap();
            }
            let b = vae::evaluate(&direct.params, &test);
            assert_eq!(
                (p.neg_elbo, p.neg_log_marginal, p.evaluations),
                (b.neg_elbo, b.neg_log_marginal, direct.evaluations)
            );
            assert!(p.neg_elbo >= p.neg_log_marginal, "−ELBO bounds −log p(x) from above");
            let im = images.as_ref().unwrap();
            assert_eq!((im.reconstructions.len(), im.samples.len()), (DIGITS_SHOWN, DIGITS_SHOWN));
            assert!(im.reconstructions.iter().chain(&im.samples).all(|i| i.len() == 64));
        }
        let bars: Vec<_> = out
            .iter()
            .filter_map(|o| match o {
                Out::DigitsBar { key: k, bar, .. } if k == key => Some(bar.clone()),
                _ => None,
            })
            .collect();
        if key == "exact" {
            assert!(bars.is_empty(), "the exact gradient has no bars");
            continue;
        }
        assert_eq!(bars.iter().map(|b| b.step).collect::<Vec<_>>(), bar_steps(40));
        let Trainer::Estimator(est) = trainer else { unreachable!() };
        // The last bar: the core's figures at the end of the run, on the fixed minibatch.
        let f = bars.last().unwrap().figures.as_ref().unwrap();
        let batch: Vec<usize> = test.iter().copied().take(bar_images(3)).collect();
        let core = vae::encoder_figures(&direct.params, &batch, est, &spec.hp, 1000, 2).unwrap();
        assert_eq!((f.bias_sq, f.variance, f.method.as_str()), (core.bias_sq, core.variance, "exact"));
        assert!(f.bias_sq <= 1e-20 * f.gradient_sq.max(1.0), "{key} is unbiased: {}", f.bias_sq);
    }
}

#[test]
fn digits_skip_moves_on_to_the_next_trainer_and_a_new_run_replaces_the_old() {
    let spec = digits_spec(&["reinforce", "st"], 2, 400);
    let out = run(vec![(0, Cmd::Digits(Box::new(spec))), (30, Cmd::Skip { id: 5 })]);
    assert!(out.iter().any(|o| matches!(o, Out::DigitsStopped { key, error: None, .. } if key == "reinforce")));
    let last_st = out.iter().rev().find_map(|o| match o {
        Out::DigitsPoints { key, points, .. } if key == "st" => Some(points[0].step),
        _ => None,
    });
    assert_eq!(last_st, Some(400), "the next trainer trains to the end");
    assert!(matches!(out.last(), Some(Out::DigitsDone { id: 5 })));
    // A new run replaces the running one at once.
    let mut second = digits_spec(&["st"], 2, 20);
    second.id = 6;
    let out = run(vec![
        (0, Cmd::Digits(Box::new(digits_spec(&["reinforce"], 2, 100_000)))),
        (10, Cmd::Digits(Box::new(second))),
    ]);
    assert!(matches!(out.last(), Some(Out::DigitsDone { id: 6 })));
    assert!(!out.iter().any(|o| matches!(o, Out::DigitsDone { id: 5 })));
    // Nothing to train, or k beyond the page's limit: one failure, no panic.
    for bad in [digits_spec(&[], 2, 10), digits_spec(&["st"], 13, 10), digits_spec(&["st"], 0, 10)] {
        let out = run(vec![(0, Cmd::Digits(Box::new(bad)))]);
        assert!(matches!(out.as_slice(), [Out::DigitsFailed { id: 5, .. }]), "{out:?}");
    }
}

#[test]
fn distributions_equal_the_core_and_a_new_run_replaces_the_old() {
    use stochgrad_app::engine::DIST_SAMPLES;
    use stochgrad_core::distribution::{distribution, Shape};
    use stochgrad_core::moments::{MethodChoice, Request};
    let state = State::new(Page::default()).reduce(stochgrad_app::state::Action::ToggleEstimator("arm".into()));
    let spec = state.dist_spec();
    let keys = spec.estimators.clone();
    let out = run(vec![(0, Cmd::Distribution(Box::new(spec.clone())))]);
    let got: Vec<(String, _)> = out
        .iter()
        .filter_map(|o| match o {
            Out::Distribution { id, key, result } if *id == spec.id => Some((key.clone(), result.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(got.iter().map(|g| g.0.clone()).collect::<Vec<_>>(), keys, "one message per estimator, in order");
    let model = spec.settings.to_model();
    let sol = stochgrad_core::exact::solve(&model).unwrap();
    for (key, result) in got {
        let v = result.unwrap_or_else(|e| panic!("{key}: {e}"));
        let req = Request { hp: spec.hp_for(&key), method: MethodChoice::Auto, samples: DIST_SAMPLES, seed: spec.seed };
        let est = stochgrad_core::estimators::find(&key).unwrap();
        let d = distribution(&model, &sol, est, spec.param, &req, &mut |_, _| true).unwrap();
        assert_eq!((v.mean, v.variance, v.exact_gradient), (d.mean, d.variance, d.exact_gradient), "{key}");
        match d.shape {
            Shape::Exact { values, probabilities, pieces } => {
                assert_eq!(v.method, "exact", "{key}");
                assert_eq!((v.values.clone(), v.probabilities.clone()), (values, probabilities), "{key}");
                assert_eq!(v.pieces.len(), pieces.len(), "{key}");
            }
            Shape::MonteCarlo { edges, counts, samples, .. } => {
                assert_eq!(v.method, "monte-carlo", "{key}");
                assert_eq!((v.edges.clone(), v.counts.clone(), v.samples), (edges, counts, samples), "{key}");
            }
        }
    }
    // The toy's selection has both kinds: exact (reinforce, arm) and Monte Carlo (concrete).
    let method = |k: &str| {
        out.iter().find_map(|o| match o {
            Out::Distribution { key, result: Ok(v), .. } if key == k => Some(v.method.clone()),
            _ => None,
        })
    };
    assert_eq!(method("arm").as_deref(), Some("exact"));
    assert_eq!(method("concrete").as_deref(), Some("monte-carlo"));
    // A second run sent after the first message replaces the first.
    let mut second = spec.clone();
    second.id = spec.id + 1;
    let out = run(vec![(0, Cmd::Distribution(Box::new(spec.clone()))), (1, Cmd::Distribution(Box::new(second)))]);
    let ids: Vec<u64> =
        out.iter().filter_map(|o| if let Out::Distribution { id, .. } = o { Some(*id) } else { None }).collect();
    assert!(ids.len() < 2 * keys.len() && ids.last() == Some(&(spec.id + 1)), "{ids:?}");
    assert_eq!(ids.iter().filter(|&&i| i == spec.id + 1).count(), keys.len());
}

/// The field's worker streams rows that are the core's `Field::row`, bit for bit (the page's
/// default network, its default parameters, an exact and a Monte-Carlo-free estimator set), then
/// exact descent's trajectory and each estimator's, then `FieldDone`.
#[test]
fn the_field_worker_streams_the_cores_rows_bit_for_bit() {
    use stochgrad_app::engine::field_of;
    let mut page = Page { field_open: true, race_steps: 5, ..Page::default() };
    page.model.widths = vec![2, 1];
    page.model.inputs = 1;
    page.estimators = vec!["reinforce".into(), "st".into(), "concrete".into()];
    let state = State::new(page);
    let mut fs = state.field_spec();
    fs.grid = 4;
    let field = field_of(&fs).unwrap();
    let out = run(vec![(0, Cmd::Field(Box::new(fs.clone())))]);
    let rows: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Out::FieldRow { j, points, .. } => Some((*j, points.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [0, 1, 2, 3]);
    for (j, points) in &rows {
        let want = field.row(*j).unwrap();
        assert_eq!(points.len(), 4);
        for (p, w) in points.iter().zip(&want) {
            assert_eq!(p.expected_loss.to_bits(), w.expected_loss.to_bits(), "row {j}");
            assert_eq!(p.gradient.map(f64::to_bits), w.gradient.map(f64::to_bits), "row {j}");
            for (a, b) in p.means.iter().zip(&w.means) {
                assert_eq!(a.map(f64::to_bits), b.map(f64::to_bits), "row {j}");
            }
        }
        assert_eq!(points, &want);
    }
    let keys: Vec<String> = out
        .iter()
        .filter_map(|o| match o {
            Out::FieldTrajectory { trajectory, .. } => Some(trajectory.key.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(keys, ["exact", "reinforce", "st", "concrete"]);
    let exact = out.iter().find_map(|o| match o {
        Out::FieldTrajectory { trajectory, .. } if trajectory.key == "exact" => Some(trajectory.clone()),
        _ => None,
    });
    assert_eq!(exact.unwrap(), field.trajectory("exact").unwrap());
    assert!(matches!(out.last(), Some(Out::FieldDone { .. })), "{:?}", out.last());
    // A bad parameter name is one sentence, no rows.
    let bad = stochgrad_app::protocol::FieldSpec { x: "c9[9]".into(), ..fs.clone() };
    let out = run(vec![(0, Cmd::Field(Box::new(bad)))]);
    assert!(
        matches!(&out[..], [Out::FieldFailed { message, .. }] if message.contains("no parameter named")),
        "{out:?}"
    );
}
