//! Shared drawing machinery: theme, ranges, tick labels, clipping, markers, legend and layout.

use super::{Marker, Style};
use crate::format;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::element::{ComposedElement, DashedPathElement};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub(crate) fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Colours and sizes derived from a [`Style`].
#[derive(Clone, Debug)]
pub(crate) struct Theme {
    pub bg: RGBColor,
    pub fg: RGBColor,
    pub muted: RGBColor,
    pub grid: RGBColor,
    pub grid_light: RGBColor,
    /// The exact gradient's line: black, or white in dark mode.
    pub exact: RGBColor,
    /// Base font size (pixels).
    pub font: f64,
    /// Tick labels, notes.
    pub small: f64,
    /// Data line width.
    pub line: u32,
    /// The exact gradient's line width.
    pub thick: u32,
    /// Grid, axes, error bars.
    pub thin: u32,
    /// Marker "radius".
    pub marker: f64,
    /// Pixel scale (device pixel ratio).
    pub s: f64,
}

impl Theme {
    pub fn new(style: &Style) -> Theme {
        let s = if style.scale.is_finite() && style.scale > 0.0 { style.scale.clamp(0.25, 8.0) } else { 1.0 };
        let k = if style.lecture { 1.4 } else { 1.0 };
        let line = ((if style.lecture { 3.0 } else { 2.0 }) * s).round().max(1.0) as u32;
        let (bg, fg, muted, grid, grid_light, exact) = if style.dark {
            (
                RGBColor(0x11, 0x11, 0x11),
                RGBColor(0xE6, 0xE6, 0xE6),
                RGBColor(0xA0, 0xA0, 0xA0),
                RGBColor(0x3A, 0x3A, 0x3A),
                RGBColor(0x24, 0x24, 0x24),
                RGBColor(0xFF, 0xFF, 0xFF),
            )
        } else {
            (
                RGBColor(0xFF, 0xFF, 0xFF),
                RGBColor(0x22, 0x22, 0x22),
                RGBColor(0x66, 0x66, 0x66),
                RGBColor(0xD4, 0xD4, 0xD4),
                RGBColor(0xEE, 0xEE, 0xEE),
                RGBColor(0x00, 0x00, 0x00),
            )
        };
        Theme {
            bg,
            fg,
            muted,
            grid,
            grid_light,
            exact,
            font: 13.0 * s * k,
            small: 11.5 * s * k,
            line,
            thick: line * 2,
            thin: s.round().max(1.0) as u32,
            marker: (if style.lecture { 6.0 } else { 4.5 }) * s,
            s,
        }
    }

    /// `v` CSS pixels in device pixels.
    pub fn px(&self, v: f64) -> i32 {
        (v * self.s).round() as i32
    }

    pub fn text(&self, size: f64, color: RGBColor) -> TextStyle<'static> {
        // `FontFamily::SansSerif`, not the string "sans-serif": plotters lower-cases family names
        // given as strings, which pulled Unicode's case tables (≈ 12 kB) into the page.
        (FontFamily::SansSerif, size).into_font().color(&color)
    }
}

pub(crate) fn anchor(h: HPos, v: VPos) -> Pos {
    Pos::new(h, v)
}

// ---------------------------------------------------------------------------------------------
// Ranges

/// `[lo, hi]` of the finite values, padded by 8 % (a degenerate range gets a sensible width).
pub(crate) fn lin_range(vals: impl IntoIterator<Item = f64>, default: (f64, f64)) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return default;
    }
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
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals.into_iter().filter(|v| v.is_finite() && *v > 0.0) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return default;
    }
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
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals.into_iter().filter(|v| v.is_finite() && *v > 0.0) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return default;
    }
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

type P = (f64, f64);

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

// ---------------------------------------------------------------------------------------------
// Elements

/// A marker element at a coordinate: a filled polygon and its outline.
pub(crate) type MarkerEl<C, DB> = ComposedElement<C, DB, Polygon<(i32, i32)>, PathElement<(i32, i32)>>;

