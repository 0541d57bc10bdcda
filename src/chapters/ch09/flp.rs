//! Chapter 9, FLP in practice: a scheduler that keeps Paxos from deciding
//! while it delivers every message.
//!
//! Fischer, Lynch and Paterson (1985) proved that no deterministic protocol
//! decides in every run of an asynchronous system where one process may
//! crash: some schedule keeps it undecided forever. For Paxos with two
//! proposers the schedule is easy to write down. The [`Adversary`] sees the
//! pending events and the nodes' states (it is the network: it decides
//! what arrives next) and follows four rules:
//!
//! 1. deliver any message that is not an `Accept`, oldest first;
//! 2. deliver an `Accept` only once its acceptor has seen a higher round
//!    (it will be refused);
//! 3. else fire the retry timer of a proposer that is not leading: its new
//!    ballot is above every `Accept` in flight;
//! 4. else the oldest event (never needed while both proposers retry).
//!
//! A proposer only ever gets its own acceptance: no value is chosen, ballots
//! keep starting, and every message is delivered, the longest wait bounded.
//! The same cluster in time order, or in a random order, decides at once.

use crate::consensus::{Ballot, Msg, Paxos, Phase};
use crate::error::{check_count, Result};
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::time::ms;
use crate::sim::{ByTime, Controlled, Event, Pending, RandomOrder, Scheduler, Sim, TimeRule};
use serde::Serialize;
use std::collections::BTreeMap;

/// The network as an adversary; see the [module docs](self). Counts the
/// steps it scheduled and the longest any event waited.
#[derive(Debug, Default)]
pub struct Adversary {
    step: u64,
    first_seen: BTreeMap<u64, u64>,
    /// The most steps any event waited between becoming pending and being
    /// picked.
    pub longest_wait: u64,
}

impl Adversary {
    fn choose(pending: &[Pending<'_, Paxos>], nodes: &[Paxos]) -> usize {
        let accept = |p: &Pending<'_, Paxos>| match p.event {
            Event::Deliver {
                msg: Msg::Accept(b, _),
                to,
                ..
            } => Some((*b, to)),
            _ => None,
        };
        let is_msg = |p: &Pending<'_, Paxos>| matches!(p.event, Event::Deliver { .. });
        let oldest = |f: &dyn Fn(&Pending<'_, Paxos>) -> bool| {
            (0..pending.len())
                .filter(|&i| f(&pending[i]))
                .min_by_key(|&i| pending[i].seq)
        };
        let doomed = |b: Ballot, to: usize| nodes.get(to).is_some_and(|n| n.round > b.round);
        let leading = nodes.iter().filter_map(|n| n.ballot).max();
        oldest(&|p| matches!(p.event, Event::Start(_)))
            .or_else(|| oldest(&|p| is_msg(p) && accept(p).is_none()))
            .or_else(|| oldest(&|p| accept(p).is_some_and(|(b, to)| doomed(b, to))))
            .or_else(|| {
                oldest(&|p| match p.event {
                    Event::Timer { node, .. } => nodes[node].ballot != leading,
                    _ => false,
                })
            })
            .or_else(|| oldest(&|p| matches!(p.event, Event::Timer { .. })))
            .or_else(|| oldest(&|_| true))
            .unwrap_or(0)
    }
}

