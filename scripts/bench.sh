#!/usr/bin/env bash
# The engine against SimPy, side by side, in one command:
#   bash scripts/bench.sh
# Builds the bench in release, then runs the standard workload (100 nodes,
# 1,000 messages in flight, exponential 10 ms latency, 1,000,000 deliveries)
# three times on each side, alternating, each run in its own process; prints
# the medians (events/s over wall time and over on-CPU time), the ratio, peak
# memory, the priority-queue floor, the scaling table (charts in
# charts/bench/), the sweep speedup, and the checkers' speed (10,000 explored
# seeds of two-phase commit; every crash point of chapter 5's bank), the cost per
# event of async processes (src/sim/process) beside handlers, the cost of a
# sync with a DiskLog and a Vec log at 1,000 and 100,000 entries, the isolation
# checker (3,000-transaction histories; two histories it must refuse by size)
# the linearizability checker's times (benches/linearizability.rs), and chapter
# 09's exhaustive search and explored Paxos seeds (benches/consensus.rs), and
# chapter 10's Raft: ns per event against a plain handler event, 10,000
# explored seeds, a Raft log's sync (benches/raft.rs), and a node of your own
# (benches/engine/cell_node.rs) on Sim<ItsType> and on the erased engine. The last
# line is `ratio: N.N`, the
# crate's events/s over SimPy's (medians of on-CPU rates, which other load on
# the machine does not distort; the wall-clock ratio is printed above it).
#
# QUICK=1 bash scripts/bench.sh: a smoke test of the whole script in well
# under a minute (one run per side, 100,000 deliveries per scaling run, a
# 16-point sweep, 1,000 explored seeds); its numbers are noisier, its charts
# are drawn the same way.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${QUICK:-0}" = 1 ]; then
    REPS=${REPS:-1}
    SCALING_ARGS="deliveries=100000"
    SWEEP_ARGS="points=16"
    EXPLORE_ARGS="seeds=1000"
    PROCESS_ARGS="deliveries=100000 reps=1"
    ERASED_ARGS="reps=1"
else
    SCALING_ARGS=""
    SWEEP_ARGS=""
    EXPLORE_ARGS=""
    PROCESS_ARGS=""
    ERASED_ARGS=""
fi
REPS=${REPS:-3}
PY=${PYTHON:-python3}
if ! "$PY" -c 'import simpy, sys; sys.exit(simpy.__version__ != "4.1.2")' 2>/dev/null; then
    echo "installing simpy==4.1.2 (pinned in scripts/requirements.txt)"
    "$PY" -m pip install --quiet simpy==4.1.2
fi

