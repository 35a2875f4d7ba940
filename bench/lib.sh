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

# COUNT users (user1@example.org, ...) with MFA enforced and PER app passwords each; one
# "login app-password" line per app password is appended to FILE. Uses $KUNCI.
add_app_password_users() {
    local count=$1 per=$2 file=$3 i j u
    for i in $(seq 1 "$count"); do
        u="user$i@example.org"
        "$KUNCI" user add "$u" --password-stdin <<<"Primary-pass-$i" >/dev/null
        "$KUNCI" mfa set "$u" enforced >/dev/null
        for j in $(seq 1 "$per"); do
            "$KUNCI" app-password create "$u" --name "app $j" --json |
                python3 -c 'import json,sys; print(sys.argv[1], json.load(sys.stdin)["password"])' "$u" >>"$file"
        done
    done
}

# COUNT users (legacy1@example.org, ...) who sign in with their account password (no MFA);
# one "login password" line each is appended to FILE.
add_primary_users() {
    local count=$1 file=$2 i u
    for i in $(seq 1 "$count"); do
        u="legacy$i@example.org"
        "$KUNCI" user add "$u" --password-stdin <<<"Primary-pass-$i" >/dev/null
        echo "$u Primary-pass-$i" >>"$file"
    done
}

# The baseline: nginx with WORKERS worker processes answering every request on PORT with
# `return 200` and an Auth-Status: OK header, in the foreground (run it with &).
baseline_nginx() {
    local workers=$1 listen=$2
    mkdir -p "$WORK/nginx"
    cat >"$WORK/nginx/nginx.conf" <<CONF
daemon off;
worker_processes $workers;
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
    server { listen 127.0.0.1:$listen; location / { add_header Auth-Status OK; return 200 ""; } }
}
CONF
    exec nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
}
