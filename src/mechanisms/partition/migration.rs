//! Moving keys to a new node while clients write them: three hand-offs.
//!
//! When a node joins, the keys it takes over must travel from their old
//! owners, and clients keep writing while they do. What decides whether an
//! acknowledged write survives is *who accepts writes for a key while it
//! travels*:
//!
//! - [`Handoff::CopyThenSwitch`]: the old owner copies each key to the new
//!   node, keeps accepting its writes, and everyone switches to the new
//!   ring when the copy is done. A write the old owner acknowledges after it
//!   copied the key is never copied: **lost**, though the client was told it
//!   succeeded.
//! - [`Handoff::CopyThenForward`]: the same copy, but after copying a key
//!   the old owner also sends each new write of it to the new node (the
//!   catch-up that real systems do by shipping their log). Nothing is lost;
//!   it costs a message per write to a copied key until the switch.
//! - [`Handoff::KeyByKey`]: ownership moves with the key. Everyone switches
//!   at the join; an old owner stops accepting a key's writes the moment it
//!   sends the key, and the new owner holds the writes for a key still on
//!   its way until it arrives. Nothing is lost; writers of a key in flight
//!   wait (and give up after their timeout).
//!
//! A key's value is the set of ids of the writes applied to it (a
//! list-append register, as in Jepsen's list-append test), so a lost write
//! is exactly an acknowledged id missing at the key's final owner.

use crate::partition::{ConsistentHash, NodeName, Partitioner};
use crate::sim::client::Request;
use crate::sim::time::SimDuration;
use crate::sim::{Ctx, Node, NodeId};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Who accepts a key's writes while the key moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Handoff {
    /// Copy every key, then switch everyone to the new ring.
    CopyThenSwitch,
    /// Copy, forward writes of copied keys to the new node, then switch.
    CopyThenForward,
    /// Move ownership with each key; park writes of keys in flight.
    KeyByKey,
}

impl Handoff {
    /// All three, in the order of the table.
    pub const ALL: [Handoff; 3] = [
        Handoff::CopyThenSwitch,
        Handoff::CopyThenForward,
        Handoff::KeyByKey,
    ];

    /// A short name for tables and legends.
    pub fn label(self) -> &'static str {
        match self {
            Handoff::CopyThenSwitch => "copy, then switch",
            Handoff::CopyThenForward => "copy + forward writes",
            Handoff::KeyByKey => "key by key",
        }
    }

    /// True when clients and nodes switch to the new ring at the end of
    /// the copy rather than at the join.
    pub fn switches_late(self) -> bool {
        self != Handoff::KeyByKey
    }
}

/// The messages (and requests and replies).
#[derive(Debug, Clone)]
pub enum Msg {
    /// A client appends write `id` to key `key`.
    Put {
        /// The key.
        key: u64,
        /// The write's id, unique in the run.
        id: u64,
    },
    /// The reply: the write is applied.
    Ack,
    /// An old owner sends a key and its value to the new node.
    Transfer(u64, Vec<u64>),
    /// An old owner passes a write of a copied key on to the new node.
    Replicate {
        /// The key.
        key: u64,
        /// The write's id.
        id: u64,
    },
    /// A request passed on to the key's owner.
    Forward(Request, u64, u64),
}

/// Timers.
#[derive(Debug, Clone)]
pub enum Timer {
    /// The new node joins now: start sending keys.
    Join,
    /// Send the next key of the outbox.
    SendNext,
    /// Everyone moves to the new ring now (the late-switching hand-offs).
    Switch,
}

/// A storage node of a migration.
#[derive(Debug, Clone)]
pub struct MigrationStore {
    old: Arc<ConsistentHash>,
    new: Arc<ConsistentHash>,
    joiner: NodeId,
    handoff: Handoff,
    join_at: SimDuration,
    switch_at: SimDuration,
    gap: SimDuration,
    /// Whether this node accepts writes of each key (it owns the key and
    /// holds it).
    accepts: Vec<bool>,
    /// Whether this node has copied each key to the new node.
    copied: Vec<bool>,
    /// The ids of the writes applied to each key here.
    pub values: Vec<Vec<u64>>,
    on_new_ring: bool,
    outbox: Vec<u64>,
    parked: BTreeMap<u64, Vec<(Request, u64)>>,
    /// Writes passed on to the new node after their key was copied.
    pub replicated: usize,
    /// Requests forwarded to another node.
    pub forwarded: usize,
}

