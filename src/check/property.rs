//! Properties checked while a run goes, on typed events and the state of
//! the world: never on label text.
//!
//! - [`invariant`]: a predicate on the world that must hold after every
//!   event (safety), such as "the accounts always sum to the same total".
//! - [`never()`]: an event that must never happen, judged with the world
//!   around it (safety), such as "the server never processes a request
//!   twice".
//! - [`eventually`]: every obligation an event opens must be met by a later
//!   event within a deadline (liveness), such as "every request is answered
//!   within 500 ms".
//!
//! Attach them with [`crate::sim::Sim::check`]; the engine records the first
//! violation of each, with the event and the time.
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::check::{invariant, never};
//!
//! #[derive(Clone, Default)]
//! struct Counter(u64);
//! impl Node for Counter {
//!     type Msg = u64;
//!     type Timer = ();
//!     type Disk = ();
//!     fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, m: u64) { self.0 += m; }
//! }
//! let mut sim = Sim::builder().build(vec![Counter::default()])?;
//! sim.check(invariant("count stays below 10", |w: &World<Counter>| {
//!     if w.nodes[0].0 < 10 { Ok(()) } else { Err(format!("count is {}", w.nodes[0].0)) }
//! }));
//! sim.check(never("no message of 7", |e: &SimEvent<Counter>, _: &World<Counter>| match e {
//!     SimEvent::Deliver { msg: 7, .. } => Some("a 7 arrived".to_string()),
//!     _ => None,
//! }));
//! for (i, m) in [3u64, 4, 5].into_iter().enumerate() {
//!     sim.inject_exact(0, m, ms(i as u64 + 1))?;
//! }
//! sim.run_for(ms(10))?;
//! let v = sim.violation().expect("3 + 4 + 5 reaches 12");
//! assert_eq!(v.property, "count stays below 10");
//! assert_eq!(v.time, SimTime::from_start(ms(3)));
//! assert_eq!(v.reason, "count is 12");
//! # Ok::<(), thinkdist::Error>(())
//! ```

use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Node, Property, PropertyKind, SimEvent, World};
use std::collections::BTreeMap;
use std::fmt::Display;

/// Safety on the state: `holds(world)` after every event; `Err(reason)`
/// is a violation.
pub fn invariant<N: Node, F>(name: &str, holds: F) -> impl Property<N>
where
    F: FnMut(&World<'_, N>) -> Result<(), String>,
{
    Invariant {
        name: name.to_string(),
        holds,
    }
}

struct Invariant<F> {
    name: String,
    holds: F,
}

impl<N: Node, F> Property<N> for Invariant<F>
where
    F: FnMut(&World<'_, N>) -> Result<(), String>,
{
    fn name(&self) -> String {
        self.name.clone()
    }
    fn kind(&self) -> PropertyKind {
        PropertyKind::Safety
    }
    fn after(&mut self, _: &SimEvent<'_, N>, world: &World<'_, N>) -> Option<String> {
        (self.holds)(world).err()
    }
}

/// Safety on events: `bad(event, world)` returns `Some(reason)` for an
/// event that must not happen. The closure may keep state (counts per
/// request, say).
pub fn never<N: Node, F>(name: &str, bad: F) -> impl Property<N>
where
    F: FnMut(&SimEvent<'_, N>, &World<'_, N>) -> Option<String>,
{
    Never {
        name: name.to_string(),
        bad,
    }
}

struct Never<F> {
    name: String,
    bad: F,
}

impl<N: Node, F> Property<N> for Never<F>
where
    F: FnMut(&SimEvent<'_, N>, &World<'_, N>) -> Option<String>,
{
    fn name(&self) -> String {
        self.name.clone()
    }
    fn kind(&self) -> PropertyKind {
        PropertyKind::Safety
    }
    fn after(&mut self, event: &SimEvent<'_, N>, world: &World<'_, N>) -> Option<String> {
        (self.bad)(event, world)
    }
}

/// Liveness with a deadline: an event for which `opens` returns `Some(key)`
/// starts an obligation (unless one with that key is open already); an
/// event for which `meets` returns `Some(key)` ends it. An obligation still
/// open `deadline` after it started is a violation, reported at the first
/// event after its deadline, or when the run is judged
/// ([`crate::sim::Sim::finish_checks`]): then every obligation past its
/// deadline fails, and so does every open one if nothing is left to happen
/// (the queue is empty).
pub fn eventually<N: Node, K, O, M>(
    name: &str,
    deadline: SimDuration,
    opens: O,
    meets: M,
) -> impl Property<N>
where
    K: Ord + Display + Clone,
    O: FnMut(&SimEvent<'_, N>, &World<'_, N>) -> Option<K>,
    M: FnMut(&SimEvent<'_, N>, &World<'_, N>) -> Option<K>,
{
    Eventually {
        name: name.to_string(),
        deadline,
        opens,
        meets,
        open: BTreeMap::new(),
        order: BTreeMap::new(),
        next: 0,
    }
}

struct Eventually<K, O, M> {
    name: String,
    deadline: SimDuration,
    opens: O,
    meets: M,
    /// Open obligations: key → (start, arrival number).
    open: BTreeMap<K, (SimTime, u64)>,
    /// (start, arrival number) → key: the oldest open obligation first.
    order: BTreeMap<(SimTime, u64), K>,
    next: u64,
}

impl<K: Ord + Display + Clone, O, M> Eventually<K, O, M> {
    fn describe(&self, key: &K, start: SimTime) -> String {
        format!(
            "{key} opened at {start}, not met by {} (deadline {})",
            start + self.deadline,
            self.deadline
        )
    }
}

impl<N, K, O, M> Property<N> for Eventually<K, O, M>
where
    N: Node,
    K: Ord + Display + Clone,
    O: FnMut(&SimEvent<'_, N>, &World<'_, N>) -> Option<K>,
    M: FnMut(&SimEvent<'_, N>, &World<'_, N>) -> Option<K>,
{
    fn name(&self) -> String {
        self.name.clone()
    }
    fn kind(&self) -> PropertyKind {
        PropertyKind::Liveness
    }
    fn after(&mut self, event: &SimEvent<'_, N>, world: &World<'_, N>) -> Option<String> {
        // A deadline that passed before this event is a violation, whatever
        // this event does.
        if let Some((&(start, _), key)) = self.order.iter().next() {
            if world.now > start + self.deadline {
                return Some(self.describe(key, start));
            }
        }
        if let Some(key) = (self.meets)(event, world) {
            if let Some(at) = self.open.remove(&key) {
                self.order.remove(&at);
            }
        }
        if let Some(key) = (self.opens)(event, world) {
            if !self.open.contains_key(&key) {
                let at = (world.now, self.next);
                self.next += 1;
                self.order.insert(at, key.clone());
                self.open.insert(key, at);
            }
        }
        None
    }
    fn at_end(&mut self, world: &World<'_, N>) -> Option<String> {
        let (&(start, _), key) = self.order.iter().next()?;
        if world.now >= start + self.deadline {
            Some(self.describe(key, start))
        } else if world.pending_events == 0 {
            Some(format!(
                "{key} opened at {start}, never met: the run ended at {} with nothing left to happen",
                world.now
            ))
        } else {
            None
        }
    }
}
