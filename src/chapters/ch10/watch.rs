//! One Raft run watched: five servers elect a leader, two clients write
//! and read through it, the leader crashes, the others elect a successor.
//! Sampled every millisecond: each node's role, term, log length and
//! commit index; the trace gives the message diagrams of both elections.

use crate::error::{check_count, Error, Result};
use crate::plot::{
    segment_chart, sequence_diagram, time_series, Figure, MarkKind, Opts, Segment, SequenceDiagram,
    Series, Window,
};
use crate::raft::{attach_invariants, Raft, RaftConfig, RaftWorkload, Role};
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::trace::TraceCap;
use crate::sim::{Latency, LinkConfig, Sim};

/// The watched run's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchParams {
    /// Servers.
    pub nodes: usize,
    /// Clients, each writing or reading one key at a time.
    pub clients: usize,
    /// A client's pause between operations, ms.
    pub think_ms: f64,
    /// One-way message delay, uniform in `(lo, hi)` ms.
    pub delay_ms: (f64, f64),
    /// When the leader crashes (it stays down), ms.
    pub crash_at_ms: f64,
    /// Length of the run, ms.
    pub horizon_ms: f64,
    /// Raft's settings (timeouts 150–300 ms, heartbeats every 50 ms).
    pub cfg: RaftConfig,
    /// The seed.
    pub seed: u64,
}

impl Default for WatchParams {
    /// Five servers, two clients pausing 20 ms, 6–9 ms delays, the leader
    /// crashing at 1 s of a 2 s run.
    fn default() -> Self {
        WatchParams {
            nodes: 5,
            clients: 2,
            think_ms: 20.0,
            delay_ms: (6.0, 9.0),
            crash_at_ms: 1_000.0,
            horizon_ms: 2_000.0,
            cfg: RaftConfig::default(),
            seed: 1,
        }
    }
}

/// One sample of one node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeState {
    /// Up (not crashed).
    pub up: bool,
    /// Its role.
    pub role: Role,
    /// Its current term.
    pub term: u64,
    /// Entries in its log (synced or not).
    pub log: usize,
    /// Its commit index.
    pub commit: u64,
}

/// The watched run: the simulation (its trace) and the samples.
pub struct WatchedRun {
    /// The simulation after the run.
    pub sim: Sim<Raft>,
    /// Sample `k` is at `k` ms: one state per node.
    pub samples: Vec<Vec<NodeState>>,
    /// The crashed leader.
    pub crashed: usize,
    /// When it crashed, ms.
    pub crash_at: f64,
    /// The first leader: (ms, node, term).
    pub first: (f64, usize, u64),
    /// The leader after the crash, if one was elected: (ms, node, term).
    pub second: Option<(f64, usize, u64)>,
}

impl WatchParams {
    /// Checks the sizes and times.
    pub fn validate(&self) -> Result<()> {
        check_count("nodes", self.nodes, 3, 9, "servers")?;
        check_count("clients", self.clients, 1, 10, "clients")?;
        self.cfg.validate()?;
        let (a, b) = self.delay_ms;
        if !(a >= 0.0 && a <= b && b <= 1_000.0) {
            return Err(Error::invalid(
                "delay_ms",
                format!("{}–{}", crate::plot::fmt_num(a), crate::plot::fmt_num(b)),
                "0 <= lo <= hi <= 1,000 ms",
            ));
        }
        if !(self.think_ms >= 0.0 && self.think_ms <= 10_000.0) {
            return Err(Error::invalid("think_ms", self.think_ms, "0 to 10,000 ms"));
        }
        if !(self.horizon_ms >= 100.0 && self.horizon_ms <= 20_000.0) {
            return Err(Error::invalid(
                "horizon_ms",
                self.horizon_ms,
                "100 to 20,000 ms (one sample per ms)",
            ));
        }
        if !(self.crash_at_ms > 0.0 && self.crash_at_ms < self.horizon_ms) {
            return Err(Error::invalid(
                "crash_at_ms",
                self.crash_at_ms,
                "a time inside the run (0 < crash_at_ms < horizon_ms)",
            ));
        }
        Ok(())
    }

