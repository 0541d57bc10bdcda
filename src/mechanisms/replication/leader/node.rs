//! A leader–follower node: its state, the client side (writes, reads,
//! redirects) and the follower side (appending what the leader ships).
//! The leader's shipping and commit rule are in `replicate.rs`, failover
//! in `election.rs`.

use super::super::{Key, Value};
use super::{Entry, LeaderFollower, LfDisk, LfMsg, Reads, NOOP};
use crate::sim::time::SimDuration;
use crate::sim::{rng, Ctx, Node, NodeId, Request, SimTime, EXTERNAL};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a node is doing now.
#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    /// Following the leader it names, if it knows one.
    Follower(Option<NodeId>),
    /// Asking for support to lead `epoch`, since `since`; the supports so
    /// far, with each supporter's log.
    Candidate {
        /// The epoch it would lead.
        epoch: u64,
        /// When it started.
        since: SimTime,
        /// Supporters (itself first) and their logs.
        supports: Vec<(NodeId, imbl::Vector<Entry>)>,
    },
    /// Leading.
    Leader,
}

/// A leader–follower node's timer: one periodic tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LfTimer {
    /// Leader: heartbeat and re-ship; follower: is the leader silent?
    Tick,
}

/// The leader's view of one follower.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Peer {
    /// The next entry to ship.
    pub next: u64,
    /// Entries known to match the leader's log.
    pub matched: u64,
    /// Send time of the latest append it acknowledged (for the lease).
    pub acked_sent: SimTime,
}

/// One node of a leader–follower cluster; see the [module docs](super).
#[derive(Debug, Clone)]
pub struct LfNode {
    pub(super) cfg: Arc<LeaderFollower>,
    pub(super) role: Role,
    /// When it last heard from a leader (or started, or supported one).
    pub(super) last_heard: SimTime,
    /// Extra silence before this node tries to take over (redrawn).
    pub(super) stagger: SimDuration,
    /// Entries known committed.
    pub(super) commit: u64,
    /// Entries applied to `state`.
    pub(super) applied: u64,
    /// The key-value state of the applied entries.
    pub(super) state: BTreeMap<Key, Value>,
    /// Leader: one per node (its own unused).
    pub(super) peers: Vec<Peer>,
    /// Leader: writes waiting for their commit, by log length.
    pub(super) pending: Vec<(u64, Request)>,
    /// Leader: the length of its log after its own no-op.
    pub(super) noop: u64,
    /// When each log entry arrived here (measurement: replication lag).
    pub(super) received: Vec<SimTime>,
}

impl LfNode {
    /// A node with these settings (use [`LeaderFollower::nodes`]).
    pub fn new(cfg: Arc<LeaderFollower>) -> LfNode {
        LfNode {
            cfg,
            role: Role::Follower(None),
            last_heard: SimTime::ZERO,
            stagger: SimDuration::ZERO,
            commit: 0,
            applied: 0,
            state: BTreeMap::new(),
            peers: Vec::new(),
            pending: Vec::new(),
            noop: 0,
            received: Vec::new(),
        }
    }
    /// Its role now.
    pub fn role(&self) -> &Role {
        &self.role
    }
    /// True if it leads.
    pub fn is_leader(&self) -> bool {
        self.role == Role::Leader
    }
    /// Entries it knows committed.
    pub fn commit_index(&self) -> u64 {
        self.commit
    }
    /// The value it would read for `key` (from its applied entries).
    pub fn read(&self, key: Key) -> Value {
        self.state.get(&key).copied().unwrap_or(0)
    }
    /// When each entry of its log arrived here (since its last restart).
    pub fn received(&self) -> &[SimTime] {
        &self.received
    }
    /// The settings.
    pub fn config(&self) -> &LeaderFollower {
        &self.cfg
    }

