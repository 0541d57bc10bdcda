#!/usr/bin/env bash
# The evcxr kernel as scripts/lab.sh starts it: each kernel builds in the first
# free folder build/lab/slot-N (N = 0, 1, ...), kept between sessions, so a
# notebook reopened later is warm (its `:dep` cell takes seconds instead of the
# minute a fresh folder needs). The slot is held by an flock on
# build/lab/slot-N.lock for the life of the kernel (the descriptor is
# inherited by evcxr_jupyter through exec), so two kernels never share one.
#   kernel.sh CONNECTION_FILE
set -euo pipefail
LAB="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/lab"
mkdir -p "$LAB"
for n in $(seq 0 63); do
    exec {lock}>"$LAB/slot-$n.lock"
    if flock -n "$lock"; then
        export EVCXR_TMPDIR="$LAB/slot-$n"
        mkdir -p "$EVCXR_TMPDIR"
        exec evcxr_jupyter --control_file "$1"
    fi
    exec {lock}>&-
done
echo "kernel.sh: all 64 build slots under $LAB are in use" >&2
exit 1
