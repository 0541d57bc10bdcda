//! Isolation anomalies from transaction histories, found as cycles in a
//! dependency graph, as Adya and Elle do: the checker never asks which
//! isolation level produced a history, only what the history shows.
//!
//! ## The history
//! A [`TxnHistory`] lists every transaction that ended ([`TxnRecord`]):
//! each read with the [`Version`] it saw, each write with the version it
//! made, and whether it committed. It also gives, per key, the **version
//! order**: the order in which committed versions were installed, starting
//! with the initial version `(0, 0)` of the initial transaction `T0` (which
//! wrote every key's first value). A database knows this order; a black-box
//! checker such as Elle has to infer it, which is why Elle's workloads use
//! append-only lists.
//!
//! ## The direct serialization graph
//! Over the **committed** transactions (Adya 1999, *Weak Consistency: A
//! Generalized Theory and Optimistic Implementations for Distributed
//! Transactions*, ch. 3; Kingsbury & Alvaro, *Elle: Inferring Isolation
//! Anomalies from Experimental Observations*, VLDB 2020), [`dsg`] draws an
//! [`Edge`] `Ti → Tj` when
//! - **ww** (write dependency): `Ti` installed a version of `x` and `Tj`
//!   installed the *next* committed version of `x`;
//! - **wr** (read dependency): `Tj` read a version of `x` that `Ti` wrote;
//! - **rw** (anti-dependency): `Ti` read a version of `x` and `Tj` installed
//!   the version that follows it: `Ti` did not see `Tj`'s write.
//!
//! A serial execution orders every edge forward in time, so the graph of a
//! serializable history has no cycle. Each kind of cycle is one of Adya's
//! phenomena, and a weaker isolation level is exactly a promise to exclude
//! fewer of them:
//!
//! | [`Anomaly`] | Adya | what the history shows | excluded from |
//! |---|---|---|---|
//! | dirty write | G0 | a cycle of ww edges only | read uncommitted and up |
//! | dirty read | G1a | a committed read of a version an aborted transaction wrote | read committed and up |
//! | intermediate read | G1b | a committed read of a version that was not its writer's last write of the key | read committed and up |
//! | circular information flow | G1c | a cycle of ww and wr edges, at least one wr | read committed and up |
//! | lost update | G-single | a cycle of one rw edge and ww edges, all on one key that each transaction read and wrote | snapshot isolation and up |
//! | read skew | G-single | any other cycle with exactly one rw edge | snapshot isolation and up |
//! | write skew | G2-item | a cycle with two or more rw edges | serializable |
//!
//! `T0` is not a node of the graph: nothing precedes the initial versions,
//! so it has no incoming edge and lies on no cycle.
//!
//! ## What is counted
//! G1a and G1b are read off the reads directly: one anomaly per distinct
//! (writer, reader) pair. Cycles are found per kind from **anchor edges**:
//! every ww edge for G0, every wr edge for G1c, every rw edge for G-single
//! and G2. An anchor `u → v` is searched only if `u` and `v` lie in one
//! strongly connected component of the graph of the edge kinds the cycle
//! may use (otherwise no such cycle exists, at no cost); then a search
//! from `v` back to `u`, inside that component, finds the **shortest
//! simple** cycle of the kind through the anchor (exactly one rw edge: the
//! path back uses ww and wr only; two or more: the path back must contain
//! an rw edge too), whenever one exists. A breadth-first search finds it
//! directly except for some write skews, where the shortest way back
//! passes one transaction twice (before and after its rw edge); then an
//! exact depth-first search over simple paths takes over and returns the
//! first simple cycle in transaction order (see `cycles.rs`). Ties are
//! broken by transaction id, so the result is
//! deterministic. A G-single anchor `Ti →rw Tj` on key `x` is first tried
//! as a **lost update**: if `Ti` later installed a version of `x` after
//! `Tj`'s, and every transaction that installed a version from `Tj`'s to
//! `Ti`'s read `x`, the ww chain on `x` from `Tj` back to `Ti` closes the
//! cycle on that one key (for two transactions, the textbook
//! `r1(x) r2(x) w2(x) c2 w1(x) c1`).
//!
//! **One anomaly is one distinct cycle**: cycles through the same
//! transactions in the same cyclic order count once per kind, however many
//! keys or anchors lead to them. So "3 lost updates" means three different
//! sets of transactions each lost an update, and the count never exceeds
//! the number of anchor edges.
//!
//! ## What it costs
//! A search stays inside one component and stops at the first, shortest,
//! cycle: histories of 3,000 transactions from the database of
//! [`crate::txn::isolation`] (15,000 edges, 8,000 anomalies without
//! isolation) check in about 0.1 s. Finding a simple cycle through two
//! given edges is NP-hard in general, so the cost is bounded instead: all
//! searches of one check together look at most at [`SEARCH_BUDGET`] edges,
//! and the cycles reported hold at most [`MAX_CYCLE_EDGES`] edges; a
//! history that needs more (one cycle through 30,000 transactions, or
//! 10,000 transactions that each lost every earlier update of one key) is
//! refused with an error naming its size, in about a second, never
//! answered wrong or half.
//!
//! ```
//! use thinkdist::check::isolation::*;
//! use thinkdist::prelude::*;
//!
//! // The textbook lost update: T1 and T2 both read x = 100 and both write.
//! let v = |t, s| Version::new(t, s);
//! let at = |ms_| SimTime::from_start(ms(ms_));
//! let t1 = TxnRecord::committed(1, "deposit 10", at(0), at(4), vec![
//!     TxnOp::read(0, Version::INITIAL, 100, at(0)),
//!     TxnOp::write(0, v(1, 1), 110, at(2)),
//! ]);
//! let t2 = TxnRecord::committed(2, "withdraw 30", at(1), at(5), vec![
//!     TxnOp::read(0, Version::INITIAL, 100, at(1)),
//!     TxnOp::write(0, v(2, 1), 70, at(5)),
//! ]);
//! let h = TxnHistory::new(vec![t1, t2], [(0, vec![Version::INITIAL, v(1, 1), v(2, 1)])]);
//! let found = anomalies(&h)?;
//! assert_eq!(found.len(), 1);
//! assert_eq!(found[0].anomaly, Anomaly::LostUpdate);
//! assert_eq!(found[0].txns, vec![2, 1]);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::sim::{ClientId, SimTime};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

