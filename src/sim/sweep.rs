//! Parameter sweeps: one experiment over a grid of points × seeds, on all
//! cores, with results that do not depend on the number of threads.
//!
//! A sweep is a list of *jobs*, one per `(point, seed)` pair, numbered point
//! by point (job `i * seeds + j` is point `i` with seed `j`). Worker threads
//! take the next job number from one atomic counter and store each result at
//! its job's index, so the output is exactly what running the jobs one by one
//! in order would give, whatever the thread count and however the operating
//! system schedules the threads. The seeds come either from a list you give
//! ([`Sweep::seed_list`], the same seeds at every point: common random
//! numbers) or are derived from a base seed and the job's indices
//! ([`Sweep::seeds`]: `derive_seed(base, domain::SWEEP, point, seed_index)`).
//!
//! Progress goes to **stdout** (a notebook's headless run treats stderr output
//! as a failure), for sweeps of at least [`PROGRESS_MIN_RUNS`] runs, one line
//! per quarter of the runs:
//!
//! ```text
//! sweep: 50 of 200 runs done
//! ```
//!
//! Why counts and nothing else: whatever a cell prints is saved in the
//! notebook, so a line with a wall-clock time ("3.1 s elapsed") or one
//! printed only when the sweep happened to be slow makes two runs of the same
//! notebook differ. These lines depend on the number of runs alone: same
//! seed, same parameters, same output, on every machine and thread count.
//! Why whole lines: evcxr forwards a cell's output line by line, so a status
//! overwritten in place with `\r` would show nothing until the sweep ended.
//!
//! ```
//! use thinkdist::prelude::*; // brings `SweepCi`, for `mean_ci` on results
//! use thinkdist::sim::sweep::Sweep;
//!
//! // Mean time in system of an M/M/1 queue at three arrival rates, 2 seeds each.
//! let rates = vec![20.0, 50.0, 80.0];
//! let results = Sweep::new(rates)
//!     .seeds(2)
//!     .progress(false)
//!     .run(|&rate, seed| {
//!         let run = Queue { seed, arrival_rate: rate, jobs: 2_000, warmup: 200, ..Default::default() }
//!             .run()?;
//!         Ok(run.mean_ms)
//!     })?;
//! assert_eq!(results.len(), 3);
//! for r in &results {
//!     let ci = r.mean_ci(|&m| m)?;
//!     println!("λ = {:>4}: {:.1} ± {:.1} ms", r.point, ci.mean, ci.half_width);
//! }
//! // Busier queues wait longer.
//! assert!(results[2].values[0] > results[0].values[0]);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::sim::rng::{derive_seed, domain};
use std::any::Any;
use std::io::Write;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Sweeps of fewer runs than this print no progress (change it with
/// [`Sweep::progress_min_runs`]).
pub const PROGRESS_MIN_RUNS: usize = 100;
/// Progress lines per sweep: one per quarter of the runs.
const LINES: usize = 4;

/// Where progress lines go instead of stdout (for tests).
type Sink = Arc<Mutex<Vec<u8>>>;

/// Where the seeds of each point come from.
#[derive(Debug, Clone)]
enum Seeds {
    /// `n` seeds per point, derived from the base seed and the job's indices.
    Derived { base: u64, n: usize },
    /// The same explicit seeds at every point.
    List(Vec<u64>),
}

/// A sweep of one experiment over `points` × seeds; see the [module
/// docs](self).
///
/// Defaults: one derived seed per point (base seed 0), as many threads as
/// [`std::thread::available_parallelism`] reports, progress on for sweeps of
/// at least [`PROGRESS_MIN_RUNS`] runs, lines named "sweep".
#[derive(Debug, Clone)]
pub struct Sweep<P> {
    points: Vec<P>,
    seeds: Seeds,
    threads: Option<usize>,
    progress: bool,
    min_runs: usize,
    name: String,
    sink: Option<Sink>,
}

/// The results of one point of a sweep, in seed order.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepResult<P, R> {
    /// The point's position in the list given to [`Sweep::new`].
    pub index: usize,
    /// The point itself.
    pub point: P,
    /// The seed of each run at this point.
    pub seeds: Vec<u64>,
    /// The result of each run, `values[j]` for `seeds[j]`.
    pub values: Vec<R>,
}

/// How one job ended: a value, an error, or a panic to re-raise.
enum Outcome<R> {
    Done(Result<R>),
    Panicked(Box<dyn Any + Send>),
    /// Not run because an earlier job (lower index) already failed.
    Skipped,
}

