"""
Chaining backends: several backends behind one L{IFingerService}.

Lookups try the backends in order and the first that knows the user
answers (a backend that fails otherwise than with L{UserNotFound} stops the
lookup: its error is not hidden).  C{getUsers} is the sorted union without
duplicates.  C{setUser} goes to the first settable backend; the chain
provides L{IFingerSetterService} (and the optional L{IFingerVerboseService}
and L{IFingerDetails}) only when some backend does, so frontends that check
with C{providedBy} see what the chain can really do.  Likewise
L{IFingerSnapshots}: a chain's snapshot is a chain of its backends'
snapshots (a backend without them is asked live).

Changes (L{IFingerChangeFeed}, provided when a backend does): the chain
publishes what its backends publish, as the chain's readers see it.  A
change in a backend for a name that an earlier backend knows is shadowed
(a lookup would still answer the earlier backend's status), so it is not
published; a removal that uncovers a later backend's status is published
as that status.  Each change is checked with C{getUser} on the other
backends, one change at a time so that they keep their order; a lookup
that fails otherwise than with L{UserNotFound} counts as not knowing the
name.  At most L{MAX_PENDING_CHANGES} wait to be checked (more are dropped,
with one log line per run of drops).

The chain is a C{MultiService}: starting it starts its backends.
"""

from __future__ import annotations

import bisect
import itertools
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import alsoProvides, implementer

from finger.feed import ChangeCallback, ChangeFeed, StatusChange, Subscription
from finger.interfaces import (
    IFingerChangeFeed,
    IFingerClearService,
    IFingerDetails,
    IFingerService,
    IFingerSetterService,
    IFingerSnapshots,
    IFingerVerboseService,
    UserNotFound,
)

_OPTIONAL = (
    IFingerSetterService, IFingerClearService, IFingerVerboseService, IFingerDetails,
    IFingerSnapshots, IFingerChangeFeed,
)
MAX_PENDING_CHANGES = 10_000


def _contains(names: Sequence[str], name: str) -> bool:
    at = bisect.bisect_left(names, name)
    return at < len(names) and names[at] == name


def sortedUnion(lists: Sequence[Sequence[str]]) -> tuple[str, ...]:
    """
    The sorted union of sorted name lists, without duplicates.  Made for one
    big list (a store) and small ones (system users): the names missing from
    the biggest list are found by bisection and spliced in, so the cost is a
    copy of the big list, or nothing when it already has every name.
    """
    lists = [names for names in lists if names]
    if not lists:
        return ()
    base = max(lists, key=len)
    extras = sorted(
        {name for names in lists if names is not base for name in names if not _contains(base, name)}
    )
    if not extras:
        return base if isinstance(base, tuple) else tuple(base)
    pieces: list[Sequence[str]] = []
    start = 0
    for name in extras:
        at = bisect.bisect_left(base, name, start)
        pieces.append(base[start:at])
        pieces.append((name,))
        start = at
    pieces.append(base[start:])
    return tuple(itertools.chain.from_iterable(pieces))


