//! Closed forms from queueing and reliability theory, for chart overlays.
//!
//! A simulation gives noisy numbers; a formula gives the line they should
//! scatter around. Overlaying the two is how a notebook shows both that the
//! simulator is right and where the textbook assumptions (Poisson arrivals,
//! exponential service, independent failures) stop holding.
//!
//! Every function checks its inputs and returns [`Result`]: the error names the
//! parameter, the value it got and the allowed range, so a notebook cell that
//! sets `lambda` too high says so instead of printing `NaN` or a negative wait.
//!
//! Units: rates are per second and times are in seconds (`f64`), because the
//! formulas mix rates and times freely and the results go straight into charts.
//!
//! ```
//! use thinkdist::measure::theory;
//!
//! // A server that handles 100 requests/s, offered 80 requests/s.
//! let q = theory::mm1(80.0, 100.0)?;
//! assert!((q.w - 0.05).abs() < 1e-12); // W = 1/(μ−λ) = 50 ms
//! assert!((q.l - 4.0).abs() < 1e-12); // L = ρ/(1−ρ) = 4 requests
//!
//! // Three replicas, each up 99 % of the time, need a majority.
//! let a = theory::k_of_n_availability(3, theory::majority(3), 0.99)?;
//! assert!(a > 0.9997);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use crate::error::{check_non_negative, check_positive, check_probability, Error, Result};
use crate::sim::time::SimDuration;
use serde::Serialize;

mod replication;
pub use replication::*;

/// Largest number of servers [`mmc`] accepts. The Erlang B recursion is O(c),
/// so this only guards against a typo (a million servers) freezing a notebook.
pub const MAX_SERVERS: usize = 1_000_000;

/// Steady-state metrics of an M/M/c queue (c = 1 for M/M/1).
///
/// All times are in seconds and all counts are time averages. Returned by
/// [`mm1`] and [`mmc`]; serializable so it can go into a results table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QueueMetrics {
    /// Arrival rate λ (per second).
    pub lambda: f64,
    /// Service rate μ of one server (per second).
    pub mu: f64,
    /// Number of servers c.
    pub servers: usize,
    /// Utilisation of each server, ρ = λ / (c μ).
    pub rho: f64,
    /// Mean number in the system (queue + service), L = λ W.
    pub l: f64,
    /// Mean number waiting in the queue, Lq = λ Wq.
    pub lq: f64,
    /// Mean time in the system (wait + service), W = Wq + 1/μ.
    pub w: f64,
    /// Mean time waiting in the queue before service starts, Wq.
    pub wq: f64,
    /// Probability that an arriving request has to wait (Erlang C; ρ for M/M/1).
    pub p_wait: f64,
}

