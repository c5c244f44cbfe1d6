"""
The Perspective Broker frontend: an adapter from L{IFingerService} to
L{IFingerPBFactory}.

The root object answers C{getUser(name)} (the status, a C{str}) and
C{getUsers()} (the sorted names, a C{list}), and C{subscribe(observer)}
when the backend publishes changes (L{finger.frontends.pbfeed}).  Errors reach the caller as
remote errors named by class: C{finger.frontends.pb.NoSuchUser} for an
unknown user, C{finger.frontends.pb.LookupFailed} when the status is kept
elsewhere and could not be had (the message says why),
C{finger.frontends.pb.BadCall} for an unknown method, wrong arguments or an
oversized message.  Names with C{@} are unknown users (only the finger
frontend forwards; see L{finger.frontends.lookup}).  A bad call never harms
the server; a message too large to decode is answered with C{BadCall} and
the connection is closed.  A connection with no traffic for the settings'
C{timeout} seconds (C{--timeout}) and no call in progress is closed.

Configured by a L{PBSettings}::

    frontend(IFingerPBFactory, backend, PBSettings(timeout=60.0))
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.protocols.policies import TimeoutMixin
from twisted.python import components
from twisted.python.failure import Failure
from twisted.spread import banana, pb
from zope.interface import Attribute, Interface, implementer

from finger import _compat, interfaces, querylog
from finger.adapt import registerFrontend
from finger.frontends.lookup import getLocalUser, lookupFailedMessage
from finger.frontends.pbfeed import SubscribeRefused, subscribeObserver
from finger.interfaces import IFingerService, UserNotFound
from finger.linger import Refusal
from finger.text import printableLines, replaceSurrogates, stripControls
from finger.users import MAX_NAME_LENGTH

# Bytes of one incoming message we are willing to buffer.  A call is a few
# hundred bytes; Banana alone would accept a list of 640k strings of 640 KB.
MAX_MESSAGE_BYTES = 64 * 1024


@dataclass(frozen=True)
class PBSettings:
    """
    The PB frontend's settings.

    @ivar timeout: idle seconds before a connection is closed (C{None}: never).
    @ivar queryLog: where each call is recorded.
    @ivar clock: the clock of every timer; C{None}: the global reactor.
    """

    timeout: float | None = None
    queryLog: querylog.QueryLog = querylog.ENABLED
    clock: IReactorTime | None = None


class IFingerPBFactory(Interface):
    """The PB frontend: a server factory built from a service."""

    settings = Attribute("Its L{PBSettings}.")

    def buildProtocol(addr):
        """Return a broker for a new connection."""


class FingerPBError(pb.Error):
    """Base of the errors a PB caller receives (by class name)."""


class NoSuchUser(FingerPBError):
    """C{getUser} was asked for a user the service does not know."""


class LookupFailed(FingerPBError):
    """
    C{getUser}: the backend could not get the status from where it is kept
    (L{finger.interfaces.LookupFailed}); the message is its reason.
    """


class BadCall(FingerPBError):
    """An unknown method, wrong arguments, or a message too large."""


def _userName(name: object) -> str:
    if isinstance(name, bytes):
        try:
            name = name.decode("utf-8")
        except UnicodeDecodeError:
            raise BadCall(
                "getUser wants a user name as text; these bytes are not UTF-8"
            ) from None
    if not isinstance(name, str):
        raise BadCall(f"getUser wants a user name (a string), not {type(name).__name__}")
    if len(name) > MAX_NAME_LENGTH:
        raise BadCall(f"user name too long (limit {MAX_NAME_LENGTH} characters)")
    return name


def _sendable(text: str) -> str:
    """C{text}, if PB can send it as one string."""
    if len(text.encode("utf-8")) > banana.SIZE_LIMIT:
        raise FingerPBError("the status is too large to send over PB")
    return text


class FingerPBRoot(pb.Root):
    """The root object a PB client gets from C{getRootObject()}."""

    log = Logger()

    def __init__(self, service: IFingerService, factory: FingerPBFactory) -> None:
        self.service = service
        self.factory = factory

    def remote_getUser(self, name: str) -> defer.Deferred:
        """The status of C{name}; fails with L{NoSuchUser} or L{LookupFailed}."""
        name = _userName(name)
        d = getLocalUser(self.service, name)
        d.addCallback(
            lambda status: _sendable(replaceSurrogates("\n".join(printableLines(status))))
        )
        d.addErrback(self._userFailed, name)
        return d

    def _userFailed(self, failure, name: str):
        if failure.check(defer.CancelledError):
            return failure  # the client went away
        if failure.check(UserNotFound):
            raise NoSuchUser(f"no such user: {stripControls(name)}")
        if failure.check(interfaces.LookupFailed):
            raise LookupFailed(lookupFailedMessage(failure.value))
        if failure.check(FingerPBError):
            return failure
        self.log.failure("PB getUser {name!r} failed", failure, name=name)
        raise FingerPBError(f"could not look up {stripControls(name)}")

    def remote_getUsers(self) -> defer.Deferred:
        """The user names, sorted."""
        d = defer.maybeDeferred(self.service.getUsers)
        d.addCallbacks(self._listed, self._listFailed)
        return d

    def _listed(self, names) -> list[str]:
        if len(names) > banana.SIZE_LIMIT:
            raise FingerPBError(f"too many users to list over PB ({len(names)})")
        return list(names)

    def _listFailed(self, failure):
        self.log.failure("PB getUsers failed", failure)
        raise FingerPBError("could not list users")

    def remote_subscribe(self, observer: object) -> None:
        """Call C{observer.statusChanged(name, status)} after each change, until the client goes."""
        try:
            subscribeObserver(self.service, observer, self.factory.settings.queryLog)
        except SubscribeRefused as e:
            raise BadCall(str(e)) from None

    _methods: dict[str, Callable[..., Any]] = {
        "getUser": remote_getUser,
        "getUsers": remote_getUsers,
        "subscribe": remote_subscribe,
    }

    def remoteMessageReceived(self, broker: Any, message: Any, args: Any, kw: Any) -> Any:
        """
        Dispatch a call to one of L{_methods}, refusing anything else with
        L{BadCall} (a clean remote error, no traceback in the log), and log
        the call through the factory's query log.
        """
        started = time.monotonic()
        peer = querylog.peerName(broker.transport)
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        try:
            method = self._methods.get(message)
            if method is None:
                raise BadCall(f"no such method: {stripControls(message)[:100]}")
            try:
                args = broker.unserialize(args)
                kw = broker.unserialize(kw)
                kw = {k.decode("utf-8") if isinstance(k, bytes) else k: v for k, v in kw.items()}
                inspect.signature(method).bind(self, *args, **kw)
            except Exception as e:
                raise BadCall(f"bad arguments for {message}: {_describe(e)}") from None
            query = message if message == "subscribe" else _queryText(args, kw)
            d = defer.maybeDeferred(method, self, *args, **kw)
        except BadCall as e:
            self.factory.settings.queryLog.record("pb", peer, message, f"refused: {e}", started)
            raise
        d.addBoth(self._record, peer, query, started)
        d.addErrback(_quietIfGone, broker)
        broker.callStarted(d)
        return broker.serialize(d, self.perspective)

    def _record(self, result, peer: str, query: str, started: float):
        if result is None:
            outcome = "subscribed"
        elif isinstance(result, list):
            outcome = f"listed {len(result)} users"
        elif isinstance(result, str):
            outcome = "found"
        elif result.check(defer.CancelledError):
            outcome = "cancelled: the client went away"
        elif result.check(NoSuchUser):
            outcome = "no such user"
        elif result.check(LookupFailed):
            outcome = result.getErrorMessage()
        elif result.check(BadCall):
            outcome = f"refused: {result.getErrorMessage()}"
        else:
            outcome = f"error: {result.getErrorMessage()}"
        self.factory.settings.queryLog.record("pb", peer, query, outcome, started)
        return result


def _quietIfGone(failure: Failure, broker: pb.Broker) -> Failure | None:
    """A call cancelled because its client went away has no one to answer: no error."""
    if failure.check(defer.CancelledError) and broker.disconnected:
        return None
    return failure


def _queryText(args: Any, kw: Any) -> str:
    """The logged query: the name asked for, or empty for the list."""
    name = args[0] if args else kw.get("name", "")
    return name if isinstance(name, str) else repr(name)


def _describe(error: Exception) -> str:
    if isinstance(error, TypeError):
        return str(error)
    return f"{type(error).__name__}: {error}"[:200]


class FingerBroker(TimeoutMixin, pb.Broker):
    """
    A broker that bounds what a client can make it buffer.  A message that
    Banana refuses (a string over 640 KB, a huge list, an oversized
    integer) or that exceeds L{MAX_MESSAGE_BYTES} gets a L{BadCall} answer
    when its request can be identified, and the connection is closed; any
    other protocol violation closes the connection with one log line.

    It closes a connection idle for the settings' C{timeout} seconds: every
    byte received restarts the count, and it does not run out while a call
    is being answered.
    """

    log = Logger()
    factory: Any
    # A TCP-like transport (abortConnection, half-close).
    transport: Any
    refusal: Refusal
    _pendingBytes = 0
    _activeCalls = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pendingAnswers: set[defer.Deferred] = set()  # cancelled if the client goes

    @property
    def settings(self) -> PBSettings:
        """The factory's settings."""
        settings: PBSettings = self.factory.settings
        return settings

    def callLater(self, period: float, func: Any) -> IDelayedCall:
        """Schedule on the settings' clock (TimeoutMixin's timer too)."""
        clock = self.settings.clock
        if clock is None:
            return super().callLater(period, func)  # Twisted's global reactor
        return clock.callLater(period, func)

    def connectionMade(self) -> None:
        """Start the idle timeout."""
        super().connectionMade()
        self.refusal = Refusal(self.transport, self)
        self.setTimeout(self.settings.timeout)

    def callStarted(self, answer: defer.Deferred) -> None:
        """
        Keep the connection open until C{answer} fires, then idle again; if
        the connection is lost first, C{answer} is cancelled.
        """
        self._activeCalls += 1
        self._pendingAnswers.add(answer)
        answer.addBoth(self._callEnded, answer)

    def _callEnded(self, result: object, answer: defer.Deferred) -> object:
        self._pendingAnswers.discard(answer)
        self._activeCalls -= 1
        self.setTimeout(self.timeOut)  # restarts the count (or re-arms it)
        return result

    def timeoutConnection(self) -> None:
        """Abort an idle connection (not while a call is answered)."""
        if self._activeCalls:
            return  # re-armed when the last call ends
        self.transport.abortConnection()

    def dataReceived(self, data: bytes) -> None:
        """Decode PB messages, refusing what is too large or malformed."""
        self.resetTimeout()
        if self.refusal.refused:
            return  # Draining after a refusal: read and forget.
        self._pendingBytes += len(data)
        try:
            super().dataReceived(data)
            if self._pendingBytes > MAX_MESSAGE_BYTES:
                raise banana.BananaError(
                    f"message too large (limit {MAX_MESSAGE_BYTES} bytes)"
                )
        except banana.BananaError as e:
            self._refuse(str(e))
        except Exception as e:
            self.log.warn(
                "PB: closing the connection from {peer}: protocol error: {error}",
                peer=querylog.peerName(self.transport),
                error=_describe(e),
            )
            self.refusal.abort()

    def callExpressionReceived(self, obj: object) -> None:
        """A whole message arrived."""
        self._pendingBytes = 0  # A whole message arrived.
        super().callExpressionReceived(obj)

    def _pendingRequestID(self) -> int | None:
        """The request ID of the call being decoded, if it is a call."""
        items = _compat.bananaPartialMessage(self)
        if len(items) >= 5 and items[0] in (b"message", b"cachemessage") and items[4]:
            requestID = items[1]
            return requestID if isinstance(requestID, int) else None
        return None

    def _refuse(self, reason: str) -> None:
        requestID = self._pendingRequestID()
        _compat.bananaDiscardInput(self)
        peer = querylog.peerName(self.transport)
        self.log.warn("PB: refused a call from {peer}: {reason}", peer=peer, reason=reason)
        self.settings.queryLog.record("pb", peer, "", f"refused: {reason}", time.monotonic())
        if requestID is not None:
            error = pb.CopyableFailure(
                BadCall(f"refused: {reason.rstrip('.')}; the connection is closed")
            )
            error.unsafeTracebacks = False
            # What Broker does for a failed call: an "error" answer to requestID.
            self.sendCall(b"error", requestID, self.serialize(error))
        self.refusal.refuse(b"")  # the answer, if any, is sent: linger

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Cancel every timer, and every call still under way for this client."""
        self.setTimeout(None)
        if hasattr(self, "refusal"):
            self.refusal.stop()
        super().connectionLost(reason)
        for answer in list(self._pendingAnswers):
            answer.cancel()


@implementer(IFingerPBFactory)
class FingerPBFactory(pb.PBServerFactory):
    """A PB server for any L{IFingerService}; tracebacks never leave it."""

    protocol = FingerBroker

    def __init__(self, service: IFingerService, settings: PBSettings = PBSettings()) -> None:
        super().__init__(FingerPBRoot(service, self), unsafeTracebacks=False)
        self.service = service
        self.settings = settings


components.registerAdapter(FingerPBFactory, IFingerService, IFingerPBFactory)
registerFrontend(FingerPBFactory, PBSettings, IFingerPBFactory)

