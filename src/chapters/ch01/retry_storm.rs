//! The retry storm: a timeout shorter than the time an answer normally
//! takes turns every slow answer into a resend, every resend into more
//! work for an already busy server, and so into slower answers still.
//!
//! The client of [`ClientServer`] resends a request when no answer came
//! within its timeout, up to `retries` times, and the server processes
//! every copy it receives (it cannot know the client gave up on one).
//! [`retry_storm`] runs the same load at several timeouts, over several
//! seeds, and reports how many copies the server processed per request
//! and the mean latency of the answered requests, each with a 95 %
//! confidence interval over the seeds.

use super::client_server::ClientServer;
use crate::error::{check_work, Error, Result};
use crate::measure::stats::{check_replications, mean_ci, MeanCi};
use crate::plot::{fmt_num, time_series, Figure, Opts, Series, SeriesStyle, Table, Window};
use crate::sim::time::SimDuration;

/// One timeout of a [`RetryStorm`].
#[derive(Debug, Clone, PartialEq)]
pub struct StormPoint {
    /// The client's timeout (ms).
    pub timeout_ms: f64,
    /// Copies of a request the server processed, per request sent.
    pub copies: MeanCi,
    /// Mean latency of the answered requests (ms).
    pub latency_ms: MeanCi,
    /// Fraction of requests answered before the client gave up.
    pub answered: MeanCi,
}

/// The result of [`retry_storm`].
#[derive(Debug, Clone)]
pub struct RetryStorm {
    /// The load and everything but the timeout.
    pub base: ClientServer,
    /// Replications per timeout.
    pub seeds: u64,
    /// One point per timeout, in the order given.
    pub points: Vec<StormPoint>,
    /// The same load without retries: mean latency (ms) over the seeds.
    pub no_retry_latency_ms: MeanCi,
    /// The same load without retries: fraction of requests answered.
    pub no_retry_answered: MeanCi,
}

/// Runs `base` with each of `timeouts_ms` (and `base.retries` resends),
/// each over `seeds` seeds (`base.seed`, `base.seed + 1`, …), and once more
/// without retries for reference.
///
/// ```
/// use thinkdist::ch01::{retry_storm, ClientServer};
/// use thinkdist::sim::time::ms;
/// let base = ClientServer { requests: 300, gap: ms(4), trace_cap: 0, ..Default::default() };
/// let storm = retry_storm(&base, &[10.0, 200.0], 3)?;
/// // A 10 ms timeout resends most requests; 200 ms almost none.
/// assert!(storm.points[0].copies.mean > storm.points[1].copies.mean);
/// # Ok::<(), thinkdist::Error>(())
/// ```
///
/// Errors: no timeouts, a timeout that is not a finite number > 0, fewer
/// than 2 seeds, or more work than a notebook cell should do
/// ([`Error::is_invalid_parameter`]); invalid `base` parameters.
pub fn retry_storm(base: &ClientServer, timeouts_ms: &[f64], seeds: u64) -> Result<RetryStorm> {
    base.validate()?;
    if timeouts_ms.is_empty() {
        return Err(Error::empty("timeouts_ms"));
    }
    check_replications(seeds)?;
    let timeouts = timeouts_ms
        .iter()
        .map(|&t| SimDuration::from_ms_named("timeouts_ms", t))
        .collect::<Result<Vec<_>>>()?;
    if let Some(t) = timeouts.iter().find(|t| t.0 == 0) {
        return Err(Error::invalid("timeouts_ms", t, "timeouts > 0"));
    }
    // About 6 events per copy sent (send, deliver, timers, response).
    let events = base.requests as f64
        * 6.0
        * f64::from(base.retries + 1)
        * (timeouts.len() + 1) as f64
        * seeds as f64;
    check_work("requests × (retries + 1) × timeouts × seeds", events)?;
    let run = |p: &ClientServer, s: u64| {
        ClientServer {
            seed: base.seed.wrapping_add(s),
            trace_cap: 0,
            ..p.clone()
        }
        .run()
    };
    let mut points = Vec::with_capacity(timeouts.len());
    for (&t, &t_ms) in timeouts.iter().zip(timeouts_ms) {
        let p = ClientServer {
            timeout: t,
            ..base.clone()
        };
        let (mut copies, mut lat, mut ans) = (Vec::new(), Vec::new(), Vec::new());
        for s in 0..seeds {
            let r = run(&p, s)?;
            copies.push(r.copies_per_request());
            lat.push(r.mean_latency_ms().unwrap_or(f64::NAN));
            ans.push(r.answered() as f64 / r.requests.len().max(1) as f64);
        }
        if lat.iter().any(|x| x.is_nan()) {
            return Err(Error::invalid(
                "timeouts_ms",
                t_ms,
                "timeouts at which some request is answered (none was)",
            ));
        }
        points.push(StormPoint {
            timeout_ms: t_ms,
            copies: mean_ci(&copies)?,
            latency_ms: mean_ci(&lat)?,
            answered: mean_ci(&ans)?,
        });
    }
    let quiet = ClientServer {
        retries: 0,
        timeout: SimDuration::from_ms_named("timeout", 3.6e6)?,
        ..base.clone()
    };
    let (mut lat, mut ans) = (Vec::new(), Vec::new());
    for s in 0..seeds {
        let r = run(&quiet, s)?;
        lat.push(r.mean_latency_ms().unwrap_or(0.0));
        ans.push(r.answered() as f64 / r.requests.len().max(1) as f64);
    }
    Ok(RetryStorm {
        base: base.clone(),
        seeds,
        points,
        no_retry_latency_ms: mean_ci(&lat)?,
        no_retry_answered: mean_ci(&ans)?,
    })
}

