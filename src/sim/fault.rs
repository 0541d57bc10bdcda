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

use super::net::{LinkConfig, NodeId};
use super::time::{SimDuration, SimTime};
use crate::error::{check_probability, Error, Result};
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
            | Fault::SetDefaultLink { at, .. } => *at,
            Fault::Outage { from, .. }
            | Fault::Partition { from, .. }
            | Fault::OneWay { from, .. }
            | Fault::Lossy { from, .. }
            | Fault::Hold { from, .. } => *from,
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
}

/// A list of faults; see the [module docs](self).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultPlan {
    faults: Vec<Fault>,
}

impl FaultPlan {
    /// An empty plan.
    pub fn new() -> Self {
        Self::default()
    }
    /// A plan of these faults.
    pub fn from_faults(faults: Vec<Fault>) -> Self {
        FaultPlan { faults }
    }
    /// Adds a fault.
    pub fn with(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }
    /// Crash `node` at `at` (from the start of the run).
    pub fn crash(self, at: SimDuration, node: NodeId) -> Self {
        self.with(Fault::Crash {
            node,
            at: SimTime::from_start(at),
        })
    }
    /// Recover `node` at `at`.
    pub fn recover(self, at: SimDuration, node: NodeId) -> Self {
        self.with(Fault::Recover {
            node,
            at: SimTime::from_start(at),
        })
    }
    /// Crash `node` at `from`, recover it at `to`.
    pub fn outage(self, from: SimDuration, to: SimDuration, node: NodeId) -> Self {
        self.with(Fault::Outage {
            node,
            from: SimTime::from_start(from),
            to: SimTime::from_start(to),
        })
    }
    /// Partition into `groups` from `from` until `to` (then this partition
    /// heals; others stay).
    pub fn partition(self, from: SimDuration, to: SimDuration, groups: Vec<Vec<NodeId>>) -> Self {
        self.with(Fault::Partition {
            groups,
            from: SimTime::from_start(from),
            to: Some(SimTime::from_start(to)),
        })
    }
    /// One-way partition `src → dst` from `from` until `to`.
    pub fn partition_oneway(
        self,
        from: SimDuration,
        to: SimDuration,
        src: Vec<NodeId>,
        dst: Vec<NodeId>,
    ) -> Self {
        self.with(Fault::OneWay {
            src,
            dst,
            from: SimTime::from_start(from),
            to: Some(SimTime::from_start(to)),
        })
    }
    /// Every link loses each message with extra probability `p` from `from`
    /// until `to`.
    pub fn lossy(self, from: SimDuration, to: SimDuration, p: f64) -> Self {
        self.with(Fault::Lossy {
            p,
            from: SimTime::from_start(from),
            to: SimTime::from_start(to),
        })
    }
    /// Hold the messages of link `src → dst` from `from`, release them at `to`.
    pub fn hold(self, from: SimDuration, to: SimDuration, src: NodeId, dst: NodeId) -> Self {
        self.with(Fault::Hold {
            src,
            dst,
            from: SimTime::from_start(from),
            to: SimTime::from_start(to),
        })
    }
    /// Crash whichever node reaches crash point `point` there; restart it
    /// `restart_after` later (or never).
    pub fn crash_at_point(self, point: u64, restart_after: Option<SimDuration>) -> Self {
        self.with(Fault::CrashAtPoint {
            point,
            restart_after,
        })
    }
    /// The faults, in the order added.
    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }
    /// Number of faults.
    pub fn len(&self) -> usize {
        self.faults.len()
    }
    /// True if the plan has no fault.
    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }
    /// The same plan without fault `i` (for shrinking a counterexample).
    pub fn without(&self, i: usize) -> FaultPlan {
        let mut faults = self.faults.clone();
        if i < faults.len() {
            faults.remove(i);
        }
        FaultPlan { faults }
    }
    /// The same plan with fault `i` replaced.
    pub fn replaced(&self, i: usize, fault: Fault) -> FaultPlan {
        let mut faults = self.faults.clone();
        if let Some(f) = faults.get_mut(i) {
            *f = fault;
        }
        FaultPlan { faults }
    }
    /// The crash point of the plan, if it has one.
    pub fn crash_point(&self) -> Option<(u64, Option<SimDuration>)> {
        self.faults.iter().find_map(|f| match f {
            Fault::CrashAtPoint {
                point,
                restart_after,
            } => Some((*point, *restart_after)),
            _ => None,
        })
    }

    /// The timed actions the plan expands to, sorted by time (stable: ties
    /// keep the order of the faults, a fault's start before its end).
    pub fn actions(&self) -> Vec<(SimTime, FaultAction)> {
        let mut v = Vec::new();
        for (i, f) in self.faults.iter().enumerate() {
            match f {
                Fault::Crash { node, at } => v.push((*at, FaultAction::Crash(*node))),
                Fault::Recover { node, at } => v.push((*at, FaultAction::Recover(*node))),
                Fault::Outage { node, from, to } => {
                    v.push((*from, FaultAction::Crash(*node)));
                    v.push((*to, FaultAction::Recover(*node)));
                }
                Fault::Partition { groups, from, to } => {
                    v.push((
                        *from,
                        FaultAction::Partition {
                            fault: i,
                            groups: groups.clone(),
                        },
                    ));
                    if let Some(to) = to {
                        v.push((*to, FaultAction::Heal { fault: i }));
                    }
                }
                Fault::OneWay { src, dst, from, to } => {
                    v.push((
                        *from,
                        FaultAction::OneWay {
                            fault: i,
                            src: src.clone(),
                            dst: dst.clone(),
                        },
                    ));
                    if let Some(to) = to {
                        v.push((*to, FaultAction::Heal { fault: i }));
                    }
                }
                Fault::HealAll { at } => v.push((*at, FaultAction::HealAll)),
                Fault::Lossy { p, from, to } => {
                    v.push((*from, FaultAction::LossStart { fault: i, p: *p }));
                    v.push((*to, FaultAction::LossEnd { fault: i }));
                }
                Fault::Hold { src, dst, from, to } => {
                    v.push((*from, FaultAction::Hold(*src, *dst)));
                    v.push((*to, FaultAction::Release(*src, *dst)));
                }
                Fault::SetLink { src, dst, cfg, at } => {
                    v.push((*at, FaultAction::SetLink(*src, *dst, cfg.clone())))
                }
                Fault::SetDefaultLink { cfg, at } => {
                    v.push((*at, FaultAction::SetDefaultLink(cfg.clone())))
                }
                Fault::CrashAtPoint { .. } => {}
            }
        }
        v.sort_by_key(|(t, _)| *t);
        v
    }

    /// Windows `(start, end, label)` during which something was broken, for
    /// shading charts: one per outage, partition, lossy window and held
    /// link, each with its own end (`horizon` if it never ends). A crash
    /// without a planned recovery lasts until the node's next `Recover`.
    pub fn windows(&self, horizon: SimTime) -> Vec<(SimTime, SimTime, String)> {
        let mut out = Vec::new();
        let recover_after = |node: NodeId, t: SimTime| {
            self.faults
                .iter()
                .filter_map(|f| match f {
                    Fault::Recover { node: n, at } if *n == node && *at >= t => Some(*at),
                    _ => None,
                })
                .min()
        };
        let heal_all_after = |t: SimTime| {
            self.faults
                .iter()
                .filter_map(|f| match f {
                    Fault::HealAll { at } if *at >= t => Some(*at),
                    _ => None,
                })
                .min()
        };
        for f in &self.faults {
            match f {
                Fault::Crash { node, at } => {
                    let end = recover_after(*node, *at).unwrap_or(horizon);
                    out.push((*at, end, format!("node {node} down")));
                }
                Fault::Outage { node, from, to } => {
                    out.push((*from, *to, format!("node {node} down")))
                }
                Fault::Partition { groups, from, to } => {
                    let end = to.or_else(|| heal_all_after(*from)).unwrap_or(horizon);
                    out.push((*from, end, format!("partition {groups:?}")));
                }
                Fault::OneWay { src, dst, from, to } => {
                    let end = to.or_else(|| heal_all_after(*from)).unwrap_or(horizon);
                    out.push((*from, end, format!("partition {src:?}→{dst:?}")));
                }
                Fault::Lossy { p, from, to } => {
                    out.push((*from, *to, format!("{:.0} % loss", p * 100.0)))
                }
                Fault::Hold { src, dst, from, to } => {
                    out.push((*from, *to, format!("link {src}→{dst} held")))
                }
                _ => {}
            }
        }
        out.sort_by_key(|w| (w.0, w.1));
        out
    }

    /// Checks every fault against a cluster of `n` nodes: node ids exist,
    /// probabilities are in [0, 1], every end is after its start, at most
    /// one crash point.
    pub fn validate(&self, n: usize) -> Result<()> {
        let check = |what: &str, id: NodeId| crate::error::check_node(what, id, n);
        let ordered = |from: &SimTime, to: &SimTime| {
            if to < from {
                Err(Error::invalid(
                    "fault end",
                    to,
                    &format!("a time at or after its start ({from})"),
                ))
            } else {
                Ok(())
            }
        };
        if self.faults.len() > crate::error::limits::FAULTS {
            return Err(Error::too_big(
                "faults",
                self.faults.len(),
                "faults in one plan",
                crate::error::limits::FAULTS,
            ));
        }
        let mut points = 0;
        for f in &self.faults {
            match f {
                Fault::Crash { node, .. } => check("crash node", *node)?,
                Fault::Recover { node, .. } => check("recover node", *node)?,
                Fault::Outage { node, from, to } => {
                    check("outage node", *node)?;
                    ordered(from, to)?;
                }
                Fault::Partition { groups, from, to } => {
                    for x in groups.iter().flatten() {
                        check("partition member", *x)?
                    }
                    if let Some(to) = to {
                        ordered(from, to)?;
                    }
                }
                Fault::OneWay { src, dst, from, to } => {
                    for x in src.iter().chain(dst) {
                        check("one-way partition member", *x)?
                    }
                    if let Some(to) = to {
                        ordered(from, to)?;
                    }
                }
                Fault::HealAll { .. } => {}
                Fault::Lossy { p, from, to } => {
                    check_probability("lossy window p", *p)?;
                    ordered(from, to)?;
                }
                Fault::Hold { src, dst, from, to } => {
                    check("held link from", *src)?;
                    check("held link to", *dst)?;
                    ordered(from, to)?;
                }
                Fault::SetLink { src, dst, cfg, .. } => {
                    check("link from", *src)?;
                    check("link to", *dst)?;
                    cfg.validate()?
                }
                Fault::SetDefaultLink { cfg, .. } => cfg.validate()?,
                Fault::CrashAtPoint { .. } => points += 1,
            }
        }
        if points > 1 {
            return Err(Error::invalid(
                "crash points in one plan",
                points,
                "at most one crash_at_point per plan (explore points one run each)",
            ));
        }
        Ok(())
    }
}
