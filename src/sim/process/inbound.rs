//! What the node adaptor hands a process: a message (one-way, a request,
//! or the reply to one of its own requests), a client's request, a timer.
//! Each lands in the process's state and wakes the tasks waiting for it.

use super::handle::{Proc, State};
use super::host::OpEnd;
use super::wire::{ClientRequest, Envelope, Incoming, Wake};
use crate::sim::NodeId;
use std::cell::RefCell;
use std::fmt::Debug;
use std::task::Waker;

impl<M: Clone + Debug + 'static, D: Clone + Debug + Default + 'static> Proc<M, D> {
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
                        None => self.late_reply(c),
                    }
                    return;
                }
            }
        };
        wake_all(&self.inner.state, wakers, |s| &mut s.recv_wakers);
    }

    /// A reply with no request waiting for it: late (its request timed
    /// out or was dropped) or a duplicate.
    fn late_reply(&self, corr: u64) {
        let op = self.inner.state.borrow().gave_up.get(&corr).copied();
        if let Some(mut e) = self.engine("recv") {
            let h = e.host();
            h.count("late or duplicate replies");
            if let Some(op) = op {
                h.end_op(op, OpEnd::Late);
            }
        }
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
