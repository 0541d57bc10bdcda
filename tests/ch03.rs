//! Chapter 3: failure models, failure detectors, retries and hedging, and the
//! chapter's experiments.
//!
//! Statistical tolerances follow tests/engine.rs: a count of Bernoulli(p)
//! events over N trials is checked within 5 standard deviations
//! sqrt(N p (1-p)); a sample mean within 5 standard errors sigma/sqrt(N).
//! Everything else is compared with values derived by hand (in comments).

use thinkdist::ch03::backoff::{self, Contention};
use thinkdist::ch03::failure_detection::{self as fd, FailureDetection};
use thinkdist::ch03::fanout::{Fanout, Hedging, ServerLatency};
use thinkdist::detect::{self, Detector, HeartbeatDetector, PhiAccrual, Status};
use thinkdist::failure::{FailureInjector, FailureMode, Faulty, Outbox, Service};
use thinkdist::prelude::*;
use thinkdist::retry::{Attempt, Backoff, Hedge, RetryPolicy};
use thinkdist::sim::rng::{self, domain};

fn t(ms_: u64) -> SimTime {
    SimTime::from_start(ms(ms_))
}

fn within_sigmas(count: u64, n: u64, p: f64, k: f64) -> bool {
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    (count as f64 - n as f64 * p).abs() <= k * sd.max(1.0)
}

// ---------------------------------------------------------------- retry

#[test]
fn deterministic_policies_follow_their_formulas() -> Result<()> {
    let mut r = rng::stream(1, domain::EXPERIMENT, 0, 0);
    let exp = RetryPolicy::new(Backoff::Exponential, ms(10), ms(100), 6)?;
    // v = min(100, 10 · 2^(n-1)): 10, 20, 40, 80, 100
    let got: Vec<_> = (1..=5)
        .map(|n| exp.delay(n, SimDuration::ZERO, &mut r))
        .collect();
    assert_eq!(
        got,
        vec![
            Some(ms(10)),
            Some(ms(20)),
            Some(ms(40)),
            Some(ms(80)),
            Some(ms(100))
        ]
    );
    assert_eq!(
        exp.delay(6, SimDuration::ZERO, &mut r),
        None,
        "6 attempts made"
    );
    assert_eq!(
        exp.delay(0, SimDuration::ZERO, &mut r),
        None,
        "0 is no failure"
    );
    let fixed = RetryPolicy::new(Backoff::Fixed, ms(7), ms(7), 3)?;
    assert_eq!(fixed.delay(2, ms(99), &mut r), Some(ms(7)));
    let none = RetryPolicy::new(Backoff::None, SimDuration::ZERO, SimDuration::ZERO, 3)?;
    assert_eq!(
        none.delay(1, SimDuration::ZERO, &mut r),
        Some(SimDuration::ZERO)
    );
    // Huge attempt numbers saturate at the cap instead of overflowing.
    let big = RetryPolicy::new(Backoff::Exponential, ms(1), secs(5), u32::MAX)?;
    assert_eq!(big.delay(500, SimDuration::ZERO, &mut r), Some(secs(5)));
    Ok(())
}

#[test]
fn jitter_stays_within_documented_bounds() -> Result<()> {
    let (base, cap) = (ms(10), ms(300));
    let mut r = rng::stream(7, domain::EXPERIMENT, 1, 0);
    for kind in [
        Backoff::FullJitter,
        Backoff::EqualJitter,
        Backoff::Decorrelated,
    ] {
        let p = RetryPolicy::new(kind, base, cap, 50)?;
        let mut prev = SimDuration::ZERO;
        for i in 0..30_000u32 {
            let attempt = 1 + i % 10;
            let d = p.delay(attempt, prev, &mut r).expect("attempt < max");
            let v = p.envelope(attempt);
            assert!(d <= cap, "{kind:?}: {d} above cap");
            match kind {
                Backoff::FullJitter => assert!(d < v.max(ns(1)), "{kind:?} {d} >= {v}"),
                Backoff::EqualJitter => {
                    assert!(
                        d.0 >= v.0 / 2 && d < v,
                        "{kind:?} {d} not in [v/2, v), v = {v}"
                    )
                }
                Backoff::Decorrelated => {
                    let hi = 3 * prev.max(base).0;
                    assert!(d >= base && d.0 <= hi, "{kind:?} {d} not in [base, 3 prev]");
                }
                _ => unreachable!(),
            }
            prev = d;
        }
    }
    Ok(())
}

/// Full jitter written as a reader would, as a plain function.
fn my_full_jitter(a: &Attempt, rng: &mut SimRng) -> SimDuration {
    SimDuration((a.envelope.0 as f64 * rng::unit_f64(rng)) as u64)
}

#[test]
fn a_custom_policy_runs_inside_the_precompiled_experiment() -> Result<()> {
    // The same draws from the same stream: a custom copy of full jitter must
    // give the built-in's results exactly, in one run and through `compare`'s
    // sweep over seeds.
    let mine = Backoff::custom("my full jitter", my_full_jitter);
    let mut r1 = rng::stream(5, domain::EXPERIMENT, 3, 0);
    let mut r2 = rng::stream(5, domain::EXPERIMENT, 3, 0);
    let builtin = RetryPolicy::new(Backoff::FullJitter, ms(2), ms(500), 20)?;
    let custom = builtin.with_kind(mine)?;
    for attempt in 1..20 {
        assert_eq!(
            builtin.delay(attempt, SimDuration::ZERO, &mut r1),
            custom.delay(attempt, SimDuration::ZERO, &mut r2)
        );
    }
    assert_eq!(
        custom.delay(20, SimDuration::ZERO, &mut r2),
        None,
        "gives up"
    );
    let setup = Contention {
        service: us(200),
        ..Contention::default()
    };
    let curves = backoff::compare(&[Backoff::FullJitter, mine], &[5, 20], &setup, 3)?;
    assert_eq!(curves.len(), 2);
    assert_eq!(curves[1].policy.name(), "my full jitter");
    for (a, b) in curves[0].points.iter().zip(&curves[1].points) {
        assert_eq!(a.calls.mean, b.calls.mean);
        assert_eq!(a.completion_ms.mean, b.completion_ms.mean);
    }
    // A custom wait longer than the cap is cut to it; base 0 is allowed for
    // a custom policy (it need not use it).
    let huge = RetryPolicy::new(
        Backoff::custom("forever", |_, _| secs(3600)),
        SimDuration::ZERO,
        ms(50),
        3,
    )?;
    assert_eq!(huge.delay(1, SimDuration::ZERO, &mut r1), Some(ms(50)));
    Ok(())
}

