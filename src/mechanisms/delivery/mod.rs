//! Message delivery and processing: at-most-once and at-least-once senders,
//! and receivers that process every copy or deduplicate by idempotence key.
//!
//! ## Why there is no exactly-once *delivery*
//! A sender learns that a message arrived only from an acknowledgement, and
//! the acknowledgement travels over the same lossy network. When no ack comes
//! back, the sender cannot tell a lost message from a lost ack (or a slow
//! one). It has two choices, and each gives up one half of "exactly once":
//!
//! * **at-most-once** ([`Sender::at_most_once`]): send once, never resend. A
//!   lost message stays lost (with loss probability `p`, a fraction `p` of
//!   the messages is never processed), but the sender itself never causes a
//!   second copy.
//! * **at-least-once** ([`Sender::at_least_once`]): resend until an ack
//!   arrives (here: every [`Resend::interval`], at most
//!   [`Resend::max_attempts`] sends). A message is lost only if every attempt
//!   is lost (`p^k` for `k` attempts), but a lost *ack* makes the sender
//!   resend a message that was already delivered: duplicates are the price.
//!
//! The network can also duplicate a message by itself, so even a sender that
//! never resends can see its message arrive twice.
//!
//! ## Exactly-once *processing*
//! What applications want is that the *effect* of each message happens once.
//! That is achievable: **at-least-once delivery + idempotent processing**.
//! Every message carries an idempotence key (here the pair sender id and
//! [`MsgId`]); a [`Receiver`] with a deduplication store remembers the keys
//! it processed and skips a copy whose key it has seen, but still acks it
//! (the first ack may have been the one that was lost, and without a new ack
//! the sender resends until it gives up).
//!
//! The store must be as durable as the effect. The effect itself (the
//! record of what was processed) is on the receiver's disk
//! ([`ReceiverDisk`]). A [`DedupStore::Durable`] store keeps its keys there
//! too, written and synced with the effect, as if in one transaction. A
//! [`DedupStore::Volatile`] store keeps them in the receiver's memory: after
//! a restart the receiver has forgotten which keys it processed, and a
//! resend of a message processed just before the crash is processed again.
//! A [`DedupStore::Window`] keeps only the most recent keys, on disk, and a
//! [`DedupStore::Expiring`] store forgets a key a fixed time after it was
//! processed (real deduplication windows expire keys after a count or a
//! time); a copy that arrives after its key left the window is processed
//! again.
//!
//! The key must be stored **atomically with the effect**. By default
//! ([`KeyWrite::Atomic`]) the receiver writes the effect and the key, then
//! syncs once: a crash between two events never splits them, and a crash
//! *at* that sync (a crash point) loses both together, so the resend is
//! processed once. Synced one after the other ([`KeyWrite::EffectThenKey`],
//! [`KeyWrite::KeyThenEffect`]), a crash between the two syncs leaves an
//! effect without its key (the resend is processed again) or a key without
//! its effect (the resend is skipped: the message is lost). Chapter 5
//! (transactions) is about what it takes when the writes cannot share one
//! sync.
//!
//! ## Using the components
//! A node owns a [`Sender`] or a [`Receiver`] (or both) and forwards the
//! matching events to it: its message type must be convertible from
//! [`Wire`], a sender's timers come back as [`ResendTimer`]s
//! (`N::Timer: From<ResendTimer>`), and a receiver's durable part lives on
//! the node's disk (`N::Disk: AsMut<ReceiverDisk>`). See `ch04::delivery`
//! for a complete pair of nodes.
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::delivery::{Receiver, ReceiverDisk, DedupStore, Resend, ResendTimer, Sender, Wire};
//!
//! #[derive(Clone)]
//! enum Role { Client(Sender<u32>), Server(Receiver) }
//! impl Node for Role {
//!     type Msg = Wire<u32>;
//!     type Timer = ResendTimer;
//!     type Disk = ReceiverDisk;
//!     fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Wire<u32>) {
//!         match (self, msg) {
//!             (Role::Client(s), Wire::Ack { id }) => { s.on_ack(ctx, id); }
//!             (Role::Server(r), Wire::Data { id, want_ack, payload, .. }) => {
//!                 if let Some(_payload) = r.on_data(ctx, from, id, want_ack, payload) {
//!                     // apply the effect here
//!                 }
//!             }
//!             _ => {}
//!         }
//!     }
//!     fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, t: ResendTimer) {
//!         if let Role::Client(s) = self { s.on_timer(ctx, t); }
//!     }
//! }
//!
//! let link = LinkConfig::new(Latency::constant(ms(5))).loss(0.3);
//! let client = Role::Client(Sender::at_least_once(Resend::new(ms(20), 20)?));
//! let server = Role::Server(Receiver::new(DedupStore::Durable));
//! let mut sim = Sim::builder().seed(3).link(link).build(vec![client, server])?;
//! for n in 0..10 {
//!     sim.with_node(0, |node, ctx| if let Role::Client(s) = node { s.send(ctx, 1, n); })?;
//! }
//! sim.run_to_end()?;
//! let effects = sim.disk(1)?.synced();
//! assert_eq!(effects.log().len(), 10);          // every message, once
//! assert_eq!(effects.processed_more_than_once(), 0);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use crate::check::{PropertyKind, Verdict};
use crate::error::{check_probability, Error, Result};
use crate::sim::metrics::Counters;
use crate::sim::net::NodeId;
use crate::sim::node::{Node, TimerId};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::Ctx;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A message id, unique per sender (0, 1, 2, ...). Together with the
/// sender's node id it is the message's idempotence key.
pub type MsgId = u64;

