#!/usr/bin/env python3
"""IMAP logins per second through real nginx (mail proxy) and Dovecot, the integration
stack (tests/integration/conftest.py), with kunci as nginx's auth_http, against the same
stack with a stub auth_http that answers OK from a constant (kunci's own answer, recorded
once), in one run. Each client process logs in, selects INBOX and logs out, again and
again.

Usage: KUNCI_BIN=build/kunci python3 bench/imap.py [seconds] [clients]"""

import imaplib
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
os.environ.setdefault("KUNCI_BIN", os.path.join(HERE, "..", "build", "kunci"))

from conftest import Env  # noqa: E402
from util import free_port, nginx_temp_paths, wait_port  # noqa: E402


def client(port, login, password, seconds, out):
    n = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        c = imaplib.IMAP4("127.0.0.1", port, timeout=15)
        c.login(login, password)
        assert c.select("INBOX")[0] == "OK"
        c.logout()
        n += 1
    out.put(n)


def rate(port, login, password, seconds, clients):
    q = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client, args=(port, login, password, seconds, q))
             for _ in range(clients)]
    for p in procs:
        p.start()
    total = sum(q.get() for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def stub_nginx(root, headers, dovecot_port):
    """A second nginx: a mail proxy whose auth_http is a location of its own answering OK
    with kunci's recorded headers, in front of the same Dovecot."""
    n = os.path.join(root, "stub")
    os.makedirs(n)
    imap, http = free_port(), free_port()
    answer = "".join(f"        add_header {k} \"{v}\";\n" for k, v in headers.items()
                     if k.startswith("Auth-"))
    conf = os.path.join(n, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""load_module /usr/lib/nginx/modules/ngx_mail_module.so;
daemon off;
worker_processes 1;
pid {n}/nginx.pid;
error_log {n}/error.log;
events {{ worker_connections 256; }}
mail {{
    server_name localhost;
    auth_http 127.0.0.1:{http}/auth;
    server {{ listen 127.0.0.1:{imap}; protocol imap; imap_auth plain login; }}
}}
http {{
    access_log off;
{nginx_temp_paths(n)}    server {{
        listen 127.0.0.1:{http};
        location /auth {{
{answer}        return 204;
        }}
    }}
}}
""")
    proc = subprocess.Popen(["nginx", "-p", n, "-c", conf])
    wait_port(imap, proc, "stub nginx")
    return proc, imap


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    root = tempfile.mkdtemp(prefix="kunci-imap-bench-")
    env = Env(root)
    stub = None
    try:
        env.start()
        login = f"bench{uuid.uuid4().hex[:8]}@example.org"
        env.add_user(login, "Bench-primary-1", "enforced")
        password = env.app_password(login, "bench")["password"]
        status, headers = env.auth_nginx(login, password)
        assert headers["Auth-Status"] == "OK", headers
        stub, stub_port = stub_nginx(root, headers, env.ports["imap"])
        print(f"== IMAP login + SELECT + LOGOUT, {clients} clients, {seconds}s each")
        base = rate(stub_port, login, password, seconds, clients)
        real = rate(env.ports["imap"], login, password, seconds, clients)
        print(f"stub auth_http (constant OK):  {base:8.1f} logins/s")
        print(f"kunci:                         {real:8.1f} logins/s")
        print(f"ratio kunci/stub:              {real / base:.2f}")
    finally:
        if stub is not None:
            stub.terminate()
            stub.wait(10)
        env.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
