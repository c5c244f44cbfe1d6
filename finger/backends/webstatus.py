"""
The web status backend: each user's status is fetched over HTTP(S) from a
URL template such as C{https://status.example.org/{user}.txt}.

Fetches use Twisted's C{Agent}, which verifies TLS certificates and host
names (C{service_identity}); C{--web-status-ca} trusts a private CA instead
of the system's.  A fetch has a deadline and a size cap (the body is read by
a protocol that stops at the cap).  Answers (statuses and 404s) are cached
for C{--web-status-ttl} seconds, and concurrent queries for one user share
one request, so a burst of queries makes one request.  A query cancelled by
its frontend (the client went away) stops waiting; when no query waits for
a request any more, the request is cancelled (its connection closed).  At
most C{MAX_FETCHES} requests are under way at once and C{MAX_WAITING_FETCHES}
more wait; beyond that a query fails at once.

There is no list of users on the web: C{getUsers} is always empty, so the
empty finger query answers "No one is here."
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import quote, urlsplit

from OpenSSL import SSL
from service_identity import VerificationError
from twisted.application import service
from twisted.internet import defer, protocol, ssl
from twisted.internet.error import ConnectionRefusedError, DNSLookupError
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator, IPushProducer, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.client import Agent, ResponseDone
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgent, IPolicyForHTTPS, IResponse
from zope.interface import implementer

from finger import __version__
from finger.backends.bounded import BoundedWork
from finger.interfaces import IFingerService, LookupFailed, UserNotFound
from finger.reactors import globalReactor
from finger.text import stripControls
from finger.users import userNameProblem

PLACEHOLDER = "{user}"
DEFAULT_TTL = 60.0
DEFAULT_TIMEOUT = 10.0
MAX_BODY = 64 * 1024
MAX_CACHED = 1024
MAX_FETCHES = 64
MAX_WAITING_FETCHES = 64


class _InFlight:
    """A request in flight for one name and the queries waiting for it."""

    def __init__(self) -> None:
        self.request: defer.Deferred[Any] | None = None
        self.waiters: list[defer.Deferred[str]] = []


class BodyTooLarge(Exception):
    """The response body is larger than the cap."""


def checkTemplate(template: str) -> str | None:
    """Return why C{template} is not a usable URL template, or C{None}."""
    if PLACEHOLDER not in template:
        return f"the URL template must contain {PLACEHOLDER}"
    if not template.isascii():
        return "the URL template must be ASCII (percent-encode other characters)"
    parts = urlsplit(template)
    if parts.scheme not in ("http", "https"):
        return "the URL template must start with http:// or https://"
    if not parts.hostname:
        return "the URL template has no host"
    if PLACEHOLDER in parts.netloc:
        return f"{PLACEHOLDER} may not be part of the host"
    return None


def namePathProblem(name: str) -> str | None:
    """Why C{name} cannot be put in a URL path, or C{None} if it can."""
    if name in (".", ".."):
        return "the name is a path segment"
    return userNameProblem(name)


def describeFailure(failure: Failure) -> str | None:
    """
    A short reason for a failed fetch, for the error line; C{None} for a
    timeout or cancellation, which the caller reports with its deadline.
    """
    reasons = getattr(failure.value, "reasons", None) or [failure]
    for reason in reasons:
        if reason.check(defer.TimeoutError, defer.CancelledError):
            return None  # Reported by the caller with the deadline.
        if reason.check(VerificationError):
            return "TLS failed: the certificate is not valid for this host name"
        if reason.check(SSL.Error):
            return f"TLS failed: {_openSSLReason(reason.value)}"
    if failure.check(ConnectionRefusedError):
        return "refused the connection"
    if failure.check(DNSLookupError):
        return "is an unknown host"
    if failure.check(BodyTooLarge):
        return f"sent a status larger than {MAX_BODY // 1024} KiB"
    return f"failed: {failure.getErrorMessage()}"


def _openSSLReason(error: SSL.Error) -> str:
    """The last reason string in an OpenSSL error, e.g. 'certificate verify failed'."""
    texts = [
        str(part)
        for entry in (error.args[0] if error.args and isinstance(error.args[0], list) else [])
        for part in (entry if isinstance(entry, tuple) else (entry,))
        if part
    ]
    return texts[-1] if texts else "handshake error"


class _CappedBody(protocol.Protocol):
    """Collects a response body, stopping the transfer past C{cap} bytes."""

    def __init__(self, cap: int, expected: int | str) -> None:
        self.cap = cap
        self.expected = expected
        self.chunks: list[bytes] = []
        self.size = 0
        self.result: defer.Deferred[bytes] = defer.Deferred(self._cancel)
        # The result while it has not fired (None once it has, or was cancelled).
        self.finished: defer.Deferred[bytes] | None = self.result

    def _stop(self) -> None:
        self.chunks = []
        # IResponse.deliverBody connects the protocol to an IPushProducer
        # (Agent's TransportProxyProducer), not to a full ITransport.
        cast(IPushProducer, self.transport).stopProducing()

    def _cancel(self, d: defer.Deferred[bytes]) -> None:
        self.finished = None
        self._stop()

    def _fail(self, reason: BaseException) -> None:
        d, self.finished = self.finished, None
        self._stop()
        if d is not None:
            d.errback(reason)

    def connectionMade(self) -> None:
        # The length is a number of bytes, or UNKNOWN_LENGTH (a str).
        if isinstance(self.expected, int) and self.expected > self.cap:
            self._fail(BodyTooLarge())

    def dataReceived(self, data: bytes) -> None:
        if self.finished is None:
            return
        self.size += len(data)
        if self.size > self.cap:
            self._fail(BodyTooLarge())
            return
        self.chunks.append(data)

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        if self.finished is None:
            return
        d, self.finished = self.finished, None
        if reason.check(ResponseDone, PotentialDataLoss):
            d.callback(b"".join(self.chunks))
        else:
            d.errback(reason)


def readCappedBody(response: IResponse, cap: int = MAX_BODY) -> defer.Deferred[bytes]:
    """Read C{response}'s body; fail with L{BodyTooLarge} beyond C{cap} bytes."""
    body = _CappedBody(cap, response.length)
    response.deliverBody(body)
    return body.result


