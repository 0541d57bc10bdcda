//! Bounded exhaustive search: every interleaving of a small system, up to a
//! depth, with equal states visited once (in the manner of TLC and
//! Stateright's breadth-first checker).
//!
//! A state is a [`Controlled`] simulation after a sequence of [`Choice`]s:
//! run one pending event (a message, a timer, a start), crash a node, bring
//! a crashed one back, lose or duplicate a pending message. Crashes, losses
//! and duplicates are choices within budgets ([`Exhaustive::crashes`],
//! [`Exhaustive::losses`], [`Exhaustive::duplicates`]); recovering a
//! crashed node is always a choice. Every *safety* property is checked in
//! every state reached; an *end* property ([`Exhaustive::at_end`]) in every
//! state where nothing is pending (the run is over).
//!
//! The search is breadth first, so the first violation found has a
//! shortest path from the start: [`Found`] holds it, replayed with a trace
//! for a message diagram. States are told apart by a fingerprint (see
//! `fingerprint.rs`): nodes, disks, up/down, the multiset of pending events
//! and the budgets used; so nodes, messages, timers and disks must
//! implement `Hash`, and a node's behaviour must not depend on time or its
//! random stream (both are left out of the state).
//!
//! **Stateless.** A state is kept as its path (one [`Choice`] and a parent
//! index, 16 bytes), not as a copy: to expand it the search rebuilds the
//! simulation and replays the path. That costs a replay per transition
//! (depth × a few hundred ns), but needs no `Clone` of a simulation (which
//! holds boxed workloads and properties) and keeps memory at 24 bytes per
//! state plus its fingerprint. DESIGN.md gives the measured numbers.
//!
//! Every search is bounded: depth ([`Exhaustive::max_depth`]) and unique
//! states ([`Exhaustive::max_states`]); the [`SearchReport`] says whether
//! the whole bounded space was covered.

mod fingerprint;

use crate::error::{check_count, Result};
use crate::sim::time::ms;
use crate::sim::trace::Trace;
use crate::sim::{Controlled, Event, Node, NodeId, Sim, TimeRule};
use std::collections::{HashSet, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};
use xxhash_rust::xxh3::Xxh3Builder;

/// One step of a path through the state space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Choice {
    /// Run pending event `i` (in the order [`Controlled::pending`] lists).
    Run(usize),
    /// Crash node `n`.
    Crash(NodeId),
    /// Restart crashed node `n`.
    Recover(NodeId),
    /// Lose pending message `i`.
    Lose(usize),
    /// Copy pending message `i`.
    Duplicate(usize),
}

/// A property violated, with the shortest path to it.
#[derive(Debug, Clone)]
pub struct Found {
    /// The property's name.
    pub property: String,
    /// The choices from the start, shortest first found.
    pub path: Vec<Choice>,
    /// Each choice in words (`"0→2 Prepare(1)"`, `"crash 1"`).
    pub steps: Vec<String>,
    /// The trace of the path replayed (one millisecond per step).
    pub trace: Trace,
    /// Lane names for a message diagram (`"node 0"`, …).
    pub lanes: Vec<String>,
}

/// What a search covered and found.
#[derive(Debug, Clone)]
pub struct SearchReport {
    /// Transitions taken (states reached, counting revisits).
    pub states_explored: u64,
    /// Distinct states (by fingerprint), the start included.
    pub unique_states: u64,
    /// States where nothing was pending.
    pub end_states: u64,
    /// The deepest level expanded.
    pub depth_reached: usize,
    /// True if every state within the depth bound was expanded (no
    /// violation stopped it, the state budget was not reached).
    pub complete: bool,
    /// True if some state at the depth bound still had choices left.
    pub depth_bounded: bool,
    /// The first violation found (on a shortest path), if any.
    pub violation: Option<Found>,
    /// Wall-clock time of the search (machine-dependent: for benches and
    /// reports, never for a notebook's printed output).
    pub elapsed: Duration,
}

type Pred<N> = Box<dyn Fn(&Sim<N>) -> bool>;

/// A bounded exhaustive search over a simulation's schedules; see the
/// [module docs](self).
pub struct Exhaustive<N: Node> {
    build: Box<dyn Fn() -> Result<Sim<N>>>,
    max_depth: usize,
    max_states: usize,
    budgets: [u32; 3],
    always: Vec<(String, Pred<N>)>,
    at_end: Vec<(String, Pred<N>)>,
}

/// Most levels a search may go (each level replays its whole path).
pub const MAX_DEPTH: usize = 200;
/// Most distinct states a search may keep (about 40 bytes each).
pub const MAX_STATES: usize = 10_000_000;

