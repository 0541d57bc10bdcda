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
//! | `p.invoke(client, to, m, timeout).await` | a request recorded in the run's history as an operation of `client` |
//! | `p.count`, `p.note`, `p.record_latency`, `p.stop` | measurements, as on `Ctx` |
//! | `p.halt(why)`, `p.is_attached()` | stop this process with a reason; can the handle act now? |
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
//! - **Handlers and processes mix**, each with its own disk type; see
//!   below.
//! - **A handle outside its process does nothing.** Kept in a variable and
//!   used after the event (a notebook cell), a [`Proc`] neither panics nor
//!   acts: the call is reported once on stderr and counted under "process
//!   handle used outside its process"; [`Proc::disk`] and [`Proc::rng`]
//!   then run on scratch values nobody sees. A call from inside the closure
//!   of `disk` or `rng` halts the process with the reason.
//! - **Many futures at once are cheap.** [`join_all`] and [`quorum`] give
//!   each future a waker of its own and poll only those that woke: waiting
//!   for 100,000 requests costs two polls per request.
//!
//! ## Processes and handler nodes in one simulation
//! The nodes of one simulation have one type, so a system with a process
//! in one role and handler code in another uses an `enum` node. Its
//! variants speak the same [`Envelope`] (a handler answers a request with
//! [`Envelope::answer`]); its timer type takes the process's [`Wake`]
//! (`From<Wake>`); and its disk type is its own: the process sees only its
//! part of it, through [`DiskPart`], so the process's disk type does not
//! spread to the handlers.
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::process::{DiskPart, Envelope, Process, Wake};
//!
//! #[derive(Clone, Debug, PartialEq)]
//! enum Msg { Charge(u32), Charged }
//!
//! /// Node 0 runs a process that keeps a log; node 1 is a handler that
//! /// counts charges. One disk type, a part for each.
//! #[derive(Clone, Debug, Default)]
//! struct Disk { log: Vec<String>, charges: u32 }
//! impl DiskPart<Vec<String>> for Disk {
//!     fn part(&mut self) -> &mut Vec<String> { &mut self.log }
//! }
//!
//! #[derive(Clone)]
//! enum Shop { Checkout(Process<Msg, Vec<String>>), Bank }
//!
//! impl Node for Shop {
//!     type Msg = Envelope<Msg>;
//!     type Timer = Wake;
//!     type Disk = Disk;
//!     fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
//!         if let Shop::Checkout(p) = self { p.start(ctx) }
//!     }
//!     fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, m: Envelope<Msg>) {
//!         match self {
//!             Shop::Checkout(p) => p.message(ctx, from, m),
//!             Shop::Bank => {
//!                 ctx.disk().charges += 1;
//!                 ctx.sync("charge");
//!                 let answer = m.answer(Msg::Charged);
//!                 ctx.send(from, answer);
//!             }
//!         }
//!     }
//!     fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, w: Wake) {
//!         if let Shop::Checkout(p) = self { p.wake(ctx, w) }
//!     }
//! }
//!
//! let checkout = Process::<Msg, Vec<String>>::new(|p| async move {
//!     let r = p.request(1, Msg::Charge(30), ms(20)).await;
//!     p.disk(|log| log.push(format!("{r:?}"))); // the process's part only
//!     p.sync("outcome");
//! });
//! let mut sim = Sim::builder().build(vec![Shop::Checkout(checkout), Shop::Bank])?;
//! sim.run_for(ms(50))?;
//! assert_eq!(sim.disk(0)?.synced().log, vec!["Ok(Charged)".to_string()]);
//! assert_eq!(sim.disk(1)?.synced().charges, 1);
//! # Ok::<(), thinkdist::Error>(())
//! ```
//!
//! ## A panicking process
//! A panic inside a task (or in the body's closure before its first
//! `.await`: the body is called inside the first poll) is caught by the
//! executor: the process is *halted*
//! (every task dropped, "process halted" counted, a note in the trace) and
//! ignores further events until the engine restarts it after a crash. The
//! run goes on, deterministically: the same seed panics at the same event.
//! The default panic hook still prints the message to stderr. A task that
//! polls more than [`MAX_POLLS_PER_EVENT`] times in one event (it never
//! waits in virtual time) is halted the same way, and so is one that calls
//! [`Proc::halt`]. When a crash drops the tasks, their values' destructors
//! run outside any event: one that panics is contained, one that acts
//! through a handle does nothing (a dead process has no effects).
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
//! // one type, so it shares the saga's disk type; an `enum` node keeps
//! // them apart, see above.)
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
mod inbound;
mod node;
mod ops;
mod wire;

pub use combinators::{join_all, quorum, race, Either, QuorumError};
pub use futures::{JoinHandle, Recv, RecvClient, Sleep};
pub use handle::{Proc, TimedOut};
pub use host::DiskPart;
pub use node::{Process, MAX_POLLS_PER_EVENT};
pub use wire::{ClientRequest, Envelope, Incoming, Wake};
