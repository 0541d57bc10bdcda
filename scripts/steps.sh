# Steps of a test run, for scripts/test.sh (sourced; tested by
# tests/runner/test_runner.py): `check NAME CMD...` runs CMD as one check,
# prints its output, and records its status and time without stopping the
# run; `summary` prints every step and the closing `N passed, M failed`.
# The caller decides what stops the run.
# shellcheck shell=bash

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

# step NAME CMD...: run CMD with a header, record status and time.
step() {
  local name=$1 start=$SECONDS rc=0
  shift
  echo
  echo "==> [$(( ${#NAMES[@]} + 1 ))/${STEPS_TOTAL:-?}] $name"
  "$@" 2>&1 | tee "$LOG" || rc=${PIPESTATUS[0]}
  NAMES+=("$name") TIMES+=($((SECONDS - start)))
  if [ "$rc" -eq 0 ]; then STATUS+=(ok); else STATUS+=(FAIL); fi
}

# A step that is a single check; the run goes on after a failure.
check() {
  step "$@"
  if [ "${STATUS[-1]}" = ok ]; then
    PASSED=$((PASSED + 1))
  else
    FAILED=$((FAILED + 1))
  fi
}

