//! What a run records: latencies, counters, up/down transitions.
//!
//! The engine fills these as it runs (`Ctx::record_latency`, `Ctx::count`,
//! crashes and recoveries), so they belong to the kernel; they only collect
//! and summarise data and draw nothing. `plot` reads them, and
//! `measure::theory` gives the closed forms to compare them with.
//!
//! - [`LatencyRecorder`]: exact or streaming (HdrHistogram) latency samples,
//!   percentiles and a [`LatencySummary`] table row.
//! - [`UpDownLog`] → [`AvailabilityReport`]: per-node outages and the
//!   fraction of time at least k nodes were up.
//! - [`Counters`]: named counts in deterministic (name) order.
//! - [`TimeAverage`]: exact time integral and average of a step function
//!   (availability here, L in Little's law in `measure`).

pub mod availability;
pub mod counters;
pub mod latency;
pub mod time_average;

pub use availability::{AvailabilityReport, UpDownLog};
pub use counters::Counters;
pub use latency::{LatencyRecorder, LatencySummary};
pub use time_average::TimeAverage;
