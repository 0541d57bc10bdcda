//! A follower cut off from the others rejoins (Ongaro's thesis, §9.6):
//! while alone it times out again and again, and without pre-vote each
//! timeout raises its term. When the partition heals, its first message
//! carries that term: every server that hears it steps down to it,
//! the working leader too, and the cluster holds an election it did not
//! need. With pre-vote the lonely follower only asks whether it could win,
//! never wins (no majority answers), and so never raises its term.
//!
//! Each trial: five servers (1–5 ms per message, no loss), two closed-loop
//! clients writing and reading through the leader; once a leader is
//! elected, one follower is cut off for `isolate_ms`, then the partition
//! heals and the trial watches `after_ms` more. Counted after the heal:
//! leaders elected, time with no leader, client requests refused
//! ("not the leader") or timed out, and the longest request that
//! succeeded.

use crate::error::{check_count, Error, Result};
use crate::measure::stats::{check_replications, mean_ci, MeanCi};
use crate::plot::{bar_chart, fmt_num, BarSeries, Figure, Opts, Table};
use crate::raft::{Raft, RaftConfig, RaftWorkload};
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::{Latency, LinkConfig, OpStatus, Sim};
use serde::Serialize;

/// The experiment's settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejoinParams {
    /// Servers (3 to 9).
    pub nodes: usize,
    /// One-way delay of every message, uniform in `(lo, hi)` ms.
    pub delay_ms: (f64, f64),
    /// How long the follower is cut off (ms).
    pub isolate_ms: u64,
    /// How long the trial watches after the heal (ms).
    pub after_ms: u64,
    /// Closed-loop clients.
    pub clients: usize,
    /// Trials per variant (seeds `seed ..`).
    pub seeds: u64,
    /// First seed.
    pub seed: u64,
}

impl Default for RejoinParams {
    /// Five servers, 1–5 ms, the follower cut off for 2 s and watched for
    /// 3 s after, two clients, 20 seeds.
    fn default() -> Self {
        RejoinParams {
            nodes: 5,
            delay_ms: (1.0, 5.0),
            isolate_ms: 2_000,
            after_ms: 3_000,
            clients: 2,
            seeds: 20,
            seed: 1,
        }
    }
}

/// The protocol variants compared: (name, pre-vote, check-quorum).
pub const VARIANTS: [(&str, bool, bool); 4] = [
    ("Raft", false, false),
    ("check-quorum", false, true),
    ("pre-vote", true, false),
    ("pre-vote + check-quorum", true, true),
];

/// What one trial counted after the heal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Outcome {
    /// The rejoining follower's term minus the leader's, at the heal.
    pub term_gap: f64,
    /// Leaders elected after the heal.
    pub elections: f64,
    /// Time with no leader after the heal (ms).
    pub leaderless_ms: f64,
    /// Client requests sent after the heal that were refused or timed out.
    pub failed: f64,
    /// The longest successful request sent after the heal (ms).
    pub longest_ms: f64,
}

impl RejoinParams {
    /// Checks sizes and times.
    pub fn validate(&self) -> Result<()> {
        check_count("nodes", self.nodes, 3, 9, "servers")?;
        check_count("clients", self.clients, 1, 10, "clients")?;
        check_replications(self.seeds)?;
        check_count("seeds", self.seeds as usize, 2, 200, "trials per variant")?;
        // With no delay at all, closed-loop clients would send without end
        // at one instant.
        super::check_delay_range(
            "delay_ms",
            self.delay_ms,
            (0.1, 50.0),
            "a one-way delay range 0.1 <= lo <= hi <= 50 ms",
        )?;
        for (name, v) in [("isolate_ms", self.isolate_ms), ("after_ms", self.after_ms)] {
            if !(100..=20_000).contains(&v) {
                return Err(Error::invalid(name, v, "100 to 20,000 ms"));
            }
        }
        // Bounds the work: 20 times the default's simulated client time.
        let work = self.seeds * (self.isolate_ms + self.after_ms) * self.clients as u64;
        if work > 4_000_000 {
            return Err(Error::invalid(
                "seeds × (isolate_ms + after_ms) × clients",
                work,
                "at most 4,000,000 (fewer seeds, clients or a shorter run)",
            ));
        }
        Ok(())
    }

    /// Runs every variant's trials.
    pub fn run(&self) -> Result<Rejoin> {
        self.validate()?;
        let mut outcomes = Vec::new();
        for &(_, pre_vote, check_quorum) in &VARIANTS {
            let cfg = RaftConfig {
                pre_vote,
                check_quorum,
                ..RaftConfig::default()
            };
            let v = (0..self.seeds)
                .map(|i| self.trial(cfg, self.seed.wrapping_add(i)))
                .collect::<Result<Vec<_>>>()?;
            outcomes.push(v);
        }
        Ok(Rejoin {
            isolate_ms: self.isolate_ms,
            outcomes,
        })
    }

