"""
The proxy backend: answers C{user@host[:port]} by fingering C{user} at
C{host} (the tutorial's C{ProxyFingerService}, with limits).

It serves two purposes:
  - C{--forward}: the finger frontend sends queries containing C{@} here
    (RFC 1288 {Q2}) while plain names still go to the local backend;
  - C{--proxy}: it is the backend, and the whole service is a finger proxy.

Chains and loops.  The right-most C{@host} is stripped and the rest is sent
on, so C{user@h1@h2} asks h2 for C{user@h1}, which asks h1 for C{user}.
RFC 1288 queries carry no hop counter, but they carry their route: every
hop removes one C{@}, so the number of C{@} in a query is the number of
forwarding hops still ahead of it.  A server refuses a query with more
C{@} than its hop limit (default 3).  Since the query shrinks at every hop,
any chain, including one bouncing between two forwarding servers
(C{user@A@B@A@B...}), ends after as many hops as it has C{@}, and the limit
bounds that number before the first connection is made.  (Without it a
1 KiB query could bounce some 250 times, holding a connection open on
every server along the way.)

Targets.  A forwarding server connects wherever its clients ask, so by
default it only connects to the finger port (79), on any host: it cannot be
used to poke at other TCP services (mail, databases, admin ports) and read
their answers back.  An allow list (C{--forward-allow HOST[:PORT]}) replaces
that default; C{*} as the host or the port matches any (C{127.0.0.1:*},
C{*:7979}; the default is C{*:79}).

Verbose queries.  RFC 1288 applies C{/W} at the far end, so the proxy
provides L{IFingerVerboseService}: C{getUserVerbose("user@host")} (what the
finger frontend asks for C{/W user@host}) sends C{/W user} to C{host}.

Load.  At most C{MAX_FORWARDS} forwarded queries are under way at once and
C{MAX_WAITING_FORWARDS} more wait; beyond that a query is refused at once
(L{finger.backends.bounded.TooBusy}).  A forwarded query cancelled by its
frontend (the client went away) closes its connection to the far host.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from twisted.application import service
from twisted.internet import defer
from twisted.python.failure import Failure
from zope.interface import implementer

from finger import client
from finger.backends.bounded import BoundedWork
from finger.interfaces import IFingerService, IFingerVerboseService, LookupFailed, UserNotFound
from finger.reactors import globalReactor
from finger.text import stripControls

DEFAULT_HOPS = 3
MAX_FORWARDS = 64
MAX_WAITING_FORWARDS = 64
DENIED = "Finger forwarding service denied"
ANY = "*"
DEFAULT_ALLOWED = ("*:79",)


class ForwardingDenied(LookupFailed):
    """The query may not be forwarded (hop limit, host not allowed, bad host)."""


def allowedTarget(text: str) -> tuple[str, int | str]:
    """
    Parse an allow-list entry C{HOST[:PORT]} (port 79 if omitted) into a
    normalised C{(host, port)}; C{*} as the host or the port matches any.
    """
    anyPort = text.endswith(":" + ANY)
    hostPort = text[: -len(ANY) - 1] if anyPort else text
    anyHost = hostPort == ANY or hostPort.startswith(ANY + ":")
    if anyHost:
        try:  # "*" is no host name: parse a stand-in to check the port.
            _, port = client.parseHostPort("any" + hostPort[len(ANY):])
        except ValueError:
            raise ValueError(f"bad port in {text!r}") from None
        host = ANY
    else:
        host, port = client.parseHostPort(hostPort)
        host = _normalHost(host)
    return host, ANY if anyPort else port


def _normalHost(host: str) -> str:
    return host.lower().rstrip(".")


@implementer(IFingerService, IFingerVerboseService)
class ProxyFingerService(service.Service):
    """Answers C{user@host[:port]} by asking C{host} for C{user}."""

    def __init__(
        self,
        allowed: Iterable[str] = DEFAULT_ALLOWED,
        timeout: float = client.DEFAULT_TIMEOUT,
        maxSize: int = client.DEFAULT_MAX_SIZE,
        maxHops: int = DEFAULT_HOPS,
        reactor: Any = None,
        maxForwards: int = MAX_FORWARDS,
        maxWaiting: int = MAX_WAITING_FORWARDS,
    ) -> None:
        """
        @param allowed: C{HOST[:PORT]} targets that may be asked (port 79 if
            omitted; C{*} for any host or port); the default, C{*:79}, is the
            finger port on any host.  Empty allows nothing.
        @param reactor: connects to the servers asked and times the
            deadline (C{IReactorTCP} and C{IReactorTime}); C{None} is the
            global reactor, resolved here.
        """
        self.allowed = {allowedTarget(a) for a in allowed}
        self.timeout = timeout
        self.maxSize = maxSize
        self.maxHops = maxHops
        self.reactor = globalReactor() if reactor is None else reactor
        self._forwards = BoundedWork(
            maxForwards, maxWaiting, "Error: too many forwarded queries at once; try again later"
        )

    def allows(self, host: str, port: int) -> bool:
        """May C{host:port} be asked?"""
        host = _normalHost(host)
        return any(h in (ANY, host) and p in (ANY, port) for h, p in self.allowed)

    def route(self, query: str) -> tuple[str, str, int]:
        """
        Split C{query} into (what to send, host, port), or raise
        L{ForwardingDenied} / L{LookupFailed} saying why it is not forwarded.
        A plain name is L{UserNotFound}: a proxy knows no users of its own,
        so that in a chain the next backend is asked.
        """
        hops = query.count("@")
        if hops == 0:
            raise UserNotFound(query)
        if hops > self.maxHops:
            raise ForwardingDenied(
                f"{DENIED}: too many hops ({hops} '@' in the query, the limit is {self.maxHops})"
            )
        if stripControls(query) != query:
            raise ForwardingDenied(f"{DENIED}: the query contains control characters")
        rest, _, target = query.rpartition("@")
        try:
            host, port = client.parseHostPort(target)
        except ValueError as e:
            raise ForwardingDenied(f"{DENIED}: {stripControls(str(e))}") from None
        if not self.allows(host, port):
            raise ForwardingDenied(f"{DENIED} for {client.formatAddress(host, port)}")
        return rest, host, port

    # IFingerService, IFingerVerboseService

    def getUser(self, name: str) -> defer.Deferred[str]:
        """Answer C{user@host[:port]} by fingering C{user} at C{host}."""
        return self._forward(name, verbose=False)

    def getUserVerbose(self, name: str) -> defer.Deferred[str]:
        """Like L{getUser}, sending C{/W user} (RFC 1288: /W applies at the far end)."""
        return self._forward(name, verbose=True)

    def _forward(self, name: str, verbose: bool) -> defer.Deferred[str]:
        try:
            query, host, port = self.route(name)
        except LookupFailed as e:
            return defer.fail(e)
        if verbose:
            query = f"/W {query}".rstrip()
        d = self._forwards.run(
            client.finger, query, host, port, self.timeout, self.maxSize, self.reactor
        )
        return d.addErrback(_clientFailed)

    def getUsers(self) -> defer.Deferred[Sequence[str]]:
        """A proxy has no users of its own: always empty."""
        return defer.succeed(())


def _clientFailed(failure: Failure) -> str:
    """A client error as the one-line L{LookupFailed} a frontend shows."""
    failure.trap(client.FingerClientError)
    raise LookupFailed(f"Error: {failure.getErrorMessage()}")
