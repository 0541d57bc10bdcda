//! Measurements and theory: what experiments compute from a run and the
//! closed forms they are compared with.
//!
//! - [`stats`]: means and confidence intervals over independent seeds.
//! - [`theory`]: M/M/1, M/M/c (Erlang C), closed-loop mean value analysis,
//!   k-of-n availability, nines, fan-out tails.
//! - [`theory_service`]: chapter 12's closed forms: the supermarket model
//!   (power of d choices), round robin as GI/M/1, retry storms, adaptive
//!   throttling, availability of services in series, in parallel and
//!   composed ([`theory_service::Block`]).
//! - [`workload`]: open- and closed-loop arrivals, Zipf-skewed keys.
//! - [`little`]: time averages of step functions, for L in Little's law.
//!
//! The engine's own recorders (latencies, counters, up/down) are in
//! [`crate::sim::metrics`]: the kernel fills them, so they live there.

pub mod little;
pub mod stats;
pub mod theory;
pub mod theory_service;
pub mod workload;

pub use little::TimeAverage;
pub use stats::{mean_ci, MeanCi, SweepCi};
