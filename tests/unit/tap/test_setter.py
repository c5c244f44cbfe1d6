"""finger.tap.setter: which setter endpoints are local (their peers named by the kernel)."""

import pytest

from finger.tap.setter import isLocal


@pytest.mark.parametrize(
    "description",
    [
        "unix:/run/finger/setter.sock",
        "UNIX:/tmp/s.sock:mode=666",
        "systemd:domain=UNIX:index=2",
        # What a --workers parent hands a worker for the systemd UNIX socket:
        # still checked with SO_PEERCRED, never open to anyone.
        "adopt:fd=7:family=UNIX",
    ],
)
def test_unixSocketsAreLocal(description: str) -> None:
    assert isLocal(description)


@pytest.mark.parametrize(
    "description",
    [
        "tcp:1079:interface=127.0.0.1",
        "systemd:domain=INET6:index=0",
        "adopt:fd=5:family=INET",
        "adopt:fd=6:family=INET6",
    ],
)
def test_networkSocketsAreNot(description: str) -> None:
    assert not isLocal(description)