mod cycles;
#[cfg(test)]
mod reference;
mod search;
#[cfg(test)]
mod tests;

pub use cycles::{MAX_CYCLE_EDGES, SEARCH_BUDGET};

/// A key of the database (an account, a doctor's on-call flag).
pub type Key = usize;

/// A transaction's id; `0` is the initial transaction that wrote every
/// key's first version.
pub type TxnId = u64;

/// One version of a key: the `seq`-th write (counting from 1, over all
/// keys) of transaction `writer`. The initial version is `(0, 0)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Version {
    /// The transaction that wrote it.
    pub writer: TxnId,
    /// Which of its writes it was.
    pub seq: u32,
}

impl Version {
    /// The version of the initial transaction `T0`.
    pub const INITIAL: Version = Version { writer: 0, seq: 0 };

    /// The `seq`-th write of `writer`.
    pub fn new(writer: TxnId, seq: u32) -> Version {
        Version { writer, seq }
    }
}

/// One operation of a transaction, with what it saw or made and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TxnOp {
    /// Read `key` and saw `version`, whose value was `value`.
    Read {
        /// The key.
        key: Key,
        /// The version seen.
        version: Version,
        /// Its value.
        value: i64,
        /// When (for diagrams; the checker never uses times).
        at: SimTime,
    },
    /// Wrote `value` to `key`, making `version`.
    Write {
        /// The key.
        key: Key,
        /// The version made.
        version: Version,
        /// The value written.
        value: i64,
        /// When.
        at: SimTime,
    },
}

