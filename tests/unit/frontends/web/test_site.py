"""
The web channel's deadline for a request's headers (slowloris), with a
fake clock and Twisted's StringTransport: no sockets, no waiting.
"""

from __future__ import annotations

from twisted.internet import task
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import TestCase
from twisted.web.resource import Resource
from twisted.web.static import Data

from finger.frontends.web.site import FingerSite


class Transport(StringTransport):
    """
    Twisted 22.4's channel unregisters its producer twice when it closes
    after a kept-alive request; a TCP transport allows that.
    """

    def unregisterProducer(self):
        self.producer = None


def channel(timeout=2.0):
    root = Resource()
    root.putChild(b"", Data(b"hello", "text/plain"))
    site = FingerSite(root, timeout=timeout)
    site.queryLog = type("NoLog", (), {"record": lambda *a: None})()
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

    def test_noDeadlineWithoutATimeout(self):
        protocol, transport, clock = channel(timeout=None)
        trickle(protocol, clock, b"GET / HTTP/1.1\r\nHost", 10)
        self.assertFalse(transport.disconnecting)