/// The marker `m` at `at`: filled in `color`, or hollow (filled with the background).
pub(crate) fn marker_el<C, DB: DrawingBackend>(
    at: C,
    m: Marker,
    r: f64,
    color: RGBColor,
    filled: bool,
    th: &Theme,
) -> MarkerEl<C, DB> {
    let pts: Vec<(i32, i32)> = m.outline(r).into_iter().map(|(x, y)| (x.round() as i32, y.round() as i32)).collect();
    let mut outline = pts.clone();
    outline.push(pts[0]);
    let fill = if filled { color.filled() } else { th.bg.filled() };
    let width = if filled { th.thin } else { (th.line.saturating_sub(th.thin / 2)).max(th.thin) };
    EmptyElement::at(at) + Polygon::new(pts, fill) + PathElement::new(outline, color.stroke_width(width))
}

/// The chart's plotting area.
pub(crate) type Plot<DB, X, Y> = DrawingArea<DB, Cartesian2d<X, Y>>;

/// A polyline clipped to the frame, solid or dashed (`(dash, gap)` in pixels).
pub(crate) fn polyline<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    pa: &Plot<DB, X, Y>,
    fr: &Frame,
    pts: &[P],
    style: ShapeStyle,
    dash: Option<(i32, i32)>,
) -> Result<(), String> {
    for piece in fr.clip_polyline(pts) {
        match dash {
            Some((d, g)) => pa.draw(&DashedPathElement::new(piece, d.max(1), g.max(1), style)).map_err(err)?,
            None => pa.draw(&PathElement::new(piece, style)).map_err(err)?,
        }
    }
    Ok(())
}

/// A filled polygon clipped to the frame.
pub(crate) fn polygon<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    pa: &Plot<DB, X, Y>,
    fr: &Frame,
    pts: &[P],
    color: RGBAColor,
) -> Result<(), String> {
    let clipped = fr.clip_polygon(pts);
    if clipped.len() >= 3 {
        pa.draw(&Polygon::new(clipped, color.filled())).map_err(err)?;
    }
    Ok(())
}

/// Markers at the points inside the frame.
#[allow(clippy::too_many_arguments)]
pub(crate) fn markers<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    pa: &Plot<DB, X, Y>,
    fr: &Frame,
    pts: &[P],
    m: Marker,
    color: RGBColor,
    filled: bool,
    th: &Theme,
) -> Result<(), String> {
    for &p in pts.iter().filter(|&&p| fr.contains(p)) {
        pa.draw(&marker_el(p, m, th.marker, color, filled, th)).map_err(err)?;
    }
    Ok(())
}

/// A vertical error bar from `lo` to `hi` at `x`, clipped, with caps where not clipped.
#[allow(clippy::too_many_arguments)]
pub(crate) fn error_bar<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    pa: &Plot<DB, X, Y>,
    fr: &Frame,
    x: f64,
    lo: f64,
    hi: f64,
    color: RGBColor,
    th: &Theme,
) -> Result<(), String> {
    if !(fr.x.contains(x) && lo.is_finite() && hi.is_finite()) || hi < lo {
        return Ok(());
    }
    let style = color.stroke_width(th.thin.max(1) + u32::from(th.s >= 1.5));
    let (a, b) = (fr.y.clamp(lo), fr.y.clamp(hi));
    if fr.y.log && hi <= 0.0 {
        return Ok(());
    }
    pa.draw(&PathElement::new(vec![(x, a), (x, b)], style)).map_err(err)?;
    let cap = th.px(3.5);
    for (end, v) in [(a, lo), (b, hi)] {
        if fr.y.contains(v) {
            pa.draw(&(EmptyElement::at((x, end)) + PathElement::new(vec![(-cap, 0), (cap, 0)], style))).map_err(err)?;
        }
    }
    Ok(())
}

