#!/bin/bash
# Instructions per app-password check on /auth/nginx, counted by callgrind: unlike requests
# per second on a shared, noisy machine, the count is the same from run to run, so two
# builds can be compared to a few percent. The server runs under callgrind twice, answering
# N1 and then N2 requests (one keep-alive connection, valid app passwords); the difference
# divided by N2 - N1 is the cost of one check, start-up excluded.
#
# Usage: bench/instructions.sh KUNCI [BASELINE_KUNCI]   (prints both and the ratio)
#        KUNCI_SETTINGS="activity_days=0" bench/instructions.sh ...   (settings for the run)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
N1=${N1:-500}
N2=${N2:-2500}

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# total instructions of a server that answered $2 requests
run_once() {
    local kunci=$1 n=$2 work
    work=$(mktemp -d /tmp/kunci-instr-XXXXXX)
    local auth
    auth=$(port)
    export KUNCI_DATA_DIR=$work/data KUNCI_CONFIG=$work/kunci.conf
    printf '[serve]\nauth_listen = 127.0.0.1:%s\nweb_listen = 127.0.0.1:%s\nthreads = 1\nhash_workers = 1\n[mail]\nimap = 127.0.0.1:143\n' \
        "$auth" "$(port)" >"$KUNCI_CONFIG"
    "$kunci" init >/dev/null
    : >"$work/creds"
    for i in $(seq 1 20); do
        "$kunci" user add "u$i@example.org" --password-stdin <<<"Primary-pass-$i" >/dev/null
        "$kunci" mfa set "u$i@example.org" enforced >/dev/null
        "$kunci" app-password create "u$i@example.org" --name bench --json |
            python3 -c 'import json,sys; print(sys.argv[1], json.load(sys.stdin)["password"])' \
                "u$i@example.org" >>"$work/creds"
    done
    for kv in ${KUNCI_SETTINGS:-}; do
        "$kunci" settings set "${kv%%=*}" "${kv#*=}" >/dev/null
    done
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$kunci" serve \
        2>"$work/valgrind.log" &
    local pid=$!
    python3 - "$auth" "$n" "$work/creds" <<'PY'
import http.client, sys, time, urllib.parse
port, n, creds = int(sys.argv[1]), int(sys.argv[2]), [l.split(" ", 1) for l in open(sys.argv[3]).read().splitlines()]
for _ in range(600):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", "/healthz")
        c.getresponse().read()
        break
    except OSError:
        time.sleep(0.1)
for i in range(n):
    login, pw = creds[i % len(creds)]
    c.request("GET", "/auth/nginx", headers={
        "Auth-Method": "plain", "Auth-Protocol": "imap", "Client-IP": "127.0.0.1",
        "Auth-User": login, "Auth-Pass": urllib.parse.quote(pw), "Auth-Login-Attempt": "1"})
    r = c.getresponse()
    r.read()
    assert r.headers["Auth-Status"] == "OK", r.headers
PY
    kill -TERM "$pid"
    wait "$pid" || true
    callgrind_annotate "$work/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}'
    rm -rf "$work"
}

per_check() {
    local a b
    a=$(run_once "$1" "$N1")
    b=$(run_once "$1" "$N2")
    echo $(((b - a) / (N2 - N1)))
}

new=$(per_check "$(realpath "$1")")
echo "instructions per app-password check: $new ($1)"
if [ $# -ge 2 ]; then
    old=$(per_check "$(realpath "$2")")
    echo "instructions per app-password check: $old ($2)"
    python3 -c "print(f'ratio: {$new / $old:.3f}')"
fi
