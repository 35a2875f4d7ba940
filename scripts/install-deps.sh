#!/bin/sh
# Installs the Debian packages kunci builds and tests with, if any is missing.
# Idempotent; runs apt-get as root, or through sudo.
set -eu

BUILD="meson ninja-build pkg-config gcc clang libclang-rt-14-dev clang-format libsodium-dev libsqlite3-dev
libmicrohttpd-dev libjansson-dev libcmocka-dev liboath-dev libqrencode-dev libcurl4-openssl-dev
libpq-dev libpam0g-dev libbsd-dev libzxcvbn-dev libfido2-dev libcbor-dev libssl-dev scdoc"
TEST="python3 python3-pytest python3-cryptography zbar-tools nginx libnginx-mod-mail dovecot-imapd dovecot-pop3d
dovecot-submissiond swaks curl wrk oathtool chromium sqlite3 openssl postgresql pamtester
postfix debhelper dpkg-dev fakeroot lintian man-db"
# bench/hash.sh compares kunci with libargon2 too; bench/cpu.sh reads CPU time with perf.
BENCH="libargon2-dev linux-perf"

case "${1:-build}" in
build) wanted="$BUILD" ;;
test) wanted="$BUILD $TEST" ;;
bench) wanted="$BUILD $TEST $BENCH" ;;
*) echo "usage: $0 [build|test|bench]" >&2; exit 64 ;;
esac

missing=""
for p in $wanted; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
# Node.js may come from elsewhere than Debian (its npm included): only a missing npm
# command brings Debian's.
if [ "${1:-build}" != build ] && ! command -v npm >/dev/null 2>&1; then
    missing="$missing nodejs npm"
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: missing packages:$missing; run as root or install sudo" >&2
    exit 1
fi
echo "install-deps: installing$missing"
$SUDO apt-get update -qq
# policy-rc.d keeps the packages' own nginx and Dovecot from starting on the default ports.
if [ ! -e /usr/sbin/policy-rc.d ] && [ -z "$SUDO" ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
