//! Writes during a migration ([`crate::partition::migration`]): a node
//! joins a cluster that clients keep writing to, and each of three
//! hand-offs moves the joiner's keys at a bounded rate. How many
//! acknowledged writes are lost, how long writers wait, what the catch-up
//! costs in messages, against the copy rate.
//!
//! Theory for copy-then-switch. Sender `i` copies its `m_i` keys at
//! `join + j/rate`, `j = 1..m_i`; everyone switches at
//! `S = join + max_i m_i/rate + switch_delay`. A write of a copied key that
//! the old owner applies between its copy and `S` is acknowledged and never
//! reaches the new owner. With writes spread evenly over `K` keys at a
//! total rate `W`, the expected loss is `(W/K) · Σ_i Σ_j (S − join − j/rate)`:
//! a slower copy (smaller rate) or a later switch widens every key's window.
//! Writes are counted with the run's own rate `W` (writes invoked per
//! second), so the theory holds whatever the clients' think time.

use super::seeds_from;
use crate::error::{check_count, check_positive, Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::partition::migration::{Handoff, MigrationStore, Msg};
use crate::partition::{ConsistentHash, NodeName, Partitioner};
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::client::{Op, OpStatus};
use crate::sim::net::LinkConfig;
use crate::sim::rng::{self, SimRng};
use crate::sim::time::{hours, ms, SimDuration, SimTime};
use crate::sim::{Invoke, Latency, Sim};
use serde::Serialize;
use std::sync::Arc;

/// Parameters of the migration experiment.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationParams {
    /// First seed (placement, network, clients).
    pub seed: u64,
    /// Replications, >= 2.
    pub seeds: u64,
    /// Nodes before the join (the joiner is node `nodes`), >= 1.
    pub nodes: usize,
    /// Virtual nodes per node.
    pub vnodes: usize,
    /// Keys `0..keys`, written uniformly at random.
    pub keys: usize,
    /// Clients, each with one write outstanding at a time.
    pub clients: usize,
    /// Mean think time between a client's writes (uniform on 0 to twice it).
    pub think: SimDuration,
    /// Client timeout: a write not acknowledged by then is not counted as
    /// acknowledged.
    pub timeout: SimDuration,
    /// Mean one-way network latency (exponential).
    pub latency: SimDuration,
    /// When the new node joins.
    pub join_at: SimDuration,
    /// How long after the last key is sent everyone switches to the new
    /// ring (the copy-first hand-offs): the membership service's delay.
    pub switch_delay: SimDuration,
    /// Clients write until this time, or until 500 ms after the move ends
    /// (the switch; key by key: the last key sent) if that is later.
    pub duration: SimDuration,
}

impl Default for MigrationParams {
    /// 4 nodes + 1 joining at 1 s, 2,000 keys, 20 clients writing every
    /// 10 ms on average, switch 50 ms after the copy, 4 s, 10 seeds.
    fn default() -> Self {
        MigrationParams {
            seed: 1,
            seeds: 10,
            nodes: 4,
            vnodes: 50,
            keys: 2_000,
            clients: 20,
            think: ms(10),
            timeout: ms(300),
            latency: ms(1),
            join_at: ms(1_000),
            switch_delay: ms(50),
            duration: ms(4_000),
        }
    }
}

impl MigrationParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::measure::stats::check_replications(self.seeds)?;
        check_count("nodes", self.nodes, 1, 1_000, "nodes")?;
        check_count("vnodes", self.vnodes, 1, 10_000, "virtual nodes")?;
        check_count("keys", self.keys, 1, 100_000, "keys")?;
        check_count("clients", self.clients, 1, 10_000, "clients")?;
        check_count(
            "(nodes + 1) × vnodes",
            (self.nodes + 1) * self.vnodes,
            1,
            1_000_000,
            "ring points",
        )?;
        check_count(
            "(nodes + 1) × keys",
            (self.nodes + 1) * self.keys,
            1,
            crate::error::limits::ITEMS,
            "key flags",
        )?;
        for (name, d, zero_ok) in [
            ("think", self.think, false),
            ("timeout", self.timeout, false),
            ("latency", self.latency, false),
            ("duration", self.duration, false),
            ("join_at", self.join_at, true),
            ("switch_delay", self.switch_delay, true),
        ] {
            if (d == SimDuration::ZERO && !zero_ok) || d > hours(1) {
                let lo = if zero_ok { "0" } else { "1 ns" };
                return Err(Error::invalid(
                    name,
                    format!("{} ms", d.as_ms()),
                    &format!("from {lo} to 1 h"),
                ));
            }
        }
        if self.join_at >= self.duration {
            return Err(Error::invalid(
                "join_at",
                format!("{} ms", self.join_at.as_ms()),
                &format!(
                    "a time before the end of the writes ({} ms)",
                    self.duration.as_ms()
                ),
            ));
        }
        Ok(())
    }

    /// Upper bound of the work of one run at copy rate `rate`, in event
    /// units (a write costs about 20: request, reply, think timer, timeout,
    /// ring lookups, its history entry).
    fn work(&self, rate: f64) -> f64 {
        let copy = self.keys as f64 / rate;
        let secs = self
            .duration
            .as_secs_f64()
            .max(self.join_at.as_secs_f64() + copy + 1.0);
        let writes = self.clients as f64 * secs
            / (self.think.as_secs_f64() + 2.0 * self.latency.as_secs_f64());
        20.0 * writes + 10.0 * self.keys as f64
    }
}