@implementer(IPolicyForHTTPS)
class TrustRootPolicy:
    """HTTPS that trusts only the given CA certificates (and checks host names)."""

    def __init__(self, trustRoot: Any) -> None:
        self.trustRoot = trustRoot

    def creatorForNetloc(self, hostname: bytes, port: int) -> IOpenSSLClientConnectionCreator:
        """TLS for C{hostname}, verified against the trust root only."""
        return ssl.optionsForClientTLS(hostname.decode("ascii"), trustRoot=self.trustRoot)


_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def loadTrustRoot(path: str) -> Any:
    """The CA certificates in the PEM file C{path}; C{ValueError} if none."""
    try:
        with open(path, "rb") as f:
            data = f.read(1024 * 1024)
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e.strerror}") from None
    blocks = _PEM.findall(data)
    if not blocks:
        raise ValueError(f"{path} contains no PEM certificate")
    try:
        certificates = [ssl.Certificate.loadPEM(block) for block in blocks]
    except Exception as e:
        raise ValueError(f"{path}: bad certificate: {e}") from None
    return ssl.trustRootFromCertificates(certificates)


@implementer(IFingerService)
class WebStatusService(service.Service):
    """
    Statuses fetched from C{template} with C{{user}} replaced by the name
    (C{ValueError} if the template is unusable).

    @param reactor: times the deadline and the cache, and makes the default
        C{Agent}; C{None} is the global reactor, resolved here.
    @param agent: fetches the statuses (default: an C{Agent} with C{policy}).
    """

    log = Logger()

    def __init__(
        self,
        template: str,
        ttl: float = DEFAULT_TTL,
        timeout: float = DEFAULT_TIMEOUT,
        maxBody: int = MAX_BODY,
        policy: IPolicyForHTTPS | None = None,
        agent: IAgent | None = None,
        reactor: IReactorTime | None = None,
    ) -> None:
        problem = checkTemplate(template)
        if problem:
            raise ValueError(problem)
        if reactor is None:
            reactor = globalReactor()
        self.template = template
        self.server = urlsplit(template).netloc
        self.ttl = ttl
        self.timeout = timeout
        self.maxBody = maxBody
        self.reactor = reactor
        if agent is None:
            agent = Agent(reactor, policy) if policy is not None else Agent(reactor)
        self.agent: IAgent = agent
        # name -> (expiry time, status or None for "not found")
        self._cache: dict[str, tuple[float, str | None]] = {}
        # name -> the request in flight and the Deferreds waiting for it
        self._waiting: dict[str, _InFlight] = {}
        self._fetches = BoundedWork(
            MAX_FETCHES, MAX_WAITING_FETCHES,
            f"Error: too many requests to status server {self.server} at once; try again later",
        )
        self.requests = 0

    def urlFor(self, name: str) -> bytes:
        """The URL for C{name}, quoted; C{ValueError} if the name is unusable."""
        problem = namePathProblem(name)
        if problem:
            raise ValueError(problem)
        return self.template.replace(PLACEHOLDER, quote(name, safe="")).encode("ascii")

    # IFingerService

    def getUser(self, name: str) -> defer.Deferred[str]:
        """C{name}'s status, from the cache or fetched (one fetch per name at a time)."""
        cached = self._cache.get(name)
        if cached is not None and cached[0] > self.reactor.seconds():
            return self._answer(name, cached[1])
        try:
            url = self.urlFor(name)
        except ValueError as e:
            return defer.fail(LookupFailed(f"Error: invalid user name {stripControls(name)!r}: {e}"))
        inFlight = self._waiting.get(name)
        starting = inFlight is None
        if inFlight is None:
            inFlight = self._waiting[name] = _InFlight()

        def abandoned(d: defer.Deferred[str]) -> None:
            inFlight.waiters.remove(d)
            if not inFlight.waiters and self._waiting.get(name) is inFlight:
                # Nobody waits any more: stop the request.
                del self._waiting[name]
                if inFlight.request is not None:
                    inFlight.request.cancel()

        d: defer.Deferred[str] = defer.Deferred(abandoned)
        inFlight.waiters.append(d)
        if starting:  # after the waiter is known: the request may end at once
            inFlight.request = self._fetches.run(self._fetch, url)
            inFlight.request.addBoth(self._fetched, name, inFlight)
        return d

    def getUsers(self) -> defer.Deferred[Sequence[str]]:
        """There is no list of users on the web: always empty."""
        return defer.succeed(())

    # Fetching

    def _answer(self, name: str, status: str | None) -> defer.Deferred[str]:
        if status is None:
            return defer.fail(UserNotFound(name))
        return defer.succeed(status)

    def _fetch(self, url: bytes) -> defer.Deferred[str | None]:
        self.requests += 1
        headers = Headers({
            b"User-Agent": [f"twisted-finger/{__version__}".encode("ascii")],
            b"Accept": [b"text/plain"],
        })
        d = self.agent.request(b"GET", url, headers).addCallback(self._received)
        return d.addTimeout(self.timeout, self.reactor)

    def _received(self, response: IResponse) -> defer.Deferred[str | None]:
        body = readCappedBody(response, self.maxBody)
        if response.code == 200:
            return body.addCallback(lambda data: data.decode("utf-8", "replace").rstrip())
        if response.code in (404, 410):
            return body.addBoth(lambda _: None)  # Not found.
        phrase = stripControls(response.phrase.decode("latin-1"))
        error = LookupFailed(f"Error: status server {self.server} answered {response.code} {phrase}")

        def failed(_: object) -> None:
            raise error

        return body.addBoth(failed)

    def _fetched(self, result: str | None | Failure, name: str, inFlight: _InFlight) -> None:
        if self._waiting.get(name) is not inFlight:
            return None  # abandoned by every waiter (and cancelled)
        del self._waiting[name]
        waiting = inFlight.waiters
        if isinstance(result, str) or result is None:
            self._remember(name, result)
            for d in waiting:
                self._answer(name, result).chainDeferred(d)
            return
        if result.check(LookupFailed):
            error = result.value
        else:
            reason = describeFailure(result)
            if reason is None:
                reason = f"did not answer within {self.timeout:g} seconds"
            error = LookupFailed(f"Error: status server {self.server} {reason}")
            self.log.warn("Fetching the status of {name!r}: {error}", name=name, error=error)
        for d in waiting:
            d.errback(error)

    def _remember(self, name: str, status: str | None) -> None:
        if self.ttl <= 0:
            return
        now = self.reactor.seconds()
        if len(self._cache) >= MAX_CACHED:
            for key in [k for k, (expiry, _) in self._cache.items() if expiry <= now]:
                del self._cache[key]
            while len(self._cache) >= MAX_CACHED:
                del self._cache[next(iter(self._cache))]
        self._cache.pop(name, None)
        self._cache[name] = (now + self.ttl, status)

    def startService(self) -> None:
        super().startService()
        self.log.info(
            "Statuses from {template} (no user list: the empty query finds no one)",
            template=self.template,
        )
