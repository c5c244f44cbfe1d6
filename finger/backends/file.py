"""
The file backend: statuses from an C{/etc/users}-style file.

The file is checked every C{refresh} seconds; when its modification time,
size or inode changed, it is re-read in small steps on the reactor thread
(a million lines never stall other clients for long) and the new table is
swapped in atomically.  A listing reads from L{FileFingerService.snapshot}:
the table that was current when it began, to its last line.  A changed file is read only once it has stayed
unchanged for C{settle} seconds, and is read again if it changed while being
read, so a writer that truncates and rewrites the file in place is not
caught half-way (writing a new file and renaming it over the old one is
still the safe way to edit).  A reload that changed lines publishes one
change per user added, changed or removed (L{IFingerChangeFeed}), found
by comparing the old and new tables in the same small steps, after the new
table is in place, and published in small steps too (so that event streams
are written between them); at most L{MAX_RELOAD_CHANGES} per reload (a file
replaced wholesale is not a stream of news).  When a later version cannot be used (deleted,
unreadable, not UTF-8, empty, mostly garbage) the last good table is kept
and the problem is logged once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Sequence

from twisted.application import service
from twisted.internet import defer, task
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from finger.backends.snapshot import EMPTY, StatusesSnapshot
from finger.feed import ChangeCallback, ChangeFeed, StatusChange, Subscription
from finger.interfaces import IFingerChangeFeed, IFingerService, IFingerSnapshots, UserNotFound
from finger.reactors import globalReactor
from finger.users import UsersParser, UsersTable, changedUsers
from finger.watch import FileSignature, PeriodicCheck, fileSignature

MAX_FILE_SIZE = 512 * 1024 * 1024
MAX_LOGGED_PROBLEMS = 10
CHUNK_SIZE = 64 * 1024
SETTLE_SECONDS = 1.0
# Longest a reload works before letting the reactor serve clients again.
RELOAD_SLICE_SECONDS = 0.002
# Changes one reload publishes at most; the rest are only counted in the log.
MAX_RELOAD_CHANGES = 10_000
PUBLISH_BATCH = 32  # changes published per reactor iteration

_Signature = FileSignature


class UsersFileError(Exception):
    """The users file cannot be used; the message says why."""


class BadUsersFile(UsersFileError):
    """The file's content is unusable: not worth reading again until it changes."""


def readingUsersFile(path: str) -> Generator[None, None, tuple[_Signature, UsersTable]]:
    """
    Read and parse C{path} in small steps: a generator that yields between
    steps and returns the file's signature (when opened) and the parsed
    table.  Raise L{UsersFileError} with a one-line reason on failure.
    """
    try:
        f = open(path, "rb")
    except OSError as e:
        raise UsersFileError(f"cannot read {path}: {e.strerror}") from None
    tooLarge = BadUsersFile(f"{path}: file is larger than {MAX_FILE_SIZE // 2**20} MiB")
    parser = UsersParser()
    with f:
        st = os.fstat(f.fileno())
        if st.st_size > MAX_FILE_SIZE:
            raise tooLarge
        try:
            while chunk := f.read(CHUNK_SIZE):
                if parser.offset + len(chunk) > MAX_FILE_SIZE:
                    raise tooLarge
                parser.feed(chunk)
                yield
            yield from parser.building()
        except OSError as e:
            raise UsersFileError(f"cannot read {path}: {e.strerror}") from None
        except UnicodeDecodeError as e:
            raise BadUsersFile(
                f"{path}: not valid UTF-8 (byte offset {parser.offset + e.start})"
            ) from None
    table = parser.table
    assert table is not None  # parser.building() ran to completion
    return fileSignature(st), table


def readUsersFile(path: str) -> tuple[_Signature, UsersTable]:
    """
    Read and parse C{path} in one go; return its (mtime, size, inode)
    signature and the parsed table.  Raise L{UsersFileError} with a one-line
    reason on failure.
    """
    steps = readingUsersFile(path)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


class _ChangedWhileReading(Exception):
    """The file changed while it was being read; read it again later."""


