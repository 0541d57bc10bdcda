//! The futures a [`Proc`] hands out: waiting for a message, a client's
//! request, a timer, a reply, a spawned task. Each keeps its bookkeeping in
//! the process's shared state and forgets it when dropped, which is how
//! cancellation works: a dropped sleep cancels its timer, a dropped request
//! forgets its correlation id.

use super::handle::{JoinSlot, Proc, Sleeping};
use super::wire::{ClientRequest, Incoming, Wake};
use crate::sim::{SimDuration, TimerId};
use std::cell::RefCell;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// The future of [`Proc::recv`].
#[must_use = "futures do nothing unless awaited"]
pub struct Recv<M, D> {
    pub(crate) p: Proc<M, D>,
}

impl<M, D> Future for Recv<M, D> {
    type Output = Incoming<M>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Incoming<M>> {
        let mut s = self.p.inner.state.borrow_mut();
        match s.inbox.pop_front() {
            Some(m) => Poll::Ready(m),
            None => {
                if !s.recv_wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    s.recv_wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

/// The future of [`Proc::recv_client`].
#[must_use = "futures do nothing unless awaited"]
pub struct RecvClient<M, D> {
    pub(crate) p: Proc<M, D>,
}

impl<M, D> Future for RecvClient<M, D> {
    type Output = ClientRequest<M>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ClientRequest<M>> {
        let mut s = self.p.inner.state.borrow_mut();
        match s.clients.pop_front() {
            Some(m) => Poll::Ready(m),
            None => {
                if !s.client_wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    s.client_wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

/// The future of [`Proc::sleep`]; dropping it before it fires cancels its
/// timer.
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep<M: Clone + Debug + 'static, D: Clone + Debug + Default + 'static> {
    pub(crate) p: Proc<M, D>,
    pub(crate) after: SimDuration,
    pub(crate) armed: Option<(u64, TimerId)>,
    pub(crate) done: bool,
}

impl<M: Clone + Debug + 'static, D: Clone + Debug + Default + 'static> Future for Sleep<M, D> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        let Some((id, _)) = self.armed else {
            let id = {
                let mut s = self.p.inner.state.borrow_mut();
                let id = s.next_wake;
                s.next_wake += 1;
                s.sleeps.insert(
                    id,
                    Sleeping {
                        fired: false,
                        waker: Some(cx.waker().clone()),
                    },
                );
                id
            };
            let after = self.after;
            let t = match self.p.engine("sleep") {
                Some(mut e) => e.host().set_timer(after, Wake(id)),
                // Outside its process: no timer, so it never fires.
                None => {
                    if let Ok(mut s) = self.p.inner.state.try_borrow_mut() {
                        s.sleeps.remove(&id);
                    }
                    return Poll::Pending;
                }
            };
            self.armed = Some((id, t));
            return Poll::Pending;
        };
        let mut s = self.p.inner.state.borrow_mut();
        match s.sleeps.get_mut(&id) {
            Some(sl) if sl.fired => {
                s.sleeps.remove(&id);
                drop(s);
                self.done = true;
                Poll::Ready(())
            }
            Some(sl) => {
                sl.waker = Some(cx.waker().clone());
                Poll::Pending
            }
            None => Poll::Pending,
        }
    }
}

impl<M: Clone + Debug + 'static, D: Clone + Debug + Default + 'static> Drop for Sleep<M, D> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some((id, t)) = self.armed {
            if let Ok(mut s) = self.p.inner.state.try_borrow_mut() {
                s.sleeps.remove(&id);
            }
            // Quietly: when a crash drops the process, the engine has
            // cancelled its timers already.
            if let Some(mut e) = self.p.quiet_engine() {
                e.host().cancel_timer(t);
            }
        }
    }
}

/// Waits for the reply to one request; dropping it forgets the request.
pub(crate) struct ReplyWait<M: Clone + Debug + 'static, D: Clone + Debug + Default + 'static> {
    pub(crate) p: Proc<M, D>,
    pub(crate) corr: u64,
}

impl<M: Clone + Debug + 'static, D: Clone + Debug + Default + 'static> Future for ReplyWait<M, D> {
    type Output = M;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<M> {
        let mut s = self.p.inner.state.borrow_mut();
        let Some(p) = s.requests.get_mut(&self.corr) else {
            return Poll::Pending;
        };
        match p.reply.take() {
            Some(m) => {
                s.requests.remove(&self.corr);
                Poll::Ready(m)
            }
            None => {
                p.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<M: Clone + Debug + 'static, D: Clone + Debug + Default + 'static> Drop for ReplyWait<M, D> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.p.inner.state.try_borrow_mut() {
            s.requests.remove(&self.corr);
        }
    }
}

/// Resolves to the output of a task started with [`Proc::spawn`].
#[must_use = "dropping a JoinHandle detaches its task"]
pub struct JoinHandle<T> {
    pub(crate) slot: Rc<RefCell<JoinSlot<T>>>,
}

impl<T> JoinHandle<T> {
    /// True once the task has finished (its output not yet taken).
    pub fn is_finished(&self) -> bool {
        self.slot.borrow().value.is_some()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = self.slot.borrow_mut();
        match s.value.take() {
            Some(v) => Poll::Ready(v),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
