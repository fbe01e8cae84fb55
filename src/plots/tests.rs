//! Native tests: every plot rendered to SVG from hand-built states, including degenerate ones.
//! Set `PLOTS_DUMP=/some/dir` to keep the rendered SVGs for a look.

#![allow(clippy::field_reassign_with_default)]

use super::kit::{self, Axis, Frame};
use super::simplex::SAMPLES as SIMPLEX_SAMPLES;
use super::*;
use crate::protocol::{Fig, LogitMark, MomentsView, Refusal, SweepKind, SweepPoint};
use crate::state::{ExactView, HistPoint, Row, State};
use std::collections::HashSet;

const W: u32 = 720;
const H: u32 = 440;

fn fig(value: f64, stderr: Option<f64>) -> Fig {
    Fig { value, stderr }
}

fn view(
    method: &str,
    mean: Vec<f64>,
    stderr: Option<Vec<f64>>,
    samples: Option<u64>,
    bias_sq: Fig,
    var: Fig,
) -> MomentsView {
    let n = mean.len();
    MomentsView {
        method: method.into(),
        mean,
        variance: vec![1.0; n],
        stderr,
        samples,
        bias_sq,
        variance_trace: var,
        mse: fig(bias_sq.value + var.value, None),
        cosine: None,
        loss_evaluations: 2.0,
        variance_x_evals: fig(var.value * 2.0, var.stderr.map(|s| s * 2.0)),
        notes: vec![],
        reference: None,
    }
}

/// Log-spaced history converging from `start` to `target` with s.e. `sigma / √n`.
fn history(count: usize, start: f64, target: f64, sigma: f64, dim: usize) -> Vec<HistPoint> {
    (0..count)
        .map(|i| {
            let n = (256.0 * 1.3f64.powi(i as i32)).round() as u64;
            let w = 1.0 / (1.0 + i as f64);
            let m = target + (start - target) * w * if i % 2 == 0 { 1.0 } else { -0.7 };
            HistPoint { n, mean: vec![m; dim], stderr: vec![sigma / (n as f64).sqrt(); dim] }
        })
        .collect()
}

fn sweep_points(xs: &[f64], method: &str, bias: impl Fn(f64) -> f64, var: impl Fn(f64) -> f64) -> Vec<SweepPoint> {
    xs.iter()
        .map(|&x| {
            let se = (method == "monte-carlo").then_some(0.1);
            SweepPoint {
                x,
                method: method.into(),
                bias_sq: fig(bias(x), se.map(|s| s * bias(x).abs())),
                variance_trace: fig(var(x), se.map(|s| s * var(x))),
            }
        })
        .collect()
}

/// A state with everything: exact, quadrature and Monte-Carlo-only estimators, history, sweeps.
/// Selected (default): reinforce, reinforce-optimal, st, st-sigmoid, concrete.
fn full_state() -> State {
    let mut s = State::default();
    let g = vec![0.0196, -0.0123, 0.031];
    s.exact = Some(ExactView {
        expected_loss: 0.2,
        gradient: g.clone(),
        names: vec!["c1[0]".into(), "w2[0,1]".into(), "b2[0]".into()].into(),
        millis: 1.0,
    });
    let shifted = |d: f64| g.iter().map(|v| v + d).collect::<Vec<_>>();
    let mut rows = crate::state::Rows::default();
    rows.insert(
        "reinforce".to_string(),
        Row {
            exact: Some(view("exact", g.clone(), None, None, fig(0.0, None), fig(0.52, None))),
            mc: Some(view(
                "monte-carlo",
                shifted(0.001),
                Some(vec![0.004; 3]),
                Some(25_600),
                fig(1e-5, Some(2e-5)),
                fig(0.5, Some(0.01)),
            )),
            history: history(24, 0.3, 0.0196, 0.7, 3).into(),
            ..Row::default()
        },
    );
    rows.insert(
        "reinforce-optimal".to_string(),
        Row { exact: Some(view("exact", g.clone(), None, None, fig(1e-33, None), fig(0.08, None))), ..Row::default() },
    );
    rows.insert(
        "st".to_string(),
        Row {
            exact: Some(view("exact", shifted(-0.04), None, None, fig(4.8e-3, None), fig(0.003, None))),
            history: history(24, -0.1, -0.0204, 0.05, 3).into(),
            ..Row::default()
        },
    );
    rows.insert(
        "st-sigmoid".to_string(),
        Row {
            mc_only: Some("no exact moments".into()),
            mc: Some(view(
                "monte-carlo",
                shifted(-0.01),
                Some(vec![0.002; 3]),
                Some(25_600),
                fig(-2e-6, Some(3e-6)),
                fig(0.01, Some(4e-4)),
            )),
            history: history(20, 0.05, 0.0096, 0.3, 3).into(),
            ..Row::default()
        },
    );
    rows.insert(
        "concrete".to_string(),
        Row {
            exact: Some(view("quadrature", shifted(0.005), None, None, fig(7.5e-5, None), fig(0.02, None))),
            ..Row::default()
        },
    );
    s.rows = rows;
    let taus = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0];
    s.sweeps.push((
        SweepKind::Tau,
        "concrete".into(),
        sweep_points(&taus, "quadrature", |t| 1e-4 * t * t, |t| 0.02 / t),
    ));
    s.sweeps.push((
        SweepKind::Tau,
        "st-sigmoid".into(),
        sweep_points(&taus, "monte-carlo", |t| 1e-3 * t, |t| 0.01 / t.sqrt()),
    ));
    let widths: Vec<f64> = (1..=12).map(f64::from).collect();
    s.sweeps.push((SweepKind::Width, "reinforce".into(), sweep_points(&widths, "exact", |_| 0.0, |w| 0.5 * w)));
    s.sweeps.push((SweepKind::Width, "st".into(), sweep_points(&widths, "exact", |w| 1e-3 * w * w, |w| 0.003 * w)));
    s.sweeps.push((
        SweepKind::Width,
        "st-sigmoid".into(),
        sweep_points(&widths[6..], "monte-carlo", |w| 1e-4 * w, |w| 0.01 * w),
    ));
    s
}

/// Every number in the geometry attributes of the SVG (not text content).
fn coordinates(svg: &str) -> Vec<f64> {
    let mut out = Vec::new();
    for attr in
        ["x=\"", "y=\"", "x1=\"", "y1=\"", "x2=\"", "y2=\"", "cx=\"", "cy=\"", "points=\"", "width=\"", "height=\""]
    {
        let mut rest = svg;
        while let Some(i) = rest.find(attr) {
            // Only whole attribute names (" x=" not "dx=").
            let ok = i > 0 && rest.as_bytes()[i - 1] == b' ';
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').unwrap_or(0);
            if ok {
                for tok in rest[..end].split([' ', ',']).filter(|t| !t.is_empty()) {
                    out.push(tok.parse::<f64>().unwrap_or_else(|_| panic!("bad coordinate {tok:?} in {attr}")));
                }
            }
            rest = &rest[end..];
        }
    }
    out
}

/// Render with several styles; check that the SVG is sane and return the default-style one.
/// The SVG at a given size (light theme), checked like `render`'s.
fn render_at<D: PlotData>(d: &D, w: u32, h: u32) -> String {
    let svg = to_svg(d, w, h, &Style::default());
    assert!(svg.starts_with("<svg") && !svg.contains("plot error") && !svg.contains("NaN"), "{svg}");
    for c in coordinates(&svg) {
        assert!(c.is_finite() && c >= -2.0 && c <= w.max(h) as f64 + 2.0, "{}: coordinate {c}", d.title());
    }
    svg
}

