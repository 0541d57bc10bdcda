//! The graph behind [`super::dsg`] and [`super::anomalies`]: edges from the
//! history, strongly connected components (Tarjan), and shortest cycles
//! through anchor edges by breadth-first search.

use super::{key_name, Anomaly, Edge, EdgeKind, Found, Key, TxnHistory, TxnId, TxnOp, Version};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The most edges one cycle search may look at before it gives up on its
/// anchor (see the module docs of [`super`]): a bound on the checker's
/// cost, far above what a search in a simulated history needs.
pub const SEARCH_BUDGET: usize = 200_000;

const WW: u8 = 1;
const WR: u8 = 2;
const RW: u8 = 4;

fn bit(k: EdgeKind) -> u8 {
    match k {
        EdgeKind::WW => WW,
        EdgeKind::WR => WR,
        EdgeKind::RW => RW,
    }
}

const NONE: u32 = u32::MAX;

/// A history indexed for the checks.
pub(super) struct Index<'a> {
    by_id: BTreeMap<TxnId, &'a super::TxnRecord>,
    /// Committed transaction ids, sorted: node `i` is `nodes[i]`.
    nodes: Vec<TxnId>,
    /// The graph, sorted by `(from, to, kind, key)`.
    pub(super) edges: Vec<Edge>,
    src: Vec<u32>,
    dst: Vec<u32>,
    /// Per node, its outgoing edges (indices into `edges`, in order).
    out: Vec<Vec<u32>>,
    order: &'a BTreeMap<Key, Vec<Version>>,
    /// Position of each version in its key's order.
    pos: BTreeMap<(Key, Version), usize>,
    /// Each transaction's last write of each key.
    last_write: BTreeMap<(TxnId, Key), Version>,
}

