//! The linearizability checker: hand-made histories with known answers, a
//! brute-force reference on thousands of random small histories, per-key
//! splitting, sequential consistency, the budget, JSON lines, determinism.

use thinkdist::check::linearizability::*;
use thinkdist::prelude::Rng;
use thinkdist::prelude::{ms, Ctx, Invoke, Node, NodeId, Request, Sim};
use thinkdist::sim::rng::stream;
use thinkdist::Result;

type H = LinHistory<RegOp, RegRet>;
const R: Register = Register { initial: 0 };

fn lin(h: &H) -> LinVerdict {
    check_linearizable(&R, h, Budget::default()).unwrap()
}

fn read(h: &mut H, c: usize, v: i64, a: u64, b: u64) {
    h.ok(c, RegOp::Read, a, RegRet::Value(v), b).unwrap();
}
fn write(h: &mut H, c: usize, v: i64, a: u64, b: u64) {
    h.ok(c, RegOp::Write(v), a, RegRet::Ok, b).unwrap();
}

#[test]
fn stale_read_is_not_linearizable_and_says_why() {
    let mut h = H::new();
    write(&mut h, 0, 1, 0, 10);
    read(&mut h, 1, 0, 20, 30);
    let v = lin(&h);
    let x = v.inconsistency().expect("inconsistent");
    assert_eq!(x.blocked, 1);
    assert_eq!(x.involved, vec![0, 1]);
    assert_eq!(x.longest, vec![0]);
    assert!(
        x.reason.contains("read → 0 (client 1) cannot be placed"),
        "{}",
        x.reason
    );
    assert!(
        x.reason
            .contains("after write 1 (client 0) at 10 had completed"),
        "{}",
        x.reason
    );
    // The same read while the write runs is fine: it takes effect first.
    let mut h = H::new();
    write(&mut h, 0, 1, 0, 30);
    read(&mut h, 1, 0, 20, 25);
    let w = lin(&h);
    assert_eq!(w.witness().unwrap().order, vec![1, 0]);
    assert_eq!(w.witness().unwrap().points, vec![20, 20]);
}

#[test]
fn lost_write_and_non_monotonic_read() {
    let mut h = H::new();
    write(&mut h, 0, 1, 0, 10);
    write(&mut h, 1, 2, 20, 30);
    read(&mut h, 2, 1, 40, 50);
    let x = lin(&h).inconsistency().cloned().expect("lost write");
    assert_eq!(x.involved, vec![0, 1, 2]);
    // Non-monotonic: a long write of 1; one read sees 1, a later read 0.
    let mut h = H::new();
    write(&mut h, 0, 1, 0, 100);
    read(&mut h, 1, 1, 10, 20);
    read(&mut h, 2, 0, 30, 40);
    let x = lin(&h)
        .inconsistency()
        .cloned()
        .expect("non-monotonic read");
    // The reads alone contradict each other, wherever the write went.
    assert_eq!(x.involved, vec![1, 2]);
    assert!(
        x.reason
            .contains("after read → 1 (client 1) at 20 had completed"),
        "{}",
        x.reason
    );
    // Swap the reads' order in time and it is linearizable.
    let mut h = H::new();
    write(&mut h, 0, 1, 0, 100);
    read(&mut h, 1, 0, 10, 20);
    read(&mut h, 2, 1, 30, 40);
    assert!(lin(&h).is_consistent());
}

#[test]
fn cas_that_succeeded_twice() {
    let mk = |second: bool| {
        let mut h = H::new();
        h.ok(0, RegOp::Cas(0, 1), 0, RegRet::Cas(true), 20).unwrap();
        h.ok(1, RegOp::Cas(0, 2), 5, RegRet::Cas(second), 25)
            .unwrap();
        read(&mut h, 2, 1, 30, 40);
        h
    };
    assert!(lin(&mk(true)).is_inconsistent());
    let v = lin(&mk(false));
    assert_eq!(v.witness().unwrap().order, vec![0, 1, 2]);
}

