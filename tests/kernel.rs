//! The kernel (`thinkdist::sim`): engine, network, faults, disks and crash
//! points, typed timers, clients and histories, properties: behaviour and
//! statistics.
//!
//! Statistical tolerances are derived from the sample size: a count of
//! Bernoulli(p) events over N trials is checked within 5 standard deviations
//! sqrt(N p (1-p)) (a false failure about once in 1.7 million runs), a sample
//! mean within 5 standard errors sigma/sqrt(N).

use thinkdist::prelude::*;
use thinkdist::sim::rng::{self, domain};

// ---------- a tiny scripted node for behaviour tests ----------

#[derive(Debug, Clone, Default)]
struct Probe {
    /// (time, from, msg): memory, lost in a crash.
    got: Vec<(SimTime, NodeId, u64)>,
    timers: Vec<(SimTime, u64)>,
    /// messages to send on start: (to, msg)
    send_on_start: Vec<(NodeId, u64)>,
    /// timers to set on start: (after, tag)
    timers_on_start: Vec<(SimDuration, u64)>,
}

impl Node for Probe {
    type Msg = u64;
    type Timer = u64;
    /// Every message received, synced on arrival.
    type Disk = Vec<u64>;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        for (to, m) in self.send_on_start.clone() {
            ctx.send(to, m);
        }
        for (after, tag) in self.timers_on_start.clone() {
            ctx.set_timer(after, tag);
        }
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: u64) {
        self.got.push((ctx.now(), from, msg));
        ctx.disk().push(msg);
        ctx.sync("message");
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, tag: u64) {
        self.timers.push((ctx.now(), tag));
    }
    fn on_recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.count("recovered");
        self.on_start(ctx);
    }
}

fn probes(n: usize) -> Vec<Probe> {
    vec![Probe::default(); n]
}

// ---------- determinism ----------

#[test]
fn same_seed_same_trace_and_metrics() -> Result<()> {
    let p = ClientServer {
        requests: 50,
        loss: 0.2,
        ..Default::default()
    };
    let a = p.run()?;
    let b = p.run()?;
    assert_eq!(a.trace.to_jsonl(), b.trace.to_jsonl());
    assert_eq!(a.fingerprint(), b.fingerprint());
    let la: Vec<f64> = a.requests.iter().map(|r| r.total_ms).collect();
    let lb: Vec<f64> = b.requests.iter().map(|r| r.total_ms).collect();
    assert_eq!(la, lb);
    let c = ClientServer { seed: 2, ..p }.run()?;
    assert_ne!(
        a.fingerprint(),
        c.fingerprint(),
        "another seed must give another run"
    );
    Ok(())
}

#[test]
fn queue_runs_are_reproducible() -> Result<()> {
    let q = Queue {
        jobs: 20_000,
        warmup: 1_000,
        ..Default::default()
    };
    let a = q.run()?;
    let b = q.run()?;
    assert_eq!(a.latency.samples_nanos(), b.latency.samples_nanos());
    assert_eq!(a.events, b.events);
    let c = Queue { seed: 9, ..q }.run()?;
    assert_ne!(a.latency.samples_nanos(), c.latency.samples_nanos());
    Ok(())
}

#[test]
fn adding_a_node_does_not_reshuffle_other_streams() {
    use rand::RngCore;
    let mut a = rng::stream(7, domain::NODE, 3, 0);
    let mut b = rng::stream(7, domain::NODE, 3, 0);
    let mut c = rng::stream(7, domain::NODE, 4, 0);
    let (x, y, z) = (a.next_u64(), b.next_u64(), c.next_u64());
    assert_eq!(x, y);
    assert_ne!(x, z);
    // Node 0's draws in a 2-node and a 3-node simulation are the same.
    let first_draw = |n: usize| -> u64 {
        #[derive(Default, Clone)]
        struct D(u64);
        impl Node for D {
            type Msg = ();
            type Timer = ();
            type Disk = ();
            fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
                self.0 = ctx.rng().next_u64();
            }
            fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
        }
        let mut sim = Sim::builder().seed(5).build(vec![D::default(); n]).unwrap();
        sim.run_for(ms(1)).unwrap();
        sim.node(0).unwrap().0
    };
    assert_eq!(first_draw(2), first_draw(3));
}

#[test]
fn rand_methods_work_on_a_node_stream_with_the_prelude_alone() {
    // What a reader writes in a notebook cell: rand 0.9's Rng methods on
    // ctx.rng(), with nothing but `use thinkdist::prelude::*`.
    #[derive(Clone, Default)]
    struct Gossip {
        picks: Vec<(u64, bool, f64, u8)>,
    }
    impl Node for Gossip {
        type Msg = ();
        type Timer = ();
        type Disk = ();
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            ctx.set_timer(ms(1), ());
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
        fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
            let r = ctx.rng();
            let pick = (
                r.random_range(0..10u64),
                r.random_bool(0.25),
                r.random::<f64>(),
                *[1u8, 2, 3].choose(r).unwrap(),
            );
            self.picks.push(pick);
            if self.picks.len() < 1000 {
                ctx.set_timer(ms(1), ());
            }
        }
    }
    let run = |seed| {
        let mut sim = Sim::builder()
            .seed(seed)
            .build(vec![Gossip::default(); 2])
            .unwrap();
        sim.run_for(secs(2)).unwrap();
        sim.node(1).unwrap().picks.clone()
    };
    let a = run(7);
    assert_eq!(a.len(), 1000);
    assert_eq!(a, run(7), "same seed, same draws");
    assert_ne!(a, run(8));
    // The draws have the right law: the share of `true` from random_bool(0.25)
    // over 1000 draws is within 4 standard errors (4 * 0.0137) of 0.25.
    let t = a.iter().filter(|p| p.1).count() as f64 / 1000.0;
    assert!(
        (t - 0.25).abs() < 4.0 * (0.25f64 * 0.75 / 1000.0).sqrt(),
        "{t}"
    );
    assert!(a.iter().all(|p| p.0 < 10 && (0.0..1.0).contains(&p.2)));
}

// ---------- ordering ----------

#[test]
fn same_time_events_fire_in_scheduling_order() -> Result<()> {
    let mut nodes = probes(1);
    nodes[0].timers_on_start = (0..10).map(|i| (ms(5), i)).collect();
    let mut sim = Sim::builder().build(nodes)?;
    sim.run_for(ms(10))?;
    let tags: Vec<u64> = sim.node(0)?.timers.iter().map(|t| t.1).collect();
    assert_eq!(tags, (0..10).collect::<Vec<_>>());
    Ok(())
}

