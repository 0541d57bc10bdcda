//! What a run measures: latencies, availability, counters, time averages.
//!
//! These types only collect and summarise data; they draw nothing. The
//! `plot` module reads them, and `theory` provides the closed forms to
//! compare them with.
//!
//! - [`LatencyRecorder`]: exact or streaming (HdrHistogram) latency samples,
//!   percentiles and a [`LatencySummary`] table row.
//! - [`UpDownLog`] → [`AvailabilityReport`]: per-node outages and the
//!   fraction of time at least k nodes were up.
//! - [`Counters`]: named counts in deterministic (name) order.
//! - [`TimeAverage`]: time-weighted mean of a step function, for L in
//!   Little's law.

pub mod availability;
pub mod counters;
pub mod latency;
pub mod little;

pub use availability::{AvailabilityReport, UpDownLog};
pub use counters::Counters;
pub use latency::{LatencyRecorder, LatencySummary};
pub use little::TimeAverage;
