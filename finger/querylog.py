"""
One record per query, so an admin can see who fingered whom (RFC 1288
section 3.2.7); C{--no-log-queries} turns it off for privacy.

Every frontend records through a L{QueryLog}, which hands each record to a
sink:

  - L{EventSink} (the default): one C{finger.query} log event per query, with
    the fields C{frontend}, C{peer}, C{query}, C{outcome} and C{duration}
    (seconds), for whatever observer twistd set up (a log file, syslog,
    C{--logger=finger.logs.jsonStdout}).
  - L{BufferedLineSink}: an access log in the manner of twisted.web's and
    nginx's, for when twistd logs to standard output (C{twistd -n}, so the
    journal under systemd).  Each line is formatted as twistd's text
    observer would, with a timestamp formatted once per second, appended to
    a buffer and written in batches: within L{FLUSH_SECONDS}, when
    L{MAX_BUFFERED} characters are waiting, and when the service stops, so
    that a clean stop loses nothing.

A write also has C{account} (who logged in, or C{None}) and C{target} (whose
status it writes); writes are logged even with C{--no-log-queries} (they are
the audit trail).  A L{QueryLog} may also count each query in a
L{finger.metrics.Metrics}, even with the log itself disabled.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TextIO

from twisted.application import service
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from finger.reactors import globalReactor
from finger.text import stripControls

if TYPE_CHECKING:
    from finger.metrics import Metrics

MAX_LOGGED_QUERY = 200
FLUSH_SECONDS = 1.0
MAX_BUFFERED = 64 * 1024
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"  # twisted.logger's, in local time


def peerName(transport: Any) -> str:
    """C{host:port} of a transport's peer, or its repr for other address kinds."""
    try:
        peer = transport.getPeer()
    except Exception:
        return "?"
    host = getattr(peer, "host", None)
    return f"{host}:{peer.port}" if host is not None else str(peer)


def clean(text: str) -> str:
    """C{text} without control characters (checked first: most text has none)."""
    return text if text.isprintable() else stripControls(text)


def shownQuery(query: str) -> str:
    """C{query} as logged: no control characters, at most L{MAX_LOGGED_QUERY}."""
    shown = clean(query)
    if len(shown) > MAX_LOGGED_QUERY:
        shown = shown[:MAX_LOGGED_QUERY] + "..."
    return shown


class QueryRecord(NamedTuple):
    """
    One query as logged: built once by L{QueryLog.record}, handed to its
    sink.  C{shown} (see L{shownQuery}) and C{target} are already cleaned;
    C{duration} is in seconds.  For a write, C{target} is whose status it
    writes and C{account} who logged in; C{worker} is set with
    C{--workers}.  (A named tuple: immutable, and as cheap to build as a
    tuple on this hot path.)
    """

    frontend: str
    peer: str
    shown: str
    outcome: str
    duration: float
    account: str | None = None
    target: str | None = None
    worker: int | None = None


def describe(record: QueryRecord) -> str:
    """
    The text of one record (no line end), after C{worker N: } with
    C{--workers}.  C{shown} and C{target} are written as Python literals:
    even a separator that is not a control character (U+2028) is escaped, so
    a query cannot start a line of its own.
    """
    frontend, peer, shown, outcome, duration, account, target, worker = record
    what = f"query {shown!r}"
    if target is not None:
        who = "nobody" if account is None else clean(account)
        what = f"write {shown!r} of {target!r} by {who}"
    prefix = "" if worker is None else f"worker {worker}: "
    return (
        f"{prefix}{frontend} {what} from {clean(peer)}: {clean(outcome)} "
        f"({duration * 1000:.1f} ms)"
    )


class QuerySink(Protocol):
    """Where a L{QueryLog} sends its records."""

    def write(self, record: QueryRecord) -> None:
        """Record one query."""


class EventSink:
    """Records each query as a C{finger.query} event of C{twisted.logger}."""

    def __init__(self) -> None:
        self.log = Logger(namespace="finger.query")

    def write(self, record: QueryRecord) -> None:
        text = describe(record)
        extra: dict[str, str | None] = {}
        if record.target is not None:
            extra = {"account": record.account, "target": record.target}
        if record.worker is not None:
            extra["worker"] = str(record.worker)
        self.log.info(
            # Rendered here, as a format with no fields: Twisted's generic
            # formatting of five fields costs more than answering a query.
            text.replace("{", "{{").replace("}", "}}"),
            frontend=record.frontend,
            peer=record.peer,
            query=record.shown,
            outcome=record.outcome,
            duration=record.duration,
            milliseconds=record.duration * 1000,
            **extra,
        )


