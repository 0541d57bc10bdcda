//! Line charts: series against a parameter (with error bands and dashed
//! analytic overlays) and series over time with shaded fault windows.

use plotters::coord::Shift;
use plotters::element::EmptyElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::figure::{
    check_finite, check_log, frame, legend, legend_corner, min_max, occupancy, perr, text_size,
    Chart, Figure, LegendEntry, Opts, Spec, Swatch, XAxisAt,
};
use super::marks::{draw_markers, draw_path, marker_points, theory_dash, DASHES, MARKERS};
use super::style::{alpha, dark_color, series_color, Sizes, INK};
use crate::error::{Error, Result};

/// How a [`Series`] is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SeriesStyle {
    /// A line through the points (default).
    #[default]
    Line,
    /// Only markers at the points.
    Points,
    /// A line with markers at the points.
    LinePoints,
}

/// One named series of `(x, y)` points, optionally with an error band.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// The `(x, y)` points, in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Optional `(lo, hi)` per point, drawn as a translucent band (e.g. a
    /// confidence interval over seeds), or as one error bar per point for a
    /// [`SeriesStyle::Points`] series (no band between unconnected points).
    /// Must have one entry per point.
    pub band: Option<Vec<(f64, f64)>>,
    /// Line, points, or both.
    pub style: SeriesStyle,
    /// Optional text beside each point (e.g. the timeout that produced
    /// it). Must have one entry per point; empty strings draw nothing.
    pub labels: Option<Vec<String>>,
}

impl Series {
    /// A line series named `label`.
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            label: label.into(),
            points,
            band: None,
            style: SeriesStyle::Line,
            labels: None,
        }
    }

    /// Labels each point with a short text, drawn beside it where it
    /// overlaps no other label: e.g. the timeout or threshold that gave the
    /// point, on a trade-off chart.
    ///
    /// ```
    /// use thinkdist::plot::{line_chart, Opts, Series, SeriesStyle};
    /// let s = Series::new("fixed timeout", vec![(1.0, 9.0), (2.0, 4.0), (4.0, 1.0)])
    ///     .with_style(SeriesStyle::LinePoints)
    ///     .with_labels(vec!["10 ms".into(), "20 ms".into(), "40 ms".into()]);
    /// let fig = line_chart(&[s], &[], Opts::new("Detection trade-off"))?;
    /// assert!(fig.to_png()?.len() > 1000);
    /// # Ok::<(), thinkdist::Error>(())
    /// ```
    pub fn with_labels(mut self, labels: Vec<String>) -> Series {
        self.labels = Some(labels);
        self
    }

    /// Adds an error band: `(lo, hi)` for each point.
    pub fn with_band(mut self, band: Vec<(f64, f64)>) -> Series {
        self.band = Some(band);
        self
    }

    /// Sets how the series is drawn.
    pub fn with_style(mut self, style: SeriesStyle) -> Series {
        self.style = style;
        self
    }
}

/// A time window shaded on a [`time_series`] chart (a fault: crash,
/// partition, ...), labelled at the top of the chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// Start time (x units).
    pub start: f64,
    /// End time (x units), > `start`.
    pub end: f64,
    /// Short label shown at the top of the window, e.g. `"partition"`.
    pub label: String,
}

impl Window {
    /// A window from `start` to `end` labelled `label`.
    pub fn new(start: f64, end: f64, label: impl Into<String>) -> Window {
        Window {
            start,
            end,
            label: label.into(),
        }
    }
}

/// Plot-ready line chart data.
#[derive(Clone, Debug)]
pub(crate) struct LineSpec {
    series: Vec<Series>,
    overlays: Vec<Series>,
}

/// Plot-ready time series data.
#[derive(Clone, Debug)]
pub(crate) struct TimeSeriesSpec {
    series: Vec<Series>,
    windows: Vec<Window>,
}

