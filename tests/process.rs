//! Async processes in virtual time (`src/sim/process`): request/reply, timeouts,
//! cancellation, combinators, tokio's sync primitives, crashes, restarts,
//! crash points, determinism (also inside sweeps), mixing with handler-style
//! nodes, and bad input.

use std::cell::Cell;
use std::rc::Rc;
use thinkdist::check::crash_points::{every_point, CrashPointRun};
use thinkdist::prelude::*;
use thinkdist::process::{
    join_all, quorum, race, Either, Envelope, Process, QuorumError, TimedOut, Wake,
};
use thinkdist::sim::rng::fingerprint;

#[derive(Clone, Debug, PartialEq)]
enum Msg {
    Ping(u32),
    Pong(u32),
    Book(u32),
    Booked(u32),
    Cancel(u32),
    Go,
}

/// A disk that is a list of events (durable once synced).
type Log = Vec<String>;
type P = Process<Msg, Log>;

/// Answers every `Ping(n)` request with `Pong(n)` after `delay`.
fn server(delay: SimDuration) -> P {
    P::new(move |p| async move {
        loop {
            let m = p.recv().await;
            if let Msg::Ping(n) = m.msg {
                if delay > SimDuration::ZERO {
                    // One task per request, so slow answers do not queue.
                    let q = p.clone();
                    drop(p.spawn(async move {
                        q.sleep(delay).await;
                        q.reply(&m, Msg::Pong(n));
                    }));
                } else {
                    p.reply(&m, Msg::Pong(n));
                }
            }
        }
    })
}

/// Never answers.
fn silent() -> P {
    P::new(|p| async move {
        loop {
            let _ = p.recv().await;
        }
    })
}

fn log(p: &thinkdist::process::Proc<Msg, Log>, s: String) {
    p.disk(|d| d.push(s));
    p.sync("log");
}

fn synced(sim: &Sim<P>, id: NodeId) -> Log {
    sim.disk(id).unwrap().synced().clone()
}

#[test]
fn request_gets_its_reply_at_the_round_trip_time() -> Result<()> {
    let client = P::new(|p| async move {
        let r = p.request(1, Msg::Ping(7), ms(50)).await;
        log(&p, format!("{r:?} at {}", p.now().as_nanos()));
    });
    let mut sim = Sim::builder().seed(1).build(vec![client, server(ms(3))])?;
    sim.run_for(ms(100))?;
    // 1 ms there, 3 ms of work, 1 ms back (the default link is 1 ms).
    assert_eq!(synced(&sim, 0), vec!["Ok(Pong(7)) at 5000000".to_string()]);
    assert!(sim.node(0)?.is_finished());
    Ok(())
}

#[test]
fn request_times_out_exactly_at_its_deadline() -> Result<()> {
    let client = P::new(|p| async move {
        let r = p.request(1, Msg::Ping(1), ms(50)).await;
        assert_eq!(r, Err(TimedOut));
        log(&p, format!("timeout at {}", p.now().as_nanos()));
    });
    let mut sim = Sim::builder().seed(1).build(vec![client, silent()])?;
    sim.run_for(ms(200))?;
    assert_eq!(synced(&sim, 0), vec!["timeout at 50000000".to_string()]);
    assert_eq!(sim.node(0)?.halted(), None);
    Ok(())
}

