//! Chapter 6, what one commit costs: messages and disk syncs per
//! transaction against the number of participants, counted by the
//! simulation and set against the protocol's arithmetic.
//!
//! With n participants that all vote yes, two-phase commit sends a
//! *prepare*, a *vote*, a *commit* and an *ack* per participant: **4n
//! messages**, 3n without the acks (the acks only let the coordinator
//! forget the transaction; nobody waits for them). It syncs the disk
//! **1 + 2n times**: the coordinator's *commit* record, and each
//! participant's *prepared* and *committed* records. With presumed abort
//! an abort costs less: no ack and no coordinator sync. If each
//! participant votes no with probability p, a transaction commits with
//! probability q = (1 − p)^n, so it takes `3n + n·q` messages and `q`
//! coordinator syncs on average; a participant syncs twice if it voted
//! yes and once if it voted no, `n(2 − p)` in all (slightly fewer when an
//! abort overtakes a prepare, and the participant then syncs the abort
//! alone).
//!
//! The counts come from the run itself: every send and every sync is a
//! recorded crash point with its label, and the network's own count of
//! sent messages must agree.

use crate::error::{check_probability, Error, Result};
use crate::plot::Table;
use crate::sim::points::PointKind;
use crate::sim::time::{ms, secs};
use crate::sim::{CrashPoints, Latency, LinkConfig, Sim};
use crate::txn::two_phase::{clients, TwoPhase, Variant};
use serde::Serialize;

/// Parameters of the cost experiment.
#[derive(Debug, Clone, Serialize)]
pub struct CostParams {
    /// Seed of the first run (each participant count gets its own).
    pub seed: u64,
    /// The participant counts to run.
    pub participants: Vec<usize>,
    /// Transactions per participant count (one client, one after another).
    pub txns: u64,
    /// Probability that a participant votes no on a transaction.
    pub no_vote: f64,
    /// The protocol: correct, or a broken variant whose counts the theory
    /// catches (`ForgetVote` skips the participants' *prepared* sync).
    pub variant: Variant,
}

impl Default for CostParams {
    /// 1, 2, 3, 4, 8 and 16 participants, 1,000 transactions each, every
    /// vote yes.
    fn default() -> Self {
        CostParams {
            seed: 1,
            participants: vec![1, 2, 3, 4, 8, 16],
            txns: 1_000,
            no_vote: 0.0,
            variant: Variant::Correct,
        }
    }
}

/// What one participant count's transactions cost, in total.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CostCounts {
    /// Participants.
    pub n: usize,
    /// Transactions run.
    pub txns: u64,
    /// Transactions committed.
    pub committed: u64,
    /// Prepares sent (coordinator → participants).
    pub prepares: u64,
    /// Votes sent (participants → coordinator).
    pub votes: u64,
    /// Decisions sent (commit or abort; coordinator → participants).
    pub decisions: u64,
    /// Acknowledgements of a commit (participants → coordinator).
    pub acks: u64,
    /// Queries of a participant in doubt (none in a run without faults).
    pub queries: u64,
    /// Disk syncs of the coordinator.
    pub coordinator_syncs: u64,
    /// Disk syncs of all participants together.
    pub participant_syncs: u64,
    /// Messages the network counted as sent, client requests and replies
    /// included (two per transaction).
    pub network_sent: u64,
}

impl CostCounts {
    /// Protocol messages (everything but the client's request and reply).
    pub fn messages(&self) -> u64 {
        self.prepares + self.votes + self.decisions + self.acks + self.queries
    }

    fn per_txn(&self, x: u64) -> f64 {
        x as f64 / self.txns.max(1) as f64
    }
}

/// The theory for n participants that vote no with probability p.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CostTheory {
    /// Participants.
    pub n: usize,
    /// Probability of a no vote.
    pub p: f64,
}

impl CostTheory {
    /// Probability that a transaction commits: (1 − p)^n.
    pub fn commit(&self) -> f64 {
        (1.0 - self.p).powi(self.n as i32)
    }
    /// Messages per transaction: 3n + n·(1 − p)^n (4n when all vote yes).
    pub fn messages(&self) -> f64 {
        let n = self.n as f64;
        3.0 * n + n * self.commit()
    }
    /// Messages per transaction without the acks: 3n.
    pub fn without_acks(&self) -> f64 {
        3.0 * self.n as f64
    }
    /// Coordinator syncs per transaction: (1 − p)^n (1 when all vote yes).
    pub fn coordinator_syncs(&self) -> f64 {
        self.commit()
    }
    /// Participant syncs per transaction: n(2 − p) (2n when all vote yes).
    pub fn participant_syncs(&self) -> f64 {
        self.n as f64 * (2.0 - self.p)
    }
}

/// The experiment's result.
#[derive(Debug, Clone, Serialize)]
pub struct CostRun {
    /// The probability of a no vote the runs used.
    pub no_vote: f64,
    /// One row per participant count, in the order asked.
    pub rows: Vec<CostCounts>,
}

