#!/usr/bin/env python3
"""What a node written in a notebook cell costs: compile time and run time.

Runs notebook 01's gossip node (the "Your own node" section, taken from the
notebook itself so the figures follow its code) in a fresh evcxr kernel, once
at the kernel's default ``:opt 0`` and once after ``:opt 1``, and prints:

* compile: the cell that defines the node and its run function (evcxr compiles
  a cell's items when it runs the cell; this cell runs nothing);
* run: the cell that runs the sweep (6 fanouts x 20 seeds on 10,000 nodes),
  which compiles only a few lines and then simulates.

Wall-clock seconds: close other work first (the load average is printed with
the figures). Usage: ``python3 scripts/bench_cells.py`` (after setup; the
first kernel start in a fresh build folder compiles the crate for minutes,
which is left out: a warm-up cell loads the crate first).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_notebooks import KERNEL_NAME, REPO, kernel_env, prepare_tmpdir  # noqa: E402

NOTEBOOK = REPO / "notebooks" / "01-thinking-in-distributed-systems.ipynb"
SPLIT = "// 20 seeds per fanout"


def gossip_cells() -> tuple[str, str, str]:
    """The notebook's load cell, the gossip definitions, and the sweep."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    gossip = next(s for s in code if "struct Gossip" in s)
    if SPLIT not in gossip:
        sys.exit(f"notebook 01's gossip cell no longer contains {SPLIT!r}: update {__file__}")
    defs, sweep = gossip.split(SPLIT, 1)
    return code[0], defs, SPLIT + sweep + "\ngossip.len()"


def main() -> int:
    load, defs, sweep = gossip_cells()
    cells = [load, defs, sweep, ":opt 1", defs, sweep]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    times: dict[int, float] = {}
    started = [0.0]

    def on_execute(cell, cell_index) -> None:
        started[0] = time.monotonic()

    def on_executed(cell, cell_index, execute_reply) -> None:
        times[cell_index] = time.monotonic() - started[0]
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" or out.get("name") == "stderr":
                text = out.get("text") or "\n".join(out.get("traceback", []))
                sys.exit(f"cell {cell_index} failed:\n{text[-2000:]}")

    tmpdir = REPO / "build" / "evcxr-tmp"
    prepare_tmpdir(tmpdir)
    os.environ.update(kernel_env(tmpdir))
    client = NotebookClient(
        nb, timeout=1800, kernel_name=KERNEL_NAME, startup_timeout=120,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
        on_cell_execute=on_execute, on_cell_executed=on_executed,
    )
    before = os.getloadavg()[0]
    client.execute()
    after = os.getloadavg()[0]
    print("notebook 01's gossip node, defined in a cell (wall-clock seconds)")
    print(f"{'':10}{'compile':>10}{'run':>10}{'total':>10}")
    for name, (c, r) in (("opt 0", (1, 2)), ("opt 1", (4, 5))):
        print(f"{name:10}{times[c]:>10.1f}{times[r]:>10.1f}{times[c] + times[r]:>10.1f}")
    print(f"load average {before:.1f} before, {after:.1f} after, on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
