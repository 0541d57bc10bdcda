//! Single-decree Paxos (Lamport, "Paxos Made Simple", 2001), one file to
//! read next to the paper.
//!
//! Every node is an **acceptor**; a node with a value to propose is also a
//! **proposer**. A proposer picks a ballot higher than any it has seen
//! (`round`, then its node id, so two proposers never share one) and runs
//! two phases against a majority of acceptors:
//!
//! 1. **Prepare.** It sends `Prepare(b)`. An acceptor that has promised no
//!    higher ballot promises `b`, *durably*, and answers `Promise(b, its
//!    accepted (ballot, value) if any)`.
//! 2. **Accept.** With promises from a majority, the proposer proposes the
//!    value of the highest-ballot acceptance among them (its own value only
//!    if none has accepted anything) with `Accept(b, v)`. An acceptor that
//!    has promised no higher ballot accepts, durably, and answers
//!    `Accepted(b)`. A majority of acceptances means `v` is *chosen*; the
//!    proposer decides it (and tells the others, [`Cfg::announce`]).
//!
//! Two rules carry safety, and [`Flaw`] breaks each on purpose: the
//! promise must survive a crash ([`Flaw::ForgetPromise`] keeps it only in
//! memory), and the proposer must adopt the highest accepted value
//! ([`Flaw::SkipAdopt`] proposes its own). The disk also keeps a *ghost*
//! record, `votes`: every (ballot, value) this acceptor ever accepted. The
//! protocol never reads it; checkers do ("at most one value is chosen"
//! needs the votes of the past, which later acceptances overwrite).
//!
//! A proposer talks to its own acceptor by a direct call, not a message.
//! A refused `Prepare` or `Accept` is answered with `Reject(b, promised)`,
//! so the proposer's next ballot (on its retry timer, [`Cfg::retry`]) can
//! beat the one that won.

use crate::error::{Error, Result};
use crate::sim::time::SimDuration;
use crate::sim::{Ctx, Node, NodeId};
use std::collections::BTreeSet;

/// A proposal number: round first, then the proposer's id (so ballots are
/// totally ordered and no two proposers share one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
pub struct Ballot {
    /// The round.
    pub round: u32,
    /// The proposer.
    pub node: u32,
}

/// The value agreed on.
pub type Value = u64;

/// Messages between proposers and acceptors.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Msg {
    /// Phase 1a.
    Prepare(Ballot),
    /// Phase 1b: a promise, with the acceptor's accepted proposal.
    Promise(Ballot, Option<(Ballot, Value)>),
    /// Phase 2a.
    Accept(Ballot, Value),
    /// Phase 2b.
    Accepted(Ballot),
    /// Refused ballot, and the ballot promised instead.
    Reject(Ballot, Ballot),
    /// A decided value, for the learners.
    Decided(Value),
}

/// The proposer's retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Start (or restart) a ballot if not decided.
    Propose,
}

/// What an acceptor keeps on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AcceptorDisk {
    /// The highest ballot promised.
    pub promised: Option<Ballot>,
    /// The last proposal accepted.
    pub accepted: Option<(Ballot, Value)>,
    /// The value this node decided (learned).
    pub decided: Option<Value>,
    /// Ghost: every proposal this acceptor ever accepted (for checkers).
    pub votes: BTreeSet<(Ballot, Value)>,
}

/// A deliberate bug, for checkers to catch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Flaw {
    /// Correct Paxos.
    #[default]
    None,
    /// Acceptors keep their promise in memory only: a restart forgets it.
    ForgetPromise,
    /// Proposers propose their own value even when a promise reports an
    /// accepted one.
    SkipAdopt,
}

/// A node's configuration (fixed for the run).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Cfg {
    /// The value this node proposes (`None`: acceptor only).
    pub propose: Option<Value>,
    /// First ballot after `(first, 0)` at start (`None`: at start, no
    /// timer); then a retry every `base` plus a uniform jitter in
    /// `0..jitter` (all nanoseconds) while undecided, at most `attempts`
    /// ballots in all.
    pub retry: Option<(u64, u64)>,
    /// Ballots a proposer may start (>= 1).
    pub attempts: u32,
    /// Tell every node the decision.
    pub announce: bool,
    /// The bug to plant.
    pub flaw: Flaw,
    /// Promises a proposer waits for (phase 1); 0: a majority.
    pub phase1: u32,
    /// Acceptances that choose a value (phase 2); 0: a majority.
    pub phase2: u32,
    /// When an acceptor promises a ballot (default: above every ballot
    /// promised before).
    pub promise_rule: PromiseRule,
    /// Restart on refusal: `Some(b)`: when its ballot is refused, the
    /// proposer starts a new one after a backoff drawn uniformly from
    /// `0..=b` nanoseconds (`Some(0)`: at once), instead of waiting for
    /// its retry timer. Two proposers that restart at once can pre-empt
    /// each other again and again (duelling proposers); a random backoff
    /// spreads their restarts apart.
    pub backoff: Option<u64>,
}

