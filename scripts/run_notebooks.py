#!/usr/bin/env python3
"""Headless runner for the thinkdist notebooks (evcxr Rust kernel).

Usage:
    python3 scripts/run_notebooks.py [NOTEBOOK ...] [--timeout SECONDS]
        [--out build/executed] [--tmpdir build/evcxr-tmp] [--charts-check]

With no NOTEBOOK arguments it runs every ``notebooks/[0-9][0-9]-*.ipynb`` in
sorted order, one at a time, with the kernel ``rust``, in the notebook's own
folder. The executed copy goes to ``<out>/<name>.ipynb``; the notebooks
themselves are never modified.

An evcxr kernel reports a panic as a *successful* cell (the backtrace goes to
stderr), so a notebook fails on any of:

* an output of type ``error`` (compile error, kernel-side error);
* a ``stderr`` stream, unless the cell carries the tag ``allow-stderr``;
* a cell tagged ``chart`` without an ``image/png`` or ``image/svg+xml`` output;
* a cell whose value shows as a ``Debug`` dump (``Table { headers: …``, plain
  text only) instead of its table or chart: evcxr does that to a cell ending in
  ``expr?``; end it with ``let t = expr?;`` and ``t`` instead;
* a cell whose only value is ``()`` (a cell ending in a ``for`` loop or a
  call returning nothing): end it with ``;`` or a value worth showing;
* a cell timeout or a dead kernel;
* a notebook with no cells, or one committed with outputs.

With ``--twice`` every notebook runs a second time, in a fresh kernel, and
fails unless every cell shows the same outputs both times (same text, same
image bytes; sweep progress lines, which report wall-clock time, are left out
of the comparison): same seed, same results.

Execution of a notebook stops at its first failing cell. The last line printed
is always ``N passed, M failed``; the exit status is non-zero if M > 0 or if
no notebook was found.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slide_rules  # noqa: E402  (scripts/slide_rules.py, beside this file)

REPO = Path(__file__).resolve().parent.parent
KERNEL_NAME = "rust"
IMAGE_MIMES = ("image/png", "image/svg+xml")
MAX_LINES = 15
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Failure:
    """One reason a notebook failed, located at a cell (or None for the notebook)."""

    reason: str
    cell_index: int | None = None
    first_line: str = ""
    text: str = ""

    def render(self) -> str:
        """Format the failure for the console: location, reason, offending text."""
        where = "notebook" if self.cell_index is None else f"cell #{self.cell_index}"
        head = f"  {where}: {self.reason}"
        if self.first_line:
            head += f"\n    source: {self.first_line}"
        if self.text:
            head += "\n" + "\n".join("    | " + line for line in truncate(self.text).splitlines())
        return head


@dataclass
class Result:
    """Outcome of running one notebook."""

    name: str
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    cell_times: list[tuple[int, float]] = field(default_factory=list)
    code_cells: int = 0
    charts: int = 0

    @property
    def passed(self) -> bool:
        """True when the notebook ran without any failure."""
        return not self.failures


class CellFailed(Exception):
    """Raised from the nbclient hook to stop a notebook at its first failing cell."""


# ---------------------------------------------------------------------------
# Pure checks (no kernel needed; unit-tested in tests/runner/test_runner.py)
# ---------------------------------------------------------------------------


def truncate(text: str, max_lines: int = MAX_LINES) -> str:
    """Strip ANSI colour codes and keep at most ``max_lines`` lines of ``text``."""
    lines = ANSI_ESCAPE.sub("", text).strip("\n").splitlines()
    if len(lines) > max_lines:
        hidden = len(lines) - max_lines
        lines = lines[:max_lines] + [f"... ({hidden} more lines)"]
    return "\n".join(lines)


def as_text(value: str | list[str]) -> str:
    """Join a notebook multiline string (str or list of str) into one str."""
    return value if isinstance(value, str) else "".join(value)


def first_line(cell: dict) -> str:
    """First non-blank line of a cell's source, for reports."""
    for line in as_text(cell.get("source", "")).splitlines():
        if line.strip():
            return line.strip()[:120]
    return ""


def cell_tags(cell: dict) -> list[str]:
    """The cell's metadata tags (empty list when none)."""
    return list(cell.get("metadata", {}).get("tags", []))


