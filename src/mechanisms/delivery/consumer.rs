//! A consumer's handling of one copy, written by the reader.
//!
//! The crate's [`Receiver`](super::Receiver) decides what to do with a copy
//! in one of three fixed ways ([`KeyWrite`](super::KeyWrite)). A
//! [`ConsumerRule`] is that decision as code the reader writes: a plain
//! function that asks whether the copy's key is remembered and then applies
//! the effect, remembers the key, syncs and acks, in whatever order (and as
//! often) it says. The function only *records* its steps; the receiver then
//! carries them out against the node's disk and the network, each sync a
//! crash point. That keeps the reader's function free of the engine's
//! generic types (it is compiled in the cell; everything else is compiled
//! with the crate) and lets the steps be checked before a run.

use crate::error::{Error, Result};
use std::sync::Arc;

/// One step of a [`ConsumerRule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ConsumerStep {
    /// Apply the message's effect (written to disk, not yet synced).
    Apply,
    /// Remember the copy's key in the durable dedup store (not yet synced).
    Remember,
    /// Sync the disk: everything written before it survives a crash. A
    /// crash point.
    Sync,
    /// Send the producer an ack for this copy.
    Ack,
}

/// What a [`ConsumerRule`] sees of a copy, and the steps it records.
#[derive(Debug)]
pub struct Consumer<'a> {
    remembered: bool,
    steps: &'a mut Vec<ConsumerStep>,
}

impl Consumer<'_> {
    /// Whether the copy's key is in the durable dedup store: a copy of
    /// this message was processed (and its key synced) before.
    pub fn remembers_key(&self) -> bool {
        self.remembered
    }
    /// Applies the message's effect.
    pub fn apply_effect(&mut self) {
        self.steps.push(ConsumerStep::Apply);
    }
    /// Remembers the copy's key in the durable dedup store.
    pub fn remember_key(&mut self) {
        self.steps.push(ConsumerStep::Remember);
    }
    /// Syncs the disk (a crash point).
    pub fn sync(&mut self) {
        self.steps.push(ConsumerStep::Sync);
    }
    /// Acks the copy.
    pub fn ack(&mut self) {
        self.steps.push(ConsumerStep::Ack);
    }
}

/// Most steps a [`ConsumerRule`] may take for one copy.
pub const MAX_STEPS: usize = 16;

/// A consumer's handling of one copy as a function: see the module docs.
/// Cheap to clone (shared).
#[derive(Clone)]
pub struct ConsumerRule {
    name: String,
    f: Arc<dyn Fn(&mut Consumer<'_>) + Send + Sync>,
}

impl std::fmt::Debug for ConsumerRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConsumerRule({:?})", self.name)
    }
}

impl ConsumerRule {
    /// The rule `f`, named `name` for tables. Errors if `f` takes more
    /// than [`MAX_STEPS`] steps for a copy whose key it remembers, or for
    /// one whose key it does not.
    pub fn new(name: &str, f: impl Fn(&mut Consumer<'_>) + Send + Sync + 'static) -> Result<Self> {
        Self::from_arc(name, Arc::new(f))
    }

    /// [`ConsumerRule::new`] without generics (compiled with the crate).
    pub fn from_arc(name: &str, f: Arc<dyn Fn(&mut Consumer<'_>) + Send + Sync>) -> Result<Self> {
        let rule = ConsumerRule {
            name: name.to_string(),
            f,
        };
        for remembered in [false, true] {
            let n = rule.steps(remembered, &mut Vec::new());
            if n > MAX_STEPS {
                return Err(Error::invalid(
                    "consumer rule",
                    format!("{n} steps"),
                    &format!("a rule of at most {MAX_STEPS} steps for one copy"),
                ));
            }
        }
        Ok(rule)
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Records the steps for a copy (`remembered`: its key is in the
    /// store) into `out` (cleared first); returns how many.
    pub fn steps(&self, remembered: bool, out: &mut Vec<ConsumerStep>) -> usize {
        out.clear();
        let mut c = Consumer {
            remembered,
            steps: out,
        };
        (self.f)(&mut c);
        out.len()
    }
}
