"""
The web frontend behind Debian's nginx, a TLS-terminating reverse proxy
configured as the README shows (etc/nginx/finger.conf), with a throwaway CA:
pages and WebFinger through it, the real client's address in the query log
(clients send from 127.0.0.2, nginx from 127.0.0.1), forged headers sent
directly from an untrusted address changing nothing, and a real fediverse
WebFinger client library (Fedify's, on node) resolving acct:alice@... to
the actor URL of the --webfinger file.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import ssl
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.helpers.nginx import Nginx
from tests.helpers.support import REPO
from tests.helpers.tlsfiles import HOSTNAME, makeCertificates

CLIENT = "127.0.0.2"  # a client; nginx connects to finger from 127.0.0.1
FORGER = "127.0.0.3"  # a client that speaks to finger directly
ACTOR = "https://social.example/users/alice"
PROFILE = "https://social.example/@alice"
NODE_DIR = REPO / "tests" / "node"
ENTRIES = {
    "alice": {
        "aliases": [PROFILE],
        "links": [
            {"rel": "self", "type": "application/activity+json", "href": ACTOR},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": PROFILE},
        ],
    },
    "carol": {"links": [{"rel": "self", "type": "application/activity+json",
                         "href": "https://social.example/users/carol"}]},
}
FORGED = {
    "X-Forwarded-For": "203.0.113.66",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "evil.example",
    "Forwarded": "for=203.0.113.66;proto=https;host=evil.example",
}


class Proxied:
    def __init__(self, service, nginx, files, webfingerFile: Path) -> None:
        self.service = service
        self.nginx = nginx
        self.files = files
        self.webfingerFile = webfingerFile
        self.context = ssl.create_default_context(cafile=files.ca)
        self.host = f"{HOSTNAME}:{nginx.port}"

    def get(self, path: str, headers=None, source: str = CLIENT):
        """GET through nginx (HTTPS) from C{source}: (status, headers, body)."""
        connection = http.client.HTTPSConnection(
            HOSTNAME, self.nginx.port, context=self.context, timeout=10,
            source_address=(source, 0),
        )
        return _exchange(connection, path, headers)

    def direct(self, path: str, headers=None, source: str = FORGER):
        """GET from finger's own (plain HTTP) listener, bypassing nginx."""
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.service.port("web"), timeout=10, source_address=(source, 0)
        )
        return _exchange(connection, path, headers)

    def webfinger(self, resource: str, **kwargs):
        code, headers, body = self.get(
            f"/.well-known/webfinger?resource={quote(resource, safe='')}", **kwargs
        )
        return code, headers, json.loads(body)


def _exchange(connection, path, headers):
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@pytest.fixture
def proxied(startFinger, tmp_path):
    files = makeCertificates(str(tmp_path / "tls"))
    os.chmod(tmp_path, 0o755)
    webfingerFile = tmp_path / "webfinger.json"
    webfingerFile.write_text(json.dumps(ENTRIES))
    service = startFinger(
        "--memory", "--user", "alice=Happy and well", "--user", "bob=Here",
        "--finger", "none", "--web", "tcp:0:interface=127.0.0.1",
        "--trusted-proxy", "127.0.0.1", "--webfinger", str(webfingerFile), "--refresh", "1",
        expect=("web",),
    )
    nginx = Nginx(tmp_path / "nginx", service.port("web"), files)
    yield Proxied(service, nginx, files, webfingerFile)
    nginx.stop()


def test_pagesThroughNginxAndTheRealClientInTheLog(proxied):
    code, headers, body = proxied.get("/alice")
    assert code == 200 and b"Happy and well" in body
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    proxied.service.waitForLog(rf"web query 'GET /alice' from {CLIENT} via 127\.0\.0\.1:\d+: 200")
    code, headers, body = proxied.get("/api/users/alice")
    assert code == 200 and json.loads(body)["status"] == "Happy and well"
    assert headers["Access-Control-Allow-Origin"] == "*"
    tag = headers["ETag"]
    code, _, body = proxied.get("/api/users/alice", headers={"If-None-Match": tag})
    assert code == 304 and body == b""


def test_forgedHeadersThroughNginxDoNotHideTheClient(proxied):
    """nginx appends the real peer: the client's own X-Forwarded-For is left of it."""
    code, _, document = proxied.webfinger(f"acct:alice@{proxied.host}", headers=FORGED)
    assert code == 200
    assert document["aliases"][0] == f"https://{proxied.host}/alice"  # not evil.example
    proxied.service.waitForLog(rf"webfinger query .* from {CLIENT} via 127\.0\.0\.1:\d+: 200")
    assert "203.0.113.66" not in proxied.service.log