def has_image(cell: dict) -> bool:
    """True when a display_data/execute_result output carries a PNG or SVG image."""
    for out in cell.get("outputs", []):
        if out.get("output_type") in ("display_data", "execute_result"):
            if any(mime in out.get("data", {}) for mime in IMAGE_MIMES):
                return True
    return False


# `Name { field: …` or `Name(…`: how `{:?}` prints a struct or a tuple struct.
DEBUG_DUMP = re.compile(r"^[A-Z][A-Za-z0-9_]*(<[^>]*>)? ?[{(]")


def debug_dump(cell: dict) -> str | None:
    """The text of a value shown only as plain text that reads as a Debug dump."""
    for out in cell.get("outputs", []):
        if out.get("output_type") in ("display_data", "execute_result"):
            data = out.get("data", {})
            text = as_text(data.get("text/plain", ""))
            if set(data) == {"text/plain"} and DEBUG_DUMP.match(text.strip()):
                return text
    return None


def unit_value(cell: dict) -> bool:
    """True when the cell's value is ``()``: noise a reader cannot use."""
    for out in cell.get("outputs", []):
        if out.get("output_type") in ("display_data", "execute_result"):
            data = out.get("data", {})
            if set(data) == {"text/plain"} and as_text(data["text/plain"]).strip() == "()":
                return True
    return False


def check_cell(cell: dict, index: int) -> list[Failure]:
    """Failures of one executed code cell: errors, stderr, missing chart."""
    if cell.get("cell_type") != "code":
        return []
    tags = cell_tags(cell)
    src = first_line(cell)
    failures = []
    stderr = ""
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "error":
            text = "\n".join(out.get("traceback") or []) or f"{out.get('ename')}: {out.get('evalue')}"
            failures.append(Failure("error output", index, src, text))
        elif kind == "stream" and out.get("name") == "stderr":
            stderr += as_text(out.get("text", ""))
    if stderr and "allow-stderr" not in tags:
        failures.append(Failure("output on stderr (a panic? tag the cell allow-stderr if expected)",
                                index, src, stderr))
    dump = debug_dump(cell)
    if dump is not None:
        failures.append(Failure("the cell's value shows as a Debug dump, not as its table or chart "
                                "(a final `expr?`: write `let t = expr?;` then `t`)",
                                index, src, dump))
    if unit_value(cell):
        failures.append(Failure("the cell shows `()` (it ends in a `for` loop or a call that returns "
                                "nothing): end it with `;`", index, src, "()"))
    if "chart" in tags and not has_image(cell):
        failures.append(Failure("cell tagged chart has no image/png or image/svg+xml output",
                                index, src))
    return failures


def check_clean(nb: dict) -> list[Failure]:
    """Failures of a notebook *before* execution: no cells, or committed with outputs."""
    cells = nb.get("cells", [])
    if not cells:
        return [Failure("notebook contains no cells")]
    dirty = [i for i, c in enumerate(cells)
             if c.get("cell_type") == "code" and (c.get("outputs") or c.get("execution_count"))]
    if dirty:
        return [Failure("committed with outputs (run python3 scripts/clean_notebooks.py)",
                        dirty[0], first_line(cells[dirty[0]]),
                        f"cells with outputs or execution counts: {dirty}")]
    return []


def committed_version(path: Path, working: dict) -> dict:
    """The notebook as git stores it (the index), if git tracks it: with the
    ``nbclean`` filter (scripts/setup.sh) a reader's working copy holds the
    outputs JupyterLab saved while git stores it clean. Otherwise the file."""
    try:
        rel = path.resolve().relative_to(REPO)
        blob = subprocess.run(["git", "-C", str(REPO), "show", f":{rel.as_posix()}"],
                              capture_output=True, check=True).stdout
        return nbformat.reads(blob.decode("utf-8"), as_version=4)
    except (ValueError, OSError, subprocess.CalledProcessError, UnicodeDecodeError):
        return working
    except Exception:  # an unreadable index blob: judge the file itself
        return working


