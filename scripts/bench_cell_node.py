#!/usr/bin/env python3
"""A node written in a notebook cell, measured in a real evcxr kernel.

Usage: python3 scripts/bench_cell_node.py [--reps 2]

Writes ``build/cell_node_bench.ipynb``: a cell that defines the 100-line
node of ``benches/engine/cell_node.rs`` (the text between its ``CELL``
markers) and runs it on the erased engine (``Builder::build_erased``), a cell
that runs it again (the run alone), and a cell that runs it the old way,
``Sim<Gossiper>`` instantiated in the cell. Cells compile at the kernel's
default ``:opt 0`` (``scripts/evcxr/init.evcxr``); the crate at opt-level 2.
Runs it with ``scripts/run_notebooks.py`` and prints, per cell, its wall
time (nbclient's timing metadata, from ``build/executed/timings.json``), the
run's wall and on-CPU time, and the on-CPU ns/event. A cell's compile time
is its wall time minus its run's wall time.

The same node compiled in the crate (optimised): ``cargo bench --bench engine
-- erased`` (same workload: 2,000 nodes, fanout 2, 50 rounds, 600 ms, seed 1).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
NODE = REPO / "benches" / "engine" / "cell_node.rs"
NB = REPO / "build" / "cell_node_bench.ipynb"

CPU = """fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}
"""

RUN = """{
    let b = Sim::builder().seed(1).link(LinkConfig::new(Latency::exponential(ms(5))?));
    let mut sim = b.BUILD(vec![Gossiper::new(2, 50); 2_000])?;
    let (w0, c0) = (std::time::Instant::now(), cpu_secs());
    sim.run_for(ms(600))?;
    let (wall, cpu) = (w0.elapsed().as_secs_f64(), cpu_secs() - c0);
    let ev = sim.events_processed();
    println!("LABEL events={ev} run_wall_s={wall:.3} run_cpu_s={cpu:.3} ns_per_event={:.1}", cpu * 1e9 / ev as f64);
    ev
}
"""


def node_text() -> str:
    """The node's source, between the CELL markers."""
    text = NODE.read_text()
    m = re.search(r"// CELL BEGIN\n(.*)// CELL END", text, re.S)
    if not m:
        sys.exit(f"no CELL markers in {NODE}")
    return m.group(1)


def notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Rust", "language": "rust", "name": "rust"}
    cells = [
        ':dep thinkdist = { path = ".." }\nuse thinkdist::prelude::*;',
        CPU + "0",
        node_text() + RUN.replace("BUILD", "build_erased").replace("LABEL", "erased-first"),
        RUN.replace("BUILD", "build_erased").replace("LABEL", "erased-again"),
        RUN.replace("BUILD", "build").replace("LABEL", "direct-in-cell"),
    ]
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    for i, c in enumerate(nb.cells):
        c["id"] = f"cell-{i}"
    return nb


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=2, help="runs of the notebook (fresh kernels)")
    args = p.parse_args()
    NB.parent.mkdir(exist_ok=True)
    NB.write_text(nbformat.writes(notebook()) + "\n")
    for rep in range(args.reps):
        r = subprocess.run([sys.executable, str(REPO / "scripts" / "run_notebooks.py"), str(NB),
                            "--timeout", "1800"],
                           cwd=REPO, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(r.stdout + r.stderr)
        timings = json.loads((REPO / "build" / "executed" / "timings.json").read_text())
        cells = timings[NB.name]["cells"]
        executed = nbformat.read(REPO / "build" / "executed" / NB.name, as_version=4)
        for i, cell in enumerate(executed.cells):
            text = "".join(o.get("text", "") for o in cell.get("outputs", []))
            m = re.search(r"^(\S+) events=\d+ run_wall_s=([\d.]+) .*$", text, re.M)
            if m:
                wall = float(cells[str(i)])
                print(f"run {rep + 1}: {m.group(0)} cell_wall_s={wall:.2f} "
                      f"compile_s={wall - float(m.group(2)):.2f}")


if __name__ == "__main__":
    main()
