"""
finger._compat: the Twisted private APIs finger relies on behave as it
expects.  Each test fails if a Twisted release changes one.
"""

from __future__ import annotations

import pytest
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.spread import banana
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import http

from finger import _compat


class RecordingChannel(http.HTTPChannel):
    """Records the request line as finger's channel reads it, at the end of the headers."""

    seen: tuple | None = None

    def allHeadersReceived(self) -> None:
        self.seen = _compat.requestLine(self)
        super().allHeadersReceived()


def test_requestLineWhileTheBodyIsAwaited() -> None:
    channel = RecordingChannel()
    channel.makeConnection(StringTransport())
    assert _compat.requestLine(channel) == (None, None, None)
    channel.dataReceived(b"POST /RPC2?x=1 HTTP/1.0\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
    assert channel.seen == (b"POST", b"/RPC2?x=1", b"HTTP/1.0")
    channel.connectionLost(None)


def test_h2EnabledIsTwisteds() -> None:
    assert _compat.H2_ENABLED is bool(getattr(http, "H2_ENABLED", False))
    assert (_compat.H2Connection is None) is (not _compat.H2_ENABLED)


@pytest.mark.skipif(not _compat.H2_ENABLED, reason="the h2 package is not installed")
def test_h2ConnectionAsFingerUsesIt() -> None:
    """
    Built with a reactor, given timeOut and callLater, connected: it sends
    its SETTINGS first, and a GOAWAY when idle for timeOut.
    """
    clock = MemoryReactorClock()
    connection = _compat.H2Connection(clock)
    connection.timeOut = 5
    connection.callLater = clock.callLater
    transport = StringTransport()
    connection.makeConnection(transport)
    assert transport.value()[3:4] == b"\x04"  # a SETTINGS frame
    transport.clear()
    clock.advance(6)
    assert transport.value()[3:4] == b"\x07"  # GOAWAY
    assert transport.disconnecting
    clock.advance(20)  # its abort timer


# --- PB frontend (finger.frontends.pb) -------------------------------------



class BananaInternalsTests(SynchronousTestCase):
    def receiver(self) -> banana.Banana:
        protocol = banana.Banana(isClient=True)
        protocol.makeConnection(StringTransport())
        protocol.dataReceived(banana.encode([b"none"]))  # the server's dialect offer
        received: list[object] = []
        protocol.expressionReceived = received.append  # a test double, not finger's code
        self.received = received
        return protocol

    def test_partialMessageIsTheOuterListDecodedSoFar(self) -> None:
        protocol = self.receiver()
        self.assertEqual(_compat.bananaPartialMessage(protocol), [])
        whole = banana.encode([b"message", 7, b"root", b"getUser", 1, b"x" * 100])
        protocol.dataReceived(whole[: len(whole) - 50])  # the last string incomplete
        self.assertEqual(_compat.bananaPartialMessage(protocol), [b"message", 7, b"root", b"getUser", 1])
        self.assertEqual(self.received, [])

    def test_discardInputForgetsThePartialMessage(self) -> None:
        protocol = self.receiver()
        whole = banana.encode([b"message", 7, b"x" * 100])
        protocol.dataReceived(whole[:-10])
        _compat.bananaDiscardInput(protocol)
        self.assertEqual(_compat.bananaPartialMessage(protocol), [])
        self.assertEqual(protocol.buffer, b"")
        # Decoding starts afresh with the next message.
        protocol.dataReceived(banana.encode([b"next"]))
        self.assertEqual(self.received, [[b"next"]])


def test_adoptUNIXPortNeitherChmodsNorUnlinks(tmp_path) -> None:
    import os
    import socket
    import stat

    from twisted.internet import protocol
    from twisted.internet.testing import MemoryReactor

    path = str(tmp_path / "s.sock")
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listening.bind(path)
    os.chmod(path, 0o600)
    listening.listen()
    reactor = MemoryReactor()
    with listening:
        port = _compat.adoptUNIXPort(reactor, listening.fileno(), protocol.Factory())
        assert os.fsdecode(port.getHost().name) == path
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        port.connectionLost(None)  # what stopListening ends with
        assert stat.S_ISSOCK(os.stat(path).st_mode)
