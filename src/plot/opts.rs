//! [`Opts`]: the options every chart shares (title, axis labels, log axes,
//! legend, size).

/// Default figure width in pixels.
pub const DEFAULT_WIDTH: u32 = 960;
/// Default figure height in pixels.
pub const DEFAULT_HEIGHT: u32 = 600;

/// Options shared by every chart: title, axis labels (with units), log axes,
/// legend and size. Build it with chained calls:
///
/// ```
/// use thinkdist::plot::Opts;
/// let opts = Opts::new("Request latency")
///     .x_label("latency (ms)")
///     .y_label("count")
///     .log_x()
///     .size(1280, 720);
/// assert_eq!(opts.get_title(), "Request latency");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Opts {
    pub(crate) title: String,
    pub(crate) x_label: String,
    pub(crate) y_label: String,
    pub(crate) log_x: bool,
    pub(crate) log_y: bool,
    pub(crate) legend: Option<bool>,
    pub(crate) size: Option<(u32, u32)>,
    pub(crate) tail_view: bool,
    pub(crate) states: Option<(String, String)>,
    pub(crate) y_zero: bool,
}

impl Opts {
    /// Options for a chart titled `title`; everything else at its default
    /// (linear axes, legend when there is more than one series, 960x600 px).
    pub fn new(title: impl Into<String>) -> Opts {
        Opts {
            title: title.into(),
            ..Opts::default()
        }
    }

    /// Names of the two states of an [`availability_timeline`](crate::plot::availability_timeline)
    /// (default `"up"` and `"down"`), e.g. `.states("trusted", "suspected")`
    /// for a failure detector's view.
    pub fn states(mut self, good: impl Into<String>, bad: impl Into<String>) -> Opts {
        self.states = Some((good.into(), bad.into()));
        self
    }

    /// The x axis label; include the unit, e.g. `"latency (ms)"`.
    pub fn x_label(mut self, label: impl Into<String>) -> Opts {
        self.x_label = label.into();
        self
    }

    /// The y axis label; include the unit, e.g. `"requests / s"`.
    pub fn y_label(mut self, label: impl Into<String>) -> Opts {
        self.y_label = label.into();
        self
    }

    /// Starts a linear y axis at zero even when the data stay far above it
    /// (an availability that dips from 1.0 to 0.8 drawn from 0.75 looks
    /// like a collapse; from 0 it looks like what it is).
    pub fn y_from_zero(mut self) -> Opts {
        self.y_zero = true;
        self
    }

    /// Logarithmic x axis (all x values must be > 0).
    pub fn log_x(mut self) -> Opts {
        self.log_x = true;
        self
    }

    /// Logarithmic y axis (all y values must be > 0).
    pub fn log_y(mut self) -> Opts {
        self.log_y = true;
        self
    }

    /// Force the legend on or off (default: shown when there is more than one series).
    pub fn legend(mut self, show: bool) -> Opts {
        self.legend = Some(show);
        self
    }

    /// Figure size in pixels (default 960x600). Text scales with the size.
    pub fn size(mut self, width: u32, height: u32) -> Opts {
        self.size = Some((width, height));
        self
    }

    /// For [`cdf`](super::cdf()): plot the tail, 1 - F(x), on a log y axis, so
    /// p99 and p99.9 are far apart instead of squeezed against the top.
    pub fn tail_view(mut self) -> Opts {
        self.tail_view = true;
        self
    }

    /// The title.
    pub fn get_title(&self) -> &str {
        &self.title
    }

    /// The size in pixels (width, height).
    pub fn get_size(&self) -> (u32, u32) {
        self.size.unwrap_or((DEFAULT_WIDTH, DEFAULT_HEIGHT))
    }

    /// True when the y axis counts in percent or "out of 100" (its label
    /// says `%`, `percent` or `of 100`): such an axis ends at 100 when the
    /// data do, never at 120 or 200 (a reader takes the top as the maximum).
    pub(crate) fn y_is_percent(&self) -> bool {
        let l = self.y_label.to_lowercase();
        l.contains('%') || l.contains("percent") || l.contains("of 100")
    }

    pub(crate) fn show_legend(&self, n_entries: usize) -> bool {
        self.legend.unwrap_or(n_entries > 1)
    }
}
