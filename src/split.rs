//! The largest exact computations split across workers: the main worker hands out tasks of a few
//! [`EXACT_CHUNK`]-item chunks of an estimator's exact job to the pool's helper workers (through the
//! page, see `pool.rs`), computes tasks itself meanwhile, and merges every chunk in chunk order — so
//! the answer is bit for bit that of one worker (`tests/engine.rs` checks it). Only summaries cross
//! the worker boundary: one `Weighted` accumulator per chunk.
//!
//! A helper rebuilds the job from the task (settings → model → exact solution → the estimator's
//! job), keeping the last model and solution, so the settings cross the boundary rather than the
//! job. A task lost or refused by a helper is computed by the main worker after [`TAKEOVER_MS`].

use crate::port::{Control, Port, Stop, PROGRESS_MS};
use crate::protocol::{ChunkResult, ChunkTask, Out};
use std::collections::BTreeMap;
use stochgrad_core::estimators::{find, ExactJob, HyperParams, EXACT_CHUNK};
use stochgrad_core::exact::{solve, ExactSolution};
use stochgrad_core::settings::Settings;
use stochgrad_core::stats::Weighted;
use stochgrad_core::Model;

/// Chunks per task (a task is some 20 ms of work at the enumeration limit: long enough that the
/// two relays through the page's main thread per task cost it little, short enough to balance the
/// load: 32 tasks per estimator at 20 units).
pub const TASK_CHUNKS: u64 = 8;
/// Jobs smaller than this many items run in the main worker alone (they take a few milliseconds).
pub const MIN_SPLIT_ITEMS: u64 = 16 * EXACT_CHUNK;
/// Tasks handed to each helper ahead of its answers (enough to cover a round trip through the page).
pub const IN_FLIGHT: usize = 2;
/// A task a helper has not answered for this long is computed by the main worker.
pub const TAKEOVER_MS: f64 = 3000.0;

/// What a helper needs to rebuild an exact job.
#[derive(Clone, Copy)]
pub struct Delegation<'a> {
    pub settings: &'a Settings,
    pub key: &'a str,
    pub hp: HyperParams,
}

/// Whether a job is worth splitting over `helpers` helpers.
pub fn worth_splitting(job: &dyn ExactJob, helpers: u32) -> bool {
    helpers > 0 && job.total() >= MIN_SPLIT_ITEMS
}

