#!/usr/bin/env python3
"""Self-test of scripts/run_notebooks.py.

Run with either of:
    python3 -m unittest discover -s tests/runner -v
    python3 tests/runner/test_runner.py

``CheckTests`` feed hand-made executed notebooks to the pure checking
functions (no kernel needed). ``RunnerTests`` run the real runner, with the
evcxr kernel ``rust``, on the fixture notebooks in this folder; they use their
own EVCXR_TMPDIR and output folder under build/runner-test/ so they never
contend with a main run. Without a registered ``rust`` kernel they are skipped,
except under CI (CI=true), where that is an error.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import run_notebooks as rn  # noqa: E402

WORK = REPO / "build" / "runner-test"
TMPDIR = WORK / "evcxr-tmp"
OUT = WORK / "executed"
FINAL_LINE = re.compile(r"^(\d+) passed, (\d+) failed$")
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def code(source: str, *outputs, tags=()) -> dict:
    """A hand-made executed code cell."""
    cell = new_code_cell(source, outputs=list(outputs), execution_count=1)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def stderr(text: str) -> dict:
    """A stderr stream output."""
    return new_output("stream", name="stderr", text=text)


def image(mime: str = "image/png", data: str = PNG) -> dict:
    """A display_data output carrying one MIME bundle."""
    return new_output("display_data", data={mime: data})


class CheckTests(unittest.TestCase):
    """The pure checks, on hand-made notebooks."""

    def reasons(self, cell: dict) -> list[str]:
        return [f.reason for f in rn.check_cell(cell, 0)]

    def test_clean_cell_passes(self):
        out = new_output("stream", name="stdout", text="hello\n")
        self.assertEqual(self.reasons(code('println!("hello");', out)), [])

    def test_error_output_fails_with_traceback(self):
        err = new_output("error", ename="Error", evalue="mismatched types",
                         traceback=["\x1b[31merror[E0308]\x1b[0m: mismatched types"])
        failures = rn.check_cell(code('let x: i32 = "a";', err), 3)
        self.assertEqual(len(failures), 1)
        self.assertEqual(failures[0].cell_index, 3)
        self.assertIn("error[E0308]: mismatched types", failures[0].render())
        self.assertNotIn("\x1b", failures[0].render())

    def test_stderr_fails_and_shows_panic(self):
        failures = rn.check_cell(code('panic!("boom");', stderr("thread panicked: boom\n")), 0)
        self.assertEqual(len(failures), 1)
        self.assertIn("stderr", failures[0].reason)
        self.assertIn("boom", failures[0].render())
        self.assertIn('source: panic!("boom");', failures[0].render())

    def test_stderr_allowed_by_tag(self):
        self.assertEqual(self.reasons(code('eprintln!("x");', stderr("x\n"), tags=["allow-stderr"])), [])

    def test_chart_needs_png_or_svg(self):
        self.assertEqual(len(self.reasons(code("1", tags=["chart"]))), 1)
        html = image("text/html", "<svg></svg>")
        self.assertIn("chart", self.reasons(code("f", html, tags=["chart"]))[0])
        self.assertEqual(self.reasons(code("f", image(), tags=["chart"])), [])
        self.assertEqual(self.reasons(code("f", image("image/svg+xml", "<svg/>"), tags=["chart"])), [])
        result = new_output("execute_result", data={"image/png": PNG}, execution_count=1)
        self.assertEqual(self.reasons(code("f", result, tags=["chart"])), [])

    def test_debug_dump_fails_but_plain_values_pass(self):
        def value(text, **more):
            return new_output("execute_result", data={"text/plain": text, **more},
                              execution_count=1)
        dump = value('Table { headers: ["a"], rows: [["1"]], caption: None }')
        self.assertIn("Debug dump", self.reasons(code("t(&x)?", dump))[0])
        self.assertEqual(len(self.reasons(code("f()?", value("Figure(Spec { x: 1 })")))), 1)
        # A table rendered as HTML, a number, a string: fine.
        html = value("Table {…}", **{"text/html": "<table></table>"})
        self.assertEqual(self.reasons(code("t", html)), [])
        self.assertEqual(self.reasons(code("1 + 1", value("2"))), [])
        self.assertEqual(self.reasons(code('"x"', value('"Ok { x }"'))), [])

    def test_a_cell_showing_unit_fails(self):
        unit = new_output("execute_result", data={"text/plain": "()"}, execution_count=1)
        self.assertIn("`()`", self.reasons(code("for i in 0..3 { println!(\"{i}\") }", unit))[0])
        self.assertEqual(self.reasons(code("let x = 1;", new_output("stream", name="stdout", text="1\n"))), [])

    def test_markdown_cells_ignored(self):
        md = {"cell_type": "markdown", "metadata": {"tags": ["chart"]}, "source": "x"}
        self.assertEqual(rn.check_cell(md, 0), [])

    def test_check_notebook_collects_all_cells(self):
        nb = new_notebook(cells=[code("a"), code("b", stderr("e")), code("c", tags=["chart"])])
        self.assertEqual([f.cell_index for f in rn.check_notebook(nb)], [1, 2])
        self.assertEqual(rn.count_charts(new_notebook(cells=[code("d", image())])), 1)

    def test_empty_notebook_fails(self):
        self.assertIn("no cells", rn.check_notebook(new_notebook())[0].reason)
        self.assertIn("no cells", rn.check_clean(new_notebook())[0].reason)

    def test_committed_with_outputs_fails(self):
        clean = new_notebook(cells=[new_code_cell("1")])
        self.assertEqual(rn.check_clean(clean), [])
        dirty = new_notebook(cells=[new_code_cell("a"), code("1", image())])
        failure = rn.check_clean(dirty)[0]
        self.assertIn("committed with outputs", failure.reason)
        self.assertEqual(failure.cell_index, 1)

    def test_truncate(self):
        text = "\n".join(str(i) for i in range(40))
        lines = rn.truncate(text).splitlines()
        self.assertEqual(len(lines), rn.MAX_LINES + 1)
        self.assertIn("25 more lines", lines[-1])

    def test_metadata_seconds(self):
        cell = code("x")
        cell.metadata["execution"] = {
            "iopub.status.busy": "2026-01-01T00:00:00.000000Z",
            "iopub.execute_input": "2026-01-01T00:00:00.100000Z",
            "shell.execute_reply": "2026-01-01T00:00:02.500000Z",
            "iopub.status.idle": "2026-01-01T00:00:02.400000Z",
        }
        self.assertAlmostEqual(rn.metadata_seconds(cell), 2.5)
        self.assertIsNone(rn.metadata_seconds(code("y")))

    def test_charts_check(self):
        import tempfile
        saved = rn.REPO
        with tempfile.TemporaryDirectory() as tmp:
            rn.REPO = Path(tmp)
            try:
                nb = new_notebook(cells=[code("f", image(), tags=["chart"])])
                self.assertEqual(len(rn.check_charts_exported(nb, 0)), 1)  # no charts/ yet
                (Path(tmp) / "charts").mkdir()
                svg = ('<svg width="960" height="600" viewBox="0 0 960 600">'
                       '<text x="1" y="2" font-size="{}">{}</text></svg>')
                (Path(tmp) / "charts" / "01-x.svg").write_text(svg.format(14.6, "ok"))
                self.assertEqual(rn.check_charts_exported(nb, 0), [])
                # 12.9 px in the SVG is 25.8 px on a 1920x1200 slide: too small.
                (Path(tmp) / "charts" / "01-y.svg").write_text(svg.format(12.9, "tick"))
                fails = rn.check_charts_exported(nb, 0)
                self.assertEqual(len(fails), 1)
                self.assertIn("25.8 px", fails[0].render())
                self.assertIn("'tick'", fails[0].render())
                (Path(tmp) / "charts" / "01-y.svg").unlink()
                self.assertEqual(len(rn.check_charts_exported(new_notebook(cells=[code("1")]), 0)), 1)
            finally:
                rn.REPO = saved

    def test_compare_runs_ignores_progress_and_counts(self):
        a = new_notebook(cells=[code("x", new_output("stream", name="stdout",
                                                     text="sweep: 5/10 runs, 2.1 s elapsed, ~2.1 s left\nresult 7\n")),
                                code("y", image())])
        b = new_notebook(cells=[code("x", new_output("stream", name="stdout",
                                                     text="sweep: 5/10 runs, 3.9 s elapsed, ~3.0 s left\nresult 7\n")),
                                code("y", image())])
        b.cells[0].execution_count = 5
        self.assertEqual(rn.compare_runs(a, b), [])

    def test_compare_runs_catches_a_different_number_or_image(self):
        a = new_notebook(cells=[code("x", new_output("stream", name="stdout", text="result 7\n")),
                                code("y", image())])
        b = new_notebook(cells=[code("x", new_output("stream", name="stdout", text="result 8\n")),
                                code("y", image())])
        failures = rn.compare_runs(a, b)
        self.assertEqual(len(failures), 1)
        self.assertEqual(failures[0].cell_index, 0)
        c = new_notebook(cells=[code("x", new_output("stream", name="stdout", text="result 7\n")),
                                code("y", image(data=PNG[:-4] + "AAAA"))])
        self.assertEqual(rn.compare_runs(a, c)[0].cell_index, 1)

    def test_summary_line_shape(self):
        result = rn.Result("01-x.ipynb", seconds=23.44, code_cells=18, charts=6,
                           cell_times=[(1, 0.5), (5, 7.08)])
        self.assertEqual(rn.summary_line(result),
                         "PASS 01-x.ipynb 23.4s (cells: 18, charts: 6, slowest cell #5 7.1s)")
        result.failures.append(rn.Failure("x"))
        self.assertTrue(rn.summary_line(result).startswith("FAIL 01-x.ipynb"))


def runner_cmd(*args: str, tag: str = "") -> list[str]:
    """Command line for scripts/run_notebooks.py with the self-test's own tmpdir and output.

    ``tag`` selects a separate tmpdir/output pair, so two runs can go concurrently.
    """
    return [sys.executable, str(REPO / "scripts" / "run_notebooks.py"),
            "--out", str(OUT) + tag, "--tmpdir", str(TMPDIR) + tag, "--timeout", "300", *args]


def run_runner(*args: str) -> subprocess.CompletedProcess:
    """Run the runner to completion and capture its output."""
    return subprocess.run(runner_cmd(*args), capture_output=True, text=True, cwd=REPO,
                          stdin=subprocess.DEVNULL)


def start_runner(*args: str, tag: str) -> subprocess.Popen:
    """Start the runner in the background (collect it with ``.communicate()``)."""
    return subprocess.Popen(runner_cmd(*args, tag=tag), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO, stdin=subprocess.DEVNULL)


def sections(stdout: str) -> dict[str, str]:
    """Map notebook name -> its PASS/FAIL line plus the indented failure lines below it."""
    found: dict[str, str] = {}
    current = None
    for line in stdout.splitlines():
        match = re.match(r"^(PASS|FAIL) (\S+)", line)
        if match:
            current = match.group(2)
            found[current] = line + "\n"
        elif current and line.startswith("  "):
            found[current] += line + "\n"
        else:
            current = None
    return found


def final_counts(stdout: str) -> tuple[int, int]:
    """(passed, failed) from the runner's closing line; fails the test if malformed."""
    last = stdout.rstrip("\n").splitlines()[-1]
    match = FINAL_LINE.match(last)
    if not match:
        raise AssertionError(f"last line is not 'N passed, M failed': {last!r}")
    return int(match.group(1)), int(match.group(2))


