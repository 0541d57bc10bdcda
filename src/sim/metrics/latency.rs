//! Latency recording: exact samples for small runs, a histogram for big ones.
//!
//! Notebook runs come in two sizes. A few thousand requests are best kept
//! exactly, so percentiles are the real order statistics and every sample can
//! go into a histogram or CDF chart. Millions of requests would cost tens of
//! megabytes per run and per sweep point, so the streaming mode keeps an
//! [HdrHistogram](hdrhistogram::Histogram) instead: bounded memory, 3
//! significant digits (relative error ≤ 0.1 %) on every percentile.
//!
//! Both modes track count, sum, min and max exactly, so `count`, `mean`,
//! `min` and `max` agree across modes; only percentiles differ.
//!
//! An exact recorder switches itself to the histogram once it holds
//! [`EXACT_LIMIT`] samples (8 MB), so the default setting stays bounded on
//! runs of any length; [`LatencyRecorder::switched_at`] says when it did.

use crate::error::{Error, Result};
use crate::sim::time::SimDuration;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::fmt;

/// Largest value, in nanoseconds, the streaming mode stores without clamping
/// (about 146 years): the limit of an auto-resizing HdrHistogram. Larger
/// samples are recorded as this value; exact mode has no such limit.
pub const STREAMING_MAX_NANOS: u64 = (i64::MAX / 2) as u64;

/// Most synthetic samples one [`LatencyRecorder::record_correct`] call may add:
/// 10 million. In exact mode each is stored (80 MB); in streaming mode each is
/// a histogram update, and a 100 s stall at a 1 ns interval would otherwise
/// freeze a notebook that cannot be interrupted.
pub const MAX_CORRECTION_SAMPLES: u64 = 10_000_000;

/// Samples an exact recorder keeps before it switches to the histogram
/// (1 million: 8 MB).
pub const EXACT_LIMIT: usize = 1_000_000;

/// Significant decimal digits kept by the streaming mode.
pub const STREAMING_SIGFIG: u8 = 3;

#[derive(Debug, Clone)]
enum Store {
    Exact(Vec<u64>),
    Streaming(Box<Histogram<u64>>),
}

/// Records request latencies and answers percentile queries.
///
/// Two modes, chosen at construction:
///
/// - [`exact`](LatencyRecorder::exact): every sample is kept (8 bytes each).
///   Percentiles use the **nearest-rank** definition: with n sorted samples
///   x₁ ≤ … ≤ xₙ, the percentile at fraction q is x_r with r = ⌈q · n⌉ (and
///   r = 1 for q = 0). It is always one of the recorded values — never an
///   interpolation — so "p99 = 99 ms" on 1..=100 ms means a request really
///   took 99 ms.
///
/// Percentiles are **fractions** in [0, 1] everywhere in the crate: p99 is
/// `percentile(0.99)`, as in `plot::MARKED_PERCENTILES` and
/// `plot::percentile_name(0.99) == "p99"`. A value in (1, 100] (a
/// percentile written in per cent) is an error that says so.
/// - [`streaming`](LatencyRecorder::streaming): an HdrHistogram with 3
///   significant digits; memory is bounded (tens of kB) whatever the count,
///   and each percentile is within 0.1 % of a recorded value at that rank.
///
/// ```
/// use thinkdist::sim::time::ms;
/// use thinkdist::sim::metrics::LatencyRecorder;
///
/// let mut rec = LatencyRecorder::exact();
/// for i in 1..=100 {
///     rec.record(ms(i));
/// }
/// assert_eq!(rec.percentile(0.99)?, ms(99));
/// let s = rec.summary()?;
/// assert_eq!((s.count, s.p50, s.max), (100, 50.0, 100.0));
/// # Ok::<(), thinkdist::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LatencyRecorder {
    store: Store,
    /// The sample count at which an exact recorder switched to streaming.
    switched_at: Option<u64>,
    count: u64,
    sum_ns: u128,
    min_ns: u64,
    max_ns: u64,
}

impl Default for LatencyRecorder {
    /// Exact mode, the right default for notebook-sized runs.
    fn default() -> Self {
        Self::exact()
    }
}

