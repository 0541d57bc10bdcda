//! Raft's safety checked: many explored seeds of a five-server cluster
//! with clients under crashes (also at sync points), partitions (also one
//! way), message loss and duplication; Figure 3's invariants are checked
//! after every event, the whole logs and linearizability at the end.

use crate::check::{Exploration, FaultSpace};
use crate::error::{check_count, Result};
use crate::raft::{explore_raft, Aim, Bug, RaftCluster, UpToDate, UpToDateFn};
use crate::sim::time::ms;

/// The exploration's settings.
#[derive(Debug, Clone)]
pub struct SafetyParams {
    /// The cluster, its clients and its network (5 servers, 3 clients of
    /// 40 operations, 1–5 ms delays, 1 % loss and duplication, 10 s).
    pub cluster: RaftCluster,
    /// Seeds explored (seed `i` draws fault plan `i`).
    pub seeds: usize,
}

impl Default for SafetyParams {
    /// The default cluster, 300 seeds.
    fn default() -> Self {
        SafetyParams {
            cluster: RaftCluster::default(),
            seeds: 300,
        }
    }
}

impl SafetyParams {
    /// The faults drawn per seed: up to two outages of 10 ms to 1 s, a
    /// crash of the leader, two partitions and a one-way cut of 50 ms to
    /// 2 s, a lossy window, and in half the runs a crash at one of the
    /// first 300 sync points.
    pub fn space(&self) -> Result<FaultSpace> {
        self.cluster.fault_space()
    }

    /// The same exploration with the voters' up-to-date test replaced by
    /// `rule` (the notebook's "change the protocol": the reader writes it).
    pub fn with_vote_rule(mut self, rule: UpToDateFn) -> SafetyParams {
        self.cluster.cfg.up_to_date = UpToDate(rule);
        self
    }

    /// Explores the seeds; the first failure, if any, is shrunk.
    pub fn run(&self) -> Result<Exploration> {
        check_count("seeds", self.seeds, 1, 100_000, "explored seeds")?;
        explore_raft(&self.cluster, &self.space()?, self.seeds)
    }
}

/// The vote's sync dropped ([`Bug::VoteNotPersisted`]) and explored as
/// tests/raft.rs does: three servers with timeouts of 150–155 ms (split
/// votes are common), candidates asking again every 5 ms, and in half the
/// runs one crash aimed at the first thing a server does after it granted
/// a vote ([`Aim::NextAfter`]), restarting 1 ms later. The server forgets
/// its vote and can grant a second one in the same term.
pub fn unsynced_vote(seeds: usize) -> Result<Exploration> {
    check_count("seeds", seeds, 1, 100_000, "explored seeds")?;
    let mut c = RaftCluster::default();
    c.cfg.bug = Some(Bug::VoteNotPersisted);
    c.nodes = 3;
    c.cfg.election_timeout = (ms(150), ms(155));
    c.cfg.heartbeat = ms(5);
    c.crash_at_sends = true;
    c.aim = Aim::NextAfter("yes t");
    let mut s = FaultSpace::new(c.nodes, c.horizon)?;
    s.max_outages = 0;
    s.max_partitions = 0;
    s.max_lossy = 0;
    s.max_oneway = 0;
    s.max_target_crashes = 0;
    s.crash_points = Some((1, ms(1)));
    explore_raft(&c, &s, seeds)
}

/// The leader's commit rule without its term test
/// ([`Bug::CommitOldTermByCount`]: an entry of an earlier term committed
/// once a majority stores it, the paper's Figure 8), found by search: the
/// default cluster (5 servers, 3 clients, 1 % loss and duplication, 10 s)
/// under [`RaftCluster::figure8`]'s aimed crashes: in half the runs, four
/// crashes, each of the next leader right after it synced a client's entry
/// and before it sent it, back 1 s later. The first failure is shrunk;
/// draw it with `counterexample_steps`.
pub fn figure8(seeds: usize) -> Result<Exploration> {
    check_count("seeds", seeds, 1, 100_000, "explored seeds")?;
    let mut c = RaftCluster::default();
    c.cfg.bug = Some(Bug::CommitOldTermByCount);
    let (c, s) = c.figure8()?;
    explore_raft(&c, &s, seeds)
}
