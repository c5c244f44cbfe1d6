"""The memory backend: a settable in-memory store."""

from collections.abc import Iterable, Mapping, Sequence

from twisted.application import service
from twisted.internet import defer
from zope.interface import implementer

from finger.interfaces import (
    IFingerClearService,
    IFingerService,
    IFingerSetterService,
    StoreError,
    UserNotFound,
)
from finger.users import userNameProblem


@implementer(IFingerService, IFingerSetterService, IFingerClearService)
class MemoryFingerService(service.Service):
    """Statuses kept in a dict; lost when the process ends."""

    def __init__(self, users: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._users: dict[str, str] = dict(users)
        self._sortedNames: tuple[str, ...] | None = None

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
        return defer.succeed(None)

    def clearUser(self, name: str) -> defer.Deferred[None]:
        """Remove C{name}'s status, if any."""
        if self._users.pop(name, None) is not None:
            self._sortedNames = None
        return defer.succeed(None)