/// Percentiles of a latency sample, in milliseconds, for tables and JSON.
///
/// Milliseconds as `f64` because that is the unit readers compare against
/// (and chart axes use); use [`LatencyRecorder::percentile`] for exact
/// integer nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Number of samples (including coordinated-omission corrections).
    pub count: u64,
    /// Arithmetic mean, ms.
    pub mean: f64,
    /// Smallest sample, ms.
    pub min: f64,
    /// Median (nearest rank in exact mode), ms.
    pub p50: f64,
    /// 90th percentile, ms.
    pub p90: f64,
    /// 99th percentile, ms.
    pub p99: f64,
    /// 99.9th percentile, ms.
    pub p999: f64,
    /// Largest sample, ms.
    pub max: f64,
}

impl fmt::Display for LatencySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "n={} mean={:.3}ms p50={:.3}ms p90={:.3}ms p99={:.3}ms p99.9={:.3}ms max={:.3}ms",
            self.count, self.mean, self.p50, self.p90, self.p99, self.p999, self.max
        )
    }
}

/// Checks a percentile given as a fraction `q` of 1 (p99 is 0.99): in
/// [0, 1], or in [0, 1) without `one_ok` (the 100th percentile of an
/// unbounded distribution is infinite). A value in (1, 100] is a percentile
/// written in per cent, and the error says how to write it.
pub fn check_fraction(param: &str, q: f64, one_ok: bool) -> Result<f64> {
    let ok = q.is_finite() && q >= 0.0 && (q < 1.0 || (one_ok && q == 1.0));
    if ok {
        return Ok(q);
    }
    let range = if one_ok { "[0, 1]" } else { "[0, 1)" };
    let hint = if q.is_finite() && q > 1.0 && q <= 100.0 {
        format!(
            "a fraction in {range}: percentiles are fractions in this crate, so p{} is {} \
             (and the median 0.5)",
            crate::error::num(q),
            crate::error::num(q / 100.0)
        )
    } else {
        format!("a fraction in {range} (p99 is 0.99, the median 0.5)")
    };
    Err(Error::invalid(param, q, &hint))
}

fn check_percentile(q: f64) -> Result<f64> {
    check_fraction("q", q, true)
}

/// Nearest rank r = ⌈q · n⌉ clamped to [1, n], as a 0-based index.
///
/// `q · n` is snapped to the nearest integer when within 1e-9 of it, so
/// that decimal percentiles do not jump to the next rank on rounding noise
/// (0.644 of 250 is 161, but evaluates to 161.00000000000003).
fn nearest_rank_index(q: f64, n: usize) -> usize {
    let x = q * n as f64;
    let r = x.round();
    let rank = if (x - r).abs() <= 1e-9 * x.max(1.0) {
        r
    } else {
        x.ceil()
    };
    (rank as usize).clamp(1, n) - 1
}

fn new_histogram() -> Histogram<u64> {
    // Cannot fail: 3 significant digits with the default bounds is a valid
    // configuration on every platform with 32-bit or wider usize.
    Histogram::new(STREAMING_SIGFIG).expect("3 significant digits is a valid HdrHistogram setting")
}

fn hist_record(h: &mut Histogram<u64>, v: u64) {
    if h.record(v).is_err() {
        h.saturating_record(v);
    }
}

