#!/usr/bin/env bash
# The one test command for the whole project (CI runs it through .ci/run):
#   setup (idempotent) -> cargo fmt --check -> cargo clippy -D warnings ->
#   cargo test --release -> runner self-test -> fuzz test of the public API ->
#   every notebook, headless, run twice with identical outputs.
# Stops at the first failing step. Ends with a summary of each step's status and
# time, and a closing line `N passed, M failed` that sums everything: each step
# before the notebooks counts as one check, each notebook as one more.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
NAMES=() STATUS=() TIMES=()
PASSED=0 FAILED=0

summary() {
  echo
  echo "==> summary"
  local i
  for i in "${!NAMES[@]}"; do
    printf '  %-4s %6ss  %s\n' "${STATUS[$i]}" "${TIMES[$i]}" "${NAMES[$i]}"
  done
  echo "$PASSED passed, $FAILED failed"
}

# step NAME CMD...: run CMD with a header, record status and time; stop on failure.
step() {
  local name=$1 start=$SECONDS rc=0
  shift
  echo
  echo "==> [$(( ${#NAMES[@]} + 1 ))/7] $name"
  "$@" 2>&1 | tee "$LOG" || rc=${PIPESTATUS[0]}
  NAMES+=("$name") TIMES+=($((SECONDS - start)))
  if [ "$rc" -eq 0 ]; then STATUS+=(ok); else STATUS+=(FAIL); fi
}

# A step that is a single check.
check() {
  step "$@"
  if [ "${STATUS[-1]}" = ok ]; then
    PASSED=$((PASSED + 1))
  else
    FAILED=$((FAILED + 1))
    summary
    exit 1
  fi
}

check "setup (scripts/setup.sh)" bash scripts/setup.sh
check "cargo fmt --all -- --check" cargo fmt --all -- --check
check "cargo clippy --all-targets -- -D warnings" cargo clippy --all-targets -- -D warnings
check "cargo test --release" cargo test --release
check "runner self-test (tests/runner)" "$PYTHON" -m unittest discover -s tests/runner -v
check "fuzz the public API (scripts/fuzz.sh)" bash scripts/fuzz.sh

# The notebooks count one check each, taken from the runner's closing line.
step "notebooks, each run twice (scripts/run_notebooks.py --twice)" "$PYTHON" scripts/run_notebooks.py --twice
counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$LOG" | tail -n 1 || true)
if [ -n "$counts" ]; then
  PASSED=$((PASSED + ${counts%% passed*}))
  n_failed=${counts#*passed, }
  FAILED=$((FAILED + ${n_failed%% failed}))
fi
if [ "${STATUS[-1]}" != ok ] && [ "$FAILED" -eq 0 ]; then FAILED=1; fi
summary
[ "$FAILED" -eq 0 ]