fn check_series(list: &[Series], opts: &Opts, what: &str) -> Result<()> {
    for s in list {
        if s.points.is_empty() {
            return Err(Error::empty(&format!("{what} `{}`", s.label)));
        }
        let name = format!("points of `{}`", s.label);
        check_finite(&name, s.points.iter().flat_map(|p| [p.0, p.1]))?;
        check_log("x", opts.log_x, s.points.iter().map(|p| p.0))?;
        check_log("y", opts.log_y, s.points.iter().map(|p| p.1))?;
        if let Some(b) = &s.band {
            if b.len() != s.points.len() {
                return Err(Error::invalid(
                    &format!("band of `{}`", s.label),
                    format!("{} entries", b.len()),
                    &format!("one (lo, hi) per point ({} points)", s.points.len()),
                ));
            }
            check_finite(
                &format!("band of `{}`", s.label),
                b.iter().flat_map(|p| [p.0, p.1]),
            )?;
            check_log("y", opts.log_y, b.iter().flat_map(|p| [p.0, p.1]))?;
        }
        if let Some(l) = &s.labels {
            if l.len() != s.points.len() {
                return Err(Error::invalid(
                    &format!("labels of `{}`", s.label),
                    format!("{} entries", l.len()),
                    &format!("one label per point ({} points)", s.points.len()),
                ));
            }
        }
    }
    Ok(())
}

/// Several series against a parameter (e.g. latency vs load), each with an
/// optional error band, plus analytic `overlays` drawn dashed in a darker
/// shade of the same palette colour (overlay `i` matches series `i`) and
/// labelled "(theory)". Supports [`Opts::log_x`] and [`Opts::log_y`].
///
/// Errors: no series, or a series without points ([`Error::is_empty_data`]);
/// NaN/infinite values, a band of the wrong length, or values <= 0 on a log
/// axis ([`Error::is_invalid_parameter`]).
pub fn line_chart(series: &[Series], overlays: &[Series], opts: Opts) -> Result<Figure> {
    if series.is_empty() && overlays.is_empty() {
        return Err(Error::empty("line chart series"));
    }
    check_series(series, &opts, "series")?;
    check_series(overlays, &opts, "overlay")?;
    let spec = LineSpec {
        series: series.to_vec(),
        overlays: overlays.to_vec(),
    };
    Ok(Figure::new(Spec::Line(spec), opts))
}

/// Series over time (x = time) with fault windows shaded as translucent
/// grey bands across the whole y range, each labelled at the top.
///
/// Errors: no series, or a series without points ([`Error::is_empty_data`]);
/// NaN/infinite values, a window with `end <= start`, or values <= 0 on a
/// log axis ([`Error::is_invalid_parameter`]).
pub fn time_series(series: &[Series], shaded: &[Window], opts: Opts) -> Result<Figure> {
    if series.is_empty() {
        return Err(Error::empty("time series"));
    }
    check_series(series, &opts, "series")?;
    for w in shaded {
        check_finite(&format!("window `{}`", w.label), [w.start, w.end])?;
        if w.end <= w.start {
            return Err(Error::invalid(
                &format!("window `{}`", w.label),
                format!("{}..{}", w.start, w.end),
                "end > start",
            ));
        }
        check_log("x", opts.log_x, [w.start])?;
    }
    let spec = TimeSeriesSpec {
        series: series.to_vec(),
        windows: shaded.to_vec(),
    };
    Ok(Figure::new(Spec::TimeSeries(spec), opts))
}

fn axes(all: &[&Series], extra_x: &[f64], opts: &Opts) -> (Axis, Axis) {
    let (xlo, xhi) = min_max(
        all.iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .chain(extra_x.iter().copied()),
    );
    let ys = all.iter().flat_map(|s| {
        s.points.iter().map(|p| p.1).chain(
            s.band
                .iter()
                .flat_map(|b| b.iter().flat_map(|p| [p.0, p.1])),
        )
    });
    let (mut ylo, yhi) = min_max(ys);
    if !opts.log_y && ylo >= 0.0 && ylo <= 0.5 * yhi {
        ylo = 0.0;
    }
    let x = if opts.log_x {
        Axis::auto(xlo, xhi, true, 8)
    } else {
        Axis::linear_nice(xlo, xhi, 8)
    };
    let y = if opts.log_y {
        Axis::auto(ylo, yhi, true, 6)
    } else {
        let pad = (yhi - ylo) * 0.04;
        let lo = if ylo == 0.0 { 0.0 } else { ylo - pad };
        let nice = Axis::linear_nice(lo, yhi + pad, 6);
        // Rounding the top up to a whole step can add most of a step (data
        // to 100 % drawn to 120 %): then end just above the data instead.
        if nice.hi() - yhi > 0.12 * (yhi - lo) {
            Axis::linear(nice.lo(), yhi + pad, 6)
        } else {
            nice
        }
    };
    (x, y)
}

