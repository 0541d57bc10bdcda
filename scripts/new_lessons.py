#!/usr/bin/env python3
"""Start a folder of your own lessons: ``bash scripts/lab.sh --new DIR`` calls this.

Usage:
    python3 scripts/new_lessons.py DIR

Creates DIR (if needed) and, unless it exists, ``DIR/00-my-lesson.ipynb``: a
notebook whose first cell loads this checkout's crate by its absolute path, so
the lesson runs wherever DIR is. Open it with ``bash scripts/lab.sh DIR``: its
kernels then build with the same settings as the project's notebooks (the
crate and its dependencies at opt-level 2, cells at 0, a kept, warm build
folder), and ``python3 scripts/run_notebooks.py DIR/*.ipynb`` runs it headless
the same way. Prints the notebook's path.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parent.parent

INTRO = """# My lesson

A notebook of your own on the `thinkdist` crate. Run all cells once (*Run → Run All Cells*); then
edit a cell and rerun it.

Before you write cells, the kernel's traps (the README's *Writing cells* section has them all):
* **Do not press the interrupt button** (■): evcxr kills the kernel's process, even when it is idle,
  and every variable is gone (`Subprocess terminated with status: signal: 9`). The way back:
  *Run → Run All Above Selected Cell*. Runs are bounded by the crate (an event budget), so a cell
  ends on its own with an error if it would run too long.
* Write integer parameters with their type (`let seed: u64 = 1;`): an untyped literal is an `i32`.
* A value kept between cells cannot hold a reference (`&T` with a lifetime): keep owned values.
* End a cell with the value to show (a `Figure`, a `Table`), not with `expr?` or a `for` loop."""

LOAD = ':dep thinkdist = {{ path = "{path}" }}\nuse thinkdist::prelude::*;'

EXAMPLE_TEXT = """## A first run

A node that answers pings over a lossy network, and the run as a message diagram."""

EXAMPLE = """#[derive(Clone, Default)]
struct Echo;
impl Node for Echo {
    type Msg = u64;
    type Timer = ();
    type Disk = ();
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, n: u64) {
        if from != EXTERNAL { ctx.send(from, n + 1); }
    }
}
let link = LinkConfig::new(Latency::exponential(ms(5))?).loss(0.1);
let mut sim = Sim::builder().seed(13).link(link).build(vec![Echo, Echo])?;
sim.with_node(0, |_, ctx| ctx.send(1, 0))?;
sim.run_for(ms(100))?;"""

DIAGRAM = """let lanes = vec!["node 0".to_string(), "node 1".to_string()];
let diagram = SequenceDiagram::from_trace(sim.trace(), &lanes, sim.now());
let fig = sequence_diagram(&diagram, Opts::new("Ping-pong until a loss ends it"))?;
fig"""


def lesson() -> dict:
    """The starter notebook, loading this checkout's crate."""
    chart = new_code_cell(DIAGRAM)
    chart.metadata["tags"] = ["chart"]
    nb = new_notebook(cells=[
        new_markdown_cell(INTRO),
        new_code_cell(LOAD.format(path=REPO.as_posix())),
        new_markdown_cell(EXAMPLE_TEXT),
        new_code_cell(EXAMPLE),
        chart,
    ])
    nb.metadata["kernelspec"] = {"display_name": "Rust", "language": "rust", "name": "rust"}
    nb.metadata["language_info"] = {"name": "Rust", "file_extension": ".rs",
                                    "mimetype": "text/rust"}
    return nb


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    folder = Path(argv[0]).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "00-my-lesson.ipynb"
    if not path.exists():
        nbformat.write(lesson(), path)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