def strip_outputs(nb: dict) -> None:
    """Empty every code cell's outputs and execution count, in memory."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None


def check_notebook(nb: dict) -> list[Failure]:
    """All failures of an executed notebook (every code cell checked)."""
    if not nb.get("cells"):
        return [Failure("notebook contains no cells")]
    failures = []
    for index, cell in enumerate(nb["cells"]):
        failures.extend(check_cell(cell, index))
    return failures


PROGRESS_LINE = re.compile(r"^(sweep|explore): .*(elapsed|left).*$", re.MULTILINE)


def cell_outputs(cell: dict) -> list:
    """What a code cell showed, normalised for comparing two runs: output
    types, MIME bundles and stream text, without execution counts, metadata
    or wall-clock progress lines."""
    shown = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            text = PROGRESS_LINE.sub("", as_text(out.get("text", "")))
            shown.append((kind, out.get("name"), text.strip("\n")))
        elif kind in ("display_data", "execute_result"):
            data = out.get("data", {})
            shown.append((kind, sorted((k, as_text(v)) for k, v in data.items())))
        else:
            shown.append((kind, out.get("ename"), out.get("evalue")))
    return shown


def compare_runs(first: dict, second: dict) -> list[Failure]:
    """--twice: a failure for the first code cell whose outputs differ."""
    a, b = first.get("cells", []), second.get("cells", [])
    for index, (x, y) in enumerate(zip(a, b)):
        if x.get("cell_type") != "code":
            continue
        if cell_outputs(x) != cell_outputs(y):
            return [Failure("--twice: the second run shows different outputs (not deterministic)",
                            index, first_line(x))]
    if len(a) != len(b):
        return [Failure("--twice: the two runs have different numbers of cells")]
    return []


def count_charts(nb: dict) -> int:
    """Number of code cells that produced an image."""
    return sum(1 for c in nb.get("cells", []) if c.get("cell_type") == "code" and has_image(c))


def metadata_seconds(cell: dict) -> float | None:
    """Cell wall time from nbclient's ``record_timing`` metadata, or None if absent."""
    meta = cell.get("metadata", {}).get("execution", {})
    starts = [meta[k] for k in ("iopub.status.busy", "shell.execute_reply.started",
                                "iopub.execute_input") if k in meta]
    ends = [meta[k] for k in ("shell.execute_reply", "iopub.status.idle") if k in meta]
    if not starts or not ends:
        return None
    try:
        start = min(dt.datetime.fromisoformat(s.replace("Z", "+00:00")) for s in starts)
        end = max(dt.datetime.fromisoformat(e.replace("Z", "+00:00")) for e in ends)
    except (TypeError, ValueError):
        return None
    return max(0.0, (end - start).total_seconds())


def summary_line(result: Result) -> str:
    """The one-line PASS/FAIL summary of a notebook."""
    status = "PASS" if result.passed else "FAIL"
    detail = f"cells: {result.code_cells}, charts: {result.charts}"
    if result.cell_times:
        index, secs = max(result.cell_times, key=lambda item: item[1])
        detail += f", slowest cell #{index} {secs:.1f}s"
    return f"{status} {result.name} {result.seconds:.1f}s ({detail})"


# ---------------------------------------------------------------------------
# Execution
# ---------------------------------------------------------------------------


class Timer:
    """nbclient hooks: wall time per cell, fail-fast check, current cell index."""

    def __init__(self) -> None:
        self.current: int | None = None
        self.started = 0.0
        self.times: dict[int, float] = {}

    def on_cell_execute(self, cell, cell_index) -> None:
        """Remember which cell is running and when it started."""
        self.current = cell_index
        self.started = time.monotonic()

    def on_cell_executed(self, cell, cell_index, execute_reply) -> None:
        """Record the time, then stop the notebook if the cell failed a check."""
        self.times[cell_index] = time.monotonic() - self.started
        if check_cell(cell, cell_index):
            raise CellFailed(cell_index)


def kernel_env(tmpdir: Path) -> dict[str, str]:
    """Environment variables the evcxr kernel inherits from this process.

    The kernel builds in ``<tmpdir>/evcxr`` (kept between runs: the warm
    cache), under ``<tmpdir>/.cargo/config.toml`` written by
    :func:`prepare_tmpdir`.
    """
    env = {
        "EVCXR_CONFIG_DIR": str(REPO / "scripts" / "evcxr"),
        "EVCXR_TMPDIR": str(tmpdir / "evcxr"),
    }
    libdir = rust_target_libdir()
    if libdir:
        old = os.environ.get("LD_LIBRARY_PATH", "")
        env["LD_LIBRARY_PATH"] = libdir + (":" + old if old else "")
    return env


