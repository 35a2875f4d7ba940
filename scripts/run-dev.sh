#!/bin/sh
# `make run`: kunci on the embedded default (SQLite and a key file in ./data), with the web
# UI, the auth listener, and codes for phones and e-mail written to ./data/outbox.
set -eu
KUNCI=$1
DATA=$2
export KUNCI_DATA_DIR="$DATA"
unset KUNCI_CONFIG

"$KUNCI" init
if [ ! -e "$DATA/kunci.conf" ]; then
    cat >"$DATA/kunci.conf" <<CONF
; Written by make run. See the README for every key.
[serve]
web_listen = 127.0.0.1:8080
auth_listen = 127.0.0.1:8081

[mail]
imap = 127.0.0.1:143
pop3 = 127.0.0.1:110
smtp = 127.0.0.1:587

[phone]
driver = outbox

[email]
driver = outbox
CONF
    echo "wrote $DATA/kunci.conf"
fi
if ! "$KUNCI" user list | grep -q ' admin '; then
    pw=$("$KUNCI" user add admin@example.org --admin --temporary --display-name Administrator --json |
        sed -n 's/.*"password": "\([^"]*\)".*/\1/p')
    cat <<MSG

First administrator created. Sign in at http://localhost:8080/ with
    login:    admin@example.org
    password: $pw   (one-time: you choose your own at the first sign-in)

Codes sent by text, call or e-mail are written to $DATA/outbox.
The CLI works on the same data: KUNCI_DATA_DIR=$DATA $KUNCI --help

MSG
else
    echo "Web UI: http://localhost:8080/  (forgot the admin password? KUNCI_DATA_DIR=$DATA $KUNCI user passwd admin@example.org --temporary)"
fi
exec "$KUNCI" serve
