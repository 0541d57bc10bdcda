//! Cycles through anchor edges (see the module docs of [`super`]).
//!
//! For every anchor edge `u → v` the search wants a **simple** path back
//! from `v` to `u`: over ww edges (G0), over ww and wr edges (G1c,
//! G-single), or over any edges with at least one rw among them (G2). The
//! first three are plain breadth-first searches: a shortest path never
//! repeats a node. The fourth searches pairs `(node, seen an rw edge yet)`,
//! and a shortest such walk can pass one transaction twice, once before
//! its rw edge and once after (the old checker then gave up on the anchor
//! and missed the write skew). Then a longer simple path may still exist,
//! and finding one is NP-hard in general (a cycle through two given edges
//! is the directed two-disjoint-paths problem), so an exact depth-first
//! search takes over (`Scratch::exact`): it returns the first simple
//! path in transaction order, not always a shortest one.
//!
//! Searches stay inside the anchor's strongly connected component and skip
//! nodes that cannot reach `u` (`Scope`). They count the edges they
//! look at against one budget for the whole check ([`SEARCH_BUDGET`]), and
//! the cycles reported are bounded too ([`MAX_CYCLE_EDGES`]): past either
//! the check fails with an error naming the history's size, rather than
//! answer wrong or never.

use super::search::{bit, Index, NONE, RW, WR, WW};
use super::{Anomaly, Edge, EdgeKind, Found, TxnId};
use crate::error::{Error, ErrorKind, Result};
use std::collections::{BTreeSet, VecDeque};

/// Edges all cycle searches of one check may look at together (building
/// a cycle counts its length four times): about a second of work. The
/// largest histories [`crate::txn::isolation`] makes (20,000 programs)
/// need at most a third of it, those of 3,000 transactions a hundredth; a
/// history that needs more is refused with an error that names its size.
pub const SEARCH_BUDGET: u64 = 100_000_000;

/// Edges the reported cycles may hold together (with their explanations,
/// about 100 MB): a history whose anomalies are longer (10,000
/// transactions that each lost every earlier update hold 50 million) is
/// refused with an error that names its size.
pub const MAX_CYCLE_EDGES: usize = 1_000_000;

/// One anchor's cycles, one per class it anchors.
pub(super) type Through = Vec<(Anomaly, Vec<Edge>)>;

/// The searches of one check: components, scratch space and what is left
/// of the budget.
pub(super) struct Cycles<'i, 'a> {
    ix: &'i Index<'a>,
    comp_ww: Vec<u32>,
    comp_g1: Vec<u32>,
    comp_all: Vec<u32>,
    s: Scratch,
}

impl<'i, 'a> Cycles<'i, 'a> {
    pub(super) fn new(ix: &'i Index<'a>) -> Cycles<'i, 'a> {
        let n = ix.nodes.len();
        Cycles {
            ix,
            comp_ww: ix.scc(WW),
            comp_g1: ix.scc(WW | WR),
            comp_all: ix.scc(WW | WR | RW),
            s: Scratch {
                stamp: vec![0; 2 * n],
                parent: vec![(NONE, NONE); 2 * n],
                generation: 0,
                queue: VecDeque::new(),
                on_path: vec![false; n],
                left: SEARCH_BUDGET,
                fallbacks: 0,
            },
        }
    }

    /// Every cycle anomaly, anchor by anchor, each distinct cycle once per
    /// kind (see the module docs of [`super`]).
    pub(super) fn all(&mut self) -> Result<Vec<Found>> {
        let mut seen: BTreeSet<(Anomaly, Vec<TxnId>)> = BTreeSet::new();
        let mut found = Vec::new();
        let mut reported = 0usize;
        for i in 0..self.ix.edges.len() {
            for (anomaly, edges) in self.through(i)? {
                // Building, rotating and looking the cycle up: a few passes.
                self.s.spend(self.ix, 4 * edges.len())?;
                let txns: Vec<TxnId> = edges.iter().map(|e| e.from).collect();
                if !seen.insert((anomaly, canonical(&txns))) {
                    continue;
                }
                reported += edges.len();
                if reported > MAX_CYCLE_EDGES {
                    return Err(too_big(
                        self.ix,
                        &format!(
                            "its anomalies' cycles hold more than {MAX_CYCLE_EDGES} edges \
                             (check::isolation::MAX_CYCLE_EDGES)"
                        ),
                    ));
                }
                let explanation = self.ix.explain(anomaly, &edges);
                found.push(Found {
                    anomaly,
                    txns,
                    edges,
                    explanation,
                });
            }
        }
        Ok(found)
    }

