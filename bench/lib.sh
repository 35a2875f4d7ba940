# shellcheck shell=bash
# Sourced by the benchmark scripts: a scratch folder ($WORK), free ports on 127.0.0.1, and
# the processes a script started ($PIDS) and its PostgreSQL ($WORK/pg) stopped at exit.
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/kunci-bench-XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -d "$WORK/pg" ]; then "$HERE/../scripts/test-postgres.sh" stop "$WORK/pg"; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits (at most 5 s) until something listens on the port.
wait_listen() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "nothing listens on $1" >&2
    return 1
}
