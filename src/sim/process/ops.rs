//! A process as a client of the system: [`Proc::invoke`] is a request
//! whose invocation and completion go into the run's history
//! ([`crate::sim::Sim::history`]), like the operations of the engine's own
//! clients, so that history checkers and diagrams see a client written as
//! async code.

use super::combinators::{race, Either};
use super::futures::ReplyWait;
use super::handle::{Pending, Proc, TimedOut};
use super::host::OpEnd;
use super::wire::Envelope;
use crate::sim::{ClientId, NodeId, OpId, SimDuration};
use std::fmt::Debug;
use std::future::Future;

impl<M: Clone + Debug + 'static, D: Clone + Debug + Default + 'static> Proc<M, D> {
    /// Sends `msg` to `to` as a request, like [`Proc::request`], and records
    /// it in the run's history as an operation of client `client`: invoked
    /// now, with status `Ok` and the reply when the reply arrives, given up
    /// (status `Unknown`) at the timeout or when this future is dropped, and
    /// a late reply noted as such. If the process crashes meanwhile, the
    /// operation stays pending, of unknown outcome, as for any client that
    /// vanished. The history holds the envelopes that crossed the wire
    /// (`Envelope::Request` and `Envelope::Reply`; `.body()` gives the
    /// message).
    ///
    /// A client id of [`crate::error::limits::CLIENTS`] or more, or a full
    /// history ([`crate::error::limits::OPS`] operations), sends the request
    /// all the same but records nothing, counted under "operations not
    /// recorded (client id or history size past its limit)".
    pub fn invoke(
        &self,
        client: ClientId,
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
            let wait = ReplyWait { p: p.clone(), corr };
            let op = match p.engine("invoke") {
                Some(mut e) => {
                    let h = e.host();
                    let op = h.invoke_op(client, to, Envelope::Request(corr, msg.clone()));
                    h.send(to, Envelope::Request(corr, msg));
                    op
                }
                None => None,
            };
            // Records "gave up" if this future is dropped before an answer.
            let mut watch = OpWatch {
                p: p.clone(),
                op,
                corr,
            };
            match race(wait, p.sleep(timeout)).await {
                Either::Left(m) => {
                    if let (Some(op), Some(mut e)) = (watch.op.take(), p.engine("invoke")) {
                        e.host()
                            .end_op(op, OpEnd::Reply(Envelope::Reply(corr, m.clone())));
                    }
                    Ok(m)
                }
                Either::Right(()) => Err(TimedOut), // `watch` records it
            }
        }
    }
}

/// An operation still waiting; dropped before its reply, it records that
/// the client gave up, and remembers the correlation id for a late reply.
struct OpWatch<M: Clone + Debug + 'static, D: Clone + Debug + Default + 'static> {
    p: Proc<M, D>,
    op: Option<OpId>,
    corr: u64,
}

impl<M: Clone + Debug + 'static, D: Clone + Debug + Default + 'static> Drop for OpWatch<M, D> {
    fn drop(&mut self) {
        let Some(op) = self.op else { return };
        // Quietly: a crash drops the waiting operation too, and a client
        // that crashed did not give up, it vanished.
        if let Some(mut e) = self.p.quiet_engine() {
            e.host().end_op(op, OpEnd::GaveUp);
            drop(e);
            if let Ok(mut s) = self.p.inner.state.try_borrow_mut() {
                s.gave_up.insert(self.corr, op);
            }
        }
    }
}
