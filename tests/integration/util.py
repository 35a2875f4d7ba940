"""What every suite needs to run kunci: its binary, free ports, waiting for a listener; the
mail clients that sign in through what kunci decides."""

import imaplib
import os
import poplib
import random
import socket
import time

KUNCI = os.environ.get("KUNCI_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "kunci")


_given = set()


def free_port():
    """A free port below the kernel's ephemeral range: a port the kernel picked (bind to 0)
    is one an outgoing connection may take before the server binds it, and a test's server
    then exits with "in use" (seen once in a clean-clone make test). Never the same port
    twice in one run."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        ephemeral = int(f.read().split()[0])
    for _ in range(1000):
        port = random.randrange(10000, ephemeral)
        if port in _given:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError("no free port below the ephemeral range")


def wait_port(port, proc, what, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            said = proc.stderr.read() if proc.stderr is not None else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}: {said}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


def nginx_temp_paths(folder):
    """The http block's temporary folders inside folder (nginx's defaults are under /var/lib,
    which a test may not write), one directive a line, indented for the http block."""
    return "".join(f"    {kind}_temp_path {folder}/{name};\n" for kind, name in (
        ("client_body", "body"), ("proxy", "proxy"), ("fastcgi", "fastcgi"),
        ("uwsgi", "uwsgi"), ("scgi", "scgi")))


def imap_login(port, user, password, timeout=15):
    """Signs in over IMAP on 127.0.0.1:port and opens INBOX: "OK", or the server's refusal."""
    c = imaplib.IMAP4("127.0.0.1", port, timeout=timeout)
    try:
        c.login(user, password)
        typ, _ = c.select("INBOX")
        assert typ == "OK"
        c.logout()
        return "OK"
    except imaplib.IMAP4.error as e:
        return str(e)
    finally:
        try:
            c.shutdown()
        except OSError:
            pass


def pop3_login(port, user, password, timeout=15):
    """Signs in over POP3 on 127.0.0.1:port: "OK", or the server's refusal."""
    c = poplib.POP3("127.0.0.1", port, timeout=timeout)
    try:
        c.user(user)
        c.pass_(password)
        c.stat()
        c.quit()
        return "OK"
    except poplib.error_proto as e:
        return str(e)
    finally:
        c.close()