/// Counts its drops: held across an await, it shows when a future is dropped.
struct DropCount(Rc<Cell<u32>>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn race_drops_the_loser_and_its_late_reply_is_counted() -> Result<()> {
    let drops = Rc::new(Cell::new(0));
    let d = drops.clone();
    let client = P::new(move |p| {
        let d = d.clone();
        async move {
            let guard = DropCount(d.clone());
            let q = p.clone();
            let slow = async move {
                let _g = guard;
                q.request(1, Msg::Ping(1), ms(500)).await
            };
            match race(slow, p.sleep(ms(10))).await {
                Either::Left(_) => log(&p, "reply won".into()),
                Either::Right(()) => log(&p, format!("sleep won, dropped {}", d.get())),
            }
            p.sleep(ms(100)).await; // the late reply arrives meanwhile
        }
    });
    let mut sim = Sim::builder().seed(3).build(vec![client, server(ms(30))])?;
    sim.run_for(ms(200))?;
    assert_eq!(synced(&sim, 0), vec!["sleep won, dropped 1".to_string()]);
    assert_eq!(drops.get(), 1);
    assert_eq!(sim.counters().get("late or duplicate replies"), 1);
    // The loser's 500 ms timeout was cancelled with it: nothing is pending.
    assert_eq!(sim.timers_pending(), 0);
    Ok(())
}

#[test]
fn timeout_wraps_any_future() -> Result<()> {
    let client = P::new(|p| async move {
        let a = p.timeout(ms(5), p.recv()).await.map(|m| m.msg);
        let b = p.timeout(ms(5), p.sleep(ms(1))).await;
        log(&p, format!("{a:?} {b:?} at {}", p.now().as_nanos()));
    });
    let mut sim = Sim::builder().build(vec![client, silent()])?;
    sim.run_for(ms(100))?;
    assert_eq!(
        synced(&sim, 0),
        vec!["Err(TimedOut) Ok(()) at 6000000".to_string()]
    );
    Ok(())
}

/// A client asking five servers, `down` of them silent, for a quorum of `k`.
fn quorum_run(k: usize, down: usize) -> Result<Log> {
    let client = P::new(move |p| async move {
        let reqs: Vec<_> = (1..=5)
            .map(|s| p.request(s, Msg::Ping(s as u32), ms(20)))
            .collect();
        let r = quorum(k, reqs).await;
        let line = match r {
            Ok(v) => format!(
                "ok {:?} at {}",
                v.iter().map(|x| x.0).collect::<Vec<_>>(),
                p.now().as_nanos()
            ),
            Err(e) => format!("{e} at {}", p.now().as_nanos()),
        };
        log(&p, line);
        p.sleep(ms(50)).await;
    });
    let mut nodes = vec![client];
    for s in 1..=5 {
        // Server s answers after s ms; the last `down` never answer.
        nodes.push(if s > 5 - down {
            silent()
        } else {
            server(ms(s as u64))
        });
    }
    let mut sim = Sim::builder().seed(5).build(nodes)?;
    sim.run_for(ms(200))?;
    Ok(synced(&sim, 0))
}

#[test]
fn quorum_takes_the_first_k_and_fails_when_out_of_reach() -> Result<()> {
    // Servers 1..=3 answer at 3, 4, 5 ms (1 ms each way + s ms).
    assert_eq!(
        quorum_run(3, 2)?,
        vec!["ok [0, 1, 2] at 5000000".to_string()]
    );
    // Two silent servers: a quorum of 4 fails when the second times out.
    assert_eq!(
        quorum_run(4, 2)?,
        vec!["quorum unreachable: 3 succeeded, 2 failed at 20000000".to_string()]
    );
    // Bad k: an error at once, not a panic.
    assert_eq!(
        quorum_run(6, 0)?,
        vec!["a quorum of 6 out of 5 futures cannot form: use k between 1 and 5 at 0".to_string()]
    );
    assert!(quorum_run(0, 0)?[0].starts_with("a quorum of 0 out of 5"));
    Ok(())
}

#[test]
fn quorum_and_join_all_outside_the_engine() {
    // Futures that are ready at once need no engine: poll by hand.
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let futs = vec![
        std::future::ready(Ok::<u32, &str>(1)),
        std::future::ready(Err("no")),
        std::future::ready(Ok(3)),
    ];
    let mut q = std::pin::pin!(quorum(3, futs));
    match q.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(Err(QuorumError::Unreachable { ok, errors })) => {
            assert_eq!(ok, 1);
            assert_eq!(errors, vec![(1, "no")]);
        }
        _ => panic!("expected an unreachable quorum"),
    }
    let mut j = std::pin::pin!(join_all(vec![std::future::ready(1), std::future::ready(2)]));
    assert_eq!(j.as_mut().poll(&mut cx), std::task::Poll::Ready(vec![1, 2]));
}