fn render<D: PlotData>(d: &D) -> String {
    let styles = [
        Style::default(),
        Style { dark: true, ..Style::default() },
        Style { lecture: true, scale: 2.0, ..Style::default() },
    ];
    let mut first = None;
    for (k, st) in styles.iter().enumerate() {
        let scale = if k == 2 { 2 } else { 1 };
        let (w, h) = (W * scale, H * scale);
        let svg = to_svg(d, w, h, st);
        if let Ok(dir) = std::env::var("PLOTS_DUMP") {
            static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let i = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let name = format!("{dir}/{}-{i:03}-{k}.svg", d.file_stem());
            std::fs::write(name, &svg).unwrap();
        }
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(!svg.contains("plot error"), "{}: {svg}", d.title());
        assert!(
            !svg.contains("NaN") && !svg.replace("reinforce", "").contains("inf"),
            "{}: non-finite in SVG",
            d.title()
        );
        for c in coordinates(&svg) {
            assert!(
                c.is_finite() && c >= -2.0 && c <= w.max(h) as f64 + 2.0,
                "{}: coordinate {c} outside the picture",
                d.title()
            );
        }
        if st.dark {
            assert!(svg.contains("#111111"), "dark background");
        }
        first.get_or_insert(svg);
    }
    // Small and tiny canvases must not fail either.
    let lecture = Style { lecture: true, scale: 1.5, dark: true };
    for (w, h) in [(300, 200), (150, 110), (220, 160), (400, 120), (120, 400), (60, 40), (1, 1)] {
        for st in [Style::default(), lecture] {
            let svg = to_svg(d, w, h, &st);
            assert!(!svg.contains("plot error"), "{} at {w}×{h}: {svg}", d.title());
        }
    }
    assert!(!d.describe().is_empty());
    assert!(!d.file_stem().is_empty() && !d.file_stem().contains(['/', ' ', '[']));
    first.unwrap()
}

fn csv_rows(csv: &str) -> Vec<&str> {
    csv.lines().collect()
}

// ---------------------------------------------------------------------------------------------

#[test]
fn looks_are_distinct_for_the_registry() {
    let keys: Vec<&str> = stochgrad_core::estimators::registry().iter().map(|e| e.meta().key).collect();
    let n = keys.len();
    assert_eq!(n, 23);
    let colours: HashSet<(u8, u8, u8)> = keys.iter().map(|k| look(k).color).map(|c| (c.0, c.1, c.2)).collect();
    assert_eq!(colours.len(), n, "{n} distinct colours");
    let css: HashSet<&str> = keys.iter().map(|k| look(k).css).collect();
    assert_eq!(css.len(), n);
    let pairs: HashSet<((u8, u8, u8), Marker)> =
        keys.iter().map(|k| look(k)).map(|l| ((l.color.0, l.color.1, l.color.2), l.marker)).collect();
    assert_eq!(pairs.len(), n);
    for k in &keys {
        let l = look(k);
        assert_eq!(l.css, format!("#{:02X}{:02X}{:02X}", l.color.0, l.color.1, l.color.2), "css matches colour");
        assert!(l.swatch_svg(12).contains(l.css));
    }
    // The default selection has five different shapes.
    let shapes: HashSet<Marker> = crate::state::DEFAULT_ESTIMATORS.iter().map(|k| look(k).marker).collect();
    assert_eq!(shapes.len(), 5);
    // An unknown key does not panic.
    assert_eq!(look("nope").marker, Marker::Circle);
    for m in Marker::ALL {
        assert!(m.outline(5.0).len() >= 3);
    }
}

#[test]
fn convergence_full() {
    let s = full_state();
    let c = Convergence::from_state(&s);
    assert_eq!(c.param_name, "c1[0]");
    assert_eq!(c.file_stem(), "convergence-c1_0");
    // Without history or exact moments (st-sigmoid has history) every selected one has data.
    assert_eq!(c.series.len(), 5);
    let svg = render(&c);
    for text in [
        "samples drawn (log scale)",
        "∂E[f]/∂a (a = c1[0], the logit)",
        "exact ∇",
        "reinforce",
        "st-sigmoid",
        "concrete",
        "Monte Carlo",
    ] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    assert!(!svg.contains("press play"));
    let csv = c.csv();
    let rows = csv_rows(&csv);
    assert_eq!(
        rows[0],
        "estimator,parameter,samples,running_mean,stderr,exact_mean_of_estimator,exact_gradient,own_objective_gradient"
    );
    assert_eq!(rows.len(), 1 + 24 + 24 + 20);
    assert!(rows[1].starts_with("reinforce,c1[0],256,"));
    // A parameter name with a comma is quoted.
    let mut s2 = s.clone();
    s2.page.param = 1;
    let c2 = Convergence::from_state(&s2);
    assert_eq!(c2.file_stem(), "convergence-w2_0_1");
    assert!(c2.csv().lines().nth(1).unwrap().starts_with("reinforce,\"w2[0,1]\","));
    assert!(c.describe().contains("reinforce"));
}

#[test]
fn convergence_clips_outliers_to_the_window() {
    let mut s = full_state();
    // The first point is absurd; the scale must follow the latest means and the exact values.
    let row = s.rows.get_mut("reinforce").unwrap();
    let h = std::rc::Rc::make_mut(&mut row.history);
    h[0].mean[0] = 1e6;
    h[1].mean[0] = -1e6;
    let c = Convergence::from_state(&s);
    let svg = render(&c);
    assert!(!svg.contains("1e6") && !svg.contains("1000000"), "the outlier did not set the scale");
}

#[test]
fn convergence_empty_and_degenerate() {
    // Nothing at all.
    let s = State::default();
    let c = Convergence::from_state(&s);
    assert!(c.series.is_empty());
    let svg = render(&c);
    assert!(svg.contains("press play"));
    assert!(svg.contains("samples drawn (log scale)"));
    assert_eq!(csv_rows(&c.csv()).len(), 1);

    // Exact gradient only: the exact line and the note.
    let mut s = State::default();
    s.exact =
        Some(ExactView { expected_loss: 0.2, gradient: vec![0.0], names: vec!["c1[0]".into()].into(), millis: 0.0 });
    let svg = render(&Convergence::from_state(&s));
    assert!(svg.contains("exact ∇") && svg.contains("press play"));

    // A single point, all values equal, zero standard error, NaNs and a bogus parameter index.
    let mut s = State::default();
    s.exact =
        Some(ExactView { expected_loss: 0.2, gradient: vec![0.5], names: vec!["c1[0]".into()].into(), millis: 0.0 });
    s.rows.get_mut("reinforce").unwrap().history =
        vec![HistPoint { n: 256, mean: vec![0.5], stderr: vec![0.0] }].into();
    s.rows.get_mut("reinforce").unwrap().exact =
        Some(view("exact", vec![0.5], None, None, fig(0.0, None), fig(1.0, None)));
    s.rows.get_mut("st").unwrap().history = vec![
        HistPoint { n: 0, mean: vec![1.0], stderr: vec![0.1] },
        HistPoint { n: 256, mean: vec![f64::NAN], stderr: vec![0.1] },
        HistPoint { n: 512, mean: vec![0.5], stderr: vec![f64::INFINITY] },
    ]
    .into();
    let c = Convergence::from_state(&s);
    assert_eq!(c.series.len(), 2);
    assert_eq!(csv_rows(&c.csv()).len(), 1 + 1 + 1);
    render(&c);
    s.page.param = 7;
    let c = Convergence::from_state(&s);
    assert!(c.series.is_empty() && c.exact.is_none());
    assert_eq!(c.file_stem(), "convergence-7");
    render(&c);
}

#[test]
fn bars_full_and_modes() {
    let s = full_state();
    let b = Bars::from_state(&s);
    assert_eq!(b.groups.len(), 5);
    let svg = render(&b);
    for text in
        ["bias²  /  variance (trace)", "bias² (left)", "variance (trace) (right)", "Monte Carlo ± 2 s.e.", "unbiased"]
    {
        assert!(svg.contains(text), "missing {text:?}");
    }
    for k in crate::state::DEFAULT_ESTIMATORS {
        assert!(svg.contains(&format!("\n{k}\n")), "missing estimator {k}");
    }
    // Exact zero bias² is written as 0 and the negative Monte-Carlo bias² as ≈0.
    assert!(svg.contains("\n0\n") && svg.contains("\n≈0\n"));
    // A biased estimator whose exact bias² is zero on this model (ReinMax at τ = 1) is "exact here",
    // never "unbiased".
    let mut exact_here = b.clone();
    exact_here.groups.truncate(1);
    exact_here.groups[0].key = "reinmax".into();
    exact_here.groups[0].unbiased = false;
    exact_here.groups[0].method = "exact".into();
    exact_here.groups[0].bias_sq = Fig { value: 0.0, stderr: None };
    let svg_here = render(&exact_here);
    assert!(svg_here.contains("exact here") && !svg_here.contains("unbiased"), "{svg_here}");
    let csv = b.csv();
    let rows = csv_rows(&csv);
    assert_eq!(
        rows[0],
        "estimator,method,samples,bias_sq,bias_sq_stderr,variance_trace,variance_trace_stderr,unbiased"
    );
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().any(|r| r.starts_with("st-sigmoid,monte-carlo,25600,-0.000002,")));

    let mut s2 = s.clone();
    s2.page.var_x_evals = true;
    let b2 = Bars::from_state(&s2);
    assert_ne!(b, b2);
    let svg = render(&b2);
    assert!(svg.contains("bias²  /  variance × loss evaluations"));
    assert!(b2.csv().starts_with("estimator,method,samples,bias_sq,bias_sq_stderr,variance_x_evals,"));

    // All thirteen estimators: rotated labels, nothing breaks.
    let mut s3 = s.clone();
    for e in stochgrad_core::estimators::registry() {
        let k = e.meta().key.to_string();
        if !s3.page.estimators.contains(&k) {
            s3.page.estimators.push(k.clone());
        }
        if s3.rows.get(&k).is_none() {
            let exact = Some(view("exact", vec![0.0; 3], None, None, fig(1e-3, None), fig(0.1, None)));
            s3.rows.insert(k, Row { exact, ..Row::default() });
        }
    }
    let b3 = Bars::from_state(&s3);
    assert_eq!(b3.groups.len(), stochgrad_core::estimators::registry().len());
    let svg = render(&b3);
    assert!(svg.contains("rotate(270"), "long keys are rotated");
}

