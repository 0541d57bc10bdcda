//! Chapter 5, checkpoints and recovery (see [`crate::txn::checkpoint`]):
//! what a checkpoint interval costs recovery, and whether recovery survives
//! a crash of its own.
//!
//! One client sends transfers one after another to a bank that logs redo
//! records, keeps its balances in memory, and checkpoints every `interval`
//! commits. Two experiments:
//!
//! - [`CheckpointParams::recovery_cost`]: per seed, the bank is crashed at
//!   one of its crash points picked uniformly at random, and recovery counts
//!   the log records it reads and the updates it replays. Theory, for this
//!   scheme: a run of `transfers` commits (a multiple of the interval `I`)
//!   has one crash point per commit and one per checkpoint. A crash at the
//!   commit sync of the transfer numbered `m` from 0 finds `m mod I` commits
//!   since the checkpoint; one at a checkpoint's sync finds `I`. Over a
//!   period of `I + 1` points that averages
//!   `(0 + 1 + … + (I−1) + I) / (I + 1) = I / 2` commits. Each commit left
//!   three records (two updates, a commit), and the backward scan reads the
//!   checkpoint record too: **3·I/2 + 1 records read, I updates replayed**.
//! - [`CheckpointParams::recovery_crashes`]: the bank is crashed at every
//!   crash point of a run, and then, during each recovery, at every crash
//!   point of that recovery; a second recovery must leave the disk exactly
//!   as one clean recovery does (recovery is idempotent). Redoing
//!   after-images passes; redoing deltas fails wherever the crashed recovery
//!   had already synced a redone transaction.

use crate::check::crash_points::{every_point, CrashPointReport, CrashPointRun};
use crate::error::{Error, Result};
use crate::measure::stats::check_replications;
use crate::measure::SweepCi;
use crate::sim::rng::{self, SimRng};
use crate::sim::sweep::Sweep;
use crate::sim::time::{ms, SimDuration};
use crate::sim::{ClientId, CrashPoint, FaultPlan, Invoke, Op, Sim, SimTime};
use crate::txn::checkpoint::{recovered_balances, CheckpointBank, Ledger, Redo};
use crate::txn::logging::{check_store, Msg, Record, Store};
use serde::Serialize;

mod results;
pub use results::*;

/// Parameters of both experiments.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointParams {
    /// Base seed (each replication derives its own).
    pub seed: u64,
    /// Number of accounts.
    pub accounts: usize,
    /// Each account's initial balance: at least 10 × `transfers`, so that no
    /// transfer (of 1 to 10) is ever refused and every transfer commits.
    pub initial: i64,
    /// Transfers the client sends, one after another.
    pub transfers: usize,
    /// Time the client waits between two transfers.
    pub think: SimDuration,
    /// Time the client waits for an answer.
    pub timeout: SimDuration,
    /// Time a crashed bank stays down (the cost experiment).
    pub restart_after: SimDuration,
    /// Replications (one random crash each) per checkpoint interval.
    pub seeds: usize,
}

impl Default for CheckpointParams {
    /// 4 accounts of 10,000; 128 transfers, 5 ms apart; 20 ms timeout; the
    /// bank down 5 ms after a crash; 40 seeds.
    fn default() -> Self {
        CheckpointParams {
            seed: 1,
            accounts: 4,
            initial: 10_000,
            transfers: 128,
            think: ms(5),
            timeout: ms(20),
            restart_after: ms(5),
            seeds: 40,
        }
    }
}

/// Largest transfer: amounts are 1 to this.
const MOST: usize = 10;

/// One run: the disk at the end, the checks, what recovery counted.
#[derive(Debug, Clone)]
pub struct CheckpointRun {
    /// The bank's durable state at the end.
    pub ledger: Ledger,
    /// The checks on the state the disk stands for (its clean recovery).
    pub checks: CrashPointRun,
    /// Log records recovery read, over all recoveries of the run.
    pub read: u64,
    /// Updates recovery replayed, over all recoveries of the run.
    pub replayed: u64,
    /// Recoveries in the run.
    pub recoveries: u64,
    /// The crash points the plan crashed the bank at, in order.
    pub crashed_at: Vec<u64>,
}

