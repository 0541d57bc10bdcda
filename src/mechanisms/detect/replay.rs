//! Replaying a detector over recorded heartbeat arrivals.
//!
//! Detectors are passive: they see only `heartbeat(now)` and `check(now)`.
//! So a detector fed a recorded list of arrival times and checked on the
//! same grid of times as a live monitor makes exactly the live monitor's
//! decisions, and one recorded run can score many detector settings.

use super::{Detector, Status};
use crate::error::{Error, Result};
use crate::sim::time::{SimDuration, SimTime};

/// Feeds recorded heartbeat `arrivals` into `det` and checks it on the grid
/// `k · check_every` up to `horizon`, exactly as a live monitor would
/// (ticks strictly between two arrivals; between two arrivals the first
/// suspecting tick is found by bisection, which is valid because a
/// detector's status is monotone until the next heartbeat).
pub fn replay<D: Detector>(
    det: &mut D,
    arrivals: &[SimTime],
    check_every: SimDuration,
    horizon: SimTime,
) -> Result<()> {
    if check_every == SimDuration::ZERO {
        return Err(Error::invalid("check_every", check_every, "a duration > 0"));
    }
    let step = check_every.0;
    for (i, &a) in arrivals.iter().enumerate() {
        det.heartbeat(a);
        // Ticks k with a < k·step and k·step < next (or <= horizon at the end).
        // No tick after the end of virtual time.
        let Some(lo) = (a.0 / step)
            .checked_add(1)
            .filter(|k| k.checked_mul(step).is_some())
        else {
            continue;
        };
        let hi = match arrivals.get(i + 1) {
            Some(next) if next.0 > 0 => (next.0 - 1) / step,
            Some(_) => 0,
            None => horizon.0 / step,
        };
        if hi < lo || det.status_at(SimTime(hi * step)) == Status::Trust {
            continue;
        }
        let (mut l, mut h) = (lo, hi); // answer in [l, h]
        while l < h {
            let mid = l + (h - l) / 2;
            if det.status_at(SimTime(mid * step)) == Status::Suspect {
                h = mid;
            } else {
                l = mid + 1;
            }
        }
        det.check(SimTime(l * step));
    }
    Ok(())
}
