//! Three-phase commit (Skeen 1981) with its timeout-based termination
//! rule: non-blocking when only the coordinator fails, not atomic under a
//! network partition.
//!
//! Node 0 coordinates; nodes `1..=k` are participants. Phase one is
//! two-phase commit's: *prepare*, and a vote after a synced *prepared*
//! record. Phase two is new: with every vote yes the coordinator sends
//! *pre-commit*; a participant syncs a *pre-committed* record and
//! acknowledges. Phase three: with every acknowledgement in (or when the
//! coordinator stops waiting for them) it syncs *commit* and sends it.
//!
//! The extra phase buys a rule: nobody commits before **every**
//! participant is pre-committed. So a participant that times out waiting
//! for the coordinator need not block; it asks the other participants and
//! decides from what they answer (the **termination rule**):
//! - someone knows the outcome: that outcome;
//! - someone is pre-committed (or it is itself): commit — the coordinator
//!   may have committed, and nobody can have aborted after a pre-commit;
//! - otherwise (every answer uncertain, or not voted): abort — no
//!   pre-commit went out to a participant that answered, so the
//!   coordinator cannot have committed.
//!
//! The last step assumes that the participants that did not answer are
//! *crashed*, not cut off. Under a partition they may be alive on the
//! other side, pre-committed, committing by the same rule while this side
//! aborts: atomicity breaks (see `ch06::three_phase`). The coordinator's
//! own timeout has the same flaw: waiting for acknowledgements, it commits
//! anyway, though a participant it cannot hear may have aborted.
//!
//! The safety property is the same as two-phase commit's, **atomicity**
//! ([`atomicity`]).

use crate::check::property::invariant;
use crate::error::{check_probability, Error, Result};
use crate::sim::rng;
use crate::sim::time::{ms, SimDuration};
use crate::sim::{Ctx, Node, NodeId, Property, Request, World};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub use super::two_phase::{Outcome, TxnId};

/// What a participant answers a peer that runs the termination rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PeerState {
    /// Voted yes, nothing more: it does not know.
    Uncertain,
    /// Pre-committed.
    PreCommitted,
    /// Knows the outcome (a participant that had not voted aborts when
    /// asked, and says so).
    Decided(Outcome),
}

/// Messages of the protocol and of its clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// A client's transaction, to the coordinator.
    Begin(TxnId),
    /// Coordinator → participant: can you commit?
    Prepare(TxnId),
    /// Participant → coordinator: its vote.
    Vote(TxnId, bool),
    /// Coordinator → participant: everybody voted yes.
    PreCommit(TxnId),
    /// Participant → coordinator: pre-committed.
    PreAck(TxnId),
    /// Coordinator → participant: the outcome.
    Decision(TxnId, Outcome),
    /// Participant → participant: what do you know of this transaction?
    Ask(TxnId),
    /// The answer to [`Msg::Ask`].
    State(TxnId, PeerState),
    /// Coordinator → client: the outcome.
    Done(TxnId, Outcome),
}

/// Timers of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// The coordinator stops waiting for votes (and aborts).
    Votes(TxnId),
    /// The coordinator stops waiting for pre-commit acknowledgements (and
    /// commits).
    Acks(TxnId),
    /// A participant stops waiting for the coordinator and asks its peers.
    Wait(TxnId),
    /// A participant stops collecting its peers' answers and decides.
    Terminate(TxnId),
}

/// A node's log, durable once synced.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Log {
    /// Participant: voted yes.
    pub prepared: imbl::OrdSet<TxnId>,
    /// Participant: pre-committed.
    pub precommitted: imbl::OrdSet<TxnId>,
    /// Decisions: the coordinator's commits, or what a participant applied.
    pub decided: imbl::OrdMap<TxnId, Outcome>,
}