#[test]
fn events_are_processed_in_time_order() -> Result<()> {
    let mut nodes = probes(1);
    nodes[0].timers_on_start = vec![(ms(9), 9), (ms(1), 1), (ms(5), 5), (ms(3), 3)];
    let mut sim = Sim::builder().build(nodes)?;
    sim.run_for(ms(10))?;
    let seen: Vec<(u64, u64)> = sim
        .node(0)?
        .timers
        .iter()
        .map(|t| (t.0.as_nanos() / 1_000_000, t.1))
        .collect();
    assert_eq!(seen, vec![(1, 1), (3, 3), (5, 5), (9, 9)]);
    Ok(())
}

#[test]
fn fifo_link_keeps_order_and_random_link_reorders() -> Result<()> {
    let run = |fifo: bool| -> Result<Vec<u64>> {
        let mut nodes = probes(2);
        nodes[0].send_on_start = (0..200).map(|i| (1, i)).collect();
        let link = LinkConfig::new(Latency::exponential(ms(10))?).fifo(fifo);
        let mut sim = Sim::builder().seed(3).link(link).build(nodes)?;
        sim.run_to_end()?;
        Ok(sim.node(1)?.got.iter().map(|g| g.2).collect())
    };
    let fifo = run(true)?;
    assert_eq!(fifo, (0..200).collect::<Vec<_>>());
    let random = run(false)?;
    assert_eq!(random.len(), 200);
    assert_ne!(
        random,
        (0..200).collect::<Vec<_>>(),
        "exponential latency must reorder"
    );
    Ok(())
}

// ---------- partitions and crashes ----------

#[test]
fn symmetric_partition_blocks_both_ways_and_heals() -> Result<()> {
    let mut sim = Sim::builder().build(probes(3))?;
    sim.partition(&[vec![0], vec![1, 2]])?;
    sim.with_node(0, |_, ctx| ctx.send(1, 1))?;
    sim.with_node(1, |_, ctx| ctx.send(0, 2))?;
    sim.with_node(1, |_, ctx| ctx.send(2, 3))?; // same side: delivered
    sim.run_for(ms(5))?;
    assert!(sim.node(0)?.got.is_empty());
    assert_eq!(sim.node(1)?.got.len(), 0);
    assert_eq!(sim.node(2)?.got.len(), 1);
    assert_eq!(sim.stats().partitioned, 2);
    sim.heal_all();
    sim.with_node(0, |_, ctx| ctx.send(1, 4))?;
    sim.run_for(ms(5))?;
    assert_eq!(sim.node(1)?.got.len(), 1);
    Ok(())
}

#[test]
fn one_way_partition_blocks_one_direction_only() -> Result<()> {
    let mut sim = Sim::builder().build(probes(2))?;
    sim.partition_oneway(&[0], &[1])?;
    sim.with_node(0, |_, ctx| ctx.send(1, 1))?;
    sim.with_node(1, |_, ctx| ctx.send(0, 2))?;
    sim.run_for(ms(5))?;
    assert!(sim.node(1)?.got.is_empty(), "0 → 1 is blocked");
    assert_eq!(sim.node(0)?.got.len(), 1, "1 → 0 still works");
    Ok(())
}

#[test]
fn partition_that_starts_while_message_in_flight_drops_it() -> Result<()> {
    let mut nodes = probes(2);
    nodes[0].send_on_start = vec![(1, 7)];
    let plan = FaultPlan::new().partition(us(500), ms(10), vec![vec![0], vec![1]]);
    let mut sim = Sim::builder().faults(plan).build(nodes)?; // 1 ms latency
    sim.run_for(ms(20))?;
    assert!(sim.node(1)?.got.is_empty());
    assert_eq!(sim.stats().partitioned, 1);
    Ok(())
}

#[test]
fn crash_loses_volatile_state_discards_timers_and_drops_messages() -> Result<()> {
    let mut nodes = probes(2);
    nodes[1].timers_on_start = vec![(ms(50), 1)];
    nodes[0].send_on_start = vec![(1, 10)];
    let plan = FaultPlan::new().crash(ms(20), 1).recover(ms(100), 1);
    let mut sim = Sim::builder().faults(plan).build(nodes)?;
    sim.run_for(ms(30))?;
    assert_eq!(sim.disk(1)?.synced(), &vec![10]);
    assert!(
        sim.node(1)?.got.is_empty(),
        "memory is back to the node's initial value after the crash"
    );
    assert_eq!(
        sim.node(1)?.timers_on_start.len(),
        1,
        "initial value, not empty"
    );
    assert!(!sim.is_up(1));
    sim.with_node(0, |_, ctx| ctx.send(1, 11))?; // arrives while down
    sim.run_for(ms(100))?;
    let n1 = sim.node(1)?;
    assert!(
        n1.timers.is_empty(),
        "the timer set before the crash must not fire"
    );
    assert_eq!(
        sim.disk(1)?.synced(),
        &vec![10],
        "message to a down node is dropped"
    );
    assert_eq!(sim.counters().get("recovered"), 1);
    assert!(sim.is_up(1));
    assert_eq!(sim.stats().to_down_node, 1);
    let report = sim.updown().finish(sim.now())?;
    assert_eq!(
        report.down_intervals(1)?,
        &[(SimTime(20_000_000), SimTime(100_000_000))]
    );
    Ok(())
}

#[test]
fn cancelled_timer_does_not_fire() -> Result<()> {
    let mut sim = Sim::builder().build(probes(1))?;
    let t = sim.with_node(0, |_, ctx| ctx.set_timer(ms(5), 1))?;
    sim.with_node(0, |_, ctx| ctx.set_timer(ms(6), 2))?;
    sim.with_node(0, |_, ctx| ctx.cancel_timer(t))?;
    sim.run_for(ms(10))?;
    assert_eq!(
        sim.node(0)?.timers.iter().map(|x| x.1).collect::<Vec<_>>(),
        vec![2]
    );
    Ok(())
}

#[test]
fn run_bounds_hold() -> Result<()> {
    // A node that re-arms a 1 ms timer forever ([`Tick`]): bounded by
    // time, events, budget.
    let mut sim = Sim::builder().build(vec![Tick(0, ms(1))])?;
    sim.run_for(ms(10))?;
    assert_eq!(sim.node(0)?.0, 10);
    assert_eq!(sim.now(), SimTime(10_000_000));
    sim.run_events(5)?;
    assert_eq!(sim.node(0)?.0, 15);
    let hit = sim.run_until(secs(1), |s| s.nodes()[0].0 >= 40)?;
    assert!(hit);
    assert_eq!(sim.node(0)?.0, 40);
    let missed = sim.run_until(ms(5), |s| s.nodes()[0].0 >= 1_000)?;
    assert!(!missed);
    let mut small = Sim::builder().max_events(100).build(vec![Tick(0, ms(1))])?;
    let err = small
        .run_for(secs(10))
        .err()
        .expect("budget must stop an endless run");
    assert!(err.is_budget_exhausted(), "{err}");
    Ok(())
}

/// A node that re-arms a timer of `.1` forever and counts its firings in
/// `.0`.
#[derive(Clone, Default)]
struct Tick(u64, SimDuration);
impl Node for Tick {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(self.1, ());
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
        self.0 += 1;
        ctx.set_timer(self.1, ());
    }
}

