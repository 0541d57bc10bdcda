//! The legend: its entries and swatches (dash pattern, marker), drawn in
//! the plot corner that covers the fewest data points, or, where it would
//! cover data, each line labelled at its end instead.

use plotters::chart::SeriesLabelPosition;
use plotters::coord::Shift;
use plotters::element::EmptyElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::checks::perr;
use super::frame::{font, plot_bounds, text_size, Chart};
use super::hatch;
use super::marks::{dash_pieces, marker_polygon, Dash, Marker};
use super::style::{Sizes, GRID, INK};
use crate::error::Result;

/// Paths a legend swatch can draw: dashes of a line, or a box and the
/// lines of its hatch (a crossed hatch over a 40 px box needs a dozen).
const PIECES: usize = 14;

/// One legend entry: label and how its swatch looks.
#[derive(Clone, Debug)]
pub(crate) struct LegendEntry {
    pub label: String,
    pub color: RGBAColor,
    pub kind: Swatch,
}

/// How a legend swatch looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Swatch {
    Line,
    Box,
    /// A bar series: a box with its hatch pattern (see `hatch`).
    Hatched(usize),
    /// A series of a line chart: its dash pattern (`None`: no line) and
    /// marker (`None`: no marker).
    Styled {
        dash: Option<Dash>,
        marker: Option<Marker>,
    },
    /// A theory overlay: thin, with its dash pattern.
    Theory(Dash),
}

/// The plot corner where the legend covers the fewest of `occupied` data
/// points (fractions 0..1 of the plot area, y up), and how many it covers
/// there.
pub(crate) fn legend_corner<'a, DB: DrawingBackend + 'a>(
    chart: &Chart<'a, DB>,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
    entries: &[LegendEntry],
    occupied: &[(f64, f64)],
) -> (usize, SeriesLabelPosition) {
    let (pw, ph) = chart.plotting_area().dim_in_pixel();
    let text_w = entries
        .iter()
        .map(|e| text_size(root, &e.label, sz.tick).0)
        .max()
        .unwrap_or(0);
    let box_w = (text_w + sz.px(84.0)) as f64 / f64::from(pw.max(1));
    let box_h = (entries.len() as f64 * sz.tick * 1.45 + sz.px(28.0) as f64) / f64::from(ph.max(1));
    let corners = [
        (SeriesLabelPosition::UpperRight, (1.0 - box_w, 1.0 - box_h)),
        (SeriesLabelPosition::UpperLeft, (0.0, 1.0 - box_h)),
        (SeriesLabelPosition::LowerRight, (1.0 - box_w, 0.0)),
        (SeriesLabelPosition::LowerLeft, (0.0, 0.0)),
    ];
    let mut best = (usize::MAX, SeriesLabelPosition::UpperRight);
    for (pos, (x0, y0)) in corners {
        let n = occupied
            .iter()
            .filter(|&&(x, y)| x >= x0 && x <= x0 + box_w && y >= y0 && y <= y0 + box_h)
            .count();
        if n < best.0 {
            best = (n, pos);
        }
    }
    best
}

