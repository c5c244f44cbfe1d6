"""
The connection limits on the other listeners (web, HTTPS, PB), end to end:
a connection beyond the limits is closed at once while the others are
served; and the web's refusals still reach an HTTPS client.
"""

from __future__ import annotations

import ssl

from tests.helpers.abuse import assertNoErrors, connect, openConnections, readAll
from tests.helpers.support import LOOPBACK0
from tests.helpers.tlsfiles import HOSTNAME, makeCertificates

ONLY_ALICE = ("--memory", "--user", "alice=Happy and well", "--finger", "none", "--setter", "none")
GET_ALICE = b"GET /api/users/alice HTTP/1.1\r\nHost: x\r\n\r\n"


def test_webConnectionLimit(startFinger):
    service = startFinger(*ONLY_ALICE, "--web", LOOPBACK0, "--max-connections", "3",
                          expect=("web",))
    port = service.port("web")
    held = openConnections(port, 3)
    refused = connect(port)
    assert readAll(refused) == b""  # closed at once, without an answer
    refused.close()
    for s in held:  # keep-alive connections, all still served
        s.sendall(GET_ALICE)
        assert s.recv(65536).startswith(b"HTTP/1.1 200 ")
        s.close()
    service.waitForLog(r"web: accepting connections again; 1 refused")
    assertNoErrors(service)


def test_pbConnectionLimitPerClient(startFinger):
    """Beyond --max-connections-per-peer, a PB client is closed before any greeting."""
    service = startFinger(*ONLY_ALICE, "--web", "none", "--pb", LOOPBACK0,
                          "--max-connections-per-peer", "2", expect=("pb",))
    port = service.port("pb")
    held = openConnections(port, 2)
    for s in held:
        assert s.recv(100) != b""  # the Banana greeting: served
    refused = connect(port)
    assert readAll(refused) == b""
    other = connect(port, "127.0.0.2")
    assert other.recv(100) != b""
    for s in [*held, refused, other]:
        s.close()
    assertNoErrors(service)


def test_httpsRefusalIsReadOverTLS(startFinger, tmp_path):
    """
    The web's own refusal (413, a body too large), which half-closes on
    plain TCP, reaches an HTTPS client through the limits wrapper.
    """
    files = makeCertificates(str(tmp_path / "tls"))
    endpoint = f"ssl:0:interface=127.0.0.1:privateKey={files.key}:certKey={files.cert}"
    service = startFinger(*ONLY_ALICE, "--web", "none", "--https", endpoint, expect=("https",))
    context = ssl.create_default_context(cafile=files.ca)
    with connect(service.port("https")) as raw:
        with context.wrap_socket(raw, server_hostname=HOSTNAME) as tls:
            tls.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")
            reply = b""
            try:
                while chunk := tls.recv(65536):
                    reply += chunk
            except (ssl.SSLEOFError, ConnectionResetError):
                pass
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:200]
    assertNoErrors(service)