impl<P: Sync> Sweep<P> {
    /// A sweep over `points` (one derived seed each until [`Sweep::seeds`]
    /// or [`Sweep::seed_list`] says otherwise).
    pub fn new(points: Vec<P>) -> Self {
        Sweep {
            points,
            seeds: Seeds::Derived { base: 0, n: 1 },
            threads: None,
            progress: true,
            min_runs: PROGRESS_MIN_RUNS,
            name: "sweep".into(),
            sink: None,
        }
    }

    /// Runs every point with `n` seeds derived from the base seed (see
    /// [`Sweep::base_seed`]); `n = 0` makes [`Sweep::run`] fail.
    pub fn seeds(mut self, n: usize) -> Self {
        let base = match self.seeds {
            Seeds::Derived { base, .. } => base,
            Seeds::List(_) => 0,
        };
        self.seeds = Seeds::Derived { base, n };
        self
    }

    /// The seed the derived seeds come from (default 0).
    pub fn base_seed(mut self, base: u64) -> Self {
        let n = match &self.seeds {
            Seeds::Derived { n, .. } => *n,
            Seeds::List(l) => l.len(),
        };
        self.seeds = Seeds::Derived { base, n };
        self
    }

    /// Runs every point with exactly these seeds (common random numbers);
    /// an empty list makes [`Sweep::run`] fail.
    pub fn seed_list(mut self, seeds: Vec<u64>) -> Self {
        self.seeds = Seeds::List(seeds);
        self
    }

    /// Uses `k` worker threads (default: the number of cores); the results
    /// do not depend on it. `k = 0` makes [`Sweep::run`] fail.
    pub fn threads(mut self, k: usize) -> Self {
        self.threads = Some(k);
        self
    }