#[test]
fn a_run_that_would_take_minutes_fails_early_and_says_why() -> Result<()> {
    // A 1 µs ticker asked for a simulated hour: 3.6 billion events, 36 times
    // the default budget. The pace check fails it after its first 2^22
    // events instead of after the whole budget.
    let mut sim = Sim::builder().trace(0).build(vec![Tick(0, us(1))])?;
    let err = sim.run_for(secs(3600)).err().expect("must fail");
    assert!(err.is_budget_exhausted(), "{err}");
    assert_eq!(sim.events_processed(), 1 << 22, "checked at 2^22 events");
    let msg = err.to_string();
    assert!(
        msg.contains("1e6 events per simulated second") || msg.contains("1000000"),
        "{msg}"
    );
    assert!(msg.contains("shorten the run"), "{msg}");
    // The same through run_until with a far deadline.
    let mut sim = Sim::builder().trace(0).build(vec![Tick(0, us(1))])?;
    let err = sim.run_until(secs(3600), |_| false).expect_err("must fail");
    assert!(err.is_budget_exhausted(), "{err}");
    assert_eq!(sim.events_processed(), 1 << 22);
    // A timer loop at one instant: no virtual time passes at all.
    let mut sim = Sim::builder()
        .trace(0)
        .build(vec![Tick(0, SimDuration::ZERO)])?;
    let err = sim.run_for(ms(1)).err().expect("must fail");
    assert!(err.to_string().contains("at one instant"), "{err}");
    // Within the budget, the pace check stays out of the way: 20 million
    // events (a fifth of the default budget) run to the end.
    let mut sim = Sim::builder().trace(0).build(vec![Tick(0, us(1))])?;
    sim.run_for(secs(20))?;
    assert_eq!(sim.node(0)?.0, 20_000_000);
    // Between one and two budgets projected: no early refusal, the budget
    // itself ends the run (and says so).
    let mut sim = Sim::builder()
        .trace(0)
        .max_events(6_000_000)
        .build(vec![Tick(0, us(1))])?;
    let err = sim.run_for(secs(10)).err().expect("over budget");
    assert!(err.is_budget_exhausted());
    assert_eq!(sim.events_processed(), 6_000_000, "{err}");
    Ok(())
}

#[test]
fn a_node_that_sends_faster_than_messages_arrive_is_stopped_by_the_pending_cap() -> Result<()> {
    // Every microsecond a message that takes a second to arrive: a
    // million in flight after a second, growing for as long as it runs.
    #[derive(Clone, Default)]
    struct Flood;
    impl Node for Flood {
        type Msg = ();
        type Timer = ();
        type Disk = ();
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            ctx.set_timer(us(1), ());
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
        fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
            ctx.send(0, ());
            ctx.set_timer(us(1), ());
        }
    }
    let mut sim = Sim::builder()
        .link(LinkConfig::new(Latency::constant(secs(1))))
        .max_pending(10_000)
        .build(vec![Flood])?;
    let err = sim
        .run_for(secs(10))
        .err()
        .expect("the pending cap must stop the flood");
    assert!(err.is_budget_exhausted(), "{err}");
    assert!(err.message().contains("pending"), "{err}");
    assert!(sim.pending() <= 10_001 && sim.pending() > 9_000);
    // The same node with messages that arrive in time runs to the end.
    let mut ok = Sim::builder()
        .link(LinkConfig::new(Latency::constant(ns(500))))
        .max_pending(10_000)
        .build(vec![Flood])?;
    ok.run_for(ms(100))?;
    // Bad settings are errors at build time.
    assert!(Sim::builder().max_pending(0).build(vec![Flood]).is_err());
    assert!(Sim::builder()
        .max_pending(usize::MAX)
        .build(vec![Flood])
        .is_err());
    assert!(Sim::builder().trace(usize::MAX).build(vec![Flood]).is_err());
    Ok(())
}

// ---------- loss, duplication: rates within binomial bounds ----------

fn within_binomial(count: u64, n: u64, p: f64) -> bool {
    let mean = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    (count as f64 - mean).abs() <= 5.0 * sd.max(1e-9)
}

#[test]
fn loss_and_duplication_rates_match_their_probabilities() -> Result<()> {
    let n = 100_000u64;
    for &(loss, dup) in &[(0.0, 0.0), (0.1, 0.0), (0.3, 0.05), (0.5, 0.2)] {
        let mut nodes = probes(2);
        nodes[0].send_on_start = (0..n).map(|i| (1, i)).collect();
        let link = LinkConfig::new(Latency::constant(ms(1)))
            .loss(loss)
            .duplicate(dup);
        let mut sim = Sim::builder().seed(11).trace(0).link(link).build(nodes)?;
        sim.run_to_end()?;
        let st = sim.stats();
        assert!(
            within_binomial(st.lost, n, loss),
            "lost {} of {n} at p={loss}",
            st.lost
        );
        let kept = n - st.lost;
        assert!(
            within_binomial(st.duplicated, kept, dup),
            "dup {} of {kept} at p={dup}",
            st.duplicated
        );
        assert_eq!(st.delivered, kept + st.duplicated);
        assert_eq!(sim.node(1)?.got.len() as u64, st.delivered);
    }
    Ok(())
}

// ---------- latency distributions against theory ----------

#[test]
fn latency_distributions_match_their_mean_and_variance() -> Result<()> {
    let n = 400_000usize;
    let cases: Vec<(Latency, f64 /*kurtosis, 0 = skip variance*/)> = vec![
        (Latency::constant(ms(3)), 0.0),
        (Latency::uniform(ms(1), ms(9))?, 1.8),
        (Latency::exponential(ms(4))?, 9.0),
        (Latency::normal(ms(50), ms(5))?, 3.0),
        // 0.86 % of this normal is below zero and redrawn: the truncated
        // mean (5.050 ms) is 44 us above what clipping to 0 gives (5.006),
        // 13 standard errors at n = 400,000, so the test tells them apart.
        (Latency::normal(ms(5), us(2100))?, 0.0),
        (Latency::log_normal(ms(5), 0.5)?, 0.0),
        (Latency::pareto(ms(2), 5.0)?, 0.0),
        (
            Latency::mixture(vec![
                (0.99, Latency::constant(ms(1))),
                (0.01, Latency::constant(ms(100))),
            ])?,
            0.0,
        ),
    ];
    for (i, (dist, kurt)) in cases.iter().enumerate() {
        let mut r = rng::stream(1, domain::EXPERIMENT, i as u64, 0);
        let xs: Vec<f64> = (0..n)
            .map(|_| dist.sample(&mut r).as_nanos() as f64)
            .collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let (mu, s2) = (dist.mean_ns(), dist.variance_ns2());
        // Standard error of the mean is sigma/sqrt(n); +0.5 ns for rounding to integer ns.
        let se_mean = (s2 / n as f64).sqrt() + 0.5;
        assert!(
            (mean - mu).abs() <= 5.0 * se_mean,
            "{dist:?}: mean {mean} vs {mu} (se {se_mean})"
        );
        if *kurt > 0.0 {
            // SE of the sample variance: sigma^2 sqrt((kurtosis - 1) / n).
            let se_var = s2 * ((kurt - 1.0) / n as f64).sqrt();
            assert!(
                (var - s2).abs() <= 5.0 * se_var + 1.0,
                "{dist:?}: var {var} vs {s2}"
            );
        }
    }
    Ok(())
}