/// One hand-off at one copy rate, over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationRow {
    /// The hand-off.
    pub handoff: Handoff,
    /// Keys each old owner sends per second.
    pub rate: f64,
    /// Writes invoked per run.
    pub writes: MeanCi,
    /// Acknowledged writes (% of invoked).
    pub acked_pct: MeanCi,
    /// Acknowledged writes missing at their key's final owner.
    pub lost: MeanCi,
    /// Theory of `lost` (copy-then-switch; 0 for the others), mean over seeds.
    pub lost_theory: f64,
    /// Keys moved.
    pub moved: MeanCi,
    /// Messages beyond the writes and their replies, per moved key:
    /// transfers, forwarded writes and forwarded requests.
    pub extra_per_key: MeanCi,
    /// p99 latency (ms) of the acknowledged writes invoked while keys move
    /// (from the join to the switch; key by key: to the last key sent),
    /// pooled over seeds.
    pub p99_move_ms: f64,
    /// The same p99 outside that window.
    pub p99_quiet_ms: f64,
}

/// The experiment: every hand-off at every copy rate.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationResult {
    /// The parameters.
    pub params: MigrationParams,
    /// Rows, by hand-off then rate.
    pub rows: Vec<MigrationRow>,
}

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationRun {
    /// Writes invoked.
    pub writes: usize,
    /// Writes acknowledged in time.
    pub acked: usize,
    /// Acknowledged writes missing at their key's final owner.
    pub lost: usize,
    /// The expected `lost` (copy-then-switch; 0 for the others).
    pub theory: f64,
    /// Keys moved to the joiner.
    pub moved: usize,
    /// Transfers, forwarded writes and forwarded requests.
    pub extra: usize,
    /// Latency (ms) of the acknowledged writes invoked while keys move.
    pub move_lat: Vec<f64>,
    /// Latency (ms) of the other acknowledged writes.
    pub quiet_lat: Vec<f64>,
}

/// The expected number of lost writes of copy-then-switch: `per_key_rate`
/// writes per second per key, senders with `per_sender` keys each sending
/// one every `gap` seconds from `join`, everyone switching at `switch`, and
/// writes ending at `end` (seconds).
pub fn lost_writes_theory(
    per_key_rate: f64,
    per_sender: &[usize],
    gap: f64,
    join: f64,
    switch: f64,
    end: f64,
) -> f64 {
    let last = switch.min(end);
    per_sender
        .iter()
        .map(|&m| {
            (1..=m)
                .map(|j| (last - (join + j as f64 * gap)).max(0.0))
                .sum::<f64>()
        })
        .sum::<f64>()
        * per_key_rate
}