    /// The cycles anchored by edge `i`: for a ww edge a G0 cycle, for a wr
    /// edge a G1c cycle, for an rw edge a lost update or else a read skew,
    /// and a write skew; each one of its kind whenever there is one, the
    /// shortest (ties broken by transaction id) unless the exact search had
    /// to find it (see the module docs).
    pub(super) fn through(&mut self, i: usize) -> Result<Through> {
        let ix = self.ix;
        let (e, u, v) = (ix.edges[i], ix.src[i] as usize, ix.dst[i] as usize);
        let mut out = Vec::new();
        match e.kind {
            EdgeKind::WW if self.comp_ww[u] == self.comp_ww[v] => {
                let scope = Scope::new(&self.comp_ww, &self.comp_ww);
                if let Some(c) = self.s.shortest(ix, scope, i, WW, false)? {
                    out.push((Anomaly::DirtyWrite, c));
                }
            }
            EdgeKind::WR if self.comp_g1[u] == self.comp_g1[v] => {
                let scope = Scope::new(&self.comp_g1, &self.comp_g1);
                if let Some(c) = self.s.shortest(ix, scope, i, WW | WR, false)? {
                    out.push((Anomaly::CircularInformationFlow, c));
                }
            }
            EdgeKind::RW if self.comp_all[u] == self.comp_all[v] => {
                // The way back of a G-single cycle uses ww and wr edges only:
                // their components rank what can still reach `u`.
                let one_rw = Scope::new(&self.comp_all, &self.comp_g1);
                if let Some(c) = self.lost_update(&e) {
                    out.push((Anomaly::LostUpdate, c));
                } else if let Some(c) = self.s.shortest(ix, one_rw, i, WW | WR, false)? {
                    out.push((Anomaly::ReadSkew, c));
                }
                let scope = Scope::new(&self.comp_all, &self.comp_all);
                if let Some(c) = self.s.shortest(ix, scope, i, WW | WR | RW, true)? {
                    out.push((Anomaly::WriteSkew, c));
                }
            }
            _ => {}
        }
        Ok(out)
    }

    /// How many write-skew searches needed the exact search so far.
    #[cfg(test)]
    pub(super) fn fallbacks(&self) -> usize {
        self.s.fallbacks
    }

    /// The lost update behind anchor `Ti →rw Tj` on `x`, if `Ti` later
    /// installed a version of `x` after `Tj`'s and every transaction on the
    /// ww chain between them read and wrote `x`: the anchor and that chain.
    /// Constant time but for the chain it returns.
    fn lost_update(&self, anchor: &Edge) -> Option<Vec<Edge>> {
        let ix = self.ix;
        let k = anchor.key;
        let order = ix.order.get(&k)?;
        let at = |t: TxnId| -> Option<usize> {
            let v = ix.last_write.get(&(t, k))?;
            ix.pos.get(&(k, *v)).copied()
        };
        let (theirs, mine) = (at(anchor.to)?, at(anchor.from)?);
        if theirs >= mine {
            return None;
        }
        // Every version from theirs to mine: a committed reader of x.
        let sums = ix.rmw.get(&k)?;
        if (sums[mine + 1] - sums[theirs]) as usize != mine - theirs + 1 {
            return None;
        }
        let mut edges = vec![*anchor];
        edges.extend(order[theirs..=mine].windows(2).map(|w| Edge {
            from: w[0].writer,
            to: w[1].writer,
            kind: EdgeKind::WW,
            key: k,
        }));
        // A malformed order may list a writer twice: then it is no cycle.
        let mut txns = BTreeSet::new();
        edges.iter().all(|e| txns.insert(e.from)).then_some(edges)
    }
}

/// Where a search from `v` back to `u` may go: nodes of `v`'s component
/// (every node of a cycle through the anchor is in it), and no node ranked
/// below `u`. Ranks are the component ids of the graph of the edges the
/// way back may use, which Tarjan's algorithm numbers so that an edge
/// between two components always goes to a lower id: a node ranked below
/// `u` cannot reach it, and in a history, where most edges point forward
/// in time, this keeps a search that finds nothing from sweeping the whole
/// component.
#[derive(Clone, Copy)]
struct Scope<'c> {
    comp: &'c [u32],
    rank: &'c [u32],
}

impl<'c> Scope<'c> {
    fn new(comp: &'c [u32], rank: &'c [u32]) -> Scope<'c> {
        Scope { comp, rank }
    }
    fn may_reach(self, w: u32, u: u32) -> bool {
        self.rank[w as usize] >= self.rank[u as usize]
    }
    fn holds(self, w: u32, v: u32, u: u32) -> bool {
        self.comp[w as usize] == self.comp[v as usize] && self.may_reach(w, u)
    }
}

