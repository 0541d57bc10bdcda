#!/usr/bin/env python3
"""The SimPy side of the standard benchmark (see scripts/bench.sh).

Same model as `benches/engine.rs`: `nodes` nodes, `inflight` messages in
flight, each delivered after an exponentially distributed latency (mean
10 ms); on delivery the receiving node sends one new message to a uniformly
random node; stop after `deliveries` deliveries.

Each message in flight is one SimPy process: it waits `env.timeout(latency)`,
is "delivered" (counted at its receiver), and then becomes the receiver's new
message to a random node (the next loop iteration). That is the idiomatic and
cheapest process-based way to write it in SimPy: one Timeout event, one heap
push and pop and one generator resume per delivery.

Prints one line:
  simpy nodes=100 inflight=1000 deliveries=1000000 events_per_s=... ns_per_event=...
        cpu_events_per_s=... maxrss_kb=...
`events_per_s` is over wall time, `cpu_events_per_s` over the time this
thread was on a CPU (`time.thread_time`), which other load on the machine
does not inflate. Peak memory is `resource.getrusage(RUSAGE_SELF).ru_maxrss` (KiB on Linux).
"""

import argparse
import random
import resource
import time

import simpy


def run(nodes, inflight, deliveries, seed, mean_ms):
    env = simpy.Environment()
    rng = random.Random(seed)
    rate = 1.0 / mean_ms  # virtual time unit: 1 ms
    received = [0] * nodes
    delivered = [0]
    done = env.event()
    timeout = env.timeout
    expovariate = rng.expovariate
    randrange = rng.randrange

    def message(to):
        while True:
            yield timeout(expovariate(rate))
            # Delivered to `to`, which sends one new message to a random node.
            received[to] += 1
            delivered[0] += 1
            if delivered[0] >= deliveries:
                if not done.triggered:
                    done.succeed()
                return
            to = randrange(nodes)

    for _ in range(inflight):
        env.process(message(randrange(nodes)))
    start, cpu_start = time.perf_counter(), time.thread_time()
    env.run(until=done)
    elapsed = time.perf_counter() - start
    cpu = time.thread_time() - cpu_start
    assert delivered[0] == deliveries, delivered[0]
    assert sum(received) == deliveries
    return elapsed, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--inflight", type=int, default=1_000)
    ap.add_argument("--deliveries", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mean-ms", type=float, default=10.0)
    a = ap.parse_args()
    elapsed, cpu = run(a.nodes, a.inflight, a.deliveries, a.seed, a.mean_ms)
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"simpy nodes={a.nodes} inflight={a.inflight} deliveries={a.deliveries} "
        f"events_per_s={a.deliveries / elapsed:.0f} "
        f"ns_per_event={elapsed * 1e9 / a.deliveries:.1f} "
        f"cpu_events_per_s={a.deliveries / cpu:.0f} maxrss_kb={maxrss_kb}"
    )


if __name__ == "__main__":
    main()
