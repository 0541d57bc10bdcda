//! Raft (chapter 10): a calm run replicates and stays linearizable; 10,000
//! explored seeds with crashes, partitions (one-way too), loss and
//! duplication break no invariant; the two broken variants are caught and
//! shrunk.

use thinkdist::check::{FaultSpace, Trial};
use thinkdist::prelude::*;
use thinkdist::raft::{explore_raft, raft_trial, Bug, RaftCluster};

/// The explored space: outages, a leader crash, partitions both ways and
/// one way, lossy windows, and a crash at a sync point in half the runs.
fn space(c: &RaftCluster) -> Result<FaultSpace> {
    let mut s = FaultSpace::new(c.nodes, c.horizon)?;
    s.max_outages = 2;
    s.downtime = (ms(10), ms(1_000));
    s.max_partitions = 2;
    s.partition_len = (ms(50), ms(2_000));
    s.max_oneway = 1;
    s.oneway_len = (ms(50), ms(2_000));
    s.max_target_crashes = 2;
    s.crash_points = Some((300, ms(100)));
    Ok(s)
}

fn seeds(default: usize) -> usize {
    std::env::var("RAFT_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn a_calm_run_elects_one_leader_and_answers_every_client() -> Result<()> {
    let c = RaftCluster::default();
    let mut sim = c.build(&Trial::new(1, FaultPlan::new()))?;
    sim.run_for(c.horizon)?;
    assert!(sim.finish_checks().is_empty(), "{:?}", sim.violations());
    let leaders: Vec<_> = (0..c.nodes)
        .filter(|&i| sim.node(i).map(|n| n.is_leader()).unwrap_or(false))
        .collect();
    assert_eq!(leaders.len(), 1, "{leaders:?}");
    let (ok, failed, unknown) = sim.history().counts();
    // Every operation ends: refusals (a follower names the leader) do not
    // count; the rest commit, except the few whose request or reply the
    // network lost (1 % of messages): those stay of unknown outcome.
    assert_eq!(
        ok + unknown,
        c.clients * c.ops,
        "ok {ok} failed {failed} unknown {unknown}"
    );
    assert!(unknown <= 8, "{unknown}");
    // Every node applied the same log.
    let l = sim.node(leaders[0])?.commit;
    assert!(l as usize >= c.clients * c.ops);
    for i in 0..c.nodes {
        assert_eq!(sim.disk(i)?.working().log.len(), l as usize);
    }
    let run = raft_trial(&c, &Trial::new(1, FaultPlan::new()))?;
    assert!(run.violation.is_none(), "{:?}", run.violation);
    Ok(())
}

#[test]
fn ten_thousand_seeds_of_faults_break_nothing() -> Result<()> {
    let c = RaftCluster::default();
    let found = explore_raft(&c, &space(&c)?, seeds(10_000))?;
    assert!(found.passed(), "{:?}", found.failures.first());
    Ok(())
}

#[test]
fn an_unsynced_vote_is_caught_and_shrunk() -> Result<()> {
    let mut c = RaftCluster::default();
    c.cfg.bug = Some(Bug::VoteNotPersisted);
    c.nodes = 3;
    // Timeouts close together: split votes, so two candidates ask in one term.
    c.cfg.election_timeout = (ms(150), ms(155));
    c.crash_at_sends = true;
    let mut s = space(&c)?;
    s.crash_points = Some((200, ms(5)));
    let found = explore_raft(&c, &s, seeds(6_000))?;
    println!(
        "unsynced vote: {} of {} failed {:?}",
        found.failed(),
        found.runs,
        found.by_property
    );
    assert!(
        found.by_property.contains_key("election safety"),
        "{:?}",
        found.by_property
    );
    let cx = found.counterexample.expect("shrunk");
    println!("{:?}\n{}", cx.plan, cx.violation);
    assert!(cx.plan.len() <= cx.original.len());
    assert!(cx.plan.len() <= 2, "{:?}", cx.plan);
    Ok(())
}

#[test]
fn committing_an_old_term_by_counting_is_caught_and_shrunk() -> Result<()> {
    let mut c = RaftCluster::default();
    c.cfg.bug = Some(Bug::CommitOldTermByCount);
    let mut s = space(&c)?;
    s.max_target_crashes = 4;
    let found = explore_raft(&c, &s, seeds(6_000))?;
    println!(
        "old term: {} of {} failed {:?}",
        found.failed(),
        found.runs,
        found.by_property
    );
    assert!(found.failed() > 0);
    let cx = found.counterexample.expect("shrunk");
    println!("{:?}\n{}", cx.plan, cx.violation);
    assert!(cx.plan.len() <= cx.original.len());
    Ok(())
}