// ---------- queueing against theory ----------

/// Mean time in system over R independent seeds, against theory: within 4
/// half-widths... no: the 95 % CI from the replications, widened to 99.99 %
/// (a factor of about 2 for a t with 9 df), plus the warm-up bias bound.
fn check_queue(servers: usize, lambda: f64, mu: f64) -> Result<()> {
    let seeds = 10;
    let means: Vec<f64> = (0..seeds)
        .map(|s| {
            Queue {
                seed: s,
                servers,
                arrival_rate: lambda,
                service_rate: mu,
                jobs: 100_000,
                warmup: 10_000,
                closed: None,
            }
            .run()
            .map(|r| r.mean_ms)
        })
        .collect::<Result<_>>()?;
    let ci = mean_ci(&means)?;
    let theory_ms = theory::mmc(lambda, mu, servers)?.w * 1e3;
    // t(9) at 99.99 % two-sided is 6.0; the CI half-width uses t(9)=2.262.
    let k = 6.0 / 2.262;
    assert!(
        ci.covers(theory_ms, k),
        "c={servers} λ={lambda} μ={mu}: simulated {:.3} ± {:.3} ms vs theory {theory_ms:.3}",
        ci.mean,
        ci.half_width
    );
    Ok(())
}

#[test]
fn mm1_mean_latency_matches_theory() -> Result<()> {
    check_queue(1, 50.0, 100.0)?;
    check_queue(1, 80.0, 100.0)
}

#[test]
fn mmc_mean_latency_matches_erlang_c() -> Result<()> {
    check_queue(4, 320.0, 100.0)?;
    check_queue(2, 100.0, 100.0)
}

#[test]
fn littles_law_holds_on_the_run() -> Result<()> {
    let r = Queue {
        jobs: 50_000,
        warmup: 1_000,
        ..Default::default()
    }
    .run()?;
    let lambda_w = r.throughput * r.w_all_ms / 1e3;
    // Over a run that starts and ends empty, L T = sum of times in system
    // exactly; only float rounding separates the two.
    assert!(
        (r.l_time_average - lambda_w).abs() <= 1e-9 * lambda_w.max(1.0),
        "L={} λW={}",
        r.l_time_average,
        lambda_w
    );
    // And the measured L is near theory's L = ρ/(1-ρ) = 4 for ρ=0.8 (loose:
    // a single run; checked precisely through W above).
    assert!(
        (r.l_time_average - 4.0).abs() < 1.0,
        "L={}",
        r.l_time_average
    );
    Ok(())
}

// ---------- availability against the binomial formula ----------

#[test]
fn replica_availability_matches_binomial() -> Result<()> {
    let base = Replicas {
        horizon: secs(20_000 * 3600),
        ..Default::default()
    };
    let points = ch02::replicas::availability_curve(&base, &[1, 3, 5], 10)?;
    assert_eq!(points.len(), 5); // n=1 has one quorum (k=1)
                                 // Only configurations whose outages are frequent enough to estimate:
                                 // with 1 − A = 6e-6 (5 replicas, any one) the expected downtime over the
                                 // horizon is under one repair time, so most replications see none.
    let measurable: Vec<_> = points.iter().filter(|p| 1.0 - p.theory > 1e-3).collect();
    assert_eq!(measurable.len(), 3);
    for p in measurable {
        // 99.99 % interval from 10 replications (see check_queue).
        assert!(
            p.simulated.covers(p.theory, 6.0 / 2.262),
            "n={} k={}: {:.5} ± {:.5} vs {:.5}",
            p.n,
            p.k,
            p.simulated.mean,
            p.simulated.half_width,
            p.theory
        );
    }
    Ok(())
}

// ---------- bad input ----------

#[test]
fn bad_input_returns_errors_not_panics() {
    let inv = |r: Result<()>, what: &str| {
        let e = r.err().unwrap_or_else(|| panic!("{what} must be rejected"));
        assert!(e.is_invalid_parameter() || e.is_empty_data(), "{what}: {e}");
        assert!(!e.to_string().is_empty());
    };
    inv(LinkConfig::default().loss(1.5).validate(), "loss 1.5");
    inv(LinkConfig::default().loss(-0.1).validate(), "loss -0.1");
    inv(
        LinkConfig::default().duplicate(f64::NAN).validate(),
        "dup NaN",
    );
    inv(
        Sim::builder().build(Vec::<Probe>::new()).map(|_| ()),
        "zero nodes",
    );
    inv(
        Sim::builder()
            .faults(FaultPlan::new().crash(ms(1), 5))
            .build(probes(3))
            .map(|_| ()),
        "fault on node 5 of 3",
    );
    inv(
        Sim::builder()
            .link(LinkConfig::default().loss(2.0))
            .build(probes(1))
            .map(|_| ()),
        "builder with bad link",
    );
    inv(
        Latency::exponential(SimDuration::ZERO).map(|_| ()),
        "zero mean",
    );
    inv(Latency::exponential_rate(-1.0).map(|_| ()), "negative rate");
    inv(Latency::exponential_rate(f64::NAN).map(|_| ()), "NaN rate");
    inv(
        Latency::uniform(ms(5), ms(1)).map(|_| ()),
        "uniform lo > hi",
    );
    inv(Latency::pareto(ms(1), 0.0).map(|_| ()), "pareto shape 0");
    inv(Latency::mixture(vec![]).map(|_| ()), "empty mixture");
    inv(
        SimDuration::from_ms_f64(-1.0).map(|_| ()),
        "negative latency",
    );
    inv(
        SimDuration::from_secs_f64(f64::NAN).map(|_| ()),
        "NaN duration",
    );
    inv(Arrivals::poisson(-3.0).map(|_| ()), "negative arrival rate");
    inv(
        theory::k_of_n_availability(3, 4, 0.9).map(|_| ()),
        "quorum larger than cluster",
    );
    inv(
        theory::k_of_n_availability(3, 2, 1.1).map(|_| ()),
        "p_up > 1",
    );
    inv(
        LatencyRecorder::exact().percentile(0.5).map(|_| ()),
        "percentile of empty set",
    );
    inv(
        Queue {
            servers: 0,
            ..Default::default()
        }
        .run()
        .map(|_| ()),
        "zero servers",
    );
    inv(
        Queue {
            arrival_rate: -1.0,
            ..Default::default()
        }
        .run()
        .map(|_| ()),
        "negative arrival rate",
    );
    inv(
        Replicas {
            n: 0,
            ..Default::default()
        }
        .run()
        .map(|_| ()),
        "zero replicas",
    );
    inv(
        ClientServer {
            loss: 3.0,
            ..Default::default()
        }
        .run()
        .map(|_| ()),
        "client-server loss 3",
    );
    let mut sim = Sim::builder().build(probes(2)).unwrap();
    inv(sim.crash(2), "crash unknown node");
    inv(
        sim.partition(&[vec![0], vec![7]]).map(|_| ()),
        "partition unknown node",
    );
    inv(sim.inject(9, 1, ms(1)), "inject to unknown node");
    inv(sim.node(5).map(|_| ()), "unknown node");
}