impl LatencyRecorder {
    fn with_store(store: Store) -> Self {
        LatencyRecorder {
            store,
            switched_at: None,
            count: 0,
            sum_ns: 0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }

    /// A recorder that keeps every sample: exact percentiles and
    /// [`samples_ms`](Self::samples_ms) for charts. Use for up to a few
    /// million samples.
    pub fn exact() -> Self {
        Self::with_store(Store::Exact(Vec::new()))
    }

    /// An exact recorder with room for `n` samples before it reallocates,
    /// for when the number of requests is known up front (at most
    /// [`EXACT_LIMIT`] are reserved: past it the recorder switches to the
    /// histogram anyway).
    pub fn with_capacity(n: usize) -> Self {
        Self::with_store(Store::Exact(Vec::with_capacity(n.min(EXACT_LIMIT))))
    }

    /// A recorder with bounded memory: an HdrHistogram with 3 significant
    /// digits. Use for runs with millions of requests, or for many sweep
    /// points kept at once. Samples above [`STREAMING_MAX_NANOS`] are clamped.
    pub fn streaming() -> Self {
        Self::with_store(Store::Streaming(Box::new(new_histogram())))
    }

    /// True for a recorder built with [`exact`](Self::exact) or
    /// [`with_capacity`](Self::with_capacity) that has not switched to the
    /// histogram.
    pub fn is_exact(&self) -> bool {
        matches!(self.store, Store::Exact(_))
    }

    /// The sample count at which an exact recorder switched to the
    /// histogram (it had reached [`EXACT_LIMIT`] samples); `None` if it did
    /// not. From then on percentiles have 3 significant digits and
    /// [`samples_ms`](Self::samples_ms) is `None`.
    pub fn switched_at(&self) -> Option<u64> {
        self.switched_at
    }

    /// Moves an exact recorder's samples into a histogram.
    #[cold]
    fn switch_to_streaming(&mut self) {
        let Store::Exact(xs) = &self.store else {
            return;
        };
        let mut h = new_histogram();
        for &v in xs {
            hist_record(&mut h, v.min(STREAMING_MAX_NANOS));
        }
        self.store = Store::Streaming(Box::new(h));
        self.switched_at = Some(self.count);
    }

    fn note(&mut self, v: u64) {
        self.count += 1;
        self.sum_ns += u128::from(v);
        self.min_ns = self.min_ns.min(v);
        self.max_ns = self.max_ns.max(v);
    }

    /// Records one latency. O(1): a `Vec` push (amortized) or a histogram
    /// counter increment.
    pub fn record(&mut self, d: SimDuration) {
        let mut v = d.as_nanos();
        match &mut self.store {
            Store::Exact(xs) if xs.len() < EXACT_LIMIT => xs.push(v),
            Store::Exact(_) => {
                self.switch_to_streaming();
                return self.record(d);
            }
            Store::Streaming(h) => {
                v = v.min(STREAMING_MAX_NANOS);
                hist_record(h, v);
            }
        }
        self.note(v);
    }

    /// Records a latency measured by a **closed-loop** client and corrects for
    /// coordinated omission.
    ///
    /// Why: a closed-loop client that waits for each reply before sending the
    /// next stops issuing requests during a stall, so the stall is measured
    /// once instead of once per request that *would* have been sent. Given the
    /// interval at which the client means to send (`expected_interval`), this
    /// records `d` and also `d − i`, `d − 2i`, … down to `i` — the latencies
    /// the missing requests would have seen (HdrHistogram's `record_correct`).
    /// Do not use it for open-loop clients, whose arrivals do not wait.
    ///
    /// Works in both modes; in exact mode each synthetic sample is stored.
    /// Errors, recording nothing, if `expected_interval` is zero or if one
    /// call would add more than [`MAX_CORRECTION_SAMPLES`] samples.
    ///
    /// ```
    /// use thinkdist::sim::time::ms;
    /// use thinkdist::sim::metrics::LatencyRecorder;
    ///
    /// let mut rec = LatencyRecorder::streaming();
    /// rec.record_correct(ms(100), ms(10))?; // 100, 90, 80, …, 10 ms
    /// assert_eq!(rec.count(), 10);
    /// # Ok::<(), thinkdist::Error>(())
    /// ```
    pub fn record_correct(&mut self, d: SimDuration, expected_interval: SimDuration) -> Result<()> {
        let i = expected_interval.as_nanos();
        if i == 0 {
            return Err(Error::invalid(
                "expected_interval",
                expected_interval,
                "a duration > 0 (the interval at which the closed-loop client sends)",
            ));
        }
        let mut v = d.as_nanos();
        if !self.is_exact() {
            v = v.min(STREAMING_MAX_NANOS);
        }
        // Synthetic samples v − i, v − 2i, …, v − m·i, all ≥ i.
        let m = if v > i { v / i - 1 } else { 0 };
        if m > MAX_CORRECTION_SAMPLES {
            return Err(Error::invalid(
                "expected_interval",
                expected_interval,
                &format!(
                    "a longer interval: correcting {d} would add {m} samples, more than \
                     {MAX_CORRECTION_SAMPLES}"
                ),
            ));
        }
        match &mut self.store {
            Store::Exact(xs) => {
                xs.reserve(m as usize + 1);
                xs.push(v);
                xs.extend((1..=m).map(|j| v - j * i));
            }
            Store::Streaming(h) => {
                if h.record_correct(v, i).is_err() {
                    return Err(Error::invalid(
                        "d",
                        d,
                        "a latency the histogram can hold on this platform",
                    ));
                }
            }
        }
        self.note(v);
        if m > 0 {
            let (m128, v128, i128_) = (u128::from(m), u128::from(v), u128::from(i));
            self.count += m;
            self.sum_ns += m128 * v128 - i128_ * m128 * (m128 + 1) / 2;
            self.min_ns = self.min_ns.min(v - m * i);
        }
        if matches!(&self.store, Store::Exact(xs) if xs.len() > EXACT_LIMIT) {
            self.switch_to_streaming();
        }
        Ok(())
    }

    /// Number of recorded samples (including coordinated-omission corrections).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// True when nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn check_nonempty(&self) -> Result<()> {
        if self.count == 0 {
            Err(Error::empty("latency sample (nothing recorded)"))
        } else {
            Ok(())
        }
    }