class NotebookFilterTests(unittest.TestCase):
    """The git filter ``nbclean`` (scripts/setup.sh, .gitattributes): a
    notebook JupyterLab saved with outputs is stored by git without them."""

    def test_git_stores_a_notebook_without_the_outputs_lab_saved(self):
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp)
            git = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True,
                                            capture_output=True, text=True).stdout
            git("init", "-q")
            git("config", "user.email", "t@example.org")
            git("config", "user.name", "t")
            (repo / "scripts").mkdir()
            shutil.copy(REPO / "scripts" / "clean_notebooks.py", repo / "scripts")
            shutil.copy(REPO / ".gitattributes", repo / ".gitattributes")
            git("config", "filter.nbclean.clean", f"{sys.executable} scripts/clean_notebooks.py --stdin")
            (repo / "notebooks").mkdir()
            nb = new_notebook(cells=[new_code_cell("let x = 1;")])
            path = repo / "notebooks" / "01-x.ipynb"
            nbformat.write(nb, path)
            git("add", ".")
            git("commit", "-qm", "clean")
            committed = path.read_bytes()
            # Lab saves outputs into the file.
            nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1")]
            nb.cells[0].execution_count = 1
            nbformat.write(nb, path)
            self.assertEqual(git("diff", "--stat"), "")  # nothing to commit
            git("add", ".")
            stored = git("show", ":notebooks/01-x.ipynb").encode()
            self.assertEqual(stored, committed)  # byte for byte, still clean
            self.assertEqual(nbformat.read(path, as_version=4).cells[0].outputs[0].text, "1")  # kept


