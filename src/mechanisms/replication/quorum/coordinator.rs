//! The coordinator side of a leaderless node: one [`Op`] per client
//! request, driven by replies, acknowledgements and timers.
//!
//! A write (`Put`) goes through `Query` first under read-first versioning
//! (ask R replicas for the newest stamp), then `Write` (send to the N
//! replicas, answer after W acknowledgements). A read (`Get`) is in `Read`
//! (ask all N; the read rule decides when to answer), then, if the rule
//! asks for it, `Repair` (write the answer back until W replicas hold it).
//! An answered request is kept until every replica replied or the timeout,
//! for background read repair and hinted handoff.

use super::super::version::{Stamp, Stored, Version, VersionVector, Versioned};
use super::super::{Key, Value};
use super::node::{QTimer, QuorumNode};
use super::read_rule::{Answer, ReadStep, ReadView};
use super::{QMsg, ReadRepair, Versioning};
use crate::sim::{Ctx, NodeId, Request};

/// Where a request is.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Phase {
    /// Read-first write: collecting stamps; writes `value` next.
    Query { value: Value },
    /// Writing `stored`.
    Write,
    /// Reading.
    Read,
    /// Writing back the answer before returning it.
    Repair,
}

/// One request this node coordinates.
#[derive(Debug, Clone)]
pub(crate) struct Op {
    req: Request,
    key: Key,
    phase: Phase,
    /// The key's N replicas.
    targets: Vec<NodeId>,
    /// Read replies, in arrival order.
    replies: Vec<Answer>,
    /// Replicas holding what is being written (directly or by a hint).
    acked: Vec<NodeId>,
    /// (fallback, replica it stands in for).
    hinted: Vec<(NodeId, NodeId)>,
    /// What is written (Write, Repair) or was answered (Read).
    stored: Stored,
    answered: bool,
}

impl Op {
    fn new(req: Request, key: Key, phase: Phase, targets: Vec<NodeId>) -> Op {
        Op {
            req,
            key,
            phase,
            targets,
            replies: Vec::new(),
            acked: Vec::new(),
            hinted: Vec::new(),
            stored: Stored::default(),
            answered: false,
        }
    }
    fn replied(&self, node: NodeId) -> bool {
        self.replies.iter().any(|a| a.node == node)
    }
}

impl QuorumNode {
    fn fresh_rid(&mut self) -> u64 {
        self.next_rid = self.next_rid.wrapping_add(1);
        self.next_rid
    }

    /// A client's write arrives.
    pub(super) fn start_put(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        req: Request,
        key: Key,
        value: Value,
        context: Option<VersionVector>,
    ) {
        let rid = self.fresh_rid();
        let targets = self.cfg.replicas(key);
        ctx.set_timer(self.cfg.timeout, QTimer::Deadline(rid));
        let me = ctx.id();
        let version = match self.cfg.versions {
            Versioning::ReadFirst => {
                self.ops
                    .insert(rid, Op::new(req, key, Phase::Query { value }, targets));
                self.ask(ctx, rid);
                return;
            }
            Versioning::Lww => Version::Stamp(Stamp {
                time: Self::clock(ctx),
                node: me,
            }),
            Versioning::Siblings => {
                let mut vv = context.unwrap_or_default();
                let c = vv.get(me).max(ctx.disk().issued) + 1;
                vv.raise(me, c);
                ctx.disk().issued = c;
                Version::Vector(vv)
            }
        };
        let mut op = Op::new(req, key, Phase::Write, targets);
        op.stored.merge(&Versioned { version, value });
        self.ops.insert(rid, op);
        self.send_writes(ctx, rid);
    }

    /// A client's read arrives.
    pub(super) fn start_get(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, key: Key) {
        let rid = self.fresh_rid();
        let targets = self.cfg.replicas(key);
        ctx.set_timer(self.cfg.timeout, QTimer::Deadline(rid));
        self.ops
            .insert(rid, Op::new(req, key, Phase::Read, targets));
        self.ask(ctx, rid);
    }

    /// The time on this node's own clock (which may be skewed: see
    /// [`crate::sim::clock`]), for last-writer-wins stamps.
    pub(super) fn clock(ctx: &mut Ctx<'_, Self>) -> u64 {
        ctx.local_now().as_nanos()
    }

    /// Sends a read to every target (answering itself at once).
    fn ask(&mut self, ctx: &mut Ctx<'_, Self>, rid: u64) {
        let Some(op) = self.ops.get(&rid) else { return };
        let (key, targets) = (op.key, op.targets.clone());
        let me = ctx.id();
        for &t in &targets {
            if t != me {
                ctx.send(t, QMsg::Read { rid, key });
            }
        }
        if targets.contains(&me) {
            let stored = Self::held(ctx, key);
            self.on_read_reply(ctx, me, rid, stored);
        }
    }

