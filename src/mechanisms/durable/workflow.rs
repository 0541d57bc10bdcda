//! [`Workflow`]: an async process's code made durable, one journaled step at
//! a time.
//!
//! A step runs once: its result goes into the [`Journal`] on the node's disk
//! (a sync, so a crash point) before the workflow goes on. After a crash the
//! process runs its body again from the first line; every step already in
//! the journal returns its recorded result at once, without running, until
//! the code reaches the first step the journal does not hold, and from there
//! the workflow runs live again. That is *replay*: the code is the same, the
//! journal makes it take the same path.
//!
//! Replay is checked. Each step claims the next position when it is called,
//! and the journal entry at that position must be a step of the same kind
//! and name. If it is not, the code took another path than the run that
//! wrote the journal (it read the clock or drew a random number outside a
//! step, or it was changed between the runs), and going on would mix two
//! executions: the process halts, the simulation stops, and
//! [`NonDeterminism`] names both steps.

use super::journal::{Entry, Journal, StepKey, StepKind, WorkflowId};
use crate::process::{DiskPart, Proc};
use crate::sim::time::{SimDuration, SimTime};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::Cell;
use std::fmt;
use std::fmt::Debug;
use std::future::Future;
use std::rc::Rc;

/// The code asked for another step than the journal holds at that position;
/// see the module docs (`src/mechanisms/durable/workflow.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NonDeterminism {
    /// The workflow.
    pub workflow: WorkflowId,
    /// The position (0 is the first step).
    pub position: u32,
    /// What the journal holds there, e.g. `step 'ship express'`.
    pub journal: String,
    /// What the code asked for, e.g. `step 'ship standard'`.
    pub code: String,
}

impl fmt::Display for NonDeterminism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "non-determinism in workflow {} at step {}: the journal holds {}, the code asked \
             for {} (on replay the code must take the path it took when the journal was \
             written: read clocks and random numbers inside a step)",
            self.workflow, self.position, self.journal, self.code
        )
    }
}

impl std::error::Error for NonDeterminism {}

struct Wf<M, D> {
    p: Proc<M, D>,
    id: WorkflowId,
    next: Cell<u32>,
}

/// A durable workflow's handle; see the module docs (`src/mechanisms/durable/workflow.rs`). Cheap to clone
/// (steps of one workflow may run concurrently: each claims its position
/// when it is called, in the order the code calls them).
pub struct Workflow<M, D> {
    wf: Rc<Wf<M, D>>,
}

impl<M, D> Clone for Workflow<M, D> {
    fn clone(&self) -> Self {
        Workflow {
            wf: self.wf.clone(),
        }
    }
}

impl<M, D> Debug for Workflow<M, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Workflow({}, next step {})",
            self.wf.id,
            self.wf.next.get()
        )
    }
}

/// What the journal says about the position a step claimed.
enum Lookup<T> {
    /// Nothing: run the step.
    Missing,
    /// The recorded result.
    Hit(T),
    /// Another step is recorded there (kind and name), or the recorded
    /// value does not fit the type the code expects now.
    Mismatch(String),
}

fn part<D: DiskPart<Journal>>(d: &mut D) -> &mut Journal {
    DiskPart::<Journal>::part(d)
}

