//! The clients of a run: closed loop, programs drawn from the mix,
//! retries of programs the database aborted for a conflict.

use super::{AbortReason, IsolationParams, Msg, Program};
use crate::sim::rng::{self, SimRng};
use crate::sim::{ClientId, Invoke, Op, OpStatus, SimTime, Workload};
use std::collections::{BTreeMap, BTreeSet};

/// What one client is doing.
#[derive(Debug, Clone)]
struct ClientState {
    left: usize,
    current: Option<(Program, bool, SimTime)>,
    attempts: u32,
}

/// The closed-loop clients of a run (see the [module docs](super)): each
/// runs `txns_per_client` programs drawn from the mix, retrying one the
/// database aborted for a conflict up to `retries` times.
pub fn clients(p: &IsolationParams) -> impl Workload<Msg> {
    let p = p.clone();
    let mut state: BTreeMap<ClientId, ClientState> = BTreeMap::new();
    move |client: ClientId, now: SimTime, rng: &mut SimRng, last: Option<&Op<Msg>>| {
        let s = state.entry(client).or_insert(ClientState {
            left: p.txns_per_client,
            current: None,
            attempts: 0,
        });
        let conflict = last.is_some_and(|op| {
            op.status == OpStatus::Failed
                && matches!(
                    op.reply,
                    Some(Msg::Aborted {
                        reason: AbortReason::Conflict,
                        ..
                    })
                )
        });
        let (program, rollback, born) = match &s.current {
            Some(c) if conflict && s.attempts < p.retries => {
                s.attempts += 1;
                c.clone()
            }
            _ => {
                if s.left == 0 {
                    return None;
                }
                s.left -= 1;
                s.attempts = 0;
                let (program, rollback) = draw(&p, rng);
                (program, rollback, now)
            }
        };
        s.current = Some((program.clone(), rollback, born));
        Some(
            Invoke::new(
                0,
                Msg::Begin {
                    program,
                    rollback,
                    born,
                },
            )
            .after(p.think),
        )
    }
}

/// One program from the mix, and whether its client will roll it back.
fn draw(p: &IsolationParams, rng: &mut SimRng) -> (Program, bool) {
    let total = p.mix.transfer + p.mix.audit + p.mix.on_call;
    let u = rng::unit_f64(rng) * total;
    if u < p.mix.transfer {
        let from = rng::index(rng, p.accounts);
        let mut to = rng::index(rng, p.accounts - 1);
        if to >= from {
            to += 1;
        }
        let amount = 1 + rng::index(rng, p.max_amount as usize) as i64;
        let rollback = rng::chance(rng, p.rollback);
        (Program::Transfer { from, to, amount }, rollback)
    } else if u < p.mix.transfer + p.mix.audit || p.mix.on_call <= 0.0 || p.on_call_pairs == 0 {
        // Floyd's algorithm: `audit_size` distinct accounts.
        let n = p.accounts;
        let mut keys = BTreeSet::new();
        for j in n - p.audit_size..n {
            let t = rng::index(rng, j + 1);
            if !keys.insert(t) {
                keys.insert(j);
            }
        }
        let keys = keys.into_iter().collect();
        (Program::Audit { keys }, false)
    } else {
        let pair = rng::index(rng, p.on_call_pairs);
        let first = p.accounts + 2 * pair;
        let (me, other) = if rng::chance(rng, 0.5) {
            (first, first + 1)
        } else {
            (first + 1, first)
        };
        (Program::OnCall { me, other }, false)
    }
}
