//! The receiving half: acks copies and decides, by idempotence key and its
//! deduplication store, whether a copy is processed; the effects and a
//! durable store's keys live on the node's disk.

use super::consumer::{ConsumerRule, ConsumerStep};
use super::wire::{Key, MsgId, Wire};
use crate::sim::metrics::Counters;
use crate::sim::net::NodeId;
use crate::sim::node::Node;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::Ctx;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

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
/// [`check_exactly_once`](super::check_exactly_once).
#[derive(Debug, Clone)]
pub struct Receiver {
    store: DedupStore,
    /// The keys of a volatile store.
    volatile: BTreeSet<Key>,
    notes: bool,
    key_write: KeyWrite,
    /// A reader's rule, replacing `key_write` and the ack, with its step
    /// buffer (reused: no allocation per copy).
    rule: Option<(ConsumerRule, Vec<ConsumerStep>)>,
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
            rule: None,
        }
    }

    /// Handles each copy as `rule` says (steps, syncs and the ack), instead
    /// of [`KeyWrite`]'s fixed orders; the store is still this receiver's.
    pub fn with_rule(mut self, rule: ConsumerRule) -> Self {
        self.rule = Some((rule, Vec::new()));
        self
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
        if let Some((rule, mut steps)) = self.rule.take() {
            let remembered = self.remembers(ctx.disk().as_mut(), &key, now);
            rule.steps(remembered, &mut steps);
            let applied = self.run_steps(ctx, &steps, from, id, want_ack);
            self.rule = Some((rule, steps));
            return applied.then_some(payload);
        }
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

    /// Carries out a [`ConsumerRule`]'s steps for the copy `(from, id)`;
    /// true if the effect was applied. A sync is named after what it makes
    /// durable ("effect and key", "effect", "key", "nothing new"), as the
    /// fixed orders name theirs.
    fn run_steps<N: Node, P>(
        &mut self,
        ctx: &mut Ctx<'_, N>,
        steps: &[ConsumerStep],
        from: NodeId,
        id: MsgId,
        want_ack: bool,
    ) -> bool
    where
        N::Msg: From<Wire<P>>,
        N::Disk: AsMut<ReceiverDisk>,
    {
        let (key, now) = ((from, id), ctx.now());
        let (mut effect, mut remembered, mut applied) = (false, false, false);
        for step in steps {
            match step {
                ConsumerStep::Apply => {
                    let again = Self::apply(ctx.disk().as_mut(), key, now);
                    self.processed(ctx, id, again);
                    (effect, applied) = (true, true);
                }
                ConsumerStep::Remember => {
                    self.remember(ctx.disk().as_mut(), key, now);
                    remembered = true;
                }
                ConsumerStep::Sync => {
                    ctx.sync(match (effect, remembered) {
                        (true, true) => "effect and key",
                        (true, false) => "effect",
                        (false, true) => "key",
                        (false, false) => "nothing new",
                    });
                    (effect, remembered) = (false, false);
                }
                ConsumerStep::Ack => {
                    if want_ack && from < ctx.cluster_size() {
                        ctx.count(counter::ACKS);
                        ctx.send(from, Wire::<P>::Ack { id }.into());
                    }
                }
            }
        }
        if !applied {
            ctx.count(counter::SUPPRESSED);
            if self.notes {
                ctx.note(format!("skip m{id}"));
            }
        }
        applied
    }
}
