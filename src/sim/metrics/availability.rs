//! Per-node up/down history and the availability it implies.
//!
//! A fault plan crashes and recovers nodes; [`UpDownLog`] records those
//! transitions as they happen, and [`UpDownLog::finish`] turns them into an
//! [`AvailabilityReport`]: per-node down intervals, per-node availability, and
//! the fraction of time at least k nodes were up — the measured counterpart of
//! [`theory::k_of_n_availability`](crate::measure::theory::k_of_n_availability).
//!
//! All arithmetic is on integer nanoseconds, so the fractions are exact
//! ratios of integers and do not depend on the order events were summed in.

use super::time_average::TimeAverage;
use crate::error::{Error, Result};
use crate::sim::time::{SimDuration, SimTime};
use serde::Serialize;

/// Most windows [`AvailabilityReport::windowed`] will produce: a guard against
/// a 1 ns window over an hour-long run filling memory.
pub const MAX_WINDOWS: u64 = 1_000_000;

/// Records when each node of a cluster goes down and comes back up.
///
/// All nodes start up at `start`. Transitions must be reported in
/// non-decreasing time order across the whole cluster (the order a simulator
/// produces them); repeating a state (down when already down) is ignored, so
/// fault injectors need not track state themselves.
///
/// ```
/// use thinkdist::sim::time::{secs, SimTime};
/// use thinkdist::sim::metrics::UpDownLog;
///
/// let mut log = UpDownLog::new(3, SimTime::ZERO)?;
/// log.set_down(0, SimTime::from_start(secs(2)))?;
/// log.set_up(0, SimTime::from_start(secs(4)))?;
/// let report = log.finish(SimTime::from_start(secs(10)))?;
/// assert_eq!(report.node_availability(0)?, 0.8);
/// assert_eq!(report.system_availability(3)?, 0.8); // all 3 up
/// assert_eq!(report.system_availability(2)?, 1.0); // a majority always up
/// # Ok::<(), thinkdist::Error>(())
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct UpDownLog {
    start: SimTime,
    last: SimTime,
    down_since: Vec<Option<SimTime>>,
    down: Vec<Vec<(SimTime, SimTime)>>,
}

impl UpDownLog {
    /// A log for `nodes` nodes (numbered `0..nodes`), all up at `start`.
    /// Errors if `nodes` is 0.
    pub fn new(nodes: usize, start: SimTime) -> Result<Self> {
        crate::error::check_count("nodes", nodes, 1, crate::error::limits::NODES, "nodes")?;
        Ok(UpDownLog {
            start,
            last: start,
            down_since: vec![None; nodes],
            down: vec![Vec::new(); nodes],
        })
    }

    /// Number of nodes in the cluster.
    pub fn nodes(&self) -> usize {
        self.down_since.len()
    }

    /// Whether `node` is currently up. Errors if `node` is out of range.
    pub fn is_up(&self, node: usize) -> Result<bool> {
        self.check_node(node)?;
        Ok(self.down_since[node].is_none())
    }

    /// Number of nodes currently up.
    pub fn up_count(&self) -> usize {
        self.down_since.iter().filter(|d| d.is_none()).count()
    }

    fn check_node(&self, node: usize) -> Result<()> {
        let n = self.nodes();
        if node < n {
            Ok(())
        } else {
            Err(Error::invalid(
                "node",
                node,
                &format!("a node index in [0, {}] (the cluster has {n} nodes)", n - 1),
            ))
        }
    }

    fn check_time(&self, t: SimTime) -> Result<()> {
        if t < self.last {
            Err(Error::invalid(
                "t",
                t,
                &format!(
                    "a time ≥ {} (the last transition or the start): transitions must be \
                     reported in non-decreasing time order",
                    self.last
                ),
            ))
        } else {
            Ok(())
        }
    }

    /// Marks `node` down from time `t`. Ignored (but still time-checked) if
    /// the node is already down. Errors if `node` is out of range or `t` is
    /// earlier than the previous transition or the start.
    pub fn set_down(&mut self, node: usize, t: SimTime) -> Result<()> {
        self.check_node(node)?;
        self.check_time(t)?;
        self.last = t;
        if self.down_since[node].is_none() {
            self.down_since[node] = Some(t);
        }
        Ok(())
    }

    /// Marks `node` up from time `t`. Ignored (but still time-checked) if the
    /// node is already up. Same errors as [`set_down`](Self::set_down).
    pub fn set_up(&mut self, node: usize, t: SimTime) -> Result<()> {
        self.check_node(node)?;
        self.check_time(t)?;
        self.last = t;
        if let Some(since) = self.down_since[node].take() {
            if t > since {
                self.down[node].push((since, t));
            }
        }
        Ok(())
    }

