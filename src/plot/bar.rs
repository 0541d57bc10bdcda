//! Grouped bar chart: one group per category, one bar per series, with an
//! optional interval per bar drawn as a whisker.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{fmt_num, Axis};
use super::checks::{check_finite, check_log, min_max, perr};
use super::figure::{Figure, Spec};
use super::frame::{frame, text_at, Chart, XAxisAt};
use super::hatch;
use super::legend::{legend, theory_label, LegendEntry, Swatch};
use super::marks::{draw_path, theory_dash};
use super::opts::Opts;
use super::style::{dark_color, series_color, Sizes, INK};
use crate::error::{Error, Result};
use crate::measure::stats::MeanCi;

/// One series of a [`bar_chart`]: a value per category, and optionally an
/// interval per value drawn as a whisker.
#[derive(Clone, Debug, PartialEq)]
pub struct BarSeries {
    /// Legend label.
    pub label: String,
    /// One value per category, in category order.
    pub values: Vec<f64>,
    /// Optional `(lo, hi)` per value, drawn as a whisker with caps over the
    /// bar (e.g. the 95 % interval of a mean over seeds). One per value.
    pub intervals: Option<Vec<(f64, f64)>>,
}

impl BarSeries {
    /// A bar series named `label`.
    pub fn new(label: impl Into<String>, values: Vec<f64>) -> BarSeries {
        BarSeries {
            label: label.into(),
            values,
            intervals: None,
        }
    }

    /// Adds an interval `(lo, hi)` per bar, drawn as a whisker.
    pub fn with_intervals(mut self, intervals: Vec<(f64, f64)>) -> BarSeries {
        self.intervals = Some(intervals);
        self
    }

    /// Bars at the means of `cis` with whiskers at their 95 % intervals,
    /// mean ± half-width (one [`MeanCi`] per category, e.g. from
    /// [`mean_ci`](crate::measure::mean_ci) over seeds): a mean from a few
    /// seeds is drawn with the uncertainty it has.
    ///
    /// Errors: a mean or half-width that is not finite (one seed has no
    /// interval: run at least 2) ([`Error::is_invalid_parameter`]).
    ///
    /// ```
    /// use thinkdist::measure::mean_ci;
    /// use thinkdist::plot::{bar_chart, BarSeries, Opts};
    /// let a = mean_ci(&[10.0, 12.0, 11.0, 13.0])?;
    /// let b = mean_ci(&[20.0, 26.0, 23.0, 21.0])?;
    /// let s = BarSeries::from_means("throughput", &[a, b])?;
    /// assert_eq!(s.intervals.as_ref().map(Vec::len), Some(2));
    /// let fig = bar_chart(&["read committed".into(), "serializable".into()], &[s], Opts::new("Mean over 4 seeds"))?;
    /// assert!(fig.to_svg()?.contains("serializable"));
    /// # Ok::<(), thinkdist::Error>(())
    /// ```
    pub fn from_means(label: impl Into<String>, cis: &[MeanCi]) -> Result<BarSeries> {
        let label = label.into();
        if let Some(c) = cis
            .iter()
            .find(|c| !(c.mean.is_finite() && c.half_width.is_finite()))
        {
            return Err(Error::invalid(
                &format!("interval of `{label}`"),
                format!("{} ± {} (n = {})", c.mean, c.half_width, c.n),
                "a finite mean and half-width: an interval needs at least 2 seeds \
                 (or draw plain bars with BarSeries::new)",
            ));
        }
        Ok(BarSeries::new(label, cis.iter().map(|c| c.mean).collect())
            .with_intervals(cis.iter().map(MeanCi::interval).collect()))
    }

    /// The values and the interval ends: what the y axis must show.
    fn extent(&self) -> impl Iterator<Item = f64> + '_ {
        self.values.iter().copied().chain(
            self.intervals
                .iter()
                .flat_map(|v| v.iter().flat_map(|&(lo, hi)| [lo, hi])),
        )
    }
}

/// Plot-ready bar chart data.
#[derive(Clone, Debug)]
pub(crate) struct BarSpec {
    categories: Vec<String>,
    series: Vec<BarSeries>,
    theory: Vec<(String, f64)>,
}

/// Grouped bars: for each category, one bar per series (series `i` in
/// palette colour `i`), with the value printed above each bar (above its
/// whisker) when there are few bars. A series with intervals
/// ([`BarSeries::with_intervals`], [`BarSeries::from_means`]) gets a
/// whisker with caps from `lo` to `hi` over each bar. Supports
/// [`Opts::log_y`].
///
/// Errors: no categories or no series ([`Error::is_empty_data`]); a series
/// with the wrong number of values or intervals, NaN/infinite values, an
/// interval with `lo > hi`, or values (or interval ends) <= 0 with `log_y`
/// ([`Error::is_invalid_parameter`]).
pub fn bar_chart(categories: &[String], series: &[BarSeries], opts: Opts) -> Result<Figure> {
    bar_chart_with_theory(categories, series, &[], opts)
}

