//! Chapter 5, the cost of a sync: commit latency and throughput of undo
//! logging (four syncs per commit, all before the answer) against redo
//! logging (two, one before the answer), and what group commit buys
//! (see [`crate::txn::group_commit`]).
//!
//! Two experiments on the same log:
//! - [`SyncCostParams::group_commit`]: many clients commit back to back
//!   (the disk never idles); throughput against the most commits one sync
//!   may serve. Theory: a sync of `sync_time` serves `batch` commit
//!   phases and a commit needs `k` syncs, so throughput = batch / (k ·
//!   sync_time) while enough clients wait (at least batch · k).
//! - [`SyncCostParams::window_latency`]: one client, commits far apart
//!   (nothing else on the disk); latency against the group window. Theory:
//!   a round trip, plus half a window waiting for the first sync to start,
//!   plus the syncs before the answer, each later one starting at the next
//!   multiple of the window.

use crate::error::{Error, Result};
use crate::measure::stats::{check_replications, MeanCi};
use crate::measure::SweepCi;
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::rng::{self, SimRng};
use crate::sim::sweep::Sweep;
use crate::sim::time::{ms, SimDuration};
use crate::sim::{ClientId, Invoke, Op, OpStatus, Sim, SimTime};
use crate::txn::group_commit::{GroupLog, Msg, SyncPath};
use crate::txn::logging::Logging;
use serde::Serialize;

/// The two correct schemes, in chart order.
pub const SCHEMES: [Logging; 2] = [Logging::Undo, Logging::Redo];

/// Parameters of both experiments.
#[derive(Debug, Clone, Serialize)]
pub struct SyncCostParams {
    /// Base seed (each replication derives its own).
    pub seed: u64,
    /// How long one sync takes.
    pub sync_time: SimDuration,
    /// Clients committing back to back (the throughput experiment).
    pub clients: usize,
    /// Simulated time per run; the first tenth is not measured (warm-up).
    pub duration: SimDuration,
    /// Replications per point.
    pub seeds: usize,
}

impl Default for SyncCostParams {
    /// Syncs of 5 ms; 100 clients; 5 s per run; 10 seeds.
    fn default() -> Self {
        SyncCostParams {
            seed: 1,
            sync_time: ms(5),
            clients: 100,
            duration: ms(5_000),
            seeds: 10,
        }
    }
}

/// The network's round trip (the simulator's default link: 1 ms each way).
pub const ROUND_TRIP_MS: f64 = 2.0;

/// The quiet client's pause between commits: at least this, plus an
/// exponential of the same mean (so commits arrive at random moments of
/// the window, and after the previous commit's last sync).
pub const QUIET_GAP: SimDuration = ms(100);

/// What one run measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RunMeasure {
    /// Commits answered per simulated second (after the warm-up).
    pub throughput: f64,
    /// Mean commit latency (ms), request to answer, of the measured commits.
    pub latency_ms: f64,
    /// Commit phases per sync: how many commits a sync served.
    pub per_sync: f64,
}

