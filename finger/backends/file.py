"""
The file backend: statuses from an C{/etc/users}-style file.

The file is parsed off the reactor thread and swapped in atomically; it is
re-read when its modification time, size or inode changes.  When a later
version cannot be used (deleted, unreadable, not UTF-8, empty, mostly
garbage) the last good table is kept and the problem is logged once.
"""

from __future__ import annotations

import os

from twisted.application import service
from twisted.internet import defer, threads
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from zope.interface import implementer

from finger.interfaces import IFingerService, UserNotFound
from finger.users import UsersTable, parseUsers

MAX_FILE_SIZE = 512 * 1024 * 1024
MAX_LOGGED_PROBLEMS = 10

_Signature = tuple[int, int, int]


class UsersFileError(Exception):
    """The users file cannot be used; the message says why."""


def readUsersFile(path: str) -> tuple[_Signature, UsersTable]:
    """
    Read and parse C{path}; return its (mtime, size, inode) signature and the
    parsed table.  Raise L{UsersFileError} with a one-line reason on failure.
    """
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_size > MAX_FILE_SIZE:
                raise UsersFileError(
                    f"{path}: file is larger than {MAX_FILE_SIZE // 2**20} MiB"
                )
            data = f.read(MAX_FILE_SIZE + 1)
    except OSError as e:
        raise UsersFileError(f"cannot read {path}: {e.strerror}") from None
    try:
        table = parseUsers(data)
    except UnicodeDecodeError as e:
        raise UsersFileError(
            f"{path}: not valid UTF-8 (byte offset {e.start})"
        ) from None
    return (st.st_mtime_ns, st.st_size, st.st_ino), table


@implementer(IFingerService)
class FileFingerService(service.Service):
    """Statuses from a C{name: status} file, re-read when it changes."""

    log = Logger()

    def __init__(self, path: str, refresh: float = 30.0, reactor=None) -> None:
        if reactor is None:
            from twisted.internet import reactor
        self.path = path
        self.refresh = refresh
        self._reactor = reactor
        self._table: UsersTable | None = None
        self._signature: _Signature | None = None
        self._lastError: str | None = None
        self._poll: LoopingCall | None = None

    # IFingerService

    def getUser(self, name: str) -> defer.Deferred:
        try:
            return defer.succeed(self._table.users[name])
        except (KeyError, AttributeError):
            return defer.fail(UserNotFound(name))

    def getUsers(self) -> defer.Deferred:
        return defer.succeed(self._table.names if self._table else ())

    # Loading

    def loadNow(self) -> None:
        """
        Load the file synchronously (start-up).  Raise L{UsersFileError} if it
        cannot be read at all; malformed lines are only logged.
        """
        signature, table = readUsersFile(self.path)
        self._install(signature, table)

    def checkForChanges(self) -> defer.Deferred:
        """
        Re-read the file in a thread if it changed since the last good load.
        The returned Deferred never fails.
        """
        try:
            st = os.stat(self.path)
        except OSError as e:
            self._reportError(f"cannot read {self.path}: {e.strerror}")
            return defer.succeed(None)
        if (st.st_mtime_ns, st.st_size, st.st_ino) == self._signature:
            return defer.succeed(None)
        self.log.info("{path} changed; reloading it", path=self.path)
        d = threads.deferToThread(readUsersFile, self.path)
        d.addCallback(self._reloaded)
        d.addErrback(self._reloadFailed)
        return d

    def _reloaded(self, result: tuple[_Signature, UsersTable]) -> None:
        signature, table = result
        if self._table is not None:
            if signature[1] == 0:
                raise UsersFileError(
                    f"{self.path} is empty (to clear it on purpose, leave a comment line in it)"
                )
            if table.skipped > len(table.users):
                raise UsersFileError(
                    f"{self.path}: {table.skipped} malformed lines and only "
                    f"{len(table.users)} good ones; it looks like garbage"
                )
        self._install(signature, table)

    def _reloadFailed(self, failure) -> None:
        if failure.check(UsersFileError):
            self._reportError(failure.getErrorMessage())
        else:
            self.log.failure("Unexpected error reloading {path}", failure, path=self.path)

    def _reportError(self, message: str) -> None:
        if message != self._lastError:
            kept = len(self._table.users) if self._table else 0
            self.log.error(
                "{message}; keeping the last good table ({kept} users)",
                message=message,
                kept=kept,
            )
            self._lastError = message

    def _install(self, signature: _Signature, table: UsersTable) -> None:
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
        self._lastError = None
        self.log.info(
            "Loaded {count} users from {path}", count=len(table.users), path=self.path
        )

    # IService

    def startService(self) -> None:
        super().startService()
        if self._table is None:
            try:
                self.loadNow()
            except UsersFileError as e:
                self._reportError(str(e))
        self._poll = LoopingCall(self.checkForChanges)
        self._poll.clock = self._reactor
        self._poll.start(self.refresh, now=False)

    def stopService(self) -> None:
        super().stopService()
        if self._poll is not None and self._poll.running:
            self._poll.stop()
