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
use std::task::Poll;

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
pub async fn join_all<F: Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut slots: Vec<Option<Pin<Box<F>>>> = futs.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut out: Vec<Option<F::Output>> = slots.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut pending = false;
        for (slot, o) in slots.iter_mut().zip(out.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *o = Some(v);
                        *slot = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
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
    let mut slots: Vec<Option<Pin<Box<F>>>> = futs.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut ok: Vec<(usize, T)> = Vec::with_capacity(k);
    let mut errors: Vec<(usize, E)> = Vec::new();
    let done = poll_fn(|cx| {
        for (i, slot) in slots.iter_mut().enumerate() {
            let Some(f) = slot else { continue };
            if let Poll::Ready(r) = f.as_mut().poll(cx) {
                *slot = None;
                match r {
                    Ok(v) => ok.push((i, v)),
                    Err(e) => errors.push((i, e)),
                }
                if ok.len() == k {
                    return Poll::Ready(true);
                }
                if errors.len() > n - k {
                    return Poll::Ready(false);
                }
            }
        }
        Poll::Pending
    })
    .await;
    drop(slots); // cancel the rest before the caller resumes
    if done {
        Ok(ok)
    } else {
        Err(QuorumError::Unreachable {
            ok: ok.len(),
            errors,
        })
    }
}