/// Draws the legend in the plot corner that covers the fewest of
/// `occupied` data points (given as fractions 0..1 of the plot area, y up).
pub(crate) fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
    entries: &[LegendEntry],
    occupied: &[(f64, f64)],
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let best = legend_corner(chart, root, sz, entries, occupied);
    let lw = sz.line;
    let thin = (f64::from(lw) * 0.6).round().max(1.0) as u32;
    let swatch = sz.px(40.0);
    let r = sz.px(5.0).max(3);
    let scale = sz.scale;
    for e in entries {
        let color = e.color;
        let kind = e.kind;
        // What the swatch shows: a line (dash pattern, width) and a marker.
        let (line, marker): (Option<(Dash, u32)>, Option<Marker>) = match kind {
            Swatch::Line => (Some((Dash(&[]), lw)), None),
            Swatch::Box | Swatch::Hatched(_) => (Some((Dash(&[]), (2 * r + 4) as u32)), None),
            Swatch::Styled { dash, marker } => (dash.map(|d| (d, lw)), marker),
            Swatch::Theory(dash) => (Some((dash, thin)), None),
        };
        let mut pieces: Vec<(Vec<(i32, i32)>, ShapeStyle)> = match line {
            Some((dash, width)) => {
                let st = ShapeStyle {
                    color,
                    filled: true,
                    stroke_width: width,
                };
                dash_pieces(&[(0.0, 0.0), (f64::from(swatch), 0.0)], dash, scale)
                    .into_iter()
                    .map(|p| {
                        let v = p.iter().map(|q| (q.0.round() as i32, 0)).collect();
                        (v, st)
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        if let Swatch::Hatched(p) = kind {
            // The box's hatch, one polyline per family of lines.
            let c = color.rgb();
            let st =
                hatch::line_color(RGBColor(c.0, c.1, c.2)).stroke_width(sz.px(2.0).max(1) as u32);
            let h = f64::from(r + 2);
            for family in hatch::hatch((0.0, -h, f64::from(swatch), h), p, f64::from(sz.px(8.0))) {
                for (a, b) in family {
                    let path = vec![
                        (a.0.round() as i32, a.1.round() as i32),
                        (b.0.round() as i32, b.1.round() as i32),
                    ];
                    pieces.push((path, st));
                }
            }
        }
        pieces.truncate(PIECES);
        let none = ShapeStyle {
            color: TRANSPARENT,
            filled: false,
            stroke_width: 0,
        };
        pieces.resize(PIECES, (vec![], none));
        let shape: Vec<(i32, i32)> = marker
            .map(|m| {
                marker_polygon(m, r)
                    .into_iter()
                    .map(|(x, y)| (x + swatch / 2, y))
                    .collect()
            })
            .unwrap_or_default();
        let fill = ShapeStyle {
            color,
            filled: true,
            stroke_width: 1,
        };
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(perr)?
            .label(e.label.clone())
            .legend(move |(x, y)| {
                let p = pieces.clone();
                EmptyElement::at((x, y))
                    + PathElement::new(p[0].0.clone(), p[0].1)
                    + PathElement::new(p[1].0.clone(), p[1].1)
                    + PathElement::new(p[2].0.clone(), p[2].1)
                    + PathElement::new(p[3].0.clone(), p[3].1)
                    + PathElement::new(p[4].0.clone(), p[4].1)
                    + PathElement::new(p[5].0.clone(), p[5].1)
                    + PathElement::new(p[6].0.clone(), p[6].1)
                    + PathElement::new(p[7].0.clone(), p[7].1)
                    + PathElement::new(p[8].0.clone(), p[8].1)
                    + PathElement::new(p[9].0.clone(), p[9].1)
                    + PathElement::new(p[10].0.clone(), p[10].1)
                    + PathElement::new(p[11].0.clone(), p[11].1)
                    + PathElement::new(p[12].0.clone(), p[12].1)
                    + PathElement::new(p[13].0.clone(), p[13].1)
                    + Polygon::new(shape.clone(), fill)
            });
    }
    chart
        .configure_series_labels()
        .position(best.1)
        .margin(sz.px(10.0))
        .legend_area_size(swatch + sz.px(8.0))
        .label_font(font(sz.tick, INK))
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .draw()
        .map_err(perr)
}

/// Samples points along a polyline (as plot fractions) for legend placement.
pub(crate) fn occupancy(x: &Axis, y: &Axis, pts: &[(f64, f64)], out: &mut Vec<(f64, f64)>) {
    let f = |p: &(f64, f64)| (x.screen_frac(p.0), y.screen_frac(p.1));
    let step = (pts.len() / 400).max(1);
    let mut prev: Option<(f64, f64)> = None;
    for p in pts.iter().step_by(step) {
        let q = f(p);
        if let Some(a) = prev {
            for k in 1..8 {
                let t = k as f64 / 8.0;
                out.push((a.0 + t * (q.0 - a.0), a.1 + t * (q.1 - a.1)));
            }
        }
        out.push(q);
        prev = Some(q);
    }
}

/// A legend where one fits without covering data; otherwise each line
/// labelled directly, next to its right end, in a darker shade of its
/// colour, labels pushed apart vertically so none overlap. A chart with
/// more than 8 entries keeps its legend (that many direct labels would
/// crowd the ends of the lines).
pub(super) fn legend_or_labels<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
    entries: &[LegendEntry],
    ends: &[(f64, f64)],
    occ: &[(f64, f64)],
) -> Result<()> {
    let (covered, _) = legend_corner(chart, root, sz, entries, occ);
    if covered == 0 || entries.len() > 8 || ends.len() != entries.len() {
        return legend(chart, root, sz, entries, occ);
    }
    let area = chart.plotting_area();
    let (x0, x1, y0, y1) = plot_bounds(chart);
    let gap = sz.px(8.0);
    // Boxes (entry, left, top, width, height) in pixels: right-aligned left
    // of the line's end and just above it.
    let mut boxes: Vec<(usize, i32, i32, i32, i32)> = entries
        .iter()
        .zip(ends)
        .enumerate()
        .map(|(k, (e, p))| {
            let (px, py) = area.map_coordinate(p);
            let (w, h) = text_size(root, &e.label, sz.tick);
            let left = (px - gap - w).clamp(x0, (x1 - w).max(x0));
            let top = (py - gap - h).clamp(y0, (y1 - h).max(y0));
            (k, left, top, w, h)
        })
        .collect();
    // Push overlapping boxes apart: by top, each moves below any earlier
    // box it overlaps; if that runs off the bottom, all move up.
    boxes.sort_by_key(|b| (b.2, b.0));
    for k in 1..boxes.len() {
        let (l, w) = (boxes[k].1, boxes[k].3);
        let bottom = boxes[..k]
            .iter()
            .filter(|o| l < o.1 + o.3 && o.1 < l + w)
            .map(|o| o.2 + o.4)
            .max();
        if let Some(bottom) = bottom {
            boxes[k].2 = boxes[k].2.max(bottom + 2);
        }
    }
    if let Some(over) = boxes
        .iter()
        .map(|b| b.2 + b.4 - y1)
        .max()
        .filter(|&o| o > 0)
    {
        for b in &mut boxes {
            b.2 = (b.2 - over).max(y0);
        }
    }
    // Drawn anchored at each line's end (data coordinates), offsets in
    // pixels, so the labels land right in grid cells too.
    let pad = sz.px(2.0);
    let mut elems = Vec::new();
    for (k, left, top, w, h) in boxes {
        let e = &entries[k];
        let (px, py) = area.map_coordinate(&ends[k]);
        let (dx, dy) = (left - px, top - py);
        let shade = |c: u8| (f64::from(c) * 0.7) as u8;
        let dark = RGBColor(shade(e.color.0), shade(e.color.1), shade(e.color.2));
        elems.push(
            EmptyElement::at(ends[k])
                + Rectangle::new(
                    [(dx - pad, dy - pad), (dx + w + pad, dy + h + pad)],
                    WHITE.mix(0.85).filled(),
                )
                + Text::new(
                    e.label.clone(),
                    (dx, dy),
                    font(sz.tick, dark).pos(Pos::new(HPos::Left, VPos::Top)),
                ),
        );
    }
    chart.draw_series(elems).map_err(perr)?;
    Ok(())
}

/// A theory overlay's legend label: says "(theory)" unless it already does.
pub(crate) fn theory_label(label: &str) -> String {
    if label.contains("theory") {
        label.to_string()
    } else {
        format!("{label} (theory)")
    }
}
