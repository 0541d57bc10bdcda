//! A state's fingerprint: equal states, equal fingerprints, on every run
//! and machine (xxh3 with a fixed seed, no `HashMap` order anywhere).
//!
//! What makes a state: every node's memory, every disk (working and synced
//! copies), which nodes are up, the *multiset* of pending events (messages
//! with sender, receiver and value; timers with owner and value; starts),
//! and the fault budgets used so far. The order of the pending events is
//! not part of it: two runs that sent the same messages in a different
//! order reach one state. Virtual time, random streams and the trace are
//! not part of it either, so a node explored this way must not let its
//! behaviour depend on `ctx.now()` or `ctx.rng()`.

use crate::sim::{Controlled, Event, Node};
use std::hash::{Hash, Hasher};
use xxhash_rust::xxh3::Xxh3;

/// The fixed seed of every fingerprint.
const SEED: u64 = 0x7468_696e_6b64_6973;

fn hasher() -> Xxh3 {
    Xxh3::with_seed(SEED)
}

/// The fingerprint of the state `c` is in, with `used` fault budgets.
pub(super) fn fingerprint<N>(c: &mut Controlled<N>, used: &[u32; 3]) -> u64
where
    N: Node + Hash,
    N::Msg: Hash,
    N::Timer: Hash,
    N::Disk: Hash,
{
    let mut events: Vec<u64> = c
        .pending()
        .iter()
        .map(|p| {
            let mut h = hasher();
            match &p.event {
                Event::Deliver { from, to, msg } => (0u8, from, to, msg).hash(&mut h),
                Event::Timer { node, timer } => (1u8, node, timer).hash(&mut h),
                Event::Start(n) => (2u8, n).hash(&mut h),
                Event::Other => 3u8.hash(&mut h),
            }
            h.finish()
        })
        .collect();
    events.sort_unstable();
    let sim = c.sim();
    let mut h = hasher();
    sim.nodes().hash(&mut h);
    for id in 0..sim.len() {
        sim.is_up(id).hash(&mut h);
        if let Ok(d) = sim.disk(id) {
            d.working().hash(&mut h);
            d.synced().hash(&mut h);
        }
    }
    events.hash(&mut h);
    used.hash(&mut h);
    h.finish()
}
