"""Mail clients through nginx to Dovecot, with kunci deciding every login.

Dovecot's passdb accepts only the backend password: a login that reaches a mailbox proves
kunci said OK and nginx forwarded kunci's Auth-Pass, never the app password."""

import smtplib
import subprocess
import os
import time
import uuid

import pytest

import util


def imap_login(env, user, password):
    return util.imap_login(env.ports["imap"], user, password)


def pop3_login(env, user, password):
    return util.pop3_login(env.ports["pop3"], user, password)


def smtp_login(env, user, password):
    c = smtplib.SMTP("127.0.0.1", env.ports["smtp"], timeout=15)
    try:
        c.ehlo("client.example.org")
        c.login(user, password)
        c.quit()
        return "OK"
    except smtplib.SMTPAuthenticationError as e:
        return f"{e.smtp_code} {e.smtp_error.decode()}"
    except smtplib.SMTPResponseException as e:
        return f"{e.smtp_code} {e.smtp_error.decode()}"
    finally:
        c.close()


def swaks_login(env, user, password):
    p = subprocess.run(["swaks", "--server", f"127.0.0.1:{env.ports['smtp']}",
                        "--ehlo", "client.example.org", "--auth", "PLAIN",
                        "--auth-user", user, "--auth-password", password,
                        "--quit-after", "AUTH", "--timeout", "15"],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout


def basic_login(env, user, password):
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u",
                        f"{user}:{password}", f"http://127.0.0.1:{env.ports['http']}/dav/"],
                       capture_output=True, text=True, timeout=30)
    return int(p.stdout)


def fresh_user(env, mfa, password="Primary-pass-1"):
    login = f"u{uuid.uuid4().hex[:10]}@example.org"
    env.add_user(login, password, mfa)
    return login, password


def test_enforced_mfa_refuses_primary_password_everywhere(env):
    login, pw = fresh_user(env, "enforced")
    assert "Invalid login or password" in imap_login(env, login, pw)
    assert "Invalid login or password" in pop3_login(env, login, pw)
    assert smtp_login(env, login, pw).startswith("535 5.7.8")
    rc, out = swaks_login(env, login, pw)
    assert rc != 0 and "535 5.7.8" in out  # refused, not a crash or "try again later"
    assert basic_login(env, login, pw) == 401


def test_app_password_accepted_on_every_protocol(env):
    login, _ = fresh_user(env, "enforced")
    ap = env.app_password(login, "Outlook 2016")["password"]
    assert len(ap.replace(" ", "")) == 24
    assert imap_login(env, login, ap) == "OK"
    assert pop3_login(env, login, ap) == "OK"
    assert smtp_login(env, login, ap) == "OK"
    rc, out = swaks_login(env, login, ap)
    assert rc == 0, out
    assert "235" in out
    assert basic_login(env, login, ap) == 200


def test_second_app_password_and_other_users(env):
    alice, _ = fresh_user(env, "enforced")
    bob, _ = fresh_user(env, "enforced")
    first = env.app_password(alice, "Apple Mail")["password"]
    second = env.app_password(alice, "iPhone")["password"]
    bobs = env.app_password(bob, "Bob's Outlook")["password"]
    assert imap_login(env, alice, first) == "OK"
    assert imap_login(env, alice, second) == "OK"
    assert "Invalid login or password" in imap_login(env, alice, bobs)
    assert imap_login(env, bob, bobs) == "OK"


@pytest.mark.parametrize("state", ["disabled", "enabled"])
def test_primary_password_until_mfa_is_enforced(env, state):
    login, pw = fresh_user(env, state)
    assert imap_login(env, login, pw) == "OK"
    assert pop3_login(env, login, pw) == "OK"
    assert smtp_login(env, login, pw) == "OK"
    assert basic_login(env, login, pw) == 200


def test_app_password_typed_as_people_type_it(env):
    login, _ = fresh_user(env, "enforced")
    shown = env.app_password(login, "Thunderbird")["password"]
    assert len(shown.split(" ")) == 6
    letters = shown.replace(" ", "")
    for typed in (shown, letters.upper(), "-".join(shown.split(" ")), shown.title()):
        assert imap_login(env, login, typed) == "OK", typed
    assert imap_login(env, login.upper(), letters) == "OK"


def test_protocol_scope(env):
    login, _ = fresh_user(env, "enforced")
    smtp_only = env.app_password(login, "scanner", "--protocols", "smtp")["password"]
    assert "Invalid login or password" in imap_login(env, login, smtp_only)
    assert "Invalid login or password" in pop3_login(env, login, smtp_only)
    assert smtp_login(env, login, smtp_only) == "OK"
    dav = env.app_password(login, "calendar", "--protocols", "dav")["password"]
    assert basic_login(env, login, dav) == 200
    assert "Invalid login or password" in imap_login(env, login, dav)


