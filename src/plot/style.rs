//! Shared look of every chart: the colour palette, the bundled font and the
//! sizes of text and lines, scaled with the figure size.

use std::sync::OnceLock;

use plotters::style::{FontStyle, RGBAColor, RGBColor};

use crate::error::{Error, ErrorKind, Result};

/// The font family name every chart uses. It is bound to the bundled
/// DejaVu Sans, so text looks the same on every machine.
pub const FONT_FAMILY: &str = "sans-serif";

static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static FONT_OK: OnceLock<bool> = OnceLock::new();

/// Registers the bundled font under [`FONT_FAMILY`] (once per process).
pub(crate) fn ensure_font() -> Result<()> {
    let ok = *FONT_OK.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Plot,
            "the bundled font assets/fonts/DejaVuSans.ttf could not be loaded",
        ))
    }
}

/// The Okabe-Ito colour-blind-safe palette, in the order series use it:
/// series `i` gets `PALETTE[i % 8]` in every chart.
///
/// Blue, orange, bluish green, vermillion, reddish purple, sky blue,
/// yellow, black.
pub const PALETTE: [(u8, u8, u8); 8] = [
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (213, 94, 0),
    (204, 121, 167),
    (86, 180, 233),
    (240, 228, 66),
    (0, 0, 0),
];

/// Colour of series `i` (Okabe-Ito, in [`PALETTE`] order).
pub fn series_color(i: usize) -> RGBColor {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBColor(r, g, b)
}

/// A dark shade of series colour `i`, used for analytic overlays: dark
/// enough to read as "theory" over the series' own markers, still tinted
/// so an overlay is matched with its series.
pub(crate) fn dark_color(i: usize) -> RGBColor {
    let RGBColor(r, g, b) = series_color(i);
    let d = |c: u8| (f64::from(c) * 0.45).round() as u8;
    RGBColor(d(r), d(g), d(b))
}

/// Colour meaning "up / healthy" (Okabe-Ito bluish green).
pub(crate) const UP: RGBColor = RGBColor(0, 158, 115);
/// Colour meaning "down / crashed / lost" (Okabe-Ito vermillion).
pub(crate) const DOWN: RGBColor = RGBColor(213, 94, 0);
/// Dark grey for text and axes.
pub(crate) const INK: RGBColor = RGBColor(40, 40, 40);
/// Light grey for lanes and grid.
pub(crate) const GRID: RGBColor = RGBColor(200, 200, 200);

/// A colour with alpha.
pub(crate) fn alpha(c: RGBColor, a: f64) -> RGBAColor {
    RGBAColor(c.0, c.1, c.2, a)
}

/// Pixel sizes of text, lines and margins for one figure size.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sizes {
    pub title: f64,
    /// The smallest nominal text size that still comes out at
    /// [`MIN_TEXT_PX`](super::slide::MIN_TEXT_PX) on a 1920x1200 slide:
    /// the floor for every text that shrinks to fit.
    pub min_text: f64,
    pub label: f64,
    pub tick: f64,
    pub small: f64,
    pub line: u32,
    pub margin: u32,
    pub scale: f64,
}

impl Sizes {
    /// Sizes for a `w` x `h` figure: 28/20/18/18 px title/label/tick/small
    /// text at 960x600, and never below [`Sizes::min_text`], so that every
    /// text is at least 28 px as drawn on a 1920x1200 slide (plotters draws
    /// text at 1/1.24 of its nominal size: 18 px at 960 wide is 29 px there).
    pub fn for_size(w: u32, h: u32) -> Sizes {
        let s = (f64::from(w) / 960.0)
            .min(f64::from(h) / 600.0)
            .clamp(0.5, 4.0);
        let min_text = super::slide::min_nominal_text(w, h);
        Sizes {
            title: (28.0 * s).max(min_text),
            min_text,
            label: (20.0 * s).max(min_text),
            tick: (18.0 * s).max(min_text),
            small: (18.0 * s).max(min_text),
            line: (2.5 * s).round().max(2.0) as u32,
            margin: (18.0 * s).round() as u32,
            scale: s,
        }
    }

    /// A length scaled like the text (`px` at 960x600).
    pub fn px(&self, px: f64) -> i32 {
        (px * self.scale).round() as i32
    }
}