/// An acceptor's promise rule: given the ballot it promised (if any) and a
/// new `Prepare(b)`, does it promise `b`? Paxos's rule is "`b` is higher
/// than every ballot promised": [`standard_promise`].
pub type PromiseFn = fn(promised: Option<Ballot>, b: Ballot) -> bool;

/// Paxos's promise rule: promise `b` if it is above every ballot promised
/// before.
pub fn standard_promise(promised: Option<Ballot>, b: Ballot) -> bool {
    promised.is_none_or(|p| b > p)
}

/// A [`PromiseFn`] in a node's configuration. Configuration is the same in
/// every state of a search, so it neither hashes nor compares (two nodes
/// differ by their state, never by their rule).
#[derive(Clone, Copy)]
pub struct PromiseRule(pub PromiseFn);

impl Default for PromiseRule {
    fn default() -> Self {
        PromiseRule(standard_promise)
    }
}
impl PartialEq for PromiseRule {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for PromiseRule {}
impl std::hash::Hash for PromiseRule {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}
impl std::fmt::Debug for PromiseRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PromiseRule")
    }
}

/// Where a proposer is in its ballot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Phase {
    /// No ballot running.
    #[default]
    Idle,
    /// Waiting for promises.
    Prepare,
    /// Waiting for acceptances of the value.
    Accept(Value),
    /// Decided.
    Done,
}

/// One Paxos node: an acceptor, and a proposer if it has a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Paxos {
    /// Configuration.
    pub cfg: Cfg,
    /// The highest round seen in any ballot.
    pub round: u32,
    /// The proposer's current ballot.
    pub ballot: Option<Ballot>,
    /// The proposer's phase.
    pub phase: Phase,
    /// Ballots started.
    pub started: u32,
    /// Promises (bit per node) and the highest accepted among them.
    promises: u64,
    best: Option<(Ballot, Value)>,
    /// Acceptances (bit per node).
    accepts: u64,
    /// The promise held in memory only ([`Flaw::ForgetPromise`]).
    volatile_promise: Option<Ballot>,
}

impl Paxos {
    /// A node with configuration `cfg`.
    pub fn new(cfg: Cfg) -> Paxos {
        Paxos {
            cfg,
            ..Paxos::default()
        }
    }

    fn majority(n: usize) -> u32 {
        (n / 2 + 1) as u32
    }

    /// Promises needed (phase 1) in a cluster of `n`.
    fn quorum1(&self, n: usize) -> u32 {
        match self.cfg.phase1 {
            0 => Self::majority(n),
            q => q,
        }
    }

    /// Acceptances needed (phase 2) in a cluster of `n`.
    fn quorum2(&self, n: usize) -> u32 {
        match self.cfg.phase2 {
            0 => Self::majority(n),
            q => q,
        }
    }

    fn retry(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Some((base, jitter)) = self.cfg.retry {
            if self.started < self.cfg.attempts && self.phase != Phase::Done {
                let j = if jitter > 0 {
                    crate::sim::rng::index(ctx.rng(), jitter as usize) as u64
                } else {
                    0
                };
                ctx.set_timer(SimDuration(base + j), Timer::Propose);
            }
        }
    }

    /// Phase 1a: a new ballot above every round seen.
    fn propose(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.cfg.propose.is_none() || self.phase == Phase::Done {
            return;
        }
        if self.started >= self.cfg.attempts {
            return;
        }
        self.started += 1;
        self.round += 1;
        let b = Ballot {
            round: self.round,
            node: ctx.id() as u32,
        };
        self.ballot = Some(b);
        self.phase = Phase::Prepare;
        (self.promises, self.best, self.accepts) = (0, None, 0);
        for to in 0..ctx.cluster_size() {
            self.send(ctx, to, Msg::Prepare(b));
        }
        self.retry(ctx);
    }