    /// The report for the period `[start, end]`; nodes still down are
    /// counted as down until `end`. Takes `&self`, so a notebook can look at a
    /// run half-way and keep logging.
    ///
    /// Zero-length outages (down and up at the same instant) are dropped.
    /// Errors if `end` is not after the start, or is earlier than the last
    /// transition.
    pub fn finish(&self, end: SimTime) -> Result<AvailabilityReport> {
        if end <= self.start {
            return Err(Error::invalid(
                "end",
                end,
                &format!("a time after the start {}", self.start),
            ));
        }
        if end < self.last {
            return Err(Error::invalid(
                "end",
                end,
                &format!("a time ≥ the last transition at {}", self.last),
            ));
        }
        let mut down = self.down.clone();
        for (iv, since) in down.iter_mut().zip(&self.down_since) {
            if let Some(s) = *since {
                if end > s {
                    iv.push((s, end));
                }
            }
        }
        Ok(AvailabilityReport {
            start: self.start,
            end,
            down,
        })
    }
}

/// Up/down history of a cluster over `[start, end]`, with the availability
/// figures computed from it. Built by [`UpDownLog::finish`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AvailabilityReport {
    start: SimTime,
    end: SimTime,
    down: Vec<Vec<(SimTime, SimTime)>>,
}

/// A maximal stretch of time during which `up` nodes were up.
#[derive(Debug, Clone, Copy)]
struct Segment {
    from: u64,
    to: u64,
    up: usize,
}

