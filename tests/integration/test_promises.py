"""Promises of the README that no other test would notice breaking: secret files that others
can read, a PAM module facing a kunci that is down or silent, what `kunci init` makes and
what kunci.conf refuses, passwords with characters nginx escapes, AUTH LOGIN, networks
through /auth/basic, two servers on one PostgreSQL, and an install into a prefix."""

import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

import pytest

from conftest import KUNCI, STORE, free_port, wait_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PAM_MODULE = os.path.join(ROOT, "build", "pam_kunci.so")
sys.path.insert(0, os.path.dirname(__file__))


def kunci(env_vars, *args, input=None, timeout=30):
    return subprocess.run([KUNCI, *args], input=input, capture_output=True, text=True,
                          env=dict(os.environ, **env_vars), timeout=timeout)


# --- secret files ---------------------------------------------------------------------------
def test_secret_files_readable_by_others_are_refused(tmp_path):
    data = tmp_path / "data"
    secrets = {name: tmp_path / name for name in ("auth.key", "backend.pw", "smtp.pw")}
    for path in secrets.values():
        path.write_text("Some-secret-1\n")
        path.chmod(0o600)
    conf = tmp_path / "kunci.conf"
    conf.write_text(f"[store]\ndata_dir = {data}\n[serve]\nauth_listen = 127.0.0.1:{free_port()}\n"
                    f"web_listen = 127.0.0.1:{free_port()}\nauth_key_file = {secrets['auth.key']}\n"
                    f"[mail]\nbackend_password_file = {secrets['backend.pw']}\n"
                    f"[email]\ndriver = smtp\nsmtp_url = smtp://127.0.0.1:25\n"
                    f"smtp_password_file = {secrets['smtp.pw']}\n")
    env = {"KUNCI_CONFIG": str(conf)}
    assert kunci(env, "init").returncode == 0
    for path in [*secrets.values(), data / "kunci.key"]:
        path.chmod(0o640)
        p = kunci(env, "serve")
        assert p.returncode == 1, (path, p.stderr)
        assert str(path) in p.stderr and ("chmod 600" in p.stderr or "readable" in p.stderr)
        path.chmod(0o600)
    # All the owner's alone: it serves.
    proc = subprocess.Popen([KUNCI, "serve"], env=dict(os.environ, **env),
                            stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(20)


# --- what kunci init makes, what kunci.conf refuses --------------------------------------------
def test_init_makes_an_owner_only_directory_and_key(tmp_path):
    data = tmp_path / "fresh" / "data"
    p = kunci({"KUNCI_DATA_DIR": str(data)}, "init")
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(data / "kunci.key").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(data / "kunci.db").st_mode) & 0o077 == 0
    assert kunci({"KUNCI_DATA_DIR": str(data)}, "init").returncode == 0  # idempotent


@pytest.mark.parametrize("text, where", [
    ("[serve]\nauth_listen = 127.0.0.1:1\nfrobnicate = yes\n", "kunci.conf:3"),
    ("[nonsense]\nkey = value\n", "kunci.conf:2"),
    ("[serve]\nthreads = many\n", "kunci.conf:2"),
])
def test_an_unknown_or_bad_line_in_kunci_conf_is_an_error(tmp_path, text, where):
    conf = tmp_path / "kunci.conf"
    conf.write_text(text)
    p = kunci({"KUNCI_CONFIG": str(conf), "KUNCI_DATA_DIR": str(tmp_path / "d")}, "init")
    assert p.returncode == 64 and where in p.stderr, p.stderr
    assert not (tmp_path / "d").exists()


# --- PAM when kunci is away -------------------------------------------------------------------
@pytest.fixture
def pam_service():
    made = []

    def make(socket_path, timeout_ms):
        name = f"kunci-away-{uuid.uuid4().hex[:8]}"
        with open(f"/etc/pam.d/{name}", "w") as f:
            f.write(f"auth required {PAM_MODULE} protocol=imap socket={socket_path} "
                    f"timeout={timeout_ms}\naccount required pam_permit.so\n")
        made.append(name)
        return name
    if os.geteuid() != 0:
        pytest.skip("writes a service to /etc/pam.d")
    yield make
    for name in made:
        os.unlink(f"/etc/pam.d/{name}")