/// A label at a chart coordinate, offset in pixels.
#[allow(clippy::too_many_arguments)]
pub(crate) fn label_at<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    pa: &Plot<DB, X, Y>,
    at: P,
    offset: (i32, i32),
    text: &str,
    style: TextStyle<'static>,
) -> Result<(), String> {
    pa.draw(&(EmptyElement::at(at) + Text::new(text.to_string(), offset, style))).map_err(err)
}

/// Estimated width of `text` in pixels, with some slack (plotters' native estimate is crude; in the
/// browser it is measured, and the slack only adds a little air).
pub(crate) fn text_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
) -> Result<i32, String> {
    let (w, _) = area.estimate_text_size(text, style).map_err(err)?;
    Ok((w as f64 * 1.15).ceil() as i32)
}

/// A note centred in an area.
pub(crate) fn note<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, th: &Theme, text: &str) -> Result<(), String> {
    note_at(area, th, text, 0.5)
}

/// A note centred horizontally, at `frac` of the height.
pub(crate) fn note_at<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    th: &Theme,
    text: &str,
    frac: f64,
) -> Result<(), String> {
    let (w, h) = area.dim_in_pixel();
    let style = th.text(th.font, th.muted).pos(anchor(HPos::Center, VPos::Center));
    let y = (h as f64 * frac).round() as i32;
    area.draw(&Text::new(text.to_string(), (w as i32 / 2, y), style)).map_err(err)
}

// ---------------------------------------------------------------------------------------------
// Legend and layout

/// What a legend entry shows before its label.
#[derive(Clone, Debug)]
pub(crate) enum Swatch {
    /// A line (dashed or not) with an optional marker (shape, filled) in its middle.
    Line { color: RGBColor, dashed: bool, width: u32, marker: Option<(Marker, bool)> },
    /// A translucent band with a line and a hollow marker (a running mean ± 2 s.e.).
    Band { color: RGBColor, marker: Option<Marker> },
    /// A bar: `light` (bias²) or full (variance); `hatched` for Monte Carlo.
    Bar { color: RGBColor, light: bool, hatched: bool },
    /// An error bar through a hollow marker.
    ErrorBar { color: RGBColor, marker: Marker },
}

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub swatch: Swatch,
    pub label: String,
}

impl Entry {
    pub fn new(swatch: Swatch, label: impl Into<String>) -> Entry {
        Entry { swatch, label: label.into() }
    }
}

/// Fill, hatch and outline of a bar in pixel coordinates of `area` (`x0 < x1`, `top < bottom`).
pub(crate) fn bar_px<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    th: &Theme,
    (x0, top, x1, bottom): (i32, i32, i32, i32),
    color: RGBColor,
    light: bool,
    hatched: bool,
) -> Result<(), String> {
    if x1 <= x0 || bottom < top {
        return Ok(());
    }
    let alpha = match (light, hatched) {
        (false, false) => 0.9,
        (true, false) => 0.35,
        (false, true) => 0.22,
        (true, true) => 0.1,
    };
    area.draw(&Rectangle::new([(x0, top), (x1, bottom)], color.mix(alpha).filled())).map_err(err)?;
    if hatched {
        // 45° lines, clipped to the rectangle.
        let step = th.px(5.0).max(3);
        let (w, h) = (x1 - x0, bottom - top);
        let hatch = color.stroke_width(th.thin);
        let mut k = step;
        while k < w + h {
            // The line x + y = k (relative), from its entry to its exit of the box.
            let (ax, ay) = if k <= h { (0, k) } else { (k - h, h) };
            let (bx, by) = if k <= w { (k, 0) } else { (w, k - w) };
            area.draw(&PathElement::new(vec![(x0 + ax, top + ay), (x0 + bx, top + by)], hatch)).map_err(err)?;
            k += step;
        }
    }
    let outline = color.stroke_width(th.thin);
    area.draw(&PathElement::new(vec![(x0, bottom), (x0, top), (x1, top), (x1, bottom)], outline)).map_err(err)?;
    Ok(())
}

fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    th: &Theme,
    swatch: &Swatch,
    (x, cy): (i32, i32),
    w: i32,
    h: i32,
) -> Result<(), String> {
    let mid = (x + w / 2, cy);
    match *swatch {
        Swatch::Line { color, dashed, width, marker } => {
            let style = color.stroke_width(width);
            let pts = vec![(x, cy), (x + w, cy)];
            if width == 0 {
                // marker only
            } else if dashed {
                area.draw(&DashedPathElement::new(pts, th.px(5.0).max(2), th.px(3.0).max(2), style)).map_err(err)?;
            } else {
                area.draw(&PathElement::new(pts, style)).map_err(err)?;
            }
            if let Some((m, filled)) = marker {
                area.draw(&marker_el(mid, m, th.marker, color, filled, th)).map_err(err)?;
            }
        }
        Swatch::Band { color, marker } => {
            area.draw(&Rectangle::new([(x, cy - h / 3), (x + w, cy + h / 3)], color.mix(0.18).filled()))
                .map_err(err)?;
            area.draw(&PathElement::new(vec![(x, cy), (x + w, cy)], color.stroke_width(th.line))).map_err(err)?;
            if let Some(m) = marker {
                area.draw(&marker_el(mid, m, th.marker, color, false, th)).map_err(err)?;
            }
        }
        Swatch::Bar { color, light, hatched } => {
            bar_px(area, th, (x + w / 4, cy - h * 2 / 5, x + 3 * w / 4, cy + h * 2 / 5), color, light, hatched)?;
        }
        Swatch::ErrorBar { color, marker } => {
            let style = color.stroke_width(th.thin);
            let (t, b) = (cy - h * 2 / 5, cy + h * 2 / 5);
            let cap = th.px(3.5);
            area.draw(&PathElement::new(vec![(mid.0, t), (mid.0, b)], style)).map_err(err)?;
            area.draw(&PathElement::new(vec![(mid.0 - cap, t), (mid.0 + cap, t)], style)).map_err(err)?;
            area.draw(&PathElement::new(vec![(mid.0 - cap, b), (mid.0 + cap, b)], style)).map_err(err)?;
            area.draw(&marker_el(mid, marker, th.marker, color, false, th)).map_err(err)?;
        }
    }
    Ok(())
}

/// Fill the background, draw an optional subtitle and the legend (flowing rows at the top), and
/// return the area left for the chart — or `None` when the area is too small to hold a chart
/// (a note is drawn instead).
pub(crate) fn layout<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    th: &Theme,
    subtitle: Option<&str>,
    entries: &[Entry],
) -> Result<Option<DrawingArea<DB, Shift>>, String> {
    root.fill(&th.bg).map_err(err)?;
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    if w < th.px(140.0) || h < th.px(100.0) {
        if w > 20 && h > 10 {
            note(root, th, "too small")?;
        }
        return Ok(None);
    }
    let pad = th.px(8.0);
    let mut y = pad / 2;
    if let Some(sub) = subtitle {
        let style = th.text(th.small, th.muted).pos(anchor(HPos::Left, VPos::Top));
        root.draw(&Text::new(sub.to_string(), (pad, y), style)).map_err(err)?;
        y += (th.small * 1.5).round() as i32;
    }
    if !entries.is_empty() {
        let font = th.text(th.small, th.fg).pos(anchor(HPos::Left, VPos::Center));
        let row_h = (th.small * 1.6).round() as i32;
        let (sw, gap, spacing) = (th.px(26.0), th.px(5.0), th.px(14.0));
        let mut x = pad;
        for e in entries {
            let ew = sw + gap + text_width(root, &e.label, &font)?;
            if x > pad && x + ew > w - pad {
                x = pad;
                y += row_h;
            }
            if y + row_h > h / 2 {
                break; // never let the legend take more than half the height
            }
            let cy = y + row_h / 2;
            draw_swatch(root, th, &e.swatch, (x, cy), sw, row_h)?;
            root.draw(&Text::new(e.label.clone(), (x + sw + gap, cy), font.clone())).map_err(err)?;
            x += ew + spacing;
        }
        y += row_h;
    }
    y += pad / 2;
    Ok(Some(root.split_vertically(y.clamp(0, h / 2)).1))
}