def rust_target_libdir() -> str | None:
    """The toolchain folder holding libstd-*.so, which every cell links to.

    rustc writes the cell library's RUNPATH relative to ``target/.../deps``,
    but evcxr loads the copy one folder up, so the relative path is one
    ``..`` too long. From a build folder outside the toolchain's parent (say
    /tmp) the extra ``..`` stops at ``/`` and the path still resolves; from a
    build folder under the same home as ``~/.rustup`` (a clone in your home
    folder) it does not, and the kernel dies at its first cell with "dlopen
    failed". Putting the folder on LD_LIBRARY_PATH makes both work.
    """
    import subprocess
    try:
        out = subprocess.run(["rustc", "--print", "target-libdir"], capture_output=True,
                             text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    path = out.stdout.strip()
    return path if out.returncode == 0 and path else None


def prepare_tmpdir(tmpdir: Path) -> None:
    """Create the kernel's build folder and the cargo settings that apply to it.

    ``scripts/evcxr/cargo-config.toml`` (dependencies at opt-level 2 while
    cells use init.evcxr's ``:opt 0``; see the file for the measurements) goes to ``<tmpdir>/.cargo/config.toml``: an
    ancestor of the build folder, where cargo looks for configuration, and not
    the build folder itself, whose ``.cargo/config.toml`` evcxr rewrites.
    """
    (tmpdir / "evcxr").mkdir(parents=True, exist_ok=True)
    (tmpdir / ".cargo").mkdir(exist_ok=True)
    template = REPO / "scripts" / "evcxr" / "cargo-config.toml"
    (tmpdir / ".cargo" / "config.toml").write_text(template.read_text())


def execute(path: Path, timeout: int, tmpdir: Path, log_path: Path) -> tuple[dict, Result]:
    """Run one notebook; return the (partially) executed notebook and its Result.

    The kernel process's own stdout/stderr (evcxr start-up chatter, crashes) go
    to ``log_path``; cell outputs are in the returned notebook.
    """
    result = Result(path.name)
    nb = nbformat.read(path, as_version=4)
    result.code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    result.failures = check_clean(committed_version(path, nb))
    if result.failures:
        return nb, result
    strip_outputs(nb)  # a reader's saved outputs never count as this run's
    timer = Timer()
    client = NotebookClient(
        nb, timeout=timeout, kernel_name=KERNEL_NAME, allow_errors=True,
        record_timing=True, startup_timeout=120,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_execute=timer.on_cell_execute, on_cell_executed=timer.on_cell_executed,
    )
    os.environ.update(kernel_env(tmpdir))
    start = time.monotonic()
    try:
        with open(log_path, "w") as log:  # the kernel's own stdout/stderr, for debugging
            client.execute(stdout=log, stderr=log)
    except CellFailed:
        pass  # reported by check_notebook below
    except CellTimeoutError:
        result.failures.append(cell_failure(nb, timer.current, f"cell timed out after {timeout}s"))
    except DeadKernelError as exc:
        failure = cell_failure(nb, timer.current, f"kernel died: {exc} (log: {log_path})")
        failure.text = log_path.read_text(errors="replace")[-4000:]
        result.failures.append(failure)
    except Exception as exc:  # kernel failed to start, protocol error, ...
        result.failures.append(cell_failure(nb, timer.current,
                                            f"{type(exc).__name__}: {truncate(str(exc))}"))
    result.seconds = time.monotonic() - start
    result.failures = check_notebook(nb) + result.failures
    result.charts = count_charts(nb)
    result.cell_times = cell_times(nb, timer.times)
    return nb, result


def cell_failure(nb, index: int | None, reason: str) -> Failure:
    """A Failure located at cell ``index`` (which may be None)."""
    src = first_line(nb.cells[index]) if index is not None else ""
    return Failure(reason, index, src)


def cell_times(nb, measured: dict[int, float]) -> list[tuple[int, float]]:
    """Per-cell seconds: execution metadata when present, else the hook's wall time."""
    times = []
    for index, secs in sorted(measured.items()):
        from_meta = metadata_seconds(nb.cells[index])
        times.append((index, from_meta if from_meta is not None else secs))
    return times


def find_notebooks(args: list[str]) -> list[Path]:
    """Notebook paths from the command line, or all chapter notebooks in sorted order."""
    if args:
        return [Path(a).resolve() for a in args]
    return sorted((REPO / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def acquire_lock(tmpdir: Path):
    """Hold an exclusive lock on ``<tmpdir>.lock``; exit with a message if it is taken."""
    lock_path = tmpdir.with_name(tmpdir.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"error: {lock_path} is locked: another run_notebooks.py is using {tmpdir}.\n"
              f"Wait for it to finish, or pass a different --tmpdir.", file=sys.stderr)
        sys.exit(2)
    return handle


def charts_written(since: float) -> list[Path]:
    """Files under <repo>/charts modified at or after ``since`` (a time.time())."""
    charts = REPO / "charts"
    if not charts.is_dir():
        return []
    return [p for p in charts.rglob("*") if p.is_file() and p.stat().st_mtime >= since - 1]


def check_charts_exported(nb: dict, since: float) -> list[Failure]:
    """--charts-check: a chart cell, files under charts/, and the slide rules on them."""
    failures = []
    if not any("chart" in cell_tags(c) for c in nb.get("cells", [])):
        failures.append(Failure("--charts-check: no cell tagged chart"))
    written = charts_written(since)
    if not written:
        failures.append(Failure("--charts-check: notebook wrote no file under charts/"))
    failures += [Failure(f"--charts-check: {p}") for p in slide_rules.check_charts(written)]
    return failures


def write_timings(out: Path, results: list[Result]) -> None:
    """Merge this run's per-cell times into ``<out>/timings.json``."""
    path = out / "timings.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    for r in results:
        data[r.name] = {
            "status": "pass" if r.passed else "fail",
            "seconds": round(r.seconds, 3),
            "cells": {str(i): round(s, 3) for i, s in r.cell_times},
        }
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/NN-*.ipynb)")
    p.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    p.add_argument("--out", type=Path, default=REPO / "build" / "executed",
                   help="where executed copies and timings.json go (default build/executed)")
    p.add_argument("--tmpdir", type=Path, default=REPO / "build" / "evcxr-tmp",
                   help="the kernels' build folder, kept between runs so that they are warm; "
                        "evcxr builds in <tmpdir>/evcxr (default build/evcxr-tmp)")
    p.add_argument("--charts-check", action="store_true",
                   help="also fail a notebook with no chart cell, that wrote nothing under charts/, "
                        "or whose charts break the slide rules (scripts/slide_rules.py)")
    p.add_argument("--twice", action="store_true",
                   help="run every notebook twice and fail if any cell's outputs differ")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the notebooks, print a report, return the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    paths = find_notebooks(args.notebooks)
    if not paths:
        print("no notebooks found (expected notebooks/[0-9][0-9]-*.ipynb)")
        print("0 passed, 0 failed")
        return 1
    out, tmpdir = args.out.resolve(), args.tmpdir.resolve()
    lock = acquire_lock(tmpdir)
    prepare_tmpdir(tmpdir)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for path in paths:
        if not path.is_file():
            result = Result(path.name, failures=[Failure(f"no such file: {path}")])
        else:
            print(f"running {path.relative_to(REPO) if path.is_relative_to(REPO) else path} ...",
                  flush=True)
            since = time.time()
            nb, result = execute(path, args.timeout, tmpdir, out / f"{path.stem}.kernel.log")
            if args.charts_check and result.passed:
                result.failures += check_charts_exported(nb, since)
            if args.twice and result.passed:
                again, second = execute(path, args.timeout, tmpdir,
                                        out / f"{path.stem}.kernel.log")
                result.seconds += second.seconds
                result.failures += second.failures or compare_runs(nb, again)
            nbformat.write(nb, out / path.name)
        results.append(result)
        print(summary_line(result), flush=True)
        for failure in result.failures:
            print(failure.render(), flush=True)
    write_timings(out, results)
    lock.close()
    failed = sum(1 for r in results if not r.passed)
    print(f"executed copies in {out}")
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
