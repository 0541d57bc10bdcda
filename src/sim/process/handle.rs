//! [`Proc`]: what a process's code holds to act on the world — the async
//! counterpart of [`crate::sim::Ctx`].
//!
//! Every method is either immediate (`send`, `now`, `disk`, `sync`, `rng`:
//! they act on the engine at once, during the event being processed) or
//! returns a future that resolves in virtual time (`recv`, `sleep`,
//! `request`, `timeout`, a spawned task's `JoinHandle`). Futures are lazy,
//! as everywhere in Rust: a `request` sends when first awaited (or first
//! polled by `race`, `quorum`, `join_all`).
//!
//! The handle is cheap to clone (`Rc`) and every future it returns owns a
//! clone, so futures are `'static` and can be spawned, raced or collected
//! in a `Vec` without borrowing anything.

use super::combinators::{race, Either};
use super::executor::LocalTask;
use super::futures::{JoinHandle, Recv, RecvClient, ReplyWait, Sleep};
use super::host::Host;
use super::wire::{ClientRequest, Envelope, Incoming};
use crate::sim::rng::SimRng;
use crate::sim::{NodeId, SimDuration, SimTime};
use rand_core::{RngCore, SeedableRng};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::fmt::Debug;
use std::future::Future;
use std::rc::Rc;
use std::task::Waker;

/// A request got no reply in time (or a [`Proc::timeout`] ran out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out")
    }
}
impl std::error::Error for TimedOut {}

/// A request waiting for its reply.
pub(crate) struct Pending<M> {
    pub(crate) reply: Option<M>,
    pub(crate) waker: Option<Waker>,
}

/// A sleep waiting for its timer.
pub(crate) struct Sleeping {
    pub(crate) fired: bool,
    pub(crate) waker: Option<Waker>,
}

/// The process's bookkeeping, behind one `RefCell`; never borrowed across
/// a call into the engine or into user code.
pub(crate) struct State<M> {
    pub(crate) inbox: VecDeque<Incoming<M>>,
    pub(crate) recv_wakers: Vec<Waker>,
    pub(crate) clients: VecDeque<ClientRequest<M>>,
    pub(crate) client_wakers: Vec<Waker>,
    pub(crate) requests: BTreeMap<u64, Pending<M>>,
    pub(crate) sleeps: BTreeMap<u64, Sleeping>,
    pub(crate) next_wake: u64,
    /// High 32 bits of this incarnation's correlation ids (drawn from the
    /// node's random stream at the first request) and the next sequence.
    corr: Option<(u64, u32)>,
    pub(crate) spawned: Vec<LocalTask>,
    /// Operations this process invoked as a client and stopped waiting
    /// for, by correlation id: a late reply is noted in the history.
    pub(crate) gave_up: BTreeMap<u64, crate::sim::OpId>,
}

impl<M> State<M> {
    /// Everything queued for the process (messages, client requests,
    /// wakers), taken out so that it can be dropped outside the borrow.
    pub(crate) fn take_queued(&mut self) -> impl Sized {
        (
            std::mem::take(&mut self.inbox),
            std::mem::take(&mut self.clients),
            std::mem::take(&mut self.requests),
            std::mem::take(&mut self.recv_wakers),
            std::mem::take(&mut self.client_wakers),
            std::mem::take(&mut self.sleeps),
        )
    }
}

/// Where an incarnation of a process is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Life {
    /// Running: the engine sets `host` while it polls the tasks.
    Live,
    /// Its tasks are being dropped (a crash, or the simulation dropped):
    /// destructors that use the handle do nothing, silently.
    TearingDown,
    /// Over: a handle kept past this point acts on nothing.
    Ended,
}

/// Shared by the handle, its futures and the node adaptor.
pub(crate) struct Inner<M, D> {
    /// The engine, set only while the process is being polled.
    pub(crate) host: Cell<Option<*mut (dyn Host<M, D> + 'static)>>,
    /// A call into the engine is under way (guards against re-entry from
    /// the closures of `disk` and `rng`).
    busy: Cell<bool>,
    pub(crate) life: Cell<Life>,
    /// Why a task asked the process to halt ([`Proc::halt`], or a misuse
    /// found while it ran); the adaptor halts it after the current poll.
    pub(crate) halt: RefCell<Option<String>>,
    /// Calls made through a handle outside its process since the last
    /// event (counted into the run's counters at the next one).
    pub(crate) outside: Cell<u64>,
    /// The first outside call has been reported on stderr.
    warned: Cell<bool>,
    pub(crate) now: Cell<SimTime>,
    pub(crate) me: Cell<NodeId>,
    pub(crate) n: Cell<usize>,
    pub(crate) state: RefCell<State<M>>,
}

/// The handle a process acts through; see [`crate::sim::process`].
pub struct Proc<M, D = ()> {
    pub(crate) inner: Rc<Inner<M, D>>,
}

impl<M, D> Clone for Proc<M, D> {
    fn clone(&self) -> Self {
        Proc {
            inner: self.inner.clone(),
        }
    }
}

impl<M, D> Debug for Proc<M, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Proc(node {})", self.inner.me.get())
    }
}

