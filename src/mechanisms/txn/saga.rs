//! Sagas (Garcia-Molina & Salem 1987): a long transaction as a sequence of
//! local steps, each with a **compensation** that semantically undoes it,
//! run by an orchestrator written as an async process
//! ([`crate::sim::process`]).
//!
//! A trip is booked at several services in turn — flight (node 1), hotel
//! (node 2), car (node 3) — by the orchestrator (node 0). Each step is a
//! request with a timeout, retried a few times. If a service refuses, or
//! never answers, the orchestrator **compensates**: it cancels, newest
//! first, every step that may have taken effect (the unanswered one too:
//! its booking may have happened and only the answer been lost), retrying
//! each cancellation until it is acknowledged. The orchestrator logs its
//! progress durably (a sync per step); after a crash its body runs again
//! and resumes every unfinished saga from its log, forward or backward.
//!
//! There is no prepare and no lock: each step commits locally at once,
//! so between the first step and the last step (or the last compensation)
//! the world is **inconsistent** — the flight is booked, the hotel not —
//! and anybody can see it. That *window of inconsistency* is the price of
//! never blocking: sagas trade isolation for availability.
//!
//! Compensations are retried, so they must be **idempotent**. A service
//! keeps one status per booking; a cancellation releases the unit only if
//! the booking holds one, and leaves a tombstone so that a booking that
//! arrives after its cancellation is refused. [`Compensation::NonIdempotent`]
//! instead releases a unit on *every* cancellation it receives: a retried
//! cancellation whose first answer was lost releases twice, and the
//! service's count of units held no longer matches its bookings.
//!
//! [`check_final`] judges the end state: every trip is booked at all
//! services or at none, and every service holds exactly one unit per
//! booking.

use crate::check::Verdict;
use crate::error::{check_probability, Error, Result};
use crate::sim::process::{ClientRequest, Proc, Process};
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::{Disk, Property, PropertyKind, SimEvent, World};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A trip's id (chosen by the client).
pub type TripId = u64;

/// Messages between clients, the orchestrator and the services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// Client → orchestrator: book trip `id` everywhere.
    Trip(TripId),
    /// Orchestrator → service: book your part of trip `id`.
    Book(TripId),
    /// Service: booked.
    Booked(TripId),
    /// Service: refused (sold out, or already cancelled).
    Refused(TripId),
    /// Orchestrator → service: compensate (cancel) your part of trip `id`.
    Cancel(TripId),
    /// Service: cancelled.
    Cancelled(TripId),
    /// Orchestrator → client: the trip is booked (`true`) or compensated.
    Done(TripId, bool),
}

/// Where a saga is, in the orchestrator's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Phase {
    /// Going forward: this many steps are booked.
    Forward(usize),
    /// Going backward: cancel steps `1..=k`, newest first.
    Compensating(usize),
    /// Finished: booked everywhere (`true`) or compensated.
    Done(bool),
}

/// A service's record of one trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    /// Booked: holds one unit.
    Booked,
    /// Refused.
    Refused,
    /// Cancelled (a tombstone: a later booking is refused).
    Cancelled,
}

/// Every node's disk (nodes of one simulation share one type): the
/// orchestrator uses `sagas`, a service `bookings` and `held`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Store {
    /// Orchestrator: each saga's phase.
    pub sagas: BTreeMap<TripId, Phase>,
    /// Service: each trip's status.
    pub bookings: BTreeMap<TripId, Status>,
    /// Service: units held (one per booked trip, if compensations are
    /// idempotent).
    pub held: i64,
}

/// How a service compensates; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Compensation {
    /// Releases the unit only if the trip holds one; idempotent.
    Idempotent,
    /// Releases a unit on every cancellation (broken under retries).
    NonIdempotent,
}

/// Parameters of the saga.
#[derive(Debug, Clone, Serialize)]
pub struct Saga {
    /// Services (nodes `1..=services`): 3 is flight, hotel, car.
    pub services: usize,
    /// Probability that a service refuses a booking.
    pub refuse: f64,
    /// How long the orchestrator waits for one answer.
    pub timeout: SimDuration,
    /// Attempts per forward step before it gives up and compensates.
    pub attempts: usize,
    /// Pause between two attempts of a cancellation.
    pub retry_every: SimDuration,
    /// Idempotent or not.
    pub compensation: Compensation,
}

impl Default for Saga {
    /// Flight, hotel, car; 10 % refusals; 100 ms timeout; 3 attempts per
    /// step (so a step rides out an outage of up to about 300 ms);
    /// cancellations retried every 20 ms; idempotent.
    fn default() -> Self {
        Saga {
            services: 3,
            refuse: 0.1,
            timeout: ms(100),
            attempts: 3,
            retry_every: ms(20),
            compensation: Compensation::Idempotent,
        }
    }
}

/// A node: the orchestrator or a service.
pub type SagaNode = Process<Msg, Store>;

