"""
The package's systemd units: systemd accepts them, and the service's
command line, run the way finger.socket activates it, answers on the
inherited socket.  (test_deb.py runs the installed package the same way.)
"""

import re
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from finger.tap import Options
from tests.helpers.support import REPO, TWISTD, FingerProcess, finger
from tests.helpers.systemdunits import (
    SOURCE_DEFAULTS,
    SOURCE_UNITS,
    freePort,
    listenStreams,
    parseEnvironmentFile,
    parseUnit,
    serviceCommand,
    socketActivate,
    withoutDefaultListeners,
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


def startActivated(command: list[str], family: int, host: str, cwd, attempts: int = 3):
    """
    Run the service like finger.socket does, on free loopback ports, one for
    each ListenStream (systemd-socket-activate cannot listen on port 0, so
    ports are picked first; if another process takes one meanwhile, try
    again).  Like systemd, it starts the service on the first connection.
    Returns the process and the ports, in ListenStream order.
    """
    socketUnit = parseUnit(SOURCE_UNITS["finger.socket"])
    for attempt in range(attempts):
        ports = [freePort(family, host) for _ in listenStreams(socketUnit)]
        addresses = [f"[{host}]:{p}" if family == socket.AF_INET6 else f"{host}:{p}" for p in ports]
        process = FingerProcess(
            [], cwd=cwd, expect=(), command=socketActivate(socketUnit, addresses, command, {"PYTHONPATH": str(REPO)})
        )
        outcome = process.waitForLog(rf"^Listening on .*:{ports[-1]} as \d+\.$|Failed to listen|Address already in use")
        if outcome.group(0).startswith("Listening"):
            return process, ports
        process.stop()
        if attempt == attempts - 1:
            raise AssertionError(f"systemd-socket-activate could not listen:\n{process.log}")


def test_everySocketIsAdoptedOnce():
    """The service adopts socket N (the Nth ListenStream) once, and no other."""
    command = " ".join(parseUnit(SOURCE_UNITS["finger.service"])["Service"]["ExecStart"])
    adopted = sorted(int(i) for i in re.findall(r"systemd:domain=INET6:index=(\d+)", command))
    assert adopted == list(range(len(listenStreams(parseUnit(SOURCE_UNITS["finger.socket"])))))
    assert command.count("systemd:") == len(adopted)


@pytest.mark.parametrize("twistd", ["unit", "current"])
@pytest.mark.parametrize("family, host", [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")])
def test_socketActivatedServiceAnswers(tmp_path, twistd, family, host):
    users = tmp_path / "users"
    shutil.copy(REPO / "etc" / "users", users)  # what the package installs as /etc/finger/users
    environment = parseEnvironmentFile(SOURCE_DEFAULTS)
    environment["FINGER_OPTS"] = environment["FINGER_OPTS"].replace("/etc/finger/users", str(users))
    command = serviceCommand(parseUnit(SOURCE_UNITS["finger.service"]), environment)
    command = withoutDefaultListeners(command, str(Options()))
    assert command[0] == "/usr/bin/twistd3"  # Debian's twistd, with python3-twisted 22.4
    if twistd == "current":
        command[:1] = TWISTD  # The same command line on this interpreter's Twisted.
    service, (port, webPort) = startActivated(command, family, host, tmp_path)
    try:
        # The first connection starts the service, which answers it.
        assert finger(port, "alice", host=host) == "Happy and well\r\n"
        # The inherited socket is adopted with the right address family: the
        # query log names the real peer (a wrong family garbles addresses).
        service.waitForLog(rf"finger query 'alice' from {host}:\d+: found")
        assert service.port() == port
        assert f"finger listening on {host}:{port} (systemd:" in service.log
        # The second socket is the web frontend's.
        url = f"http://[{host}]:{webPort}/alice" if family == socket.AF_INET6 else f"http://{host}:{webPort}/alice"
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
            assert "Happy and well" in response.read().decode()
    finally:
        service.stop()


@pytest.mark.parametrize("twistd", ["unit", "current"])
def test_socketActivatedServiceWithWorkers(tmp_path, twistd):
    """FINGER_OPTS="... --workers 2": the parent adopts systemd's sockets and passes them on."""
    users = tmp_path / "users"
    shutil.copy(REPO / "etc" / "users", users)
    environment = parseEnvironmentFile(SOURCE_DEFAULTS)
    environment["FINGER_OPTS"] = (
        environment["FINGER_OPTS"].replace("/etc/finger/users", str(users)) + " --workers 2"
    )
    command = serviceCommand(parseUnit(SOURCE_UNITS["finger.service"]), environment)
    command = withoutDefaultListeners(command, str(Options()))
    if twistd == "current":
        command[:1] = TWISTD
    service, (port, webPort) = startActivated(command, socket.AF_INET, "127.0.0.1", tmp_path)
    try:
        assert finger(port, "alice") == "Happy and well\r\n"
        service.waitFor(lambda: service.log.count("(adopt:fd=") == 4, what="both workers listening")
        deadline = time.monotonic() + 30
        while len(set(re.findall(r"worker (\d+): finger query", service.log))) < 2:
            assert finger(port, "alice") == "Happy and well\r\n"
            assert time.monotonic() < deadline, service.log
        with urllib.request.urlopen(f"http://127.0.0.1:{webPort}/alice", timeout=30) as response:
            assert "Happy and well" in response.read().decode()
    finally:
        service.stop()
