# Sourced by the other scripts (not run directly): make the toolchains that a
# login shell would have visible to non-login shells too (CI runs `.ci/run`
# with a bare environment). Adds ~/.cargo/bin and pyenv's shims to PATH when
# they exist and are not there yet. Override the interpreter with PYTHON=...
for dir in "$HOME/.cargo/bin" "${PYENV_ROOT:-$HOME/.pyenv}/shims"; do
  case ":$PATH:" in
    *":$dir:"*) ;;
    *) if [ -d "$dir" ]; then PATH="$dir:$PATH"; fi ;;
  esac
done
export PATH
export PYTHON="${PYTHON:-python3}"
