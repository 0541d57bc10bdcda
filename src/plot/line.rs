//! Line charts: series against a parameter (with error bands and dashed
//! analytic overlays) and series over time with shaded fault windows.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::figure::{
    check_finite, check_log, frame, legend, min_max, occupancy, perr, text_size, Chart, Figure,
    LegendEntry, Opts, Spec, Swatch, XAxisAt,
};
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
}

impl Series {
    /// A line series named `label`.
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            label: label.into(),
            points,
            band: None,
            style: SeriesStyle::Line,
        }
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
        Axis::linear_nice(if ylo == 0.0 { 0.0 } else { ylo - pad }, yhi + pad, 6)
    };
    (x, y)
}

fn draw_series_list<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
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
        }
    }
    let r = sz.px(4.5).max(3);
    for (i, s) in series.iter().enumerate() {
        let color = series_color(i);
        if s.style != SeriesStyle::Points {
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    color.stroke_width(sz.line),
                ))
                .map_err(perr)?;
        }
        if s.style != SeriesStyle::Line {
            chart
                .draw_series(s.points.iter().map(|&p| Circle::new(p, r, color.filled())))
                .map_err(perr)?;
        }
        occupancy(x, y, &s.points, occ);
        entries.push(LegendEntry {
            label: s.label.clone(),
            color: color.to_rgba(),
            kind: match s.style {
                SeriesStyle::Line => Swatch::Line,
                SeriesStyle::Points => Swatch::Point,
                SeriesStyle::LinePoints => Swatch::LinePoint,
            },
        });
    }
    for (i, s) in overlays.iter().enumerate() {
        let color = dark_color(i);
        chart
            .draw_series(DashedLineSeries::new(
                s.points.iter().copied(),
                sz.px(10.0),
                sz.px(6.0),
                color.stroke_width(sz.line),
            ))
            .map_err(perr)?;
        occupancy(x, y, &s.points, occ);
        let label = if s.label.contains("theory") {
            s.label.clone()
        } else {
            format!("{} (theory)", s.label)
        };
        entries.push(LegendEntry {
            label,
            color: color.to_rgba(),
            kind: Swatch::Dashed,
        });
    }
    Ok(entries)
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
    let entries = draw_series_list(&mut chart, sz, &s.series, &s.overlays, &x, &y, &mut occ)?;
    if opts.show_legend(entries.len()) {
        legend(&mut chart, root, sz, &entries, &occ)?;
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
        Axis::linear_nice(y0.lo(), y0.at(1.12), 6)
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
    let entries = draw_series_list(&mut chart, sz, &s.series, &[], &x, &y, &mut occ)?;
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
        legend(&mut chart, root, sz, &entries, &occ)?;
    }
    Ok(())
}