#[test]
fn full_jitter_mean_is_half_the_envelope() -> Result<()> {
    // Uniform(0, v): mean v/2, sd v/sqrt(12); 5 standard errors over N draws.
    let p = RetryPolicy::new(Backoff::FullJitter, ms(10), secs(1), 10)?;
    let mut r = rng::stream(3, domain::EXPERIMENT, 2, 0);
    let n = 40_000;
    let v = p.envelope(4).0 as f64; // 80 ms
    assert_eq!(v, 80e6);
    let mean = (0..n)
        .map(|_| p.delay(4, SimDuration::ZERO, &mut r).unwrap().0 as f64)
        .sum::<f64>()
        / n as f64;
    let se = v / 12f64.sqrt() / (n as f64).sqrt();
    assert!(
        (mean - v / 2.0).abs() < 5.0 * se,
        "mean {mean} vs {}",
        v / 2.0
    );
    // Equal jitter: uniform(v/2, v), mean 3v/4.
    let e = RetryPolicy::new(Backoff::EqualJitter, ms(10), secs(1), 10)?;
    let mean = (0..n)
        .map(|_| e.delay(4, SimDuration::ZERO, &mut r).unwrap().0 as f64)
        .sum::<f64>()
        / n as f64;
    let se = v / 2.0 / 12f64.sqrt() / (n as f64).sqrt();
    assert!((mean - 0.75 * v).abs() < 5.0 * se);
    Ok(())
}

#[test]
fn retry_and_hedge_parameters_are_checked() {
    assert!(RetryPolicy::new(Backoff::FullJitter, ms(10), ms(5), 3)
        .unwrap_err()
        .is_invalid_parameter());
    assert!(RetryPolicy::new(Backoff::Fixed, ms(10), ms(10), 0).is_err());
    assert!(RetryPolicy::new(Backoff::Exponential, SimDuration::ZERO, ms(10), 3).is_err());
    assert!(RetryPolicy::from_ms(Backoff::Fixed, -1.0, 10.0, 3).is_err());
    assert!(RetryPolicy::from_ms(Backoff::Fixed, f64::NAN, 10.0, 3).is_err());
    assert!(RetryPolicy::from_ms(Backoff::Fixed, 1.0, f64::INFINITY, 3).is_err());
    assert!(RetryPolicy::from_ms(Backoff::Fixed, 1.0, 10.0, 3).is_ok());
    assert!(RetryPolicy::default()
        .with_timeout(SimDuration::ZERO)
        .is_err());
    assert!(Hedge::from_ms(-0.5).unwrap_err().is_invalid_parameter());
    assert!(Hedge::from_ms(f64::NAN).is_err());
}

#[test]
fn hedge_takes_the_first_answer() -> Result<()> {
    let h = Hedge::from_ms(10.0)?;
    // Primary answers in 5 ms: no second copy, the backup is never drawn.
    let o = h.resolve(ms(5), || panic!("backup drawn for an unhedged request"));
    assert_eq!((o.latency, o.hedged), (ms(5), false));
    // Primary 30 ms; backup sent at 10 ms answers 5 ms later: 15 ms.
    let o = h.resolve(ms(30), || ms(5));
    assert_eq!((o.latency, o.hedged, o.backup_won), (ms(15), true, true));
    // Backup slower: the primary still wins, but the copy was sent.
    let o = h.resolve(ms(30), || ms(50));
    assert_eq!((o.latency, o.hedged, o.backup_won), (ms(30), true, false));
    assert!(h.should_hedge(ms(10), false) && !h.should_hedge(ms(10), true));
    Ok(())
}

// ---------------------------------------------------------------- detectors

#[test]
fn heartbeat_detector_on_a_scripted_sequence() -> Result<()> {
    let mut d = HeartbeatDetector::new(ms(200))?;
    assert_eq!(
        d.check(t(1000)),
        Status::Trust,
        "no heartbeat yet: nothing to time"
    );
    for x in [0, 100, 200] {
        d.heartbeat(t(x));
    }
    assert_eq!(d.deadline(), Some(t(400)));
    assert_eq!(d.check(t(399)), Status::Trust);
    assert_eq!(d.check(t(400)), Status::Suspect); // 200 ms after the last one
    assert_eq!(d.check(t(500)), Status::Suspect); // no new transition
    d.heartbeat(t(520));
    assert_eq!(d.check(t(719)), Status::Trust);
    assert_eq!(d.check(t(720)), Status::Suspect);
    assert_eq!(
        d.transitions(),
        &[
            (t(400), Status::Suspect),
            (t(520), Status::Trust),
            (t(720), Status::Suspect)
        ]
    );
    Ok(())
}