/// Scratch space reused between searches (generation stamps instead of
/// clearing), and the budget.
struct Scratch {
    /// Per state `2 * node + flag` (flag: an rw edge seen).
    stamp: Vec<u32>,
    parent: Vec<(u32, u32)>,
    generation: u32,
    queue: VecDeque<u32>,
    /// Per node: on the current path of the exact search.
    on_path: Vec<bool>,
    left: u64,
    fallbacks: usize,
}

/// Whether edge kind `k` sets the flag of a search that needs an rw edge.
fn flag(k: EdgeKind, need_rw: bool) -> u32 {
    u32::from(need_rw && k == EdgeKind::RW)
}

impl Scratch {
    /// Charges `n` edge visits to the budget.
    fn spend(&mut self, ix: &Index<'_>, n: usize) -> Result<()> {
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            too_big(
                ix,
                &format!(
                    "finding its cycles takes more than {SEARCH_BUDGET} steps \
                     (check::isolation::SEARCH_BUDGET)"
                ),
            )
        })?;
        Ok(())
    }

    fn next_generation(&mut self) -> u32 {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.fill(0);
            self.generation = 1;
        }
        self.generation
    }

    /// A simple cycle through anchor edge `a` whose way back uses only
    /// edges in `allow` inside `scope` (and, if `need_rw`, at least one rw
    /// edge), the shortest if the breadth-first walk is simple; `None` if
    /// there is none.
    fn shortest(
        &mut self,
        ix: &Index<'_>,
        scope: Scope<'_>,
        a: usize,
        allow: u8,
        need_rw: bool,
    ) -> Result<Option<Vec<Edge>>> {
        let (u, v) = (ix.src[a], ix.dst[a]);
        let Some(path) = self.walk(ix, scope, u, v, allow, need_rw)? else {
            // No walk at all: no path either.
            return Ok(None);
        };
        // Without the rw condition a shortest walk is a shortest path.
        let path = if !need_rw || self.is_simple(ix, &path) {
            Some(path)
        } else {
            self.fallbacks += 1;
            self.exact(ix, scope, u, v)?
        };
        Ok(path.map(|p| {
            let mut edges = vec![ix.edges[a]];
            edges.extend(p.iter().map(|&e| ix.edges[e as usize]));
            edges
        }))
    }

    /// Breadth-first search over states `(node, flag)` from `v` to `u`:
    /// the edge indices of a shortest walk that never passes through `u`
    /// or back through `v` (a shortest path, if `!need_rw`).
    fn walk(
        &mut self,
        ix: &Index<'_>,
        scope: Scope<'_>,
        u: u32,
        v: u32,
        allow: u8,
        need_rw: bool,
    ) -> Result<Option<Vec<u32>>> {
        if !scope.may_reach(v, u) {
            return Ok(None);
        }
        let g = self.next_generation();
        let start = v * 2;
        self.queue.clear();
        self.queue.push_back(start);
        self.stamp[start as usize] = g;
        while let Some(s) = self.queue.pop_front() {
            let (node, f) = (s / 2, s % 2);
            self.spend(ix, ix.out[node as usize].len())?;
            for &e in &ix.out[node as usize] {
                let kind = ix.edges[e as usize].kind;
                let w = ix.dst[e as usize];
                if bit(kind) & allow == 0 || !scope.holds(w, v, u) || w == v {
                    continue;
                }
                let nf = f | flag(kind, need_rw);
                if w == u {
                    if nf == u32::from(need_rw) {
                        let mut path = vec![e];
                        let mut at = s;
                        while at != start {
                            let (p, pe) = self.parent[at as usize];
                            path.push(pe);
                            at = p;
                        }
                        path.reverse();
                        return Ok(Some(path));
                    }
                    continue;
                }
                let ns = w * 2 + nf;
                if self.stamp[ns as usize] == g {
                    continue;
                }
                self.stamp[ns as usize] = g;
                self.parent[ns as usize] = (s, e);
                self.queue.push_back(ns);
            }
        }
        Ok(None)
    }

    /// True if the walk (edge indices) passes no transaction twice.
    fn is_simple(&mut self, ix: &Index<'_>, path: &[u32]) -> bool {
        let mut simple = true;
        for &e in path {
            let w = ix.dst[e as usize] as usize;
            if self.on_path[w] {
                simple = false;
            }
            self.on_path[w] = true;
        }
        for &e in path {
            self.on_path[ix.dst[e as usize] as usize] = false;
        }
        simple
    }

    /// The exact search for a simple path from `v` to `u` with an rw edge
    /// (the way back of a write skew), or `None`. Such a path is a prefix
    /// without rw edges, its first rw edge `x → y`, and a rest from `y` to
    /// `u` that avoids the prefix; given the prefix, a breadth-first search
    /// finds the shortest rest or shows there is none. So the search
    /// enumerates prefixes depth-first (in transaction order), tries each
    /// prefix's rw edges, and extends a prefix only to a node from which a
    /// walk avoiding the prefix still reaches the end. Exponential only in
    /// the prefixes, in the worst case; the budget bounds it.
    fn exact(
        &mut self,
        ix: &Index<'_>,
        scope: Scope<'_>,
        u: u32,
        v: u32,
    ) -> Result<Option<Vec<u32>>> {
        // Frames: (node, next edge of it to try, edge that led here).
        let mut stack: Vec<(u32, usize, u32)> = vec![(v, 0, NONE)];
        self.on_path[v as usize] = true;
        let mut hit = None;
        while let Some(top) = stack.last_mut() {
            let (node, cursor) = (top.0 as usize, top.1);
            let Some(&e) = ix.out[node].get(cursor) else {
                self.on_path[node] = false;
                stack.pop();
                continue;
            };
            top.1 += 1;
            self.spend(ix, 1)?;
            let w = ix.dst[e as usize];
            if self.on_path[w as usize] || !scope.holds(w, v, u) {
                continue;
            }
            if ix.edges[e as usize].kind == EdgeKind::RW {
                let rest = if w == u {
                    Some(Vec::new())
                } else {
                    self.rest(ix, scope, w, u, v, true)?
                };
                if let Some(rest) = rest {
                    hit = Some((e, rest));
                    break;
                }
            } else if w != u {
                self.on_path[w as usize] = true;
                if self.rest(ix, scope, w, u, v, false)?.is_some() {
                    stack.push((w, 0, e));
                } else {
                    self.on_path[w as usize] = false;
                }
            }
        }
        for &(n, _, _) in &stack {
            self.on_path[n as usize] = false;
        }
        Ok(hit.map(|(e, rest)| {
            let mut path: Vec<u32> = stack.iter().skip(1).map(|f| f.2).collect();
            path.push(e);
            path.extend(rest);
            path
        }))
    }

    /// A shortest walk from `from` to `u` avoiding the nodes on the current
    /// path of the exact search (which hold `v`), over any edges; with an
    /// rw edge on it unless `rw_seen`. If `rw_seen` it is a path (the rest
    /// of the exact search); else only its existence is used.
    fn rest(
        &mut self,
        ix: &Index<'_>,
        scope: Scope<'_>,
        from: u32,
        u: u32,
        v: u32,
        rw_seen: bool,
    ) -> Result<Option<Vec<u32>>> {
        let g = self.next_generation();
        let start = from * 2 + u32::from(rw_seen);
        self.queue.clear();
        self.queue.push_back(start);
        self.stamp[start as usize] = g;
        while let Some(s) = self.queue.pop_front() {
            let (node, f) = (s / 2, s % 2);
            self.spend(ix, ix.out[node as usize].len())?;
            for &e in &ix.out[node as usize] {
                let w = ix.dst[e as usize];
                if self.on_path[w as usize] || !scope.holds(w, v, u) {
                    continue;
                }
                let nf = f | flag(ix.edges[e as usize].kind, true);
                if w == u {
                    if nf == 1 {
                        let mut path = vec![e];
                        let mut at = s;
                        while at != start {
                            let (p, pe) = self.parent[at as usize];
                            path.push(pe);
                            at = p;
                        }
                        path.reverse();
                        return Ok(Some(path));
                    }
                    continue;
                }
                let ns = w * 2 + nf;
                if self.stamp[ns as usize] != g {
                    self.stamp[ns as usize] = g;
                    self.parent[ns as usize] = (s, e);
                    self.queue.push_back(ns);
                }
            }
        }
        Ok(None)
    }
}

/// The error for a history too big to check.
fn too_big(ix: &Index<'_>, why: &str) -> Error {
    Error::new(
        ErrorKind::InvalidParameter,
        format!(
            "this history ({} committed transactions, {} dependency edges) is too big to check \
             for isolation anomalies in a notebook cell: {why}; check a shorter history \
             (fewer transactions, or fewer of them on one key)",
            ix.nodes.len(),
            ix.edges.len()
        ),
    )
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
