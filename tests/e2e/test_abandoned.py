"""
End to end: work done on a client's behalf stops when the client goes away.

A real twistd forwards a finger query, fetches a web status or runs the
local finger program for a client; the far server never answers (a
BlackHole) and the program sleeps.  The client closes its connection: the
far connection must be closed, the program killed, long before their own
deadlines (30 s here; 5 s for the program), unless another client still
waits for the same answer.
"""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import time
import xmlrpc.client

from tests.helpers.rawservers import BlackHole
from tests.helpers.support import LOOPBACK0, REPO, serviceEnvironment

SOON = 3.0  # well under every deadline the service was given


def send(port: int, data: bytes) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    return s


def abandon(s: socket.socket) -> None:
    """
    Go away as a client that is killed or cut off does: a reset.  (A plain
    close sends a FIN, which a finger server cannot tell from the half-close
    of a client such as C{nc -N} that still waits for its answer.)
    """
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def pbCall(port: int, name: str) -> subprocess.Popen:
    steps = json.dumps([["call", "getUser", name]])
    return subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "helpers" / "pbclient.py"), str(port), steps],
        env=serviceEnvironment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def test_forwardedQueryIsClosedWhenTheClientGoes(startFinger):
    with BlackHole() as far:
        service = startFinger(
            "--file", str(REPO / "etc" / "users"), "--finger", LOOPBACK0,
            "--forward-allow", f"127.0.0.1:{far.port}", "--forward-timeout", "30",
        )
        client = send(service.port(), f"alice@127.0.0.1:{far.port}\r\n".encode())
        assert far.accepted.wait(10)
        assert not far.peerClosed.wait(0.5)  # it is waiting for the far server
        abandon(client)
        assert far.peerClosed.wait(SOON), "the forwarded connection outlived its client"
        service.waitForLog(r"cancelled: the client went away")
        assert "Traceback" not in service.log


def test_webStatusFetchIsClosedWhenItsLastWaiterGoes(startFinger):
    with BlackHole() as far:
        service = startFinger(
            "--web-status", f"http://127.0.0.1:{far.port}/{{user}}", "--web-status-timeout", "30",
            "--finger", LOOPBACK0, "--web", LOOPBACK0, expect=("finger", "web"),
        )
        first = send(service.port(), b"alice\r\n")
        assert far.accepted.wait(10)
        second = send(service.port("web"), b"GET /alice HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.5)
        assert len(far.connections) == 1, "the two clients share one request"
        abandon(first)
        # The web client still waits for the same answer: the fetch goes on.
        assert not far.peerClosed.wait(1.0)
        second.close()
        assert far.peerClosed.wait(SOON), "the fetch outlived its last waiter"
        assert "Traceback" not in service.log


def test_pbCallIsCancelledWhenTheClientGoes(startFinger):
    with BlackHole() as far:
        service = startFinger(
            "--web-status", f"http://127.0.0.1:{far.port}/{{user}}", "--web-status-timeout", "30",
            "--pb", LOOPBACK0, "--finger", "none", expect=("pb",),
        )
        client = pbCall(service.port("pb"), "alice")
        try:
            assert far.accepted.wait(20)
        finally:
            client.kill()
            client.wait()
        assert far.peerClosed.wait(SOON), "the fetch outlived the PB client"
        assert "Traceback" not in service.log


def test_localProgramIsKilledWhenTheClientGoes(startFinger, tmp_path):
    pidFile = tmp_path / "program.pid"
    program = tmp_path / "slowfinger"
    program.write_text(f"#!/bin/sh\necho $$ > {pidFile}\nexec sleep 60\n")
    program.chmod(0o755)
    service = startFinger("--local", "--local-program", str(program), "--finger", LOOPBACK0)
    client = send(service.port(), b"alice\r\n")
    deadline = time.monotonic() + 10
    while not pidFile.exists() or not pidFile.read_text().strip():
        assert time.monotonic() < deadline, service.log
        time.sleep(0.05)
    pid = int(pidFile.read_text())
    assert processAlive(pid)
    abandon(client)
    deadline = time.monotonic() + 2.5  # the program's own timeout is 5 s
    while processAlive(pid):
        assert time.monotonic() < deadline, "the program outlived its client"
        time.sleep(0.05)
    assert "Traceback" not in service.log


def processAlive(pid: int) -> bool:
    """Whether C{pid} runs (a zombie, killed but not reaped yet, does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False




def test_xmlrpcCallIsCancelledWhenTheClientGoes(startFinger):
    body = xmlrpc.client.dumps(("alice",), "getUser").encode()
    with BlackHole() as far:
        service = startFinger(
            "--web-status", f"http://127.0.0.1:{far.port}/{{user}}", "--web-status-timeout", "30",
            "--web", LOOPBACK0, "--finger", "none", expect=("web",),
        )
        client = send(
            service.port("web"),
            b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode() + body,
        )
        assert far.accepted.wait(10)
        client.close()
        assert far.peerClosed.wait(SOON), "the fetch outlived the XML-RPC client"
        assert "Traceback" not in service.log
