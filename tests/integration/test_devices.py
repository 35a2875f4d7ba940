"""Set up this device (docs/devices.md): each kind's file read back by tools that are not
kunci's (openssl, plistlib, zbarimg, an XML parser), its app password signing in over IMAP
through nginx and Dovecot and refused once deleted; the download link single use, bound to
the session, not cached; `kunci device profile`; the public autoconfig file."""

import concurrent.futures
import os
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest

from device_files import decode_qr, read_android_payload, read_autoconfig, verify_profile
from kunci_instance import kunci_factory
from util import imap_login
from webclient import Client, totp


def enrolled(env):
    """A user through the wizard (authenticator app): (client, login)."""
    login, pw = f"d{uuid.uuid4().hex[:10]}@example.org", "Device-pass-123"
    env.add_user(login, pw, "enabled")
    c = Client(f"http://127.0.0.1:{env.ports['web']}")
    c.sign_in(login, pw)
    _, t, _ = c.call("POST", "/methods/totp", {})
    assert c.call("POST", f"/methods/{t['method_id']}/verify", {"code": totp(t["secret"])})[0] == 200
    assert c.call("POST", "/setup/complete", {})[0] == 200
    return c, login


def download(c, url):
    """GET url with the client's cookies: (status, bytes, headers)."""
    req = urllib.request.Request(c.base + url)
    try:
        with c.opener.open(req, timeout=15) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def app_passwords(env, login):
    return {a["name"]: a for a in env.kunci_json("app-password", "list", login)}


def test_apple_profile_from_the_web(env):
    c, login = enrolled(env)
    status, kinds, _ = c.call("GET", "/devices")
    assert status == 200 and kinds["available"]
    assert {k["id"]: k["available"] for k in kinds["kinds"]} == {
        "apple": True, "android": True, "thunderbird": True, "other": True}
    status, r, _ = c.call("POST", "/devices", {"kind": "apple", "name": "Rina's iPhone",
                                                "expires": "90d"})
    assert status == 201, r
    assert "password" not in r and r["expires_in"] == 600
    # Nothing is made until the link is used.
    assert "Rina's iPhone" not in app_passwords(env, login)

    status, body, headers = download(c, r["download"])
    assert status == 200
    assert headers["Content-Type"] == "application/x-apple-aspen-config"
    assert headers["Cache-Control"] == "no-store"
    assert "attachment" in headers["Content-Disposition"]
    profile = verify_profile(body, env.profile_ca)
    assert profile["PayloadType"] == "Configuration" and profile["PayloadVersion"] == 1
    assert profile["PayloadOrganization"] == "Example Org"
    assert profile["RemovalDate"]  # the profile goes when the password expires
    mail, dav = profile["PayloadContent"]
    assert mail["PayloadType"] == "com.apple.mail.managed"
    assert mail["EmailAccountType"] == "EmailTypeIMAP" and mail["EmailAddress"] == login
    assert (mail["IncomingMailServerHostName"], mail["IncomingMailServerPortNumber"]) == (
        "127.0.0.1", env.ports["imap"])
    assert (mail["OutgoingMailServerHostName"], mail["OutgoingMailServerPortNumber"]) == (
        "127.0.0.1", env.ports["smtp"])
    assert mail["IncomingMailServerUsername"] == mail["OutgoingMailServerUsername"] == login
    assert mail["OutgoingPasswordSameAsIncomingPassword"] is True
    assert dav["PayloadType"] == "com.apple.caldav.account"
    assert dav["CalDAVPassword"] == mail["IncomingPassword"]
    password = mail["IncomingPassword"]

    # The link works once.
    status, again, _ = download(c, r["download"])
    assert status == 410 and b"link_used" in again
    # The device's app password: named, scoped, listed; it signs in through nginx and
    # Dovecot, and is refused once deleted.
    ap = app_passwords(env, login)["Rina's iPhone"]
    assert ap["protocols"] == "imap,smtp,dav" and ap["expires_at"]
    assert imap_login(env.ports["imap"], login, password) == "OK"
    assert c.call("DELETE", f"/app-passwords/{ap['id']}")[0] == 200
    assert imap_login(env.ports["imap"], login, password) != "OK"
    # Its creation is an event naming the device's kind.
    _, activity, _ = c.call("GET", "/activity")
    assert any(e["event"] == "app_password_created" and e.get("reason") == "device_apple"
               for e in activity["items"]), activity["items"][:5]


def test_a_link_is_bound_to_its_session(env):
    c, login = enrolled(env)
    _, r, _ = c.call("POST", "/devices", {"kind": "apple"})
    # Another browser: not signed in, then signed in as the same user in a new session.
    stranger = Client(c.base)
    assert download(stranger, r["download"])[0] == 401
    other, _ = enrolled(env)
    status, body, _ = download(other, r["download"])
    assert status == 404 and b"link_unknown" in body
    # A link changed by one character is no link; the real one still works after those tries.
    token = r["download"].rsplit("/", 1)[1]
    forged = r["download"][:-len(token)] + ("A" if token[0] != "A" else "B") + token[1:]
    assert download(c, forged)[0] == 404
    assert download(c, r["download"])[0] == 200
    # Signed out: the session it was bound to is gone.
    _, r2, _ = c.call("POST", "/devices", {"kind": "android"})
    assert c.call("DELETE", "/session")[0] == 200
    assert download(c, r2["download"])[0] == 401


