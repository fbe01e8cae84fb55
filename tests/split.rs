//! The main worker with helper workers (`split.rs`): the largest exact jobs are split into tasks,
//! helpers compute them (here: simulated by the port, which answers each delegation in turn), and
//! the merged answers equal the one-worker run's bit for bit — also when a helper refuses a task or
//! never answers (the main worker takes it over).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::over_the_wire;
use std::cell::Cell;
use std::collections::VecDeque;
use stochgrad_app::engine::{serve, Port};
use stochgrad_app::protocol::{ChunkResult, Cmd, JobSpec, Out};
use stochgrad_app::split::{Helper, MIN_SPLIT_ITEMS, TAKEOVER_MS};
use stochgrad_app::state::{Page, State};

#[derive(Clone, Copy, PartialEq)]
enum Helpers {
    Answer,
    /// Every third task is refused, every fifth never answered.
    Unreliable,
}

struct Pool {
    cmds: VecDeque<Cmd>,
    helpers: Option<Helpers>,
    helper: Helper,
    delegated: u64,
    /// Split computations seen (one per estimator's exact job that was split).
    splits: std::collections::BTreeSet<u64>,
    clock: Cell<f64>,
    out: Vec<Out>,
}

impl Port for Pool {
    async fn send(&mut self, out: Out) {
        match over_the_wire(out) {
            Out::Delegate(task) => {
                self.delegated += 1;
                self.splits.insert(task.split);
                let n = self.delegated;
                match self.helpers {
                    Some(Helpers::Unreliable) if n % 5 == 0 => {}
                    Some(Helpers::Unreliable) if n % 3 == 0 => {
                        self.cmds.push_back(Cmd::ChunkDone(Box::new(ChunkResult {
                            job: task.job,
                            split: task.split,
                            task: task.task,
                            parts: Err("refused".into()),
                        })))
                    }
                    _ => self.cmds.push_back(Cmd::ChunkDone(Box::new(self.helper.compute(&task)))),
                }
            }
            out => self.out.push(out),
        }
    }
    async fn yield_now(&mut self) -> Option<Option<Cmd>> {
        self.cmds.pop_front().map(|c| Some(over_the_wire(c)))
    }
    async fn idle(&mut self, ms: f64) -> Option<Option<Cmd>> {
        self.clock.set(self.clock.get() + ms);
        self.cmds.pop_front().map(|c| Some(over_the_wire(c)))
    }
    async fn wait(&mut self) -> Option<Cmd> {
        self.cmds.pop_front().map(over_the_wire)
    }
    fn now_ms(&self) -> f64 {
        let t = self.clock.get() + 1.0;
        self.clock.set(t);
        t
    }
}

/// A paused job at 16 stochastic units (2^16 joint states: large enough to split).
fn spec() -> JobSpec {
    let mut s = State::new(Page::default()).job_spec();
    s.settings.widths = vec![8, 8];
    s.settings.inputs = 3;
    s.settings.weight_scale = 1.0;
    s.settings.bias_spread = 1.0;
    s.estimators = ["reinforce", "reinforce-optimal", "st", "darn"].iter().map(|k| k.to_string()).collect();
    s.playing = false;
    s.sweeps = false;
    s
}

fn run(helpers: Option<Helpers>) -> (Vec<Out>, u64, usize) {
    let mut cmds = VecDeque::new();
    if helpers.is_some() {
        cmds.push_back(Cmd::Helpers(1));
    }
    cmds.push_back(Cmd::Start(Box::new(spec())));
    let mut pool = Pool {
        cmds,
        helpers,
        helper: Helper::default(),
        delegated: 0,
        splits: Default::default(),
        clock: Cell::new(0.0),
        out: Vec::new(),
    };
    futures::executor::block_on(serve(&mut pool));
    (pool.out, pool.delegated, pool.splits.len())
}

fn exact_answers(out: &[Out]) -> Vec<Out> {
    out.iter().filter(|o| matches!(o, Out::Exact { .. } | Out::EstimatorExact { .. })).cloned().collect()
}

#[test]
fn split_jobs_equal_one_worker_bit_for_bit() {
    const { assert!(1u64 << 16 >= MIN_SPLIT_ITEMS) };
    let (one, none, _) = run(None);
    assert_eq!(none, 0, "no helpers, nothing delegated");
    let (split, delegated, splits) = run(Some(Helpers::Answer));
    assert_eq!(splits, 4, "every estimator's job was split ({delegated} tasks delegated)");
    let (a, b) = (exact_answers(&one), exact_answers(&split));
    assert_eq!(a.len(), 5);
    // `millis` of the exact answer is a time; everything else must be equal.
    let strip = |v: Vec<Out>| -> Vec<Out> {
        v.into_iter()
            .map(|o| match o {
                Out::Exact { id, expected_loss, gradient, param_names, .. } => {
                    Out::Exact { id, expected_loss, gradient, param_names, millis: 0.0 }
                }
                o => o,
            })
            .collect()
    };
    assert_eq!(strip(a), strip(b));
}

#[test]
fn refused_and_lost_tasks_are_taken_over() {
    const { assert!(TAKEOVER_MS > 0.0) };
    let (one, _, _) = run(None);
    let (split, delegated, _) = run(Some(Helpers::Unreliable));
    assert!(delegated >= 5);
    let a: Vec<_> = exact_answers(&one).into_iter().filter(|o| matches!(o, Out::EstimatorExact { .. })).collect();
    let b: Vec<_> = exact_answers(&split).into_iter().filter(|o| matches!(o, Out::EstimatorExact { .. })).collect();
    assert_eq!(a, b);
}