/// A [`bar_chart`] with theory drawn over it: each `(label, value)` a
/// dashed line across the whole chart at `value` (e.g. the share a closed
/// form predicts), in the legend as "label (theory)".
///
/// Errors: as [`bar_chart`]; a theory value that is not finite (or <= 0
/// with `log_y`).
///
/// ```
/// use thinkdist::plot::{bar_chart_with_theory, BarSeries, Opts};
/// let s = BarSeries::new("booked (%)", vec![73.8, 61.9]);
/// let theory = [("0.9³ = 72.9 %".to_string(), 72.9)];
/// let fig = bar_chart_with_theory(&["up".into(), "down".into()], &[s], &theory, Opts::new("Trips"))?;
/// assert!(fig.to_svg()?.contains("0.9³ = 72.9 % (theory)"));
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn bar_chart_with_theory(
    categories: &[String],
    series: &[BarSeries],
    theory: &[(String, f64)],
    opts: Opts,
) -> Result<Figure> {
    check_finite("theory values", theory.iter().map(|t| t.1))?;
    check_log("y", opts.log_y, theory.iter().map(|t| t.1))?;
    if categories.is_empty() {
        return Err(Error::empty("bar chart categories"));
    }
    if series.is_empty() {
        return Err(Error::empty("bar chart series"));
    }
    if opts.log_x {
        return Err(Error::invalid(
            "log_x",
            "set",
            "a linear x axis for bars: remove .log_x()",
        ));
    }
    for s in series {
        if s.values.len() != categories.len() {
            return Err(Error::invalid(
                &format!("values of `{}`", s.label),
                format!("{} values", s.values.len()),
                &format!("one value per category ({})", categories.len()),
            ));
        }
        check_finite(
            &format!("values of `{}`", s.label),
            s.values.iter().copied(),
        )?;
        check_log("y", opts.log_y, s.values.iter().copied())?;
        if let Some(iv) = &s.intervals {
            let what = format!("intervals of `{}`", s.label);
            if iv.len() != s.values.len() {
                return Err(Error::invalid(
                    &what,
                    format!("{} intervals", iv.len()),
                    &format!("one (lo, hi) per value ({})", s.values.len()),
                ));
            }
            check_finite(&what, iv.iter().flat_map(|&(lo, hi)| [lo, hi]))?;
            if let Some(&(lo, hi)) = iv.iter().find(|(lo, hi)| lo > hi) {
                return Err(Error::invalid(
                    &what,
                    format!("({lo}, {hi})"),
                    "intervals (lo, hi) with lo <= hi",
                ));
            }
            check_log("y", opts.log_y, iv.iter().flat_map(|&(lo, hi)| [lo, hi]))?;
        }
    }
    let spec = BarSpec {
        categories: categories.to_vec(),
        series: series.to_vec(),
        theory: theory.to_vec(),
    };
    Ok(Figure::new(Spec::Bar(spec), opts))
}

