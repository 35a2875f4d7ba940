"""Correct at many: sessions, app passwords, lockouts, a node lost, the database restarted
and a schema moved ahead, with three kunci servers on one PostgreSQL (conftest.py)."""

import concurrent.futures
import json
import os
import signal
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from webclient import Client, totp

TRY_AGAIN = "Temporary server problem, try again later"


def auth_via(port, login, password, ip="198.51.100.9"):
    headers = {"Auth-Method": "plain", "Auth-Protocol": "imap", "Client-IP": ip,
               "Auth-User": urllib.parse.quote(login, safe="@"),
               "Auth-Pass": urllib.parse.quote(password), "Auth-Login-Attempt": "1"}
    req = urllib.request.Request(f"http://127.0.0.1:{port}/auth/nginx", headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers["Auth-Status"]


def enrolled(cluster):
    """A user through the wizard on node 1, with an authenticator app."""
    n1 = cluster.nodes[0]
    login, pw = n1.user("enabled")
    c = n1.web()
    c.sign_in(login, pw)
    _, t, _ = c.call("POST", "/methods/totp", {})
    assert c.call("POST", f"/methods/{t['method_id']}/verify", {"code": totp(t["secret"])})[0] \
        == 200
    assert c.call("POST", "/setup/complete", {})[0] == 200
    return login, pw, t["secret"], t["method_id"]


def refused_within(node, login, password, bound=2.0):
    """A revocation made through another node reaches this one's cache one notification
    later (docs/cache.md): checks until refused, at most `bound` seconds. Returns (seconds
    from the call to the refusal, OK answers before it)."""
    t0 = time.monotonic()
    stale = 0
    while node.auth(login, password)[0] == "OK":
        stale += 1
        assert time.monotonic() - t0 < bound, "still OK after the revocation"
    return time.monotonic() - t0, stale


def next_code(secret):
    """The next window's code: the one enrolment used is spent (kunci allows a window of
    drift)."""
    return totp(secret, time.time() + 30)


def on(client, node):
    client.base = f"http://127.0.0.1:{node.ports['web']}"
    return client


def test_a_session_moves_between_nodes(cluster):
    n1, n2, n3 = cluster.nodes
    login, pw, secret, method_id = enrolled(cluster)
    c = Client(f"http://127.0.0.1:{n1.ports['web']}")
    assert c.sign_in(login, pw)[1]["next"] == "second_factor"
    status, body, _ = on(c, n2).call("POST", "/session/verify",
                                     {"method_id": method_id, "code": next_code(secret)})
    assert status == 200, body
    status, methods, _ = on(c, n3).call("GET", "/methods")
    assert status == 200 and [m["id"] for m in methods] == [method_id]
    # An app password made on the third node, through the web.
    status, made, _ = c.call("POST", "/app-passwords", {"name": "phone"})
    assert status == 201
    assert on(c, n1).call("GET", "/session")[1]["signed_in"] is True
    # Signed out on one node: out everywhere.
    assert on(c, n2).call("DELETE", "/session")[0] == 200
    for n in (n1, n3):
        assert on(c, n).call("GET", "/session")[1]["signed_in"] is False


def test_the_web_through_nginx_round_robin(cluster):
    """Every request of a sign-in lands on the next node."""
    login, pw, secret, method_id = enrolled(cluster)
    c = Client(f"http://127.0.0.1:{cluster.ports['web']}")
    assert c.sign_in(login, pw)[1]["next"] == "second_factor"
    assert c.call("POST", "/session/verify", {"method_id": method_id,
                                              "code": next_code(secret)})[0] == 200
    for _ in range(6):
        assert c.call("GET", "/session")[1]["signed_in"] is True
    assert c.call("GET", "/methods")[0] == 200


def test_app_passwords_are_known_and_forgotten_everywhere_at_once(cluster):
    n1, n2, n3 = cluster.nodes
    login, pw, secret, method_id = enrolled(cluster)
    c = Client(f"http://127.0.0.1:{n1.ports['web']}")
    c.sign_in(login, pw)
    assert c.call("POST", "/session/verify", {"method_id": method_id,
                                              "code": next_code(secret)})[0] == 200
    for round_ in range(5):
        status, made, _ = on(c, n1).call("POST", "/app-passwords", {"name": f"phone {round_}"})
        assert status == 201
        password = made["password"]
        # Made through node 1: the very next check on nodes 2 and 3 knows it.
        assert n2.auth(login, password)[0] == "OK"
        assert n3.auth(login, password)[0] == "OK"
        for _ in range(20):  # well inside every node's cache now
            for n in (n1, n3):
                assert n.auth(login, password)[0] == "OK"
        # Deleted through node 2: refused on nodes 1 and 3 (on node 2 at once).
        assert on(c, n2).call("DELETE", f"/app-passwords/{made['id']}")[0] == 200
        assert n2.auth(login, password)[0] == "Invalid login or password"
        refused_within(n1, login, password)
        refused_within(n3, login, password)
    # And turned off for the organization through one node's command line.
    password = on(c, n1).call("POST", "/app-passwords", {"name": "last"})[1]["password"]
    for n in cluster.nodes:
        assert n.auth(login, password)[0] == "OK"
    n2.setting("app_passwords_allowed", "false")
    try:
        for n in cluster.nodes:
            refused_within(n, login, password)
    finally:
        n2.setting("app_passwords_allowed", "true")
    for n in cluster.nodes:
        assert n.auth(login, password)[0] == "OK"
    n3.cli("user", "disable", login)
    for n in cluster.nodes:
        refused_within(n, login, password)


def test_the_lockout_is_counted_across_nodes(cluster):
    n1, n2, n3 = cluster.nodes
    login, pw = n1.user("disabled", password="Legacy-pass-123")
    i = 0
    for node in (n1, n2, n3, n1, n2, n3, n1, n2, n3, n1):
        i += 1
        assert node.auth(login, f"Wrong-{i}", ip=f"10.41.0.{i}")[0] == \
            "Invalid login or password"
    for node in cluster.nodes:
        assert node.auth(login, "Legacy-pass-123", ip="10.42.0.1")[0] == \
            "Invalid login or password"
    locked = [x for x in json.loads(n3.cli("lockout", "list", "--json").stdout)
              if x["subject"] == login]
    assert locked and locked[0]["locked"] and locked[0]["failures"] >= 10


def test_a_node_killed_under_load_loses_no_request(cluster):
    """Through nginx's auth upstream: a node killed mid-load; every request is answered OK
    (nginx retries what the dead node dropped), and the others keep answering."""
    n1, n2, n3 = cluster.nodes
    login, _ = n1.user("enforced")
    password = n1.app_password(login)
    answers = []

    def one(_):
        return auth_via(cluster.ports["auth"], login, password)

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        first = pool.map(one, range(300))
        answers.extend(first)
        futures = [pool.submit(one, i) for i in range(600)]
        time.sleep(0.05)
        n2.proc.send_signal(signal.SIGKILL)
        n2.proc.wait(10)
        answers.extend(f.result() for f in futures)
    assert answers.count("OK") == len(answers) == 900
    for n in (n1, n3):
        assert n.auth(login, password)[0] == "OK"
    n2.log_file.close()
    n2.start()  # back for the tests after this one
    assert n2.auth(login, password)[0] == "OK"


def test_postgresql_restarted_is_try_again_later_then_recovers(cluster):
    login, _ = cluster.nodes[0].user("enforced")
    password = cluster.nodes[0].app_password(login)
    legacy, legacy_pw = cluster.nodes[0].user("disabled", password="Legacy-pass-456")
    for n in cluster.nodes:  # cached on every node
        for _ in range(5):
            assert n.auth(login, password)[0] == "OK"
    cluster.pg("pause")
    try:
        for n in cluster.nodes:
            assert n.auth(login, password)[0] == TRY_AGAIN
            assert n.auth(legacy, legacy_pw, ip="10.43.0.1")[0] == TRY_AGAIN
            assert n.auth(login, "wrong-one-1", ip="10.43.0.2")[0] == TRY_AGAIN
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{n.ports['auth']}/healthz", timeout=10)
                assert False, "healthz said 200 during the outage"
            except urllib.error.HTTPError as e:
                assert e.code == 503
    finally:
        cluster.pg("resume")
    deadline = time.time() + 15
    for n in cluster.nodes:
        while n.auth(login, password)[0] != "OK":
            assert time.time() < deadline, "a node did not recover without a restart"
            time.sleep(0.1)
        assert n.auth(legacy, legacy_pw, ip="10.43.0.3")[0] == "OK"


def test_nodes_keep_working_while_the_schema_moves_ahead(cluster):
    """A newer kunci migrates the database while these older nodes run: they keep answering
    until they are replaced; an older kunci starting now refuses, saying why."""
    n1 = cluster.nodes[0]
    login, _ = n1.user("enforced")
    password = n1.app_password(login)
    other, other_pw = n1.user("enabled")
    cluster.psql("BEGIN; LOCK TABLE kunci_schema IN EXCLUSIVE MODE; "
                 "ALTER TABLE accounts ADD COLUMN future_column TEXT; "
                 "CREATE TABLE future_table (id BIGINT); "
                 "UPDATE kunci_schema SET version = version + 1; COMMIT;")
    try:
        for n in cluster.nodes:
            assert n.auth(login, password)[0] == "OK"
        c = cluster.nodes[2].web()
        assert c.sign_in(other, other_pw)[0] == 200
        p = n1.cli("user", "list", check=False)
        assert p.returncode != 0 and "newer" in p.stderr.lower()
    finally:
        cluster.psql("BEGIN; ALTER TABLE accounts DROP COLUMN future_column; "
                     "DROP TABLE future_table; UPDATE kunci_schema SET version = version - 1; "
                     "COMMIT;")
    assert n1.cli("user", "list").returncode == 0


def test_revocation_bound(cluster):
    """From the commit of a delete (psql, outside kunci) to the first refusal on a node that
    had the app password in its cache: measured, for BENCHMARKS.md."""
    n1, _, n3 = cluster.nodes
    login, _ = n1.user("enforced")
    times, stale = [], 0
    for _ in range(30):
        ap = json.loads(n1.cli("app-password", "create", login, "--name", "x",
                               "--json").stdout)
        for _ in range(3):
            assert n3.auth(login, ap["password"])[0] == "OK"
        cluster.psql(f"DELETE FROM app_passwords WHERE id = {ap['id']}")
        took, n = refused_within(n3, login, ap["password"])
        times.append(took)
        stale += n
    times.sort()
    print(f"\nrevocation through another process, 30 trials: OK answers after the commit: "
          f"{stale}; first refusal within {times[len(times) // 2] * 1000:.1f} ms (median), "
          f"{times[-1] * 1000:.1f} ms (worst)")
