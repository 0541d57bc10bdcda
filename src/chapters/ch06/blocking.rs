//! Chapter 6, the blocking window: how long participants stay in doubt
//! when the coordinator crashes in the middle of a transaction, (a) when
//! they can only wait for it to come back, and (b) with cooperative
//! termination (they also ask each other).
//!
//! Each seed runs one transaction once without faults, numbering the
//! coordinator's crash points from its first prepare to its answer to the
//! client; picks one of them at random; and runs the transaction again
//! with the coordinator crashing exactly there and restarting after a
//! repair time drawn from an exponential distribution. A participant is
//! *in doubt* from the moment its yes vote is durable until it has applied
//! the outcome; we record that time for every participant that voted.
//!
//! Where the coordinator crashed says who could know the outcome. We read
//! it off the typed messages, never their labels: a third run crashes the
//! coordinator at the same point and never restarts it, so every
//! `Prepare` and commit `Decision` it is seen to send (delivered or
//! dropped) left before the crash:
//! - **not all prepared**: it crashed while sending the prepares, so some
//!   participant never voted; with termination it aborts when asked, and
//!   everybody learns "abort" from it;
//! - **all prepared, none knows**: every prepare had been sent and no
//!   decision had left the coordinator; only the coordinator can tell, so
//!   both protocols wait for its repair (unless a participant, asked by a
//!   peer before a slow prepare reached it, aborted on its own: then it
//!   votes no, and its peers learn "abort" from it);
//! - **some participant knows**: the coordinator crashed while sending
//!   the decision; with termination the others learn it from a peer.

use crate::error::{Error, Result};
use crate::plot::{bar_chart, tail_cdf, BarSeries, Figure, Opts, Table};
use crate::sim::rng::{self, SimRng};
use crate::sim::sweep::Sweep;
use crate::sim::time::{ms, secs, SimDuration, SimTime};
use crate::sim::{
    CrashPoint, CrashPoints, FaultPlan, Invoke, Latency, LinkConfig, NodeId, PointKind, Property,
    PropertyKind, Sim, SimEvent, World,
};
use crate::txn::two_phase::{Msg, Outcome, TwoPc, TwoPhase};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

#[cfg(test)]
mod tests;

/// Where the coordinator crashed, as far as the participants are
/// concerned (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Situation {
    /// The coordinator crashed while sending the prepares: some
    /// participant never received one.
    NotAllPrepared,
    /// Every prepare was sent; no decision left the coordinator.
    NoneKnows,
    /// The coordinator crashed while sending the decision: some
    /// participants received it.
    SomeKnow,
}

impl Situation {
    /// The three, in order.
    pub const ALL: [Situation; 3] = [
        Situation::NotAllPrepared,
        Situation::NoneKnows,
        Situation::SomeKnow,
    ];
    /// A short name for tables and charts.
    pub fn name(self) -> &'static str {
        match self {
            Situation::NotAllPrepared => "while sending prepares",
            Situation::NoneKnows => "before any decision left",
            Situation::SomeKnow => "while sending the decision",
        }
    }
}

/// Parameters of the blocking experiment.
#[derive(Debug, Clone, Serialize)]
pub struct BlockingParams {
    /// Seed of the first trial (trial `i` uses `seed + i`).
    pub seed: u64,
    /// Participants.
    pub participants: usize,
    /// Mean of one message delay (exponential).
    pub link_mean: SimDuration,
    /// Mean repair time of the crashed coordinator (exponential).
    pub repair_mean: SimDuration,
    /// How often an in-doubt participant asks.
    pub ask_every: SimDuration,
    /// Trials (seeds).
    pub seeds: usize,
}

impl Default for BlockingParams {
    /// 3 participants, 5 ms per message, coordinator repaired after 200 ms
    /// on average, participants ask every 20 ms, 1,000 seeds.
    fn default() -> Self {
        BlockingParams {
            seed: 1,
            participants: 3,
            link_mean: ms(5),
            repair_mean: ms(200),
            ask_every: ms(20),
            seeds: 1_000,
        }
    }
}

