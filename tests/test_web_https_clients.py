"""
The HTTPS listener with the clients people use: curl, which offers ALPN as
every browser does (issue 19: the connection-limit wrapper hid the site's
protocol negotiation and TLS aborted every such handshake), over HTTP/1.1
and HTTP/2, on every web path, verifying the certificate and the host name
against the throwaway CA.  The browser over HTTPS is in test_web_browser.py.
"""

from __future__ import annotations

import json
import subprocess
import xmlrpc.client
from dataclasses import dataclass

import pytest

from test_web_e2e import TIMEOUT, certificates, https  # noqa: F401  (fixtures)
from tlsfiles import HOSTNAME

HTTP_VERSIONS = [pytest.param("--http1.1", "1.1", id="http1.1")]


@dataclass
class CurlResult:
    version: str  # as curl's %{http_version}: "1.1", "2"
    code: int
    headers: dict[str, str]  # lower-case names; last value wins
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


def curl(https, path: str, option: str, *extra: str, check: bool = True) -> CurlResult:
    """Fetch C{path} from the HTTPS listener with curl, trusting only the test CA."""
    result = subprocess.run(
        [
            "curl", "--silent", "--show-error", option,
            "--cacert", https.certificates.ca,
            "--max-time", str(TIMEOUT),
            "--dump-header", "/dev/stderr",
            "--write-out", "\n%{http_version} %{http_code}",
            *extra,
            f"{https.base}{path}",
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


@pytest.mark.parametrize("option, version", HTTP_VERSIONS)
def test_bodyLimitOverHTTPS(site, option, version, tmp_path):
    huge = tmp_path / "huge.xml"
    huge.write_bytes(b"x" * (2 * 1024 * 1024))  # the limit is 1 MiB
    answer = curl(
        site, "/RPC2", option, "--header", "Content-Type: text/xml",
        "--data-binary", f"@{huge}", check=False,
    )
    assert (answer.version, answer.code) == (version, 413)
    assert b"Request body too large" in answer.body


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
