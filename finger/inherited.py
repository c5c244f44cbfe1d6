"""
Listening on a UNIX socket inherited from systemd (socket activation).

Twisted's C{systemd:domain=UNIX:index=N} endpoint adopts the socket, but the
port it makes then chmods the socket file at start and unlinks it at stop,
which breaks the socket unit (the next activation finds no file) and fails
for an unprivileged service user.  L{listen} uses L{InheritedUNIXEndpoint}
for such descriptions instead: the same socket, its file left to systemd.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.interfaces import IListeningPort, IProtocolFactory, IStreamServerEndpoint
from twisted.python.systemd import ListenFDs
from zope.interface import implementer

from finger import _compat
from finger.errors import FingerConfigurationError


class InheritedSocketError(FingerConfigurationError):
    """The description names an inherited socket the process did not get."""


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
    """Listens on the C{index}-th socket systemd passed (C{LISTEN_FDS}), a UNIX one."""

    def __init__(self, reactor, index: int, descriptors: list[int] | None = None) -> None:
        self.reactor = reactor
        self.index = index
        if descriptors is None:
            descriptors = list(ListenFDs.fromEnvironment().inheritedDescriptors())
        self.descriptors = descriptors

    def listen(self, factory: IProtocolFactory) -> defer.Deferred[IListeningPort]:
        """Adopt the socket; fails if the process has no socket at that index."""
        if not 0 <= self.index < len(self.descriptors):
            return defer.fail(
                InheritedSocketError(
                    f"no inherited socket at index {self.index} "
                    f"(this process got {len(self.descriptors)} from systemd)"
                )
            )
        return defer.execute(
            _compat.adoptUNIXPort, self.reactor, self.descriptors[self.index], factory
        )
