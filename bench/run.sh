#!/bin/bash
# Benchmarks of the auth listener, as ratios against a baseline in the same run
# (the machines are noisy; absolute numbers move, ratios hold).
#
#  1. throughput: /auth/nginx with valid app passwords vs nginx `return 200`, both over
#     keep-alive with the same wrk settings and the same script (auth.lua: the same request
#     headers, the same per-answer check), one after the other, at -t1 -c32 and -t2 -c64;
#  2. isolation: app-password latency (p99) alone, then while 4 clients keep primary-password
#     checks (Argon2id, 19 MiB, t=2) in flight.
#
# Usage: bench/run.sh [path/to/kunci] [seconds]
#        BENCH_STORE=postgresql bench/run.sh ...   (a scratch PostgreSQL on loopback)
set -euo pipefail
KUNCI=$(realpath "${1:-build/kunci}")
SECS=${2:-10}
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
threads = ${BENCH_THREADS:-2}
hash_workers = 2
[mail]
imap = 127.0.0.1:143
CONF
"$KUNCI" init >/dev/null

# 200 users with MFA enforced and one app password each; 8 users on primary passwords.
: >"$WORK/app.creds"
for i in $(seq 1 200); do
    u="user$i@example.org"
    "$KUNCI" user add "$u" --password-stdin <<<"Primary-pass-$i" >/dev/null
    "$KUNCI" mfa set "$u" enforced >/dev/null
    pw=$("$KUNCI" app-password create "$u" --name bench --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])')
    echo "$u $pw" >>"$WORK/app.creds"
done
: >"$WORK/primary.creds"
for i in $(seq 1 8); do
    u="legacy$i@example.org"
    "$KUNCI" user add "$u" --password-stdin <<<"Primary-pass-$i" >/dev/null
    echo "$u Primary-pass-$i" >>"$WORK/primary.creds"
done

"$KUNCI" serve 2>"$WORK/kunci.log" &
PIDS+=($!)
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server { listen 127.0.0.1:$NGINX; location / { add_header Auth-Status OK; return 200 ""; } }
}
CONF
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)
wait_listen "$AUTH"
wait_listen "$NGINX"

rps() { awk '/^Requests\/sec/ {print $2}'; }
echo "== store: ${BENCH_STORE:-sqlite}"
# Warm-up: every app password used once (its last use recorded, its row in each thread's
# cache), as on a server that has been running.
CREDS=$WORK/app.creds wrk -t2 -c8 -d2s -s "$HERE/auth.lua" "http://127.0.0.1:$AUTH/auth/nginx" >/dev/null
for W in "-t1 -c32" "-t2 -c64"; do
    echo "== throughput, ${SECS}s each, wrk $W (2 cores shared with wrk)"
    # shellcheck disable=SC2086
    base=$(CREDS=$WORK/app.creds wrk $W -d"${SECS}s" -s "$HERE/auth.lua" "http://127.0.0.1:$NGINX/auth/nginx" | rps)
    # shellcheck disable=SC2086
    out=$(CREDS=$WORK/app.creds wrk $W -d"${SECS}s" -s "$HERE/auth.lua" "http://127.0.0.1:$AUTH/auth/nginx")
    app=$(echo "$out" | rps)
    notok=$(echo "$out" | awk '/^not-ok:/ {print $2}')
    echo "nginx return 200:           $base req/s"
    echo "kunci /auth/nginx app pw:   $app req/s  (answers not OK: $notok)"
    echo "ratio kunci/nginx:          $(python3 -c "print(f'{$app/$base:.2f}')")"
done

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
