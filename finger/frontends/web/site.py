"""
The HTTP plumbing shared by every web resource: a L{FingerSite} whose
requests carry the security headers, are logged once each through the
query log, and whose request bodies are bounded.

Twisted buffers a request's whole body before the resource sees it, so the
body limit is enforced while it arrives: a C{Content-Length} over the limit
is refused as soon as the headers are in, a chunked body as soon as it
grows past the limit.  The refusal is a C{413} and the connection closes.

Twisted's idle timeout restarts on every byte, so a client sending its
headers a byte at a time ("slowloris") would hold a connection forever: the
channel also gives each request's headers a total deadline (the site's
C{timeout}, i.e. C{--timeout}), counted from the connection or the end of
the previous request, and closes the connection when it passes.

Over HTTPS, ALPN offers C{h2} when Twisted's HTTP/2 support is installed
(the C{h2} package), and C{http/1.1}.  On C{h2}, a body over the limit
resets its stream (RST_STREAM; the connection and its other streams go on),
as soon as its first data shows a C{Content-Length} over the limit or the
data grows past it; the connection's idle timeout is C{--timeout}.
"""

from __future__ import annotations

import time
import typing
from collections.abc import Callable
from typing import Any, cast

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IDelayedCall, INegotiated, IProtocol
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.web import http, resource, server

from finger import querylog
from finger._compat import H2_ENABLED, H2Connection, requestLine
from finger.frontends.web.forwarded import NO_TRUSTED_PROXIES, Origin, TrustedProxies
from finger.limits import SelfCounting
from finger.linger import Refusal

MAX_BODY = 1024 * 1024

CONTENT_SECURITY_POLICY = (
    b"default-src 'none'; style-src 'self'; img-src 'self'; "
    b"script-src 'self'; connect-src 'self'; "  # /static/live.js and its event stream
    b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    b"X-Content-Type-Options": b"nosniff",
    b"Content-Security-Policy": CONTENT_SECURITY_POLICY,
    b"Referrer-Policy": b"same-origin",
}
STRICT_TRANSPORT_SECURITY = b"max-age=31536000"


def _hostOf(address: object) -> str | None:
    """The IP address of a TCP peer; C{None} for other kinds (UNIX sockets)."""
    if isinstance(address, (IPv4Address, IPv6Address)):
        return address.host
    return None


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


class _Transport(typing.Protocol):
    """
    What the channels use of their transport.  Twisted types it
    C{ITransport}; the transports of a listener (TCP, TLS, and the wrapper of
    L{finger.limits}) all have these.
    """

    disconnecting: bool

    def write(self, data: bytes) -> None: ...
    def abortConnection(self) -> None: ...
    def registerProducer(self, producer: object, streaming: bool) -> None: ...
    def unregisterProducer(self) -> None: ...


def _transportOf(protocol: Protocol) -> _Transport:
    """The transport of a connected C{protocol}, typed as what we use of it."""
    return cast(_Transport, protocol.transport)


class _H2Stream(typing.Protocol):
    """
    What L{FingerRequest} uses of its channel on HTTP/2: Twisted's
    C{twisted.web._http2.H2Stream} (untyped; the request types its channel
    as an C{HTTPChannel}).
    """

    site: FingerSite
    command: bytes | None
    path: bytes | None

    def abortConnection(self) -> None: ...