impl QueueMetrics {
    /// The `q`-th percentile (q in [0, 100)) of the time a request spends in
    /// the system, in seconds.
    ///
    /// Why: the mean hides the tail; this is the line to draw over a simulated
    /// latency CDF.
    ///
    /// For M/M/1 the time in system T is exponential with rate μ − λ, so
    /// `t_q = −ln(1 − q/100) / (μ − λ)`. For M/M/c, T = Wq + S with S ~ Exp(μ)
    /// and Wq = 0 with probability 1 − C, else Exp(θ), θ = cμ − λ; then
    /// `P(T > t) = (1 − C) e^{−μt} + C (θ e^{−μt} − μ e^{−θt}) / (θ − μ)`
    /// (or `C (1 + μt) e^{−μt}` when θ = μ), inverted numerically by bisection.
    ///
    /// ```
    /// let q = thinkdist::measure::theory::mm1(0.5, 1.0)?;
    /// // Median of Exp(0.5) is ln 2 / 0.5.
    /// assert!((q.time_in_system_percentile(50.0)? - 2.0 * 2f64.ln()).abs() < 1e-12);
    /// # Ok::<(), thinkdist::Error>(())
    /// ```
    pub fn time_in_system_percentile(&self, q: f64) -> Result<f64> {
        let tail = tail_fraction("q", q)?;
        self.check_stable()?;
        if self.servers == 1 {
            return Ok(-tail.ln() / (self.mu - self.lambda));
        }
        let c = self.p_wait;
        let mu = self.mu;
        let theta = self.servers as f64 * self.mu - self.lambda;
        let survival = |t: f64| -> f64 {
            let mixed = if ((theta - mu) / mu).abs() < 1e-9 {
                (1.0 + mu * t) * (-mu * t).exp()
            } else {
                (theta * (-mu * t).exp() - mu * (-theta * t).exp()) / (theta - mu)
            };
            (1.0 - c) * (-mu * t).exp() + c * mixed
        };
        // Upper bracket: T is stochastically below S + X with the slower of the
        // two rates; double until the survival function drops below `tail`.
        let mut hi = 1.0 / mu.min(theta);
        // Doubling 2,000 times covers any f64; the cap only guards the loop.
        for _ in 0..2_000 {
            if survival(hi) <= tail || !hi.is_finite() {
                break;
            }
            hi *= 2.0;
        }
        let mut lo = 0.0;
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if survival(mid) > tail {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(0.5 * (lo + hi))
    }

    /// The `q`-th percentile (q in [0, 100)) of the time spent waiting in the
    /// queue, in seconds.
    ///
    /// `P(Wq > t) = C e^{−(cμ − λ) t}`, so the percentile is 0 when
    /// `q/100 ≤ 1 − C` (that many requests never wait) and
    /// `ln(C / (1 − q/100)) / (cμ − λ)` otherwise.
    pub fn wait_percentile(&self, q: f64) -> Result<f64> {
        let tail = tail_fraction("q", q)?;
        self.check_stable()?;
        if tail >= self.p_wait {
            return Ok(0.0);
        }
        let theta = self.servers as f64 * self.mu - self.lambda;
        Ok((self.p_wait / tail).ln() / theta)
    }
}

impl QueueMetrics {
    /// Checks a (possibly hand-edited) result: rates finite and positive,
    /// 1 to `MAX_SERVERS` servers, and a stable queue (λ < cμ), without
    /// which no steady-state percentile exists.
    fn check_stable(&self) -> Result<()> {
        check_servers(self.servers)?;
        check_positive("mu", self.mu)?;
        check_non_negative("lambda", self.lambda)?;
        check_probability("p_wait", self.p_wait)?;
        if self.lambda >= self.servers as f64 * self.mu {
            return Err(Error::invalid(
                "lambda",
                self.lambda,
                &format!(
                    "an arrival rate below c·μ = {} (the queue is unstable: it grows \
                     without bound, so it has no steady-state percentiles)",
                    crate::error::short_value(&(self.servers as f64 * self.mu).to_string())
                ),
            ));
        }
        Ok(())
    }
}

/// Checks a percentile in [0, 100) and returns the tail fraction 1 − q/100.
fn tail_fraction(param: &str, q: f64) -> Result<f64> {
    if q.is_finite() && (0.0..100.0).contains(&q) {
        Ok(1.0 - q / 100.0)
    } else {
        Err(Error::invalid(
            param,
            q,
            "a percentile in [0, 100) (the 100th percentile of an unbounded distribution is infinite)",
        ))
    }
}

/// Checks λ and μ and that the offered load per server is below 1.
fn check_load(lambda: f64, mu: f64, servers: usize) -> Result<f64> {
    check_positive("lambda", lambda)?;
    check_positive("mu", mu)?;
    let rho = lambda / (servers as f64 * mu);
    if rho < 1.0 {
        Ok(rho)
    } else if servers == 1 {
        Err(Error::invalid(
            "lambda",
            lambda,
            &format!(
                "a value below mu = {}: offered load ρ = λ/μ = {} must be < 1, \
                 otherwise the queue grows without bound",
                crate::error::num(mu),
                crate::error::num(rho)
            ),
        ))
    } else {
        Err(Error::invalid(
            "lambda",
            lambda,
            &format!(
                "a value below c·mu = {}: offered load ρ = λ/(cμ) = {} must be < 1, \
                 otherwise the queue grows without bound",
                crate::error::num(servers as f64 * mu),
                crate::error::num(rho)
            ),
        ))
    }
}

/// M/M/1: Poisson arrivals at rate `lambda`, one server with exponential
/// service at rate `mu` (both per second).
///
/// Why: the simplest queue that shows latency exploding as utilisation
/// approaches 1; the reference line for every single-server experiment.
///
/// - ρ = λ/μ, L = ρ/(1−ρ), Lq = ρ²/(1−ρ)
/// - W = 1/(μ−λ), Wq = ρ/(μ−λ), P(wait) = ρ
///
/// Errors if a rate is not finite and > 0, or if λ ≥ μ (unstable queue).
///
/// ```
/// let q = thinkdist::measure::theory::mm1(0.5, 1.0)?;
/// assert_eq!((q.rho, q.l, q.w), (0.5, 1.0, 2.0));
/// assert!(thinkdist::measure::theory::mm1(1.0, 1.0).unwrap_err().is_invalid_parameter());
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn mm1(lambda: f64, mu: f64) -> Result<QueueMetrics> {
    let rho = check_load(lambda, mu, 1)?;
    let w = 1.0 / (mu - lambda);
    let wq = rho / (mu - lambda);
    Ok(QueueMetrics {
        lambda,
        mu,
        servers: 1,
        rho,
        l: lambda * w,
        lq: lambda * wq,
        w,
        wq,
        p_wait: rho,
    })
}

/// Erlang C: the probability that an arrival to an M/M/c queue has to wait,
/// with offered load `a = λ/μ` (in Erlangs) and `c` servers.
///
/// Why: it is the number that says how many servers a load needs; the naive
/// formula with `a^c / c!` overflows long before c = 1000, so this uses the
/// Erlang B recursion `B(0) = 1`, `B(k) = a B(k−1) / (k + a B(k−1))` and then
/// `C = c B(c) / (c − a (1 − B(c)))`, which stays in [0, 1] throughout.
///
/// Errors if `c` is 0 or above [`MAX_SERVERS`], if `a` is not finite and > 0,
/// or if `a ≥ c` (unstable).
///
/// ```
/// // Two servers, one Erlang offered: C = 1/3.
/// let c = thinkdist::measure::theory::erlang_c(2, 1.0)?;
/// assert!((c - 1.0 / 3.0).abs() < 1e-12);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn erlang_c(c: usize, a: f64) -> Result<f64> {
    check_servers(c)?;
    check_positive("a", a)?;
    if a >= c as f64 {
        return Err(Error::invalid(
            "a",
            a,
            &format!("an offered load below c = {c} Erlangs (ρ = a/c must be < 1)"),
        ));
    }
    Ok(erlang_c_unchecked(c, a))
}

