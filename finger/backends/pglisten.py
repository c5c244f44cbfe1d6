"""
A dedicated PostgreSQL connection that C{LISTEN}s on one channel, watched by
the reactor (C{addReader} on its socket; libpq's non-blocking
C{PQconsumeInput}/C{PQnotifies}), so every process hears of every change
within milliseconds and the reactor never waits.

When the connection is lost it reconnects with exponential backoff (the
connecting itself runs in a thread of its own), logging the loss and the
recovery; C{onConnected} is called after each (re)connection, so that its
owner can re-read what it cached while it could not hear.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import psycopg
from twisted.application.internet import backoffPolicy
from twisted.internet import threads
from twisted.internet.interfaces import IDelayedCall, IReadDescriptor
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool
from zope.interface import implementer

from finger.backends.pgconn import CONNECTION_ERRORS, Dsn, PostgresConfigurationError
from finger.reactors import globalReactor

INITIAL_DELAY = 0.25
MAX_DELAY = 10.0


@implementer(IReadDescriptor)
class ChangeListener:
    """
    C{LISTEN channel} on its own connection; C{onNotify(payload)} for each
    notification, C{onConnected()} after each (re)connection, C{onLost()}
    when the connection is lost.
    """

    log = Logger()

    def __init__(
        self,
        dsn: Dsn,
        channel: str,
        onNotify: Callable[[str], object],
        onConnected: Callable[[], object],
        onLost: Callable[[], object],
        reactor: Any = None,
    ) -> None:
        self.dsn = dsn
        self.channel = channel
        self._onNotify = onNotify
        self._onConnected = onConnected
        self._onLost = onLost
        self._reactor = globalReactor() if reactor is None else reactor
        self._policy = backoffPolicy(initialDelay=INITIAL_DELAY, maxDelay=MAX_DELAY)
        self._connection: psycopg.Connection[Any] | None = None
        # The reactor watches a duplicate of the connection's socket, which
        # this object alone closes (after removeReader): libpq closes its own
        # descriptor when the connection breaks, and the number could be
        # reused by another connection while the reactor still had it.
        self._fd = -1
        self._thread: ThreadPool | None = None
        self._retry: IDelayedCall | None = None
        self._attempts = 0
        self._stopped = True
        self._wasConnected = False
        self.connected = False

    def start(self) -> None:
        """Connect (in a thread of its own) and listen."""
        self._stopped = False
        self._thread = ThreadPool(minthreads=0, maxthreads=1, name="finger-postgres-listen")
        self._thread.start()
        self._connect()

    def stop(self) -> None:
        """Stop listening and reconnecting."""
        self._stopped = True
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._retry = None
        self._drop()
        if self._thread is not None:
            self._thread.stop()
            self._thread = None

    def _connect(self) -> None:
        self._retry = None
        if self._stopped or self._thread is None:
            return
        d = threads.deferToThreadPool(self._reactor, self._thread, self._openBlocking)
        d.addCallbacks(self._opened, self._failed)

    def _openBlocking(self) -> psycopg.Connection[Any]:
        return self.dsn.connect(listen=self.channel)

    def _opened(self, connection: psycopg.Connection[Any]) -> None:
        if self._stopped:
            connection.close()
            return
        self._connection = connection
        self._fd = os.dup(connection.pgconn.socket)
        self.connected = True
        if self._wasConnected:
            self.log.info(
                "PostgreSQL at {where}: reconnected after {attempts} attempt(s); "
                "re-reading the cached statuses",
                where=self.dsn.describe(), attempts=self._attempts,
            )
        self._attempts = 0
        self._wasConnected = True
        self._reactor.addReader(self)
        self._onConnected()
        self.doRead()  # anything that arrived while LISTEN was answered

    def _failed(self, failure: Failure) -> None:
        if self._stopped:
            return
        self._attempts += 1
        delay = self._policy(self._attempts)
        failure.trap(PostgresConfigurationError)
        self.log.warn(
            "{error}; trying again in {delay:.1f} s",
            error=failure.getErrorMessage(), delay=delay,
        )
        self._retry = self._reactor.callLater(delay, self._connect)

    def _drop(self) -> None:
        if self._connection is not None:
            self._reactor.removeReader(self)
            os.close(self._fd)
            self._fd = -1
            try:
                self._connection.close()
            except Exception:
                pass
            self._connection = None
        self.connected = False

    # IReadDescriptor

    def fileno(self) -> int:
        """A duplicate of the connection's socket (-1 when not connected)."""
        return self._fd

    def doRead(self) -> None:
        """Read what arrived and hand each notification on."""
        connection = self._connection
        if connection is None:
            return
        pgconn = connection.pgconn
        try:
            pgconn.consume_input()
        except CONNECTION_ERRORS as e:
            self._lost(self.dsn.mask(str(e)) or "connection closed")
            return
        while True:
            notification = pgconn.notifies()
            if notification is None:
                break
            self._onNotify(notification.extra.decode("utf-8", "replace"))
        if pgconn.status != psycopg.pq.ConnStatus.OK:
            self._lost("connection closed")

    def connectionLost(self, reason: Failure) -> None:
        """The reactor gave up on the socket."""
        if self._connection is not None:
            self._lost(reason.getErrorMessage())

    def logPrefix(self) -> str:
        return "finger-postgres-listen"

    def _lost(self, why: str) -> None:
        self._drop()
        self.log.warn(
            "PostgreSQL at {where}: lost the connection ({why}); reconnecting",
            where=self.dsn.describe(), why=why,
        )
        self._onLost()
        if not self._stopped:
            self._attempts = 1
            self._retry = self._reactor.callLater(self._policy(0), self._connect)
