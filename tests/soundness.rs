//! Soundness of the kernel (issue 17): each test here failed on the engine
//! before its fix (the item of the issue is named in each test's doc).
//! Tests that need peak-memory measurements are in `tests/memory.rs`.

use std::cell::RefCell;
use std::rc::Rc;
use thinkdist::prelude::*;
use thinkdist::sim::rng::{self, domain};

/// A node that sends what it is told to on start, answers every client
/// request, and counts its starts.
#[derive(Debug, Clone, Default)]
struct Talker {
    send_on_start: Vec<(NodeId, u64)>,
}

impl Node for Talker {
    type Msg = u64;
    type Timer = ();
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.count("starts");
        for (to, m) in self.send_on_start.clone() {
            ctx.send(to, m);
        }
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: u64) {
        ctx.count("received");
    }
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: u64) {
        ctx.reply(req, msg);
    }
}

fn talkers(n: usize) -> Vec<Talker> {
    vec![Talker::default(); n]
}

/// Every drop a property saw: (from, to, reason).
type Drops = Rc<RefCell<Vec<(NodeId, NodeId, DropReason)>>>;

/// Records the drops it sees; violated by a drop on link `watch`, if given
/// ("no message lost on this link").
struct SeeDrops {
    seen: Drops,
    watch: Option<(NodeId, NodeId)>,
}

impl<N: Node> Property<N> for SeeDrops {
    fn name(&self) -> String {
        "no message lost on a healthy link".into()
    }
    fn kind(&self) -> PropertyKind {
        PropertyKind::Safety
    }
    fn after(&mut self, ev: &SimEvent<'_, N>, _: &World<'_, N>) -> Option<String> {
        if let SimEvent::Drop {
            from, to, reason, ..
        } = ev
        {
            self.seen.borrow_mut().push((*from, *to, *reason));
            if self.watch == Some((*from, *to)) {
                return Some(format!("lost a message {from} → {to} ({reason:?})"));
            }
        }
        None
    }
}

fn count(seen: &Drops, reason: DropReason) -> u64 {
    seen.borrow().iter().filter(|d| d.2 == reason).count() as u64
}

/// Item 1: messages lost or cut at send time are `SimEvent::Drop` events,
/// as those dropped on arrival already were.
#[test]
fn properties_see_every_drop_decided_at_send_time() -> Result<()> {
    let mut nodes = talkers(2);
    nodes[0].send_on_start = (0..1000).map(|i| (1, i)).collect();
    let link = LinkConfig::default().loss(0.3);
    let mut sim = Sim::builder().seed(5).link(link).build(nodes)?;
    let seen = Drops::default();
    sim.check(SeeDrops {
        seen: seen.clone(),
        watch: None,
    });
    sim.run_for(ms(10))?;
    let lost = sim.stats().lost;
    assert!(lost > 200, "a third of 1000 should be lost, got {lost}");
    assert_eq!(count(&seen, DropReason::Loss), lost);
    assert!(seen.borrow().iter().all(|d| (d.0, d.1) == (0, 1)));

    // Cut by a partition in force when sent.
    let mut nodes = talkers(2);
    nodes[0].send_on_start = (0..10).map(|i| (1, i)).collect();
    let plan = FaultPlan::new().with(Fault::Partition {
        groups: vec![vec![0], vec![1]],
        from: SimTime::ZERO,
        to: None,
    });
    let mut sim = Sim::builder().faults(plan).build(nodes)?;
    let seen = Drops::default();
    sim.check(SeeDrops {
        seen: seen.clone(),
        watch: None,
    });
    sim.run_for(ms(10))?;
    assert_eq!(sim.stats().partitioned, 10);
    assert_eq!(count(&seen, DropReason::Partition), 10);
    Ok(())
}

