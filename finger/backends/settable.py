"""
What the durable, settable stores have in common (the SQLite store,
L{finger.backends.store}, and the PostgreSQL one, L{finger.backends.postgres}):

  - L{writeRefusal}: the name and status checks before a write (and
    L{MAX_STATUS});
  - L{SortedNames}: the sorted names, read once from the database and then
    kept current as names are added and removed, handed out as one tuple
    until they change (a listing of a million users must not sort or copy
    them per request);
  - L{SettableStore}: a service with a clock, a change feed
    (L{IFingerChangeFeed}), C{getUser} from C{getUserDetails}, and the
    accounts (L{IAccountStore}) as a module of account queries
    (L{finger.accounts.sqlite} or L{finger.accounts.postgres}) run where
    the store runs its own queries.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, ClassVar

from twisted.application import service
from twisted.internet import defer

from finger.accounts.interfaces import Account, TokenRecord
from finger.feed import ChangeCallback, ChangeFeed, Subscription
from finger.interfaces import StoreError
from finger.users import userNameProblem

MAX_STATUS = 64 * 1024


def writeRefusal(name: str, status: str) -> StoreError | None:
    """Why C{name}'s status cannot be set to C{status}, or C{None}."""
    problem = userNameProblem(name)
    if problem:
        return StoreError(f"invalid user name: {problem}")
    if len(status) > MAX_STATUS:
        return StoreError(f"status too long (limit {MAX_STATUS} characters)")
    return None


class SortedNames:
    """A store's names, sorted; unknown (C{None}) until loaded."""

    def __init__(self) -> None:
        self._names: list[str] | None = None
        self._tuple: tuple[str, ...] | None = None

    @property
    def known(self) -> bool:
        """Whether the names have been loaded."""
        return self._names is not None

    def load(self, names: list[str]) -> tuple[str, ...]:
        """Know C{names} (sorted) from now on; return them as a tuple."""
        self._names = names
        self._tuple = tuple(names)
        return self._tuple

    def forget(self) -> None:
        """Unknown again: the next listing reads them from the database."""
        self._names = None
        self._tuple = None

    def current(self) -> tuple[str, ...] | None:
        """The names, or C{None} if they are not known; the same tuple until they change."""
        if self._tuple is None and self._names is not None:
            self._tuple = tuple(self._names)
        return self._tuple

    def add(self, name: str) -> None:
        """C{name} has a status now (nothing to do while the names are unknown)."""
        if self._names is not None:
            where = bisect.bisect_left(self._names, name)
            if where == len(self._names) or self._names[where] != name:
                self._names.insert(where, name)
                self._tuple = None

    def remove(self, name: str) -> None:
        """C{name} has no status any more."""
        if self._names is not None:
            where = bisect.bisect_left(self._names, name)
            if where < len(self._names) and self._names[where] == name:
                del self._names[where]
                self._tuple = None


class SettableStore(service.Service):
    """
    The base of a durable store: subclasses set L{accountQueries} and
    implement C{getUserDetails} and L{_runAccountQuery}.

    @param clock: the time a status is set at (Unix time).
    """

    accountQueries: ClassVar[ModuleType]

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._names = SortedNames()
        self._feed = ChangeFeed()

    def subscribe(self, callback: ChangeCallback) -> Subscription:
        """Be told of every change to a status (L{IFingerChangeFeed})."""
        return self._feed.subscribe(callback)

    def getUserDetails(self, name: str) -> defer.Deferred[dict[str, Any]]:
        """C{name}'s status and when it was set (C{"status"}, C{"setAt"})."""
        raise NotImplementedError

    def getUser(self, name: str) -> defer.Deferred[str]:
        """C{name}'s status."""
        return self.getUserDetails(name).addCallback(lambda details: details["status"])

    # IAccountStore

    def _runAccountQuery(self, function: Callable[..., Any], *args: object) -> defer.Deferred[Any]:
        """C{function(connection, *args)}, run where this store runs its queries."""
        raise NotImplementedError

    def createAccount(self, name: str, passwordHash: str, admin: bool) -> defer.Deferred[Account]:
        return self._runAccountQuery(
            self.accountQueries.createAccount, name, passwordHash, admin, self._clock()
        )

    def getAccount(self, name: str) -> defer.Deferred[Account]:
        return self._runAccountQuery(self.accountQueries.getAccount, name)

    def listAccounts(self) -> defer.Deferred[Sequence[Account]]:
        return self._runAccountQuery(self.accountQueries.listAccounts)

    def setPasswordHash(self, name: str, passwordHash: str) -> defer.Deferred[None]:
        return self._runAccountQuery(self.accountQueries.setPasswordHash, name, passwordHash)

    def deleteAccount(self, name: str) -> defer.Deferred[None]:
        return self._runAccountQuery(self.accountQueries.deleteAccount, name)

    def addToken(self, name: str, tokenId: str, tokenHash: str) -> defer.Deferred[TokenRecord]:
        return self._runAccountQuery(
            self.accountQueries.addToken, name, tokenId, tokenHash, self._clock()
        )

    def getToken(self, tokenId: str) -> defer.Deferred[TokenRecord | None]:
        return self._runAccountQuery(self.accountQueries.getToken, tokenId)

    def listTokens(self, name: str) -> defer.Deferred[Sequence[TokenRecord]]:
        return self._runAccountQuery(self.accountQueries.listTokens, name)

    def revokeTokens(self, name: str, tokenId: str | None = None) -> defer.Deferred[int]:
        return self._runAccountQuery(self.accountQueries.revokeTokens, name, tokenId)

    def touch(self, name: str, tokenId: str | None, when: float) -> defer.Deferred[None]:
        return self._runAccountQuery(self.accountQueries.touch, name, tokenId, when)

    # IAccountWebFinger (read afresh each time: another node's change is seen at once)

    def getWebFinger(self, name: str) -> defer.Deferred[str | None]:
        return self._runAccountQuery(self.accountQueries.getWebFinger, name)

    def setWebFinger(self, name: str, entry: str | None) -> defer.Deferred[None]:
        return self._runAccountQuery(self.accountQueries.setWebFinger, name, entry)
