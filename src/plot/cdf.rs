//! Empirical CDF (or tail, 1 - F, on a log axis) of one or more sample sets,
//! with p50 / p90 / p99 / p99.9 marked on each curve, and optionally the
//! mean marked and theory curves drawn over the simulation.
//!
//! Two views of the same samples:
//! - [`cdf()`]: the plain CDF, F(x) on a linear axis from 0 to 1 — the
//!   body of the distribution (median, spread);
//! - [`tail_cdf()`]: the complementary CDF, P(X > x), on a log axis — the
//!   tail, where p99 and p99.9 are a decade apart instead of squeezed
//!   against the top, and where an exponential tail is a straight line.

use std::collections::BTreeSet;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{fmt_num, Axis};
use super::checks::{check_finite, check_log, min_max, perr};
use super::figure::{Figure, Spec};
use super::frame::{boxed_text, frame, overlaps, simplify, text_size, PxRect, XAxisAt};
use super::legend::{legend, occupancy, LegendEntry, Swatch};
use super::marks::{draw_path, marker_polygon, theory_dash, DASHES, MARKERS};
use super::opts::Opts;
use super::series::Series;
use super::style::{dark_color, series_color, Sizes};
use crate::error::{Error, Result};
use crate::measure::theory;

/// Percentiles marked on every curve (p99 needs >= 100 samples, p99.9 >= 1000).
pub const MARKED_PERCENTILES: [f64; 4] = [0.5, 0.9, 0.99, 0.999];

#[derive(Clone, Debug)]
struct Curve {
    label: String,
    /// (x, rank) of the kept order statistics; rank i is 0-based.
    pts: Vec<(f64, usize)>,
    n: usize,
    /// (quantile, value).
    marks: Vec<(f64, f64)>,
    /// Sample mean.
    mean: f64,
}

/// Plot-ready CDF data.
#[derive(Clone, Debug)]
pub(crate) struct CdfSpec {
    curves: Vec<Curve>,
    /// Theory curves, y in the chart's own view (F or 1 - F).
    overlays: Vec<Series>,
    /// Mark each curve's mean with a vertical line.
    mark_mean: bool,
}

/// The name of a marked percentile: `0.999` gives `"p99.9"`.
pub fn percentile_name(q: f64) -> String {
    if !(0.0..=1.0).contains(&q) {
        // Not a quantile; still a short label (never 300 digits).
        return format!("p{}", super::axis::fmt_num(q * 100.0));
    }
    let p = format!("{:.1}", q * 100.0);
    format!("p{}", p.trim_end_matches('0').trim_end_matches('.'))
}

/// Empirical CDF of each `(label, samples)` set, one curve per set in
/// palette order, with p50, p90, p99 (from 100 samples) and p99.9 (from
/// 1000 samples) marked as points labelled like `p99 12.3`.
///
/// With [`Opts::tail_view`] the y axis shows 1 - F(x), the fraction of
/// samples above x, on a log scale, so the tail is visible. [`Opts::log_x`]
/// puts x on a log scale. Large sample sets are thinned for drawing (every
/// tail point is kept); the percentiles use every sample (nearest rank).
///
/// Errors: no series, or a series without samples ([`Error::is_empty_data`]);
/// NaN/infinite samples, or samples <= 0 with `log_x`
/// ([`Error::is_invalid_parameter`]).
///
/// ```
/// use thinkdist::plot::{cdf, Opts};
/// let fast: Vec<f64> = (1..=1000).map(|i| 1.0 + (i as f64 / 100.0)).collect();
/// let slow: Vec<f64> = fast.iter().map(|x| x * 2.5).collect();
/// let fig = cdf(
///     &[("fast".to_string(), fast), ("slow".to_string(), slow)],
///     Opts::new("Latency CDF").x_label("latency (ms)").tail_view(),
/// )?;
/// assert!(fig.to_svg()?.contains("p99"));
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn cdf(series: &[(String, Vec<f64>)], opts: Opts) -> Result<Figure> {
    let curves = build_curves(series, &opts)?;
    Ok(Figure::new(
        Spec::Cdf(CdfSpec {
            curves,
            overlays: Vec::new(),
            mark_mean: false,
        }),
        opts,
    ))
}

