#!/usr/bin/env bash
# The local stack: RabbitMQ, Redis and a MongoDB-wire server (mongod where installed,
# else our FerretDB build) on loopback, with their data under var/.
#
#   bash deploy/local/stack.sh up       install what is missing, start what is not healthy
#   bash deploy/local/stack.sh down     stop what this script started (never foreign servers)
#   bash deploy/local/stack.sh status   one line per server; exit 0 when all are healthy
#   bash deploy/local/stack.sh up|stop|restart rabbitmq|redis|mongo ...
#                                       the same for the named servers only (the fault
#                                       tests restart one server of a private stack;
#                                       `down NAME` is `stop NAME`)
#
# A server already healthy on its port is left alone, whoever started it, so `up` is
# idempotent and coexists with a distro service or a hand-started server.
#
# Settings (environment): MAILBOX_AMQP_PORT (5672), MAILBOX_REDIS_PORT (6379),
# MAILBOX_MONGO_PORT (27017), MAILBOX_VAR_DIR (var/ of the repo: data, logs, pid files),
# MAILBOX_STACK_TIMEOUT_S (90), MAILBOX_FERRETDB_BIN (var/bin/ferretdb-local of
# MAILBOX_VAR_DIR). A second stack beside the first takes other ports and its own
# MAILBOX_VAR_DIR; pointing its MAILBOX_FERRETDB_BIN at the first stack's binary spares it
# the build.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVERS=(rabbitmq redis mongo)
FERRETDB_SRC="$MAILBOX_LOCAL_DIR/ferretdb"
FERRETDB_BIN="${MAILBOX_FERRETDB_BIN:-$MAILBOX_VAR_DIR/bin/ferretdb-local}"
PROBE_PY="$(helper_python)"

# Erlang node names are unique per host (epmd), so a second stack on other ports (a
# CI clone beside a developer's stack) gets its own.
rabbitmq_node() {
    if [ "$MAILBOX_AMQP_PORT" = 5672 ]; then echo mailbox@localhost; else echo "mailbox-$MAILBOX_AMQP_PORT@localhost"; fi
}

port_of() {
    case "$1" in
    rabbitmq) echo "$MAILBOX_AMQP_PORT" ;;
    redis) echo "$MAILBOX_REDIS_PORT" ;;
    mongo) echo "$MAILBOX_MONGO_PORT" ;;
    esac
}

mongo_engine() {
    if command -v mongod >/dev/null 2>&1; then echo mongod; else echo ferretdb; fi
}

data_dir_of() {
    case "$1" in
    mongo) echo "$MAILBOX_VAR_DIR/$(mongo_engine)" ;;
    *) echo "$MAILBOX_VAR_DIR/$1" ;;
    esac
}

log_of() {
    case "$1" in
    rabbitmq) echo "$MAILBOX_LOG_DIR/rabbitmq/$(rabbitmq_node).log" ;;
    *) echo "$MAILBOX_LOG_DIR/$1.log" ;;
    esac
}

# What the process's command line must contain for a pid file to be trusted: a pid
# reused by an unrelated program after a reboot must never be signalled.
marker_of() {
    case "$1" in
    rabbitmq) echo "beam" ;;
    rabbitmq-wrapper) echo "rabbitmq-server" ;;
    redis) echo "redis-server" ;;
    mongo) if [ "$(mongo_engine)" = mongod ]; then echo mongod; else echo ferretdb-local; fi ;;
    esac
}

healthy() {
    local probe
    case "$1" in rabbitmq) probe=amqp ;; *) probe="$1" ;; esac
    "$PROBE_PY" "$MAILBOX_LOCAL_DIR/probe.py" "$probe" "$(port_of "$1")" --timeout-s 2 2>/dev/null
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Pid of whatever listens on the port, for `status` only (empty when `ss` cannot tell).
listener_pid() {
    command -v ss >/dev/null 2>&1 || return 0
    ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true
}

# var/run/NAME-PORT.pid: the port is part of the name, so a stack started on other
# ports never takes the default stack's process for its own.
pidfile_of() {
    local port
    case "$1" in
    rabbitmq-wrapper) port="$(port_of rabbitmq)" ;;
    *) port="$(port_of "$1")" ;;
    esac
    echo "$MAILBOX_RUN_DIR/$1-$port.pid"
}

