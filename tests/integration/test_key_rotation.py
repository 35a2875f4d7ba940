"""kunci key rotate / finish-rotation, as the README says to do it, on a kunci of its own
(on the suite's store: SQLite, or a database of its own in the suite's PostgreSQL): every
credential made before the rotation works after it (app passwords, moved at their first use;
an authenticator app, its secret sealed again; backup codes), new ones are made under the new
key, and finishing drops the previous key (refused while an app password still needs it)."""

import json
import os
import subprocess
import time
import uuid

import pytest

from conftest import STORE
from kunci_instance import enrol_totp, kunci_factory
from webclient import totp


@pytest.fixture
def make_kunci(tmp_path):
    yield from kunci_factory(tmp_path)


@pytest.fixture
def store(env):
    if STORE != "postgresql":
        return ""
    name = f"rotation_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", env.pg_uri, "-q", "-c", f"CREATE DATABASE {name}"], check=True,
                   capture_output=True)
    return f"backend = postgresql\nlocation = {env.pg_uri.rsplit('/', 1)[0]}/{name}\n"


def status(k):
    return json.loads(k.cli("key", "status", "--json").stdout)


def signs_in_with_backup_code(k, login, pw, code):
    c = k.web()
    assert c.sign_in(login, pw)[1]["next"] == "second_factor"
    return c.call("POST", "/session/backup-code", {"code": code})[0] == 200


def test_rotation_keeps_every_credential(make_kunci, store):
    k = make_kunci(store=store).start()
    login, pw = k.user("enforced")
    c, secret, method_id = enrol_totp(k, login, pw)
    _, done, _ = c.call("POST", "/setup/complete", {})
    from_setup = done["app_password"]["password"]  # the wizard's own app password
    codes = c.call("POST", "/methods/backup-codes", {})[1]["codes"]
    used = k.app_password(login, "used after the rotation")
    unused = k.app_password(login, "never used again")
    assert k.auth(login, used)[0] == "OK"
    first = status(k)["key_fingerprint"]

    assert k.stop() == 0
    rotated = json.loads(k.cli("key", "rotate", "--json").stdout)
    assert rotated["previous_fingerprint"] == first != rotated["key_fingerprint"]
    assert rotated["secrets_resealed"] == 1 and rotated["app_passwords_left"] == 3
    with open(os.path.join(k.data, "kunci.key")) as f:
        assert len(f.read().splitlines()) == 3  # the new key, the previous, the enrolment key
    k.start()

    assert k.auth(login, used)[0] == "OK"  # found under the previous key, moved
    assert k.auth(login, used)[0] == "OK"  # and now under the new one
    assert status(k)["app_passwords_left"] == 2
    assert k.auth(login, from_setup)[0] == "OK"
    assert status(k)["app_passwords_left"] == 1
    made_after = k.app_password(login, "made after the rotation")
    assert k.auth(login, made_after)[0] == "OK"
    s = k.web()
    assert s.sign_in(login, pw)[1]["next"] == "second_factor"
    status_code, _, _ = s.call("POST", "/session/verify",
                               {"method_id": method_id, "code": totp(secret, time.time() + 30)})
    assert status_code == 200  # the authenticator's secret, sealed again, still opens
    assert signs_in_with_backup_code(k, login, pw, codes[0])

    p = k.cli("key", "rotate", check=False)
    assert p.returncode == 1 and "rotation is under way" in p.stderr
    p = k.cli("key", "finish-rotation", check=False)
    assert p.returncode == 1 and "1 app password still uses the previous key" in p.stderr
    assert status(k)["rotating"] is True

    assert k.stop() == 0
    done = json.loads(k.cli("key", "finish-rotation", "--force", "--json").stdout)
    assert done["app_passwords_deleted"] == 1
    with open(os.path.join(k.data, "kunci.key")) as f:
        assert len(f.read().splitlines()) == 2  # the new key and the enrolment key
    k.start()
    now = status(k)
    assert now["rotating"] is False and now["key_fingerprint"] == rotated["key_fingerprint"]
    assert now["database_names"] == now["key_fingerprint"]
    assert k.auth(login, used)[0] == "OK" and k.auth(login, made_after)[0] == "OK"
    assert k.auth(login, unused)[0] != "OK"  # deleted with the previous key
    assert signs_in_with_backup_code(k, login, pw, codes[1])  # enrolment key kept
    assert k.stop() == 0


def test_an_interrupted_rotation_is_finished_by_running_it_again(make_kunci, store):
    """The key file rotated but the database step not done (as after a crash between the
    two): kunci still opens the database (it names the previous key), and kunci key rotate,
    run again, does the database step instead of rotating a second time."""
    k = make_kunci(store=store)
    login, _ = k.user("enforced")
    app = k.app_password(login, "phone")
    first = status(k)["key_fingerprint"]
    rotated = json.loads(k.cli("key", "rotate", "--json").stdout)["key_fingerprint"]
    # As if the database step had not run: it names the previous key again.
    statement = f"UPDATE settings SET value = '{first}' WHERE key = '.key_fingerprint'"
    if store:
        subprocess.run(["psql", store.split("location = ")[1].strip(), "-q", "-c", statement],
                       check=True, capture_output=True)
    else:
        k.sql(statement)
    assert status(k)["database_names"] == first  # opens: a rotation under way
    p = k.cli("key", "rotate")
    assert "New master key" in p.stdout
    now = status(k)
    assert now["key_fingerprint"] == rotated and now["database_names"] == rotated
    k.start()
    assert k.auth(login, app)[0] == "OK"
