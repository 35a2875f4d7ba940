"""The organization's side through the API and the CLI: the users list at scale (search,
pages, columns), MFA for many users at once, Manage user settings, readiness before
"enforced", and every administrator endpoint refused to a user."""

import json
import time
import uuid

from test_web_api import enrolled, user, web
from webclient import totp


def admin(env):
    boss = f"boss.{uuid.uuid4().hex[:8]}@example.org"
    env.kunci("user", "add", boss, "--admin", "--password-stdin", input="Boss-password-long-1\n")
    a = web(env)
    assert a.sign_in(boss, "Boss-password-long-1")[0] == 200
    return a, boss


def test_search_pages_and_columns(env):
    a, _ = admin(env)
    tag = uuid.uuid4().hex[:6]
    logins = [f"rollout-{tag}-{i:02d}@example.org" for i in range(7)]
    for i, login in enumerate(logins):
        env.kunci("user", "add", login, "--display-name", f"Zed{tag} Person {i}",
                  "--password-stdin", input="Wander-Orbit-71\n")
    page = a.call("GET", f"/admin/users?q=rollout-{tag}&limit=3")[1]
    assert [u["login"] for u in page["items"]] == logins[:3]
    assert page["next_after"] == logins[2]
    rest = a.call("GET", f"/admin/users?q=ROLLOUT-{tag}&limit=5&after={page['next_after']}")[1]
    assert [u["login"] for u in rest["items"]] == logins[3:] and rest["next_after"] is None
    # The display name's prefix, in any case.
    by_name = a.call("GET", f"/admin/users?q=zed{tag}")[1]["items"]
    assert sorted(u["login"] for u in by_name) == logins
    assert a.call("GET", "/admin/users?q=nobody-has-this-prefix")[1]["items"] == []
    # The columns: methods, app passwords, last sign-in, readiness.
    c, login, pw, _, _ = enrolled(env)
    env.app_password(login, "Phone")
    row = a.call("GET", f"/admin/users?q={login}")[1]["items"][0]
    assert row["methods"] == 1 and row["app_passwords"] == 2 and row["mfa_state"] == "enforced"
    assert row["last_sign_in_at"] and row["legacy_clients"] == 0
    assert a.call("GET", "/admin/users?limit=0")[0] == 400
    # Without a search: everyone, in login order, page by page.
    first = a.call("GET", "/admin/users?limit=2")[1]
    assert len(first["items"]) == 2 and first["items"][0]["login"] < first["items"][1]["login"]
    after = a.call("GET", f"/admin/users?limit=2&after={first['next_after']}")[1]["items"]
    assert after[0]["login"] > first["items"][1]["login"]


def test_bulk_mfa_and_readiness(env):
    a, _ = admin(env)
    users = [user(env) for _ in range(3)]
    logins = [u[0] for u in users]
    # One of them reads mail with the account password.
    assert env.auth_nginx(logins[0], users[0][1], "imap", client_ip="10.0.0.5")[1]["Auth-Status"] == "OK"
    status, body, _ = a.call("POST", "/admin/users/mfa", {"logins": logins + ["ghost@example.org"],
                                                          "mfa_state": "enabled"})
    assert status == 404 and body["logins"] == ["ghost@example.org"]
    assert all(env.kunci_json("user", "show", l)["mfa_state"] == "disabled" for l in logins)
    status, body, _ = a.call("POST", "/admin/users/mfa", {"logins": logins, "mfa_state": "enabled"})
    assert status == 200 and body["changed"] == 3
    assert all(web(env).sign_in(l, pw)[0] == 200 for l, pw in users)  # the state, nothing else
    ready = a.call("POST", "/admin/readiness", {"logins": logins})[1]
    assert ready["affected"] == 1
    cut = next(u for u in ready["users"] if u["login"] == logins[0])
    assert cut["clients"][0]["protocol"] == "imap" and cut["clients"][0]["client_ip"] == "10.0.0.5"
    # The user sees it too, on "More information required".
    c = web(env)
    s = c.sign_in(logins[0], users[0][1])[1]
    assert s["next"] == "setup" and s["account_password_clients"][0]["client_ip"] == "10.0.0.5"
    row = a.call("GET", f"/admin/users?q={logins[0]}")[1]["items"][0]
    assert row["legacy_clients"] == 1 and row["mfa_state"] == "enabled"
    status, body, _ = a.call("POST", "/admin/users/mfa", {"logins": logins, "mfa_state": "enforced"})
    assert status == 200 and body["changed"] == 3
    assert env.auth_nginx(logins[0], users[0][1], "imap")[1]["Auth-Status"] != "OK"
    events = a.call("GET", f"/admin/activity?user={logins[1]}&event=mfa_state_changed")[1]["items"]
    assert [e["detail"] for e in events] == ["enabled -> enforced", "disabled -> enabled"]
    assert a.call("POST", "/admin/users/mfa", {"logins": logins, "mfa_state": "on"})[0] == 400
    assert a.call("POST", "/admin/users/mfa", {"logins": [], "mfa_state": "enabled"})[0] == 400


