//! A node's durable state: a working copy and what was last synced.
//!
//! Real storage does not make a write durable when the process writes it:
//! the write sits in the operating system's page cache until `fsync`. A
//! crash in between loses it. [`Disk`] models exactly that and no more:
//! writes change the working copy, [`crate::sim::Ctx::sync`] copies the
//! working copy to the synced one, and a crash puts the synced copy back.
//!
//! What this model leaves out, on purpose: torn writes and the page cache
//! flushing some unsynced writes on its own. A protocol that is correct here
//! can still be wrong on a disk that reorders writes; a protocol that is
//! wrong here is wrong everywhere, which is what the crash-point experiments
//! need.
//!
//! ## What a sync costs
//! A sync clones the working copy into the synced one. For a `Vec` or a
//! `BTreeMap` that is a copy of everything, every time: a node whose disk is
//! a growing `Vec` log pays for the whole log on each sync (11.6 µs per event
//! at 8,000 entries). Use [`DiskLog`] for a log and [`DiskMap`] for a map:
//! persistent structures ([`imbl`]) whose clone shares every part with the
//! original, so a clone is O(1) and a sync costs what changed since the last
//! one (a Raft log of 100,000 entries syncs an append as fast as one of 10;
//! a `DiskLog` copies at most its newest [`DiskLog::TAIL`] entries).
//! Put them in your `Disk` struct with whatever else it holds:
//!
//! ```
//! use thinkdist::prelude::*;
//!
//! #[derive(Debug, Clone, Default)]
//! struct Store {
//!     term: u64,
//!     log: DiskLog<(u64, String)>,     // (term, command)
//!     applied: DiskMap<String, i64>,  // key -> value
//! }
//!
//! let mut d = Store::default();
//! for i in 0..100_000 {
//!     d.log.push((1, format!("set x {i}")));
//! }
//! let synced = d.clone(); // what a sync does: O(1), shares the entries
//! d.log.push((2, "set y 1".into()));
//! d.applied.insert("y".into(), 1);
//! assert_eq!((d.log.len(), synced.log.len()), (100_001, 100_000));
//! d.log.truncate(50_000); // a follower drops a conflicting suffix
//! assert_eq!(d.log.last(), Some(&(1, "set x 49999".to_string())));
//! assert_eq!(d.log.iter_from(49_998).count(), 2);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use serde::{Deserialize, Serialize};

/// The durable state of one node: what it wrote, and what survives a crash.
#[derive(Debug, Clone, Default)]
pub struct Disk<D> {
    working: D,
    synced: D,
    syncs: u64,
}

impl<D: Clone> Disk<D> {
    /// A disk whose working and synced copies are both `d`.
    pub fn new(d: D) -> Self {
        Disk {
            synced: d.clone(),
            working: d,
            syncs: 0,
        }
    }
    /// What the node sees: every write, synced or not.
    pub fn working(&self) -> &D {
        &self.working
    }
    /// What survives a crash: the state at the last sync.
    pub fn synced(&self) -> &D {
        &self.synced
    }
    /// How many syncs this disk has taken (an installed image counts as
    /// one): the synced copy changes only when this number does, so a
    /// checker can skip disks whose count has not moved.
    pub fn syncs(&self) -> u64 {
        self.syncs
    }
    pub(crate) fn working_mut(&mut self) -> &mut D {
        &mut self.working
    }
    /// Makes every write so far durable.
    pub(crate) fn sync(&mut self) {
        self.synced.clone_from(&self.working);
        self.syncs += 1;
    }
    /// A crash: unsynced writes are lost.
    pub(crate) fn lose_unsynced(&mut self) {
        self.working.clone_from(&self.synced);
    }
    /// Replaces both copies (experiment set-up: a disk image).
    pub(crate) fn install(&mut self, d: D) {
        self.synced = d.clone();
        self.working = d;
        self.syncs += 1;
    }
}

