"""
finger._compat: each use of a Twisted private API, checked against the
installed Twisted (a test here fails if Twisted changes what it relies on).
"""

from __future__ import annotations

# --- PB frontend (finger.frontends.pb) -------------------------------------
from twisted.internet.testing import StringTransport  # noqa: E402 (this block's imports)
from twisted.spread import banana  # noqa: E402
from twisted.trial.unittest import SynchronousTestCase  # noqa: E402

from finger import _compat  # noqa: E402


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
