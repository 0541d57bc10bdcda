//! Waiting for several futures at once: the first of two ([`race`]), the
//! first `k` successes of many ([`quorum`]), all of them ([`join_all`]).
//!
//! All three poll their futures in argument order, so which future wins a
//! tie (two replies delivered in the same event) is fixed, not up to a
//! scheduler. Futures that are no longer needed are dropped when the
//! combinator resolves, which cancels them: a dropped request forgets its
//! correlation id (its late reply is counted and ignored), a dropped sleep
//! cancels its timer.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// The output of [`race`]: which future finished first, with its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Either<A, B> {
    /// The first future won.
    Left(A),
    /// The second future won.
    Right(B),
}

/// Resolves with the output of whichever of `a` and `b` finishes first (`a`
/// if both finish in the same poll); the other is dropped.
pub async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(x));
        }
        if let Poll::Ready(y) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(y));
        }
        Poll::Pending
    })
    .await
}

/// Resolves with the outputs of all `futs`, in their order.
///
/// Each future is polled once at the start and afterwards only when it
/// woke: a wait for `n` futures costs O(n) polls in all, not a poll of every
/// future at every wake (which made 30,000 sleeps take O(n²) polls).
pub async fn join_all<F: Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut set = Children::new(futs);
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    let mut left = set.len();
    poll_fn(|cx| {
        set.poll_woken(cx, |i, v| {
            out[i] = Some(v);
            left -= 1;
            false
        });
        if left == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// Why a [`quorum`] did not resolve to `k` successes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuorumError<E> {
    /// `k` is 0 or larger than the number of futures: no quorum can form.
    Invalid {
        /// The quorum size asked for.
        k: usize,
        /// How many futures were given.
        n: usize,
    },
    /// So many futures failed that `k` successes became impossible.
    Unreachable {
        /// How many succeeded before that was certain.
        ok: usize,
        /// The failures, as (index of the future, its error), in the order
        /// they happened.
        errors: Vec<(usize, E)>,
    },
}

impl<E: fmt::Debug> fmt::Display for QuorumError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuorumError::Invalid { k, n } => write!(
                f,
                "a quorum of {k} out of {n} futures cannot form: use k between 1 and {n}"
            ),
            QuorumError::Unreachable { ok, errors } => write!(
                f,
                "quorum unreachable: {ok} succeeded, {} failed",
                errors.len()
            ),
        }
    }
}

impl<E: fmt::Debug> std::error::Error for QuorumError<E> {}

/// Resolves as soon as `k` of `futs` succeed, with their outputs as
/// (index of the future, output) in the order they succeeded; or with
/// [`QuorumError::Unreachable`] as soon as more than `n - k` have failed.
/// The futures still running are then dropped (cancelled). A `k` of 0 or
/// larger than `futs.len()` resolves at once to [`QuorumError::Invalid`].
pub async fn quorum<T, E, F>(k: usize, futs: Vec<F>) -> Result<Vec<(usize, T)>, QuorumError<E>>
where
    F: Future<Output = Result<T, E>>,
{
    let n = futs.len();
    if k == 0 || k > n {
        return Err(QuorumError::Invalid { k, n });
    }
    let mut set = Children::new(futs);
    let mut ok: Vec<(usize, T)> = Vec::with_capacity(k);
    let mut errors: Vec<(usize, E)> = Vec::new();
    let mut done = None;
    poll_fn(|cx| {
        set.poll_woken(cx, |i, r| {
            match r {
                Ok(v) => ok.push((i, v)),
                Err(e) => errors.push((i, e)),
            }
            if ok.len() == k {
                done = Some(true);
            } else if errors.len() > n - k {
                done = Some(false);
            }
            done.is_some()
        });
        if done.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    let done = done == Some(true);
    drop(set); // cancel the rest before the caller resumes
    if done {
        Ok(ok)
    } else {
        Err(QuorumError::Unreachable {
            ok: ok.len(),
            errors,
        })
    }
}

/// Many futures, each with a waker of its own that notes its index, so that
/// a poll of the set polls only the futures that woke, in index order.
struct Children<F> {
    slots: Vec<Option<Pin<Box<F>>>>,
    wakers: Vec<Waker>,
    flags: Vec<Arc<Child>>,
    woke: Arc<Mutex<Woke>>,
    /// Indices to poll now (kept to reuse its allocation).
    batch: Vec<usize>,
    started: bool,
}

/// What the children's wakers share: the indices that woke since the set
/// was last polled, and the waker of the task that polls the set.
#[derive(Default)]
struct Woke {
    list: Vec<usize>,
    parent: Option<Waker>,
}

/// One child's waker: queues its index once until it is polled again, then
/// wakes the task that polls the set.
struct Child {
    index: usize,
    queued: AtomicBool,
    woke: Arc<Mutex<Woke>>,
}

impl Wake for Child {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::Relaxed) {
            return;
        }
        let parent = {
            let mut w = lock(&self.woke);
            w.list.push(self.index);
            w.parent.clone()
        };
        if let Some(p) = parent {
            p.wake();
        }
    }
}

/// The shared list's lock: never contended (one thread), and nothing
/// panics while holding it.
fn lock(m: &Mutex<Woke>) -> std::sync::MutexGuard<'_, Woke> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<F: Future> Children<F> {
    fn new(futs: Vec<F>) -> Self {
        let woke = Arc::new(Mutex::new(Woke::default()));
        let n = futs.len();
        let flags: Vec<Arc<Child>> = (0..n)
            .map(|index| {
                Arc::new(Child {
                    index,
                    queued: AtomicBool::new(true),
                    woke: woke.clone(),
                })
            })
            .collect();
        Children {
            slots: futs.into_iter().map(|f| Some(Box::pin(f))).collect(),
            wakers: flags.iter().map(|f| Waker::from(f.clone())).collect(),
            flags,
            woke,
            batch: Vec::new(),
            started: false,
        }
    }

    fn len(&self) -> usize {
        self.slots.len()
    }

    /// Polls every child that woke since the last call (all of them the
    /// first time), in index order, handing each output to `done`, which
    /// returns true to stop at once (the rest stay queued for next time).
    fn poll_woken(&mut self, cx: &mut Context<'_>, mut done: impl FnMut(usize, F::Output) -> bool) {
        {
            let mut w = lock(&self.woke);
            if !w.parent.as_ref().is_some_and(|p| p.will_wake(cx.waker())) {
                w.parent = Some(cx.waker().clone());
            }
            if self.started {
                std::mem::swap(&mut self.batch, &mut w.list);
            }
        }
        if !self.started {
            self.started = true;
            self.batch.extend(0..self.slots.len());
        }
        // Same-event wakes are polled in argument order, as a tie must
        // resolve the same way on every run.
        self.batch.sort_unstable();
        let mut stop_at = None;
        for (j, &i) in self.batch.iter().enumerate() {
            self.flags[i].queued.store(false, Ordering::Relaxed);
            let Some(f) = self.slots[i].as_mut() else {
                continue;
            };
            let mut child_cx = Context::from_waker(&self.wakers[i]);
            if let Poll::Ready(v) = f.as_mut().poll(&mut child_cx) {
                self.slots[i] = None;
                if done(i, v) {
                    stop_at = Some(j + 1);
                    break;
                }
            }
        }
        if let Some(j) = stop_at {
            // Not polled: keep them for a next call (none comes for a
            // finished quorum, which drops the set).
            let rest: Vec<usize> = self.batch[j..].to_vec();
            lock(&self.woke).list.extend(rest);
        }
        self.batch.clear();
    }
}
