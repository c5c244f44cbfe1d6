"""
Bounded work for the backends that act on a client's behalf (forwarding,
web status fetches, the local finger program): at most C{running} at once
and C{queued} more waiting; beyond that a lookup fails at once with
L{TooBusy} (a one-line L{LookupFailed} the client sees), so a flood of
requests, abandoned or not, cannot pile up work.

Cancelling the Deferred that L{BoundedWork.run} returns (a frontend does
when its client goes away) takes a waiting call out of the queue, or
cancels the running one (which closes its connection or kills its
process), and frees its place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from twisted.internet import defer

from finger.interfaces import LookupFailed

_T = TypeVar("_T")


class TooBusy(LookupFailed):
    """Too many such lookups are running and waiting; the client should try again later."""


class BoundedWork:
    """
    Runs at most C{running} calls at once with at most C{queued} waiting.

    @param busyMessage: the one line a refused lookup fails with.
    """

    def __init__(self, running: int, queued: int, busyMessage: str) -> None:
        if running < 1 or queued < 0:
            raise ValueError("BoundedWork needs running >= 1 and queued >= 0")
        self.queued = queued
        self.busyMessage = busyMessage
        self._semaphore = defer.DeferredSemaphore(running)

    @property
    def running(self) -> int:
        """How many calls run now."""
        return self._semaphore.limit - self._semaphore.tokens

    @property
    def waiting(self) -> int:
        """How many calls wait for a place."""
        return len(self._semaphore.waiting)

    def run(
        self, function: Callable[..., defer.Deferred[_T]], *args: Any
    ) -> defer.Deferred[_T]:
        """
        C{function(*args)} when there is a place; fails with L{TooBusy} when
        the queue is full.
        """
        if self._semaphore.tokens == 0 and self.waiting >= self.queued:
            return defer.fail(TooBusy(self.busyMessage))
        return self._semaphore.run(function, *args)
