"""
End-to-end tests of the web frontend: a real C{twistd -n finger} process,
spoken to by real clients (xmlrpc.client, urllib, curl, Python's ssl).
The browser test is in test_web_browser.py.  urllib offers no ALPN, unlike
browsers and curl: HTTPS with curl (HTTP/1.1 and HTTP/2, every web path) is
in test_web_https_clients.py.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import warnings
import xmlrpc.client

import pytest

from tests.helpers.support import LOOPBACK0, REPO, TWISTD, FingerProcess, runTwistd
from tests.helpers.tlsfiles import HOSTNAME, makeCertificates

USERS = [
    "--user",
    "alice=Happy and well",
    "--user",
    "bob=Out to lunch",
    "--user",
    "mallory=<b>bold</b>",
]
WEB = ["--finger", "none", "--setter", "none", "--web", LOOPBACK0]
TIMEOUT = 30


def fetch(url: str, context: ssl.SSLContext | None = None, headers: dict | None = None):
    """GET C{url}: (status, headers, body), whatever the status."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers, e.read()


def fetchJSON(url: str, context=None):
    code, headers, body = fetch(url, context)
    return code, headers, json.loads(body)


@pytest.fixture
def web(startFinger):
    """A service with three users and only the web frontend."""
    service = startFinger("--memory", *USERS, *WEB, expect=("web",))
    service.base = f"http://127.0.0.1:{service.port('web')}"
    return service


def test_xmlrpcClassicClient(web):
    proxy = xmlrpc.client.ServerProxy(f"{web.base}/RPC2")
    assert proxy.getUser("alice") == "Happy and well"
    assert proxy.getUsers() == ["alice", "bob", "mallory"]
    assert proxy.getUsers(1, 1) == ["bob"]
    with pytest.raises(xmlrpc.client.Fault) as fault:
        proxy.getUser("zed")
    assert (fault.value.faultCode, fault.value.faultString) == (1, "no such user: zed")
    with pytest.raises(xmlrpc.client.Fault) as fault:
        proxy.getUsers(0, 5000)
    assert fault.value.faultString == "getUsers: limit must be an integer from 1 to 1000, not 5000"
    web.waitForLog(
        r"xmlrpc query \"getUser\('zed'\)\" from 127\.0\.0\.1:\d+: 200 fault 1: no such user: zed"
    )


def test_jsonWithUrllib(web):
    code, headers, document = fetchJSON(f"{web.base}/api/users?limit=2")
    assert (code, headers["Content-Type"]) == (200, "application/json")
    assert document == {
        "users": ["alice", "bob"],
        "total": 3,
        "next": "/api/users?offset=2&limit=2",
    }
    assert fetchJSON(web.base + document["next"])[2] == {
        "users": ["mallory"],
        "total": 3,
        "next": None,
    }
    assert fetchJSON(f"{web.base}/api/users/mallory")[2] == {
        "name": "mallory",
        "status": "<b>bold</b>",
    }
    assert fetchJSON(f"{web.base}/api/users/zed")[:3:2] == (404, {"error": "no such user: zed"})
    assert fetchJSON(f"{web.base}/api/nothing")[0] == 404
    for query in ["offset=-1", "offset=a", "limit=0", "limit=1001", "limit=", "offset=1&offset=2"]:
        code, _, document = fetchJSON(f"{web.base}/api/users?{query}")
        assert code == 400 and document["error"].startswith(("offset", "limit")), query


