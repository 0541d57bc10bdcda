//! Drawing the series of a line chart: error bands (or error bars for
//! unconnected points), lines with their dash patterns, markers, theory
//! overlays on top, and point labels placed where they overlap nothing.

use plotters::coord::Shift;
use plotters::element::EmptyElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::checks::perr;
use super::frame::{font, overlaps, plot_bounds, text_size, Chart, PxRect};
use super::legend::{occupancy, theory_label, LegendEntry, Swatch};
use super::marks::{draw_markers, draw_path, marker_points, theory_dash, DASHES, MARKERS};
use super::series::{Series, SeriesStyle};
use super::style::{alpha, dark_color, series_color, Sizes, INK};
use crate::error::Result;

#[allow(clippy::too_many_arguments)]
pub(super) fn draw_series_list<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
    series: &[Series],
    overlays: &[Series],
    x: &Axis,
    y: &Axis,
    occ: &mut Vec<(f64, f64)>,
    avoid: &[PxRect],
) -> Result<Vec<LegendEntry>> {
    let mut entries = Vec::new();
    for (i, s) in series.iter().enumerate() {
        if let (Some(b), SeriesStyle::Points) = (&s.band, s.style) {
            // Unconnected points: a band between them would invent values
            // nobody measured, so each point gets its own error bar.
            let cap = sz.px(7.0);
            let color = series_color(i);
            for (p, q) in s.points.iter().zip(b) {
                let (x0, x1) = (p.0, p.0);
                let top = chart.backend_coord(&(x0, q.1));
                let bot = chart.backend_coord(&(x1, q.0));
                chart
                    .plotting_area()
                    .draw(&PathElement::new(
                        vec![(x0, q.0), (x1, q.1)],
                        color.stroke_width(sz.px(2.0).max(1) as u32),
                    ))
                    .map_err(perr)?;
                for yv in [top.1, bot.1] {
                    let root = chart.plotting_area().strip_coord_spec();
                    let (ox, oy) = root.get_base_pixel();
                    root.draw(&PathElement::new(
                        vec![(top.0 - cap - ox, yv - oy), (top.0 + cap - ox, yv - oy)],
                        color.stroke_width(sz.px(2.0).max(1) as u32),
                    ))
                    .map_err(perr)?;
                }
                occupancy(x, y, &[(p.0, q.0), (p.0, q.1)], occ);
            }
            continue;
        }
        if let Some(b) = &s.band {
            let mut poly: Vec<(f64, f64)> =
                s.points.iter().zip(b).map(|(p, q)| (p.0, q.1)).collect();
            poly.extend(s.points.iter().zip(b).rev().map(|(p, q)| (p.0, q.0)));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    poly.clone(),
                    alpha(series_color(i), 0.2).filled(),
                )))
                .map_err(perr)?;
            occupancy(x, y, &poly, occ);
            // The band's inside counts too: a legend must not cover it.
            for (p, q) in s.points.iter().zip(b) {
                occupancy(x, y, &[(p.0, q.0), (p.0, q.1)], occ);
            }
        }
    }
    // Lines first, then markers on top of every line, then theory on top
    // of everything: a thin dark dashed line stays visible over markers.
    let r = sz.px(5.0).max(3);
    let several = series.len() > 1;
    for (i, s) in series.iter().enumerate() {
        if s.style != SeriesStyle::Points {
            let dash = DASHES[i % DASHES.len()];
            let style = series_color(i).stroke_width(sz.line);
            draw_path(chart, &s.points, dash, sz.scale, style)?;
        }
    }
    for (i, s) in series.iter().enumerate() {
        let marker = MARKERS[i % MARKERS.len()];
        let pts = match s.style {
            SeriesStyle::Line if several => {
                marker_points(&s.points, x, i as f64 / series.len() as f64)
            }
            SeriesStyle::Line => Vec::new(),
            _ => s.points.clone(),
        };
        draw_markers(chart, &pts, marker, r, series_color(i))?;
        occupancy(x, y, &s.points, occ);
        entries.push(LegendEntry {
            label: s.label.clone(),
            color: series_color(i).to_rgba(),
            kind: Swatch::Styled {
                dash: (s.style != SeriesStyle::Points).then_some(DASHES[i % DASHES.len()]),
                marker: (s.style != SeriesStyle::Line || several).then_some(marker),
            },
        });
    }
    let thin = (f64::from(sz.line) * 0.6).round().max(1.0) as u32;
    for (i, s) in overlays.iter().enumerate() {
        let color = dark_color(i);
        draw_path(
            chart,
            &s.points,
            theory_dash(i),
            sz.scale,
            color.stroke_width(thin),
        )?;
        occupancy(x, y, &s.points, occ);
        let label = theory_label(&s.label);
        entries.push(LegendEntry {
            label,
            color: color.to_rgba(),
            kind: Swatch::Theory(theory_dash(i)),
        });
    }
    draw_point_labels(chart, root, sz, series, occ, avoid)?;
    Ok(entries)
}