/// An idempotence key: the sender's node id and its message id.
pub type Key = (NodeId, MsgId);

/// The timer a [`Sender`] sets to resend message `id` if no ack has come:
/// a node that owns a sender gives its timer type a variant for it
/// (`impl From<ResendTimer> for MyTimer`) and hands it back to
/// [`Sender::on_timer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResendTimer(pub MsgId);

/// What travels on the wire between a [`Sender`] and a [`Receiver`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Wire<P> {
    /// A message (one attempt of it).
    Data {
        /// The message id (the idempotence key, with the sender's node id).
        id: MsgId,
        /// 0 for the first send, 1 for the first resend, ...
        attempt: u32,
        /// True if the sender waits for an ack (at-least-once).
        want_ack: bool,
        /// The application payload.
        payload: P,
    },
    /// "I have message `id`" from the receiver.
    Ack {
        /// The message acknowledged.
        id: MsgId,
    },
}

impl<P> Wire<P> {
    /// A short label for traces and message diagrams: `m3`, `m3 resend 1`,
    /// `ack m3`.
    pub fn label(&self) -> String {
        match self {
            Wire::Data { id, attempt: 0, .. } => format!("m{id}"),
            Wire::Data { id, attempt, .. } => format!("m{id} resend {attempt}"),
            Wire::Ack { id } => format!("ack m{id}"),
        }
    }
}

/// The delivery guarantee a [`Sender`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Semantics {
    /// Send once, never resend: no sender-made duplicates, losses stay lost.
    AtMostOnce,
    /// Resend until acknowledged (within the attempt limit): losses are
    /// repaired, duplicates appear.
    AtLeastOnce,
}

impl Semantics {
    /// "at-most-once" or "at-least-once".
    pub fn name(self) -> &'static str {
        match self {
            Semantics::AtMostOnce => "at-most-once",
            Semantics::AtLeastOnce => "at-least-once",
        }
    }
}

/// When an at-least-once sender resends: a fixed interval, a limit on the
/// number of sends. Deliberately simple (no backoff, no jitter: those are
/// chapter 3's retry policies); the interval should exceed the longest
/// round trip, or the sender resends messages whose ack is merely slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Resend {
    /// Time between two sends of the same unacknowledged message.
    pub interval: SimDuration,
    /// Most sends of one message, the first included (at least 1).
    pub max_attempts: u32,
}

impl Resend {
    /// A resend policy; errors on a zero interval or zero attempts.
    pub fn new(interval: SimDuration, max_attempts: u32) -> Result<Resend> {
        let r = Resend {
            interval,
            max_attempts,
        };
        r.validate()?;
        Ok(r)
    }