/// Item 1: "no message lost on a healthy link" can be written, and catches
/// a link that is not healthy.
#[test]
fn a_property_catches_a_message_lost_on_a_link() -> Result<()> {
    let run = |lossy: bool| -> Result<Option<Violation>> {
        let mut nodes = talkers(3);
        nodes[0].send_on_start = (0..100).flat_map(|i| [(1, i), (2, i)]).collect();
        let mut sim = Sim::builder().seed(2).build(nodes)?;
        // Link 0 → 1 loses half its messages; 0 → 2 is healthy unless asked.
        sim.set_link(0, 1, LinkConfig::default().loss(0.5))?;
        if lossy {
            sim.set_link(0, 2, LinkConfig::default().loss(0.5))?;
        }
        sim.check(SeeDrops {
            seen: Drops::default(),
            watch: Some((0, 2)),
        });
        sim.run_for(ms(10))?;
        Ok(sim.violation().cloned())
    };
    assert_eq!(run(false)?, None, "the healthy link loses nothing");
    let v = run(true)?.expect("a lost message on 0 → 2 is a violation");
    assert!(v.event.contains("dropped (Loss)"), "{v}");
    assert_eq!(v.node, Some(2));
    Ok(())
}

/// Item 1: client requests and replies lost at send time are drops too
/// (`from` or `to` is EXTERNAL).
#[test]
fn properties_see_lost_requests_and_replies() -> Result<()> {
    let mut sim = Sim::builder()
        .seed(9)
        .link(LinkConfig::default().loss(0.4))
        .build(talkers(1))?;
    let seen = Drops::default();
    sim.check(SeeDrops {
        seen: seen.clone(),
        watch: None,
    });
    for i in 0..400 {
        sim.invoke(i % 50, Invoke::new(0, i as u64).after(ms(i as u64)))?;
    }
    sim.run_for(secs(1))?;
    let seen = seen.borrow();
    let requests = seen.iter().filter(|d| d.0 == EXTERNAL).count() as u64;
    let replies = seen.iter().filter(|d| d.1 == EXTERNAL).count() as u64;
    assert!(requests > 100 && replies > 50, "{requests} {replies}");
    assert_eq!(requests + replies, sim.stats().lost);
    Ok(())
}

/// Item 2: a mixture written by hand with weights that do not sum to 1
/// samples what its mean says (weights are relative).
#[test]
fn a_hand_written_mixture_samples_what_its_mean_says() -> Result<()> {
    let mix = Latency::Mixture {
        weights: vec![3.0, 1.0],
        parts: vec![Latency::constant(ms(0)), Latency::constant(ms(4))],
    };
    mix.validate()?;
    // P(4 ms) = 1/4: mean 1 ms, variance 16/4 − 1 = 3 ms².
    assert!((mix.mean_ns() - 1e6).abs() < 1e-3, "{}", mix.mean_ns());
    assert!(
        (mix.variance_ns2() - 3e12).abs() < 1.0,
        "{}",
        mix.variance_ns2()
    );
    let n = 200_000;
    let mut r = rng::stream(1, domain::EXPERIMENT, 0, 0);
    let mean = (0..n)
        .map(|_| mix.sample(&mut r).as_nanos() as f64)
        .sum::<f64>()
        / n as f64;
    let se = (mix.variance_ns2() / n as f64).sqrt();
    assert!(
        (mean - mix.mean_ns()).abs() <= 5.0 * se,
        "sample mean {mean} vs {} (se {se})",
        mix.mean_ns()
    );
    // The same mixture through the constructor: identical draws.
    let built = Latency::mixture(vec![
        (3.0, Latency::constant(ms(0))),
        (1.0, Latency::constant(ms(4))),
    ])?;
    let (mut a, mut b) = (rng::stream(2, 4, 0, 0), rng::stream(2, 4, 0, 0));
    for _ in 0..1000 {
        assert_eq!(mix.sample(&mut a), built.sample(&mut b));
    }
    assert!((built.mean_ns() - mix.mean_ns()).abs() < 1e-3);
    Ok(())
}

