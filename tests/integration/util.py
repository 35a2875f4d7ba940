"""What every suite needs to run kunci: its binary, free ports, waiting for a listener."""

import os
import socket
import time

KUNCI = os.environ.get("KUNCI_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "kunci")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")
