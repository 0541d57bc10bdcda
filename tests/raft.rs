//! Raft (chapter 10): a calm run replicates and stays linearizable; 10,000
//! explored seeds with crashes, partitions (one-way too), loss and
//! duplication break no invariant; the two broken variants are caught and
//! shrunk.

use thinkdist::check::{FaultSpace, Trial};
use thinkdist::prelude::*;
use thinkdist::raft::{explore_raft, raft_trial, Aim, Bug, RaftCluster};

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
    let found = explore_raft(&c, &c.fault_space()?, seeds(10_000))?;
    assert!(found.passed(), "{:?}", found.failures.first());
    Ok(())
}

/// A space with nothing but one aimed crash point (in half the runs),
/// restarting after `restart`.
fn aimed_space(c: &RaftCluster, points: u64, restart: SimDuration) -> Result<FaultSpace> {
    let mut s = FaultSpace::new(c.nodes, c.horizon)?;
    s.max_outages = 0;
    s.max_partitions = 0;
    s.max_lossy = 0;
    s.max_oneway = 0;
    s.max_target_crashes = 0;
    s.crash_points = Some((points, restart));
    Ok(s)
}

/// The unsynced vote: a server votes for one candidate, crashes at the
/// next thing it does (typically denying the other candidate of the same
/// term), restarts 1 ms later having forgotten its vote, and grants the
/// other candidate's next request (candidates ask again every heartbeat,
/// here 5 ms): two votes in one term. Random crash points found it in 1
/// run of 6,000 (the crash must fall between a vote and the next sync);
/// aimed at the point after a granted vote, in about a third of the runs
/// (half of them have no crash at all).
#[test]
fn an_unsynced_vote_is_caught_and_shrunk() -> Result<()> {
    let mut c = RaftCluster::default();
    c.cfg.bug = Some(Bug::VoteNotPersisted);
    c.nodes = 3;
    // Timeouts close together: split votes, so two candidates ask in one term.
    c.cfg.election_timeout = (ms(150), ms(155));
    c.cfg.heartbeat = ms(5);
    c.crash_at_sends = true;
    c.aim = Aim::NextAfter("yes t");
    let n = seeds(200);
    let found = explore_raft(&c, &aimed_space(&c, 1, ms(1))?, n)?;
    println!(
        "unsynced vote: {} of {} failed {:?}",
        found.failed(),
        found.runs,
        found.by_property
    );
    assert_eq!(
        found.by_property.keys().collect::<Vec<_>>(),
        ["one vote per term"]
    );
    if n == 200 {
        assert_eq!(found.failed(), 68);
    }
    assert!(found.failed() * 5 >= n, "{} of {n}", found.failed());
    let cx = found.counterexample.expect("shrunk");
    println!("{:?}\n{}", cx.plan, cx.violation);
    assert_eq!(cx.plan.len(), 1, "{:?}", cx.plan);
    // Raft as written survives the same aimed crashes.
    c.cfg.bug = None;
    let found = explore_raft(&c, &aimed_space(&c, 1, ms(1))?, n)?;
    assert!(found.passed(), "{:?}", found.failures.first());
    Ok(())
}

/// Committing an entry of an earlier term by counting replicas (the
/// paper's Figure 8), found by search: [`RaftCluster::figure8`] chains four
/// crashes, each of the next leader right after it synced a client's entry
/// (so the entry is on it alone), each back 1 s later. Half the runs have
/// the chain; 81 of 200 break leader completeness, and the failure shrinks
/// to the chain itself (no crash of it can go). Raft as written passes the
/// same runs.
#[test]
fn figure8_is_found_by_aimed_crashes_and_shrunk() -> Result<()> {
    let mut c = RaftCluster::default();
    c.cfg.bug = Some(Bug::CommitOldTermByCount);
    let (aimed, space) = c.figure8()?;
    let n = seeds(200);
    let found = explore_raft(&aimed, &space, n)?;
    println!(
        "figure 8: {} of {} failed {:?}",
        found.failed(),
        found.runs,
        found.by_property
    );
    assert_eq!(
        found.by_property.keys().collect::<Vec<_>>(),
        ["leader completeness"]
    );
    if n == 200 {
        assert_eq!(found.failed(), 81);
    }
    assert!(found.failed() * 4 >= n, "{} of {n}", found.failed());
    let cx = found.counterexample.expect("shrunk");
    println!("{:?}\n{}", cx.plan, cx.violation);
    assert_eq!(cx.violation.property, "leader completeness");
    assert!((2..=4).contains(&cx.plan.len()), "{:?}", cx.plan);
    // Raft as written survives the same aimed crashes.
    c.cfg.bug = None;
    let (aimed, space) = c.figure8()?;
    let found = explore_raft(&aimed, &space, n)?;
    assert!(found.passed(), "{:?}", found.failures.first());
    Ok(())
}

