"""Under load the auth listener stays correct: many primary-password checks at once, app
passwords answered meanwhile, and a full hash queue answers "try again later", never OK."""

import concurrent.futures
import os
import subprocess
import urllib.parse
import urllib.request

from conftest import KUNCI, free_port, wait_port


def start(tmp_path, extra):
    data, auth, web = tmp_path / "data", free_port(), free_port()
    conf = tmp_path / "kunci.conf"
    conf.write_text(f"[store]\ndata_dir = {data}\n[serve]\nauth_listen = 127.0.0.1:{auth}\n"
                    f"web_listen = 127.0.0.1:{web}\n{extra}\n[mail]\nimap = 127.0.0.1:1143\n")
    env = dict(os.environ, KUNCI_CONFIG=str(conf))
    run = lambda *a, input=None: subprocess.run([KUNCI, *a], input=input, env=env, text=True,
                                                capture_output=True, check=True).stdout
    run("init")
    run("user", "add", "legacy@example.org", "--password-stdin", input="Legacy-pass-1\n")
    run("user", "add", "mobile@example.org", "--password-stdin", input="Mobile-pass-1\n")
    run("mfa", "set", "mobile@example.org", "enforced")
    app = run("app-password", "create", "mobile@example.org", "--name", "phone")
    app = app.split("\n\n")[1].strip()
    proc = subprocess.Popen([KUNCI, "serve"], env=env, stderr=subprocess.PIPE, text=True)
    wait_port(auth, proc, "kunci")
    return proc, auth, app


def ask(port, user, password):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/auth/nginx", headers={
        "Auth-Method": "plain", "Auth-Protocol": "imap", "Client-IP": "127.0.0.1",
        "Auth-User": user, "Auth-Pass": urllib.parse.quote(password)})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.headers["Auth-Status"]


def stop(proc):
    proc.terminate()
    _, err = proc.communicate(timeout=20)
    assert "Sanitizer" not in err and "runtime error:" not in err, err
    return err


def test_many_checks_at_once_are_all_right(tmp_path):
    proc, port, app = start(tmp_path, "threads = 2\nhash_workers = 2\nhash_queue = 256")
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
            legacy = [pool.submit(ask, port, "legacy@example.org", "Legacy-pass-1")
                      for _ in range(16)]
            wrong = [pool.submit(ask, port, "legacy@example.org", "Wrong-pass-1")
                     for _ in range(8)]
            fast = [pool.submit(ask, port, "mobile@example.org", app) for _ in range(200)]
            assert all(f.result() == "OK" for f in legacy)
            assert all(f.result() == "Invalid login or password" for f in wrong)
            assert all(f.result() == "OK" for f in fast)
    finally:
        stop(proc)


def test_a_full_hash_queue_says_try_again_later(tmp_path):
    proc, port, app = start(tmp_path, "threads = 4\nhash_workers = 1\nhash_queue = 1")
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            answers = [f.result() for f in [pool.submit(ask, port, "legacy@example.org",
                                                        "Legacy-pass-1") for _ in range(16)]]
            # Meanwhile app passwords do not need the queue at all.
            assert ask(port, "mobile@example.org", app) == "OK"
    finally:
        err = stop(proc)
    assert set(answers) <= {"OK", "Temporary server problem, try again later"}
    assert "OK" in answers
    assert "Temporary server problem, try again later" in answers
    assert "hash queue full" in err
