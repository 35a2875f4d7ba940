"""The `kunci` command as an administrator uses it: messages, exit codes, --json."""

import json
import os
import stat
import subprocess
import uuid

import pytest

from conftest import KUNCI


def login():
    return f"c{uuid.uuid4().hex[:10]}@example.org"


def test_init_is_idempotent_and_keeps_the_key(env):
    key = os.path.join(env.data, "kunci.key")
    before = open(key).read()
    p = env.kunci("init")
    assert "exists, kept" in p.stdout
    assert open(key).read() == before
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    if os.path.exists(os.path.join(env.data, "kunci.db")):  # SQLite
        assert stat.S_IMODE(os.stat(os.path.join(env.data, "kunci.db")).st_mode) == 0o600


def test_refuses_a_key_file_others_can_read(tmp_path):
    data = tmp_path / "d"
    run = lambda *a: subprocess.run([KUNCI, "--data-dir", str(data), *a],
                                    capture_output=True, text=True, timeout=30)
    assert run("init").returncode == 0
    os.chmod(data / "kunci.key", 0o644)
    p = run("user", "list")
    assert p.returncode == 1
    assert "readable by group or others" in p.stderr
    assert "chmod 600" in p.stderr
    p = run("serve")
    assert p.returncode == 1
    assert "readable by group or others" in p.stderr


