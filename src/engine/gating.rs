//! The gating miniature (its own worker, `side.rs`): every gate type trained in chunks with
//! progress, then evaluated exactly.

use super::{wait_apply, Port, Stop, PROGRESS_MS};
use crate::port::Control;
use crate::protocol::{GatingSpec, Out};
use stochgrad_core::gating::{Task, Trainer};

/// Gating: training steps between two yields.
pub const GATING_CHUNK: u64 = 25;

/// Train and evaluate every gate type of a gating run, with progress; then wait.
pub async fn run_gating<P: Port>(spec: GatingSpec, port: &mut P) -> Stop {
    let mut ctl = Control::new(spec.id, true, 0, port);
    let result = run_gating_inner(&spec, &mut ctl, port).await;
    let result = match result {
        Ok(()) => loop {
            if let Err(stop) = wait_apply(&mut ctl, port).await {
                break stop;
            }
        },
        Err(stop) => stop,
    };
    result
}

async fn run_gating_inner<P: Port>(spec: &GatingSpec, ctl: &mut Control, port: &mut P) -> Result<(), Stop> {
    let id = spec.id;
    let fail = |message: String| Out::GatingFailed { id, message };
    let task = match spec.config.validate().and_then(|()| Task::new(&spec.config)) {
        Ok(t) => t,
        Err(e) => {
            port.send(fail(e.to_string())).await;
            return Ok(());
        }
    };
    let steps = spec.config.steps;
    let total = steps * spec.gates.len() as u64;
    let mut last_progress = f64::NEG_INFINITY;
    for (g, gate) in spec.gates.iter().enumerate() {
        let mut trainer = match Trainer::new(&task, gate) {
            Ok(t) => t,
            Err(e) => {
                port.send(fail(format!("{gate}: {e}"))).await;
                return Ok(());
            }
        };
        while trainer.steps() < steps {
            // At each gate type's start, then at most every PROGRESS_MS.
            if trainer.steps() == 0 || port.now_ms() - last_progress > PROGRESS_MS {
                last_progress = port.now_ms();
                let done = g as u64 * steps + trainer.steps();
                port.send(Out::GatingProgress { id, gate: gate.clone(), done, total }).await;
            }
            if let Err(e) = trainer.train(&task, GATING_CHUNK.min(steps - trainer.steps())) {
                port.send(fail(format!("{gate}: {e}"))).await;
                return Ok(());
            }
            ctl.checkpoint(port).await?;
        }
        let row = trainer.evaluate(&task);
        let all = [row.test_loss, row.test_error, row.deterministic_error, row.train_loss, row.gate_rate];
        if all.iter().any(|v| !v.is_finite()) {
            port.send(fail(format!("{gate}: a held-out figure overflowed"))).await;
            return Ok(());
        }
        port.send(Out::GatingRow { id, row: Box::new(row) }).await;
        ctl.force_yield(port).await?;
    }
    port.send(Out::GatingDone { id }).await;
    Ok(())
}
