//! Per-node clocks (issue 17, item 15) and random durations from a node's
//! stream (issue 18): local time = true time × (1 + drift) + offset, set on
//! the builder, changed in a run and by the fault plan, while the true time
//! alone orders events.

use thinkdist::prelude::*;
use thinkdist::sim::rng::{domain, stream};

/// Reads its clock on every timer: (true time, local time).
#[derive(Debug, Clone, Default)]
struct Watch {
    seen: Vec<(SimTime, SimTime)>,
}

impl Node for Watch {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(ms(100), ());
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
        self.seen.push((ctx.now(), ctx.local_now()));
        ctx.set_timer(ms(100), ());
    }
}

fn at(d: SimDuration) -> SimTime {
    SimTime::from_start(d)
}

#[test]
fn local_time_is_true_time_times_one_plus_drift_plus_offset() -> Result<()> {
    let fast = Clock::ahead(ms(50)).with_drift(1e-3);
    let slow = Clock::behind(secs(1)).with_drift(-0.25);
    let mut sim = Sim::builder()
        .clock(1, fast)
        .clock(2, slow)
        .build(vec![Watch::default(); 3])?;
    sim.run_for(secs(3))?;
    for (t, local) in &sim.node(0)?.seen {
        assert_eq!(t, local, "an exact clock reads the true time");
    }
    for (t, local) in &sim.node(1)?.seen {
        // t (1 + 0.001) + 50 ms, in whole nanoseconds.
        assert_eq!(local.0, t.0 + t.0 / 1000 + 50_000_000);
    }
    let slow_seen = &sim.node(2)?.seen;
    // 0.75 t − 1 s: zero until t = 1.333 s, never below.
    assert_eq!(slow_seen[0], (at(ms(100)), SimTime::ZERO));
    assert_eq!(slow_seen[19], (at(secs(2)), at(ms(500))));
    assert!(slow_seen.windows(2).all(|w| w[0].1 <= w[1].1), "monotone");
    assert_eq!(sim.local_time(1)?, fast.local(sim.now()));
    Ok(())
}

#[test]
fn clocks_never_order_events() -> Result<()> {
    // The same run with and without skewed clocks: the same events at the
    // same true times (the nodes here do not read their clocks' values to
    // decide anything).
    let trace = |skew: bool| -> Result<Vec<(SimTime, TraceKind)>> {
        let mut b = Sim::builder().seed(3);
        let mut plan = FaultPlan::new();
        if skew {
            b = b.clock(0, Clock::behind(secs(5)).with_drift(0.3));
            plan = plan.clock_skew(ms(200), ms(900), 1, Clock::ahead(hours(1)));
        }
        let mut sim = b.faults(plan).build(vec![Watch::default(); 2])?;
        sim.run_for(secs(2))?;
        Ok(sim
            .trace()
            .events()
            .iter()
            .map(|e| (e.time, e.kind))
            .collect())
    };
    assert_eq!(trace(false)?, trace(true)?);
    Ok(())
}

#[test]
fn set_clock_and_a_clock_skew_fault_change_local_time_only_while_they_last() -> Result<()> {
    let plan = FaultPlan::new().clock_skew(ms(250), ms(650), 0, Clock::ahead(secs(10)));
    let mut sim = Sim::builder()
        .clock(0, Clock::ahead(ms(1)))
        .faults(plan.clone())
        .build(vec![Watch::default()])?;
    sim.run_for(ms(1000))?;
    let seen = sim.node(0)?.seen.clone();
    for (t, local) in &seen {
        let skewed = *t >= at(ms(250)) && *t < at(ms(650));
        let offset = if skewed { secs(10) } else { ms(1) };
        assert_eq!(*local, *t + offset, "at {t}");
    }
    // The window shows on charts.
    let w = plan.windows(at(secs(1)));
    assert_eq!(
        w,
        vec![(at(ms(250)), at(ms(650)), "node 0 clock skewed".into())]
    );
    // A clock set behind the one before steps local time back: the hazard a
    // last-writer-wins register must survive.
    let before = sim.local_time(0)?;
    sim.set_clock(0, Clock::behind(ms(500)))?;
    assert!(sim.local_time(0)? < before);
    assert_eq!(sim.clock(0)?, Clock::behind(ms(500)));
    Ok(())
}

