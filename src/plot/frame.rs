//! The drawing helpers every chart kind shares: the titled frame with axes
//! and grid, text in the bundled font (plain or on a white box), and pixel
//! geometry.

use plotters::chart::{ChartBuilder, ChartContext};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::checks::perr;
use super::opts::Opts;
use super::style::{Sizes, FONT_FAMILY, GRID, INK};
use crate::error::Result;

/// Text style in the bundled font.
pub(crate) fn font(size: f64, color: RGBColor) -> TextStyle<'static> {
    TextStyle {
        font: (FONT_FAMILY, size).into_font(),
        color: color.to_backend_color(),
        pos: Pos::default(),
    }
}

/// Text width and height in pixels.
pub(crate) fn text_size<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    size: f64,
) -> (i32, i32) {
    root.estimate_text_size(text, &font(size, INK))
        .map(|(w, h)| (w as i32, h as i32))
        .unwrap_or((
            (text.chars().count() as f64 * size * 0.6) as i32,
            size as i32,
        ))
}

/// The chart type every chart draws on.
pub(crate) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

/// Where the axis tick labels go.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum XAxisAt {
    Bottom,
    Top,
}

/// Builds the titled chart with axes, labels and grid.
pub(crate) fn frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    opts: &Opts,
    sz: &Sizes,
    x: Axis,
    y: Axis,
    x_at: XAxisAt,
    x_grid: bool,
) -> Result<Chart<'a, DB>> {
    let tick_w = y
        .tick_labels()
        .iter()
        .map(|l| text_size(root, l, sz.tick).0)
        .max()
        .unwrap_or(0);
    let y_area = tick_w
        + sz.px(16.0)
        + if opts.y_label.is_empty() {
            0
        } else {
            (sz.label * 1.6) as i32
        };
    // The last tick label is centred on the axis's end and sticks out by
    // half its width; a category's label is centred inside its column.
    let x_labels = x.tick_labels();
    let last_w = x_labels
        .last()
        .filter(|_| !x.is_categorical())
        .map(|l| text_size(root, l, sz.tick).0)
        .unwrap_or(0);
    let x_area = (sz.tick * 1.6) as i32
        + sz.px(8.0)
        + if opts.x_label.is_empty() {
            0
        } else {
            (sz.label * 1.6) as i32
        };
    let m = sz.margin as i32;
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(&opts.title, font(sz.title, INK))
        .margin_top(m / 2)
        .margin_bottom(m)
        .margin_left(m)
        .margin_right(m.max(last_w / 2 + sz.px(6.0)))
        .y_label_area_size(y_area);
    match x_at {
        XAxisAt::Bottom => builder.x_label_area_size(x_area),
        XAxisAt::Top => builder.top_x_label_area_size(x_area),
    };
    let mut chart = builder.build_cartesian_2d(x, y).map_err(perr)?;
    let mut mesh = chart.configure_mesh();
    mesh.label_style(font(sz.tick, INK))
        .axis_desc_style(font(sz.label, INK))
        .bold_line_style(GRID.mix(0.7))
        .light_line_style(GRID.mix(0.3))
        .axis_style(INK.mix(0.8))
        .x_labels(30)
        .y_labels(30)
        .set_all_tick_mark_size(sz.px(5.0));
    if !opts.x_label.is_empty() {
        mesh.x_desc(axis_label(&opts.x_label, opts.log_x));
    }
    if !opts.y_label.is_empty() {
        mesh.y_desc(axis_label(&opts.y_label, opts.log_y));
    }
    if !x_grid {
        mesh.disable_x_mesh();
    }
    mesh.draw().map_err(perr)?;
    Ok(chart)
}

/// An axis label as drawn: a log axis says so, unless its label already
/// mentions "log" (the reader must not mistake equal steps for equal
/// differences).
pub(crate) fn axis_label(label: &str, log: bool) -> String {
    if log && !label.to_lowercase().contains("log") {
        format!("{label}, log scale")
    } else {
        label.to_string()
    }
}
/// Draws `text` with its left-centre (or other anchor) at pixel `pos`.
pub(crate) fn text_at<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    pos: (i32, i32),
    size: f64,
    color: RGBColor,
    anchor: (HPos, VPos),
) -> Result<()> {
    let style = font(size, color).pos(Pos::new(anchor.0, anchor.1));
    root.draw(&Text::new(text.to_string(), pos, style))
        .map_err(perr)
}

/// Draws `text` on a white translucent box; `pos` is the box's left-centre.
pub(crate) fn boxed_text<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    pos: (i32, i32),
    size: f64,
    color: RGBColor,
) -> Result<(i32, i32, i32, i32)> {
    let (w, h) = text_size(root, text, size);
    let pad = 3;
    let rect = (
        pos.0 - pad,
        pos.1 - h / 2 - pad,
        pos.0 + w + pad,
        pos.1 + h / 2 + pad,
    );
    root.draw(&Rectangle::new(
        [(rect.0, rect.1), (rect.2, rect.3)],
        WHITE.mix(0.85).filled(),
    ))
    .map_err(perr)?;
    text_at(root, text, pos, size, color, (HPos::Left, VPos::Center))?;
    Ok(rect)
}

/// A plot-area pixel rectangle `(x0, y0, x1, y1)`.
pub(crate) type PxRect = (i32, i32, i32, i32);

/// True if two pixel rectangles overlap.
pub(crate) fn overlaps(a: PxRect, b: PxRect) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// Drops points closer than `min_px` pixels to the previous kept point, so
/// thick lines are drawn as few, longer segments (plotters draws each
/// segment of a thick line separately; very short ones leave spikes).
pub(crate) fn simplify(
    pts: &[(f64, f64)],
    x: &Axis,
    y: &Axis,
    plot_px: (u32, u32),
    min_px: f64,
) -> Vec<(f64, f64)> {
    let to_px = |p: &(f64, f64)| {
        (
            x.screen_frac(p.0) * f64::from(plot_px.0),
            y.screen_frac(p.1) * f64::from(plot_px.1),
        )
    };
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(pts.len());
    let mut last = (f64::NAN, f64::NAN);
    for (k, p) in pts.iter().enumerate() {
        let q = to_px(p);
        let d = (q.0 - last.0).hypot(q.1 - last.1);
        let far = d.is_nan() || d >= min_px;
        if far || k + 1 == pts.len() {
            out.push(*p);
            last = q;
        }
    }
    out
}

/// The plotting area's pixel bounds: left, right, top, bottom.
pub(crate) fn plot_bounds<DB: DrawingBackend>(chart: &Chart<'_, DB>) -> (i32, i32, i32, i32) {
    let area = chart.plotting_area();
    let (x, y) = (area.get_x_axis_pixel_range(), area.get_y_axis_pixel_range());
    (x.start, x.end, y.start, y.end)
}
