//! [`Figure`] (a chart spec that renders on demand), [`Opts`] (chart options)
//! and the drawing helpers every chart kind shares.

use std::fs;
use std::path::{Path, PathBuf};

use plotters::chart::{ChartBuilder, ChartContext, SeriesLabelPosition};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::marks::{dash_pieces, marker_polygon, Dash, Marker};
use super::style::{ensure_font, Sizes, FONT_FAMILY, GRID, INK};
use super::{bar, cdf, grid, histogram, history, line, linearizability, sequence, timeline};
use crate::error::{Error, ErrorKind, Result};

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

    pub(crate) fn show_legend(&self, n_entries: usize) -> bool {
        self.legend.unwrap_or(n_entries > 1)
    }
}

/// The plain data of one chart, ready to draw.
#[derive(Clone, Debug)]
pub(crate) enum Spec {
    Histogram(histogram::HistSpec),
    Cdf(cdf::CdfSpec),
    TimeSeries(line::TimeSeriesSpec),
    Line(line::LineSpec),
    Availability(timeline::AvailabilitySpec),
    Sequence(sequence::SequenceSpec),
    Bar(bar::BarSpec),
    Grid(grid::GridSpec),
    History(history::HistorySpec),
    Lin(linearizability::LinSpec),
}

/// How many times its on-screen size a figure is drawn when written to a
/// PNG file (see [`Figure::to_export_png`]).
pub const EXPORT_SCALE: u32 = 2;

/// A chart: plain data plus [`Opts`], rendered on demand to SVG or PNG.
///
/// Build one with a chart function ([`histogram`](super::histogram()),
/// [`cdf`](super::cdf()), [`time_series`](super::time_series()),
/// [`availability_timeline`](super::availability_timeline()),
/// [`line_chart`](super::line_chart()),
/// [`sequence_diagram`](super::sequence_diagram()),
/// [`bar_chart`](super::bar_chart())). In a notebook, end a cell with the
/// figure to see it inline (PNG, via `evcxr_display`). The same inputs
/// always give byte-identical SVG and PNG.
///
/// ```
/// use thinkdist::plot::{histogram, Opts};
/// let samples = [1.0, 2.0, 2.5, 3.0, 3.2, 4.0, 7.5];
/// let fig = histogram(&samples, 5, Opts::new("Latency").x_label("latency (ms)").y_label("count"))?
///     .with_size(640, 400);
/// let svg = fig.to_svg()?;
/// assert!(svg.contains("Latency"));
/// let png = fig.to_png()?;
/// assert_eq!(&png[1..4], b"PNG");
/// # Ok::<(), thinkdist::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Figure {
    pub(crate) spec: Spec,
    pub(crate) opts: Opts,
}

impl Figure {
    pub(crate) fn new(spec: Spec, opts: Opts) -> Figure {
        Figure { spec, opts }
    }

    /// The same figure at `width` x `height` pixels (default 960x600).
    pub fn with_size(mut self, width: u32, height: u32) -> Figure {
        self.opts.size = Some((width, height));
        self
    }

    /// The chart title.
    pub fn title(&self) -> &str {
        &self.opts.title
    }

    /// The size in pixels (width, height).
    pub fn size(&self) -> (u32, u32) {
        self.opts.get_size()
    }

    /// The chart's options.
    pub fn opts(&self) -> &Opts {
        &self.opts
    }

    fn checked_size(&self) -> Result<(u32, u32)> {
        let (w, h) = self.size();
        if !(100..=10_000).contains(&w) {
            return Err(Error::invalid(
                "width",
                w,
                "a figure width of 100 to 10000 px",
            ));
        }
        if !(100..=10_000).contains(&h) {
            return Err(Error::invalid(
                "height",
                h,
                "a figure height of 100 to 10000 px",
            ));
        }
        Ok((w, h))
    }

