//! Properties checked as a run goes: attaching them, showing each event to
//! them, and collecting their violations.

use super::{Seen, Sim};
use crate::sim::monitor::{Property, PropertyKind, SimEvent, Violation, World};
use crate::sim::node::Node;

impl<N: Node> Sim<N> {
    /// Attaches a property, checked after every event from now on. By
    /// default the first violation stops the run (see
    /// [`Builder::stop_on_violation`](crate::sim::Builder::stop_on_violation) and [`Sim::violation`]).
    pub fn check(&mut self, property: impl Property<N> + 'static) {
        self.props.push((Box::new(property), false));
        self.core.watching = true;
    }

    /// The names and kinds of the attached properties, in order.
    pub fn properties(&self) -> Vec<(String, PropertyKind)> {
        self.props
            .iter()
            .map(|(p, _)| (p.name(), p.kind()))
            .collect()
    }

    /// The first violation of the run, if any.
    pub fn violation(&self) -> Option<&Violation> {
        self.violations.first()
    }

    /// The first violation of each violated property, in the order found.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Judges the run: asks every property not yet violated for what it
    /// could only decide at the end (liveness obligations past their
    /// deadline, or never to be met once the queue is empty), and returns
    /// every violation of the run.
    pub fn finish_checks(&mut self) -> &[Violation] {
        let mut props = std::mem::take(&mut self.props);
        for (p, violated) in props.iter_mut() {
            if *violated || (self.stop_on_violation && !self.violations.is_empty()) {
                continue;
            }
            if let Some(reason) = p.at_end(&self.world()) {
                *violated = true;
                self.violations.push(Violation {
                    property: p.name(),
                    kind: p.kind(),
                    time: self.core.now,
                    event_index: 0,
                    event: "the end of the run".into(),
                    node: None,
                    reason,
                });
            }
        }
        self.props = props;
        &self.violations
    }

    pub(super) fn world(&self) -> World<'_, N> {
        World {
            now: self.core.now,
            nodes: &self.nodes,
            disks: &self.core.disks,
            up: &self.core.up,
            history: &self.core.history,
            counters: &self.core.counters,
            stats: &self.core.stats,
            pending_events: self.core.live(),
        }
    }

    /// Shows one event to the properties, then the drops its handler
    /// caused at send time (lost, cut by a partition), in the order sent.
    #[cold]
    pub(super) fn observe(&mut self, seen: Seen<N::Msg, N::Timer>) {
        self.observe_one(seen);
        self.show_unseen();
    }

    /// Shows the properties the drops decided at send time since the last
    /// event (kept by `Core` only while properties are attached).
    #[cold]
    pub(super) fn show_unseen(&mut self) {
        while !self.core.unseen.is_empty() {
            let drops = std::mem::take(&mut self.core.unseen);
            for (from, to, msg, reason) in drops {
                if self.stop_on_violation && !self.violations.is_empty() {
                    break;
                }
                self.observe_one(Seen::Drop(from, to, msg, reason));
            }
        }
    }

    fn observe_one(&mut self, seen: Seen<N::Msg, N::Timer>) {
        let Sim {
            nodes,
            core,
            plan,
            props,
            violations,
            events,
            stop_on_violation,
            ..
        } = self;
        let ops = core.history.ops();
        let ev = match &seen {
            Seen::Start(n) => SimEvent::Start { node: *n },
            Seen::Deliver(from, to, msg) => SimEvent::Deliver {
                from: *from,
                to: *to,
                msg,
            },
            Seen::Drop(from, to, msg, reason) => SimEvent::Drop {
                from: *from,
                to: *to,
                msg,
                reason: *reason,
            },
            Seen::Timer(node, timer) => SimEvent::Timer { node: *node, timer },
            Seen::Crash(n) => SimEvent::Crash { node: *n },
            Seen::Recover(n) => SimEvent::Recover { node: *n },
            Seen::Request(node, op) => SimEvent::Request {
                node: *node,
                op: &ops[*op],
            },
            Seen::Reply(op) => SimEvent::Reply { op: &ops[*op] },
            Seen::Timeout(op) => SimEvent::Timeout { op: &ops[*op] },
            Seen::Fault(i) => SimEvent::Fault {
                action: &plan[*i].1,
            },
        };
        let world = World {
            now: core.now,
            nodes,
            disks: &core.disks,
            up: &core.up,
            history: &core.history,
            counters: &core.counters,
            stats: &core.stats,
            pending_events: core.live(),
        };
        let before = violations.len();
        for (p, violated) in props.iter_mut() {
            if *violated {
                continue;
            }
            if let Some(reason) = p.after(&ev, &world) {
                *violated = true;
                violations.push(Violation {
                    property: p.name(),
                    kind: p.kind(),
                    time: core.now,
                    event_index: *events,
                    event: ev.describe(),
                    node: ev.node(),
                    reason,
                });
                if *stop_on_violation {
                    break;
                }
            }
        }
        if *stop_on_violation && violations.len() > before {
            self.core.stop = true;
        }
    }

    #[inline]
    pub(super) fn watching(&self) -> bool {
        !self.props.is_empty()
    }
}
