//! Leaderless replication with quorums (Dynamo: DeCandia et al., SOSP
//! 2007; the register of Attiya, Bar-Noy and Dolev, JACM 1995).
//!
//! Every node stores keys and any node **coordinates** a client's request:
//! the key's N replicas are the nodes `key, key + 1, …, key + N − 1` (mod the
//! cluster size: a ring with one token per node). A write is sent to all N
//! and acknowledged to the client after W replicas acknowledged it; a read
//! asks all N and answers from the first R replies, with the newest version
//! among them. With `R + W > N` every read quorum overlaps every write
//! quorum; with `R + W ≤ N` a read can miss the latest write (see
//! [`crate::measure::theory::pbs_miss`]).
//!
//! | knob | what it changes |
//! |---|---|
//! | [`Versioning::Lww`] | the coordinator stamps a write with its clock; the largest stamp wins (last-writer-wins): a write stamped by a clock that is behind loses to an earlier one |
//! | [`Versioning::ReadFirst`] | a write first asks R replicas for the newest stamp and writes one larger (ABD): no clock needed |
//! | [`Versioning::Siblings`] | version vectors: concurrent writes are all kept, as siblings a reader sees and resolves |
//! | [`ReadRepair::Background`] | after answering, the coordinator writes the newest version to the replicas that answered with older ones |
//! | [`ReadRepair::Blocking`] | before answering, it writes the newest version back until W replicas hold it (ABD's second phase): a later read cannot see an older value |
//! | `hinted_handoff` | a replica that does not acknowledge within `handoff_after` is replaced by the next node on the ring, which keeps the write as a *hint* and hands it over when it can (a sloppy quorum: its acknowledgement counts toward W) |
//! | `anti_entropy` | every period, each node sends its whole store to a random other node, which merges it (a stand-in for Merkle-tree anti-entropy) |
//! | [`Quorum::read_rule`] | your own read path: when to answer, with which reply, repaired or not ([`ReadRule`]) |
//!
//! Replies to the client: [`QMsg::PutOk`] (with the write's version),
//! [`QMsg::Got`] (the value, the siblings, the version), a failure
//! [`QMsg::Unavailable`] when a read (or the first phase of a read-first
//! write) gets fewer than R replies within `timeout` (nothing was written),
//! and [`QMsg::MaybeApplied`] when a write got fewer than W acknowledgements
//! in time: some replicas may hold it, so its outcome is unknown (a
//! checker treats it so).
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::replication::{QMsg, Quorum};
//!
//! let q = Quorum { nodes: 3, n: 3, r: 2, w: 2, ..Quorum::default() };
//! let mut sim = Sim::builder().seed(1).build(q.nodes()?)?;
//! sim.invoke(0, Invoke::new(0, QMsg::put(7, 42)))?;
//! sim.invoke(1, Invoke::new(2, QMsg::get(7)).after(ms(20)))?;
//! sim.run_for(ms(100))?;
//! assert!(matches!(sim.history().ops()[1].reply, Some(QMsg::Got { value: 42, .. })));
//! # Ok::<(), thinkdist::Error>(())
//! ```

mod coordinator;
mod node;
mod read_rule;

pub use node::{Hint, QTimer, QuorumDisk, QuorumNode};
pub use read_rule::{read_newest, read_repair_then_return, Answer, ReadRule, ReadStep, ReadView};

use super::version::{Stored, Version, VersionVector};
use super::{Key, Value};
use crate::error::{Error, Result};
use crate::sim::time::{ms, SimDuration};
use crate::sim::NodeId;
use serde::Serialize;
use std::sync::Arc;

/// How writes are versioned; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Versioning {
    /// Last-writer-wins: the coordinator's clock stamps the write.
    #[default]
    Lww,
    /// ABD: a write first reads R replicas' stamps and writes a larger one.
    ReadFirst,
    /// Version vectors: concurrent writes kept as siblings.
    Siblings,
}

/// When a read writes the newest version back to stale replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum ReadRepair {
    /// Never.
    #[default]
    Off,
    /// After answering the client, once every replica answered (or the
    /// timeout), to the replicas that answered with an older version.
    Background,
    /// Before answering: until W replicas hold the version returned.
    Blocking,
}

