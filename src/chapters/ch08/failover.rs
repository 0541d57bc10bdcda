//! Chapter 8, what failover loses: the leader crashes, a follower takes
//! over, and the writes the old leader acknowledged but had not shipped are
//! gone.
//!
//! Four clients write distinct values through a retrying client that
//! follows redirects ([`crate::retry::client`]); the leader crashes at a
//! random time and stays down; the most up-to-date follower takes over. A
//! write is *lost* if it was acknowledged and the new leader's log does not
//! hold it. Asynchronous replication that ships every `batch` loses the
//! writes it acknowledged since its last shipment: with writes acknowledged
//! at rate λ and the crash a time `lag` after the last shipment, about
//! `λ · lag` of them, `λ · batch / 2` on average
//! ([`crate::measure::theory::async_batch_loss`]). Streaming each write at
//! once, a crash loses nothing that was already on the wire; waiting for one
//! follower (semi-synchronous) or all (synchronous) loses nothing a failover
//! to the most up-to-date follower can find.

use super::common::{lf_classify, mixed, node_links, policy};
use crate::error::{Error, Result};
use crate::measure::{mean_ci, MeanCi};
use crate::plot::{
    history_chart, line_chart, Figure, HistoryChart, Opts, Series, SeriesStyle, Table,
};
use crate::replication::{lost_writes, Ack, LeaderFollower, LfMsg, LfNode};
use crate::retry::client::{AttemptEnd, AttemptRecord};
use crate::sim::rng::{self, domain};
use crate::sim::time::{ms, secs, SimDuration};
use crate::sim::{FaultPlan, Latency, OpStatus, Sim};
use serde::Serialize;
use std::collections::BTreeSet;

/// How the leader replicates, in this experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mode {
    /// When writes are acknowledged.
    pub ack: Ack,
    /// Ship each write at once (or every `batch`).
    pub stream: bool,
}

impl Mode {
    /// Asynchronous, shipped in batches.
    pub const ASYNC_BATCHED: Mode = Mode {
        ack: Ack::Async,
        stream: false,
    };
    /// Asynchronous, each write shipped at once.
    pub const ASYNC_STREAMED: Mode = Mode {
        ack: Ack::Async,
        stream: true,
    };
    /// Semi-synchronous.
    pub const SEMI_SYNC: Mode = Mode {
        ack: Ack::SemiSync,
        stream: true,
    };
    /// Synchronous.
    pub const SYNC: Mode = Mode {
        ack: Ack::Sync,
        stream: true,
    };
    /// A short name.
    pub fn name(&self) -> String {
        match (self.ack, self.stream) {
            (Ack::Async, false) => "asynchronous, shipped in batches".into(),
            (Ack::Async, true) => "asynchronous, streamed".into(),
            (a, _) => a.name().into(),
        }
    }
}

/// Parameters of the failover experiment.
#[derive(Debug, Clone, Serialize)]
pub struct FailoverParams {
    /// First seed.
    pub seed: u64,
    /// Seeds per mode (one crash each).
    pub seeds: u64,
    /// Nodes (leader included).
    pub nodes: usize,
    /// Clients writing.
    pub clients: usize,
    /// Asynchronous batches are shipped this often (the heartbeat).
    pub batch: SimDuration,
    /// Mean of an exponential message delay between nodes.
    pub link_mean: SimDuration,
    /// The leader crashes at a time uniform in this window.
    pub crash_window: (SimDuration, SimDuration),
    /// How long each run lasts.
    pub horizon: SimDuration,
}

impl Default for FailoverParams {
    /// 200 seeds, 3 nodes, 4 clients, batches every 20 ms, 2 ms messages,
    /// the crash between 300 and 600 ms, 1.5 s runs.
    fn default() -> Self {
        FailoverParams {
            seed: 1,
            seeds: 200,
            nodes: 3,
            clients: 4,
            batch: ms(20),
            link_mean: ms(2),
            crash_window: (ms(300), ms(600)),
            horizon: ms(1_500),
        }
    }
}

/// One crash.
#[derive(Debug, Clone, Serialize)]
pub struct Crash {
    /// The seed.
    pub seed: u64,
    /// When the leader crashed (ms).
    pub at_ms: f64,
    /// Time since its last shipment (ms): the replication lag at the crash.
    pub lag_ms: f64,
    /// Writes acknowledged before the crash, per ms.
    pub rate_per_ms: f64,
    /// Acknowledged writes lost.
    pub lost: usize,
    /// Writes acknowledged in the whole run.
    pub acked: usize,
}

/// One mode's crashes.
#[derive(Debug, Clone, Serialize)]
pub struct ModeCrashes {
    /// The mode.
    pub mode: Mode,
    /// One per seed.
    pub crashes: Vec<Crash>,
    /// Lost writes per crash, mean over seeds.
    pub lost: MeanCi,
}

/// What the experiment found.
#[derive(Debug, Clone)]
pub struct Failover {
    /// The parameters.
    pub params: FailoverParams,
    /// Per mode.
    pub modes: Vec<ModeCrashes>,
    /// The first seed's client history (batched mode), as a chart.
    pub example: HistoryChart,
    /// When that seed's leader crashed (ms).
    pub example_crash_ms: f64,
    /// Every client attempt of every run, by how it ended.
    pub attempts: Vec<AttemptRecord>,
}

