//! Derivatives with respect to the firing probability `p = σ(a)` instead of the logit — the
//! convention of the REBAR and RELAX papers' toy, where the gradient is `1 − 2t` — as a display
//! choice for a network whose only parameter is one unit's logit (one unit, no inputs). Every
//! derivative is the logit's divided by `σ′(a)`, every squared figure by `σ′(a)²`; the cosine and
//! the loss evaluations are unchanged. The worker computes w.r.t. the logit as always;
//! [`State::shown`] is the state the views draw, and the CLI's `--wrt p` gives the same numbers.

use crate::protocol::{Fig, MomentsView, SweepKind, SweepPoint};
use crate::state::{HistPoint, State};
use std::borrow::Cow;
use std::rc::Rc;
use stochgrad_core::math;

/// `p = σ(a)` of the network's one logit and `σ′(a) = σ(a)σ(−a)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PerP {
    pub p: f64,
    pub slope: f64,
}

impl PerP {
    /// For the logit `a`; `None` where `σ′(a)` underflows.
    pub fn at(a: f64) -> Option<PerP> {
        let slope = math::sigmoid(a) * math::sigmoid(-a);
        (slope > 0.0).then(|| PerP { p: math::sigmoid(a), slope })
    }
    fn d(&self, x: f64) -> f64 {
        x / self.slope
    }
    fn sq(&self, f: Fig) -> Fig {
        let s2 = self.slope * self.slope;
        Fig { value: f.value / s2, stderr: f.stderr.map(|s| s / s2) }
    }
    fn view(&self, v: &MomentsView) -> MomentsView {
        let s2 = self.slope * self.slope;
        MomentsView {
            mean: v.mean.iter().map(|x| self.d(*x)).collect(),
            variance: v.variance.iter().map(|x| x / s2).collect(),
            stderr: v.stderr.as_ref().map(|se| se.iter().map(|x| self.d(*x)).collect()),
            bias_sq: self.sq(v.bias_sq),
            variance_trace: self.sq(v.variance_trace),
            mse: self.sq(v.mse),
            variance_x_evals: self.sq(v.variance_x_evals),
            reference: v.reference.as_ref().map(|r| r.iter().map(|x| self.d(*x)).collect()),
            ..v.clone()
        }
    }
}

impl State {
    /// Whether the network's only parameter is one unit's logit (one unit, no inputs), so that
    /// "with respect to p" can be offered.
    pub fn single_logit(&self) -> bool {
        self.page.model.widths == [1]
            && self.page.model.inputs == 0
            && self.page.model.unit == stochgrad_core::settings::UnitChoice::Binary
    }

    /// The conversion to derivatives w.r.t. p, when the page asks for it and it applies.
    pub fn per_p(&self) -> Option<PerP> {
        if !(self.page.wrt_p && self.single_logit()) {
            return None;
        }
        // The logit is the unit's bias (the logit setting plus the seed's spread, if any).
        PerP::at(*self.page.model.to_model().layers[0].bias.first()?)
    }

