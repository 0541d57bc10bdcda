//! Chapter 6, what blocking costs everybody else: a participant in doubt
//! holds its transaction's lock for as long as the coordinator is away, and
//! every other transaction on that key waits behind it.
//!
//! The coordinator crashes at its *commit* sync (every participant voted
//! yes and is prepared; the decision is lost) and is repaired `outage`
//! later; the participants ask every `ask_every` and learn *abort* soon
//! after it returns. Meanwhile local transactions arrive at participant 1
//! as a Poisson stream of rate λ, each on one of `keys` keys chosen
//! uniformly; one on the locked key waits, and gives up after `lock_wait`
//! ([`crate::txn::in_doubt_locks`]).
//!
//! **Theory.** The locked key sees arrivals at rate λ/K. One arriving `s`
//! after the lock was taken waits `L − s` (L: how long the lock is held)
//! and gives up if that exceeds the lock wait W, that is if it arrived in
//! the first `L − W` of the hold: **lost ≈ (λ/K)·(L − W)⁺**, and L is the
//! outage plus a few message delays and at most one ask period. During the
//! hold the stream's throughput falls by the locked keys' share, 1/K; the
//! lost share of the outage's transactions is (L − W)⁺/(K·L). Poisson
//! counts: the variance of the lost count equals its mean.
//!
//! The check [`no_local_commit_in_doubt`] is the reason for the wait;
//! [`LockRule::ReleasedAtVote`] breaks it.

use crate::error::{check_count, Error, Result};
use crate::measure::{mean_ci, MeanCi};
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::points::PointKind;
use crate::sim::rng::{self, domain};
use crate::sim::time::{ms, secs, SimDuration, SimTime};
use crate::sim::{CrashPoints, FaultPlan, Latency, LinkConfig, Sim};
use crate::txn::in_doubt_locks::{no_local_commit_in_doubt, LockRecord, LockRule};
use crate::txn::two_phase::{clients, Msg, TwoPc, TwoPhase};
use serde::Serialize;

/// When the coordinator crashes (at its first commit sync from then on).
const CRASH_FROM: SimDuration = ms(200);

/// Parameters of the held-locks experiment.
#[derive(Debug, Clone, Serialize)]
pub struct HeldLocksParams {
    /// Seed of the first trial.
    pub seed: u64,
    /// Trials per outage length.
    pub seeds: usize,
    /// The coordinator's outage lengths to run.
    pub outages: Vec<SimDuration>,
    /// Keys the transactions spread over (K).
    pub keys: usize,
    /// Local transactions per second arriving at participant 1 (λ).
    pub local_rate: f64,
    /// How long a local transaction waits for a lock (W).
    pub lock_wait: SimDuration,
    /// Participants of the two-phase transactions.
    pub participants: usize,
    /// How often a participant in doubt asks the coordinator.
    pub ask_every: SimDuration,
    /// Held until the outcome (correct) or released at the vote (broken).
    pub lock_rule: LockRule,
}

impl Default for HeldLocksParams {
    /// 100 trials per outage of 100, 200, 400, 600 and 800 ms; 4 keys,
    /// 400 local transactions a second, a lock wait of 100 ms; 2
    /// participants asking every 20 ms.
    fn default() -> Self {
        HeldLocksParams {
            seed: 1,
            seeds: 100,
            outages: [100, 200, 400, 600, 800].map(ms).to_vec(),
            keys: 4,
            local_rate: 400.0,
            lock_wait: ms(100),
            participants: 2,
            ask_every: ms(20),
            lock_rule: LockRule::HeldInDoubt,
        }
    }
}

/// One trial's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    /// How long participant 1 held the crashed transaction's lock (ms).
    pub hold_ms: f64,
    /// Local transactions that arrived.
    pub arrived: usize,
    /// Local transactions that gave up waiting.
    pub lost: usize,
    /// Of the local transactions that committed, how many waited at all.
    pub waited: usize,
    /// λ/K·Σ(L − W)⁺ over every doubt of the trial (the theory given the
    /// holds measured).
    pub theory_lost: f64,
    /// The first local commit under a key in doubt, if any.
    pub offence: Option<String>,
}

/// One outage length over all trials.
#[derive(Debug, Clone, Serialize)]
pub struct OutagePoint {
    /// The outage.
    pub outage: SimDuration,
    /// Per trial.
    pub trials: Vec<Trial>,
}

impl OutagePoint {
    /// Mean and 95 % interval of the lost local transactions per outage.
    pub fn lost(&self) -> Result<MeanCi> {
        mean_ci(
            &self
                .trials
                .iter()
                .map(|t| t.lost as f64)
                .collect::<Vec<_>>(),
        )
    }
    /// Mean hold of the crashed transaction's lock (ms).
    pub fn hold(&self) -> Result<MeanCi> {
        mean_ci(&self.trials.iter().map(|t| t.hold_ms).collect::<Vec<_>>())
    }
    /// The theory given the holds measured, averaged over trials.
    pub fn theory_given_holds(&self) -> f64 {
        self.trials.iter().map(|t| t.theory_lost).sum::<f64>() / self.trials.len().max(1) as f64
    }
}

