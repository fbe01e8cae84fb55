//! Scales and coordinates: value ranges, tick labels, the one coordinate type (linear or log at
//! run time), axes, clipping to the plotting area, and frames.

use super::*;

// ---------------------------------------------------------------------------------------------
// Ranges

/// The smallest and largest of `vals` (`None` when there are none).
fn extent(vals: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    vals.fold(None, |acc, v| Some(acc.map_or((v, v), |(lo, hi): (f64, f64)| (lo.min(v), hi.max(v)))))
}

/// `[lo, hi]` of the finite values, padded by 8 % (a degenerate range gets a sensible width).
pub(crate) fn lin_range(vals: impl IntoIterator<Item = f64>, default: (f64, f64)) -> (f64, f64) {
    let Some((lo, hi)) = extent(vals.into_iter().filter(|v| v.is_finite())) else { return default };
    let mag = lo.abs().max(hi.abs());
    let span = hi - lo;
    if span <= mag * 1e-9 || span <= f64::MIN_POSITIVE {
        let pad = if mag > 0.0 { mag * 0.1 } else { 1.0 };
        (lo - pad, hi + pad)
    } else {
        let pad = span * 0.08;
        (lo - pad, hi + pad)
    }
}

/// Whole decades `[10^a, 10^b]` around the positive finite values, at most `max_decades` wide
/// (the top is kept; tiny values then fall below the floor).
pub(crate) fn log_range(vals: impl IntoIterator<Item = f64>, max_decades: f64, default: (f64, f64)) -> (f64, f64) {
    let Some((lo, hi)) = extent(vals.into_iter().filter(|v| v.is_finite() && *v > 0.0)) else { return default };
    // Values exactly on a decade get a decade of room (a bar of zero height says nothing).
    let mut a = (lo.log10() - 1e-4).floor();
    let mut b = (hi.log10() + 1e-4).ceil();
    if b <= a {
        b = a + 1.0;
    }
    if b - a > max_decades {
        a = b - max_decades;
    }
    let (a, b) = (a.clamp(-300.0, 299.0), b.clamp(-299.0, 300.0));
    (nudge_down(10f64.powf(a)), 10f64.powf(b))
}

/// A hair below `v`, so that plotters (which rounds `log10(lo)` up to find its first tick) does
/// not skip the bottom decade when `10^a` is not exact in floating point.
fn nudge_down(v: f64) -> f64 {
    v * (1.0 - 1e-9)
}

/// A log range padded by a factor, extended to contain at least one power of ten.
pub(crate) fn log_range_loose(vals: impl IntoIterator<Item = f64>, default: (f64, f64)) -> (f64, f64) {
    let Some((lo, hi)) = extent(vals.into_iter().filter(|v| v.is_finite() && *v > 0.0)) else { return default };
    let (mut lo, hi) = (lo / 1.25, hi * 1.25);
    // Under a decade wide: start at the decade below, so that there are ticks to read.
    if hi / lo < 10.0 {
        lo = nudge_down(10f64.powf((lo.log10() - 1e-9).floor()));
    }
    (lo.max(1e-300), hi.min(1e300))
}

// ---------------------------------------------------------------------------------------------
// Tick labels

fn superscript(n: i32) -> String {
    n.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            '9' => '⁹',
            c => c,
        })
        .collect()
}

/// `10^e` as "0.01", "1", "1000" (`plain`) or "10⁻⁵".
pub(crate) fn pow10_label(e: i32, plain: bool) -> String {
    if plain || e == 0 {
        format::sig(10f64.powi(e), 1)
    } else {
        format!("10{}", superscript(e))
    }
}

/// `m·10^e` for a single digit m.
fn mantissa_label(m: f64, e: i32, plain: bool) -> String {
    if plain {
        format::sig(m * 10f64.powi(e), 1)
    } else {
        format!("{m}·10{}", superscript(e))
    }
}

/// Whether a log axis over `[lo, hi]` is labelled in plain numbers (0.01 … 1000) rather than
/// powers of ten (all of one kind, so the labels read consistently).
pub(crate) fn plain_decades(lo: f64, hi: f64) -> bool {
    lo >= 0.0099 && hi <= 1000.1
}

/// Tick labels of a log axis: decades; also 2 and 5 multiples when the axis spans under two
/// decades (plotters then offers the in-between key points).
pub(crate) fn log_fmt(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let decades = (hi / lo).log10();
    let plain = plain_decades(lo, hi);
    move |v: &f64| {
        let v = *v;
        if !(v > 0.0 && v.is_finite()) {
            return String::new();
        }
        let e = v.log10();
        let r = e.round();
        if (e - r).abs() < 1e-6 {
            return pow10_label(r as i32, plain);
        }
        if decades < 2.0 {
            let f = e.floor();
            let m = v / 10f64.powf(f);
            let mr = m.round();
            if (m - mr).abs() < 1e-6 && (mr == 2.0 || mr == 5.0) {
                return mantissa_label(mr, f as i32, plain);
            }
        }
        String::new()
    }
}