/// Draws each series' point labels beside their points: right-above,
/// right-below, left-above or left-below, whichever first overlaps no label
/// already drawn (nor a box in `avoid`, e.g. a window's label), keeps off
/// every series' line and stays inside the plot, moved out from the point
/// half a line at a time (up to three lines) until one does; failing that,
/// the first corner that only covers a line; a label with no free place is
/// drawn right-above anyway (it is data, better crowded than missing).
fn draw_point_labels<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
    series: &[Series],
    occ: &mut Vec<(f64, f64)>,
    avoid: &[PxRect],
) -> Result<()> {
    if series.iter().all(|s| s.labels.is_none()) {
        return Ok(());
    }
    let area = chart.plotting_area();
    let (x0, x1, y0, y1) = plot_bounds(chart);
    let mut placed: Vec<(i32, i32, i32, i32)> = avoid.to_vec();
    // The lines in pixels, for labels to keep off them.
    let lines: Vec<Vec<(i32, i32)>> = series
        .iter()
        .filter(|s| s.style != SeriesStyle::Points)
        .map(|s| s.points.iter().map(|p| area.map_coordinate(p)).collect())
        .collect();
    let on_a_line = |b: PxRect| {
        lines
            .iter()
            .any(|l| l.windows(2).any(|w| crosses(b, w[0], w[1])))
    };
    let mut texts = Vec::new();
    let gap = sz.px(7.0);
    // A label keeps this far from a line: a marker's radius and a little.
    let m = sz.px(8.0);
    for s in series {
        let Some(labels) = &s.labels else { continue };
        for (p, label) in s.points.iter().zip(labels) {
            if label.is_empty() {
                continue;
            }
            let (px, py) = area.map_coordinate(p);
            let (w, h) = text_size(root, label, sz.small);
            // The four corners, then the same a half line further out each
            // time, up to three lines out.
            let candidates: Vec<(i32, i32)> = (0..7)
                .flat_map(|k| {
                    let out = k * h / 2;
                    [
                        (gap, -gap - h - out),
                        (gap, gap + out),
                        (-gap - w, -gap - h - out),
                        (-gap - w, gap + out),
                    ]
                })
                .collect();
            let fits = |(dx, dy): (i32, i32), off_lines: bool| {
                let b = (px + dx, py + dy, px + dx + w, py + dy + h);
                let inside = b.0 >= x0 && b.2 <= x1 && b.1 >= y0 && b.3 <= y1;
                let free = placed
                    .iter()
                    .all(|o| b.2 < o.0 || o.2 < b.0 || b.3 < o.1 || o.3 < b.1);
                let clear = (b.0 - m, b.1 - m, b.2 + m, b.3 + m);
                inside && free && !(off_lines && on_a_line(clear))
            };
            // Off the lines anywhere near; else a corner that only covers
            // a line.
            let (dx, dy) = candidates
                .iter()
                .copied()
                .find(|&c| fits(c, true))
                .or_else(|| candidates[..4].iter().copied().find(|&c| fits(c, false)))
                .unwrap_or(candidates[0]);
            placed.push((px + dx, py + dy, px + dx + w, py + dy + h));
            for fx in [px + dx, px + dx + w] {
                let fy = py + dy + h / 2;
                occ.push((
                    f64::from(fx - x0) / f64::from((x1 - x0).max(1)),
                    1.0 - f64::from(fy - y0) / f64::from((y1 - y0).max(1)),
                ));
            }
            let pad = sz.px(2.0);
            texts.push(
                EmptyElement::at(*p)
                    + Rectangle::new(
                        [(dx - pad, dy - pad), (dx + w + pad, dy + h + pad)],
                        WHITE.mix(0.8).filled(),
                    )
                    + Text::new(
                        label.clone(),
                        (dx, dy),
                        font(sz.small, INK).pos(Pos::new(HPos::Left, VPos::Top)),
                    ),
            );
        }
    }
    chart.draw_series(texts).map_err(perr)?;
    Ok(())
}

/// True if the segment `a`–`b` (pixels) passes through the box `r`
/// (sampled every 2 px: labels are boxes of tens of pixels).
fn crosses(r: PxRect, a: (i32, i32), b: (i32, i32)) -> bool {
    let len = f64::from(b.0 - a.0).hypot(f64::from(b.1 - a.1));
    let n = (len / 2.0).ceil().max(1.0) as i32;
    (0..=n).any(|k| {
        let t = f64::from(k) / f64::from(n);
        let x = (f64::from(a.0) + t * f64::from(b.0 - a.0)).round() as i32;
        let y = (f64::from(a.1) + t * f64::from(b.1 - a.1)).round() as i32;
        overlaps(r, (x, y, x + 1, y + 1))
    })
}