    /// Checks a policy built by hand.
    pub fn validate(&self) -> Result<()> {
        if self.interval.0 == 0 {
            return Err(Error::invalid(
                "resend interval",
                self.interval,
                "a duration > 0 (longer than a round trip)",
            ));
        }
        crate::error::check_count(
            "max_attempts",
            self.max_attempts as usize,
            1,
            10_000,
            "sends per message",
        )?;
        Ok(())
    }
}

/// What a [`Sender`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SenderStats {
    /// Distinct messages sent.
    pub messages: u64,
    /// Sends on the wire, resends included.
    pub transmissions: u64,
    /// Messages acknowledged (first ack only).
    pub acked: u64,
    /// Acks for messages already acknowledged (or never awaited).
    pub extra_acks: u64,
    /// Messages given up after the last attempt without an ack.
    pub gave_up: u64,
}

#[derive(Debug, Clone)]
struct Pending<P> {
    to: NodeId,
    payload: P,
    attempts: u32,
    timer: TimerId,
}

/// The sending half of a delivery protocol: numbers messages, sends them,
/// and (at-least-once) resends them until acknowledged. A component a node
/// owns: call [`Sender::send`] to send, and forward acks to
/// [`Sender::on_ack`] and timers to [`Sender::on_timer`].
///
/// Its state (the unacknowledged messages) is in memory; the experiments
/// never crash the sender. A real outbox that must survive a crash is
/// written to disk before the first send.
#[derive(Debug, Clone)]
pub struct Sender<P> {
    semantics: Semantics,
    resend: Option<Resend>,
    next_id: MsgId,
    pending: BTreeMap<MsgId, Pending<P>>,
    stats: SenderStats,
}

impl<P: Clone> Sender<P> {
    /// Sends each message once and never waits for an ack.
    pub fn at_most_once() -> Self {
        Sender {
            semantics: Semantics::AtMostOnce,
            resend: None,
            next_id: 0,
            pending: BTreeMap::new(),
            stats: SenderStats::default(),
        }
    }

    /// Resends each message every `resend.interval` until it is acknowledged
    /// or has been sent `resend.max_attempts` times.
    pub fn at_least_once(resend: Resend) -> Self {
        Sender {
            semantics: Semantics::AtLeastOnce,
            resend: Some(resend),
            ..Sender::at_most_once()
        }
    }

    /// The guarantee this sender gives.
    pub fn semantics(&self) -> Semantics {
        self.semantics
    }

    /// What it did so far.
    pub fn stats(&self) -> SenderStats {
        self.stats
    }

    /// Messages still waiting for an ack.
    pub fn unacked(&self) -> usize {
        self.pending.len()
    }