/// Width of the y label area for the given tick labels (plus the axis description).
pub(crate) fn y_label_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    th: &Theme,
    labels: &[String],
) -> Result<u32, String> {
    let font = th.text(th.small, th.fg);
    let mut wmax = 0;
    for l in labels {
        wmax = wmax.max(text_width(area, l, &font)?);
    }
    Ok(wmax as u32 + (th.font * 1.6 + th.small * 0.8).round() as u32 + th.px(6.0) as u32)
}

/// Height of an x label area with one line of tick labels and the axis description.
pub(crate) fn x_label_height(th: &Theme) -> u32 {
    (th.small * 1.4 + th.font * 1.6).round() as u32 + th.px(6.0) as u32
}

/// A chart builder with the common margins.
pub(crate) fn builder<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    th: &Theme,
    x_label: u32,
    y_label: u32,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(area);
    b.margin_top(th.px(6.0))
        .margin_right(th.px(20.0))
        .margin_left(th.px(4.0))
        .margin_bottom(th.px(4.0))
        .x_label_area_size(x_label)
        .y_label_area_size(y_label);
    b
}

/// How one axis of the mesh is labelled.
pub(crate) struct AxisLabels<'f> {
    pub desc: &'f str,
    pub fmt: &'f dyn Fn(&f64) -> String,
    /// Number of labels (0: no ticks, no grid lines).
    pub n: usize,
    /// The range of a log axis (for its grid: decades bold, 2…9 light).
    pub log: Option<(f64, f64)>,
}

impl AxisLabels<'_> {
    /// (labels, light lines per label) for plotters.
    fn counts(&self) -> (usize, usize) {
        match self.log {
            Some((lo, hi)) if self.n > 0 => {
                // plotters offers the 2…9 multiples only when asked for ≥ 10 points per decade.
                let decades = (hi / lo).log10().floor().max(1.0) as usize;
                let n = if decades < 2 { self.n.max(10) } else { self.n };
                (n, (12 * decades).div_ceil(n).max(1))
            }
            _ => (self.n, 10),
        }
    }
}

/// Grid, axes, tick labels and axis descriptions in the theme's colours.
pub(crate) fn mesh<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    th: &Theme,
    x: AxisLabels,
    y: AxisLabels,
) -> Result<(), String>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let ((xn, xl), (yn, yl)) = (x.counts(), y.counts());
    let mut m = chart.configure_mesh();
    m.bold_line_style(th.grid.stroke_width(th.thin))
        .light_line_style(th.grid_light.stroke_width(th.thin))
        .axis_style(th.muted.stroke_width(th.thin))
        .label_style(th.text(th.small, th.fg))
        .axis_desc_style(th.text(th.font, th.fg))
        .set_all_tick_mark_size(th.px(4.0))
        .x_labels(xn)
        .y_labels(yn)
        .x_max_light_lines(xl)
        .y_max_light_lines(yl)
        .x_label_formatter(x.fmt)
        .y_label_formatter(y.fmt)
        .x_desc(x.desc)
        .y_desc(y.desc);
    if x.n == 0 {
        m.disable_x_mesh();
    }
    if y.n == 0 {
        m.disable_y_mesh();
    }
    m.draw().map_err(err)
}

/// Number of tick labels for an axis `px` pixels long.
pub(crate) fn n_labels(px: u32, th: &Theme, per_label: f64) -> usize {
    ((px as f64 / (th.font * per_label)).floor() as usize).clamp(2, 10)
}