/// A log for a node's disk: append, truncate, read by index, iterate. A
/// clone shares every entry but the newest few with the original, so
/// [`crate::sim::Ctx::sync`] costs what was appended or truncated since the
/// last sync, not the whole log (see the [module docs](self)). Indices start
/// at 0.
///
/// Inside, the entries are an [`imbl::Vector`] (shared between the working
/// and the synced copy) followed by a short unshared tail of at most
/// [`DiskLog::TAIL`] entries. Why the tail: a Raft leader appends and syncs
/// for every command, and a push onto a shared `imbl` leaf copies the whole
/// leaf (64 entries) first; with the tail, a sync copies the tail (a few
/// entries, into a buffer that is reused) and the shared leaf is copied
/// once per `TAIL` appends. It also keeps the entries a protocol reads most
/// (the newest) in a plain slice. Equality, order, hashing and
/// serialization see only the entries, never where they are kept.
pub struct DiskLog<T: Clone> {
    /// Entries `0..tree.len()`.
    tree: imbl::Vector<T>,
    /// Entries `tree.len()..`, at most `TAIL` of them.
    tail: Vec<T>,
}

impl<T: Clone> Default for DiskLog<T> {
    /// An empty log (entries need not have a default).
    fn default() -> Self {
        DiskLog::new()
    }
}

impl<T: Clone> Clone for DiskLog<T> {
    fn clone(&self) -> Self {
        DiskLog {
            tree: self.tree.clone(),
            tail: self.tail.clone(),
        }
    }
    /// What a sync does: shares the tree (nothing to do if it is already
    /// the same tree, as between flushes of the tail), copies the tail into
    /// the buffer this log already has (no allocation once it has grown).
    fn clone_from(&mut self, source: &Self) {
        if !self.tree.ptr_eq(&source.tree) {
            self.tree.clone_from(&source.tree);
        }
        self.tail.clone_from(&source.tail);
    }
}

impl<T: Clone> DiskLog<T> {
    /// How many of the newest entries are kept outside the shared tree.
    pub const TAIL: usize = 32;

    /// An empty log.
    pub fn new() -> Self {
        DiskLog {
            tree: imbl::Vector::new(),
            tail: Vec::new(),
        }
    }
    /// Appends one entry (O(1) amortised).
    pub fn push(&mut self, entry: T) {
        if self.tail.len() >= Self::TAIL {
            for e in self.tail.drain(..) {
                self.tree.push_back(e);
            }
        }
        self.tail.push(entry);
    }
    /// Appends every entry of `entries`, in order.
    pub fn extend(&mut self, entries: impl IntoIterator<Item = T>) {
        for e in entries {
            self.push(e);
        }
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.tree.len() + self.tail.len()
    }
    /// True if the log has no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Entry `i`, or `None` past the end (O(1) for the newest entries,
    /// O(log n) for the others).
    pub fn get(&self, i: usize) -> Option<&T> {
        match i.checked_sub(self.tree.len()) {
            Some(j) => self.tail.get(j),
            None => self.tree.get(i),
        }
    }
    /// The first entry, if any.
    pub fn first(&self) -> Option<&T> {
        self.tree.front().or_else(|| self.tail.first())
    }
    /// The last entry, if any.
    pub fn last(&self) -> Option<&T> {
        self.tail.last().or_else(|| self.tree.back())
    }
    /// Keeps the first `len` entries and drops the rest (nothing if the
    /// log is shorter): a follower dropping a conflicting suffix.
    pub fn truncate(&mut self, len: usize) {
        match len.checked_sub(self.tree.len()) {
            Some(j) => self.tail.truncate(j),
            None => {
                self.tail.clear();
                self.tree.truncate(len);
            }
        }
    }
    /// Removes and returns the last entry.
    pub fn pop(&mut self) -> Option<T> {
        self.tail.pop().or_else(|| self.tree.pop_back())
    }
    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.into_iter()
    }
    /// The entries from index `from` on (none if `from` is past the end),
    /// without walking the ones before: what a leader sends a follower.
    pub fn iter_from(&self, from: usize) -> impl Iterator<Item = &T> + '_ {
        let t = self.tree.len();
        let old = (from < t).then(|| self.tree.focus().narrow(from..).into_iter());
        let new = &self.tail[from.saturating_sub(t).min(self.tail.len())..];
        old.into_iter().flatten().chain(new)
    }
    /// A copy of at most `max` entries from index `from` on (empty if
    /// `from` is past the end): what a leader puts in a message. The newest
    /// entries are copied as one slice.
    pub fn to_vec_from(&self, from: usize, max: usize) -> Vec<T> {
        match from.checked_sub(self.tree.len()) {
            Some(j) => {
                let new = &self.tail[j.min(self.tail.len())..];
                new[..max.min(new.len())].to_vec()
            }
            None => self.iter_from(from).take(max).cloned().collect(),
        }
    }
    /// The entries as a `Vec` (a copy), for tables and tests.
    pub fn to_vec(&self) -> Vec<T> {
        self.iter().cloned().collect()
    }
}

