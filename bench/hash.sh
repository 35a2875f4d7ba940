#!/bin/bash
# Primary-password checks per second (Argon2id, 19 MiB, t=2, every hash worker busy) against
# the raw rate of the same hash on the same cores, in one run: bench/hash_rate.c first (the
# library alone, three ways), then kunci's /auth/nginx with primary passwords.
#
# Usage: bench/hash.sh [path/to/kunci] [seconds] [workers]
set -euo pipefail
KUNCI=$(realpath "${1:-build/kunci}")
SECS=${2:-10}
WORKERS=${3:-2}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

cc -O2 -o "$WORK/hash_rate" "$HERE/hash_rate.c" -lsodium -largon2 -lpthread
echo "== the library alone, $WORKERS threads, ${SECS}s each"
"$WORK/hash_rate" "$WORKERS" "$SECS"

AUTH=$(port)
export KUNCI_DATA_DIR=$WORK/data KUNCI_CONFIG=$WORK/kunci.conf
cat >"$KUNCI_CONFIG" <<CONF
[serve]
auth_listen = 127.0.0.1:$AUTH
threads = 2
hash_workers = $WORKERS
[mail]
imap = 127.0.0.1:143
CONF
"$KUNCI" init >/dev/null
: >"$WORK/primary.creds"
add_primary_users 8 "$WORK/primary.creds"
"$KUNCI" serve 2>"$WORK/kunci.log" &
PIDS+=($!)
wait_listen "$AUTH"
out=$(CREDS=$WORK/primary.creds wrk -t1 -c$((WORKERS * 4)) -d"${SECS}s" -s "$HERE/auth.lua" \
    "http://127.0.0.1:$AUTH/auth/nginx")
echo "== kunci, hash_workers = $WORKERS, wrk -t1 -c$((WORKERS * 4)) (every worker busy)"
echo "primary-password checks:               $(echo "$out" | awk '/^Requests\/sec/ {print $2}') req/s (not OK: $(echo "$out" | awk '/^not-ok:/ {print $2}'))"