/// Tick labels of a log axis of counts: 100, 1k, 10k, 1M.
pub(crate) fn count_fmt(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let decades = (hi / lo).log10();
    move |v: &f64| {
        let v = *v;
        if !(v > 0.0 && v.is_finite()) {
            return String::new();
        }
        let e = v.log10();
        let r = e.round();
        let show = (e - r).abs() < 1e-6 || {
            let m = v / 10f64.powf(e.floor());
            decades < 2.0 && ((m - 2.0).abs() < 1e-6 || (m - 5.0).abs() < 1e-6)
        };
        if !show {
            return String::new();
        }
        si(v)
    }
}

/// 2500 → "2.5k", 1e6 → "1M".
pub(crate) fn si(v: f64) -> String {
    let (d, suffix) = if v >= 1e12 {
        (1e12, "T")
    } else if v >= 1e9 {
        (1e9, "G")
    } else if v >= 1e6 {
        (1e6, "M")
    } else if v >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    format!("{}{suffix}", format::sig(v / d, 3))
}

/// Tick labels of a linear axis over `[lo, hi]`: as many decimals as a tenth of the span needs;
/// scientific notation for very large or very small magnitudes.
pub(crate) fn lin_fmt(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let span = (hi - lo).abs().max(f64::MIN_POSITIVE);
    let mag = lo.abs().max(hi.abs());
    let sci = !(1e-3..1e5).contains(&mag);
    let decimals = (-(span / 10.0).log10().floor()).clamp(0.0, 15.0) as usize;
    let mantissa = ((mag / (span / 10.0)).log10().ceil()).clamp(0.0, 6.0) as usize;
    move |v: &f64| {
        let v = *v;
        if !v.is_finite() {
            return String::new();
        }
        if v.abs() < span * 1e-9 {
            return "0".into();
        }
        if sci {
            let s = format!("{v:.mantissa$e}");
            match s.split_once('e') {
                Some((m, e)) => format!("{m}e{e}"),
                None => s,
            }
        } else {
            format!("{v:.decimals$}")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Clipping (plotters does not clip to the plotting area)

/// One plotters coordinate type for every axis, linear or logarithmic at run time: every chart is
/// a `Cartesian2d<Coord, Coord>`, so plotters' generic drawing code (mesh, axes, elements) and the
/// kit's helpers are compiled once, not once per combination of axis kinds (four of them; this
/// saved 49 kB of the page's WebAssembly). Each variant delegates to plotters' own coordinate.
pub(crate) enum Coord {
    Lin(plotters::coord::types::RangedCoordf64),
    Log(LogCoord<f64>),
}

impl Coord {
    pub fn lin(r: std::ops::Range<f64>) -> Coord {
        Coord::Lin(r.into())
    }
    pub fn log(r: std::ops::Range<f64>) -> Coord {
        Coord::Log(r.log_scale().into())
    }
}

impl Ranged for Coord {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        match self {
            Coord::Lin(c) => c.map(v, limit),
            Coord::Log(c) => c.map(v, limit),
        }
    }
    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        match self {
            Coord::Lin(c) => c.key_points(hint),
            Coord::Log(c) => c.key_points(hint),
        }
    }
    fn range(&self) -> std::ops::Range<f64> {
        match self {
            Coord::Lin(c) => c.range(),
            Coord::Log(c) => c.range(),
        }
    }
}

/// One axis of a chart: its range and whether it is logarithmic.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
}

impl Axis {
    pub fn lin(lo: f64, hi: f64) -> Axis {
        Axis { lo, hi, log: false }
    }
    pub fn log(lo: f64, hi: f64) -> Axis {
        Axis { lo, hi, log: true }
    }
    /// To the axis' linear space (log10 on a log axis); `None` if not drawable.
    fn fwd(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            None
        } else if self.log {
            (v > 0.0).then(|| v.log10())
        } else {
            Some(v)
        }
    }
    fn back(&self, t: f64) -> f64 {
        if self.log {
            10f64.powf(t)
        } else {
            t
        }
    }
    fn t_range(&self) -> (f64, f64) {
        if self.log {
            (self.lo.log10(), self.hi.log10())
        } else {
            (self.lo, self.hi)
        }
    }
    pub fn contains(&self, v: f64) -> bool {
        match self.fwd(v) {
            Some(t) => {
                let (a, b) = self.t_range();
                let tol = (b - a).abs() * 1e-9;
                t >= a - tol && t <= b + tol
            }
            None => false,
        }
    }
    /// `v` clamped into the range (non-positive values on a log axis go to the floor).
    pub fn clamp(&self, v: f64) -> f64 {
        if v.is_nan() || (self.log && v <= 0.0) {
            return self.lo;
        }
        v.clamp(self.lo, self.hi)
    }
}

