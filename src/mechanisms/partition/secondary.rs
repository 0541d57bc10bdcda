//! Secondary indexes on a partitioned store: find the documents that carry
//! a term (a colour, a tag), when documents are partitioned by their id.
//!
//! Two designs (the book's chapter 7, and Kleppmann's *DDIA* ch. 6):
//!
//! - **Local** (document-partitioned): each partition indexes only its own
//!   documents. A write touches one partition; a query must ask every
//!   partition and wait for the slowest (scatter-gather).
//! - **Global** (term-partitioned): the index is partitioned by term, apart
//!   from the documents. A query asks the one partition holding its term;
//!   a write touches the document's partition and the partition of each
//!   of its terms.
//!
//! Both give the same answers (a test checks it over random workloads);
//! they differ in whom they ask. Documents go to partition
//! `h(doc) mod P`, terms to `h'(term) mod P` (XXH3 under two seeds).

use super::hash_key;
use crate::error::{check_count, Result};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Where the index lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum IndexKind {
    /// Each partition indexes its own documents.
    Local,
    /// The index is partitioned by term.
    Global,
}

/// One partition: its documents and its part of the index.
#[derive(Debug, Clone, Default)]
struct Partition {
    /// Document id → its terms.
    docs: BTreeMap<u64, Vec<u64>>,
    /// Term → the documents carrying it (that this partition indexes).
    index: BTreeMap<u64, BTreeSet<u64>>,
}

/// A store of documents with terms, partitioned by document id, with a
/// local or a global secondary index on the terms.
#[derive(Debug, Clone)]
pub struct IndexedStore {
    kind: IndexKind,
    seed: u64,
    parts: Vec<Partition>,
}

/// Salt for the term hash: terms and documents are hashed independently.
const TERM_SALT: u64 = 0x5EC0_4DA7_1DE5_0001;

impl IndexedStore {
    /// An empty store of `partitions` partitions (1 to 4,096).
    pub fn new(kind: IndexKind, partitions: usize, seed: u64) -> Result<IndexedStore> {
        check_count("partitions", partitions, 1, 4_096, "partitions")?;
        Ok(IndexedStore {
            kind,
            seed,
            parts: vec![Partition::default(); partitions],
        })
    }

    /// The partition holding document `doc`.
    pub fn doc_partition(&self, doc: u64) -> usize {
        (hash_key(doc, self.seed) % self.parts.len() as u64) as usize
    }

    /// The partition holding term `term`'s index entries (global index).
    pub fn term_partition(&self, term: u64) -> usize {
        (hash_key(term, self.seed ^ TERM_SALT) % self.parts.len() as u64) as usize
    }

    /// Where the index entry of `term` for a document in partition `home` lives.
    fn entry_partition(&self, term: u64, home: usize) -> usize {
        match self.kind {
            IndexKind::Local => home,
            IndexKind::Global => self.term_partition(term),
        }
    }

    /// Writes (inserts or replaces) document `doc` with `terms`; returns
    /// the partitions the write touched, sorted: the document's own, and
    /// for a global index the partitions of its old and new terms.
    pub fn write(&mut self, doc: u64, terms: &[u64]) -> Vec<usize> {
        let home = self.doc_partition(doc);
        let mut touched = BTreeSet::from([home]);
        let old = self.parts[home].docs.insert(doc, terms.to_vec());
        for &t in old.iter().flatten() {
            let p = self.entry_partition(t, home);
            touched.insert(p);
            if let Some(set) = self.parts[p].index.get_mut(&t) {
                set.remove(&doc);
                if set.is_empty() {
                    self.parts[p].index.remove(&t);
                }
            }
        }
        for &t in terms {
            let p = self.entry_partition(t, home);
            touched.insert(p);
            self.parts[p].index.entry(t).or_default().insert(doc);
        }
        touched.into_iter().collect()
    }

    /// The partitions a query for `term` must ask: all of them for a local
    /// index (any partition may hold a match), one for a global index.
    pub fn query_targets(&self, term: u64) -> Vec<usize> {
        match self.kind {
            IndexKind::Local => (0..self.parts.len()).collect(),
            IndexKind::Global => vec![self.term_partition(term)],
        }
    }

    /// The documents carrying `term`, sorted, gathered from
    /// [`query_targets`](Self::query_targets).
    pub fn query(&self, term: u64) -> Vec<u64> {
        self.query_from(term, &self.query_targets(term))
    }

    /// The documents carrying `term` that partitions `targets` index
    /// (out-of-range partitions are skipped): a query routed elsewhere
    /// than [`query_targets`](Self::query_targets) misses matches.
    pub fn query_from(&self, term: u64, targets: &[usize]) -> Vec<u64> {
        let mut found = BTreeSet::new();
        for part in targets.iter().filter_map(|&p| self.parts.get(p)) {
            if let Some(set) = part.index.get(&term) {
                found.extend(set.iter().copied());
            }
        }
        found.into_iter().collect()
    }

    /// The index kind.
    pub fn kind(&self) -> IndexKind {
        self.kind
    }

    /// Number of partitions.
    pub fn partitions(&self) -> usize {
        self.parts.len()
    }
}