#[test]
fn normal_cdf_matches_tables() {
    for (z, want) in [
        (0.0, 0.5),
        (1.0, 0.841_344_746),
        (-1.959_963_985, 0.025),
        (3.0, 0.998_650_102),
        (-3.0, 0.001_349_898),
    ] {
        // erfc is good to a relative 1.2e-7, so Φ = erfc/2 to 6e-8 + table rounding.
        let got = detect::normal_cdf(z);
        assert!((got - want).abs() < 1e-7, "Φ({z}) = {got}, want {want}");
    }
    assert!((detect::erfc(1.0) / 0.157_299_207_050_285 - 1.0).abs() < 1.2e-7);
    // Far tail: 1 − Φ(z) ≈ φ(z)/z · (1 − 1/z² + 3/z⁴) (Mills ratio), here below f64's range.
    let z: f64 = 40.0;
    let want = (-z * z / 2.0 - (z * (2.0 * std::f64::consts::PI).sqrt()).ln()
        + (1.0 - 1.0 / (z * z) + 3.0 / z.powi(4)).ln())
        / std::f64::consts::LN_10;
    let got = detect::log10_normal_tail(z);
    assert!((got - want).abs() < 1e-4, "{got} vs {want}");
}

#[test]
fn phi_matches_the_formula_on_a_known_history() -> Result<()> {
    // Heartbeats at 0, 100, 300, 400 ms: intervals 100, 200, 100.
    // mean = 400/3, variance = (10000+40000+10000)/3 − mean² = 20000/9, sd = 141.42/3.
    // 200 ms after the last: z = (200 − 400/3) / (141.42/3) = √2, so
    // φ = −log10(1 − Φ(√2)) = −log10(erfc(1)/2) = −log10(0.0786496035) = 1.1043030.
    let mut p = PhiAccrual::new(1.0, 10, ms(1))?;
    for x in [0, 100, 300, 400] {
        p.heartbeat(t(x));
    }
    let (mean, sd) = p.mean_sd_ms().unwrap();
    assert!((mean - 400.0 / 3.0).abs() < 1e-9 && (sd - (20000f64 / 9.0).sqrt()).abs() < 1e-9);
    let phi = p.phi(t(600));
    assert!((phi - 1.104_303_0).abs() < 1e-6, "phi = {phi}");
    assert_eq!(p.check(t(600)), Status::Suspect); // 1.104 >= 1.0
    let mut q = PhiAccrual::new(1.2, 10, ms(1))?;
    for x in [0, 100, 300, 400] {
        q.heartbeat(t(x));
    }
    assert_eq!(q.check(t(600)), Status::Trust); // 1.104 < 1.2
                                                // The window forgets: with window 1 only the last interval (100) counts,
                                                // sd 0 is floored at 10 ms, so at t = 120 ms: z = 2, φ = −log10(0.0227501) = 1.64302.
    let mut w = PhiAccrual::new(5.0, 1, ms(10))?;
    for x in [0, 300, 400] {
        w.heartbeat(t(x));
    }
    assert!((w.phi(t(520)) - 1.643_02).abs() < 1e-5, "{}", w.phi(t(520)));
    // Before two heartbeats there is nothing to learn from.
    let mut e = PhiAccrual::new(1.0, 10, ms(1))?;
    assert_eq!(e.phi(t(5000)), 0.0);
    e.heartbeat(t(0));
    assert_eq!(e.check(t(5000)), Status::Trust);
    Ok(())
}

#[test]
fn detector_parameters_are_checked() {
    assert!(HeartbeatDetector::new(SimDuration::ZERO)
        .unwrap_err()
        .is_invalid_parameter());
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(
            PhiAccrual::new(bad, 100, ms(10)).is_err(),
            "threshold {bad}"
        );
    }
    assert!(PhiAccrual::new(8.0, 0, ms(10)).is_err());
    assert!(PhiAccrual::new(8.0, 100, SimDuration::ZERO).is_err());
}

// ---------------------------------------------------------------- failure models

/// Echoes requests (odd = health check) and records when it handled what.
#[derive(Clone, Default)]
struct Echo {
    handled: Vec<(SimTime, u64)>,
    answers: u64,
}

impl Service for Echo {
    type Msg = u64;
    type Timer = ();
    fn handle<N: Node<Msg = u64>>(&mut self, ctx: &mut Ctx<'_, N>, _from: NodeId, m: u64) {
        self.handled.push((ctx.now(), m));
        self.answers += 1;
    }
    fn handle_with<N: Node<Msg = u64>>(
        &mut self,
        out: &mut Outbox<'_, '_, N>,
        from: NodeId,
        m: u64,
    ) {
        self.handled.push((out.now(), m));
        if from == 0 && m < 1_000_000 {
            out.send(0, m + 1_000_000); // answers are >= 1e6
        } else if from == 1 {
            self.answers += 1;
        }
    }
}

fn pair(server: FailureInjector<u64>) -> Result<Sim<Faulty<Echo>>> {
    Sim::builder().seed(5).trace(0).build(vec![
        Faulty::new(Echo::default(), FailureInjector::new(|_| false)),
        Faulty::new(Echo::default(), server),
    ])
}

#[test]
fn omission_drops_the_configured_fractions() -> Result<()> {
    let (r, s) = (0.3, 0.2);
    let inj = FailureInjector::new(|_: &u64| false).from(
        SimDuration::ZERO,
        FailureMode::Omission {
            send: s,
            receive: r,
        },
    )?;
    let mut sim = pair(inj)?;
    let n = 20_000u64;
    sim.with_node(0, |_, ctx| {
        for i in 0..n {
            ctx.send(1, i)
        }
    })?;
    sim.run_for(secs(1))?;
    let c = sim.node(1)?.injector().counts();
    assert!(within_sigmas(c.dropped_receives, n, r, 5.0), "{c:?}");
    let reached = n - c.dropped_receives;
    assert!(within_sigmas(c.dropped_sends, reached, s, 5.0), "{c:?}");
    // Answers: Binomial(n, (1 − r)(1 − s)) = 0.56 n.
    let answers = sim.node(0)?.inner().answers;
    assert!(
        within_sigmas(answers, n, (1.0 - r) * (1.0 - s), 5.0),
        "{answers}"
    );
    assert_eq!(answers, reached - c.dropped_sends);
    Ok(())
}

