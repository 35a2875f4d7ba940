"""Under load the auth listener stays correct, on either store: many primary-password checks
at once, app passwords answered meanwhile, and a full hash queue answers "try again later",
never OK."""

import concurrent.futures
import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from conftest import KUNCI, STORE, free_port, wait_port


def store_section(env):
    """SQLite in the test's folder, or a database of its own on the suite's PostgreSQL."""
    if STORE != "postgresql":
        return ""
    name = f"overload_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", "-q", env.pg_uri, "-c", f"CREATE DATABASE {name}"], check=True,
                   capture_output=True)
    return f"backend = postgresql\nlocation = {env.pg_uri.rsplit('/', 1)[0]}/{name}\n"


def start(tmp_path, extra, store=""):
    data, auth, web = tmp_path / "data", free_port(), free_port()
    conf = tmp_path / "kunci.conf"
    conf.write_text(f"[store]\ndata_dir = {data}\n{store}[serve]\n"
                    f"auth_listen = 127.0.0.1:{auth}\n"
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


TEMP = "Temporary server problem, try again later"


def stop(proc):
    proc.terminate()
    _, err = proc.communicate(timeout=20)
    assert "Sanitizer" not in err and "runtime error:" not in err, err
    return err


def test_many_checks_at_once_are_all_right(tmp_path, env):
    proc, port, app = start(tmp_path, "threads = 2\nhash_workers = 2\nhash_queue = 256",
                            store_section(env))
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


def test_a_full_hash_queue_says_try_again_later(tmp_path, env):
    proc, port, app = start(tmp_path, "threads = 4\nhash_workers = 1\nhash_queue = 1",
                            store_section(env))

    def timed(user, password):
        answer = ask(port, user, password)
        return answer, time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=17) as pool:
            primary = [pool.submit(timed, "legacy@example.org", "Legacy-pass-1")
                       for _ in range(16)]
            # The first answer is a refusal: the queue is full now...
            done, _ = concurrent.futures.wait(primary, return_when=concurrent.futures.FIRST_COMPLETED)
            assert [f.result()[0] for f in done][0] == TEMP
            # ...and meanwhile app passwords do not need it at all.
            app_answer, app_at = pool.submit(timed, "mobile@example.org", app).result()
            answers = [f.result()[0] for f in primary]
            last_ok = max(f.result()[1] for f in primary if f.result()[0] == "OK")
    finally:
        err = stop(proc)
    assert app_answer == "OK"
    assert app_at < last_ok  # answered while Argon2id checks were still queued or running
    assert set(answers) <= {"OK", TEMP}
    assert "OK" in answers
    assert "Temporary server problem, try again later" in answers
    assert "hash queue full" in err


def test_web_sign_ins_wait_on_the_hash_pool_not_on_the_web_threads(tmp_path, env):
    """A flood of web sign-ins takes the hash pool (a full one says try again later), not
    the web listener's one thread: a page asked for meanwhile is answered before the last
    sign-in is."""
    data_extra = "threads = 1\nhash_workers = 1\nhash_queue = 1"
    proc, _, _ = start(tmp_path, data_extra, store_section(env))
    conf = (tmp_path / "kunci.conf").read_text()
    web = int(conf.split("web_listen = 127.0.0.1:")[1].split("\n")[0])

    def sign_in():
        req = urllib.request.Request(
            f"http://127.0.0.1:{web}/api/v1/session", method="POST",
            data=b'{"login": "legacy@example.org", "password": "Legacy-pass-1"}',
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        return status, time.monotonic()

    def page():
        with urllib.request.urlopen(f"http://127.0.0.1:{web}/api/v1/config", timeout=60) as r:
            return r.status, time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=13) as pool:
            signing = [pool.submit(sign_in) for _ in range(12)]
            done, _ = concurrent.futures.wait(signing,
                                              return_when=concurrent.futures.FIRST_COMPLETED)
            page_status, page_at = pool.submit(page).result()
            answers = [f.result()[0] for f in signing]
            last_ok = max(f.result()[1] for f in signing if f.result()[0] == 200)
    finally:
        err = stop(proc)
    assert page_status == 200
    assert page_at < last_ok  # answered while sign-ins were still on the pool
    assert set(answers) <= {200, 503}
    assert 200 in answers and 503 in answers
    assert "event=web.overload" in err and "hash queue full" in err
