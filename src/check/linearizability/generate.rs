//! Seeded histories: a correct object under realistic concurrency,
//! timeouts and crashes, and variants that are wrong, for tests, benches
//! and notebooks.
//!
//! The generator simulates the object as a single copy: each client
//! invokes an operation, waits a random latency, and the operation takes
//! effect at a random instant in between (its linearization point). A
//! timed-out operation has an unknown outcome: it took effect (possibly
//! after its client gave up, as a delayed request would) or not, each with
//! probability 1/2. A crashed client never hears back and is replaced by
//! a new client id (as Jepsen does). Results come from running the spec
//! in the order of the points, so every generated history is linearizable.

use super::history::{LinHistory, LinOp, Outcome};
use super::spec::SequentialSpec;
use super::specs::{KvMap, KvOp, KvRet, RegOp, RegRet, Register};
use crate::error::{check_count, check_probability, limits, Error, Result};
use crate::sim::rng::{stream, SimRng};
use rand::Rng;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenParams {
    /// Seed of all draws.
    pub seed: u64,
    /// Clients running at once.
    pub clients: usize,
    /// Operations in all.
    pub ops: usize,
    /// Keys (for [`kv_history`]).
    pub keys: usize,
    /// Distinct values written (few values make equal states, as in a
    /// real test).
    pub values: i64,
    /// Probability that an operation times out (unknown outcome; the
    /// client goes on).
    pub p_timeout: f64,
    /// Probability that a client crashes during an operation (unknown
    /// outcome, never returns; a new client takes its place).
    pub p_crash: f64,
}

impl Default for GenParams {
    /// Jepsen's etcd test shape: 5 clients, 1,000 operations on one
    /// register, values 0–4, 5% timeouts, 1% crashes.
    fn default() -> Self {
        GenParams {
            seed: 1,
            clients: 5,
            ops: 1000,
            keys: 1,
            values: 5,
            p_timeout: 0.05,
            p_crash: 0.01,
        }
    }
}

impl GenParams {
    fn validate(&self) -> Result<()> {
        check_count("clients", self.clients, 1, limits::CLIENTS, "clients")?;
        check_count("ops", self.ops, 0, limits::OPS, "operations")?;
        check_count("keys", self.keys, 1, limits::ITEMS, "keys")?;
        if !(1..=1_000_000_000).contains(&self.values) {
            return Err(Error::invalid(
                "values",
                self.values,
                "1 to 10^9 distinct values",
            ));
        }
        check_probability("p_timeout", self.p_timeout)?;
        check_probability("p_crash", self.p_crash)?;
        if self.p_timeout + self.p_crash > 1.0 {
            return Err(Error::invalid(
                "p_timeout + p_crash",
                self.p_timeout + self.p_crash,
                "at most 1",
            ));
        }
        Ok(())
    }
}

/// Latency of an operation, in ticks (think of microseconds).
const LATENCY: (u64, u64) = (1_000, 20_000);
const THINK: u64 = 5_000;
const TIMEOUT: u64 = 30_000;

/// A generated operation: (op, client, call, return, point if it took
/// effect, outcome known).
type GenOp<O> = (O, usize, u64, Option<u64>, Option<u64>, bool);

/// A linearizable history of `spec` with operations drawn by `draw`.
fn simulate<S: SequentialSpec>(
    spec: &S,
    p: &GenParams,
    domain: u64,
    mut draw: impl FnMut(&mut SimRng, usize) -> S::Op,
) -> Result<LinHistory<S::Op, S::Ret>> {
    p.validate()?;
    let mut rng = stream(p.seed, domain, 0, 0);
    // Per slot: (next free time, client id).
    let mut slots: Vec<(u64, usize)> = (0..p.clients).map(|c| (0, c)).collect();
    let mut next_id = p.clients;
    // (op, client, call, ret, point if effective, known)
    let mut ops: Vec<GenOp<S::Op>> = Vec::with_capacity(p.ops);
    for k in 0..p.ops {
        let s = (0..slots.len())
            .min_by_key(|&s| (slots[s].0, s))
            .unwrap_or(0);
        let (t, client) = slots[s];
        let call = t + rng.random_range(0..=THINK);
        let dur = rng.random_range(LATENCY.0..=LATENCY.1);
        let op = draw(&mut rng, k);
        let r: f64 = rng.random();
        let effective = rng.random_bool(0.5);
        if r < p.p_crash {
            let point = effective.then(|| call + rng.random_range(0..=4 * TIMEOUT));
            ops.push((op, client, call, None, point, false));
            slots[s] = (call + TIMEOUT, next_id);
            next_id += 1;
        } else if r < p.p_crash + p.p_timeout {
            let point = effective.then(|| call + rng.random_range(0..=4 * TIMEOUT));
            ops.push((op, client, call, Some(call + TIMEOUT), point, false));
            slots[s] = (call + TIMEOUT, client);
        } else {
            let point = call + rng.random_range(0..=dur);
            ops.push((op, client, call, Some(call + dur), Some(point), true));
            slots[s] = (call + dur, client);
        }
    }
    let mut by_point: Vec<(u64, usize)> = ops
        .iter()
        .enumerate()
        .filter_map(|(i, o)| o.4.map(|t| (t, i)))
        .collect();
    by_point.sort_unstable();
    let mut results: Vec<Option<S::Ret>> = vec![None; ops.len()];
    let mut state = spec.init();
    for (_, i) in by_point {
        let (r, next) = spec.step(&state, &ops[i].0);
        state = next;
        results[i] = Some(r);
    }
    let mut h = LinHistory::new();
    for ((op, client, call, ret, _, known), r) in ops.into_iter().zip(results) {
        let outcome = match (known, r) {
            (true, Some(r)) => Outcome::Ok(r),
            _ => Outcome::Unknown,
        };
        h.push(LinOp {
            client,
            op,
            call,
            ret,
            outcome,
        })?;
    }
    Ok(h)
}