/// One run of `handoff` at copy rate `rate` with `seed`.
pub fn migrate_once(
    p: &MigrationParams,
    handoff: Handoff,
    rate: f64,
    seed: u64,
) -> Result<MigrationRun> {
    p.validate()?;
    check_rate(rate)?;
    crate::error::check_work("clients × duration / think, keys / rate", p.work(rate))?;
    let names: Vec<NodeName> = (0..p.nodes).collect();
    let old = ConsistentHash::new(&names, p.vnodes, seed)?;
    let mut new = old.clone();
    new.add_node(p.nodes)?;
    let (old, new) = (Arc::new(old), Arc::new(new));
    let mut per_sender = vec![0usize; p.nodes];
    for k in 0..p.keys as u64 {
        if new.node_for(k) == p.nodes {
            per_sender[old.node_for(k)] += 1;
        }
    }
    let gap = SimDuration::from_secs_f64(1.0 / rate)?;
    let copy = gap * per_sender.iter().copied().max().unwrap_or(0) as u64;
    let switch = p.join_at + copy + p.switch_delay;
    // The move: from the join to the switch (key by key: to the last copy,
    // its own end of the move, whatever the switch delay).
    let move_end = if handoff.switches_late() {
        switch
    } else {
        p.join_at + copy
    };
    let end = p.duration.max(move_end + ms(500));
    let nodes: Vec<MigrationStore> = (0..=p.nodes)
        .map(|id| {
            MigrationStore::new(
                id, p.nodes, p.keys, &old, &new, handoff, p.join_at, switch, gap,
            )
        })
        .collect();
    let mut sim = Sim::builder()
        .seed(seed)
        .link(LinkConfig::new(Latency::exponential(p.latency)?))
        .build(nodes)?;
    let (keys, think, timeout) = (p.keys, p.think, p.timeout);
    let ring_at = if handoff.switches_late() {
        switch
    } else {
        p.join_at
    };
    let (o, n) = (old.clone(), new.clone());
    let mut next_id = 0u64;
    sim.set_workload(
        p.clients,
        move |_c: usize, now: SimTime, r: &mut SimRng, _last: Option<&Op<Msg>>| {
            let wait =
                SimDuration::from_secs_f64(2.0 * think.as_secs_f64() * rng::unit_f64(r)).ok()?;
            let at = now.as_nanos().saturating_add(wait.as_nanos());
            if at >= end.as_nanos() {
                return None;
            }
            let key = ((rng::unit_f64(r) * keys as f64) as u64).min(keys as u64 - 1);
            let ring = if at >= ring_at.as_nanos() { &n } else { &o };
            next_id += 1;
            Some(
                Invoke::new(ring.node_for(key), Msg::Put { key, id: next_id })
                    .after(wait)
                    .timeout(timeout),
            )
        },
    )?;
    sim.run_for(end + timeout + ms(100))?;

    // Every node's final values, to judge each acknowledged write at its
    // key's final owner.
    let mut finals: Vec<Vec<Vec<u64>>> = Vec::with_capacity(p.nodes + 1);
    let (mut extra, mut transfers) = (0usize, 0usize);
    for id in 0..=p.nodes {
        let s = sim.node(id)?;
        extra += s.replicated + s.forwarded;
        let mut v = s.values.clone();
        for ids in &mut v {
            ids.sort_unstable();
        }
        finals.push(v);
    }
    let moved: usize = per_sender.iter().sum();
    transfers += moved;
    let (mut writes, mut acked, mut lost) = (0usize, 0usize, 0usize);
    let (mut move_lat, mut quiet_lat) = (Vec::new(), Vec::new());
    let window = (SimTime::ZERO + p.join_at, SimTime::ZERO + move_end);
    for op in sim.history().ops() {
        writes += 1;
        let Msg::Put { key, id } = op.request else {
            continue;
        };
        if op.status != OpStatus::Ok {
            continue;
        }
        let Some(done) = op.completed else { continue };
        acked += 1;
        let owner = new.node_for(key);
        if finals[owner][key as usize].binary_search(&id).is_err() {
            lost += 1;
        }
        let l = done.since(op.invoked).as_ms();
        if op.invoked >= window.0 && op.invoked < window.1 {
            move_lat.push(l);
        } else {
            quiet_lat.push(l);
        }
    }
    let secs = end.as_secs_f64();
    let theory = if handoff == Handoff::CopyThenSwitch {
        lost_writes_theory(
            writes as f64 / secs / p.keys as f64,
            &per_sender,
            gap.as_secs_f64(),
            p.join_at.as_secs_f64(),
            switch.as_secs_f64(),
            secs,
        )
    } else {
        0.0
    };
    Ok(MigrationRun {
        writes,
        acked,
        lost,
        theory,
        moved,
        extra: extra + transfers,
        move_lat,
        quiet_lat,
    })
}

/// A copy rate from 0.001 to 1,000,000 keys per second.
fn check_rate(rate: f64) -> Result<()> {
    check_positive("rate", rate)?;
    if !(1e-3..=1e6).contains(&rate) {
        return Err(Error::invalid(
            "rate",
            rate,
            "from 0.001 to 1,000,000 keys per second",
        ));
    }
    Ok(())
}

/// The smallest value with at least 99 % of `v` at or below it (0 if empty).
fn p99(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n => v[((0.99 * n as f64).ceil() as usize).clamp(1, n) - 1],
    }
}

