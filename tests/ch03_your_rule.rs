//! Notebook 03's "Change the protocol" section: a suspicion rule written
//! the way a cell writes it, judged by the chapter's tradeoff. The reader's
//! starting rule (tests/ch03/my_rule.rs, word for word the notebook's cell)
//! is the fixed timeout and gives the sweep's timeout curve point for point;
//! the "try this" rules behave as the prose says.

mod prose;

use thinkdist::ch03::failure_detection::{self as fd, FailureDetection, TradeoffPoint};
use thinkdist::prelude::*;

include!("ch03/my_rule.rs");

const NB: &str = "03-failure-tolerance";

/// The notebook's parameters: the heartbeat stream and the sweep's knobs.
fn setup() -> (FailureDetection, Vec<u64>, u64) {
    let fd = FailureDetection {
        seed: 1,
        interval: ms(100),
        loss: 0.01,
        pause_prob: 0.005,
        pause_mean: ms(300),
        crash_at: secs(1800),
        ..Default::default()
    };
    (fd, vec![200, 300, 400, 500, 700, 1000, 1500, 2000], 6)
}

fn same(a: &[TradeoffPoint], b: &[TradeoffPoint]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.param, y.param);
        assert_eq!(x.wrong_total, y.wrong_total, "at {}", x.param);
        assert_eq!(x.missed, y.missed);
        assert_eq!(x.detection_ms.mean.to_bits(), y.detection_ms.mean.to_bits());
    }
}

#[test]
fn the_readers_starting_rule_is_the_fixed_timeout() -> Result<()> {
    let (long, timeouts, seeds) = setup();
    let list: Vec<SimDuration> = timeouts.iter().map(|&t| ms(t)).collect();
    let sweep = fd::tradeoff(&long, &list, &[], seeds)?;
    let knobs: Vec<f64> = timeouts.iter().map(|&t| t as f64).collect();
    let mine = fd::judge_rule("my rule", &long, &knobs, seeds, |k| MyRule {
        timeout: ms(k as u64),
        last: None,
    })?;
    same(&mine.points, &sweep.heartbeat);
    let (first, last) = (&mine.points[0], &mine.points[mine.points.len() - 1]);
    prose::says(
        NB,
        &format!(
            "the same {:.0} wrong suspicions an hour at 200 ms and {:.0} at 2,000 ms",
            first.wrong_per_hour, last.wrong_per_hour
        ),
    );
    sweep.chart_with(&mine)?;
    assert_eq!(mine.table().rows().len(), timeouts.len());
    prose::cell_is(
        NB,
        "struct MyRule",
        include_str!("ch03/my_rule.rs"),
        "tests/ch03/my_rule.rs",
    );
    Ok(())
}

#[test]
fn a_rule_judged_on_other_seeds_is_refused_and_bad_knobs_are_errors() -> Result<()> {
    let (long, _, _) = setup();
    let short = FailureDetection {
        crash_at: secs(60),
        ..long.clone()
    };
    let rule = |k: f64| MyRule {
        timeout: ms(k as u64),
        last: None,
    };
    let sweep = fd::tradeoff(&short, &[ms(300)], &[], 2)?;
    let other = fd::judge_rule("mine", &short, &[300.0], 3, rule)?;
    assert!(sweep.chart_with(&other).is_err());
    assert!(fd::judge_rule("mine", &short, &[], 2, rule).is_err());
    assert!(fd::judge_rule("mine", &short, &[f64::NAN], 2, rule).is_err());
    assert!(fd::judge_rule("mine", &short, &[300.0], 0, rule).is_err());
    Ok(())
}

/// Try this: the rule doubles its timeout after each wrong suspicion
/// (the reader's three-line edit of `heartbeat`).
mod learns {
    use super::*;
    pub struct MyRule {
        pub timeout: SimDuration,
        pub last: Option<SimTime>,
    }
    impl SuspicionRule for MyRule {
        fn heartbeat(&mut self, now: SimTime) {
            if self.last.is_some_and(|l| now.since(l) >= self.timeout) {
                self.timeout = self.timeout * 2; // that suspicion was wrong: wait longer
            }
            self.last = Some(now);
        }
        fn suspects(&self, now: SimTime) -> bool {
            self.last.is_some_and(|l| now.since(l) >= self.timeout)
        }
    }
}