use std::future::Future;

#[test]
fn spawned_tasks_run_and_join() -> Result<()> {
    let client = P::new(|p| async move {
        let hs: Vec<_> = (1..=3u64)
            .map(|i| {
                let q = p.clone();
                p.spawn(async move {
                    q.sleep(ms(10 * (4 - i))).await;
                    q.now().as_nanos() / 1_000_000
                })
            })
            .collect();
        let ts = join_all(hs).await;
        log(&p, format!("{ts:?}"));
    });
    let mut sim = Sim::builder().build(vec![client])?;
    sim.run_for(ms(100))?;
    assert_eq!(synced(&sim, 0), vec!["[30, 20, 10]".to_string()]);
    assert_eq!(sim.node(0)?.tasks(), 0);
    Ok(())
}

#[test]
fn tokio_oneshot_and_mpsc_work_inside_a_process() -> Result<()> {
    let client = P::new(|p| async move {
        let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
        let q = p.clone();
        drop(p.spawn(async move {
            q.sleep(ms(7)).await;
            let _ = tx.send(42);
        }));
        let v = rx.await.unwrap_or(0);
        log(
            &p,
            format!("oneshot {v} at {}", p.now().as_nanos() / 1_000_000),
        );

        let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(2);
        for i in 0..3u32 {
            let (q, tx) = (p.clone(), tx.clone());
            drop(p.spawn(async move {
                q.sleep(ms(u64::from(3 - i))).await;
                let _ = tx.send(i).await;
            }));
        }
        drop(tx);
        let mut got = Vec::new();
        while let Some(i) = rx.recv().await {
            got.push(i);
        }
        log(&p, format!("mpsc {got:?}"));
    });
    let mut sim = Sim::builder().build(vec![client])?;
    sim.run_for(ms(100))?;
    assert_eq!(
        synced(&sim, 0),
        vec!["oneshot 42 at 7".to_string(), "mpsc [2, 1, 0]".to_string()]
    );
    Ok(())
}

#[test]
fn tokio_mutex_and_notify_work_inside_a_process() -> Result<()> {
    let client = P::new(|p| async move {
        // A mutex held across a sleep serialises three tasks in FIFO order.
        let m = Rc::new(tokio::sync::Mutex::new(Vec::<u64>::new()));
        let mut hs = Vec::new();
        for i in 0..3u64 {
            let (q, m) = (p.clone(), m.clone());
            hs.push(p.spawn(async move {
                let mut g = m.lock().await;
                q.sleep(ms(10)).await;
                g.push(i * 1000 + q.now().as_nanos() / 1_000_000);
            }));
        }
        join_all(hs).await;
        let v = m.lock().await.clone();
        log(&p, format!("mutex {v:?}"));

        let n = Rc::new(tokio::sync::Notify::new());
        let (q, n2) = (p.clone(), n.clone());
        drop(p.spawn(async move {
            q.sleep(ms(5)).await;
            n2.notify_one();
        }));
        n.notified().await;
        log(
            &p,
            format!("notified at {}", p.now().as_nanos() / 1_000_000),
        );
    });
    let mut sim = Sim::builder().build(vec![client])?;
    sim.run_for(ms(100))?;
    assert_eq!(
        synced(&sim, 0),
        vec![
            "mutex [10, 1020, 2030]".to_string(),
            "notified at 35".to_string()
        ]
    );
    Ok(())
}

