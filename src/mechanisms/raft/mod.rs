//! Raft (chapter 10): a replicated log that a majority agrees on, after
//! Ongaro & Ousterhout, "In Search of an Understandable Consensus
//! Algorithm", USENIX ATC 2014 (its Figure 2 is cited at the code that
//! implements each rule), with pre-vote and check-quorum from Ongaro's
//! thesis (§9.6).
//!
//! | file | what |
//! |---|---|
//! | [`node`] | the node: its roles, the dispatch of messages and timers, what is volatile and what durable |
//! | [`election`] | leader election: timeouts, RequestVote, pre-vote, check-quorum |
//! | [`replicate`] | log replication: AppendEntries, the commit rule, applying to the key-value map |
//! | [`client`] | client requests, redirects to the leader, the run's history as key-value operations |
//! | [`invariants`] | one vote per term, election safety, log matching, leader completeness, state machine safety, checked after every event |
//! | [`cluster`] | a cluster with clients under a fault plan: one explored trial |
//!
//! Every node persists its term, its vote and its log (a [`DiskLog`]:
//! a sync writes what changed, not the whole log) before it answers a
//! message that depends on them, as Figure 2 requires. Two deliberately
//! broken variants ([`Bug`]) show what the invariants catch.

pub mod client;
pub mod cluster;
pub mod election;
pub mod invariants;
pub mod node;
pub mod replicate;

pub use client::{raft_history, RaftWorkload};
pub use cluster::{explore_raft, raft_trial, Aim, RaftCluster};
pub use invariants::{attach_invariants, log_matching_at_end};
pub use node::{Raft, Role};

use crate::error::{Error, Result};
use crate::sim::time::{ms, SimDuration};
use crate::sim::{DiskLog, NodeId};
use serde::Serialize;

/// A term: Raft's logical clock; at most one leader per term.
pub type Term = u64;
/// A log index, from 1 (0 is "before the first entry").
pub type Index = u64;
/// A key of the replicated map.
pub type Key = u64;
/// A value (0 reads as "never written").
pub type Value = i64;

/// A command of the replicated state machine (a key-value map).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Cmd {
    /// Write `value` under `key`.
    Put {
        /// The key.
        key: Key,
        /// The value.
        value: Value,
    },
    /// Read `key` (through the log, so reads are linearizable too).
    Get {
        /// The key.
        key: Key,
    },
}

/// One log entry: the term of the leader that created it and its command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The leader's term when it appended the entry.
    pub term: Term,
    /// The command.
    pub cmd: Cmd,
    /// The client operation it serves (unique per run: two equal commands
    /// stay two entries).
    pub op: u64,
}

/// What a node keeps on disk (Figure 2, "persistent state on all servers").
#[derive(Debug)]
pub struct RaftDisk {
    /// The latest term the node has seen.
    pub term: Term,
    /// Whom it voted for in `term`.
    pub voted_for: Option<NodeId>,
    /// The log; entry `i` (from 1) is `log[i - 1]`.
    pub log: DiskLog<Entry>,
}

impl Clone for RaftDisk {
    fn clone(&self) -> Self {
        RaftDisk {
            term: self.term,
            voted_for: self.voted_for,
            log: self.log.clone(),
        }
    }
    /// A sync copies field by field, so the log's tail buffer is reused
    /// (a derived `Clone` would allocate a new one on every sync).
    fn clone_from(&mut self, source: &Self) {
        self.term = source.term;
        self.voted_for = source.voted_for;
        self.log.clone_from(&source.log);
    }
}

impl Default for RaftDisk {
    /// Term 0, no vote, an empty log.
    fn default() -> Self {
        RaftDisk {
            term: 0,
            voted_for: None,
            log: DiskLog::new(),
        }
    }
}

/// Every message of a Raft cluster: the clients' and the peers'.
#[derive(Debug, Clone, PartialEq)]
pub enum RaftMsg {
    /// A client's write.
    Put {
        /// The key.
        key: Key,
        /// The value.
        value: Value,
    },
    /// A client's read.
    Get {
        /// The key.
        key: Key,
    },
    /// The write is committed and applied.
    PutOk,
    /// The read's value, committed and applied.
    Value(Value),
    /// Not the leader: try `leader` (if known). The request had no effect.
    NotLeader {
        /// The leader this node last heard from.
        leader: Option<NodeId>,
    },
    /// RequestVote (or, with `pre`, a pre-vote: "would you vote for me?").
    RequestVote {
        /// The candidate's term (for a pre-vote: the term it would take).
        term: Term,
        /// Index of its last entry.
        last_index: Index,
        /// Term of its last entry.
        last_term: Term,
        /// A pre-vote: changes no one's term or vote.
        pre: bool,
    },
    /// The answer to a RequestVote.
    Vote {
        /// The voter's term (the request's, for a pre-vote).
        term: Term,
        /// Granted or not.
        granted: bool,
        /// Answers a pre-vote.
        pre: bool,
    },
    /// AppendEntries: entries to store after `prev_index`, and the
    /// leader's commit index (a heartbeat when `entries` is empty).
    Append {
        /// The leader's term.
        term: Term,
        /// Index of the entry just before the new ones.
        prev_index: Index,
        /// Its term.
        prev_term: Term,
        /// The entries (empty: a heartbeat).
        entries: Vec<Entry>,
        /// The leader's commit index.
        commit: Index,
    },
    /// The answer to an AppendEntries.
    AppendReply {
        /// The follower's term.
        term: Term,
        /// The follower's log matched at `prev_index` and now holds the
        /// entries.
        ok: bool,
        /// On success the last index now known to match; on failure a hint:
        /// the follower's last index.
        index: Index,
    },
}