// ---------- charts of a run are reproducible ----------

#[test]
fn same_seed_gives_byte_identical_charts() -> Result<()> {
    let p = ClientServer {
        requests: 8,
        loss: 0.2,
        ..Default::default()
    };
    let (a, b) = (p.run()?, p.run()?);
    assert_eq!(
        a.global_view(200.0)?.to_png()?,
        b.global_view(200.0)?.to_png()?
    );
    assert_eq!(a.latency_cdf()?.to_svg()?, b.latency_cdf()?.to_svg()?);
    let c = ClientServer { seed: 99, ..p }.run()?;
    assert_ne!(
        a.global_view(200.0)?.to_svg()?,
        c.global_view(200.0)?.to_svg()?
    );
    Ok(())
}

#[test]
fn correctness_checkers_catch_the_broken_scenarios() -> Result<()> {
    // Lossy network without retries: liveness must fail. With retries: the
    // at-most-once safety property must fail. Reliable: everything holds.
    use thinkdist::ch02::correctness::{check_run, scenarios};
    let base = ClientServer {
        requests: 40,
        retries: 2,
        ..Default::default()
    };
    let verdicts: Vec<Vec<Verdict>> = scenarios(&base, 0.3)
        .into_iter()
        .map(|(_, p)| check_run(&p, ms(500)).map(|(_, v)| v))
        .collect::<Result<_>>()?;
    assert!(verdicts[0].iter().all(|v| v.holds), "{:?}", verdicts[0]);
    assert!(!verdicts[1][2].holds, "liveness must fail without retries");
    assert!(verdicts[1][1].holds, "no retries, no duplicate processing");
    assert!(
        !verdicts[2][1].holds,
        "retries must cause duplicate processing"
    );
    assert!(verdicts[2]
        .iter()
        .all(|v| v.counterexample.is_some() != v.holds));
    Ok(())
}

// ---------- closed loop against mean value analysis ----------

#[test]
fn mva_matches_hand_derivation() -> Result<()> {
    // S = 1, Z = 1: R(1) = 1, X(1) = 1/2, Q(1) = 1/2; R(2) = 1.5, X(2) = 2/2.5 = 0.8.
    let m = theory::mva(2, 1.0, 1.0)?;
    assert!((m.response_time - 1.5).abs() < 1e-12);
    assert!((m.throughput - 0.8).abs() < 1e-12);
    // Z = 0: the server is always busy, X = 1/S, R = n S.
    let m = theory::mva(5, 0.5, 0.0)?;
    assert!((m.throughput - 2.0).abs() < 1e-12 && (m.response_time - 2.5).abs() < 1e-12);
    assert!(theory::mva(0, 1.0, 1.0).is_err());
    assert!(theory::mva(3, -1.0, 1.0).is_err());
    assert!(theory::mva(3, 1.0, f64::NAN).is_err());
    Ok(())
}

#[test]
fn closed_loop_matches_mean_value_analysis() -> Result<()> {
    // 10 replications per point; the 99.99 % interval as in check_queue.
    let pts = ch02::queueing::closed_curve(&[1, 5, 20], 100.0, ms(40), 20_000, 10)?;
    for p in &pts {
        assert!(
            p.mean_ms.covers(p.theory_mean_ms, 6.0 / 2.262),
            "{} clients: {:.3} ± {:.3} ms vs MVA {:.3}",
            p.clients,
            p.mean_ms.mean,
            p.mean_ms.half_width,
            p.theory_mean_ms
        );
        assert!(
            p.throughput.covers(p.theory_throughput, 6.0 / 2.262),
            "{} clients: X {:.2} ± {:.2} vs MVA {:.2}",
            p.clients,
            p.throughput.mean,
            p.throughput.half_width,
            p.theory_throughput
        );
    }
    // Closed loop never overloads: 20 clients on a 100 jobs/s server still
    // complete at most 100 jobs/s.
    assert!(pts[2].throughput.mean <= 100.0 * 1.02);
    assert!(ClosedLoop::new(0, Latency::zero()).is_err());
    Ok(())
}

// ---------- typed timers and composition ----------

/// A node that owns both a failure injector (slow mode: holds messages and
/// releases them on its own timer) and an at-least-once sender (resends on
/// its own timer). With timer tags packed into `u64` bits the two used to
/// collide (the release tag had the sender's bit set); typed timers keep
/// them apart.
mod composed {
    use thinkdist::delivery::{Resend, ResendTimer, Sender, Wire};
    use thinkdist::failure::{FailureInjector, FailureMode, ReleaseTimer};
    use thinkdist::prelude::*;

    #[derive(Debug, Clone)]
    pub enum Timer {
        Release(ReleaseTimer),
        Resend(ResendTimer),
    }
    impl From<ReleaseTimer> for Timer {
        fn from(t: ReleaseTimer) -> Self {
            Timer::Release(t)
        }
    }
    impl From<ResendTimer> for Timer {
        fn from(t: ResendTimer) -> Self {
            Timer::Resend(t)
        }
    }

    #[derive(Clone)]
    pub struct Both {
        pub injector: FailureInjector<Wire<u32>>,
        pub sender: Sender<u32>,
        pub handled: Vec<u32>,
    }

    impl Node for Both {
        type Msg = Wire<u32>;
        type Timer = Timer;
        type Disk = ();
        fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Wire<u32>) {
            if let Some((from, msg)) = self.injector.receive(ctx, from, msg) {
                self.handle(ctx, from, msg);
            }
        }
        fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, t: Timer) {
            // The sender is asked first, as the old tag-based code did.
            match t {
                Timer::Resend(r) => self.sender.on_timer(ctx, r),
                Timer::Release(_) => {
                    if let Some((from, msg)) = self.injector.release(ctx) {
                        self.handle(ctx, from, msg);
                    }
                }
            }
        }
    }

    impl Both {
        fn handle(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Wire<u32>) {
            match msg {
                Wire::Data { id, payload, .. } => {
                    self.handled.push(payload);
                    ctx.send(from, Wire::Ack { id });
                }
                Wire::Ack { id } => {
                    self.sender.on_ack(ctx, id);
                }
            }
        }
    }

    pub fn pair() -> Result<Vec<Both>> {
        let slow = FailureInjector::new(|_: &Wire<u32>| false)
            .from(SimDuration::ZERO, FailureMode::Slow { extra: ms(30) })?;
        let sender = Sender::at_least_once(Resend::new(ms(20), 10)?);
        let a = Both {
            injector: FailureInjector::new(|_| false),
            sender: sender.clone(),
            handled: vec![],
        };
        let b = Both {
            injector: slow,
            sender,
            handled: vec![],
        };
        Ok(vec![a, b])
    }
}