/// The engine, borrowed by one `Proc` call; clears `busy` when the call
/// ends (also on unwind).
pub(crate) struct Engine<'a, M, D> {
    inner: &'a Inner<M, D>,
    ptr: *mut (dyn Host<M, D> + 'static),
}

impl<M, D> Engine<'_, M, D> {
    /// The engine, for this call.
    pub(crate) fn host(&mut self) -> &mut (dyn Host<M, D> + 'static) {
        // SAFETY: `host` is set only while `Process::drive` runs, from a
        // `&mut Ctx` that `drive` does not touch until it clears `host`
        // again (also on unwind); `busy`, set while this guard lives, keeps
        // a second `Engine` from existing.
        unsafe { &mut *self.ptr }
    }
}

impl<M, D> Drop for Engine<'_, M, D> {
    fn drop(&mut self) {
        self.inner.busy.set(false);
    }
}

impl<M: Clone + Debug + 'static, D: Clone + Debug + Default + 'static> Proc<M, D> {
    pub(crate) fn fresh() -> Self {
        Proc {
            inner: Rc::new(Inner {
                host: Cell::new(None),
                busy: Cell::new(false),
                life: Cell::new(Life::Live),
                halt: RefCell::new(None),
                outside: Cell::new(0),
                warned: Cell::new(false),
                now: Cell::new(SimTime::ZERO),
                me: Cell::new(0),
                n: Cell::new(0),
                state: RefCell::new(State {
                    inbox: VecDeque::new(),
                    recv_wakers: Vec::new(),
                    clients: VecDeque::new(),
                    client_wakers: Vec::new(),
                    requests: BTreeMap::new(),
                    sleeps: BTreeMap::new(),
                    next_wake: 0,
                    corr: None,
                    spawned: Vec::new(),
                    gave_up: BTreeMap::new(),
                }),
            }),
        }
    }

    /// The engine, borrowed for one call, if this handle may act now: its
    /// process is being run by the engine and no other call is under way.
    /// Otherwise `None`, and the misuse is handled without a panic:
    /// - inside the closure of [`Proc::disk`] or [`Proc::rng`] (a second
    ///   call into the engine while one is under way), the process is
    ///   halted after the current poll, with the reason;
    /// - while the process's tasks are being dropped (a crash), silently:
    ///   a dead process has no effects;
    /// - outside its process (a handle kept in a variable and used later),
    ///   the call does nothing; the first such call is reported on stderr,
    ///   and each is counted under "process handle used outside its
    ///   process" at the process's next event.
    pub(crate) fn engine(&self, what: &'static str) -> Option<Engine<'_, M, D>> {
        let inner = &*self.inner;
        let Some(ptr) = inner.host.get() else {
            self.outside_use(what);
            return None;
        };
        if inner.busy.replace(true) {
            self.halt(format!(
                "Proc::{what} was called inside the closure of Proc::disk or Proc::rng; \
                 call it after that closure returns"
            ));
            return None;
        }
        Some(Engine { inner, ptr })
    }

    /// The engine if this handle may act now, else `None` without a word:
    /// for destructors, which also run when a crash drops the process.
    pub(crate) fn quiet_engine(&self) -> Option<Engine<'_, M, D>> {
        let inner = &*self.inner;
        let ptr = inner.host.get()?;
        if inner.life.get() != Life::Live || inner.busy.replace(true) {
            return None;
        }
        Some(Engine { inner, ptr })
    }

    fn outside_use(&self, what: &'static str) {
        let inner = &*self.inner;
        if inner.life.get() == Life::TearingDown {
            return;
        }
        inner.outside.set(inner.outside.get() + 1);
        if !inner.warned.replace(true) {
            let why = if inner.life.get() == Life::Ended {
                "its process has crashed or ended"
            } else {
                "it acts only while the engine runs its process's tasks"
            };
            eprintln!(
                "thinkdist: Proc::{what} was called through a handle of node {} outside its \
                 process, and did nothing: {why}. Use the handle only inside the process's \
                 body (this is reported once per handle).",
                inner.me.get()
            );
        }
    }

