//! A brute-force reference for the checker, and the property that they
//! agree on thousands of random small histories.
//!
//! The reference shares no code with the checker: it builds the dependency
//! graph again from Adya's definitions, enumerates **every** simple cycle
//! (every set of transactions in every cyclic order, with every choice
//! among parallel edges), classifies each by the table of the module docs,
//! and marks the anchors each class may use. The checker must then find,
//! for every anchor edge and every class, a cycle exactly when the
//! reference has one; every cycle it reports must be a simple cycle of the
//! graph of the kind it names; and G1a and G1b must be the same pairs.

use super::cycles::Cycles;
use super::search::Index;
use super::*;
use crate::sim::rng::{self, SimRng};
use std::collections::BTreeMap;

/// The dependency graph from the definitions: ww between consecutive
/// committed versions, wr from a committed writer's last write to its
/// reader, rw from a reader to the installer of the next version.
pub(super) fn edges(h: &TxnHistory) -> BTreeSet<Edge> {
    let committed: BTreeSet<TxnId> = h
        .txns
        .iter()
        .filter(|t| t.is_committed())
        .map(|t| t.id)
        .collect();
    let last = |t: TxnId, k: Key| {
        h.txn(t).and_then(|r| {
            r.ops
                .iter()
                .rev()
                .find(|o| !o.is_read() && o.key() == k)
                .map(|o| o.version())
        })
    };
    let mut g = BTreeSet::new();
    for (&k, order) in &h.version_order {
        for w in order.windows(2) {
            let (a, b) = (w[0].writer, w[1].writer);
            if committed.contains(&a) && committed.contains(&b) && a != b {
                g.insert(Edge {
                    from: a,
                    to: b,
                    kind: EdgeKind::WW,
                    key: k,
                });
            }
        }
    }
    for t in h.txns.iter().filter(|t| t.is_committed()) {
        for op in t.ops.iter().filter(|o| o.is_read()) {
            let (k, v) = (op.key(), op.version());
            if v.writer == t.id {
                continue;
            }
            let installed =
                v.writer == 0 || (committed.contains(&v.writer) && last(v.writer, k) == Some(v));
            if !installed {
                continue;
            }
            if v.writer != 0 {
                g.insert(Edge {
                    from: v.writer,
                    to: t.id,
                    kind: EdgeKind::WR,
                    key: k,
                });
            }
            let order = &h.version_order[&k];
            if let Some(p) = order.iter().position(|&x| x == v) {
                if let Some(next) = order.get(p + 1) {
                    if next.writer != t.id && committed.contains(&next.writer) {
                        g.insert(Edge {
                            from: t.id,
                            to: next.writer,
                            kind: EdgeKind::RW,
                            key: k,
                        });
                    }
                }
            }
        }
    }
    g
}

/// Every simple cycle of `g`, as edge lists (each once: starting at its
/// smallest transaction), with every choice among parallel edges.
pub(super) fn all_cycles(g: &BTreeSet<Edge>) -> Vec<Vec<Edge>> {
    let mut out_of: BTreeMap<TxnId, Vec<Edge>> = BTreeMap::new();
    for e in g {
        out_of.entry(e.from).or_default().push(*e);
    }
    let mut cycles = Vec::new();
    for &s in out_of.keys() {
        // Paths from s through transactions greater than s, back to s.
        let mut path: Vec<Edge> = Vec::new();
        fn dfs(
            s: TxnId,
            at: TxnId,
            out_of: &BTreeMap<TxnId, Vec<Edge>>,
            path: &mut Vec<Edge>,
            cycles: &mut Vec<Vec<Edge>>,
        ) {
            for e in out_of.get(&at).into_iter().flatten() {
                if e.to == s {
                    path.push(*e);
                    cycles.push(path.clone());
                    path.pop();
                } else if e.to > s && path.iter().all(|p| p.from != e.to) && e.to != at {
                    path.push(*e);
                    dfs(s, e.to, out_of, path, cycles);
                    path.pop();
                }
            }
        }
        dfs(s, s, &out_of, &mut path, &mut cycles);
    }
    cycles
}