/// Item 3: healing a partition the plan started, by hand, does not make the
/// plan's own heal fail later.
#[test]
fn healing_a_planned_partition_by_hand_does_not_break_the_plan() -> Result<()> {
    let plan = FaultPlan::new().partition(ms(1), ms(10), vec![vec![0], vec![1]]);
    let mut sim = Sim::builder().faults(plan).build(talkers(2))?;
    sim.run_for(ms(2))?;
    let ids = sim.network().partitions();
    assert_eq!(ids.len(), 1);
    sim.heal(ids[0])?;
    sim.run_for(ms(20))?;
    assert!(sim.network().partitions().is_empty());
    Ok(())
}

/// Item 3: a node in two groups of one partition is refused by `validate`
/// and `build`, not in the middle of the run.
#[test]
fn a_node_in_two_groups_is_refused_before_the_run() {
    for groups in [vec![vec![0, 1], vec![1, 2]], vec![vec![0, 0], vec![1]]] {
        let plan = FaultPlan::new().partition(ms(5), ms(10), groups.clone());
        let err = plan.validate(3).expect_err("a node in two groups");
        assert!(err.to_string().contains("at most one group"), "{err}");
        let built = Sim::builder().faults(plan).build(talkers(3));
        assert!(built.is_err(), "{groups:?} must fail at build");
    }
}

/// Item 4: on a FIFO link a duplicate keeps the order too: the receiver
/// sees the sequence numbers never decrease.
#[test]
fn a_duplicate_on_a_fifo_link_keeps_the_order() -> Result<()> {
    #[derive(Debug, Clone, Default)]
    struct Log(Vec<u64>);
    impl Node for Log {
        type Msg = u64;
        type Timer = ();
        type Disk = ();
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            if ctx.id() == 0 {
                for i in 0..500 {
                    ctx.send(1, i);
                }
            }
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, m: u64) {
            self.0.push(m);
        }
    }
    let link = LinkConfig::new(Latency::uniform(ms(1), ms(20))?)
        .duplicate(0.5)
        .fifo(true);
    let mut sim = Sim::builder()
        .seed(4)
        .link(link)
        .build(vec![Log::default(); 2])?;
    sim.run_to_end()?;
    let got = &sim.node(1)?.0;
    assert!(
        got.len() > 600,
        "about 250 duplicates expected: {}",
        got.len()
    );
    assert!(
        got.windows(2).all(|w| w[0] <= w[1]),
        "FIFO order broken by a duplicate"
    );
    Ok(())
}

/// Item 8: a send to a node that does not exist stops the run with an error
/// that names the sender, the id and the cluster size.
#[test]
fn a_send_to_an_unknown_node_is_an_error() -> Result<()> {
    let mut nodes = talkers(3);
    nodes[1].send_on_start = vec![(0, 1), (7, 2)];
    let mut sim = Sim::builder().build(nodes)?;
    let err = sim.run_for(ms(10)).err().expect("must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("node 1") && msg.contains("node 7") && msg.contains("3 nodes"),
        "{msg}"
    );
    // To the outside world: named as such, not as a 20-digit id.
    let mut nodes = talkers(2);
    nodes[0].send_on_start = vec![(EXTERNAL, 1)];
    let mut sim = Sim::builder().build(nodes)?;
    let err = sim.run_for(ms(10)).err().expect("must fail");
    assert!(err.to_string().contains("external"), "{err}");
    // From experiment code: with_node returns it.
    let mut sim = Sim::builder().build(talkers(2))?;
    assert!(sim.with_node(0, |_, ctx| ctx.send(2, 0)).is_err());
    Ok(())
}

/// A node that sets `per_event` timers (each `after` long) per message
/// and cancels them at once, then sends the message to itself again.
#[derive(Debug, Clone)]
struct Canceller {
    per_event: usize,
    after: SimDuration,
}

impl Node for Canceller {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.send(ctx.id(), ());
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, _: ()) {
        for _ in 0..self.per_event {
            let t = ctx.set_timer(self.after, ());
            ctx.cancel_timer(t);
        }
        ctx.send(ctx.id(), ());
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
        ctx.count("cancelled timer fired");
    }
}

