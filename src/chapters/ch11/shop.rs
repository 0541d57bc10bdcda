//! The shop: orders run as workflows by a worker (node 0) against four
//! services (inventory, payments, shipping, e-mail: nodes 1 to 4), in one of
//! three [`Way`]s. The workflow itself is a [`Flow`]: an async function of
//! an [`Order`] handle, written once (in the crate, [`standard_order`], or
//! in a notebook cell) and run in every way.
//!
//! Orders arrive at scheduled times into the worker's durable inbox (its
//! disk), as a message queue would hold them. The worker takes each at its
//! arrival and runs the flow; each service call is a request retried every
//! `timeout` until an answer comes. What a crash of the worker does depends
//! on the way:
//! - [`Way::Plain`]: the worker takes an order off the inbox when it starts
//!   it (acknowledges it, in queue terms), and keeps its progress in
//!   memory. A crash loses every order in progress: those with an effect
//!   done are **stuck half-way** (stock reserved, card charged, nothing
//!   shipped). Calls carry no idempotency key, so a retry after a lost
//!   answer performs the effect again.
//! - [`Way::Restart`]: an order leaves the inbox only when its flow has
//!   finished; after a crash the worker **restarts** every unfinished order
//!   from its first step. Every call carries the key `order/step`, so the
//!   steps run again but their effects do not happen again.
//! - [`Way::Durable`]: durable execution ([`crate::durable`]): every step's
//!   result is journaled; after a crash the worker **resumes** every
//!   unfinished order by replaying its journal. Keys are `order/position`.

use crate::durable::{self, Call, Effects, Journal, Role, StepKey, Workflow};
use crate::process::{DiskPart, Proc, Process};
use crate::sim::time::{secs, SimDuration, SimTime};
use crate::sim::NodeId;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// An order's number (its workflow id).
pub type OrderId = u64;

/// The services a flow calls (nodes 1 to 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Service {
    /// Reserves stock (node 1).
    Inventory,
    /// Charges cards (node 2).
    Payments,
    /// Ships parcels (node 3).
    Shipping,
    /// Sends e-mail (node 4).
    Email,
}

impl Service {
    /// All four, by node.
    pub const ALL: [Service; 4] = [
        Service::Inventory,
        Service::Payments,
        Service::Shipping,
        Service::Email,
    ];
    /// Its node id.
    pub fn node(self) -> NodeId {
        match self {
            Service::Inventory => 1,
            Service::Payments => 2,
            Service::Shipping => 3,
            Service::Email => 4,
        }
    }
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Service::Inventory => "inventory",
            Service::Payments => "payments",
            Service::Shipping => "shipping",
            Service::Email => "e-mail",
        }
    }
}

/// How the worker survives its crashes; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Way {
    /// Plain code with retries: progress in memory, no keys.
    Plain,
    /// Retries with idempotent steps: restart unfinished orders from the
    /// first step, every call keyed.
    Restart,
    /// Durable execution: resume by replaying the journal.
    Durable,
}

impl Way {
    /// The three, in chart order.
    pub const ALL: [Way; 3] = [Way::Plain, Way::Restart, Way::Durable];
    /// Its name in charts and tables.
    pub fn name(self) -> &'static str {
        match self {
            Way::Plain => "plain code with retries",
            Way::Restart => "restart, idempotent steps",
            Way::Durable => "durable execution",
        }
    }
}

/// The worker's and the services' disk (each node uses its part): the
/// inbox of orders not yet finished (or, in the plain way, not yet taken),
/// with their arrival times; the journal; a service's effects.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ShopDisk {
    /// Orders waiting or in progress, with their arrival times.
    pub inbox: imbl::OrdMap<OrderId, SimTime>,
    /// The worker's journal (durable way).
    pub journal: Journal,
    /// A service's effects.
    pub effects: Effects,
}

impl DiskPart<Journal> for ShopDisk {
    fn part(&mut self) -> &mut Journal {
        &mut self.journal
    }
}
impl DiskPart<Effects> for ShopDisk {
    fn part(&mut self) -> &mut Effects {
        &mut self.effects
    }
}

/// A node of the shop.
pub type ShopNode = Role<ShopDisk>;

/// What a flow returns: its steps, as one future.
pub type Steps = Pin<Box<dyn Future<Output = ()>>>;

/// A workflow: an async function of an [`Order`]. A plain `fn` (a closure
/// that captures nothing coerces to one), so a notebook cell can hand its
/// own to the precompiled experiments.
pub type Flow = fn(Order) -> Steps;

/// The order workflow the chapter runs (the notebook's first cell of code
/// is the same, and `tests/ch11.rs` checks that they do not drift apart).
pub fn standard_order(o: Order) -> Steps {
    Box::pin(async move {
        o.call("reserve stock", Service::Inventory).await;
        o.call("charge card", Service::Payments).await;
        o.call("ship", Service::Shipping).await;
        o.sleep("wait for delivery", secs(1)).await;
        o.call("notify", Service::Email).await;
    })
}

/// What a flow acts through: one order, run in one way.
#[derive(Clone)]
pub struct Order {
    id: OrderId,
    arrival: SimTime,
    way: Way,
    p: Proc<Call, ShopDisk>,
    wf: Option<Workflow<Call, ShopDisk>>,
    timeout: SimDuration,
}

