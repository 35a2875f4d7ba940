"""kunci backup and kunci restore, as the README's guide does them: a backup taken while
kunci serves under load, a restore refused while it serves, done once it is stopped, and
refused for a backup that does not belong (another key file, a newer kunci, not a
database). Each test has a kunci of its own (SQLite; PostgreSQL is refused politely)."""

import json
import os
import sqlite3
import threading

import pytest

from kunci_instance import kunci_factory


@pytest.fixture
def make_kunci(tmp_path):
    yield from kunci_factory(tmp_path)


def app_passwords(k):
    return [row[0] for row in k.sql("SELECT name FROM app_passwords ORDER BY name")]


def test_backup_while_serving_then_restore_once_stopped(make_kunci, tmp_path):
    k = make_kunci().start()
    login, _ = k.user("enforced")
    before = k.app_password(login, "made before the backup")
    # The backup is taken while checks go on; none of them is refused or held up for it.
    stop, answers = threading.Event(), []

    def load():
        while not stop.is_set():
            answers.append(k.auth(login, before)[0])
    t = threading.Thread(target=load)
    t.start()
    backup = tmp_path / "kunci-2026-11-27.db"
    made = json.loads(k.cli("backup", str(backup), "--json").stdout)
    stop.set()
    t.join()
    assert answers and set(answers) == {"OK"}
    assert os.stat(backup).st_mode & 0o777 == 0o600
    assert made["file"] == str(backup) and len(made["key_fingerprint"]) == 32
    assert not os.path.exists(str(backup) + "-wal")  # one self-contained file

    k.cli("app-password", "delete-all", login)
    after = k.app_password(login, "made after the backup")
    assert k.auth(login, before)[0] != "OK"

    # Not while kunci serves: refused, and nothing changed.
    p = k.cli("restore", str(backup), check=False)
    assert p.returncode == 1 and "stop it first" in p.stderr
    assert k.auth(login, after)[0] == "OK"

    assert k.stop() == 0
    p = k.cli("restore", str(backup))
    assert "restored" in p.stdout
    k.start()
    assert k.auth(login, before)[0] == "OK"       # as it was at the backup
    assert k.auth(login, after)[0] != "OK"        # made later: gone with the restore
    kept = sqlite3.connect(os.path.join(k.data, "kunci.db.before-restore"))
    assert [r[0] for r in kept.execute("SELECT name FROM app_passwords")] == \
        ["made after the backup"]
    kept.close()
    # Undone by restoring what was kept; the database itself is not a backup of itself.
    assert k.stop() == 0
    k.cli("restore", os.path.join(k.data, "kunci.db.before-restore"))
    p = k.cli("restore", os.path.join(k.data, "kunci.db"), check=False)
    assert p.returncode == 1 and "the database itself" in p.stderr
    k.start()
    assert k.auth(login, after)[0] == "OK" and k.auth(login, before)[0] != "OK"


def test_restore_refuses_a_backup_that_does_not_belong(make_kunci, tmp_path):
    k = make_kunci()
    login, _ = k.user("enforced")
    k.app_password(login, "mine")
    other = make_kunci()  # its own key file
    other.user("enforced")
    theirs = tmp_path / "theirs.db"
    other.cli("backup", str(theirs))
    p = k.cli("restore", str(theirs), check=False)
    assert p.returncode == 1 and "another key file" in p.stderr
    assert app_passwords(k) == ["mine"]

    ours = tmp_path / "ours.db"
    k.cli("backup", str(ours))
    newer = tmp_path / "newer.db"
    newer.write_bytes(ours.read_bytes())
    db = sqlite3.connect(newer)
    db.execute("PRAGMA user_version = 999")
    db.close()
    p = k.cli("restore", str(newer), check=False)
    assert p.returncode == 1 and "newer kunci" in p.stderr

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database " * 100)
    p = k.cli("restore", str(garbage), check=False)
    assert p.returncode == 1 and "not a kunci database" in p.stderr
    p = k.cli("restore", str(tmp_path / "missing.db"), check=False)
    assert p.returncode == 1 and "no such file" in p.stderr
    assert app_passwords(k) == ["mine"]

    # A backup never writes over a file.
    before = ours.read_bytes()
    p = k.cli("backup", str(ours), check=False)
    assert p.returncode == 1 and "exists" in p.stderr
    assert ours.read_bytes() == before
    p = k.cli("backup", str(tmp_path / "no-such-folder" / "x.db"), check=False)
    assert p.returncode == 1 and "No such file or directory" in p.stderr

    # And the key file alone cannot be swapped under the database either.
    os.replace(os.path.join(other.data, "kunci.key"), os.path.join(k.data, "kunci.key"))
    p = k.cli("user", "list", check=False)
    assert p.returncode == 1 and "not the one the database" in p.stderr


def test_postgresql_is_left_to_its_own_tools(tmp_path):
    from util import KUNCI
    import subprocess
    conf = tmp_path / "kunci.conf"
    conf.write_text("[store]\nbackend = postgresql\n"
                    "location = postgresql://kunci@127.0.0.1:1/kunci\n")
    for command, tool in (("backup", "pg_dump"), ("restore", "pg_restore")):
        p = subprocess.run([KUNCI, "--config", str(conf), command, str(tmp_path / "x.db")],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 1 and tool in p.stderr, p.stderr
    assert not (tmp_path / "x.db").exists()