#[test]
fn bars_empty_and_degenerate() {
    let s = State::default();
    let b = Bars::from_state(&s);
    assert!(b.groups.is_empty());
    let svg = render(&b);
    assert!(svg.contains("no results yet"));
    assert_eq!(csv_rows(&b.csv()).len(), 1);

    let mut s = State::default();
    s.rows.get_mut("reinforce").unwrap().exact =
        Some(view("exact", vec![0.0], None, None, fig(0.0, None), fig(0.0, None)));
    s.rows.get_mut("st").unwrap().exact =
        Some(view("exact", vec![0.0], None, None, fig(f64::NAN, None), fig(f64::INFINITY, None)));
    s.rows.get_mut("concrete").unwrap().mc =
        Some(view("monte-carlo", vec![0.0], Some(vec![0.1]), Some(256), fig(-5.0, Some(1.0)), fig(1e-40, Some(1e300))));
    s.rows.get_mut("st-sigmoid").unwrap().not_applicable = Some(Refusal::Failed("n/a".into()));
    s.rows.get_mut("st-sigmoid").unwrap().exact =
        Some(view("exact", vec![0.0], None, None, fig(1.0, None), fig(1.0, None)));
    let b = Bars::from_state(&s);
    assert_eq!(b.groups.len(), 3, "not-applicable rows are left out");
    render(&b);
}

#[test]
fn tau_sweep_full_and_empty() {
    let s = full_state();
    let t = TauSweep::from_state(&s);
    assert_eq!(t.series.len(), 2);
    assert_eq!(t.series[0].key, "st-sigmoid", "selection (registry) order");
    let svg = render(&t);
    for text in
        ["τ = 0.50", "temperature τ (log scale)", "bias²  /  variance (trace)", "concrete", "st-sigmoid", "Monte Carlo"]
    {
        assert!(svg.contains(text), "missing {text:?}");
    }
    let csv = t.csv();
    let rows = csv_rows(&csv);
    assert_eq!(rows[0], "tau,estimator,method,bias_sq,bias_sq_stderr,variance_trace,variance_trace_stderr");
    assert_eq!(rows.len(), 1 + 16);

    // Nothing computed yet, with a τ user selected: "computing…".
    let s = State::default();
    let t = TauSweep::from_state(&s);
    assert!(render(&t).contains("computing…"));
    // No estimator using τ.
    let mut s = State::default();
    s.page.estimators = vec!["reinforce".into(), "st".into()];
    let t = TauSweep::from_state(&s);
    assert!(render(&t).contains("no selected estimator uses τ"));
    assert_eq!(csv_rows(&t.csv()).len(), 1);

    // Degenerate: one point, zero bias² (log axis), NaN and negative x.
    let mut s = State::default();
    s.sweeps.push((SweepKind::Tau, "concrete".into(), sweep_points(&[0.5], "exact", |_| 0.0, |_| 0.1)));
    s.sweeps.push((
        SweepKind::Tau,
        "st".into(),
        vec![
            SweepPoint { x: f64::NAN, method: "exact".into(), bias_sq: fig(1.0, None), variance_trace: fig(1.0, None) },
            SweepPoint { x: -1.0, method: "exact".into(), bias_sq: fig(1.0, None), variance_trace: fig(1.0, None) },
            SweepPoint {
                x: 2.0,
                method: "exact".into(),
                bias_sq: fig(f64::NAN, None),
                variance_trace: fig(-1.0, None),
            },
        ],
    ));
    let t = TauSweep::from_state(&s);
    assert_eq!(t.series.len(), 2);
    assert_eq!(t.series[1].points.len(), 1);
    render(&t);
}

#[test]
fn logit_sweep_marks_the_optimum_and_the_stationary_points() {
    let xs: Vec<f64> = (0..41).map(|i| -6.0 + 0.3 * i as f64).collect();
    let mut s = State::default();
    s.page.estimators = vec!["reinforce".into(), "st".into()];
    s.sweeps.push((
        SweepKind::Logit,
        "st".into(),
        sweep_points(&xs, "exact", |x| 0.01 + 0.001 * x * x, |x| 0.5 / (1.0 + x * x)),
    ));
    s.sweeps.push((
        SweepKind::Logit,
        "reinforce".into(),
        sweep_points(&xs, "monte-carlo", |_| 0.0, |x| 0.2 + 0.01 * x),
    ));
    // One unit, no inputs: the x axis is p = σ(c).
    s.logit_marks.push(LogitMark::Optimum {
        unit: "c1[0]".into(),
        current: -1.0,
        logit: true,
        x: -6.0,
        expected_loss: 0.2,
        at_edge: true,
    });
    s.logit_marks.push(LogitMark::Stationary {
        key: "st".into(),
        crossings: vec![(-0.2, true)],
        method: "exact".into(),
    });
    s.logit_marks.push(LogitMark::Stationary { key: "reinforce".into(), crossings: vec![], method: "exact".into() });
    // A mark of an estimator no longer selected is not shown.
    s.logit_marks.push(LogitMark::Stationary {
        key: "arm".into(),
        crossings: vec![(1.0, true)],
        method: "exact".into(),
    });
    let l = LogitSweep::from_state(&s);
    assert_eq!(l.series.len(), 2);
    // The sweep's points under the pointer (x in p = σ(c) on this one-unit page, the CSV's in c).
    let pr = recorded(|| to_svg(&l, W, H, &Style::default())).1;
    assert!(pr.iter().any(|p| p.y_name == "variance" && p.x > 0.0 && p.x < 1.0), "{pr:?}");
    assert!(pr.iter().all(|p| p.x.is_finite() && p.y.is_finite() && !p.text().contains("NaN")));
    assert_eq!(l.series[0].key, "reinforce", "selection order");
    assert_eq!(l.stationary.len(), 2);
    let svg = render(&l);
    for text in [
        "firing probability p = σ(c)",
        "p = 0.269",
        "optimum of E[f] (edge of the range)",
        "E[ĝ] = 0 (estimator",
        "Monte Carlo",
    ] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    assert!(l.stationary.iter().all(|m| m.key != "arm"));
    let caption = l.caption();
    assert!(caption.contains("E[f] is lowest at p = 0.00247, at the range's edge"), "{caption}");
    assert!(caption.contains("st's expected gradient crosses zero at p = 0.45 (exact, by bisection)"), "{caption}");
    assert!(caption.contains("reinforce's expected gradient does not cross zero"), "{caption}");
    assert!(l.describe().contains(&caption));
    let rows = csv_rows(&l.csv()).len();
    assert_eq!(rows, 1 + 2 * 41);
    assert_eq!(
        csv_rows(&l.csv())[0],
        "bias,estimator,method,bias_sq,bias_sq_stderr,variance_trace,variance_trace_stderr"
    );

    // Several units: the x axis is the bias, named; an interior optimum and an unstable crossing
    // found by interpolation.
    let mut s2 = s.clone();
    s2.page.model.widths = vec![2, 1];
    s2.logit_marks = vec![
        LogitMark::Optimum {
            unit: "c2[0]".into(),
            current: 0.5,
            logit: false,
            x: 1.25,
            expected_loss: 0.1,
            at_edge: false,
        },
        LogitMark::Stationary {
            key: "st".into(),
            crossings: vec![(-2.0, false), (3.0, true)],
            method: "monte-carlo".into(),
        },
    ];
    let l2 = LogitSweep::from_state(&s2);
    let svg = render(&l2);
    assert!(svg.contains("bias c2[0]") && svg.contains("c2[0] = 0.5"), "x axis in the bias");
    assert!(svg.contains("optimum of E[f]") && !svg.contains("edge of the range"));
    let c = l2.caption();
    assert!(c.contains("E[f] is lowest at c2[0] = 1.25 (E[f] = 0.1)"), "{c}");
    assert!(
        c.contains("c2[0] = -2 (unstable), c2[0] = 3 (interpolated between Monte-Carlo means)")
            || c.contains("(unstable)"),
        "{c}"
    );

    // Nothing yet; nothing selected; a network too large for the sweep.
    let s = State::default();
    assert!(render(&LogitSweep::from_state(&s)).contains("computing…"));
    let mut s = State::default();
    s.page.estimators.clear();
    assert!(render(&LogitSweep::from_state(&s)).contains("no estimator selected"));
    let mut s = State::default();
    s.page.model.widths = vec![8, 8];
    assert!(render(&LogitSweep::from_state(&s)).contains("at most 12 units"));
}

