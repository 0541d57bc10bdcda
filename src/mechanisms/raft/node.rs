//! The Raft node: its role, its volatile state, and the dispatch of
//! messages, timers and client requests to the handlers in
//! [`super::election`], [`super::replicate`] and [`super::client`].
//!
//! The durable state (term, vote, log) lives on the node's disk
//! ([`super::RaftDisk`], read through `ctx.disk()`), never in its fields:
//! a crash keeps exactly what was synced, and nothing else.

use super::{Entry, Index, RaftConfig, RaftDisk, RaftMsg, Term, Value};
use crate::sim::{Ctx, Node, NodeId, Request, TimerId};
use std::collections::BTreeMap;

/// A node's role (Figure 2: followers, candidates, leaders; plus the
/// pre-candidate of pre-vote).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Role {
    /// Follows the leader of its term.
    Follower,
    /// Asks whether it would win an election (pre-vote only).
    PreCandidate,
    /// Asks for votes in a new term.
    Candidate,
    /// Replicates its log to the others.
    Leader,
}

/// Raft's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaftTimer {
    /// No word from a leader (or no election won) in time.
    Election,
    /// Time for the leader's next round of AppendEntries.
    Heartbeat,
}

/// One Raft server; see the [module docs](super).
#[derive(Debug, Clone)]
pub struct Raft {
    /// The configuration (not state: the same after a restart).
    pub cfg: RaftConfig,
    /// Its role.
    pub role: Role,
    /// A copy of the disk's term, for readers outside the node (charts,
    /// invariants); the disk's is the truth.
    pub term: Term,
    /// The leader it last heard from in `term`.
    pub leader: Option<NodeId>,
    /// Highest index known committed (volatile, Figure 2).
    pub commit: Index,
    /// Highest index applied to `kv` (volatile).
    pub applied: Index,
    /// The state machine.
    pub kv: BTreeMap<u64, Value>,
    /// Votes (or pre-votes) received in this election, one bit per node.
    pub(crate) votes: u64,
    /// Leader: next index to send to each node (Figure 2).
    pub(crate) next: Vec<Index>,
    /// Leader: highest index known replicated on each node (Figure 2).
    pub matched: Vec<Index>,
    /// Leader: nodes heard from since the last check-quorum round.
    pub(crate) heard: u64,
    /// Follower: heard from a leader within the current timeout (pre-vote
    /// and check-quorum refuse to disturb it).
    pub(crate) leader_recent: bool,
    /// The pending election timer.
    pub(crate) election_timer: Option<TimerId>,
    /// The pending heartbeat (leader) or vote retry (candidate) timer.
    pub(crate) heartbeat_timer: Option<TimerId>,
    /// Leader: client requests waiting for their entry to be applied.
    pub(crate) waiting: BTreeMap<Index, Request>,
    /// Elections won since start (counts, for charts).
    pub elections_won: u64,
}

impl Raft {
    /// A node with configuration `cfg` (check it with
    /// [`RaftConfig::validate`]).
    pub fn new(cfg: RaftConfig) -> Raft {
        Raft {
            cfg,
            role: Role::Follower,
            term: 0,
            leader: None,
            commit: 0,
            applied: 0,
            kv: BTreeMap::new(),
            votes: 0,
            next: Vec::new(),
            matched: Vec::new(),
            heard: 0,
            leader_recent: false,
            election_timer: None,
            heartbeat_timer: None,
            waiting: BTreeMap::new(),
            elections_won: 0,
        }
    }

    /// True while it is the leader.
    pub fn is_leader(&self) -> bool {
        self.role == Role::Leader
    }

    /// Nodes needed for a majority of `n`.
    pub fn majority(n: usize) -> usize {
        n / 2 + 1
    }

    /// Index and term of the last entry of the log (0, 0 if empty).
    pub(crate) fn last(ctx: &mut Ctx<'_, Self>) -> (Index, Term) {
        let log = &ctx.disk().log;
        (log.len() as Index, log.last().map_or(0, |e| e.term))
    }

    /// Term of entry `i` (0 for index 0 or past the end).
    pub(crate) fn term_at(ctx: &mut Ctx<'_, Self>, i: Index) -> Term {
        if i == 0 {
            return 0;
        }
        ctx.disk().log.get(i as usize - 1).map_or(0, |e| e.term)
    }