    /// Renders the chart as an SVG document. Text is SVG `<text>` in the
    /// `sans-serif` family.
    pub fn to_svg(&self) -> Result<String> {
        let size = self.checked_size()?;
        ensure_font()?;
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
            self.draw(&root)?;
        }
        Ok(out)
    }

    /// Renders the chart as a PNG image (RGB, the bundled DejaVu Sans font).
    ///
    /// Drawn into an in-memory RGB buffer and encoded with the `png` crate
    /// (no temporary file; plotters' own encoder would pull in the `image`
    /// crate, which every notebook's `:dep` cell would then have to analyse).
    pub fn to_png(&self) -> Result<Vec<u8>> {
        let (w, h) = self.checked_size()?;
        ensure_font()?;
        let mut rgb = vec![0u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(perr)?;
        }
        encode_png(&rgb, w, h)
    }

    /// The PNG written by [`Figure::save`] and [`Figure::save_png`]: the
    /// same chart drawn at [`EXPORT_SCALE`] times its size (1920x1200 for
    /// the default 960x600, at most 10000 px a side), so that it fills a
    /// slide sharply, with 32 px tick labels and 56 px titles. Everything
    /// scales with the size, so it is the inline chart, only sharper.
    pub fn to_export_png(&self) -> Result<Vec<u8>> {
        let (w, h) = self.checked_size()?;
        let scale = EXPORT_SCALE.min(10_000 / w.max(h)).max(1);
        self.clone().with_size(w * scale, h * scale).to_png()
    }

    /// Writes `name.svg` and `name.png` into `dir` (created if missing) and
    /// returns the two paths. The PNG is drawn at [`EXPORT_SCALE`] times
    /// the figure's size ([`Figure::to_export_png`]).
    pub fn save(&self, dir: impl AsRef<Path>, name: &str) -> Result<Vec<PathBuf>> {
        check_file_name(name)?;
        let dir = dir.as_ref();
        let svg = dir.join(format!("{name}.svg"));
        let png = dir.join(format!("{name}.png"));
        self.save_svg(&svg)?;
        self.save_png(&png)?;
        Ok(vec![svg, png])
    }

    /// Writes the SVG to `path` (parent directories are created).
    pub fn save_svg(&self, path: impl AsRef<Path>) -> Result<()> {
        write_file(path.as_ref(), self.to_svg()?.as_bytes())
    }

    /// Writes the slide-sized PNG ([`Figure::to_export_png`]) to `path`
    /// (parent directories are created).
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<()> {
        write_file(path.as_ref(), &self.to_export_png()?)
    }

    /// Shows the figure inline in a Jupyter notebook run by evcxr, as PNG.
    /// On a drawing error it shows the error message as text instead.
    pub fn evcxr_display(&self) {
        use base64::Engine as _;
        match self.to_png() {
            Ok(png) => {
                let b64 = base64::engine::general_purpose::STANDARD.encode(png);
                println!("EVCXR_BEGIN_CONTENT image/png\n{b64}\nEVCXR_END_CONTENT");
            }
            Err(e) => {
                println!("EVCXR_BEGIN_CONTENT text/plain\nchart not drawn: {e}\nEVCXR_END_CONTENT");
            }
        }
    }

    /// Draws the chart on any plotters drawing area (the one generic draw
    /// function behind SVG and PNG).
    pub(crate) fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let (w, h) = root.dim_in_pixel();
        let sz = Sizes::for_size(w, h);
        root.fill(&WHITE).map_err(perr)?;
        match &self.spec {
            Spec::Histogram(s) => histogram::draw(s, &self.opts, root, &sz)?,
            Spec::Cdf(s) => cdf::draw(s, &self.opts, root, &sz)?,
            Spec::TimeSeries(s) => line::draw_time_series(s, &self.opts, root, &sz)?,
            Spec::Line(s) => line::draw_line_chart(s, &self.opts, root, &sz)?,
            Spec::Availability(s) => timeline::draw(s, &self.opts, root, &sz)?,
            Spec::Sequence(s) => sequence::draw(s, &self.opts, root, &sz)?,
            Spec::Bar(s) => bar::draw(s, &self.opts, root, &sz)?,
            Spec::Grid(s) => grid::draw(s, &self.opts, root, &sz)?,
            Spec::History(s) => history::draw(s, &self.opts, root, &sz)?,
            Spec::Lin(s) => linearizability::draw(s, &self.opts, root, &sz)?,
        }
        root.present().map_err(perr)
    }
}

/// Encodes an 8-bit RGB buffer as PNG: default deflate level and adaptive
/// row filters, which keep chart PNGs (large flat areas) small.
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let err = |e: png::EncodingError| Error::new(ErrorKind::Io, format!("encoding PNG: {e}"));
    let mut out = Vec::with_capacity(rgb.len() / 8);
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Default);
        enc.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
        let mut writer = enc.write_header().map_err(err)?;
        writer.write_image_data(rgb).map_err(err)?;
        writer.finish().map_err(err)?;
    }
    Ok(out)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            fs::create_dir_all(parent).map_err(|e| {
                Error::new(ErrorKind::Io, format!("creating {}: {e}", parent.display()))
            })?;
        }
    }
    fs::write(path, bytes)
        .map_err(|e| Error::new(ErrorKind::Io, format!("writing {}: {e}", path.display())))
}