/// A leaderless cluster's settings; build its nodes with [`Quorum::nodes`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Quorum {
    /// Nodes in the cluster (at least `n`; more gives hinted handoff
    /// somewhere to go).
    pub nodes: usize,
    /// Replicas per key, N.
    pub n: usize,
    /// Replies a read waits for, R.
    pub r: usize,
    /// Acknowledgements a write waits for, W.
    pub w: usize,
    /// How writes are versioned.
    pub versions: Versioning,
    /// Read repair.
    pub repair: ReadRepair,
    /// Sloppy quorum with hinted handoff.
    pub hinted_handoff: bool,
    /// How long a coordinator waits for a replica's acknowledgement before
    /// writing to a fallback node (with `hinted_handoff`).
    pub handoff_after: SimDuration,
    /// How often a node holding hints tries to hand them over.
    pub hint_every: SimDuration,
    /// Push-pull anti-entropy period, if any.
    pub anti_entropy: Option<SimDuration>,
    /// How long a coordinator waits before giving up on a request.
    pub timeout: SimDuration,
    /// Your own read path, or `None` for the built-in one of `repair`
    /// ([`read_newest`], or [`read_repair_then_return`] for
    /// [`ReadRepair::Blocking`]).
    #[serde(skip)]
    pub read_rule: Option<ReadRule>,
}

impl Default for Quorum {
    /// Three nodes, N = 3, R = W = 2, last-writer-wins, no read repair, no
    /// hinted handoff (fallback after 20 ms, hints retried every 20 ms), no
    /// anti-entropy, timeout 200 ms.
    fn default() -> Self {
        Quorum {
            nodes: 3,
            n: 3,
            r: 2,
            w: 2,
            versions: Versioning::Lww,
            repair: ReadRepair::Off,
            hinted_handoff: false,
            handoff_after: ms(20),
            hint_every: ms(20),
            anti_entropy: None,
            timeout: ms(200),
            read_rule: None,
        }
    }
}

impl Quorum {
    /// Checks the settings: `1 <= R, W <= N <= nodes <= 1,000`, positive
    /// times.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("nodes", self.nodes, 1, 1_000, "nodes")?;
        crate::measure::theory::check_nrw(self.n, self.r, self.w)?;
        if self.n > self.nodes {
            return Err(Error::invalid(
                "n (replicas per key)",
                self.n,
                &format!("at most the cluster's {} nodes", self.nodes),
            ));
        }
        for (name, d) in [
            ("handoff_after", self.handoff_after),
            ("hint_every", self.hint_every),
            ("timeout", self.timeout),
        ] {
            if d == SimDuration::ZERO {
                return Err(Error::invalid(name, d, "a duration > 0"));
            }
        }
        if self.anti_entropy == Some(SimDuration::ZERO) {
            return Err(Error::invalid(
                "anti_entropy",
                "0 ns",
                "a period > 0, or None",
            ));
        }
        Ok(())
    }

    /// The cluster's nodes, one per id.
    pub fn nodes(&self) -> Result<Vec<QuorumNode>> {
        self.validate()?;
        Ok(vec![QuorumNode::new(Arc::new(*self)); self.nodes])
    }

    /// The N replicas of `key`, in ring order.
    pub fn replicas(&self, key: Key) -> Vec<NodeId> {
        let m = self.nodes.max(1) as u64;
        (0..self.n as u64)
            .map(|i| (key.wrapping_add(i) % m) as NodeId)
            .collect()
    }

    /// The nodes after `key`'s replicas on the ring: where hinted writes go.
    pub fn fallbacks(&self, key: Key) -> Vec<NodeId> {
        let m = self.nodes.max(1) as u64;
        (self.n as u64..m)
            .map(|i| (key.wrapping_add(i) % m) as NodeId)
            .collect()
    }

    /// The read rule in force.
    pub fn rule(&self) -> ReadRule {
        match (self.read_rule, self.repair) {
            (Some(r), _) => r,
            (None, ReadRepair::Blocking) => read_repair_then_return,
            (None, _) => read_newest,
        }
    }
}

