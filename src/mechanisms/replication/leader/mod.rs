//! Leader–follower replication: one node takes the writes and ships them,
//! in order, to the followers; when it fails a follower takes over.
//!
//! **Writes.** The leader appends each write to its log (on disk), ships
//! the log to every follower (at once, or with the next heartbeat when
//! `stream` is off: asynchronous shipping in batches), and acknowledges
//! the client when enough followers hold it: none ([`Ack::Async`]: at once),
//! one ([`Ack::SemiSync`], as MySQL's semi-synchronous replication), a
//! majority of the cluster ([`Ack::Majority`]) or every follower
//! ([`Ack::Sync`]). A write acknowledged before it reached a follower is
//! lost if the leader dies before shipping it.
//!
//! **Reads.** At the leader ([`Reads::Leader`]: what it has committed), at
//! whichever node the client asks ([`Reads::Any`]: a follower may be
//! behind), or at the leader only while it holds a **lease**
//! ([`Reads::Lease`]): a majority acknowledged one of its heartbeats within
//! the last `lease`, and every follower promises not to help another node
//! take over until `failover_after > lease` has passed without hearing
//! from the leader. No other leader can then exist while the lease holds
//! (with exact clocks: a lease is a bet on time), so the leader's reads are
//! up to date without asking anyone.
//!
//! **Failover: the most up-to-date follower's log wins.** A follower that
//! hears nothing from the leader for `failover_after` (plus a random
//! stagger, so two rarely try at once) becomes a *candidate* for the next
//! epoch and asks everybody for support. A node supports it if it has not
//! heard from a leader within `failover_after` and has supported nobody in
//! that epoch or later; with the support it sends its log. With a majority
//! (itself included) the candidate adopts the most up-to-date log among
//! them (latest last epoch, then longest; as a promoted MySQL replica is
//! the most advanced one), appends a no-op of its epoch, and leads. A
//! follower whose log disagrees with the new leader's is cut back to the
//! longest common prefix: what only the old leader had is gone. The rule
//! for committing is Raft's (Ongaro and Ousterhout 2014): the leader counts
//! acknowledgements only for entries of its own epoch, so with
//! [`Ack::Majority`] an acknowledged write is on a majority, every
//! majority holds one node that has it, and no failover loses it. With
//! [`Ack::Async`] and [`Ack::SemiSync`] failover can lose acknowledged
//! writes: chapter 8 counts them.
//!
//! Clients send `Put`/`Get` to any node; a follower answers a write (and a
//! leader read) with the failure [`LfMsg::NotLeader`] naming the leader it
//! knows, for a client that follows redirects
//! ([`crate::retry::client`]).
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::replication::{Ack, LeaderFollower, LfMsg};
//!
//! let lf = LeaderFollower { nodes: 3, ack: Ack::Sync, ..LeaderFollower::default() };
//! let mut sim = Sim::builder().seed(1).build(lf.nodes()?)?;
//! sim.invoke(0, Invoke::new(0, LfMsg::put(1, 10)))?;     // to the leader
//! sim.invoke(1, Invoke::new(2, LfMsg::put(1, 11)).after(ms(10)))?; // to a follower
//! sim.run_for(ms(50))?;
//! let ops = sim.history().ops();
//! assert_eq!(ops[0].reply, Some(LfMsg::PutOk));
//! assert_eq!(ops[1].reply, Some(LfMsg::NotLeader(Some(0))));
//! // Both followers hold the acknowledged write.
//! assert!(sim.disk(2)?.working().log.iter().any(|e| e.value == 10));
//! # Ok::<(), thinkdist::Error>(())
//! ```

mod election;
mod node;
mod replicate;

pub use node::{LfNode, LfTimer, Role};

use super::{Key, Value};
use crate::error::{Error, Result};
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::NodeId;
use serde::Serialize;
use std::sync::Arc;

