#!/bin/bash
# Scale with the data: app-password checks per second with 1,000 app passwords in the
# database, then with 4,000,000 more (and 100,000 more users), in one run; and the time to
# create one app password and to list a user's at both sizes. Each rate is measured with the
# lookup cache on (the default) and off (app_password_cache = 0: every check reads the
# database, which is what grows).
#
# Usage: bench/scale.sh [path/to/kunci] [seconds] [filler app passwords]
#        BENCH_STORE=postgresql bench/scale.sh ...
set -euo pipefail
KUNCI=$(realpath "${1:-build/kunci}")
SECS=${2:-8}
FILL=${3:-4000000}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
AUTH_ON=$(port)
AUTH_OFF=$(port)
export KUNCI_DATA_DIR=$WORK/data
STORE=""
if [ "${BENCH_STORE:-sqlite}" = postgresql ]; then
    chmod 755 "$WORK"
    PG_URI=$("$HERE/../scripts/test-postgres.sh" start "$WORK/pg" "$(port)")
    STORE="[store]
backend = postgresql
location = $PG_URI"
fi
for which in on off; do
    auth=$AUTH_ON cache="" # the default
    [ $which = off ] && auth=$AUTH_OFF cache="app_password_cache = 0"
    cat >"$WORK/$which.conf" <<CONF
$STORE
[serve]
auth_listen = 127.0.0.1:$auth
threads = 2
hash_workers = 2
$cache
[mail]
imap = 127.0.0.1:143
CONF
done
export KUNCI_CONFIG=$WORK/on.conf
"$KUNCI" init >/dev/null

# 1,000 app passwords: 100 users with 10 each.
: >"$WORK/app.creds"
add_app_password_users 100 10 "$WORK/app.creds"

rps() { awk '/^Requests\/sec/ {print $2}'; }
ms_per_call() { # command...: the mean wall time of 20 calls, in ms
    local t0 t1
    t0=$(date +%s%N)
    for _ in $(seq 1 20); do "$@" >/dev/null; done
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 20000000))
}
measure() {
    local label=$1
    for which in on off; do
        KUNCI_CONFIG=$WORK/$which.conf "$KUNCI" serve 2>>"$WORK/kunci.log" &
        local pid=$!
        local auth=$AUTH_ON
        [ $which = off ] && auth=$AUTH_OFF
        wait_listen "$auth"
        CREDS=$WORK/app.creds wrk -t2 -c8 -d2s -s "$HERE/auth.lua" "http://127.0.0.1:$auth/auth/nginx" >/dev/null
        local out
        out=$(CREDS=$WORK/app.creds wrk -t2 -c64 -d"${SECS}s" -s "$HERE/auth.lua" "http://127.0.0.1:$auth/auth/nginx")
        printf '%-34s cache %-3s %10s req/s (not OK: %s)\n' "$label" $which "$(echo "$out" | rps)" \
            "$(echo "$out" | awk '/^not-ok:/ {print $2}')"
        kill $pid
        wait $pid 2>/dev/null || true
    done
    "$KUNCI" app-password delete-all user100@example.org >/dev/null
    printf '%-34s create one app password: %s ms; list a user'"'"'s: %s ms (the command, start to end)\n' \
        "$label" "$(ms_per_call "$KUNCI" app-password create user100@example.org --name x)" \
        "$(ms_per_call "$KUNCI" app-password list user100@example.org)"
    "$KUNCI" app-password delete-all user100@example.org >/dev/null
    # user100's ten are gone from the database, not from the creds file: put them back.
    grep -v '^user100@' "$WORK/app.creds" >"$WORK/app.creds.new"
    mv "$WORK/app.creds.new" "$WORK/app.creds"
}

echo "== store: ${BENCH_STORE:-sqlite}; wrk -t2 -c64, ${SECS}s"
measure "1,000 app passwords"

start=$(date +%s)
if [ "${BENCH_STORE:-sqlite}" = postgresql ]; then
    psql -q "$PG_URI" <<SQL
INSERT INTO accounts (login, display_name, mfa_state, password_hash, created_at, password_changed_at)
  SELECT 'filler' || g || '@example.org', 'Filler ' || g, 'enforced', 'x', 0, 0
  FROM generate_series(1, 100000) g;
INSERT INTO app_passwords (account_id, name, digest, created_at)
  SELECT a.id, 'filler', decode(md5(g::text) || md5((g + 0.5)::text), 'hex'), 0
  FROM generate_series(1, $FILL) g
  JOIN accounts a ON a.login = 'filler' || (1 + g % 100000) || '@example.org';
ANALYZE;
SQL
else
    sqlite3 "$KUNCI_DATA_DIR/kunci.db" <<SQL
.timeout 60000
BEGIN;
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 100000)
INSERT INTO accounts (login, display_name, mfa_state, password_hash, created_at, password_changed_at)
  SELECT 'filler' || n || '@example.org', 'Filler ' || n, 'enforced', 'x', 0, 0 FROM g;
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $FILL)
INSERT INTO app_passwords (account_id, name, digest, created_at)
  SELECT (SELECT id FROM accounts WHERE login = 'filler' || (1 + n % 100000) || '@example.org'),
         'filler', randomblob(32), 0 FROM g;
COMMIT;
ANALYZE;
SQL
fi
echo "(filled in $(($(date +%s) - start)) s: 100,000 users and $FILL app passwords more)"
measure "$FILL more app passwords"
