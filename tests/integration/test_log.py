"""kunci's log: one line per event, the same fields for a login decision whichever way it
came in (/auth/nginx, /auth/basic, the socket, the web), as key=value pairs or JSON lines
([log] format), and never a secret."""

import base64
import json
import os
import socket
import sys
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from kunci_instance import Kunci  # noqa: E402

DECISION_FIELDS = ["event", "endpoint", "login", "protocol", "ip", "result", "reason", "via",
                   "app_password_id", "duration_ms"]


def every_way_in(k, login, wrong):
    """A wrong password through each of the four ways in."""
    assert k.auth(login, wrong)[0] == "Invalid login or password"
    basic = base64.b64encode(f"{login}:{wrong}".encode()).decode()
    req = urllib.request.Request(f"http://127.0.0.1:{k.ports['auth']}/auth/basic",
                                 headers={"Authorization": f"Basic {basic}"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 401
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(k.socket)
        s.sendall(f"AUTH\timap\t-\t{login}\t{wrong}\n".encode())
        assert s.recv(100) == b"FAIL\n"
    assert k.web().call("POST", "/session", {"login": login, "password": wrong})[0] == 401


@pytest.fixture
def kunci_at(tmp_path):
    made = []

    def make(fmt):
        root = tmp_path / fmt
        root.mkdir()
        k = Kunci(str(root), extra=f"\n[log]\nformat = {fmt}\n")
        made.append(k)
        return k
    yield make
    for k in made:
        k.stop()


def test_json_lines_with_the_same_fields_on_every_path(kunci_at):
    k = kunci_at("json").start()
    login, pw = k.user()
    wrong = "Wrong \"quoted\"\npassword"
    every_way_in(k, login, wrong)
    assert k.auth(login, pw)[0] == "OK"
    k.stop()
    lines = [json.loads(line) for line in k.log().splitlines()]  # every line is JSON
    assert all(line["time"].endswith("Z") and line["event"] for line in lines)
    decisions = [d for d in lines if d.get("login") == login]
    assert sorted(d["endpoint"] for d in decisions if d["result"] == "wrong_secret") == [
        "/api/v1/session", "/auth/basic", "/auth/nginx", "socket"]
    keys = {tuple(d) for d in decisions}
    assert len(keys) == 1  # the same fields, in the same order, on every path
    assert list(decisions[0]) == ["time", "event", "endpoint", "login", "protocol", "client_ip",
                                  "result", "reason", "via", "app_password_id", "duration_ms"]
    assert any(d["result"] == "allowed" and d["endpoint"] == "/auth/nginx" for d in decisions)
    assert all(isinstance(d["duration_ms"], (int, float)) and d["duration_ms"] >= 0
               for d in decisions)
    assert any(line["event"] == "serve.signal" and "SIGTERM" in line["msg"] for line in lines)
    assert pw not in k.log() and "quoted" not in k.log()


def test_key_value_lines_with_the_same_fields_on_every_path(kunci_at):
    k = kunci_at("text").start()
    login, pw = k.user()
    every_way_in(k, login, "Wrong-password-1")
    k.stop()
    decisions = [line for line in k.log().splitlines() if f"login={login}" in line]
    assert len(decisions) == 4
    for line in decisions:
        assert [field.split("=", 1)[0] for field in line.split(" ")] == DECISION_FIELDS
        assert "result=wrong_secret" in line
    assert "Wrong-password-1" not in k.log() and pw not in k.log()


def test_an_unknown_log_format_is_refused_at_start(tmp_path):
    k = Kunci(str(tmp_path))
    with open(k.config, "a") as f:
        f.write("\n[log]\nformat = xml\n")
    p = k.cli("serve", check=False)
    assert p.returncode == 64 and "expected text or json ([log] format)" in p.stderr