impl FailoverParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::measure::stats::check_replications(self.seeds)?;
        if self.seeds < 2 {
            return Err(Error::invalid(
                "seeds",
                self.seeds,
                "at least 2 (for intervals)",
            ));
        }
        crate::error::check_count("nodes", self.nodes, 2, 15, "nodes")?;
        crate::error::check_count("clients", self.clients, 1, 100, "clients")?;
        if self.batch < ms(1) || self.batch > secs(10) {
            return Err(Error::invalid("batch", self.batch, "1 ms to 10 s"));
        }
        if self.link_mean < crate::sim::time::us(1) || self.link_mean > secs(1) {
            return Err(Error::invalid("link_mean", self.link_mean, "1 µs to 1 s"));
        }
        let (a, b) = self.crash_window;
        if a > b || b >= self.horizon {
            return Err(Error::invalid(
                "crash_window",
                format!("{a} to {b}"),
                &format!("a window with start <= end < horizon ({})", self.horizon),
            ));
        }
        if self.horizon > secs(60) {
            return Err(Error::invalid("horizon", self.horizon, "at most 60 s"));
        }
        let per_run = self.clients as f64 * self.horizon.as_ms() * 2.0;
        crate::error::check_work(
            "seeds × clients × horizon",
            4.0 * self.seeds as f64 * per_run,
        )
    }

    /// The crash time of `seed`.
    fn crash_at(&self, seed: u64) -> SimDuration {
        let (a, b) = self.crash_window;
        let mut r = rng::stream(seed, domain::EXPERIMENT, 8, 1);
        SimDuration(a.0 + (rng::unit_f64(&mut r) * (b.0 - a.0) as f64) as u64)
    }

    /// One run of `mode` with `seed`: the crash, the client log, the run.
    fn one(&self, mode: Mode, seed: u64) -> Result<(Crash, Vec<AttemptRecord>, Sim<LfNode>)> {
        let lf = LeaderFollower {
            nodes: self.nodes,
            ack: mode.ack,
            stream: mode.stream,
            heartbeat: if mode.stream { ms(10) } else { self.batch },
            ..LeaderFollower::default()
        };
        let crash = self.crash_at(seed);
        let mut sim = Sim::builder()
            .seed(seed)
            .trace(0)
            .faults(FaultPlan::new().crash(crash, 0))
            .build(lf.nodes()?)?;
        node_links(&mut sim, &Latency::exponential(self.link_mean)?, 0.0)?;
        let client = mixed(
            policy()?,
            self.nodes,
            lf_classify,
            10_000,
            10,
            0.0,
            ms(10),
            LfMsg::get,
            LfMsg::put,
        )?
        .start_at(|_| 0);
        sim.set_workload(self.clients, client.clone())?;
        sim.run_for(self.horizon)?;
        let leader = (0..self.nodes).find(|&i| sim.is_up(i) && sim.nodes()[i].is_leader());
        let surviving: BTreeSet<(u64, i64)> = match leader {
            Some(l) => sim
                .disk(l)?
                .working()
                .log
                .iter()
                .filter(|e| e.is_write())
                .map(|e| (e.key, e.value))
                .collect(),
            None => BTreeSet::new(),
        };
        let acked_ops: Vec<_> = sim
            .history()
            .ops()
            .iter()
            .filter(|o| o.status == OpStatus::Ok && o.reply == Some(LfMsg::PutOk))
            .collect();
        let before = acked_ops
            .iter()
            .filter(|o| o.completed.is_some_and(|c| c.as_nanos() < crash.0))
            .count();
        let lag_ms = if mode.stream {
            0.0
        } else {
            (crash.0 % lf.heartbeat.0) as f64 / 1e6
        };
        let c = Crash {
            seed,
            at_ms: crash.as_ms(),
            lag_ms,
            rate_per_ms: before as f64 / crash.as_ms(),
            lost: lost_writes(sim.history(), &surviving).len(),
            acked: acked_ops.len(),
        };
        Ok((c, client.log(), sim))
    }

    /// Runs `modes`, one crash per seed each.
    pub fn run(&self, modes: &[Mode]) -> Result<Failover> {
        self.validate()?;
        crate::error::check_count("modes", modes.len(), 1, 4, "modes")?;
        let mut out = Vec::new();
        let mut example = None;
        let mut attempts = Vec::new();
        for &mode in modes {
            let mut crashes = Vec::new();
            for s in 0..self.seeds {
                let seed = self.seed.wrapping_add(s);
                let (c, log, sim) = self.one(mode, seed)?;
                if example.is_none() {
                    let until = (c.at_ms + 300.0).min(self.horizon.as_ms());
                    let mut chart = HistoryChart::from_history(sim.history(), until, |q, r| {
                        let what = match q {
                            LfMsg::Get { .. } => "get",
                            _ => "put",
                        };
                        match r {
                            Some(r) => format!("{what} → {}", r.short()),
                            None => what.to_string(),
                        }
                    });
                    chart.ops.retain(|o| o.lane < 2);
                    chart.lanes.truncate(2);
                    example = Some((chart, c.at_ms));
                }
                attempts.extend(log);
                crashes.push(c);
            }
            let lost: Vec<f64> = crashes.iter().map(|c| c.lost as f64).collect();
            out.push(ModeCrashes {
                mode,
                lost: mean_ci(&lost)?,
                crashes,
            });
        }
        let (example, example_crash_ms) = example.ok_or_else(|| Error::empty("runs"))?;
        Ok(Failover {
            params: self.clone(),
            modes: out,
            example,
            example_crash_ms,
            attempts,
        })
    }
}

