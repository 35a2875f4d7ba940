"""Slow and greedy clients: half-sent requests on both listeners, dribbling local clients on
the socket, and a PAM module that must not wait for ever. Attacks 8, 10 and 11."""

import os
import socket
import subprocess
import threading
import time
import urllib.request
import uuid

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
PAM_MODULE = os.environ.get("KUNCI_PAM_MODULE") or os.path.abspath(os.path.join(ROOT, "build", "pam_kunci.so"))


def half_sent(port, n, source="127.0.0.1"):
    """n connections that start a request and never finish it."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /auth/nginx HTTP/1.1\r\nHost: kunci\r\nAuth-User: x")
        socks.append(s)
    return socks


def cut_off(s):
    """True when the server closed the connection (or answered it, and will)."""
    s.settimeout(0.05)
    try:
        return s.recv(1) is not None
    except socket.timeout:
        return False
    except OSError:
        return True


def answered(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status


# Attack 8: 1,100 half-sent requests took both listeners down, and the log grew 60 MiB/s.
def test_half_sent_requests_do_not_take_the_listeners(kunci):
    login, _ = kunci.user("enforced")
    app = kunci.app_password(login)
    socks = []
    try:
        socks += half_sent(kunci.ports["auth"], 1100)
        socks += half_sent(kunci.ports["web"], 1100)
        started = time.monotonic()
        # A normal client keeps its answers meanwhile, on both listeners.
        for _ in range(5):
            assert answered(f"http://127.0.0.1:{kunci.ports['auth']}/healthz") == 200
            assert answered(f"http://127.0.0.1:{kunci.ports['web']}/healthz") == 200
            assert kunci.auth(login, app, timeout=5)[0] == "OK"
        assert time.monotonic() - started < 10
        # The slow ones are cut off at the header deadline (5 s), however they dribble.
        time.sleep(7)
        assert sum(1 for s in socks if cut_off(s)) == len(socks)
    finally:
        for s in socks:
            s.close()
    time.sleep(0.5)
    assert kunci.auth(login, app)[0] == "OK"
    assert len(kunci.log()) < 64 * 1024  # the refusals are logged, at a bounded rate


def test_one_address_holds_its_share_of_connections(make_kunci):
    k = make_kunci(serve_extra="max_connections = 200\nmax_connections_per_address = 50").start()
    socks = []
    try:
        # 127.0.0.2 is loopback too: another client address on this machine.
        for _ in range(120):
            try:
                s = socket.create_connection(("127.0.0.1", k.ports["web"]), timeout=2,
                                             source_address=("127.0.0.2", 0))
                s.sendall(b"GET / HTTP/1.1\r\n")
                socks.append(s)
            except OSError:
                pass
        time.sleep(0.3)
        assert sum(1 for s in socks if not cut_off(s)) <= 50
        assert answered(f"http://127.0.0.1:{k.ports['web']}/healthz") == 200
    finally:
        for s in socks:
            s.close()
    assert "max_connections_per_address" in k.log()


def test_dribbling_slowly_is_cut_off(kunci):
    s = socket.create_connection(("127.0.0.1", kunci.ports["auth"]))
    start = time.monotonic()
    closed_after = None
    for ch in b"GET /healthz HTTP/1.1\r\nHost: k\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa":
        try:
            s.sendall(bytes([ch]))
        except OSError:
            closed_after = time.monotonic() - start
            break
        s.settimeout(0.4)
        try:
            if s.recv(1) == b"":
                closed_after = time.monotonic() - start
                break
        except socket.timeout:
            pass
    s.close()
    assert closed_after is not None and closed_after < 8


# Attack 10: two slow local clients blocked the PAM socket.
def test_slow_socket_clients_do_not_block_the_others(kunci):
    login, _ = kunci.user("enforced")
    app = kunci.app_password(login)
    slow = []
    for _ in range(20):  # the review used two; the old listener had two threads
        s = socket.socket(socket.AF_UNIX)
        s.connect(kunci.socket)
        s.sendall(b"AUTH\timap\t-\t")
        slow.append(s)
    stop = threading.Event()

    def dribble():
        while not stop.is_set():
            for s in slow:
                try:
                    s.sendall(b"a")
                except OSError:
                    pass
            time.sleep(0.5)
    t = threading.Thread(target=dribble)
    t.start()
    try:
        started = time.monotonic()
        answer = ask_socket(kunci.socket, f"AUTH\timap\t-\t{login}\t{app}\n")
        assert answer == f"OK\t{login}\n" and time.monotonic() - started < 2
        # The deadline is per request: dribbling does not keep a connection.
        time.sleep(6)
        cut = 0
        for s in slow:
            s.settimeout(0.05)
            try:
                cut += s.recv(16) in (b"FAIL\n", b"")
            except (socket.timeout, OSError):
                pass
        assert cut == len(slow)
    finally:
        stop.set()
        t.join()
        for s in slow:
            s.close()


def ask_socket(path, line):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    s.sendall(line.encode())
    out = b""
    while not out.endswith(b"\n"):
        chunk = s.recv(512)
        if not chunk:
            break
        out += chunk
    s.close()
    return out.decode()


# Attack 11: pam_kunci's connect() had no timeout: a full backlog hung every PAM login.
@pytest.mark.skipif(os.geteuid() != 0, reason="writes a service to /etc/pam.d")
def test_pam_gives_up_on_a_full_backlog(tmp_path):
    path = str(tmp_path / "stuck.sock")
    stuck = socket.socket(socket.AF_UNIX)
    stuck.bind(path)
    stuck.listen(0)  # never accepts
    fillers = []
    for _ in range(8):  # fill the backlog
        f = socket.socket(socket.AF_UNIX)
        f.setblocking(False)
        try:
            f.connect(path)
        except BlockingIOError:
            f.close()
            break
        fillers.append(f)
    name = f"kunci-stuck-{uuid.uuid4().hex[:8]}"
    with open(f"/etc/pam.d/{name}", "w") as f:
        f.write(f"auth required {PAM_MODULE} protocol=imap socket={path} timeout=1500\n"
                "account required pam_permit.so\n")
    try:
        started = time.monotonic()
        p = subprocess.run(["pamtester", name, "someone@example.org", "authenticate"],
                           input="password\n", capture_output=True, text=True, timeout=30)
        took = time.monotonic() - started
    finally:
        os.unlink(f"/etc/pam.d/{name}")
        for f in fillers:
            f.close()
        stuck.close()
    assert p.returncode != 0
    assert "cannot retrieve authentication info" in p.stdout + p.stderr  # PAM_AUTHINFO_UNAVAIL
    assert took < 5



def test_a_kept_alive_connection_may_rest(kunci):
    """The header deadline is for requests being sent, not for a client resting between two
    on a kept-alive connection (up to the listener's idle time)."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", kunci.ports["web"], timeout=10)
    c.request("GET", "/healthz")
    assert c.getresponse().read()
    time.sleep(7)  # longer than the header deadline, shorter than the idle time
    c.request("GET", "/healthz")
    assert c.getresponse().status == 200
    c.close()