@pytest.mark.parametrize(
    "path, status, document",
    [
        ("/api/users/bob", "200 application/json", {"name": "bob", "status": "Out to lunch"}),
        (
            "/api/users?limit=x",
            "400 application/json",
            {"error": "limit must be a whole number from 1 to 1000, not 'x'"},
        ),
    ],
    ids=["user", "bad-limit"],
)
def test_jsonWithCurl(web, path, status, document):
    result = subprocess.run(
        [
            "curl",
            "--silent",
            "--show-error",
            "--max-time",
            str(TIMEOUT),
            "--write-out",
            "\n%{http_code} %{content_type}",
            f"{web.base}{path}",
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT + 5,
        check=True,
    )
    body, answered = result.stdout.rsplit("\n", 1)
    assert answered == status
    assert json.loads(body) == document


def test_pagesAndHeaders(web):
    code, headers, body = fetch(f"{web.base}/")
    assert code == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in headers
    assert b'<a class="name" href="/alice">alice</a>' in body
    assert b"&lt;b&gt;bold&lt;/b&gt;" in body
    code, _, body = fetch(f"{web.base}/zed")
    assert code == 404 and b"There is no user called zed." in body
    code, headers, body = fetch(f"{web.base}/static/finger.css")
    assert code == 200 and headers["Content-Type"] == "text/css; charset=utf-8"


def test_queriesAreLoggedOnceWithoutAnAccessLog(web):
    fetch(f"{web.base}/alice")
    web.waitForLog(r"web query 'GET /alice' from 127\.0\.0\.1:\d+: 200 found")
    assert '"GET /alice HTTP/1.1"' not in web.log  # Twisted's combined log is off


def test_noLogQueries(startFinger):
    service = startFinger("--memory", *USERS, *WEB, "--no-log-queries", expect=("web",))
    fetch(f"http://127.0.0.1:{service.port('web')}/alice")
    assert xmlrpc.client.ServerProxy(f"http://127.0.0.1:{service.port('web')}/RPC2").getUser("bob")
    service.stop()
    assert "GET /alice" not in service.log and "getUser" not in service.log


def test_bodyOverTheLimitIsRefusedBeforeItArrives(web):
    """The 413 comes back after the headers alone: the server did not wait to buffer 100 MiB."""
    with socket.create_connection(("127.0.0.1", web.port("web")), timeout=TIMEOUT) as s:
        s.sendall(
            b"POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
            b"Content-Length: 104857600\r\n\r\n" + b"x" * 65536
        )
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413 ")
    assert reply.endswith(b"Request body too large (limit 1048576 bytes)\n")
    web.waitForLog(r"web query 'POST /RPC2' from 127\.0\.0\.1:\d+: 413 body too large")


def test_xmlrpcClientGets413ForAHugeCall(web):
    proxy = xmlrpc.client.ServerProxy(f"{web.base}/RPC2")
    with pytest.raises(xmlrpc.client.ProtocolError) as error:
        proxy.getUser("x" * (2 * 1024 * 1024))
    assert error.value.errcode == 413
    assert proxy.getUser("alice") == "Happy and well"  # and the service is fine


def test_idleConnectionsTimeOut(startFinger):
    service = startFinger("--memory", *USERS, *WEB, "--timeout", "1", expect=("web",))
    with socket.create_connection(("127.0.0.1", service.port("web")), timeout=TIMEOUT) as s:
        s.sendall(b"GET /alice HTTP/1.1\r\n")  # and then nothing
        assert s.recv(1024) == b""  # the server closed the connection


def test_webNoneDisablesTheWebFrontend(startFinger):
    service = startFinger(
        "--memory", *USERS, "--finger", LOOPBACK0, "--setter", "none", "--web", "none"
    )
    assert "web" not in service.ports


def test_customTemplates(startFinger, tmp_path):
    templates = tmp_path / "mytemplates"
    (templates / "static").mkdir(parents=True)
    (templates / "user.html").write_text(
        '<p xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1" t:render="user">'
        'Custom page: <t:slot name="name"/> is <t:slot name="status"/></p>'
    )
    (templates / "static" / "finger.css").write_text("body { color: purple; }")
    service = startFinger("--memory", *USERS, *WEB, "--templates", str(templates), expect=("web",))
    base = f"http://127.0.0.1:{service.port('web')}"
    body = fetch(f"{base}/mallory")[2].decode()
    assert "Custom page: mallory is &lt;b&gt;bold&lt;/b&gt;" in body
    assert '<header class="site">' in body  # the shipped layout, not in the custom directory
    assert fetch(f"{base}/static/finger.css")[2] == b"body { color: purple; }"


def test_brokenTemplatesStopStartup(tmp_path):
    (tmp_path / "layout.html").write_text("<html><body></html>")
    result = runTwistd(["--memory", *WEB, "--templates", str(tmp_path)], tmp_path)
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 1
    assert f"template {tmp_path / 'layout.html'}: not well-formed XML" in output
    assert "Traceback" not in output


def test_installedPackageServesItsShippedTemplates(tmp_path):
    """Installed, not run from a checkout: the templates are found inside the package."""
    source = tmp_path / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.egg-info", "__pycache__", "tests"
        ),
    )
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        timeout=300,
    )
    shipped = target / "finger" / "templates"
    assert (shipped / "layout.html").is_file() and (shipped / "static" / "finger.css").is_file()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(target), PYTHONUNBUFFERED="1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    service = FingerProcess(
        ["--memory", *USERS, *WEB],
        cwd=elsewhere,
        env=env,
        command=[*TWISTD, "-n", "--pidfile=", "finger"],
        expect=("web",),
    )
    try:
        base = f"http://127.0.0.1:{service.port('web')}"
        code, _, body = fetch(f"{base}/alice")
        assert code == 200 and b'<header class="site">' in body and b"Happy and well" in body
        assert (
            fetch(f"{base}/static/finger.css")[2]
            == (REPO / "templates/static/finger.css").read_bytes()
        )
    finally:
        service.stop()


