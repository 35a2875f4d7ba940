"""GET /metrics on the auth listener: Prometheus's text format, the figures moving with what
kunci does (checks by endpoint and result, the two paths' latency, the lookup cache,
deliveries by driver, store errors, the hash queue, sessions)."""

import re
import urllib.request
import uuid

from webclient import Client

LINE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')


def scrape(env):
    with urllib.request.urlopen(f"http://127.0.0.1:{env.ports['auth']}/metrics",
                                timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = r.read().decode()
    figures = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = LINE.match(line)
        assert m, f"not in the text format: {line!r}"
        figures[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return figures


def delta(before, after, key):
    return after.get(key, 0) - before.get(key, 0)


def test_metrics_follow_the_checks(env):
    login = f"m{uuid.uuid4().hex[:10]}@example.org"
    env.add_user(login, "Metrics-pass-1", "enforced")
    ap = env.app_password(login, "phone")["password"]
    before = scrape(env)
    for _ in range(3):
        assert env.auth_nginx(login, ap)[1]["Auth-Status"] == "OK"
    assert env.auth_nginx(login, "Wrong-pass-9", client_ip="192.0.2.77")[1]["Auth-Status"] == \
        "Invalid login or password"
    after = scrape(env)
    assert delta(before, after, 'kunci_auth_checks_total{endpoint="nginx",result="allowed"}') \
        == 3
    assert delta(before, after,
                 'kunci_auth_checks_total{endpoint="nginx",result="wrong_secret"}') == 1
    assert delta(before, after, 'kunci_auth_duration_seconds_count{path="fast"}') == 3
    assert delta(before, after, 'kunci_auth_duration_seconds_count{path="hash"}') == 1
    assert after['kunci_auth_duration_seconds_bucket{path="fast",le="+Inf"}'] == \
        after['kunci_auth_duration_seconds_count{path="fast"}']
    looked = (delta(before, after, 'kunci_app_password_cache_total{outcome="hit"}') +
              delta(before, after, 'kunci_app_password_cache_total{outcome="miss"}'))
    assert looked >= 3
    assert after["kunci_up"] == 1
    assert after["kunci_sessions"] >= 0
    assert after["kunci_hash_queue"] >= 0


def test_metrics_count_deliveries(env):
    login = f"m{uuid.uuid4().hex[:10]}@example.org"
    env.add_user(login, "Metrics-pass-2", "enabled")
    c = Client(f"http://127.0.0.1:{env.ports['web']}")
    assert c.sign_in(login, "Metrics-pass-2")[0] == 200
    before = scrape(env)
    status, _, _ = c.call("POST", "/methods/email", {"address": f"alt-{login}"})
    assert status == 200
    after = scrape(env)
    assert delta(before, after,
                 'kunci_deliveries_total{driver="smtp",outcome="delivered"}') == 1


def test_metrics_during_an_outage(env):
    login = f"m{uuid.uuid4().hex[:10]}@example.org"
    env.add_user(login, "Metrics-pass-3", "enforced")
    ap = env.app_password(login, "phone")["password"]
    before = scrape(env)
    with env.outage():
        assert env.auth_nginx(login, ap)[1]["Auth-Status"] == \
            "Temporary server problem, try again later"
        during = scrape(env)
    assert during["kunci_up"] == 0
    assert "kunci_sessions" not in during
    assert delta(before, during,
                 'kunci_auth_checks_total{endpoint="nginx",result="temporary_failure"}') == 1
    assert delta(before, during, "kunci_store_errors_total") >= 1
    assert scrape(env)["kunci_up"] == 1