/// Item 10: cancelled timers do not count against the event budget when
/// their time comes, nor as pending events.
#[test]
fn cancelled_timers_are_no_events() -> Result<()> {
    // 1 start and 100 messages in 100 ms, 10 cancelled 1 ms timers each.
    let node = Canceller {
        per_event: 10,
        after: ms(1),
    };
    let mut sim = Sim::builder().max_events(150).build(vec![node])?;
    sim.run_for(ms(100))?;
    assert_eq!(sim.events_processed(), 101);
    assert_eq!(sim.counters().get("cancelled timer fired"), 0);
    // Hour-long ones: still in the future, and not pending either.
    let node = Canceller {
        per_event: 10,
        after: hours(1),
    };
    let mut sim = Sim::builder().build(vec![node])?;
    sim.run_for(ms(100))?;
    assert_eq!(sim.pending(), 1, "one message in flight, no timer");
    assert_eq!(sim.timers_pending(), 0);
    Ok(())
}

/// Sets an hour-long timer in every incarnation.
#[derive(Debug, Clone, Default)]
struct Sleeper;

impl Node for Sleeper {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(hours(1), ());
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
        ctx.count("fired");
    }
}

/// Item 10: after a million bounces, the timers of dead incarnations are
/// gone: one is pending, one fires, and none costs an event.
#[test]
fn timers_of_dead_incarnations_are_gone() -> Result<()> {
    let mut sim = Sim::builder().build(vec![Sleeper])?;
    sim.run_for(ms(1))?;
    for _ in 0..1_000_000 {
        sim.bounce(0)?;
    }
    assert_eq!(sim.pending(), 1);
    assert_eq!(sim.timers_pending(), 1);
    sim.run_for(hours(2))?;
    assert_eq!(sim.counters().get("fired"), 1);
    assert_eq!(sim.events_processed(), 2, "the start and one timer");
    Ok(())
}

/// Item 11: a node bounced (or crashed) after `build` and before the run
/// starts once, not twice.
#[test]
fn a_node_bounced_before_the_run_starts_once() -> Result<()> {
    let mut sim = Sim::builder().build(talkers(3))?;
    sim.bounce(0)?;
    sim.crash(1)?;
    sim.run_for(ms(10))?;
    // Node 0 ran on_recover (which runs on_start) once, and no Start after
    // it; node 1 is down; node 2 started once.
    assert_eq!(sim.counters().get("starts"), 2);
    assert!(!sim.is_up(1));
    sim.recover(1)?;
    assert_eq!(sim.counters().get("starts"), 3);
    Ok(())
}

/// Item 12: ids and other integers in errors print as integers; the
/// outside world prints as "external".
#[test]
fn ids_in_errors_print_as_integers() -> Result<()> {
    let mut sim = Sim::builder().build(talkers(2))?;
    let err = sim.release(EXTERNAL, 0).unwrap_err().to_string();
    assert!(err.contains("external"), "{err}");
    assert!(!err.contains("e19"), "{err}");
    let err = sim
        .hold(0, 123_456_789_012_345_678)
        .unwrap_err()
        .to_string();
    assert!(err.contains("123456789012345678"), "{err}");
    let err = thinkdist::Error::invalid("seed", u64::MAX, "anything").to_string();
    assert!(err.contains("18446744073709551615"), "{err}");
    // Floats still print short.
    let err = thinkdist::Error::invalid("rate", 1e300, "anything").to_string();
    assert!(err.contains("1e300"), "{err}");
    Ok(())
}

/// Sets `n` timers, or sends `n` messages, in one handler.
#[derive(Debug, Clone)]
struct Burst {
    n: u64,
    timers: bool,
}

impl Node for Burst {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        for _ in 0..self.n {
            if self.timers {
                ctx.set_timer(secs(1), ());
            } else {
                ctx.send(0, ());
            }
        }
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
}

