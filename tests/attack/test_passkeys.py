"""Passkeys attacked over HTTP, with a software authenticator of this file's own (a P-256 key
from python3-cryptography, CBOR written by hand): answers replayed in the same session and
in another, a signature tampered with, another site's origin, another relying party's id, a
counter that goes backwards (a cloned key), another account's credential, a passwordless
answer with the wrong user handle or without user verification, and CBOR that declares more
than it holds. Each must be refused the way a browser-less attacker would meet it."""

import base64
import hashlib
import json
import struct
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# ---- CBOR, the little of it an authenticator writes ----
def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    if n < 256:
        return bytes([major << 5 | 24, n])
    if n < 65536:
        return bytes([major << 5 | 25]) + struct.pack(">H", n)
    return bytes([major << 5 | 26]) + struct.pack(">I", n)


def cbor(v):
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return _head(0, v) if v >= 0 else _head(1, -1 - v)
    if isinstance(v, bytes):
        return _head(2, len(v)) + v
    if isinstance(v, str):
        return _head(3, len(v.encode())) + v.encode()
    if isinstance(v, list):
        return _head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return _head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(v)


class Authenticator:
    """A platform authenticator: resident keys, user verification, a counter."""

    def __init__(self, uv=True):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cred_id = hashlib.sha256(str(time.time_ns()).encode() + id(self).to_bytes(8, "little")).digest()
        self.count = 0
        self.uv = uv
        self.user_handle = None

    def auth_data(self, rp_id, attested):
        flags = 0x01 | (0x04 if self.uv else 0) | (0x40 if attested else 0)
        out = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", self.count)
        if attested:
            pub = self.key.public_key().public_numbers()
            cose = cbor({1: 2, 3: -7, -1: 1, -2: pub.x.to_bytes(32, "big"), -3: pub.y.to_bytes(32, "big")})
            out += b"kunci-attack-key" + struct.pack(">H", len(self.cred_id)) + self.cred_id + cose
        return out

    def sign(self, data):
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))

    def create(self, options, origin, rp_id=None):
        pk = options["publicKey"]
        self.user_handle = unb64u(pk["user"]["id"])
        cd = json.dumps({"type": "webauthn.create", "challenge": pk["challenge"], "origin": origin}).encode()
        ad = self.auth_data(rp_id or pk["rp"]["id"], True)
        att = cbor({"fmt": "none", "attStmt": {}, "authData": ad})
        return {"id": b64u(self.cred_id), "type": "public-key", "discoverable": True,
                "response": {"clientDataJSON": b64u(cd), "attestationObject": b64u(att),
                             "transports": ["internal"]}}

    def get(self, options, origin, rp_id=None, count=None):
        pk = options["publicKey"]
        self.count = self.count + 1 if count is None else count
        cd = json.dumps({"type": "webauthn.get", "challenge": pk["challenge"], "origin": origin}).encode()
        ad = self.auth_data(rp_id or pk["rpId"], False)
        sig = self.sign(ad + hashlib.sha256(cd).digest())
        return {"id": b64u(self.cred_id), "type": "public-key",
                "response": {"clientDataJSON": b64u(cd), "authenticatorData": b64u(ad),
                             "signature": b64u(sig), "userHandle": b64u(self.user_handle)}}


def origin(kunci):
    return f"http://localhost:{kunci.ports['web']}"


def with_passkey(kunci, auth=None):
    """A user through the wizard with a passkey: (login, password, authenticator)."""
    auth = auth or Authenticator()
    login, pw = kunci.user("enabled")
    c = kunci.web()
    assert c.sign_in(login, pw)[1]["next"] == "setup"
    status, opts, _ = c.call("POST", "/methods/webauthn/begin", {})
    assert status == 200, opts
    status, body, _ = c.call("POST", "/methods/webauthn/finish", auth.create(opts, origin(kunci)))
    assert status == 200, body
    assert c.call("POST", "/setup/complete", {})[0] == 200
    return login, pw, auth


def second_factor_session(kunci, login, pw):
    c = kunci.web()
    assert c.sign_in(login, pw)[1]["next"] == "second_factor"
    status, opts, _ = c.call("POST", "/session/webauthn/begin", {})
    assert status == 200, opts
    return c, opts


def is_full(c):
    return c.call("GET", "/app-passwords")[0] == 200


