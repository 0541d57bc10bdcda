//! Consensus: the checkers (each with a broken input that fails it) and
//! single-decree Paxos, searched exhaustively on a small configuration and
//! explored over seeds; each planted flaw caught.

use thinkdist::check::consensus::{
    agreement, integrity, replicated_states, termination, validity, Decision,
};
use thinkdist::check::Exhaustive;
use thinkdist::consensus::{chosen, cluster, Flaw, Paxos};
use thinkdist::prelude::*;

fn d(node: NodeId, value: u64, t: u64) -> Decision<u64> {
    Decision::new(node, value, SimTime::ZERO + ms(t))
}

#[test]
fn checkers_pass_good_runs_and_fail_broken_ones() {
    let good = [d(0, 7, 1), d(1, 7, 2), d(2, 7, 3)];
    assert!(agreement(&good).holds);
    assert!(validity(&good, &[7, 8]).holds);
    assert!(integrity(&good).holds);
    assert!(termination(&good, &[0, 1, 2], SimTime::ZERO + ms(3)).holds);

    let split = [d(0, 7, 1), d(1, 8, 2)];
    let v = agreement(&split);
    assert!(!v.holds);
    assert!(v.counterexample.unwrap().contains("node 1 decided 8"));
    let v = validity(&good, &[8]);
    assert!(v.counterexample.unwrap().contains("nobody proposed"));
    let v = integrity(&[d(0, 7, 1), d(0, 8, 2)]);
    assert!(v.counterexample.unwrap().contains("and again 8"));
    let v = termination(&good, &[0, 1, 2], SimTime::ZERO + ms(2));
    assert!(v.counterexample.unwrap().contains("node 2 had not decided"));
}

#[test]
fn replicated_state_machines_agree_on_prefixes() {
    let add = |s: &mut i64, c: &i64| *s += c;
    let logs = vec![vec![1, 2, 3], vec![1, 2], vec![]];
    assert!(replicated_states(&logs, 0, add).holds);
    let forked = vec![vec![1, 2, 3], vec![1, 5]];
    let v = replicated_states(&forked, 0, add);
    assert!(v.counterexample.unwrap().contains("differ at log index 1"));
    // A non-deterministic apply (here: state depends on a global count) is
    // caught by the states, not the logs.
    let calls = std::cell::Cell::new(0);
    let v = replicated_states(&[vec![1], vec![1]], 0, |s: &mut i64, c: &i64| {
        calls.set(calls.get() + 1);
        *s += c * calls.get();
    });
    assert!(!v.holds);
}

fn paxos_search(flaw: Flaw, crashes: u32) -> Exhaustive<Paxos> {
    Exhaustive::new(move || Sim::builder().build(cluster(3, &[1, 2], None, 1, flaw)))
        .crashes(crashes)
        .unwrap()
        .always("one value chosen", |s: &Sim<Paxos>| {
            chosen((0..s.len()).map(|i| s.disk(i).unwrap().synced())).len() <= 1
        })
}

/// Three nodes, two proposers (values 1 and 2, one ballot each), every
/// delivery order: 128,316 states, all safe. About a minute of one core
/// (each transition replays its path): run with `--ignored`.
#[test]
#[ignore]
fn paxos_is_safe_in_its_whole_small_space() {
    let r = paxos_search(Flaw::None, 0).run().unwrap();
    assert!(r.violation.is_none());
    assert!(r.complete && !r.depth_bounded);
    assert_eq!((r.unique_states, r.states_explored), (128_316, 523_018));
    assert_eq!((r.end_states, r.depth_reached), (283, 20));
}

/// The same space to depth 10, in the normal test run.
#[test]
fn paxos_is_safe_to_depth_ten() {
    let r = paxos_search(Flaw::None, 0)
        .max_depth(10)
        .unwrap()
        .run()
        .unwrap();
    assert!(r.violation.is_none());
    assert!(r.depth_bounded);
    assert_eq!((r.unique_states, r.states_explored), (12_906, 33_666));
}

#[test]
fn skipping_adoption_is_caught_on_a_shortest_path() {
    let r = paxos_search(Flaw::SkipAdopt, 0).run().unwrap();
    let v = r.violation.expect("two values chosen");
    assert_eq!(v.property, "one value chosen");
    // Node 0 gets 1 chosen by nodes 0 and 2; node 1's promise from node 0
    // reports (1.0, 1), node 1 proposes its own 2 anyway, node 0 accepts it.
    assert_eq!(
        v.steps,
        [
            "start 0",
            "start 1",
            "0→2 prepare 1.0",
            "2→0 promise 1.0",
            "1→0 prepare 1.1",
            "0→2 accept 1.0 v=1",
            "0→1 promise 1.1 (1.0,1)",
            "1→0 accept 1.1 v=2"
        ]
    );
}

#[test]
fn forgetting_a_promise_is_caught_with_a_crash() {
    // Without crashes the flaw is invisible (to depth 12).
    let r = paxos_search(Flaw::ForgetPromise, 0)
        .max_depth(12)
        .unwrap()
        .run()
        .unwrap();
    assert!(r.violation.is_none());
    let r = paxos_search(Flaw::ForgetPromise, 1).run().unwrap();
    let v = r.violation.expect("two values chosen");
    // Node 0 promises 1.1, crashes and forgets, then promises the lower 1.0.
    assert_eq!(v.path.len(), 9, "{:?}", v.steps);
    assert_eq!(v.steps[3..5], ["crash 0", "recover 0"]);
    assert!(v.steps.last().unwrap().contains("accept 1.0"));
}

/// Paxos with retries (10 ms plus up to 10 ms of jitter, 20 ballots),
/// under a random fault schedule: outages, a partition, a lossy window,
/// and 5 % duplication on every link.
fn explored(flaw: Flaw, seeds: usize) -> thinkdist::check::Exploration {
    use thinkdist::check::{invariant, Explore, FaultSpace, Trial, TrialRun};
    let scenario = move |t: &Trial| -> Result<TrialRun> {
        let link = LinkConfig::new(Latency::uniform(ms(1), ms(5))?).duplicate(0.05);
        let nodes = cluster(3, &[1, 2, 3], Some((10_000_000, 10_000_000)), 20, flaw);
        let mut sim = Sim::builder()
            .seed(t.seed)
            .link(link)
            .faults(t.plan.clone())
            .trace(t.trace_cap)
            .build(nodes)?;
        sim.check(invariant("one value chosen", |w: &World<Paxos>| {
            let c = chosen(w.disks.iter().map(|d| d.synced()));
            if c.len() <= 1 {
                Ok(())
            } else {
                Err(format!("chosen: {c:?}"))
            }
        }));
        sim.run_for(ms(1_000))?;
        Ok(TrialRun::new(
            &mut sim,
            (0..3).map(|i| format!("node {i}")).collect(),
        ))
    };
    let space = FaultSpace::new(3, ms(1_000)).unwrap();
    Explore::new(seeds)
        .progress(false)
        .run(&space, scenario)
        .unwrap()
}

#[test]
fn paxos_is_safe_over_ten_thousand_explored_seeds() {
    let found = explored(Flaw::None, 10_000);
    assert_eq!(found.runs, 10_000);
    assert_eq!(found.failed(), 0, "{:?}", found.failures.first());
    // The same exploration catches a proposer that skips adoption.
    let found = explored(Flaw::SkipAdopt, 2_000);
    assert!(found.failed() > 0);
}
