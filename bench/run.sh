#!/bin/bash
# Benchmarks of the auth listener, as ratios against a baseline in the same run
# (the machines are noisy; absolute numbers move, ratios hold).
#
#  1. throughput: /auth/nginx with valid app passwords vs nginx `return 200`, both over
#     keep-alive with the same wrk settings and the same script (auth.lua: the same request
#     headers, the same per-answer check), at -t1 -c32 and -t2 -c64, and with the same
#     parallelism on both sides: nginx with N workers against kunci with N request threads,
#     N = 1 and 2. Each ratio is the median of ROUNDS rounds that alternate the two servers
#     (and which of them goes first), so a moment of noise on the machine moves one round,
#     not the figure;
#  2. isolation: app-password latency (p99) alone, then while 4 clients keep primary-password
#     checks (Argon2id, 19 MiB, t=2) in flight.
#
# Usage: bench/run.sh [path/to/kunci] [seconds per measurement]
#        BENCH_STORE=postgresql bench/run.sh ...   (a scratch PostgreSQL on loopback)
#        BENCH_ROUNDS=5 bench/run.sh ...            (rounds per ratio, 5 by default)
set -euo pipefail
KUNCI=$(realpath "${1:-build/kunci}")
SECS=${2:-5}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

AUTH=$(port)
NGINX=$(port)
export KUNCI_DATA_DIR=$WORK/data
export KUNCI_CONFIG=$WORK/kunci.conf
STORE=""
if [ "${BENCH_STORE:-sqlite}" = postgresql ]; then
    chmod 755 "$WORK"
    uri=$("$HERE/../scripts/test-postgres.sh" start "$WORK/pg" "$(port)")
    STORE="[store]
backend = postgresql
location = $uri"
fi
cat >"$KUNCI_CONFIG" <<CONF
$STORE
[serve]
auth_listen = 127.0.0.1:$AUTH
threads = 2
hash_workers = 2
[mail]
imap = 127.0.0.1:143
CONF
"$KUNCI" init >/dev/null

# 200 users with MFA enforced and one app password each; 8 users on primary passwords.
: >"$WORK/app.creds"
add_app_password_users 200 1 "$WORK/app.creds"
: >"$WORK/primary.creds"
add_primary_users 8 "$WORK/primary.creds"

# kunci serve and nginx with N request threads / worker processes (restarted for each N).
KUNCI_PID=""
NGINX_PID=""
start_servers() {
    local n=$1
    if [ -n "$KUNCI_PID" ]; then kill "$KUNCI_PID"; wait "$KUNCI_PID" 2>/dev/null || true; fi
    if [ -n "$NGINX_PID" ]; then kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; fi
    sed -i "s/^threads = .*/threads = $n/" "$KUNCI_CONFIG"
    "$KUNCI" serve 2>>"$WORK/kunci.log" &
    KUNCI_PID=$!
    PIDS+=("$KUNCI_PID")
    baseline_nginx "$n" "$NGINX" &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    wait_listen "$AUTH"
    wait_listen "$NGINX"
    # Warm-up: every app password used once (its last use recorded, its row in each
    # thread's cache), as on a server that has been running.
    CREDS=$WORK/app.creds wrk -t2 -c8 -d2s -s "$HERE/auth.lua" "http://127.0.0.1:$AUTH/auth/nginx" >/dev/null
}

rps() { awk '/^Requests\/sec/ {print $2}'; }
median() { python3 -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.2f}")' "$@"; }
ROUNDS=${BENCH_ROUNDS:-5}
echo "== store: ${BENCH_STORE:-sqlite}"
for N in 1 2; do
    start_servers "$N"
    for W in "-t1 -c32" "-t2 -c64"; do
        echo "== throughput: nginx $N worker(s) vs kunci $N request thread(s), wrk $W, ${SECS}s each, $ROUNDS rounds (2 cores shared with wrk)"
        ratios=()
        for r in $(seq 1 "$ROUNDS"); do
            # Odd rounds nginx first, even rounds kunci first: neither always runs second.
            if [ $((r % 2)) = 1 ]; then
                # shellcheck disable=SC2086
                base=$(CREDS=$WORK/app.creds wrk $W -d"${SECS}s" -s "$HERE/auth.lua" "http://127.0.0.1:$NGINX/auth/nginx" | rps)
            fi
            # shellcheck disable=SC2086
            out=$(CREDS=$WORK/app.creds wrk $W -d"${SECS}s" -s "$HERE/auth.lua" "http://127.0.0.1:$AUTH/auth/nginx")
            if [ $((r % 2)) = 0 ]; then
                # shellcheck disable=SC2086
                base=$(CREDS=$WORK/app.creds wrk $W -d"${SECS}s" -s "$HERE/auth.lua" "http://127.0.0.1:$NGINX/auth/nginx" | rps)
            fi
            app=$(echo "$out" | rps)
            notok=$(echo "$out" | awk '/^not-ok:/ {print $2}')
            ratio=$(python3 -c "print(f'{$app/$base:.2f}')")
            ratios+=("$ratio")
            echo "round $r: nginx $base req/s, kunci $app req/s (answers not OK: $notok), ratio $ratio"
        done
        echo "ratio kunci/nginx (median):  $(median "${ratios[@]}")"
    done
done
curl -s "http://127.0.0.1:$AUTH/metrics" | awk '/^kunci_app_password_cache_total/ {print "cache: " $0}'

echo "== isolation: app-password p99 with wrk -t1 -c4, ${SECS}s"
alone=$(CREDS=$WORK/app.creds wrk -t1 -c4 -d"${SECS}s" -s "$HERE/auth.lua" "http://127.0.0.1:$AUTH/auth/nginx")
CREDS=$WORK/primary.creds wrk -t1 -c4 -d"$((SECS + 4))s" -s "$HERE/auth.lua" "http://127.0.0.1:$AUTH/auth/nginx" >"$WORK/primary.out" &
HASHLOAD=$!
sleep 2
loaded=$(CREDS=$WORK/app.creds wrk -t1 -c4 -d"${SECS}s" -s "$HERE/auth.lua" "http://127.0.0.1:$AUTH/auth/nginx")
wait $HASHLOAD
echo "app pw alone:               p99 $(echo "$alone" | awk '/^p99-ms:/ {print $2}') ms, $(echo "$alone" | rps) req/s"
echo "app pw + 4 primary clients: p99 $(echo "$loaded" | awk '/^p99-ms:/ {print $2}') ms, $(echo "$loaded" | rps) req/s (not OK: $(echo "$loaded" | awk '/^not-ok:/ {print $2}'))"
echo "primary-password checks:    $(rps <"$WORK/primary.out") req/s (not OK: $(awk '/^not-ok:/ {print $2}' "$WORK/primary.out"))"
