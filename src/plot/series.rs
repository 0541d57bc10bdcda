//! [`Series`] (points with an optional error band, style and point labels)
//! and [`Window`] (a shaded time window): the data of line charts and time
//! series, and the checks they pass before drawing.

use super::checks::{check_finite, check_log};
use super::opts::Opts;
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

/// A time window shaded on a [`time_series`](super::time_series) chart (a fault: crash,
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

/// Checks every series of a chart: points, finite values, band and labels
/// of the right length, nothing <= 0 on a log axis.
pub(super) fn check_series(list: &[Series], opts: &Opts, what: &str) -> Result<()> {
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
