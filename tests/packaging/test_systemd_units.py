"""
The package's systemd units: systemd accepts them, and the service's
command line, run the way finger.socket activates it, answers on the
inherited socket.  (test_deb.py runs the installed package the same way.)
"""

import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from finger.tap import Options
from finger.tap.setter import NOTHING_SETTABLE
from tests.helpers.localsetter import asAccount, fingerSet, rawSet
from tests.helpers.support import REPO, TWISTD, FingerProcess, finger
from tests.helpers.systemdunits import (
    SOURCE_DEFAULTS,
    SOURCE_UNITS,
    activationAddresses,
    applySocketMode,
    isPath,
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
    each port ListenStream, and on paths in a fresh directory (mode 0755)
    for the UNIX ones (systemd-socket-activate cannot listen on port 0, so
    ports are picked first; if another process takes one meanwhile, try
    again).  Like systemd, it starts the service on the first connection.
    Returns the process and the addresses, in ListenStream order.
    """
    socketUnit = parseUnit(SOURCE_UNITS["finger.socket"])
    directory = Path(tempfile.mkdtemp(prefix="finger-units-", dir=cwd))
    directory.chmod(0o755)
    for attempt in range(attempts):
        addresses = activationAddresses(socketUnit, directory, family, host)
        process = FingerProcess(
            [], cwd=cwd, expect=(), command=socketActivate(socketUnit, addresses, command, {"PYTHONPATH": str(REPO)})
        )
        last = re.escape(addresses[-1])
        outcome = process.waitForLog(rf"^Listening on {last} as \d+\.$|Failed to listen|Address already in use")
        if outcome.group(0).startswith("Listening"):
            applySocketMode(socketUnit, addresses)
            return process, addresses
        process.stop()
        if attempt == attempts - 1:
            raise AssertionError(f"systemd-socket-activate could not listen:\n{process.log}")


def portOf(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def test_everySocketIsAdoptedOnce():
    """The service adopts socket N (the Nth ListenStream) once, and no other."""
    command = " ".join(parseUnit(SOURCE_UNITS["finger.service"])["Service"]["ExecStart"])
    adopted = sorted(int(i) for i in re.findall(r"systemd:domain=\w+:index=(\d+)", command))
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
    service, (address, webAddress, setterPath) = startActivated(command, family, host, tmp_path)
    port, webPort = portOf(address), portOf(webAddress)
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
        # The third is the local setter's UNIX socket; the packaged default
        # (a users file) cannot be written, and says so.
        assert isPath(setterPath)
        assert rawSet(None, Path(setterPath), "alice", "x") == f"ERROR {NOTHING_SETTABLE}\r\n"
    finally:
        service.stop()


@pytest.mark.parametrize("twistd", ["unit", "current"])
def test_socketActivatedLocalSetter(sharedDirectory, makeAccount, twistd):
    """
    With a store, local users set their own status on the unit's UNIX
    socket, made by systemd(-socket-activate) as root and served by an
    unprivileged service user; the service leaves the socket file alone.
    """
    serviceAccount, alice, bob = makeAccount(), makeAccount(), makeAccount()
    state = sharedDirectory / "state"
    state.mkdir()
    os.chown(state, serviceAccount.uid, serviceAccount.gid)
    environment = parseEnvironmentFile(SOURCE_DEFAULTS)
    environment["FINGER_OPTS"] = f"--store={state}/statuses.db --pb=none"
    command = serviceCommand(parseUnit(SOURCE_UNITS["finger.service"]), environment)
    command = withoutDefaultListeners(command, str(Options()))
    if twistd == "current":
        command[:1] = TWISTD
    command = asAccount(serviceAccount, command)
    service, (address, _, setterPath) = startActivated(
        command, socket.AF_INET, "127.0.0.1", sharedDirectory
    )
    path = Path(setterPath)
    try:
        result = fingerSet(alice, "--socket", setterPath, "Alice's own")
        assert result.stdout == b"OK\n", (result.stderr, service.log)
        service.waitForLog(rf"setter listening on {re.escape(setterPath)} \(systemd:")
        assert fingerSet(bob, "--socket", setterPath, "Bob's own").stdout == b"OK\n"
        assert rawSet(bob, path, alice.name, "forged") == (
            f"ERROR you are {bob.name}: you may set only your own status\r\n"
        )
        assert rawSet(None, path, bob.name, "by root") == "OK\r\n"
        assert finger(portOf(address), alice.name) == "Alice's own\r\n"
        assert finger(portOf(address), bob.name) == "by root\r\n"
        assert "Traceback" not in service.log
    finally:
        service.stop()
    # The socket is systemd's: the service neither removed nor re-moded it.
    assert stat.S_ISSOCK(path.stat().st_mode)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666
    assert "Traceback" not in service.log, service.log


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
    service, (address, webAddress, _) = startActivated(
        command, socket.AF_INET, "127.0.0.1", tmp_path
    )
    port, webPort = portOf(address), portOf(webAddress)
    try:
        assert finger(port, "alice") == "Happy and well\r\n"
        # Each worker's finger and web listeners (their setter lines come too, in any order).
        service.waitFor(
            lambda: len(re.findall(r"(?:finger|web) listening on .* \(adopt:fd=", service.log)) == 4,
            what="both workers listening",
        )
        deadline = time.monotonic() + 30
        while len(set(re.findall(r"worker (\d+): finger query", service.log))) < 2:
            assert finger(port, "alice") == "Happy and well\r\n"
            assert time.monotonic() < deadline, service.log
        with urllib.request.urlopen(f"http://127.0.0.1:{webPort}/alice", timeout=30) as response:
            assert "Happy and well" in response.read().decode()
    finally:
        service.stop()