impl Saga {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("services", self.services, 1, 100, "services")?;
        check_probability("refuse", self.refuse)?;
        crate::error::check_count("attempts", self.attempts, 1, 100, "attempts")?;
        for (name, d) in [("timeout", self.timeout), ("retry_every", self.retry_every)] {
            if d < crate::sim::time::us(1) || d > crate::sim::time::secs(60) {
                return Err(Error::invalid(name, d, "1 µs to 60 s"));
            }
        }
        Ok(())
    }

    /// Service names for tables and diagrams.
    pub fn lanes(&self) -> Vec<String> {
        let names = ["flight", "hotel", "car"];
        let mut v = vec!["orchestrator".to_string()];
        v.extend((1..=self.services).map(|i| {
            names
                .get(i - 1)
                .map_or_else(|| format!("service {i}"), |s| s.to_string())
        }));
        v
    }

    /// The nodes: the orchestrator, then the services.
    pub fn nodes(&self) -> Result<Vec<SagaNode>> {
        self.validate()?;
        let cfg = self.clone();
        let mut v = vec![SagaNode::new(move |p| orchestrator(p, cfg.clone()))];
        for _ in 0..self.services {
            let (refuse, comp) = (self.refuse, self.compensation);
            v.push(SagaNode::new(move |p| service(p, refuse, comp)));
        }
        Ok(v)
    }
}

/// The orchestrator: resumes every unfinished saga from its log, then
/// starts a saga per client request.
async fn orchestrator(p: Proc<Msg, Store>, cfg: Saga) {
    let open: Vec<(TripId, Phase)> = p.disk(|d| {
        d.sagas
            .iter()
            .filter(|(_, ph)| !matches!(ph, Phase::Done(_)))
            .map(|(&id, &ph)| (id, ph))
            .collect()
    });
    for (id, ph) in open {
        drop(p.spawn(run(p.clone(), cfg.clone(), id, ph, None)));
    }
    loop {
        let c = p.recv_client().await;
        let Msg::Trip(id) = c.msg else { continue };
        match p.disk(|d| d.sagas.get(&id).copied()) {
            Some(Phase::Done(ok)) => p.reply_client(&c, Msg::Done(id, ok), !ok),
            Some(_) => {} // running: it answers when done (if it still can)
            None => {
                p.disk(|d| d.sagas.insert(id, Phase::Forward(0)));
                p.sync("saga begins");
                drop(p.spawn(run(p.clone(), cfg.clone(), id, Phase::Forward(0), Some(c))));
            }
        }
    }
}

/// One saga, from `phase` on.
async fn run(
    p: Proc<Msg, Store>,
    cfg: Saga,
    id: TripId,
    mut phase: Phase,
    client: Option<ClientRequest<Msg>>,
) {
    let start = p.now();
    if let Phase::Forward(mut k) = phase {
        while k < cfg.services {
            let svc = k + 1;
            let mut answer = None;
            for _ in 0..cfg.attempts {
                match p.request(svc, Msg::Book(id), cfg.timeout).await {
                    Ok(Msg::Booked(_)) => answer = Some(true),
                    Ok(Msg::Refused(_)) => answer = Some(false),
                    _ => continue,
                }
                break;
            }
            match answer {
                Some(true) => {
                    k += 1;
                    p.disk(|d| d.sagas.insert(id, Phase::Forward(k)));
                    p.sync("step booked");
                }
                // Refused: cancel what is booked. No answer: the booking
                // may have happened, cancel it too.
                refused => {
                    let upto = if refused == Some(false) { k } else { k + 1 };
                    phase = Phase::Compensating(upto);
                    p.disk(|d| d.sagas.insert(id, phase));
                    p.sync("compensate");
                    break;
                }
            }
        }
        if k == cfg.services {
            p.disk(|d| d.sagas.insert(id, Phase::Done(true)));
            p.sync("saga done");
            p.record_latency(p.now().since(start));
            if let Some(c) = &client {
                p.reply_client(c, Msg::Done(id, true), false);
            }
            return;
        }
    }
    if let Phase::Compensating(upto) = phase {
        for svc in (1..=upto).rev() {
            // Until it is acknowledged: a compensation must not give up.
            while !matches!(
                p.request(svc, Msg::Cancel(id), cfg.timeout).await,
                Ok(Msg::Cancelled(_))
            ) {
                p.sleep(cfg.retry_every).await;
            }
        }
        p.disk(|d| d.sagas.insert(id, Phase::Done(false)));
        p.sync("compensated");
        if let Some(c) = &client {
            p.reply_client(c, Msg::Done(id, false), true);
        }
    }
}

