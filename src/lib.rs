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
//! #[derive(Clone, Default)]
//! struct Echo { answered: u64 }
//!
//! impl Node for Echo {
//!     type Msg = u64;
//!     type Timer = ();
//!     type Disk = ();
//!     fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, n: u64) {
//!         self.answered += 1;
//!         if from != EXTERNAL { ctx.send(from, n + 1); }
//!     }
//! }
//!
//! let link = LinkConfig::new(Latency::exponential(ms(5))?).loss(0.1);
//! let faults = FaultPlan::new().outage(ms(100), ms(200), 1);
//! let mut sim = Sim::builder().seed(42).link(link).faults(faults).build(vec![Echo::default(), Echo::default()])?;
//! sim.with_node(0, |_, ctx| ctx.send(1, 0))?;  // node 0 starts a ping-pong
//! sim.run_for(secs(1))?;
//! assert!(sim.stats().sent >= 1);
//! let diagram = SequenceDiagram::from_trace(sim.trace(), &["a".into(), "b".into()], SimTime::from_start(ms(50)));
//! let fig = sequence_diagram(&diagram, Opts::new("ping-pong").y_label("time (ms)"))?;
//! assert!(fig.to_svg()?.contains("ping-pong"));
//! # Ok::<(), thinkdist::Error>(())
//! ```
//!
//! ## Layout: dependencies run one way
//! `chapters → mechanisms → check, measure → sim`; `plot` draws what any of
//! them produce and is used only by the chapters; `sim`, the kernel, imports
//! none of the others.
//!
//! | layer | module | what |
//! |---|---|---|
//! | kernel | [`sim`] | time, seeds, queue, nodes with typed timers and disks, network, faults and crash points, clients and histories, properties, sweeps |
//! | checkers | [`check`] | safety and liveness properties, exploration of fault schedules with shrinking, every crash point, isolation anomalies |
//! | measurements | [`measure`] | confidence intervals, closed forms (queueing, availability), workloads |
//! | charts | [`plot`] | figures (PNG inline, SVG/PNG export), message and history diagrams, tables |
//! | mechanisms | [`failure`] | failure models: omission, slow node, gray failure |
//! | | [`detect`] | failure detectors: heartbeat timeout, phi accrual |
//! | | [`retry`] | retries, backoff, jitter, hedged requests |
//! | | [`delivery`] | at-most-once, at-least-once, exactly-once processing |
//! | | [`txn`] | transactions: undo and redo logging, isolation levels, two-phase commit, sagas |
//! | | [`partition`] | partitioning: modulo, consistent, rendezvous and jump hashing, ranges with splits |
//! | | [`replication`] | replication: leader–follower, leaderless quorums, versions, read repair, hinted handoff |
//! | | [`service`] | servers with queues, load balancing, client-side protection (retry budgets, throttling, circuit breakers), a cluster with incidents |
//! | | [`durable`] | durable executions: journaled workflow steps, replay, durable timers, idempotency keys |
//! | processes | [`process`] | a node's behaviour as async Rust in virtual time: request/reply with timeouts, race, quorum, sub-tasks |
//! | chapters | [`ch01`] … [`ch09`], [`ch11`], [`ch12`] | each notebook's experiments, named like it |
//!
//! Notebooks import everything with `use thinkdist::prelude::*;` and reach
//! their chapter as `ch05::…`. The reasons behind the design are in
//! `DESIGN.md` at the repository root.
#![deny(missing_docs)]

pub mod chapters;
pub mod check;
pub mod error;
pub mod measure;
pub mod mechanisms;
pub mod plot;
pub mod prelude;
pub mod sim;

pub use mechanisms::{
    consensus, delivery, detect, durable, failure, partition, raft, replication, retry, service,
    txn,
};
pub use sim::process;

pub use chapters::{ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09, ch10, ch11, ch12};
pub use error::{Error, ErrorKind, Result};
