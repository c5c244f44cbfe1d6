"""
The line-oriented plumbing shared by the finger and setter frontends: a
bounded line length, an idle timeout, a limit on a connection's total time,
UTF-8 decoding, and refusals that the client gets to read.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from twisted.internet.interfaces import IDelayedCall, IHalfCloseableProtocol, IReactorTime
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

from finger import querylog
from finger.limits import SelfCounting
from finger.linger import Refusal
from finger.reactors import globalReactor

DEFAULT_MAX_LINE = 1024
DEFAULT_TIMEOUT = 60.0
DEFAULT_TIME_LIMIT = 300.0


class Deadlines:
    """
    The timeouts of every line-based connection on one clock, kept with one
    timer instead of one per connection (scheduling and cancelling a timer
    per connection costs more than a finger query's own code).  With a
    single connection open, that is still one timer per connection.

    A connection L{add}s its next deadline and L{remove}s itself when it
    closes; a sweep, scheduled for the earliest deadline but at most once
    per L{resolution} seconds, calls C{deadlinePassed()} on each connection
    whose deadline has passed.  A timeout may so fire up to L{resolution}
    seconds late; each sweep visits every open connection (at most
    C{--max-connections} per listener).
    """

    resolution = 1.0
    _byClock: WeakKeyDictionary[IReactorTime, Deadlines] = WeakKeyDictionary()

    @classmethod
    def of(cls, clock: IReactorTime) -> Deadlines:
        """The deadlines kept on C{clock}."""
        deadlines = cls._byClock.get(clock)
        if deadlines is None:
            deadlines = cls._byClock[clock] = cls(clock)
        return deadlines

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock
        self.due: dict[LineQueryProtocol, float] = {}
        self._sweep: IDelayedCall | None = None
        self._sweepAt = 0.0

    def add(self, connection: LineQueryProtocol, when: float) -> None:
        """Call C{connection.deadlinePassed()} once C{when} (clock time) has passed."""
        self.due[connection] = when
        if self._sweep is None:
            self._schedule(when)
        elif when < self._sweepAt - self.resolution:
            self._sweep.cancel()
            self._schedule(max(when, self.clock.seconds() + self.resolution))

    def remove(self, connection: LineQueryProtocol) -> None:
        """Forget C{connection}'s deadline; with none left, stop the timer."""
        due = self.due
        due.pop(connection, None)
        if not due and self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None

    def _schedule(self, when: float) -> None:
        self._sweepAt = when
        self._sweep = self.clock.callLater(max(when - self.clock.seconds(), 0.0), self._sweepNow)

    def _sweepNow(self) -> None:
        self._sweep = None
        now = self.clock.seconds()
        passed = [connection for connection, when in self.due.items() if when <= now]
        for connection in passed:
            del self.due[connection]
        for connection in passed:
            connection.deadlinePassed()
        if self.due and self._sweep is None:
            self._schedule(max(min(self.due.values()), now + self.resolution))


@dataclass(frozen=True)
class LineSettings:
    """
    What every line-based frontend is configured with.

    @ivar timeout: idle seconds until the query is read.
    @ivar timeLimit: seconds the whole connection may last, answer included.
    @ivar maxLineLength: the longest line accepted, in bytes.
    @ivar queryLog: where each connection's query is recorded.
    @ivar clock: the clock of every timer; C{None}: the global reactor.
    """

    timeout: float = DEFAULT_TIMEOUT
    timeLimit: float = DEFAULT_TIME_LIMIT
    maxLineLength: int = DEFAULT_MAX_LINE
    queryLog: querylog.QueryLog = querylog.ENABLED
    clock: IReactorTime | None = None


@implementer(IHalfCloseableProtocol)
class LineQueryProtocol(Protocol, SelfCounting):
    """
    A server protocol that reads a few CRLF- or LF-terminated UTF-8 lines,
    answers once and closes.

    Subclasses implement L{textReceived} and name themselves in
    C{frontend}.  The factory's C{settings} (a L{LineSettings}) give
    C{timeout} (idle: until the query is read), C{timeLimit} (the whole
    connection, answer included: a client reading a long list very slowly
    is cut off), C{maxLineLength}, C{queryLog} and C{clock}.  Each
    connection is logged once, when it is answered, with the C{query} text
    it asked.

    Clients may half-close after sending (C{nc -N} does, and so do classic
    setter clients): a last line without a line end still counts, and an
    answer still on its way (from a thread or a child process) is still sent.

    @ivar pending: the bytes of the line being received (never more than
        C{MAX_LENGTH}).
    """

    delimiter = b"\n"
    MAX_LENGTH = DEFAULT_MAX_LINE
    frontend = "line"
    done = False
    readClosed = False
    recorded = False
    query = ""
    pending = b""
    factory: Any
    # A TCP-like transport (disconnecting, abortConnection, half-close).
    transport: Any
    refusal: Refusal | None = None  # made by refuse()
    deadlines: Deadlines | None = None
    clock: IReactorTime

    @property
    def settings(self) -> LineSettings:
        """The factory's settings."""
        settings: LineSettings = self.factory.settings
        return settings

    @property
    def refused(self) -> bool:
        """Whether this connection was refused (and is draining)."""
        return self.refusal is not None and self.refusal.refused

    def connectionMade(self) -> None:
        settings = self.settings
        self.started = time.monotonic()
        self.MAX_LENGTH = settings.maxLineLength
        self.timeLimit = settings.timeLimit
        # One deadline per connection, set once: the idle timeout (data
        # without a complete line does not reset it) or the time limit,
        # whichever comes first.  A query answered in time does not move it:
        # if the connection is still open when it passes, the rest of the
        # time limit is set (see deadlinePassed).
        self.clock = settings.clock if settings.clock is not None else globalReactor()
        now = self.clock.seconds()
        self.deadline = now + self.timeLimit
        self.deadlines = Deadlines.of(self.clock)
        self.deadlines.add(self, now + min(settings.timeout, self.timeLimit))

    def deadlinePassed(self) -> None:
        """The idle timeout or the time limit ran out (see L{Deadlines})."""
        if self.done and self.deadline > self.clock.seconds():
            Deadlines.of(self.clock).add(self, self.deadline)
            return
        self.timeoutConnection()

    def _cancelTimer(self) -> None:
        deadlines = self.deadlines
        if deadlines is not None:
            deadlines.remove(self)

    def answering(self) -> None:
        """The query is read: from now on only the total time limit applies."""
        self.done = True

    def record(self, outcome: str) -> None:
        """Log this connection's query and how it ended."""
        self.recorded = True
        queryLog = self.settings.queryLog
        if not queryLog.wanted:
            return
        queryLog.record(self.frontend, self.peerName(), self.query, outcome, self.started)

    def peerName(self) -> str:
        """Who the client is, for the query log (subclasses may say more)."""
        return querylog.peerName(self.transport)

    def dataReceived(self, data: bytes) -> None:
        """Split C{data} into lines (the last one may be incomplete)."""
        if self.done:
            return  # Draining after the answer: ignore input, keep no buffer.
        lines = (self.pending + data).split(self.delimiter)
        self.pending = lines.pop(-1)
        for line in lines:
            if self.transport.disconnecting:
                return  # Closed by an earlier line.
            if len(line) > self.MAX_LENGTH:
                self.lineLengthExceeded(line)
                return
            self.lineReceived(line)
        if len(self.pending) > self.MAX_LENGTH:
            self.lineLengthExceeded(self.pending)

    def lineReceived(self, line: bytes) -> None:
        """Decode one line and pass it to L{textReceived}."""
        if self.done:
            return
        try:
            text = line.removesuffix(b"\r").decode("utf-8")
        except UnicodeDecodeError:
            self.refuse(self.encodingErrorMessage)
            return
        self.textReceived(text)

    def textReceived(self, text: str) -> None:
        """One line of the query, decoded (subclasses answer it)."""
        raise NotImplementedError

    encodingErrorMessage = "Query is not valid UTF-8"
    lineTooLongMessage = "Query too long (limit {limit} bytes)"

    def lineLengthExceeded(self, line: bytes) -> None:
        """Refuse a line over C{MAX_LENGTH} (its bytes are not kept)."""
        self.refuse(self.lineTooLongMessage.format(limit=self.MAX_LENGTH))

    def timeoutConnection(self) -> None:
        """The idle timeout or the time limit ran out: abort."""
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
        lines = list(lines)
        if lines:
            self.transport.write(("\r\n".join(lines) + "\r\n").encode("utf-8"))
        self.transport.loseConnection()

    def refuse(self, message: str) -> None:
        """
        Send a one-line error and close gracefully (L{finger.linger}): the
        client gets to read it.
        """
        self.done = True
        self.pending = b""
        self.record(f"refused: {message}")
        self._cancelTimer()  # the linger bounds the rest of the connection
        self.refusal = Refusal(self.transport, self.clock)
        self.refusal.refuse(message.encode("utf-8") + b"\r\n")

    def inputEnded(self) -> None:
        """
        The client stopped sending before a complete query; subclasses may
        answer with an error.  By default the connection just closes.
        """
        self.done = True
        self.transport.loseConnection()

    # IHalfCloseableProtocol

    def readConnectionLost(self) -> None:
        """The client half-closed: a last line may lack its line end."""
        self.readClosed = True
        if self.refused:
            self.transport.loseConnection()  # Done draining: the client has read.
            return
        if not self.done and self.pending:
            line, self.pending = self.pending, b""
            self.lineReceived(line)  # A last line without a line end.
        if not self.done:
            self.inputEnded()
        # Otherwise an answer is on its way, and answer() closes.

    def writeConnectionLost(self) -> None:
        """After a refusal, close once the client has closed too."""
        # After a refusal we stop writing but drain the client's input until it
        # closes (or the linger timeout), so that it reads our error line.
        if self.readClosed:
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Cancel every timer; the connection limits stop counting it."""
        self._cancelTimer()
        self.released()
        if self.refusal is not None:
            self.refusal.stop()
        self.done = True
