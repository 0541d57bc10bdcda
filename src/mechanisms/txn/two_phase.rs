//! Two-phase commit (Gray 1978; presumed abort, Mohan & Lindsay 1983),
//! with durable logs at the coordinator and the participants.
//!
//! Node 0 coordinates; nodes `1..=k` are participants. A client sends a
//! transaction to the coordinator ([`Msg::Begin`]), which asks every
//! participant to prepare. A participant votes yes only after it has
//! written and synced a *prepared* record (it promises to commit if told
//! to, whatever crashes in between); it may vote no. With every vote yes,
//! the coordinator writes and syncs *commit* before it tells anyone, and
//! repeats the commit to each participant until that participant
//! acknowledges it (also after a restart of the coordinator); on a no vote
//! or a timeout it aborts (and need not log it: a coordinator with no record
//! of a transaction presumes it aborted). Participants apply the decision
//! durably. A participant that is prepared but has no decision is *in
//! doubt*: it may neither commit nor abort on its own, so it asks the
//! coordinator again and again until it learns the outcome.
//!
//! Two broken variants show what each rule buys:
//! - [`Variant::ForgetVote`]: a participant votes yes without syncing its
//!   prepared record. A crash after the vote makes it forget the promise;
//!   when the commit arrives it has nothing to commit, and aborts, while
//!   the others commit.
//! - [`Variant::DecideBeforeLog`]: the coordinator sends its commit decision
//!   before syncing it. A crash at that sync leaves participants committed
//!   and a coordinator that, after restarting, presumes abort for anyone
//!   who asks.
//!
//! **Cooperative termination** ([`TwoPhase::termination`], after Bernstein,
//! Hadzilacos & Goodman 1987, §7.4): an in-doubt participant also asks the
//! other participants. One that knows the outcome tells it; one that has
//! not voted aborts on the spot (it will vote no if the prepare comes
//! later, so the coordinator cannot commit) and says so; one that is
//! itself in doubt cannot help. When every participant has voted yes and
//! none has heard the decision, only the coordinator knows, and everybody
//! waits for it: termination shortens the blocking window, it does not
//! remove it.
//!
//! The safety property is **atomicity**: no transaction is committed at one
//! participant and aborted at another ([`atomicity`], checked on what the
//! participants' disks hold after every event).

use super::decision::{DecisionRule, Votes};
use super::in_doubt_locks::{LockRule, LockTable};
use crate::error::{check_probability, Error, Result};
use crate::sim::rng;
use crate::sim::time::{ms, SimDuration};
use crate::sim::{Ctx, Node, NodeId, Request};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

// The checks of this protocol (atomicity, the clients, one explored trial)
// live in `two_phase_check.rs`.
pub use super::two_phase_check::{atomicity, clients};

/// A transaction's id.
pub type TxnId = u64;

/// What a transaction ended as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// Its writes are in.
    Committed,
    /// Its writes are not.
    Aborted,
}

/// The protocol, correct or deliberately broken (see the [module
/// docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Variant {
    /// Textbook two-phase commit with presumed abort.
    Correct,
    /// Participants vote yes without syncing their prepared record.
    ForgetVote,
    /// The coordinator sends commit before syncing it.
    DecideBeforeLog,
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
    /// Coordinator → participant: the outcome.
    Decision(TxnId, Outcome),
    /// Participant → coordinator: what became of this transaction?
    Query(TxnId),
    /// Participant → coordinator: I applied your commit.
    Ack(TxnId),
    /// Coordinator → client: the outcome.
    Done(TxnId, Outcome),
    /// Outside → participant: a local transaction (id, key) that needs
    /// the key's lock ([`super::in_doubt_locks`]).
    Local(u64, u64),
}

/// Timers of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// The coordinator stops waiting for votes on a transaction.
    Votes(TxnId),
    /// An in-doubt participant asks again.
    Ask(TxnId),
    /// The coordinator repeats a commit to whoever has not acknowledged it.
    Repeat(TxnId),
    /// A local transaction (id, key) stops waiting for its lock.
    LockWait(u64, u64),
}

/// A node's log: what it knows about each transaction, durably once synced.
///
/// Persistent collections ([`imbl`]): a sync copies the disk in O(1), and
/// the atomicity checker compares a synced log with its previous copy by
/// visiting only what changed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Log {
    /// Participant: transactions it voted yes for (its promise).
    pub prepared: imbl::OrdSet<TxnId>,
    /// Decisions: the coordinator's, or what a participant applied.
    pub decided: imbl::OrdMap<TxnId, Outcome>,
}