/// The tail view for charts where the tail is the point: the complementary
/// CDF P(X > x) of each `(label, samples)` set on a log y axis, with
/// p50/p90/p99/p99.9 marked, each curve's **mean** marked by a dotted
/// vertical line labelled `mean 12.3`, and `theory` curves drawn last as
/// thin dark dashed lines over the simulation.
///
/// Each theory [`Series`] gives `(x, P(X > x))` in the samples' units; its
/// legend label gets "(theory)" appended unless it already says so. Points
/// outside the samples' x range or below the lowest plotted fraction are
/// cut off; the axis is set by the samples alone. [`exponential_tail`]
/// builds the overlay for an exponential distribution (the M/M/1 time in
/// system: `P(T > t) = exp(−(μ − λ) t)`, a straight line here).
///
/// The same `opts` as [`cdf()`] ([`Opts::log_x`], labels, size); the y label
/// defaults to "fraction of samples > x". For the plain CDF, use [`cdf()`].
///
/// Errors: as [`cdf()`]; a theory series without points, or with NaN or
/// infinite values ([`Error::is_invalid_parameter`]).
///
/// ```
/// use thinkdist::plot::{exponential_tail, tail_cdf, Opts};
/// // 2,000 samples of an exponential with mean 10 (inverse-CDF draws).
/// let xs: Vec<f64> = (0..2000).map(|i| -10.0 * (1.0 - (i as f64 + 0.5) / 2000.0).ln()).collect();
/// let theory = exponential_tail("exponential, mean 10", 10.0, 80.0)?;
/// let fig = tail_cdf(
///     &[("simulated".to_string(), xs)],
///     &[theory],
///     Opts::new("Time in system: an exponential tail").x_label("time (ms)"),
/// )?;
/// let svg = fig.to_svg()?;
/// assert!(svg.contains("mean 10") && svg.contains("(theory)"));
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn tail_cdf(series: &[(String, Vec<f64>)], theory: &[Series], opts: Opts) -> Result<Figure> {
    let opts = opts.tail_view();
    let curves = build_curves(series, &opts)?;
    for t in theory {
        if t.points.is_empty() {
            return Err(Error::invalid(
                &format!("theory `{}`", t.label),
                "no points",
                "a series of (x, P(X > x)) points",
            ));
        }
        check_finite(
            &format!("points of theory `{}`", t.label),
            t.points.iter().flat_map(|p| [p.0, p.1]),
        )?;
    }
    Ok(Figure::new(
        Spec::Cdf(CdfSpec {
            curves,
            overlays: theory.to_vec(),
            mark_mean: true,
        }),
        opts,
    ))
}

/// The tail `P(X > x) = exp(−x / mean)` of an exponential distribution, as
/// a theory series for [`tail_cdf`]: 200 points from 0 to `x_max` (same
/// units as `mean`). For the M/M/1 time in system, `mean = 1 / (μ − λ)`.
/// The Erlang tail with one delay ([`erlang_tail`]).
///
/// Errors: `mean` or `x_max` not finite and > 0 ([`Error::is_invalid_parameter`]).
pub fn exponential_tail(label: impl Into<String>, mean: f64, x_max: f64) -> Result<Series> {
    erlang_tail(label, 1, mean, x_max)
}

