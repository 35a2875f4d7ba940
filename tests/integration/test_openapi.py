"""docs/openapi.yaml describes exactly the routes of the API's table (src/web/routes.c): a
route added without its description, or a description of one that is gone, fails."""

import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def routes():
    with open(os.path.join(ROOT, "src", "web", "routes.c")) as f:
        return set(re.findall(r'\{"(GET|POST|DELETE|PATCH)", "([^"]+)"', f.read()))


def described():
    out, path = set(), None
    with open(os.path.join(ROOT, "docs", "openapi.yaml")) as f:
        for line in f:
            m = re.match(r"^  (/\S*):\s*$", line)
            if m:
                path = m.group(1)
                continue
            m = re.match(r"^    (get|post|delete|patch):", line)
            if m and path:
                out.add((m.group(1).upper(), path))
    return out


def matches(pattern, path):
    """A route pattern's {} stands for one path segment ({id}, or a value such as totp)."""
    return re.fullmatch(re.escape(pattern).replace(r"\{\}", "[^/]+"), path) is not None


def test_every_route_is_described_and_nothing_else():
    table, docs = routes(), described()
    assert table and docs
    missing = {(m, p) for m, p in table if not any(dm == m and matches(p, dp) for dm, dp in docs)}
    assert not missing, f"routes without a description in docs/openapi.yaml: {sorted(missing)}"
    extra = {(m, p) for m, p in docs if not any(rm == m and matches(rp, p) for rm, rp in table)}
    assert not extra, f"docs/openapi.yaml describes routes the API does not have: {sorted(extra)}"