/// Parameters of the protocol.
#[derive(Debug, Clone, Serialize)]
pub struct ThreePhase {
    /// Participants (nodes `1..=participants`).
    pub participants: usize,
    /// Probability that a participant votes no.
    pub no_vote: f64,
    /// How long the coordinator waits for votes, and then for
    /// acknowledgements.
    pub coordinator_timeout: SimDuration,
    /// How long a participant waits for the coordinator's next message
    /// before it runs the termination rule.
    pub participant_timeout: SimDuration,
    /// How long a participant collects its peers' answers.
    pub ask_for: SimDuration,
}

impl Default for ThreePhase {
    /// 3 participants, 10 % no votes, the coordinator waits 50 ms, a
    /// participant 100 ms, and collects answers for 20 ms.
    fn default() -> Self {
        ThreePhase {
            participants: 3,
            no_vote: 0.1,
            coordinator_timeout: ms(50),
            participant_timeout: ms(100),
            ask_for: ms(20),
        }
    }
}

impl ThreePhase {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("participants", self.participants, 1, 100, "participants")?;
        check_probability("no_vote", self.no_vote)?;
        for (name, d) in [
            ("coordinator_timeout", self.coordinator_timeout),
            ("participant_timeout", self.participant_timeout),
            ("ask_for", self.ask_for),
        ] {
            if d.0 == 0 {
                return Err(Error::invalid(name, d, "a duration > 0"));
            }
        }
        Ok(())
    }

    /// The nodes: the coordinator, then the participants.
    pub fn nodes(&self) -> Result<Vec<ThreePc>> {
        self.validate()?;
        let mut v = vec![ThreePc::Coordinator(Coordinator {
            cfg: self.clone(),
            active: BTreeMap::new(),
        })];
        for _ in 0..self.participants {
            v.push(ThreePc::Participant(Participant {
                cfg: self.clone(),
                answers: BTreeMap::new(),
            }));
        }
        Ok(v)
    }

    /// Lane names for diagrams.
    pub fn lanes(&self) -> Vec<String> {
        let mut v = vec!["coordinator".to_string()];
        v.extend((1..=self.participants).map(|i| format!("participant {i}")));
        v
    }
}

/// Where the coordinator is with a transaction (memory only).
#[derive(Debug, Clone)]
struct Active {
    req: Request,
    votes: BTreeSet<NodeId>,
    /// Pre-commits sent; the acknowledgements so far.
    acks: Option<BTreeSet<NodeId>>,
}

/// The coordinator's memory.
#[derive(Debug, Clone)]
pub struct Coordinator {
    cfg: ThreePhase,
    active: BTreeMap<TxnId, Active>,
}

/// A participant's memory: the answers of a termination round under way.
#[derive(Debug, Clone)]
pub struct Participant {
    cfg: ThreePhase,
    answers: BTreeMap<TxnId, Vec<PeerState>>,
}

/// A node of the protocol.
#[derive(Debug, Clone)]
pub enum ThreePc {
    /// Node 0.
    Coordinator(Coordinator),
    /// Nodes `1..`.
    Participant(Participant),
}

impl Coordinator {
    fn all(&self) -> std::ops::RangeInclusive<NodeId> {
        1..=self.cfg.participants
    }

    fn abort(&mut self, ctx: &mut Ctx<'_, ThreePc>, txn: TxnId) {
        if let Some(a) = self.active.remove(&txn) {
            for p in self.all() {
                ctx.send(p, Msg::Decision(txn, Outcome::Aborted));
            }
            ctx.reply_failed(a.req, Msg::Done(txn, Outcome::Aborted));
        }
    }

    fn commit(&mut self, ctx: &mut Ctx<'_, ThreePc>, txn: TxnId) {
        if let Some(a) = self.active.remove(&txn) {
            ctx.disk().decided.insert(txn, Outcome::Committed);
            ctx.sync("commit");
            for p in self.all() {
                ctx.send(p, Msg::Decision(txn, Outcome::Committed));
            }
            ctx.reply(a.req, Msg::Done(txn, Outcome::Committed));
        }
    }
}

impl Participant {
    /// Applies an outcome once (a participant never changes its mind; if
    /// two sources disagree, the atomicity checker sees it).
    fn apply(ctx: &mut Ctx<'_, ThreePc>, txn: TxnId, outcome: Outcome, why: &str) {
        if ctx.disk().decided.contains_key(&txn) {
            return;
        }
        ctx.disk().decided.insert(txn, outcome);
        ctx.sync(why);
    }