/// One participant's time in doubt in one trial.
#[derive(Debug, Clone, Serialize)]
pub struct Doubt {
    /// The trial's seed.
    pub seed: u64,
    /// The participant.
    pub participant: usize,
    /// Where the coordinator crashed.
    pub situation: Situation,
    /// From its durable yes vote to its durable outcome (ms); up to the
    /// end of the run if it never learnt it.
    pub in_doubt_ms: f64,
    /// It learnt the outcome before the coordinator was back.
    pub before_repair: bool,
    /// It never learnt it (the time is cut at the end of the run).
    pub censored: bool,
}

/// What one protocol's trials found.
#[derive(Debug, Clone, Serialize)]
pub struct BlockingRun {
    /// With cooperative termination.
    pub termination: bool,
    /// Every participant in doubt, trial by trial.
    pub doubts: Vec<Doubt>,
    /// Trials in which nobody was ever in doubt (the crash came before the
    /// first prepare was durable).
    pub no_doubt: usize,
    /// The repair times drawn (ms), one per trial.
    pub repairs_ms: Vec<f64>,
}

/// Records, per participant, when its synced log first holds a yes vote
/// and an outcome for transaction 0, and when the coordinator came back.
#[derive(Default)]
struct Times {
    prepared: Vec<Option<SimTime>>,
    decided: Vec<Option<SimTime>>,
    recovered: Option<SimTime>,
}

struct Observer(Rc<RefCell<Times>>);

impl Property<TwoPc> for Observer {
    fn name(&self) -> String {
        "in-doubt times".into()
    }
    fn kind(&self) -> PropertyKind {
        PropertyKind::Safety
    }
    fn after(&mut self, e: &SimEvent<'_, TwoPc>, w: &World<'_, TwoPc>) -> Option<String> {
        let mut t = self.0.borrow_mut();
        let n = w.disks.len();
        if t.prepared.len() != n {
            t.prepared = vec![None; n];
            t.decided = vec![None; n];
        }
        if let SimEvent::Recover { node: 0 } = e {
            t.recovered.get_or_insert(w.now);
        }
        for i in 1..n {
            let log = w.disks[i].synced();
            if t.prepared[i].is_none() && log.prepared.contains(&0) {
                t.prepared[i] = Some(w.now);
            }
            if t.decided[i].is_none() && log.decided.contains_key(&0) {
                t.decided[i] = Some(w.now);
            }
        }
        None
    }
}

/// What the coordinator sent for transaction 0, by message type: who was
/// sent a prepare, and whether anybody was sent a commit decision.
#[derive(Default)]
struct Sent {
    prepares: BTreeSet<NodeId>,
    commit: bool,
}

/// Watches the coordinator's messages as they arrive (or are dropped):
/// typed, so renaming a message's label changes nothing.
struct Coordinator(Rc<RefCell<Sent>>);

impl Property<TwoPc> for Coordinator {
    fn name(&self) -> String {
        "coordinator's messages".into()
    }
    fn kind(&self) -> PropertyKind {
        PropertyKind::Safety
    }
    fn after(&mut self, e: &SimEvent<'_, TwoPc>, _: &World<'_, TwoPc>) -> Option<String> {
        let (SimEvent::Deliver { from: 0, to, msg }
        | SimEvent::Drop {
            from: 0, to, msg, ..
        }) = *e
        else {
            return None;
        };
        let mut sent = self.0.borrow_mut();
        match msg {
            Msg::Prepare(0) => {
                sent.prepares.insert(to);
            }
            Msg::Decision(0, Outcome::Committed) => sent.commit = true,
            _ => {}
        }
        None
    }
}