def test_expired_app_password_refused(env):
    login, _ = fresh_user(env, "enforced")
    ap = env.app_password(login, "temp", "--expires", "1h")
    assert ap["expires_at"]
    assert imap_login(env, login, ap["password"]) == "OK"
    # Time passes: move the expiry into the past rather than wait an hour.
    env.sql("UPDATE app_passwords SET expires_at = ? WHERE id = ?", int(time.time()) - 1, ap["id"])
    assert "Invalid login or password" in imap_login(env, login, ap["password"])


def test_networks(env):
    login, _ = fresh_user(env, "enforced")
    office = env.app_password(login, "office", "--networks", "10.0.0.0/8")["password"]
    local = env.app_password(login, "here", "--networks", "127.0.0.0/8,::1/128")["password"]
    assert "Invalid login or password" in imap_login(env, login, office)
    assert imap_login(env, login, local) == "OK"


def test_deleted_app_password_refused_at_once(env):
    login, _ = fresh_user(env, "enforced")
    ap = env.app_password(login, "old phone")
    keep = env.app_password(login, "new phone")
    assert imap_login(env, login, ap["password"]) == "OK"
    env.kunci("app-password", "delete", login, str(ap["id"]))
    assert "Invalid login or password" in imap_login(env, login, ap["password"])
    assert imap_login(env, login, keep["password"]) == "OK"
    env.kunci("app-password", "delete-all", login)
    assert "Invalid login or password" in imap_login(env, login, keep["password"])


def test_disabled_user_refused(env):
    login, pw = fresh_user(env, "enabled")
    ap = env.app_password(login, "Outlook")["password"]
    env.kunci("user", "disable", login)
    assert "Invalid login or password" in imap_login(env, login, pw)
    assert "Invalid login or password" in imap_login(env, login, ap)
    env.kunci("user", "enable", login)
    assert imap_login(env, login, ap) == "OK"


def test_unknown_user_and_wrong_secret_look_the_same(env):
    login, _ = fresh_user(env, "disabled")
    # Each from an address of its own: how long nginx waits grows with an address's failures.
    unknown = env.auth_nginx("nobody-here@example.org", "Whatever-pass-1", client_ip="192.0.2.61")
    wrong = env.auth_nginx(login, "Whatever-pass-1", client_ip="192.0.2.62")
    strip = lambda h: {k: v for k, v in h[1].items() if k not in ("Date",)}
    assert unknown[0] == wrong[0]
    assert strip(unknown) == strip(wrong)
    assert wrong[1]["Auth-Status"] == "Invalid login or password"
    assert "Auth-Wait" in wrong[1]
    assert imap_login(env, "nobody-here@example.org", "x") == imap_login(env, login, "x")
    smtp = env.auth_nginx(login, "Whatever-pass-1", protocol="smtp")
    assert smtp[1]["Auth-Error-Code"] == "535 5.7.8"


def test_ok_reply_hides_the_app_password_from_the_backend(env):
    login, _ = fresh_user(env, "enforced")
    ap = env.app_password(login, "Outlook")["password"]
    status, h = env.auth_nginx(login.upper(), ap)
    assert h["Auth-Status"] == "OK"
    assert h["Auth-Server"] == "127.0.0.1"
    assert h["Auth-Port"] == str(env.ports["d_imap"])
    assert h["Auth-User"] == login
    assert h["Auth-Pass"] == "backend-only-Secret-7"


def test_kept_ok_answers_name_the_login_and_backend_asked(env):
    """Each listener thread keeps its OK answers per (protocol, login): asked in turn, every
    answer still names the login and the protocol's backend, and the decision behind it is
    made again each time (a deleted app password is refused by the very next check)."""
    users = [fresh_user(env, "enforced")[0] for _ in range(3)]
    aps = {u: env.app_password(u, "Kept")["password"] for u in users}
    backends = {"imap": env.ports["d_imap"], "pop3": env.ports["d_pop3"],
                "smtp": env.ports["d_submission"]}
    for _ in range(6):
        for u in users:
            for protocol, port in backends.items():
                _, h = env.auth_nginx(u, aps[u], protocol=protocol)
                assert (h["Auth-Status"], h["Auth-User"], h["Auth-Port"]) == ("OK", u, str(port))
                assert h["Auth-Pass"] == "backend-only-Secret-7"
    env.kunci("app-password", "delete-all", users[0])
    for protocol in backends:
        assert env.auth_nginx(users[0], aps[users[0]], protocol=protocol)[1]["Auth-Status"] == \
            "Invalid login or password"
    assert env.auth_nginx(users[1], aps[users[1]])[1]["Auth-User"] == users[1]