/// Checks that `name` can be used as a file name stem.
pub(crate) fn check_file_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "name",
            format!("{name:?}"),
            "a non-empty file name of letters, digits, '-', '_' and '.' (no '/', not starting with '.')",
        ))
    }
}

/// Wraps a plotters error.
pub(crate) fn perr<E: std::fmt::Display>(e: E) -> Error {
    Error::new(ErrorKind::Plot, format!("drawing the chart failed: {e}"))
}

/// Fails on the first NaN or infinite value.
pub(crate) fn check_finite(what: &str, values: impl IntoIterator<Item = f64>) -> Result<()> {
    for v in values {
        if !v.is_finite() {
            return Err(Error::invalid(
                what,
                v,
                "finite numbers (no NaN or infinity)",
            ));
        }
    }
    Ok(())
}

/// Fails on the first value <= 0 when `log` is set.
pub(crate) fn check_log(
    axis: &str,
    log: bool,
    values: impl IntoIterator<Item = f64>,
) -> Result<()> {
    if !log {
        return Ok(());
    }
    for v in values {
        if v <= 0.0 {
            return Err(Error::invalid(
                &format!("log_{axis}"),
                v,
                &format!(
                    "only values > 0 on a log {axis} axis: drop zero and negative values, or remove .log_{axis}()"
                ),
            ));
        }
    }
    Ok(())
}

/// Min and max of values (caller guarantees non-empty, finite).
pub(crate) fn min_max(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    values
        .into_iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// Text style in the bundled font.
pub(crate) fn font(size: f64, color: RGBColor) -> TextStyle<'static> {
    TextStyle {
        font: (FONT_FAMILY, size).into_font(),
        color: color.to_backend_color(),
        pos: Pos::default(),
    }
}

/// Text width and height in pixels.
pub(crate) fn text_size<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    size: f64,
) -> (i32, i32) {
    root.estimate_text_size(text, &font(size, INK))
        .map(|(w, h)| (w as i32, h as i32))
        .unwrap_or((
            (text.chars().count() as f64 * size * 0.6) as i32,
            size as i32,
        ))
}

/// The chart type every chart draws on.
pub(crate) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

/// Where the axis tick labels go.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum XAxisAt {
    Bottom,
    Top,
}

/// Builds the titled chart with axes, labels and grid.
pub(crate) fn frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    opts: &Opts,
    sz: &Sizes,
    x: Axis,
    y: Axis,
    x_at: XAxisAt,
    x_grid: bool,
) -> Result<Chart<'a, DB>> {
    let tick_w = y
        .tick_labels()
        .iter()
        .map(|l| text_size(root, l, sz.tick).0)
        .max()
        .unwrap_or(0);
    let y_area = tick_w
        + sz.px(16.0)
        + if opts.y_label.is_empty() {
            0
        } else {
            (sz.label * 1.6) as i32
        };
    let x_labels = x.tick_labels();
    let last_w = x_labels
        .last()
        .map(|l| text_size(root, l, sz.tick).0)
        .unwrap_or(0);
    let x_area = (sz.tick * 1.6) as i32
        + sz.px(8.0)
        + if opts.x_label.is_empty() {
            0
        } else {
            (sz.label * 1.6) as i32
        };
    let m = sz.margin as i32;
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(&opts.title, font(sz.title, INK))
        .margin_top(m / 2)
        .margin_bottom(m)
        .margin_left(m)
        .margin_right(m.max(last_w / 2 + sz.px(6.0)))
        .y_label_area_size(y_area);
    match x_at {
        XAxisAt::Bottom => builder.x_label_area_size(x_area),
        XAxisAt::Top => builder.top_x_label_area_size(x_area),
    };
    let mut chart = builder.build_cartesian_2d(x, y).map_err(perr)?;
    let mut mesh = chart.configure_mesh();
    mesh.label_style(font(sz.tick, INK))
        .axis_desc_style(font(sz.label, INK))
        .bold_line_style(GRID.mix(0.7))
        .light_line_style(GRID.mix(0.3))
        .axis_style(INK.mix(0.8))
        .x_labels(30)
        .y_labels(30)
        .set_all_tick_mark_size(sz.px(5.0));
    if !opts.x_label.is_empty() {
        mesh.x_desc(axis_label(&opts.x_label, opts.log_x));
    }
    if !opts.y_label.is_empty() {
        mesh.y_desc(axis_label(&opts.y_label, opts.log_y));
    }
    if !x_grid {
        mesh.disable_x_mesh();
    }
    mesh.draw().map_err(perr)?;
    Ok(chart)
}

