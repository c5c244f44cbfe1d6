"""
The local setter on its UNIX socket, with real accounts (useradd) and real
clients (OpenBSD netcat, finger-set) run as those accounts: each sets only
its own status, root anyone's; nothing listens on TCP unless asked.
"""

from __future__ import annotations

import fcntl
import os
import socket
import stat
from pathlib import Path

import pytest

from tests.helpers.localsetter import fingerSet, rawSet
from tests.helpers.support import LOOPBACK0, TWISTD, finger, serviceEnvironment
from tests.helpers.systemusers import requireRoot


def startLocal(startFinger, path: Path, *names: str, extra=()):
    users = [f"--user={name}=Happy" for name in names]
    service = startFinger(
        "--memory", *users, "--finger", LOOPBACK0, "--setter", f"unix:{path}", *extra
    )
    service.waitForLog(rf"setter listening on {path} ")
    return service


def test_eachAccountSetsOnlyItsOwnStatus(startFinger, makeAccount, sharedDirectory):
    alice, bob = makeAccount("Alice"), makeAccount("Bob")
    path = sharedDirectory / "setter.sock"
    service = startLocal(startFinger, path, alice.name, bob.name)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666
    port = service.port()

    assert rawSet(alice, path, alice.name, "alice was here") == "OK\r\n"
    assert rawSet(bob, path, bob.name, "bob was here") == "OK\r\n"
    # Neither can set the other's: the kernel says who connected.
    assert rawSet(alice, path, bob.name, "forged by alice") == (
        f"ERROR you are {alice.name}: you may set only your own status\r\n"
    )
    assert rawSet(bob, path, alice.name, "forged by bob") == (
        f"ERROR you are {bob.name}: you may set only your own status\r\n"
    )
    assert finger(port, alice.name) == "alice was here\r\n"
    assert finger(port, bob.name) == "bob was here\r\n"
    # Root may set both.
    assert rawSet(None, path, alice.name, "set by root") == "OK\r\n"
    assert rawSet(None, path, bob.name, "also by root") == "OK\r\n"
    assert finger(port, alice.name) == "set by root\r\n"
    assert finger(port, bob.name) == "also by root\r\n"
    # Each write is logged with who asked (the uid and its name) and the outcome.
    service.waitForLog(
        rf"setter write '{bob.name}' of '{bob.name}' by {alice.name} "
        rf"from uid {alice.uid} \({alice.name}\): refused: "
    )
    service.waitForLog(rf"setter write '{alice.name}' of '{alice.name}' by root from uid 0 \(root\): set")


def test_fingerSetAsARealUser(startFinger, makeAccount, sharedDirectory):
    alice, bob = makeAccount(), makeAccount()
    path = sharedDirectory / "setter.sock"
    service = startLocal(startFinger, path, alice.name, bob.name)
    port = service.port()

    result = fingerSet(alice, "--socket", str(path), "Gone", "fishing")
    assert (result.returncode, result.stdout, result.stderr) == (0, b"OK\n", b"")
    assert finger(port, alice.name) == "Gone fishing\r\n"
    # From standard input when there are no arguments.
    result = fingerSet(bob, "--socket", str(path), stdin=b"At lunch\n")
    assert (result.returncode, result.stdout) == (0, b"OK\n")
    assert finger(port, bob.name) == "At lunch\r\n"
    # Another's status: the server's ERROR, and a non-zero exit.
    result = fingerSet(bob, "--socket", str(path), "--user", alice.name, "forged")
    assert result.returncode == 1
    assert result.stdout == f"ERROR you are {bob.name}: you may set only your own status\n".encode()
    assert finger(port, alice.name) == "Gone fishing\r\n"
    # Root may (finger-set --user).
    result = fingerSet(None, "--socket", str(path), "--user", alice.name, "By root")
    assert (result.returncode, result.stdout) == (0, b"OK\n")
    # Not running: a clear message, exit 1.
    service.stop()
    result = fingerSet(alice, "--socket", str(path), "hi")
    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"finger-set: cannot reach the finger service (nothing listens at {path}): "
        "is it running? (or give --socket PATH)\n"
    )