impl SyncCostParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if !(ms(1).0..=ms(20).0).contains(&self.sync_time.0) {
            return Err(Error::invalid(
                "sync_time",
                self.sync_time,
                "1 ms to 20 ms (the quiet client's commits must not overlap)",
            ));
        }
        if !(1..=1_000).contains(&self.clients) {
            return Err(Error::invalid(
                "clients",
                self.clients,
                "1 to 1,000 clients",
            ));
        }
        if !(ms(100).0..=ms(60_000).0).contains(&self.duration.0) {
            return Err(Error::invalid(
                "duration",
                self.duration,
                "100 ms to 60 s of simulated time",
            ));
        }
        check_replications(self.seeds as u64)
    }

    /// One run of `logging`'s log with `clients` clients; `quiet`: one
    /// commit at a time, [`QUIET_GAP`] apart (else back to back).
    pub fn run(
        &self,
        logging: Logging,
        batch: usize,
        window: SimDuration,
        clients: usize,
        quiet: bool,
        seed: u64,
    ) -> Result<RunMeasure> {
        self.validate()?;
        let log = GroupLog::new(SyncPath::of(logging)?, self.sync_time, batch, window)?;
        let mut sim = Sim::builder().seed(seed).build(vec![log])?;
        sim.set_workload(
            clients,
            move |_: ClientId, _: SimTime, r: &mut SimRng, _: Option<&Op<Msg>>| {
                // Back to back: a pause of about 0.1 ms, random so that the
                // seeds differ.
                let mean = if quiet { QUIET_GAP.0 } else { 100_000 } as f64;
                let base = if quiet { QUIET_GAP.0 } else { 0 };
                let pause = base + (mean * rng::exp1(r)) as u64;
                Some(Invoke::new(0, Msg::Commit).after(SimDuration(pause)))
            },
        )?;
        sim.run_for(self.duration)?;
        let from = SimTime(self.duration.0 / 10);
        let until = SimTime(self.duration.0);
        // Throughput: the commits answered after the warm-up (counted by
        // answer: counted by request, the commits still waiting at the end
        // would bias it down by clients / duration). Latency: the commits
        // requested after the warm-up (the first ones all arrive at once
        // and queue less than any later one).
        let ops = sim.history().ops();
        let answered = ops
            .iter()
            .filter(|o| o.status == OpStatus::Ok && o.ended().is_some_and(|e| e >= from))
            .count();
        let waits: Vec<f64> = ops
            .iter()
            .filter(|o| o.status == OpStatus::Ok && o.invoked >= from)
            .filter_map(|o| o.ended().map(|e| (e.0 - o.invoked.0) as f64 / 1e6))
            .collect();
        if answered == 0 || waits.is_empty() {
            return Err(Error::invalid(
                "duration",
                self.duration,
                "a run long enough to answer some commits",
            ));
        }
        let syncs = sim.counters().get("syncs").max(1) as f64;
        let phases = sim.counters().get("commit phases synced") as f64;
        Ok(RunMeasure {
            throughput: answered as f64 / (until.0 - from.0) as f64 * 1e9,
            latency_ms: waits.iter().sum::<f64>() / waits.len() as f64,
            per_sync: phases / syncs,
        })
    }

    /// Throughput with many clients, per scheme and most commits per sync
    /// (`batches`; 1: no group commit), window 0.
    pub fn group_commit(&self, batches: &[usize]) -> Result<GroupCommit> {
        self.validate()?;
        if batches.is_empty() {
            return Err(Error::empty("batches"));
        }
        if let Some(b) = batches.iter().find(|b| !(1..=1_000).contains(*b)) {
            return Err(Error::invalid("batch", b, "1 to 1,000 commits per sync"));
        }
        self.check_work(
            batches.len(),
            self.clients,
            batches.iter().copied().max().unwrap_or(1),
        )?;
        let grid: Vec<(Logging, usize)> = SCHEMES
            .iter()
            .flat_map(|&l| batches.iter().map(move |&b| (l, b)))
            .collect();
        let results = Sweep::new(grid)
            .base_seed(self.seed)
            .seeds(self.seeds)
            .progress(false)
            .run(|&(l, b), seed| self.run(l, b, SimDuration::ZERO, self.clients, false, seed))?;
        let mut points = vec![Vec::new(); SCHEMES.len()];
        for (k, r) in results.iter().enumerate() {
            let (l, b) = r.point;
            points[k / batches.len()].push(BatchPoint {
                batch: b,
                throughput: r.mean_ci(|v| v.throughput)?,
                latency_ms: r.mean_ci(|v| v.latency_ms)?,
                per_sync: r.mean_ci(|v| v.per_sync)?,
                theory: self.throughput_theory(l, b)?,
            });
        }
        Ok(GroupCommit {
            params: self.clone(),
            points,
        })
    }

    /// batch / (syncs per commit · sync time), commits per second.
    pub fn throughput_theory(&self, logging: Logging, batch: usize) -> Result<f64> {
        let k = SyncPath::of(logging)?.syncs() as f64;
        Ok(batch as f64 / (k * self.sync_time.as_secs_f64()))
    }

    /// Latency of one quiet client, per scheme and group window (ms),
    /// with no cap on a group.
    pub fn window_latency(&self, windows_ms: &[f64]) -> Result<WindowLatency> {
        self.validate()?;
        if windows_ms.is_empty() {
            return Err(Error::empty("windows"));
        }
        let windows = windows_ms
            .iter()
            .map(|&w| {
                if !(w == 0.0 || (0.01..=50.0).contains(&w)) {
                    return Err(Error::invalid(
                        "window",
                        w,
                        "0 (no window) or 0.01 to 50 ms (longer ones overlap the quiet client's commits)",
                    ));
                }
                SimDuration::from_ms_named("window", w)
            })
            .collect::<Result<Vec<_>>>()?;
        self.check_work(windows.len(), 1, 1)?;
        let grid: Vec<(Logging, usize)> = SCHEMES
            .iter()
            .flat_map(|&l| (0..windows.len()).map(move |i| (l, i)))
            .collect();
        let results = Sweep::new(grid)
            .base_seed(self.seed)
            .seeds(self.seeds)
            .progress(false)
            .run(|&(l, i), seed| self.run(l, 10_000, windows[i], 1, true, seed))?;
        let mut points = vec![Vec::new(); SCHEMES.len()];
        for (k, r) in results.iter().enumerate() {
            let (l, i) = r.point;
            points[k / windows.len()].push(WindowPoint {
                window_ms: windows_ms[i],
                latency_ms: r.mean_ci(|v| v.latency_ms)?,
                theory_ms: self.latency_theory(l, windows_ms[i])?,
            });
        }
        Ok(WindowLatency {
            params: self.clone(),
            points,
        })
    }

    /// A quiet commit's latency (ms) with group window `window_ms`: the
    /// round trip; half a window, on average, until the first sync may
    /// start; then the syncs before the answer, each later one starting
    /// at the first multiple of the window after the previous one ended.
    pub fn latency_theory(&self, logging: Logging, window_ms: f64) -> Result<f64> {
        let k = SyncPath::of(logging)?.syncs_before_ack() as f64;
        let s = self.sync_time.as_ms();
        let w = window_ms;
        let later = if w == 0.0 { s } else { (s / w).ceil() * w };
        Ok(ROUND_TRIP_MS + w / 2.0 + s + (k - 1.0) * later)
    }

    /// Refuses sweeps too large for a notebook cell.
    fn check_work(&self, points: usize, clients: usize, batch: usize) -> Result<()> {
        // About 6 events per commit phase; a client commits at most once
        // per round trip, and the disk serves at most `batch` phases per
        // sync.
        let per_s =
            (clients as f64 * 1e3 / ROUND_TRIP_MS).min(batch as f64 / self.sync_time.as_secs_f64());
        crate::error::check_work(
            "2 schemes × points × seeds × duration × commits per second",
            2.0 * points as f64 * self.seeds as f64 * self.duration.as_secs_f64() * per_s * 6.0,
        )
    }
}

