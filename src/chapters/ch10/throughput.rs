//! Throughput under load: more closed-loop clients against one leader.
//!
//! Our servers handle a message in no time, links have no bandwidth limit
//! and disks sync instantly, so the only limit is the protocol's own: the
//! leader keeps at most one AppendEntries in flight per follower (the next
//! goes when the last is acknowledged), with at most `max_batch` entries.
//! Commands that arrive while a round trip is under way wait for the next
//! batch. With few clients the batches are small and throughput grows with
//! every client; once the batches are full, a round trip commits
//! `max_batch` commands and no more, and more clients only wait longer.

use crate::error::{check_count, Error, Result};
use crate::measure::stats::{check_replications, mean_ci, MeanCi};
use crate::plot::{fmt_num, line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::raft::{Raft, RaftConfig, RaftWorkload};
use crate::sim::time::{ms, secs, SimDuration};
use crate::sim::{Latency, LinkConfig, OpStatus, Sim};
use serde::Serialize;

/// The sweep's settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThroughputParams {
    /// Closed-loop clients per point (each 1 to 1,000).
    pub clients: Vec<usize>,
    /// Servers.
    pub nodes: usize,
    /// One-way delay of every message, uniform in `(lo, hi)` ms.
    pub delay_ms: (f64, f64),
    /// The protocol's settings (`max_batch` is the limit).
    pub cfg: RaftConfig,
    /// Measured time per seed (ms), after 500 ms of warm-up.
    pub measure_ms: u64,
    /// Seeds per point.
    pub seeds: u64,
    /// First seed.
    pub seed: u64,
}

impl Default for ThroughputParams {
    /// 1 to 1,000 clients against five servers at 1–5 ms, batches of 64,
    /// 1 s measured, 5 seeds.
    fn default() -> Self {
        ThroughputParams {
            clients: vec![1, 10, 30, 100, 300, 1_000],
            nodes: 5,
            delay_ms: (1.0, 5.0),
            cfg: RaftConfig::default(),
            measure_ms: 1_000,
            seeds: 5,
            seed: 1,
        }
    }
}

/// One point: throughput and latency over seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadPoint {
    /// Clients.
    pub clients: usize,
    /// Commands committed per second.
    pub throughput: MeanCi,
    /// Mean time from request to reply (ms).
    pub latency: MeanCi,
}

impl ThroughputParams {
    /// Checks sizes and ranges, and bounds the work.
    pub fn validate(&self) -> Result<()> {
        check_count("clients", self.clients.len(), 1, 10, "points")?;
        for &c in &self.clients {
            check_count("clients", c, 1, 1_000, "clients")?;
        }
        check_count("nodes", self.nodes, 3, 9, "servers")?;
        check_replications(self.seeds)?;
        self.cfg.validate()?;
        super::check_delay_range(
            "delay_ms",
            self.delay_ms,
            (0.1, 50.0),
            "a one-way delay range 0.1 <= lo <= hi <= 50 ms",
        )?;
        if !(100..=10_000).contains(&self.measure_ms) {
            return Err(Error::invalid(
                "measure_ms",
                self.measure_ms,
                "100 to 10,000 ms",
            ));
        }
        // Client-seconds simulated: 20 times the default's.
        let total: u64 = self.clients.iter().map(|&c| c as u64).sum::<u64>()
            * self.seeds
            * (self.measure_ms + 500);
        if total > 300_000_000 {
            return Err(Error::too_big(
                "clients × seeds × (measure_ms + 500)",
                total,
                "client-milliseconds in one run",
                300_000_000u64,
            ));
        }
        Ok(())
    }

    /// The ceiling (commands per second): every follower takes one batch of
    /// `max_batch` entries per round trip, a mean of two one-way delays.
    pub fn ceiling(&self) -> f64 {
        let round_trip_ms = self.delay_ms.0 + self.delay_ms.1;
        self.cfg.max_batch as f64 / round_trip_ms * 1_000.0
    }

