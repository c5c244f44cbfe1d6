"""
PostgreSQL connections for the PostgreSQL store: the DSN (parsed, described
without its password), connecting, and a bounded pool of connections used
from a bounded pool of threads, so that the reactor never waits on the
database.

The DSN is a libpq connection string (C{host=db1,db2 dbname=finger
target_session_attrs=read-write}) or URL (C{postgresql://finger@db/finger});
the password comes from libpq's password file (C{~/.pgpass}, C{PGPASSFILE},
C{passfile=}).  A DSN with a password works, but the password never appears
in a log line or an error: L{Dsn.describe} and L{Dsn.mask}.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from twisted.internet import defer, threads
from twisted.internet.interfaces import IReactorFromThreads
from twisted.python.threadpool import ThreadPool

from finger.errors import FingerConfigurationError
from finger.interfaces import StoreError

# Added to the DSN unless it sets them: fail fast when a host is down, and
# notice a silently dead peer within about 15 seconds.
CONNECT_TIMEOUT = 5
KEEPALIVES = {"keepalives": "1", "keepalives_idle": "5", "keepalives_interval": "2",
              "keepalives_count": "3"}
# No statement may hold a pool thread for ever (a hung server, a lock).
STATEMENT_TIMEOUT_MS = 10_000
DEFAULT_POOL_SIZE = 4
UNAVAILABLE = "status store unavailable"

# What psycopg raises when the server cannot be reached or the connection broke.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (psycopg.OperationalError, psycopg.InterfaceError)


class PostgresConfigurationError(FingerConfigurationError):
    """The DSN is malformed, or the database cannot be used; one line, no password."""


class StoreUnavailable(StoreError):
    """The database cannot be reached now (C{str()} is L{UNAVAILABLE})."""

    def __init__(self) -> None:
        super().__init__(UNAVAILABLE)


class Dsn:
    """A parsed DSN: connection arguments, and a description without the password."""

    def __init__(self, dsn: str) -> None:
        try:
            self.parameters: dict[str, Any] = conninfo_to_dict(dsn)
        except psycopg.ProgrammingError as e:
            raise PostgresConfigurationError(
                f"bad PostgreSQL DSN: {self._firstLine(str(e), dsn)}"
            ) from None
        self._secrets = [str(s) for s in (self.parameters.get("password"), dsn) if s]
        self.parameters.setdefault("connect_timeout", str(CONNECT_TIMEOUT))
        self.parameters.setdefault("application_name", "finger")
        for key, value in KEEPALIVES.items():
            self.parameters.setdefault(key, value)

    def _firstLine(self, message: str, dsn: str | None = None) -> str:
        line = " ".join(part.strip() for part in message.strip().splitlines() if part.strip())
        for secret in [dsn] if dsn else self._secrets:
            if secret:
                line = line.replace(secret, "***")
        return line

    def mask(self, message: str) -> str:
        """C{message} on one line, with the password (and the raw DSN) replaced by ***."""
        return self._firstLine(message)

    def describe(self) -> str:
        """C{user@host:port/dbname} (hosts comma-separated), never the password."""
        hosts = self.parameters.get("host") or self.parameters.get("hostaddr") or "localhost"
        port = self.parameters.get("port")
        where = f"{hosts}:{port}" if port else str(hosts)
        user = self.parameters.get("user")
        database = self.parameters.get("dbname") or user or "(default database)"
        return f"{user + '@' if user else ''}{where}/{database}"

    def conninfo(self) -> str:
        """The libpq connection string, with the defaults above."""
        return make_conninfo(**self.parameters)

    def connect(self, listen: str | None = None) -> psycopg.Connection[Any]:
        """
        A new autocommit connection (blocking: call it from a thread, or at
        start-up), listening on channel C{listen} if given; raise
        L{PostgresConfigurationError} naming the host.
        """
        try:
            connection = psycopg.connect(self.conninfo(), autocommit=True)
        except CONNECTION_ERRORS as e:
            raise PostgresConfigurationError(
                f"cannot connect to PostgreSQL at {self.describe()}: {self.mask(str(e))}"
            ) from None
        steps = [("use", f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")]
        if listen is not None:
            steps.append(("listen on", f"LISTEN {listen}"))
        for doing, statement in steps:
            try:
                connection.execute(statement)
            except CONNECTION_ERRORS as e:
                connection.close()
                raise PostgresConfigurationError(
                    f"cannot {doing} PostgreSQL at {self.describe()}: {self.mask(str(e))}"
                ) from None
        return connection


_R = TypeVar("_R")


class ConnectionPool:
    """
    At most C{size} connections, each used by one thread at a time; a
    connection that failed is closed and replaced by a new one the next time
    one is needed (so a promoted standby is found through a multi-host DSN).

    Work is C{function(connection, *args)}, run in the pool's threads; it
    fails with L{StoreUnavailable} when the database cannot be reached.
    """

    def __init__(self, dsn: Dsn, reactor: IReactorFromThreads, size: int = DEFAULT_POOL_SIZE) -> None:
        self.dsn = dsn
        self.size = size
        self._reactor = reactor
        self._idle: queue.LifoQueue[psycopg.Connection[Any]] = queue.LifoQueue()
        self._threads: ThreadPool | None = None
        self._lock = threading.Lock()
        self.lastError: str | None = None  # the last connection error, masked

    def start(self) -> None:
        """Start the threads."""
        self._threads = ThreadPool(minthreads=0, maxthreads=self.size, name="finger-postgres")
        self._threads.start()

    def stop(self) -> None:
        """Wait for queued work, stop the threads and close every connection."""
        if self._threads is not None:
            self._threads.stop()
            self._threads = None
        self.discardIdle()

    def run(self, function: Callable[..., _R], *args: object) -> defer.Deferred[_R]:
        """Run C{function(connection, *args)} in a pool thread."""
        if self._threads is None:
            return defer.fail(StoreUnavailable())
        return threads.deferToThreadPool(
            self._reactor, self._threads, self._withConnection, function, *args
        )

    def discardIdle(self) -> None:
        """Close the idle connections (after the server was lost: they are stale)."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    def _withConnection(self, function: Callable[..., _R], *args: object) -> _R:
        try:
            connection = self._idle.get_nowait()
        except queue.Empty:
            return self._onNewConnection(function, *args)
        try:
            return self._on(connection, function, *args)
        except StoreUnavailable:
            # A kept connection may be stale (the server restarted, a standby
            # was promoted): try once more on a new one.  Every write is
            # idempotent (an upsert, a delete), so a retry cannot double it.
            self.discardIdle()
            return self._onNewConnection(function, *args)

    def _onNewConnection(self, function: Callable[..., _R], *args: object) -> _R:
        try:
            connection = self.dsn.connect()
        except PostgresConfigurationError as e:
            self.lastError = str(e)
            raise StoreUnavailable() from None
        return self._on(connection, function, *args)

    def _on(self, connection: psycopg.Connection[Any], function: Callable[..., _R], *args: object) -> _R:
        try:
            result = function(connection, *args)
        except CONNECTION_ERRORS as e:
            self.lastError = self.dsn.mask(str(e))
            connection.close()
            raise StoreUnavailable() from None
        except BaseException:
            if connection.closed or connection.broken:
                connection.close()
            else:
                self._idle.put(connection)
            raise
        self._idle.put(connection)
        return result
