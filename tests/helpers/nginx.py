"""
Debian's nginx as a TLS-terminating reverse proxy for end-to-end tests:
the shipped example (etc/nginx/finger.conf) with the test's port,
certificate and upstream put in, under a main configuration of its own
(pid, logs and temporary files in a scratch directory; in the foreground).
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from tests.helpers.support import REPO
from tests.helpers.systemdunits import freePort
from tests.helpers.tlsfiles import HOSTNAME, CertificateFiles

NGINX = "/usr/sbin/nginx"
EXAMPLE = REPO / "etc" / "nginx" / "finger.conf"

MAIN = """\
worker_processes 1;
user {user};
error_log {dir}/error.log;
pid {dir}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/finger.conf;
}}
"""


def exampleFor(port: int, upstream: int, files: CertificateFiles) -> str:
    """The shipped example configuration, listening on loopback C{port} for HOSTNAME."""
    text = EXAMPLE.read_text()
    replacements = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{port} ssl http2;",
        "server_name example.org;": f"server_name {HOSTNAME};",
        "/etc/letsencrypt/live/example.org/fullchain.pem": files.cert,
        "/etc/letsencrypt/live/example.org/privkey.pem": files.key,
        "http://127.0.0.1:8000;": f"http://127.0.0.1:{upstream};",
    }
    for old, new in replacements.items():
        assert old in text, f"{EXAMPLE} no longer has {old!r}"
        text = text.replace(old, new)
    return text


class Nginx:
    """A running nginx proxying https://HOSTNAME:port/ to 127.0.0.1:upstream."""

    def __init__(self, directory: Path, upstream: int, files: CertificateFiles) -> None:
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.port = freePort()
        (directory / "finger.conf").write_text(exampleFor(self.port, upstream, files))
        user = "root" if _isRoot() else "nobody"
        conf = directory / "nginx.conf"
        conf.write_text(MAIN.format(dir=directory, user=user))
        self.process = subprocess.Popen(
            [NGINX, "-p", str(directory), "-c", str(conf), "-g", "daemon off;"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self._waitUntilListening()

    def _waitUntilListening(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"nginx exited: {self.process.stdout.read()!r}\n{self.errors}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"nginx did not listen on {self.port}\n{self.errors}")

    @property
    def errors(self) -> str:
        log = self.dir / "error.log"
        return log.read_text() if log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _isRoot() -> bool:
    import os

    return os.geteuid() == 0
