"""A real mail path for kunci: nginx (mail module and auth_request) in front of Dovecot,
asking a real `kunci serve`, and a real Postfix behind them both: Dovecot's submission
relays to it, kunci sends its e-mailed codes through it (STARTTLS or implicit TLS, AUTH
through Dovecot's SASL), and it delivers every message to one maildir the tests read.
Every daemon listens on 127.0.0.1 on ports picked at start, with its own folder; all are
stopped at the end."""

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import urllib.parse
import urllib.request

import pytest

from device_files import make_profile_signer
from smtp_tls import make_certificate
from util import KUNCI, free_port, nginx_temp_paths, wait_port  # noqa: F401 (the tests import them from here)

# sqlite (default) or postgresql: the store the whole suite runs against.
STORE = os.environ.get("KUNCI_TEST_STORE", "sqlite")
PG_SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "test-postgres.sh")
BACKEND_PASSWORD = "backend-only-Secret-7"
AUTH_KEY = "proxy-shared-Key-9"


def write_secret(path, text):
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, 0o600)


class Env:
    def __init__(self, root):
        self.root = root
        self.data = os.path.join(root, "kunci")
        names = ("auth", "web", "imap", "pop3", "smtp", "http", "d_imap", "d_pop3",
                 "d_submission", "p_relay", "p_submission", "p_smtps")
        # Distinct: two services handed the same free port would meet only at bind time.
        ports = set()
        while len(ports) < len(names):
            ports.add(free_port())
        self.ports = dict(zip(names, ports))
        self.procs = []

    # --- kunci -----------------------------------------------------------
    def kunci(self, *args, input=None, check=True):
        env = dict(os.environ, KUNCI_DATA_DIR=self.data, KUNCI_CONFIG=self.config)
        p = subprocess.run([KUNCI, *args], input=input, capture_output=True, text=True,
                           env=env, timeout=60)
        assert "Sanitizer" not in p.stderr and "runtime error:" not in p.stderr, p.stderr
        if check and p.returncode != 0:
            raise AssertionError(f"kunci {' '.join(args)} exited {p.returncode}: {p.stderr}")
        return p

    def kunci_json(self, *args, input=None):
        return json.loads(self.kunci(*args, "--json", input=input).stdout)

    def add_user(self, login, password, mfa="disabled"):
        self.kunci("user", "add", login, "--password-stdin", input=password + "\n")
        if mfa != "disabled":
            self.kunci("mfa", "set", login, mfa)

    def app_password(self, login, name, *extra):
        return self.kunci_json("app-password", "create", login, "--name", name, *extra)

    def auth_nginx(self, user, password, protocol="imap", key=AUTH_KEY, raw_user=None,
                   client_ip="127.0.0.1"):
        """What nginx's auth_http sends, returning the response headers."""
        def esc(s):
            return urllib.parse.quote(s, safe="@")
        headers = {"Auth-Method": "plain", "Auth-User": raw_user or esc(user),
                   "Auth-Pass": esc(password), "Auth-Protocol": protocol,
                   "Auth-Login-Attempt": "1", "Client-IP": client_ip}
        if key is not None:
            headers["X-Kunci-Key"] = key
        req = urllib.request.Request(f"http://127.0.0.1:{self.ports['auth']}/auth/nginx",
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers)

    # --- daemons ---------------------------------------------------------
    # --- the store, whichever it is ------------------------------------
    @contextlib.contextmanager
    def outage(self):
        """The database unreachable for the duration of the block."""
        if STORE == "postgresql":
            subprocess.run([PG_SCRIPT, "pause", self.pg_dir], check=True)
            try:
                yield
            finally:
                subprocess.run([PG_SCRIPT, "resume", self.pg_dir, str(self.pg_port)],
                               check=True)
        else:
            db = os.path.join(self.data, "kunci.db")
            os.rename(db, db + ".away")
            try:
                yield
            finally:
                os.rename(db + ".away", db)

    def sql(self, statement, *args):
        """Runs one statement on kunci's database (to make time pass, say); its rows, as
        tuples (PostgreSQL's values as text, a bytea as bytes)."""
        if STORE == "postgresql":
            literals = iter("'" + str(a).replace("'", "''") + "'" for a in args)
            statement = "".join(next(literals) if ch == "?" else ch for ch in statement)
            p = subprocess.run(["psql", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                                self.pg_uri, "-c", statement],
                               check=True, capture_output=True, text=True)
            return [tuple(bytes.fromhex(v[2:]) if v.startswith("\\x") else v
                          for v in line.split("\t"))
                    for line in p.stdout.splitlines() if line]
        db = sqlite3.connect(os.path.join(self.data, "kunci.db"))
        with db:
            rows = db.execute(statement, args).fetchall()
        db.close()
        return rows

    def start(self):
        os.makedirs(self.data)
        self.config = os.path.join(self.root, "kunci.conf")
        store = ""
        if STORE == "postgresql":
            self.pg_dir, self.pg_port = os.path.join(self.root, "pg"), free_port()
            os.chmod(self.root, 0o755)
            self.pg_uri = subprocess.run([PG_SCRIPT, "start", self.pg_dir, str(self.pg_port)],
                                         check=True, capture_output=True,
                                         text=True).stdout.strip()
            store = f"backend = postgresql\nlocation = {self.pg_uri}\n"
        write_secret(os.path.join(self.root, "backend.pw"), BACKEND_PASSWORD)
        write_secret(os.path.join(self.root, "auth.key"), AUTH_KEY)
        p = self.ports
        with open(self.config, "w") as f:
            f.write(f"""[store]
data_dir = {self.data}
busy_timeout_ms = 2000
{store}[serve]
auth_listen = 127.0.0.1:{p['auth']}
web_listen = 127.0.0.1:{p['web']}
auth_key_file = {self.root}/auth.key
threads = 2
hash_workers = 2
log_allowed = yes
socket = {self.root}/auth.sock
socket_mode = 0600
[mail]
imap = 127.0.0.1:{p['d_imap']}
pop3 = 127.0.0.1:{p['d_pop3']}
smtp = 127.0.0.1:{p['d_submission']}
backend_password_file = {self.root}/backend.pw
auth_wait = 1
[passwords]
argon2_iterations = 2
argon2_memory_kib = 19456
""")
        self.cert, self.cert_key = make_certificate(self.root)
        # Device set-up: the mail settings devices get (nginx's IMAP and SMTP) and a profile
        # signing certificate under a test CA (self.profile_ca).
        signer = os.path.join(self.root, "profile-signer")
        os.makedirs(signer)
        self.profile_ca, profile_cert, profile_key = make_profile_signer(signer)
        with open(self.config, "a") as f:
            f.write(f"""[devices]
imap_host = 127.0.0.1
imap_port = {p['imap']}
imap_security = starttls
smtp_host = 127.0.0.1
smtp_port = {p['smtp']}
smtp_security = starttls
organization = Example Org
caldav_url = https://127.0.0.1:{p['http']}/dav/
profile_signing_cert = {profile_cert}
profile_signing_key = {profile_key}
""")
        with open(self.config, "a") as f:
            f.write(f"""[email]
driver = smtp
smtp_url = smtp://127.0.0.1:{p['p_submission']}
smtp_starttls = yes
smtp_user = kunci
smtp_password_file = {self.root}/backend.pw
smtp_ca_file = {self.cert}
from = kunci@example.org
timeout_ms = 5000
retries = 0
""")
        self.kunci("init")
        # Every client of this suite comes from 127.0.0.1, where real ones come from their own
        # addresses: the limit per address is raised here (tests/attack tests it as shipped).
        self.kunci("settings", "set", "address_threshold", "1000")
        self.start_kunci()
        self.start_dovecot()
        self.start_postfix()
        self.start_nginx()

    def spawn(self, name, argv, port):
        log = open(os.path.join(self.root, name + ".log"), "w")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                env=dict(os.environ, KUNCI_CONFIG=self.config))
        self.procs.append((name, proc))
        wait_port(port, proc, name)
        return proc

    def start_kunci(self):
        self.kunci_proc = self.spawn("kunci", [KUNCI, "serve"], self.ports["auth"])

    def start_dovecot(self, name="dovecot", ports=None, passdb=None, auth_user=None, settings=""):
        """A Dovecot of its own folder: imap, pop3 and (when ports name one) submission on
        the given ports; passdb by default accepts only the backend password (nginx in
        front); auth_user: who Dovecot's auth process runs as; settings: more lines for
        dovecot.conf. Its auth socket for Postfix
        is <folder>/auth-postfix. Returns the folder."""
        d = os.path.join(self.root, name)
        mail = os.path.join(self.root, "mail")
        for sub in ("run", "state"):
            os.makedirs(os.path.join(d, sub))
        if not os.path.isdir(mail):
            os.makedirs(mail)
            shutil.chown(mail, "nobody", "nogroup")
        os.chmod(self.root, 0o755)  # Dovecot's mail processes run as nobody
        p = self.ports
        ports = ports or {"imap": p["d_imap"], "pop3": p["d_pop3"],
                          "submission": p["d_submission"]}
        passdb = passdb or f"driver = static\n  args = password={BACKEND_PASSWORD}"
        services = "".join(f"""service {proto}-login {{
  inet_listener {proto} {{
    port = {port}
  }}
  chroot =
}}
""" for proto, port in ports.items())
        conf = os.path.join(d, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(f"""base_dir = {d}/run
state_dir = {d}/state
instance_name = kunci-test-{ports['imap']}
log_path = {d}/dovecot.log
protocols = {" ".join(ports)}
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
hostname = localhost
submission_relay_host = 127.0.0.1
submission_relay_port = {p['p_relay']}
mail_location = maildir:{mail}/%u
{settings}
passdb {{
  {passdb}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={mail}/%u
}}
{services}service imap-login {{
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3s {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
{f"  user = {auth_user}" if auth_user else ""}
  unix_listener {d}/auth-postfix {{
    mode = 0666
  }}
}}
""")
        proc = self.spawn(name, ["dovecot", "-F", "-c", conf], ports["imap"])
        for proto, port in ports.items():
            wait_port(port, proc, f"{name} {proto}")
        return d

    def start_postfix(self, name="postfix", sasl_path=None, listeners=None):
        """Postfix of its own (config, queue and maildir in its folder), in the foreground,
        asking the Dovecot auth socket sasl_path (the suite's Dovecot's by default) for SMTP
        AUTH. listeners: {port: smtpd options}; by default the suite's relay, submission and
        smtps. Returns its folder."""
        d = os.path.join(self.root, name)
        self.postfix_dirs = getattr(self, "postfix_dirs", []) + [d]
        etc = os.path.join(d, "etc")
        mail_folder = os.path.join(d, "mail")
        if name == "postfix":
            self.mail_folder = mail_folder
        for sub in ("etc", "queue", "data", "mail"):
            os.makedirs(os.path.join(d, sub))
        shutil.chown(os.path.join(d, "data"), "postfix")
        shutil.chown(mail_folder, "nobody", "nogroup")
        sasl_path = sasl_path or f"{self.root}/dovecot/auth-postfix"
        p = self.ports
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.write(f"""compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.localhost
mydomain = localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
local_transport = error:no local delivery here
alias_maps =
alias_database =
virtual_mailbox_domains = example.org, example.net, localhost
virtual_mailbox_base = {mail_folder}
virtual_mailbox_maps = static:all/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
smtputf8_enable = no
smtpd_tls_cert_file = {self.cert}
smtpd_tls_key_file = {self.cert_key}
smtpd_sasl_type = dovecot
smtpd_sasl_path = {sasl_path}
""")
        # The relay for Dovecot's submission (this host only); for kunci, STARTTLS and then
        # AUTH, or implicit TLS and AUTH: nothing is taken without both.
        authed = ("-o smtpd_sasl_auth_enable=yes "
                  "-o smtpd_recipient_restrictions=permit_sasl_authenticated,reject "
                  "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject")
        with open("/etc/postfix/master.cf") as f:
            master = f.read()
        master = "\n".join(line for line in master.splitlines()
                           if not line.startswith("smtp      inet"))
        listeners = listeners or {
            p["p_relay"]: "-o smtpd_relay_restrictions=permit_mynetworks,reject",
            p["p_submission"]: "-o smtpd_tls_security_level=encrypt -o smtpd_tls_auth_only=yes "
                               + authed,
            p["p_smtps"]: "-o smtpd_tls_wrappermode=yes " + authed}
        master += "\n" + "".join(f"127.0.0.1:{port} inet n - n - - smtpd {options}\n"
                                 for port, options in listeners.items())
        with open(os.path.join(etc, "master.cf"), "w") as f:
            f.write(master)
        postfix = lambda *args: subprocess.run(["postfix", "-c", etc, *args], check=True,
                                               capture_output=True)
        postfix("set-permissions", "create-missing")
        ports = list(listeners)
        proc = self.spawn(name, ["postfix", "-c", etc, "start-fg"], ports[0])
        for port in ports[1:]:
            wait_port(port, proc, f"{name} {port}")
        return d

    def messages(self):
        """Every message Postfix delivered, oldest first, as bytes."""
        out = []
        for sub in ("new", "cur"):
            folder = os.path.join(self.mail_folder, "all", sub)
            if os.path.isdir(folder):
                out += [os.path.join(folder, n) for n in os.listdir(folder)]
        out.sort(key=lambda path: (os.path.getmtime(path), path))
        messages = []
        for path in out:
            with open(path, "rb") as f:
                messages.append(f.read())
        return messages

    def start_nginx(self):
        n = os.path.join(self.root, "nginx")
        os.makedirs(os.path.join(n, "www", "dav"))
        with open(os.path.join(n, "www", "dav", "index.html"), "w") as f:
            f.write("calendar\n")
        p = self.ports
        conf = os.path.join(n, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""load_module /usr/lib/nginx/modules/ngx_mail_module.so;
daemon off;
master_process on;
worker_processes 1;
pid {n}/nginx.pid;
error_log {n}/error.log info;
events {{ worker_connections 256; }}
mail {{
    server_name localhost;
    auth_http 127.0.0.1:{p['auth']}/auth/nginx;
    auth_http_header X-Kunci-Key {AUTH_KEY};
    proxy_pass_error_message on;
    server {{ listen 127.0.0.1:{p['imap']}; protocol imap; imap_auth plain login; }}
    server {{ listen 127.0.0.1:{p['pop3']}; protocol pop3; pop3_auth plain; }}
    server {{
        listen 127.0.0.1:{p['smtp']};
        protocol smtp;
        smtp_auth plain login;
        proxy_smtp_auth on;
        xclient off;
    }}
}}
http {{
    access_log {n}/access.log;
{nginx_temp_paths(n)}    server {{
        listen 127.0.0.1:{p['http']};
        location = /_kunci {{
            internal;
            proxy_pass http://127.0.0.1:{p['auth']}/auth/basic;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Kunci-Protocol dav;
            proxy_set_header X-Kunci-Key {AUTH_KEY};
            proxy_set_header X-Real-IP $remote_addr;
        }}
        location /dav/ {{
            auth_request /_kunci;
            auth_request_set $kunci_user $upstream_http_x_kunci_user;
            add_header X-Authenticated-User $kunci_user always;
            root {n}/www;
            index index.html;
        }}
    }}
}}
""")
        self.spawn("nginx", ["nginx", "-p", n, "-c", conf], p["imap"])
        for k in ("pop3", "smtp", "http"):
            wait_port(p[k], self.procs[-1][1], "nginx " + k)

    def stop(self):
        for postfix_dir in getattr(self, "postfix_dirs", []):
            subprocess.run(["postfix", "-c", os.path.join(postfix_dir, "etc"), "stop"],
                           capture_output=True)
        if getattr(self, "pg_dir", None):
            self.stop_procs()
            subprocess.run([PG_SCRIPT, "stop", self.pg_dir])
            return
        self.stop_procs()

    def stop_procs(self):
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if name != "nginx" else signal.SIGQUIT)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def sanitizer_reports(self):
        text = self.log("kunci")
        return [l for l in text.splitlines()
                if "AddressSanitizer" in l or "runtime error:" in l or "LeakSanitizer" in l]

    def log(self, name):
        with open(os.path.join(self.root, name + ".log")) as f:
            return f.read()


@pytest.fixture(scope="session")
def env():
    root = tempfile.mkdtemp(prefix="kunci-it-")
    e = Env(root)
    try:
        e.start()
        yield e
    finally:
        e.stop()
    reports = e.sanitizer_reports()
    if os.environ.get("KUNCI_KEEP_TEST_DIR") is None:
        shutil.rmtree(root, ignore_errors=True)
    assert not reports, "kunci serve under sanitizers:\n" + "\n".join(reports)