impl<'a> Index<'a> {
    pub(super) fn new(h: &'a TxnHistory) -> Index<'a> {
        let mut by_id = BTreeMap::new();
        let mut last_write = BTreeMap::new();
        for t in &h.txns {
            if t.id == 0 || by_id.contains_key(&t.id) {
                continue;
            }
            by_id.insert(t.id, t);
            for op in t.ops.iter().filter(|o| !o.is_read()) {
                last_write.insert((t.id, op.key()), op.version());
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
        };
        ix.build(h);
        ix
    }

    fn node(&self, t: TxnId) -> Option<u32> {
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
                let wrote = writer
                    .ops
                    .iter()
                    .any(|o| !o.is_read() && o.version() == version);
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
                    let last = self.write_of(w, key).map_or(0, |o| o.value());
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

    /// Every cycle anomaly, anchor by anchor (see the module docs).
    pub(super) fn cycles(&self) -> Vec<Found> {
        let comp_ww = self.scc(WW);
        let comp_g1 = self.scc(WW | WR);
        let comp_all = self.scc(WW | WR | RW);
        let mut bfs = Bfs::new(self.nodes.len());
        let mut seen: BTreeSet<(Anomaly, Vec<TxnId>)> = BTreeSet::new();
        let mut found = Vec::new();
        let mut keep = |anomaly: Anomaly, edges: Vec<Edge>, found: &mut Vec<Found>| {
            let txns: Vec<TxnId> = edges.iter().map(|e| e.from).collect();
            if seen.insert((anomaly, canonical(&txns))) {
                let explanation = self.explain(anomaly, &edges);
                found.push(Found {
                    anomaly,
                    txns,
                    edges,
                    explanation,
                });
            }
        };
        for (i, e) in self.edges.iter().enumerate() {
            let (u, v) = (self.src[i], self.dst[i]);
            let same = |c: &[u32]| c[u as usize] == c[v as usize];
            match e.kind {
                EdgeKind::WW if same(&comp_ww) => {
                    if let Some(c) = self.cycle(i, WW, false, &comp_ww, &mut bfs) {
                        keep(Anomaly::DirtyWrite, c, &mut found);
                    }
                }
                EdgeKind::WR if same(&comp_g1) => {
                    if let Some(c) = self.cycle(i, WW | WR, false, &comp_g1, &mut bfs) {
                        keep(Anomaly::CircularInformationFlow, c, &mut found);
                    }
                }
                EdgeKind::RW if same(&comp_all) => {
                    if let Some(c) = self.lost_update(e) {
                        keep(Anomaly::LostUpdate, c, &mut found);
                    } else if let Some(c) = self.cycle(i, WW | WR, false, &comp_all, &mut bfs) {
                        keep(Anomaly::ReadSkew, c, &mut found);
                    }
                    if let Some(c) = self.cycle(i, WW | WR | RW, true, &comp_all, &mut bfs) {
                        keep(Anomaly::WriteSkew, c, &mut found);
                    }
                }
                _ => {}
            }
        }
        found
    }

    /// The lost update behind anchor `Ti →rw Tj` on `x`, if `Ti` later
    /// installed a version of `x` after `Tj`'s and every transaction on the
    /// ww chain between them read and wrote `x`: the anchor and that chain.
    fn lost_update(&self, anchor: &Edge) -> Option<Vec<Edge>> {
        let (k, ti) = (anchor.key, anchor.from);
        let order = self.order.get(&k)?;
        let mine = self.pos.get(&(k, *self.last_write.get(&(ti, k))?))?;
        let theirs = order.iter().position(|v| v.writer == anchor.to)?;
        if theirs >= *mine {
            return None;
        }
        let chain = &order[theirs..=*mine];
        let reads = |t: TxnId| {
            self.by_id[&t]
                .ops
                .iter()
                .any(|o| o.is_read() && o.key() == k)
        };
        if !chain
            .iter()
            .all(|v| self.node(v.writer).is_some() && reads(v.writer))
        {
            return None;
        }
        let mut edges = vec![*anchor];
        edges.extend(chain.windows(2).map(|w| Edge {
            from: w[0].writer,
            to: w[1].writer,
            kind: EdgeKind::WW,
            key: k,
        }));
        Some(edges)
    }

    /// The shortest simple cycle through anchor edge `a` whose way back
    /// uses only edges in `allow` (and, if `need_rw`, at least one rw).
    fn cycle(
        &self,
        a: usize,
        allow: u8,
        need_rw: bool,
        comp: &[u32],
        bfs: &mut Bfs,
    ) -> Option<Vec<Edge>> {
        let (u, v) = (self.src[a], self.dst[a]);
        let path = bfs.run(self, v, u, allow, need_rw, comp)?;
        let mut edges = vec![self.edges[a]];
        edges.extend(path.iter().map(|&e| self.edges[e as usize]));
        let mut nodes = BTreeSet::new();
        if !edges.iter().all(|e| nodes.insert(e.from)) {
            return None; // a walk through some node twice: not one cycle
        }
        Some(edges)
    }

    /// Tarjan's strongly connected components of the edges in `allow`
    /// (iterative: no recursion depth limit). Returns a component id per
    /// node.
    fn scc(&self, allow: u8) -> Vec<u32> {
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

    fn write_of(&self, t: TxnId, k: Key) -> Option<&TxnOp> {
        let v = self.last_write.get(&(t, k))?;
        self.by_id[&t].ops.iter().find(|o| o.version() == *v)
    }

    fn read_of(&self, t: TxnId, k: Key) -> Option<&TxnOp> {
        self.by_id
            .get(&t)?
            .ops
            .iter()
            .find(|o| o.is_read() && o.key() == k && o.version().writer != t)
    }

    /// One sentence: the anomaly's name, then each edge in words.
    fn explain(&self, anomaly: Anomaly, edges: &[Edge]) -> String {
        let val = |o: Option<&TxnOp>| o.map_or("?".to_string(), |o| o.value().to_string());
        let parts: Vec<String> = edges
            .iter()
            .map(|e| {
                let (i, j, k) = (e.from, e.to, key_name(e.key));
                match e.kind {
                    EdgeKind::WW => format!(
                        "T{j} overwrote T{i}'s {k} = {} with {k} = {}",
                        val(self.write_of(i, e.key)),
                        val(self.write_of(j, e.key))
                    ),
                    EdgeKind::WR => format!(
                        "T{j} read {k} = {} written by T{i}",
                        val(self.read_of(j, e.key))
                    ),
                    EdgeKind::RW => format!(
                        "T{i} read {k} = {}, which T{j} overwrote with {k} = {}",
                        val(self.read_of(i, e.key)),
                        val(self.write_of(j, e.key))
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

/// The cycle `txns` rotated to start at its smallest id: equal for every
/// rotation of one cycle.
fn canonical(txns: &[TxnId]) -> Vec<TxnId> {
    let start = txns
        .iter()
        .enumerate()
        .min_by_key(|&(_, t)| *t)
        .map_or(0, |(i, _)| i);
    txns[start..]
        .iter()
        .chain(&txns[..start])
        .copied()
        .collect()
}

/// Breadth-first search over `(node, seen an rw edge yet)` states, with
/// scratch space reused between searches (stamps instead of clearing).
struct Bfs {
    stamp: Vec<u32>,
    parent: Vec<(u32, u32)>,
    generation: u32,
    queue: VecDeque<u32>,
}

impl Bfs {
    fn new(n: usize) -> Bfs {
        Bfs {
            stamp: vec![0; 2 * n],
            parent: vec![(NONE, NONE); 2 * n],
            generation: 0,
            queue: VecDeque::new(),
        }
    }

    /// Edge indices of a shortest path from `from` to `to` inside `from`'s
    /// component, over edges in `allow`, containing an rw edge if
    /// `need_rw`; `None` if there is none or the budget runs out.
    fn run(
        &mut self,
        ix: &Index<'_>,
        from: u32,
        to: u32,
        allow: u8,
        need_rw: bool,
        comp: &[u32],
    ) -> Option<Vec<u32>> {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.fill(0);
            self.generation = 1;
        }
        let g = self.generation;
        let c = comp[from as usize];
        let start = from * 2;
        let target = to * 2 + u32::from(need_rw);
        self.queue.clear();
        self.queue.push_back(start);
        self.stamp[start as usize] = g;
        let mut budget = SEARCH_BUDGET;
        while let Some(s) = self.queue.pop_front() {
            let (node, flag) = (s / 2, s % 2);
            for &e in &ix.out[node as usize] {
                budget = budget.checked_sub(1)?;
                let kind = ix.edges[e as usize].kind;
                let w = ix.dst[e as usize];
                if bit(kind) & allow == 0 || comp[w as usize] != c {
                    continue;
                }
                let f = if need_rw && kind == EdgeKind::RW {
                    1
                } else {
                    flag
                };
                let ns = w * 2 + f;
                if self.stamp[ns as usize] == g {
                    continue;
                }
                self.stamp[ns as usize] = g;
                self.parent[ns as usize] = (s, e);
                if ns == target {
                    let mut path = Vec::new();
                    let mut at = ns;
                    while at != start {
                        let (p, e) = self.parent[at as usize];
                        path.push(e);
                        at = p;
                    }
                    path.reverse();
                    return Some(path);
                }
                self.queue.push_back(ns);
            }
        }
        None
    }
}