impl TxnOp {
    /// A read of `key` that saw `version` with `value` at `at`.
    pub fn read(key: Key, version: Version, value: i64, at: SimTime) -> TxnOp {
        TxnOp::Read {
            key,
            version,
            value,
            at,
        }
    }
    /// A write of `value` to `key` that made `version`, at `at`.
    pub fn write(key: Key, version: Version, value: i64, at: SimTime) -> TxnOp {
        TxnOp::Write {
            key,
            version,
            value,
            at,
        }
    }
    /// The key.
    pub fn key(&self) -> Key {
        match *self {
            TxnOp::Read { key, .. } | TxnOp::Write { key, .. } => key,
        }
    }
    /// The version read or made.
    pub fn version(&self) -> Version {
        match *self {
            TxnOp::Read { version, .. } | TxnOp::Write { version, .. } => version,
        }
    }
    /// The value read or written.
    pub fn value(&self) -> i64 {
        match *self {
            TxnOp::Read { value, .. } | TxnOp::Write { value, .. } => value,
        }
    }
    /// When it happened.
    pub fn at(&self) -> SimTime {
        match *self {
            TxnOp::Read { at, .. } | TxnOp::Write { at, .. } => at,
        }
    }
    /// True for a read.
    pub fn is_read(&self) -> bool {
        matches!(self, TxnOp::Read { .. })
    }
    /// `r(a)=100` or `w(a)=40`, the notation of the book's histories.
    pub fn label(&self) -> String {
        let op = if self.is_read() { 'r' } else { 'w' };
        format!("{op}({})={}", key_name(self.key()), self.value())
    }
}

/// How a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum TxnStatus {
    /// Its writes took effect.
    Committed,
    /// Its writes were undone (or never installed).
    Aborted,
}

/// One transaction of a history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TxnRecord {
    /// Its id (never 0: that is the initial transaction).
    pub id: TxnId,
    /// The client that ran it.
    pub client: ClientId,
    /// What it was, for tables and diagrams ("transfer 30 a→b").
    pub label: String,
    /// Its first operation (or when it began).
    pub start: SimTime,
    /// When it committed or aborted.
    pub end: SimTime,
    /// Committed or aborted.
    pub status: TxnStatus,
    /// Its reads and writes, in order.
    pub ops: Vec<TxnOp>,
}

impl TxnRecord {
    /// A committed transaction of client 0 (for hand-written histories).
    pub fn committed(
        id: TxnId,
        label: impl Into<String>,
        start: SimTime,
        end: SimTime,
        ops: Vec<TxnOp>,
    ) -> TxnRecord {
        TxnRecord {
            id,
            client: 0,
            label: label.into(),
            start,
            end,
            status: TxnStatus::Committed,
            ops,
        }
    }
    /// An aborted transaction of client 0.
    pub fn aborted(
        id: TxnId,
        label: impl Into<String>,
        start: SimTime,
        end: SimTime,
        ops: Vec<TxnOp>,
    ) -> TxnRecord {
        TxnRecord {
            status: TxnStatus::Aborted,
            ..TxnRecord::committed(id, label, start, end, ops)
        }
    }
    /// True if it committed.
    pub fn is_committed(&self) -> bool {
        self.status == TxnStatus::Committed
    }
}

/// Everything the checker needs: the transactions and, per key, the order
/// in which committed versions were installed (see the [module
/// docs](self)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TxnHistory {
    /// Every transaction that ended, in the order it ended.
    pub txns: Vec<TxnRecord>,
    /// `version_order[k]`: the committed versions of `k` in installation
    /// order, starting with [`Version::INITIAL`]. A transaction that wrote
    /// `k` several times appears once, with its last write.
    pub version_order: BTreeMap<Key, Vec<Version>>,
}

impl TxnHistory {
    /// A history of `txns` with the given version orders.
    pub fn new(
        txns: Vec<TxnRecord>,
        version_order: impl IntoIterator<Item = (Key, Vec<Version>)>,
    ) -> TxnHistory {
        TxnHistory {
            txns,
            version_order: version_order.into_iter().collect(),
        }
    }

    /// The transaction with id `id`, if it is in the history.
    pub fn txn(&self, id: TxnId) -> Option<&TxnRecord> {
        self.txns.iter().find(|t| t.id == id)
    }

