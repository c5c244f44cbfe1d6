"""
How every frontend refuses a client so that the client gets to read why.

The policy, in one place: send the refusal, half-close (stop sending), keep
reading and discarding what the client still sends for L{LINGER_SECONDS},
then abort.  Closing a socket that still has unread input makes the kernel
reset the connection, and the client could lose the refusal it was sent.  A
transport that cannot half-close (TLS: half-closing the TCP connection below
would cut the TLS session short) is closed at once after the refusal, unless
the protocol asks to drain anyway (HTTP: the client closes by itself once it
has read a C{Connection: close} response).

A protocol uses it in three steps::

    self.refusal = Refusal(self.transport, clock)   # in connectionMade
    self.refusal.refuse(b"Go away\\r\\n")          # when it refuses
    if self.refusal.refused: return                # in dataReceived: discard
    self.refusal.stop()                            # in connectionLost

Stopping the parsing of input is the protocol's part (its C{dataReceived}
returns early while L{Refusal.refused}); an HTTP channel does the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from twisted.internet.interfaces import IDelayedCall
from twisted.protocols.tls import TLSMemoryBIOProtocol

# After a refusal, how long the client's input is drained before the
# connection is aborted.
LINGER_SECONDS = 2.0


class Scheduler(Protocol):
    """What L{Refusal} needs of a clock: C{IReactorTime.callLater}."""

    def callLater(self, delay: float, callable: Callable[[], Any], /) -> IDelayedCall:
        """Call C{callable} in C{delay} seconds."""


def halfCloser(transport: object) -> Callable[[], None] | None:
    """
    The transport's C{loseWriteConnection}, or C{None} if it cannot
    half-close.  A TLS transport has none of its own, but passes unknown
    attributes on to the TCP transport below it, whose half-close would cut
    the TLS session short.  A wrapper (L{finger.limits.LimitedProtocol})
    answers for the transport it wraps.
    """
    if isinstance(transport, TLSMemoryBIOProtocol):
        return None
    method: Callable[[], None] | None = getattr(transport, "loseWriteConnection", None)
    return method


class Refusal:
    """
    One connection's refusal, sent and lingered over as the module says.

    @ivar refused: whether L{refuse} was called: the protocol discards its
        input from then on.
    """

    refused = False
    _timer: IDelayedCall | None = None

    def __init__(
        self,
        transport: Any,
        clock: Scheduler,
        seconds: float = LINGER_SECONDS,
        drainWithoutHalfClose: bool = False,
    ) -> None:
        self.transport = transport
        self.clock = clock
        self.seconds = seconds
        self.drainWithoutHalfClose = drainWithoutHalfClose

    @property
    def lingering(self) -> bool:
        """Whether the connection is half-closed, waiting to be aborted."""
        return self._timer is not None and self._timer.active()

    def refuse(self, message: bytes, linger: bool = True) -> bool:
        """
        Send C{message} (if any) and close: half-close and abort after the
        linger if the transport can half-close (or, with
        C{drainWithoutHalfClose}, abort after the linger anyway) and
        C{linger} is true (a caller may refuse to linger, e.g. when too many
        connections already are), or close at once.  Returns whether it
        lingers.
        """
        self.refused = True
        if message:
            self.transport.write(message)
        loseWrite = halfCloser(self.transport) if linger else None
        if loseWrite is not None:
            loseWrite()
        elif not (linger and self.drainWithoutHalfClose):
            self.transport.loseConnection()
            return False
        self._timer = self.clock.callLater(self.seconds, self.transport.abortConnection)
        return True

    def abort(self) -> None:
        """Refuse without a word or a linger: abort the connection now."""
        self.refused = True
        self.transport.abortConnection()

    def stop(self) -> None:
        """The connection is gone: cancel the pending abort."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