echo "building (release) ..."
BIN=$(cargo bench --bench engine --no-run --message-format=json 2>/dev/null |
    "$PY" -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "engine":
        print(m["executable"])')
[ -x "$BIN" ] || { echo "bench binary not found" >&2; exit 1; }

RUST_LINES=()
PY_LINES=()
FLOOR_LINES=()
for i in $(seq "$REPS"); do
    # The floor right before each engine run: the two see the same machine.
    FLOOR_LINES+=("$("$BIN" floor reps=3)")
    RUST_LINES+=("$("$BIN" engine)")
    PY_LINES+=("$("$PY" scripts/bench_simpy.py)")
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf '%s\n' "${RUST_LINES[@]}" "${PY_LINES[@]}" > "$TMP/runs.txt"
SUMMARY=$("$PY" - "$TMP/runs.txt" <<'PYEOF'
import statistics, sys
rows = {"engine": [], "simpy": []}
for line in open(sys.argv[1]):
    side, *kv = line.split()
    rows[side].append({k: float(v) for k, v in (w.split("=") for w in kv)})
def med(side, key):
    return statistics.median(r[key] for r in rows[side])
rw, pw = med("engine", "events_per_s"), med("simpy", "events_per_s")
rc, pc = med("engine", "cpu_events_per_s"), med("simpy", "cpu_events_per_s")
n = len(rows["engine"])
print(f"standard workload: 100 nodes, 1,000 in flight, exp(10 ms), 1,000,000 deliveries; median of {n} runs each")
print(f"  {'':24} {'thinkdist':>14} {'SimPy 4.1.2':>14} {'ratio':>8}")
print(f"  {'events/s (wall clock)':24} {rw:>14,.0f} {pw:>14,.0f} {rw / pw:>7.1f}x")
print(f"  {'events/s (on-CPU time)':24} {rc:>14,.0f} {pc:>14,.0f} {rc / pc:>7.1f}x")
print(f"  {'ns/event (on-CPU time)':24} {1e9 / rc:>14.1f} {1e9 / pc:>14.1f}")
print(f"  {'peak memory (MiB)':24} {med('engine', 'vmhwm_kb') / 1024:>14.1f} {med('simpy', 'maxrss_kb') / 1024:>14.1f}")
print("  (Rust: VmHWM of the bench process; Python: ru_maxrss of the interpreter)")
print(f"ENGINE_NS {1e9 / rc:.1f}")
print(f"RATIO {rc / pc:.1f}")
PYEOF
)
echo "$SUMMARY" | grep -v -e '^RATIO' -e '^ENGINE_NS'
RATIO=$(echo "$SUMMARY" | awk '/^RATIO/ {print $2}')

echo
printf '%s\n' "${FLOOR_LINES[@]}" > "$TMP/floor.txt"
printf '%s\n' "${RUST_LINES[@]}" > "$TMP/engine.txt"
"$PY" - "$TMP/floor.txt" "$TMP/engine.txt" <<'PYEOF'
import statistics, sys
kv = lambda line: {k: float(v) for k, v in (w.split("=") for w in line.split()[1:])}
floors = [kv(l) for l in open(sys.argv[1]) if l.strip()]
engines = [kv(l) for l in open(sys.argv[2]) if l.strip()]
ratios = [1e9 / e["cpu_events_per_s"] / f["ns_per_op"] for f, e in zip(floors, engines)]
f24 = statistics.median(f["ns_per_op"] for f in floors)
f8 = statistics.median(f["ns_per_op_u64"] for f in floors)
print("floor: EventQueue with 1,000 entries, pop one + push one (exponential times), 1M iterations, on-CPU")
print(f"  {f24:.1f} ns/op with 24-byte events, as in the engine ({f8:.1f} ns/op with 8-byte events)")
print(f"  engine / floor, each engine run against the floor measured just before it: "
      + ", ".join(f"{r:.2f}x" for r in ratios))
print(f"  engine: median {statistics.median(ratios):.2f}x the floor (the rest: node dispatch, RNG, "
      f"latency sampling, counters; target <= 1.15x)")
PYEOF

echo
"$BIN" scaling reps="$REPS" $SCALING_ARGS
echo
"$BIN" sweep $SWEEP_ARGS > "$TMP/sweep.txt"
"$PY" - "$TMP/sweep.txt" <<'PYEOF'
import sys
kv = dict(w.split("=") for w in open(sys.argv[1]).read().split()[1:])
print(f"sweep: {kv['points']} points (M/M/1 queue, 20,000 jobs each) on {kv['cores']} cores: "
      f"{float(kv['one_thread_s']):.2f} s on 1 thread, {float(kv['all_threads_s']):.2f} s "
      f"on {kv['cores']} threads: speedup {float(kv['speedup']):.2f}x (results identical: {kv['identical']})")
PYEOF
echo
"$BIN" explore $EXPLORE_ARGS > "$TMP/explore.txt"
"$BIN" crashpoints | grep '^crashpoints ' > "$TMP/points.txt"
"$PY" - "$TMP/explore.txt" "$TMP/points.txt" <<'PYEOF'
import sys
kv = dict(w.split("=") for w in open(sys.argv[1]).read().split()[1:])
print(f"explore: {int(kv['seeds']):,} seeds of two-phase commit (3 nodes, random outages, partitions, "
      f"loss and crash points; atomicity after every event): {float(kv['seconds']):.2f} s, "
      f"{float(kv['seeds_per_s']):,.0f} seeds/s, {kv['failed']} failed")
total, secs = 0, 0.0
for line in open(sys.argv[2]):
    kv = dict(w.split("=") for w in line.split()[1:])
    total += int(kv["points"]); secs += float(kv["seconds"])
    print(f"crash points: bank, {kv['logging']:<14} {int(kv['points']):>4} points, "
          f"{int(kv['recovered']):>4} recovered, {float(kv['seconds']):.3f} s")
print(f"crash points: {total} runs in {secs:.2f} s")
PYEOF
echo
"$BIN" process $PROCESS_ARGS > "$TMP/process.txt"
"$PY" - "$TMP/process.txt" <<'PYEOF'
import sys
kv = dict(w.split("=") for w in open(sys.argv[1]).read().split()[1:])
h, p = float(kv["handler_ns"]), float(kv["process_ns"])
print(f"processes: the standard workload ({int(kv['deliveries']):,} deliveries, median of {kv['reps']}) "
      f"written as handlers: {h:.1f} ns/event; as async processes (src/sim/process): {p:.1f} ns/event "
      f"({p / h:.2}x, on-CPU)")
PYEOF
"$BIN" erased $ERASED_ARGS > "$TMP/erased.txt"
"$PY" - "$TMP/erased.txt" <<'PYEOF'
import sys
kv = dict(w.split("=") for w in open(sys.argv[1]).read().split()[1:])
print(f"a node of your own (benches/engine/cell_node.rs, {int(kv['events']):,} events), compiled optimised: "
      f"on Sim<ItsType> {float(kv['direct_ns']):.1f} ns/event, on the erased engine (build_erased) "
      f"{float(kv['erased_ns']):.1f} ns/event ({kv['ratio']}x, on-CPU); the same node in a notebook cell: "
      f"python3 scripts/bench_cell_node.py")
PYEOF
"$BIN" durable > "$TMP/durable.txt"
"$PY" - "$TMP/durable.txt" <<'PYEOF'
import sys
kv = dict(w.split("=") for w in open(sys.argv[1]).read().split()[1:])
print(f"durable execution: a workflow of {int(kv['steps']):,} steps (median of {kv['reps']}): "
      f"{float(kv['live_ns']):.0f} ns per step run live (journaled and synced), "
      f"{float(kv['replay_ns']):.0f} ns per step replayed from the journal after a crash (on-CPU)")
PYEOF
echo
# The linearizability checker (benches/linearizability.rs): etcd-shaped
# register histories, a planted stale read, a 10,000-operation key-value
# history, and an adversarial one that must stop at its budget. With
# JEPSEN_DIR=path (Jepsen's etcd logs, etcd_NNN.log) it also checks those.
cargo bench --bench linearizability --quiet -- all ${JEPSEN_DIR:+dir=$JEPSEN_DIR} 2>/dev/null |
    grep -v -e '^running' -e '^$' || true
# Chapter 09 (benches/consensus.rs): the exhaustive search's transitions/s
# on single-decree Paxos (QUICK: to depth 10), explored Paxos seeds/s.
if [ "${QUICK:-0}" = 1 ]; then CONSENSUS_ARGS="depth=10 seeds=1000"; else CONSENSUS_ARGS=""; fi
cargo bench --bench consensus --quiet -- $CONSENSUS_ARGS 2>/dev/null |
    grep -v -e '^running' -e '^$' || true
# Chapter 10 (benches/raft.rs): a Raft event against a plain handler event
# (same engine, links and message type), 10,000 explored seeds of
# tests/raft.rs's scenario (QUICK: 1,000), a Raft log's sync.
if [ "${QUICK:-0}" = 1 ]; then RAFT_ARGS="events=200000 reps=1 seeds=1000"; else RAFT_ARGS=""; fi
cargo bench --bench raft --quiet -- $RAFT_ARGS 2>/dev/null > "$TMP/raft.txt"
"$PY" - "$TMP/raft.txt" <<'PYEOF'
import sys
for line in open(sys.argv[1]):
    side, *kv = line.split()
    kv = dict(w.split("=") for w in kv)
    if side == "raft":
        print(f"raft: 5 servers, 5 clients, steady load, no faults ({int(kv['events']):,} events, median of {kv['reps']}; "
              f"{float(kv['inflight']):.0f} events pending): {float(kv['raft_ns']):.0f} ns/event, "
              f"{float(kv['raft_checked_ns']):.0f} with Figure 3's invariants after every event; a plain handler "
              f"relaying the same messages: {float(kv['plain_ns']):.0f} ns/event (on-CPU); "
              f"ratio {float(kv['ratio']):.2f}x ({float(kv['ratio_checked']):.2f}x checked)")
    elif side == "raft_explore":
        print(f"raft explored: {int(kv['seeds']):,} seeds of 10 s (tests/raft.rs's fault space), {kv['failed']} failed: "
              f"{float(kv['seconds']):.1f} s on {kv['cores']} cores, {float(kv['seeds_per_s']):,.0f} seeds/s "
              f"({float(kv['cpu_s']):.1f} s on-CPU)")
    elif side == "raft_sync":
        print(f"raft sync: append one entry and sync, Raft log of {int(kv['entries']):>7,} entries: "
              f"{float(kv['ns']):,.0f} ns per event (on-CPU)")
PYEOF
"$BIN" isolation limits=1 > "$TMP/isolation.txt"
"$PY" - "$TMP/isolation.txt" <<'PYEOF'
import sys
for line in open(sys.argv[1]):
    kv = dict(w.split("=", 1) for w in line.split()[1:] if "=" in w)
    what = f"{kv['anomalies']} anomalies" if "anomalies" in kv else "refused by size"
    secs = kv.get("cpu_s")
    print(f"isolation checker: {kv['history']:<18} {int(kv['txns']):>6} transactions, {what}, {float(secs):.3f} s on-CPU")
PYEOF
"$BIN" sync > "$TMP/sync.txt"
"$PY" - "$TMP/sync.txt" <<'PYEOF'
import sys
for line in open(sys.argv[1]):
    kv = dict(w.split("=") for w in line.split()[1:])
    print(f"sync: append one entry and sync, log of {int(kv['entries']):>7,} entries: "
          f"DiskLog {float(kv['disklog_ns']):>9,.0f} ns, Vec {float(kv['vec_ns']):>11,.0f} ns per sync")
PYEOF
echo "ratio: $RATIO"