#[test]
fn unknown_operations_taken_as_effective_or_not() {
    // Must have taken effect: only it wrote 1.
    let mut h = H::new();
    h.unknown(0, RegOp::Write(1), 0, Some(10)).unwrap();
    read(&mut h, 1, 1, 20, 30);
    let v = lin(&h);
    assert_eq!(v.witness().unwrap().order, vec![0, 1]);
    // ... even long after its client gave up (a delayed request).
    let mut h = H::new();
    h.unknown(0, RegOp::Write(1), 0, Some(10)).unwrap();
    read(&mut h, 1, 0, 20, 30);
    read(&mut h, 1, 1, 40, 50);
    assert_eq!(lin(&h).witness().unwrap().order, vec![1, 0, 2]);
    // Must never have taken effect: reads see 1 before and after it.
    let mut h = H::new();
    write(&mut h, 0, 1, 0, 10);
    h.unknown(0, RegOp::Write(2), 15, None).unwrap();
    read(&mut h, 1, 1, 20, 30);
    read(&mut h, 1, 1, 40, 50);
    let v = lin(&h);
    assert_eq!(v.witness().unwrap().order, vec![0, 2, 3]);
    // Taking effect once cannot be undone: 2 seen, then 1 again.
    let mut h = H::new();
    write(&mut h, 0, 1, 0, 10);
    h.unknown(0, RegOp::Write(2), 15, None).unwrap();
    read(&mut h, 1, 2, 20, 30);
    read(&mut h, 1, 1, 40, 50);
    assert!(lin(&h).is_inconsistent());
}

#[test]
fn queue_and_set() {
    let mut h = LinHistory::new();
    h.ok(0, QueueOp::Enqueue(1), 0, QueueRet::Ok, 10).unwrap();
    h.ok(0, QueueOp::Enqueue(2), 20, QueueRet::Ok, 30).unwrap();
    h.ok(1, QueueOp::Dequeue, 40, QueueRet::Value(Some(2)), 50)
        .unwrap();
    assert!(check_linearizable(&FifoQueue, &h, Budget::default())
        .unwrap()
        .is_inconsistent());
    let mut h = LinHistory::new();
    h.ok(0, SetOp::Add(3), 0, SetRet::Ok, 10).unwrap();
    h.ok(1, SetOp::Contains(3), 5, SetRet::Present(false), 8)
        .unwrap();
    h.ok(1, SetOp::Contains(3), 20, SetRet::Present(true), 30)
        .unwrap();
    h.ok(0, SetOp::Remove(3), 40, SetRet::Ok, 50).unwrap();
    h.ok(1, SetOp::Contains(3), 60, SetRet::Present(true), 70)
        .unwrap();
    let v = check_linearizable(&Set, &h, Budget::default()).unwrap();
    assert_eq!(v.inconsistency().unwrap().blocked, 4);
}

#[test]
fn sequentially_consistent_but_not_linearizable() {
    let mut h = H::new();
    write(&mut h, 0, 1, 0, 10);
    read(&mut h, 1, 0, 20, 30);
    read(&mut h, 1, 1, 40, 50);
    assert!(lin(&h).is_inconsistent());
    let v = check_sequential(&R, &h, Budget::default()).unwrap();
    assert_eq!(v.witness().unwrap().order, vec![1, 0, 2]);
    assert!(v.witness().unwrap().points.is_empty());
    // Program order still binds: 1 then 0 by one client is not.
    let mut h = H::new();
    write(&mut h, 0, 1, 0, 10);
    read(&mut h, 1, 1, 20, 30);
    read(&mut h, 1, 0, 40, 50);
    let v = check_sequential(&R, &h, Budget::default()).unwrap();
    assert!(v.is_inconsistent());
    assert!(
        v.to_string().starts_with("not sequentially consistent"),
        "{v}"
    );
}

/// Brute force: every order of the known operations (and any subset of
/// the unknown ones) that respects real time (or program order), no memo.
fn brute(h: &H, seq: bool) -> bool {
    let ops = h.ops();
    fn go(ops: &[LinOp<RegOp, RegRet>], placed: &mut Vec<bool>, state: i64, seq: bool) -> bool {
        let n = ops.len();
        if (0..n).all(|i| placed[i] || ops[i].is_unknown()) {
            return true;
        }
        for i in 0..n {
            if placed[i] {
                continue;
            }
            // Known operations that must come before i.
            let blocked = (0..n).any(|j| {
                j != i
                    && !placed[j]
                    && !ops[j].is_unknown()
                    && if seq {
                        ops[j].client == ops[i].client && ops[j].call < ops[i].call
                    } else {
                        ops[j].ret.unwrap() < ops[i].call
                    }
            });
            if blocked {
                continue;
            }
            if let Some(s) = R.apply(&state, &ops[i].op, ops[i].result()) {
                placed[i] = true;
                if go(ops, placed, s, seq) {
                    return true;
                }
                placed[i] = false;
            }
        }
        false
    }
    go(ops, &mut vec![false; ops.len()], 0, seq)
}