def test_commands_before_init_say_so(tmp_path):
    p = subprocess.run([KUNCI, "--data-dir", str(tmp_path / "none"), "user", "list"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "kunci init" in p.stderr


def test_user_lifecycle_json(env):
    who = login()
    env.kunci("user", "add", who.upper(), "--display-name", "Dewi Lestari", "--admin",
              "--password-stdin", input="Long-enough-pass-1\n")
    shown = env.kunci_json("user", "show", who)
    assert shown["login"] == who
    assert shown["display_name"] == "Dewi Lestari"
    assert shown["role"] == "admin" and shown["enabled"] is True
    assert shown["mfa_state"] == "disabled"
    assert "password_hash" not in shown
    assert any(u["login"] == who for u in env.kunci_json("user", "list"))
    p = env.kunci("user", "add", who, "--password-stdin", input="Long-enough-pass-1\n", check=False)
    assert p.returncode == 1 and "exists" in p.stderr
    env.kunci("user", "delete", who)
    p = env.kunci("user", "show", who, check=False)
    assert p.returncode == 1 and "no such user" in p.stderr


def test_user_add_without_a_terminal_generates_a_password(env):
    who = login()
    out = env.kunci_json("user", "add", who, input="")
    assert len(out["password"]) == 20
    p = env.kunci("auth", "check", who, "--protocol", "imap", input=out["password"])
    assert p.stdout.strip() == "allowed"


def test_bad_input_is_refused_and_changes_nothing(env):
    p = env.kunci("user", "add", "not-an-address", "--password-stdin", input="Long-enough-pass-1\n",
                  check=False)
    assert p.returncode == 1 and "alice@example.org" in p.stderr
    who = login()
    p = env.kunci("user", "add", who, "--password-stdin", input="short\n", check=False)
    assert p.returncode == 1 and "at least 8" in p.stderr
    assert env.kunci("user", "show", who, check=False).returncode == 1
    p = env.kunci("mfa", "set", who, "sometimes", check=False)
    assert p.returncode == 64
    p = env.kunci("settings", "set", "app_passwords_max", "0", check=False)
    assert p.returncode == 1 and "from 1 to 1000" in p.stderr
    assert env.kunci_json("settings", "get")["app_passwords_max"] == 40
    p = env.kunci("settings", "set", "no_such_key", "1", check=False)
    assert p.returncode == 64
    p = env.kunci("user", "frobnicate", check=False)
    assert p.returncode == 64


def test_app_passwords_need_mfa_required_with_the_seed_reason(env):
    who = login()
    env.add_user(who, "Long-enough-1")
    p = env.kunci("app-password", "create", who, "--name", "Outlook", check=False)
    assert p.returncode == 1
    assert ("multi-factor authentication is not required for this account, so app passwords "
            "are not available") in p.stderr
    env.kunci("mfa", "set", who, "enabled")
    env.kunci("settings", "set", "app_passwords_allowed", "off")
    try:
        p = env.kunci("app-password", "create", who, "--name", "Outlook", check=False)
        assert p.returncode == 1
        assert "does not allow app passwords" in p.stderr
    finally:
        env.kunci("settings", "set", "app_passwords_allowed", "on")
    created = env.app_password(who, "Outlook", "--protocols", "imap,smtp", "--expires",
                               "2099-01-31", "--networks", "192.168.0.0/16")
    assert set(created) >= {"id", "name", "password"}
    assert created["protocols"] == "imap,smtp"
    assert created["expires_at"] == "2099-01-31T00:00:00Z"
    assert created["networks"] == "192.168.0.0/16"
    listed = env.kunci_json("app-password", "list", who)
    assert [a["name"] for a in listed] == ["Outlook"]
    assert "password" not in listed[0]


def test_app_password_limit(env):
    who = login()
    env.add_user(who, "Long-enough-1", "enforced")
    env.kunci("settings", "set", "app_passwords_max", "2")
    try:
        env.app_password(who, "one")
        env.app_password(who, "two")
        p = env.kunci("app-password", "create", who, "--name", "three", check=False)
        assert p.returncode == 1
        assert "limit" in p.stderr
    finally:
        env.kunci("settings", "set", "app_passwords_max", "40")
    assert len(env.kunci_json("app-password", "list", who)) == 2


def test_app_password_create_rejects_bad_options(env):
    who = login()
    env.add_user(who, "Long-enough-1", "enforced")
    for extra in (["--protocols", "imap,gopher"], ["--expires", "yesterday"],
                  ["--expires", "2001-01-01"], ["--networks", "10.1.2.3/8"], []):
        p = env.kunci("app-password", "create", who, *extra,
                      *(["--name", "x"] if extra else []), check=False)
        assert p.returncode == 64, extra
    assert env.kunci_json("app-password", "list", who) == []


def test_auth_check_exit_codes(env):
    who = login()
    env.add_user(who, "Long-enough-1", "enforced")
    ap = env.app_password(who, "Mail")["password"]
    ok = env.kunci("auth", "check", who, "--protocol", "imap", "--client-ip", "192.0.2.1",
                   input=ap + "\n", check=False)
    assert ok.returncode == 0 and ok.stdout.strip() == "allowed"
    refused = env.kunci("auth", "check", who, "--protocol", "imap", input="Long-enough-1",
                        check=False)
    assert refused.returncode == 1 and refused.stdout.strip() == "mfa_required"
    j = json.loads(env.kunci("auth", "check", who, "--protocol", "pop3", "--json", input=ap,
                             check=False).stdout)
    assert j["allowed"] is True and j["result"] == "allowed" and j["login"] == who
    usage = env.kunci("auth", "check", who, "--protocol", "gopher", input=ap, check=False)
    assert usage.returncode == 64


def test_password_change_keeps_or_revokes_app_passwords(env):
    who = login()
    env.add_user(who, "Long-enough-1", "enforced")
    ap = env.app_password(who, "Mail")["password"]
    env.kunci("user", "passwd", who, "--password-stdin", input="Another-pass-2\n")
    assert env.kunci("auth", "check", who, "--protocol", "imap", input=ap,
                     check=False).returncode == 0
    env.kunci("settings", "set", "app_passwords_revoke_on_password_change", "true")
    try:
        out = env.kunci_json("user", "passwd", who, "--password-stdin",
                             input="Third-pass-3\n")
        assert out["app_passwords_revoked"] is True
    finally:
        env.kunci("settings", "set", "app_passwords_revoke_on_password_change", "false")
    assert env.kunci("auth", "check", who, "--protocol", "imap", input=ap,
                     check=False).returncode == 1


@pytest.mark.parametrize("args", [[], ["user"], ["app-password"], ["auth"], ["settings"],
                                  ["mfa"]])
def test_help_everywhere(env, args):
    p = env.kunci(*args, "--help")
    assert p.returncode == 0
    assert "Usage: kunci" in p.stdout


def test_user_add_on_a_terminal_asks_twice(env):
    """On a terminal the password is asked twice, without echo; a mismatch changes nothing."""
    import pty
    import select

    def run_on_tty(args, answers):
        pid, fd = pty.fork()
        if pid == 0:
            os.environ.update(KUNCI_DATA_DIR=env.data, KUNCI_CONFIG=env.config)
            os.execv(KUNCI, [KUNCI, *args])
        seen = b""
        for answer in answers:
            while b"assword: " not in seen.split(b"\n")[-1]:
                r, _, _ = select.select([fd], [], [], 10)
                assert r, seen
                seen += os.read(fd, 1024)
            os.write(fd, answer.encode() + b"\n")
            seen += b"\n"
        while True:
            r, _, _ = select.select([fd], [], [], 10)
            if not r:  # a hang is a failure, not a stuck suite
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                raise AssertionError("kunci did not finish: " + seen.decode(errors="replace"))
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")

    who = login()
    code, out = run_on_tty(["user", "add", who], ["Typed-pass-1", "Typed-pass-2"])
    assert code == 1 and "do not match" in out
    assert env.kunci("user", "show", who, check=False).returncode == 1
    code, out = run_on_tty(["user", "add", who], ["Typed-pass-1", "Typed-pass-1"])
    assert code == 0, out
    assert "Typed-pass-1" not in out  # not echoed
    p = env.kunci("auth", "check", who, "--protocol", "imap", input="Typed-pass-1")
    assert p.stdout.strip() == "allowed"
