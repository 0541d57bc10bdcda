//! Grouped bar chart: one group per category, one bar per series.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{fmt_num, Axis};
use super::checks::{check_finite, check_log, min_max, perr};
use super::figure::{Figure, Spec};
use super::frame::{frame, text_at, XAxisAt};
use super::legend::{legend, LegendEntry, Swatch};
use super::opts::Opts;
use super::style::{dark_color, series_color, Sizes};
use crate::error::{Error, Result};

/// One series of a [`bar_chart`]: a value per category.
#[derive(Clone, Debug, PartialEq)]
pub struct BarSeries {
    /// Legend label.
    pub label: String,
    /// One value per category, in category order.
    pub values: Vec<f64>,
}

impl BarSeries {
    /// A bar series named `label`.
    pub fn new(label: impl Into<String>, values: Vec<f64>) -> BarSeries {
        BarSeries {
            label: label.into(),
            values,
        }
    }
}

/// Plot-ready bar chart data.
#[derive(Clone, Debug)]
pub(crate) struct BarSpec {
    categories: Vec<String>,
    series: Vec<BarSeries>,
}

/// Grouped bars: for each category, one bar per series (series `i` in
/// palette colour `i`), with the value printed above each bar when there
/// are few bars. Supports [`Opts::log_y`].
///
/// Errors: no categories or no series ([`Error::is_empty_data`]); a series
/// with the wrong number of values, NaN/infinite values, or values <= 0
/// with `log_y` ([`Error::is_invalid_parameter`]).
pub fn bar_chart(categories: &[String], series: &[BarSeries], opts: Opts) -> Result<Figure> {
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
    }
    let spec = BarSpec {
        categories: categories.to_vec(),
        series: series.to_vec(),
    };
    Ok(Figure::new(Spec::Bar(spec), opts))
}

pub(crate) fn draw<DB: DrawingBackend>(
    s: &BarSpec,
    opts: &Opts,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
) -> Result<()> {
    let (lo, hi) = min_max(s.series.iter().flat_map(|b| b.values.iter().copied()));
    let (base, y) = if opts.log_y {
        let b = lo / 2.0;
        (b, Axis::log(b, hi * 2.0))
    } else {
        let lo = lo.min(0.0);
        let hi = hi.max(0.0);
        // Room above the tallest bar for the legend, so that it never
        // covers a bar: the legend's share of the plot's height.
        let room = if opts.show_legend(s.series.len()) && lo >= 0.0 {
            let (_, h) = root.dim_in_pixel();
            let plot_h = f64::from(h)
                - sz.title * 1.5
                - sz.tick * 1.6
                - sz.label * 1.6
                - f64::from(sz.margin) * 2.0;
            let legend_h = s.series.len() as f64 * sz.tick * 1.45 + f64::from(sz.px(40.0));
            (legend_h / plot_h.max(1.0)).min(0.6)
        } else {
            0.0
        };
        let top = (hi + (hi - lo) * 0.1) / (1.0 - room);
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
        for &(a, c, v) in &rects {
            for t in 0..6 {
                let yv = base + (v - base) * t as f64 / 5.0;
                for xx in [a, (a + c) / 2.0, c] {
                    occ.push((x.screen_frac(xx), y.screen_frac(yv)));
                }
            }
            if n_bars <= 24 {
                let p = chart.plotting_area().map_coordinate(&((a + c) / 2.0, v));
                let up = v >= base;
                let dy = if up { -sz.px(4.0) } else { sz.px(4.0) };
                text_at(
                    root,
                    &fmt_num(v),
                    (p.0, p.1 + dy),
                    sz.small,
                    dark_color(si),
                    (HPos::Center, if up { VPos::Bottom } else { VPos::Top }),
                )?;
                occ.push((x.screen_frac((a + c) / 2.0), y.screen_frac(v) + 0.05));
            }
        }
        entries.push(LegendEntry {
            label: b.label.clone(),
            color: color.to_rgba(),
            kind: Swatch::Box,
        });
    }
    if opts.show_legend(entries.len()) {
        legend(&mut chart, root, sz, &entries, &occ)?;
    }
    Ok(())
}