/// The messages of a leaderless cluster: client requests and replies, and
/// what coordinators and replicas say to each other.
#[derive(Debug, Clone, PartialEq)]
pub enum QMsg {
    /// Client: write `value` to `key`; `context` (siblings only) is the
    /// version the client read, which the write supersedes.
    Put {
        /// The key.
        key: Key,
        /// The value.
        value: Value,
        /// What the client read before (version vectors), if anything.
        context: Option<VersionVector>,
    },
    /// Client: read `key`.
    Get {
        /// The key.
        key: Key,
    },
    /// To the client: the write is acknowledged by W replicas.
    PutOk {
        /// The version it was given.
        version: Version,
    },
    /// To the client: the value read (0 if never written), every sibling,
    /// and the version (for siblings: the context to write back with).
    Got {
        /// The newest value (the largest sibling for version vectors).
        value: Value,
        /// Every value kept (one unless concurrent writes left siblings).
        siblings: Vec<Value>,
        /// Its version; `None` if the key was never written.
        version: Option<Version>,
    },
    /// To the client (a failure): fewer than R replicas answered in time;
    /// nothing was written.
    Unavailable,
    /// To the client: fewer than W replicas acknowledged in time; the write
    /// may or may not take effect.
    MaybeApplied,
    /// Coordinator → replica: store this (for `hint`, on behalf of it).
    Write {
        /// Request id at the coordinator.
        rid: u64,
        /// The key.
        key: Key,
        /// The versions to merge.
        stored: Stored,
        /// The replica this write is meant for, if sent to a fallback.
        hint: Option<NodeId>,
    },
    /// Replica → coordinator.
    WriteAck {
        /// Request id.
        rid: u64,
    },
    /// Coordinator → replica: what do you hold for `key`?
    Read {
        /// Request id.
        rid: u64,
        /// The key.
        key: Key,
    },
    /// Replica → coordinator.
    ReadReply {
        /// Request id.
        rid: u64,
        /// What the replica holds.
        stored: Stored,
    },
    /// Fallback → replica: a hinted write, handed over.
    Handoff {
        /// The hint's id at the fallback.
        id: u64,
        /// The key.
        key: Key,
        /// The versions.
        stored: Stored,
    },
    /// Replica → fallback: the hint arrived; drop it.
    HandoffAck {
        /// The hint's id.
        id: u64,
    },
    /// Anti-entropy: the sender's whole store.
    Gossip {
        /// Every key the sender holds.
        store: imbl::OrdMap<Key, Stored>,
    },
}

impl QMsg {
    /// A client write of `value` to `key`, without context.
    pub fn put(key: Key, value: Value) -> QMsg {
        QMsg::Put {
            key,
            value,
            context: None,
        }
    }
    /// A client read of `key`.
    pub fn get(key: Key) -> QMsg {
        QMsg::Get { key }
    }
    /// A short label for diagrams and history charts.
    pub fn short(&self) -> String {
        match self {
            QMsg::Put { key, value, .. } => format!("put k{key}={value}"),
            QMsg::Get { key } => format!("get k{key}"),
            QMsg::PutOk { .. } => "ok".into(),
            QMsg::Got {
                value, siblings, ..
            } if siblings.len() > 1 => {
                format!("{siblings:?}")
            }
            QMsg::Got { value, .. } => format!("{value}"),
            QMsg::Unavailable => "unavailable".into(),
            QMsg::MaybeApplied => "maybe".into(),
            QMsg::Write { hint: Some(h), .. } => format!("write (for n{h})"),
            QMsg::Write { stored, .. } => format!("write {:?}", stored.values()),
            QMsg::WriteAck { .. } => "ack".into(),
            QMsg::Read { .. } => "read".into(),
            QMsg::ReadReply { stored, .. } => format!("has {:?}", stored.values()),
            QMsg::Handoff { .. } => "handoff".into(),
            QMsg::HandoffAck { .. } => "handoff ack".into(),
            QMsg::Gossip { .. } => "gossip".into(),
        }
    }
}
