"""
The PostgreSQL store: a settable backend shared by every process and node
that uses the same database (C{twistd finger --postgres DSN}).

The tables, the schema's creation and versioning, the trigger that sends
C{NOTIFY finger_status} with every change (whoever made it), and the queries
are in L{finger.backends.pgschema}.

Queries run in a bounded pool of threads and connections
(L{finger.backends.pgconn}); every write is committed before its Deferred
fires, so the setter's C{OK} and the API's 200 mean it is in the database.

Each process keeps a cache: the sorted names (for listings) and up to
C{cacheSize} statuses, kept current by the notifications (heard by
L{finger.backends.pglisten}), which also feed L{IFingerChangeFeed}
subscribers.  While the listening connection is down the cache may be stale,
so reads go to the database; if that fails too, a cached status is served,
and a write fails with L{StoreUnavailable} (C{status store unavailable}).
After reconnecting, the names and cached statuses are read again, and the
subscribers told of what changed meanwhile.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, ClassVar

import psycopg
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from finger.accounts import postgres as accountpg
from finger.accounts.interfaces import IAccountStore, IAccountWebFinger
from finger.backends import pgschema
from finger.backends.pgconn import (
    CONNECTION_ERRORS,
    DEFAULT_POOL_SIZE,
    UNAVAILABLE,
    ConnectionPool,
    Dsn,
    PostgresConfigurationError,
    StoreUnavailable,
)
from finger.backends.pglisten import ChangeListener
from finger.backends.pgschema import CHANNEL, checkDatabase, prepareSchema
from finger.backends.settable import SettableStore, writeRefusal
from finger.feed import StatusChange
from finger.interfaces import (
    IFingerChangeFeed,
    IFingerClearService,
    IFingerDetails,
    IFingerService,
    IFingerSetterService,
    LookupFailed,
    StoreError,
    UserNotFound,
)
from finger.reactors import globalReactor

DEFAULT_CACHE_SIZE = 10_000
_MISSING = object()  # cached: no such user


@implementer(
    IFingerService, IFingerSetterService, IFingerClearService, IFingerDetails, IAccountStore,
    IAccountWebFinger,
    IFingerChangeFeed,
)
class PostgresFingerService(SettableStore):
    """
    Statuses and accounts in PostgreSQL, shared with every other process on
    the same database.

    @param dsn: a libpq connection string or URL.
    @param clock: the time a status is set at (Unix time).
    @param reactor: the reactor; C{None} is the global one, resolved here.
    @param poolSize: most connections (and threads) this process uses for
        queries; one more connection listens.
    @param cacheSize: most statuses kept in this process's cache.
    """

    log = Logger()
    accountQueries: ClassVar[ModuleType] = accountpg

    def __init__(
        self,
        dsn: str,
        clock: Callable[[], float] = time.time,
        reactor: Any = None,
        poolSize: int = DEFAULT_POOL_SIZE,
        cacheSize: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        super().__init__(clock)
        self.dsn = Dsn(dsn)
        self._reactor = globalReactor() if reactor is None else reactor
        self._pool = ConnectionPool(self.dsn, self._reactor, poolSize)
        self._listener = ChangeListener(
            self.dsn, CHANNEL, self._notified, self._listening, self._notListening, self._reactor
        )
        self._cacheSize = cacheSize
        self._cache: OrderedDict[str, Any] = OrderedDict()  # name -> (status, setAt) | _MISSING
        self._changes = 0  # notifications heard: a read begun before one is not cached
        self._unavailableLogged = False

    def describe(self) -> str:
        """Where the database is, without the password."""
        return self.dsn.describe()

    def check(self) -> None:
        """Reach the database and create or check its schema, now (blocking; at start-up)."""
        checkDatabase(self.dsn)

    # The cache

    def _trusted(self) -> bool:
        return self._listener.connected

    def _remember(self, name: str, value: Any) -> None:
        self._cache[name] = value
        self._cache.move_to_end(name)
        while len(self._cache) > self._cacheSize:
            self._cache.popitem(last=False)

    # Notifications

    def _notified(self, payload: str) -> None:
        try:
            change = json.loads(payload)
            name = change["n"]
        except (ValueError, KeyError, TypeError):
            self.log.warn("Ignoring a malformed {channel} notification", channel=CHANNEL)
            return
        self._changes += 1
        if change.get("d"):
            self._remember(name, _MISSING)
            self._names.remove(name)
            self._feed.publish(StatusChange(name, None, self._clock()))
            return
        self._names.add(name)
        if change.get("big"):
            self._cache.pop(name, None)
            self._pool.run(pgschema.select, name).addCallbacks(
                self._publishRow, lambda failure: failure.trap(StoreError), callbackArgs=(name,)
            )
            return
        status, setAt = change["s"], float(change["t"])
        if name in self._cache:
            self._remember(name, (status, setAt))
        self._feed.publish(StatusChange(name, status, setAt))

    def _publishRow(self, row: tuple[str, float] | None, name: str) -> None:
        if row is not None:
            self._feed.publish(StatusChange(name, row[0], row[1]))

    def _listening(self) -> None:
        """(Re)connected: what was cached may have changed meanwhile; read it again."""
        self._changes += 1
        self._pool.discardIdle()
        if self._unavailableLogged:
            self.log.info("PostgreSQL at {where} is available again", where=self.describe())
            self._unavailableLogged = False
        cached = list(self._cache)
        if cached:
            self._pool.run(pgschema.selectMany, cached).addCallbacks(
                self._reread, self._rereadFailed, callbackArgs=(cached, self._changes)
            )
        if self._names.known:
            self._pool.run(pgschema.selectNames).addCallbacks(
                self._namesReread, self._rereadFailed, callbackArgs=(self._changes,)
            )

    def _reread(self, rows: dict[str, tuple[str, float]], names: list[str], changes: int) -> None:
        stale = changes != self._changes
        for name in names:
            before = self._cache.get(name)
            after = rows.get(name, _MISSING)
            if before is None or before == after:
                continue
            if not stale:
                self._cache[name] = after
            else:
                self._cache.pop(name, None)
            if isinstance(after, tuple):
                self._feed.publish(StatusChange(name, after[0], after[1]))
            else:
                self._feed.publish(StatusChange(name, None, self._clock()))
        self.log.info("Re-read {count} cached status(es) from PostgreSQL", count=len(names))

    def _namesReread(self, names: list[str], changes: int) -> None:
        if changes == self._changes:
            self._names.load(names)
        else:
            self._names.forget()  # changed meanwhile: load again when asked

    def _rereadFailed(self, failure: Failure) -> None:
        failure.trap(StoreError)
        self.log.warn("Could not re-read the cache from PostgreSQL: {error}",
                      error=failure.getErrorMessage())

    def _notListening(self) -> None:
        self._unavailable()

    def _unavailable(self) -> None:
        if not self._unavailableLogged:
            self._unavailableLogged = True
            self.log.warn(
                "PostgreSQL at {where} is unavailable ({error}): serving cached statuses, "
                "refusing writes",
                where=self.describe(), error=self._pool.lastError or "connection lost",
            )

    # IFingerService, IFingerDetails

    def getUserDetails(self, name: str) -> defer.Deferred[dict[str, Any]]:
        """C{name}'s status and when it was set (C{"status"}, C{"setAt"})."""
        cached = self._cache.get(name)
        if cached is not None and self._trusted():
            self._cache.move_to_end(name)
            return defer.maybeDeferred(self._details, name, cached)
        changes = self._changes
        d = self._pool.run(pgschema.select, name)

        def found(row: tuple[str, float] | None) -> dict[str, Any]:
            value: Any = _MISSING if row is None else row
            if changes == self._changes and self._trusted():
                self._remember(name, value)
            return self._details(name, value)

        def failed(failure: Failure) -> dict[str, Any]:
            failure.trap(StoreUnavailable)
            self._unavailable()
            if cached is not None:
                return self._details(name, cached)
            raise LookupFailed(f"Error: {UNAVAILABLE}")

        return d.addCallbacks(found, failed)

    @staticmethod
    def _details(name: str, value: Any) -> dict[str, Any]:
        if value is _MISSING:
            raise UserNotFound(name)
        return {"status": value[0], "setAt": value[1]}

    def getUsers(self) -> defer.Deferred[Sequence[str]]:
        """The names, sorted: read once, then kept current by the notifications."""
        known = self._names.current()
        if known is not None:
            return defer.succeed(known)
        changes = self._changes

        def loaded(names: list[str]) -> Sequence[str]:
            if changes == self._changes and self._trusted():
                return self._names.load(names)
            return tuple(names)

        def failed(failure: Failure) -> Sequence[str]:
            failure.trap(StoreUnavailable)
            self._unavailable()
            raise LookupFailed(f"Error: {UNAVAILABLE}")

        return self._pool.run(pgschema.selectNames).addCallbacks(loaded, failed)

    # IFingerSetterService, IFingerClearService

    def setUser(self, name: str, status: str) -> defer.Deferred[None]:
        """Store C{name}'s status; fires once committed; fails with L{StoreError}."""
        refusal = writeRefusal(name, status)
        if refusal is not None:
            return defer.fail(refusal)
        setAt = self._clock()
        d = self._pool.run(pgschema.upsert, name, status, setAt)
        return d.addCallbacks(
            self._written, self._writeFailed,
            callbackArgs=(name, (status, setAt)), errbackArgs=(name,),
        )

    def clearUser(self, name: str) -> defer.Deferred[None]:
        """Remove C{name}'s status; fires once committed; fails with L{StoreError}."""
        d = self._pool.run(pgschema.delete, name)
        return d.addCallbacks(
            self._written, self._writeFailed, callbackArgs=(name, _MISSING), errbackArgs=(name,)
        )

    def _written(self, result: None, name: str, value: Any) -> None:
        # This process reads its own write at once; the others (and this
        # one's subscribers) hear of it through the notification.
        self._remember(name, value)
        if value is _MISSING:
            self._names.remove(name)
        else:
            self._names.add(name)

    def _writeFailed(self, failure: Failure, name: str) -> None:
        if failure.check(StoreUnavailable):
            self._unavailable()
            failure.raiseException()
        failure.trap(psycopg.Error)
        error = self.dsn.mask(failure.getErrorMessage())
        self.log.error("Could not store the status of {name!r} in PostgreSQL: {error}",
                       name=name, error=error)
        raise StoreError(f"could not store the status: {error}")

    # IAccountStore (finger.accounts.postgres's queries, in the pool)

    def _runAccountQuery(self, function: Callable[..., Any], *args: object) -> defer.Deferred[Any]:
        def failed(failure: Failure) -> None:
            if failure.check(StoreUnavailable):
                self._unavailable()
            elif failure.check(psycopg.Error):
                raise StoreError(self.dsn.mask(failure.getErrorMessage()))
            failure.raiseException()

        return self._pool.run(function, *args).addErrback(failed)

    # IService

    def startService(self) -> None:
        """Start the pool and the listening connection."""
        self._pool.start()
        self._listener.start()
        super().startService()

    def stopService(self) -> None:
        super().stopService()
        self._listener.stop()
        self._pool.stop()


__all__ = [
    "CONNECTION_ERRORS",
    "PostgresConfigurationError",
    "PostgresFingerService",
    "StoreUnavailable",
    "checkDatabase",
    "prepareSchema",
]
