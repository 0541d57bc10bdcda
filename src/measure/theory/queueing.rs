//! Queues: M/M/1 and M/M/c (Erlang C) with their latency percentiles,
//! Little's law, and exact mean value analysis of a closed loop.

use crate::error::{check_non_negative, check_positive, check_probability, Error, Result};
use serde::Serialize;

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
    /// The percentile at fraction `q` (in [0, 1): 0.99 is p99) of the time a request spends in
    /// the system, in seconds.
    ///
    /// Why: the mean hides the tail; this is the line to draw over a simulated
    /// latency CDF.
    ///
    /// For M/M/1 the time in system T is exponential with rate μ − λ, so
    /// `t_q = −ln(1 − q) / (μ − λ)`. For M/M/c, T = Wq + S with S ~ Exp(μ)
    /// and Wq = 0 with probability 1 − C, else Exp(θ), θ = cμ − λ; then
    /// `P(T > t) = (1 − C) e^{−μt} + C (θ e^{−μt} − μ e^{−θt}) / (θ − μ)`
    /// (or `C (1 + μt) e^{−μt}` when θ = μ), inverted numerically by bisection.
    ///
    /// ```
    /// let q = thinkdist::measure::theory::mm1(0.5, 1.0)?;
    /// // Median of Exp(0.5) is ln 2 / 0.5.
    /// assert!((q.time_in_system_percentile(0.5)? - 2.0 * 2f64.ln()).abs() < 1e-12);
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

    /// The percentile at fraction `q` (in [0, 1)) of the time spent waiting in the
    /// queue, in seconds.
    ///
    /// `P(Wq > t) = C e^{−(cμ − λ) t}`, so the percentile is 0 when
    /// `q ≤ 1 − C` (that many requests never wait) and
    /// `ln(C / (1 − q)) / (cμ − λ)` otherwise.
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

/// Checks a percentile given as a fraction in [0, 1) (the 100th percentile
/// of an unbounded distribution is infinite) and returns the tail 1 − q.
fn tail_fraction(param: &str, q: f64) -> Result<f64> {
    Ok(1.0 - crate::sim::metrics::latency::check_fraction(param, q, false)?)
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
