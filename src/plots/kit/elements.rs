//! Drawing elements: markers, polylines, polygons, error bars, labels and notes.

use super::*;

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