@implementer(IFingerService)
class ChainFingerService(service.MultiService):
    """Backends tried in order (C{ValueError} if there are none)."""

    log = Logger()

    def __init__(self, backends: Sequence[IFingerService]) -> None:
        super().__init__()
        if not backends:
            raise ValueError("a chain needs at least one backend")
        self.backends = tuple(backends)
        for backend in self.backends:
            if service.IService.providedBy(backend):
                backend.setServiceParent(self)
        for interface in _OPTIONAL:
            if any(interface.providedBy(backend) for backend in self.backends):
                alsoProvides(self, interface)
        self._lastLists: tuple[Sequence[str], ...] | None = None
        self._lastUnion: tuple[str, ...] = ()
        self._feed = ChangeFeed()
        self._pending: deque[tuple[int, StatusChange]] = deque()
        self._checking = False
        self._dropping = 0
        for index, backend in enumerate(self.backends):
            if IFingerChangeFeed.providedBy(backend):
                backend.subscribe(lambda change, index=index: self._memberChanged(index, change))

    def _firstThatKnows(
        self, name: str, ask: Callable[[Any, str], defer.Deferred[Any]]
    ) -> defer.Deferred[Any]:
        return firstThatKnows(self.backends, name, ask)

    # IFingerService

    def getUser(self, name: str) -> defer.Deferred[str]:
        """The status from the first backend that knows C{name}."""
        return self._firstThatKnows(name, lambda backend, n: backend.getUser(n))

    def getUsers(self) -> defer.Deferred[Sequence[str]]:
        """The sorted union of the backends' names (the same tuple while none changed)."""
        return self.unionOf(self.backends)

    def unionOf(self, backends: Sequence[IFingerService]) -> defer.Deferred[Sequence[str]]:
        """The sorted union of C{backends}' names (this chain's backends or their snapshots)."""
        lists = [defer.maybeDeferred(backend.getUsers) for backend in backends]
        gathered = defer.gatherResults(lists, consumeErrors=True)
        return gathered.addCallback(self._union).addErrback(_firstError)

    def _union(self, lists: list[Sequence[str]]) -> Sequence[str]:
        # Backends that cache return the same object while nothing changed;
        # then so does the chain, and listing a big store stays cheap.
        if self._lastLists is not None and all(
            new is old for new, old in zip(lists, self._lastLists, strict=True)
        ):
            return self._lastUnion
        union = sortedUnion(lists)
        self._lastLists = tuple(lists)
        self._lastUnion = union
        return union

    # IFingerVerboseService, IFingerDetails (provided when a backend does)

    def getUserVerbose(self, name: str) -> defer.Deferred[str]:
        """The verbose status from the first backend that knows C{name}."""

        def ask(backend: Any, n: str) -> defer.Deferred[str]:
            if IFingerVerboseService.providedBy(backend):
                return backend.getUserVerbose(n)
            return backend.getUser(n)

        return self._firstThatKnows(name, ask)

    def getUserDetails(self, name: str) -> defer.Deferred[dict[str, Any]]:
        """The details from the first backend that knows C{name}."""

        def ask(backend: Any, n: str) -> defer.Deferred[dict[str, Any]]:
            if IFingerDetails.providedBy(backend):
                return backend.getUserDetails(n)
            return defer.maybeDeferred(backend.getUser, n).addCallback(
                lambda status: {"status": status, "setAt": None}
            )

        return self._firstThatKnows(name, ask)

    # IFingerSnapshots (provided when a backend has snapshots)

    def snapshot(self) -> IFingerService:
        """The backends' snapshots (or the backends themselves), chained."""
        views = [
            backend.snapshot() if IFingerSnapshots.providedBy(backend) else backend
            for backend in self.backends
        ]
        return ChainSnapshot(self, views)

    # IFingerSetterService (provided when a backend is settable)

    def setUser(self, name: str, status: str) -> defer.Deferred[None]:
        """Set the status in the first settable backend."""
        for backend in self.backends:
            if IFingerSetterService.providedBy(backend):
                return defer.maybeDeferred(backend.setUser, name, status)
        raise NotImplementedError("no backend in this chain is settable")

    def clearUser(self, name: str) -> defer.Deferred[None]:
        """Clear the status in the first settable backend (as L{setUser} sets it there)."""
        for backend in self.backends:
            if IFingerSetterService.providedBy(backend):
                if not IFingerClearService.providedBy(backend):
                    break
                return defer.maybeDeferred(backend.clearUser, name)
        raise NotImplementedError("the settable backend of this chain cannot clear a status")


    # IFingerChangeFeed (provided when a backend is)

    def subscribe(self, callback: ChangeCallback) -> Subscription:
        """Be told of the changes the chain's readers can see (see the module docstring)."""
        return self._feed.subscribe(callback)

    def _memberChanged(self, index: int, change: StatusChange) -> None:
        if len(self._pending) >= MAX_PENDING_CHANGES:
            if not self._dropping:
                self.log.warn(
                    "chain: {limit} changes waiting to be checked; dropping more",
                    limit=MAX_PENDING_CHANGES,
                )
            self._dropping += 1
            return
        self._dropping = 0
        self._pending.append((index, change))
        if not self._checking:
            self._checkNext()

    def _checkNext(self) -> None:
        # Synchronous backends answer at once: loop rather than recurse.
        while self._pending:
            index, change = self._pending.popleft()
            self._checking = True
            d = self._visible(index, change)
            d.addCallback(self._publishVisible)
            d.addErrback(lambda failure: self.log.failure("chain: checking a change", failure))
            if not d.called:
                d.addBoth(lambda _: self._checkNext())
                return
            self._checking = False
        self._checking = False

    def _publishVisible(self, change: StatusChange | None) -> None:
        if change is not None:
            self._feed.publish(change)

    def _visible(self, index: int, change: StatusChange) -> defer.Deferred[StatusChange | None]:
        """C{change} as the chain's readers see it, or C{None} when it is shadowed."""

        def ask(backend: Any, name: str) -> defer.Deferred[str]:
            return defer.maybeDeferred(backend.getUser, name).addErrback(_notFoundUnlessKnown)

        def stillRemoved(failure: Failure) -> StatusChange:
            failure.trap(UserNotFound)
            return change

        def notShadowed(failure: Failure) -> Any:
            failure.trap(UserNotFound)
            if change.status is not None:
                return change
            later = firstThatKnows(self.backends[index + 1 :], change.name, ask)
            return later.addCallbacks(
                lambda status: StatusChange(change.name, status, change.setAt), stillRemoved
            )

        d = firstThatKnows(self.backends[:index], change.name, ask)
        return d.addCallbacks(lambda _: None, notShadowed)


def _notFoundUnlessKnown(failure: Failure) -> Failure:
    """A lookup that failed otherwise than with UserNotFound counts as not knowing."""
    if not failure.check(UserNotFound):
        return Failure(UserNotFound("?"))
    return failure


def firstThatKnows(
    backends: Sequence[Any], name: str, ask: Callable[[Any, str], defer.Deferred[Any]]
) -> defer.Deferred[Any]:
    """Call C{ask(backend, name)} on each backend until one knows C{name}."""
    remaining = iter(backends)

    def tryNext(failure: Failure | None = None) -> defer.Deferred[Any]:
        if failure is not None:
            failure.trap(UserNotFound)
        backend = next(remaining, None)
        if backend is None:
            return defer.fail(UserNotFound(name))
        return defer.maybeDeferred(ask, backend, name).addErrback(tryNext)

    return tryNext()


@implementer(IFingerService)
class ChainSnapshot:
    """
    A chain's snapshot: its backends' snapshots tried in order.  The union
    of names is the chain's (cached while the lists are the same objects,
    so a million-user listing copies nothing).
    """

    def __init__(self, chain: ChainFingerService, views: Sequence[IFingerService]) -> None:
        self._chain = chain
        self._views = tuple(views)

    def getUser(self, name: str) -> defer.Deferred[str]:
        """The status from the first view that knows C{name}."""
        return firstThatKnows(self._views, name, lambda view, n: view.getUser(n))

    def getUsers(self) -> defer.Deferred[Sequence[str]]:
        """The sorted union of the views' names."""
        return self._chain.unionOf(self._views)


def _firstError(failure: Failure) -> Failure:
    """The failure of the first backend that failed (not C{FirstError})."""
    failure.trap(defer.FirstError)
    error = failure.value
    assert isinstance(error, defer.FirstError)
    return error.subFailure