impl Order {
    /// The order's number.
    pub fn id(&self) -> OrderId {
        self.id
    }
    /// When it arrived.
    pub fn arrival(&self) -> SimTime {
        self.arrival
    }
    /// The way it runs.
    pub fn way(&self) -> Way {
        self.way
    }
    /// The worker's clock, read outside any journal: on a replay it gives
    /// the time of the replay, not of the first run.
    pub fn unjournaled_now(&self) -> SimTime {
        self.p.now()
    }

    // --- the three ways (shown in the notebook) ---
    /// Calls `service` to perform step `step` and returns its receipt,
    /// retrying every `timeout` until an answer comes. The only place the
    /// three ways differ.
    pub fn call(&self, step: &str, service: Service) -> impl Future<Output = u64> + 'static {
        self.call_keyed(step, service, true)
    }

    /// Like [`Order::call`], but never with an idempotency key.
    pub fn call_unkeyed(
        &self,
        step: &str,
        service: Service,
    ) -> impl Future<Output = u64> + 'static {
        self.call_keyed(step, service, false)
    }

    fn call_keyed(&self, step: &str, service: Service, keyed: bool) -> Steps1<u64> {
        let (p, id, to, t) = (self.p.clone(), self.id, service.node(), self.timeout);
        let name = step.to_string();
        match (&self.wf, self.way) {
            // Plain: no key; a retry after a lost answer repeats the effect.
            (None, Way::Plain) => {
                Box::pin(async move { durable::call(&p, to, id, &name, None, t).await })
            }
            // Restart: the key names the order and the step.
            (None, _) => {
                let key = keyed.then(|| format!("{id}/{name}"));
                Box::pin(async move { durable::call(&p, to, id, &name, key, t).await })
            }
            // Durable: a journaled step, keyed by its journal position.
            (Some(wf), _) => Box::pin(wf.step(step, move |k: StepKey| async move {
                let key = keyed.then(|| k.to_string());
                durable::call(&p, to, id, &name, key, t).await
            })),
        }
    }
    // --- end of the three ways ---

    /// Waits `d`: a durable sleep (journaled, resumed after a crash) in the
    /// durable way, a plain sleep (lost with the process) otherwise.
    pub fn sleep(&self, name: &str, d: SimDuration) -> impl Future<Output = ()> + 'static {
        let fut: Steps = match &self.wf {
            Some(wf) => Box::pin(wf.sleep(name, d)),
            None => Box::pin(self.p.sleep(d)),
        };
        fut
    }

    /// The current time, journaled in the durable way (a replay reads the
    /// time of the first run); the worker's clock otherwise.
    pub fn now(&self) -> impl Future<Output = SimTime> + 'static {
        let fut: Steps1<SimTime> = match &self.wf {
            Some(wf) => Box::pin(wf.now()),
            None => Box::pin(std::future::ready(self.p.now())),
        };
        fut
    }
}

/// A boxed future with an output.
type Steps1<T> = Pin<Box<dyn Future<Output = T>>>;

/// First completion time of each order, as the outside world saw it (kept
/// by the experiment, not by the worker: it survives crashes).
pub(crate) type Finished = Rc<RefCell<BTreeMap<OrderId, SimTime>>>;

/// The worker: starts every order still in its inbox (each waits for its
/// arrival), runs its flow, and records its end.
pub(crate) fn worker(
    way: Way,
    flow: Flow,
    timeout: SimDuration,
    done: Finished,
) -> Process<Call, ShopDisk> {
    Process::new(move |p: Proc<Call, ShopDisk>| {
        let done = done.clone();
        async move {
            let inbox: Vec<(OrderId, SimTime)> =
                p.disk(|d| d.inbox.iter().map(|(k, v)| (*k, *v)).collect());
            for (id, arrival) in inbox {
                let (q, done) = (p.clone(), done.clone());
                drop(p.spawn(async move {
                    let now = q.now();
                    if arrival > now {
                        q.sleep(arrival.since(now)).await;
                    }
                    if way == Way::Plain {
                        q.disk(|d| d.inbox.remove(&id));
                        q.sync("take the order");
                    }
                    let wf = (way == Way::Durable).then(|| Workflow::new(&q, id));
                    let o = Order {
                        id,
                        arrival,
                        way,
                        p: q.clone(),
                        wf,
                        timeout,
                    };
                    flow(o).await;
                    if q.is_attached() {
                        // Not if the worker died at a crash point just now.
                        done.borrow_mut().entry(id).or_insert(q.now());
                    }
                    if way != Way::Plain {
                        q.disk(|d| d.inbox.remove(&id));
                        q.sync("order done");
                    }
                }));
            }
        }
    })
}

/// The code of [`Order::call`] and its helper, where the three ways differ,
/// as it is in this file (read from the crate's own source, so it cannot
/// drift from what runs).
pub fn three_ways_source() -> String {
    let src = include_str!("shop.rs");
    let start = src.find("    // --- the three ways").unwrap_or(0);
    let end = src[start..]
        .find("    // --- end of the three ways")
        .map_or(src.len(), |e| start + e);
    src[start..end]
        .lines()
        .skip(1)
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}
