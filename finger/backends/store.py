"""
The SQLite store: a durable, settable backend.

Tables C{statuses(name, status, set_at)} and, since schema version 2, the
accounts (L{finger.accounts.sqlite}: C{accounts}, C{tokens}), in a database
created on first start; the schema version is kept in C{PRAGMA
user_version}, and an older database is migrated when it is opened (version
2 adds the accounts tables, version 3 each account's own WebFinger entry;
statuses and accounts are kept as they are).

Start-up is in two steps, because C{twistd -u USER -g GROUP} builds the
service as root and switches to USER only before C{startService}:

  - L{SQLiteFingerService.check}, when the service is built, creates
    nothing: an existing database is opened and checked (corrupt, someone
    else's, too new, unwritable); for a new one, its directory must take a
    new file.  (With C{-u}/C{-g}, the tap layer runs it in a child process
    switched to that user and group, so what they cannot do is a clear
    start-up error before twistd detaches: L{finger.tap.privileges}.)
  - C{startService}, as the user the service runs as: the database is opened
    (created if new, so it belongs to that user) and checked again.  A
    failure here (the files changed since) is a L{StoreOpenError}.

Once running, every query runs in one dedicated thread, off the reactor, on
one connection, so writes are serialised and never contend with each other.

Durability: WAL mode with C{synchronous=FULL}, so C{setUser} fires (and the
setter answers C{OK}) only after the WAL is flushed to disk.  With
C{synchronous=NORMAL} a committed transaction would already survive a
C{kill -9} of the process (it is in the operating system's cache), but the
last ones could be lost on power loss; a status write costs one fsync, which
is cheap at the rate people set statuses, so FULL it is.
"""

from __future__ import annotations

import os
import pwd
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, ClassVar, TypeVar

from twisted.internet import defer, threads
from twisted.internet.interfaces import IReactorFromThreads
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool
from zope.interface import implementer

from finger.accounts import sqlite as accountsql
from finger.accounts.interfaces import IAccountStore, IAccountWebFinger
from finger.backends.settable import MAX_STATUS as MAX_STATUS  # re-exported
from finger.backends.settable import SettableStore, writeRefusal
from finger.errors import FingerConfigurationError
from finger.feed import StatusChange
from finger.interfaces import (
    IFingerChangeFeed,
    IFingerClearService,
    IFingerDetails,
    IFingerService,
    IFingerSetterService,
    StoreError,
    UserNotFound,
)
from finger.reactors import globalReactor

SCHEMA_VERSION = 3
BUSY_TIMEOUT = 5.0

# The statements that take a database from version N - 1 to version N.
_MIGRATIONS: dict[int, list[str]] = {
    1: [
        """
        CREATE TABLE statuses (
            name TEXT PRIMARY KEY NOT NULL,
            status TEXT NOT NULL,
            set_at REAL NOT NULL
        )
        """,
    ],
    2: accountsql.SCHEMA_V2,
    3: accountsql.SCHEMA_V3,
}


class StoreOpenError(FingerConfigurationError):
    """The database cannot be used; the message says why."""