/// Try this, too: TCP's retransmission timer (Jacobson 1988): smoothed
/// mean of the gaps plus `k` smoothed deviations.
struct Jacobson {
    k: f64,
    last: Option<SimTime>,
    mean: f64,
    dev: f64,
}
impl SuspicionRule for Jacobson {
    fn heartbeat(&mut self, now: SimTime) {
        if let Some(l) = self.last {
            let err = now.since(l).as_ms() - self.mean;
            self.mean += err / 8.0;
            self.dev += (err.abs() - self.dev) / 4.0;
        }
        self.last = Some(now);
    }
    fn suspects(&self, now: SimTime) -> bool {
        self.last
            .is_some_and(|l| now.since(l).as_ms() >= self.mean + self.k * self.dev)
    }
}

fn thousands(x: f64) -> String {
    let n = x.round() as u64;
    if n >= 1000 {
        format!("{},{:03}", n / 1000, n % 1000)
    } else {
        n.to_string()
    }
}

fn row(p: &TradeoffPoint) -> String {
    format!(
        "{}: {:.0} ms, {:.1}/h",
        p.param, p.detection_ms.mean, p.wrong_per_hour
    )
}

#[test]
fn try_this_rules_do_worse_than_the_fixed_timeout() -> Result<()> {
    let (long, timeouts, seeds) = setup();
    let list: Vec<SimDuration> = timeouts.iter().map(|&t| ms(t)).collect();
    let sweep = fd::tradeoff(&long, &list, &[], seeds)?;
    let knobs: Vec<f64> = timeouts.iter().map(|&t| t as f64).collect();
    let learn = fd::judge_rule("my rule", &long, &knobs, seeds, |k| learns::MyRule {
        timeout: ms(k as u64),
        last: None,
    })?;
    let ks = [2.0, 4.0, 8.0, 16.0, 32.0, 64.0];
    let jac = fd::judge_rule("jacobson", &long, &ks, seeds, |k| Jacobson {
        k,
        last: None,
        mean: 100.0,
        dev: 50.0,
    })?;
    for p in &sweep.heartbeat {
        eprintln!("timeout {}", row(p));
    }
    for p in &learn.points {
        eprintln!("learn {}", row(p));
    }
    for p in &jac.points {
        eprintln!("jacobson {}", row(p));
    }
    // Doubling: every point slower, and no more accurate, than the fixed
    // 2,000 ms timeout.
    let t2000 = sweep.heartbeat.last().unwrap();
    assert_eq!(t2000.param, 2000.0);
    for p in &learn.points {
        assert!(p.detection_ms.mean > t2000.detection_ms.mean, "{}", row(p));
        assert!(p.wrong_per_hour >= t2000.wrong_per_hour, "{}", row(p));
    }
    let det = |f: fn(f64, f64) -> f64, init| {
        learn
            .points
            .iter()
            .map(|p| p.detection_ms.mean)
            .fold(init, f)
            / 1000.0
    };
    let wrong =
        |f: fn(f64, f64) -> f64, init| learn.points.iter().map(|p| p.wrong_per_hour).fold(init, f);
    prose::says(
        NB,
        &format!(
            "only after {:.1}–{:.1} s and still suspects wrongly {:.0} to {:.0} times an hour",
            det(f64::min, f64::INFINITY),
            det(f64::max, 0.0),
            wrong(f64::min, f64::INFINITY),
            wrong(f64::max, 0.0)
        ),
    );
    prose::says(
        NB,
        &format!(
            "2,000 ms timeout ({} ms, {:.1} an hour)",
            thousands(t2000.detection_ms.mean),
            t2000.wrong_per_hour
        ),
    );
    // Jacobson at k = 16 against the 400 ms timeout: faster, and more
    // than three times the wrong suspicions.
    let (j16, t400) = (&jac.points[3], &sweep.heartbeat[2]);
    assert_eq!((j16.param, t400.param), (16.0, 400.0));
    assert!(j16.detection_ms.mean < t400.detection_ms.mean);
    assert!(j16.wrong_per_hour > 3.0 * t400.wrong_per_hour);
    prose::says(
        NB,
        &format!(
            "with k = 16 it detects in {:.0} ms and suspects wrongly {:.0} times an hour, where the fixed 400 ms timeout detects in {:.0} ms with {:.0}",
            j16.detection_ms.mean, j16.wrong_per_hour, t400.detection_ms.mean, t400.wrong_per_hour
        ),
    );
    Ok(())
}
