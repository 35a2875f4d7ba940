"""The second factor cannot be skipped, guessed, or walked around by a stale password.
Attacks 1, 3 and 6 of the security review."""

import time

from conftest import enrol_email, enrol_totp, totp


def guesses(secret, n):
    """n six-digit codes, none of them right around now."""
    right = {totp(secret, time.time() + d) for d in (-60, -30, 0, 30, 60)}
    return [g for g in ("%06d" % i for i in range(200000, 200000 + n + 10)) if g not in right][:n]


def assert_no_full_session(c):
    assert c.call("GET", "/app-passwords")[0] == 401
    assert c.call("POST", "/app-passwords", {"name": "stolen"})[0] == 401
    assert c.call("GET", "/methods")[0] == 401


# Attack 1: POST /session, then POST /setup/complete, gave a full session and an app
# password to anyone with the password of an account that had a verified method.
def test_verified_but_never_pressed_next(kunci):
    login, pw = kunci.user("enabled")
    enrol_totp(kunci, login, pw)  # verified; Next never pressed: still "enabled"
    attacker = kunci.web()
    status, s, _ = attacker.sign_in(login, pw)
    assert status == 200 and s["next"] == "second_factor"
    status, body, _ = attacker.call("POST", "/setup/complete", {})
    assert status in (401, 409) and "app_password" not in body
    assert_no_full_session(attacker)
    # Registering a method of the attacker's own is not open to it either.
    assert attacker.call("POST", "/methods/totp", {})[0] == 401
    assert attacker.call("POST", "/methods/email", {"address": "evil@example.net"})[0] == 401


def test_set_back_from_enforced_to_enabled(kunci):
    login, pw = kunci.user("enabled")
    c, _, _ = enrol_totp(kunci, login, pw)
    assert c.call("POST", "/setup/complete", {})[0] == 200
    kunci.cli("mfa", "set", login, "enabled")  # the administrator steps back
    attacker = kunci.web()
    assert attacker.sign_in(login, pw)[1]["next"] == "second_factor"
    status, body, _ = attacker.call("POST", "/setup/complete", {})
    assert status in (401, 409) and "app_password" not in body
    assert_no_full_session(attacker)


def test_mfa_disabled_but_a_method_verified(kunci):
    login, pw = kunci.user("enabled")
    c, _, _ = enrol_totp(kunci, login, pw)
    assert c.call("POST", "/setup/complete", {})[0] == 200
    kunci.cli("mfa", "set", login, "disabled")
    attacker = kunci.web()
    assert attacker.sign_in(login, pw)[1]["next"] == "second_factor"
    assert attacker.call("POST", "/setup/complete", {})[0] in (401, 409)
    assert_no_full_session(attacker)


def test_setup_completes_only_after_a_method_verified_in_that_session(kunci):
    login, pw = kunci.user("enabled")
    c = kunci.web()
    assert c.sign_in(login, pw)[1]["next"] == "setup"
    status, body, _ = c.call("POST", "/setup/complete", {})
    assert status == 409 and body["error"] == "verify_first"
    _, t, _ = c.call("POST", "/methods/totp", {})
    assert c.call("POST", "/setup/complete", {})[1]["error"] == "verify_first"
    assert c.call("POST", f"/methods/{t['method_id']}/verify",
                  {"code": totp(t["secret"])})[0] == 200
    status, body, _ = c.call("POST", "/setup/complete", {})
    assert status == 200 and body["app_password"]["password"]


