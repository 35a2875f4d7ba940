"""pam_kunci through real PAM (pamtester) against kunci's local socket."""

import os
import socket
import stat
import subprocess
import uuid

import pytest

from conftest import KUNCI

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
# The module under test: the plain build's, or (make integration-asan) the sanitizer build's,
# which loads into pamtester with the sanitizer's runtime preloaded.
MODULE = os.environ.get("KUNCI_PAM_MODULE") or os.path.abspath(
    os.path.join(ROOT, "build", "pam_kunci.so"))
PRELOAD = os.environ.get("KUNCI_PAM_PRELOAD")


@pytest.fixture(scope="module")
def service(env):
    name = f"kunci-test-{uuid.uuid4().hex[:8]}"
    path = f"/etc/pam.d/{name}"
    with open(path, "w") as f:
        f.write(f"auth required {MODULE} protocol=imap socket={env.root}/auth.sock "
                f"timeout=15000\naccount required pam_permit.so\n")
    yield name
    os.unlink(path)


def pam(service, user, password):
    env = dict(os.environ)
    if PRELOAD:
        env.update(LD_PRELOAD=PRELOAD, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0")
    p = subprocess.run(["pamtester", service, user, "authenticate"], input=password + "\n",
                       capture_output=True, text=True, timeout=30, env=env)
    out = p.stdout + p.stderr
    assert "Sanitizer" not in out and "runtime error:" not in out, out
    assert "Module is unknown" not in out, out  # the module under test did load
    return p.returncode, out


def user(env, mfa="enforced"):
    login = f"p{uuid.uuid4().hex[:10]}@example.org"
    env.add_user(login, "Pam-primary-1", mfa)
    return login


def test_app_password_passes_primary_password_does_not(env, service):
    login = user(env)
    ap = env.app_password(login, "mutt")["password"]
    assert pam(service, login, ap)[0] == 0
    assert pam(service, login.upper(), ap.replace(" ", "-"))[0] == 0
    code, out = pam(service, login, "Pam-primary-1")
    assert code != 0 and "Authentication failure" in out  # PAM_AUTH_ERR, not UNAVAIL
    code, out = pam(service, "nobody-" + login, "Pam-primary-1")
    assert code != 0 and "Authentication failure" in out
    smtp_only = env.app_password(login, "printer", "--protocols", "smtp")["password"]
    code, out = pam(service, login, smtp_only)  # the service asks for imap
    assert code != 0 and "Authentication failure" in out  # PAM_AUTH_ERR


def test_mfa_not_enforced_primary_password_passes(env, service):
    login = user(env, "enabled")
    assert pam(service, login, "Pam-primary-1")[0] == 0


def test_outage_is_not_a_wrong_password(env, service):
    login = user(env)
    ap = env.app_password(login, "mutt")["password"]
    with env.outage():
        code, out = pam(service, login, ap)
    assert code != 0
    assert "cannot retrieve authentication info" in out  # PAM_AUTHINFO_UNAVAIL
    assert pam(service, login, ap)[0] == 0


def test_socket_mode_and_protocol(env):
    path = f"{env.root}/auth.sock"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    login = user(env)
    ap = env.app_password(login, "raw")["password"]

    def ask(raw):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(15)
            s.connect(path)
            s.sendall(raw)
            return s.makefile("rb").readline()

    assert ask(f"AUTH\timap\t-\t{login}\t{ap}\n".encode()) == f"OK\t{login}\n".encode()
    assert ask(f"AUTH\timap\t203.0.113.9\t{login.upper()}\t{ap}\n".encode()) == \
        f"OK\t{login}\n".encode()
    for bad in (f"AUTH\tgopher\t-\t{login}\t{ap}\n", f"AUTH\timap\t-\t{login}\t{ap}\textra\n",
                f"HELLO\timap\t-\t{login}\t{ap}\n", f"AUTH\timap\t-\t{login}\n",
                "AUTH\timap\t-\t" + "x" * 2000 + "\n", f"AUTH\timap\t-\t{login}\t{ap}\r\n"):
        assert ask(bad.encode()) == b"FAIL\n", bad


def test_module_exports_only_pam_entry_points():
    out = subprocess.run(["nm", "-D", "--defined-only", MODULE], capture_output=True,
                         text=True, check=True).stdout
    names = sorted(line.split()[-1] for line in out.splitlines() if line.strip())
    assert names == ["pam_sm_authenticate", "pam_sm_setcred"]