    /// Prints a line per quarter of the runs to stdout, for sweeps of at
    /// least [`PROGRESS_MIN_RUNS`] runs (default on; see the [module
    /// docs](self)).
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }

    /// Prints progress for sweeps of at least `n` runs (default
    /// [`PROGRESS_MIN_RUNS`]; 0 or 1: every sweep), for a few long runs.
    pub fn progress_min_runs(mut self, n: usize) -> Self {
        self.min_runs = n;
        self
    }

    /// What progress lines call the sweep (default "sweep").
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Writes progress lines into `sink` instead of stdout (for tests).
    #[doc(hidden)]
    pub fn progress_sink(mut self, sink: Arc<Mutex<Vec<u8>>>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// How many seeds each point runs with.
    pub fn seeds_per_point(&self) -> usize {
        match &self.seeds {
            Seeds::Derived { n, .. } => *n,
            Seeds::List(l) => l.len(),
        }
    }

    /// The seed of point `point` in run `j`.
    fn seed_of(&self, point: usize, j: usize) -> u64 {
        match &self.seeds {
            Seeds::Derived { base, .. } => {
                derive_seed(*base, domain::SWEEP, point as u64, j as u64)
            }
            Seeds::List(l) => l[j],
        }
    }

    /// Runs `f(point, seed)` for every point and seed and returns one
    /// [`SweepResult`] per point, in the order of the points.
    ///
    /// If some runs fail, returns the error of the failed run with the lowest
    /// job index (runs after it may be skipped). A run that panics re-raises
    /// its panic here, by the same rule. Errors: zero seeds, zero threads.
    pub fn run<R, F>(self, f: F) -> Result<Vec<SweepResult<P, R>>>
    where
        R: Send,
        F: Fn(&P, u64) -> Result<R> + Sync,
    {
        let per = self.seeds_per_point();
        if per == 0 {
            return Err(Error::invalid(
                "sweep seeds",
                0,
                "at least 1 seed per point",
            ));
        }
        let threads = match self.threads {
            Some(0) => {
                return Err(Error::invalid("sweep threads", 0, "at least 1 thread"));
            }
            Some(k) => k,
            None => std::thread::available_parallelism().map_or(1, |k| k.get()),
        };
        let jobs = self.points.len().saturating_mul(per);
        if jobs > crate::error::limits::RUNS {
            return Err(Error::too_big(
                "points × seeds",
                format!("{} × {per}", self.points.len()),
                "runs",
                crate::error::limits::RUNS,
            ));
        }
        let seeds: Vec<u64> = (0..jobs).map(|k| self.seed_of(k / per, k % per)).collect();
        let progress = Progress {
            on: self.progress && jobs >= self.min_runs.max(1),
            name: &self.name,
            jobs,
            done: AtomicUsize::new(0),
            printed: Mutex::new(0),
            sink: self.sink.clone(),
        };

        // Lowest index of a failed job so far (`jobs` if none): later jobs
        // are skipped, earlier ones still run, so the reported failure is
        // the same for every thread count.
        let first_failure = AtomicUsize::new(jobs);
        let run_job = |k: usize| -> Outcome<R> {
            if k > first_failure.load(Ordering::Relaxed) {
                // Counted as done, so the progress lines do not depend on
                // which jobs the threads skipped.
                progress.job_done();
                return Outcome::Skipped;
            }
            let point = &self.points[k / per];
            let out = match catch_unwind(AssertUnwindSafe(|| f(point, seeds[k]))) {
                Ok(r) => Outcome::Done(r),
                Err(p) => Outcome::Panicked(p),
            };
            if !matches!(out, Outcome::Done(Ok(_))) {
                first_failure.fetch_min(k, Ordering::Relaxed);
            }
            progress.job_done();
            out
        };

        let mut outcomes: Vec<Option<Outcome<R>>> = (0..jobs).map(|_| None).collect();
        let workers = threads.min(jobs);
        if workers <= 1 {
            for (k, slot) in outcomes.iter_mut().enumerate() {
                *slot = Some(run_job(k));
            }
        } else {
            let next = AtomicUsize::new(0);
            let parts: Vec<Vec<(usize, Outcome<R>)>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..workers)
                    .map(|_| {
                        s.spawn(|| {
                            let mut mine = Vec::new();
                            loop {
                                let k = next.fetch_add(1, Ordering::Relaxed);
                                if k >= jobs {
                                    break;
                                }
                                mine.push((k, run_job(k)));
                            }
                            mine
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    // Jobs catch their own panics, so this never re-raises.
                    .map(|h| h.join().unwrap_or_else(|p| resume_unwind(p)))
                    .collect()
            });
            for (k, out) in parts.into_iter().flatten() {
                outcomes[k] = Some(out);
            }
        }

        let mut results: Vec<SweepResult<P, R>> = Vec::with_capacity(self.points.len());
        let mut outcomes = outcomes.into_iter();
        for (index, point) in self.points.into_iter().enumerate() {
            let mut values = Vec::with_capacity(per);
            for _ in 0..per {
                match outcomes.next().flatten() {
                    Some(Outcome::Done(Ok(v))) => values.push(v),
                    Some(Outcome::Done(Err(e))) => return Err(e),
                    Some(Outcome::Panicked(p)) => resume_unwind(p),
                    // Only jobs after a failure are skipped, and the failure
                    // returns above before they are reached.
                    Some(Outcome::Skipped) | None => {
                        unreachable!("sweep job skipped without an earlier failure")
                    }
                }
            }
            results.push(SweepResult {
                index,
                point,
                seeds: seeds[index * per..(index + 1) * per].to_vec(),
                values,
            });
        }
        Ok(results)
    }
}

/// Progress lines: one per quarter of the jobs, with counts only, in order
/// whatever the threads do.
struct Progress<'a> {
    on: bool,
    name: &'a str,
    jobs: usize,
    done: AtomicUsize,
    /// Quarters already reported.
    printed: Mutex<usize>,
    sink: Option<Sink>,
}

impl Progress<'_> {
    fn job_done(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if !self.on || self.jobs == 0 {
            return;
        }
        let reached = done * LINES / self.jobs;
        let Ok(mut printed) = self.printed.lock() else {
            return;
        };
        // Each quarter is printed once, in order, with the count at which
        // it is reached (not the count when a thread got here).
        while *printed < reached {
            let before = (*printed * self.jobs).div_ceil(LINES);
            *printed += 1;
            let at = (*printed * self.jobs).div_ceil(LINES);
            if at == before {
                continue; // fewer jobs than lines: one line per job
            }
            let line = format!("{}: {at} of {} runs done\n", self.name, self.jobs);
            match &self.sink {
                Some(sink) => {
                    if let Ok(mut buf) = sink.lock() {
                        buf.extend_from_slice(line.as_bytes());
                    }
                }
                None => {
                    let mut out = std::io::stdout().lock();
                    // Progress is a courtesy: a closed stdout must not fail
                    // the sweep.
                    let _ = out.write_all(line.as_bytes());
                    let _ = out.flush();
                }
            }
        }
    }
}