    /// Sends what `rid` writes to every target that does not hold it yet
    /// (storing it at once when this node is one).
    fn send_writes(&mut self, ctx: &mut Ctx<'_, Self>, rid: u64) {
        let Some(op) = self.ops.get(&rid) else { return };
        let (key, stored) = (op.key, op.stored.clone());
        let pending: Vec<NodeId> = op
            .targets
            .iter()
            .copied()
            .filter(|t| !op.acked.contains(t))
            .collect();
        let me = ctx.id();
        for &t in &pending {
            if t != me {
                let msg = QMsg::Write {
                    rid,
                    key,
                    stored: stored.clone(),
                    hint: None,
                };
                ctx.send(t, msg);
            }
        }
        if self.cfg.hinted_handoff {
            ctx.set_timer(self.cfg.handoff_after, QTimer::Handoff(rid));
        }
        if pending.contains(&me) {
            Self::store(ctx, key, &stored);
            self.on_ack(ctx, me, rid);
        }
    }

    /// A replica (or a fallback) acknowledged a write.
    pub(super) fn on_ack(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, rid: u64) {
        let w = self.cfg.w;
        let Some(op) = self.ops.get_mut(&rid) else {
            return;
        };
        if !matches!(op.phase, Phase::Write | Phase::Repair) {
            return;
        }
        let replica = if op.targets.contains(&from) {
            Some(from)
        } else {
            op.hinted.iter().find(|(f, _)| *f == from).map(|&(_, t)| t)
        };
        if let Some(t) = replica {
            if !op.acked.contains(&t) {
                op.acked.push(t);
            }
        }
        if !op.answered && op.acked.len() >= w {
            op.answered = true;
            let reply = match op.phase {
                Phase::Repair => got(&op.stored),
                _ => QMsg::PutOk {
                    version: op.stored.versions()[0].version.clone(),
                },
            };
            ctx.reply(op.req, reply);
        }
        self.retire_if_done(rid);
    }

    /// A replica answered a read (of a `Get`, or of a read-first `Put`).
    pub(super) fn on_read_reply(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        rid: u64,
        stored: Stored,
    ) {
        let cfg = self.cfg.clone();
        let Some(op) = self.ops.get_mut(&rid) else {
            return;
        };
        if op.replied(from) || !op.targets.contains(&from) {
            return;
        }
        op.replies.push(Answer { node: from, stored });
        match op.phase.clone() {
            Phase::Query { value } if op.replies.len() >= cfg.r => {
                let me = ctx.id();
                let top = op
                    .replies
                    .iter()
                    .filter_map(|a| a.stored.newest().and_then(|v| v.stamp()))
                    .map(|s| s.time)
                    .max()
                    .unwrap_or(0);
                let time = top.max(ctx.disk().issued) + 1;
                ctx.disk().issued = time;
                let version = Version::Stamp(Stamp { time, node: me });
                op.phase = Phase::Write;
                op.stored = Stored::default();
                op.stored.merge(&Versioned { version, value });
                self.send_writes(ctx, rid);
            }
            Phase::Read if !op.answered => self.decide(ctx, rid),
            Phase::Repair
                if op
                    .replies
                    .last()
                    .is_some_and(|a| a.stored.covers(&op.stored)) =>
            {
                self.on_ack(ctx, from, rid);
            }
            Phase::Read | Phase::Repair => {
                if cfg.repair == ReadRepair::Background && op.answered {
                    self.repair_in_background(ctx, rid);
                }
                self.retire_if_done(rid);
            }
            _ => {}
        }
    }

    /// Asks the read rule what to do with the replies so far.
    fn decide(&mut self, ctx: &mut Ctx<'_, Self>, rid: u64) {
        let cfg = self.cfg.clone();
        let rule = cfg.rule();
        let Some(op) = self.ops.get_mut(&rid) else {
            return;
        };
        let view = ReadView {
            n: cfg.n,
            r: cfg.r,
            w: cfg.w,
            replies: &op.replies,
        };
        let step = rule(&view);
        let (i, repair) = match step {
            ReadStep::Wait => return,
            ReadStep::Return(i) => (i, false),
            ReadStep::RepairThenReturn(i) => (i, true),
        };
        if i >= op.replies.len() {
            ctx.count("read rule: no such reply");
            op.answered = true;
            ctx.reply_failed(op.req, QMsg::Unavailable);
            self.ops.remove(&rid);
            return;
        }
        op.stored = if cfg.versions == Versioning::Siblings {
            let mut all = Stored::default();
            for a in &op.replies {
                all.merge_all(&a.stored);
            }
            all
        } else {
            op.replies[i].stored.clone()
        };
        if repair && !op.stored.is_empty() {
            op.phase = Phase::Repair;
            let holding: Vec<NodeId> = op
                .replies
                .iter()
                .filter(|a| a.stored.covers(&op.stored))
                .map(|a| a.node)
                .collect();
            op.acked = holding;
            if op.acked.len() >= cfg.w {
                op.answered = true;
                ctx.reply(op.req, got(&op.stored));
            } else {
                ctx.count("read repairs (blocking)");
                self.send_writes(ctx, rid);
            }
        } else {
            op.answered = true;
            ctx.reply(op.req, got(&op.stored));
            if cfg.repair == ReadRepair::Background {
                self.repair_in_background(ctx, rid);
            }
        }
        self.retire_if_done(rid);
    }