/// The class of a cycle and the kind of edge that anchors it, by the table
/// of the module docs: a lost update is one rw edge and ww edges, all on
/// one key that each transaction read and wrote.
pub(super) fn classify(h: &TxnHistory, c: &[Edge]) -> (Anomaly, EdgeKind) {
    let rw = c.iter().filter(|e| e.kind == EdgeKind::RW).count();
    let reads_and_writes = |t: TxnId, k: Key| {
        h.txn(t).is_some_and(|r| {
            r.ops.iter().any(|o| o.is_read() && o.key() == k)
                && r.ops.iter().any(|o| !o.is_read() && o.key() == k)
        })
    };
    match rw {
        0 if c.iter().all(|e| e.kind == EdgeKind::WW) => (Anomaly::DirtyWrite, EdgeKind::WW),
        0 => (Anomaly::CircularInformationFlow, EdgeKind::WR),
        1 => {
            let k = c[0].key;
            let one_key = c
                .iter()
                .all(|e| e.key == k && e.kind != EdgeKind::WR && reads_and_writes(e.from, k));
            let a = if one_key {
                Anomaly::LostUpdate
            } else {
                Anomaly::ReadSkew
            };
            (a, EdgeKind::RW)
        }
        _ => (Anomaly::WriteSkew, EdgeKind::RW),
    }
}

/// Per anchor edge, the classes of the cycles through it, as the checker
/// reports them: G-single as a lost update if one exists, else a read skew.
pub(super) fn anchors(h: &TxnHistory) -> BTreeMap<Edge, BTreeSet<Anomaly>> {
    let g = edges(h);
    let mut by: BTreeMap<Edge, BTreeSet<Anomaly>> =
        g.iter().map(|&e| (e, BTreeSet::new())).collect();
    for c in all_cycles(&g) {
        let (a, kind) = classify(h, &c);
        for e in c.iter().filter(|e| e.kind == kind) {
            by.entry(*e).or_default().insert(a);
        }
    }
    for set in by.values_mut() {
        if set.contains(&Anomaly::LostUpdate) {
            set.remove(&Anomaly::ReadSkew);
        }
    }
    by
}

/// A random small history: 2 to 6 transactions on 1 to 3 keys, each with
/// 1 to 4 operations; reads see the initial version, a committed last
/// write, or now and then an aborted or intermediate write; 1 in 8
/// transactions aborts; each key's committed versions installed in a
/// random order. Always well formed.
pub(super) fn random_history(r: &mut SimRng) -> TxnHistory {
    let n = 2 + rng::index(r, 5) as u64;
    let keys = 1 + rng::index(r, 3);
    let at = SimTime::ZERO;
    let aborted: Vec<bool> = (0..n).map(|_| rng::chance(r, 0.125)).collect();
    // First the writes, so reads can see them.
    let mut ops: Vec<Vec<TxnOp>> = vec![Vec::new(); n as usize];
    let mut written: Vec<Version> = Vec::new();
    for (t, mine) in ops.iter_mut().enumerate() {
        let id = t as u64 + 1;
        let mut seq = 0;
        for _ in 0..1 + rng::index(r, 4) {
            if rng::chance(r, 0.5) {
                seq += 1;
                let v = Version::new(id, seq);
                mine.push(TxnOp::write(rng::index(r, keys), v, i64::from(seq), at));
                written.push(v);
            } else {
                mine.push(TxnOp::read(rng::index(r, keys), Version::INITIAL, 0, at));
            }
        }
    }
    let key_of = |ops: &[Vec<TxnOp>], v: Version| {
        ops[(v.writer - 1) as usize]
            .iter()
            .find(|o| !o.is_read() && o.version() == v)
            .map(|o| o.key())
    };
    // Each read sees a random version of its key (mostly a last write).
    for t in 0..n as usize {
        for i in 0..ops[t].len() {
            let TxnOp::Read { key, .. } = ops[t][i] else {
                continue;
            };
            let choices: Vec<Version> = written
                .iter()
                .copied()
                .filter(|&v| v.writer != t as u64 + 1 && key_of(&ops, v) == Some(key))
                .collect();
            if choices.is_empty() || rng::chance(r, 0.3) {
                continue;
            }
            let v = choices[rng::index(r, choices.len())];
            ops[t][i] = TxnOp::read(key, v, i64::from(v.seq), at);
        }
    }
    let txns: Vec<TxnRecord> = (0..n as usize)
        .map(|t| {
            let id = t as u64 + 1;
            let o = std::mem::take(&mut ops[t]);
            if aborted[t] {
                TxnRecord::aborted(id, "T", at, at, o)
            } else {
                TxnRecord::committed(id, "T", at, at, o)
            }
        })
        .collect();
    let mut order = BTreeMap::new();
    for k in 0..keys {
        let mut lasts: Vec<Version> = txns
            .iter()
            .filter(|t| t.is_committed())
            .filter_map(|t| t.ops.iter().rev().find(|o| !o.is_read() && o.key() == k))
            .map(|o| o.version())
            .collect();
        // A random installation order (Fisher–Yates).
        for i in (1..lasts.len()).rev() {
            lasts.swap(i, rng::index(r, i + 1));
        }
        let mut o = vec![Version::INITIAL];
        o.extend(lasts);
        order.insert(k, o);
    }
    TxnHistory::new(txns, order)
}