# HTTPS


@pytest.fixture
def certificates(tmp_path):
    return makeCertificates(str(tmp_path / "tls"))


@pytest.fixture
def https(startFinger, certificates):
    """A service with web and HTTPS listeners, and a client context trusting its CA."""
    endpoint = (
        f"ssl:0:interface=127.0.0.1:privateKey={certificates.key}:certKey={certificates.cert}"
    )
    service = startFinger("--memory", *USERS, *WEB, "--https", endpoint, expect=("web", "https"))
    service.base = f"https://{HOSTNAME}:{service.port('https')}"
    service.context = ssl.create_default_context(cafile=certificates.ca)
    return service


def test_httpsWithVerification(https):
    code, headers, body = fetch(f"{https.base}/alice", https.context)
    assert code == 200 and b"Happy and well" in body
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    assert headers["X-Content-Type-Options"] == "nosniff"
    # Verification is really on: the same CA does not vouch for another name.
    with pytest.raises(ssl.SSLCertVerificationError):
        with socket.create_connection(("127.0.0.1", https.port("https")), timeout=TIMEOUT) as raw:
            https.context.wrap_socket(raw, server_hostname="elsewhere.example")
    # The same site on plain HTTP.
    assert b"Happy and well" in fetch(f"http://127.0.0.1:{https.port('web')}/alice")[2]


def tlsHandshake(port: int, version: ssl.TLSVersion, cafile: str) -> str:
    """Handshake offering only C{version} (any cipher); return the negotiated version."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile)
    context.minimum_version = context.maximum_version = version
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw:
        with context.wrap_socket(raw, server_hostname=HOSTNAME) as tls:
            return tls.version()


def acceptOnce(version: ssl.TLSVersion, certificates) -> int:
    """A throwaway Python TLS server that accepts C{version}: proves the client can offer it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.cert, certificates.key)
    context.minimum_version = context.maximum_version = version
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(TIMEOUT)

    def serve():
        with listener:
            connection, _ = listener.accept()
            with context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1)

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def test_onlyTLS12AndNewer(https, certificates):
    assert tlsHandshake(https.port("https"), ssl.TLSVersion.TLSv1_2, certificates.ca) == "TLSv1.2"
    assert tlsHandshake(https.port("https"), ssl.TLSVersion.TLSv1_3, certificates.ca) == "TLSv1.3"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1 and TLSv1_1 themselves
        for version, name in [(ssl.TLSVersion.TLSv1, "TLSv1"), (ssl.TLSVersion.TLSv1_1, "TLSv1.1")]:
            assert tlsHandshake(acceptOnce(version, certificates), version, certificates.ca) == name
            with pytest.raises(ssl.SSLError):
                tlsHandshake(https.port("https"), version, certificates.ca)


