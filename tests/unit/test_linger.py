"""finger.linger: the one refusal policy (send, half-close, drain, abort)."""

from __future__ import annotations

from twisted.internet import task
from twisted.internet.testing import StringTransport
from twisted.protocols.tls import TLSMemoryBIOProtocol
from twisted.trial.unittest import SynchronousTestCase

from finger.linger import LINGER_SECONDS, Refusal, halfCloser
from tests.helpers.fakes import SocketLikeTransport


class RefusalTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.transport = SocketLikeTransport()
        self.refusal = Refusal(self.transport, self.clock)

    def test_sendsHalfClosesAndAbortsAfterTheLinger(self) -> None:
        self.assertFalse(self.refusal.refused)
        self.assertTrue(self.refusal.refuse(b"Go away\r\n"))
        self.assertTrue(self.refusal.refused)
        self.assertEqual(self.transport.value(), b"Go away\r\n")
        self.assertTrue(self.transport.writeLost)
        self.assertFalse(self.transport.aborted)
        # The client's input is drained for the whole linger, not cut short.
        self.clock.advance(LINGER_SECONDS - 0.01)
        self.assertFalse(self.transport.aborted)
        self.assertTrue(self.refusal.lingering)
        self.clock.advance(0.01)
        self.assertTrue(self.transport.aborted)
        self.assertFalse(self.refusal.lingering)

    def test_lingerIsTwoSeconds(self) -> None:
        self.assertEqual(LINGER_SECONDS, 2.0)

    def test_stopCancelsTheAbort(self) -> None:
        self.refusal.refuse(b"no\r\n")
        self.refusal.stop()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertFalse(self.refusal.lingering)

    def test_withoutHalfCloseClosesAtOnce(self) -> None:
        transport = StringTransport()
        refusal = Refusal(transport, self.clock)
        self.assertFalse(refusal.refuse(b"no\r\n"))
        self.assertEqual(transport.value(), b"no\r\n")
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_drainWithoutHalfClose(self) -> None:
        """
        Asked to (HTTP over TLS), a transport that cannot half-close stays
        open for the linger, its input discarded, and is then aborted.
        """
        transport = StringTransport()
        transport.abortConnection = lambda: setattr(transport, "aborted", True)  # type: ignore[method-assign]
        refusal = Refusal(transport, self.clock, drainWithoutHalfClose=True)
        self.assertTrue(refusal.refuse(b"413\r\n"))
        self.assertEqual(transport.value(), b"413\r\n")
        self.assertFalse(transport.disconnecting)
        self.clock.advance(LINGER_SECONDS)
        self.assertTrue(getattr(transport, "aborted", False))

    def test_callerMayRefuseToLinger(self) -> None:
        self.assertFalse(self.refusal.refuse(b"no\r\n", linger=False))
        self.assertTrue(self.transport.disconnecting)
        self.assertFalse(self.transport.writeLost)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_abort(self) -> None:
        self.refusal.abort()
        self.assertTrue(self.refusal.refused)
        self.assertTrue(self.transport.aborted)
        self.assertEqual(self.transport.value(), b"")

    def test_emptyMessageWritesNothing(self) -> None:
        self.refusal.refuse(b"")
        self.assertEqual(self.transport.value(), b"")
        self.assertTrue(self.transport.writeLost)


class HalfCloserTests(SynchronousTestCase):
    def test_ownHalfClose(self) -> None:
        transport = SocketLikeTransport()
        self.assertEqual(halfCloser(transport), transport.loseWriteConnection)

    def test_none(self) -> None:
        self.assertIsNone(halfCloser(StringTransport()))

    def test_tlsCannotHalfClose(self) -> None:
        """A TLS transport would pass the TCP transport's half-close on: refused."""
        below = SocketLikeTransport()
        tls = TLSMemoryBIOProtocol.__new__(TLSMemoryBIOProtocol)  # no TLS context needed
        tls.transport = below
        self.assertIsNotNone(getattr(tls, "loseWriteConnection", None))
        self.assertIsNone(halfCloser(tls))
