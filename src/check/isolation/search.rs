//! The graph behind [`super::dsg`] and [`super::anomalies`]: edges from the
//! history, the lookups that explanations and the lost-update shape need
//! (each `O(log n)`, so no check is quadratic in the history), G1a and G1b,
//! and strongly connected components (Tarjan). The cycle searches are in
//! [`super::cycles`].

use super::{key_name, Anomaly, Edge, EdgeKind, Found, Key, TxnHistory, TxnId, TxnOp, Version};
use std::collections::{BTreeMap, BTreeSet};

pub(super) const WW: u8 = 1;
pub(super) const WR: u8 = 2;
pub(super) const RW: u8 = 4;

pub(super) fn bit(k: EdgeKind) -> u8 {
    match k {
        EdgeKind::WW => WW,
        EdgeKind::WR => WR,
        EdgeKind::RW => RW,
    }
}

pub(super) const NONE: u32 = u32::MAX;

/// A history indexed for the checks.
pub(super) struct Index<'a> {
    by_id: BTreeMap<TxnId, &'a super::TxnRecord>,
    /// Committed transaction ids, sorted: node `i` is `nodes[i]`.
    pub(super) nodes: Vec<TxnId>,
    /// The graph, sorted by `(from, to, kind, key)`.
    pub(super) edges: Vec<Edge>,
    pub(super) src: Vec<u32>,
    pub(super) dst: Vec<u32>,
    /// Per node, its outgoing edges (indices into `edges`, in order).
    pub(super) out: Vec<Vec<u32>>,
    pub(super) order: &'a BTreeMap<Key, Vec<Version>>,
    /// Position of each version in its key's order.
    pub(super) pos: BTreeMap<(Key, Version), usize>,
    /// Each transaction's last write of each key.
    pub(super) last_write: BTreeMap<(TxnId, Key), Version>,
    /// Every write's key and value, by version (the first, if a malformed
    /// history repeats one).
    writes: BTreeMap<Version, (Key, i64)>,
    /// Each transaction's first read of each key of a version not its own:
    /// the value it saw.
    first_read: BTreeMap<(TxnId, Key), i64>,
    /// Per key, `rmw[k][p]`: how many of the versions before position `p`
    /// were installed by a committed transaction that also read `k` (the
    /// lost-update shape asks this of a whole stretch of the order).
    pub(super) rmw: BTreeMap<Key, Vec<u32>>,
}