    /// True if this handle can act now: its process is being run by the
    /// engine and has not died at a crash point during this event (false
    /// for a handle kept in a variable and used later, or one of a process
    /// that crashed). Code that records something outside the simulation
    /// (an experiment's own bookkeeping) checks it first.
    pub fn is_attached(&self) -> bool {
        self.quiet_engine().is_some_and(|mut e| !e.host().is_dead())
    }

    /// Halts this process with `why`: after the task calling it yields,
    /// every task is dropped, "process halted" is counted, a note goes
    /// into the trace, and the process ignores events until a crash
    /// restarts it; [`crate::sim::process::Process::halted`] gives `why`.
    /// For a process that found it cannot go on (a durable workflow whose
    /// code no longer matches its journal). The first reason wins.
    pub fn halt(&self, why: impl Into<String>) {
        let mut h = self.inner.halt.borrow_mut();
        if h.is_none() {
            *h = Some(why.into());
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.inner.now.get()
    }
    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.inner.me.get()
    }
    /// How many nodes the simulation has.
    pub fn cluster_size(&self) -> usize {
        self.inner.n.get()
    }

    /// Sends `msg` one-way to node `to` (an unknown id drops it and counts
    /// it under "send to unknown node", as for every node).
    pub fn send(&self, to: NodeId, msg: M) {
        if let Some(mut e) = self.engine("send") {
            e.host().send(to, Envelope::Tell(msg));
        }
    }

    /// The next request from a client of the simulation's workload
    /// ([`crate::sim::client`]), in arrival order. Answer it with
    /// [`Proc::reply_client`]; one never answered is of unknown outcome in
    /// the history.
    pub fn recv_client(&self) -> RecvClient<M, D> {
        RecvClient { p: self.clone() }
    }

    /// Answers a client's request: it succeeded (`failed == false`) or
    /// definitely did not take effect (`failed == true`), with `msg`. The
    /// answer crosses the network and may be lost.
    pub fn reply_client(&self, req: &ClientRequest<M>, msg: M, failed: bool) {
        if let Some(mut e) = self.engine("reply_client") {
            e.host().answer_client(req.req, msg, failed);
        }
    }

    /// Answers a message received with [`Proc::recv`]: a reply matched to
    /// its request if it was one, a one-way message otherwise.
    pub fn reply(&self, to: &Incoming<M>, msg: M) {
        let env = match to.corr {
            Some(c) => Envelope::Reply(c, msg),
            None => Envelope::Tell(msg),
        };
        if let Some(mut e) = self.engine("reply") {
            e.host().send(to.from, env);
        }
    }

    /// The next message sent to this process (one-way or a request), in
    /// arrival order. Replies to its own requests never show up here.
    pub fn recv(&self) -> Recv<M, D> {
        Recv { p: self.clone() }
    }

    /// Resolves after `d` of virtual time (a timer of this node: a crash
    /// cancels it with everything else).
    pub fn sleep(&self, d: SimDuration) -> Sleep<M, D> {
        Sleep {
            p: self.clone(),
            after: d,
            armed: None,
            done: false,
        }
    }