    /// Sends `payload` to `to` under a fresh id and returns the id.
    pub fn send<N: Node>(&mut self, ctx: &mut Ctx<'_, N>, to: NodeId, payload: P) -> MsgId
    where
        N::Msg: From<Wire<P>>,
        N::Timer: From<ResendTimer>,
    {
        let id = self.next_id;
        self.next_id += 1;
        self.stats.messages += 1;
        self.stats.transmissions += 1;
        match self.resend {
            None => ctx.send(
                to,
                Wire::Data {
                    id,
                    attempt: 0,
                    want_ack: false,
                    payload,
                }
                .into(),
            ),
            Some(r) => {
                ctx.send(
                    to,
                    Wire::Data {
                        id,
                        attempt: 0,
                        want_ack: true,
                        payload: payload.clone(),
                    }
                    .into(),
                );
                let timer = ctx.set_timer(r.interval, ResendTimer(id).into());
                self.pending.insert(
                    id,
                    Pending {
                        to,
                        payload,
                        attempts: 1,
                        timer,
                    },
                );
            }
        }
        id
    }

    /// An ack for `id` arrived. Returns true if it is the first one (the
    /// message is now done); later acks (one per delivered copy) are counted
    /// as extra and ignored.
    pub fn on_ack<N: Node>(&mut self, ctx: &mut Ctx<'_, N>, id: MsgId) -> bool {
        match self.pending.remove(&id) {
            Some(p) => {
                ctx.cancel_timer(p.timer);
                self.stats.acked += 1;
                true
            }
            None => {
                self.stats.extra_acks += 1;
                false
            }
        }
    }

    /// One of this sender's [`ResendTimer`]s fired: resends the message or,
    /// after the last attempt, gives up on it.
    pub fn on_timer<N: Node>(&mut self, ctx: &mut Ctx<'_, N>, timer: ResendTimer)
    where
        N::Msg: From<Wire<P>>,
        N::Timer: From<ResendTimer>,
    {
        let id = timer.0;
        let Some(r) = self.resend else { return };
        let Some(p) = self.pending.get_mut(&id) else {
            return;
        };
        if p.attempts >= r.max_attempts {
            self.pending.remove(&id);
            self.stats.gave_up += 1;
            ctx.note(format!("give up m{id}"));
            return;
        }
        let attempt = p.attempts;
        p.attempts += 1;
        self.stats.transmissions += 1;
        let (to, payload) = (p.to, p.payload.clone());
        p.timer = ctx.set_timer(r.interval, ResendTimer(id).into());
        ctx.send(
            to,
            Wire::Data {
                id,
                attempt,
                want_ack: true,
                payload,
            }
            .into(),
        );
    }
}

/// Where a [`Receiver`] remembers the keys it has processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DedupStore {
    /// No store: every copy that arrives is processed.
    None,
    /// Kept across crashes (on disk, written atomically with the effect).
    Durable,
    /// In memory: emptied by a crash.
    Volatile,
    /// Durable but bounded: only the most recent `n` keys are kept (older
    /// ones are forgotten, as a size-limited dedup window does).
    Window(usize),
    /// Durable, but a key expires this long after the copy that wrote it
    /// was processed (a time-limited dedup window, as message brokers
    /// offer): a copy that arrives later is processed again. A copy
    /// skipped inside the window does not renew the key.
    Expiring(SimDuration),
}

impl DedupStore {
    /// A short name for tables and legends.
    pub fn name(self) -> String {
        match self {
            DedupStore::None => "no dedup".into(),
            DedupStore::Durable => "durable dedup".into(),
            DedupStore::Volatile => "volatile dedup".into(),
            DedupStore::Window(n) => format!("dedup window of {n}"),
            DedupStore::Expiring(w) => format!("dedup window of {w}"),
        }
    }
}

/// What a [`Receiver`] saw and did, over a whole run (read from the run's
/// counters: they survive crashes, the receiver's memory does not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReceiverStats {
    /// Copies that arrived (resends and network duplicates included).
    pub deliveries: u64,
    /// Times the effect was applied.
    pub processed: u64,
    /// Copies skipped because their key was in the store.
    pub suppressed: u64,
    /// Times the effect was applied to a key already processed before.
    pub processed_again: u64,
    /// Acks sent.
    pub acks: u64,
}

/// Counter names a [`Receiver`] counts under (`Ctx::count`).
mod counter {
    pub const DELIVERIES: &str = "receiver: copies delivered";
    pub const PROCESSED: &str = "receiver: processed";
    pub const SUPPRESSED: &str = "receiver: duplicates suppressed";
    pub const AGAIN: &str = "receiver: processed again";
    pub const ACKS: &str = "receiver: acks sent";
}

impl ReceiverStats {
    /// The receiver's counts from a run's counters.
    pub fn from_counters(c: &Counters) -> ReceiverStats {
        ReceiverStats {
            deliveries: c.get(counter::DELIVERIES),
            processed: c.get(counter::PROCESSED),
            suppressed: c.get(counter::SUPPRESSED),
            processed_again: c.get(counter::AGAIN),
            acks: c.get(counter::ACKS),
        }
    }
}

/// The durable part of a [`Receiver`], on its node's disk: the record of
/// effects (which key was processed when: the world's state) and, for a
/// durable or windowed store, the keys it remembers.
///
/// Persistent collections ([`imbl`]): a sync copies the disk, and these copy
/// in O(1) by sharing structure, so a receiver that syncs after every
/// message costs O(log n) per message, not O(n) (with `BTreeSet` and `Vec`
/// 30,000 messages took 20 s, quadratic in the message count).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReceiverDisk {
    seen: imbl::OrdSet<Key>,
    window: imbl::Vector<Key>,
    /// When each key of an expiring store was last processed.
    seen_at: imbl::OrdMap<Key, SimTime>,
    times: imbl::OrdMap<Key, u32>,
    log: imbl::Vector<(SimTime, Key)>,
}