    /// How many transactions committed and how many aborted.
    pub fn outcome_counts(&self) -> (usize, usize) {
        let c = self.txns.iter().filter(|t| t.is_committed()).count();
        (c, self.txns.len() - c)
    }

    /// Checks that the history is well formed, so that a hand-written one
    /// with a typo is reported rather than silently misread: ids are
    /// unique and not 0; each transaction's writes have distinct versions
    /// of its own; every version order starts with the initial version and
    /// lists only last writes of committed transactions, each once; and a
    /// committed transaction's last write of each key appears in that key's
    /// order. ([`anomalies`] does not need a valid history: it skips what it
    /// cannot place.)
    pub fn validate(&self) -> Result<()> {
        let mut ids = BTreeSet::new();
        let mut last: BTreeMap<(TxnId, Key), Version> = BTreeMap::new();
        for t in &self.txns {
            if t.id == 0 || !ids.insert(t.id) {
                return Err(Error::invalid(
                    "transaction id",
                    t.id,
                    "a unique id > 0 (0 is the initial transaction)",
                ));
            }
            let mut versions = BTreeSet::new();
            for op in t.ops.iter().filter(|o| !o.is_read()) {
                let v = op.version();
                if v.writer != t.id || !versions.insert(v) {
                    return Err(Error::invalid(
                        &format!("version of a write of T{}", t.id),
                        format!("({}, {})", v.writer, v.seq),
                        "a version (own id, seq) used once",
                    ));
                }
                if t.is_committed() {
                    last.insert((t.id, op.key()), v);
                }
            }
        }
        for (&k, order) in &self.version_order {
            if order.first() != Some(&Version::INITIAL) {
                return Err(Error::invalid(
                    &format!("version_order[{k}]"),
                    format!("{order:?}"),
                    "a list starting with the initial version (0, 0)",
                ));
            }
            let mut seen = BTreeSet::new();
            for v in &order[1..] {
                if last.get(&(v.writer, k)) != Some(v) || !seen.insert(v.writer) {
                    return Err(Error::invalid(
                        &format!("version_order[{k}]"),
                        format!("({}, {})", v.writer, v.seq),
                        "only the last write of each committed transaction, once",
                    ));
                }
            }
        }
        let listed: BTreeSet<(Key, Version)> = self
            .version_order
            .iter()
            .flat_map(|(&k, o)| o.iter().map(move |&v| (k, v)))
            .collect();
        for (&(t, k), v) in &last {
            if !listed.contains(&(k, *v)) {
                return Err(Error::invalid(
                    &format!("version_order[{k}]"),
                    "missing",
                    &format!("T{t}'s last write ({}, {}) in the order", v.writer, v.seq),
                ));
            }
        }
        Ok(())
    }
}

/// The kind of a dependency [`Edge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum EdgeKind {
    /// Write dependency: `to` overwrote `from`'s version.
    WW,
    /// Read dependency: `to` read `from`'s version.
    WR,
    /// Anti-dependency: `from` read a version that `to` overwrote.
    RW,
}

impl EdgeKind {
    /// `ww`, `wr` or `rw`.
    pub fn name(self) -> &'static str {
        match self {
            EdgeKind::WW => "ww",
            EdgeKind::WR => "wr",
            EdgeKind::RW => "rw",
        }
    }
}

/// An edge of the direct serialization graph: `from` must precede `to` in
/// any serial order, because of `key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Edge {
    /// The transaction that must come first.
    pub from: TxnId,
    /// The transaction that must come after it.
    pub to: TxnId,
    /// Why.
    pub kind: EdgeKind,
    /// On which key.
    pub key: Key,
}

/// An isolation anomaly (see the table in the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Anomaly {
    /// G0: a cycle of write dependencies.
    DirtyWrite,
    /// G1a: a committed transaction read an aborted transaction's write.
    DirtyRead,
    /// G1b: a committed transaction read a version its writer later
    /// overwrote.
    IntermediateRead,
    /// G1c: a cycle of write and read dependencies.
    CircularInformationFlow,
    /// G-single on one key: a transaction overwrote a write it never saw.
    LostUpdate,
    /// G-single otherwise: a transaction saw part of another's writes.
    ReadSkew,
    /// G2-item: a cycle with two or more anti-dependencies.
    WriteSkew,
}