    /// Figure 2, all servers: "if RPC request or response contains term
    /// T greater than currentTerm: set currentTerm = T, convert to
    /// follower". Synced
    /// (with the vote cleared) before anything is answered in the new term.
    /// The election timer keeps running: Figure 2 restarts it only on
    /// hearing the current leader or granting a vote, so a returning node
    /// with a high term and a stale log cannot hold off every election by
    /// asking (a leader, which has no running timer, gets a fresh one).
    pub(crate) fn observe_term(&mut self, ctx: &mut Ctx<'_, Self>, term: Term) {
        if term > ctx.disk().term {
            let d = ctx.disk();
            d.term = term;
            d.voted_for = None;
            ctx.sync("term");
            self.term = term;
            if self.role == Role::Leader || self.election_timer.is_none() {
                self.become_follower(ctx, None);
            } else {
                self.step_down(None);
            }
        }
    }

    /// Back to follower (a new term, or a leader of this term appeared),
    /// with a fresh election timeout.
    pub(crate) fn become_follower(&mut self, ctx: &mut Ctx<'_, Self>, leader: Option<NodeId>) {
        self.step_down(leader);
        self.reset_election_timer(ctx);
    }

    /// The role change of [`Raft::become_follower`], timers untouched.
    fn step_down(&mut self, leader: Option<NodeId>) {
        // Waiting clients are not answered: their entries may still commit
        // under the next leader, so their outcome stays unknown.
        self.waiting.clear();
        self.role = Role::Follower;
        self.leader = leader;
        self.votes = 0;
        if leader.is_some() {
            self.leader_recent = true;
        }
    }

    /// (Re)arms the heartbeat timer: one chain of heartbeats at a time,
    /// whatever the role changes in between.
    pub(crate) fn set_heartbeat(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Some(t) = self.heartbeat_timer.take() {
            ctx.cancel_timer(t);
        }
        self.heartbeat_timer = Some(ctx.set_timer(self.cfg.heartbeat, RaftTimer::Heartbeat));
    }

    /// The log entries from index `from` (at most `max`).
    pub(crate) fn entries_from(ctx: &mut Ctx<'_, Self>, from: Index, max: usize) -> Vec<Entry> {
        ctx.disk()
            .log
            .to_vec_from(from.saturating_sub(1) as usize, max)
    }
}

impl Node for Raft {
    type Msg = RaftMsg;
    type Timer = RaftTimer;
    type Disk = RaftDisk;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        // Volatile state starts empty; the durable state is on the disk.
        self.term = ctx.disk().term;
        self.reset_election_timer(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: RaftMsg) {
        match msg {
            RaftMsg::RequestVote {
                term,
                last_index,
                last_term,
                pre,
            } => self.on_request_vote(ctx, from, term, (last_index, last_term), pre),
            RaftMsg::Vote { term, granted, pre } => self.on_vote(ctx, from, term, granted, pre),
            RaftMsg::Append {
                term,
                prev_index,
                prev_term,
                entries,
                commit,
            } => self.on_append(ctx, from, term, (prev_index, prev_term), entries, commit),
            RaftMsg::AppendReply { term, ok, index } => {
                self.on_append_reply(ctx, from, term, ok, index)
            }
            // Client answers never reach a node.
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: RaftTimer) {
        match timer {
            RaftTimer::Election => {
                self.election_timer = None;
                self.on_election_timeout(ctx)
            }
            RaftTimer::Heartbeat => {
                self.heartbeat_timer = None;
                self.on_heartbeat(ctx)
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: RaftMsg) {
        self.on_client(ctx, req, msg)
    }

    fn label(msg: &RaftMsg) -> String {
        match msg {
            RaftMsg::Put { key, value } => format!("put {key}={value}"),
            RaftMsg::Get { key } => format!("get {key}"),
            RaftMsg::PutOk => "ok".into(),
            RaftMsg::Value(v) => format!("= {v}"),
            RaftMsg::NotLeader { leader } => match leader {
                Some(l) => format!("not leader, try {l}"),
                None => "not leader".into(),
            },
            RaftMsg::RequestVote { term, pre, .. } => {
                format!("{}vote? t{term}", if *pre { "pre-" } else { "" })
            }
            RaftMsg::Vote { term, granted, pre } => format!(
                "{}{} t{term}",
                if *pre { "pre-" } else { "" },
                if *granted { "yes" } else { "no" }
            ),
            RaftMsg::Append {
                term,
                entries,
                prev_index,
                ..
            } if entries.is_empty() => format!("beat t{term} @{prev_index}"),
            RaftMsg::Append {
                term,
                entries,
                prev_index,
                ..
            } => format!("append {} t{term} @{prev_index}", entries.len()),
            RaftMsg::AppendReply { ok, index, .. } => {
                format!("{} {index}", if *ok { "ack" } else { "nack" })
            }
        }
    }
}
