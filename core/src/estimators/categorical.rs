//! The estimators' categorical forms: what each estimator computes on a network with categorical
//! layers (K-way units, [`crate::categorical`]), behind the same keys. [`super::registry`] routes a
//! model with a categorical layer here ([`Routed`]); the binary files stay the fast path.
//!
//! An estimator without a categorical form here answers "not applicable: binary units only".

use super::{Estimator, ExactJob, HyperParams, Meta, Plan, Sampler};
use crate::error::{Error, Reason, Result};
use crate::model::{Model, UnitKind};
use crate::solution::ExactSolution;

/// The keys that have a categorical form.
pub const KEYS: &[&str] = &[];

/// Whether `meta`'s estimator applies to `model`, which has a categorical layer.
pub fn check(meta: &Meta, model: &Model) -> Result<()> {
    if KEYS.contains(&meta.key) {
        return Ok(());
    }
    let layer = model.layers.iter().position(|l| matches!(l.unit, UnitKind::Categorical { .. })).unwrap_or(0) + 1;
    Err(Error::NotApplicable(Reason::BinaryUnitsOnly { estimator: meta.key.into(), layer }))
}

fn not_applicable(meta: &Meta, model: &Model) -> Error {
    check(meta, model).err().unwrap_or_else(|| {
        Error::NotApplicable(Reason::MonteCarloOnly(format!("{}: the categorical form is not built yet", meta.key)))
    })
}

/// Loss evaluations per estimate.
pub fn loss_evaluations(_meta: &Meta, _model: &Model, _hp: &HyperParams) -> f64 {
    1.0
}

/// How the moments are obtained.
pub fn plan(_meta: &Meta, _model: &Model, _hp: &HyperParams) -> Plan {
    Plan { method: crate::stats::Method::MonteCarlo, note: None }
}

/// The exact job of the categorical form.
pub fn exact_job<'a>(
    meta: &'static Meta,
    model: &'a Model,
    _hp: &'a HyperParams,
    _sol: &'a ExactSolution,
) -> Result<Box<dyn ExactJob + 'a>> {
    Err(not_applicable(meta, model))
}

/// A sampler of the categorical form.
pub fn sampler<'a>(
    meta: &'static Meta,
    model: &'a Model,
    _hp: &'a HyperParams,
    _sol: &'a ExactSolution,
) -> Result<Box<dyn Sampler + 'a>> {
    Err(not_applicable(meta, model))
}

/// A registry entry: the estimator itself on networks without categorical layers, its categorical
/// form (this file) on networks with one.
pub struct Routed(pub &'static dyn Estimator);

impl Estimator for Routed {
    fn meta(&self) -> &'static Meta {
        self.0.meta()
    }
    fn check(&self, model: &Model) -> Result<()> {
        self.0.check(model)
    }
    fn loss_evaluations(&self, model: &Model, hp: &HyperParams) -> f64 {
        if model.has_categorical() {
            loss_evaluations(self.0.meta(), model, hp)
        } else {
            self.0.loss_evaluations(model, hp)
        }
    }
    fn plan(&self, model: &Model, hp: &HyperParams) -> Plan {
        if model.has_categorical() {
            plan(self.0.meta(), model, hp)
        } else {
            self.0.plan(model, hp)
        }
    }
    fn exact_job<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        sol: &'a ExactSolution,
    ) -> Result<Box<dyn ExactJob + 'a>> {
        if model.has_categorical() {
            exact_job(self.0.meta(), model, hp, sol)
        } else {
            self.0.exact_job(model, hp, sol)
        }
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        sol: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        if model.has_categorical() {
            sampler(self.0.meta(), model, hp, sol)
        } else {
            self.0.sampler(model, hp, sol)
        }
    }
    fn own_objective(&self, model: &Model, hp: &HyperParams) -> Option<Result<crate::units::Objective>> {
        if model.has_categorical() {
            None
        } else {
            self.0.own_objective(model, hp)
        }
    }
}
