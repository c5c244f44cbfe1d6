"""
C{GET /api/events}: status changes as server-sent events (the HTML
Living Standard's C{text/event-stream}), for browsers' C{EventSource},
C{curl -N} and any HTTP client.

Each change is one event::

    id: 1764460800123
    event: status
    data: {"name": "alice", "status": "Gone fishing", "setAt": 1764460800.1}

(C{status} is C{null} when the user was removed.)  C{?user=NAME}, repeatable,
follows those users only.  Ids increase, across restarts too (they start
from the time the service started, in milliseconds), so C{Last-Event-ID}
(sent by C{EventSource} when it reconnects) resumes after the last event
seen, from a bounded backlog of recent events; an id the backlog no longer
covers (or from an earlier run) gets one C{event: reset} instead, meaning
"some changes were missed: read the statuses again".  A comment line is
sent every C{keepAlive} seconds, so proxies and the client see the
connection alive.

Bounded: each stream is a push producer registered with its request, so
the transport tells it when the client stops reading (C{pauseProducing});
events then wait in a queue of at most C{queueEvents} events and
C{queueBytes} bytes, and a stream whose queue overflows, or that stays
paused through C{stallKeepAlives} keep-alive ticks, is cut off (the reason
is logged, and is the query log's outcome).  Streams are connections, so
the listeners' connection limits apply to them.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IPushProducer, IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.web import http, resource
from twisted.web.server import NOT_DONE_YET
from zope.interface import implementer

from finger.feed import StatusChange
from finger.frontends.web.respond import displayStatus, sendJSON
from finger.interfaces import IFingerChangeFeed
from finger.reactors import globalReactor
from finger.users import userNameProblem

if TYPE_CHECKING:
    from finger.frontends.web.site import FingerRequest

CONTENT_TYPE = b"text/event-stream; charset=utf-8"
MAX_USERS = 100  # ?user= given at most this many times
MAX_EVENT_ID_LENGTH = 20
RETRY_MILLISECONDS = 3000  # how long EventSource waits before reconnecting


@dataclass(frozen=True)
class EventSettings:
    """
    The event streams' settings.

    @ivar keepAlive: seconds between keep-alive comments (15 to 30 suits
        proxies that close idle connections).
    @ivar backlog: recent events kept for C{Last-Event-ID}, at most this
        many and C{backlogBytes} bytes.
    @ivar queueEvents: events one stream may have waiting while its client
        does not read; more cut it off, as do C{queueBytes} bytes.
    @ivar stallKeepAlives: keep-alive ticks a stream may stay paused (its
        client not reading at all) before it is cut off.
    @ivar clock: the keep-alive timer's clock and the ids' start; C{None}:
        the global reactor.
    """

    keepAlive: float = 20.0
    backlog: int = 1000
    backlogBytes: int = 4 * 1024 * 1024
    queueEvents: int = 1024
    queueBytes: int = 1024 * 1024
    stallKeepAlives: int = 3
    clock: IReactorTime | None = None


@dataclass(frozen=True)
class Event:
    """One change as sent: its id, whose it is, and its encoded text."""

    id: int
    name: str
    text: bytes


def encodeChange(eventId: int, change: StatusChange) -> bytes:
    """The C{event: status} text for C{change}."""
    status = None if change.status is None else displayStatus(change.status)
    data = json.dumps(
        {"name": change.name, "status": status, "setAt": change.setAt},
        ensure_ascii=False,
        separators=(",", ":"),
    )  # JSON escapes line ends: the data is one line
    return f"id: {eventId}\nevent: status\ndata: {data}\n\n".encode()


def encodeReset(lastId: int, reason: str) -> bytes:
    """The C{event: reset} text: changes were missed; read the statuses again."""
    data = json.dumps({"reason": reason}, separators=(",", ":"))
    return f"id: {lastId}\nevent: reset\ndata: {data}\n\n".encode()


KEEP_ALIVE = b": keep-alive\n\n"


class EventHub:
    """
    Subscribes once to a backend's change feed, numbers the changes, keeps
    the backlog and hands each change to the open streams.
    """

    log = Logger()

    def __init__(self, feed: IFingerChangeFeed, settings: EventSettings) -> None:
        self.settings = settings
        self.clock: IReactorTime = globalReactor() if settings.clock is None else settings.clock
        self.firstId = int(self.clock.seconds() * 1000)
        self.lastId = self.firstId - 1
        self.backlog: deque[Event] = deque()
        self._backlogBytes = 0
        self.streams: dict[EventStream, None] = {}
        self._keepAlive: LoopingCall | None = None
        self.subscription = feed.subscribe(self.changed)

    def changed(self, change: StatusChange) -> None:
        """A change from the feed: number it, keep it, and send it."""
        self.lastId += 1
        event = Event(self.lastId, change.name, encodeChange(self.lastId, change))
        self.backlog.append(event)
        self._backlogBytes += len(event.text)
        while len(self.backlog) > self.settings.backlog or (
            self._backlogBytes > self.settings.backlogBytes and len(self.backlog) > 1
        ):
            self._backlogBytes -= len(self.backlog.popleft().text)
        for stream in list(self.streams):
            stream.offer(event)

    def since(self, lastId: int) -> list[Event] | None:
        """The events after C{lastId}, or C{None} when the backlog does not reach back to it."""
        if lastId > self.lastId or lastId < self.firstId - 1:
            return None
        oldest = self.backlog[0].id if self.backlog else self.lastId + 1
        if lastId < oldest - 1:
            return None
        return [event for event in self.backlog if event.id > lastId]

    def add(self, stream: EventStream) -> None:
        """Start keeping C{stream} alive and sending it changes."""
        self.streams[stream] = None
        if self._keepAlive is None:
            self._keepAlive = LoopingCall(self.keepAlive)
            self._keepAlive.clock = self.clock
            self._keepAlive.start(self.settings.keepAlive, now=False)

    def remove(self, stream: EventStream) -> None:
        """C{stream} ended."""
        self.streams.pop(stream, None)
        if not self.streams and self._keepAlive is not None:
            if self._keepAlive.running:
                self._keepAlive.stop()
            self._keepAlive = None

    def keepAlive(self) -> None:
        """Send every stream a keep-alive comment (or count its stall)."""
        for stream in list(self.streams):
            stream.keepAlive()


@implementer(IPushProducer)
class EventStream:
    """One client's stream: a push producer registered with its request."""

    log = Logger()

    def __init__(self, hub: EventHub, request: FingerRequest, users: frozenset[str]) -> None:
        self.hub = hub
        self.request = request
        self.users = users
        self.paused = False
        self.stalled = 0  # keep-alive ticks spent paused
        self.queue: deque[bytes] = deque()
        self.queuedBytes = 0
        self.sent = 0
        self.ended = False

    def wants(self, name: str) -> bool:
        """Whether this stream follows C{name}."""
        return not self.users or name in self.users

    def offer(self, event: Event) -> None:
        """Send C{event} if this stream follows its user (queued while paused)."""
        if self.wants(event.name):
            self.write(event.text, counts=True)

    def write(self, text: bytes, counts: bool = False) -> None:
        """Write C{text} now, or queue it while the client is not reading."""
        if self.ended:
            return
        if self.paused or self.queue:
            self.queue.append(text)
            self.queuedBytes += len(text)
            settings = self.hub.settings
            if len(self.queue) > settings.queueEvents or self.queuedBytes > settings.queueBytes:
                self.cut(f"fell behind by {len(self.queue)} events ({self.queuedBytes} bytes)")
            return
        self.request.write(text)
        if counts:
            self.sent += 1
            self.request.outcome = f"stream: {self.sent} events"

    def keepAlive(self) -> None:
        """A keep-alive tick: send the comment, or cut a stream stalled too long."""
        if self.paused:
            self.stalled += 1
            if self.stalled >= self.hub.settings.stallKeepAlives:
                seconds = self.stalled * self.hub.settings.keepAlive
                self.cut(f"not reading for {seconds:g} s")
            return
        self.stalled = 0
        if not self.queue:
            self.request.write(KEEP_ALIVE)

    # IPushProducer

    def pauseProducing(self) -> None:
        """The client stopped reading: queue from now on."""
        self.paused = True

    def resumeProducing(self) -> None:
        """The client reads again: send what is queued."""
        self.paused = False
        self.stalled = 0
        while self.queue and not self.paused and not self.ended:
            text = self.queue.popleft()
            self.queuedBytes -= len(text)
            self.request.write(text)

    def stopProducing(self) -> None:
        """The connection is going away."""
        self.finished()

    def cut(self, reason: str) -> None:
        """Disconnect a client that fell too far behind, saying why in the logs."""
        if self.ended:
            return
        self.log.info(
            "event stream to {peer} cut off: {reason}", peer=self.request.peer, reason=reason
        )
        self.request.outcome = f"cut off: {reason}"
        self.finished()
        channel: Any = self.request.channel
        if isinstance(channel, http.HTTPChannel):
            transport: Any = channel.transport
            transport.abortConnection()
        elif channel is not None:
            channel.abortConnection()  # HTTP/2: resets this stream only

    def finished(self, _: object = None) -> None:
        """The stream ended (the client went away, or was cut off)."""
        if self.ended:
            return
        self.ended = True
        self.queue.clear()
        self.queuedBytes = 0
        self.hub.remove(self)