/// One batch size of [`SyncCostParams::group_commit`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BatchPoint {
    /// The most commits one sync serves.
    pub batch: usize,
    /// Commits per second, over seeds.
    pub throughput: MeanCi,
    /// Mean commit latency (ms), over seeds.
    pub latency_ms: MeanCi,
    /// Commit phases per sync, over seeds.
    pub per_sync: MeanCi,
    /// batch / (syncs per commit · sync time).
    pub theory: f64,
}

/// Throughput against batch size, per scheme.
#[derive(Debug, Clone, Serialize)]
pub struct GroupCommit {
    /// The parameters.
    pub params: SyncCostParams,
    /// `points[i]`: [`SCHEMES`]`[i]` at each batch size.
    pub points: Vec<Vec<BatchPoint>>,
}

/// One window of [`SyncCostParams::window_latency`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WindowPoint {
    /// The group window (ms).
    pub window_ms: f64,
    /// Mean commit latency (ms), over seeds.
    pub latency_ms: MeanCi,
    /// [`SyncCostParams::latency_theory`].
    pub theory_ms: f64,
}

/// Latency against group window, per scheme.
#[derive(Debug, Clone, Serialize)]
pub struct WindowLatency {
    /// The parameters.
    pub params: SyncCostParams,
    /// `points[i]`: [`SCHEMES`]`[i]` at each window.
    pub points: Vec<Vec<WindowPoint>>,
}

/// A scheme's legend name with its syncs: "undo log (4 syncs)".
fn scheme_label(l: Logging) -> String {
    let p = SyncPath::of(l).map(|p| p.syncs()).unwrap_or(0);
    format!("{} ({p} syncs)", l.name())
}