/// How many followers must hold a write before the leader acknowledges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Ack {
    /// None: acknowledge at once (asynchronous replication).
    #[default]
    Async,
    /// One follower (semi-synchronous).
    SemiSync,
    /// A majority of the cluster, the leader included.
    Majority,
    /// Every follower (synchronous).
    Sync,
}

impl Ack {
    /// Followers that must hold a write in a cluster of `nodes`.
    pub fn followers_needed(self, nodes: usize) -> usize {
        let f = nodes.saturating_sub(1);
        match self {
            Ack::Async => 0,
            Ack::SemiSync => f.min(1),
            Ack::Majority => nodes / 2,
            Ack::Sync => f,
        }
    }
    /// A short name for tables and legends.
    pub fn name(self) -> &'static str {
        match self {
            Ack::Async => "asynchronous",
            Ack::SemiSync => "semi-synchronous",
            Ack::Majority => "majority",
            Ack::Sync => "synchronous",
        }
    }
}

/// Where reads are served; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Reads {
    /// At the leader, from what it committed.
    #[default]
    Leader,
    /// At whichever node gets the request, from what it has.
    Any,
    /// At the leader, only while it holds a lease.
    Lease,
}

/// A leader–follower cluster's settings; build its nodes with
/// [`LeaderFollower::nodes`]. Node 0 leads at the start.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LeaderFollower {
    /// Nodes, the leader included.
    pub nodes: usize,
    /// When a write is acknowledged.
    pub ack: Ack,
    /// Ship each write at once (true), or with the next heartbeat.
    pub stream: bool,
    /// Where reads are served.
    pub reads: Reads,
    /// The leader's heartbeat (and re-shipping) period.
    pub heartbeat: SimDuration,
    /// Silence after which a follower tries to take over; `None`: never.
    pub failover_after: Option<SimDuration>,
    /// How long a majority's acknowledgement of a heartbeat lets the
    /// leader serve reads alone ([`Reads::Lease`]); below `failover_after`.
    pub lease: SimDuration,
    /// How long a candidate waits for a majority's support.
    pub election_timeout: SimDuration,
    /// Most entries shipped in one message.
    pub max_batch: usize,
}

impl Default for LeaderFollower {
    /// Three nodes, asynchronous, streamed, reads at the leader, heartbeat
    /// 10 ms, failover after 50 ms, lease 30 ms, elections give up after
    /// 40 ms, at most 1,000 entries per message.
    fn default() -> Self {
        LeaderFollower {
            nodes: 3,
            ack: Ack::Async,
            stream: true,
            reads: Reads::Leader,
            heartbeat: ms(10),
            failover_after: Some(ms(50)),
            lease: ms(30),
            election_timeout: ms(40),
            max_batch: 1_000,
        }
    }
}