#[test]
fn bad_clocks_are_errors_before_the_run() {
    let wild = Clock::exact().with_drift(2.0);
    assert!(wild.validate().is_err());
    assert!(Sim::builder()
        .clock(0, wild)
        .build(vec![Watch::default()])
        .is_err());
    assert!(Sim::builder()
        .clock(5, Clock::exact())
        .build(vec![Watch::default()])
        .is_err());
    let nan = Clock::exact().with_drift(f64::NAN);
    let plan = FaultPlan::new().clock_skew(ms(1), ms(2), 0, nan);
    assert!(plan.validate(1).is_err());
    let plan = FaultPlan::new().clock_skew(ms(1), ms(2), 3, Clock::exact());
    assert!(plan.validate(2).is_err());
    let mut sim = Sim::builder().build(vec![Watch::default()]).expect("valid");
    assert!(sim.set_clock(0, wild).is_err());
    assert!(sim.set_clock(1, Clock::exact()).is_err());
    // Offsets saturate instead of overflowing.
    let far = Clock::ahead(SimDuration::MAX);
    assert_eq!(far.local(SimTime::MAX), SimTime::MAX);
    assert_eq!(
        Clock::behind(SimDuration::MAX).local(SimTime::MAX).0,
        u64::MAX - i64::MAX as u64
    );
}

#[test]
fn a_drifting_clock_is_monotone_to_the_nanosecond() {
    // Integer arithmetic (whole parts per billion): no rounding dip, even
    // at times where a float loses the nanosecond (past 2^53 ns, 104 days).
    for drift in [-0.5, -0.3333, -1e-9, 1e-9, 1e-4, 0.5] {
        let c = Clock::behind(ms(3)).with_drift(drift);
        for base in [0u64, 1 << 20, 1 << 53, (1 << 62) + 12_345] {
            let mut last = c.local(SimTime(base));
            for k in 1..2_000 {
                let now = c.local(SimTime(base + k));
                assert!(now >= last, "drift {drift} at {}", base + k);
                last = now;
            }
        }
    }
}

/// Issue 18: `ctx.rng().duration(a..=b)` draws a duration uniformly.
#[test]
fn random_durations_are_uniform_and_in_range() {
    let mut r = stream(1, domain::EXPERIMENT, 0, 0);
    let n = 200_000;
    let xs: Vec<SimDuration> = (0..n).map(|_| r.duration(ms(1)..=ms(3))).collect();
    assert!(xs.iter().all(|d| (ms(1)..=ms(3)).contains(d)));
    // Uniform on [1, 3] ms: mean 2 ms, sd 2/sqrt(12) ms.
    let mean = xs.iter().map(|d| d.0 as f64).sum::<f64>() / n as f64;
    let se = 2e6 / 12f64.sqrt() / (n as f64).sqrt();
    assert!((mean - 2e6).abs() <= 5.0 * se, "mean {mean}");
    // An exclusive end is never drawn; both values of a two-value range are.
    let small: Vec<SimDuration> = (0..1000).map(|_| r.duration(ns(7)..ns(9))).collect();
    assert!(small.contains(&ns(7)) && small.contains(&ns(8)) && !small.contains(&ns(9)));
    // Degenerate ranges give their start, never a panic.
    assert_eq!(r.duration(ms(4)..ms(4)), ms(4));
    assert_eq!(r.duration(ms(5)..=ms(2)), ms(5));
    assert!(r.duration(SimDuration::ZERO..=SimDuration::MAX) <= SimDuration::MAX);
    // Same stream, same draws.
    let (mut a, mut b) = (stream(9, 4, 1, 1), stream(9, 4, 1, 1));
    for _ in 0..100 {
        assert_eq!(a.duration(us(1)..ms(1)), b.duration(us(1)..ms(1)));
    }
}

/// A jittered timer in a handler, through `ctx.rng()`.
#[test]
fn a_node_sets_a_jittered_timer() -> Result<()> {
    #[derive(Debug, Clone, Default)]
    struct Jitter(Vec<SimTime>);
    impl Node for Jitter {
        type Msg = ();
        type Timer = ();
        type Disk = ();
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            let d = ctx.rng().duration(ms(10)..=ms(20));
            ctx.set_timer(d, ());
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
        fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
            self.0.push(ctx.now());
            self.on_start(ctx);
        }
    }
    let mut sim = Sim::builder().build(vec![Jitter::default()])?;
    sim.run_for(secs(1))?;
    let fired = &sim.node(0)?.0;
    assert!(fired.len() >= 49 && fired.len() <= 100);
    let gaps: Vec<u64> = fired.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!(gaps.iter().all(|g| (10_000_000..=20_000_000).contains(g)));
    assert!(gaps.iter().any(|g| *g != gaps[0]), "jittered");
    Ok(())
}