/// Parameters of a run.
#[derive(Debug, Clone, Serialize)]
pub struct TwoPhase {
    /// Participants (nodes `1..=participants`).
    pub participants: usize,
    /// Probability that a participant votes no on a transaction.
    pub no_vote: f64,
    /// How long the coordinator waits for votes before aborting.
    pub vote_timeout: SimDuration,
    /// How often an in-doubt participant asks the coordinator.
    pub ask_every: SimDuration,
    /// Correct or broken.
    pub variant: Variant,
    /// Cooperative termination: an in-doubt participant also asks the
    /// other participants (see the [module docs](self)).
    pub termination: bool,
    /// When the coordinator commits or aborts ([`super::decision`]).
    #[serde(skip)]
    pub rule: DecisionRule,
    /// Keys the transactions lock at the participants (`T` locks `T mod
    /// keys`); 0: no locks ([`super::in_doubt_locks`]).
    pub keys: usize,
    /// How long a local transaction waits for a lock before giving up.
    pub lock_wait: SimDuration,
    /// Whether a prepared participant holds its lock until the outcome.
    pub lock_rule: LockRule,
}

impl Default for TwoPhase {
    /// 2 participants, 10 % no votes, 50 ms vote timeout, ask every 20 ms,
    /// correct, no termination protocol.
    fn default() -> Self {
        TwoPhase {
            participants: 2,
            no_vote: 0.1,
            vote_timeout: ms(50),
            ask_every: ms(20),
            variant: Variant::Correct,
            termination: false,
            rule: DecisionRule::default(),
            keys: 0,
            lock_wait: ms(100),
            lock_rule: LockRule::HeldInDoubt,
        }
    }
}