    /// Runs every point.
    pub fn run(&self) -> Result<Throughput> {
        self.validate()?;
        let mut points = Vec::new();
        for &c in &self.clients {
            let (mut tput, mut lat) = (Vec::new(), Vec::new());
            for i in 0..self.seeds {
                let (t, l) = self.trial(c, self.seed.wrapping_add(i))?;
                tput.push(t);
                lat.push(l);
            }
            points.push(LoadPoint {
                clients: c,
                throughput: mean_ci(&tput)?,
                latency: mean_ci(&lat)?,
            });
        }
        Ok(Throughput {
            points,
            ceiling: self.ceiling(),
            max_batch: self.cfg.max_batch,
        })
    }

    /// One seed with `clients` clients: commands per second and their
    /// mean latency (ms) over the measured time.
    fn trial(&self, clients: usize, seed: u64) -> Result<(f64, f64)> {
        let (lo, hi) = self.delay_ms;
        let link = Latency::uniform(SimDuration::from_ms_f64(lo)?, SimDuration::from_ms_f64(hi)?)?;
        let mut sim = Sim::builder()
            .seed(seed)
            .link(LinkConfig::new(link))
            .build(vec![Raft::new(self.cfg); self.nodes])?;
        for _ in 0..100 {
            sim.run_for(ms(100))?;
            if sim.nodes().iter().any(Raft::is_leader) {
                break;
            }
        }
        let w = RaftWorkload::new(self.nodes, clients, 1_000_000, secs(1));
        sim.set_workload(clients, w)?;
        sim.run_for(ms(500))?;
        let start = sim.now();
        sim.run_for(ms(self.measure_ms))?;
        let end = sim.now();
        let lat: Vec<f64> = sim
            .history()
            .ops()
            .iter()
            .filter(|o| o.status == OpStatus::Ok)
            .filter_map(|o| {
                o.completed
                    .filter(|&c| c >= start && c < end)
                    .map(|c| (o, c))
            })
            .map(|(o, c)| c.since(o.invoked).as_ms())
            .collect();
        if lat.is_empty() {
            return Err(Error::invalid(
                "seed",
                seed,
                "a run that commits commands (no leader served the clients)",
            ));
        }
        let per_s = lat.len() as f64 / (self.measure_ms as f64 / 1_000.0);
        Ok((per_s, lat.iter().sum::<f64>() / lat.len() as f64))
    }
}

/// The sweep's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Throughput {
    /// One per client count.
    pub points: Vec<LoadPoint>,
    /// [`ThroughputParams::ceiling`].
    pub ceiling: f64,
    /// The batch limit it comes from.
    pub max_batch: usize,
}

impl Throughput {
    /// Clients, commands per second and latency, means over seeds with
    /// their intervals.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&["clients", "commands / s", "latency (ms)"]);
        let cell = |c: &MeanCi| {
            let (lo, hi) = c.interval();
            format!("{} [{}, {}]", fmt_num(c.mean), fmt_num(lo), fmt_num(hi))
        };
        for p in &self.points {
            t.push_row(vec![
                p.clients.to_string(),
                cell(&p.throughput),
                cell(&p.latency),
            ]);
        }
        t
    }

    /// Latency against throughput, one point per client count (labelled),
    /// on log axes.
    pub fn chart(&self) -> Result<Figure> {
        let s = Series::new(
            "mean over seeds",
            self.points
                .iter()
                .map(|p| (p.throughput.mean, p.latency.mean))
                .collect(),
        )
        .with_style(SeriesStyle::LinePoints)
        .with_labels(
            self.points
                .iter()
                .map(|p| match p.clients {
                    1 => "1 client".to_string(),
                    c => format!("{c} clients"),
                })
                .collect(),
        );
        let ys = self.points.iter().map(|p| p.latency.mean);
        let lo = ys.clone().fold(f64::INFINITY, f64::min) * 0.9;
        let hi = ys.fold(0.0, f64::max) * 1.1;
        let cap = Series::new(
            format!("{} commands per round trip", self.max_batch),
            vec![(self.ceiling, lo), (self.ceiling, hi)],
        );
        line_chart(
            &[s],
            &[cap],
            Opts::new("Commit latency against throughput")
                .x_label("commands committed per second")
                .y_label("request to reply (ms)")
                .log_x()
                .log_y(),
        )
    }
}