fn erlang_c_unchecked(c: usize, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    let cf = c as f64;
    (cf * b / (cf - a * (1.0 - b))).clamp(0.0, 1.0)
}

fn check_servers(c: usize) -> Result<()> {
    if c == 0 || c > MAX_SERVERS {
        Err(Error::invalid(
            "c",
            c,
            &format!("a number of servers in [1, {MAX_SERVERS}]"),
        ))
    } else {
        Ok(())
    }
}

/// M/M/c: Poisson arrivals at rate `lambda`, `c` identical servers with
/// exponential service at rate `mu` each, one shared FIFO queue.
///
/// Why: the model behind "add a replica behind the load balancer"; compare
/// with c separate M/M/1 queues to see why pooling cuts waiting time.
///
/// With a = λ/μ and C = Erlang C (see [`erlang_c`]):
/// - ρ = λ/(cμ), Wq = C / (cμ − λ), W = Wq + 1/μ
/// - Lq = λ Wq, L = λ W (Little's law), P(wait) = C
///
/// Errors if `c` is 0 (or above [`MAX_SERVERS`]), a rate is not finite and
/// > 0, or λ ≥ cμ.
///
/// ```
/// let q = thinkdist::measure::theory::mmc(1.0, 1.0, 2)?;
/// assert!((q.p_wait - 1.0 / 3.0).abs() < 1e-12);
/// assert!((q.wq - 1.0 / 3.0).abs() < 1e-12); // C / (2·1 − 1)
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn mmc(lambda: f64, mu: f64, c: usize) -> Result<QueueMetrics> {
    check_servers(c)?;
    let rho = check_load(lambda, mu, c)?;
    let p_wait = erlang_c_unchecked(c, lambda / mu);
    let wq = p_wait / (c as f64 * mu - lambda);
    let w = wq + 1.0 / mu;
    Ok(QueueMetrics {
        lambda,
        mu,
        servers: c,
        rho,
        l: lambda * w,
        lq: lambda * wq,
        w,
        wq,
        p_wait,
    })
}

