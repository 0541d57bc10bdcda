//! [`Process`]: the adaptor that makes async code a [`Node`] of the engine.
//!
//! It holds the process's body (a function from a [`Proc`] handle to a
//! future) and, once started, an executor with the body's tasks. Each engine
//! event for the node (start, recover, a message, a timer) is handed to the
//! process, then the executor polls every ready task until none is ready;
//! whatever the tasks did through their `Proc` went straight to the
//! engine's `Ctx` during those polls.
//!
//! Cloning a `Process` gives a fresh, not-yet-started process with the same
//! body. That is what the engine's crash needs: it replaces a crashed node
//! with a clone of its initial value, so the old executor and every future
//! in it are dropped (their destructors run), and `on_recover` runs the body
//! again from its first line, with the disk as last synced.

use super::executor::{Executor, LocalTask, Polled};
use super::handle::{Life, Proc};
use super::host::{DiskPart, Host};
use super::wire::{Envelope, Wake};
use crate::sim::{Ctx, Node, NodeId, Request};
use std::cell::Cell;
use std::fmt;
use std::fmt::Debug;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

/// The most task polls one event may take before the process is halted as
/// livelocked (a task that wakes itself forever without awaiting anything
/// in virtual time would otherwise hang the run).
pub const MAX_POLLS_PER_EVENT: u64 = 1_000_000;

type Body<M, D> = Rc<dyn Fn(Proc<M, D>) -> LocalTask>;

/// A node whose behaviour is an async function; see [`crate::sim::process`].
///
/// Cloning gives a fresh, not-started process with the same body (what the
/// engine's crash relies on: the old executor and its futures are dropped).
pub struct Process<M, D = ()> {
    body: Body<M, D>,
    run: Option<Box<Running<M, D>>>,
}

struct Running<M, D> {
    exec: Executor,
    proc: Proc<M, D>,
    main_done: Rc<Cell<bool>>,
    halted: Option<String>,
}

impl<M, D> Clone for Process<M, D> {
    /// A fresh process with the same body, not started: the engine replaces
    /// a crashed node with a clone of its initial value, so a crash drops
    /// every future and recovery runs the body from its first line.
    fn clone(&self) -> Self {
        Process {
            body: self.body.clone(),
            run: None,
        }
    }
}

impl<M, D> fmt::Debug for Process<M, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.run {
            None => f.write_str("Process(not started)"),
            Some(r) => write!(
                f,
                "Process(tasks: {}, main done: {}, halted: {:?})",
                r.exec.live(),
                r.main_done.get(),
                r.halted
            ),
        }
    }
}