#[test]
fn slow_node_handles_messages_late_and_in_order() -> Result<()> {
    // Slow (+10 ms) during [0, 5 ms). Injected messages arrive at 0, 1, 2 ms
    // and are handled at 10, 11, 12 ms; one arriving at 5 ms (correct mode
    // again) must not overtake them: handled at 12 ms, after message 2.
    let inj = FailureInjector::new(|_: &u64| false).window(
        SimDuration::ZERO,
        ms(5),
        FailureMode::Slow { extra: ms(10) },
    )?;
    let mut sim = pair(inj)?;
    for (m, at) in [(0, 0), (1, 1), (2, 2), (3, 5)] {
        sim.inject_exact(1, m, ms(at))?;
    }
    sim.run_for(ms(50))?;
    assert_eq!(
        sim.node(1)?.inner().handled,
        vec![(t(10), 0), (t(11), 1), (t(12), 2), (t(12), 3)]
    );
    assert_eq!(sim.node(1)?.injector().counts().delayed, 3);
    assert_eq!(sim.node(1)?.injector().held(), 0);
    Ok(())
}

#[test]
fn gray_node_answers_health_checks_only() -> Result<()> {
    // Odd messages are health checks. Gray from 10 ms on.
    let inj = FailureInjector::new(|m: &u64| m % 2 == 1).from(ms(10), FailureMode::Gray)?;
    assert_eq!(inj.mode_at(t(9)), FailureMode::Correct);
    assert_eq!(inj.mode_at(t(10)), FailureMode::Gray);
    let mut sim = pair(inj)?;
    for i in 0..20u64 {
        sim.inject(1, i, ms(i))?; // arrives at i ms
    }
    sim.run_for(ms(100))?;
    let handled: Vec<u64> = sim.node(1)?.inner().handled.iter().map(|h| h.1).collect();
    // Before 10 ms (messages 0..=9): everything; from then on: odd only.
    let want: Vec<u64> = (0..20u64).filter(|&i| i <= 9 || i % 2 == 1).collect();
    assert_eq!(handled, want);
    assert_eq!(sim.node(1)?.injector().counts().ignored, 5); // 10, 12, 14, 16, 18
    Ok(())
}

#[test]
fn failure_parameters_are_checked() {
    let inj = || FailureInjector::new(|_: &u64| false);
    let om = |s, r| FailureMode::Omission {
        send: s,
        receive: r,
    };
    assert!(inj()
        .from(ms(0), om(1.5, 0.0))
        .unwrap_err()
        .is_invalid_parameter());
    assert!(inj().from(ms(0), om(0.0, -0.1)).is_err());
    assert!(inj().from(ms(0), om(0.0, f64::NAN)).is_err());
    assert!(inj().window(ms(5), ms(1), FailureMode::Gray).is_err());
    assert!(fd::failure_modes(1, ms(1), 0.3, ms(5), 0.0).is_err());
    assert!(fd::failure_modes(1, secs(1), 1.3, ms(5), 0.0).is_err());
    assert!(fd::failure_modes(1, secs(1), 0.3, ms(5), -0.1).is_err());
}

#[test]
fn failure_modes_demo_shows_each_model() -> Result<()> {
    let demo = fd::failure_modes(1, secs(1), 0.3, ms(50), 0.3)?;
    let p = &demo.phases;
    assert_eq!(p.len(), 6);
    assert_eq!((p[0].requests_answered, p[0].health_answered), (1.0, 1.0));
    // Network loss 30 % each way and server omission 30 % each way: a round
    // trip survives with 0.7² = 0.49 in both; 465 requests per phase
    // (500 sent, those of the last 70 ms left out); 5 standard errors.
    let n: f64 = 465.0;
    let tol = 5.0 * (0.49f64 * 0.51 / n).sqrt();
    assert!(
        (p[1].requests_answered - 0.49).abs() < tol,
        "{}",
        p[1].requests_answered
    );
    assert_eq!((p[2].requests_answered, p[2].health_answered), (0.0, 0.0)); // crashed
    assert!(
        (p[3].requests_answered - 0.49).abs() < tol,
        "{}",
        p[3].requests_answered
    );
    assert_eq!(p[4].requests_answered, 1.0);
    assert!(p[4].mean_rtt_ms - p[0].mean_rtt_ms > 45.0); // +50 ms, different latency draws
    assert_eq!((p[5].requests_answered, p[5].health_answered), (0.0, 1.0)); // gray
                                                                            // Without network loss the lossy-network phase is a correct one.
    let clean = fd::failure_modes(1, secs(1), 0.3, ms(50), 0.0)?;
    assert_eq!(clean.phases[1].requests_answered, 1.0);
    Ok(())
}

// ---------------------------------------------------------------- detection experiment

/// A clean network: no loss, no stalls, latency 5–15 ms.
fn clean(seed: u64) -> Result<FailureDetection> {
    Ok(FailureDetection {
        seed,
        latency: Latency::uniform(ms(5), ms(15))?,
        loss: 0.0,
        pause_prob: 0.0,
        crash_at: secs(30),
        after_crash: secs(5),
        timeout: ms(300),
        ..FailureDetection::default()
    })
}