/// The same bug under the random space ([`RaftCluster::fault_space`] with
/// four leader crashes): random fault schedules hit it in 1 seed of 30,000
/// (seed 16,456, found with `RAFT_SEEDS=30000`, about 3 minutes), which is
/// why the test above aims. That schedule is replayed here: leader
/// completeness fails with the bug, and Raft as written passes it.
#[test]
fn committing_an_old_term_by_counting_is_caught() -> Result<()> {
    let mut c = RaftCluster::default();
    c.cfg.bug = Some(Bug::CommitOldTermByCount);
    let mut s = c.fault_space()?;
    s.max_target_crashes = 4;
    let seed = 16_456;
    let run = raft_trial(&c, &Trial::new(seed, s.draw(seed)))?;
    let v = run.violation.expect("caught");
    println!("{v}");
    assert_eq!(v.property, "leader completeness");
    c.cfg.bug = None;
    let run = raft_trial(&c, &Trial::new(seed, s.draw(seed)))?;
    assert!(run.violation.is_none(), "{:?}", run.violation);
    Ok(())
}

/// Figure 2 restarts a follower's election timer only when it hears the
/// current leader or grants a vote. A node that was cut off comes back
/// with a high term and a stale log: its requests are denied, and must not
/// push back the others' elections (else it can hold off every election
/// for as long as it keeps asking). Node 1 must time out one fixed
/// timeout (150 ms) after the last heartbeat of the crashed leader,
/// whatever node 2's denied requests do in between; crash times spread
/// over one timeout so node 2's requests land at every phase.
#[test]
fn a_denied_vote_does_not_restart_the_election_timer() -> Result<()> {
    use thinkdist::raft::{Raft, RaftConfig, RaftWorkload, Role};
    let cfg = |t| RaftConfig {
        election_timeout: (ms(t), ms(t)),
        heartbeat: ms(50),
        ..RaftConfig::default()
    };
    for k in 0..15u64 {
        let mut sim = Sim::builder()
            .seed(k)
            .link(LinkConfig::new(Latency::constant(ms(5))))
            .build(vec![
                Raft::new(cfg(100)),
                Raft::new(cfg(150)),
                Raft::new(cfg(150)),
            ])?;
        sim.set_workload(1, RaftWorkload::new(3, 1, 3, ms(500)))?;
        let cut = sim.partition(&[vec![2], vec![0, 1]])?;
        let crash = ms(2_000 + 10 * k);
        sim.run_for(crash)?;
        assert!(sim.node(0)?.is_leader(), "node 0 leads");
        assert!(sim.node(0)?.commit > sim.disk(2)?.working().log.len() as u64);
        assert!(sim.node(2)?.term > sim.node(1)?.term + 2);
        let t = sim.now();
        sim.crash(0)?;
        sim.heal(cut)?;
        // The last heartbeat reaches node 1 at most 5 ms after the crash.
        let deadline = t + ms(5 + 150 + 1);
        while sim.node(1)?.role == Role::Follower {
            let now = sim.step()?.expect("events");
            assert!(
                now <= deadline,
                "crash {k}: node 1 still a follower at {now}"
            );
        }
    }
    Ok(())
}
