"""Codes sent on request, and sessions that outlive a password. Attacks 7, 9 and 14 of the
security review."""

import time

from conftest import enrol_email, enrol_totp, totp


# Attack 7: 20 resend requests gave 20 messages.
def test_resends_are_limited(kunci):
    login, pw, address, method_id = enrol_email(kunci)
    c = kunci.web()
    c.sign_in(login, pw)
    before = len(kunci.outbox(address))
    answers = [c.call("POST", "/session/code", {"method_id": method_id}) for _ in range(20)]
    sent = len(kunci.outbox(address)) - before
    assert sent <= 1  # the wizard's code went out seconds ago: a cool-down of 60 s
    refused = [a for a in answers if a[0] == 429]
    assert len(refused) >= 19
    assert refused[0][1]["error"] == "too_many_codes"
    assert 0 < refused[0][1]["retry_after"] <= 60
    assert 0 < int(refused[0][2]["Retry-After"]) <= 60


def test_codes_per_account_and_day(kunci):
    login, pw, address, method_id = enrol_email(kunci)
    kunci.setting("code_resend_seconds", 0)  # the cool-down apart: the counts alone
    c = kunci.web()
    c.sign_in(login, pw)
    answers = [c.call("POST", "/session/code", {"method_id": method_id})[0] for _ in range(20)]
    assert answers.count(200) == 4  # 5 per 15 minutes, the wizard's included
    assert len(kunci.outbox(address)) == 5
    # The day's limit holds when the 15 minutes have passed.
    kunci.sql("UPDATE code_sends SET at = at - 1000")
    for _ in range(30):
        c.call("POST", "/session/code", {"method_id": method_id})
        kunci.sql("UPDATE code_sends SET at = at - 1000")
    assert len(kunci.outbox(address)) == 20


# ... and 20 wizard requests to 20 strangers' addresses and numbers gave 20 messages.
def test_codes_to_strangers_while_registering(kunci):
    login, pw = kunci.user("enabled")
    c = kunci.web()
    c.sign_in(login, pw)
    kunci.setting("code_resend_seconds", 0)
    answers = []
    for i in range(10):
        answers.append(c.call("POST", "/methods/email", {"address": f"stranger{i}@example.net"}))
        answers.append(c.call("POST", "/methods/phone", {"country_code": "+62",
                                                         "number": f"8120000{i:04d}",
                                                         "channel": "sms"}))
    assert sum(1 for a in answers if a[0] == 200) == 3  # code_destinations_per_day
    assert len(kunci.outbox()) == 3
    assert all(a[1]["error"] == "too_many_codes" for a in answers if a[0] != 200)


def test_one_stranger_is_not_bombed_from_many_accounts(kunci):
    kunci.setting("code_resend_seconds", 0)
    victim = "victim@example.net"
    for _ in range(8):
        login, pw = kunci.user("enabled")
        c = kunci.web()
        c.sign_in(login, pw)
        c.call("POST", "/methods/email", {"address": victim})
    assert len(kunci.outbox(victim)) == 5  # per destination, whoever asks


# Attack 9: a password change or an administrator's reset left the other sessions signed in.
def test_password_change_ends_the_other_sessions(kunci):
    login, pw = kunci.user("enabled")
    c, secret, method_id = enrol_totp(kunci, login, pw)
    assert c.call("POST", "/setup/complete", {})[0] == 200
    other = kunci.web()
    other.sign_in(login, pw)
    status, _, hdrs = other.call("POST", "/session/verify", {"method_id": method_id,
                                                             "code": totp(secret, time.time() + 30),
                                                             "remember": True})
    assert status == 200
    device = [ck for ck in other.jar if ck.name == "kunci_device"]
    assert device and other.call("GET", "/app-passwords")[0] == 200
    # The user changes the password in the first browser.
    status, _, _ = c.call("POST", "/password", {"current": pw, "new": "Changed-pass-22"})
    assert status == 200
    assert c.call("GET", "/app-passwords")[0] == 200  # this session goes on
    assert other.call("GET", "/session")[1]["signed_in"] is False
    assert other.call("GET", "/app-passwords")[0] == 401
    # The remembered browser asks for the second factor again.
    assert other.sign_in(login, "Changed-pass-22")[1]["next"] == "second_factor"


def test_administrators_reset_ends_every_session(kunci):
    admin, apw = kunci.user("disabled", login="admin@example.org")
    kunci.cli("user", "add", "boss@example.org", "--admin", "--password-stdin",
              input="Boss-password-1\n")
    login, pw = kunci.user("disabled")
    victim = kunci.web()
    assert victim.sign_in(login, pw)[1]["next"] == "done"
    boss = kunci.web()
    boss.sign_in("boss@example.org", "Boss-password-1")
    status, out, _ = boss.call("POST", f"/admin/users/{login}/password", {})
    assert status == 200 and out["one_time_password"]
    assert victim.call("GET", "/session")[1]["signed_in"] is False
    kunci.cli("user", "passwd", login, "--password-stdin", input="Cli-password-1\n")
    victim2 = kunci.web()
    victim2.sign_in(login, "Cli-password-1")
    assert victim2.call("GET", "/session")[1]["signed_in"] is True
    kunci.cli("user", "passwd", login, "--password-stdin", input="Cli-password-2\n")
    assert victim2.call("GET", "/session")[1]["signed_in"] is False


# Attack 14: no HSTS even with X-Forwarded-Proto: https; plain cookie names.
def test_https_gets_hsts_and_host_prefixed_cookies(kunci):
    login, pw = kunci.user("disabled")
    c = kunci.web()
    https = {"X-Forwarded-Proto": "https"}
    status, s, hdrs = c.call("POST", "/session", {"login": login, "password": pw},
                             headers=https)
    assert status == 200
    assert hdrs["Strict-Transport-Security"].startswith("max-age=")
    cookie = hdrs["Set-Cookie"]
    assert cookie.startswith("__Host-kunci_session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    # The prefixed cookie is the session over https; the plain name is not read there.
    import urllib.request
    import json
    base = f"http://127.0.0.1:{kunci.ports['web']}/api/v1/session"
    for name, expected in (("__Host-kunci_session", True), ("kunci_session", False)):
        req = urllib.request.Request(base, headers={"Cookie": f"{name}={token}", **https})
        with urllib.request.urlopen(req) as r:
            assert json.loads(r.read())["signed_in"] is expected
    # Plain http on loopback: no HSTS, no prefix.
    status, _, hdrs = kunci.web().call("POST", "/session", {"login": login, "password": pw})
    assert "Strict-Transport-Security" not in hdrs
    assert hdrs["Set-Cookie"].startswith("kunci_session=")