/// The detection check: the crash is detected, with no wrong suspicion,
/// within [timeout − interval, timeout + max latency + check period].
/// Derivation: the last heartbeat leaves in (crash − interval, crash] and
/// arrives up to `max latency` later; suspicion starts at the first check at
/// or after arrival + timeout.
fn check_detection(transitions: &[(SimTime, Status)], p: &FailureDetection) -> Result<(), String> {
    let s = fd::score(transitions, SimTime::from_start(p.crash_at));
    let d = s.detection.ok_or("crash never detected")?;
    let lo = p.timeout.0 - p.interval.0;
    let hi = p.timeout.0 + ms(15).0 + p.check_every.0;
    if s.wrong_suspicions != 0 {
        return Err(format!("{} wrong suspicions", s.wrong_suspicions));
    }
    if d.0 < lo || d.0 > hi {
        return Err(format!("detection {d} outside [{lo} ns, {hi} ns]"));
    }
    Ok(())
}

#[test]
fn heartbeat_detector_detects_a_simulated_crash_in_time() -> Result<()> {
    for seed in 1..=5 {
        let p = clean(seed)?;
        let run = p.run()?;
        check_detection(run.heartbeat.transitions(), &p).map_err(|e| Error::empty(&e))?;
    }
    Ok(())
}

/// A detector that never suspects anyone.
struct NeverSuspect(detect::TransitionLog);
impl Detector for NeverSuspect {
    fn heartbeat(&mut self, _: SimTime) {}
    fn status_at(&self, _: SimTime) -> Status {
        Status::Trust
    }
    fn log(&self) -> &detect::TransitionLog {
        &self.0
    }
    fn log_mut(&mut self) -> &mut detect::TransitionLog {
        &mut self.0
    }
}

#[test]
fn the_detection_check_fails_for_broken_detectors() -> Result<()> {
    let p = clean(1)?;
    let run = p.run()?;
    let mut never = NeverSuspect(detect::TransitionLog::new());
    fd::replay(&mut never, &run.arrivals, p.check_every, p.horizon())?;
    assert_eq!(
        check_detection(never.transitions(), &p),
        Err("crash never detected".into())
    );
    // A timeout far too long detects, but too late for the check.
    let mut slow = HeartbeatDetector::new(ms(900))?;
    fd::replay(&mut slow, &run.arrivals, p.check_every, p.horizon())?;
    assert!(check_detection(slow.transitions(), &p).is_err());
    // One too short suspects wrongly.
    let mut jumpy = HeartbeatDetector::new(ms(60))?;
    fd::replay(&mut jumpy, &run.arrivals, p.check_every, p.horizon())?;
    assert!(check_detection(jumpy.transitions(), &p)
        .unwrap_err()
        .contains("wrong suspicions"));
    Ok(())
}

#[test]
fn replay_gives_the_live_transitions() -> Result<()> {
    // Default network (loss, stalls): the live monitor and a replay over its
    // recorded arrivals agree transition for transition.
    for seed in [1, 2] {
        let p = FailureDetection {
            seed,
            ..FailureDetection::default()
        };
        let run = p.run()?;
        let (mut hb, mut phi) = p.detectors()?;
        fd::replay(&mut hb, &run.arrivals, p.check_every, p.horizon())?;
        fd::replay(&mut phi, &run.arrivals, p.check_every, p.horizon())?;
        assert!(!run.heartbeat.transitions().is_empty());
        assert_eq!(hb.transitions(), run.heartbeat.transitions());
        assert_eq!(phi.transitions(), run.phi.transitions());
    }
    Ok(())
}

#[test]
fn tradeoff_is_deterministic_and_monotone_for_timeouts() -> Result<()> {
    let base = FailureDetection {
        crash_at: secs(600),
        ..FailureDetection::default()
    };
    let timeouts = [ms(200), ms(400), ms(800)];
    let a = fd::tradeoff(&base, &timeouts, &[2.0, 8.0], 3)?;
    let b = fd::tradeoff(&base, &timeouts, &[2.0, 8.0], 3)?;
    assert_eq!(a.table().to_csv(), b.table().to_csv());
    let c = fd::tradeoff(
        &FailureDetection {
            seed: 99,
            ..base.clone()
        },
        &timeouts,
        &[2.0, 8.0],
        3,
    )?;
    assert_ne!(a.table().to_csv(), c.table().to_csv());
    // A longer timeout never suspects more often on the same arrivals, and
    // detects later.
    let h = &a.heartbeat;
    assert!(h[0].wrong_total >= h[1].wrong_total && h[1].wrong_total >= h[2].wrong_total);
    assert!(h[0].detection_ms.mean < h[1].detection_ms.mean);
    assert!(h[1].detection_ms.mean < h[2].detection_ms.mean);
    assert!(fd::tradeoff(&base, &timeouts, &[2.0], 0).is_err());
    assert!(fd::tradeoff(&base, &[SimDuration::ZERO], &[2.0], 1).is_err());
    let bad = FailureDetection { loss: 1.5, ..base };
    assert!(bad.run().unwrap_err().is_invalid_parameter());
    Ok(())
}

// ---------------------------------------------------------------- backoff

fn constant_net(clients: usize, kind: Backoff, attempts: u32) -> Result<Contention> {
    Ok(Contention {
        seed: 1,
        clients,
        policy: RetryPolicy::new(kind, ms(1), secs(1), attempts)?,
        latency: Latency::constant(ms(1)),
        service: SimDuration::ZERO,
    })
}

