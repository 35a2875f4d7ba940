"""A client of kunci's JSON API as a script or a browser's page uses it (cookies, the CSRF
token), and TOTP codes computed independently of kunci."""

import base64
import hashlib
import hmac
import http.cookiejar
import json
import struct
import time
import urllib.error
import urllib.request


class Client:
    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = None

    def call(self, method, path, body=None, csrf=True, headers=None):
        data = None if body is None else json.dumps(body).encode()
        h = dict(headers or {})
        if body is not None:
            h["Content-Type"] = "application/json"
        if csrf and self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        req = urllib.request.Request(self.base + "/api/v1" + path, data=data, method=method,
                                     headers=h)
        try:
            with self.opener.open(req, timeout=15) as r:
                status, text, hdrs = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, text, hdrs = e.code, e.read(), e.headers
        out = json.loads(text) if text else {}
        if isinstance(out, dict) and out.get("csrf"):
            self.csrf = out["csrf"]
        return status, out, hdrs

    def sign_in(self, login, password):
        return self.call("POST", "/session", {"login": login, "password": password})


def totp(secret, at=None):
    """RFC 6238 (SHA-1, 6 digits, 30 s), independent of kunci."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = struct.pack(">Q", int((time.time() if at is None else at) // 30))
    mac = hmac.new(key, counter, hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)
