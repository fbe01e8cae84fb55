//! Colours and sizes derived from a plot's `Style`.

use super::*;

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
