"""
Rows for the change feed's event streams (/api/events):

  - RSS per 1,000 open event streams, beside 1,000 idle web connections
    (no request) as the baseline of the same run;
  - the time from a status set (the setter's OK) to its event arriving at
    1 stream and at each of 1,000 streams (median and last), read by one
    epoll loop.
"""

from __future__ import annotations

import selectors
import socket
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STREAMS = 1000
SOURCES = 8


def openStreams(port: int, count: int, request: bool = True) -> list[socket.socket]:
    """C{count} connections (from 127.0.0.1-8), each asking for the stream and read up to its first comment."""
    sockets = []
    for i in range(count):
        s = socket.socket()
        s.bind((f"127.0.0.{1 + i % SOURCES}", 0))
        s.connect(("127.0.0.1", port))
        if request:
            s.sendall(b"GET /api/events HTTP/1.1\r\nHost: bench\r\n\r\n")
        sockets.append(s)
    if request:
        for s in sockets:
            data = b""
            while b": connected" not in data:
                data += s.recv(65536)
    return sockets


def setStatus(port: int, name: str, status: str) -> None:
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(f"{name}\r\n{status}\r\n".encode())
        assert s.recv(100).startswith(b"OK")


def arrivals(sockets: list[socket.socket], setter: int, marker: str) -> list[float]:
    """Seconds from the set's OK to the event at each socket."""
    selector = selectors.DefaultSelector()
    for s in sockets:
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ, bytearray())
    setStatus(setter, "bob", marker)  # not in the users file, which the chain asks first
    started = time.monotonic()
    times: list[float] = []
    needle = marker.encode()
    while len(times) < len(sockets):
        for key, _ in selector.select(timeout=30):
            buffer: Any = key.data
            buffer += key.fileobj.recv(65536)  # type: ignore[union-attr]
            if needle in buffer:
                times.append(time.monotonic() - started)
                selector.unregister(key.fileobj)
    selector.close()
    for s in sockets:
        s.setblocking(True)
    return times


def eventRows(bench: Any, start: Callable[..., Any], memory: Callable[[int], float], row: Callable[..., Any]) -> list[Any]:
    """The rows (C{start} makes a service; C{memory} reads its RSS in MiB; C{row} makes a row)."""
    users = Path(bench.work) / "events-users"
    users.write_text("alice: here\n")
    server = start(
        users, bench.work, "events",
        "--memory", "--setter", "tcp:0:interface=127.0.0.1",
        "--max-connections", str(STREAMS * 2 + 10),
        "--max-connections-per-peer", str(STREAMS * 2),
        "--timeout", "600",
    )
    try:
        setter = int(server.waitForLog(r"setter listening on 127\.0\.0\.1:(\d+)").group(1))
        before = memory(server.pid)
        idle = openStreams(server.port, STREAMS, request=False)
        time.sleep(0.5)
        idleRSS = memory(server.pid) - before
        for s in idle:
            s.close()
        time.sleep(0.5)
        one = openStreams(server.port, 1)
        single = statistics.median(arrivals(one, setter, f"one {n}")[0] for n in range(20))
        before = memory(server.pid)
        streams = openStreams(server.port, STREAMS)
        streamRSS = memory(server.pid) - before
        runs = [arrivals(streams, setter, f"many {n}") for n in range(5)]
        medians = statistics.median(statistics.median(r) for r in runs)
        lasts = statistics.median(max(r) for r in runs)
        for s in streams + one:
            s.close()
    finally:
        server.stop()
    scale = 1000 / STREAMS
    return [
        row("RSS per 1,000 idle web connections (MiB), the baseline", "", f"{idleRSS * scale:.1f}"),
        row("RSS per 1,000 open event streams (MiB)", "", f"{streamRSS * scale:.1f}"),
        row("set to event, 1 stream, ms (median of 20)", "", f"{single * 1000:.2f}"),
        row(f"set to event at {STREAMS:,} streams, ms: median / last (median of 5)", "",
            f"{medians * 1000:.1f} / {lasts * 1000:.1f}"),
    ]