    /// One trial with `cfg` and `seed`.
    pub fn trial(&self, cfg: RaftConfig, seed: u64) -> Result<Outcome> {
        let (lo, hi) = self.delay_ms;
        let link = Latency::uniform(SimDuration::from_ms_f64(lo)?, SimDuration::from_ms_f64(hi)?)?;
        let mut sim = Sim::builder()
            .seed(seed)
            .link(LinkConfig::new(link))
            .build(vec![Raft::new(cfg); self.nodes])?;
        let leader = |sim: &Sim<Raft>| (0..sim.nodes().len()).find(|&i| sim.nodes()[i].is_leader());
        let mut first = None;
        for _ in 0..100 {
            sim.run_for(ms(100))?;
            first = leader(&sim);
            if first.is_some() {
                break;
            }
        }
        let l = first.ok_or_else(|| Error::invalid("seed", seed, "a seed that elects a leader"))?;
        let w = RaftWorkload::new(self.nodes, self.clients, 100_000, ms(500));
        sim.set_workload(self.clients, w)?;
        sim.run_for(ms(500))?;
        let lonely = (l + 1) % self.nodes;
        let others: Vec<usize> = (0..self.nodes).filter(|&i| i != lonely).collect();
        let cut = sim.partition(&[vec![lonely], others])?;
        sim.run_for(ms(self.isolate_ms))?;
        // The term the majority side is in (its leader's, if it has one).
        let lead_term = match leader(&sim) {
            Some(x) => sim.nodes()[x].term,
            None => (0..self.nodes)
                .filter(|&i| i != lonely)
                .map(|i| sim.nodes()[i].term)
                .max()
                .unwrap_or(0),
        };
        let term_gap = sim.nodes()[lonely].term as f64 - lead_term as f64;
        let won = |sim: &Sim<Raft>| sim.nodes().iter().map(|n| n.elections_won).sum::<u64>();
        let won_before = won(&sim);
        sim.heal(cut)?;
        let heal = sim.now();
        let end = heal + ms(self.after_ms);
        let (mut at, mut had, mut none) = (heal, leader(&sim).is_some(), 0.0);
        loop {
            let next = sim.step()?;
            let t = next.map_or(end, |t| t.min(end));
            if !had {
                none += t.since(at).as_ms();
            }
            at = t;
            had = leader(&sim).is_some();
            if next.is_none_or(|t| t >= end) {
                break;
            }
        }
        let (failed, longest_ms) = after_heal(&sim, heal, end);
        Ok(Outcome {
            term_gap,
            elections: (won(&sim) - won_before) as f64,
            leaderless_ms: none,
            failed,
            longest_ms,
        })
    }
}

/// Requests sent in `[heal, end)`: how many were refused or timed out, and
/// the longest that succeeded (ms).
fn after_heal(sim: &Sim<Raft>, heal: SimTime, end: SimTime) -> (f64, f64) {
    let ops = sim.history().ops();
    let window = ops.iter().filter(|o| o.invoked >= heal && o.invoked < end);
    let failed = window
        .clone()
        .filter(|o| o.status == OpStatus::Failed || o.gave_up.is_some())
        .count();
    let longest = window
        .filter(|o| o.status == OpStatus::Ok)
        .filter_map(|o| o.completed.map(|c| c.since(o.invoked).as_ms()))
        .fold(0.0, f64::max);
    (failed as f64, longest)
}

/// Every variant's outcomes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejoin {
    /// How long the follower was cut off (ms).
    pub isolate_ms: u64,
    /// Per variant of [`VARIANTS`], one outcome per seed.
    pub outcomes: Vec<Vec<Outcome>>,
}

impl Rejoin {
    /// Mean and 95 % interval over seeds of `f` for variant `v` (an index
    /// into [`VARIANTS`]).
    pub fn ci(&self, v: usize, f: impl Fn(&Outcome) -> f64) -> Result<MeanCi> {
        let Some(trials) = self.outcomes.get(v) else {
            return Err(Error::invalid(
                "variant",
                v,
                &format!(
                    "an index into VARIANTS, 0 to {}",
                    self.outcomes.len().saturating_sub(1)
                ),
            ));
        };
        let xs: Vec<f64> = trials.iter().map(f).collect();
        mean_ci(&xs)
    }

    /// Per variant: each count's mean over seeds with its 95 % interval.
    pub fn table(&self) -> Result<Table> {
        let mut t = Table::new(&[
            "variant",
            "term gap at heal",
            "leaders elected",
            "no leader (ms)",
            "requests failed",
            "longest request (ms)",
        ]);
        let metrics: [fn(&Outcome) -> f64; 5] = [
            |o| o.term_gap,
            |o| o.elections,
            |o| o.leaderless_ms,
            |o| o.failed,
            |o| o.longest_ms,
        ];
        for (v, (name, _, _)) in VARIANTS.iter().enumerate() {
            let mut row = vec![name.to_string()];
            for f in metrics {
                let c = self.ci(v, f)?;
                let (lo, hi) = c.interval();
                row.push(format!(
                    "{} [{}, {}]",
                    fmt_num(c.mean),
                    fmt_num(lo.max(0.0)),
                    fmt_num(hi)
                ));
            }
            t.push_row(row);
        }
        Ok(t.caption("after the heal; mean over seeds [95 % CI]"))
    }

    /// Time without a leader after the heal, per variant, with intervals.
    pub fn chart(&self) -> Result<Figure> {
        let cats: Vec<String> = VARIANTS.iter().map(|v| v.0.to_string()).collect();
        let cis = (0..VARIANTS.len())
            .map(|v| self.ci(v, |o| o.leaderless_ms))
            .collect::<Result<Vec<_>>>()?;
        let s = BarSeries::from_means("mean over seeds (95 % CI)", &cis)?;
        bar_chart(
            &cats,
            &[s],
            Opts::new("A cut-off follower rejoins: time without a leader")
                .y_label("no leader after the heal (ms)"),
        )
    }
}
