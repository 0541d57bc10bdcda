#!/usr/bin/env bash
# First command on a fresh machine: install everything, then run every notebook
# headless. Each notebook's last cell exports its charts to charts/.
#   bash scripts/run_all.sh [--lab]     (--lab also installs JupyterLab)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

bash scripts/setup.sh "$@"
rc=0
"$PYTHON" scripts/run_notebooks.py || rc=$?
# One lecture deck per chapter from the charts just exported (offline HTML).
"$PYTHON" scripts/build_deck.py || rc=$?
echo
echo "executed notebooks: $PWD/build/executed/ (per-cell times in timings.json)"
echo "charts:             $PWD/charts/"
echo "lecture decks:      $PWD/decks/ (one HTML file per chapter, works offline)"
exit "$rc"
