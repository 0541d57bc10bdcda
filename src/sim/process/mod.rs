//! Processes: a node's behaviour written as sequential async Rust, run by
//! the engine in virtual time.
//!
//! A saga, a client that retries, a durable workflow read naturally as
//! straight-line code: send, wait for the reply or a timeout, sleep,
//! compensate. Split over `on_message` and `on_timer` handlers the same logic
//! becomes a state machine whose states are implicit in flags and maps. A
//! [`Process`] is a [`crate::sim::Node`] whose body is an `async` block; it
//! acts through a [`Proc`] handle:
//!
//! | call | does |
//! |---|---|
//! | `p.send(to, m)` | one-way message |
//! | `p.recv().await` | next [`Incoming`] message (one-way or request) |
//! | `p.reply(&incoming, m)` | answer a request |
//! | `p.recv_client().await`, `p.reply_client(&r, m, failed)` | serve the workload's clients ([`crate::sim::client`]) |
//! | `p.request(to, m, timeout).await` | `Ok(reply)` matched by correlation id, or `Err(TimedOut)` |
//! | `p.sleep(d).await`, `p.now()` | virtual time |
//! | `p.timeout(d, fut).await` | `fut`'s output or `Err(TimedOut)` |
//! | `p.disk(\|d\| ..)`, `p.sync("what")` | durable state; every sync is a crash point |
//! | `p.rng(\|r\| ..)` | the node's random stream |
//! | `p.spawn(fut)` | a sub-task; its [`JoinHandle`] resolves to its output |
//! | [`race`], [`quorum`], [`join_all`] | first of two, first `k` successes, all |
//! | `p.count`, `p.note`, `p.record_latency`, `p.stop` | measurements, as on `Ctx` |
//!
//! ## Why this shape
//! - **Deterministic by construction.** The executor is single-threaded with
//!   a FIFO ready queue; it polls only inside engine events, so every poll
//!   happens at a known virtual time, in an order fixed by the order of
//!   events. Nothing reads the wall clock. The same seed gives the same run
//!   whatever the thread count of a sweep (each run owns its executor).
//! - **Virtual time only.** `sleep` and request timeouts are engine timers.
//!   tokio's runtime and timers live in wall-clock time and are not used;
//!   tokio's *synchronisation* primitives (`oneshot`, `mpsc`, `Mutex`,
//!   `Notify`) need no runtime and work inside a process, since they only
//!   use `Waker`s.
//! - **Crashes are real.** A crash drops the node's memory, and with it the
//!   executor and every future (their destructors run); on recovery the body
//!   runs again from its first line, with the disk as last synced. Every
//!   [`Proc::sync`] is a crash point like `Ctx::sync`: if the node dies
//!   there, the rest of that event has no effect and no task is polled
//!   again.
//! - **Replies are matched by correlation id** ([`Envelope`]), so several
//!   requests can be out at once; a reply that comes after its request timed
//!   out or lost a race is counted under "late or duplicate replies" and
//!   ignored. Ids of a new incarnation start from a fresh random base, so a
//!   reply to a request from before a crash is not taken for a new one.
//! - **Handlers and processes mix.** Handler-style nodes speak the same
//!   [`Envelope`]; an `enum` node can host a [`Process`] in one variant by
//!   calling [`Process::start`], [`Process::message`] and [`Process::wake`].
//!
//! ## A panicking process
//! A panic inside a task is caught by the executor: the process is *halted*
//! (every task dropped, "process halted" counted, a note in the trace) and
//! ignores further events until the engine restarts it after a crash. The
//! run goes on, deterministically: the same seed panics at the same event.
//! The default panic hook still prints the message to stderr. A task that
//! polls more than [`MAX_POLLS_PER_EVENT`] times in one event (it never
//! waits in virtual time) is halted the same way.
//!
//! ## Cost
//! Each event costs a poll of every task it wakes, through a `Waker` and a
//! mutex-guarded queue that is never contended; `benches/engine.rs` measures
//! the same workload written both ways (`scripts/bench.sh` prints both).
//!
//! ## Example: a saga step with a compensation
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::process::{Envelope, Process};
//!
//! #[derive(Clone, Debug, PartialEq)]
//! enum Msg { Book(u32), Booked, Cancel(u32) }
//!
//! // Node 0: the saga. Book, and if no answer comes in 50 ms, compensate.
//! let saga = Process::<Msg, Vec<String>>::new(|p| async move {
//!     let hotel = 1;
//!     match p.request(hotel, Msg::Book(7), ms(50)).await {
//!         Ok(Msg::Booked) => p.disk(|d| d.push("booked".into())),
//!         _ => {
//!             p.send(hotel, Msg::Cancel(7));
//!             p.disk(|d| d.push("compensated".into()));
//!         }
//!     }
//!     p.sync("outcome");
//! });
//! // Node 1: the hotel answers every booking. (Nodes of one simulation have
//! // one type, so it shares the saga's disk type.)
//! let hotel = Process::<Msg, Vec<String>>::new(|p| async move {
//!     loop {
//!         let m = p.recv().await;
//!         if let Msg::Book(_) = m.msg { p.reply(&m, Msg::Booked); }
//!     }
//! });
//! let mut sim = Sim::builder().seed(1).build(vec![saga, hotel])?;
//! sim.run_for(ms(100))?;
//! assert_eq!(sim.disk(0)?.synced(), &vec!["booked".to_string()]);
//! # Ok::<(), thinkdist::Error>(())
//! ```

mod combinators;
mod executor;
mod futures;
mod handle;
mod host;
mod node;
mod wire;

pub use combinators::{join_all, quorum, race, Either, QuorumError};
pub use futures::{JoinHandle, Recv, RecvClient, Sleep};
pub use handle::{Proc, TimedOut};
pub use node::{Process, MAX_POLLS_PER_EVENT};
pub use wire::{ClientRequest, Envelope, Incoming, Wake};