#[test]
fn a_node_with_an_injector_and_a_sender_releases_held_messages() -> Result<()> {
    let mut sim = Sim::builder().build(composed::pair()?)?;
    for k in 0..3 {
        sim.with_node(0, |n, ctx| {
            n.sender.send(ctx, 1, k);
        })?;
    }
    sim.run_for(secs(1))?;
    let b = sim.node(1)?;
    assert_eq!(b.injector.held(), 0, "every held message was released");
    // Held 30 ms, resent every 20 ms: each message is handled, some twice.
    for k in 0..3 {
        assert!(b.handled.contains(&k), "{k} never handled: {:?}", b.handled);
    }
    assert_eq!(sim.node(0)?.sender.unacked(), 0, "every message acked");
    assert_eq!(b.injector.counts().delayed as usize, b.handled.len());
    Ok(())
}

#[test]
fn timers_come_back_as_the_typed_values_set() -> Result<()> {
    #[derive(Debug, Clone, PartialEq)]
    enum T {
        Election,
        Heartbeat(u32),
    }
    #[derive(Clone, Default)]
    struct Raftish(Vec<(f64, T)>);
    impl Node for Raftish {
        type Msg = ();
        type Timer = T;
        type Disk = ();
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            ctx.set_timer(ms(3), T::Election);
            ctx.set_timer(ms(1), T::Heartbeat(1));
            let t = ctx.set_timer(ms(2), T::Heartbeat(2));
            assert!(ctx.cancel_timer(t));
            assert!(!ctx.cancel_timer(t), "cancelling twice does nothing");
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
        fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, t: T) {
            self.0.push((ctx.now().as_ms(), t));
        }
        fn timer_label(t: &T) -> String {
            format!("{t:?}").to_lowercase()
        }
    }
    let mut sim = Sim::builder().build(vec![Raftish::default()])?;
    sim.run_for(ms(10))?;
    assert_eq!(
        sim.node(0)?.0,
        vec![(1.0, T::Heartbeat(1)), (3.0, T::Election)]
    );
    let labels: Vec<&str> = sim
        .trace()
        .events()
        .iter()
        .filter(|e| e.kind == TraceKind::Timer)
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(labels, ["heartbeat(1)", "election"]);
    assert_eq!(sim.timers_pending(), 0);
    Ok(())
}

#[test]
fn cancelling_fired_timers_leaves_nothing_pending() -> Result<()> {
    let mut sim = Sim::builder().build(probes(1))?;
    let mut ids = Vec::new();
    for i in 0..1000 {
        ids.push(sim.with_node(0, |_, ctx| ctx.set_timer(us(i), i))?);
    }
    sim.run_for(ms(5))?;
    assert_eq!(sim.node(0)?.timers.len(), 1000);
    for id in ids {
        assert!(!sim.with_node(0, |_, ctx| ctx.cancel_timer(id))?);
    }
    assert_eq!(sim.timers_pending(), 0);
    // A new timer reuses a slot, and no stale id cancels it.
    let t = sim.with_node(0, |_, ctx| ctx.set_timer(ms(1), 7))?;
    assert_eq!(sim.timers_pending(), 1);
    sim.run_for(ms(2))?;
    assert_eq!(sim.node(0)?.timers.last().map(|x| x.1), Some(7));
    assert!(!sim.with_node(0, |_, ctx| ctx.cancel_timer(t))?);
    Ok(())
}

// ---------- defects fixed ----------

#[test]
fn inject_follows_the_link_rules_and_inject_exact_does_not() -> Result<()> {
    let link = LinkConfig::new(Latency::constant(ms(5)));
    let mut sim = Sim::builder().link(link.clone()).build(probes(1))?;
    sim.inject(0, 1, ms(1))?;
    sim.inject_exact(0, 2, ms(1))?;
    sim.run_for(ms(10))?;
    let got: Vec<(f64, u64)> = sim
        .node(0)?
        .got
        .iter()
        .map(|g| (g.0.as_ms(), g.2))
        .collect();
    assert_eq!(got, vec![(1.0, 2), (6.0, 1)]);
    let mut lossy = Sim::builder().link(link.loss(1.0)).build(probes(1))?;
    lossy.inject(0, 1, ms(1))?;
    lossy.run_for(ms(10))?;
    assert!(lossy.node(0)?.got.is_empty());
    assert_eq!(lossy.stats().lost, 1);
    Ok(())
}

#[test]
fn a_node_crashed_at_time_zero_does_not_start_until_it_recovers() -> Result<()> {
    let mut nodes = probes(2);
    nodes[0].send_on_start = vec![(1, 5)];
    let plan = FaultPlan::new().outage(SimDuration::ZERO, ms(10), 0);
    let mut sim = Sim::builder().faults(plan).build(nodes)?;
    sim.run_for(ms(5))?;
    assert!(sim.node(1)?.got.is_empty(), "node 0 never acted while down");
    assert_eq!(sim.stats().sent, 0);
    sim.run_for(ms(10))?;
    assert_eq!(
        sim.node(1)?.got.len(),
        1,
        "on recovery it starts (on_start)"
    );
    assert_eq!(sim.node(1)?.got[0].0, SimTime::from_start(ms(11)));
    Ok(())
}

#[test]
fn with_node_refuses_a_down_node() -> Result<()> {
    let mut sim = Sim::builder().build(probes(1))?;
    sim.crash(0)?;
    let e = sim.with_node(0, |_, ctx| ctx.send(0, 1)).unwrap_err();
    assert!(
        e.is_invalid_parameter() && e.message().contains("down"),
        "{e}"
    );
    Ok(())
}

// ---------- link control ----------

