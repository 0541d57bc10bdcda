//! Controlled schedules (`sim::Controlled`): by time is a normal run, a
//! random order is a function of its seed, an adversary picks what it likes.

use thinkdist::prelude::*;
use thinkdist::sim::{ByTime, Controlled, Event, Pending, RandomOrder, TimeRule};

/// Every node pings the others on start and on each of three timers; a
/// ping is answered by a pong; each node remembers what it saw, in order.
#[derive(Clone, Debug, Default, PartialEq)]
struct Chatty {
    seen: Vec<(NodeId, u32)>,
    ticks: u32,
}

impl Node for Chatty {
    type Msg = u32;
    type Timer = u32;
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(ms(3), 0);
        let cancel = ctx.set_timer(ms(4), 99);
        ctx.cancel_timer(cancel);
        for to in 0..ctx.cluster_size() {
            if to != ctx.id() {
                ctx.send(to, 1);
            }
        }
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: u32) {
        self.seen.push((from, msg));
        if msg % 2 == 1 {
            ctx.send(from, msg + 1);
        }
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, t: u32) {
        self.ticks += 1;
        let to = (ctx.id() + 1) % ctx.cluster_size();
        ctx.send(to, 2 * t + 3);
        if t < 2 {
            ctx.set_timer(ms(2), t + 1);
        }
    }
}

fn build(seed: u64) -> Sim<Chatty> {
    let link = LinkConfig::new(Latency::uniform(ms(1), ms(5)).unwrap())
        .loss(0.1)
        .duplicate(0.1);
    Sim::builder()
        .seed(seed)
        .link(link)
        .build(vec![Chatty::default(); 4])
        .unwrap()
}

fn events(sim: &Sim<Chatty>) -> Vec<String> {
    sim.trace()
        .events()
        .iter()
        .map(|e| format!("{e:?}"))
        .collect()
}

#[test]
fn by_time_is_the_normal_run() {
    for seed in 0..20 {
        let mut normal = build(seed);
        normal.run_to_end().unwrap();
        let mut c = Controlled::new(build(seed));
        let ran = c.run_steps(&mut ByTime, 1_000_000).unwrap();
        let sim = c.sim();
        assert_eq!(ran, normal.events_processed(), "seed {seed}");
        assert_eq!(events(sim), events(&normal), "seed {seed}");
        assert_eq!(sim.nodes(), normal.nodes(), "seed {seed}");
        assert_eq!(sim.stats(), normal.stats(), "seed {seed}");
        assert_eq!(sim.now(), normal.now(), "seed {seed}");
        assert!(normal.stats().duplicated > 0 || normal.stats().lost > 0 || seed > 0);
    }
}

#[test]
fn random_order_is_a_function_of_its_seed() {
    let run = |seed: u64| {
        let mut c = Controlled::new(build(1));
        c.run_steps(&mut RandomOrder::new(seed), 1_000_000).unwrap();
        (events(c.sim()), c.sim().nodes().to_vec())
    };
    assert_eq!(run(7), run(7));
    let distinct: std::collections::BTreeSet<_> = (0..10).map(|s| run(s).0).collect();
    assert!(distinct.len() >= 9, "{} distinct schedules", distinct.len());
    let mut normal = build(1);
    normal.run_to_end().unwrap();
    // A random order is not the time order: the first ten seeds all differ from it.
    assert!((0..10).all(|s| run(s).0 != events(&normal)));
}

/// Node 0 sends `A` to node 2 and then `go` to node 1, which sends `B` to
/// node 2. With any latency in 1..2 ms, `A` arrives first; an adversary
/// that holds `A` back delivers `B` first.
#[derive(Clone, Debug, Default)]
struct Race {
    got: Vec<&'static str>,
}
impl Node for Race {
    type Msg = &'static str;
    type Timer = ();
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.id() == 0 {
            ctx.send(2, "A");
            ctx.send(1, "go");
        }
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, msg: &'static str) {
        if msg == "go" {
            ctx.send(2, "B");
        }
        self.got.push(msg);
    }
}

#[test]
fn an_adversary_reorders_what_time_would_not() {
    let build = |seed| {
        Sim::builder()
            .seed(seed)
            .link(LinkConfig::new(Latency::uniform(ms(1), ms(2)).unwrap()))
            .build(vec![Race::default(); 3])
            .unwrap()
    };
    for seed in 0..200 {
        let mut sim = build(seed);
        sim.run_to_end().unwrap();
        assert_eq!(sim.node(2).unwrap().got, ["A", "B"], "seed {seed}");
    }
    // The adversary delivers anything but `A` while it can.
    let mut hold_a = |p: &[Pending<'_, Race>], _: &[Race]| {
        p.iter()
            .position(|e| !matches!(e.event, Event::Deliver { msg: &"A", .. }))
            .unwrap_or(0)
    };
    let mut c = Controlled::new(build(0))
        .time_rule(TimeRule::Steps(ms(1)))
        .unwrap();
    let ran = c.run_steps(&mut hold_a, 100).unwrap();
    assert_eq!(ran, 6); // three starts, go, B, A
    assert_eq!(c.sim().node(2).unwrap().got, ["B", "A"]);
    // Logical time: one step per event.
    assert_eq!(c.sim().now(), SimTime::ZERO + ms(6));
}

#[test]
fn lose_and_duplicate_act_on_messages_only() {
    let mut c = Controlled::new(build(3));
    // Nothing but starts is pending before the first step.
    assert_eq!(c.pending_len(), 4);
    assert!(c.lose(0).is_err());
    assert!(c.duplicate(0).is_err());
    for _ in 0..4 {
        c.run_pending(0).unwrap();
    }
    let first_msg = c
        .pending()
        .iter()
        .position(|p| matches!(p.event, Event::Deliver { .. }))
        .unwrap();
    let n = c.pending_len();
    let lost = c.sim().stats().lost;
    c.duplicate(first_msg).unwrap();
    assert_eq!(c.pending_len(), n + 1);
    c.lose(first_msg).unwrap();
    assert_eq!(c.pending_len(), n);
    assert_eq!(c.sim().stats().lost, lost + 1);
    let e = c.run_pending(n).unwrap_err();
    assert!(e.to_string().contains("pending event"), "{e}");
    let mut bad = |_: &[Pending<'_, Chatty>], _: &[Chatty]| 1_000;
    let e = c.step(&mut bad).unwrap_err();
    assert!(e.to_string().contains("scheduler's pick"), "{e}");
    let e = Controlled::new(build(0))
        .time_rule(TimeRule::Steps(ms(0)))
        .unwrap_err();
    assert!(e.to_string().contains("step > 0"), "{e}");
}

#[test]
fn the_event_budget_holds_under_a_scheduler() {
    let sim = Sim::builder()
        .max_events(10)
        .build(vec![Chatty::default(); 4])
        .unwrap();
    let mut c = Controlled::new(sim);
    let e = c.run_steps(&mut RandomOrder::new(1), 1_000).unwrap_err();
    assert!(e.is_budget_exhausted(), "{e}");
    assert_eq!(c.sim().events_processed(), 10);
}