/// Little's law, L = λ W: mean number in a system from the arrival rate
/// `lambda` (per second) and the mean time in the system `w` (seconds).
///
/// Why: it holds for any stable system regardless of distributions, so it is
/// the first sanity check on a simulation's counters.
///
/// Errors if either argument is negative, NaN or infinite.
///
/// ```
/// assert_eq!(thinkdist::measure::theory::littles_law_l(100.0, 0.05)?, 5.0);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn littles_law_l(lambda: f64, w: f64) -> Result<f64> {
    check_non_negative("lambda", lambda)?;
    check_non_negative("w", w)?;
    let l = lambda * w;
    if !l.is_finite() {
        return Err(Error::invalid(
            "lambda",
            lambda,
            &format!(
                "a rate whose product with w = {} is finite",
                crate::error::num(w)
            ),
        ));
    }
    Ok(l)
}

/// Little's law solved for the time, W = L / λ: mean time in the system from
/// the mean number in it `l` and the throughput `lambda` (> 0).
pub fn littles_law_w(l: f64, lambda: f64) -> Result<f64> {
    check_non_negative("l", l)?;
    check_positive("lambda", lambda)?;
    Ok(l / lambda)
}

/// The smallest majority of `n` nodes, ⌊n/2⌋ + 1: the quorum size that makes
/// any two quorums intersect.
///
/// For `n = 0` this returns 1, which no cluster of 0 can reach;
/// [`k_of_n_availability`] rejects that combination.
pub const fn majority(n: usize) -> usize {
    n / 2 + 1
}

/// Probability that at least `k` of `n` independent replicas are up, each up
/// with probability `p_up`:
/// `A = Σ_{i=k}^{n} C(n, i) p^i (1 − p)^{n−i}`.
///
/// Why: the availability of a quorum system (k = majority), of "read any"
/// (k = 1) and of "write all" (k = n) all come from this one sum.
///
/// The binomial terms are computed in log space so n may be large, and the
/// smaller of the two tails is summed so that values close to 1 keep their
/// nines (use [`k_of_n_unavailability`] to get 1 − A without cancellation).
///
/// Errors if `n` is 0, `k` is 0 or greater than `n`, or `p_up` is outside [0, 1].
///
/// ```
/// // 3 replicas at 0.9, majority of 2: 0.9³ + 3·0.9²·0.1 = 0.972.
/// let a = thinkdist::measure::theory::k_of_n_availability(3, 2, 0.9)?;
/// assert!((a - 0.972).abs() < 1e-12);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn k_of_n_availability(n: usize, k: usize, p_up: f64) -> Result<f64> {
    let (up, down) = k_of_n_tails(n, k, p_up)?;
    Ok(if down < up { 1.0 - down } else { up })
}

/// Probability that fewer than `k` of `n` independent replicas are up:
/// `1 − k_of_n_availability(n, k, p_up)`, summed directly over the lower tail
/// so that tiny unavailabilities (1e-12) are exact rather than rounding noise.
///
/// Same errors as [`k_of_n_availability`].
pub fn k_of_n_unavailability(n: usize, k: usize, p_up: f64) -> Result<f64> {
    let (up, down) = k_of_n_tails(n, k, p_up)?;
    Ok(if up < down { 1.0 - up } else { down })
}

