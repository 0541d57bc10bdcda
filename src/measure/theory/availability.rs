//! Availability: k of n independent replicas up, a repaired component's
//! uptime, nines and downtime per year.

use super::queueing::MAX_SERVERS;
use crate::error::{check_non_negative, check_positive, check_probability, Error, Result};
use crate::sim::time::SimDuration;

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