def test_manage_user_settings(env):
    a, _ = admin(env)
    c, login, pw, secret, _ = enrolled(env)
    ap = env.app_password(login, "Laptop")["password"]
    assert env.auth_nginx(login, ap, "imap")[1]["Auth-Status"] == "OK"
    status, _, _ = a.call("POST", "/admin/users/manage",
                          {"logins": [login], "actions": ["delete_app_passwords"]})
    assert status == 200
    assert env.auth_nginx(login, ap, "imap")[1]["Auth-Status"] != "OK"  # at once
    assert c.call("GET", "/session")[1]["signed_in"] is True
    a.call("POST", "/admin/users/manage", {"logins": [login], "actions": ["sign_out"]})
    assert c.call("GET", "/session")[1]["signed_in"] is False
    a.call("POST", "/admin/users/manage", {"logins": [login], "actions": ["reset_methods"]})
    shown = env.kunci_json("user", "show", login)
    assert shown["mfa_state"] == "enabled"
    c = web(env)
    assert c.sign_in(login, pw)[1]["next"] == "setup"  # registers again
    assert a.call("POST", "/admin/users/manage", {"logins": [login], "actions": ["dance"]})[0] == 400
    assert a.call("POST", "/admin/users/manage", {"logins": [login], "actions": []})[0] == 400


def test_edit_delete_and_users_get_403_everywhere(env):
    a, boss = admin(env)
    login, pw = user(env)
    assert a.call("PATCH", f"/admin/users/{login}", {"display_name": "Dewi Baru"})[0] == 200
    assert env.kunci_json("user", "show", login)["display_name"] == "Dewi Baru"
    assert a.call("PATCH", f"/admin/users/{login}", {"display_name": "x\n"})[0] == 400
    assert a.call("DELETE", f"/admin/users/{boss}")[1]["error"] == "self"
    plain = web(env)
    plain.sign_in(login, pw)
    for method, path, body in (("GET", "/admin/users", None), ("POST", "/admin/users", {}),
                               ("POST", "/admin/users/mfa", {"logins": [login], "mfa_state": "disabled"}),
                               ("POST", "/admin/users/manage", {"logins": [login], "actions": ["sign_out"]}),
                               ("POST", "/admin/readiness", {"logins": [login]}),
                               ("PATCH", f"/admin/users/{login}", {"display_name": "me"}),
                               ("DELETE", f"/admin/users/{login}", None),
                               ("POST", f"/admin/users/{login}/password", {}),
                               ("DELETE", f"/admin/users/{login}/app-passwords", None),
                               ("GET", "/admin/lockouts", None),
                               ("DELETE", f"/admin/lockouts/{login}", None),
                               ("GET", "/admin/activity", None),
                               ("GET", "/admin/settings", None),
                               ("PATCH", "/admin/settings", {"activity_days": 1}),
                               ("POST", f"/admin/users/{login}/access-pass", {})):
        status, answer, _ = plain.call(method, path, body)
        assert status == 403 and answer["error"] == "not_admin", (method, path, status)
    assert a.call("DELETE", f"/admin/users/{login}")[0] == 200
    assert env.kunci("user", "show", login, check=False).returncode == 1
    assert a.call("GET", f"/admin/activity?user={login}&event=user_deleted")[1]["items"]


