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
use super::wire::{ClientRequest, Envelope, Incoming, Wake};
use crate::sim::rng::SimRng;
use crate::sim::{NodeId, SimDuration, SimTime};
use rand_core::RngCore;
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
}

/// Shared by the handle, its futures and the node adaptor.
pub(crate) struct Inner<M, D> {
    /// The engine, set only while the process is being polled.
    pub(crate) host: Cell<Option<*mut (dyn Host<M, D> + 'static)>>,
    /// A call into the engine is under way (guards against re-entry from
    /// the closures of `disk` and `rng`).
    busy: Cell<bool>,
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

/// Clears `busy` when a call into the engine ends (also on unwind).
struct Unbusy<'a>(&'a Cell<bool>);
impl Drop for Unbusy<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

impl<M: Clone + Debug + 'static, D: Clone + Debug + Default + 'static> Proc<M, D> {
    pub(crate) fn fresh() -> Self {
        Proc {
            inner: Rc::new(Inner {
                host: Cell::new(None),
                busy: Cell::new(false),
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
                }),
            }),
        }
    }

    /// Runs `f` on the engine. Panics (caught by the executor, which then
    /// halts the process) if the handle is used outside its process or from
    /// inside the closure of [`Proc::disk`] or [`Proc::rng`].
    pub(crate) fn with_host<R>(&self, f: impl FnOnce(&mut dyn Host<M, D>) -> R) -> R {
        let Some(ptr) = self.inner.host.get() else {
            panic!(
                "a process handle was used outside its process: it acts only while the \
                 engine runs that process's tasks"
            );
        };
        if self.inner.busy.replace(true) {
            panic!(
                "a Proc method was called inside the closure of Proc::disk or Proc::rng; \
                 call it after that closure returns"
            );
        }
        let _unbusy = Unbusy(&self.inner.busy);
        // SAFETY: `host` is set only while `Process::drive` runs, from a
        // `&mut Ctx` that `drive` does not touch until it clears `host`
        // again (also on unwind); `busy` makes the `&mut` unique.
        f(unsafe { &mut *ptr })
    }

    /// Like `with_host`, but does nothing (returns `None`) when the engine
    /// is not reachable: for destructors, which also run when a crash drops
    /// the process.
    pub(crate) fn try_host<R>(&self, f: impl FnOnce(&mut dyn Host<M, D>) -> R) -> Option<R> {
        if self.inner.host.get().is_none() || self.inner.busy.get() {
            return None;
        }
        Some(self.with_host(f))
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
        self.with_host(|h| h.send(to, Envelope::Tell(msg)));
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
        let r = req.req;
        self.with_host(|h| h.answer_client(r, msg, failed));
    }

    /// Answers a message received with [`Proc::recv`]: a reply matched to
    /// its request if it was one, a one-way message otherwise.
    pub fn reply(&self, to: &Incoming<M>, msg: M) {
        let env = match to.corr {
            Some(c) => Envelope::Reply(c, msg),
            None => Envelope::Tell(msg),
        };
        let from = to.from;
        self.with_host(|h| h.send(from, env));
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
            p.with_host(|h| h.send(to, Envelope::Request(corr, msg)));
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
    /// inside `f`.
    pub fn disk<R>(&self, f: impl FnOnce(&mut D) -> R) -> R {
        self.with_host(|h| f(h.disk()))
    }

    /// Makes every write to the disk so far durable; a crash point, exactly
    /// as [`crate::sim::Ctx::sync`]. If the node crashes here, nothing the
    /// process does afterwards has an effect and its tasks are not polled
    /// again: the process died at this line.
    pub fn sync(&self, what: &str) {
        self.with_host(|h| h.sync(what));
    }

    /// Draws from the node's random stream (it continues across restarts).
    /// Do not call other `Proc` methods inside `f`.
    pub fn rng<R>(&self, f: impl FnOnce(&mut SimRng) -> R) -> R {
        self.with_host(|h| f(h.rng()))
    }

    /// Adds one to the named counter of the run.
    pub fn count(&self, name: &str) {
        self.with_host(|h| h.count(name));
    }
    /// Writes a note into the trace (shown on message diagrams).
    pub fn note(&self, text: impl Into<String>) {
        let text = text.into();
        self.with_host(|h| h.note(text));
    }
    /// Records a latency into the run's latency recorder.
    pub fn record_latency(&self, d: SimDuration) {
        self.with_host(|h| h.record_latency(d));
    }
    /// Asks the simulation to stop after this event.
    pub fn stop(&self) {
        self.with_host(|h| h.stop());
    }

    /// A fresh correlation id: unique within this incarnation, and (with
    /// probability 1 - 2^-32 per pair) different from every id an earlier
    /// incarnation used, so that a reply to a request sent before a crash
    /// is not taken for the answer to a request sent after it.
    fn next_corr(&self) -> u64 {
        let cur = self.inner.state.borrow().corr;
        let (base, seq) = match cur {
            Some((b, s)) if s < u32::MAX => (b, s),
            _ => (self.with_host(|h| h.rng().next_u64()) & !0xFFFF_FFFF, 0),
        };
        self.inner.state.borrow_mut().corr = Some((base, seq + 1));
        base | seq as u64
    }

    // ---- called by the node adaptor ----

    /// A message arrived for this process.
    pub(crate) fn deliver(&self, from: NodeId, env: Envelope<M>) {
        let wakers = {
            let mut s = self.inner.state.borrow_mut();
            match env {
                Envelope::Tell(msg) => {
                    s.inbox.push_back(Incoming {
                        from,
                        msg,
                        corr: None,
                    });
                    std::mem::take(&mut s.recv_wakers)
                }
                Envelope::Request(c, msg) => {
                    s.inbox.push_back(Incoming {
                        from,
                        msg,
                        corr: Some(c),
                    });
                    std::mem::take(&mut s.recv_wakers)
                }
                Envelope::Reply(c, msg) => {
                    let waker = match s.requests.get_mut(&c) {
                        Some(p) if p.reply.is_none() => {
                            p.reply = Some(msg);
                            Some(p.waker.take())
                        }
                        _ => None,
                    };
                    drop(s);
                    match waker {
                        Some(Some(w)) => w.wake(),
                        Some(None) => {}
                        None => self.with_host(|h| h.count("late or duplicate replies")),
                    }
                    return;
                }
            }
        };
        wake_all(&self.inner.state, wakers, |s| &mut s.recv_wakers);
    }

    /// A client's request arrived for this process.
    pub(crate) fn client(&self, req: crate::sim::Request, msg: M) {
        let wakers = {
            let mut s = self.inner.state.borrow_mut();
            s.clients.push_back(ClientRequest { req, msg });
            std::mem::take(&mut s.client_wakers)
        };
        wake_all(&self.inner.state, wakers, |s| &mut s.client_wakers);
    }

    /// A timer of this process fired.
    pub(crate) fn fire(&self, w: Wake) {
        let waker = {
            let mut s = self.inner.state.borrow_mut();
            match s.sleeps.get_mut(&w.0) {
                Some(sl) => {
                    sl.fired = true;
                    sl.waker.take()
                }
                None => None,
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// Wakes every waker of `ws` (taken out of the state, so that a wake may
/// touch the state), then hands the emptied vector back to keep its
/// allocation: one message per event must not cost an allocation.
fn wake_all<M>(
    state: &RefCell<State<M>>,
    mut ws: Vec<Waker>,
    slot: impl Fn(&mut State<M>) -> &mut Vec<Waker>,
) {
    for w in ws.drain(..) {
        w.wake();
    }
    let mut s = state.borrow_mut();
    let v = slot(&mut s);
    if v.is_empty() {
        *v = ws;
    }
}

/// Where a spawned task leaves its output for its [`JoinHandle`].
pub(crate) struct JoinSlot<T> {
    pub(crate) value: Option<T>,
    pub(crate) waker: Option<Waker>,
}