    /// Runs it; errs if no leader is elected before the crash.
    pub fn run(&self) -> Result<WatchedRun> {
        self.validate()?;
        let (a, b) = self.delay_ms;
        let lat = Latency::uniform(SimDuration::from_ms_f64(a)?, SimDuration::from_ms_f64(b)?)?;
        let mut sim = Sim::builder()
            .seed(self.seed)
            .link(LinkConfig::new(lat))
            .trace(TraceCap::first(200_000))
            .build(vec![Raft::new(self.cfg); self.nodes])?;
        attach_invariants(&mut sim);
        let mut w = RaftWorkload::new(self.nodes, self.clients, 100_000, ms(500));
        w.think = SimDuration::from_ms_f64(self.think_ms)?;
        sim.set_workload(self.clients, w)?;
        let leader = |sim: &Sim<Raft>| {
            (0..sim.nodes().len()).find(|&i| sim.is_up(i) && sim.nodes()[i].is_leader())
        };
        let mut samples = Vec::new();
        let (mut first, mut second, mut crashed) = (None, None, None);
        let crash_ms = self.crash_at_ms.round() as usize;
        for k in 0..=self.horizon_ms as usize {
            sim.run_until_time(SimTime::from_start(ms(k as u64)))?;
            if k == crash_ms {
                let Some(l) = leader(&sim) else {
                    return Err(Error::invalid(
                        "crash_at_ms",
                        self.crash_at_ms,
                        "a time after the first leader is elected (later)",
                    ));
                };
                sim.crash(l)?;
                crashed = Some(l);
            }
            if let Some(l) = leader(&sim) {
                let at = (k as f64, l, sim.nodes()[l].term);
                if first.is_none() {
                    first = Some(at);
                } else if crashed.is_some() && second.is_none() {
                    second = Some(at);
                }
            }
            samples.push(sample(&sim));
        }
        Ok(WatchedRun {
            sim,
            samples,
            crashed: crashed.expect("crash_at_ms < horizon_ms"),
            crash_at: crash_ms as f64,
            first: first.expect("a leader before the crash"),
            second,
        })
    }
}

impl std::fmt::Debug for WatchedRun {
    /// The leaders and the crash (the simulation itself is not printed).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchedRun")
            .field("first", &self.first)
            .field("crashed", &self.crashed)
            .field("crash_at", &self.crash_at)
            .field("second", &self.second)
            .finish_non_exhaustive()
    }
}

fn sample(sim: &Sim<Raft>) -> Vec<NodeState> {
    (0..sim.nodes().len())
        .map(|i| {
            let n = &sim.nodes()[i];
            NodeState {
                up: sim.is_up(i),
                role: n.role,
                term: n.term,
                log: sim.disk(i).map_or(0, |d| d.working().log.len()),
                commit: n.commit,
            }
        })
        .collect()
}

/// The lanes of the diagrams and rows of the role chart.
fn lanes(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("node {i}")).collect()
}

impl WatchedRun {
    /// Milliseconds without a leader after the crash (None: none elected).
    pub fn leaderless_ms(&self) -> Option<f64> {
        self.second.map(|(t, _, _)| t - self.crash_at)
    }

    /// The highest commit index at the end of the run.
    pub fn committed(&self) -> u64 {
        let last = self.samples.last().map_or(&[][..], |s| &s[..]);
        last.iter().map(|s| s.commit).max().unwrap_or(0)
    }

