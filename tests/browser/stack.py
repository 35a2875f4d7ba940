"""Starts the integration tests' stack (kunci with its web UI, Dovecot, nginx, Postfix)
for the browser tests, prints one JSON line describing it, and stops it when stdin closes."""

import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from conftest import Env  # noqa: E402


def main():
    root = tempfile.mkdtemp(prefix="kunci-browser-")
    env = Env(root)
    try:
        env.start()
        # The tests ask for codes in quick succession; the cool-down has a test of its own.
        env.kunci("settings", "set", "code_resend_seconds", "0")
        print(json.dumps({"root": root, "data": env.data, "config": env.config,
                          "ports": env.ports, "outbox": os.path.join(env.data, "outbox"),
                          "mail": env.mail_folder, "pg_uri": getattr(env, "pg_uri", None),
                          "profile_ca": env.profile_ca}),
              flush=True)
        sys.stdin.read()
    finally:
        env.stop()
        reports = env.sanitizer_reports()
        if os.environ.get("KUNCI_KEEP_TEST_DIR") is None:
            shutil.rmtree(root, ignore_errors=True)
        if reports:
            print("\n".join(reports), file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
