"""
End to end: finger forwarding and the proxy between real twistd processes,
misbehaving far servers, and the python -m finger.client command.
"""

from __future__ import annotations

import select
import socket
import subprocess
import sys

from tests.helpers.rawservers import BlackHole, Canned, Endless
from tests.helpers.support import LOOPBACK0, REPO, finger, port79Lock, serviceEnvironment

HOPS_DENIED = "Finger forwarding service denied: too many hops ({n} '@' in the query, the limit is {limit})\r\n"


def memoryServer(startFinger, status: str, *extra: str):
    return startFinger(
        "--memory", "--user", f"alice={status}", "--finger", LOOPBACK0, "--setter", "none", *extra
    )


def fingerCommand(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "finger.client", *args],
        env=serviceEnvironment(),
        capture_output=True,
        timeout=60,
    )


def closedPort() -> tuple[socket.socket, int]:
    """A bound, not listening socket: connections to it are refused."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


def test_forwardingProxyAndClientCommand(startFinger):
    refusing, refusedPort = closedPort()
    far = memoryServer(startFinger, "Far and away", "--forward")  # to port 79 only
    farAddress = f"127.0.0.1:{far.port()}"
    near = memoryServer(
        startFinger, "Near", "--forward-allow", farAddress,
        "--forward-allow", f"127.0.0.1:{refusedPort}",
    )
    proxy = startFinger("--proxy", "--forward-allow", farAddress, "--finger", LOOPBACK0)
    try:
        # Forwarded queries get the far server's answer; plain names stay local.
        assert finger(near.port(), f"alice@{farAddress}") == "Far and away\r\n"
        assert finger(near.port(), f"@{farAddress}") == "alice: Far and away\r\n"
        assert finger(near.port(), f"bob@{farAddress}") == "No such user: bob\r\n"
        assert finger(near.port(), "alice") == "Near\r\n"
        # --forward alone forwards to port 79 only (not to other services);
        # --forward-allow HOST:PORT lists the targets instead.
        assert finger(far.port(), f"alice@127.0.0.1:{near.port()}") == (
            f"Finger forwarding service denied for 127.0.0.1:{near.port()}\r\n"
        )
        assert finger(near.port(), f"alice@127.0.0.1:{proxy.port()}") == (
            f"Finger forwarding service denied for 127.0.0.1:{proxy.port()}\r\n"
        )
        # A far host that refuses gives a clear line.
        assert finger(near.port(), f"alice@127.0.0.1:{refusedPort}") == (
            f"Error: 127.0.0.1:{refusedPort} refused the connection\r\n"
        )
        # --proxy: the whole service is a finger proxy.
        assert finger(proxy.port(), f"alice@{farAddress}") == "Far and away\r\n"
        assert finger(proxy.port(), "alice") == "No such user: alice\r\n"
        assert finger(proxy.port(), "") == "No one is here.\r\n"

        # The client command: user@host:port, -l, @host, chains, errors.
        done = fingerCommand(f"alice@{farAddress}")
        assert (done.returncode, done.stdout, done.stderr) == (0, b"Far and away\n", b"")
        # /W applies at the far end (RFC 1288): near sends it on.
        verbose = fingerCommand("-l", f"alice@{farAddress}@127.0.0.1:{near.port()}")
        assert verbose.stdout == b"Far and away\n"
        near.waitForLog(rf"query '/W alice@127\.0\.0\.1:{far.port()}' from")
        far.waitForLog(r"query '/W alice' from")
        assert fingerCommand("-l", f"alice@{farAddress}").stdout == b"Far and away\n"
        assert fingerCommand(f"@{farAddress}").stdout == b"alice: Far and away\n"
        chained = fingerCommand(f"alice@{farAddress}@127.0.0.1:{near.port()}")
        assert chained.stdout == b"Far and away\n"
        refused = fingerCommand(f"alice@127.0.0.1:{refusedPort}")
        assert refused.returncode == 1
        assert refused.stderr == f"finger: 127.0.0.1:{refusedPort} refused the connection\n".encode()
        assert fingerCommand("alice@bad host").returncode == 2
    finally:
        refusing.close()


def test_slowAndEndlessFarServersCostOnlyTheirQuery(startFinger):
    with BlackHole() as hole, Endless() as endless:
        near = memoryServer(
            startFinger, "Near", "--forward-timeout", "5",
            "--forward-allow", f"127.0.0.1:{hole.port}", "--forward-allow", f"127.0.0.1:{endless.port}",
        )
        # A query forwarded to a host that never answers is pending ...
        with socket.create_connection(("127.0.0.1", near.port()), timeout=60) as pending:
            pending.sendall(f"alice@127.0.0.1:{hole.port}\r\n".encode())
            assert hole.accepted.wait(30), near.log
            # ... while a local query is answered, and so is one whose far
            # server streams endlessly: cut at the 1 MiB cap.
            assert finger(near.port(), "alice") == "Near\r\n"
            assert finger(near.port(), f"alice@127.0.0.1:{endless.port}", timeout=60) == (
                f"Error: 127.0.0.1:{endless.port} sent more than 1048576 bytes\r\n"
            )
            assert endless.stopped.wait(30)
            readable, _, _ = select.select([pending], [], [], 0)
            assert not readable, "the forwarded query was answered before the local ones"
            # Then the black hole's query times out with a clear line, and
            # the connection to the black hole is closed.
            reply = b""
            while chunk := pending.recv(4096):
                reply += chunk
            assert reply.decode() == f"Error: 127.0.0.1:{hole.port} did not answer within 5 seconds\r\n"
            assert hole.peerClosed.wait(30)
        assert finger(near.port(), "alice") == "Near\r\n"


def test_loopBetweenTwoForwardingServersEndsAtHopLimit(startFinger):
    # B may ask any port of 127.0.0.1 (so A, whose port is not known yet);
    # A, started second, may ask B only.  A's hop limit is the default, 3.
    b = memoryServer(startFinger, "At B", "--forward-allow", "127.0.0.1:*", "--forward-hops", "1")
    a = memoryServer(startFinger, "At A", "--forward-allow", f"127.0.0.1:{b.port()}")
    atA, atB = f"@127.0.0.1:{a.port()}", f"@127.0.0.1:{b.port()}"
    assert finger(a.port(), f"alice{atA}") == f"Finger forwarding service denied for {atA[1:]}\r\n"
    # A -> B -> A: two hops, within both limits; A answers in the end.
    assert finger(a.port(), f"alice{atA}{atB}") == "At A\r\n"
    # A -> B, where 2 '@' are left: over B's limit, B refuses, A relays it.
    assert finger(a.port(), f"alice{atB}{atA}{atB}") == HOPS_DENIED.format(n=2, limit=1)
    b.waitForLog(r"query 'alice@127\.0\.0\.1:\d+@127\.0\.0\.1:\d+' from .*too many hops")
    # A loop of 20 hops is refused by the first server, before any connection.
    loop = "alice" + (atB + atA) * 10
    assert finger(a.port(), loop) == HOPS_DENIED.format(n=20, limit=3)
    assert loop[:40] not in b.log


def test_clientCommandNeutralisesEscapeSequences():
    hostile = b"\x1b[2J\x1b]0;owned\x07Hi \xc3\xa9t\xc3\xa9 \xc2\x9b31m\r\nbye\r\n"
    with Canned(hostile) as server:
        done = fingerCommand(f"alice@127.0.0.1:{server.port}")
        assert done.returncode == 0, done.stderr
        assert done.stdout == b"^[[2J^[]0;owned^GHi ?t? ?31m\nbye\n"
        eightBit = fingerCommand("--8bit", f"alice@127.0.0.1:{server.port}")
        assert eightBit.stdout.decode("utf-8") == "^[[2J^[]0;owned^GHi \xe9t\xe9 ?31m\nbye\n"
        assert server.queries == [b"alice\r\n", b"alice\r\n"]


def test_debianFingerThroughForwardingServer(startFinger):
    """The issue's example: --file etc/users --forward, and Debian's finger client."""
    far = memoryServer(startFinger, "Far and away")
    with port79Lock():
        # A real far server would be on port 79, which --forward allows;
        # this one's port is picked at run time, so it is allowed explicitly.
        near = startFinger(
            "--file", str(REPO / "etc" / "users"), "--forward-allow", f"127.0.0.1:{far.port()}",
            "--finger", "tcp:79:interface=127.0.0.1",
        )
        local = subprocess.run(["finger", "alice@127.0.0.1"], capture_output=True, timeout=60)
        forwarded = subprocess.run(
            ["finger", f"alice@127.0.0.1:{far.port()}@127.0.0.1"], capture_output=True, timeout=60
        )
        near.stop()
    assert local.stdout.endswith(b"Happy and well\n")
    assert forwarded.stdout.endswith(b"Far and away\n")
    assert f"query 'alice@127.0.0.1:{far.port()}'" in near.log
