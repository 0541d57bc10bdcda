//! [`FaultPlan`]: a list of [`Fault`]s, the builders that add them, and
//! what the engine does with a plan: expand it into timed actions, check it
//! against a cluster before the run, shade its windows on charts.

use super::{Fault, FaultAction};
use crate::error::{check_probability, Error, Result};
use crate::sim::clock::Clock;
use crate::sim::net::{check_partition_room, NodeId};
use crate::sim::time::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};

/// A list of faults; see the module docs (`src/sim/fault/plan.rs`).
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
    /// Node `node`'s local clock reads `clock` from `from` until `to`, then
    /// goes back to the clock it was built with (see [`Fault::ClockSkew`]).
    pub fn clock_skew(
        self,
        from: SimDuration,
        to: SimDuration,
        node: NodeId,
        clock: Clock,
    ) -> Self {
        self.with(Fault::ClockSkew {
            node,
            clock,
            from: SimTime::from_start(from),
            to: Some(SimTime::from_start(to)),
        })
    }
    /// Crash the node the run's target picks at `at` (e.g. whoever leads
    /// then; see [`crate::sim::Sim::set_target`]); restart it
    /// `restart_after` later (or never).
    pub fn crash_target(self, at: SimDuration, restart_after: Option<SimDuration>) -> Self {
        self.with(Fault::CrashTarget {
            at: SimTime::from_start(at),
            restart_after,
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
    /// The first crash point of the plan, if it has one.
    pub fn crash_point(&self) -> Option<(u64, Option<SimDuration>)> {
        self.crash_points().into_iter().min_by_key(|p| p.0)
    }
    /// Every crash point of the plan, `(point, restart_after)`, in the
    /// order added: a crash during the recovery from an earlier crash is a
    /// later point.
    pub fn crash_points(&self) -> Vec<(u64, Option<SimDuration>)> {
        self.faults
            .iter()
            .filter_map(|f| match f {
                Fault::CrashAtPoint {
                    point,
                    restart_after,
                } => Some((*point, *restart_after)),
                _ => None,
            })
            .collect()
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
                Fault::ClockSkew {
                    node,
                    clock,
                    from,
                    to,
                } => {
                    v.push((*from, FaultAction::SetClock(*node, *clock)));
                    if let Some(to) = to {
                        v.push((*to, FaultAction::ResetClock(*node)));
                    }
                }
                Fault::CrashTarget { at, restart_after } => {
                    v.push((*at, FaultAction::CrashTarget(*restart_after)))
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
                Fault::ClockSkew { node, from, to, .. } => out.push((
                    *from,
                    to.unwrap_or(horizon),
                    format!("node {node} clock skewed"),
                )),
                _ => {}
            }
        }
        out.sort_by_key(|w| (w.0, w.1));
        out
    }

    /// Checks every fault against a cluster of `n` nodes: node ids exist,
    /// no node is in two groups of one partition, probabilities are in
    /// [0, 1], clocks are valid, every end is after its start, each crash point
    /// at most once, and the partitions in force at one time fit the
    /// network's limits. A plan that passes applies without error in the
    /// run.
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
        let mut points = std::collections::BTreeSet::new();
        for f in &self.faults {
            match f {
                Fault::Crash { node, .. } => check("crash node", *node)?,
                Fault::Recover { node, .. } => check("recover node", *node)?,
                Fault::Outage { node, from, to } => {
                    check("outage node", *node)?;
                    ordered(from, to)?;
                }
                Fault::Partition { groups, from, to } => {
                    let mut seen = std::collections::BTreeSet::new();
                    for x in groups.iter().flatten() {
                        check("partition member", *x)?;
                        if !seen.insert(*x) {
                            return Err(Error::invalid(
                                "partition member",
                                x,
                                &format!(
                                    "each node in at most one group of a partition (node {x} \
                                     appears twice in {})",
                                    crate::error::short_value(&format!("{groups:?}"))
                                ),
                            ));
                        }
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
                Fault::HealAll { .. } | Fault::CrashTarget { .. } => {}
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
                Fault::ClockSkew {
                    node,
                    clock,
                    from,
                    to,
                } => {
                    check("clock skew node", *node)?;
                    clock.validate()?;
                    if let Some(to) = to {
                        ordered(from, to)?;
                    }
                }
                Fault::CrashAtPoint { point, .. } => {
                    if !points.insert(*point) {
                        return Err(Error::invalid(
                            "crash point",
                            point,
                            "each crash point at most once in a plan (one node reaches it)",
                        ));
                    }
                }
            }
        }
        self.check_partitions_at_once(n)
    }

    /// Errs if the partitions this plan keeps in force at one time would
    /// pass the network's limits ([`crate::sim::net::MAX_PARTITIONS`],
    /// [`crate::sim::net::MAX_PARTITION_BYTES`]): the plan is refused
    /// before the run, not in its middle.
    fn check_partitions_at_once(&self, n: usize) -> Result<()> {
        let mut active = std::collections::BTreeMap::new();
        let mut bytes = 0usize;
        for (_, action) in self.actions() {
            match action {
                FaultAction::Partition { fault, .. } | FaultAction::OneWay { fault, .. } => {
                    let b = if matches!(action, FaultAction::Partition { .. }) {
                        4 * n
                    } else {
                        n
                    };
                    bytes += b;
                    active.insert(fault, b);
                    check_partition_room(active.len(), bytes, n)?;
                }
                FaultAction::Heal { fault } => {
                    bytes -= active.remove(&fault).unwrap_or(0);
                }
                FaultAction::HealAll => {
                    active.clear();
                    bytes = 0;
                }
                _ => {}
            }
        }
        Ok(())
    }
}
