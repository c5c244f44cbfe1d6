"""
Abuse tests for the finger and setter frontends, end to end: a real twistd
process and hostile clients over real sockets (see abuse.py).
"""

from __future__ import annotations

import threading

import pytest

from tests.helpers.abuse import (
    SOURCES,
    Trickler,
    assertNoErrors,
    connect,
    logErrors,
    memoryKiB,
    openConnections,
    readAll,
    request,
    sendHuge,
    waitAllClosed,
)
from tests.helpers.support import LOOPBACK0, finger, runTwistd, setStatus

TEN_MB = 10 * 2**20


def memoryService(startFinger, *args: str):
    return startFinger(
        "--memory", "--user", "alice=Happy and well", "--finger", LOOPBACK0,
        "--setter", LOOPBACK0, *args, expect=("finger", "setter"),
    )


def test_idleAndTricklingClientsAreClosedWhileOthersAreServed(startFinger):
    """
    500 connections that send nothing and 10 that send a byte every half
    second (from 20 addresses, within the default per-client limit): normal
    queries keep being answered, and the idle limit closes all of them.
    """
    service = memoryService(startFinger, "--timeout", "3")
    fingerPort, setterPort = service.port("finger"), service.port("setter")
    idle = openConnections(fingerPort, 250, SOURCES[:20])
    idle += openConnections(setterPort, 250, SOURCES[:20])
    tricklers = [
        Trickler(connect(port, SOURCES[20 + i]), b"a" * 100, 0.5)
        for i, port in enumerate([fingerPort, setterPort] * 5)
    ]
    for t in tricklers:
        t.start()
    for i in range(10):
        assert finger(fingerPort, "alice") == "Happy and well\r\n"
        assert setStatus(setterPort, f"user{i}", "here") == "OK\r\n"
    sockets = idle + [t.sock for t in tricklers]
    assert waitAllClosed(sockets, timeout=60) == len(sockets)
    assert all(t.sent < 100 for t in tricklers)
    for s in sockets:
        s.close()
    service.waitFor(lambda: service.log.count(": idle timeout") >= 510, what="510 idle timeouts")
    assert finger(fingerPort, "user9") == "here\r\n"
    assertNoErrors(service)


@pytest.mark.parametrize(
    "frontend, head, reply",
    [
        ("finger", b"", b"Query too long (limit 1024 bytes)\r\n"),
        ("setter", b"", b"ERROR line too long (limit 1024 bytes)\r\n"),
        ("setter", b"dave\r\n", b"ERROR line too long (limit 1024 bytes)\r\n"),
    ],
    ids=["finger query", "setter name", "setter status"],
)
def test_tenMegabyteLinesAreRefused(startFinger, frontend, head, reply):
    """
    Ten clients each sending a 10 MB line at once: each gets a clear
    refusal, the process's memory stays far below what buffering them would
    take, and the service keeps answering.
    """
    service = memoryService(startFinger)
    port = service.port(frontend)
    before = memoryKiB(service.process.pid, "VmHWM")
    replies: list[bytes] = []
    clients = [
        threading.Thread(target=lambda: replies.append(sendHuge(port, head, TEN_MB)))
        for _ in range(10)
    ]
    for c in clients:
        c.start()
    for c in clients:
        c.join(120)
    grown = memoryKiB(service.process.pid, "VmHWM") - before
    assert replies == [reply] * 10
    assert grown < 20 * 1024, f"peak memory grew by {grown} KiB for 100 MB of input"
    assert finger(service.port(), "alice") == "Happy and well\r\n"
    assert "dave" not in finger(service.port(), "")
    assertNoErrors(service)


def test_connectionLimit(startFinger):
    """
    With --max-connections 3, the fourth connection gets the one-line
    refusal while the three keep being served, and a slot frees when one ends.
    """
    service = memoryService(startFinger, "--max-connections", "3")
    port, setterPort = service.port("finger"), service.port("setter")
    held = openConnections(port, 3)
    assert request(port, b"alice\r\n") == b"Too many connections, try again later\r\n"
    for s in held:
        s.sendall(b"alice\r\n")
        assert readAll(s) == b"Happy and well\r\n"
        s.close()
    assert finger(port, "alice") == "Happy and well\r\n"
    # The setter listener has its own limit and its own message.
    held = openConnections(setterPort, 3)
    assert request(setterPort, b"dave\r\nhi\r\n") == b"ERROR too many connections, try again later\r\n"
    assert finger(port, "alice") == "Happy and well\r\n"  # finger is not affected
    for s in held:
        s.close()
    service.waitForLog(r"setter: accepting connections again; 1 refused")
    assertNoErrors(service)


def test_perClientConnectionLimit(startFinger):
    """One address beyond --max-connections-per-peer is refused; others are not."""
    service = memoryService(startFinger, "--max-connections-per-peer", "2")
    port = service.port("finger")
    held = openConnections(port, 2, ["127.0.0.1"])
    assert request(port, b"alice\r\n", "127.0.0.1") == b"Too many connections, try again later\r\n"
    assert request(port, b"alice\r\n", "127.0.0.2") == b"Happy and well\r\n"
    held[0].sendall(b"alice\r\n")
    assert readAll(held[0]) == b"Happy and well\r\n"
    held[0].close()
    assert request(port, b"alice\r\n", "127.0.0.1") == b"Happy and well\r\n"
    held[1].close()
    service.waitForLog(r"refusing more from it")
    assertNoErrors(service)