# Attack 3: 11 rounds of sign-in and 10 wrong TOTP codes, then the right one: signed in.
def test_totp_guessing_across_sessions(kunci):
    login, pw = kunci.user("enabled")
    c, secret, method_id = enrol_totp(kunci, login, pw)
    assert c.call("POST", "/setup/complete", {})[0] == 200
    wrong = iter(guesses(secret, 200))
    refused = 0
    for _ in range(11):
        c = kunci.web()
        status, s, _ = c.sign_in(login, pw)
        assert status == 200 and s["next"] == "second_factor"
        for _ in range(10):
            status, body, _ = c.call("POST", "/session/verify",
                                     {"method_id": method_id, "code": next(wrong)})
            assert status in (400, 429), body
            if body.get("error") == "code_locked":
                refused += 1
                assert body["retry_after"] > 0
            if body.get("error") == "signed_out":
                break
    assert refused > 0
    # The right code, after all that: refused while the account's codes are locked...
    c = kunci.web()
    c.sign_in(login, pw)  # ...and a right password does not reset the count.
    status, body, _ = c.call("POST", "/session/verify",
                             {"method_id": method_id, "code": totp(secret)})
    assert status == 429 and body["error"] == "code_locked", body
    assert_no_full_session(c)
    # At most one lock's worth of guesses was checked: lockouts shows the account.
    codes = [r for r in kunci.lockouts() if r["kind"] == "code"]
    assert codes and codes[0]["subject"] == login and codes[0]["locked"]
    # The administrator clears it; then the right code works.
    kunci.cli("lockout", "clear", login)
    c = kunci.web()
    c.sign_in(login, pw)
    assert c.call("POST", "/session/verify",
                  {"method_id": method_id, "code": totp(secret, time.time() + 30)})[0] == 200


def test_emailed_code_guessing_across_resends(kunci):
    login, pw, address, method_id = enrol_email(kunci)
    m = {"method_id": method_id}
    kunci.setting("code_resend_seconds", 0)
    kunci.setting("codes_per_15_minutes", 100)
    kunci.setting("codes_per_day", 1000)
    locked = False
    for _ in range(6):  # each round: a new code, five wrong guesses
        c = kunci.web()
        c.sign_in(login, pw)
        status, body, _ = c.call("POST", "/session/code", {"method_id": m["method_id"]})
        assert status == 200, body
        sent = kunci.outbox(address)[-1]["code"]
        for guess in ("%06d" % ((int(sent) + d) % 1000000) for d in range(1, 6)):
            status, body, _ = c.call("POST", "/session/verify",
                                     {"method_id": m["method_id"], "code": guess})
            if body.get("error") == "code_locked":
                locked = True
                break
        if locked:
            break
    assert locked
    status, body, _ = c.call("POST", "/session/verify", {"method_id": m["method_id"],
                                                         "code": kunci.outbox(address)[-1]["code"]})
    assert status == 429 and body["error"] == "code_locked"


# Attack 6: /setup/complete skipped the ten-minute password re-entry.
def test_setup_complete_asks_for_a_recent_password(kunci):
    login, pw = kunci.user("enabled")
    c, _, _ = enrol_totp(kunci, login, pw)
    kunci.sql("UPDATE sessions SET password_at = password_at - 3600")
    status, body, _ = c.call("POST", "/setup/complete", {})
    assert status == 403 and body["error"] == "reauth_required"
    assert kunci.cli("app-password", "list", login, "--json").stdout.strip() == "[]"
    assert c.call("POST", "/reauth", {"password": pw})[0] == 200
    status, body, _ = c.call("POST", "/setup/complete", {})
    assert status == 200 and body["app_password"]["password"]


def test_method_changes_ask_for_a_recent_password(kunci):
    login, pw = kunci.user("enabled")
    c, secret, first = enrol_totp(kunci, login, pw)
    assert c.call("POST", "/setup/complete", {})[0] == 200
    _, t, _ = c.call("POST", "/methods/totp", {})
    assert c.call("POST", f"/methods/{t['method_id']}/verify",
                  {"code": totp(t["secret"])})[0] == 200
    kunci.sql("UPDATE sessions SET password_at = password_at - 3600")
    for method, path, body in (("POST", "/methods/totp", {}),
                               ("POST", "/methods/email", {"address": "x@example.net"}),
                               ("POST", f"/methods/{t['method_id']}/default", None),
                               ("DELETE", f"/methods/{first}", None),
                               ("POST", "/app-passwords", {"name": "x"})):
        status, out, _ = c.call(method, path, body)
        assert status == 403 and out["error"] == "reauth_required", (method, path, out)
    assert c.call("POST", "/reauth", {"password": pw})[0] == 200
    assert c.call("DELETE", f"/methods/{first}")[0] == 200
