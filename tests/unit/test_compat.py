"""
finger._compat: the Twisted private APIs finger relies on behave as it
expects.  Each test fails if a Twisted release changes one.
"""

from __future__ import annotations

import pytest
from twisted.internet.testing import MemoryReactorClock, StringTransport
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
