//! Measurements and theory: what experiments compute from a run and the
//! closed forms they are compared with.
//!
//! - [`stats`]: means and confidence intervals over independent seeds.
//! - [`theory`]: every closed form of the crate, one file per family:
//!   queueing (M/M/1, M/M/c, Little's law, closed-loop MVA), availability
//!   (k of n, nines), tails (exponential, Erlang, any latency, fan-out,
//!   hedging), retries, delivery, skew (Zipf, hottest partition), gossip,
//!   rebalancing.
//! - [`workload`]: open- and closed-loop arrivals, Zipf-skewed keys.
//! - [`little`]: time averages of step functions, for L in Little's law
//!   (the kernel's integrator, re-exported).
//!
//! The engine's own recorders (latencies, counters, up/down) are in
//! [`crate::sim::metrics`]: the kernel fills them, so they live there.

pub mod little;
pub mod stats;
pub mod theory;
pub mod workload;

pub use little::TimeAverage;
pub use stats::{mean_ci, MeanCi, SweepCi};
