#!/usr/bin/env bash
# The one test command for the whole project (CI runs it through .ci/run):
#   setup (idempotent) -> cargo fmt --check -> cargo clippy -D warnings ->
#   cargo doc (broken doc links fail) ->
#   cargo test --release -> runner self-test -> fuzz test of the public API ->
#   every notebook, headless, run twice with identical outputs.
# Only a failed setup stops it (nothing else could run); every other step runs
# whatever the one before it did, so one failing step never hides whether the
# others (the notebooks among them) pass. Ends with a summary of each step's
# status and time, and a closing line `N passed, M failed` that sums
# everything: each step before the notebooks counts as one check, each
# notebook as one more. Exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

STEPS_TOTAL=8
# shellcheck source=scripts/steps.sh
source scripts/steps.sh

check "setup (scripts/setup.sh)" bash scripts/setup.sh
if [ "$FAILED" -gt 0 ]; then
  echo "setup failed: nothing else can run"
  summary
  exit 1
fi
check "cargo fmt --all -- --check" cargo fmt --all -- --check
check "cargo clippy --all-targets -- -D warnings" cargo clippy --all-targets -- -D warnings
check "cargo doc --no-deps (broken links are errors)" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --lib
check "cargo test --release" cargo test --release
check "runner self-test (tests/runner)" "$PYTHON" -m unittest discover -s tests/runner -v
check "fuzz the public API (scripts/fuzz.sh)" bash scripts/fuzz.sh

# The notebooks count one check each, taken from the runner's closing line.
step "notebooks, each run twice (scripts/run_notebooks.py --twice)" "$PYTHON" scripts/run_notebooks.py --twice
counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$LOG" | tail -n 1 || true)
nb_failed=0
if [ -n "$counts" ]; then
  PASSED=$((PASSED + ${counts%% passed*}))
  n_failed=${counts#*passed, }
  nb_failed=${n_failed%% failed}
  FAILED=$((FAILED + nb_failed))
fi
# A failed step whose counts (if any) show no failure still counts as one.
if [ "${STATUS[-1]}" != ok ] && [ "$nb_failed" -eq 0 ]; then FAILED=$((FAILED + 1)); fi
summary
[ "$FAILED" -eq 0 ]