/// Runs every hand-off at every copy rate (keys per second per sender).
pub fn writes_during_migration(p: &MigrationParams, rates: &[f64]) -> Result<MigrationResult> {
    p.validate()?;
    if rates.is_empty() {
        return Err(Error::empty("rates"));
    }
    check_count("rates", rates.len(), 1, 20, "copy rates")?;
    for &r in rates {
        check_rate(r)?;
    }
    let work: f64 = rates.iter().map(|&r| p.work(r)).sum::<f64>() * 3.0 * p.seeds as f64;
    crate::error::check_work("seeds × rates × clients × duration / think", work)?;
    let seeds = seeds_from(p.seed, p.seeds)?;
    let mut rows = Vec::new();
    for handoff in Handoff::ALL {
        for &rate in rates {
            let runs = seeds
                .iter()
                .map(|&s| migrate_once(p, handoff, rate, s))
                .collect::<Result<Vec<_>>>()?;
            let col =
                |f: &dyn Fn(&MigrationRun) -> f64| mean_ci(&runs.iter().map(f).collect::<Vec<_>>());
            rows.push(MigrationRow {
                handoff,
                rate,
                writes: col(&|r| r.writes as f64)?,
                acked_pct: col(&|r| 100.0 * r.acked as f64 / r.writes.max(1) as f64)?,
                lost: col(&|r| r.lost as f64)?,
                lost_theory: runs.iter().map(|r| r.theory).sum::<f64>() / runs.len() as f64,
                moved: col(&|r| r.moved as f64)?,
                extra_per_key: col(&|r| r.extra as f64 / r.moved.max(1) as f64)?,
                p99_move_ms: p99(runs
                    .iter()
                    .flat_map(|r| r.move_lat.iter().copied())
                    .collect()),
                p99_quiet_ms: p99(runs
                    .iter()
                    .flat_map(|r| r.quiet_lat.iter().copied())
                    .collect()),
            });
        }
    }
    Ok(MigrationResult {
        params: p.clone(),
        rows,
    })
}

impl MigrationResult {
    /// The rows of one hand-off.
    pub fn of(&self, handoff: Handoff) -> impl Iterator<Item = &MigrationRow> {
        self.rows.iter().filter(move |r| r.handoff == handoff)
    }

    /// Lost acknowledged writes against the copy rate, each hand-off, with
    /// copy-then-switch's theory.
    pub fn lost_chart(&self) -> Result<Figure> {
        let points = |label: &str, rows: Vec<&MigrationRow>| {
            Series::new(label, rows.iter().map(|r| (r.rate, r.lost.mean)).collect())
                .with_band(rows.iter().map(|r| r.lost.interval()).collect())
                .with_style(SeriesStyle::Points)
        };
        // The two safe hand-offs lose nothing at every rate: one series, so
        // that neither hides under the other's markers at 0.
        let safe: Vec<&MigrationRow> = self
            .rows
            .iter()
            .filter(|r| r.handoff != Handoff::CopyThenSwitch)
            .collect();
        let sim = vec![
            points(
                Handoff::CopyThenSwitch.label(),
                self.of(Handoff::CopyThenSwitch).collect(),
            ),
            points("copy + forward writes, or key by key", safe),
        ];
        let theory = Series::new(
            "theory: (W/K) Σ (switch − copy)",
            self.of(Handoff::CopyThenSwitch)
                .map(|r| (r.rate, r.lost_theory))
                .collect(),
        );
        line_chart(
            &sim,
            &[theory],
            Opts::new("Acknowledged writes lost while keys move")
                .x_label("copy rate (keys per second per sender)")
                .y_label("acknowledged writes lost per run")
                .log_x()
                .y_from_zero(),
        )
    }

    /// Every row: writes, acknowledged, lost (sim and theory), latency, cost.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "hand-off",
            "keys/s",
            "writes",
            "acknowledged (%)",
            "lost (sim)",
            "theory",
            "p99 while moving (ms)",
            "p99 otherwise (ms)",
            "messages per moved key",
        ]);
        for r in &self.rows {
            t = t.row(vec![
                r.handoff.label().into(),
                format!("{}", r.rate),
                format!("{:.0}", r.writes.mean),
                format!("{:.1} ± {:.1}", r.acked_pct.mean, r.acked_pct.half_width),
                format!("{:.1} ± {:.1}", r.lost.mean, r.lost.half_width),
                format!("{:.1}", r.lost_theory),
                format!("{:.1}", r.p99_move_ms),
                format!("{:.1}", r.p99_quiet_ms),
                format!(
                    "{:.2} ± {:.2}",
                    r.extra_per_key.mean, r.extra_per_key.half_width
                ),
            ]);
        }
        t
    }
}