impl RetryStorm {
    /// Mean service (processing) time of the server (ms).
    pub fn service_ms(&self) -> f64 {
        self.base.processing.mean_ns() / 1e6
    }

    /// Thin marks at the service time and at the mean latency without
    /// retries, the two times a timeout must be compared with.
    fn marks(&self) -> Vec<Window> {
        let mark = |x: f64, label: String| Window::new(x * 0.985, x * 1.015, label);
        vec![
            mark(
                self.service_ms(),
                format!("service time {} ms", fmt_num(self.service_ms())),
            ),
            mark(
                self.no_retry_latency_ms.mean,
                format!(
                    "mean latency without retries {} ms",
                    fmt_num(self.no_retry_latency_ms.mean)
                ),
            ),
        ]
    }

    /// The series of `f` with its 95 % band, clipped to `lo..=hi` (what
    /// the quantity can be: a fraction, a number of copies).
    fn series(&self, label: &str, f: fn(&StormPoint) -> MeanCi, lo: f64, hi: f64) -> Series {
        let pts = self
            .points
            .iter()
            .map(|p| (p.timeout_ms, f(p).mean))
            .collect();
        let band = self
            .points
            .iter()
            .map(|p| {
                let c = f(p);
                (
                    (c.mean - c.half_width).max(lo),
                    (c.mean + c.half_width).min(hi),
                )
            })
            .collect();
        Series::new(label, pts)
            .with_band(band)
            .with_style(SeriesStyle::LinePoints)
    }

    /// Copies processed per request against the timeout (log x), with 95 %
    /// intervals over the seeds and the service time and the no-retry mean
    /// latency marked.
    pub fn copies_chart(&self) -> Result<Figure> {
        time_series(
            &[self.series(
                &format!(
                    "copies processed per request (mean of {} seeds, 95 % CI)",
                    self.seeds
                ),
                |p| p.copies,
                1.0,
                f64::from(self.base.retries) + 1.0,
            )],
            &self.marks(),
            Opts::new(format!(
                "Retry storm: copies the server processes ({} retries)",
                self.base.retries
            ))
            .x_label("client timeout (ms)")
            .y_label("copies processed per request")
            .log_x()
            .legend(false),
        )
    }

    /// Fraction of requests answered before the client gave up, against
    /// the timeout (log x), with 95 % intervals over the seeds.
    pub fn answered_chart(&self) -> Result<Figure> {
        time_series(
            &[self.series(
                &format!("answered in time (mean of {} seeds, 95 % CI)", self.seeds),
                |p| p.answered,
                0.0,
                1.0,
            )],
            &self.marks(),
            Opts::new(format!(
                "Retry storm: requests answered before the client gives up ({} retries)",
                self.base.retries
            ))
            .x_label("client timeout (ms)")
            .y_label("fraction of requests answered")
            .log_x()
            .legend(false),
        )
    }

    /// One row per timeout: copies per request, mean latency and the
    /// fraction answered, each as mean ± 95 % half-width over the seeds.
    pub fn table(&self) -> Table {
        let pm = |c: MeanCi, d: usize| format!("{:.d$} ± {:.d$}", c.mean, c.half_width, d = d);
        let mut t = Table::new(&[
            "timeout (ms)",
            "copies processed per request",
            "mean latency (ms)",
            "answered",
        ]);
        for p in &self.points {
            t = t.row(vec![
                fmt_num(p.timeout_ms),
                pm(p.copies, 2),
                pm(p.latency_ms, 1),
                pm(p.answered, 3),
            ]);
        }
        t.row(vec![
            "no retries".into(),
            "1.00".into(),
            pm(self.no_retry_latency_ms, 1),
            pm(self.no_retry_answered, 3),
        ])
    }
}