def test_header_injection_and_bad_requests_never_ok(env):
    login, _ = fresh_user(env, "enforced")
    ap = env.app_password(login, "Outlook")["password"]
    # A CR LF or NUL smuggled in the login cannot add headers or pass.
    for raw in (login + "%0d%0aAuth-Status:%20OK", login + "%00", login + "%0a"):
        status, h = env.auth_nginx(None, ap, raw_user=raw)
        assert h["Auth-Status"] == "Invalid login or password", raw
        assert "Auth-Server" not in h
    # Without the shared key: refused whatever the credentials.
    status, h = env.auth_nginx(login, ap, key=None)
    assert status == 403 and h["Auth-Status"] != "OK"
    status, h = env.auth_nginx(login, ap, key="wrong-key")
    assert status == 403 and h["Auth-Status"] != "OK"
    # An unknown protocol is refused, not guessed.
    status, h = env.auth_nginx(login, ap, protocol="nntp")
    assert h["Auth-Status"] == "Invalid login or password"
    # An over-long password is refused, not cut to its first 256 bytes: for this user (MFA
    # not required) those 256 bytes are the password.
    # (Varied characters: a run of one letter is refused as a password anyone would guess.)
    longest_pw = ("Plum-Orbit-7-" * 20)[:256]
    longest, _ = fresh_user(env, "disabled", password=longest_pw)
    assert env.auth_nginx(longest, longest_pw)[1]["Auth-Status"] == "OK"
    for secret in (longest_pw + "x", longest_pw * 20):
        status, h = env.auth_nginx(longest, secret)
        assert h["Auth-Status"] == "Invalid login or password"


def test_database_outage_is_try_again_later(env):
    login, pw = fresh_user(env, "enforced")
    ap = env.app_password(login, "Outlook")["password"]
    enabled_login, enabled_pw = fresh_user(env, "enabled")
    assert imap_login(env, login, ap) == "OK"
    with env.outage():
        for user, secret in ((login, ap), (enabled_login, enabled_pw), (login, "wrong-one-1")):
            status, h = env.auth_nginx(user, secret)
            assert h["Auth-Status"] == "Temporary server problem, try again later"
            status, h = env.auth_nginx(user, secret, protocol="smtp")
            assert h["Auth-Error-Code"] == "451 4.3.0"
        msg = imap_login(env, login, ap)
        assert "Temporary server problem" in msg
        assert smtp_login(env, login, ap).startswith("451")
        rc, out = swaks_login(env, login, ap)
        assert rc != 0 and "451 4.3.0" in out
        # kunci answers 503; nginx's auth_request turns any status but 2xx/401/403 into 500.
        direct = subprocess.run(
            ["curl", "-s", "-D", "-", "-o", "/dev/null", "-u", f"{login}:{ap}",
             "-H", "X-Kunci-Key: proxy-shared-Key-9",
             f"http://127.0.0.1:{env.ports['auth']}/auth/basic"],
            capture_output=True, text=True, timeout=30).stdout
        assert direct.startswith("HTTP/1.1 503")
        assert "Retry-After" in direct
        assert basic_login(env, login, ap) == 500
        p = env.kunci("auth", "check", login, "--protocol", "imap", input=ap, check=False)
        assert p.returncode == 2
        assert "try again later" in p.stderr
        assert p.stdout == ""
    assert imap_login(env, login, ap) == "OK"


def test_healthz(env):
    """200 when the database answers; 503 during an outage (on either store), and 200 after."""
    import urllib.error
    import urllib.request

    def health():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{env.ports['auth']}/healthz",
                                        timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
    assert health() == 200
    with env.outage():
        assert health() == 503
    deadline = time.time() + 10
    while health() != 200:
        assert time.time() < deadline
        time.sleep(0.1)


def test_message_submitted_with_an_app_password_arrives(env):
    login, _ = fresh_user(env, "enforced")
    ap = env.app_password(login, "Apple Mail", "--protocols", "smtp")["password"]
    subject = f"kunci-{uuid.uuid4().hex}"
    with smtplib.SMTP("127.0.0.1", env.ports["smtp"], timeout=15) as c:
        c.ehlo("client.example.org")
        c.login(login, ap)
        c.sendmail(login, ["friend@example.net"],
                   f"From: {login}\r\nTo: friend@example.net\r\nSubject: {subject}\r\n\r\nhi\r\n")
    # Dovecot relayed it to Postfix, which delivered it to the maildir.
    deadline = time.time() + 15
    while time.time() < deadline and not any(subject.encode() in m for m in env.messages()):
        time.sleep(0.1)
    assert any(subject.encode() in m for m in env.messages())


