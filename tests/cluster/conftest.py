"""Three kunci servers on one PostgreSQL, behind one nginx (round robin over their web
listeners and over their auth listeners): what a deployment of several nodes looks like."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from kunci_instance import Kunci  # noqa: E402
from util import free_port, nginx_temp_paths, wait_port  # noqa: E402

PG_SCRIPT = os.path.join(HERE, "..", "..", "scripts", "test-postgres.sh")


class Cluster:
    def __init__(self, root):
        self.root = root
        os.chmod(root, 0o755)
        self.pg_dir = os.path.join(root, "pg")
        self.pg_port = free_port()
        self.pg_uri = subprocess.run([PG_SCRIPT, "start", self.pg_dir, str(self.pg_port)],
                                     check=True, capture_output=True, text=True).stdout.strip()
        store = f"backend = postgresql\nlocation = {self.pg_uri}"
        self.nodes = []
        for i in range(3):
            node_root = os.path.join(root, f"node{i + 1}")
            os.mkdir(node_root)
            os.chmod(node_root, 0o755)
            # One key for the cluster: the first node's (the database refuses any other).
            k = Kunci(node_root, store=store,
                      key_from=os.path.join(self.nodes[0].data, "kunci.key") if self.nodes
                      else None)
            self.nodes.append(k)
        for k in self.nodes:
            k.start()
        self.nginx = None
        self.ports = {"auth": free_port(), "web": free_port()}
        self.start_nginx()

    def start_nginx(self):
        n = os.path.join(self.root, "nginx")
        os.makedirs(n, exist_ok=True)
        auth = "".join(f"server 127.0.0.1:{k.ports['auth']} max_fails=0;\n" for k in self.nodes)
        web = "".join(f"server 127.0.0.1:{k.ports['web']} max_fails=0;\n" for k in self.nodes)
        conf = os.path.join(n, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""daemon off;
worker_processes 1;
pid {n}/nginx.pid;
error_log {n}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
{nginx_temp_paths(n)}    upstream kunci_auth {{ {auth} keepalive 16; }}
    upstream kunci_web {{ {web} keepalive 16; }}
    server {{
        listen 127.0.0.1:{self.ports['auth']};
        location / {{
            proxy_pass http://kunci_auth;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout http_503;
            proxy_connect_timeout 1s;
        }}
    }}
    server {{
        listen 127.0.0.1:{self.ports['web']};
        location / {{
            proxy_pass http://kunci_web;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_connect_timeout 1s;
        }}
    }}
}}
""")
        self.nginx = subprocess.Popen(["nginx", "-p", n, "-c", conf])
        wait_port(self.ports["auth"], self.nginx, "nginx")
        wait_port(self.ports["web"], self.nginx, "nginx")

    def pg(self, action):
        args = [PG_SCRIPT, action, self.pg_dir]
        if action == "resume":
            args.append(str(self.pg_port))
        subprocess.run(args, check=True)

    def psql(self, sql):
        return subprocess.run(["psql", "-q", "-At", "-v", "ON_ERROR_STOP=1", self.pg_uri, "-c",
                               sql], check=True, capture_output=True, text=True).stdout

    def stop(self):
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            self.nginx.wait(10)
        try:
            for k in self.nodes:
                k.stop()
        finally:
            subprocess.run([PG_SCRIPT, "stop", self.pg_dir], check=False)


@pytest.fixture(scope="module")
def cluster():
    # Under /tmp itself: PostgreSQL runs as its own user and must reach its folder.
    root = tempfile.mkdtemp(prefix="kunci-cluster-")
    c = Cluster(root)
    try:
        yield c
    finally:
        c.stop()
        shutil.rmtree(root, ignore_errors=True)