#[test]
fn a_crash_drops_the_futures_and_a_restart_runs_from_the_start_with_the_disk() -> Result<()> {
    let drops = Rc::new(Cell::new(0));
    let d = drops.clone();
    let body = P::new(move |p| {
        let d = d.clone();
        async move {
            let _guard = DropCount(d);
            let boots = p.disk(|log| log.iter().filter(|s| s.starts_with("boot")).count());
            log(
                &p,
                format!("boot {boots} at {}", p.now().as_nanos() / 1_000_000),
            );
            p.disk(|log| log.push("unsynced".into())); // lost in the crash
            p.sleep(secs(10)).await;
            log(&p, "never".into());
        }
    });
    let plan = FaultPlan::new().outage(ms(20), ms(30), 0);
    let mut sim = Sim::builder().faults(plan).build(vec![body])?;
    sim.run_for(ms(25))?;
    assert_eq!(drops.get(), 1, "the crash dropped the sleeping future");
    assert!(!sim.node(0)?.is_started());
    sim.run_for(ms(75))?;
    assert_eq!(
        synced(&sim, 0),
        vec!["boot 0 at 0".to_string(), "boot 1 at 30".to_string()]
    );
    assert_eq!(
        sim.disk(0)?.working().len(),
        3,
        "the new incarnation's unsynced write"
    );
    assert_eq!(drops.get(), 1);
    // Its 10 s timer from the first life was cancelled by the crash; the
    // second life's is pending.
    assert_eq!(sim.timers_pending(), 1);
    Ok(())
}

/// A transfer written as a process: two separate syncs (wrong on purpose),
/// so a crash between them loses money. Every sync is a crash point.
fn bank_scenario(plan: &FaultPlan, record: bool) -> Result<CrashPointRun> {
    let bank = P::new(|p| async move {
        let done = p.disk(|d| d.iter().any(|s| s == "credit"));
        let debited = p.disk(|d| d.iter().any(|s| s == "debit"));
        if !debited {
            log(&p, "debit".into());
        }
        p.sleep(ms(1)).await;
        if !done {
            log(&p, "credit".into());
        }
    });
    let mut sim = Sim::builder()
        .faults(plan.clone())
        .record_crash_points(record)
        .build(vec![bank])?;
    sim.run_for(ms(100))?;
    let d = synced(&sim, 0);
    let ok = d.iter().any(|s| s == "credit") == d.iter().any(|s| s == "debit");
    let v = check::Verdict::new(
        "debit and credit both or neither",
        PropertyKind::Safety,
        (!ok).then(|| format!("disk {d:?}")),
    );
    Ok(CrashPointRun::new(&sim, vec![v]))
}

#[test]
fn every_sync_of_a_process_is_a_crash_point() -> Result<()> {
    let report = every_point(bank_scenario, ms(10))?;
    let labels: Vec<_> = report.points().iter().map(|p| p.recovered()).collect();
    // Two syncs, each a point; recovery redoes the missing credit, so both
    // recover (a restart runs the body again with the synced disk).
    assert_eq!(labels, vec![true, true]);
    // A crash at the first sync: the debit is lost and nothing else happens
    // in that life (the process died at that line).
    let plan = FaultPlan::new().crash_at_point(0, None);
    let mut sim = Sim::builder()
        .faults(plan)
        .build(vec![bank_scenario_node()])?;
    sim.run_for(ms(100))?;
    assert_eq!(synced(&sim, 0), Vec::<String>::new());
    assert!(!sim.is_up(0));
    Ok(())
}

fn bank_scenario_node() -> P {
    P::new(|p| async move {
        log(&p, "debit".into());
        log(&p, "credit".into());
    })
}

