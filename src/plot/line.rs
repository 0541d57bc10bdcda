//! Line charts: series against a parameter (with error bands and dashed
//! analytic overlays) and series over time with shaded fault windows. The
//! series are drawn by `series_draw`, the legend (or direct labels) by
//! `legend`.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::checks::{check_finite, check_log, min_max, perr};
use super::figure::{Figure, Spec};
use super::frame::{font, frame, text_size, XAxisAt};
use super::legend::legend_or_labels;
use super::opts::Opts;
use super::series::{check_series, Series, SeriesStyle, Window};
use super::series_draw::draw_series_list;
use super::style::{alpha, Sizes, INK};
use crate::error::{Error, Result};

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
    overlays: Vec<Series>,
    windows: Vec<Window>,
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
    time_series_with_theory(series, &[], shaded, opts)
}

/// A [`time_series`] with analytic `overlays` drawn over it as in
/// [`line_chart`]: thin, dashed, in a darker shade, labelled "(theory)".
///
/// Errors: as [`time_series`]; an overlay without points or with
/// NaN/infinite values.
pub fn time_series_with_theory(
    series: &[Series],
    overlays: &[Series],
    shaded: &[Window],
    opts: Opts,
) -> Result<Figure> {
    if series.is_empty() {
        return Err(Error::empty("time series"));
    }
    check_series(series, &opts, "series")?;
    check_series(overlays, &opts, "overlay")?;
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
        overlays: overlays.to_vec(),
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
    if !opts.log_y && ylo >= 0.0 && (ylo <= 0.5 * yhi || opts.y_zero) {
        ylo = 0.0;
    }
    // Markers and error bars are drawn whole: an x axis that ends exactly
    // at the first or last point would cut them in half (a log axis is
    // padded already).
    let marked = all.iter().any(|s| s.style != SeriesStyle::Line);
    let x = if opts.log_x {
        Axis::auto(xlo, xhi, true, 8)
    } else {
        let nice = Axis::linear_nice(xlo, xhi, 8);
        let pad = (xhi - xlo) * 0.035;
        let (lo, hi) = (nice.lo().min(xlo - pad), nice.hi().max(xhi + pad));
        if marked && pad > 0.0 && (lo, hi) != (nice.lo(), nice.hi()) {
            Axis::linear(lo, hi, 8)
        } else {
            nice
        }
    };
    let y = if opts.log_y {
        Axis::auto(ylo, yhi, true, 6)
    } else {
        let pad = (yhi - ylo) * 0.04;
        let lo = if ylo == 0.0 { 0.0 } else { ylo - pad };
        let top = if opts.y_is_percent() && yhi <= 100.0 {
            (yhi + pad).min(100.0)
        } else {
            yhi + pad
        };
        let nice = Axis::linear_nice(lo, top, 6);
        // Rounding the top up to a whole step can add most of a step (data
        // to 100 % drawn to 120 %): then end just above the data instead.
        if nice.hi() - yhi > 0.12 * (yhi - lo) {
            Axis::linear(nice.lo(), top, 6)
        } else {
            nice
        }
    };
    (x, y)
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
        &[],
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
    let all: Vec<&Series> = s.series.iter().chain(&s.overlays).collect();
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
    // Where the windows' labels go (drawn over the series, kept clear of
    // the series' point labels).
    let area = chart.plotting_area();
    let top = area.get_y_axis_pixel_range().start;
    let right = area.get_x_axis_pixel_range().end;
    let mut last_end = i32::MIN;
    let mut at = Vec::new();
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
        last_end = last_end.max(pos.0 + tw);
        at.push((pos, tw, th));
    }
    let boxes: Vec<_> = at
        .iter()
        .map(|&(p, tw, th)| (p.0 - 4, p.1 - th / 2 - 4, p.0 + tw + 4, p.1 + th / 2 + 4))
        .collect();
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
        &boxes,
    )?;
    let area = chart.plotting_area();
    for (w, &(pos, tw, _)) in s.windows.iter().zip(&at) {
        root.draw(&Text::new(
            w.label.clone(),
            pos,
            font(sz.small, INK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(perr)?;
        // The label counts as occupied space for the legend.
        let (x0, x1) = (area.get_x_axis_pixel_range().start, right);
        for px_ in [pos.0, pos.0 + tw / 2, pos.0 + tw] {
            occ.push((f64::from(px_ - x0) / f64::from((x1 - x0).max(1)), 0.97));
        }
    }
    if opts.show_legend(entries.len()) {
        let ends: Vec<_> = s.series.iter().chain(&s.overlays).map(end_point).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_at_the_ends_are_not_cut_by_the_x_axis() {
        let pts = vec![(0.0, 1.0), (0.7, 2.0), (1.4, 3.0)];
        let opts = Opts::new("t");
        let line = Series::new("line", pts.clone());
        let (x, _) = axes(&[&line], &[], &opts);
        assert!(
            x.lo() == 0.0 && (x.hi() - 1.4).abs() < 1e-9,
            "a plain line ends at its data: {}..{}",
            x.lo(),
            x.hi()
        );
        for style in [SeriesStyle::Points, SeriesStyle::LinePoints] {
            let dots = Series::new("dots", pts.clone()).with_style(style);
            let (x, _) = axes(&[&dots, &line], &[], &opts);
            assert!(
                x.lo() < -0.04 && x.hi() > 1.44,
                "{style:?}: {}..{}",
                x.lo(),
                x.hi()
            );
            assert!(x.tick_labels().contains(&"0.0".to_string()));
            assert!(x.tick_labels().contains(&"1.4".to_string()));
        }
    }
}