impl Anomaly {
    /// Every kind, in the order of tables and charts (weakest first).
    pub const ALL: [Anomaly; 7] = [
        Anomaly::DirtyWrite,
        Anomaly::DirtyRead,
        Anomaly::IntermediateRead,
        Anomaly::CircularInformationFlow,
        Anomaly::LostUpdate,
        Anomaly::ReadSkew,
        Anomaly::WriteSkew,
    ];

    /// Its everyday name ("lost update").
    pub fn name(self) -> &'static str {
        match self {
            Anomaly::DirtyWrite => "dirty write",
            Anomaly::DirtyRead => "dirty read",
            Anomaly::IntermediateRead => "intermediate read",
            Anomaly::CircularInformationFlow => "circular information flow",
            Anomaly::LostUpdate => "lost update",
            Anomaly::ReadSkew => "read skew",
            Anomaly::WriteSkew => "write skew",
        }
    }

    /// Adya's name for the phenomenon ("G0", "G1a", "G1b", "G1c",
    /// "G-single", "G2-item").
    pub fn adya(self) -> &'static str {
        match self {
            Anomaly::DirtyWrite => "G0",
            Anomaly::DirtyRead => "G1a",
            Anomaly::IntermediateRead => "G1b",
            Anomaly::CircularInformationFlow => "G1c",
            Anomaly::LostUpdate | Anomaly::ReadSkew => "G-single",
            Anomaly::WriteSkew => "G2-item",
        }
    }
}

/// One anomaly found in a history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    /// Which.
    pub anomaly: Anomaly,
    /// The transactions of the cycle, in cycle order (`edges[i]` goes
    /// from `txns[i]` to `txns[i + 1]`, the last edge back to `txns[0]`);
    /// for G1a and G1b, the writer then the reader.
    pub txns: Vec<TxnId>,
    /// The edges (for G1a and G1b, the one read, drawn as a wr edge).
    pub edges: Vec<Edge>,
    /// One sentence naming keys and values.
    pub explanation: String,
}

/// The name of a key in labels and explanations: `a`..`z`, then `k26`,
/// `k27`, ...
pub fn key_name(k: Key) -> String {
    if k < 26 {
        char::from(b'a' + k as u8).to_string()
    } else {
        format!("k{k}")
    }
}

/// The direct serialization graph of `h`'s committed transactions (see
/// the [module docs](self)): every ww, wr and rw edge, sorted by `(from,
/// to, kind, key)`, without duplicates.
pub fn dsg(h: &TxnHistory) -> Vec<Edge> {
    search::Index::new(h).edges
}

/// Every anomaly of `h`, kind by kind in [`Anomaly::ALL`] order, counted as
/// the [module docs](self) define.
///
/// Errors: a history too big to check in a notebook cell (its searches
/// would look at more than [`SEARCH_BUDGET`] edges, or its cycles hold
/// more than [`MAX_CYCLE_EDGES`]); the message names its size. A malformed
/// history is not an error: what cannot be placed is skipped (see
/// [`TxnHistory::validate`]).
pub fn anomalies(h: &TxnHistory) -> Result<Vec<Found>> {
    let ix = search::Index::new(h);
    let mut found = ix.g1_reads();
    found.extend(cycles::Cycles::new(&ix).all()?);
    found.sort_by_key(|f| f.anomaly);
    Ok(found)
}

/// How many anomalies of each kind (every kind present, zeros included).
pub fn counts(found: &[Found]) -> BTreeMap<Anomaly, usize> {
    let mut c: BTreeMap<Anomaly, usize> = Anomaly::ALL.iter().map(|&a| (a, 0)).collect();
    for f in found {
        *c.entry(f.anomaly).or_insert(0) += 1;
    }
    c
}