fn random_small(seed: u64) -> H {
    let mut rng = stream(seed, 7, 0, 0);
    let clients = rng.random_range(1..=3usize);
    let n = rng.random_range(1..=6usize);
    let mut t = vec![0u64; clients];
    let mut h = H::new();
    for _ in 0..n {
        let c = rng.random_range(0..clients);
        let call = t[c] + rng.random_range(0..4);
        let ret = call + rng.random_range(0..6);
        let op = match rng.random_range(0..3) {
            0 => RegOp::Read,
            1 => RegOp::Write(rng.random_range(0..3)),
            _ => RegOp::Cas(rng.random_range(0..3), rng.random_range(0..3)),
        };
        let res = match op {
            RegOp::Read => RegRet::Value(rng.random_range(0..3)),
            RegOp::Write(_) => RegRet::Ok,
            RegOp::Cas(..) => RegRet::Cas(rng.random_bool(0.5)),
        };
        if rng.random_bool(0.2) {
            h.unknown(c, op, call, Some(ret)).unwrap();
        } else {
            h.ok(c, op, call, res, ret).unwrap();
        }
        t[c] = ret + 1;
    }
    h
}

#[test]
fn agrees_with_brute_force_on_random_small_histories() {
    let mut counts = [[0usize; 2]; 2];
    for seed in 0..4000 {
        let h = random_small(seed);
        for (m, seq) in [false, true].into_iter().enumerate() {
            let v = if seq {
                check_sequential(&R, &h, Budget::default()).unwrap()
            } else {
                lin(&h)
            };
            assert!(!v.is_unknown());
            let expect = brute(&h, seq);
            assert_eq!(
                v.is_consistent(),
                expect,
                "seed {seed}, seq {seq}: {h:?}\n{v}"
            );
            counts[m][usize::from(expect)] += 1;
            if let Some(w) = v.witness() {
                // The witness is a legal order that respects real time.
                let mut s = 0;
                for (k, &i) in w.order.iter().enumerate() {
                    let o = &h.ops()[i];
                    s = R.apply(&s, &o.op, o.result()).expect("legal witness");
                    if !seq {
                        assert!(
                            o.call <= w.points[k]
                                && w.points[k]
                                    <= o.ret.filter(|_| !o.is_unknown()).unwrap_or(u64::MAX)
                        );
                    }
                }
            }
        }
    }
    // Both verdicts occur often under both models.
    for m in counts {
        assert!(m[0] > 400 && m[1] > 400, "{counts:?}");
    }
}

/// The map checked whole (no partition key): the per-key split must agree.
struct WholeMap;
impl SequentialSpec for WholeMap {
    type State = <KvMap as SequentialSpec>::State;
    type Op = KvOp;
    type Ret = KvRet;
    fn init(&self) -> Self::State {
        KvMap.init()
    }
    fn step(&self, s: &Self::State, op: &KvOp) -> (KvRet, Self::State) {
        KvMap.step(s, op)
    }
}

#[test]
fn per_key_split_agrees_with_whole_history() {
    let mut seen = [0; 2];
    for seed in 0..40 {
        let p = GenParams {
            seed,
            clients: 3,
            ops: 24,
            keys: 3,
            ..GenParams::default()
        };
        let mut h = kv_history(&p).unwrap();
        if seed % 2 == 1 {
            // Break one get: it now reads a value nobody wrote, or "".
            let ops: Vec<_> = h.ops().to_vec();
            let k = ops
                .iter()
                .rposition(|o| matches!(o.op, KvOp::Get(_)) && !o.is_unknown());
            let mut out = LinHistory::new();
            for (i, mut o) in ops.into_iter().enumerate() {
                if Some(i) == k {
                    o.outcome =
                        Outcome::Ok(KvRet::value(if seed % 4 == 1 { "nobody" } else { "" }));
                }
                out.push(o).unwrap();
            }
            h = out;
        }
        let split = check_linearizable(&KvMap, &h, Budget::default()).unwrap();
        let whole = check_linearizable(&WholeMap, &h, Budget::default()).unwrap();
        assert_eq!(split.is_consistent(), whole.is_consistent(), "seed {seed}");
        assert!(!split.is_unknown() && !whole.is_unknown());
        seen[usize::from(split.is_consistent())] += 1;
        if let Some(x) = split.inconsistency() {
            assert!(x.part.is_some());
        }
    }
    assert!(seen[0] >= 10 && seen[1] >= 20, "{seen:?}");
}