#[allow(clippy::too_many_arguments)]
fn draw_series_list<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
    series: &[Series],
    overlays: &[Series],
    x: &Axis,
    y: &Axis,
    occ: &mut Vec<(f64, f64)>,
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
    draw_point_labels(chart, root, sz, series, occ)?;
    Ok(entries)
}

/// Draws each series' point labels beside their points: right-above,
/// right-below, left-above or left-below, whichever first overlaps no label
/// already drawn and stays inside the plot; a label with no free place is
/// drawn right-above anyway (it is data, better crowded than missing).
fn draw_point_labels<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
    series: &[Series],
    occ: &mut Vec<(f64, f64)>,
) -> Result<()> {
    let area = chart.plotting_area();
    let (x0, x1, y0, y1) = plot_bounds(chart);
    let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
    let mut texts = Vec::new();
    let gap = sz.px(7.0);
    for s in series {
        let Some(labels) = &s.labels else { continue };
        for (p, label) in s.points.iter().zip(labels) {
            if label.is_empty() {
                continue;
            }
            let (px, py) = area.map_coordinate(p);
            let (w, h) = text_size(root, label, sz.small);
            let candidates = [
                (gap, -gap - h),
                (gap, gap),
                (-gap - w, -gap - h),
                (-gap - w, gap),
            ];
            let fits = |(dx, dy): (i32, i32)| {
                let b = (px + dx, py + dy, px + dx + w, py + dy + h);
                let inside = b.0 >= x0 && b.2 <= x1 && b.1 >= y0 && b.3 <= y1;
                let free = placed
                    .iter()
                    .all(|o| b.2 < o.0 || o.2 < b.0 || b.3 < o.1 || o.3 < b.1);
                (inside && free).then_some(b)
            };
            let (dx, dy) = candidates
                .iter()
                .copied()
                .find(|&c| fits(c).is_some())
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
                        super::figure::font(sz.small, INK).pos(Pos::new(HPos::Left, VPos::Top)),
                    ),
            );
        }
    }
    chart.draw_series(texts).map_err(perr)?;
    Ok(())
}

pub(crate) fn draw_line_chart<DB: DrawingBackend>(
    s: &LineSpec,
    opts: &Opts,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
) -> Result<()> {
    let all: Vec<&Series> = s.series.iter().chain(&s.overlays).collect();
    let (x, y) = axes(&all, &[], opts);
    let mut chart = frame(root, opts, sz, x.clone(), y.clone(), XAxisAt::Bottom, true)?;
    let mut occ = Vec::new();
    let entries = draw_series_list(
        &mut chart,
        root,
        sz,
        &s.series,
        &s.overlays,
        &x,
        &y,
        &mut occ,
    )?;
    if opts.show_legend(entries.len()) {
        let ends: Vec<_> = s.series.iter().chain(&s.overlays).map(end_point).collect();
        legend_or_labels(&mut chart, root, sz, &entries, &ends, &occ)?;
    }
    Ok(())
}