impl ModeCrashes {
    /// Writes acknowledged per ms before the crash, mean over the seeds.
    pub fn rate_per_ms(&self) -> f64 {
        let n = self.crashes.len().max(1) as f64;
        self.crashes.iter().map(|c| c.rate_per_ms).sum::<f64>() / n
    }
}

impl Failover {
    /// Lost writes against the replication lag at the crash, one point per
    /// seed, for the batched mode; the line `λ · lag` over them.
    pub fn lost_chart(&self) -> Result<Figure> {
        let Some(m) = self.modes.iter().find(|m| !m.mode.stream) else {
            return Err(Error::empty("runs of the batched mode"));
        };
        let rate = m.rate_per_ms();
        let pts: Vec<(f64, f64)> = m
            .crashes
            .iter()
            .map(|c| (c.lag_ms, c.lost as f64))
            .collect();
        let batch = self.params.batch.as_ms();
        let sim = Series::new(format!("{} (one crash per seed)", m.mode.name()), pts)
            .with_style(SeriesStyle::Points);
        let theory = Series::new(
            format!("λ · lag, λ = {rate:.2} writes/ms"),
            vec![(0.0, 0.0), (batch, rate * batch)],
        );
        line_chart(
            &[sim],
            &[theory],
            Opts::new("Asynchronous failover loses the writes since the last shipment")
                .x_label("time since the last shipment when the leader crashed (ms)")
                .y_label("acknowledged writes lost"),
        )
    }

    /// Per mode: crashes, lost writes per crash (mean ± 95 %), the most in
    /// one crash, and theory.
    pub fn table(&self) -> Result<Table> {
        let mut t = Table::new(&[
            "replication",
            "crashes",
            "writes acked per run",
            "lost per crash",
            "most in one crash",
            "theory",
        ]);
        for m in &self.modes {
            let acked = m.crashes.iter().map(|c| c.acked).sum::<usize>() as f64
                / m.crashes.len().max(1) as f64;
            let most = m.crashes.iter().map(|c| c.lost).max().unwrap_or(0);
            let theory = if m.mode.stream {
                0.0
            } else {
                crate::measure::theory::async_batch_loss(
                    m.rate_per_ms(),
                    self.params.batch.as_ms(),
                )?
            };
            t.push_row(vec![
                m.mode.name(),
                m.crashes.len().to_string(),
                format!("{acked:.0}"),
                format!("{:.2} ± {:.2}", m.lost.mean, m.lost.half_width),
                most.to_string(),
                format!("{theory:.2}"),
            ]);
        }
        Ok(t.caption(format!(
            "Theory for batches: λ · batch / 2, with λ the acknowledged writes per ms before the \
             crash and batches every {} ms; streamed modes lose nothing a crash leaves on the wire.",
            self.params.batch.as_ms()
        )))
    }

    /// The example run's client history around the crash: attempts
    /// redirected, timed out, retried.
    pub fn client_chart(&self) -> Result<Figure> {
        let crash = self.example_crash_ms;
        let lo = (crash - 15.0).max(0.0);
        let mut c = self.example.clone();
        c.ops.retain(|o| o.start >= lo);
        // Time relative to the crash.
        for o in &mut c.ops {
            o.start -= crash;
            o.end = o.end.map(|e| e - crash);
        }
        c.until -= crash;
        history_chart(
            &c,
            Opts::new("Two clients across a failover: timeouts, redirects, retries")
                .x_label("time since the leader crashed (ms)"),
        )
    }

    /// How every attempt of every run ended.
    pub fn attempts_table(&self) -> Table {
        let count =
            |f: &dyn Fn(&AttemptRecord) -> bool| self.attempts.iter().filter(|a| f(a)).count();
        let mut t = Table::new(&["attempts ended", "count"]);
        let rows: [(&str, usize); 5] = [
            ("done", count(&|a| a.end == AttemptEnd::Done)),
            (
                "redirected (not the leader)",
                count(&|a| matches!(a.end, AttemptEnd::Redirected(_))),
            ),
            (
                "refused (no leader known)",
                count(&|a| a.end == AttemptEnd::Refused),
            ),
            ("timed out", count(&|a| a.end == AttemptEnd::TimedOut)),
            ("…after which the client gave up", count(&|a| a.gave_up)),
        ];
        for (k, v) in rows {
            t.push_row(vec![k.to_string(), v.to_string()]);
        }
        t
    }
}