impl LeaderFollower {
    /// Checks the settings: 1 to 1,000 nodes, positive times, a lease
    /// shorter than `failover_after`.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("nodes", self.nodes, 1, 1_000, "nodes")?;
        crate::error::check_count("max_batch", self.max_batch, 1, 1_000_000, "entries")?;
        for (name, d) in [
            ("heartbeat", self.heartbeat),
            ("lease", self.lease),
            ("election_timeout", self.election_timeout),
        ] {
            if d == SimDuration::ZERO {
                return Err(Error::invalid(name, d, "a duration > 0"));
            }
        }
        if let Some(f) = self.failover_after {
            if f <= self.lease {
                return Err(Error::invalid(
                    "failover_after",
                    f,
                    &format!(
                        "a silence longer than the lease ({}): a follower must not help a new \
                         leader while the old one may still hold its lease",
                        self.lease
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The cluster's nodes, one per id.
    pub fn nodes(&self) -> Result<Vec<LfNode>> {
        self.validate()?;
        Ok(vec![LfNode::new(Arc::new(*self)); self.nodes])
    }

    /// A majority of the cluster.
    pub fn majority(&self) -> usize {
        self.nodes / 2 + 1
    }
}

/// The key of the no-op entry a new leader appends.
pub const NOOP: Key = u64::MAX;

/// One log entry: a write (or a leader's no-op), the epoch of the leader
/// that appended it, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The epoch of the leader that appended it.
    pub epoch: u64,
    /// The key ([`NOOP`] for a new leader's no-op).
    pub key: Key,
    /// The value.
    pub value: Value,
    /// When the leader appended it (true time, for lag measurements).
    pub at: SimTime,
}

impl Entry {
    /// True for a client's write, false for a no-op.
    pub fn is_write(&self) -> bool {
        self.key != NOOP
    }
}

/// A node's durable state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LfDisk {
    /// The latest epoch this node knows (it never goes back).
    pub epoch: u64,
    /// The latest epoch in which it supported a candidate (itself
    /// included).
    pub voted: u64,
    /// The log.
    pub log: imbl::Vector<Entry>,
}

/// The messages of a leader–follower cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum LfMsg {
    /// Client: write `value` to `key`.
    Put {
        /// The key.
        key: Key,
        /// The value.
        value: Value,
    },
    /// Client: read `key`.
    Get {
        /// The key.
        key: Key,
    },
    /// To the client: the write is acknowledged.
    PutOk,
    /// To the client: the value read (0 if never written).
    Value(Value),
    /// To the client (a failure): not the leader; ask this node, if known.
    NotLeader(Option<NodeId>),
    /// To the client (a failure): the leader has no lease right now.
    NoLease,
    /// Leader → follower: the log after the first `prev` entries (whose
    /// last has epoch `prev_epoch`), and the leader's commit index.
    Append {
        /// The leader's epoch.
        epoch: u64,
        /// Entries before these.
        prev: u64,
        /// Epoch of entry `prev - 1` (0 if `prev == 0`).
        prev_epoch: u64,
        /// The entries.
        entries: Vec<Entry>,
        /// Entries the leader has committed.
        commit: u64,
        /// When the leader sent this (for its lease).
        sent: SimTime,
    },
    /// Follower → leader: `ok` with the length of the log it now shares
    /// with the leader, or not ok with where to try next.
    AppendAck {
        /// The follower's epoch.
        epoch: u64,
        /// Whether the entries fitted.
        ok: bool,
        /// Shared prefix (ok) or a length to retry from.
        len: u64,
        /// The `sent` of the append it answers.
        sent: SimTime,
    },
    /// Candidate → all: support me for `epoch`.
    Propose {
        /// The epoch it would lead.
        epoch: u64,
    },
    /// Node → candidate: supported, with my log.
    Support {
        /// The epoch supported.
        epoch: u64,
        /// The supporter's log.
        log: imbl::Vector<Entry>,
    },
}

impl LfMsg {
    /// A client write.
    pub fn put(key: Key, value: Value) -> LfMsg {
        LfMsg::Put { key, value }
    }
    /// A client read.
    pub fn get(key: Key) -> LfMsg {
        LfMsg::Get { key }
    }
    /// A short label for diagrams and history charts.
    pub fn short(&self) -> String {
        match self {
            LfMsg::Put { key, value } => format!("put k{key}={value}"),
            LfMsg::Get { key } => format!("get k{key}"),
            LfMsg::PutOk => "ok".into(),
            LfMsg::Value(v) => format!("{v}"),
            LfMsg::NotLeader(Some(n)) => format!("ask n{n}"),
            LfMsg::NotLeader(None) => "no leader".into(),
            LfMsg::NoLease => "no lease".into(),
            LfMsg::Append { entries, .. } if entries.is_empty() => "heartbeat".into(),
            LfMsg::Append { entries, .. } => format!("append {}", entries.len()),
            LfMsg::AppendAck { ok: true, len, .. } => format!("ack {len}"),
            LfMsg::AppendAck { len, .. } => format!("nack {len}"),
            LfMsg::Propose { epoch } => format!("propose e{epoch}"),
            LfMsg::Support { epoch, .. } => format!("support e{epoch}"),
        }
    }
}