/// Returns (P(X ≥ k), P(X < k)) for X ~ Binomial(n, p).
fn k_of_n_tails(n: usize, k: usize, p: f64) -> Result<(f64, f64)> {
    // One term per replica count: bounded, so the answer comes in well under
    // a second.
    crate::error::check_count("n", n, 1, MAX_SERVERS, "replicas")?;
    if k == 0 || k > n {
        return Err(Error::invalid(
            "k",
            k,
            &format!("a number of replicas in [1, n = {n}]"),
        ));
    }
    check_probability("p_up", p)?;
    if p == 0.0 {
        return Ok((0.0, 1.0));
    }
    if p == 1.0 {
        return Ok((1.0, 0.0));
    }
    let (ln_p, ln_q) = (p.ln(), (-p).ln_1p());
    let mut ln_binom = 0.0; // ln C(n, 0)
    let (mut up, mut down) = (0.0, 0.0);
    for i in 0..=n {
        if i > 0 {
            ln_binom += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        let term = (ln_binom + i as f64 * ln_p + (n - i) as f64 * ln_q).exp();
        if i >= k {
            up += term;
        } else {
            down += term;
        }
    }
    Ok((up.min(1.0), down.min(1.0)))
}

/// Probability that at least one of `n` independent replicas is up:
/// `1 − (1 − p)^n` (k = 1 in [`k_of_n_availability`]).
///
/// Why: the availability of "read from any replica".
pub fn any_one(n: usize, p_up: f64) -> Result<f64> {
    k_of_n_availability(n, 1, p_up)
}

/// Probability that all `n` independent replicas are up: `p^n`
/// (k = n in [`k_of_n_availability`]).
///
/// Why: the availability of "write to every replica" — it falls as n grows.
pub fn all_of(n: usize, p_up: f64) -> Result<f64> {
    k_of_n_availability(n, n, p_up)
}

/// Steady-state availability of a component that fails after a mean time
/// `mttf` and is repaired in a mean time `mttr`: `A = MTTF / (MTTF + MTTR)`.
///
/// Why: it shows that faster repair buys as many nines as rarer failure.
/// Both arguments must be in the same unit; `mttf` must be > 0 and `mttr` ≥ 0.
///
/// ```
/// let a = thinkdist::measure::theory::availability_from_mttf_mttr(999.0, 1.0)?;
/// assert_eq!(a, 0.999);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn availability_from_mttf_mttr(mttf: f64, mttr: f64) -> Result<f64> {
    check_positive("mttf", mttf)?;
    check_non_negative("mttr", mttr)?;
    Ok(mttf / (mttf + mttr))
}

/// Number of nines of an availability: `−log10(1 − A)`; 0.999 → 3.
///
/// Why: "three nines" is how availability targets are spoken about, and the
/// log scale makes 99 % → 99.9 % look like the tenfold step it is.
///
/// Returns `f64::INFINITY` for A = 1 (no downtime at all) and 0 for A = 0.
/// Errors if `availability` is outside [0, 1]. Floating point may give
/// 2.9999999999999996 for 0.999: round before printing.
pub fn nines(availability: f64) -> Result<f64> {
    check_probability("availability", availability)?;
    if availability == 1.0 {
        return Ok(f64::INFINITY);
    }
    Ok(-(1.0 - availability).log10())
}

/// Seconds in the year used by [`downtime_per_year`]: 365.25 days, so that
/// leap years average out (99.9 % → 8.766 h).
pub const SECONDS_PER_YEAR: f64 = 365.25 * 24.0 * 3600.0;

/// Expected downtime in one year (365.25 days) at availability `A`:
/// `(1 − A) × 1 year`, as a [`SimDuration`] (rounded to the nanosecond).
///
/// Why: "52.6 minutes a year" is easier to judge than "99.99 %".
///
/// ```
/// let d = thinkdist::measure::theory::downtime_per_year(0.9999)?;
/// assert!((d.as_secs_f64() / 60.0 - 52.596).abs() < 0.01);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn downtime_per_year(availability: f64) -> Result<SimDuration> {
    check_probability("availability", availability)?;
    SimDuration::from_secs_f64((1.0 - availability) * SECONDS_PER_YEAR)
}

/// Formats an availability as a percentage with enough decimals to show its
/// nines: 0.9995 → `"99.95 %"`, 0.99999 → `"99.999 %"`, 0.972 → `"97.20 %"`.
///
/// Uses at least 2 decimals and `ceil(nines) − 2` when that is more (at most
/// 12), so a table of availabilities never rounds 99.999 % up to 100 %.
/// Errors if `availability` is outside [0, 1].
pub fn format_availability(availability: f64) -> Result<String> {
    let n = nines(availability)?;
    let decimals = if n.is_finite() {
        ((n - 1e-9).ceil() as i64 - 2).clamp(2, 12) as usize
    } else {
        2
    };
    Ok(format!("{:.*} %", decimals, availability * 100.0))
}

/// Probability that a request fanned out to `n` backends is slow when each
/// backend is independently slow with probability `p`: `1 − (1 − p)^n`.
///
/// Why: at fan-out 100, a 1-in-100 slow backend makes 63 % of requests slow —
/// the "tail at scale" effect. Computed as `−expm1(n · ln1p(−p))` to stay
/// accurate for tiny `p`. `n = 0` gives 0. Errors if `p` is outside [0, 1].
///
/// ```
/// let s = thinkdist::measure::theory::fanout_slow_probability(0.01, 100)?;
/// assert!((s - 0.634).abs() < 1e-3);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn fanout_slow_probability(p: f64, n: usize) -> Result<f64> {
    check_probability("p", p)?;
    if n == 0 || p == 0.0 {
        return Ok(0.0);
    }
    if p == 1.0 {
        return Ok(1.0);
    }
    Ok(-(n as f64 * (-p).ln_1p()).exp_m1())
}

