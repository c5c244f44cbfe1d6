"""
Snapshots: a consistent, read-only view of a backend's statuses for one
listing (L{finger.interfaces.IFingerSnapshots}).

A snapshot shares the backend's immutable table; it copies nothing per
user, so handing one to every listing of a million users is free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from twisted.internet import defer
from zope.interface import implementer

from finger.interfaces import IFingerService, UserNotFound


@implementer(IFingerService)
class StatusesSnapshot:
    """
    Answers from C{statuses} (never changed after this is made) and
    C{names} (its keys, sorted).
    """

    def __init__(self, statuses: Mapping[str, str], names: Sequence[str]) -> None:
        self._statuses = statuses
        self._names = names

    def getUser(self, name: str) -> defer.Deferred[str]:
        """The status of C{name} in this version."""
        try:
            return defer.succeed(self._statuses[name])
        except KeyError:
            return defer.fail(UserNotFound(name))

    def getUsers(self) -> defer.Deferred[Sequence[str]]:
        """The names in this version, sorted."""
        return defer.succeed(self._names)


EMPTY = StatusesSnapshot({}, ())
