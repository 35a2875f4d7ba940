"""A small SMTP server for the e-mail driver's tests: STARTTLS or implicit TLS, AUTH PLAIN
with one account, and every accepted message kept in a list. With starttls=False it
misbehaves: no TLS at all, and it takes mail from anyone in the clear."""

import base64
import os
import socketserver
import ssl
import subprocess


def make_certificate(folder):
    """A self-signed certificate for 127.0.0.1, made by openssl; returns (cert, key)."""
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


class TlsSmtp(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, cert, key, implicit, user, password, starttls=True):
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.implicit = implicit
        self.starttls = starttls
        self.secret = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        self.messages = []
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        self.sock = self.request
        if self.server.implicit:
            self.sock = self.server.context.wrap_socket(self.sock, server_side=True)
        self.tls = self.server.implicit
        self.authed = not self.server.starttls  # the careless one asks nothing
        self.reader = self.sock.makefile("rb")

    def out(self, line):
        self.sock.sendall(line.encode() + b"\r\n")

    def handle(self):
        self.out("220 tls-sink ESMTP")
        while True:
            line = self.reader.readline(4096)
            if not line:
                return
            words = line.decode().strip().split(" ")
            verb = words[0].upper()
            if verb == "EHLO":
                self.out("250-tls-sink")
                if self.server.starttls:
                    self.out("250-AUTH PLAIN" if self.tls else "250-STARTTLS")
                self.out("250 8BITMIME")
            elif verb == "STARTTLS" and not self.tls and self.server.starttls:
                self.out("220 2.0.0 go ahead")
                self.sock = self.server.context.wrap_socket(self.sock, server_side=True)
                self.reader = self.sock.makefile("rb")
                self.tls = True
            elif verb == "AUTH" and self.tls:
                if len(words) == 2:  # no initial response: ask for it (libcurl's default)
                    self.out("334 ")
                    words.append(self.reader.readline(4096).decode().strip())
                ok = len(words) == 3 and words[1].upper() == "PLAIN" and \
                    words[2] == self.server.secret
                self.authed = ok
                self.out("235 2.7.0 ok" if ok else "535 5.7.8 bad credentials")
            elif verb in ("MAIL", "RCPT"):
                self.out("250 2.0.0 ok" if self.authed else "530 5.7.0 authenticate first")
            elif verb == "DATA" and self.authed:
                self.out("354 go ahead")
                body = []
                while (data := self.reader.readline(65536)) not in (b".\r\n", b""):
                    body.append(data)
                self.server.messages.append(b"".join(body))
                self.out("250 2.0.0 kept")
            elif verb == "QUIT":
                self.out("221 2.0.0 bye")
                return
            else:
                self.out("503 5.5.1 not now")