    /// Sends, or handles at once if `to` is this node.
    fn send(&mut self, ctx: &mut Ctx<'_, Self>, to: NodeId, msg: Msg) {
        if to == ctx.id() {
            let me = ctx.id();
            self.on_message(ctx, me, msg);
        } else {
            ctx.send(to, msg);
        }
    }

    /// The promise in force: on disk, or in memory under the flaw.
    fn promised(&self, ctx: &mut Ctx<'_, Self>) -> Option<Ballot> {
        let disk = ctx.disk().promised;
        disk.max(self.volatile_promise)
    }

    /// Acceptor, phase 1b.
    fn on_prepare(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, b: Ballot) {
        self.round = self.round.max(b.round);
        let promised = self.promised(ctx);
        match promised {
            Some(p) if !(self.cfg.promise_rule.0)(promised, b) => {
                self.send(ctx, from, Msg::Reject(b, p))
            }
            _ => {
                if self.cfg.flaw == Flaw::ForgetPromise {
                    self.volatile_promise = Some(b);
                } else {
                    ctx.disk().promised = Some(b);
                    ctx.sync("promise");
                }
                let acc = ctx.disk().accepted;
                self.send(ctx, from, Msg::Promise(b, acc));
            }
        }
    }

    /// Acceptor, phase 2b.
    fn on_accept(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, b: Ballot, v: Value) {
        self.round = self.round.max(b.round);
        match self.promised(ctx) {
            Some(p) if p > b => self.send(ctx, from, Msg::Reject(b, p)),
            _ => {
                let d = ctx.disk();
                if self.cfg.flaw != Flaw::ForgetPromise {
                    d.promised = Some(b);
                }
                d.accepted = Some((b, v));
                d.votes.insert((b, v));
                ctx.sync("accept");
                self.send(ctx, from, Msg::Accepted(b));
            }
        }
    }

    /// Proposer: a promise for the current ballot.
    fn on_promise(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, acc: Option<(Ballot, Value)>) {
        self.promises |= 1 << from;
        if acc > self.best {
            self.best = acc;
        }
        if self.promises.count_ones() < self.quorum1(ctx.cluster_size()) {
            return;
        }
        let own = self.cfg.propose.unwrap_or_default();
        let v = match (self.best, self.cfg.flaw) {
            (Some((_, v)), f) if f != Flaw::SkipAdopt => v,
            _ => own,
        };
        self.phase = Phase::Accept(v);
        let Some(b) = self.ballot else { return };
        for to in 0..ctx.cluster_size() {
            self.send(ctx, to, Msg::Accept(b, v));
        }
    }

    /// Proposer: an acceptance of the current ballot.
    fn on_accepted(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, v: Value) {
        self.accepts |= 1 << from;
        if self.accepts.count_ones() < self.quorum2(ctx.cluster_size()) {
            return;
        }
        self.phase = Phase::Done;
        self.learn(ctx, v);
        if self.cfg.announce {
            let me = ctx.id();
            for to in (0..ctx.cluster_size()).filter(|&t| t != me) {
                ctx.send(to, Msg::Decided(v));
            }
        }
    }

    fn learn(&mut self, ctx: &mut Ctx<'_, Self>, v: Value) {
        if ctx.disk().decided.is_none() {
            ctx.disk().decided = Some(v);
            ctx.sync("decide");
        }
    }
}

