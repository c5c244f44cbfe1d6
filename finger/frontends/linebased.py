"""
The line-oriented plumbing shared by the finger and setter frontends: a
bounded line length, an idle timeout, a limit on a connection's total time,
UTF-8 decoding, and refusals that the client gets to read.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.protocols.basic import LineOnlyReceiver
from twisted.protocols.policies import TimeoutMixin
from zope.interface import implementer

from finger import querylog

DEFAULT_MAX_LINE = 1024
DEFAULT_TIMEOUT = 60.0
DEFAULT_TIME_LIMIT = 300.0
# After a refusal, how long we keep draining what the client still sends, so
# that closing does not reset the connection before it read our answer.
LINGER_SECONDS = 2.0


@implementer(IHalfCloseableProtocol)
class LineQueryProtocol(LineOnlyReceiver, TimeoutMixin):
    """
    A server protocol that reads a few CRLF- or LF-terminated UTF-8 lines,
    answers once and closes.

    Subclasses implement L{textReceived} and name themselves in
    C{frontend}.  The factory provides C{timeout} (idle: until the query is
    read), C{timeLimit} (the whole connection, answer included: a client
    reading a long list very slowly is cut off), C{maxLineLength} and
    C{queryLog}.  Each connection is logged once, when it is answered, with
    the C{query} text it asked.

    Clients may half-close after sending (C{nc -N} does, and so do classic
    setter clients): a last line without a line end still counts, and an
    answer still on its way (from a thread or a child process) is still sent.
    """

    delimiter = b"\n"
    frontend = "line"
    done = False
    refused = False
    readClosed = False
    recorded = False
    query = ""

    def connectionMade(self) -> None:
        self.started = time.monotonic()
        self.MAX_LENGTH = getattr(self.factory, "maxLineLength", DEFAULT_MAX_LINE)
        self.timeLimit = getattr(self.factory, "timeLimit", DEFAULT_TIME_LIMIT)
        # One timer per connection: the idle timeout until the query is read
        # (data without a complete line does not reset it), then the rest
        # of the time limit (see answering).
        self.setTimeout(min(getattr(self.factory, "timeout", DEFAULT_TIMEOUT), self.timeLimit))

    def answering(self) -> None:
        """The query is read: from now on only the total time limit applies."""
        self.done = True
        self.setTimeout(max(self.started + self.timeLimit - time.monotonic(), 0.0))

    def record(self, outcome: str) -> None:
        """Log this connection's query and how it ended."""
        self.recorded = True
        queryLog = getattr(self.factory, "queryLog", querylog.ENABLED)
        if not queryLog.enabled:
            return
        queryLog.record(
            self.frontend, querylog.peerName(self.transport), self.query, outcome, self.started
        )

    def dataReceived(self, data: bytes) -> None:
        if self.done:
            return  # Draining after the answer: ignore input, keep no buffer.
        super().dataReceived(data)

    def lineReceived(self, line: bytes) -> None:
        if self.done:
            return
        try:
            text = line.removesuffix(b"\r").decode("utf-8")
        except UnicodeDecodeError:
            self.refuse(self.encodingErrorMessage)
            return
        self.textReceived(text)

    def textReceived(self, text: str) -> None:
        raise NotImplementedError

    encodingErrorMessage = "Query is not valid UTF-8"
    lineTooLongMessage = "Query too long (limit {limit} bytes)"

    def lineLengthExceeded(self, line: bytes) -> None:
        self._buffer = b""
        self.refuse(self.lineTooLongMessage.format(limit=self.MAX_LENGTH))

    def timeoutConnection(self) -> None:
        if not self.done:
            self.record("idle timeout")
        elif not self.recorded:
            self.record("time limit reached")
        self.done = True
        self.transport.abortConnection()

    def answer(self, lines: Iterable[str], outcome: str = "answered") -> None:
        """Send C{lines}, each ended by CRLF, log C{outcome}, and close."""
        self.done = True
        self.record(outcome)
        self.transport.write(b"".join(line.encode("utf-8") + b"\r\n" for line in lines))
        self.transport.loseConnection()

    def refuse(self, message: str) -> None:
        """
        Send a one-line error and close gracefully: stop sending, drain (and
        discard) what the client still sends for a moment, then close.  A
        plain close with unread input would make the kernel reset the
        connection, and the client could lose our message.
        """
        self.done = True
        self.refused = True
        self._buffer = b""
        self.record(f"refused: {message}")
        self.transport.write(message.encode("utf-8") + b"\r\n")
        loseWrite = getattr(self.transport, "loseWriteConnection", None)
        if loseWrite is None:
            self.transport.loseConnection()
            return
        loseWrite()
        self.setTimeout(LINGER_SECONDS)

    def inputEnded(self) -> None:
        """
        The client stopped sending before a complete query; subclasses may
        answer with an error.  By default the connection just closes.
        """
        self.done = True
        self.transport.loseConnection()

    # IHalfCloseableProtocol

    def readConnectionLost(self) -> None:
        self.readClosed = True
        if self.refused:
            self.transport.loseConnection()  # Done draining: the client has read.
            return
        if not self.done and self._buffer:
            line, self._buffer = self._buffer, b""
            self.lineReceived(line)  # A last line without a line end.
        if not self.done:
            self.inputEnded()
        # Otherwise an answer is on its way, and answer() closes.

    def writeConnectionLost(self) -> None:
        # After a refusal we stop writing but drain the client's input until it
        # closes (or the linger timeout), so that it reads our error line.
        if self.readClosed:
            self.transport.loseConnection()

    def connectionLost(self, reason) -> None:
        self.setTimeout(None)
        self.done = True