    pub(super) fn redraw_stagger(&mut self, ctx: &mut Ctx<'_, Self>) {
        let f = self.cfg.failover_after.unwrap_or(SimDuration::ZERO);
        self.stagger = SimDuration(rng::index(ctx.rng(), f.0.max(1) as usize) as u64);
    }

    /// Applies committed entries to the state.
    pub(super) fn apply(&mut self, ctx: &mut Ctx<'_, Self>) {
        let log = &ctx.disk().log;
        let upto = self.commit.min(log.len() as u64);
        while self.applied < upto {
            let e = log[self.applied as usize];
            if e.key != NOOP {
                self.state.insert(e.key, e.value);
            }
            self.applied += 1;
        }
    }

    /// Moves to `epoch` (durably) if it is newer; a leader or candidate of
    /// an older epoch becomes a follower.
    pub(super) fn observe_epoch(&mut self, ctx: &mut Ctx<'_, Self>, epoch: u64) -> bool {
        if epoch <= ctx.disk().epoch {
            return false;
        }
        ctx.disk().epoch = epoch;
        ctx.sync("epoch");
        if self.role == Role::Leader {
            ctx.note("steps down");
        }
        self.role = Role::Follower(None);
        self.pending.clear();
        true
    }

    fn leader_hint(&self, me: NodeId) -> Option<NodeId> {
        match self.role {
            Role::Leader => Some(me),
            Role::Follower(l) => l,
            Role::Candidate { .. } => None,
        }
    }

    fn on_put(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, key: Key, value: Value) {
        if self.role != Role::Leader {
            let hint = self.leader_hint(ctx.id());
            ctx.reply_failed(req, LfMsg::NotLeader(hint));
            return;
        }
        let epoch = ctx.disk().epoch;
        let at = ctx.now();
        ctx.disk().log.push_back(Entry {
            epoch,
            key,
            value,
            at,
        });
        ctx.sync("append");
        self.received.push(at);
        let len = ctx.disk().log.len() as u64;
        self.pending.push((len, req));
        if self.cfg.stream {
            self.ship_all(ctx);
        }
        self.advance_commit(ctx);
    }

    fn on_get(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, key: Key) {
        let me = ctx.id();
        match (self.cfg.reads, &self.role) {
            (Reads::Any, _) => ctx.reply(req, LfMsg::Value(self.read(key))),
            (Reads::Leader, Role::Leader) => ctx.reply(req, LfMsg::Value(self.read(key))),
            (Reads::Lease, Role::Leader) => {
                if self.holds_lease(ctx) && self.commit >= self.noop {
                    ctx.reply(req, LfMsg::Value(self.read(key)));
                } else {
                    ctx.count("reads refused: no lease");
                    ctx.reply_failed(req, LfMsg::NoLease);
                }
            }
            _ => {
                let hint = self.leader_hint(me);
                ctx.reply_failed(req, LfMsg::NotLeader(hint));
            }
        }
    }

    /// Follower: the leader ships entries after the first `prev`.
    #[allow(clippy::too_many_arguments)]
    fn on_append(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        epoch: u64,
        prev: u64,
        prev_epoch: u64,
        entries: Vec<Entry>,
        commit: u64,
        sent: SimTime,
    ) {
        let mine = ctx.disk().epoch;
        if epoch < mine {
            let len = ctx.disk().log.len() as u64;
            let ack = LfMsg::AppendAck {
                epoch: mine,
                ok: false,
                len,
                sent,
            };
            ctx.send(from, ack);
            return;
        }
        self.observe_epoch(ctx, epoch);
        if self.role != Role::Follower(Some(from)) {
            self.role = Role::Follower(Some(from));
        }
        self.last_heard = ctx.now();
        let log_len = ctx.disk().log.len() as u64;
        let fits = prev <= log_len
            && (prev == 0 || ctx.disk().log[(prev - 1) as usize].epoch == prev_epoch);
        if !fits {
            let len = log_len.min(prev.saturating_sub(1));
            ctx.send(
                from,
                LfMsg::AppendAck {
                    epoch,
                    ok: false,
                    len,
                    sent,
                },
            );
            return;
        }
        let mut changed = false;
        let now = ctx.now();
        for (i, e) in entries.iter().enumerate() {
            let at = (prev as usize) + i;
            let log = &mut ctx.disk().log;
            if at < log.len() {
                if log[at].epoch == e.epoch {
                    continue;
                }
                log.truncate(at);
                self.received.truncate(at);
                if (at as u64) < self.applied {
                    // A write this node applied is gone: rebuild.
                    self.state.clear();
                    self.applied = 0;
                    self.commit = self.commit.min(at as u64);
                }
            }
            log.push_back(*e);
            self.received.resize(at, now);
            self.received.push(now);
            changed = true;
        }
        if changed {
            ctx.sync("append");
        }
        let shared = prev + entries.len() as u64;
        self.commit = self.commit.max(commit.min(shared));
        self.apply(ctx);
        let ack = LfMsg::AppendAck {
            epoch,
            ok: true,
            len: shared,
            sent,
        };
        ctx.send(from, ack);
    }