def test_a_link_raced_is_used_once(env):
    """Eight downloads of one link at once (a double tap, a leaked link raced): one gets the
    profile, the others 410, and one app password is made."""
    c, login = enrolled(env)
    _, r, _ = c.call("POST", "/devices", {"kind": "apple", "name": "raced"})
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = sorted(f.result()[0] for f in [pool.submit(download, c, r["download"])
                                                  for _ in range(8)])
    assert statuses == [200] + [410] * 7
    names = [a["name"] for a in env.kunci_json("app-password", "list", login)]
    assert names.count("raced") == 1


def test_asking_for_a_device_needs_csrf_and_a_recent_password(env):
    """Every way of making an app password asks for a password typed in the last ten
    minutes, and a change without the session's CSRF token (or from another site) is refused:
    a page elsewhere cannot make a victim's browser ask for a profile."""
    c, login = enrolled(env)
    status, body, _ = c.call("POST", "/devices", {"kind": "apple"}, csrf=False)
    assert (status, body["error"]) == (403, "csrf")
    status, body, _ = c.call("POST", "/devices", {"kind": "apple"},
                             headers={"Origin": "https://evil.example"})
    assert (status, body["error"]) == (403, "bad_origin")
    env.sql("UPDATE sessions SET password_at = password_at - 601 WHERE account_id = "
            "(SELECT id FROM accounts WHERE login = ?)", login)
    for kind in ("apple", "android", "thunderbird", "other"):
        status, body, _ = c.call("POST", "/devices", {"kind": kind})
        assert (status, body["error"]) == (403, "reauth_required")
    assert c.call("POST", "/reauth", {"password": "Device-pass-123"})[0] == 200
    assert c.call("POST", "/devices", {"kind": "apple"})[0] == 201
    # Nothing was made by the refused requests.
    assert [a["name"] for a in env.kunci_json("app-password", "list", login)] == [
        "Outlook, Apple Mail and other apps"]


def test_android_qr_code_from_the_web(env):
    c, login = enrolled(env)
    status, r, _ = c.call("POST", "/devices", {"kind": "android"})
    assert status == 201, r
    status, body, headers = download(c, r["download"])
    assert status == 200 and headers["Content-Type"] == "image/svg+xml"
    assert headers["Cache-Control"] == "no-store"
    payload = read_android_payload(decode_qr(body.decode()))
    imap, smtp = payload["imap"], payload["smtp"]
    assert (imap["protocol"], imap["host"], imap["port"]) == (0, "127.0.0.1", env.ports["imap"])
    assert imap["security"] == 2 and imap["auth"] == 1  # STARTTLS, password
    assert (smtp["host"], smtp["port"], smtp["security"]) == ("127.0.0.1", env.ports["smtp"], 2)
    assert imap["username"] == smtp["username"] == login == payload["identity"][0]
    assert imap["password"] == smtp["password"]
    assert imap_login(env.ports["imap"], login, imap["password"]) == "OK"
    ap = app_passwords(env, login)["Android (Thunderbird)"]
    assert ap["protocols"] == "imap,smtp"
    assert download(c, r["download"])[0] == 410


def test_thunderbird_gets_settings_and_a_password_to_paste(env):
    c, login = enrolled(env)
    status, r, headers = c.call("POST", "/devices", {"kind": "thunderbird"})
    assert status == 201 and headers["Cache-Control"] == "no-store"
    assert r["settings"]["imap"] == {"host": "127.0.0.1", "port": env.ports["imap"],
                                     "security": "starttls"}
    assert imap_login(env.ports["imap"], login, r["password"].replace(" ", "")) == "OK"
    assert r["app_password"]["name"] == "Thunderbird"
    # The public file Thunderbird finds by itself, the same for any address.
    for path in ("/.well-known/autoconfig/mail/config-v1.1.xml",
                 f"/mail/config-v1.1.xml?emailaddress={login}",
                 "/mail/config-v1.1.xml?emailaddress=nobody@example.org"):
        with urllib.request.urlopen(c.base + path, timeout=15) as resp:
            text = resp.read().decode()
        assert r["password"].replace(" ", "") not in text
        conf = read_autoconfig(text)
        assert conf["domain"] == "example.org" or path.startswith("/.well-known")
        assert conf["imap"] == {"hostname": "127.0.0.1", "port": str(env.ports["imap"]),
                                "socketType": "STARTTLS",
                                "authentication": "password-cleartext",
                                "username": "%EMAILADDRESS%"}
        assert conf["smtp"]["port"] == str(env.ports["smtp"])
    with pytest.raises(urllib.error.HTTPError) as bad:
        urllib.request.urlopen(c.base + "/mail/config-v1.1.xml?emailaddress=%3Cx%3E%40a", timeout=15)
    assert bad.value.code == 400