def test_registration_answers_replayed_or_forged(kunci):
    login, pw = kunci.user("enabled")
    auth = Authenticator()
    c = kunci.web()
    c.sign_in(login, pw)
    _, opts, _ = c.call("POST", "/methods/webauthn/begin", {})
    # Another site's page, another relying party: refused.
    assert c.call("POST", "/methods/webauthn/finish", auth.create(opts, "https://evil.test"))[1]["error"] == "passkey_refused"
    _, opts, _ = c.call("POST", "/methods/webauthn/begin", {})
    assert c.call("POST", "/methods/webauthn/finish", auth.create(opts, origin(kunci), rp_id="evil.test"))[1]["error"] == "passkey_refused"
    # A challenge of the attacker's own making.
    forged = {"publicKey": dict(opts["publicKey"], challenge=b64u(bytes(32)))}
    assert c.call("POST", "/methods/webauthn/finish", auth.create(forged, origin(kunci)))[1]["error"] == "passkey_refused"
    # Right, then the same answer again.
    _, opts, _ = c.call("POST", "/methods/webauthn/begin", {})
    answer = auth.create(opts, origin(kunci))
    assert c.call("POST", "/methods/webauthn/finish", answer)[0] == 200
    # (The session got a new token with the proof, so the old challenge is not even its own.)
    status, body, _ = c.call("POST", "/methods/webauthn/finish", answer)
    assert status == 400 and body["error"] in ("passkey_replayed", "passkey_refused")
    assert kunci.sql("SELECT count(*) FROM passkeys")[0][0] == 1
    # In a full session (no new token at a proof), the replay meets the spent challenge.
    assert c.call("POST", "/setup/complete", {})[0] == 200
    _, opts, _ = c.call("POST", "/methods/webauthn/begin", {})
    answer = Authenticator().create(opts, origin(kunci))
    assert c.call("POST", "/methods/webauthn/finish", answer)[0] == 200
    status, body, _ = c.call("POST", "/methods/webauthn/finish", answer)
    assert (status, body["error"]) == (400, "passkey_replayed")
    assert kunci.sql("SELECT count(*) FROM passkeys")[0][0] == 2


def test_second_factor_replayed_tampered_or_foreign(kunci):
    login, pw, auth = with_passkey(kunci)
    c, opts = second_factor_session(kunci, login, pw)
    answer = auth.get(opts, origin(kunci))
    # Tampered: the signature's last byte, the origin, the relying party.
    bad = json.loads(json.dumps(answer))
    sig = bytearray(unb64u(bad["response"]["signature"]))
    sig[-1] ^= 1
    bad["response"]["signature"] = b64u(bytes(sig))
    assert c.call("POST", "/session/webauthn/finish", bad)[1]["error"] == "passkey_refused"
    _, opts, _ = c.call("POST", "/session/webauthn/begin", {})
    assert c.call("POST", "/session/webauthn/finish", auth.get(opts, "https://evil.test"))[1]["error"] == "passkey_refused"
    _, opts, _ = c.call("POST", "/session/webauthn/begin", {})
    assert c.call("POST", "/session/webauthn/finish", auth.get(opts, origin(kunci), rp_id="evil.test"))[1]["error"] == "passkey_refused"
    assert not is_full(c)
    # A fresh, right answer opens the session; the same answer in another session does not.
    _, opts, _ = c.call("POST", "/session/webauthn/begin", {})
    answer = auth.get(opts, origin(kunci))
    assert c.call("POST", "/session/webauthn/finish", answer)[0] == 200
    assert is_full(c)
    other, _ = second_factor_session(kunci, login, pw)
    status, body, _ = other.call("POST", "/session/webauthn/finish", answer)
    assert status == 400 and body["error"] in ("passkey_refused", "passkey_replayed")
    assert not is_full(other)


def test_same_challenge_twice_in_one_session(kunci):
    login, pw, auth = with_passkey(kunci)
    c, opts = second_factor_session(kunci, login, pw)
    first = auth.get(opts, origin(kunci))
    bad = json.loads(json.dumps(first))
    bad["response"]["signature"] = b64u(b"\x30\x06\x02\x01\x01\x02\x01\x01")
    assert c.call("POST", "/session/webauthn/finish", bad)[1]["error"] == "passkey_refused"
    # The challenge was spent by the first answer, wrong as it was.
    status, body, _ = c.call("POST", "/session/webauthn/finish", first)
    assert (status, body["error"]) == (400, "passkey_replayed")


