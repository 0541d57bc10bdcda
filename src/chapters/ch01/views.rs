//! The charts and tables of a [`ClientServerRun`]: the global view (every
//! node's events), the client's local view (and what it cannot see), and
//! where a request's time goes.

use super::client_server::{ClientServerRun, RequestRecord};
use crate::error::Result;
use crate::plot::{
    erlang_tail, exponential_tail, segment_chart, sequence_diagram, tail_cdf, Figure, Mark,
    MarkKind, Opts, Segment, SequenceDiagram, Table,
};
use crate::sim::latency::Latency;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::trace::{Trace, TraceKind};
use std::collections::BTreeMap;

/// The request id in a label such as `"req 3"`, `"req 3 (retry 1)"`,
/// `"resp 3"`, `"done 3"`, `"timeout 3"` or `"give up 3"`.
fn id_in(label: &str) -> Option<u64> {
    label
        .split_whitespace()
        .find_map(|w| w.trim_matches(|c: char| !c.is_ascii_digit()).parse().ok())
}

/// `-0.000` never: values that round to zero print as `0.000`.
pub(crate) fn fmt3(v: f64) -> String {
    let s = format!("{v:.3}");
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

/// The message diagram of a client–server trace (client lane 0, server
/// lane 1) up to `until`, told the way a reader needs it: a send has one
/// label (its arrow's), the server's work is a diamond (a second time for
/// the same request in the warning colour), a timeout is a clock (labelled
/// only when the client gives up), and an answer that comes after the
/// client gave up, or a second answer, says so.
pub fn client_server_diagram(
    trace: &Trace,
    requests: &[RequestRecord],
    until: SimTime,
) -> SequenceDiagram {
    let mut d = SequenceDiagram::from_trace(trace, &ClientServerRun::lanes(), until);
    let give_ups: Vec<(f64, u64)> = d
        .marks
        .iter()
        .filter(|m| m.kind == MarkKind::Note && m.label.starts_with("give up"))
        .filter_map(|m| Some((m.at, id_in(&m.label)?)))
        .collect();
    let mut times_done: BTreeMap<u64, u32> = BTreeMap::new();
    let marks = std::mem::take(&mut d.marks);
    for m in marks {
        let id = id_in(&m.label);
        match (m.kind, m.lane, id) {
            (MarkKind::Timer, 0, _) if m.label.starts_with("send") => {}
            (MarkKind::Note, 0, _) if m.label.starts_with("give up") => {}
            (MarkKind::Timer, 0, Some(id)) if m.label.starts_with("timeout") => {
                let label = if give_ups.contains(&(m.at, id)) {
                    format!("timeout: gives up req {id}")
                } else {
                    String::new()
                };
                d.marks.push(Mark::new(0, m.at, MarkKind::Timer, label));
            }
            (MarkKind::Timer, 1, Some(id)) if m.label.starts_with("done") => {
                let n = times_done.entry(id).or_insert(0);
                *n += 1;
                let mark = Mark::new(1, m.at, MarkKind::Processed, "");
                d.marks.push(if *n > 1 {
                    Mark {
                        label: format!("req {id} processed again"),
                        ..mark
                    }
                    .warning()
                } else {
                    mark
                });
            }
            _ => d.marks.push(m),
        }
    }
    for a in d.arrows.iter_mut() {
        let (Some(t), 0, Some(id)) = (a.received, a.to, id_in(&a.label)) else {
            continue;
        };
        let Some(r) = requests.get(id as usize) else {
            continue;
        };
        let at = |x: Option<SimTime>| x.map(SimTime::as_ms) == Some(t);
        if at(r.late) {
            a.label = format!("{} (too late: gave up)", a.label);
        } else if !at(r.answered) {
            a.label = format!("{} (duplicate)", a.label);
        }
    }
    d
}

/// The sends of a client–server trace by request id, and the lost messages:
/// what [`ClientServerRun::local_view`] needs to explain each timeout
/// without searching the whole trace each time.
struct SendIndex {
    /// Request id -> (sent at, message id) of each client send, in order.
    requests: BTreeMap<u64, Vec<(SimTime, u64)>>,
    /// Request id -> (sent at, message id) of each server response.
    responses: BTreeMap<u64, Vec<(SimTime, u64)>>,
    /// Message id -> when it was dropped.
    dropped: BTreeMap<u64, SimTime>,
}

impl SendIndex {
    fn of(trace: &Trace) -> SendIndex {
        let mut ix = SendIndex {
            requests: BTreeMap::new(),
            responses: BTreeMap::new(),
            dropped: BTreeMap::new(),
        };
        for e in trace.events() {
            match e.kind {
                TraceKind::Send => {
                    let map = match e.node {
                        0 if e.label.starts_with("req ") => &mut ix.requests,
                        1 if e.label.starts_with("resp ") => &mut ix.responses,
                        _ => continue,
                    };
                    if let Some(id) = id_in(&e.label) {
                        map.entry(id).or_default().push((e.time, e.msg));
                    }
                }
                TraceKind::Drop(_) => {
                    ix.dropped.entry(e.msg).or_insert(e.time);
                }
                _ => {}
            }
        }
        ix
    }
}

impl ClientServerRun {
    /// The global view: every node's events on one message diagram, up to
    /// `until_ms` milliseconds, titled with what went wrong in it (messages
    /// lost, requests processed more than once).
    pub fn global_view(&self, until_ms: f64) -> Result<Figure> {
        let until = SimTime::from_start(SimDuration::from_ms_named("until_ms", until_ms)?);
        let d = client_server_diagram(&self.trace, &self.requests, until);
        let lost = d.arrows.iter().filter(|a| a.received.is_none()).count();
        let again: std::collections::BTreeSet<u64> = d
            .marks
            .iter()
            .filter(|m| m.warn && m.kind == MarkKind::Processed)
            .filter_map(|m| id_in(&m.label))
            .collect();
        let mut parts = Vec::new();
        if lost > 0 {
            parts.push(format!(
                "{lost} message{} lost",
                if lost == 1 { "" } else { "s" }
            ));
        }
        if !again.is_empty() {
            let n = again.len();
            parts.push(format!(
                "{n} request{} processed more than once",
                if n == 1 { "" } else { "s" }
            ));
        }
        let title = if parts.is_empty() {
            "Global view: every message, as an omniscient observer sees it".to_string()
        } else {
            format!("Global view: {}", parts.join(", "))
        };
        sequence_diagram(&d, Opts::new(title).y_label("time (ms)"))
    }

    /// Why the client's timeout for request `id` fired at `at`, as only an
    /// omniscient observer knows: the request was lost, the response was
    /// lost, or the answer simply had not come yet. `true` for a loss.
    fn timeout_cause(&self, ix: &SendIndex, id: u64, at: SimTime) -> (String, bool) {
        let sent = ix
            .requests
            .get(&id)
            .and_then(|v| v.iter().rev().find(|s| s.0 < at));
        let Some(&(sent_at, msg)) = sent else {
            return ("no request in flight".into(), false);
        };
        let dropped = |m: u64| ix.dropped.get(&m).is_some_and(|&t| t <= at);
        if dropped(msg) {
            return (format!("req {id} was lost on the way"), true);
        }
        let resp_lost = ix.responses.get(&id).is_some_and(|v| {
            v.iter()
                .any(|&(t, m)| t >= sent_at && t <= at && dropped(m))
        });
        if resp_lost {
            (format!("resp {id} was lost on the way back"), true)
        } else {
            ("the answer is just slow".into(), false)
        }
    }

    /// The client's local view: only what the client observed (its sends,
    /// the answers it got, its timeouts), up to `until_ms`, one label per
    /// event. Beside it, in a lane of its own, what the client cannot see:
    /// why each timeout fired. A lost request and a lost response leave the
    /// same marks on the client's lane (sent, timeout, resent).
    pub fn local_view(&self, until_ms: f64) -> Result<Figure> {
        let until = SimTime::from_start(SimDuration::from_ms_named("until_ms", until_ms)?);
        let mut d = SequenceDiagram::new(["client (all it can see)", "hidden from the client"]);
        let index = SendIndex::of(&self.trace);
        let events: Vec<_> = self
            .trace
            .local_view(0)
            .into_iter()
            .filter(|e| e.time <= until)
            .collect();
        let mut i = 0;
        while i < events.len() {
            // Everything the client does at one instant becomes one mark.
            let t = events[i].time;
            let mut j = i;
            while j < events.len() && events[j].time == t {
                j += 1;
            }
            let now = &events[i..j];
            let timeout = now
                .iter()
                .find(|e| e.kind == TraceKind::Timer && e.label.starts_with("timeout"));
            let mut said = Vec::new();
            for e in now {
                match e.kind {
                    TraceKind::Send => said.push(format!("sent {}", e.label)),
                    TraceKind::Deliver => {
                        let r = id_in(&e.label).and_then(|id| self.requests.get(id as usize));
                        said.push(match r {
                            Some(r) if r.late == Some(t) => {
                                format!("got {} (too late: gave up)", e.label)
                            }
                            Some(r) if r.answered != Some(t) => format!("got {} again", e.label),
                            _ => format!("got {}", e.label),
                        });
                    }
                    TraceKind::Note => said.push(match id_in(&e.label) {
                        Some(id) if e.label.starts_with("give up") => format!("gave up req {id}"),
                        _ => e.label.clone(),
                    }),
                    _ => {}
                }
            }
            let ms = t.as_ms();
            if let Some(tm) = timeout {
                let label = if said.is_empty() {
                    "timeout".to_string()
                } else {
                    format!("timeout, {}", said.join(", "))
                };
                d.marks.push(Mark::new(0, ms, MarkKind::Timer, label));
                if let Some(id) = id_in(&tm.label) {
                    let (why, lost) = self.timeout_cause(&index, id, t);
                    let m = Mark::new(1, ms, MarkKind::Note, format!("why: {why}"));
                    d.marks.push(if lost { m.warning() } else { m });
                }
            } else if !said.is_empty() {
                d.marks
                    .push(Mark::new(0, ms, MarkKind::Note, said.join(", ")));
            }
            i = j;
        }
        if d.marks.is_empty() {
            d.marks
                .push(Mark::new(0, 0.0, MarkKind::Note, "nothing yet"));
        }
        sequence_diagram(
            &d,
            Opts::new("Local view: a lost request and a lost response look the same")
                .y_label("time (ms)"),
        )
    }

    /// The client's local view as a table.
    pub fn local_view_table(&self, max_rows: usize) -> Table {
        let mut t = Table::new(&["time (ms)", "event at the client"]);
        for e in self.trace.local_view(0).iter().take(max_rows) {
            let what = match e.kind {
                TraceKind::Send => format!("sent {}", e.label),
                TraceKind::Deliver => format!("received {}", e.label),
                TraceKind::Timer => format!("timer: {}", e.label),
                _ => e.label.clone(),
            };
            t = t.row(vec![format!("{:.3}", e.time.as_ms()), what]);
        }
        t
    }

    /// Per answered request (the first `max`), one horizontal bar from its
    /// first send to its answer, split where its time went, in order:
    /// waiting for a timeout before the resend that got through, the
    /// request's way to the server, queueing, processing, the response's
    /// way back. The legend lists only parts that occur.
    pub fn breakdown_chart(&self, max: usize) -> Result<Figure> {
        let done: Vec<&RequestRecord> = self
            .requests
            .iter()
            .filter(|r| r.answered.is_some())
            .take(max)
            .collect();
        let parts = [
            "waiting before a resend",
            "network: request",
            "queueing",
            "processing",
            "network: response",
        ];
        let rows: Vec<(String, Vec<Segment>)> = done
            .iter()
            .map(|r| {
                let lens = [
                    r.wait_ms,
                    r.request_network_ms,
                    r.queue_ms,
                    r.processing_ms,
                    r.network_ms - r.request_network_ms,
                ];
                let mut at = 0.0;
                let segs = lens
                    .iter()
                    .enumerate()
                    .map(|(k, &len)| {
                        let s = Segment::new(at, at + len.max(0.0), k);
                        at += len.max(0.0);
                        s
                    })
                    .collect();
                (format!("req {}", r.id), segs)
            })
            .collect();
        let names: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
        segment_chart(
            &rows,
            &names,
            Opts::new("Where each request's time goes").x_label("time since the first send (ms)"),
        )
    }

    /// How often each latency part of the answered requests exceeds `t`
    /// (P(X > t) on a log axis, where the tail shows), with the mean of
    /// each marked. Theory where the parts have a closed form: an
    /// exponential processing time (mean m) exceeds t with probability
    /// exp(−t/m); the network's two exponential one-way trips (mean m each)
    /// add up to an Erlang-2, exp(−t/m)(1 + t/m). The total also holds the
    /// wait in the server's queue, which has no such simple form here
    /// (requests arrive evenly spaced, not as a Poisson stream).
    pub fn latency_cdf(&self) -> Result<Figure> {
        let done: Vec<&RequestRecord> = self
            .requests
            .iter()
            .filter(|r| r.answered.is_some())
            .collect();
        let pick = |f: fn(&RequestRecord) -> f64| done.iter().map(|r| f(r)).collect::<Vec<f64>>();
        let total = pick(|r| r.total_ms);
        let x_max = total.iter().copied().fold(1.0, f64::max);
        let mut theory = Vec::new();
        if let Latency::Exponential { mean } = self.params.network {
            theory.push(erlang_tail("network: Erlang-2", 2, mean / 1e6, x_max)?);
        }
        if let Latency::Exponential { mean } = self.params.processing {
            theory.push(exponential_tail(
                "processing: exponential",
                mean / 1e6,
                x_max,
            )?);
        }
        tail_cdf(
            &[
                ("network (both ways)".to_string(), pick(|r| r.network_ms)),
                ("processing".to_string(), pick(|r| r.processing_ms)),
                ("total".to_string(), total),
            ],
            &theory,
            Opts::new("Latency of answered requests: how often each part exceeds t")
                .x_label("t (ms)")
                .y_label("fraction of requests slower than t"),
        )
    }

    /// Means of the latency parts over the answered requests, each measured
    /// on its own (server timestamps, the client's clock), their sum, and
    /// the measured end-to-end mean; then how many requests were answered,
    /// answered too late, or never.
    pub fn breakdown_table(&self) -> Table {
        let done: Vec<&RequestRecord> = self
            .requests
            .iter()
            .filter(|r| r.answered.is_some())
            .collect();
        let n = done.len().max(1) as f64;
        let mean = |f: fn(&RequestRecord) -> f64| done.iter().map(|r| f(r)).sum::<f64>() / n;
        let (net, q, p, w, tot) = (
            mean(|r| r.network_ms),
            mean(|r| r.queue_ms),
            mean(|r| r.processing_ms),
            mean(|r| r.wait_ms),
            mean(|r| r.total_ms),
        );
        let late = self.late();
        let never = self.gave_up() - late;
        Table::new(&["part", "mean (ms)"])
            .row(vec!["network (both ways)".into(), fmt3(net)])
            .row(vec!["queueing at the server".into(), fmt3(q)])
            .row(vec!["processing".into(), fmt3(p)])
            .row(vec!["waiting before a resend".into(), fmt3(w)])
            .row(vec!["sum of the parts".into(), fmt3(net + q + p + w)])
            .row(vec!["measured end to end".into(), fmt3(tot)])
            .row(vec![
                "requests answered / too late / never".into(),
                format!("{} / {late} / {never}", done.len()),
            ])
    }
}