    /// Each node's role over time, one bar per node (its terms in the
    /// row's name): follower, candidate, leader, down.
    pub fn roles_chart(&self) -> Result<Figure> {
        let n = self.samples.first().map_or(0, |s| s.len());
        let part = |s: &NodeState| match (s.up, s.role) {
            (false, _) => 3,
            (true, Role::Follower) => 0,
            (true, Role::PreCandidate | Role::Candidate) => 1,
            (true, Role::Leader) => 2,
        };
        let rows: Vec<(String, Vec<Segment>)> = (0..n)
            .map(|i| {
                let mut segs: Vec<Segment> = Vec::new();
                for (k, s) in self.samples.iter().enumerate() {
                    let p = part(&s[i]);
                    match segs.last_mut() {
                        Some(last) if last.part == p => last.end = k as f64 + 1.0,
                        _ => segs.push(Segment::new(k as f64, k as f64 + 1.0, p)),
                    }
                }
                // A crashed node's state is gone: its highest term seen.
                let term = self.samples.iter().map(|s| s[i].term).max().unwrap_or(0);
                (format!("node {i} (term {term})"), segs)
            })
            .collect();
        let parts = ["follower", "candidate", "leader", "down"].map(String::from);
        segment_chart(
            &rows,
            &parts,
            Opts::new("Who leads: each node's role, the leader crashing at 1 s")
                .x_label("time (ms)"),
        )
    }

    /// The longest log and the highest commit index over time, the
    /// leaderless stretch after the crash shaded.
    pub fn log_chart(&self) -> Result<Figure> {
        let pick = |f: fn(&NodeState) -> f64| -> Vec<(f64, f64)> {
            let step = 10;
            (0..self.samples.len())
                .step_by(step)
                .map(|k| {
                    let v = self.samples[k]
                        .iter()
                        .filter(|s| s.up)
                        .map(f)
                        .fold(0.0, f64::max);
                    (k as f64, v)
                })
                .collect()
        };
        let end = self.second.map_or(self.samples.len() as f64, |s| s.0);
        time_series(
            &[
                Series::new("log length (longest)", pick(|s| s.log as f64)),
                Series::new("commit index (highest)", pick(|s| s.commit as f64)),
            ],
            &[Window::new(self.crash_at, end, "no leader")],
            Opts::new("The log grows and commits, except without a leader")
                .x_label("time (ms)")
                .y_label("entries"),
        )
    }

    /// The message diagram of `from..until` ms, node messages only, times
    /// shifted to start at 0.
    fn diagram(&self, from: f64, until: f64, title: &str) -> Result<Figure> {
        let n = self.samples.first().map_or(0, |s| s.len());
        let end = SimTime::from_start(SimDuration::from_ms_f64(until)?);
        let mut d = SequenceDiagram::from_trace(self.sim.trace(), &lanes(n), end);
        d.arrows
            .retain(|a| a.sent >= from && a.from < n && a.to < n);
        d.marks.retain(|m| {
            m.at >= from
                && m.lane < n
                && match m.kind {
                    MarkKind::Note => m.label.starts_with("leader"),
                    MarkKind::Crash => true,
                    _ => false,
                }
        });
        for a in &mut d.arrows {
            a.sent -= from;
            if let Some(r) = a.received.as_mut() {
                *r -= from;
            }
        }
        for m in &mut d.marks {
            m.at -= from;
        }
        sequence_diagram(
            &d,
            Opts::new(title).y_label(format!("time (ms) from {from:.0} ms")),
        )
    }

    /// The first election: from the first vote request to the new
    /// leader's first heartbeats answered.
    pub fn election_diagram(&self) -> Result<Figure> {
        let (t, _, _) = self.first;
        let start = self.first_candidate(0.0).unwrap_or(0.0);
        self.diagram(
            start,
            t + 20.0,
            "The first election: votes asked, granted, then heartbeats",
        )
    }

    /// The election after the leader's crash, from the crash to the new
    /// leader's first heartbeats answered.
    pub fn failover_diagram(&self) -> Result<Figure> {
        let end = self.second.map_or(self.crash_at + 400.0, |s| s.0 + 20.0);
        let start = self.first_candidate(self.crash_at).unwrap_or(self.crash_at);
        self.diagram(
            start - 1.0,
            end,
            "After the leader crashes: a follower times out and wins",
        )
    }

    /// The first ms at or after `from` at which some node is a candidate.
    fn first_candidate(&self, from: f64) -> Option<f64> {
        self.samples
            .iter()
            .enumerate()
            .skip(from as usize)
            .find(|(_, s)| {
                s.iter()
                    .any(|n| n.up && matches!(n.role, Role::Candidate | Role::PreCandidate))
            })
            .map(|(k, _)| (k as f64 - 1.0).max(0.0))
    }
}