def test_cloned_key_counter_backwards(kunci):
    login, pw, auth = with_passkey(kunci)
    c, opts = second_factor_session(kunci, login, pw)
    assert c.call("POST", "/session/webauthn/finish", auth.get(opts, origin(kunci), count=50))[0] == 200
    clone, opts = second_factor_session(kunci, login, pw)
    status, body, _ = clone.call("POST", "/session/webauthn/finish", auth.get(opts, origin(kunci), count=12))
    assert (status, body["error"]) == (400, "passkey_cloned")
    assert not is_full(clone)
    assert "counter" in kunci.log()
    assert kunci.sql("SELECT sign_count FROM passkeys")[0][0] == 50


def test_another_accounts_passkey(kunci):
    alice, alice_pw, alice_key = with_passkey(kunci)
    bob, bob_pw, _ = with_passkey(kunci)
    c, opts = second_factor_session(kunci, bob, bob_pw)
    status, body, _ = c.call("POST", "/session/webauthn/finish", alice_key.get(opts, origin(kunci)))
    assert (status, body["error"]) == (400, "passkey_unknown")
    assert not is_full(c)


def test_passwordless(kunci):
    login, _, auth = with_passkey(kunci)
    c = kunci.web()
    # No session, no CSRF token: a discoverable credential with user verification signs in.
    status, opts, _ = c.call("POST", "/session/passkey/begin", {})
    assert status == 200 and opts["publicKey"]["userVerification"] == "required"
    answer = auth.get(opts, origin(kunci))
    status, s, _ = c.call("POST", "/session/passkey/finish", answer)
    assert status == 200 and s["user"]["login"] == login and s["next"] == "done"
    assert is_full(c)
    # /session/webauthn without a session that owes a second factor is the same sign-in.
    other = kunci.web()
    _, opts, _ = other.call("POST", "/session/webauthn/begin", {})
    assert "allowCredentials" in opts["publicKey"] and not opts["publicKey"]["allowCredentials"]
    status, s2, _ = other.call("POST", "/session/webauthn/finish", auth.get(opts, origin(kunci)))
    assert status == 200 and s2["user"]["login"] == login
    # Replayed, by anyone.
    assert kunci.web().call("POST", "/session/passkey/finish", answer)[1]["error"] == "passkey_replayed"
    # Another account's user handle with this credential.
    other = kunci.web()
    _, opts, _ = other.call("POST", "/session/passkey/begin", {})
    bad = auth.get(opts, origin(kunci))
    bad["response"]["userHandle"] = b64u(bytes(16))
    assert other.call("POST", "/session/passkey/finish", bad)[1]["error"] == "passkey_refused"
    # Without user verification: a touch is not both factors.
    auth.uv = False
    _, opts, _ = other.call("POST", "/session/passkey/begin", {})
    assert other.call("POST", "/session/passkey/finish", auth.get(opts, origin(kunci)))[1]["error"] == "passkey_refused"
    assert not is_full(other)
    # A challenge for the second factor is not one for passwordless sign-in.
    login2, pw2, auth2 = with_passkey(kunci)
    c2, opts = second_factor_session(kunci, login2, pw2)
    assert kunci.web().call("POST", "/session/passkey/finish", auth2.get(opts, origin(kunci)))[1]["error"] == "passkey_refused"


def test_cbor_that_declares_more_than_it_holds(kunci):
    login, pw = kunci.user("enabled")
    c = kunci.web()
    c.sign_in(login, pw)
    for bomb in (b"\xbb\xff\xff\xff\xff\xff\xff\xff\xff", b"\xa3\x63fmt\x64none\x67attStmt\x9b\x00\xff\xff\xff\xff\xff\xff\xff",
                 b"\xbf\x63fmt\x64none\xff"):
        _, opts, _ = c.call("POST", "/methods/webauthn/begin", {})
        answer = Authenticator().create(opts, origin(kunci))
        answer["response"]["attestationObject"] = b64u(bomb)
        started = time.monotonic()
        status, body, _ = c.call("POST", "/methods/webauthn/finish", answer)
        assert (status, body["error"]) == (400, "passkey_refused")
        assert time.monotonic() - started < 5
    assert c.call("GET", "/session")[0] == 200