/// The experiment's result.
#[derive(Debug, Clone, Serialize)]
pub struct HeldLocksRun {
    /// The parameters it ran with.
    pub params: HeldLocksParams,
    /// One point per outage, in the order asked.
    pub points: Vec<OutagePoint>,
}

impl HeldLocksParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_count("seeds", self.seeds, 1, 10_000, "trials")?;
        check_count("keys", self.keys, 1, 10_000, "keys")?;
        check_count("participants", self.participants, 1, 16, "participants")?;
        if self.outages.is_empty() || self.outages.len() > 20 {
            return Err(Error::invalid(
                "outages",
                format!("{} lengths", self.outages.len()),
                "1 to 20 outage lengths",
            ));
        }
        for &d in &self.outages {
            if d < ms(1) || d > secs(10) {
                return Err(Error::invalid("outages", d, "outages of 1 ms to 10 s"));
            }
        }
        if !(self.local_rate.is_finite() && self.local_rate > 0.0 && self.local_rate <= 10_000.0) {
            return Err(Error::invalid(
                "local_rate",
                self.local_rate,
                "0 < local transactions per second ≤ 10,000",
            ));
        }
        for (name, d) in [("lock_wait", self.lock_wait), ("ask_every", self.ask_every)] {
            if d < ms(1) || d > secs(10) {
                return Err(Error::invalid(name, d, "1 ms to 10 s"));
            }
        }
        // Per trial: two runs; the locals of the horizon, the two-phase
        // transactions (one every few ms) and the asks.
        let work: f64 = self
            .outages
            .iter()
            .map(|&d| {
                let h = self.horizon(d).as_secs_f64();
                self.seeds as f64
                    * 2.0
                    * (h * self.local_rate * 3.0
                        + h * 300.0 * (4.0 * self.participants as f64 + 4.0)
                        + h / self.ask_every.as_secs_f64() * 4.0)
            })
            .sum();
        crate::error::check_work("seeds × outages × (local_rate + participants)", work)
    }

    /// How long a trial runs: the crash, the outage, then time for the
    /// asks to learn the outcome and the last waiters to finish.
    fn horizon(&self, outage: SimDuration) -> SimDuration {
        CRASH_FROM + outage + self.ask_every * 5 + self.lock_wait * 2 + ms(50)
    }

    fn protocol(&self) -> TwoPhase {
        TwoPhase {
            participants: self.participants,
            no_vote: 0.0,
            vote_timeout: ms(50),
            ask_every: self.ask_every,
            keys: self.keys,
            lock_wait: self.lock_wait,
            lock_rule: self.lock_rule,
            ..TwoPhase::default()
        }
    }

    /// Runs every outage length over `seeds` trials.
    pub fn run(&self) -> Result<HeldLocksRun> {
        self.validate()?;
        let mut points = Vec::new();
        for (i, &outage) in self.outages.iter().enumerate() {
            let trials = (0..self.seeds)
                .map(|s| self.trial(self.seed.wrapping_add(s as u64), i as u64, outage))
                .collect::<Result<Vec<_>>>()?;
            points.push(OutagePoint { outage, trials });
        }
        Ok(HeldLocksRun {
            params: self.clone(),
            points,
        })
    }

    /// A simulation with the workload: one client committing two-phase
    /// transactions back to back, and the Poisson stream of local
    /// transactions at participant 1.
    fn sim(
        &self,
        seed: u64,
        stream: u64,
        outage: SimDuration,
        plan: FaultPlan,
    ) -> Result<Sim<TwoPc>> {
        let mut sim = Sim::builder()
            .seed(seed)
            .link(LinkConfig::new(Latency::uniform(ms(1), ms(5))?))
            .faults(plan)
            .crash_points(CrashPoints::SyncsAndSends)
            .record_crash_points(true)
            .trace(0)
            .build(self.protocol().nodes()?)?;
        sim.set_workload(1, clients(1_000_000, ms(1)))?;
        let mut r = rng::stream(seed, domain::EXPERIMENT, 0x10c5, stream);
        let horizon = self.horizon(outage).as_secs_f64();
        let (mut t, mut id) = (0.0, 0u64);
        loop {
            t += -rng::open_unit_f64(&mut r).ln() / self.local_rate;
            if t >= horizon {
                break;
            }
            let key = rng::index(&mut r, self.keys) as u64;
            sim.inject_exact(1, Msg::Local(id, key), SimDuration::from_secs_f64(t)?)?;
            id += 1;
        }
        Ok(sim)
    }

    /// One trial: a dry run finds the coordinator's first commit sync from
    /// [`CRASH_FROM`] on; the trial crashes there for `outage`.
    fn trial(&self, seed: u64, stream: u64, outage: SimDuration) -> Result<Trial> {
        let mut dry = self.sim(seed, stream, outage, FaultPlan::new())?;
        dry.run_for(CRASH_FROM + ms(100))?;
        let at = SimTime::ZERO + CRASH_FROM;
        let point = dry
            .crash_points()
            .iter()
            .find(|p| {
                p.node == 0 && p.kind == PointKind::Sync && p.time >= at && p.label == "commit"
            })
            .map(|p| p.index)
            .ok_or_else(|| Error::invalid("seed", seed, "a seed whose run commits after 200 ms"))?;
        drop(dry);
        let mut sim = self.sim(
            seed,
            stream,
            outage,
            FaultPlan::new().crash_at_point(point, Some(outage)),
        )?;
        sim.run_for(self.horizon(outage))?;
        let record: LockRecord = sim
            .node(1)?
            .locks()
            .map(|l| l.record.clone())
            .ok_or_else(|| Error::invalid("keys", 0, "at least one key"))?;
        let crashed = sim
            .crashed_at_point()
            .map(|p| p.time)
            .ok_or_else(|| Error::invalid("seed", seed, "a run that reaches its crash point"))?;
        let hold = record
            .doubts
            .iter()
            .filter(|d| d.from <= crashed && d.to > crashed)
            .map(|d| d.length().as_ms())
            .fold(0.0, f64::max);
        let per_key = self.local_rate / self.keys as f64 / 1_000.0; // per ms
        let w = self.lock_wait.as_ms();
        let theory_lost = record
            .doubts
            .iter()
            .map(|d| per_key * (d.length().as_ms() - w).max(0.0))
            .sum();
        Ok(Trial {
            hold_ms: hold,
            arrived: record.local.len(),
            lost: record.local.iter().filter(|l| !l.committed).count(),
            waited: record
                .local
                .iter()
                .filter(|l| l.committed && l.ended > l.arrived)
                .count(),
            theory_lost,
            offence: no_local_commit_in_doubt(&record).err(),
        })
    }
}

