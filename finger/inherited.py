"""
Listening on a UNIX socket inherited from systemd (socket activation).

Twisted's C{systemd:domain=UNIX:index=N} endpoint adopts the socket, but the
port it makes then chmods the socket file at start and unlinks it at stop,
which breaks the socket unit (the next activation finds no file) and fails
for an unprivileged service user.  L{listen} replaces such an endpoint with
an L{InheritedUNIXEndpoint}: the same socket, its file left to systemd.
"""

from __future__ import annotations

import os
import socket

from twisted.internet import defer
from twisted.internet.endpoints import AdoptedStreamServerEndpoint
from twisted.internet.interfaces import IListeningPort, IProtocolFactory, IStreamServerEndpoint
from zope.interface import implementer

from finger import _compat
from finger.errors import FingerConfigurationError


class InheritedSocketError(FingerConfigurationError):
    """The description names an inherited socket wrongly."""


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


@implementer(IStreamServerEndpoint)
class InheritedUNIXEndpoint:
    """Listens on an inherited listening UNIX socket (its descriptor C{fileno})."""

    def __init__(self, reactor, fileno: int) -> None:
        self.reactor = reactor
        self.fileno = fileno

    def listen(self, factory: IProtocolFactory) -> defer.Deferred[IListeningPort]:
        """Adopt the socket (the port keeps a duplicate; this descriptor is closed)."""

        def adopt() -> IListeningPort:
            port = _compat.adoptUNIXPort(self.reactor, self.fileno, factory)
            os.close(self.fileno)  # as Twisted's AdoptedStreamServerEndpoint does
            return port

        return defer.execute(adopt)


def withoutSocketFileChanges(endpoint: IStreamServerEndpoint) -> IStreamServerEndpoint:
    """C{endpoint}, or an L{InheritedUNIXEndpoint} if it adopts a UNIX socket."""
    if isinstance(endpoint, AdoptedStreamServerEndpoint) and (
        endpoint.addressFamily == socket.AF_UNIX
    ):
        return InheritedUNIXEndpoint(endpoint.reactor, endpoint.fileno)
    return endpoint