# Prints the pid recorded in var/run/NAME-PORT.pid when that process is alive and is ours;
# removes a stale pid file.
pid_from_file() {
    local name="$1" file pid
    file="$(pidfile_of "$name")"
    [ -s "$file" ] || return 0
    pid="$(tr -dc '0-9' <"$file")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(marker_of "$name")"; then
        echo "$pid"
    else
        rm -f "$file"
    fi
}

# The stack's own process for a server: for RabbitMQ the Erlang VM once it has written
# its pid file, else the wrapper script that is still booting it.
our_pid() {
    local pid
    pid="$(pid_from_file "$1")"
    if [ -z "$pid" ] && [ "$1" = rabbitmq ]; then
        pid="$(pid_from_file rabbitmq-wrapper)"
    fi
    echo "$pid"
}

# Starts a command detached from this shell's session, so it outlives the script and the
# terminal; records its pid.
spawn() {
    local name="$1" log="$2"
    shift 2
    mkdir -p "$(dirname "$log")" "$MAILBOX_RUN_DIR"
    # The lock fd is closed in the child: a daemon that inherited it would hold the
    # stack lock for as long as it runs.
    setsid nohup "$@" >>"$log" 2>&1 </dev/null {_mailbox_lock_fd}>&- &
    echo "$!" >"$(pidfile_of "$name")"
}

rabbitmq_server_bin() {
    # Debian's /usr/sbin wrapper switches to the rabbitmq user, who cannot write var/;
    # the script it wraps runs the broker as the caller.
    if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
        echo /usr/lib/rabbitmq/bin/rabbitmq-server
    else
        command -v rabbitmq-server || true
    fi
}

missing_package_of() {
    case "$1" in
    rabbitmq) [ -n "$(rabbitmq_server_bin)" ] || echo rabbitmq-server ;;
    redis) command -v redis-server >/dev/null 2>&1 || echo redis-server ;;
    mongo) ;; # FerretDB is built from deploy/local/ferretdb with Go, below
    esac
}

go_bin() {
    if command -v go >/dev/null 2>&1; then
        command -v go
    elif [ -x /usr/local/go/bin/go ]; then
        echo /usr/local/go/bin/go
    else
        die "Go is missing: it builds FerretDB (deploy/local/ferretdb); install Go 1.24+ or mongod"
    fi
}

