//! A run's client history in the linearizability checker's terms
//! ([`crate::check::linearizability::KvMap`]), and the acknowledged writes
//! a run lost.
//!
//! Each attempt a client made is one operation: a reply that fails
//! (`NotLeader`, `Unavailable`, `NoLease`) means it took no effect and is
//! left out; no reply, or [`super::QMsg::MaybeApplied`], leaves its outcome
//! unknown (it may take effect at any time after its invocation, or never);
//! a read that returned siblings is of unknown result too (a map holds one
//! value per key). Value 0 is the empty value of a key never written.

use super::leader::LfMsg;
use super::quorum::QMsg;
use super::{Key, Value};
use crate::check::linearizability::{KvOp, KvRet, LinHistory};
use crate::error::Result;
use crate::sim::{History, OpId, OpStatus};
use std::collections::BTreeSet;

/// A cluster's client messages, read as key-value operations.
pub trait LinMap: Sized {
    /// The operation a request is, with its result if `reply` gives one;
    /// `None` for a message that is not a client operation.
    fn to_kv(request: &Self, reply: Option<&Self>) -> Option<(KvOp, Option<KvRet>)>;
    /// The `(key, value)` a request writes, if it is a write.
    fn write_of(request: &Self) -> Option<(Key, Value)>;
    /// True if `reply` acknowledges a write.
    fn acknowledges(reply: &Self) -> bool;
}

fn text(v: Value) -> String {
    if v == 0 {
        String::new()
    } else {
        v.to_string()
    }
}

impl LinMap for LfMsg {
    fn to_kv(request: &Self, reply: Option<&Self>) -> Option<(KvOp, Option<KvRet>)> {
        match (request, reply) {
            (LfMsg::Put { key, value }, r) => Some((
                KvOp::put(key, text(*value)),
                matches!(r, Some(LfMsg::PutOk)).then_some(KvRet::Ok),
            )),
            (LfMsg::Get { key }, Some(LfMsg::Value(v))) => {
                Some((KvOp::get(key), Some(KvRet::Value(text(*v)))))
            }
            (LfMsg::Get { key }, _) => Some((KvOp::get(key), None)),
            _ => None,
        }
    }
    fn write_of(request: &Self) -> Option<(Key, Value)> {
        match request {
            LfMsg::Put { key, value } => Some((*key, *value)),
            _ => None,
        }
    }
    fn acknowledges(reply: &Self) -> bool {
        *reply == LfMsg::PutOk
    }
}

impl LinMap for QMsg {
    fn to_kv(request: &Self, reply: Option<&Self>) -> Option<(KvOp, Option<KvRet>)> {
        match (request, reply) {
            (QMsg::Put { key, value, .. }, r) => Some((
                KvOp::put(key, text(*value)),
                matches!(r, Some(QMsg::PutOk { .. })).then_some(KvRet::Ok),
            )),
            (
                QMsg::Get { key },
                Some(QMsg::Got {
                    value, siblings, ..
                }),
            ) if siblings.len() <= 1 => Some((KvOp::get(key), Some(KvRet::Value(text(*value))))),
            (QMsg::Get { key }, _) => Some((KvOp::get(key), None)),
            _ => None,
        }
    }
    fn write_of(request: &Self) -> Option<(Key, Value)> {
        match request {
            QMsg::Put { key, value, .. } => Some((*key, *value)),
            _ => None,
        }
    }
    fn acknowledges(reply: &Self) -> bool {
        matches!(reply, QMsg::PutOk { .. })
    }
}

/// The history of a run as key-value operations, ready for
/// [`crate::check::linearizability::check_linearizable`] with
/// [`crate::check::linearizability::KvMap`].
pub fn kv_history<M: LinMap>(h: &History<M>) -> Result<LinHistory<KvOp, KvRet>> {
    LinHistory::from_run(h, |req, reply| M::to_kv(req, reply))
}

/// The acknowledged writes whose `(key, value)` is not in `surviving`
/// (what the cluster holds at the end), by operation id. With a distinct
/// value per write, these are the writes a client was told were done and
/// that are gone.
pub fn lost_writes<M: LinMap>(h: &History<M>, surviving: &BTreeSet<(Key, Value)>) -> Vec<OpId> {
    h.ops()
        .iter()
        .filter(|o| o.status == OpStatus::Ok && o.reply.as_ref().is_some_and(M::acknowledges))
        .filter_map(|o| M::write_of(&o.request).map(|w| (o.id, w)))
        .filter(|(_, w)| !surviving.contains(w))
        .map(|(id, _)| id)
        .collect()
}