@implementer(IFingerService, IFingerSnapshots, IFingerChangeFeed)
class FileFingerService(service.Service):
    """
    Statuses from a C{name: status} file, re-read when it changes.

    @param refresh: seconds between checks for a changed file.
    @param reactor: the clock that paces the checks and the reload steps;
        C{None} is the global reactor, resolved here.
    @param settle: seconds a changed file must stay unchanged to be read.
    @param onLoad: called with the seconds each (re)load of the file took.
    """

    log = Logger()

    def __init__(
        self,
        path: str,
        refresh: float = 30.0,
        reactor: IReactorTime | None = None,
        settle: float = SETTLE_SECONDS,
        onLoad: Callable[[float], None] | None = None,
    ) -> None:
        clock: IReactorTime = globalReactor() if reactor is None else reactor
        self.onLoad = onLoad
        self.path = path
        self.refresh = refresh
        self.settle = settle
        self._reactor = clock
        self._table: UsersTable | None = None
        self._signature: _Signature | None = None
        self._lastError: str | None = None
        # Looked up at each check, so that the method may be replaced (tests).
        self._poll = PeriodicCheck(lambda: self.checkForChanges(), clock)
        # A change seen but not loaded yet: its signature and when first seen.
        self._pending: _Signature | None = None
        self._pendingSince = 0.0
        self._rejected: _Signature | None = None  # a version found unusable
        self._recheck: IDelayedCall | None = None
        self._loading: task.CooperativeTask | None = None
        self._cooperator = task.Cooperator(
            terminationPredicateFactory=lambda: _timeSliceOver(RELOAD_SLICE_SECONDS),
            scheduler=lambda work: clock.callLater(0, work),
        )
        self._feed = ChangeFeed()
        # One batch of changes per reactor iteration: what subscribers write
        # reaches the network between batches.
        self._publisher = task.Cooperator(
            terminationPredicateFactory=lambda: lambda: True,
            scheduler=lambda work: clock.callLater(0, work),
        )

    def subscribe(self, callback: ChangeCallback) -> Subscription:
        """Be told of the users each reload adds, changes or removes (L{IFingerChangeFeed})."""
        return self._feed.subscribe(callback)

    # IFingerService

    def getUser(self, name: str) -> defer.Deferred[str]:
        """The status of C{name} in the last good table."""
        table = self._table
        try:
            if table is not None:
                return defer.succeed(table.users[name])
        except KeyError:
            pass
        return defer.fail(UserNotFound(name))

    def getUsers(self) -> defer.Deferred[Sequence[str]]:
        """The names in the last good table, sorted (the same tuple until a reload)."""
        return defer.succeed(self._table.names if self._table else ())

    # IFingerSnapshots

    def snapshot(self) -> IFingerService:
        """
        The table current now: a reload installs a new table and never
        changes an installed one, so the view is the table itself.
        """
        table = self._table
        if table is None:
            return EMPTY
        return StatusesSnapshot(table.users, table.names)

    # Loading

    def loadNow(self) -> None:
        """
        Load the file synchronously (start-up).  Raise L{UsersFileError} if it
        cannot be read at all; malformed lines are only logged.
        """
        started = time.monotonic()
        signature, table = readUsersFile(self.path)
        self._install(signature, table, started)

    def checkForChanges(self) -> defer.Deferred[None]:
        """
        Start re-reading the file if it changed since the last good load and
        has not changed for C{settle} seconds.  The returned Deferred fires
        when that check (and reload, if any) is over; it never fails.
        """
        if self._loading is not None:
            return defer.succeed(None)
        try:
            st = os.stat(self.path)
        except OSError as e:
            self._pending = None
            self._reportError(f"cannot read {self.path}: {e.strerror}")
            return defer.succeed(None)
        signature = fileSignature(st)
        if signature in (self._signature, self._rejected):
            self._pending = None
            return defer.succeed(None)
        now = self._reactor.seconds()
        if signature != self._pending:
            self._pending, self._pendingSince = signature, now
        if now - self._pendingSince < self.settle:
            self._checkAgainIn(self._pendingSince + self.settle - now)
            return defer.succeed(None)
        return self._reload(signature)

    def _checkAgainIn(self, seconds: float) -> None:
        if self._recheck is not None and self._recheck.active():
            self._recheck.cancel()
        self._recheck = self._reactor.callLater(seconds, self.checkForChanges)

    def _reload(self, expected: _Signature) -> defer.Deferred[None]:
        self.log.info("{path} changed; reloading it", path=self.path)
        started = time.monotonic()
        result: list[tuple[_Signature, UsersTable]] = []
        changes: list[tuple[str, str | None]] = []

        def steps() -> Generator[None, None, None]:
            result.append((yield from readingUsersFile(self.path)))
            if self._table is not None and len(self._feed):
                yield from changedUsers(self._table, result[0][1], changes)

        self._loading = self._cooperator.cooperate(steps())
        d = self._loading.whenDone()
        d.addCallback(lambda _: self._reloaded(*result[0], expected, started))
        d.addCallback(lambda _: self._publish(changes))
        d.addErrback(self._reloadFailed, expected)

        def done(_: object) -> None:
            self._loading = None

        return d.addCallback(done)

    def _reloaded(
        self, signature: _Signature, table: UsersTable, expected: _Signature, started: float
    ) -> None:
        try:
            now = fileSignature(os.stat(self.path))
        except OSError:
            now = None
        if signature != expected or now != signature:
            raise _ChangedWhileReading()
        if self._table is not None:
            if signature[1] == 0:
                raise BadUsersFile(
                    f"{self.path} is empty (to clear it on purpose, leave a comment line in it)"
                )
            if table.skipped > len(table.users):
                raise BadUsersFile(
                    f"{self.path}: {table.skipped} malformed lines and only "
                    f"{len(table.users)} good ones; it looks like garbage"
                )
        self._install(signature, table, started)

    def _publish(self, changes: list[tuple[str, str | None]]) -> defer.Deferred[None] | None:
        """Publish a reload's changes in small steps, so that streams get written between them."""
        if not changes:
            return None
        if len(changes) > MAX_RELOAD_CHANGES:
            self.log.info(
                "{path}: {count} users changed; only the first {limit} are published",
                path=self.path, count=len(changes), limit=MAX_RELOAD_CHANGES,
            )
        setAt = self._reactor.seconds()

        def steps() -> Generator[None, None, None]:
            published = changes[:MAX_RELOAD_CHANGES]
            for start in range(0, len(published), PUBLISH_BATCH):
                for name, status in published[start : start + PUBLISH_BATCH]:
                    self._feed.publish(StatusChange(name, status, setAt))
                yield

        self._loading = self._publisher.cooperate(steps())
        return self._loading.whenDone().addCallback(lambda _: None)

    def _reloadFailed(self, failure: Failure, expected: _Signature) -> None:
        if failure.check(_ChangedWhileReading):
            self.log.info("{path} changed while being read; reading it again", path=self.path)
            self._pending = None
            self._checkAgainIn(self.settle)
        elif failure.check(task.TaskStopped):
            pass  # The service stopped.
        elif failure.check(UsersFileError):
            if failure.check(BadUsersFile):
                self._rejected = expected
            self._reportError(failure.getErrorMessage())
        else:
            self.log.failure("Unexpected error reloading {path}", failure, path=self.path)

    def _reportError(self, message: str) -> None:
        if message != self._lastError:
            kept = len(self._table.users) if self._table else 0
            self.log.error(
                "{problem}; keeping the last good table ({kept} users)",
                problem=message,
                kept=kept,
            )
            self._lastError = message

    def _install(self, signature: _Signature, table: UsersTable, started: float) -> None:
        for number, problem in table.problems[:MAX_LOGGED_PROBLEMS]:
            self.log.warn(
                "{path}:{line}: {problem}",
                path=self.path,
                line=number,
                problem=problem,
            )
        hidden = len(table.problems) - MAX_LOGGED_PROBLEMS
        if hidden > 0:
            self.log.warn("{path}: {hidden} more problems", path=self.path, hidden=hidden)
        # One assignment: a query sees either the old table or the new one.
        self._table = table
        self._signature = signature
        self._pending = None
        self._rejected = None
        self._lastError = None
        seconds = time.monotonic() - started
        self.log.info(
            "Loaded {count} users from {path} in {seconds:.2f} s",
            count=len(table.users),
            path=self.path,
            seconds=seconds,
        )
        if self.onLoad is not None:
            self.onLoad(seconds)

    # IService

    def startService(self) -> None:
        super().startService()
        if self._table is None:
            try:
                self.loadNow()
            except UsersFileError as e:
                self._reportError(str(e))
        self._poll.start(self.refresh)

    def stopService(self) -> None:
        super().stopService()
        self._poll.stop()
        if self._recheck is not None and self._recheck.active():
            self._recheck.cancel()
        if self._loading is not None:
            self._loading.stop()


def _timeSliceOver(seconds: float) -> Callable[[], bool]:
    """A Cooperator termination predicate: true once C{seconds} have passed."""
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() >= deadline