impl Scheduler<Paxos> for Adversary {
    fn pick(&mut self, pending: &[Pending<'_, Paxos>], nodes: &[Paxos]) -> usize {
        for p in pending {
            self.first_seen.entry(p.seq).or_insert(self.step);
        }
        let i = Self::choose(pending, nodes);
        if let Some(since) = self.first_seen.remove(&pending[i].seq) {
            self.longest_wait = self.longest_wait.max(self.step - since);
        }
        self.step += 1;
        i
    }
}

/// Parameters of the adversary's run.
#[derive(Debug, Clone, Serialize)]
pub struct FlpParams {
    /// Seed of the random-order run.
    pub seed: u64,
    /// Steps (events) each scheduler may take (10..=1,000,000).
    pub steps: u64,
    /// Points on the line: one every `steps / points` steps (2..=500).
    pub points: u64,
}

impl Default for FlpParams {
    /// 20,000 steps, 50 points.
    fn default() -> Self {
        FlpParams {
            seed: 1,
            steps: 20_000,
            points: 50,
        }
    }
}

/// One scheduler's run: ballots started against steps, until a decision
/// or the step budget.
#[derive(Debug, Clone, Serialize)]
pub struct FlpRun {
    /// The scheduler.
    pub name: String,
    /// (steps taken, ballots started).
    pub line: Vec<(u64, u64)>,
    /// The step at which a node first decided, if one did.
    pub decided_at: Option<u64>,
    /// Events delivered or fired.
    pub steps: u64,
    /// The most steps any event waited (the adversary's run only).
    pub longest_wait: Option<u64>,
    /// Events still pending at the end.
    pub pending_at_end: usize,
}

impl FlpParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_count("steps", self.steps as usize, 10, 1_000_000, "steps")?;
        check_count("points", self.points as usize, 2, 500, "points")?;
        Ok(())
    }

    /// Three nodes, proposers 0 and 1 (values 1 and 2) retrying every
    /// 10 ms without bound, links of 1–5 ms; scheduled by the adversary,
    /// in time order, and in a random order.
    pub fn run(&self) -> Result<Vec<FlpRun>> {
        self.validate()?;
        let mut adv = Adversary::default();
        let mut out = vec![self.one("adversary", &mut adv)?];
        out[0].longest_wait = Some(adv.longest_wait);
        out.push(self.one("time order", &mut ByTime)?);
        let mut random = RandomOrder::new(self.seed);
        out.push(self.one("random order", &mut random)?);
        Ok(out)
    }

    fn one(&self, name: &str, s: &mut impl Scheduler<Paxos>) -> Result<FlpRun> {
        let mut nodes =
            crate::consensus::cluster(3, &[1, 2], Some((10_000_000, 0)), 1, Default::default());
        for p in &mut nodes {
            p.cfg.attempts = u32::MAX;
        }
        let link = crate::sim::LinkConfig::new(crate::sim::Latency::uniform(ms(1), ms(5))?);
        let sim = Sim::builder()
            .seed(self.seed)
            .link(link)
            .trace(0)
            .max_events(self.steps + 10)
            .build(nodes)?;
        let mut c = Controlled::new(sim).time_rule(TimeRule::Steps(ms(1)))?;
        let every = (self.steps / self.points).max(1);
        let ballots =
            |c: &Controlled<Paxos>| c.sim().nodes().iter().map(|n| n.started as u64).sum();
        let decided =
            |c: &Controlled<Paxos>| c.sim().nodes().iter().any(|n| n.phase == Phase::Done);
        let mut line = vec![(0, 0)];
        let (mut steps, mut decided_at) = (0, None);
        while steps < self.steps && decided_at.is_none() {
            let ran = c.run_steps(s, 1)?;
            if ran == 0 {
                break;
            }
            steps += ran;
            if decided(&c) {
                decided_at = Some(steps);
            }
            // Evenly spaced points, and doubling ones before the first
            // (the chart's axes are logarithmic).
            if steps % every == 0 || steps.is_power_of_two() || decided_at.is_some() {
                line.push((steps, ballots(&c)));
            }
        }
        Ok(FlpRun {
            name: name.to_string(),
            line,
            decided_at,
            steps,
            longest_wait: None,
            pending_at_end: c.pending_len(),
        })
    }
}

/// Ballots started against steps scheduled, one line per scheduler (a line
/// that stops is a run that decided).
pub fn flp_chart(runs: &[FlpRun]) -> Result<Figure> {
    let series: Vec<Series> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let label = match r.decided_at {
                Some(s) => format!("{}: decided at event {s}", r.name),
                None => format!("{}: no decision", r.name),
            };
            // Log axes: the runs that decide do so within a few hundred
            // events, the adversary's goes on for thousands; (0, 0) has no
            // place on them.
            let mut pts: Vec<(f64, f64)> = r
                .line
                .iter()
                .filter(|&&(s, b)| s > 0 && b > 0)
                .map(|&(s, b)| (s as f64, b as f64))
                .collect();
            if pts.is_empty() {
                pts.push((r.steps.max(1) as f64, 1.0));
            }
            Series::new(label, pts).with_style(if i == 0 {
                SeriesStyle::Line
            } else {
                SeriesStyle::LinePoints
            })
        })
        .collect();
    line_chart(
        &series,
        &[],
        Opts::new("An adversarial network keeps Paxos from deciding")
            .x_label("events scheduled")
            .y_label("ballots started")
            .log_x()
            .log_y(),
    )
}

/// Per scheduler: steps, ballots, the decision, the longest wait.
pub fn flp_table(runs: &[FlpRun]) -> Table {
    let mut t = Table::new(&[
        "scheduler",
        "events scheduled",
        "ballots started",
        "decided at event",
        "longest wait (events)",
    ]);
    for r in runs {
        t.push_row(vec![
            r.name.clone(),
            super::thousands(r.steps),
            super::thousands(r.line.last().map_or(0, |l| l.1)),
            r.decided_at.map_or("never".into(), super::thousands),
            r.longest_wait.map_or("–".into(), |w| w.to_string()),
        ]);
    }
    t
}