    /// Arithmetic mean, rounded to the nanosecond; exact in both modes.
    /// Errors if nothing was recorded.
    pub fn mean(&self) -> Result<SimDuration> {
        self.check_nonempty()?;
        let c = u128::from(self.count);
        Ok(SimDuration(((self.sum_ns + c / 2) / c) as u64))
    }

    /// Smallest sample; exact in both modes. Errors if nothing was recorded.
    pub fn min(&self) -> Result<SimDuration> {
        self.check_nonempty()?;
        Ok(SimDuration(self.min_ns))
    }

    /// Largest sample; exact in both modes. Errors if nothing was recorded.
    pub fn max(&self) -> Result<SimDuration> {
        self.check_nonempty()?;
        Ok(SimDuration(self.max_ns))
    }

    /// The percentile at fraction `q` of 1: `percentile(0.99)` is p99,
    /// `percentile(0.5)` the median.
    ///
    /// Exact mode: nearest rank (see the type docs), O(n) per call.
    /// Streaming mode: HdrHistogram's value at that quantile (within 0.1 %),
    /// clamped to the exact [min, max], so p0 and p100 are exact.
    ///
    /// Errors if `q` is outside [0, 1] or NaN (a value in (1, 100], a
    /// percentile in per cent, gets an error that says to divide by 100),
    /// or if nothing was recorded.
    pub fn percentile(&self, q: f64) -> Result<SimDuration> {
        let q = check_percentile(q)?;
        self.check_nonempty()?;
        match &self.store {
            Store::Exact(xs) => {
                let mut v = xs.clone();
                let idx = nearest_rank_index(q, v.len());
                let (_, x, _) = v.select_nth_unstable(idx);
                Ok(SimDuration(*x))
            }
            Store::Streaming(h) => Ok(SimDuration(
                h.value_at_quantile(q).clamp(self.min_ns, self.max_ns),
            )),
        }
    }

    /// Several percentiles at once (each a fraction in [0, 1]); sorts only once in
    /// exact mode. Same errors as [`percentile`](Self::percentile).
    pub fn percentiles(&self, qs: &[f64]) -> Result<Vec<SimDuration>> {
        for &q in qs {
            check_percentile(q)?;
        }
        self.check_nonempty()?;
        match &self.store {
            Store::Exact(xs) => {
                let mut v = xs.clone();
                v.sort_unstable();
                Ok(qs
                    .iter()
                    .map(|&q| SimDuration(v[nearest_rank_index(q, v.len())]))
                    .collect())
            }
            Store::Streaming(_) => qs.iter().map(|&q| self.percentile(q)).collect(),
        }
    }