def test_cli_bulk(env, tmp_path):
    users = [user(env) for _ in range(3)]
    logins = [u[0] for u in users]
    listing = tmp_path / "logins.txt"
    listing.write_text("# the pilot group\n" + "\n".join(logins[1:]) + "\n\n")
    env.kunci("mfa", "set", logins[0], "--from-file", str(listing), "enabled")
    assert all(env.kunci_json("user", "show", l)["mfa_state"] == "enabled" for l in logins)
    # Only the state changed: each still signs in with the password.
    assert all(web(env).sign_in(l, pw)[0] == 200 for l, pw in users)
    bad = env.kunci("mfa", "set", logins[0], "ghost@example.org", "enforced", check=False)
    assert bad.returncode == 1 and "ghost@example.org" in bad.stderr and "nothing was changed" in bad.stderr
    assert env.kunci_json("user", "show", logins[0])["mfa_state"] == "enabled"
    out = json.loads(env.kunci("--json", "mfa", "set", *logins, "enforced").stdout)
    assert [u["mfa_state"] for u in out] == ["enforced"] * 3
    c, login, pw, _, _ = enrolled(env)
    env.kunci("sessions", "revoke", login)
    assert c.call("GET", "/session")[1]["signed_in"] is False
    env.kunci("devices", "forget", login)
    env.kunci("mfa", "reset-methods", login)
    assert env.kunci_json("user", "show", login)["mfa_state"] == "enabled"
    rows = json.loads(env.kunci("--json", "audit", "list", "--user", login).stdout)
    kinds = [r["event"] for r in rows]
    for k in ("sessions_revoked", "devices_forgotten", "methods_reset"):
        assert k in kinds
    assert env.kunci("mfa", "set", "enabled", check=False).returncode == 64
    assert env.kunci("sessions", "revoke", check=False).returncode == 64


def test_service_settings_in_admin(env):
    a, _ = admin(env)
    listed = {s["key"]: s for s in a.call("GET", "/admin/settings")[1]}
    assert set(listed) >= {"app_passwords_allowed", "remember_device_days", "trusted_networks",
                           "mfa_setup_grace_days", "activity_days"}
    assert listed["remember_device_days"]["group"] == "remember"
    assert listed["remember_device_days"]["min"] == 1 and listed["remember_device_days"]["description"]
    # One bad value: nothing is written.
    status, body, _ = a.call("PATCH", "/admin/settings", {"remember_device_days": 30,
                                                          "app_passwords_max": 0})
    assert status == 400 and body["key"] == "app_passwords_max"
    assert env.kunci("settings", "get", "remember_device_days").stdout.strip() == "14"
    status, body, _ = a.call("PATCH", "/admin/settings", {"remember_device_days": 30,
                                                          "mfa_email_allowed": False})
    assert status == 200
    assert env.kunci("settings", "get", "remember_device_days").stdout.strip() == "30"
    assert env.kunci("settings", "get", "mfa_email_allowed").stdout.strip() == "false"
    changed = a.call("GET", "/admin/activity?event=settings_changed")[1]["items"]
    assert any(e["detail"] == "remember_device_days = 30" for e in changed)
    a.call("PATCH", "/admin/settings", {"remember_device_days": 14, "mfa_email_allowed": True})
    bad = a.call("PATCH", "/admin/settings", {"trusted_networks": "10.0.0.1/8"})
    assert bad[0] == 400
    many = ",".join(f"10.{i}.0.0/16" for i in range(51))
    assert a.call("PATCH", "/admin/settings", {"trusted_networks": many})[0] == 400
    assert a.call("PATCH", "/admin/settings", {"no_such_setting": 1})[0] == 400


def test_trusted_networks(env):
    c, login, pw, secret, _ = enrolled(env)
    # Outside: the second factor; the account password refused in mail apps.
    assert web(env).sign_in(login, pw)[1]["next"] == "second_factor"
    env.kunci("settings", "set", "trusted_networks", "127.0.0.0/8,10.9.0.0/16")
    try:
        s = web(env).sign_in(login, pw)[1]
        assert s["next"] == "done"  # from a trusted network: no second factor
        # Mail apps from there may use the account password only while there is no app password.
        assert env.auth_nginx(login, pw, "imap", client_ip="10.9.1.2")[1]["Auth-Status"] != "OK"
        env.kunci("app-password", "delete-all", login)
        assert env.auth_nginx(login, pw, "imap", client_ip="10.9.1.2")[1]["Auth-Status"] == "OK"
        assert env.auth_nginx(login, pw, "imap", client_ip="192.0.2.9")[1]["Auth-Status"] != "OK"
    finally:
        env.kunci("settings", "set", "trusted_networks", "")
    assert web(env).sign_in(login, pw)[1]["next"] == "second_factor"


