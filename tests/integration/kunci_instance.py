"""A kunci of its own for one test: a fresh data directory, ports on 127.0.0.1, its CLI,
its server, and the clients an attacker or a fault test uses (nginx's auth_http, the web API,
the outbox). Argon2id is cheap unless a test asks for its real cost."""

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid

from util import KUNCI, free_port, wait_port
from webclient import Client, totp

CHEAP = "argon2_iterations = 1\nargon2_memory_kib = 1024\n"
REAL = "argon2_iterations = 2\nargon2_memory_kib = 19456\n"


class Kunci:
    def __init__(self, root, serve_extra="", passwords=CHEAP, extra="", store="", binary=None,
                 data=None, key_from=None):
        """key_from: a key file to use (another server's, on a shared database): put in place
        before `kunci init`, which would otherwise make a key of its own that the database,
        made with the other, refuses."""
        self.root = root
        self.binary = binary or KUNCI
        self.data = data or os.path.join(root, "data")
        self.ports = {"auth": free_port(), "web": free_port()}
        self.socket = os.path.join(root, "auth.sock")
        self.config = os.path.join(root, "kunci.conf")
        with open(self.config, "w") as f:
            f.write(f"""[store]
data_dir = {self.data}
{store}
[serve]
auth_listen = 127.0.0.1:{self.ports['auth']}
web_listen = 127.0.0.1:{self.ports['web']}
socket = {self.socket}
socket_mode = 0600
log_allowed = yes
threads = 2
hash_workers = 2
{serve_extra}
[mail]
imap = 127.0.0.1:1143
pop3 = 127.0.0.1:1110
smtp = 127.0.0.1:1587
[passwords]
{passwords}
[phone]
driver = outbox
[email]
driver = outbox
{extra}""")
        self.env = dict(os.environ, KUNCI_CONFIG=self.config, KUNCI_DATA_DIR=self.data)
        self.proc = None
        self.log_file = None
        if key_from is not None:
            os.makedirs(self.data, mode=0o700, exist_ok=True)
            shutil.copy(key_from, os.path.join(self.data, "kunci.key"))
            os.chmod(os.path.join(self.data, "kunci.key"), 0o600)
        self.cli("init")

    # --- the command line -------------------------------------------------
    def cli(self, *args, input=None, check=True):
        p = subprocess.run([self.binary, *args], input=input, capture_output=True, text=True,
                           env=self.env, timeout=120)
        assert "Sanitizer" not in p.stderr and "runtime error:" not in p.stderr, p.stderr
        if check and p.returncode != 0:
            raise AssertionError(f"kunci {' '.join(args)} exited {p.returncode}: {p.stderr}")
        return p

    def user(self, mfa="disabled", password="Right-password-1", login=None):
        login = login or f"u{uuid.uuid4().hex[:10]}@example.org"
        self.cli("user", "add", login, "--password-stdin", input=password + "\n")
        if mfa != "disabled":
            self.cli("mfa", "set", login, mfa)
        return login, password

    def app_password(self, login, name="phone"):
        return json.loads(self.cli("app-password", "create", login, "--name", name,
                                   "--json").stdout)["password"]

    def setting(self, key, value):
        self.cli("settings", "set", key, str(value))

    def lockouts(self):
        return json.loads(self.cli("lockout", "list", "--json").stdout)

    def sql(self, statement, *args):
        db = sqlite3.connect(os.path.join(self.data, "kunci.db"))
        with db:
            rows = db.execute(statement, args).fetchall()
        db.close()
        return rows

    # --- the server ----------------------------------------------------------
    def start(self):
        self.log_file = open(os.path.join(self.root, "kunci.log"), "w")
        self.proc = subprocess.Popen([self.binary, "serve"], stdout=self.log_file,
                                     stderr=subprocess.STDOUT, env=self.env)
        wait_port(self.ports["auth"], self.proc, "kunci")
        wait_port(self.ports["web"], self.proc, "kunci web")
        return self

    def stop(self):
        """SIGTERM; checks it stopped in time and that no sanitizer spoke. Returns its exit."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("kunci did not stop within 30 s of SIGTERM")
        if self.proc is not None and not self.log_file.closed:
            self.log_file.close()
            reports = [line for line in self.log().splitlines()
                       if "Sanitizer" in line or "runtime error:" in line]
            assert not reports, "\n".join(reports)
            return self.proc.returncode

    def log(self):
        with open(os.path.join(self.root, "kunci.log")) as f:
            return f.read()

    # --- clients -------------------------------------------------------------
    def auth(self, login, password, ip="198.51.100.7", protocol="imap", timeout=60):
        """What nginx's mail auth_http sends; returns Auth-Status (and the headers)."""
        headers = {"Auth-Method": "plain", "Auth-Protocol": protocol, "Client-IP": ip,
                   "Auth-User": urllib.parse.quote(login, safe="@"),
                   "Auth-Pass": urllib.parse.quote(password), "Auth-Login-Attempt": "1"}
        req = urllib.request.Request(f"http://127.0.0.1:{self.ports['auth']}/auth/nginx",
                                     headers=headers)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.headers["Auth-Status"], dict(r.headers)

    def web(self):
        return Client(f"http://127.0.0.1:{self.ports['web']}")

    def outbox(self, to=None, notices=False):
        """The codes sent (to one address), oldest first; with notices=True the notices to
        account owners instead (core/notify.h), which carry no code."""
        folder = os.path.join(self.data, "outbox")
        if not os.path.isdir(folder):
            return []
        out = []
        for name in sorted(os.listdir(folder)):
            if name.endswith(".json"):
                with open(os.path.join(folder, name)) as f:
                    m = json.load(f)
                if (to is None or m.get("to") == to) and (m.get("code") is None) == notices:
                    out.append(m)
        return out


def enrol_email(k):
    """A user who completed the wizard with an alternate e-mail address (the outbox driver):
    (login, password, address, method id)."""
    login, pw = k.user("enabled")
    address = f"alt-{login}"
    c = k.web()
    c.sign_in(login, pw)
    status, m, _ = c.call("POST", "/methods/email", {"address": address})
    assert status == 200
    code = k.outbox(address)[-1]["code"]
    assert c.call("POST", f"/methods/{m['method_id']}/verify", {"code": code})[0] == 200
    assert c.call("POST", "/setup/complete", {})[0] == 200
    return login, pw, address, m["method_id"]


def kunci_factory(tmp_path):
    """Makes kunci instances in a test's folder; stops them all when the test ends."""
    made = []

    def make(**kw):
        root = tmp_path / f"k{len(made)}"
        root.mkdir()
        os.chmod(tmp_path, 0o755)
        os.chmod(root, 0o755)
        k = Kunci(str(root), **kw)
        made.append(k)
        return k
    yield make
    for k in made:
        k.stop()


def enrol_totp(k, login, password):
    """A user through the wizard with an authenticator app: (secret, method id)."""
    c = k.web()
    assert c.sign_in(login, password)[1]["next"] == "setup"
    _, t, _ = c.call("POST", "/methods/totp", {})
    status, _, _ = c.call("POST", f"/methods/{t['method_id']}/verify",
                          {"code": totp(t["secret"])})
    assert status == 200
    return c, t["secret"], t["method_id"]


@contextlib.contextmanager
def no_error(what):
    try:
        yield
    except urllib.error.URLError as e:
        raise AssertionError(f"{what}: {e}") from e