impl CostParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if self.participants.is_empty() || self.participants.len() > 20 {
            return Err(Error::invalid(
                "participants",
                format!("{} counts", self.participants.len()),
                "1 to 20 participant counts",
            ));
        }
        for &n in &self.participants {
            crate::error::check_count("participants", n, 1, 100, "participants")?;
        }
        if !(1..=100_000).contains(&self.txns) {
            return Err(Error::invalid(
                "txns",
                self.txns,
                "1 to 100,000 transactions",
            ));
        }
        check_probability("no_vote", self.no_vote)?;
        // Every send and sync is recorded: about 6n + 3 per transaction.
        for &n in &self.participants {
            let points = self.txns as f64 * (6.0 * n as f64 + 3.0);
            if points > crate::sim::points::MAX_RECORDED as f64 {
                return Err(Error::invalid(
                    "txns",
                    self.txns,
                    &format!(
                        "fewer transactions or participants: txns × (6 × participants + 3) at most {}",
                        crate::sim::points::MAX_RECORDED
                    ),
                ));
            }
        }
        let work: f64 = self
            .participants
            .iter()
            .map(|&n| self.txns as f64 * (6.0 * n as f64 + 6.0))
            .sum();
        crate::error::check_work("txns × participants", work)
    }

    /// One run per participant count: one client commits `txns`
    /// transactions one after another, without faults; every message takes
    /// 1 to 5 ms, far less than any timeout, so nobody times out or asks.
    pub fn run(&self) -> Result<CostRun> {
        self.validate()?;
        let mut rows = Vec::new();
        for (i, &n) in self.participants.iter().enumerate() {
            let p = TwoPhase {
                participants: n,
                no_vote: self.no_vote,
                vote_timeout: secs(100),
                ask_every: secs(10),
                variant: self.variant,
                ..TwoPhase::default()
            };
            let mut sim = Sim::builder()
                .seed(self.seed.wrapping_add(i as u64))
                .link(LinkConfig::new(Latency::uniform(ms(1), ms(5))?))
                .trace(0)
                .crash_points(CrashPoints::SyncsAndSends)
                .record_crash_points(true)
                .build(p.nodes()?)?;
            sim.set_workload(1, clients(self.txns, ms(1)))?;
            sim.run_to_end()?;
            let mut c = CostCounts {
                n,
                txns: self.txns,
                network_sent: sim.stats().sent,
                ..Default::default()
            };
            for point in sim.crash_points() {
                let word = point.label.split(' ').next().unwrap_or("");
                match (point.kind, point.node, word) {
                    (PointKind::Sync, 0, _) => c.coordinator_syncs += 1,
                    (PointKind::Sync, _, _) => c.participant_syncs += 1,
                    (PointKind::Send, _, "prepare") => c.prepares += 1,
                    (PointKind::Send, _, "vote") => c.votes += 1,
                    (PointKind::Send, _, "commit" | "abort") => c.decisions += 1,
                    (PointKind::Send, _, "ack") => c.acks += 1,
                    (PointKind::Send, _, "query") => c.queries += 1,
                    (PointKind::Reply, _, "commit") => c.committed += 1,
                    _ => {}
                }
            }
            rows.push(c);
        }
        Ok(CostRun {
            no_vote: self.no_vote,
            rows,
        })
    }
}

impl CostRun {
    /// The theory for a row.
    pub fn theory(&self, row: &CostCounts) -> CostTheory {
        CostTheory {
            n: row.n,
            p: self.no_vote,
        }
    }

    /// Per participant count: messages and syncs per transaction, as
    /// counted and as the theory says.
    pub fn table(&self) -> Result<Table> {
        if self.rows.is_empty() {
            return Err(Error::empty("participant counts"));
        }
        let all_yes = self.no_vote == 0.0;
        let mut t = Table::new(&[
            "participants",
            "committed",
            "messages / txn",
            if all_yes {
                "theory 4n"
            } else {
                "theory 3n + n(1−p)^n"
            },
            "without acks",
            "theory 3n",
            "coordinator syncs / txn",
            "participant syncs / txn",
            if all_yes {
                "theory 1 + 2n"
            } else {
                "theory (1−p)^n + n(2−p)"
            },
        ]);
        for r in &self.rows {
            let th = self.theory(r);
            t.push_row(vec![
                r.n.to_string(),
                format!("{} of {}", r.committed, r.txns),
                format!("{:.2}", r.per_txn(r.messages())),
                format!("{:.2}", th.messages()),
                format!("{:.2}", r.per_txn(r.messages() - r.acks)),
                format!("{:.2}", th.without_acks()),
                format!("{:.2}", r.per_txn(r.coordinator_syncs)),
                format!("{:.2}", r.per_txn(r.participant_syncs)),
                format!("{:.2}", th.coordinator_syncs() + th.participant_syncs()),
            ]);
        }
        Ok(t.caption(if all_yes {
            "Every vote yes: a prepare, a vote, a commit and an ack per participant (4n; 3n without the acks); syncs: the coordinator's commit, each participant's prepared and committed (1 + 2n)."
        } else {
            "Each vote no with probability p: an abort needs no ack and no coordinator sync (presumed abort), and a no voter syncs once."
        }))
    }
}
