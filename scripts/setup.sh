#!/usr/bin/env bash
# Installs what the project needs, idempotently: Python dependencies (uv, from uv.lock), bun for
# Reflex's frontend build (from the npm registry: Reflex's own installer needs GitHub), and with
# --browser Debian's Chromium for the end-to-end tests. Sourced by run.sh and test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BUN_VERSION="1.4.4"
TOOLS="$ROOT/.tools"

say() { printf '\033[1;36m==> %s\033[0m\n' "$*"; }

if ! command -v uv >/dev/null 2>&1; then
  say "Installing uv"
  python3 -m pip install --quiet --disable-pip-version-check "uv>=0.5,<1" \
    || python3 -m pip install --quiet --user "uv>=0.5,<1"
  export PATH="$HOME/.local/bin:$PATH"
fi

say "Python dependencies (uv sync)"
# Bytecode compiled once at install: every process (app workers, CLI, tests) starts without compiling its
# imports again, which matters where PYTHONDONTWRITEBYTECODE keeps Python from caching them itself.
uv sync --frozen --quiet --compile-bytecode

if [ "$("$TOOLS/node_modules/.bin/bun" --version 2>/dev/null)" != "$BUN_VERSION" ]; then
  say "bun $BUN_VERSION from the npm registry"
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "bun@$BUN_VERSION" >/dev/null
fi

if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  say "Chromium (Debian package) for the end-to-end tests"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# Reflex: use our bun, never phone home.
export PATH="$TOOLS/node_modules/.bin:$ROOT/.venv/bin:$PATH"
export REFLEX_USE_SYSTEM_BUN=1
export REFLEX_TELEMETRY_ENABLED=false
