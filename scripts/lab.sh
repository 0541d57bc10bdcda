#!/usr/bin/env bash
# Open the notebooks in JupyterLab with the settings the headless runs use:
#   bash scripts/lab.sh [jupyter lab options...]
#
# - EVCXR_CONFIG_DIR=scripts/evcxr: evcxr's dependency cache is on
#   (init.evcxr), so a `:dep` cell takes seconds, not a minute; nothing is
#   written to ~/.config/evcxr.
# - Each kernel builds in its own folder under build/lab/ (TMPDIR), below
#   build/lab/.cargo/config.toml (a copy of scripts/evcxr/cargo-config.toml):
#   code in cells is compiled at opt-level 0, which makes a cell about 0.6 s
#   faster; the crate itself stays optimised. Delete that file to compile cells
#   optimised (see the comment in it for when you would).
# Needs JupyterLab: bash scripts/setup.sh --lab
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

if ! command -v jupyter >/dev/null || ! jupyter lab --version >/dev/null 2>&1; then
    echo "lab.sh: JupyterLab is not installed; run: bash scripts/setup.sh --lab" >&2
    exit 1
fi
mkdir -p build/lab/tmp build/lab/.cargo
cp scripts/evcxr/cargo-config.toml build/lab/.cargo/config.toml
export EVCXR_CONFIG_DIR="$PWD/scripts/evcxr"
export TMPDIR="$PWD/build/lab/tmp"
exec jupyter lab notebooks/ "$@"
