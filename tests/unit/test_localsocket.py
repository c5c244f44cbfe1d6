"""finger.localsocket: where the setter's socket is by default."""

import stat
from pathlib import Path

import pytest

from finger.errors import FingerConfigurationError
from finger.localsocket import (
    SYSTEM_SOCKET,
    NoDefaultSocket,
    clientSockets,
    prepareDirectory,
    serverSocket,
)


def test_rootUsesTheSystemSocket():
    assert SYSTEM_SOCKET == Path("/run/finger/setter.sock")
    assert serverSocket(0, {"XDG_RUNTIME_DIR": "/run/user/0"}) == SYSTEM_SOCKET
    assert clientSockets(0, {"XDG_RUNTIME_DIR": "/run/user/0"}) == [SYSTEM_SOCKET]


def test_anOrdinaryUserUsesTheirRuntimeDirectory():
    environ = {"XDG_RUNTIME_DIR": "/run/user/1000"}
    own = Path("/run/user/1000/finger/setter.sock")
    assert serverSocket(1000, environ) == own
    # finger-set tries the user's own server first, then the system's.
    assert clientSockets(1000, environ) == [own, SYSTEM_SOCKET]


@pytest.mark.parametrize("environ", [{}, {"XDG_RUNTIME_DIR": ""}, {"XDG_RUNTIME_DIR": "rel"}])
def test_noRuntimeDirectoryIsAClearError(environ):
    with pytest.raises(NoDefaultSocket, match="--setter unix:PATH"):
        serverSocket(1000, environ)
    assert clientSockets(1000, environ) == [SYSTEM_SOCKET]


def test_prepareDirectoryMakesItReachable(tmp_path):
    path = tmp_path / "a" / "finger" / "setter.sock"
    assert prepareDirectory(path) is True
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755
    assert prepareDirectory(path) is False


def test_prepareDirectoryFailureIsOneLine(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(FingerConfigurationError, match=f"cannot create {blocker}/finger"):
        prepareDirectory(blocker / "finger" / "setter.sock")
