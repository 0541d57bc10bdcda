#!/usr/bin/env bash
# Fuzz test of the public API (examples/fuzz_api): thousands of bad and extreme
# inputs to every constructor, parameter struct, run, chart and theory function,
# each run in a child process of its own, the way a notebook kernel runs a cell.
#   1. builds the example like evcxr builds a cell: profile `notebook`
#      (opt-level 2, overflow checks on);
#   2. self-test: hidden cases that end in a known way (ok, error, unclear
#      error, wrong value, panic, abort, hang) must be classified right;
#   3. runs every case with a time limit (10 s) and an address-space limit
#      (2 GiB), 2 at a time; prints the counts and every panic, abort, hang,
#      unclear error and wrong result; writes build/fuzz/report.tsv (one line
#      per case).
# Exits non-zero if the self-test fails or any case panics, aborts, hangs,
# returns an unclear error or a wrong result. Extra arguments go to the driver
# (e.g. --jobs 4, --timeout 5, --filter Queue, --show-errors).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

cargo build --profile notebook --example fuzz_api
BIN=target/notebook/examples/fuzz_api
echo "==> fuzz self-test (the driver classifies known outcomes right)"
"$BIN" selftest
echo "==> fuzz: every case"
mkdir -p build/fuzz
"$BIN" all --report build/fuzz/report.tsv "$@"
