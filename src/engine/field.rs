//! The gradient field (its own worker, `side.rs`): the grid a row at a time
//! (`stochgrad_core::field::Field::row`, each row sent as it is done, so the page draws it at once),
//! then exact descent's trajectory and each estimator's.

use super::{wait_apply, Port, Stop};
use crate::port::Control;
use crate::protocol::{FieldSpec, Out};
use stochgrad_core::field::{Axis, Field, Spec};
use stochgrad_core::Result as CoreResult;

/// The core field of a page spec (the model built from the settings exactly as the page's "Export
/// model" does, so `stochgrad field` on the exported MODEL.json computes the same numbers).
pub fn field_of(spec: &FieldSpec) -> CoreResult<Field> {
    let mut settings = spec.settings.clone();
    let _ = settings.sanitize();
    let model = settings.to_model();
    let (x, y) = (stochgrad_core::params::find(&model, &spec.x)?, stochgrad_core::params::find(&model, &spec.y)?);
    let mut s = Spec::new(&model, x, y);
    if let Some([x0, x1, y0, y1]) = spec.range {
        s.x = Axis { index: x, lo: x0, hi: x1 };
        s.y = Axis { index: y, lo: y0, hi: y1 };
    }
    s.grid = spec.grid;
    s.estimators = spec.estimators.clone();
    s.hp = spec.hp;
    s.seed = spec.seed;
    s.steps = spec.steps;
    s.lr = spec.lr;
    s.optimizer = spec.optimizer;
    Field::new(&model, s)
}

/// Compute one field, row by row, then wait for the next command.
pub async fn run_field<P: Port>(spec: FieldSpec, port: &mut P) -> Stop {
    let mut ctl = Control::new(spec.id, true, 0, port);
    match run_field_inner(&spec, &mut ctl, port).await {
        Ok(()) => loop {
            if let Err(stop) = wait_apply(&mut ctl, port).await {
                break stop;
            }
        },
        Err(stop) => stop,
    }
}

async fn run_field_inner<P: Port>(spec: &FieldSpec, ctl: &mut Control, port: &mut P) -> Result<(), Stop> {
    let id = spec.id;
    let field = match field_of(spec) {
        Ok(f) => f,
        Err(e) => {
            port.send(Out::FieldFailed { id, message: e.to_string() }).await;
            return Ok(());
        }
    };
    let (xs, ys) = (field.xs(), field.ys());
    port.send(Out::FieldStart { id, xs, ys, estimators: field.estimators().to_vec() }).await;
    for j in 0..field.spec().grid {
        match field.row(j) {
            Ok(points) => port.send(Out::FieldRow { id, j, points }).await,
            Err(e) => {
                port.send(Out::FieldFailed { id, message: e.to_string() }).await;
                return Ok(());
            }
        }
        ctl.force_yield(port).await?;
    }
    if field.spec().steps > 0 {
        let mut keys = vec!["exact".to_string()];
        keys.extend(field.estimators().iter().filter(|e| e.skipped.is_none()).map(|e| e.key.clone()));
        for key in keys {
            match field.trajectory(&key) {
                Ok(trajectory) => port.send(Out::FieldTrajectory { id, trajectory }).await,
                Err(e) => {
                    port.send(Out::FieldFailed { id, message: format!("{key}'s trajectory: {e}") }).await;
                    return Ok(());
                }
            }
            ctl.force_yield(port).await?;
        }
    }
    port.send(Out::FieldDone { id }).await;
    Ok(())
}