/// The tail of the Erlang(k, mean) distribution, the sum of `k` exponential
/// delays of mean `mean` ([`theory::erlang_tail`]), as a theory series for
/// [`tail_cdf`]: 200 points from 0 to `x_max` (same units as `mean`).
///
/// Errors: k = 0 or above 1,000; `mean` or `x_max` not finite and > 0
/// ([`Error::is_invalid_parameter`]).
///
/// ```
/// // Two delays of mean 10 ms each.
/// let s = thinkdist::plot::erlang_tail("2 delays", 2, 10.0, 100.0)?;
/// assert_eq!(s.points.len(), 201);
/// assert_eq!(s.points[0], (0.0, 1.0));
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn erlang_tail(label: impl Into<String>, k: usize, mean: f64, x_max: f64) -> Result<Series> {
    crate::error::check_count("k", k, 1, 1_000, "delays")?;
    for (what, v) in [("mean", mean), ("x_max", x_max)] {
        if !(v.is_finite() && v > 0.0) {
            return Err(Error::invalid(what, v, "a finite number > 0"));
        }
    }
    let pts = (0..=200)
        .map(|i| {
            let x = x_max * f64::from(i) / 200.0;
            Ok((x, theory::erlang_tail(k, mean, x)?))
        })
        .collect::<Result<_>>()?;
    Ok(Series::new(label, pts))
}

/// Sorted, thinned curves with their percentiles and mean.
fn build_curves(series: &[(String, Vec<f64>)], opts: &Opts) -> Result<Vec<Curve>> {
    if series.is_empty() {
        return Err(Error::empty("cdf series list"));
    }
    let mut curves = Vec::with_capacity(series.len());
    for (label, samples) in series {
        if samples.is_empty() {
            return Err(Error::empty(&format!("cdf series `{label}`")));
        }
        check_finite(&format!("samples of `{label}`"), samples.iter().copied())?;
        check_log("x", opts.log_x, samples.iter().copied())?;
        let mut v = samples.clone();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let mut keep = BTreeSet::new();
        let lin = 1000.min(n - 1).max(1);
        for j in 0..=lin {
            keep.insert(j * (n - 1) / lin);
        }
        let mut t = 0u32;
        loop {
            let k = 10f64.powf(f64::from(t) / 100.0).round() as usize - 1;
            if k >= n {
                break;
            }
            keep.insert(k);
            keep.insert(n - 1 - k);
            t += 1;
        }
        let pts = keep.into_iter().map(|i| (v[i], i)).collect();
        let marks = MARKED_PERCENTILES
            .iter()
            .filter(|&&q| (1.0 - q) * n as f64 >= 0.999)
            .map(|&q| {
                let i = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
                (q, v[i])
            })
            .collect();
        let mean = v.iter().sum::<f64>() / n as f64;
        curves.push(Curve {
            label: label.clone(),
            pts,
            n,
            marks,
            mean,
        });
    }
    Ok(curves)
}