#[test]
fn overlapping_partitions_heal_independently_in_runs_and_charts() -> Result<()> {
    // One partition 0–100 ms cuts node 0 off; another 50–500 ms cuts node 1
    // off. At 200 ms node 1 is still cut off, whatever the first one did.
    let plan = FaultPlan::new()
        .partition(SimDuration::ZERO, ms(100), vec![vec![0], vec![1, 2]])
        .partition(ms(50), ms(500), vec![vec![1], vec![0, 2]]);
    let mut sim = Sim::builder().faults(plan.clone()).build(probes(3))?;
    sim.run_for(ms(200))?;
    sim.with_node(2, |_, ctx| {
        ctx.send(1, 1);
        ctx.send(0, 2);
    })?;
    sim.run_for(ms(10))?;
    assert!(
        sim.node(1)?.got.is_empty(),
        "the second partition still cuts 2 → 1"
    );
    assert_eq!(sim.node(0)?.got.len(), 1, "the first partition has healed");
    sim.run_for(ms(400))?;
    sim.with_node(2, |_, ctx| ctx.send(1, 3))?;
    sim.run_for(ms(10))?;
    assert_eq!(sim.node(1)?.got.len(), 1);
    let w = plan.windows(SimTime::from_start(secs(1)));
    let spans: Vec<(f64, f64)> = w.iter().map(|x| (x.0.as_ms(), x.1.as_ms())).collect();
    assert_eq!(spans, vec![(0.0, 100.0), (50.0, 500.0)]);
    Ok(())
}

#[test]
fn held_link_keeps_messages_in_order_until_released() -> Result<()> {
    let mut sim = Sim::builder().build(probes(3))?;
    sim.hold(0, 1)?;
    for m in [1, 2, 3] {
        sim.with_node(0, |_, ctx| ctx.send(1, m))?;
    }
    sim.with_node(2, |_, ctx| ctx.send(1, 9))?; // another link: not held
    sim.run_for(ms(10))?;
    assert_eq!(
        sim.node(1)?.got.iter().map(|g| g.2).collect::<Vec<_>>(),
        vec![9]
    );
    assert_eq!(sim.held_messages(), 3);
    assert_eq!(sim.release(0, 1)?, 3);
    sim.run_for(ms(1))?;
    let got: Vec<(f64, u64)> = sim
        .node(1)?
        .got
        .iter()
        .map(|g| (g.0.as_ms(), g.2))
        .collect();
    assert_eq!(got, vec![(1.0, 9), (10.0, 1), (10.0, 2), (10.0, 3)]);
    assert_eq!(sim.stats().held, 3);
    // The same from a fault plan.
    let mut nodes = probes(2);
    nodes[0].send_on_start = vec![(1, 4), (1, 5)];
    let plan = FaultPlan::new().hold(SimDuration::ZERO, ms(30), 0, 1);
    let mut sim = Sim::builder().faults(plan).build(nodes)?;
    sim.run_for(ms(50))?;
    let got: Vec<(f64, u64)> = sim
        .node(1)?
        .got
        .iter()
        .map(|g| (g.0.as_ms(), g.2))
        .collect();
    assert_eq!(got, vec![(30.0, 4), (30.0, 5)]);
    Ok(())
}

#[test]
fn a_lossy_window_loses_messages_only_while_it_lasts() -> Result<()> {
    let plan = FaultPlan::new().lossy(ms(10), ms(20), 1.0);
    let mut sim = Sim::builder().faults(plan).build(probes(2))?;
    for at in [5, 15, 25] {
        sim.run_until_time(SimTime::from_start(ms(at)))?;
        sim.with_node(0, |_, ctx| ctx.send(1, at))?;
    }
    sim.run_for(ms(10))?;
    assert_eq!(
        sim.node(1)?.got.iter().map(|g| g.2).collect::<Vec<_>>(),
        vec![5, 25]
    );
    assert_eq!(sim.stats().lost, 1);
    Ok(())
}

// ---------- disks and crash points ----------

/// Writes `k` to its disk on message `k`; syncs only even ones.
#[derive(Clone, Default)]
struct Writer;
impl Node for Writer {
    type Msg = u64;
    type Timer = ();
    type Disk = Vec<u64>;
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, k: u64) {
        if k >= 1000 {
            return; // its own echo
        }
        ctx.disk().push(k);
        if k % 2 == 0 {
            ctx.sync("even");
            ctx.send(0, 1000 + k); // a send after the sync
        }
    }
}

#[test]
fn a_crash_loses_exactly_the_unsynced_writes() -> Result<()> {
    let mut sim = Sim::builder().build(vec![Writer])?;
    for k in [1, 2, 3] {
        sim.inject_exact(0, k, ms(k))?;
    }
    sim.run_for(ms(5))?;
    assert_eq!(sim.disk(0)?.working(), &vec![1, 2, 3]);
    assert_eq!(sim.disk(0)?.synced(), &vec![1, 2]);
    sim.bounce(0)?;
    assert_eq!(sim.disk(0)?.working(), &vec![1, 2], "3 was never synced");
    assert_eq!(sim.disk(0)?.syncs(), 1);
    Ok(())
}

#[test]
fn a_crash_at_a_point_discards_the_rest_of_the_handler_and_restarts() -> Result<()> {
    // Points: sync of 2 (point 0), send 1002 (1), sync of 4 (2), send 1004 (3).
    let run = |plan: FaultPlan, which: CrashPoints| -> Result<Sim<Writer>> {
        let mut sim = Sim::builder()
            .faults(plan)
            .crash_points(which)
            .record_crash_points(true)
            .build(vec![Writer])?;
        for k in [2, 4] {
            sim.inject_exact(0, k, ms(k))?;
        }
        sim.run_for(ms(20))?;
        Ok(sim)
    };
    let all = run(FaultPlan::new(), CrashPoints::SyncsAndSends)?;
    let kinds: Vec<(PointKind, &str)> = all
        .crash_points()
        .iter()
        .map(|p| (p.kind, p.label.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (PointKind::Sync, "even"),
            (PointKind::Send, "1002"),
            (PointKind::Sync, "even"),
            (PointKind::Send, "1004")
        ]
    );
    assert_eq!(
        run(FaultPlan::new(), CrashPoints::Syncs)?.crash_points_reached(),
        2
    );
    // Crash at point 2 (the sync of 4), restart 5 ms later.
    let sim = run(
        FaultPlan::new().crash_at_point(2, Some(ms(5))),
        CrashPoints::SyncsAndSends,
    )?;
    let hit = sim.crashed_at_point().expect("reached");
    assert_eq!(
        (hit.index, hit.node, hit.time),
        (2, 0, SimTime::from_start(ms(4)))
    );
    assert_eq!(sim.disk(0)?.synced(), &vec![2], "4 was written, not synced");
    assert_eq!(sim.disk(0)?.working(), &vec![2]);
    assert_eq!(
        sent_labels(&sim),
        ["1002"],
        "the send after the crash point never left"
    );
    assert!(sim.is_up(0), "restarted");
    let r = sim.updown().finish(sim.now())?;
    assert_eq!(
        r.down_intervals(0)?,
        &[(SimTime::from_start(ms(4)), SimTime::from_start(ms(9)))]
    );
    Ok(())
}

/// The labels of the messages sent in a run, from its trace.
fn sent_labels<N: Node>(sim: &Sim<N>) -> Vec<String> {
    sim.trace()
        .events()
        .iter()
        .filter(|e| e.kind == TraceKind::Send)
        .map(|e| e.label.clone())
        .collect()
}

