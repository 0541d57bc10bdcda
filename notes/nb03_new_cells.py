#!/usr/bin/env python3
"""Appends two experiments to notebook 03 (failure tolerance): transient,
intermittent and permanent failures against retries, and backward against
forward recovery of a multi-step operation.

Usage: python3 notes/nb03_new_cells.py notebooks/03-failure-tolerance.ipynb

The cells go before the notebook's closing "## Export" section (or at the
end if it has none). They rely only on `seed`, `charts` and the prelude
(`ms`, `Result`), so they survive edits to the parameter cell. Running the
script twice does nothing the second time (the cells carry the metadata key
`nb03_new_cells`). The model code is `thinkdist::ch03::failure_kinds` and
`thinkdist::ch03::recovery` (tests: tests/ch03_experiments.rs).
"""

import sys

import nbformat

MARK = "nb03_new_cells"


def md(text):
    c = nbformat.v4.new_markdown_cell(text)
    c.metadata[MARK] = True
    return c


def code(text, chart=False):
    c = nbformat.v4.new_code_cell(text)
    c.metadata[MARK] = True
    if chart:
        c.metadata["tags"] = ["chart"]
    return c


CELLS = [
    md("""## Transient, intermittent and permanent failures

*Question: when does retrying help?* Three dependencies each fail 30 % of first attempts, for
different reasons:

* **transient**: each attempt fails on its own, independently of the others (a dropped packet, a lost
  race);
* **intermittent**: the dependency is down for a while, 300 ms on average, then up for 700 ms on
  average (a flapping link, a restarting process); an attempt fails while it is down;
* **permanent**: 30 % of the requests can never succeed (bad input, a missing permission, a bug).

A request is retried up to 6 times, 100 ms apart. After `r` retries a transient failure remains with
probability `0.3^(r+1)`. For the intermittent one the attempts form a two-state Markov chain: the first
finds the dependency down with probability `π_d = 0.3`, each retry `s` later finds it still (or again)
down with `P_dd(s) = π_d + (1 − π_d)·e^(−s (1/700 ms + 1/300 ms))`, so `π_d · P_dd(s)^r` remain. A
permanent failure stays at 30 %. The y axis is logarithmic: a geometric decay is a straight line."""),
    code("""use thinkdist::ch03::failure_kinds::{FailureKind, FailureKinds};
let kinds = FailureKind::same_first_failure(0.3, ms(300))?;
let kinds_exp = FailureKinds { seed, delay: ms(100), ..Default::default() };
let kind_curves = kinds_exp.run(&kinds)?;
kinds_exp.table(&kind_curves)"""),
    code("""charts.keep("failure-kinds-retries", &kinds_exp.chart(&kind_curves)?)""", chart=True),
    md("""**What to see.** All three start at 30 %. Retries crush the transient failure (about 0.03 % of
requests still fail after 6 retries, a straight line on the log axis), help the intermittent one only
slowly (about 5 % still fail: retries 100 ms apart mostly land in the same outage), and do nothing against the permanent one except
multiply the load: the table's last column counts the attempts each request costs the dependency.
Before retrying, ask which kind of failure it was: a permanent error (HTTP 400, 403) should not be
retried at all.

**Try this.** Set `delay: ms(1000)` in `kinds_exp`: retries now come longer apart than the outages
last, each one finds a nearly fresh state, and the intermittent curve drops almost onto the transient
one (about 3 % still failing after 2 retries, against 16 % at 100 ms)."""),
    md("""## Backward and forward recovery

*Question: an operation of several steps fails midway; undo it or push it through?* An operation has
5 steps (a saga: reserve, charge, ship, ...), each taking 20 ms on average (exponential), and each step
attempt fails with probability `p`, transiently. **Backward recovery** undoes: at the first failure it
runs the compensation of every completed step, in reverse order, and the operation is aborted.
**Forward recovery** retries the failed step (up to 3 retries, 50 ms apart) and continues; only a step
still failing after its retries is compensated. Closed forms (dashed): backward completes `(1 − p)^5`
of the operations, forward `(1 − p^4)^5`; a completed operation takes `5 L` with backward recovery and
`5 (E[A]·L + (E[A] − 1)·50 ms)` with forward, where `A` is a step's attempts given that it succeeds
(module `thinkdist::ch03::recovery`)."""),
    code("""use thinkdist::ch03::recovery::Recovery;
let step_failures: Vec<f64> = vec![0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5];
let recovery = Recovery { seed, ..Default::default() };
let rec = recovery.run(&step_failures)?;
rec.table()"""),
    code("""charts.keep("recovery-completion", &rec.completion_chart()?)""", chart=True),
    code("""charts.keep("recovery-latency", &rec.latency_chart()?)""", chart=True),
    md("""**What to see.** Without failures the two strategies are the same (their points at 0 % coincide). With
30 % of step attempts failing, backward recovery completes only about 17 % of the operations (`0.7^5`)
and forward recovery about 96 %. Forward recovery pays in time: each retry
costs a wait and another attempt, so a completed operation takes about 240 ms instead of 100 ms. Backward
recovery is the right answer when the failure will not go away or the operation must not wait; forward
recovery when the failure is transient and the work is worth finishing.

**Try this.** Set `permanent: 0.1` in `recovery` (one operation in ten has a step that always fails,
say a declined card): both strategies now complete one operation in ten fewer, and forward recovery spends
its retries in vain before the same compensation, so at 30 % its aborted operations take about five
times longer than backward recovery's (column "aborted: mean ms")."""),
]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    nb = nbformat.read(path, as_version=4)
    if any(c.metadata.get(MARK) for c in nb.cells):
        print(f"{path}: cells already there, nothing to do")
        return
    at = len(nb.cells)
    for i, c in enumerate(nb.cells):
        if c.cell_type == "markdown" and c.source.lstrip().startswith("## Export"):
            at = i
            break
    nb.cells[at:at] = CELLS
    nbformat.write(nb, path)
    print(f"{path}: {len(CELLS)} cells inserted before cell {at}")


if __name__ == "__main__":
    main()
