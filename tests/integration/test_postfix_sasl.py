"""Postfix SMTP AUTH through Dovecot SASL, Dovecot asking kunci by PAM (pam_kunci.so): a
Postfix and a Dovecot of their own (own ports, queue and config folders), swaks submitting
with an app password (accepted) and with the account password of a user whose MFA is
enforced (refused, 535). The README's guide, word for word but for paths and ports."""

import os
import subprocess
import uuid

import pytest

from conftest import free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# Loaded by Dovecot's auth worker, which cannot take the sanitizer's runtime: the plain build's.
MODULE = os.path.join(ROOT, "build", "pam_kunci.so")
ANY_PACE = ("auth_failure_delay = 0\n"
            "service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}")
AUTHED = ("-o smtpd_tls_security_level=encrypt -o smtpd_tls_auth_only=yes "
          "-o smtpd_sasl_auth_enable=yes "
          "-o smtpd_recipient_restrictions=permit_sasl_authenticated,reject "
          "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject")


@pytest.fixture(scope="module")
def submission(env):
    service = f"kunci-smtp-{uuid.uuid4().hex[:8]}"
    with open(f"/etc/pam.d/{service}", "w") as f:
        f.write(f"auth    required  {MODULE} protocol=smtp socket={env.root}/auth.sock\n"
                "account required  pam_permit.so\n")
    try:
        dovecot = env.start_dovecot("dovecot-pam", {"imap": free_port()}, settings=ANY_PACE,
                                    passdb=f"driver = pam\n  args = {service}")
        port = free_port()
        env.start_postfix("postfix-pam", sasl_path=f"{dovecot}/auth-postfix",
                          listeners={port: AUTHED})
        yield port
    finally:
        os.unlink(f"/etc/pam.d/{service}")


def swaks(port, login, password):
    p = subprocess.run(["swaks", "--server", f"127.0.0.1:{port}", "--tls",
                        "--ehlo", "client.example.org", "--auth", "PLAIN",
                        "--auth-user", login, "--auth-password", password,
                        "--from", login, "--to", "someone@example.net",
                        "--quit-after", "AUTH", "--timeout", "20"],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout


def test_submission_with_an_app_password_through_dovecot_sasl_and_pam(env, submission):
    login = f"s{uuid.uuid4().hex[:10]}@example.org"
    env.add_user(login, "Smtp-primary-1", "enforced")
    app = env.app_password(login, "Outlook 2016")["password"]
    code, out = swaks(submission, login, app)
    assert code == 0 and "235 2.7.0" in out, out
    code, out = swaks(submission, login, "Smtp-primary-1")
    assert code != 0 and "535 5.7.8" in out, out
    # Scoped elsewhere: refused for SMTP (pam_kunci says protocol=smtp).
    imap_only = env.app_password(login, "IMAP only", "--protocols", "imap")["password"]
    code, out = swaks(submission, login, imap_only)
    assert code != 0 and "535 5.7.8" in out, out
    # MFA not enforced: the account password passes, as on every path.
    relaxed = f"s{uuid.uuid4().hex[:10]}@example.org"
    env.add_user(relaxed, "Smtp-primary-2", "disabled")
    assert swaks(submission, relaxed, "Smtp-primary-2")[0] == 0