def pamtester(service):
    start = time.monotonic()
    p = subprocess.run(["pamtester", service, "someone@example.org", "authenticate"],
                       input="Some-password-1\n", capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr, time.monotonic() - start


def test_pam_with_the_socket_missing_is_unavailable(pam_service, tmp_path):
    code, out, _ = pamtester(pam_service(str(tmp_path / "no-such.sock"), 2000))
    assert code != 0 and "cannot retrieve authentication info" in out  # PAM_AUTHINFO_UNAVAIL


def test_pam_honours_its_timeout_with_a_silent_kunci(pam_service, tmp_path):
    path = str(tmp_path / "silent.sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(8)
    held = []
    threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()
    try:
        code, out, took = pamtester(pam_service(path, 1500))
    finally:
        server.close()
    assert code != 0 and "cannot retrieve authentication info" in out
    assert 1.3 < took < 5


# --- what nginx sends ----------------------------------------------------------------------------
def test_passwords_with_characters_nginx_escapes(env):
    from test_mail_gateway import imap_login, swaks_login
    for pw in ("p%25w+rd:one-1", "100% sure+:", "a%b:c+d e"):
        login = f"esc{uuid.uuid4().hex[:8]}@example.org"
        env.add_user(login, pw, "disabled")
        assert imap_login(env, login, pw) == "OK", pw
        assert "Invalid" in imap_login(env, login, pw.replace("%", "%25"))
        status, h = env.auth_nginx(login, pw, client_ip="192.0.2.31")
        assert h["Auth-Status"] == "OK"


def test_auth_login_through_nginx(env):
    from test_mail_gateway import swaks_login
    login = f"lg{uuid.uuid4().hex[:8]}@example.org"
    env.add_user(login, "Login-pass-12", "enforced")
    ap = env.app_password(login, "Thunderbird")["password"]
    p = subprocess.run(["swaks", "--server", f"127.0.0.1:{env.ports['smtp']}", "--ehlo",
                        "client.example.org", "--auth", "LOGIN", "--auth-user", login,
                        "--auth-password", ap, "--quit-after", "AUTH", "--timeout", "15"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "235" in p.stdout, p.stdout
    assert f"login={login}" in env.log("kunci") and "result=allowed" in env.log("kunci")
    rc, out = swaks_login(env, login, "Login-pass-12")
    assert rc != 0 and "535 5.7.8" in out


def test_networks_through_auth_basic(env):
    import base64
    login = f"nb{uuid.uuid4().hex[:8]}@example.org"
    env.add_user(login, "Net-pass-12", "enforced")
    ap = env.app_password(login, "office", "--networks", "10.0.0.0/8", "--protocols", "dav")
    token = base64.b64encode(f"{login}:{ap['password']}".encode()).decode()

    def basic(ip):
        req = urllib.request.Request(
            f"http://127.0.0.1:{env.ports['auth']}/auth/basic",
            headers={"Authorization": f"Basic {token}", "X-Real-IP": ip,
                     "X-Kunci-Key": "proxy-shared-Key-9"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
    assert basic("10.20.30.40") == 200
    assert basic("192.0.2.5") == 401


# --- two servers, one PostgreSQL ----------------------------------------------------------------
@pytest.mark.skipif(STORE != "postgresql", reason="the PostgreSQL run of the suite")
def test_two_servers_on_one_postgresql(env, tmp_path):
    """A second kunci serve with the same database and key: what one is told, the other
    knows, the lockout included."""
    from kunci_instance import Kunci
    other = Kunci(str(tmp_path), store=f"backend = postgresql\nlocation = {env.pg_uri}",
                  data=str(tmp_path / "data2"), key_from=os.path.join(env.data, "kunci.key"))
    other.start()
    try:
        login = f"two{uuid.uuid4().hex[:8]}@example.org"
        env.add_user(login, "Both-pass-123", "enforced")
        ap = env.app_password(login, "phone")
        assert other.auth(login, ap["password"])[0] == "OK"
        assert env.auth_nginx(login, ap["password"])[1]["Auth-Status"] == "OK"
        other.cli("app-password", "delete", login, str(ap["id"]))
        assert env.auth_nginx(login, ap["password"])[1]["Auth-Status"] != "OK"
        legacy = f"two{uuid.uuid4().hex[:8]}@example.org"
        env.add_user(legacy, "Legacy-pass-123", "disabled")
        for i in range(5):
            env.auth_nginx(legacy, f"Wrong-a-{i}", client_ip=f"10.31.0.{i + 1}")
            other.auth(legacy, f"Wrong-b-{i}", ip=f"10.32.0.{i + 1}")
        assert other.auth(legacy, "Legacy-pass-123", ip="10.33.0.1")[0] == \
            "Invalid login or password"
        assert env.auth_nginx(legacy, "Legacy-pass-123",
                              client_ip="10.33.0.2")[1]["Auth-Status"] == "Invalid login or password"
    finally:
        other.stop()


# --- meson install --------------------------------------------------------------------------------
def test_install_into_a_prefix(tmp_path):
    """A build from a copy of the sources, installed into a scratch prefix: once the sources
    are gone the installed web UI is the one served, and the unit passes systemd's check."""
    src, prefix = tmp_path / "src", tmp_path / "prefix"
    for part in ("meson.build", "meson_options.txt", "src", "web", "contrib", "man",
                 "tests/unit"):
        (src / part).parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if os.path.isdir(os.path.join(ROOT, part)) else shutil.copy
        copy(os.path.join(ROOT, part), src / part)
    build = tmp_path / "build"
    subprocess.run(["meson", "setup", str(build), str(src), f"--prefix={prefix}"], check=True,
                   capture_output=True)
    subprocess.run(["ninja", "-C", str(build)], check=True, capture_output=True)
    p = subprocess.run(["meson", "install", "-C", str(build), "--no-rebuild"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    shutil.rmtree(src)
    installed = prefix / "bin" / "kunci"
    assert installed.exists() and (prefix / "share" / "kunci" / "web" / "index.html").exists()
    for page in ("man1/kunci.1", "man5/kunci.conf.5", "man8/pam_kunci.8"):
        assert (prefix / "share" / "man" / page).exists(), page
    units = list(prefix.rglob("kunci.service"))
    assert units
    if shutil.which("systemd-analyze"):
        p = subprocess.run(["systemd-analyze", "verify", str(units[0])], capture_output=True,
                           text=True)
        assert p.returncode == 0, p.stderr
    data, web = tmp_path / "data", free_port()
    env = dict(os.environ, KUNCI_DATA_DIR=str(data), KUNCI_CONFIG=str(tmp_path / "k.conf"))
    (tmp_path / "k.conf").write_text(f"[serve]\nauth_listen = 127.0.0.1:{free_port()}\n"
                                     f"web_listen = 127.0.0.1:{web}\n")
    subprocess.run([str(installed), "init"], check=True, capture_output=True, env=env)
    proc = subprocess.Popen([str(installed), "serve"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_port(web, proc, "installed kunci")
        with urllib.request.urlopen(f"http://127.0.0.1:{web}/security", timeout=10) as r:
            assert r.status == 200 and b"app.js" in r.read()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert f"files from {prefix}/share/kunci/web" in err