/// An axis label as drawn: a log axis says so, unless its label already
/// mentions "log" (the reader must not mistake equal steps for equal
/// differences).
pub(crate) fn axis_label(label: &str, log: bool) -> String {
    if log && !label.to_lowercase().contains("log") {
        format!("{label}, log scale")
    } else {
        label.to_string()
    }
}

/// One legend entry: label and how its swatch looks.
#[derive(Clone, Debug)]
pub(crate) struct LegendEntry {
    pub label: String,
    pub color: RGBAColor,
    pub kind: Swatch,
}

/// How a legend swatch looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Swatch {
    Line,
    Box,
    /// A series of a line chart: its dash pattern (`None`: no line) and
    /// marker (`None`: no marker).
    Styled {
        dash: Option<Dash>,
        marker: Option<Marker>,
    },
    /// A theory overlay: thin, with its dash pattern.
    Theory(Dash),
}

/// The plot corner where the legend covers the fewest of `occupied` data
/// points (fractions 0..1 of the plot area, y up), and how many it covers
/// there.
pub(crate) fn legend_corner<'a, DB: DrawingBackend + 'a>(
    chart: &Chart<'a, DB>,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
    entries: &[LegendEntry],
    occupied: &[(f64, f64)],
) -> (usize, SeriesLabelPosition) {
    let (pw, ph) = chart.plotting_area().dim_in_pixel();
    let text_w = entries
        .iter()
        .map(|e| text_size(root, &e.label, sz.tick).0)
        .max()
        .unwrap_or(0);
    let box_w = (text_w + sz.px(84.0)) as f64 / f64::from(pw.max(1));
    let box_h = (entries.len() as f64 * sz.tick * 1.45 + sz.px(28.0) as f64) / f64::from(ph.max(1));
    let corners = [
        (SeriesLabelPosition::UpperRight, (1.0 - box_w, 1.0 - box_h)),
        (SeriesLabelPosition::UpperLeft, (0.0, 1.0 - box_h)),
        (SeriesLabelPosition::LowerRight, (1.0 - box_w, 0.0)),
        (SeriesLabelPosition::LowerLeft, (0.0, 0.0)),
    ];
    let mut best = (usize::MAX, SeriesLabelPosition::UpperRight);
    for (pos, (x0, y0)) in corners {
        let n = occupied
            .iter()
            .filter(|&&(x, y)| x >= x0 && x <= x0 + box_w && y >= y0 && y <= y0 + box_h)
            .count();
        if n < best.0 {
            best = (n, pos);
        }
    }
    best
}

