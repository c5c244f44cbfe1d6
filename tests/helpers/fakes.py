"""
Test doubles that behave like Twisted's own parts: a transport with a
socket's back-pressure, and a cooperator that steps only when told.
"""

from __future__ import annotations

from twisted.internet import task
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport

PEER = IPv4Address("TCP", "10.0.0.1", 5000)
# What a TCP transport buffers before it pauses its producer.
BUFFER_SIZE = 65536


class SocketLikeTransport(StringTransport):
    """
    A StringTransport that applies back-pressure like Twisted's TCP
    transport: it pauses a streaming producer once more than C{BUFFER_SIZE}
    bytes wait to be sent; L{drain} plays the client reading them.
    """

    def __init__(self) -> None:
        super().__init__(peerAddress=PEER)
        self.delivered = 0
        self.mostBuffered = 0
        self.paused = False
        self.writeLost = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        super().write(data)
        buffered = len(self.io.getvalue())
        self.mostBuffered = max(self.mostBuffered, buffered)
        if self.producer is not None and buffered > BUFFER_SIZE and not self.paused:
            self.paused = True
            self.producer.pauseProducing()

    def drain(self) -> None:
        self.delivered += len(self.io.getvalue())
        self.clear()
        if self.paused and self.producer is not None:
            self.paused = False
            self.producer.resumeProducing()

    def loseWriteConnection(self) -> None:
        self.writeLost = True

    def abortConnection(self) -> None:
        self.aborted = True
        super().abortConnection()


class ManualCooperator:
    """A Cooperator whose steps run only when the test says so."""

    def __init__(self) -> None:
        self.calls: list = []
        self.cooperator = task.Cooperator(
            terminationPredicateFactory=lambda: lambda: True,  # one step per tick
            scheduler=self._schedule,
        )

    def _schedule(self, call):
        self.calls.append(call)
        return _Cancellable(self.calls, call)

    def runUntilIdle(self, limit: int = 10**6) -> None:
        for _ in range(limit):
            if not self.calls:
                return
            self.calls.pop(0)()
        raise AssertionError("the cooperator never went idle")


class _Cancellable:
    def __init__(self, calls, call) -> None:
        self.calls, self.call = calls, call

    def cancel(self) -> None:
        if self.call in self.calls:
            self.calls.remove(self.call)


class FakeStreamRequest:
    """What an event stream uses of a request: write, outcome, peer, an HTTP/2-like channel."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.outcome: str | None = None
        self.peer = "127.0.0.1"
        self.aborted = False
        self.channel = self

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def abortConnection(self) -> None:
        self.aborted = True

    @property
    def text(self) -> str:
        return b"".join(self.written).decode("utf-8")
