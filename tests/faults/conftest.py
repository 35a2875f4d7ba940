"""The fault suite: kunci under the faults an operator meets (a database file replaced or
made read-only, a full disk, a frozen PostgreSQL, signals, kill -9), each against a kunci of
its own on 127.0.0.1. Faults that need root (mounting a small file system, running as
another user) are skipped with a note where the machine does not allow them."""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from kunci_instance import CHEAP, REAL, Kunci, kunci_factory  # noqa: E402,F401
from util import KUNCI, free_port  # noqa: E402,F401

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PG_SCRIPT = os.path.join(ROOT, "scripts", "test-postgres.sh")
# The sanitizer build, for the faults where memory errors hide (shutdown under load).
ASAN_KUNCI = os.environ.get("KUNCI_ASAN_BIN") or os.path.join(ROOT, "build-asan", "kunci")


@pytest.fixture
def make_kunci(tmp_path):
    yield from kunci_factory(tmp_path)


@pytest.fixture
def tmpfs():
    """A small file system of the test's own (mounted on a scratch folder), or a skip."""
    mounted = []

    def mount(size="4m"):
        where = tempfile.mkdtemp(prefix="kunci-tmpfs-")
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", where],
                           capture_output=True, text=True)
        if p.returncode != 0:
            os.rmdir(where)
            pytest.skip(f"cannot mount a tmpfs here ({p.stderr.strip()}): needs root")
        mounted.append(where)
        return where
    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", where], check=False)
        os.rmdir(where)


@pytest.fixture
def scratch():
    """A folder under /tmp that other users may enter (PostgreSQL's, nobody's)."""
    made = []

    def make():
        where = tempfile.mkdtemp(prefix="kunci-faults-")
        os.chmod(where, 0o755)
        made.append(where)
        return where
    yield make
    for where in made:
        shutil.rmtree(where, ignore_errors=True)


@pytest.fixture
def postgres(scratch):
    """A PostgreSQL of the test's own: (uri, folder, port)."""
    folder, port = os.path.join(scratch(), "pg"), free_port()
    uri = subprocess.run([PG_SCRIPT, "start", folder, str(port)], check=True,
                         capture_output=True, text=True).stdout.strip()
    yield uri, folder, port
    subprocess.run([PG_SCRIPT, "stop", folder], check=False)