#[test]
fn contention_matches_hand_counts() -> Result<()> {
    // One client: read + write, done after two round trips (4 ms).
    let one = constant_net(1, Backoff::None, 10)?.run()?;
    assert_eq!((one.calls, one.completion, one.gave_up), (2, ms(4), 0));
    // One attempt each, all in lock-step: one write wins, N − 1 give up.
    let give_up = constant_net(5, Backoff::None, 1)?.run()?;
    assert_eq!((give_up.calls, give_up.gave_up), (10, 4));
    // No backoff, lock-step: round m has N − m + 1 clients making 2 calls and
    // one winner, so calls = 2 (N + ... + 1) = N (N + 1), done at 4 N ms.
    let n = 10;
    let storm = constant_net(n, Backoff::None, 100)?.run()?;
    assert_eq!(storm.calls, (n * (n + 1)) as u64);
    assert_eq!(storm.completion, ms(4 * n as u64));
    assert_eq!(storm.gave_up, 0);
    Ok(())
}

#[test]
fn jitter_does_less_work_than_no_backoff() -> Result<()> {
    let setup = Contention {
        policy: RetryPolicy::new(Backoff::FullJitter, ms(1), secs(1), 100)?,
        ..Contention::default()
    };
    let curves = backoff::compare(&[Backoff::None, Backoff::FullJitter], &[40], &setup, 4)?;
    let none = curves[0].points[0].calls;
    let full = curves[1].points[0].calls;
    assert!(
        full.mean + full.half_width < none.mean - none.half_width,
        "full jitter {full:?} vs none {none:?}"
    );
    let again = backoff::compare(&[Backoff::None, Backoff::FullJitter], &[40], &setup, 4)?;
    assert_eq!(
        backoff::table(&curves).to_csv(),
        backoff::table(&again).to_csv()
    );
    assert!(backoff::compare(&[Backoff::None], &[5], &setup, 1).is_err());
    Ok(())
}

// ---------------------------------------------------------------- fan-out and hedging

#[test]
fn fanout_matches_the_formula() -> Result<()> {
    let f = Fanout {
        requests: 20_000,
        ..Fanout::default()
    };
    // q = 0.99 e^(−10) + 0.01 e^(−0.1) = 0.009093...
    let q = 0.99 * (-10f64).exp() + 0.01 * (-0.1f64).exp();
    assert!((f.q() - q).abs() < 1e-12);
    for p in f.run(&[1, 10, 100])? {
        assert!((p.theory - (1.0 - (1.0 - q).powi(p.n as i32))).abs() < 1e-12);
        assert!(
            within_sigmas(p.slow, p.requests, p.theory, 5.0),
            "n = {}: {} slow of {}, theory {}",
            p.n,
            p.slow,
            p.requests,
            p.theory
        );
    }
    assert!(Fanout {
        requests: 0,
        ..Fanout::default()
    }
    .run(&[1])
    .is_err());
    assert!(Fanout::default().run(&[0]).is_err());
    Ok(())
}

#[test]
fn hedging_extra_load_matches_the_formula() -> Result<()> {
    let h = Hedging {
        requests: 50_000,
        ..Hedging::default()
    };
    let pts = h.run(&[20.0, 50.0, 200.0])?;
    assert_eq!(pts[0].hedged, 0); // no hedging
    for p in &pts[1..] {
        let d = p.delay_ms.unwrap();
        let s = 0.99 * (-d / 10.0).exp() + 0.01 * (-d / 1000.0).exp();
        assert!((p.extra_theory - s).abs() < 1e-12);
        assert!(
            within_sigmas(p.hedged, p.requests, s, 5.0),
            "d = {d}: {} hedged, expected {}",
            p.hedged,
            s * p.requests as f64
        );
    }
    // Hedging at 50 ms cuts the p99.9 from about 2.3 s to under 100 ms.
    assert!(pts[0].p999 > 1500.0 && pts[2].p999 < 100.0);
    // The closed-form quantile without hedging: 1 − F(x) = 0.001 gives x ≈ 2302.6 ms
    // (0.01 e^(−x/1000) = 0.001 → x = 1000 ln 10, the fast part is negligible).
    let sl = ServerLatency::default();
    assert!((sl.hedged_quantile(0.999, None) - 1000.0 * 10f64.ln()).abs() < 0.5);
    assert!(Hedging {
        requests: 10,
        ..Hedging::default()
    }
    .run(&[1.0])
    .is_err());
    assert!(h.run(&[-1.0]).is_err());
    Ok(())
}

#[test]
fn charts_build() -> Result<()> {
    let f = Fanout {
        requests: 2_000,
        ..Fanout::default()
    };
    let pts = f.run(&[1, 10])?;
    thinkdist::ch03::fanout::fanout_chart(&pts, f.deadline)?.to_svg()?;
    let h = Hedging {
        requests: 2_000,
        ..Hedging::default()
    }
    .run(&[20.0, 50.0])?;
    thinkdist::ch03::fanout::hedge_chart(&h)?.to_svg()?;
    thinkdist::ch03::fanout::extra_load_chart(&h)?.to_svg()?;
    let run = FailureDetection::default().run()?;
    run.timeline()?.to_svg()?;
    run.timeline_around_crash(secs(2), secs(4))?.to_svg()?;
    run.phi_chart(50.0)?.to_svg()?;
    let modes = fd::failure_modes(1, secs(1), 0.3, ms(50), 0.05)?;
    modes.gray_diagram()?.to_svg()?;
    modes.success_chart()?.to_svg()?;
    Ok(())
}

// ---------------------------------------------------------------- φ models, exponent, capacity

/// A φ detector that has learnt intervals of mean 100 ms: `window` of them,
/// alternating 100 − a and 100 + a ms (so mean 100, population sd a), then
/// the last heartbeat at the returned time.
fn learnt(mut d: PhiAccrual, a: u64, window: usize) -> (PhiAccrual, SimTime) {
    let mut now = SimTime::ZERO;
    d.heartbeat(now);
    for i in 0..window {
        now += ms(if i % 2 == 0 { 100 - a } else { 100 + a });
        d.heartbeat(now);
    }
    (d, now)
}