pub(crate) fn draw_time_series<DB: DrawingBackend>(
    s: &TimeSeriesSpec,
    opts: &Opts,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
) -> Result<()> {
    let all: Vec<&Series> = s.series.iter().collect();
    let wx: Vec<f64> = s.windows.iter().flat_map(|w| [w.start, w.end]).collect();
    let (x, y0) = axes(&all, &wx, opts);
    // Headroom above the data for the window labels.
    let y = if s.windows.is_empty() {
        y0
    } else if opts.log_y {
        Axis::log(y0.lo(), y0.at(1.12))
    } else {
        // From the data's top, not the rounded axis top: a fraction gets
        // 0..1.14, not 0..1.5.
        let (_, top) = min_max(all.iter().flat_map(|s| {
            s.points.iter().map(|p| p.1).chain(
                s.band
                    .iter()
                    .flat_map(|b| b.iter().flat_map(|p| [p.0, p.1])),
            )
        }));
        let top = if top > y0.lo() { top } else { y0.hi() };
        Axis::linear(y0.lo(), top + 0.14 * (top - y0.lo()), 6)
    };
    let mut chart = frame(root, opts, sz, x.clone(), y.clone(), XAxisAt::Bottom, true)?;
    let shade = RGBColor(120, 120, 120);
    chart
        .draw_series(s.windows.iter().map(|w| {
            Rectangle::new(
                [(w.start, y.lo()), (w.end, y.hi())],
                alpha(shade, 0.16).filled(),
            )
        }))
        .map_err(perr)?;
    let mut occ = Vec::new();
    let entries = draw_series_list(&mut chart, root, sz, &s.series, &[], &x, &y, &mut occ)?;
    let area = chart.plotting_area();
    let top = area.get_y_axis_pixel_range().start;
    let right = area.get_x_axis_pixel_range().end;
    let mut last_end = i32::MIN;
    for w in &s.windows {
        let (px, _) = area.map_coordinate(&(w.start, y.hi()));
        let (tw, th) = text_size(root, &w.label, sz.small);
        let mut pos = (px + sz.px(5.0), top + th / 2 + sz.px(6.0));
        if pos.0 + tw > right {
            pos.0 = right - tw - 4;
        }
        if pos.0 < last_end + 6 {
            // Overlapping labels: stack the next one lower.
            pos.1 += th + 4;
        }
        root.draw(&Text::new(
            w.label.clone(),
            pos,
            super::figure::font(sz.small, INK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(perr)?;
        last_end = last_end.max(pos.0 + tw);
        // The label counts as occupied space for the legend.
        let (x0, x1) = (area.get_x_axis_pixel_range().start, right);
        for px_ in [pos.0, pos.0 + tw / 2, pos.0 + tw] {
            occ.push((f64::from(px_ - x0) / f64::from((x1 - x0).max(1)), 0.97));
        }
    }
    if opts.show_legend(entries.len()) {
        let ends: Vec<_> = s.series.iter().map(end_point).collect();
        legend_or_labels(&mut chart, root, sz, &entries, &ends, &occ)?;
    }
    Ok(())
}

/// The point a direct label goes next to: the rightmost one.
fn end_point(s: &Series) -> (f64, f64) {
    s.points.iter().copied().fold(
        (f64::NEG_INFINITY, 0.0),
        |a, p| if p.0 >= a.0 { p } else { a },
    )
}

/// A legend where one fits without covering data; otherwise each line
/// labelled directly, next to its right end, in a darker shade of its
/// colour, labels pushed apart vertically so none overlap. A chart with
/// more than 8 entries keeps its legend (that many direct labels would
/// crowd the ends of the lines).
fn legend_or_labels<'a, DB: DrawingBackend + 'a>(
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
                    super::figure::font(sz.tick, dark).pos(Pos::new(HPos::Left, VPos::Top)),
                ),
        );
    }
    chart.draw_series(elems).map_err(perr)?;
    Ok(())
}

/// The plotting area's pixel bounds: left, right, top, bottom.
pub(crate) fn plot_bounds<DB: DrawingBackend>(chart: &Chart<'_, DB>) -> (i32, i32, i32, i32) {
    let area = chart.plotting_area();
    let (x, y) = (area.get_x_axis_pixel_range(), area.get_y_axis_pixel_range());
    (x.start, x.end, y.start, y.end)
}

/// A theory overlay's legend label: says "(theory)" unless it already does.
pub(crate) fn theory_label(label: &str) -> String {
    if label.contains("theory") {
        label.to_string()
    } else {
        format!("{label} (theory)")
    }
}