impl<M, D> Process<M, D>
where
    M: Clone + Debug + 'static,
    D: Clone + Debug + Default + 'static,
{
    /// A process whose body is `body`: called with the process's handle at
    /// start and at every recovery, it returns the future to run.
    ///
    /// Keep state in the future's local variables (volatile: lost on a
    /// crash) or on the disk (durable after a sync). Whatever `body`
    /// captures is shared by every incarnation of the node; capture only
    /// configuration, never state the protocol relies on.
    pub fn new<F, Fut>(body: F) -> Self
    where
        F: Fn(Proc<M, D>) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        Process {
            body: Rc::new(move |p| Box::pin(body(p)) as LocalTask),
            run: None,
        }
    }

    /// True once the process has started (and not crashed since).
    pub fn is_started(&self) -> bool {
        self.run.is_some()
    }
    /// True once the body's future has returned.
    pub fn is_finished(&self) -> bool {
        self.run.as_ref().is_some_and(|r| r.main_done.get())
    }
    /// Why the process was halted (a task panicked, or it polled more than
    /// [`MAX_POLLS_PER_EVENT`] times in one event), if it was.
    pub fn halted(&self) -> Option<&str> {
        self.run.as_ref().and_then(|r| r.halted.as_deref())
    }
    /// How many of its tasks are alive (the body and spawned tasks).
    pub fn tasks(&self) -> usize {
        self.run.as_ref().map_or(0, |r| r.exec.live())
    }

    /// Starts (or, after a crash, restarts) the process from its body's
    /// first line. For `enum` nodes that host a process: call it from
    /// `on_start` (and `on_recover`, which defaults to `on_start`).
    pub fn start<N>(&mut self, ctx: &mut Ctx<'_, N>)
    where
        N: Node<Msg = Envelope<M>>,
        N::Timer: From<Wake>,
        N::Disk: DiskPart<D>,
    {
        let proc = Proc::fresh();
        let main_done = Rc::new(Cell::new(false));
        let mut exec = Executor::default();
        // The body is called inside the first poll, not here: with the
        // engine reachable (a body that uses its handle before its first
        // `.await` works) and under the executor's panic guard (a body that
        // panics halts the process instead of unwinding through the run).
        let (body, p, flag) = (self.body.clone(), proc.clone(), main_done.clone());
        exec.spawn(Box::pin(async move {
            body(p).await;
            flag.set(true);
        }));
        self.run = Some(Box::new(Running {
            exec,
            proc,
            main_done,
            halted: None,
        }));
        self.drive(ctx, |_| {});
    }

    /// A message for the process arrived. For `enum` nodes: call it from
    /// `on_message`.
    pub fn message<N>(&mut self, ctx: &mut Ctx<'_, N>, from: NodeId, msg: Envelope<M>)
    where
        N: Node<Msg = Envelope<M>>,
        N::Timer: From<Wake>,
        N::Disk: DiskPart<D>,
    {
        self.drive(ctx, move |p| p.deliver(from, msg));
    }

    /// A client's request for the process arrived (its body is the
    /// envelope's body). For `enum` nodes: call it from `on_request`.
    pub fn client_request<N>(&mut self, ctx: &mut Ctx<'_, N>, req: Request, msg: Envelope<M>)
    where
        N: Node<Msg = Envelope<M>>,
        N::Timer: From<Wake>,
        N::Disk: DiskPart<D>,
    {
        self.drive(ctx, move |p| p.client(req, msg.into_body()));
    }

    /// A timer of the process fired. For `enum` nodes: call it from
    /// `on_timer` with the `Wake` the node's timer carried.
    pub fn wake<N>(&mut self, ctx: &mut Ctx<'_, N>, w: Wake)
    where
        N: Node<Msg = Envelope<M>>,
        N::Timer: From<Wake>,
        N::Disk: DiskPart<D>,
    {
        self.drive(ctx, move |p| p.fire(w));
    }

    /// Hands one event to the process, then polls until no task is ready.
    fn drive<N>(&mut self, ctx: &mut Ctx<'_, N>, event: impl FnOnce(&Proc<M, D>))
    where
        N: Node<Msg = Envelope<M>>,
        N::Timer: From<Wake>,
        N::Disk: DiskPart<D>,
    {
        let Some(run) = self.run.as_deref_mut() else {
            return; // not started (down from time zero): nothing to do
        };
        if run.halted.is_some() {
            return;
        }
        let inner = run.proc.inner.clone();
        inner.now.set(ctx.now());
        inner.me.set(ctx.id());
        inner.n.set(ctx.cluster_size());
        let host: &mut (dyn Host<M, D> + '_) = ctx;
        let ptr: *mut (dyn Host<M, D> + '_) = host;
        // SAFETY: only the lifetime is erased; the pointer is cleared by
        // `ClearHost` before `ctx`'s borrow ends (also on unwind), and
        // nothing else uses `ctx` in between.
        let ptr: *mut (dyn Host<M, D> + 'static) = unsafe { std::mem::transmute(ptr) };
        inner.host.set(Some(ptr));
        let _clear = ClearHost(&inner.host);
        let dead = move || {
            // SAFETY: as above; no `Proc` call is under way between polls.
            unsafe { (*ptr).is_dead() }
        };
        let outside = inner.outside.replace(0);
        if outside > 0 && !dead() {
            // SAFETY: as above.
            let h = unsafe { &mut *ptr };
            h.count_many("process handle used outside its process", outside);
        }
        event(&run.proc);
        let mut polls = 0u64;
        let mut why = None;
        loop {
            let spawned = std::mem::take(&mut inner.state.borrow_mut().spawned);
            for t in spawned {
                run.exec.spawn(t);
            }
            if dead() {
                break;
            }
            match run.exec.poll_next() {
                Polled::Idle => break,
                Polled::Ran => {}
                Polled::Panicked(msg) => {
                    why = Some(format!("a task panicked: {msg}"));
                    break;
                }
            }
            if let Some(asked) = inner.halt.borrow_mut().take() {
                why = Some(asked);
                break;
            }
            polls += 1;
            if polls > MAX_POLLS_PER_EVENT {
                why = Some(format!(
                    "more than {MAX_POLLS_PER_EVENT} polls in one event: a task that never \
                     waits in virtual time"
                ));
                break;
            }
        }
        if let Some(why) = why {
            if !dead() {
                // SAFETY: as above.
                let h = unsafe { &mut *ptr };
                h.count("process halted");
                h.note(format!("process halted: {why}"));
            }
            run.exec.clear();
            inner.state.borrow_mut().spawned.clear();
            run.halted = Some(why);
        }
    }
}

impl<M, D> Drop for Running<M, D> {
    /// A crash (or the end of the simulation) drops the process with every
    /// task in it. Destructors of the tasks' values run here, outside any
    /// event: one that panics is contained (the panic hook still prints
    /// it), and one that acts through a handle does nothing, as a dead
    /// process cannot act.
    fn drop(&mut self) {
        let inner = self.proc.inner.clone();
        inner.life.set(Life::TearingDown);
        self.exec.clear();
        let spawned = std::mem::take(&mut inner.state.borrow_mut().spawned);
        for t in spawned {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(t)));
        }
        // Messages waiting in the inbox are the process's memory too.
        let left = inner.state.borrow_mut().take_queued();
        let _ = catch_unwind(AssertUnwindSafe(move || drop(left)));
        inner.life.set(Life::Ended);
    }
}

/// Unsets the process's engine pointer when an event is over.
struct ClearHost<'a, T>(&'a Cell<Option<T>>);
impl<T> Drop for ClearHost<'_, T> {
    fn drop(&mut self) {
        self.0.set(None);
    }
}

impl<M, D> Node for Process<M, D>
where
    M: Clone + Debug + 'static,
    D: Clone + Debug + Default + 'static,
{
    type Msg = Envelope<M>;
    type Timer = Wake;
    type Disk = D;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.start(ctx);
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Envelope<M>) {
        self.message(ctx, from, msg);
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Wake) {
        self.wake(ctx, timer);
    }
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: Envelope<M>) {
        self.client_request(ctx, req, msg);
    }
    fn label(msg: &Envelope<M>) -> String {
        msg.label()
    }
}