#[test]
fn exponential_phi_is_the_cassandra_formula() -> Result<()> {
    // φ = −log10(e^(−t/mean)) = t / (mean · ln 10), mean 100 ms.
    let (d, last) = learnt(PhiAccrual::exponential(1.0, 10)?, 0, 10);
    for t_ms in [0.0, 50.0, 100.0, 230.0, 1000.0, 10_000.0] {
        let at = last + SimDuration::from_ms_f64(t_ms)?;
        let want = t_ms / (100.0 * std::f64::consts::LN_10);
        assert!(
            (d.phi(at) - want).abs() < 1e-9,
            "t = {t_ms}: {} vs {want}",
            d.phi(at)
        );
    }
    assert_eq!(d.model(), detect::PhiModel::Exponential);
    // Threshold 1 is crossed at t = 100 ln 10 = 230.26 ms.
    assert_eq!(d.status_at(last + ms(230)), Status::Trust);
    assert_eq!(d.status_at(last + ms(231)), Status::Suspect);
    Ok(())
}

#[test]
fn ignored_gaps_are_not_learnt() -> Result<()> {
    // Gaps of 100 ms, then one of 700 ms (> 2 × 100): ignored, the mean stays 100.
    let mk = |ignore: bool| -> Result<PhiAccrual> {
        let d = PhiAccrual::exponential(8.0, 100)?;
        if ignore {
            d.ignore_gaps_over(ms(200))
        } else {
            Ok(d)
        }
    };
    let (mut a, last) = learnt(mk(true)?, 0, 4);
    let (mut b, _) = learnt(mk(false)?, 0, 4);
    a.heartbeat(last + ms(700));
    b.heartbeat(last + ms(700));
    assert_eq!(a.mean_sd_ms().unwrap().0, 100.0);
    assert_eq!(b.mean_sd_ms().unwrap().0, (400.0 + 700.0) / 5.0);
    assert_eq!(a.transitions(), b.transitions()); // the heartbeat still counts
    assert!(PhiAccrual::exponential(8.0, 1)?
        .ignore_gaps_over(SimDuration::ZERO)
        .is_err());
    assert!(PhiAccrual::exponential(0.0, 1).is_err());
    Ok(())
}

/// Fraction of `trials` gaps drawn by `gap` (ms) at whose end a detector
/// that learnt `learnt(.., a, 10)` has φ >= `x`.
fn suspect_share(
    proto: &PhiAccrual,
    a: u64,
    x: f64,
    trials: u64,
    mut gap: impl FnMut(&mut rng::SimRng) -> f64,
) -> Result<u64> {
    let (d, last) = learnt(proto.clone(), a, 10);
    let mut r = rng::stream(7, domain::EXPERIMENT, 903, x.to_bits());
    let mut hits = 0;
    for _ in 0..trials {
        let at = last + SimDuration::from_ms_f64(gap(&mut r))?;
        hits += u64::from(d.phi(at) >= x);
    }
    Ok(hits)
}

#[test]
fn phi_means_what_it_says_when_the_model_is_right() -> Result<()> {
    // If the gaps follow the model with the learnt parameters, a silence
    // reaches φ >= x with probability 10^−x. 40,000 gaps; counts within 5
    // binomial standard deviations.
    let n = 40_000;
    let expo = PhiAccrual::exponential(1.0, 10)?;
    let normal = PhiAccrual::new(1.0, 10, ms(1))?;
    for x in [1.0, 2.0] {
        let p = 10f64.powf(-x);
        let e = suspect_share(&expo, 0, x, n, |r| 100.0 * rng::exp1(r))?;
        assert!(
            within_sigmas(e, n, p, 5.0),
            "exponential, φ {x}: {e} of {n}"
        );
        // Normal model: learnt mean 100, sd 20; gaps Normal(100, 20).
        let g = suspect_share(&normal, 20, x, n, |r| {
            (100.0 + 20.0 * rng::standard_normal(r)).max(0.0)
        })?;
        assert!(within_sigmas(g, n, p, 5.0), "normal, φ {x}: {g} of {n}");
    }
    Ok(())
}

#[test]
fn both_phi_models_detect_a_simulated_crash() -> Result<()> {
    // Clean network, interval 100 ms: the exponential model at threshold 1
    // suspects 100 ln 10 = 230 ms after the last heartbeat; the crash comes
    // up to one interval after it, and the check grid and latency add up to
    // 10 + 15 ms.
    let p = FailureDetection {
        phi_threshold: 1.0,
        ..clean(3)?
    };
    let run = p.run()?;
    let s = run.score_exp();
    assert_eq!(s.wrong_suspicions, 0);
    let d = s.detection.expect("detected").as_ms();
    assert!((130.0..=260.0).contains(&d), "{d}");
    let t = fd::tradeoff_models(&p, &[ms(300)], &[8.0], &[1.0, 4.0], 2)?;
    assert_eq!(t.phi_exp.len(), 2);
    assert!(t.phi_exp[0].detection_ms.mean < t.phi_exp[1].detection_ms.mean);
    t.chart()?.to_svg()?;
    assert!(FailureDetection {
        phi_exp_max_gap: 0.5,
        ..p
    }
    .run()
    .is_err());
    Ok(())
}

#[test]
fn the_exponent_convention_is_a_parameter() -> Result<()> {
    let p = RetryPolicy::new(Backoff::Exponential, ms(10), secs(10), 10)?;
    let q = p.with_exponent(thinkdist::retry::Exponent::Failures);
    let mut r = rng::stream(1, domain::EXPERIMENT, 0, 0);
    // Default: base · 2^(n−1); Brooker's simulator: base · 2^n.
    for n in 1..5u32 {
        assert_eq!(
            p.delay(n, SimDuration::ZERO, &mut r),
            Some(ms(10 << (n - 1)))
        );
        assert_eq!(q.delay(n, SimDuration::ZERO, &mut r), Some(ms(10 << n)));
    }
    assert_eq!(q.with_kind(Backoff::FullJitter)?.exponent(), q.exponent());
    Ok(())
}