#[test]
fn width_sweep_full_and_empty() {
    let mut s = full_state();
    s.page.model.widths = vec![3, 3];
    let w = WidthSweep::from_state(&s);
    assert_eq!(w.series.len(), 3);
    let svg = render(&w);
    for text in
        ["width = 3", "width of every layer", "all 2 layers", "reinforce", "st-sigmoid", "bias²  /  variance (trace)"]
    {
        assert!(svg.contains(text), "missing {text:?}");
    }
    let csv = w.csv();
    let rows = csv_rows(&csv);
    assert_eq!(rows[0], "width,estimator,method,bias_sq,bias_sq_stderr,variance_trace,variance_trace_stderr");
    assert_eq!(rows.len(), 1 + 12 + 12 + 6);

    let s = State::default();
    let w = WidthSweep::from_state(&s);
    assert!(render(&w).contains("computing…"));
    let mut s = State::default();
    s.page.estimators.clear();
    assert!(render(&WidthSweep::from_state(&s)).contains("no estimator selected"));

    // A variance of exactly 0 (DisARM on one unit at a = 0, say) is not drawn at the axis floor as
    // if it were tiny: the line stops and the point is labelled "= 0".
    let mut s = State::default();
    s.page.estimators = vec!["disarm".into()];
    s.sweeps.push((
        SweepKind::Width,
        "disarm".into(),
        sweep_points(&[1.0, 2.0, 3.0], "exact", |x| 1e-3 * x, |x| if x == 1.0 { 0.0 } else { 0.1 * x }),
    ));
    let svg = render(&WidthSweep::from_state(&s));
    assert_eq!(svg.matches("= 0").count(), 1, "one zero variance, labelled once");
    // Without the label the zero would be drawn like any other point.
    let mut s2 = s.clone();
    s2.sweeps[0].2[0].variance_trace.value = 1e-9;
    assert!(!render(&WidthSweep::from_state(&s2)).contains("= 0"));
}

#[test]
fn agreement_full_and_empty() {
    let s = full_state();
    let a = Agreement::from_state(&s);
    assert_eq!(a.series.len(), 5);
    let svg = render(&a);
    for text in [
        "exact ∂E[f]/∂θ",
        "estimated E[ĝ]",
        "y = x",
        "reinforce-optimal",
        "st-sigmoid",
        "Monte Carlo mean ± 2 s.e.",
        "exact E[ĝ]",
    ] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    let csv = a.csv();
    let rows = csv_rows(&csv);
    assert_eq!(rows[0], "estimator,parameter,exact_gradient,method,mean,stderr,own_objective_gradient");
    assert_eq!(rows.len(), 1 + 5 * 3);
    assert!(a.describe().contains("largest gap"));

    let s = State::default();
    let a = Agreement::from_state(&s);
    let svg = render(&a);
    assert!(svg.contains("waiting for the exact gradient"));
    assert_eq!(csv_rows(&a.csv()).len(), 1);

    // One parameter, everything equal (zero-width range), a NaN mean, a short mean vector.
    let mut s = State::default();
    s.exact = Some(ExactView {
        expected_loss: 0.0,
        gradient: vec![0.0, 0.0],
        names: vec!["a".into(), "b".into()].into(),
        millis: 0.0,
    });
    s.rows.get_mut("reinforce").unwrap().exact =
        Some(view("exact", vec![0.0, 0.0], None, None, fig(0.0, None), fig(0.0, None)));
    s.rows.get_mut("st").unwrap().mc =
        Some(view("monte-carlo", vec![f64::NAN], Some(vec![f64::NAN]), Some(1), fig(0.0, None), fig(0.0, None)));
    let a = Agreement::from_state(&s);
    assert_eq!(csv_rows(&a.csv()).len(), 1 + 2 + 1);
    render(&a);
}

#[test]
fn one_draw_shows_the_curve_the_tangent_and_the_histograms() {
    let mut s = full_state();
    s.page.single = true;
    // Nothing drawn yet: a note.
    assert!(render(&OneDraw::from_state(&s)).contains("no draws yet"));
    for (key, h) in [("reinforce", 1.0), ("st", 0.0), ("st-sigmoid", 1.0)] {
        let row = s.rows.get_mut(key).unwrap();
        row.draws = std::rc::Rc::new(vec![vec![0.1, 0.0, 0.0], vec![-0.2, 0.0, 0.0], vec![0.35, 0.0, 0.0]]);
        row.last_h = Some(vec![h]);
    }
    let d = OneDraw::from_state(&s);
    assert_eq!(d.series.len(), 3);
    let c = d.curve.as_ref().expect("a one-unit network has the curve");
    assert_eq!(c.h.as_ref().map(|h| (h.0, h.1.as_str())), Some((0.0, "st")), "straight-through's draw");
    // f = (h − 0.45)²: f(0) = 0.2025, f(1) = 0.3025, slope at 0 = −0.9.
    assert!((c.f0 - 0.2025).abs() < 1e-12 && (c.f1 - 0.3025).abs() < 1e-12);
    assert!((c.h.as_ref().unwrap().2 + 0.9).abs() < 1e-12);
    let svg = render_at(&d, 900, 440);
    for text in
        ["draw 3", "secant: f(1) − f(0) = 0.1", "st drew h = 0: its slope f′(h) = -0.9", "reinforce (3)", "exact ∇"]
    {
        assert!(svg.contains(text), "missing {text:?}");
    }
    render(&d);
    assert_eq!(csv_rows(&d.csv()).len(), 1 + 9);
    assert!(d.describe().contains("st this draw 0.35 (3 draws)"), "{}", d.describe());
}

