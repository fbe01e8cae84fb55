//! The readout table as CSV (one row per selected estimator), for the "CSV" button beside it.

use crate::plots::{csv_text, num, opt};
use crate::protocol::Fig;
use crate::state::State;
use stochgrad_core::estimators::find_meta;

const HEADER: [&str; 18] = [
    "estimator",
    "name",
    "unbiased",
    "method",
    "samples",
    "expected_loss",
    "gradient_norm",
    "bias_sq",
    "bias_sq_stderr",
    "variance_trace",
    "variance_trace_stderr",
    "mse",
    "mse_stderr",
    "cosine",
    "cosine_stderr",
    "loss_evaluations",
    "variance_x_evals",
    "note",
];

/// The table's figures: exact where available, else Monte Carlo (with standard errors).
pub fn readout_csv(state: &State) -> String {
    let (ef, gn) = state.exact.as_ref().map_or((None, None), |e| (Some(e.expected_loss), Some(e.gradient_norm())));
    let rows: Vec<Vec<String>> = state
        .page
        .estimators
        .iter()
        .filter_map(|key| {
            let meta = find_meta(key)?;
            let row = state.rows.get(key).cloned().unwrap_or_default();
            let mut cells = vec![key.clone(), meta.name.to_string(), meta.unbiased.to_string()];
            let pair = |f: &Fig| [num(f.value), opt(f.stderr)];
            match row.best() {
                Some(v) => {
                    cells.push(v.method.clone());
                    cells.push(v.samples.map_or(String::new(), |n| n.to_string()));
                    cells.push(opt(ef));
                    cells.push(opt(gn));
                    cells.extend(pair(&v.bias_sq));
                    cells.extend(pair(&v.variance_trace));
                    cells.extend(pair(&v.mse));
                    match &v.cosine {
                        Some(c) => cells.extend(pair(c)),
                        None => cells.extend([String::new(), String::new()]),
                    }
                    cells.push(num(v.loss_evaluations));
                    cells.push(num(v.variance_x_evals.value));
                    let own =
                        v.reference.is_some().then(|| "compared with its own objective (a different unit)".to_string());
                    let notes: Vec<String> = own.into_iter().chain(row.mc_only.clone()).collect();
                    cells.push(notes.join("; "));
                }
                None => {
                    cells.push(String::new());
                    cells.push(String::new());
                    cells.push(opt(ef));
                    cells.push(opt(gn));
                    cells.extend(std::iter::repeat_n(String::new(), 10));
                    let why = row.not_applicable.as_ref().map(|r| r.to_string()).or(row.mc_only.clone());
                    cells.push(why.unwrap_or_else(|| "pending".into()));
                }
            }
            Some(cells)
        })
        .collect();
    csv_text(&HEADER, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{MomentsView, Out};
    use crate::state::Action;

    #[test]
    fn one_row_per_estimator_with_a_header() {
        let mut s = State::default();
        let id = s.job_id;
        s = s.reduce(Action::Worker(Box::new(Out::Exact {
            id,
            expected_loss: 0.23,
            gradient: vec![0.02],
            param_names: vec!["c1[0]".into()],
            millis: 1.0,
        })));
        let fig = |v| Fig { value: v, stderr: None };
        let view = MomentsView {
            method: "exact".into(),
            mean: vec![0.02],
            variance: vec![0.015],
            stderr: None,
            samples: None,
            bias_sq: fig(0.0),
            variance_trace: fig(0.015),
            mse: fig(0.015),
            cosine: Some(fig(1.0)),
            loss_evaluations: 1.0,
            variance_x_evals: fig(0.015),
            notes: vec![],
            reference: None,
        };
        s = s.reduce(Action::Worker(Box::new(Out::EstimatorExact {
            id,
            key: "reinforce".into(),
            result: Ok(view),
            note: None,
        })));
        let csv = readout_csv(&s);
        let lines: Vec<&str> = csv.trim_end().lines().collect();
        assert_eq!(lines[0], HEADER.join(","));
        assert_eq!(lines.len(), 1 + s.page.estimators.len());
        assert!(lines[1].starts_with("reinforce,"));
        assert!(lines[1].contains(",exact,"));
        // Every row has every column (names with commas are quoted).
        let fields = |l: &str| {
            let mut n = 1;
            let mut quoted = false;
            for c in l.chars() {
                match c {
                    '"' => quoted = !quoted,
                    ',' if !quoted => n += 1,
                    _ => {}
                }
            }
            n
        };
        for l in &lines {
            assert_eq!(fields(l), HEADER.len(), "{l}");
        }
    }
}