/// Result of [`mva`]: a closed system of clients and one queue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClosedMetrics {
    /// Number of clients.
    pub clients: usize,
    /// Mean time a job spends at the server (waiting + service), seconds.
    pub response_time: f64,
    /// Jobs completed per second.
    pub throughput: f64,
    /// Mean number of jobs at the server.
    pub queue_length: f64,
}

/// Exact mean value analysis (Reiser and Lavenberg, 1980) of `clients`
/// clients that each think for a mean `think` seconds, then send a job to
/// one FIFO server with exponential service of mean `service` seconds, and
/// wait for it.
///
/// Recursion over the population k = 1..=n, from Q(0) = 0:
/// R(k) = S (1 + Q(k−1)), X(k) = k / (R(k) + Z), Q(k) = X(k) R(k).
/// Unlike an open queue, a closed one can never be overloaded: as clients
/// are added, throughput saturates at 1/S and response time grows linearly,
/// R ≈ n S − Z. That is why closed-loop load tests hide overload.
///
/// ```
/// // One client, no think time: response time is one service time.
/// let m = thinkdist::measure::theory::mva(1, 0.010, 0.0)?;
/// assert!((m.response_time - 0.010).abs() < 1e-12);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn mva(clients: usize, service: f64, think: f64) -> Result<ClosedMetrics> {
    if clients == 0 {
        return Err(Error::invalid("clients", 0, "at least 1"));
    }
    if clients > MAX_SERVERS {
        return Err(Error::invalid("clients", clients, "at most 1,000,000"));
    }
    check_positive("service time (s)", service)?;
    check_non_negative("think time (s)", think)?;
    // Beyond these the recursion's products overflow or underflow to NaN.
    if !(1e-15..=1e12).contains(&service) {
        return Err(Error::invalid(
            "service time (s)",
            service,
            "a time between 1e-15 s and 1e12 s",
        ));
    }
    if think > 1e12 {
        return Err(Error::invalid("think time (s)", think, "at most 1e12 s"));
    }
    let (mut q, mut r, mut x) = (0.0f64, 0.0f64, 0.0f64);
    for k in 1..=clients {
        r = service * (1.0 + q);
        x = k as f64 / (r + think);
        q = x * r;
    }
    Ok(ClosedMetrics {
        clients,
        response_time: r,
        throughput: x,
        queue_length: q,
    })
}

/// The fraction of a large cluster a rumour reaches when every node that
/// hears it for the first time tells `fanout` nodes drawn uniformly at
/// random (and then stays quiet): the positive root `s` of
/// `s = 1 − e^(−fanout · s)`, or 0 when `fanout <= 1`.
///
/// Why: a node is missed when none of the `fanout · s · n` messages sent by
/// the `s · n` nodes that heard the rumour picks it, which happens with
/// probability `(1 − 1/n)^(fanout · s · n) → e^(−fanout · s)` as `n` grows
/// (the giant component of a random graph, Erdős and Rényi 1960). With
/// `fanout <= 1` the informed set stays a vanishing fraction.
///
/// ```
/// use thinkdist::measure::theory::gossip_reach;
/// let s = gossip_reach(2.0)?;
/// assert!((s - 0.7968).abs() < 1e-4);
/// assert_eq!(gossip_reach(1.0)?, 0.0);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn gossip_reach(fanout: f64) -> Result<f64> {
    check_non_negative("fanout", fanout)?;
    if fanout <= 1.0 {
        return Ok(0.0);
    }
    // g(s) = 1 − e^(−f s) − s is > 0 just above 0 (g'(0) = f − 1 > 0) and
    // < 0 at 1, with one root in between: bisect to machine precision.
    let g = |s: f64| 1.0 - (-fanout * s).exp() - s;
    let (mut lo, mut hi) = (f64::MIN_POSITIVE.max(1e-12), 1.0);
    if g(lo) <= 0.0 {
        return Ok(0.0); // fanout a hair above 1: the root is below 1e-12
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}
