"""
The PostgreSQL store: a settable backend shared by every process and node
that uses the same database (C{twistd finger --postgres DSN}).

Tables: C{statuses(name, status, set_at)}, the accounts' (see
L{finger.accounts.postgres}), and C{finger_schema(version)}.  The schema is
created on first start (under an advisory lock, so nodes starting together
do not race) and versioned: a newer version than this code knows is a
L{PostgresConfigurationError}; an older one is migrated (version 2 adds each
account's own WebFinger entry, read afresh at every WebFinger request, so a
change is seen by every node at its next read).  A trigger on C{statuses} sends C{NOTIFY
finger_status} with every change, whoever made it (this service on any node,
C{psql}), delivered when the change commits.

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

import bisect
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from finger.accounts import postgres as accountpg
from finger.accounts.interfaces import Account, IAccountStore, IAccountWebFinger, TokenRecord
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
from finger.feed import ChangeCallback, ChangeFeed, StatusChange, Subscription
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
from finger.users import userNameProblem

SCHEMA_VERSION = 2
MAX_STATUS = 64 * 1024
DEFAULT_CACHE_SIZE = 10_000
CHANNEL = "finger_status"
# Advisory lock key for creating the schema ("fngr").
SCHEMA_LOCK = 0x666E6772
# A notification carries the status when the whole payload fits in this
# (PostgreSQL's limit is 8000 bytes); otherwise the receivers read it.
NOTIFY_LIMIT = 7900

_SCHEMA = [
    "CREATE TABLE finger_schema (version INTEGER NOT NULL)",
    """
    CREATE TABLE statuses (
        name TEXT PRIMARY KEY NOT NULL,
        status TEXT NOT NULL,
        set_at DOUBLE PRECISION NOT NULL
    )
    """,
    f"""
    CREATE FUNCTION finger_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE payload TEXT;
    BEGIN
        IF TG_OP = 'DELETE' THEN
            payload := json_build_object('n', OLD.name, 'd', true)::text;
        ELSE
            payload := json_build_object('n', NEW.name, 's', NEW.status, 't', NEW.set_at)::text;
            IF octet_length(payload) > {NOTIFY_LIMIT} THEN
                payload := json_build_object('n', NEW.name, 't', NEW.set_at, 'big', true)::text;
            END IF;
        END IF;
        PERFORM pg_notify('{CHANNEL}', payload);
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER statuses_changed AFTER INSERT OR UPDATE OR DELETE ON statuses
    FOR EACH ROW EXECUTE FUNCTION finger_status_changed()
    """,
    *accountpg.SCHEMA,
    *accountpg.SCHEMA_V2,
]
# The statements that take a database from version N - 1 to version N.
_MIGRATIONS: dict[int, list[str]] = {2: accountpg.SCHEMA_V2}

Connection = psycopg.Connection[Any]
_MISSING = object()  # cached: no such user


def prepareSchema(connection: Connection, where: str) -> int:
    """
    Create the schema if the database has none; raise
    L{PostgresConfigurationError} if it is not ours or too new.  Return the
    version found (0: created now).
    """
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        row = connection.execute("SELECT to_regclass('finger_schema')").fetchone()
        if row is None or row[0] is None:
            tables = [r[0] for r in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename IN ('statuses', 'accounts', 'tokens')"
            )]
            if tables:
                raise PostgresConfigurationError(
                    f"{where} is not a finger database (it has tables {', '.join(tables)} "
                    "but no finger_schema)"
                )
            for statement in _SCHEMA:
                connection.execute(statement)
            connection.execute(
                "INSERT INTO finger_schema (version) VALUES (%s)", (SCHEMA_VERSION,)
            )
            return 0
        found = connection.execute("SELECT max(version) FROM finger_schema").fetchone()
        version = int(found[0]) if found and found[0] is not None else 0
        if version > SCHEMA_VERSION:
            raise PostgresConfigurationError(
                f"{where}: schema version {version} is newer than this program's "
                f"({SCHEMA_VERSION}); upgrade finger"
            )
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _MIGRATIONS[step]:
                connection.execute(statement)
            connection.execute("INSERT INTO finger_schema (version) VALUES (%s)", (step,))
        return version


def checkDatabase(dsn: Dsn) -> None:
    """Connect, create or check the schema, disconnect; raise L{PostgresConfigurationError}."""
    connection = dsn.connect()
    try:
        prepareSchema(connection, f"PostgreSQL at {dsn.describe()}")
    except psycopg.Error as e:
        raise PostgresConfigurationError(
            f"cannot use PostgreSQL at {dsn.describe()}: {dsn.mask(str(e))}"
        ) from None
    finally:
        connection.close()


# Run in the pool's threads.


def _select(connection: Connection, name: str) -> tuple[str, float] | None:
    row = connection.execute(
        "SELECT status, set_at FROM statuses WHERE name = %s", (name,)
    ).fetchone()
    return None if row is None else (row[0], row[1])


def _selectMany(connection: Connection, names: list[str]) -> dict[str, tuple[str, float]]:
    rows = connection.execute(
        "SELECT name, status, set_at FROM statuses WHERE name = ANY(%s)", (names,)
    )
    return {name: (status, setAt) for name, status, setAt in rows}


def _selectNames(connection: Connection) -> list[str]:
    # One value, split here: a million rows, each converted on its own, take
    # seconds with psycopg's pure-Python libpq wrapper.  Names never hold a
    # newline (finger.users.userNameProblem).  COLLATE "C": the order of
    # Python's sort of the names.
    row = connection.execute(
        "SELECT string_agg(name, E'\\n' ORDER BY name COLLATE \"C\") FROM statuses"
    ).fetchone()
    return row[0].split("\n") if row is not None and row[0] else []


def _upsert(connection: Connection, name: str, status: str, setAt: float) -> None:
    with connection.transaction():
        connection.execute(
            "INSERT INTO statuses (name, status, set_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET status = excluded.status, set_at = excluded.set_at",
            (name, status, setAt),
        )


def _delete(connection: Connection, name: str) -> None:
    with connection.transaction():
        connection.execute("DELETE FROM statuses WHERE name = %s", (name,))


@implementer(
    IFingerService, IFingerSetterService, IFingerClearService, IFingerDetails, IAccountStore,
    IAccountWebFinger,
    IFingerChangeFeed,
)
class PostgresFingerService(service.Service):
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

    def __init__(
        self,
        dsn: str,
        clock: Callable[[], float] = time.time,
        reactor: Any = None,
        poolSize: int = DEFAULT_POOL_SIZE,
        cacheSize: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self.dsn = Dsn(dsn)
        self._clock = clock
        self._reactor = globalReactor() if reactor is None else reactor
        self._pool = ConnectionPool(self.dsn, self._reactor, poolSize)
        self._listener = ChangeListener(
            self.dsn, CHANNEL, self._notified, self._listening, self._notListening, self._reactor
        )
        self._cacheSize = cacheSize
        self._cache: OrderedDict[str, Any] = OrderedDict()  # name -> (status, setAt) | _MISSING
        self._names: list[str] | None = None
        self._namesTuple: tuple[str, ...] | None = None
        self._changes = 0  # notifications heard: a read begun before one is not cached
        self._feed = ChangeFeed()
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

    def _nameAdded(self, name: str) -> None:
        if self._names is not None:
            where = bisect.bisect_left(self._names, name)
            if where == len(self._names) or self._names[where] != name:
                self._names.insert(where, name)
                self._namesTuple = None

    def _nameRemoved(self, name: str) -> None:
        if self._names is not None:
            where = bisect.bisect_left(self._names, name)
            if where < len(self._names) and self._names[where] == name:
                del self._names[where]
                self._namesTuple = None

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
            self._nameRemoved(name)
            self._feed.publish(StatusChange(name, None, self._clock()))
            return
        self._nameAdded(name)
        if change.get("big"):
            self._cache.pop(name, None)
            self._pool.run(_select, name).addCallbacks(
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
            self._pool.run(_selectMany, cached).addCallbacks(
                self._reread, self._rereadFailed, callbackArgs=(cached, self._changes)
            )
        if self._names is not None:
            self._pool.run(_selectNames).addCallbacks(
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
            self._names = names
            self._namesTuple = None
        else:
            self._names = None  # changed meanwhile: load again when asked
            self._namesTuple = None

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

    # IFingerChangeFeed

    def subscribe(self, callback: ChangeCallback) -> Subscription:
        """Be told of every change made on any node (heard through NOTIFY)."""
        return self._feed.subscribe(callback)

    # IFingerService, IFingerDetails

    def getUser(self, name: str) -> defer.Deferred[str]:
        """C{name}'s status."""
        return self.getUserDetails(name).addCallback(lambda details: details["status"])

    def getUserDetails(self, name: str) -> defer.Deferred[dict[str, Any]]:
        """C{name}'s status and when it was set (C{"status"}, C{"setAt"})."""
        cached = self._cache.get(name)
        if cached is not None and self._trusted():
            self._cache.move_to_end(name)
            return defer.maybeDeferred(self._details, name, cached)
        changes = self._changes
        d = self._pool.run(_select, name)

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
        if self._names is not None:
            if self._namesTuple is None:
                self._namesTuple = tuple(self._names)
            return defer.succeed(self._namesTuple)
        changes = self._changes

        def loaded(names: list[str]) -> Sequence[str]:
            if changes == self._changes and self._trusted():
                self._names = names
            return tuple(names)

        def failed(failure: Failure) -> Sequence[str]:
            failure.trap(StoreUnavailable)
            self._unavailable()
            raise LookupFailed(f"Error: {UNAVAILABLE}")

        return self._pool.run(_selectNames).addCallbacks(loaded, failed)

    # IFingerSetterService, IFingerClearService

    def setUser(self, name: str, status: str) -> defer.Deferred[None]:
        """Store C{name}'s status; fires once committed; fails with L{StoreError}."""
        problem = userNameProblem(name)
        if problem:
            return defer.fail(StoreError(f"invalid user name: {problem}"))
        if len(status) > MAX_STATUS:
            return defer.fail(StoreError(f"status too long (limit {MAX_STATUS} characters)"))
        setAt = self._clock()
        d = self._pool.run(_upsert, name, status, setAt)
        return d.addCallbacks(
            self._written, self._writeFailed,
            callbackArgs=(name, (status, setAt)), errbackArgs=(name,),
        )

    def clearUser(self, name: str) -> defer.Deferred[None]:
        """Remove C{name}'s status; fires once committed; fails with L{StoreError}."""
        d = self._pool.run(_delete, name)
        return d.addCallbacks(
            self._written, self._writeFailed, callbackArgs=(name, _MISSING), errbackArgs=(name,)
        )

    def _written(self, result: None, name: str, value: Any) -> None:
        # This process reads its own write at once; the others (and this
        # one's subscribers) hear of it through the notification.
        self._remember(name, value)
        if value is _MISSING:
            self._nameRemoved(name)
        else:
            self._nameAdded(name)

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

    def _accounts(self, function: Callable[..., Any], *args: object) -> defer.Deferred[Any]:
        def failed(failure: Failure) -> None:
            if failure.check(StoreUnavailable):
                self._unavailable()
            elif failure.check(psycopg.Error):
                raise StoreError(self.dsn.mask(failure.getErrorMessage()))
            failure.raiseException()

        return self._pool.run(function, *args).addErrback(failed)

    def createAccount(self, name: str, passwordHash: str, admin: bool) -> defer.Deferred[Account]:
        return self._accounts(accountpg.createAccount, name, passwordHash, admin, self._clock())

    def getAccount(self, name: str) -> defer.Deferred[Account]:
        return self._accounts(accountpg.getAccount, name)

    def listAccounts(self) -> defer.Deferred[Sequence[Account]]:
        return self._accounts(accountpg.listAccounts)

    def setPasswordHash(self, name: str, passwordHash: str) -> defer.Deferred[None]:
        return self._accounts(accountpg.setPasswordHash, name, passwordHash)

    def deleteAccount(self, name: str) -> defer.Deferred[None]:
        return self._accounts(accountpg.deleteAccount, name)

    def addToken(self, name: str, tokenId: str, tokenHash: str) -> defer.Deferred[TokenRecord]:
        return self._accounts(accountpg.addToken, name, tokenId, tokenHash, self._clock())

    def getToken(self, tokenId: str) -> defer.Deferred[TokenRecord | None]:
        return self._accounts(accountpg.getToken, tokenId)

    def listTokens(self, name: str) -> defer.Deferred[Sequence[TokenRecord]]:
        return self._accounts(accountpg.listTokens, name)

    def revokeTokens(self, name: str, tokenId: str | None = None) -> defer.Deferred[int]:
        return self._accounts(accountpg.revokeTokens, name, tokenId)

    def touch(self, name: str, tokenId: str | None, when: float) -> defer.Deferred[None]:
        return self._accounts(accountpg.touch, name, tokenId, when)

    def getWebFinger(self, name: str) -> defer.Deferred[str | None]:
        return self._accounts(accountpg.getWebFinger, name)

    def setWebFinger(self, name: str, entry: str | None) -> defer.Deferred[None]:
        return self._accounts(accountpg.setWebFinger, name, entry)

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