// ---------- clients and histories ----------

/// A register that answers reads and writes; refuses negative writes.
#[derive(Clone, Default)]
struct Register {
    value: i64,
}
impl Node for Register {
    type Msg = Option<i64>;
    type Timer = ();
    type Disk = ();
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: Option<i64>) {}
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, op: Option<i64>) {
        match op {
            Some(v) if v < 0 => ctx.reply_failed(req, None),
            Some(v) => {
                self.value = v;
                ctx.reply(req, Some(v));
            }
            None => ctx.reply(req, Some(self.value)),
        }
    }
}

#[test]
fn the_history_records_ok_failed_and_unknown_outcomes_with_times() -> Result<()> {
    let link = LinkConfig::new(Latency::constant(ms(1)));
    let mut sim = Sim::builder().link(link).build(vec![Register::default()])?;
    sim.invoke(0, Invoke::new(0, Some(5)))?;
    sim.invoke(1, Invoke::new(0, Some(-1)).after(ms(10)))?;
    sim.invoke(2, Invoke::new(0, None).after(ms(20)).timeout(ms(1)))?; // gives up before the reply
    sim.run_for(ms(50))?;
    let ops = sim.history().ops();
    assert_eq!(ops.len(), 3);
    assert_eq!(
        (ops[0].status, ops[0].invoked, ops[0].completed),
        (
            OpStatus::Ok,
            SimTime::ZERO,
            Some(SimTime::from_start(ms(2)))
        )
    );
    assert_eq!(ops[0].reply, Some(Some(5)));
    assert_eq!(
        (ops[1].status, ops[1].reply),
        (OpStatus::Failed, Some(None))
    );
    assert_eq!(
        ops[2].status,
        OpStatus::Unknown,
        "a timeout is not a failure"
    );
    assert_eq!(ops[2].gave_up, Some(SimTime::from_start(ms(21))));
    assert_eq!(ops[2].late_reply, Some(SimTime::from_start(ms(22))));
    assert_eq!(sim.history().counts(), (1, 1, 1));
    assert_eq!(sim.history().clients(), vec![0, 1, 2]);
    Ok(())
}

#[test]
fn a_lost_reply_leaves_the_outcome_unknown_though_the_write_happened() -> Result<()> {
    let mut sim = Sim::builder().build(vec![Register::default()])?;
    sim.set_default_link(LinkConfig::default())?;
    sim.invoke(0, Invoke::new(0, Some(3)))?;
    // The request arrives at 1 ms; cut the way back before the reply leaves.
    sim.run_for(us(500))?;
    sim.set_default_link(LinkConfig::default().loss(1.0))?;
    sim.run_for(ms(10))?;
    assert_eq!(sim.node(0)?.value, 3, "the write took effect");
    assert_eq!(sim.history().ops()[0].status, OpStatus::Unknown);
    Ok(())
}

#[test]
fn a_workload_runs_each_client_closed_loop() -> Result<()> {
    let mut sim = Sim::builder().build(vec![Register::default()])?;
    sim.set_workload(
        3,
        |c: ClientId, _now: SimTime, _r: &mut SimRng, last: Option<&Op<Option<i64>>>| {
            let n = last.map_or(0, |o| o.id + 1);
            (n < 12).then(|| Invoke::new(0, Some(c as i64)).after(ms(1)))
        },
    )?;
    sim.run_for(secs(1))?;
    let h = sim.history();
    for c in 0..3 {
        let ops: Vec<&Op<Option<i64>>> = h.of_client(c).collect();
        assert!(!ops.is_empty());
        for w in ops.windows(2) {
            assert!(
                w[1].invoked >= w[0].completed.unwrap(),
                "one operation at a time"
            );
        }
    }
    assert!(h.ops().iter().all(|o| o.status == OpStatus::Ok));
    Ok(())
}

#[test]
fn same_seed_same_history_and_violations() -> Result<()> {
    let run = |seed: u64| -> Result<String> {
        let link = LinkConfig::new(Latency::exponential(ms(2))?).loss(0.2);
        let mut sim = Sim::builder()
            .seed(seed)
            .link(link)
            .build(vec![Register::default()])?;
        sim.set_workload(
            4,
            |c: ClientId, _: SimTime, r: &mut SimRng, _: Option<&Op<Option<i64>>>| {
                let v = (simrng::unit_f64(r) * 100.0) as i64 - 10;
                Some(
                    Invoke::new(0, Some(v + c as i64))
                        .after(ms(1))
                        .timeout(ms(20)),
                )
            },
        )?;
        sim.run_for(ms(300))?;
        Ok(serde_json::to_string(sim.history()).unwrap_or_default())
    };
    assert_eq!(run(1)?, run(1)?);
    assert_ne!(run(1)?, run(2)?);
    Ok(())
}

#[test]
fn properties_see_the_event_before_the_crash_it_ends_in() -> Result<()> {
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let mut sim = Sim::builder()
        .faults(FaultPlan::new().crash_at_point(0, None))
        .build(vec![Writer])?;
    sim.check(check::never(
        "log",
        move |e: &SimEvent<Writer>, w: &World<Writer>| {
            let what = match e {
                SimEvent::Deliver { msg, .. } => format!("deliver {msg} (up: {})", w.up[0]),
                SimEvent::Crash { .. } => "crash".to_string(),
                _ => return None,
            };
            if let Ok(mut v) = log.lock() {
                v.push(what);
            }
            None
        },
    ));
    sim.inject_exact(0, 2, ms(1))?;
    sim.run_for(ms(5))?;
    let v = seen.lock().map(|v| v.clone()).unwrap_or_default();
    assert_eq!(v, ["deliver 2 (up: true)", "crash"]);
    Ok(())
}

#[test]
fn a_normal_latency_with_much_mass_below_zero_is_refused() {
    // mean = sd: 16 % of a normal is below zero; clipping that to 0 (as
    // this crate once did) or redrawing it both change the distribution.
    let err = Latency::normal(ms(10), ms(10)).unwrap_err();
    assert!(err.is_invalid_parameter());
    let msg = err.to_string();
    assert!(msg.contains("16 % of draws below zero"), "{msg}");
    assert!(msg.contains("log_normal"), "{msg}");
    // Just inside the 1 % bound (mean = 2.34 sd) is accepted; just outside is not.
    assert!(Latency::normal(ms(234), ms(100)).is_ok());
    assert!(Latency::normal(ms(232), ms(100)).is_err());
    // No draw is ever negative, so none is 0 either for a continuous law.
    let d = Latency::normal(ms(5), us(2100)).unwrap();
    let mut r = rng::stream(3, domain::EXPERIMENT, 0, 0);
    assert!((0..100_000).all(|_| d.sample(&mut r).as_nanos() > 0));
}