def test_fingerSetRefusesAMultiLineStatus(sharedDirectory):
    result = fingerSet(None, "--socket", str(sharedDirectory / "none.sock"), stdin=b"a\nb\n")
    assert (result.returncode, result.stderr) == (1, b"finger-set: the status must be one line\n")


def test_aTcpSetterWarnsAndIsOpenToAnyone(startFinger, makeAccount):
    service = startFinger(
        "--memory", "--user", "alice=Happy", "--finger", LOOPBACK0, "--setter", LOOPBACK0,
        expect=("finger", "setter"),
    )
    assert "[finger.setter#warn] setter on tcp:0:interface=127.0.0.1: anyone who can connect " \
        "can set any user's status" in service.log
    # As the warning says: the classic, unauthenticated setter.
    with socket.create_connection(("127.0.0.1", service.port("setter")), timeout=10) as s:
        s.sendall(b"alice\r\nset by anyone\r\n")
        assert s.recv(100) == b"OK\r\n"


@pytest.fixture
def systemSocketLock():
    """The default socket is one path for the whole machine: one test at a time."""
    requireRoot()
    with open("/tmp/finger-tests-setter-socket.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def test_theIssuesForgeryIsRefusedByDefault(startFinger, makeAccount, systemSocketLock, tmp_path):
    """
    C{twistd -n finger --store ./status.db --pwd --pwd-user root} (the issue's
    example): nothing listens on 127.0.0.1:1079; the setter is the UNIX socket
    /run/finger/setter.sock, where an ordinary user cannot set root's status.
    """
    mallory = makeAccount()
    command = [
        *TWISTD, "-n", "--pidfile=", "finger", "--store", str(tmp_path / "status.db"), "--pwd",
        "--pwd-user", "root", "--finger", LOOPBACK0, "--web", "none", "--pb", "none",
    ]
    service = startFinger(command=command)
    service.waitForLog(r"setter listening on /run/finger/setter\.sock ")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", 1079), timeout=10).close()
    path = Path("/run/finger/setter.sock")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755
    assert rawSet(mallory, path, "root", "I was set by anyone on this host") == (
        f"ERROR you are {mallory.name}: you may set only your own status\r\n"
    )
    assert "I was set by anyone" not in finger(service.port(), "root")
    # finger-set finds the system socket by default.
    result = fingerSet(mallory, "mine")
    assert (result.returncode, result.stdout) == (0, b"OK\n")
    assert finger(service.port(), mallory.name).startswith("mine")


def test_anOrdinaryUsersServerUsesTheirRuntimeDirectory(startFinger, makeAccount, tmp_path):
    """A developer's C{twistd -n finger --memory}, not root: it works, and finger-set finds it."""
    dev = makeAccount()
    runtime = dev.home / "run"
    runtime.mkdir(mode=0o700)
    os.chown(runtime, dev.uid, dev.gid)
    env = serviceEnvironment(XDG_RUNTIME_DIR=str(runtime), HOME=str(dev.home))
    command = [
        "setpriv", f"--reuid={dev.uid}", f"--regid={dev.gid}", "--clear-groups", "--",
        *TWISTD, "-n", "--pidfile=", "finger", "--memory", "--finger", LOOPBACK0,
        "--web", "none", "--pb", "none",
    ]
    service = startFinger(command=command, env=env, cwd=dev.home)
    path = runtime / "finger" / "setter.sock"
    service.waitForLog(rf"setter listening on {path} ")
    result = fingerSet(dev, "Hacking", env=env)
    assert (result.returncode, result.stdout) == (0, b"OK\n")
    assert finger(service.port(), dev.name) == "Hacking\r\n"
    # Without a runtime directory: a one-line start-up error.
    del env["XDG_RUNTIME_DIR"]
    from tests.helpers.localsetter import run

    done = run(dev, [*TWISTD, "-n", "--pidfile=", "finger", "--memory", "--finger", "none",
                     "--web", "none", "--pb", "none"], env=env)
    assert done.returncode == 1
    assert done.stderr.decode().strip().splitlines()[-1].startswith(
        "finger: the setter's default socket /run/finger/setter.sock needs root"
    ), done.stderr.decode() + done.stdout.decode()

