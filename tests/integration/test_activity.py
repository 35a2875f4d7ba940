"""The activity record: mail logins (aggregated), web sign-ins and changes, each with the
reason of a refusal; Recent activity for the owner, the log for administrators and the
CLI, and "This wasn't me"."""

import json
import time
import uuid

from test_web_api import enrolled, user, web


def items(c, path="/activity"):
    status, body, _ = c.call("GET", path)
    assert status == 200, body
    return body["items"]


def test_mail_logins_are_recorded_with_the_reason_the_owner_may_see(env):
    c, login, pw, _, _ = enrolled(env)
    laptop = env.app_password(login, "Laptop", "--protocols", "imap")
    secret = laptop["password"]
    for _ in range(3):
        assert env.auth_nginx(login, secret, "imap", client_ip="10.0.0.5")[1]["Auth-Status"] == "OK"
    assert env.auth_nginx(login, secret, "pop3", client_ip="10.0.0.5")[1]["Auth-Status"] != "OK"
    assert env.auth_nginx(login, pw, "imap", client_ip="10.0.0.6")[1]["Auth-Status"] != "OK"
    seen = items(c)
    mail = [e for e in seen if e["event"] == "mail_login"]
    ok = [e for e in mail if e["outcome"] == "ok"]
    assert len(ok) == 1 and ok[0]["count"] == 3 and ok[0]["agent"] == "imap"
    assert ok[0]["app_password"] == "Laptop" and ok[0]["client_ip"] == "10.0.0.5"
    pop = [e for e in mail if e["agent"] == "pop3"]
    assert pop and pop[0]["outcome"] == "refused" and pop[0]["reason"] == "protocol_not_allowed"
    assert pop[0]["app_password"] == "Laptop"
    own = [e for e in mail if e["client_ip"] == "10.0.0.6"]
    assert own and own[0]["reason"] == "mfa_required" and own[0]["app_password"] is None
    # The web's own: the sign-in, the method, set-up's completion, the app password.
    kinds = [e["event"] for e in seen]
    for k in ("sign_in", "method_added", "mfa_state_changed", "app_password_created"):
        assert k in kinds, (k, kinds)
    signin = next(e for e in seen if e["event"] == "sign_in")
    assert signin["agent"] == "Python" and signin["outcome"] == "ok"
    # The CLI made "Laptop": named as such, by the Unix user.
    made = next(e for e in seen if e["event"] == "app_password_created" and
                e["detail"] == "Laptop")
    assert made["actor"].startswith("cli:")
    # Another user sees none of it.
    other, opw = user(env)
    o = web(env)
    o.sign_in(other, opw)
    assert all(e.get("subject") is None for e in items(o))
    assert not [e for e in items(o) if e["event"] == "mail_login"]


def test_administrators_log_cli_audit_and_export(env):
    c, login, pw, _, _ = enrolled(env)
    env.auth_nginx(login, "Wrong-guess-1", "imap", client_ip="192.0.2.77")
    boss = f"boss.{uuid.uuid4().hex[:6]}@example.org"
    env.kunci("user", "add", boss, "--admin", "--password-stdin", input="Boss-password-long-1\n")
    a = web(env)
    a.sign_in(boss, "Boss-password-long-1")
    # Everyone's, filtered; each filter narrows.
    got = items(a, f"/admin/activity?user={login}&protocol=imap&outcome=refused")
    assert got and all(e["subject"] == login and e["agent"] == "imap" and
                       e["outcome"] == "refused" for e in got)
    assert got[0]["reason"] == "wrong_secret" and got[0]["client_ip"] == "192.0.2.77"
    assert items(a, "/admin/activity?ip=192.0.2.77&event=mail_login")
    assert not items(a, f"/admin/activity?user={login}&since=2000-01-01&until=2000-01-02")
    assert a.call("GET", "/admin/activity?since=yesterday")[1]["error"] == "bad_time"
    page = a.call("GET", "/admin/activity?limit=2")[1]
    assert len(page["items"]) == 2 and page["next_before"] == page["items"][1]["id"]
    older = a.call("GET", f"/admin/activity?limit=2&before={page['next_before']}")[1]["items"]
    assert older[0]["id"] < page["items"][1]["id"]
    # A user is not an administrator.
    assert c.call("GET", "/admin/activity")[0] == 403
    # The CLI: a table, JSON, and JSON lines.
    table = env.kunci("audit", "list", "--user", login, "--since", "1h").stdout
    assert "mail_login" in table and "wrong_secret" in table
    rows = json.loads(env.kunci("--json", "audit", "list", "--user", login, "--event",
                                "mail_login").stdout)
    assert rows and all(r["event"] == "mail_login" for r in rows)
    lines = env.kunci("audit", "export", "--since", "1d").stdout.splitlines()
    assert len(lines) >= len(rows)
    assert all(json.loads(line)["event"] for line in lines)
    bad = env.kunci("audit", "list", "--since", "soon", check=False)
    assert bad.returncode == 64 and "--since" in bad.stderr
    # Each event is also a line in the log.
    deadline = time.time() + 5
    while "audit.mfa_state_changed" not in env.log("kunci") and time.time() < deadline:
        time.sleep(0.1)
    assert "audit.mfa_state_changed" in env.log("kunci")


def test_this_wasnt_me_ends_every_other_session(env):
    c, login, pw, _, _ = enrolled(env)
    other = web(env)
    assert other.sign_in(login, pw)[0] == 200
    status, body, _ = c.call("POST", "/activity/not-me", {})
    assert status == 200 and body["next"] == "change_password"
    assert other.call("GET", "/session")[1]["signed_in"] is False
    assert c.call("GET", "/session")[1]["signed_in"] is True
    assert any(e["event"] == "sessions_revoked" and e["reason"] == "not_me" for e in items(c))


def test_no_secret_reaches_the_record_or_the_log(env):
    c, login, pw, totp_secret, _ = enrolled(env)
    secrets = [pw, totp_secret]
    ap = env.app_password(login, "Phone")["password"]
    secrets.append(ap)
    env.auth_nginx(login, ap, "imap")
    env.auth_nginx(login, "Not-the-password-9", "imap")
    secrets.append("Not-the-password-9")
    status, made, _ = c.call("POST", "/app-passwords", {"name": "Tablet"})
    secrets.append(made["password"])
    # Recovery's secrets too: backup codes, one used; a temporary access pass, used.
    codes = c.call("POST", "/methods/backup-codes", {})[1]["codes"]
    secrets += codes
    s = web(env)
    s.sign_in(login, pw)
    assert s.call("POST", "/session/backup-code", {"code": codes[0]})[0] == 200
    tap = json.loads(env.kunci("--json", "user", "temporary-pass", login).stdout)["pass"]
    secrets.append(tap)
    assert web(env).sign_in(login, tap)[0] == 200
    dump = env.kunci("audit", "export").stdout + env.log("kunci")
    for s in secrets:
        for form in {s, s.replace(" ", ""), s.replace(" ", "").upper()}:
            assert form not in dump, "a secret reached the record or the log"

