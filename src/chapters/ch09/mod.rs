//! Chapter 9, *Consensus* (notebook `09-consensus`): single-decree Paxos
//! ([`crate::consensus`]) checked by explored seeds and by exhaustive
//! search, its quorums counted, and kept from deciding by an adversary.
//!
//! | module | experiment |
//! |---|---|
//! | [`safety`] | 10,000 fault schedules and every schedule of a small cluster: one value chosen; the planted flaws caught on shortest paths; your own promise rule judged |
//! | [`quorums`] | quorum pairs that intersect, for every (\|Q1\|, \|Q2\|): majorities and flexible quorums; too small ones lose safety |
//! | [`duel`] | two proposers that restart on refusal duel for ever on a regular network; a random backoff ends it, as a model predicts |
//! | [`flp`] | an adversarial network keeps two proposers from deciding while it delivers every message |

pub mod duel;
pub mod flp;
pub mod quorums;
pub mod safety;

pub use duel::{
    duel_ballots_chart, duel_chart, duel_model, duel_table, model_mean_ms, DuelModel, DuelParams,
    DuelPoint,
};
pub use flp::{flp_chart, flp_table, Adversary, FlpParams, FlpRun};
pub use quorums::{all_pairs, count_pairs, quorum_table, QuorumCount};
pub use safety::{
    counterexample_chart, search_table, shortest, steps_table, thousands, ExploreParams, Explored,
    SearchParams,
};
