# shellcheck shell=bash
# Shared by the deploy/local scripts (sourced, never run): paths, ports, messages,
# root and apt helpers, locks. Every setting can be overridden from the environment.

MAILBOX_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MAILBOX_VAR_DIR="${MAILBOX_VAR_DIR:-$MAILBOX_REPO_ROOT/var}"
mkdir -p "$MAILBOX_VAR_DIR"
MAILBOX_VAR_DIR="$(cd "$MAILBOX_VAR_DIR" && pwd)"
MAILBOX_AMQP_PORT="${MAILBOX_AMQP_PORT:-5672}"
MAILBOX_REDIS_PORT="${MAILBOX_REDIS_PORT:-6379}"
MAILBOX_MONGO_PORT="${MAILBOX_MONGO_PORT:-27017}"
# Seconds to wait for a server to become healthy after starting it; RabbitMQ's first
# boot (creating its database) is the slow one, a few seconds on this kind of machine.
MAILBOX_STACK_TIMEOUT_S="${MAILBOX_STACK_TIMEOUT_S:-90}"
export MAILBOX_REPO_ROOT MAILBOX_VAR_DIR MAILBOX_AMQP_PORT MAILBOX_REDIS_PORT MAILBOX_MONGO_PORT

MAILBOX_LOG_DIR="$MAILBOX_VAR_DIR/log"
MAILBOX_RUN_DIR="$MAILBOX_VAR_DIR/run"
# shellcheck disable=SC2034  # used by the scripts that source this file
MAILBOX_LOCAL_DIR="$MAILBOX_REPO_ROOT/deploy/local"

say() { printf '%s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Runs a command as root: directly when we are root (CI, these machines), else via sudo.
as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "installing needs root, and sudo is missing: run as root: $*"
    fi
}

# Installs Debian packages quietly; the full apt output goes to var/log/apt.log and
# its tail is shown on failure. `apt-get update` runs once per script run.
_MAILBOX_APT_UPDATED=""
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get is missing: install $* by hand"
    mkdir -p "$MAILBOX_LOG_DIR"
    local log="$MAILBOX_LOG_DIR/apt.log"
    say "installing $* with apt-get (log: $log)"
    if [ -z "$_MAILBOX_APT_UPDATED" ]; then
        if ! as_root apt-get -o DPkg::Lock::Timeout=300 update >>"$log" 2>&1; then
            tail -n 20 "$log" >&2
            die "apt-get update failed"
        fi
        _MAILBOX_APT_UPDATED=1
    fi
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
        install -y "$@" >>"$log" 2>&1; then
        tail -n 20 "$log" >&2
        die "apt-get install $* failed"
    fi
}

# The interpreter for helper scripts: the project's venv when made, else the system's.
helper_python() {
    if [ -x "$MAILBOX_REPO_ROOT/.venv/bin/python" ]; then
        printf '%s\n' "$MAILBOX_REPO_ROOT/.venv/bin/python"
    elif command -v python3 >/dev/null 2>&1; then
        command -v python3
    else
        die "python3 is missing"
    fi
}

# Holds an exclusive lock on var/run/NAME.lock for the rest of the calling shell, so
# two engineers (or a test run and `mailbox stack up`) never start the same server twice.
take_lock() {
    local name="$1"
    mkdir -p "$MAILBOX_RUN_DIR"
    exec {_mailbox_lock_fd}>"$MAILBOX_RUN_DIR/$name.lock"
    if ! flock -w 900 "$_mailbox_lock_fd"; then
        die "another $name run still holds $MAILBOX_RUN_DIR/$name.lock after 15 minutes"
    fi
}