/// Item 13: one handler that sets or sends more than the queue may hold is
/// stopped at the limit, inside the handler, with an error that says which.
#[test]
fn one_handler_cannot_fill_the_queue_past_its_limit() -> Result<()> {
    for timers in [true, false] {
        let node = Burst { n: 100_000, timers };
        let mut sim = Sim::builder().max_pending(1_000).build(vec![node])?;
        let err = sim.run_for(secs(5)).err().expect("over the limit");
        assert!(err.is_budget_exhausted(), "{err}");
        let msg = err.to_string();
        let what = if timers {
            "set a timer"
        } else {
            "sent a message"
        };
        assert!(msg.contains(what) && msg.contains("node 0"), "{msg}");
        assert!(sim.pending() <= 1_000, "{} pending", sim.pending());
    }
    Ok(())
}

/// Syncs `n` times in one handler.
#[derive(Debug, Clone)]
struct Syncer(u64);

impl Node for Syncer {
    type Msg = ();
    type Timer = ();
    type Disk = u64;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        for _ in 0..self.0 {
            *ctx.disk() += 1;
            ctx.sync("tick");
        }
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
}

/// Item 13: the record of crash points is capped; a run that passes the cap
/// stops with an error.
#[test]
fn the_record_of_crash_points_is_capped() -> Result<()> {
    let mut sim = Sim::builder()
        .record_crash_points(true)
        .build(vec![Syncer(1_100_000)])?;
    let err = sim.run_for(ms(1)).err().expect("past the cap");
    assert!(err.to_string().contains("record_crash_points"), "{err}");
    assert_eq!(sim.crash_points().len(), 1_000_000);
    assert_eq!(sim.crash_points_reached(), 1_100_000);
    Ok(())
}

/// Item 13: partitions in force are limited in number and memory: a loop of
/// partitions over a large cluster ends in an error, and a plan that would
/// hold too many at once is refused before the run.
#[test]
fn partitions_are_limited_in_memory() -> Result<()> {
    let n = 100_000;
    let mut sim = Sim::builder().build(vec![Talker::default(); n])?;
    let mut made = 0;
    let err = loop {
        match sim.partition(&[vec![0]]) {
            Ok(_) => made += 1,
            Err(e) => break e,
        }
        assert!(made <= 1_000, "no limit on partitions in force");
    };
    assert!(err.to_string().contains("partition"), "{err}");
    assert!(made * 4 * n <= 64 << 20, "{made} partitions kept");
    let mut plan = FaultPlan::new();
    for i in 0..1_000u64 {
        plan = plan.partition(ms(i), secs(10), vec![vec![0]]);
    }
    assert!(
        plan.validate(n).is_err(),
        "1,000 at once over 100,000 nodes"
    );
    assert!(plan.validate(5).is_ok(), "1,000 at once over 5 nodes fit");
    // One after the other, they fit at any size.
    let mut plan = FaultPlan::new();
    for i in 0..1_000u64 {
        plan = plan.partition(ms(i), ms(i) + us(500), vec![vec![0]]);
    }
    plan.validate(n)?;
    Ok(())
}

/// Writes a 10 kB note on every timer, every millisecond.
#[derive(Debug, Clone)]
struct Noter;

impl Node for Noter {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(ms(1), ());
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
        ctx.note("x".repeat(10_000));
        ctx.set_timer(ms(1), ());
    }
}

/// Item 13: the trace is capped by bytes, not only by count.
#[test]
fn the_trace_is_capped_by_bytes() -> Result<()> {
    let mut sim = Sim::builder().trace(1_000_000).build(vec![Noter])?;
    sim.run_for(secs(20))?;
    let bytes: usize = sim.trace().events().iter().map(|e| e.label.len()).sum();
    assert!(bytes <= 128 << 20, "{bytes} bytes of labels kept");
    assert!(sim.trace().overflow() > 0, "the cut is counted");
    assert!(sim.trace().events().len() > 1_000);
    Ok(())
}
