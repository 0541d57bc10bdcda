//! Fault plans: crashes, recoveries, partitions, lossy windows, held links
//! and crashes at numbered crash points, on a schedule.
//!
//! A [`FaultPlan`] is plain data (print it, serialize it, edit it in a
//! parameter cell): a list of [`Fault`]s, each one thing that goes wrong and,
//! where it has one, its end. Keeping each fault whole (an outage is one
//! fault, not a crash and a separate recovery) is what lets a checker remove
//! faults one by one to find the smallest plan that still breaks a protocol,
//! and what lets a chart shade each fault's own window: two partitions that
//! overlap heal independently.
//!
//! The plan is checked against the cluster size when attached to a
//! simulation, so a fault on a node that does not exist is an error before
//! the run starts, not a surprise in the middle of it.
//!
//! ## Crash points
//! Every [`crate::sim::Ctx::sync`] is a numbered *crash point* (and every
//! send too, with [`crate::sim::Builder::crash_points`]), counted across all
//! nodes in the order the run reaches them, starting at 0.
//! [`FaultPlan::crash_at_point`] crashes the node that reaches point `k`
//! exactly there: the sync (or send) and everything its handler would have
//! done after it never happen, and writes not yet synced are lost. The same
//! seed reaches the same points in the same order, so a helper can count a
//! scenario's points once and then crash it at each one
//! (`check::crash_points`).
//!
//! ```
//! use thinkdist::prelude::*;
//! let plan = FaultPlan::new()
//!     .crash(secs(5), 2)
//!     .recover(secs(9), 2)
//!     .partition(secs(12), secs(20), vec![vec![0, 1], vec![2, 3, 4]])
//!     .partition(secs(15), secs(30), vec![vec![4], vec![0, 1, 2, 3]]);
//! assert_eq!(plan.faults().len(), 4);
//! assert!(plan.validate(5).is_ok());
//! assert!(plan.validate(2).is_err()); // node 2 does not exist in a 2-node cluster
//! // Each partition keeps its own window, overlapping or not.
//! let w = plan.windows(SimTime::from_start(secs(60)));
//! assert_eq!(w.len(), 3);
//! ```

use super::clock::Clock;
use super::net::{LinkConfig, NodeId};
use super::time::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};

/// One thing that goes wrong, with its start and (where it has one) its end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Fault {
    /// The node stops at `at`: its memory and unsynced writes are lost.
    Crash {
        /// The node.
        node: NodeId,
        /// When.
        at: SimTime,
    },
    /// The node restarts at `at` (nothing if it is up).
    Recover {
        /// The node.
        node: NodeId,
        /// When.
        at: SimTime,
    },
    /// The node is down from `from` until `to`.
    Outage {
        /// The node.
        node: NodeId,
        /// Crash time.
        from: SimTime,
        /// Restart time.
        to: SimTime,
    },
    /// Messages between different groups are dropped, both ways, from
    /// `from` until `to` (forever if `None`). Nodes in no group form one
    /// more group.
    Partition {
        /// The groups.
        groups: Vec<Vec<NodeId>>,
        /// Start.
        from: SimTime,
        /// End (heals this partition only).
        to: Option<SimTime>,
    },
    /// Messages from any node of `src` to any node of `dst` are dropped (not
    /// the other way) from `from` until `to`.
    OneWay {
        /// Senders cut off.
        src: Vec<NodeId>,
        /// Receivers cut off.
        dst: Vec<NodeId>,
        /// Start.
        from: SimTime,
        /// End (forever if `None`).
        to: Option<SimTime>,
    },
    /// Every partition ends at `at`.
    HealAll {
        /// When.
        at: SimTime,
    },
    /// Every link between nodes also loses each message with probability
    /// `p` from `from` until `to` (on top of its own loss).
    Lossy {
        /// Extra loss probability.
        p: f64,
        /// Start.
        from: SimTime,
        /// End.
        to: SimTime,
    },
    /// Messages arriving on the link `src → dst` are held from `from` and
    /// delivered, in arrival order, at `to`.
    Hold {
        /// Sender.
        src: NodeId,
        /// Receiver.
        dst: NodeId,
        /// Start holding.
        from: SimTime,
        /// Release.
        to: SimTime,
    },
    /// The link `src → dst` gets its own configuration from `at` on.
    SetLink {
        /// Sender.
        src: NodeId,
        /// Receiver.
        dst: NodeId,
        /// The configuration.
        cfg: LinkConfig,
        /// When.
        at: SimTime,
    },
    /// Every link without its own configuration changes at `at`.
    SetDefaultLink {
        /// The configuration.
        cfg: LinkConfig,
        /// When.
        at: SimTime,
    },
    /// The node's local clock reads `clock` (an offset, a drift) from
    /// `from` until `to`, then goes back to the clock the node was built
    /// with (forever if `None`): Jepsen's clock nemesis. Setting a clock
    /// behind the one before steps the node's local time back (see
    /// [`crate::sim::clock`]); the engine's true time, which orders events,
    /// is untouched.
    ClockSkew {
        /// The node.
        node: NodeId,
        /// Its clock during the fault.
        clock: Clock,
        /// Start.
        from: SimTime,
        /// End (forever if `None`).
        to: Option<SimTime>,
    },
    /// At `at`, crash the node the run's target picks (see
    /// [`crate::sim::Sim::set_target`]: e.g. whoever is leader then), and
    /// restart it `restart_after` later if given. Chosen at run time from
    /// the nodes' states, so a plan can say "crash the leader" before
    /// anyone knows who that will be.
    CrashTarget {
        /// When.
        at: SimTime,
        /// Time until the node restarts (`None`: it stays down).
        restart_after: Option<SimDuration>,
    },
    /// The node that reaches crash point `point` crashes there (see the
    /// [module docs](self)), and restarts `restart_after` later if given.
    CrashAtPoint {
        /// The crash point's number (0 is the first of the run).
        point: u64,
        /// Time until the node restarts (`None`: it stays down).
        restart_after: Option<SimDuration>,
    },
}