/// A broken variant: it forgets on restart that it debited (it reads no
/// disk), so a crash between the syncs debits twice. The checker sees it.
#[test]
fn crash_points_catch_a_process_that_forgets_its_disk() -> Result<()> {
    let scenario = |plan: &FaultPlan, record: bool| -> Result<CrashPointRun> {
        let bank = P::new(|p| async move {
            log(&p, "debit".into());
            p.sleep(ms(1)).await;
            log(&p, "credit".into());
        });
        let mut sim = Sim::builder()
            .faults(plan.clone())
            .record_crash_points(record)
            .build(vec![bank])?;
        sim.run_for(ms(100))?;
        let d = synced(&sim, 0);
        let debits = d.iter().filter(|s| *s == "debit").count();
        let v = check::Verdict::new(
            "debited once",
            PropertyKind::Safety,
            (debits != 1).then(|| format!("{debits} debits")),
        );
        Ok(CrashPointRun::new(&sim, vec![v]))
    };
    let report = every_point(scenario, ms(10))?;
    let recovered: Vec<_> = report.points().iter().map(|p| p.recovered()).collect();
    assert_eq!(recovered, vec![true, false]);
    Ok(())
}

/// A node type with a process in one variant and a handler in the other.
#[derive(Clone)]
enum Mixed {
    Saga(P),
    Hotel { booked: u32 },
}

#[derive(Clone, Debug)]
enum T {
    Wake(Wake),
    Audit,
}
impl From<Wake> for T {
    fn from(w: Wake) -> T {
        T::Wake(w)
    }
}

impl Node for Mixed {
    type Msg = Envelope<Msg>;
    type Timer = T;
    type Disk = Log;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            Mixed::Saga(p) => p.start(ctx),
            Mixed::Hotel { .. } => {
                ctx.set_timer(ms(40), T::Audit);
            }
        }
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, m: Envelope<Msg>) {
        match self {
            Mixed::Saga(p) => p.message(ctx, from, m),
            Mixed::Hotel { booked } => match m.body() {
                Msg::Book(id) if *booked < 1 => {
                    *booked += 1;
                    let r = m.answer(Msg::Booked(*id));
                    ctx.send(from, r);
                }
                Msg::Cancel(_) => *booked -= 1,
                _ => {} // full: no answer
            },
        }
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, t: T) {
        match (self, t) {
            (Mixed::Saga(p), T::Wake(w)) => p.wake(ctx, w),
            (Mixed::Hotel { booked }, T::Audit) => {
                let line = format!("hotel holds {booked}");
                ctx.disk().push(line);
                ctx.sync("audit");
            }
            _ => {}
        }
    }
}

#[test]
fn processes_and_handlers_share_a_simulation() -> Result<()> {
    // Two sagas book the one room of a handler-style hotel; the second gets
    // no answer, times out and compensates.
    let saga = |id: u32, wait: SimDuration| {
        Mixed::Saga(Process::new(move |p| async move {
            p.sleep(wait).await;
            match p.request(2, Msg::Book(id), ms(10)).await {
                Ok(Msg::Booked(b)) => log(&p, format!("saga {id}: booked {b}")),
                _ => {
                    p.send(2, Msg::Cancel(id)); // here a wrong compensation: frees a room it never had
                    log(&p, format!("saga {id}: compensated"));
                }
            }
        }))
    };
    let nodes = vec![saga(1, ms(0)), saga(2, ms(5)), Mixed::Hotel { booked: 0 }];
    let mut sim = Sim::builder().seed(9).build(nodes)?;
    sim.run_for(ms(100))?;
    let disk = |i| sim.disk(i).unwrap().synced().clone();
    assert_eq!(disk(0), vec!["saga 1: booked 1".to_string()]);
    assert_eq!(disk(1), vec!["saga 2: compensated".to_string()]);
    // The blind compensation freed saga 1's room: the audit sees it.
    assert_eq!(disk(2), vec!["hotel holds 0".to_string()]);
    Ok(())
}