impl<M, D> Workflow<M, D>
where
    M: Clone + Debug + 'static,
    D: Clone + Debug + Default + DiskPart<Journal> + 'static,
{
    /// The workflow `id` of the process `p`, at its first step. Create it
    /// afresh each time the process's body runs (after a crash, too): it
    /// then replays from the journal.
    pub fn new(p: &Proc<M, D>, id: WorkflowId) -> Self {
        Workflow {
            wf: Rc::new(Wf {
                p: p.clone(),
                id,
                next: Cell::new(0),
            }),
        }
    }

    /// The workflow's id.
    pub fn id(&self) -> WorkflowId {
        self.wf.id
    }
    /// The process it runs in.
    pub fn proc(&self) -> &Proc<M, D> {
        &self.wf.p
    }
    /// The position the next step will take.
    pub fn position(&self) -> u32 {
        self.wf.next.get()
    }
    /// True while the journal holds the next position: the code is
    /// replaying steps that ran before a crash.
    pub fn is_replaying(&self) -> bool {
        let (id, pos) = (self.wf.id, self.wf.next.get());
        self.wf.p.disk(|d| part(d).get(id, pos).is_some())
    }

    /// Runs a step named `name` once: `f` gets the step's idempotency key
    /// and returns the future that does the work; its output is recorded in
    /// the journal, synced, and returned. If the journal already holds this
    /// position (a replay), `f` is not called and the recorded output is
    /// returned. The output must survive a round trip through JSON
    /// (`Serialize` and `Deserialize`: numbers, strings, tuples, `Vec`,
    /// `Option`, `Result`, …).
    pub fn step<T, F, Fut>(
        &self,
        name: impl Into<String>,
        f: F,
    ) -> impl Future<Output = T> + 'static
    where
        T: Serialize + DeserializeOwned + 'static,
        F: FnOnce(StepKey) -> Fut + 'static,
        Fut: Future<Output = T> + 'static,
    {
        let (wf, pos, name) = (self.clone(), self.claim(), name.into());
        async move {
            match wf.lookup::<T>(pos, StepKind::Step, &name) {
                Lookup::Hit(v) => {
                    wf.wf.p.count("steps replayed");
                    wf.wf.p.note_with(|| format!("replayed: {name}"));
                    v
                }
                Lookup::Mismatch(held) => wf.fail(pos, held, StepKind::Step, &name).await,
                Lookup::Missing => {
                    let key = StepKey {
                        workflow: wf.wf.id,
                        position: pos,
                    };
                    let v = f(key).await;
                    // Recorded only if it reads back: JSON has no NaN, so a
                    // float NaN would come back from the journal as null.
                    let value = serde_json::to_value(&v)
                        .map_err(|e| e.to_string())
                        .and_then(|j| T::deserialize(&j).map(|_| j).map_err(|e| e.to_string()));
                    match value {
                        Ok(value) => wf.record(pos, StepKind::Step, name, value),
                        Err(e) => {
                            let why = format!(
                                "the output of step '{name}' of workflow {} cannot be \
                                 journaled (it does not survive a round trip through \
                                 JSON): {e}",
                                wf.wf.id
                            );
                            wf.wf.p.halt(why);
                            wf.wf.p.stop();
                            return std::future::pending().await;
                        }
                    }
                    wf.wf.p.count("steps run");
                    v
                }
            }
        }
    }

    /// Sleeps `d` durably: the time the sleep ends is journaled when it
    /// begins, so after a crash the replayed sleep waits only for what is
    /// left of it (or not at all, if that time has passed).
    pub fn sleep(
        &self,
        name: impl Into<String>,
        d: SimDuration,
    ) -> impl Future<Output = ()> + 'static {
        let (wf, pos, name) = (self.clone(), self.claim(), name.into());
        async move {
            let p = wf.wf.p.clone();
            let until = match wf.lookup::<u64>(pos, StepKind::Sleep, &name) {
                Lookup::Hit(t) => {
                    p.count("steps replayed");
                    p.note_with(|| format!("replayed: {name}"));
                    SimTime(t)
                }
                Lookup::Mismatch(held) => wf.fail(pos, held, StepKind::Sleep, &name).await,
                Lookup::Missing => {
                    let until = p.now() + d;
                    wf.record(pos, StepKind::Sleep, name, until.as_nanos().into());
                    until
                }
            };
            let now = p.now();
            if until > now {
                p.sleep(until.since(now)).await;
            }
        }
    }

    /// The current time, read once and journaled: on replay the same time
    /// comes back. (Reading `proc().now()` instead gives the time of the
    /// replay, and code that branches on it can take another path.)
    pub fn now(&self) -> impl Future<Output = SimTime> + 'static {
        let p = self.wf.p.clone();
        let t = self.step("read the clock", move |_| async move { p.now().as_nanos() });
        async move { SimTime(t.await) }
    }

    /// A random number from the node's stream, drawn once and journaled.
    pub fn random(&self) -> impl Future<Output = u64> + 'static {
        let p = self.wf.p.clone();
        self.step("draw a random number", move |_| async move {
            p.rng(rand_core::RngCore::next_u64)
        })
    }

    fn claim(&self) -> u32 {
        let pos = self.wf.next.get();
        self.wf.next.set(pos.saturating_add(1));
        pos
    }

    fn lookup<T: DeserializeOwned>(&self, pos: u32, kind: StepKind, name: &str) -> Lookup<T> {
        let id = self.wf.id;
        self.wf.p.disk(|d| match part(d).get(id, pos) {
            None => Lookup::Missing,
            Some(e) if e.kind == kind && e.name == name => match T::deserialize(&e.value) {
                Ok(v) => Lookup::Hit(v),
                Err(err) => Lookup::Mismatch(format!(
                    "{} '{}' with the result {} (it does not fit the type the code expects \
                     now: {err})",
                    e.kind, e.name, e.value
                )),
            },
            Some(e) => Lookup::Mismatch(format!("{} '{}'", e.kind, e.name)),
        })
    }

    fn record(&self, pos: u32, kind: StepKind, name: String, value: serde_json::Value) {
        let p = &self.wf.p;
        let what = format!("journal: {name}");
        let entry = Entry {
            kind,
            name,
            value,
            at: p.now(),
        };
        let id = self.wf.id;
        p.disk(move |d| part(d).record(id, pos, entry));
        p.sync(&what);
    }

    /// Reports a replay that went another way, halts the process, stops
    /// the simulation; never resolves (the halt drops the task).
    async fn fail<T>(&self, pos: u32, held: String, kind: StepKind, name: &str) -> T {
        let err = NonDeterminism {
            workflow: self.wf.id,
            position: pos,
            journal: held,
            code: format!("{kind} '{name}'"),
        };
        let p = &self.wf.p;
        p.count("non-determinism errors");
        p.note(format!("non-determinism at step {pos}"));
        p.halt(err.to_string());
        p.stop();
        std::future::pending().await
    }
}