impl BlockingParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("participants", self.participants, 2, 50, "participants")?;
        crate::error::check_count("seeds", self.seeds, 1, 200_000, "seeds")?;
        for (name, d) in [
            ("link_mean", self.link_mean),
            ("repair_mean", self.repair_mean),
            ("ask_every", self.ask_every),
        ] {
            if d < crate::sim::time::us(10) || d > secs(60) {
                return Err(Error::invalid(name, d, "10 µs to 60 s"));
            }
        }
        // Per trial: two runs to the horizon and one to a hundred message
        // delays past the crash (see `situation`); the in-doubt
        // participants ask every `ask_every`, each ask a few messages.
        let span = self.horizon().0 as f64 * 2.0 + (self.link_mean.0 as f64) * 101.0;
        let asks = span / self.ask_every.0 as f64;
        let p = self.participants as f64;
        crate::error::check_work(
            "seeds × participants² × horizon / ask_every",
            self.seeds as f64 * (30.0 * p + asks * p * (p + 1.0) * 2.0),
        )
    }

    /// How long each trial runs: long enough for every drawn repair time.
    fn horizon(&self) -> SimDuration {
        self.repair_mean * 25 + self.link_mean * 100 + self.ask_every * 5
    }

    fn protocol(&self, termination: bool) -> TwoPhase {
        TwoPhase {
            participants: self.participants,
            no_vote: 0.0,
            vote_timeout: secs(3_600),
            ask_every: self.ask_every,
            termination,
            ..TwoPhase::default()
        }
    }

    /// One run of transaction 0 with `plan`; the recorded times and crash
    /// points.
    fn one(
        &self,
        seed: u64,
        termination: bool,
        plan: FaultPlan,
        record: bool,
    ) -> Result<(Times, Vec<CrashPoint>, Option<CrashPoint>)> {
        let mut sim = Sim::builder()
            .seed(seed)
            .link(LinkConfig::new(Latency::exponential(self.link_mean)?))
            .faults(plan)
            .crash_points(CrashPoints::SyncsAndSends)
            .record_crash_points(record)
            .trace(0)
            .build(self.protocol(termination).nodes()?)?;
        let times = Rc::new(RefCell::new(Times::default()));
        sim.check(Observer(times.clone()));
        sim.invoke(0, Invoke::new(0, Msg::Begin(0)).timeout(self.horizon()))?;
        sim.run_for(self.horizon())?;
        let points = sim.crash_points().to_vec();
        let hit = sim.crashed_at_point().cloned();
        drop(sim);
        let t = Rc::try_unwrap(times)
            .map_err(|_| Error::invalid("observer", "still shared", "a finished run"))?
            .into_inner();
        Ok((t, points, hit))
    }

    /// Where crashing the coordinator at point `point` leaves the
    /// participants: the run crashed there and never restarted, so every
    /// message of the coordinator's seen in it was sent before the crash.
    fn situation(&self, seed: u64, termination: bool, point: u64) -> Result<Situation> {
        let mut sim = Sim::builder()
            .seed(seed)
            .link(LinkConfig::new(Latency::exponential(self.link_mean)?))
            .faults(FaultPlan::new().crash_at_point(point, None))
            .crash_points(CrashPoints::SyncsAndSends)
            .trace(0)
            .build(self.protocol(termination).nodes()?)?;
        let sent = Rc::new(RefCell::new(Sent::default()));
        sim.check(Coordinator(sent.clone()));
        sim.invoke(0, Invoke::new(0, Msg::Begin(0)).timeout(self.horizon()))?;
        // Up to the crash, then long enough for what was in flight to land
        // (a hundred mean delays).
        let crashed = sim.run_until(self.horizon(), |s| s.crashed_at_point().is_some())?;
        if !crashed {
            return Err(Error::invalid(
                "crash point",
                point,
                "a point the rerun reaches (the run is not deterministic)",
            ));
        }
        sim.run_for(self.link_mean * 100)?;
        drop(sim);
        let sent = sent.borrow();
        Ok(if sent.prepares.len() < self.participants {
            Situation::NotAllPrepared
        } else if !sent.commit {
            Situation::NoneKnows
        } else {
            Situation::SomeKnow
        })
    }

    /// One trial: the run without faults, a crash point of the coordinator
    /// and a repair time drawn, the run with the crash.
    fn trial(&self, seed: u64, termination: bool) -> Result<(Vec<Doubt>, f64)> {
        self.trial_with(seed, termination, &|_| {})
    }

    /// [`Self::trial`], with `edit` applied to every crash point the run
    /// without faults recorded (a test renames their labels: the result
    /// must not change).
    fn trial_with(
        &self,
        seed: u64,
        termination: bool,
        edit: &dyn Fn(&mut CrashPoint),
    ) -> Result<(Vec<Doubt>, f64)> {
        let (_, mut points, _) = self.one(seed, termination, FaultPlan::new(), true)?;
        points.iter_mut().for_each(edit);
        // The coordinator's points from its first prepare to its reply.
        let end = points
            .iter()
            .position(|p| p.node == 0 && p.kind == PointKind::Reply)
            .unwrap_or(points.len());
        let mine: Vec<&CrashPoint> = points[..end].iter().filter(|p| p.node == 0).collect();
        let mut r: SimRng = rng::stream(seed, rng::domain::EXPERIMENT, 6, 0);
        if mine.is_empty() {
            return Ok((Vec::new(), 0.0));
        }
        let at = mine[rng::index(&mut r, mine.len())];
        let repair = Latency::exponential(self.repair_mean)?.sample(&mut r);
        let repair = repair.max(crate::sim::time::us(1));
        let n = self.participants;
        let situation = self.situation(seed, termination, at.index)?;
        let plan = FaultPlan::new().crash_at_point(at.index, Some(repair));
        let (t, _, hit) = self.one(seed, termination, plan, false)?;
        if hit.is_none() {
            return Err(Error::invalid(
                "crash point",
                at.index,
                "a point the rerun reaches (the run is not deterministic)",
            ));
        }
        let end = SimTime::ZERO + self.horizon();
        let back = t.recovered.unwrap_or(end);
        let mut out = Vec::new();
        for i in 1..=n {
            let Some(p) = t.prepared.get(i).copied().flatten() else {
                continue;
            };
            let d = t.decided.get(i).copied().flatten();
            let until = d.unwrap_or(end);
            out.push(Doubt {
                seed,
                participant: i,
                situation,
                in_doubt_ms: until.since(p).as_ms(),
                before_repair: d.is_some_and(|d| d < back),
                censored: d.is_none(),
            });
        }
        Ok((out, repair.as_ms()))
    }

    /// Runs every trial, with or without cooperative termination, on all
    /// cores (results do not depend on the thread count).
    pub fn run(&self, termination: bool) -> Result<BlockingRun> {
        self.validate()?;
        let seeds: Vec<u64> = (0..self.seeds as u64)
            .map(|i| self.seed.wrapping_add(i))
            .collect();
        let res = Sweep::new(seeds)
            .seed_list(vec![0])
            .progress(false)
            .run(|&seed, _| self.trial(seed, termination))?;
        let mut doubts = Vec::new();
        let mut no_doubt = 0;
        let mut repairs_ms = Vec::new();
        for r in res {
            for (d, repair) in r.values {
                if d.is_empty() {
                    no_doubt += 1;
                }
                doubts.extend(d);
                repairs_ms.push(repair);
            }
        }
        Ok(BlockingRun {
            termination,
            doubts,
            no_doubt,
            repairs_ms,
        })
    }
}

