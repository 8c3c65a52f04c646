#!/usr/bin/env bash
# Makes .venv/ at the repo root from uv.lock: the project (with its `mailbox` command)
# and the dev tools. Installs uv with pip where missing. Cheap when already current.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# No interpreter can be downloaded here: uv must use the machine's Python 3.11+.
export UV_PYTHON_DOWNLOADS=never

find_uv() {
    if command -v uv >/dev/null 2>&1; then
        command -v uv
        return 0
    fi
    local py
    py="$(command -v python3)" || die "python3 is missing: install Python 3.11+"
    if ! "$py" -m uv --version >/dev/null 2>&1; then
        say "installing uv with pip"
        "$py" -m pip install --quiet --disable-pip-version-check uv >&2 || die "pip install uv failed"
    fi
    # A wrapper, so callers run "$UV" like a plain command either way.
    mkdir -p "$MAILBOX_VAR_DIR/bin"
    printf '#!/bin/sh\nexec %q -m uv "$@"\n' "$py" >"$MAILBOX_VAR_DIR/bin/uv"
    chmod +x "$MAILBOX_VAR_DIR/bin/uv"
    echo "$MAILBOX_VAR_DIR/bin/uv"
}

take_lock bootstrap
UV="$(find_uv)"
log="$MAILBOX_LOG_DIR/bootstrap.log"
mkdir -p "$MAILBOX_LOG_DIR"
if [ ! -x "$MAILBOX_REPO_ROOT/.venv/bin/python" ]; then
    say "creating .venv/ from uv.lock (log: $log)"
fi
if ! (cd "$MAILBOX_REPO_ROOT" && "$UV" sync --frozen) >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "uv sync --frozen failed (is uv.lock current? run: uv lock)"
fi
[ -x "$MAILBOX_REPO_ROOT/.venv/bin/mailbox" ] || die ".venv/bin/mailbox is missing after uv sync"
