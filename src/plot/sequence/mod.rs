//! Message sequence (Lamport) diagram: one vertical lane per process, time
//! flowing down, messages as arrows between lanes.
//!
//! Every label (arrow labels, mark labels, the symbol key, panel captions)
//! is placed so that no two overlap and none covers a symbol: each label
//! tries positions near what it names and takes the first free one, with a
//! thin leader line when it had to move away. [`Figure::sequence_layout`]
//! returns where everything went, so tests can check it geometrically.
//!
//! One file per job: [`diagram`] (the data and its builders),
//! `from_trace` (a run's trace as a diagram), `draw` (checks and the
//! drawing), `layout` (where labels go, and the layout a test can check)
//! and `glyphs` (the small symbols).

pub mod diagram;
mod draw;
mod from_trace;
mod glyphs;
mod layout;

pub use diagram::{Arrow, Mark, MarkKind, SequenceDiagram};
pub use draw::sequence_diagram;
pub(crate) use draw::{draw, SequenceSpec};
pub use layout::{PlacedLabel, SequenceLayout};
