"""The Debian packages (make deb), installed on this machine as an administrator would
(apt-get install ./kunci_*.deb ./libpam-kunci_*.deb), used, removed and purged: the service's
user and data directory, the conffile, the man pages, the unit, `kunci init`, the service's
command line serving, the installed PAM module answering, and nothing left behind.

Needs root; skipped where kunci is installed already (never touched). The packaged service is
not started (policy-rc.d says no while the test runs): it would listen on the default ports;
its ExecStart line runs here instead, as its user, on ports of the test's own."""

import glob
import json
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from util import free_port, wait_port  # noqa: E402

DEB_DIR = os.environ.get("KUNCI_DEB_DIR", "")
DEBS = sorted(glob.glob(os.path.join(DEB_DIR, "kunci_*.deb")) +
              glob.glob(os.path.join(DEB_DIR, "libpam-kunci_*.deb")))
POLICY = "/usr/sbin/policy-rc.d"
WANTS = "/etc/systemd/system/multi-user.target.wants/kunci.service"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="installs packages: needs root"),
    pytest.mark.skipif(len(DEBS) != 2, reason="no packages: run make deb (KUNCI_DEB_DIR)"),
    pytest.mark.skipif(subprocess.run(["dpkg", "-s", "kunci"], capture_output=True)
                       .returncode == 0, reason="kunci is installed on this machine: kept"),
]


def run(*args, check=True, env=None, input=None):
    p = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env, input=input)
    if check:
        assert p.returncode == 0, f"{' '.join(args)}: {p.stdout}{p.stderr}"
    return p


