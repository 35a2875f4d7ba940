"""Attacks that failed against kunci in the review, done again so that they keep failing:
TOTP replay by two browsers at once, session fixation, CSRF, enumeration by answer and by
time, header injection, path traversal, malformed input, secrets at rest and in logs."""

import concurrent.futures
import glob
import json
import os
import statistics
import time
import urllib.error
import urllib.request

from conftest import REAL, enrol_totp, totp


def test_totp_replay_by_two_browsers_at_once(kunci):
    login, pw = kunci.user("enabled")
    c, secret, method_id = enrol_totp(kunci, login, pw)
    assert c.call("POST", "/setup/complete", {})[0] == 200
    browsers = [kunci.web() for _ in range(6)]
    for b in browsers:
        assert b.sign_in(login, pw)[1]["next"] == "second_factor"
    code = totp(secret, time.time() + 30)
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda b: b.call("POST", "/session/verify",
                                                  {"method_id": method_id, "code": code})[0],
                                 browsers))
    assert statuses.count(200) == 1


def test_session_fixation(kunci):
    login, pw = kunci.user("disabled")
    planted = "A" * 43
    req = urllib.request.Request(
        f"http://127.0.0.1:{kunci.ports['web']}/api/v1/session", method="POST",
        data=json.dumps({"login": login, "password": pw}).encode(),
        headers={"Content-Type": "application/json", "Cookie": f"kunci_session={planted}"})
    with urllib.request.urlopen(req) as r:
        issued = r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert issued != planted
    req = urllib.request.Request(f"http://127.0.0.1:{kunci.ports['web']}/api/v1/session",
                                 headers={"Cookie": f"kunci_session={planted}"})
    with urllib.request.urlopen(req) as r:
        assert json.loads(r.read())["signed_in"] is False


def test_csrf_and_cross_site_origin(kunci):
    login, pw = kunci.user("enforced")
    c = kunci.web()
    c.sign_in(login, pw)
    assert c.call("POST", "/methods/totp", {}, csrf=False)[0] == 403
    assert c.call("POST", "/methods/totp", {}, headers={"Origin": "https://evil.example"})[0] == 403


def test_unknown_account_and_wrong_password_look_alike(make_kunci):
    k = make_kunci(passwords=REAL).start()
    login, _ = k.user("disabled")
    a = k.web().sign_in("nobody@example.org", "Wrong-pass-1")
    b = k.web().sign_in(login, "Wrong-pass-1")
    assert (a[0], a[1]) == (b[0], b[1])
    assert k.auth("nobody@example.org", "Wrong-pass-2")[0] == k.auth(login, "Wrong-pass-2")[0]

    def timed(user, n):
        out = []
        for i in range(n):
            start = time.perf_counter()
            k.auth(user, f"Wrong-{user}-{i}", ip=f"10.77.{i}.{len(user)}")
            out.append(time.perf_counter() - start)
        return statistics.median(out)
    unknown, known = timed("nobody@example.org", 8), timed(login, 8)
    print(f"median: unknown {unknown * 1000:.1f} ms, known {known * 1000:.1f} ms")
    assert 0.5 < unknown / known < 2


def test_header_injection_is_never_ok(kunci):
    login, _ = kunci.user("enforced")
    app = kunci.app_password(login)
    for user in (login + "\r\nAuth-Status: OK", login + "%0d%0aAuth-Status: OK",
                 login + "\x00", login + "%00"):
        headers = {"Auth-Method": "plain", "Auth-Protocol": "imap", "Client-IP": "192.0.2.1",
                   "Auth-User": user.replace("\r\n", "%0d%0a").replace("\x00", "%00"),
                   "Auth-Pass": app.replace(" ", "%20")}
        req = urllib.request.Request(f"http://127.0.0.1:{kunci.ports['auth']}/auth/nginx",
                                     headers=headers)
        with urllib.request.urlopen(req) as r:
            assert r.headers["Auth-Status"] != "OK"
            assert r.headers.get_all("Auth-Status") == [r.headers["Auth-Status"]]


def test_path_traversal(kunci):
    for bad in ("/../kunci.conf", "/%2e%2e/etc/passwd", "/.hidden", "/%2e%2e%2fdata%2fkunci.key"):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{kunci.ports['web']}{bad}")
            raise AssertionError(f"{bad} was served")
        except urllib.error.HTTPError as e:
            assert e.code in (400, 404)


def test_malformed_input_changes_nothing(kunci):
    login, pw = kunci.user("enabled")
    before = kunci.sql("SELECT count(*) FROM accounts")[0][0]
    c = kunci.web()
    for body in ({"login": "x" * 5000, "password": pw}, {"login": login, "password": "x" * 100000},
                 {"login": ["array"], "password": pw}, {"login": login}):
        assert c.call("POST", "/session", body)[0] in (400, 401, 413)
    req = urllib.request.Request(f"http://127.0.0.1:{kunci.ports['web']}/api/v1/session",
                                 data=b'{"login": "a\\u0000b", "password": "x"', method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req)
    except urllib.error.HTTPError as e:
        assert e.code == 400
    assert kunci.sql("SELECT count(*) FROM accounts")[0][0] == before
    assert kunci.sql("SELECT count(*) FROM sessions")[0][0] == 0


def test_no_secret_at_rest_or_in_the_log(kunci):
    login, pw = kunci.user("enforced", password="Primary-Secret-Zz9")
    app = kunci.app_password(login)
    assert kunci.auth(login, app)[0] == "OK"
    kunci.auth(login, pw)
    kunci.web().sign_in(login, pw)
    kunci.web().sign_in(login, "Wrong-Secret-Qq8")
    files = glob.glob(os.path.join(kunci.data, "kunci.db*")) + [os.path.join(kunci.root, "kunci.log")]
    for path in files:
        with open(path, "rb") as f:
            blob = f.read()
        for secret in ("Primary-Secret-Zz9", "Wrong-Secret-Qq8", app, app.replace(" ", "")):
            assert secret.encode() not in blob, (secret, path)
