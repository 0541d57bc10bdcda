//! The read path as a plain function: when a coordinator answers a read,
//! with which reply, and whether it first writes that reply back.
//!
//! After each replica's reply the coordinator calls the [`ReadRule`] with
//! every reply so far ([`ReadView`]) and does what it says
//! ([`ReadStep`]). A rule is a plain `fn`, so a reader can write one in a
//! notebook cell and hand it to the precompiled cluster
//! ([`super::Quorum::read_rule`]); the linearizability checker then judges
//! it. The two built-in rules, word for word what the crate runs:
//!
//! ```
//! use thinkdist::replication::{ReadStep, ReadView};
//! // Answer with the newest of the first R replies.
//! pub fn read_newest(v: &ReadView) -> ReadStep {
//!     if v.replies.len() < v.r {
//!         return ReadStep::Wait;
//!     }
//!     ReadStep::Return(v.newest())
//! }
//! // The same, but first write it back until W replicas hold it (ABD).
//! pub fn read_repair_then_return(v: &ReadView) -> ReadStep {
//!     if v.replies.len() < v.r {
//!         return ReadStep::Wait;
//!     }
//!     ReadStep::RepairThenReturn(v.newest())
//! }
//! ```
//!
//! With version vectors ([`super::Versioning::Siblings`]) the answer is
//! always the merge of every reply so far: the index a rule names is not
//! used, only when it answers and whether it repairs.

use super::super::version::Stored;
use crate::sim::NodeId;
use std::cmp::Ordering;

/// One replica's reply to a read.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The replica.
    pub node: NodeId,
    /// What it holds for the key (empty: never written there).
    pub stored: Stored,
}

/// What a [`ReadRule`] sees: the quorum sizes and the replies so far, in
/// arrival order.
#[derive(Debug, Clone, Copy)]
pub struct ReadView<'a> {
    /// Replicas per key, N.
    pub n: usize,
    /// Read quorum, R.
    pub r: usize,
    /// Write quorum, W.
    pub w: usize,
    /// Replies so far, in arrival order.
    pub replies: &'a [Answer],
}

impl ReadView<'_> {
    /// The index of the reply with the newest version (the first of equal
    /// ones; 0 when no reply holds anything, or there is no reply).
    pub fn newest(&self) -> usize {
        let mut best = 0;
        for (i, a) in self.replies.iter().enumerate() {
            let better = match (a.stored.newest(), self.replies[best].stored.newest()) {
                (Some(x), Some(b)) => x.compare(b) == Some(Ordering::Greater),
                (Some(_), None) => true,
                _ => false,
            };
            if better {
                best = i;
            }
        }
        best
    }
    /// The value reply `i` holds (its newest; 0 if nothing, or no such
    /// reply).
    pub fn value(&self, i: usize) -> i64 {
        self.replies
            .get(i)
            .and_then(|a| a.stored.newest())
            .map_or(0, |v| v.value)
    }
}

/// What the coordinator does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadStep {
    /// Wait for more replies (until the timeout: then the read fails).
    Wait,
    /// Answer the client with reply `i` now.
    Return(usize),
    /// Write reply `i`'s version to the key's replicas, and answer with it
    /// once W of them hold it.
    RepairThenReturn(usize),
}

/// A read path: see the module docs (`src/mechanisms/replication/quorum/read_rule.rs`). An index out of range makes
/// the read fail (counted under "read rule: no such reply").
pub type ReadRule = fn(&ReadView<'_>) -> ReadStep;

/// Answer with the newest of the first R replies.
pub fn read_newest(v: &ReadView) -> ReadStep {
    if v.replies.len() < v.r {
        return ReadStep::Wait;
    }
    ReadStep::Return(v.newest())
}

/// The same, but first write it back until W replicas hold it (ABD).
pub fn read_repair_then_return(v: &ReadView) -> ReadStep {
    if v.replies.len() < v.r {
        return ReadStep::Wait;
    }
    ReadStep::RepairThenReturn(v.newest())
}

#[cfg(test)]
mod tests {
    /// The module docs show these two rules as the crate runs them.
    #[test]
    fn docs_show_the_rules_as_they_are() {
        let src = include_str!("read_rule.rs");
        let (docs, code) = src.split_once("\nuse ").unwrap();
        for name in ["read_newest", "read_repair_then_return"] {
            let body = |text: &str, prefix: &str| -> Vec<String> {
                let lines: Vec<String> = text
                    .lines()
                    .map(|l| l.trim_start_matches(prefix).trim().to_string())
                    .collect();
                let at = lines
                    .iter()
                    .position(|l| l.starts_with(&format!("pub fn {name}(")))
                    .unwrap();
                lines[at..]
                    .iter()
                    .take_while(|l| *l != "}")
                    .cloned()
                    .collect()
            };
            assert_eq!(body(docs, "//!"), body(code, ""), "{name}");
        }
    }
}
