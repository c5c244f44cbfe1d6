"""
Test helpers for the web frontend: drive a real L{FingerSite} over
Twisted's L{StringTransport} (unit tests), and parse raw HTTP responses.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import urllib.parse
import xmlrpc.client
from dataclasses import dataclass
from html.parser import HTMLParser

from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import TestCase
from twisted.web.resource import IResource
from zope.interface import implementer

from finger.adapt import frontend
from finger.backends.memory import MemoryFingerService
from finger.frontends.web.forwarded import NO_TRUSTED_PROXIES, TrustedProxies
from finger.frontends.web.root import WebSettings
from finger.frontends.web.site import FingerSite
from finger.frontends.web.templates import Templates
from finger.frontends.web.webfinger import WebFingerSettings
from finger.querylog import QueryLog

CLIENT = IPv4Address("TCP", "127.0.0.1", 40000)
SERVER = IPv4Address("TCP", "127.0.0.1", 8000)


@implementer(ISSLTransport)
class SecureStringTransport(StringTransport):
    """A StringTransport that says it is TLS (so requests are secure)."""

    def getPeerCertificate(self):
        return None

    def setTcpNoDelay(self, enabled):
        pass


@dataclass
class Response:
    code: int
    headers: dict[str, str]  # lower-case names; last value wins
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def parseResponses(raw: bytes) -> list[Response]:
    """Split raw HTTP/1.1 responses (each with a Content-Length) apart."""
    responses = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        statusLine, *headerLines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in headerLines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", len(rest)))
        responses.append(Response(int(statusLine.split()[1]), headers, rest[:length]))
        raw = rest[length:]
    return responses


class RecordingQueryLog(QueryLog):
    """A query log that keeps what it records, for assertions."""

    def __init__(self) -> None:
        super().__init__(enabled=True)
        self.records: list[tuple[str, str, str, str]] = []
        self.writers: list[tuple[str | None, str | None]] = []  # (account, target) of writes

    def record(self, frontend, peer, query, outcome, started, **write) -> None:
        self.records.append((frontend, peer, query, outcome))
        if write:
            self.writers.append((write["account"], write["target"]))
        super().record(frontend, peer, query, outcome, started, **write)


class SiteClient:
    """A real L{FingerSite} over a memory backend, spoken to in raw HTTP."""

    def __init__(
        self,
        users=None,
        service=None,
        templates: Templates | None = None,
        timeout: float = 60,
        webfinger: WebFingerSettings | None = None,
        trustedProxies: TrustedProxies = NO_TRUSTED_PROXIES,
        accounts=None,
        sessions=None,
    ) -> None:
        self.service = service if service is not None else MemoryFingerService(users or {})
        settings = WebSettings(
            templates=templates,
            webfinger=webfinger or WebFingerSettings(),
            accounts=accounts,
            sessions=sessions,
        )
        self.root = frontend(IResource, self.service, settings)
        self.clock = MemoryReactorClock()
        self.queryLog = RecordingQueryLog()
        self.site = FingerSite(
            self.root, timeout=timeout, reactor=self.clock, queryLog=self.queryLog,
            trustedProxies=trustedProxies,
        )

    def connect(self, secure: bool = False, peer: str | IPv4Address = CLIENT.host):
        """A new connection from C{peer} (an address, or just its host): (channel, transport)."""
        client = peer if isinstance(peer, IPv4Address) else IPv4Address("TCP", peer, CLIENT.port)
        channel = self.site.buildProtocol(client)
        transport = (SecureStringTransport if secure else StringTransport)(SERVER, client)
        channel.makeConnection(transport)
        return channel, transport

    def exchange(
        self, data: bytes, secure: bool = False, peer: str | IPv4Address = CLIENT.host
    ) -> list[Response]:
        channel, transport = self.connect(secure, peer)
        channel.dataReceived(data)
        return parseResponses(transport.value())

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        cookie: str | None = None,
        secure: bool = False,
        peer: str | IPv4Address = CLIENT,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """One request, with a urlencoded C{form} body and a C{Cookie} header if given."""
        body = urllib.parse.urlencode(form).encode("ascii") if form is not None else b""
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1:8000", "Connection: close"]
        head.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        if cookie is not None:
            head.append(f"Cookie: {cookie}")
        if form is not None:
            head.append("Content-Type: application/x-www-form-urlencoded")
            head.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("utf-8") + body
        responses = self.exchange(data, secure, peer)
        assert len(responses) == 1, responses
        return responses[0]

    def get(
        self,
        path: str,
        secure: bool = False,
        host: str = "127.0.0.1:8000",
        method: str = "GET",
        headers: dict[str, str] | None = None,
        peer: str = CLIENT.host,
    ) -> Response:
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        request = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n"
        )
        responses = self.exchange(request.encode("utf-8"), secure, peer)
        assert len(responses) == 1, responses
        return responses[0]

    def post(self, path: str, body: bytes, contentType: str = "text/xml") -> Response:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: {contentType}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        responses = self.exchange(head.encode("ascii") + body)
        assert len(responses) == 1, responses
        return responses[0]

    def call(self, method: str, *args):
        """An XML-RPC call through the site; returns the result or raises the Fault."""
        response = self.post("/RPC2", xmlrpc.client.dumps(args, method).encode("utf-8"))
        assert response.code == 200, response
        (result,), _ = xmlrpc.client.loads(response.body)
        return result


# Shared by the web frontend's unit tests (tests/unit/frontends/web/):
# a hostile status, a scratch directory, and reading the pages' links.

SCRIPT = "<script>alert(1)</script>"


def temporaryDirectory(test: TestCase) -> str:
    """A fresh directory, removed after the test."""
    directory = tempfile.mkdtemp(prefix="finger-web-test-")
    test.addCleanup(shutil.rmtree, directory, True)
    return directory


class Links(HTMLParser):
    """Collects the elements of a page: anchors (href, text) and element text by class."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.anchors: list[tuple[str | None, str]] = []
        self.scripts: list[str | None] = []  # each script's src (None: inline)
        self._anchor: list | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs).get("src"))
        if tag == "a":
            self._anchor = [dict(attrs).get("href"), ""]

    def handle_data(self, data):
        if self._anchor is not None:
            self._anchor[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._anchor is not None:
            self.anchors.append(tuple(self._anchor))
            self._anchor = None


def userLinks(html: str) -> list[tuple[str | None, str]]:
    """The anchors of the user list (those with class 'name')."""
    return re.findall(r'<a class="name"(?: href="([^"]*)")?>([^<]*)</a>', html)
