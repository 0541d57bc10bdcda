//! [`Figure`]: a chart spec that renders on demand, to SVG, PNG, a file or
//! a notebook cell.

use std::fs;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::checks::perr;
use super::opts::Opts;
use super::slide::{check_slide_svg, slide_size};
use super::style::{ensure_font, Sizes};
use super::{bar, cdf, grid, histogram, history, line, linearizability, sequence, timeline};
use crate::error::{Error, ErrorKind, Result};

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

    /// The same figure under another title: two charts of one notebook
    /// need different titles ([`Charts::export`](super::Charts::export)
    /// refuses a repeat), and a slide may want its own words.
    pub fn with_title(mut self, title: impl Into<String>) -> Figure {
        self.opts.title = title.into();
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
    ///
    /// A diagram whose size is not 16:9 or 16:10 (a tall message diagram)
    /// is exported at a slide shape ([`Figure::slide_sized`]), so it fills
    /// a slide instead of shrinking into a corner of it.
    pub fn to_export_png(&self) -> Result<Vec<u8>> {
        let fig = self.slide_sized()?;
        let (w, h) = fig.size();
        let scale = EXPORT_SCALE.min(10_000 / w.max(h)).max(1);
        fig.with_size(w * scale, h * scale).to_png()
    }

    /// The same figure at a slide shape: unchanged when its width/height is
    /// within [`SLIDE_ASPECT`](super::SLIDE_ASPECT), otherwise widened or
    /// made taller to 16:10 ([`slide_size`](super::slide_size)). Everything
    /// is laid out for the drawing area, so a diagram only spreads out.
    pub fn slide_sized(&self) -> Result<Figure> {
        let (w, h) = self.checked_size()?;
        let (w2, h2) = slide_size(w, h);
        Ok(self.clone().with_size(w2, h2))
    }

    /// Writes `name.svg` and `name.png` into `dir` (created if missing) and
    /// returns the two paths. Both are drawn at a slide shape
    /// ([`Figure::slide_sized`]); the PNG at [`EXPORT_SCALE`] times that
    /// size ([`Figure::to_export_png`]).
    ///
    /// Errors: a chart that breaks the slide rules
    /// ([`check_slide_svg`](super::check_slide_svg): a text under 28 px as
    /// drawn on a 1920x1200 slide) is not written, and the error names the
    /// text, so no exported chart escapes the rules.
    pub fn save(&self, dir: impl AsRef<Path>, name: &str) -> Result<Vec<PathBuf>> {
        check_file_name(name)?;
        let dir = dir.as_ref();
        let svg = dir.join(format!("{name}.svg"));
        let png = dir.join(format!("{name}.png"));
        self.save_svg(&svg)
            .map_err(|e| Error::new(e.kind(), format!("chart {name:?}: {e}")))?;
        self.save_png(&png)?;
        Ok(vec![svg, png])
    }

    /// Writes the slide-shaped SVG ([`Figure::slide_sized`]) to `path`
    /// (parent directories are created), after checking it against the
    /// slide rules ([`check_slide_svg`](super::check_slide_svg)).
    pub fn save_svg(&self, path: impl AsRef<Path>) -> Result<()> {
        let svg = self.slide_sized()?.to_svg()?;
        check_slide_svg(&svg)?;
        write_file(path.as_ref(), svg.as_bytes())
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
/// The longest chart name: with ".svg" it stays within the 255 bytes of a
/// file name.
const MAX_NAME_CHARS: usize = 200;

pub(crate) fn check_file_name(name: &str) -> Result<()> {
    // With ".svg" or ".png" added, a name must fit the 255 bytes most file
    // systems allow a file name (all its characters are ASCII).
    if name.len() > MAX_NAME_CHARS {
        return Err(Error::invalid(
            "name",
            format!("{} characters", name.len()),
            &format!("a file name of at most {MAX_NAME_CHARS} characters"),
        ));
    }
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