def apt(*args):
    return run("apt-get", "-y", "-q", "--no-install-recommends", *args,
               env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def owner(path):
    return pwd.getpwuid(os.stat(path).st_uid).pw_name


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture
def no_service_start():
    made = not os.path.exists(POLICY)
    if made:
        with open(POLICY, "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod(POLICY, 0o755)
    yield
    if made:
        os.unlink(POLICY)


def test_install_use_remove_purge(no_service_start):
    pam_service = f"kunci-deb-{uuid.uuid4().hex[:8]}"
    serve = None
    scratch = tempfile.mkdtemp(prefix="kunci-deb-")  # the service's user reads it
    os.chmod(scratch, 0o755)
    try:
        apt("install", *DEBS)
        # The service's user and its data directory.
        kunci = pwd.getpwnam("kunci")
        assert kunci.pw_dir == "/var/lib/kunci" and kunci.pw_shell == "/usr/sbin/nologin"
        st = os.stat("/var/lib/kunci")
        assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == kunci.pw_uid
        conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", "kunci").stdout
        assert "/etc/kunci/kunci.conf" in conffiles
        # The man pages (in the packages; on the disk unless dpkg is told to leave them out).
        listed = run("dpkg", "-L", "kunci", "libpam-kunci").stdout
        for page in ("man1/kunci.1.gz", "man5/kunci.conf.5.gz", "man8/pam_kunci.8.gz"):
            assert f"/usr/share/man/{page}" in listed
        if os.path.exists("/usr/share/man/man1/kunci.1.gz") and shutil.which("man"):
            assert "kunci.conf" in run("man", "-P", "cat", "kunci.conf").stdout
        unit = "/lib/systemd/system/kunci.service"
        assert os.path.exists(unit)
        assert os.path.islink(WANTS)  # enabled (started too, where policy-rc.d allows)
        if shutil.which("systemd-analyze"):
            p = run("systemd-analyze", "verify", unit, check=False)
            assert p.returncode == 0, p.stderr
        module = run("dpkg", "-L", "libpam-kunci").stdout
        assert "/security/pam_kunci.so" in module

        # kunci init as root: it becomes the data directory's owner, so the files are the
        # service's.
        env = dict(os.environ, KUNCI_CONFIG="/etc/kunci/kunci.conf",
                   KUNCI_DATA_DIR="/var/lib/kunci")
        run("kunci", "init", env=env)
        for f in ("kunci.key", "kunci.db"):
            assert owner(f"/var/lib/kunci/{f}") == "kunci", f
        run("kunci", "user", "add", "alice@example.org", "--password-stdin", env=env,
            input="Packaged-pass-1\n")
        run("kunci", "mfa", "set", "alice@example.org", "enforced", env=env)
        app = json.loads(run("kunci", "app-password", "create", "alice@example.org", "--name",
                             "Mail", "--json", env=env).stdout)["password"]
        assert all(owner(os.path.join("/var/lib/kunci", f)) == "kunci"
                   for f in os.listdir("/var/lib/kunci"))

        # The unit's command line, as its user, on ports of this test's own.
        conf = os.path.join(scratch, "kunci.conf")
        web, auth = free_port(), free_port()
        with open("/etc/kunci/kunci.conf") as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("127.0.0.1:8081", f"127.0.0.1:{auth}")
                    .replace("127.0.0.1:8080", f"127.0.0.1:{web}"))
        os.chmod(conf, 0o644)
        os.makedirs("/run/kunci", exist_ok=True)  # systemd's RuntimeDirectory
        shutil.chown("/run/kunci", "kunci", "kunci")
        os.chmod("/run/kunci", 0o750)
        serve = subprocess.Popen(["setpriv", "--reuid=kunci", "--regid=kunci", "--init-groups",
                                  "env", f"KUNCI_CONFIG={conf}",
                                  "KUNCI_DATA_DIR=/var/lib/kunci", "/usr/bin/kunci", "serve"],
                                 stderr=subprocess.PIPE, text=True)
        wait_port(web, serve, "packaged kunci")
        with urllib.request.urlopen(f"http://127.0.0.1:{auth}/healthz", timeout=10) as r:
            assert r.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{web}/security", timeout=10) as r:
            assert b"app.js" in r.read()
        # The installed PAM module, by its bare name: PAM finds it where the package put it.
        with open(f"/etc/pam.d/{pam_service}", "w") as f:
            f.write("auth required pam_kunci.so protocol=imap\n"
                    "account required pam_permit.so\n")
        for _ in range(50):
            if os.path.exists("/run/kunci/auth.sock"):
                break
            time.sleep(0.1)
        ok = run("pamtester", pam_service, "alice@example.org", "authenticate", check=False,
                 input=app + "\n")
        assert ok.returncode == 0, ok.stdout + ok.stderr
        no = run("pamtester", pam_service, "alice@example.org", "authenticate", check=False,
                 input="Packaged-pass-1\n")
        assert no.returncode != 0
        serve.terminate()
        assert serve.wait(30) == 0
        said = serve.stderr.read()
        serve = None
        assert "files from /usr/share/kunci/web" in said, said

        # Removed: the programs go; the data stays, and the edited-or-not conffile (policy).
        apt("remove", "kunci", "libpam-kunci")
        for gone in ("/usr/bin/kunci", unit, "/usr/share/kunci"):
            assert not os.path.exists(gone), gone
        assert sorted(os.listdir("/var/lib/kunci")) >= ["kunci.db", "kunci.key"]
        left = [os.path.join(d, f) for d, _, fs in os.walk("/etc/kunci") for f in fs]
        assert left == ["/etc/kunci/kunci.conf"]
        # Purged: nothing at all.
        apt("purge", "kunci", "libpam-kunci")
        for gone in ("/var/lib/kunci", "/etc/kunci", "/run/kunci", WANTS):
            assert not os.path.exists(gone), gone
        assert not user_exists("kunci")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if serve is not None:
            serve.kill()
            serve.wait()
        if os.path.exists(f"/etc/pam.d/{pam_service}"):
            os.unlink(f"/etc/pam.d/{pam_service}")
        if subprocess.run(["dpkg", "-s", "kunci"], capture_output=True).returncode == 0 or \
                subprocess.run(["dpkg", "-s", "libpam-kunci"], capture_output=True).returncode == 0:
            subprocess.run(["apt-get", "-y", "-q", "purge", "kunci", "libpam-kunci"],
                           capture_output=True, env=dict(os.environ,
                                                         DEBIAN_FRONTEND="noninteractive"))