class StepsTests(unittest.TestCase):
    """scripts/steps.sh, which scripts/test.sh runs its steps with."""

    def run_steps(self, body):
        script = f'set -euo pipefail\ncd "{REPO}"\nsource scripts/steps.sh\n{body}\n'
        return subprocess.run(["bash", "-c", script], capture_output=True, text=True)

    def test_a_failing_step_does_not_stop_the_next(self):
        r = self.run_steps('check "first fails" false\ncheck "second runs" echo ran-second\n'
                           'summary\n[ "$FAILED" -eq 0 ]')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ran-second", r.stdout)
        self.assertRegex(r.stdout, r"FAIL\s+\d+s\s+first fails")
        self.assertRegex(r.stdout, r"ok\s+\d+s\s+second runs")
        self.assertTrue(r.stdout.rstrip().endswith("1 passed, 1 failed"), r.stdout)

    def test_all_passing(self):
        r = self.run_steps('check one true\ncheck two true\nsummary\n[ "$FAILED" -eq 0 ]')
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(r.stdout.rstrip().endswith("2 passed, 0 failed"), r.stdout)


class NoKernelTests(unittest.TestCase):
    """Runner behaviour that fails before any kernel starts."""

    def test_empty_and_dirty_notebooks(self):
        WORK.mkdir(parents=True, exist_ok=True)
        empty, dirty = WORK / "empty.ipynb", WORK / "dirty.ipynb"
        nbformat.write(new_notebook(), empty)
        nbformat.write(new_notebook(cells=[code('println!("x");', image())]), dirty)
        proc = run_runner(str(empty), str(dirty))
        report = sections(proc.stdout)
        self.assertIn("no cells", report["empty.ipynb"])
        self.assertIn("committed with outputs", report["dirty.ipynb"])
        self.assertEqual(final_counts(proc.stdout), (0, 2))
        self.assertNotEqual(proc.returncode, 0)

    def test_missing_file(self):
        proc = run_runner(str(WORK / "does-not-exist.ipynb"))
        self.assertEqual(final_counts(proc.stdout), (0, 1))
        self.assertNotEqual(proc.returncode, 0)

    def test_lock_held(self):
        TMPDIR.parent.mkdir(parents=True, exist_ok=True)
        with open(TMPDIR.with_name(TMPDIR.name + ".lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            proc = run_runner(str(HERE / "good.ipynb"))
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("is locked", proc.stderr)


class CellOptLevelTests(unittest.TestCase):
    """Cells (crate `ctx`) compile at opt-level 0, their dependencies at 2."""

    def test_init_sets_cells_to_opt_level_0(self):
        lines = (REPO / "scripts" / "evcxr" / "init.evcxr").read_text().splitlines()
        self.assertIn(":opt 0", [line.strip() for line in lines])

    def test_cargo_optimises_dependencies_but_not_cells_below_prepared_tmpdir(self):
        tmpdir = WORK / "opt-level"
        rn.prepare_tmpdir(tmpdir)
        build = Path(rn.kernel_env(tmpdir)["EVCXR_TMPDIR"])
        self.assertTrue(build.is_relative_to(tmpdir) and build != tmpdir,
                        "the kernel must build below the folder holding .cargo/")
        # A crate shaped like the one evcxr writes after `:opt 0`: named ctx,
        # profile.dev at opt-level 0, with a path dependency standing for
        # thinkdist.
        dep = tmpdir / "dep"
        (dep / "src").mkdir(parents=True, exist_ok=True)
        (dep / "src" / "lib.rs").write_text("pub fn g() -> u32 { 2 }\n")
        (dep / "Cargo.toml").write_text(
            '[package]\nname = "dep"\nversion = "1.0.0"\nedition = "2021"\n')
        (build / "src").mkdir(parents=True, exist_ok=True)
        (build / "src" / "lib.rs").write_text("pub fn f() -> u32 { dep::g() }\n")
        (build / "Cargo.toml").write_text(
            '[package]\nname = "ctx"\nversion = "1.0.0"\nedition = "2021"\n'
            '[lib]\npath = "src/lib.rs"\n[profile.dev]\nopt-level = 0\n'
            f'[dependencies]\ndep = {{ path = "{dep}" }}\n')

        def rustc_lines():
            subprocess.run(["cargo", "clean", "--offline"], cwd=build, capture_output=True)
            proc = subprocess.run(["cargo", "build", "-v", "--offline"], cwd=build,
                                  capture_output=True, text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            lines = proc.stderr.splitlines()
            ctx = [line for line in lines if "--crate-name ctx" in line]
            dep_ = [line for line in lines if "--crate-name dep" in line]
            self.assertEqual((len(ctx), len(dep_)), (1, 1), proc.stderr)
            return ctx[0], dep_[0]

        ctx, dep_ = rustc_lines()
        self.assertNotIn("opt-level=", ctx)
        self.assertIn("opt-level=2", dep_)
        # Without the prepared config the dependency is not optimised: the
        # check above can fail.
        (tmpdir / ".cargo" / "config.toml").unlink()
        ctx, dep_ = rustc_lines()
        self.assertNotIn("opt-level=2", dep_)


def rust_kernel_installed() -> bool:
    """True when the Jupyter kernel 'rust' is registered."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    try:
        KernelSpecManager().get_kernel_spec("rust")
        return True
    except NoSuchKernel:
        return False


HAVE_KERNEL = rust_kernel_installed() or os.environ.get("CI") == "true"


@unittest.skipUnless(HAVE_KERNEL, "Jupyter kernel 'rust' not registered (run scripts/setup.sh)")
@unittest.skipUnless(shutil.which("evcxr_jupyter"), "needs the evcxr kernel (scripts/setup.sh)")
class HomeBuildFolderTests(unittest.TestCase):
    """A kernel whose build folder is in the same home folder as ~/.rustup works.

    rustc writes the cell library's RUNPATH one `..` too long for the copy
    evcxr loads; from a folder next to ~/.rustup that path misses the
    toolchain and the kernel died with "dlopen failed" (a clone in your home
    folder, or the classroom image). kernel_env puts the toolchain's library
    folder on LD_LIBRARY_PATH.
    """

    def test_kernel_env_names_the_toolchain_libdir(self):
        env = rn.kernel_env(WORK / "env-test")
        libdir = rn.rust_target_libdir()
        self.assertTrue(libdir and Path(libdir).is_dir(), libdir)
        self.assertTrue(any(p.name.startswith("libstd-") for p in Path(libdir).iterdir()))
        self.assertEqual(env["LD_LIBRARY_PATH"].split(":")[0], libdir)

    def test_a_cell_runs_with_the_build_folder_next_to_rustup(self):
        from nbclient import NotebookClient
        rustup_home = Path(os.environ.get("RUSTUP_HOME", Path.home() / ".rustup"))
        tmp = Path(tempfile.mkdtemp(prefix="thinkdist-kernel-test-", dir=rustup_home.parent))
        try:
            rn.prepare_tmpdir(tmp)
            nb = new_notebook(metadata={"kernelspec": {"name": "rust", "display_name": "Rust",
                                                       "language": "rust"}})
            nb.cells = [new_code_cell("let a: u64 = 20 + 22;\na")]
            saved = dict(os.environ)
            os.environ.update(rn.kernel_env(tmp))
            try:
                NotebookClient(nb, timeout=300, kernel_name="rust", startup_timeout=120,
                               resources={"metadata": {"path": str(tmp)}}).execute()
            finally:
                os.environ.clear()
                os.environ.update(saved)
            outputs = nb.cells[0].outputs
            self.assertEqual(outputs[-1]["data"]["text/plain"], "42", outputs)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class RunnerTests(unittest.TestCase):
    """The real runner on the fixture notebooks, with the evcxr kernel."""

    # Two runner invocations, run concurrently (an evcxr kernel spends most of its
    # start-up busy on one core): one where everything fails, one where all pass.
    MIXED = ["error.ipynb", "missing_chart.ipynb", "panics.ipynb"]
    PASSING = ["good.ipynb", "stderr_allowed.ipynb"]

    @classmethod
    def setUpClass(cls):
        mixed = start_runner(*(str(HERE / n) for n in cls.MIXED), tag="")
        passing = start_runner(*(str(HERE / n) for n in cls.PASSING), tag="-passing")
        cls.stdout, cls.stderr = mixed.communicate()
        cls.returncode = mixed.returncode
        cls.pass_stdout, cls.pass_stderr = passing.communicate()
        cls.pass_returncode = passing.returncode
        cls.report = sections(cls.stdout) | sections(cls.pass_stdout)

    def section(self, name: str) -> str:
        self.assertIn(name, self.report, f"no PASS/FAIL line for {name}:\n{self.stdout}"
                      f"\n{self.stderr}\n{self.pass_stdout}\n{self.pass_stderr}")
        return self.report[name]

    def test_panics_fails_with_message(self):
        text = self.section("panics.ipynb")
        self.assertTrue(text.startswith("FAIL"), text)
        self.assertIn("boom", text)
        self.assertIn("cell #1", text)

    def test_panics_stops_at_first_failure(self):
        executed = nbformat.read(OUT / "panics.ipynb", as_version=4)
        self.assertEqual(executed.cells[2].outputs, [])

    def test_missing_chart_fails(self):
        text = self.section("missing_chart.ipynb")
        self.assertTrue(text.startswith("FAIL"), text)
        self.assertIn("chart", text.split("\n", 1)[1])

    def test_compile_error_fails(self):
        text = self.section("error.ipynb")
        self.assertTrue(text.startswith("FAIL"), text)
        self.assertIn("error output", text)

    def test_stderr_allowed_passes(self):
        text = self.section("stderr_allowed.ipynb")
        self.assertTrue(text.startswith("PASS"), self.pass_stdout + self.pass_stderr)

    def test_good_passes_with_chart(self):
        text = self.section("good.ipynb")
        self.assertTrue(text.startswith("PASS"), self.pass_stdout + self.pass_stderr)
        self.assertIn("charts: 1", text)

    def test_final_line_and_exit_code(self):
        self.assertEqual(final_counts(self.stdout), (0, 3), self.stdout)
        self.assertNotEqual(self.returncode, 0)

    def test_all_passing_exits_zero(self):
        self.assertEqual(final_counts(self.pass_stdout), (2, 0), self.pass_stdout + self.pass_stderr)
        self.assertEqual(self.pass_returncode, 0)

    def test_outputs_written_and_fixtures_untouched(self):
        for name in self.MIXED + self.PASSING:
            out = OUT.with_name(OUT.name + ("-passing" if name in self.PASSING else ""))
            self.assertTrue((out / name).is_file(), name)
            self.assertEqual(rn.check_clean(nbformat.read(HERE / name, as_version=4)), [], name)
        self.assertIn("panics.ipynb", json.loads((OUT / "timings.json").read_text()))


if __name__ == "__main__":
    unittest.main(verbosity=2)


class LabSlotSeedTests(unittest.TestCase):
    """A JupyterLab kernel's first build folder starts as a copy of the warm
    headless one, so a classroom's first Run All does not compile the crate's
    dependencies again (scripts/evcxr/kernel.sh)."""

    def run_kernel_sh(self, root: Path, locked: bool = False) -> str:
        """Runs a copy of kernel.sh under ``root`` with a fake evcxr_jupyter
        that prints its build folder; returns that folder."""
        (root / "scripts" / "evcxr").mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "scripts" / "evcxr" / "kernel.sh", root / "scripts" / "evcxr")
        fake = root / "bin" / "evcxr_jupyter"
        fake.parent.mkdir(exist_ok=True)
        fake.write_text("#!/bin/sh\necho \"$EVCXR_TMPDIR\"\n")
        fake.chmod(0o755)
        env = dict(os.environ, PATH=f"{fake.parent}:{os.environ['PATH']}")
        cmd = ["bash", str(root / "scripts" / "evcxr" / "kernel.sh"), "conn.json"]
        if locked:  # a headless run holds the warm folder's lock
            cmd = ["flock", str(root / "build" / "evcxr-tmp.lock")] + cmd
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        return out.stdout.strip()

    def test_new_slot_starts_warm_and_a_used_slot_is_kept(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            warm = root / "build" / "evcxr-tmp" / "evcxr" / "target" / "release"
            warm.mkdir(parents=True)
            (warm / "libserde.rlib").write_text("compiled")
            slot = Path(self.run_kernel_sh(root))
            self.assertEqual(slot, root / "build" / "lab" / "slot-0")
            self.assertEqual((slot / "target" / "release" / "libserde.rlib").read_text(), "compiled")
            # A slot with a build of its own is never overwritten.
            (slot / "target" / "release" / "libserde.rlib").write_text("newer")
            self.run_kernel_sh(root)
            self.assertEqual((slot / "target" / "release" / "libserde.rlib").read_text(), "newer")

    def test_a_slot_without_compiled_dependencies_is_seeded_again(self):
        # A slot left with a target/ folder but no compiled dependencies (how
        # it got so does not matter) is not warm: seed it, or its next kernel
        # compiles every dependency.
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            warm = root / "build" / "evcxr-tmp" / "evcxr" / "target" / "release" / "deps"
            warm.mkdir(parents=True)
            (warm / "libserde-1.rlib").write_text("compiled")
            (warm / "libplotters-2.rlib").write_text("compiled")
            stale = root / "build" / "lab" / "slot-0" / "target" / "release" / "deps"
            stale.mkdir(parents=True)
            (stale / "libserde-1.rlib").write_text("own build")  # one of two
            slot = Path(self.run_kernel_sh(root))
            self.assertEqual(slot, root / "build" / "lab" / "slot-0")
            deps = slot / "target" / "release" / "deps"
            self.assertEqual((deps / "libplotters-2.rlib").read_text(), "compiled")
            self.assertEqual((deps / "libserde-1.rlib").read_text(), "compiled")

    def test_a_second_kernel_gets_a_warm_slot_too(self):
        # A class opens a second notebook while the first one's kernel runs.
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            warm = root / "build" / "evcxr-tmp" / "evcxr" / "target" / "release"
            warm.mkdir(parents=True)
            (warm / "libserde.rlib").write_text("compiled")
            lab = root / "build" / "lab"
            lab.mkdir(parents=True)
            # The first kernel holds slot 0.
            holder = subprocess.Popen(["flock", str(lab / "slot-0.lock"), "sleep", "30"])
            try:
                time.sleep(0.3)
                slot = Path(self.run_kernel_sh(root))
            finally:
                holder.kill()
                holder.wait()
            self.assertEqual(slot, lab / "slot-1")
            self.assertEqual((slot / "target" / "release" / "libserde.rlib").read_text(), "compiled")

    def test_no_copy_while_a_headless_run_holds_the_lock(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "build" / "evcxr-tmp" / "evcxr" / "target").mkdir(parents=True)
            slot = Path(self.run_kernel_sh(root, locked=True))
            self.assertTrue(slot.is_dir())
            self.assertFalse((slot / "target").exists())


@unittest.skipUnless(HAVE_KERNEL, "Jupyter kernel 'rust' not registered (run scripts/setup.sh)")
class LabKernelTests(unittest.TestCase):
    """scripts/lab.sh's kernel spec gives each live kernel its own kept build folder."""

    def test_two_kernels_get_two_slots_and_reuse_them(self):
        from jupyter_client.manager import KernelManager
        subprocess.run(["bash", str(REPO / "scripts" / "lab.sh"), "--prepare"], check=True,
                       capture_output=True)
        env = dict(os.environ, JUPYTER_PATH=str(REPO / "build" / "lab"),
                   EVCXR_CONFIG_DIR=str(REPO / "scripts" / "evcxr"))

        def tmpdirs() -> list[str]:
            managers = []
            saved = os.environ.get("JUPYTER_PATH")
            try:
                # The kernel spec is looked up in this process's environment.
                os.environ["JUPYTER_PATH"] = env["JUPYTER_PATH"]
                for _ in range(2):
                    km = KernelManager(kernel_name="rust")
                    km.start_kernel(cwd=str(REPO / "notebooks"), env=env)
                    managers.append(km)
                return [evaluate(km, 'std::env::var("EVCXR_TMPDIR").unwrap()')
                        for km in managers]
            finally:
                if saved is None:
                    os.environ.pop("JUPYTER_PATH", None)
                else:
                    os.environ["JUPYTER_PATH"] = saved
                for km in managers:
                    km.shutdown_kernel(now=True)

        first = tmpdirs()
        lab = str(REPO / "build" / "lab")
        self.assertEqual(len(set(first)), 2, first)  # never shared while both live
        for path in first:
            self.assertTrue(path.strip('"').startswith(lab + "/slot-"), path)
        self.assertEqual(sorted(tmpdirs()), sorted(first))  # kept: the next session is warm


@unittest.skipUnless(HAVE_KERNEL, "Jupyter kernel 'rust' not registered (run scripts/setup.sh)")
class NewLessonsTests(unittest.TestCase):
    """``lab.sh --new DIR``: a teacher's own folder, outside notebooks/, whose
    starter notebook runs with the project's build settings."""

    def test_a_new_lesson_folder_runs_headless(self):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "my course"
            r = subprocess.run(["bash", str(REPO / "scripts" / "lab.sh"), "--new", str(folder),
                                "--prepare"], capture_output=True, text=True, cwd=tmp)
            self.assertEqual(r.returncode, 0, r.stderr)
            lesson = folder / "00-my-lesson.ipynb"
            self.assertTrue(lesson.is_file())
            out = Path(tmp) / "executed"
            r = subprocess.run([sys.executable, str(REPO / "scripts" / "run_notebooks.py"),
                                str(lesson), "--out", str(out)], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-2000:])
            self.assertEqual(final_counts(r.stdout), (1, 0))


def evaluate(km, code: str, timeout: int = 120) -> str:
    """The text/plain result of running ``code`` in a started kernel."""
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=timeout)
        msg_id = kc.execute(code)
        result = ""
        while True:
            msg = kc.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "execute_result":
                result = msg["content"]["data"].get("text/plain", "")
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return result
    finally:
        kc.stop_channels()
