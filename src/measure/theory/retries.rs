//! Retries and crashes: the chance that a request still fails after its
//! retries, when failures are independent (transient) or come in stretches
//! (intermittent); how many attempts a success takes; and the chance that a
//! Poisson stream of crashes hits a window of work.

use crate::error::{check_probability, Error, Result};

/// Checks a count of retries against the largest exponent the formulas
/// take without losing every digit.
fn check_retries(retries: u32) -> Result<()> {
    crate::error::check_count("retries", retries as usize, 0, 100_000, "retries").map(|_| ())
}

/// Probability that a request still fails after `retries` retries when each
/// attempt fails independently with probability `p` (a transient failure):
/// `p^(retries + 1)`.
///
/// Errors: `p` outside [0, 1]; more than 100,000 retries.
///
/// ```
/// let f = thinkdist::measure::theory::transient_still_failing(0.3, 2)?;
/// assert!((f - 0.027).abs() < 1e-15);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn transient_still_failing(p: f64, retries: u32) -> Result<f64> {
    check_probability("p", p)?;
    check_retries(retries)?;
    Ok(p.powf(f64::from(retries) + 1.0))
}

/// Probability that a request still fails after `retries` retries spaced
/// `delay` apart, against a dependency that alternates between up and down
/// stretches with exponential lengths of means `mean_up` and `mean_down`
/// (an intermittent failure; all three in one unit).
///
/// The dependency is down a share `π = down / (up + down)` of the time, so
/// the first attempt fails with probability `π`. It is a two-state Markov
/// chain: down now, it is still (or again) down `δ` later with probability
/// `π + (1 − π) e^(−δ (1/up + 1/down))`, and a request fails when every
/// attempt finds it down: `π · (that)^retries`. Retries soon after a
/// failure mostly fail again; retries spaced well past the stretches fail
/// like independent ones.
///
/// Errors: a mean that is not a finite number > 0; a negative or NaN
/// delay; more than 100,000 retries.
///
/// ```
/// use thinkdist::measure::theory::intermittent_still_failing;
/// // No retry: the share of time down.
/// assert_eq!(intermittent_still_failing(300.0, 100.0, 50.0, 0)?, 0.25);
/// // Retries right away find it still down.
/// assert!((intermittent_still_failing(300.0, 100.0, 0.0, 3)? - 0.25).abs() < 1e-15);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn intermittent_still_failing(
    mean_up: f64,
    mean_down: f64,
    delay: f64,
    retries: u32,
) -> Result<f64> {
    for (what, v) in [("mean_up", mean_up), ("mean_down", mean_down)] {
        if !(v.is_finite() && v > 0.0) {
            return Err(Error::invalid(what, v, "a finite mean > 0"));
        }
    }
    if delay.is_nan() || delay < 0.0 {
        return Err(Error::invalid("delay", delay, "a delay >= 0"));
    }
    check_retries(retries)?;
    let (u, d) = (mean_up, mean_down);
    let pi_d = d / (u + d);
    let pdd = pi_d + (1.0 - pi_d) * (-delay * (1.0 / u + 1.0 / d)).exp();
    Ok(pi_d * pdd.powf(f64::from(retries)))
}

/// Probability that one of `tries` independent attempts succeeds when each
/// fails with probability `p`: `1 − p^tries`.
///
/// Errors: `p` outside [0, 1]; `tries` = 0 or above 100,001.
pub fn success_within(p: f64, tries: u32) -> Result<f64> {
    check_probability("p", p)?;
    crate::error::check_count("tries", tries as usize, 1, 100_001, "attempts")?;
    Ok(1.0 - p.powf(f64::from(tries)))
}

/// Mean number of attempts a success takes, given that one of `tries`
/// attempts succeeds (each fails independently with probability `p`): the
/// truncated geometric mean `Σ_{a=1}^{tries} a p^(a−1) (1 − p) / (1 − p^tries)`.
/// NaN when no attempt can succeed (`p = 1`).
///
/// Errors: as [`success_within`].
///
/// ```
/// use thinkdist::measure::theory::mean_attempts_to_succeed;
/// assert_eq!(mean_attempts_to_succeed(0.0, 5)?, 1.0);
/// // Two tries at p = 1/2: a success on the first (2/3) or second (1/3).
/// assert!((mean_attempts_to_succeed(0.5, 2)? - 4.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn mean_attempts_to_succeed(p: f64, tries: u32) -> Result<f64> {
    let within = success_within(p, tries)?;
    if within <= 0.0 {
        return Ok(f64::NAN);
    }
    Ok((1..=tries)
        .map(|a| f64::from(a) * p.powf(f64::from(a - 1)) * (1.0 - p))
        .sum::<f64>()
        / within)
}

/// Probability that a Poisson stream of events at `rate` (per unit of
/// time) puts at least one event into a window of length `t` (same unit):
/// `1 − e^(−rate · t)`. With crashes as the events, the chance that a crash
/// falls inside a stretch of work of length `t`.
///
/// Errors: a rate or window that is negative or not finite.
///
/// ```
/// let p = thinkdist::measure::theory::at_least_one_event(2.0, 0.5)?;
/// assert!((p - (1.0 - (-1.0f64).exp())).abs() < 1e-15);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn at_least_one_event(rate: f64, t: f64) -> Result<f64> {
    crate::error::check_non_negative("rate", rate)?;
    crate::error::check_non_negative("t", t)?;
    Ok(1.0 - (-rate * t).exp())
}