    /// Once every replica answered: writes the merge of all replies to
    /// those that answered with less.
    fn repair_in_background(&mut self, ctx: &mut Ctx<'_, Self>, rid: u64) {
        let Some(op) = self.ops.get(&rid) else { return };
        if op.replies.len() < op.targets.len() {
            return;
        }
        let mut best = Stored::default();
        for a in &op.replies {
            best.merge_all(&a.stored);
        }
        let key = op.key;
        let stale: Vec<NodeId> = op
            .replies
            .iter()
            .filter(|a| !a.stored.covers(&best))
            .map(|a| a.node)
            .collect();
        let me = ctx.id();
        for t in stale {
            ctx.count("read repairs (background)");
            if t == me {
                Self::store(ctx, key, &best);
            } else {
                let msg = QMsg::Write {
                    rid: 0,
                    key,
                    stored: best.clone(),
                    hint: None,
                };
                ctx.send(t, msg);
            }
        }
        self.ops.remove(&rid);
    }

    /// Writes to fallbacks for the replicas that have not acknowledged.
    pub(super) fn handoff(&mut self, ctx: &mut Ctx<'_, Self>, rid: u64) {
        let cfg = self.cfg.clone();
        let Some(op) = self.ops.get_mut(&rid) else {
            return;
        };
        if !matches!(op.phase, Phase::Write | Phase::Repair) {
            return;
        }
        let missing: Vec<NodeId> = op
            .targets
            .iter()
            .copied()
            .filter(|t| !op.acked.contains(t) && !op.hinted.iter().any(|h| h.1 == *t))
            .collect();
        let used: Vec<NodeId> = op.hinted.iter().map(|h| h.0).collect();
        let mut free = cfg
            .fallbacks(op.key)
            .into_iter()
            .filter(|f| !used.contains(f));
        let me = ctx.id();
        let mut local = Vec::new();
        for t in missing {
            let Some(f) = free.next() else { break };
            op.hinted.push((f, t));
            if f == me {
                local.push(t);
            } else {
                let msg = QMsg::Write {
                    rid,
                    key: op.key,
                    stored: op.stored.clone(),
                    hint: Some(t),
                };
                ctx.send(f, msg);
            }
        }
        let (key, stored) = (op.key, op.stored.clone());
        for t in local {
            let id = crate::sim::rng::mix64(rid ^ t as u64 ^ ctx.now().as_nanos());
            ctx.disk().hints.insert(
                id,
                super::node::Hint {
                    target: t,
                    key,
                    stored: stored.clone(),
                },
            );
            ctx.sync("hint");
            ctx.count("hints stored");
            self.on_ack(ctx, me, rid);
        }
    }

    /// The coordinator's timeout: answer if not yet, and forget the request.
    pub(super) fn deadline(&mut self, ctx: &mut Ctx<'_, Self>, rid: u64) {
        let Some(op) = self.ops.remove(&rid) else {
            return;
        };
        if !op.answered {
            match op.phase {
                Phase::Write => ctx.reply(op.req, QMsg::MaybeApplied),
                Phase::Query { .. } | Phase::Read | Phase::Repair => {
                    ctx.reply_failed(op.req, QMsg::Unavailable)
                }
            }
        } else if self.cfg.repair == ReadRepair::Background && op.phase == Phase::Read {
            // Not every replica answered: repair those that did.
            let mut op = op;
            op.targets
                .retain(|t| op.replies.iter().any(|a| a.node == *t));
            self.ops.insert(rid, op);
            self.repair_in_background(ctx, rid);
            self.ops.remove(&rid);
        }
    }

    /// Drops an answered request once nothing more can happen to it.
    fn retire_if_done(&mut self, rid: u64) {
        let Some(op) = self.ops.get(&rid) else { return };
        if !op.answered {
            return;
        }
        let done = match op.phase {
            Phase::Write | Phase::Repair => {
                !self.cfg.hinted_handoff || op.acked.len() >= op.targets.len()
            }
            Phase::Read => {
                self.cfg.repair != ReadRepair::Background || op.replies.len() >= op.targets.len()
            }
            Phase::Query { .. } => false,
        };
        if done {
            self.ops.remove(&rid);
        }
    }
}

/// The client's answer for what a read returns.
fn got(stored: &Stored) -> QMsg {
    let siblings = stored.values();
    let newest = stored.newest();
    let (value, version) = match (newest, stored.versions().len()) {
        (None, _) => (0, None),
        (Some(v), 1) => (v.value, Some(v.version.clone())),
        (Some(_), _) => (
            siblings.iter().copied().max().unwrap_or(0),
            Some(Version::Vector(stored.context())),
        ),
    };
    QMsg::Got {
        value,
        siblings,
        version,
    }
}