    fn tick(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(self.cfg.heartbeat, LfTimer::Tick);
        match &self.role {
            Role::Leader => self.ship_all(ctx),
            Role::Follower(_) => {
                if let Some(f) = self.cfg.failover_after {
                    if ctx.now().since(self.last_heard) >= f + self.stagger {
                        self.stand(ctx);
                    }
                }
            }
            Role::Candidate { since, .. } => {
                if ctx.now().since(*since) >= self.cfg.election_timeout {
                    ctx.note("election timed out");
                    self.role = Role::Follower(None);
                    self.last_heard = ctx.now();
                    self.redraw_stagger(ctx);
                }
            }
        }
    }
}

impl Node for LfNode {
    type Msg = LfMsg;
    type Timer = LfTimer;
    type Disk = LfDisk;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.last_heard = ctx.now();
        self.redraw_stagger(ctx);
        ctx.set_timer(self.cfg.heartbeat, LfTimer::Tick);
        if ctx.disk().epoch == 0 {
            // The first start: node 0 leads epoch 1, everybody knows it.
            ctx.disk().epoch = 1;
            ctx.sync("epoch");
            if ctx.id() == 0 {
                ctx.disk().voted = 1;
                self.lead(ctx);
            } else {
                self.role = Role::Follower(Some(0));
            }
        }
    }

    fn on_recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        // Memory is fresh: a follower that knows no leader, and does not
        // help anyone take over for a full `failover_after` (it may have
        // acknowledged a lease just before it crashed).
        self.last_heard = ctx.now();
        self.redraw_stagger(ctx);
        let len = ctx.disk().log.len();
        self.received = vec![ctx.now(); len];
        ctx.set_timer(self.cfg.heartbeat, LfTimer::Tick);
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: LfMsg) {
        match msg {
            LfMsg::Put { key, value } => self.on_put(ctx, req, key, value),
            LfMsg::Get { key } => self.on_get(ctx, req, key),
            other => {
                ctx.count("requests not understood");
                ctx.reply_failed(req, other);
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: LfMsg) {
        if from == EXTERNAL {
            return;
        }
        match msg {
            LfMsg::Append {
                epoch,
                prev,
                prev_epoch,
                entries,
                commit,
                sent,
            } => self.on_append(ctx, from, epoch, prev, prev_epoch, entries, commit, sent),
            LfMsg::AppendAck {
                epoch,
                ok,
                len,
                sent,
            } => self.on_append_ack(ctx, from, epoch, ok, len, sent),
            LfMsg::Propose { epoch } => self.on_propose(ctx, from, epoch),
            LfMsg::Support { epoch, log } => self.on_support(ctx, from, epoch, log),
            _ => ctx.count("unexpected messages"),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: LfTimer) {
        self.tick(ctx);
    }

    fn label(msg: &LfMsg) -> String {
        msg.short()
    }
}