impl BlockingRun {
    /// A name for legends.
    pub fn name(&self) -> &'static str {
        if self.termination {
            "(b) cooperative termination"
        } else {
            "(a) wait for the coordinator"
        }
    }
    /// In-doubt times (ms), optionally of one situation only.
    pub fn times(&self, situation: Option<Situation>) -> Vec<f64> {
        self.doubts
            .iter()
            .filter(|d| situation.is_none_or(|s| d.situation == s))
            .map(|d| d.in_doubt_ms)
            .collect()
    }
}

/// The tail of the in-doubt time, P(T > t), for each run, with the tail of
/// the repair time, exp(−t / repair_mean), drawn over them: a participant
/// that can only wait for the coordinator is in doubt about that long.
///
/// Errors: no run, or a run with nobody in doubt.
pub fn blocking_tail(runs: &[BlockingRun], repair_mean: SimDuration) -> Result<Figure> {
    if runs.is_empty() {
        return Err(Error::empty("blocking runs"));
    }
    let series: Vec<(String, Vec<f64>)> = runs
        .iter()
        .map(|r| (r.name().to_string(), r.times(None)))
        .collect();
    let x_max = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(1.0, f64::max);
    let theory = crate::plot::exponential_tail(
        format!("repair time, mean {:.0} ms", repair_mean.as_ms()),
        repair_mean.as_ms(),
        x_max,
    )?;
    tail_cdf(
        &series,
        &[theory],
        Opts::new("How long participants stay in doubt after a coordinator crash")
            .x_label("time in doubt (ms)"),
    )
}

