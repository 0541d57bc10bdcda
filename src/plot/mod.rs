//! Charts for notebooks and slides, and the conversions from what runs
//! and checkers produce (traces, histories, crash-point reports,
//! counterexamples) into charts.
//!
//! Every chart function takes plain data (slices of numbers, [`Series`],
//! [`Lane`], [`SequenceDiagram`], ...) plus [`Opts`] and returns a
//! [`Figure`]. A figure is only data until it is drawn: end a notebook cell
//! with it to see it inline (PNG), or call [`Figure::to_svg`],
//! [`Figure::to_png`] or [`Figure::save`]. Keep the figures worth exporting
//! in a [`Charts`] collection; show summaries with [`Table`].
//!
//! All charts share one look: the bundled DejaVu Sans font (so output is
//! byte-identical on every machine), the Okabe-Ito colour-blind-safe
//! [`PALETTE`] in the same order everywhere (series `i` gets colour `i`),
//! 28/20/18 px title/label/tick text at the default 960x600 size
//! (every text at least 28 px as drawn on a 1920x1200 slide, checked on
//! export by [`check_slide_svg`]), and a
//! legend in the emptiest corner when there is more than one series.
//!
//! | function | chart |
//! |---|---|
//! | [`histogram()`] | latency histogram |
//! | [`cdf()`] | empirical CDF (or tail) with p50/p90/p99/p99.9 |
//! | [`tail_cdf()`] | P(X > x) on a log axis, mean marked, theory overlays |
//! | [`time_series()`] | series over time with shaded fault windows |
//! | [`time_series_with_theory()`] | the same with theory drawn over it |
//! | [`availability_timeline()`] | up/down lane per node |
//! | [`segment_chart()`] | stacked horizontal bars: where each row's time went |
//! | [`line_chart()`] | series vs a parameter, error bands, theory overlays |
//! | [`sequence_diagram()`] | message (Lamport) diagram |
//! | [`bar_chart()`] | grouped bars |
//! | [`bar_chart_with_theory()`] | grouped bars with theory lines across them |
//! | [`grid_chart()`], [`crash_point_chart()`] | pass/fail grid: properties × crash points |
//! | [`history_chart()`] | client operations as intervals, one lane per client |
//! | [`counterexample_diagram()`] | a shrunk counterexample around its violation |
//! | [`counterexample_steps()`] | the same, one row per event (for runs where messages crowd) |
//! | [`linearizability_chart()`] | a linearizability verdict: the order found, or the operations that contradict each other |

mod axis;
mod bar;
mod cdf;
mod charts;
mod checks;
mod counterexample;
mod figure;
mod frame;
mod grid;
mod hatch;
mod histogram;
mod history;
mod history_notes;
mod legend;
mod line;
mod linearizability;
mod marks;
mod opts;
mod sequence;
mod series;
mod series_draw;
mod slide;
mod source;
mod style;
mod table;
mod timeline;

pub use axis::fmt_num;
pub use bar::{bar_chart, bar_chart_with_theory, BarSeries};
pub use cdf::{cdf, erlang_tail, exponential_tail, percentile_name, tail_cdf, MARKED_PERCENTILES};
pub use charts::Charts;
pub use counterexample::{counterexample_diagram, counterexample_steps};
pub use figure::{Figure, EXPORT_SCALE};
pub use grid::{crash_point_chart, grid_chart, Grid};
pub use histogram::histogram;
pub use history::{history_chart, history_chart_with, HistoryChart, HistoryNotes, OpBar};
pub use line::{line_chart, time_series, time_series_with_theory};
pub use linearizability::{lin_chart, linearizability_chart, LinBar, LinChart, MAX_CHART_OPS};
pub use opts::{Opts, DEFAULT_HEIGHT, DEFAULT_WIDTH};
pub use sequence::{
    sequence_diagram, Arrow, Mark, MarkKind, PlacedLabel, SequenceDiagram, SequenceLayout,
    MAX_DIAGRAM_ITEMS,
};
pub use series::{Series, SeriesStyle, Window};
pub use slide::{
    check_slide_svg, slide_scale, slide_size, slide_texts, SlideText, MIN_TEXT_PX,
    PLOTTERS_TEXT_FACTOR, SLIDE, SLIDE_ASPECT,
};
pub use source::{source, source_files, Source};
pub use style::{series_color, FONT_FAMILY, PALETTE};
pub use table::Table;
pub use timeline::{availability_timeline, segment_chart, Lane, Segment};