impl AsMut<ReceiverDisk> for ReceiverDisk {
    fn as_mut(&mut self) -> &mut ReceiverDisk {
        self
    }
}

impl ReceiverDisk {
    /// Every application of the effect: `(time, key)`, in order (a copy).
    pub fn log(&self) -> Vec<(SimTime, Key)> {
        self.log.iter().copied().collect()
    }
    /// How often each key was processed (a copy).
    pub fn times_processed(&self) -> BTreeMap<Key, u32> {
        self.times.iter().map(|(&k, &c)| (k, c)).collect()
    }
    /// How many distinct keys were processed.
    pub fn keys_processed(&self) -> usize {
        self.times.len()
    }
    /// Keys processed more than once.
    pub fn processed_more_than_once(&self) -> usize {
        self.times.values().filter(|&&c| c > 1).count()
    }
}

/// The receiving half: acks what the sender asks to have acked and decides
/// whether a copy is processed, by idempotence key and its [`DedupStore`].
/// Its memory holds only a volatile store's keys; everything durable is in
/// the node's [`ReceiverDisk`]. Check the effects with
/// [`check_exactly_once`].
#[derive(Debug, Clone)]
pub struct Receiver {
    store: DedupStore,
    /// The keys of a volatile store.
    volatile: BTreeSet<Key>,
    notes: bool,
    key_write: KeyWrite,
}

/// How a [`Receiver`] with a durable store ([`DedupStore::Durable`],
/// [`DedupStore::Window`], [`DedupStore::Expiring`]) writes a processed
/// copy's key and its effect to disk. Only [`KeyWrite::Atomic`] is
/// correct: the other two exist to show what goes wrong when a crash falls
/// between two syncs (every sync is a crash point).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum KeyWrite {
    /// Key and effect written, then one sync: a crash keeps both or
    /// neither (the default; in a real system, one transaction).
    #[default]
    Atomic,
    /// The effect is synced first, the key after it: a crash between the
    /// two keeps the effect but not the key, so the resend is processed
    /// again.
    EffectThenKey,
    /// The key is synced first, the effect after it: a crash between the
    /// two keeps the key but not the effect, so the resend is skipped (and
    /// acked): the message is never processed.
    KeyThenEffect,
}

impl KeyWrite {
    /// All three, the correct one first.
    pub const ALL: [KeyWrite; 3] = [
        KeyWrite::Atomic,
        KeyWrite::EffectThenKey,
        KeyWrite::KeyThenEffect,
    ];

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            KeyWrite::Atomic => "key and effect in one sync",
            KeyWrite::EffectThenKey => "effect synced, then key",
            KeyWrite::KeyThenEffect => "key synced, then effect",
        }
    }
}

impl Receiver {
    /// A receiver with the given store.
    pub fn new(store: DedupStore) -> Self {
        Receiver {
            store,
            volatile: BTreeSet::new(),
            notes: false,
            key_write: KeyWrite::Atomic,
        }
    }

    /// Sets how a durable store's key and the effect reach the disk
    /// (default [`KeyWrite::Atomic`]; the others are wrong on purpose).
    pub fn with_key_write(mut self, how: KeyWrite) -> Self {
        self.key_write = how;
        self
    }

    /// Writes a trace note for each processed or skipped copy ("process
    /// m3", "process m3 AGAIN", "skip m3"), for message diagrams.
    pub fn with_notes(mut self, on: bool) -> Self {
        self.notes = on;
        self
    }

    /// The store it uses.
    pub fn store(&self) -> DedupStore {
        self.store
    }

    fn remembers(&self, disk: &ReceiverDisk, key: &Key, now: SimTime) -> bool {
        match self.store {
            DedupStore::None => false,
            DedupStore::Volatile => self.volatile.contains(key),
            DedupStore::Durable | DedupStore::Window(_) => disk.seen.contains(key),
            // Remembered for `w` after processing: expired once `w` has passed.
            DedupStore::Expiring(w) => disk.seen_at.get(key).is_some_and(|&t| now.since(t) < w),
        }
    }

