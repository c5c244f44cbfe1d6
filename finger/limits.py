"""
Connection limits that every listener enforces (see L{finger.listen.listen}).

Each listener accepts at most C{maxConnections} connections at once, and at
most C{maxConnectionsPerPeer} from one client address.  A connection beyond
either limit is closed at once while the existing ones keep being served.
If the frontend's factory has a C{refusalMessage} (a one-line C{str}), the
refused client is sent that line first; otherwise it is just closed.

Per-client counting groups addresses by network (L{clientNetwork}): an IPv4
client counts by its full address (C{/32}), an IPv6 client by its C{/64},
since one host commonly has a whole C{/64} to pick addresses from; both
prefix lengths are L{Limits} settings.  An IPv4-mapped IPv6 address
(C{::ffff:192.0.2.1}, from a dual-stack listener) counts as IPv4.

Refusals are logged when a limit starts refusing and when it stops (with the
number refused meanwhile), so a flood of connections cannot flood the log.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from twisted.internet import interfaces
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.python.failure import Failure
from zope.interface import directlyProvides, providedBy

from finger.linger import LINGER_SECONDS, Refusal, halfCloser
from finger.reactors import globalReactor

DEFAULT_MAX_CONNECTIONS = 1024
DEFAULT_MAX_CONNECTIONS_PER_PEER = 32
# Prefix lengths that one client's addresses share (see clientNetwork).
DEFAULT_IPV4_PREFIX = 32
DEFAULT_IPV6_PREFIX = 64
# How long a refused client gets to read the refusal before we cut it off,
# and how many such lingering refusals we allow before closing at once.
REFUSAL_LINGER_SECONDS = LINGER_SECONDS
MAX_LINGERING_REFUSALS = 64

# What a transport looks for on the protocol or factory it was given, and so
# on a wrapper: Twisted's ProtocolWrapper and WrappingFactory forward none of
# these.  A wrapper provides each one exactly when what it wraps does (a TCP
# transport half-closes only an IHalfCloseableProtocol; TLS offers ALPN only
# for an IProtocolNegotiationFactory, and without it aborts a handshake that
# offers ALPN, i.e. every browser's and curl's).  Found by reading where
# Twisted 22.4 and 26.10 call providedBy() or adapt a protocol or factory in
# twisted/internet and twisted/protocols/tls.py; tests/test_wrappers.py checks
# that every wrapper in finger forwards them.
PROTOCOL_INTERFACES = (
    interfaces.IHalfCloseableProtocol,  # tcp.py, _posixstdio.py
    interfaces.IHandshakeListener,  # protocols/tls.py
    interfaces.IFileDescriptorReceiver,  # unix.py (unix: endpoints)
)
FACTORY_INTERFACES = (
    interfaces.IProtocolNegotiationFactory,  # protocols/tls.py, _sslverify.py (ALPN)
)
_declarations: dict = {}


@dataclass(frozen=True)
class Limits:
    """
    Connection limits for one listener.  C{perPeerExempt}, if given, says
    which client addresses the per-peer limit does not apply to (a web
    listener's trusted reverse proxies, which carry every client's
    connections); the listener's total limit still does.
    """

    maxConnections: int = DEFAULT_MAX_CONNECTIONS
    maxConnectionsPerPeer: int = DEFAULT_MAX_CONNECTIONS_PER_PEER
    ipv4Prefix: int = DEFAULT_IPV4_PREFIX
    ipv6Prefix: int = DEFAULT_IPV6_PREFIX
    perPeerExempt: Callable[[str], bool] | None = None

    def limitsPeer(self, host: str | None) -> bool:
        """
        Whether the per-peer limit counts connections from C{host} (the
        client's own address, not its network: an exemption names hosts).
        """
        if host is None:
            return False
        return self.perPeerExempt is None or not self.perPeerExempt(host)


DEFAULT_LIMITS = Limits()


@lru_cache(maxsize=4096)
def clientNetwork(
    host: str, ipv4Prefix: int = DEFAULT_IPV4_PREFIX, ipv6Prefix: int = DEFAULT_IPV6_PREFIX
) -> str:
    """
    The network that counts as one client for per-client limits: C{host}
    (an IP address in text) cut to C{ipv4Prefix} or C{ipv6Prefix} bits, as
    C{"2001:db8::/64"} or C{"192.0.2.7"} (a whole-address IPv4 prefix keeps
    the plain address).  An IPv4-mapped IPv6 address counts as IPv4.  Text
    that is not an IP address (a UNIX socket path, a host name) is its own
    key.
    """
    try:
        address = ipaddress.ip_address(host.partition("%")[0])  # no zone (fe80::1%lo)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = ipv4Prefix if address.version == 4 else ipv6Prefix
    if prefix >= address.max_prefixlen:
        return str(address)
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def peerKey(address, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """The client network that per-peer limits count (C{None}: not counted)."""
    host = getattr(address, "host", None)
    if host is None:
        return None
    return clientNetwork(host, limits.ipv4Prefix, limits.ipv6Prefix)


class LimitedProtocol(ProtocolWrapper):
    """
    Wraps one accepted connection so the factory can count it; provides and
    forwards the L{PROTOCOL_INTERFACES} that the wrapped protocol provides.
    """

    factory: LimitedFactory

    def __init__(
        self, factory: LimitedFactory, wrappedProtocol: interfaces.IProtocol, peer: str | None
    ) -> None:
        super().__init__(factory, wrappedProtocol)
        self.peer = peer

    def makeConnection(self, transport) -> None:
        # As ProtocolWrapper.makeConnection, the wrapper provides its
        # transport's interfaces (e.g. ISSLTransport); it also provides the
        # wrapped protocol's ones that a transport looks for.  Computing that
        # declaration costs more than the rest of a finger query, so it is
        # made once per kind of transport and protocol.
        key = (providedBy(transport), providedBy(self.wrappedProtocol))
        provided = _declarations.get(key)
        if provided is None:
            if len(_declarations) > 100:
                _declarations.clear()
            fromTransport = [i for i in key[0] if i not in PROTOCOL_INTERFACES]
            wanted = [i for i in PROTOCOL_INTERFACES if i.providedBy(self.wrappedProtocol)]
            provided = _declarations[key] = tuple(fromTransport + wanted)
        directlyProvides(self, *provided)
        Protocol.makeConnection(self, transport)
        self.factory.registerProtocol(self)
        self.wrappedProtocol.makeConnection(cast(interfaces.ITransport, self))

    def __getattr__(self, name: str):
        # As ProtocolWrapper (the transport's other attributes), except that
        # a transport that cannot half-close itself does not seem to.
        if name == "loseWriteConnection":
            method = halfCloser(self.transport)
            if method is None:
                raise AttributeError(name)
            return method
        return getattr(self.transport, name)

    # IHalfCloseableProtocol

    def readConnectionLost(self) -> None:
        interfaces.IHalfCloseableProtocol(self.wrappedProtocol).readConnectionLost()

    def writeConnectionLost(self) -> None:
        interfaces.IHalfCloseableProtocol(self.wrappedProtocol).writeConnectionLost()

    # IHandshakeListener

    def handshakeCompleted(self) -> None:
        interfaces.IHandshakeListener(self.wrappedProtocol).handshakeCompleted()

    # IFileDescriptorReceiver

    def fileDescriptorReceived(self, descriptor: int) -> None:
        interfaces.IFileDescriptorReceiver(self.wrappedProtocol).fileDescriptorReceived(descriptor)


class SelfCounting:
    """
    A protocol that L{LimitedFactory} counts without wrapping it: a wrapper
    costs more than a finger query's own code.  It must call L{released}
    when its connection is lost; the factory sets C{peer} (the client address
    it was counted under) and C{countedBy} when it builds it.
    """

    peer: str | None = None
    countedBy: LimitedFactory | None = None

    def released(self) -> None:
        """The connection is gone: stop counting it (once)."""
        factory, self.countedBy = self.countedBy, None
        if factory is not None:
            factory.unregisterProtocol(self)


if TYPE_CHECKING:
    _WrappingFactory = WrappingFactory[LimitedProtocol]
else:  # WrappingFactory is generic only in the type stubs of newer Twisted
    _WrappingFactory = WrappingFactory


class RefusalProtocol(Protocol):
    """
    Answers a connection over the limit: sends the frontend's refusal line, if
    any, and closes.  With a message, it lingers as L{finger.linger} says (the
    client gets to read the line), unless L{MAX_LINGERING_REFUSALS} refusals
    already linger: then it closes at once.
    """

    transport: Any  # a TCP-like transport (abortConnection, half-close)

    def __init__(self, factory: LimitedFactory, message: bytes | None) -> None:
        self.factory = factory
        self.message = message
        self.lingered = False

    def connectionMade(self) -> None:
        """Refuse at once."""
        self.refusal = Refusal(self.transport, self.factory.clock)
        if not self.message:
            self.transport.loseConnection()
            return
        canLinger = self.factory.lingering < MAX_LINGERING_REFUSALS
        if self.refusal.refuse(self.message, linger=canLinger):
            self.lingered = True
            self.factory.lingering += 1

    def dataReceived(self, data: bytes) -> None:
        """Discarded: the client was refused."""

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Stop lingering."""
        if self.lingered:
            self.factory.lingering -= 1
            self.lingered = False
        self.refusal.stop()


class LimitedFactory(_WrappingFactory):
    """
    Wraps a frontend's server factory and enforces L{Limits} on it.

    The wrapped factory may have a C{refusalMessage} (C{str}, one line): the
    line sent, with CRLF, to a refused client.  The wrapper provides and
    forwards the L{FACTORY_INTERFACES} that the wrapped factory provides (for
    a web site: ALPN's protocol negotiation).
    """

    protocol = LimitedProtocol
    log = Logger()
    noisy = False  # the wrapped factory already logs starting and stopping

    def __init__(
        self,
        wrappedFactory: interfaces.IProtocolFactory,
        limits: Limits = DEFAULT_LIMITS,
        frontend: str = "?",
        clock: interfaces.IReactorTime | None = None,
    ) -> None:
        super().__init__(wrappedFactory)
        directlyProvides(
            self, *[i for i in FACTORY_INTERFACES if i.providedBy(wrappedFactory)]
        )
        if clock is None:
            clock = globalReactor()
        self.limits = limits
        self.frontend = frontend
        self.clock = clock
        self.perPeer: dict[str | None, int] = {}
        self.lingering = 0
        self._refusedWhileFull = 0
        self._refusedFrom: dict[str | None, int] = {}
        self.refused = 0  # since start-up, for finger.metrics

    # IProtocolNegotiationFactory

    def acceptableProtocols(self) -> list[bytes]:
        return self.wrappedFactory.acceptableProtocols()

    @property
    def refusalMessage(self) -> bytes | None:
        message = getattr(self.wrappedFactory, "refusalMessage", None)
        return message.encode("utf-8") + b"\r\n" if message else None

    def buildProtocol(self, addr):
        peer = peerKey(addr, self.limits)
        if len(self.protocols) >= self.limits.maxConnections:
            self.refused += 1
            self._refuseFull(addr)
            return RefusalProtocol(self, self.refusalMessage)
        if (
            peer is not None
            and self.limits.limitsPeer(getattr(addr, "host", None))
            and self.perPeer.get(peer, 0) >= self.limits.maxConnectionsPerPeer
        ):
            self.refused += 1
            self._refusePeer(peer)
            return RefusalProtocol(self, self.refusalMessage)
        wrapped = self.wrappedFactory.buildProtocol(addr)
        if wrapped is None:
            return None
        if isinstance(wrapped, SelfCounting):
            wrapped.peer = peer
            wrapped.countedBy = self
            self.registerProtocol(wrapped)
            return wrapped
        return self.protocol(self, wrapped, peer)

    def registerProtocol(self, p: LimitedProtocol | SelfCounting) -> None:
        super().registerProtocol(p)
        self.perPeer[p.peer] = self.perPeer.get(p.peer, 0) + 1

    def unregisterProtocol(self, p: LimitedProtocol | SelfCounting) -> None:
        super().unregisterProtocol(p)
        left = self.perPeer[p.peer] - 1
        if left:
            self.perPeer[p.peer] = left
        else:
            del self.perPeer[p.peer]
        if self._refusedWhileFull and len(self.protocols) < self.limits.maxConnections:
            self.log.info(
                "{frontend}: accepting connections again; {refused} refused "
                "while at the limit of {limit}",
                frontend=self.frontend,
                refused=self._refusedWhileFull,
                limit=self.limits.maxConnections,
            )
            self._refusedWhileFull = 0
        if p.peer in self._refusedFrom and left < self.limits.maxConnectionsPerPeer:
            self.log.info(
                "{frontend}: accepting connections from {peer} again; {refused} "
                "refused while at the per-client limit of {limit}",
                frontend=self.frontend,
                peer=p.peer,
                refused=self._refusedFrom.pop(p.peer),
                limit=self.limits.maxConnectionsPerPeer,
            )

    def _refuseFull(self, addr) -> None:
        if not self._refusedWhileFull:
            self.log.warn(
                "{frontend}: {limit} connections open (--max-connections); "
                "refusing new ones (first from {peer})",
                frontend=self.frontend,
                limit=self.limits.maxConnections,
                peer=peerKey(addr, self.limits),
            )
        self._refusedWhileFull += 1

    def _refusePeer(self, peer: str) -> None:
        if peer not in self._refusedFrom:
            self.log.warn(
                "{frontend}: {limit} connections open from {peer} "
                "(--max-connections-per-peer); refusing more from it",
                frontend=self.frontend,
                limit=self.limits.maxConnectionsPerPeer,
                peer=peer,
            )
        self._refusedFrom[peer] = self._refusedFrom.get(peer, 0) + 1
