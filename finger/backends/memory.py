"""
The memory backend: a settable in-memory store (and a change feed).

A snapshot (for a listing) shares the current dict; the first write after
it copies the dict (copy on write), so listings cost nothing while nobody
writes and a write costs one copy per listing that saw the old version.
"""

import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from twisted.application import service
from twisted.internet import defer
from zope.interface import implementer

from finger.backends.snapshot import StatusesSnapshot
from finger.feed import ChangeCallback, ChangeFeed, StatusChange, Subscription
from finger.interfaces import (
    IFingerChangeFeed,
    IFingerClearService,
    IFingerService,
    IFingerSetterService,
    IFingerSnapshots,
    StoreError,
    UserNotFound,
)
from finger.users import userNameProblem


@implementer(
    IFingerService, IFingerSetterService, IFingerClearService, IFingerSnapshots, IFingerChangeFeed
)
class MemoryFingerService(service.Service):
    """
    Statuses kept in a dict; lost when the process ends.  Every status set
    is published to the change feed (C{clock} gives its time).
    """

    def __init__(
        self,
        users: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._users: dict[str, str] = dict(users)
        self._sortedNames: tuple[str, ...] | None = None
        self._snapshot: StatusesSnapshot | None = None  # shares self._users
        self._clock = clock
        self._feed = ChangeFeed()

    def subscribe(self, callback: ChangeCallback) -> Subscription:
        """Be told of every status set from now on (L{IFingerChangeFeed})."""
        return self._feed.subscribe(callback)

    def getUser(self, name: str) -> defer.Deferred[str]:
        """The status of C{name}."""
        try:
            return defer.succeed(self._users[name])
        except KeyError:
            return defer.fail(UserNotFound(name))

    def getUsers(self) -> defer.Deferred[Sequence[str]]:
        """The names, sorted (the same tuple until a new name is set)."""
        if self._sortedNames is None:
            self._sortedNames = tuple(sorted(self._users))
        return defer.succeed(self._sortedNames)

    def setUser(self, name: str, status: str) -> defer.Deferred[None]:
        """Set C{name}'s status; fail with L{StoreError} for an invalid name."""
        problem = userNameProblem(name)
        if problem:
            return defer.fail(StoreError(f"invalid user name: {problem}"))
        if self._snapshot is not None:
            self._users = dict(self._users)  # the snapshot keeps the old dict
            self._snapshot = None
        if name not in self._users:
            self._sortedNames = None
        self._users[name] = status
        self._feed.publish(StatusChange(name, status, self._clock()))
        return defer.succeed(None)

    def clearUser(self, name: str) -> defer.Deferred[None]:
        """Remove C{name}'s status, if any."""
        if name in self._users:
            if self._snapshot is not None:
                self._users = dict(self._users)  # the snapshot keeps the old dict
                self._snapshot = None
            del self._users[name]
            self._sortedNames = None
            self._feed.publish(StatusChange(name, None, self._clock()))
        return defer.succeed(None)

    def snapshot(self) -> IFingerService:
        """The statuses as they are now (copied on the next write, not now)."""
        if self._snapshot is None:
            names = self._sortedNames
            if names is None:
                names = self._sortedNames = tuple(sorted(self._users))
            self._snapshot = StatusesSnapshot(self._users, names)
        return self._snapshot