impl Fault {
    /// When the fault starts (`None` for a crash point: its time is not
    /// known until the run reaches it).
    pub fn start(&self) -> Option<SimTime> {
        Some(match self {
            Fault::Crash { at, .. }
            | Fault::Recover { at, .. }
            | Fault::HealAll { at }
            | Fault::SetLink { at, .. }
            | Fault::SetDefaultLink { at, .. }
            | Fault::CrashTarget { at, .. } => *at,
            Fault::Outage { from, .. }
            | Fault::Partition { from, .. }
            | Fault::OneWay { from, .. }
            | Fault::Lossy { from, .. }
            | Fault::Hold { from, .. }
            | Fault::ClockSkew { from, .. } => *from,
            Fault::CrashAtPoint { .. } => return None,
        })
    }

    /// A short description for tables and legends.
    pub fn describe(&self) -> String {
        let ms = |t: &SimTime| format!("{:.0} ms", t.as_ms());
        let until = |t: &Option<SimTime>| t.as_ref().map_or("forever".into(), ms);
        match self {
            Fault::Crash { node, at } => format!("crash node {node} at {}", ms(at)),
            Fault::Recover { node, at } => format!("recover node {node} at {}", ms(at)),
            Fault::Outage { node, from, to } => {
                format!("node {node} down {}–{}", ms(from), ms(to))
            }
            Fault::Partition { groups, from, to } => {
                format!("partition {groups:?} {}–{}", ms(from), until(to))
            }
            Fault::OneWay { src, dst, from, to } => {
                format!("cut {src:?}→{dst:?} {}–{}", ms(from), until(to))
            }
            Fault::HealAll { at } => format!("heal all at {}", ms(at)),
            Fault::Lossy { p, from, to } => {
                format!("{:.0} % loss {}–{}", p * 100.0, ms(from), ms(to))
            }
            Fault::Hold { src, dst, from, to } => {
                format!("hold {src}→{dst} {}–{}", ms(from), ms(to))
            }
            Fault::SetLink { src, dst, at, .. } => format!("link {src}→{dst} set at {}", ms(at)),
            Fault::SetDefaultLink { at, .. } => format!("default link set at {}", ms(at)),
            Fault::ClockSkew {
                node,
                clock,
                from,
                to,
            } => format!("node {node} clock {clock} {}–{}", ms(from), until(to)),
            Fault::CrashTarget { at, restart_after } => match restart_after {
                Some(d) => format!("crash the target at {}, restart after {d}", ms(at)),
                None => format!("crash the target at {}", ms(at)),
            },
            Fault::CrashAtPoint {
                point,
                restart_after,
            } => match restart_after {
                Some(d) => format!("crash at point {point}, restart after {d}"),
                None => format!("crash at point {point}"),
            },
        }
    }
}

/// One change the engine applies at a scheduled time: what a [`Fault`]
/// expands to. `fault` is the index of the fault in its plan, which is how
/// the end of a partition finds its start.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum FaultAction {
    /// Crash a node.
    Crash(NodeId),
    /// Crash the node the run's target picks now; restart it after the
    /// given time.
    CrashTarget(Option<SimDuration>),
    /// Restart a node.
    Recover(NodeId),
    /// Start partition `fault` with these groups.
    Partition {
        /// Index of the fault.
        fault: usize,
        /// Groups.
        groups: Vec<Vec<NodeId>>,
    },
    /// Start one-way partition `fault`.
    OneWay {
        /// Index of the fault.
        fault: usize,
        /// Senders.
        src: Vec<NodeId>,
        /// Receivers.
        dst: Vec<NodeId>,
    },
    /// End partition `fault` (only that one).
    Heal {
        /// Index of the fault.
        fault: usize,
    },
    /// End every partition.
    HealAll,
    /// Start extra loss `fault`.
    LossStart {
        /// Index of the fault.
        fault: usize,
        /// Probability.
        p: f64,
    },
    /// End extra loss `fault`.
    LossEnd {
        /// Index of the fault.
        fault: usize,
    },
    /// Hold a link.
    Hold(NodeId, NodeId),
    /// Release a held link.
    Release(NodeId, NodeId),
    /// Configure one link.
    SetLink(NodeId, NodeId, LinkConfig),
    /// Configure the default link.
    SetDefaultLink(LinkConfig),
    /// Set a node's local clock.
    SetClock(NodeId, Clock),
    /// Give a node back the clock it was built with.
    ResetClock(NodeId),
}

mod plan;
pub use plan::FaultPlan;
