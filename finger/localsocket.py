"""
Where the local setter's UNIX socket lives by default, for the server
(C{twistd finger}) and for C{finger-set}.

The system's service (root, or the Debian package's finger.socket) uses
L{SYSTEM_SOCKET}, in a root-owned directory that everyone can enter, the
socket itself writable by all (the server checks who connects).  A server run
by an ordinary user (a developer's C{twistd -n finger --memory}) cannot
create that directory, so it uses its own runtime directory instead
(C{$XDG_RUNTIME_DIR/finger/setter.sock}), which only that user can reach;
C{finger-set} run by that user finds it there first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from finger.errors import FingerConfigurationError

SYSTEM_DIRECTORY = Path("/run/finger")
SYSTEM_SOCKET = SYSTEM_DIRECTORY / "setter.sock"
SOCKET_NAME = "setter.sock"


class NoDefaultSocket(FingerConfigurationError):
    """An ordinary user without a runtime directory: no default place for the socket."""


def userSocket(environ: Mapping[str, str]) -> Path | None:
    """C{$XDG_RUNTIME_DIR/finger/setter.sock}, or C{None} without that variable."""
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    if not runtime or not os.path.isabs(runtime):
        return None
    return Path(runtime) / "finger" / SOCKET_NAME


def serverSocket(euid: int, environ: Mapping[str, str]) -> Path:
    """
    The socket a server run as C{euid} listens on by default: the system's
    for root, the user's own otherwise.
    """
    if euid == 0:
        return SYSTEM_SOCKET
    own = userSocket(environ)
    if own is None:
        raise NoDefaultSocket(
            f"the setter's default socket {SYSTEM_SOCKET} needs root, and XDG_RUNTIME_DIR "
            "is not set; choose one with --setter unix:PATH (finger-set --socket PATH), "
            "or --setter none"
        )
    return own


def prepareDirectory(path: Path) -> bool:
    """
    Create the socket's directory if missing: mode 0755, so that every
    local user can reach the socket (the socket's own mode is 0666).
    Returns whether it created it.
    """
    directory = path.parent
    if directory.is_dir():
        return False
    try:
        directory.mkdir(mode=0o755, parents=True)
        os.chmod(directory, 0o755)  # whatever the umask
    except OSError as e:
        raise FingerConfigurationError(
            f"cannot create {directory} for the setter's socket: {e.strerror}; "
            "create it (mode 0755) or choose another path with --setter unix:PATH"
        ) from None
    return True


def clientSockets(euid: int, environ: Mapping[str, str]) -> list[Path]:
    """
    Where C{finger-set} looks, in order: the user's own server's socket (if
    the user has a runtime directory), then the system's.
    """
    own = userSocket(environ) if euid != 0 else None
    return [own, SYSTEM_SOCKET] if own is not None else [SYSTEM_SOCKET]
