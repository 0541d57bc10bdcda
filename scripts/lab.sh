#!/usr/bin/env bash
# Open the notebooks in JupyterLab with the settings the headless runs use:
#   bash scripts/lab.sh [jupyter lab options...]       # the project's notebooks/
#   bash scripts/lab.sh DIR [jupyter lab options...]   # a folder of your own
#   bash scripts/lab.sh --new DIR [options...]         # start one: DIR/00-my-lesson.ipynb
#   bash scripts/lab.sh --prepare   # only write build/lab/ (used by the tests)
#
# - The `rust` kernel is started through scripts/evcxr/kernel.sh (a kernel
#   spec in build/lab/kernels/, found first through JUPYTER_PATH; your own
#   kernel spec is not touched): each kernel builds in a folder
#   build/lab/slot-N that is kept between sessions, so reopening a notebook is
#   warm; two kernels never share a folder.
# - EVCXR_CONFIG_DIR=scripts/evcxr: the start-up settings of headless runs
#   (scripts/evcxr/init.evcxr); nothing is written to ~/.config/evcxr.
# - build/lab/.cargo/config.toml (a copy of scripts/evcxr/cargo-config.toml):
#   the crate and its dependencies are built at opt-level 2, code in cells at
#   opt-level 0 (init.evcxr's `:opt 0`), which makes a cell about 0.6 s
#   faster. A cell with a node of your own starts with `:opt 1`.
# Needs JupyterLab: bash scripts/setup.sh --lab
set -euo pipefail
CALLER=$PWD  # a folder given on the command line is relative to it
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

mkdir -p build/lab/.cargo
cp scripts/evcxr/cargo-config.toml build/lab/.cargo/config.toml
# evcxr's own kernel resources (logos, version.txt: with a matching version
# evcxr_jupyter does not rewrite the spec at start-up), then our kernel.json.
JUPYTER_PATH="$PWD/build/lab" evcxr_jupyter --install >/dev/null
cat > build/lab/kernels/rust/kernel.json <<JSON
{
  "argv": ["bash", "$PWD/scripts/evcxr/kernel.sh", "{connection_file}"],
  "display_name": "Rust",
  "interrupt_mode": "message",
  "language": "rust"
}
JSON
abs() { case "$1" in /*) echo "$1" ;; *) echo "$CALLER/$1" ;; esac; }
FOLDER=notebooks/
if [ "${1:-}" = --new ]; then
    [ -n "${2:-}" ] || { echo "lab.sh: --new needs a folder" >&2; exit 2; }
    FOLDER=$(abs "$2")
    "$PYTHON" scripts/new_lessons.py "$FOLDER"
    shift 2
elif [ -n "${1:-}" ] && [ "${1#-}" = "$1" ]; then
    FOLDER=$(abs "$1")
    [ -d "$FOLDER" ] || { echo "lab.sh: no folder $FOLDER (start one with --new)" >&2; exit 2; }
    shift
fi
if [ "${1:-}" = --prepare ]; then
    echo "prepared $PWD/build/lab (kernel spec, cargo settings)"
    exit 0
fi
if ! command -v jupyter >/dev/null || ! jupyter lab --version >/dev/null 2>&1; then
    echo "lab.sh: JupyterLab is not installed; run: bash scripts/setup.sh --lab" >&2
    exit 1
fi
export JUPYTER_PATH="$PWD/build/lab${JUPYTER_PATH:+:$JUPYTER_PATH}"
export EVCXR_CONFIG_DIR="$PWD/scripts/evcxr"
# Classroom containers often run as root, where Jupyter refuses to start
# without --allow-root ("Running as root is not recommended").
ROOT=()
if [ "$(id -u)" -eq 0 ]; then
    ROOT=(--allow-root)
fi
exec jupyter lab "$FOLDER" "${ROOT[@]}" "$@"