/// A linearizable register history (reads, writes, compare-and-sets in
/// equal shares) of Jepsen's etcd shape.
pub fn register_history(p: &GenParams) -> Result<LinHistory<RegOp, RegRet>> {
    let v = p.values;
    simulate(&Register::default(), p, 0x4c49_4e52, |rng, _| {
        match rng.random_range(0..3) {
            0 => RegOp::Read,
            1 => RegOp::Write(rng.random_range(0..v)),
            _ => RegOp::Cas(rng.random_range(0..v), rng.random_range(0..v)),
        }
    })
}

/// A linearizable key-value history over `p.keys` keys: gets (half),
/// puts and appends of unique values.
pub fn kv_history(p: &GenParams) -> Result<LinHistory<KvOp, KvRet>> {
    let keys = p.keys;
    simulate(&KvMap, p, 0x4c49_4e4b, |rng, k| {
        let key = rng.random_range(0..keys);
        match rng.random_range(0..4) {
            0 | 1 => KvOp::get(key),
            2 => KvOp::put(key, k),
            _ => KvOp::append(key, format!("{k},")),
        }
    })
}

/// A history no checker can decide quickly: `writers` clients write
/// distinct values at once, with unknown outcomes, while one read returns
/// a value nobody wrote. Every subset of the writes, in every order that
/// leaves a different last value, must be tried before the answer is
/// "not linearizable": about `writers · 2^writers` states, so a
/// budget stops it.
pub fn adversarial_history(writers: usize) -> Result<LinHistory<RegOp, RegRet>> {
    check_count("writers", writers, 1, 64, "concurrent writers")?;
    let mut h = LinHistory::new();
    for c in 0..writers {
        h.unknown(c, RegOp::Write(c as i64 + 1), c as u64, None)?;
    }
    h.ok(
        writers,
        RegOp::Read,
        writers as u64,
        RegRet::Value(-1),
        writers as u64 + 10,
    )?;
    Ok(h)
}

/// A copy of a register history with one stale read: a read late in the
/// history (chosen by `seed`) now returns the value of a write that had
/// been overwritten by another completed write before the read began.
/// Errors: no read has such a pair of writes before it.
pub fn stale_read(h: &LinHistory<RegOp, RegRet>, seed: u64) -> Result<LinHistory<RegOp, RegRet>> {
    let ops = h.ops();
    let mut rng = stream(seed, 0x5354_414c, 0, 0);
    let writes: Vec<usize> = (0..ops.len())
        .filter(|&i| matches!(ops[i].op, RegOp::Write(_)) && !ops[i].is_unknown())
        .collect();
    let mut reads: Vec<usize> = (ops.len() / 2..ops.len())
        .filter(|&i| ops[i].op == RegOp::Read && !ops[i].is_unknown())
        .collect();
    // Try reads in a seeded order until one has a usable pair of writes.
    for k in (1..reads.len()).rev() {
        reads.swap(k, rng.random_range(0..=k));
    }
    for &r in &reads {
        let RegOp::Read = ops[r].op else { continue };
        let Some(RegRet::Value(seen)) = ops[r].result() else {
            continue;
        };
        let done = |i: usize| ops[i].ret.is_some_and(|t| t < ops[r].call);
        // The last completed write before the read, and an older one with
        // another value that completed before the last one began.
        let Some(&w2) = writes
            .iter()
            .filter(|&&w| done(w))
            .max_by_key(|&&w| ops[w].ret)
        else {
            continue;
        };
        let old = writes.iter().rev().find(|&&w| {
            ops[w].ret.is_some_and(|t| t < ops[w2].call)
                && matches!(ops[w].op, RegOp::Write(v) if v != *seen)
        });
        if let Some(&w1) = old {
            let RegOp::Write(v) = ops[w1].op else {
                continue;
            };
            let mut out = LinHistory::new();
            for (i, o) in ops.iter().enumerate() {
                let mut o = o.clone();
                if i == r {
                    o.outcome = Outcome::Ok(RegRet::Value(v));
                }
                out.push(o)?;
            }
            out.sim_time = h.sim_time;
            return Ok(out);
        }
    }
    Err(Error::invalid(
        "history",
        "no suitable read",
        "a register history with a read after two completed writes of different values",
    ))
}