/// What one crash of the cost experiment measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RecoverySample {
    /// Log records read.
    pub read: f64,
    /// Updates replayed.
    pub replayed: f64,
}

impl CheckpointParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if !(2..=1_000).contains(&self.accounts) {
            return Err(Error::invalid(
                "accounts",
                self.accounts,
                "2 to 1,000 accounts (a transfer needs two)",
            ));
        }
        if !(1..=2_000).contains(&self.transfers) {
            return Err(Error::invalid(
                "transfers",
                self.transfers,
                "1 to 2,000 transfers",
            ));
        }
        let least = (MOST * self.transfers) as i64;
        if !(least..=1_000_000_000).contains(&self.initial) {
            return Err(Error::invalid(
                "initial",
                self.initial,
                &format!(
                    "{least} (10 × transfers, so that no transfer is refused) to 1,000,000,000"
                ),
            ));
        }
        for (name, d) in [("think", self.think), ("timeout", self.timeout)] {
            if !(ms(1).0..=ms(1_000).0).contains(&d.0) {
                return Err(Error::invalid(name, d, "1 ms to 1 s"));
            }
        }
        if self.restart_after.0 > ms(1_000).0 {
            return Err(Error::invalid(
                "restart_after",
                self.restart_after,
                "at most 1 s",
            ));
        }
        check_replications(self.seeds as u64)
    }

    /// How long the client needs to send every transfer, each timing out at
    /// worst.
    fn client_time(&self) -> SimDuration {
        let per = self.think + self.timeout + ms(2);
        SimDuration(per.0.saturating_mul(self.transfers as u64 + 1))
    }

    /// One run of a bank checkpointing every `interval` commits and
    /// recovering with `redo`, the bank restarted `restart` after each
    /// crash of `plan`, for `horizon`; `record` keeps the crash points.
    #[allow(clippy::too_many_arguments)]
    fn run_with(
        &self,
        interval: usize,
        redo: Redo,
        plan: &FaultPlan,
        record: bool,
        seed: u64,
        horizon: SimDuration,
    ) -> Result<CheckpointRun> {
        self.validate()?;
        let mut sim = Sim::builder()
            .seed(seed)
            .faults(plan.clone())
            .record_crash_points(record)
            .build(vec![CheckpointBank::new(interval, redo)?])?;
        sim.set_disk(0, Ledger::new(self.accounts, self.initial)?)?;
        let (accounts, transfers) = (self.accounts, self.transfers);
        let (think, timeout) = (self.think, self.timeout);
        let mut sent = 0usize;
        sim.set_workload(
            1,
            move |_: ClientId, _: SimTime, r: &mut SimRng, _: Option<&Op<Msg>>| {
                if sent >= transfers {
                    return None;
                }
                sent += 1;
                let from = rng::index(r, accounts);
                let to = (from + 1 + rng::index(r, accounts - 1)) % accounts;
                let amount = 1 + rng::index(r, MOST) as i64;
                Some(
                    Invoke::new(0, Msg::Transfer { from, to, amount })
                        .after(think)
                        .timeout(timeout),
                )
            },
        )?;
        sim.run_for(horizon)?;
        let ledger = sim.disk(0)?.synced().clone();
        // Judge what the disk stands for: its clean recovery, with the
        // commit records as a logging::Store's log.
        let view = Store {
            balances: recovered_balances(&ledger, redo),
            log: ledger.committed().into_iter().map(Record::Commit).collect(),
        };
        let verdicts = check_store(&view, self.initial, sim.history())?;
        let c = sim.counters();
        Ok(CheckpointRun {
            read: c.get("recovery records read"),
            replayed: c.get("recovery records replayed"),
            recoveries: c.get("recoveries"),
            crashed_at: sim.crashed_at_points().iter().map(|p| p.index).collect(),
            checks: CrashPointRun::new(&sim, verdicts),
            ledger,
        })
    }

    /// One run where a crashed bank restarts after
    /// [`CheckpointParams::restart_after`] and the client goes on.
    pub fn run(
        &self,
        interval: usize,
        redo: Redo,
        plan: &FaultPlan,
        record: bool,
        seed: u64,
    ) -> Result<CheckpointRun> {
        let horizon = self.client_time() + self.restart_after + self.restart_after + ms(10);
        self.run_with(interval, redo, plan, record, seed, horizon)
    }

    /// Crashes the bank (after-image redo) at each crash point of a run
    /// with checkpoints every `interval` commits: every recovery must
    /// restore the three checks (see [`crate::check::crash_points`]).
    pub fn every_crash_point(&self, interval: usize, redo: Redo) -> Result<CrashPointReport> {
        self.validate()?;
        // At most one crash point per commit and one per checkpoint.
        self.check_work(2.0 * self.transfers as f64)?;
        every_point(
            |plan, record| Ok(self.run(interval, redo, plan, record, self.seed)?.checks),
            self.restart_after,
        )
    }

    /// Recovery's cost against the checkpoint interval: per interval and
    /// seed, one crash at a crash point picked uniformly at random.
    pub fn recovery_cost(&self, intervals: &[usize]) -> Result<RecoveryCost> {
        self.validate()?;
        if intervals.is_empty() {
            return Err(Error::empty("intervals"));
        }
        if let Some(i) = intervals
            .iter()
            .find(|&&i| i == 0 || self.transfers % i != 0)
        {
            return Err(Error::invalid(
                "interval",
                i,
                &format!(
                    "a divisor of transfers ({}), so that every checkpoint period is whole",
                    self.transfers
                ),
            ));
        }
        self.check_work(2.0 * intervals.len() as f64 * self.seeds as f64)?;
        let results = Sweep::new(intervals.to_vec())
            .base_seed(self.seed)
            .seeds(self.seeds)
            .progress(false)
            .run(|&interval, seed| self.one_crash(interval, seed))?;
        let mut points = Vec::with_capacity(results.len());
        for r in &results {
            let i = r.point as f64;
            points.push(CostPoint {
                interval: r.point,
                read: r.mean_ci(|v| v.read)?,
                replayed: r.mean_ci(|v| v.replayed)?,
                read_theory: 3.0 * i / 2.0 + 1.0,
                replayed_theory: i,
            });
        }
        Ok(RecoveryCost {
            params: self.clone(),
            points,
        })
    }

    /// One replication: a run without faults names the crash points; one is
    /// picked at random and the bank crashed there.
    fn one_crash(&self, interval: usize, seed: u64) -> Result<RecoverySample> {
        let base = self.run(interval, Redo::AfterImage, &FaultPlan::new(), true, seed)?;
        let points = &base.checks.points;
        if points.is_empty() {
            return Err(Error::invalid("transfers", 0, "at least one transfer"));
        }
        let mut r = rng::stream(seed, 0xC4EC, interval as u64, 0);
        let k = points[rng::index(&mut r, points.len())].index;
        let plan = FaultPlan::new().crash_at_point(k, Some(self.restart_after));
        let run = self.run(interval, Redo::AfterImage, &plan, false, seed)?;
        if run.recoveries != 1 || !run.checks.holds() {
            return Err(Error::invalid(
                "crash point",
                k,
                "one crash that recovery repairs (this is a bug in the experiment)",
            ));
        }
        Ok(RecoverySample {
            read: run.read as f64,
            replayed: run.replayed as f64,
        })
    }

    /// Crashes the bank at every crash point of a run with checkpoints
    /// every `interval` commits, and during each recovery at each of the
    /// recovery's crash points, for both ways of redoing; compares the disk
    /// after the second recovery with the disk after one clean recovery.
    ///
    /// The bank restarts only once the client has sent every transfer (each
    /// timing out while it is down), so nothing but recovery changes the
    /// disk after the first crash and the two disks must be equal.
    pub fn recovery_crashes(&self, interval: usize) -> Result<RecoveryCrashes> {
        self.validate()?;
        // A run has at most 2 × transfers points (one per commit, one per
        // checkpoint); their recoveries have about interval / 2 + 1 points
        // each on average, and each pair costs 2 runs per way of redoing.
        let i = interval.min(self.transfers) as f64;
        let t = self.transfers as f64;
        self.check_work(2.0 * t + 4.0 * t * (i / 2.0 + 1.0))?;
        let quiet = self.client_time();
        let horizon = quiet + quiet + quiet + ms(10);
        let run = |redo: Redo, plan: &FaultPlan, record: bool| {
            self.run_with(interval, redo, plan, record, self.seed, horizon)
        };
        let base = run(Redo::AfterImage, &FaultPlan::new(), true)?;
        let normal = base.checks.points.clone();
        let mut pairs: Vec<(CrashPoint, CrashPoint)> = Vec::new();
        for p in &normal {
            let plan = FaultPlan::new().crash_at_point(p.index, Some(quiet));
            let once = run(Redo::AfterImage, &plan, true)?;
            for q in once.checks.points.iter().filter(|q| q.index > p.index) {
                pairs.push((p.clone(), q.clone()));
            }
        }
        let mut outcomes = Vec::with_capacity(pairs.len());
        for redo in Redo::ALL {
            let grid: Vec<usize> = (0..pairs.len()).collect();
            let runs = Sweep::new(grid)
                .seed_list(vec![0])
                .progress(false)
                .run(|&i, _| {
                    let (p, q) = &pairs[i];
                    let once = run(
                        redo,
                        &FaultPlan::new().crash_at_point(p.index, Some(quiet)),
                        false,
                    )?;
                    let plan = FaultPlan::new()
                        .crash_at_point(p.index, Some(quiet))
                        .crash_at_point(q.index, Some(quiet));
                    let twice = run(redo, &plan, false)?;
                    let hits = &twice.crashed_at;
                    if hits[..] != [p.index, q.index] {
                        return Err(Error::invalid(
                            "crash points",
                            format!("{hits:?}"),
                            "a run that crashes at both points (a bug in the experiment)",
                        ));
                    }
                    Ok(differs(&once.ledger, &twice.ledger))
                })?;
            for (i, r) in runs.into_iter().enumerate() {
                let diff = r.values.into_iter().next().flatten();
                outcomes.push((redo, i, diff));
            }
        }
        let rows = pairs
            .iter()
            .enumerate()
            .map(|(i, (p, q))| PairOutcome {
                normal: p.clone(),
                during: q.clone(),
                differs: Redo::ALL
                    .iter()
                    .map(|&redo| {
                        outcomes
                            .iter()
                            .find(|(r, j, _)| *r == redo && *j == i)
                            .and_then(|(_, _, d)| d.clone())
                    })
                    .collect(),
            })
            .collect();
        Ok(RecoveryCrashes {
            params: self.clone(),
            interval,
            normal_points: normal.len(),
            rows,
        })
    }

    /// Refuses experiments too large for a notebook cell: `runs` runs of
    /// about 10 events per transfer.
    fn check_work(&self, runs: f64) -> Result<()> {
        crate::error::check_work(
            "runs × transfers: fewer transfers, seeds or intervals",
            runs * self.transfers as f64 * 10.0,
        )
    }
}

/// How the second disk differs from the first: the first account whose
/// balance differs, or the logs; None if equal.
fn differs(once: &Ledger, twice: &Ledger) -> Option<String> {
    if let Some(a) =
        (0..once.balances.len()).find(|&a| once.balances.get(a) != twice.balances.get(a))
    {
        return Some(format!(
            "account {a}: {} instead of {}",
            twice.balances.get(a).copied().unwrap_or_default(),
            once.balances[a]
        ));
    }
    (once.log != twice.log).then(|| "the logs differ".to_string())
}