    fn remember(&mut self, disk: &mut ReceiverDisk, key: Key, now: SimTime) {
        match self.store {
            DedupStore::None => {}
            DedupStore::Expiring(_) => {
                disk.seen_at.insert(key, now);
            }
            DedupStore::Volatile => {
                self.volatile.insert(key);
            }
            DedupStore::Durable => {
                disk.seen.insert(key);
            }
            DedupStore::Window(n) => {
                if n == 0 {
                    return;
                }
                // imbl's insert returns the value it replaced: None if new.
                if disk.seen.insert(key).is_none() {
                    disk.window.push_back(key);
                    while disk.window.len() > n {
                        if let Some(old) = disk.window.pop_front() {
                            disk.seen.remove(&old);
                        }
                    }
                }
            }
        }
    }

    /// Writes the effect record of `key` (not yet synced); true if the key
    /// had been processed before.
    fn apply(disk: &mut ReceiverDisk, key: Key, now: SimTime) -> bool {
        let c = disk.times.entry(key).or_insert(0);
        *c += 1;
        let again = *c > 1;
        disk.log.push_back((now, key));
        again
    }

    /// Counts (and notes) one application of the effect.
    fn processed<N: Node>(&self, ctx: &mut Ctx<'_, N>, id: MsgId, again: bool) {
        ctx.count(counter::PROCESSED);
        if again {
            ctx.count(counter::AGAIN);
        }
        if self.notes {
            ctx.note(if again {
                format!("process m{id} AGAIN")
            } else {
                format!("process m{id}")
            });
        }
    }

    /// A copy of message `id` from `from` arrived. Acks it if the sender
    /// wants acks (every copy: the earlier ack may have been lost) and
    /// returns the payload if the node should apply the effect now, or
    /// `None` if the store says this key was already processed. The effect
    /// record and a durable key are written to disk and synced before the
    /// ack goes out.
    pub fn on_data<N: Node, P>(
        &mut self,
        ctx: &mut Ctx<'_, N>,
        from: NodeId,
        id: MsgId,
        want_ack: bool,
        payload: P,
    ) -> Option<P>
    where
        N::Msg: From<Wire<P>>,
        N::Disk: AsMut<ReceiverDisk>,
    {
        ctx.count(counter::DELIVERIES);
        let key = (from, id);
        let now = ctx.now();
        let out = if self.remembers(ctx.disk().as_mut(), &key, now) {
            ctx.count(counter::SUPPRESSED);
            if self.notes {
                ctx.note(format!("skip m{id}"));
            }
            None
        } else {
            // The key and the effect reach the disk together (one sync) or
            // one after the other, as `key_write` says.
            let durable_key = !matches!(self.store, DedupStore::None | DedupStore::Volatile);
            match self.key_write {
                KeyWrite::KeyThenEffect if durable_key => {
                    self.remember(ctx.disk().as_mut(), key, now);
                    ctx.sync("key");
                    let again = Self::apply(ctx.disk().as_mut(), key, now);
                    ctx.sync("effect");
                    self.processed(ctx, id, again);
                }
                KeyWrite::EffectThenKey if durable_key => {
                    let again = Self::apply(ctx.disk().as_mut(), key, now);
                    ctx.sync("effect");
                    self.processed(ctx, id, again);
                    self.remember(ctx.disk().as_mut(), key, now);
                    ctx.sync("key");
                }
                _ => {
                    self.remember(ctx.disk().as_mut(), key, now);
                    let again = Self::apply(ctx.disk().as_mut(), key, now);
                    ctx.sync("effect and key");
                    self.processed(ctx, id, again);
                }
            }
            Some(payload)
        };
        if want_ack && from < ctx.cluster_size() {
            ctx.count(counter::ACKS);
            ctx.send(from, Wire::<P>::Ack { id }.into());
        }
        out
    }
}