/// A service: books (idempotently: one status per trip) and cancels.
async fn service(p: Proc<Msg, Store>, refuse: f64, comp: Compensation) {
    loop {
        let m = p.recv().await;
        match m.msg {
            Msg::Book(id) => {
                let ok = match p.disk(|d| d.bookings.get(&id).copied()) {
                    Some(s) => s == Status::Booked,
                    None => {
                        let yes = !p.rng(|r| crate::sim::rng::chance(r, refuse));
                        p.disk(|d| {
                            d.bookings
                                .insert(id, if yes { Status::Booked } else { Status::Refused });
                            if yes {
                                d.held += 1;
                            }
                        });
                        p.sync(if yes { "booked" } else { "refused" });
                        yes
                    }
                };
                p.reply(
                    &m,
                    if ok {
                        Msg::Booked(id)
                    } else {
                        Msg::Refused(id)
                    },
                );
            }
            Msg::Cancel(id) => {
                p.disk(|d| {
                    let held = d.bookings.get(&id) == Some(&Status::Booked);
                    if held || comp == Compensation::NonIdempotent {
                        d.held -= 1;
                    }
                    d.bookings.insert(id, Status::Cancelled);
                });
                p.sync("cancelled");
                p.reply(&m, Msg::Cancelled(id));
            }
            _ => p.count("unexpected message"),
        }
    }
}

/// The end state, judged from the services' synced disks (node 0 is the
/// orchestrator): every trip booked at all services or at none ("all or
/// compensated"); every service holds one unit per booked trip ("no
/// double counting"); and the orchestrator finished every saga it began.
pub fn check_final(disks: &[Disk<Store>]) -> Result<Vec<Verdict>> {
    if disks.len() < 2 {
        return Err(Error::invalid(
            "disks",
            disks.len(),
            "the orchestrator's and at least one service's",
        ));
    }
    let services = &disks[1..];
    let mut booked: BTreeMap<TripId, usize> = BTreeMap::new();
    for s in services {
        for (&id, &st) in &s.synced().bookings {
            let e = booked.entry(id).or_insert(0);
            if st == Status::Booked {
                *e += 1;
            }
        }
    }
    let n = services.len();
    let partial = booked.iter().find(|(_, &k)| k != 0 && k != n);
    let all_or_none = Verdict::new(
        "all or compensated",
        PropertyKind::Safety,
        partial.map(|(id, k)| format!("trip {id} is booked at {k} of {n} services")),
    );
    let bad = services.iter().enumerate().find_map(|(i, s)| {
        let d = s.synced();
        let count = d
            .bookings
            .values()
            .filter(|&&s| s == Status::Booked)
            .count() as i64;
        (d.held != count).then(|| {
            format!(
                "service {} holds {} units for {count} booked trips",
                i + 1,
                d.held
            )
        })
    });
    let counted = Verdict::new("no double counting", PropertyKind::Safety, bad);
    let open = disks[0]
        .synced()
        .sagas
        .iter()
        .find(|(_, ph)| !matches!(ph, Phase::Done(_)))
        .map(|(id, ph)| format!("saga {id} still {ph:?}"));
    let finished = Verdict::new("every saga finished", PropertyKind::Liveness, open);
    Ok(vec![all_or_none, counted, finished])
}

/// Per trip, how long its bookings were partial (booked at some services
/// and not all), summed over the run, from the services' synced disks.
#[derive(Debug, Clone, Default)]
pub struct Windows {
    /// Trip → (partial since, if it is now; total so far).
    state: BTreeMap<TripId, (Option<SimTime>, SimDuration)>,
    syncs: Vec<u64>,
}

impl Windows {
    /// The total window of each trip that was ever partial, in ms.
    pub fn windows_ms(&self, end: SimTime) -> Vec<(TripId, f64)> {
        self.state
            .iter()
            .map(|(&id, &(since, total))| {
                let open = since.map_or(SimDuration(0), |s| end.since(s));
                (id, (total + open).as_ms())
            })
            .filter(|&(_, w)| w > 0.0)
            .collect()
    }
}

/// A property that never fails: it records the window of inconsistency
/// of every trip into `out` (read it after the run).
pub fn window_observer(out: Rc<RefCell<Windows>>) -> impl Property<SagaNode> {
    WindowObserver(out)
}

struct WindowObserver(Rc<RefCell<Windows>>);

impl Property<SagaNode> for WindowObserver {
    fn name(&self) -> String {
        "window of inconsistency".into()
    }
    fn kind(&self) -> PropertyKind {
        PropertyKind::Safety
    }
    fn after(&mut self, _: &SimEvent<'_, SagaNode>, w: &World<'_, SagaNode>) -> Option<String> {
        let mut o = self.0.borrow_mut();
        let n = w.disks.len();
        if o.syncs.len() != n {
            o.syncs = vec![u64::MAX; n];
        }
        let changed = (1..n).any(|i| o.syncs[i] != w.disks[i].syncs());
        if !changed {
            return None;
        }
        for i in 1..n {
            o.syncs[i] = w.disks[i].syncs();
        }
        let mut count: BTreeMap<TripId, usize> = BTreeMap::new();
        for d in &w.disks[1..] {
            for (&id, &st) in &d.synced().bookings {
                *count.entry(id).or_insert(0) += usize::from(st == Status::Booked);
            }
        }
        let services = n - 1;
        for (id, k) in count {
            let partial = k > 0 && k < services;
            let e = o.state.entry(id).or_insert((None, SimDuration(0)));
            match (partial, e.0) {
                (true, None) => e.0 = Some(w.now),
                (false, Some(s)) => {
                    e.1 += w.now.since(s);
                    e.0 = None;
                }
                _ => {}
            }
        }
        None
    }
}