    fn state(ctx: &mut Ctx<'_, ThreePc>, txn: TxnId) -> Option<PeerState> {
        let log = ctx.disk();
        if let Some(&o) = log.decided.get(&txn) {
            Some(PeerState::Decided(o))
        } else if log.precommitted.contains(&txn) {
            Some(PeerState::PreCommitted)
        } else if log.prepared.contains(&txn) {
            Some(PeerState::Uncertain)
        } else {
            None
        }
    }

    /// The termination rule, on this participant's own state and its
    /// peers' answers.
    pub fn terminate(own: PeerState, answers: &[PeerState]) -> Outcome {
        let all = || std::iter::once(&own).chain(answers);
        if let Some(o) = all().find_map(|s| match s {
            PeerState::Decided(o) => Some(*o),
            _ => None,
        }) {
            o
        } else if all().any(|s| *s == PeerState::PreCommitted) {
            Outcome::Committed
        } else {
            Outcome::Aborted
        }
    }
}

impl Node for ThreePc {
    type Msg = Msg;
    type Timer = Timer;
    type Disk = Log;

    fn on_recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            ThreePc::Coordinator(c) => {
                // Tell every logged commit again: some participant may
                // not know it.
                let commits: Vec<TxnId> = ctx
                    .disk()
                    .decided
                    .iter()
                    .filter(|(_, &o)| o == Outcome::Committed)
                    .map(|(&t, _)| t)
                    .collect();
                for t in commits {
                    for p in c.all() {
                        ctx.send(p, Msg::Decision(t, Outcome::Committed));
                    }
                }
            }
            ThreePc::Participant(p) => {
                let log = ctx.disk();
                let open: Vec<TxnId> = log
                    .prepared
                    .iter()
                    .filter(|t| !log.decided.contains_key(*t))
                    .copied()
                    .collect();
                for t in open {
                    ctx.set_timer(p.cfg.participant_timeout, Timer::Wait(t));
                }
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: Msg) {
        let (ThreePc::Coordinator(c), Msg::Begin(txn)) = (self, msg) else {
            return;
        };
        if c.active.contains_key(&txn) || ctx.disk().decided.contains_key(&txn) {
            return;
        }
        c.active.insert(
            txn,
            Active {
                req,
                votes: BTreeSet::new(),
                acks: None,
            },
        );
        for p in c.all() {
            ctx.send(p, Msg::Prepare(txn));
        }
        ctx.set_timer(c.cfg.coordinator_timeout, Timer::Votes(txn));
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match (self, msg) {
            (ThreePc::Coordinator(c), Msg::Vote(txn, yes)) => {
                let Some(a) = c.active.get_mut(&txn) else {
                    return;
                };
                if a.acks.is_some() {
                    return; // a late copy
                }
                if !yes {
                    return c.abort(ctx, txn);
                }
                a.votes.insert(from);
                if a.votes.len() == c.cfg.participants {
                    a.acks = Some(BTreeSet::new());
                    for p in c.all() {
                        ctx.send(p, Msg::PreCommit(txn));
                    }
                    ctx.set_timer(c.cfg.coordinator_timeout, Timer::Acks(txn));
                }
            }
            (ThreePc::Coordinator(c), Msg::PreAck(txn)) => {
                let n = c.cfg.participants;
                let Some(acks) = c.active.get_mut(&txn).and_then(|a| a.acks.as_mut()) else {
                    return;
                };
                acks.insert(from);
                if acks.len() == n {
                    c.commit(ctx, txn);
                }
            }
            (ThreePc::Participant(p), Msg::Prepare(txn)) => {
                match Participant::state(ctx, txn) {
                    Some(PeerState::Decided(o)) => {
                        return ctx.send(from, Msg::Vote(txn, o == Outcome::Committed))
                    }
                    Some(_) => return ctx.send(from, Msg::Vote(txn, true)),
                    None => {}
                }
                if rng::chance(ctx.rng(), p.cfg.no_vote) {
                    Participant::apply(ctx, txn, Outcome::Aborted, "vote no");
                    return ctx.send(from, Msg::Vote(txn, false));
                }
                ctx.disk().prepared.insert(txn);
                ctx.sync("prepared");
                ctx.send(from, Msg::Vote(txn, true));
                ctx.set_timer(p.cfg.participant_timeout, Timer::Wait(txn));
            }
            (ThreePc::Participant(p), Msg::PreCommit(txn)) => {
                match Participant::state(ctx, txn) {
                    Some(PeerState::Uncertain) => {
                        ctx.disk().precommitted.insert(txn);
                        ctx.sync("pre-committed");
                        ctx.set_timer(p.cfg.participant_timeout, Timer::Wait(txn));
                    }
                    Some(PeerState::PreCommitted | PeerState::Decided(Outcome::Committed)) => {}
                    // Aborted already (by the termination rule): no ack.
                    _ => return,
                }
                ctx.send(from, Msg::PreAck(txn));
            }
            (ThreePc::Participant(_), Msg::Decision(txn, o)) => {
                Participant::apply(ctx, txn, o, "decision")
            }
            (ThreePc::Participant(_), Msg::Ask(txn)) => {
                let s = match Participant::state(ctx, txn) {
                    Some(s) => s,
                    None => {
                        // Not voted: abort now, vote no if asked later.
                        Participant::apply(ctx, txn, Outcome::Aborted, "abort (asked by a peer)");
                        PeerState::Decided(Outcome::Aborted)
                    }
                };
                ctx.send(from, Msg::State(txn, s));
            }
            (ThreePc::Participant(p), Msg::State(txn, s)) => {
                if let Some(v) = p.answers.get_mut(&txn) {
                    v.push(s);
                }
            }
            _ => ctx.count("unexpected message"),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match (self, timer) {
            (ThreePc::Coordinator(c), Timer::Votes(txn))
                if c.active.get(&txn).is_some_and(|a| a.acks.is_none()) =>
            {
                c.abort(ctx, txn);
            }
            (ThreePc::Coordinator(c), Timer::Acks(txn)) => {
                // Skeen's coordinator: whoever did not acknowledge is
                // presumed crashed, and will learn the commit.
                c.commit(ctx, txn);
            }
            (ThreePc::Participant(p), Timer::Wait(txn)) => {
                let undecided =
                    !matches!(Participant::state(ctx, txn), Some(PeerState::Decided(_)));
                if undecided && !p.answers.contains_key(&txn) {
                    p.answers.insert(txn, Vec::new());
                    let me = ctx.id();
                    for q in (1..=p.cfg.participants).filter(|&q| q != me) {
                        ctx.send(q, Msg::Ask(txn));
                    }
                    ctx.set_timer(p.cfg.ask_for, Timer::Terminate(txn));
                }
            }
            (ThreePc::Participant(p), Timer::Terminate(txn)) => {
                let answers = p.answers.remove(&txn).unwrap_or_default();
                if let Some(own) = Participant::state(ctx, txn) {
                    let o = Participant::terminate(own, &answers);
                    Participant::apply(ctx, txn, o, "termination rule");
                }
            }
            _ => {}
        }
    }

    fn label(msg: &Msg) -> String {
        let o = |o: &Outcome| match o {
            Outcome::Committed => "commit",
            Outcome::Aborted => "abort",
        };
        match msg {
            Msg::Begin(t) => format!("begin T{t}"),
            Msg::Prepare(t) => format!("prepare T{t}"),
            Msg::Vote(t, y) => format!("vote {} T{t}", if *y { "yes" } else { "no" }),
            Msg::PreCommit(t) => format!("pre-commit T{t}"),
            Msg::PreAck(t) => format!("ack pre-commit T{t}"),
            Msg::Decision(t, d) => format!("{} T{t}", o(d)),
            Msg::Ask(t) => format!("ask T{t}"),
            Msg::State(t, s) => match s {
                PeerState::Uncertain => format!("uncertain T{t}"),
                PeerState::PreCommitted => format!("pre-committed T{t}"),
                PeerState::Decided(d) => format!("knows {} T{t}", o(d)),
            },
            Msg::Done(t, d) => format!("{} T{t}", o(d)),
        }
    }

    fn timer_label(t: &Timer) -> String {
        match t {
            Timer::Votes(t) => format!("vote timeout T{t}"),
            Timer::Acks(t) => format!("ack timeout T{t}"),
            Timer::Wait(t) => format!("timeout T{t}"),
            Timer::Terminate(t) => format!("terminate T{t}"),
        }
    }
}

/// Atomicity, on what the participants' disks hold (synced): no
/// transaction committed at one participant and aborted at another.
pub fn atomicity() -> impl Property<ThreePc> {
    invariant("atomicity", move |w: &World<'_, ThreePc>| {
        let mut seen: BTreeMap<TxnId, (usize, Outcome)> = BTreeMap::new();
        for (i, disk) in w.disks.iter().enumerate().skip(1) {
            for (&t, &o) in disk.synced().decided.iter() {
                match seen.get(&t) {
                    Some(&(j, o2)) if o2 != o => {
                        return Err(format!(
                            "T{t} is {o2:?} at participant {j} and {o:?} at participant {i}"
                        ))
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(t, (i, o));
                    }
                }
            }
        }
        Ok(())
    })
}

