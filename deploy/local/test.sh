#!/usr/bin/env bash
# THE test command (README; .ci/run calls it): makes .venv/, starts the local stack,
# then runs ruff, ruff format --check, mypy (strict) and pytest over the whole repo.
#
#   bash deploy/local/test.sh                  the whole suite
#   bash deploy/local/test.sh tests/deploy -x  pytest arguments pass through
#
# Every check runs even when an earlier one fails, so one run shows everything; the
# exit code is non-zero when any failed. pytest collecting no test is a failure
# unless MAILBOX_ALLOW_NO_TESTS=1.
set -uo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "$MAILBOX_LOCAL_DIR/bootstrap.sh" || die "bootstrap failed"
bash "$MAILBOX_LOCAL_DIR/stack.sh" up || die "the local stack did not come up"
# shellcheck source=deploy/local/env.sh
source "$MAILBOX_LOCAL_DIR/env.sh"

# tests/deploy/test_compose.py validates docker-compose.yml with a compose client;
# Debian's docker-compose does `config` without a Docker engine.
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
    (apt_install docker-compose) || say "warning: docker-compose could not be installed; its check will be skipped"
fi
# tests/browser drive Debian's Chromium through Playwright (never `playwright install`,
# which downloads a browser build); the CJK fonts draw the pages' Chinese.
browser_packages=()
command -v chromium >/dev/null 2>&1 || browser_packages+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'ok installed' ||
    browser_packages+=(fonts-noto-cjk)
if [ "${#browser_packages[@]}" -gt 0 ]; then
    apt_install "${browser_packages[@]}"
fi

cd "$MAILBOX_REPO_ROOT" || die "no repo root"
venv="$MAILBOX_REPO_ROOT/.venv/bin"
failed=()
results=()

check() {
    local name="$1"
    shift
    echo "--- $name: $*"
    if "$@"; then
        results+=("$name ok")
    else
        results+=("$name FAILED")
        failed+=("$name")
    fi
}

check ruff "$venv/ruff" check .
check format "$venv/ruff" format --check .
check mypy "$venv/mypy" .

if [ "$#" -eq 0 ]; then set -- -q; fi
echo "--- pytest: $*"
pytest_log="$MAILBOX_LOG_DIR/pytest-last.log"
"$venv/pytest" "$@" 2>&1 | tee "$pytest_log"
pytest_rc="${PIPESTATUS[0]}"
pytest_said="$(grep -v '^[[:space:]]*$' "$pytest_log" | tail -n 1 | sed -e 's/^=* *//' -e 's/ *=*$//')"
case "$pytest_rc" in
0) results+=("pytest ok ($pytest_said)") ;;
5)
    if [ "${MAILBOX_ALLOW_NO_TESTS:-0}" = 1 ]; then
        results+=("pytest collected no tests (allowed)")
    else
        results+=("pytest FAILED: no tests collected")
        failed+=(pytest)
    fi
    ;;
*)
    results+=("pytest FAILED ($pytest_said)")
    failed+=(pytest)
    ;;
esac

summary="$(printf '%s, ' "${results[@]}")"
if [ "${#failed[@]}" -eq 0 ]; then
    echo "test.sh: PASS: ${summary%, }"
else
    echo "test.sh: FAIL (${failed[*]}): ${summary%, }"
    exit 1
fi