/// A busier system for determinism: 4 clients send requests with random
/// think times to 3 servers over a lossy, jittery network, with a crash.
fn busy(seed: u64) -> Result<(u64, String)> {
    let client = || -> P {
        Process::new(|p| async move {
            let mut ok = 0u32;
            for i in 0..30u32 {
                let think = p.rng(|r| r.random_range(0..5_000_000u64));
                p.sleep(ns(think)).await;
                let to = p.rng(|r| r.random_range(4..7usize));
                if let Ok(Msg::Pong(_)) = p.request(to, Msg::Ping(i), ms(30)).await {
                    ok += 1;
                }
            }
            log(&p, format!("ok {ok}"));
        })
    };
    let mut nodes: Vec<P> = (0..4).map(|_| client()).collect();
    for _ in 0..3 {
        nodes.push(server(ms(2)));
    }
    let link = LinkConfig::new(Latency::exponential(ms(3))?).loss(0.1);
    let plan = FaultPlan::new().outage(ms(100), ms(300), 5);
    let mut sim = Sim::builder()
        .seed(seed)
        .link(link)
        .faults(plan)
        .trace(100_000)
        .build(nodes)?;
    sim.run_for(secs(5))?;
    let fp = fingerprint(sim.trace().to_jsonl().as_bytes());
    let outs: Vec<String> = (0..4).map(|i| synced(&sim, i).join(",")).collect();
    Ok((
        fp,
        format!(
            "{} late={}",
            outs.join(";"),
            sim.counters().get("late or duplicate replies")
        ),
    ))
}

#[test]
fn same_seed_same_run_and_different_seeds_differ() -> Result<()> {
    let a = busy(11)?;
    let b = busy(11)?;
    assert_eq!(a, b);
    let c = busy(12)?;
    assert_ne!(a.0, c.0);
    Ok(())
}

#[test]
fn sweeps_of_processes_do_not_depend_on_the_thread_count() -> Result<()> {
    let run = |threads| {
        Sweep::new(vec![0u32, 1])
            .seeds(4)
            .threads(threads)
            .progress(false)
            .run(|_, seed| busy(seed))
    };
    let one: Vec<_> = run(1)?.into_iter().map(|r| r.values).collect();
    let four: Vec<_> = run(4)?.into_iter().map(|r| r.values).collect();
    assert_eq!(one, four);
    Ok(())
}

#[test]
fn a_panicking_process_is_halted_deterministically() -> Result<()> {
    let run = || -> Result<(Vec<String>, u64, Option<String>, u64)> {
        let bad = P::new(|p| async move {
            log(&p, "before".into());
            p.sleep(ms(5)).await;
            let v: Vec<u32> = Vec::new();
            let _ = v[3]; // panics
        });
        let mut sim = Sim::builder().build(vec![bad, server(ms(0))])?;
        sim.run_for(ms(50))?;
        Ok((
            synced(&sim, 0),
            sim.counters().get("process halted"),
            sim.node(0)?.halted().map(|s| s.to_string()),
            sim.timers_pending() as u64,
        ))
    };
    let a = run()?;
    assert_eq!(a.0, vec!["before".to_string()]);
    assert_eq!(a.1, 1);
    assert!(
        a.2.as_deref().unwrap_or("").contains("a task panicked"),
        "{:?}",
        a.2
    );
    assert_eq!(a, run()?);
    Ok(())
}

#[test]
fn a_task_that_never_waits_is_halted_not_hung() -> Result<()> {
    let spin = P::new(|_p| async move {
        loop {
            // Wakes itself and yields forever without waiting in virtual time.
            std::future::poll_fn(|cx| {
                cx.waker().wake_by_ref();
                std::task::Poll::<()>::Pending
            })
            .await;
        }
    });
    let mut sim = Sim::builder().build(vec![spin])?;
    sim.run_for(ms(10))?;
    assert!(sim
        .node(0)?
        .halted()
        .unwrap_or("")
        .contains("polls in one event"));
    assert_eq!(sim.counters().get("process halted"), 1);
    Ok(())
}

