//! Durable executions (chapter 11): a workflow written as ordinary async
//! code that survives crashes, because every step it takes is journaled
//! before it goes on, and a restarted process *replays* the journal instead
//! of doing the work again.
//!
//! A process's execution lives in its memory: the local variables of its
//! futures, how far each has got. A crash loses all of it. The work the
//! execution did outside (a card charged, a parcel shipped) stays done. So
//! after a crash the process can either **restart** the workflow from the
//! beginning (every step runs again: safe only if every step is idempotent,
//! and waits restart from zero) or **resume** it where it was (it must know
//! where that was: durable execution).
//!
//! Durable execution records each step's result in a [`Journal`] on the
//! node's disk ([`Workflow::step`]; the sync is a crash point) before the
//! next step starts. After a crash the process runs its body again from the
//! first line; each step the journal holds returns its recorded result
//! without running, so the code walks, at the speed of a disk read, to
//! where it crashed, and goes on live from there. Timers are durable too
//! ([`Workflow::sleep`] journals when the sleep ends, not how long it is),
//! so a reminder due in a day comes after a day, crashes or not.
//!
//! Two things replay alone does not give:
//! - **Exactly-once effects.** A crash after a step's effect happened and
//!   before its result reached the journal runs the step again. Each step
//!   has an idempotency key made of its workflow and its *position in the
//!   journal* ([`StepKey`]): the same on every replay. A service that
//!   remembers keys ([`serve`]) performs the effect once and answers a
//!   repeated call with the first receipt.
//! - **Determinism of the code.** Replay works only if the code takes the
//!   same path again. Code that reads the clock or draws a random number
//!   outside a step can take another one on replay; it then asks for a step
//!   the journal does not hold at that position, and the run stops with a
//!   [`NonDeterminism`] error naming both ([`Workflow::now`] and
//!   [`Workflow::random`] are the journaled ways to read them).
//!
//! This is the model of Temporal, whose workflows keep an *event history*
//! of every command and result and replay it on a new worker, failing with
//! a non-determinism error when the code no longer matches the history
//! (docs.temporal.io, "Event History" and "Deterministic constraints"); and
//! of Resonate's *durable promises* (by Dominik Tornow, the book's author),
//! where each step is a promise whose resolution is stored durably, so a
//! retried execution finds the promise already resolved and continues
//! (resonatehq.io, "Distributed Async Await").
//!
//! ## Example: a crash between the charge and the e-mail
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::durable::{self, Call, Disk, Role, Workflow};
//! use thinkdist::process::Process;
//!
//! // Node 0 runs one order; node 1 charges cards, node 2 sends e-mail.
//! let worker = Process::<Call, Disk>::new(|p| async move {
//!     let wf = Workflow::new(&p, 7);
//!     let q = p.clone();
//!     wf.step("charge", move |key| async move {
//!         durable::call(&q, 1, 7, "charge", Some(key.to_string()), ms(50)).await
//!     }).await;
//!     wf.sleep("wait a day", hours(24)).await;
//!     let q = p.clone();
//!     wf.step("e-mail", move |key| async move {
//!         durable::call(&q, 2, 7, "e-mail", Some(key.to_string()), ms(50)).await
//!     }).await;
//! });
//! // The worker is down from hour 5 to hour 6: on restart it replays the
//! // charge (not performed again) and sleeps only what is left of the day.
//! let plan = FaultPlan::new().outage(hours(5), hours(6), 0);
//! let nodes = vec![Role::Worker(worker), Role::Service, Role::Service];
//! let mut sim = Sim::builder().faults(plan).build(nodes)?;
//! sim.run_for(hours(48))?;
//! assert_eq!(sim.disk(1)?.synced().effects.times(7, "charge"), 1);
//! let mail = sim.disk(2)?.synced().effects.performed.values().next().copied();
//! let sent = mail.map(|m| m.first.as_secs_f64() / 3600.0).unwrap_or(0.0);
//! assert!((24.0..24.01).contains(&sent), "{sent} h");
//! assert_eq!(sim.counters().get("steps replayed"), 2);
//! # Ok::<(), thinkdist::Error>(())
//! ```

mod effects;
mod journal;
mod workflow;

pub use effects::{call, serve, Call, Disk, Effects, Performed, Role};
pub use journal::{Entry, Journal, StepKey, StepKind, WorkflowId};
pub use workflow::{NonDeterminism, Workflow};