def test_forgedHeadersSentDirectlyChangeNothing(proxied):
    path = f"/.well-known/webfinger?resource=acct:alice@{HOSTNAME}"
    plain = proxied.direct(path)
    forged = proxied.direct(path, headers=FORGED)
    for code, headers, body in (plain, forged):
        assert code == 404 and "HTTPS only" in json.loads(body)["error"]
        assert "Strict-Transport-Security" not in headers
    code, headers, _ = proxied.direct("/alice", headers=FORGED)
    assert code == 200 and "Strict-Transport-Security" not in headers
    proxied.service.waitForLog(rf"web query 'GET /alice' from {FORGER}:\d+: 200")
    assert "203.0.113.66" not in proxied.service.log


@pytest.mark.parametrize(
    "resource",
    ["acct:alice@{host}", "alice@{host}", "@alice@{host}", "acct:alice@{HOST}",
     "https://{host}/alice", PROFILE],
)
def test_everyResourceForm(proxied, resource):
    given = resource.format(host=proxied.host, HOST=proxied.host.upper())
    code, headers, document = proxied.webfinger(given)
    assert code == 200, document
    assert headers["Content-Type"] == "application/jrd+json"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Cache-Control"] == "max-age=300"
    assert document["subject"] == f"acct:alice@{proxied.host}"
    assert {"rel": "self", "type": "application/activity+json", "href": ACTOR} in document["links"]


@pytest.mark.parametrize(
    "resource, code",
    [("acct:alice@elsewhere.example", 404), ("acct:nobody@{host}", 404), ("alice", 400)],
)
def test_foreignDomainUnknownUserAndBadResource(proxied, resource, code):
    got, headers, document = proxied.webfinger(resource.format(host=proxied.host))
    assert got == code and document["error"]
    assert headers["Access-Control-Allow-Origin"] == "*"


def test_hostMetaThroughNginx(proxied):
    code, headers, body = proxied.get("/.well-known/host-meta.json")
    assert code == 200 and headers["Access-Control-Allow-Origin"] == "*"
    [link] = json.loads(body)["links"]
    assert link["template"] == f"https://{proxied.host}/.well-known/webfinger?resource={{uri}}"
    code, headers, body = proxied.get("/.well-known/host-meta")
    assert code == 200 and b'rel="lrdd"' in body


def test_badFileKeepsTheLastGoodData(proxied):
    proxied.webfingerFile.write_text('{"alice": {"links": [{"href": "https://x.example/"}]}}')
    proxied.service.waitForLog(r'needs a "rel".*keeping the last good WebFinger data \(2 users\)')
    _, _, document = proxied.webfinger(f"acct:alice@{proxied.host}")
    assert {"rel": "self", "type": "application/activity+json", "href": ACTOR} in document["links"]
    replacement = dict(ENTRIES, alice={"links": [{"rel": "self", "href": "https://x.example/a"}]})
    proxied.webfingerFile.write_text(json.dumps(replacement))
    proxied.service.waitForLog(r"Loaded WebFinger data for 2 users", timeout=10)
    proxied.service.waitFor(
        lambda: proxied.webfinger(f"acct:alice@{proxied.host}")[2]["links"][-1]["href"]
        == "https://x.example/a",
        10, "the new file",
    )


def test_fediverseClientLibraryResolvesTheActor(proxied):
    """Fedify's lookupWebFinger, as Fedify-based servers call it, through nginx."""
    node = shutil.which("node")
    assert node, "node is missing (tests/run.sh installs nodejs)"
    assert (NODE_DIR / "node_modules" / "@fedify" / "webfinger").is_dir(), (
        "run: npm ci --prefix tests/node (tests/run.sh does)"
    )
    result = subprocess.run(
        [node, "webfinger-lookup.mjs", f"acct:alice@{proxied.host}"],
        cwd=NODE_DIR, capture_output=True, text=True, timeout=60,
        env=dict(os.environ, NODE_EXTRA_CA_CERTS=proxied.files.ca),
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document is not None, f"Fedify found nothing\n{proxied.nginx.errors}"
    actors = [link["href"] for link in document["links"]
              if link["rel"] == "self" and link.get("type") == "application/activity+json"]
    assert actors == [ACTOR]
    proxied.service.waitForLog(r"webfinger query 'acct:alice@.*' from 127\.0\.0\.1 via")


def test_readmeShowsTheTestedConfiguration():
    """The README's nginx example is etc/nginx/finger.conf, which these tests run."""
    readme = (REPO / "README.md").read_text()
    shown = readme.split("```nginx\n", 1)[1].split("```", 1)[0]
    tested = (REPO / "etc" / "nginx" / "finger.conf").read_text()

    def lines(text):
        return [line.strip() for line in text.splitlines()
                if line.strip() and not line.strip().startswith("#")]

    assert lines(shown) == lines(tested)
