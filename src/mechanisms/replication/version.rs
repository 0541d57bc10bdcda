//! Versions: how replicas decide which of two values is newer.
//!
//! Two kinds, each with its own answer to "which write wins":
//!
//! - A [`Stamp`] `(time, node)` is totally ordered: the larger stamp wins,
//!   the smaller value is discarded (last-writer-wins when `time` comes from
//!   a clock; the ABD register when it comes from a counter read from a
//!   quorum). Two different values with the same stamp (a coordinator that
//!   crashed and reissued it) are ordered by value, so every replica keeps
//!   the same one.
//! - A [`VersionVector`] (Parker et al. 1983; Dynamo, DeCandia et al. 2007)
//!   counts, per coordinator, the writes a version has seen. One version
//!   *descends* from another if it has seen everything the other has; two
//!   versions where neither descends from the other are **concurrent**, and
//!   both are kept as *siblings* for a reader to resolve. Nothing is
//!   discarded that a later write did not see.
//!
//! [`Stored`] is what a replica keeps for one key: the versions no other
//! version supersedes (one for stamps, the siblings for vectors).
//!
//! ```
//! use thinkdist::replication::{Stamp, Stored, Version, VersionVector, Versioned};
//! let mut a = VersionVector::new();
//! a.increment(0); // a write coordinated by node 0
//! let mut b = VersionVector::new();
//! b.increment(1); // one by node 1 that never saw it
//! let mut s = Stored::default();
//! s.merge(&Versioned { version: Version::Vector(a.clone()), value: 10 });
//! s.merge(&Versioned { version: Version::Vector(b.clone()), value: 20 });
//! assert_eq!(s.values(), vec![10, 20]); // siblings: both kept
//! let mut c = a.join(&b);
//! c.increment(0); // a write that read both
//! s.merge(&Versioned { version: Version::Vector(c), value: 30 });
//! assert_eq!(s.values(), vec![30]);
//! // Stamps: the larger wins, whatever arrives first.
//! let mut t = Stored::default();
//! t.merge(&Versioned { version: Version::Stamp(Stamp { time: 9, node: 1 }), value: 1 });
//! t.merge(&Versioned { version: Version::Stamp(Stamp { time: 5, node: 0 }), value: 2 });
//! assert_eq!(t.values(), vec![1]);
//! ```

use crate::sim::NodeId;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

/// A totally ordered version: `time` first, then `node` (see the [module
/// docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Stamp {
    /// A clock reading in nanoseconds (last-writer-wins) or a counter (ABD).
    pub time: u64,
    /// The coordinator that issued it: breaks ties.
    pub node: NodeId,
}

/// Per coordinator, how many of its writes a version has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct VersionVector(BTreeMap<NodeId, u64>);

impl VersionVector {
    /// The empty vector: has seen nothing.
    pub fn new() -> VersionVector {
        VersionVector::default()
    }
    /// The count for `node` (0 if absent).
    pub fn get(&self, node: NodeId) -> u64 {
        self.0.get(&node).copied().unwrap_or(0)
    }
    /// Counts one more write coordinated by `node`; returns the new count.
    pub fn increment(&mut self, node: NodeId) -> u64 {
        let c = self.0.entry(node).or_insert(0);
        *c = c.saturating_add(1);
        *c
    }
    /// Sets `node`'s count to at least `count`.
    pub fn raise(&mut self, node: NodeId, count: u64) {
        let c = self.0.entry(node).or_insert(0);
        *c = (*c).max(count);
    }
    /// The element-wise maximum: a version that has seen both.
    pub fn join(&self, other: &VersionVector) -> VersionVector {
        let mut j = self.clone();
        for (&n, &c) in &other.0 {
            j.raise(n, c);
        }
        j
    }
    /// True if this version has seen everything `other` has (equal
    /// included).
    pub fn descends(&self, other: &VersionVector) -> bool {
        other.0.iter().all(|(&n, &c)| self.get(n) >= c)
    }
    /// True if neither descends from the other.
    pub fn concurrent(&self, other: &VersionVector) -> bool {
        !self.descends(other) && !other.descends(self)
    }
}

impl fmt::Display for VersionVector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, (n, c)) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, " ")?;
            }
            write!(f, "n{n}:{c}")?;
        }
        write!(f, "]")
    }
}

/// The version of one write.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Version {
    /// Totally ordered (last-writer-wins, ABD).
    Stamp(Stamp),
    /// Partially ordered (siblings).
    Vector(VersionVector),
}

/// A value with its version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Versioned {
    /// Its version.
    pub version: Version,
    /// The value.
    pub value: i64,
}

impl Versioned {
    /// How `self` compares with `other`: `Greater` if it supersedes it,
    /// `Less` if superseded, `Equal` for the same write, `None` if
    /// concurrent (vectors) or of different kinds.
    pub fn compare(&self, other: &Versioned) -> Option<Ordering> {
        match (&self.version, &other.version) {
            (Version::Stamp(a), Version::Stamp(b)) => {
                Some(a.cmp(b).then(self.value.cmp(&other.value)))
            }
            (Version::Vector(a), Version::Vector(b)) => match (a.descends(b), b.descends(a)) {
                (true, true) => Some(self.value.cmp(&other.value)),
                (true, false) => Some(Ordering::Greater),
                (false, true) => Some(Ordering::Less),
                (false, false) => None,
            },
            _ => None,
        }
    }
    /// The stamp, if this is a stamped version.
    pub fn stamp(&self) -> Option<Stamp> {
        match self.version {
            Version::Stamp(s) => Some(s),
            Version::Vector(_) => None,
        }
    }
}

/// What a replica keeps for one key: every version no other supersedes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Stored(Vec<Versioned>);

impl Stored {
    /// Nothing stored (the key was never written here).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The versions kept, in the order merged.
    pub fn versions(&self) -> &[Versioned] {
        &self.0
    }
    /// The values kept (one, or the siblings), ascending.
    pub fn values(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self.0.iter().map(|x| x.value).collect();
        v.sort_unstable();
        v
    }
    /// Adds a version: it is dropped if a kept one supersedes it (or is the
    /// same), and it drops every kept one it supersedes. Returns true if
    /// what is stored changed.
    pub fn merge(&mut self, v: &Versioned) -> bool {
        if self
            .0
            .iter()
            .any(|k| matches!(k.compare(v), Some(Ordering::Greater | Ordering::Equal)))
        {
            return false;
        }
        self.0
            .retain(|k| !matches!(k.compare(v), Some(Ordering::Less)));
        self.0.push(v.clone());
        true
    }
    /// Merges every version of `other`; true if anything changed.
    pub fn merge_all(&mut self, other: &Stored) -> bool {
        let mut changed = false;
        for v in &other.0 {
            changed |= self.merge(v);
        }
        changed
    }
    /// The newest stamped version (for stamps, the only one), if any.
    pub fn newest(&self) -> Option<&Versioned> {
        self.0
            .iter()
            .max_by(|a, b| a.compare(b).unwrap_or(Ordering::Equal))
    }
    /// The join of every kept vector: the context a write that resolves the
    /// siblings passes, so that it supersedes them all.
    pub fn context(&self) -> VersionVector {
        let mut c = VersionVector::new();
        for v in &self.0 {
            if let Version::Vector(vv) = &v.version {
                c = c.join(vv);
            }
        }
        c
    }
    /// True if `self` holds every version `other` holds, or newer ones.
    pub fn covers(&self, other: &Stored) -> bool {
        let mut m = self.clone();
        !m.merge_all(other)
    }
}
