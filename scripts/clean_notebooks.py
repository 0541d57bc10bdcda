#!/usr/bin/env python3
"""Strip outputs and execution counts from notebooks, in place, before a commit.

Usage:
    python3 scripts/clean_notebooks.py            # every notebooks/*.ipynb
    python3 scripts/clean_notebooks.py FILE ...   # just these
    python3 scripts/clean_notebooks.py --stdin    # a git clean filter: stdin -> stdout

``scripts/setup.sh`` installs the third form as the git filter ``nbclean``
(``.gitattributes`` applies it to ``notebooks/*.ipynb``): JupyterLab saves
outputs into the notebooks as a reader works, and git then stores, diffs and
commits them without outputs, while the reader's copy keeps them.

Cell tags (``chart``, ``allow-stderr``, ...) and other metadata are kept; only
outputs, execution counts and nbclient's per-cell ``execution`` timing metadata
are removed. A notebook that is already clean is not rewritten.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent


def clean(nb) -> bool:
    """Strip outputs, execution counts and timing metadata; return True if anything changed."""
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            cell.outputs = []
            cell.execution_count = None
            changed = True
        if "execution" in cell.get("metadata", {}):
            del cell.metadata["execution"]
            changed = True
    return changed


def filter_stdin() -> int:
    """Read a notebook on stdin and write it cleaned to stdout (a notebook that
    is already clean, or is not a notebook, goes through byte for byte)."""
    data = sys.stdin.buffer.read()
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception:  # not a notebook git should touch: pass it through
        sys.stdout.buffer.write(data)
        return 0
    if clean(nb):
        sys.stdout.write(nbformat.writes(nb) + "\n")
    else:
        sys.stdout.buffer.write(data)
    return 0


def main(argv: list[str]) -> int:
    """Clean the given notebooks (default notebooks/*.ipynb); print what changed."""
    if argv == ["--stdin"]:
        return filter_stdin()
    paths = [Path(a) for a in argv] or sorted((REPO / "notebooks").glob("*.ipynb"))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if clean(nb):
            nbformat.write(nb, path)
            print(f"cleaned {path}")
    print(f"{len(paths)} notebook(s) checked")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
