#!/bin/sh
# A throwaway PostgreSQL for the tests: its own folder, 127.0.0.1 only, trust for the
# local test user. `start DIR PORT` prints the connection URI; `stop DIR` ends it.
set -eu
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$1" in
start)
    DIR=$2 PORT=$3
    mkdir -p "$DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres "$DIR"
    as_postgres "$BIN/initdb" -D "$DIR/data" -A trust -U kunci --no-sync >"$DIR/initdb.log" 2>&1
    as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off" start >/dev/null
    as_postgres "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U kunci kunci
    echo "postgresql://kunci@127.0.0.1:$PORT/kunci"
    ;;
stop)
    DIR=$2
    as_postgres "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
pause)  # stop the server but keep its data: a database outage
    as_postgres "$BIN/pg_ctl" -D "$2/data" -m immediate -w stop >/dev/null
    ;;
resume)
    DIR=$2 PORT=$3
    as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off" start >/dev/null
    ;;
*)
    echo "usage: $0 start DIR PORT | stop DIR | pause DIR | resume DIR PORT" >&2
    exit 64
    ;;
esac