class FingerRequest(server.Request):
    """
    A request that sets the security headers and is logged once, when it
    ends, as C{frontend} (taken from the resource that renders it) with
    C{query} and C{outcome} (which resources may set; by default the method
    and URI, and the status code).
    """

    defaultContentType = b"text/html; charset=utf-8"
    frontend = "web"
    site: FingerSite  # set by process(): this request's site is a FingerSite
    query: str | None = None
    outcome: str | None = None
    # For writes (finger.frontends.publish): whose status, and who logged in.
    target: str | None = None
    account: str | None = None
    gone = False
    # Where the request came from (finger.frontends.web.forwarded): set by
    # process() before any resource sees the request.
    origin: Origin | None = None

    def process(self) -> None:
        self.started = time.monotonic()
        self._unlogged = True
        client = self.getClientAddress()  # the channel's (or HTTP/2 stream's) peer
        host = _hostOf(client)
        self.peer = f"{host}:{client.port}" if host is not None else querylog.peerName(self.channel)
        # Request.process() sets self.site from the channel (or HTTP/2 stream).
        site = cast("BoundedHTTPChannel | _H2Stream", self.channel).site
        self.origin = site.trustedProxies.origin(
            host,
            super().isSecure(),
            self.requestHeaders,
        )
        if self.origin.proxy is not None:
            self.peer = f"{self.origin.address} via {self.peer}"
        for name, value in SECURITY_HEADERS.items():
            self.setHeader(name, value)
        if self.isSecure():
            self.setHeader(b"Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        super().process()

    @property
    def clientAddress(self) -> str:
        """The client's address: the TCP peer's, or what a trusted proxy said."""
        if self.origin is None:
            return _hostOf(self.getClientAddress()) or "?"
        return self.origin.address

    def isSecure(self) -> bool:
        """Whether the client used HTTPS (to us, or to a trusted proxy that says so)."""
        if self.origin is None:
            return super().isSecure()
        return self.origin.secure

    def requestHost(self) -> str:
        """The host (and port) the client asked for: a trusted proxy's word, or C{Host}."""
        if self.origin is not None and self.origin.host is not None:
            return self.origin.host
        return (self.getHeader(b"host") or b"").decode("ascii", "replace")

    def render(self, resrc: resource.IResource) -> None:
        self.frontend = getattr(resrc, "frontend", "web")
        super().render(resrc)

    # A processed request is logged once, when its answer is finished or
    # its connection lost first (when notifyFinish would fire; without a
    # Deferred per request).
    _unlogged = False

    def finish(self) -> None:
        super().finish()
        if self._unlogged and self.finished:
            self._logQuery(None)

    def connectionLost(self, reason: Failure) -> None:
        self.gone = True
        if self._unlogged and not self.finished:
            self._logQuery(reason)
        super().connectionLost(reason)

    def _logQuery(self, result: object) -> None:
        self._unlogged = False
        query = self.query or f"{_text(self.method)} {_text(self.uri)}"
        if isinstance(result, Failure):
            outcome = f"connection lost before the answer ({self.outcome or self.code})"
        else:
            outcome = f"{self.code} {self.outcome}" if self.outcome else str(self.code)
        if self.target is None:
            self.site.queryLog.record(self.frontend, self.peer, query, outcome, self.started)
        else:  # A write (finger.frontends.publish).
            self.site.queryLog.record(
                self.frontend, self.peer, query, outcome, self.started,
                account=self.account, target=self.target,
            )

    # Bounding the body (see the module docstring).

    _bodyLength = 0
    _declaredLength: int | None = None
    _streamRefused = False

    def gotLength(self, length: int | None) -> None:
        self._declaredLength = length
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        channel = self.channel
        if channel is None or self._streamRefused:
            return
        if isinstance(channel, BoundedHTTPChannel):
            if channel.refusedBody:
                return
            self._bodyLength += len(data)
            if self._bodyLength > channel.maxBody:
                channel.refuseBody()
                return
        else:  # an HTTP/2 stream
            self._bodyLength += len(data)
            limit = self._stream.site.maxBody
            if max(self._bodyLength, self._declaredLength or 0) > limit:
                self._refuseStream(limit)
                return
        super().handleContentChunk(data)

    @property
    def _stream(self) -> _H2Stream:
        """This request's channel, on HTTP/2 (where it is a stream)."""
        return cast(_H2Stream, self.channel)

    def _refuseStream(self, limit: int) -> None:
        # Reset once H2Connection is done with the frames it is handling:
        # resetting from inside it makes it touch the stream it forgot.
        self._streamRefused = True
        stream = self._stream
        stream.site.reactor.callLater(0, self._resetStream)
        stream.site.queryLog.record(
            "web", querylog.peerName(stream),
            f"{_text(stream.command or b'?')} {_text(stream.path or b'?')}",
            f"stream reset: body too large (limit {limit} bytes)", time.monotonic(),
        )

    def _resetStream(self) -> None:
        if not self.gone:
            self._stream.abortConnection()  # RST_STREAM, for this stream only

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if not self._streamRefused:
            super().requestReceived(command, path, version)


class BoundedHTTPChannel(http.HTTPChannel):
    """
    An HTTP/1.1 channel that refuses request bodies over C{site.maxBody}
    and closes a connection whose request headers take longer than its
    timeout to arrive in full.
    """

    site: FingerSite  # set by FingerSite.buildProtocol (through NegotiatedChannel)
    refusedBody = False
    badRequest = False
    _headersDeadline: IDelayedCall | None = None
    _awaitingHeaders = False
    _headersTimeout: float | None = None
    _refusal: Refusal | None = None

    def connectionMade(self) -> None:
        # The idle timeout (the site's); Twisted unsets it while a request is handled.
        self._headersTimeout = self.timeOut
        super().connectionMade()
        self._startHeadersDeadline()

    def _startHeadersDeadline(self) -> None:
        # One timer per connection, pushed back for each request rather than
        # made anew (a request being handled leaves it armed but ignored).
        self._awaitingHeaders = True
        if self._headersTimeout is None:
            return
        deadline = self._headersDeadline
        if deadline is not None and deadline.active():
            deadline.reset(self._headersTimeout)
        else:
            self._headersDeadline = self.callLater(self._headersTimeout, self._headersTooSlow)

    def _cancelHeadersDeadline(self) -> None:
        if self._headersDeadline is not None:
            if self._headersDeadline.active():
                self._headersDeadline.cancel()
            self._headersDeadline = None

    def stopTimers(self) -> None:
        """Cancel this channel's timeouts: another channel takes the connection over."""
        self._cancelHeadersDeadline()
        self.setTimeout(None)

    def _headersTooSlow(self) -> None:
        # As an idle timeout: close (aborted if the client does not let go).
        self._headersDeadline = None
        if not self._awaitingHeaders:
            return  # a request is being handled: its headers came in time
        if not _transportOf(self).disconnecting:
            self.timeoutConnection()

    def requestDone(self, request: http.Request) -> None:
        # Before the next (maybe already buffered) request is parsed.
        if self.persistent:
            self._startHeadersDeadline()
        super().requestDone(request)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._cancelHeadersDeadline()
        if self._refusal is not None:
            self._refusal.stop()
        super().connectionLost(reason)

    @property
    def maxBody(self) -> int:
        """The largest request body this channel accepts: the site's."""
        return self.site.maxBody

    def allHeadersReceived(self) -> None:
        self._awaitingHeaders = False  # the deadline is pushed back for the next request
        # Twisted before 24.7 takes any third word of the request line for
        # the version, and echoes it (NULs and all) in the status line.
        if requestLine(self)[2] not in (b"HTTP/1.0", b"HTTP/1.1"):
            self.badRequest = True
            _transportOf(self).write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            self.loseConnection()
            return
        if self.length is not None and self.length > self.maxBody:
            self.refuseBody()
            return
        super().allHeadersReceived()

    def allContentReceived(self) -> None:
        if not (self.refusedBody or self.badRequest):
            super().allContentReceived()

    def refuseBody(self) -> None:
        """Answer 413, discard the rest of the input, and close."""
        if self.refusedBody:
            return
        self.refusedBody = True
        started = time.monotonic()
        message = f"Request body too large (limit {self.maxBody} bytes)\n".encode()
        headers = [
            b"HTTP/1.1 413 " + http.RESPONSES[413],
            b"Content-Type: text/plain; charset=utf-8",
            b"Content-Length: %d" % (len(message),),
            b"Connection: close",
            *(name + b": " + value for name, value in SECURITY_HEADERS.items()),
        ]
        command, path, _ = requestLine(self)
        query = f"{_text(command or b'?')} {_text(path or b'?')}"
        self.site.queryLog.record(
            "web", querylog.peerName(self.transport), query, "413 body too large", started
        )
        # Stop parsing: everything the client still sends is dropped unread
        # (see dataReceived, lineReceived and rawDataReceived) while the
        # refusal lingers; the channel's own timeouts stop.
        self.stopTimers()
        self._refusal = Refusal(self.transport, self, drainWithoutHalfClose=True)
        self._refusal.refuse(b"\r\n".join(headers) + b"\r\n\r\n" + message)

    def dataReceived(self, data: bytes) -> None:
        if not self.refusedBody:  # nor restart the linger timeout
            super().dataReceived(data)

    # LineReceiver.dataReceived goes on with the lines it already split.

    def lineReceived(self, line: bytes) -> None:
        if not self.refusedBody:
            super().lineReceived(line)

    def rawDataReceived(self, data: bytes) -> None:
        if not self.refusedBody:
            super().rawDataReceived(data)

    def timeoutConnection(self) -> None:
        self._cancelHeadersDeadline()  # the idle timeout came first
        super().timeoutConnection()


class NegotiatedChannel(SelfCounting, Protocol):
    """
    The protocol of a L{FingerSite}: speaks HTTP/1.1 through a
    L{BoundedHTTPChannel} from the start, and hands the connection to an
    HTTP/2 channel on the first data if TLS negotiated C{h2} (ALPN).

    The connection limits (L{finger.limits}) count it without wrapping it
    (L{SelfCounting}: a wrapper between it and its transport costs a few
    microseconds per request).

    L{FingerSite.buildProtocol} sets C{site}, C{requestFactory}, C{timeOut}
    and C{callLater} on it as on any channel; it passes them on.
    """

    site: FingerSite  # set by FingerSite.buildProtocol
    requestFactory: type[server.Request] | None = None
    timeOut: float | None = None
    callLater: Callable[..., IDelayedCall] | None = None
    channel: IProtocol | None = None  # the HTTP/1.1 channel, then maybe HTTP/2's
    _http1: BoundedHTTPChannel  # set by connectionMade
    _chosen = False

    def _setUp(self, channel: Any) -> IProtocol:
        """
        Give C{channel} what the site gave this protocol, as Twisted's
        factories do (C{Any}: Twisted's H2Connection has no types, and
        C{callLater} replaces TimeoutMixin's method as HTTPFactory does).
        """
        channel.factory = self.factory
        channel.site = self.site
        channel.requestFactory = self.requestFactory
        channel.timeOut = self.timeOut
        channel.callLater = self.callLater
        return cast(IProtocol, channel)

    def connectionMade(self) -> None:
        assert self.transport is not None  # set by makeConnection
        self._http1 = BoundedHTTPChannel()
        self.channel = self._setUp(self._http1)
        self.channel.makeConnection(self.transport)

    def dataReceived(self, data: bytes) -> None:
        if not self._chosen:
            self._chosen = True
            negotiated = INegotiated(self.transport, None)
            if negotiated is not None and negotiated.negotiatedProtocol == b"h2":
                self._switchToHTTP2()
        assert self.channel is not None  # set by connectionMade
        self.channel.dataReceived(data)

    def _switchToHTTP2(self) -> None:
        assert self.transport is not None  # connected
        self._http1.stopTimers()
        transport = _transportOf(self)
        transport.unregisterProducer()
        self.channel = self._setUp(H2Connection(self.site.reactor))
        self.channel.makeConnection(self.transport)
        transport.registerProducer(self.channel, True)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.released()
        if self.channel is not None:
            self.channel.connectionLost(reason)


class FingerSite(server.Site):
    """
    The one site behind every web and HTTPS listener.  C{queryLog} records
    each request (Twisted's own access log is off, so C{--no-log-queries}
    really means no record of who asked for what); C{maxBody} bounds each
    request's body, in bytes; C{trustedProxies} are the reverse proxies whose
    forwarding headers give each request's client address and scheme (see
    L{finger.frontends.web.forwarded}).  Other keyword arguments are
    L{server.Site}'s (C{timeout}, C{reactor}, ...).
    """

    # HTTPFactory types its protocol as Twisted's own (private) channel
    # wrapper; Site builds any protocol with the channel attributes.
    protocol = NegotiatedChannel  # type: ignore[assignment]
    requestFactory = FingerRequest
    displayTracebacks = False

    def __init__(
        self,
        resource: resource.IResource,
        *,
        queryLog: querylog.QueryLog = querylog.ENABLED,
        maxBody: int = MAX_BODY,
        trustedProxies: TrustedProxies = NO_TRUSTED_PROXIES,
        **kwargs: Any,
    ) -> None:
        super().__init__(resource, **kwargs)
        self.queryLog = queryLog
        self.maxBody = maxBody
        self.trustedProxies = trustedProxies

    def log(self, request: http.Request) -> None:
        """Requests are logged by L{FingerRequest} through C{queryLog}."""

    def acceptableProtocols(self) -> list[bytes]:
        """What HTTPS offers in ALPN: C{h2} if Twisted can speak it, and C{http/1.1}."""
        return [b"h2", b"http/1.1"] if H2_ENABLED else [b"http/1.1"]