def openDatabase(path: str, busyTimeout: float = BUSY_TIMEOUT) -> sqlite3.Connection:
    """
    Open the database at C{path}, creating it if needed, and check that it
    is a readable, writable status database of a version we know.  Raise
    L{StoreOpenError} otherwise.
    """
    try:
        connection = sqlite3.connect(
            path, timeout=busyTimeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as e:
        raise StoreOpenError(f"cannot open {path}: {e}") from None
    try:
        _prepare(connection)
    except sqlite3.Error as e:
        connection.close()
        raise StoreOpenError(f"cannot use {path}: {e}") from None
    except StoreOpenError as e:
        connection.close()
        raise StoreOpenError(f"cannot use {path}: {e}") from None
    return connection


def checkDatabase(path: str) -> None:
    """
    Check that L{openDatabase} will work, creating nothing: an existing
    database is opened, checked and closed; for a missing one, a file is
    created and removed next to where it will be (SQLite also creates its
    C{-wal} and C{-shm} files there).  Raise L{StoreOpenError}.
    """
    if os.path.lexists(path):
        openDatabase(path).close()
        return
    try:
        descriptor, probe = tempfile.mkstemp(
            prefix=".finger-store-check-", dir=os.path.dirname(path) or "."
        )
    except OSError as e:
        raise StoreOpenError(f"cannot create {path}: {e.strerror or e}") from None
    os.close(descriptor)
    os.unlink(probe)


def _prepare(connection: sqlite3.Connection) -> None:
    mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise StoreOpenError(f"cannot switch to WAL mode (journal mode is {mode})")
    connection.execute("PRAGMA synchronous=FULL")
    check = connection.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        raise StoreOpenError(f"the database is corrupt ({check})")
    # A real write, so that an unwritable file fails now and not at the
    # first status set.
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            tables = [row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )]
            if tables:
                raise StoreOpenError(
                    f"not a finger status database (it has tables {', '.join(tables)})"
                )
        elif version > SCHEMA_VERSION:
            raise StoreOpenError(
                f"schema version {version} is newer than this program's ({SCHEMA_VERSION})"
            )
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _MIGRATIONS[step]:
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


_R = TypeVar("_R")


# Run in the store's thread, on its one connection.


def _select(connection: sqlite3.Connection, name: str) -> tuple[str, float] | None:
    row: tuple[str, float] | None = connection.execute(
        "SELECT status, set_at FROM statuses WHERE name = ?", (name,)
    ).fetchone()
    return row


def _selectNames(connection: sqlite3.Connection) -> list[str]:
    return [row[0] for row in connection.execute("SELECT name FROM statuses ORDER BY name")]


def _upsert(connection: sqlite3.Connection, name: str, status: str, setAt: float) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(
            "INSERT INTO statuses (name, status, set_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET status = excluded.status, "
            "set_at = excluded.set_at",
            (name, status, setAt),
        )
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _delete(connection: sqlite3.Connection, name: str) -> int:
    with accountsql.transaction(connection):
        return connection.execute("DELETE FROM statuses WHERE name = ?", (name,)).rowcount


