//! Fault plans: crashes, recoveries and partitions on a schedule.
//!
//! A [`FaultPlan`] is plain data (print it, serialize it, edit it in a
//! parameter cell). It is checked against the cluster size when attached to a
//! simulation, so a fault on a node that does not exist is an error before
//! the run starts, not a surprise in the middle of it.
//!
//! ```
//! use thinkdist::prelude::*;
//! let plan = FaultPlan::new()
//!     .crash(secs(5), 2)
//!     .recover(secs(9), 2)
//!     .partition(secs(12), secs(20), vec![vec![0, 1], vec![2, 3, 4]]);
//! assert_eq!(plan.actions().len(), 4);
//! assert!(plan.validate(5).is_ok());
//! assert!(plan.validate(2).is_err()); // node 2 does not exist in a 2-node cluster
//! ```

use crate::engine::time::{SimDuration, SimTime};
use crate::error::Result;
use crate::net::{LinkConfig, NodeId};
use serde::{Deserialize, Serialize};

/// One scheduled change to the world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FaultAction {
    /// The node stops; its volatile state is lost.
    Crash(NodeId),
    /// The node restarts from its durable state.
    Recover(NodeId),
    /// Split into groups (symmetric).
    Partition(Vec<Vec<NodeId>>),
    /// Block messages from the first set to the second only.
    PartitionOneWay(Vec<NodeId>, Vec<NodeId>),
    /// Remove all partitions.
    Heal,
    /// Change one directed link.
    SetLink(NodeId, NodeId, LinkConfig),
    /// Change the default link (every link without its own configuration).
    SetDefaultLink(LinkConfig),
}

/// A list of `(time, action)` pairs, applied in time order (ties in the
/// order they were added).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultPlan {
    actions: Vec<(SimTime, FaultAction)>,
}

impl FaultPlan {
    /// An empty plan.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds an action at time `at` (a duration from the start of the run).
    pub fn at(mut self, at: SimDuration, action: FaultAction) -> Self {
        self.actions.push((SimTime::from_start(at), action));
        self
    }
    /// Crash `node` at `at`.
    pub fn crash(self, at: SimDuration, node: NodeId) -> Self {
        self.at(at, FaultAction::Crash(node))
    }
    /// Recover `node` at `at`.
    pub fn recover(self, at: SimDuration, node: NodeId) -> Self {
        self.at(at, FaultAction::Recover(node))
    }
    /// Crash `node` at `from`, recover it at `to`.
    pub fn outage(self, from: SimDuration, to: SimDuration, node: NodeId) -> Self {
        self.crash(from, node).recover(to, node)
    }
    /// Partition into `groups` from `from` until `to` (then heal).
    pub fn partition(self, from: SimDuration, to: SimDuration, groups: Vec<Vec<NodeId>>) -> Self {
        self.at(from, FaultAction::Partition(groups))
            .at(to, FaultAction::Heal)
    }
    /// One-way partition `src → dst` from `from` until `to`.
    pub fn partition_oneway(
        self,
        from: SimDuration,
        to: SimDuration,
        src: Vec<NodeId>,
        dst: Vec<NodeId>,
    ) -> Self {
        self.at(from, FaultAction::PartitionOneWay(src, dst))
            .at(to, FaultAction::Heal)
    }
    /// The actions, in the order added.
    pub fn actions(&self) -> &[(SimTime, FaultAction)] {
        &self.actions
    }
    /// The actions sorted by time (stable: ties keep the order added).
    pub fn sorted(&self) -> Vec<(SimTime, FaultAction)> {
        let mut v = self.actions.clone();
        v.sort_by_key(|(t, _)| *t);
        v
    }
    /// Windows `(start, end, label)` during which something was broken, for
    /// shading charts: node outages and partitions. `end` of a window never
    /// closed is `horizon`.
    pub fn windows(&self, horizon: SimTime) -> Vec<(SimTime, SimTime, String)> {
        let mut out = Vec::new();
        let mut open_crash: std::collections::BTreeMap<NodeId, SimTime> = Default::default();
        let mut open_part: Option<(SimTime, String)> = None;
        for (t, a) in self.sorted() {
            match a {
                FaultAction::Crash(n) => {
                    open_crash.entry(n).or_insert(t);
                }
                FaultAction::Recover(n) => {
                    if let Some(s) = open_crash.remove(&n) {
                        out.push((s, t, format!("node {n} down")));
                    }
                }
                FaultAction::Partition(g) => {
                    open_part.get_or_insert((t, format!("partition {g:?}")));
                }
                FaultAction::PartitionOneWay(a, b) => {
                    open_part.get_or_insert((t, format!("partition {a:?}→{b:?}")));
                }
                FaultAction::Heal => {
                    if let Some((s, l)) = open_part.take() {
                        out.push((s, t, l));
                    }
                }
                _ => {}
            }
        }
        for (n, s) in open_crash {
            out.push((s, horizon, format!("node {n} down")));
        }
        if let Some((s, l)) = open_part {
            out.push((s, horizon, l));
        }
        out.sort_by_key(|w| (w.0, w.1));
        out
    }
    /// Checks every action against a cluster of `n` nodes.
    pub fn validate(&self, n: usize) -> Result<()> {
        let check = |what: &str, id: NodeId| crate::error::check_node(what, id, n);
        for (_, a) in &self.actions {
            match a {
                FaultAction::Crash(x) => check("crash node", *x)?,
                FaultAction::Recover(x) => check("recover node", *x)?,
                FaultAction::Partition(g) => {
                    for x in g.iter().flatten() {
                        check("partition member", *x)?
                    }
                }
                FaultAction::PartitionOneWay(a, b) => {
                    for x in a.iter().chain(b) {
                        check("one-way partition member", *x)?
                    }
                }
                FaultAction::Heal => {}
                FaultAction::SetLink(a, b, c) => {
                    check("link from", *a)?;
                    check("link to", *b)?;
                    c.validate()?
                }
                FaultAction::SetDefaultLink(c) => c.validate()?,
            }
        }
        Ok(())
    }
}