fn measured(label: String, pts: Vec<(f64, MeanCi)>) -> Series {
    Series::new(label, pts.iter().map(|(x, m)| (*x, m.mean)).collect())
        .with_band(
            pts.iter()
                .map(|(_, m)| {
                    let (lo, hi) = m.interval();
                    (lo.max(0.0), hi)
                })
                .collect(),
        )
        .with_style(SeriesStyle::LinePoints)
}

/// One measured series and one theory series per logging scheme, from
/// each point's `(x, measured, theory)`.
fn per_scheme<P>(
    points: &[Vec<P>],
    xy: impl Fn(&P) -> (f64, MeanCi, f64),
) -> (Vec<Series>, Vec<Series>) {
    SCHEMES
        .iter()
        .zip(points)
        .map(|(l, pts)| {
            let v: Vec<_> = pts.iter().map(&xy).collect();
            (
                measured(
                    scheme_label(*l),
                    v.iter().map(|&(x, m, _)| (x, m)).collect(),
                ),
                Series::new(l.name(), v.iter().map(|&(x, _, t)| (x, t)).collect()),
            )
        })
        .unzip()
}

impl GroupCommit {
    /// Commits per second against the most commits per sync, per scheme,
    /// with the theory dashed.
    pub fn chart(&self) -> Result<Figure> {
        let (series, theory) =
            per_scheme(&self.points, |p| (p.batch as f64, p.throughput, p.theory));
        line_chart(
            &series,
            &theory,
            Opts::new(format!(
                "Group commit: one sync serves many commits ({} clients)",
                self.params.clients
            ))
            .x_label(format!(
                "most commits per sync (sync of {:.0} ms)",
                self.params.sync_time.as_ms()
            ))
            .y_label("commits per second")
            .log_x(),
        )
    }

    /// One row per scheme and batch size.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "logging",
            "most per sync",
            "commits / s",
            "theory",
            "served per sync",
            "latency (ms)",
        ]);
        for (l, pts) in SCHEMES.iter().zip(&self.points) {
            for p in pts {
                t.push_row(vec![
                    scheme_label(*l),
                    p.batch.to_string(),
                    format!("{:.0} ± {:.0}", p.throughput.mean, p.throughput.half_width),
                    format!("{:.0}", p.theory),
                    format!("{:.1}", p.per_sync.mean),
                    format!("{:.0}", p.latency_ms.mean),
                ]);
            }
        }
        t.caption(format!(
            "{} clients committing back to back, syncs of {:.0} ms; {} seeds per row, ± the 95 % \
             interval; theory: most per sync / (syncs per commit × sync time)",
            self.params.clients,
            self.params.sync_time.as_ms(),
            self.params.seeds
        ))
    }
}

impl WindowLatency {
    /// Mean commit latency against the group window, per scheme, with the
    /// theory dashed.
    pub fn chart(&self) -> Result<Figure> {
        let (series, theory) =
            per_scheme(&self.points, |p| (p.window_ms, p.latency_ms, p.theory_ms));
        line_chart(
            &series,
            &theory,
            Opts::new("The group window: a quiet commit waits for it")
                .x_label(format!(
                    "group window (ms; sync of {:.0} ms)",
                    self.params.sync_time.as_ms()
                ))
                .y_label("mean commit latency (ms)"),
        )
    }

    /// One row per scheme and window.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&["logging", "window (ms)", "latency (ms)", "theory (ms)"]);
        for (l, pts) in SCHEMES.iter().zip(&self.points) {
            for p in pts {
                t.push_row(vec![
                    scheme_label(*l),
                    format!("{}", p.window_ms),
                    format!("{:.1} ± {:.1}", p.latency_ms.mean, p.latency_ms.half_width),
                    format!("{:.1}", p.theory_ms),
                ]);
            }
        }
        t.caption(format!(
            "One client, commits at least {:.0} ms apart; syncs of {:.0} ms; {} seeds per row, ± \
             the 95 % interval; theory: round trip + window / 2 + the syncs before the answer",
            QUIET_GAP.as_ms(),
            self.params.sync_time.as_ms(),
            self.params.seeds
        ))
    }
}