impl Node for Paxos {
    type Msg = Msg;
    type Timer = Timer;
    type Disk = AcceptorDisk;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.disk().decided.is_some() {
            self.phase = Phase::Done;
        }
        match self.cfg.retry {
            None => self.propose(ctx),
            Some(_) => self.retry(ctx),
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        let current = |b: Ballot, s: &Paxos| s.ballot == Some(b);
        match msg {
            Msg::Prepare(b) => self.on_prepare(ctx, from, b),
            Msg::Accept(b, v) => self.on_accept(ctx, from, b, v),
            Msg::Promise(b, acc) if current(b, self) && self.phase == Phase::Prepare => {
                self.on_promise(ctx, from, acc)
            }
            Msg::Accepted(b) if current(b, self) => {
                if let Phase::Accept(v) = self.phase {
                    self.on_accepted(ctx, from, v)
                }
            }
            Msg::Reject(b, p) if current(b, self) => {
                self.round = self.round.max(p.round);
                let running = matches!(self.phase, Phase::Prepare | Phase::Accept(_));
                if self.phase != Phase::Done {
                    self.phase = Phase::Idle;
                }
                // Back off once per refused ballot (several acceptors may
                // refuse it).
                if let (true, Some(b)) = (running, self.cfg.backoff) {
                    let wait = if b > 0 {
                        crate::sim::rng::index(ctx.rng(), b.saturating_add(1) as usize) as u64
                    } else {
                        0
                    };
                    ctx.set_timer(SimDuration(wait), Timer::Propose);
                }
            }
            Msg::Decided(v) => self.learn(ctx, v),
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: Timer) {
        if self.phase != Phase::Done && ctx.disk().decided.is_none() {
            self.propose(ctx);
        }
    }

    fn label(msg: &Msg) -> String {
        let b = |b: &Ballot| format!("{}.{}", b.round, b.node);
        match msg {
            Msg::Prepare(x) => format!("prepare {}", b(x)),
            Msg::Promise(x, None) => format!("promise {}", b(x)),
            Msg::Promise(x, Some((a, v))) => format!("promise {} ({},{v})", b(x), b(a)),
            Msg::Accept(x, v) => format!("accept {} v={v}", b(x)),
            Msg::Accepted(x) => format!("accepted {}", b(x)),
            Msg::Reject(x, p) => format!("reject {} ({})", b(x), b(p)),
            Msg::Decided(v) => format!("decided {v}"),
        }
    }
}

/// The values chosen so far: a proposal accepted (ever, by the ghost
/// votes) by a majority of acceptors. Safety is "at most one value".
pub fn chosen<'a>(disks: impl IntoIterator<Item = &'a AcceptorDisk>) -> BTreeSet<Value> {
    let disks: Vec<&AcceptorDisk> = disks.into_iter().collect();
    let need = disks.len() / 2 + 1;
    chosen_by(&disks, need)
}

/// The values chosen with phase-2 quorums of `need` acceptors: a proposal
/// accepted (ever) by at least `need` of `disks`.
pub fn chosen_by(disks: &[&AcceptorDisk], need: usize) -> BTreeSet<Value> {
    let all: BTreeSet<(Ballot, Value)> =
        disks.iter().flat_map(|d| d.votes.iter().copied()).collect();
    all.into_iter()
        .filter(|p| disks.iter().filter(|d| d.votes.contains(p)).count() >= need)
        .map(|(_, v)| v)
        .collect()
}

/// `n` nodes, proposers `0..values.len()` proposing `values`.
pub fn cluster(
    n: usize,
    values: &[Value],
    retry: Option<(u64, u64)>,
    attempts: u32,
    flaw: Flaw,
) -> Vec<Paxos> {
    (0..n)
        .map(|i| {
            Paxos::new(Cfg {
                propose: values.get(i).copied(),
                retry,
                attempts: attempts.max(1),
                announce: retry.is_some(),
                flaw,
                ..Cfg::default()
            })
        })
        .collect()
}

/// [`cluster`] with phase-1 quorums of `q1` acceptors and phase-2 quorums
/// of `q2` (Howard, Malkhi, Spiegelman 2016, "Flexible Paxos": safety
/// needs only `q1 + q2 > n`; this lets you break it too).
///
/// Errors: `q1` or `q2` outside `1..=n`, or `n` outside `1..=64`.
pub fn quorum_cluster(
    n: usize,
    values: &[Value],
    (q1, q2): (usize, usize),
    flaw: Flaw,
) -> Result<Vec<Paxos>> {
    crate::error::check_count("n (acceptors)", n, 1, 64, "nodes")?;
    for (name, q) in [("q1 (phase-1 quorum)", q1), ("q2 (phase-2 quorum)", q2)] {
        if q == 0 || q > n {
            return Err(Error::invalid(
                name,
                q,
                &format!("a quorum size in 1..={n} (the number of acceptors)"),
            ));
        }
    }
    let mut nodes = cluster(n, values, None, 1, flaw);
    for p in &mut nodes {
        (p.cfg.phase1, p.cfg.phase2) = (q1 as u32, q2 as u32);
    }
    Ok(nodes)
}
