"""
The web channel's deadline for a request's headers (slowloris), with a
fake clock and Twisted's StringTransport: no sockets, no waiting.
"""

from __future__ import annotations

from twisted.internet import task
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionLost
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from twisted.web.static import Data

from finger import querylog
from finger.frontends.web.site import MAX_BODY, FingerSite, NegotiatedChannel
from finger.limits import LimitedFactory, Limits, RefusalProtocol
from finger.querylog import QueryLog
from tests.helpers.webclient import (
    RecordingQueryLog,
    SecureStringTransport,
    SiteClient,
    parseResponses,
)


class Transport(StringTransport):
    """
    Twisted 22.4's channel unregisters its producer twice when it closes
    after a kept-alive request; a TCP transport allows that.
    """

    def unregisterProducer(self):
        self.producer = None


class Slow(Resource):
    """Answers only when the test says so (C{pending[i].finish()})."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.pending: list = []

    def render_GET(self, request):
        self.pending.append(request)
        return NOT_DONE_YET


def channel(timeout=2.0, slow=None):
    root = Resource()
    root.putChild(b"", Data(b"hello", "text/plain"))
    if slow is not None:
        root.putChild(b"slow", slow)
    site = FingerSite(root, timeout=timeout, queryLog=QueryLog(enabled=False))
    clock = task.Clock()
    protocol = site.buildProtocol(None)
    protocol.callLater = clock.callLater
    transport = Transport()
    protocol.makeConnection(transport)
    return protocol, transport, clock


def trickle(protocol, clock, data: bytes, interval: float) -> None:
    """Feed C{data} a byte each C{interval} seconds until the channel closes."""
    for i in range(len(data)):
        if protocol.transport.disconnecting:
            return
        protocol.dataReceived(data[i : i + 1])
        clock.advance(interval)


class HeadersDeadlineTests(TestCase):
    def test_tricklingHeadersAreAbortedAtTheDeadline(self):
        protocol, transport, clock = channel()
        trickle(protocol, clock, b"GET / HTTP/1.1\r\nHost", 0.5)  # 10 s, a byte each 0.5 s
        self.assertTrue(transport.disconnecting)
        self.assertEqual(transport.value(), b"")

    def test_headersInTimeAreAnswered(self):
        protocol, transport, clock = channel()
        trickle(protocol, clock, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0.05)
        self.assertIn(b"hello", transport.value())
        self.assertFalse(transport.disconnecting)

    def test_eachKeptAliveRequestGetsItsOwnDeadline(self):
        protocol, transport, clock = channel()
        protocol.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"hello", transport.value())
        clock.advance(1.5)
        trickle(protocol, clock, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0.01)  # 0.3 s
        self.assertEqual(transport.value().count(b"hello"), 2)
        self.assertFalse(transport.disconnecting)
        trickle(protocol, clock, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0.5)
        self.assertEqual(transport.value().count(b"hello"), 2)
        self.assertTrue(transport.disconnecting)

    def test_aRequestHandledPastTheDeadlineIsNotCut(self):
        slow = Slow()
        protocol, transport, clock = channel(slow=slow)
        protocol.dataReceived(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        clock.advance(10)  # well past the headers deadline: the headers came in time
        self.assertFalse(transport.disconnecting)
        slow.pending[0].write(b"late")
        slow.pending[0].finish()
        self.assertIn(b"late", transport.value())
        # The next request's headers get a deadline of their own, from now.
        clock.advance(1.5)
        self.assertFalse(transport.disconnecting)
        protocol.dataReceived(b"GET / HTTP/1.1\r\n")
        clock.advance(1)
        self.assertTrue(transport.disconnecting)

    def test_noDeadlineWithoutATimeout(self):
        protocol, transport, clock = channel(timeout=None)
        trickle(protocol, clock, b"GET / HTTP/1.1\r\nHost", 10)
        self.assertFalse(transport.disconnecting)


# ---------------------------------------------------------------------------
# The site's requests, through the whole web frontend (moved from test_web.py):
# security headers, bounded bodies, idle timeouts, one query-log record each.
# ---------------------------------------------------------------------------


class HeaderTests(TestCase):
    def setUp(self):
        self.client = SiteClient({"alice": "Happy"})

    def assertSecurityHeaders(self, response):
        self.assertEqual(response.header("X-Content-Type-Options"), "nosniff")
        policy = response.header("Content-Security-Policy")
        self.assertIn("default-src 'none'", policy)
        self.assertNotIn("unsafe-inline", policy)
        # Scripts only from this site (/static/live.js), never inline or eval'd.
        self.assertIn("script-src 'self';", policy)
        self.assertIn("connect-src 'self';", policy)
        self.assertNotIn("unsafe-eval", policy)

    def test_everyKindOfResponseCarriesSecurityHeaders(self):
        for path in [
            "/",
            "/alice",
            "/nobody",
            "/api/users",
            "/api/nope",
            "/static/finger.css",
            "/RPC2",
        ]:
            response = self.client.get(path)
            self.assertSecurityHeaders(response)
            self.assertIsNone(response.header("Strict-Transport-Security"), path)

    def test_htmlHasCharset(self):
        for path in ["/", "/alice", "/nobody"]:
            self.assertEqual(
                self.client.get(path).header("Content-Type"), "text/html; charset=utf-8"
            )
        self.assertEqual(
            self.client.get("/static/finger.css").header("Content-Type"), "text/css; charset=utf-8"
        )

    def test_htstsOnSecureRequestsOnly(self):
        response = self.client.get("/alice", secure=True)
        self.assertEqual(response.header("Strict-Transport-Security"), "max-age=31536000")
        self.assertSecurityHeaders(response)


class BodyLimitTests(TestCase):
    def setUp(self):
        self.client = SiteClient({"alice": "Happy"})

    def test_contentLengthOverTheLimitIsRefusedBeforeTheBody(self):
        channel, transport = self.client.connect()
        channel.dataReceived(
            b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (100 * MAX_BODY,)
        )
        (response,) = parseResponses(transport.value())
        self.assertEqual(response.code, 413)
        self.assertEqual(response.text, f"Request body too large (limit {MAX_BODY} bytes)\n")
        self.assertEqual(response.header("Connection"), "close")
        # What follows is dropped unread, even a complete second request.
        transport.clear()
        channel.dataReceived(b"x" * 65536 + b"GET /alice HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(transport.value(), b"")
        self.assertEqual(
            [r[2:] for r in self.client.queryLog.records], [("POST /RPC2", "413 body too large")]
        )

    def test_chunkedBodyOverTheLimitIsRefusedAsItGrows(self):
        channel, transport = self.client.connect()
        channel.dataReceived(
            b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"%x\r\n%s\r\n" % (65536, b"y" * 65536)
        for _ in range(MAX_BODY // 65536):
            channel.dataReceived(chunk)
        self.assertEqual(transport.value(), b"")  # exactly at the limit: still reading
        channel.dataReceived(chunk + b"0\r\n\r\n")
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 413 "))
        self.assertEqual(transport.value().count(b"HTTP/1.1"), 1)

    def test_theSitesLimit(self):
        """C{FingerSite(maxBody=...)} sets the limit; by default it is L{MAX_BODY}."""
        self.assertEqual(FingerSite(Resource()).maxBody, MAX_BODY)
        self.assertIs(FingerSite(Resource()).queryLog, querylog.ENABLED)
        self.client.site = FingerSite(
            self.client.root, queryLog=self.client.queryLog, maxBody=10, reactor=self.client.clock
        )
        accepted = self.client.exchange(
            b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789"
        )
        self.assertNotEqual(accepted[0].code, 413)
        (refused,) = self.client.exchange(
            b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n"
        )
        self.assertEqual(refused.code, 413)
        self.assertEqual(refused.text, "Request body too large (limit 10 bytes)\n")

    def test_lingerThenClose(self):
        channel, transport = self.client.connect()
        channel.dataReceived(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n")
        self.assertFalse(transport.disconnecting)
        self.client.clock.advance(5)
        self.assertTrue(transport.disconnecting or transport.disconnected)

    def test_idleConnectionsTimeOut(self):
        client = SiteClient({"alice": "Happy"}, timeout=7)
        channel, transport = client.connect()
        channel.dataReceived(b"GET /alice HTTP/1.1\r\n")
        client.clock.advance(6)
        self.assertFalse(transport.disconnecting)
        client.clock.advance(2)
        self.assertTrue(transport.disconnecting)


class QueryLogTests(TestCase):
    def test_eachRequestIsLoggedOnceWithItsFrontend(self):
        client = SiteClient({"alice": "Happy"})
        client.get("/alice")
        client.get("/nobody")
        client.get("/api/users/alice")
        client.call("getUser", "alice")
        client.get("/.well-known/webfinger?resource=acct:alice@127.0.0.1", secure=True)
        self.assertEqual(
            [(frontend, query, outcome) for frontend, _, query, outcome in client.queryLog.records],
            [
                ("web", "GET /alice", "200 found"),
                ("web", "GET /nobody", "404 no such user"),
                ("api", "GET /api/users/alice", "200 found"),
                ("xmlrpc", "getUser('alice')", "200 answered"),
                ("webfinger", "acct:alice@127.0.0.1", "200 found"),
            ],
        )
        self.assertTrue(all(peer == "127.0.0.1:40000" for _, peer, _, _ in client.queryLog.records))


    def test_aRequestIsLoggedOnceWhenItsConnectionIsLostFirst(self):
        slow = Slow()
        root = Resource()
        root.putChild(b"slow", slow)
        log = RecordingQueryLog()
        site = FingerSite(root, timeout=2.0, queryLog=log)
        protocol = site.buildProtocol(None)
        protocol.callLater = task.Clock().callLater
        protocol.makeConnection(Transport())
        protocol.dataReceived(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(log.records, [])
        protocol.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(
            [(query, outcome) for _, _, query, outcome in log.records],
            [("GET /slow", "connection lost before the answer (200)")],
        )

    def test_aFinishedRequestIsLoggedOnce(self):
        client = SiteClient({"alice": "Happy"})
        channel, transport = client.connect()
        channel.dataReceived(b"GET /alice HTTP/1.1\r\nHost: x\r\n\r\n")
        channel.connectionLost(Failure(ConnectionLost()))
        self.assertEqual([r[2:] for r in client.queryLog.records], [("GET /alice", "200 found")])


class LimitsTests(TestCase):
    def test_countedWithoutAWrapperAndReleasedOnClose(self):
        client = SiteClient({"alice": "Happy"})
        limited = LimitedFactory(client.site, Limits(5, 2), "web", task.Clock())
        peer = IPv4Address("TCP", "192.0.2.9", 40000)
        protocols = [limited.buildProtocol(peer) for _ in range(3)]
        self.assertIsInstance(protocols[0], NegotiatedChannel)  # no wrapper in between
        self.assertIsInstance(protocols[2], RefusalProtocol)  # two per peer
        transport = SecureStringTransport(peer, peer)
        protocols[0].makeConnection(transport)
        protocols[0].dataReceived(b"GET /alice HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"Strict-Transport-Security", transport.value())  # the TLS transport's own
        self.assertEqual(len(limited.protocols), 2)
        protocols[0].connectionLost(Failure(ConnectionLost()))
        protocols[0].connectionLost(Failure(ConnectionLost()))  # released once only
        self.assertEqual(len(limited.protocols), 1)
        self.assertIsInstance(limited.buildProtocol(peer), NegotiatedChannel)


class NegotiationTests(TestCase):
    """What HTTPS offers in ALPN follows what Twisted can speak."""

    def test_h2OfferedOnlyWithTwistedsHTTP2(self) -> None:
        from finger.frontends.web import site

        fingerSite = site.FingerSite(Resource())
        self.patch(site, "H2_ENABLED", True)
        self.assertEqual(fingerSite.acceptableProtocols(), [b"h2", b"http/1.1"])
        self.patch(site, "H2_ENABLED", False)
        self.assertEqual(fingerSite.acceptableProtocols(), [b"http/1.1"])

    def test_plainConnectionsStayHTTP11(self) -> None:
        """Without TLS (no negotiated protocol) the channel is the bounded HTTP/1.1 one."""
        from finger.frontends.web.site import BoundedHTTPChannel

        channel, transport = SiteClient({"alice": "Happy and well"}).connect()
        channel.dataReceived(b"GET /alice HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIsInstance(channel.channel, BoundedHTTPChannel)
        self.assertIn(b"Happy and well", transport.value())
