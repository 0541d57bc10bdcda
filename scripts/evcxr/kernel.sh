#!/usr/bin/env bash
# The evcxr kernel as scripts/lab.sh starts it: each kernel builds in the first
# free folder build/lab/slot-N (N = 0, 1, ...), kept between sessions, so a
# notebook reopened later is warm (its `:dep` cell takes seconds instead of the
# minute a fresh folder needs), and a new slot starts as a copy of the headless
# runs' warm build folder (seed_slot below). The slot is held by an flock on
# build/lab/slot-N.lock for the life of the kernel (the descriptor is
# inherited by evcxr_jupyter through exec), so two kernels never share one.
#   kernel.sh CONNECTION_FILE
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LAB="$REPO/build/lab"
WARM="$REPO/build/evcxr-tmp/evcxr"
mkdir -p "$LAB"

# A slot used for the first time starts as a copy of the headless runs' build
# folder (build/evcxr-tmp/evcxr, warm after the README's first command), so
# the first Run All in JupyterLab compiles only the cells, not the crate's
# dependencies: measured, the first Run All of a notebook took 25-35 s after
# the README's first command, against 196-279 s with an empty slot.
# Cargo reuses the copied artefacts: their fingerprints name the sources, not
# the folder. Skipped while a headless run holds build/evcxr-tmp.lock (its
# folder may be half-written then); the slot then builds cold, as before.
# A slot is warm when it holds every compiled dependency the warm folder
# holds (same paths: the artefacts' names carry their versions and flags). A
# slot left with a target/ folder but without them, whatever left it so (an
# interrupted first build, a cleaned folder), is seeded again: otherwise its
# next kernel compiles every dependency (measured: 320 s instead of 31).
is_warm() {
    local slot=$1 f
    [ -d "$slot/target" ] || return 1
    while IFS= read -r f; do
        [ -e "$slot/${f#"$WARM"/}" ] || return 1
    done < <(find "$WARM/target" -name '*.rlib' 2>/dev/null)
    return 0
}
seed_slot() {
    local slot=$1
    if [ ! -d "$WARM/target" ] || is_warm "$slot"; then
        mkdir -p "$slot"
        return
    fi
    local lock
    exec {lock}>"$REPO/build/evcxr-tmp.lock"
    if flock -n "$lock"; then
        rm -rf "$slot.seeding"
        cp -a "$WARM" "$slot.seeding" && rm -rf "$slot" && mv "$slot.seeding" "$slot"
    fi
    exec {lock}>&-
    mkdir -p "$slot"
}
# The folder holding libstd-*.so, for the cells' libraries: their RUNPATH is
# one `..` too long (rustc computes it from target/.../deps, evcxr loads the
# copy one folder up), which breaks when the repository sits in the same home
# folder as ~/.rustup: the kernel dies with "dlopen failed" (see
# scripts/run_notebooks.py, rust_target_libdir).
if libdir=$(rustc --print target-libdir 2>/dev/null); then
    export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
for n in $(seq 0 63); do
    exec {lock}>"$LAB/slot-$n.lock"
    if flock -n "$lock"; then
        export EVCXR_TMPDIR="$LAB/slot-$n"
        seed_slot "$EVCXR_TMPDIR"
        exec evcxr_jupyter --control_file "$1"
    fi
    exec {lock}>&-
done
echo "kernel.sh: all 64 build slots under $LAB are in use" >&2
exit 1
