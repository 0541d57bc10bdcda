//! The two-phase commit coordinator's **decision rule**: given the votes in
//! so far, commit, abort, or wait for more?
//!
//! The crate's coordinator ([`super::two_phase`]) asks its rule after every
//! vote and when its vote timeout fires; the textbook rule is
//! [`standard_decision`]: any no vote, or a vote that did not come in time,
//! aborts; only a yes from *every* participant commits (each yes is a
//! participant's durable promise to commit if told to; a participant that
//! did not vote yes has promised nothing, and will abort whatever it is
//! told). A reader writes a rule of their own as a plain function or
//! closure (anything that implements [`Decide`]); [`DecisionRule::new`]
//! boxes it, so the coordinator, the engine and the checkers stay compiled
//! with the crate and only the rule is compiled where it was written.

use super::two_phase::Outcome;
use std::sync::Arc;

/// What the coordinator knows about one transaction's votes when it asks
/// its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Votes {
    /// Participants asked to prepare (every one of them must vote).
    pub participants: usize,
    /// Distinct participants that voted yes (each synced its promise).
    pub yes: usize,
    /// Distinct participants that voted no (each aborted already).
    pub no: usize,
    /// The vote timeout fired: the missing votes did not come in time.
    pub timed_out: bool,
}

/// The textbook rule: abort on any no vote, commit once every participant
/// voted yes, abort when the votes did not all come in time, wait
/// otherwise.
pub fn standard_decision(v: &Votes) -> Option<Outcome> {
    if v.no > 0 {
        Some(Outcome::Aborted) // a participant refused
    } else if v.yes == v.participants {
        Some(Outcome::Committed) // every participant promised
    } else if v.timed_out {
        Some(Outcome::Aborted) // a vote did not come in time
    } else {
        None // wait for the other votes
    }
}

/// A decision rule: `Some(outcome)` decides, `None` waits for the next
/// vote (or, at the timeout, for another timeout). Every
/// `Fn(&Votes) -> Option<Outcome>` that is `Send + Sync + 'static` (a
/// function, a closure that owns what it captures) is one.
pub trait Decide: Send + Sync + 'static {
    /// The decision, given the votes so far.
    fn decide(&self, votes: &Votes) -> Option<Outcome>;
}

impl<F: Fn(&Votes) -> Option<Outcome> + Send + Sync + 'static> Decide for F {
    fn decide(&self, votes: &Votes) -> Option<Outcome> {
        self(votes)
    }
}

/// A boxed [`Decide`] in the coordinator's configuration (cheap to clone:
/// the explorer hands one protocol to many threads).
#[derive(Clone)]
pub struct DecisionRule(Arc<dyn Decide>);

impl DecisionRule {
    /// Boxes `rule`.
    pub fn new(rule: impl Decide) -> Self {
        DecisionRule(Arc::new(rule))
    }

    /// The rule's decision on `votes`.
    pub fn decide(&self, votes: &Votes) -> Option<Outcome> {
        self.0.decide(votes)
    }
}

impl Default for DecisionRule {
    /// [`standard_decision`].
    fn default() -> Self {
        DecisionRule::new(standard_decision)
    }
}

impl std::fmt::Debug for DecisionRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecisionRule")
    }
}