impl TwoPhase {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if self.participants == 0 || self.participants > 1_000 {
            return Err(Error::invalid(
                "participants",
                self.participants,
                "1 to 1,000 participants",
            ));
        }
        check_probability("no_vote", self.no_vote)?;
        if self.keys > 1_000_000 {
            return Err(Error::invalid("keys", self.keys, "0 to 1,000,000 keys"));
        }
        for (name, d) in [
            ("vote_timeout", self.vote_timeout),
            ("ask_every", self.ask_every),
            ("lock_wait", self.lock_wait),
        ] {
            if d.0 == 0 {
                return Err(Error::invalid(name, d, "a duration > 0"));
            }
        }
        Ok(())
    }

    /// The nodes: the coordinator, then the participants.
    pub fn nodes(&self) -> Result<Vec<TwoPc>> {
        self.validate()?;
        let mut v = vec![TwoPc::Coordinator(Coordinator {
            cfg: self.clone(),
            active: BTreeMap::new(),
            unacked: BTreeMap::new(),
        })];
        for _ in 0..self.participants {
            let locks = (self.keys > 0)
                .then(|| LockTable::new(self.keys as u64, self.lock_wait, self.lock_rule));
            v.push(TwoPc::Participant(Participant {
                cfg: self.clone(),
                locks,
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

/// A transaction the coordinator is collecting votes for (memory only).
#[derive(Debug, Clone)]
pub struct Active {
    req: Request,
    votes: BTreeMap<NodeId, bool>,
    started: crate::sim::SimTime,
}

/// The coordinator's memory.
#[derive(Debug, Clone)]
pub struct Coordinator {
    cfg: TwoPhase,
    active: BTreeMap<TxnId, Active>,
    /// Commits not yet acknowledged, by the participants still to ack.
    unacked: BTreeMap<TxnId, BTreeSet<NodeId>>,
}

/// A participant's memory (everything it knows is on its disk, but for
/// its lock table).
#[derive(Debug, Clone)]
pub struct Participant {
    cfg: TwoPhase,
    locks: Option<LockTable>,
}

impl TwoPc {
    /// A participant's lock table (`None` for the coordinator, or without
    /// keys).
    pub fn locks(&self) -> Option<&LockTable> {
        match self {
            TwoPc::Participant(p) => p.locks.as_ref(),
            TwoPc::Coordinator(_) => None,
        }
    }
}

/// A node of the protocol.
#[derive(Debug, Clone)]
pub enum TwoPc {
    /// Node 0.
    Coordinator(Coordinator),
    /// Nodes `1..`.
    Participant(Participant),
}

impl Coordinator {
    /// Counts a vote (`None`: the vote timeout fired) and asks the rule.
    fn on_vote(&mut self, ctx: &mut Ctx<'_, TwoPc>, txn: TxnId, vote: Option<(NodeId, bool)>) {
        let Some(a) = self.active.get_mut(&txn) else {
            return; // decided already
        };
        if let Some((from, yes)) = vote {
            a.votes.insert(from, yes);
        }
        let yes = a.votes.values().filter(|&&y| y).count();
        let votes = Votes {
            participants: self.cfg.participants,
            yes,
            no: a.votes.len() - yes,
            timed_out: vote.is_none(),
        };
        if let Some(outcome) = self.cfg.rule.decide(&votes) {
            self.decide(ctx, txn, outcome);
        } else if vote.is_none() {
            ctx.set_timer(self.cfg.vote_timeout, Timer::Votes(txn)); // wait on
        }
    }

    fn decide(&mut self, ctx: &mut Ctx<'_, TwoPc>, txn: TxnId, outcome: Outcome) {
        let Some(a) = self.active.remove(&txn) else {
            return;
        };
        let tell = |ctx: &mut Ctx<'_, TwoPc>| {
            for p in 1..=self.cfg.participants {
                ctx.send(p, Msg::Decision(txn, outcome));
            }
        };
        match (outcome, self.cfg.variant) {
            (Outcome::Committed, Variant::DecideBeforeLog) => {
                tell(ctx);
                ctx.disk().decided.insert(txn, outcome);
                ctx.sync("commit");
            }
            (Outcome::Committed, _) => {
                ctx.disk().decided.insert(txn, outcome);
                ctx.sync("commit");
                tell(ctx);
            }
            // Presumed abort: nothing to log.
            (Outcome::Aborted, _) => tell(ctx),
        }
        match outcome {
            Outcome::Committed => {
                // The commit latency: from the request to the decision,
                // the slowest of the participants' round trips.
                let took = ctx.now().since(a.started);
                ctx.record_latency(took);
                self.repeat_until_acked(ctx, txn);
                ctx.reply(a.req, Msg::Done(txn, outcome));
            }
            Outcome::Aborted => ctx.reply_failed(a.req, Msg::Done(txn, outcome)),
        }
    }

    fn repeat_until_acked(&mut self, ctx: &mut Ctx<'_, TwoPc>, txn: TxnId) {
        self.unacked
            .insert(txn, (1..=self.cfg.participants).collect());
        ctx.set_timer(self.cfg.ask_every, Timer::Repeat(txn));
    }
}

impl Participant {
    fn apply(&mut self, ctx: &mut Ctx<'_, TwoPc>, txn: TxnId, outcome: Outcome) {
        let log = ctx.disk();
        if log.decided.contains_key(&txn) {
            return;
        }
        // Without its prepared record a participant has nothing to commit.
        let outcome = if log.prepared.contains(&txn) {
            outcome
        } else {
            Outcome::Aborted
        };
        log.decided.insert(txn, outcome);
        ctx.sync(match outcome {
            Outcome::Committed => "committed",
            Outcome::Aborted => "aborted",
        });
        let now = ctx.now();
        if let Some(l) = self.locks.as_mut() {
            l.decided(txn, now);
        }
    }
}

impl Node for TwoPc {
    type Msg = Msg;
    type Timer = Timer;
    type Disk = Log;

    fn on_recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let TwoPc::Coordinator(c) = self {
            // Repeat every logged commit: some participant may not know it.
            let commits: Vec<TxnId> = ctx
                .disk()
                .decided
                .iter()
                .filter(|(_, &o)| o == Outcome::Committed)
                .map(|(&t, _)| t)
                .collect();
            for t in commits {
                c.repeat_until_acked(ctx, t);
            }
        }
        if let TwoPc::Participant(p) = self {
            // Ask about every transaction still in doubt.
            let log = ctx.disk();
            let doubt: Vec<TxnId> = log
                .prepared
                .iter()
                .filter(|t| !log.decided.contains_key(*t))
                .copied()
                .collect();
            let now = ctx.now();
            for t in doubt {
                if let Some(l) = p.locks.as_mut() {
                    l.prepared(t, now);
                }
                ctx.set_timer(p.cfg.ask_every, Timer::Ask(t));
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: Msg) {
        let (TwoPc::Coordinator(c), Msg::Begin(txn)) = (self, msg) else {
            return;
        };
        if c.active.contains_key(&txn) || ctx.disk().decided.contains_key(&txn) {
            return;
        }
        c.active.insert(
            txn,
            Active {
                req,
                votes: BTreeMap::new(),
                started: ctx.now(),
            },
        );
        for p in 1..=c.cfg.participants {
            ctx.send(p, Msg::Prepare(txn));
        }
        ctx.set_timer(c.cfg.vote_timeout, Timer::Votes(txn));
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match (self, msg) {
            (TwoPc::Coordinator(c), Msg::Vote(txn, yes)) => c.on_vote(ctx, txn, Some((from, yes))),
            (TwoPc::Coordinator(c), Msg::Ack(txn)) => {
                if let Some(left) = c.unacked.get_mut(&txn) {
                    left.remove(&from);
                    if left.is_empty() {
                        c.unacked.remove(&txn);
                    }
                }
            }
            (TwoPc::Coordinator(c), Msg::Query(txn)) => {
                // Still collecting votes: the participant asks again later.
                if c.active.contains_key(&txn) {
                    return;
                }
                let outcome = ctx
                    .disk()
                    .decided
                    .get(&txn)
                    .copied()
                    .unwrap_or(Outcome::Aborted);
                ctx.send(from, Msg::Decision(txn, outcome));
            }
            (TwoPc::Participant(p), Msg::Prepare(txn)) => {
                let log = ctx.disk();
                if let Some(&o) = log.decided.get(&txn) {
                    ctx.send(from, Msg::Vote(txn, o == Outcome::Committed));
                    return;
                }
                if log.prepared.contains(&txn) {
                    ctx.send(from, Msg::Vote(txn, true));
                    return;
                }
                if p.locks.as_ref().is_some_and(|l| l.blocked(txn)) {
                    // Another transaction in doubt holds the key.
                    ctx.disk().decided.insert(txn, Outcome::Aborted);
                    ctx.sync("vote no (key locked)");
                    ctx.send(from, Msg::Vote(txn, false));
                    return;
                }
                if rng::chance(ctx.rng(), p.cfg.no_vote) {
                    ctx.disk().decided.insert(txn, Outcome::Aborted);
                    ctx.sync("vote no");
                    ctx.send(from, Msg::Vote(txn, false));
                    return;
                }
                ctx.disk().prepared.insert(txn);
                if p.cfg.variant != Variant::ForgetVote {
                    ctx.sync("prepared");
                }
                let now = ctx.now();
                if let Some(l) = p.locks.as_mut() {
                    l.prepared(txn, now);
                }
                ctx.send(from, Msg::Vote(txn, true));
                ctx.set_timer(p.cfg.ask_every, Timer::Ask(txn));
            }
            (TwoPc::Participant(p), Msg::Decision(txn, outcome)) => {
                p.apply(ctx, txn, outcome);
                // Only the coordinator waits for acks (a peer's answer to
                // a termination query needs none).
                if outcome == Outcome::Committed && from == 0 {
                    ctx.send(from, Msg::Ack(txn));
                }
            }
            (TwoPc::Participant(_), Msg::Query(txn)) => {
                // Cooperative termination: a peer in doubt asks.
                let log = ctx.disk();
                if let Some(&o) = log.decided.get(&txn) {
                    ctx.send(from, Msg::Decision(txn, o));
                } else if !log.prepared.contains(&txn) {
                    // Not voted yet: abort now, vote no if asked later.
                    log.decided.insert(txn, Outcome::Aborted);
                    ctx.sync("abort (asked by a peer)");
                    ctx.send(from, Msg::Decision(txn, Outcome::Aborted));
                }
                // In doubt itself: it cannot help.
            }
            (TwoPc::Participant(p), Msg::Local(id, key)) => {
                let now = ctx.now();
                match p.locks.as_mut() {
                    Some(l) => {
                        if l.local(id, key, now) {
                            let wait = l.lock_wait();
                            ctx.set_timer(wait, Timer::LockWait(id, key));
                        }
                    }
                    None => ctx.count("local transaction without keys"),
                }
            }
            _ => ctx.count("unexpected message"),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match (self, timer) {
            (TwoPc::Coordinator(c), Timer::Votes(txn)) => c.on_vote(ctx, txn, None),
            (TwoPc::Coordinator(c), Timer::Repeat(txn)) => {
                if let Some(left) = c.unacked.get(&txn) {
                    for &p in left {
                        ctx.send(p, Msg::Decision(txn, Outcome::Committed));
                    }
                    ctx.set_timer(c.cfg.ask_every, Timer::Repeat(txn));
                }
            }
            (TwoPc::Participant(p), Timer::Ask(txn)) if !ctx.disk().decided.contains_key(&txn) => {
                ctx.send(0, Msg::Query(txn));
                if p.cfg.termination {
                    let me = ctx.id();
                    for q in (1..=p.cfg.participants).filter(|&q| q != me) {
                        ctx.send(q, Msg::Query(txn));
                    }
                }
                ctx.set_timer(p.cfg.ask_every, Timer::Ask(txn));
            }
            (TwoPc::Participant(p), Timer::LockWait(id, key)) => {
                let now = ctx.now();
                if let Some(l) = p.locks.as_mut() {
                    l.wait_expired(id, key, now);
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
            Msg::Decision(t, d) => format!("{} T{t}", o(d)),
            Msg::Query(t) => format!("query T{t}"),
            Msg::Ack(t) => format!("ack T{t}"),
            Msg::Done(t, d) => format!("{} T{t}", o(d)),
            Msg::Local(id, k) => format!("local L{id} on key {k}"),
        }
    }

    fn timer_label(t: &Timer) -> String {
        match t {
            Timer::Votes(t) => format!("vote timeout T{t}"),
            Timer::Ask(t) => format!("ask T{t}"),
            Timer::Repeat(t) => format!("repeat T{t}"),
            Timer::LockWait(id, _) => format!("lock wait L{id}"),
        }
    }
}