#[test]
fn generated_histories_are_linearizable_and_deterministic() {
    for seed in 0..5 {
        let p = GenParams {
            seed,
            ..GenParams::default()
        };
        let h = register_history(&p).unwrap();
        assert_eq!(h.len(), 1000);
        assert!(h.counts().1 > 20, "timeouts and crashes present");
        let a = lin(&h);
        let b = lin(&register_history(&p).unwrap());
        assert!(a.is_consistent(), "seed {seed}: {a}");
        assert_eq!(a, b);
    }
    let p = GenParams {
        clients: 50,
        ops: 10_000,
        keys: 100,
        ..GenParams::default()
    };
    let v = check_linearizable(&KvMap, &kv_history(&p).unwrap(), Budget::default()).unwrap();
    assert!(v.is_consistent(), "{v}");
    // A stale read planted in a register history is found. (With values
    // 0..5 an unknown write of the same value can often explain it; with
    // distinct values nothing can, so it is never judged linearizable;
    // with many pending timed-out writes the budget may run out first.)
    let mut found = 0;
    for seed in 0..10 {
        let p = GenParams {
            seed,
            values: 1_000_000,
            p_timeout: 0.01,
            p_crash: 0.002,
            ..GenParams::default()
        };
        let h = register_history(&p).unwrap();
        let bad = stale_read(&h, seed).unwrap();
        let v = lin(&bad);
        assert!(!v.is_consistent(), "seed {seed}");
        if let Some(x) = v.inconsistency() {
            found += 1;
            assert!(!x.involved.is_empty());
        }
    }
    assert!(found >= 8, "{found}");
}

#[test]
fn budget_answers_unknown() {
    let h = adversarial_history(30).unwrap();
    let v = check_linearizable(&R, &h, Budget::steps(200_000)).unwrap();
    let LinVerdict::Unknown(e) = &v else {
        panic!("{v}")
    };
    assert!(e.steps <= 200_000);
    assert!(v.to_string().contains("budget ran out"));
    // A memo budget stops it too.
    let v = check_linearizable(&R, &h, Budget::default().memo_bytes(1 << 20)).unwrap();
    let LinVerdict::Unknown(e) = &v else {
        panic!("{v}")
    };
    assert!(e.memo_bytes <= 1 << 20);
    // Small enough, the same shape is decided.
    let v = check_linearizable(&R, &adversarial_history(8).unwrap(), Budget::default()).unwrap();
    assert!(v.is_inconsistent());
    assert!(check_linearizable(&R, &h, Budget::steps(0)).is_err());
    assert!(check_linearizable(&R, &h, Budget::steps(u64::MAX)).is_err());
}

