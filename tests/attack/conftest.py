"""The attack suite: each attack from the security review, done the way it was done, against a
kunci of its own (a fresh data directory and ports on 127.0.0.1 per test), so that one
attack's counts never help or hinder the next."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from kunci_instance import CHEAP, REAL, Kunci, enrol_email, enrol_totp, kunci_factory  # noqa: E402,F401
from util import KUNCI  # noqa: E402,F401
from webclient import totp  # noqa: E402,F401


@pytest.fixture
def make_kunci(tmp_path):
    yield from kunci_factory(tmp_path)


@pytest.fixture
def kunci(make_kunci):
    return make_kunci().start()