def test_device_requests_are_checked(env):
    c, login = enrolled(env)
    assert c.call("POST", "/devices", {"kind": "fax"})[1]["error"] == "bad_kind"
    assert c.call("POST", "/devices", {"kind": "apple", "expires": "yesterday"})[1]["error"] == (
        "bad_expiry")
    assert c.call("POST", "/devices", {"kind": "apple", "name": "x" * 65})[1]["error"] == (
        "bad_name")
    # App passwords off: said at once, no link handed out.
    env.kunci("settings", "set", "app_passwords_allowed", "false")
    try:
        status, r, _ = c.call("POST", "/devices", {"kind": "apple"})
        assert (status, r["error"]) == (403, "app_passwords_off") and "download" not in r
    finally:
        env.kunci("settings", "set", "app_passwords_allowed", "true")
    # A user without MFA required has no app passwords, hence no devices to set up.
    plain = f"p{uuid.uuid4().hex[:10]}@example.org"
    env.add_user(plain, "Plain-pass-123")
    p = Client(c.base)
    p.sign_in(plain, "Plain-pass-123")
    assert p.call("POST", "/devices", {"kind": "thunderbird"})[1]["error"] == "mfa_not_required"


def test_cli_device_profile(env, tmp_path):
    login = f"c{uuid.uuid4().hex[:10]}@example.org"
    env.add_user(login, "Cli-pass-1234", "enabled")
    out = str(tmp_path / "phone.mobileconfig")
    made = env.kunci_json("device", "profile", login, "--kind", "apple", "--name", "Desk phone",
                          "--expires", "30d", "--out", out)
    assert made["name"] == "Desk phone" and "password" not in made
    assert os.stat(out).st_mode & 0o777 == 0o600
    with open(out, "rb") as f:
        signed = f.read()
    mail = verify_profile(signed, env.profile_ca)["PayloadContent"][0]
    assert imap_login(env.ports["imap"], login, mail["IncomingPassword"]) == "OK"
    # A changed byte breaks the signature: the device would refuse it too.
    tampered = bytearray(signed)
    at = signed.index(b"IncomingMailServerHostName")
    tampered[at] ^= 0x20
    with pytest.raises(AssertionError):
        verify_profile(bytes(tampered), env.profile_ca)
    # Never over an existing file: nothing made, the file as it was.
    p = env.kunci("device", "profile", login, "--kind", "apple", "--out", out, check=False)
    assert p.returncode == 1 and "exists" in p.stderr
    with open(out, "rb") as f:
        assert f.read() == signed
    qr = str(tmp_path / "android.svg")
    env.kunci("device", "profile", login, "--kind", "android", "--out", qr)
    with open(qr) as f:
        payload = read_android_payload(decode_qr(f.read()))
    assert imap_login(env.ports["imap"], login, payload["imap"]["password"]) == "OK"
    xml = str(tmp_path / "config-v1.1.xml")
    made = env.kunci_json("device", "profile", login, "--kind", "autoconfig", "--out", xml)
    with open(xml) as f:
        text = f.read()
    assert made["password"].replace(" ", "") not in text
    assert read_autoconfig(text)["imap"]["username"] == login
    assert imap_login(env.ports["imap"], login, made["password"]) == "OK"
    names = app_passwords(env, login)
    assert {"Desk phone", "Android (Thunderbird)", "Mail app"} <= set(names)
    events = env.kunci_json("audit", "list", "--user", login, "--event", "app_password_created")
    assert sorted(e["reason"] for e in events) == ["device_android", "device_apple",
                                                    "device_autoconfig"]
    p = env.kunci("device", "profile", login, "--kind", "fax", "--out", xml + "2", check=False)
    assert p.returncode == 64
    # A folder that is not there: said, and no app password made for nobody.
    p = env.kunci("device", "profile", login, "--kind", "apple", "--out",
                  str(tmp_path / "missing" / "x.mobileconfig"), check=False)
    assert p.returncode == 1 and "No such file or directory" in p.stderr
    assert len(env.kunci_json("app-password", "list", login)) == len(names)


@pytest.fixture
def kunci(tmp_path):
    yield from kunci_factory(tmp_path)


def test_device_settings_are_checked_and_optional(kunci, tmp_path):
    # Without [devices] nothing is offered; half of it is refused with the key to set.
    k = kunci()
    k.start()
    login, pw = k.user("enabled")
    c = k.web()
    assert c.call("GET", "/config")[1]["devices"] is False
    p = k.cli("device", "profile", login, "--kind", "autoconfig", "--out",
              str(tmp_path / "x.xml"), check=False)
    assert p.returncode == 1 and "[devices]" in p.stderr
    with open(k.config, "a") as f:
        f.write("[devices]\nimap_host = imap.example.org\n")
    p = k.cli("config", "show", check=False)
    assert p.returncode != 0 and "smtp_host" in p.stderr
    with open(k.config, "a") as f:
        f.write("smtp_host = smtp.example.org\nimap_security = tls\n")
    p = k.cli("config", "show", check=False)
    assert p.returncode != 0 and "ssl or starttls" in p.stderr
