//! # thinkdist
//!
//! Deterministic simulation primitives and charts for runnable, chapter-by-chapter
//! notebooks of *Think Distributed Systems* (Dominik Tornow, Manning 2025).
//!
//! A run is a pure function of its seed and parameters: virtual time in integer
//! nanoseconds, one event queue with a total order, and random streams derived
//! from one seed per node and link. Rerun a cell, get the same chart.
//!
//! ## A worked example
//! A node that answers pings, a lossy network, a crash on a schedule:
//!
//! ```
//! use thinkdist::prelude::*;
//!
//! #[derive(Default)]
//! struct Echo { answered: u64 }
//!
//! impl Node for Echo {
//!     type Msg = u64;
//!     fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, n: u64) {
//!         self.answered += 1;
//!         if from != EXTERNAL { ctx.send(from, n + 1); }
//!     }
//!     fn on_crash(&mut self) {} // nothing volatile to lose
//! }
//!
//! let link = LinkConfig::new(Latency::exponential(ms(5))?).loss(0.1);
//! let faults = FaultPlan::new().outage(ms(100), ms(200), 1);
//! let mut sim = Sim::builder().seed(42).link(link).faults(faults).build(vec![Echo::default(), Echo::default()])?;
//! sim.with_node(0, |_, ctx| ctx.send(1, 0))?;  // node 0 starts a ping-pong
//! sim.run_for(secs(1))?;
//! assert!(sim.stats().sent >= 1);
//! let diagram = sim.trace().sequence_diagram(&["a".into(), "b".into()], SimTime::from_start(ms(50)));
//! let fig = sequence_diagram(&diagram, Opts::new("ping-pong").y_label("time (ms)"))?;
//! assert!(fig.to_svg()?.contains("ping-pong"));
//! # Ok::<(), thinkdist::Error>(())
//! ```
//!
//! ## Map: the book's concepts and where they live
//! | concept | module |
//! |---|---|
//! | virtual time, event queue, seeds, runs | [`engine`] ([`engine::time`], [`engine::queue`], [`engine::rng`]) |
//! | nodes as state machines, durable vs volatile state | [`node`] |
//! | network: latency, loss, duplication, reordering, partitions | [`net`] |
//! | crashes, recoveries, partitions on a schedule | [`fault`] |
//! | failure models: omission, slow node, gray failure | [`failure`] |
//! | failure detectors: heartbeat timeout, phi accrual | [`detector`] |
//! | retries, backoff, jitter, hedged requests | [`retry`] |
//! | at-most-once, at-least-once, exactly-once processing | [`delivery`] |
//! | open- and closed-loop workloads, key skew | [`workload`] |
//! | latency percentiles, availability, counters, Little's law | [`metrics`] |
//! | message traces, global and local views | [`trace`] |
//! | safety and liveness checks | [`check`] |
//! | closed forms: M/M/1, M/M/c, k-of-n availability, nines | [`theory`] |
//! | confidence intervals over seeds | [`stats`] |
//! | charts and tables | [`plot`] |
//! | the chapters' experiments | [`models`] |
//!
//! Notebooks import everything with `use thinkdist::prelude::*;`.
//! The reasons behind the design are in `DESIGN.md` at the repository root.
#![deny(missing_docs)]

pub mod check;
pub mod delivery;
pub mod detector;
pub mod engine;
pub mod error;
pub mod failure;
pub mod fault;
pub mod metrics;
pub mod models;
pub mod net;
pub mod node;
pub mod plot;
pub mod prelude;
pub mod retry;
pub mod stats;
pub mod theory;
pub mod trace;
pub mod workload;

pub use error::{Error, ErrorKind, Result};