#[test]
fn bad_input_is_handled_not_a_panic() -> Result<()> {
    // A send to a node that does not exist stops the run with an error
    // naming the sender, the id and the cluster size (issue 17).
    let client = P::new(|p| async move {
        p.send(99, Msg::Go);
    });
    let mut sim = Sim::builder().build(vec![client])?;
    let err = sim.run_for(ms(50)).err().expect("unknown node");
    assert!(
        err.to_string().contains("node 99") && err.to_string().contains("1 nodes"),
        "{err}"
    );
    let client = P::new(|p| async move {
        let empty: Vec<std::future::Ready<Result<u32, ()>>> = Vec::new();
        let q = quorum(1, empty).await;
        log(&p, format!("{}", q.unwrap_err()));
    });
    let mut sim = Sim::builder().build(vec![client])?;
    sim.run_for(ms(50))?;
    assert_eq!(
        synced(&sim, 0),
        vec!["a quorum of 1 out of 0 futures cannot form: use k between 1 and 0".to_string()]
    );
    Ok(())
}

#[test]
fn replies_from_before_a_crash_are_not_taken_for_new_ones() -> Result<()> {
    // The client asks, crashes before the (slow) reply, restarts and asks
    // again: the first reply arrives during the second request and must be
    // ignored (its correlation id belongs to the first life).
    let client = P::new(|p| async move {
        let n = p.disk(|d| d.len()) as u32;
        log(&p, format!("life {n}"));
        let r = p.request(1, Msg::Ping(n), ms(100)).await;
        log(&p, format!("{r:?}"));
    });
    let plan = FaultPlan::new().outage(ms(5), ms(10), 0);
    let mut sim = Sim::builder()
        .faults(plan)
        .build(vec![client, server(ms(20))])?;
    sim.run_for(ms(200))?;
    assert_eq!(
        synced(&sim, 0),
        vec![
            "life 0".to_string(),
            "life 1".to_string(),
            "Ok(Pong(1))".to_string()
        ]
    );
    assert_eq!(sim.counters().get("late or duplicate replies"), 1);
    Ok(())
}

#[test]
fn envelope_helpers_and_labels() {
    let r = Envelope::Request(5, Msg::Book(1));
    assert_eq!(r.answer(Msg::Booked(1)), Envelope::Reply(5, Msg::Booked(1)));
    assert_eq!(
        Envelope::Tell(Msg::Go).answer(Msg::Go),
        Envelope::Tell(Msg::Go)
    );
    assert_eq!(r.body(), &Msg::Book(1));
    assert_eq!(<P as Node>::label(&r), "Book(1)");
    let e: Envelope<Msg> = Msg::Go.into();
    assert_eq!(e.into_body(), Msg::Go);
    // A clone of a started process is fresh.
    let p: P = silent();
    assert!(!p.clone().is_started());
}

#[test]
fn a_process_serves_the_workloads_clients() -> Result<()> {
    // A saga coordinator takes bookings from clients, books the hotel, and
    // answers each client: success, or a definite failure after a timeout.
    let coord = P::new(|p| async move {
        loop {
            let c = p.recv_client().await;
            let Msg::Book(id) = c.msg else { continue };
            match p.request(1, Msg::Ping(id), ms(10)).await {
                Ok(_) => p.reply_client(&c, Msg::Booked(id), false),
                Err(TimedOut) => p.reply_client(&c, Msg::Cancel(id), true),
            }
        }
    });
    let plan = FaultPlan::new().outage(ms(20), ms(1000), 1);
    let mut sim = Sim::builder()
        .faults(plan)
        .build(vec![coord, server(ms(1))])?;
    sim.invoke(0, Invoke::new(0, Envelope::Tell(Msg::Book(1))))?;
    sim.invoke(
        1,
        Invoke::new(0, Envelope::Tell(Msg::Book(2))).after(ms(30)),
    )?;
    sim.run_for(ms(200))?;
    let ops = sim.history().ops();
    assert_eq!(ops[0].status, OpStatus::Ok);
    assert_eq!(ops[0].reply, Some(Envelope::Tell(Msg::Booked(1))));
    assert_eq!(ops[1].status, OpStatus::Failed);
    Ok(())
}