impl<'a> Index<'a> {
    pub(super) fn new(h: &'a TxnHistory) -> Index<'a> {
        let mut by_id = BTreeMap::new();
        let mut last_write = BTreeMap::new();
        let mut writes = BTreeMap::new();
        let mut first_read = BTreeMap::new();
        let mut reads = BTreeSet::new();
        for t in &h.txns {
            if t.id == 0 || by_id.contains_key(&t.id) {
                continue;
            }
            by_id.insert(t.id, t);
            for op in &t.ops {
                let (k, v) = (op.key(), op.version());
                if op.is_read() {
                    reads.insert((t.id, k));
                    if v.writer != t.id {
                        first_read.entry((t.id, k)).or_insert(op.value());
                    }
                } else {
                    last_write.insert((t.id, k), v);
                    writes.entry(v).or_insert((k, op.value()));
                }
            }
        }
        let nodes: Vec<TxnId> = by_id
            .values()
            .filter(|t| t.is_committed())
            .map(|t| t.id)
            .collect();
        let mut ix = Index {
            by_id,
            nodes,
            edges: Vec::new(),
            src: Vec::new(),
            dst: Vec::new(),
            out: Vec::new(),
            order: &h.version_order,
            pos: BTreeMap::new(),
            last_write,
            writes,
            first_read,
            rmw: BTreeMap::new(),
        };
        for (&k, order) in &h.version_order {
            let mut sums = Vec::with_capacity(order.len() + 1);
            let mut n = 0u32;
            sums.push(0);
            for v in order {
                if ix.node(v.writer).is_some() && reads.contains(&(v.writer, k)) {
                    n += 1;
                }
                sums.push(n);
            }
            ix.rmw.insert(k, sums);
        }
        ix.build(h);
        ix
    }

    pub(super) fn node(&self, t: TxnId) -> Option<u32> {
        self.nodes.binary_search(&t).ok().map(|i| i as u32)
    }

    fn build(&mut self, h: &TxnHistory) {
        let mut edges = BTreeSet::new();
        for (&k, order) in &h.version_order {
            for (i, &v) in order.iter().enumerate() {
                self.pos.entry((k, v)).or_insert(i);
            }
            for w in order.windows(2) {
                let (a, b) = (w[0].writer, w[1].writer);
                if a != b && self.node(a).is_some() && self.node(b).is_some() {
                    edges.insert(Edge {
                        from: a,
                        to: b,
                        kind: EdgeKind::WW,
                        key: k,
                    });
                }
            }
        }
        for &t in &self.nodes {
            for op in &self.by_id[&t].ops {
                let TxnOp::Read { key, version, .. } = *op else {
                    continue;
                };
                let w = version.writer;
                if w == t {
                    continue;
                }
                if w != 0 {
                    // Reads of aborted or intermediate versions are G1a and
                    // G1b, not edges.
                    if self.node(w).is_none() || self.last_write.get(&(w, key)) != Some(&version) {
                        continue;
                    }
                    edges.insert(Edge {
                        from: w,
                        to: t,
                        kind: EdgeKind::WR,
                        key,
                    });
                }
                if let Some(&p) = self.pos.get(&(key, version)) {
                    if let Some(next) = h.version_order[&key].get(p + 1) {
                        if next.writer != t && self.node(next.writer).is_some() {
                            edges.insert(Edge {
                                from: t,
                                to: next.writer,
                                kind: EdgeKind::RW,
                                key,
                            });
                        }
                    }
                }
            }
        }
        self.out = vec![Vec::new(); self.nodes.len()];
        for e in edges {
            // Both ends are committed transactions by construction.
            let (Some(s), Some(d)) = (self.node(e.from), self.node(e.to)) else {
                continue;
            };
            self.out[s as usize].push(self.edges.len() as u32);
            self.edges.push(e);
            self.src.push(s);
            self.dst.push(d);
        }
    }

    /// G1a and G1b: one per distinct (writer, reader) pair, in reader order.
    pub(super) fn g1_reads(&self) -> Vec<Found> {
        let mut seen = BTreeSet::new();
        let mut found = Vec::new();
        for &t in &self.nodes {
            for op in &self.by_id[&t].ops {
                let TxnOp::Read {
                    key,
                    version,
                    value,
                    ..
                } = *op
                else {
                    continue;
                };
                let w = version.writer;
                let Some(writer) = self.by_id.get(&w).filter(|_| w != t && w != 0) else {
                    continue;
                };
                // Did `w` write this version (of this key)?
                let wrote = self.writes.get(&version).is_some_and(|&(k, _)| k == key);
                let (anomaly, why) = if !wrote {
                    continue;
                } else if !writer.is_committed() {
                    (
                        Anomaly::DirtyRead,
                        format!(
                            "T{t} read {} = {value} written by T{w}, which then aborted",
                            key_name(key)
                        ),
                    )
                } else if self.last_write.get(&(w, key)) != Some(&version) {
                    let last = self.write_value(w, key).map_or(0, |v| v);
                    (
                        Anomaly::IntermediateRead,
                        format!(
                            "T{t} read {k} = {value}, an intermediate version: T{w} later wrote {k} = {last}",
                            k = key_name(key)
                        ),
                    )
                } else {
                    continue;
                };
                if seen.insert((anomaly, w, t)) {
                    found.push(Found {
                        anomaly,
                        txns: vec![w, t],
                        edges: vec![Edge {
                            from: w,
                            to: t,
                            kind: EdgeKind::WR,
                            key,
                        }],
                        explanation: why,
                    });
                }
            }
        }
        found
    }

    /// Tarjan's strongly connected components of the edges in `allow`
    /// (iterative: no recursion depth limit). Returns a component id per
    /// node.
    pub(super) fn scc(&self, allow: u8) -> Vec<u32> {
        let n = self.nodes.len();
        let mut index = vec![NONE; n];
        let mut low = vec![0u32; n];
        let mut on_stack = vec![false; n];
        let mut comp = vec![NONE; n];
        let mut stack: Vec<u32> = Vec::new();
        let mut call: Vec<(u32, usize)> = Vec::new();
        let (mut counter, mut comps) = (0u32, 0u32);
        for s in 0..n as u32 {
            if index[s as usize] != NONE {
                continue;
            }
            index[s as usize] = counter;
            low[s as usize] = counter;
            counter += 1;
            stack.push(s);
            on_stack[s as usize] = true;
            call.push((s, 0));
            while let Some(top) = call.last_mut() {
                let v = top.0 as usize;
                if let Some(&e) = self.out[v].get(top.1) {
                    top.1 += 1;
                    if bit(self.edges[e as usize].kind) & allow == 0 {
                        continue;
                    }
                    let w = self.dst[e as usize] as usize;
                    if index[w] == NONE {
                        index[w] = counter;
                        low[w] = counter;
                        counter += 1;
                        stack.push(w as u32);
                        on_stack[w] = true;
                        call.push((w as u32, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                call.pop();
                if let Some(&(p, _)) = call.last() {
                    low[p as usize] = low[p as usize].min(low[v]);
                }
                if low[v] == index[v] {
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        comp[w as usize] = comps;
                        if w as usize == v {
                            break;
                        }
                    }
                    comps += 1;
                }
            }
        }
        comp
    }

    /// The value of `t`'s last write of `k`.
    fn write_value(&self, t: TxnId, k: Key) -> Option<i64> {
        let v = self.last_write.get(&(t, k))?;
        self.writes.get(v).map(|&(_, value)| value)
    }

    /// One sentence: the anomaly's name, then each edge in words.
    pub(super) fn explain(&self, anomaly: Anomaly, edges: &[Edge]) -> String {
        let val = |o: Option<i64>| o.map_or("?".to_string(), |v| v.to_string());
        let read = |t: TxnId, k: Key| val(self.first_read.get(&(t, k)).copied());
        let parts: Vec<String> = edges
            .iter()
            .map(|e| {
                let (i, j, k) = (e.from, e.to, key_name(e.key));
                match e.kind {
                    EdgeKind::WW => format!(
                        "T{j} overwrote T{i}'s {k} = {} with {k} = {}",
                        val(self.write_value(i, e.key)),
                        val(self.write_value(j, e.key))
                    ),
                    EdgeKind::WR => {
                        format!("T{j} read {k} = {} written by T{i}", read(j, e.key))
                    }
                    EdgeKind::RW => format!(
                        "T{i} read {k} = {}, which T{j} overwrote with {k} = {}",
                        read(i, e.key),
                        val(self.write_value(j, e.key))
                    ),
                }
            })
            .collect();
        let mut s = anomaly.name().to_string();
        if let Some(c) = s.get_mut(0..1) {
            c.make_ascii_uppercase();
        }
        format!("{s}: {}.", parts.join("; "))
    }
}