@implementer(
    IFingerService, IFingerSetterService, IFingerClearService, IFingerDetails, IFingerChangeFeed,
    IAccountStore, IAccountWebFinger,
)
class SQLiteFingerService(SettableStore):
    """
    Statuses in an SQLite database; every status set is durable.  Also the
    accounts' store (L{IAccountStore}), in the same database and thread.
    Its change feed (L{IFingerChangeFeed}) tells of each status this
    process stores, once it is on disk.

    @param clock: the time a status is set at (Unix time).
    @param onWrite: called with C{True} for each status durably written,
        C{False} for each write that failed.
    @param reactor: where the store's thread delivers its results; C{None}
        is the global reactor, resolved here.
    """

    log = Logger()
    accountQueries: ClassVar[ModuleType] = accountsql

    def __init__(
        self,
        path: str,
        clock: Callable[[], float] = time.time,
        reactor: IReactorFromThreads | None = None,
        onWrite: Callable[[bool], None] | None = None,
    ) -> None:
        super().__init__(clock)
        self.path = path
        self.onWrite = onWrite
        self._reactor: IReactorFromThreads = globalReactor() if reactor is None else reactor
        self._connection: sqlite3.Connection | None = None
        self._pool: ThreadPool | None = None

    def check(self) -> None:
        """
        Check, when the service is built, that C{startService} will be able
        to open the database (L{checkDatabase}: nothing is created); raise
        L{StoreOpenError}.
        """
        checkDatabase(self.path)

    def open(self) -> None:
        """Open the database for this service; raise L{StoreOpenError}."""
        if self._connection is None:
            self._connection = openDatabase(self.path)

    def _inThread(self, function: Callable[..., _R], *args: object) -> defer.Deferred[_R]:
        if self._pool is None or self._connection is None:
            return defer.fail(StoreError("the store is not running"))
        return threads.deferToThreadPool(
            self._reactor, self._pool, function, self._connection, *args
        )

    def _runAccountQuery(self, function: Callable[..., _R], *args: object) -> defer.Deferred[_R]:
        """
        Run one of L{finger.accounts.sqlite}'s queries in the store's thread;
        SQLite's errors (a full disk...) become L{StoreError}, as the
        PostgreSQL store's do.
        """

        def failed(failure: Failure) -> Failure:
            failure.trap(sqlite3.Error)
            raise StoreError(f"the accounts store failed: {failure.getErrorMessage()}")

        return self._inThread(function, *args).addErrback(failed)

    # IFingerService, IFingerDetails

    def getUserDetails(self, name: str) -> defer.Deferred[dict[str, Any]]:
        """C{name}'s status and when it was set (C{"status"}, C{"setAt"})."""
        d = self._inThread(_select, name)

        def found(row: tuple[str, float] | None) -> dict[str, Any]:
            if row is None:
                raise UserNotFound(name)
            status, setAt = row
            return {"status": status, "setAt": setAt}

        return d.addCallback(found)

    def getUsers(self) -> defer.Deferred[Sequence[str]]:
        """The names, sorted; read once, then kept up to date by L{setUser}."""
        names = self._names.current()
        if names is not None:
            return defer.succeed(names)
        # Queries run in order in one thread and their results arrive in
        # order, so a name set after this load began is added after this.
        return self._inThread(_selectNames).addCallback(self._names.load)

    # IFingerSetterService

    def setUser(self, name: str, status: str) -> defer.Deferred[None]:
        """Store C{name}'s status durably; fail with L{StoreError}."""
        refusal = writeRefusal(name, status)
        if refusal is not None:
            return defer.fail(refusal)
        setAt = self._clock()
        d = self._inThread(_upsert, name, status, setAt)
        return d.addCallbacks(
            self._stored,
            self._storeFailed,
            callbackArgs=(name, status, setAt),
            errbackArgs=(name,),
        )

    def clearUser(self, name: str) -> defer.Deferred[None]:
        """Remove C{name}'s status durably; fail with L{StoreError}."""
        d = self._inThread(_delete, name)
        return d.addCallbacks(
            self._deleted, self._storeFailed, callbackArgs=(name,), errbackArgs=(name,)
        )

    def _deleted(self, removed: int, name: str) -> None:
        self._names.remove(name)
        if removed:
            self._feed.publish(StatusChange(name, None, self._clock()))

    def _stored(self, result: None, name: str, status: str, setAt: float) -> None:
        if self.onWrite is not None:
            self.onWrite(True)
        self._names.add(name)
        self._feed.publish(StatusChange(name, status, setAt))

    def _storeFailed(self, failure: Failure, name: str) -> None:
        if self.onWrite is not None:
            self.onWrite(False)
        failure.trap(sqlite3.Error)
        self.log.error(
            "Could not store the status of {name!r} in {path}: {error}",
            name=name,
            path=self.path,
            error=failure.getErrorMessage(),
        )
        raise StoreError(f"could not store the status: {failure.getErrorMessage()}")

    # IService

    def startService(self) -> None:
        """
        Open the database, creating it if new, as the user the service runs
        as (twistd calls this after dropping privileges); raise
        L{StoreOpenError} saying who could not open it.
        """
        try:
            self.open()
        except StoreOpenError as e:
            error = str(e)
            raise StoreOpenError(f"{error} (running as {userName()}{permissionHint(error)})") from None
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name=f"finger-store {self.path}")
        self._pool.start()
        super().startService()

    def stopService(self) -> None:
        super().stopService()
        if self._pool is not None:
            self._pool.stop()  # Waits for queued work to finish.
            self._pool = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def userName(uid: int | None = None) -> str:
    """C{user NAME} for C{uid} (default: the user this process runs as)."""
    uid = os.geteuid() if uid is None else uid
    try:
        return f"user {pwd.getpwuid(uid).pw_name}"
    except KeyError:
        return f"uid {uid}"


def permissionHint(error: str) -> str:
    """What to fix, for SQLite's terse permission errors."""
    problems = ("unable to open", "readonly", "Permission denied", "Read-only file system")
    if any(problem in error for problem in problems):
        return ": it must be able to write the database and the directory it is in"
    return ""