#[test]
fn jsonl_round_trip_and_bad_input() {
    let h = register_history(&GenParams {
        ops: 200,
        ..GenParams::default()
    })
    .unwrap();
    let text = h.to_jsonl().unwrap();
    assert_eq!(H::from_jsonl(&text).unwrap(), h);
    let doc = r#"{"client":0,"op":{"write":1},"call":0,"ret":"ok","return":10}
{"client":1,"op":"read","call":5,"ret":{"value":1},"return":12}

{"client":1,"op":{"write":2},"call":15,"return":40}
"#;
    let h = H::from_jsonl(doc).unwrap();
    assert_eq!(h.counts(), (2, 1));
    assert!(lin(&h).is_consistent());
    let err = |s: &str| H::from_jsonl(s).unwrap_err().to_string();
    let e = err(r#"{"client":0,"op":"read","call":9,"ret":{"value":0},"return":3}"#);
    assert!(
        e.contains("line 1") && e.contains(">= its invocation time 9"),
        "{e}"
    );
    let e = err("{\"client\":0,\"op\":\"read\",\"call\":0,\"ret\":{\"value\":0},\"return\":10}\n{\"client\":0,\"op\":\"read\",\"call\":5,\"ret\":{\"value\":0},\"return\":12}");
    assert!(
        e.contains("line 2") && e.contains("waits for each operation"),
        "{e}"
    );
    let e = err(r#"{"client":0,"op":"read","call":0,"return":3,"colour":"red"}"#);
    assert!(e.contains("unknown field `colour`"), "{e}");
    let e = err(r#"{"client":0,"op":"read","call":0,"ret":{"value":0}}"#);
    assert!(e.contains("return time"), "{e}");
    let e = err(r#"{"client":0,"op":"jump","call":0}"#);
    assert!(e.contains("line 1"), "{e}");
    // By hand too: an unknown operation that never ends blocks its client.
    let mut h = H::new();
    h.unknown(0, RegOp::Write(1), 0, None).unwrap();
    let e = h.ok(0, RegOp::Read, 5, RegRet::Value(1), 6).unwrap_err();
    assert!(e.to_string().contains("never ends"), "{e}");
}

/// A register node for a run: `Some(v)` writes, `None` reads.
#[derive(Clone, Default)]
struct Reg(u64);
impl Node for Reg {
    type Msg = Option<u64>;
    type Timer = ();
    type Disk = ();
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: Option<u64>) {}
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, op: Option<u64>) {
        if let Some(v) = op {
            self.0 = v;
        }
        ctx.reply(req, Some(self.0));
    }
}

#[test]
fn from_a_run() -> Result<()> {
    let mut sim = Sim::builder().seed(3).build(vec![Reg::default()])?;
    for c in 0..4u64 {
        sim.invoke(c as usize, Invoke::new(0, Some(c + 1)).after(ms(c)))?;
        sim.invoke(c as usize + 10, Invoke::new(0, None).after(ms(c * 3)))?;
    }
    sim.run_for(ms(100))?;
    let h = LinHistory::from_run(sim.history(), |req, reply| {
        let op = match req {
            Some(v) => RegOp::Write(*v as i64),
            None => RegOp::Read,
        };
        let ret = reply.map(|r| match req {
            Some(_) => RegRet::Ok,
            None => RegRet::Value(r.unwrap_or(0) as i64),
        });
        Some((op, ret))
    })?;
    assert_eq!(h.len(), 8);
    assert!(h.is_sim_time());
    assert!(check_linearizable(&R, &h, Budget::default())?.is_consistent());
    Ok(())
}

/// A small history of three clients: a write, a timed-out write, reads.
fn story(stale: bool) -> H {
    let mut h = H::new();
    write(&mut h, 0, 1, 0, 30);
    h.unknown(0, RegOp::Write(2), 40, Some(90)).unwrap();
    read(&mut h, 1, 0, 10, 25);
    read(&mut h, 1, 1, 35, 60);
    read(&mut h, 2, 1, 45, 70);
    read(&mut h, 2, if stale { 0 } else { 2 }, 100, 120);
    h.ok(1, RegOp::Cas(2, 3), 80, RegRet::Cas(!stale), 110)
        .unwrap();
    h
}

#[test]
fn chart_of_a_verdict() {
    use thinkdist::plot::{linearizability_chart, Opts};
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("lin");
    for stale in [false, true] {
        let h = story(stale);
        let v = lin(&h);
        assert_eq!(v.is_inconsistent(), stale, "{v}");
        let opts = Opts::new(if stale {
            "A stale read"
        } else {
            "Linearizable"
        })
        .x_label("time");
        let fig = linearizability_chart(&R, &h, &v, opts.clone()).unwrap();
        let png = fig.to_export_png().unwrap();
        assert_eq!(
            png,
            linearizability_chart(&R, &h, &v, opts)
                .unwrap()
                .to_export_png()
                .unwrap()
        );
        fig.save(&dir, if stale { "violation" } else { "witness" })
            .unwrap();
        if stale {
            let x = v.inconsistency().unwrap();
            assert_eq!(x.involved, vec![4, 5]); // read 1, then read 0 by client 2
        }
    }
    let big = register_history(&GenParams {
        ops: 3000,
        ..GenParams::default()
    })
    .unwrap();
    let v = lin(&big);
    assert!(linearizability_chart(&R, &big, &v, Opts::new("big")).is_err());
}