impl<T: Clone> std::ops::Index<usize> for DiskLog<T> {
    type Output = T;
    /// Entry `i`; like a `Vec`, panics past the end (use
    /// [`DiskLog::get`] when `i` may be out of range).
    fn index(&self, i: usize) -> &T {
        match self.get(i) {
            Some(e) => e,
            None => panic!("DiskLog index {i} out of range for length {}", self.len()),
        }
    }
}

impl<T: Clone + PartialEq> PartialEq for DiskLog<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: Clone + Eq> Eq for DiskLog<T> {}

impl<T: Clone + PartialOrd> PartialOrd for DiskLog<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.iter().partial_cmp(other.iter())
    }
}

impl<T: Clone + Ord> Ord for DiskLog<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.iter().cmp(other.iter())
    }
}

impl<T: Clone + std::hash::Hash> std::hash::Hash for DiskLog<T> {
    /// The entries in order, as `imbl::Vector` hashes them (so hashes of
    /// disks, and the states the exhaustive search tells apart, are what
    /// they were before the tail).
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for e in self {
            e.hash(state);
        }
    }
}

impl<T: Clone + Serialize> Serialize for DiskLog<T> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> std::result::Result<S::Ok, S::Error> {
        ser.collect_seq(self.iter())
    }
}

impl<'de, T: Clone + Deserialize<'de>> Deserialize<'de> for DiskLog<T> {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        Vec::<T>::deserialize(de).map(|v| v.into_iter().collect())
    }
}

impl<T: Clone + std::fmt::Debug> std::fmt::Debug for DiskLog<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Clone> FromIterator<T> for DiskLog<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        DiskLog {
            tree: iter.into_iter().collect(),
            tail: Vec::new(),
        }
    }
}

impl<'a, T: Clone> IntoIterator for &'a DiskLog<T> {
    type Item = &'a T;
    type IntoIter = std::iter::Chain<
        imbl::vector::Iter<'a, T, imbl::shared_ptr::DefaultSharedPtr>,
        std::slice::Iter<'a, T>,
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.tree.iter().chain(self.tail.iter())
    }
}

/// A map for a node's disk, ordered by key (so iteration order is the same
/// on every run). A clone shares every entry with the original, so a sync
/// costs what changed since the last one (see the [module docs](self)).
/// Backed by [`imbl::OrdMap`].
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DiskMap<K: Ord + Clone, V: Clone>(imbl::OrdMap<K, V>);

impl<K: Ord + Clone, V: Clone> Default for DiskMap<K, V> {
    fn default() -> Self {
        DiskMap(imbl::OrdMap::new())
    }
}

impl<K: Ord + Clone, V: Clone> DiskMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets `key` to `value`; returns the value it had (O(log n)).
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.0.insert(key, value)
    }
    /// Removes `key`; returns the value it had.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.0.remove(key)
    }
    /// The value of `key`, if any.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.0.get(key)
    }
    /// The value of `key` to change in place, if any.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.0.get_mut(key)
    }
    /// True if `key` has a value.
    pub fn contains_key(&self, key: &K) -> bool {
        self.0.contains_key(key)
    }
    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// True if the map is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Every `(key, value)`, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.0.iter()
    }
    /// Every key, in order.
    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.0.keys()
    }
    /// Every value, in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.0.values()
    }
}

impl<K: Ord + Clone + std::fmt::Debug, V: Clone + std::fmt::Debug> std::fmt::Debug
    for DiskMap<K, V>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}

impl<K: Ord + Clone, V: Clone> FromIterator<(K, V)> for DiskMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        DiskMap(iter.into_iter().collect())
    }
}