class BadRequest(ValueError):
    """The request's parameters break a rule; the message says which."""


def followedUsers(values: Iterable[bytes]) -> frozenset[str]:
    """The C{?user=} names; raise L{BadRequest}."""
    names = []
    for raw in values:
        name = raw.decode("utf-8", "replace")
        problem = userNameProblem(name)
        if problem:
            raise BadRequest(f"user={name!r}: {problem}")
        names.append(name)
    if len(names) > MAX_USERS:
        raise BadRequest(f"user is given {len(names)} times; follow at most {MAX_USERS} users")
    return frozenset(names)


def lastEventId(request: FingerRequest) -> int | None:
    """The C{Last-Event-ID} header as a number (C{-1} when it is not one of ours)."""
    header = request.getHeader(b"last-event-id")
    if header is None or not header.strip():
        return None
    header = header.strip()
    if not header.isascii() or not header.isdigit() or len(header) > MAX_EVENT_ID_LENGTH:
        return -1
    return int(header)


class EventsResource(resource.Resource):
    """C{/api/events}: one event stream per request."""

    isLeaf = True
    frontend = "events"

    def __init__(self, feed: IFingerChangeFeed, settings: EventSettings = EventSettings()) -> None:
        super().__init__()
        self.hub = EventHub(feed, settings)

    def _headers(self, request: FingerRequest) -> None:
        request.setHeader(b"Content-Type", CONTENT_TYPE)
        request.setHeader(b"Cache-Control", b"no-cache")
        request.setHeader(b"Access-Control-Allow-Origin", b"*")
        request.setHeader(b"X-Accel-Buffering", b"no")  # nginx: do not buffer the stream

    def render_HEAD(self, request: FingerRequest) -> bytes:
        self._headers(request)
        return b""

    def render_GET(self, request: FingerRequest) -> int:
        if request.postpath and request.postpath != [b""]:
            sendJSON(request, 404, {"error": "no such resource; see /api/events"}, outcome="not found")
            return NOT_DONE_YET
        try:
            users = followedUsers(request.args.get(b"user", []))
        except BadRequest as e:
            sendJSON(request, 400, {"error": str(e)}, outcome="bad request")
            return NOT_DONE_YET
        hub = self.hub
        self._headers(request)
        request.outcome = "stream: 0 events"
        stream = EventStream(hub, request, users)
        request.write(b"retry: %d\n: connected\n\n" % (RETRY_MILLISECONDS,))
        resumeFrom = lastEventId(request)
        if resumeFrom is not None:
            missed = hub.since(resumeFrom)
            if missed is None:
                request.write(encodeReset(hub.lastId, "Last-Event-ID is too old or unknown"))
            else:
                for event in missed:
                    stream.offer(event)
        request.registerProducer(stream, True)
        request.notifyFinish().addBoth(stream.finished)
        hub.add(stream)
        return NOT_DONE_YET
