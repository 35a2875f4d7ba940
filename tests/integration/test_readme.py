"""The README's configuration snippets stay true: Dovecot and nginx accept them, and every
command the CLI reference names answers --help."""

import os
import re
import subprocess

from conftest import KUNCI

README = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")).read()


def block(start, end):
    """The lines from the one starting with `start` to the one equal to `end` (indent off)."""
    lines = [l[3:] if l.startswith("   ") else l for l in README.splitlines()]
    i = next(n for n, l in enumerate(lines) if l.startswith(start))
    j = next(n for n in range(i, len(lines)) if lines[n] == end)
    return "\n".join(lines[i:j + 1])


def test_dovecot_snippet(tmp_path):
    snippet = block("# /etc/dovecot/local.conf", "submission_relay_port = 25")
    (tmp_path / "local.conf").write_text(snippet + "\n")
    (tmp_path / "dovecot.conf").write_text(
        f"base_dir = {tmp_path}/run\nssl = no\nmail_location = maildir:{tmp_path}/m/%u\n"
        "userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=/tmp\n}\n"
        f"!include {tmp_path}/local.conf\n")
    p = subprocess.run(["doveconf", "-n", "-c", str(tmp_path / "dovecot.conf")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_nginx_snippets(tmp_path):
    mail = block("mail {", "}")
    locations = block("location = /_kunci {", "}") + "\n" + block("location /dav/ {", "}")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(tmp_path / "k.pem"), "-out", str(tmp_path / "c.pem"), "-days", "1",
                    "-subj", "/CN=x"], check=True, capture_output=True)
    mail = mail.replace("/etc/ssl/mail.pem", str(tmp_path / "c.pem"))
    mail = mail.replace("/etc/ssl/mail.key", str(tmp_path / "k.pem"))
    mail = re.sub(r"listen (\d+)", r"listen 127.0.0.1:\1", mail)
    t = tmp_path
    (t / "nginx.conf").write_text(f"""load_module /usr/lib/nginx/modules/ngx_mail_module.so;
pid {t}/nginx.pid;
error_log {t}/error.log;
events {{ worker_connections 64; }}
{mail}
http {{
    access_log off;
    client_body_temp_path {t}/b; proxy_temp_path {t}/p; fastcgi_temp_path {t}/f;
    uwsgi_temp_path {t}/u; scgi_temp_path {t}/s;
    server {{
        listen 127.0.0.1:1;
{locations}
    }}
}}
""")
    p = subprocess.run(["nginx", "-t", "-p", str(t), "-c", str(t / "nginx.conf")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_tls_proxy_snippet(tmp_path):
    server = block("server {", "}")
    t = tmp_path
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(t / "k.pem"), "-out", str(t / "c.pem"), "-days", "1", "-subj", "/CN=x"],
                   check=True, capture_output=True)
    server = server.replace("/etc/ssl/sso.pem", str(t / "c.pem"))
    server = server.replace("/etc/ssl/sso.key", str(t / "k.pem"))
    server = server.replace("listen 443", "listen 127.0.0.1:443")
    (t / "nginx.conf").write_text(f"""pid {t}/nginx.pid;
error_log {t}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {t}/b; proxy_temp_path {t}/p; fastcgi_temp_path {t}/f;
    uwsgi_temp_path {t}/u; scgi_temp_path {t}/s;
{server}
}}
""")
    p = subprocess.run(["nginx", "-t", "-p", str(t), "-c", str(t / "nginx.conf")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_every_documented_command_answers_help():
    """Each command of the README's table answers --help, and its help names every option
    the README gives it; kunci --help names every command family."""
    rows = re.findall(r"^\| `kunci ([a-z-]+(?: [a-z-]+)?)([^|]*)\|", README, re.M)
    commands = {c: set() for c, _ in rows}
    for c, rest in rows:
        commands[c] |= set(re.findall(r"--[a-z][a-z-]+", rest))
    assert {"init", "serve", "user add", "mfa set", "app-password create", "auth check",
            "settings get", "lockout list", "lockout clear"} <= set(commands)
    assert commands["user add"] >= {"--display-name", "--admin", "--password-stdin",
                                     "--temporary"}
    for c, options in sorted(commands.items()):
        p = subprocess.run([KUNCI, *c.split(), "--help"], capture_output=True, text=True)
        assert p.returncode == 0 and "Usage: kunci" in p.stdout, (c, p.stdout, p.stderr)
        assert c.split()[-1] in p.stdout, (c, p.stdout)
        for option in options:
            assert option in p.stdout, (c, option, p.stdout)
    top = subprocess.run([KUNCI, "--help"], capture_output=True, text=True).stdout
    for family in {c.split()[0] for c in commands}:
        assert re.search(rf"^  {family}\b", top, re.M), (family, top)
