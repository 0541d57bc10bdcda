//! A leaderless node: the replica side (store, hints, anti-entropy) and
//! the dispatch of messages and timers; the coordinator side is in
//! `coordinator.rs`.

use super::super::version::Stored;
use super::super::Key;
use super::coordinator::Op;
use super::{QMsg, Quorum};
use crate::sim::rng;
use crate::sim::{Ctx, Node, NodeId, Request, EXTERNAL};
use rand_core::RngCore;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A write a fallback node keeps for a replica that did not answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hint {
    /// The replica it is meant for.
    pub target: NodeId,
    /// The key.
    pub key: Key,
    /// The versions to hand over.
    pub stored: Stored,
}

/// A node's durable state: its store, its hints and the last version
/// counter it issued.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuorumDisk {
    /// Key → what this replica holds.
    pub store: imbl::OrdMap<Key, Stored>,
    /// Hint id → hint, for writes kept on behalf of other replicas.
    pub hints: imbl::OrdMap<u64, Hint>,
    /// The last counter this node used in a version (read-first stamps,
    /// version vectors): never reused, even after a crash.
    pub issued: u64,
}

/// A leaderless node's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QTimer {
    /// A request's coordinator gives up.
    Deadline(u64),
    /// Replicas of a write that have not acknowledged get fallbacks.
    Handoff(u64),
    /// Try to hand every hint over.
    HintRetry,
    /// Send the store to a random peer.
    AntiEntropy,
}

/// One node of a leaderless cluster; see the [module docs](super).
#[derive(Debug, Clone)]
pub struct QuorumNode {
    pub(super) cfg: Arc<Quorum>,
    /// Request ids start at a random base per incarnation, so a reply to a
    /// request from before a crash is never taken for a new one's.
    pub(super) next_rid: u64,
    /// Requests this node coordinates, by id.
    pub(super) ops: BTreeMap<u64, Op>,
}

impl QuorumNode {
    /// A node with these settings (use [`Quorum::nodes`]).
    pub fn new(cfg: Arc<Quorum>) -> QuorumNode {
        QuorumNode {
            cfg,
            next_rid: 0,
            ops: BTreeMap::new(),
        }
    }
    /// The settings.
    pub fn config(&self) -> &Quorum {
        &self.cfg
    }
    /// Requests in progress at this node as coordinator.
    pub fn in_progress(&self) -> usize {
        self.ops.len()
    }

    /// Merges `stored` into this replica's copy of `key` and syncs if it
    /// changed.
    pub(super) fn store(ctx: &mut Ctx<'_, Self>, key: Key, stored: &Stored) {
        let disk = ctx.disk();
        let changed = match disk.store.get_mut(&key) {
            Some(s) => s.merge_all(stored),
            None => {
                disk.store.insert(key, stored.clone());
                true
            }
        };
        if changed {
            ctx.sync("store");
        }
    }

    /// What this replica holds for `key`.
    pub(super) fn held(ctx: &mut Ctx<'_, Self>, key: Key) -> Stored {
        ctx.disk().store.get(&key).cloned().unwrap_or_default()
    }

    fn on_write(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        rid: u64,
        key: Key,
        stored: Stored,
        hint: Option<NodeId>,
    ) {
        match hint {
            Some(target) if target != ctx.id() => {
                let id = rng::mix64(ctx.rng().next_u64());
                ctx.disk().hints.insert(
                    id,
                    Hint {
                        target,
                        key,
                        stored,
                    },
                );
                ctx.sync("hint");
                ctx.count("hints stored");
            }
            _ => Self::store(ctx, key, &stored),
        }
        ctx.send(from, QMsg::WriteAck { rid });
    }

    fn hand_over(&mut self, ctx: &mut Ctx<'_, Self>) {
        let hints: Vec<(u64, Hint)> = ctx
            .disk()
            .hints
            .iter()
            .map(|(k, h)| (*k, h.clone()))
            .collect();
        for (id, h) in hints {
            ctx.send(
                h.target,
                QMsg::Handoff {
                    id,
                    key: h.key,
                    stored: h.stored,
                },
            );
        }
        ctx.set_timer(self.cfg.hint_every, QTimer::HintRetry);
    }

    fn gossip(&mut self, ctx: &mut Ctx<'_, Self>) {
        let n = ctx.cluster_size();
        if n > 1 {
            let mut to = rng::index(ctx.rng(), n - 1);
            if to >= ctx.id() {
                to += 1;
            }
            let store = ctx.disk().store.clone();
            ctx.send(to, QMsg::Gossip { store });
        }
        if let Some(p) = self.cfg.anti_entropy {
            ctx.set_timer(p, QTimer::AntiEntropy);
        }
    }

    fn merge_gossip(&mut self, ctx: &mut Ctx<'_, Self>, store: imbl::OrdMap<Key, Stored>) {
        let me = ctx.id();
        let mut changed = false;
        for (key, s) in store.iter() {
            if !self.cfg.replicas(*key).contains(&me) {
                continue;
            }
            let disk = ctx.disk();
            changed |= match disk.store.get_mut(key) {
                Some(mine) => mine.merge_all(s),
                None => {
                    disk.store.insert(*key, s.clone());
                    true
                }
            };
        }
        if changed {
            ctx.sync("anti-entropy");
            ctx.count("anti-entropy merges");
        }
    }
}

impl Node for QuorumNode {
    type Msg = QMsg;
    type Timer = QTimer;
    type Disk = QuorumDisk;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.next_rid = ctx.rng().next_u64() >> 16 << 16;
        if self.cfg.hinted_handoff {
            ctx.set_timer(self.cfg.hint_every, QTimer::HintRetry);
        }
        if let Some(p) = self.cfg.anti_entropy {
            let first = crate::sim::SimDuration(rng::index(ctx.rng(), p.0.max(1) as usize) as u64);
            ctx.set_timer(first, QTimer::AntiEntropy);
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: QMsg) {
        match msg {
            QMsg::Put {
                key,
                value,
                context,
            } => self.start_put(ctx, req, key, value, context),
            QMsg::Get { key } => self.start_get(ctx, req, key),
            other => {
                ctx.count("requests not understood");
                ctx.reply_failed(req, other);
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: QMsg) {
        if from == EXTERNAL {
            return;
        }
        match msg {
            QMsg::Write {
                rid,
                key,
                stored,
                hint,
            } => self.on_write(ctx, from, rid, key, stored, hint),
            QMsg::Read { rid, key } => {
                let stored = Self::held(ctx, key);
                ctx.send(from, QMsg::ReadReply { rid, stored });
            }
            QMsg::WriteAck { rid } => self.on_ack(ctx, from, rid),
            QMsg::ReadReply { rid, stored } => self.on_read_reply(ctx, from, rid, stored),
            QMsg::Handoff { id, key, stored } => {
                Self::store(ctx, key, &stored);
                ctx.send(from, QMsg::HandoffAck { id });
            }
            QMsg::HandoffAck { id } => {
                if ctx.disk().hints.remove(&id).is_some() {
                    ctx.sync("hint handed over");
                    ctx.count("hints handed over");
                }
            }
            QMsg::Gossip { store } => self.merge_gossip(ctx, store),
            _ => ctx.count("unexpected messages"),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: QTimer) {
        match timer {
            QTimer::Deadline(rid) => self.deadline(ctx, rid),
            QTimer::Handoff(rid) => self.handoff(ctx, rid),
            QTimer::HintRetry => self.hand_over(ctx),
            QTimer::AntiEntropy => self.gossip(ctx),
        }
    }

    fn label(msg: &QMsg) -> String {
        msg.short()
    }
}