def test_webfinger(https):
    url = f"{https.base}/.well-known/webfinger?resource=acct:alice@{HOSTNAME}"
    code, headers, body = fetch(url, https.context)
    assert code == 200
    assert headers["Content-Type"] == "application/jrd+json"
    assert headers["Access-Control-Allow-Origin"] == "*"
    page = f"{https.base}/alice"
    assert json.loads(body) == {
        "subject": f"acct:alice@{HOSTNAME}",
        "aliases": [page],
        "properties": {"urn:twisted-finger:status": "Happy and well"},
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": page}
        ],
    }
    # The profile page link works, with the same verification.
    assert b"Happy and well" in fetch(page, https.context)[2]
    code, _, document = fetchJSON(
        url + "&rel=http%3A%2F%2Fwebfinger.net%2Frel%2Favatar", https.context
    )
    assert code == 200 and document["links"] == []
    https.waitForLog(rf"webfinger query 'acct:alice@{HOSTNAME}' from 127\.0\.0\.1:\d+: 200 found")


@pytest.mark.parametrize(
    "query, code",
    [
        ("", 400),
        ("resource=", 400),
        ("resource=alice", 400),
        ("resource=acct:alice", 400),
        (f"resource=acct:@{HOSTNAME}", 400),
        ("resource=acct:alice@bad%20host", 400),
        (f"resource=acct:a@{HOSTNAME}&resource=acct:b@{HOSTNAME}", 400),
        (f"resource=acct:zed@{HOSTNAME}", 404),
        ("resource=acct:alice@elsewhere.example", 404),
        (f"resource=mailto:alice@{HOSTNAME}", 404),
    ],
)
def test_webfingerErrors(https, query, code):
    got, headers, document = fetchJSON(f"{https.base}/.well-known/webfinger?{query}", https.context)
    assert got == code
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert document["error"]


def test_webfingerIsNotOnPlainHTTP(https):
    code, _, body = fetch(
        f"http://127.0.0.1:{https.port('web')}/.well-known/webfinger?resource=acct:alice@{HOSTNAME}"
    )
    assert code == 404 and b"HTTPS only" in body


@pytest.mark.parametrize(
    "endpoint, message",
    [
        (
            "ssl:0:privateKey={dir}/missing.pem:certKey={cert}",
            "cannot read the HTTPS private key {dir}/missing.pem: No such file or directory",
        ),
        (
            "ssl:0:privateKey={key}:certKey={dir}/missing.pem",
            "cannot read the HTTPS certificate {dir}/missing.pem: No such file or directory",
        ),
        (
            "ssl:0:privateKey={other}:certKey={cert}",
            "the HTTPS private key {other} does not match the certificate {cert}",
        ),
        (
            "ssl:0:privateKey={cert}:certKey={cert}",
            "the HTTPS private key {cert} is not a PEM private key",
        ),
        ("tcp:0", "--https wants an ssl: endpoint"),
        (
            "ssl:0:privateKey={key}:certKey={cert}:sslmethod=TLSv1_METHOD",
            "--https: leave out sslmethod",
        ),
    ],
)
def test_httpsStartupErrors(tmp_path, certificates, endpoint, message):
    names = dict(
        dir=certificates.dir,
        key=certificates.key,
        cert=certificates.cert,
        other=certificates.otherKey,
    )
    result = runTwistd(["--memory", *WEB, "--https", endpoint.format(**names)], tmp_path)
    output = (result.stdout + result.stderr).decode()
    assert result.returncode == 1, output
    assert f"finger: {message.format(**names)}" in output
    assert "Traceback" not in output