def test_last_use_is_recorded(env):
    login, _ = fresh_user(env, "enforced")
    ap = env.app_password(login, "iPhone", "--protocols", "imap")
    assert env.kunci_json("app-password", "list", login)[0]["last_used"] is None
    assert imap_login(env, login, ap["password"]) == "OK"
    used = env.kunci_json("app-password", "list", login)[0]["last_used"]
    assert used["ip"] == "127.0.0.1" and used["protocol"] == "imap" and used["at"]


def test_log_tells_results_but_never_secrets(env):
    login, pw = fresh_user(env, "enforced", password="Very-secret-primary-9")
    ap = env.app_password(login, "Outlook", "--protocols", "imap")["password"]
    assert imap_login(env, login, ap) == "OK"
    assert "Invalid" in pop3_login(env, login, ap)
    assert "Invalid" in imap_login(env, login, pw)
    log = env.log("kunci")
    mine = [l for l in log.splitlines() if login in l]
    assert any("result=allowed" in l and "via=app_password" in l for l in mine)
    assert any("result=protocol_not_allowed" in l for l in mine)
    assert any("result=mfa_required" in l for l in mine)
    for secret in (pw, ap, ap.replace(" ", ""), "backend-only-Secret-7", "proxy-shared-Key-9"):
        assert secret not in log


def test_basic_endpoint_direct(env):
    """/auth/basic as Traefik or Caddy call it: 401 with the challenge, 200 with the user,
    the protocol from the header or the query, 400 for an unknown one."""
    login, _ = fresh_user(env, "enforced")
    dav = env.app_password(login, "calendar", "--protocols", "dav,eas")["password"]

    def get(path, user=None, password=None, headers=()):
        args = ["curl", "-s", "-o", "/dev/null", "-D", "-", "-H", "X-Kunci-Key: proxy-shared-Key-9"]
        for h in headers:
            args += ["-H", h]
        if user is not None:
            args += ["-u", f"{user}:{password}"]
        out = subprocess.run(args + [f"http://127.0.0.1:{env.ports['auth']}{path}"],
                             capture_output=True, text=True, timeout=30).stdout
        status = int(out.split(" ")[1])
        hdrs = dict(l.split(": ", 1) for l in out.strip().splitlines()[1:] if ": " in l)
        return status, hdrs

    status, h = get("/auth/basic")
    assert status == 401 and h["WWW-Authenticate"] == 'Basic realm="kunci"'
    status, h = get("/auth/basic", login, dav)
    assert status == 200 and h["X-Kunci-User"] == login
    assert get("/auth/basic?protocol=eas", login, dav)[0] == 200
    assert get("/auth/basic", login, dav, ["X-Kunci-Protocol: imap"])[0] == 401
    assert get("/auth/basic?protocol=gopher", login, dav)[0] == 400
    assert get("/auth/basic", login, "wrong-secret")[0] == 401


def test_lockout_spares_app_passwords_and_stale_retries(env):
    login, pw = fresh_user(env, "enabled")
    ap = env.app_password(login, "phone")["password"]
    env.kunci("settings", "set", "lockout_threshold", "3")
    try:
        # A phone retrying its old password for ever: counted once, no lock.
        for _ in range(6):
            assert "Invalid" in imap_login(env, login, "Old-password-1")
        assert imap_login(env, login, pw) == "OK"
        for guess in ("Guess-one-1", "Guess-two-2", "Guess-three-3"):
            assert "Invalid" in imap_login(env, login, guess)
        # Locked: even the right password is refused, the same answer as a wrong one...
        assert "Invalid login or password" in imap_login(env, login, pw)
        status, body = subprocess.run(
            ["curl", "-s", "-w", "\n%{http_code}", "-H", "Content-Type: application/json",
             "-d", f'{{"login": "{login}", "password": "{pw}"}}',
             f"http://127.0.0.1:{env.ports['web']}/api/v1/session"],
            capture_output=True, text=True, timeout=30).stdout.rsplit("\n", 1)[::-1]
        assert status == "429" and '"locked"' in body
        # ...while the app password goes on working.
        assert imap_login(env, login, ap) == "OK"
        assert "result=locked" in env.log("kunci")
    finally:
        env.kunci("settings", "set", "lockout_threshold", "10")
