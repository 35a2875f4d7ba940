#!/bin/bash
# The users list at scale: 100,000 users (inserted straight into a scratch SQLite database,
# sharing one password hash, as a bench may), then GET /api/v1/admin/users searched and
# paged as an administrator does, each query 20 times; the median in milliseconds, and as a
# ratio to GET /api/v1/config (a constant answer: the listener's own cost) in the same run.
# The issue's budget: under 50 ms.
#
# Usage: bench/users.sh [KUNCI] [USERS]
set -euo pipefail
KUNCI=$(realpath "${1:-build/kunci}")
USERS=${2:-100000}
WORK=$(mktemp -d /tmp/kunci-users-XXXXXX)
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
AUTH=$(port)
WEB=$(port)
export KUNCI_DATA_DIR=$WORK/data KUNCI_CONFIG=$WORK/kunci.conf
printf '[serve]\nauth_listen = 127.0.0.1:%s\nweb_listen = 127.0.0.1:%s\n[mail]\nimap = 127.0.0.1:143\n' \
    "$AUTH" "$WEB" >"$KUNCI_CONFIG"
"$KUNCI" init >/dev/null
"$KUNCI" user add boss@example.org --admin --password-stdin <<<"Bench-admin-password-1" >/dev/null
sqlite3 "$WORK/data/kunci.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $USERS)
INSERT INTO accounts (login, display_name, display_key, role, enabled, mfa_state,
                      password_hash, created_at, password_changed_at, must_change_password)
SELECT printf('user%06d@example.org', i), 'Person ' || i, 'person ' || i, 'user', 1,
       CASE WHEN i % 3 = 0 THEN 'enforced' ELSE 'enabled' END,
       (SELECT password_hash FROM accounts WHERE login = 'boss@example.org'), 0, 0, 0 FROM n;
ANALYZE;
SQL
"$KUNCI" serve 2>"$WORK/serve.log" &
PID=$!
python3 - "$WEB" "$USERS" <<'PY'
import http.cookiejar, json, statistics, sys, time, urllib.request
web, users = int(sys.argv[1]), int(sys.argv[2])
base = f"http://127.0.0.1:{web}/api/v1"
jar = http.cookiejar.CookieJar()
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
for _ in range(100):
    try:
        op.open(base + "/config", timeout=5).read()
        break
    except OSError:
        time.sleep(0.1)
req = urllib.request.Request(base + "/session", method="POST", headers={"Content-Type": "application/json"},
                             data=json.dumps({"login": "boss@example.org", "password": "Bench-admin-password-1"}).encode())
op.open(req, timeout=10).read()

def median_ms(path, check=None):
    times = []
    for _ in range(20):
        t = time.perf_counter()
        body = op.open(base + path, timeout=10).read()
        times.append((time.perf_counter() - t) * 1000)
    if check:
        check(json.loads(body))
    return statistics.median(times)

baseline = median_ms("/config")
print(f"users: {users}; GET /config (baseline): {baseline:.2f} ms")
def count(n):
    return lambda b: b["items"] and len(b["items"]) <= n
for label, path in [
    ("first page (50)", "/admin/users"),
    ("login prefix 'user05' (first 50 of 10,000)", "/admin/users?q=user05"),
    ("login prefix 'user099999' (one)", "/admin/users?q=user099999"),
    ("display-name prefix 'person 4242' (first 50)", "/admin/users?q=person%204242"),
    ("page deep in the list (after user050000)", "/admin/users?after=user050000@example.org"),
    ("no match", "/admin/users?q=nobody"),
]:
    ms = median_ms(path)
    print(f"{label}: {ms:.2f} ms (ratio to baseline {ms / baseline:.1f})")
PY