pub(crate) fn draw<DB: DrawingBackend>(
    s: &CdfSpec,
    opts: &Opts,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
) -> Result<()> {
    let tail = opts.tail_view;
    let (lo, hi) = min_max(s.curves.iter().flat_map(|c| c.pts.iter().map(|p| p.0)));
    let x = Axis::auto(lo, hi, opts.log_x, 8);
    let max_n = s.curves.iter().map(|c| c.n).max().unwrap_or(1) as f64;
    let y = if tail {
        Axis::log((1.0 / max_n) * 0.6, 1.0)
    } else {
        Axis::linear(0.0, 1.0, 5)
    };
    let mut opts = opts.clone();
    if opts.y_label.is_empty() {
        opts.y_label = if tail {
            "fraction of samples > x".to_string()
        } else {
            "fraction of samples ≤ x".to_string()
        };
    }
    // The tail view's y axis is logarithmic whatever `log_y` says: the
    // frame labels it so.
    opts.log_y = tail;
    let mut chart = frame(root, &opts, sz, x.clone(), y.clone(), XAxisAt::Bottom, true)?;
    // y value of rank i: F = (i+1)/n, or tail 1 - F(x-) = (n-i)/n.
    let yv = |i: usize, n: usize| {
        if tail {
            (n - i) as f64 / n as f64
        } else {
            (i + 1) as f64 / n as f64
        }
    };
    let mut occ = Vec::new();
    let mut entries = Vec::new();
    for (ci, c) in s.curves.iter().enumerate() {
        let color = series_color(ci);
        // A staircase where consecutive ranks are kept (small samples, the
        // far tail); a straight line across thinned-out ranks, which would
        // otherwise draw pixel-sized jagged steps.
        let mut line: Vec<(f64, f64)> = Vec::with_capacity(c.pts.len() * 2);
        let mut prev: Option<usize> = None;
        for &(xv, i) in &c.pts {
            let yi = yv(i, c.n);
            match prev {
                None if !tail => line.push((xv, 0.0)),
                Some(pi) if pi + 1 == i => line.push((xv, yv(pi, c.n))),
                _ => {}
            }
            line.push((xv, yi));
            prev = Some(i);
        }
        let dims = chart.plotting_area().dim_in_pixel();
        let line = simplify(&line, &x, &y, dims, 4.0);
        // Curve i has series i's dash pattern and marker (its percentile
        // points), so curves differ without colour.
        let several = s.curves.len() > 1;
        let dash = if several {
            DASHES[ci % DASHES.len()]
        } else {
            DASHES[0]
        };
        draw_path(
            &mut chart,
            &line,
            dash,
            sz.scale,
            color.stroke_width(sz.line),
        )?;
        occupancy(&x, &y, &line, &mut occ);
        entries.push(LegendEntry {
            label: format!("{} (n = {})", c.label, fmt_num(c.n as f64)),
            color: color.to_rgba(),
            kind: if several {
                Swatch::Styled {
                    dash: Some(dash),
                    marker: Some(MARKERS[ci % MARKERS.len()]),
                }
            } else {
                Swatch::Line
            },
        });
    }
    // Theory overlays, clipped to the plot (they are drawn after the
    // percentile markers, below).
    let mut theory_lines: Vec<Vec<(f64, f64)>> = Vec::new();
    for (i, t) in s.overlays.iter().enumerate() {
        let (ylo, yhi) = (y.lo().min(y.hi()), y.lo().max(y.hi()));
        let (xlo, xhi) = (x.lo().min(x.hi()), x.lo().max(x.hi()));
        let pts: Vec<(f64, f64)> = t
            .points
            .iter()
            .copied()
            .filter(|p| p.0 >= xlo && p.0 <= xhi && p.1 >= ylo && p.1 <= yhi)
            .collect();
        occupancy(&x, &y, &pts, &mut occ);
        let label = super::legend::theory_label(&t.label);
        entries.push(LegendEntry {
            label,
            color: dark_color(i).to_rgba(),
            kind: Swatch::Theory(theory_dash(i)),
        });
        theory_lines.push(pts);
    }
    // Percentile markers and labels, placed to avoid each other.
    let area = chart.plotting_area();
    let (px0, px1) = {
        let r = area.get_x_axis_pixel_range();
        (r.start, r.end)
    };
    let (py0, py1) = {
        let r = area.get_y_axis_pixel_range();
        (r.start, r.end)
    };
    let bounds: PxRect = (px0 + 2, py0 + 2, px1 - 2, py1 - 2);
    let fsize = sz.small;
    let r = sz.px(5.5).max(3);
    let mut placed: Vec<PxRect> = Vec::new();
    let mut labels = Vec::new();
    for (ci, c) in s.curves.iter().enumerate() {
        for &(q, v) in &c.marks {
            let yq = if tail { 1.0 - q } else { q };
            let p = area.map_coordinate(&(v, yq));
            let shape = marker_polygon(MARKERS[ci % MARKERS.len()], r);
            let at = |q: &(i32, i32)| (p.0 + q.0, p.1 + q.1);
            root.draw(&Polygon::new(
                shape.iter().map(at).collect::<Vec<_>>(),
                series_color(ci).filled(),
            ))
            .map_err(perr)?;
            let mut outline: Vec<(i32, i32)> = shape.iter().map(at).collect();
            outline.push(outline[0]);
            root.draw(&PathElement::new(outline, WHITE.stroke_width(2)))
                .map_err(perr)?;
            placed.push((p.0 - r, p.1 - r, p.0 + r, p.1 + r));
            labels.push((ci, p, format!("{} {}", percentile_name(q), fmt_num(v))));
        }
    }
    // The mean: a dotted vertical line per curve, labelled at the top.
    if s.mark_mean {
        for (ci, c) in s.curves.iter().enumerate() {
            if !(c.mean >= x.lo().min(x.hi()) && c.mean <= x.lo().max(x.hi())) {
                continue;
            }
            let top = area.map_coordinate(&(c.mean, y.hi()));
            let bottom = area.map_coordinate(&(c.mean, y.lo()));
            let dot = sz.px(4.0).max(2);
            let mut yy = top.1;
            while yy < bottom.1 {
                let y2 = (yy + dot).min(bottom.1);
                root.draw(&PathElement::new(
                    vec![(top.0, yy), (top.0, y2)],
                    dark_color(ci).stroke_width(sz.px(2.0).max(1) as u32),
                ))
                .map_err(perr)?;
                yy += 2 * dot;
            }
            labels.insert(
                0,
                (
                    ci,
                    (top.0, top.1 + sz.px(16.0) + (ci as i32) * sz.px(26.0)),
                    format!("mean {}", fmt_num(c.mean)),
                ),
            );
        }
    }
    // Theory last over the simulated curves and markers: thin, dark, dashed.
    let thin = (f64::from(sz.line) * 0.6).round().max(1.0) as u32;
    for (i, pts) in theory_lines.iter().enumerate() {
        draw_path(
            &mut chart,
            pts,
            theory_dash(i),
            sz.scale,
            dark_color(i).stroke_width(thin),
        )?;
    }
    let gap = sz.px(8.0);
    for (ci, p, text) in labels {
        let (w, h) = text_size(root, &text, fsize);
        let step = h + 6;
        let mut cands = Vec::new();
        // Up to four label heights away: slide-sized text needs the room.
        for k in 0..5 {
            for dy in [k * step, -k * step] {
                // right of the point, then left of it
                cands.push((p.0 + gap, p.1 + dy));
                cands.push((p.0 - gap - w - 6, p.1 + dy));
            }
        }
        let rect_of = |c: (i32, i32)| (c.0 - 3, c.1 - h / 2 - 3, c.0 + w + 3, c.1 + h / 2 + 3);
        let inside = |rc: PxRect| {
            rc.0 >= bounds.0 && rc.2 <= bounds.2 && rc.1 >= bounds.1 && rc.3 <= bounds.3
        };
        // No room near the point: leave the marker unlabelled rather than
        // put the label somewhere misleading.
        let Some(pos) = cands.iter().copied().find(|&c| {
            let rc = rect_of(c);
            inside(rc) && !placed.iter().any(|&o| overlaps(rc, o))
        }) else {
            continue;
        };
        let rc = boxed_text(root, &text, pos, fsize, dark_color(ci))?;
        placed.push(rc);
        // Label boxes count as occupied space for the legend.
        for (fx, fy) in [(rc.0, rc.1), (rc.2, rc.3), (rc.0, rc.3), (rc.2, rc.1)] {
            occ.push((
                f64::from(fx - px0) / f64::from((px1 - px0).max(1)),
                1.0 - f64::from(fy - py0) / f64::from((py1 - py0).max(1)),
            ));
        }
    }
    if opts.show_legend(entries.len()) {
        legend(&mut chart, root, sz, &entries, &occ)?;
    }
    Ok(())
}