impl HeldLocksRun {
    /// The closed form for an outage: λ/K·(D − W)⁺ (the hold taken as the
    /// outage alone).
    pub fn closed_form(&self, outage: SimDuration) -> f64 {
        let p = &self.params;
        p.local_rate / p.keys as f64 / 1_000.0 * (outage.as_ms() - p.lock_wait.as_ms()).max(0.0)
    }

    /// Trials where a local transaction committed under a key in doubt.
    pub fn offences(&self) -> Vec<&str> {
        self.points
            .iter()
            .flat_map(|p| p.trials.iter().filter_map(|t| t.offence.as_deref()))
            .collect()
    }

    /// Per outage: the lock's hold, the lost local transactions against
    /// the theory, the lost share, and the offences against the rule.
    pub fn table(&self) -> Result<Table> {
        let p = &self.params;
        let mut t = Table::new(&[
            "outage (ms)",
            "lock held (ms)",
            "lost per outage",
            "theory λ/K·(hold − W)",
            "closed form λ/K·(outage − W)",
            "lost share of the hold's arrivals",
            "theory (hold − W)/(K·hold)",
            "commits under a key in doubt",
        ]);
        for pt in &self.points {
            let (lost, hold) = (pt.lost()?, pt.hold()?);
            let arrivals_in_hold = p.local_rate / 1_000.0 * hold.mean;
            let w = p.lock_wait.as_ms();
            t.push_row(vec![
                format!("{:.0}", pt.outage.as_ms()),
                format!("{:.1}", hold.mean),
                format!("{:.1} ± {:.1}", lost.mean, lost.half_width),
                format!("{:.1}", pt.theory_given_holds()),
                format!("{:.1}", self.closed_form(pt.outage)),
                format!("{:.1} %", 100.0 * lost.mean / arrivals_in_hold),
                format!(
                    "{:.1} %",
                    100.0 * (hold.mean - w).max(0.0) / (p.keys as f64 * hold.mean)
                ),
                pt.trials
                    .iter()
                    .filter(|t| t.offence.is_some())
                    .count()
                    .to_string(),
            ]);
        }
        Ok(t.caption(format!(
            "{} trials per outage; λ = {} local transactions/s over K = {} keys, lock wait W = {} ms. The hold is the outage plus a few message delays and up to one ask period ({} ms).",
            p.seeds,
            p.local_rate,
            p.keys,
            p.lock_wait.as_ms(),
            p.ask_every.as_ms()
        )))
    }

    /// Lost local transactions per outage (mean, 95 % interval over the
    /// trials) against the outage, with the theory λ/K·(hold − W).
    pub fn chart(&self) -> Result<Figure> {
        let measured = Series::new(
            "lost (simulated, 95 % interval)",
            self.points
                .iter()
                .map(|p| Ok((p.outage.as_ms(), p.lost()?.mean)))
                .collect::<Result<Vec<_>>>()?,
        )
        .with_band(
            self.points
                .iter()
                .map(|p| Ok(p.lost()?.interval()))
                .collect::<Result<Vec<_>>>()?,
        )
        .with_style(SeriesStyle::Points);
        let theory = Series::new(
            "theory λ/K · (hold − W)",
            self.points
                .iter()
                .map(|p| (p.outage.as_ms(), p.theory_given_holds()))
                .collect(),
        );
        line_chart(
            &[measured],
            &[theory],
            Opts::new("A lock held in doubt costs others the outage")
                .x_label("coordinator outage (ms)")
                .y_label("local transactions lost"),
        )
    }
}