pub(crate) fn draw<DB: DrawingBackend>(
    s: &BarSpec,
    opts: &Opts,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
) -> Result<()> {
    let (lo, hi) = min_max(
        s.series
            .iter()
            .flat_map(BarSeries::extent)
            .chain(s.theory.iter().map(|t| t.1)),
    );
    let (base, y) = if opts.log_y {
        let b = lo / 2.0;
        (b, Axis::log(b, hi * 2.0))
    } else {
        let lo = lo.min(0.0);
        let hi = hi.max(0.0);
        // Room above the tallest bar for the legend, so that it never
        // covers a bar: the legend's share of the plot's height.
        let entries = s.series.len() + s.theory.len();
        let room = if opts.show_legend(entries) && lo >= 0.0 {
            let (_, h) = root.dim_in_pixel();
            let plot_h = f64::from(h)
                - sz.title * 1.5
                - sz.tick * 1.6
                - sz.label * 1.6
                - f64::from(sz.margin) * 2.0;
            let legend_h = entries as f64 * sz.tick * 1.45 + f64::from(sz.px(40.0));
            (legend_h / plot_h.max(1.0)).min(0.6)
        } else {
            0.0
        };
        let mut top = (hi + (hi - lo) * 0.1) / (1.0 - room);
        if opts.y_is_percent() && hi <= 100.0 && top > 100.0 {
            top = 100.0;
        }
        (0.0, Axis::linear_nice(lo, top, 6))
    };
    let x = Axis::categorical(s.categories.clone());
    let mut chart = frame(root, opts, sz, x.clone(), y.clone(), XAxisAt::Bottom, false)?;
    let k = s.series.len() as f64;
    let group = 0.8;
    let w = group / k;
    let mut occ = Vec::new();
    let mut entries = Vec::new();
    let n_bars = s.series.len() * s.categories.len();
    for (si, b) in s.series.iter().enumerate() {
        let color = series_color(si);
        let rects: Vec<(f64, f64, f64)> = b
            .values
            .iter()
            .enumerate()
            .map(|(ci, &v)| {
                let x0 = ci as f64 - group / 2.0 + si as f64 * w;
                (x0, x0 + w, v)
            })
            .collect();
        chart
            .draw_series(rects.iter().map(|&(a, c, v)| {
                Rectangle::new([(a + w * 0.04, base), (c - w * 0.04, v)], color.filled())
            }))
            .map_err(perr)?;
        draw_hatches(&chart, root, sz, si, base, w, &rects)?;
        if let Some(iv) = &b.intervals {
            whiskers(&mut chart, sz, &rects, iv)?;
        }
        for (i, &(a, c, v)) in rects.iter().enumerate() {
            // The bar, or its whisker where that reaches further.
            let (v_lo, v_hi) = b.intervals.as_ref().map_or((v, v), |iv| {
                let (l, h) = iv[i];
                (l.min(v), h.max(v))
            });
            for t in 0..6 {
                let yv = base + (v - base) * t as f64 / 5.0;
                for xx in [a, (a + c) / 2.0, c] {
                    occ.push((x.screen_frac(xx), y.screen_frac(yv)));
                }
            }
            if b.intervals.is_some() {
                for yv in [v_lo, v_hi] {
                    occ.push((x.screen_frac((a + c) / 2.0), y.screen_frac(yv)));
                }
            }
            if n_bars <= 24 {
                let up = v >= base;
                let end = if up { v_hi } else { v_lo };
                let p = chart.plotting_area().map_coordinate(&((a + c) / 2.0, end));
                let dy = if up { -sz.px(4.0) } else { sz.px(4.0) };
                text_at(
                    root,
                    &fmt_num(v),
                    (p.0, p.1 + dy),
                    sz.small,
                    dark_color(si),
                    (HPos::Center, if up { VPos::Bottom } else { VPos::Top }),
                )?;
                occ.push((x.screen_frac((a + c) / 2.0), y.screen_frac(end) + 0.05));
            }
        }
        // A series that is zero everywhere draws no bar: its legend entry
        // says so instead of showing a swatch for something never seen.
        let nothing = b.values.iter().all(|&v| v == base);
        entries.push(LegendEntry {
            label: if nothing {
                format!("{} (0 everywhere)", b.label)
            } else {
                b.label.clone()
            },
            color: color.to_rgba(),
            kind: Swatch::Hatched(hatch::pattern(si)),
        });
    }
    // Theory over the bars, across the whole chart.
    let width = sz.line.max(2);
    let ends = (-0.5, s.categories.len() as f64 - 0.5);
    for (i, (label, v)) in s.theory.iter().enumerate() {
        let color = dark_color(i);
        let line = [(ends.0, *v), (ends.1, *v)];
        draw_path(
            &mut chart,
            &line,
            theory_dash(i),
            sz.scale,
            color.stroke_width(width),
        )?;
        for k in 0..=20 {
            let xx = ends.0 + (ends.1 - ends.0) * f64::from(k) / 20.0;
            occ.push((x.screen_frac(xx), y.screen_frac(*v)));
        }
        entries.push(LegendEntry {
            label: theory_label(label),
            color: color.to_rgba(),
            kind: Swatch::Theory(theory_dash(i)),
        });
    }
    if opts.show_legend(entries.len()) {
        legend(&mut chart, root, sz, &entries, &occ)?;
    }
    Ok(())
}

/// The hatch lines of series `si` over its bars (`rects` are `(left,
/// right, value)` in data units, drawn from `base`, inset as the bars are).
fn draw_hatches<DB: DrawingBackend>(
    chart: &Chart<'_, DB>,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
    si: usize,
    base: f64,
    w: f64,
    rects: &[(f64, f64, f64)],
) -> Result<()> {
    let p = hatch::pattern(si);
    let area = chart.plotting_area();
    for &(a, c, v) in rects {
        let p0 = area.map_coordinate(&(a + w * 0.04, base));
        let p1 = area.map_coordinate(&(c - w * 0.04, v));
        // Lines 14 px apart, closer on narrow bars (at least three across).
        let spacing = f64::from(sz.px(14.0))
            .min(f64::from((p1.0 - p0.0).abs()) / 3.0)
            .max(f64::from(sz.px(5.0)));
        let rect = (p0.0, p0.1, p1.0, p1.1);
        hatch::draw_over(root, rect, p, series_color(si), spacing, sz.px(2.5) as u32)?;
    }
    Ok(())
}

/// A whisker from `lo` to `hi` over the middle of each bar (`rects` are
/// `(left, right, value)` in data units), with caps a third of the bar
/// wide, in dark ink over the bar's colour.
fn whiskers<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    sz: &Sizes,
    rects: &[(f64, f64, f64)],
    intervals: &[(f64, f64)],
) -> Result<()> {
    let stroke = INK.stroke_width(sz.px(2.0).max(1) as u32);
    for (&(a, c, _), &(lo, hi)) in rects.iter().zip(intervals) {
        let mid = (a + c) / 2.0;
        let cap = (c - a) / 6.0;
        chart
            .draw_series([
                PathElement::new(vec![(mid, lo), (mid, hi)], stroke),
                PathElement::new(vec![(mid - cap, lo), (mid + cap, lo)], stroke),
                PathElement::new(vec![(mid - cap, hi), (mid + cap, hi)], stroke),
            ])
            .map_err(perr)?;
    }
    Ok(())
}
