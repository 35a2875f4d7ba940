"""The man pages (man/*.scd, one source each, made by scdoc in the build) list exactly the
commands, options and kunci.conf keys the code accepts, with the defaults it has: a command
or key added without its page, or a page that names one the code no longer has, fails."""

import json
import os
import re
import subprocess

from conftest import KUNCI

MAN = os.path.join(os.path.dirname(__file__), "..", "..", "man")
PAM_SOURCE = os.path.join(os.path.dirname(__file__), "..", "..", "src", "pam", "pam_kunci.c")
SOCKET_CLIENT = os.path.join(os.path.dirname(__file__), "..", "..", "src", "client",
                             "socket_client.h")


def page(name):
    with open(os.path.join(MAN, name + ".scd")) as f:
        return f.read()


def sections(text):
    """{heading: body} of a page's '# HEADING' sections."""
    parts = re.split(r"^# (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def entries(body):
    """The definition lines of a section (not indented) and the text under each."""
    out, current = [], None
    for line in body.splitlines():
        if line.startswith("*"):
            current = [line, ""]
            out.append(current)
        elif current is not None and line.startswith("\t"):
            current[1] += line.strip() + " "
    return out


def kunci(*args):
    p = subprocess.run([KUNCI, *args], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_pages_are_valid_scdoc():
    for name in ("kunci.1", "kunci.conf.5", "pam_kunci.8"):
        p = subprocess.run(["scdoc"], input=page(name), capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0, f"{name}: {p.stderr}"
        assert ".SH NAME" in p.stdout or ".SH \"NAME\"" in p.stdout


def test_kunci_1_lists_every_command_and_its_options():
    s = sections(page("kunci.1"))
    commands = [c for c in kunci("--list-commands").splitlines() if c]
    families = {c.split()[0] for c in commands}
    documented = {}
    for head, text in entries(s["COMMANDS"]):
        # Bold words that start with a family's name (not *enforced* and the like).
        for name in re.findall(r"\*([a-z][a-z -]*[a-z])\*", head):
            if name.split()[0] in families:
                documented[name] = head + " " + text
    assert sorted(documented) == sorted(commands)
    given = set(re.findall(r"^  (--[a-z-]+)", kunci("--help"), flags=re.M)) - {"--help"}
    # Every option a command's --help names is in its entry (or its family's).
    for command in commands:
        family = command.split()[0]
        help_text = subprocess.run([KUNCI, *command.split(), "--help"], capture_output=True,
                                   text=True, timeout=30).stdout
        flags = set(re.findall(r"(--[a-z][a-z-]+)", help_text)) - {"--help", "--json"} - given
        described = " ".join(v for k, v in documented.items() if k.split()[0] == family)
        missing = {f for f in flags if f"*{f}*" not in described}
        assert not missing, f"kunci {command}: kunci.1 does not describe {sorted(missing)}"
    # The global options, both ways.
    options = {h.split("*")[1] for h, _ in entries(s["OPTIONS"])}
    assert options == given


def test_kunci_conf_5_lists_every_key_with_its_default():
    defaults = json.loads(kunci("config", "show", "--defaults", "--json"))
    s = sections(page("kunci.conf.5"))
    documented = {}
    for head, body in s.items():
        groups = re.findall(r"\[([a-z]+)\]", head)
        if not groups:
            continue
        shared, _, only = body.partition("Only in [email]:")
        for part, names in ((shared, groups), (only, ["email"])):
            for line, text in entries(part):
                for key in re.findall(r"\*([a-z0-9_]+)\* =", line):
                    for section in names:
                        documented[(section, key)] = text
    in_code = {(sec, key) for sec, keys in defaults.items() for key in keys}
    assert set(documented) - in_code == set(), "kunci.conf.5 names keys the code does not have"
    assert in_code - set(documented) == set(), "keys missing from kunci.conf.5"
    # A default written as a value (*...*) is the code's; others say in words what it is.
    for (section, key), text in documented.items():
        m = re.search(r"Default: \*([^*]+)\*\.", text)
        if m:
            assert m.group(1) == defaults[section][key], f"[{section}] {key}"
        else:
            assert "Default:" in text or "default:" in text, f"[{section}] {key}: no default"


def test_pam_kunci_8_lists_every_option():
    with open(PAM_SOURCE) as f:
        accepted = set(re.findall(r'strncmp\(argv\[i\], "([a-z]+=)"', f.read()))
    s = sections(page("pam_kunci.8"))
    documented = {re.match(r"\*([a-z]+=)\*", h).group(1) for h, _ in entries(s["OPTIONS"])}
    assert accepted and documented == accepted
    with open(SOCKET_CLIENT) as f:
        header = f.read()
    path = re.search(r'DEFAULT_PATH\s+"([^"]+)"', header).group(1)
    timeout = re.search(r"DEFAULT_TIMEOUT\s+(\d+)", header).group(1)
    text = s["OPTIONS"]
    assert f"Default: *{path}*" in text and f"Default: *{timeout}*" in text
