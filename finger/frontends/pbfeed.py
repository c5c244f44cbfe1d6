"""
PB observers: C{root.callRemote("subscribe", observer)} makes the server
call C{observer.callRemote("statusChanged", name, status)} after each
status change (C{status} is C{None} when the user was removed), until the
client's connection ends.  A subscribed connection is not closed for being
idle (it is waiting for news, as a call in progress would).

Bounded: each connection has one push producer registered with its
transport, so the server knows when the client stops reading; changes then
wait in a queue of at most L{MAX_QUEUED} per observer.  An observer whose
queue overflows, or that leaves more than L{MAX_UNANSWERED} calls
unanswered, is cut off: the connection is closed and the reason logged.
"""

from __future__ import annotations

import time
import weakref
from collections import deque
from typing import Any, Protocol

from twisted.internet import defer
from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.spread import banana, pb
from zope.interface import implementer

from finger import querylog
from finger.feed import StatusChange
from finger.interfaces import IFingerChangeFeed, ISubscription
from finger.text import printableLines, replaceSurrogates

MAX_OBSERVERS = 4  # per connection
MAX_QUEUED = 256  # changes waiting for one observer while the client does not read
MAX_UNANSWERED = 64  # statusChanged calls the client has not answered yet


class SubscribeRefused(Exception):
    """C{subscribe} cannot be granted; the message says why."""


class Broker(Protocol):
    """What a subscription uses of the connection's broker (L{finger.frontends.pb.FingerBroker})."""

    transport: Any

    def callStarted(self, answer: defer.Deferred[Any]) -> None: ...


class QueryLogged(Protocol):
    """Where a subscription's start and end are recorded."""

    def record(self, frontend: str, peer: str, query: str, outcome: str, started: float) -> None: ...


def sendableStatus(status: str | None) -> str | None:
    """The status as PB sends it (printable lines; C{None} when removed)."""
    if status is None:
        return None
    text = replaceSurrogates("\n".join(printableLines(status)))
    if len(text.encode("utf-8")) > banana.SIZE_LIMIT:
        return text.encode("utf-8")[: banana.SIZE_LIMIT // 2].decode("utf-8", "ignore")
    return text


@implementer(IPushProducer)
class ConnectionFlow:
    """The observers of one connection and whether its client reads."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.paused = False
        self.observers: list[ObserverSubscription] = []
        self.registered = False
        try:
            broker.transport.registerProducer(self, True)
            self.registered = True
        except RuntimeError:
            pass  # another producer (PB paging): the unanswered-call bound still holds

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False
        for observer in list(self.observers):
            observer.flush()

    def stopProducing(self) -> None:
        for observer in list(self.observers):
            observer.end("the client went away")


_flows: weakref.WeakKeyDictionary[Any, ConnectionFlow] = weakref.WeakKeyDictionary()


class ObserverSubscription:
    """One observer, fed from the backend's change feed."""

    log = Logger()

    def __init__(
        self,
        feed: IFingerChangeFeed,
        flow: ConnectionFlow,
        observer: pb.RemoteReference,
        queryLog: QueryLogged,
    ) -> None:
        self.flow = flow
        self.observer = observer
        self.queryLog = queryLog
        self.peer = querylog.peerName(flow.broker.transport)
        self.started = time.monotonic()
        self.queue: deque[tuple[str, str | None]] = deque()
        self.unanswered = 0
        self.failedOnce = False
        self.done: defer.Deferred[None] = defer.Deferred()
        self.ended = False
        flow.observers.append(self)
        flow.broker.callStarted(self.done)  # no idle timeout while subscribed
        observer.notifyOnDisconnect(lambda _: self.end("the client went away"))
        self.subscription: ISubscription = feed.subscribe(self.changed)

    def changed(self, change: StatusChange) -> None:
        """A change from the feed: call the observer, or queue while the client does not read."""
        if self.ended:
            return
        self.queue.append((change.name, sendableStatus(change.status)))
        if len(self.queue) > MAX_QUEUED:
            self.cut(f"fell behind by {len(self.queue)} changes")
            return
        self.flush()

    def flush(self) -> None:
        """Send what waits, while the client reads."""
        while self.queue and not self.flow.paused and not self.ended:
            if self.unanswered >= MAX_UNANSWERED:
                self.cut(f"{self.unanswered} statusChanged calls unanswered")
                return
            name, status = self.queue.popleft()
            self.unanswered += 1
            try:
                d = self.observer.callRemote("statusChanged", name, status)
            except pb.DeadReferenceError:
                self.end("the client went away")
                return
            d.addBoth(self._answered)

    def _answered(self, result: object) -> None:
        self.unanswered -= 1
        if isinstance(result, Failure) and not self.ended and not self.failedOnce:
            if not result.check(pb.PBConnectionLost, pb.DeadReferenceError):
                self.failedOnce = True
                self.log.info(
                    "PB observer of {peer} failed on statusChanged: {error} "
                    "(further failures not logged)",
                    peer=self.peer, error=result.getErrorMessage(),
                )

    def cut(self, reason: str) -> None:
        """Close the connection of an observer that fell too far behind."""
        if self.ended:
            return
        self.log.info("PB observer of {peer} cut off: {reason}", peer=self.peer, reason=reason)
        self.end(f"cut off: {reason}")
        self.flow.broker.transport.abortConnection()

    def end(self, reason: str) -> None:
        """The subscription is over."""
        if self.ended:
            return
        self.ended = True
        self.queue.clear()
        self.subscription.unsubscribe()
        if self in self.flow.observers:
            self.flow.observers.remove(self)
        self.queryLog.record("pb", self.peer, "subscribe", f"ended: {reason}", self.started)
        self.done.callback(None)


def subscribeObserver(
    service: object, observer: object, queryLog: QueryLogged
) -> ObserverSubscription:
    """Subscribe C{observer} (a remote reference); raise L{SubscribeRefused}."""
    if not isinstance(observer, pb.RemoteReference):
        raise SubscribeRefused(
            f"subscribe wants a Referenceable observer, not {type(observer).__name__}"
        )
    if not IFingerChangeFeed.providedBy(service):
        raise SubscribeRefused("this service publishes no changes")
    broker = observer.broker
    flow = _flows.get(broker)
    if flow is None:
        flow = _flows[broker] = ConnectionFlow(broker)
    if any(o.observer == observer for o in flow.observers):
        raise SubscribeRefused("this observer is already subscribed")
    if len(flow.observers) >= MAX_OBSERVERS:
        raise SubscribeRefused(f"at most {MAX_OBSERVERS} observers per connection")
    return ObserverSubscription(IFingerChangeFeed(service), flow, observer, queryLog)
