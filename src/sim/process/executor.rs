//! A deterministic single-threaded executor: a FIFO queue of ready task ids,
//! polled one at a time.
//!
//! Nothing here knows about time or the network. A task is polled only when
//! its waker put its id in the ready queue (or once when spawned); the
//! engine calls [`Executor::poll_next`] until no task is ready. Because one
//! thread does everything and the queue is FIFO, the order of polls is a
//! pure function of the order of wakes, which is a pure function of the
//! events the engine delivered: the same seed gives the same polls.
//!
//! Wakers are ordinary `std::task::Waker`s (built with `std::task::Wake`), so
//! any future that follows the `Future` contract works here, tokio's
//! synchronisation primitives included. They need `Send + Sync`, hence an
//! `Arc<Mutex<..>>` for the queue; it is never contended.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// A task: a future the executor owns, pinned on the heap.
pub(crate) type LocalTask = Pin<Box<dyn Future<Output = ()>>>;

type ReadyQueue = Arc<Mutex<VecDeque<usize>>>;

/// The waker of one task: pushes its id once until it is polled again.
struct TaskWaker {
    id: usize,
    queued: AtomicBool,
    ready: ReadyQueue,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::Relaxed) {
            lock(&self.ready).push_back(self.id);
        }
    }
}

/// The queue's lock; nothing panics while holding it, and a poisoned lock
/// would still hold a consistent queue.
fn lock(q: &ReadyQueue) -> std::sync::MutexGuard<'_, VecDeque<usize>> {
    q.lock().unwrap_or_else(|e| e.into_inner())
}

struct Slot {
    fut: LocalTask,
    waker: Waker,
    flag: Arc<TaskWaker>,
}

/// What one call of [`Executor::poll_next`] did.
pub(crate) enum Polled {
    /// No task was ready.
    Idle,
    /// A task was polled (it may have finished).
    Ran,
    /// A task panicked, with the panic's message.
    Panicked(String),
}

/// The executor; see the [module docs](self).
#[derive(Default)]
pub(crate) struct Executor {
    tasks: Vec<Option<Slot>>,
    /// Free slots, reused lowest-last (a stale wake of a reused id only
    /// polls the new task once more, which every future tolerates).
    free: Vec<usize>,
    ready: ReadyQueue,
    live: usize,
}

impl Executor {
    /// Adds a task and marks it ready; returns its id.
    pub(crate) fn spawn(&mut self, fut: LocalTask) -> usize {
        let id = self.free.pop().unwrap_or(self.tasks.len());
        let flag = Arc::new(TaskWaker {
            id,
            queued: AtomicBool::new(true),
            ready: self.ready.clone(),
        });
        let waker = Waker::from(flag.clone());
        let slot = Slot { fut, waker, flag };
        if id == self.tasks.len() {
            self.tasks.push(Some(slot));
        } else {
            self.tasks[id] = Some(slot);
        }
        self.live += 1;
        lock(&self.ready).push_back(id);
        id
    }

    /// Polls the next ready task once. A panic inside the task is caught and
    /// reported (the task is then dropped).
    pub(crate) fn poll_next(&mut self) -> Polled {
        let Some(id) = lock(&self.ready).pop_front() else {
            return Polled::Idle;
        };
        let Some(slot) = self.tasks.get_mut(id).and_then(|s| s.as_mut()) else {
            return Polled::Ran; // a wake for a task that has finished
        };
        let Slot { fut, waker, flag } = slot;
        flag.queued.store(false, Ordering::Relaxed);
        let mut cx = Context::from_waker(waker);
        let fut = fut.as_mut();
        match catch_unwind(AssertUnwindSafe(|| fut.poll(&mut cx))) {
            Ok(Poll::Pending) => Polled::Ran,
            Ok(Poll::Ready(())) => {
                self.finish(id);
                Polled::Ran
            }
            Err(payload) => {
                self.finish(id);
                Polled::Panicked(panic_message(payload.as_ref()))
            }
        }
    }

    fn finish(&mut self, id: usize) {
        if let Some(slot) = self.tasks[id].take() {
            self.live -= 1;
            self.free.push(id);
            // Dropping a finished future runs its destructors; one that
            // panics must not unwind into the engine.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(slot)));
        }
    }

    /// How many tasks are alive (spawned and not finished).
    pub(crate) fn live(&self) -> usize {
        self.live
    }

    /// Drops every task (their destructors run, in id order).
    pub(crate) fn clear(&mut self) {
        for id in 0..self.tasks.len() {
            self.finish(id);
        }
        lock(&self.ready).clear();
    }
}

/// The text of a panic's payload.
pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}
