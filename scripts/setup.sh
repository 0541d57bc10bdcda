#!/usr/bin/env bash
# Install everything the notebooks and tests need. Idempotent: each step checks
# first and does nothing when its tool is already there, so a second run takes
# a few seconds.
#
#   bash scripts/setup.sh         # toolchain, apt packages, evcxr kernel, Python packages
#   bash scripts/setup.sh --lab   # ... plus JupyterLab (scripts/requirements-lab.txt)
#
# Nothing is written into your evcxr config (~/.config/evcxr). Headless runs
# (scripts/run_notebooks.py) and scripts/lab.sh point EVCXR_CONFIG_DIR at
# scripts/evcxr and keep the kernels' build folders under build/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

EVCXR_VERSION=0.22.0
APT_PACKAGES=(mold fonts-dejavu-core)
LAB=0
for arg in "$@"; do
  case "$arg" in
    --lab) LAB=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

say() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

rust_components() {
  local installed missing=()
  installed=$(rustup component list --installed)
  for c in rust-src rustfmt clippy; do
    grep -Eq "^$c(-|$)" <<<"$installed" || missing+=("$c")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "rustup components rust-src rustfmt clippy: present"
  else
    say "rustup component add ${missing[*]}"
    rustup component add "${missing[@]}"
  fi
}

apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "apt packages ${APT_PACKAGES[*]}: present"
  else
    say "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

evcxr() {
  if cargo install --list | grep -q "^evcxr_jupyter v$EVCXR_VERSION:"; then
    say "evcxr_jupyter v$EVCXR_VERSION: present"
  else
    say "cargo install --locked evcxr_jupyter --version $EVCXR_VERSION (7 to 10 minutes)"
    cargo install --locked evcxr_jupyter --version "$EVCXR_VERSION"
  fi
}

# Exit 0 when every `name==version` pin in $1 is installed, else list the differences.
pins_satisfied() {
  "$PYTHON" - "$1" <<'PY'
import re, sys
from importlib import metadata
bad = []
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, _, want = line.partition("==")
    try:
        have = metadata.version(name.strip())
    except metadata.PackageNotFoundError:
        have = None
    if have != want.strip():
        bad.append(f"{name.strip()} (want {want.strip()}, have {have})")
if bad:
    print("[setup]   differs: " + ", ".join(bad))
    sys.exit(1)
PY
}

python_packages() {
  local req=$1
  if pins_satisfied "$req"; then
    say "Python packages in $req: present"
  else
    say "$PYTHON -m pip install -r $req"
    # -c keeps the headless pins fixed while installing the optional lab extras.
    "$PYTHON" -m pip install --disable-pip-version-check -q -r "$req" -c scripts/requirements.txt
  fi
}

kernel() {
  # Registered, and pointing at an evcxr_jupyter binary that exists?
  if "$PYTHON" - <<'PY'
import os, sys
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
try:
    spec = KernelSpecManager().get_kernel_spec("rust")
except NoSuchKernel:
    sys.exit(1)
sys.exit(0 if os.path.exists(spec.argv[0]) else 1)
PY
  then
    say "Jupyter kernel 'rust': registered"
  else
    say "evcxr_jupyter --install (registers the Jupyter kernel 'rust')"
    evcxr_jupyter --install
  fi
}

# JupyterLab saves outputs into the notebooks as a reader works: the git clean
# filter `nbclean` (.gitattributes) strips them from what git stores and
# commits, so the committed notebooks stay clean while the reader's copy keeps
# its outputs. Only in a git checkout; local to this repository's config.
git_filter() {
  if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    say "not a git checkout: no notebook filter"
    return
  fi
  local py want
  py=$(command -v "$PYTHON")
  want="$py scripts/clean_notebooks.py --stdin"
  if [ "$(git config --local --get filter.nbclean.clean || true)" = "$want" ]; then
    say "git filter nbclean (notebooks committed without outputs): present"
  else
    say "git config filter.nbclean.clean (notebooks committed without outputs)"
    git config --local filter.nbclean.clean "$want"
  fi
}

versions() {
  say "versions:"
  echo "  $(rustc --version)"
  echo "  $(cargo --version)"
  echo "  evcxr_jupyter $(cargo install --list | sed -n 's/^evcxr_jupyter v\([^:]*\):.*/\1/p')"
  echo "  mold $(mold --version 2>/dev/null | awk '{print $2}')"
  echo "  $("$PYTHON" --version 2>&1) ($(command -v "$PYTHON"))"
  "$PYTHON" - <<'PY'
from importlib import metadata
for name in ("nbclient", "nbformat", "jupyter_client", "jupyter_core", "pyzmq",
             "tornado", "traitlets", "simpy", "jupyterlab"):
    try:
        print(f"  {name} {metadata.version(name)}")
    except metadata.PackageNotFoundError:
        pass
PY
}

start=$SECONDS
rust_components
apt_packages
evcxr
python_packages scripts/requirements.txt
if [ "$LAB" -eq 1 ]; then python_packages scripts/requirements-lab.txt; fi
kernel
git_filter
versions
say "done in $((SECONDS - start))s"