impl ThreePhase {
    /// One explored run (see [`crate::check::explore`]): `clients` clients
    /// each run `txns` transactions one after another, `think` apart,
    /// under the trial's faults, for at most `horizon`; atomicity is
    /// checked after every event.
    pub fn trial(
        &self,
        t: &crate::check::Trial,
        clients: usize,
        txns: u64,
        think: SimDuration,
        horizon: SimDuration,
    ) -> Result<crate::check::TrialRun> {
        let mut sim = self.sim(t.seed, t.plan.clone(), t.trace_cap, clients, txns, think)?;
        sim.run_for(horizon)?;
        Ok(crate::check::TrialRun::new(&mut sim, self.lanes()))
    }

    /// The simulation of [`ThreePhase::trial`], before it runs: `clients`
    /// clients of `txns` transactions `think` apart, every message 1 to 5
    /// ms, every sync and send a crash point, atomicity checked after every
    /// event.
    pub fn sim(
        &self,
        seed: u64,
        plan: crate::sim::FaultPlan,
        trace: crate::sim::trace::TraceCap,
        clients: usize,
        txns: u64,
        think: SimDuration,
    ) -> Result<crate::sim::Sim<ThreePc>> {
        self.validate()?;
        let per_txn = 8.0 * self.participants as f64 * self.participants as f64 + 8.0;
        crate::error::check_work(
            "clients × txns × participants²",
            clients as f64 * txns as f64 * per_txn,
        )?;
        let mut sim = crate::sim::Sim::builder()
            .seed(seed)
            .faults(plan)
            .trace(trace)
            .link(crate::sim::LinkConfig::new(crate::sim::Latency::uniform(
                ms(1),
                ms(5),
            )?))
            .crash_points(crate::sim::CrashPoints::SyncsAndSends)
            .build(self.nodes()?)?;
        sim.check(atomicity());
        sim.set_workload(clients, clients_workload(txns, think))?;
        Ok(sim)
    }
}

/// The closed-loop workload of [`super::two_phase::clients`], for these
/// messages.
pub fn clients_workload(txns: u64, think: SimDuration) -> impl crate::sim::Workload<Msg> {
    let mut done: BTreeMap<usize, u64> = BTreeMap::new();
    let mut next: TxnId = 0;
    move |client: usize, _now, _rng: &mut rng::SimRng, _last: Option<&crate::sim::Op<Msg>>| {
        let k = done.entry(client).or_insert(0);
        if *k >= txns {
            return None;
        }
        *k += 1;
        let id = next;
        next += 1;
        Some(
            crate::sim::Invoke::new(0, Msg::Begin(id))
                .after(think)
                .timeout(ms(500)),
        )
    }
}