/// Draws the legend in the plot corner that covers the fewest of
/// `occupied` data points (given as fractions 0..1 of the plot area, y up).
pub(crate) fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
    entries: &[LegendEntry],
    occupied: &[(f64, f64)],
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let best = legend_corner(chart, root, sz, entries, occupied);
    let lw = sz.line;
    let thin = (f64::from(lw) * 0.6).round().max(1.0) as u32;
    let swatch = sz.px(40.0);
    let r = sz.px(5.0).max(3);
    let scale = sz.scale;
    for e in entries {
        let color = e.color;
        let kind = e.kind;
        // What the swatch shows: a line (dash pattern, width) and a marker.
        let (line, marker): (Option<(Dash, u32)>, Option<Marker>) = match kind {
            Swatch::Line => (Some((Dash(&[]), lw)), None),
            Swatch::Box => (Some((Dash(&[]), (2 * r + 4) as u32)), None),
            Swatch::Styled { dash, marker } => (dash.map(|d| (d, lw)), marker),
            Swatch::Theory(dash) => (Some((dash, thin)), None),
        };
        let mut pieces: Vec<(Vec<(i32, i32)>, ShapeStyle)> = match line {
            Some((dash, width)) => {
                let st = ShapeStyle {
                    color,
                    filled: true,
                    stroke_width: width,
                };
                dash_pieces(&[(0.0, 0.0), (f64::from(swatch), 0.0)], dash, scale)
                    .into_iter()
                    .map(|p| {
                        let v = p.iter().map(|q| (q.0.round() as i32, 0)).collect();
                        (v, st)
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        pieces.truncate(6);
        let none = ShapeStyle {
            color: TRANSPARENT,
            filled: false,
            stroke_width: 0,
        };
        pieces.resize(6, (vec![], none));
        let shape: Vec<(i32, i32)> = marker
            .map(|m| {
                marker_polygon(m, r)
                    .into_iter()
                    .map(|(x, y)| (x + swatch / 2, y))
                    .collect()
            })
            .unwrap_or_default();
        let fill = ShapeStyle {
            color,
            filled: true,
            stroke_width: 1,
        };
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(perr)?
            .label(e.label.clone())
            .legend(move |(x, y)| {
                let p = pieces.clone();
                EmptyElement::at((x, y))
                    + PathElement::new(p[0].0.clone(), p[0].1)
                    + PathElement::new(p[1].0.clone(), p[1].1)
                    + PathElement::new(p[2].0.clone(), p[2].1)
                    + PathElement::new(p[3].0.clone(), p[3].1)
                    + PathElement::new(p[4].0.clone(), p[4].1)
                    + PathElement::new(p[5].0.clone(), p[5].1)
                    + Polygon::new(shape.clone(), fill)
            });
    }
    chart
        .configure_series_labels()
        .position(best.1)
        .margin(sz.px(10.0))
        .legend_area_size(swatch + sz.px(8.0))
        .label_font(font(sz.tick, INK))
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .draw()
        .map_err(perr)
}

/// Samples points along a polyline (as plot fractions) for legend placement.
pub(crate) fn occupancy(x: &Axis, y: &Axis, pts: &[(f64, f64)], out: &mut Vec<(f64, f64)>) {
    let f = |p: &(f64, f64)| (x.screen_frac(p.0), y.screen_frac(p.1));
    let step = (pts.len() / 400).max(1);
    let mut prev: Option<(f64, f64)> = None;
    for p in pts.iter().step_by(step) {
        let q = f(p);
        if let Some(a) = prev {
            for k in 1..8 {
                let t = k as f64 / 8.0;
                out.push((a.0 + t * (q.0 - a.0), a.1 + t * (q.1 - a.1)));
            }
        }
        out.push(q);
        prev = Some(q);
    }
}

/// Draws `text` with its left-centre (or other anchor) at pixel `pos`.
pub(crate) fn text_at<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    pos: (i32, i32),
    size: f64,
    color: RGBColor,
    anchor: (HPos, VPos),
) -> Result<()> {
    let style = font(size, color).pos(Pos::new(anchor.0, anchor.1));
    root.draw(&Text::new(text.to_string(), pos, style))
        .map_err(perr)
}

/// Draws `text` on a white translucent box; `pos` is the box's left-centre.
pub(crate) fn boxed_text<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    pos: (i32, i32),
    size: f64,
    color: RGBColor,
) -> Result<(i32, i32, i32, i32)> {
    let (w, h) = text_size(root, text, size);
    let pad = 3;
    let rect = (
        pos.0 - pad,
        pos.1 - h / 2 - pad,
        pos.0 + w + pad,
        pos.1 + h / 2 + pad,
    );
    root.draw(&Rectangle::new(
        [(rect.0, rect.1), (rect.2, rect.3)],
        WHITE.mix(0.85).filled(),
    ))
    .map_err(perr)?;
    text_at(root, text, pos, size, color, (HPos::Left, VPos::Center))?;
    Ok(rect)
}

/// A plot-area pixel rectangle `(x0, y0, x1, y1)`.
pub(crate) type PxRect = (i32, i32, i32, i32);

/// True if two pixel rectangles overlap.
pub(crate) fn overlaps(a: PxRect, b: PxRect) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// Drops points closer than `min_px` pixels to the previous kept point, so
/// thick lines are drawn as few, longer segments (plotters draws each
/// segment of a thick line separately; very short ones leave spikes).
pub(crate) fn simplify(
    pts: &[(f64, f64)],
    x: &Axis,
    y: &Axis,
    plot_px: (u32, u32),
    min_px: f64,
) -> Vec<(f64, f64)> {
    let to_px = |p: &(f64, f64)| {
        (
            x.screen_frac(p.0) * f64::from(plot_px.0),
            y.screen_frac(p.1) * f64::from(plot_px.1),
        )
    };
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(pts.len());
    let mut last = (f64::NAN, f64::NAN);
    for (k, p) in pts.iter().enumerate() {
        let q = to_px(p);
        let d = (q.0 - last.0).hypot(q.1 - last.1);
        let far = d.is_nan() || d >= min_px;
        if far || k + 1 == pts.len() {
            out.push(*p);
            last = q;
        }
    }
    out
}