/// Checks one history against the reference; returns the classes the
/// reference finds in it.
fn agree(h: &TxnHistory, i: usize) -> BTreeSet<Anomaly> {
    assert_eq!(h.validate(), Ok(()), "history {i}");
    let ix = Index::new(h);
    let reference = anchors(h);
    assert_eq!(
        ix.edges.iter().copied().collect::<BTreeSet<_>>(),
        reference.keys().copied().collect(),
        "history {i}: {h:#?}"
    );
    let mut cycles = Cycles::new(&ix);
    let g: BTreeSet<Edge> = reference.keys().copied().collect();
    let mut present = BTreeSet::new();
    for (a, e) in ix.edges.iter().enumerate() {
        let got: Vec<(Anomaly, Vec<Edge>)> = cycles.through(a).expect("small history");
        let classes: BTreeSet<Anomaly> = got.iter().map(|(c, _)| *c).collect();
        assert_eq!(classes, reference[e], "history {i}, anchor {e:?}: {h:#?}");
        for (class, c) in &got {
            // A simple cycle of the graph, through the anchor, of its class.
            assert_eq!(c[0], *e);
            assert!(c.iter().all(|x| g.contains(x)));
            assert!(c.windows(2).all(|w| w[0].to == w[1].from) && c[c.len() - 1].to == c[0].from);
            let txns: BTreeSet<TxnId> = c.iter().map(|x| x.from).collect();
            assert_eq!(txns.len(), c.len(), "history {i}: not simple {c:?}");
            let (k, _) = classify(h, c);
            assert_eq!(k, *class, "history {i}: {c:?}");
        }
        present.extend(classes);
    }
    // G1a and G1b: the same (writer, reader) pairs.
    let mut g1 = BTreeSet::new();
    for t in h.txns.iter().filter(|t| t.is_committed()) {
        for op in t.ops.iter().filter(|o| o.is_read()) {
            let v = op.version();
            let Some(w) = h.txn(v.writer).filter(|w| w.id != t.id) else {
                continue;
            };
            let last = w
                .ops
                .iter()
                .rev()
                .find(|o| !o.is_read() && o.key() == op.key())
                .map(|o| o.version());
            if !w.is_committed() {
                g1.insert((Anomaly::DirtyRead, w.id, t.id));
            } else if last != Some(v) {
                g1.insert((Anomaly::IntermediateRead, w.id, t.id));
            }
        }
    }
    let got: BTreeSet<(Anomaly, TxnId, TxnId)> = ix
        .g1_reads()
        .iter()
        .map(|f| (f.anomaly, f.txns[0], f.txns[1]))
        .collect();
    assert_eq!(got, g1, "history {i}");
    present.extend(g1.iter().map(|x| x.0));
    // Whole histories: a class is reported exactly when the reference has it.
    let reported: BTreeSet<Anomaly> = anomalies(h)
        .expect("small history")
        .iter()
        .map(|f| f.anomaly)
        .collect();
    assert_eq!(reported, present, "history {i}");
    present
}

#[test]
fn the_checker_agrees_with_brute_force_on_random_small_histories() {
    let mut r = rng::stream(17, rng::domain::EXPERIMENT, 0, 0);
    let histories = 20_000;
    let mut with: BTreeMap<Anomaly, usize> = BTreeMap::new();
    let mut fallbacks = 0;
    for i in 0..histories {
        let h = random_history(&mut r);
        for a in agree(&h, i) {
            *with.entry(a).or_default() += 1;
        }
        let ix = Index::new(&h);
        let mut c = Cycles::new(&ix);
        c.all().expect("small history");
        fallbacks += c.fallbacks();
    }
    eprintln!("{histories} histories; with each class: {with:?}; exact searches: {fallbacks}");
    // Both verdicts occur, often, for every class.
    for a in Anomaly::ALL {
        let n = with.get(&a).copied().unwrap_or(0);
        assert!(
            n >= 200 && n <= histories - 200,
            "{a:?}: in {n} of {histories}"
        );
    }
    // The exact search was needed (the breadth-first walk alone misses these).
    assert!(fallbacks >= 20, "{fallbacks}");
}