def test_setup_grace(env):
    login, pw = user(env, "enabled")
    c = web(env)
    s = c.sign_in(login, pw)[1]
    assert s["next"] == "setup" and "setup_grace" not in s
    assert c.call("POST", "/setup/later", {})[1]["error"] == "setup_required"
    env.kunci("settings", "set", "mfa_setup_grace_days", "3")
    try:
        c = web(env)
        s = c.sign_in(login, pw)[1]
        assert s["setup_grace"]["allowed"] is True
        status, s, _ = c.call("POST", "/setup/later", {})
        assert status == 200 and s["next"] == "done"
        # Asked again at the next sign-in, with the same end.
        until = s["setup_grace"]["until"]
        c2 = web(env)
        s2 = c2.sign_in(login, pw)[1]
        assert s2["next"] == "setup" and s2["setup_grace"]["until"] == until
        # Past the grace: required.
        env.sql("UPDATE accounts SET setup_deferred_at = setup_deferred_at - 4 * 86400 "
                "WHERE login = ?", login)
        c3 = web(env)
        s3 = c3.sign_in(login, pw)[1]
        assert s3["setup_grace"]["allowed"] is False
        assert c3.call("POST", "/setup/later", {})[0] == 403
    finally:
        env.kunci("settings", "set", "mfa_setup_grace_days", "0")


def test_backup_codes(env):
    c, login, pw, secret, _ = enrolled(env)
    status, body, _ = c.call("POST", "/methods/backup-codes", {})
    assert status == 201 and len(body["codes"]) == 10 and len(set(body["codes"])) == 10
    codes = body["codes"]
    assert c.call("GET", "/session")[1]["backup_codes"]["unused"] == 10
    # At sign-in, one code once, however it is typed.
    s = web(env)
    assert s.sign_in(login, pw)[1]["next"] == "second_factor"
    status, body, _ = s.call("POST", "/session/backup-code", {"code": codes[0].replace(" ", "-")})
    assert status == 200 and body["next"] == "done" and body["backup_codes"]["unused"] == 9
    s2 = web(env)
    s2.sign_in(login, pw)
    status, body, _ = s2.call("POST", "/session/backup-code", {"code": codes[0]})
    assert status == 400 and body["error"] == "wrong_code"  # used
    assert s2.call("POST", "/session/backup-code", {"code": codes[1]})[0] == 200
    # A new set: the old codes stop working.
    fresh = c.call("POST", "/methods/backup-codes", {})[1]["codes"]
    s3 = web(env)
    s3.sign_in(login, pw)
    assert s3.call("POST", "/session/backup-code", {"code": codes[2]})[0] == 400
    assert s3.call("POST", "/session/backup-code", {"code": fresh[0]})[0] == 200
    # Stored as keyed hashes: no code in the database.
    dump = env.sql("SELECT digest FROM backup_codes")
    for code in fresh:
        assert all(code.replace(" ", "").encode() not in bytes(r[0]) for r in dump)


def test_temporary_access_pass(env):
    a, _ = admin(env)
    c, login, pw, secret, method_id = enrolled(env)
    # The phone is lost: the administrator issues a pass.
    status, body, _ = a.call("POST", f"/admin/users/{login}/access-pass", {"valid": "8h"})
    assert status == 201 and body["one_time"] is True
    tap = body["pass"]
    s = web(env)
    status, body, _ = s.sign_in(login, tap)
    assert status == 200 and body["access_pass"] is True and body["next"] == "done"
    # Straight to a new method: the session may register (it proved both factors).
    _, t, _ = s.call("POST", "/methods/totp", {})
    assert s.call("POST", f"/methods/{t['method_id']}/verify", {"code": totp(t["secret"])})[0] == 200
    assert s.call("DELETE", f"/methods/{method_id}")[0] == 200
    # One sign-in only.
    assert web(env).sign_in(login, tap)[0] == 401
    # The CLI issues one too; a reusable pass works until it expires.
    out = json.loads(env.kunci("--json", "user", "temporary-pass", login, "--valid", "1h",
                               "--reusable").stdout)
    assert web(env).sign_in(login, out["pass"])[0] == 200
    assert web(env).sign_in(login, out["pass"])[0] == 200
    env.sql("UPDATE access_passes SET expires_at = 1 WHERE account_id = "
            "(SELECT id FROM accounts WHERE login = ?)", login)
    assert web(env).sign_in(login, out["pass"])[0] == 401
    assert env.kunci("user", "temporary-pass", login, "--valid", "60d", check=False).returncode == 64
    # Not for a disabled account.
    env.kunci("user", "disable", login)
    off = json.loads(env.kunci("--json", "user", "temporary-pass", login).stdout)["pass"]
    assert web(env).sign_in(login, off)[1]["error"] == "account_disabled"
    env.kunci("user", "enable", login)
    # Never a way in for mail apps.
    fresh = json.loads(env.kunci("--json", "user", "temporary-pass", login).stdout)["pass"]
    assert env.auth_nginx(login, fresh, "imap")[1]["Auth-Status"] != "OK"
    kinds = [e["event"] for e in a.call("GET", f"/admin/activity?user={login}")[1]["items"]]
    assert "access_pass_issued" in kinds