impl AvailabilityReport {
    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.down.len()
    }

    /// Start of the observed period.
    pub fn start(&self) -> SimTime {
        self.start
    }

    /// End of the observed period.
    pub fn end(&self) -> SimTime {
        self.end
    }

    /// Length of the observed period.
    pub fn duration(&self) -> SimDuration {
        self.end - self.start
    }

    fn check_node(&self, node: usize) -> Result<()> {
        let n = self.nodes();
        if node < n {
            Ok(())
        } else {
            Err(Error::invalid(
                "node",
                node,
                &format!("a node index in [0, {}] (the cluster has {n} nodes)", n - 1),
            ))
        }
    }

    fn check_k(&self, k: usize) -> Result<()> {
        let n = self.nodes();
        if (1..=n).contains(&k) {
            Ok(())
        } else {
            Err(Error::invalid(
                "k",
                k,
                &format!("a number of nodes in [1, {n}] (the cluster size)"),
            ))
        }
    }

    /// The `[down, up)` intervals of `node`, in time order.
    /// Errors if `node` is out of range.
    pub fn down_intervals(&self, node: usize) -> Result<&[(SimTime, SimTime)]> {
        self.check_node(node)?;
        Ok(&self.down[node])
    }

    /// Total time `node` was down. Errors if `node` is out of range.
    pub fn node_downtime(&self, node: usize) -> Result<SimDuration> {
        self.check_node(node)?;
        Ok(SimDuration(
            self.down[node]
                .iter()
                .map(|&(a, b)| (b - a).as_nanos())
                .sum(),
        ))
    }

    /// Fraction of `[start, end]` during which `node` was up.
    /// Errors if `node` is out of range.
    pub fn node_availability(&self, node: usize) -> Result<f64> {
        let down = self.node_downtime(node)?.as_nanos();
        let total = self.duration().as_nanos();
        Ok((total - down) as f64 / total as f64)
    }

    /// [`node_availability`](Self::node_availability) of every node, by index.
    pub fn node_availabilities(&self) -> Vec<f64> {
        (0..self.nodes())
            .map(|i| self.node_availability(i).unwrap_or(0.0))
            .collect()
    }

    /// The period cut at every transition, with the number of nodes up in
    /// each piece: a sweep over all down/up times merged and sorted.
    fn segments(&self) -> Vec<Segment> {
        let mut events: Vec<(u64, i64)> = Vec::new();
        for iv in &self.down {
            for &(a, b) in iv {
                events.push((a.as_nanos(), -1));
                events.push((b.as_nanos(), 1));
            }
        }
        events.sort_unstable();
        let mut segs = Vec::with_capacity(events.len() + 1);
        let mut up = self.nodes() as i64;
        let mut from = self.start.as_nanos();
        let mut i = 0;
        while i < events.len() {
            let t = events[i].0;
            if t > from {
                segs.push(Segment {
                    from,
                    to: t,
                    up: up as usize,
                });
                from = t;
            }
            while i < events.len() && events[i].0 == t {
                up += events[i].1;
                i += 1;
            }
        }
        let end = self.end.as_nanos();
        if end > from {
            segs.push(Segment {
                from,
                to: end,
                up: up as usize,
            });
        }
        segs
    }

    /// Total time during which at least `k` nodes were up.
    /// Errors if `k` is 0 or larger than the cluster.
    pub fn up_time(&self, k: usize) -> Result<SimDuration> {
        self.check_k(k)?;
        // The time integral of the step function "at least k up" (0 or 1).
        let mut up = TimeAverage::new(self.start);
        for seg in self.segments() {
            up.set(SimTime(seg.from), i64::from(seg.up >= k))?;
        }
        let ns = up.integral(self.end)?;
        Ok(SimDuration(u64::try_from(ns).unwrap_or(u64::MAX)))
    }

    /// Fraction of `[start, end]` during which at least `k` nodes were up:
    /// the measured availability of a service that needs k replicas (k = 1
    /// for "any replica", [`majority`](crate::measure::theory::majority) for a quorum).
    /// Exact: a sweep over the merged transition times in integer
    /// nanoseconds. Errors if `k` is 0 or larger than the cluster.
    pub fn system_availability(&self, k: usize) -> Result<f64> {
        let up = self.up_time(k)?.as_nanos();
        Ok(up as f64 / self.duration().as_nanos() as f64)
    }

    /// The maximal intervals `[from, to)` during which fewer than `k` nodes
    /// were up: the outages of a service that needs k replicas, for a
    /// "service" lane under the per-node lanes of a timeline chart.
    /// Errors if `k` is 0 or larger than the cluster.
    pub fn system_down_intervals(&self, k: usize) -> Result<Vec<(SimTime, SimTime)>> {
        self.check_k(k)?;
        let mut out: Vec<(SimTime, SimTime)> = Vec::new();
        for s in self.segments().into_iter().filter(|s| s.up < k) {
            match out.last_mut() {
                Some(last) if last.1.as_nanos() == s.from => last.1 = SimTime(s.to),
                _ => out.push((SimTime(s.from), SimTime(s.to))),
            }
        }
        Ok(out)
    }

    /// Availability (at least `k` nodes up) in consecutive **tumbling**
    /// windows of length `window`, as `(window start in seconds, fraction)`
    /// points for an "availability over time" chart.
    ///
    /// Windows are `[start + i·w, start + (i+1)·w)`, non-overlapping; the last
    /// one is cut at `end` and its fraction is of its actual (shorter) length.
    /// The x value is the window's start in seconds since time zero.
    ///
    /// Errors if `k` is 0 or larger than the cluster, if `window` is zero, or
    /// if the period would need more than [`MAX_WINDOWS`] windows.
    ///
    /// ```
    /// use thinkdist::sim::time::{secs, SimTime};
    /// use thinkdist::sim::metrics::UpDownLog;
    ///
    /// let mut log = UpDownLog::new(1, SimTime::ZERO)?;
    /// log.set_down(0, SimTime::from_start(secs(5)))?;
    /// log.set_up(0, SimTime::from_start(secs(15)))?;
    /// let w = log.finish(SimTime::from_start(secs(20)))?.windowed(1, secs(10))?;
    /// assert_eq!(w, vec![(0.0, 0.5), (10.0, 0.5)]);
    /// # Ok::<(), thinkdist::Error>(())
    /// ```
    pub fn windowed(&self, k: usize, window: SimDuration) -> Result<Vec<(f64, f64)>> {
        self.check_k(k)?;
        let w = window.as_nanos();
        if w == 0 {
            return Err(Error::invalid("window", window, "a duration > 0"));
        }
        let (start, end) = (self.start.as_nanos(), self.end.as_nanos());
        let count = (end - start).div_ceil(w);
        if count > MAX_WINDOWS {
            return Err(Error::invalid(
                "window",
                window,
                &format!(
                    "a longer window: {} / {window} would give {count} windows, more than {MAX_WINDOWS}",
                    self.duration()
                ),
            ));
        }
        let segs = self.segments();
        let mut out = Vec::with_capacity(count as usize);
        let mut j = 0;
        let mut ws = start;
        while ws < end {
            let we = ws.saturating_add(w).min(end);
            while j < segs.len() && segs[j].to <= ws {
                j += 1;
            }
            let mut up = 0u64;
            let mut m = j;
            while m < segs.len() && segs[m].from < we {
                let s = segs[m];
                if s.up >= k {
                    up += s.to.min(we) - s.from.max(ws);
                }
                m += 1;
            }
            out.push((ws as f64 / 1e9, up as f64 / (we - ws) as f64));
            ws = we;
        }
        Ok(out)
    }

    /// Every node's down intervals as `(from, to)` in seconds since time
    /// zero, indexed by node: the data for a per-node outage timeline chart.
    pub fn intervals_for_chart(&self) -> Vec<Vec<(f64, f64)>> {
        self.down
            .iter()
            .map(|iv| {
                iv.iter()
                    .map(|&(a, b)| (a.as_secs_f64(), b.as_secs_f64()))
                    .collect()
            })
            .collect()
    }
}