/// The two axes of a chart.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    pub x: Axis,
    pub y: Axis,
}

pub(crate) type P = (f64, f64);

fn clip_segment(p0: P, p1: P, (x0, x1, y0, y1): (f64, f64, f64, f64)) -> Option<(P, P)> {
    let (dx, dy) = (p1.0 - p0.0, p1.1 - p0.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, p0.0 - x0), (dx, x1 - p0.0), (-dy, p0.1 - y0), (dy, y1 - p0.1)] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                if r > t1 {
                    return None;
                }
                t0 = t0.max(r);
            } else {
                if r < t0 {
                    return None;
                }
                t1 = t1.min(r);
            }
        }
    }
    Some(((p0.0 + t0 * dx, p0.1 + t0 * dy), (p0.0 + t1 * dx, p0.1 + t1 * dy)))
}

impl Frame {
    fn fwd_p(&self, p: P) -> Option<P> {
        Some((self.x.fwd(p.0)?, self.y.fwd(p.1)?))
    }
    fn back_p(&self, t: P) -> P {
        (self.x.back(t.0), self.y.back(t.1))
    }
    fn rect(&self) -> (f64, f64, f64, f64) {
        let (x0, x1) = self.x.t_range();
        let (y0, y1) = self.y.t_range();
        (x0.min(x1), x0.max(x1), y0.min(y1), y0.max(y1))
    }

    pub fn contains(&self, p: P) -> bool {
        self.x.contains(p.0) && self.y.contains(p.1)
    }

    /// The parts of a polyline inside the frame (undrawable points break the line).
    pub fn clip_polyline(&self, pts: &[P]) -> Vec<Vec<P>> {
        let rect = self.rect();
        let mut pieces: Vec<Vec<P>> = Vec::new();
        let mut current: Vec<P> = Vec::new();
        let mut prev: Option<P> = None;
        for &p in pts {
            let t = self.fwd_p(p);
            match (prev, t) {
                (Some(a), Some(b)) => match clip_segment(a, b, rect) {
                    Some((c, d)) => {
                        if current.last() != Some(&c) {
                            if current.len() > 1 {
                                pieces.push(std::mem::take(&mut current));
                            }
                            current.clear();
                            current.push(c);
                        }
                        current.push(d);
                    }
                    None => {
                        if current.len() > 1 {
                            pieces.push(std::mem::take(&mut current));
                        }
                        current.clear();
                    }
                },
                _ => {
                    if current.len() > 1 {
                        pieces.push(std::mem::take(&mut current));
                    }
                    current.clear();
                }
            }
            prev = t;
        }
        if current.len() > 1 {
            pieces.push(current);
        }
        pieces.into_iter().map(|piece| piece.into_iter().map(|t| self.back_p(t)).collect()).collect()
    }

    /// A polygon clipped to the frame (Sutherland–Hodgman); undrawable vertices are dropped.
    pub fn clip_polygon(&self, pts: &[P]) -> Vec<P> {
        let (x0, x1, y0, y1) = self.rect();
        let mut poly: Vec<P> = pts.iter().filter_map(|&p| self.fwd_p(p)).collect();
        type Edge = (fn(P, f64) -> bool, fn(P, P, f64) -> P, f64);
        fn ix(a: P, b: P, x: f64) -> P {
            let t = (x - a.0) / (b.0 - a.0);
            (x, a.1 + t * (b.1 - a.1))
        }
        fn iy(a: P, b: P, y: f64) -> P {
            let t = (y - a.1) / (b.1 - a.1);
            (a.0 + t * (b.0 - a.0), y)
        }
        let edges: [Edge; 4] = [
            (|p, v| p.0 >= v, ix, x0),
            (|p, v| p.0 <= v, ix, x1),
            (|p, v| p.1 >= v, iy, y0),
            (|p, v| p.1 <= v, iy, y1),
        ];
        for (inside, cut, v) in edges {
            if poly.is_empty() {
                break;
            }
            let input = std::mem::take(&mut poly);
            let mut s = *input.last().unwrap_or(&(0.0, 0.0));
            for &e in &input {
                if inside(e, v) {
                    if !inside(s, v) {
                        poly.push(cut(s, e, v));
                    }
                    poly.push(e);
                } else if inside(s, v) {
                    poly.push(cut(s, e, v));
                }
                s = e;
            }
        }
        poly.into_iter().filter(|p| p.0.is_finite() && p.1.is_finite()).map(|t| self.back_p(t)).collect()
    }
}
