//! Consensus (chapter 09): single-decree Paxos written to be read, with
//! planted flaws for the checkers to catch.
//!
//! | file | what |
//! |---|---|
//! | [`paxos`] | single-decree Paxos (Lamport 2001): ballots, promises, acceptances, the ghost record of votes, [`paxos::Flaw`] |
//!
//! The problem itself, as checkers (agreement, validity, integrity,
//! termination, replicated state machines), is in
//! [`crate::check::consensus`], so chapter 10's Raft uses the same ones.

pub mod paxos;

pub use paxos::{
    chosen, chosen_by, cluster, quorum_cluster, standard_promise, AcceptorDisk, Ballot, Cfg, Flaw,
    Msg, Paxos, Phase, PromiseFn, PromiseRule, Timer, Value,
};
