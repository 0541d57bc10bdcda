//! Latency histogram: counts of samples in equal-width bins (equal width in
//! log space with `log_x`).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{fmt_num, Axis};
use super::checks::{check_finite, check_log, min_max, perr};
use super::figure::{Figure, Spec};
use super::frame::{frame, XAxisAt};
use super::legend::{legend, LegendEntry, Swatch};
use super::opts::Opts;
use super::style::{alpha, series_color, Sizes};
use crate::error::{Error, Result};

/// Binned histogram data.
#[derive(Clone, Debug)]
pub(crate) struct HistSpec {
    edges: Vec<f64>,
    counts: Vec<u64>,
    n: usize,
}

/// A histogram of `samples` (e.g. latencies, x in the samples' unit) with
/// `bins` equal-width bins between the smallest and largest sample. With
/// [`Opts::log_x`] the bins are equally wide on the log axis.
///
/// Errors: empty `samples` ([`Error::is_empty_data`]); `bins` of 0 or over
/// 10 000, NaN or infinite samples, or samples <= 0 with `log_x`
/// ([`Error::is_invalid_parameter`]).
///
/// ```
/// use thinkdist::plot::{histogram, Opts};
/// let latencies: Vec<f64> = (1..=200).map(|i| 5.0 + (i % 17) as f64 * 0.7).collect();
/// let fig = histogram(&latencies, 20, Opts::new("Latency").x_label("latency (ms)").y_label("requests"))?;
/// assert!(fig.to_svg()?.contains("latency (ms)"));
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn histogram(samples: &[f64], bins: usize, opts: Opts) -> Result<Figure> {
    if samples.is_empty() {
        return Err(Error::empty("histogram samples"));
    }
    if bins == 0 || bins > 10_000 {
        return Err(Error::invalid("bins", bins, "a bin count from 1 to 10000"));
    }
    check_finite("samples", samples.iter().copied())?;
    check_log("x", opts.log_x, samples.iter().copied())?;
    let (mut lo, mut hi) = min_max(samples.iter().copied());
    if hi <= lo {
        if opts.log_x {
            lo /= 1.5;
            hi *= 1.5;
        } else {
            let d = if lo == 0.0 { 0.5 } else { lo.abs() * 0.05 };
            lo -= d;
            hi += d;
        }
    }
    let edges: Vec<f64> = (0..=bins)
        .map(|i| {
            let t = i as f64 / bins as f64;
            if opts.log_x {
                10f64.powf(lo.log10() + t * (hi.log10() - lo.log10()))
            } else {
                lo + t * (hi - lo)
            }
        })
        .collect();
    let mut counts = vec![0u64; bins];
    for &s in samples {
        let t = if opts.log_x {
            (s.log10() - lo.log10()) / (hi.log10() - lo.log10())
        } else {
            (s - lo) / (hi - lo)
        };
        let i = ((t * bins as f64).floor().max(0.0) as usize).min(bins - 1);
        counts[i] += 1;
    }
    let spec = HistSpec {
        edges,
        counts,
        n: samples.len(),
    };
    Ok(Figure::new(Spec::Histogram(spec), opts))
}

pub(crate) fn draw<DB: DrawingBackend>(
    s: &HistSpec,
    opts: &Opts,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
) -> Result<()> {
    let max = *s.counts.iter().max().unwrap_or(&1) as f64;
    let x = Axis::auto(s.edges[0], s.edges[s.edges.len() - 1], opts.log_x, 8);
    let (base, y) = if opts.log_y {
        (0.7, Axis::log(0.7, (max * 1.6).max(2.0)))
    } else {
        (0.0, Axis::linear_nice(0.0, max * 1.05, 6))
    };
    let mut chart = frame(root, opts, sz, x.clone(), y.clone(), XAxisAt::Bottom, true)?;
    let color = series_color(0);
    let bars: Vec<_> = s
        .edges
        .windows(2)
        .zip(&s.counts)
        .filter(|(_, &c)| c > 0)
        .map(|(e, &c)| (e[0], e[1], c as f64))
        .collect();
    chart
        .draw_series(
            bars.iter()
                .map(|&(a, b, c)| Rectangle::new([(a, base), (b, c)], alpha(color, 0.85).filled())),
        )
        .map_err(perr)?;
    chart
        .draw_series(
            bars.iter()
                .map(|&(a, b, c)| Rectangle::new([(a, base), (b, c)], WHITE.stroke_width(1))),
        )
        .map_err(perr)?;
    if opts.show_legend(1) {
        let mut occ = Vec::new();
        for &(a, b, c) in &bars {
            for k in 0..6 {
                let v = base + (c - base) * k as f64 / 5.0;
                occ.push((x.screen_frac((a + b) / 2.0), y.screen_frac(v)));
            }
        }
        let entries = [LegendEntry {
            label: format!("n = {}", fmt_num(s.n as f64)),
            color: alpha(color, 0.85),
            kind: Swatch::Box,
        }];
        legend(&mut chart, root, sz, &entries, &occ)?;
    }
    Ok(())
}
