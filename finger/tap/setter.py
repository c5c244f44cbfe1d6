"""
The local setter's listeners (C{--setter}): a UNIX socket by default, TCP
only when asked for, with a start-up warning.

By default the setter listens on L{finger.localsocket.SYSTEM_SOCKET} when
twistd runs as root (creating C{/run/finger}, mode 0755, owned by the user
twistd switches to with C{-u}), and on C{$XDG_RUNTIME_DIR/finger/setter.sock}
for an ordinary user.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from finger.adapt import frontend
from finger.frontends.setter import SetterSettings
from finger.inherited import isInherited, isInheritedUNIX
from finger.interfaces import (
    IFingerService,
    IFingerSetterFactory,
    IFingerSetterService,
    StoreError,
)
from finger.listen import endpointDescriptions, listen
from finger.localsocket import prepareDirectory, serverSocket
from finger.tap.errors import StartupError
from finger.tap.privileges import twistdUser

log = Logger(namespace="finger.setter")

UNAUTHENTICATED_WARNING = (
    "setter on {description}: anyone who can connect can set any user's status "
    "(no authentication; the local UNIX socket checks who connects: --setter unix:PATH)"
)


def isLocal(description: str) -> bool:
    """Whether a C{--setter} endpoint is a UNIX socket (whose peers the kernel names)."""
    return description.strip().lower().startswith("unix:") or isInheritedUNIX(description)


class SocketDirectory(service.Service):
    """
    Creates the default socket's directory when twistd starts (before the
    listener binds), owned by the user twistd switches to with C{-u} so that
    the socket and its lock are removed when the service stops.
    """

    def __init__(self, path: Path, owner: tuple[int | None, int | None]) -> None:
        self.path = path
        self.owner = owner

    def privilegedStartService(self) -> None:
        super().privilegedStartService()
        created = prepareDirectory(self.path)
        uid, gid = self.owner
        if created and uid is not None:
            os.chown(self.path.parent, uid, gid if gid is not None else -1)


def defaultDescription(top: service.MultiService, options: Any) -> str:
    """The default C{unix:} endpoint; its directory is created at start-up."""
    path = serverSocket(os.geteuid(), os.environ)
    uid, gid, _ = twistdUser(options)
    SocketDirectory(path, (uid, gid)).setServiceParent(top)
    return f"unix:{path}:mode=0666:lockfile=1"


NOTHING_SETTABLE = (
    "statuses cannot be set on this service: it has no settable backend "
    "(its administrator can add one, e.g. --store)"
)


@implementer(IFingerService, IFingerSetterService)
class NothingSettable:
    """A read-only backend, seen by the setter: it refuses every write."""

    def __init__(self, backend: IFingerService) -> None:
        self.backend = backend

    def getUser(self, name: str) -> defer.Deferred[str]:
        return self.backend.getUser(name)

    def getUsers(self) -> defer.Deferred[Sequence[str]]:
        return self.backend.getUsers()

    def setUser(self, name: str, status: str) -> defer.Deferred[None]:
        return defer.fail(StoreError(NOTHING_SETTABLE))


def addSetterListeners(top: service.MultiService, backend: Any, options: Any) -> None:
    """
    Add the setter listeners (default: the local UNIX socket) if the backend
    is settable; warn about each one that is not local.
    """
    if not IFingerSetterService.providedBy(backend):
        given = endpointDescriptions(options["setter"], [])
        if not all(isInherited(d) for d in given):
            raise StartupError(
                "--setter needs a settable backend (e.g. --memory); "
                "this backend cannot be written"
            )
        if not given:
            return
        # Sockets systemd made (the package's finger.socket) are there
        # anyway: answer them with the reason instead of leaving clients hanging.
        backend = NothingSettable(backend)
    descriptions = endpointDescriptions(options["setter"], ["default"])
    for description in descriptions:
        if description == "default":
            description = defaultDescription(top, options)
        local = isLocal(description)
        if not local:
            log.warn(UNAUTHENTICATED_WARNING, description=description)
        settings = SetterSettings(
            timeout=options["timeout"],
            timeLimit=options["max-connection-time"],
            queryLog=options.queryLog,
            allowUnauthenticated=not local,
        )
        factory = frontend(IFingerSetterFactory, backend, settings)
        listen(top, "setter", description, factory, limits=options.limits)