    /// Count, mean, min, p50, p90, p99, p99.9 and max in milliseconds.
    /// Errors if nothing was recorded.
    pub fn summary(&self) -> Result<LatencySummary> {
        let p = self.percentiles(&[0.5, 0.9, 0.99, 0.999])?;
        Ok(LatencySummary {
            count: self.count,
            mean: self.sum_ns as f64 / self.count as f64 / 1e6,
            min: SimDuration(self.min_ns).as_ms(),
            p50: p[0].as_ms(),
            p90: p[1].as_ms(),
            p99: p[2].as_ms(),
            p999: p[3].as_ms(),
            max: SimDuration(self.max_ns).as_ms(),
        })
    }

    /// Every sample in milliseconds, in recording order, for histograms and
    /// CDF charts. `None` in streaming mode, which does not keep samples.
    pub fn samples_ms(&self) -> Option<Vec<f64>> {
        match &self.store {
            Store::Exact(xs) => Some(xs.iter().map(|&x| x as f64 / 1e6).collect()),
            Store::Streaming(_) => None,
        }
    }

    /// Every sample in nanoseconds, in recording order, without copying.
    /// `None` in streaming mode.
    pub fn samples_nanos(&self) -> Option<&[u64]> {
        match &self.store {
            Store::Exact(xs) => Some(xs),
            Store::Streaming(_) => None,
        }
    }

    /// Empirical CDF as `(latency ms, fraction of samples ≤ latency)` points,
    /// one per distinct value (exact mode) or per histogram bucket (streaming
    /// mode); works in both modes, so a chart need not care which was used.
    /// Errors if nothing was recorded.
    pub fn cdf_ms(&self) -> Result<Vec<(f64, f64)>> {
        self.check_nonempty()?;
        let n = self.count as f64;
        let mut out = Vec::new();
        match &self.store {
            Store::Exact(xs) => {
                let mut v = xs.clone();
                v.sort_unstable();
                for (i, &x) in v.iter().enumerate() {
                    let frac = (i + 1) as f64 / n;
                    match v.get(i + 1) {
                        Some(&next) if next == x => {}
                        _ => out.push((x as f64 / 1e6, frac)),
                    }
                }
            }
            Store::Streaming(h) => {
                let mut seen = 0u64;
                for it in h.iter_recorded() {
                    seen += it.count_at_value();
                    let x = h
                        .highest_equivalent(it.value_iterated_to())
                        .clamp(self.min_ns, self.max_ns);
                    out.push((x as f64 / 1e6, seen as f64 / n));
                }
            }
        }
        Ok(out)
    }

    /// Adds `other`'s samples to `self`, e.g. to combine per-client recorders.
    ///
    /// Exact + exact and streaming + streaming merge losslessly; an exact
    /// recorder can be merged into a streaming one (its samples are recorded
    /// into the histogram). Merging a streaming recorder into an exact one is
    /// an error, because the individual samples no longer exist: merge the
    /// other way round.
    pub fn merge(&mut self, other: &LatencyRecorder) -> Result<()> {
        let (mut omin, mut omax) = (other.min_ns, other.max_ns);
        if !self.is_exact() {
            omin = omin.min(STREAMING_MAX_NANOS);
            omax = omax.min(STREAMING_MAX_NANOS);
        }
        match (&mut self.store, &other.store) {
            (Store::Exact(a), Store::Exact(b)) => a.extend_from_slice(b),
            (Store::Streaming(a), Store::Streaming(b)) => {
                if a.add(b.as_ref()).is_err() {
                    return Err(Error::invalid(
                        "other",
                        "a streaming recorder",
                        "a histogram whose range this one can grow to hold",
                    ));
                }
            }
            (Store::Streaming(a), Store::Exact(b)) => {
                for &x in b {
                    hist_record(a, x.min(STREAMING_MAX_NANOS));
                }
            }
            (Store::Exact(_), Store::Streaming(_)) => {
                return Err(Error::invalid(
                    "other",
                    "a streaming recorder",
                    "an exact recorder: an exact recorder cannot absorb a histogram; \
                     merge the exact one into the streaming one instead",
                ));
            }
        }
        if other.count > 0 {
            self.count += other.count;
            self.sum_ns += other.sum_ns;
            self.min_ns = self.min_ns.min(omin);
            self.max_ns = self.max_ns.max(omax);
        }
        if matches!(&self.store, Store::Exact(xs) if xs.len() > EXACT_LIMIT) {
            self.switch_to_streaming();
        }
        Ok(())
    }
}
