"""
The HTTPS listener with the clients people use: curl, which offers ALPN as
every browser does (issue 19: the connection-limit wrapper hid the site's
protocol negotiation and TLS aborted every such handshake), over HTTP/1.1
and HTTP/2, on every web path, verifying the certificate and the host name
against the throwaway CA.  The browser over HTTPS is in test_web_browser.py, the e2e tests with
urllib (no ALPN) in test_web.py.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import time
import xmlrpc.client
from dataclasses import dataclass

import pytest
from twisted.web import http

from tests.e2e.test_web import TIMEOUT, USERS, certificates, https  # noqa: F401  (fixtures)
from tests.helpers.tlsfiles import HOSTNAME

# Twisted speaks HTTP/2 when the h2 package (Debian: python3-h2) is there;
# HTTPS then offers h2 in ALPN.  Without it, the h2 tests skip, and
# test_withoutH2OnlyHTTP11IsOffered checks that h2 is not offered.
NO_H2 = pytest.mark.skipif(
    not http.H2_ENABLED, reason="Twisted's HTTP/2 support (the h2 package) is not installed"
)
HTTP_VERSIONS = [
    pytest.param("--http1.1", "1.1", id="http1.1"),
    pytest.param("--http2", "2", id="http2", marks=NO_H2),
]


@dataclass
class CurlResult:
    version: str  # as curl's %{http_version}: "1.1", "2"
    code: int
    headers: dict[str, str]  # lower-case names; last value wins
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


def curl(service, path: str, option: str, *extra: str, check: bool = True) -> CurlResult:
    # Like a browser, curl offers h2 and http/1.1 in ALPN either way (with
    # --http1.1: http/1.1 only); the server's choice shows in %{http_version}.
    """Fetch C{path} from the HTTPS listener with curl, trusting only the test CA."""
    result = subprocess.run(
        [
            "curl", "--silent", "--show-error", option,
            "--cacert", service.certificates.ca,
            "--max-time", str(TIMEOUT),
            "--dump-header", "/dev/stderr",
            "--write-out", "\n%{http_version} %{http_code}",
            *extra,
            f"{service.base}{path}",
        ],
        capture_output=True,
        timeout=TIMEOUT + 5,
    )
    if check:
        assert result.returncode == 0, result.stderr.decode()
    body, _, status = result.stdout.rpartition(b"\n")
    version, code = status.decode().split()
    headers = {}
    for line in result.stderr.decode("latin-1").splitlines():
        name, colon, value = line.partition(":")
        if colon and not name.startswith(("curl", "HTTP/")):
            headers[name.strip().lower()] = value.strip()
    return CurlResult(version, int(code), headers, body)


@pytest.fixture
def site(https, certificates):  # noqa: F811
    https.certificates = certificates
    return https


@pytest.mark.parametrize("option, version", HTTP_VERSIONS)
def test_pagesOverHTTPS(site, option, version):
    page = curl(site, "/alice", option)
    assert (page.version, page.code) == (version, 200)
    assert b"Happy and well" in page.body
    assert page.headers["strict-transport-security"] == "max-age=31536000"
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    listing = curl(site, "/", option)
    assert listing.code == 200 and b"mallory" in listing.body
    assert b"&lt;b&gt;bold&lt;/b&gt;" in listing.body
    assert curl(site, "/zed", option).code == 404
    assert curl(site, "/static/finger.css", option).code == 200


@pytest.mark.parametrize("option, version", HTTP_VERSIONS)
def test_jsonOverHTTPS(site, option, version):
    user = curl(site, "/api/users/alice", option)
    assert (user.version, user.code, user.headers["content-type"]) == (
        version, 200, "application/json",
    )
    assert user.json == {"name": "alice", "status": "Happy and well"}
    users = curl(site, "/api/users?limit=2", option)
    assert users.json["users"] == ["alice", "bob"]
    assert curl(site, "/api/users/zed", option).code == 404


@pytest.mark.parametrize("option, version", HTTP_VERSIONS)
def test_xmlrpcOverHTTPS(site, option, version):
    call = xmlrpc.client.dumps(("alice",), "getUser")
    answer = curl(
        site, "/RPC2", option, "--header", "Content-Type: text/xml", "--data-binary", call
    )
    assert (answer.version, answer.code) == (version, 200)
    assert xmlrpc.client.loads(answer.body)[0] == ("Happy and well",)
    unknown = xmlrpc.client.dumps(("zed",), "getUser")
    fault = curl(site, "/RPC2", option, "--data-binary", unknown).body
    with pytest.raises(xmlrpc.client.Fault, match="no such user: zed"):
        xmlrpc.client.loads(fault)


@pytest.mark.parametrize("option, version", HTTP_VERSIONS)
def test_webfingerOverHTTPS(site, option, version):
    found = curl(site, f"/.well-known/webfinger?resource=acct:alice@{HOSTNAME}", option)
    assert (found.version, found.code) == (version, 200)
    assert found.headers["content-type"] == "application/jrd+json"
    assert found.headers["access-control-allow-origin"] == "*"
    assert found.json["properties"] == {"urn:twisted-finger:status": "Happy and well"}
    assert curl(site, "/.well-known/webfinger?resource=alice", option).code == 400


@pytest.fixture
def huge(tmp_path):
    path = tmp_path / "huge.xml"
    path.write_bytes(b"x" * (2 * 1024 * 1024))  # the limit is 1 MiB
    return path


def test_bodyLimitOverHTTPS(site, huge):
    answer = curl(
        site, "/RPC2", "--http1.1", "--header", "Content-Type: text/xml",
        "--data-binary", f"@{huge}", check=False,
    )
    assert (answer.version, answer.code) == ("1.1", 413)
    assert b"Request body too large" in answer.body


@NO_H2
@pytest.mark.parametrize("length", ["declared", "chunked"])
def test_bodyLimitOverHTTP2ResetsTheStream(site, huge, length):
    """
    Over HTTP/2 a body over the limit resets its stream (curl: exit 92); the
    connection goes on serving (curl's --next reuses it: no new connect).
    """
    noLength = ["--header", "Content-Length:"] if length == "chunked" else []
    result = subprocess.run(
        [
            "curl", "--silent", "--http2", "--cacert", site.certificates.ca,
            "--max-time", str(TIMEOUT), *noLength, "--data-binary", f"@{huge}",
            "--output", "/dev/null", f"{site.base}/RPC2",
            "--next", "--http2", "--cacert", site.certificates.ca,
            "--write-out", "%{http_version} %{http_code} %{num_connects}",
            f"{site.base}/api/users/alice",
        ],
        capture_output=True, timeout=TIMEOUT + 5,
    )
    assert result.returncode == 0, result.stderr  # the last transfer's
    assert result.stdout.endswith(b'"Happy and well"\n}\n2 200 0')
    site.waitForLog(
        r"web query 'POST /RPC2' from 127\.0\.0\.1:\d+: "
        r"stream reset: body too large \(limit 1048576 bytes\)"
    )


@pytest.mark.parametrize("option", ["--http1.1", "--http2"])
def test_certificateAndHostNameAreVerified(site, option):
    """curl refuses a name the certificate is not for, and a server its CA did not sign."""
    port = site.port("https")
    wrongName = subprocess.run(
        ["curl", "--silent", option, "--cacert", site.certificates.ca,
         "--resolve", f"elsewhere.example:{port}:127.0.0.1",
         f"https://elsewhere.example:{port}/alice"],
        capture_output=True, timeout=TIMEOUT,
    )
    assert wrongName.returncode == 60  # CURLE_PEER_FAILED_VERIFICATION
    untrusted = subprocess.run(
        ["curl", "--silent", option, f"https://{HOSTNAME}:{port}/alice"],
        capture_output=True, timeout=TIMEOUT,
    )
    assert untrusted.returncode == 60


def h2Handshake(port: int, ca: str, offer: list[str]) -> ssl.SSLSocket:
    """A TLS connection offering C{offer} in ALPN, as a browser offers h2 and http/1.1."""
    context = ssl.create_default_context(cafile=ca)
    context.set_alpn_protocols(offer)
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    return context.wrap_socket(raw, server_hostname=HOSTNAME)


@NO_H2
def test_http2IdleTimeout(startFinger, certificates):  # noqa: F811
    """
    An HTTP/2 connection left idle gets a GOAWAY after --timeout (a client
    then closes; Twisted aborts one that does not 15 s later).  The client
    is the h2 library, Twisted's own HTTP/2 implementation.
    """
    import h2.connection
    import h2.events

    endpoint = f"ssl:0:interface=127.0.0.1:privateKey={certificates.key}:certKey={certificates.cert}"
    service = startFinger(
        "--memory", *USERS, "--finger", "none", "--setter", "none", "--timeout", "1",
        "--https", endpoint, expect=("https",),
    )
    with h2Handshake(service.port("https"), certificates.ca, ["h2", "http/1.1"]) as tls:
        assert tls.selected_alpn_protocol() == "h2"
        client = h2.connection.H2Connection()
        client.initiate_connection()
        tls.sendall(client.data_to_send())
        started = time.monotonic()
        events: list = []
        while not any(isinstance(e, h2.events.ConnectionTerminated) for e in events):
            data = tls.recv(65536)
            assert data, f"closed without a GOAWAY after {events}"
            events += client.receive_data(data)
            tls.sendall(client.data_to_send())  # SETTINGS acknowledgement
        waited = time.monotonic() - started
    assert 0.5 < waited < 10, waited


@NO_H2
def test_connectionLimitsApplyToHTTP2(startFinger, certificates):  # noqa: F811
    """--max-connections-per-peer counts HTTP/2 connections like any other."""
    endpoint = f"ssl:0:interface=127.0.0.1:privateKey={certificates.key}:certKey={certificates.cert}"
    service = startFinger(
        "--memory", *USERS, "--finger", "none", "--setter", "none",
        "--max-connections-per-peer", "1", "--https", endpoint, expect=("https",),
    )
    with h2Handshake(service.port("https"), certificates.ca, ["h2", "http/1.1"]) as first:
        assert first.selected_alpn_protocol() == "h2"
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            with h2Handshake(service.port("https"), certificates.ca, ["h2", "http/1.1"]) as second:
                assert second.recv(1) == b""  # closed at once, if the handshake got through
                raise ConnectionError("closed")
    service.waitForLog(r"https: 1 connections open from 127\.0\.0\.1")


def test_alpnOffersWhatTheServerSpeaks(https, certificates):  # noqa: F811
    """h2 first when Twisted speaks HTTP/2, else http/1.1 only (h2 is then never chosen)."""
    port = https.port("https")
    with h2Handshake(port, certificates.ca, ["h2", "http/1.1"]) as tls:
        assert tls.selected_alpn_protocol() == ("h2" if http.H2_ENABLED else "http/1.1")
    with h2Handshake(port, certificates.ca, ["http/1.1"]) as tls:
        assert tls.selected_alpn_protocol() == "http/1.1"