def wait_message(env, to, subject, timeout=15):
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:
        for m in env.messages():
            if f"To: <{to}>".encode() in m and f"Subject: {subject}".encode() in m:
                return m.decode(errors="replace")
        time.sleep(0.1)
    return None


def test_the_owner_is_told_by_email(env):
    c, login, pw, _, _ = enrolled(env)
    ap = env.app_password(login, "Thunderbird")["password"]
    note = wait_message(env, login, "New app password")
    assert note and "Thunderbird" in note and "This wasn't me" in note and "Ini bukan saya" in note
    assert ap.replace(" ", "") not in note.replace(" ", "")  # never the secret
    a, _ = admin(env)
    a.call("POST", "/admin/users/mfa", {"logins": [login], "mfa_state": "enabled"})
    assert wait_message(env, login, "Multi-factor authentication changed")
    # Ten wrong passwords lock the password; the owner hears of it.
    for i in range(10):
        env.auth_nginx(login, f"Wrong-guess-{i:03d}", "imap", client_ip="198.51.100.7")
    note = wait_message(env, login, "Account locked")
    assert note and "198.51.100.7" in note
    env.kunci("lockout", "clear", login)


def mailed_code(env, address, after=0, timeout=15):
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:
        for m in reversed(env.messages()[after:]):
            if f"To: <{address}>".encode() in m and b"code is " in m:
                return m.split(b"code is ")[1][:6].decode()
        time.sleep(0.1)
    return None


def test_self_service_password_reset(env):
    c, login, pw, secret, totp_id = enrolled(env)
    alt = f"alt.{uuid.uuid4().hex[:6]}@example.net"
    seen = len(env.messages())
    _, email, _ = c.call("POST", "/methods/email", {"address": alt})
    assert c.call("POST", f"/methods/{email['method_id']}/verify",
                  {"code": mailed_code(env, alt, seen)})[0] == 200
    r = web(env)
    # Off by default.
    status, body, _ = r.call("POST", "/password-reset", {"login": login})
    assert status == 403 and body["error"] == "password_reset_off"
    env.kunci("settings", "set", "password_reset_allowed", "true")
    # The e-mail method's code went out a moment ago: no wait before the reset's.
    env.kunci("settings", "set", "code_resend_seconds", "0")
    try:
        # An unknown account gets the same answer, and its "code" fails like a wrong one.
        ghost = web(env)
        status, g, _ = ghost.call("POST", "/password-reset", {"login": "ghost@example.org"})
        assert status == 200 and g == {"sent": True, "csrf": g["csrf"]}
        status, body, _ = ghost.call("POST", "/password-reset/verify", {"code": "123456"})
        assert (status, body["error"]) == (400, "wrong_code")
        seen = len(env.messages())
        status, body, _ = r.call("POST", "/password-reset", {"login": login})
        assert status == 200 and set(body) == {"sent", "csrf"}
        # The reset session opens nothing else.
        assert r.call("GET", "/session")[1]["signed_in"] is False
        assert r.call("GET", "/app-passwords")[0] == 401
        early = r.call("POST", "/password-reset/complete", {"new": "Fresh-Lantern-88"})
        assert early[0] == 409, early[1]
        assert r.call("POST", "/password-reset/verify", {"code": "000000"})[1]["error"] == "wrong_code"
        status, body, _ = r.call("POST", "/password-reset/verify",
                                 {"code": mailed_code(env, alt, seen)})
        assert status == 200 and body["next"] == "second_factor"
        assert [m["kind"] for m in body["methods"]] == ["totp"]
        assert r.call("POST", "/password-reset/complete", {"new": "Fresh-Lantern-88"})[0] == 409
        # The next step's code: the current one was used when the app was registered.
        status, body, _ = r.call("POST", "/password-reset/second",
                                 {"method_id": totp_id, "code": totp(secret, time.time() + 30)})
        assert status == 200 and body["next"] == "new_password"
        assert r.call("POST", "/password-reset/complete", {"new": "password1"})[1]["error"] == "common_password"
        status, body, _ = r.call("POST", "/password-reset/complete", {"new": "Fresh-Lantern-88"})
        assert status == 200 and body["done"] is True
        # The old password and every session are gone; the new one signs in.
        assert c.call("GET", "/session")[1]["signed_in"] is False
        assert web(env).sign_in(login, pw)[0] == 401
        assert web(env).sign_in(login, "Fresh-Lantern-88")[0] == 200
    finally:
        env.kunci("settings", "set", "password_reset_allowed", "false")
        env.kunci("settings", "set", "code_resend_seconds", "60")