impl MigrationStore {
    /// Node `id` of `old.len()`-node cluster joined by node `joiner`: it
    /// holds the keys `0..keys` that `old` gives it, starts sending the ones
    /// `new` moves at `join_at`, one every `gap`, and (late-switching
    /// hand-offs) moves to the new ring at `switch_at`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: NodeId,
        joiner: NodeId,
        keys: usize,
        old: &Arc<ConsistentHash>,
        new: &Arc<ConsistentHash>,
        handoff: Handoff,
        join_at: SimDuration,
        switch_at: SimDuration,
        gap: SimDuration,
    ) -> MigrationStore {
        MigrationStore {
            old: Arc::clone(old),
            new: Arc::clone(new),
            joiner,
            handoff,
            join_at,
            switch_at,
            gap,
            accepts: (0..keys as u64)
                .map(|k| id != joiner && old.node_for(k) == id)
                .collect(),
            copied: vec![false; keys],
            values: vec![Vec::new(); keys],
            on_new_ring: false,
            outbox: Vec::new(),
            parked: BTreeMap::new(),
            replicated: 0,
            forwarded: 0,
        }
    }

    fn owner(&self, key: u64) -> NodeName {
        if self.on_new_ring {
            self.new.node_for(key)
        } else {
            self.old.node_for(key)
        }
    }

    /// A write arrives (from a client, or forwarded once by a node that
    /// does not own its key).
    fn on_put(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        req: Request,
        key: u64,
        id: u64,
        forwarded: bool,
    ) {
        let k = key as usize;
        if k >= self.accepts.len() {
            // Not a key of this store (a message injected by hand): refuse
            // it rather than index past the end.
            ctx.reply_failed(req, Msg::Put { key, id });
        } else if self.accepts[k] {
            self.values[k].push(id);
            let old_owner = ctx.id() != self.joiner;
            if old_owner && self.copied[k] && self.handoff == Handoff::CopyThenForward {
                // The copy is already sent: pass the write on too.
                self.replicated += 1;
                ctx.send(self.joiner, Msg::Replicate { key, id });
            }
            ctx.reply(req, Msg::Ack);
        } else if self.owner(key) == ctx.id() {
            // Ours, still on its way here: hold the write until it arrives.
            self.parked.entry(key).or_default().push((req, id));
        } else if !forwarded {
            self.forwarded += 1;
            let to = self.owner(key);
            ctx.send(to, Msg::Forward(req, key, id));
        } else {
            ctx.reply_failed(req, Msg::Put { key, id });
        }
    }

    /// The keys of this node the new ring gives the joiner, in key order.
    fn leaving(&self, me: NodeId) -> Vec<u64> {
        (0..self.accepts.len() as u64)
            .filter(|&k| self.accepts[k as usize] && self.new.node_for(k) != me)
            .rev()
            .collect()
    }
}

impl Node for MigrationStore {
    type Msg = Msg;
    type Timer = Timer;
    type Disk = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(self.join_at, Timer::Join);
        if self.handoff.switches_late() {
            ctx.set_timer(self.switch_at, Timer::Switch);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match timer {
            Timer::Join => {
                self.outbox = self.leaving(ctx.id());
                if !self.handoff.switches_late() {
                    self.on_new_ring = true;
                }
                if !self.outbox.is_empty() {
                    ctx.set_timer(self.gap, Timer::SendNext);
                }
            }
            Timer::SendNext => {
                if let Some(k) = self.outbox.pop() {
                    let i = k as usize;
                    if self.handoff == Handoff::KeyByKey {
                        // Ownership leaves with the key.
                        self.accepts[i] = false;
                    }
                    self.copied[i] = true;
                    let value = self.values[i].clone();
                    ctx.send(self.joiner, Msg::Transfer(k, value));
                }
                if !self.outbox.is_empty() {
                    ctx.set_timer(self.gap, Timer::SendNext);
                }
            }
            Timer::Switch => {
                self.on_new_ring = true;
                let me = ctx.id();
                for k in 0..self.accepts.len() {
                    self.accepts[k] =
                        self.new.node_for(k as u64) == me && (me != self.joiner || self.copied[k]);
                }
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: Msg) {
        if let Msg::Put { key, id } = msg {
            self.on_put(ctx, req, key, id, false);
        } else {
            ctx.reply_failed(req, msg);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: Msg) {
        match msg {
            Msg::Transfer(k, _) | Msg::Replicate { key: k, .. }
                if k as usize >= self.values.len() => {}
            Msg::Transfer(k, value) => {
                let i = k as usize;
                let v = &mut self.values[i];
                v.extend(value);
                v.sort_unstable();
                v.dedup();
                // On the joiner `copied` means "its copy arrived".
                self.copied[i] = true;
                if self.on_new_ring {
                    self.accepts[i] = true;
                }
                for (req, id) in self.parked.remove(&k).unwrap_or_default() {
                    self.values[i].push(id);
                    ctx.reply(req, Msg::Ack);
                }
            }
            Msg::Replicate { key, id } => self.values[key as usize].push(id),
            Msg::Forward(req, key, id) => self.on_put(ctx, req, key, id, true),
            _ => {}
        }
    }
}