/// Checks exactly-once processing on a record of effects: **safety**, no
/// key is processed twice; **liveness**, every key in `expected` is
/// processed at least once (by the end of the run). The counterexample
/// names the first key processed a second time, or the first key never
/// processed.
///
/// ```
/// use thinkdist::delivery::check_exactly_once;
/// use thinkdist::prelude::*;
/// let t = SimTime::from_start(ms(1));
/// let log = vec![(t, (0, 0)), (t, (0, 1)), (t, (0, 1))];
/// let v = check_exactly_once([(0, 0), (0, 1), (0, 2)], &log);
/// assert!(!v[0].holds); // m1 processed twice
/// assert!(!v[1].holds); // m2 never processed
/// ```
pub fn check_exactly_once(
    expected: impl IntoIterator<Item = Key>,
    log: &[(SimTime, Key)],
) -> Vec<Verdict> {
    let mut seen = BTreeSet::new();
    let mut twice = None;
    for (t, k) in log {
        if !seen.insert(*k) && twice.is_none() {
            twice = Some(format!("m{} from node {} processed again at {t}", k.1, k.0));
        }
    }
    let missing = expected
        .into_iter()
        .find(|k| !seen.contains(k))
        .map(|k| format!("m{} from node {} never processed", k.1, k.0));
    vec![
        Verdict {
            name: "no message processed twice (safety)".into(),
            kind: PropertyKind::Safety,
            holds: twice.is_none(),
            counterexample: twice,
        },
        Verdict {
            name: "every message processed (liveness)".into(),
            kind: PropertyKind::Liveness,
            holds: missing.is_none(),
            counterexample: missing,
        },
    ]
}

/// Closed forms for one message over a link that loses each message with
/// probability `p` and duplicates a delivered one with probability `d`,
/// when the resend interval exceeds every round trip (an ack, if not lost,
/// arrives before the next resend).
pub mod theory {
    use super::*;

    fn check(p: f64, d: f64, k: u32) -> Result<()> {
        check_probability("loss", p)?;
        check_probability("duplicate", d)?;
        if k == 0 {
            return Err(Error::invalid("max_attempts", 0, "at least 1"));
        }
        Ok(())
    }

    /// Probability that a message is never processed (receiver always up).
    /// At-most-once: the single send is lost, `p` (a lost message is never
    /// duplicated: the network decides loss first). At-least-once with `k`
    /// attempts: an ack can only come back after a delivery, so the sender
    /// makes all `k` attempts exactly when none of them arrives, `p^k`.
    pub fn lost(semantics: Semantics, p: f64, k: u32) -> Result<f64> {
        check(p, 0.0, k)?;
        Ok(match semantics {
            Semantics::AtMostOnce => p,
            Semantics::AtLeastOnce => p.powf(f64::from(k)),
        })
    }

    /// Probability that an at-least-once message is **delivered** (and, by
    /// a receiver without dedup, processed) more than once.
    ///
    /// Exactly one copy arrives when attempt `j` is the first to arrive
    /// (`p^(j-1) (1-p)`), the network does not duplicate it (`1-d`), and
    /// then either its ack returns (`1-p`) or the ack is lost and all `k-j`
    /// later attempts are lost too (`p · p^(k-j)`). So
    /// `P(>1) = 1 - p^k - Σ_j p^(j-1) (1-p)(1-d) [(1-p) + p^(k-j+1)]`;
    /// the sum has the closed form `(1-d)(1-p)(1 - p^k + k p^k)` (two
    /// geometric sums), so the answer takes constant time for any `k`.
    /// At `p = 0` this is `d`: the network's own duplicates.
    pub fn delivered_more_than_once(p: f64, d: f64, k: u32) -> Result<f64> {
        check(p, d, k)?;
        let k = f64::from(k);
        let pk = p.powf(k);
        let once = (1.0 - d) * (1.0 - p) * (1.0 - pk + k * pk);
        Ok((1.0 - pk - once).clamp(0.0, 1.0))
    }

