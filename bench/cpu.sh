#!/bin/bash
# CPU time per request: what the server itself spends on one /auth/nginx answer, from the
# kernel's account of its CPU time (perf stat -e task-clock) while wrk keeps it busy. Unlike
# requests per second, which move with whatever else the two cores run (wrk included), this
# moves little from run to run, so it tells what a change to the auth path is worth.
#
# nginx (one worker, `return 200`) and kunci (one request thread, valid app passwords; and
# BASELINE_KUNCI, if given, on the same database) take turns, ROUNDS times, under the same
# wrk -t1 -c32 and the same script as bench/run.sh; each line is one measurement, and the
# medians close the run.
#
# Usage: bench/cpu.sh [KUNCI] [BASELINE_KUNCI]    (seconds per measurement: SECS, 5;
#        rounds: ROUNDS, 5; a scratch database with 200 app passwords)
set -euo pipefail
KUNCI=$(realpath "${1:-build/kunci}")
BASELINE=${2:+$(realpath "$2")}
SECS=${SECS:-5}
ROUNDS=${ROUNDS:-5}
command -v perf >/dev/null || {
    echo "bench/cpu.sh needs perf (Debian: linux-perf)" >&2
    exit 2
}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

export KUNCI_DATA_DIR=$WORK/data
export KUNCI_CONFIG=$WORK/kunci.conf
AUTH=$(port)
BASE_AUTH=$(port)
NGINX=$(port)
write_config() {
    printf '[serve]\nauth_listen = 127.0.0.1:%s\nweb_listen = 127.0.0.1:%s\nthreads = 1\nhash_workers = 1\n[mail]\nimap = 127.0.0.1:143\n' \
        "$1" "$(port)" >"$2"
}
write_config "$AUTH" "$KUNCI_CONFIG"
write_config "$BASE_AUTH" "$WORK/baseline.conf"
"$KUNCI" init >/dev/null
: >"$WORK/app.creds"
add_app_password_users 200 1 "$WORK/app.creds"

"$KUNCI" serve 2>>"$WORK/kunci.log" &
PIDS+=("$!")
declare -A SERVER_PID=([kunci]=$! [baseline]="")
declare -A SERVER_PORT=([kunci]=$AUTH [baseline]=$BASE_AUTH [nginx]=$NGINX)
SERVERS=(nginx kunci)
if [ -n "$BASELINE" ]; then
    KUNCI_CONFIG=$WORK/baseline.conf "$BASELINE" serve 2>>"$WORK/baseline.log" &
    PIDS+=("$!")
    SERVER_PID[baseline]=$!
    SERVERS+=(baseline)
fi
baseline_nginx 1 "$NGINX" &
PIDS+=("$!")
NGINX_MASTER=$!
for s in "${SERVERS[@]}"; do wait_listen "${SERVER_PORT[$s]}"; done
for _ in $(seq 1 50); do
    SERVER_PID[nginx]=$(pgrep -P "$NGINX_MASTER" || true)
    [ -n "${SERVER_PID[nginx]}" ] && break
    sleep 0.1
done
# Warm-up: every app password used once by each kunci (its row in the thread's cache).
for s in "${SERVERS[@]}"; do
    CREDS=$WORK/app.creds wrk -t1 -c8 -d2s -s "$HERE/auth.lua" "http://127.0.0.1:${SERVER_PORT[$s]}/auth/nginx" >/dev/null
done

# Prints the microseconds of CPU per request of server $1 under one measurement.
measure() {
    local s=$1 out ms rps
    perf stat -x, -e task-clock -p "${SERVER_PID[$s]}" -o "$WORK/perf.$s" -- sleep "$SECS" 2>/dev/null &
    local perf_pid=$!
    out=$(CREDS=$WORK/app.creds wrk -t1 -c32 -d"${SECS}s" -s "$HERE/auth.lua" "http://127.0.0.1:${SERVER_PORT[$s]}/auth/nginx")
    wait "$perf_pid"
    rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
    if [ "$s" != nginx ] && [ "$(echo "$out" | awk '/^not-ok:/ {print $2}')" != 0 ]; then
        echo "$s answered not OK: the set-up is broken" >&2
        exit 1
    fi
    ms=$(awk -F, '/task-clock/ {print $1}' "$WORK/perf.$s")
    python3 -c "print(f'{$ms * 1000 / ($rps * $SECS):.2f}')"
}

declare -A RESULTS
echo "== CPU per request (µs), wrk -t1 -c32, ${SECS}s each, $ROUNDS rounds; one worker / one request thread"
for r in $(seq 1 "$ROUNDS"); do
    line="round $r:"
    # Each round starts with the next server, so none is always measured first.
    for i in $(seq 0 $((${#SERVERS[@]} - 1))); do
        s=${SERVERS[$(((i + r) % ${#SERVERS[@]}))]}
        v=$(measure "$s")
        RESULTS[$s]="${RESULTS[$s]:-} $v"
        line="$line $s $v"
    done
    echo "$line"
done
median() { python3 -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.2f}")' "$@"; }
nginx_median=$(median ${RESULTS[nginx]})
for s in "${SERVERS[@]}"; do
    m=$(median ${RESULTS[$s]})
    echo "median $s: $m µs per request ($(python3 -c "print(f'{$m / $nginx_median:.2f}')")x nginx)"
done
