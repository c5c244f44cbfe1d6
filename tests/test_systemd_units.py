"""
The package's systemd units: systemd accepts them, and the service's
command line, run the way finger.socket activates it, answers on the
inherited socket.  (test_deb.py runs the installed package the same way.)
"""

import shutil
import socket
import subprocess

import pytest

from support import REPO, TWISTD, FingerProcess, finger
from systemdunits import (
    SOURCE_DEFAULTS,
    SOURCE_UNITS,
    parseEnvironmentFile,
    parseUnit,
    serviceCommand,
    socketActivate,
)


def test_systemdAcceptsTheUnits(tmp_path):
    for name, source in SOURCE_UNITS.items():
        shutil.copy(source, tmp_path / name)
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / name) for name in SOURCE_UNITS)],
        capture_output=True,
        timeout=60,
    )
    # Unknown or misspelt directives are only warnings: any output is a failure.
    assert (result.returncode, result.stdout + result.stderr) == (0, b"")


def freePort(family: int, host: str) -> int:
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def startActivated(command: list[str], family: int, host: str, cwd, attempts: int = 3):
    """
    Run the service like finger.socket does, on a free loopback port
    (systemd-socket-activate cannot listen on port 0, so a port is picked
    first; if another process takes it meanwhile, try another).  Like
    systemd, it starts the service on the first connection.  Returns the
    process and the port.
    """
    socketUnit = parseUnit(SOURCE_UNITS["finger.socket"])
    for attempt in range(attempts):
        port = freePort(family, host)
        address = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
        process = FingerProcess(
            [], cwd=cwd, expect=(), command=socketActivate(socketUnit, address, command, {"PYTHONPATH": str(REPO)})
        )
        outcome = process.waitForLog(r"^Listening on .* as 3\.$|Failed to listen|Address already in use")
        if outcome.group(0).startswith("Listening"):
            return process, port
        process.stop()
        if attempt == attempts - 1:
            raise AssertionError(f"systemd-socket-activate could not listen:\n{process.log}")


@pytest.mark.parametrize("twistd", ["unit", "current"])
@pytest.mark.parametrize("family, host", [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")])
def test_socketActivatedServiceAnswers(tmp_path, twistd, family, host):
    users = tmp_path / "users"
    shutil.copy(REPO / "etc" / "users", users)  # what the package installs as /etc/finger/users
    environment = parseEnvironmentFile(SOURCE_DEFAULTS)
    environment["FINGER_OPTS"] = environment["FINGER_OPTS"].replace("/etc/finger/users", str(users))
    command = serviceCommand(parseUnit(SOURCE_UNITS["finger.service"]), environment)
    assert command[0] == "/usr/bin/twistd3"  # Debian's twistd, with python3-twisted 22.4
    if twistd == "current":
        command[:1] = TWISTD  # The same command line on this interpreter's Twisted.
    service, port = startActivated(command, family, host, tmp_path)
    try:
        # The first connection starts the service, which answers it.
        assert finger(port, "alice", host=host) == "Happy and well\r\n"
        # The inherited socket is adopted with the right address family: the
        # query log names the real peer (a wrong family garbles addresses).
        service.waitForLog(rf"finger query 'alice' from {host}:\d+: found")
        assert service.port() == port
        assert f"finger listening on {host}:{port} (systemd:" in service.log
    finally:
        service.stop()
