"""The memory backend: a settable in-memory store (and a change feed)."""

import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from twisted.application import service
from twisted.internet import defer
from zope.interface import implementer

from finger.feed import ChangeCallback, ChangeFeed, StatusChange, Subscription
from finger.interfaces import (
    IFingerChangeFeed,
    IFingerClearService,
    IFingerService,
    IFingerSetterService,
    StoreError,
    UserNotFound,
)
from finger.users import userNameProblem


@implementer(IFingerService, IFingerSetterService, IFingerClearService, IFingerChangeFeed)
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
        if name not in self._users:
            self._sortedNames = None
        self._users[name] = status
        self._feed.publish(StatusChange(name, status, self._clock()))
        return defer.succeed(None)

    def clearUser(self, name: str) -> defer.Deferred[None]:
        """Remove C{name}'s status, if any."""
        if self._users.pop(name, None) is not None:
            self._sortedNames = None
            self._feed.publish(StatusChange(name, None, self._clock()))
        return defer.succeed(None)