impl<N> Exhaustive<N>
where
    N: Node + Hash,
    N::Msg: Hash,
    N::Timer: Hash,
    N::Disk: Hash,
{
    /// A search over the schedules of the simulation `build` makes (called
    /// once per replay: it must build the same simulation every time).
    /// Defaults: depth 30, 1,000,000 states, no crashes, losses or
    /// duplicates.
    pub fn new(build: impl Fn() -> Result<Sim<N>> + 'static) -> Self {
        Exhaustive {
            build: Box::new(build),
            max_depth: 30,
            max_states: 1_000_000,
            budgets: [0; 3],
            always: Vec::new(),
            at_end: Vec::new(),
        }
    }
    /// Explores paths of at most `d` choices (1..=200).
    pub fn max_depth(mut self, d: usize) -> Result<Self> {
        self.max_depth = check_count("max_depth", d, 1, MAX_DEPTH, "choices per path")?;
        Ok(self)
    }
    /// Stops after `n` distinct states (1..=10,000,000).
    pub fn max_states(mut self, n: usize) -> Result<Self> {
        self.max_states = check_count("max_states", n, 1, MAX_STATES, "distinct states")?;
        Ok(self)
    }
    /// At most `n` crashes on a path (0..=10).
    pub fn crashes(mut self, n: u32) -> Result<Self> {
        self.budgets[0] = check_count("crashes", n as usize, 0, 10, "crashes per path")? as u32;
        Ok(self)
    }
    /// At most `n` lost messages on a path (0..=10).
    pub fn losses(mut self, n: u32) -> Result<Self> {
        self.budgets[1] = check_count("losses", n as usize, 0, 10, "losses per path")? as u32;
        Ok(self)
    }
    /// At most `n` duplicated messages on a path (0..=10).
    pub fn duplicates(mut self, n: u32) -> Result<Self> {
        self.budgets[2] =
            check_count("duplicates", n as usize, 0, 10, "duplicates per path")? as u32;
        Ok(self)
    }
    /// A safety property: `holds` must be true in every state.
    pub fn always(mut self, name: &str, holds: impl Fn(&Sim<N>) -> bool + 'static) -> Self {
        self.always.push((name.to_string(), Box::new(holds)));
        self
    }
    /// A property of finished runs: `holds` must be true in every state
    /// where nothing is pending (termination, for example).
    pub fn at_end(mut self, name: &str, holds: impl Fn(&Sim<N>) -> bool + 'static) -> Self {
        self.at_end.push((name.to_string(), Box::new(holds)));
        self
    }

    /// Rebuilds the simulation and takes `path` (with `trace` on or off).
    fn replay(&self, path: &[Choice]) -> Result<(Controlled<N>, [u32; 3])> {
        let sim = (self.build)()?;
        let mut c = Controlled::new(sim).time_rule(TimeRule::Steps(ms(1)))?;
        let mut used = [0u32; 3];
        for &ch in path {
            apply(&mut c, ch, &mut used)?;
        }
        Ok((c, used))
    }

    /// The choices open in a state.
    fn choices(&self, c: &mut Controlled<N>, used: &[u32; 3]) -> Vec<Choice> {
        let pending = c.pending();
        let mut out: Vec<Choice> = (0..pending.len()).map(Choice::Run).collect();
        let msgs: Vec<usize> = pending
            .iter()
            .enumerate()
            .filter(|(_, p)| matches!(p.event, Event::Deliver { .. }))
            .map(|(i, _)| i)
            .collect();
        drop(pending);
        if used[1] < self.budgets[1] {
            out.extend(msgs.iter().map(|&i| Choice::Lose(i)));
        }
        if used[2] < self.budgets[2] {
            out.extend(msgs.iter().map(|&i| Choice::Duplicate(i)));
        }
        let sim = c.sim();
        for n in 0..sim.len() {
            if !sim.is_up(n) {
                out.push(Choice::Recover(n));
            } else if used[0] < self.budgets[0] {
                out.push(Choice::Crash(n));
            }
        }
        out
    }

    /// The first property of `props` that fails in `sim`.
    fn violated(props: &[(String, Pred<N>)], sim: &Sim<N>) -> Option<String> {
        props.iter().find(|(_, p)| !p(sim)).map(|(n, _)| n.clone())
    }

    /// Runs the search.
    pub fn run(&self) -> Result<SearchReport> {
        let start = Instant::now();
        // Paths as parent pointers: (parent index, choice); the start is u32::MAX.
        let mut arena: Vec<(u32, Choice)> = Vec::new();
        // Keys are fingerprints already; a fixed-key hasher keeps even the
        // set's layout the same on every run.
        let mut seen: HashSet<u64, Xxh3Builder> = HashSet::with_hasher(Xxh3Builder::new());
        let mut frontier: VecDeque<(u32, usize)> = VecDeque::new();
        let mut report = SearchReport {
            states_explored: 0,
            unique_states: 1,
            end_states: 0,
            depth_reached: 0,
            complete: true,
            depth_bounded: false,
            violation: None,
            elapsed: Duration::ZERO,
        };
        let (mut c, used) = self.replay(&[])?;
        seen.insert(fingerprint::fingerprint(&mut c, &used));
        if let Some(v) = self.judge(&mut c, &mut report) {
            report.violation = Some(self.found(v, &[])?);
            report.complete = false;
            report.elapsed = start.elapsed();
            return Ok(report);
        }
        frontier.push_back((u32::MAX, 0));
        while let Some((at, depth)) = frontier.pop_front() {
            let path = path_to(&arena, at);
            let (mut c, used) = self.replay(&path)?;
            let choices = self.choices(&mut c, &used);
            if depth >= self.max_depth {
                report.depth_bounded |= !choices.is_empty();
                continue;
            }
            report.depth_reached = report.depth_reached.max(depth + 1);
            let mut fresh = Some((c, used));
            for ch in choices {
                let (mut c, mut used) = match fresh.take() {
                    Some(s) => s,
                    None => self.replay(&path)?,
                };
                apply(&mut c, ch, &mut used)?;
                report.states_explored += 1;
                if !seen.insert(fingerprint::fingerprint(&mut c, &used)) {
                    continue;
                }
                report.unique_states += 1;
                arena.push((at, ch));
                let me = (arena.len() - 1) as u32;
                if let Some(v) = self.judge(&mut c, &mut report) {
                    report.violation = Some(self.found(v, &path_to(&arena, me))?);
                    report.complete = false;
                    report.elapsed = start.elapsed();
                    return Ok(report);
                }
                if report.unique_states as usize >= self.max_states {
                    report.complete = false;
                    report.elapsed = start.elapsed();
                    return Ok(report);
                }
                frontier.push_back((me, depth + 1));
            }
        }
        report.elapsed = start.elapsed();
        Ok(report)
    }

    /// The property a new state violates, if any (end properties only
    /// where nothing is pending).
    fn judge(&self, c: &mut Controlled<N>, report: &mut SearchReport) -> Option<String> {
        if let Some(v) = Self::violated(&self.always, c.sim()) {
            return Some(v);
        }
        if c.pending_len() == 0 {
            report.end_states += 1;
            return Self::violated(&self.at_end, c.sim());
        }
        None
    }

    /// Replays `path` once more, describing each step.
    fn found(&self, property: String, path: &[Choice]) -> Result<Found> {
        let sim = (self.build)()?;
        let lanes = (0..sim.len()).map(|i| format!("node {i}")).collect();
        let mut c = Controlled::new(sim).time_rule(TimeRule::Steps(ms(1)))?;
        let mut used = [0u32; 3];
        let mut steps = Vec::with_capacity(path.len());
        for &ch in path {
            steps.push(describe(&mut c, ch));
            apply(&mut c, ch, &mut used)?;
        }
        Ok(Found {
            property,
            path: path.to_vec(),
            steps,
            trace: c.sim().trace().clone(),
            lanes,
        })
    }
}

