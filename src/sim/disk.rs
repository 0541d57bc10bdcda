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
//! A sync copies the whole durable state (`clone_from`, which reuses the
//! allocations of the synced copy): keep disks small, or checkpoint and
//! truncate logs, when a node syncs thousands of times.

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