    /// Probability that an at-least-once message (`k` sends, one every
    /// resend interval `R`) is **processed** more than once by a receiver
    /// whose keys expire `W = ratio · R` after processing
    /// ([`DedupStore::Expiring`]), with a constant latency `L` (`2L < R`,
    /// so an ack that is not lost stops the sender before its next send),
    /// no network duplication and loss `p` on each message and ack.
    ///
    /// Copies of a message arrive a whole number of intervals apart. A copy
    /// `j` intervals after the last processed one is processed again if
    /// `j · R ≥ W`, that is `j ≥ ratio`. The sum runs over the attempts
    /// with a small exact recursion: the state after each attempt is (which
    /// attempt was last processed, how often: 0, 1, 2 or more) and whether
    /// the sender still sends; a delivered copy's ack stops it with
    /// probability `1 - p`. Below `ratio = 1` every copy is processed and
    /// this equals [`delivered_more_than_once`] with `d = 0`; from
    /// `ratio > k - 1` on it is 0 (every copy arrives inside the window).
    pub fn expiring_more_than_once(p: f64, k: u32, ratio: f64) -> Result<f64> {
        check(p, 0.0, k)?;
        if k > 1000 {
            return Err(Error::invalid("max_attempts", k, "at most 1,000 sends"));
        }
        if !ratio.is_finite() || ratio < 0.0 {
            return Err(Error::invalid(
                "ratio",
                ratio,
                "a window / resend interval >= 0",
            ));
        }
        let k = k as usize;
        // alive[last][count]: mass still sending; last = 0 means none yet,
        // else the attempt number (1-based); count capped at 2.
        let mut alive = vec![[0.0f64; 3]; k + 1];
        alive[0][0] = 1.0;
        let mut twice = 0.0;
        for i in 1..=k {
            let mut next = vec![[0.0f64; 3]; k + 1];
            for (last, row) in alive.iter().enumerate() {
                for (count, &m) in row.iter().enumerate() {
                    if m == 0.0 {
                        continue;
                    }
                    // The copy is lost: the sender tries again.
                    next[last][count] += m * p;
                    // The copy arrives: processed if no key or an expired one.
                    let fresh = last == 0 || (i - last) as f64 >= ratio;
                    let (l2, c2) = if fresh {
                        (i, (count + 1).min(2))
                    } else {
                        (last, count)
                    };
                    let arrived = m * (1.0 - p);
                    // Its ack returns and the message is done, or the ack is
                    // lost and the sender goes on.
                    if c2 >= 2 {
                        twice += arrived * (1.0 - p);
                    }
                    next[l2][c2] += arrived * p;
                }
            }
            alive = next;
        }
        twice += alive.iter().map(|row| row[2]).sum::<f64>();
        Ok(twice.clamp(0.0, 1.0))
    }

    /// Expected copies delivered per at-most-once message: `(1-p)(1+d)`.
    pub fn at_most_once_copies(p: f64, d: f64) -> Result<f64> {
        check(p, d, 1)?;
        Ok((1.0 - p) * (1.0 + d))
    }
}

#[cfg(test)]
mod tests {
    use super::theory::delivered_more_than_once;

    /// The closed form equals the sum it replaces, and stays a probability
    /// for any number of attempts.
    #[test]
    fn closed_form_matches_the_sum() {
        let cases: [(f64, f64); 5] = [(0.0, 0.05), (0.1, 0.0), (0.3, 0.05), (0.9, 0.2), (1.0, 0.5)];
        for &(p, d) in &cases {
            for k in 1u32..=40 {
                let mut once = 0.0;
                for j in 1..=k {
                    once += p.powi(j as i32 - 1)
                        * (1.0 - p)
                        * (1.0 - d)
                        * ((1.0 - p) + p.powi((k - j + 1) as i32));
                }
                let sum = (1.0 - p.powi(k as i32) - once).max(0.0);
                let closed = delivered_more_than_once(p, d, k).unwrap_or(f64::NAN);
                assert!(
                    (sum - closed).abs() < 1e-12,
                    "p={p} d={d} k={k}: {sum} vs {closed}"
                );
            }
        }
        let huge = delivered_more_than_once(0.5, 0.05, u32::MAX).unwrap_or(f64::NAN);
        assert!((0.0..=1.0).contains(&huge));
        let lost = super::theory::lost(super::Semantics::AtLeastOnce, 0.5, u32::MAX);
        // A window shorter than one resend interval forgets every key in
        // time for the next copy: processed twice = delivered twice.
        for &p in &[0.0, 0.1, 0.3, 0.7] {
            for k in 1u32..=8 {
                let short = super::theory::expiring_more_than_once(p, k, 0.5).unwrap_or(f64::NAN);
                let all = delivered_more_than_once(p, 0.0, k).unwrap_or(f64::NAN);
                assert!((short - all).abs() < 1e-12, "p={p} k={k}: {short} vs {all}");
                let long = super::theory::expiring_more_than_once(p, k, k as f64 - 0.5)
                    .unwrap_or(f64::NAN);
                assert!(long.abs() < 1e-15, "p={p} k={k}: {long}");
            }
        }
        assert_eq!(lost.ok(), Some(0.0));
    }
}