/// A deliberately broken Raft, for showing that the checks catch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Bug {
    /// A vote is granted without syncing it first: a voter that crashes
    /// before its next sync forgets it voted and may vote again in the
    /// same term (two leaders in one term).
    VoteNotPersisted,
    /// The leader commits any entry stored on a majority, also one from an
    /// earlier term (the paper's Figure 8: such an entry can still be
    /// overwritten).
    CommitOldTermByCount,
}

/// How a Raft cluster runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RaftConfig {
    /// Election timeouts are drawn uniformly from `[lo, hi]` (the paper:
    /// 150–300 ms).
    pub election_timeout: (SimDuration, SimDuration),
    /// A leader's heartbeat interval (well inside the shortest timeout).
    pub heartbeat: SimDuration,
    /// Most entries in one AppendEntries.
    pub max_batch: usize,
    /// Pre-vote (thesis §9.6): a candidate first asks whether it would win,
    /// and raises its term only if a majority says yes, so a node that was
    /// cut off does not depose a working leader when it comes back.
    pub pre_vote: bool,
    /// Check-quorum: a leader that has not heard from a majority within an
    /// election timeout steps down.
    pub check_quorum: bool,
    /// A broken variant, or `None` for Raft as written.
    pub bug: Option<Bug>,
    /// Which candidate's log counts as at least as up to date as a voter's
    /// (§5.4.1): the notebook's reader swaps in a rule of their own.
    pub up_to_date: UpToDate,
}

/// The voter's test (§5.4.1): is a candidate whose log ends at `theirs`
/// (last index, last term) at least as up to date as the voter, whose log
/// ends at `mine`? Raft's rule is [`standard_up_to_date`].
pub type UpToDateFn = fn(mine: (Index, Term), theirs: (Index, Term)) -> bool;

/// Raft's rule: "If the logs have last entries with different terms, then
/// the log with the later term is more up-to-date. If the logs end with
/// the same term, then whichever log is longer is more up-to-date."
pub fn standard_up_to_date(mine: (Index, Term), theirs: (Index, Term)) -> bool {
    theirs.1 > mine.1 || (theirs.1 == mine.1 && theirs.0 >= mine.0)
}

/// An [`UpToDateFn`] in the configuration. It is configuration, not state:
/// it compares equal to any other rule and serializes as its role only.
#[derive(Clone, Copy)]
pub struct UpToDate(pub UpToDateFn);

impl Default for UpToDate {
    fn default() -> Self {
        UpToDate(standard_up_to_date)
    }
}
impl PartialEq for UpToDate {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl std::fmt::Debug for UpToDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UpToDate")
    }
}
impl Serialize for UpToDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str("up-to-date rule")
    }
}

impl Default for RaftConfig {
    /// The paper's timeouts (150–300 ms), heartbeats every 50 ms, batches
    /// of 64, pre-vote and check-quorum off, no bug.
    fn default() -> Self {
        RaftConfig {
            election_timeout: (ms(150), ms(300)),
            heartbeat: ms(50),
            max_batch: 64,
            pre_vote: false,
            check_quorum: false,
            bug: None,
            up_to_date: UpToDate::default(),
        }
    }
}

impl RaftConfig {
    /// Checks the timeouts: `0 < lo <= hi`, and a heartbeat shorter than
    /// the shortest timeout (else followers time out under a live leader).
    pub fn validate(&self) -> Result<()> {
        let (lo, hi) = self.election_timeout;
        if lo.0 == 0 || lo > hi {
            return Err(Error::invalid(
                "election_timeout",
                format!("{lo}–{hi}"),
                "a range with 0 < lo <= hi",
            ));
        }
        if self.heartbeat.0 == 0 || self.heartbeat >= lo {
            return Err(Error::invalid(
                "heartbeat",
                self.heartbeat,
                &format!("a duration > 0 and below the shortest election timeout ({lo})"),
            ));
        }
        if self.max_batch == 0 || self.max_batch > 100_000 {
            return Err(Error::invalid("max_batch", self.max_batch, "1 to 100,000"));
        }
        Ok(())
    }
}
