//! The kernel: virtual time, seeded randomness, the event queue, nodes as
//! state machines with durable disks, the network, faults and crash points,
//! clients and their history, and the properties checked as a run goes.
//!
//! Nothing here knows about the book's mechanisms, checkers or charts: they
//! are built on top of it (`check`, `measure`, `plot`, the mechanism
//! modules, the chapters), and the kernel imports none of them.
//!
//! | file | what |
//! |---|---|
//! | [`time`] | `SimTime`, `SimDuration`: integer nanoseconds |
//! | [`rng`] | named, portable random streams from one seed |
//! | [`queue`] | the event queue (a radix heap ordered by time, then push order) |
//! | [`node`] | the `Node` trait: messages, typed timers, a disk |
//! | [`ctx`] | `Ctx`: what a handler may do |
//! | [`clock`] | per-node clocks: offset and drift, read with `Ctx::local_now` |
//! | [`erased`] | `DynSim`: a node the crate does not know (a notebook cell's) on the engine compiled in the crate |
//! | [`disk`] | durable state: working copy and synced copy; `DiskLog`, `DiskMap` that sync in time proportional to the change |
//! | [`client`] | clients, requests, replies, the history |
//! | [`net`], [`latency`] | links: latency, loss, duplication, order, partitions, holds |
//! | [`fault`], [`points`] | fault plans and crash points |
//! | [`monitor`] | typed events and the `Property` trait |
//! | [`trace`] | the labelled trace behind message diagrams |
//! | [`metrics`] | what a run records: latencies, counters, up/down |
//! | [`sweep`] | runs over points × seeds on all cores, thread-count independent |
//! | `world` | `Builder` and `Sim`: the engine (one file per job: building, the event loop, clients, faults, properties); `Controlled`: a run whose schedule a `Scheduler` picks |
//! | [`process`] | async processes: a node's behaviour as async Rust in virtual time |

pub mod client;
pub mod clock;
pub mod ctx;
pub mod disk;
pub mod erased;
pub mod fault;
pub mod latency;
pub mod metrics;
pub mod monitor;
pub mod net;
pub mod node;
pub mod points;
pub mod process;
pub mod queue;
pub mod rng;
pub mod special;
pub mod sweep;
pub mod time;
mod timers;
pub mod trace;
mod world;

pub use client::{ClientId, History, Invoke, Op, OpId, OpStatus, Request, Workload};
pub use clock::Clock;
pub use ctx::Ctx;
pub use disk::{Disk, DiskLog, DiskMap};
pub use erased::{AnyValue, DynSim};
pub use fault::{Fault, FaultAction, FaultPlan};
pub use latency::Latency;
pub use monitor::{Property, PropertyKind, SimEvent, Violation, World};
pub use net::{DropReason, LinkConfig, Network, NodeId, PartitionId, EXTERNAL};
pub use node::{Node, TimerId};
pub use points::{CrashPoint, CrashPoints, PointKind};
pub use time::{hours, minutes, ms, ns, secs, us, SimDuration, SimTime};
pub use world::{Builder, Sim, Stats};
pub use world::{ByTime, Controlled, Event, Pending, RandomOrder, Scheduler, TimeRule};