/// Run `job` split across the main worker and `ctl.helpers` helpers; the same result as one worker.
pub(crate) async fn run_split<P: Port>(
    job: &dyn ExactJob,
    ctl: &mut Control,
    port: &mut P,
    phase: Option<&str>,
    deleg: Delegation<'_>,
) -> Result<(Vec<f64>, Vec<f64>), Stop> {
    let total = job.total();
    let chunks = total.div_ceil(EXACT_CHUNK);
    let tasks = chunks.div_ceil(TASK_CHUNKS);
    let split = ctl.next_split();
    let job_id = ctl.id;
    let task_of = |t: u64| {
        let first_chunk = t * TASK_CHUNKS;
        ChunkTask {
            job: job_id,
            split,
            task: t,
            settings: deleg.settings.clone(),
            key: deleg.key.to_string(),
            hp: deleg.hp,
            first_chunk,
            chunks: TASK_CHUNKS.min(chunks - first_chunk),
        }
    };
    let mut parts: Vec<Option<Weighted>> = vec![None; chunks as usize];
    // Handed to helpers and not answered yet: task → when.
    let mut outstanding: BTreeMap<u64, f64> = BTreeMap::new();
    let mut refused: Vec<u64> = Vec::new();
    let mut next = 0u64;
    let mut done = 0u64;
    // The task being computed here, and its next chunk.
    let mut local: Option<u64> = None;
    let mut local_chunk = 0u64;
    let mut last_progress = port.now_ms();
    let capacity = IN_FLIGHT * ctl.helpers as usize;
    while done < tasks {
        // Take in the helpers' answers.
        for r in std::mem::take(&mut ctl.inbox) {
            if r.job != ctl.id || r.split != split || outstanding.remove(&r.task).is_none() {
                continue;
            }
            let first = (r.task * TASK_CHUNKS) as usize;
            match r.parts {
                Ok(ps) if ps.len() as u64 == task_of(r.task).chunks && ps.iter().all(|p| p.mean.len() == job.dim()) => {
                    for (i, p) in ps.into_iter().enumerate() {
                        parts[first + i] = Some(p);
                    }
                    done += 1;
                }
                _ => refused.push(r.task),
            }
        }
        if done == tasks {
            break;
        }
        // Keep every helper busy.
        while outstanding.len() < capacity && next < tasks {
            port.send(Out::Delegate(Box::new(task_of(next)))).await;
            outstanding.insert(next, port.now_ms());
            next += 1;
        }
        // Compute here, one chunk at a time (between chunks: yield, take in answers, top up): a
        // refused task, else the next, else one a helper has sat on too long.
        if local.is_none() {
            let now = port.now_ms();
            local = refused.pop().or_else(|| {
                (next < tasks).then(|| {
                    next += 1;
                    next - 1
                })
            });
            if local.is_none() {
                let late = outstanding.iter().find(|(_, &sent)| now - sent > TAKEOVER_MS).map(|(&t, _)| t);
                local = late.inspect(|t| {
                    outstanding.remove(t);
                });
            }
            local_chunk = local.map_or(0, |t| task_of(t).first_chunk);
        }
        if let Some(t) = local {
            let task = task_of(t);
            let start = local_chunk * EXACT_CHUNK;
            parts[local_chunk as usize] = Some(job.run(start..(start + EXACT_CHUNK).min(total)));
            local_chunk += 1;
            if local_chunk == task.first_chunk + task.chunks {
                done += 1;
                local = None;
            }
            ctl.yield_now(port).await?;
        } else {
            // Everything is handed out: wait for answers.
            match port.idle(20.0).await {
                None => {}
                Some(None) => return Err(Stop::Closed),
                Some(Some(cmd)) => ctl.apply(cmd, port).await?,
            }
            ctl.touch(port);
        }
        if let Some(phase) = phase {
            if port.now_ms() - last_progress > PROGRESS_MS {
                last_progress = port.now_ms();
                let items = (parts.iter().filter(|p| p.is_some()).count() as u64 * EXACT_CHUNK).min(total);
                port.send(Out::Progress { id: ctl.id, phase: phase.to_string(), done: items, total }).await;
            }
        }
    }
    let mut acc = Weighted::new(job.dim());
    for p in parts.iter().flatten() {
        acc.merge(p);
    }
    Ok(job.finish(&acc))
}

/// A helper's memory of the last model it rebuilt.
#[derive(Default)]
pub struct Helper {
    last: Option<(Settings, Model, ExactSolution)>,
}

impl Helper {
    /// Compute a task's chunks.
    pub fn compute(&mut self, task: &ChunkTask) -> ChunkResult {
        let parts = self.parts(task);
        ChunkResult { job: task.job, split: task.split, task: task.task, parts }
    }

    fn parts(&mut self, task: &ChunkTask) -> Result<Vec<Weighted>, String> {
        if self.last.as_ref().is_none_or(|(s, _, _)| *s != task.settings) {
            let model = task.settings.to_model();
            let sol = solve(&model).map_err(|e| e.to_string())?;
            self.last = Some((task.settings.clone(), model, sol));
        }
        let (_, model, sol) = self.last.as_ref().expect("just set");
        let est = find(&task.key).ok_or_else(|| format!("unknown estimator {}", task.key))?;
        let job = est.exact_job(model, &task.hp, sol).map_err(|e| e.to_string())?;
        let total = job.total();
        Ok((task.first_chunk..task.first_chunk + task.chunks)
            .map(|c| {
                let start = c * EXACT_CHUNK;
                job.run(start.min(total)..(start + EXACT_CHUNK).min(total))
            })
            .collect())
    }
}
