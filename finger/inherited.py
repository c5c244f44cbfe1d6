"""
Listening sockets a service inherits, already bound and listening, instead
of binding its own: from systemd (socket activation) or, with C{twistd
finger --workers N}, from the parent process (the C{adopt:} endpoint).

  - systemd: Twisted's C{systemd:domain=UNIX:index=N} endpoint adopts the
    socket, but the port it makes then chmods the socket file at start and
    unlinks it at stop, which breaks the socket unit (the next activation
    finds no file) and fails for an unprivileged service user.
    L{withoutSocketFileChanges} (used by L{finger.listen.listen}) replaces
    such an endpoint with an L{InheritedUNIXEndpoint}: the same socket, its
    file left to systemd.
  - C{adopt:fd=5:family=INET}: the parent binds and listens (Twisted's TCP
    ports never set C{SO_REUSEPORT}), then starts each worker with the
    listening descriptors open; each worker adopts its descriptor with
    C{reactor.adoptStreamPort} (Twisted's "Running a Twisted server on
    multiple cores"), a UNIX one as an L{InheritedUNIXEndpoint}.  The kernel
    gives each connection to one of the workers waiting in C{accept}.

L{isInherited} recognises both kinds of description.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from twisted.internet import defer
from twisted.internet.endpoints import AdoptedStreamServerEndpoint
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IStreamServerEndpoint,
    IStreamServerEndpointStringParser,
)
from twisted.plugin import IPlugin
from zope.interface import implementer

from finger import _compat
from finger.errors import FingerConfigurationError

PREFIX = "adopt"
FAMILIES = {"INET": socket.AF_INET, "INET6": socket.AF_INET6, "UNIX": socket.AF_UNIX}


class InheritedSocketError(FingerConfigurationError):
    """The description names an inherited socket wrongly."""


class AdoptError(FingerConfigurationError, ValueError):
    """An C{adopt:} endpoint string is wrong."""


# Recognising descriptions


def inheritedUNIXIndex(description: str) -> int | None:
    """
    The index of C{systemd:domain=UNIX:index=N}, or C{None} for any other
    endpoint description.
    """
    kind, _, rest = description.partition(":")
    if kind.strip().lower() != "systemd":
        return None
    fields = dict(part.partition("=")[::2] for part in rest.split(":") if part)
    if fields.get("domain", "").upper() != "UNIX" or "index" not in fields:
        return None
    try:
        return int(fields["index"])
    except ValueError:
        raise InheritedSocketError(f"bad index in {description!r}: not a number") from None


def isAdopted(description: str) -> bool:
    """Whether C{description} is an C{adopt:} endpoint (a socket a parent passed on)."""
    return description.partition(":")[0].strip().lower() == PREFIX


def isInheritedUNIX(description: str) -> bool:
    """
    Whether C{description} listens on an inherited UNIX socket: systemd's
    (C{systemd:domain=UNIX:index=N}) or a parent's (C{adopt:...:family=UNIX}).
    """
    if isAdopted(description):
        fields = dict(part.partition("=")[::2] for part in description.split(":")[1:] if part)
        return fields.get("family", "").upper() == "UNIX"
    return inheritedUNIXIndex(description) is not None


def isInherited(description: str) -> bool:
    """
    Whether C{description} listens on a socket someone else made: systemd's
    UNIX socket (C{systemd:domain=UNIX:index=N}) or a parent's (C{adopt:}).
    """
    return isAdopted(description) or inheritedUNIXIndex(description) is not None


def familyName(family: int) -> str:
    """C{INET}, C{INET6} or C{UNIX} for an address family."""
    for name, number in FAMILIES.items():
        if number == family:
            return name
    raise AdoptError(f"cannot pass a socket of address family {family} to workers")


def adoptDescription(fd: int, family: int) -> str:
    """The endpoint string a worker listens on for an inherited descriptor."""
    return f"{PREFIX}:fd={fd}:family={familyName(family)}"


# Endpoints


@implementer(IStreamServerEndpoint)
class InheritedUNIXEndpoint:
    """Listens on an inherited listening UNIX socket (its descriptor C{fileno})."""

    def __init__(self, reactor: Any, fileno: int) -> None:
        self.reactor = reactor
        self.fileno = fileno

    def listen(self, factory: IProtocolFactory) -> defer.Deferred[IListeningPort]:
        """Adopt the socket (the port keeps a duplicate; this descriptor is closed)."""
        return _adopt(lambda: _compat.adoptUNIXPort(self.reactor, self.fileno, factory),
                      self.fileno)


@implementer(IStreamServerEndpoint)
class AdoptedServerEndpoint:
    """Listens on an inherited, already listening socket (C{adopt:})."""

    def __init__(self, reactor: Any, fd: int, family: int) -> None:
        self._reactor = reactor
        self.fd = fd
        self.family = family

    def listen(self, protocolFactory: IProtocolFactory) -> defer.Deferred[IListeningPort]:
        """Adopt the descriptor (the reactor takes a duplicate; ours is closed)."""
        if self.family == socket.AF_UNIX:  # its file is the parent's (or systemd's)
            return InheritedUNIXEndpoint(self._reactor, self.fd).listen(protocolFactory)
        return _adopt(
            lambda: self._reactor.adoptStreamPort(self.fd, self.family, protocolFactory),
            self.fd,
        )


def _adopt(adopt: Any, fd: int) -> defer.Deferred[IListeningPort]:
    """C{adopt()}'s port, then C{fd} closed, as Twisted's AdoptedStreamServerEndpoint does."""

    def adoptAndClose() -> IListeningPort:
        port: IListeningPort = adopt()
        os.close(fd)
        return port

    return defer.execute(adoptAndClose)


def withoutSocketFileChanges(endpoint: IStreamServerEndpoint) -> IStreamServerEndpoint:
    """C{endpoint}, or an L{InheritedUNIXEndpoint} if it adopts a UNIX socket."""
    if isinstance(endpoint, AdoptedStreamServerEndpoint) and (
        endpoint.addressFamily == socket.AF_UNIX
    ):
        return InheritedUNIXEndpoint(endpoint.reactor, endpoint.fileno)
    return endpoint


@implementer(IPlugin, IStreamServerEndpointStringParser)
class AdoptedServerParser:
    """C{adopt:fd=N:family=INET|INET6|UNIX} (registered in twisted/plugins/finger_adopt.py)."""

    prefix = PREFIX

    def parseStreamServer(  # type: ignore[override]  # see finger.frontends.web.tls
        self, reactor: Any, fd: str = "", family: str = "INET", **unknown: str
    ) -> AdoptedServerEndpoint:
        if unknown:
            raise AdoptError(f"adopt: unknown option(s): {', '.join(sorted(unknown))}")
        if not fd.isdigit():
            raise AdoptError(f"adopt: fd must be a descriptor number, not {fd!r}")
        if family not in FAMILIES:
            raise AdoptError(f"adopt: family must be one of {', '.join(FAMILIES)}, not {family!r}")
        return AdoptedServerEndpoint(reactor, int(fd), FAMILIES[family])
