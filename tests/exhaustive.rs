//! Bounded exhaustive search (`check::Exhaustive`): a race random seeds
//! never hit, found on a shortest path; the fixed protocol's whole space,
//! with its state counts pinned (as Stateright's examples pin theirs).

use thinkdist::check::{Choice, Exhaustive};
use thinkdist::prelude::*;
use thinkdist::sim::{Controlled, RandomOrder};

/// Node 0 writes `A` to node 2, then tells node 1 `go`; node 1 then writes
/// `B` to node 2, which must apply `A` before `B` (B builds on A). With
/// `fixed`, node 2 holds `B` back until `A` is there.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
struct Race {
    fixed: bool,
    applied: Vec<&'static str>,
    held: Option<&'static str>,
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
        match msg {
            "go" => ctx.send(2, "B"),
            "B" if self.fixed && !self.applied.contains(&"A") => self.held = Some("B"),
            m => {
                self.applied.push(m);
                if let Some(h) = self.held.take() {
                    self.applied.push(h);
                }
            }
        }
    }
}

fn ordered(sim: &Sim<Race>) -> bool {
    sim.nodes()[2].applied.first() != Some(&"B")
}

fn build(fixed: bool, seed: u64) -> Result<Sim<Race>> {
    Sim::builder()
        .seed(seed)
        .link(LinkConfig::new(Latency::uniform(ms(1), ms(2))?))
        .build(vec![
            Race {
                fixed,
                ..Race::default()
            };
            3
        ])
}

#[test]
fn ten_thousand_seeds_miss_the_race() {
    // Time-ordered runs: A takes at most 2 ms, go + B at least 2 ms.
    let hits = (0..10_000u64)
        .filter(|&seed| {
            let mut sim = build(false, seed).unwrap();
            sim.run_to_end().unwrap();
            !ordered(&sim)
        })
        .count();
    assert_eq!(hits, 0);
}

#[test]
fn random_schedules_hit_it_sometimes() {
    // Uniformly random schedules: node 2's first message is B when B (which
    // needs start, go, B) beats A; the count is pinned (seeds are fixed).
    let hits = (0..10_000u64)
        .filter(|&seed| {
            let mut c = Controlled::new(build(false, 0).unwrap());
            c.run_steps(&mut RandomOrder::new(seed), 100).unwrap();
            !ordered(c.sim())
        })
        .count();
    assert_eq!(hits, 2_537);
}

#[test]
fn exhaustive_search_finds_the_race_on_a_shortest_path() {
    let report = Exhaustive::new(|| build(false, 0))
        .always("A before B", ordered)
        .run()
        .unwrap();
    let v = report.violation.expect("the race is found");
    assert_eq!(v.property, "A before B");
    // Start 0, go, B: nodes 1 and 2 need not even have started.
    assert_eq!(v.path.len(), 3, "{:?}", v.steps);
    assert!(
        v.steps.last().unwrap().contains("1→2 \"B\""),
        "{:?}",
        v.steps
    );
    assert!(v.path.iter().all(|c| matches!(c, Choice::Run(_))));
    assert_eq!(report.unique_states, 16);
    assert!(!report.complete);
    // The trace of the path has the deliveries to draw.
    assert!(v.trace.events().len() >= 5);
}

#[test]
fn the_fixed_protocol_passes_its_whole_space() {
    let report = Exhaustive::new(|| build(true, 0))
        .always("A before B", ordered)
        .at_end("both applied", |s| s.nodes()[2].applied == ["A", "B"])
        .run()
        .unwrap();
    // Counted by hand: before node 0 starts, which of the starts of nodes
    // 1 and 2 ran (4 states); after, the same 4 times A pending or
    // applied × go pending, B pending or B delivered (24): 28 states.
    // Transitions: 8 before node 0 starts, 24 starts and 28 deliveries after.
    assert!(report.violation.is_none());
    assert!(report.complete && !report.depth_bounded);
    assert_eq!(report.unique_states, 28);
    assert_eq!(report.states_explored, 60);
    assert_eq!(report.end_states, 1);
    // With a crash of any node (and its recovery) the space grows, still
    // finite (one crash per path); a crashed node 2 loses what it applied, so "both
    // applied" is no longer an end property, only the order.
    let report = Exhaustive::new(|| build(true, 0))
        .crashes(1)
        .unwrap()
        .always("A before B", ordered)
        .run()
        .unwrap();
    assert!(report.violation.is_none());
    assert!(report.complete && !report.depth_bounded);
    assert_eq!(report.unique_states, 296);
}

#[test]
fn searches_are_bounded_and_repeatable() {
    let run = || {
        Exhaustive::new(|| build(true, 0))
            .crashes(2)
            .unwrap()
            .max_states(50)
            .unwrap()
            .always("A before B", ordered)
            .run()
            .unwrap()
    };
    let (a, b) = (run(), run());
    assert!(!a.complete);
    assert_eq!(a.unique_states, 50);
    assert_eq!(
        (a.states_explored, a.unique_states),
        (b.states_explored, b.unique_states)
    );
    let e = Exhaustive::new(|| build(true, 0)).max_depth(0).unwrap_err();
    assert!(e.to_string().contains("max_depth"), "{e}");
    let e = Exhaustive::new(|| build(true, 0))
        .max_states(usize::MAX)
        .unwrap_err();
    assert!(e.to_string().contains("max_states"), "{e}");
    let e = Exhaustive::new(|| build(true, 0)).crashes(11).unwrap_err();
    assert!(e.to_string().contains("crashes"), "{e}");
    // A build that fails is an error, not a panic.
    let e = Exhaustive::new(|| Sim::builder().build(Vec::<Race>::new()))
        .run()
        .unwrap_err();
    assert!(!e.to_string().is_empty());
}