/// Mean in-doubt time per situation, one bar per run.
///
/// Errors: no run.
pub fn by_situation_chart(runs: &[BlockingRun]) -> Result<Figure> {
    if runs.is_empty() {
        return Err(Error::empty("blocking runs"));
    }
    let cats: Vec<String> = Situation::ALL
        .iter()
        .map(|s| s.name().to_string())
        .collect();
    let series: Vec<BarSeries> = runs
        .iter()
        .map(|r| {
            let v = Situation::ALL
                .iter()
                .map(|&s| {
                    let t = r.times(Some(s));
                    if t.is_empty() {
                        0.0
                    } else {
                        t.iter().sum::<f64>() / t.len() as f64
                    }
                })
                .collect();
            BarSeries::new(r.name(), v)
        })
        .collect();
    bar_chart(
        &cats,
        &series,
        Opts::new("Termination helps only when a participant knows or has not voted")
            .y_label("mean time in doubt (ms)"),
    )
}

/// Per run and situation: participants in doubt, mean (95 % interval),
/// median, p90, p99, and how many learnt the outcome before the coordinator
/// was back.
pub fn blocking_table(runs: &[BlockingRun]) -> Result<Table> {
    let mut t = Table::new(&[
        "protocol",
        "coordinator crashed when",
        "in doubt",
        "mean (ms)",
        "p50",
        "p90",
        "p99",
        "learnt before repair",
    ]);
    for r in runs {
        for s in Situation::ALL.iter().map(|&s| Some(s)).chain([None]) {
            let mut v = r.times(s);
            if v.is_empty() {
                continue;
            }
            let before = r
                .doubts
                .iter()
                .filter(|d| s.is_none_or(|s| d.situation == s) && d.before_repair)
                .count();
            let m = crate::measure::mean_ci(&v)?;
            v.sort_by(f64::total_cmp);
            t.push_row(vec![
                r.name().to_string(),
                s.map_or("any time", |s| s.name()).to_string(),
                v.len().to_string(),
                if v.len() > 1 {
                    format!("{:.1} ± {:.1}", m.mean, m.half_width)
                } else {
                    format!("{:.1}", m.mean)
                },
                format!("{:.1}", super::latency::nearest_rank(&v, 0.5)),
                format!("{:.1}", super::latency::nearest_rank(&v, 0.9)),
                format!("{:.1}", super::latency::nearest_rank(&v, 0.99)),
                format!("{:.0} %", 100.0 * before as f64 / v.len() as f64),
            ]);
        }
    }
    Ok(t.caption("In doubt: from a participant's durable yes vote to its durable outcome. The same seeds for both protocols."))
}
