"""
Listening sockets inherited from a parent process (C{twistd finger
--workers N}): the C{adopt:} endpoint, and the watch on the parent.

The parent binds and listens (Twisted's TCP ports never set
C{SO_REUSEPORT}), then starts each worker with the listening descriptors
open; the worker's listeners are C{adopt:fd=5:family=INET}, and each adopts
its descriptor with C{reactor.adoptStreamPort} (Twisted's "Running a Twisted
server on multiple cores").  The kernel gives each connection to one of the
workers waiting in C{accept}.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IReadDescriptor,
    IStreamServerEndpoint,
    IStreamServerEndpointStringParser,
)
from twisted.plugin import IPlugin
from twisted.python.failure import Failure
from zope.interface import implementer

from finger.errors import FingerConfigurationError
from finger.inherited import InheritedUNIXEndpoint

PREFIX = "adopt"
FAMILIES = {"INET": socket.AF_INET, "INET6": socket.AF_INET6, "UNIX": socket.AF_UNIX}


class AdoptError(FingerConfigurationError, ValueError):
    """An C{adopt:} endpoint string is wrong."""


def familyName(family: int) -> str:
    """C{INET}, C{INET6} or C{UNIX} for an address family."""
    for name, number in FAMILIES.items():
        if number == family:
            return name
    raise AdoptError(f"cannot pass a socket of address family {family} to workers")


def adoptDescription(fd: int, family: int) -> str:
    """The endpoint string a worker listens on for an inherited descriptor."""
    return f"{PREFIX}:fd={fd}:family={familyName(family)}"


@implementer(IStreamServerEndpoint)
class AdoptedServerEndpoint:
    """Listens on an inherited, already listening socket."""

    def __init__(self, reactor: Any, fd: int, family: int) -> None:
        self._reactor = reactor
        self.fd = fd
        self.family = family

    def listen(self, protocolFactory: IProtocolFactory) -> defer.Deferred[IListeningPort]:
        """Adopt the descriptor (the reactor takes a duplicate; ours is closed)."""
        if self.family == socket.AF_UNIX:  # its file is the parent's (or systemd's)
            return InheritedUNIXEndpoint(self._reactor, self.fd).listen(protocolFactory)
        try:
            port = self._reactor.adoptStreamPort(self.fd, self.family, protocolFactory)
        except OSError:
            return defer.fail(Failure())
        os.close(self.fd)
        return defer.succeed(port)


@implementer(IPlugin, IStreamServerEndpointStringParser)
class AdoptedServerParser:
    """C{adopt:fd=N:family=INET|INET6|UNIX}."""

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


@implementer(IReadDescriptor)
class ParentWatch:
    """
    The read end of a pipe whose write end only the parent holds: when the
    parent dies (even by SIGKILL) it reads end-of-file and calls C{onGone}.
    """

    def __init__(self, reactor: Any, fd: int, onGone: Any) -> None:
        self._reactor = reactor
        self._fd = fd
        self._onGone = onGone

    def start(self) -> None:
        self._reactor.addReader(self)

    def stop(self) -> None:
        if self._fd >= 0:
            self._reactor.removeReader(self)
            os.close(self._fd)
            self._fd = -1

    def fileno(self) -> int:
        return self._fd

    def doRead(self) -> None:
        try:
            data = os.read(self._fd, 512)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.stop()
            self._onGone()

    def connectionLost(self, reason: Failure) -> None:
        self.stop()
        self._onGone()

    def logPrefix(self) -> str:
        return "finger-parent-watch"


def isAdopted(description: str) -> bool:
    """Whether C{description} is an C{adopt:} endpoint (a socket a parent passed on)."""
    return description.partition(":")[0].strip().lower() == PREFIX