# Builds the FerretDB binary when its sources changed since the last build.
build_ferretdb() {
    local stamp="$FERRETDB_BIN.src-sha256" want log="$MAILBOX_LOG_DIR/ferretdb-build.log"
    want="$(cat "$FERRETDB_SRC/main.go" "$FERRETDB_SRC/go.mod" "$FERRETDB_SRC/go.sum" \
        "$FERRETDB_SRC/build.sh" "$FERRETDB_SRC/writes.patch" "$FERRETDB_SRC/id_in.go.in" | sha256sum | cut -d' ' -f1)"
    if [ -x "$FERRETDB_BIN" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    mkdir -p "$(dirname "$FERRETDB_BIN")" "$MAILBOX_LOG_DIR"
    say "building FerretDB v1.24.2 into $FERRETDB_BIN (first build takes a few minutes; log: $log)"
    # GOTOOLCHAIN=local: no toolchain can be downloaded here; the installed Go must do.
    # A name of its own: two stacks sharing one binary (MAILBOX_FERRETDB_BIN) may build at
    # once, and mv replaces the file a running server holds open without touching it.
    local tmp="$FERRETDB_BIN.tmp.$$"
    if ! GO="$(go_bin)" bash "$FERRETDB_SRC/build.sh" "$tmp" >"$log" 2>&1; then
        rm -f "$tmp"
        tail -n 30 "$log" >&2
        die "building FerretDB failed"
    fi
    mv -f "$tmp" "$FERRETDB_BIN"
    echo "$want" >"$stamp"
}

start_rabbitmq() {
    local base="$MAILBOX_VAR_DIR/rabbitmq"
    mkdir -p "$base/mnesia" "$MAILBOX_LOG_DIR/rabbitmq"
    # Our own (empty) plugin list and config, so a distro-wide management plugin or
    # /etc/rabbitmq setting never changes what the tests run against.
    echo "[]." >"$base/enabled_plugins"
    : >"$base/rabbitmq-env.conf"
    cat >"$base/rabbitmq.conf" <<'EOF'
# Written by deploy/local/stack.sh on every start; edits are lost.
loopback_users.guest = true
log.console = false
log.file.level = info
EOF
    rm -f "$(pidfile_of rabbitmq)"
    spawn rabbitmq-wrapper "$MAILBOX_LOG_DIR/rabbitmq/startup.log" env \
        HOME="$base" \
        ERL_EPMD_ADDRESS=127.0.0.1 \
        RABBITMQ_NODENAME="$(rabbitmq_node)" \
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
        RABBITMQ_NODE_PORT="$MAILBOX_AMQP_PORT" \
        RABBITMQ_DIST_PORT="$((MAILBOX_AMQP_PORT + 20000))" \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
        RABBITMQ_MNESIA_BASE="$base/mnesia" \
        RABBITMQ_LOG_BASE="$MAILBOX_LOG_DIR/rabbitmq" \
        RABBITMQ_PID_FILE="$(pidfile_of rabbitmq)" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" \
        RABBITMQ_CONFIG_FILE="$base/rabbitmq.conf" \
        RABBITMQ_ADVANCED_CONFIG_FILE="$base/advanced.config" \
        RABBITMQ_CONF_ENV_FILE="$base/rabbitmq-env.conf" \
        "$(rabbitmq_server_bin)"
}

start_redis() {
    local data
    data="$(data_dir_of redis)"
    mkdir -p "$data"
    # No snapshots or append-only file: local Redis only holds timers that the
    # deadlines service rebuilds from MongoDB (design.md, Timers).
    spawn redis "$(log_of redis)" redis-server --port "$MAILBOX_REDIS_PORT" --bind 127.0.0.1 \
        --dir "$data" --save "" --appendonly no --daemonize no --logfile ""
}

start_mongo() {
    local data
    data="$(data_dir_of mongo)"
    mkdir -p "$data"
    if [ "$(mongo_engine)" = mongod ]; then
        spawn mongo "$(log_of mongo)" mongod --bind_ip 127.0.0.1 --port "$MAILBOX_MONGO_PORT" \
            --dbpath "$data"
    else
        build_ferretdb
        spawn mongo "$(log_of mongo)" "$FERRETDB_BIN" -listen "127.0.0.1:$MAILBOX_MONGO_PORT" \
            -data "$data"
    fi
}

fail_with_log() {
    local name="$1" reason="$2" log
    log="$(log_of "$name")"
    say "--- last lines of $log ---"
    tail -n 30 "$log" >&2 2>/dev/null || true
    if [ "$name" = rabbitmq ]; then tail -n 15 "$MAILBOX_LOG_DIR/rabbitmq/startup.log" >&2 2>/dev/null || true; fi
    die "$name on 127.0.0.1:$(port_of "$name"): $reason"
}

# Waits until the server answers; fails early when the process we started has died.
wait_healthy() {
    local name="$1" deadline=$((SECONDS + MAILBOX_STACK_TIMEOUT_S))
    until healthy "$name"; do
        if [ -z "$(our_pid "$name")" ] && ! port_open "$(port_of "$name")"; then
            fail_with_log "$name" "the server exited during start-up"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            fail_with_log "$name" "not healthy after ${MAILBOX_STACK_TIMEOUT_S}s"
        fi
        sleep 0.5
    done
}

# Decides what `up` must do for one server: nothing (healthy), wait (ours, booting),
# or start. A port held by something that is not this server is an error, not a retry.
needs_start() {
    local name="$1" port
    port="$(port_of "$name")"
    healthy "$name" && return 1
    [ -n "$(our_pid "$name")" ] && return 1
    if port_open "$port"; then
        # Perhaps a server that is still booting (a distro service just installed).
        local deadline=$((SECONDS + 15))
        while [ "$SECONDS" -lt "$deadline" ]; do
            healthy "$name" && return 1
            sleep 1
        done
        die "port $port is taken by something that does not answer as $name (pid $(listener_pid "$port")); stop it or set MAILBOX_$(port_var_of "$name")"
    fi
    return 0
}

port_var_of() {
    case "$1" in rabbitmq) echo AMQP_PORT ;; redis) echo REDIS_PORT ;; mongo) echo MONGO_PORT ;; esac
}

# Dies on a name that is not one of SERVERS (called before any work is done).
check_names() {
    local name
    for name in "$@"; do
        case "$name" in
        rabbitmq | redis | mongo) ;;
        *) die "unknown server '$name' (rabbitmq, redis or mongo)" ;;
        esac
    done
}