    /// Sends `msg` to `to` as a request and waits for the reply with the
    /// same correlation id, at most `timeout`. A reply that arrives after
    /// the timeout, or after the request was dropped (it lost a race), is
    /// ignored and counted under "late or duplicate replies".
    pub fn request(
        &self,
        to: NodeId,
        msg: M,
        timeout: SimDuration,
    ) -> impl Future<Output = Result<M, TimedOut>> + 'static {
        let p = self.clone();
        async move {
            let corr = p.next_corr();
            p.inner.state.borrow_mut().requests.insert(
                corr,
                Pending {
                    reply: None,
                    waker: None,
                },
            );
            // Created before the send, so that dropping this future at any
            // point forgets the request.
            let wait = ReplyWait { p: p.clone(), corr };
            if let Some(mut e) = p.engine("request") {
                e.host().send(to, Envelope::Request(corr, msg));
            }
            match race(wait, p.sleep(timeout)).await {
                Either::Left(m) => Ok(m),
                Either::Right(()) => Err(TimedOut),
            }
        }
    }

    /// Runs `fut` for at most `d`: its output, or `Err(TimedOut)` (and `fut`
    /// is dropped, cancelling whatever it waited for).
    pub fn timeout<F: Future + 'static>(
        &self,
        d: SimDuration,
        fut: F,
    ) -> impl Future<Output = Result<F::Output, TimedOut>> + 'static {
        let sleep = self.sleep(d);
        async move {
            match race(fut, sleep).await {
                Either::Left(x) => Ok(x),
                Either::Right(()) => Err(TimedOut),
            }
        }
    }

    /// Runs `fut` as a separate task of this process (it starts in the same
    /// event, after the current task yields). The handle resolves to its
    /// output; dropping the handle detaches the task. A crash drops every
    /// task of the process.
    pub fn spawn<T: 'static>(&self, fut: impl Future<Output = T> + 'static) -> JoinHandle<T> {
        let slot = Rc::new(RefCell::new(JoinSlot {
            value: None,
            waker: None,
        }));
        let out = slot.clone();
        let task: LocalTask = Box::pin(async move {
            let v = fut.await;
            let waker = {
                let mut s = out.borrow_mut();
                s.value = Some(v);
                s.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        });
        self.inner.state.borrow_mut().spawned.push(task);
        JoinHandle { slot }
    }

    /// Reads or writes the node's disk (the working copy: writes survive a
    /// crash only after [`Proc::sync`]). Do not call other `Proc` methods
    /// inside `f` (that halts the process). Outside its process (see
    /// [`Proc::is_attached`]) `f` gets a fresh default disk that nothing
    /// else sees.
    pub fn disk<R>(&self, f: impl FnOnce(&mut D) -> R) -> R {
        match self.engine("disk") {
            Some(mut e) => f(e.host().disk()),
            None => f(&mut D::default()),
        }
    }

    /// Makes every write to the disk so far durable; a crash point, exactly
    /// as [`crate::sim::Ctx::sync`]. If the node crashes here, nothing the
    /// process does afterwards has an effect and its tasks are not polled
    /// again: the process died at this line.
    pub fn sync(&self, what: &str) {
        if let Some(mut e) = self.engine("sync") {
            e.host().sync(what);
        }
    }

    /// Draws from the node's random stream (it continues across restarts).
    /// Do not call other `Proc` methods inside `f` (that halts the
    /// process). Outside its process `f` gets a stream of its own, seeded
    /// with 0, that no run sees.
    pub fn rng<R>(&self, f: impl FnOnce(&mut SimRng) -> R) -> R {
        match self.engine("rng") {
            Some(mut e) => f(e.host().rng()),
            None => f(&mut SimRng::seed_from_u64(0)),
        }
    }

    /// Adds one to the named counter of the run.
    pub fn count(&self, name: &str) {
        if let Some(mut e) = self.engine("count") {
            e.host().count(name);
        }
    }
    /// Writes a note into the trace (shown on message diagrams).
    pub fn note(&self, text: impl Into<String>) {
        if let Some(mut e) = self.engine("note") {
            e.host().note(text.into());
        }
    }
    /// Writes a note built by `text` into the trace, only if the trace
    /// keeps it (nothing is allocated when tracing is off).
    pub fn note_with(&self, mut text: impl FnMut() -> String) {
        if let Some(mut e) = self.engine("note_with") {
            e.host().note_with(&mut text);
        }
    }
    /// Records a latency into the run's latency recorder.
    pub fn record_latency(&self, d: SimDuration) {
        if let Some(mut e) = self.engine("record_latency") {
            e.host().record_latency(d);
        }
    }
    /// Asks the simulation to stop after this event.
    pub fn stop(&self) {
        if let Some(mut e) = self.engine("stop") {
            e.host().stop();
        }
    }

    /// A fresh correlation id: unique within this incarnation, and (with
    /// probability 1 - 2^-32 per pair) different from every id an earlier
    /// incarnation used, so that a reply to a request sent before a crash
    /// is not taken for the answer to a request sent after it.
    pub(crate) fn next_corr(&self) -> u64 {
        let cur = self.inner.state.borrow().corr;
        let (base, seq) = match cur {
            Some((b, s)) if s < u32::MAX => (b, s),
            _ => (self.rng(|r| r.next_u64()) & !0xFFFF_FFFF, 0),
        };
        self.inner.state.borrow_mut().corr = Some((base, seq + 1));
        base | seq as u64
    }
}

/// Where a spawned task leaves its output for its [`JoinHandle`].
pub(crate) struct JoinSlot<T> {
    pub(crate) value: Option<T>,
    pub(crate) waker: Option<Waker>,
}
