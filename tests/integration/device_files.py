"""What a device is given, read back as the device would, by tools independent of kunci:
an Apple profile's CMS signature checked by `openssl cms -verify` against the test CA and its
property list read by plistlib; a QR code decoded by zbarimg (Debian's zbar-tools) and held
to Thunderbird's "Export for Mobile" format, version 1; the autoconfig file parsed as XML.
Also a command for the browser tests: `device_files.py profile FILE CA` and
`device_files.py qr FILE.svg` (or `qr-image FILE.png`, a screenshot of the code) print what
they read as JSON."""

import json
import os
import plistlib
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET


def make_profile_signer(folder):
    """A test CA, an intermediate and a signing certificate under it (openssl):
    (root CA file, signer's certificate file with the intermediate after it, signer's key)."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    ext = os.path.join(folder, "ext.cnf")
    with open(ext, "w") as f:
        f.write("[ca]\nbasicConstraints=critical,CA:true\nkeyUsage=keyCertSign,cRLSign\n"
                "[leaf]\nbasicConstraints=CA:false\nkeyUsage=digitalSignature\n")
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=kunci test CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
        "mid.key", "-out", "mid.csr", "-subj", "/CN=kunci test intermediate")
    run("x509", "-req", "-in", "mid.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "mid.pem", "-days", "2", "-extfile", ext, "-extensions", "ca")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
        "signer.key", "-out", "signer.csr", "-subj", "/CN=Example Org profiles/O=Example Org")
    run("x509", "-req", "-in", "signer.csr", "-CA", "mid.pem", "-CAkey", "mid.key",
        "-CAcreateserial", "-out", "signer.pem", "-days", "2", "-extfile", ext, "-extensions",
        "leaf")
    chain = os.path.join(folder, "signer-chain.pem")
    with open(chain, "w") as out:
        for name in ("signer.pem", "mid.pem"):
            with open(os.path.join(folder, name)) as f:
                out.write(f.read())
    key = os.path.join(folder, "signer.key")
    os.chmod(key, 0o600)
    return os.path.join(folder, "ca.pem"), chain, key


def verify_profile(data, ca):
    """The property list inside a signed profile, after openssl checked the signature and the
    chain to ca (AssertionError if it does not hold)."""
    with tempfile.TemporaryDirectory() as d:
        signed, plain = os.path.join(d, "p.mobileconfig"), os.path.join(d, "p.plist")
        with open(signed, "wb") as f:
            f.write(data)
        p = subprocess.run(["openssl", "cms", "-verify", "-inform", "DER", "-in", signed,
                            "-CAfile", ca, "-purpose", "any", "-out", plain],
                           capture_output=True, text=True)
        assert p.returncode == 0, "openssl cms -verify: " + p.stderr
        with open(plain, "rb") as f:
            return plistlib.load(f)


def svg_to_pbm(svg, scale=6):
    """kunci draws a QR code as one path of unit squares ("M{x} {y}h1v1h-1z"): the same
    modules as a black and white image (netpbm), scaled up for the decoder."""
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).group(1))
    dark = {(int(x), int(y)) for x, y in re.findall(r"M(\d+) (\d+)h1v1h-1z", svg)}
    n = size * scale
    rows = (" ".join("1" if (px // scale, py // scale) in dark else "0" for px in range(n))
            for py in range(n))
    return "P1\n%d %d\n%s\n" % (n, n, "\n".join(rows))


def decode_qr_image(path):
    """The text of the QR code in an image file (PNG, netpbm), as zbarimg reads it."""
    p = subprocess.run(["zbarimg", "-q", "--raw", path], capture_output=True, text=True)
    assert p.returncode == 0, "zbarimg: " + p.stderr
    return p.stdout.rstrip("\n")


def decode_qr(svg):
    """The text of the QR code in an SVG, as zbarimg reads it."""
    with tempfile.NamedTemporaryFile("w", suffix=".pbm") as f:
        f.write(svg_to_pbm(svg))
        f.flush()
        return decode_qr_image(f.name)


def read_android_payload(text):
    """Thunderbird's "Export for Mobile" QR payload, format version 1, checked as a full reader
    must (every property, valid values): {imap: ..., smtp: ..., identity: ...}."""
    root = json.loads(text)
    assert isinstance(root, list) and len(root) >= 4 and (len(root) - 2) % 2 == 0
    assert root[0] == 1, "FormatVersion"
    assert root[1][:2] == [1, 1], "one QR code: SequenceNumber 1 of SequenceEnd 1"

    def one_line(value):
        # Thunderbird for Android's reader refuses a line break in any of these
        # (QrCodePayloadValidator: user name, account name, password, display name).
        assert value is None or (isinstance(value, str) and "\r" not in value
                                 and "\n" not in value), value
        return value

    def server(s, protocols, has_name):
        assert s[0] in protocols
        assert isinstance(s[1], str) and s[1].isascii() and s[1]
        assert isinstance(s[2], int) and 1 <= s[2] <= 65535
        assert s[3] in (0, 2, 3), "ConnectionSecurity"
        assert s[4] in range(7), "AuthenticationType"
        assert isinstance(s[5], str) and s[5]
        rest = s[6:]
        out = {"protocol": s[0], "host": s[1], "port": s[2], "security": s[3], "auth": s[4],
               "username": s[5]}
        if has_name:
            out["account_name"] = one_line(rest[0] if rest else None)
            rest = rest[1:]
        out["password"] = one_line(rest[0] if rest else None)
        one_line(out["username"])
        return out

    incoming = server(root[2], (0, 1), True)
    groups = root[3]
    assert isinstance(groups, list) and groups
    outgoing = server(groups[0][0], (0,), False)
    identity = groups[0][1]
    assert isinstance(identity[0], str) and "@" in identity[0] and identity[0].isascii()
    one_line(identity[1])
    return {"imap": incoming, "smtp": outgoing, "identity": identity}


def read_autoconfig(text):
    """config-v1.1.xml: {type: {hostname, port, socketType, authentication, username}}."""
    root = ET.fromstring(text)
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    provider = root.find("emailProvider")
    out = {"domain": provider.findtext("domain")}
    for el in list(provider.findall("incomingServer")) + list(provider.findall("outgoingServer")):
        out[el.get("type")] = {child.tag: child.text for child in el}
    return out


if __name__ == "__main__":
    if sys.argv[1] == "profile":
        with open(sys.argv[2], "rb") as f:
            print(json.dumps(verify_profile(f.read(), sys.argv[3]), default=str))
    elif sys.argv[1] == "qr":
        with open(sys.argv[2]) as f:
            print(json.dumps(read_android_payload(decode_qr(f.read()))))
    elif sys.argv[1] == "qr-image":
        print(json.dumps(read_android_payload(decode_qr_image(sys.argv[2]))))