# The servers named on the command line, in the order given; all when none.
servers_named() {
    if [ "$#" -eq 0 ]; then set -- "${SERVERS[@]}"; fi
    printf '%s\n' "$@"
}

cmd_up() {
    take_lock stack
    local name names=() to_start=() packages=()
    mapfile -t names < <(servers_named "$@")
    for name in "${names[@]}"; do
        if needs_start "$name"; then to_start+=("$name"); fi
    done
    for name in "${to_start[@]}"; do
        local pkg
        pkg="$(missing_package_of "$name")"
        if [ -n "$pkg" ]; then packages+=("$pkg"); fi
    done
    if [ "${#packages[@]}" -gt 0 ]; then
        apt_install "${packages[@]}"
    fi
    local started=()
    for name in "${to_start[@]}"; do
        # Installing may have started the distro's own service on the default port.
        if healthy "$name"; then continue; fi
        "start_$name"
        started+=("$name")
    done
    for name in "${names[@]}"; do
        wait_healthy "$name"
    done
    for name in "${started[@]}"; do
        say "started $name on 127.0.0.1:$(port_of "$name") (pid $(our_pid "$name"), data $(data_dir_of "$name"))"
    done
}

stop_pid() {
    local pid="$1" deadline=$((SECONDS + 60))
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
}

# Stops one server if this script started it; a foreign one is left running.
stop_server() {
    local name="$1" pid
    pid="$(our_pid "$name")"
    if [ -n "$pid" ]; then
        stop_pid "$pid"
        say "stopped $name (pid $pid)"
    elif healthy "$name"; then
        say "$name on 127.0.0.1:$(port_of "$name") was not started by the stack (pid $(listener_pid "$(port_of "$name")")): left running"
    fi
    if [ "$name" = rabbitmq ]; then
        pid="$(pid_from_file rabbitmq-wrapper)"
        if [ -n "$pid" ]; then stop_pid "$pid"; fi
        rm -f "$(pidfile_of rabbitmq-wrapper)"
    fi
    rm -f "$(pidfile_of "$name")"
}

cmd_stop() {
    take_lock stack
    local name names=()
    mapfile -t names < <(servers_named "$@")
    for name in "${names[@]}"; do
        stop_server "$name"
    done
}


cmd_status() {
    local name port pid state owner all_ok=0 label
    for name in "${SERVERS[@]}"; do
        port="$(port_of "$name")"
        pid="$(our_pid "$name")"
        label="$name"
        if [ "$name" = mongo ]; then label="mongo ($(mongo_engine))"; fi
        if healthy "$name"; then
            state="healthy"
        elif [ -n "$pid" ]; then
            state="starting/unhealthy"
            all_ok=1
        else
            state="not running"
            all_ok=1
        fi
        if [ -n "$pid" ]; then
            owner="pid $pid, data $(data_dir_of "$name"), log $(log_of "$name")"
        elif [ "$state" = healthy ]; then
            owner="pid $(listener_pid "$port"), not started by the stack"
            label="$name"
        else
            owner="data $(data_dir_of "$name")"
        fi
        printf '%-17s %-19s 127.0.0.1:%-6s %s\n' "$label" "$state" "$port" "$owner"
    done
    return "$all_ok"
}

command="${1:-}"
shift || true
check_names "$@"
case "$command" in
up) cmd_up "$@" ;;
down) cmd_stop "$@" ;;
stop)
    [ "$#" -gt 0 ] || die "stop which server? rabbitmq, redis or mongo (\`down\` stops all)"
    cmd_stop "$@"
    ;;
restart)
    [ "$#" -gt 0 ] || die "restart which server? rabbitmq, redis or mongo"
    for name in "$@"; do
        if [ -z "$(our_pid "$name")" ] && healthy "$name"; then
            die "$name on 127.0.0.1:$(port_of "$name") was not started by this stack: not restarting it"
        fi
    done
    # A subshell: the stack lock it takes is released before `up` takes it again.
    (cmd_stop "$@")
    cmd_up "$@"
    ;;
status) cmd_status ;;
*)
    say "usage: bash deploy/local/stack.sh up|down|status, or up|stop|restart rabbitmq|redis|mongo ..."
    exit 2
    ;;
esac
