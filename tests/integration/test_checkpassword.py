"""`kunci checkpassword`: the checkpassword interface over kunci's local socket, on its own
(file descriptor 3, exit codes) and as a real Dovecot's passdb (imaplib, poplib straight to
Dovecot, no nginx in front)."""

import os
import subprocess
import uuid

import pytest

from conftest import KUNCI, free_port
from util import imap_login, pop3_login

# Run by Dovecot's auth process, which limits its children's address space (vsz_limit): the
# sanitizer build cannot start there, so Dovecot gets the plain build's (the direct tests
# run whichever build the suite tests).
PLAIN_KUNCI = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "build",
                                           "kunci"))
# Dovecot holds a failed login 2 s and more from an address that failed before (its auth
# penalty): these tests fail on purpose, from one address.
ANY_PACE = ("auth_failure_delay = 0\n"
            "service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}")


def user(env, mfa="enforced"):
    login = f"c{uuid.uuid4().hex[:10]}@example.org"
    env.add_user(login, "Check-primary-1", mfa)
    return login


def checkpassword(env, login, secret, *program, service="imap", socket=None, extra=()):
    """Runs kunci checkpassword as Dovecot would: login NUL secret NUL on fd 3 (a shell
    moves standard input there, leaving this process's own descriptors alone)."""
    environment = {"PATH": os.environ["PATH"], "SERVICE": service, "TCPREMOTEIP": "192.0.2.44"}
    p = subprocess.run(["sh", "-c", 'exec "$@" 3<&0 </dev/null', "sh", KUNCI, "checkpassword",
                        "--socket", socket or f"{env.root}/auth.sock", *extra,
                        *(program or ("sh", "-c", 'echo "user=$USER"'))],
                       input=login.encode() + b"\0" + secret.encode() + b"\0\0",
                       capture_output=True, timeout=30, env=environment)
    return p.returncode, (p.stdout + p.stderr).decode()


def test_exit_codes_and_user(env):
    login = user(env)
    ap = env.app_password(login, "Mail")["password"]
    code, out = checkpassword(env, login.upper(), ap)
    assert (code, out.strip()) == (0, f"user={login}")  # USER is the login as kunci knows it
    assert checkpassword(env, login, "Check-primary-1")[0] == 1  # MFA enforced: refused
    assert checkpassword(env, login, "wrong")[0] == 1
    assert checkpassword(env, "nobody@example.org", ap)[0] == 1
    # Scoped to IMAP: refused for POP3, which comes from Dovecot's SERVICE.
    imap_only = env.app_password(login, "IMAP only", "--protocols", "imap")["password"]
    assert checkpassword(env, login, imap_only, service="imap")[0] == 0
    assert checkpassword(env, login, imap_only, service="pop3")[0] == 1
    assert checkpassword(env, login, imap_only, service="pop3", extra=("--protocol", "imap"))[0] == 0
    # The client address is TCPREMOTEIP: an app password kept to another network is refused.
    elsewhere = env.app_password(login, "Office", "--networks", "198.51.100.0/24")["password"]
    assert checkpassword(env, login, elsewhere)[0] == 1
    assert "ip=192.0.2.44 result=network_not_allowed" in env.log("kunci")


def test_temporary_failures_and_misuse(env, tmp_path):
    login = user(env)
    ap = env.app_password(login, "Mail")["password"]
    code, out = checkpassword(env, login, ap, socket=str(tmp_path / "nothing.sock"))
    assert code == 111 and "No such file or directory" in out
    with env.outage():
        assert checkpassword(env, login, ap)[0] == 111
    assert checkpassword(env, login, ap, service="managesieve")[0] == 2
    assert checkpassword(env, login, ap, "/nonexistent/program")[0] == 111
    p = subprocess.run([KUNCI, "checkpassword"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "no program" in p.stderr
    p = subprocess.run([KUNCI, "checkpassword", "--protocol", "imap", "true"],
                       capture_output=True, text=True, timeout=30)  # no file descriptor 3
    assert p.returncode == 2 and "file descriptor 3" in p.stderr


@pytest.fixture(scope="module")
def dovecot(env):
    ports = {"imap": free_port(), "pop3": free_port()}
    # Dovecot runs checkpassword in its auth process, which must be able to open kunci's
    # socket: here kunci runs as root with the socket 0600, so the auth process is root's; a
    # real set-up adds Dovecot's auth user to kunci's group instead (README).
    env.start_dovecot("dovecot-checkpassword", ports, auth_user="root",
                      settings=ANY_PACE, passdb=(
        f"driver = checkpassword\n  args = {PLAIN_KUNCI} checkpassword "
        f"--socket {env.root}/auth.sock"))
    return ports


def imap(ports, login, secret):
    return imap_login(ports["imap"], login, secret, timeout=30)


def pop3(ports, login, secret):
    return pop3_login(ports["pop3"], login, secret, timeout=30)


def test_dovecot_passdb_checkpassword(env, dovecot):
    login = user(env)
    ap = env.app_password(login, "Thunderbird")["password"]
    assert imap(dovecot, login, ap) == "OK"
    assert pop3(dovecot, login, ap) == "OK"
    assert "AUTHENTICATIONFAILED" in imap(dovecot, login, "Check-primary-1")
    assert "Authentication failed" in pop3(dovecot, login, "Check-primary-1")
    imap_only = env.app_password(login, "IMAP only", "--protocols", "imap")["password"]
    assert imap(dovecot, login, imap_only) == "OK"
    assert "Authentication failed" in pop3(dovecot, login, imap_only)
    # Not enforced: the account password passes (as on every other path).
    relaxed = user(env, "disabled")
    assert imap(dovecot, relaxed, "Check-primary-1") == "OK"


def test_dovecot_says_try_again_later_in_an_outage(env, dovecot):
    login = user(env)
    ap = env.app_password(login, "Thunderbird")["password"]
    with env.outage():
        said = imap(dovecot, login, ap)
    assert "UNAVAILABLE" in said or "Temporary" in said, said
    assert imap(dovecot, login, ap) == "OK"
