"""
The change feed: what a settable or reloadable backend tells the frontends
that push statuses (server-sent events, the IRC bot's announcements, PB
observers) when a status changes.

A backend that provides L{finger.interfaces.IFingerChangeFeed} keeps a
L{ChangeFeed} and calls L{ChangeFeed.publish} after each change is stored.
Subscribers are called synchronously, in the order they subscribed; each
must be quick and must not raise.  One that raises is not unsubscribed, and
never harms the writer: its error is logged the first time only (a
subscriber failing on every event would flood the log) and C{publish} goes
on with the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from twisted.logger import Logger
from zope.interface import implementer

from finger.interfaces import IFingerChangeFeed, ISubscription


@dataclass(frozen=True)
class StatusChange:
    """
    One change: C{name}'s new C{status} (C{None}: the user was removed), set
    at C{setAt} (Unix time, seconds).
    """

    name: str
    status: str | None
    setAt: float


ChangeCallback = Callable[[StatusChange], object]


@implementer(ISubscription)
class Subscription:
    """One subscriber of a L{ChangeFeed}; L{unsubscribe} (or L{cancel}) ends it."""

    def __init__(self, feed: ChangeFeed, callback: ChangeCallback) -> None:
        self._feed = feed
        self.callback = callback
        self.failed = False  # its first error was logged
        self.active = True

    def unsubscribe(self) -> None:
        """Stop receiving changes (twice is harmless)."""
        if self.active:
            self.active = False
            self._feed._remove(self)

    cancel = unsubscribe


@implementer(IFingerChangeFeed)
class ChangeFeed:
    """Fans each published L{StatusChange} out to its subscribers."""

    log = Logger()

    def __init__(self) -> None:
        self._subscriptions: dict[Subscription, None] = {}  # ordered, O(1) removal

    def __len__(self) -> int:
        """How many subscribers there are."""
        return len(self._subscriptions)

    def subscribe(self, callback: ChangeCallback) -> Subscription:
        """Call C{callback(change)} for every change from now on."""
        subscription = Subscription(self, callback)
        self._subscriptions[subscription] = None
        return subscription

    def _remove(self, subscription: Subscription) -> None:
        self._subscriptions.pop(subscription, None)

    def publish(self, change: StatusChange) -> None:
        """Tell every subscriber about C{change}; never raises."""
        for subscription in list(self._subscriptions):
            if not subscription.active:
                continue  # unsubscribed by an earlier callback
            try:
                subscription.callback(change)
            except Exception:
                if not subscription.failed:
                    subscription.failed = True
                    self.log.failure(
                        "A change feed subscriber ({callback!r}) failed; "
                        "its further failures are not logged",
                        callback=subscription.callback,
                    )