#[test]
fn writes_and_calls_are_counted_apart() -> Result<()> {
    // No backoff, lock-step, N = 10: round m has N − m + 1 writers, so
    // writes = N (N + 1) / 2 = 55 and calls (a read per write) = 110.
    let storm = constant_net(10, Backoff::None, 100)?.run()?;
    assert_eq!((storm.writes, storm.calls), (55, 110));
    Ok(())
}

#[test]
fn a_server_with_limited_capacity_queues_calls() -> Result<()> {
    // One client, 1 ms each way, 1 ms per call: read answered at 1 + 1 + 1 = 3,
    // write answered at 3 + 1 + 1 + 1 = 6 ms.
    let one = Contention {
        service: ms(1),
        ..constant_net(1, Backoff::None, 10)?
    }
    .run()?;
    assert_eq!(one.completion, ms(6));
    // Two clients: the second read waits for the first (served 1–2, 2–3 ms).
    let two = Contention {
        service: ms(1),
        ..constant_net(2, Backoff::None, 10)?
    }
    .run()?;
    assert!(two.completion > ms(6));
    assert!(Contention {
        service: secs(7200),
        ..Contention::default()
    }
    .run()
    .is_err());
    Ok(())
}

#[test]
fn with_limited_capacity_jitter_finishes_first() -> Result<()> {
    // Unlimited capacity: no backoff finishes first. 0.5 ms per call: the
    // storm's extra calls queue and full jitter finishes first. 8 seeds,
    // 95 % intervals must not overlap.
    let setup = Contention {
        policy: RetryPolicy::new(Backoff::FullJitter, ms(1), secs(1), 100)?,
        ..Contention::default()
    };
    let kinds = [Backoff::None, Backoff::FullJitter];
    let free = backoff::compare(&kinds, &[40], &setup, 8)?;
    let (n, f) = (
        free[0].points[0].completion_ms,
        free[1].points[0].completion_ms,
    );
    assert!(n.mean + n.half_width < f.mean - f.half_width, "{n:?} {f:?}");
    let busy = backoff::compare(
        &kinds,
        &[40],
        &Contention {
            service: us(500),
            ..setup
        },
        8,
    )?;
    let (n, f) = (
        busy[0].points[0].completion_ms,
        busy[1].points[0].completion_ms,
    );
    assert!(f.mean + f.half_width < n.mean - n.half_width, "{n:?} {f:?}");
    Ok(())
}

#[test]
fn survival_matches_each_latency_kind() -> Result<()> {
    use thinkdist::ch03::fanout::{survival, two_speed};
    let x = 20e6; // 20 ms
    assert_eq!(survival(&Latency::constant(ms(30)), x), 1.0);
    assert_eq!(survival(&Latency::constant(ms(10)), x), 0.0);
    assert!((survival(&Latency::uniform(ms(10), ms(30))?, x) - 0.5).abs() < 1e-12);
    assert!((survival(&Latency::exponential(ms(10))?, x) - (-2f64).exp()).abs() < 1e-12);
    // Log-normal with median 20 ms: half above.
    assert!((survival(&Latency::log_normal(ms(20), 0.5)?, x) - 0.5).abs() < 1e-7);
    // Pareto scale 10 ms, shape 2: (10/20)^2.
    assert!((survival(&Latency::pareto(ms(10), 2.0)?, x) - 0.25).abs() < 1e-12);
    // Normal mean 20, sd 5, redrawn below zero: half of the kept mass above,
    // 0.5 / (1 − Φ(−4)) with Φ(−4) = 3.16712e-5.
    let want = 0.5 / (1.0 - 3.167_12e-5);
    assert!((survival(&Latency::normal(ms(20), ms(5))?, x) - want).abs() < 1e-7);
    // Fan-out over any latency: two speeds with q = 1/100, 20,000 requests,
    // within 5 binomial standard deviations of 1 − (1 − q)^n.
    let f = Fanout {
        latency: two_speed(0.01, ms(10), ms(1000))?,
        ..Fanout::default()
    };
    assert!((f.q() - 0.01).abs() < 1e-12);
    for p in f.run(&[1, 50, 200])? {
        assert!(within_sigmas(p.slow, p.requests, p.theory, 5.0), "{p:?}");
    }
    Ok(())
}

#[test]
fn hedged_percentiles_match_the_closed_form_over_replications() -> Result<()> {
    // Each replication's p99 is one draw of the sample quantile; their mean
    // must lie within 5 standard errors (sd / √n) of the closed form.
    let h = Hedging {
        requests: 50_000,
        replications: 8,
        ..Hedging::default()
    };
    for p in h.run(&[30.0, 100.0])? {
        let c = p.p99_ci;
        let se = c.sd / (c.n as f64).sqrt();
        assert!(
            (c.mean - p.p99_theory).abs() < 5.0 * se.max(0.1),
            "delay {:?}: {c:?} vs {}",
            p.delay_ms,
            p.p99_theory
        );
    }
    Ok(())
}

#[test]
fn replay_moved_to_detect() -> Result<()> {
    // The chapter path re-exports the detector's replay.
    let mut a = HeartbeatDetector::new(ms(300))?;
    let mut b = HeartbeatDetector::new(ms(300))?;
    let arr = [t(0), t(100), t(900)];
    detect::replay(&mut a, &arr, ms(10), t(2000))?;
    fd::replay(&mut b, &arr, ms(10), t(2000))?;
    assert_eq!(a.transitions(), b.transitions());
    assert_eq!(a.transitions().len(), 3);
    Ok(())
}