class BufferedLineSink(service.Service):
    """
    Writes records as text lines to C{out} in batches (see the module
    docstring), in the layout of twistd's text log::

        2026-11-21T07:05:39+0000 [finger.query#info] finger query 'alice' from 127.0.0.1:45688: found (0.2 ms)

    Once its service has stopped, each record is written at once.
    """

    prefix = " [finger.query#info] "

    def __init__(
        self,
        out: TextIO,
        clock: IReactorTime | None = None,
        flushSeconds: float = FLUSH_SECONDS,
        maxBuffered: int = MAX_BUFFERED,
    ) -> None:
        self.out = out
        self.clock = clock if clock is not None else globalReactor()
        self.flushSeconds = flushSeconds
        self.maxBuffered = maxBuffered
        self.buffer: list[str] = []
        self.buffered = 0
        self.writeThrough = False
        self._flushCall: IDelayedCall | None = None
        self._second = -1
        self._stamp = ""

    def timestamp(self, now: float) -> str:
        """C{now} formatted as twistd's log does, once per second."""
        second = int(now)
        if second != self._second:
            self._stamp = time.strftime(TIME_FORMAT, time.localtime(second))
            self._second = second
        return self._stamp

    def write(self, record: QueryRecord) -> None:
        line = self.timestamp(time.time()) + self.prefix + describe(record) + "\n"
        self.buffer.append(line)
        self.buffered += len(line)
        if self.writeThrough or self.buffered >= self.maxBuffered:
            self.flush()
        elif self._flushCall is None:
            self._flushCall = self.clock.callLater(self.flushSeconds, self._timedFlush)

    def _timedFlush(self) -> None:
        self._flushCall = None
        self.flush()

    def flush(self) -> None:
        """Write every buffered line now."""
        if self._flushCall is not None:
            self._flushCall.cancel()
            self._flushCall = None
        if not self.buffer:
            return
        text = "".join(self.buffer)
        self.buffer = []
        self.buffered = 0
        try:
            self.out.write(text)
            self.out.flush()
        except (OSError, ValueError) as e:
            # A closed or full standard output: say so once per batch,
            # through the log (which may reach somewhere else).
            Logger(namespace="finger.query").error(
                "Could not write {count} query log lines: {error}",
                count=text.count("\n"), error=e,
            )

    def startService(self) -> None:
        super().startService()
        self.writeThrough = False

    def stopService(self) -> None:
        """Flush, then write each later record at once (nothing lost on a clean stop)."""
        self.writeThrough = True
        self.flush()
        super().stopService()


class QueryLog:
    """
    Records queries through a L{QuerySink} (or not, when disabled), and
    counts them in C{metrics} if given.
    """

    def __init__(
        self,
        enabled: bool = True,
        sink: QuerySink | None = None,
        metrics: Metrics | None = None,
        worker: int | None = None,
    ) -> None:
        self.enabled = enabled
        self.sink: QuerySink = sink if sink is not None else EventSink()
        self.metrics = metrics
        # With --workers: which worker answered (a "worker" field, a prefix).
        self.worker = worker

    @property
    def wanted(self) -> bool:
        """Whether L{record} does anything for a query (a write is always recorded)."""
        return self.enabled or self.metrics is not None

    def record(
        self,
        frontend: str,
        peer: str,
        query: str,
        outcome: str,
        started: float,
        account: str | None = None,
        target: str | None = None,
    ) -> None:
        """
        Log one query; C{started} is a C{time.monotonic()} reading.  For a
        write, C{target} is whose status it writes and C{account} who logged
        in (C{None} before a successful login).  Writes are logged even when
        queries are not (C{--no-log-queries}): they are the audit trail.
        """
        duration = time.monotonic() - started
        if self.metrics is not None:
            self.metrics.query(frontend, outcome, duration)
        if target is not None:
            target = clean(target)[:MAX_LOGGED_QUERY]
        elif not self.enabled:
            return
        self.sink.write(QueryRecord(
            frontend, peer, shownQuery(query), outcome, duration, account, target, self.worker
        ))


ENABLED = QueryLog(True)
