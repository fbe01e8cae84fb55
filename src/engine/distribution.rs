//! The distribution of one parameter's estimate by each selected estimator (its own worker,
//! `side.rs`): `stochgrad_core::distribution`, exact where the moments are exact by enumeration,
//! else a histogram of [`DIST_SAMPLES`] Monte-Carlo draws; one message per estimator, then wait.

use super::{wait_apply, Port, Stop};
use crate::port::Control;
use crate::protocol::{DistSpec, DistView, Out};
use stochgrad_core::distribution::{distribution, Distribution, Shape};
use stochgrad_core::estimators::find;
use stochgrad_core::exact::solve;
use stochgrad_core::moments::{MethodChoice, Request};

/// Monte-Carlo draws of a histogram.
pub const DIST_SAMPLES: u64 = 20_000;

/// Compute every estimator's distribution, then wait.
pub async fn run_distribution<P: Port>(spec: DistSpec, port: &mut P) -> Stop {
    let mut ctl = Control::new(spec.id, true, 0, port);
    if let Err(stop) = run_inner(&spec, &mut ctl, port).await {
        return stop;
    }
    loop {
        if let Err(stop) = wait_apply(&mut ctl, port).await {
            return stop;
        }
    }
}

/// A core distribution as the page's message.
pub fn view(d: &Distribution) -> DistView {
    let mut v = DistView {
        method: d.method.key().to_string(),
        values: Vec::new(),
        probabilities: Vec::new(),
        pieces: Vec::new(),
        edges: Vec::new(),
        counts: Vec::new(),
        samples: 0,
        mean: d.mean,
        variance: d.variance,
        exact_gradient: d.exact_gradient,
    };
    match &d.shape {
        Shape::Exact { values, probabilities, pieces } => {
            v.values = values.clone();
            v.probabilities = probabilities.clone();
            v.pieces = pieces.iter().map(|p| (p.from, p.to, p.probability)).collect();
        }
        Shape::MonteCarlo { samples, edges, counts, .. } => {
            v.edges = edges.clone();
            v.counts = counts.clone();
            v.samples = *samples;
        }
    }
    v
}

async fn run_inner<P: Port>(spec: &DistSpec, ctl: &mut Control, port: &mut P) -> Result<(), Stop> {
    let id = spec.id;
    let mut settings = spec.settings.clone();
    let _ = settings.sanitize();
    let model = settings.to_model();
    let sol = solve(&model);
    let param = spec.param.min(model.num_params().saturating_sub(1));
    for key in &spec.estimators {
        let Some(est) = find(key) else { continue };
        let req = Request { hp: spec.hp_for(key), method: MethodChoice::Auto, samples: DIST_SAMPLES, seed: spec.seed };
        let result = match &sol {
            Err(e) => Err(e.to_string()),
            Ok(sol) => distribution(&model, sol, est, param, &req, &mut |_, _| true)
                .map(|d| Box::new(view(&d)))
                .map_err(|e| e.to_string()),
        };
        port.send(Out::Distribution { id, key: key.clone(), result }).await;
        ctl.force_yield(port).await?;
    }
    Ok(())
}
