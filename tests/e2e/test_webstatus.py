"""
End to end: twistd finger --web-status against a local HTTPS server whose
certificate comes from a throwaway CA.
"""

from __future__ import annotations

import select
import socket
from concurrent.futures import ThreadPoolExecutor

from tests.helpers.statusserver import StatusServer
from tests.helpers.support import LOOPBACK0, finger, runTwistd
from tests.helpers.tlsca import CertificateAuthority


def webStatus(startFinger, port: int, *extra: str):
    return startFinger(
        "--web-status", f"https://localhost:{port}/{{user}}.txt", "--finger", LOOPBACK0, *extra
    )


def test_statusesOverHttps(startFinger, tmp_path):
    ca = CertificateAuthority(tmp_path)
    with StatusServer(*ca.issue("localhost")) as server:
        service = webStatus(
            startFinger, server.port, "--web-status-ca", str(ca.path), "--web-status-timeout", "3"
        )
        remote = f"status server localhost:{server.port}"
        assert finger(service.port(), "alice") == "Web alice\r\n"
        # A burst of queries for one user makes one request (cache and
        # coalescing of requests in flight).
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda _: finger(service.port(), "carol"), range(8)))
        assert replies == ["Web carol: on the web\r\n"] * 8
        assert finger(service.port(), "alice") == "Web alice\r\n"
        assert (server.requests["/carol.txt"], server.requests["/alice.txt"]) == (1, 1)
        # 404 means no such user (and is cached too).
        assert finger(service.port(), "nobody") == "No such user: nobody\r\n"
        assert finger(service.port(), "nobody") == "No such user: nobody\r\n"
        assert server.requests["/nobody.txt"] == 1
        # Names are URL-quoted; names that would change the path are rejected.
        assert finger(service.port(), "a?b#c%") == "No such user: a?b#c%\r\n"
        assert server.requests["/a%3Fb%23c%25.txt"] == 1
        assert finger(service.port(), "..") == "Error: invalid user name '..': the name is a path segment\r\n"
        assert finger(service.port(), "../x").startswith("Error: invalid user name '../x'")
        assert not [path for path in server.requests if "x.txt" in path or ".." in path]
        # Other failures give a clear line.
        assert finger(service.port(), "broken") == f"Error: {remote} answered 500 Internal Server Error\r\n"
        tooLarge = f"Error: {remote} sent a status larger than 64 KiB\r\n"
        assert finger(service.port(), "big") == tooLarge
        assert finger(service.port(), "endless") == tooLarge
        assert server.endlessStopped.wait(30)
        # A server that never answers times out, while other queries are served.
        with socket.create_connection(("127.0.0.1", service.port()), timeout=60) as pending:
            pending.sendall(b"slow\r\n")
            service.waitFor(lambda: server.requests["/slow.txt"] == 1, what="the slow request")
            assert finger(service.port(), "alice") == "Web alice\r\n"
            assert not select.select([pending], [], [], 0)[0]
            assert pending.makefile("rb").read() == (
                f"Error: {remote} did not answer within 3 seconds\r\n".encode()
            )
        # There is no list of users on the web.
        assert finger(service.port(), "") == "No one is here.\r\n"


def test_certificatesAreVerified(startFinger, tmp_path):
    ca = CertificateAuthority(tmp_path)
    with StatusServer(*ca.issue("wrong.example")) as wrongName, StatusServer(
        *ca.issue("localhost")
    ) as rightName:
        # A certificate from the trusted CA, but for another host name.
        trusting = webStatus(startFinger, wrongName.port, "--web-status-ca", str(ca.path))
        assert finger(trusting.port(), "alice") == (
            f"Error: status server localhost:{wrongName.port} TLS failed: "
            "the certificate is not valid for this host name\r\n"
        )
        # The right host name, but a CA the service does not trust.
        untrusting = webStatus(startFinger, rightName.port)
        assert finger(untrusting.port(), "alice") == (
            f"Error: status server localhost:{rightName.port} TLS failed: certificate verify failed\r\n"
        )
        assert wrongName.requests == rightName.requests == {}


def test_badCaFileStopsStartup(tmp_path):
    (tmp_path / "empty.pem").write_text("no certificates here\n")
    done = runTwistd(
        ["--web-status", "https://localhost/{user}.txt", "--web-status-ca", "empty.pem",
         "--finger", LOOPBACK0],
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert b"finger: --web-status-ca: empty.pem contains no PEM certificate" in done.stderr + done.stdout