#[test]
fn exports_carry_a_caption() {
    let s = full_state();
    let e = crate::exports::describe(&s, "http://127.0.0.1:8080/");
    let c = Convergence::from_state(&s);
    let svg = crate::plots::to_svg_captioned(&c, 720, 440, &Style::default(), &e.lines);
    assert!(svg.contains("Convergence of the running means"), "the title");
    for text in ["Network: 1 layer", "sampling seed 1", "http://127.0.0.1:8080/#est="] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    // The picture keeps its size; the caption is added below it.
    let root_height: u32 = svg.split("height=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().parse().unwrap();
    assert!(root_height > 440 + 40, "the SVG ({root_height}) is the plot (440) and its caption");
    for c in coordinates(&svg) {
        assert!(c.is_finite() && c >= -2.0, "coordinate {c}");
    }
}

#[test]
fn redraw_only_on_change() {
    let mut s = full_state();
    // (Not one of the stories: a story's end would change the convergence plot's annotation.)
    s.page.model.target = 0.3;
    // A change the convergence plot does not show leaves it equal.
    let mut s2 = s.clone();
    s2.page.var_x_evals = true;
    s2.page.tau = 2.0;
    assert_eq!(Convergence::from_state(&s), Convergence::from_state(&s2));
    assert_eq!(Agreement::from_state(&s), Agreement::from_state(&s2));
    assert_ne!(TauSweep::from_state(&s), TauSweep::from_state(&s2));
    assert_ne!(Bars::from_state(&s), Bars::from_state(&s2));
    // The story's annotation: on the default view, an arrow from the exact gradient to
    // straight-through's expectation, labelled.
    let story = full_state();
    let c = Convergence::from_state(&story);
    assert_eq!(c.annotate, Some("st"));
    let svg = render_at(&c, 900, 420);
    assert!(svg.contains("wrong sign"), "the annotation is drawn");
    // Wide: every line named at its right end (with its value); narrow: in the legend.
    assert!(svg.contains("exact ∇ 0.0196") && svg.contains("st -0.0204"), "end labels");
    let narrow = render_at(&c, 420, 300);
    assert!(!narrow.contains("exact ∇ 0.0196") && narrow.contains("reinforce"));
}

// ---------------------------------------------------------------------------------------------
// The machinery

#[test]
fn clipping() {
    let fr = Frame { x: Axis::lin(0.0, 1.0), y: Axis::lin(0.0, 1.0) };
    let pieces = fr.clip_polyline(&[(-1.0, 0.5), (0.5, 0.5), (2.0, 0.5), (2.0, 2.0), (0.5, 0.25), (0.5, 0.75)]);
    assert_eq!(pieces.len(), 2, "{pieces:?}");
    assert_eq!(pieces[0], vec![(0.0, 0.5), (0.5, 0.5), (1.0, 0.5)]);
    assert!(pieces[1].iter().all(|p| fr.contains(*p)));
    // NaN breaks the line.
    let pieces = fr.clip_polyline(&[(0.1, 0.1), (0.2, 0.2), (f64::NAN, 0.3), (0.4, 0.4), (0.5, 0.5)]);
    assert_eq!(pieces.len(), 2);
    // Polygons.
    let poly = fr.clip_polygon(&[(-1.0, -1.0), (2.0, -1.0), (2.0, 2.0), (-1.0, 2.0)]);
    assert_eq!(poly.len(), 4);
    assert!(poly.iter().all(|p| fr.contains(*p)));
    assert!(fr.clip_polygon(&[(5.0, 5.0), (6.0, 5.0), (6.0, 6.0)]).is_empty());
    // Log axes: non-positive values are undrawable.
    let fr = Frame { x: Axis::log(1.0, 100.0), y: Axis::log(1e-3, 1.0) };
    assert!(!fr.contains((10.0, 0.0)) && fr.contains((10.0, 0.5)));
    let pieces = fr.clip_polyline(&[(1.0, 0.5), (10.0, 0.0), (20.0, 0.1), (1e4, 0.1)]);
    assert_eq!(pieces.len(), 1);
    assert!((pieces[0][1].0 - 100.0).abs() < 1e-9);
}

#[test]
fn ranges_and_labels() {
    let close = |(a, b): (f64, f64), (c, d): (f64, f64)| ((a - c) / c).abs() < 1e-6 && ((b - d) / d).abs() < 1e-6;
    assert!(close(kit::log_range([0.003, 0.5], 12.0, (1.0, 10.0)), (1e-3, 1.0)));
    // A value on a decade gets a decade of room below.
    assert!(close(kit::log_range([0.1], 12.0, (1.0, 10.0)), (1e-2, 1.0)));
    assert_eq!(kit::log_range([0.0, -1.0, f64::NAN], 12.0, (1.0, 10.0)), (1.0, 10.0));
    let (lo, hi) = kit::log_range([1e-40, 1.0], 12.0, (1.0, 10.0));
    assert!(close((lo, hi), (1e-11, 10.0)), "{lo} {hi}");
    let (lo, hi) = kit::log_range([1.0], 12.0, (1.0, 10.0));
    assert!(lo < hi);
    let (lo, hi) = kit::lin_range([2.0, 2.0], (0.0, 1.0));
    assert!(lo < 2.0 && hi > 2.0);
    let (lo, hi) = kit::lin_range([0.0], (0.0, 1.0));
    assert!(lo < 0.0 && hi > 0.0);
    let (lo, hi) = kit::log_range_loose([0.3, 0.7], (1.0, 10.0));
    assert!(lo <= 0.1 && hi > 0.7);

    let f = kit::log_fmt(1e-6, 1.0);
    assert_eq!(f(&1e-6), "10⁻⁶");
    assert_eq!(f(&0.01), "10⁻²", "one style per axis");
    assert_eq!(f(&1.0), "1");
    let f = kit::log_fmt(1e-2, 100.0);
    assert_eq!(f(&0.01), "0.01");
    assert_eq!(f(&100.0), "100");
    assert_eq!(f(&3e-4), "");
    let f = kit::log_fmt(0.01, 0.1);
    assert_eq!(f(&0.02), "0.02");
    assert_eq!(f(&0.05), "0.05");
    assert_eq!(f(&0.03), "");
    let f = kit::count_fmt(100.0, 1e7);
    assert_eq!(f(&1000.0), "1k");
    assert_eq!(f(&1e6), "1M");
    assert_eq!(f(&2000.0), "");
    let f = kit::lin_fmt(0.0195, 0.0198);
    assert_eq!(f(&0.0196), "0.01960");
    let f = kit::lin_fmt(-0.5, 0.5);
    assert_eq!(f(&0.2), "0.2");
    assert_eq!(f(&1e-17), "0");
    let f = kit::lin_fmt(0.0, 2e-5);
    assert_eq!(f(&1e-5), "1.0e-5");
}

#[test]
fn helpers() {
    assert_eq!(slug("c1[0]"), "c1_0");
    assert_eq!(slug("w2[0,1]"), "w2_0_1");
    assert_eq!(csv_text(&["a", "b"], &[vec!["x,y".into(), "q\"".into()]]), "a,b\n\"x,y\",\"q\"\"\"\n");
    assert_eq!(num(f64::NAN), "");
    assert_eq!(num(0.5), "0.5");
    assert_eq!(
        fix_svg_font_sizes(r#"<text font-size="10" x="1">a</text>"#),
        r#"<text font-size="12.40" x="1">a</text>"#
    );
}

/// A unit type (sts) selected: its exact mean equals its own objective's gradient, which differs
/// from the binary network's. Both plots must compare it with its own reference.
fn unit_type_state() -> State {
    let mut s = State::default().reduce(crate::state::Action::ToggleEstimator("sts".into()));
    let g = vec![0.0197];
    let own = vec![-0.05];
    s.exact =
        Some(ExactView { expected_loss: 0.23, gradient: g.clone(), names: vec!["c1[0]".into()].into(), millis: 1.0 });
    let mut v = view("exact", own.clone(), None, None, fig(0.0, None), fig(0.01, None));
    v.reference = Some(own.clone());
    s.rows.get_mut("sts").unwrap().exact = Some(v);
    s.rows.get_mut("reinforce").unwrap().exact =
        Some(view("exact", g.clone(), None, None, fig(0.0, None), fig(0.5, None)));
    s
}

#[test]
fn unit_types_are_compared_with_their_own_objective() {
    let s = unit_type_state();
    let c = Convergence::from_state(&s);
    let sts = c.series.iter().find(|x| x.key == "sts").unwrap();
    assert_eq!(sts.reference, Some(-0.05));
    assert_eq!(c.series.iter().find(|x| x.key == "reinforce").unwrap().reference, None);
    let svg = render(&c);
    assert!(svg.contains("sts: own objective"), "the own reference line is labelled");
    assert!(c.describe().contains("own objective's gradient -0.05"), "{}", c.describe());

    let a = Agreement::from_state(&s);
    let svg = render(&a);
    assert!(svg.contains("own objective"));
    // Against its own reference sts is exact (gap 0); against the binary gradient it would be 0.0697.
    let d = a.describe();
    assert!(
        d.contains("sts (exact means against its own objective's gradient, a different unit, largest gap 0 at c1[0])"),
        "{d}"
    );
    let csv = a.csv();
    let row = csv.lines().find(|l| l.starts_with("sts,")).unwrap();
    assert_eq!(row, "sts,c1[0],0.0197,exact,-0.05,,-0.05");
}

fn race_reports(n: u64, start: f64, end: f64, evals_per_step: f64, p: bool) -> Vec<stochgrad_core::train::StepReport> {
    (0..=n)
        .map(|i| stochgrad_core::train::StepReport {
            step: i,
            expected_loss: start + (end - start) * (i as f64 / n as f64).sqrt(),
            grad_norm: 0.01,
            loss_evaluations: evals_per_step * i as f64,
            p: p.then_some(0.27),
            method: stochgrad_core::stats::Method::Exact,
        })
        .collect()
}

#[test]
fn race_plot_against_evaluations_and_steps() {
    let mut s = State::default().reduce(crate::state::Action::ToggleEstimator("sts".into()));
    s.page.race_steps = 3000;
    let rows = [("reinforce", 0.203, 1.0), ("reinforce-optimal", 0.202, 1.0), ("st", 0.26, 1.0), ("sts", 0.11, 2.0)];
    for (key, end, evals) in rows {
        s.race.rows.insert(
            key.to_string(),
            crate::state::RaceRow { reports: race_reports(3000, 0.229, end, evals, true).into(), error: None },
        );
    }
    let r = RacePlot::from_state(&s);
    assert!(r.by_evals, "loss evaluations are the default axis");
    assert_eq!(r.series.len(), 4);
    assert!(r.series.iter().find(|x| x.key == "sts").unwrap().own);
    let svg = render(&r);
    for text in ["loss evaluations", "sts (own objective: a different unit)", "exact E[f]", "st"] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    // The x axis spans the whole budget at the largest cost per step (sts: 2 per step): 6k.
    assert_eq!(r.x_range(), (0.0, 6000.0));
    let csv = r.csv();
    assert_eq!(
        csv.lines().next().unwrap(),
        "estimator,step,loss_evaluations,expected_loss,grad_norm,p,method,objective"
    );
    assert_eq!(csv.lines().count(), 1 + 4 * 3001);
    assert!(r.describe().contains("st E[f] = 0.26"), "{}", r.describe());
    let mut s2 = s.clone();
    s2.page.race_by_evals = false;
    let r2 = RacePlot::from_state(&s2);
    let svg = render(&r2);
    assert!(svg.contains("training steps"));
    assert_eq!(r2.x_range(), (0.0, 3000.0), "the whole budget");
    assert_ne!(r.file_stem(), r2.file_stem());
}

#[test]
fn race_plot_empty_failed_and_degenerate() {
    let s = State::default();
    let r = RacePlot::from_state(&s);
    assert!(render(&r).contains("waiting for the race"));
    let mut f = s.clone();
    f.race.failure = Some("a race computes the exact E[f] after every step — too large".into());
    assert!(render(&RacePlot::from_state(&f)).contains("cannot race: a race computes the exact E[f] after every step"));
    // Only step 0, a flat line, no p: nothing breaks.
    let mut d = s.clone();
    d.race.rows.insert(
        "st".into(),
        crate::state::RaceRow { reports: race_reports(0, 0.2, 0.2, 1.0, false).into(), error: None },
    );
    d.race.rows.insert(
        "reinforce".into(),
        crate::state::RaceRow { reports: race_reports(5, 0.2, 0.2, 1.0, false).into(), error: None },
    );
    let svg = render(&RacePlot::from_state(&d));
    assert!(!svg.contains("waiting"));
}

#[test]
fn digits_plots_draw_their_data_and_the_empty_state() {
    use crate::protocol::{DigitsBar, DigitsFigures, DigitsPoint};
    use crate::state::DigitsRow;
    let s = State::default();
    let empty = DigitsRace::new(&s.page, &s.digits);
    assert!(render(&empty).contains("press ▶ Train"));
    assert!(render(&DigitsBars::new(&s.page, &s.digits, None, 10).bars).contains("no results yet"));
    let mut d = s.clone();
    let points = |n: u64, per: f64| -> Vec<DigitsPoint> {
        (0..=n)
            .map(|i| DigitsPoint {
                step: 50 * i,
                evaluations: per * 50.0 * i as f64,
                neg_elbo: 40.0 - i as f64,
                neg_log_marginal: 39.0 - i as f64,
            })
            .collect()
    };
    let fig = |bias_sq: f64, method: &str| DigitsBar {
        step: 0,
        figures: Ok(DigitsFigures { bias_sq, variance: 0.5, gradient_sq: 2.0, method: method.into() }),
    };
    d.digits.rows.insert("exact".into(), DigitsRow { points: points(4, 0.0).into(), ..DigitsRow::default() });
    d.digits.rows.insert(
        "disarm".into(),
        DigitsRow { points: points(3, 100.0).into(), bars: vec![fig(1e-29, "exact")].into(), ..DigitsRow::default() },
    );
    d.digits.rows.insert(
        "st".into(),
        DigitsRow { points: points(2, 50.0).into(), bars: vec![fig(0.3, "exact")].into(), ..DigitsRow::default() },
    );
    d.digits.rows.insert(
        "reinforce".into(),
        DigitsRow {
            points: points(1, 50.0).into(),
            bars: vec![DigitsBar { step: 0, figures: Err("too large".into()) }].into(),
            ..DigitsRow::default()
        },
    );
    for by_evals in [false, true] {
        d.page.digits_by_evals = by_evals;
        let race = DigitsRace::new(&d.page, &d.digits);
        assert_eq!(race.series.len(), 4);
        let svg = render(&race);
        assert!(!svg.contains("press ▶ Train") && !svg.contains("NaN"), "{svg}");
        assert_eq!(race.x_range(), (0.0, if by_evals { 100_000.0 } else { 1000.0 }));
        assert_eq!(csv_rows(&race.csv()).len(), 1 + 5 + 4 + 3 + 2);
    }
    let bars = DigitsBars::new(&d.page, &d.digits, None, 10);
    assert_eq!(bars.bars.groups.iter().map(|g| g.key.as_str()).collect::<Vec<_>>(), ["disarm", "st"]);
    assert_eq!(bars.bars.groups[0].bias_sq.value, 0.0, "an exact zero's rounding noise is 0");
    assert_eq!(bars.missing, vec![("reinforce".to_string(), "too large".to_string())]);
    let svg = render(&bars);
    assert!(svg.contains("unbiased") && !svg.contains("NaN"));
    assert!(bars.describe().starts_with("At step 0, on the first 10 test images"));
    // A strip of images: one white square per image, one grey square per dark pixel.
    let strip = strip_svg(&[vec![0; 64], vec![255; 64]], 4, "two \"images\"");
    assert_eq!(strip.matches("<rect").count(), 2 + 64);
    assert!(strip.contains("width=\"68\"") && strip.contains("&quot;images&quot;"));
}

// ---------------------------------------------------------------------------------------------
// Probes: the values under the pointer

/// The probes a plot records while drawing at W × H (as on the page), checked: finite, inside the
/// picture, their texts without NaN, each value one of the plot's data (its CSV), and within a
/// series placed left to right in the order of x. Drawing while recording changes nothing. `extra`:
/// data the plot draws that its CSV does not hold (the convergence plot's exact expectations of the
/// estimators without samples).
fn probes_of<D: PlotData>(d: &D, extra: &[f64]) -> Vec<Probe> {
    let (svg, probes) = recorded(|| to_svg(d, W, H, &Style::default()));
    assert_eq!(svg, to_svg(d, W, H, &Style::default()), "{}: recording changed the drawing", d.title());
    assert!(!probe::recording(), "recording ends with the drawing");
    let csv = d.csv();
    for p in &probes {
        let what = format!("{}: {p:?}", d.title());
        assert!(p.x.is_finite() && p.y.is_finite() && p.se.is_none_or(|s| s.is_finite() && s > 0.0), "{what}");
        assert!(p.at.0 >= 0.0 && p.at.0 <= W as f64 && p.at.1 >= 0.0 && p.at.1 <= H as f64, "{what}: outside");
        let text = p.text();
        assert!(!text.contains("NaN") && !text.contains("inf") && text.starts_with(&p.series), "{what}: {text}");
        assert!(csv.contains(&num(p.y)) || extra.contains(&p.y), "{what}: y is not in the data");
        if !p.x_name.is_empty() {
            assert!(csv.contains(&num(p.x)), "{what}: x is not in the data");
        }
        if let Some(s) = p.se {
            assert!(csv.contains(&num(s)) || text.contains('±'), "{what}: s.e. not in the data");
        }
    }
    for pair in probe::in_reading_order(probes.clone()).windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.series == b.series && !a.x_name.is_empty() && a.x < b.x {
            assert!(a.at.0 <= b.at.0 + 0.5, "{}: {a:?} drawn right of {b:?}", d.title());
        }
    }
    probes
}

fn series_of(probes: &[Probe]) -> HashSet<String> {
    probes.iter().map(|p| p.series.clone()).collect()
}

#[test]
fn every_plot_records_its_points_for_the_hover() {
    let s = full_state();
    let conv = Convergence::from_state(&s);
    let means: Vec<f64> = conv.series.iter().filter_map(|x| x.exact_mean).chain(conv.exact).collect();
    let c = probes_of(&conv, &means);
    let names = series_of(&c);
    for n in
        ["REINFORCE (no baseline) · running mean", "Straight-through (identity) · exact expectation", "exact gradient"]
    {
        assert!(names.iter().any(|s| s.starts_with(n)), "convergence lacks {n}: {names:?}");
    }
    let mc = c.iter().find(|p| p.series.starts_with("REINFORCE (no baseline) · running mean")).unwrap();
    assert!(mc.se.is_some() && mc.text().contains(" ± "), "{}", mc.text());
    // Bars: two per estimator (bias², variance), at the bar's top.
    let b = probes_of(&Bars::from_state(&s), &[]);
    assert_eq!(b.len(), 2 * 5);
    assert!(b.iter().any(|p| p.text().starts_with("REINFORCE (no baseline) — variance = 0.5")), "{:?}", b);
    let a = probes_of(&Agreement::from_state(&s), &[]);
    assert_eq!(a.len(), 5 * 3, "every estimator's every parameter");
    assert!(a.iter().all(|p| p.x_name == "exact ∇"));
    let t = probes_of(&TauSweep::from_state(&s), &[]);
    assert!(t.iter().any(|p| p.x_name.starts_with("temperature τ")) && t.len() >= 2 * 8);
    let mut w2 = s.clone();
    w2.page.model.widths = vec![3, 3];
    assert!(!probes_of(&WidthSweep::from_state(&w2), &[]).is_empty());
    let mut d = s.clone();
    d.page.single = true;
    for (key, h) in [("reinforce", 1.0), ("st", 0.0)] {
        let row = d.rows.get_mut(key).unwrap();
        row.draws = std::rc::Rc::new(vec![vec![0.1, 0.0, 0.0], vec![-0.2, 0.0, 0.0]]);
        row.last_h = Some(vec![h]);
    }
    let one = OneDraw::from_state(&d);
    let o = recorded(|| to_svg(&one, W, H, &Style::default())).1;
    assert!(o.iter().any(|p| p.series == "f at a binary h") && o.iter().any(|p| p.series.ends_with("latest draw")));
    // The race and the Digits plots.
    let mut r = State::default();
    r.race.rows.insert(
        "st".into(),
        crate::state::RaceRow { reports: race_reports(200, 0.229, 0.26, 1.0, true).into(), error: None },
    );
    let race = probes_of(&RacePlot::from_state(&r), &[]);
    assert!(race.len() > 10 && race.iter().all(|p| p.y_name == "E[f]"));
    // The field: every grid point and the trajectories' points.
    let field = probes_of(&FieldPlot::from_state(&field_state(None)), &[]);
    let names = series_of(&field);
    assert_eq!(field.iter().filter(|p| p.series.starts_with("grid point · E[f] = ")).count(), 36, "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("exact descent · step 30, E[f] = ")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("Straight-through")), "{names:?}");
    // The simplex: every sample, the three corners and π.
    let simplex = probes_of(&Simplex::from_state(&categorical_state(0.5)), &[]);
    assert_eq!(simplex.iter().filter(|p| p.series.starts_with("Gumbel-softmax sample y = (")).count(), SIMPLEX_SAMPLES);
    assert_eq!(simplex.iter().filter(|p| p.series.starts_with("one-hot sample: class ")).count(), 3);
    assert!(simplex.iter().any(|p| p.series.starts_with("π = softmax(a) = (")));
    // Nothing drawn, nothing to probe.
    assert!(probes_of(&Convergence::from_state(&State::default()), &[]).iter().all(|p| p.series == "exact gradient"));
    assert!(probes_of(&Simplex::from_state(&State::default()), &[]).is_empty());
}

/// One categorical unit of three classes at temperature τ.
fn categorical_state(tau: f64) -> State {
    let mut s = State::default();
    s.page.model.unit = stochgrad_core::settings::UnitChoice::Categorical;
    s.page.model.categories = 3;
    s.page.model.widths = vec![1];
    s.page.tau = tau;
    s
}

#[test]
fn the_simplex_shows_pi_and_gumbel_softmax_samples_that_leave_the_corners_as_tau_grows() {
    let s = Simplex::from_state(&categorical_state(0.1));
    assert!(s.applies());
    for tau in [0.1, 1.0, 10.0] {
        let svg = render(&Simplex::from_state(&categorical_state(tau)));
        assert!(svg.contains("class 2: π = "), "the corners are labelled");
        render_at(&Simplex::from_state(&categorical_state(tau)), 300, 600);
    }
    render(&Simplex::from_state(&State::default()));
    // π is the softmax of the unit's logits, which the model's first class bias sets.
    let model = categorical_state(0.1).page.model.to_model();
    let mut a = [0.0; 3];
    model.layers[0].preactivation(&model.input, &mut a);
    let pi: Vec<f64> = a.iter().map(|x| x.exp() / a.iter().map(|y| y.exp()).sum::<f64>()).collect();
    let csv = s.csv();
    let row: Vec<f64> = csv.lines().nth(1).unwrap().split(',').skip(2).map(|v| v.parse().unwrap()).collect();
    for c in 0..3 {
        assert!((row[c] - pi[c]).abs() < 1e-12, "{row:?} {pi:?}");
    }
    // The one-hot classes are samples of π: their frequencies within 4 s.e.
    let samples = s.samples();
    assert_eq!(samples.len(), SIMPLEX_SAMPLES);
    for (c, p) in pi.iter().enumerate() {
        let freq = samples.iter().filter(|(_, h)| *h == c).count() as f64 / SIMPLEX_SAMPLES as f64;
        let se = (p * (1.0 - p) / SIMPLEX_SAMPLES as f64).sqrt();
        assert!((freq - p).abs() < 4.0 * se, "class {c}: {freq} vs {p}");
    }
    // Each y is a distribution whose largest class is the one-hot sample's (argmax is kept by /τ).
    for (y, h) in &samples {
        assert!((y.iter().sum::<f64>() - 1.0).abs() < 1e-12 && y.iter().all(|v| *v >= 0.0));
        assert!((0..3).all(|c| y[*h] >= y[c]));
    }
    // Small τ: near the corners; large τ: near the centre; the caption says how far.
    let spread = |tau| Simplex::from_state(&categorical_state(tau)).spread();
    let (cold, mid, hot) = (spread(0.1), spread(1.0), spread(10.0));
    assert!(cold > 0.9 && cold > mid && mid > hot && hot < 0.2, "{cold} {mid} {hot}");
    assert!(s.caption().contains(&format!("{}% of the way", (100.0 * cold).round())), "{}", s.caption());
    // Not one unit of three classes: nothing to draw, and the caption says what to set.
    for edit in [|s: &mut State| s.page.model.categories = 4, |s: &mut State| s.page.model.widths = vec![2]] {
        let mut st = categorical_state(1.0);
        edit(&mut st);
        let x = Simplex::from_state(&st);
        assert!(!x.applies() && x.samples().is_empty() && x.caption().contains("K = 3"));
    }
}

#[test]
fn the_keyboard_steps_through_the_probes_and_the_pointer_finds_the_nearest() {
    let p = |series: &str, x: f64, px: f64, py: f64| Probe { at: (px, py), ..Probe::new(series, x, x) };
    // Drawn out of order: grouped by series, left to right.
    let probes = probe::in_reading_order(vec![
        p("a", 2.0, 200.0, 50.0),
        p("b", 1.0, 100.0, 80.0),
        p("a", 1.0, 100.0, 60.0),
        p("b", 3.0, 300.0, 90.0),
        p("a", 3.0, 300.0, 40.0),
    ]);
    let order: Vec<(&str, f64)> = probes.iter().map(|q| (q.series.as_str(), q.x)).collect();
    assert_eq!(order, [("a", 1.0), ("a", 2.0), ("a", 3.0), ("b", 1.0), ("b", 3.0)]);
    let step = |from, key| probe::step(&probes, from, key);
    assert_eq!(step(None, "ArrowRight"), Some(0), "the first key shows the first point");
    assert_eq!(step(Some(0), "ArrowRight"), Some(1));
    assert_eq!(step(Some(2), "ArrowRight"), Some(2), "the end of a series stays");
    assert_eq!(step(Some(0), "ArrowLeft"), Some(0));
    assert_eq!(step(Some(1), "ArrowDown"), Some(3), "the next series, nearest in x (ties: the first)");
    assert_eq!(step(Some(2), "ArrowDown"), Some(4));
    assert_eq!(step(Some(4), "ArrowUp"), Some(2));
    assert_eq!(step(Some(4), "ArrowDown"), Some(4), "no series below");
    assert_eq!((step(Some(1), "End"), step(Some(4), "Home")), (Some(2), Some(3)));
    assert_eq!(probe::step(&[], None, "ArrowRight"), None);
    assert_eq!(probe::nearest(&probes, (205.0, 45.0), 24.0), Some(1));
    assert_eq!(probe::nearest(&probes, (205.0, 200.0), 24.0), None, "nothing within the radius");
    // What is read out: series, x, y, ± s.e., never NaN.
    let q = Probe::new("REINFORCE · running mean", 25_600.0, 0.019_71).se(Some(0.0021)).names("samples", "mean");
    assert_eq!(q.text(), "REINFORCE · running mean — samples = 25,600, mean = 0.01971 ± 0.0021");
    let bar = Probe::new("DisARM", 3.3, 0.0).se(Some(f64::NAN)).names("", "variance");
    assert_eq!(bar.text(), "DisARM — variance = 0");
}

fn dist_view(method: &str) -> crate::protocol::DistView {
    crate::protocol::DistView {
        method: method.into(),
        values: vec![],
        probabilities: vec![],
        pieces: vec![],
        edges: vec![],
        counts: vec![],
        samples: 0,
        mean: 0.0196,
        variance: 0.015,
        exact_gradient: 0.0196,
    }
}

#[test]
fn distribution_stems_pieces_and_histograms() {
    let mut s = full_state();
    // Atoms (reinforce), atoms and uniform pieces (reinforce-optimal), a Monte-Carlo histogram
    // (concrete), a refusal (st).
    let mut atoms = dist_view("exact");
    atoms.values = vec![-0.0545, 0.2211];
    atoms.probabilities = vec![0.731, 0.269];
    let mut pieces = dist_view("exact");
    pieces.values = vec![0.0];
    pieces.probabilities = vec![0.46];
    pieces.pieces = vec![(0.023, 0.05, 0.54)];
    let mut hist = dist_view("monte-carlo");
    hist.edges = vec![-0.16, -0.1, -0.04, 0.02, 0.08];
    hist.counts = vec![500, 300, 150, 50];
    hist.samples = 1000;
    s.dist = vec![
        ("reinforce".into(), Ok(Box::new(atoms))),
        ("reinforce-optimal".into(), Ok(Box::new(pieces))),
        ("concrete".into(), Ok(Box::new(hist))),
        ("st".into(), Err("not applicable".into())),
    ];
    let d = DistPlot::from_state(&s);
    assert_eq!(d.series.len(), 3);
    // The values under the pointer: stems, pieces and bins, the exact gradient and each mean.
    let probes = probes_of(&d, &[]);
    assert!(probes.iter().any(|p| p.x_name == "value" && p.y == 0.731), "{probes:?}");
    assert!(probes.iter().any(|p| p.series.contains("· piece 0.023 to 0.05") && p.y == 0.54));
    assert!(probes.iter().any(|p| p.series.contains("· bin -0.16 to -0.1") && p.y == 0.5));
    assert!(probes.iter().any(|p| p.series == "exact gradient"));
    assert!(probes.iter().any(|p| p.series.ends_with("· mean")));
    assert_eq!(d.refused.len(), 1);
    assert_eq!(d.param_name, "c1[0]");
    let svg = render(&d);
    for text in
        ["reinforce: exact", "concrete: Monte Carlo, 1,000 draws", "exact ∂E[f]/∂c1[0]", "mean E[ĝ]", "probability"]
    {
        assert!(svg.contains(text), "missing {text:?}");
    }
    let csv = d.csv();
    let rows = csv_rows(&csv);
    assert_eq!(rows[0], "estimator,parameter,method,kind,from,to,probability,mean,variance,exact_gradient");
    assert_eq!(rows.len(), 1 + 2 + 2 + 4);
    assert!(rows.iter().any(|r| r.starts_with("reinforce-optimal,c1[0],exact,uniform,0.023,0.05,0.54,")));
    assert!(rows.iter().any(|r| r.starts_with("concrete,c1[0],monte-carlo,bin,-0.16,-0.1,0.5,")));
    assert!(d.describe().contains("a histogram of 1,000 Monte-Carlo draws"));
    assert!(d.describe().contains("exact, 1 value and 1 uniform piece"));
    assert_eq!(d.file_stem(), "distribution-c1_0");

    // Nothing yet; a single atom (zero-width range); a NaN mean.
    let s = State::default();
    let d = DistPlot::from_state(&s);
    assert!(render(&d).contains("computing"));
    assert_eq!(csv_rows(&d.csv()).len(), 1);
    let mut s = full_state();
    let mut one = dist_view("exact");
    one.values = vec![0.0];
    one.probabilities = vec![1.0];
    one.mean = f64::NAN;
    s.dist = vec![("reinforce".into(), Ok(Box::new(one)))];
    render(&DistPlot::from_state(&s));
}

/// A small field computed by the worker's function and fed to the reducer as the worker would:
/// `rows` of the grid's rows arrived (all of them with the trajectories when `None`).
fn field_state(rows: Option<usize>) -> State {
    use crate::protocol::Out;
    use crate::state::Action;
    let mut s = State::default();
    s.page.model.widths = vec![2];
    s.page.model.inputs = 0;
    s.page.estimators = vec!["reinforce".into(), "st".into()];
    s.page.race_steps = 30;
    let s = s.reduce(Action::SetFieldOpen(true));
    let mut spec = s.field_spec();
    spec.grid = 6;
    let field = crate::engine::field_of(&spec).unwrap();
    let id = s.field_id;
    let mut outs =
        vec![Out::FieldStart { id, xs: field.xs(), ys: field.ys(), estimators: field.estimators().to_vec() }];
    for j in 0..rows.unwrap_or(spec.grid) {
        outs.push(Out::FieldRow { id, j, points: field.row(j).unwrap() });
    }
    if rows.is_none() {
        for t in field.trajectories().unwrap() {
            outs.push(Out::FieldTrajectory { id, trajectory: t });
        }
        outs.push(Out::FieldDone { id });
    }
    outs.into_iter().fold(s, |s, o| s.reduce(Action::Worker(Box::new(o))))
}

#[test]
fn field_draws_cells_arrows_and_trajectories_inside_the_picture() {
    let s = field_state(None);
    assert!(s.field.done && s.field.error.is_none());
    let f = FieldPlot::from_state(&s);
    assert_eq!((f.x_name.as_str(), f.y_name.as_str()), ("c1[0]", "c1[1]"));
    assert_eq!(f.rows.iter().flatten().count(), 6);
    assert_eq!(f.trajectories.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(), ["exact", "reinforce", "st"]);
    let svg = render(&f);
    assert!(svg.contains("polygon") || svg.contains("<path"), "cells drawn");
    // The exact descent starts at the current point, the grid's centre.
    let c = f.current().unwrap();
    let start = f.trajectories[0].points[0];
    assert!((start[0] - c.0).abs() < 1e-12 && (start[1] - c.1).abs() < 1e-12, "{start:?} vs {c:?}");
    // The CSV: one exact row and one row per estimator per grid point, then every trajectory point.
    let csv = f.csv();
    let rows = csv_rows(&csv);
    assert_eq!(rows.iter().filter(|r| r.starts_with("grid,exact,")).count(), 36);
    assert_eq!(rows.iter().filter(|r| r.starts_with("grid,st,")).count(), 36);
    assert_eq!(rows.iter().filter(|r| r.starts_with("trajectory,exact,")).count(), 31);
    let (lo, hi) = f.loss_range().unwrap();
    assert!(lo.is_finite() && lo < hi && f.caption().contains("shading"));
}

#[test]
fn field_draws_rows_as_they_arrive_and_says_why_it_is_empty() {
    let part = FieldPlot::from_state(&field_state(Some(2)));
    assert_eq!(part.rows.iter().flatten().count(), 2);
    assert!(part.caption().contains("2 of 6 rows"), "{}", part.caption());
    render(&part);
    let mut closed = State::default();
    closed.page.field_open = false;
    let f = FieldPlot::from_state(&closed);
    assert!(render(&f).contains("only while this view is open"));
    let mut failed = field_state(Some(0));
    failed.field.error = Some("the two parameters must differ (both are c1[0])".into());
    assert!(render(&FieldPlot::from_state(&failed)).contains("no field: the two parameters must differ"));
}
