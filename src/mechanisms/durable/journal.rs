//! The journal: what a durable workflow has done, on the node's disk.
//!
//! One entry per step a workflow finished, at the position the step had in
//! the workflow's code (its first step is 0, its second 1, …): the step's
//! kind and name, its result as JSON, and when it was recorded. An entry is
//! written to the disk and synced *before* the workflow goes on, so after a
//! crash the journal holds every step whose result the workflow may have
//! used. Temporal calls its journal the workflow's *event history*.
//!
//! Entries are kept in a persistent map ([`imbl::OrdMap`]), shared between
//! the disk's working and synced copies: a sync copies a pointer, not the
//! journal, and recording a step costs O(log n) whatever the journal's
//! length.

use crate::sim::time::SimTime;
use serde::Serialize;
use std::fmt;
use std::rc::Rc;

/// Names one workflow (an order number, a user id): unique per journal.
pub type WorkflowId = u64;

/// What a journal entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StepKind {
    /// A step: some code run once, its result recorded
    /// ([`crate::durable::Workflow::step`]).
    Step,
    /// A durable sleep: the time it ends, recorded when it begins
    /// ([`crate::durable::Workflow::sleep`]).
    Sleep,
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepKind::Step => "step",
            StepKind::Sleep => "sleep",
        })
    }
}

/// One journal entry: a finished step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// A step or a sleep.
    pub kind: StepKind,
    /// The step's name, as the code gave it ("charge card").
    pub name: String,
    /// Its result, as JSON (for a sleep: the time it ends, in ns).
    pub value: serde_json::Value,
    /// When it was recorded.
    pub at: SimTime,
}

/// An entry shared between the copies of the disk (never cloned deeply).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shared(pub(crate) Rc<Entry>);

impl Serialize for Shared {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// The journal of every workflow of a node; see the module docs (`src/mechanisms/durable/journal.rs`).
/// Make it part of the node's disk (the process's disk, or a field of it
/// with [`crate::process::DiskPart`]).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Journal {
    entries: imbl::OrdMap<(WorkflowId, u32), Shared>,
}

impl Journal {
    /// An empty journal.
    pub fn new() -> Journal {
        Journal::default()
    }
    /// The entry of `workflow` at `position`, if that step finished.
    pub fn get(&self, workflow: WorkflowId, position: u32) -> Option<&Entry> {
        self.entries.get(&(workflow, position)).map(|e| &*e.0)
    }
    /// Records a finished step (replacing nothing: a position is recorded
    /// once).
    pub(crate) fn record(&mut self, workflow: WorkflowId, position: u32, entry: Entry) {
        if !self.entries.contains_key(&(workflow, position)) {
            self.entries
                .insert((workflow, position), Shared(Rc::new(entry)));
        }
    }
    /// The entries of one workflow, by position.
    pub fn of(&self, workflow: WorkflowId) -> Vec<(u32, &Entry)> {
        self.entries
            .range((workflow, 0)..=(workflow, u32::MAX))
            .map(|((_, pos), e)| (*pos, &*e.0))
            .collect()
    }
    /// The workflows with at least one entry, in increasing order.
    pub fn workflows(&self) -> Vec<WorkflowId> {
        let mut v: Vec<WorkflowId> = self.entries.keys().map(|k| k.0).collect();
        v.dedup();
        v
    }
    /// Entries in all.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// True if no step was recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// Forgets one workflow's entries (it finished, and nothing will replay
    /// it again): keeps a long-running node's journal small.
    pub fn forget(&mut self, workflow: WorkflowId) {
        let keys: Vec<_> = self
            .entries
            .range((workflow, 0)..=(workflow, u32::MAX))
            .map(|(k, _)| *k)
            .collect();
        for k in keys {
            self.entries.remove(&k);
        }
    }
}

/// The idempotency key of one step: the workflow and the step's position
/// in it. A step that runs again after a crash (it finished, but its entry
/// was not yet on the disk) gets the same key, so a service that remembers
/// keys performs its effect once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct StepKey {
    /// The workflow.
    pub workflow: WorkflowId,
    /// The step's position in it.
    pub position: u32,
}

impl fmt::Display for StepKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.workflow, self.position)
    }
}