/// Takes one choice (budgets counted in `used`: crashes, losses, copies).
fn apply<N: Node>(c: &mut Controlled<N>, ch: Choice, used: &mut [u32; 3]) -> Result<()> {
    match ch {
        Choice::Run(i) => c.run_pending(i).map(|_| ()),
        Choice::Crash(n) => {
            used[0] += 1;
            c.sim_mut().crash(n)
        }
        Choice::Recover(n) => c.sim_mut().recover(n),
        Choice::Lose(i) => {
            used[1] += 1;
            c.lose(i)
        }
        Choice::Duplicate(i) => {
            used[2] += 1;
            c.duplicate(i)
        }
    }
}

/// A choice in words, in the state before it is taken.
fn describe<N: Node>(c: &mut Controlled<N>, ch: Choice) -> String {
    let label = |c: &mut Controlled<N>, i: usize| {
        c.pending()
            .get(i)
            .map_or_else(|| format!("event {i}"), |p| p.label())
    };
    match ch {
        Choice::Run(i) => label(c, i),
        Choice::Crash(n) => format!("crash {n}"),
        Choice::Recover(n) => format!("recover {n}"),
        Choice::Lose(i) => format!("lose {}", label(c, i)),
        Choice::Duplicate(i) => format!("copy {}", label(c, i)),
    }
}

/// The choices from the start to arena entry `at`.
fn path_to(arena: &[(u32, Choice)], mut at: u32) -> Vec<Choice> {
    let mut path = Vec::new();
    while at != u32::MAX {
        let (parent, ch) = arena[at as usize];
        path.push(ch);
        at = parent;
    }
    path.reverse();
    path
}

impl<N: Node> std::fmt::Debug for Exhaustive<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exhaustive")
            .field("max_depth", &self.max_depth)
            .field("max_states", &self.max_states)
            .field("budgets", &self.budgets)
            .finish()
    }
}