    /// What the derivatives are taken with respect to, for axis titles: `p` or `θ`.
    pub fn wrt_symbol(&self) -> &'static str {
        if self.per_p().is_some() {
            "p"
        } else {
            "θ"
        }
    }

    /// The state the views draw: itself, or with every derivative w.r.t. p ([`State::per_p`]).
    /// The width sweep (other networks) is left w.r.t. the parameters.
    pub fn shown(&self) -> Cow<'_, State> {
        let Some(pp) = self.per_p() else { return Cow::Borrowed(self) };
        let mut s = self.clone();
        if let Some(e) = s.exact.as_mut() {
            e.gradient = e.gradient.iter().map(|g| pp.d(*g)).collect();
            e.names = Rc::new(vec!["p".to_string(); e.gradient.len()]);
        }
        for key in self.page.estimators.iter() {
            if let Some(row) = s.rows.get_mut(key) {
                row.exact = row.exact.as_ref().map(|v| pp.view(v));
                row.mc = row.mc.as_ref().map(|v| pp.view(v));
                row.history = Rc::new(
                    row.history
                        .iter()
                        .map(|h| HistPoint {
                            n: h.n,
                            mean: h.mean.iter().map(|x| pp.d(*x)).collect(),
                            stderr: h.stderr.iter().map(|x| pp.d(*x)).collect(),
                        })
                        .collect(),
                );
            }
        }
        for (kind, _, points) in s.sweeps.iter_mut() {
            if *kind == SweepKind::Tau {
                *points = points
                    .iter()
                    .map(|p| SweepPoint {
                        bias_sq: pp.sq(p.bias_sq),
                        variance_trace: pp.sq(p.variance_trace),
                        ..p.clone()
                    })
                    .collect();
            }
        }
        Cow::Owned(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::MomentsView;
    use crate::state::{ExactView, Row};

    fn fig(v: f64, se: Option<f64>) -> Fig {
        Fig { value: v, stderr: se }
    }

    /// The default toy (a = −1) with one exact row, one Monte-Carlo row and a τ-sweep point.
    fn state(wrt_p: bool) -> State {
        let mut s = State::default();
        s.page.wrt_p = wrt_p;
        s.exact = Some(ExactView {
            expected_loss: 0.23,
            gradient: vec![0.02],
            names: Rc::new(vec!["c1[0]".into()]),
            millis: 1.0,
        });
        let view = MomentsView {
            method: "monte-carlo".into(),
            mean: vec![-0.36],
            variance: vec![0.8],
            stderr: Some(vec![0.01]),
            samples: Some(1000),
            bias_sq: fig(0.14, Some(0.001)),
            variance_trace: fig(0.8, Some(0.02)),
            mse: fig(0.94, Some(0.02)),
            cosine: Some(fig(-1.0, None)),
            loss_evaluations: 1.0,
            variance_x_evals: fig(0.8, Some(0.02)),
            notes: vec![],
            reference: None,
        };
        let mut row = Row { mc: Some(view.clone()), ..Row::default() };
        row.history = Rc::new(vec![HistPoint { n: 256, mean: vec![-0.3], stderr: vec![0.05] }]);
        s.rows.insert("st".into(), row);
        s.sweeps.push((
            SweepKind::Tau,
            "st".into(),
            vec![SweepPoint {
                x: 0.5,
                method: "exact".into(),
                bias_sq: fig(0.1, None),
                variance_trace: fig(0.2, None),
            }],
        ));
        s.sweeps.push((
            SweepKind::Width,
            "st".into(),
            vec![SweepPoint {
                x: 2.0,
                method: "exact".into(),
                bias_sq: fig(0.1, None),
                variance_trace: fig(0.2, None),
            }],
        ));
        s
    }

    #[test]
    fn derivatives_with_respect_to_p_divide_by_the_slope() {
        // Off: the state itself.
        assert!(matches!(state(false).shown(), Cow::Borrowed(_)));
        let s = state(true);
        let pp = s.per_p().expect("one unit without inputs");
        let slope = sigmoid_slope(-1.0);
        assert_eq!((pp.p, pp.slope), (math::sigmoid(-1.0), slope));
        let shown = s.shown();
        let e = shown.exact.as_ref().unwrap();
        assert_eq!(e.gradient, vec![0.02 / slope]);
        assert_eq!(e.names[0], "p");
        let v = shown.rows.get("st").unwrap().mc.as_ref().unwrap();
        assert_eq!(v.mean, vec![-0.36 / slope]);
        assert_eq!(v.variance, vec![0.8 / (slope * slope)]);
        assert_eq!(v.stderr, Some(vec![0.01 / slope]));
        assert_eq!(v.bias_sq, fig(0.14 / (slope * slope), Some(0.001 / (slope * slope))));
        assert_eq!(v.cosine, Some(fig(-1.0, None)), "the cosine does not change");
        assert_eq!(v.loss_evaluations, 1.0);
        let h = &shown.rows.get("st").unwrap().history[0];
        assert_eq!((h.mean[0], h.stderr[0]), (-0.3 / slope, 0.05 / slope));
        assert_eq!(shown.sweeps[0].2[0].bias_sq.value, 0.1 / (slope * slope));
        assert_eq!(shown.sweeps[1].2[0].bias_sq.value, 0.1, "the width sweep stays w.r.t. θ");
        assert_eq!(shown.wrt_symbol(), "p");
        // It applies only to a network whose only parameter is one logit.
        let mut s = state(true);
        s.page.model.inputs = 2;
        assert!(s.per_p().is_none() && matches!(s.shown(), Cow::Borrowed(_)));
        assert_eq!(s.wrt_symbol(), "θ");
    }

    fn sigmoid_slope(a: f64) -> f64 {
        math::sigmoid(a) * math::sigmoid(-a)
    }
}
