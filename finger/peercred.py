"""
Who is at the other end of a local (UNIX) socket: the kernel's C{SO_PEERCRED}.

The kernel records the connecting process's pid, uid and gid when it calls
C{connect()}; the client cannot choose them, so they identify a local user
without a password.  Only UNIX-socket connections have them.
"""

from __future__ import annotations

import pwd
import socket
import struct
from dataclasses import dataclass
from typing import Any

_UCRED = struct.Struct("3i")  # struct ucred: pid_t pid; uid_t uid; gid_t gid


@dataclass(frozen=True)
class PeerCredentials:
    """The connecting process, as the kernel saw it when it connected."""

    pid: int
    uid: int
    gid: int

    @property
    def isRoot(self) -> bool:
        """Whether the peer ran as root (uid 0)."""
        return self.uid == 0

    def accountName(self) -> str | None:
        """The peer's login name (the password database's entry for its uid), if any."""
        try:
            return pwd.getpwuid(self.uid).pw_name
        except KeyError:
            return None

    def describe(self) -> str:
        """C{uid 1000 (alice)}: for logs and refusals."""
        name = self.accountName()
        return f"uid {self.uid} ({name})" if name else f"uid {self.uid}"


def peerCredentials(transport: Any) -> PeerCredentials | None:
    """
    The credentials of the process connected to C{transport}, or C{None} when
    it is not a UNIX socket (TCP has no such thing).  Reads the accepted
    socket through the transport's public C{getHandle()}.
    """
    try:
        handle = transport.getHandle()
    except (AttributeError, NotImplementedError):
        return None
    if not isinstance(handle, socket.socket) or handle.family != socket.AF_UNIX:
        return None
    try:
        raw = handle.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    except OSError:
        return None  # closed already
    pid, uid, gid = _UCRED.unpack(raw)
    return PeerCredentials(pid, uid, gid)
