#!/bin/sh
# `make run`: kunci on the embedded default (SQLite and a key file in ./data).
set -eu
KUNCI=$1
DATA=$2
export KUNCI_DATA_DIR="$DATA"

"$KUNCI" init
if [ ! -e "$DATA/kunci.conf" ]; then
    cat >"$DATA/kunci.conf" <<CONF
; Written by make run. See the README for every key.
[serve]
auth_listen = 127.0.0.1:8081

[mail]
imap = 127.0.0.1:143
pop3 = 127.0.0.1:110
smtp = 127.0.0.1:587
CONF
    echo "wrote $DATA/kunci.conf"
fi
if [ -z "$("$KUNCI" user list)" ]; then
    cat <<MSG

No users yet. In another terminal, create the first administrator:
    KUNCI_DATA_DIR=$DATA $KUNCI user add admin@example.org --admin
and a user who needs app passwords:
    KUNCI_DATA_DIR=$DATA $KUNCI user add alice@example.org
    KUNCI_DATA_DIR=$DATA $KUNCI mfa set alice@example.org enforced
    KUNCI_DATA_DIR=$DATA $KUNCI app-password create alice@example.org --name "Apple Mail"

MSG
fi
exec "$KUNCI" serve