def test_listingToAClientThatDoesNotReadIsBounded(startFinger, tmp_path):
    """
    200,000 users (20 MB listed) and ten clients that ask for the list and
    never read it: the server waits for them (back-pressure) instead of
    buffering 200 MB, while a reading client gets the whole list.
    """
    users = tmp_path / "users"
    status = "s" * 90
    with open(users, "w") as f:
        for i in range(200_000):
            f.write(f"user{i:06d}: {status}\n")
    service = startFinger("--file", str(users), "--finger", LOOPBACK0, timeout=120)
    port = service.port()
    before = memoryKiB(service.process.pid, "VmHWM")
    stuck = []
    for _ in range(10):
        s = connect(port, receiveBuffer=4096)
        s.sendall(b"\r\n")
        stuck.append(s)
    listing = request(port, b"\r\n", timeout=120)
    assert listing.count(b"\r\n") == 200_000
    assert listing.endswith(f"user199999: {status}\r\n".encode())
    grown = memoryKiB(service.process.pid, "VmHWM") - before
    assert grown < 30 * 1024, f"peak memory grew by {grown} KiB"
    # Only the reader's listing finished: the others wait for their clients.
    service.waitForLog("listed 200000 users")  # the query log writes within a second
    assert service.log.count("listed 200000 users") == 1
    for s in stuck:
        s.close()
    assertNoErrors(service)


def test_slowReaderIsCutOffByTheTimeLimit(startFinger, tmp_path):
    """A client reading a long list too slowly is cut off at --max-connection-time."""
    users = tmp_path / "users"
    with open(users, "w") as f:
        for i in range(50_000):
            f.write(f"user{i:05d}: {'s' * 90}\n")
    service = startFinger("--file", str(users), "--finger", LOOPBACK0,
                          "--max-connection-time", "2")
    s = connect(service.port(), receiveBuffer=4096)
    s.sendall(b"\r\n")
    service.waitForLog(r"finger query '' from \S+: time limit reached")
    assert readAll(s).count(b"\r\n") < 50_000
    assertNoErrors(service)


HOSTILE = {
    "ansi": "\x1b[2J\x1b[31mred alert\x1b[0m",
    "bell": "ding\x07\x07 dong",
    "backspace": "fine\x08\x08\x08\x08awful",
    "csi8bit": "c1 \u009b31m csi",
    "nul": "a\x00b",
    "html": "<script>alert('x')</script> & <b>bold</b>",
    "unicode": "caf\u00e9 \u2603 \u65e5\u672c",
}


def assertTerminalSafe(data: bytes) -> None:
    """No control characters but CR LF line ends and TAB; valid UTF-8."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n")
    for line in text.split("\r\n"):
        bad = [c for c in line if (ord(c) < 0x20 and c != "\t") or 0x7F <= ord(c) <= 0x9F]
        assert not bad, f"control characters {bad!r} in {line!r}"


def test_hostileStatusesFromTheUsersFile(startFinger, tmp_path):
    users = tmp_path / "users"
    users.write_text("".join(f"{name}: {status}\n" for name, status in HOSTILE.items()),
                     encoding="utf-8")
    service = startFinger("--file", str(users), "--finger", LOOPBACK0)
    port = service.port()
    for name in HOSTILE:
        reply = request(port, name.encode() + b"\r\n")
        assertTerminalSafe(reply)
    assert request(port, b"ansi\r\n") == b"[2J[31mred alert[0m\r\n"
    assert request(port, b"csi8bit\r\n") == b"c1 31m csi\r\n"
    # Plain text: HTML is not interpreted, so it is passed through as is.
    assert request(port, b"html\r\n") == HOSTILE["html"].encode() + b"\r\n"
    assert request(port, b"unicode\r\n") == HOSTILE["unicode"].encode() + b"\r\n"
    listing = request(port, b"\r\n")
    assertTerminalSafe(listing)
    assert listing.count(b"\r\n") == len(HOSTILE)
    # A hostile query is not echoed raw either.
    assertTerminalSafe(request(port, b"\x1b[2Jnobody\x07\r\n"))
    assertNoErrors(service)


def test_hostileStatusesFromTheSetter(startFinger):
    service = memoryService(startFinger)
    port, setterPort = service.port("finger"), service.port("setter")
    for name, status in HOSTILE.items():
        assert request(setterPort, f"{name}\r\n{status}\r\n".encode()) == b"OK\r\n"
        assertTerminalSafe(request(port, name.encode() + b"\r\n"))
    assertTerminalSafe(request(port, b"\r\n"))
    assert request(setterPort, b"eve\r\nbad \xff\xfe bytes\r\n") == b"ERROR not valid UTF-8\r\n"
    assert request(port, b"eve\r\n") == b"No such user: eve\r\n"
    assertNoErrors(service)


def test_invalidUTF8InTheUsersFile(startFinger, tmp_path):
    """
    At start-up: a one-line error naming the byte, exit 1.  After an edit:
    the last good table is kept and the problem logged once.
    """
    users = tmp_path / "users"
    users.write_bytes(b"alice: fine\nbob: caf\xe9\n")
    result = runTwistd(["--file", str(users), "--finger", LOOPBACK0], tmp_path)
    assert result.returncode == 1
    assert b"not valid UTF-8 (byte offset 20)" in result.stderr + result.stdout
    assert b"Traceback" not in result.stderr + result.stdout

    users.write_bytes(b"alice: fine\n")
    service = startFinger("--file", str(users), "--finger", LOOPBACK0, "--refresh", "0.1")
    users.write_bytes(b"alice: changed\nbob: caf\xe9\n")
    service.waitForLog(r"not valid UTF-8 \(byte offset 23\); keeping the last good table \(1 users\)")
    assert finger(service.port(), "alice") == "fine\r\n"
    assert len(logErrors(service.log)) == 1
